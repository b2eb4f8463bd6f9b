//! The release pipeline as a pure state machine: `step(state, event, now) -> Transition`.
//!
//! The runner performs the one effect a transition asks for (an HTTP call or a sleep) and feeds the
//! result back as an event. The state is serializable: persisted after every step, it lets a run stop
//! anywhere and resume without repeating a side effect. Three rules make repeats impossible:
//!
//! - before `Submit`, the latest review is read (`GetLatestAudit`): a review of our version already
//!   in flight (say, submitted by a run that crashed before saving) is attached to, never resubmitted;
//! - before `Release`, the version info is read: if our version is live, publishing is done;
//! - a mutation whose result is unknown (timeout, cut connection) is followed by the same read-back,
//!   never by a blind retry.
//!
//! A read-back proves identity, not just a version string: an upload or commit is this run's only
//! when the trial version's description carries the run's marker (a digest of the content); a
//! review is this run's only when this run may have submitted it or it was submitted after this
//! run's trial version appeared; a live version counts as this run's release only after this run
//! sent `release`. What cannot be proven stops the run in doubt (exit 3). A live app never goes
//! backwards: a missing or unreadable live version stops the version stage, and publishing a lower
//! version than the live one needs `allow_downgrade`.

mod rollout;
mod types;

#[cfg(test)]
pub(crate) mod tests;

pub use types::*;

use crate::version::{plan, PlanInput};

/// What a step decides: the next state and the effect to perform (none when done).
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The state after the event.
    pub next: State,
    /// The effect to perform next.
    pub effect: Option<Effect>,
}

/// How many times a failing mutation may be read back and tried again before the run gives up.
pub(crate) const MAX_MUTATION_TRIES: u32 = 3;

/// What 85009 means (C5 of the reference's corrections: both causes are seen).
const EXPLAIN_85009: &str = "85009 means a review is in flight or an approved version has not been released: \
    wait for the review, withdraw it (on-existing-review: withdraw), attach to it (on-existing-review: attach), \
    or release the approved version first";

/// Applies one event. `now` is the runner's clock (Unix seconds).
pub fn step(state: &State, event: Event, now: u64) -> Transition {
    let mut s = state.clone();
    let effect = advance(&mut s, event, now);
    if s.outcome.is_some() {
        s.stage = Stage::Done;
    }
    s.close_span(now);
    if s.stage != Stage::Done {
        s.open_span(now);
    }
    s.pending.clone_from(&effect);
    Transition { next: s, effect }
}

fn done(s: &mut State, outcome: Outcome) -> Option<Effect> {
    s.outcome = Some(outcome);
    None
}

/// Stops the run because what WeChat showed cannot be proven to be this run's (exit 3).
fn halt(s: &mut State, message: impl Into<String>) -> Option<Effect> {
    s.in_doubt = true;
    fail(s, None, message)
}

/// The longest errmsg or reason kept in a state or a message.
pub const MAX_TEXT: usize = 1024;

/// `text` cut to at most [`MAX_TEXT`] bytes on a character boundary, marked when cut.
pub fn clip(text: &str) -> String {
    if text.len() <= MAX_TEXT {
        return text.to_owned();
    }
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes cut)", &text[..end], text.len() - end)
}

fn fail(s: &mut State, code: Option<i64>, message: impl Into<String>) -> Option<Effect> {
    done(
        s,
        Outcome::Failed {
            code,
            message: message.into(),
        },
    )
}

/// The first effect of a stage (also what a resumed run does).
fn enter(s: &mut State, stage: Stage, now: u64) -> Option<Effect> {
    s.stage = stage;
    match stage {
        Stage::Version if s.version.is_some() => enter(s, Stage::Upload, now),
        Stage::Upload if !s.config.upload => enter(s, Stage::Commit, now),
        // An upload may have reached WeChat before a crash: read the trial version back first.
        Stage::Upload if s.upload_sent => Some(Effect::GetVersionInfo),
        Stage::Upload => {
            s.upload_sent = true;
            Some(Effect::Upload)
        }
        Stage::Version => Some(Effect::GetVersionInfo),
        Stage::Commit if s.config.template.is_none() => enter(s, Stage::Precheck, now),
        // A commit may have reached WeChat before a crash: read the trial version back first.
        Stage::Commit if s.commit_sent => Some(Effect::GetVersionInfo),
        Stage::Commit => {
            s.commit_sent = true;
            Some(Effect::Commit)
        }
        Stage::Precheck => Some(Effect::GetPrivacyInfo),
        Stage::Submit => Some(Effect::QueryQuota),
        Stage::Wait if s.audit_id.is_none() => Some(Effect::GetLatestAudit),
        // Entering the wait (the `wait` command, `resume`, a resumed state) looks at the review at
        // once, even with wait-timeout 0: "look once and hand over" is what a scheduled resume wants.
        Stage::Wait => {
            s.wait_started_at.get_or_insert(now);
            Some(Effect::GetAuditStatus)
        }
        Stage::Publish if s.config.rules.publish.never => done(s, Outcome::Approved),
        Stage::Publish => Some(Effect::GetVersionInfo),
        Stage::Rollout => rollout::enter(s, now),
        Stage::Done => None,
    }
}

fn submit(s: &mut State) -> Option<Effect> {
    s.submit_tries += 1;
    if s.submit_tries > MAX_MUTATION_TRIES {
        return fail(
            s,
            None,
            "submit_audit kept failing after reading the review state back; see the log",
        );
    }
    s.submit_sent = true;
    Some(Effect::Submit)
}

fn publish(s: &mut State) -> Option<Effect> {
    s.release_tries += 1;
    if s.release_tries > MAX_MUTATION_TRIES {
        return fail(
            s,
            None,
            "publishing kept failing after reading the live version back; see the log",
        );
    }
    s.release_sent = true;
    match s.config.rules.publish.gray_percentage {
        Some(p) => Some(Effect::GrayRelease(p)),
        None => Some(Effect::Release),
    }
}

/// After a successful submit (or attaching to a review): wait, speed up, or detach.
fn begin_wait(s: &mut State, auditid: u64, now: u64) -> Option<Effect> {
    s.audit_id = Some(auditid);
    s.stage = Stage::Wait;
    s.wait_started_at = Some(now);
    s.next_poll_secs = s.config.rules.wait.first_secs;
    if s.config.rules.speedup && !s.speedup_done {
        s.speedup_done = true;
        return Some(Effect::Speedup);
    }
    wait_or_detach(s, now)
}

fn wait_or_detach(s: &mut State, now: u64) -> Option<Effect> {
    let started = *s.wait_started_at.get_or_insert(now);
    let deadline = started.saturating_add(s.config.rules.wait.timeout_secs);
    if now >= deadline {
        return done(s, Outcome::Detached);
    }
    let secs = s.next_poll_secs.max(1);
    // Grow the interval by half each time, up to the maximum.
    s.next_poll_secs = secs
        .saturating_add(secs / 2)
        .min(s.config.rules.wait.max_secs.max(1));
    let left = deadline.saturating_sub(now);
    Some(Effect::Sleep(secs.min(left.max(1))))
}

#[allow(clippy::too_many_lines)]
fn advance(s: &mut State, event: Event, now: u64) -> Option<Effect> {
    let pending = s.pending.clone();
    if s.stage == Stage::Rollout && event != Event::Start {
        return rollout::advance(s, event, pending, now);
    }
    match (event, pending) {
        (Event::Start, _) => {
            let stage = s.stage;
            enter(s, stage, now)
        }

        // ---- version
        (Event::VersionInfo { live, .. }, Some(Effect::GetVersionInfo)) if s.stage == Stage::Version => {
            // A live app never goes backwards: without a readable live version there is nothing
            // safe to bump from (initial-version is for apps WeChat reports as never released,
            // and an answer without release_info cannot be told apart from a damaged one).
            let Some(live) = live else {
                return halt(s, "WeChat's getversioninfo answer has no live version (release_info): mp-release does not \
                    start from initial-version on an answer that may have lost it. If the app has never been released, \
                    give the first version with version-from explicit:<version> (or git-tag); otherwise rerun");
            };
            let Ok(current) = semver::Version::parse(live.trim().trim_start_matches('v')) else {
                return halt(s, format!("WeChat reports the live version as {:?}, which is not a semver version: \
                    give the next version with version-from explicit:<version>", clip(&live)));
            };
            let current = Some(current);
            let b = &s.config.bump;
            let input = PlanInput {
                bump: b.bump,
                preid: b.preid.as_deref(),
                commits: b.commits.as_deref(),
                initial: &b.initial,
                zero: b.zero,
            };
            match plan(current.as_ref(), &input) {
                Ok(p) => {
                    s.previous_version = p.previous.map(|v| v.to_string());
                    s.version = Some(p.next.to_string());
                    s.bump = Some(p.bump);
                    enter(s, Stage::Upload, now)
                }
                Err(e) => fail(s, None, format!("computing the next version from WeChat's: {e}")),
            }
        }
        // Read-back of an upload or a commit that may have happened.
        (Event::VersionInfo { trial, trial_desc, trial_time, .. }, Some(Effect::GetVersionInfo))
            if matches!(s.stage, Stage::Upload | Stage::Commit) =>
        {
            read_back_trial(s, trial.as_deref(), trial_desc.as_deref(), trial_time, now)
        }
        (Event::Uploaded { packages }, Some(Effect::Upload)) => {
            s.packages = packages;
            enter(s, Stage::Precheck, now)
        }
        (Event::Uncertain, Some(Effect::Upload)) => Some(Effect::GetVersionInfo),
        (Event::Committed, Some(Effect::Commit)) => enter(s, Stage::Precheck, now),
        (Event::Uncertain, Some(Effect::Commit)) => Some(Effect::GetVersionInfo),

        // ---- precheck
        (Event::PrivacyPending, Some(Effect::GetPrivacyInfo)) => {
            s.privacy_polls += 1;
            Some(Effect::Sleep(s.config.rules.privacy_poll_secs.max(1)))
        }
        (Event::Slept, Some(Effect::Sleep(_))) if s.stage == Stage::Precheck => Some(Effect::GetPrivacyInfo),
        (Event::Privacy { without_auth, without_conf }, Some(Effect::GetPrivacyInfo)) => {
            if !without_auth.is_empty() {
                return fail(s, Some(61040), format!(
                    "the code uses privacy APIs without permission: {}; obtain the permission in the console or remove the calls",
                    without_auth.join(", ")
                ));
            }
            if !without_conf.is_empty() && !s.config.rules.privacy_api_not_use {
                return fail(s, Some(61040), format!(
                    "the code uses privacy APIs that are not declared: {}; declare them (requiredPrivateInfos / the privacy guide) or set privacy-api-not-use if they are never called",
                    without_conf.join(", ")
                ));
            }
            enter(s, Stage::Submit, now)
        }

        // ---- submit
        (Event::Quota(q), Some(Effect::QueryQuota)) => {
            s.quota = Some(q);
            Some(Effect::GetLatestAudit)
        }
        // The quota is for the report only: its failure does not stop a release.
        (Event::Failed { .. }, Some(Effect::QueryQuota)) => Some(Effect::GetLatestAudit),
        (Event::LatestAudit(latest), Some(Effect::GetLatestAudit)) if s.stage == Stage::Submit => {
            on_latest_before_submit(s, latest, now)
        }
        (Event::LatestAudit(latest), Some(Effect::GetLatestAudit)) if s.stage == Stage::Wait => match latest {
            Some(a) => {
                s.version.get_or_insert(a.user_version.clone());
                begin_wait(s, a.auditid, now)
            }
            None => fail(s, Some(85058), "there is no review to wait for; submit first"),
        },
        (Event::Withdrawn, Some(Effect::Withdraw)) => {
            s.notes.push("withdrew the review that was in flight, as on-existing-review asks".into());
            submit(s)
        }
        // 87012: nothing to withdraw (the review ended meanwhile): look again before submitting.
        (Event::Uncertain | Event::Refused(87012), Some(Effect::Withdraw)) => Some(Effect::GetLatestAudit),
        (Event::Submitted { auditid }, Some(Effect::Submit)) => {
            // The quota was read before submitting; this review spent one.
            if let Some(q) = s.quota.as_mut() {
                q.rest = q.rest.saturating_sub(1);
            }
            begin_wait(s, auditid, now)
        }
        (Event::Uncertain, Some(Effect::Submit)) => Some(Effect::GetLatestAudit),
        (Event::Refused(85009), Some(Effect::Submit)) => {
            s.refused_85009 = true;
            Some(Effect::GetLatestAudit)
        }
        (Event::Refused(61039), Some(Effect::Submit)) => {
            s.submit_tries = s.submit_tries.saturating_sub(1);
            s.privacy_polls += 1;
            s.stage = Stage::Precheck;
            Some(Effect::Sleep(s.config.rules.privacy_poll_secs.max(1)))
        }
        (Event::SpedUp, Some(Effect::Speedup)) => {
            s.notes.push("expedited review requested (speedupaudit)".into());
            wait_or_detach(s, now)
        }
        // A refused speed-up (already expedited, no quota) does not stop the wait.
        (Event::Refused(code) | Event::Failed { code: Some(code), .. }, Some(Effect::Speedup)) => {
            s.notes.push(format!("speedupaudit refused ({code}); waiting at the normal pace"));
            wait_or_detach(s, now)
        }
        (Event::Failed { .. } | Event::Uncertain, Some(Effect::Speedup)) => wait_or_detach(s, now),

        // ---- wait
        (Event::AuditStatus { status, .. }, Some(Effect::GetAuditStatus)) if status > 4 => halt(s, format!(
            "get_auditstatus answered status {status}, which is none of WeChat's review states (0–4); \
             stopped instead of polling it as pending. Look at the review in the console, then resume"
        )),
        (Event::AuditStatus { status, reason, screenshot }, Some(Effect::GetAuditStatus)) => {
            s.polls += 1;
            let (reason, screenshot) = (clip(&reason), clip(&screenshot));
            let was = s.review.as_ref().map(|r| r.status);
            s.review = Some(Review { status, reason: reason.clone(), screenshot });
            match status {
                0 => enter(s, Stage::Publish, now),
                1 => done(s, Outcome::Rejected),
                3 => done(s, Outcome::Withdrawn),
                _ => {
                    if status == 4 && was != Some(4) {
                        s.notes.push(format!("review delayed: {reason}"));
                    }
                    wait_or_detach(s, now)
                }
            }
        }
        // The last sleep ends at the deadline: look once more there, then detach (in wait_or_detach).
        (Event::Slept, Some(Effect::Sleep(_))) if s.stage == Stage::Wait => Some(Effect::GetAuditStatus),

        // ---- publish
        (Event::VersionInfo { live, .. }, Some(Effect::GetVersionInfo)) if s.stage == Stage::Publish => {
            // Our version live counts as our release only once this run sent one: the same version
            // string may be live from an earlier release of other code.
            if s.release_sent && live.is_some() && live == s.version {
                s.published = true;
                return done(s, Outcome::Published { phased: None });
            }
            if !s.release_sent {
                if let Some(refusal) = downgrade(s, live.as_deref()) {
                    return refusal;
                }
                if s.config.rules.publish.rollout.is_some() {
                    return rollout::begin(s, live, now);
                }
            }
            if s.released {
                return fail(s, None, format!(
                    "release succeeded but WeChat shows {} live instead of {}",
                    live.as_deref().unwrap_or("nothing"),
                    s.version.as_deref().unwrap_or("?")
                ));
            }
            match s.config.rules.publish.gray_percentage {
                Some(_) if s.release_sent => Some(Effect::GetGrayPlan),
                _ => publish(s),
            }
        }
        (Event::Released, Some(Effect::Release)) => {
            s.released = true;
            Some(Effect::GetVersionInfo)
        }
        (Event::GrayReleased, Some(Effect::GrayRelease(_))) => Some(Effect::GetGrayPlan),
        (Event::GrayPlan { percentage, running, .. }, Some(Effect::GetGrayPlan)) => {
            let target = s.config.rules.publish.gray_percentage.unwrap_or(100);
            if running && percentage >= target {
                s.published = true;
                done(s, Outcome::Published { phased: Some(percentage) })
            } else {
                publish(s)
            }
        }
        (Event::Uncertain, Some(Effect::Release)) => Some(Effect::GetVersionInfo),
        (Event::Uncertain, Some(Effect::GrayRelease(_))) => Some(Effect::GetGrayPlan),
        // Already released: confirm by reading what is live.
        (Event::Refused(85052), Some(Effect::Release)) => {
            s.released = true;
            s.found_live = true;
            Some(Effect::GetVersionInfo)
        }
        (Event::Refused(85082), Some(Effect::GrayRelease(_))) => Some(Effect::GetGrayPlan),
        (Event::Refused(85079), Some(Effect::GrayRelease(_))) => fail(s, Some(85079),
            "WeChat refuses a phased release for an app that has never been released: the first release must be full; publish without gray-percentage once, then use phased releases"),

        // ---- failures of any effect
        (Event::Refused(code), Some(effect)) => fail(s, Some(code), format!("{} was refused", effect.name())),
        (Event::Failed { code, message }, Some(_)) => fail(s, code, message),
        (Event::Uncertain, Some(effect)) => fail(s, None, format!("{} failed and its state could not be read back", effect.name())),

        (event, pending) => fail(s, None, format!("internal: event {event:?} does not fit the pending effect {pending:?} in stage {:?}", s.stage)),
    }
}

/// After an upload or commit whose answer was lost: go on when the trial is proven this run's,
/// else send it again (bounded), and stop in doubt when it still cannot be confirmed.
fn read_back_trial(
    s: &mut State,
    trial: Option<&str>,
    desc: Option<&str>,
    time: Option<u64>,
    now: u64,
) -> Option<Effect> {
    let (what, again) = match s.stage {
        Stage::Upload => ("upload", Effect::Upload),
        _ => ("commit", Effect::Commit),
    };
    match proven_trial(s, trial, desc) {
        Ok(()) => {
            s.trial_time = time;
            enter(s, Stage::Precheck, now)
        }
        Err(seen) => {
            s.commit_tries += 1;
            if s.commit_tries > MAX_MUTATION_TRIES {
                return halt(
                    s,
                    format!(
                        "the {what} could not be confirmed after {MAX_MUTATION_TRIES} tries: \
                    WeChat shows {seen}; nothing was submitted. Rerun, or bump the version"
                    ),
                );
            }
            s.notes.push(format!(
                "the {what} is not confirmed: WeChat shows {seen}; sending it again"
            ));
            match again {
                Effect::Upload => s.upload_sent = true,
                _ => s.commit_sent = true,
            }
            Some(again)
        }
    }
}

/// REFERENCE-UNSURE: the reference documents `exp_desc` as the trial's description but not that a
/// directCommit upload's `desc` becomes it (a template commit's `user_desc` does). Should WeChat
/// drop the upload's desc there, a lost upload answer is sent again (harmless: the same code) and,
/// after three tries, the run stops in doubt rather than submit what it cannot prove.
///
/// Whether the trial version WeChat shows is this run's upload or commit: the version string and
/// the run's marker in its description. `Err` says what was seen instead.
fn proven_trial(s: &State, trial: Option<&str>, desc: Option<&str>) -> Result<(), String> {
    let seen = || {
        format!(
            "trial version {} with description {:?}",
            trial.map_or_else(|| "none".to_owned(), clip),
            clip(desc.unwrap_or_default())
        )
    };
    if trial.is_none() || trial != s.version.as_deref() {
        return Err(seen());
    }
    match &s.config.marker {
        Some(m) if desc.is_some_and(|d| d.contains(m.as_str())) => Ok(()),
        Some(_) => Err(format!(
            "{}, without this run's marker (the same version string, other code)",
            seen()
        )),
        // A state written before markers existed: the version string alone proves nothing.
        None => Err(format!(
            "{}; this state file predates identity markers, so it cannot be confirmed",
            seen()
        )),
    }
}

/// Publishing `s.version` over `live` when that would lower the live version: refused unless
/// `allow_downgrade` (exit 1); a live version that cannot be compared stops the run (exit 3).
fn downgrade(s: &mut State, live: Option<&str>) -> Option<Option<Effect>> {
    let (Some(live), Some(ours)) = (live, s.version.clone()) else {
        return None;
    };
    if s.config.rules.allow_downgrade {
        return None;
    }
    let parse = |v: &str| semver::Version::parse(v.trim().trim_start_matches('v')).ok();
    match (parse(live), parse(&ours)) {
        (Some(l), Some(o)) if o < l => Some(fail(s, None, format!(
            "refusing to publish {ours}: the live version {live} is higher, and a live app never goes backwards by \
             accident; set allow-downgrade: true to publish it anyway, or release a higher version"
        ))),
        (Some(_), Some(_)) => None,
        _ => Some(halt(s, format!(
            "cannot compare {ours} with the live version {:?}: nothing was published; set allow-downgrade: true \
             to publish regardless of the live version",
            clip(live)
        ))),
    }
}

fn on_latest_before_submit(s: &mut State, latest: Option<AuditInfo>, now: u64) -> Option<Effect> {
    let Some(a) = latest else {
        // 85009 with no review to show for it: say what it can mean rather than resubmitting.
        if s.refused_85009 {
            return fail(
                s,
                Some(85009),
                format!("submit_audit answered 85009 and WeChat shows no review; {EXPLAIN_85009}"),
            );
        }
        return submit(s);
    };
    // A review of our version string is ours only if this run may have submitted it, or it was
    // submitted after this run's trial version appeared (both times are WeChat's clock).
    let ours = s.version.as_deref() == Some(a.user_version.as_str())
        && (s.submit_sent || s.trial_time.is_some_and(|t| a.submit_time >= t));
    let in_flight = matches!(a.status, 2 | 4);
    // C5: an approved version that was never released blocks new submissions (85009).
    if s.refused_85009 && !ours && a.status == 0 {
        return fail(s, Some(85009), format!(
            "submit_audit answered 85009: version {} (review {}) was approved and never released, and WeChat accepts \
             no new review until it is. Release it first (mp-release publish, which releases the approved version) \
             or, if it must never go live, submit again after it is superseded; {EXPLAIN_85009}",
            a.user_version, a.auditid
        ));
    }
    match (ours, a.status) {
        // Our version is already under review (a crashed run, or a second run): attach.
        (true, 2 | 4) => {
            s.notes.push(format!("attached to review {} of {} already in flight", a.auditid, a.user_version));
            begin_wait(s, a.auditid, now)
        }
        // Our version was approved (a crash after approval): go on to publish.
        (true, 0) => {
            s.audit_id = Some(a.auditid);
            s.review = Some(Review { status: 0, reason: String::new(), screenshot: String::new() });
            enter(s, Stage::Publish, now)
        }
        // This run submitted it, and it ended: report that end.
        (true, 1) if s.submit_sent => {
            s.audit_id = Some(a.auditid);
            s.review = Some(Review { status: 1, reason: a.reason, screenshot: a.screenshot });
            done(s, Outcome::Rejected)
        }
        (true, 3) if s.submit_sent => {
            s.audit_id = Some(a.auditid);
            done(s, Outcome::Withdrawn)
        }
        _ if in_flight => match s.config.rules.on_existing {
            OnExisting::Attach => {
                s.notes.push(format!(
                    "attached to review {} of version {} (on-existing-review: attach)",
                    a.auditid, a.user_version
                ));
                s.attached_version = Some(a.user_version.clone());
                s.version = Some(a.user_version);
                begin_wait(s, a.auditid, now)
            }
            OnExisting::Withdraw => {
                s.withdraw_tries += 1;
                if s.withdraw_tries > MAX_MUTATION_TRIES {
                    return fail(s, Some(87012), format!(
                        "review {} of version {} could not be withdrawn after {MAX_MUTATION_TRIES} tries; look at it in the console",
                        a.auditid, a.user_version
                    ));
                }
                Some(Effect::Withdraw)
            }
            OnExisting::Fail => fail(s, Some(85009), format!(
                "review {} of version {} is already in flight (submitted at {}); wait for it, or set on-existing-review to attach or withdraw",
                a.auditid, a.user_version, a.submit_time
            )),
        },
        // Nothing in flight (an older review ended, or a rejected version is resubmitted).
        _ => submit(s),
    }
}
