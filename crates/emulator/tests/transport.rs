//! Faults at the transport level, the admin API and the journal, through real HTTP.

use mp_release_emulator::{AppSpec, Emulator, FaultKind, Scenario, World};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const C: &str = "wxc0c0c0c0c0c0c0c0";
const A: &str = "wxa1a1a1a1a1a1a1a1";

/// Sends one request on a fresh connection; returns the raw bytes received until the server closes.
fn exchange(emu: &Emulator, method: &str, target: &str, body: &str) -> Vec<u8> {
    let mut s = TcpStream::connect(emu.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "{method} {target} HTTP/1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    raw
}

fn split(raw: &[u8]) -> (String, Vec<u8>) {
    let at = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    (
        String::from_utf8_lossy(&raw[..at]).into_owned(),
        raw[at + 4..].to_vec(),
    )
}

fn started(scenario: Scenario) -> (Emulator, String) {
    let mut w = World::new(Scenario::default());
    let ticket = w.add_platform(C, "s");
    let reg = w.add_app(AppSpec::authorized(A, C));
    let emu = Emulator::start_with(w);
    let body = json!({ "component_appid": C, "component_appsecret": "s", "component_verify_ticket": ticket }).to_string();
    let (_, b) = split(&exchange(
        &emu,
        "POST",
        "/cgi-bin/component/api_component_token",
        &body,
    ));
    let comp: Value = serde_json::from_slice(&b).unwrap();
    let body = json!({ "component_appid": C, "authorizer_appid": A, "authorizer_refresh_token": reg.refresh_token }).to_string();
    let target = format!(
        "/cgi-bin/component/api_authorizer_token?access_token={}",
        comp["component_access_token"].as_str().unwrap()
    );
    let (_, b) = split(&exchange(&emu, "POST", &target, &body));
    let auth: Value = serde_json::from_slice(&b).unwrap();
    emu.world().set_scenario(scenario);
    (
        emu,
        auth["authorizer_access_token"].as_str().unwrap().to_owned(),
    )
}

fn category(emu: &Emulator, token: &str) -> Vec<u8> {
    exchange(
        emu,
        "GET",
        &format!("/wxa/get_category?access_token={token}"),
        "",
    )
}

#[test]
fn each_fault_kind_misbehaves_as_described() {
    let kinds = [
        FaultKind::Errcode(45011),
        FaultKind::Http(502),
        FaultKind::Cut,
        FaultKind::Truncated,
        FaultKind::NonJson,
        FaultKind::WrongContentType,
        FaultKind::DelayMs(150),
        FaultKind::Redirect {
            status: 307,
            location: "http://127.0.0.1:9/elsewhere".into(),
        },
        FaultKind::HugeErrmsg(3 << 20),
        FaultKind::Body(r#"{"errcode":"40001"}"#.into()),
    ];
    for kind in kinds {
        let (emu, token) =
            started(Scenario::default().fault("/wxa/get_category", Some(1), kind.clone()));
        let t0 = Instant::now();
        let raw = category(&emu, &token);
        let elapsed = t0.elapsed();
        match &kind {
            FaultKind::Cut => assert!(raw.is_empty(), "cut: {raw:?}"),
            _ => {
                let (head, body) = split(&raw);
                let text = String::from_utf8_lossy(&body).into_owned();
                match &kind {
                    FaultKind::Errcode(c) => assert!(
                        text.contains(&format!("\"errcode\":{c}"))
                            && head.starts_with("HTTP/1.1 200"),
                        "{text}"
                    ),
                    FaultKind::Http(s) => assert!(
                        head.starts_with(&format!("HTTP/1.1 {s}")) && text.contains("<html>"),
                        "{head}"
                    ),
                    FaultKind::Truncated => assert!(
                        serde_json::from_slice::<Value>(&body).is_err() && text.starts_with('{'),
                        "{text}"
                    ),
                    FaultKind::NonJson => assert!(
                        head.contains("text/html") && text.contains("<html>"),
                        "{head}"
                    ),
                    FaultKind::WrongContentType => assert!(
                        head.contains("Content-Type: text/plain")
                            && serde_json::from_slice::<Value>(&body).is_ok(),
                        "{head}"
                    ),
                    FaultKind::DelayMs(ms) => assert!(
                        elapsed >= Duration::from_millis(*ms) && text.contains("category_list"),
                        "{elapsed:?}"
                    ),
                    FaultKind::Redirect { status, location } => assert!(
                        head.starts_with(&format!("HTTP/1.1 {status}"))
                            && head.contains(&format!("Location: {location}")),
                        "{head}"
                    ),
                    FaultKind::HugeErrmsg(n) => {
                        let v: Value = serde_json::from_slice(&body).unwrap();
                        assert_eq!(v["errcode"], -1);
                        assert!(v["errmsg"].as_str().unwrap().len() > *n, "{}", body.len());
                    }
                    FaultKind::Body(b) => assert_eq!(&text, b),
                    FaultKind::Cut => unreachable!(),
                }
            }
        }
        // the second call is healthy and the journal names the fault of the first
        let (_, body) = split(&category(&emu, &token));
        assert!(
            String::from_utf8_lossy(&body).contains("category_list"),
            "{kind:?}"
        );
        let w = emu.world();
        let j: Vec<_> = w
            .journal()
            .iter()
            .filter(|e| e.path == "/wxa/get_category")
            .collect();
        assert_eq!(
            (j.len(), j[0].fault.is_some(), j[1].fault.is_none()),
            (2, true, true),
            "{kind:?}"
        );
    }
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let (emu, token) = started(Scenario::default());
    let mut s = TcpStream::connect(emu.addr()).unwrap();
    // The request is written in pieces; without TCP_NODELAY Nagle's algorithm meets delayed ACKs.
    s.set_nodelay(true).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    for _ in 0..50 {
        write!(
            s,
            "GET /wxa/get_category?access_token={token} HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        .unwrap();
        let mut length = 0;
        loop {
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            if let Some(v) = line.strip_prefix("Content-Length: ") {
                length = v.trim().parse().unwrap();
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; length];
        r.read_exact(&mut body).unwrap();
        assert!(String::from_utf8_lossy(&body).contains("category_list"));
    }
    assert_eq!(emu.world().journal().len(), 2 + 50);
}

#[test]
fn chunked_bodies_and_expect_continue_are_understood() {
    let (emu, token) = started(Scenario::default());
    let mut s = TcpStream::connect(emu.addr()).unwrap();
    let body = json!({ "action": "close" }).to_string();
    write!(
        s,
        "POST /wxa/change_visitstatus?access_token={token} HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    assert!(
        raw.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK"),
        "{raw}"
    );
    assert!(raw.contains("\"errcode\":0"), "{raw}");
}

#[test]
fn admin_api_sets_up_and_observes_a_world() {
    let emu = Emulator::start();
    let post = |path: &str, body: Value| -> Value {
        let (head, b) = split(&exchange(
            &emu,
            "POST",
            &format!("/__emulator/{path}"),
            &body.to_string(),
        ));
        assert!(
            head.starts_with("HTTP/1.1 200"),
            "{path}: {head} {}",
            String::from_utf8_lossy(&b)
        );
        serde_json::from_slice(&b).unwrap()
    };
    let get = |path: &str| -> Value {
        serde_json::from_slice(&split(&exchange(&emu, "GET", &format!("/__emulator/{path}"), "")).1)
            .unwrap()
    };
    let scenario = "reviews:\n  - - {after-polls: 1, outcome: {reject: {reason: 'icon<br>blurry', screenshots: [m1]}}}\nprivacy-scan: {polls: 0, seconds: 0}\n";
    let (head, _) = split(&exchange(&emu, "POST", "/__emulator/scenario", scenario));
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let ticket = post(
        "platforms",
        json!({ "component_appid": C, "component_secret": "s" }),
    )["component_verify_ticket"]
        .as_str()
        .unwrap()
        .to_owned();
    let app = post("apps", json!({ "appid": A, "component_appid": C }));
    let template = post("templates", json!({ "component_appid": C, "source_appid": "wxd0d0d0d0d0d0d0d0", "user_version": "2.0.0", "pages": ["pages/index"], "size": 10 }))["template_id"].as_u64().unwrap();
    post(
        "keys",
        json!({ "appid": A, "public_key": "-----BEGIN PUBLIC KEY-----\n…" }),
    );

    let call = |method: &str, target: &str, body: Value| -> Value {
        serde_json::from_slice(&split(&exchange(&emu, method, target, &body.to_string())).1)
            .unwrap()
    };
    let comp = call(
        "POST",
        "/cgi-bin/component/api_component_token",
        json!({ "component_appid": C, "component_appsecret": "s", "component_verify_ticket": ticket }),
    );
    let auth = call(
        "POST",
        &format!(
            "/cgi-bin/component/api_authorizer_token?access_token={}",
            comp["component_access_token"].as_str().unwrap()
        ),
        json!({ "component_appid": C, "authorizer_appid": A, "authorizer_refresh_token": app["authorizer_refresh_token"] }),
    );
    let token = auth["authorizer_access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        call(
            "POST",
            &format!("/wxa/commit?access_token={token}"),
            json!({ "template_id": template, "ext_json": "{}", "user_version": "2.0.0", "user_desc": "d" })
        )["errcode"],
        0
    );
    let id = call(
        "POST",
        &format!("/wxa/submit_audit?access_token={token}"),
        json!({}),
    )["auditid"]
        .as_u64()
        .unwrap();
    let status = call(
        "POST",
        &format!("/wxa/get_auditstatus?access_token={token}"),
        json!({ "auditid": id }),
    );
    assert_eq!(
        (status["status"].as_u64(), status["reason"].as_str()),
        (Some(1), Some("icon<br>blurry"))
    );

    let events = get("events");
    assert_eq!(events[0]["event"], "weapp_audit_fail");
    assert_eq!(events[0]["screenshot"], "m1");
    assert_eq!(
        post("clock", json!({ "advance": 90 }))["now"],
        mp_release_emulator::EPOCH + 90
    );
    assert_eq!(get("clock")["now"], mp_release_emulator::EPOCH + 90);
    let state = get(&format!("apps/{A}"));
    assert_eq!(state["reviews"][0]["status"], 1);
    let journal = get("journal");
    let paths: Vec<&str> = journal
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "/cgi-bin/component/api_component_token",
            "/cgi-bin/component/api_authorizer_token",
            "/wxa/commit",
            "/wxa/submit_audit",
            "/wxa/get_auditstatus"
        ]
    );
    // secrets never reach the journal
    let text = journal.to_string();
    assert!(!text.contains(&token) && !text.contains(&ticket) && text.contains("\"***\""));
    let (head, _) = split(&exchange(&emu, "DELETE", "/__emulator/journal", ""));
    assert!(head.starts_with("HTTP/1.1 200"));
    assert_eq!(get("journal"), json!([]));
    let (head, body) = split(&exchange(
        &emu,
        "POST",
        "/__emulator/apps",
        "{\"appid\": 1, \"bogus\": true}",
    ));
    assert!(
        head.starts_with("HTTP/1.1 400") && String::from_utf8_lossy(&body).contains("error"),
        "{head}"
    );
}

#[test]
fn stops_on_drop() {
    let emu = Emulator::start();
    let addr = emu.addr();
    assert!(TcpStream::connect(addr).is_ok());
    drop(emu);
    assert!(
        TcpStream::connect(addr).is_err(),
        "the port is closed after drop"
    );
}
