//! The rollout stage: a phased release raised step by step, each step watched and judged by the
//! health gate (`crate::health`), ended by a full `release` at 100 % or reverted when unhealthy.
//!
//! One `getgrayreleaseplan` read comes before every decision that depends on the plan:
//!
//! - before the first raise, a plan already running that this run did not start stops the run
//!   (exit 3): raising it would phase whatever it is phasing;
//! - after a raise (answered, refused with 85082 or lost) the plan is read back: the step counts
//!   only when the plan runs at its percentage or above; a lost raise is sent again (bounded), a
//!   confirmed one never;
//! - before each look, the plan must still be the one this rollout started (`create_timestamp`)
//!   and running: one ended or replaced in the console stops the run instead of judging it;
//! - after a revert (answered or lost) the plan is read back; a revert is sent again only when the
//!   plan still runs, so at most one revert takes effect.
//!
//! The progress is persisted before every effect, so a stopped process resumes at the same point:
//! a raise or revert that may have been sent is read back before anything else.

use super::{clip, done, fail, halt, State, MAX_MUTATION_TRIES};
use crate::health::{beijing_day_start, judge, share_over, Sample, Verdict};
use crate::pipeline::{
    Effect, Event, HealthQuery, Look, OnUnhealthy, Outcome, RolloutProgress, RolloutSpec, Stage,
    StepRecord,
};

fn spec(s: &State) -> Option<&RolloutSpec> {
    s.config.rules.publish.rollout.as_ref()
}

fn progress(s: &mut State) -> &mut RolloutProgress {
    s.rollout.get_or_insert_with(RolloutProgress::default)
}

/// The percentage of the current step.
fn target(s: &State) -> u32 {
    let step = s.rollout.as_ref().map_or(0, |p| p.step);
    spec(s)
        .and_then(|r| r.steps.get(step))
        .map_or(100, |st| st.percent)
}

fn record(s: &mut State, verdict: Look, now: u64) {
    let percent = target(s);
    progress(s)
        .history
        .push(StepRecord::bare(percent, now, verdict));
}

/// Publishing begins (the live version was read): `live` is the baseline of the gate.
pub(super) fn begin(s: &mut State, live: Option<String>, now: u64) -> Option<Effect> {
    if live.is_some() && live == s.version {
        return halt(
            s,
            format!(
                "version {} is already live, and this run did not release it: a rollout has nothing to phase. \
                 Look at the app in the console; release a new version to roll out",
                s.version.as_deref().unwrap_or("?")
            ),
        );
    }
    progress(s).previous = live;
    enter(s, now)
}

/// Entering (or resuming) the rollout: read back what may have been sent, else go on where the
/// progress says.
pub(super) fn enter(s: &mut State, now: u64) -> Option<Effect> {
    s.stage = Stage::Rollout;
    if spec(s).is_none_or(|r| r.steps.is_empty()) {
        return fail(s, None, "internal: a rollout stage without rollout steps");
    }
    let timeout = s.config.rules.wait.timeout_secs;
    let p = progress(s);
    // A hand-over of a job that is still following the rollout: not ours to advance yet.
    if let Some(until) = p.held_until.take().filter(|u| now < *u) {
        p.held_until = Some(until);
        s.notes.push(format!(
            "the job that began this rollout follows it until {until} (Unix time); this run leaves it alone"
        ));
        return done(s, Outcome::Detached);
    }
    p.deadline = Some(now.saturating_add(timeout));
    if p.revert_sent {
        return Some(Effect::GetGrayPlan);
    }
    if p.sent {
        return Some(if target(s) == 100 {
            Effect::GetVersionInfo
        } else {
            Effect::GetGrayPlan
        });
    }
    if p.step_started.is_some() {
        return schedule(s, now);
    }
    raise(s)
}

/// Raise to the current step's percentage (a full release at 100 %).
fn raise(s: &mut State) -> Option<Effect> {
    let pct = target(s);
    let p = progress(s);
    // The plan is read right before every raise (and before the final release): one reverted
    // or replaced in the console since the last look is never raised (or released) over.
    if !p.preread {
        return Some(Effect::GetGrayPlan);
    }
    p.tries += 1;
    if p.tries > MAX_MUTATION_TRIES {
        return fail(
            s,
            None,
            format!("raising the phased release to {pct} % kept failing after reading the plan back; see the log"),
        );
    }
    p.sent = true;
    p.preread = false;
    if pct == 100 {
        s.release_sent = true;
        Some(Effect::Release)
    } else {
        Some(Effect::GrayRelease(pct))
    }
}

/// Sleep until the next look, look now, or hand over when the look is past this process's
/// deadline.
fn schedule(s: &mut State, now: u64) -> Option<Effect> {
    let p = progress(s);
    let next = p.next_look.unwrap_or(now);
    if now >= next {
        return Some(Effect::GetGrayPlan);
    }
    if next > p.deadline.unwrap_or(now) {
        return done(s, Outcome::Detached);
    }
    Some(Effect::Sleep(next - now))
}

fn watch_of(s: &State) -> u64 {
    let step = s.rollout.as_ref().map_or(0, |p| p.step);
    spec(s)
        .and_then(|r| r.steps.get(step))
        .map_or(0, |st| st.watch_secs)
}

/// The step's percentage is confirmed: its watch begins.
fn confirmed(s: &mut State, percentage: u32, created: u64, now: u64) -> Option<Effect> {
    let watch = watch_of(s);
    s.published = true;
    let p = progress(s);
    p.sent = false;
    p.tries = 0;
    p.holds = 0;
    p.plan_created = Some(created);
    p.step_started = Some(now);
    p.next_look = Some(now.saturating_add(watch));
    p.changes.push((now, percentage));
    record(s, Look::Raised, now);
    let pct = target(s);
    if percentage > pct {
        s.notes.push(format!(
            "the phased release runs at {percentage} %, above this step's {pct} % (raised in the console?)"
        ));
    }
    schedule(s, now)
}

/// Events of the rollout stage.
#[allow(clippy::too_many_lines)]
pub(super) fn advance(
    s: &mut State,
    event: Event,
    pending: Option<Effect>,
    now: u64,
) -> Option<Effect> {
    match (event, pending) {
        (Event::GrayPlan { percentage, running, status, created }, Some(Effect::GetGrayPlan)) => {
            on_plan(s, percentage, running, status, created, now)
        }
        (Event::GrayReleased | Event::Refused(85082) | Event::Uncertain, Some(Effect::GrayRelease(_))) => {
            Some(Effect::GetGrayPlan)
        }
        (Event::Refused(85079), Some(Effect::GrayRelease(_))) => fail(s, Some(85079),
            "WeChat refuses a phased release for an app that has never been released: the first release must be full; publish without a rollout once, then roll out"),
        (Event::Released, Some(Effect::Release)) => {
            s.released = true;
            Some(Effect::GetVersionInfo)
        }
        (Event::Uncertain, Some(Effect::Release)) => Some(Effect::GetVersionInfo),
        (Event::Refused(85052), Some(Effect::Release)) => {
            s.released = true;
            Some(Effect::GetVersionInfo)
        }
        (Event::VersionInfo { live, .. }, Some(Effect::GetVersionInfo)) => {
            if s.release_sent && live.is_some() && live == s.version {
                progress(s).sent = false;
                record(s, Look::Released, now);
                progress(s).changes.push((now, 100));
                s.published = true;
                return done(s, Outcome::Published { phased: None });
            }
            if s.released {
                return fail(s, None, format!(
                    "release succeeded but WeChat shows {} live instead of {}",
                    live.as_deref().map_or_else(|| "nothing".to_owned(), clip),
                    s.version.as_deref().unwrap_or("?")
                ));
            }
            raise(s)
        }
        (Event::Slept, Some(Effect::Sleep(_))) => schedule(s, now),
        (
            Event::Health {
                new,
                old,
                crash_feedback,
                logs,
            },
            Some(Effect::GetHealth(q)),
        ) => on_health(s, &q, (new, old, crash_feedback, logs), now),
        (Event::GrayReverted | Event::Uncertain | Event::Refused(_), Some(Effect::RevertGray)) => {
            Some(Effect::GetGrayPlan)
        }
        (Event::Failed { code, message }, Some(Effect::GetHealth(_))) => {
            let pct = s.rollout.as_ref().and_then(|p| p.changes.last()).map_or(0, |c| c.1);
            s.in_doubt = true;
            fail(s, code, format!(
                "the health of the new version could not be read ({message}); the phased release stays at {pct} % \
                 and nothing was raised. Fix the cause (the data APIs need permission set 18 on a platform) and resume"
            ))
        }
        (Event::Refused(code), Some(effect)) => fail(s, Some(code), format!("{} was refused", effect.name())),
        (Event::Failed { code, message }, Some(_)) => fail(s, code, message),
        (Event::Uncertain, Some(effect)) => halt(s, format!(
            "{} failed and its state could not be read back; the rollout stopped where it was", effect.name()
        )),
        (event, pending) => fail(s, None, format!(
            "internal: event {event:?} does not fit the pending effect {pending:?} in the rollout"
        )),
    }
}

fn on_plan(
    s: &mut State,
    percentage: u32,
    running: bool,
    status: u8,
    created: u64,
    now: u64,
) -> Option<Effect> {
    let pct = target(s);
    let p = progress(s).clone();
    let ours = p.plan_created.is_none_or(|c| c == created);
    if p.revert_sent {
        let why = p.unhealthy.clone().unwrap_or_default();
        if !running || !ours {
            let reached = p.changes.last().map_or(0, |c| c.1);
            record(s, Look::Reverted, now);
            return done(
                s,
                Outcome::Unhealthy {
                    reverted: true,
                    percent: reached,
                    why,
                },
            );
        }
        let p = progress(s);
        p.tries += 1;
        if p.tries > MAX_MUTATION_TRIES {
            return halt(s, format!("revertgrayrelease did not end the phased release after {MAX_MUTATION_TRIES} tries; revert it in the console. {why}"));
        }
        return Some(Effect::RevertGray);
    }
    if p.sent {
        if running && ours && percentage >= pct {
            return confirmed(s, percentage, created, now);
        }
        if !running && p.plan_created.is_some() {
            return gone(s, status);
        }
        if running && !ours {
            return replaced(s, created);
        }
        // The raise did not land (or landed lower): send it again, bounded.
        s.notes.push(format!(
            "the phased release is not at {pct} % yet (WeChat shows {percentage} %, status {status}); raising again"
        ));
        // What was just read is the read before the raise.
        progress(s).preread = true;
        return raise(s);
    }
    if p.step_started.is_some() {
        if !running {
            return gone(s, status);
        }
        if !ours {
            return replaced(s, created);
        }
        let started = p.step_started.unwrap_or(now);
        let version = s.version.clone().unwrap_or_default();
        let marker = spec(s).and_then(|r| r.log_marker.clone());
        let log_filters = match (marker, &p.previous) {
            (Some(m), Some(prev)) => Some((
                m.replace("{version}", &version),
                m.replace("{version}", prev),
            )),
            _ => None,
        };
        return Some(Effect::GetHealth(HealthQuery {
            version,
            previous: p.previous,
            errors_since: beijing_day_start(started),
            feedback_since: started,
            until: now,
            log_filters,
            log_since: started.max(beijing_day_start(now)),
        }));
    }
    // Right before a raise. The first: a running plan is not this run's.
    if p.plan_created.is_none() && running {
        return halt(s, format!(
            "a phased release is already running at {percentage} % (created at {created}), and this run did not start it: \
             raising it would phase whatever it is phasing. End it in the console (or with revertgrayrelease), then rerun"
        ));
    }
    // A later one: the plan must still be this rollout's, running.
    if p.plan_created.is_some() {
        if !running {
            return gone(s, status);
        }
        if !ours {
            return replaced(s, created);
        }
    }
    progress(s).preread = true;
    raise(s)
}

/// The plan this rollout raised ended without this rollout (reverted or released in the console).
fn gone(s: &mut State, status: u8) -> Option<Effect> {
    let word = match status {
        3 => "finished",
        4 => "deleted (reverted)",
        2 => "paused",
        _ => "not running",
    };
    halt(s, format!(
        "the phased release this rollout started is {word} (status {status}) and this run did not do it: \
         somebody changed it in the console. Nothing was raised or reverted; look at the app, then decide by hand"
    ))
}

fn replaced(s: &mut State, created: u64) -> Option<Effect> {
    let was = s
        .rollout
        .as_ref()
        .and_then(|p| p.plan_created)
        .unwrap_or_default();
    halt(s, format!(
        "the running phased release was created at {created}, not the one this rollout started (created at {was}): \
         somebody started another. Nothing was raised or reverted"
    ))
}

/// What a look read: the versions' errors, crash feedback, real-time log error users.
type Figures = (
    crate::health::VersionErrors,
    crate::health::VersionErrors,
    u64,
    Option<(u64, u64)>,
);

fn on_health(s: &mut State, q: &HealthQuery, figures: Figures, now: u64) -> Option<Effect> {
    let (new, old, crash_feedback, logs) = figures;
    let Some(rs) = spec(s).cloned() else {
        return fail(s, None, "internal: no rollout spec");
    };
    let p = progress(s).clone();
    let share = share_over(&p.changes, q.errors_since, now);
    let sample = Sample {
        new,
        old,
        share,
        crash_feedback,
        logs: logs.map(|(new_users, old_users)| crate::health::LogSample {
            new_users,
            old_users,
            share: share_over(&p.changes, q.log_since, now),
        }),
    };
    let last = p.holds >= rs.max_holds;
    let j = judge(&sample, &rs.thresholds, last);
    let pct = target(s);
    let (word, why) = match &j.verdict {
        Verdict::Raise => (Look::Raise, None),
        Verdict::Hold { why } => (Look::Hold, Some(why.clone())),
        Verdict::Blind { why } => (Look::Blind, Some(why.clone())),
        Verdict::Revert { why } => (
            if rs.on_unhealthy == OnUnhealthy::Revert {
                Look::Revert
            } else {
                Look::Unhealthy
            },
            Some(why.clone()),
        ),
    };
    progress(s).history.push(StepRecord {
        percent: pct,
        at: now,
        verdict: word,
        why,
        new_users: sample.new.users(),
        old_users: sample.old.users(),
        crash_feedback,
        share: Some(share),
        ratio: j.ratio,
        worst: j
            .new_signatures
            .first()
            .or_else(|| top(&sample.new))
            .cloned(),
        log_users: logs,
    });
    match j.verdict {
        Verdict::Blind { why } => {
            let version = s.version.clone().unwrap_or_default();
            halt(s, format!(
                "{why}. Nothing was raised or reverted: the phased release stays at {pct} %. Check that the console shows \
                 the version as {version}; raise or revert it by hand, or resume once the errors of {version} can be read"
            ))
        }
        Verdict::Raise => {
            let steps = rs.steps.len();
            let p = progress(s);
            if p.step + 1 >= steps {
                // The last step is below 100 %: the rollout ends there, phased.
                s.published = true;
                return done(s, Outcome::Published { phased: Some(pct) });
            }
            p.step += 1;
            p.sent = false;
            p.preread = false;
            p.tries = 0;
            p.holds = 0;
            p.step_started = None;
            p.next_look = None;
            raise(s)
        }
        Verdict::Hold { why } => {
            let watch = watch_of(s).max(60);
            let p = progress(s);
            p.holds += 1;
            p.next_look = Some(now.saturating_add(watch));
            s.notes.push(format!("holding at {pct} %: {why}"));
            schedule(s, now)
        }
        Verdict::Revert { why } => {
            let worst = j.new_signatures.first().or_else(|| top(&sample.new));
            let why = evidence(&why, &sample, worst);
            if rs.on_unhealthy == OnUnhealthy::Hold {
                return done(
                    s,
                    Outcome::Unhealthy {
                        reverted: false,
                        percent: pct,
                        why,
                    },
                );
            }
            let p = progress(s);
            p.revert_sent = true;
            p.tries = 0;
            p.unhealthy = Some(why);
            Some(Effect::RevertGray)
        }
    }
}

/// The new version's most widespread error.
fn top(v: &crate::health::VersionErrors) -> Option<&crate::health::Signature> {
    v.signatures.values().max_by_key(|s| (s.users, s.events))
}

/// The evidence of an unhealthy verdict: the gate's words, the figures per version, the worst
/// new error and its stack head.
fn evidence(why: &str, s: &Sample, worst: Option<&crate::health::Signature>) -> String {
    let mut text = format!(
        "{why}. Error users: new version {} ({} events), previous version {} ({} events); the new version's share {:.1} %; crash feedback {}",
        s.new.users(),
        s.new.events(),
        s.old.users(),
        s.old.events(),
        s.share * 100.0,
        s.crash_feedback
    );
    if let Some(w) = worst {
        text.push_str(&format!(
            ". Worst error of the new version: {} ({} users) at {}",
            clip(&w.message),
            w.users,
            clip(&w.stack_head)
        ));
    }
    text
}

#[cfg(test)]
mod tests;
