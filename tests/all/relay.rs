//! The push relay end to end: the emulator pushes its review results and tickets encrypted, as
//! WeChat does, to a running `mp-release relay`, which verifies, decrypts and dispatches to a fake
//! GitHub; forged, stale, repeated and unknown pushes are refused or dropped, and no secret reaches
//! its output.

use crate::github::FakeGitHub;
use crate::helpers::{clean, NetTrap};
use mp_release_emulator::{AppSpec, Emulator, PushTarget, ReviewStep, Scenario, World};
use serde_json::Value;
use std::io::{BufRead, Read, Write};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const C: &str = "wxc0c0c0c0c0c0c0c0";
const APP: &str = "wxa1a1a1a1a1a1a1a1";
const TOKEN: &str = "relay-msg-token-9";
const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const GH_TOKEN: &str = "ghp_relaytokenrelaytokenrelay000";

struct RelayProc {
    child: std::process::Child,
    url: String,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
    dir: tempfile::TempDir,
}

impl RelayProc {
    fn start(gh: &FakeGitHub) -> Self {
        Self::start_with(gh, &[])
    }

    fn start_with(gh: &FakeGitHub, env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let trap = NetTrap::new();
        let mut child = clean(
            std::process::Command::new(assert_cmd::cargo::cargo_bin("mp-release")),
            dir.path(),
            &trap,
        )
        .args([
            "relay",
            "--listen",
            "127.0.0.1:0",
            "--ticket-file",
            "ticket.txt",
        ])
        .envs(env.iter().copied())
        .env("MP_RELEASE_PUSH_TOKEN", TOKEN)
        .env("MP_RELEASE_ENCODING_AES_KEY", KEY)
        .env("MP_RELEASE_COMPONENT_APPID", C)
        .env("MP_RELEASE_REPOSITORY", "acme/shop")
        .env("MP_RELEASE_GITHUB_TOKEN", GH_TOKEN)
        .env("MP_RELEASE_GITHUB_API_URL", gh.uri())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut url = String::new();
        for _ in 0..50 {
            let mut line = String::new();
            out.read_line(&mut line).unwrap();
            if let Some(u) = line.trim().strip_prefix("url=") {
                url = u.to_owned();
                break;
            }
        }
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Self {
            child,
            url,
            stderr,
            dir,
        }
    }

    fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// One raw request; the status and body.
    fn send(&self, method: &str, target: &str, body: &str) -> (u16, String) {
        let addr = self.url.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(s, "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        let status = answer.split_whitespace().nth(1).unwrap().parse().unwrap();
        (
            status,
            answer
                .split("\r\n\r\n")
                .nth(1)
                .unwrap_or_default()
                .to_owned(),
        )
    }
}

impl Drop for RelayProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dispatches(gh: &FakeGitHub) -> Vec<Value> {
    gh.seen()
        .into_iter()
        .filter(|s| s.path == "/repos/acme/shop/dispatches")
        .map(|s| s.body)
        .collect()
}

fn wait_for(mut f: impl FnMut() -> bool) {
    for _ in 0..300 {
        if f() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A signed push made the way WeChat makes it (the core's crypto, checked against WeChat's own
/// vectors in its tests).
fn forged(ts: u64, msg: &str, token: &str) -> (String, String) {
    let crypt = mp_release_core::push::Crypt::new(token, KEY, C).unwrap();
    let enc = crypt.encrypt(msg, b"0123456789abcdef");
    let sig = crypt.sign(&ts.to_string(), "42", &enc);
    (
        format!("timestamp={ts}&nonce=42&encrypt_type=aes&msg_signature={sig}"),
        mp_release_core::push::envelope("gh_x", &enc),
    )
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn review_results_pushed_by_the_emulator_reach_github() {
    let gh = FakeGitHub::new();
    gh.mount(
        Mock::given(method("POST"))
            .and(path("/repos/acme/shop/dispatches"))
            .respond_with(ResponseTemplate::new(204)),
    );
    let scenario = Scenario::default().app_review(
        APP,
        vec![ReviewStep::reject_after_polls(0, "1:页面内容不完整", &["m1"]).at_seconds(1)],
    );
    let mut w = World::new(scenario.clone());
    // the relay checks timestamps against the wall clock: the virtual clock is set to it
    let behind = now().saturating_sub(w.now());
    w.advance(behind);
    let ticket = w.add_platform(C, "component-secret");
    let reg = w.add_app(AppSpec::authorized(APP, C));
    let template = w
        .add_template(C, "wxd0d0d0d0d0d0d0d0", "1.0.0", &["pages/index/index"], 10)
        .unwrap();
    let emu = Emulator::start_with(w);
    // the relay can look the review id up: the platform's secret, WeChat's URL, the tickets it gets
    let relay = RelayProc::start_with(
        &gh,
        &[
            ("MP_RELEASE_COMPONENT_SECRET", "component-secret"),
            ("MP_RELEASE_WECHAT_BASE_URL", &emu.uri()),
        ],
    );
    emu.world().set_scenario(Scenario {
        push: Some(PushTarget {
            url: format!("{}/wechat/$APPID$", relay.url),
            ticket_url: Some(format!("{}/ticket", relay.url)),
            token: TOKEN.into(),
            encoding_aes_key: KEY.into(),
        }),
        ..scenario
    });
    let first = emu.world().push_ticket(C).unwrap();
    let file = relay.dir.path().join("ticket.txt");
    wait_for(|| std::fs::read_to_string(&file).is_ok_and(|t| t == first));
    // commit and submit through the API, as a platform would
    {
        let mut w = emu.world();
        let comp = crate::helpers::component_token(&mut w, C, "component-secret", &ticket);
        let t = crate::helpers::authorizer_token(&mut w, &comp, C, APP, &reg.refresh_token);
        crate::helpers::submit_in_world(&mut w, &t, template, "1.0.0");
    }
    // the review ends a second later; the emulator pushes it
    emu.world().advance(1);
    wait_for(|| !dispatches(&gh).is_empty());
    let d = dispatches(&gh);
    assert_eq!(d.len(), 1, "{}", relay.log());
    assert_eq!(d[0]["event_type"], "weapp-audit");
    let p = &d[0]["client_payload"];
    assert_eq!(p["appid"], APP);
    assert_eq!(p["event"], "weapp_audit_fail");
    assert_eq!(p["reason"], "1:页面内容不完整");
    let review = emu.world().app_state(APP).unwrap()["reviews"][0]["auditid"].clone();
    assert_eq!(p["auditid"], review, "the review id, looked up: {p}");
    assert_eq!(p["version"], "1.0.0");
    assert_eq!(
        emu.world().push_log(),
        [
            ("component_verify_ticket".to_owned(), 200),
            ("weapp_audit_fail".to_owned(), 200)
        ],
        "the platform's first ticket, then the review"
    );
    // a ticket push is kept in the ticket file, readable by the owner only
    let fresh = emu.world().push_ticket(C).unwrap();
    wait_for(|| std::fs::read_to_string(&file).is_ok_and(|t| t == fresh));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), fresh);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // the log names what happened, never a secret
    let log = relay.log();
    assert!(
        log.contains("push weapp_audit_fail for wxa1a1a1a1a1a1a1a1"),
        "{log}"
    );
    for s in [
        TOKEN,
        KEY,
        GH_TOKEN,
        fresh.as_str(),
        first.as_str(),
        "component-secret",
    ] {
        assert!(!log.contains(s), "{s} leaked into the relay's log");
    }
}

#[test]
fn forged_stale_repeated_and_unknown_pushes_are_not_dispatched() {
    let gh = FakeGitHub::new();
    gh.mount(
        Mock::given(method("POST"))
            .and(path("/repos/acme/shop/dispatches"))
            .respond_with(ResponseTemplate::new(204)),
    );
    let relay = RelayProc::start(&gh);
    let t = now();
    let audit =
        mp_release_core::push::audit_xml("gh_a1a1a1a1a1a1", "weapp_audit_success", t, "", "");
    // another Token signed it
    let (q, body) = forged(t, &audit, "not-the-token");
    assert_eq!(
        relay.send("POST", &format!("/wechat/{APP}?{q}"), &body).0,
        401
    );
    // an old timestamp: a replay
    let (q, body) = forged(t - 3600, &audit, TOKEN);
    assert_eq!(
        relay.send("POST", &format!("/wechat/{APP}?{q}"), &body).0,
        403
    );
    // not a push at all
    assert_eq!(
        relay
            .send("POST", &format!("/wechat/{APP}?timestamp=1"), "<xml/>")
            .0,
        400
    );
    assert_eq!(relay.send("GET", "/wechat/x?echostr=1", "").0, 405);
    // an unknown event is answered (WeChat wants success) and dropped
    let (q, body) = forged(t, "<xml><CreateTime>1</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[debug_demo]]></Event></xml>", TOKEN);
    assert_eq!(
        relay.send("POST", &format!("/wechat/{APP}?{q}"), &body),
        (200, "success".into())
    );
    // the real one, twice (a retried push): one dispatch
    let (q, body) = forged(t, &audit, TOKEN);
    assert_eq!(
        relay.send("POST", &format!("/wechat/{APP}?{q}"), &body),
        (200, "success".into())
    );
    assert_eq!(
        relay.send("POST", &format!("/wechat/{APP}?{q}"), &body),
        (200, "success".into())
    );
    wait_for(|| !dispatches(&gh).is_empty());
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let d = dispatches(&gh);
    assert_eq!(d.len(), 1, "{}", relay.log());
    assert_eq!(d[0]["client_payload"]["event"], "weapp_audit_success");
    let log = relay.log();
    assert!(
        log.contains("msg_signature does not match")
            && log.contains("a replay")
            && log.contains("debug_demo"),
        "{log}"
    );
}

/// Bad relay settings: exit 2 before it listens.
#[test]
fn bad_relay_settings_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let trap = NetTrap::new();
    for (env, says) in [
        (
            vec![
                ("MP_RELEASE_ENCODING_AES_KEY", KEY),
                ("MP_RELEASE_COMPONENT_APPID", C),
            ],
            "push-token",
        ),
        (
            vec![
                ("MP_RELEASE_PUSH_TOKEN", TOKEN),
                ("MP_RELEASE_ENCODING_AES_KEY", "short"),
                ("MP_RELEASE_COMPONENT_APPID", C),
            ],
            "EncodingAESKey",
        ),
        (
            vec![
                ("MP_RELEASE_PUSH_TOKEN", TOKEN),
                ("MP_RELEASE_ENCODING_AES_KEY", KEY),
            ],
            "component-appid",
        ),
        (
            vec![
                ("MP_RELEASE_PUSH_TOKEN", TOKEN),
                ("MP_RELEASE_ENCODING_AES_KEY", KEY),
                ("MP_RELEASE_COMPONENT_APPID", C),
                ("MP_RELEASE_REPOSITORY", "acme/shop"),
            ],
            "github-token",
        ),
        (
            vec![
                ("MP_RELEASE_PUSH_TOKEN", TOKEN),
                ("MP_RELEASE_ENCODING_AES_KEY", KEY),
                ("MP_RELEASE_COMPONENT_APPID", C),
                ("MP_RELEASE_LISTEN", "everywhere"),
            ],
            "MP_RELEASE_LISTEN",
        ),
    ] {
        let out = clean(
            std::process::Command::new(assert_cmd::cargo::cargo_bin("mp-release")),
            dir.path(),
            &trap,
        )
        .arg("relay")
        .envs(env)
        .output()
        .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(says), "{says}: {err}");
        assert!(!err.contains(TOKEN) && !err.contains(KEY), "{err}");
    }
}
