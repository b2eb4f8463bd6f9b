//! The state the emulator models: platforms, apps, tokens, templates, trial versions, reviews, live
//! versions with their rollback history, phased-release plans, quotas and counters.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A token the emulator issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    /// A mini program's own token (`cgi-bin/token` or `stable_token`).
    Own { appid: String },
    /// A platform's `component_access_token`.
    Component { component: String },
    /// An `authorizer_access_token` for an authorized app.
    Authorizer { component: String, appid: String },
}

/// A live token.
#[derive(Debug, Clone)]
pub struct Token {
    pub kind: TokenKind,
    pub expires_at: u64,
}

/// A third-party platform.
#[derive(Debug, Clone)]
pub struct Platform {
    pub secret: String,
    /// Tickets pushed so far: (ticket, issued at).
    pub tickets: Vec<(String, u64)>,
    pub review_limit: u32,
    pub review_rest: u32,
    pub speedup_limit: u32,
    pub speedup_rest: u32,
    /// The month the quotas were last refilled.
    pub quota_month: u64,
    pub drafts: Vec<Draft>,
    pub templates: Vec<Template>,
    /// Submissions accepted so far (for `quota-cut-after`).
    pub submitted: u32,
    /// 86009: may not submit new mini programs.
    pub restrict_new: bool,
    /// 86010: may not submit updates.
    pub restrict_update: bool,
    /// The platform's IP whitelist (61004); `None` allows every caller.
    pub ip_whitelist: Option<Vec<String>>,
}

impl Platform {
    /// Whether the platform's whitelist lets `ip` call.
    pub fn allows(&self, ip: &str) -> bool {
        self.ip_whitelist
            .as_ref()
            .is_none_or(|l| l.iter().any(|a| a == ip))
    }
}

/// A draft in the platform's draft box.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Draft {
    pub draft_id: u64,
    pub user_version: String,
    pub user_desc: String,
    pub create_time: u64,
    pub source_appid: String,
    pub pages: Vec<String>,
    pub size: u64,
}

/// A template in the library.
#[derive(Debug, Clone)]
pub struct Template {
    pub template_id: u64,
    pub draft: Draft,
    pub template_type: u8,
    pub create_time: u64,
    /// 85043: the template is broken.
    pub broken: bool,
}

/// A review category configured on an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// First class name.
    pub first_class: String,
    /// Second class name.
    pub second_class: String,
    /// Third class name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub third_class: Option<String>,
    /// First class id.
    pub first_id: i64,
    /// Second class id.
    pub second_id: i64,
    /// Third class id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub third_id: Option<i64>,
    /// Delisted by WeChat (85077 when used).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delisted: bool,
}

/// The trial version (体验版) made by `commit` or an upload.
#[derive(Debug, Clone, Serialize)]
pub struct Trial {
    /// Distinguishes commits made in the same (virtual) second.
    pub seq: u64,
    pub template_id: Option<u64>,
    pub user_version: String,
    pub user_desc: String,
    pub pages: Vec<String>,
    pub ext_json: serde_json::Value,
    pub committed_at: u64,
}

/// A review (审核).
#[derive(Debug, Clone, Serialize)]
pub struct Review {
    pub auditid: u64,
    /// The trial version (its `seq`) under review.
    pub trial_seq: u64,
    /// 0 approved, 1 rejected, 2 in review, 3 withdrawn, 4 delayed.
    pub status: u8,
    pub reason: String,
    pub screenshot: String,
    pub user_version: String,
    pub user_desc: String,
    pub submit_time: u64,
    /// The script and where it stands.
    #[serde(skip)]
    pub script: Vec<crate::scenario::ReviewStep>,
    pub step: usize,
    pub step_started_at: u64,
    pub step_polls: u32,
    pub sped_up: bool,
    pub released: bool,
}

impl Review {
    /// In review or delayed: still running.
    pub fn in_flight(&self) -> bool {
        matches!(self.status, 2 | 4)
    }
}

/// A version that is or was live.
#[derive(Debug, Clone, Serialize)]
pub struct LiveVersion {
    pub app_version: u64,
    pub user_version: String,
    pub user_desc: String,
    pub commit_time: u64,
    /// Reached by a rollback (cannot be rolled back again).
    pub by_rollback: bool,
}

/// From `at` on, users have `live`, except `gray.1` % of them who have `gray.0`.
#[derive(Debug, Clone, PartialEq)]
pub struct Exposure {
    pub at: u64,
    pub live: Option<String>,
    pub gray: Option<(String, u32)>,
}

impl App {
    /// Records who has which version now (after a release, a phased release, a revert or a
    /// rollback).
    pub fn expose(&mut self, now: u64) {
        let live = self.live.as_ref().map(|l| l.user_version.clone());
        let gray = self.gray.as_ref().filter(|g| g.status == 1).and_then(|g| {
            let v = self.reviews.last()?.user_version.clone();
            Some((v, g.gray_percentage))
        });
        self.exposure.push(Exposure {
            at: now,
            live,
            gray,
        });
    }

    /// Before the first change: the live version had everyone since the beginning.
    pub fn baseline(&mut self) {
        if self.exposure.is_empty() {
            let live = self.live.as_ref().map(|l| l.user_version.clone());
            self.exposure.push(Exposure {
                at: 0,
                live,
                gray: None,
            });
        }
    }

    /// The users-days of `version` over `[from, to)`, as a fraction of all users (1.0 = every
    /// user for a whole day).
    #[allow(clippy::cast_precision_loss)]
    pub fn user_days(&self, version: &str, from: u64, to: u64, from_percent: u32) -> f64 {
        let live_now = self.live.as_ref().map(|l| l.user_version.clone());
        let fallback = [Exposure {
            at: 0,
            live: live_now,
            gray: None,
        }];
        let segments: &[Exposure] = if self.exposure.is_empty() {
            &fallback
        } else {
            &self.exposure
        };
        let mut total = 0.0;
        for (i, e) in segments.iter().enumerate() {
            let end = segments.get(i + 1).map_or(to, |n| n.at).min(to);
            let start = e.at.max(from);
            if end <= start {
                continue;
            }
            let gray = e.gray.as_ref().map_or(0.0, |g| f64::from(g.1) / 100.0);
            let mut share = 0.0;
            if e.live.as_deref() == Some(version) {
                share += 1.0 - gray;
            }
            if e.gray
                .as_ref()
                .is_some_and(|g| g.0 == version && g.1 >= from_percent)
            {
                share += gray;
            }
            total += share * (end - start) as f64 / 86_400.0;
        }
        total
    }

    /// The version that reached users last (phased or live) and the one before it: what a
    /// scenario means by `@new` and `@previous`.
    pub fn newest_versions(&self) -> (Option<String>, Option<String>) {
        let mut seen: Vec<String> = Vec::new();
        for e in &self.exposure {
            for v in [e.live.clone(), e.gray.as_ref().map(|g| g.0.clone())]
                .into_iter()
                .flatten()
            {
                if seen.last() != Some(&v) {
                    seen.retain(|s| s != &v);
                    seen.push(v);
                }
            }
        }
        if seen.is_empty() {
            if let Some(l) = &self.live {
                seen.push(l.user_version.clone());
            }
        }
        let n = seen.len();
        (
            seen.get(n.wrapping_sub(1)).cloned(),
            seen.get(n.wrapping_sub(2)).cloned(),
        )
    }

    /// A scenario's version: `@new`, `@previous` (see [`App::newest_versions`]) or a version
    /// string; `None` when no such version has reached users.
    pub fn resolve(&self, version: &str) -> Option<String> {
        let (newest, previous) = self.newest_versions();
        match version {
            "@new" => newest,
            "@previous" => previous,
            v => Some(v.to_owned()),
        }
    }

    /// When `version` first reached users.
    pub fn first_exposed(&self, version: &str) -> Option<u64> {
        self.exposure
            .iter()
            .find(|e| {
                e.live.as_deref() == Some(version)
                    || e.gray.as_ref().is_some_and(|g| g.0 == version && g.1 > 0)
            })
            .map(|e| e.at)
    }
}

/// A phased-release plan.
#[derive(Debug, Clone, Serialize)]
pub struct GrayPlan {
    /// 0 initial, 1 running, 2 paused, 3 finished, 4 deleted.
    pub status: u8,
    pub create_timestamp: u64,
    pub gray_percentage: u32,
    pub support_debuger_first: bool,
    pub support_experiencer_first: bool,
}

/// The privacy-API scan that every commit or upload starts.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Scan {
    pub started_at: u64,
    pub polls: u32,
}

/// An authorization of an app to a platform.
#[derive(Debug, Clone)]
pub struct Authorization {
    pub component: String,
    pub refresh_token: String,
    pub set18: bool,
    /// When the merchant authorized the platform.
    pub auth_time: u64,
    /// Whether `api_get_authorizer_list` shows the refresh token (community reports items
    /// without one).
    pub refresh_listed: bool,
}

/// A mini program.
#[derive(Debug, Clone)]
pub struct App {
    pub secret: String,
    pub minigame: bool,
    pub profile_complete: bool,
    pub categories: Vec<Category>,
    pub without_auth_list: Vec<String>,
    pub without_conf_list: Vec<String>,
    pub authorization: Option<Authorization>,
    pub submit_forbidden: bool,
    pub live_streaming_dev: bool,
    pub speedup_unsupported: bool,
    pub uses_navigate_to_mini_program: bool,
    pub permitted_location_apis: Vec<String>,
    pub plugin_permissions: Vec<String>,
    pub upload_public_keys: Vec<String>,
    pub trial: Option<Trial>,
    pub scan: Option<Scan>,
    pub reviews: Vec<Review>,
    pub live: Option<LiveVersion>,
    /// Rollback targets, most recent first (at most 5).
    pub history: Vec<LiveVersion>,
    pub gray: Option<GrayPlan>,
    /// Which versions users had, and when it changed (drives the operations data).
    pub exposure: Vec<Exposure>,
    pub visit_open: bool,
    /// Times of successful withdrawals (undo limits).
    pub undo_log: Vec<u64>,
    /// `cgi-bin/token` and `stable_token` slots.
    pub own_token: Option<String>,
    pub stable_token: Option<String>,
    pub force_refresh_log: Vec<u64>,
    pub next_app_version: u64,
    /// The API IP whitelist for AppSecret calls (40164); `None` when switched off.
    pub api_ip_whitelist: Option<Vec<String>>,
    /// Account states the AppSecret calls report: 40243, 50004, 50007, 89503, 89506, 89507.
    pub secret_block: Option<i64>,
    /// getattr `platform`: a third-party platform's app (ext.json takes effect).
    pub platform_app: bool,
    /// The platform whose draft box receives this app's uploads (a development mini program).
    pub dev_of: Option<String>,
    /// The code-upload IP whitelist (-10008 for other callers); `None` when switched off.
    pub upload_ip_whitelist: Option<Vec<String>>,
}

/// One upload or preview the emulator accepted, as it unpacked it.
#[derive(Debug, Clone, Serialize)]
pub struct UploadRecord {
    /// The uploading appid.
    pub appid: String,
    /// `version` (0.0.1 for previews).
    pub version: String,
    /// `desc`.
    pub desc: String,
    /// `robot`.
    pub robot: String,
    /// A preview (`testSourceURL`).
    pub preview: bool,
    /// The query parameters in the order received.
    pub query: Vec<(String, String)>,
    /// The pack entries, in order (the last is `/ci.signature`).
    #[serde(skip)]
    pub files: Vec<(String, Vec<u8>)>,
}

/// Per-account counters (rate limits and quota resets).
#[derive(Debug, Clone, Default)]
pub struct Counters {
    /// (path, minute) → calls.
    pub minute: BTreeMap<(String, u64), u32>,
    /// (path, day) → calls.
    pub day: BTreeMap<(String, u64), u32>,
    /// Times of `clear_quota` calls.
    pub clears: Vec<u64>,
}

/// A registered plugin (for ext_json `plugins` checks).
#[derive(Debug, Clone, Default)]
pub struct Plugin {
    pub versions: Vec<String>,
}
