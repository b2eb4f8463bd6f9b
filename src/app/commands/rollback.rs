//! `mp-release rollback`: list the versions that can be rolled back to, or roll back.

use super::simple;
use super::{dry, Ctx};
use crate::app::pipeline::connect;
use crate::app::Report;
use crate::cli::RollbackArgs;
use crate::output::Workflow;
use crate::settings::WeChatSettings;
use anyhow::Context;
use mp_release_core::wechat::wire;
use serde_json::{json, Value};

pub(super) fn run(a: &RollbackArgs, cx: &Ctx<'_, '_>, wf: &mut Workflow) -> anyhow::Result<Report> {
    let ws = crate::settings::wechat(&a.wechat, cx.layers, cx.g)?;
    let to = cx
        .layers
        .parse("to", a.to.as_deref(), |t| {
            t.trim().parse::<u64>().map_err(|_| {
                format!("expected an app_version number from `rollback --list`, got {t:?}")
            })
        })?
        .map(|(v, _)| v);
    let list = cx.flag("list", a.list)?;
    if cx.g.dry_run && !list {
        return Ok(dry("roll the live version back (revertcoderelease)"));
    }
    cx.rt.block_on(rollback(ws, list, to, wf, cx.g))
}

pub(super) async fn rollback(
    ws: WeChatSettings,
    list: bool,
    to: Option<u64>,
    wf: &mut Workflow,
    g: &crate::settings::Globals,
) -> anyhow::Result<Report> {
    let mut calls = connect(&ws, wf).await?;
    let hist = calls.history().await?;
    let versions: Vec<Value> = hist["version_list"].as_array().cloned().unwrap_or_default();
    let mut table = String::from("| app_version | version | description |\n|---|---|---|\n");
    for v in &versions {
        table.push_str(&format!(
            "| {} | {} | {} |\n",
            v["app_version"],
            v["user_version"].as_str().unwrap_or_default(),
            v["user_desc"]
                .as_str()
                .unwrap_or_default()
                .replace('|', "\\|")
        ));
    }
    tracing::info!("rollback targets:\n{table}");
    if list {
        let json_list = serde_json::to_string(&versions)?;
        return Ok(simple(
            vec![("history", json_list)],
            format!("### mp-release rollback · `{}`\n\n{table}", ws.appid),
        ));
    }
    let q = to.map(|v| v.to_string());
    calls
        .once("revertcoderelease", true, async |wx, t| {
            let query: Vec<(&str, &str)> = q
                .as_deref()
                .map(|v| ("app_version", v))
                .into_iter()
                .collect();
            wx.get("/wxa/revertcoderelease", Some(t), &query).await
        })
        .await
        .context("rolling back (revertcoderelease)")?;
    let info = calls
        .once("getversioninfo", false, async |wx, t| {
            wx.post("/wxa/getversioninfo", Some(t), &json!({})).await
        })
        .await?;
    let live = crate::app::runner::answer::<wire::VersionInfo>("/wxa/getversioninfo", &info)
        .map_err(|e| anyhow::anyhow!(e.explain()))?
        .live()
        .unwrap_or_default();
    tracing::info!("rolled back: {live} is live");
    let mut report = simple(
        vec![("version", live.clone())],
        format!(
            "### mp-release rollback · `{}`\n\nrolled back: **{live}** is live\n\n{table}",
            ws.appid
        ),
    );
    let notice = mp_release_core::notify::Notice {
        appid: ws.appid.clone(),
        version: Some(live),
        previous: None,
        event: mp_release_core::notify::Event::RolledBack,
        links: mp_release_core::github::Links::default(),
        packages: Vec::new(),
    };
    let warnings = crate::adapters::notify::Notifier::tell(&g.notify, &g.net, &notice, None).await;
    report.annotations.extend(
        warnings
            .into_iter()
            .map(|w| (crate::output::Level::Warning, w)),
    );
    Ok(report)
}
