//! Socket-free tests of the World's state rules: quotas, undo limits, the privacy-scan restart,
//! review outcomes, rollback history, tokens, rate limits and faults.
#![allow(clippy::needless_pass_by_value)] // request bodies are built inline with json!()

use super::*;
use crate::scenario::ReviewStep;

const C: &str = "wxc0c0c0c0c0c0c0c0";
const A: &str = "wxa1a1a1a1a1a1a1a1";

struct Setup {
    w: World,
    component: String,
    token: String,
    template: u64,
}

fn call(w: &mut World, req: &Request) -> Value {
    let r = w.handle(req);
    r.body_json().unwrap_or(Value::Null)
}

fn code(v: &Value) -> i64 {
    v.get("errcode").and_then(Value::as_i64).unwrap_or(0)
}

fn setup_with(scenario: Scenario, spec: impl FnOnce(AppSpec) -> AppSpec) -> Setup {
    let mut w = World::new(scenario);
    let ticket = w.add_platform(C, "csecret");
    let reg = w.add_app(spec(AppSpec::authorized(A, C)));
    let template = w
        .add_template(
            C,
            "wxdev0000000000000",
            "1.0.0",
            &["pages/index", "pages/me"],
            1000,
        )
        .unwrap();
    let v = call(
        &mut w,
        &Request::post(
            "/cgi-bin/component/api_component_token",
            &[],
            &json!({
        "component_appid": C, "component_appsecret": "csecret", "component_verify_ticket": ticket }),
        ),
    );
    let component = v["component_access_token"].as_str().unwrap().to_owned();
    let v = call(
        &mut w,
        &Request::post(
            "/cgi-bin/component/api_authorizer_token",
            &[("access_token", &component)],
            &json!({
        "component_appid": C, "authorizer_appid": A, "authorizer_refresh_token": reg.refresh_token }),
        ),
    );
    let token = v["authorizer_access_token"].as_str().unwrap().to_owned();
    Setup {
        w,
        component,
        token,
        template,
    }
}

/// A world with this operations traffic and tokens that outlive days of clock jumps.
fn with_traffic(t: crate::scenario::Traffic) -> Setup {
    setup_with(
        Scenario {
            traffic: Some(t),
            ..long_tokens()
        },
        |a| a,
    )
}

/// Tokens that outlive the clock jumps of tests spanning days (refresh is the client's job).
fn long_tokens() -> Scenario {
    Scenario {
        token_lifetime: 400 * 86_400,
        ..Scenario::default()
    }
}

fn setup() -> Setup {
    setup_with(Scenario::default(), |s| s)
}

impl Setup {
    fn post(&mut self, path: &str, body: Value) -> Value {
        let t = self.token.clone();
        call(
            &mut self.w,
            &Request::post(path, &[("access_token", &t)], &body),
        )
    }

    fn get(&mut self, path: &str, extra: &[(&str, &str)]) -> Value {
        let t = self.token.clone();
        let mut q = vec![("access_token", t.as_str())];
        q.extend_from_slice(extra);
        call(&mut self.w, &Request::get(path, &q))
    }

    fn commit(&mut self, version: &str) -> Value {
        let t = self.template;
        self.post("/wxa/commit", json!({ "template_id": t, "ext_json": "{}", "user_version": version, "user_desc": "d" }))
    }

    /// Commit, wait out the scan, submit; returns the auditid.
    fn submitted(&mut self, version: &str) -> u64 {
        assert_eq!(code(&self.commit(version)), 0);
        while code(&self.get("/wxa/security/get_code_privacy_info", &[])) == 61039 {}
        let v = self.post("/wxa/submit_audit", json!({}));
        assert_eq!(code(&v), 0, "{v}");
        v["auditid"].as_u64().unwrap()
    }

    fn poll(&mut self, id: u64) -> Value {
        self.post("/wxa/get_auditstatus", json!({ "auditid": id }))
    }

    /// Submit and poll until the review ends; then release.
    fn released(&mut self, version: &str) {
        let id = self.submitted(version);
        while self.poll(id)["status"] != 0 {}
        assert_eq!(code(&self.post("/wxa/release", json!({}))), 0);
    }
}

#[test]
fn privacy_scan_blocks_submit_and_a_new_commit_restarts_it() {
    let mut s = setup_with(Scenario::default().privacy_scan(2, 600), |a| a);
    assert_eq!(code(&s.commit("1.0.0")), 0);
    assert_eq!(code(&s.post("/wxa/submit_audit", json!({}))), 61039);
    assert_eq!(
        code(&s.get("/wxa/security/get_code_privacy_info", &[])),
        61039
    );
    // two 61039 answers: done
    assert_eq!(code(&s.get("/wxa/security/get_code_privacy_info", &[])), 0);
    // a new commit restarts the scan
    assert_eq!(code(&s.commit("1.0.1")), 0);
    assert_eq!(
        code(&s.get("/wxa/security/get_code_privacy_info", &[])),
        61039
    );
    // ... which also ends by time
    s.w.advance(600);
    assert_eq!(code(&s.post("/wxa/submit_audit", json!({}))), 0);
}

#[test]
fn review_outcomes_follow_the_script_and_push_events() {
    let scenario = Scenario::default()
        .review(vec![ReviewStep::reject_after_polls(
            2,
            "bad<br>icon",
            &["m1", "m2"],
        )])
        .review(vec![
            ReviewStep::delay_after_polls(1, "busy"),
            ReviewStep::approve_after_polls(1).at_seconds(3600),
        ]);
    let mut s = setup_with(scenario, |a| a);
    let first = s.submitted("1.0.0");
    assert_eq!(s.poll(first)["status"], 2);
    let v = s.poll(first);
    assert_eq!(
        (
            v["status"].as_u64(),
            v["reason"].as_str(),
            v["screenshot"].as_str()
        ),
        (Some(1), Some("bad<br>icon"), Some("m1|m2"))
    );
    let second = s.submitted("1.0.1");
    let v = s.poll(second);
    assert_eq!(
        (v["status"].as_u64(), v["reason"].as_str()),
        (Some(4), Some("busy"))
    );
    assert_eq!(
        s.poll(second)["status"],
        4,
        "the approval waits for the clock"
    );
    s.w.advance(3600);
    assert_eq!(s.poll(second)["status"], 0);
    let events: Vec<&str> = s.w.events().iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        events,
        [
            "weapp_audit_fail",
            "weapp_audit_delay",
            "weapp_audit_success"
        ]
    );
    let latest = s.get("/wxa/get_latest_auditstatus", &[]);
    assert_eq!(
        (latest["auditid"].as_u64(), latest["user_version"].as_str()),
        (Some(second), Some("1.0.1"))
    );
}

#[test]
fn one_review_at_a_time_and_quota_counting() {
    let mut s = setup_with(long_tokens(), |a| a);
    s.w.set_review_quota(C, 2, 2);
    let id = s.submitted("1.0.0");
    assert_eq!(code(&s.post("/wxa/submit_audit", json!({}))), 85009);
    assert_eq!(s.get("/wxa/queryquota", &[])["rest"], 1);
    assert_eq!(code(&s.get("/wxa/undocodeaudit", &[])), 0);
    assert_eq!(s.poll(id)["status"], 3);
    let _second = s.submitted("1.0.1");
    assert_eq!(
        s.get("/wxa/queryquota", &[])["rest"],
        0,
        "withdrawal refunds nothing"
    );
    assert_eq!(code(&s.get("/wxa/undocodeaudit", &[])), 0);
    assert_eq!(code(&s.post("/wxa/submit_audit", json!({}))), 85085);
    // a new month refills it
    s.w.advance(31 * 86_400);
    assert_eq!(s.get("/wxa/queryquota", &[])["rest"], 2);
}

#[test]
fn undo_limits_five_a_day_ten_a_month() {
    let mut s = setup_with(long_tokens(), |a| a);
    s.w.set_review_quota(C, 100, 100);
    let mut withdrawn = 0;
    let mut refused_after = Vec::new();
    for _day in 0..3 {
        for _ in 0..6 {
            if s.get("/wxa/get_latest_auditstatus", &[])["status"] != 2 {
                s.submitted(&format!("1.0.{withdrawn}"));
            }
            match code(&s.get("/wxa/undocodeaudit", &[])) {
                0 => withdrawn += 1,
                87013 => {
                    refused_after.push(withdrawn);
                    break;
                }
                other => panic!("{other}"),
            }
        }
        s.w.advance(86_400);
    }
    assert_eq!(
        refused_after,
        [5, 10, 10],
        "5 a day, then the monthly 10 caps day three"
    );
    s.w.advance(31 * 86_400);
    assert_eq!(code(&s.get("/wxa/undocodeaudit", &[])), 0, "a new month");
}

#[test]
fn release_rules_and_rollback_history() {
    let mut s = setup();
    assert_eq!(code(&s.post("/wxa/release", json!({}))), 85019);
    assert_eq!(
        code(
            &s.w.handle(&Request {
                method: "POST".into(),
                path: "/wxa/release".into(),
                query: vec![("access_token".into(), s.token.clone())],
                ..Request::default()
            })
            .body_json()
            .unwrap()
        ),
        44002
    );
    let id = s.submitted("1.0.0");
    assert_eq!(code(&s.post("/wxa/release", json!({}))), 85020);
    while s.poll(id)["status"] != 0 {}
    assert_eq!(code(&s.post("/wxa/release", json!({}))), 0);
    assert_eq!(code(&s.post("/wxa/release", json!({}))), 85052);
    for v in ["1.1.0", "1.2.0", "1.3.0", "1.4.0", "1.5.0", "1.6.0"] {
        s.released(v);
    }
    let info = s.post("/wxa/getversioninfo", json!({}));
    assert_eq!(info["release_info"]["release_version"], "1.6.0");
    let hist = s.get(
        "/wxa/revertcoderelease",
        &[("action", "get_history_version")],
    );
    let versions: Vec<&str> = hist["version_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["user_version"].as_str().unwrap())
        .collect();
    assert_eq!(
        versions,
        ["1.5.0", "1.4.0", "1.3.0", "1.2.0", "1.1.0"],
        "five kept, newest first"
    );
    // roll back to a chosen version, then not again from a rolled-back version
    let target = hist["version_list"][2]["app_version"]
        .as_u64()
        .unwrap()
        .to_string();
    assert_eq!(
        code(&s.get("/wxa/revertcoderelease", &[("app_version", &target)])),
        0
    );
    assert_eq!(
        s.post("/wxa/getversioninfo", json!({}))["release_info"]["release_version"],
        "1.3.0"
    );
    assert_eq!(code(&s.get("/wxa/revertcoderelease", &[])), 87012);
    assert_eq!(
        code(&s.get("/wxa/revertcoderelease", &[("app_version", "x")])),
        40097
    );
}

#[test]
fn phased_release_rules() {
    let mut s = setup();
    let id = s.submitted("1.0.0");
    while s.poll(id)["status"] != 0 {}
    assert_eq!(
        code(&s.post("/wxa/grayrelease", json!({ "gray_percentage": 10 }))),
        85079,
        "first release must be full"
    );
    assert_eq!(code(&s.post("/wxa/release", json!({}))), 0);
    let id = s.submitted("1.1.0");
    assert_eq!(
        code(&s.post("/wxa/grayrelease", json!({ "gray_percentage": 10 }))),
        85080
    );
    while s.poll(id)["status"] != 0 {}
    assert_eq!(
        code(&s.post("/wxa/grayrelease", json!({ "gray_percentage": 101 }))),
        85081
    );
    assert_eq!(
        code(&s.post("/wxa/grayrelease", json!({ "gray_percentage": 0 }))),
        40097
    );
    assert_eq!(
        code(&s.post("/wxa/grayrelease", json!({ "gray_percentage": 10 }))),
        0
    );
    assert_eq!(
        code(&s.post("/wxa/grayrelease", json!({ "gray_percentage": 10 }))),
        85082
    );
    assert_eq!(
        code(&s.post("/wxa/grayrelease", json!({ "gray_percentage": 50 }))),
        0
    );
    assert_eq!(
        s.get("/wxa/getgrayreleaseplan", &[])["gray_release_plan"]["gray_percentage"],
        50
    );
    assert_eq!(code(&s.get("/wxa/revertcoderelease", &[])), 87011);
    assert_eq!(code(&s.post("/wxa/release", json!({}))), 0);
    assert_eq!(
        s.get("/wxa/getgrayreleaseplan", &[])["gray_release_plan"]["status"],
        3
    );
}

#[test]
fn tokens_expire_and_kinds_are_checked() {
    let mut s = setup();
    assert_eq!(code(&s.get("/wxa/get_category", &[])), 0);
    let authorizer = std::mem::replace(&mut s.token, s.component.clone());
    assert_eq!(
        code(&s.get("/wxa/get_category", &[])),
        86000,
        "component token on wxa/*"
    );
    assert_eq!(code(&s.get("/wxa/gettemplatelist", &[])), 0);
    s.token = authorizer;
    assert_eq!(
        code(&s.get("/wxa/gettemplatelist", &[])),
        61014,
        "authorizer token on a component API"
    );
    s.w.advance(7199);
    assert_eq!(code(&s.get("/wxa/get_category", &[])), 0);
    s.w.advance(1);
    assert_eq!(code(&s.get("/wxa/get_category", &[])), 42001);
    s.token = "nonsense".into();
    assert_eq!(code(&s.get("/wxa/get_category", &[])), 40014);
    s.token = "AUTHORIZER_0000000000000000".into();
    assert_eq!(code(&s.get("/wxa/get_category", &[])), 40001);
    let v = call(&mut s.w, &Request::get("/wxa/get_category", &[]));
    assert_eq!(code(&v), 41001);
}

#[test]
fn stable_token_is_stable_and_cgi_token_rotates() {
    let mut w = World::default();
    w.add_app(AppSpec {
        appid: A.into(),
        secret: "s".into(),
        ..AppSpec::default()
    });
    let body = json!({ "grant_type": "client_credential", "appid": A, "secret": "s" });
    let t1 =
        call(&mut w, &Request::post("/cgi-bin/stable_token", &[], &body))["access_token"].clone();
    let t2 =
        call(&mut w, &Request::post("/cgi-bin/stable_token", &[], &body))["access_token"].clone();
    assert_eq!(t1, t2, "normal mode returns the same token");
    w.advance(7200 - 299);
    let t3 =
        call(&mut w, &Request::post("/cgi-bin/stable_token", &[], &body))["access_token"].clone();
    assert_ne!(t1, t3, "renewed in the last five minutes");
    let mut forced = body;
    forced["force_refresh"] = json!(true);
    let f1 = call(
        &mut w,
        &Request::post("/cgi-bin/stable_token", &[], &forced),
    )["access_token"]
        .clone();
    let f2 = call(
        &mut w,
        &Request::post("/cgi-bin/stable_token", &[], &forced),
    )["access_token"]
        .clone();
    assert_eq!(f1, f2, "within 30 s no refresh happens");
    for _ in 0..19 {
        w.advance(30);
        assert_eq!(
            code(&call(
                &mut w,
                &Request::post("/cgi-bin/stable_token", &[], &forced)
            )),
            0
        );
    }
    w.advance(30);
    assert_eq!(
        code(&call(
            &mut w,
            &Request::post("/cgi-bin/stable_token", &[], &forced)
        )),
        45009,
        "20 a day"
    );

    let q = [
        ("grant_type", "client_credential"),
        ("appid", A),
        ("secret", "s"),
    ];
    let a = call(&mut w, &Request::get("/cgi-bin/token", &q))["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let _b = call(&mut w, &Request::get("/cgi-bin/token", &q));
    let own = |w: &mut World, t: &str| {
        code(&call(
            w,
            &Request::post(
                "/cgi-bin/openapi/quota/get",
                &[("access_token", t)],
                &json!({ "cgi_path": "/wxa/get_qrcode" }),
            ),
        ))
    };
    assert_eq!(own(&mut w, &a), 0, "the old token overlaps five minutes");
    w.advance(300);
    assert_eq!(own(&mut w, &a), 42001);
    assert_eq!(
        code(&call(
            &mut w,
            &Request::post(
                "/cgi-bin/stable_token",
                &[],
                &json!({ "grant_type": "client_credential", "appid": A, "secret": "x" })
            )
        )),
        40125
    );
}

#[test]
fn rate_limits_per_minute_and_day_and_clear_quota() {
    let mut s = setup_with(
        Scenario::default().rate_limit("/wxa/get_category", Some(2), Some(3)),
        |a| a,
    );
    assert_eq!(code(&s.get("/wxa/get_category", &[])), 0);
    assert_eq!(code(&s.get("/wxa/get_category", &[])), 0);
    assert_eq!(code(&s.get("/wxa/get_category", &[])), 45011);
    s.w.advance(60);
    assert_eq!(code(&s.get("/wxa/get_category", &[])), 0);
    assert_eq!(code(&s.get("/wxa/get_category", &[])), 45009);
    let q = s.post(
        "/cgi-bin/openapi/quota/get",
        json!({ "cgi_path": "/wxa/get_category" }),
    );
    assert_eq!(
        (
            q["quota"]["daily_limit"].as_u64(),
            q["quota"]["used"].as_u64()
        ),
        (Some(3), Some(3))
    );
    for _ in 0..10 {
        assert_eq!(
            code(&s.post("/cgi-bin/clear_quota", json!({ "appid": A }))),
            0
        );
    }
    assert_eq!(code(&s.get("/wxa/get_category", &[])), 0, "cleared");
    assert_eq!(
        code(&s.post("/cgi-bin/clear_quota", json!({ "appid": A }))),
        48006
    );
}

#[test]
fn faults_before_have_no_effect_faults_after_lose_the_answer() {
    let scenario = Scenario::default()
        .fault("/wxa/submit_audit", Some(1), FaultKind::Errcode(-1))
        .fault_after("/wxa/submit_audit", Some(2), FaultKind::Cut);
    let mut s = setup_with(scenario, |a| a);
    assert_eq!(code(&s.commit("1.0.0")), 0);
    while code(&s.get("/wxa/security/get_code_privacy_info", &[])) == 61039 {}
    assert_eq!(code(&s.post("/wxa/submit_audit", json!({}))), -1);
    assert!(s.w.app_state(A).unwrap()["reviews"]
        .as_array()
        .unwrap()
        .is_empty());
    let t = s.token.clone();
    let cut = s.w.handle(&Request::post(
        "/wxa/submit_audit",
        &[("access_token", &t)],
        &json!({}),
    ));
    assert!(cut.cut);
    assert_eq!(
        s.w.app_state(A).unwrap()["reviews"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "the cut answer's review exists"
    );
    assert_eq!(code(&s.post("/wxa/submit_audit", json!({}))), 85009);
    let j = s.w.journal();
    assert_eq!(
        j.iter()
            .filter(|e| e.path == "/wxa/submit_audit")
            .map(|e| e.errcode)
            .collect::<Vec<_>>(),
        [Some(-1), None, Some(85009)]
    );
    assert!(j.iter().all(|e| e
        .query
        .iter()
        .all(|(k, v)| k != "access_token" || v == "***")));
}

#[test]
fn random_faults_are_reproducible() {
    let run = |seed| {
        let scenario = Scenario {
            random_faults: Some(crate::scenario::RandomFaults {
                seed,
                rate: 0.3,
                kinds: vec![FaultKind::Errcode(-1), FaultKind::NonJson],
                endpoints: vec!["/wxa/get_category".into()],
            }),
            ..Scenario::default()
        };
        let mut s = setup_with(scenario, |a| a);
        (0..50)
            .map(|_| {
                s.w.handle(&Request::get(
                    "/wxa/get_category",
                    &[("access_token", &s.token.clone())],
                ))
                .errcode()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8));
    let faults = run(7).iter().filter(|c| **c != Some(0)).count();
    assert!((5..30).contains(&faults), "{faults} of 50 at rate 0.3");
}

/// `api_get_authorizer_list` pages by authorization time (≤ 500 a page) and leaves the refresh
/// token out of the items whose app says so; `api_get_authorizer_info` reports permission set 18.
#[test]
fn authorizer_list_pages_and_info_reports_the_permission_sets() {
    let mut s = setup();
    for n in 0..7u32 {
        s.w.advance(1);
        let appid = format!("wxb{n:015x}");
        s.w.add_app(AppSpec {
            refresh_token_listed: n != 3,
            set18: n != 5,
            ..AppSpec::authorized(&appid, C)
        });
    }
    let comp = s.component.clone();
    let page = |w: &mut World, offset: u64, count: u64| {
        call(
            w,
            &Request::post(
                "/cgi-bin/component/api_get_authorizer_list",
                &[("access_token", &comp)],
                &json!({ "component_appid": C, "offset": offset, "count": count }),
            ),
        )
    };
    let first = page(&mut s.w, 0, 3);
    assert!(first.get("errcode").is_none(), "bare success: {first}");
    assert_eq!(first["total_count"], 8);
    let ids: Vec<&str> = first["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["authorizer_appid"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [A, "wxb000000000000000", "wxb000000000000001"]);
    let mut seen = 0;
    let mut offset = 0;
    while offset < 8 {
        let p = page(&mut s.w, offset, 3);
        for item in p["list"].as_array().unwrap() {
            let listed = item.get("refresh_token").is_some();
            assert_eq!(
                listed,
                item["authorizer_appid"] != "wxb000000000000003",
                "{item}"
            );
            seen += 1;
        }
        offset += 3;
    }
    assert_eq!(seen, 8);
    assert_eq!(code(&page(&mut s.w, 0, 501)), 40097);
    let info = |w: &mut World, appid: &str| {
        call(
            w,
            &Request::post(
                "/cgi-bin/component/api_get_authorizer_info",
                &[("access_token", &comp)],
                &json!({ "component_appid": C, "authorizer_appid": appid }),
            ),
        )
    };
    let sets = |v: &Value| -> Vec<i64> {
        v["authorization_info"]["func_info"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["funcscope_category"]["id"].as_i64().unwrap())
            .collect()
    };
    assert!(sets(&info(&mut s.w, "wxb000000000000004")).contains(&18));
    assert!(!sets(&info(&mut s.w, "wxb000000000000005")).contains(&18));
    assert_eq!(code(&info(&mut s.w, "wxb00000000000000f")), 40013);
}

/// A per-app script wins over the order of submission; time-driven steps fire from the queue
/// without a poll, and only when due.
#[test]
fn app_scripts_and_time_driven_steps() {
    let mut s = setup_with(
        long_tokens().app_review(
            A,
            vec![
                ReviewStep::delay_after_polls(0, "busy").at_seconds(100),
                ReviewStep::reject_after_polls(0, "no", &[]).at_seconds(50),
            ],
        ),
        |a| a,
    );
    let id = s.submitted("1.0.0");
    s.w.advance(99);
    assert_eq!(s.w.apps[A].reviews[0].status, 2);
    s.w.advance(1);
    assert_eq!(
        s.w.apps[A].reviews[0].status, 4,
        "delayed at 100 s without a poll"
    );
    s.w.advance(49);
    assert_eq!(s.w.apps[A].reviews[0].status, 4);
    s.w.advance(1);
    assert_eq!(
        s.w.apps[A].reviews[0].status, 1,
        "rejected 50 s after the delay"
    );
    assert_eq!(s.poll(id)["status"], 1);
    let events: Vec<&str> = s.w.events().iter().map(|e| e.event.as_str()).collect();
    assert_eq!(events, ["weapp_audit_delay", "weapp_audit_fail"]);
    assert!(s.w.review_queue.is_empty(), "nothing left queued");
}

/// The journal keeps the latest `retention.journal` entries (sequence numbers keep counting).
#[test]
fn journal_retention_keeps_the_latest() {
    let mut s = setup_with(
        Scenario {
            retention: crate::scenario::Retention {
                uploads: 1,
                journal: 8,
            },
            ..Scenario::default()
        },
        |a| a,
    );
    for _ in 0..40 {
        s.get("/wxa/get_category", &[]);
    }
    let j = s.w.journal();
    assert!(j.len() >= 8 && j.len() <= 10, "{}", j.len());
    assert_eq!(j.last().unwrap().seq, 42, "2 token calls and 40 reads");
}

/// The datacube's daily visit trend: one day at a time, never today, yesterday only once its
/// figures are ready, bare success bodies; dates in the wrong form are refused.
#[test]
fn daily_visit_trend_is_t_plus_1() {
    let mut s = with_traffic(crate::scenario::Traffic::default());
    // the emulator's clock at a Beijing midnight plus 2 h: yesterday is not ready yet
    let now = s.w.now();
    let to_midnight = 86_400 - (now + 8 * 3600) % 86_400;
    s.w.advance(to_midnight + 2 * 3600);
    let today = crate::clock::day_of(s.w.now());
    let day = |d: u64| super::ops::format_day_pub(d);
    let ask = |s: &mut Setup, b: &str, e: &str| {
        s.post(
            "/datacube/getweanalysisappiddailyvisittrend",
            json!({ "begin_date": b, "end_date": e }),
        )
    };
    let y = day(today - 1);
    let early = ask(&mut s, &y, &y);
    assert_eq!(
        early,
        json!({ "list": [] }),
        "not ready at 02:00, and no errcode"
    );
    s.w.advance(9 * 3600);
    let ready = ask(&mut s, &y, &y);
    assert!(ready.get("errcode").is_none(), "{ready}");
    let row = &ready["list"][0];
    assert_eq!(row["ref_date"], y);
    let uv = row["visit_uv"].as_u64().unwrap();
    assert!((850..=1150).contains(&uv), "{uv}");
    assert!(row["visit_pv"].as_u64().unwrap() >= uv);
    // the same day answers the same figures (a chart does not change between calls)
    assert_eq!(ask(&mut s, &y, &y), ready);
    let d2 = day(today - 2);
    assert_eq!(code(&ask(&mut s, &d2, &y)), 61501, "one day at a time");
    let t = day(today);
    assert_eq!(code(&ask(&mut s, &t, &t)), 61501, "today is never there");
    assert_eq!(code(&ask(&mut s, "2026-01-01", "2026-01-01")), 40097);
}

/// `jserr_list`: the scenario's errors of a version over the days asked, the most users first,
/// at most 30 a page.
#[test]
fn js_errors_by_version() {
    use crate::scenario::{JsError, Traffic};
    let err = |v: &str, m: &str, uv: u64| JsError {
        version: v.into(),
        message: m.into(),
        stack: format!("at {m} (app-service.js:1:1)"),
        users_per_day: uv,
        events_per_day: uv * 3,
        per_mille: 0.0,
        from_percent: 0,
    };
    let mut s = setup_with(
        Scenario {
            traffic: Some(Traffic {
                errors: vec![
                    err("1.5.0", "TypeError: x is undefined", 40),
                    err("1.5.0", "RangeError", 2),
                    err("1.4.2", "TypeError: x is undefined", 10),
                ],
                ..Traffic::default()
            }),
            ..Scenario::default()
        },
        |a| a,
    );
    let ask = |s: &mut Setup, v: &str, limit: u64| {
        s.post(
            "/wxaapi/log/jserr_list",
            json!({ "appVersion": v, "errType": "1", "startTime": "2026-01-01", "endTime": "2026-01-02", "keyword": "", "openid": "", "orderby": "uv", "desc": "1", "offset": 0, "limit": limit }),
        )
    };
    let new = ask(&mut s, "1.5.0", 30);
    assert_eq!(new["totalCount"], 2);
    assert_eq!(new["data"][0]["errorMsg"], "TypeError: x is undefined");
    assert_eq!(new["data"][0]["uv"], 80, "two days of 40 users");
    assert_eq!(new["data"][0]["errorMsgMd5"].as_str().unwrap().len(), 32);
    let old = ask(&mut s, "1.4.2", 30);
    assert_eq!(
        old["data"][0]["errorMsgMd5"], new["data"][0]["errorMsgMd5"],
        "the same signature in both versions"
    );
    assert_eq!(ask(&mut s, "0", 30)["totalCount"], 3);
    assert_eq!(code(&ask(&mut s, "1.5.0", 31)), 40097);
}

/// `feedback/list`: what users sent so far, newest first, by type, a page at a time.
#[test]
fn feedback_appears_as_the_clock_reaches_it() {
    use crate::scenario::{Feedback, Traffic};
    let fb = |kind: u8, content: &str, at: u64| Feedback {
        kind,
        content: content.into(),
        at_seconds: at,
        version: None,
    };
    let mut s = with_traffic(Traffic {
        feedback: vec![
            fb(2, "闪退了", 100),
            fb(3, "很卡", 200),
            fb(2, "又闪退", 5_000),
        ],
        ..Traffic::default()
    });
    let start = crate::clock::EPOCH;
    let now = s.w.now();
    s.w.advance((start + 300).saturating_sub(now));
    let all = s.get("/wxaapi/feedback/list", &[("page", "1"), ("num", "10")]);
    assert_eq!(all["total_num"], 2, "{all}");
    assert_eq!(all["list"][0]["content"], "很卡", "newest first");
    let crashes = s.get(
        "/wxaapi/feedback/list",
        &[("type", "2"), ("page", "1"), ("num", "10")],
    );
    assert_eq!(crashes["total_num"], 1);
    s.w.advance(5_000);
    let later = s.get(
        "/wxaapi/feedback/list",
        &[("type", "2"), ("page", "1"), ("num", "1")],
    );
    assert_eq!(later["total_num"], 2);
    assert_eq!(later["list"].as_array().unwrap().len(), 1, "one a page");
    assert_eq!(later["list"][0]["content"], "又闪退");
    assert_eq!(
        code(&s.get("/wxaapi/feedback/list", &[("page", "0"), ("num", "1")])),
        40097
    );
}

/// Errors and feedback of `@new`/`@previous` follow the phased release: a version at 10 % has
/// 10 % of the users (and of the errors at its rate), the old one the rest; `from-percent`
/// errors appear only at that share; version feedback counts from the version's first users.
#[test]
fn operations_data_follow_the_phased_share() {
    use crate::scenario::{Feedback, JsError, Traffic};
    let err = |v: &str, m: &str, per_mille: f64, from_percent: u32| JsError {
        version: v.into(),
        message: m.into(),
        stack: String::new(),
        users_per_day: 0,
        events_per_day: 0,
        per_mille,
        from_percent,
    };
    let mut s = with_traffic(Traffic {
        daily_uv: 1_000_000,
        errors: vec![
            err("@previous", "old", 10.0, 0),
            err("@new", "new", 10.0, 0),
            err("@new", "wide", 10.0, 50),
        ],
        feedback: vec![Feedback {
            kind: 2,
            content: "闪退".into(),
            at_seconds: 600,
            version: Some("@new".into()),
        }],
        ..Traffic::default()
    });
    let id = s.submitted("1.0.0");
    while s.poll(id)["status"] != 0 {}
    assert_eq!(code(&s.post("/wxa/release", json!({}))), 0);
    let id = s.submitted("1.1.0");
    while s.poll(id)["status"] != 0 {}
    // the next Beijing day begins: a whole day at 10 %
    let now = s.w.now();
    let next_day = (now + 8 * 3600) / 86_400 * 86_400 + 86_400 - 8 * 3600;
    s.w.advance(next_day - now);
    assert_eq!(
        code(&s.post("/wxa/grayrelease", json!({ "gray_percentage": 10 }))),
        0
    );
    let day = super::ops::format_day_pub((next_day + 8 * 3600) / 86_400);
    let dashed = format!("{}-{}-{}", &day[..4], &day[4..6], &day[6..]);
    let nothing = s.get("/wxaapi/feedback/list", &[("page", "1"), ("num", "10")]);
    assert_eq!(
        nothing["total_num"], 0,
        "no feedback before 10 min of the new version"
    );
    s.w.advance(86_400);
    let ask = |s: &mut Setup, v: &str| {
        s.post(
            "/wxaapi/log/jserr_list",
            json!({ "appVersion": v, "errType": "1", "startTime": dashed, "endTime": dashed, "keyword": "", "openid": "", "orderby": "uv", "desc": "1", "offset": 0, "limit": 30 }),
        )
    };
    let new = ask(&mut s, "1.1.0");
    assert_eq!(
        new["totalCount"], 1,
        "the 50 % error is not reached at 10 %: {new}"
    );
    assert_eq!(new["data"][0]["uv"], 1000, "10 ‰ of 10 % of a million");
    let old = ask(&mut s, "1.0.0");
    assert_eq!(old["data"][0]["uv"], 9000, "10 ‰ of 90 %");
    let fb = s.get("/wxaapi/feedback/list", &[("page", "1"), ("num", "10")]);
    assert_eq!(fb["total_num"], 1);
    // after a revert the new version has no users any more
    assert_eq!(code(&s.get("/wxa/revertgrayrelease", &[])), 0);
    s.w.advance(86_400);
    let day2 = super::ops::format_day_pub((next_day + 8 * 3600) / 86_400 + 1);
    let d2 = format!("{}-{}-{}", &day2[..4], &day2[4..6], &day2[6..]);
    let later = s.post(
        "/wxaapi/log/jserr_list",
        json!({ "appVersion": "1.1.0", "errType": "1", "startTime": d2, "endTime": d2, "keyword": "", "openid": "", "orderby": "uv", "desc": "1", "offset": 0, "limit": 30 }),
    );
    assert_eq!(later["totalCount"], 0, "{later}");
}

/// Pages, sources and start-up times: one past day per call (61501 otherwise), bare success,
/// pages most visited first and summing to the day's visits; start-up tables over at most 30
/// days; `jserr_list` past 60 calls a minute answers 20011.
#[test]
fn pages_sources_startup_and_the_error_list_limit() {
    let mut s = with_traffic(crate::scenario::Traffic::default());
    s.w.advance(3 * 86_400 + 12 * 3600);
    let today = crate::clock::day_of(s.w.now());
    let y = super::ops::format_day_pub(today - 1);
    let t = super::ops::format_day_pub(today);
    let body = |d: &str| json!({ "begin_date": d, "end_date": d });
    let pages = s.post("/datacube/getweanalysisappidvisitpage", body(&y));
    assert!(pages.get("errcode").is_none(), "{pages}");
    let list = pages["list"].as_array().unwrap();
    assert_eq!(list[0]["page_path"], "pages/index/index");
    let pv: Vec<u64> = list
        .iter()
        .map(|p| p["page_visit_pv"].as_u64().unwrap())
        .collect();
    assert!(pv[0] > pv[1] && pv[1] > pv[2], "{pv:?}");
    let trend = s.post("/datacube/getweanalysisappiddailyvisittrend", body(&y));
    assert_eq!(
        pv.iter().sum::<u64>(),
        trend["list"][0]["visit_pv"].as_u64().unwrap()
    );
    assert_eq!(
        code(&s.post("/datacube/getweanalysisappidvisitpage", body(&t))),
        61501
    );
    let dist = s.post("/datacube/getweanalysisappidvisitdistribution", body(&y));
    assert_eq!(dist["list"][0]["index"], "access_source_session_cnt");
    assert!(dist["list"][0]["item_list"][0]["value"].as_u64().unwrap() > 0);
    assert_eq!(
        code(&s.post(
            "/datacube/getweanalysisappidvisitdistribution",
            json!({ "begin_date": y, "end_date": t })
        )),
        61501
    );
    let now = s.w.now();
    let perf = |s: &mut Setup, module: Value, span: u64| {
        s.post(
            "/wxa/business/performance/boot",
            json!({ "module": module, "time": { "begin_timestamp": now - span, "end_timestamp": now }, "params": [{ "field": "networktype", "value": "-1" }] }),
        )
    };
    let boot = perf(&mut s, json!(10017), 3 * 86_400);
    let tables = boot["data"]["body"]["tables"].as_array().unwrap();
    assert_eq!(tables[0]["zh"], "启动总耗时");
    let fields = tables[0]["lines"][0]["fields"].as_array().unwrap();
    assert_eq!(fields.len(), 3, "three past days, not today: {fields:?}");
    assert!(fields[0]["value"].is_string(), "values are strings");
    // the official example sends the module as a string
    assert_eq!(code(&perf(&mut s, json!("10017"), 86_400)), 0);
    assert_eq!(code(&perf(&mut s, json!(10017), 31 * 86_400)), 40097);
    let ask = |s: &mut Setup| {
        s.post(
            "/wxaapi/log/jserr_list",
            json!({ "appVersion": "0", "errType": "1", "startTime": "2026-01-01", "endTime": "2026-01-01", "keyword": "", "openid": "", "orderby": "uv", "desc": "1", "offset": 0, "limit": 30 }),
        )
    };
    for _ in 0..60 {
        assert_eq!(code(&ask(&mut s)), 0);
    }
    assert_eq!(code(&ask(&mut s)), 20011, "too often");
    s.w.advance(60);
    assert_eq!(code(&ask(&mut s)), 0, "the next minute");
}

/// `userlog_search`: one recent date, hours inside it, the entries of the version whose marker
/// is `filterMsg` (following its share of users), pages of `limit`, 200010 past 50 calls a
/// minute.
#[test]
fn the_real_time_log_follows_the_version_marker() {
    use crate::scenario::{JsError, Traffic};
    let err = |v: &str, per_mille: f64| JsError {
        version: v.into(),
        message: "pay failed".into(),
        stack: String::new(),
        users_per_day: 0,
        events_per_day: 0,
        per_mille,
        from_percent: 0,
    };
    let mut s = with_traffic(Traffic {
        daily_uv: 240_000,
        log_errors: vec![err("@new", 1.0)],
        ..Traffic::default()
    });
    // the live version has every user: 1 ‰ of 240,000 users a day is 10 an hour
    let now = s.w.now();
    let day_start = (now + 8 * 3600) / 86_400 * 86_400 - 8 * 3600;
    s.w.advance(day_start + 86_400 + 12 * 3600 - now);
    let noon = s.w.now();
    let date = super::ops::format_day_pub((noon + 8 * 3600) / 86_400);
    assert!(s.w.released(A, "1.0.0", 1));
    let live = "1.0.0";
    let ask = |s: &mut Setup, filter: &str, from: u64, to: u64, start: &str| {
        s.get(
            "/wxaapi/userlog/userlog_search",
            &[
                ("date", date.as_str()),
                ("begintime", &from.to_string()),
                ("endtime", &to.to_string()),
                ("start", start),
                ("limit", "100"),
                ("filterMsg", filter),
                ("level", "8"),
            ],
        )
    };
    let hour = ask(&mut s, &format!("v{live}"), noon - 3600, noon, "0");
    assert_eq!(hour["data"]["total"], 10, "{hour}");
    assert_eq!(hour["data"]["list"][0]["level"], 8);
    assert_eq!(hour["data"]["list"][0]["filterMsg"], format!("v{live}"));
    let day = ask(&mut s, &format!("v{live}"), noon - 12 * 3600, noon, "100");
    assert_eq!(day["data"]["total"], 120);
    assert_eq!(
        day["data"]["list"].as_array().unwrap().len(),
        20,
        "the second page"
    );
    assert_eq!(
        ask(&mut s, "v0.0.1", noon - 3600, noon, "0")["data"]["total"],
        0,
        "another marker"
    );
    // hours outside the date, or backwards: 200002
    assert_eq!(code(&ask(&mut s, "v1", noon, noon - 60, "0")), 200_002);
    assert_eq!(
        code(&ask(&mut s, "v1", noon - 13 * 3600, noon, "0")),
        200_002
    );
    // five calls so far this minute (refused ones count too)
    for _ in 0..45 {
        assert_eq!(code(&ask(&mut s, "v1", noon - 60, noon, "0")), 0);
    }
    assert_eq!(
        code(&ask(&mut s, "v1", noon - 60, noon, "0")),
        200_010,
        "51st call this minute"
    );
}

/// Weekly and monthly trends: a whole Monday–Sunday week or calendar month that is over (else
/// 61501), counts summed; `jserr_detail`: the occurrences of one signature, every field a string.
#[test]
fn weeks_months_and_error_details() {
    use crate::scenario::{JsError, Traffic};
    let mut s = with_traffic(Traffic {
        errors: vec![JsError {
            version: "1.0.0".into(),
            message: "TypeError: x".into(),
            stack: "TypeError: x\n    at a (b.js:1:1)".into(),
            users_per_day: 4,
            events_per_day: 6,
            per_mille: 0.0,
            from_percent: 0,
        }],
        ..Traffic::default()
    });
    s.w.advance(70 * 86_400);
    let day = |d: u64| super::ops::format_day_pub(d);
    let today = crate::clock::day_of(s.w.now());
    // the Monday of last week (day 0, 1970-01-01, was a Thursday)
    let monday = today - (today + 3) % 7 - 7;
    let week = |s: &mut Setup, b: u64, e: u64| {
        s.post(
            "/datacube/getweanalysisappidweeklyvisittrend",
            json!({ "begin_date": day(b), "end_date": day(e) }),
        )
    };
    let w = week(&mut s, monday, monday + 6);
    assert!(w.get("errcode").is_none(), "{w}");
    assert_eq!(
        w["list"][0]["ref_date"],
        format!("{}-{}", day(monday), day(monday + 6))
    );
    let daily: u64 = (monday..=monday + 6)
        .map(|d| {
            s.post(
                "/datacube/getweanalysisappiddailyvisittrend",
                json!({ "begin_date": day(d), "end_date": day(d) }),
            )["list"][0]["visit_pv"]
                .as_u64()
                .unwrap()
        })
        .sum();
    assert_eq!(w["list"][0]["visit_pv"], daily, "visits are summed");
    assert_eq!(
        code(&week(&mut s, monday + 1, monday + 7)),
        61501,
        "not a Monday"
    );
    assert_eq!(
        code(&week(&mut s, monday + 7, monday + 13)),
        61501,
        "this week is not over"
    );
    let first = (1..=today)
        .rev()
        .find(|d| day(*d).ends_with("01") && *d + 28 < today)
        .unwrap();
    let last = (first..today).find(|d| day(d + 1).ends_with("01")).unwrap();
    let month = |s: &mut Setup, b: u64, e: u64| {
        s.post(
            "/datacube/getweanalysisappidmonthlyvisittrend",
            json!({ "begin_date": day(b), "end_date": day(e) }),
        )
    };
    let m = month(&mut s, first, last);
    assert_eq!(m["list"][0]["ref_date"], day(first)[..6]);
    assert_eq!(
        code(&month(&mut s, first, last - 1)),
        61501,
        "not the whole month"
    );
    // details of the signature jserr_list names
    let list = s.post(
        "/wxaapi/log/jserr_list",
        json!({ "appVersion": "1.0.0", "errType": "1", "startTime": "2026-01-02", "endTime": "2026-01-03", "keyword": "", "openid": "", "orderby": "uv", "desc": "1", "offset": 0, "limit": 30 }),
    );
    let sig = &list["data"][0];
    let detail = s.post(
        "/wxaapi/log/jserr_detail",
        json!({ "startTime": "2026-01-02", "endTime": "2026-01-03", "errorMsgMd5": sig["errorMsgMd5"], "errorStackMd5": sig["errorStackMd5"], "appVersion": "1.0.0", "sdkVersion": "0", "osName": "0", "clientVersion": "0", "openid": "", "offset": 0, "limit": 5, "desc": "1" }),
    );
    assert_eq!(detail["totalCount"], 12, "two days of six events: {detail}");
    let one = &detail["data"][0];
    assert_eq!(detail["data"].as_array().unwrap().len(), 5);
    for k in [
        "Count",
        "TimeStamp",
        "appVersion",
        "errorMsg",
        "Ds",
        "OsName",
        "openId",
        "DeviceModel",
    ] {
        assert!(one[k].is_string(), "{k}: {one}");
    }
    assert_eq!(one["appVersion"], "1.0.0");
    let none = s.post(
        "/wxaapi/log/jserr_detail",
        json!({ "startTime": "2026-01-02", "endTime": "2026-01-03", "errorMsgMd5": "x", "errorStackMd5": "y", "appVersion": "0", "sdkVersion": "0", "osName": "0", "clientVersion": "0", "openid": "", "offset": 0, "limit": 5, "desc": "1" }),
    );
    assert_eq!(none["totalCount"], 0);
}
