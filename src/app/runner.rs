//! The imperative half of the pipeline: performs the effects the core state machine asks for
//! (WeChat calls, sleeps), applies the retry rules, and persists the state before every effect so a
//! stopped run resumes without repeating a side effect.
//!
//! Protocol per step: `step(state, event)` → save the new state → perform its effect → event.
//! A mutation whose answer is lost is reported as `Uncertain`, and the machine reads the state back.

use super::calls::{Calls, GaveUp};
use crate::adapters::upload::native::UploadError;
use crate::adapters::upload::Uploader;
use crate::adapters::wechat::tokens::TokenError;
use crate::adapters::wechat::{CallError, WeChat};
use crate::settings::SubmitBody;
use anyhow::Context;
use mp_release_core::pipeline::{
    step, AuditInfo, Effect, Event, Look, Outcome, Quota, Stage, State,
};
use mp_release_core::retry::Failure;
use mp_release_core::wechat::wire;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The test hook `crash-after`: the process stops right after that call, before saving state.
#[derive(Debug, thiserror::Error)]
#[error("stopped right after {0} as crash-after asked (a test hook); rerun with the same state-file to resume")]
pub struct InjectedStop(pub String);

/// Performs a pipeline.
#[derive(Debug)]
pub struct Runner {
    /// The WeChat call path: client, tokens, clock, retry rules.
    pub calls: Calls,
    /// Where the state is saved.
    pub state_file: Option<PathBuf>,
    /// Test hook.
    pub crash_after: Option<String>,
    /// What goes into submit_audit.
    pub submit: SubmitBody,
    /// `user_desc` of a commit.
    pub desc: String,
    /// Upload mode: the engine and what it uploads (its version is set per upload).
    pub uploader: Option<Uploader>,
    /// `--dry-run`: stop before the first call that changes anything (reads still happen).
    pub dry_run: bool,
    /// Redacts the state file (WeChat may echo a secret into a message the state keeps).
    pub masker: Option<crate::secrets::Masker>,
    /// A fleet's shared review budget: closed, no app submits (its state stays before the
    /// submission, so a later run submits it).
    pub gate: Option<Arc<SubmitGate>>,
    /// Why this run stopped before submitting (the gate was closed), if it did.
    pub held: Option<String>,
    /// One app of many: stages and notes go to the debug log, not the terminal.
    pub quiet: bool,
    /// The platform's quota as the fleet read it once (it is one figure for all its apps, and
    /// the machine reads it for the report only): answered from here instead of a call per app.
    pub shared_quota: Option<Quota>,
    logged_notes: usize,
    logged_looks: usize,
}

/// A fleet's review budget, shared by its apps: closed at the first 85085 (the platform's quota
/// is spent for everyone), after which no app submits.
#[derive(Debug, Default)]
pub struct SubmitGate {
    closed: std::sync::Mutex<Option<String>>,
}

impl SubmitGate {
    /// Why it is closed, if it is.
    pub fn closed(&self) -> Option<String> {
        self.closed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Closes it (the first reason stays).
    pub fn close(&self, why: &str) {
        let mut c = self
            .closed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if c.is_none() {
            *c = Some(why.to_owned());
        }
    }
}

impl Runner {
    /// A runner.
    pub fn new(calls: Calls, submit: SubmitBody, desc: String) -> Self {
        Self {
            calls,
            state_file: None,
            crash_after: None,
            submit,
            desc,
            uploader: None,
            dry_run: false,
            masker: None,
            gate: None,
            held: None,
            quiet: false,
            shared_quota: None,
            logged_notes: 0,
            logged_looks: 0,
        }
    }

    /// A line for each look of a rollout's health gate (holds are notes already).
    fn log_looks(&mut self, state: &State) {
        let Some(r) = &state.rollout else { return };
        for h in r.history.iter().skip(self.logged_looks) {
            if let (Some(share), Look::Raise | Look::Revert | Look::Unhealthy) =
                (h.share, h.verdict)
            {
                let line = format!(
                    "look at {} %: {} (error users {} new / {} previous, share {:.1} %, ratio {})",
                    h.percent,
                    h.verdict,
                    h.new_users,
                    h.old_users,
                    share * 100.0,
                    h.ratio
                        .map_or_else(|| "–".to_owned(), |x| format!("{x:.2}×"))
                );
                self.say(&line);
            }
        }
        self.logged_looks = r.history.len();
    }

    /// The crash-after hook: `name` stops after the first such call of this process, `name#n`
    /// after the n-th.
    fn crash_now(&self, name: &str) -> bool {
        let Some(hook) = self.crash_after.as_deref() else {
            return false;
        };
        let (want, nth) = match hook.split_once('#') {
            Some((w, n)) => (w, n.parse::<u32>().unwrap_or(1)),
            None => (hook, 1),
        };
        if want != name {
            return false;
        }
        // Counted per process, not per runner: a fleet drives each app with its own runner.
        static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        COUNT.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 == nth
    }

    fn persist(&self, state: &State) -> anyhow::Result<()> {
        let Some(path) = &self.state_file else {
            return Ok(());
        };
        let text = serde_json::to_string_pretty(state)?;
        let text = match &self.masker {
            Some(m) => m.redact(&text),
            None => text,
        };
        crate::adapters::fs::write_atomic(path, text.as_bytes(), crate::adapters::fs::Mode::Plain)
            .with_context(|| format!("writing the state file {}", path.display()))
    }

    /// Loads a saved state, if the file exists.
    pub fn load(path: &std::path::Path) -> anyhow::Result<Option<State>> {
        if !path.exists() {
            return Ok(None);
        }
        // A state file is a few KiB (every text in it is cut to 1 KiB).
        let text = crate::settings::read_text(path, 16 << 20).map_err(anyhow::Error::msg)?;
        Ok(Some(serde_json::from_str(&text).with_context(|| {
            format!("reading the state file {}", path.display())
        })?))
    }

    /// Drives `state` to its end (or to a detach), showing `observe` the state after every step
    /// (the check run learns the review id this way, as soon as there is one).
    pub async fn drive(
        &mut self,
        state: State,
        mut observe: impl AsyncFnMut(&State),
    ) -> anyhow::Result<State> {
        let mut state = state;
        let mut event = Event::Start;
        let mut stage = None;
        loop {
            let t = step(&state, event, self.calls.clock.now());
            state = t.next;
            // A run that ended on an infrastructure failure exits 3, also when its finished state
            // is replayed (the flag is the last call's: this step's event).
            if self.calls.infra_failure && matches!(state.outcome, Some(Outcome::Failed { .. })) {
                state.in_doubt = true;
            }
            self.persist(&state)?;
            if state.stage == Stage::Done && self.crash_after.as_deref() == Some("done") {
                return Err(InjectedStop("done".to_owned()).into());
            }
            if stage != Some(state.stage) && state.stage != Stage::Done {
                if self.quiet {
                    tracing::debug!("{} ▶ {}", state.config.appid, state.stage.name());
                } else {
                    tracing::info!("▶ {}", state.stage.name());
                }
                stage = Some(state.stage);
            }
            for note in &state.notes[self.logged_notes..] {
                if self.quiet {
                    tracing::debug!("{}: {note}", state.config.appid);
                } else {
                    tracing::info!("{note}");
                }
            }
            self.logged_notes = state.notes.len();
            self.log_looks(&state);
            observe(&state).await;
            let Some(effect) = t.effect else {
                return Ok(state);
            };
            if self.dry_run && effect.is_mutation() {
                tracing::info!("dry run: stopping before {}", effect.name());
                state.stop_before(&effect, self.calls.clock.now());
                return Ok(state);
            }
            if effect == Effect::Submit {
                if let Some(why) = self.gate.as_ref().and_then(|g| g.closed()) {
                    self.held = Some(why);
                    return Ok(state);
                }
            }
            event = self.perform(&effect, &state).await?;
            if let (
                Effect::Submit,
                Some(gate),
                Event::Failed {
                    code: Some(85085),
                    message,
                },
            ) = (&effect, &self.gate, &event)
            {
                // The platform's quota is spent: this app and every later one stop before
                // submitting, their states left there for a run after the quota is refilled.
                gate.close(message);
                self.held = Some(message.clone());
                return Ok(state);
            }
            if effect.is_mutation() && self.crash_now(effect.name()) {
                return Err(InjectedStop(effect.name().to_owned()).into());
            }
        }
    }

    async fn perform(&mut self, effect: &Effect, state: &State) -> anyhow::Result<Event> {
        if let Effect::Sleep(secs) = effect {
            if state.stage == Stage::Wait
                && !self.quiet
                && (state.polls == 1 || state.polls.is_power_of_two())
            {
                tracing::info!(
                    "review {} is {}; next check in {secs} s (poll {})",
                    state.audit_id.unwrap_or_default(),
                    state.review_status(),
                    state.polls
                );
            }
            // Review polls get up to 20 % of jitter so that many runs do not poll in lockstep.
            let ms = if state.stage == Stage::Wait {
                // Only ever shorter than asked: the last sleep ends at the deadline, and the
                // last look must not come after it.
                let factor = 0.8 + 0.2 * self.calls.jitter();
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    clippy::cast_precision_loss
                )]
                let ms = (*secs as f64 * 1000.0 * factor) as u64;
                ms
            } else {
                secs * 1000
            };
            self.calls.clock.sleep(Duration::from_millis(ms)).await?;
            return Ok(Event::Slept);
        }
        if let (Effect::QueryQuota, Some(q)) = (effect, &self.shared_quota) {
            return Ok(Event::Quota(*q));
        }
        if *effect == Effect::Upload {
            self.calls.infra_failure = false;
            return Ok(self.upload(state).await);
        }
        let (submit, desc) = (&self.submit, &self.desc);
        let answer = self
            .calls
            .call(
                effect.name(),
                effect.is_mutation(),
                async |wx, token| request(wx, submit, desc, effect, state, token).await,
                |e| handled(effect, e),
            )
            .await;
        let version = state.version.as_deref().unwrap_or("?");
        match (effect, &answer) {
            (_, Ok(Event::Submitted { auditid })) => {
                self.say(&format!(
                    "submitted {version} for review: audit id {auditid}"
                ));
            }
            (_, Ok(Event::Released)) => self.say(&format!("released {version}")),
            (Effect::GrayRelease(p), Ok(Event::GrayReleased)) => {
                self.say(&format!("phased release of {version} to {p} %"));
            }
            _ => {}
        }
        Ok(match answer {
            Ok(event) => event,
            Err(GaveUp::ReadBack(_)) => Event::Uncertain,
            Err(GaveUp::Failed(err)) => Event::Failed {
                code: err.code(),
                message: err.explain(),
            },
            Err(GaveUp::Token(e)) => token_failure(&e),
        })
    }

    /// A step worth a line on the terminal (the debug log only for one app of a fleet).
    fn say(&self, line: &str) {
        if self.quiet {
            tracing::debug!("{line}");
        } else {
            tracing::info!("{line}");
        }
    }

    /// The upload effect. A transport failure may or may not have reached WeChat: the machine reads
    /// the trial version back before uploading again.
    async fn upload(&mut self, s: &State) -> Event {
        let Some(uploader) = &self.uploader else {
            return Event::Failed {
                code: None,
                message: "internal: upload mode without an uploader".into(),
            };
        };
        let version = s.version.clone().unwrap_or_default();
        let req = &uploader.req;
        tracing::info!(
            "uploading {} as {version} (robot {}, {} engine)",
            req.project.display(),
            req.robot,
            uploader.engine.name()
        );
        match uploader.upload(&version).await {
            Ok(u) => {
                tracing::info!(
                    "uploaded {} files ({} bytes gzipped)",
                    u.files,
                    u.gzip_bytes
                );
                Event::Uploaded {
                    packages: u.packages(),
                }
            }
            Err(UploadError::Transport { endpoint, detail }) => {
                tracing::warn!(
                    "{endpoint}: {detail}; reading the trial version back before trying again"
                );
                Event::Uncertain
            }
            Err(e @ UploadError::Redirect { .. }) => {
                self.calls.infra_failure = true;
                Event::Failed {
                    code: None,
                    message: e.to_string(),
                }
            }
            Err(e @ UploadError::IpWhitelist { .. }) => Event::Failed {
                code: Some(-10008),
                message: e.to_string(),
            },
            Err(UploadError::Refused {
                endpoint,
                code,
                errmsg,
            }) => Event::Failed {
                code: Some(code),
                message: format!("{endpoint}: errCode {code}: {errmsg}"),
            },
            Err(e) => Event::Failed {
                code: None,
                message: e.to_string(),
            },
        }
    }
}

/// One effect's WeChat call, its answer as an event.
async fn request(
    wx: &WeChat,
    submit: &SubmitBody,
    desc: &str,
    effect: &Effect,
    s: &State,
    token: &str,
) -> Result<Event, CallError> {
    let t = Some(token);
    let audit = json!({ "auditid": s.audit_id.unwrap_or_default() });
    Ok(match effect {
        Effect::GetVersionInfo => {
            let v: wire::VersionInfo = answer(
                "/wxa/getversioninfo",
                &wx.post("/wxa/getversioninfo", t, &json!({})).await?,
            )?;
            let exp = v.exp_info.clone().unwrap_or_default();
            Event::VersionInfo {
                live: v.live(),
                trial: v.trial(),
                trial_desc: Some(exp.exp_desc).filter(|d| !d.is_empty()),
                trial_time: exp.exp_time,
            }
        }
        Effect::Commit => {
            let spec = s
                .config
                .template
                .as_ref()
                .ok_or_else(|| internal("commit without a template"))?;
            let body = json!({
                "template_id": spec.template_id,
                "ext_json": spec.ext_json,
                "user_version": s.version,
                "user_desc": desc,
            });
            wx.post("/wxa/commit", t, &body).await?;
            Event::Committed
        }
        Effect::GetPrivacyInfo => privacy(answer(
            "/wxa/security/get_code_privacy_info",
            &wx.get("/wxa/security/get_code_privacy_info", t, &[])
                .await?,
        )?),
        Effect::QueryQuota => {
            let q: wire::QuotaInfo =
                answer("/wxa/queryquota", &wx.get("/wxa/queryquota", t, &[]).await?)?;
            Event::Quota(Quota {
                rest: q.rest,
                limit: q.limit,
                speedup_rest: q.speedup_rest,
                speedup_limit: q.speedup_limit,
            })
        }
        Effect::GetLatestAudit => Event::LatestAudit(Some(audit_info(
            "/wxa/get_latest_auditstatus",
            &wx.get("/wxa/get_latest_auditstatus", t, &[]).await?,
        )?)),
        Effect::Withdraw => {
            wx.get("/wxa/undocodeaudit", t, &[]).await?;
            Event::Withdrawn
        }
        Effect::Submit => {
            let body = submit_body(wx, submit, s, token).await?;
            let wire::Submitted { auditid } = answer(
                "/wxa/submit_audit",
                &wx.post("/wxa/submit_audit", t, &body).await?,
            )?;
            Event::Submitted { auditid }
        }
        Effect::Speedup => {
            wx.post("/wxa/speedupaudit", t, &audit).await?;
            Event::SpedUp
        }
        Effect::GetAuditStatus => {
            let a: wire::AuditStatus = answer(
                "/wxa/get_auditstatus",
                &wx.post("/wxa/get_auditstatus", t, &audit).await?,
            )?;
            Event::AuditStatus {
                status: a.status.code(),
                screenshot: a.screenshots().to_owned(),
                reason: a.reason,
            }
        }
        Effect::Release => {
            wx.post("/wxa/release", t, &json!({})).await?;
            Event::Released
        }
        Effect::GrayRelease(p) => {
            let rules = &s.config.rules.publish;
            let mut body = json!({ "gray_percentage": p });
            if rules.debuger_first {
                body["support_debuger_first"] = json!(true);
            }
            if rules.experiencer_first {
                body["support_experiencer_first"] = json!(true);
            }
            wx.post("/wxa/grayrelease", t, &body).await?;
            Event::GrayReleased
        }
        Effect::GetGrayPlan => {
            let p: wire::GrayPlanInfo = answer(
                "/wxa/getgrayreleaseplan",
                &wx.get("/wxa/getgrayreleaseplan", t, &[]).await?,
            )?;
            let plan = p.gray_release_plan;
            Event::GrayPlan {
                percentage: plan.gray_percentage,
                running: plan.status == 1,
                status: u8::try_from(plan.status).unwrap_or(u8::MAX),
                created: plan.create_timestamp,
            }
        }
        Effect::RevertGray => {
            wx.get("/wxa/revertgrayrelease", t, &[]).await?;
            Event::GrayReverted
        }
        Effect::GetHealth(q) => super::health::gather(wx, token, q).await?,
        Effect::Sleep(_) | Effect::Upload => return Err(internal("not a WeChat API call")),
    })
}

/// The submit_audit body: items from the config or built from the app's categories and pages.
async fn submit_body(
    wx: &WeChat,
    b: &SubmitBody,
    s: &State,
    token: &str,
) -> Result<Value, CallError> {
    let mut body = json!({});
    let items = match (&b.item_list, b.build_item_list) {
        (Some(items), _) => Some(items.clone()),
        (None, true) => Some(build_items(wx, token).await?),
        (None, false) => None,
    };
    if let Some(items) = items {
        body["item_list"] = items;
    }
    if let Some(d) = &b.version_desc {
        body["version_desc"] = json!(d);
    }
    if let Some(f) = &b.feedback_info {
        body["feedback_info"] = json!(f);
    }
    if let Some(u) = &b.ugc_declare {
        body["ugc_declare"] = u.clone();
    }
    if s.config.rules.privacy_api_not_use {
        body["privacy_api_not_use"] = json!(true);
    }
    Ok(body)
}

/// One review item per configured category (at most 5), on the first page of the code.
async fn build_items(wx: &WeChat, token: &str) -> Result<Value, CallError> {
    let cats = wx.get("/wxa/get_category", Some(token), &[]).await?;
    let pages = wx.get("/wxa/get_page", Some(token), &[]).await?;
    let page = pages
        .get("page_list")
        .and_then(|p| p.get(0))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let items: Vec<Value> = cats
        .get("category_list")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .take(5)
        .map(|c| {
            let mut item = c.clone();
            if !page.is_empty() {
                item["address"] = json!(page);
            }
            item
        })
        .collect();
    Ok(Value::Array(items))
}

fn token_failure(e: &TokenError) -> Event {
    let code = match e {
        TokenError::Call(c) => c.code(),
        TokenError::DirectRejected(code) => Some(*code),
        TokenError::Missing => None,
    };
    Event::Failed {
        code,
        message: e.to_string(),
    }
}

fn internal(what: &str) -> CallError {
    CallError::Transport {
        endpoint: "mp-release".into(),
        failure: Failure::Malformed,
        detail: what.into(),
    }
}

/// An answer read as its wire type (`mp_release_core::wechat::wire`). One that does not fit (a
/// review status outside 0–4, an `auditid` that is not a number) is an answer mp-release cannot
/// act on: it stops there (exit 3) rather than guess, showing the answer.
#[allow(clippy::result_large_err)] // CallError carries the answer; see the client module
pub(super) fn answer<T: serde::de::DeserializeOwned>(
    endpoint: &str,
    v: &Value,
) -> Result<T, CallError> {
    wire::parse(v).map_err(|e| {
        CallError::unexpected(
            endpoint,
            format!(
                "the answer does not fit what mp-release acts on ({e}), so it stopped instead of guessing; \
                 the answer was {}",
                mp_release_core::pipeline::clip(&v.to_string())
            ),
        )
    })
}

/// A latest-review answer as the machine's `AuditInfo`.
#[allow(clippy::result_large_err)]
pub(super) fn audit_info(endpoint: &str, v: &Value) -> Result<AuditInfo, CallError> {
    let a: wire::AuditStatus = answer(endpoint, v)?;
    let screenshot = a.screenshots().to_owned();
    Ok(AuditInfo {
        auditid: a.auditid.unwrap_or_default(),
        status: a.status.code(),
        user_version: a.user_version,
        screenshot,
        reason: a.reason,
        submit_time: a.submit_audit_time.unwrap_or_default(),
    })
}

fn privacy(p: wire::PrivacyInfo) -> Event {
    Event::Privacy {
        without_auth: p.without_auth_list,
        without_conf: p.without_conf_list,
    }
}

/// WeChat answers that are states for the machine rather than failures.
fn handled(effect: &Effect, err: &CallError) -> Option<Event> {
    let CallError::Api { code, body, .. } = err else {
        return None;
    };
    match (effect, *code) {
        (Effect::GetPrivacyInfo, 61039) => Some(Event::PrivacyPending),
        (Effect::GetPrivacyInfo, 61040) => wire::parse(body).ok().map(privacy),
        (Effect::GetLatestAudit, 85058) => Some(Event::LatestAudit(None)),
        (Effect::Submit, 85009 | 61039)
        | (Effect::Withdraw, 87012)
        | (Effect::Release, 85052)
        | (Effect::GrayRelease(_), 85079 | 85082)
        | (Effect::Speedup, _) => Some(Event::Refused(*code)),
        // REFERENCE-UNSURE: revertgrayrelease's answer without a running plan is undocumented;
        // whatever WeChat refuses it with for good, the plan is read back (reverted is reverted).
        // Token and transient codes keep their retry class.
        (Effect::RevertGray, c)
            if mp_release_core::wechat::errcode::lookup(c)
                .is_none_or(|i| i.class == mp_release_core::wechat::errcode::RetryClass::Fatal) =>
        {
            Some(Event::Refused(c))
        }
        _ => None,
    }
}
