//! `mp-release stats`: operations data for a window of past days, read with the mini program's
//! own token or a platform's authorizer token (wechat-ops-api.md A, B: every API here takes
//! either), and the first figures after a release.
//!
//! Daily figures are T+1: today is never asked for, and yesterday may not be ready yet (an empty
//! answer): such a day is reported as missing, never as zero. Whatever part of the report cannot
//! be read (no permission, a version history only a platform can read) is left out with a note
//! saying why; only the daily visits themselves are required.

use super::calls::Calls;
use crate::adapters::wechat::{CallError, WeChat};
use mp_release_core::health::{beijing_day_start, VersionErrors};
use mp_release_core::stats::{
    feedback_name, source_name, Day, FeedbackCount, Measure, Page, Release, Source, Stats,
    VersionErrorsOf, Visits,
};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const DAY: u64 = 86_400;

/// `yyyymmdd` of the Beijing day that starts at `start`.
fn ymd(start: u64) -> String {
    mp_release_core::health::beijing_date(start).replace('-', "")
}

#[derive(Debug, Deserialize)]
struct TrendList {
    #[serde(default)]
    list: Vec<TrendRow>,
}

#[derive(Debug, Deserialize)]
struct TrendRow {
    ref_date: String,
    #[serde(flatten)]
    visits: Visits,
}

/// An answer of `path` that mp-release cannot take as it stands: the read stops (exit 3), saying
/// what it saw.
fn doubt(path: &str, detail: String) -> anyhow::Error {
    anyhow::anyhow!(CallError::unexpected(path, detail).explain())
}

/// The day's figures in a one-day trend answer: `None` while its list is empty (not ready yet,
/// never zero). Figures dated another day (a cached answer, a server that ignores the dates) are
/// never taken for the day asked.
fn of_day(path: &str, date: &str, t: TrendList) -> anyhow::Result<Option<Visits>> {
    if t.list.is_empty() {
        return Ok(None);
    }
    let dates: Vec<String> = t.list.iter().map(|r| r.ref_date.clone()).collect();
    let mut rows = t.list.into_iter().filter(|r| r.ref_date == date);
    match (rows.next(), rows.next()) {
        (Some(row), None) => Ok(Some(row.visits)),
        _ => Err(doubt(
            path,
            format!(
                "asked for the figures of {date}, WeChat answered with rows dated {}; none is taken for {date}",
                dates.join(", ")
            ),
        )),
    }
}

/// A one-day answer that names its day (`ref_date`) must name the day asked.
/// REFERENCE-UNSURE: whether a day without any page or source carries `ref_date`; one that does
/// not is taken as that day's.
fn same_day(path: &str, date: &str, ref_date: Option<&str>) -> anyhow::Result<()> {
    match ref_date {
        Some(d) if d != date => Err(doubt(
            path,
            format!("asked for {date}, WeChat answered for {d}; not taken for {date}"),
        )),
        _ => Ok(()),
    }
}

#[derive(Debug, Deserialize)]
struct PageList {
    #[serde(default)]
    ref_date: Option<String>,
    #[serde(default)]
    list: Vec<PageRow>,
}

#[derive(Debug, Deserialize)]
struct PageRow {
    page_path: String,
    #[serde(default)]
    page_visit_pv: u64,
    #[serde(default)]
    page_visit_uv: u64,
    #[serde(default)]
    entrypage_pv: u64,
    #[serde(default)]
    exitpage_pv: u64,
    #[serde(default)]
    page_share_pv: u64,
}

#[derive(Debug, Deserialize)]
struct Distribution {
    #[serde(default)]
    ref_date: Option<String>,
    #[serde(default)]
    list: Vec<DistributionIndex>,
}

#[derive(Debug, Deserialize)]
struct DistributionIndex {
    index: String,
    #[serde(default)]
    item_list: Vec<KeyValue>,
}

#[derive(Debug, Deserialize)]
struct KeyValue {
    key: u64,
    value: u64,
}

fn parse<T: serde::de::DeserializeOwned>(endpoint: &str, v: &Value) -> anyhow::Result<T> {
    super::runner::answer(endpoint, v).map_err(|e: CallError| anyhow::anyhow!(e.explain()))
}

/// One day of a datacube API: `None` while WeChat has nothing for it yet.
async fn datacube<T: serde::de::DeserializeOwned>(
    calls: &mut Calls,
    path: &'static str,
    day: u64,
) -> anyhow::Result<T> {
    let date = ymd(day);
    let v = calls
        .once(path, false, async |wx: &WeChat, t: &str| {
            wx.post(
                path,
                Some(t),
                &json!({ "begin_date": date, "end_date": date }),
            )
            .await
        })
        .await?;
    parse(path, &v)
}

/// The daily visits of the day that begins at `start`.
async fn trend_day(calls: &mut Calls, start: u64) -> anyhow::Result<Day> {
    const PATH: &str = "/datacube/getweanalysisappiddailyvisittrend";
    let date = ymd(start);
    let t: TrendList = datacube(calls, PATH, start).await?;
    Ok(Day {
        visits: of_day(PATH, &date, t)?,
        date,
    })
}

/// Yesterday's visits, read last, and why they are missing when WeChat refused them: a refusal
/// here (its "数据还没准备好", or 61501 when the runner's clock is a little ahead of WeChat's around
/// Beijing midnight) came after every other day was read with the same token, so it is about this
/// day: not ready, never zero. An answer that cannot be taken for the day still stops in doubt.
async fn yesterday(calls: &mut Calls, start: u64) -> anyhow::Result<(Day, Option<String>)> {
    match trend_day(calls, start).await {
        Err(e) if e.is::<crate::exit::ReleaseFailed>() => Ok((
            Day {
                date: ymd(start),
                visits: None,
            },
            Some(format!("{e:#}")),
        )),
        other => Ok((other?, None)),
    }
}

/// What `stats` reads.
#[derive(Debug, Clone)]
pub struct Window {
    /// The mini program.
    pub appid: String,
    /// Full days, ending yesterday (Beijing).
    pub days: u32,
    /// The versions whose errors are compared (new first); `None`: the live one and the one
    /// before it (platform credentials), or all versions together.
    pub versions: Option<Vec<String>>,
    /// The credentials can read the release history (a platform's).
    pub platform: bool,
}

/// Reads a window's operations data. Only the daily visits must be readable; everything else
/// that fails is a note.
#[allow(clippy::too_many_lines)]
pub async fn gather(calls: &mut Calls, w: &Window) -> anyhow::Result<Stats> {
    let now = calls.clock.now();
    let today = beijing_day_start(now);
    let n = u64::from(w.days.max(1));
    let first = today - n * DAY;
    let before_first = first - n * DAY;
    let mut notes = Vec::new();
    let mut days = Vec::new();
    let mut before = Vec::new();
    let mut refused = None;
    for i in 0..n {
        for (start, out) in [
            (before_first + i * DAY, &mut before),
            (first + i * DAY, &mut days),
        ] {
            out.push(if start + DAY == today {
                let (day, why) = yesterday(calls, start).await?;
                refused = why;
                day
            } else {
                trend_day(calls, start).await?
            });
        }
    }
    if let Some(last) = days.last().filter(|d| d.visits.is_none()) {
        let refused = refused
            .map(|w| format!(" (WeChat refused its figures: {w})"))
            .unwrap_or_default();
        notes.push(format!(
            "{} is not ready yet{refused}: WeChat publishes a day's figures the next morning (T+1); run again later",
            last.date
        ));
    }
    // Pages and sources over the window.
    let mut pages: BTreeMap<String, Page> = BTreeMap::new();
    let mut sources: BTreeMap<u64, u64> = BTreeMap::new();
    let mut detail_failed = None;
    for i in 0..n {
        let start = first + i * DAY;
        const PAGES: &str = "/datacube/getweanalysisappidvisitpage";
        const SOURCES: &str = "/datacube/getweanalysisappidvisitdistribution";
        let date = ymd(start);
        let answer = datacube::<PageList>(calls, PAGES, start)
            .await
            .and_then(|p| same_day(PAGES, &date, p.ref_date.as_deref()).map(|()| p));
        match answer {
            Ok(p) => {
                for row in p.list {
                    let e = pages.entry(row.page_path.clone()).or_insert_with(|| Page {
                        path: row.page_path.clone(),
                        ..Page::default()
                    });
                    // Sums of figures WeChat gives saturate: a hostile answer is no panic.
                    e.pv = e.pv.saturating_add(row.page_visit_pv);
                    e.uv = e.uv.saturating_add(row.page_visit_uv);
                    e.entry_pv = e.entry_pv.saturating_add(row.entrypage_pv);
                    e.exit_pv = e.exit_pv.saturating_add(row.exitpage_pv);
                    e.share_pv = e.share_pv.saturating_add(row.page_share_pv);
                }
            }
            Err(e) => detail_failed = Some(format!("pages: {e:#}")),
        }
        let answer = datacube::<Distribution>(calls, SOURCES, start)
            .await
            .and_then(|d| same_day(SOURCES, &date, d.ref_date.as_deref()).map(|()| d));
        match answer {
            Ok(d) => {
                for idx in d
                    .list
                    .into_iter()
                    .filter(|x| x.index == "access_source_session_cnt")
                {
                    for kv in idx.item_list {
                        let sum = sources.entry(kv.key).or_default();
                        *sum = sum.saturating_add(kv.value);
                    }
                }
            }
            Err(e) => detail_failed = Some(format!("sources: {e:#}")),
        }
        if detail_failed.is_some() {
            break;
        }
    }
    if let Some(why) = detail_failed {
        // The days read before it would pass for the window's: none is shown.
        pages.clear();
        sources.clear();
        notes.push(format!("pages and sources were not read: {why}"));
    }
    let mut pages: Vec<Page> = pages.into_values().collect();
    pages.sort_by(|a, b| b.pv.cmp(&a.pv).then_with(|| a.path.cmp(&b.path)));
    let mut sources: Vec<Source> = sources
        .into_iter()
        .map(|(key, sessions)| Source {
            key,
            name: source_name(key),
            sessions,
        })
        .collect();
    sources.sort_by(|a, b| b.sessions.cmp(&a.sessions).then(a.key.cmp(&b.key)));
    let startup = match startup(calls, first, today - 1).await {
        Ok(m) => m,
        Err(e) => {
            notes.push(format!("start-up times were not read: {e:#}"));
            Vec::new()
        }
    };
    // Versions: the release history needs a platform's token (wxa/* refuse the own token).
    let mut releases = Vec::new();
    let mut compare: Vec<String> = w.versions.clone().unwrap_or_default();
    if w.platform {
        match history(calls).await {
            Ok(h) => {
                for (version, at) in &h {
                    if *at >= first && *at < today {
                        releases.push(Release {
                            date: ymd(beijing_day_start(*at)),
                            version: version.clone(),
                        });
                    }
                }
                releases.reverse();
                if w.versions.is_none() {
                    compare = h.iter().take(2).map(|(v, _)| v.clone()).collect();
                }
            }
            Err(e) => notes.push(format!("the release history was not read: {e:#}")),
        }
    } else if w.versions.is_none() {
        notes.push(
            "JS errors are for all versions together: the mini program's own token cannot read which version is live \
             (a platform's can); name them with stats-versions: NEW,PREVIOUS"
                .into(),
        );
    }
    if compare.is_empty() {
        compare.push("0".into());
    }
    let mut errors = Vec::new();
    for version in &compare {
        match version_errors(calls, version, first, today - 1).await {
            Ok(e) => errors.push(VersionErrorsOf {
                version: version.clone(),
                errors: e,
            }),
            Err(e) => {
                notes.push(format!("JS errors were not read: {e:#}"));
                errors.clear();
                break;
            }
        }
    }
    let feedback = match feedback(calls, first, today).await {
        Ok(f) => f,
        Err(e) => {
            notes.push(format!("feedback was not read: {e:#}"));
            Vec::new()
        }
    };
    Ok(Stats {
        appid: w.appid.clone(),
        days,
        before,
        pages,
        sources,
        startup,
        errors,
        feedback,
        releases,
        notes,
    })
}

/// One version's errors over the days from `from` to `to` (both Unix times inside the days).
async fn version_errors(
    calls: &mut Calls,
    version: &str,
    from: u64,
    to: u64,
) -> anyhow::Result<VersionErrors> {
    calls
        .once("jserr_list", false, async |wx: &WeChat, t: &str| {
            super::health::errors(wx, Some(t), version, from, to).await
        })
        .await
}

/// Start-up measures (`performance/boot` module 10017) per day of the window.
async fn startup(calls: &mut Calls, from: u64, to: u64) -> anyhow::Result<Vec<Measure>> {
    let path = "/wxa/business/performance/boot";
    let body = json!({
        "module": 10017,
        "time": { "begin_timestamp": from, "end_timestamp": to },
        "params": [
            { "field": "networktype", "value": "-1" },
            { "field": "device_level", "value": "-1" },
        ],
    });
    let v = calls
        .once(path, false, async |wx: &WeChat, t: &str| {
            wx.post(path, Some(t), &body).await
        })
        .await?;
    #[derive(Deserialize)]
    struct Field {
        refdate: String,
        value: Value,
    }
    #[derive(Deserialize)]
    struct Line {
        #[serde(default)]
        fields: Vec<Field>,
    }
    #[derive(Deserialize)]
    struct Table {
        #[serde(default)]
        id: String,
        #[serde(default)]
        zh: String,
        #[serde(default)]
        lines: Vec<Line>,
    }
    let tables: Vec<Table> = serde_json::from_value(v["data"]["body"]["tables"].clone())
        .map_err(|e| anyhow::anyhow!("{path}: the answer does not fit ({e})"))?;
    Ok(tables
        .into_iter()
        .map(|t| Measure {
            name: if t.zh.is_empty() { t.id.clone() } else { t.zh },
            id: t.id,
            points: t
                .lines
                .into_iter()
                .flat_map(|l| l.fields)
                .filter_map(|f| {
                    // Values are strings in WeChat's answer; numbers are taken too.
                    let v = match &f.value {
                        Value::String(s) => s.trim().parse::<f64>().ok(),
                        Value::Number(n) => n.as_f64(),
                        _ => None,
                    }?;
                    Some((f.refdate, v))
                })
                .collect(),
        })
        .collect())
}

/// The live version and the ones before it, newest first, with their release times.
async fn history(calls: &mut Calls) -> anyhow::Result<Vec<(String, u64)>> {
    let v = calls
        .once("getversioninfo", false, async |wx: &WeChat, t: &str| {
            wx.post("/wxa/getversioninfo", Some(t), &json!({})).await
        })
        .await?;
    let mut out = Vec::new();
    if let Some(live) = v["release_info"]["release_version"]
        .as_str()
        .filter(|s| !s.is_empty())
    {
        out.push((
            live.to_owned(),
            v["release_info"]["release_time"].as_u64().unwrap_or(0),
        ));
    }
    let h = calls.history().await?;
    for item in h["version_list"].as_array().into_iter().flatten() {
        if let Some(v) = item["user_version"].as_str() {
            out.push((v.to_owned(), item["commit_time"].as_u64().unwrap_or(0)));
        }
    }
    Ok(out)
}

/// Feedback by type created in `[from, to)`.
async fn feedback(calls: &mut Calls, from: u64, to: u64) -> anyhow::Result<Vec<FeedbackCount>> {
    let counts = calls
        .once("feedback/list", false, async |wx: &WeChat, t: &str| {
            super::health::feedback_by_type(wx, Some(t), from, to).await
        })
        .await?;
    let mut out: Vec<FeedbackCount> = counts
        .into_iter()
        .map(|(kind, count)| FeedbackCount {
            kind,
            name: feedback_name(kind),
            count,
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.kind.cmp(&b.kind)));
    Ok(out)
}

/// `stats` as a report: the `stats` output (JSON), the job summary with its charts, the terminal
/// table.
pub fn report(s: &Stats, title: &str) -> super::Report {
    let value = serde_json::to_value(s).unwrap_or(Value::Null);
    super::Report {
        outputs: vec![("stats".into(), value.to_string())],
        json: json!({ "stats": value }),
        summary: mp_release_core::stats::markdown(s, title),
        terminal: Some(mp_release_core::stats::terminal(s)),
        ..super::Report::default()
    }
}

/// The first figures after `s` published: the days since the release that WeChat has (at most
/// a week), the new version's JS errors so far, and the next day to come. `None` when they cannot
/// be read (the release stands either way; the reason goes to the log).
pub async fn after_release(
    calls: &mut Calls,
    s: &mp_release_core::pipeline::State,
) -> Option<mp_release_core::stats::AfterRelease> {
    let version = s.version.clone()?;
    // A rollout put the version before users when its first step was reached.
    let first_seen = s
        .rollout
        .as_ref()
        .and_then(|r| r.changes.first())
        .map(|c| c.0);
    match read_after(calls, &version, first_seen).await {
        Ok(a) => Some(a),
        Err(e) => {
            tracing::info!("the release's first operations figures were not read: {e:#}");
            None
        }
    }
}

async fn read_after(
    calls: &mut Calls,
    version: &str,
    first_seen: Option<u64>,
) -> anyhow::Result<mp_release_core::stats::AfterRelease> {
    let now = calls.clock.now();
    // When it went live: WeChat's release_time (a release found live may be days old).
    let v = calls
        .once("getversioninfo", false, async |wx: &WeChat, t: &str| {
            wx.post("/wxa/getversioninfo", Some(t), &json!({})).await
        })
        .await?;
    let released_at = match v["release_info"]["release_time"].as_u64() {
        Some(t) if v["release_info"]["release_version"].as_str() == Some(version) && t <= now => t,
        _ => now,
    }
    .min(first_seen.unwrap_or(u64::MAX));
    let today = beijing_day_start(now);
    let first = beijing_day_start(released_at).max(today.saturating_sub(7 * DAY));
    let mut days = Vec::new();
    let mut start = first;
    while start < today {
        days.push(if start + DAY == today {
            yesterday(calls, start).await?.0
        } else {
            trend_day(calls, start).await?
        });
        start += DAY;
    }
    // The next day to come: the first without figures, or today.
    let next_day = days
        .iter()
        .find(|d| d.visits.is_none())
        .map_or_else(|| ymd(today), |d| d.date.clone());
    let errors = version_errors(calls, version, released_at, now).await.ok();
    Ok(mp_release_core::stats::AfterRelease {
        version: version.to_owned(),
        released_at,
        days,
        errors,
        next_day: Some(next_day),
    })
}
