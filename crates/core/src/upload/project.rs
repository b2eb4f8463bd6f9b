//! The native engine's rules: from a project's files to the file map the official `miniprogram-ci`
//! uploads with every compile setting off (reference §4). Pure: the caller lists and reads the files.
//!
//! Inside the subset (no compiler plugins, no swc, no `ignoreUploadUnusedFiles`, no plugin projects,
//! no `regexp` pack rules) the map is the official one, except for the `__warning__`
//! strings the official tool injects from its schema checks (locale-dependent; not produced here).
//! Outside it, [`compile`] answers [`CompileError::OutOfSubset`] so `auto` can hand the project to
//! the official engine.

use super::js_json::{parse, stringify};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The built-in extension whitelist for non-code files (used when getwhiteextlist gives none).
pub const BUILTIN_WHITELIST: &[&str] = &[
    ".wxml", ".wxss", ".wxs", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".js", ".json", ".cer",
    ".mp3", ".aac", ".m4a", ".mp4", ".wav", ".ogg", ".silk", ".wasm", ".br", ".cur", ".ico",
    ".skel", ".crt", ".cert",
];
/// Code files: always packed (unless packOptions ignores them), passed through unchanged.
const CODE: &[&str] = &[".js", ".wxml", ".wxss", ".wxs"];
/// What `project.config.json` becomes in the package.
pub const PROJECT_CONFIG_STUB: &str =
    r#"{"miniprogramRoot":"","__compileDebugInfo__":{"useSummer":true}}"#;

/// Why a project cannot be packed natively.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    /// No `project.config.json` at the project root.
    #[error("no project.config.json in the project directory: point project-path at the directory that holds it")]
    NoProjectConfig,
    /// No `app.json` under the miniprogramRoot.
    #[error("no app.json under miniprogramRoot {0:?}")]
    NoAppJson(String),
    /// A JSON file does not parse.
    #[error("{file}: not valid JSON ({detail})")]
    BadJson {
        /// The file.
        file: String,
        /// The parser's words.
        detail: String,
    },
    /// A page listed in app.json has no `.js` or no `.wxml` (miniprogram-ci's 10005).
    #[error("app.json lists page {0:?}, but its .js or .wxml file is missing")]
    MissingPage(String),
    /// A subpackage root starts with `/` (miniprogram-ci's 10009).
    #[error("app.json: subpackage root {0:?} must not start with /")]
    RootSlash(String),
    /// The project needs the official compiler.
    #[error(
        "the native engine does not cover this project: {0}; use engine miniprogram-ci (or auto)"
    )]
    OutOfSubset(String),
}

/// What the caller provides.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// Every file under the project directory: `/`-separated relative path and bytes.
    pub files: Vec<(String, Vec<u8>)>,
    /// The uploading appid.
    pub appid: String,
    /// getattr `platform`: whether ext.json takes effect.
    pub platform: bool,
    /// getwhiteextlist's list, if it gave one.
    pub whitelist: Option<Vec<String>>,
}

/// The package contents, in miniprogram-ci's order (without `ci.signature`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    /// `(name with leading /, bytes)`.
    pub entries: Vec<(String, Vec<u8>)>,
    /// `extAppid` when the raw ext.json has `extEnable: true` (goes into the upload query).
    pub ext_appid: Option<String>,
    /// Subpackage roots (with trailing `/`), for size reports.
    pub subpackage_roots: Vec<String>,
}

fn bad_json(file: &str, e: &serde_json::Error) -> CompileError {
    CompileError::BadJson {
        file: file.to_owned(),
        detail: e.to_string(),
    }
}

fn parse_file(name: &str, bytes: &[u8]) -> Result<Value, CompileError> {
    let text = String::from_utf8_lossy(bytes);
    parse(&text).map_err(|e| bad_json(name, &e))
}

/// A packOptions rule.
#[derive(Debug)]
struct Rule {
    kind: String,
    value: String,
}

impl Rule {
    fn matches(&self, rel: &str) -> bool {
        let path = rel.to_lowercase();
        let v = self.value.to_lowercase();
        let v = v
            .trim_start_matches("./")
            .trim_start_matches('/')
            .trim_end_matches('/');
        let base = path.rsplit('/').next().unwrap_or(&path);
        match self.kind.as_str() {
            "folder" => path == v || path.starts_with(&format!("{v}/")),
            "file" => path == v,
            "prefix" => base.starts_with(v),
            "suffix" => path.ends_with(v),
            "glob" => glob(v.as_bytes(), path.as_bytes()),
            _ => false,
        }
    }
}

/// A small glob: `**` crosses directories, `*` and `?` do not.
fn glob(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) if p.get(1) == Some(&b'*') => {
            let rest = p[2..].strip_prefix(b"/").unwrap_or(&p[2..]);
            (0..=s.len())
                .any(|i| glob(rest, &s[i..]) || (i > 0 && s[i - 1] == b'/' && glob(rest, &s[i..])))
        }
        (Some(b'*'), _) => (0..=s.len())
            .take_while(|&i| i == 0 || s[i - 1] != b'/')
            .any(|i| glob(&p[1..], &s[i..])),
        (Some(b'?'), Some(c)) if *c != b'/' => glob(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => glob(&p[1..], &s[1..]),
        _ => false,
    }
}

fn rules(v: Option<&Value>) -> Result<Vec<Rule>, CompileError> {
    let mut out = Vec::new();
    for r in v.and_then(Value::as_array).into_iter().flatten() {
        let kind = r
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if kind == "regexp" {
            return Err(CompileError::OutOfSubset(
                "packOptions uses a regexp rule".into(),
            ));
        }
        out.push(Rule {
            kind,
            value: r
                .get("value")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        });
    }
    Ok(out)
}

fn extension(rel: &str) -> Option<&str> {
    let base = rel.rsplit('/').next().unwrap_or(rel);
    base.rfind('.')
        .filter(|&i| i > 0 || base.len() > 1)
        .map(|i| &base[i..])
}

/// Joins `dir` and a relative path, resolving `.` and `..` (never above the root).
fn join(dir: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = if rel.starts_with('/') {
        Vec::new()
    } else {
        dir.split('/').filter(|p| !p.is_empty()).collect()
    };
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

fn parent(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

/// The relative path from directory `from` to `to` (both root-relative).
fn relative(from: &str, to: &str) -> String {
    let f: Vec<&str> = from.split('/').filter(|p| !p.is_empty()).collect();
    let t: Vec<&str> = to.split('/').filter(|p| !p.is_empty()).collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = std::iter::repeat_n("..".to_owned(), f.len() - common).collect();
    parts.extend(t[common..].iter().map(|s| (*s).to_owned()));
    parts.join("/")
}

struct Tree<'a> {
    files: &'a BTreeMap<String, Vec<u8>>,
}

impl Tree<'_> {
    fn has(&self, p: &str) -> bool {
        self.files.contains_key(p)
    }

    fn has_dir(&self, p: &str) -> bool {
        let prefix = format!("{p}/");
        self.files
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&prefix))
    }

    /// Resolves a `usingComponents` value written in the JSON file at `json_rel`; returns the value
    /// to write and the component's root-relative path (without extension), if it is a local one.
    fn resolve(&self, json_rel: &str, value: &str) -> (String, Option<String>) {
        if value.starts_with("plugin://")
            || value.starts_with("plugin-private://")
            || value.contains("://")
        {
            return (value.to_owned(), None);
        }
        let dir = parent(json_rel);
        let is_path = value.starts_with('/') || value.starts_with("./") || value.starts_with("../");
        let local = join(dir, value);
        let found = |p: &str| {
            self.has(&format!("{p}.json"))
                || self.has(&format!("{p}.js"))
                || self.has(&format!("{p}.wxml"))
        };
        if is_path || found(&local) || self.has_dir(&local) {
            if !found(&local) && self.has_dir(&local) && found(&format!("{local}/index")) {
                return (format!("{value}/index"), Some(format!("{local}/index")));
            }
            return (value.to_owned(), Some(local));
        }
        // A bare name: an npm component in miniprogram_npm, searched from the file's directory up.
        let mut d = dir.to_owned();
        loop {
            let base = join(&d, &format!("miniprogram_npm/{value}"));
            for candidate in [base.clone(), format!("{base}/index")] {
                if found(&candidate) {
                    return (relative(dir, &candidate), Some(candidate));
                }
            }
            if d.is_empty() {
                return (value.to_owned(), None);
            }
            d = parent(&d).to_owned();
        }
    }
}

/// `usingComponents` (and `componentGenerics` defaults) of a page/component JSON: resolves paths,
/// adds an empty `usingComponents` when missing, and returns the components it names.
fn components(
    obj: &mut Map<String, Value>,
    json_rel: &str,
    tree: &Tree<'_>,
    add_default: bool,
) -> Vec<String> {
    let mut found = Vec::new();
    match obj.get_mut("usingComponents") {
        Some(Value::Object(using)) => {
            for v in using.values_mut() {
                if let Some(s) = v.as_str() {
                    let (written, target) = tree.resolve(json_rel, s);
                    *v = Value::String(written);
                    found.extend(target);
                }
            }
        }
        Some(_) => {}
        None if add_default => {
            obj.insert("usingComponents".into(), json!({}));
        }
        None => {}
    }
    if let Some(Value::Object(generics)) = obj.get("componentGenerics") {
        for g in generics.values() {
            if let Some(d) = g.get("default").and_then(Value::as_str) {
                found.extend(tree.resolve(json_rel, d).1);
            }
        }
    }
    found
}

/// The source map of a JS file, as miniprogram-ci packs it (observed with 2.1.42 through the
/// interop harness, fixture `sample-maps`): from a `//# sourceMappingURL=` comment (a file relative
/// to the JS, or an inline base64 `data:` URL), else from a sibling `<file>.js.map`; parsed,
/// `sourcesContent` filled from the sources (relative to the map) when absent and appended last,
/// and written compactly. REFERENCE-UNSURE: a source that cannot be read becomes `null` (not observed).
fn source_map(rel_js: &str, js: &[u8], files: &BTreeMap<String, Vec<u8>>) -> Option<Vec<u8>> {
    use base64::Engine;
    let text = String::from_utf8_lossy(js);
    let url = text.lines().rev().find_map(|l| {
        l.trim()
            .strip_prefix("//# sourceMappingURL=")
            .map(|u| u.trim().to_owned())
    });
    let dir = parent(rel_js);
    let (raw, map_dir) = match url {
        Some(u) if u.starts_with("data:") => {
            let b64 = u.split_once("base64,")?.1;
            (
                base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .ok()?,
                dir.to_owned(),
            )
        }
        Some(u) => {
            let map_rel = join(dir, &u);
            (files.get(&map_rel)?.clone(), parent(&map_rel).to_owned())
        }
        None => (files.get(&format!("{rel_js}.map"))?.clone(), dir.to_owned()),
    };
    let Value::Object(mut map) = parse(&String::from_utf8_lossy(&raw)).ok()? else {
        return None;
    };
    if !map.contains_key("sourcesContent") {
        let sources: Vec<Value> = map
            .get("sources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|s| {
                let path = join(&map_dir, s.as_str().unwrap_or_default());
                files.get(&path).map_or(Value::Null, |b| {
                    Value::String(String::from_utf8_lossy(b).into_owned())
                })
            })
            .collect();
        map.insert("sourcesContent".into(), Value::Array(sources));
    }
    Some(stringify(&Value::Object(map)).into_bytes())
}

/// Builds the package contents.
#[allow(clippy::too_many_lines)]
pub fn compile(input: &Input) -> Result<Output, CompileError> {
    let all: BTreeMap<&str, &[u8]> = input
        .files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let config = parse_file(
        "project.config.json",
        all.get("project.config.json")
            .ok_or(CompileError::NoProjectConfig)?,
    )?;
    let setting = config.get("setting").cloned().unwrap_or_default();
    if setting
        .get("useCompilerPlugins")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
    {
        return Err(CompileError::OutOfSubset(
            "setting.useCompilerPlugins compiles TypeScript/less/sass".into(),
        ));
    }
    if setting.get("swc") == Some(&json!(true)) || setting.get("disableSWC") == Some(&json!(false))
    {
        return Err(CompileError::OutOfSubset(
            "setting.swc rewrites every JS file".into(),
        ));
    }
    if setting.get("ignoreUploadUnusedFiles") == Some(&json!(true)) {
        return Err(CompileError::OutOfSubset(
            "setting.ignoreUploadUnusedFiles needs the dependency analyser".into(),
        ));
    }
    if config
        .get("compileType")
        .and_then(Value::as_str)
        .is_some_and(|t| t != "miniprogram")
    {
        return Err(CompileError::OutOfSubset(
            "only compileType miniprogram is packed natively".into(),
        ));
    }
    let root = config
        .get("miniprogramRoot")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let root = root.trim_start_matches("./").trim_matches('/');
    let prefix = if root.is_empty() {
        String::new()
    } else {
        format!("{root}/")
    };
    let pack = config.get("packOptions").cloned().unwrap_or_default();
    let (ignore, include) = (rules(pack.get("ignore"))?, rules(pack.get("include"))?);

    // Files under the root, relative to it, minus the default ignores.
    let skipped = |rel: &str| {
        rel.split('/')
            .any(|p| matches!(p, "node_modules" | ".git" | ".svn" | ".DS_Store"))
    };
    let files: BTreeMap<String, Vec<u8>> = input
        .files
        .iter()
        .filter_map(|(n, b)| {
            n.strip_prefix(&prefix)
                .map(|rel| (rel.to_owned(), b.clone()))
        })
        .filter(|(rel, _)| !skipped(rel))
        .collect();
    let tree = Tree { files: &files };
    let packed = |rel: &str| {
        include.iter().any(|r| r.matches(rel)) || !ignore.iter().any(|r| r.matches(rel))
    };

    // app.json and what it names.
    let app_bytes = files
        .get("app.json")
        .ok_or_else(|| CompileError::NoAppJson(root.to_owned()))?;
    let Value::Object(mut app) = parse_file("app.json", app_bytes)? else {
        return Err(CompileError::BadJson {
            file: "app.json".into(),
            detail: "expected an object".into(),
        });
    };
    if let Some(sp) = app.shift_remove("subpackages") {
        // Renamed, and (being re-inserted) moved to the end, as miniprogram-ci does.
        app.insert("subPackages".into(), sp);
    }
    let mut pages: Vec<String> = app
        .get("pages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    let mut roots = Vec::new();
    if let Some(Value::Array(subs)) = app.get_mut("subPackages") {
        for sub in subs.iter_mut() {
            let Some(r) = sub.get("root").and_then(Value::as_str).map(str::to_owned) else {
                continue;
            };
            if r.starts_with('/') {
                return Err(CompileError::RootSlash(r));
            }
            let slashed = if r.ends_with('/') {
                r.clone()
            } else {
                format!("{r}/")
            };
            sub["root"] = json!(slashed);
            for p in sub
                .get("pages")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                pages.push(format!("{slashed}{p}"));
            }
            roots.push(slashed);
        }
    }
    for key in ["openDataContext"] {
        if let Some(Value::String(s)) = app.get_mut(key) {
            if !s.ends_with('/') {
                s.push('/');
            }
        }
    }
    if let Some(Value::String(s)) = app
        .get_mut("accountCardPackage")
        .and_then(|a| a.get_mut("root"))
    {
        if !s.ends_with('/') {
            s.push('/');
        }
    }
    for p in &pages {
        if !files.contains_key(&format!("{p}.js")) || !files.contains_key(&format!("{p}.wxml")) {
            return Err(CompileError::MissingPage(p.clone()));
        }
    }
    let mut queue = components(&mut app, "app.json", &tree, false);

    // ext.json by getattr.platform.
    let raw_ext = match files.get("ext.json") {
        Some(b) => Some(parse_file("ext.json", b)?),
        None => None,
    };
    let ext_enabled = raw_ext
        .as_ref()
        .and_then(|e| e.get("extEnable"))
        .and_then(Value::as_bool)
        == Some(true);
    let ext_appid = raw_ext
        .as_ref()
        .filter(|_| ext_enabled)
        .and_then(|e| e.get("extAppid"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut ext_pages = Map::new();
    let ext_out = raw_ext.as_ref().map(|ext| {
        if !input.platform {
            let warning = format!(
                "{} is not a 3rdMiniProgramAppid, ext.json cannot take effect;Read the documentation: \"https://developers.weixin.qq.com/miniprogram/dev/devtools/ext.html\"",
                input.appid
            );
            app.insert("__warning__".into(), json!(warning));
            return json!({ "__warning__": warning });
        }
        if !ext_enabled {
            return json!({});
        }
        if let Some(Value::Object(obj)) = ext.as_object().map(|_| ext) {
            for (k, v) in obj {
                match (k.as_str(), v) {
                    ("extPages", Value::Object(p)) => ext_pages.clone_from(p),
                    ("window" | "networkTimeout" | "tabBar", Value::Object(inner)) => {
                        let slot = app.entry(k.clone()).or_insert_with(|| json!({}));
                        if let Value::Object(target) = slot {
                            for (ik, iv) in inner {
                                target.insert(ik.clone(), iv.clone());
                            }
                        }
                    }
                    _ => {
                        app.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        ext.clone()
    });

    // Page JSON (only where the file exists), then components in discovery order.
    let mut regenerated: Vec<(String, Value)> = Vec::new();
    for p in &pages {
        let rel = format!("{p}.json");
        let Some(b) = files.get(&rel) else { continue };
        let mut obj = match parse_file(&rel, b)? {
            Value::Object(m) => m,
            other => {
                return Err(CompileError::BadJson {
                    file: rel,
                    detail: format!("expected an object, got {other}"),
                })
            }
        };
        queue.extend(components(&mut obj, &rel, &tree, true));
        if let Some(Value::Object(extra)) = ext_pages.get(p.as_str()) {
            for (k, v) in extra {
                obj.insert(k.clone(), v.clone());
            }
        }
        regenerated.push((rel, Value::Object(obj)));
    }
    let mut seen: BTreeSet<String> = pages.iter().cloned().collect();
    let mut i = 0;
    while i < queue.len() {
        let c = queue[i].clone();
        i += 1;
        if !seen.insert(c.clone()) {
            continue;
        }
        let rel = format!("{c}.json");
        let Some(b) = files.get(&rel) else { continue };
        let Value::Object(mut obj) = parse_file(&rel, b)? else {
            continue;
        };
        queue.extend(components(&mut obj, &rel, &tree, true));
        regenerated.push((rel, Value::Object(obj)));
    }

    let regenerated_names: BTreeSet<String> = ["app.json".to_owned(), "ext.json".to_owned()]
        .into_iter()
        .chain(regenerated.iter().map(|(n, _)| n.clone()))
        .collect();
    let whitelist: Vec<String> = input
        .whitelist
        .clone()
        .unwrap_or_else(|| BUILTIN_WHITELIST.iter().map(|s| (*s).to_owned()).collect());
    let mut other = Vec::new();
    let mut code = Vec::new();
    for (rel, bytes) in &files {
        if regenerated_names.contains(rel) || !packed(rel) {
            continue;
        }
        let ext = extension(rel).unwrap_or_default();
        if rel == "project.config.json" {
            other.push((format!("/{rel}"), PROJECT_CONFIG_STUB.as_bytes().to_vec()));
        } else if CODE.contains(&ext) {
            code.push((format!("/{rel}"), bytes.clone()));
            if ext == ".js" {
                if let Some(map) = source_map(rel, bytes, &files) {
                    code.push((format!("/{rel}.map"), map));
                }
            }
        } else if whitelist.iter().any(|w| w == ext) {
            other.push((format!("/{rel}"), bytes.clone()));
        }
    }
    let mut entries = other;
    let stub_placed = entries.iter().any(|(n, _)| n == "/project.config.json");
    entries.extend(code);
    entries.push((
        "/app.json".into(),
        stringify(&Value::Object(app)).into_bytes(),
    ));
    if let Some(ext) = ext_out {
        entries.push(("/ext.json".into(), stringify(&ext).into_bytes()));
    }
    entries.extend(
        regenerated
            .into_iter()
            .map(|(n, v)| (format!("/{n}"), stringify(&v).into_bytes())),
    );
    if !stub_placed {
        entries.push((
            "/project.config.json".into(),
            PROJECT_CONFIG_STUB.as_bytes().to_vec(),
        ));
    }
    Ok(Output {
        entries,
        ext_appid,
        subpackage_roots: roots,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[(&str, &str)]) -> Input {
        Input {
            files: files
                .iter()
                .map(|(n, b)| ((*n).to_owned(), b.as_bytes().to_vec()))
                .collect(),
            appid: "wx0123456789abcdef".into(),
            platform: false,
            whitelist: None,
        }
    }

    fn names(o: &Output) -> Vec<&str> {
        o.entries.iter().map(|(n, _)| n.as_str()).collect()
    }

    const APP: (&str, &str) = ("app.json", r#"{"pages":["pages/a/a"]}"#);
    const CONFIG: (&str, &str) = ("project.config.json", "{}");

    #[test]
    fn order_stub_and_page_json() {
        let out = compile(&project(&[
            CONFIG,
            APP,
            ("pages/a/a.js", "x"),
            ("pages/a/a.wxml", "<v/>"),
            ("pages/a/a.json", "{ \"component\": false }"),
            ("z.png", "p"),
            ("notes.txt", "t"),
            ("UP.PNG", "u"),
        ]))
        .unwrap();
        assert_eq!(
            names(&out),
            [
                "/project.config.json",
                "/z.png",
                "/pages/a/a.js",
                "/pages/a/a.wxml",
                "/app.json",
                "/pages/a/a.json"
            ]
        );
        assert_eq!(out.entries[0].1, PROJECT_CONFIG_STUB.as_bytes());
        assert_eq!(
            out.entries[5].1,
            br#"{"component":false,"usingComponents":{}}"#
        );
    }

    #[test]
    fn subset_boundaries() {
        for (cfg, why) in [
            (
                r#"{"setting":{"useCompilerPlugins":["typescript"]}}"#,
                "useCompilerPlugins",
            ),
            (r#"{"setting":{"swc":true}}"#, "swc"),
            (
                r#"{"setting":{"ignoreUploadUnusedFiles":true}}"#,
                "ignoreUploadUnusedFiles",
            ),
            (r#"{"compileType":"plugin"}"#, "compileType"),
            (
                r#"{"packOptions":{"ignore":[{"type":"regexp","value":"x"}]}}"#,
                "regexp",
            ),
        ] {
            let err = compile(&project(&[("project.config.json", cfg), APP])).unwrap_err();
            assert!(
                matches!(&err, CompileError::OutOfSubset(m) if m.contains(why)),
                "{err}"
            );
        }
        // A sibling source map is packed after its JS, with sourcesContent filled from its sources.
        let out = compile(&project(&[
            CONFIG,
            APP,
            ("pages/a/a.js", "x"),
            ("pages/a/a.wxml", ""),
            (
                "pages/a/a.js.map",
                r#"{"version":3,"sources":["a.ts","gone.ts"],"mappings":""}"#,
            ),
            ("pages/a/a.ts", "let x = 1"),
        ]))
        .unwrap();
        assert_eq!(
            names(&out),
            [
                "/project.config.json",
                "/pages/a/a.js",
                "/pages/a/a.js.map",
                "/pages/a/a.wxml",
                "/app.json"
            ]
        );
        assert_eq!(out.entries[2].1, br#"{"version":3,"sources":["a.ts","gone.ts"],"mappings":"","sourcesContent":["let x = 1",null]}"#);
        assert_eq!(
            compile(&project(&[CONFIG, APP, ("pages/a/a.js", "x")])).unwrap_err(),
            CompileError::MissingPage("pages/a/a".into())
        );
        assert_eq!(
            compile(&project(&[APP])).unwrap_err(),
            CompileError::NoProjectConfig
        );
        let slash = compile(&project(&[
            CONFIG,
            (
                "app.json",
                r#"{"pages":[],"subpackages":[{"root":"/s","pages":[]}]}"#,
            ),
        ]))
        .unwrap_err();
        assert_eq!(slash, CompileError::RootSlash("/s".into()));
    }

    #[test]
    fn subpackages_rename_and_pack_options() {
        let cfg = r#"{"packOptions":{"ignore":[{"type":"folder","value":"docs"},{"type":"suffix","value":".md.js"},{"type":"glob","value":"**/*.tmp.js"},{"type":"file","value":"keep.js"}],"include":[{"type":"file","value":"keep.js"}]}}"#;
        let out = compile(&project(&[
            ("project.config.json", cfg),
            (
                "app.json",
                r#"{"subpackages":[{"root":"s","pages":["p"]}],"pages":[],"window":{}}"#,
            ),
            ("s/p.js", ""),
            ("s/p.wxml", ""),
            ("docs/a.js", ""),
            ("x.md.js", ""),
            ("deep/a.tmp.js", ""),
            ("keep.js", ""),
        ]))
        .unwrap();
        assert_eq!(
            names(&out),
            [
                "/project.config.json",
                "/keep.js",
                "/s/p.js",
                "/s/p.wxml",
                "/app.json"
            ]
        );
        assert_eq!(
            out.entries[4].1,
            br#"{"pages":[],"window":{},"subPackages":[{"root":"s/","pages":["p"]}]}"#
        );
        assert_eq!(out.subpackage_roots, ["s/"]);
    }

    #[test]
    fn glob_rules() {
        assert!(glob(b"**/*.js", b"a/b/c.js"));
        assert!(glob(b"**/*.js", b"c.js"));
        assert!(!glob(b"*.js", b"a/c.js"));
        assert!(glob(b"a/?.js", b"a/b.js"));
    }

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative("pages/index", "miniprogram_npm/v/button/index"),
            "../../miniprogram_npm/v/button/index"
        );
        assert_eq!(join("pages/index", "../../components/c"), "components/c");
        assert_eq!(join("pages", "/components/c"), "components/c");
    }
}
