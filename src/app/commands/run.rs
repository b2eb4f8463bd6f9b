//! `mp-release run` (the whole pipeline, or the sandbox) and `mp-release submit` (up to the
//! submission, then detach).

use super::Ctx;
use crate::app::github::Reporter;
use crate::app::merge::Guard;
use crate::app::observe::Observers;
use crate::app::pipeline::{connect, latest, pipeline, pipeline_settings, reporter, Kind};
use crate::app::Report;
use crate::cli::{
    GitHubArgs, PipelineArgs, RunArgs, SubmitArgs, UploadOptions, VersionArgs, WeChatArgs,
};
use crate::output::Workflow;
use crate::settings::NewCommit;
use mp_release_core::github::Handover;
use mp_release_core::pipeline::OnExisting;

pub(super) fn run(a: &RunArgs, cx: &Ctx<'_, '_>, wf: &mut Workflow) -> anyhow::Result<Report> {
    if cx.flag("sandbox", a.sandbox)? {
        // The sandbox's app and credentials are its own; how it publishes (a rollout and its
        // thresholds) and what the emulator scripts are the user's to try.
        let scenario = crate::settings::scenario(a.scenario.as_deref(), cx.layers, &cx.g.cwd)?;
        let ps =
            crate::settings::pipeline(&a.pipeline, cx.layers, &cx.g.cwd, crate::app::sandbox::APP)?;
        let opts = crate::app::sandbox::Options {
            scenario,
            publish: ps.rules.publish,
        };
        return cx.rt.block_on(crate::app::sandbox::sandbox(wf, cx.g, opts));
    }
    if let Some((_, origin)) = cx.layers.pick("scenario", a.scenario.as_deref()) {
        return Err(crate::settings::UsageError::input(
            &origin,
            "scenario only applies with --sandbox (the emulator's scenario for the demo run)",
        )
        .into());
    }
    let args = (&a.wechat, &a.pipeline, &a.version, &a.upload, &a.github);
    drive(Kind::Run, args, cx, wf)
}

pub(super) fn submit(
    a: &SubmitArgs,
    cx: &Ctx<'_, '_>,
    wf: &mut Workflow,
) -> anyhow::Result<Report> {
    let args = (&a.wechat, &a.pipeline, &a.version, &a.upload, &a.github);
    drive(Kind::Submit, args, cx, wf)
}

type Args<'a> = (
    &'a WeChatArgs,
    &'a PipelineArgs,
    &'a VersionArgs,
    &'a UploadOptions,
    &'a GitHubArgs,
);

/// Both: validate everything, then the pipeline with the GitHub reporter listening.
fn drive(
    kind: Kind,
    (w, p, v, u, gh): Args<'_>,
    cx: &Ctx<'_, '_>,
    wf: &mut Workflow,
) -> anyhow::Result<Report> {
    let (ws, mut ps, vs) = pipeline_settings(w, p, v, u, cx.layers, cx.g)?;
    let mut rep = reporter(gh, cx.layers, cx.g, &vs.tag_prefix)?;
    if let Some(group) = rep.settings().merge_group.clone() {
        return cx.rt.block_on(merge_group(&mut rep, &ws.appid, &group));
    }
    if let Some(number) = rep.ordinary_pr() {
        return Ok(cx
            .rt
            .block_on(not_a_release_pr(&mut rep, &ws.appid, number)));
    }
    if let Some(number) = rep.release_pr() {
        cx.rt
            .block_on(new_commit(&mut rep, &ws, &mut ps, number, wf))?;
    }
    let mut observers = Observers::github(rep).with_chats(cx.g);
    cx.rt
        .block_on(pipeline(ws, ps, &vs, cx.g, wf, kind, &mut observers))
}

/// A `merge_group` event: the required check on the queue's candidate commit, from the review of
/// the release PR the group ends with when the candidate's tree is the reviewed tree (success),
/// `neutral` for a group of an ordinary pull request, failure otherwise. WeChat is not called.
async fn merge_group(
    rep: &mut Reporter,
    appid: &str,
    group: &crate::settings::MergeGroup,
) -> anyhow::Result<Report> {
    let guard = match (rep.api(), group.pr) {
        (Some(gh), Some(pr)) => {
            crate::app::merge::check_group(gh, rep.settings(), appid, pr, &group.head_sha)
                .await
                .map_err(|e| {
                    anyhow::anyhow!(
                "the merge queue's commit could not be checked against the reviewed code ({e})"
            )
                })?
        }
        // In doubt: a group that names no pull request does not pass as an ordinary one.
        (Some(_), None) => Guard::Refused(format!(
            "the merge group {} names no pull request in its head_ref (gh-readonly-queue/<base>/pr-<N>-…), so it cannot be told whether it is the reviewed release PR",
            group.head_sha
        )),
        (None, _) => Guard::NotAReleaseMerge,
    };
    let (title, summary, outcome) = match &guard {
        Guard::NotAReleaseMerge => (
            "not a release PR: nothing to review".to_owned(),
            "The merge group does not end with a release pull request: nothing to review.".to_owned(),
            "neutral",
        ),
        Guard::Allowed(r) => (
            format!("{} was approved by WeChat's review", r.version),
            format!(
                "The queue's commit {} has the tree WeChat reviewed: release PR #{}'s head {} (review {}).",
                group.head_sha, r.pr, r.head, r.audit_id
            ),
            "success",
        ),
        Guard::Refused(why) => ("not the code WeChat reviewed".to_owned(), why.clone(), "failure"),
    };
    tracing::info!("merge group {}: {title}", group.head_sha);
    if let Guard::Refused(why) = guard {
        return Err(rep.refuse(&title, why).await);
    }
    rep.complete_now(outcome, &title, &summary).await;
    let mut outputs: Vec<(String, String)> = vec![(
        "review-status".into(),
        match outcome {
            "success" => "approved".into(),
            _ => "not-submitted".into(),
        },
    )];
    outputs.extend(rep.outputs());
    Ok(Report {
        json: serde_json::json!({ "merge-group": group.head_sha, "check": outcome, "title": title }),
        summary: format!("### mp-release · `{appid}` · merge queue\n\n{title}\n\n{summary}\n"),
        outputs,
        annotations: rep.annotations().collect(),
        ..Report::default()
    })
}

/// A release PR whose review is in flight for another commit (a push during the review):
/// `on-new-commit: keep` fails this commit's check and sends nothing, `resubmit` has the pipeline
/// withdraw that review and submit this commit. A review this commit's own check run handed over (a
/// re-run of the job) is followed as usual.
async fn new_commit(
    rep: &mut Reporter,
    ws: &crate::settings::WeChatSettings,
    ps: &mut crate::settings::PipelineSettings,
    number: u64,
    wf: &Workflow,
) -> anyhow::Result<()> {
    let mut calls = connect(ws, wf).await?;
    let Some(a) = latest(&mut calls).await? else {
        return Ok(());
    };
    if !matches!(a.status, 2 | 4) {
        return Ok(());
    }
    let sha = rep.settings().sha.clone().unwrap_or_default();
    // Without GitHub's answer this commit's own hand-over cannot be told from another's: the
    // pipeline's identity checks and on-existing-review decide then.
    let Some(gh) = rep.api() else {
        return Ok(());
    };
    let runs = match gh.check_runs(&sha, &rep.settings().check_name, None).await {
        Ok(runs) => runs,
        Err(e) => {
            tracing::warn!("{e}; the review in flight is left to on-existing-review");
            return Ok(());
        }
    };
    let own = runs
        .into_iter()
        .filter_map(|r| r.external_id.as_deref().and_then(Handover::decode))
        .any(|h| h.appid == ws.appid && h.audit_id == a.auditid);
    if own {
        return Ok(());
    }
    match rep.settings().on_new_commit {
        NewCommit::Keep => {
            let why = format!(
                "review {} (version {}) is in flight for an earlier commit of release PR #{number}; this commit {sha} is not the one under review, so it cannot be merged under that review's approval. When the review ends, push a commit (an empty one will do) to have this code reviewed; or set on-new-commit: resubmit to withdraw the review and submit this commit",
                a.auditid, a.user_version
            );
            Err(rep.refuse("not the commit under review", why).await)
        }
        NewCommit::Resubmit => {
            tracing::warn!(
                "review {} is in flight for an earlier commit of release PR #{number}: it is withdrawn and this commit submitted (WeChat allows 5 withdrawals a day, 10 a month)",
                a.auditid
            );
            ps.rules.on_existing = OnExisting::Withdraw;
            Ok(())
        }
    }
}

/// A pull request `release-pr` does not recognise: the required check is completed as neutral at
/// once and WeChat is not called (no upload, no review, no quota spent).
async fn not_a_release_pr(rep: &mut Reporter, appid: &str, number: u64) -> Report {
    let title = "not a release PR: nothing to review";
    let summary = format!(
        "Pull request #{number} is not a release PR (see the `release-pr` input: by default the \
         branch `mp-release/*`, the label `wechat-release` or a title starting with `release:`), so \
         mp-release uploaded and submitted nothing and spent no review quota. A neutral check counts \
         as passing in branch protection."
    );
    rep.neutral(title, &summary).await;
    tracing::info!("#{number} is not a release PR: nothing submitted to WeChat");
    let mut outputs: Vec<(String, String)> = vec![
        ("review-status".into(), "not-submitted".into()),
        ("published".into(), "false".into()),
    ];
    outputs.extend(rep.outputs());
    let annotations = rep.annotations().collect();
    Report {
        json: serde_json::json!({
            "appid": appid,
            "pull-request": number,
            "release-pr": false,
            "review-status": "not-submitted",
        }),
        summary: format!("### ⏭️ mp-release · `{appid}` · {title}\n\n{summary}\n"),
        outputs,
        annotations,
        ..Report::default()
    }
}
