//! The real miniprogram-ci (pinned, installed by scripts/install-miniprogram-ci.sh, which this test
//! runs) against the emulator, reached unchanged as an HTTPS proxy with a test CA:
//!
//! - interop: it uploads and previews every sample project; the emulator verifies its signatures
//!   and unpacks its packs;
//! - differential: for every sample inside the native engine's subset, the native upload (this
//!   binary) and the official one give the same file map as seen by the emulator — same names,
//!   order and bytes, ignoring only the `__warning__` key the official tool injects.

use crate::helpers::*;
use mp_release_emulator::{AppSpec, Emulator, Scenario, UploadRecord, World};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const APPID: &str = "wx0123456789abcdef";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures() -> PathBuf {
    root().join("tests/fixtures/miniprogram-ci")
}

/// Installs (once) and returns the official package's directory.
fn official() -> PathBuf {
    let out = Command::new("bash")
        .arg(root().join("scripts/install-miniprogram-ci.sh"))
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "installing miniprogram-ci failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .join("node_modules/miniprogram-ci")
}

fn emulator(platform: bool) -> (Emulator, tempfile::TempDir) {
    let mut w = World::new(Scenario::default());
    w.add_app(AppSpec {
        appid: APPID.into(),
        platform_app: platform,
        ..AppSpec::default()
    });
    w.add_upload_key(
        APPID,
        &std::fs::read_to_string(fixtures().join("keys/public.wx0123456789abcdef.pem")).unwrap(),
    );
    let emu = Emulator::bind_with_tls("127.0.0.1:0".parse().unwrap(), w).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), emu.ca_pem().unwrap()).unwrap();
    (emu, dir)
}

/// Runs the official tool through the driver script; returns its result JSON.
fn run_official(module: &Path, emu: &Emulator, dir: &Path, sample: &str, preview: bool) -> Value {
    let request = json!({
        "module": module,
        "appid": APPID,
        "projectPath": fixtures().join("sample-projects").join(sample),
        "privateKeyPath": fixtures().join("keys/private.wx0123456789abcdef.key"),
        "version": "1.0.0",
        "robot": 3,
        "preview": preview,
        "qrcodeOutputDest": dir.join(format!("{sample}-qr.jpg")),
        "pagePath": "pages/index/index",
    });
    let out = Command::new("node")
        .arg(root().join("src/adapters/upload/driver.js"))
        .current_dir(dir)
        .env("MP_RELEASE_CI_REQUEST", request.to_string())
        .env("HTTPS_PROXY", emu.uri())
        .env("https_proxy", emu.uri())
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .env("NODE_EXTRA_CA_CERTS", dir.join("ca.pem"))
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let last = stdout
        .lines()
        .rfind(|l| l.starts_with('{'))
        .unwrap_or("{}")
        .to_owned();
    let v: Value = serde_json::from_str(&last).unwrap_or(Value::Null);
    assert!(
        out.status.success() && v.get("result").is_some(),
        "{sample} (preview {preview}) failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    v["result"].clone()
}

fn run_native(emu: &Emulator, dir: &Path, sample: &str) {
    let trap = NetTrap::new();
    let mut c = bin(dir, &trap);
    c.args(["upload", "--project-path"])
        .arg(fixtures().join("sample-projects").join(sample))
        .arg("--private-key-path")
        .arg(fixtures().join("keys/private.wx0123456789abcdef.key"))
        .args(["--version-from", "explicit:1.0.0", "--robot", "3"])
        .env("INPUT_APPID", APPID)
        .env("MP_RELEASE_UPLOAD_BASE_URL", emu.uri());
    let r = run(c);
    assert_eq!(r.code, 0, "native upload of {sample}: {}", r.stderr);
}

/// The file map without the signature, JSON normalised by dropping `__warning__`.
fn map(up: &UploadRecord) -> Vec<(String, String)> {
    up.files
        .iter()
        .filter(|(n, _)| n != "/ci.signature")
        .map(|(n, b)| {
            let text = match serde_json::from_slice::<Value>(b) {
                Ok(Value::Object(mut m))
                    if n.ends_with(".json") && m.contains_key("__warning__") =>
                {
                    m.shift_remove("__warning__");
                    mp_release_core::upload::js_json::stringify(&Value::Object(m))
                }
                _ => String::from_utf8_lossy(b).into_owned(),
            };
            (n.clone(), text)
        })
        .collect()
}

#[test]
fn official_tool_uploads_and_previews_every_sample_and_matches_the_native_engine() {
    let module = official();
    let samples = [
        "sample",
        "sample2",
        "sample3",
        "sample4",
        "sample5",
        "sample-swc",
        "sample-maps",
    ];
    let (emu, dir) = emulator(false);
    for sample in samples {
        let before = emu.world().uploads().len();
        let up = run_official(&module, &emu, dir.path(), sample, false);
        assert!(
            up["subPackageInfo"][0]["name"] == "__FULL__",
            "{sample}: {up}"
        );
        let pre = run_official(&module, &emu, dir.path(), sample, true);
        assert!(pre.is_object(), "{sample}: {pre}");
        let jpeg = std::fs::read(dir.path().join(format!("{sample}-qr.jpg"))).unwrap();
        assert_eq!(
            &jpeg[..2],
            &[0xFF, 0xD8],
            "{sample}: the preview QR code was written"
        );
        let w = emu.world();
        assert_eq!(
            w.uploads().len(),
            before + 2,
            "{sample}: the emulator accepted (signature verified, pack unpacked) both"
        );
        assert!(w.uploads()[before + 1].preview);
    }
    // The differential, for the samples inside the native subset.
    for (sample, platform) in [
        ("sample", false),
        ("sample-maps", false),
        ("sample2", false),
        ("sample4", false),
        ("sample4", true),
    ] {
        let (emu, dir) = emulator(platform);
        run_official(&module, &emu, dir.path(), sample, false);
        run_native(&emu, dir.path(), sample);
        let w = emu.world();
        let (theirs, ours) = (map(&w.uploads()[0]), map(&w.uploads()[1]));
        let names = |m: &[(String, String)]| m.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(&ours),
            names(&theirs),
            "{sample} (platform {platform}): names and order"
        );
        for (a, b) in ours.iter().zip(&theirs) {
            assert_eq!(a, b, "{sample} (platform {platform}): {}", a.0);
        }
        // same query as well (version, robot, type, extAppId …), `_r` and `desc` aside
        let q = |u: &UploadRecord| {
            u.query
                .iter()
                .filter(|(k, _)| k != "_r" && k != "desc")
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(q(&w.uploads()[1]), q(&w.uploads()[0]), "{sample}: query");
    }
}

/// The official engine inside the binary: `engine auto` hands an out-of-subset project to it, and
/// `engine miniprogram-ci` uses it on request; both reach the emulator as their HTTPS proxy.
#[test]
fn the_binary_drives_the_official_engine() {
    let module = official();
    let cache = module.ancestors().nth(4).unwrap().to_path_buf(); // <cache>/miniprogram-ci/<v>/node_modules/miniprogram-ci
    let (emu, dir) = emulator(false);
    for (sample, engine) in [("sample3", "auto"), ("sample5", "miniprogram-ci")] {
        let tmp = tempfile::tempdir().unwrap();
        let trap = NetTrap::new();
        let mut c = bin(dir.path(), &trap);
        c.args(["upload", "--engine", engine, "--project-path"])
            .arg(fixtures().join("sample-projects").join(sample))
            .arg("--private-key-path")
            .arg(fixtures().join("keys/private.wx0123456789abcdef.key"))
            .arg("--cache-dir")
            .arg(&cache)
            .arg("--ca-file")
            .arg(dir.path().join("ca.pem"))
            .args([
                "--version-from",
                "explicit:3.0.0",
                "--desc",
                "official engine",
            ])
            .env("INPUT_APPID", APPID)
            .env("MP_RELEASE_UPLOAD_BASE_URL", emu.uri())
            // a temporary directory of this test's own: what the engine leaves there is its alone
            .env("TMPDIR", tmp.path());
        let r = run(c);
        assert_eq!(r.code, 0, "{sample}: {}", r.stderr);
        assert!(
            r.stderr.contains("with the miniprogram-ci engine"),
            "{sample}: {}",
            r.stderr
        );
        if engine == "auto" {
            assert!(
                r.stderr
                    .contains("engine auto: setting.ignoreUploadUnusedFiles"),
                "{}",
                r.stderr
            );
        }
        assert!(
            kv(&r.stdout)["package-sizes"].contains("__FULL__"),
            "{}",
            r.stdout
        );
        let w = emu.world();
        let up = w.uploads().last().unwrap();
        assert_eq!(
            (up.version.as_str(), up.desc.as_str()),
            ("3.0.0", "official engine")
        );
        // the key file the tool read was temporary and is gone: nothing of the run is left
        let left: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.join("private.key").exists()
                    || p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("mp-release-ci-"))
            })
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}

/// After a compile error the official library keeps its worker alive for ~10 minutes; the engine
/// must report the error and end at once.
#[test]
fn the_official_engine_ends_after_a_compile_error() {
    let module = official();
    let cache = module.ancestors().nth(4).unwrap().to_path_buf();
    let (emu, dir) = emulator(false);
    let project = dir.path().join("broken");
    std::fs::create_dir_all(project.join("pages/index")).unwrap();
    std::fs::write(
        project.join("project.config.json"),
        r#"{"appid":"wx0123456789abcdef","compileType":"miniprogram"}"#,
    )
    .unwrap();
    std::fs::write(
        project.join("app.json"),
        r#"{"pages":["pages/index/index","pages/missing/missing"]}"#,
    )
    .unwrap();
    std::fs::write(project.join("app.js"), "App({})").unwrap();
    std::fs::write(project.join("pages/index/index.js"), "Page({})").unwrap();
    std::fs::write(project.join("pages/index/index.wxml"), "<view/>").unwrap();
    let trap = NetTrap::new();
    let mut c = bin(dir.path(), &trap);
    c.args(["upload", "--engine", "miniprogram-ci", "--project-path"])
        .arg(&project)
        .arg("--private-key-path")
        .arg(fixtures().join("keys/private.wx0123456789abcdef.key"))
        .arg("--cache-dir")
        .arg(&cache)
        .arg("--ca-file")
        .arg(dir.path().join("ca.pem"))
        .args(["--version-from", "explicit:1.0.0"])
        .env("INPUT_APPID", APPID)
        .env("MP_RELEASE_UPLOAD_BASE_URL", emu.uri())
        .timeout(std::time::Duration::from_secs(120));
    let started = std::time::Instant::now();
    let r = run(c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("miniprogram-ci"), "{}", r.stderr);
    // Not a performance assertion: a generous bound far below the library's ten-minute hang.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(100),
        "{:?}",
        started.elapsed()
    );
    assert!(emu.world().uploads().is_empty(), "nothing was uploaded");
}
