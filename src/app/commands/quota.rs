//! `mp-release quota`: the platform's review and speed-up quota.

use super::simple;
use super::Ctx;
use crate::app::pipeline::connect;
use crate::app::Report;
use crate::cli::WeChatOnly;
use crate::output::Workflow;
use crate::settings::WeChatSettings;

pub(super) fn run(a: &WeChatOnly, cx: &Ctx<'_, '_>, wf: &mut Workflow) -> anyhow::Result<Report> {
    let ws = crate::settings::wechat(&a.wechat, cx.layers, &cx.g.cwd)?;
    cx.rt.block_on(quota(ws, wf))
}

pub(super) async fn quota(ws: WeChatSettings, wf: &mut Workflow) -> anyhow::Result<Report> {
    let mut calls = connect(&ws, wf).await?;
    let q = calls
        .once("queryquota", false, async |wx, t| {
            wx.get("/wxa/queryquota", Some(t), &[]).await
        })
        .await?;
    let n = |k: &str| q[k].as_u64().map(|v| v.to_string()).unwrap_or_default();
    let summary = format!(
        "### mp-release quota\n\nreviews {}/{} left this month · speed-ups {}/{}\n",
        n("rest"),
        n("limit"),
        n("speedup_rest"),
        n("speedup_limit")
    );
    Ok(simple(
        vec![
            ("quota-rest", n("rest")),
            ("quota-limit", n("limit")),
            ("speedup-rest", n("speedup_rest")),
            ("speedup-limit", n("speedup_limit")),
        ],
        summary,
    ))
}
