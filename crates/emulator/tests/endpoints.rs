//! Through real HTTP: the happy path of every endpoint, and every (endpoint, error code) pair the
//! API reference documents for them. Codes WeChat produces from states we do not model (system busy,
//! concurrency limits) come from scripted faults; `docs/emulator.md` says which.
#![allow(clippy::needless_pass_by_value)] // bodies are built inline with json!()

use mp_release_emulator::{AppSpec, Emulator, FaultKind, ReviewStep, Scenario, World};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;

const C: &str = "wxc0c0c0c0c0c0c0c0";
const A: &str = "wxa1a1a1a1a1a1a1a1";
const SECRET: &str = "0123456789abcdef0123456789abcdef";

/// A minimal HTTP/1.1 client: one request per connection.
fn http(
    addr: std::net::SocketAddr,
    method: &str,
    target: &str,
    body: Option<&[u8]>,
) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    let body = body.unwrap_or_default();
    write!(s, "{method} {target} HTTP/1.1\r\nHost: api.weixin.qq.com\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let ct = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Type: "))
        .unwrap_or_default()
        .to_owned();
    (status, ct, raw[split + 4..].to_vec())
}

struct H {
    emu: Emulator,
    component: String,
    token: String,
    refresh: String,
    template: u64,
}

impl H {
    fn new() -> Self {
        Self::with(Scenario::default(), |a| a)
    }

    fn with(scenario: Scenario, spec: impl FnOnce(AppSpec) -> AppSpec) -> Self {
        let mut w = World::new(Scenario::default());
        let ticket = w.add_platform(C, "component-secret");
        let mut app = AppSpec::authorized(A, C);
        app.secret = SECRET.into();
        let reg = w.add_app(spec(app));
        let template = w
            .add_template(
                C,
                "wxd0d0d0d0d0d0d0d0",
                "1.0.0",
                &["pages/index", "pages/me"],
                4096,
            )
            .unwrap();
        let emu = Emulator::start_with(w);
        let mut h = Self {
            emu,
            component: String::new(),
            token: String::new(),
            refresh: reg.refresh_token,
            template,
        };
        let v = h.call("POST", "/cgi-bin/component/api_component_token", Some(json!({
            "component_appid": C, "component_appsecret": "component-secret", "component_verify_ticket": ticket })));
        h.component = v["component_access_token"].as_str().unwrap().to_owned();
        let v = h.post_as(
            &h.component.clone(),
            "/cgi-bin/component/api_authorizer_token",
            json!({
            "component_appid": C, "authorizer_appid": A, "authorizer_refresh_token": h.refresh }),
        );
        h.token = v["authorizer_access_token"].as_str().unwrap().to_owned();
        // The scenario applies from here on, so faults do not hit the set-up calls.
        h.emu.world().set_scenario(scenario);
        h
    }

    fn call(&self, method: &str, target: &str, body: Option<Value>) -> Value {
        let bytes = body.map(|b| b.to_string().into_bytes());
        let (status, ct, body) = http(self.emu.addr(), method, target, bytes.as_deref());
        assert_eq!(status, 200, "{target}");
        assert!(ct.starts_with("application/json"), "{target}: {ct}");
        let v: Value = serde_json::from_slice(&body).unwrap();
        if let Some(msg) = v
            .get("errmsg")
            .and_then(Value::as_str)
            .filter(|_| v["errcode"] != 0)
        {
            let rid = msg.rsplit(" rid: ").next().unwrap();
            assert!(
                msg.contains(" rid: ") && rid.len() == 26 && rid.split('-').count() == 3,
                "{msg}"
            );
        }
        v
    }

    fn get_as(&self, token: &str, path: &str, query: &str) -> Value {
        self.call("GET", &format!("{path}?access_token={token}{query}"), None)
    }

    fn post_as(&self, token: &str, path: &str, body: Value) -> Value {
        self.call("POST", &format!("{path}?access_token={token}"), Some(body))
    }

    fn get(&self, path: &str) -> Value {
        self.get_as(&self.token, path, "")
    }

    fn post(&self, path: &str, body: Value) -> Value {
        self.post_as(&self.token, path, body)
    }

    fn commit_ext(&self, ext: Value) -> Value {
        self.post("/wxa/commit", json!({ "template_id": self.template, "ext_json": ext.to_string(), "user_version": "1.0.0", "user_desc": "d" }))
    }

    fn committed(&self) -> &Self {
        assert_eq!(code(&self.commit_ext(json!({}))), 0);
        self.emu.world().advance(60);
        self
    }

    fn submitted(&self) -> u64 {
        self.committed();
        let v = self.post("/wxa/submit_audit", json!({}));
        assert_eq!(code(&v), 0, "{v}");
        v["auditid"].as_u64().unwrap()
    }

    fn approved(&self) -> u64 {
        let id = self.submitted();
        while self.post("/wxa/get_auditstatus", json!({ "auditid": id }))["status"] != 0 {}
        id
    }

    fn released(&self) {
        self.approved();
        assert_eq!(code(&self.post("/wxa/release", json!({}))), 0);
    }

    fn own_token(&self) -> String {
        let v = self.call(
            "GET",
            &format!("/cgi-bin/token?grant_type=client_credential&appid={A}&secret={SECRET}"),
            None,
        );
        v["access_token"].as_str().unwrap().to_owned()
    }
}

fn code(v: &Value) -> i64 {
    v.get("errcode").and_then(Value::as_i64).unwrap_or(0)
}

fn fault(path: &str, code: i64) -> Scenario {
    Scenario::default().fault(path, None, FaultKind::Errcode(code))
}

type Case = (&'static str, i64, fn() -> i64);

const TOKEN: &str = "/cgi-bin/token";
const STABLE: &str = "/cgi-bin/stable_token";
const COMP: &str = "/cgi-bin/component/api_component_token";
const AUTH: &str = "/cgi-bin/component/api_authorizer_token";

fn token_q(h: &H, q: &str) -> i64 {
    code(&h.call("GET", &format!("{TOKEN}?{q}"), None))
}

fn stable(h: &H, body: Value) -> i64 {
    code(&h.call("POST", STABLE, Some(body)))
}

fn good_stable() -> Value {
    json!({ "grant_type": "client_credential", "appid": A, "secret": SECRET })
}

fn comp(h: &H, body: Value) -> i64 {
    code(&h.call("POST", COMP, Some(body)))
}

fn comp_body(ticket: &str) -> Value {
    json!({ "component_appid": C, "component_appsecret": "component-secret", "component_verify_ticket": ticket })
}

fn auth(h: &H, token: &str, body: Value) -> i64 {
    code(&h.post_as(token, AUTH, body))
}

fn item(first_id: i64, extra: Value) -> Value {
    let mut v = json!({ "first_class": "工具", "second_class": "效率", "first_id": first_id, "second_id": 612 });
    if let (Some(m), Value::Object(e)) = (v.as_object_mut(), extra) {
        m.extend(e);
    }
    json!({ "item_list": [v] })
}

fn submit_with(h: &H, body: Value) -> i64 {
    h.committed();
    code(&h.post("/wxa/submit_audit", body))
}

/// Every documented pair, plus the codes we chose where the reference is silent (marked "ours").
const CASES: &[Case] = &[
    // ---- cgi-bin/token
    (TOKEN, 0, || {
        let h = H::new();
        let v = h.call(
            "GET",
            &format!("{TOKEN}?grant_type=client_credential&appid={A}&secret={SECRET}"),
            None,
        );
        assert!(v["expires_in"].as_u64() == Some(7200));
        code(&v)
    }),
    (TOKEN, -1, || token_q(&H::with(fault(TOKEN, -1), |a| a), "")),
    (TOKEN, 40001, || {
        token_q(
            &H::new(),
            &format!(
                "grant_type=client_credential&appid={A}&secret={}",
                "f".repeat(32)
            ),
        )
    }),
    (TOKEN, 40002, || {
        token_q(
            &H::new(),
            &format!("grant_type=password&appid={A}&secret={SECRET}"),
        )
    }),
    (TOKEN, 40013, || {
        token_q(
            &H::new(),
            &format!("grant_type=client_credential&appid=wx0000000000000000&secret={SECRET}"),
        )
    }),
    (TOKEN, 40125, || {
        token_q(
            &H::new(),
            &format!("grant_type=client_credential&appid={A}&secret=short"),
        )
    }),
    (TOKEN, 40164, || {
        token_q(
            &H::with(Scenario::default(), |a| AppSpec {
                api_ip_whitelist: Some(vec!["203.0.113.9".into()]),
                ..a
            }),
            &format!("grant_type=client_credential&appid={A}&secret={SECRET}"),
        )
    }),
    (TOKEN, 40243, || {
        token_q(
            &H::with(Scenario::default(), |a| AppSpec {
                secret_block: Some(40243),
                ..a
            }),
            &format!("grant_type=client_credential&appid={A}&secret={SECRET}"),
        )
    }),
    (TOKEN, 41002, || {
        token_q(
            &H::new(),
            &format!("grant_type=client_credential&secret={SECRET}"),
        )
    }),
    (TOKEN, 41004, || {
        token_q(
            &H::new(),
            &format!("grant_type=client_credential&appid={A}"),
        )
    }),
    (TOKEN, 50004, || {
        token_q(
            &H::with(Scenario::default(), |a| AppSpec {
                secret_block: Some(50004),
                ..a
            }),
            &format!("grant_type=client_credential&appid={A}&secret={SECRET}"),
        )
    }),
    (TOKEN, 50007, || {
        token_q(
            &H::with(Scenario::default(), |a| AppSpec {
                secret_block: Some(50007),
                ..a
            }),
            &format!("grant_type=client_credential&appid={A}&secret={SECRET}"),
        )
    }),
    (TOKEN, 61024, || {
        token_q(
            &H::new(),
            &format!("grant_type=client_credential&appid={C}&secret={SECRET}"),
        )
    }),
    // ---- cgi-bin/stable_token
    (STABLE, 0, || {
        let h = H::new();
        let v = h.call("POST", STABLE, Some(good_stable()));
        assert!(v["access_token"].is_string());
        code(&v)
    }),
    (STABLE, -1, || {
        stable(&H::with(fault(STABLE, -1), |a| a), good_stable())
    }),
    (STABLE, 40002, || {
        stable(
            &H::new(),
            json!({ "grant_type": "x", "appid": A, "secret": SECRET }),
        )
    }),
    (STABLE, 40013, || {
        stable(
            &H::new(),
            json!({ "grant_type": "client_credential", "appid": "wx0000000000000000", "secret": SECRET }),
        )
    }),
    (STABLE, 40125, || {
        stable(
            &H::new(),
            json!({ "grant_type": "client_credential", "appid": A, "secret": "f".repeat(32) }),
        )
    }),
    (STABLE, 40164, || {
        stable(
            &H::with(Scenario::default(), |a| AppSpec {
                api_ip_whitelist: Some(vec![]),
                ..a
            }),
            good_stable(),
        )
    }),
    (STABLE, 41002, || {
        stable(
            &H::new(),
            json!({ "grant_type": "client_credential", "secret": SECRET }),
        )
    }),
    (STABLE, 41004, || {
        stable(
            &H::new(),
            json!({ "grant_type": "client_credential", "appid": A }),
        )
    }),
    (STABLE, 43002, || code(&H::new().call("GET", STABLE, None))),
    (STABLE, 45009, || {
        let h = H::with(Scenario::default().rate_limit(STABLE, None, Some(1)), |a| a);
        stable(&h, good_stable());
        stable(&h, good_stable())
    }),
    (STABLE, 45011, || {
        let h = H::with(Scenario::default().rate_limit(STABLE, Some(1), None), |a| a);
        stable(&h, good_stable());
        stable(&h, good_stable())
    }),
    (STABLE, 89503, || {
        stable(
            &H::with(Scenario::default(), |a| AppSpec {
                secret_block: Some(89503),
                ..a
            }),
            good_stable(),
        )
    }),
    (STABLE, 89506, || {
        stable(
            &H::with(Scenario::default(), |a| AppSpec {
                secret_block: Some(89506),
                ..a
            }),
            good_stable(),
        )
    }),
    (STABLE, 89507, || {
        stable(
            &H::with(Scenario::default(), |a| AppSpec {
                secret_block: Some(89507),
                ..a
            }),
            good_stable(),
        )
    }),
    // ---- api_component_token
    (COMP, 0, || {
        let h = H::new();
        let t = h.emu.world().push_ticket(C).unwrap();
        let v = h.call("POST", COMP, Some(comp_body(&t)));
        // C11: the token answer is the token fields alone, no errcode/errmsg.
        assert!(
            v.get("errcode").is_none() && v.get("errmsg").is_none(),
            "{v}"
        );
        assert!(v["component_access_token"].is_string(), "{v}");
        code(&v)
    }),
    (COMP, -1, || {
        let h = H::with(fault(COMP, -1), |a| a);
        let t = h.emu.world().push_ticket(C).unwrap();
        comp(&h, comp_body(&t))
    }),
    (COMP, 40001, || {
        let h = H::with(fault(COMP, 40001), |a| a);
        let t = h.emu.world().push_ticket(C).unwrap();
        comp(&h, comp_body(&t))
    }),
    (COMP, 40013, || {
        comp(
            &H::new(),
            json!({ "component_appid": "nope", "component_appsecret": "x", "component_verify_ticket": "t" }),
        )
    }),
    (COMP, 40125, || {
        let h = H::new();
        let t = h.emu.world().push_ticket(C).unwrap();
        comp(
            &h,
            json!({ "component_appid": C, "component_appsecret": "wrong", "component_verify_ticket": t }),
        )
    }),
    (COMP, 41004, || {
        comp(
            &H::new(),
            json!({ "component_appid": C, "component_verify_ticket": "t" }),
        )
    }),
    (COMP, 45009, || {
        let h = H::with(Scenario::default().rate_limit(COMP, None, Some(0)), |a| a);
        comp(&h, comp_body("t"))
    }),
    (COMP, 47001, || {
        code(&H::new().call("POST", COMP, Some(json!(["not", "an", "object"]))))
    }),
    (COMP, 48001, || {
        comp(&H::with(fault(COMP, 48001), |a| a), comp_body("t"))
    }),
    (COMP, 61004, || {
        let h = H::new();
        h.emu
            .world()
            .set_platform_whitelist(C, Some(vec!["198.51.100.7".into()]));
        let t = h.emu.world().push_ticket(C).unwrap();
        let v = h.call("POST", COMP, Some(comp_body(&t)));
        assert!(v["errmsg"]
            .as_str()
            .unwrap()
            .contains("requestIp:127.0.0.1"));
        code(&v)
    }),
    (COMP, 61005, || {
        let h = H::new();
        let t = h.emu.world().push_ticket(C).unwrap();
        h.emu.world().advance(12 * 3600);
        comp(&h, comp_body(&t))
    }),
    (COMP, 61006, || {
        comp(&H::new(), comp_body("ticket@@@forged"))
    }),
    (COMP, 61011, || {
        comp(
            &H::new(),
            json!({ "component_appid": "wx1234567890abcdef", "component_appsecret": "x", "component_verify_ticket": "t" }),
        )
    }),
    // ---- api_authorizer_token
    (AUTH, 0, || {
        let h = H::new();
        let v = h.post_as(&h.component, AUTH, json!({ "component_appid": C, "authorizer_appid": A, "authorizer_refresh_token": h.refresh }));
        assert_eq!(v["authorizer_refresh_token"], h.refresh.as_str());
        assert!(
            v.get("errcode").is_none() && v.get("errmsg").is_none(),
            "C11: {v}"
        );
        code(&v)
    }),
    (AUTH, -1, || {
        let h = H::with(fault(AUTH, -1), |a| a);
        auth(&h, &h.component, json!({}))
    }),
    (AUTH, 40001, || {
        let h = H::new();
        auth(
            &h,
            "COMPONENT_ffffffffffffffffffffffff",
            json!({ "component_appid": C, "authorizer_appid": A, "authorizer_refresh_token": h.refresh }),
        )
    }),
    (AUTH, 40013, || {
        let h = H::new();
        auth(
            &h,
            &h.component,
            json!({ "component_appid": C, "authorizer_appid": "wx0000000000000000", "authorizer_refresh_token": h.refresh }),
        )
    }),
    (AUTH, 61003, || {
        let h = H::new();
        h.emu.world().revoke(A);
        auth(
            &h,
            &h.component,
            json!({ "component_appid": C, "authorizer_appid": A, "authorizer_refresh_token": h.refresh }),
        )
    }),
    (AUTH, 61004, || {
        let h = H::new();
        h.emu.world().set_platform_whitelist(C, Some(vec![]));
        auth(&h, &h.component, json!({}))
    }),
    (AUTH, 61014, || {
        let h = H::new();
        auth(
            &h,
            &h.token,
            json!({ "component_appid": C, "authorizer_appid": A, "authorizer_refresh_token": h.refresh }),
        )
    }),
    (AUTH, 61023, || {
        let h = H::new();
        auth(
            &h,
            &h.component,
            json!({ "component_appid": C, "authorizer_appid": A, "authorizer_refresh_token": "" }),
        )
    }),
    // ---- api_query_auth (C3: 61010 for an unknown, expired or used code)
    ("/cgi-bin/component/api_query_auth", 61010, || {
        let h = H::new();
        let q = format!(
            "/cgi-bin/component/api_query_auth?access_token={}",
            h.component
        );
        let body = json!({ "component_appid": C, "authorization_code": "queryauthcode@@@unknown" });
        let v: Value = serde_json::from_slice(
            &http(h.emu.addr(), "POST", &q, Some(body.to_string().as_bytes())).2,
        )
        .unwrap();
        code(&v)
    }),
    ("/cgi-bin/component/api_query_auth", 0, || {
        let mut w = World::default();
        w.add_platform(C, "s");
        let reg = w.add_app(AppSpec::authorized(A, C));
        let t = w.push_ticket(C).unwrap();
        let emu = Emulator::start_with(w);
        let comp = http(emu.addr(), "POST", COMP, Some(json!({ "component_appid": C, "component_appsecret": "s", "component_verify_ticket": t }).to_string().as_bytes())).2;
        let tok: Value = serde_json::from_slice(&comp).unwrap();
        let q = format!(
            "/cgi-bin/component/api_query_auth?access_token={}",
            tok["component_access_token"].as_str().unwrap()
        );
        let body = json!({ "component_appid": C, "authorization_code": reg.authorization_code })
            .to_string();
        let v: Value =
            serde_json::from_slice(&http(emu.addr(), "POST", &q, Some(body.as_bytes())).2).unwrap();
        assert_eq!(v["authorization_info"]["authorizer_appid"], A);
        let again: Value =
            serde_json::from_slice(&http(emu.addr(), "POST", &q, Some(body.as_bytes())).2).unwrap();
        assert_eq!(code(&again), 61010, "codes are single-use (C3)");
        assert!(
            again["errmsg"]
                .as_str()
                .unwrap()
                .starts_with("code is expired"),
            "{again}"
        );
        code(&v)
    }),
    // ---- templates
    ("/wxa/gettemplatedraftlist", 0, || {
        let h = H::new();
        let v = h.get_as(&h.component, "/wxa/gettemplatedraftlist", "");
        assert_eq!(v["draft_list"][0]["user_version"], "1.0.0");
        code(&v)
    }),
    ("/wxa/gettemplatedraftlist", -1, || {
        let h = H::with(fault("/wxa/gettemplatedraftlist", -1), |a| a);
        code(&h.get_as(&h.component, "/wxa/gettemplatedraftlist", ""))
    }),
    ("/wxa/gettemplatedraftlist", 40001, || {
        code(&H::new().get_as(
            "COMPONENT_ffffffffffffffffffffffff",
            "/wxa/gettemplatedraftlist",
            "",
        ))
    }),
    ("/wxa/gettemplatedraftlist", 85064, || {
        let h = H::with(fault("/wxa/gettemplatedraftlist", 85064), |a| a);
        code(&h.get_as(&h.component, "/wxa/gettemplatedraftlist", ""))
    }),
    ("/wxa/addtotemplate", 0, || {
        let h = H::new();
        let d = h
            .emu
            .world()
            .add_draft(C, "wxd1d1d1d1d1d1d1d1", "2.0.0", &["pages/index"], 1)
            .unwrap();
        let v = h.post_as(&h.component, "/wxa/addtotemplate", json!({ "draft_id": d }));
        let list = h.get_as(&h.component, "/wxa/gettemplatelist", "");
        assert!(list["template_list"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["draft_id"] == d));
        code(&v)
    }),
    ("/wxa/addtotemplate", -1, || {
        let h = H::with(fault("/wxa/addtotemplate", -1), |a| a);
        code(&h.post_as(&h.component, "/wxa/addtotemplate", json!({ "draft_id": 1 })))
    }),
    ("/wxa/addtotemplate", 40001, || {
        code(&H::new().post_as(
            "COMPONENT_ffffffffffffffffffffffff",
            "/wxa/addtotemplate",
            json!({ "draft_id": 1 }),
        ))
    }),
    ("/wxa/addtotemplate", 85064, || {
        let h = H::new();
        code(&h.post_as(
            &h.component,
            "/wxa/addtotemplate",
            json!({ "draft_id": 999_999 }),
        ))
    }),
    ("/wxa/addtotemplate", 85065, || {
        let h = H::new();
        for i in 0..199 {
            h.emu
                .world()
                .add_template(C, &format!("wxe{i:015}"), "1.0.0", &["p"], 1)
                .unwrap();
        }
        let d = h
            .emu
            .world()
            .add_draft(C, "wxd1d1d1d1d1d1d1d1", "2.0.0", &["pages/index"], 1)
            .unwrap();
        code(&h.post_as(&h.component, "/wxa/addtotemplate", json!({ "draft_id": d })))
    }),
    ("/wxa/gettemplatelist", 0, || {
        let h = H::new();
        let v = h.get_as(&h.component, "/wxa/gettemplatelist", "");
        assert_eq!(v["template_list"][0]["template_id"], h.template);
        code(&v)
    }),
    ("/wxa/gettemplatelist", -1, || {
        let h = H::with(fault("/wxa/gettemplatelist", -1), |a| a);
        code(&h.get_as(&h.component, "/wxa/gettemplatelist", ""))
    }),
    ("/wxa/gettemplatelist", 40001, || {
        code(&H::new().get_as(
            "COMPONENT_ffffffffffffffffffffffff",
            "/wxa/gettemplatelist",
            "",
        ))
    }),
    ("/wxa/gettemplatelist", 43001, || {
        let h = H::new();
        code(&h.post_as(
            &h.component,
            "/wxa/gettemplatelist",
            json!({ "template_type": 0 }),
        ))
    }),
    ("/wxa/gettemplatelist", 85064, || {
        let h = H::with(fault("/wxa/gettemplatelist", 85064), |a| a);
        code(&h.get_as(&h.component, "/wxa/gettemplatelist", ""))
    }),
    ("/wxa/deletetemplate", 0, || {
        let h = H::new();
        let v = h.post_as(
            &h.component,
            "/wxa/deletetemplate",
            json!({ "template_id": h.template }),
        );
        assert_eq!(
            h.get_as(&h.component, "/wxa/gettemplatelist", "")["template_list"],
            json!([])
        );
        code(&v)
    }),
    ("/wxa/deletetemplate", -1, || {
        let h = H::with(fault("/wxa/deletetemplate", -1), |a| a);
        code(&h.post_as(
            &h.component,
            "/wxa/deletetemplate",
            json!({ "template_id": 1 }),
        ))
    }),
    ("/wxa/deletetemplate", 40001, || {
        code(&H::new().post_as(
            "COMPONENT_ffffffffffffffffffffffff",
            "/wxa/deletetemplate",
            json!({ "template_id": 1 }),
        ))
    }),
    ("/wxa/deletetemplate", 85064, || {
        let h = H::new();
        code(&h.post_as(
            &h.component,
            "/wxa/deletetemplate",
            json!({ "template_id": 424_242 }),
        ))
    }),
    // ---- commit
    ("/wxa/commit", 0, || {
        let h = H::new();
        let v = h.commit_ext(json!({ "extAppid": A, "ext": { "shop": 7 } }));
        assert_eq!(
            h.post("/wxa/getversioninfo", json!({}))["exp_info"]["exp_version"],
            "1.0.0"
        );
        code(&v)
    }),
    ("/wxa/commit", -1, || {
        code(&H::with(fault("/wxa/commit", -1), |a| a).commit_ext(json!({})))
    }),
    ("/wxa/commit", -60005, || {
        code(&H::with(fault("/wxa/commit", -60005), |a| a).commit_ext(json!({})))
    }),
    ("/wxa/commit", 40001, || {
        code(&H::new().post_as(
            "AUTHORIZER_ffffffffffffffffffffffff",
            "/wxa/commit",
            json!({}),
        ))
    }),
    ("/wxa/commit", 40014, || {
        code(&H::new().post_as("x", "/wxa/commit", json!({})))
    }),
    ("/wxa/commit", 80066, || {
        let h = H::with(Scenario::default(), |a| AppSpec {
            plugin_permissions: vec!["wxp0p0p0p0p0p0p0p0".into()],
            ..a
        });
        h.emu.world().add_plugin("wxp0p0p0p0p0p0p0p0", &["1.0.0"]);
        code(&h.commit_ext(
            json!({ "plugins": { "p": { "version": "9.9.9", "provider": "wxp0p0p0p0p0p0p0p0" } } }),
        ))
    }),
    ("/wxa/commit", 80067, || {
        code(&H::new().commit_ext(
            json!({ "plugins": { "p": { "version": "1.0.0", "provider": "wxunknown" } } }),
        ))
    }),
    ("/wxa/commit", 80082, || {
        let h = H::new();
        h.emu.world().add_plugin("wxp0p0p0p0p0p0p0p0", &["1.0.0"]);
        code(&h.commit_ext(
            json!({ "plugins": { "p": { "version": "1.0.0", "provider": "wxp0p0p0p0p0p0p0p0" } } }),
        ))
    }),
    ("/wxa/commit", 85013, || {
        let h = H::new();
        code(&h.post("/wxa/commit", json!({ "template_id": h.template, "ext_json": { "not": "a string" }, "user_version": "1.0.0", "user_desc": "d" })))
    }),
    ("/wxa/commit", 85014, || {
        code(&H::new().post("/wxa/commit", json!({ "template_id": 31_337, "ext_json": "{}", "user_version": "1.0.0", "user_desc": "d" })))
    }),
    ("/wxa/commit", 85043, || {
        let h = H::new();
        h.emu.world().break_template(C, h.template);
        code(&h.commit_ext(json!({})))
    }),
    ("/wxa/commit", 85044, || {
        let h = H::with(
            Scenario {
                code_size_limit: 1024,
                ..Scenario::default()
            },
            |a| a,
        );
        code(&h.commit_ext(json!({})))
    }),
    ("/wxa/commit", 85045, || {
        code(&H::new().commit_ext(json!({ "pages": ["pages/index", "pages/new"] })))
    }),
    ("/wxa/commit", 85046, || {
        code(&H::new().commit_ext(
            json!({ "pages": ["pages/index"], "tabBar": { "list": [{ "pagePath": "pages/me" }] } }),
        ))
    }),
    ("/wxa/commit", 85047, || {
        code(&H::new().commit_ext(json!({ "pages": [] })))
    }),
    ("/wxa/commit", 85048, || {
        let h = H::new();
        code(&h.post("/wxa/commit", json!({ "template_id": h.template, "ext_json": "{not json", "user_version": "1.0.0", "user_desc": "d" })))
    }),
    ("/wxa/commit", 85310, || {
        code(&H::new().commit_ext(json!({ "requiredPrivateInfos": ["getLocaton"] })))
    }),
    ("/wxa/commit", 85311, || {
        code(
            &H::with(Scenario::default(), |a| AppSpec {
                permitted_location_apis: vec!["getLocation".into(), "getFuzzyLocation".into()],
                ..a
            })
            .commit_ext(json!({ "requiredPrivateInfos": ["getLocation", "getFuzzyLocation"] })),
        )
    }),
    ("/wxa/commit", 85312, || {
        code(&H::new().commit_ext(json!({ "requiredPrivateInfos": ["chooseAddress"] })))
    }),
    ("/wxa/commit", 9402202, || {
        code(&H::with(fault("/wxa/commit", 9402202), |a| a).commit_ext(json!({})))
    }),
    ("/wxa/commit", 9402203, || {
        let h = H::new();
        let d = h
            .emu
            .world()
            .add_draft(C, "wxd2d2d2d2d2d2d2d2", "3.0.0", &["pages/index"], 1)
            .unwrap();
        h.post_as(
            &h.component,
            "/wxa/addtotemplate",
            json!({ "draft_id": d, "template_type": 1 }),
        );
        let list = h.get_as(&h.component, "/wxa/gettemplatelist", "&template_type=1");
        let id = list["template_list"][0]["template_id"].as_u64().unwrap();
        code(&h.post("/wxa/commit", json!({ "template_id": id, "ext_json": json!({ "pages": ["pages/index"] }).to_string(), "user_version": "3.0.0", "user_desc": "d" })))
    }),
    ("/wxa/commit", 86000, || {
        let h = H::new();
        let own = h.own_token();
        code(&h.post_as(&own, "/wxa/commit", json!({})))
    }),
    ("/wxa/commit", 47001, || {
        let h = H::new();
        code(&h.post("/wxa/commit", json!({ "template_id": h.template, "ext_json": "{}", "user_version": "v".repeat(65), "user_desc": "d" })))
    }),
    // ---- get_page / get_category
    ("/wxa/get_page", 0, || {
        let h = H::new();
        h.commit_ext(json!({ "pages": ["pages/me"] }));
        let v = h.get("/wxa/get_page");
        assert_eq!(v["page_list"], json!(["pages/me"]));
        code(&v)
    }),
    ("/wxa/get_page", -1, || {
        code(&H::with(fault("/wxa/get_page", -1), |a| a).get("/wxa/get_page"))
    }),
    ("/wxa/get_page", 40001, || {
        code(&H::new().get_as("AUTHORIZER_ffffffffffffffffffffffff", "/wxa/get_page", ""))
    }),
    ("/wxa/get_page", 86000, || {
        let h = H::new();
        code(&h.get_as(&h.component.clone(), "/wxa/get_page", ""))
    }),
    ("/wxa/get_page", 86001, || {
        code(&H::new().get("/wxa/get_page"))
    }),
    ("/wxa/get_category", 0, || {
        let v = H::new().get("/wxa/get_category");
        assert_eq!(v["category_list"][0]["second_class"], "效率");
        code(&v)
    }),
    // ---- privacy scan
    ("/wxa/security/get_code_privacy_info", 0, || {
        let h = H::new();
        h.committed();
        let v = h.get("/wxa/security/get_code_privacy_info");
        assert_eq!(v["without_auth_list"], json!([]));
        code(&v)
    }),
    ("/wxa/security/get_code_privacy_info", 61039, || {
        let h = H::new();
        h.commit_ext(json!({}));
        code(&h.get("/wxa/security/get_code_privacy_info"))
    }),
    // C2: a finished scan answers errcode 0 with the lists, empty or not.
    ("/wxa/security/get_code_privacy_info", 0, || {
        let h = H::with(Scenario::default(), |a| AppSpec {
            without_conf_list: vec!["wx.getLocation".into()],
            ..a
        });
        h.committed();
        let v = h.get("/wxa/security/get_code_privacy_info");
        assert_eq!(v["without_conf_list"], json!(["wx.getLocation"]));
        assert_eq!(v["without_auth_list"], json!([]));
        assert_eq!(v["errmsg"], "ok");
        // ... and it is submit_audit that refuses the code (61040).
        assert_eq!(code(&h.post("/wxa/submit_audit", json!({}))), 61040);
        code(&v)
    }),
    // ---- submit_audit
    ("/wxa/submit_audit", 0, || {
        let h = H::new();
        h.committed();
        let v = h.post(
            "/wxa/submit_audit",
            item(
                287,
                json!({ "address": "pages/index?x=1", "tag": "效率 工具", "title": "首页" }),
            ),
        );
        assert!(v["auditid"].as_u64().is_some());
        code(&v)
    }),
    ("/wxa/submit_audit", -1, || {
        submit_with(&H::with(fault("/wxa/submit_audit", -1), |a| a), json!({}))
    }),
    ("/wxa/submit_audit", 47001, || {
        let h = H::new();
        h.committed();
        code(&h.call(
            "POST",
            &format!("/wxa/submit_audit?access_token={}", h.token),
            Some(json!("not an object")),
        ))
    }),
    ("/wxa/submit_audit", 48001, || {
        let h = H::new();
        let own = h.own_token();
        code(&h.post_as(&own, "/wxa/submit_audit", json!({})))
    }),
    ("/wxa/submit_audit", 61039, || {
        let h = H::new();
        h.commit_ext(json!({}));
        code(&h.post("/wxa/submit_audit", json!({})))
    }),
    ("/wxa/submit_audit", 61040, || {
        submit_with(
            &H::with(Scenario::default(), |a| AppSpec {
                without_auth_list: vec!["wx.chooseAddress".into()],
                ..a
            }),
            json!({ "privacy_api_not_use": true }),
        )
    }),
    ("/wxa/submit_audit", 85006, || {
        submit_with(
            &H::new(),
            item(287, json!({ "tag": "a b c d e f g h i j k" })),
        )
    }),
    ("/wxa/submit_audit", 85007, || {
        submit_with(&H::new(), item(287, json!({ "address": "pages/missing" })))
    }),
    ("/wxa/submit_audit", 85008, || {
        submit_with(&H::new(), item(1, json!({})))
    }),
    ("/wxa/submit_audit", 85009, || {
        let h = H::new();
        h.submitted();
        code(&h.post("/wxa/submit_audit", json!({})))
    }),
    // C5: an approved version that was never released blocks a new submission, even of new code.
    ("/wxa/submit_audit", 85009, || {
        let h = H::new();
        h.approved();
        h.committed();
        let v = h.post("/wxa/submit_audit", json!({}));
        assert_eq!(code(&v), 85009, "{v}");
        assert_eq!(code(&h.post("/wxa/release", json!({}))), 0);
        h.committed();
        assert_eq!(
            code(&h.post("/wxa/submit_audit", json!({}))),
            0,
            "after the release it goes"
        );
        code(&v)
    }),
    ("/wxa/submit_audit", 85010, || {
        submit_with(
            &H::new(),
            json!({ "item_list": [{ "first_class": "工具" }] }),
        )
    }),
    ("/wxa/submit_audit", 85011, || {
        submit_with(&H::new(), item(287, json!({ "title": "t".repeat(33) })))
    }),
    ("/wxa/submit_audit", 85023, || {
        submit_with(&H::new(), json!({ "item_list": [] }))
    }),
    ("/wxa/submit_audit", 85051, || {
        submit_with(&H::new(), json!({ "version_desc": "x".repeat(1001) }))
    }),
    ("/wxa/submit_audit", 85077, || {
        let h = H::with(Scenario::default(), |a| {
            let mut a = a;
            a.categories[0].delisted = true;
            a
        });
        submit_with(&h, item(287, json!({})))
    }),
    ("/wxa/submit_audit", 85085, || {
        let h = H::new();
        h.emu.world().set_review_quota(C, 0, 10);
        submit_with(&h, json!({}))
    }),
    ("/wxa/submit_audit", 85086, || {
        let h = H::new();
        h.approved();
        code(&h.post("/wxa/submit_audit", json!({})))
    }),
    ("/wxa/submit_audit", 85087, || {
        submit_with(
            &H::with(Scenario::default(), |a| AppSpec {
                uses_navigate_to_mini_program: true,
                ..a
            }),
            json!({}),
        )
    }),
    ("/wxa/submit_audit", 85092, || {
        submit_with(
            &H::new(),
            json!({ "preview_info": { "pic_id_list": "m1" } }),
        )
    }),
    ("/wxa/submit_audit", 85093, || {
        submit_with(
            &H::new(),
            json!({ "preview_info": { "pic_id_list": ["1", "2", "3", "4", "5", "6"] } }),
        )
    }),
    ("/wxa/submit_audit", 85094, || {
        let social = mp_release_emulator::Category {
            first_class: "社交".into(),
            second_class: "笔记".into(),
            third_class: None,
            first_id: 5,
            second_id: 6,
            third_id: None,
            delisted: false,
        };
        let h = H::with(Scenario::default(), move |a| AppSpec {
            categories: vec![social],
            ..a
        });
        submit_with(&h, json!({}))
    }),
    ("/wxa/submit_audit", 86000, || {
        let h = H::new();
        code(&h.post_as(&h.component.clone(), "/wxa/submit_audit", json!({})))
    }),
    ("/wxa/submit_audit", 86001, || {
        code(&H::new().post("/wxa/submit_audit", json!({})))
    }),
    ("/wxa/submit_audit", 86002, || {
        submit_with(
            &H::with(Scenario::default(), |a| AppSpec {
                profile_complete: false,
                ..a
            }),
            json!({}),
        )
    }),
    ("/wxa/submit_audit", 86007, || {
        submit_with(
            &H::with(Scenario::default(), |a| AppSpec {
                submit_forbidden: true,
                ..a
            }),
            json!({}),
        )
    }),
    ("/wxa/submit_audit", 86009, || {
        let h = H::new();
        h.emu.world().restrict_platform(C, true, false);
        submit_with(&h, json!({}))
    }),
    ("/wxa/submit_audit", 86010, || {
        let h = H::with(Scenario::default(), |a| AppSpec {
            live_version: Some("0.9.0".into()),
            ..a
        });
        h.emu.world().restrict_platform(C, false, true);
        submit_with(&h, json!({}))
    }),
    ("/wxa/submit_audit", 87006, || {
        submit_with(
            &H::with(Scenario::default(), |a| AppSpec {
                minigame: true,
                ..a
            }),
            json!({}),
        )
    }),
    ("/wxa/submit_audit", 9400001, || {
        submit_with(
            &H::with(Scenario::default(), |a| AppSpec {
                live_streaming_dev: true,
                ..a
            }),
            json!({}),
        )
    }),
    ("/wxa/submit_audit", 9402202, || {
        submit_with(
            &H::with(fault("/wxa/submit_audit", 9402202), |a| a),
            json!({}),
        )
    }),
    // ---- review status
    ("/wxa/get_auditstatus", 0, || {
        let h = H::new();
        let id = h.submitted();
        let v = h.post("/wxa/get_auditstatus", json!({ "auditid": id }));
        assert_eq!(v["status"], 2);
        code(&v)
    }),
    ("/wxa/get_auditstatus", -1, || {
        let h = H::with(fault("/wxa/get_auditstatus", -1), |a| a);
        code(&h.post("/wxa/get_auditstatus", json!({ "auditid": 1 })))
    }),
    ("/wxa/get_auditstatus", 40001, || {
        code(&H::new().post_as(
            "AUTHORIZER_ffffffffffffffffffffffff",
            "/wxa/get_auditstatus",
            json!({ "auditid": 1 }),
        ))
    }),
    ("/wxa/get_auditstatus", 85012, || {
        let h = H::new();
        let id = h.submitted();
        code(&h.post("/wxa/get_auditstatus", json!({ "auditid": id + 1 })))
    }),
    ("/wxa/get_auditstatus", 86000, || {
        let h = H::new();
        code(&h.post_as(
            &h.component.clone(),
            "/wxa/get_auditstatus",
            json!({ "auditid": 1 }),
        ))
    }),
    ("/wxa/get_auditstatus", 86001, || {
        code(&H::new().post("/wxa/get_auditstatus", json!({ "auditid": 1 })))
    }),
    ("/wxa/get_latest_auditstatus", 0, || {
        let h = H::new();
        let id = h.submitted();
        let v = h.get("/wxa/get_latest_auditstatus");
        assert_eq!(
            (v["auditid"].as_u64(), v["user_version"].as_str()),
            (Some(id), Some("1.0.0"))
        );
        code(&v)
    }),
    ("/wxa/get_latest_auditstatus", 85058, || {
        code(&H::new().get("/wxa/get_latest_auditstatus"))
    }),
    ("/wxa/get_latest_auditstatus", 86000, || {
        let h = H::new();
        let own = h.own_token();
        code(&h.get_as(&own, "/wxa/get_latest_auditstatus", ""))
    }),
    ("/wxa/undocodeaudit", 0, || {
        let h = H::new();
        let id = h.submitted();
        let v = h.get("/wxa/undocodeaudit");
        assert_eq!(
            h.post("/wxa/get_auditstatus", json!({ "auditid": id }))["status"],
            3
        );
        code(&v)
    }),
    // C4: nothing to withdraw (no review at all, or it ended) answers 87012.
    ("/wxa/undocodeaudit", 87012, || {
        assert_eq!(
            code(&H::new().get("/wxa/undocodeaudit")),
            87012,
            "no review at all"
        );
        let h = H::with(
            Scenario::default().review(vec![ReviewStep::reject_after_polls(1, "bad", &[])]),
            |a| a,
        );
        let id = h.submitted();
        assert_eq!(
            h.post("/wxa/get_auditstatus", json!({ "auditid": id }))["status"],
            1
        );
        let v = h.get("/wxa/undocodeaudit");
        assert!(
            v["errmsg"]
                .as_str()
                .unwrap()
                .starts_with("forbid revert this version release"),
            "{v}"
        );
        code(&v)
    }),
    ("/wxa/undocodeaudit", 87013, || {
        let h = H::new();
        h.emu.world().set_review_quota(C, 99, 99);
        for _ in 0..5 {
            h.submitted();
            assert_eq!(code(&h.get("/wxa/undocodeaudit")), 0);
        }
        h.submitted();
        code(&h.get("/wxa/undocodeaudit"))
    }),
    ("/wxa/speedupaudit", 0, || {
        let h = H::new();
        let id = h.submitted();
        let v = h.post("/wxa/speedupaudit", json!({ "auditid": id }));
        assert_eq!(h.get("/wxa/queryquota")["speedup_rest"], 4);
        code(&v)
    }),
    ("/wxa/speedupaudit", 89401, || {
        let h = H::with(fault("/wxa/speedupaudit", 89401), |a| a);
        code(&h.post("/wxa/speedupaudit", json!({ "auditid": 1 })))
    }),
    ("/wxa/speedupaudit", 89402, || {
        let h = H::new();
        let id = h.approved();
        code(&h.post("/wxa/speedupaudit", json!({ "auditid": id })))
    }),
    ("/wxa/speedupaudit", 89403, || {
        let h = H::with(Scenario::default(), |a| AppSpec {
            speedup_unsupported: true,
            ..a
        });
        let id = h.submitted();
        code(&h.post("/wxa/speedupaudit", json!({ "auditid": id })))
    }),
    ("/wxa/speedupaudit", 89404, || {
        let h = H::new();
        let id = h.submitted();
        h.post("/wxa/speedupaudit", json!({ "auditid": id }));
        code(&h.post("/wxa/speedupaudit", json!({ "auditid": id })))
    }),
    ("/wxa/speedupaudit", 89405, || {
        let h = H::new();
        h.emu.world().set_speedup_quota(C, 0);
        let id = h.submitted();
        code(&h.post("/wxa/speedupaudit", json!({ "auditid": id })))
    }),
    ("/wxa/queryquota", 0, || {
        let h = H::new();
        h.submitted();
        let v = h.get("/wxa/queryquota");
        assert_eq!(
            (v["rest"].as_u64(), v["limit"].as_u64()),
            (Some(19), Some(20))
        );
        code(&v)
    }),
    // ---- release
    ("/wxa/release", 0, || {
        let h = H::new();
        h.approved();
        let v = h.post("/wxa/release", json!({}));
        assert_eq!(
            h.post("/wxa/getversioninfo", json!({}))["release_info"]["release_version"],
            "1.0.0"
        );
        code(&v)
    }),
    ("/wxa/release", -1, || {
        code(&H::with(fault("/wxa/release", -1), |a| a).post("/wxa/release", json!({})))
    }),
    ("/wxa/release", 40001, || {
        code(&H::new().post_as(
            "AUTHORIZER_ffffffffffffffffffffffff",
            "/wxa/release",
            json!({}),
        ))
    }),
    ("/wxa/release", 40014, || {
        code(&H::new().post_as("%20", "/wxa/release", json!({})))
    }),
    ("/wxa/release", 44002, || {
        let h = H::new();
        h.approved();
        let (_, _, b) = http(
            h.emu.addr(),
            "POST",
            &format!("/wxa/release?access_token={}", h.token),
            None,
        );
        code(&serde_json::from_slice(&b).unwrap())
    }),
    ("/wxa/release", 85019, || {
        code(&H::new().post("/wxa/release", json!({})))
    }),
    ("/wxa/release", 85020, || {
        let h = H::new();
        h.submitted();
        code(&h.post("/wxa/release", json!({})))
    }),
    ("/wxa/release", 85052, || {
        let h = H::new();
        h.released();
        code(&h.post("/wxa/release", json!({})))
    }),
    // ---- phased release
    ("/wxa/grayrelease", 0, || {
        let h = H::with(Scenario::default(), |a| AppSpec {
            live_version: Some("0.9.0".into()),
            ..a
        });
        h.approved();
        let v = h.post("/wxa/grayrelease", json!({ "gray_percentage": 20 }));
        assert_eq!(
            h.get("/wxa/getgrayreleaseplan")["gray_release_plan"]["gray_percentage"],
            20
        );
        code(&v)
    }),
    ("/wxa/grayrelease", 40097, || {
        let h = H::with(Scenario::default(), |a| AppSpec {
            live_version: Some("0.9.0".into()),
            ..a
        });
        h.approved();
        code(&h.post("/wxa/grayrelease", json!({ "gray_percentage": "ten" })))
    }),
    ("/wxa/grayrelease", 85079, || {
        let h = H::new();
        h.approved();
        code(&h.post("/wxa/grayrelease", json!({ "gray_percentage": 10 })))
    }),
    ("/wxa/grayrelease", 85080, || {
        let h = H::with(Scenario::default(), |a| AppSpec {
            live_version: Some("0.9.0".into()),
            ..a
        });
        h.submitted();
        code(&h.post("/wxa/grayrelease", json!({ "gray_percentage": 10 })))
    }),
    ("/wxa/grayrelease", 85081, || {
        let h = H::with(Scenario::default(), |a| AppSpec {
            live_version: Some("0.9.0".into()),
            ..a
        });
        h.approved();
        code(&h.post("/wxa/grayrelease", json!({ "gray_percentage": 250 })))
    }),
    ("/wxa/grayrelease", 85082, || {
        let h = H::with(Scenario::default(), |a| AppSpec {
            live_version: Some("0.9.0".into()),
            ..a
        });
        h.approved();
        h.post("/wxa/grayrelease", json!({ "gray_percentage": 30 }));
        code(&h.post("/wxa/grayrelease", json!({ "gray_percentage": 20 })))
    }),
    ("/wxa/grayrelease", 86002, || {
        let h = H::with(Scenario::default(), |a| AppSpec {
            profile_complete: false,
            live_version: Some("0.9.0".into()),
            ..a
        });
        code(&h.post("/wxa/grayrelease", json!({ "gray_percentage": 10 })))
    }),
    ("/wxa/getgrayreleaseplan", 0, || {
        let v = H::new().get("/wxa/getgrayreleaseplan");
        assert_eq!(v["gray_release_plan"]["status"], 0);
        code(&v)
    }),
    ("/wxa/revertgrayrelease", 0, || {
        let h = H::with(Scenario::default(), |a| AppSpec {
            live_version: Some("0.9.0".into()),
            ..a
        });
        h.approved();
        h.post("/wxa/grayrelease", json!({ "gray_percentage": 5 }));
        let v = h.get("/wxa/revertgrayrelease");
        assert_eq!(
            h.get("/wxa/getgrayreleaseplan")["gray_release_plan"]["status"],
            4
        );
        code(&v)
    }),
    // ---- rollback
    ("/wxa/revertcoderelease", 0, || {
        let h = H::with(Scenario::default(), |a| AppSpec {
            live_version: Some("0.9.0".into()),
            ..a
        });
        h.released();
        let hist = h.get_as(
            &h.token,
            "/wxa/revertcoderelease",
            "&action=get_history_version",
        );
        assert_eq!(hist["version_list"][0]["user_version"], "0.9.0");
        let v = h.get("/wxa/revertcoderelease");
        assert_eq!(
            h.post("/wxa/getversioninfo", json!({}))["release_info"]["release_version"],
            "0.9.0"
        );
        code(&v)
    }),
    ("/wxa/revertcoderelease", 40097, || {
        let h = H::new();
        code(&h.get_as(&h.token, "/wxa/revertcoderelease", "&action=everything"))
    }),
    ("/wxa/revertcoderelease", 87011, || {
        let h = H::with(Scenario::default(), |a| AppSpec {
            live_version: Some("0.9.0".into()),
            ..a
        });
        h.approved();
        h.post("/wxa/grayrelease", json!({ "gray_percentage": 5 }));
        code(&h.get("/wxa/revertcoderelease"))
    }),
    ("/wxa/revertcoderelease", 87012, || {
        code(
            &H::with(Scenario::default(), |a| AppSpec {
                live_version: Some("0.9.0".into()),
                ..a
            })
            .get("/wxa/revertcoderelease"),
        )
    }),
    // ---- version info, QR code, visit status
    ("/wxa/getversioninfo", 0, || {
        let h = H::new();
        let v = h.post("/wxa/getversioninfo", json!({}));
        assert!(v.get("release_info").is_none());
        code(&v)
    }),
    ("/wxa/getversioninfo", 44002, || {
        let h = H::new();
        let (_, _, b) = http(
            h.emu.addr(),
            "POST",
            &format!("/wxa/getversioninfo?access_token={}", h.token),
            Some(b""),
        );
        code(&serde_json::from_slice(&b).unwrap())
    }),
    ("/wxa/get_qrcode", 0, || {
        let h = H::new();
        h.commit_ext(json!({}));
        let (status, ct, body) = http(
            h.emu.addr(),
            "GET",
            &format!(
                "/wxa/get_qrcode?access_token={}&path=page%2Findex%3Faction%3D1",
                h.token
            ),
            None,
        );
        assert_eq!((status, ct.as_str()), (200, "image/jpeg"));
        assert_eq!(&body[..3], &[0xFF, 0xD8, 0xFF], "a JPEG");
        0
    }),
    ("/wxa/get_qrcode", 86001, || {
        code(&H::new().get("/wxa/get_qrcode"))
    }),
    ("/wxa/change_visitstatus", 0, || {
        code(&H::new().post("/wxa/change_visitstatus", json!({ "action": "close" })))
    }),
    ("/wxa/change_visitstatus", 40097, || {
        code(&H::new().post("/wxa/change_visitstatus", json!({ "action": "pause" })))
    }),
    // ---- API quota tools
    ("/cgi-bin/openapi/quota/get", 0, || {
        let h = H::new();
        h.get("/wxa/get_category");
        let v = h.post(
            "/cgi-bin/openapi/quota/get",
            json!({ "cgi_path": "/wxa/get_category" }),
        );
        assert_eq!(v["quota"]["used"], 1);
        code(&v)
    }),
    ("/cgi-bin/openapi/quota/get", 76003, || {
        code(&H::new().post(
            "/cgi-bin/openapi/quota/get",
            json!({ "cgi_path": "api.weixin.qq.com/wxa/release" }),
        ))
    }),
    ("/cgi-bin/openapi/quota/get", 76021, || {
        code(&H::new().post(
            "/cgi-bin/openapi/quota/get",
            json!({ "cgi_path": "/wxa/no_such_api" }),
        ))
    }),
    ("/cgi-bin/openapi/quota/get", 76022, || {
        let h = H::new();
        code(&h.post_as(
            &h.component.clone(),
            "/cgi-bin/openapi/quota/get",
            json!({ "cgi_path": "/wxa/submit_audit" }),
        ))
    }),
    ("/cgi-bin/clear_quota", 0, || {
        code(&H::new().post("/cgi-bin/clear_quota", json!({ "appid": A })))
    }),
    ("/cgi-bin/clear_quota", 48006, || {
        let h = H::new();
        for _ in 0..10 {
            h.post("/cgi-bin/clear_quota", json!({ "appid": A }));
        }
        code(&h.post("/cgi-bin/clear_quota", json!({ "appid": A })))
    }),
    // ---- token rules that apply to every wxa/* endpoint (shown on get_category)
    ("/wxa/get_category", 41001, || {
        code(&H::new().call("GET", "/wxa/get_category", None))
    }),
    ("/wxa/get_category", 42001, || {
        let h = H::new();
        h.emu.world().advance(7200);
        code(&h.get("/wxa/get_category"))
    }),
    ("/wxa/get_category", 61003, || {
        let h = H::new();
        h.emu.world().revoke(A);
        code(&h.get("/wxa/get_category"))
    }),
    ("/wxa/get_category", 61004, || {
        let h = H::new();
        h.emu
            .world()
            .set_platform_whitelist(C, Some(vec!["192.0.2.1".into()]));
        code(&h.get("/wxa/get_category"))
    }),
    ("/wxa/get_category", 61007, || {
        code(
            &H::with(Scenario::default(), |a| AppSpec { set18: false, ..a })
                .get("/wxa/get_category"),
        )
    }),
    ("/wxa/get_category", 45011, || {
        let h = H::with(
            Scenario::default().rate_limit("/wxa/get_category", Some(1), None),
            |a| a,
        );
        h.get("/wxa/get_category");
        code(&h.get("/wxa/get_category"))
    }),
];

/// The pairs the reference documents for the endpoints (§1–§3, §6). Each must have a case.
const DOCUMENTED: &[(&str, &[i64])] = &[
    (
        TOKEN,
        &[
            -1, 40001, 40002, 40013, 40125, 40164, 40243, 41004, 50004, 50007, 41002, 61024,
        ],
    ),
    (
        STABLE,
        &[
            -1, 40002, 40013, 40125, 40164, 41002, 41004, 43002, 45009, 45011, 89503, 89506, 89507,
        ],
    ),
    (
        COMP,
        &[
            -1, 40001, 40013, 40125, 41004, 45009, 47001, 48001, 61004, 61005, 61006, 61011,
        ],
    ),
    (AUTH, &[-1, 40001, 40013, 61014, 61023, 61003, 61004]),
    ("/wxa/gettemplatedraftlist", &[-1, 40001, 85064]),
    ("/wxa/addtotemplate", &[-1, 40001, 85064, 85065]),
    ("/wxa/gettemplatelist", &[-1, 40001, 43001, 85064]),
    ("/wxa/deletetemplate", &[-1, 40001, 85064]),
    (
        "/wxa/commit",
        &[
            -1, 40001, 40014, 80066, 80067, 80082, 85013, 85014, 85043, 85044, 85045, 85046, 85047,
            85048, 85310, 85311, 85312, 9402202, 9402203, -60005, 86000,
        ],
    ),
    ("/wxa/get_page", &[-1, 40001, 86000, 86001]),
    // §3.4 lists 61040 too, but C2: the lists come back on errcode 0 and submit_audit answers 61040.
    ("/wxa/security/get_code_privacy_info", &[61039]),
    (
        "/wxa/submit_audit",
        &[
            -1, 47001, 48001, 61039, 61040, 85006, 85007, 85008, 85009, 85010, 85011, 85023, 85051,
            85077, 85085, 85086, 85087, 85092, 85093, 85094, 86000, 86001, 86002, 86007, 86009,
            86010, 87006, 9400001, 9402202,
        ],
    ),
    ("/wxa/get_auditstatus", &[-1, 40001, 85012, 86000, 86001]),
    ("/wxa/get_latest_auditstatus", &[85058, 86000]),
    ("/wxa/undocodeaudit", &[87012, 87013]),
    ("/cgi-bin/component/api_query_auth", &[61010]),
    ("/wxa/speedupaudit", &[89401, 89402, 89403, 89404, 89405]),
    (
        "/wxa/release",
        &[-1, 40001, 40014, 44002, 85019, 85020, 85052],
    ),
    (
        "/wxa/grayrelease",
        &[40097, 85079, 85080, 85081, 85082, 86002],
    ),
    ("/wxa/revertcoderelease", &[40097, 87011, 87012]),
    ("/wxa/getversioninfo", &[44002]),
    ("/cgi-bin/openapi/quota/get", &[76003, 76021, 76022]),
    ("/cgi-bin/clear_quota", &[48006]),
    ("/wxa/get_category", &[41001, 42001, 61003, 61007]),
];

#[test]
fn every_documented_pair_has_a_case() {
    for (path, codes) in DOCUMENTED {
        for c in *codes {
            assert!(
                CASES.iter().any(|(p, k, _)| p == path && k == c),
                "no case for {path} {c}"
            );
        }
    }
}

#[test]
fn every_endpoint_has_a_happy_path() {
    let endpoints: std::collections::BTreeSet<&str> = CASES.iter().map(|(p, _, _)| *p).collect();
    for e in &endpoints {
        assert!(
            CASES.iter().any(|(p, k, _)| p == e && *k == 0),
            "no happy path for {e}"
        );
    }
    assert_eq!(endpoints.len(), 29, "{endpoints:?}");
}

#[test]
fn every_case_answers_its_code_over_http() {
    let mut failures = Vec::new();
    for (path, want, run) in CASES {
        let got = run();
        if got != *want {
            failures.push(format!("{path}: want {want}, got {got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}
