//! The pipeline's data: configuration, state, effects, events and outcomes (all serializable).

use crate::version::{BumpRequest, ZeroMajorRules};
use semver::Version;
use serde::{Deserialize, Serialize};

/// Pipeline stages, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Decide the version (from WeChat's live version when asked).
    Version,
    /// Upload the code (upload mode): it becomes the trial version.
    Upload,
    /// Commit the template (template mode).
    Commit,
    /// Wait for the privacy scan; fail early on what would be refused.
    Precheck,
    /// Submit for review (or attach / withdraw).
    Submit,
    /// Follow the review.
    Wait,
    /// Release (fully or in phases) and confirm.
    Publish,
    /// A health-gated phased rollout: raise, watch, judge, step by step.
    Rollout,
    /// Finished; see the outcome.
    Done,
}

impl Stage {
    /// The stage's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Version => "version",
            Self::Upload => "upload",
            Self::Commit => "commit",
            Self::Precheck => "precheck",
            Self::Submit => "submit",
            Self::Wait => "wait",
            Self::Publish => "publish",
            Self::Rollout => "rollout",
            Self::Done => "done",
        }
    }
}

/// What to do when a review is already in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnExisting {
    /// Wait on that review instead.
    Attach,
    /// Withdraw it (undocodeaudit), then submit.
    Withdraw,
    /// Stop with a message naming it.
    #[default]
    Fail,
}

/// The template commit (template mode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitSpec {
    /// `template_id`.
    pub template_id: u64,
    /// `ext_json` (a JSON document, sent as a string).
    pub ext_json: String,
    /// `user_desc`.
    pub desc: String,
}

/// How the version is decided when it comes from WeChat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BumpSpec {
    /// The bump.
    #[serde(with = "bump_serde")]
    pub bump: BumpRequest,
    /// Prerelease id.
    pub preid: Option<String>,
    /// Version when WeChat has none.
    pub initial: Version,
    /// Commit messages for `auto`.
    pub commits: Option<Vec<String>>,
    /// 0.x rules.
    #[serde(with = "zero_serde")]
    pub zero: ZeroMajorRules,
}

impl Default for BumpSpec {
    fn default() -> Self {
        Self {
            bump: BumpRequest::Level(crate::version::BumpLevel::Patch),
            preid: None,
            initial: Version::new(0, 1, 0),
            commits: None,
            zero: ZeroMajorRules::Shifted,
        }
    }
}

mod bump_serde {
    use crate::version::BumpRequest;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &BumpRequest, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match b {
            BumpRequest::Auto => "auto",
            BumpRequest::None => "none",
            BumpRequest::Level(l) => l.name(),
        })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BumpRequest, D::Error> {
        let s = String::deserialize(d)?;
        BumpRequest::parse(&s).map_err(serde::de::Error::custom)
    }
}

mod zero_serde {
    use crate::version::ZeroMajorRules;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(z: &ZeroMajorRules, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if *z == ZeroMajorRules::Standard {
            "standard"
        } else {
            "shifted"
        })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ZeroMajorRules, D::Error> {
        ZeroMajorRules::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Polling of the review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitSpec {
    /// First interval, seconds.
    pub first_secs: u64,
    /// Largest interval, seconds.
    pub max_secs: u64,
    /// Stop waiting (detach) after this long; 0 detaches right after submitting.
    pub timeout_secs: u64,
}

impl Default for WaitSpec {
    fn default() -> Self {
        Self {
            first_secs: 60,
            max_secs: 600,
            timeout_secs: 5 * 3600,
        }
    }
}

/// Publishing rules.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PublishSpec {
    /// `publish: never`.
    pub never: bool,
    /// Phased release percentage (1–100); full release when absent.
    pub gray_percentage: Option<u32>,
    /// A health-gated phased rollout (excludes `gray_percentage`).
    #[serde(default)]
    pub rollout: Option<RolloutSpec>,
    /// `support-debuger-first`: project members get the phased version first.
    #[serde(default)]
    pub debuger_first: bool,
    /// `support-experiencer-first`: trial members get it first.
    #[serde(default)]
    pub experiencer_first: bool,
}

/// One step of a rollout: raise to `percent`, then watch the new version this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutStep {
    /// The phased-release percentage (1–100; 100 is a full release).
    pub percent: u32,
    /// The watch window before the health gate judges the step, seconds.
    pub watch_secs: u64,
}

/// What an unhealthy verdict does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnUnhealthy {
    /// `revertgrayrelease`: the users who got the new version go back.
    #[default]
    Revert,
    /// Leave the phased release where it is and stop (exit 1).
    Hold,
}

/// A health-gated phased rollout (`rollout`, `rollout-watch`, the thresholds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutSpec {
    /// The steps, percentages strictly increasing.
    pub steps: Vec<RolloutStep>,
    /// Revert or hold on an unhealthy verdict.
    pub on_unhealthy: OnUnhealthy,
    /// The gate's thresholds.
    pub thresholds: crate::health::Thresholds,
    /// How many times a step may be held for a small sample before its look judges what it has.
    pub max_holds: u32,
    /// `rollout-log-marker`: the marker the app writes into its real-time log (`setFilterMsg`),
    /// with `{version}` standing for the version; errors logged under it count per version.
    #[serde(default)]
    pub log_marker: Option<String>,
}

/// A row of the rollout's timeline: a step reached, or a look's verdict. Serialised in lower case
/// (`"raised"`, `"hold"`, …), in state files and in the `rollout-status` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Look {
    /// The step's percentage was confirmed: its watch began.
    Raised,
    /// A look found the version healthy: on to the next step.
    Raise,
    /// A look had too little data (or a breach under `on-unhealthy: hold`, before the last look).
    Hold,
    /// A look found no errors under the new version where some were due (exit 3).
    Blind,
    /// A look found a breach: the phased release is reverted.
    Revert,
    /// A look found a breach under `on-unhealthy: hold`: the rollout stops where it is.
    Unhealthy,
    /// The full release is live.
    Released,
    /// WeChat confirmed the revert.
    Reverted,
}

impl Look {
    /// The word of the timeline and the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Look::Raised => "raised",
            Look::Raise => "raise",
            Look::Hold => "hold",
            Look::Blind => "blind",
            Look::Revert => "revert",
            Look::Unhealthy => "unhealthy",
            Look::Released => "released",
            Look::Reverted => "reverted",
        }
    }

    /// A row that marks a step reached (the timeline counts steps by these).
    pub fn is_step(self) -> bool {
        matches!(self, Look::Raised | Look::Released)
    }
}

impl std::fmt::Display for Look {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the gate saw and decided at one look (for the timeline and the check run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// The step's percentage.
    pub percent: u32,
    /// When this happened (runner clock).
    pub at: u64,
    /// What happened.
    pub verdict: Look,
    /// Why (the gate's words), when judged.
    #[serde(default)]
    pub why: Option<String>,
    /// The new version's error users in the window.
    #[serde(default)]
    pub new_users: u64,
    /// The previous version's error users in the window.
    #[serde(default)]
    pub old_users: u64,
    /// Crash feedback since the step began.
    #[serde(default)]
    pub crash_feedback: u64,
    /// The new version's time-weighted share in the window (0–1).
    #[serde(default)]
    pub share: Option<f64>,
    /// The normalised error ratio.
    #[serde(default)]
    pub ratio: Option<f64>,
    /// The worst new error signature (message, stack head, users).
    #[serde(default)]
    pub worst: Option<crate::health::Signature>,
    /// Users with error logs in the real-time log (new, previous), when read.
    #[serde(default)]
    pub log_users: Option<(u64, u64)>,
}

impl StepRecord {
    /// A row without figures (a step reached, the release, the revert).
    pub fn bare(percent: u32, at: u64, verdict: Look) -> Self {
        StepRecord {
            percent,
            at,
            verdict,
            why: None,
            new_users: 0,
            old_users: 0,
            crash_feedback: 0,
            share: None,
            ratio: None,
            worst: None,
            log_users: None,
        }
    }
}

/// Where a rollout stands (part of the state, and of the hand-over between jobs).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RolloutProgress {
    /// The current step (index into the spec's steps).
    pub step: usize,
    /// The live version before the rollout (the baseline of the gate).
    pub previous: Option<String>,
    /// Before the first raise, a running plan was looked for (one not ours stops the run).
    #[serde(default)]
    pub preread: bool,
    /// The raise (or the final release) of `step` may have been sent and is not confirmed.
    #[serde(default)]
    pub sent: bool,
    /// Raise attempts of this step.
    #[serde(default)]
    pub tries: u32,
    /// `create_timestamp` of the plan this rollout started: later reads must show the same plan.
    #[serde(default)]
    pub plan_created: Option<u64>,
    /// When the step's percentage was confirmed (its watch began).
    #[serde(default)]
    pub step_started: Option<u64>,
    /// When the gate looks next.
    #[serde(default)]
    pub next_look: Option<u64>,
    /// Looks of this step that held.
    #[serde(default)]
    pub holds: u32,
    /// `revertgrayrelease` may have been sent.
    #[serde(default)]
    pub revert_sent: bool,
    /// The last moment this process follows the rollout before handing it over (not carried
    /// between processes: each entry sets it from wait-timeout).
    #[serde(default)]
    pub deadline: Option<u64>,
    /// When each step's percentage was confirmed: (time, percent), in order.
    #[serde(default)]
    pub changes: Vec<(u64, u32)>,
    /// The timeline.
    #[serde(default)]
    pub history: Vec<StepRecord>,
    /// The verdict of a look, waiting for the effect it asked for (revert).
    #[serde(default)]
    pub unhealthy: Option<String>,
    /// From a hand-over: the job that wrote it follows the rollout itself until then (its
    /// deadline); a `resume` before that leaves it alone.
    #[serde(default)]
    pub held_until: Option<u64>,
}

/// What the runner gathers for the gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthQuery {
    /// The new version (`appVersion`).
    pub version: String,
    /// The previous live version, when known.
    pub previous: Option<String>,
    /// Errors from the Beijing day holding this time (`jserr_list` counts whole days).
    pub errors_since: u64,
    /// Crash feedback created at or after this time.
    pub feedback_since: u64,
    /// The look's time (errors up to its Beijing day).
    pub until: u64,
    /// The real-time log's filter per version (`{version}` filled in): new, previous.
    #[serde(default)]
    pub log_filters: Option<(String, String)>,
    /// Real-time log entries from this time on (one Beijing day: the API takes one date).
    #[serde(default)]
    pub log_since: u64,
}

/// Everything the machine needs besides events; part of the state so a resumed run behaves alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// The mini program.
    pub appid: String,
    /// Template mode, when set.
    pub template: Option<CommitSpec>,
    /// Upload mode: the runner uploads the project (directCommit makes it the app's trial version).
    #[serde(default)]
    pub upload: bool,
    /// How to bump WeChat's version (used when the version is not known at start).
    pub bump: BumpSpec,
    /// The identity marker of what this run puts on WeChat (upload and template modes): a digest
    /// of the content, written into the description of the upload or commit. A read-back that
    /// finds the version string without this marker in `exp_desc` is somebody else's code.
    #[serde(default)]
    pub marker: Option<String>,
    /// How the review is run and followed, and when to publish (flattened: the state file keeps
    /// these keys at the top of `config`).
    #[serde(flatten)]
    pub rules: Rules,
}

/// The rules of a run that the settings decide as they are: the review, its wait, the publish.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rules {
    /// `privacy_api_not_use`.
    pub privacy_api_not_use: bool,
    /// Seconds between privacy-scan polls.
    pub privacy_poll_secs: u64,
    /// What to do with a review in flight.
    pub on_existing: OnExisting,
    /// Ask for an expedited review.
    pub speedup: bool,
    /// Polling.
    pub wait: WaitSpec,
    /// Publishing.
    pub publish: PublishSpec,
    /// `allow-downgrade`: publish a version lower than the live one.
    #[serde(default)]
    pub allow_downgrade: bool,
}

/// A review's state as last seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// 0 approved, 1 rejected, 2 in review, 3 withdrawn, 4 delayed.
    pub status: u8,
    /// Rejection or delay reason.
    pub reason: String,
    /// `|`-separated screenshot media ids (rejections).
    pub screenshot: String,
}

/// The review quota (`queryquota`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quota {
    /// Reviews left this month.
    pub rest: u32,
    /// This month's allocation.
    pub limit: u32,
    /// Speed-ups left.
    pub speedup_rest: u32,
    /// Speed-up allocation.
    pub speedup_limit: u32,
}

/// `get_latest_auditstatus`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditInfo {
    /// The review.
    pub auditid: u64,
    /// Its status.
    pub status: u8,
    /// Its version.
    pub user_version: String,
    /// Reason (rejected / delayed).
    pub reason: String,
    /// Screenshots (rejected).
    pub screenshot: String,
    /// Submitted at (Unix seconds).
    pub submit_time: u64,
}

/// How the run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "result")]
pub enum Outcome {
    /// Released (fully, or in phases at a percentage).
    Published {
        /// The phased-release percentage, if phased.
        phased: Option<u32>,
    },
    /// Approved and not published (`publish: never`).
    Approved,
    /// A rollout's health gate found the new version unhealthy: reverted (`revertgrayrelease`)
    /// or left where it was (`on-unhealthy: hold`).
    Unhealthy {
        /// `revertgrayrelease` was confirmed.
        reverted: bool,
        /// The percentage it had reached.
        percent: u32,
        /// The gate's evidence.
        why: String,
    },
    /// Rejected.
    Rejected,
    /// Withdrawn.
    Withdrawn,
    /// Still in review at the deadline: handed over to `resume`.
    Detached,
    /// `--dry-run`: stopped before the first call that would change anything.
    DryRun {
        /// The call it stopped before (`upload`, `commit`, `submit_audit`, `release`, …).
        next: String,
    },
    /// Stopped by an error.
    Failed {
        /// WeChat's errcode, if one caused it.
        code: Option<i64>,
        /// What happened and what to do.
        message: String,
    },
}

/// A request to the runner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    /// `getversioninfo` (read).
    GetVersionInfo,
    /// The code upload (mutation).
    Upload,
    /// `commit` (mutation).
    Commit,
    /// `get_code_privacy_info` (read; 61039 is `PrivacyPending`).
    GetPrivacyInfo,
    /// `queryquota` (read).
    QueryQuota,
    /// `get_latest_auditstatus` (read; 85058 is `LatestAudit(None)`).
    GetLatestAudit,
    /// `undocodeaudit` (mutation).
    Withdraw,
    /// `submit_audit` (mutation).
    Submit,
    /// `speedupaudit` (mutation, harmless to repeat).
    Speedup,
    /// `get_auditstatus` (read).
    GetAuditStatus,
    /// Sleep this many seconds.
    Sleep(u64),
    /// `release` (mutation).
    Release,
    /// `grayrelease` (mutation).
    GrayRelease(u32),
    /// `getgrayreleaseplan` (read).
    GetGrayPlan,
    /// `revertgrayrelease` (mutation).
    RevertGray,
    /// `jserr_list` for both versions and `feedback/list` (reads): the gate's figures.
    GetHealth(HealthQuery),
}

impl Effect {
    /// Whether the effect creates state at WeChat.
    pub fn is_mutation(&self) -> bool {
        matches!(
            self,
            Self::Upload
                | Self::Commit
                | Self::Withdraw
                | Self::Submit
                | Self::Speedup
                | Self::Release
                | Self::GrayRelease(_)
                | Self::RevertGray
        )
    }

    /// A short name for logs and messages.
    pub fn name(&self) -> &'static str {
        match self {
            Self::GetVersionInfo => "getversioninfo",
            Self::Upload => "upload",
            Self::Commit => "commit",
            Self::GetPrivacyInfo => "get_code_privacy_info",
            Self::QueryQuota => "queryquota",
            Self::GetLatestAudit => "get_latest_auditstatus",
            Self::Withdraw => "undocodeaudit",
            Self::Submit => "submit_audit",
            Self::Speedup => "speedupaudit",
            Self::GetAuditStatus => "get_auditstatus",
            Self::Sleep(_) => "sleep",
            Self::Release => "release",
            Self::GrayRelease(_) => "grayrelease",
            Self::GetGrayPlan => "getgrayreleaseplan",
            Self::RevertGray => "revertgrayrelease",
            Self::GetHealth(_) => "jserr_list",
        }
    }
}

/// What the runner reports back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// Begin (or resume) at the state's stage.
    Start,
    /// `getversioninfo`.
    VersionInfo {
        /// `release_info.release_version`.
        live: Option<String>,
        /// `exp_info.exp_version`.
        trial: Option<String>,
        /// `exp_info.exp_desc` (carries the run's identity marker) and `exp_info.exp_time`.
        trial_desc: Option<String>,
        /// `exp_info.exp_time` (WeChat's clock, Unix seconds).
        trial_time: Option<u64>,
    },
    /// The upload succeeded.
    Uploaded {
        /// Package sizes: (`__FULL__`, `__APP__` or a subpackage root, bytes, limit in bytes).
        packages: Vec<(String, u64, u64)>,
    },
    /// `commit` succeeded.
    Committed,
    /// 61039: the privacy scan is running.
    PrivacyPending,
    /// The privacy scan's lists.
    Privacy {
        /// APIs used without permission.
        without_auth: Vec<String>,
        /// APIs used but not declared.
        without_conf: Vec<String>,
    },
    /// `queryquota`.
    Quota(Quota),
    /// `get_latest_auditstatus` (None on 85058).
    LatestAudit(Option<AuditInfo>),
    /// `undocodeaudit` succeeded.
    Withdrawn,
    /// `submit_audit` succeeded.
    Submitted {
        /// The new review.
        auditid: u64,
    },
    /// `speedupaudit` succeeded.
    SpedUp,
    /// `get_auditstatus`.
    AuditStatus {
        /// Status.
        status: u8,
        /// Reason.
        reason: String,
        /// Screenshots.
        screenshot: String,
    },
    /// The sleep ended.
    Slept,
    /// `release` succeeded.
    Released,
    /// `grayrelease` succeeded.
    GrayReleased,
    /// `getgrayreleaseplan`.
    GrayPlan {
        /// Percentage.
        percentage: u32,
        /// Plan status 1 (running).
        running: bool,
        /// Plan status (0 initial, 1 running, 2 paused, 3 finished, 4 deleted).
        status: u8,
        /// `create_timestamp` (WeChat's clock).
        created: u64,
    },
    /// `revertgrayrelease` succeeded.
    GrayReverted,
    /// The gate's figures.
    Health {
        /// The new version's business-code errors.
        new: crate::health::VersionErrors,
        /// The previous version's.
        old: crate::health::VersionErrors,
        /// Crash-type feedback since the step began.
        crash_feedback: u64,
        /// Users with error logs in the real-time log (new, previous), when asked for.
        #[serde(default)]
        logs: Option<(u64, u64)>,
    },
    /// WeChat refused with an errcode the machine may handle (85009, 61039, 85052, 85079, 85082 …).
    Refused(i64),
    /// A mutation's result is unknown (timeout, cut connection): read back before anything else.
    Uncertain,
    /// The call failed for good (after the runner's retries).
    Failed {
        /// WeChat's errcode, if any.
        code: Option<i64>,
        /// The message.
        message: String,
    },
}

/// Time spent in one stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// The stage.
    pub stage: Stage,
    /// Entered at.
    pub start: u64,
    /// Left at (None while in it).
    pub end: Option<u64>,
}

/// The whole pipeline state; serializable so a run can stop and resume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The inputs.
    pub config: Config,
    /// Where the run is.
    pub stage: Stage,
    /// The effect the runner is performing (what the next event answers).
    pub pending: Option<Effect>,
    /// The version being released.
    pub version: Option<String>,
    /// The version before.
    pub previous_version: Option<String>,
    /// The bump applied.
    pub bump: Option<String>,
    /// Set when attached to another version's review.
    pub attached_version: Option<String>,
    /// An upload may have been sent.
    #[serde(default)]
    pub upload_sent: bool,
    /// Package sizes reported by the upload: (name, bytes, limit in bytes).
    #[serde(default)]
    pub packages: Vec<(String, u64, u64)>,
    /// A commit may have been sent.
    pub commit_sent: bool,
    /// Commit attempts after read-backs.
    pub commit_tries: u32,
    /// A submit may have been sent.
    pub submit_sent: bool,
    /// Submit attempts.
    pub submit_tries: u32,
    /// A release may have been sent.
    pub release_sent: bool,
    /// Release attempts.
    pub release_tries: u32,
    /// `release` answered success.
    pub released: bool,
    /// The speed-up was asked for.
    pub speedup_done: bool,
    /// The review.
    pub audit_id: Option<u64>,
    /// The review as last seen.
    pub review: Option<Review>,
    /// The review quota, when read.
    pub quota: Option<Quota>,
    /// When waiting began.
    pub wait_started_at: Option<u64>,
    /// The next poll interval.
    pub next_poll_secs: u64,
    /// Status polls so far.
    pub polls: u32,
    /// Privacy-scan polls so far.
    pub privacy_polls: u32,
    /// The version is live (or phased).
    pub published: bool,
    /// How it ended.
    pub outcome: Option<Outcome>,
    /// Stage timeline.
    pub timeline: Vec<Span>,
    /// Things worth telling the user (delays, attachments, refused speed-ups).
    pub notes: Vec<String>,
    /// The run stopped because it could not prove what it saw (or gave up on infrastructure):
    /// exit 3, not 1.
    #[serde(default)]
    pub in_doubt: bool,
    /// `exp_info.exp_time` of the trial version this run proved its own (WeChat's clock): a review
    /// submitted at or after it reviews this run's code.
    #[serde(default)]
    pub trial_time: Option<u64>,
    /// `submit_audit` answered 85009 (a review in flight, or an approved version not released).
    #[serde(default)]
    pub refused_85009: bool,
    /// `undocodeaudit` attempts (87012 "nothing to withdraw" leads to a fresh look).
    #[serde(default)]
    pub withdraw_tries: u32,
    /// `release` answered 85052: the version was live already (no news for the chats).
    #[serde(default)]
    pub found_live: bool,
    /// A rollout's progress (when the publish rule is a rollout and publishing began).
    #[serde(default)]
    pub rollout: Option<RolloutProgress>,
    /// The first operations figures after publishing (read once the run published).
    #[serde(default)]
    pub after_release: Option<crate::stats::AfterRelease>,
}

impl State {
    /// A fresh run: at `Version`, with the version known or to be read from WeChat.
    pub fn new(config: Config, version: Option<(String, Option<String>, String)>) -> Self {
        let (version, previous_version, bump) = match version {
            Some((v, prev, bump)) => (Some(v), prev, Some(bump)),
            None => (None, None, None),
        };
        let first = config.rules.wait.first_secs;
        Self {
            config,
            stage: Stage::Version,
            pending: None,
            version,
            previous_version,
            bump,
            attached_version: None,
            upload_sent: false,
            packages: Vec::new(),
            commit_sent: false,
            commit_tries: 0,
            submit_sent: false,
            submit_tries: 0,
            release_sent: false,
            release_tries: 0,
            released: false,
            speedup_done: false,
            audit_id: None,
            review: None,
            quota: None,
            wait_started_at: None,
            next_poll_secs: first,
            polls: 0,
            privacy_polls: 0,
            published: false,
            outcome: None,
            timeline: Vec::new(),
            notes: Vec::new(),
            in_doubt: false,
            trial_time: None,
            refused_85009: false,
            withdraw_tries: 0,
            found_live: false,
            rollout: None,
            after_release: None,
        }
    }

    /// A run that starts at a later stage (e.g. `wait` or `publish` commands).
    #[must_use]
    pub fn at(mut self, stage: Stage) -> Self {
        self.stage = stage;
        self
    }

    /// A rollout handed over by an earlier job (a check run's hand-over, a fleet's state file),
    /// continued under `cfg`: the review was approved and the phased release began, so the run
    /// starts in the rollout stage with the progress it was handed. The steps and on-unhealthy
    /// are the hand-over's (`handed`); the thresholds, max-holds and log marker are `cfg`'s when it
    /// has a rollout of its own (a team may tune them between looks).
    #[must_use]
    pub fn continued_rollout(
        mut cfg: Config,
        handed: PublishSpec,
        version: String,
        audit_id: Option<u64>,
        progress: RolloutProgress,
    ) -> Self {
        let own = cfg.rules.publish.rollout.take();
        cfg.rules.publish = handed;
        if let (Some(r), Some(own)) = (cfg.rules.publish.rollout.as_mut(), own) {
            r.thresholds = own.thresholds;
            r.max_holds = own.max_holds;
            r.log_marker = own.log_marker;
        }
        let mut s = State::new(cfg, Some((version, None, "none".into()))).at(Stage::Rollout);
        s.audit_id = audit_id;
        s.review = Some(Review {
            status: 0,
            reason: String::new(),
            screenshot: String::new(),
        });
        s.published = true;
        s.rollout = Some(progress);
        s
    }

    /// The run that goes on with a rollout this saved state handed over (it detached after its
    /// phased release began, its next look beyond its wait-timeout): [`State::continued_rollout`]
    /// under `cfg`, with the version and the previous version it was released over. `None` for
    /// any other saved state.
    #[must_use]
    pub fn rollout_handed_over(&self, cfg: Config) -> Option<Self> {
        let progress = self.rollout.clone()?;
        if self.stage != Stage::Done || self.outcome != Some(Outcome::Detached) || !self.published {
            return None;
        }
        let mut s = State::continued_rollout(
            cfg,
            self.config.rules.publish.clone(),
            self.version.clone().unwrap_or_default(),
            self.audit_id,
            progress,
        );
        s.previous_version.clone_from(&self.previous_version);
        Some(s)
    }

    pub(crate) fn open_span(&mut self, now: u64) {
        if self
            .timeline
            .last()
            .is_none_or(|s| s.stage != self.stage || s.end.is_some())
        {
            self.timeline.push(Span {
                stage: self.stage,
                start: now,
                end: None,
            });
        }
    }

    /// `--dry-run`: the run ends here, before `effect` (a change) is performed.
    pub fn stop_before(&mut self, effect: &Effect, now: u64) {
        self.outcome = Some(Outcome::DryRun {
            next: effect.name().to_owned(),
        });
        self.pending = None;
        self.stage = Stage::Done;
        self.close_span(now);
    }

    pub(crate) fn close_span(&mut self, now: u64) {
        let stage = self.stage;
        for span in self
            .timeline
            .iter_mut()
            .filter(|s| s.end.is_none() && s.stage != stage)
        {
            span.end = Some(now);
        }
        if stage == Stage::Done {
            for span in self.timeline.iter_mut().filter(|s| s.end.is_none()) {
                span.end = Some(now);
            }
        }
    }

    /// The review status word of the report: approved, rejected, pending, withdrawn, delayed;
    /// `not-submitted` when the run ended before a review existed.
    pub fn review_status(&self) -> &'static str {
        match self.review.as_ref().map(|r| r.status) {
            Some(0) => "approved",
            Some(1) => "rejected",
            Some(3) => "withdrawn",
            Some(4) => "delayed",
            _ if self.audit_id.is_none() && self.stage == Stage::Done => "not-submitted",
            _ => "pending",
        }
    }
}
