//! The binary against a hostile network: answers that redirect, grow without bound, carry the
//! wrong types, or show a trial version that is not this run's. The emulator plays the middle box
//! (its fault kinds `redirect`, `huge-errmsg`, `body`); another loopback listener plays the host a
//! redirect points to. Whatever happens, nothing foreign is ever submitted or released.

use crate::helpers::*;
use mp_release_emulator::{FaultKind, ReviewStep, Scenario};

const SUBMIT: &str = "/wxa/submit_audit";
const RELEASE: &str = "/wxa/release";
const COMMIT: &str = "/wxa/commit";
const VERSION: &str = "/wxa/getversioninfo";

fn approve() -> Scenario {
    Scenario::default().review(vec![ReviewStep::approve_after_polls(1)])
}

/// Calls that change something at WeChat, as the emulator processed them.
fn mutations(wx: &Wx) -> usize {
    [
        COMMIT,
        SUBMIT,
        RELEASE,
        "/wxa/grayrelease",
        "/wxa/undocodeaudit",
        "/wxa/ci/upload",
    ]
    .iter()
    .map(|p| wx.successes(p))
    .sum()
}

#[test]
fn redirects_are_never_followed_and_nothing_is_released() {
    for endpoint in [
        "/cgi-bin/component/api_component_token",
        "/cgi-bin/component/api_authorizer_token",
        VERSION,
        SUBMIT,
        RELEASE,
    ] {
        for status in [302, 307] {
            let elsewhere = NetTrap::new();
            let wx = Wx::new(
                approve().fault(
                    endpoint,
                    None,
                    FaultKind::Redirect {
                        status,
                        location: format!("{}/steal?x=1", elsewhere.url),
                    },
                ),
                |a| a,
            );
            let r = wx.run(&["run"], &[]);
            assert_eq!(r.code, 3, "{endpoint} {status}: {}", r.stderr);
            assert_eq!(
                elsewhere.connections(),
                0,
                "{endpoint} {status}: a request reached the other host"
            );
            assert_eq!(wx.successes(RELEASE), 0, "{endpoint} {status}");
            assert!(
                r.stderr
                    .contains(&format!("HTTP {status} redirect to {}", elsewhere.url)),
                "{endpoint} {status}: the message names the host: {}",
                r.stderr
            );
            assert_ne!(r.outputs.get("published").map(String::as_str), Some("true"));
            // a redirect is not retried: one call to the endpoint
            let calls = wx.calls(endpoint);
            assert_eq!(calls, 1, "{endpoint} {status}");
        }
    }
}

#[test]
fn huge_answers_are_bounded() {
    // 100 MB of errmsg on getversioninfo: not read past the 8 MiB cap, retried as a read, exit 3.
    let wx = Wx::new(
        approve().fault(VERSION, None, FaultKind::HugeErrmsg(100 << 20)),
        |a| a,
    );
    let r = wx.run(&["run", "--state-file", "s.json"], &[]);
    assert_eq!(r.code, 3, "{}", &r.stderr[..r.stderr.len().min(4000)]);
    assert!(
        r.stderr.contains("larger than 8 MiB"),
        "{}",
        &r.stderr[..r.stderr.len().min(4000)]
    );
    assert!(
        r.stderr.len() < 64 << 10,
        "stderr is {} bytes",
        r.stderr.len()
    );
    assert!(
        r.stdout.len() < 64 << 10,
        "stdout is {} bytes",
        r.stdout.len()
    );
    assert_eq!(mutations(&wx), 0);
    // 3 MiB of errmsg (under the cap): parsed, and cut to 1 KiB wherever it is printed or kept.
    let wx = Wx::new(
        approve().fault(SUBMIT, None, FaultKind::HugeErrmsg(3 << 20)),
        |a| a,
    );
    let r = wx.run(&["run", "--state-file", "s.json"], &[]);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.len() < 64 << 10,
        "stderr is {} bytes",
        r.stderr.len()
    );
    let outputs: usize = r.outputs.values().map(String::len).sum();
    assert!(outputs < 16 << 10, "outputs are {outputs} bytes");
    let state = std::fs::metadata(wx.dir.path().join("s.json"))
        .unwrap()
        .len();
    assert!(state < 32 << 10, "the state file is {state} bytes");
    assert!(r.stderr.contains("bytes cut)"), "marked as cut");
    assert_eq!(wx.successes(SUBMIT) + wx.successes(RELEASE), 0);
}

#[test]
fn a_mistyped_errcode_is_never_success() {
    for errcode in ["\"40001\"", "40001.0", "0.0", "null", "\"0\"", "true"] {
        let body = format!("{{\"errcode\":{errcode},\"errmsg\":\"x\",\"auditid\":424242}}");
        let wx = Wx::new(approve().fault(SUBMIT, None, FaultKind::Body(body)), |a| a);
        let r = wx.run(&["run"], &[]);
        assert_ne!(r.code, 0, "{errcode}: {}", r.stderr);
        assert_ne!(
            r.outputs["audit-id"], "424242",
            "{errcode}: taken as a submit"
        );
        assert_eq!(r.outputs["published"], "false", "{errcode}");
        assert_eq!(wx.successes(RELEASE), 0, "{errcode}");
        assert!(
            r.stderr.contains("not an integer"),
            "{errcode}: {}",
            r.stderr
        );
    }
    // ...and a body that is not an object, on a read: a protocol error, retried, exit 3.
    for body in ["[]", "\"ok\"", "42"] {
        let wx = Wx::new(
            approve().fault(VERSION, None, FaultKind::Body(body.into())),
            |a| a,
        );
        let r = wx.run(&["run"], &[]);
        assert_eq!(r.code, 3, "{body}: {}", r.stderr);
        assert_eq!(mutations(&wx), 0, "{body}");
    }
}

#[test]
fn an_unknown_review_status_stops_at_once() {
    for body in [
        r#"{"errcode":0,"errmsg":"ok","status":9,"reason":""}"#,
        r#"{"errcode":0,"errmsg":"ok","reason":""}"#,
        r#"{"errcode":0,"errmsg":"ok","status":"0"}"#,
    ] {
        let wx = Wx::new(
            approve().fault("/wxa/get_auditstatus", None, FaultKind::Body(body.into())),
            |a| a,
        );
        let r = wx.run(&["run"], &[]);
        assert_eq!(r.code, 3, "{body}: {}", r.stderr);
        let polls = wx.calls("/wxa/get_auditstatus");
        assert_eq!(polls, 1, "{body}: stopped at the first such answer");
        assert!(
            r.stderr.contains("stopped instead of guessing"),
            "{body}: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains(&body[..20]),
            "the raw answer is shown: {}",
            r.stderr
        );
        assert_eq!(wx.successes(RELEASE), 0);
    }
}

#[test]
fn a_live_version_that_cannot_be_read_stops_before_any_change() {
    for body in [
        // no release_info at all (a live app whose answer lost it)
        r#"{"errcode":0,"errmsg":"ok","exp_info":{"exp_version":"1.4.3","exp_time":1,"exp_desc":"x"}}"#,
        // release_info without a version
        r#"{"errcode":0,"errmsg":"ok","release_info":{"release_time":1}}"#,
        // a version that is not semver
        r#"{"errcode":0,"errmsg":"ok","release_info":{"release_version":"build-7","release_time":1}}"#,
    ] {
        let wx = Wx::new(
            approve().fault(VERSION, Some(1), FaultKind::Body(body.into())),
            |a| a,
        );
        let r = wx.run(&["run"], &[("INPUT_INITIAL_VERSION", "0.1.0")]);
        assert_eq!(r.code, 3, "{body}: {}", r.stderr);
        assert_eq!(mutations(&wx), 0, "{body}");
        assert!(
            r.stderr.contains("version-from explicit:"),
            "{body}: {}",
            r.stderr
        );
        let live = wx.emu.world().app_state(APP).unwrap()["live"]["user_version"].clone();
        assert_eq!(live, "1.4.2", "the live app did not go backwards");
    }
}

#[test]
fn a_lower_version_is_never_published_by_accident() {
    let wx = Wx::new(approve(), |a| a);
    let r = wx.run(
        &["run"],
        &[
            ("INPUT_VERSION_FROM", "explicit:1.3.0"),
            ("INPUT_BUMP", "none"),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("allow-downgrade"), "{}", r.stderr);
    assert_eq!(wx.successes(RELEASE), 0);
    assert_eq!(
        wx.emu.world().app_state(APP).unwrap()["live"]["user_version"],
        "1.4.2"
    );
    // asked for: it goes
    let wx = Wx::new(approve(), |a| a);
    let r = wx.run(
        &["run", "--allow-downgrade"],
        &[
            ("INPUT_VERSION_FROM", "explicit:1.3.0"),
            ("INPUT_BUMP", "none"),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        wx.emu.world().app_state(APP).unwrap()["live"]["user_version"],
        "1.3.0"
    );
}

/// Template mode: the trial already holds 1.5.0 committed from another template; this run's
/// commit of 1.5.0 is lost before WeChat processed it. The read-back sees "1.5.0" without this
/// run's marker: the run commits again and releases its own code, never the other template.
#[test]
fn a_stale_trial_under_the_same_version_is_not_taken_for_ours() {
    let wx = Wx::new(
        approve().fault(COMMIT, Some(2), FaultKind::Http(502)),
        |a| a,
    );
    let other = wx
        .emu
        .world()
        .add_template(
            COMPONENT,
            "wxd0d0d0d0d0d0d0d0",
            "1.5.0",
            &["pages/old/old"],
            4096,
        )
        .unwrap();
    let env = [
        ("INPUT_VERSION_FROM", "explicit:1.5.0"),
        ("INPUT_BUMP", "none"),
    ];
    // an earlier commit of the other template as 1.5.0 (no review)
    let earlier = wx.run(
        &["run", "--wait-timeout", "0"],
        &[
            env[0],
            env[1],
            ("INPUT_TEMPLATE_ID", &other.to_string()),
            ("INPUT_PUBLISH", "never"),
            ("MP_RELEASE_CRASH_AFTER", "commit"),
        ],
    );
    assert_eq!(earlier.code, 3, "{}", earlier.stderr);
    let r = wx.run(&["run"], &env);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.outputs["published"], "true");
    let state = wx.emu.world().app_state(APP).unwrap();
    assert_eq!(state["live"]["user_version"], "1.5.0");
    let desc = state["live"]["user_desc"].as_str().unwrap().to_owned();
    let ext = serde_json::json!({ "extAppid": APP }).to_string();
    let ours = mp_release_core::identity::template(wx.template, &ext);
    assert_ne!(ours, mp_release_core::identity::template(other, &ext));
    assert!(
        desc.contains(&ours),
        "the live code is this run's template: {desc}"
    );
    // the 502 commit was not processed, the retry was: two commits in all, one by this run
    assert_eq!(wx.successes(COMMIT), 2);
    assert!(
        r.stderr.contains("without this run's marker"),
        "{}",
        r.stderr
    );
}

/// Every commit of this run is lost: the run retries, then stops in doubt without submitting.
#[test]
fn an_unconfirmable_commit_stops_in_doubt() {
    let wx = Wx::new(approve().fault(COMMIT, None, FaultKind::Http(502)), |a| a);
    let r = wx.run(&["run"], &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(mutations(&wx), 0);
    assert!(r.stderr.contains("could not be confirmed"), "{}", r.stderr);
    assert_eq!(r.outputs["review-status"], "not-submitted");
}

/// A kill right after the state says done, before anything was reported; the rerun with the same
/// state file reports the same outcome and sends nothing.
#[test]
fn a_finished_state_file_is_reported_again_not_restarted() {
    for scenario in [
        approve(),
        Scenario::default().review(vec![ReviewStep::reject_after_polls(1, "bad icon", &[])]),
    ] {
        let wx = Wx::new(scenario, |a| a);
        for (args, env) in [
            (vec!["run", "--state-file", "s.json"], vec![]),
            (
                vec!["run", "--state-file", "p.json", "--gray-percentage", "20"],
                vec![
                    ("INPUT_VERSION_FROM", "explicit:2.0.0"),
                    ("INPUT_BUMP", "none"),
                ],
            ),
        ] {
            let mut crashing = env.clone();
            crashing.push(("MP_RELEASE_CRASH_AFTER", "done"));
            let killed = wx.run(&args, &crashing);
            assert_eq!(killed.code, 3, "{}", killed.stderr);
            assert!(
                !killed.outputs.contains_key("published"),
                "killed before the outputs"
            );
            let before = wx.emu.world().journal().len();
            let calls_before = mutations(&wx);
            let again = wx.run(&args, &env);
            let third = wx.run(&args, &env);
            assert_eq!(
                wx.emu.world().journal().len(),
                before,
                "no call at all: {}",
                again.stderr
            );
            assert_eq!(mutations(&wx), calls_before);
            assert!(
                again.stderr.contains("records a finished run"),
                "{}",
                again.stderr
            );
            assert_eq!(again.code, third.code);
            assert_eq!(again.outputs, third.outputs);
            let published = again.outputs["published"].clone();
            assert_eq!(
                again.code,
                if published == "true" { 0 } else { 1 },
                "{}",
                again.stderr
            );
            assert!(!again.outputs["version"].is_empty());
        }
        // restart: a new release from the same file
        let before = mutations(&wx);
        let r = wx.run(&["run", "--state-file", "s.json", "--restart"], &[]);
        assert!(mutations(&wx) > before, "{}", r.stderr);
    }
}

/// 2^64-1 (and other values past the bounds) for every duration input, from a flag and from the
/// environment: exit 2 naming it, before any call, no panic.
#[test]
fn overflowing_durations_are_refused_before_any_call() {
    let max = "18446744073709551615";
    for (flag, env, command, over) in [
        ("--wait-timeout", "INPUT_WAIT_TIMEOUT", "run", "31d"),
        ("--poll-interval", "INPUT_POLL_INTERVAL", "run", "2d"),
        ("--poll-max", "INPUT_POLL_MAX", "run", "25h"),
        (
            "--privacy-poll-interval",
            "INPUT_PRIVACY_POLL_INTERVAL",
            "run",
            "2d",
        ),
        (
            "--request-timeout",
            "MP_RELEASE_REQUEST_TIMEOUT",
            "run",
            "2h",
        ),
        ("--wait-timeout", "INPUT_WAIT_TIMEOUT", "wait", "31d"),
        ("--lookback", "INPUT_LOOKBACK", "resume", "91d"),
    ] {
        let wx = Wx::new(approve(), |a| a);
        for value in [max, "18446744073709551615ms", "99999999999999h", over] {
            // resume reads the GitHub settings first: give them, so the duration is what fails
            let gh = [
                ("GITHUB_REF", "refs/heads/main"),
                ("INPUT_GITHUB_TOKEN", "ghs_x"),
                ("GITHUB_REPOSITORY", "o/r"),
            ];
            let by_flag = wx.run(&[command, flag, value], &gh);
            let mut with_env = gh.to_vec();
            with_env.push((env, value));
            let by_env = wx.run(&[command], &with_env);
            for (r, name) in [(by_flag, flag), (by_env, env)] {
                assert_eq!(r.code, 2, "{name}={value}: {}", r.stderr);
                assert!(
                    r.stderr.contains(name) && r.stderr.contains("at most"),
                    "{name}={value}: {}",
                    r.stderr
                );
                assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
            }
        }
        assert!(
            wx.emu.world().journal().is_empty(),
            "{flag}: nothing was sent"
        );
    }
}

/// A token answer whose `expires_in` is 2^64-1 is clamped to WeChat's 7200 s (with a warning):
/// no overflow, and the token is refreshed in time as usual.
#[test]
fn an_absurd_token_lifetime_is_clamped() {
    let body = r#"{"component_access_token":"COMPONENT_absurd0000000000000000","expires_in":18446744073709551615}"#;
    let wx = Wx::new(
        approve().fault(
            "/cgi-bin/component/api_component_token",
            None,
            FaultKind::Body(body.into()),
        ),
        |a| a,
    );
    let r = wx.run(&["run"], &[]);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(
        r.stderr.contains("18446744073709551615 s; using 7200 s"),
        "{}",
        r.stderr
    );
}
