//! Transition tests: every arm of `step`, resume from every stage, and a simulated WeChat that
//! loses answers after mutations (no effect may happen twice).

use super::*;
use crate::version::{BumpLevel, BumpRequest};

pub(crate) fn config() -> Config {
    Config {
        appid: "wxa1a1a1a1a1a1a1a1".into(),
        template: Some(CommitSpec {
            template_id: 7,
            ext_json: "{}".into(),
            desc: "d".into(),
        }),
        bump: BumpSpec {
            bump: BumpRequest::Level(BumpLevel::Minor),
            ..BumpSpec::default()
        },
        rules: Rules {
            privacy_api_not_use: false,
            privacy_poll_secs: 30,
            on_existing: OnExisting::Fail,
            speedup: false,
            wait: WaitSpec {
                first_secs: 60,
                max_secs: 600,
                timeout_secs: 3600,
            },
            publish: PublishSpec::default(),
            allow_downgrade: false,
        },
        upload: false,
        marker: Some(MARK.into()),
    }
}

/// The run's identity marker in the tests' config.
const MARK: &str = "mp-release#000000000001";

/// `getversioninfo` whose trial (if any) carries this run's marker.
fn vi(live: Option<String>, trial: Option<String>) -> Event {
    let trial_desc = trial.as_ref().map(|_| format!("d [{MARK}]"));
    Event::VersionInfo {
        live,
        trial,
        trial_desc,
        trial_time: Some(50),
    }
}

/// `getversioninfo` whose trial has the version string but another run's description.
fn vi_foreign(trial: &str) -> Event {
    Event::VersionInfo {
        live: Some("1.2.0".into()),
        trial: Some(trial.into()),
        trial_desc: Some("d [mp-release#ffffffffffff]".into()),
        trial_time: Some(50),
    }
}

fn fresh() -> State {
    State::new(config(), None)
}

fn known(v: &str) -> State {
    State::new(
        config(),
        Some((v.into(), Some("1.0.0".into()), "minor".into())),
    )
}

/// Sets up `state` as if `pending` were being performed in `stage`.
fn at(mut state: State, stage: Stage, pending: Effect) -> State {
    state.stage = stage;
    state.pending = Some(pending);
    state
}

fn info(auditid: u64, status: u8, version: &str) -> AuditInfo {
    AuditInfo {
        auditid,
        status,
        user_version: version.into(),
        reason: "r".into(),
        screenshot: "m1".into(),
        submit_time: 1,
    }
}

fn status(status: u8) -> Event {
    Event::AuditStatus {
        status,
        reason: if status == 1 {
            "bad icon".into()
        } else {
            String::new()
        },
        screenshot: String::new(),
    }
}

#[test]
fn happy_path_trace() {
    let mut s = fresh();
    let mut now = 1000;
    let mut trace = Vec::new();
    let mut event = Event::Start;
    let answers = |e: &Effect, polls: &mut u32| -> Event {
        match e {
            Effect::GetVersionInfo => vi(Some("1.2.0".into()), Some("1.2.9".into())),
            Effect::Commit => Event::Committed,
            Effect::GetPrivacyInfo => Event::Privacy {
                without_auth: vec![],
                without_conf: vec![],
            },
            Effect::QueryQuota => Event::Quota(Quota {
                rest: 9,
                limit: 10,
                speedup_rest: 1,
                speedup_limit: 1,
            }),
            Effect::GetLatestAudit => Event::LatestAudit(None),
            Effect::Submit => Event::Submitted { auditid: 42 },
            Effect::Sleep(_) => Event::Slept,
            Effect::GetAuditStatus => {
                *polls += 1;
                status(if *polls < 3 { 2 } else { 0 })
            }
            Effect::Release => Event::Released,
            other => panic!("unexpected {other:?}"),
        }
    };
    let mut polls = 0;
    let mut live_after_release = false;
    loop {
        let t = step(&s, event, now);
        s = t.next;
        let Some(effect) = t.effect else { break };
        trace.push(effect.name());
        event = match (&effect, live_after_release) {
            (Effect::GetVersionInfo, true) => vi(Some("1.3.0".into()), None),
            _ => answers(&effect, &mut polls),
        };
        if effect == Effect::Release {
            live_after_release = true;
        }
        if let Effect::Sleep(secs) = effect {
            now += secs;
        }
    }
    assert_eq!(
        trace,
        [
            "getversioninfo",
            "commit",
            "get_code_privacy_info",
            "queryquota",
            "get_latest_auditstatus",
            "submit_audit",
            "sleep",
            "get_auditstatus",
            "sleep",
            "get_auditstatus",
            "sleep",
            "get_auditstatus",
            "getversioninfo",
            "release",
            "getversioninfo"
        ]
    );
    assert_eq!(s.outcome, Some(Outcome::Published { phased: None }));
    assert_eq!(
        (
            s.version.as_deref(),
            s.previous_version.as_deref(),
            s.bump.as_deref()
        ),
        (Some("1.3.0"), Some("1.2.0"), Some("minor"))
    );
    assert_eq!(s.audit_id, Some(42));
    assert_eq!(
        s.quota.map(|q| q.rest),
        Some(8),
        "the quota read before submitting, less this review"
    );
    assert_eq!(s.stage, Stage::Done);
    let stages: Vec<&str> = s.timeline.iter().map(|sp| sp.stage.name()).collect();
    assert_eq!(
        stages,
        ["version", "commit", "precheck", "submit", "wait", "publish"]
    );
    assert!(s.timeline.iter().all(|sp| sp.end.is_some()));
    // the intervals grew: 60, 90, 135
    assert_eq!(s.next_poll_secs, 202);
}

#[test]
fn start_resumes_every_stage_with_its_safe_first_effect() {
    let mut committed = known("1.3.0");
    committed.commit_sent = true;
    let mut waiting = known("1.3.0");
    waiting.audit_id = Some(5);
    let cases = [
        (fresh().at(Stage::Version), Some(Effect::GetVersionInfo)),
        (known("1.3.0").at(Stage::Version), Some(Effect::Commit)),
        (committed.at(Stage::Commit), Some(Effect::GetVersionInfo)),
        (
            known("1.3.0").at(Stage::Precheck),
            Some(Effect::GetPrivacyInfo),
        ),
        (known("1.3.0").at(Stage::Submit), Some(Effect::QueryQuota)),
        (known("1.3.0").at(Stage::Wait), Some(Effect::GetLatestAudit)),
        (waiting.at(Stage::Wait), Some(Effect::GetAuditStatus)),
        (
            known("1.3.0").at(Stage::Publish),
            Some(Effect::GetVersionInfo),
        ),
        (known("1.3.0").at(Stage::Done), None),
    ];
    for (state, want) in cases {
        let stage = state.stage;
        assert_eq!(step(&state, Event::Start, 0).effect, want, "{stage:?}");
    }
    let mut no_template = known("1.3.0");
    no_template.config.template = None;
    assert_eq!(
        step(&no_template, Event::Start, 0).effect,
        Some(Effect::GetPrivacyInfo),
        "upload mode skips commit"
    );
    let mut never = known("1.3.0");
    never.config.rules.publish.never = true;
    assert_eq!(
        step(&never.at(Stage::Publish), Event::Start, 0)
            .next
            .outcome,
        Some(Outcome::Approved)
    );
}

type Row = (&'static str, State, Event, Option<Effect>, Option<Outcome>);

fn rows() -> Vec<Row> {
    let k = || known("1.3.0");
    let mut attach = k();
    attach.config.rules.on_existing = OnExisting::Attach;
    let mut withdraw = k();
    withdraw.config.rules.on_existing = OnExisting::Withdraw;
    let mut sent = k();
    sent.submit_sent = true;
    // The trial this run proved its own appeared at WeChat time 1 (`info` reviews are submitted at 1).
    let mut proven = k();
    proven.trial_time = Some(1);
    let mut later_trial = k();
    later_trial.trial_time = Some(5);
    let mut refused = k();
    refused.refused_85009 = true;
    let mut downgrade_ok = k();
    downgrade_ok.config.rules.allow_downgrade = true;
    let mut release_sent = k();
    release_sent.release_sent = true;
    let mut not_use = k();
    not_use.config.rules.privacy_api_not_use = true;
    let mut gray = k();
    gray.config.rules.publish.gray_percentage = Some(20);
    let mut gray_sent = gray.clone();
    gray_sent.release_sent = true;
    let mut released = k();
    released.released = true;
    let mut speedup = k();
    speedup.config.rules.speedup = true;
    let mut detach = k();
    detach.config.rules.wait.timeout_secs = 0;
    let mut waiting = k();
    waiting.audit_id = Some(9);
    waiting.wait_started_at = Some(0);
    let mut version_bad = fresh();
    version_bad.config.bump.preid = Some("bad.id".into());
    version_bad.config.bump.bump = BumpRequest::Level(BumpLevel::Prepatch);
    let failed = |m: &str| {
        Some(Outcome::Failed {
            code: None,
            message: m.into(),
        })
    };
    vec![
        (
            "version from live",
            at(fresh(), Stage::Version, Effect::GetVersionInfo),
            vi(Some("2.0.0".into()), None),
            Some(Effect::Commit),
            None,
        ),
        (
            "version: a trial but no live version",
            at(fresh(), Stage::Version, Effect::GetVersionInfo),
            vi(None, Some("0.4.0".into())),
            None,
            None,
        ),
        (
            "version: no release_info",
            at(fresh(), Stage::Version, Effect::GetVersionInfo),
            vi(None, None),
            None,
            None,
        ),
        (
            "version: live not semver",
            at(fresh(), Stage::Version, Effect::GetVersionInfo),
            vi(Some("release-7".into()), None),
            None,
            None,
        ),
        (
            "version error",
            at(version_bad, Stage::Version, Effect::GetVersionInfo),
            vi(Some("1.0.0".into()), None),
            None,
            None,
        ),
        (
            "commit read-back: done",
            at(k(), Stage::Commit, Effect::GetVersionInfo),
            vi(None, Some("1.3.0".into())),
            Some(Effect::GetPrivacyInfo),
            None,
        ),
        (
            "commit read-back: same version, another run's code",
            at(k(), Stage::Commit, Effect::GetVersionInfo),
            vi_foreign("1.3.0"),
            Some(Effect::Commit),
            None,
        ),
        (
            "commit read-back: not done",
            at(k(), Stage::Commit, Effect::GetVersionInfo),
            vi(None, Some("1.2.0".into())),
            Some(Effect::Commit),
            None,
        ),
        (
            "committed",
            at(k(), Stage::Commit, Effect::Commit),
            Event::Committed,
            Some(Effect::GetPrivacyInfo),
            None,
        ),
        (
            "commit uncertain",
            at(k(), Stage::Commit, Effect::Commit),
            Event::Uncertain,
            Some(Effect::GetVersionInfo),
            None,
        ),
        (
            "commit refused",
            at(k(), Stage::Commit, Effect::Commit),
            Event::Refused(85014),
            None,
            Some(Outcome::Failed {
                code: Some(85014),
                message: "commit was refused".into(),
            }),
        ),
        (
            "privacy pending",
            at(k(), Stage::Precheck, Effect::GetPrivacyInfo),
            Event::PrivacyPending,
            Some(Effect::Sleep(30)),
            None,
        ),
        (
            "privacy slept",
            at(k(), Stage::Precheck, Effect::Sleep(30)),
            Event::Slept,
            Some(Effect::GetPrivacyInfo),
            None,
        ),
        (
            "privacy clean",
            at(k(), Stage::Precheck, Effect::GetPrivacyInfo),
            Event::Privacy {
                without_auth: vec![],
                without_conf: vec![],
            },
            Some(Effect::QueryQuota),
            None,
        ),
        (
            "privacy without auth",
            at(k(), Stage::Precheck, Effect::GetPrivacyInfo),
            Event::Privacy {
                without_auth: vec!["wx.getLocation".into()],
                without_conf: vec![],
            },
            None,
            None,
        ),
        (
            "privacy without conf",
            at(k(), Stage::Precheck, Effect::GetPrivacyInfo),
            Event::Privacy {
                without_auth: vec![],
                without_conf: vec!["wx.chooseAddress".into()],
            },
            None,
            None,
        ),
        (
            "privacy without conf, not used",
            at(not_use, Stage::Precheck, Effect::GetPrivacyInfo),
            Event::Privacy {
                without_auth: vec![],
                without_conf: vec!["wx.chooseAddress".into()],
            },
            Some(Effect::QueryQuota),
            None,
        ),
        (
            "quota",
            at(k(), Stage::Submit, Effect::QueryQuota),
            Event::Quota(Quota {
                rest: 1,
                limit: 2,
                speedup_rest: 0,
                speedup_limit: 0,
            }),
            Some(Effect::GetLatestAudit),
            None,
        ),
        (
            "quota failed is not fatal",
            at(k(), Stage::Submit, Effect::QueryQuota),
            Event::Failed {
                code: Some(-1),
                message: "busy".into(),
            },
            Some(Effect::GetLatestAudit),
            None,
        ),
        (
            "no review yet",
            at(k(), Stage::Submit, Effect::GetLatestAudit),
            Event::LatestAudit(None),
            Some(Effect::Submit),
            None,
        ),
        (
            "ours in flight: attach",
            at(proven.clone(), Stage::Submit, Effect::GetLatestAudit),
            Event::LatestAudit(Some(info(3, 2, "1.3.0"))),
            Some(Effect::Sleep(60)),
            None,
        ),
        (
            "ours delayed: attach",
            at(proven.clone(), Stage::Submit, Effect::GetLatestAudit),
            Event::LatestAudit(Some(info(3, 4, "1.3.0"))),
            Some(Effect::Sleep(60)),
            None,
        ),
        (
            "ours approved: publish",
            at(proven, Stage::Submit, Effect::GetLatestAudit),
            Event::LatestAudit(Some(info(3, 0, "1.3.0"))),
            Some(Effect::GetVersionInfo),
            None,
        ),
        (
            "same version in flight, submitted before our trial: not ours",
            at(later_trial.clone(), Stage::Submit, Effect::GetLatestAudit),
            Event::LatestAudit(Some(info(3, 2, "1.3.0"))),
            None,
            None,
        ),
        (
            "same version approved before our trial: submit ours",
            at(later_trial, Stage::Submit, Effect::GetLatestAudit),
            Event::LatestAudit(Some(info(3, 0, "1.3.0"))),
            Some(Effect::Submit),
            None,
        ),
        (
            "85009: read back",
            at(k(), Stage::Submit, Effect::Submit),
            Event::Refused(85009),
            Some(Effect::GetLatestAudit),
            None,
        ),
        (
            "85009 with an approved, unreleased version",
            at(refused.clone(), Stage::Submit, Effect::GetLatestAudit),
            Event::LatestAudit(Some(info(3, 0, "1.2.0"))),
            None,
            None,
        ),
        (
            "85009 with no review",
            at(refused, Stage::Submit, Effect::GetLatestAudit),
            Event::LatestAudit(None),
            None,
            None,
        ),
        (
            "ours rejected after our submit",
            at(sent.clone(), Stage::Submit, Effect::GetLatestAudit),
            Event::LatestAudit(Some(info(3, 1, "1.3.0"))),
            None,
            Some(Outcome::Rejected),
        ),
        (
            "ours withdrawn after our submit",
            at(sent, Stage::Submit, Effect::GetLatestAudit),
            Event::LatestAudit(Some(info(3, 3, "1.3.0"))),
            None,
            Some(Outcome::Withdrawn),
        ),
        (
            "ours rejected earlier: resubmit",
            at(k(), Stage::Submit, Effect::GetLatestAudit),
            Event::LatestAudit(Some(info(3, 1, "1.3.0"))),
            Some(Effect::Submit),
            None,
        ),
        (
            "other ended: submit",
            at(k(), Stage::Submit, Effect::GetLatestAudit),
            Event::LatestAudit(Some(info(3, 0, "1.2.0"))),
            Some(Effect::Submit),
            None,
        ),
        (
            "other in flight: fail",
            at(k(), Stage::Submit, Effect::GetLatestAudit),
            Event::LatestAudit(Some(info(3, 2, "1.2.0"))),
            None,
            None,
        ),
        (
            "other in flight: attach",
            at(attach, Stage::Submit, Effect::GetLatestAudit),
            Event::LatestAudit(Some(info(3, 2, "1.2.0"))),
            Some(Effect::Sleep(60)),
            None,
        ),
        (
            "other in flight: withdraw",
            at(withdraw.clone(), Stage::Submit, Effect::GetLatestAudit),
            Event::LatestAudit(Some(info(3, 2, "1.2.0"))),
            Some(Effect::Withdraw),
            None,
        ),
        (
            "withdrawn: submit",
            at(withdraw.clone(), Stage::Submit, Effect::Withdraw),
            Event::Withdrawn,
            Some(Effect::Submit),
            None,
        ),
        (
            "withdraw 87012: nothing to withdraw, look again",
            at(withdraw.clone(), Stage::Submit, Effect::Withdraw),
            Event::Refused(87012),
            Some(Effect::GetLatestAudit),
            None,
        ),
        (
            "withdraw uncertain: read back",
            at(withdraw, Stage::Submit, Effect::Withdraw),
            Event::Uncertain,
            Some(Effect::GetLatestAudit),
            None,
        ),
        (
            "submitted",
            at(k(), Stage::Submit, Effect::Submit),
            Event::Submitted { auditid: 8 },
            Some(Effect::Sleep(60)),
            None,
        ),
        (
            "submitted, detach",
            at(detach, Stage::Submit, Effect::Submit),
            Event::Submitted { auditid: 8 },
            None,
            Some(Outcome::Detached),
        ),
        (
            "submitted, speed up",
            at(speedup.clone(), Stage::Submit, Effect::Submit),
            Event::Submitted { auditid: 8 },
            Some(Effect::Speedup),
            None,
        ),
        (
            "sped up",
            at(speedup.clone(), Stage::Wait, Effect::Speedup),
            Event::SpedUp,
            Some(Effect::Sleep(60)),
            None,
        ),
        (
            "speed-up refused",
            at(speedup, Stage::Wait, Effect::Speedup),
            Event::Refused(89405),
            Some(Effect::Sleep(60)),
            None,
        ),
        (
            "submit uncertain: read back",
            at(k(), Stage::Submit, Effect::Submit),
            Event::Uncertain,
            Some(Effect::GetLatestAudit),
            None,
        ),
        (
            "submit 85009: read back",
            at(k(), Stage::Submit, Effect::Submit),
            Event::Refused(85009),
            Some(Effect::GetLatestAudit),
            None,
        ),
        (
            "submit 61039: wait for the scan",
            at(k(), Stage::Submit, Effect::Submit),
            Event::Refused(61039),
            Some(Effect::Sleep(30)),
            None,
        ),
        (
            "submit 85085",
            at(k(), Stage::Submit, Effect::Submit),
            Event::Refused(85085),
            None,
            Some(Outcome::Failed {
                code: Some(85085),
                message: "submit_audit was refused".into(),
            }),
        ),
        (
            "poll: in review",
            at(waiting.clone(), Stage::Wait, Effect::GetAuditStatus),
            status(2),
            Some(Effect::Sleep(60)),
            None,
        ),
        (
            "poll: delayed",
            at(waiting.clone(), Stage::Wait, Effect::GetAuditStatus),
            status(4),
            Some(Effect::Sleep(60)),
            None,
        ),
        (
            "poll: approved",
            at(waiting.clone(), Stage::Wait, Effect::GetAuditStatus),
            status(0),
            Some(Effect::GetVersionInfo),
            None,
        ),
        (
            "poll: rejected",
            at(waiting.clone(), Stage::Wait, Effect::GetAuditStatus),
            status(1),
            None,
            Some(Outcome::Rejected),
        ),
        (
            "poll: withdrawn",
            at(waiting.clone(), Stage::Wait, Effect::GetAuditStatus),
            status(3),
            None,
            Some(Outcome::Withdrawn),
        ),
        (
            "slept: poll",
            at(waiting.clone(), Stage::Wait, Effect::Sleep(60)),
            Event::Slept,
            Some(Effect::GetAuditStatus),
            None,
        ),
        (
            "wait: latest for the wait command",
            at(k(), Stage::Wait, Effect::GetLatestAudit),
            Event::LatestAudit(Some(info(4, 2, "1.3.0"))),
            Some(Effect::Sleep(60)),
            None,
        ),
        (
            "wait: nothing to wait for",
            at(k(), Stage::Wait, Effect::GetLatestAudit),
            Event::LatestAudit(None),
            None,
            Some(Outcome::Failed {
                code: Some(85058),
                message: "there is no review to wait for; submit first".into(),
            }),
        ),
        (
            "publish: the same version live before we released: release ours",
            at(k(), Stage::Publish, Effect::GetVersionInfo),
            vi(Some("1.3.0".into()), None),
            Some(Effect::Release),
            None,
        ),
        (
            "publish: live after our release",
            at(release_sent, Stage::Publish, Effect::GetVersionInfo),
            vi(Some("1.3.0".into()), None),
            None,
            Some(Outcome::Published { phased: None }),
        ),
        (
            "publish: a downgrade is refused",
            at(k(), Stage::Publish, Effect::GetVersionInfo),
            vi(Some("1.10.0".into()), None),
            None,
            None,
        ),
        (
            "publish: a downgrade when allowed",
            at(downgrade_ok, Stage::Publish, Effect::GetVersionInfo),
            vi(Some("1.10.0".into()), None),
            Some(Effect::Release),
            None,
        ),
        (
            "publish: live version not comparable",
            at(k(), Stage::Publish, Effect::GetVersionInfo),
            vi(Some("build 7".into()), None),
            None,
            None,
        ),
        (
            "publish: release",
            at(k(), Stage::Publish, Effect::GetVersionInfo),
            vi(Some("1.2.0".into()), None),
            Some(Effect::Release),
            None,
        ),
        (
            "publish: gray",
            at(gray.clone(), Stage::Publish, Effect::GetVersionInfo),
            vi(Some("1.2.0".into()), None),
            Some(Effect::GrayRelease(20)),
            None,
        ),
        (
            "publish: gray read-back",
            at(gray_sent, Stage::Publish, Effect::GetVersionInfo),
            vi(Some("1.2.0".into()), None),
            Some(Effect::GetGrayPlan),
            None,
        ),
        (
            "released: confirm",
            at(k(), Stage::Publish, Effect::Release),
            Event::Released,
            Some(Effect::GetVersionInfo),
            None,
        ),
        (
            "released but not live",
            at(released, Stage::Publish, Effect::GetVersionInfo),
            vi(Some("1.2.0".into()), None),
            None,
            failed("release succeeded but WeChat shows 1.2.0 live instead of 1.3.0"),
        ),
        (
            "release uncertain: read back",
            at(k(), Stage::Publish, Effect::Release),
            Event::Uncertain,
            Some(Effect::GetVersionInfo),
            None,
        ),
        (
            "release 85052: read back",
            at(k(), Stage::Publish, Effect::Release),
            Event::Refused(85052),
            Some(Effect::GetVersionInfo),
            None,
        ),
        (
            "release 85020",
            at(k(), Stage::Publish, Effect::Release),
            Event::Refused(85020),
            None,
            Some(Outcome::Failed {
                code: Some(85020),
                message: "release was refused".into(),
            }),
        ),
        (
            "gray released: confirm",
            at(gray.clone(), Stage::Publish, Effect::GrayRelease(20)),
            Event::GrayReleased,
            Some(Effect::GetGrayPlan),
            None,
        ),
        (
            "gray plan reached",
            at(gray.clone(), Stage::Publish, Effect::GetGrayPlan),
            Event::GrayPlan {
                percentage: 20,
                running: true,
                status: 1,
                created: 100,
            },
            None,
            Some(Outcome::Published { phased: Some(20) }),
        ),
        (
            "gray plan not reached",
            at(gray.clone(), Stage::Publish, Effect::GetGrayPlan),
            Event::GrayPlan {
                percentage: 0,
                running: false,
                status: 0,
                created: 0,
            },
            Some(Effect::GrayRelease(20)),
            None,
        ),
        (
            "gray uncertain",
            at(gray.clone(), Stage::Publish, Effect::GrayRelease(20)),
            Event::Uncertain,
            Some(Effect::GetGrayPlan),
            None,
        ),
        (
            "gray 85082",
            at(gray.clone(), Stage::Publish, Effect::GrayRelease(20)),
            Event::Refused(85082),
            Some(Effect::GetGrayPlan),
            None,
        ),
        (
            "gray 85079",
            at(gray, Stage::Publish, Effect::GrayRelease(20)),
            Event::Refused(85079),
            None,
            None,
        ),
        (
            "wait: unknown review status",
            at(waiting.clone(), Stage::Wait, Effect::GetAuditStatus),
            status(7),
            None,
            None,
        ),
        (
            "read failure",
            at(waiting.clone(), Stage::Wait, Effect::GetAuditStatus),
            Event::Failed {
                code: Some(85012),
                message: "invalid audit id".into(),
            },
            None,
            Some(Outcome::Failed {
                code: Some(85012),
                message: "invalid audit id".into(),
            }),
        ),
        (
            "unexpected event",
            at(waiting, Stage::Wait, Effect::GetAuditStatus),
            Event::Committed,
            None,
            None,
        ),
    ]
}

/// The safety rule behind `is_mutation`: after a call that creates state loses its answer, the
/// machine's next request changes nothing (it reads the state back), whatever the stage.
#[test]
fn a_lost_mutation_is_followed_by_a_read_never_a_resend() {
    let k = || known("1.3.0");
    let mut upload = k();
    upload.config.upload = true;
    upload.config.template = None;
    let mut gray = k();
    gray.config.rules.publish.gray_percentage = Some(20);
    let mut waiting = k();
    waiting.audit_id = Some(9);
    let cases = [
        (upload, Stage::Upload, Effect::Upload),
        (k(), Stage::Commit, Effect::Commit),
        (k(), Stage::Submit, Effect::Withdraw),
        (k(), Stage::Submit, Effect::Submit),
        (waiting, Stage::Wait, Effect::Speedup),
        (k(), Stage::Publish, Effect::Release),
        (gray, Stage::Publish, Effect::GrayRelease(20)),
    ];
    for (state, stage, effect) in cases {
        assert!(effect.is_mutation(), "{effect:?}");
        let t = step(&at(state, stage, effect.clone()), Event::Uncertain, 0);
        if let Some(next) = &t.effect {
            assert!(
                !next.is_mutation(),
                "{effect:?} lost its answer and the machine asked for {next:?}"
            );
        }
    }
    // and the reads are reads
    for e in [
        Effect::GetVersionInfo,
        Effect::GetPrivacyInfo,
        Effect::QueryQuota,
        Effect::GetLatestAudit,
        Effect::GetAuditStatus,
        Effect::GetGrayPlan,
        Effect::Sleep(1),
    ] {
        assert!(!e.is_mutation(), "{e:?}");
    }
}

#[test]
fn transition_table() {
    for (name, state, event, want_effect, want_outcome) in rows() {
        let t = step(&state, event, 100);
        assert_eq!(t.effect, want_effect, "{name}");
        if let Some(o) = want_outcome {
            assert_eq!(t.next.outcome, Some(o), "{name}");
        }
        if want_effect.is_none() {
            assert!(
                t.next.outcome.is_some() && t.next.stage == Stage::Done,
                "{name}: a step without effect ends the run"
            );
        }
        assert_eq!(
            t.next.pending, t.effect,
            "{name}: the pending effect is recorded"
        );
        // Every state serializes and comes back equal (resume depends on it).
        let json = serde_json::to_string(&t.next).unwrap();
        assert_eq!(
            serde_json::from_str::<State>(&json).unwrap(),
            t.next,
            "{name}"
        );
    }
}

#[test]
fn failure_messages_name_the_problem() {
    let msg = |name: &str| {
        let (_, state, event, _, _) = rows().into_iter().find(|r| r.0 == name).unwrap();
        match step(&state, event, 0).next.outcome {
            Some(Outcome::Failed { message, .. }) => message,
            other => panic!("{other:?}"),
        }
    };
    assert!(msg("other in flight: fail").contains("review 3 of version 1.2.0 is already in flight"));
    assert!(msg("other in flight: fail").contains("on-existing-review"));
    assert!(msg("privacy without auth").contains("wx.getLocation"));
    assert!(msg("privacy without conf").contains("privacy-api-not-use"));
    assert!(msg("gray 85079").contains("first release must be full"));
    assert!(msg("version error").contains("preid"));
    assert!(msg("unexpected event").starts_with("internal:"));
    assert!(msg("version: no release_info").contains("version-from explicit:"));
    assert!(msg("version: live not semver").contains("\"release-7\""));
    assert!(
        msg("same version in flight, submitted before our trial: not ours")
            .contains("already in flight")
    );
    assert!(
        msg("85009 with an approved, unreleased version").contains("approved and never released")
    );
    assert!(msg("85009 with no review").contains("approved version has not been released"));
    assert!(msg("publish: a downgrade is refused").contains("allow-downgrade"));
    assert!(msg("wait: unknown review status").contains("status 7"));
}

/// Which ends are doubts (exit 3) and which are failures of the release (exit 1).
#[test]
fn doubts_are_marked_for_exit_3() {
    let doubt = |name: &str| {
        let (_, state, event, _, _) = rows().into_iter().find(|r| r.0 == name).unwrap();
        step(&state, event, 0).next.in_doubt
    };
    for name in [
        "version: a trial but no live version",
        "version: no release_info",
        "version: live not semver",
        "publish: live version not comparable",
        "wait: unknown review status",
    ] {
        assert!(doubt(name), "{name}");
    }
    for name in [
        "publish: a downgrade is refused",
        "85009 with an approved, unreleased version",
        "commit refused",
    ] {
        assert!(!doubt(name), "{name}");
    }
}

#[test]
fn a_foreign_trial_is_never_taken_for_ours() {
    // The trial shows our version string with another run's marker every time: the commit is
    // retried, then the run stops in doubt without ever submitting.
    let mut t = step(
        &at(known("1.3.0"), Stage::Commit, Effect::Commit),
        Event::Uncertain,
        0,
    );
    let mut commits = 0;
    while let Some(effect) = t.effect.clone() {
        let event = match effect {
            Effect::GetVersionInfo => vi_foreign("1.3.0"),
            Effect::Commit => {
                commits += 1;
                Event::Uncertain
            }
            other => panic!("never gets to {other:?}"),
        };
        t = step(&t.next, event, 0);
    }
    assert!(t.next.in_doubt, "{:?}", t.next.outcome);
    assert_eq!(commits, 3);
    match t.next.outcome {
        Some(Outcome::Failed { message, .. }) => {
            assert!(message.contains("without this run's marker"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn polling_detaches_at_the_deadline() {
    let mut s = known("1.3.0");
    s.config.rules.wait = WaitSpec {
        first_secs: 100,
        max_secs: 250,
        timeout_secs: 1000,
    };
    let mut t = step(
        &at(s, Stage::Submit, Effect::Submit),
        Event::Submitted { auditid: 1 },
        0,
    );
    let mut now = 0;
    let mut sleeps = Vec::new();
    let mut looks = Vec::new();
    while let Some(effect) = t.effect.clone() {
        let event = match effect {
            Effect::Sleep(secs) => {
                sleeps.push(secs);
                now += secs;
                Event::Slept
            }
            Effect::GetAuditStatus => {
                looks.push(now);
                status(2)
            }
            other => panic!("{other:?}"),
        };
        t = step(&t.next, event, now);
    }
    assert_eq!(t.next.outcome, Some(Outcome::Detached));
    assert_eq!(
        sleeps,
        [100, 150, 225, 250, 250, 25],
        "grows by half, capped, and ends at the deadline"
    );
    assert_eq!(
        looks.last(),
        Some(&1000),
        "the last look happens at the deadline itself, not an interval before it: {looks:?}"
    );
}

/// A tiny WeChat for the simulation: what happened at the server, whatever the answers said.
#[derive(Default)]
struct Server {
    trial: Option<String>,
    reviews: Vec<(u64, String, u8)>,
    live: Option<String>,
    commits: u32,
    submits: u32,
    releases: u32,
    polls: u32,
}

impl Server {
    /// Performs the effect; returns the true answer.
    fn perform(&mut self, e: &Effect, version: &str) -> Event {
        match e {
            Effect::GetVersionInfo => vi(self.live.clone(), self.trial.clone()),
            Effect::Commit => {
                self.commits += 1;
                self.trial = Some(version.into());
                Event::Committed
            }
            Effect::GetPrivacyInfo => Event::Privacy {
                without_auth: vec![],
                without_conf: vec![],
            },
            Effect::QueryQuota => Event::Quota(Quota {
                rest: 5,
                limit: 5,
                speedup_rest: 0,
                speedup_limit: 0,
            }),
            Effect::GetLatestAudit => {
                Event::LatestAudit(self.reviews.last().map(|(id, v, st)| AuditInfo {
                    auditid: *id,
                    status: *st,
                    user_version: v.clone(),
                    reason: String::new(),
                    screenshot: String::new(),
                    submit_time: 0,
                }))
            }
            Effect::Submit => {
                if self.reviews.last().is_some_and(|r| r.2 == 2) {
                    return Event::Refused(85009);
                }
                self.submits += 1;
                let id = 100 + u64::from(self.submits);
                self.reviews.push((id, version.into(), 2));
                Event::Submitted { auditid: id }
            }
            Effect::GetAuditStatus => {
                self.polls += 1;
                if self.polls >= 2 {
                    if let Some(r) = self.reviews.last_mut() {
                        r.2 = 0;
                    }
                }
                status(self.reviews.last().map_or(2, |r| r.2))
            }
            Effect::Sleep(_) => Event::Slept,
            Effect::Release => {
                if self.live.as_deref() == Some(version) {
                    return Event::Refused(85052);
                }
                self.releases += 1;
                self.live = Some(version.into());
                Event::Released
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn lost_answers_and_crashes_never_repeat_a_mutation() {
    // For every step index: (a) the answer after the server acted is lost (Uncertain), or (b) the
    // process crashes after the server acted and before the state was saved, and resumes from the
    // previous saved state. Either way each mutation happens exactly once at the server.
    for lose_at in 0..20 {
        for crash in [false, true] {
            let mut server = Server::default();
            // The runner's protocol: step, save the new state, then perform its effect.
            let mut t = step(&known("1.3.0"), Event::Start, 0);
            let mut saved = t.next.clone();
            let mut i = 0;
            let mut guard = 0;
            while let Some(effect) = t.effect.clone() {
                guard += 1;
                assert!(
                    guard < 200,
                    "no progress (lose_at {lose_at}, crash {crash})"
                );
                let answer = server.perform(&effect, "1.3.0");
                i += 1;
                let event = if i == lose_at && effect.is_mutation() {
                    if crash {
                        // the answer died with the process: resume from the saved state
                        t = step(&saved, Event::Start, 0);
                        saved = t.next.clone();
                        continue;
                    }
                    Event::Uncertain
                } else {
                    answer
                };
                t = step(&t.next, event, 0);
                saved = t.next.clone();
            }
            assert_eq!(
                t.next.outcome,
                Some(Outcome::Published { phased: None }),
                "lose_at {lose_at}, crash {crash}"
            );
            assert_eq!(
                (server.commits, server.submits, server.releases),
                (1, 1, 1),
                "lose_at {lose_at}, crash {crash}"
            );
        }
    }
}

#[test]
fn config_keeps_the_state_file_shape() {
    // The rules are flattened: a state file written before `Rules` existed still loads.
    let v = serde_json::to_value(config()).unwrap();
    for key in [
        "appid",
        "template",
        "upload",
        "bump",
        "privacy_api_not_use",
        "privacy_poll_secs",
        "on_existing",
        "speedup",
        "wait",
        "publish",
    ] {
        assert!(v.get(key).is_some(), "{key} missing in {v}");
    }
    assert!(v.get("rules").is_none());
    let back: Config = serde_json::from_value(v).unwrap();
    assert_eq!(back, config());
}

#[test]
fn a_dry_run_stops_before_a_change_with_every_span_closed() {
    let t = step(&State::new(config(), None), Event::Start, 100);
    let mut s = t.next;
    s.stop_before(&Effect::Submit, 130);
    assert_eq!(
        (s.stage, s.pending.clone(), s.outcome.clone()),
        (
            Stage::Done,
            None,
            Some(Outcome::DryRun {
                next: "submit_audit".into()
            })
        )
    );
    assert!(!s.timeline.is_empty());
    assert!(
        s.timeline.iter().all(|sp| sp.end == Some(130)),
        "{:?}",
        s.timeline
    );
}
