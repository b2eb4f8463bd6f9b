//! The socket-free emulator: `World::handle(request) -> response`.
//!
//! Order of one exchange: journal the call, count it, apply a scripted or random fault that strikes
//! before processing, check method, body, token and rate limits, run the endpoint, then apply a fault
//! that strikes after processing (the effect stays, the answer is lost or mangled).

mod admin;
mod ci;
mod code;
mod model;
mod ops;
mod quota;
mod templates;
mod tokens;

pub use admin::AppSpec;
pub use model::Category;

use crate::clock::{day_of, Clock};
use crate::scenario::{FaultKind, Outcome, Scenario};
pub use model::UploadRecord;
use model::{App, Counters, Platform, Plugin, Token, TokenKind};
use mp_release_core::wechat::errcode;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::time::Duration;

/// Paths under this prefix are the emulator's own admin API, never WeChat's.
pub const ADMIN_PREFIX: &str = "/__emulator/";

/// One HTTP request, as the HTTP layer parsed it.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path without the query.
    pub path: String,
    /// Decoded query parameters, in order.
    pub query: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
    /// The caller's IP (the HTTP layer fills it in; 127.0.0.1 when absent).
    pub peer: Option<String>,
}

impl Request {
    /// A GET request (query parameters given separately).
    pub fn get(path: &str, query: &[(&str, &str)]) -> Self {
        Self {
            method: "GET".into(),
            path: path.into(),
            query: query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: Vec::new(),
            peer: None,
        }
    }

    /// A POST request with a JSON body.
    pub fn post(path: &str, query: &[(&str, &str)], body: &Value) -> Self {
        Self {
            method: "POST".into(),
            body: body.to_string().into_bytes(),
            ..Self::get(path, query)
        }
    }

    /// The caller's IP.
    pub fn peer_ip(&self) -> &str {
        self.peer.as_deref().unwrap_or("127.0.0.1")
    }

    /// A query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP response, plus what the HTTP layer must do to the connection.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status (WeChat answers 200 even for errors).
    pub status: u16,
    /// `Content-Type`.
    pub content_type: String,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Hold the answer this long.
    pub delay: Option<Duration>,
    /// Close the connection without answering.
    pub cut: bool,
}

impl Response {
    /// A JSON response with status 200.
    pub fn json(v: &Value) -> Self {
        Self {
            status: 200,
            content_type: "application/json; charset=UTF-8".into(),
            headers: Vec::new(),
            body: v.to_string().into_bytes(),
            delay: None,
            cut: false,
        }
    }

    /// The body as JSON, if it is JSON.
    pub fn body_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The `errcode` of a JSON body (0 when absent).
    pub fn errcode(&self) -> Option<i64> {
        self.body_json()
            .map(|v| v.get("errcode").and_then(Value::as_i64).unwrap_or(0))
    }
}

/// What the journal keeps of one exchange.
#[derive(Debug, Clone, Serialize)]
pub struct JournalEntry {
    /// 1-based sequence number.
    pub seq: u64,
    /// Emulator time.
    pub at: u64,
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Query with token values replaced by `***`.
    pub query: Vec<(String, String)>,
    /// Body with secret fields replaced by `***` (lossy UTF-8).
    pub body: String,
    /// HTTP status answered (0 for a cut connection).
    pub status: u16,
    /// `errcode` answered, when the answer was JSON.
    pub errcode: Option<i64>,
    /// `errcode` of the processed answer before a fault that struck after processing mangled it
    /// (`None` when the request was not processed): what really happened at WeChat.
    pub processed: Option<i64>,
    /// The fault applied, if any.
    pub fault: Option<String>,
    /// Whose token the call carried: the app of an authorizer or own token, the platform of a
    /// component token (`None` before a token was checked).
    pub account: Option<String>,
}

/// One encrypted push waiting to be POSTed (served mode), as WeChat sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutgoingPush {
    /// The URL with its query (`timestamp`, `nonce`, `encrypt_type`, `msg_signature`, `signature`).
    pub url: String,
    /// The outer XML.
    pub body: String,
    /// What it carries (`weapp_audit_success` …, `component_verify_ticket`), for the log.
    pub what: String,
}

/// A review event that WeChat would push to the platform's message URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PushedEvent {
    /// The app.
    pub appid: String,
    /// The review.
    pub auditid: u64,
    /// `weapp_audit_success`, `weapp_audit_fail` or `weapp_audit_delay`.
    pub event: String,
    /// `CreateTime` (also SuccTime/FailTime/DelayTime).
    pub create_time: u64,
    /// Reason (fail, delay).
    pub reason: String,
    /// Screenshot media ids (fail).
    pub screenshot: String,
}

/// Which token an endpoint wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    /// No token (the token endpoints themselves).
    None,
    /// A `component_access_token`.
    Component,
    /// An `authorizer_access_token` (permission set 18).
    Authorizer,
    /// The mini program's own token or an authorizer token (`get_qrcode`).
    OwnOrAuthorizer,
    /// Any token (the API-quota tools).
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

/// Endpoints whose success answer has no `errcode`/`errmsg` (C11: their documented examples are
/// the token fields alone).
const BARE_SUCCESS: &[&str] = &[
    "/cgi-bin/token",
    "/cgi-bin/stable_token",
    "/cgi-bin/component/api_component_token",
    "/cgi-bin/component/api_authorizer_token",
    "/cgi-bin/component/api_query_auth",
    // A.0: datacube answers carry no errcode.
    "/datacube/getweanalysisappiddailyvisittrend",
    "/datacube/getweanalysisappidvisitpage",
    "/datacube/getweanalysisappidvisitdistribution",
    "/datacube/getweanalysisappidweeklyvisittrend",
    "/datacube/getweanalysisappidmonthlyvisittrend",
    // REFERENCE-UNSURE: the documented examples of these two carry no errcode either.
    "/cgi-bin/component/api_get_authorizer_list",
    "/cgi-bin/component/api_get_authorizer_info",
];

/// The endpoints served: path, method, token.
const ENDPOINTS: &[(&str, Method, Auth)] = &[
    ("/cgi-bin/token", Method::Get, Auth::None),
    ("/cgi-bin/stable_token", Method::Post, Auth::None),
    (
        "/cgi-bin/component/api_component_token",
        Method::Post,
        Auth::None,
    ),
    (
        "/cgi-bin/component/api_authorizer_token",
        Method::Post,
        Auth::Component,
    ),
    (
        "/cgi-bin/component/api_query_auth",
        Method::Post,
        Auth::Component,
    ),
    (
        "/cgi-bin/component/api_get_authorizer_list",
        Method::Post,
        Auth::Component,
    ),
    (
        "/cgi-bin/component/api_get_authorizer_info",
        Method::Post,
        Auth::Component,
    ),
    ("/wxa/gettemplatedraftlist", Method::Get, Auth::Component),
    ("/wxa/addtotemplate", Method::Post, Auth::Component),
    ("/wxa/gettemplatelist", Method::Get, Auth::Component),
    ("/wxa/deletetemplate", Method::Post, Auth::Component),
    ("/wxa/commit", Method::Post, Auth::Authorizer),
    ("/wxa/get_page", Method::Get, Auth::Authorizer),
    ("/wxa/get_category", Method::Get, Auth::Authorizer),
    (
        "/wxa/security/get_code_privacy_info",
        Method::Get,
        Auth::Authorizer,
    ),
    ("/wxa/submit_audit", Method::Post, Auth::Authorizer),
    ("/wxa/get_auditstatus", Method::Post, Auth::Authorizer),
    ("/wxa/get_latest_auditstatus", Method::Get, Auth::Authorizer),
    ("/wxa/undocodeaudit", Method::Get, Auth::Authorizer),
    ("/wxa/speedupaudit", Method::Post, Auth::Authorizer),
    ("/wxa/queryquota", Method::Get, Auth::Authorizer),
    ("/wxa/release", Method::Post, Auth::Authorizer),
    ("/wxa/grayrelease", Method::Post, Auth::Authorizer),
    ("/wxa/getgrayreleaseplan", Method::Get, Auth::Authorizer),
    ("/wxa/revertgrayrelease", Method::Get, Auth::Authorizer),
    ("/wxa/revertcoderelease", Method::Get, Auth::Authorizer),
    ("/wxa/getversioninfo", Method::Post, Auth::Authorizer),
    ("/wxa/get_qrcode", Method::Get, Auth::OwnOrAuthorizer),
    ("/wxa/change_visitstatus", Method::Post, Auth::Authorizer),
    (
        "/datacube/getweanalysisappiddailyvisittrend",
        Method::Post,
        Auth::OwnOrAuthorizer,
    ),
    (
        "/datacube/getweanalysisappidvisitpage",
        Method::Post,
        Auth::OwnOrAuthorizer,
    ),
    (
        "/datacube/getweanalysisappidweeklyvisittrend",
        Method::Post,
        Auth::OwnOrAuthorizer,
    ),
    (
        "/datacube/getweanalysisappidmonthlyvisittrend",
        Method::Post,
        Auth::OwnOrAuthorizer,
    ),
    (
        "/datacube/getweanalysisappidvisitdistribution",
        Method::Post,
        Auth::OwnOrAuthorizer,
    ),
    (
        "/wxa/business/performance/boot",
        Method::Post,
        Auth::OwnOrAuthorizer,
    ),
    (
        "/wxaapi/log/jserr_list",
        Method::Post,
        Auth::OwnOrAuthorizer,
    ),
    (
        "/wxaapi/log/jserr_detail",
        Method::Post,
        Auth::OwnOrAuthorizer,
    ),
    ("/wxaapi/feedback/list", Method::Get, Auth::OwnOrAuthorizer),
    (
        "/wxaapi/userlog/userlog_search",
        Method::Get,
        Auth::OwnOrAuthorizer,
    ),
    ("/cgi-bin/openapi/quota/get", Method::Post, Auth::Any),
    ("/cgi-bin/clear_quota", Method::Post, Auth::Any),
];

/// The verified caller of one request.
#[derive(Debug, Clone)]
struct Caller {
    kind: Option<TokenKind>,
}

impl Caller {
    /// The account whose quota a call spends: a platform acting for an app spends the app's.
    fn account(&self) -> String {
        match &self.kind {
            Some(TokenKind::Own { appid } | TokenKind::Authorizer { appid, .. }) => appid.clone(),
            Some(TokenKind::Component { component }) => component.clone(),
            None => "-".into(),
        }
    }

    fn appid(&self) -> &str {
        match &self.kind {
            Some(TokenKind::Own { appid } | TokenKind::Authorizer { appid, .. }) => appid,
            _ => "",
        }
    }

    fn component(&self) -> &str {
        match &self.kind {
            Some(TokenKind::Component { component } | TokenKind::Authorizer { component, .. }) => {
                component
            }
            _ => "",
        }
    }
}

/// An endpoint's answer: success JSON (errcode 0 added) or an error code.
type Answer = Result<Value, i64>;

/// The whole emulated WeChat.
#[derive(Debug)]
pub struct World {
    scenario: Scenario,
    clock: Clock,
    platforms: BTreeMap<String, Platform>,
    apps: BTreeMap<String, App>,
    tokens: BTreeMap<String, Token>,
    counters: BTreeMap<String, Counters>,
    plugins: BTreeMap<String, Plugin>,
    auth_codes: BTreeMap<String, String>,
    calls: BTreeMap<String, u32>,
    journal: Vec<JournalEntry>,
    events: Vec<PushedEvent>,
    reviews_submitted: usize,
    seq: u64,
    rng: u64,
    /// Issued upload random strings: string → (appid, used).
    rand_strs: BTreeMap<String, (String, bool)>,
    uploads: Vec<UploadRecord>,
    /// Reviews waiting for a time-driven step: (due, appid, auditid), earliest first.
    review_queue: BinaryHeap<Reverse<(u64, String, u64)>>,
    /// Journal entries ever recorded (the journal itself keeps the latest `retention.journal`).
    journal_seq: u64,
    /// The account of the request being handled, for its journal entry.
    last_account: Option<String>,
    /// Pushes to send (served mode, `scenario.push`).
    outbox: Vec<OutgoingPush>,
    /// Pushes sent: what, and the HTTP status the receiver answered (0: not delivered).
    push_log: Vec<(String, u16)>,
    /// `jserr_list` calls per app in the current minute: (minute, calls).
    jserr_window: BTreeMap<String, (u64, u32)>,
    /// `userlog_search` calls per app in the current minute: (minute, calls).
    userlog_window: BTreeMap<String, (u64, u32)>,
}

impl Default for World {
    fn default() -> Self {
        Self::new(Scenario::default())
    }
}

/// A deterministic 64-bit mix (splitmix64), for ids, rids and random faults.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl World {
    /// A world following `scenario`, with no platform or app yet.
    pub fn new(scenario: Scenario) -> Self {
        let clock = if scenario.real_time {
            Clock::real_time()
        } else {
            Clock::virtual_time()
        };
        let rng = scenario.random_faults.as_ref().map_or(0, |r| r.seed);
        Self {
            scenario,
            clock,
            platforms: BTreeMap::new(),
            apps: BTreeMap::new(),
            tokens: BTreeMap::new(),
            counters: BTreeMap::new(),
            plugins: BTreeMap::new(),
            auth_codes: BTreeMap::new(),
            calls: BTreeMap::new(),
            journal: Vec::new(),
            events: Vec::new(),
            reviews_submitted: 0,
            seq: 0,
            rng,
            rand_strs: BTreeMap::new(),
            uploads: Vec::new(),
            review_queue: BinaryHeap::new(),
            journal_seq: 0,
            last_account: None,
            outbox: Vec::new(),
            push_log: Vec::new(),
            jserr_window: BTreeMap::new(),
            userlog_window: BTreeMap::new(),
        }
    }

    /// Replaces the scenario (state is kept; counters of faults restart).
    pub fn set_scenario(&mut self, scenario: Scenario) {
        self.rng = scenario.random_faults.as_ref().map_or(0, |r| r.seed);
        if scenario.real_time && !self.scenario.real_time {
            self.clock = Clock::real_time();
        }
        self.scenario = scenario;
        self.calls.clear();
    }

    /// The scenario in force.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Emulator time (Unix seconds).
    pub fn now(&self) -> u64 {
        self.clock.now()
    }

    /// Moves the clock and lets time-triggered review steps fire.
    pub fn advance(&mut self, seconds: u64) {
        self.clock.advance(seconds);
        self.settle_reviews(None);
    }

    /// Every exchange so far.
    pub fn journal(&self) -> &[JournalEntry] {
        &self.journal
    }

    /// Forgets the exchanges so far.
    pub fn clear_journal(&mut self) {
        self.journal.clear();
    }

    /// Requests on one path that took effect (processed with errcode 0), whatever the client saw.
    pub fn successes(&self, path: &str) -> usize {
        self.journal
            .iter()
            .filter(|e| e.path == path && e.processed == Some(0))
            .count()
    }

    /// Every token value issued so far (for tests that scan output for leaked secrets).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.tokens.keys().cloned().collect()
    }

    /// Review events a platform would have been pushed.
    pub fn events(&self) -> &[PushedEvent] {
        &self.events
    }

    fn next_id(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// A deterministic opaque string (tokens, refresh tokens, tickets).
    fn opaque(&mut self, prefix: &str) -> String {
        let n = self.next_id();
        format!("{prefix}{:016x}{:016x}", mix(n), mix(n ^ 0xA5A5))
    }

    /// WeChat's request id: `xxxxxxxx-xxxxxxxx-xxxxxxxx`.
    fn rid(&self) -> String {
        let h = mix(self.journal_seq + 1);
        format!(
            "{:08x}-{:08x}-{:08x}",
            h >> 32,
            h & 0xffff_ffff,
            mix(h) >> 32
        )
    }

    /// An error body: `{errcode, errmsg}` with the table's errmsg and a rid.
    fn error_body(&self, code: i64) -> Value {
        json!({ "errcode": code, "errmsg": format!("{} rid: {}", errcode::errmsg(code), self.rid()) })
    }

    /// The IP-whitelist errors carry the caller's IP in `errmsg`, as WeChat's do.
    fn error_for(&self, code: i64, req: &Request) -> Value {
        let ip = req.peer_ip();
        let detail = match code {
            40164 => format!("invalid ip {ip} ipv6 ::ffff:{ip}, not in whitelist"),
            61004 => format!("access clientip is not registered requestIp:{ip}"),
            _ => return self.error_body(code),
        };
        json!({ "errcode": code, "errmsg": format!("{detail} rid: {}", self.rid()) })
    }

    fn random_unit(&mut self) -> f64 {
        self.rng = mix(self.rng);
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Handles one request: admin API or WeChat API.
    pub fn handle(&mut self, req: &Request) -> Response {
        if let Some(rest) = req.path.strip_prefix(ADMIN_PREFIX) {
            return self.admin(rest, req);
        }
        // Time may have passed (real-time mode): let time-triggered review steps fire first.
        self.settle_reviews(None);
        let count = {
            let c = self.calls.entry(req.path.clone()).or_default();
            *c += 1;
            *c
        };
        let fault = self.pick_fault(&req.path, count);
        let ci = req.path.starts_with("/wxa/ci/");
        self.last_account = None;
        let (resp, fault_name, processed) = match &fault {
            Some((kind, false)) if !matches!(kind, FaultKind::DelayMs(_)) => (
                self.fault_response(kind, None, ci),
                Some(format!("{kind:?}")),
                None,
            ),
            _ => {
                let resp = self.serve(req);
                let processed = resp.errcode();
                match &fault {
                    Some((kind, _)) => (
                        self.fault_response(kind, Some(resp), ci),
                        Some(format!("{kind:?}")),
                        processed,
                    ),
                    None => (resp, None, processed),
                }
            }
        };
        self.record(req, &resp, fault_name, processed);
        resp
    }

    fn pick_fault(&mut self, path: &str, count: u32) -> Option<(FaultKind, bool)> {
        let scripted = self.scenario.faults.iter().find(|f| {
            (f.endpoint == "*" || f.endpoint == path) && f.call.is_none_or(|c| c == count)
        });
        if let Some(f) = scripted {
            return Some((f.kind.clone(), f.after));
        }
        let random = self.scenario.random_faults.clone()?;
        if !random.endpoints.is_empty() && !random.endpoints.iter().any(|e| e == path) {
            return None;
        }
        if random.kinds.is_empty() || self.random_unit() >= random.rate {
            return None;
        }
        let i = (self.random_unit() * random.kinds.len() as f64) as usize;
        Some((random.kinds[i.min(random.kinds.len() - 1)].clone(), false))
    }

    /// The fault's answer. `real` is the processed answer for faults that strike after processing.
    fn fault_response(&self, kind: &FaultKind, real: Option<Response>, ci: bool) -> Response {
        // The upload host answers `{errCode, errMsg}`, the API host `{errcode, errmsg}`.
        let error = |code: i64| match ci {
            true => Response::json(&json!({ "errCode": code, "errMsg": errcode::errmsg(code) })),
            false => Response::json(&self.error_body(code)),
        };
        let base = real.unwrap_or_else(|| error(-1));
        match kind {
            FaultKind::Errcode(code) => error(*code),
            FaultKind::Http(status) => Response {
                status: *status,
                content_type: "text/html".into(),
                body: format!("<html><body><h1>{status}</h1>upstream error</body></html>")
                    .into_bytes(),
                ..base
            },
            FaultKind::DelayMs(ms) => Response {
                delay: Some(Duration::from_millis(*ms)),
                ..base
            },
            FaultKind::Cut => Response { cut: true, ..base },
            FaultKind::Truncated => {
                let half = base.body.len() / 2;
                Response {
                    body: base.body[..half].to_vec(),
                    ..base
                }
            }
            FaultKind::NonJson => Response {
                content_type: "text/html; charset=utf-8".into(),
                body: b"<html><body>system busy, please try again later</body></html>".to_vec(),
                ..base
            },
            FaultKind::Redirect { status, location } => Response {
                status: *status,
                content_type: "text/html".into(),
                headers: vec![("Location".into(), location.clone())],
                body: format!("<html><body>moved to {location}</body></html>").into_bytes(),
                ..base
            },
            FaultKind::HugeErrmsg(bytes) => {
                // Built as bytes: serialising 100 MB through serde would take seconds.
                let (head, tail) = if ci {
                    (r#"{"errCode":-1,"errMsg":""#.to_owned(), "\"}".to_owned())
                } else {
                    (
                        r#"{"errcode":-1,"errmsg":""#.to_owned(),
                        format!(" rid: {}\"}}", self.rid()),
                    )
                };
                let mut body = Vec::with_capacity(head.len() + bytes + tail.len());
                body.extend_from_slice(head.as_bytes());
                body.resize(head.len() + bytes, b'x');
                body.extend_from_slice(tail.as_bytes());
                Response {
                    body,
                    content_type: "application/json".into(),
                    ..base
                }
            }
            FaultKind::Body(text) => Response {
                status: 200,
                content_type: "application/json".into(),
                body: text.clone().into_bytes(),
                ..base
            },
            FaultKind::WrongContentType => {
                let ct = if base.content_type.starts_with("image/") {
                    "application/json"
                } else {
                    "text/plain"
                };
                Response {
                    content_type: ct.into(),
                    ..base
                }
            }
        }
    }

    fn record(
        &mut self,
        req: &Request,
        resp: &Response,
        fault: Option<String>,
        processed: Option<i64>,
    ) {
        let query = req
            .query
            .iter()
            .map(|(k, v)| {
                let secret = k.contains("token") || k == "secret";
                (k.clone(), if secret { "***".into() } else { v.clone() })
            })
            .collect();
        let errcode = if resp.cut { None } else { resp.errcode() };
        let entry = JournalEntry {
            seq: self.journal_seq + 1,
            at: self.now(),
            method: req.method.clone(),
            path: req.path.clone(),
            query,
            body: redact_body(&req.body),
            status: if resp.cut { 0 } else { resp.status },
            errcode,
            processed,
            fault,
            account: self.last_account.take(),
        };
        self.journal_seq += 1;
        self.journal.push(entry);
        let keep = self.scenario.retention.journal.max(1);
        if self.journal.len() > keep + keep / 4 {
            // Dropped in batches, so that keeping the journal bounded costs O(1) a request.
            let cut = self.journal.len() - keep;
            self.journal.drain(..cut);
        }
    }

    /// Method, body, token, rate limit, then the endpoint.
    #[allow(clippy::too_many_lines)]
    fn serve(&mut self, req: &Request) -> Response {
        if req.path.starts_with("/wxa/ci/") || req.path.starts_with("/wxa-dev-logic/") {
            return self.ci(req);
        }
        let Some(&(path, method, auth)) = ENDPOINTS.iter().find(|(p, _, _)| *p == req.path) else {
            return Response {
                status: 404,
                content_type: "text/html".into(),
                body: b"<html><body>404 Not Found</body></html>".to_vec(),
                ..Response::json(&Value::Null)
            };
        };
        match self.serve_api(req, path, method, auth) {
            Ok(Ok(mut v)) => {
                // C11: the token answers carry no errcode/errmsg on success; the others say 0/ok.
                if let Some(m) = v.as_object_mut().filter(|_| !BARE_SUCCESS.contains(&path)) {
                    m.entry("errcode").or_insert(json!(0));
                    m.entry("errmsg").or_insert(json!("ok"));
                }
                Response::json(&v)
            }
            Ok(Err(code)) => Response::json(&self.error_for(code, req)),
            Err(binary) => binary,
        }
    }

    /// `Err(response)` for non-JSON answers (the QR image).
    fn serve_api(
        &mut self,
        req: &Request,
        path: &str,
        method: Method,
        auth: Auth,
    ) -> Result<Answer, Response> {
        // Methods. REFERENCE-UNSURE: only gettemplatelist (43001) and stable_token/uploadmedia (43002)
        // document the method error; we apply 43002 to every POST endpoint called with GET, and 43001
        // only to gettemplatelist (WeChat's GET endpoints tolerate POST elsewhere).
        match (method, req.method.as_str()) {
            (Method::Post, "GET") => return Ok(Err(43002)),
            (Method::Get, "POST") if path == "/wxa/gettemplatelist" => return Ok(Err(43001)),
            _ => {}
        }
        let body = if method == Method::Post {
            match parse_body(&req.body) {
                Ok(b) => b,
                Err(code) => return Ok(Err(code)),
            }
        } else {
            Map::new()
        };
        let caller = match self.authenticate(req, path, auth) {
            Ok(c) => c,
            Err(code) => return Ok(Err(code)),
        };
        if caller.kind.is_some() {
            self.last_account = Some(caller.account());
        }
        if let Err(code) = self.count_rate(&caller.account(), path) {
            return Ok(Err(code));
        }
        let ctx = Ctx {
            req,
            body: &body,
            caller: &caller,
        };
        Ok(match path {
            "/cgi-bin/token" => self.cgi_token(&ctx),
            "/cgi-bin/stable_token" => self.stable_token(&ctx),
            "/cgi-bin/component/api_component_token" => self.component_token(&ctx),
            "/cgi-bin/component/api_authorizer_token" => self.authorizer_token(&ctx),
            "/cgi-bin/component/api_query_auth" => self.query_auth(&ctx),
            "/cgi-bin/component/api_get_authorizer_list" => self.authorizer_list(&ctx),
            "/cgi-bin/component/api_get_authorizer_info" => self.authorizer_info(&ctx),
            "/wxa/gettemplatedraftlist" => self.draft_list(&ctx),
            "/wxa/addtotemplate" => self.add_to_template(&ctx),
            "/wxa/gettemplatelist" => self.template_list(&ctx),
            "/wxa/deletetemplate" => self.delete_template(&ctx),
            "/wxa/commit" => self.commit(&ctx),
            "/wxa/get_page" => self.get_page(&ctx),
            "/wxa/get_category" => self.get_category(&ctx),
            "/wxa/security/get_code_privacy_info" => self.privacy_info(&ctx),
            "/wxa/submit_audit" => self.submit_audit(&ctx),
            "/wxa/get_auditstatus" => self.audit_status(&ctx),
            "/wxa/get_latest_auditstatus" => self.latest_audit_status(&ctx),
            "/wxa/undocodeaudit" => self.undo_audit(&ctx),
            "/wxa/speedupaudit" => self.speedup_audit(&ctx),
            "/wxa/queryquota" => self.query_quota(&ctx),
            "/wxa/release" => self.release(&ctx),
            "/wxa/grayrelease" => self.gray_release(&ctx),
            "/wxa/getgrayreleaseplan" => self.gray_plan(&ctx),
            "/wxa/revertgrayrelease" => self.revert_gray(&ctx),
            "/wxa/revertcoderelease" => self.revert_code_release(&ctx),
            "/wxa/getversioninfo" => self.version_info(&ctx),
            "/wxa/get_qrcode" => return self.qrcode(&ctx),
            "/wxa/change_visitstatus" => self.change_visit_status(&ctx),
            "/datacube/getweanalysisappiddailyvisittrend" => self.daily_visit_trend(&ctx),
            "/datacube/getweanalysisappidvisitpage" => self.visit_page(&ctx),
            "/datacube/getweanalysisappidweeklyvisittrend" => self.weekly_visit_trend(&ctx),
            "/datacube/getweanalysisappidmonthlyvisittrend" => self.monthly_visit_trend(&ctx),
            "/datacube/getweanalysisappidvisitdistribution" => self.visit_distribution(&ctx),
            "/wxa/business/performance/boot" => self.performance(&ctx),
            "/wxaapi/log/jserr_list" => self.jserr_list(&ctx),
            "/wxaapi/log/jserr_detail" => self.jserr_detail(&ctx),
            "/wxaapi/feedback/list" => self.feedback_list(&ctx),
            "/wxaapi/userlog/userlog_search" => self.userlog_search(&ctx),
            "/cgi-bin/openapi/quota/get" => self.quota_get(&ctx),
            "/cgi-bin/clear_quota" => self.clear_quota(&ctx),
            _ => Err(-1),
        })
    }

    /// Checks the token against what the endpoint wants.
    fn authenticate(&self, req: &Request, path: &str, auth: Auth) -> Result<Caller, i64> {
        if auth == Auth::None {
            return Ok(Caller { kind: None });
        }
        // Older docs put the component token in `component_access_token=`; SDKs use both.
        let value = req
            .param("access_token")
            .or_else(|| req.param("component_access_token"));
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return Err(41001);
        };
        let Some(token) = self.tokens.get(value) else {
            // A value that cannot be a token at all is 40014; a plausible but unknown one 40001.
            let malformed = value.len() < 16 || !value.bytes().all(|b| b.is_ascii_graphic());
            return Err(if malformed { 40014 } else { 40001 });
        };
        if self.now() >= token.expires_at {
            return Err(42001);
        }
        let kind = token.kind.clone();
        // Every third-party call is checked against the platform's IP whitelist.
        let platform = match &kind {
            TokenKind::Component { component } | TokenKind::Authorizer { component, .. } => {
                self.platforms.get(component)
            }
            TokenKind::Own { .. } => None,
        };
        if platform.is_some_and(|p| !p.allows(req.peer_ip())) {
            return Err(61004);
        }
        match (auth, &kind) {
            (Auth::Component, TokenKind::Component { .. })
            | (Auth::Any, _)
            | (Auth::OwnOrAuthorizer, TokenKind::Own { .. }) => {}
            // REFERENCE-UNSURE: §1 lists 61014 for a non-component token on component APIs; the
            // template endpoints do not list it, we answer it there too.
            (Auth::Component, _) => return Err(61014),
            // The mini program's own token: 86000 on code management, except submit_audit where
            // community reports show 48001.
            (Auth::Authorizer, TokenKind::Own { .. }) if path == "/wxa/submit_audit" => {
                return Err(48001)
            }
            (
                Auth::Authorizer | Auth::OwnOrAuthorizer,
                TokenKind::Own { .. } | TokenKind::Component { .. },
            ) => return Err(86000),
            (
                Auth::Authorizer | Auth::OwnOrAuthorizer,
                TokenKind::Authorizer { appid, component },
            ) => {
                let auth = self.apps.get(appid).and_then(|a| a.authorization.as_ref());
                match auth {
                    Some(a) if a.component == *component && a.set18 => {}
                    Some(a) if a.component == *component => return Err(61007),
                    _ => return Err(61003),
                }
            }
            (Auth::None, _) => {}
        }
        Ok(Caller { kind: Some(kind) })
    }

    /// Counts the call against the account's limits: 45011 per minute, 45009 per day.
    fn count_rate(&mut self, account: &str, path: &str) -> Result<(), i64> {
        let now = self.now();
        let (minute, day) = (now / 60, day_of(now));
        let builtin = (path == "/cgi-bin/stable_token").then_some((Some(10_000), Some(500_000)));
        let limit = self
            .scenario
            .rate_limits
            .iter()
            .find(|l| l.endpoint == path)
            .map(|l| (l.per_minute, l.per_day))
            .or(builtin);
        let c = self.counters.entry(account.to_owned()).or_default();
        let m = c.minute.entry((path.to_owned(), minute)).or_default();
        let d = c.day.entry((path.to_owned(), day)).or_default();
        if let Some((per_minute, per_day)) = limit {
            if per_day.is_some_and(|l| *d >= l) {
                return Err(45009);
            }
            if per_minute.is_some_and(|l| *m >= l) {
                return Err(45011);
            }
        }
        *m += 1;
        *d += 1;
        Ok(())
    }

    /// Lets review steps fire: on a poll of `polled` (app, auditid), and by time for the reviews
    /// whose next step is due. Time-driven steps wait in a queue ordered by due time, so a request
    /// costs the reviews that fire, not every review in flight (a fleet has thousands).
    fn settle_reviews(&mut self, polled: Option<(&str, u64)>) {
        let now = self.now();
        let mut due: Vec<(String, u64)> = Vec::new();
        while let Some(Reverse((at, _, _))) = self.review_queue.peek() {
            if *at > now {
                break;
            }
            if let Some(Reverse((_, appid, id))) = self.review_queue.pop() {
                due.push((appid, id));
            }
        }
        due.sort_unstable();
        due.dedup();
        if let Some((appid, id)) = polled {
            let owned = (appid.to_owned(), id);
            due.retain(|d| *d != owned);
            self.advance_review(appid, id, true, now);
            self.schedule_review(appid, id);
        }
        for (appid, id) in due {
            self.advance_review(&appid, id, false, now);
            self.schedule_review(&appid, id);
        }
    }

    /// Queues the time-driven step a review in flight waits for, if its next step is one.
    pub(super) fn schedule_review(&mut self, appid: &str, auditid: u64) {
        let Some(r) = self
            .apps
            .get(appid)
            .and_then(|a| a.reviews.iter().find(|r| r.auditid == auditid))
        else {
            return;
        };
        if !r.in_flight() {
            return;
        }
        if let Some(secs) = r.script.get(r.step).and_then(|s| s.after_seconds) {
            let at = r.step_started_at.saturating_add(secs);
            self.review_queue
                .push(Reverse((at, appid.to_owned(), auditid)));
        }
    }

    /// Fires the steps of one review that are due (by polls when `is_polled`, or by time).
    fn advance_review(&mut self, appid: &str, auditid: u64, is_polled: bool, now: u64) {
        let Some(r) = self
            .apps
            .get_mut(appid)
            .and_then(|a| a.reviews.iter_mut().find(|r| r.auditid == auditid))
            .filter(|r| r.in_flight())
        else {
            return;
        };
        if is_polled {
            r.step_polls += 1;
        }
        let mut fired = Vec::new();
        while let Some(step) = r.script.get(r.step).cloned() {
            let by_polls = step.after_polls.is_some_and(|n| r.step_polls >= n);
            let by_time = step
                .after_seconds
                .is_some_and(|s| now >= r.step_started_at + s);
            let unconditional =
                step.after_polls.is_none() && step.after_seconds.is_none() && is_polled;
            if !(by_polls || by_time || unconditional) {
                break;
            }
            r.step += 1;
            r.step_started_at = now;
            r.step_polls = 0;
            let (status, event, reason, screenshot) = match step.outcome {
                Outcome::Approve => (0, "weapp_audit_success", String::new(), String::new()),
                Outcome::Reject {
                    reason,
                    screenshots,
                } => (1, "weapp_audit_fail", reason, screenshots.join("|")),
                Outcome::Delay { reason } => (4, "weapp_audit_delay", reason, String::new()),
                Outcome::Withdraw => (3, "", String::new(), String::new()),
            };
            r.status = status;
            r.reason.clone_from(&reason);
            r.screenshot.clone_from(&screenshot);
            if status == 3 {
                break;
            }
            fired.push(PushedEvent {
                appid: appid.to_owned(),
                auditid,
                event: event.into(),
                create_time: now,
                reason,
                screenshot,
            });
            if status != 4 {
                break;
            }
        }
        for e in &fired {
            self.queue_audit_push(e);
        }
        self.events.extend(fired);
    }

    /// The pushes waiting to be sent (taken: the caller sends them).
    pub fn take_pushes(&mut self) -> Vec<OutgoingPush> {
        std::mem::take(&mut self.outbox)
    }

    /// Records how a push was answered.
    pub fn record_push(&mut self, what: &str, status: u16) {
        self.push_log.push((what.to_owned(), status));
    }

    /// The pushes sent so far and the receiver's HTTP status (0: not delivered).
    pub fn push_log(&self) -> &[(String, u16)] {
        &self.push_log
    }

    /// Encrypts `msg` for `component` as WeChat does and queues it for `url`.
    pub(super) fn queue_push(
        &mut self,
        url: &str,
        component: &str,
        to_user: &str,
        msg: &str,
        what: &str,
    ) {
        let Some(target) = self.scenario.push.clone() else {
            return;
        };
        let Ok(crypt) =
            mp_release_core::push::Crypt::new(&target.token, &target.encoding_aes_key, component)
        else {
            return;
        };
        let mut random = [0u8; 16];
        for chunk in random.chunks_mut(8) {
            self.rng = mix(self.rng ^ self.journal_seq);
            chunk.copy_from_slice(&self.rng.to_le_bytes()[..chunk.len()]);
        }
        let encrypt = crypt.encrypt(msg, &random);
        let timestamp = self.now().to_string();
        self.rng = mix(self.rng);
        let nonce = (self.rng % 9_000_000_000 + 1_000_000_000).to_string();
        let msg_signature = crypt.sign(&timestamp, &nonce, &encrypt);
        let signature = mp_release_core::push::signature(&[&target.token, &timestamp, &nonce]);
        let sep = if url.contains('?') { '&' } else { '?' };
        self.outbox.push(OutgoingPush {
            url: format!(
                "{url}{sep}signature={signature}&timestamp={timestamp}&nonce={nonce}&encrypt_type=aes&msg_signature={msg_signature}"
            ),
            // The authorization-event URL's pushes carry AppId instead of ToUserName (A2.2).
            body: if what == "component_verify_ticket" {
                format!("<xml><AppId><![CDATA[{to_user}]]></AppId><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>")
            } else {
                mp_release_core::push::envelope(to_user, &encrypt)
            },
            what: what.to_owned(),
        });
    }

    fn queue_audit_push(&mut self, e: &PushedEvent) {
        let Some(target) = self.scenario.push.clone() else {
            return;
        };
        let Some(component) = self
            .apps
            .get(&e.appid)
            .and_then(|a| a.authorization.as_ref())
            .map(|a| a.component.clone())
        else {
            return;
        };
        let to_user = original_id(&e.appid);
        let msg = mp_release_core::push::audit_xml(
            &to_user,
            &e.event,
            e.create_time,
            &e.reason,
            &e.screenshot,
        );
        let url = target.url.replace("$APPID$", &e.appid);
        self.queue_push(&url, &component, &to_user, &msg, &e.event);
    }

    fn app_mut(&mut self, appid: &str) -> Result<&mut App, i64> {
        self.apps.get_mut(appid).ok_or(40013)
    }
}

/// The emulator's 原始 ID of an app (`gh_` and twelve hex digits of its appid).
pub fn original_id(appid: &str) -> String {
    format!("gh_{}", appid.get(2..14).unwrap_or(appid))
}

/// One request's parsed inputs, handed to endpoint methods.
struct Ctx<'a> {
    req: &'a Request,
    body: &'a Map<String, Value>,
    caller: &'a Caller,
}

impl Ctx<'_> {
    fn str(&self, key: &str) -> Option<&str> {
        self.body.get(key).and_then(Value::as_str)
    }

    /// A number given as a JSON number or a numeric string (WeChat samples send both).
    fn num(&self, key: &str) -> Option<u64> {
        match self.body.get(key)? {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// A POST body: WeChat wants a JSON object; nothing at all is 44002, anything else 47001.
fn parse_body(body: &[u8]) -> Result<Map<String, Value>, i64> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(44002);
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(47001),
    }
}

/// Body text for the journal, with secret fields replaced.
fn redact_body(body: &[u8]) -> String {
    const SECRET: &[&str] = &[
        "secret",
        "component_appsecret",
        "component_verify_ticket",
        "authorizer_refresh_token",
        "component_secret",
        "authorization_code",
    ];
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(mut m)) => {
            for k in SECRET {
                if let Some(v) = m.get_mut(*k) {
                    *v = json!("***");
                }
            }
            Value::Object(m).to_string()
        }
        _ => match std::str::from_utf8(body) {
            Ok(text) => text.to_owned(),
            Err(_) => format!("<{} bytes of binary data>", body.len()),
        },
    }
}

#[cfg(test)]
mod tests;
