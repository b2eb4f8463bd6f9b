//! Code management for an authorized app (authorizer token, permission set 18): commit, the privacy
//! scan, review, release, phased release, rollback, version info, the trial QR code.

use super::model::{App, GrayPlan, LiveVersion, Review, Scan, Trial};
use super::{Answer, Ctx, Response, World};
use crate::clock::{day_of, month_of};
use mp_release_core::version::MAX_USER_VERSION_CHARS;
use serde_json::{json, Map, Value};

/// The eight location APIs that `requiredPrivateInfos` may declare.
const LOCATION_APIS: &[&str] = &[
    "getFuzzyLocation",
    "getLocation",
    "onLocationChange",
    "startLocationUpdate",
    "startLocationUpdateBackground",
    "chooseLocation",
    "choosePoi",
    "chooseAddress",
];
/// Keys a standard template's ext_json may carry (else 9402203).
const STANDARD_KEYS: &[&str] = &["extAppid", "ext", "window"];
/// Second classes of 社交 that need a UGC declaration on the first submission (85094).
const UGC_SECOND: &[&str] = &["社区/论坛", "笔记", "问答"];
/// Rollback history length.
const HISTORY: usize = 5;
/// Withdrawals per day and per month (87013).
const UNDO_DAY: usize = 5;
const UNDO_MONTH: usize = 10;

impl World {
    pub(super) fn caller_app(&mut self, c: &Ctx<'_>) -> Result<&mut App, i64> {
        let appid = c.caller.appid().to_owned();
        self.app_mut(&appid)
    }

    fn scan_done(&self, scan: Option<Scan>) -> bool {
        let rule = self.scenario.privacy_scan;
        scan.is_none_or(|s| s.polls >= rule.polls || self.now() >= s.started_at + rule.seconds)
    }

    /// Answers 61039 while the scan runs, counting the poll.
    fn scan_pending(&mut self, appid: &str) -> bool {
        let scan = self.apps.get(appid).and_then(|a| a.scan);
        if self.scan_done(scan) {
            return false;
        }
        if let Some(s) = self.apps.get_mut(appid).and_then(|a| a.scan.as_mut()) {
            s.polls += 1;
        }
        true
    }

    /// Makes the trial version and restarts the privacy scan (commit and upload both do this).
    pub(crate) fn set_trial(&mut self, appid: &str, mut trial: Trial) {
        trial.seq = self.next_id();
        let now = self.now();
        if let Some(app) = self.apps.get_mut(appid) {
            app.trial = Some(trial);
            app.scan = Some(Scan {
                started_at: now,
                polls: 0,
            });
        }
    }

    /// `POST /wxa/commit` `{template_id, ext_json, user_version, user_desc}`.
    pub(super) fn commit(&mut self, c: &Ctx<'_>) -> Answer {
        let appid = c.caller.appid().to_owned();
        let component = c.caller.component().to_owned();
        let template_id = c.num("template_id").ok_or(85014)?;
        let ext = match c.body.get("ext_json") {
            None => Map::new(),
            // ext_json is a JSON-encoded *string*; an object is refused.
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(Value::Object(m)) => m,
                Ok(_) => return Err(85013),
                Err(_) => return Err(85048),
            },
            Some(_) => return Err(85013),
        };
        let user_version = c.str("user_version").unwrap_or_default().to_owned();
        // REFERENCE-UNSURE: the 64-character limit has no documented code; we answer 47001.
        if user_version.is_empty() || user_version.chars().count() > MAX_USER_VERSION_CHARS {
            return Err(47001);
        }
        let user_desc = c.str("user_desc").unwrap_or_default().to_owned();
        let template = self
            .platforms
            .get(&component)
            .and_then(|p| p.templates.iter().find(|t| t.template_id == template_id))
            .cloned()
            .ok_or(85014)?;
        if template.broken {
            return Err(85043);
        }
        if template.template_type == 1 && ext.keys().any(|k| !STANDARD_KEYS.contains(&k.as_str())) {
            return Err(9402203);
        }
        if template.draft.size > self.scenario.code_size_limit {
            return Err(85044);
        }
        let pages = match ext.get("pages") {
            None => template.draft.pages,
            Some(Value::Array(list)) => {
                let pages: Vec<String> = list
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect();
                if pages.is_empty() {
                    return Err(85047);
                }
                if pages.iter().any(|p| !template.draft.pages.contains(p)) {
                    return Err(85045);
                }
                pages
            }
            Some(_) => return Err(85013),
        };
        if let Some(list) = ext
            .get("tabBar")
            .and_then(|t| t.get("list"))
            .and_then(Value::as_array)
        {
            let missing = list.iter().any(|i| {
                i.get("pagePath")
                    .and_then(Value::as_str)
                    .is_none_or(|p| !pages.iter().any(|q| q == p))
            });
            if missing {
                return Err(85046);
            }
        }
        self.check_plugins(&appid, ext.get("plugins"))?;
        self.check_private_infos(&appid, ext.get("requiredPrivateInfos"))?;
        let now = self.now();
        let trial = Trial {
            seq: 0,
            template_id: Some(template_id),
            user_version,
            user_desc,
            pages,
            ext_json: Value::Object(ext),
            committed_at: now,
        };
        self.set_trial(&appid, trial);
        Ok(json!({}))
    }

    fn check_plugins(&self, appid: &str, plugins: Option<&Value>) -> Result<(), i64> {
        let Some(Value::Object(list)) = plugins else {
            return Ok(());
        };
        let app = self.apps.get(appid).ok_or(40013)?;
        for spec in list.values() {
            let provider = spec
                .get("provider")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let version = spec
                .get("version")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let plugin = self.plugins.get(provider).ok_or(80067)?;
            if !plugin.versions.iter().any(|v| v == version) {
                return Err(80066);
            }
            if !app.plugin_permissions.iter().any(|p| p == provider) {
                return Err(80082);
            }
        }
        Ok(())
    }

    fn check_private_infos(&self, appid: &str, infos: Option<&Value>) -> Result<(), i64> {
        let Some(v) = infos else { return Ok(()) };
        let Some(list) = v.as_array() else {
            return Err(85310);
        };
        let names: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
        if names.len() != list.len() || names.iter().any(|n| !LOCATION_APIS.contains(n)) {
            return Err(85310);
        }
        if names.contains(&"getFuzzyLocation") && names.contains(&"getLocation") {
            return Err(85311);
        }
        let app = self.apps.get(appid).ok_or(40013)?;
        if names
            .iter()
            .any(|n| !app.permitted_location_apis.iter().any(|p| p == n))
        {
            return Err(85312);
        }
        Ok(())
    }

    /// `GET /wxa/get_page`.
    pub(super) fn get_page(&mut self, c: &Ctx<'_>) -> Answer {
        let trial = self.caller_app(c)?.trial.as_ref().ok_or(86001)?;
        Ok(json!({ "page_list": trial.pages }))
    }

    /// `GET /wxa/get_category`.
    pub(super) fn get_category(&mut self, c: &Ctx<'_>) -> Answer {
        let app = self.caller_app(c)?;
        Ok(
            json!({ "category_list": app.categories.iter().filter(|c| !c.delisted).collect::<Vec<_>>() }),
        )
    }

    /// `GET /wxa/security/get_code_privacy_info`: 61039 until the scan is done, then errcode 0 with
    /// both lists, empty or not (C2: the official success example carries non-empty lists; the
    /// lists decide whether `submit_audit` will answer 61040).
    pub(super) fn privacy_info(&mut self, c: &Ctx<'_>) -> Answer {
        let appid = c.caller.appid().to_owned();
        if self.caller_app(c)?.trial.is_none() {
            return Err(86001);
        }
        if self.scan_pending(&appid) {
            return Err(61039);
        }
        let app = self.caller_app(c)?;
        Ok(
            json!({ "without_auth_list": app.without_auth_list, "without_conf_list": app.without_conf_list }),
        )
    }

    /// `POST /wxa/submit_audit`. Preconditions in this order (the reference gives none): account
    /// restrictions, nothing committed, profile, privacy scan, review in flight, quota, privacy APIs,
    /// review items, UGC declaration, sizes.
    pub(super) fn submit_audit(&mut self, c: &Ctx<'_>) -> Answer {
        let appid = c.caller.appid().to_owned();
        let component = c.caller.component().to_owned();
        self.refill_quota(&component);
        let app = self.apps.get(&appid).ok_or(40013)?;
        let platform = self.platforms.get(&component).ok_or(61011)?;
        let (restrict_new, restrict_update, quota_rest) = (
            platform.restrict_new,
            platform.restrict_update,
            platform.review_rest,
        );
        if app.minigame {
            return Err(87006);
        }
        if app.submit_forbidden {
            return Err(86007);
        }
        if app.live_streaming_dev {
            return Err(9400001);
        }
        match app.live.is_some() {
            true if restrict_update => return Err(86010),
            false if restrict_new => return Err(86009),
            _ => {}
        }
        // 86001: nothing was ever committed through the platform; 85086: the committed code was
        // already approved, so a new commit must come first.
        let Some(trial) = app.trial.clone() else {
            return Err(86001);
        };
        let consumed = app
            .reviews
            .last()
            .is_some_and(|r| r.status == 0 && r.trial_seq == trial.seq);
        if consumed {
            return Err(85086);
        }
        if !app.profile_complete {
            return Err(86002);
        }
        if self.scan_pending(&appid) {
            return Err(61039);
        }
        let app = &self.apps[&appid];
        if app.reviews.iter().any(Review::in_flight) {
            return Err(85009);
        }
        // C5 (observed, unconfirmed as a rule): an approved version that was never released blocks
        // new submissions with the same code as a review in flight. A running phased release of
        // it counts as released.
        let phased = app.gray.as_ref().is_some_and(|g| g.status == 1);
        if app
            .reviews
            .last()
            .is_some_and(|r| r.status == 0 && !r.released)
            && !phased
        {
            return Err(85009);
        }
        if quota_rest == 0 {
            return Err(85085);
        }
        let not_use = c
            .body
            .get("privacy_api_not_use")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if !app.without_auth_list.is_empty() || (!app.without_conf_list.is_empty() && !not_use) {
            return Err(61040);
        }
        let categories = check_items(app, &trial, c.body.get("item_list"))?;
        let ugc_needed = categories
            .iter()
            .any(|(first, second)| first == "社交" && UGC_SECOND.contains(&second.as_str()));
        if ugc_needed && app.reviews.is_empty() && !c.body.contains_key("ugc_declare") {
            return Err(85094);
        }
        if app.uses_navigate_to_mini_program
            && trial
                .ext_json
                .get("navigateToMiniProgramAppIdList")
                .is_none()
        {
            return Err(85087);
        }
        let desc_len = c.str("version_desc").map_or(0, |d| d.chars().count());
        if desc_len > self.scenario.version_desc_limit {
            return Err(85051);
        }
        check_preview(c.body.get("preview_info"))?;

        let script = match self.scenario.app_reviews.get(&appid) {
            Some(s) => s.clone(),
            None => {
                let s = self
                    .scenario
                    .reviews
                    .get(self.reviews_submitted)
                    .cloned()
                    .unwrap_or_else(|| self.scenario.default_review.clone());
                self.reviews_submitted += 1;
                s
            }
        };
        let auditid = 400_000_000 + self.next_id();
        let now = self.now();
        let cut_after = self.scenario.quota_cut_after;
        if let Some(p) = self.platforms.get_mut(&component) {
            p.review_rest -= 1;
            p.submitted += 1;
            if cut_after.is_some_and(|n| p.submitted >= n) {
                p.review_rest = 0;
            }
        }
        self.app_mut(&appid)?.reviews.push(Review {
            auditid,
            trial_seq: trial.seq,
            status: 2,
            reason: String::new(),
            screenshot: String::new(),
            user_version: trial.user_version,
            user_desc: trial.user_desc,
            submit_time: now,
            script,
            step: 0,
            step_started_at: now,
            step_polls: 0,
            sped_up: false,
            released: false,
        });
        self.schedule_review(&appid, auditid);
        Ok(json!({ "auditid": auditid }))
    }

    fn review_json(r: &Review) -> Value {
        let mut v = json!({ "status": r.status });
        if matches!(r.status, 1 | 4) {
            v["reason"] = json!(r.reason);
        }
        if r.status == 1 {
            v["screenshot"] = json!(r.screenshot);
        }
        v
    }

    /// `POST /wxa/get_auditstatus` `{auditid}`: a poll; 85012 for another app's or an unknown id.
    pub(super) fn audit_status(&mut self, c: &Ctx<'_>) -> Answer {
        let appid = c.caller.appid().to_owned();
        let id = c.num("auditid").ok_or(85012)?;
        if self.apps.get(&appid).is_some_and(|a| a.trial.is_none()) {
            return Err(86001);
        }
        if !self
            .apps
            .get(&appid)
            .is_some_and(|a| a.reviews.iter().any(|r| r.auditid == id))
        {
            return Err(85012);
        }
        self.settle_reviews(Some((&appid, id)));
        let r = self.apps[&appid]
            .reviews
            .iter()
            .find(|r| r.auditid == id)
            .ok_or(85012)?;
        Ok(Self::review_json(r))
    }

    /// `GET /wxa/get_latest_auditstatus`: 85058 when no review exists.
    pub(super) fn latest_audit_status(&mut self, c: &Ctx<'_>) -> Answer {
        let appid = c.caller.appid().to_owned();
        let id = self
            .apps
            .get(&appid)
            .and_then(|a| a.reviews.last())
            .map(|r| r.auditid)
            .ok_or(85058)?;
        self.settle_reviews(Some((&appid, id)));
        let r = self.apps[&appid].reviews.last().ok_or(85058)?;
        let mut v = Self::review_json(r);
        v["auditid"] = json!(r.auditid);
        v["user_version"] = json!(r.user_version);
        v["user_desc"] = json!(r.user_desc);
        v["submit_audit_time"] = json!(r.submit_time);
        if r.status == 1 {
            // The field table says `screenshot`, the example `ScreenShot`: send both.
            v["ScreenShot"] = json!(r.screenshot);
        }
        Ok(v)
    }

    /// `GET /wxa/undocodeaudit`: withdraw the review in flight; 5 per day and 10 per month.
    pub(super) fn undo_audit(&mut self, c: &Ctx<'_>) -> Answer {
        let now = self.now();
        let app = self.caller_app(c)?;
        let today = app
            .undo_log
            .iter()
            .filter(|t| day_of(**t) == day_of(now))
            .count();
        let month = app
            .undo_log
            .iter()
            .filter(|t| month_of(**t) == month_of(now))
            .count();
        if today >= UNDO_DAY || month >= UNDO_MONTH {
            return Err(87013);
        }
        // C4 (observed): with nothing to withdraw (no review, or it already ended) WeChat answers
        // 87012 `forbid revert this version release`; the page lists only -1, 40001, 87013.
        let r = app
            .reviews
            .iter_mut()
            .rev()
            .find(|r| r.in_flight())
            .ok_or(87012)?;
        r.status = 3;
        app.undo_log.push(now);
        // REFERENCE-UNSURE: whether a withdrawal refunds review quota is undocumented; it does not.
        Ok(json!({}))
    }

    /// `POST /wxa/speedupaudit` `{auditid}`.
    pub(super) fn speedup_audit(&mut self, c: &Ctx<'_>) -> Answer {
        let component = c.caller.component().to_owned();
        self.refill_quota(&component);
        let id = c.num("auditid").ok_or(89402)?;
        let rest = self.platforms.get(&component).map_or(0, |p| p.speedup_rest);
        let app = self.caller_app(c)?;
        let unsupported = app.speedup_unsupported;
        let r = app
            .reviews
            .iter_mut()
            .find(|r| r.auditid == id && r.in_flight())
            .ok_or(89402)?;
        if unsupported {
            return Err(89403);
        }
        if r.sped_up {
            return Err(89404);
        }
        if rest == 0 {
            return Err(89405);
        }
        r.sped_up = true;
        if let Some(p) = self.platforms.get_mut(&component) {
            p.speedup_rest -= 1;
        }
        Ok(json!({}))
    }

    /// Refills a platform's monthly quotas when the month changed.
    fn refill_quota(&mut self, component: &str) {
        let month = month_of(self.now());
        if let Some(p) = self.platforms.get_mut(component) {
            if p.quota_month != month {
                p.quota_month = month;
                p.review_rest = p.review_limit;
                p.speedup_rest = p.speedup_limit;
            }
        }
    }

    /// `GET /wxa/queryquota`: the platform's monthly review quota (any authorizer token).
    pub(super) fn query_quota(&mut self, c: &Ctx<'_>) -> Answer {
        let component = c.caller.component().to_owned();
        self.refill_quota(&component);
        let p = self.platforms.get(&component).ok_or(61011)?;
        Ok(json!({
            "rest": p.review_rest,
            "limit": p.review_limit,
            "speedup_rest": p.speedup_rest,
            "speedup_limit": p.speedup_limit,
        }))
    }

    /// `POST /wxa/release` with `{}`: publishes the latest approved version.
    pub(super) fn release(&mut self, c: &Ctx<'_>) -> Answer {
        let now = self.now();
        let app = self.caller_app(c)?;
        let r = app.reviews.last().ok_or(85019)?;
        if r.status != 0 {
            return Err(85020);
        }
        if r.released {
            return Err(85052);
        }
        let (user_version, user_desc) = (r.user_version.clone(), r.user_desc.clone());
        app.baseline();
        if let Some(r) = app.reviews.last_mut() {
            r.released = true;
        }
        app.next_app_version += 1;
        let new = LiveVersion {
            app_version: app.next_app_version,
            user_version,
            user_desc,
            commit_time: now,
            by_rollback: false,
        };
        if let Some(old) = app.live.replace(new) {
            app.history.insert(0, old);
            app.history.truncate(HISTORY);
        }
        // A full release ends a phased release.
        if let Some(g) = app.gray.as_mut().filter(|g| g.status == 1) {
            g.status = 3;
        }
        app.expose(now);
        Ok(json!({}))
    }

    /// `POST /wxa/grayrelease` `{gray_percentage, support_debuger_first?, support_experiencer_first?}`.
    /// REFERENCE-UNSURE: how a phased release ends is undocumented; here 100 % keeps the plan running
    /// and `release` finishes it (the live version changes only then).
    pub(super) fn gray_release(&mut self, c: &Ctx<'_>) -> Answer {
        let now = self.now();
        let pct = match c.body.get("gray_percentage") {
            Some(Value::Number(n)) => n.as_i64().ok_or(40097)?,
            _ => return Err(40097),
        };
        let debuger = c
            .body
            .get("support_debuger_first")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let experiencer = c
            .body
            .get("support_experiencer_first")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if !(0..=100).contains(&pct) {
            return Err(85081);
        }
        if pct == 0 && !debuger && !experiencer {
            return Err(40097);
        }
        let app = self.caller_app(c)?;
        if !app.profile_complete {
            return Err(86002);
        }
        if app.live.is_none() {
            return Err(85079);
        }
        if !app
            .reviews
            .last()
            .is_some_and(|r| r.status == 0 && !r.released)
        {
            return Err(85080);
        }
        let pct = u32::try_from(pct).unwrap_or(0);
        app.baseline();
        match app.gray.as_mut().filter(|g| g.status == 1) {
            Some(g) if pct <= g.gray_percentage => return Err(85082),
            Some(g) => {
                g.gray_percentage = pct;
                g.support_debuger_first = debuger;
                g.support_experiencer_first = experiencer;
            }
            None => {
                app.gray = Some(GrayPlan {
                    status: 1,
                    create_timestamp: now,
                    gray_percentage: pct,
                    support_debuger_first: debuger,
                    support_experiencer_first: experiencer,
                });
            }
        }
        app.expose(now);
        Ok(json!({}))
    }

    /// `GET /wxa/getgrayreleaseplan`.
    pub(super) fn gray_plan(&mut self, c: &Ctx<'_>) -> Answer {
        let app = self.caller_app(c)?;
        let plan = app.gray.clone().unwrap_or(GrayPlan {
            status: 0,
            create_timestamp: 0,
            gray_percentage: 0,
            support_debuger_first: false,
            support_experiencer_first: false,
        });
        Ok(json!({ "gray_release_plan": plan }))
    }

    /// `GET /wxa/revertgrayrelease`: cancels a running phased release.
    /// REFERENCE-UNSURE: the answer without a running plan is undocumented; it succeeds (idempotent).
    pub(super) fn revert_gray(&mut self, c: &Ctx<'_>) -> Answer {
        let now = self.now();
        let app = self.caller_app(c)?;
        if let Some(g) = app.gray.as_mut().filter(|g| g.status == 1) {
            g.status = 4;
            app.expose(now);
        }
        Ok(json!({}))
    }

    /// `GET /wxa/revertcoderelease[?action=get_history_version | ?app_version=N]`.
    pub(super) fn revert_code_release(&mut self, c: &Ctx<'_>) -> Answer {
        let action = c.req.param("action");
        let target = c.req.param("app_version");
        let now = self.now();
        let app = self.caller_app(c)?;
        match action {
            Some("get_history_version") => {
                let list: Vec<Value> = app
                    .history
                    .iter()
                    .map(|v| json!({ "app_version": v.app_version, "user_version": v.user_version, "user_desc": v.user_desc, "commit_time": v.commit_time }))
                    .collect();
                return Ok(json!({ "version_list": list }));
            }
            Some(_) => return Err(40097),
            None => {}
        }
        let target = match target {
            Some(t) => Some(t.parse::<u64>().map_err(|_| 40097)?),
            None => None,
        };
        if app.gray.as_ref().is_some_and(|g| g.status == 1) {
            return Err(87011);
        }
        let Some(live) = app.live.clone() else {
            return Err(87012);
        };
        if live.by_rollback {
            return Err(87012);
        }
        let idx = match target {
            Some(v) => app
                .history
                .iter()
                .position(|h| h.app_version == v)
                .ok_or(87012)?,
            None if app.history.is_empty() => return Err(87012),
            None => 0,
        };
        app.baseline();
        let mut back = app.history.remove(idx);
        back.by_rollback = true;
        app.live = Some(back);
        app.history.insert(0, live);
        app.history.truncate(HISTORY);
        app.expose(now);
        Ok(json!({}))
    }

    /// `POST /wxa/getversioninfo` with `{}`.
    pub(super) fn version_info(&mut self, c: &Ctx<'_>) -> Answer {
        let app = self.caller_app(c)?;
        let mut v = json!({});
        if let Some(t) = &app.trial {
            v["exp_info"] = json!({ "exp_time": t.committed_at, "exp_version": t.user_version, "exp_desc": t.user_desc });
        }
        if let Some(l) = &app.live {
            v["release_info"] = json!({ "release_time": l.commit_time, "release_version": l.user_version, "release_desc": l.user_desc });
        }
        Ok(v)
    }

    /// `GET /wxa/get_qrcode[?path=…]`: a JPEG of the trial version's QR code, or JSON on error.
    pub(super) fn qrcode(&mut self, c: &Ctx<'_>) -> Result<Answer, Response> {
        let appid = c.caller.appid().to_owned();
        let has_trial = self.apps.get(&appid).is_some_and(|a| a.trial.is_some());
        if !has_trial {
            return Ok(Err(86001));
        }
        let path = c.req.param("path").unwrap_or_default();
        let content = format!("https://open.weixin.qq.com/sns/getexpappinfo?appid={appid}&path={path}#wechat-redirect");
        match crate::qr::jpeg(&content) {
            Some(jpeg) => Err(Response {
                status: 200,
                content_type: "image/jpeg".into(),
                headers: vec![(
                    "Content-disposition".into(),
                    "attachment; filename=\"QRCode.jpg\"".into(),
                )],
                body: jpeg,
                delay: None,
                cut: false,
            }),
            None => Ok(Err(-1)),
        }
    }

    /// `POST /wxa/change_visitstatus` `{action: open|close}`.
    pub(super) fn change_visit_status(&mut self, c: &Ctx<'_>) -> Answer {
        let open = match c.str("action") {
            Some("open") => true,
            Some("close") => false,
            _ => return Err(40097),
        };
        self.caller_app(c)?.visit_open = open;
        Ok(json!({}))
    }
}

/// Validates `item_list`; returns the (first, second) class names used for review.
fn check_items(
    app: &App,
    trial: &Trial,
    items: Option<&Value>,
) -> Result<Vec<(String, String)>, i64> {
    let Some(items) = items else {
        // REFERENCE-UNSURE: item_list is optional in practice (community testers); the review then
        // uses the app's configured categories, and needs at least one.
        let cats: Vec<_> = app.categories.iter().filter(|c| !c.delisted).collect();
        if cats.is_empty() {
            return Err(85008);
        }
        return Ok(cats
            .iter()
            .map(|c| (c.first_class.clone(), c.second_class.clone()))
            .collect());
    };
    let list = items.as_array().ok_or(47001)?;
    if list.is_empty() || list.len() > 5 {
        return Err(85023);
    }
    let mut used = Vec::new();
    for item in list {
        let s = |k: &str| {
            item.get(k)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
        };
        let n = |k: &str| item.get(k).and_then(Value::as_i64);
        let (Some(first), Some(second), Some(first_id), Some(second_id)) = (
            s("first_class"),
            s("second_class"),
            n("first_id"),
            n("second_id"),
        ) else {
            return Err(85010);
        };
        let cat = app
            .categories
            .iter()
            .find(|c| c.first_id == first_id && c.second_id == second_id)
            .ok_or(85008)?;
        if cat.delisted {
            return Err(85077);
        }
        if let Some(tag) = s("tag") {
            let tags: Vec<&str> = tag.split(' ').filter(|t| !t.is_empty()).collect();
            if tags.len() > 10 || tags.iter().any(|t| t.chars().count() > 20) {
                return Err(85006);
            }
        }
        if let Some(addr) = s("address") {
            let page = addr.split('?').next().unwrap_or(addr);
            if !trial.pages.iter().any(|p| p == page) {
                return Err(85007);
            }
        }
        if s("title").is_some_and(|t| t.chars().count() > 32) {
            return Err(85011);
        }
        used.push((first.to_owned(), second.to_owned()));
    }
    Ok(used)
}

/// `preview_info`: `{video_id_list[], pic_id_list[]}`.
/// REFERENCE-UNSURE: 85093's limits are unpublished; we allow 5 pictures and 1 video.
fn check_preview(p: Option<&Value>) -> Result<(), i64> {
    let Some(p) = p else { return Ok(()) };
    let list = |k: &str| match p.get(k) {
        None => Ok(0),
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => Ok(a.len()),
        _ => Err(85092),
    };
    if !p.is_object() {
        return Err(85092);
    }
    if list("pic_id_list")? > 5 || list("video_id_list")? > 1 {
        return Err(85093);
    }
    Ok(())
}
