//! The input table against clap's grammar and action.yml: one definition, checked everywhere.

use super::*;
use clap::CommandFactory;
use std::collections::{BTreeMap, BTreeSet};

/// Every long flag of every command (globals included), with a command that has it.
fn clap_flags() -> BTreeMap<String, String> {
    fn walk(cmd: &clap::Command, path: &str, out: &mut BTreeMap<String, String>) {
        for a in cmd.get_arguments() {
            if let Some(l) = a.get_long() {
                if l != "help" && l != "version" {
                    out.entry(l.to_owned()).or_insert_with(|| path.to_owned());
                }
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }
    let mut out = BTreeMap::new();
    walk(&crate::cli::Cli::command(), "mp-release", &mut out);
    out
}

/// action.yml's inputs, and the `INPUT_*` names its run step maps each one to.
fn action_yml() -> (BTreeSet<String>, BTreeMap<String, String>) {
    let text = include_str!("../../../action.yml");
    let doc: serde_json::Value = serde_norway::from_str(text).unwrap();
    let inputs = doc["inputs"].as_object().unwrap().keys().cloned().collect();
    let mut mapped = BTreeMap::new();
    for step in doc["runs"]["steps"].as_array().unwrap() {
        for (k, v) in step["env"].as_object().into_iter().flatten() {
            if let Some(name) = v
                .as_str()
                .and_then(|v| v.strip_prefix("${{ inputs."))
                .and_then(|v| v.strip_suffix(" }}"))
            {
                mapped.insert(name.to_owned(), k.clone());
            }
        }
    }
    (inputs, mapped)
}

/// Every way the table and the other places disagree.
fn mismatches(
    table: &[Input],
    flags: &BTreeMap<String, String>,
    action: &BTreeSet<String>,
    mapped: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for i in table {
        if !seen.insert(i.name) {
            out.push(format!("{}: defined twice in the table", i.name));
        }
        let needs_flag = matches!(i.sources, Sources::All | Sources::NotInFile(_));
        if needs_flag && !flags.contains_key(i.name) {
            out.push(format!(
                "{}: in the table but no command has --{}",
                i.name, i.name
            ));
        }
        if !needs_flag && flags.contains_key(i.name) {
            out.push(format!(
                "{}: the table says it is not a flag, but clap has --{}",
                i.name, i.name
            ));
        }
        if i.action != action.contains(i.name) {
            out.push(format!(
                "{}: the table says action.yml {} it, action.yml {}",
                i.name,
                if i.action {
                    "declares"
                } else {
                    "does not declare"
                },
                if action.contains(i.name) {
                    "does"
                } else {
                    "does not"
                }
            ));
        }
        if i.action && i.sources != Sources::ActionOnly {
            let want = format!("INPUT_{}", i.name.to_ascii_uppercase().replace('-', "_"));
            if mapped.get(i.name) != Some(&want) {
                out.push(format!(
                    "{}: action.yml must map it as {want}: ${{{{ inputs.{} }}}}",
                    i.name, i.name
                ));
            }
        }
    }
    for (flag, cmd) in flags {
        if !table.iter().any(|i| i.name == flag) {
            out.push(format!(
                "--{flag} ({cmd}): a flag that is not in the input table"
            ));
        }
    }
    for a in action {
        if !table.iter().any(|i| i.name == a) {
            out.push(format!(
                "{a}: an action.yml input that is not in the input table"
            ));
        }
    }
    out
}

#[test]
fn the_table_matches_clap_config_and_action_yml() {
    let flags = clap_flags();
    let (action, mapped) = action_yml();
    let found = mismatches(INPUTS, &flags, &action, &mapped);
    assert!(found.is_empty(), "{}", found.join("\n"));
    // ...and the check bites: an input added to clap and action.yml but not to the table, or to
    // the table alone, or a secret left out, is reported.
    let without: Vec<Input> = INPUTS
        .iter()
        .copied()
        .filter(|i| i.name != "speedup")
        .collect();
    let found = mismatches(&without, &flags, &action, &mapped);
    assert!(
        found
            .iter()
            .any(|m| m.contains("--speedup") && m.contains("not in the input table")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|m| m.starts_with("speedup: an action.yml input")),
        "{found:?}"
    );
    let mut extra = INPUTS.to_vec();
    extra.push(i("bogus", Kind::Bool, true));
    let found = mismatches(&extra, &flags, &action, &mapped);
    assert!(
        found.iter().any(|m| m.contains("no command has --bogus")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|m| m.contains("bogus: the table says action.yml declares it")),
        "{found:?}"
    );
    let mut unmapped = mapped;
    unmapped.remove("github-token");
    let found = mismatches(INPUTS, &flags, &action, &unmapped);
    assert!(
        found
            .iter()
            .any(|m| m.starts_with("github-token: action.yml must map it")),
        "{found:?}"
    );
}

#[test]
fn derived_lists() {
    let secrets: Vec<&str> = secrets().collect();
    assert_eq!(
        secrets,
        [
            "access-token",
            "component-access-token",
            "component-secret",
            "component-verify-ticket",
            "authorizer-refresh-token",
            "app-secret",
            "notify-wecom",
            "notify-dingtalk",
            "notify-dingtalk-secret",
            "notify-feishu",
            "notify-feishu-secret",
            "notify-slack",
            "private-key",
            "push-token",
            "encoding-aes-key",
            "github-token"
        ]
    );
    assert!(in_file("review-items") && in_file("bump") && !in_file("config") && in_file("verbose"));
    assert!(in_env("sandbox") && in_env("to") && in_env("list") && !in_env("review-items"));
}

#[test]
fn config_values_of_the_wrong_type_are_named() {
    use serde_json::json;
    let gray = get("gray-percentage").unwrap();
    assert_eq!(check_file_value(gray, &json!(30)), Ok(()));
    assert_eq!(check_file_value(gray, &json!("30%")), Ok(()));
    assert_eq!(
        check_file_value(gray, &json!([30])).unwrap_err(),
        "expected a number, got a list"
    );
    let dry = get("dry-run").unwrap();
    assert!(check_file_value(dry, &json!([true]))
        .unwrap_err()
        .contains("true or false"));
    assert!(check_file_value(get("publish").unwrap(), &json!(["never"])).is_err());
    assert!(check_file_value(get("write").unwrap(), &json!(["a.json", "b.json"])).is_ok());
    assert!(check_file_value(get("write").unwrap(), &json!([{"a": 1}])).is_err());
    assert!(check_file_value(get("ext-json").unwrap(), &json!({"extAppid": "wx1"})).is_ok());
    assert!(check_file_value(get("review-items").unwrap(), &json!("x")).is_err());
}

/// The help text clap shows for each long flag (the first command that has it).
fn clap_help() -> BTreeMap<String, String> {
    fn walk(cmd: &clap::Command, out: &mut BTreeMap<String, String>) {
        for a in cmd.get_arguments() {
            if let (Some(l), Some(h)) = (a.get_long(), a.get_help()) {
                let text = h
                    .to_string()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                out.entry(l.to_owned()).or_insert(text);
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, out);
        }
    }
    let mut out = BTreeMap::new();
    walk(&crate::cli::Cli::command(), &mut out);
    out
}

fn repo_file(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

/// A YAML double-quoted scalar.
fn yaml_quoted(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// action.yml with every input's description set to `want[name]` (the lines
/// `  <name>:` / `    description: "…"` are rewritten in place; the rest is kept byte for byte).
fn with_descriptions(text: &str, section: &str, want: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut in_section = false;
    let mut current: Option<String> = None;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end();
        if !bare.starts_with(' ') && !bare.is_empty() {
            in_section = bare == format!("{section}:");
            current = None;
        } else if in_section && bare.starts_with("  ") && !bare.starts_with("   ") {
            current = bare.trim().strip_suffix(':').map(str::to_owned);
        } else if let (true, Some(name)) = (in_section, &current) {
            if let (Some(_), Some(d)) = (bare.strip_prefix("    description: "), want.get(name)) {
                out.push_str(&format!("    description: {}\n", yaml_quoted(d)));
                continue;
            }
        }
        out.push_str(line);
    }
    out
}

/// The Markdown tables of docs/action.md, made from action.yml.
fn tables(doc: &serde_json::Value) -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut t = String::from("| input | default | description |\n|---|---|---|\n");
    for (name, v) in doc["inputs"].as_object().unwrap() {
        let default = v["default"]
            .as_str()
            .map_or(String::new(), |d| format!("`{d}`"));
        let d = v["description"].as_str().unwrap_or_default();
        t.push_str(&format!("| `{name}` | {default} | {} |\n", cell(d)));
    }
    t.push_str("\n| output | description |\n|---|---|\n");
    for (name, v) in doc["outputs"].as_object().unwrap() {
        let d = v["description"].as_str().unwrap_or_default();
        t.push_str(&format!("| `{name}` | {} |\n", cell(d)));
    }
    t
}

const TABLES_START: &str =
    "<!-- inputs and outputs: made from action.yml by the tests; do not edit by hand -->\n";
const TABLES_END: &str = "<!-- end of inputs and outputs -->";

/// action.yml's descriptions are clap's help (so the defaults they name are the CLI's) and the
/// output table's; docs/action.md's tables are action.yml's. `MP_RELEASE_BLESS=1` rewrites both
/// files instead of failing.
#[test]
fn action_yml_and_the_docs_tables_agree_with_clap_and_the_output_table() {
    let bless = std::env::var("MP_RELEASE_BLESS").is_ok_and(|v| v == "1");
    let help = clap_help();
    let mut problems = Vec::new();
    let yml_path = repo_file("action.yml");
    let text = std::fs::read_to_string(&yml_path).unwrap();
    let want_inputs: BTreeMap<String, String> = INPUTS
        .iter()
        .filter(|i| i.action)
        .filter_map(|i| help.get(i.name).map(|h| (i.name.to_owned(), h.clone())))
        .collect();
    let want_outputs: BTreeMap<String, String> = crate::output::names::OUTPUTS
        .iter()
        .filter(|o| o.action)
        .map(|o| (o.name.to_owned(), o.description.to_owned()))
        .collect();
    let fixed = with_descriptions(
        &with_descriptions(&text, "inputs", &want_inputs),
        "outputs",
        &want_outputs,
    );
    let doc: serde_json::Value = serde_norway::from_str(&fixed).unwrap();
    for (name, v) in doc["inputs"].as_object().unwrap() {
        let d = v["description"].as_str().unwrap_or_default();
        if d.trim().is_empty() || d.contains("TODO") {
            problems.push(format!("input {name}: no real description"));
        }
    }
    let declared: BTreeSet<String> = doc["outputs"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let table: BTreeSet<String> = want_outputs.keys().cloned().collect();
    for o in declared.symmetric_difference(&table) {
        problems.push(format!(
            "output {o}: in {} only",
            if declared.contains(o) {
                "action.yml"
            } else {
                "the output table"
            }
        ));
    }
    for (name, v) in doc["outputs"].as_object().unwrap() {
        let value = v["value"].as_str().unwrap_or_default();
        if !value.contains(&format!("steps.run.outputs.{name} ")) {
            problems.push(format!(
                "output {name}: its value must read steps.run.outputs.{name}"
            ));
        }
    }
    let md_path = repo_file("docs/action.md");
    let md = std::fs::read_to_string(&md_path).unwrap();
    let generated = tables(&doc);
    let md_fixed = match (md.find(TABLES_START), md.find(TABLES_END)) {
        (Some(a), Some(b)) if a < b => format!("{}{TABLES_START}{generated}{}", &md[..a], &md[b..]),
        _ => {
            problems.push(format!(
                "docs/action.md has no generated tables (the markers {TABLES_START:?} … {TABLES_END:?})"
            ));
            md.clone()
        }
    };
    if bless {
        std::fs::write(&yml_path, &fixed).unwrap();
        std::fs::write(&md_path, &md_fixed).unwrap();
    } else {
        if fixed != text {
            problems.push(
                "action.yml's descriptions differ from clap's help or the output table: rerun the tests with MP_RELEASE_BLESS=1 to rewrite them".into(),
            );
        }
        if md_fixed != md {
            problems.push(
                "docs/action.md's tables differ from action.yml: rerun the tests with MP_RELEASE_BLESS=1 to rewrite them".into(),
            );
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
