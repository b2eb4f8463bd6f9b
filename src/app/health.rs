//! The health gate's figures (wechat-ops-api.md B): business-code JS errors of the new version and
//! of the previous live version (`jserr_list`, by `appVersion`, whole Beijing days), and the
//! crash-type user feedback since the step began (`feedback/list`, newest first).
//!
//! REFERENCE-UNSURE: whether `jserr_list`'s `appVersion` is the `user_version` given to
//! commit/upload (what `getversioninfo` shows) is not confirmed; it is very likely the version
//! the console shows, and the gate asks for exactly that string.

use crate::adapters::wechat::{CallError, WeChat};
use mp_release_core::health::{beijing_date, Signature, VersionErrors};
use mp_release_core::pipeline::{Event, HealthQuery};
use mp_release_core::wechat::wire;
use serde_json::json;

/// `jserr_list` answers at most 30 signatures a page.
const PAGE: u64 = 30;
/// Pages read per version: 300 signatures (the worst come first, ordered by users).
const MAX_PAGES: u64 = 10;
/// Feedback per page, and pages read (newest first, so the reading stops at the step's start).
const FEEDBACK_PAGE: u64 = 50;
const FEEDBACK_PAGES: u64 = 20;
/// Feedback types that count as crashes: 1 无法打开, 2 闪退, 3 卡顿, 4 黑屏白屏, 5 死机.
const CRASH_TYPES: [u32; 5] = [1, 2, 3, 4, 5];

fn invalid(endpoint: &str, e: &impl std::fmt::Display, v: &serde_json::Value) -> CallError {
    CallError::unexpected(
        endpoint,
        format!(
            "the answer does not fit what the health gate needs ({e}), so the rollout stopped instead of guessing; \
             the answer was {}",
            mp_release_core::pipeline::clip(&v.to_string())
        ),
    )
}

/// The first frame of a stack (`at …`), else its first line: WeChat's `errorStack` starts with
/// the message again.
fn stack_head(stack: &str) -> &str {
    let mut lines = stack.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.clone().next().unwrap_or_default();
    lines.find(|l| l.starts_with("at ")).unwrap_or(first)
}

/// One version's errors over the days from `since` to `until` (Beijing dates).
pub async fn errors(
    wx: &WeChat,
    token: Option<&str>,
    version: &str,
    since: u64,
    until: u64,
) -> Result<VersionErrors, CallError> {
    let path = "/wxaapi/log/jserr_list";
    let mut out = VersionErrors::default();
    for page in 0..MAX_PAGES {
        let body = json!({
            "appVersion": version,
            "errType": "1",
            "startTime": beijing_date(since),
            "endTime": beijing_date(until),
            "keyword": "",
            "openid": "",
            "orderby": "uv",
            "desc": "1",
            "offset": page * PAGE,
            "limit": PAGE,
        });
        let v = wx.post(path, token, &body).await?;
        let list: wire::JsErrList = wire::parse(&v).map_err(|e| invalid(path, &e, &v))?;
        let n = list.data.len() as u64;
        for e in list.data {
            let key = format!("{}:{}", e.msg_md5, e.stack_md5);
            let sig = out.signatures.entry(key).or_insert_with(|| Signature {
                message: mp_release_core::pipeline::clip(&e.msg),
                stack_head: mp_release_core::pipeline::clip(stack_head(&e.stack)),
                users: 0,
                events: 0,
            });
            sig.users = sig.users.saturating_add(e.uv);
            sig.events = sig.events.saturating_add(e.pv);
        }
        if n < PAGE || (page + 1) * PAGE >= list.total_count {
            break;
        }
    }
    Ok(out)
}

/// Crash-type feedback created at or after `since`.
pub async fn crash_feedback(
    wx: &WeChat,
    token: Option<&str>,
    since: u64,
) -> Result<u64, CallError> {
    let by_type = feedback_by_type(wx, token, since, u64::MAX).await?;
    Ok(CRASH_TYPES
        .iter()
        .map(|k| by_type.get(k).copied().unwrap_or(0))
        .fold(0, u64::saturating_add))
}

/// Feedback created in `[from, to)`, counted by type (read newest first, up to the first older
/// one).
pub async fn feedback_by_type(
    wx: &WeChat,
    token: Option<&str>,
    from: u64,
    to: u64,
) -> Result<std::collections::BTreeMap<u32, u64>, CallError> {
    let path = "/wxaapi/feedback/list";
    let mut counts = std::collections::BTreeMap::new();
    let num = FEEDBACK_PAGE.to_string();
    for page in 1..=FEEDBACK_PAGES {
        let p = page.to_string();
        let v = wx.get(path, token, &[("page", &p), ("num", &num)]).await?;
        let list: wire::FeedbackList = wire::parse(&v).map_err(|e| invalid(path, &e, &v))?;
        let n = list.list.len() as u64;
        let mut older = false;
        for f in &list.list {
            if f.create_time < from {
                older = true;
            } else if f.create_time < to {
                *counts.entry(f.kind).or_default() += 1;
            }
        }
        if older || n < FEEDBACK_PAGE || page * FEEDBACK_PAGE >= list.total_num {
            break;
        }
    }
    Ok(counts)
}

/// Real-time log entries read per filter (`userlog_search` answers at most `LOG_PAGE` a page).
const LOG_PAGE: u64 = 100;
const LOG_PAGES: u64 = 20;
/// `level` 8: errors (the API's levels: 2 Info, 4 Warn, 8 Error).
const LOG_ERROR: u64 = 8;

/// Users with error logs under `filter` (the version marker the app logs) over `[from, to]` of
/// one Beijing day; `None` when there are more entries than are read (a count cut for one
/// version and not the other would skew the ratio, so the log is left out of the look).
/// REFERENCE-UNSURE: the largest `limit` is undocumented (the default is 20); 100 is ours.
pub async fn log_error_users(
    wx: &WeChat,
    token: Option<&str>,
    filter: &str,
    from: u64,
    to: u64,
) -> Result<Option<u64>, CallError> {
    let path = "/wxaapi/userlog/userlog_search";
    let date = beijing_date(from).replace('-', "");
    let (begin, end) = (from.to_string(), to.max(from + 1).to_string());
    let limit = LOG_PAGE.to_string();
    let level = LOG_ERROR.to_string();
    let mut users = std::collections::BTreeSet::new();
    for page in 0..LOG_PAGES {
        let start = (page * LOG_PAGE).to_string();
        let query = [
            ("date", date.as_str()),
            ("begintime", begin.as_str()),
            ("endtime", end.as_str()),
            ("start", start.as_str()),
            ("limit", limit.as_str()),
            ("filterMsg", filter),
            ("level", level.as_str()),
        ];
        let v = wx.get(path, token, &query).await?;
        let total = v["data"]["total"].as_u64();
        let list = v["data"]["list"].as_array();
        let (Some(total), Some(list)) = (total, list) else {
            return Err(invalid(path, &"no data.total and data.list", &v));
        };
        for entry in list {
            if entry["level"].as_u64().unwrap_or(0) & LOG_ERROR != 0 {
                if let Some(id) = entry["id"].as_str() {
                    users.insert(id.to_owned());
                }
            }
        }
        let read = (page + 1) * LOG_PAGE;
        if list.is_empty() || read >= total {
            return Ok(Some(users.len() as u64));
        }
    }
    tracing::info!(
        "the real-time log of {filter} has more than {} error entries; it is left out of this look",
        LOG_PAGE * LOG_PAGES
    );
    Ok(None)
}

/// The gate's figures for one look.
pub async fn gather(wx: &WeChat, token: &str, q: &HealthQuery) -> Result<Event, CallError> {
    let t = Some(token);
    let new = errors(wx, t, &q.version, q.errors_since, q.until).await?;
    let old = match &q.previous {
        Some(p) => errors(wx, t, p, q.errors_since, q.until).await?,
        None => VersionErrors::default(),
    };
    let crash = crash_feedback(wx, t, q.feedback_since).await?;
    let logs = match &q.log_filters {
        Some((fnew, fold)) => {
            let n = log_error_users(wx, t, fnew, q.log_since, q.until).await?;
            let o = log_error_users(wx, t, fold, q.log_since, q.until).await?;
            n.zip(o)
        }
        None => None,
    };
    Ok(Event::Health {
        new,
        old,
        crash_feedback: crash,
        logs,
    })
}
