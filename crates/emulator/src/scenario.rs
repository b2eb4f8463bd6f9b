//! Scenarios: how reviews end, how long the privacy scan takes, quotas, limits, token lifetime, and
//! faults. The same structure is built in Rust (builder methods) or loaded from YAML/JSON (served
//! mode, `--scenario FILE`, or `POST /__emulator/scenario`).

use serde::{Deserialize, Serialize};

/// Everything that is scripted rather than modelled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Scenario {
    /// Scripts for the 1st, 2nd, … review submitted (any app); later ones use `default-review`.
    pub reviews: Vec<Vec<ReviewStep>>,
    /// The script of reviews beyond `reviews`.
    pub default_review: Vec<ReviewStep>,
    /// Scripts per app (appid → steps): every review of that app follows it, before `reviews`.
    pub app_reviews: std::collections::BTreeMap<String, Vec<ReviewStep>>,
    /// How long the privacy-API scan after a commit or upload runs.
    pub privacy_scan: ScanRule,
    /// Lifetime of every token the emulator issues, in seconds.
    pub token_lifetime: u64,
    /// Monthly review quota of each platform.
    pub review_quota: u32,
    /// Monthly speed-up quota of each platform.
    pub speedup_quota: u32,
    /// After this many submissions of a platform, its review quota is cut to 0 (85085): WeChat's
    /// sanction for bulk submissions of failing apps (wechat-ops-api.md D.1), or another tool
    /// spending the shared quota — a quota that runs out although queryquota said enough.
    pub quota_cut_after: Option<u32>,
    /// Largest code package `commit` accepts (bytes of the template), else 85044.
    pub code_size_limit: u64,
    /// Longest `version_desc` accepted by `submit_audit`, else 85051.
    /// REFERENCE-UNSURE: the docs give no number for 85051; 1,000 characters is our choice.
    pub version_desc_limit: usize,
    /// Per-endpoint rate limits (45011 per minute, 45009 per day).
    pub rate_limits: Vec<RateLimit>,
    /// Scripted faults.
    pub faults: Vec<FaultRule>,
    /// Seeded random faults.
    pub random_faults: Option<RandomFaults>,
    /// Follow the wall clock instead of the virtual clock (served mode only).
    pub real_time: bool,
    /// Package limits of code uploads, in MB, as getattr reports them.
    pub upload_limits: UploadLimits,
    /// The extension whitelist `getwhiteextlist` returns (`None`: an empty answer, so the client
    /// uses its built-in list, as captured from WeChat).
    pub white_ext_list: Option<Vec<String>>,
    /// How much the emulator keeps: uploads and journal entries beyond these are dropped, oldest
    /// first (a long-served emulator at fleet scale stays bounded).
    pub retention: Retention,
    /// Served mode: each answer is held back this long (a benchmark's network latency).
    pub latency_ms: u64,
    /// Served mode: WeChat's encrypted pushes to the platform (review results, tickets) are
    /// POSTed here, as WeChat posts them to a platform's server.
    pub push: Option<PushTarget>,
    /// Operations data: daily visits and JS errors per version (datacube, jserr_list).
    pub traffic: Option<Traffic>,
}

/// The operations data the emulator answers: visits a day (with a deterministic wobble) and the JS
/// errors each version throws a day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Traffic {
    /// Visitors a day (`visit_uv`, ±15 %).
    pub daily_uv: u64,
    /// Pages a visitor opens.
    pub pages_per_user: u64,
    /// Seconds a visitor stays.
    pub stay_seconds: f64,
    /// Errors by version.
    pub errors: Vec<JsError>,
    /// User feedback (`feedback/list`), each appearing once the clock reaches it.
    pub feedback: Vec<Feedback>,
    /// The pages `visitpage` lists, most visited first (each has half the visits of the one
    /// before it, give or take).
    pub pages: Vec<String>,
    /// Start-up time in milliseconds (`performance/boot` module 10017), ±10 % a day.
    pub startup_ms: u64,
    /// The marker the app writes into its real-time log (`setFilterMsg`), `{version}` standing
    /// for its version: what `userlog_search`'s `filterMsg` matches.
    pub log_marker: String,
    /// Error entries of the real-time log (`userlog_search`), per version: `per-mille` of the
    /// version's users have one (`users-per-day` adds a fixed number; `stack` and `events-per-day`
    /// are not used).
    pub log_errors: Vec<JsError>,
}

/// One piece of user feedback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Feedback {
    /// 1 无法打开小程序, 2 闪退, 3 卡顿, 4 黑屏白屏, 5 死机, 6 界面错位, 7 界面加载慢, 8 其他异常.
    #[serde(rename = "type")]
    pub kind: u8,
    /// What the user wrote.
    pub content: String,
    /// Seconds after the emulator's epoch it is sent (listed once the clock reaches it); with
    /// `version`, seconds after that version first reached users.
    pub at_seconds: u64,
    /// Sent only once this version reached users (`@new`: the newest version to reach users,
    /// `@previous`: the one before it; or a version string).
    #[serde(default)]
    pub version: Option<String>,
}

impl Default for Traffic {
    fn default() -> Self {
        Self {
            daily_uv: 1000,
            pages_per_user: 3,
            stay_seconds: 95.0,
            errors: Vec::new(),
            feedback: Vec::new(),
            pages: vec![
                "pages/index/index".into(),
                "pages/detail/detail".into(),
                "pages/cart/cart".into(),
                "pages/me/me".into(),
            ],
            startup_ms: 1800,
            log_marker: "v{version}".into(),
            log_errors: Vec::new(),
        }
    }
}

/// One error signature of one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct JsError {
    /// The mini program version (`appVersion`): a version string, `@new` (the newest version to
    /// reach users, phased or live) or `@previous` (the one before it).
    pub version: String,
    /// `errorMsg`.
    pub message: String,
    /// `errorStack`.
    #[serde(default)]
    pub stack: String,
    /// Error users a day (`uv`), whatever share of users the version has.
    #[serde(default)]
    pub users_per_day: u64,
    /// Events a day (`pv`).
    #[serde(default)]
    pub events_per_day: u64,
    /// Error users per thousand users of the version (follows its share: a version phased at
    /// 5 % has 5 % of `daily-uv`); added to `users-per-day`. Each error user has two events.
    #[serde(default)]
    pub per_mille: f64,
    /// `per-mille` counts only while the version is phased at this percentage or more (or is
    /// live): an error on a path that only a wider rollout reaches.
    #[serde(default)]
    pub from_percent: u32,
}

/// Where the emulator pushes, and with which message crypto.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PushTarget {
    /// The 消息与事件接收 URL (review results); `$APPID$` is replaced by the mini program's appid.
    pub url: String,
    /// The 授权事件接收 URL (`component_verify_ticket`); no ticket pushes when absent.
    #[serde(default)]
    pub ticket_url: Option<String>,
    /// The platform's message Token.
    pub token: String,
    /// The platform's EncodingAESKey (43 characters).
    pub encoding_aes_key: String,
}

/// What the emulator keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Retention {
    /// Uploads (with their files) kept for inspection.
    pub uploads: usize,
    /// Journal entries kept.
    pub journal: usize,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            uploads: 64,
            journal: 200_000,
        }
    }
}

/// Code-package limits (getattr `setting`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct UploadLimits {
    /// `MaxCodeSize`: the main package.
    pub main_mb: u64,
    /// `MaxSubpackageSubCodeSize`: each subpackage.
    pub sub_mb: u64,
    /// `MaxSubpackageFullCodeSize`: everything together.
    pub full_mb: u64,
}

impl Default for UploadLimits {
    fn default() -> Self {
        // As captured from getattr: 2 MB, 2 MB, 12 MB.
        Self {
            main_mb: 2,
            sub_mb: 2,
            full_mb: 12,
        }
    }
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            reviews: Vec::new(),
            default_review: vec![ReviewStep::approve_after_polls(3)],
            app_reviews: std::collections::BTreeMap::new(),
            quota_cut_after: None,
            privacy_scan: ScanRule::default(),
            token_lifetime: 7200,
            review_quota: 20,
            speedup_quota: 5,
            code_size_limit: 20 * 1024 * 1024,
            version_desc_limit: 1000,
            rate_limits: Vec::new(),
            faults: Vec::new(),
            random_faults: None,
            real_time: false,
            upload_limits: UploadLimits::default(),
            white_ext_list: None,
            retention: Retention::default(),
            latency_ms: 0,
            push: None,
            traffic: None,
        }
    }
}

impl Scenario {
    /// Parses a YAML (or JSON, which is YAML) scenario.
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        // Through a JSON value: YAML tags aside, serde_norway reads enums only from `!tags`, while a
        // scenario file should read the same as its JSON form (`outcome: {reject: {reason: …}}`).
        let value: serde_json::Value =
            serde_norway::from_str(text).map_err(|e| format!("scenario: {e}"))?;
        serde_json::from_value(value).map_err(|e| format!("scenario: {e}"))
    }

    /// Sets the script of the next review in line (appends to `reviews`).
    #[must_use]
    pub fn review(mut self, steps: Vec<ReviewStep>) -> Self {
        self.reviews.push(steps);
        self
    }

    /// Sets the script of every review of `appid`.
    #[must_use]
    pub fn app_review(mut self, appid: &str, steps: Vec<ReviewStep>) -> Self {
        self.app_reviews.insert(appid.to_owned(), steps);
        self
    }

    /// Sets the privacy scan rule.
    #[must_use]
    pub fn privacy_scan(mut self, polls: u32, seconds: u64) -> Self {
        self.privacy_scan = ScanRule { polls, seconds };
        self
    }

    /// Adds a scripted fault.
    #[must_use]
    pub fn fault(mut self, endpoint: &str, call: Option<u32>, kind: FaultKind) -> Self {
        self.faults.push(FaultRule {
            endpoint: endpoint.to_owned(),
            call,
            kind,
            after: false,
        });
        self
    }

    /// Adds a scripted fault that strikes after the request took effect (the answer is lost).
    #[must_use]
    pub fn fault_after(mut self, endpoint: &str, call: Option<u32>, kind: FaultKind) -> Self {
        self.faults.push(FaultRule {
            endpoint: endpoint.to_owned(),
            call,
            kind,
            after: true,
        });
        self
    }

    /// Adds a rate limit.
    #[must_use]
    pub fn rate_limit(
        mut self,
        endpoint: &str,
        per_minute: Option<u32>,
        per_day: Option<u32>,
    ) -> Self {
        self.rate_limits.push(RateLimit {
            endpoint: endpoint.to_owned(),
            per_minute,
            per_day,
        });
        self
    }
}

/// The privacy scan ends when it has answered 61039 `polls` times, or `seconds` after it started,
/// whichever comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ScanRule {
    /// 61039 answers (from get_code_privacy_info or submit_audit) before the scan is done.
    pub polls: u32,
    /// Seconds of emulator time after which the scan is done.
    pub seconds: u64,
}

impl Default for ScanRule {
    fn default() -> Self {
        // The reference says "wait about one minute".
        Self {
            polls: 1,
            seconds: 60,
        }
    }
}

/// One step of a review script. It fires on a status poll once `after-polls` polls (counted from the
/// previous step) have been answered, or once `after-seconds` of emulator time have passed since the
/// previous step; with neither, on the first poll.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReviewStep {
    /// Polls before it fires.
    #[serde(default)]
    pub after_polls: Option<u32>,
    /// Seconds before it fires.
    #[serde(default)]
    pub after_seconds: Option<u64>,
    /// What happens.
    pub outcome: Outcome,
}

impl ReviewStep {
    /// Approve after `n` polls.
    pub fn approve_after_polls(n: u32) -> Self {
        Self {
            after_polls: Some(n),
            after_seconds: None,
            outcome: Outcome::Approve,
        }
    }

    /// Reject after `n` polls.
    pub fn reject_after_polls(n: u32, reason: &str, screenshots: &[&str]) -> Self {
        Self {
            after_polls: Some(n),
            after_seconds: None,
            outcome: Outcome::Reject {
                reason: reason.to_owned(),
                screenshots: screenshots.iter().map(|s| (*s).to_owned()).collect(),
            },
        }
    }

    /// Delay (status 4) after `n` polls.
    pub fn delay_after_polls(n: u32, reason: &str) -> Self {
        Self {
            after_polls: Some(n),
            after_seconds: None,
            outcome: Outcome::Delay {
                reason: reason.to_owned(),
            },
        }
    }

    /// Fire at `seconds` after the previous step instead of after polls.
    #[must_use]
    pub fn at_seconds(mut self, seconds: u64) -> Self {
        self.after_polls = None;
        self.after_seconds = Some(seconds);
        self
    }
}

/// How a review step ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub enum Outcome {
    /// Status 0.
    Approve,
    /// Status 1 with a reason and screenshot media ids.
    Reject {
        /// The rejection reason (may contain `<br>`).
        reason: String,
        /// Screenshot media ids.
        #[serde(default)]
        screenshots: Vec<String>,
    },
    /// Status 4 with a reason; the next step decides the end.
    Delay {
        /// The delay reason.
        reason: String,
    },
    /// Status 3: someone withdrew the review in the console (no event is pushed for it).
    Withdraw,
}

/// A rate limit on one endpoint path, counted per calling account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RateLimit {
    /// e.g. `/wxa/get_auditstatus`.
    pub endpoint: String,
    /// Calls per clock minute, else 45011.
    #[serde(default)]
    pub per_minute: Option<u32>,
    /// Calls per day (Beijing time), else 45009.
    #[serde(default)]
    pub per_day: Option<u32>,
}

/// A scripted fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FaultRule {
    /// Endpoint path (`/wxa/submit_audit`) or `*` for any.
    pub endpoint: String,
    /// The 1-based call index on that endpoint it strikes; every call when absent.
    #[serde(default)]
    pub call: Option<u32>,
    /// What happens.
    pub kind: FaultKind,
    /// Strike after the request took effect (its answer is lost) rather than before.
    #[serde(default)]
    pub after: bool,
}

/// What a fault does to one exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub enum FaultKind {
    /// Answer `{errcode, errmsg}` with this code (HTTP 200).
    Errcode(i64),
    /// Answer with this HTTP status and an HTML body.
    Http(u16),
    /// Hold the answer this many milliseconds (beyond a client's timeout, it is a timeout).
    DelayMs(u64),
    /// Close the connection without answering.
    Cut,
    /// Answer with the first half of the JSON body (a valid HTTP message, a broken JSON document).
    Truncated,
    /// Answer 200 with an HTML page instead of JSON.
    NonJson,
    /// Answer the right body with the wrong `Content-Type`.
    WrongContentType,
    /// A hostile middle box: answer with this redirect (`status` 301/302/307/308) to `location`.
    Redirect {
        /// The 3xx status.
        status: u16,
        /// The `Location` header.
        location: String,
    },
    /// A hostile middle box: `{errcode: -1, errmsg}` with an errmsg of this many bytes.
    HugeErrmsg(usize),
    /// A hostile middle box: this exact body (JSON or not) with HTTP 200, instead of the answer.
    Body(String),
}

/// Seeded random faults at a rate, over all endpoints or a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RandomFaults {
    /// PRNG seed (the sequence is reproducible).
    pub seed: u64,
    /// Probability per call, 0.0–1.0.
    pub rate: f64,
    /// Kinds to draw from.
    pub kinds: Vec<FaultKind>,
    /// Endpoints to hit; all when empty.
    #[serde(default)]
    pub endpoints: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_round_trip_and_unknown_keys() {
        let yaml = r"
reviews:
  - - after-polls: 2
      outcome: {delay: {reason: need more time}}
    - after-seconds: 3600
      outcome: {reject: {reason: bad, screenshots: [m1, m2]}}
privacy-scan: {polls: 3, seconds: 120}
rate-limits: [{endpoint: /wxa/get_auditstatus, per-minute: 5}]
faults:
  - {endpoint: /wxa/submit_audit, call: 1, kind: {errcode: -1}}
  - {endpoint: '*', kind: cut, after: true}
random-faults: {seed: 7, rate: 0.1, kinds: [truncated, non-json]}
";
        let s = Scenario::from_yaml(yaml).unwrap();
        assert_eq!(
            s.reviews[0][1].outcome,
            Outcome::Reject {
                reason: "bad".into(),
                screenshots: vec!["m1".into(), "m2".into()]
            }
        );
        assert_eq!(
            s.privacy_scan,
            ScanRule {
                polls: 3,
                seconds: 120
            }
        );
        assert_eq!(s.faults[0].kind, FaultKind::Errcode(-1));
        assert!(s.faults[1].after);
        let back = Scenario::from_yaml(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        assert!(Scenario::from_yaml("review: []")
            .unwrap_err()
            .contains("unknown field"));
        assert_eq!(Scenario::from_yaml("").unwrap(), Scenario::default());
    }
}
