//! Chat notifications end to end: the binary against the emulator, with loopback receivers
//! (wiremock) standing in for the WeCom, DingTalk, Feishu and Slack webhooks.

use crate::helpers::*;
use mp_release_core::notify::{dingtalk_sign, feishu_sign, md5_hex};
use mp_release_emulator::{ReviewStep, Scenario};
use serde_json::Value;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Four webhooks on loopback, answering as each provider does.
pub(crate) struct Chats {
    rt: tokio::runtime::Runtime,
    wecom: MockServer,
    dingtalk: MockServer,
    feishu: MockServer,
    slack: MockServer,
}

/// The uploading app of the preview (the fixture key's appid).
const UPLOADER: &str = "wx0123456789abcdef";

fn fixtures() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/miniprogram-ci")
}

const WECOM_KEY: &str = "wecom-key-5a1f0c9e-7d3b-4e21";
const DING_TOKEN: &str = "ding-access-token-0f9e8d7c6b5a";
const DING_SECRET: &str = "SECding-signing-secret-8877665544";
const FEISHU_HOOK: &str = "feishu-hook-3c2b1a09-8f7e";
const FEISHU_SECRET: &str = "feishu-signing-secret-1122334455";
/// The secret part of the Slack webhook's path.
pub(crate) const SLACK_SECRET: &str = "slack-webhook-secret-xyz";
const SLACK_PATH: &str = "/services/T000/B000/slack-webhook-secret-xyz";

fn answer(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

impl Chats {
    pub(crate) fn new(ok: bool) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (wecom, dingtalk, feishu, slack) = rt.block_on(async {
            let s = (
                MockServer::start().await,
                MockServer::start().await,
                MockServer::start().await,
                MockServer::start().await,
            );
            let (w, d, f, k) = if ok {
                (
                    answer(r#"{"errcode":0,"errmsg":"ok"}"#),
                    answer(r#"{"errcode":0,"errmsg":"ok"}"#),
                    answer(r#"{"code":0,"msg":"success","data":{}}"#),
                    ResponseTemplate::new(200).set_body_string("ok"),
                )
            } else {
                (
                    answer(r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#),
                    answer(r#"{"errcode":310000,"errmsg":"sign not match"}"#),
                    answer(r#"{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}"#),
                    ResponseTemplate::new(403).set_body_string("invalid_token"),
                )
            };
            Mock::given(method("POST")).respond_with(w).mount(&s.0).await;
            Mock::given(method("POST")).respond_with(d).mount(&s.1).await;
            Mock::given(method("POST")).respond_with(f).mount(&s.2).await;
            Mock::given(method("POST")).respond_with(k).mount(&s.3).await;
            s
        });
        Self {
            rt,
            wecom,
            dingtalk,
            feishu,
            slack,
        }
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "INPUT_NOTIFY_WECOM".into(),
                format!("{}/cgi-bin/webhook/send?key={WECOM_KEY}", self.wecom.uri()),
            ),
            (
                "INPUT_NOTIFY_DINGTALK".into(),
                format!(
                    "{}/robot/send?access_token={DING_TOKEN}",
                    self.dingtalk.uri()
                ),
            ),
            ("INPUT_NOTIFY_DINGTALK_SECRET".into(), DING_SECRET.into()),
            (
                "INPUT_NOTIFY_FEISHU".into(),
                format!("{}/open-apis/bot/v2/hook/{FEISHU_HOOK}", self.feishu.uri()),
            ),
            ("INPUT_NOTIFY_FEISHU_SECRET".into(), FEISHU_SECRET.into()),
            ("INPUT_NOTIFY_SLACK".into(), self.slack_url()),
            ("INPUT_NOTIFY_MENTION".into(), "zhangsan,@all".into()),
        ]
    }

    /// The Slack webhook's URL.
    pub(crate) fn slack_url(&self) -> String {
        format!("{}{SLACK_PATH}", self.slack.uri())
    }

    /// The `text` of every Slack message received.
    pub(crate) fn slack_texts(&self) -> Vec<String> {
        self.seen(&self.slack)
            .iter()
            .map(|(_, b)| b["text"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Every Slack message's whole JSON body, as text.
    pub(crate) fn slack_bodies(&self) -> Vec<String> {
        self.seen(&self.slack)
            .iter()
            .map(|(_, b)| b.to_string())
            .collect()
    }

    /// (query, JSON body) of every request `server` received.
    fn seen(&self, server: &MockServer) -> Vec<(String, Value)> {
        self.rt
            .block_on(server.received_requests())
            .unwrap_or_default()
            .iter()
            .map(|r| {
                (
                    r.url.query().unwrap_or_default().to_owned(),
                    serde_json::from_slice(&r.body).unwrap_or(Value::Null),
                )
            })
            .collect()
    }
}

fn run_with(wx: &Wx, args: &[&str], chats: &Chats, extra: &[(&str, &str)]) -> PipelineRun {
    let env = chats.env();
    let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    all.extend_from_slice(extra);
    wx.run(args, &all)
}

/// Nothing the binary wrote holds a webhook key or a signing secret (but the masking commands,
/// which must name them, and do so first).
fn assert_no_secrets(r: &PipelineRun) {
    assert_secrets_kept(
        r,
        &[
            WECOM_KEY,
            DING_TOKEN,
            DING_SECRET,
            FEISHU_HOOK,
            FEISHU_SECRET,
        ],
    );
}

fn assert_secrets_kept(r: &PipelineRun, secrets: &[&str]) {
    for s in secrets {
        let first = r.stdout.lines().position(|l| l.contains(s));
        assert!(
            first.is_some_and(|i| r
                .stdout
                .lines()
                .nth(i)
                .is_some_and(|l| l.starts_with("::add-mask::")))
                && r.stdout.lines().any(|l| l == format!("::add-mask::{s}")),
            "{s} is masked on its own, before anything else names it"
        );
    }
    let stdout: String = r
        .stdout
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n");
    let all = format!("{stdout}{}{:?}{}", r.stderr, r.outputs, r.summary);
    for s in secrets.iter().chain(&[SLACK_SECRET]) {
        assert!(!all.contains(s), "{s} leaked");
    }
}

#[test]
fn a_rejection_reaches_every_chat_signed_with_the_reason() {
    let wx = Wx::new(
        Scenario::default().review(vec![ReviewStep::reject_after_polls(
            1,
            "页面内容不完整",
            &["media-1"],
        )]),
        |a| a,
    );
    let chats = Chats::new(true);
    let r = run_with(&wx, &["run"], &chats, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_no_secrets(&r);
    // WeCom: one markdown message, the reason in it, the mention.
    let w = chats.seen(&chats.wecom);
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].1["msgtype"], "markdown");
    let text = w[0].1["markdown"]["content"].as_str().unwrap();
    assert!(
        text.contains("1.5.0 was rejected")
            && text.contains("页面内容不完整")
            && text.contains("media-1")
            && text.contains("<@zhangsan>"),
        "{text}"
    );
    assert!(text.len() <= 4096);
    // DingTalk: signed in the query, as recomputed with the secret.
    let d = chats.seen(&chats.dingtalk);
    assert_eq!(d.len(), 1);
    let q: std::collections::BTreeMap<String, String> =
        url::form_urlencoded::parse(d[0].0.as_bytes())
            .into_owned()
            .collect();
    assert_eq!(q["access_token"], DING_TOKEN);
    let ts: u64 = q["timestamp"].parse().unwrap();
    let expected = dingtalk_sign(DING_SECRET, ts);
    let decoded: String = url::form_urlencoded::parse(format!("s={expected}").as_bytes())
        .next()
        .unwrap()
        .1
        .into_owned();
    assert_eq!(
        q["sign"], decoded,
        "the signature recomputed with the secret"
    );
    assert_eq!(d[0].1["msgtype"], "markdown");
    assert_eq!(d[0].1["at"]["isAtAll"], true);
    // Feishu: signed in the body.
    let f = chats.seen(&chats.feishu);
    assert_eq!(f.len(), 1);
    let ts: u64 = f[0].1["timestamp"].as_str().unwrap().parse().unwrap();
    assert_eq!(f[0].1["sign"], feishu_sign(FEISHU_SECRET, ts));
    assert_eq!(f[0].1["msg_type"], "interactive");
    assert!(f[0].1.to_string().len() <= 20 * 1024);
    assert!(f[0].1.to_string().contains("页面内容不完整"));
    // Slack: blocks.
    let s = chats.seen(&chats.slack);
    assert_eq!(s.len(), 1);
    assert!(s[0].1["blocks"].as_array().is_some_and(|b| !b.is_empty()));
}

#[test]
fn undelivered_notifications_are_warnings_and_the_release_still_succeeds() {
    let wx = Wx::new(
        Scenario::default().review(vec![ReviewStep::approve_after_polls(1)]),
        |a| a,
    );
    let chats = Chats::new(false);
    let r = run_with(&wx, &["run"], &chats, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.outputs["published"], "true");
    let warnings: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("::warning"))
        .collect();
    for (who, why) in [
        ("wecom webhook", "errcode 93000"),
        ("dingtalk webhook", "errcode 310000"),
        ("feishu webhook", "code 19021"),
        ("slack webhook", "HTTP 403: invalid_token"),
    ] {
        assert!(
            warnings.iter().any(|l| l.contains(who) && l.contains(why)),
            "{who}: {warnings:#?}"
        );
    }
    assert!(
        r.stdout.contains("加签"),
        "what to do about DingTalk's 310000"
    );
    assert_no_secrets(&r);
}

#[test]
fn a_webhook_that_does_not_answer_times_out_into_a_warning() {
    let wx = Wx::new(
        Scenario::default().review(vec![ReviewStep::approve_after_polls(1)]),
        |a| a,
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let slow = rt.block_on(async {
        let s = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(answer(r#"{"errcode":0}"#).set_delay(std::time::Duration::from_secs(30)))
            .mount(&s)
            .await;
        s
    });
    let url = format!("{}/cgi-bin/webhook/send?key={WECOM_KEY}", slow.uri());
    let started = std::time::Instant::now();
    let r = wx.run(&["run"], &[("INPUT_NOTIFY_WECOM", url.as_str())]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("::warning") && l.contains("wecom webhook")),
        "{}",
        r.stdout
    );
    // Not a performance assertion: the 10 s timeout, far below the answer's 30 s delay.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(28),
        "{:?}",
        started.elapsed()
    );
    assert_secrets_kept(&r, &[WECOM_KEY]);
}

/// The review followed across processes: each event is told once, by the process that saw it
/// happen; a second publish that finds the version live tells nothing.
#[test]
fn each_event_is_told_once_across_submit_wait_and_publish() {
    let wx = Wx::new(
        Scenario::default().review(vec![ReviewStep::approve_after_polls(2)]),
        |a| a,
    );
    let chats = Chats::new(true);
    let all = [("INPUT_NOTIFY_ON", "all")];
    let count = |chats: &Chats| chats.seen(&chats.slack).len();
    let events = |chats: &Chats| chats.slack_texts();
    let r = run_with(&wx, &["submit"], &chats, &all);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let after_submit = count(&chats);
    assert!(
        events(&chats)
            .iter()
            .any(|t| t.contains("submitted for review")),
        "{:?}",
        events(&chats)
    );
    let r = run_with(&wx, &["wait"], &chats, &all);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        events(&chats)[after_submit..]
            .iter()
            .any(|t| t.contains("passed review")),
        "{:?}",
        events(&chats)
    );
    let r = run_with(&wx, &["publish"], &chats, &all);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let live: Vec<String> = events(&chats)
        .into_iter()
        .filter(|t| t.contains("is live"))
        .collect();
    assert_eq!(live.len(), 1, "{:?}", events(&chats));
    assert!(live[0].contains("1.5.0 is live"), "{live:?}");
    let before = count(&chats);
    let r = run_with(&wx, &["publish"], &chats, &all);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(count(&chats), before, "nothing new: {:?}", events(&chats));
    // A rollback is told (and listing the versions is not).
    let r = run_with(&wx, &["rollback", "--list"], &chats, &all);
    assert_eq!((r.code, count(&chats)), (0, before), "{}", r.stderr);
    let r = run_with(&wx, &["rollback"], &chats, &all);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let last = events(&chats).pop().unwrap_or_default();
    assert!(
        last.contains("rolled back: 1.4.2 is live again"),
        "{:?}",
        events(&chats)
    );
    assert!(
        r.outputs["summary-markdown"].contains("rolled back"),
        "{:?}",
        r.outputs
    );
}

#[test]
fn a_preview_reaches_wecom_as_text_and_the_qr_image() {
    let emu = mp_release_emulator::Emulator::start_with({
        let mut w = mp_release_emulator::World::new(Scenario::default());
        w.add_app(mp_release_emulator::AppSpec {
            appid: UPLOADER.into(),
            ..mp_release_emulator::AppSpec::default()
        });
        w.add_upload_key(
            UPLOADER,
            &std::fs::read_to_string(fixtures().join("keys/public.wx0123456789abcdef.pem"))
                .unwrap(),
        );
        w
    });
    let chats = Chats::new(true);
    let dir = tempfile::tempdir().unwrap();
    let trap = NetTrap::new();
    let mut c = bin(dir.path(), &trap);
    c.args(["preview", "--project-path"])
        .arg(fixtures().join("sample-projects/sample"))
        .arg("--private-key-path")
        .arg(fixtures().join("keys/private.wx0123456789abcdef.key"))
        .args(["--qrcode-url", "https://example.com/artifacts/qr.png"])
        .env("INPUT_APPID", UPLOADER)
        .env("MP_RELEASE_UPLOAD_BASE_URL", emu.uri());
    for (k, v) in chats.env() {
        c.env(k, v);
    }
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let png = std::fs::read(dir.path().join("preview-qrcode.png")).unwrap();
    let w = chats.seen(&chats.wecom);
    assert_eq!(w.len(), 2, "text, then the image: {w:?}");
    assert_eq!(w[0].1["msgtype"], "markdown");
    assert!(w[0].1["markdown"]["content"]
        .as_str()
        .unwrap()
        .contains("__FULL__"));
    assert_eq!(w[1].1["msgtype"], "image");
    assert_eq!(
        w[1].1["image"]["md5"],
        md5_hex(&png),
        "the image is the PNG saved on disk"
    );
    use base64::Engine;
    let sent = base64::engine::general_purpose::STANDARD
        .decode(w[1].1["image"]["base64"].as_str().unwrap())
        .unwrap();
    assert_eq!(sent, png);
    // The others get the link.
    let s = chats.seen(&chats.slack);
    assert!(
        s[0].1
            .to_string()
            .contains("https://example.com/artifacts/qr.png"),
        "{:?}",
        s[0].1
    );
    let all = format!("{}{}", r.stdout, r.stderr);
    for secret in [
        WECOM_KEY,
        DING_TOKEN,
        DING_SECRET,
        FEISHU_HOOK,
        FEISHU_SECRET,
    ] {
        assert!(!all.contains(secret));
    }
}

/// The config file's list: several chats, each with its own events and mentions; their URLs
/// and secrets masked like any other secret.
#[test]
fn the_config_file_lists_chats_with_their_own_events() {
    let wx = Wx::new(
        Scenario::default().review(vec![ReviewStep::approve_after_polls(1)]),
        |a| a,
    );
    let chats = Chats::new(true);
    std::fs::write(
        wx.dir.path().join(".mp-release.yml"),
        format!(
            "notify:\n  - wecom: {}/cgi-bin/webhook/send?key={WECOM_KEY}\n    on: [published]\n    mention: [lisi]\n  - dingtalk: {}/robot/send?access_token={DING_TOKEN}\n    secret: {DING_SECRET}\n    on: submitted, rejected\n  - slack: {}{SLACK_PATH}\n    on: [rejected]\n",
            chats.wecom.uri(),
            chats.dingtalk.uri(),
            chats.slack.uri()
        ),
    )
    .unwrap();
    let r = wx.run(&["run"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let w = chats.seen(&chats.wecom);
    assert_eq!(w.len(), 1, "{w:?}");
    let text = w[0].1["markdown"]["content"].as_str().unwrap();
    assert!(
        text.contains("is live") && text.contains("<@lisi>"),
        "{text}"
    );
    let d = chats.seen(&chats.dingtalk);
    assert_eq!(d.len(), 1, "submitted only: {d:?}");
    assert!(d[0].1.to_string().contains("submitted for review"));
    assert!(chats.seen(&chats.slack).is_empty(), "not rejected");
    assert_secrets_kept(&r, &[WECOM_KEY, DING_TOKEN, DING_SECRET]);
    // A bad list is bad input: exit 2, naming the file and the item, never the URL.
    std::fs::write(
        wx.dir.path().join(".mp-release.yml"),
        format!("notify:\n  - wecom: ftp://x/{WECOM_KEY}\n"),
    )
    .unwrap();
    let r = wx.run(&["run"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(".mp-release.yml") && r.stderr.contains("item 1"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains(WECOM_KEY));
}

/// `run --sandbox` tells the configured chats too: a team can try its robot without WeChat.
#[test]
fn the_sandbox_run_tells_the_configured_chats() {
    let chats = Chats::new(true);
    let dir = tempfile::tempdir().unwrap();
    let trap = NetTrap::new();
    let mut c = bin(dir.path(), &trap);
    c.args(["run", "--sandbox", "--notify-on", "all"])
        .arg("--notify-slack")
        .arg(chats.slack_url());
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let texts = chats.slack_texts();
    for want in ["submitted for review", "passed review", "is live"] {
        assert!(texts.iter().any(|t| t.contains(want)), "{want}: {texts:?}");
    }
    // The sandbox uploads code: the live message carries the package sizes.
    let live = chats
        .seen(&chats.slack)
        .into_iter()
        .find(|(_, b)| b["text"].as_str().is_some_and(|t| t.contains("is live")))
        .unwrap();
    assert!(live.1.to_string().contains("__FULL__"), "{}", live.1);
    // Only the masking commands name the webhook's secret.
    assert!(r
        .stdout
        .lines()
        .filter(|l| l.contains(SLACK_SECRET))
        .all(|l| l.starts_with("::add-mask::")));
    assert!(!r.stderr.contains(SLACK_SECRET));
}

/// A dry run sends nothing, not even a chat message.
#[test]
fn a_dry_run_tells_no_chat() {
    let wx = Wx::new(
        Scenario::default().review(vec![ReviewStep::approve_after_polls(1)]),
        |a| a,
    );
    let chats = Chats::new(true);
    let r = run_with(
        &wx,
        &["run", "--dry-run"],
        &chats,
        &[("INPUT_NOTIFY_ON", "all")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    for s in [&chats.wecom, &chats.dingtalk, &chats.feishu, &chats.slack] {
        assert!(chats.seen(s).is_empty());
    }
}
