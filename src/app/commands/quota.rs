//! `mp-release quota`: the platform's review and speed-up quota.

use super::simple;
use super::Ctx;
use crate::app::pipeline::connect;
use crate::app::Report;
use crate::cli::WeChatOnly;
use crate::output::Workflow;
use crate::settings::WeChatSettings;
use mp_release_core::wechat::wire;

pub(super) fn run(a: &WeChatOnly, cx: &Ctx<'_, '_>, wf: &mut Workflow) -> anyhow::Result<Report> {
    let ws = crate::settings::wechat(&a.wechat, cx.layers, cx.g)?;
    cx.rt.block_on(quota(ws, wf))
}

pub(super) async fn quota(ws: WeChatSettings, wf: &mut Workflow) -> anyhow::Result<Report> {
    let mut calls = connect(&ws, wf).await?;
    let q = calls
        .once("queryquota", false, async |wx, t| {
            wx.get("/wxa/queryquota", Some(t), &[]).await
        })
        .await?;
    let q: wire::QuotaInfo = crate::app::runner::answer("/wxa/queryquota", &q)
        .map_err(|e| anyhow::anyhow!(e.explain()))?;
    let summary = format!(
        "### mp-release quota\n\nreviews {}/{} left this month · speed-ups {}/{}\n",
        q.rest, q.limit, q.speedup_rest, q.speedup_limit
    );
    Ok(simple(
        vec![
            ("quota-rest", q.rest.to_string()),
            ("quota-limit", q.limit.to_string()),
            ("speedup-rest", q.speedup_rest.to_string()),
            ("speedup-limit", q.speedup_limit.to_string()),
        ],
        summary,
    ))
}
