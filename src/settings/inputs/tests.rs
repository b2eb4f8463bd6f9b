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
        let needs_flag = matches!(
            i.sources,
            Sources::All | Sources::NotInFile(_) | Sources::FlagOnly(_)
        );
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
            "private-key",
            "github-token"
        ]
    );
    assert!(
        in_file("review-items") && in_file("bump") && !in_file("config") && !in_file("verbose")
    );
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
