//! Inputs through the real binary: every input of the table with a config value of the wrong type,
//! flags that used to be dropped, the sandbox from the environment, and every secret given every
//! way and echoed back by WeChat in every form.

use crate::helpers::*;
use base64::Engine;
use mp_release_emulator::{FaultKind, Scenario};

/// (name, kind, secret) of every input, read from the input table's source: the test follows the
/// table without a copy of it.
pub fn table() -> Vec<(String, String, bool)> {
    entries()
        .into_iter()
        .filter(|e| e.3)
        .map(|(n, k, s, _)| (n, k, s))
        .collect()
}

/// Every entry of the input table: (name, kind, secret, may come from the config file).
pub fn entries() -> Vec<(String, String, bool, bool)> {
    let text = include_str!("../../src/settings/inputs.rs");
    let body = text
        .split("pub const INPUTS: &[Input] = &[")
        .nth(1)
        .unwrap();
    let body = body.split("\n];").next().unwrap();
    let flat = body
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("( \"", "(\"");
    let mut out = Vec::new();
    for (at, _) in flat.match_indices("(\"") {
        let ctor = flat[..at].rsplit(' ').next().unwrap_or_default();
        if !matches!(ctor, "i" | "secret" | "secret_url" | "only") {
            continue;
        }
        let mut parts = flat[at + 1..].split(',').map(str::trim);
        let name = parts.next().unwrap().trim_matches('"').to_owned();
        let (kind, sources) = match ctor {
            "secret" => ("Text".to_owned(), "All".to_owned()),
            "secret_url" => ("Url".to_owned(), "All".to_owned()),
            _ => (
                parts.next().unwrap().to_owned(),
                parts.next().unwrap_or_default().to_owned(),
            ),
        };
        let in_file = ctor != "only" || sources.contains("FileOnly");
        out.push((name, kind, ctor.starts_with("secret"), in_file));
    }
    assert!(out.len() > 60, "the table parsed: {out:?}");
    out
}

/// A YAML value of the wrong type for the kind.
fn wrong(kind: &str) -> &'static str {
    match kind {
        "Json" => "42",
        "Structured" => "just text",
        "List" => "{a: 1}",
        _ => "[1, [2]]",
    }
}

#[test]
fn every_input_with_a_config_value_of_the_wrong_type_exits_2_naming_it() {
    let wx = Wx::new(Scenario::default(), |a| a);
    for (name, kind, _) in table() {
        std::fs::write(
            wx.dir.path().join(".mp-release.yml"),
            format!("{name}: {}\n", wrong(&kind)),
        )
        .unwrap();
        let r = wx.run(&["run"], &[]);
        assert_eq!(r.code, 2, "{name} ({kind}): {}", r.stderr);
        assert!(
            r.stderr.contains(&format!("invalid `{name}` in ")) && r.stderr.contains("expected"),
            "{name} ({kind}): {}",
            r.stderr
        );
    }
    let _ = std::fs::remove_file(wx.dir.path().join(".mp-release.yml"));
    assert!(wx.emu.world().journal().is_empty(), "nothing was sent");
}

#[test]
fn upload_and_preview_take_appid_and_https_proxy_as_flags() {
    let fixtures =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/miniprogram-ci");
    let key = fixtures.join("keys/private.wx0123456789abcdef.key");
    let project = fixtures.join("sample-projects/sample");
    let mut w = mp_release_emulator::World::new(Scenario::default());
    w.add_app(mp_release_emulator::AppSpec {
        appid: "wx0123456789abcdef".into(),
        ..mp_release_emulator::AppSpec::default()
    });
    w.add_upload_key(
        "wx0123456789abcdef",
        &std::fs::read_to_string(fixtures.join("keys/public.wx0123456789abcdef.pem")).unwrap(),
    );
    let emu = mp_release_emulator::Emulator::start_with(w);
    let dir = tempfile::tempdir().unwrap();
    for (command, more) in [
        ("upload", &["--version-from", "explicit:1.0.0"][..]),
        ("preview", &[]),
    ] {
        let trap = NetTrap::new();
        let mut c = bin(dir.path(), &trap);
        c.args([command, "--appid", "wx0123456789abcdef", "--project-path"])
            .arg(&project)
            .arg("--private-key-path")
            .arg(&key)
            .args(more)
            .args(["--upload-base-url", &emu.uri()]);
        let r = run(c);
        assert_eq!(r.code, 0, "{command}: {}", r.stderr);
    }
    assert_eq!(emu.world().uploads().len(), 2);
    // --https-proxy as a flag: the upload goes through it (here a listener that answers nothing)
    let proxy = NetTrap::new();
    let trap = NetTrap::new();
    let mut c = bin(dir.path(), &trap);
    c.args(["upload", "--appid", "wx0123456789abcdef", "--project-path"])
        .arg(&project)
        .arg("--private-key-path")
        .arg(&key)
        .args(["--version-from", "explicit:1.0.0", "--upload-timeout", "2s"])
        .args([
            "--upload-base-url",
            "http://upload.example.invalid",
            "--https-proxy",
            &proxy.url,
        ]);
    let r = run(c);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        proxy.connections() >= 1,
        "the upload went through --https-proxy"
    );
}

#[test]
fn the_sandbox_runs_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    for var in ["MP_RELEASE_SANDBOX", "INPUT_SANDBOX"] {
        let trap = NetTrap::new();
        let mut c = bin(dir.path(), &trap);
        c.arg("run").env(var, "true");
        let r = run(c);
        assert_eq!(r.code, 0, "{var}: {}", r.stderr);
        assert!(r.stderr.contains("SANDBOX"), "{var}: {}", r.stderr);
        assert_eq!(kv(&r.stdout)["published"], "true", "{var}");
        assert_eq!(trap.connections(), 0);
    }
}

/// `relay` with one of its secrets from `source`: masked before anything, never in its log.
fn relay_secret_is_masked(name: &str, source: &str) {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let trap = NetTrap::new();
    // a valid EncodingAESKey is 43 letters and digits; the token may be anything
    let value = if name == "encoding-aes-key" {
        format!("{:A<43}", format!("Key{source}"))
    } else {
        format!("S3cr3t+{name}/{source}=&x")
    };
    let mut c = clean(
        std::process::Command::new(assert_cmd::cargo::cargo_bin("mp-release")),
        dir.path(),
        &trap,
    );
    c.args([
        "relay",
        "--listen",
        "127.0.0.1:0",
        "--component-appid",
        "wxc0c0c0c0c0c0c0c0",
    ]);
    for other in ["push-token", "encoding-aes-key"]
        .into_iter()
        .filter(|o| *o != name)
    {
        let v = if other == "encoding-aes-key" {
            "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
        } else {
            "other-token"
        };
        c.env(
            format!(
                "MP_RELEASE_{}",
                other.to_ascii_uppercase().replace('-', "_")
            ),
            v,
        );
    }
    let flag = format!("--{name}");
    match source {
        "flag" => {
            c.args([flag.as_str(), value.as_str()]);
        }
        "env" => {
            c.env(
                format!("INPUT_{}", name.to_ascii_uppercase().replace('-', "_")),
                &value,
            );
        }
        _ => std::fs::write(
            dir.path().join(".mp-release.yml"),
            format!("{name}: {}\n", serde_json::to_string(&value).unwrap()),
        )
        .unwrap(),
    }
    let mut child = c
        .env("GITHUB_ACTIONS", "true")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap() == 0 {
            break;
        }
        let url = line.contains("url");
        lines.push(line);
        if url {
            break;
        }
    }
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let case = format!("{name} from {source}");
    let masks = lines
        .iter()
        .take_while(|l| l.starts_with("::add-mask::"))
        .count();
    assert!(
        lines[..masks].contains(&format!("::add-mask::{value}\n")),
        "{case}: masked before anything: {lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("url")),
        "{case}: it started: {lines:?} {stderr}"
    );
    assert!(!stderr.contains(&value), "{case}: {stderr}");
    for l in lines
        .iter()
        .skip(1)
        .filter(|l| !l.starts_with("::add-mask::"))
    {
        assert!(!l.contains(&value), "{case}: {l}");
    }
}

/// The forms a secret may come back in from WeChat.
fn forms(secret: &str) -> [String; 3] {
    [
        secret.to_owned(),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
        base64::engine::general_purpose::STANDARD.encode(secret),
    ]
}

#[test]
fn every_secret_from_every_source_is_masked_and_redacted_in_every_form() {
    let secrets = [
        "access-token",
        "component-access-token",
        "component-secret",
        "component-verify-ticket",
        "authorizer-refresh-token",
        "app-secret",
        "github-token",
        "private-key",
        "notify-wecom",
        "notify-dingtalk",
        "notify-dingtalk-secret",
        "notify-feishu",
        "notify-feishu-secret",
        "notify-slack",
    ];
    // the relay's secrets: a server, checked on its own below
    let relay_secrets = ["push-token", "encoding-aes-key"];
    assert_eq!(
        secrets.len() + relay_secrets.len(),
        table().iter().filter(|(_, _, s)| *s).count(),
        "every secret of the table is here"
    );
    for name in relay_secrets {
        for source in ["flag", "env", "config"] {
            relay_secret_is_masked(name, source);
        }
    }
    for name in secrets {
        for source in ["flag", "env", "config"] {
            // A webhook is a URL (on loopback, where nothing answers: the notification fails into a
            // warning); its signing secret needs the URL too.
            let value = if name.starts_with("notify-") && !name.ends_with("-secret") {
                format!("http://127.0.0.1:9/hook?key=S3cr3t+{name}/{source}=&x")
            } else {
                format!("S3cr3t+{name}/{source}=&x")
            };
            let echo = forms(&value).join(" | ");
            let body = format!(r#"{{"errcode":40097,"errmsg":"invalid args: {echo} rid: 1-2-3"}}"#);
            let wx = Wx::new(
                Scenario::default().fault("*", None, FaultKind::Body(body)),
                |a| a,
            );
            let tmp = tempfile::tempdir().unwrap();
            let tmp_path = tmp.path().display().to_string();
            let env_name = format!("INPUT_{}", name.to_ascii_uppercase().replace('-', "_"));
            let mut args = vec!["run", "--state-file", "s.json"];
            let flag = format!("--{name}");
            let mut env: Vec<(&str, &str)> = vec![("TMPDIR", &tmp_path)];
            match source {
                "flag" => args.extend([flag.as_str(), value.as_str()]),
                "env" => env.push((&env_name, &value)),
                _ => std::fs::write(
                    wx.dir.path().join(".mp-release.yml"),
                    format!("{name}: {}\n", serde_json::to_string(&value).unwrap()),
                )
                .unwrap(),
            }
            // the access token replaces the platform credentials; the others come with them
            if name == "access-token" || name == "component-access-token" {
                env.push(("INPUT_COMPONENT_SECRET", ""));
                env.push(("INPUT_COMPONENT_VERIFY_TICKET", ""));
            }
            if name == "notify-dingtalk-secret" {
                env.push((
                    "INPUT_NOTIFY_DINGTALK",
                    "http://127.0.0.1:9/robot/send?access_token=t",
                ));
            }
            if name == "notify-feishu-secret" {
                env.push((
                    "INPUT_NOTIFY_FEISHU",
                    "http://127.0.0.1:9/open-apis/bot/v2/hook/h",
                ));
            }
            if name == "access-token" {
                env.push(("INPUT_COMPONENT-APPID", ""));
                env.push(("INPUT_AUTHORIZER-REFRESH-TOKEN", ""));
            }
            let r = wx.run(&args, &env);
            let case = format!("{name} from {source}");
            assert_ne!(r.code, 0, "{case}: the fault fails the run");
            let mut written = vec![
                (
                    "stdout",
                    r.stdout
                        .lines()
                        .filter(|l| !l.starts_with("::add-mask::"))
                        .collect::<Vec<_>>()
                        .join("\n"),
                ),
                ("stderr", r.stderr.clone()),
                ("summary", r.summary.clone()),
                (
                    "outputs",
                    std::fs::read_to_string(wx.dir.path().join("gh_output")).unwrap_or_default(),
                ),
                (
                    "state",
                    std::fs::read_to_string(wx.dir.path().join("s.json")).unwrap_or_default(),
                ),
            ];
            for e in walk(tmp.path()) {
                written.push(("temp file", std::fs::read_to_string(e).unwrap_or_default()));
            }
            for form in forms(&value) {
                for (what, text) in &written {
                    assert!(!text.contains(&form), "{case}: {form:?} in {what}:\n{text}");
                }
            }
            assert!(
                r.stderr.contains("invalid args"),
                "{case}: the message is there, redacted: {}",
                r.stderr
            );
            // the masks precede everything else on stdout
            let lines: Vec<&str> = r.stdout.lines().collect();
            let first_other = lines.iter().position(|l| !l.starts_with("::add-mask::"));
            let last_mask = lines.iter().rposition(|l| l.starts_with("::add-mask::"));
            assert!(last_mask.is_some(), "{case}: masked");
            assert!(
                first_other.is_none_or(|o| o > last_mask.unwrap()),
                "{case}: a mask after other output:\n{}",
                r.stdout
            );
            assert!(r.stdout.contains(&format!("::add-mask::{value}")), "{case}");
        }
    }
}

/// A key given where clap does not expect it (a typo before `--private-key "$PEM"`, or a value
/// starting with `-`): the error shows flag names and the usage, never the value or a piece of it.
#[test]
fn command_line_errors_never_echo_values() {
    let pem = std::fs::read_to_string(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/miniprogram-ci/keys/private.wx0123456789abcdef.key"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let body: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    for args in [
        vec!["run", "--private-key", pem.as_str(), "--bogus"],
        vec!["run", "--privat-key", pem.as_str()],
        vec!["run", "--bump", pem.as_str()],
        vec!["upload", "--robot", "--private-key", pem.as_str()],
        vec!["run", pem.as_str()],
    ] {
        let trap = NetTrap::new();
        let mut c = bin(dir.path(), &trap);
        c.args(&args).env("GITHUB_ACTIONS", "true");
        let r = run(c);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        let stdout = without_masks(&r.stdout);
        for text in [&r.stderr, &stdout] {
            for line in &body {
                for frag in [&line[..20], &line[20..40], &line[line.len() - 20..]] {
                    assert!(!text.contains(frag), "{frag:?} of the key in {text}");
                }
            }
        }
        assert!(r.stderr.contains("--help"), "{}", r.stderr);
    }
}

/// Inputs that used to be found wrong only after WeChat calls: each is exit 2 naming it, with
/// nothing sent.
#[test]
fn outputs_urls_timeouts_and_texts_are_checked_before_any_call() {
    let wx = Wx::new(Scenario::default(), |a| a);
    std::fs::create_dir(wx.dir.path().join("adir")).unwrap();
    std::fs::write(wx.dir.path().join("bad-state.json"), "{ not a state").unwrap();
    let long = "长".repeat(1001);
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec!["run", "--summary-file", "adir"],
            vec![],
            "--summary-file",
        ),
        (
            vec!["run", "--summary-file", "missing/s.md"],
            vec![],
            "does not exist",
        ),
        (vec!["run", "--state-file", "adir"], vec![], "--state-file"),
        (
            vec!["run", "--state-file", "bad-state.json"],
            vec![],
            "invalid state-file",
        ),
        (
            vec!["run", "--version-desc", &long],
            vec![],
            "at most 1,000 characters",
        ),
        (
            vec!["run"],
            vec![
                ("INPUT_WECHAT_BASE_URL", "ftp://x"),
                ("MP_RELEASE_WECHAT_BASE_URL", ""),
            ],
            "http or https",
        ),
        (
            vec!["run", "--request-timeout", "0"],
            vec![],
            "at least 1 ms",
        ),
        (
            vec!["run", "--write", "package.json"],
            vec![],
            "invalid write",
        ),
    ];
    for (args, env, says) in cases {
        let r = wx.run(&args, &env);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains(says),
            "{args:?}: {says:?} in {}",
            r.stderr
        );
    }
    assert!(wx.emu.world().journal().is_empty(), "nothing was sent");
    // a state file of another app is refused, not overwritten
    let other = r#"{"config":{"appid":"wxb2b2b2b2b2b2b2b2"}}"#;
    std::fs::write(wx.dir.path().join("other.json"), other).unwrap();
    let r = wx.run(&["run", "--state-file", "other.json"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(wx.dir.path().join("other.json")).unwrap(),
        other
    );
    // the upload side: a URL of the wrong scheme, a zero timeout, a QR output in a missing directory
    let fixtures =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/miniprogram-ci");
    let project = fixtures
        .join("sample-projects/sample")
        .display()
        .to_string();
    let key = fixtures
        .join("keys/private.wx0123456789abcdef.key")
        .display()
        .to_string();
    for (extra, says) in [
        (
            vec!["upload", "--upload-base-url", "ftp://upload"],
            "--upload-base-url",
        ),
        (vec!["upload", "--upload-timeout", "0"], "--upload-timeout"),
        (
            vec!["preview", "--qrcode-output", "missing/qr.png"],
            "--qrcode-output",
        ),
    ] {
        let trap = NetTrap::new();
        let mut c = bin(wx.dir.path(), &trap);
        c.args(&extra).args([
            "--appid",
            "wx0123456789abcdef",
            "--project-path",
            &project,
            "--private-key-path",
            &key,
        ]);
        let r = run(c);
        assert_eq!(r.code, 2, "{extra:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{extra:?}: {}", r.stderr);
        assert_eq!(trap.connections(), 0);
    }
}

/// `version: 1.2.3` (as every peer action takes it) is `version-from: explicit:1.2.3`, from the
/// Action, the environment or the config file; given with version-from it is refused.
#[test]
fn a_plain_version_input_is_an_explicit_version() {
    let repo = Repo::new();
    repo.commit("chore: init").tag("v1.0.0").commit("feat: y");
    for (env, file) in [
        (Some("INPUT_VERSION"), None),
        (Some("MP_RELEASE_VERSION"), None),
        (None, Some("version: 2.3.4\n")),
    ] {
        let trap = NetTrap::new();
        let mut c = bin(repo.path(), &trap);
        c.arg("version");
        if let Some(e) = env {
            c.env(e, "2.3.4");
        }
        if let Some(f) = file {
            std::fs::write(repo.path().join(".mp-release.yml"), f).unwrap();
        }
        let r = run(c);
        let _ = std::fs::remove_file(repo.path().join(".mp-release.yml"));
        assert_eq!(r.code, 0, "{env:?} {file:?}: {}", r.stderr);
        let out = kv(&r.stdout);
        assert_eq!(
            (out["version"].as_str(), out["bump"].as_str()),
            ("2.3.4", "none"),
            "{}",
            r.stdout
        );
    }
    let trap = NetTrap::new();
    let mut c = bin(repo.path(), &trap);
    c.args(["version", "--version-from", "git-tag"])
        .env("INPUT_VERSION", "2.3.4");
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("both set"), "{}", r.stderr);
}
