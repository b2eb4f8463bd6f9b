//! The checks miniprogram-ci 2.1.42 makes on app.json before it packs anything
//! (`corecompiler/original/json/app/appJSON.js` `checkAppJSON` and `checkAppFields.js`), so the
//! native engine refuses what the official tool refuses (its errors 10005 and 10009) instead of
//! sending a package that references files it does not hold. Each check edits app.json the way
//! the tool does (roots and `workers` with a trailing `/`). Not made here: the JSON-schema
//! validation of field types and the plugin, functional-page, entrance and privacy-API checks.

use super::components::truthy;
use super::paths::normalize;
use super::project::{CompileError, Node, Tree};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

fn broken(detail: impl Into<String>) -> CompileError {
    CompileError::Broken {
        file: "app.json".into(),
        detail: detail.into(),
    }
}

/// getattr's defaults (the emulator and WeChat answer the same).
const MIN_TABS: usize = 2;
const MAX_TABS: usize = 5;
const MAX_CUSTOM_TABS: usize = 10;
const MAX_ICON_KB: usize = 40;
const ICON_EXTENSIONS: &[&str] = &[".png", ".jpg", ".jpeg"];

/// `checkPath`: a path value in app.json; `strict` refuses a leading `.` or `/` (icons may have them).
fn check_path(v: Option<&Value>, tip: &str, strict: bool) -> Result<String, CompileError> {
    let Some(Value::String(s)) = v else {
        return Err(broken(format!("{tip} field needs to be string")));
    };
    let bad = |why: &str| Err(broken(format!("{tip}: {s:?} {why}")));
    if s.is_empty() {
        return bad("cannot be ''");
    }
    if s.contains('\\') {
        return bad("should not contain \\");
    }
    if s.contains("//") {
        return bad("should not contain //");
    }
    if strict && s.starts_with('.') {
        return bad("should not begin with '.'");
    }
    if strict && s.starts_with('/') {
        return bad("should not begin with '/'");
    }
    if s.starts_with(' ') {
        return bad("should not begin with ' '");
    }
    if s.contains("../") || s.ends_with("/..") {
        return bad("should not contain ../");
    }
    Ok(s.clone())
}

struct Files<'a>(&'a Tree<'a>);

impl Files<'_> {
    fn file(&self, p: &str) -> Option<&Node<'_>> {
        self.0.get(&normalize(p))
    }

    fn dir(&self, p: &str) -> bool {
        let prefix = format!("{}/", normalize(p));
        prefix != "/"
            && self
                .0
                .range(prefix.clone()..)
                .next()
                .is_some_and(|(k, _)| k.starts_with(&prefix))
    }

    fn page(&self, page: &str, tip: &str) -> Result<(), CompileError> {
        for ext in ["wxml", "js"] {
            if self.file(&format!("{page}.{ext}")).is_none() {
                return Err(CompileError::MissingPage {
                    page: page.to_owned(),
                    missing: format!("{page}.{ext}"),
                    tip: tip.to_owned(),
                });
            }
        }
        Ok(())
    }
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// Checks (and adjusts) app.json, whose `subpackages` has already become `subPackages`.
/// `files` are the files under the mini program root.
pub fn check_app(app: &mut Map<String, Value>, files: &Tree<'_>) -> Result<(), CompileError> {
    let f = Files(files);
    // Main package pages.
    let mut seen = std::collections::BTreeSet::new();
    // (The field types were checked first: schema::check_app.)
    if let Some(Value::Array(pages)) = app.get("pages") {
        for (i, p) in pages.iter().enumerate() {
            let tip = format!(r#"["pages"][{i}]"#);
            let p = check_path(Some(p), &tip, true)?;
            if !seen.insert(p.clone()) {
                return Err(broken(format!(r#""{p}" is repeated in ["pages"]"#)));
            }
            f.page(&p, &tip)?;
        }
    }
    // Subpackages.
    if let Some(Value::Array(subs)) = app.get_mut("subPackages") {
        let mut errors = Vec::new();
        let (mut roots, mut names) = (BTreeMap::new(), BTreeMap::new());
        for (i, sub) in subs.iter_mut().enumerate() {
            let tip = format!(r#"["subPackages"][{i}]"#);
            if let Some(r) = sub
                .get("root")
                .and_then(Value::as_str)
                .filter(|r| r.starts_with('/'))
            {
                return Err(CompileError::RootSlash(r.to_owned()));
            }
            let root = check_path(sub.get("root"), &format!(r#"{tip}["root"]"#), true)?;
            if root == "__APP__" {
                errors.push(format!(r#"{tip}["root"] cannot be __APP__"#));
                continue;
            }
            if let Some(name) = sub
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
            {
                if name == "__APP__" {
                    errors.push(format!(r#"{tip}["name"] cannot be __APP__"#));
                    continue;
                }
                if let Some(other) = names.insert(name.to_owned(), tip.clone()) {
                    errors.push(format!(r#"{tip} and {other} have the same "name""#));
                    continue;
                }
            }
            let slashed = format!("{}/", normalize(&root));
            sub["root"] = Value::String(slashed.clone());
            if let Some(other) = roots.insert(slashed.clone(), tip.clone()) {
                errors.push(format!(r#"{tip} and {other} have the same "root""#));
                continue;
            }
            if !f.dir(&slashed) {
                errors.push(format!(
                    r#"{tip}["root"] field needs to be Directory ({slashed} does not exist)"#
                ));
                continue;
            }
            let mut seen = std::collections::BTreeSet::new();
            for (j, p) in sub
                .get("pages")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let ptip = format!(r#"{tip}["pages"][{j}]"#);
                let p = check_path(Some(p), &ptip, true)?;
                let full = normalize(&format!("{slashed}{p}"));
                if seen.insert(full.clone()) {
                    f.page(&full, &ptip)?;
                } else {
                    errors.push(format!(r#""{p}" is repeated in {tip}"#));
                }
            }
        }
        if !errors.is_empty() {
            return Err(broken(errors.join("; ")));
        }
        let all: Vec<String> = subs
            .iter()
            .filter_map(|s| s.get("root").and_then(Value::as_str))
            .map(|r| format!("/{r}"))
            .collect();
        for (i, a) in all.iter().enumerate() {
            if let Some(j) = all
                .iter()
                .enumerate()
                .rposition(|(j, b)| j != i && a.starts_with(b.as_str()))
            {
                errors.push(format!(r#"["subPackages"][{j}]["root"] should not contain ["subPackages"][{i}]["root"]"#));
            }
        }
        if !errors.is_empty() {
            return Err(broken(errors.join("; ")));
        }
    }
    // The tab bar.
    if let Some(list) = app
        .get("tabBar")
        .and_then(|t| t.get("list"))
        .and_then(Value::as_array)
    {
        let tab = &app["tabBar"];
        if list.len() < MIN_TABS {
            return Err(broken(format!(
                r#"["tabBar"]["list"] must contain at least {MIN_TABS} items"#
            )));
        }
        let max = if truthy(tab.get("custom")) {
            MAX_CUSTOM_TABS
        } else {
            MAX_TABS
        };
        if list.len() > max {
            return Err(broken(format!(
                r#"["tabBar"]["list"] cannot contain more than {max} items"#
            )));
        }
        let mut errors = Vec::new();
        for (i, item) in list.iter().enumerate() {
            let tip = format!(r#"["tabBar"]["list"][{i}]"#);
            let path = check_path(item.get("pagePath"), &format!(r#"{tip}["pagePath"]"#), true)?;
            if path.contains('?') || path.contains('.') {
                errors.push(format!(
                    r#"{tip}["pagePath"]: {path:?} should not contain ? or ."#
                ));
            }
            if let Some(j) = list[..i]
                .iter()
                .position(|o| o.get("pagePath") == item.get("pagePath"))
            {
                errors.push(format!(
                    r#"{tip}["pagePath"] is the same as ["tabBar"]["list"][{j}]["pagePath"]"#
                ));
            }
            for key in ["iconPath", "selectedIconPath"] {
                if !truthy(item.get(key)) {
                    continue;
                }
                let icon = check_path(item.get(key), &format!(r#"{tip}["{key}"]"#), false)?;
                match f.file(&icon) {
                    None if f.dir(&icon) => errors.push(format!(
                        r#"{tip}["{key}"]: "{icon}" is a directory, not a file"#
                    )),
                    None => errors.push(format!(r#"{tip}["{key}"]: "{icon}" not found"#)),
                    Some(b) => {
                        if b.size > (MAX_ICON_KB * 1024) as u64 {
                            errors.push(format!(
                                r#"{tip}["{key}"]: "{icon}" is larger than {MAX_ICON_KB} KB"#
                            ));
                        }
                        let ext = icon
                            .rsplit_once('.')
                            .map(|(_, e)| format!(".{e}"))
                            .unwrap_or_default();
                        if !ICON_EXTENSIONS.contains(&ext.as_str())
                            || icon
                                .rsplit('/')
                                .next()
                                .is_some_and(|b| b.starts_with('.') && b.matches('.').count() == 1)
                        {
                            errors.push(format!(
                                r#"{tip}["{key}"]: "{icon}" must be .png, .jpg or .jpeg"#
                            ));
                        }
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(broken(errors.join("; ")));
        }
    }
    // Workers.
    if let Some(w) = app.get("workers") {
        if w == "" {
            return Err(broken(r#"["workers"] field needs to be Directory"#));
        }
        let path = match w {
            Value::Object(o) => o.get("path"),
            other => Some(other),
        };
        let path = check_path(path, r#"["workers"]"#, true)?;
        if !f.dir(&path) {
            return Err(broken(format!(
                r#"["workers"] field needs to be Directory ({path} does not exist)"#
            )));
        }
        let slashed = Value::String(format!("{}/", normalize(&path)));
        match app.get_mut("workers") {
            Some(Value::Object(o)) => {
                o.insert("path".into(), slashed);
            }
            Some(slot) => *slot = slashed,
            None => {}
        }
    }
    if let Some(p) = app.get("openLocationPagePath") {
        let p = check_path(Some(p), r#"["openLocationPagePath"]"#, true)?;
        f.page(&p, r#"["openLocationPagePath"]"#)?;
    }
    if let Some(c) = app.get("openDataContext") {
        let c = check_path(Some(c), r#"["openDataContext"]"#, true)?;
        if !f.dir(&c) {
            return Err(broken(format!(
                r#"["openDataContext"] field needs to be Directory ({c} does not exist)"#
            )));
        }
        if f.file(&format!("{c}/index.js")).is_none() {
            return Err(broken(format!(
                r#"["openDataContext"] could not find the corresponding file: "{c}/index.js""#
            )));
        }
        app.insert(
            "openDataContext".into(),
            Value::String(format!("{}/", normalize(&c))),
        );
    }
    if let Some(t) = app.get("themeLocation").and_then(Value::as_str) {
        if f.file(t).is_none() {
            return Err(broken(format!(r#"["themeLocation"]: "{t}" not found"#)));
        }
    }
    Ok(())
}

/// The checks that come after the component paths are resolved.
pub fn check_app_late(app: &Map<String, Value>) -> Result<(), CompileError> {
    let main = strings(app.get("pages"));
    let subs: Vec<&Value> = app
        .get("subPackages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    let mut all: Vec<(String, String, String)> = main
        .iter()
        .map(|p| ((*p).to_owned(), "__APP__".to_owned(), "__APP__".to_owned()))
        .collect();
    for s in &subs {
        let root = s.get("root").and_then(Value::as_str).unwrap_or_default();
        let name = s.get("name").and_then(Value::as_str).unwrap_or_default();
        for p in strings(s.get("pages")) {
            all.push((
                normalize(&format!("{root}{p}")),
                root.to_owned(),
                name.to_owned(),
            ));
        }
    }
    if let Some(entry) = app.get("entryPagePath") {
        if truthy(Some(entry)) {
            let e = check_path(Some(entry), r#"["entryPagePath"]"#, true)?;
            if !all.iter().any(|(p, _, _)| *p == e) {
                return Err(broken(format!(
                    r#"["entryPagePath"]: "{e}" is not a page in pages or subPackages"#
                )));
            }
        }
    }
    // Checked only when there are subpackages, as the official tool does.
    if let (Some(Value::Object(rules)), Some(_)) = (app.get("preloadRule"), app.get("subPackages"))
    {
        let mut errors = Vec::new();
        for (page, rule) in rules {
            if !all.iter().any(|(p, _, _)| p == page) && !page.contains("__plugin__/") {
                errors.push(format!(
                    r#"["preloadRule"]["{page}"]: not a page in pages or subPackages"#
                ));
                continue;
            }
            for (i, pkg) in strings(rule.get("packages")).into_iter().enumerate() {
                if pkg == "__APP__" || all.iter().any(|(_, _, n)| !n.is_empty() && n == pkg) {
                    continue;
                }
                let slashed = normalize(&format!("{pkg}/")) + "/";
                if !all.iter().any(|(_, r, _)| *r == slashed) {
                    errors.push(format!(r#"["preloadRule"]["{page}"]["packages"][{i}]: {slashed} not found (no subpackage has that root or name)"#));
                }
            }
        }
        if !errors.is_empty() {
            return Err(broken(errors.join("; ")));
        }
    }
    if let Some(tab) = app.get("tabBar") {
        let mut errors = Vec::new();
        for (i, item) in tab
            .get("list")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let p = item
                .get("pagePath")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !main.contains(&p) {
                errors.push(format!(
                    r#"["tabBar"]["list"][{i}]["pagePath"]: "{p}" needs to be in ["pages"]"#
                ));
            }
        }
        if !errors.is_empty() {
            return Err(broken(errors.join("; ")));
        }
    }
    let mut errors = Vec::new();
    for (i, s) in subs.iter().enumerate() {
        let root = s.get("root").and_then(Value::as_str).unwrap_or_default();
        for (j, p) in main.iter().enumerate() {
            if p.starts_with(root) {
                errors.push(format!(
                    r#"["pages"][{j}]: "{p}" should not be in ["subPackages"][{i}]"#
                ));
            }
        }
    }
    if !errors.is_empty() {
        return Err(broken(errors.join("; ")));
    }
    if app.get("renderer") == Some(&Value::String("skyline".into())) {
        if app.get("lazyCodeLoading") != Some(&Value::String("requiredComponents".into())) {
            return Err(broken(
                r#""renderer" is "skyline": add "lazyCodeLoading": "requiredComponents""#,
            ));
        }
        match app.get("rendererOptions") {
            None => {
                return Err(broken(
                    r#""renderer" is "skyline": add "rendererOptions" with a "skyline" entry"#,
                ))
            }
            Some(o) if o.get("skyline").is_none() => {
                return Err(broken(
                    r#""renderer" is "skyline": add a "skyline" entry to "rendererOptions""#,
                ))
            }
            _ => {}
        }
    }
    Ok(())
}
