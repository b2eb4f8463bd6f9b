//! Health-gated phased rollouts end to end: the binary against the emulator, whose operations
//! data (JS errors per version, user feedback) follow the phased release's real share of users.

use crate::github::{last_patch_of_run_4, mount_resume, run_with, FakeGitHub};
use crate::helpers::*;
use mp_release_emulator::{Feedback, JsError, ReviewStep, Scenario, Traffic};
use serde_json::Value;

const GRAY: &str = "/wxa/grayrelease";
const REVERT: &str = "/wxa/revertgrayrelease";
const RELEASE: &str = "/wxa/release";

/// An app of five million users a day whose two versions both have errors at `base` per mille;
/// the new one (whatever version reaches users last) also the extra errors.
fn traffic(base: f64, extra: Vec<JsError>, feedback: Vec<Feedback>) -> Traffic {
    let mut errors = vec![
        error("@previous", "TypeError: x is undefined", base, 0),
        error("@new", "TypeError: x is undefined", base, 0),
    ];
    errors.extend(extra);
    Traffic {
        daily_uv: 5_000_000,
        errors,
        feedback,
        ..Traffic::default()
    }
}

fn error(version: &str, message: &str, per_mille: f64, from_percent: u32) -> JsError {
    JsError {
        version: version.into(),
        message: message.into(),
        stack: format!("{message}\n    at onLoad (pages/index/index.js:12:7)\n    at Page"),
        users_per_day: 0,
        events_per_day: 0,
        per_mille,
        from_percent,
    }
}

/// Reviews approved at the first look, and this traffic.
fn scenario(t: Traffic) -> Scenario {
    let mut s = Scenario::default().review(vec![ReviewStep::approve_after_polls(1)]);
    s.traffic = Some(t);
    s
}

fn world(t: Traffic) -> Wx {
    Wx::new(scenario(t), |a| a)
}

/// `run`, these arguments, then the rollout the tests share.
fn rollout_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["run"];
    args.extend_from_slice(extra);
    args.extend_from_slice(STEPS);
    args
}

const STEPS: &[&str] = &[
    "--rollout",
    "1,5,20,100",
    "--rollout-watch",
    "2h",
    "--wait-timeout",
    "30d",
];

/// The verdicts of a `rollout-status` timeline, in order.
fn verdicts(st: &Value) -> Vec<&str> {
    st["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["verdict"].as_str().unwrap())
        .collect()
}

/// The run's `rollout-status` says `state` at `percent`.
fn assert_rollout(r: &PipelineRun, state: &str, percent: u64) {
    let st = rollout_status(r);
    assert_eq!(
        (st["state"].as_str(), st["percent"].as_u64()),
        (Some(state), Some(percent)),
        "{st}"
    );
}

fn rollout_status(r: &PipelineRun) -> Value {
    serde_json::from_str(&r.outputs["rollout-status"])
        .unwrap_or_else(|e| panic!("{e}: {:?}", r.outputs))
}

#[test]
fn a_healthy_rollout_goes_1_5_20_100_and_releases() {
    let wx = world(traffic(5.0, vec![], vec![]));
    let args = rollout_args(&[]);
    let r = wx.run(&args, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        (wx.successes(GRAY), wx.successes(RELEASE), wx.calls(REVERT)),
        (3, 1, 0)
    );
    let state = wx.emu.world().app_state(APP).unwrap();
    assert_eq!(state["live"]["user_version"], "1.5.0");
    assert_eq!(state["gray"]["status"], 3, "the release ended the plan");
    let st = rollout_status(&r);
    assert_eq!(
        (
            st["state"].as_str(),
            st["percent"].as_u64(),
            st["steps"].as_u64()
        ),
        (Some("complete"), Some(100), Some(4))
    );
    let verdicts = verdicts(&st);
    assert_eq!(
        verdicts,
        ["raised", "raise", "raised", "raise", "raised", "raise", "released"],
        "{st}"
    );
    // the gate saw real figures: the new version's errors follow its share
    let looks: Vec<&Value> = st["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["verdict"] == "raise")
        .collect();
    for l in &looks {
        assert!(
            l["new_users"].as_u64().unwrap() > 0 && l["old_users"].as_u64().unwrap() > 0,
            "{l}"
        );
        let ratio = l["ratio"].as_f64().unwrap();
        assert!((0.7..1.4).contains(&ratio), "{l}");
    }
    assert_eq!(r.outputs["published"], "true");
    assert!(
        r.summary.contains("**Rollout**") && r.summary.contains("| 4 | 100 |"),
        "{}",
        r.summary
    );
    assert!(r.summary.contains("1.5.0 is live"), "{}", r.summary);
    // one jserr_list per version and look, one feedback page per look; then the release's
    // first figures read the new version's errors once more
    assert_eq!(wx.successes("/wxaapi/log/jserr_list"), 7);
    assert!(
        r.summary.contains("**After the release** of 1.5.0"),
        "{}",
        r.summary
    );
    assert_eq!(wx.successes("/wxaapi/feedback/list"), 3);
}

#[test]
fn an_error_spike_at_5_percent_reverts_and_fails_the_check_run() {
    // a new error on a path only users past 5 % reach
    let wx = world(traffic(
        5.0,
        vec![error(
            "@new",
            "TypeError: Cannot read properties of null (reading 'price')",
            3.0,
            5,
        )],
        vec![],
    ));
    let gh = FakeGitHub::new();
    gh.mount_check_runs();
    let chats = crate::notify::Chats::new(true);
    let slack = chats.slack_url();
    let args = rollout_args(&["--notify-on", "reverted,phased,failed"]);
    let r = run_with(&wx, &gh, &args, &[("INPUT_NOTIFY_SLACK", &slack)]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    // the chat heard each step reached, then the revert with its evidence (and no "failed" too)
    let texts = chats.slack_texts();
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert!(
        texts[0].contains("live for 1 % of users") && texts[1].contains("live for 5 % of users"),
        "{texts:?}"
    );
    assert!(
        texts[2].contains("unhealthy: the phased release was reverted"),
        "{texts:?}"
    );
    assert!(
        chats.slack_bodies()[2].contains("reading 'price'"),
        "{:?}",
        chats.slack_bodies()
    );
    assert_eq!(
        (wx.successes(GRAY), wx.successes(REVERT), wx.calls(RELEASE)),
        (2, 1, 0)
    );
    let state = wx.emu.world().app_state(APP).unwrap();
    assert_eq!(state["gray"]["status"], 4, "reverted");
    assert_eq!(
        state["live"]["user_version"], "1.4.2",
        "the live version never moved"
    );
    assert_rollout(&r, "reverted", 5);
    let last = last_patch_of_run_4(&gh);
    assert_eq!(
        (
            last.body["status"].as_str(),
            last.body["conclusion"].as_str()
        ),
        (Some("completed"), Some("failure"))
    );
    let summary = last.body["output"]["summary"].as_str().unwrap();
    for evidence in [
        "reading 'price'",
        "at onLoad (pages/index/index.js:12:7)",
        "new error signatures",
        "Error users: new version",
    ] {
        assert!(summary.contains(evidence), "{evidence}: {summary}");
    }
    assert!(r.summary.contains("🚨"), "{}", r.summary);
}

#[test]
fn crash_feedback_over_the_limit_reverts() {
    let crash = |i: u64| Feedback {
        kind: 2,
        content: format!("打开就闪退 {i}"),
        at_seconds: 600 + i,
        version: Some("@new".into()),
    };
    let wx = world(traffic(5.0, vec![], (0..6).map(crash).collect()));
    let args = rollout_args(&[]);
    let r = wx.run(&args, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!((wx.successes(GRAY), wx.successes(REVERT)), (1, 1));
    assert!(r.stderr.contains("6 crash reports"), "{}", r.stderr);
    // a higher limit lets it through
    let wx = world(traffic(5.0, vec![], (0..6).map(crash).collect()));
    let args = rollout_args(&["--max-crash-feedback", "10"]);
    let r = wx.run(&args, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn a_small_sample_holds_then_raises() {
    // a small app: at 1 % for 2 h the new version has had ~80 users
    let mut t = traffic(5.0, vec![], vec![]);
    t.daily_uv = 100_000;
    let wx = world(t);
    let r = wx.run(&["run", "--rollout", "1,100", "--wait-timeout", "30d"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let st = rollout_status(&r);
    let verdicts = verdicts(&st);
    assert_eq!(verdicts[..2], ["raised", "hold"], "{st}");
    assert!(
        verdicts.contains(&"raise") && verdicts.last() == Some(&"released"),
        "{st}"
    );
    assert!(r.stderr.contains("holding at 1 %"), "{}", r.stderr);
    assert_eq!((wx.successes(GRAY), wx.successes(RELEASE)), (1, 1));
}

/// The process is killed right after each mutation of the rollout (before it saved what
/// happened); the next process with the same state file goes on: one grayrelease per step, at
/// most one revert.
#[test]
fn kill_after_every_step_and_resume() {
    for (crash, spike) in [
        ("grayrelease", false),
        ("grayrelease#2", false),
        ("grayrelease#3", false),
        ("release", false),
        ("grayrelease#2", true),
        ("revertgrayrelease", true),
    ] {
        let extra = if spike {
            vec![error("@new", "TypeError: spike", 3.0, 5)]
        } else {
            vec![]
        };
        let wx = world(traffic(5.0, extra, vec![]));
        let args = rollout_args(&["--state-file", "state.json"]);
        let mut runs = 0;
        let end = loop {
            runs += 1;
            let r = wx.run(&args, &[("MP_RELEASE_CRASH_AFTER", crash)]);
            if r.code != 3 || !r.stderr.contains("stopped right after") {
                break r;
            }
            assert!(runs < 10, "{crash}: {}", r.stderr);
        };
        assert!(runs >= 2, "{crash}: the crash hook never fired");
        if spike {
            assert_eq!(end.code, 1, "{crash}: {}", end.stderr);
            assert_eq!(
                (wx.successes(GRAY), wx.successes(REVERT), wx.calls(RELEASE)),
                (2, 1, 0),
                "{crash}"
            );
        } else {
            assert_eq!(end.code, 0, "{crash}: {}", end.stderr);
            assert_eq!(
                (wx.successes(GRAY), wx.successes(RELEASE)),
                (3, 1),
                "{crash}"
            );
        }
        // no grayrelease was ever refused as a repeat: each step was sent once
        assert_eq!(wx.calls(GRAY), wx.successes(GRAY), "{crash}");
        assert!(wx.calls(REVERT) <= 1, "{crash}");
        // finished means finished: another run sends nothing
        let before = wx.emu.world().journal().len();
        let again = wx.run(&args, &[]);
        assert_eq!(again.code, end.code, "{crash}");
        let mutations = wx.emu.world().journal()[before..]
            .iter()
            .filter(|e| [GRAY, REVERT, RELEASE].contains(&e.path.as_str()))
            .count();
        assert_eq!(mutations, 0, "{crash}");
    }
}

/// A rollout that outlives its run: the run follows it for 1 h, each step watches 2 h.
const DETACHING: [&str; 7] = [
    "run",
    "--rollout",
    "1,20,100",
    "--rollout-watch",
    "2h",
    "--wait-timeout",
    "1h",
];

/// A rollout outlives its job: the check run carries the hand-over (`mp-release/2:` with the
/// step), and `resume` in later processes advances it until it is released.
#[test]
fn resume_advances_a_detached_rollout() {
    let wx = world(traffic(5.0, vec![], vec![]));
    let gh = FakeGitHub::new();
    gh.mount_check_runs();
    let r = run_with(&wx, &gh, &DETACHING, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(wx.successes(GRAY), 1);
    let st = rollout_status(&r);
    assert_eq!(
        (st["state"].as_str(), st["step"].as_u64()),
        (Some("rolling"), Some(1)),
        "{st}"
    );
    assert!(st["next-look"].as_u64().is_some());
    let handover = last_patch_of_run_4(&gh).body["external_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        handover.starts_with("mp-release/2:")
            && handover.contains(":rollout.r.1@7200,20@7200,100@7200:"),
        "{handover}"
    );
    assert_eq!(last_patch_of_run_4(&gh).body["status"], "in_progress");
    // Each resume is a later job: GitHub lists the check run with the hand-over it carries now.
    let mut current = handover.clone();
    let mut resume = |advance: u64| {
        wx.emu.world().advance(advance);
        let gh = FakeGitHub::new();
        gh.mount_check_runs();
        mount_resume(&gh, &current);
        let r = run_with(&wx, &gh, &["resume"], &[]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let last = gh
            .seen()
            .into_iter()
            .rfind(|s| s.method == "PATCH" && s.path == "/repos/acme/shop/check-runs/4");
        if let Some(id) = last.as_ref().and_then(|l| l.body["external_id"].as_str()) {
            current = id.to_owned();
        }
        (r, last)
    };
    // too early — the job that began it follows it until its wait-timeout — so this resume
    // leaves it alone without a single call to WeChat; the check run stays open
    let plan_reads = wx.calls("/wxa/getgrayreleaseplan");
    let (r, _) = resume(0);
    assert_eq!(wx.calls("/wxa/getgrayreleaseplan"), plan_reads);
    assert!(r.stderr.contains("follows it until"), "{}", r.stderr);
    let list: Value = serde_json::from_str(&r.outputs["resumed"]).unwrap();
    assert_eq!(list[0]["result"], "detached", "{list}");
    assert_eq!(wx.successes(GRAY), 1);
    // 2 h later: one look, the raise to 20 %, a new hand-over naming step 2
    let (_, last) = resume(7200);
    assert_eq!(wx.successes(GRAY), 2);
    let last = last.unwrap();
    assert_eq!(last.body["status"], "in_progress");
    let h = last.body["external_id"].as_str().unwrap();
    assert_ne!(h, handover);
    assert!(
        h.contains(":1;0;"),
        "step 2 (index 1), nothing unconfirmed: {h}"
    );
    // 2 h later again: released, the check run succeeds
    let (_, last) = resume(7200);
    assert_eq!((wx.successes(GRAY), wx.successes(RELEASE)), (2, 1));
    let last = last.unwrap();
    // its timeline begins with the steps earlier jobs reached, numbered as they were
    let summary = last.body["output"]["summary"].as_str().unwrap();
    let rows: Vec<(&str, &str, &str)> = summary
        .lines()
        .filter_map(|l| {
            let c: Vec<&str> = l.split('|').map(str::trim).collect();
            (c.len() > 4 && c[1].parse::<u32>().is_ok()).then(|| (c[1], c[2], c[4]))
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("1", "1", "raised"),
            ("2", "20", "raised"),
            ("2", "20", "raise"),
            ("3", "100", "released")
        ],
        "{summary}"
    );
    assert_eq!(
        (
            last.body["status"].as_str(),
            last.body["conclusion"].as_str()
        ),
        (Some("completed"), Some("success"))
    );
    assert_eq!(
        wx.emu.world().app_state(APP).unwrap()["live"]["user_version"],
        "1.5.0"
    );
}

/// Without GitHub (a CLI on a scheduler) the state file is the hand-over: the same command with
/// the same state file continues a detached rollout at its next look, with the steps it began
/// with; a run before the look changes nothing; a finished one is reported again without a call.
#[test]
fn a_state_file_hands_a_rollout_to_the_next_run() {
    let wx = world(traffic(5.0, vec![], vec![]));
    let mut args = DETACHING.to_vec();
    args.extend(["--state-file", "state.json"]);
    let r = wx.run(&args, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_rollout(&r, "rolling", 1);
    assert_eq!(wx.successes(GRAY), 1);
    // before the look: nothing is raised, it stays handed over
    let r = wx.run(&args, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("continuing the rollout of 1.5.0"),
        "{}",
        r.stderr
    );
    assert_rollout(&r, "rolling", 1);
    assert_eq!(
        (
            r.outputs["version"].as_str(),
            r.outputs["previous-version"].as_str()
        ),
        ("1.5.0", "1.4.2")
    );
    assert_eq!(wx.successes(GRAY), 1);
    // at the look: raised to 20 % (other steps given now do not change the rollout it began)
    wx.emu.world().advance(7200);
    let mut other = args.clone();
    other[2] = "1,50,100";
    let r = wx.run(&other, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_rollout(&r, "rolling", 20);
    assert_eq!(wx.successes(GRAY), 2);
    let st = rollout_status(&r);
    assert_eq!(
        (st["step"].as_u64(), st["steps"].as_u64()),
        (Some(2), Some(3)),
        "{st}"
    );
    // the next look releases; afterwards the finished state is only reported
    wx.emu.world().advance(7200);
    let r = wx.run(&args, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_rollout(&r, "complete", 100);
    assert_eq!((wx.successes(GRAY), wx.successes(RELEASE)), (2, 1));
    let calls = wx.emu.world().journal().len();
    let r = wx.run(&args, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.outputs["published"], "true");
    assert_eq!(
        wx.emu.world().journal().len(),
        calls,
        "a finished state calls WeChat"
    );
}

/// Hostile answers at a look: a mistyped error count, or a plan that says it is not running.
/// Nothing is raised on figures the gate cannot read; the run stops in doubt (exit 3) at the
/// percentage it reached.
#[test]
fn unreadable_health_or_plan_stops_the_rollout_where_it_is() {
    use mp_release_emulator::{FaultKind, FaultRule};
    for (endpoint, call, body, says) in [
        (
            "/wxaapi/log/jserr_list",
            1,
            r#"{"data":[{"errorMsgMd5":"a","errorMsg":"x","uv":"many","pv":1}],"totalCount":1}"#,
            "does not fit what the health gate needs",
        ),
        (
            "/wxa/getgrayreleaseplan",
            3,
            r#"{"errcode":0,"errmsg":"ok","gray_release_plan":{"status":"1","gray_percentage":1}}"#,
            "somebody changed it in the console",
        ),
    ] {
        let mut t = traffic(5.0, vec![], vec![]);
        t.daily_uv = 5_000_000;
        let mut s = scenario(t);
        s.faults.push(FaultRule {
            endpoint: endpoint.into(),
            call: Some(call),
            kind: FaultKind::Body(body.into()),
            after: false,
        });
        let wx = Wx::new(s, |a| a);
        let args = rollout_args(&[]);
        let r = wx.run(&args, &[]);
        assert_eq!(r.code, 3, "{endpoint}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{endpoint}: {}", r.stderr);
        assert_eq!(
            (wx.successes(GRAY), wx.calls(REVERT), wx.calls(RELEASE)),
            (1, 0, 0),
            "{endpoint}"
        );
        assert_rollout(&r, "stopped", 1);
    }
}

/// `kill -9` at moments spread over a rollout (each process picks up the state file the last one
/// left): whenever the process dies, no step is raised twice, nothing is raised or released that
/// the next process would send again, and the release happens once.
#[test]
fn kill_9_at_random_moments_never_raises_twice() {
    let mut t = traffic(5.0, vec![], vec![]);
    t.daily_uv = 5_000_000;
    let mut s = scenario(t);
    // every answer takes a few milliseconds: the kills land inside the rollout
    s.latency_ms = 4;
    let wx = Wx::new(s, |a| a);
    let args = rollout_args(&["--state-file", "state.json"]);
    let mut seen = Vec::new();
    for ms in [30u64, 70, 100, 120, 140, 160, 180, 200, 240] {
        let mut child = wx
            .std_cmd(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(ms));
        let _ = child.kill();
        let _ = child.wait();
        seen.push(format!(
            "killed at {ms} ms: {} grayrelease(s), {} release(s)",
            wx.successes(GRAY),
            wx.successes(RELEASE)
        ));
    }
    let end = wx.run(&args, &[]);
    assert_eq!(end.code, 0, "{}", end.stderr);
    assert_eq!(rollout_status(&end)["state"], "complete");
    assert_eq!(
        (
            wx.successes(GRAY),
            wx.calls(GRAY),
            wx.successes(RELEASE),
            wx.calls(REVERT)
        ),
        (3, 3, 1, 0),
        "one grayrelease per step, none refused as a repeat, one release: {seen:?}"
    );
}

/// With `rollout-log-marker`, the real-time log's error entries of each version (the app logs
/// `v<version>` with setFilterMsg) are judged too: errors the JS error list does not see (caught
/// and logged) revert the rollout; without the marker the same rollout goes through.
#[test]
fn errors_in_the_real_time_log_revert_when_the_app_logs_its_version() {
    let world = || {
        let mut t = traffic(5.0, vec![], vec![]);
        t.log_errors = vec![
            error("@previous", "pay failed: code 500", 0.5, 0),
            error("@new", "pay failed: code 500", 4.0, 0),
        ];
        Wx::new(scenario(t), |a| a)
    };
    let wx = world();
    let args = rollout_args(&["--rollout-log-marker", "v{version}"]);
    let r = wx.run(&args, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("real-time log"), "{}", r.stderr);
    assert_eq!((wx.successes(GRAY), wx.successes(REVERT)), (1, 1));
    let calls: Vec<String> = wx
        .emu
        .world()
        .journal()
        .iter()
        .filter(|e| e.path == "/wxaapi/userlog/userlog_search")
        .map(|e| format!("{:?}", e.query))
        .collect();
    assert!(
        calls.iter().any(|q| q.contains("v1.5.0")) && calls.iter().any(|q| q.contains("v1.4.2")),
        "{calls:?}"
    );
    let st = rollout_status(&r);
    let look = &st["history"][1];
    assert!(
        look["log_users"][0].as_u64().unwrap() > look["log_users"][1].as_u64().unwrap() / 20,
        "{look}"
    );
    // the same traffic without the marker: the JS error list alone is healthy
    let wx = world();
    let args = rollout_args(&[]);
    let r = wx.run(&args, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(wx.calls("/wxaapi/userlog/userlog_search"), 0);
}

/// A refused revert is read back, not taken for a failure: the plan still runs, so the revert is
/// sent again (and only then does one take effect).
#[test]
fn a_refused_revert_is_read_back_and_sent_again() {
    use mp_release_emulator::{FaultKind, FaultRule};
    let mut s = scenario(traffic(
        5.0,
        vec![error("@new", "TypeError: spike", 3.0, 5)],
        vec![],
    ));
    s.faults.push(FaultRule {
        endpoint: REVERT.into(),
        call: Some(1),
        kind: FaultKind::Errcode(40097),
        after: false,
    });
    let wx = Wx::new(s, |a| a);
    let args = rollout_args(&[]);
    let r = wx.run(&args, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!((wx.calls(REVERT), wx.successes(REVERT)), (2, 1));
    assert_eq!(rollout_status(&r)["state"], "reverted");
    assert_eq!(wx.emu.world().app_state(APP).unwrap()["gray"]["status"], 4);
}

/// A new version the error list does not know (no error at all where the previous version's rate
/// predicts dozens: its `appVersion` is not the version string) is not "healthy": the rollout
/// stops where it is with exit 3, neither raised nor reverted.
#[test]
fn a_new_version_without_a_single_error_stops_the_rollout_in_doubt() {
    let mut t = traffic(5.0, vec![], vec![]);
    t.errors.retain(|e| e.version == "@previous");
    let wx = world(t);
    let args = rollout_args(&[]);
    let r = wx.run(&args, &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("does not know the new version"),
        "{}",
        r.stderr
    );
    assert_eq!(
        (wx.successes(GRAY), wx.calls(REVERT), wx.calls(RELEASE)),
        (1, 0, 0)
    );
    assert_rollout(&r, "stopped", 1);
}
