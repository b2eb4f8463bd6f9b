//! `mp-release run` (the whole pipeline, or the sandbox) and `mp-release submit` (up to the
//! submission, then detach).

use super::Ctx;
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
    let mut observers = Observers::github(reporter(gh, cx.layers, cx.g, &vs.tag_prefix)?);
    cx.rt
        .block_on(pipeline(ws, ps, &vs, cx.g, wf, kind, &mut observers))
}
