//! One WeChat call path for everything: the pipeline's effects and the single-call commands
//! (`status`, `withdraw`, `quota`, `rollback`) alike. A call gets a token, is tried, and on failure
//! follows the retry rules of `mp_release_core::retry` (backoff, the next rate window, one token
//! refresh, and for a call that creates state a read-back instead of a resend), after waiting
//! for its slot in the rate limiter (keyed by account and endpoint, shareable between apps).

use super::clock::Clock;
use crate::adapters::wechat::tokens::{TokenError, Tokens};
use crate::adapters::wechat::{CallError, WeChat};
use mp_release_core::limit::Limiter;
use mp_release_core::retry::{decide, Decision, Policy};
use mp_release_core::wechat::errcode::RetryClass;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Why a call gave up.
#[derive(Debug)]
pub enum GaveUp {
    /// A call that creates state lost its answer: read the state back before anything else.
    ReadBack(CallError),
    /// Retrying cannot help, or the budget is spent.
    Failed(CallError),
    /// No token could be had.
    Token(TokenError),
}

impl GaveUp {
    /// What to tell the user.
    pub fn explain(&self) -> String {
        match self {
            Self::ReadBack(e) => format!(
                "{}; its effect is unknown: look at the state (mp-release status) before trying again",
                e.explain()
            ),
            Self::Failed(e) => e.explain(),
            Self::Token(e) => e.to_string(),
        }
    }
}

/// The client, the token source, the clock and the retry budget of one process.
#[derive(Debug)]
pub struct Calls {
    /// The WeChat client.
    pub wx: WeChat,
    /// Token source.
    pub tokens: Tokens,
    /// Time.
    pub clock: Clock,
    /// Retry rules.
    pub policy: Policy,
    /// Set when the last call gave up on infrastructure (transport, rate windows, redirects):
    /// a run that ends on that failure exits 3. Cleared when a call starts, so an earlier
    /// transient failure the run got past (a quota read) does not turn a later refusal into 3.
    pub infra_failure: bool,
    /// Request rates per account and endpoint; one limiter may serve many apps (a fleet).
    pub limiter: Arc<Mutex<Limiter>>,
    retries: u32,
    rng: u64,
}

impl Calls {
    /// A call path.
    pub fn new(wx: WeChat, tokens: Tokens, clock: Clock) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(7, |d| d.as_nanos() as u64);
        Self {
            wx,
            tokens,
            clock,
            policy: Policy::default(),
            infra_failure: false,
            limiter: Arc::new(Mutex::new(Limiter::unlimited())),
            retries: 0,
            rng: seed | 1,
        }
    }

    /// A number in [0, 1) for backoff jitter (xorshift; quality is irrelevant here).
    pub fn jitter(&mut self) -> f64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Performs `f` with a token under the retry rules. `handled` turns answers that are states
    /// rather than failures (61039, 85058 …) into results before any retry is considered.
    pub async fn call<T>(
        &mut self,
        name: &str,
        mutation: bool,
        f: impl AsyncFn(&WeChat, &str) -> Result<T, CallError>,
        handled: impl Fn(&CallError) -> Option<T>,
    ) -> Result<T, GaveUp> {
        let mut attempt = 0;
        let mut refreshed = false;
        self.infra_failure = false;
        loop {
            attempt += 1;
            // Fetching a token is a call like any other: the same retry rules apply (it is not a
            // mutation of anything the release depends on).
            let wait = {
                let mut limiter = self.limiter.lock().unwrap_or_else(PoisonError::into_inner);
                let now = self.clock.now_ms();
                let mut wait = limiter.acquire(self.tokens.account(), name, now);
                // A token to fetch first is a request too: it takes its own slot.
                if !self.tokens.cached(self.clock.now()) {
                    wait = wait.max(limiter.acquire(
                        self.tokens.account(),
                        "api_authorizer_token",
                        now,
                    ));
                }
                wait
            };
            if wait > 0 {
                if let Err(e) = self.clock.sleep(Duration::from_millis(wait)).await {
                    self.infra_failure = true;
                    return Err(GaveUp::Failed(CallError::Transport {
                        endpoint: name.to_owned(),
                        failure: mp_release_core::retry::Failure::Connect,
                        detail: format!("waiting for the rate limit: {e:#}"),
                    }));
                }
            }
            let (err, mutation) = match self.tokens.get(&self.wx, self.clock.now()).await {
                Ok(token) => match f(&self.wx, &token).await {
                    Ok(v) => return Ok(v),
                    Err(e) => match handled(&e) {
                        Some(v) => return Ok(v),
                        None => (e, mutation),
                    },
                },
                Err(TokenError::Call(e)) => (e, false),
                Err(e) => return Err(GaveUp::Token(e)),
            };
            let failure = err.failure();
            if failure.class() == RetryClass::NextWindow {
                // 45011 and its kind: every app of this process slows down on this endpoint.
                self.limiter
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .slow_down(name, self.clock.now_ms());
            }
            let to_minute = 60 - self.clock.now() % 60;
            let jitter = self.jitter();
            let decision = decide(
                &self.policy,
                &failure,
                mutation,
                attempt,
                refreshed,
                &mut self.retries,
                jitter,
                to_minute,
            );
            match decision {
                Decision::RetryAfter(ms) => {
                    tracing::warn!("{}; retrying in {ms} ms (try {attempt})", err.explain());
                    if self.clock.sleep(Duration::from_millis(ms)).await.is_err() {
                        self.infra_failure = true;
                        return Err(GaveUp::Failed(err));
                    }
                }
                Decision::RefreshToken => {
                    tracing::info!(
                        "{name}: the token was refused ({}); fetching a new one",
                        err.code().unwrap_or_default()
                    );
                    refreshed = true;
                    if let Err(e) = self
                        .tokens
                        .refresh_after(&self.wx, self.clock.now(), err.code().unwrap_or_default())
                        .await
                    {
                        match e {
                            // The refresh itself failed transiently: the next try fetches again.
                            TokenError::Call(c) if c.failure().class() != RetryClass::Fatal => {
                                tracing::warn!("{}; retrying", c.explain());
                            }
                            e => return Err(self.token_gave_up(e)),
                        }
                    }
                }
                Decision::ReadBack => {
                    tracing::warn!(
                        "{}; its effect is unknown, reading the state back before anything else",
                        err.explain()
                    );
                    return Err(GaveUp::ReadBack(err));
                }
                Decision::Fail => {
                    if failure.is_infrastructure() {
                        self.infra_failure = true;
                    }
                    return Err(GaveUp::Failed(err));
                }
            }
        }
    }

    fn token_gave_up(&mut self, e: TokenError) -> GaveUp {
        if let TokenError::Call(c) = &e {
            if c.failure().is_infrastructure() {
                self.infra_failure = true;
            }
        }
        GaveUp::Token(e)
    }

    /// A single call of a command: a read (retried) or a change (read back, never resent), its
    /// failure as an error for the user. A give-up on infrastructure exits 3, a refusal 1.
    pub async fn once<T>(
        &mut self,
        name: &str,
        mutation: bool,
        f: impl AsyncFn(&WeChat, &str) -> Result<T, CallError>,
    ) -> anyhow::Result<T> {
        match self.call(name, mutation, f, |_| None).await {
            Ok(v) => Ok(v),
            Err(e) => {
                let infra = match &e {
                    GaveUp::ReadBack(_) => true,
                    GaveUp::Failed(c) => c.failure().is_infrastructure(),
                    GaveUp::Token(TokenError::Call(c)) => c.failure().is_infrastructure(),
                    GaveUp::Token(_) => false,
                };
                let message = format!("{name}: {}", e.explain());
                Err(if infra {
                    anyhow::anyhow!(message)
                } else {
                    crate::exit::ReleaseFailed(message).into()
                })
            }
        }
    }
}

impl Calls {
    /// `revertcoderelease?action=get_history_version`: the versions a rollback can go back to,
    /// newest first (`version_list[] {app_version, user_version, user_desc, commit_time}`).
    pub async fn history(&mut self) -> anyhow::Result<serde_json::Value> {
        self.once("revertcoderelease", false, async |wx: &WeChat, t: &str| {
            wx.get(
                "/wxa/revertcoderelease",
                Some(t),
                &[("action", "get_history_version")],
            )
            .await
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mp_release_core::limit::Rule;
    use mp_release_emulator::{AppSpec, Emulator, Scenario, World};

    /// The limiter's waits happen on the run's clock, per account and endpoint.
    #[tokio::test]
    async fn calls_wait_for_their_slot() {
        const C: &str = "wxc0c0c0c0c0c0c0c0";
        let mut w = World::new(Scenario::default());
        let ticket = w.add_platform(C, "s");
        let reg = w.add_app(AppSpec::authorized("wxa1a1a1a1a1a1a1a1", C));
        let emu = Emulator::start_with(w);
        let wx = WeChat::new(
            &url::Url::parse(&emu.uri()).unwrap(),
            Duration::from_secs(5),
            &crate::adapters::http::Net::default(),
        )
        .unwrap();
        let out: Box<dyn std::io::Write + Send> = Box::new(std::io::sink());
        let masker = crate::secrets::Masker::new(
            false,
            Arc::new(Mutex::new(out)),
            crate::secrets::Redactor::default(),
        );
        let creds = crate::adapters::wechat::tokens::Credentials::Component {
            component_appid: C.into(),
            auth: crate::adapters::wechat::tokens::ComponentAuth::Ticket {
                secret: "s".into(),
                ticket: ticket.into(),
            },
            authorizer_appid: "wxa1a1a1a1a1a1a1a1".into(),
            refresh_token: reg.refresh_token.into(),
        };
        let clock = Clock::virtual_of(&wx).await.unwrap();
        let mut calls = Calls::new(wx, Tokens::new(creds, masker), clock);
        *calls.limiter.lock().unwrap() = Limiter::new(
            vec![Rule {
                endpoint: Some("queryquota".into()),
                per_second: 0.5,
            }],
            None,
        );
        let start = calls.clock.now();
        for _ in 0..3 {
            calls
                .once("queryquota", false, async |wx, t| {
                    wx.get("/wxa/queryquota", Some(t), &[]).await
                })
                .await
                .unwrap();
        }
        assert_eq!(
            calls.clock.now() - start,
            4,
            "0.5/s: the 2nd and 3rd call wait 2 s each"
        );
        // another endpoint is not held back
        calls
            .once("get_category", false, async |wx, t| {
                wx.get("/wxa/get_category", Some(t), &[]).await
            })
            .await
            .unwrap();
        assert_eq!(calls.clock.now() - start, 4);
    }
}
