//! A request-rate limiter keyed by calling account and endpoint: how long a call must wait before
//! it is sent so that every account stays under its per-endpoint rate and the process under its
//! global one. Pure: the caller passes the time and does the waiting; one limiter is shared by
//! every app a process releases (a fleet), so WeChat sees one well-behaved client.
//!
//! A rate-limit refusal (45011) slows the endpoint down for everyone: its interval doubles, up to
//! 64 times the configured one, and recovers by halves after a quiet minute.

use std::collections::HashMap;

/// One rule: at most `per_second` calls a second to `endpoint` (every endpoint when `None`) from
/// each account.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The endpoint path, or all.
    pub endpoint: Option<String>,
    /// Calls per second per account.
    pub per_second: f64,
}

/// The limiter.
#[derive(Debug, Clone, Default)]
pub struct Limiter {
    rules: Vec<Rule>,
    /// Calls a second over every account and endpoint (none when `None`).
    global_per_second: Option<f64>,
    /// When each (account, endpoint) may send next, ms.
    next: HashMap<(String, String), u64>,
    /// When anything may send next under the global rate, ms.
    next_global: u64,
    /// Slow-down factor per endpoint after 45011, and when it was last raised (ms).
    slow: HashMap<String, (u32, u64)>,
}

/// The longest slow-down factor.
const MAX_SLOW: u32 = 64;

impl Limiter {
    /// No limit at all.
    pub fn unlimited() -> Self {
        Self::default()
    }

    /// A limiter with per-account rules and an optional global rate.
    pub fn new(rules: Vec<Rule>, global_per_second: Option<f64>) -> Self {
        Self {
            rules,
            global_per_second,
            ..Self::default()
        }
    }

    fn interval_ms(per_second: f64) -> u64 {
        if per_second <= 0.0 || !per_second.is_finite() {
            return 0;
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let ms = (1000.0 / per_second).ceil().min(3_600_000.0) as u64;
        ms
    }

    fn factor(&mut self, endpoint: &str, now_ms: u64) -> u64 {
        let Some((f, since)) = self.slow.get_mut(endpoint) else {
            return 1;
        };
        // A quiet minute halves the slow-down.
        while *f > 1 && now_ms.saturating_sub(*since) >= 60_000 {
            *f /= 2;
            *since = since.saturating_add(60_000);
        }
        u64::from(*f)
    }

    /// Reserves a slot for a call from `account` to `endpoint` at `now_ms`; returns how many ms the
    /// caller must wait before sending it (0: at once).
    pub fn acquire(&mut self, account: &str, endpoint: &str, now_ms: u64) -> u64 {
        let factor = self.factor(endpoint, now_ms);
        let per = self
            .rules
            .iter()
            .filter(|r| r.endpoint.as_deref().is_none_or(|e| e == endpoint))
            .map(|r| Self::interval_ms(r.per_second))
            .max()
            .unwrap_or(0)
            .saturating_mul(factor);
        let key = (account.to_owned(), endpoint.to_owned());
        let at = self.next.get(&key).copied().unwrap_or(0).max(now_ms);
        let global = self.global_per_second.map_or(0, Self::interval_ms);
        let at = at.max(if global > 0 { self.next_global } else { 0 });
        if per > 0 {
            self.next.insert(key, at.saturating_add(per));
        }
        if global > 0 {
            self.next_global = at.saturating_add(global);
        }
        at - now_ms
    }

    /// WeChat said 45011 on `endpoint`: every account slows down on it.
    pub fn slow_down(&mut self, endpoint: &str, now_ms: u64) {
        let e = self.slow.entry(endpoint.to_owned()).or_insert((1, now_ms));
        e.0 = (e.0 * 2).min(MAX_SLOW);
        e.1 = now_ms;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlimited_never_waits() {
        let mut l = Limiter::unlimited();
        assert!((0..100).all(|_| l.acquire("wx1", "/wxa/commit", 5) == 0));
    }

    #[test]
    fn per_account_and_endpoint_and_global() {
        let mut l = Limiter::new(
            vec![Rule {
                endpoint: None,
                per_second: 2.0,
            }],
            None,
        );
        // 2/s per account and endpoint: the third call in the same instant waits a second
        assert_eq!(
            [0, 1, 2].map(|_| l.acquire("wx1", "/wxa/commit", 1000)),
            [0, 500, 1000]
        );
        // another account or endpoint has its own slots
        assert_eq!(l.acquire("wx2", "/wxa/commit", 1000), 0);
        assert_eq!(l.acquire("wx1", "/wxa/release", 1000), 0);
        // a global 20/s over everything: 50 ms apart whoever calls
        let mut g = Limiter::new(Vec::new(), Some(20.0));
        let waits: Vec<u64> = (0..4)
            .map(|i| g.acquire(&format!("wx{i}"), "/e", 0))
            .collect();
        assert_eq!(waits, [0, 50, 100, 150]);
    }

    #[test]
    fn a_rate_refusal_slows_the_endpoint_for_everyone_then_recovers() {
        let mut l = Limiter::new(
            vec![Rule {
                endpoint: Some("/wxa/get_auditstatus".into()),
                per_second: 10.0,
            }],
            None,
        );
        l.slow_down("/wxa/get_auditstatus", 0);
        l.slow_down("/wxa/get_auditstatus", 0);
        assert_eq!(l.acquire("wx9", "/wxa/get_auditstatus", 0), 0);
        assert_eq!(
            l.acquire("wx9", "/wxa/get_auditstatus", 0),
            400,
            "4 × 100 ms"
        );
        // two quiet minutes later: back to normal
        assert_eq!(l.acquire("wx8", "/wxa/get_auditstatus", 120_000), 0);
        assert_eq!(l.acquire("wx8", "/wxa/get_auditstatus", 120_000), 100);
        for _ in 0..20 {
            l.slow_down("/x", 0);
        }
        assert_eq!(l.slow["/x"].0, MAX_SLOW);
    }
}
