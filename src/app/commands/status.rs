//! `mp-release status`: the latest review (or `--audit-id`), the live and trial versions, and the trial QR code.

use super::Ctx;
use super::{simple, status_word};
use crate::app::pipeline::require_platform;
use crate::app::pipeline::{connect, latest};
use crate::app::Report;
use crate::cli::StatusArgs;
use crate::output::Workflow;
use crate::settings::WeChatSettings;
use anyhow::Context;
use mp_release_core::wechat::wire;
use serde_json::json;

pub(super) fn run(a: &StatusArgs, cx: &Ctx<'_, '_>, wf: &mut Workflow) -> anyhow::Result<Report> {
    let ws = crate::settings::wechat(&a.wechat, cx.layers, cx.g)?;
    if !ws.credentials.can_manage_code() && a.qrcode.is_none() {
        require_platform(&ws)?;
    }
    let audit_id = cx.audit_id(a.audit_id.as_deref())?;
    let qrcode = cx
        .layers
        .pick("qrcode", a.qrcode.as_deref())
        .map(|(p, _)| cx.g.cwd.join(p));
    cx.rt.block_on(status(ws, audit_id, qrcode, wf))
}

pub(super) async fn status(
    ws: WeChatSettings,
    audit_id: Option<u64>,
    qrcode: Option<std::path::PathBuf>,
    wf: &mut Workflow,
) -> anyhow::Result<Report> {
    let mut calls = connect(&ws, wf).await?;
    if let Some(path) = &qrcode {
        let image = calls
            .once("get_qrcode", false, async |wx, t| wx.qrcode(t, None).await)
            .await
            .context("getting the trial QR code")?;
        std::fs::write(path, &image.bytes)
            .with_context(|| format!("writing {}", path.display()))?;
        tracing::info!(
            "trial QR code ({}, {} bytes) saved to {}",
            image.content_type,
            image.bytes.len(),
            path.display()
        );
    }
    if !ws.credentials.can_manage_code() {
        // The own token reads no review state (86000): the QR code is all there is.
        let file = qrcode.map(|p| p.display().to_string()).unwrap_or_default();
        let summary = format!(
            "### mp-release status · `{}`\n\ntrial QR code saved to {file}\n",
            ws.appid
        );
        return Ok(simple(vec![("qrcode", file)], summary));
    }
    let info = calls
        .once("getversioninfo", false, async |wx, t| {
            wx.post("/wxa/getversioninfo", Some(t), &json!({})).await
        })
        .await?;
    let (id, status, version, reason) = match audit_id {
        Some(id) => {
            let v = calls
                .once("get_auditstatus", false, async move |wx, t| {
                    wx.post("/wxa/get_auditstatus", Some(t), &json!({ "auditid": id }))
                        .await
                })
                .await?;
            let known = crate::app::runner::audit_info("/wxa/get_auditstatus", &v)
                .map_err(|e| anyhow::anyhow!(e.explain()))?;
            (
                id.to_string(),
                Some(u64::from(known.status)),
                String::new(),
                v["reason"].as_str().unwrap_or_default().to_owned(),
            )
        }
        None => match latest(&mut calls).await? {
            Some(a) => (
                a.auditid.to_string(),
                Some(u64::from(a.status)),
                a.user_version,
                a.reason,
            ),
            None => (String::new(), None, String::new(), String::new()),
        },
    };
    let word = status
        .and_then(|n| u8::try_from(n).ok())
        .map_or("none", status_word);
    let info = crate::app::runner::answer::<wire::VersionInfo>("/wxa/getversioninfo", &info)
        .map_err(|e| anyhow::anyhow!(e.explain()))?;
    let (live, trial) = (
        info.live().unwrap_or_default(),
        info.trial().unwrap_or_default(),
    );
    let summary = format!(
        "### mp-release status · `{}`\n\nlive **{}** · trial {} · review {} {word}\n",
        ws.appid,
        if live.is_empty() { "—" } else { &live },
        if trial.is_empty() { "—" } else { &trial },
        if id.is_empty() { "—" } else { &id }
    );
    Ok(simple(
        vec![
            ("audit-id", id),
            ("review-status", word.into()),
            ("review-version", version),
            (
                "reject-reason",
                if word == "rejected" {
                    reason
                } else {
                    String::new()
                },
            ),
            ("live-version", live),
            ("trial-version", trial),
        ],
        summary,
    ))
}
