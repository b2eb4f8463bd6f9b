//! The docs are executable: every command in a `sh` block of README.md and docs/*.md runs here, in a
//! prepared checkout against the emulator, and must exit 0 (and print the version a comment
//! promises with `→`). Lines that are not mp-release commands are listed below with the reason
//! they are not run; a new example that is neither run nor listed fails the test. The YAML blocks
//! must parse, and the scenario in docs/emulator.md must load as a scenario.

use crate::helpers::*;
use std::path::PathBuf;

/// Lines of the docs' `sh` blocks that are not run here, and why.
const NOT_RUN: &[(&str, &str)] = &[
    ("scripts/test.sh", "the test command itself"),
    (
        "cargo install --locked --path .",
        "builds the same binary these tests run, for minutes",
    ),
    (
        "curl -X POST https://api.github.com/repos/<owner>/<repo>/dispatches \\",
        "GitHub cannot be reached; the payload is checked by the GitHub tests",
    ),
];

const DOCS: &[&str] = &[
    "README.md",
    "README.zh-CN.md",
    "docs/action.md",
    "docs/emulator.md",
    "docs/benchmarks.md",
    "docs/action.zh-CN.md",
    "docs/gating.md",
    "docs/gating.zh-CN.md",
    "docs/notifications.md",
    "docs/notifications.zh-CN.md",
    "docs/fleet.md",
    "docs/fleet.zh-CN.md",
    "docs/relay.md",
    "docs/relay.zh-CN.md",
    "docs/rollout.md",
    "docs/rollout.zh-CN.md",
    "docs/stats.md",
    "docs/stats.zh-CN.md",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// (file, block language, block text) of every fenced block.
fn blocks() -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for doc in DOCS {
        let Ok(text) = std::fs::read_to_string(root().join(doc)) else {
            continue;
        };
        let mut lines = text.lines();
        while let Some(l) = lines.next() {
            if let Some(lang) = l.trim_start().strip_prefix("```").filter(|r| !r.is_empty()) {
                let body: Vec<&str> = lines
                    .by_ref()
                    .take_while(|l| !l.trim_start().starts_with("```"))
                    .collect();
                out.push(((*doc).to_owned(), lang.trim().to_owned(), body.join("\n")));
            }
        }
    }
    out
}

/// Every command line of the `sh` blocks: (file, line).
fn commands() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (doc, lang, body) in blocks() {
        if lang != "sh" {
            continue;
        }
        let mut continued = false;
        for line in body.lines() {
            let was_continued = continued;
            continued = line.trim_end().ends_with('\\');
            let line = line.trim();
            if line.is_empty()
                || line.starts_with('#')
                || was_continued
                || line.starts_with("export ")
            {
                continue;
            }
            out.push((doc.clone(), line.to_owned()));
        }
    }
    out
}

/// A checkout the examples run in: git history with a tag, package.json, the project in `dist`,
/// the upload key, ext.json and the scenario of docs/emulator.md.
struct Checkout {
    repo: Repo,
    key: String,
}

fn checkout(scenario: &str) -> Checkout {
    let repo = Repo::new();
    repo.write(
        "package.json",
        "{\n  \"name\": \"shop\",\n  \"version\": \"1.2.3\"\n}\n",
    );
    repo.git(&["add", "package.json"]);
    repo.commit("chore: init")
        .tag("v1.2.3")
        .commit("fix: cart total");
    let fixtures = root().join("tests/fixtures/miniprogram-ci");
    copy_dir(
        &fixtures.join("sample-projects/sample"),
        &repo.path().join("dist"),
    );
    let key =
        std::fs::read_to_string(fixtures.join("keys/private.wx0123456789abcdef.key")).unwrap();
    repo.write("upload.key", &key);
    repo.write("ext.json", "{\"extAppid\": \"wx1234567890abcdef\"}");
    repo.write("scenario.yml", scenario);
    // A YAML block whose first line is `# file: NAME` is a file the examples after it use.
    for (_, lang, body) in blocks() {
        if let Some(name) = (lang == "yaml")
            .then(|| body.lines().next().and_then(|l| l.strip_prefix("# file: ")))
            .flatten()
        {
            repo.write(name.trim(), &body);
        }
    }
    Checkout { repo, key }
}

const APP: &str = "wx1234567890abcdef";
const PLATFORM: &str = "wxabcdef1234567890";
const DEV_APP: &str = "wx0123456789abcdef";

#[test]
fn every_command_in_the_docs_runs_as_documented() {
    let scenario = blocks()
        .into_iter()
        .find(|(doc, lang, _)| doc == "docs/emulator.md" && lang == "yaml")
        .map(|(_, _, b)| b)
        .expect("the scenario example");
    let public = std::fs::read_to_string(
        root().join("tests/fixtures/miniprogram-ci/keys/public.wx0123456789abcdef.pem"),
    )
    .unwrap();
    let cmds = commands();
    assert!(cmds.len() >= 10, "{cmds:?}");
    let mut ran = 0;
    for (doc, line) in cmds {
        let bare = line.split(" #").next().unwrap_or_default().trim();
        if NOT_RUN.iter().any(|(l, _)| *l == bare) {
            continue;
        }
        let line = line
            .strip_prefix("cargo run -- ")
            .map_or(line.clone(), |rest| format!("mp-release {rest}"));
        assert!(
            line.starts_with("mp-release"),
            "{doc}: `{line}` is neither run nor listed in NOT_RUN"
        );
        // A world per example: a platform, the app (live 1.4.2, its upload key) and a template.
        let mut w = mp_release_emulator::World::new(mp_release_emulator::Scenario::default());
        let ticket = w.add_platform(PLATFORM, "platform-secret-0123456789");
        let reg = w.add_app(mp_release_emulator::AppSpec {
            live_version: Some("1.4.2".into()),
            ..mp_release_emulator::AppSpec::authorized(APP, PLATFORM)
        });
        w.add_upload_key(APP, &public);
        // the platform's development mini program (template add), with the fixture key too; it
        // has been released before (a fleet's `apps: all` lists it, and a rollout needs a live
        // version to phase from)
        w.add_app(mp_release_emulator::AppSpec {
            dev_of: Some(PLATFORM.into()),
            live_version: Some("1.0.0".into()),
            ..mp_release_emulator::AppSpec::authorized(DEV_APP, PLATFORM)
        });
        w.add_upload_key(DEV_APP, &public);
        let template = w
            .add_template(
                PLATFORM,
                "wxd0d0d0d0d0d0d0d0",
                "1.5.0",
                &["pages/index/index"],
                4096,
            )
            .unwrap();
        let emu = mp_release_emulator::Emulator::start_with(w);
        let c = checkout(&scenario);
        c.repo
            .write("fleet.yml", &format!("template: {template}\napps: all\n"));
        let line = line.replace("--template-id 42", &format!("--template-id {template}"));
        let exe = assert_cmd::cargo::cargo_bin("mp-release");
        let script = line.replacen("mp-release", &format!("'{}'", exe.display()), 1);
        let trap = NetTrap::new();
        let serving =
            line.starts_with("mp-release emulator") || line.starts_with("mp-release relay");
        let script = if serving {
            // serve on a free port; once it has said where, stop it as a user would (SIGTERM) and
            // take its exit status
            format!(
                "{} > served.txt & pid=$!; for _ in $(seq 200); do grep -q '^url=' served.txt && break; sleep 0.05; done; \
                 kill -TERM $pid; wait $pid; status=$?; cat served.txt; exit $status",
                script
                    .split(" #")
                    .next()
                    .unwrap_or_default()
                    .replace("--port 8900", "--port 0")
                    .replace("--listen 127.0.0.1:8901", "--listen 127.0.0.1:0")
            )
        } else {
            script
        };
        let mut std_cmd = clean(std::process::Command::new("bash"), c.repo.path(), &trap);
        // a second mp-release on the line (`… && mp-release fleet report …`) is found on PATH
        #[allow(clippy::disallowed_methods)] // the tests pass the real PATH on, as helpers do
        let path = format!(
            "{}:{}",
            exe.parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        std_cmd
            .args(["-c", &script])
            .env("PATH", path)
            .env("UPLOAD_KEY", &c.key)
            .env("MP_RELEASE_COMPONENT_APPID", PLATFORM)
            .env("MP_RELEASE_COMPONENT_SECRET", "platform-secret-0123456789")
            .env("MP_RELEASE_COMPONENT_VERIFY_TICKET", &ticket)
            .env("MP_RELEASE_AUTHORIZER_REFRESH_TOKEN", &reg.refresh_token)
            .env("MP_RELEASE_APPID", APP)
            .env("MP_RELEASE_WECHAT_BASE_URL", emu.uri())
            .env("MP_RELEASE_UPLOAD_BASE_URL", emu.uri())
            .env("MP_RELEASE_VIRTUAL_CLOCK", "true")
            // the relay's (docs/relay.md exports them)
            .env("MP_RELEASE_PUSH_TOKEN", "docs-push-token")
            .env(
                "MP_RELEASE_ENCODING_AES_KEY",
                "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            )
            .env("MP_RELEASE_GITHUB_TOKEN", "docs-github-token");
        let out = std_cmd.output().unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(
            out.status.success(),
            "{doc}: `{line}` exited {:?}\n{stderr}",
            out.status.code()
        );
        if serving {
            assert!(
                stdout.starts_with("url=http://127.0.0.1:"),
                "{doc}: {stdout}"
            );
        }
        // `# 1.2.3 → 1.2.4-beta.0`: the promised version is the one reported
        if let Some(promised) = line.split('#').nth(1).and_then(|c| c.split('→').nth(1)) {
            let v = promised.split_whitespace().next().unwrap();
            assert!(
                stdout.contains(&format!("version={v}")),
                "{doc}: `{line}` promised {v}:\n{stdout}"
            );
        }
        assert_eq!(trap.connections(), 0, "{doc}: `{line}` reached the network");
        ran += 1;
    }
    assert!(ran >= 10, "ran {ran}");
}

#[test]
fn every_yaml_block_parses_and_the_scenario_loads() {
    let mut n = 0;
    for (doc, lang, body) in blocks() {
        if lang != "yaml" {
            continue;
        }
        let v: Result<serde_json::Value, _> = serde_norway::from_str(&body);
        assert!(
            v.is_ok(),
            "{doc}: a YAML block does not parse: {:?}\n{body}",
            v.err()
        );
        n += 1;
        if doc == "docs/emulator.md" {
            mp_release_emulator::Scenario::from_yaml(&body)
                .unwrap_or_else(|e| panic!("{doc}: {e}"));
        }
    }
    assert!(n >= 6, "{n} YAML blocks");
}

/// Every `with:` key the documented workflows give the Action is an input action.yml declares
/// (an undeclared one is silently dropped by the runner).
#[test]
fn documented_workflows_use_only_declared_inputs() {
    let action: serde_json::Value =
        serde_norway::from_str(&std::fs::read_to_string(root().join("action.yml")).unwrap())
            .unwrap();
    let declared: Vec<String> = action["inputs"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let mut checked = 0;
    for (doc, lang, body) in blocks() {
        if lang != "yaml" {
            continue;
        }
        let v: serde_json::Value = serde_norway::from_str(&body).unwrap();
        for job in v["jobs"].as_object().into_iter().flat_map(|j| j.values()) {
            for step in job["steps"].as_array().into_iter().flatten() {
                if !step["uses"]
                    .as_str()
                    .is_some_and(|u| u.contains("mp-release"))
                {
                    continue;
                }
                for key in step["with"].as_object().into_iter().flat_map(|w| w.keys()) {
                    assert!(
                        declared.contains(key),
                        "{doc}: `with: {key}` is not an input of action.yml"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 10, "{checked} inputs checked");
}

/// Every `--flag` the docs name is an input of the table (stale names in the docs fail here).
#[test]
fn flags_named_in_the_docs_exist() {
    let names: Vec<String> = crate::inputs::entries().into_iter().map(|e| e.0).collect();
    let mut seen = 0;
    for doc in DOCS {
        let Ok(text) = std::fs::read_to_string(root().join(doc)) else {
            continue;
        };
        for (at, _) in text.match_indices("--") {
            let name: String = text[at + 2..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '-')
                .collect();
            let before = text[..at].chars().last().unwrap_or(' ');
            // `--name` as a flag: after a space, backtick or bracket, a word of letters
            if name.len() < 2 || !matches!(before, ' ' | '`' | '(' | '[') || name.ends_with('-') {
                continue;
            }
            // clap's own flags, and other tools' flags the docs quote (cargo install --locked --path,
            // git tag --merged, cargo bench --bench, cargo build --release, cargo test --test)
            if [
                "help", "version", "locked", "path", "merged", "bench", "release", "test",
            ]
            .contains(&name.as_str())
            {
                continue;
            }
            assert!(
                names.contains(&name),
                "{doc}: --{name} is not an input of mp-release"
            );
            seen += 1;
        }
    }
    assert!(seen >= 20, "{seen}");
}

/// The Chinese docs are kept in step with the English ones: the same examples (every fenced
/// block, in order, byte for byte), and each links to the other.
#[test]
fn the_chinese_docs_carry_the_same_examples_and_link_both_ways() {
    let all = blocks();
    let of = |doc: &str| -> Vec<(String, String)> {
        all.iter()
            .filter(|(d, _, _)| d == doc)
            .map(|(_, l, b)| (l.clone(), b.clone()))
            .collect()
    };
    for (en, zh, zh_link, en_link) in [
        (
            "README.md",
            "README.zh-CN.md",
            "(README.zh-CN.md)",
            "(README.md)",
        ),
        (
            "docs/action.md",
            "docs/action.zh-CN.md",
            "(action.zh-CN.md)",
            "(action.md)",
        ),
        (
            "docs/rollout.md",
            "docs/rollout.zh-CN.md",
            "(rollout.zh-CN.md)",
            "(rollout.md)",
        ),
        (
            "docs/stats.md",
            "docs/stats.zh-CN.md",
            "(stats.zh-CN.md)",
            "(stats.md)",
        ),
    ] {
        let (e, z) = (of(en), of(zh));
        assert!(!z.is_empty(), "{zh} is missing or has no examples");
        for (i, pair) in e.iter().zip(z.iter()).enumerate() {
            assert_eq!(
                pair.0,
                pair.1,
                "example {} of {zh} differs from {en}'s: copy the English block",
                i + 1
            );
        }
        assert_eq!(
            e.len(),
            z.len(),
            "{zh} has another number of examples than {en}"
        );
        let en_text = std::fs::read_to_string(root().join(en)).unwrap();
        let zh_text = std::fs::read_to_string(root().join(zh)).unwrap();
        assert!(en_text.contains(zh_link), "{en} does not link to {zh}");
        assert!(zh_text.contains(en_link), "{zh} does not link to {en}");
    }
}

/// Every complete workflow in the docs (a YAML block with `jobs:`) passes the linters the
/// project's own workflows pass: zizmor's offline audits (the action at its major tag allowed, see
/// tests/fixtures/zizmor-docs.yml), GitHub's workflow schema and action-validator.
#[test]
fn documented_workflows_pass_the_action_linters() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (doc, lang, body) in blocks() {
        if lang != "yaml" || !body.contains("\njobs:") || doc.contains("zh-CN") {
            // The Chinese docs carry the same blocks (checked above).
            continue;
        }
        let f = dir.path().join(format!("workflow-{}.yml", files.len() + 1));
        std::fs::write(&f, body.replace("<owner>", "acme")).unwrap();
        files.push(f);
    }
    assert!(
        files.len() >= 4,
        "the docs' workflows were not found: {files:?}"
    );
    let out = std::process::Command::new("bash")
        .arg(root().join("scripts/lint-actions.sh"))
        .args(&files)
        .env(
            "ZIZMOR_CONFIG",
            root().join("tests/fixtures/zizmor-docs.yml"),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "a workflow of the docs fails the linters:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
