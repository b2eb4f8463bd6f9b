//! The review pipeline end to end: the binary against the emulator, asserting on its journal.

use crate::helpers::*;
use mp_release_emulator::{AppSpec, FaultKind, ReviewStep, Scenario};

const SUBMIT: &str = "/wxa/submit_audit";
const RELEASE: &str = "/wxa/release";

fn approve_after(polls: u32) -> Scenario {
    Scenario::default().review(vec![ReviewStep::approve_after_polls(polls)])
}

#[test]
fn happy_path_publishes_once_and_reports() {
    let wx = Wx::new(approve_after(3), |a| a);
    let r = wx.run(&["run"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let o = &r.outputs;
    assert_eq!(
        (
            o["version"].as_str(),
            o["previous-version"].as_str(),
            o["review-status"].as_str(),
            o["published"].as_str()
        ),
        ("1.5.0", "1.4.2", "approved", "true")
    );
    assert_eq!(o["quota-rest"], "19");
    assert!(!o["audit-id"].is_empty());
    assert_eq!(
        (
            wx.successes(SUBMIT),
            wx.successes(RELEASE),
            wx.successes("/wxa/commit")
        ),
        (1, 1, 1)
    );
    let state = wx.emu.world().app_state(APP).unwrap();
    assert_eq!(state["live"]["user_version"], "1.5.0");
    assert!(
        r.summary.contains("1.4.2 → **1.5.0**") && r.summary.contains(" → wait "),
        "{}",
        r.summary
    );
    assert!(r.summary.lines().count() <= 20, "{}", r.summary);
    // "waiting" is logged sparsely: polls 1 and 2 (powers of two), not every poll
    assert_eq!(r.stderr.matches("next check in").count(), 2, "{}", r.stderr);
    // masks came first
    assert!(r.stdout.starts_with("::add-mask::"), "{}", r.stdout);
}

#[test]
fn rejected_fails_with_the_reason() {
    let wx = Wx::new(
        Scenario::default().review(vec![ReviewStep::reject_after_polls(
            2,
            "页面内容不完整<br>请补充",
            &["media-1", "media-2"],
        )]),
        |a| a,
    );
    let r = wx.run(&["run"], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.outputs["review-status"], "rejected");
    // WeChat's <br> is a line break in the output (a multi-line value) and in the summary.
    assert_eq!(r.outputs["reject-reason"], "页面内容不完整\n请补充");
    assert_eq!(r.outputs["published"], "false");
    assert!(
        r.summary.contains("> 页面内容不完整\n>\n> 请补充")
            && r.summary.contains("media-1, media-2"),
        "{}",
        r.summary
    );
    assert!(
        r.stdout
            .contains("::error title=mp-release::1.5.0 was rejected"),
        "{}",
        r.stdout
    );
    assert_eq!(wx.successes(RELEASE), 0);
}

#[test]
fn withdrawn_in_the_console_stops_the_run() {
    let wx = Wx::new(
        Scenario::default().review(vec![ReviewStep {
            after_polls: Some(1),
            after_seconds: None,
            outcome: mp_release_emulator::Outcome::Withdraw,
        }]),
        |a| a,
    );
    let r = wx.run(&["run"], &[]);
    assert_eq!(
        (r.code, r.outputs["review-status"].as_str()),
        (1, "withdrawn"),
        "{}",
        r.stderr
    );
    assert_eq!(wx.successes(RELEASE), 0);
}

#[test]
fn delayed_then_approved() {
    let wx = Wx::new(
        Scenario::default().review(vec![
            ReviewStep::delay_after_polls(1, "审核排队中"),
            ReviewStep::approve_after_polls(2).at_seconds(7200),
        ]),
        |a| a,
    );
    let r = wx.run(&["run"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.outputs["published"], "true");
    assert_eq!(
        r.stderr.matches("review delayed: 审核排队中").count(),
        1,
        "surfaced once: {}",
        r.stderr
    );
    assert!(
        r.summary.contains("review delayed: 审核排队中"),
        "{}",
        r.summary
    );
}

/// Puts a review of 1.4.9 in flight before the run.
fn other_review_in_flight(wx: &Wx) -> u64 {
    let r = wx.run(
        &["submit"],
        &[
            ("INPUT_VERSION_FROM", "explicit:1.4.9"),
            ("INPUT_BUMP", "none"),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.outputs["audit-id"].parse().unwrap()
}

#[test]
fn existing_review_attach_withdraw_or_fail() {
    let scenario = || {
        Scenario::default()
            .review(vec![ReviewStep::approve_after_polls(10)])
            .review(vec![ReviewStep::approve_after_polls(2)])
    };
    // fail (default): names the review in flight, touches nothing
    let wx = Wx::new(scenario(), |a| a);
    let id = other_review_in_flight(&wx);
    let r = wx.run(&["run"], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "review {id} of version 1.4.9 is already in flight"
        )) && r.stderr.contains("on-existing-review"),
        "{}",
        r.stderr
    );
    assert_eq!(wx.successes(SUBMIT), 1);
    // attach: follows that review and publishes it
    let wx = Wx::new(scenario(), |a| a);
    let id = other_review_in_flight(&wx);
    let r = wx.run(&["run", "--on-existing-review", "attach"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        (r.outputs["audit-id"].clone(), r.outputs["version"].as_str()),
        (id.to_string(), "1.4.9")
    );
    assert_eq!((wx.successes(SUBMIT), wx.successes(RELEASE)), (1, 1));
    // withdraw: withdraws it, submits ours
    let wx = Wx::new(scenario(), |a| a);
    let id = other_review_in_flight(&wx);
    let r = wx.run(&["run"], &[("INPUT_ON_EXISTING_REVIEW", "withdraw")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_ne!(r.outputs["audit-id"], id.to_string());
    assert_eq!(r.outputs["version"], "1.5.0");
    assert_eq!(
        (
            wx.successes("/wxa/undocodeaudit"),
            wx.successes(SUBMIT),
            wx.successes(RELEASE)
        ),
        (1, 2, 1)
    );
}

#[test]
fn waits_for_the_privacy_scan() {
    let wx = Wx::new(approve_after(1).privacy_scan(3, 100_000), |a| a);
    let r = wx.run(&["run"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let codes: Vec<Option<i64>> = wx
        .emu
        .world()
        .journal()
        .iter()
        .filter(|e| e.path == "/wxa/security/get_code_privacy_info")
        .map(|e| e.errcode)
        .collect();
    assert_eq!(codes, [Some(61039), Some(61039), Some(61039), Some(0)]);
}

#[test]
fn undeclared_privacy_api_fails_early() {
    let wx = Wx::new(approve_after(1), |a| AppSpec {
        without_auth_list: vec!["wx.getLocation".into()],
        ..a
    });
    let r = wx.run(&["run"], &[]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("wx.getLocation"), "{}", r.stderr);
    assert_eq!(wx.calls(SUBMIT), 0, "never submitted");
}

/// C2: the scan's lists arrive with errcode 0; an undeclared API ends the precheck with the fix,
/// and privacy-api-not-use lets the submission through.
#[test]
fn privacy_lists_on_errcode_0_end_the_precheck() {
    let wx = Wx::new(approve_after(1), |a| AppSpec {
        without_conf_list: vec!["wx.chooseAddress".into()],
        ..a
    });
    let r = wx.run(&["run"], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("wx.chooseAddress") && r.stderr.contains("privacy-api-not-use"),
        "{}",
        r.stderr
    );
    let privacy: Vec<_> = wx
        .emu
        .world()
        .journal()
        .iter()
        .filter(|e| e.path == "/wxa/security/get_code_privacy_info")
        .map(|e| e.errcode)
        .collect();
    assert_eq!(
        privacy.last(),
        Some(&Some(0)),
        "the lists came on errcode 0"
    );
    assert_eq!(wx.successes(SUBMIT), 0);
    let r = wx.run(&["run", "--privacy-api-not-use"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(wx.successes(SUBMIT), 1);
}

/// C5: an approved version that was never released makes submit_audit answer 85009; the run
/// explains it (naming that version) instead of retrying or attaching to it.
#[test]
fn an_approved_unreleased_version_is_explained() {
    let wx = Wx::new(approve_after(1), |a| a);
    let first = wx.run(&["run"], &[("INPUT_PUBLISH", "never")]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(first.outputs["review-status"], "approved");
    let r = wx.run(
        &["run"],
        &[
            ("INPUT_VERSION_FROM", "explicit:1.6.0"),
            ("INPUT_BUMP", "none"),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("1.5.0") && r.stderr.contains("approved and never released"),
        "{}",
        r.stderr
    );
    assert_eq!(wx.successes(SUBMIT), 1, "no second review");
    assert_eq!(
        wx.successes(RELEASE),
        0,
        "nor a release of the other version"
    );
    let submits = wx.calls(SUBMIT);
    assert_eq!(submits, 2, "one refused try, not a loop");
}

/// C4: the review ended between the look and the withdrawal (87012, nothing to withdraw): the run
/// looks again and goes on; the withdraw command says so without failing.
#[test]
fn nothing_to_withdraw_is_not_a_failure() {
    let wx = Wx::new(
        Scenario::default()
            .review(vec![ReviewStep::approve_after_polls(10)])
            .review(vec![ReviewStep::approve_after_polls(1)])
            .fault("/wxa/undocodeaudit", Some(1), FaultKind::Errcode(87012)),
        |a| a,
    );
    other_review_in_flight(&wx);
    let r = wx.run(&["run"], &[("INPUT_ON_EXISTING_REVIEW", "withdraw")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        wx.successes("/wxa/undocodeaudit"),
        1,
        "the second try withdrew it"
    );
    assert_eq!(r.outputs["published"], "true");
    let r = wx.run(&["withdraw"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.outputs["withdrawn"], "false");
    assert!(
        r.stdout.contains("::warning") && r.stdout.contains("nothing to withdraw"),
        "{}",
        r.stdout
    );
}

#[test]
fn quota_exhausted_says_what_to_do() {
    let wx = Wx::new(approve_after(1), |a| a);
    wx.emu.world().set_review_quota(COMPONENT, 0, 20);
    let r = wx.run(&["run"], &[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("85085") && r.stderr.contains("小程序服务商助手"),
        "{}",
        r.stderr
    );
    assert_eq!(r.outputs["quota-rest"], "0");
}

#[test]
fn tokens_are_refreshed_early_and_after_expiry() {
    // Tokens live 15 minutes: the runner must fetch new ones while it waits for the review.
    let wx = Wx::new(
        Scenario {
            token_lifetime: 900,
            ..approve_after(8)
        },
        |a| a,
    );
    let r = wx.run(&["run"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        wx.successes("/cgi-bin/component/api_authorizer_token") > 2,
        "proactive refresh"
    );
    assert!(
        wx.emu
            .world()
            .journal()
            .iter()
            .all(|e| e.errcode != Some(42001)),
        "no call ever used an expired token"
    );
    // WeChat declares a token expired mid-wait: one refresh, one retry.
    let wx = Wx::new(
        approve_after(3).fault("/wxa/get_auditstatus", Some(2), FaultKind::Errcode(42001)),
        |a| a,
    );
    let r = wx.run(&["run"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(wx.successes("/cgi-bin/component/api_authorizer_token"), 2);
}

#[test]
fn a_token_of_the_wrong_kind_is_explained() {
    let wx = Wx::new(approve_after(1), |a| a);
    // the mini program's own token, where an authorizer token is needed
    let own = {
        let mut w = wx.emu.world();
        let v = w.handle(&mp_release_emulator::Request::get(
            "/cgi-bin/token",
            &[
                ("grant_type", "client_credential"),
                ("appid", APP),
                ("secret", &format!("secret-{APP}")),
            ],
        ));
        v.body_json().unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let r = wx.run(
        &["run", "--version-from", "explicit:2.0.0"],
        &[("INPUT_COMPONENT-APPID", ""), ("INPUT_ACCESS_TOKEN", &own)],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("86000") && r.stderr.contains("third-party platform"),
        "{}",
        r.stderr
    );
}

#[test]
fn phased_release_and_the_first_release_rule() {
    let wx = Wx::new(approve_after(1), |a| a);
    let r = wx.run(&["run", "--gray-percentage", "20"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        wx.emu.world().app_state(APP).unwrap()["gray"]["gray_percentage"],
        20
    );
    assert!(r.summary.contains("20 % of users"), "{}", r.summary);
    let first = Wx::new(approve_after(1), |a| AppSpec {
        live_version: None,
        ..a
    });
    let r = first.run(
        &[
            "run",
            "--gray-percentage",
            "20",
            "--version-from",
            "explicit:1.0.0",
        ],
        &[],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("first release must be full"),
        "{}",
        r.stderr
    );
}

#[test]
fn submit_detaches_and_wait_then_publish_finish() {
    let wx = Wx::new(approve_after(2), |a| a);
    let r = wx.run(&["submit"], &[]);
    assert_eq!(
        (r.code, r.outputs["review-status"].as_str()),
        (0, "pending"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout
            .contains("::notice title=mp-release::1.5.0 is still in review"),
        "{}",
        r.stdout
    );
    let id = r.outputs["audit-id"].clone();
    let r = wx.run(&["status"], &[]);
    assert_eq!(
        (
            r.outputs["audit-id"].clone(),
            r.outputs["review-status"].as_str()
        ),
        (id, "pending")
    );
    let r = wx.run(&["wait"], &[]);
    assert_eq!(
        (
            r.code,
            r.outputs["review-status"].as_str(),
            r.outputs["published"].as_str()
        ),
        (0, "approved", "false"),
        "{}",
        r.stderr
    );
    let r = wx.run(&["publish"], &[]);
    assert_eq!(
        (
            r.code,
            r.outputs["published"].as_str(),
            r.outputs["version"].as_str()
        ),
        (0, "true", "1.5.0"),
        "{}",
        r.stderr
    );
    // publishing again is a no-op: the version is live already
    let r = wx.run(&["publish"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(wx.successes(RELEASE), 1);
    let r = wx.run(&["quota"], &[]);
    assert_eq!(r.outputs["quota-rest"], "19");
    let r = wx.run(&["rollback", "--list"], &[]);
    assert!(r.outputs["history"].contains("1.4.2"), "{:?}", r.outputs);
    let r = wx.run(&["rollback"], &[]);
    assert_eq!(
        (r.code, r.outputs["version"].as_str()),
        (0, "1.4.2"),
        "{}",
        r.stderr
    );
    let qr = wx.dir.path().join("trial.jpg");
    let r = wx.run(&["status", "--qrcode", "trial.jpg"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(&std::fs::read(qr).unwrap()[..2], &[0xFF, 0xD8]);
}

#[test]
fn withdraw_command() {
    let wx = Wx::new(approve_after(5), |a| a);
    assert_eq!(wx.run(&["submit"], &[]).code, 0);
    let r = wx.run(&["withdraw"], &[]);
    assert_eq!(
        (r.code, r.outputs["review-status"].as_str()),
        (0, "withdrawn"),
        "{}",
        r.stderr
    );
    assert_eq!(
        wx.run(&["status"], &[]).outputs["review-status"],
        "withdrawn"
    );
}

/// Every stage × {-1, 45011, 5xx, delay beyond the timeout, cut connection, malformed body, expired
/// token}; faults strike before processing, and (for those that can) after it, losing the answer.
#[test]
fn fault_matrix_completes_without_duplicates() {
    let endpoints = [
        "/wxa/getversioninfo",
        "/wxa/commit",
        "/wxa/security/get_code_privacy_info",
        "/wxa/queryquota",
        "/wxa/get_latest_auditstatus",
        SUBMIT,
        "/wxa/get_auditstatus",
        RELEASE,
        "/cgi-bin/component/api_authorizer_token",
    ];
    let kinds = [
        (FaultKind::Errcode(-1), true),
        (FaultKind::Errcode(45011), false),
        (FaultKind::Http(502), true),
        (FaultKind::DelayMs(700), true),
        (FaultKind::Cut, true),
        (FaultKind::Truncated, true),
        (FaultKind::Errcode(42001), false),
    ];
    let mut failures = Vec::new();
    for endpoint in endpoints {
        for (kind, can_strike_after) in &kinds {
            for after in [false, true] {
                if after && !can_strike_after {
                    continue;
                }
                let mut scenario = approve_after(2);
                scenario.faults.push(mp_release_emulator::FaultRule {
                    endpoint: endpoint.into(),
                    call: Some(1),
                    kind: kind.clone(),
                    after,
                });
                let wx = Wx::new(scenario, |a| a);
                let r = wx.run(&["run"], &[("MP_RELEASE_REQUEST_TIMEOUT", "400ms")]);
                let (submits, releases) = (wx.successes(SUBMIT), wx.successes(RELEASE));
                let live = wx.emu.world().app_state(APP).unwrap()["live"]["user_version"].clone();
                if r.code != 0 || submits != 1 || releases > 1 || live != "1.5.0" {
                    failures.push(format!("{endpoint} {kind:?} after={after}: exit {} submits {submits} releases {releases} live {live}\n{}", r.code, r.stderr.lines().filter(|l| l.contains("ERROR") || l.contains("error")).collect::<Vec<_>>().join("\n")));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cases failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The process is stopped right after each side effect, before it saved what happened; a new
/// process with the same state file finishes the release without repeating anything.
#[test]
fn crash_after_each_side_effect_and_resume() {
    for call in ["commit", "submit_audit", "release"] {
        let wx = Wx::new(approve_after(2), |a| a);
        let stopped = wx.run(
            &["run", "--state-file", "state.json"],
            &[("MP_RELEASE_CRASH_AFTER", call)],
        );
        assert_eq!(stopped.code, 3, "{call}: {}", stopped.stderr);
        assert!(
            stopped
                .stderr
                .contains(&format!("stopped right after {call}")),
            "{}",
            stopped.stderr
        );
        let resumed = wx.run(&["run", "--state-file", "state.json"], &[]);
        assert_eq!(resumed.code, 0, "{call}: {}", resumed.stderr);
        assert!(
            resumed.stderr.contains("resuming the run of 1.5.0"),
            "{call}: {}",
            resumed.stderr
        );
        assert_eq!(resumed.outputs["published"], "true", "{call}");
        assert_eq!(
            (
                wx.successes("/wxa/commit"),
                wx.successes(SUBMIT),
                wx.successes(RELEASE)
            ),
            (1, 1, 1),
            "{call}"
        );
        // a third run starts a new release: the saved run is finished
        let state: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(wx.dir.path().join("state.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(state["stage"], "done", "{call}");
    }
}

#[test]
fn bad_pipeline_inputs_are_refused_before_any_call() {
    let wx = Wx::new(approve_after(1), |a| a);
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case<'_>] = &[
        (&["run"], &[("INPUT_APPID", "wx123")], "INPUT_APPID"),
        (
            &["run"],
            &[("INPUT_COMPONENT_VERIFY_TICKET", "")],
            "component-verify-ticket",
        ),
        (
            &["run"],
            &[("INPUT_AUTHORIZER-REFRESH-TOKEN", "")],
            "authorizer-refresh-token",
        ),
        (
            &["run"],
            &[
                ("INPUT_COMPONENT-APPID", ""),
                ("INPUT_COMPONENT_SECRET", ""),
            ],
            "no WeChat credentials",
        ),
        (&["run"], &[("INPUT_ACCESS_TOKEN", "x")], "not both"),
        (&["run", "--gray-percentage", "0"], &[], "--gray-percentage"),
        (&["run", "--wait-timeout", "soon"], &[], "--wait-timeout"),
        (
            &["run", "--on-existing-review", "merge"],
            &[],
            "attach, withdraw or fail",
        ),
        (&["run", "--publish", "always"], &[], "on-approval or never"),
        (&["run", "--ext-json", "[1]"], &[], "JSON object"),
        (
            &["run"],
            &[("INPUT_TEMPLATE_ID", "latest")],
            "INPUT_TEMPLATE_ID",
        ),
        (
            &["run"],
            &[("MP_RELEASE_WECHAT_BASE_URL", "ftp://x")],
            "http or https",
        ),
        (
            &["run", "--feedback-info", &"x".repeat(201)],
            &[],
            "200 characters",
        ),
        (&["run", "--rollout", "5,3"], &[], "rise step by step"),
        (&["run", "--rollout", "0,100"], &[], "from 1 to 100"),
        (&["run", "--rollout", "5,,100"], &[], "an empty step"),
        (&["run", "--rollout", "5@10s,100"], &[], "at least 60s"),
        (&["run", "--rollout", "5@ever,100"], &[], "--rollout"),
        (&["run"], &[("INPUT_ROLLOUT", "5,5")], "INPUT_ROLLOUT"),
        (
            &["run", "--rollout", "5,100", "--gray-percentage", "20"],
            &[],
            "give one",
        ),
        (
            &["run", "--rollout", "5,100", "--publish", "never"],
            &[],
            "publish is never",
        ),
        (&["run", "--rollout-watch", "30s"], &[], "at least 1m"),
        (&["run", "--on-unhealthy", "panic"], &[], "revert or hold"),
        (
            &["run", "--max-error-ratio", "0.5"],
            &[],
            "--max-error-ratio",
        ),
        (
            &["run", "--max-new-errors", "many"],
            &[],
            "--max-new-errors",
        ),
        (
            &["run", "--rollout-max-holds", "1000"],
            &[],
            "--rollout-max-holds",
        ),
        (
            &["run", "--support-debuger-first", "perhaps"],
            &[],
            "--support-debuger-first",
        ),
    ];
    let before = wx.emu.world().journal().len();
    for (args, env, says) in cases {
        let r = wx.run(args, env);
        assert_eq!(r.code, 2, "{args:?} {env:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{says:?} not in {}", r.stderr);
    }
    assert_eq!(wx.emu.world().journal().len(), before, "nothing was sent");
}

#[test]
fn crash_after_withdraw_or_speedup_and_resume() {
    // withdraw: another version is in flight and on-existing-review is withdraw
    let wx = Wx::new(
        Scenario::default()
            .review(vec![ReviewStep::approve_after_polls(10)])
            .review(vec![ReviewStep::approve_after_polls(2)]),
        |a| a,
    );
    other_review_in_flight(&wx);
    let env = [("INPUT_ON_EXISTING_REVIEW", "withdraw")];
    let stopped = wx.run(
        &["run", "--state-file", "s.json"],
        &[env[0], ("MP_RELEASE_CRASH_AFTER", "undocodeaudit")],
    );
    assert_eq!(stopped.code, 3, "{}", stopped.stderr);
    let resumed = wx.run(&["run", "--state-file", "s.json"], &env);
    assert_eq!(
        (resumed.code, resumed.outputs["version"].as_str()),
        (0, "1.5.0"),
        "{}",
        resumed.stderr
    );
    assert_eq!(
        (
            wx.successes("/wxa/undocodeaudit"),
            wx.successes(SUBMIT),
            wx.successes(RELEASE)
        ),
        (1, 2, 1)
    );
    // speed-up
    let wx = Wx::new(approve_after(2), |a| a);
    let stopped = wx.run(
        &["run", "--speedup", "--state-file", "s.json"],
        &[("MP_RELEASE_CRASH_AFTER", "speedupaudit")],
    );
    assert_eq!(stopped.code, 3, "{}", stopped.stderr);
    let resumed = wx.run(&["run", "--speedup", "--state-file", "s.json"], &[]);
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    assert_eq!(
        (
            wx.successes("/wxa/speedupaudit"),
            wx.successes(SUBMIT),
            wx.successes(RELEASE)
        ),
        (1, 1, 1)
    );
}

#[test]
fn app_secret_alone_gets_the_qr_code_and_a_plain_refusal_for_review() {
    let wx = Wx::new(approve_after(1), |a| a);
    // put a trial version there first
    assert_eq!(wx.run(&["submit"], &[]).code, 0);
    let own = [
        ("INPUT_COMPONENT-APPID", ""),
        ("INPUT_APP_SECRET", "secret-wxa1a1a1a1a1a1a1a1"),
    ];
    let r = wx.run(&["run"], &own);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("third-party platform") && r.stderr.contains("by hand"),
        "{}",
        r.stderr
    );
    let before = wx.emu.world().journal().len();
    let r = wx.run(&["status", "--qrcode", "qr.jpg"], &own);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(std::fs::read(wx.dir.path().join("qr.jpg"))
        .unwrap()
        .starts_with(&[0xFF, 0xD8]));
    let paths: Vec<String> = wx.emu.world().journal()[before..]
        .iter()
        .map(|e| e.path.clone())
        .collect();
    assert_eq!(
        paths,
        ["/cgi-bin/stable_token", "/wxa/get_qrcode"],
        "stable_token, never cgi-bin/token"
    );
    // the app secret and the own token never leak (Wx::run scans for every issued token)
    assert!(!r.stderr.contains("secret-wxa1a1a1a1a1a1a1a1"));
}

#[test]
fn dry_run_reads_but_changes_nothing() {
    let wx = Wx::new(approve_after(1), |a| a);
    let r = wx.run(&["run", "--dry-run"], &[("INPUT_STATE_FILE", "state.json")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.outputs["version"], "1.5.0");
    assert!(
        r.summary
            .contains("dry run: 1.5.0 would go on with commit; nothing was changed"),
        "{}",
        r.summary
    );
    assert!(!wx.dir.path().join("state.json").exists());
    for path in ["/wxa/commit", SUBMIT, RELEASE, "/wxa/undocodeaudit"] {
        assert_eq!(wx.successes(path), 0, "{path}");
    }
    // Reads happened (the version came from WeChat's live version).
    assert!(wx.successes("/wxa/getversioninfo") >= 1);
    // The single-call changes are not sent at all.
    let before = wx.emu.world().journal().len();
    for args in [
        &["withdraw", "--dry-run"][..],
        &["rollback", "--dry-run"][..],
    ] {
        let r = wx.run(args, &[]);
        assert_eq!(
            (r.code, r.outputs["dry-run"].as_str()),
            (0, "true"),
            "{args:?}: {}",
            r.stderr
        );
    }
    assert_eq!(wx.emu.world().journal().len(), before);
}

/// The single-call commands take the pipeline's call path: a transient -1 is retried (it used to
/// fail at once with exit 3), a withdrawal whose answer is lost is never resent, and WeChat's
/// refusal is exit 1.
#[test]
fn single_call_commands_retry_by_class() {
    for (command, endpoint) in [
        ("quota", "/wxa/queryquota"),
        ("status", "/wxa/getversioninfo"),
        ("rollback", "/wxa/revertcoderelease"),
    ] {
        let wx = Wx::new(
            Scenario::default().fault(endpoint, Some(1), FaultKind::Errcode(-1)),
            |a| a,
        );
        let args: &[&str] = if command == "rollback" {
            &["rollback", "--list"]
        } else {
            &[command]
        };
        let r = wx.run(args, &[]);
        assert_eq!(r.code, 0, "{command}: {}", r.stderr);
        assert!(r.stderr.contains("retrying in"), "{command}: {}", r.stderr);
    }
    // a withdrawal cut after WeChat processed it: not sent again
    let wx = Wx::new(
        Scenario::default()
            .review(vec![ReviewStep::approve_after_polls(50)])
            .fault_after("/wxa/undocodeaudit", Some(1), FaultKind::Cut),
        |a| a,
    );
    other_review_in_flight(&wx);
    let r = wx.run(&["withdraw"], &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("effect is unknown"), "{}", r.stderr);
    let sent = wx.calls("/wxa/undocodeaudit");
    assert_eq!(sent, 1, "never resent");
    // WeChat's refusal: exit 1
    let wx = Wx::new(
        Scenario::default().fault("/wxa/queryquota", None, FaultKind::Errcode(85013)),
        |a| a,
    );
    assert_eq!(wx.run(&["quota"], &[]).code, 1);
}

/// An infrastructure failure the run got past (the quota read, which only feeds the report)
/// does not turn WeChat's later refusal into exit 3: the exit code is the one of the failure
/// that ended the run.
#[test]
fn the_exit_code_is_the_ending_failures() {
    let wx = Wx::new(
        approve_after(1)
            .fault("/wxa/queryquota", None, FaultKind::Errcode(-1))
            .fault(SUBMIT, None, FaultKind::Errcode(85013)),
        |a| a,
    );
    let r = wx.run(&["run"], &[]);
    assert!(
        r.stderr.contains("/wxa/queryquota"),
        "the quota read failed: {}",
        r.stderr
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
}

/// Two processes on one state file (a scheduled run while the last one is still going): the
/// second stops before reading it or calling WeChat (exit 3, naming the holder); the first goes
/// on undisturbed; once it has ended, the state file is free again.
#[test]
fn two_processes_never_drive_one_state_file() {
    let mut s = approve_after(1);
    s.latency_ms = 200;
    let wx = Wx::new(s, |a| a);
    let state = wx.dir.path().join("s.json");
    let mut first = wx
        .std_cmd(&["run", "--state-file", "s.json"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // the first process has taken the lock once it has saved its first state
    wait_for(&state);
    let second = wx.run(&["run", "--state-file", "s.json"], &[]);
    assert_held_by(&second, first.id());
    assert!(
        !second.stderr.contains("POST /"),
        "the second run called WeChat: {}",
        second.stderr
    );
    assert!(first.wait().unwrap().success());
    assert_eq!(wx.successes("/wxa/submit_audit"), 1);
    assert_eq!(wx.successes("/wxa/release"), 1);
    // free again: the finished run is reported
    let again = wx.run(&["run", "--state-file", "s.json"], &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.outputs["published"], "true");
}
