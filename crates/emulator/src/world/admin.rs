//! Setting up a world: the Rust builder methods and the same operations as an HTTP admin API under
//! [`ADMIN_PREFIX`](super::ADMIN_PREFIX), for the served mode.
//!
//! | method | path | body | answer |
//! |---|---|---|---|
//! | POST | `scenario` | scenario YAML or JSON | `{}` |
//! | POST | `platforms` | `{component_appid, component_secret, restrict_new?, restrict_update?}` | `{component_verify_ticket}` |
//! | POST | `tickets` | `{component_appid}` | `{component_verify_ticket}` (a fresh push) |
//! | POST | `apps` | [`AppSpec`] | `{appid, authorizer_refresh_token, authorization_code}` |
//! | POST | `drafts` | `{component_appid, source_appid, user_version, user_desc?, pages, size?}` | `{draft_id}` |
//! | POST | `templates` | same as drafts | `{draft_id, template_id}` (draft promoted at once) |
//! | POST | `keys` | `{appid, public_key}` (PEM) | `{}` |
//! | POST | `plugins` | `{provider, versions}` | `{}` |
//! | POST | `clock` | `{advance: seconds}` | `{now}` |
//! | GET | `clock` | | `{now}` |
//! | GET / DELETE | `journal` | | every exchange / cleared |
//! | GET | `events` | | review events a platform would be pushed |
//! | GET | `uploads` | | every accepted upload and preview, with its unpacked files (base64) |
//! | GET | `apps/{appid}` | | the app's trial, reviews, live version, history, phased plan |

use super::model::{App, Authorization, Category, Draft, Platform, Plugin};
use super::{Response, World};
use crate::scenario::Scenario;
use serde::Deserialize;
use serde_json::{json, Value};

/// An app to register, with its authorization and the state the scenario needs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AppSpec {
    /// `wx` + 16 hex digits.
    pub appid: String,
    /// AppSecret (for `cgi-bin/token` / `stable_token`).
    pub secret: String,
    /// The platform it is authorized to, if any.
    pub component_appid: Option<String>,
    /// Whether the authorization includes permission set 18.
    pub set18: bool,
    /// Nickname, avatar and intro set (86002 otherwise).
    pub profile_complete: bool,
    /// Categories usable for review.
    pub categories: Vec<Category>,
    /// Privacy APIs used without permission (61040).
    pub without_auth_list: Vec<String>,
    /// Privacy APIs used but not declared (61040 unless privacy_api_not_use).
    pub without_conf_list: Vec<String>,
    /// A mini game (87006).
    pub minigame: bool,
    /// Submission forbidden (86007).
    pub submit_forbidden: bool,
    /// Development mini program with live-streaming (9400001).
    pub live_streaming_dev: bool,
    /// Reviews cannot be expedited (89403).
    pub speedup_unsupported: bool,
    /// The code calls navigateToMiniProgram (85087 without the appid list in ext_json).
    pub uses_navigate_to_mini_program: bool,
    /// Location APIs the app has permission for (85312 otherwise).
    pub permitted_location_apis: Vec<String>,
    /// Plugin providers the app may use (80082 otherwise).
    pub plugin_permissions: Vec<String>,
    /// A live version before the scenario starts (so rollback and phased release can be tried).
    pub live_version: Option<String>,
    /// The API IP whitelist for AppSecret calls (40164 for others); off when absent.
    pub api_ip_whitelist: Option<Vec<String>>,
    /// What the AppSecret calls answer instead of a token: 40243 (secret frozen), 50004 (token API
    /// forbidden), 50007 (account frozen), 89503 (IP needs admin confirmation), 89506 / 89507 (IP
    /// rejected by the admin).
    pub secret_block: Option<i64>,
    /// getattr `platform`: the app belongs to a third-party platform (its ext.json takes effect).
    pub platform_app: bool,
    /// This app is the development mini program of that platform: its uploads go to the draft box.
    pub dev_of: Option<String>,
    /// The code-upload IP whitelist (-10008 for other callers); off when absent.
    pub upload_ip_whitelist: Option<Vec<String>>,
    /// `api_get_authorizer_list` shows this app's refresh token (false: the item has only
    /// `authorizer_appid` and `auth_time`, as community reports describe).
    pub refresh_token_listed: bool,
}

impl Default for AppSpec {
    fn default() -> Self {
        Self {
            appid: String::new(),
            secret: String::new(),
            component_appid: None,
            set18: true,
            profile_complete: true,
            categories: vec![Category {
                first_class: "工具".into(),
                second_class: "效率".into(),
                third_class: None,
                first_id: 287,
                second_id: 612,
                third_id: None,
                delisted: false,
            }],
            without_auth_list: Vec::new(),
            without_conf_list: Vec::new(),
            minigame: false,
            submit_forbidden: false,
            live_streaming_dev: false,
            speedup_unsupported: false,
            uses_navigate_to_mini_program: false,
            permitted_location_apis: Vec::new(),
            plugin_permissions: Vec::new(),
            live_version: None,
            api_ip_whitelist: None,
            secret_block: None,
            platform_app: false,
            dev_of: None,
            upload_ip_whitelist: None,
            refresh_token_listed: true,
        }
    }
}

impl AppSpec {
    /// An app authorized to `component` with permission set 18 and a complete profile.
    pub fn authorized(appid: &str, component: &str) -> Self {
        Self {
            appid: appid.into(),
            secret: format!("secret-{appid}"),
            component_appid: Some(component.into()),
            ..Self::default()
        }
    }
}

/// What registering an app hands back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// For `api_authorizer_token`.
    pub refresh_token: String,
    /// For `api_query_auth` (single use).
    pub authorization_code: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlatformBody {
    component_appid: String,
    component_secret: String,
    #[serde(default)]
    restrict_new: bool,
    #[serde(default)]
    restrict_update: bool,
    #[serde(default)]
    ip_whitelist: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DraftBody {
    component_appid: String,
    source_appid: String,
    user_version: String,
    #[serde(default)]
    user_desc: String,
    pages: Vec<String>,
    #[serde(default)]
    size: u64,
}

/// Drafts the box keeps.
const DRAFT_LIMIT: usize = 100;

impl World {
    /// Registers a platform; returns its first `component_verify_ticket`.
    pub fn add_platform(&mut self, component: &str, secret: &str) -> String {
        let limit = self.scenario.review_quota;
        let speedup = self.scenario.speedup_quota;
        let month = crate::clock::month_of(self.now());
        self.platforms.insert(
            component.to_owned(),
            Platform {
                secret: secret.to_owned(),
                tickets: Vec::new(),
                review_limit: limit,
                review_rest: limit,
                speedup_limit: speedup,
                speedup_rest: speedup,
                quota_month: month,
                drafts: Vec::new(),
                templates: Vec::new(),
                submitted: 0,
                restrict_new: false,
                restrict_update: false,
                ip_whitelist: None,
            },
        );
        self.push_ticket(component).unwrap_or_default()
    }

    /// WeChat's 10-minute ticket push: a fresh `component_verify_ticket` (also POSTed, encrypted,
    /// to the scenario's `push.ticket-url` in served mode).
    pub fn push_ticket(&mut self, component: &str) -> Option<String> {
        let ticket = self.opaque("ticket@@@");
        let now = self.now();
        self.platforms
            .get_mut(component)?
            .tickets
            .push((ticket.clone(), now));
        if let Some(url) = self
            .scenario
            .push
            .as_ref()
            .and_then(|p| p.ticket_url.clone())
        {
            let msg = format!(
                "<xml><AppId><![CDATA[{component}]]></AppId><CreateTime>{now}</CreateTime><InfoType><![CDATA[component_verify_ticket]]></InfoType><ComponentVerifyTicket><![CDATA[{ticket}]]></ComponentVerifyTicket></xml>"
            );
            self.queue_push(&url, component, component, &msg, "component_verify_ticket");
        }
        Some(ticket)
    }

    /// Sets a platform's IP whitelist (61004 for other callers); `None` switches it off.
    pub fn set_platform_whitelist(&mut self, component: &str, ips: Option<Vec<String>>) {
        if let Some(p) = self.platforms.get_mut(component) {
            p.ip_whitelist = ips;
        }
    }

    /// Sets a platform's restrictions (86009 / 86010).
    pub fn restrict_platform(&mut self, component: &str, new_apps: bool, updates: bool) {
        if let Some(p) = self.platforms.get_mut(component) {
            p.restrict_new = new_apps;
            p.restrict_update = updates;
        }
    }

    /// Registers an app (authorized to its platform if the spec says so).
    pub fn add_app(&mut self, spec: AppSpec) -> Registered {
        let refresh_token = self.opaque("refreshtoken@@@");
        let authorization_code = self.opaque("queryauthcode@@@");
        let now = self.now();
        let live = spec.live_version.map(|v| super::model::LiveVersion {
            app_version: 1,
            user_version: v,
            user_desc: "before the scenario".into(),
            commit_time: now,
            by_rollback: false,
        });
        let app = App {
            secret: spec.secret,
            minigame: spec.minigame,
            profile_complete: spec.profile_complete,
            categories: spec.categories,
            without_auth_list: spec.without_auth_list,
            without_conf_list: spec.without_conf_list,
            authorization: spec.component_appid.map(|component| Authorization {
                component,
                refresh_token: refresh_token.clone(),
                set18: spec.set18,
                auth_time: now,
                refresh_listed: spec.refresh_token_listed,
            }),
            submit_forbidden: spec.submit_forbidden,
            live_streaming_dev: spec.live_streaming_dev,
            speedup_unsupported: spec.speedup_unsupported,
            uses_navigate_to_mini_program: spec.uses_navigate_to_mini_program,
            permitted_location_apis: spec.permitted_location_apis,
            plugin_permissions: spec.plugin_permissions,
            upload_public_keys: Vec::new(),
            trial: None,
            scan: None,
            reviews: Vec::new(),
            next_app_version: u64::from(live.is_some()),
            live,
            history: Vec::new(),
            gray: None,
            exposure: Vec::new(),
            visit_open: true,
            undo_log: Vec::new(),
            own_token: None,
            stable_token: None,
            force_refresh_log: Vec::new(),
            api_ip_whitelist: spec.api_ip_whitelist,
            secret_block: spec.secret_block,
            platform_app: spec.platform_app,
            dev_of: spec.dev_of,
            upload_ip_whitelist: spec.upload_ip_whitelist,
        };
        self.apps.insert(spec.appid.clone(), app);
        self.auth_codes
            .insert(authorization_code.clone(), spec.appid);
        Registered {
            refresh_token,
            authorization_code,
        }
    }

    /// Puts a draft in the platform's draft box (what an upload by its development mini program
    /// does).
    /// REFERENCE-UNSURE: that the box keeps only the latest upload per development mini program
    /// is an unconfirmed claim, and the console lists several drafts; the box here keeps every
    /// upload, the oldest dropped past 100.
    pub fn add_draft(
        &mut self,
        component: &str,
        source_appid: &str,
        user_version: &str,
        pages: &[&str],
        size: u64,
    ) -> Option<u64> {
        let draft_id = self.next_id();
        let now = self.now();
        let p = self.platforms.get_mut(component)?;
        if p.drafts.len() >= DRAFT_LIMIT {
            p.drafts.remove(0);
        }
        p.drafts.push(Draft {
            draft_id,
            user_version: user_version.to_owned(),
            user_desc: format!("upload of {user_version}"),
            create_time: now,
            source_appid: source_appid.to_owned(),
            pages: pages.iter().map(|p| (*p).to_owned()).collect(),
            size,
        });
        Some(draft_id)
    }

    /// Sets a draft's description.
    pub(super) fn describe_draft(&mut self, component: &str, draft_id: u64, desc: &str) {
        let draft = self
            .platforms
            .get_mut(component)
            .and_then(|p| p.drafts.iter_mut().find(|d| d.draft_id == draft_id));
        if let Some(d) = draft {
            desc.clone_into(&mut d.user_desc);
        }
    }

    /// A draft promoted to the library at once; returns the template id.
    pub fn add_template(
        &mut self,
        component: &str,
        source_appid: &str,
        user_version: &str,
        pages: &[&str],
        size: u64,
    ) -> Option<u64> {
        let draft_id = self.add_draft(component, source_appid, user_version, pages, size)?;
        self.promote_draft(component, draft_id, 0).ok()
    }

    /// The merchant revokes the app's authorization (61003 for its tokens from then on).
    pub fn revoke(&mut self, appid: &str) {
        if let Some(a) = self.apps.get_mut(appid) {
            a.authorization = None;
        }
    }

    /// Marks a template broken (85043).
    pub fn break_template(&mut self, component: &str, template_id: u64) {
        if let Some(t) = self.platforms.get_mut(component).and_then(|p| {
            p.templates
                .iter_mut()
                .find(|t| t.template_id == template_id)
        }) {
            t.broken = true;
        }
    }

    /// Registers a code-upload public key (PEM) for an app.
    pub fn add_upload_key(&mut self, appid: &str, public_key_pem: &str) -> bool {
        self.apps
            .get_mut(appid)
            .map(|a| a.upload_public_keys.push(public_key_pem.to_owned()))
            .is_some()
    }

    /// Setup for operations data (tests, `stats --sandbox`): `version` went live at `at`, Unix
    /// seconds (the version live before it moves to the rollback history, and the users follow).
    /// Returns false for an unknown app.
    pub fn released(&mut self, appid: &str, version: &str, at: u64) -> bool {
        let Some(app) = self.apps.get_mut(appid) else {
            return false;
        };
        app.baseline();
        app.next_app_version += 1;
        let new = super::model::LiveVersion {
            app_version: app.next_app_version,
            user_version: version.to_owned(),
            user_desc: String::new(),
            commit_time: at,
            by_rollback: false,
        };
        if let Some(old) = app.live.replace(new) {
            app.history.insert(0, old);
        }
        app.expose(at);
        true
    }

    /// Registers a plugin and its versions.
    pub fn add_plugin(&mut self, provider: &str, versions: &[&str]) {
        self.plugins.insert(
            provider.to_owned(),
            Plugin {
                versions: versions.iter().map(|v| (*v).to_owned()).collect(),
            },
        );
    }

    /// Gives a platform's monthly review quota a value (e.g. 0 for 85085).
    pub fn set_review_quota(&mut self, component: &str, rest: u32, limit: u32) {
        if let Some(p) = self.platforms.get_mut(component) {
            p.review_rest = rest;
            p.review_limit = limit;
        }
    }

    /// Gives a platform's monthly speed-up quota a value.
    pub fn set_speedup_quota(&mut self, component: &str, rest: u32) {
        if let Some(p) = self.platforms.get_mut(component) {
            p.speedup_rest = rest;
        }
    }

    /// A JSON view of an app's state (trial, reviews, live version, history, phased plan).
    pub fn app_state(&self, appid: &str) -> Option<Value> {
        let a = self.apps.get(appid)?;
        Some(json!({
            "trial": a.trial,
            "scan": a.scan,
            "reviews": a.reviews,
            "live": a.live,
            "history": a.history,
            "gray": a.gray,
            "visit_open": a.visit_open,
        }))
    }

    /// The admin API (socket-free, like the rest).
    pub(super) fn admin(&mut self, rest: &str, req: &super::Request) -> Response {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let result: Result<Value, String> = match (req.method.as_str(), rest) {
            ("POST", "scenario") => {
                let text = String::from_utf8_lossy(&req.body);
                Scenario::from_yaml(&text).map(|s| {
                    self.set_scenario(s);
                    json!({})
                })
            }
            ("POST", "platforms") => serde_json::from_value::<PlatformBody>(body).map_err(|e| e.to_string()).map(|b| {
                let ticket = self.add_platform(&b.component_appid, &b.component_secret);
                self.restrict_platform(&b.component_appid, b.restrict_new, b.restrict_update);
                self.set_platform_whitelist(&b.component_appid, b.ip_whitelist);
                json!({ "component_verify_ticket": ticket })
            }),
            ("POST", "tickets") => {
                let c = body.get("component_appid").and_then(Value::as_str).unwrap_or_default().to_owned();
                self.push_ticket(&c).map(|t| json!({ "component_verify_ticket": t })).ok_or_else(|| format!("no platform {c}"))
            }
            ("POST", "apps") => serde_json::from_value::<AppSpec>(body).map_err(|e| e.to_string()).map(|spec| {
                let appid = spec.appid.clone();
                let r = self.add_app(spec);
                json!({ "appid": appid, "authorizer_refresh_token": r.refresh_token, "authorization_code": r.authorization_code })
            }),
            ("POST", "drafts" | "templates") => match serde_json::from_value::<DraftBody>(body) {
                Err(e) => Err(e.to_string()),
                Ok(b) => {
                    let pages: Vec<&str> = b.pages.iter().map(String::as_str).collect();
                    let draft = self.add_draft(&b.component_appid, &b.source_appid, &b.user_version, &pages, b.size);
                    match draft {
                        None => Err(format!("no platform {}", b.component_appid)),
                        Some(d) => {
                            if !b.user_desc.is_empty() {
                                self.describe_draft(&b.component_appid, d, &b.user_desc);
                            }
                            match rest {
                                "drafts" => Ok(json!({ "draft_id": d })),
                                _ => self
                                    .promote_draft(&b.component_appid, d, 0)
                                    .map(|t| json!({ "template_id": t }))
                                    .map_err(|code| format!("cannot add the template: errcode {code}")),
                            }
                        }
                    }
                }
            },
            ("POST", "keys") => {
                let appid = body.get("appid").and_then(Value::as_str).unwrap_or_default();
                let key = body.get("public_key").and_then(Value::as_str).unwrap_or_default();
                if self.add_upload_key(appid, key) { Ok(json!({})) } else { Err(format!("no app {appid}")) }
            }
            ("POST", "plugins") => {
                let provider = body.get("provider").and_then(Value::as_str).unwrap_or_default().to_owned();
                let versions: Vec<String> = serde_json::from_value(body.get("versions").cloned().unwrap_or_default()).unwrap_or_default();
                self.add_plugin(&provider, &versions.iter().map(String::as_str).collect::<Vec<_>>());
                Ok(json!({}))
            }
            ("POST", "clock") => {
                let secs = body.get("advance").and_then(Value::as_u64).unwrap_or(0);
                self.advance(secs);
                Ok(json!({ "now": self.now() }))
            }
            ("GET", "clock") => Ok(json!({ "now": self.now() })),
            ("GET", "journal") => Ok(json!(self.journal)),
            ("DELETE", "journal") => {
                self.journal.clear();
                Ok(json!({}))
            }
            ("GET", "events") => Ok(json!(self.events)),
            ("GET", "uploads") => Ok(json!(self
                .uploads()
                .iter()
                .map(|u| {
                    let files: Vec<Value> = u
                        .files
                        .iter()
                        .map(|(n, b)| json!({ "name": n, "size": b.len(), "base64": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b) }))
                        .collect();
                    let mut v = json!(u);
                    v["files"] = json!(files);
                    v
                })
                .collect::<Vec<_>>())),
            ("GET", path) if path.starts_with("apps/") => {
                self.app_state(&path["apps/".len()..]).ok_or_else(|| format!("no app {}", &path["apps/".len()..]))
            }
            _ => Err(format!("no admin route {} {}{rest}", req.method, super::ADMIN_PREFIX)),
        };
        match result {
            Ok(v) => Response::json(&v),
            Err(e) => Response {
                status: 400,
                ..Response::json(&json!({ "error": e }))
            },
        }
    }
}
