//! The upload side of the emulator: what it accepts and what it refuses, with the throwaway key pair
//! of the fixtures and packs rebuilt from a captured upload of the real miniprogram-ci.

use flate2::{write::GzEncoder, Compression};
use mp_release_core::upload::{pack, signature};
use mp_release_emulator::{AppSpec, Request, Response, Scenario, UploadLimits, World};
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;

const APP: &str = "wx0123456789abcdef";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/miniprogram-ci")
}

fn key() -> signature::SigningKey {
    signature::SigningKey::from_pem(
        &std::fs::read_to_string(fixtures().join("keys/private.wx0123456789abcdef.key")).unwrap(),
    )
    .unwrap()
}

fn world(scenario: Scenario, spec: impl FnOnce(AppSpec) -> AppSpec) -> World {
    let mut w = World::new(scenario);
    w.add_app(spec(AppSpec {
        appid: APP.into(),
        ..AppSpec::default()
    }));
    assert!(w.add_upload_key(
        APP,
        &std::fs::read_to_string(fixtures().join("keys/public.wx0123456789abcdef.pem")).unwrap()
    ));
    w
}

/// The entries of the captured api-proxy upload, in the captured order, without its signature.
fn captured_entries() -> Vec<(String, Vec<u8>)> {
    let capture: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("captures/api-proxy/005_wxa_ci_upload.json"))
            .unwrap(),
    )
    .unwrap();
    capture["pack"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .filter(|n| n != "/ci.signature")
        .map(|n| {
            let bytes = std::fs::read(
                fixtures()
                    .join("captures/api-proxy/005_wxa_ci_upload.files")
                    .join(n.trim_start_matches('/')),
            )
            .unwrap();
            (n, bytes)
        })
        .collect()
}

fn rand(w: &mut World) -> String {
    let v = w
        .handle(&Request::post(
            "/wxa/ci/getrandstr",
            &[("_r", "0.1")],
            &json!({ "appid": APP, "clientRand": 42 }),
        ))
        .body_json()
        .unwrap();
    assert_eq!(v["errCode"], 0);
    v["data"]["randomString"].as_str().unwrap().to_owned()
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::new(6));
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn upload(w: &mut World, entries: &[(String, Vec<u8>)], sig: &str, path: &str) -> Response {
    let mut all = entries.to_vec();
    all.push(("/ci.signature".into(), signature::entry(sig).into_bytes()));
    let body = gz(&pack::pack(&all).unwrap());
    let req = Request {
        method: "POST".into(),
        path: path.into(),
        query: [
            ("_r", "0.3"),
            ("codeprotect", "0"),
            ("type", "miniProgram"),
            ("appid", APP),
            ("version", "1.0.0"),
            ("desc", "capture test"),
            ("robot", "3"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect(),
        body,
        peer: None,
    };
    w.handle(&req)
}

#[test]
fn a_captured_package_is_accepted_and_becomes_the_trial_version() {
    let mut w = world(Scenario::default().privacy_scan(1, 60), |a| a);
    let r = rand(&mut w);
    let sig = key().sign(APP, &r).unwrap();
    // getattr consumes its own random string
    let attr = w
        .handle(&Request::post(
            "/wxa/ci/getattr",
            &[],
            &json!({ "appid": APP, "signature": sig }),
        ))
        .body_json()
        .unwrap();
    assert_eq!(
        (
            attr["errCode"].as_i64(),
            attr["data"]["setting"]["MaxCodeSize"].as_u64(),
            attr["data"]["platform"].as_bool()
        ),
        (Some(0), Some(2), Some(false))
    );
    let entries = captured_entries();
    let r = rand(&mut w);
    let sig = key().sign(APP, &r).unwrap();
    let v = upload(&mut w, &entries, &sig, "/wxa/ci/upload")
        .body_json()
        .unwrap();
    assert_eq!(v["errCode"], 0, "{v}");
    let size: usize = entries.iter().map(|(_, b)| b.len()).sum();
    assert_eq!(
        v["body"]["subpackage_info"],
        json!([{ "name": "__FULL__", "size": size }, { "name": "__APP__", "size": size }])
    );
    assert_eq!(size, 810, "the captured reply says __FULL__ 810");
    let up = &w.uploads()[0];
    assert_eq!(
        (up.version.as_str(), up.robot.as_str(), up.preview),
        ("1.0.0", "3", false)
    );
    assert_eq!(up.files.len(), entries.len() + 1);
    assert_eq!(&up.files[..entries.len()], entries.as_slice());
    let state = w.app_state(APP).unwrap();
    assert_eq!(state["trial"]["user_version"], "1.0.0");
    assert_eq!(state["trial"]["pages"], json!(["pages/index/index"]));
    assert_eq!(state["scan"]["polls"], 0, "the privacy scan started");
    // the same signature cannot be replayed: its random string is used up
    let again = upload(&mut w, &entries, &sig, "/wxa/ci/upload")
        .body_json()
        .unwrap();
    assert_eq!(again["errCode"], -10004, "{again}");
}

#[test]
fn preview_answers_a_qr_code_and_leaves_the_trial_alone() {
    let mut w = world(Scenario::default(), |a| a);
    let r = rand(&mut w);
    let v = upload(
        &mut w,
        &captured_entries(),
        &key().sign(APP, &r).unwrap(),
        "/wxa/ci/testSourceURL",
    )
    .body_json()
    .unwrap();
    assert_eq!(v["errCode"], 0);
    let img = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        v["body"]["qrcode_img"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(&img[..2], &[0xFF, 0xD8]);
    assert!(w.app_state(APP).unwrap()["trial"].is_null());
    assert!(w.uploads()[0].preview);
}

#[test]
fn refusals() {
    // a key of another app (mismatch), a signature over a random string never issued
    let mut w = world(Scenario::default(), |a| a);
    let v = upload(
        &mut w,
        &captured_entries(),
        &key().sign(APP, "never-issued").unwrap(),
        "/wxa/ci/upload",
    )
    .body_json()
    .unwrap();
    assert_eq!(v["errCode"], -10004);
    assert!(
        v["errMsg"].as_str().unwrap().contains("does not match"),
        "{v}"
    );
    // no key registered
    let mut bare = World::default();
    bare.add_app(AppSpec {
        appid: APP.into(),
        ..AppSpec::default()
    });
    let r = rand(&mut bare);
    let v = upload(
        &mut bare,
        &captured_entries(),
        &key().sign(APP, &r).unwrap(),
        "/wxa/ci/upload",
    )
    .body_json()
    .unwrap();
    assert!(
        v["errMsg"].as_str().unwrap().contains("no code upload key"),
        "{v}"
    );
    // the IP whitelist, naming the caller's IP
    let mut w = world(Scenario::default(), |a| AppSpec {
        upload_ip_whitelist: Some(vec!["203.0.113.1".into()]),
        ..a
    });
    let r = rand(&mut w);
    let v = upload(
        &mut w,
        &captured_entries(),
        &key().sign(APP, &r).unwrap(),
        "/wxa/ci/upload",
    )
    .body_json()
    .unwrap();
    assert_eq!(v["errCode"], -10008);
    assert!(v["errMsg"].as_str().unwrap().contains("127.0.0.1"), "{v}");
    // size limits per package: a 3 MB main package against 2 MB
    let mut w = world(
        Scenario {
            upload_limits: UploadLimits {
                main_mb: 2,
                sub_mb: 2,
                full_mb: 12,
            },
            ..Scenario::default()
        },
        |a| a,
    );
    let r = rand(&mut w);
    let mut big = captured_entries();
    big.push(("/big.png".into(), vec![7; 3 * 1024 * 1024]));
    let v = upload(
        &mut w,
        &big,
        &key().sign(APP, &r).unwrap(),
        "/wxa/ci/upload",
    )
    .body_json()
    .unwrap();
    assert_eq!(v["errCode"], 80051, "{v}");
    // not gzip, not a pack, no signature entry
    let mut w = world(Scenario::default(), |a| a);
    let bad = w.handle(&Request {
        method: "POST".into(),
        path: "/wxa/ci/upload".into(),
        query: vec![("appid".into(), APP.into())],
        body: b"plain".to_vec(),
        peer: None,
    });
    assert_eq!(bad.body_json().unwrap()["errCode"], -10005);
    let junk = w.handle(&Request {
        method: "POST".into(),
        path: "/wxa/ci/upload".into(),
        query: vec![("appid".into(), APP.into())],
        body: gz(b"\xbe\0\0\0\0"),
        peer: None,
    });
    assert_eq!(junk.body_json().unwrap()["errCode"], -10005);
    // large packages: the COS path is refused so the client uploads directly
    assert_eq!(
        w.handle(&Request::post(
            "/wxa/ci/getmulticosuploadinfo",
            &[],
            &json!({ "appid": APP })
        ))
        .body_json()
        .unwrap()["errCode"],
        -1
    );
    // the journal keeps a note of binary bodies, not the bytes
    assert!(w
        .journal()
        .iter()
        .any(|e| e.body.starts_with('<') && e.body.ends_with("bytes of binary data>")));
}

#[test]
fn subpackages_are_sized_separately_and_direct_commit_lands_on_the_authorizer_app() {
    let mut w = world(Scenario::default(), |a| AppSpec {
        platform_app: true,
        ..a
    });
    w.add_app(AppSpec {
        appid: "wxfeedfacefeedface".into(),
        ..AppSpec::default()
    });
    let app_json = json!({ "pages": ["pages/index/index"], "subPackages": [{ "root": "sub/", "pages": ["p/p"] }] });
    let ext = json!({ "extEnable": true, "extAppid": "wxfeedfacefeedface", "directCommit": true });
    let entries = vec![
        ("/app.json".to_owned(), app_json.to_string().into_bytes()),
        ("/ext.json".to_owned(), ext.to_string().into_bytes()),
        ("/pages/index/index.js".to_owned(), b"Page({})".to_vec()),
        ("/sub/p/p.js".to_owned(), b"Page({ sub: 1 })".to_vec()),
    ];
    let r = rand(&mut w);
    let v = upload(
        &mut w,
        &entries,
        &key().sign(APP, &r).unwrap(),
        "/wxa/ci/upload",
    )
    .body_json()
    .unwrap();
    let info = v["body"]["subpackage_info"].as_array().unwrap().clone();
    assert_eq!(
        info.iter()
            .map(|i| i["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["__FULL__", "__APP__", "sub/"]
    );
    assert_eq!(info[2]["size"], "Page({ sub: 1 })".len());
    assert!(w.app_state(APP).unwrap()["trial"].is_null());
    assert_eq!(
        w.app_state("wxfeedfacefeedface").unwrap()["trial"]["user_version"],
        "1.0.0"
    );
}
