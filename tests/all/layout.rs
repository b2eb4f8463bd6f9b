//! The layout says what each part owns, and the parts do not lean on each other in circles: the
//! modules of the binary (src/<module>) and the parts of the application (src/app/<part>) form
//! graphs without cycles. Edges are read from the source: `crate::x` and `super::x` paths.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The names that follow `prefix` in the text (`crate::settings::x` → `settings`).
fn after(text: &str, prefix: &str) -> BTreeSet<String> {
    text.match_indices(prefix)
        .map(|(i, _)| {
            text[i + prefix.len()..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect::<String>()
        })
        .filter(|n| !n.is_empty())
        .collect()
}

/// A cycle in `graph`, if any (depth-first search with colours).
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_owned(), 1);
        path.push(n.to_owned());
        for m in graph.get(n).into_iter().flatten() {
            match state.get(m.as_str()) {
                Some(1) => {
                    let at = path.iter().position(|p| p == m).unwrap();
                    let mut c = path[at..].to_vec();
                    c.push(m.clone());
                    return Some(c);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(m, graph, state, path) {
                        return Some(c);
                    }
                }
            }
        }
        path.pop();
        state.insert(n.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        if !state.contains_key(n.as_str()) {
            if let Some(c) = visit(n, graph, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

fn graphs() -> (
    BTreeMap<String, BTreeSet<String>>,
    BTreeMap<String, BTreeSet<String>>,
) {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut top: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut app: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(&src).unwrap();
        let parts: Vec<String> = rel
            .components()
            .map(|c| {
                c.as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_owned()
            })
            .collect();
        let text = std::fs::read_to_string(&f).unwrap();
        // tests of a module may reach anywhere
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        let module = parts[0].clone();
        if module == "main" {
            continue;
        }
        let uses = after(text, "crate::");
        top.entry(module.clone())
            .or_default()
            .extend(uses.into_iter().filter(|u| *u != module));
        if module == "app" && parts.len() > 1 && parts[1] != "mod" {
            let part = parts[1].clone();
            let mut deps = after(text, "crate::app::");
            // `super::x` from src/app/x.rs names a sibling; from src/app/commands/y.rs, `super`
            // is commands itself
            if parts.len() == 2 {
                deps.extend(after(text, "super::"));
            }
            let is_part = |d: &str| {
                src.join("app").join(format!("{d}.rs")).exists() || src.join("app").join(d).is_dir()
            };
            deps.retain(|d| *d != part && is_part(d));
            app.entry(part).or_default().extend(deps);
        }
    }
    (top, app)
}

#[test]
fn no_import_circles() {
    let (top, app) = graphs();
    assert!(
        top.contains_key("adapters") && top.contains_key("settings"),
        "{top:?}"
    );
    assert!(
        app.contains_key("pipeline") && app.contains_key("commands"),
        "{app:?}"
    );
    assert!(
        app["commands"].contains("pipeline") && app["runner"].contains("calls"),
        "{app:?}"
    );
    assert_eq!(cycle(&top), None, "modules of the binary: {top:#?}");
    assert_eq!(cycle(&app), None, "parts of the application: {app:#?}");
    // adapters perform I/O for others: they never read settings
    assert!(
        !top["adapters"].contains("settings"),
        "{:?}",
        top["adapters"]
    );
    // and the check finds a circle when there is one
    let mut bent = top;
    bent.get_mut("output").unwrap().insert("settings".into());
    assert!(cycle(&bent).is_some());
}
