//! A simulated WeChat (a live version, one gray plan, the health figures as a function of the
//! percentage) drives the rollout stage: the journal of mutations must come out the same whether
//! answers are lost, the process stops after any step, or a later process picks the state up.

use super::super::tests::config;
use super::super::*;
use crate::health::{Signature, Thresholds, VersionErrors};

fn errors(users: u64) -> VersionErrors {
    let mut v = VersionErrors::default();
    if users > 0 {
        v.signatures.insert(
            "m:s".into(),
            Signature {
                message: "TypeError: cannot read property 'id' of undefined".into(),
                stack_head: "at onLoad (pages/index/index.js:12:7)".into(),
                users,
                events: users * 2,
            },
        );
    }
    v
}

fn spec(steps: &[u32], on: OnUnhealthy) -> RolloutSpec {
    RolloutSpec {
        steps: steps
            .iter()
            .map(|&percent| RolloutStep {
                percent,
                watch_secs: 3600,
            })
            .collect(),
        on_unhealthy: on,
        thresholds: Thresholds::default(),
        max_holds: 2,
        log_marker: None,
    }
}

/// An approved version (1.3.0) waiting to be published over 1.2.0.
fn approved(rollout: RolloutSpec, timeout: u64) -> State {
    let mut c = config();
    c.rules.publish.rollout = Some(rollout);
    c.rules.wait.timeout_secs = timeout;
    let mut s = State::new(
        c,
        Some(("1.3.0".into(), Some("1.2.0".into()), "minor".into())),
    );
    s.audit_id = Some(9);
    s.review = Some(Review {
        status: 0,
        reason: String::new(),
        screenshot: String::new(),
    });
    s.at(Stage::Publish)
}

/// The figures a look gets (error users of the new and the old version, crash feedback) from
/// the users each version had over the look's window (an app of twenty million users a day,
/// used evenly), the percentage now and the look's number.
type Health = Box<dyn Fn(f64, f64, u32, u32) -> (u64, u64, u64)>;

const DAILY_USERS: f64 = 20_000_000.0;

struct Wx {
    now: u64,
    live: String,
    plan: (u8, u32, u64),
    journal: Vec<String>,
    /// Lose the answer of every mutation (it happened; the runner says Uncertain).
    lossy: bool,
    /// How many looks were made (health reads), by percentage.
    looks: Vec<u32>,
    health: Health,
    /// A running plan that this run did not start, before anything was sent.
    foreign_plan: bool,
    /// The plan is reverted in the console after this many looks.
    console_revert_after: Option<usize>,
    /// When the new version's share changed: (time, percent).
    exposure: Vec<(u64, u32)>,
    /// Every call answered (reads and mutations).
    calls: usize,
}

impl Wx {
    fn new(health: Health) -> Self {
        Self {
            now: 1_000_000,
            live: "1.2.0".into(),
            plan: (0, 0, 0),
            journal: Vec::new(),
            lossy: false,
            looks: Vec::new(),
            health,
            foreign_plan: false,
            console_revert_after: None,
            exposure: Vec::new(),
            calls: 0,
        }
    }

    /// Users of the new and the old version over `[from, now)`.
    #[allow(clippy::cast_precision_loss)]
    fn users(&self, from: u64) -> (f64, f64) {
        let (mut new, mut old) = (0.0, 0.0);
        let mut t = from;
        let mut pct = self
            .exposure
            .iter()
            .rfind(|c| c.0 <= from)
            .map_or(0, |c| c.1);
        for &(at, p) in self.exposure.iter().filter(|c| c.0 > from) {
            let span = (at - t) as f64 / 86_400.0;
            new += span * f64::from(pct) / 100.0;
            old += span * f64::from(100 - pct) / 100.0;
            (t, pct) = (at, p);
        }
        let span = (self.now - t) as f64 / 86_400.0;
        new += span * f64::from(pct) / 100.0;
        old += span * f64::from(100 - pct) / 100.0;
        (new * DAILY_USERS, old * DAILY_USERS)
    }

    fn exposed(&mut self) {
        let pct = match self.plan.0 {
            1 => self.plan.1,
            _ if self.live == "1.3.0" => 100,
            _ => 0,
        };
        self.exposure.push((self.now, pct));
    }

    fn answer(&mut self, e: &Effect) -> Event {
        if !matches!(e, Effect::Sleep(_)) {
            self.calls += 1;
        }
        let ok = |wx: &Self, ev: Event| if wx.lossy { Event::Uncertain } else { ev };
        match e {
            Effect::GetVersionInfo => Event::VersionInfo {
                live: Some(self.live.clone()),
                trial: None,
                trial_desc: None,
                trial_time: None,
            },
            Effect::GetGrayPlan => {
                if self.foreign_plan && self.journal.is_empty() {
                    return Event::GrayPlan {
                        percentage: 10,
                        running: true,
                        status: 1,
                        created: 5,
                    };
                }
                let (status, percentage, created) = self.plan;
                Event::GrayPlan {
                    percentage,
                    running: status == 1,
                    status,
                    created,
                }
            }
            Effect::GrayRelease(p) => {
                if self.plan.0 == 1 && *p <= self.plan.1 {
                    return Event::Refused(85082);
                }
                self.journal.push(format!("gray {p}"));
                if self.plan.0 == 1 {
                    self.plan.1 = *p;
                } else {
                    self.plan = (1, *p, self.now);
                }
                self.exposed();
                ok(self, Event::GrayReleased)
            }
            Effect::Release => {
                if self.live == "1.3.0" {
                    return Event::Refused(85052);
                }
                self.journal.push("release".into());
                self.live = "1.3.0".into();
                if self.plan.0 == 1 {
                    self.plan.0 = 3;
                }
                self.exposed();
                ok(self, Event::Released)
            }
            Effect::RevertGray => {
                self.journal.push("revert".into());
                if self.plan.0 == 1 {
                    self.plan.0 = 4;
                }
                self.exposed();
                ok(self, Event::GrayReverted)
            }
            Effect::GetHealth(q) => {
                assert_eq!(q.version, "1.3.0");
                assert_eq!(q.previous.as_deref(), Some("1.2.0"));
                self.looks.push(self.plan.1);
                if self.console_revert_after == Some(self.looks.len()) {
                    self.plan.0 = 4;
                }
                let (nu, ou) = self.users(q.errors_since);
                let look = u32::try_from(self.looks.len()).unwrap();
                let (new, old, crash) = (self.health)(nu, ou, self.plan.1, look);
                Event::Health {
                    new: errors(new),
                    old: errors(old),
                    crash_feedback: crash,
                    logs: None,
                }
            }
            Effect::Sleep(secs) => {
                self.now += secs;
                Event::Slept
            }
            other => panic!("unexpected effect {other:?}"),
        }
    }
}

/// Drives `s` to its end; with `crash`, the state is saved and reloaded (a new process) after
/// every step, as the runner persists it before every effect.
fn drive(wx: &mut Wx, mut s: State, crash: bool) -> State {
    let mut event = Event::Start;
    let mut died_before: Vec<String> = Vec::new();
    for _ in 0..500 {
        let t = step(&s, event, wx.now);
        s = t.next;
        let Some(effect) = t.effect else { return s };
        if crash && effect.is_mutation() {
            // The process dies around every mutation: the first time before sending it, the
            // next time after sending it (its answer lost). Each time a new process loads the
            // saved state (the runner saved it before the effect) and starts over.
            let key = format!("{effect:?} {}", wx.journal.len());
            if died_before.contains(&key) {
                let _lost = wx.answer(&effect);
            } else {
                died_before.push(key);
            }
            let saved = serde_json::to_string(&s).unwrap();
            s = serde_json::from_str(&saved).unwrap();
            event = Event::Start;
            continue;
        }
        event = wx.answer(&effect);
    }
    panic!("the rollout did not end: {s:?}");
}

/// Error users at `per_mille` of a version's users.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn rate(users: f64, per_mille: f64) -> u64 {
    (users * per_mille / 1000.0).round() as u64
}

fn healthy() -> Health {
    // both versions: 5 ‰ of their users have an error (at 1 % for an hour: ~42 error users)
    Box::new(|new, old, _, _| (rate(new, 5.0), rate(old, 5.0), 0))
}

/// From 5 % on, the new version is four times as error-prone as the old one (a code path that
/// only some users reach: at 1 % nothing shows).
fn spike_at_five() -> Health {
    Box::new(|new, old, pct, _| {
        let r = if pct >= 5 { 20.0 } else { 5.0 };
        (rate(new, r), rate(old, 5.0), 0)
    })
}

#[test]
fn a_healthy_rollout_raises_step_by_step_then_releases() {
    for (lossy, crash) in [(false, false), (true, false), (false, true), (true, true)] {
        let mut wx = Wx::new(healthy());
        wx.lossy = lossy;
        let end = drive(
            &mut wx,
            approved(spec(&[1, 5, 20, 100], OnUnhealthy::Revert), 30 * 86_400),
            crash,
        );
        assert_eq!(
            end.outcome,
            Some(Outcome::Published { phased: None }),
            "{lossy} {crash}: {:?}",
            end.notes
        );
        assert_eq!(
            wx.journal,
            ["gray 1", "gray 5", "gray 20", "release"],
            "{lossy} {crash}"
        );
        assert_eq!(wx.looks, [1, 5, 20], "one look per watched step");
        let r = end.rollout.unwrap();
        let verdicts: Vec<&str> = r.history.iter().map(|h| h.verdict.as_str()).collect();
        assert_eq!(
            verdicts,
            ["raised", "raise", "raised", "raise", "raised", "raise", "released"]
        );
        assert_eq!(
            r.changes.iter().map(|c| c.1).collect::<Vec<_>>(),
            [1, 5, 20, 100]
        );
        assert!(end.published);
        // the looks come a watch window after each raise
        assert!(r.history[1].at - r.history[0].at >= 3600);
    }
}

#[test]
fn an_error_spike_at_five_percent_reverts_once() {
    for (lossy, crash) in [(false, false), (true, false), (false, true), (true, true)] {
        let mut wx = Wx::new(spike_at_five());
        wx.lossy = lossy;
        let end = drive(
            &mut wx,
            approved(spec(&[1, 5, 20, 100], OnUnhealthy::Revert), 30 * 86_400),
            crash,
        );
        match &end.outcome {
            Some(Outcome::Unhealthy {
                reverted: true,
                percent: 5,
                why,
            }) => {
                assert!(why.contains("max-error-ratio"), "{why}");
                assert!(why.contains("TypeError: cannot read property"), "{why}");
                assert!(
                    why.contains("at onLoad (pages/index/index.js:12:7)"),
                    "{why}"
                );
            }
            other => panic!("{lossy} {crash}: {other:?} {:?}", end.notes),
        }
        assert_eq!(
            wx.journal,
            ["gray 1", "gray 5", "revert"],
            "{lossy} {crash}"
        );
        assert_eq!(wx.plan.0, 4);
        assert_eq!(wx.live, "1.2.0", "the live version never moved");
        assert_eq!(
            crate::github::CheckState::of(&end),
            crate::github::CheckState::Completed(crate::github::Conclusion::Failure)
        );
    }
}

#[test]
fn crash_feedback_over_the_limit_reverts() {
    let mut wx = Wx::new(Box::new(|new, old, pct, _| {
        (
            rate(new, 5.0),
            rate(old, 5.0),
            if pct >= 20 { 9 } else { 0 },
        )
    }));
    let end = drive(
        &mut wx,
        approved(spec(&[1, 5, 20, 100], OnUnhealthy::Revert), 30 * 86_400),
        false,
    );
    assert!(
        matches!(&end.outcome, Some(Outcome::Unhealthy { reverted: true, percent: 20, why }) if why.contains("9 crash reports")),
        "{:?}",
        end.outcome
    );
    assert_eq!(wx.journal, ["gray 1", "gray 5", "gray 20", "revert"]);
}

#[test]
fn on_unhealthy_hold_leaves_the_release_where_it_is() {
    let mut wx = Wx::new(spike_at_five());
    let end = drive(
        &mut wx,
        approved(spec(&[1, 5, 100], OnUnhealthy::Hold), 30 * 86_400),
        false,
    );
    assert!(
        matches!(
            end.outcome,
            Some(Outcome::Unhealthy {
                reverted: false,
                percent: 5,
                ..
            })
        ),
        "{:?}",
        end.outcome
    );
    assert_eq!(wx.journal, ["gray 1", "gray 5"]);
    assert_eq!(wx.plan, (1, 5, wx.plan.2), "still running at 5 %");
}

#[test]
fn a_small_sample_holds_then_raises() {
    // a quiet hour first (a handful of error users), then the usual rate
    let mut wx = Wx::new(Box::new(|new, old, _, look| {
        if look == 1 {
            (0, 3, 0)
        } else {
            (rate(new, 5.0), rate(old, 5.0), 0)
        }
    }));
    let end = drive(
        &mut wx,
        approved(spec(&[1, 100], OnUnhealthy::Revert), 30 * 86_400),
        false,
    );
    assert_eq!(end.outcome, Some(Outcome::Published { phased: None }));
    assert_eq!(wx.looks, [1, 1], "held once, then judged");
    assert_eq!(wx.journal, ["gray 1", "release"]);
    let r = end.rollout.unwrap();
    assert_eq!(r.history[1].verdict, Look::Hold);
    assert!(r.history[1]
        .why
        .as_deref()
        .unwrap()
        .contains("below the sample"));
}

#[test]
fn a_sample_that_stays_small_is_judged_at_the_last_hold() {
    // nothing ever: after max-holds (2) the third look judges (ratio 1: raise)
    let mut wx = Wx::new(Box::new(|_, _, _, _| (0, 0, 0)));
    let end = drive(
        &mut wx,
        approved(spec(&[5, 50], OnUnhealthy::Revert), 30 * 86_400),
        false,
    );
    assert_eq!(end.outcome, Some(Outcome::Published { phased: Some(50) }));
    assert_eq!(wx.looks, [5, 5, 5, 50, 50, 50]);
    assert_eq!(
        wx.journal,
        ["gray 5", "gray 50"],
        "a last step below 100 % ends phased"
    );
}

#[test]
fn a_look_past_the_deadline_hands_over_and_a_later_process_goes_on() {
    let mut wx = Wx::new(healthy());
    // this job follows for 30 min; each step watches an hour
    let first = drive(
        &mut wx,
        approved(spec(&[1, 5, 100], OnUnhealthy::Revert), 1800),
        false,
    );
    assert_eq!(first.outcome, Some(Outcome::Detached));
    assert_eq!(wx.journal, ["gray 1"]);
    let r = first.rollout.clone().unwrap();
    assert_eq!((r.step, r.changes.len()), (0, 1));
    // the hand-over carries it to another job (check run external_id) …
    let h = crate::github::Handover::of(&first).unwrap();
    let h = crate::github::Handover::decode(&h.encode()).unwrap();
    // … which, while the first job still follows it (until its deadline), calls nothing at all
    let mut s = approved(spec(&[1, 5, 100], OnUnhealthy::Revert), 0).at(Stage::Rollout);
    s.rollout = h.rollout;
    s.published = true;
    assert_eq!(s.rollout.as_ref().unwrap().held_until, r.deadline);
    let calls = wx.calls;
    let held = drive(&mut wx, s.clone(), false);
    assert_eq!(
        (held.outcome.clone(), wx.calls),
        (Some(Outcome::Detached), calls)
    );
    assert!(
        held.notes[0].contains("follows it until"),
        "{:?}",
        held.notes
    );
    // the hand-over it writes back still names the first job's deadline (a second resume
    // leaves it alone too)
    let again = crate::github::Handover::of(&held).unwrap().encode();
    let again = crate::github::Handover::decode(&again).unwrap();
    assert_eq!(again.rollout.unwrap().held_until, r.deadline);
    // after that deadline but before the look: nothing is judged, it hands over again
    wx.now = r.deadline.unwrap();
    let early = drive(&mut wx, s.clone(), false);
    assert_eq!(
        (early.outcome, wx.looks.len()),
        (Some(Outcome::Detached), 0)
    );
    // an hour later: one look, one raise, and a hand-over for the next step
    wx.now += 3600;
    let later = drive(&mut wx, s, false);
    assert_eq!(later.outcome, Some(Outcome::Detached));
    assert_eq!(wx.journal, ["gray 1", "gray 5"]);
    assert_eq!(later.rollout.as_ref().unwrap().step, 1);
}

#[test]
fn a_plan_this_run_did_not_start_stops_before_any_raise() {
    let mut wx = Wx::new(healthy());
    wx.foreign_plan = true;
    let end = drive(
        &mut wx,
        approved(spec(&[1, 100], OnUnhealthy::Revert), 30 * 86_400),
        false,
    );
    assert!(end.in_doubt, "exit 3");
    assert!(
        matches!(&end.outcome, Some(Outcome::Failed { message, .. }) if message.contains("did not start it"))
    );
    assert!(wx.journal.is_empty());
}

#[test]
fn a_plan_ended_in_the_console_stops_the_rollout() {
    let mut wx = Wx::new(healthy());
    wx.console_revert_after = Some(1);
    let end = drive(
        &mut wx,
        approved(spec(&[1, 5, 100], OnUnhealthy::Revert), 30 * 86_400),
        false,
    );
    // reverted by hand while the first look read the figures: the read before the raise sees
    // it, and nothing is raised over it (a grayrelease now would start a new plan)
    assert!(end.in_doubt);
    assert!(
        matches!(&end.outcome, Some(Outcome::Failed { message, .. }) if message.contains("deleted (reverted)")),
        "{:?}",
        end.outcome
    );
    assert_eq!(wx.journal, ["gray 1"]);
    // stopped: no next look is promised
    let summary = crate::report::summary(&end, "mp-release");
    assert!(
        summary.contains("**Rollout**") && !summary.contains("Next look"),
        "{summary}"
    );
}

#[test]
fn our_version_already_live_is_not_rolled_out() {
    let mut wx = Wx::new(healthy());
    wx.live = "1.3.0".into();
    let end = drive(
        &mut wx,
        approved(spec(&[1, 100], OnUnhealthy::Revert), 30 * 86_400),
        false,
    );
    assert!(end.in_doubt);
    assert!(wx.journal.is_empty());
}

#[test]
fn the_rollout_status_output() {
    let mut wx = Wx::new(healthy());
    let end = drive(
        &mut wx,
        approved(spec(&[1, 5, 100], OnUnhealthy::Revert), 1800),
        false,
    );
    let v = crate::report::rollout_status(&end).unwrap();
    assert_eq!(
        (
            v["state"].as_str(),
            v["step"].as_u64(),
            v["steps"].as_u64(),
            v["percent"].as_u64()
        ),
        (Some("rolling"), Some(1), Some(3), Some(1))
    );
    assert!(v["next-look"].as_u64().unwrap() > wx.now);
    let summary = crate::report::summary(&end, "mp-release");
    assert!(summary.contains("**Rollout**"), "{summary}");
    assert!(summary.contains("rolling out at 1 %"), "{summary}");
    assert!(summary.contains("Next look:"), "{summary}");
}

/// A saved state that detached mid-rollout is handed to the next run (its steps, this run's
/// thresholds, the versions it was released between); any other saved state is not.
#[test]
fn a_detached_rollout_is_handed_over_and_nothing_else() {
    let mut saved = State::new(
        config(),
        Some(("1.5.0".into(), Some("1.4.2".into()), "minor".into())),
    );
    saved.config.rules.publish.rollout = Some(spec(&[5, 100], OnUnhealthy::Revert));
    saved.stage = Stage::Done;
    saved.outcome = Some(Outcome::Detached);
    saved.published = true;
    saved.audit_id = Some(7);
    saved.rollout = Some(RolloutProgress {
        step: 0,
        changes: vec![(100, 5)],
        ..RolloutProgress::default()
    });
    let mut cfg = config();
    let mut own = spec(&[1, 50, 100], OnUnhealthy::Hold);
    own.max_holds = 9;
    cfg.rules.publish.rollout = Some(own);
    let next = saved.rollout_handed_over(cfg.clone()).expect("handed over");
    assert_eq!(next.stage, Stage::Rollout);
    assert_eq!(
        (
            next.version.as_deref(),
            next.previous_version.as_deref(),
            next.audit_id
        ),
        (Some("1.5.0"), Some("1.4.2"), Some(7))
    );
    let r = next.config.rules.publish.rollout.as_ref().unwrap();
    assert_eq!(
        (r.steps.len(), r.on_unhealthy, r.max_holds),
        (2, OnUnhealthy::Revert, 9),
        "the steps it began with, this run's thresholds"
    );
    assert_eq!(next.rollout, saved.rollout);
    // a finished rollout, a detached review, an unpublished one: no
    for change in [
        |s: &mut State| s.outcome = Some(Outcome::Published { phased: None }),
        |s: &mut State| s.rollout = None,
        |s: &mut State| s.published = false,
    ] {
        let mut other = saved.clone();
        change(&mut other);
        assert!(other.rollout_handed_over(cfg.clone()).is_none());
    }
}
