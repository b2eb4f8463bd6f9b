//! Page and component JSON as miniprogram-ci 2.1.42 regenerates them, and the order it emits them
//! in. Read from the tool's own code (`corecompiler/original/json/common.js` `checkComponentPath`,
//! `json/page/getPageJSON.js`, `summer/graph/appconf.js`, `compile/handler/mpjson.js`) and proven by
//! the differential tests in tests/all/interop.rs:
//!
//! - **Resolution** of a `usingComponents` value or a `componentGenerics` default: a component is a
//!   path with both a `.json` and a `.wxml`; `/x` and `./x`/`../x` are tried as written and then
//!   with `/index`; a `../` path is first tried from the root with its `../`s dropped; a value with
//!   no `/`, `./` or `../` in front is relative to the file's directory, then searched in
//!   `miniprogram_npm` directories from there up to the root, and written back as the relative
//!   path with an explicit `./` when it has none (`comp/x` → `./comp/x`); `useExtendedLib`
//!   packages are rewritten to `/miniprogram_npm/<package>/…` and never looked for. Anything else
//!   is the tool's 10009 "component not found".
//! - **The walk** (summer `AppConf.load`): pages in app.json order (main package, then
//!   subpackages), each followed depth-first by its components; while walking, every page and
//!   component outside `miniprogram_npm` and independent subpackages also "uses" app.json's global
//!   components (appended after its own), so those are reached inside the first page's walk; then
//!   app.json's own components, `custom-tab-bar/index`, `app-bar/index`, the account-card
//!   components. Emitted: pages, then components in the order first reached.
//! - **Skyline**: a page whose renderer is skyline (its own, or app.json's when it has none) gets
//!   `disableScroll: true` when absent and `navigationStyle: "custom"`; every component reachable
//!   from a page whose own JSON says `"renderer": "skyline"` gets `"renderer": "skyline"`
//!   (`xr-frame` components are left alone, a `webview` one is an error).

use super::js_json::js_key_order;
use super::paths::{dirname, join, normalize, relative};
use super::project::{CompileError, Tree};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// `useExtendedLib` keys and the npm packages they provide (miniprogram-ci's `extendedLibMap`).
const EXTENDED_LIBS: &[(&str, &[&str])] = &[
    ("kbone", &["miniprogram-element", "miniprogram-render"]),
    ("weui", &["weui-miniprogram"]),
];

/// JavaScript truthiness of a JSON value.
pub fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|x| x != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

fn broken(file: &str, detail: impl Into<String>) -> CompileError {
    CompileError::Broken {
        file: file.to_owned(),
        detail: detail.into(),
    }
}

fn is_plugin(v: &str) -> bool {
    v.starts_with("plugin://") || v.starts_with("plugin-private://")
}

/// What the resolution and the walk read: the files under the mini program root (packed or not:
/// the tool looks at the disk) and app.json, raw and checked.
#[derive(Debug)]
pub struct Project<'a> {
    /// Root-relative path → bytes.
    pub files: &'a Tree<'a>,
    /// app.json as written.
    pub raw_app: &'a Map<String, Value>,
    /// app.json after its checks (subPackages renamed, roots with a trailing `/`, components
    /// resolved).
    pub app: &'a Map<String, Value>,
    /// ext.json's `extPages`, when ext.json takes effect.
    pub ext_pages: &'a Map<String, Value>,
    /// Every page path (main package, then subpackages).
    pub pages: &'a [String],
    /// theme.json, when app.json names one.
    pub theme: Option<&'a Value>,
}

impl Project<'_> {
    fn has(&self, p: &str) -> bool {
        self.files.contains_key(&normalize(p))
    }

    /// A component: both its `.json` and its `.wxml` exist.
    fn is_component(&self, p: &str) -> bool {
        let p = normalize(p);
        self.files.contains_key(&format!("{p}.json"))
            && self.files.contains_key(&format!("{p}.wxml"))
    }

    /// The `useExtendedLib` packages in effect for the file at `rel` (app.json's, plus its
    /// subpackage's).
    fn extended_libs(&self, rel: &str) -> Result<Vec<&'static str>, CompileError> {
        fn of(v: Option<&Value>, at: &str) -> Result<Vec<&'static str>, CompileError> {
            let Some(Value::Object(m)) = v else {
                return Ok(Vec::new());
            };
            let unknown: Vec<&str> = m
                .keys()
                .filter(|k| !EXTENDED_LIBS.iter().any(|(n, _)| n == k))
                .map(String::as_str)
                .collect();
            if !unknown.is_empty() {
                return Err(broken(
                    "app.json",
                    format!("{} is not allowed in {at}", unknown.join(", ")),
                ));
            }
            Ok(EXTENDED_LIBS
                .iter()
                .filter(|(n, _)| truthy(m.get(*n)))
                .flat_map(|(_, p)| p.iter().copied())
                .collect())
        }
        let mut libs = of(self.raw_app.get("useExtendedLib"), r#"["useExtendedLib"]"#)?;
        let subs = self
            .raw_app
            .get("subPackages")
            .or_else(|| self.raw_app.get("subpackages"))
            .and_then(Value::as_array);
        let sub = subs.into_iter().flatten().enumerate().find(|(_, s)| {
            s.get("root")
                .and_then(Value::as_str)
                .is_some_and(|r| rel.starts_with(r))
        });
        if let Some((i, s)) = sub {
            for l in of(
                s.get("useExtendedLib"),
                &format!(r#"subPackages[{i}]["useExtendedLib"]"#),
            )? {
                if !libs.contains(&l) {
                    libs.push(l);
                }
            }
        }
        Ok(libs)
    }

    /// One `usingComponents` value (or `componentGenerics` default) of the JSON file at `rel`,
    /// resolved as miniprogram-ci writes it back (`checkComponentPath`).
    pub fn resolve(&self, rel: &str, tip: &str, value: &str) -> Result<String, CompileError> {
        if is_plugin(value) {
            return Ok(value.to_owned());
        }
        let not_found = |looked: &[String]| {
            broken(
                rel,
                format!(
                    "{tip}: {value:?}: component not found (looked for a .json and a .wxml at {})",
                    looked.join(", ")
                ),
            )
        };
        let libs = self.extended_libs(rel)?;
        let dir = dirname(rel);
        if value.starts_with('/') {
            if libs
                .iter()
                .any(|l| value.starts_with(&format!("/miniprogram_npm/{l}")))
            {
                return Ok(value.to_owned());
            }
            if self.is_component(value) {
                return Ok(value.to_owned());
            }
            if self.is_component(&format!("{value}/index")) {
                return Ok(format!("{value}/index"));
            }
            return Err(not_found(&[normalize(value)]));
        }
        if value.starts_with('.') {
            if value.starts_with("../") {
                let rest = value.trim_start_matches("../");
                if self.is_component(rest) {
                    return Ok(value.to_owned());
                }
                if self.is_component(&format!("{rest}/index")) {
                    return Ok(format!("{value}/index"));
                }
            }
            if self.is_component(&join(dir, value)) {
                return Ok(value.to_owned());
            }
            if self.is_component(&join(dir, &format!("{value}/index"))) {
                return Ok(format!("{value}/index"));
            }
            return Err(not_found(&[join(dir, value)]));
        }
        for l in &libs {
            if value.starts_with(l) {
                return Ok(if *l == "miniprogram-element" {
                    format!("/miniprogram_npm/{l}/index")
                } else {
                    value.replacen(l, &format!("/miniprogram_npm/{l}"), 1)
                });
            }
        }
        let n = normalize(value);
        let mut candidates = vec![join(dir, &n), join(dir, &format!("{n}/index"))];
        let mut segs: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
        while !segs.is_empty() {
            let d = segs.join("/");
            candidates.push(join(&d, &format!("miniprogram_npm/{n}")));
            candidates.push(join(&d, &format!("miniprogram_npm/{n}/index")));
            segs.pop();
        }
        candidates.push(join("", &format!("miniprogram_npm/{n}")));
        candidates.push(join("", &format!("miniprogram_npm/{n}/index")));
        match candidates.iter().find(|c| self.is_component(c)) {
            Some(found) => {
                let r = relative(dir, found);
                Ok(if r.starts_with('.') {
                    r
                } else {
                    format!("./{r}")
                })
            }
            None => Err(not_found(&candidates)),
        }
    }

    /// The page or component JSON at `path` (without `.json`) as written into the package:
    /// `extPages` merged, generics checked, component paths resolved, skyline page defaults,
    /// `usingComponents` added when missing (miniprogram-ci's `compilePageJSON` without spreading).
    pub fn page_json(&self, path: &str) -> Result<Map<String, Value>, CompileError> {
        let rel = format!("{path}.json");
        let mut obj = match self.files.get(&rel) {
            None => Map::new(),
            Some(b) => {
                match super::js_json::parse(&String::from_utf8_lossy(b.data.unwrap_or_default())) {
                    Ok(Value::Object(m)) => m,
                    Ok(other) => {
                        return Err(CompileError::BadJson {
                            file: rel,
                            detail: format!("expected an object, got {other}"),
                        })
                    }
                    Err(e) => {
                        return Err(CompileError::BadJson {
                            file: rel,
                            detail: e.to_string(),
                        })
                    }
                }
            }
        };
        super::schema::check_page(&rel, &obj, self.theme)?;
        if let Some(w) = super::schema::page_warning(&obj) {
            obj.insert("__warning__".into(), Value::String(w));
        }
        if let Some(Value::Object(extra)) = self.ext_pages.get(path) {
            for (k, v) in extra {
                obj.insert(k.clone(), v.clone());
            }
        }
        if let Some(Value::Object(generics)) = obj.get("componentGenerics") {
            let mut bad = Vec::new();
            for k in js_key_order(generics) {
                match &generics[k] {
                    Value::Bool(_) => {}
                    Value::Object(g) if g.get("default").is_some_and(Value::is_string) => {}
                    Value::Object(_) => bad.push(format!(
                        r#"["componentGenerics"]["{k}"]["default"] field needs to be string"#
                    )),
                    _ => bad.push(format!(
                        r#"["componentGenerics"]["{k}"] field needs to be boolean/object"#
                    )),
                }
            }
            if !bad.is_empty() {
                return Err(broken(&rel, bad.join("; ")));
            }
        }
        self.resolve_in(&mut obj, &rel)?;
        self.skyline_page(&mut obj, path, &rel)?;
        if !obj.contains_key("usingComponents") {
            obj.insert("usingComponents".into(), json!({}));
        }
        Ok(obj)
    }

    /// Resolves `usingComponents` values and `componentGenerics` defaults of `obj` in place.
    pub fn resolve_in(&self, obj: &mut Map<String, Value>, rel: &str) -> Result<(), CompileError> {
        if let Some(Value::Object(using)) = obj.get_mut("usingComponents") {
            let keys: Vec<String> = js_key_order(using).into_iter().cloned().collect();
            for k in keys {
                let tip = format!(r#"["usingComponents"]["{k}"]"#);
                // Strings: the field types were checked first (schema::check_app/check_page).
                let value = using[&k].as_str().unwrap_or_default().to_owned();
                using[&k] = Value::String(self.resolve(rel, &tip, &value)?);
            }
        }
        if let Some(Value::Object(generics)) = obj.get_mut("componentGenerics") {
            let keys: Vec<String> = js_key_order(generics).into_iter().cloned().collect();
            for k in keys {
                let tip = format!(r#"["componentGenerics"]["{k}"]"#);
                let slot = match &mut generics[&k] {
                    Value::Object(g) => g.get_mut("default"),
                    other => Some(other),
                };
                if let Some(v @ Value::String(_)) = slot {
                    let s = v.as_str().unwrap_or_default().to_owned();
                    if !s.is_empty() {
                        *v = Value::String(self.resolve(rel, &tip, &s)?);
                    }
                }
            }
        }
        Ok(())
    }

    /// `checkRenderer` and `checkComponentFramework` of a page (components are left alone).
    fn skyline_page(
        &self,
        obj: &mut Map<String, Value>,
        path: &str,
        rel: &str,
    ) -> Result<(), CompileError> {
        let app = self.app;
        let renderer = obj.get("renderer");
        let skyline = renderer == Some(&json!("skyline"))
            || (app.get("renderer") == Some(&json!("skyline")) && renderer.is_none());
        // Nothing to do off skyline; and only pages (not components) are checked.
        if !skyline || !self.pages.iter().any(|p| p == path) {
            return Ok(());
        }
        if renderer == Some(&json!("skyline"))
            && app.get("lazyCodeLoading") != Some(&json!("requiredComponents"))
        {
            return Err(broken(
                rel,
                r#"its "renderer" is "skyline": app.json needs "lazyCodeLoading": "requiredComponents""#,
            ));
        }
        if obj.get("navigationStyle") == Some(&json!("default")) {
            return Err(broken(
                rel,
                r#"a skyline page needs "navigationStyle": "custom", not "default""#,
            ));
        }
        let custom = match obj.get("navigationStyle") {
            Some(v) if truthy(Some(v)) => v == "custom",
            _ => app.get("window").and_then(|w| w.get("navigationStyle")) == Some(&json!("custom")),
        };
        let bar = [
            "navigationBarTitleText",
            "navigationBarTextStyle",
            "navigationBarBackgroundColor",
        ]
        .iter()
        .any(|k| truthy(obj.get(*k)));
        if !custom && bar {
            return Err(broken(
                rel,
                r#"a skyline page with a navigation bar setting needs "navigationStyle": "custom""#,
            ));
        }
        let scroll = match obj.get("disableScroll") {
            None | Some(Value::Null) => json!(true),
            Some(v) => v.clone(),
        };
        obj.insert("disableScroll".into(), scroll);
        obj.insert("navigationStyle".into(), json!("custom"));
        let framework = obj.get("componentFramework");
        let glass = framework == Some(&json!("glass-easel"))
            || (app.get("componentFramework") == Some(&json!("glass-easel"))
                && framework.is_none());
        if !glass {
            return Err(broken(
                rel,
                r#"a skyline page needs "componentFramework": "glass-easel" (in the page or app.json)"#,
            ));
        }
        Ok(())
    }

    /// `obj` as the walk sees it: app.json's global components appended to a page's or
    /// component's own (miniprogram-ci's `spreadUsingComponent`), except under `miniprogram_npm`
    /// and in independent subpackages.
    fn spread(&self, obj: &mut Map<String, Value>, path: &str) {
        if path.contains("miniprogram_npm") || self.independent(path) {
            return;
        }
        let Some(Value::Object(global)) = self.app.get("usingComponents") else {
            return;
        };
        if global.is_empty() {
            return;
        }
        let slot = obj.entry("usingComponents").or_insert_with(|| json!({}));
        let Value::Object(using) = slot else { return };
        for k in js_key_order(global) {
            if truthy(using.get(k)) {
                continue;
            }
            let o = global[k].as_str().unwrap_or_default();
            let v = if o.starts_with('/') || o.starts_with("plugin://") {
                o.to_owned()
            } else {
                let r = relative(dirname(path), o);
                if r.starts_with('.') {
                    r
                } else {
                    format!("./{r}")
                }
            };
            using.insert(k.clone(), Value::String(v));
        }
    }

    fn independent(&self, path: &str) -> bool {
        self.app
            .get("subPackages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|s| {
                s.get("root")
                    .and_then(Value::as_str)
                    .is_some_and(|r| path.starts_with(r))
            })
            .is_some_and(|s| s.get("independent") == Some(&json!(true)))
    }
}

/// The components a page or component uses, in the order the walk follows them.
fn uses(obj: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(Value::Object(using)) = obj.get("usingComponents") {
        for k in js_key_order(using) {
            if let Some(s) = using[k].as_str() {
                out.push(s.to_owned());
            }
        }
    }
    if let Some(Value::Object(generics)) = obj.get("componentGenerics") {
        for k in js_key_order(generics) {
            if let Some(d) = generics[k].get("default").and_then(Value::as_str) {
                if !d.is_empty() {
                    out.push(d.to_owned());
                }
            }
        }
    }
    out
}

/// `resolvePath`: a value as a root-relative path, from the file (page path or `app.json`) it is in.
fn resolve_path(from: &str, value: &str) -> String {
    match value.strip_prefix('/') {
        Some(abs) => normalize(abs),
        None => join(dirname(from), value),
    }
}

/// The walk's result: pages and components with their JSON, each in first-reached order.
#[derive(Debug, Default)]
pub struct Walked {
    /// (page path, JSON as packed).
    pub pages: Vec<(String, Map<String, Value>)>,
    /// (component path, JSON as packed).
    pub comps: Vec<(String, Map<String, Value>)>,
}

struct Walker<'p, 'a> {
    p: &'p Project<'a>,
    out: Walked,
    seen: BTreeSet<String>,
}

impl Walker<'_, '_> {
    fn follow(&mut self, from: &str, obj: &Map<String, Value>) -> Result<(), CompileError> {
        for v in uses(obj) {
            if is_plugin(&v) {
                continue;
            }
            self.comp(&resolve_path(from, &v), &v, from)?;
        }
        Ok(())
    }

    fn comp(&mut self, path: &str, written: &str, from: &str) -> Result<(), CompileError> {
        if path.starts_with("miniprogram_npm/") {
            let libs = self.p.extended_libs(from)?;
            if libs
                .iter()
                .any(|l| path.starts_with(&format!("miniprogram_npm/{l}")))
            {
                return Ok(());
            }
        }
        if !self.seen.insert(path.to_owned()) {
            return Ok(());
        }
        if !self.p.has(&format!("{path}.json")) {
            let file = if from == "app.json" {
                from.to_owned()
            } else {
                format!("{from}.json")
            };
            return Err(broken(
                &file,
                format!("component {written:?}: {path}.json does not exist"),
            ));
        }
        let packed = self.p.page_json(path)?;
        let mut walked = packed.clone();
        self.p.spread(&mut walked, path);
        self.out.comps.push((path.to_owned(), packed));
        self.follow(path, &walked)
    }
}

/// Walks the project from app.json as miniprogram-ci's summer compiler does (see the module docs).
pub fn walk(p: &Project<'_>) -> Result<Walked, CompileError> {
    let mut w = Walker {
        p,
        out: Walked::default(),
        seen: BTreeSet::new(),
    };
    let mut pages_seen = BTreeSet::new();
    for page in p.pages {
        if is_plugin(page) || !pages_seen.insert(page.clone()) {
            continue;
        }
        let packed = p.page_json(page)?;
        let mut walked = packed.clone();
        p.spread(&mut walked, page);
        w.out.pages.push((page.clone(), packed));
        w.follow(page, &walked)?;
    }
    w.follow("app.json", &{
        let mut only_using = Map::new();
        if let Some(u) = p.app.get("usingComponents") {
            only_using.insert("usingComponents".into(), u.clone());
        }
        only_using
    })?;
    if truthy(p.app.get("tabBar").and_then(|t| t.get("custom")))
        && p.has("custom-tab-bar/index.json")
    {
        w.comp("custom-tab-bar/index", "custom-tab-bar/index", "app.json")?;
    }
    if truthy(p.app.get("appBar")) && p.has("app-bar/index.json") {
        w.comp("app-bar/index", "app-bar/index", "app.json")?;
    }
    if let Some(card) = p.app.get("accountCardPackage") {
        let root = card.get("root").and_then(Value::as_str).unwrap_or_default();
        for c in card
            .get("cardList")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let cp = c
                .get("componentPath")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let path = join(root, cp);
            w.comp(&path, &path, "app.json")?;
        }
    }
    skyline_components(&mut w.out)?;
    Ok(w.out)
}

/// `addSkylineRendererToComponents`: components reachable from pages whose own JSON says
/// `"renderer": "skyline"` get that renderer too.
fn skyline_components(out: &mut Walked) -> Result<(), CompileError> {
    /// The official tool's queue is a JavaScript `Set`: first in, first out, each key once.
    #[derive(Default)]
    struct Queue {
        order: std::collections::VecDeque<String>,
        queued: BTreeSet<String>,
        visited: BTreeSet<String>,
    }
    fn deps(key: &str, obj: &Map<String, Value>, q: &mut Queue) {
        let mut add = |v: &str| {
            let s = match v.strip_prefix('/') {
                Some(abs) => format!("{abs}.json"),
                None => join(dirname(key), &format!("{v}.json")),
            };
            if !q.visited.contains(&s) && q.queued.insert(s.clone()) {
                q.order.push_back(s);
            }
        };
        if let Some(Value::Object(u)) = obj.get("usingComponents") {
            for k in js_key_order(u) {
                if let Some(v) = u[k].as_str() {
                    add(v);
                }
            }
        }
        if let Some(Value::Object(g)) = obj.get("componentGenerics") {
            for k in js_key_order(g) {
                if let Some(d) = g[k].get("default").and_then(Value::as_str) {
                    add(d);
                }
            }
        }
    }
    let mut q = Queue::default();
    for (page, obj) in &out.pages {
        if obj.get("renderer") == Some(&json!("skyline")) {
            deps(&format!("{page}.json"), obj, &mut q);
        }
    }
    let index: std::collections::BTreeMap<String, usize> = out
        .comps
        .iter()
        .enumerate()
        .map(|(i, (c, _))| (format!("{c}.json"), i))
        .collect();
    while let Some(key) = q.order.pop_front() {
        q.queued.remove(&key);
        q.visited.insert(key.clone());
        let Some(&i) = index.get(&key) else {
            continue;
        };
        let obj = &mut out.comps[i].1;
        match obj.get("renderer").and_then(Value::as_str) {
            Some("xr-frame") => continue,
            Some("webview") => {
                return Err(broken(
                    &key,
                    r#"the component is configured with "renderer": "webview", but is used in skyline pages"#,
                ))
            }
            _ => {}
        }
        obj.insert("renderer".into(), json!("skyline"));
        let snapshot = obj.clone();
        deps(&key, &snapshot, &mut q);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upload::project::Node;

    fn tree(names: &[&str]) -> Tree<'static> {
        names
            .iter()
            .enumerate()
            .map(|(index, n)| {
                (
                    (*n).to_owned(),
                    Node {
                        data: Some(b"{}"),
                        size: 2,
                        index,
                    },
                )
            })
            .collect()
    }

    fn comp(dir: &str) -> [String; 2] {
        [format!("{dir}.json"), format!("{dir}.wxml")]
    }

    #[test]
    fn resolution_follows_miniprogram_ci() {
        let mut names: Vec<String> = Vec::new();
        for c in [
            "components/c/index",
            "pages/a/local/x",
            "miniprogram_npm/lib/btn/index",
            "pages/miniprogram_npm/near/index",
        ] {
            names.extend(comp(c));
        }
        names.push("components/nowxml/index.json".into());
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let files = tree(&refs);
        let raw: Map<String, Value> =
            serde_json::from_str(r#"{"useExtendedLib":{"weui":true,"kbone":false}}"#).unwrap();
        let p = Project {
            files: &files,
            raw_app: &raw,
            app: &raw,
            ext_pages: &Map::new(),
            pages: &[],
            theme: None,
        };
        let r = |file: &str, v: &str| p.resolve(file, "tip", v);
        // a directory gets /index; a path as written stays
        assert_eq!(
            r("app.json", "/components/c").unwrap(),
            "/components/c/index"
        );
        assert_eq!(
            r("pages/a/index.json", "../../components/c/index").unwrap(),
            "../../components/c/index"
        );
        // a relative value without ./ is written back with it; npm names are searched upwards
        assert_eq!(r("pages/a/index.json", "local/x").unwrap(), "./local/x");
        assert_eq!(
            r("app.json", "components/c").unwrap(),
            "./components/c/index"
        );
        assert_eq!(
            r("pages/a/index.json", "lib/btn").unwrap(),
            "../../miniprogram_npm/lib/btn/index"
        );
        assert_eq!(
            r("pages/a/index.json", "near").unwrap(),
            "../miniprogram_npm/near/index"
        );
        // extended libraries are rewritten, never looked for; kbone is off here
        assert_eq!(
            r("app.json", "weui-miniprogram/badge/badge").unwrap(),
            "/miniprogram_npm/weui-miniprogram/badge/badge"
        );
        assert!(r("app.json", "miniprogram-element").is_err());
        // plugins pass; a component needs its .json and its .wxml
        assert_eq!(r("app.json", "plugin://p/x").unwrap(), "plugin://p/x");
        let e = r("app.json", "/components/nowxml/index").unwrap_err();
        assert!(e.to_string().contains("component not found"), "{e}");
        let unknown: Map<String, Value> =
            serde_json::from_str(r#"{"useExtendedLib":{"foo":true}}"#).unwrap();
        let q = Project {
            raw_app: &unknown,
            app: &unknown,
            ..p
        };
        assert!(q
            .resolve("app.json", "t", "/components/c")
            .unwrap_err()
            .to_string()
            .contains("foo is not allowed"));
    }
}
