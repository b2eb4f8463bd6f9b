//! `mp-release publish`: release the approved version (or phased) and confirm it is live.

use super::Ctx;
use crate::app::pipeline::{publish, reporter, require_platform};
use crate::app::Report;
use crate::cli::PublishArgs;
use crate::output::Workflow;
use crate::settings;

pub(super) fn run(a: &PublishArgs, cx: &Ctx<'_, '_>, wf: &mut Workflow) -> anyhow::Result<Report> {
    let ws = settings::wechat(&a.wechat, cx.layers, cx.g)?;
    require_platform(&ws)?;
    let ps = settings::pipeline(&a.pipeline, cx.layers, &cx.g.cwd, &ws.appid)?;
    // The tag of git-tag / github-release (publish has no version flags: env or config file).
    let tag_prefix = cx
        .layers
        .pick("tag-prefix", None)
        .map_or_else(|| "v".to_owned(), |(p, _)| p);
    let rep = reporter(&a.github, cx.layers, cx.g, &tag_prefix)?;
    cx.rt.block_on(publish(ws, ps, wf, cx.g, rep))
}
