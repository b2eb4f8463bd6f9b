//! Typed WeChat answers, shared by the pipeline's runner and the single-call commands: one reading
//! of each answer. Fields a decision rests on are strict (a review status outside 0–4, an
//! `auditid` that is not a number, a version that is not text: the answer is refused, never
//! guessed at); descriptive fields are lenient (absent or mistyped text reads as empty).

use serde::de::{DeserializeOwned, Deserializer};
use serde::Deserialize;
use serde_json::Value;

/// Reads an answer as `T`; the error says what did not fit.
pub fn parse<T: DeserializeOwned>(v: &Value) -> Result<T, String> {
    T::deserialize(v).map_err(|e| e.to_string())
}

/// Text that is absent, null or not a string reads as empty (descriptions, reasons).
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        _ => String::new(),
    })
}

/// A number that is absent or not a number reads as none (times).
fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(Value::deserialize(d)?.as_u64())
}

/// A count that is absent or not a number reads as 0 (quota figures, for the report only).
fn count<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    Ok(Value::deserialize(d)?
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(0))
}

fn count64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(Value::deserialize(d)?.as_u64().unwrap_or(0))
}

/// A version: text, or absent; an empty string counts as absent.
fn version<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|v| !v.is_empty()))
}

/// `getversioninfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct VersionInfo {
    /// The trial version (体验版).
    #[serde(default)]
    pub exp_info: Option<ExpInfo>,
    /// The live version (线上版本).
    #[serde(default)]
    pub release_info: Option<ReleaseInfo>,
}

/// `exp_info`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ExpInfo {
    /// `exp_version`.
    #[serde(default, deserialize_with = "version")]
    pub exp_version: Option<String>,
    /// `exp_desc`: carries the run's identity marker.
    #[serde(default, deserialize_with = "text")]
    pub exp_desc: String,
    /// `exp_time` (Unix seconds, WeChat's clock).
    #[serde(default, deserialize_with = "number")]
    pub exp_time: Option<u64>,
}

/// `release_info`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ReleaseInfo {
    /// `release_version`.
    #[serde(default, deserialize_with = "version")]
    pub release_version: Option<String>,
    /// `release_desc`.
    #[serde(default, deserialize_with = "text")]
    pub release_desc: String,
    /// `release_time`.
    #[serde(default, deserialize_with = "number")]
    pub release_time: Option<u64>,
}

impl VersionInfo {
    /// The live version, if WeChat reported one.
    pub fn live(&self) -> Option<String> {
        self.release_info.as_ref()?.release_version.clone()
    }

    /// The trial version, if any.
    pub fn trial(&self) -> Option<String> {
        self.exp_info.as_ref()?.exp_version.clone()
    }
}

/// A review's status: one of WeChat's five. Any other value is refused when the answer is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewStatus {
    /// 0
    Approved,
    /// 1
    Rejected,
    /// 2
    InReview,
    /// 3
    Withdrawn,
    /// 4
    Delayed,
}

impl ReviewStatus {
    /// WeChat's number.
    pub fn code(self) -> u8 {
        match self {
            Self::Approved => 0,
            Self::Rejected => 1,
            Self::InReview => 2,
            Self::Withdrawn => 3,
            Self::Delayed => 4,
        }
    }
}

impl<'de> Deserialize<'de> for ReviewStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Ok(match v.as_u64() {
            Some(0) => Self::Approved,
            Some(1) => Self::Rejected,
            Some(2) => Self::InReview,
            Some(3) => Self::Withdrawn,
            Some(4) => Self::Delayed,
            _ => {
                return Err(serde::de::Error::custom(format!(
                    "status {v} is none of WeChat's review states (0–4)"
                )))
            }
        })
    }
}

/// `get_auditstatus` and `get_latest_auditstatus`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AuditStatus {
    /// The review (`get_latest_auditstatus` only).
    #[serde(default)]
    pub auditid: Option<u64>,
    /// Its status (required).
    pub status: ReviewStatus,
    /// Rejection or delay reason (may hold `<br>`).
    #[serde(default, deserialize_with = "text")]
    pub reason: String,
    /// `|`-separated screenshot media ids as the field table spells it (see [`Self::screenshots`]).
    #[serde(default, deserialize_with = "text")]
    pub screenshot: String,
    /// The same as the example spells it (`ScreenShot`); answers may carry both.
    #[serde(default, deserialize_with = "text", rename = "ScreenShot")]
    pub screen_shot: String,
    /// The version under review (`get_latest_auditstatus`).
    #[serde(default, deserialize_with = "text")]
    pub user_version: String,
    /// Submitted at (Unix seconds).
    #[serde(default, deserialize_with = "number")]
    pub submit_audit_time: Option<u64>,
}

impl AuditStatus {
    /// The screenshot media ids, from whichever spelling carries them.
    pub fn screenshots(&self) -> &str {
        if self.screenshot.is_empty() {
            &self.screen_shot
        } else {
            &self.screenshot
        }
    }
}

/// `queryquota`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct QuotaInfo {
    /// Reviews left this month.
    #[serde(default, deserialize_with = "count")]
    pub rest: u32,
    /// This month's allocation.
    #[serde(default, deserialize_with = "count")]
    pub limit: u32,
    /// Speed-ups left.
    #[serde(default, deserialize_with = "count")]
    pub speedup_rest: u32,
    /// Speed-up allocation.
    #[serde(default, deserialize_with = "count")]
    pub speedup_limit: u32,
}

/// `get_code_privacy_info` (on errcode 0, C2: the lists decide).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct PrivacyInfo {
    /// APIs used without permission.
    #[serde(default)]
    pub without_auth_list: Vec<String>,
    /// APIs used but not declared.
    #[serde(default)]
    pub without_conf_list: Vec<String>,
}

/// `submit_audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Submitted {
    /// The new review (required).
    pub auditid: u64,
}

/// `getgrayreleaseplan`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct GrayPlanInfo {
    /// The plan.
    #[serde(default)]
    pub gray_release_plan: GrayPlan,
}

/// `gray_release_plan`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct GrayPlan {
    /// 0 none, 1 running, 2 paused, 3 finished, 4 deleted.
    #[serde(default, deserialize_with = "count")]
    pub status: u32,
    /// The percentage reached.
    #[serde(default, deserialize_with = "count")]
    pub gray_percentage: u32,
    /// When the plan was created (Unix seconds, WeChat's clock).
    #[serde(default, deserialize_with = "count64")]
    pub create_timestamp: u64,
}

/// `jserr_list` (运维中心, wechat-ops-api.md B.1): one page of error signatures of a version.
/// The counts decide a rollout, so they must be numbers (a mistyped answer stops the gate).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct JsErrList {
    /// The signatures of this page.
    #[serde(default)]
    pub data: Vec<JsErr>,
    /// Signatures in all.
    #[serde(default, rename = "totalCount")]
    pub total_count: u64,
}

/// One error signature of `jserr_list`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct JsErr {
    /// `errorMsgMd5`.
    #[serde(default, rename = "errorMsgMd5")]
    pub msg_md5: String,
    /// `errorMsg`.
    #[serde(default, rename = "errorMsg")]
    pub msg: String,
    /// `errorStackMd5`.
    #[serde(default, rename = "errorStackMd5")]
    pub stack_md5: String,
    /// `errorStack`.
    #[serde(default, rename = "errorStack")]
    pub stack: String,
    /// Error users.
    pub uv: u64,
    /// Events.
    pub pv: u64,
}

/// `feedback/list` (B.5): one page of user feedback, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct FeedbackList {
    /// Feedback in all.
    #[serde(default)]
    pub total_num: u64,
    /// This page.
    #[serde(default)]
    pub list: Vec<FeedbackItem>,
}

/// One feedback record (only what the gate uses).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct FeedbackItem {
    /// `record_id`.
    #[serde(default)]
    pub record_id: u64,
    /// Created at (Unix seconds).
    pub create_time: u64,
    /// 1 无法打开, 2 闪退, 3 卡顿, 4 黑屏白屏, 5 死机, 6 界面错位, 7 界面加载慢, 8 其他异常.
    #[serde(rename = "type")]
    pub kind: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decisions_are_strict_descriptions_lenient() {
        let a: AuditStatus = parse(&json!({"auditid": 7, "status": 1, "reason": "bad<br>icon", "ScreenShot": "m1|m2", "submit_audit_time": 5})).unwrap();
        assert_eq!(
            (a.status, a.screenshots(), a.submit_audit_time),
            (ReviewStatus::Rejected, "m1|m2", Some(5))
        );
        // both spellings at once (the emulator sends both, as the docs disagree)
        let both: AuditStatus =
            parse(&json!({"status": 1, "screenshot": "", "ScreenShot": "m3"})).unwrap();
        assert_eq!(both.screenshots(), "m3");
        for bad in [
            json!({"status": 9}),
            json!({"reason": "x"}),
            json!({"status": "0"}),
            json!({"status": null}),
        ] {
            assert!(parse::<AuditStatus>(&bad).is_err(), "{bad}");
        }
        let a: AuditStatus = parse(&json!({"status": 2, "reason": 42})).unwrap();
        assert_eq!(a.reason, "");
        assert!(parse::<Submitted>(&json!({"auditid": "7"})).is_err());
        assert!(parse::<Submitted>(&json!({})).is_err());
        let v: VersionInfo =
            parse(&json!({"exp_info": {"exp_version": "1.2.0", "exp_desc": "d", "exp_time": 9}}))
                .unwrap();
        assert_eq!((v.live(), v.trial()), (None, Some("1.2.0".into())));
        let v: VersionInfo = parse(&json!({"release_info": {"release_version": ""}})).unwrap();
        assert_eq!(v.live(), None, "an empty version is none");
        assert!(parse::<VersionInfo>(&json!({"release_info": {"release_version": 7}})).is_err());
        let q: QuotaInfo = parse(&json!({"rest": 3, "limit": "x"})).unwrap();
        assert_eq!((q.rest, q.limit), (3, 0));
    }
}
