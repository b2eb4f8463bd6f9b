//! The native engine's rules: from a project's files to the file map the official `miniprogram-ci`
//! uploads with every compile setting off (reference §4). Pure: the caller lists and reads the files.
//!
//! Inside the subset (no compiler plugins, no swc, no `ignoreUploadUnusedFiles`, no plugin projects,
//! no `regexp` pack rules) the map is the official one, `__warning__` strings included (those the
//! official tool writes, in its default `en` locale, for unknown keys at the levels
//! [`schema`](super::schema) models, and for ext.json).
//! Outside it, [`compile`] answers [`CompileError::OutOfSubset`] so `auto` can hand the project to
//! the official engine.

use super::js_json::{parse, stringify};
use super::{checks, components, paths, schema};
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
    #[error("app.json: {tip} names page {page:?}, but {missing} does not exist")]
    MissingPage {
        /// The page.
        page: String,
        /// The file that is not there.
        missing: String,
        /// Where app.json names it (`["pages"][3]`).
        tip: String,
    },
    /// A project miniprogram-ci refuses before packing (its error 10009 and others): what is
    /// wrong, in which file.
    #[error("{file}: {detail} (miniprogram-ci refuses this project too; nothing was uploaded)")]
    Broken {
        /// The file (relative to the project directory).
        file: String,
        /// The key and the missing path.
        detail: String,
    },
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
pub struct Input<'a> {
    /// Every file under the project directory.
    pub files: std::borrow::Cow<'a, [ProjectFile]>,
    /// The uploading appid.
    pub appid: String,
    /// getattr `platform`: whether ext.json takes effect.
    pub platform: bool,
    /// getwhiteextlist's list, if it gave one.
    pub whitelist: Option<Vec<String>>,
    /// The `setting` input: miniprogram-ci's compile options, over project.config.json's.
    pub setting: Map<String, Value>,
}

/// The package contents, in miniprogram-ci's order (without `ci.signature`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    /// `(name with leading /, what it holds)`.
    pub entries: Vec<(String, Body)>,
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

/// The source map of a JS file, as miniprogram-ci packs it (observed with 2.1.42 through the
/// interop harness, fixture `sample-maps`): from a `//# sourceMappingURL=` comment (a file relative
/// to the JS, or an inline base64 `data:` URL), else from a sibling `<file>.js.map`; parsed,
/// `sourcesContent` filled from the sources (relative to the map) when absent and appended last,
/// and written compactly. REFERENCE-UNSURE: a source that cannot be read becomes `null` (not observed).
fn source_map(rel_js: &str, js: &[u8], files: &Tree<'_>) -> Option<Vec<u8>> {
    // A `/` path restarts at the root here (how the interop fixtures were written; not observed
    // otherwise).
    let join = |dir: &str, rel: &str| match rel.strip_prefix('/') {
        Some(abs) => paths::normalize(abs),
        None => paths::join(dir, rel),
    };
    let read = |p: &str| files.get(p).and_then(|n| n.data);
    use base64::Engine;
    let text = String::from_utf8_lossy(js);
    let url = text.lines().rev().find_map(|l| {
        l.trim()
            .strip_prefix("//# sourceMappingURL=")
            .map(|u| u.trim().to_owned())
    });
    let dir = paths::dirname(rel_js);
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
            (
                read(&map_rel)?.to_vec(),
                paths::dirname(&map_rel).to_owned(),
            )
        }
        None => (read(&format!("{rel_js}.map"))?.to_vec(), dir.to_owned()),
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
                read(&path).map_or(Value::Null, |b| {
                    Value::String(String::from_utf8_lossy(b).into_owned())
                })
            })
            .collect();
        map.insert("sourcesContent".into(), Value::Array(sources));
    }
    Some(stringify(&Value::Object(map)).into_bytes())
}

/// One file of the project, as listed.
#[derive(Debug, Clone, Default)]
pub struct ProjectFile {
    /// `/`-separated path relative to the project directory.
    pub name: String,
    /// The bytes, when read (text files). Images, audio and other binary files are not read
    /// for compiling: they are copied into the package as they are, read when packed.
    pub data: Option<Vec<u8>>,
    /// The size in bytes.
    pub size: u64,
}

impl ProjectFile {
    /// A file whose bytes are known.
    pub fn read(name: impl Into<String>, data: Vec<u8>) -> Self {
        Self {
            name: name.into(),
            size: data.len() as u64,
            data: Some(data),
        }
    }
}

/// A file under the mini program root, for the rules: its bytes (if read), size and index in
/// [`Input::files`].
#[derive(Debug, Clone, Copy)]
pub struct Node<'a> {
    /// The bytes, if read.
    pub data: Option<&'a [u8]>,
    /// The size.
    pub size: u64,
    /// Index into [`Input::files`].
    pub index: usize,
}

/// The files under the mini program root, by root-relative path.
pub type Tree<'a> = BTreeMap<String, Node<'a>>;

/// What a package entry holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// A project file, unchanged: its index in [`Input::files`].
    File(usize),
    /// Bytes made by the rules (JSON, source maps, the project.config.json stub).
    Made(Vec<u8>),
}

impl Body {
    /// The bytes, with the project's files at hand (`None` for a file that was not read).
    pub fn bytes<'a>(&'a self, files: &'a [ProjectFile]) -> Option<&'a [u8]> {
        match self {
            Self::File(i) => files.get(*i).and_then(|f| f.data.as_deref()),
            Self::Made(b) => Some(b),
        }
    }
}

/// miniprogram-ci's compile settings that change the files (`formatCISetting` with
/// `useProjectConfig`): project.config.json's `setting`, with the `setting` input's keys (the
/// tool's option names) taking precedence. Returns those that are on.
pub fn compile_settings_on(project: &Value, overrides: &Map<String, Value>) -> Vec<&'static str> {
    let p = |k: &str| components::truthy(project.get(k));
    let e = |k: &str| overrides.get(k).filter(|v| !v.is_null());
    let t = |k: &str| components::truthy(e(k));
    let either = |k: &str, project_key: &str| match e(k) {
        None => p(project_key),
        Some(v) => components::truthy(Some(v)),
    };
    let minify = |k: &str, project_key: &str| {
        e(k) != Some(&Value::Bool(false)) && (t("minify") || either(k, project_key))
    };
    let es = if e("es6").is_none() && e("es7").is_none() {
        (p("es6"), p("enhance"))
    } else {
        (t("es6") || t("es7"), t("es6") || t("es7"))
    };
    let mut on = Vec::new();
    for (name, value) in [
        ("es6", es.0),
        ("enhance", es.1),
        ("minified", minify("minifyJS", "minified")),
        ("minifyWXML", minify("minifyWXML", "minifyWXML")),
        ("minifyWXSS", minify("minifyWXSS", "minifyWXSS")),
        ("postcss", either("autoPrefixWXSS", "postcss")),
        ("compileWorklet", either("compileWorklet", "compileWorklet")),
        ("uglifyFileName", either("codeProtect", "uglifyFileName")),
    ] {
        if value {
            on.push(name);
        }
    }
    on
}

/// Builds the package contents.
#[allow(clippy::too_many_lines)]
pub fn compile(input: &Input<'_>) -> Result<Output, CompileError> {
    let config_file = input
        .files
        .iter()
        .find(|f| f.name == "project.config.json")
        .ok_or(CompileError::NoProjectConfig)?;
    let config = parse_file(
        "project.config.json",
        config_file.data.as_deref().unwrap_or_default(),
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
    let on = compile_settings_on(&setting, &input.setting);
    if !on.is_empty() {
        return Err(CompileError::OutOfSubset(format!(
            "compile setting {} is on (project.config.json's setting, or the setting input) and the native engine compiles nothing",
            on.join(", ")
        )));
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
    let files: Tree<'_> = input
        .files
        .iter()
        .enumerate()
        .filter_map(|(index, f)| {
            f.name.strip_prefix(&prefix).map(|rel| {
                (
                    rel.to_owned(),
                    Node {
                        data: f.data.as_deref(),
                        size: f.size,
                        index,
                    },
                )
            })
        })
        .filter(|(rel, _)| !skipped(rel))
        .collect();
    let packed = |rel: &str| {
        include.iter().any(|r| r.matches(rel)) || !ignore.iter().any(|r| r.matches(rel))
    };
    // Errors name files relative to the project directory.
    let in_root = |e: CompileError| match e {
        CompileError::Broken { file, detail } => CompileError::Broken {
            file: format!("{prefix}{file}"),
            detail,
        },
        CompileError::BadJson { file, detail } => CompileError::BadJson {
            file: format!("{prefix}{file}"),
            detail,
        },
        e => e,
    };

    // app.json, checked as the official tool checks it.
    let app_bytes = files
        .get("app.json")
        .ok_or_else(|| CompileError::NoAppJson(root.to_owned()))?;
    let Value::Object(raw_app) =
        parse_file("app.json", app_bytes.data.unwrap_or_default()).map_err(in_root)?
    else {
        return Err(in_root(CompileError::BadJson {
            file: "app.json".into(),
            detail: "expected an object".into(),
        }));
    };
    // theme.json (`themeLocation`), for the theme variables of app.json and the pages.
    let theme = match raw_app.get("themeLocation").and_then(Value::as_str) {
        Some(t) => match files.get(&paths::normalize(t)) {
            Some(n) => Some(parse_file(t, n.data.unwrap_or_default()).map_err(in_root)?),
            None => None,
        },
        None => None,
    };
    schema::check_app(&raw_app, theme.as_ref()).map_err(in_root)?;
    let mut app = raw_app.clone();
    if let Some(w) = schema::app_warning(&raw_app) {
        app.insert("__warning__".into(), Value::String(w));
    }
    if let Some(sp) = app.shift_remove("subpackages") {
        // Renamed, and (being re-inserted) moved to the end, as miniprogram-ci does.
        app.insert("subPackages".into(), sp);
    }
    for (key, what) in [
        ("agent", "app.json's agent skills"),
        (
            "plugins",
            "generics implemented by plugins (plugins.*.genericsImplementation)",
        ),
    ] {
        let used = match (key, app.get(key)) {
            ("agent", Some(a)) => a.get("skills").is_some(),
            ("plugins", Some(Value::Object(p))) => p
                .values()
                .any(|v| components::truthy(v.get("genericsImplementation"))),
            _ => false,
        };
        if used {
            return Err(CompileError::OutOfSubset(format!(
                "{what}: the official tool walks them concurrently, in an order not reproduced here"
            )));
        }
    }
    checks::check_app(&mut app, &files).map_err(in_root)?;
    let mut pages: Vec<String> = app
        .get("pages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    let mut roots = Vec::new();
    for sub in app
        .get("subPackages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(r) = sub.get("root").and_then(Value::as_str) else {
            continue;
        };
        for p in sub
            .get("pages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            pages.push(paths::normalize(&format!("{r}{p}")));
        }
        roots.push(r.to_owned());
    }
    if let Some(Value::String(s)) = app
        .get_mut("accountCardPackage")
        .and_then(|a| a.get_mut("root"))
    {
        if !s.ends_with('/') {
            s.push('/');
        }
    }
    let no_ext = Map::new();
    components::Project {
        files: &files,
        raw_app: &raw_app,
        app: &raw_app,
        ext_pages: &no_ext,
        pages: &pages,
        theme: theme.as_ref(),
    }
    .resolve_in(&mut app, "app.json")
    .map_err(in_root)?;
    checks::check_app_late(&app).map_err(in_root)?;

    // ext.json by getattr.platform.
    let raw_ext = match files.get("ext.json") {
        Some(b) => Some(parse_file("ext.json", b.data.unwrap_or_default()).map_err(in_root)?),
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
    let mut packed_app = app.clone();
    let ext_out = raw_ext.as_ref().map(|ext| {
        if !input.platform {
            let warning = format!(
                "{} is not a 3rdMiniProgramAppid, ext.json cannot take effect;Read the documentation: \"https://developers.weixin.qq.com/miniprogram/dev/devtools/ext.html\"",
                input.appid
            );
            // After the schema's warnings, if any, joined as the official tool joins them.
            let joined = match packed_app.get("__warning__").and_then(Value::as_str) {
                Some(w) => format!("{w}、{warning}"),
                None => warning.clone(),
            };
            packed_app.insert("__warning__".into(), json!(joined));
            return json!({ "__warning__": warning });
        }
        if !ext_enabled {
            return json!({});
        }
        if let Some(obj) = ext.as_object() {
            for (k, v) in obj {
                match (k.as_str(), v) {
                    ("extPages", Value::Object(p)) => ext_pages.clone_from(p),
                    ("window" | "networkTimeout" | "tabBar", Value::Object(inner)) => {
                        let slot = packed_app.entry(k.clone()).or_insert_with(|| json!({}));
                        if let Value::Object(target) = slot {
                            for (ik, iv) in inner {
                                target.insert(ik.clone(), iv.clone());
                            }
                        }
                    }
                    _ => {
                        packed_app.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        ext.clone()
    });

    // Pages and components, in the order of the official walk.
    let project = components::Project {
        files: &files,
        raw_app: &raw_app,
        app: &app,
        ext_pages: &ext_pages,
        pages: &pages,
        theme: theme.as_ref(),
    };
    let walked = components::walk(&project).map_err(in_root)?;
    let emitted = |rel: &str| files.contains_key(rel) && packed(rel);
    let mut comps: Vec<Option<(String, Map<String, Value>)>> =
        walked.comps.into_iter().map(Some).collect();
    let comp_at: BTreeMap<String, usize> = comps
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.as_ref().map(|(name, _)| (name.clone(), i)))
        .collect();
    let mut regenerated: Vec<(String, Map<String, Value>)> = Vec::new();
    for (page, obj) in walked.pages {
        let rel = format!("{page}.json");
        if !emitted(&rel) {
            continue;
        }
        // A page that is also used as a component keeps its place, with the component's JSON.
        let obj = comp_at
            .get(&page)
            .and_then(|&i| comps[i].take())
            .map_or(obj, |(_, o)| o);
        regenerated.push((rel, obj));
    }
    for (comp, obj) in comps.into_iter().flatten() {
        let rel = format!("{comp}.json");
        if emitted(&rel) {
            regenerated.push((rel, obj));
        }
    }

    let regenerated_names: BTreeSet<&str> = ["app.json", "ext.json"]
        .into_iter()
        .chain(regenerated.iter().map(|(n, _)| n.as_str()))
        .collect();
    let whitelist: Vec<String> = input
        .whitelist
        .clone()
        .unwrap_or_else(|| BUILTIN_WHITELIST.iter().map(|s| (*s).to_owned()).collect());
    let mut listed: Vec<(&String, &Node<'_>)> = files.iter().collect();
    listed.sort_by(|a, b| paths::listing_order(a.0, b.0));
    let mut other = Vec::new();
    let mut code = Vec::new();
    for (rel, node) in listed {
        if regenerated_names.contains(rel.as_str()) || !packed(rel) {
            continue;
        }
        let ext = extension(rel).unwrap_or_default();
        if rel == "project.config.json" {
            other.push((
                format!("/{rel}"),
                Body::Made(PROJECT_CONFIG_STUB.as_bytes().to_vec()),
            ));
        } else if CODE.contains(&ext) {
            code.push((format!("/{rel}"), Body::File(node.index)));
            if ext == ".js" {
                if let Some(map) = source_map(rel, node.data.unwrap_or_default(), &files) {
                    code.push((format!("/{rel}.map"), Body::Made(map)));
                }
            }
        } else if whitelist.iter().any(|w| w == ext) {
            other.push((format!("/{rel}"), Body::File(node.index)));
        }
    }
    let mut entries = other;
    let stub_placed = entries.iter().any(|(n, _)| n == "/project.config.json");
    entries.extend(code);
    entries.push((
        "/app.json".into(),
        Body::Made(stringify(&Value::Object(packed_app)).into_bytes()),
    ));
    if let Some(ext) = ext_out {
        entries.push(("/ext.json".into(), Body::Made(stringify(&ext).into_bytes())));
    }
    entries.extend(regenerated.into_iter().map(|(n, v)| {
        (
            format!("/{n}"),
            Body::Made(stringify(&Value::Object(v)).into_bytes()),
        )
    }));
    if !stub_placed {
        entries.push((
            "/project.config.json".into(),
            Body::Made(PROJECT_CONFIG_STUB.as_bytes().to_vec()),
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

    fn project(files: &[(&str, &str)]) -> Input<'static> {
        Input {
            files: files
                .iter()
                .map(|(n, b)| ProjectFile::read(*n, b.as_bytes().to_vec()))
                .collect::<Vec<_>>()
                .into(),
            appid: "wx0123456789abcdef".into(),
            ..Input::default()
        }
    }

    fn names(o: &Output) -> Vec<&str> {
        o.entries.iter().map(|(n, _)| n.as_str()).collect()
    }

    fn made(o: &Output, i: usize) -> &[u8] {
        match &o.entries[i].1 {
            Body::Made(b) => b,
            Body::File(_) => panic!("entry {i} is a project file"),
        }
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
        assert_eq!(made(&out, 0), PROJECT_CONFIG_STUB.as_bytes());
        assert_eq!(
            made(&out, 5),
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
        assert_eq!(made(&out, 2), br#"{"version":3,"sources":["a.ts","gone.ts"],"mappings":"","sourcesContent":["let x = 1",null]}"#);
        assert_eq!(
            compile(&project(&[CONFIG, APP, ("pages/a/a.js", "x")])).unwrap_err(),
            CompileError::MissingPage {
                page: "pages/a/a".into(),
                missing: "pages/a/a.wxml".into(),
                tip: r#"["pages"][0]"#.into()
            }
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
            made(&out, 4),
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
}
