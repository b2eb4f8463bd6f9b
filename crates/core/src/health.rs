//! The health gate of a phased rollout (issue 17): after a step's watch window, is the new
//! version healthy enough to raise, too early to tell, or bad enough to revert?
//!
//! What WeChat gives (wechat-ops-api.md B): JS errors aggregated per version (`jserr_list`,
//! `appVersion`, error users `uv` and events `pv` per error signature) and user feedback by type
//! (`feedback/list`). What it does not give: visits or users per version. So the gate compares
//! error users *normalised by each version's share of users*: with a phased release at `p`, the new
//! version reaches about `p` of the users and the previous one `1 − p`, so
//!
//! ```text
//! rate_new = error_users_new / p + 1        rate_old = error_users_old / (1 − p) + 1
//! ratio    = rate_new / rate_old
//! ```
//!
//! Each rate is "the error users this version would have if every user had it". The `+ 1` is a
//! prior of one error user per full share for *both* versions (a pseudo-count proportional to the
//! share): it keeps a version without errors from dividing by zero, keeps one or two error users
//! from looking like an epidemic, and — unlike adding one raw error user to each side — does not
//! make a small share look worse by itself (no errors anywhere gives exactly 1, at any share). The
//! estimate is sound when users are assigned to versions at random (WeChat's phased release picks
//! users, not sessions) and both versions are used alike; it cannot see a version whose users are
//! fewer than its share (a cold cache), errors the app does not report, or crashes that never
//! reach the JS layer — crash feedback covers some of those. Below a minimum sample the gate holds
//! rather than judges, a bounded number of times (the last look judges whatever it has). A new
//! version with no error at all where the previous version's rate predicts many is not judged
//! healthy: the error list most likely does not know it by its version string (`Blind`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One error signature of a version (`errorMsgMd5` + `errorStackMd5` of `jserr_list`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// `errorMsg`.
    pub message: String,
    /// The first line of `errorStack`.
    pub stack_head: String,
    /// Error users (`uv`).
    pub users: u64,
    /// Events (`pv`).
    pub events: u64,
}

/// A version's business-code errors (`errType` 1) since the step began, by signature key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionErrors {
    /// By `errorMsgMd5:errorStackMd5`.
    pub signatures: BTreeMap<String, Signature>,
}

impl VersionErrors {
    /// Error users over every signature (an upper bound: a user with two errors counts twice).
    pub fn users(&self) -> u64 {
        self.signatures
            .values()
            .fold(0, |a, s| a.saturating_add(s.users))
    }

    /// Events over every signature.
    pub fn events(&self) -> u64 {
        self.signatures
            .values()
            .fold(0, |a, s| a.saturating_add(s.events))
    }
}

/// What the gate looks at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// The new version's errors.
    pub new: VersionErrors,
    /// The previous live version's errors over the same days.
    pub old: VersionErrors,
    /// The new version's share of users (the gray percentage / 100).
    pub share: f64,
    /// Crash-type feedback (闪退, 卡顿, 白屏 …) since the step began.
    pub crash_feedback: u64,
    /// Users with error logs in the real-time log, per version (when the app logs a version
    /// marker the rollout names).
    #[serde(default)]
    pub logs: Option<LogSample>,
}

/// Users whose real-time log (`userlog_search`, errors filtered by the version marker the app
/// logs) holds an error, per version, over the same hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogSample {
    /// Users of the new version with error logs.
    pub new_users: u64,
    /// Users of the previous version with error logs.
    pub old_users: u64,
    /// The new version's share of users over those hours.
    pub share: f64,
}

/// The thresholds (inputs `max-error-ratio`, `max-new-errors`, `min-error-users`,
/// `max-crash-feedback`, and the minimum sample).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Revert when the normalised error-user ratio is above this (default 2.0).
    pub max_error_ratio: f64,
    /// Revert when more new signatures than this reach `min_error_users` (default 0).
    pub max_new_errors: usize,
    /// A new signature counts when it has at least this many error users (default 3).
    pub min_error_users: u64,
    /// Revert when crash feedback is above this (default 5).
    pub max_crash_feedback: u64,
    /// Judge the ratio only when the new version has at least this many error users, or would
    /// have at the previous version's rate for its share (default 10); below it the gate holds.
    /// (The previous version's own count says little: at 95 % of the users it is large anyway.)
    pub min_sample: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            max_error_ratio: 2.0,
            max_new_errors: 0,
            min_error_users: 3,
            max_crash_feedback: 5,
            min_sample: 10,
        }
    }
}

/// What the gate decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "verdict")]
pub enum Verdict {
    /// Healthy: go to the next step.
    Raise,
    /// Not enough data yet: look again later.
    Hold {
        /// Why.
        why: String,
    },
    /// Unhealthy: revert (or hold, as `on-unhealthy` says).
    Revert {
        /// Why, with the figures.
        why: String,
    },
    /// The figures cannot be about the new version: stop where it is (exit 3), neither raise
    /// nor revert.
    Blind {
        /// What was seen.
        why: String,
    },
}

/// Error users the previous version's rate must predict for the new version before "none at
/// all" means the error list does not know the new version (rather than that it is flawless):
/// at 20 expected, seeing 0 by chance has a probability of about 2 × 10⁻⁹ (Poisson).
const BLIND_EXPECTED: f64 = 20.0;

/// The verdict and the evidence it rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    /// The verdict.
    pub verdict: Verdict,
    /// The normalised ratio, when it could be computed.
    pub ratio: Option<f64>,
    /// New signatures with enough users, the worst first.
    pub new_signatures: Vec<Signature>,
    /// The same ratio over the real-time log's error users, when they were read.
    #[serde(default)]
    pub log_ratio: Option<f64>,
}

/// The normalised error-user ratio (new against old, each by its share), `None` when one version
/// has no share (0 % or 100 %).
pub fn ratio(s: &Sample) -> Option<f64> {
    pair_ratio(s.new.users(), s.old.users(), s.share)
}

/// The normalised ratio of two counts at a share (see the module's text).
#[allow(clippy::cast_precision_loss)]
fn pair_ratio(new: u64, old: u64, share: f64) -> Option<f64> {
    if !(share > 0.0 && share < 1.0) {
        return None;
    }
    Some((new as f64 / share + 1.0) / (old as f64 / (1.0 - share) + 1.0))
}

/// The count the new version would have at the previous version's rate, for its share.
#[allow(clippy::cast_precision_loss)]
fn pair_expected(old: u64, share: f64) -> f64 {
    if !(share > 0.0 && share < 1.0) {
        return 0.0;
    }
    old as f64 * share / (1.0 - share)
}

/// The error users the new version would have at the previous version's rate, for its share.
pub fn expected(s: &Sample) -> f64 {
    pair_expected(s.old.users(), s.share)
}

#[allow(clippy::cast_precision_loss)]
fn pair_small(new: u64, old: u64, share: f64, t: &Thresholds) -> bool {
    pair_expected(old, share).max(new as f64) < t.min_sample as f64
}

fn small(s: &Sample, t: &Thresholds) -> bool {
    pair_small(s.new.users(), s.old.users(), s.share, t)
}

/// Judges a step: crash feedback over the limit, or too many new error signatures, revert at once
/// (they need no baseline); then, with enough error users, the normalised ratio decides; below the
/// minimum sample the gate holds, unless this is the `last` look the rollout allows a step (then
/// the smoothed ratio decides on what there is).
pub fn judge(s: &Sample, t: &Thresholds, last: bool) -> Judgement {
    let mut fresh: Vec<Signature> = s
        .new
        .signatures
        .iter()
        .filter(|(k, sig)| !s.old.signatures.contains_key(*k) && sig.users >= t.min_error_users)
        .map(|(_, sig)| sig.clone())
        .collect();
    fresh.sort_by(|a, b| b.users.cmp(&a.users).then_with(|| b.events.cmp(&a.events)));
    let r = ratio(s);
    let verdict = if s.crash_feedback > t.max_crash_feedback {
        Verdict::Revert {
            why: format!(
                "{} crash reports from users (闪退/卡顿/白屏) since this step began, over max-crash-feedback {}",
                s.crash_feedback, t.max_crash_feedback
            ),
        }
    } else if fresh.len() > t.max_new_errors {
        let worst = &fresh[0];
        Verdict::Revert {
            why: format!(
                "{} new error signatures with at least {} users each (max-new-errors {}); the worst: {} ({} users)",
                fresh.len(),
                t.min_error_users,
                t.max_new_errors,
                worst.message,
                worst.users
            ),
        }
    } else if s.new.signatures.is_empty()
        && expected(s) >= BLIND_EXPECTED.max(2.0 * t.min_sample as f64)
    {
        Verdict::Blind {
            why: format!(
                "jserr_list shows no error at all for the new version, where the previous version's rate predicts about {:.0}: \
                 it most likely does not know the new version by this version string (appVersion), so its health cannot be judged",
                expected(s)
            ),
        }
    } else if r.is_some() && small(s, t) && !last {
        Verdict::Hold {
            why: format!(
                "the new version has {} error users and would have about {:.1} at the previous version's rate: \
                 below the sample of {} the ratio needs",
                s.new.users(),
                expected(s),
                t.min_sample
            ),
        }
    } else {
        match r {
            Some(x) if x > t.max_error_ratio => Verdict::Revert {
                why: format!(
                    "the new version's error users are {x:.2}× the previous version's for its share of users ({:.0} %), over max-error-ratio {}",
                    s.share * 100.0,
                    t.max_error_ratio
                ),
            },
            Some(_) => Verdict::Raise,
            // 0 % (members first) or 100 %: no baseline to compare with; the absolute checks
            // above passed.
            None => Verdict::Raise,
        }
    };
    // The real-time log can only make the verdict stricter: with a sample of its own, a ratio
    // over the limit reverts; it never holds or raises a step by itself.
    let log_ratio = s
        .logs
        .as_ref()
        .and_then(|l| pair_ratio(l.new_users, l.old_users, l.share));
    let verdict = match (verdict, &s.logs, log_ratio) {
        (v @ Verdict::Revert { .. }, _, _) => v,
        (_, Some(l), Some(x))
            if x > t.max_error_ratio && (last || !pair_small(l.new_users, l.old_users, l.share, t)) =>
        {
            Verdict::Revert {
                why: format!(
                    "the new version's users with error logs in the real-time log are {x:.2}× the previous version's for its share of users ({} against {}), over max-error-ratio {}",
                    l.new_users, l.old_users, t.max_error_ratio
                ),
            }
        }
        (v, _, _) => v,
    };
    Judgement {
        verdict,
        ratio: r,
        new_signatures: fresh,
        log_ratio,
    }
}

/// Seconds in a day.
const DAY: u64 = 86_400;
/// Beijing time is UTC+8 all year; WeChat's dates (`jserr_list`, datacube) are Beijing dates.
const BEIJING: u64 = 8 * 3600;

/// The Unix time at which the Beijing day holding `t` began.
pub fn beijing_day_start(t: u64) -> u64 {
    ((t + BEIJING) / DAY * DAY).saturating_sub(BEIJING)
}

/// `YYYY-MM-DD` of the Beijing day holding `t` (the date format of `jserr_list`).
pub fn beijing_date(t: u64) -> String {
    let (y, m, d) = civil((t + BEIJING) / DAY);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The calendar date (year, month, day) of a day counted from 1970-01-01 (Howard Hinnant's
/// civil-from-days algorithm).
pub fn civil(days: u64) -> (i64, i64, i64) {
    let z = i64::try_from(days).unwrap_or(0) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The new version's share of users over `[from, to)`, time-weighted: `changes` are the moments
/// the phased release reached a percentage (in time order; before the first the share is 0).
/// `jserr_list` counts whole days, so the gate normalises a day's error users by the share the
/// new version had on average over those hours, not by the share it has now.
pub fn share_over(changes: &[(u64, u32)], from: u64, to: u64) -> f64 {
    if to <= from {
        return changes.last().map_or(0.0, |c| f64::from(c.1) / 100.0);
    }
    let mut weighted = 0.0;
    for (i, &(at, pct)) in changes.iter().enumerate() {
        let end = changes.get(i + 1).map_or(to, |n| n.0).min(to);
        let start = at.max(from);
        if end > start {
            #[allow(clippy::cast_precision_loss)]
            let span = (end - start) as f64;
            weighted += span * f64::from(pct) / 100.0;
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let whole = (to - from) as f64;
    weighted / whole
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(sigs: &[(&str, u64)]) -> VersionErrors {
        VersionErrors {
            signatures: sigs
                .iter()
                .map(|(k, users)| {
                    (
                        (*k).to_owned(),
                        Signature {
                            message: format!("TypeError in {k}"),
                            stack_head: format!("at {k} (app-service.js:1:1)"),
                            users: *users,
                            events: users * 2,
                        },
                    )
                })
                .collect(),
        }
    }

    fn sample(new: &[(&str, u64)], old: &[(&str, u64)], share: f64, crash: u64) -> Sample {
        Sample {
            new: errors(new),
            old: errors(old),
            share,
            crash_feedback: crash,
            logs: None,
        }
    }

    #[derive(Debug, PartialEq)]
    enum V {
        Raise,
        Hold,
        Revert,
        Blind,
    }

    fn v(j: &Judgement) -> V {
        match j.verdict {
            Verdict::Raise => V::Raise,
            Verdict::Hold { .. } => V::Hold,
            Verdict::Revert { .. } => V::Revert,
            Verdict::Blind { .. } => V::Blind,
        }
    }

    #[test]
    fn the_gate_table() {
        let t = Thresholds::default();
        let cases: Vec<(&str, Sample, V)> = vec![
            // 5 % share, errors in proportion: healthy
            (
                "proportional at 5 %",
                sample(&[("a", 20)], &[("a", 380)], 0.05, 0),
                V::Raise,
            ),
            // 5 % share with as many error users as the 95 %: ~19× per share
            (
                "spike at 5 %",
                sample(&[("a", 40)], &[("a", 40)], 0.05, 0),
                V::Revert,
            ),
            // 4× the old rate at 20 %
            (
                "4x at 20 %",
                sample(&[("a", 40)], &[("a", 40)], 0.2, 0),
                V::Revert,
            ),
            // slightly worse, under 2×: raise
            (
                "1.5x at 50 %",
                sample(&[("a", 30)], &[("a", 20)], 0.5, 0),
                V::Raise,
            ),
            // too few error users to judge a ratio: hold
            (
                "small sample",
                sample(&[("a", 3)], &[("a", 4)], 0.05, 0),
                V::Hold,
            ),
            // the old version's count alone is no sample: at 1 % it would expect 2 error users
            (
                "big old, tiny share",
                sample(&[("a", 2)], &[("a", 198)], 0.01, 0),
                V::Hold,
            ),
            // the new version's own count is: 30 error users at 1 % against 198 at 99 %
            (
                "tiny share, many new",
                sample(&[("a", 30)], &[("a", 198)], 0.01, 0),
                V::Revert,
            ),
            ("nothing yet", sample(&[], &[], 0.01, 0), V::Hold),
            // a new signature with enough users reverts even on a small sample
            (
                "new signature",
                sample(&[("a", 1), ("b", 3)], &[("a", 5)], 0.05, 0),
                V::Revert,
            ),
            // a new signature below min-error-users does not count
            (
                "new but rare",
                sample(&[("a", 1), ("b", 2)], &[("a", 5)], 0.05, 0),
                V::Hold,
            ),
            // crash feedback over the limit reverts at once
            ("crashes", sample(&[], &[], 0.05, 6), V::Revert),
            ("crashes at the limit", sample(&[], &[], 0.05, 5), V::Hold),
            // 100 %: no baseline, the absolute checks passed
            (
                "full share",
                sample(&[("a", 50)], &[("a", 10)], 1.0, 0),
                V::Raise,
            ),
            // members first (0 %): no baseline either
            (
                "members first",
                sample(&[("a", 30)], &[("a", 30)], 0.0, 0),
                V::Raise,
            ),
            // no error at all where 20 are expected: the list does not know the version
            ("blind", sample(&[], &[("a", 380)], 0.05, 0), V::Blind),
            // none where 5 are expected is chance enough: a hold, not blindness
            ("quiet", sample(&[], &[("a", 95)], 0.05, 0), V::Hold),
        ];
        for (what, s, want) in cases {
            let j = judge(&s, &t, false);
            assert_eq!(v(&j), want, "{what}: {j:?}");
        }
    }

    #[test]
    fn the_ratio_is_normalised_by_share_and_smoothed() {
        // equal error users at 50 %: about 1
        let even = sample(&[("a", 99)], &[("a", 99)], 0.5, 0);
        assert!((ratio(&even).unwrap() - 1.0).abs() < 1e-9);
        // no errors at all: exactly 1 at any share (the prior is per share), not NaN
        for share in [0.01, 0.2, 0.9] {
            let none = sample(&[], &[], share, 0);
            assert!((ratio(&none).unwrap() - 1.0).abs() < 1e-9, "{share}");
        }
        // a new version without errors at 1 % is not made to look worse than the old one
        assert!(ratio(&sample(&[], &[("a", 2)], 0.01, 0)).unwrap() < 1.0);
        // 10 error users at 5 % against none at 95 %: two hundred times the rate
        assert!(ratio(&sample(&[("a", 10)], &[], 0.05, 0)).unwrap() > 100.0);
        assert_eq!(ratio(&sample(&[], &[], 0.0, 0)), None);
        assert_eq!(ratio(&sample(&[], &[], 1.0, 0)), None);
    }

    #[test]
    fn the_share_is_weighted_over_the_window() {
        // 1 % for the first half, 5 % for the second
        let changes = [(1000, 1), (2000, 5)];
        assert!((share_over(&changes, 1000, 3000) - 0.03).abs() < 1e-9);
        // before the first step the share is 0
        assert!((share_over(&changes, 0, 2000) - 0.005).abs() < 1e-9);
        // an empty window: the share now
        assert!((share_over(&changes, 5000, 5000) - 0.05).abs() < 1e-9);
        assert!(share_over(&[], 0, 10).abs() < 1e-12);
    }

    #[test]
    fn the_real_time_log_only_makes_the_gate_stricter() {
        let t = Thresholds::default();
        let logs = |new, old, share| LogSample {
            new_users: new,
            old_users: old,
            share,
        };
        let healthy = sample(&[("a", 20)], &[("a", 380)], 0.05, 0);
        // error logs at 4× the old rate, with a sample: revert although jserr_list looks fine
        let mut s = healthy;
        s.logs = Some(logs(40, 190, 0.05));
        let j = judge(&s, &t, false);
        assert_eq!(v(&j), V::Revert, "{j:?}");
        assert!(j.log_ratio.unwrap() > 3.0);
        assert!(matches!(&j.verdict, Verdict::Revert { why } if why.contains("real-time log")));
        // in proportion: raise
        s.logs = Some(logs(10, 190, 0.05));
        assert_eq!(v(&judge(&s, &t, false)), V::Raise);
        // a small log sample neither reverts nor holds a healthy step
        s.logs = Some(logs(2, 3, 0.05));
        assert_eq!(v(&judge(&s, &t, false)), V::Raise);
        // …but the last look judges it
        s.logs = Some(logs(9, 3, 0.05));
        assert_eq!(v(&judge(&s, &t, true)), V::Revert);
        // it never turns a hold into a raise
        let mut held = sample(&[("a", 1)], &[("a", 3)], 0.05, 0);
        held.logs = Some(logs(1, 190, 0.05));
        assert_eq!(v(&judge(&held, &t, false)), V::Hold);
    }

    #[test]
    fn beijing_days() {
        // 2026-12-01 00:00 Beijing = 2026-11-30 16:00 UTC
        let t = 1_796_054_400; // 2026-11-30T16:00:00Z
        assert_eq!(beijing_date(t), "2026-12-01");
        assert_eq!(beijing_date(t - 1), "2026-11-30");
        assert_eq!(beijing_day_start(t + 3600), t);
        assert_eq!(beijing_day_start(t - 1), t - 86_400);
    }

    #[test]
    fn evidence_names_the_worst_new_error() {
        let s = sample(&[("a", 1), ("b", 3), ("c", 9)], &[("a", 5)], 0.05, 0);
        let j = judge(&s, &Thresholds::default(), false);
        assert_eq!(j.new_signatures.len(), 2);
        assert_eq!(j.new_signatures[0].message, "TypeError in c", "worst first");
        match j.verdict {
            Verdict::Revert { why } => assert!(
                why.contains("TypeError in c") && why.contains("9 users"),
                "{why}"
            ),
            other => panic!("{other:?}"),
        }
        // a looser threshold lets one new signature through
        let loose = Thresholds {
            max_new_errors: 2,
            min_sample: 20,
            ..Thresholds::default()
        };
        assert_eq!(v(&judge(&s, &loose, false)), V::Hold, "small sample then");
        // the last look a step allows judges the small sample: 3 + 9 new users at 5 % against 5
        assert_eq!(v(&judge(&s, &loose, true)), V::Revert);
    }
}
