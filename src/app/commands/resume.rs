//! `mp-release resume`: the settings of a scheduled follow-up (one look per review unless
//! wait-timeout says otherwise); the work is `app::resume`.

use super::Ctx;
use crate::app::pipeline::require_platform;
use crate::app::Report;
use crate::cli::ResumeArgs;
use crate::output::Workflow;
use crate::settings;

pub(super) fn run(a: &ResumeArgs, cx: &Ctx<'_, '_>, wf: &mut Workflow) -> anyhow::Result<Report> {
    let (layers, cwd) = (cx.layers, &cx.g.cwd);
    let ws = settings::wechat(&a.wechat, layers, cx.g)?;
    require_platform(&ws)?;
    let mut ps = settings::pipeline(&a.pipeline, layers, cwd, &ws.appid)?;
    if layers
        .pick("wait-timeout", a.pipeline.wait_timeout.as_deref())
        .is_none()
    {
        ps.rules.wait.timeout_secs = 0;
    }
    let vs = settings::version(&crate::cli::VersionArgs::default(), layers, cwd)?;
    let gs = settings::github(&a.github, layers)?;
    let rs = settings::resume(a, layers, &gs)?;
    cx.rt.block_on(crate::app::resume::resume(
        ws,
        ps,
        rs,
        gs,
        cx.g,
        &vs.tag_prefix,
        wf,
    ))
}
