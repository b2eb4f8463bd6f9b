//! Retry rules: how a failed WeChat call is classified and what the runner does next.
//!
//! WeChat reports most failures inside HTTP 200 bodies, so the class comes from the error-code table
//! ([`crate::wechat::errcode`]); transport failures and HTTP statuses are classified here too. The
//! one rule that protects users: a call that creates state (commit, submit, release, phased release,
//! withdraw) is retried only when the failure proves the request was not processed; otherwise the
//! runner reads the state back before deciding (see [`Decision::ReadBack`]).

use crate::wechat::errcode::{class_of, RetryClass};
use serde::{Deserialize, Serialize};

/// What went wrong with one call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Failure {
    /// WeChat answered with this `errcode`.
    Api(i64),
    /// No connection could be made (nothing was sent).
    Connect,
    /// The call timed out (the request may have been processed).
    Timeout,
    /// The connection closed before a full answer (the request may have been processed).
    Cut,
    /// An HTTP status other than 200.
    Http(u16),
    /// A 200 answer that is not the JSON we expect (truncated, HTML, wrong type, an `errcode`
    /// that is not an integer, a body over the size cap).
    Malformed,
    /// A redirect (3xx): never followed, since it would send the request (with its token and
    /// secrets) to whatever host the answer names.
    Redirect(u16),
    /// A well-formed answer mp-release cannot act on (an unknown review status).
    Unexpected,
}

impl Failure {
    /// The retry class of this failure.
    pub fn class(&self) -> RetryClass {
        match self {
            Self::Api(code) => class_of(*code),
            Self::Http(429) => RetryClass::NextWindow,
            Self::Http(s) if *s >= 500 => RetryClass::Backoff,
            Self::Http(_) | Self::Redirect(_) | Self::Unexpected => RetryClass::Fatal,
            Self::Connect | Self::Timeout | Self::Cut | Self::Malformed => RetryClass::Backoff,
        }
    }

    /// Whether giving up on it is an infrastructure failure (exit 3) rather than WeChat's refusal:
    /// the network, rate windows, redirects and answers that make no sense.
    pub fn is_infrastructure(&self) -> bool {
        matches!(self, Self::Redirect(_) | Self::Unexpected)
            || matches!(self.class(), RetryClass::Backoff | RetryClass::NextWindow)
    }

    /// Whether the failure proves the request had no effect (so even a mutation may be resent).
    pub fn proves_not_processed(&self) -> bool {
        match self {
            Self::Connect => true,
            // The token or the rate window was refused before anything happened.
            Self::Api(code) => matches!(
                class_of(*code),
                RetryClass::RefreshToken | RetryClass::NextWindow
            ),
            Self::Http(429) => true,
            _ => false,
        }
    }
}

/// Backoff and budgets. Defaults follow the reference: 1 s, 2 s, 4 s … capped, at most 5 tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// First backoff, milliseconds.
    pub base_ms: u64,
    /// Largest backoff, milliseconds.
    pub cap_ms: u64,
    /// Tries per call, the first included.
    pub max_attempts: u32,
    /// Retries per run, over all calls.
    pub run_budget: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            base_ms: 1_000,
            cap_ms: 30_000,
            max_attempts: 5,
            run_budget: 60,
        }
    }
}

/// What to do after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Try again after this many milliseconds.
    RetryAfter(u64),
    /// Fetch a new token, then try again (once per call).
    RefreshToken,
    /// A mutation whose effect is unknown: read the state back before anything else.
    ReadBack,
    /// Give up: report the failure.
    Fail,
}

/// Decides the next step after `failure` on try number `attempt` (1-based) of one call.
///
/// `jitter` is a number in [0, 1) supplied by the caller (random in production, fixed in tests);
/// the wait is "equal jitter": half the exponential delay, plus up to the other half at random.
/// `seconds_to_next_minute` serves the per-minute limit (45011). `run_retries` counts the run's
/// retries so far and is increased when a retry is granted.
#[allow(clippy::too_many_arguments)]
pub fn decide(
    policy: &Policy,
    failure: &Failure,
    mutation: bool,
    attempt: u32,
    refreshed: bool,
    run_retries: &mut u32,
    jitter: f64,
    seconds_to_next_minute: u64,
) -> Decision {
    let class = failure.class();
    if mutation
        && !failure.proves_not_processed()
        && class != RetryClass::Fatal
        && class != RetryClass::Pending
    {
        return Decision::ReadBack;
    }
    if attempt >= policy.max_attempts || *run_retries >= policy.run_budget {
        return Decision::Fail;
    }
    let decision = match class {
        RetryClass::Fatal | RetryClass::Pending => return Decision::Fail,
        RetryClass::RefreshToken if refreshed => return Decision::Fail,
        RetryClass::RefreshToken => Decision::RefreshToken,
        RetryClass::NextWindow => Decision::RetryAfter(seconds_to_next_minute.max(1) * 1000),
        RetryClass::Backoff => Decision::RetryAfter(backoff_ms(policy, attempt, jitter)),
    };
    *run_retries += 1;
    decision
}

/// The backoff before try `attempt + 1`: base · 2^(attempt-1), capped, with equal jitter.
pub fn backoff_ms(policy: &Policy, attempt: u32, jitter: f64) -> u64 {
    let exp = policy
        .base_ms
        .saturating_mul(1u64 << attempt.saturating_sub(1).min(20));
    let full = exp.min(policy.cap_ms);
    let half = full / 2;
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let extra = (half as f64 * jitter.clamp(0.0, 1.0)) as u64;
    half + extra
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wechat::errcode::TABLE;

    fn one(failure: &Failure, mutation: bool, attempt: u32, refreshed: bool) -> Decision {
        let mut used = 0;
        decide(
            &Policy::default(),
            failure,
            mutation,
            attempt,
            refreshed,
            &mut used,
            0.5,
            42,
        )
    }

    #[test]
    fn every_code_in_the_table_gets_the_decision_of_its_class() {
        for e in TABLE {
            let f = Failure::Api(e.code);
            let read = one(&f, false, 1, false);
            let write = one(&f, true, 1, false);
            match e.class {
                RetryClass::Backoff => {
                    assert!(matches!(read, Decision::RetryAfter(_)), "{}", e.code);
                    assert_eq!(
                        write,
                        Decision::ReadBack,
                        "{}: a mutation is read back",
                        e.code
                    );
                }
                RetryClass::RefreshToken => {
                    assert_eq!(
                        (read, write),
                        (Decision::RefreshToken, Decision::RefreshToken),
                        "{}",
                        e.code
                    );
                    assert_eq!(
                        one(&f, false, 1, true),
                        Decision::Fail,
                        "{}: refresh once only",
                        e.code
                    );
                }
                RetryClass::NextWindow => {
                    assert_eq!(
                        (read, write),
                        (Decision::RetryAfter(42_000), Decision::RetryAfter(42_000)),
                        "{}",
                        e.code
                    );
                }
                RetryClass::Pending | RetryClass::Fatal => {
                    assert_eq!(
                        (read, write),
                        (Decision::Fail, Decision::Fail),
                        "{}",
                        e.code
                    );
                }
            }
        }
    }

    #[test]
    fn transport_failures() {
        for f in [
            Failure::Timeout,
            Failure::Cut,
            Failure::Malformed,
            Failure::Http(502),
        ] {
            assert!(
                matches!(one(&f, false, 1, false), Decision::RetryAfter(_)),
                "{f:?}"
            );
            assert_eq!(one(&f, true, 1, false), Decision::ReadBack, "{f:?}");
        }
        assert!(
            matches!(
                one(&Failure::Connect, true, 1, false),
                Decision::RetryAfter(_)
            ),
            "nothing was sent"
        );
        assert_eq!(one(&Failure::Http(404), false, 1, false), Decision::Fail);
        assert_eq!(
            one(&Failure::Http(429), true, 1, false),
            Decision::RetryAfter(42_000)
        );
        assert_eq!(
            one(&Failure::Api(12345), false, 1, false),
            Decision::Fail,
            "unknown codes are fatal"
        );
    }

    #[test]
    fn budgets_per_call_and_per_run() {
        let p = Policy {
            max_attempts: 3,
            run_budget: 2,
            ..Policy::default()
        };
        let mut used = 0;
        let f = Failure::Api(-1);
        assert!(matches!(
            decide(&p, &f, false, 1, false, &mut used, 0.0, 1),
            Decision::RetryAfter(_)
        ));
        assert_eq!(
            decide(&p, &f, false, 3, false, &mut used, 0.0, 1),
            Decision::Fail,
            "per call"
        );
        assert!(matches!(
            decide(&p, &f, false, 2, false, &mut used, 0.0, 1),
            Decision::RetryAfter(_)
        ));
        assert_eq!(
            decide(&p, &f, false, 1, false, &mut used, 0.0, 1),
            Decision::Fail,
            "per run"
        );
        assert_eq!(used, 2);
    }

    #[test]
    fn backoff_doubles_caps_and_jitters() {
        let p = Policy::default();
        assert_eq!(
            [1, 2, 3, 4].map(|a| backoff_ms(&p, a, 0.0)),
            [500, 1_000, 2_000, 4_000]
        );
        assert_eq!(backoff_ms(&p, 1, 0.999_999), 999);
        assert_eq!(backoff_ms(&p, 30, 1.0), 30_000);
    }
}
