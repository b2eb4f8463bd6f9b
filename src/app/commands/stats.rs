//! `mp-release stats`: operations data of the last full days (see `app::stats`).

use super::Ctx;
use crate::app::Report;
use crate::cli::StatsArgs;
use crate::output::Workflow;
use crate::settings::UsageError;

pub(super) fn run(a: &StatsArgs, cx: &Ctx<'_, '_>, wf: &mut Workflow) -> anyhow::Result<Report> {
    let days = cx
        .layers
        .parse("stats-days", a.stats_days.as_deref(), |s| {
            match s.trim().parse::<u32>() {
                Ok(n) if (1..=30).contains(&n) => Ok(n),
                _ => Err(format!("expected a number of days from 1 to 30, got {s:?}")),
            }
        })?
        .map_or(7, |(n, _)| n);
    let versions = cx
        .layers
        .parse("stats-versions", a.stats_versions.as_deref(), |s| {
            let v: Vec<String> = s
                .split(',')
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect();
            match v.len() {
                2 if v[0] == v[1] => Err(format!(
                    "{} twice: name two different versions (new first, such as 1.5.0,1.4.2), or one",
                    v[0]
                )),
                1 | 2
                    if v.iter()
                        .all(|x| x.len() <= 64 && !x.contains(char::is_whitespace)) =>
                {
                    Ok(v)
                }
                _ => Err(format!(
                    "expected one or two versions, new first (such as 1.5.0,1.4.2), got {s:?}"
                )),
            }
        })?
        .map(|(v, _)| v);
    if cx.flag("sandbox", a.sandbox)? {
        return cx
            .rt
            .block_on(crate::app::sandbox::stats(wf, days, versions));
    }
    let ws = crate::settings::wechat(&a.wechat, cx.layers, cx.g)?;
    if ws.state_file.is_some() {
        return Err(UsageError::new(
            "state-file does not apply to stats (it reads, nothing to resume)",
        )
        .into());
    }
    let w = crate::app::stats::Window {
        appid: ws.appid.clone(),
        days,
        versions,
        platform: ws.credentials.can_manage_code(),
    };
    cx.rt.block_on(async {
        let mut calls = crate::app::pipeline::connect(&ws, wf).await?;
        let s = crate::app::stats::gather(&mut calls, &w).await?;
        Ok(crate::app::stats::report(&s, "mp-release stats"))
    })
}
