//! `mp-release wait`: follow a review (the latest, or `audit-id`) until it ends or wait-timeout.

use super::Ctx;
use crate::app::pipeline::{require_platform, wait};
use crate::app::Report;
use crate::cli::WaitArgs;
use crate::output::Workflow;
use crate::settings;

pub(super) fn run(a: &WaitArgs, cx: &Ctx<'_, '_>, wf: &mut Workflow) -> anyhow::Result<Report> {
    let ws = settings::wechat(&a.wechat, cx.layers, cx.g)?;
    require_platform(&ws)?;
    let ps = settings::pipeline(&a.pipeline, cx.layers, &cx.g.cwd, &ws.appid)?;
    let audit_id = cx.audit_id(a.audit_id.as_deref())?;
    cx.rt.block_on(wait(ws, ps, audit_id, wf, cx.g))
}
