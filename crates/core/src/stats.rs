//! Operations data (运营数据) as pure data and its three renderings: the job summary (a compact
//! table and Mermaid charts, which GitHub renders), the terminal (a table with sparklines), and
//! JSON (the `stats` output).
//!
//! The figures come from the datacube (whole-app totals, one day per call, T+1: today never
//! exists and yesterday may not be ready — such a day is *missing*, never zero), the JS error list
//! per version (`jserr_list`) and user feedback (`feedback/list`); see wechat-ops-api.md A, B.

use crate::health::{Signature, VersionErrors};
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// One day's visit figures (`getweanalysisappiddailyvisittrend`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Visits {
    /// 打开次数.
    pub session_cnt: u64,
    /// 访问次数.
    pub visit_pv: u64,
    /// 访问人数.
    pub visit_uv: u64,
    /// 新用户数.
    pub visit_uv_new: u64,
    /// 人均停留时长, seconds.
    pub stay_time_uv: f64,
    /// 次均停留时长, seconds.
    pub stay_time_session: f64,
    /// 平均访问深度.
    pub visit_depth: f64,
}

/// A day of the window: its date and its figures, `None` while WeChat has none yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Day {
    /// `yyyymmdd`.
    pub date: String,
    /// The figures; `None`: not ready (T+1), never to be read as zero.
    pub visits: Option<Visits>,
}

/// A page of `getweanalysisappidvisitpage`, summed over the window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Page {
    /// `page_path`.
    pub path: String,
    /// Visits.
    pub pv: u64,
    /// Visitors (summed per day: a visitor of two days counts twice).
    pub uv: u64,
    /// Visits that entered the app here.
    pub entry_pv: u64,
    /// Visits that left the app here.
    pub exit_pv: u64,
    /// Shares.
    pub share_pv: u64,
}

/// A visit source (`access_source_session_cnt`), summed over the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// WeChat's key.
    pub key: u64,
    /// Its name (WeChat's table), or `来源 N` for a key not in it.
    pub name: String,
    /// Sessions.
    pub sessions: u64,
}

/// A start-up measure (`performance/boot` module 10017), as WeChat names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measure {
    /// WeChat's table id.
    pub id: String,
    /// Its Chinese name.
    pub name: String,
    /// (`yyyymmdd`, value) per day.
    pub points: Vec<(String, f64)>,
}

/// One version's JS errors over the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionErrorsOf {
    /// The version (`appVersion`; `0` = every version).
    pub version: String,
    /// Its business-code errors.
    pub errors: VersionErrors,
}

/// Feedback of one type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackCount {
    /// WeChat's type (1–8).
    pub kind: u32,
    /// Its name.
    pub name: String,
    /// How many in the window.
    pub count: u64,
}

/// A release inside the window (from the release history, when it can be read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// `yyyymmdd` (Beijing).
    pub date: String,
    /// The version released.
    pub version: String,
}

/// Everything `mp-release stats` shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// The mini program.
    pub appid: String,
    /// The window's days, oldest first.
    pub days: Vec<Day>,
    /// The same number of days before it, for comparison.
    pub before: Vec<Day>,
    /// Top pages, most visited first.
    pub pages: Vec<Page>,
    /// Visit sources, most sessions first.
    pub sources: Vec<Source>,
    /// Start-up measures.
    pub startup: Vec<Measure>,
    /// JS errors per version: the live (or named) version first, then the one before it.
    pub errors: Vec<VersionErrorsOf>,
    /// Feedback by type, most first.
    pub feedback: Vec<FeedbackCount>,
    /// Releases inside the window.
    pub releases: Vec<Release>,
    /// What could not be read, and why (a part of the report that is missing says so here).
    pub notes: Vec<String>,
}

/// The name of a visit source key (WeChat's table on the getVisitDistribution page, keys 1–24).
/// REFERENCE-UNSURE: the names of keys above 24 are not in the reference; they show as `来源 N`.
pub fn source_name(key: u64) -> String {
    const NAMES: [&str; 24] = [
        "小程序历史列表",
        "搜索",
        "会话",
        "扫一扫二维码",
        "公众号主页",
        "聊天顶部",
        "系统桌面",
        "小程序主页",
        "附近的小程序",
        "其他",
        "模板消息",
        "客服消息",
        "公众号菜单",
        "APP分享",
        "支付完成页",
        "长按识别二维码",
        "相册选取二维码",
        "公众号文章",
        "钱包",
        "卡包",
        "小程序内卡券",
        "其他小程序",
        "其他小程序返回",
        "卡券适用门店",
    ];
    usize::try_from(key)
        .ok()
        .and_then(|k| k.checked_sub(1))
        .and_then(|i| NAMES.get(i))
        .map_or_else(|| format!("来源 {key}"), |n| (*n).to_owned())
}

/// The name of a feedback type (wechat-ops-api.md B.5).
pub fn feedback_name(kind: u32) -> String {
    match kind {
        1 => "无法打开小程序",
        2 => "闪退",
        3 => "卡顿",
        4 => "黑屏白屏",
        5 => "死机",
        6 => "界面错位",
        7 => "界面加载慢",
        8 => "其他异常",
        _ => return format!("类型 {kind}"),
    }
    .to_owned()
}

/// Totals of the days that have figures: (days with figures, summed figures; stay times and depth
/// averaged over those days).
pub fn totals(days: &[Day]) -> (usize, Visits) {
    let have: Vec<&Visits> = days.iter().filter_map(|d| d.visits.as_ref()).collect();
    let mut t = Visits::default();
    for v in &have {
        // WeChat's figures are summed saturating: an absurd answer gives an absurd total, no panic.
        t.session_cnt = t.session_cnt.saturating_add(v.session_cnt);
        t.visit_pv = t.visit_pv.saturating_add(v.visit_pv);
        t.visit_uv = t.visit_uv.saturating_add(v.visit_uv);
        t.visit_uv_new = t.visit_uv_new.saturating_add(v.visit_uv_new);
        t.stay_time_uv += v.stay_time_uv;
        t.stay_time_session += v.stay_time_session;
        t.visit_depth += v.visit_depth;
    }
    if !have.is_empty() {
        #[allow(clippy::cast_precision_loss)]
        let n = have.len() as f64;
        t.stay_time_uv /= n;
        t.stay_time_session /= n;
        t.visit_depth /= n;
    }
    (have.len(), t)
}

/// A count per day over `days` days (0 without days).
fn per_day(x: u64, days: usize) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    if days == 0 {
        0.0
    } else {
        x as f64 / days as f64
    }
}

/// The first `n` items on one line, `·`-separated.
fn dotted<T>(items: &[T], n: usize, f: impl Fn(&T) -> String) -> String {
    items.iter().take(n).map(f).collect::<Vec<_>>().join(" · ")
}

/// Feedback by type on one line: `闪退 3 · 卡顿 1`.
fn feedback_line(s: &Stats) -> String {
    dotted(&s.feedback, usize::MAX, |f| {
        format!("{} {}", f.name, f.count)
    })
}

/// `yyyymmdd` as `MM-DD`.
fn short(date: &str) -> String {
    match (date.get(4..6), date.get(6..8)) {
        (Some(m), Some(d)) => format!("{m}-{d}"),
        _ => date.to_owned(),
    }
}

fn change(now: f64, before: f64) -> String {
    if before <= 0.0 {
        return "–".to_owned();
    }
    let pct = (now - before) / before * 100.0;
    format!("{pct:+.1} %")
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// A Mermaid string: double quotes cannot be escaped inside `"…"`, so they become single ones.
fn mermaid_text(s: &str) -> String {
    s.replace('"', "'").replace(['\r', '\n'], " ")
}

/// The new error signatures of the first version against the second (worst first).
pub fn new_signatures(errors: &[VersionErrorsOf]) -> Vec<Signature> {
    let (Some(new), Some(old)) = (errors.first(), errors.get(1)) else {
        return Vec::new();
    };
    let mut fresh: Vec<Signature> = new
        .errors
        .signatures
        .iter()
        .filter(|(k, _)| !old.errors.signatures.contains_key(*k))
        .map(|(_, s)| s.clone())
        .collect();
    fresh.sort_by(|a, b| b.users.cmp(&a.users).then(b.events.cmp(&a.events)));
    fresh
}

/// The daily visitors chart: this window's visitors as bars, the window before as a line on the
/// same days of the week. Days without figures are left out of the chart (an `xychart-beta`
/// series has no gaps); the table says which.
pub fn visits_chart(s: &Stats) -> Option<String> {
    let points: Vec<(String, u64, Option<u64>)> = s
        .days
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            let v = d.visits.as_ref()?;
            let before = s
                .before
                .get(i)
                .and_then(|b| b.visits.as_ref())
                .map(|b| b.visit_uv);
            Some((short(&d.date), v.visit_uv, before))
        })
        .collect();
    if points.is_empty() {
        return None;
    }
    let top = points
        .iter()
        .map(|p| p.1.max(p.2.unwrap_or(0)))
        .max()
        .unwrap_or(0);
    let labels: Vec<String> = points.iter().map(|p| format!("\"{}\"", p.0)).collect();
    let bars: Vec<String> = points.iter().map(|p| p.1.to_string()).collect();
    let mut out = String::from("```mermaid\nxychart-beta\n");
    let _ = writeln!(
        out,
        "    title \"Daily visitors: bars these days, line the days before\""
    );
    let _ = writeln!(out, "    x-axis [{}]", labels.join(", "));
    let _ = writeln!(out, "    y-axis \"visitors\" 0 --> {}", nice_top(top));
    let _ = writeln!(out, "    bar [{}]", bars.join(", "));
    if points.iter().all(|p| p.2.is_some()) {
        let line: Vec<String> = points
            .iter()
            .map(|p| p.2.unwrap_or(0).to_string())
            .collect();
        let _ = writeln!(out, "    line [{}]", line.join(", "));
    }
    out.push_str("```\n");
    Some(out)
}

/// The error users chart: one bar per version.
pub fn errors_chart(s: &Stats) -> Option<String> {
    if s.errors.is_empty() {
        return None;
    }
    let labels: Vec<String> = s
        .errors
        .iter()
        .map(|e| format!("\"{}\"", mermaid_text(&version_label(&e.version))))
        .collect();
    let users: Vec<u64> = s.errors.iter().map(|e| e.errors.users()).collect();
    let mut out = String::from("```mermaid\nxychart-beta\n");
    let _ = writeln!(out, "    title \"JS error users per version\"");
    let _ = writeln!(out, "    x-axis [{}]", labels.join(", "));
    let _ = writeln!(
        out,
        "    y-axis \"error users\" 0 --> {}",
        nice_top(users.iter().copied().max().unwrap_or(0))
    );
    let bars: Vec<String> = users.iter().map(u64::to_string).collect();
    let _ = writeln!(out, "    bar [{}]", bars.join(", "));
    out.push_str("```\n");
    Some(out)
}

fn version_label(v: &str) -> String {
    if v == "0" {
        "all versions".to_owned()
    } else {
        v.to_owned()
    }
}

/// A round top for a chart's axis: the next 1, 2 or 5 × 10ⁿ above the largest value.
fn nice_top(max: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [1, 2, 5] {
            let top = step.saturating_mul(m);
            if top >= max.max(1) {
                return top;
            }
        }
        step = step.saturating_mul(10);
    }
}

/// The job summary: the comparison with the window before, the charts, the day table, pages,
/// sources, start-up, errors per version (new signatures marked) and feedback.
#[allow(clippy::too_many_lines)]
pub fn markdown(s: &Stats, title: &str) -> String {
    let mut out = String::new();
    let (first, last) = (
        s.days.first().map(|d| d.date.as_str()).unwrap_or_default(),
        s.days.last().map(|d| d.date.as_str()).unwrap_or_default(),
    );
    let _ = writeln!(
        out,
        "### 📈 {title} · `{}` · {} – {}\n",
        s.appid,
        short(first),
        short(last)
    );
    let (n, now) = totals(&s.days);
    let (m, before) = totals(&s.before);
    // Days without figures are left out of both sides: the comparison is per day.
    let _ = writeln!(
        out,
        "| per day | these {n} day(s) | the {m} before | change |\n|---|---|---|---|"
    );
    for (name, a, b) in [
        ("visitors (visit_uv)", now.visit_uv, before.visit_uv),
        ("visits (visit_pv)", now.visit_pv, before.visit_pv),
        ("new visitors", now.visit_uv_new, before.visit_uv_new),
        (
            "sessions (session_cnt)",
            now.session_cnt,
            before.session_cnt,
        ),
    ] {
        let (a, b) = (per_day(a, n), per_day(b, m));
        let _ = writeln!(out, "| {name} | {a:.0} | {b:.0} | {} |", change(a, b));
    }
    let _ = writeln!(
        out,
        "| stay per visitor | {:.0} s | {:.0} s | {} |\n",
        now.stay_time_uv,
        before.stay_time_uv,
        change(now.stay_time_uv, before.stay_time_uv)
    );
    if let Some(chart) = visits_chart(s) {
        let _ = writeln!(out, "{chart}");
    }
    let _ = writeln!(
        out,
        "| day | visitors | visits | new | sessions | stay/visitor |\n|---|---|---|---|---|---|"
    );
    for d in &s.days {
        let release = s
            .releases
            .iter()
            .filter(|r| r.date == d.date)
            .map(|r| format!(" · {} released", r.version))
            .collect::<String>();
        match &d.visits {
            Some(v) => {
                let _ = writeln!(
                    out,
                    "| {}{release} | {} | {} | {} | {} | {:.0} s |",
                    short(&d.date),
                    v.visit_uv,
                    v.visit_pv,
                    v.visit_uv_new,
                    v.session_cnt,
                    v.stay_time_uv
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "| {}{release} | not ready yet (T+1) | | | | |",
                    short(&d.date)
                );
            }
        }
    }
    out.push('\n');
    if !s.pages.is_empty() {
        let _ = writeln!(out, "**Top pages**\n\n| page | visits | visitors | entries | exits | shares |\n|---|---|---|---|---|---|");
        for p in s.pages.iter().take(10) {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} | {} |",
                cell(&p.path),
                p.pv,
                p.uv,
                p.entry_pv,
                p.exit_pv,
                p.share_pv
            );
        }
        out.push('\n');
    }
    if !s.sources.is_empty() {
        let total: u64 = s
            .sources
            .iter()
            .fold(0u64, |a, x| a.saturating_add(x.sessions))
            .max(1);
        let parts = dotted(&s.sources, 8, |x| {
            #[allow(clippy::cast_precision_loss)]
            let pct = x.sessions as f64 * 100.0 / total as f64;
            format!("{} {pct:.0} %", x.name)
        });
        let _ = writeln!(out, "**Sources** {parts}\n");
    }
    if !s.startup.is_empty() {
        let parts: Vec<String> = s
            .startup
            .iter()
            .filter(|m| !m.points.is_empty())
            .map(|m| {
                #[allow(clippy::cast_precision_loss)]
                let avg = m.points.iter().map(|p| p.1).sum::<f64>() / m.points.len() as f64;
                format!("{} {avg:.0} ms", m.name)
            })
            .collect();
        if !parts.is_empty() {
            let _ = writeln!(
                out,
                "**Start-up** (average per day) {}\n",
                parts.join(" · ")
            );
        }
    }
    if !s.errors.is_empty() {
        if let Some(chart) = errors_chart(s) {
            let _ = writeln!(out, "{chart}");
        }
        let fresh = new_signatures(&s.errors);
        let _ = writeln!(
            out,
            "| version | error users | events | signatures |\n|---|---|---|---|"
        );
        for e in &s.errors {
            // A version released inside the window had users only since then.
            let since = s
                .releases
                .iter()
                .find(|r| r.version == e.version)
                .map(|r| format!(" (live since {})", short(&r.date)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "| {}{since} | {} | {} | {} |",
                cell(&version_label(&e.version)),
                e.errors.users(),
                e.errors.events(),
                e.errors.signatures.len()
            );
        }
        out.push('\n');
        let mut top: Vec<&Signature> = s.errors[0].errors.signatures.values().collect();
        top.sort_by(|a, b| b.users.cmp(&a.users).then(b.events.cmp(&a.events)));
        if !top.is_empty() {
            let _ = writeln!(
                out,
                "Top errors of {}:\n",
                version_label(&s.errors[0].version)
            );
            for sig in top.iter().take(5) {
                let new = if fresh
                    .iter()
                    .any(|f| f.message == sig.message && f.stack_head == sig.stack_head)
                {
                    " **new**"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "- {} users{new}: `{}` {}",
                    sig.users,
                    cell(&sig.message),
                    cell(&sig.stack_head)
                );
            }
            out.push('\n');
        }
    }
    if !s.feedback.is_empty() {
        let _ = writeln!(out, "**Feedback** {}\n", feedback_line(s));
    }
    for note in &s.notes {
        let _ = writeln!(out, "- {}", cell(note));
    }
    out
}

/// A sparkline of the values (`None` days as spaces).
pub fn sparkline(values: &[Option<u64>]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().flatten().copied().max().unwrap_or(0);
    let min = values.iter().flatten().copied().min().unwrap_or(0);
    values
        .iter()
        .map(|v| match v {
            None => ' ',
            Some(_) if max == min => BARS[3],
            Some(x) => {
                let i = u128::from(x - min) * 7 / u128::from(max - min);
                BARS[usize::try_from(i).unwrap_or(7).min(7)]
            }
        })
        .collect()
}

/// The terminal rendering: totals against the window before with sparklines, then pages,
/// sources, start-up, errors and feedback in short lines.
pub fn terminal(s: &Stats) -> String {
    let mut out = String::new();
    let (n, now) = totals(&s.days);
    let (m, before) = totals(&s.before);
    let series = |days: &[Day], f: fn(&Visits) -> u64| -> Vec<Option<u64>> {
        days.iter().map(|d| d.visits.as_ref().map(f)).collect()
    };
    let _ = writeln!(
        out,
        "{} · {} – {}",
        s.appid,
        s.days.first().map(|d| short(&d.date)).unwrap_or_default(),
        s.days.last().map(|d| short(&d.date)).unwrap_or_default()
    );
    #[allow(clippy::cast_precision_loss)]
    for (name, f, a, b) in [
        (
            "visitors",
            (|v: &Visits| v.visit_uv) as fn(&Visits) -> u64,
            now.visit_uv,
            before.visit_uv,
        ),
        (
            "visits",
            |v: &Visits| v.visit_pv,
            now.visit_pv,
            before.visit_pv,
        ),
        (
            "new",
            |v: &Visits| v.visit_uv_new,
            now.visit_uv_new,
            before.visit_uv_new,
        ),
        (
            "sessions",
            |v: &Visits| v.session_cnt,
            now.session_cnt,
            before.session_cnt,
        ),
    ] {
        let _ = writeln!(
            out,
            "  {name:<9} {:>10}  {}  {:>8} a day vs the days before",
            a,
            sparkline(&series(&s.days, f)),
            change(per_day(a, n), per_day(b, m))
        );
    }
    for d in s.days.iter().filter(|d| d.visits.is_none()) {
        let _ = writeln!(out, "  {}: not ready yet (T+1)", short(&d.date));
    }
    for r in &s.releases {
        let _ = writeln!(out, "  {}: {} released", short(&r.date), r.version);
    }
    if !s.pages.is_empty() {
        let top = dotted(&s.pages, 5, |p| format!("{} {}", p.path, p.pv));
        let _ = writeln!(out, "  pages     {top}");
    }
    if !s.sources.is_empty() {
        let top = dotted(&s.sources, 5, |x| format!("{} {}", x.name, x.sessions));
        let _ = writeln!(out, "  sources   {top}");
    }
    for m in &s.startup {
        let vals: Vec<Option<u64>> = m
            .points
            .iter()
            .map(|p| {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let v = p.1.max(0.0).round() as u64;
                Some(v)
            })
            .collect();
        let last = vals.last().copied().flatten().unwrap_or(0);
        let _ = writeln!(out, "  {}  {} {last} ms", m.name, sparkline(&vals));
    }
    for e in &s.errors {
        let _ = writeln!(
            out,
            "  errors of {}: {} users, {} events, {} signatures",
            version_label(&e.version),
            e.errors.users(),
            e.errors.events(),
            e.errors.signatures.len()
        );
    }
    for f in new_signatures(&s.errors).iter().take(3) {
        let _ = writeln!(
            out,
            "    new: {} ({} users) {}",
            f.message, f.users, f.stack_head
        );
    }
    if !s.feedback.is_empty() {
        let _ = writeln!(out, "  feedback  {}", feedback_line(s));
    }
    for note in &s.notes {
        let _ = writeln!(out, "  note: {note}");
    }
    out
}

/// The first operations figures of a release, for the summary and the check run of the run that
/// published it: the days since the release that have figures, the new version's JS errors so
/// far, and when the next daily figures arrive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AfterRelease {
    /// The version released.
    pub version: String,
    /// When it went live (WeChat's `release_time`, or this run's clock).
    pub released_at: u64,
    /// The days since the release (the release day first), up to yesterday.
    pub days: Vec<Day>,
    /// The new version's error users and events so far, when they could be read.
    pub errors: Option<VersionErrors>,
    /// When the next daily figures arrive (`yyyymmdd` of the day they describe).
    pub next_day: Option<String>,
}

/// The summary section of [`AfterRelease`].
pub fn after_release_markdown(a: &AfterRelease) -> String {
    let mut out = format!(
        "**After the release** of {}

",
        a.version
    );
    let have: Vec<&Day> = a.days.iter().filter(|d| d.visits.is_some()).collect();
    if have.is_empty() {
        let _ = writeln!(out, "- No daily figures yet: WeChat publishes a day's operations data the next morning (T+1).");
    } else {
        for d in &have {
            if let Some(v) = &d.visits {
                let _ = writeln!(
                    out,
                    "- {}: {} visitors, {} visits, {} new visitors",
                    short(&d.date),
                    v.visit_uv,
                    v.visit_pv,
                    v.visit_uv_new
                );
            }
        }
    }
    if let Some(e) = &a.errors {
        let mut top: Vec<&Signature> = e.signatures.values().collect();
        top.sort_by_key(|x| std::cmp::Reverse(x.users));
        let _ = write!(
            out,
            "- JS errors of {} so far: {} users, {} events",
            a.version,
            e.users(),
            e.events()
        );
        if let Some(t) = top.first() {
            let _ = write!(
                out,
                "; the most common: `{}` ({} users)",
                cell(&t.message),
                t.users
            );
        }
        out.push('\n');
    }
    if let Some(next) = &a.next_day {
        let _ = writeln!(
            out,
            "- The figures of {} arrive the morning after (Beijing time); `mp-release stats` shows them with the days before.",
            short(next)
        );
    }
    out
}

#[cfg(test)]
mod tests;
