//! `mp-release run` (the whole pipeline, or the sandbox) and `mp-release submit` (up to the
//! submission, then detach).

use super::Ctx;
use crate::app::github::Reporter;
use crate::app::observe::Observers;
use crate::app::pipeline::{pipeline, pipeline_settings, reporter, Kind};
use crate::app::Report;
use crate::cli::{
    GitHubArgs, PipelineArgs, RunArgs, SubmitArgs, UploadOptions, VersionArgs, WeChatArgs,
};
use crate::output::Workflow;

pub(super) fn run(a: &RunArgs, cx: &Ctx<'_, '_>, wf: &mut Workflow) -> anyhow::Result<Report> {
    if cx.flag("sandbox", a.sandbox)? {
        return cx.rt.block_on(crate::app::sandbox::sandbox(wf));
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
    let (ws, ps, vs) = pipeline_settings(w, p, v, u, cx.layers, cx.g)?;
    let mut rep = reporter(gh, cx.layers, cx.g, &vs.tag_prefix)?;
    if let Some(number) = rep.ordinary_pr() {
        return Ok(cx
            .rt
            .block_on(not_a_release_pr(&mut rep, &ws.appid, number)));
    }
    let mut observers = Observers::github(rep);
    cx.rt
        .block_on(pipeline(ws, ps, &vs, cx.g, wf, kind, &mut observers))
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
