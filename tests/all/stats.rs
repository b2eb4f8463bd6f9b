//! `mp-release stats` end to end: the binary against the emulator's operations data, with a
//! platform's token and with the mini program's own; T+1 (today never asked, yesterday not ready
//! in the morning), a window crossing a release, and the charts checked by Mermaid's own parser.

use crate::helpers::*;
use mp_release_emulator::{FaultKind, JsError, Scenario, Traffic};
use serde_json::Value;

const TREND: &str = "/datacube/getweanalysisappiddailyvisittrend";

fn world() -> Wx {
    let error = |version: &str, message: &str, per_mille: f64| JsError {
        version: version.into(),
        message: message.into(),
        stack: format!("{message}\n    at onShow (pages/index/index.js:3:9)"),
        users_per_day: 0,
        events_per_day: 0,
        per_mille,
        from_percent: 0,
    };
    let s = Scenario {
        traffic: Some(Traffic {
            daily_uv: 20_000,
            errors: vec![
                error("@previous", "TypeError: a is undefined", 3.0),
                error("@new", "TypeError: a is undefined", 2.0),
                error("@new", "RangeError: page out of range", 1.0),
            ],
            ..Traffic::default()
        }),
        ..Scenario::default()
    };
    Wx::new(s, |a| a)
}

/// Moves the emulator to `hour` (Beijing) of the day after `days` more days, releases 1.5.0
/// `released_days_ago` days before that, and returns a fresh ticket (the old one expired).
fn at(wx: &Wx, days: u64, hour: u64, released_days_ago: Option<u64>) -> String {
    let mut w = wx.emu.world();
    let now = w.now();
    let midnight = mp_release_core::health::beijing_day_start(now) + 86_400;
    let target = midnight + days * 86_400 + hour * 3600;
    w.advance(target - now);
    if let Some(ago) = released_days_ago {
        w.released(APP, "1.5.0", midnight + (days - ago) * 86_400 + 11 * 3600);
    }
    w.push_ticket(COMPONENT).unwrap()
}

/// The summary's closing section on the release of 1.5.0.
fn after_release(summary: &str) -> &str {
    summary
        .split("**After the release** of 1.5.0")
        .nth(1)
        .unwrap_or_else(|| panic!("{summary}"))
}

/// The versions whose errors a `stats` output compares.
fn versions(s: &Value) -> Vec<&str> {
    s["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["version"].as_str().unwrap())
        .collect()
}

fn stats_of(r: &PipelineRun) -> Value {
    serde_json::from_str(&r.outputs["stats"]).unwrap_or_else(|e| panic!("{e}: {}", r.stderr))
}

#[test]
fn a_platform_sees_a_week_crossing_a_release() {
    let wx = world();
    let ticket = at(&wx, 14, 12, Some(3));
    let before = wx.emu.world().journal().len();
    let r = wx.run(&["stats"], &[("INPUT_COMPONENT_VERIFY_TICKET", &ticket)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = stats_of(&r);
    let days = s["days"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    assert!(
        days.iter()
            .all(|d| d["visits"]["visit_uv"].as_u64().unwrap() > 0),
        "{s}"
    );
    assert_eq!(s["before"].as_array().unwrap().len(), 7);
    assert_eq!(s["releases"][0]["version"], "1.5.0", "{s}");
    // the live version against the one before it, from the release history
    assert_eq!(versions(&s), ["1.5.0", "1.4.2"]);
    let new = &s["errors"][0]["errors"]["signatures"];
    assert_eq!(new.as_object().unwrap().len(), 2);
    assert!(
        r.summary
            .contains("**new**: `RangeError: page out of range`"),
        "{}",
        r.summary
    );
    assert!(
        r.summary.contains("1.5.0 released") && r.summary.contains("1.5.0 (live since"),
        "{}",
        r.summary
    );
    assert_eq!(r.summary.matches("```mermaid").count(), 2, "{}", r.summary);
    assert!(
        r.stdout.contains('▁') || r.stdout.contains('█'),
        "the terminal table has sparklines: {}",
        r.stdout
    );
    // T+1: 14 daily reads, none for today
    let w = wx.emu.world();
    let today = mp_release_core::health::beijing_date(w.now()).replace('-', "");
    let trend: Vec<&mp_release_emulator::JournalEntry> = w.journal()[before..]
        .iter()
        .filter(|e| e.path == TREND)
        .collect();
    assert_eq!(trend.len(), 14);
    assert!(
        trend.iter().all(|e| !e.body.contains(&today)),
        "today was asked for"
    );
    assert!(
        w.journal()[before..]
            .iter()
            .all(|e| e.errcode.unwrap_or(0) == 0),
        "every call succeeded"
    );
}

#[test]
fn the_own_token_reads_the_same_figures_without_versions() {
    let wx = world();
    let _ = at(&wx, 10, 12, Some(2));
    let own = [
        ("INPUT_COMPONENT-APPID", ""),
        ("INPUT_AUTHORIZER-REFRESH-TOKEN", ""),
        ("INPUT_APP_SECRET", "secret-wxa1a1a1a1a1a1a1a1"),
    ];
    let before = wx.emu.world().journal().len();
    let r = wx.run(&["stats"], &own);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = stats_of(&r);
    assert_eq!(s["errors"][0]["version"], "0", "all versions together: {s}");
    assert!(
        s["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("stats-versions")),
        "{s}"
    );
    assert!(s["releases"].as_array().unwrap().is_empty());
    let paths: Vec<String> = wx.emu.world().journal()[before..]
        .iter()
        .map(|e| e.path.clone())
        .collect();
    assert_eq!(paths[0], "/cgi-bin/stable_token", "never cgi-bin/token");
    assert!(
        !paths
            .iter()
            .any(|p| p.starts_with("/wxa/getversioninfo") || p == "/cgi-bin/token"),
        "{paths:?}"
    );
    // naming the versions compares them
    let r = wx.run(
        &[
            "stats",
            "--stats-versions",
            "1.5.0,1.4.2",
            "--stats-days",
            "3",
        ],
        &own,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = stats_of(&r);
    assert_eq!(s["days"].as_array().unwrap().len(), 3);
    assert_eq!(versions(&s), ["1.5.0", "1.4.2"]);
    assert!(!r.stderr.contains("secret-wxa1a1a1a1a1a1a1a1"));
}

#[test]
fn yesterday_is_missing_in_the_morning_never_zero() {
    let wx = world();
    let ticket = at(&wx, 9, 8, None);
    let r = wx.run(
        &["stats", "--output", "json"],
        &[("INPUT_COMPONENT_VERIFY_TICKET", &ticket)],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(
        &r.stdout
            .lines()
            .filter(|l| !l.starts_with("::"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    let days = v["stats"]["days"].as_array().unwrap();
    assert!(days.last().unwrap()["visits"].is_null(), "{v}");
    assert!(days[..6].iter().all(|d| !d["visits"].is_null()));
    assert!(
        v["stats"]["notes"][0]
            .as_str()
            .unwrap()
            .contains("not ready yet"),
        "{v}"
    );
    assert!(r.summary.contains("not ready yet (T+1)"), "{}", r.summary);
    assert!(
        r.summary.contains("these 6 day(s)"),
        "averages over the days with figures: {}",
        r.summary
    );
    assert!(
        !r.stdout.contains('▁'),
        "json output carries no terminal table"
    );
}

/// `stats` at noon of the tenth day, the `call`-th call of `endpoint` answered with `kind`.
fn stats_with_fault(endpoint: &str, call: u32, kind: FaultKind) -> (Wx, PipelineRun) {
    let wx = Wx::new(Scenario::default().fault(endpoint, Some(call), kind), |a| a);
    let ticket = at(&wx, 9, 12, None);
    let r = wx.run(&["stats"], &[("INPUT_COMPONENT_VERIFY_TICKET", &ticket)]);
    (wx, r)
}

#[test]
fn a_date_range_error_is_explained() {
    let (_, r) = stats_with_fault(TREND, 3, FaultKind::Errcode(61501));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("61501") && r.stderr.contains("T+1"),
        "{}",
        r.stderr
    );
    // The same refusal for yesterday, read last (a runner clock a little ahead of WeChat's around
    // Beijing midnight): yesterday is missing, with WeChat's words; the rest of the week stands.
    let (wx, r) = stats_with_fault(TREND, 14, FaultKind::Errcode(61501));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let st = stats_of(&r);
    assert!(st["days"][6]["visits"].is_null(), "{st}");
    assert!(st["days"][5]["visits"].is_object(), "{st}");
    let notes = st["notes"].to_string();
    assert!(
        notes.contains(&format!(
            "{} is not ready yet (WeChat refused its figures",
            st["days"][6]["date"].as_str().unwrap()
        )) && notes.contains("61501"),
        "{notes}"
    );
    assert_eq!(wx.calls(TREND), 14, "no day read twice");
}

#[test]
fn bad_stats_inputs_are_refused_before_any_call() {
    let wx = world();
    for (args, says) in [
        (vec!["stats", "--stats-days", "0"], "stats-days"),
        (vec!["stats", "--stats-days", "31"], "stats-days"),
        (
            vec!["stats", "--stats-versions", "1.5.0,1.4.2,1.3.0"],
            "stats-versions",
        ),
        (vec!["stats", "--stats-versions", ","], "stats-versions"),
        (
            vec!["stats", "--stats-versions", "1.5.0, 1.5.0"],
            "1.5.0 twice",
        ),
    ] {
        let before = wx.emu.world().journal().len();
        let r = wx.run(&args, &[]);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{}", r.stderr);
        assert_eq!(
            wx.emu.world().journal().len(),
            before,
            "{args:?} called WeChat"
        );
    }
}

/// The sandbox's week, and every chart mp-release writes, parse with Mermaid's own parser (the
/// one GitHub renders summaries with).
#[test]
fn the_sandbox_week_and_its_charts() {
    let dir = tempfile::tempdir().unwrap();
    let trap = NetTrap::new();
    let mut c = bin(dir.path(), &trap);
    c.args(["stats", "--sandbox"])
        .env("GITHUB_STEP_SUMMARY", dir.path().join("summary.md"))
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", dir.path().join("out"));
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert_eq!(summary.matches("```mermaid").count(), 2, "{summary}");
    assert!(summary.contains("1.5.0 released"), "{summary}");
    assert_eq!(trap.connections(), 0);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let install = std::process::Command::new("bash")
        .arg(root.join("scripts/install-mermaid.sh"))
        .output()
        .unwrap();
    assert!(
        install.status.success(),
        "scripts/install-mermaid.sh: {}",
        String::from_utf8_lossy(&install.stderr)
    );
    let modules = String::from_utf8(install.stdout).unwrap().trim().to_owned();
    let snapshots = root
        .join("crates/core/src/stats/snapshots/mp_release_core__stats__tests__stats_markdown.snap");
    let out = std::process::Command::new("node")
        .arg(root.join("scripts/validate-mermaid.mjs"))
        .arg(dir.path().join("summary.md"))
        .arg(snapshots)
        .env("NODE_PATH", modules)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("4 chart(s) checked, 0 refused"), "{text}");
}

/// The summary of a run that publishes ends with the release's first figures: for a fresh
/// release, none yet and when they come; for one found live days later (a `publish` that finds
/// it released), the days since the release.
#[test]
fn a_release_ends_its_summary_with_its_first_figures() {
    let wx = world();
    let r = wx.run(&["run"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let tail = after_release(&r.summary);
    assert!(
        tail.contains("No daily figures yet") && tail.contains("arrive the morning after"),
        "{tail}"
    );
    // three days later, at noon
    let ticket = at(&wx, 3, 12, None);
    let r = wx.run(&["publish"], &[("INPUT_COMPONENT_VERIFY_TICKET", &ticket)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let tail = after_release(&r.summary);
    assert!(
        tail.matches(" visitors, ").count() >= 3,
        "the days since the release: {tail}"
    );
    assert!(tail.contains("JS errors of 1.5.0 so far"), "{tail}");
}

/// Hostile or broken datacube answers: a figure of the wrong type, rows dated another day, absurd
/// numbers, pages of another day, a huge body. What cannot be taken as the day asked stops the
/// read in doubt (exit 3) naming what was seen; nothing is ever shown as a day's figures that is
/// not that day's; nothing panics.
#[test]
fn hostile_datacube_answers() {
    const PAGES: &str = "/datacube/getweanalysisappidvisitpage";
    let row = |date: &str, pv: &str| {
        format!(
            r#"{{"list":[{{"ref_date":"{date}","visit_pv":{pv},"visit_uv":1,"visit_uv_new":1,"session_cnt":1,"stay_time_uv":1.0,"stay_time_session":1.0,"visit_depth":1.0}}]}}"#
        )
    };
    let run = |endpoint: &str, kind: FaultKind| stats_with_fault(endpoint, 3, kind).1;
    // The third trend read is the second day of the week before (Beijing 2025-12-29 here).
    for (body, says) in [
        (row("20251229", "\"12\""), "expected u64"),
        (row("20251229", "-5"), "expected u64"),
        (row("20251229", "1e30"), "expected u64"),
        (r#"{"list":{"a":1}}"#.to_owned(), "expected a sequence"),
        (
            row("20990101", "3"),
            "asked for the figures of 20251229, WeChat answered with rows dated 20990101",
        ),
    ] {
        let r = run(TREND, FaultKind::Body(body.clone()));
        assert_eq!(r.code, 3, "{body}: {}", r.stderr);
        assert!(
            r.stderr.contains(TREND) && r.stderr.contains(says),
            "{body}: {}",
            r.stderr
        );
        assert!(!r.outputs.contains_key("stats"), "{body}: figures reported");
    }
    // The right day, absurd but well-typed figures: shown as given, summed without a panic.
    let r = run(
        TREND,
        FaultKind::Body(row("20251229", &u64::MAX.to_string())),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let st = stats_of(&r);
    assert_eq!(st["before"][1]["visits"]["visit_pv"], u64::MAX);
    // Pages of another day: left out with a note, the rest stands.
    let r = run(
        PAGES,
        FaultKind::Body(
            r#"{"ref_date":"20990101","list":[{"page_path":"pages/x/x","page_visit_pv":9}]}"#
                .into(),
        ),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let st = stats_of(&r);
    assert_eq!(st["pages"], serde_json::json!([]), "{st}");
    assert!(
        st["notes"].to_string().contains("answered for 20990101"),
        "{st}"
    );
    // A huge body is not read past the cap: the read is tried again and the week completes.
    let r = run(TREND, FaultKind::HugeErrmsg(64 << 20));
    assert_eq!(r.code, 0, "{}", &r.stderr[..r.stderr.len().min(2000)]);
    assert!(
        r.stderr.contains("larger than 8 MiB"),
        "{}",
        &r.stderr[..r.stderr.len().min(2000)]
    );
    assert!(stats_of(&r)["before"][1]["visits"].is_object());
    assert!(
        r.stderr.len() < 64 << 10,
        "stderr is {} bytes",
        r.stderr.len()
    );
}
