//! Operations data (issue 17's ground work): the daily visit trend (datacube, T+1) and the JS
//! error list per version (运维中心), driven by the scenario's `traffic` and the virtual clock.
//!
//! Rules (wechat-ops-api.md A.0, A.2, B.1): datacube bodies are `{begin_date, end_date}` strings
//! `yyyymmdd`; daily APIs take one day (begin = end) no later than yesterday (Beijing time), else
//! 61501; success bodies carry no errcode. `jserr_list` takes `appVersion` ("0" = all), dates as
//! `YYYY-MM-DD`, `offset` and `limit` (at most 30); it answers `data[]` and `totalCount`.

use super::{Answer, Ctx, World};
use crate::clock::day_of;
use crate::scenario::Traffic;
use serde_json::{json, Value};

/// The first hour (Beijing time) at which yesterday's datacube figures are ready.
/// REFERENCE-UNSURE: the hour is undocumented (one developer saw "not ready" at 09:57); before it
/// the emulator answers an empty list for yesterday.
const READY_HOUR: u64 = 10;

/// `jserr_list` calls an app may make a minute before 20011.
const JSERR_PER_MINUTE: u32 = 60;

/// `userlog_search` calls an app may make a minute before 200010 (B.4: "每分钟50次").
const USERLOG_PER_MINUTE: u32 = 50;

/// Counts a call of `appid` in the current minute; false when it is over `limit`.
fn per_minute(
    window: &mut std::collections::BTreeMap<String, (u64, u32)>,
    appid: &str,
    now: u64,
    limit: u32,
) -> bool {
    let minute = now / 60;
    let w = window.entry(appid.to_owned()).or_insert((minute, 0));
    if w.0 != minute {
        *w = (minute, 0);
    }
    w.1 += 1;
    w.1 <= limit
}

/// `yyyymmdd` → days since the Unix epoch (Beijing calendar).
fn parse_day(s: &str, dashed: bool) -> Option<u64> {
    let digits: String = if dashed {
        let parts: Vec<&str> = s.split('-').collect();
        if parts.len() != 3 || parts[0].len() != 4 || parts[1].len() != 2 || parts[2].len() != 2 {
            return None;
        }
        parts.concat()
    } else {
        s.to_owned()
    };
    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: i64 = digits[..4].parse().ok()?;
    let m: i64 = digits[4..6].parse().ok()?;
    let d: i64 = digits[6..].parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // days from civil (Howard Hinnant's algorithm)
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    u64::try_from(era * 146_097 + doe - 719_468).ok()
}

/// `yyyymmdd` of a day (tests).
#[cfg(test)]
pub(super) fn format_day_pub(days: u64) -> String {
    format_day(days)
}

fn format_day(days: u64) -> String {
    let (y, m, d) = mp_release_core::health::civil(days);
    format!("{y:04}{m:02}{d:02}")
}

/// A deterministic wobble of ±`pct` % around `base` for day `day` (so charts are not flat lines).
fn wobble(base: u64, day: u64, salt: u64, pct: u64) -> u64 {
    let h = super::mix(day.wrapping_mul(31).wrapping_add(salt));
    let span = base * pct / 100;
    if span == 0 {
        return base;
    }
    base - span + h % (2 * span + 1)
}

/// A stable 32-hex-digit id of a text (the emulator's stand-in for WeChat's md5 fields).
fn hex32(s: &str) -> String {
    let h = s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("{:016x}{:016x}", super::mix(h), super::mix(h ^ 1))
}

/// One day's visit figures from the scenario's traffic.
pub fn day_figures(t: &Traffic, day: u64) -> Value {
    let uv = wobble(t.daily_uv, day, 1, 15);
    let pv = uv * t.pages_per_user.max(1) + wobble(uv / 3, day, 2, 50);
    #[allow(clippy::cast_precision_loss)]
    let stay = t.stay_seconds * (0.9 + (super::mix(day + 3) % 21) as f64 / 100.0);
    json!({
        "ref_date": format_day(day),
        "session_cnt": uv + uv / 2,
        "visit_pv": pv,
        "visit_uv": uv,
        "visit_uv_new": wobble(uv / 10, day, 4, 30),
        "stay_time_uv": (stay * 10.0).round() / 10.0,
        "stay_time_session": (stay * 6.0).round() / 10.0,
        "visit_depth": 2.5,
    })
}

/// The figures of several days as one answer row (weekly and monthly trends): counts summed,
/// visitors and new visitors de-duplicated, stay times and depth averaged.
/// REFERENCE-UNSURE: how many daily visitors are the same person is the app's; the emulator
/// counts a visitor of the week as 1.8 daily visits and of the month as 3.
fn span_figures(t: &Traffic, first: u64, last: u64, ref_date: &str, repeat: f64) -> Value {
    let days: Vec<Value> = (first..=last).map(|d| day_figures(t, d)).collect();
    let sum = |k: &str| days.iter().map(|d| d[k].as_u64().unwrap_or(0)).sum::<u64>();
    #[allow(clippy::cast_precision_loss)]
    let avg = |k: &str| {
        days.iter()
            .map(|d| d[k].as_f64().unwrap_or(0.0))
            .sum::<f64>()
            / days.len().max(1) as f64
    };
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let dedupe = |k: &str| (sum(k) as f64 / repeat).round() as u64;
    json!({
        "ref_date": ref_date,
        "session_cnt": sum("session_cnt"),
        "visit_pv": sum("visit_pv"),
        "visit_uv": dedupe("visit_uv"),
        "visit_uv_new": dedupe("visit_uv_new"),
        "stay_time_uv": (avg("stay_time_uv") * 10.0).round() / 10.0,
        "stay_time_session": (avg("stay_time_session") * 10.0).round() / 10.0,
        "visit_depth": avg("visit_depth"),
    })
}

/// Where a one-day datacube request stands.
enum OneDay {
    /// Ready: this day.
    Day(u64),
    /// Yesterday before its figures are ready.
    NotReady,
}

impl World {
    /// A datacube body of one day no later than yesterday (A.0: else 61501).
    fn one_day(&self, c: &Ctx<'_>) -> Result<OneDay, i64> {
        let (begin, end) = self.range(c)?;
        let now = self.now();
        let today = day_of(now);
        if begin != end || end >= today {
            return Err(61501);
        }
        let hour = ((now + 8 * 3600) % 86_400) / 3600;
        if end + 1 == today && hour < READY_HOUR {
            return Ok(OneDay::NotReady);
        }
        Ok(OneDay::Day(end))
    }

    /// `POST /datacube/getweanalysisappiddailyvisittrend` `{begin_date, end_date}`.
    pub(super) fn daily_visit_trend(&mut self, c: &Ctx<'_>) -> Answer {
        let traffic = self.scenario.traffic.clone().unwrap_or_default();
        Ok(match self.one_day(c)? {
            OneDay::NotReady => json!({ "list": [] }),
            OneDay::Day(d) => json!({ "list": [day_figures(&traffic, d)] }),
        })
    }

    /// `POST /datacube/getweanalysisappidweeklyvisittrend` (A.3): a Monday to the Sunday after
    /// it, of a week that is over (this week: 61501).
    pub(super) fn weekly_visit_trend(&mut self, c: &Ctx<'_>) -> Answer {
        let (begin, end) = self.range(c)?;
        // 1970-01-01 was a Thursday: day d is a Monday when (d + 3) % 7 == 0.
        if (begin + 3) % 7 != 0 || end != begin + 6 || end >= day_of(self.now()) {
            return Err(61501);
        }
        let traffic = self.scenario.traffic.clone().unwrap_or_default();
        let label = format!("{}-{}", format_day(begin), format_day(end));
        Ok(json!({ "list": [span_figures(&traffic, begin, end, &label, 1.8)] }))
    }

    /// `POST /datacube/getweanalysisappidmonthlyvisittrend` (A.4): the first to the last day of
    /// a month that is over (this month: 61501).
    pub(super) fn monthly_visit_trend(&mut self, c: &Ctx<'_>) -> Answer {
        let (begin, end) = self.range(c)?;
        let (first, last) = (format_day(begin), format_day(end));
        let next = format_day(end + 1);
        let whole = first.ends_with("01") && next.ends_with("01") && first[..6] == last[..6];
        if !whole || end >= day_of(self.now()) {
            return Err(61501);
        }
        let traffic = self.scenario.traffic.clone().unwrap_or_default();
        Ok(json!({ "list": [span_figures(&traffic, begin, end, &first[..6], 3.0)] }))
    }

    /// `begin_date` and `end_date` as days (40097 when they are not `yyyymmdd`).
    fn range(&self, c: &Ctx<'_>) -> Result<(u64, u64), i64> {
        let begin = c.str("begin_date").and_then(|d| parse_day(d, false));
        let end = c.str("end_date").and_then(|d| parse_day(d, false));
        match (begin, end) {
            (Some(b), Some(e)) if b <= e => Ok((b, e)),
            (Some(_), Some(_)) => Err(61501),
            _ => Err(40097),
        }
    }

    /// `POST /datacube/getweanalysisappidvisitpage` (A.5): the scenario's pages, each about half
    /// as visited as the one before it.
    /// REFERENCE-UNSURE: whether WeChat truncates the list is undocumented; every page is listed.
    pub(super) fn visit_page(&mut self, c: &Ctx<'_>) -> Answer {
        let traffic = self.scenario.traffic.clone().unwrap_or_default();
        let day = match self.one_day(c)? {
            OneDay::NotReady => return Ok(json!({ "list": [] })),
            OneDay::Day(d) => d,
        };
        let figures = day_figures(&traffic, day);
        let pv = figures["visit_pv"].as_u64().unwrap_or(0);
        let uv = figures["visit_uv"].as_u64().unwrap_or(0);
        let mut left = (pv, uv);
        let n = traffic.pages.len();
        let list: Vec<Value> = traffic
            .pages
            .iter()
            .enumerate()
            .map(|(i, path)| {
                let take = |total: u64| {
                    if i + 1 == n {
                        total
                    } else {
                        wobble(total / 2, day, 10 + i as u64, 10)
                    }
                };
                let (p, u) = (take(left.0), take(left.1));
                left = (left.0 - p.min(left.0), left.1 - u.min(left.1));
                json!({
                    "page_path": path,
                    "page_visit_pv": p,
                    "page_visit_uv": u,
                    "page_staytime_pv": (traffic.stay_seconds / 2.0 * 10.0).round() / 10.0,
                    "entrypage_pv": if i == 0 { p * 9 / 10 } else { p / 10 },
                    "exitpage_pv": p / 3,
                    "page_share_pv": p / 50,
                    "page_share_uv": u / 60,
                })
            })
            .collect();
        Ok(json!({ "ref_date": format_day(day), "list": list }))
    }

    /// `POST /datacube/getweanalysisappidvisitdistribution` (A.6): sources, stay times and
    /// depths of the day's sessions.
    pub(super) fn visit_distribution(&mut self, c: &Ctx<'_>) -> Answer {
        let traffic = self.scenario.traffic.clone().unwrap_or_default();
        let day = match self.one_day(c)? {
            OneDay::NotReady => return Ok(json!({ "list": [] })),
            OneDay::Day(d) => d,
        };
        let sessions = day_figures(&traffic, day)["session_cnt"]
            .as_u64()
            .unwrap_or(0);
        // key → share in ‰: history list, search, chats, QR scans, desktop, mini program home,
        // other, long-press QR
        let split = |parts: &[(u64, u64)], salt: u64| -> Vec<Value> {
            parts
                .iter()
                .map(|(key, per_mille)| json!({ "key": key, "value": wobble(sessions * per_mille / 1000, day, salt + key, 8) }))
                .collect()
        };
        Ok(json!({
            "ref_date": format_day(day),
            "list": [
                { "index": "access_source_session_cnt", "item_list": split(&[(1, 420), (3, 210), (2, 120), (4, 90), (7, 60), (8, 40), (16, 30), (10, 30)], 20) },
                { "index": "access_staytime_info", "item_list": split(&[(1, 80), (2, 120), (3, 160), (4, 200), (5, 150), (6, 130), (7, 100), (8, 60)], 40) },
                { "index": "access_depth_info", "item_list": split(&[(1, 300), (2, 250), (3, 180), (4, 110), (5, 70), (6, 60), (7, 30)], 60) },
            ],
        }))
    }

    /// `POST /wxa/business/performance/boot` (A.9) `{module, time: {begin_timestamp,
    /// end_timestamp}, params}`: module 10017 (start-up stages) answers the scenario's start-up
    /// time per day; the span may be 30 days at most.
    /// REFERENCE-UNSURE: the table ids and names WeChat answers are not documented (only their
    /// shape: `data.body.tables[] {id, zh, lines[].fields[] {refdate, value}}`, values as strings);
    /// ours are made up, and clients should show them as given. A span over 30 days answering
    /// 40097 is ours too.
    pub(super) fn performance(&mut self, c: &Ctx<'_>) -> Answer {
        let module = c.num("module").ok_or(40097)?;
        let time = c.body.get("time").ok_or(40097)?;
        let num = |k: &str| match time.get(k) {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        let (Some(begin), Some(end)) = (num("begin_timestamp"), num("end_timestamp")) else {
            return Err(40097);
        };
        if !c.body.get("params").is_some_and(Value::is_array)
            || end < begin
            || end - begin > 30 * 86_400
        {
            return Err(40097);
        }
        let traffic = self.scenario.traffic.clone().unwrap_or_default();
        let today = day_of(self.now());
        let days: Vec<u64> = (day_of(begin)..=day_of(end))
            .filter(|d| *d < today)
            .collect();
        let series = |scale: u64, salt: u64| -> Value {
            let fields: Vec<Value> = days
                .iter()
                .map(|d| json!({ "refdate": format_day(*d), "value": wobble(traffic.startup_ms * scale / 100, *d, salt, 10).to_string() }))
                .collect();
            json!([{ "fields": fields }])
        };
        let tables = match module {
            10017 => json!([
                { "id": "startup_total_cost", "zh": "启动总耗时", "lines": series(100, 70) },
                { "id": "download_cost", "zh": "代码包下载耗时", "lines": series(35, 71) },
                { "id": "first_render_cost", "zh": "首次渲染耗时", "lines": series(40, 72) },
            ]),
            10016 | 10021 | 10022 | 10023 => json!([]),
            _ => return Err(40097),
        };
        let count = tables.as_array().map_or(0, Vec::len);
        Ok(json!({ "data": { "body": { "tables": tables, "count": count } } }))
    }

    /// `POST /wxaapi/log/jserr_list`: the scenario's errors of a version (or of all, "0") over the
    /// days asked, by users (uv) or events (pv).
    /// The scenario's errors of `version` ("0": all) over the Beijing days `start..=end` (up to
    /// now): (error users, events, the error, the version it resolved to).
    fn error_rows(
        &mut self,
        c: &Ctx<'_>,
        version: &str,
        start: u64,
        end: u64,
    ) -> Result<Vec<(u64, u64, crate::scenario::JsError, String)>, i64> {
        let days = end - start + 1;
        let now = self.now();
        let traffic = self.scenario.traffic.clone().unwrap_or_default();
        let app = self.caller_app(c)?;
        // The days asked, up to now (Beijing days: day d starts at d·86400 − 8 h).
        let from = (start * 86_400).saturating_sub(8 * 3600);
        let to = ((end + 1) * 86_400).saturating_sub(8 * 3600).min(now);
        let mut rows = Vec::new();
        for e in &traffic.errors {
            let Some(v) = app.resolve(&e.version) else {
                continue;
            };
            if version != "0" && v != version {
                continue;
            }
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let scaled = (e.per_mille / 1000.0
                * traffic.daily_uv as f64
                * app.user_days(&v, from, to, e.from_percent))
            .round() as u64;
            let (uv, pv) = (
                e.users_per_day * days + scaled,
                e.events_per_day * days + scaled * 2,
            );
            if uv > 0 || pv > 0 {
                rows.push((uv, pv, e.clone(), v));
            }
        }
        Ok(rows)
    }

    /// `POST /wxaapi/log/jserr_detail` (B.2): the occurrences of one signature
    /// (`errorMsgMd5` + `errorStackMd5`) of a version over the days asked, every field a string.
    /// REFERENCE-UNSURE: the page gives no most `limit`; over 100 answering 40097 is ours.
    pub(super) fn jserr_detail(&mut self, c: &Ctx<'_>) -> Answer {
        let start = c.str("startTime").and_then(|d| parse_day(d, true));
        let end = c.str("endTime").and_then(|d| parse_day(d, true));
        let (Some(start), Some(end)) = (start, end) else {
            return Err(40097);
        };
        let (Some(msg), Some(stack)) = (c.str("errorMsgMd5"), c.str("errorStackMd5")) else {
            return Err(40097);
        };
        let (msg, stack) = (msg.to_owned(), stack.to_owned());
        let limit = c.num("limit").unwrap_or(20);
        if limit == 0 || limit > 100 || end < start {
            return Err(40097);
        }
        let offset = c.num("offset").unwrap_or(0);
        let version = c.str("appVersion").unwrap_or("0").to_owned();
        let appid = c.caller.appid().to_owned();
        let rows = self.error_rows(c, &version, start, end)?;
        let Some((_, pv, e, v)) = rows
            .into_iter()
            .find(|(_, _, e, _)| hex32(&e.message) == msg && hex32(&e.stack) == stack)
        else {
            return Ok(json!({ "data": [], "totalCount": 0 }));
        };
        let from = (start * 86_400).saturating_sub(8 * 3600);
        let span = (end - start + 1) * 86_400;
        let data: Vec<Value> = (offset..pv.min(offset + limit))
            .map(|i| {
                let at = from + i * span / pv.max(1);
                json!({
                    "Count": "1",
                    "sdkVersion": "3.3.4",
                    "ClientVersion": "8.0.50",
                    "errorStackMd5": stack,
                    "TimeStamp": at.to_string(),
                    "appVersion": v,
                    "errorMsgMd5": msg,
                    "errorMsg": e.message,
                    "errorStack": e.stack,
                    "Ds": format_day(day_of(at)),
                    "OsName": if i % 2 == 0 { "iOS" } else { "Android" },
                    "openId": format!("o{}", &hex32(&format!("{}:{i}", e.message))[..27]),
                    "pluginversion": "",
                    "appId": appid,
                    "DeviceModel": if i % 2 == 0 { "iPhone 15" } else { "Pixel 8" },
                    "source": "1",
                    "route": "pages/index/index",
                    "nickname": "",
                })
            })
            .collect();
        Ok(json!({ "data": data, "totalCount": pv }))
    }

    pub(super) fn jserr_list(&mut self, c: &Ctx<'_>) -> Answer {
        // B.1: 20011 频率限制. REFERENCE-UNSURE: the limit is not published; 60 calls a minute
        // per app is ours.
        let now = self.now();
        if !per_minute(
            &mut self.jserr_window,
            c.caller.appid(),
            now,
            JSERR_PER_MINUTE,
        ) {
            return Err(20011);
        }
        let start = c.str("startTime").and_then(|d| parse_day(d, true));
        let end = c.str("endTime").and_then(|d| parse_day(d, true));
        let (Some(start), Some(end)) = (start, end) else {
            return Err(40097);
        };
        let version = c.str("appVersion").unwrap_or("0").to_owned();
        let limit = c.num("limit").unwrap_or(30);
        // REFERENCE-UNSURE: the page gives 30 as the most; a larger limit answering 40097 is ours.
        if limit == 0 || limit > 30 || end < start {
            return Err(40097);
        }
        let offset = usize::try_from(c.num("offset").unwrap_or(0)).unwrap_or(usize::MAX);
        let mut rows = self.error_rows(c, &version, start, end)?;
        let by_pv = c.str("orderby") == Some("pv");
        rows.sort_by_key(|(uv, pv, _, _)| std::cmp::Reverse(if by_pv { *pv } else { *uv }));
        let total_uv: u64 = rows.iter().map(|r| r.0).sum::<u64>().max(1);
        let total_pv: u64 = rows.iter().map(|r| r.1).sum::<u64>().max(1);
        let data: Vec<Value> = rows
            .iter()
            .skip(offset)
            .take(usize::try_from(limit).unwrap_or(30))
            .map(|(uv, pv, e, _)| {
                #[allow(clippy::cast_precision_loss)]
                let pct = |a: u64, b: u64| format!("{:.2}%", a as f64 * 100.0 / b as f64);
                json!({
                    "errorMsgMd5": hex32(&e.message),
                    "errorMsg": e.message,
                    "uv": uv,
                    "pv": pv,
                    "errorStackMd5": hex32(&e.stack),
                    "errorStack": e.stack,
                    "pvPercent": pct(*pv, total_pv),
                    "uvPercent": pct(*uv, total_uv),
                })
            })
            .collect();
        Ok(json!({ "data": data, "totalCount": rows.len(), "success": true }))
    }
}

impl World {
    /// `GET /wxaapi/feedback/list?type=&page=&num=`: the scenario's feedback sent so far, newest
    /// first (B.5), one page.
    /// REFERENCE-UNSURE: the page lists only -1; a missing or zero `page`/`num` answering 40097 is
    /// ours.
    pub(super) fn feedback_list(&mut self, c: &Ctx<'_>) -> Answer {
        let num = |k: &str| c.req.param(k).and_then(|v| v.trim().parse::<u64>().ok());
        let (Some(page), Some(per)) = (num("page"), num("num")) else {
            return Err(40097);
        };
        if page == 0 || per == 0 {
            return Err(40097);
        }
        let kind = num("type");
        let now = self.now();
        let traffic = self.scenario.traffic.clone().unwrap_or_default();
        let app = self.caller_app(c)?;
        let mut sent: Vec<(u64, usize, &crate::scenario::Feedback)> = Vec::new();
        for (i, f) in traffic.feedback.iter().enumerate() {
            let base = match f.version.as_deref() {
                None => Some(crate::clock::EPOCH),
                Some(v) => app.resolve(v).and_then(|v| app.first_exposed(&v)),
            };
            let Some(at) = base.map(|b| b + f.at_seconds) else {
                continue;
            };
            if at <= now && kind.is_none_or(|k| k == u64::from(f.kind)) {
                sent.push((at, i, f));
            }
        }
        sent.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
        let skip = usize::try_from((page - 1).saturating_mul(per)).unwrap_or(usize::MAX);
        let list: Vec<Value> = sent
            .iter()
            .skip(skip)
            .take(usize::try_from(per).unwrap_or(usize::MAX))
            .map(|(at, i, f)| {
                json!({
                    "record_id": 7_000_000 + *i as u64,
                    "create_time": at,
                    "content": f.content,
                    "phone": "",
                    "openid": format!("o{}", hex32(&f.content).get(..27).unwrap_or_default()),
                    "nickname": "",
                    "head_url": "",
                    "type": f.kind,
                    "mediaIds": [],
                    "systemInfo": "{\"platform\":\"ios\"}",
                })
            })
            .collect();
        Ok(json!({ "total_num": sent.len(), "list": list }))
    }
}

impl World {
    /// `GET /wxaapi/userlog/userlog_search?date&begintime&endtime[&start&limit&filterMsg&level]`
    /// (B.4): the scenario's `log-errors` as real-time log entries of the hours asked, for the
    /// versions whose marker (`log-marker`) is `filterMsg`; `data: {total, list}`.
    /// REFERENCE-UNSURE: the page says the last 7 days and the 200002 text says 3; 7 here.
    pub(super) fn userlog_search(&mut self, c: &Ctx<'_>) -> Answer {
        let now = self.now();
        if !per_minute(
            &mut self.userlog_window,
            c.caller.appid(),
            now,
            USERLOG_PER_MINUTE,
        ) {
            return Err(200_010);
        }
        let param = |k: &str| c.req.param(k).map(|v| v.trim().to_owned());
        let num = |k: &str| param(k).and_then(|v| v.parse::<u64>().ok());
        let (Some(day), Some(begin), Some(end)) = (
            param("date").and_then(|d| parse_day(&d, false)),
            num("begintime"),
            num("endtime"),
        ) else {
            return Err(200_002);
        };
        let day_start = (day * 86_400).saturating_sub(8 * 3600);
        let today = day_of(now);
        if day > today
            || today - day >= 7
            || end <= begin
            || begin < day_start
            || end > day_start + 86_400
        {
            return Err(200_002);
        }
        let start = usize::try_from(num("start").unwrap_or(0)).unwrap_or(usize::MAX);
        let limit = usize::try_from(num("limit").unwrap_or(20).min(100)).unwrap_or(20);
        let level = num("level").unwrap_or(0);
        let filter = param("filterMsg");
        let traffic = self.scenario.traffic.clone().unwrap_or_default();
        let app = self.caller_app(c)?;
        let to = end.min(now);
        let mut entries: Vec<Value> = Vec::new();
        for e in &traffic.log_errors {
            let Some(version) = app.resolve(&e.version) else {
                continue;
            };
            let marker = traffic.log_marker.replace("{version}", &version);
            if filter
                .as_deref()
                .is_some_and(|f| !f.is_empty() && f != marker)
                || level > 8
            {
                continue;
            }
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let users = (e.per_mille / 1000.0
                * traffic.daily_uv as f64
                * app.user_days(&version, begin, to, e.from_percent))
            .round() as u64
                + e.users_per_day * (to.saturating_sub(begin)) / 86_400;
            let span = to.saturating_sub(begin).max(1);
            for i in 0..users {
                let at = begin + i * span / users.max(1);
                let id = format!("o{}", &hex32(&format!("{version}:{}:{i}", e.message))[..27]);
                entries.push(json!({
                    "level": 8,
                    "libraryVersion": "3.3.4",
                    "clientVersion": "8.0.50",
                    "id": id,
                    "timestamp": at,
                    "platform": 1 + i % 2,
                    "url": "pages/index/index",
                    "msg": [{ "time": at, "msg": [e.message], "level": 8 }],
                    "traceid": hex32(&format!("trace:{id}")),
                    "filterMsg": marker,
                }));
            }
        }
        let total = entries.len();
        let list: Vec<Value> = entries.into_iter().skip(start).take(limit).collect();
        Ok(json!({ "data": { "total": total, "list": list } }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_round_trip() {
        for s in ["19700101", "20000229", "20261201", "20991231"] {
            assert_eq!(format_day(parse_day(s, false).unwrap()), s);
        }
        assert_eq!(parse_day("2026-12-01", true), parse_day("20261201", false));
        for bad in ["2026121", "20261301", "2026-1-01", "abcdefgh"] {
            assert!(parse_day(bad, bad.contains('-')).is_none(), "{bad}");
        }
    }
}
