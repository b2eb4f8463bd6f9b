//! `mp-release withdraw`: withdraw the review in flight (87012 means there was nothing to withdraw).

use super::{dry, Ctx};
use super::{simple, status_word};
use crate::app::pipeline::{connect, latest};
use crate::app::Report;
use crate::cli::WeChatOnly;
use crate::output::{Level, Workflow};
use crate::settings::WeChatSettings;
use anyhow::Context;
use serde_json::json;

pub(super) fn run(a: &WeChatOnly, cx: &Ctx<'_, '_>, wf: &mut Workflow) -> anyhow::Result<Report> {
    let ws = crate::settings::wechat(&a.wechat, cx.layers, cx.g)?;
    if cx.g.dry_run {
        return Ok(dry("withdraw the review in flight (undocodeaudit)"));
    }
    cx.rt.block_on(withdraw(ws, wf))
}

pub(super) async fn withdraw(ws: WeChatSettings, wf: &mut Workflow) -> anyhow::Result<Report> {
    let mut calls = connect(&ws, wf).await?;
    let before = latest(&mut calls).await?;
    let answer = calls
        .once("undocodeaudit", true, async |wx, t| {
            match wx.get("/wxa/undocodeaudit", Some(t), &[]).await {
                // C4: 87012 here means there is nothing to withdraw (no review, or it ended).
                Err(e) if e.code() == Some(87012) => Ok(json!({ "nothing-to-withdraw": true })),
                r => r,
            }
        })
        .await
        .context("withdrawing the review in flight")?;
    let id = before
        .as_ref()
        .map(|a| a.auditid.to_string())
        .unwrap_or_default();
    if answer.get("nothing-to-withdraw").is_some() {
        let (what, word) = match &before {
            Some(a) => (
                format!(
                    "review {} of {} is {}",
                    a.auditid,
                    a.user_version,
                    status_word(a.status)
                ),
                status_word(a.status),
            ),
            None => ("there is no review".to_owned(), "none"),
        };
        let line = format!("nothing to withdraw: {what} (WeChat answered 87012)");
        tracing::warn!("{line}");
        let mut report = simple(
            vec![
                ("audit-id", id),
                ("review-status", word.into()),
                ("withdrawn", "false".into()),
            ],
            format!("### mp-release withdraw · `{}`\n\n{line}\n", ws.appid),
        );
        report.annotations.push((Level::Warning, line));
        return Ok(report);
    }
    tracing::info!("withdrew review {id}");
    Ok(simple(
        vec![
            ("audit-id", id.clone()),
            ("review-status", "withdrawn".into()),
            ("withdrawn", "true".into()),
        ],
        format!(
            "### mp-release withdraw · `{}`\n\nreview {id} withdrawn\n",
            ws.appid
        ),
    ))
}
