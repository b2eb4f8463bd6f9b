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
//! rate_new = (error_users_new + 1) / p        rate_old = (error_users_old + 1) / (1 − p)
//! ratio    = rate_new / rate_old
//! ```
//!
//! The `+ 1` (additive smoothing) keeps a version without errors from dividing by zero and keeps one
//! or two error users from looking like an epidemic. The estimate is sound when users are assigned
//! to versions at random (WeChat's phased release picks users, not sessions) and both versions are
//! used alike; it cannot see a version whose users are fewer than its share (a cold cache), errors
//! the app does not report, or crashes that never reach the JS layer — crash feedback covers some
//! of those. Below a minimum sample the gate holds rather than judges.

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
        self.signatures.values().map(|s| s.users).sum()
    }

    /// Events over every signature.
    pub fn events(&self) -> u64 {
        self.signatures.values().map(|s| s.events).sum()
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
    /// Judge the ratio only when both versions together have at least this many error users
    /// (default 20); below it the gate holds.
    pub min_sample: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            max_error_ratio: 2.0,
            max_new_errors: 0,
            min_error_users: 3,
            max_crash_feedback: 5,
            min_sample: 20,
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
}

/// The verdict and the evidence it rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    /// The verdict.
    pub verdict: Verdict,
    /// The normalised ratio, when it could be computed.
    pub ratio: Option<f64>,
    /// New signatures with enough users, the worst first.
    pub new_signatures: Vec<Signature>,
}

/// The normalised error-user ratio (new against old, each by its share), `None` when one version
/// has no share (0 % or 100 %).
pub fn ratio(s: &Sample) -> Option<f64> {
    if !(s.share > 0.0 && s.share < 1.0) {
        return None;
    }
    #[allow(clippy::cast_precision_loss)]
    let (new, old) = (s.new.users() as f64 + 1.0, s.old.users() as f64 + 1.0);
    Some((new / s.share) / (old / (1.0 - s.share)))
}

/// Judges a step: crash feedback over the limit, or too many new error signatures, revert at once
/// (they need no baseline); then, with enough error users, the normalised ratio decides; below the
/// minimum sample the gate holds.
pub fn judge(s: &Sample, t: &Thresholds) -> Judgement {
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
    } else if s.new.users() + s.old.users() < t.min_sample {
        Verdict::Hold {
            why: format!(
                "{} error users so far across both versions, below the sample of {} the ratio needs",
                s.new.users() + s.old.users(),
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
    Judgement {
        verdict,
        ratio: r,
        new_signatures: fresh,
    }
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
        }
    }

    #[derive(Debug, PartialEq)]
    enum V {
        Raise,
        Hold,
        Revert,
    }

    fn v(j: &Judgement) -> V {
        match j.verdict {
            Verdict::Raise => V::Raise,
            Verdict::Hold { .. } => V::Hold,
            Verdict::Revert { .. } => V::Revert,
        }
    }

    #[test]
    fn the_gate_table() {
        let t = Thresholds::default();
        let cases: Vec<(&str, Sample, V)> = vec![
            // 5 % share, errors in proportion: healthy
            (
                "proportional at 5 %",
                sample(&[("a", 2)], &[("a", 38)], 0.05, 0),
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
        ];
        for (what, s, want) in cases {
            let j = judge(&s, &t);
            assert_eq!(v(&j), want, "{what}: {j:?}");
        }
    }

    #[test]
    fn the_ratio_is_normalised_by_share_and_smoothed() {
        // equal error users at 50 %: about 1
        let even = sample(&[("a", 99)], &[("a", 99)], 0.5, 0);
        assert!((ratio(&even).unwrap() - 1.0).abs() < 1e-9);
        // no errors at all: 1 (smoothing), not NaN
        let none = sample(&[], &[], 0.2, 0);
        assert!(
            (ratio(&none).unwrap() - 4.0).abs() < 1e-9,
            "{:?}",
            ratio(&none)
        );
        assert_eq!(ratio(&sample(&[], &[], 0.0, 0)), None);
        assert_eq!(ratio(&sample(&[], &[], 1.0, 0)), None);
    }

    #[test]
    fn evidence_names_the_worst_new_error() {
        let s = sample(&[("a", 1), ("b", 3), ("c", 9)], &[("a", 5)], 0.05, 0);
        let j = judge(&s, &Thresholds::default());
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
            ..Thresholds::default()
        };
        assert_eq!(v(&judge(&s, &loose)), V::Hold, "small sample then");
    }
}
