//! `mp-release resume`: finish reviews that outlasted the job that submitted them.
//!
//! GitHub keeps the hand-over: every run leaves an in-progress check run whose `external_id` names
//! the app, the review, the version and the publish rule. Resume lists the recent commits of the
//! configured branches, finds those check runs, follows each review (one look by default, for
//! scheduled runs), publishes when the rule says so, and completes the check run.
//!
//! Two resumes racing is safe: the pipeline reads what is live before releasing and takes WeChat's
//! "already released" (85052) as done; the release on GitHub is found by its tag when another run
//! created it first; completing a check run twice writes the same thing.

use super::pipeline::{config, drive, reporter_for};
use super::Report;
use crate::adapters::github::api::{CheckRun, CheckRunBody};
use crate::exit::Exit;
use crate::output::{Level, Workflow};
use crate::settings::{GitHubSettings, Globals, PipelineSettings, ResumeSettings, WeChatSettings};
use mp_release_core::github::Handover;
use mp_release_core::pipeline::{BumpSpec, Stage, State};
use serde_json::{json, Value};
use std::fmt::Write as _;

/// A run writes its hand-over minutes after it starts (upload, commit and the privacy scan come
/// before the submit), and GitHub stops a hosted job at 6 hours: a check run without a hand-over
/// that started longer ago than that (plus a margin) belongs to a job that is gone, also on
/// self-hosted runners.
const ABANDONED_AFTER_SECS: i64 = 6 * 3600 + 15 * 60;

fn is_abandoned(run: &CheckRun) -> bool {
    run.started_at
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .is_some_and(|t| {
            (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_seconds()
                > ABANDONED_AFTER_SECS
        })
}

/// Runs `resume`.
pub async fn resume(
    mut ws: WeChatSettings,
    ps: PipelineSettings,
    rs: ResumeSettings,
    gs: GitHubSettings,
    g: &Globals,
    tag_prefix: &str,
    wf: &mut Workflow,
) -> anyhow::Result<Report> {
    // The hand-over lives on GitHub; a state file would belong to another run.
    ws.state_file = None;
    let lister = reporter_for(gs.clone(), g, tag_prefix)?;
    let gh = lister
        .api()
        .ok_or_else(|| anyhow::anyhow!("resume needs the GitHub API"))?;
    let since = chrono::Utc::now()
        - chrono::Duration::seconds(i64::try_from(rs.lookback_secs).unwrap_or(i64::MAX / 2));
    let since = since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    // One GraphQL request per 100 commits finds the open check runs; when GraphQL is refused (an
    // old GHES, a proxy that only passes REST) the REST API is asked commit by commit.
    let mut commit_count = 0usize;
    let mut candidates: Vec<CheckRun> = Vec::new();
    let mut graphql_failed = None;
    for branch in &rs.branches {
        match gh.open_check_runs(branch, &since, &gs.check_name).await {
            Ok((n, runs)) => {
                commit_count += n;
                candidates.extend(runs);
            }
            Err(e) => {
                graphql_failed = Some(e);
                break;
            }
        }
    }
    if let Some(e) = graphql_failed {
        tracing::warn!("{e}; listing the check runs commit by commit instead");
        candidates.clear();
        let mut shas: Vec<String> = Vec::new();
        for branch in &rs.branches {
            for sha in gh.commits(branch, &since).await? {
                if !shas.contains(&sha) {
                    shas.push(sha);
                }
            }
        }
        commit_count = shas.len();
        for sha in &shas {
            candidates.extend(
                gh.check_runs(sha, &gs.check_name, Some("in_progress"))
                    .await?,
            );
        }
    }
    let mut open: Vec<(CheckRun, Handover)> = Vec::new();
    let mut abandoned: Vec<CheckRun> = Vec::new();
    let mut skipped = 0usize;
    {
        for run in candidates {
            if run.status == "completed" {
                continue;
            }
            let handover = run.external_id.as_deref().and_then(Handover::decode);
            match handover {
                Some(h) if h.appid == ws.appid => {
                    if !open.iter().any(|(r, _)| r.id == run.id) {
                        open.push((run, h));
                    }
                }
                Some(_) => skipped += 1,
                None if is_abandoned(&run) => {
                    if !abandoned.iter().any(|r| r.id == run.id) {
                        abandoned.push(run);
                    }
                }
                None => {
                    tracing::info!(
                        "check run {} on {} has no review yet (its job may still be running); skipped",
                        run.id,
                        run.head_sha
                    );
                    skipped += 1;
                }
            }
        }
    }
    tracing::info!(
        "{} open review(s) of {} on {} commit(s) of {} since {since} ({} GitHub request(s))",
        open.len(),
        ws.appid,
        commit_count,
        rs.branches.join(", "),
        gh.requests_sent()
    );
    let mut results = Vec::new();
    let mut summary = format!(
        "### mp-release resume · `{}`\n\n{} open review(s) on {} commit(s) of {}\n",
        ws.appid,
        open.len(),
        commit_count,
        rs.branches.join(", ")
    );
    let mut annotations = Vec::new();
    let mut exit = Exit::Success;
    for (run, h) in open {
        let cfg = config(&ws, &ps, BumpSpec::default());
        let state = if let Some(progress) = h.rollout.clone() {
            State::continued_rollout(
                cfg,
                h.publish.clone(),
                h.version.clone(),
                Some(h.audit_id),
                progress,
            )
        } else {
            let mut cfg = cfg;
            cfg.rules.publish = h.publish.clone();
            let mut state =
                State::new(cfg, Some((h.version.clone(), None, "none".into()))).at(Stage::Wait);
            state.audit_id = Some(h.audit_id);
            state
        };
        let mut rep = reporter_for(gs.clone(), g, tag_prefix)?.for_check_run(
            run.id,
            &run.head_sha,
            run.html_url.clone(),
        );
        rep.resuming = true;
        tracing::info!(
            "following review {} of {} (check run {} on {})",
            h.audit_id,
            h.version,
            run.id,
            run.head_sha
        );
        let report = drive(
            &ws,
            &ps,
            state,
            wf,
            "mp-release resume",
            &mut super::observe::Observers::github(rep).with_chats(g),
            g.dry_run,
        )
        .await?;
        let get = |k: &str| {
            report
                .outputs
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let result = report.json["outcome"]["result"]
            .as_str()
            .unwrap_or("unknown")
            .to_owned();
        let _ = write!(summary, "\n---\n\n{}", report.summary);
        annotations.extend(report.annotations);
        if report.exit == Exit::Infrastructure {
            exit = Exit::Infrastructure;
        }
        results.push(json!({
            "sha": run.head_sha,
            "check-run-id": run.id,
            "audit-id": h.audit_id,
            "version": h.version,
            "result": result,
            "published": get("published") == "true",
            "release-url": get("release-url"),
        }));
    }
    if skipped > 0 {
        let _ = writeln!(
            summary,
            "\n{skipped} other check run(s) named “{}” were not this app's or carried no review",
            gs.check_name
        );
    }
    for run in &abandoned {
        let body = CheckRunBody {
            status: Some("completed"),
            conclusion: Some("cancelled"),
            output: Some(json!({
                "title": "No review was submitted",
                "summary": "The job that created this check run ended before it submitted a review (cancelled, timed out or failed), so there is nothing to follow. Run the release again for this commit.",
            })),
            completed_at: Some(chrono::Utc::now().to_rfc3339()),
            ..CheckRunBody::default()
        };
        if g.dry_run {
            continue;
        }
        match gh.update_check_run(run.id, &body).await {
            Ok(_) => tracing::info!(
                "check run {} on {} was left open by a job that never submitted; marked cancelled",
                run.id,
                run.head_sha
            ),
            Err(e) => annotations.push((Level::Warning, e.to_string())),
        }
    }
    if !abandoned.is_empty() {
        let _ = writeln!(
            summary,
            "\n{} check run(s) left open by jobs that ended before submitting were marked cancelled",
            abandoned.len()
        );
    }
    let list = Value::Array(results);
    let outputs = vec![
        ("resumed".to_owned(), list.to_string()),
        (
            "resumed-count".to_owned(),
            list.as_array().map_or(0, Vec::len).to_string(),
        ),
    ];
    if exit == Exit::Infrastructure {
        annotations.push((
            Level::Warning,
            "WeChat could not be reached for some reviews; their check runs stay open for the next resume".into(),
        ));
    }
    Ok(Report {
        outputs,
        json: json!({ "resumed": list }),
        summary,
        annotations,
        failure: (exit != Exit::Success)
            .then(|| "some reviews could not be followed; the next resume retries them".into()),
        exit,
        ..Report::default()
    })
}
