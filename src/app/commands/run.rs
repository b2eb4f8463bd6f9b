//! `mp-release run` (the whole pipeline, or the sandbox) and `mp-release submit` (up to the
//! submission, then detach).

use super::Ctx;
use crate::app::observe::Observers;
use crate::app::pipeline::{pipeline, pipeline_settings, reporter, Kind};
use crate::app::Report;
use crate::cli::{RunArgs, SubmitArgs};
use crate::output::Workflow;

pub(super) fn run(a: &RunArgs, cx: &Ctx<'_, '_>, wf: &mut Workflow) -> anyhow::Result<Report> {
    if cx.flag("sandbox", a.sandbox)? {
        return cx.rt.block_on(crate::app::sandbox::sandbox(wf));
    }
    let (ws, ps, vs) = pipeline_settings(
        &a.wechat,
        &a.pipeline,
        &a.version,
        &a.upload,
        cx.layers,
        &cx.g.cwd,
    )?;
    let mut observers = Observers::github(reporter(&a.github, cx.layers, cx.g, &vs.tag_prefix)?);
    cx.rt
        .block_on(pipeline(ws, ps, &vs, cx.g, wf, Kind::Run, &mut observers))
}

pub(super) fn submit(
    a: &SubmitArgs,
    cx: &Ctx<'_, '_>,
    wf: &mut Workflow,
) -> anyhow::Result<Report> {
    let (ws, ps, vs) = pipeline_settings(
        &a.wechat,
        &a.pipeline,
        &a.version,
        &a.upload,
        cx.layers,
        &cx.g.cwd,
    )?;
    let mut observers = Observers::github(reporter(&a.github, cx.layers, cx.g, &vs.tag_prefix)?);
    cx.rt.block_on(pipeline(
        ws,
        ps,
        &vs,
        cx.g,
        wf,
        Kind::Submit,
        &mut observers,
    ))
}
