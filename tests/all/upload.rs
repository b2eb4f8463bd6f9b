//! The native uploader through the binary, against the emulator's upload side.

use crate::helpers::*;
use mp_release_core::upload::project::{compile, Input, ProjectFile};
use mp_release_emulator::{AppSpec, Emulator, ReviewStep, Scenario, World};
use std::path::{Path, PathBuf};

const UPLOADER: &str = "wx0123456789abcdef";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/miniprogram-ci")
}

fn key_path() -> PathBuf {
    fixtures().join("keys/private.wx0123456789abcdef.key")
}

fn public_key() -> String {
    std::fs::read_to_string(fixtures().join("keys/public.wx0123456789abcdef.pem")).unwrap()
}

fn emulator(spec: impl FnOnce(AppSpec) -> AppSpec) -> Emulator {
    emulator_with(Scenario::default(), spec)
}

/// The uploading app with its key, in a world with this scenario.
fn emulator_with(scenario: Scenario, spec: impl FnOnce(AppSpec) -> AppSpec) -> Emulator {
    let mut w = World::new(scenario);
    w.add_app(spec(AppSpec {
        appid: UPLOADER.into(),
        ..AppSpec::default()
    }));
    w.add_upload_key(UPLOADER, &public_key());
    Emulator::start_with(w)
}

fn cmd(emu: &Emulator, dir: &Path, args: &[&str]) -> Run {
    let trap = NetTrap::new();
    let mut c = bin(dir, &trap);
    c.args(args)
        .arg("--private-key-path")
        .arg(key_path())
        .env("INPUT_APPID", UPLOADER)
        .env("MP_RELEASE_UPLOAD_BASE_URL", emu.uri());
    let r = run(c);
    assert_eq!(trap.connections(), 0);
    let key = std::fs::read_to_string(key_path()).unwrap();
    for line in key.lines().filter(|l| !l.starts_with("-----")) {
        assert!(
            !r.stdout.contains(line) && !r.stderr.contains(line),
            "the private key leaked"
        );
    }
    r
}

fn sample(name: &str) -> String {
    fixtures()
        .join("sample-projects")
        .join(name)
        .display()
        .to_string()
}

fn listing(dir: &str) -> Vec<(String, Vec<u8>)> {
    fn walk(d: &Path, base: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, base, out);
            } else {
                out.push((
                    p.strip_prefix(base).unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(Path::new(dir), Path::new(dir), &mut out);
    out.sort();
    out
}

#[test]
fn upload_sends_the_engine_map_signed_and_reports_sizes() {
    let emu = emulator(|a| a);
    let dir = tempfile::tempdir().unwrap();
    let r = cmd(
        &emu,
        dir.path(),
        &[
            "upload",
            "--project-path",
            &sample("sample2"),
            "--version-from",
            "explicit:1.2.3",
            "--robot",
            "7",
            "--desc",
            "nightly build",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = kv(&r.stdout);
    assert_eq!(out["version"], "1.2.3");
    let sizes: serde_json::Value = serde_json::from_str(&out["package-sizes"]).unwrap();
    assert_eq!(sizes[0]["name"], "__FULL__");
    let world = emu.world();
    let up = &world.uploads()[0];
    assert_eq!(
        (
            up.version.as_str(),
            up.robot.as_str(),
            up.desc.as_str(),
            up.preview
        ),
        ("1.2.3", "7", "nightly build", false)
    );
    let keys: Vec<&str> = up.query.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "_r",
            "codeprotect",
            "type",
            "appid",
            "version",
            "desc",
            "robot",
            "debugLaunchInfo"
        ],
        "the official order"
    );
    let input = Input {
        files: listing(&sample("sample2"))
            .into_iter()
            .map(|(n, b)| ProjectFile::read(n, b))
            .collect::<Vec<_>>()
            .into(),
        appid: UPLOADER.into(),
        ..Input::default()
    };
    let expected: Vec<(String, Vec<u8>)> = compile(&input)
        .unwrap()
        .entries
        .into_iter()
        .map(|(n, b)| {
            let v = b.bytes(&input.files).unwrap().to_vec();
            (n, v)
        })
        .collect();
    assert_eq!(
        &up.files[..expected.len()],
        expected.as_slice(),
        "the emulator unpacked exactly the engine's map"
    );
    assert_eq!(up.files.last().unwrap().0, "/ci.signature");
    assert_eq!(
        world.app_state(UPLOADER).unwrap()["trial"]["user_version"],
        "1.2.3"
    );
}

#[test]
fn preview_saves_the_qr_code_and_names_the_page() {
    let emu = emulator(|a| a);
    let dir = tempfile::tempdir().unwrap();
    let r = cmd(
        &emu,
        dir.path(),
        &[
            "preview",
            "--project-path",
            &sample("sample"),
            "--page-path",
            "pages/index/index",
            "--search-query",
            "a=1&b=2",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // saved as a PNG re-rendered from the code WeChat's JPEG carries, and drawn in the log
    let png = std::fs::read(dir.path().join("preview-qrcode.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let content = kv(&r.stdout)["qrcode-content"].clone();
    assert!(
        content
            .starts_with("https://open.weixin.qq.com/sns/getexpappinfo?appid=wx0123456789abcdef"),
        "{content}"
    );
    assert!(
        r.stderr.contains("scan it with WeChat") && r.stderr.contains('█'),
        "{}",
        r.stderr
    );
    let world = emu.world();
    let up = &world.uploads()[0];
    assert!(up.preview);
    assert_eq!(up.version, "0.0.1");
    let q: std::collections::BTreeMap<_, _> = up.query.iter().cloned().collect();
    assert_eq!(q["path"], "pages/index/index?a=1&b=2");
    // As miniprogram-ci 2.1.42 sent it (tests/fixtures/miniprogram-ci/requests.txt): the query
    // parsed into the launch info as well.
    assert_eq!(
        q["debugLaunchInfo"],
        r#"{"scene":1011,"path":"pages/index/index","query":{"a":"1","b":"2"}}"#
    );
    assert!(
        world.app_state(UPLOADER).unwrap()["trial"].is_null(),
        "a preview is not a version"
    );
    drop(world);
    // Another scene (scanning a mini program code: 1047), and a bad one refused before any call.
    let r = cmd(
        &emu,
        dir.path(),
        &[
            "preview",
            "--project-path",
            &sample("sample"),
            "--scene",
            "1047",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let world = emu.world();
    let q: std::collections::BTreeMap<_, _> = world.uploads()[1].query.iter().cloned().collect();
    assert_eq!(q["debugLaunchInfo"], r#"{"scene":1047}"#);
    drop(world);
    let before = emu.world().journal().len();
    let r = cmd(
        &emu,
        dir.path(),
        &[
            "preview",
            "--project-path",
            &sample("sample"),
            "--scene",
            "12",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("--scene") && r.stderr.contains("1000 to 9999"),
        "{}",
        r.stderr
    );
    assert_eq!(emu.world().journal().len(), before);
}

#[test]
fn ext_app_id_goes_into_the_query_for_a_platform_app() {
    let emu = emulator(|a| AppSpec {
        platform_app: true,
        ..a
    });
    let dir = tempfile::tempdir().unwrap();
    let r = cmd(
        &emu,
        dir.path(),
        &[
            "upload",
            "--project-path",
            &sample("sample4"),
            "--version-from",
            "explicit:2.0.0",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let world = emu.world();
    let q: std::collections::BTreeMap<_, _> = world.uploads()[0].query.iter().cloned().collect();
    assert_eq!(q["extAppId"], "wxaaaaaaaaaaaaaaaa");
    let ext = &world.uploads()[0]
        .files
        .iter()
        .find(|(n, _)| n == "/ext.json")
        .unwrap()
        .1;
    assert!(
        String::from_utf8_lossy(ext).contains("\"extEnable\":true"),
        "platform: ext.json takes effect"
    );
}

#[test]
fn refusals_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    // the IP whitelist: the message names the IP to allow and where
    let emu = emulator(|a| AppSpec {
        upload_ip_whitelist: Some(vec!["203.0.113.9".into()]),
        ..a
    });
    let r = cmd(
        &emu,
        dir.path(),
        &[
            "upload",
            "--project-path",
            &sample("sample"),
            "--version-from",
            "explicit:1.0.0",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("add 127.0.0.1")
            && r.stderr.contains("IP白名单")
            && r.stderr.contains("https-proxy"),
        "{}",
        r.stderr
    );
    // a key that is not the registered one
    let mut w = World::default();
    w.add_app(AppSpec {
        appid: UPLOADER.into(),
        ..AppSpec::default()
    });
    let other = "-----BEGIN PUBLIC KEY-----\nMFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf\n9Cnzj4p4WGeKLs1Pt8QuKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==\n-----END PUBLIC KEY-----\n";
    w.add_upload_key(UPLOADER, other);
    let emu = Emulator::start_with(w);
    let r = cmd(
        &emu,
        dir.path(),
        &[
            "upload",
            "--project-path",
            &sample("sample"),
            "--version-from",
            "explicit:1.0.0",
        ],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("does not match the registered code upload key"),
        "{}",
        r.stderr
    );
}

#[test]
fn bad_upload_inputs_exit_2_before_any_call() {
    let emu = emulator(|a| a);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.key"), "not a key").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "upload",
                "--engine",
                "native",
                "--project-path",
                &sample("sample5"),
                "--version-from",
                "explicit:1.0.0",
            ],
            "useCompilerPlugins",
        ),
        (
            &[
                "upload",
                "--engine",
                "native",
                "--project-path",
                &sample("sample3"),
                "--version-from",
                "explicit:1.0.0",
            ],
            "use engine miniprogram-ci (or auto)",
        ),
        (
            &[
                "upload",
                "--project-path",
                &sample("sample"),
                "--engine",
                "fastest",
                "--version-from",
                "explicit:1.0.0",
            ],
            "--engine",
        ),
        (
            &[
                "upload",
                "--project-path",
                dir.path().to_str().unwrap(),
                "--version-from",
                "explicit:1.0.0",
            ],
            "no project.config.json",
        ),
        (
            &[
                "upload",
                "--project-path",
                &sample("sample"),
                "--robot",
                "31",
                "--version-from",
                "explicit:1.0.0",
            ],
            "--robot",
        ),
        (
            &[
                "preview",
                "--project-path",
                &sample("sample"),
                "--upload-appid",
                "wx1",
            ],
            "--upload-appid",
        ),
    ];
    for (args, says) in cases {
        let r = cmd(&emu, dir.path(), args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{says:?} not in {}", r.stderr);
    }
    // a key that is not PEM (given as a file, after the default one: the later flag is the one read)
    let trap = NetTrap::new();
    let mut c = bin(dir.path(), &trap);
    c.args([
        "upload",
        "--project-path",
        &sample("sample"),
        "--version-from",
        "explicit:1.0.0",
        "--private-key-path",
        "bad.key",
    ])
    .env("INPUT_APPID", UPLOADER)
    .env("MP_RELEASE_UPLOAD_BASE_URL", emu.uri());
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("BEGIN RSA PRIVATE KEY"), "{}", r.stderr);
    assert!(emu.world().journal().is_empty(), "nothing was sent");
}

#[test]
fn run_in_upload_mode_uploads_once_even_across_a_crash() {
    let wx = Wx::new(
        Scenario::default().review(vec![ReviewStep::approve_after_polls(2)]),
        |a| a,
    );
    let project = sample("sample");
    let up_env = [
        ("INPUT_TEMPLATE_ID", ""),
        ("INPUT_PROJECT_PATH", project.as_str()),
    ];
    // the authorized app uploads its own code with the fixture key
    wx.emu.world().add_upload_key(APP, &public_key());
    let key = std::fs::read_to_string(key_path()).unwrap();
    let mut env: Vec<(&str, &str)> = up_env.to_vec();
    env.push(("INPUT_PRIVATE_KEY", key.as_str()));
    let mut crashing = env.clone();
    crashing.push(("MP_RELEASE_CRASH_AFTER", "upload"));
    let stopped = wx.run(&["run", "--state-file", "s.json"], &crashing);
    assert_eq!(stopped.code, 3, "{}", stopped.stderr);
    let r = wx.run(&["run", "--state-file", "s.json"], &env);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.outputs["published"], "true");
    assert_eq!(
        wx.emu.world().uploads().len(),
        1,
        "the upload was read back, not repeated"
    );
    // (the sizes came with the answer the crash lost: a resumed run reports none)
    assert_eq!(r.outputs["package-sizes"], "");
    assert_eq!(
        (
            wx.successes("/wxa/submit_audit"),
            wx.successes("/wxa/release")
        ),
        (1, 1)
    );
    for line in key.lines().filter(|l| !l.starts_with("-----")) {
        assert!(
            !r.stdout
                .lines()
                .filter(|l| !l.starts_with("::add-mask::"))
                .any(|l| l.contains(line))
                && !r.stderr.contains(line)
        );
    }
    // an uninterrupted run reports the package sizes against the limits
    let clean = Wx::new(
        Scenario::default().review(vec![ReviewStep::approve_after_polls(1)]),
        |a| a,
    );
    clean.emu.world().add_upload_key(APP, &public_key());
    let r = clean.run(&["run"], &env);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let sizes: serde_json::Value = serde_json::from_str(&r.outputs["package-sizes"]).unwrap();
    assert_eq!(
        (sizes[1]["name"].as_str(), sizes[1]["limit"].as_u64()),
        (Some("__APP__"), Some(2 * 1024 * 1024))
    );
    assert!(r.summary.contains("| main package |"), "{}", r.summary);
}

/// Upload mode: other code was uploaded earlier as 1.5.0; this run's upload of 1.5.0 gets a 502
/// before WeChat processed it. The trial shows "1.5.0", but not this run's marker: the run uploads
/// again and releases its own code, never the earlier upload.
#[test]
fn a_stale_trial_of_other_code_is_uploaded_over_not_released() {
    let wx = Wx::new(
        Scenario::default()
            .review(vec![ReviewStep::approve_after_polls(1)])
            .fault(
                "/wxa/ci/upload",
                Some(2),
                mp_release_emulator::FaultKind::Http(502),
            ),
        |a| a,
    );
    wx.emu.world().add_upload_key(APP, &public_key());
    let key = std::fs::read_to_string(key_path()).unwrap();
    let (ours, other) = (sample("sample"), sample("sample2"));
    let env = |project: &str| -> Vec<(&'static str, String)> {
        vec![
            ("INPUT_TEMPLATE_ID", String::new()),
            ("INPUT_VERSION_FROM", "explicit:1.5.0".into()),
            ("INPUT_BUMP", "none".into()),
            ("INPUT_PROJECT_PATH", project.into()),
            ("INPUT_PRIVATE_KEY", key.clone()),
        ]
    };
    let mut earlier = env(&other);
    earlier.push(("MP_RELEASE_CRASH_AFTER", "upload".into()));
    let earlier: Vec<(&str, &str)> = earlier.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(wx.run(&["run"], &earlier).code, 3);
    let stale = wx.emu.world().app_state(APP).unwrap()["trial"]["user_desc"].clone();
    let now_env = env(&ours);
    let now: Vec<(&str, &str)> = now_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = wx.run(&["run"], &now);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("without this run's marker"),
        "{}",
        r.stderr
    );
    let live = wx.emu.world().app_state(APP).unwrap()["live"].clone();
    assert_eq!(live["user_version"], "1.5.0");
    let marker = mp_release_core::identity::files(
        listing(&ours)
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice())),
    );
    let desc = live["user_desc"].as_str().unwrap();
    assert!(
        desc.contains(&marker),
        "the live code is this run's: {desc}"
    );
    assert_ne!(live["user_desc"], stale, "not the earlier upload");
    assert_eq!(
        wx.emu.world().uploads().len(),
        2,
        "the earlier one and ours (the 502 was not processed)"
    );
}

/// Names the package cannot carry stop the upload before any request, naming the files: a
/// backslash, a name that is not UTF-8, two names equal in Unicode composed form. Skipped symbolic
/// links are listed in a warning.
#[test]
fn odd_file_names_are_refused_before_any_request() {
    use std::os::unix::ffi::OsStrExt;
    type Make<'a> = &'a dyn Fn(&Path);
    let cases: [(&str, Make, &[&str]); 3] = [
        (
            "backslash",
            &|p: &Path| std::fs::write(p.join("..\\..\\x.js"), "1").unwrap(),
            &["..\\\\..\\\\x.js", "backslash"],
        ),
        (
            "not utf-8",
            &|p: &Path| {
                std::fs::write(p.join(std::ffi::OsStr::from_bytes(b"bad\xff.js")), "1").unwrap();
            },
            &["not UTF-8"],
        ),
        (
            "composition",
            &|p: &Path| {
                std::fs::write(p.join("caf\u{e9}.js"), "1").unwrap();
                std::fs::write(p.join("cafe\u{301}.js"), "2").unwrap();
            },
            &["café.js", "composed form"],
        ),
    ];
    for (name, make, says) in cases {
        let emu = emulator(|a| a);
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("p");
        copy_dir(Path::new(&sample("sample")), &project);
        make(&project);
        let r = cmd(
            &emu,
            dir.path(),
            &[
                "upload",
                "--project-path",
                project.to_str().unwrap(),
                "--version-from",
                "explicit:1.0.0",
            ],
        );
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        for s in says {
            assert!(r.stderr.contains(s), "{name}: {s:?} in {}", r.stderr);
        }
        assert!(emu.world().journal().is_empty(), "{name}: nothing was sent");
    }
    // a plain accent next to its unaccented twin is no collision
    let emu = emulator(|a| a);
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("p");
    copy_dir(Path::new(&sample("sample")), &project);
    std::fs::write(project.join("caf\u{e9}.js"), "1").unwrap();
    std::fs::write(project.join("cafe.js"), "2").unwrap();
    std::os::unix::fs::symlink("/etc/hostname", project.join("linked.js")).unwrap();
    let r = cmd(
        &emu,
        dir.path(),
        &[
            "upload",
            "--project-path",
            project.to_str().unwrap(),
            "--version-from",
            "explicit:1.0.0",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("symbolic link(s)") && r.stderr.contains("linked.js"),
        "{}",
        r.stderr
    );
}

/// The upload host's client follows the shared rule: a redirect is never followed, whatever the
/// call (the signed package would go to the host the answer names), and it is exit 3.
#[test]
fn upload_host_redirects_are_not_followed() {
    for endpoint in ["/wxa/ci/getrandstr", "/wxa/ci/upload"] {
        let elsewhere = NetTrap::new();
        let redirect = mp_release_emulator::FaultKind::Redirect {
            status: 302,
            location: format!("{}/upload", elsewhere.url),
        };
        let emu = emulator_with(Scenario::default().fault(endpoint, None, redirect), |a| a);
        let dir = tempfile::tempdir().unwrap();
        let r = cmd(
            &emu,
            dir.path(),
            &[
                "upload",
                "--project-path",
                &sample("sample"),
                "--version-from",
                "explicit:1.0.0",
            ],
        );
        assert_eq!(r.code, 3, "{endpoint}: {}", r.stderr);
        assert!(
            r.stderr
                .contains(&format!("HTTP 302 redirect to {}", elsewhere.url)),
            "{endpoint}: {}",
            r.stderr
        );
        assert_eq!(elsewhere.connections(), 0, "{endpoint}");
        assert!(emu.world().uploads().is_empty());
    }
}

/// Large binary files go into the body as stored blocks read while it is sent: they reach the
/// emulator intact next to compressed text (one that changes size after it was listed fails the
/// body: the unit test `gzip::tests::stored_files_are_read_when_written_and_must_not_change`).
#[test]
fn large_binaries_are_streamed_intact() {
    let emu = emulator(|a| a);
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("p");
    copy_dir(Path::new(&sample("sample")), &project);
    let mut x = 0x9e37_79b9_u32;
    let noise: Vec<u8> = (0..300_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    std::fs::create_dir_all(project.join("images")).unwrap();
    std::fs::write(project.join("images/big.png"), &noise).unwrap();
    std::fs::write(project.join("images/small.png"), &noise[..1000]).unwrap();
    std::fs::write(project.join("images/empty.png"), b"").unwrap();
    let p = project.to_string_lossy().into_owned();
    let r = cmd(
        &emu,
        dir.path(),
        &[
            "upload",
            "--project-path",
            &p,
            "--version-from",
            "explicit:1.0.0",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let w = emu.world();
    let up = w.uploads().last().unwrap();
    let get = |n: &str| {
        up.files
            .iter()
            .find(|(f, _)| f == n)
            .map(|(_, b)| b.clone())
    };
    assert_eq!(get("/images/big.png").as_deref(), Some(noise.as_slice()));
    assert_eq!(get("/images/small.png").as_deref(), Some(&noise[..1000]));
    assert_eq!(get("/images/empty.png").as_deref(), Some(&b""[..]));
    assert_eq!(
        get("/app.js").as_deref(),
        Some(std::fs::read(project.join("app.js")).unwrap().as_slice())
    );
}

/// The streamed body is sent with a Content-Length, as the official client sends it (never
/// chunked: WeChat's upload host is not known to take chunked bodies), and its length is the
/// gzip's.
#[test]
fn the_upload_body_has_a_content_length() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(async {
        let s = MockServer::start().await;
        let ok = |v: serde_json::Value| ResponseTemplate::new(200).set_body_json(v);
        Mock::given(method("POST"))
            .and(path("/wxa/ci/getrandstr"))
            .respond_with(ok(
                serde_json::json!({"errCode": 0, "data": {"randomString": "r4nd"}}),
            ))
            .mount(&s)
            .await;
        Mock::given(method("POST"))
            .and(path("/wxa/ci/getattr"))
            .respond_with(ok(serde_json::json!({"errCode": 0, "data": {}})))
            .mount(&s)
            .await;
        Mock::given(method("GET"))
            .and(path("/wxa/ci/getwhiteextlist"))
            .respond_with(ok(serde_json::json!({"errCode": 0, "data": {}})))
            .mount(&s)
            .await;
        Mock::given(method("POST"))
            .and(path("/wxa/ci/upload"))
            .respond_with(ok(
                serde_json::json!({"errCode": 0, "body": {"subpackage_info": []}}),
            ))
            .mount(&s)
            .await;
        s
    });
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("p");
    copy_dir(Path::new(&sample("sample")), &project);
    std::fs::create_dir_all(project.join("images")).unwrap();
    std::fs::write(project.join("images/big.png"), vec![7u8; 200_000]).unwrap();
    let trap = NetTrap::new();
    let mut c = bin(dir.path(), &trap);
    c.args([
        "upload",
        "--engine",
        "native",
        "--version-from",
        "explicit:1.0.0",
        "--project-path",
    ])
    .arg(&project)
    .arg("--private-key-path")
    .arg(key_path())
    .env("INPUT_APPID", UPLOADER)
    .env("MP_RELEASE_UPLOAD_BASE_URL", server.uri());
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let got = rt.block_on(server.received_requests()).unwrap();
    let up = got
        .iter()
        .find(|r| r.url.path() == "/wxa/ci/upload")
        .unwrap();
    let length = up
        .headers
        .get("content-length")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(length, Some(up.body.len().to_string()), "{:?}", up.headers);
    assert!(
        up.headers.get("transfer-encoding").is_none(),
        "{:?}",
        up.headers
    );
    assert_eq!(&up.body[..2], &[0x1f, 0x8b], "a gzip body");
}
