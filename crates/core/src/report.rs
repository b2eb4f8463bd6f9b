//! Report rendering for a pipeline run: step outputs and the job summary (Markdown), from the state.
//! Pure text; the binary decides where it goes.

use crate::pipeline::{Outcome, Stage, State};
use std::fmt::Write;

/// The outputs of a pipeline run, in a fixed order.
pub fn outputs(s: &State) -> Vec<(String, String)> {
    let reject = match (&s.outcome, &s.review) {
        (Some(Outcome::Rejected), Some(r)) => reason_lines(&r.reason).join("\n"),
        _ => String::new(),
    };
    let pairs = [
        ("version", s.version.clone().unwrap_or_default()),
        (
            "previous-version",
            s.previous_version.clone().unwrap_or_default(),
        ),
        (
            "audit-id",
            s.audit_id.map(|a| a.to_string()).unwrap_or_default(),
        ),
        ("review-status", s.review_status().to_owned()),
        ("reject-reason", reject),
        ("published", s.published.to_string()),
        (
            "quota-rest",
            s.quota.map(|q| q.rest.to_string()).unwrap_or_default(),
        ),
        ("package-sizes", package_sizes_json(&s.packages)),
        (
            "rollout-status",
            rollout_status(s).map(|v| v.to_string()).unwrap_or_default(),
        ),
    ];
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// When a rollout that goes on looks next (`None` once it ended, however it ended).
fn next_look(s: &State) -> Option<u64> {
    match s.outcome {
        None | Some(Outcome::Detached) => s.rollout.as_ref()?.next_look,
        _ => None,
    }
}

/// The rollout's standing as JSON (`rollout-status`): `state` (`rolling`, `holding`, `complete`,
/// `phased` (ended below 100 %), `reverted`, `unhealthy`, `stopped`), the step (1-based) of how
/// many, the percentage reached, the next look (Unix seconds) and the timeline; `None` without a
/// rollout.
pub fn rollout_status(s: &State) -> Option<serde_json::Value> {
    let r = s.rollout.as_ref()?;
    let spec = s.config.rules.publish.rollout.as_ref()?;
    let percent = r.changes.last().map_or(0, |c| c.1);
    let state = match &s.outcome {
        Some(Outcome::Published { phased: None }) => "complete",
        Some(Outcome::Published { phased: Some(_) }) => "phased",
        Some(Outcome::Unhealthy { reverted: true, .. }) => "reverted",
        Some(Outcome::Unhealthy { .. }) => "unhealthy",
        Some(Outcome::Failed { .. }) => "stopped",
        _ if r.holds > 0 => "holding",
        _ => "rolling",
    };
    let next = next_look(s);
    Some(serde_json::json!({
        "state": state,
        "step": r.step + 1,
        "steps": spec.steps.len(),
        "percent": percent,
        "next-look": next,
        "history": r.history,
    }))
}

/// A rejection reason as lines: WeChat's `<br>` (also `<br/>`, `<br />`, any case) and real line
/// breaks split it; blank pieces are dropped. The raw text stays in the JSON result.
pub fn reason_lines(reason: &str) -> Vec<String> {
    let mut text = String::with_capacity(reason.len());
    let lower = reason.to_ascii_lowercase();
    let mut i = 0;
    while i < reason.len() {
        let rest = &lower[i..];
        let tag = ["<br />", "<br/>", "<br>"]
            .iter()
            .find(|t| rest.starts_with(*t));
        match tag {
            Some(t) => {
                text.push('\n');
                i += t.len();
            }
            None => {
                let c = reason[i..].chars().next().unwrap_or(' ');
                text.push(c);
                i += c.len_utf8();
            }
        }
    }
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `[{"name","size","limit"}]` for the `package-sizes` output (empty when nothing was uploaded).
pub fn package_sizes_json(packages: &[(String, u64, u64)]) -> String {
    if packages.is_empty() {
        return String::new();
    }
    let list: Vec<serde_json::Value> = packages
        .iter()
        .map(|(n, size, limit)| serde_json::json!({ "name": n, "size": size, "limit": limit }))
        .collect();
    serde_json::Value::Array(list).to_string()
}

/// A size in KB or MB, the way WeChat's console shows them.
pub fn human_size(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let b = bytes as f64;
    if bytes >= 1024 * 1024 {
        format!("{:.2} MB", b / 1024.0 / 1024.0)
    } else {
        format!("{:.1} KB", b / 1024.0)
    }
}

/// The package table of a summary: each package against its limit.
pub fn package_table(packages: &[(String, u64, u64)]) -> String {
    let mut out = String::from("| package | size | limit | used |\n|---|---|---|---|\n");
    for (name, size, limit) in packages {
        let label = match name.as_str() {
            "__FULL__" => "all packages".to_owned(),
            "__APP__" => "main package".to_owned(),
            root => format!("subpackage `{root}`"),
        };
        #[allow(clippy::cast_precision_loss)]
        let pct = if *limit == 0 {
            0.0
        } else {
            *size as f64 * 100.0 / *limit as f64
        };
        let _ = writeln!(
            out,
            "| {label} | {} | {} | {pct:.0} % |",
            human_size(*size),
            human_size(*limit)
        );
    }
    out
}

/// One line that says how the run ended.
pub fn headline(s: &State) -> String {
    // Before the version stage has read WeChat's live version there is no version yet.
    let v = s.version.as_deref().unwrap_or("the next version");
    match &s.outcome {
        Some(Outcome::Published { phased: None }) => format!("{v} is live"),
        Some(Outcome::Published { phased: Some(p) }) => {
            format!("{v} is live for {p} % of users (phased release)")
        }
        Some(Outcome::Approved) => format!("{v} was approved (not published: publish is `never`)"),
        Some(Outcome::Rejected) => format!("{v} was rejected by WeChat's review"),
        Some(Outcome::Withdrawn) => format!("the review of {v} was withdrawn"),
        Some(Outcome::Detached) => match s.rollout.as_ref().and_then(|r| r.changes.last()) {
            Some((_, pct)) => format!(
                "{v} is rolling out at {pct} % of users; `mp-release resume` advances the rollout"
            ),
            None => {
                format!("{v} is still in review; `mp-release resume` or `wait` will follow it")
            }
        },
        Some(Outcome::Unhealthy {
            reverted: true,
            percent,
            ..
        }) => format!(
            "{v} was unhealthy at {percent} % and the phased release was reverted: its users are back on the previous version"
        ),
        Some(Outcome::Unhealthy {
            reverted: false,
            percent,
            ..
        }) => format!(
            "{v} was unhealthy at {percent} %; the phased release was left there (on-unhealthy: hold)"
        ),
        Some(Outcome::DryRun { next }) => {
            format!("dry run: {v} would go on with {next}; nothing was changed")
        }
        Some(Outcome::Failed { message, .. }) => format!("the release of {v} stopped: {message}"),
        None if s.version.is_none() => format!("release in progress ({})", s.stage.name()),
        None => format!("{v}: in progress ({})", s.stage.name()),
    }
}

/// The rollout's timeline: one row per event (a step reached, a look and its verdict).
pub fn rollout_table(r: &crate::pipeline::RolloutProgress, next: Option<u64>) -> String {
    let mut out = String::from(
        "**Rollout**\n\n| step | % | when (UTC) | verdict | error users new / previous | share | ratio | crash feedback |\n|---|---|---|---|---|---|---|---|\n",
    );
    let mut step = 0usize;
    for h in &r.history {
        if h.verdict.is_step() {
            step += 1;
        }
        let when = utc(h.at);
        let figures = |v: String| {
            if h.share.is_some() {
                v
            } else {
                "–".to_owned()
            }
        };
        let _ = writeln!(
            out,
            "| {step} | {} | {when} | {}{} | {} | {} | {} | {} |",
            h.percent,
            h.verdict,
            h.why
                .as_deref()
                .map(|w| format!(": {}", cell(w)))
                .unwrap_or_default(),
            figures(format!("{} / {}", h.new_users, h.old_users)),
            h.share
                .map_or_else(|| "–".to_owned(), |x| format!("{:.1} %", x * 100.0)),
            h.ratio
                .map_or_else(|| "–".to_owned(), |x| format!("{x:.2}×")),
            figures(h.crash_feedback.to_string()),
        );
    }
    if r.history.is_empty() {
        for (at, pct) in &r.changes {
            step += 1;
            let _ = writeln!(
                out,
                "| {step} | {pct} | {} | reached | – | – | – | – |",
                utc(*at)
            );
        }
    }
    if let Some(next) = next {
        let _ = writeln!(out, "\nNext look: {}", utc(next));
    }
    out
}

/// `YYYY-MM-DD HH:MM` (UTC) of a Unix time.
pub(crate) fn utc(t: u64) -> String {
    let day = crate::health::beijing_date(t.saturating_sub(8 * 3600));
    format!("{day} {:02}:{:02}", t % 86_400 / 3600, t % 3600 / 60)
}

fn duration(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs} s"),
        60..=3599 if secs.is_multiple_of(60) => format!("{} min", secs / 60),
        60..=3599 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

/// Escapes text for a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// The job summary: header, result, stage timeline, review, quota, notes.
pub fn summary(s: &State, title: &str) -> String {
    let mut out = String::new();
    let icon = match &s.outcome {
        Some(Outcome::Published { .. } | Outcome::Approved) => "✅",
        Some(Outcome::Detached) | None => "⏳",
        Some(Outcome::Withdrawn) => "↩️",
        Some(Outcome::DryRun { .. }) => "🧪",
        Some(Outcome::Rejected | Outcome::Failed { .. }) => "❌",
        Some(Outcome::Unhealthy { .. }) => "🚨",
    };
    let from = s
        .previous_version
        .as_deref()
        .map(|p| format!("{p} → "))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "### {icon} {title} · `{}` · {from}**{}**\n",
        s.config.appid,
        s.version.as_deref().unwrap_or("?")
    );
    let _ = writeln!(out, "{}\n", cell(&headline(s)));
    // The timeline on one line keeps the happy path's summary within 20 lines.
    let stages: Vec<String> = s
        .timeline
        .iter()
        .filter(|sp| sp.stage != Stage::Done)
        .map(|sp| {
            let t = sp
                .end
                .map_or_else(|| "…".to_owned(), |e| duration(e.saturating_sub(sp.start)));
            format!("{} {t}", sp.stage.name())
        })
        .collect();
    let _ = writeln!(out, "**Stages** {}\n", stages.join(" → "));
    if let Some(id) = s.audit_id {
        let _ = write!(out, "**Review** {id}: {}", s.review_status());
        if s.polls > 0 {
            let _ = write!(out, " after {} poll(s)", s.polls);
        }
        let _ = writeln!(out);
        if let Some(r) = s.review.as_ref().filter(|r| !r.reason.is_empty()) {
            // WeChat separates the points of a rejection with `<br>`: one quoted paragraph each.
            let quoted: Vec<String> = reason_lines(&r.reason)
                .iter()
                .map(|l| format!("> {}", cell(l)))
                .collect();
            let _ = writeln!(out, "\n{}", quoted.join("\n>\n"));
            if !r.screenshot.is_empty() {
                let _ = writeln!(
                    out,
                    ">\n> screenshots (media ids): {}",
                    cell(&r.screenshot.replace('|', ", "))
                );
            }
        }
        let _ = writeln!(out);
    }
    if let Some(r) = &s.rollout {
        let _ = writeln!(out, "{}", rollout_table(r, next_look(s)));
    }
    if let Some(Outcome::Unhealthy { why, .. }) = &s.outcome {
        let _ = writeln!(out, "> {}\n", cell(why));
    }
    if !s.packages.is_empty() {
        let _ = writeln!(out, "{}", package_table(&s.packages));
    }
    if let Some(q) = s.quota {
        let _ = writeln!(
            out,
            "**Review quota** {}/{} left this month · speed-ups {}/{}\n",
            q.rest, q.limit, q.speedup_rest, q.speedup_limit
        );
    }
    for note in &s.notes {
        let _ = writeln!(out, "- {}", cell(note));
    }
    // The release's first operations figures close the summary (and the check run).
    if let Some(a) = &s.after_release {
        if !out.ends_with("\n\n") {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "{}",
            crate::stats::after_release_markdown(a).trim_end()
        );
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::pipeline::{Config, Quota, Review};

    fn state() -> State {
        let mut s = State::new(
            Config {
                appid: "wxa1".into(),
                template: None,
                bump: crate::pipeline::BumpSpec::default(),
                rules: crate::pipeline::Rules {
                    privacy_api_not_use: false,
                    privacy_poll_secs: 60,
                    on_existing: crate::pipeline::OnExisting::Fail,
                    speedup: false,
                    wait: crate::pipeline::WaitSpec::default(),
                    publish: crate::pipeline::PublishSpec::default(),
                    allow_downgrade: false,
                },
                upload: false,
                marker: None,
            },
            Some(("1.3.0".into(), Some("1.2.0".into()), "minor".into())),
        );
        s.audit_id = Some(42);
        s.quota = Some(Quota {
            rest: 9,
            limit: 10,
            speedup_rest: 1,
            speedup_limit: 2,
        });
        s
    }

    #[test]
    fn a_run_before_its_version_says_so_without_a_question_mark() {
        let mut s = state();
        s.version = None;
        s.outcome = None;
        s.stage = Stage::Version;
        assert_eq!(headline(&s), "release in progress (version)");
        s.outcome = Some(Outcome::Failed {
            code: None,
            message: "no live version".into(),
        });
        assert_eq!(
            headline(&s),
            "the release of the next version stopped: no live version"
        );
    }

    #[test]
    fn rejected_run_reports_reason_and_screenshots() {
        let mut s = state();
        s.review = Some(Review {
            status: 1,
            reason: "icon<br>blurry | tiny".into(),
            screenshot: "m1|m2".into(),
        });
        s.outcome = Some(Outcome::Rejected);
        let out = outputs(&s);
        let get = |k: &str| out.iter().find(|(n, _)| n == k).unwrap().1.clone();
        assert_eq!(
            (
                get("review-status"),
                get("reject-reason"),
                get("published"),
                get("quota-rest")
            ),
            (
                "rejected".into(),
                "icon\nblurry | tiny".into(),
                "false".into(),
                "9".into()
            )
        );
        let md = summary(&s, "mp-release");
        assert!(md.contains("> icon\n>\n> blurry \\| tiny"), "{md}");
        assert_eq!(
            reason_lines("1. 页面<BR/>2. 图标 <br /> <br>3. x\n4. y"),
            ["1. 页面", "2. 图标", "3. x", "4. y"]
        );
        assert!(md.contains("screenshots (media ids): m1, m2"), "{md}");
        assert!(md.contains("1.2.0 → **1.3.0**"), "{md}");
    }

    /// A finished run with a realistic timeline, for the snapshots below (and github's).
    pub(crate) fn finished(outcome: Outcome, review: Option<Review>) -> State {
        let mut s = state();
        s.packages = vec![
            ("__FULL__".into(), 812_400, 12 * 1024 * 1024),
            ("__APP__".into(), 612_000, 2 * 1024 * 1024),
            ("sub/".into(), 200_400, 2 * 1024 * 1024),
        ];
        let t0 = 1_767_225_600;
        let stages = [
            (Stage::Version, 0, 1),
            (Stage::Upload, 1, 4),
            (Stage::Precheck, 4, 64),
            (Stage::Submit, 64, 65),
            (Stage::Wait, 65, 9_065),
            (Stage::Publish, 9_065, 9_066),
        ];
        s.timeline = stages
            .iter()
            .map(|(st, a, b)| crate::pipeline::Span {
                stage: *st,
                start: t0 + a,
                end: Some(t0 + b),
            })
            .collect();
        s.polls = 6;
        s.published = matches!(outcome, Outcome::Published { .. });
        s.review = review;
        s.outcome = Some(outcome);
        s
    }

    pub(crate) fn review(status: u8, reason: &str, screenshot: &str) -> Option<Review> {
        Some(Review {
            status,
            reason: reason.into(),
            screenshot: screenshot.into(),
        })
    }

    /// The five runs every report is snapshotted for.
    pub(crate) fn cases() -> [(&'static str, State); 5] {
        [
            (
                "approved_and_published",
                finished(Outcome::Published { phased: None }, review(0, "", "")),
            ),
            (
                "rejected",
                finished(
                    Outcome::Rejected,
                    review(1, "1. 页面内容不完整<br>2. 图标模糊", "media-1|media-2"),
                ),
            ),
            ("detached", finished(Outcome::Detached, review(2, "", ""))),
            ("withdrawn", finished(Outcome::Withdrawn, review(3, "", ""))),
            (
                "phased_release",
                finished(Outcome::Published { phased: Some(20) }, review(0, "", "")),
            ),
        ]
    }

    #[test]
    fn summary_snapshots() {
        for (name, s) in cases() {
            let md = summary(&s, "mp-release");
            insta::assert_snapshot!(name, md);
            if name.contains("published") || name.contains("phased") {
                assert!(
                    md.lines().count() <= 20,
                    "{name}: the happy path reads in 20 lines\n{md}"
                );
            }
        }
    }

    #[test]
    fn published_summary_is_short() {
        let mut s = state();
        s.review = Some(Review {
            status: 0,
            reason: String::new(),
            screenshot: String::new(),
        });
        s.outcome = Some(Outcome::Published { phased: None });
        s.published = true;
        let md = summary(&s, "mp-release");
        assert!(md.lines().count() <= 20, "{md}");
        assert!(
            md.contains("1.3.0 is live") && md.contains("9/10 left"),
            "{md}"
        );
        assert_eq!(
            outputs(&s)
                .iter()
                .find(|(k, _)| k == "published")
                .unwrap()
                .1,
            "true"
        );
    }
}
