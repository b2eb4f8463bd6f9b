//! `mp-release publish`: release the approved version (or phased) and confirm it is live.

use super::Ctx;
use crate::app::pipeline::{publish, require_platform};
use crate::app::Report;
use crate::cli::PublishArgs;
use crate::output::Workflow;
use crate::settings;

pub(super) fn run(a: &PublishArgs, cx: &Ctx<'_, '_>, wf: &mut Workflow) -> anyhow::Result<Report> {
    let ws = settings::wechat(&a.wechat, cx.layers, cx.g)?;
    require_platform(&ws)?;
    let ps = settings::pipeline(&a.pipeline, cx.layers, &cx.g.cwd, &ws.appid)?;
    cx.rt.block_on(publish(ws, ps, wf, cx.g.dry_run))
}
