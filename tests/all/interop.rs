//! The real miniprogram-ci (pinned, installed by scripts/install-miniprogram-ci.sh, which this test
//! runs) against the emulator, reached unchanged as an HTTPS proxy with a test CA:
//!
//! - interop: it uploads and previews every sample project; the emulator verifies its signatures
//!   and unpacks its packs;
//! - differential: for every sample inside the native engine's subset, the native upload (this
//!   binary) and the official one give the same file map as seen by the emulator — same names,
//!   order and bytes, the `__warning__` strings the official tool writes included.

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
    emulator_in(platform, Scenario::default())
}

fn emulator_in(platform: bool, scenario: Scenario) -> (Emulator, tempfile::TempDir) {
    let mut w = World::new(scenario);
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
    let project = fixtures().join("sample-projects").join(sample);
    match official_on(module, emu, dir, &project, preview, &json!({})) {
        Ok(v) => v,
        Err(e) => panic!("{sample} (preview {preview}) failed:\n{e}"),
    }
}

/// Runs the official tool on `project` (extra request fields in `extra`); its result JSON, or
/// its output when it failed.
fn official_on(
    module: &Path,
    emu: &Emulator,
    dir: &Path,
    project: &Path,
    preview: bool,
    extra: &Value,
) -> Result<Value, String> {
    let sample = project.file_name().unwrap().to_string_lossy().into_owned();
    let mut request = json!({
        "module": module,
        "appid": APPID,
        "projectPath": project,
        "privateKeyPath": fixtures().join("keys/private.wx0123456789abcdef.key"),
        "version": "1.0.0",
        "robot": 3,
        "preview": preview,
        "qrcodeOutputDest": dir.join(format!("{sample}-qr.jpg")),
        "pagePath": "pages/index/index",
    });
    for (k, v) in extra.as_object().into_iter().flatten() {
        request[k] = v.clone();
    }
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
    if out.status.success() && v.get("result").is_some() {
        Ok(v["result"].clone())
    } else {
        Err(format!(
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn run_native(emu: &Emulator, dir: &Path, sample: &str) {
    let r = native_on(emu, dir, &fixtures().join("sample-projects").join(sample));
    assert_eq!(r.code, 0, "native upload of {sample}: {}", r.stderr);
}

/// The native engine (`--engine native`) on `project`.
fn native_on(emu: &Emulator, dir: &Path, project: &Path) -> Run {
    let trap = NetTrap::new();
    let mut c = bin(dir, &trap);
    c.args(["upload", "--engine", "native", "--project-path"])
        .arg(project)
        .arg("--private-key-path")
        .arg(fixtures().join("keys/private.wx0123456789abcdef.key"))
        .args(["--version-from", "explicit:1.0.0", "--robot", "3"])
        .env("INPUT_APPID", APPID)
        .env("MP_RELEASE_UPLOAD_BASE_URL", emu.uri());
    run(c)
}

/// The file map without the signature, as text (exact: `__warning__` strings included).
fn map(up: &UploadRecord) -> Vec<(String, String)> {
    up.files
        .iter()
        .filter(|(n, _)| n != "/ci.signature")
        .map(|(n, b)| (n.clone(), String::from_utf8_lossy(b).into_owned()))
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

/// Writes a project: `(path, content)` pairs under `dir`.
fn write_project(dir: &Path, files: &[(String, String)]) {
    for (p, c) in files {
        let path = dir.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, c).unwrap();
    }
}

fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(p, c)| ((*p).to_owned(), (*c).to_owned()))
        .collect()
}

/// A page or component: `.js` and `.wxml` (and the `.json` when given).
fn unit(path: &str, json: Option<&str>) -> Vec<(String, String)> {
    let mut v = vec![
        (format!("{path}.js"), "Component({})\n".to_owned()),
        (format!("{path}.wxml"), "<view/>\n".to_owned()),
    ];
    if let Some(j) = json {
        v.push((format!("{path}.json"), j.to_owned()));
    }
    v
}

const CONFIG: &str = r#"{"appid":"wx0123456789abcdef","compileType":"miniprogram","setting":{"es6":false,"postcss":false,"minified":false}}"#;

/// One project per packing rule of the issue (names, order, component JSON, `./`, extended libs,
/// skyline, appBar, workers).
fn rule_projects() -> Vec<(&'static str, Vec<(String, String)>)> {
    let mut out = Vec::new();
    // 1. Path order: names that are a prefix of a sibling followed by a character below `/`.
    let mut order = files(&[
        ("project.config.json", CONFIG),
        ("app.json", r#"{"pages":["pages/index/index"]}"#),
        ("a.js", "1"),
        ("a-b.js", "1"),
        ("a/b.js", "1"),
        ("a.b/c.js", "1"),
        ("components/patch.wxss", ".p{}"),
        ("components/patch/x.js", "1"),
        ("components/cell.wxss", ".c{}"),
        ("img/x-y.png", "png"),
        ("img/x/y.png", "png"),
        ("img/x.png", "png"),
    ]);
    order.extend(unit("pages/index/index", None));
    order.extend(unit("components/cell/index", Some(r#"{"component":true}"#)));
    order.extend(unit(
        "components/cell-group/index",
        Some(r#"{"component":true}"#),
    ));
    out.push(("order", order));
    // 2. Component JSON order: pages out of name order, subpackages, global components,
    // components shared by pages, nested four levels, npm components, a page used as a component.
    let mut walk = files(&[
        ("project.config.json", CONFIG),
        (
            "app.json",
            r#"{"pages":["pages/b/index","pages/a/index"],"usingComponents":{"g":"/components/glob/index"},"subPackages":[{"root":"s2","pages":["p/index"]},{"root":"s1","pages":["p/index"]}]}"#,
        ),
        ("app.js", "App({})"),
    ]);
    walk.extend(unit("pages/b/index", Some(r#"{"usingComponents":{"x":"../../components/cell/index","y":"/components/cell-group/index","z":"lib/btn","p":"/pages/a/index"}}"#)));
    walk.extend(unit("pages/a/index", Some(r#"{"usingComponents":{"x":"../../components/deep1/index","w":"../../components/shared/index"}}"#)));
    walk.extend(unit("s1/p/index", Some(r#"{"usingComponents":{"s":"../../components/shared/index","d":"/components/deep3/index"}}"#)));
    walk.extend(unit(
        "s2/p/index",
        Some(r#"{"usingComponents":{"d":"/components/deep4/index"}}"#),
    ));
    for (c, json) in [
        (
            "cell",
            r#"{"component":true,"usingComponents":{"s":"../shared/index"}}"#,
        ),
        ("cell-group", r#"{"component":true}"#),
        (
            "glob",
            r#"{"component":true,"usingComponents":{"d":"../deep2/index"}}"#,
        ),
        ("shared", r#"{"component":true}"#),
        (
            "deep1",
            r#"{"component":true,"usingComponents":{"d":"../deep2/index","e":"../cell-group/index"}}"#,
        ),
        (
            "deep2",
            r#"{"component":true,"usingComponents":{"d":"../deep3/index"}}"#,
        ),
        (
            "deep3",
            r#"{"component":true,"usingComponents":{"d":"../deep4/index"}}"#,
        ),
        ("deep4", r#"{"component":true}"#),
    ] {
        walk.extend(unit(&format!("components/{c}/index"), Some(json)));
    }
    walk.extend(unit(
        "miniprogram_npm/lib/btn/index",
        Some(r#"{"component":true,"usingComponents":{"i":"../icon/index"}}"#),
    ));
    walk.extend(unit(
        "miniprogram_npm/lib/icon/index",
        Some(r#"{"component":true}"#),
    ));
    out.push(("walk", walk));
    // 3. `./` for relative values without a leading `/`, `./` or `../`.
    let mut dot = files(&[
        ("project.config.json", CONFIG),
        (
            "app.json",
            r#"{"pages":["pages/index/index"],"usingComponents":{"h":"miniprogram_npm/mp-html/index","c":"components/c/index"},"subPackages":[{"root":"sub","pages":["p/index"]}]}"#,
        ),
    ]);
    dot.extend(unit("pages/index/index", Some(r#"{"usingComponents":{"l":"local/x","g":"mp-html"},"componentGenerics":{"sel":{"default":"local/x"}}}"#)));
    dot.extend(unit("pages/index/local/x", Some(r#"{"component":true}"#)));
    dot.extend(unit(
        "sub/p/index",
        Some(r#"{"usingComponents":{"c":"parts/c"}}"#),
    ));
    dot.extend(unit("sub/p/parts/c", Some(r#"{"component":true}"#)));
    dot.extend(unit("components/c/index", Some(r#"{"component":true}"#)));
    dot.extend(unit(
        "miniprogram_npm/mp-html/index",
        Some(r#"{"component":true,"usingComponents":{"n":"./node/node"}}"#),
    ));
    dot.extend(unit(
        "miniprogram_npm/mp-html/node/node",
        Some(r#"{"component":true}"#),
    ));
    out.push(("dot-slash", dot));
    // 4. useExtendedLib: references to the extended libraries are rewritten, never looked for.
    let mut ext = files(&[
        ("project.config.json", CONFIG),
        (
            "app.json",
            r#"{"pages":["pages/index/index"],"useExtendedLib":{"weui":true},"usingComponents":{"b":"weui-miniprogram/badge/badge"},"subPackages":[{"root":"k","pages":["p/index"],"useExtendedLib":{"kbone":true}}]}"#,
        ),
    ]);
    ext.extend(unit("pages/index/index", Some(r#"{"usingComponents":{"d":"weui-miniprogram/dialog/dialog","a":"/miniprogram_npm/weui-miniprogram/slideview/slideview"}}"#)));
    ext.extend(unit("k/p/index", Some(r#"{"usingComponents":{"e":"miniprogram-element","d":"weui-miniprogram/dialog/dialog"}}"#)));
    out.push(("extended-lib", ext));
    // 5. Skyline: pages get disableScroll/navigationStyle; components reached from a page whose
    // own JSON says skyline get the renderer (xr-frame ones are left alone); app-wide skyline.
    let mut sky = files(&[
        ("project.config.json", CONFIG),
        (
            "app.json",
            r#"{"pages":["pages/sky/index","pages/web/index","pages/own/index"],"lazyCodeLoading":"requiredComponents","componentFramework":"glass-easel","window":{"navigationStyle":"custom","navigationBarTitleText":"t"}}"#,
        ),
    ]);
    sky.extend(unit("pages/sky/index", Some(r#"{"renderer":"skyline","usingComponents":{"s":"../../components/skyc/index","x":"../../components/xr/index"},"componentGenerics":{"g":{"default":"../../components/gen/index"}}}"#)));
    sky.extend(unit(
        "pages/web/index",
        Some(r#"{"usingComponents":{"p":"../../components/plain/index"}}"#),
    ));
    sky.extend(unit(
        "pages/own/index",
        Some(r#"{"renderer":"skyline","disableScroll":false,"navigationStyle":"custom"}"#),
    ));
    for (c, json) in [
        (
            "skyc",
            r#"{"component":true,"usingComponents":{"d":"../skyd/index"}}"#,
        ),
        ("skyd", r#"{"usingComponents":{},"component":true}"#),
        (
            "xr",
            r#"{"component":true,"renderer":"xr-frame","usingComponents":{"d":"../skyd/index"}}"#,
        ),
        ("gen", r#"{"component":true}"#),
        ("plain", r#"{"component":true}"#),
    ] {
        sky.extend(unit(&format!("components/{c}/index"), Some(json)));
    }
    out.push(("skyline", sky));
    let mut app_sky = files(&[
        ("project.config.json", CONFIG),
        (
            "app.json",
            r#"{"pages":["pages/a/index","pages/b/index"],"renderer":"skyline","rendererOptions":{"skyline":{"defaultDisplayBlock":true}},"lazyCodeLoading":"requiredComponents","componentFramework":"glass-easel"}"#,
        ),
    ]);
    app_sky.extend(unit(
        "pages/a/index",
        Some(r#"{"usingComponents":{"c":"/components/c/index"}}"#),
    ));
    app_sky.extend(unit("pages/b/index", Some(r#"{"renderer":"webview"}"#)));
    app_sky.extend(unit("components/c/index", Some(r#"{"component":true}"#)));
    out.push(("skyline-app", app_sky));
    // 6. appBar.
    let mut bar = files(&[
        ("project.config.json", CONFIG),
        (
            "app.json",
            r#"{"pages":["pages/index/index"],"appBar":{},"usingComponents":{"c":"/components/c"}}"#,
        ),
    ]);
    bar.extend(unit("pages/index/index", Some(r#"{"usingComponents":{}}"#)));
    bar.extend(unit(
        "app-bar/index",
        Some(r#"{ "component": true, "usingComponents": { "c": "../components/c" } }"#),
    ));
    bar.extend(unit("components/c/index", Some(r#"{"component":true}"#)));
    out.push(("app-bar", bar));
    // Unknown keys: the official `__warning__` strings (top level, window, tabBar and its list,
    // subpackages, pages), joined with ext.json's when the appid is not a platform's.
    let mut warn = files(&[
        ("project.config.json", CONFIG),
        (
            "app.json",
            r#"{"pages":["pages/a/index","pages/b/index"],"zeta":1,"window":{"foo":1,"navigationBarTitleText":"x","bar":2},"navigateToMiniProgramAppIdList":["wx1"],"tabBar":{"list":[{"pagePath":"pages/a/index","text":"a","badge":1},{"pagePath":"pages/b/index","text":"b"}],"extra":true},"subpackages":[{"root":"sub","pages":["p/index"],"note":"n"}],"alpha":{}}"#,
        ),
        (
            "ext.json",
            r#"{"extEnable":true,"extAppid":"wxaaaaaaaaaaaaaaaa","ext":{"a":1}}"#,
        ),
    ]);
    warn.extend(unit(
        "pages/a/index",
        Some(r#"{"enableShareAppMessage":true,"navigationBarTitleText":"a","zz":{"k":1}}"#),
    ));
    warn.extend(unit("pages/b/index", Some(r#"{"usingComponents":{}}"#)));
    warn.extend(unit("sub/p/index", Some(r#"{"yy":1,"component":true}"#)));
    out.push(("warnings", warn));
    // Theme variables (kept as written: the theme is applied by WeChat), resolveAlias, darkmode.
    let mut theme = files(&[
        ("project.config.json", CONFIG),
        (
            "app.json",
            r#"{"pages":["pages/a/index"],"themeLocation":"theme.json","window":{"navigationBarBackgroundColor":"@navBg","navigationBarTextStyle":"@navTxt"},"resolveAlias":{"~/*":"/*"},"darkmode":true,"style":"v2","sitemapLocation":"sitemap.json"}"#,
        ),
        (
            "theme.json",
            r##"{"light":{"navBg":"#ffffff","navTxt":"black"},"dark":{"navBg":"#000000","navTxt":"white"}}"##,
        ),
        (
            "sitemap.json",
            r#"{"rules":[{"action":"allow","page":"*"}]}"#,
        ),
    ]);
    theme.extend(unit(
        "pages/a/index",
        Some(r#"{"usingComponents":{"c":"/components/c/index"},"backgroundColor":"@navBg"}"#),
    ));
    theme.extend(unit("components/c/index", Some(r#"{"component":true}"#)));
    out.push(("theme", theme));
    // 7. workers, the string form and the object form.
    for (name, workers) in [
        ("workers", r#""workers""#),
        (
            "workers-object",
            r#"{"path":"workers","isSubpackage":true}"#,
        ),
    ] {
        let mut w = files(&[
            ("project.config.json", CONFIG),
            ("workers/index.js", "worker.onMessage(function () {})"),
            ("workers/lib/util.js", "module.exports = 1"),
        ]);
        w.push((
            "app.json".into(),
            format!(r#"{{"pages":["pages/index/index"],"workers":{workers}}}"#),
        ));
        w.extend(unit("pages/index/index", None));
        out.push((name, w));
    }
    out
}

/// The large mixed project: 200+ files, npm components (nested), 6 subpackages (one
/// independent), components shared by pages and nested, skyline pages, workers, appBar, a custom
/// tab bar, useExtendedLib and ext.json.
fn large_project() -> Vec<(String, String)> {
    let mut f = files(&[
        (
            "project.config.json",
            r#"{"appid":"wx0123456789abcdef","compileType":"miniprogram","miniprogramRoot":"miniprogram/","setting":{"es6":false,"minified":false}}"#,
        ),
        ("miniprogram/app.js", "App({ onLaunch() {} })\n"),
        ("miniprogram/app.wxss", "page { color: #333; }\n"),
        (
            "miniprogram/sitemap.json",
            r#"{"rules":[{"action":"allow","page":"*"}]}"#,
        ),
        (
            "miniprogram/ext.json",
            r#"{"extEnable":true,"extAppid":"wxaaaaaaaaaaaaaaaa","ext":{"shop":"s1"},"window":{"navigationBarTitleText":"Shop"},"extPages":{"pages/index/index":{"navigationBarTitleText":"Home"}}}"#,
        ),
        (
            "miniprogram/workers/index.js",
            "worker.onMessage(function (m) { worker.postMessage(m) })\n",
        ),
        (
            "miniprogram/workers/calc.js",
            "module.exports = function (a) { return a * 2 }\n",
        ),
        (
            "cloudfunctions/login/index.js",
            "exports.main = async () => ({})\n",
        ),
        ("README.md", "# large\n"),
    ]);
    let mut app_subs = Vec::new();
    let mut tab = Vec::new();
    let main_pages = [
        "pages/index/index",
        "pages/cart/index",
        "pages/user/index",
        "pages/sky/index",
    ];
    for (i, p) in main_pages.iter().enumerate() {
        let json = match i {
            0 => r#"{"usingComponents":{"card":"/components/card/index","badge":"weui-miniprogram/badge/badge","vbtn":"@vant/weapp/button"}}"#.to_owned(),
            3 => r#"{"renderer":"skyline","componentFramework":"glass-easel","usingComponents":{"tile":"../../components/tile/index"}}"#.to_owned(),
            _ => format!(r#"{{"navigationBarTitleText":"p{i}","usingComponents":{{"list":"../../components/list/index","cell":"../../components/cell"}}}}"#),
        };
        f.extend(unit(&format!("miniprogram/{p}"), Some(&json)));
        f.push((
            format!("miniprogram/{p}.wxss"),
            ".page { padding: 8rpx; }\n".into(),
        ));
        if i < 3 {
            tab.push(format!(
                r#"{{"pagePath":"{p}","text":"t{i}","iconPath":"images/tab{i}.png"}}"#
            ));
            f.push((format!("miniprogram/images/tab{i}.png"), format!("PNG{i}")));
        }
    }
    for s in 0..6 {
        let root = format!("pkg{s}");
        let mut pages = Vec::new();
        for p in 0..5 {
            let page = format!("pages/p{p}/index");
            let json = format!(
                r#"{{"navigationBarTitleText":"{s}-{p}","usingComponents":{{"card":"/components/card/index","row":"../../components/row/index","item":"item{p}"}}}}"#
            );
            f.extend(unit(&format!("miniprogram/{root}/{page}"), Some(&json)));
            f.extend(unit(
                &format!("miniprogram/{root}/pages/p{p}/item{p}"),
                Some(r#"{"component":true,"usingComponents":{"tile":"/components/tile/index"}}"#),
            ));
            pages.push(format!(r#""{page}""#));
        }
        f.extend(unit(
            &format!("miniprogram/{root}/components/row/index"),
            Some(r#"{"component":true,"usingComponents":{"cell":"/components/cell/index"}}"#),
        ));
        let independent = if s == 5 { r#","independent":true"# } else { "" };
        app_subs.push(format!(
            r#"{{"root":"{root}","name":"n{s}","pages":[{}]{independent}}}"#,
            pages.join(",")
        ));
    }
    for (c, json) in [
        (
            "card",
            r#"{"component":true,"usingComponents":{"list":"../list/index","vicon":"@vant/weapp/icon"}}"#,
        ),
        (
            "list",
            r#"{"component":true,"usingComponents":{"cell":"../cell/index","cell-group":"../cell-group/index"}}"#,
        ),
        (
            "cell",
            r#"{"component":true,"usingComponents":{"tile":"../tile/index"}}"#,
        ),
        ("cell-group", r#"{"component":true}"#),
        (
            "tile",
            r#"{"component":true,"usingComponents":{"leaf":"./leaf"}}"#,
        ),
    ] {
        f.extend(unit(
            &format!("miniprogram/components/{c}/index"),
            Some(json),
        ));
        f.push((
            format!("miniprogram/components/{c}/index.wxss"),
            ".c { margin: 0; }\n".into(),
        ));
    }
    f.extend(unit(
        "miniprogram/components/tile/leaf",
        Some(r#"{"component":true}"#),
    ));
    for (c, json) in [
        (
            "button/index",
            r#"{"component":true,"usingComponents":{"van-icon":"../icon/index","van-loading":"../loading/index"}}"#,
        ),
        (
            "icon/index",
            r#"{"component":true,"usingComponents":{"van-info":"../info/index"}}"#,
        ),
        ("loading/index", r#"{"component":true}"#),
        ("info/index", r#"{"component":true}"#),
    ] {
        f.extend(unit(
            &format!("miniprogram/miniprogram_npm/@vant/weapp/{c}"),
            Some(json),
        ));
        f.push((
            format!("miniprogram/miniprogram_npm/@vant/weapp/{c}.wxss"),
            "@import '../common/index.wxss';\n".into(),
        ));
    }
    f.push((
        "miniprogram/miniprogram_npm/@vant/weapp/common/index.wxss".into(),
        ".van { display: block; }\n".into(),
    ));
    f.push((
        "miniprogram/miniprogram_npm/@vant/weapp/wxs/utils.wxs".into(),
        "module.exports = {};\n".into(),
    ));
    f.extend(unit(
        "miniprogram/app-bar/index",
        Some(r#"{"component":true,"usingComponents":{"card":"../components/card/index"}}"#),
    ));
    f.extend(unit(
        "miniprogram/custom-tab-bar/index",
        Some(r#"{"component":true}"#),
    ));
    for i in 0..40 {
        f.push((
            format!("miniprogram/images/pic-{i}.jpg"),
            format!("JPEG{i}"),
        ));
        f.push((
            format!("miniprogram/data/d{i}.json"),
            format!(r#"{{"n":{i}}}"#),
        ));
    }
    f.push(("miniprogram/app.json".into(), format!(
        r#"{{"pages":[{}],"subpackages":[{}],"lazyCodeLoading":"requiredComponents","useExtendedLib":{{"weui":true}},"appBar":{{}},"workers":"workers","tabBar":{{"custom":true,"list":[{}]}},"usingComponents":{{"cell":"components/cell/index"}},"preloadRule":{{"pages/index/index":{{"packages":["n0","pkg1"]}}}},"sitemapLocation":"sitemap.json"}}"#,
        main_pages.iter().map(|p| format!(r#""{p}""#)).collect::<Vec<_>>().join(","),
        app_subs.join(","),
        tab.join(",")
    )));
    f
}

/// The file maps of the last two uploads must be the same (the official one first).
fn assert_same_map(emu: &Emulator, what: &str) {
    let w = emu.world();
    let n = w.uploads().len();
    let (theirs, ours) = (map(&w.uploads()[n - 2]), map(&w.uploads()[n - 1]));
    let names = |m: &[(String, String)]| m.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&ours), names(&theirs), "{what}: names and order");
    for (a, b) in ours.iter().zip(&theirs) {
        assert_eq!(a, b, "{what}: {}", a.0);
    }
}

/// Each packing rule, and all of them in one large project, against the real miniprogram-ci:
/// the same map, name for name, byte for byte, in the same order.
#[test]
fn the_native_engine_packs_what_miniprogram_ci_packs_rule_by_rule() {
    let module = official();
    let mut projects = rule_projects();
    projects.push(("large", large_project()));
    for platform in [false, true] {
        let (emu, dir) = emulator(platform);
        for (name, list) in &projects {
            if platform && *name != "large" {
                continue;
            }
            let project = dir.path().join(name);
            write_project(&project, list);
            if let Err(e) = official_on(&module, &emu, dir.path(), &project, false, &json!({})) {
                panic!("miniprogram-ci refused {name}: {e}");
            }
            let r = native_on(&emu, dir.path(), &project);
            assert_eq!(r.code, 0, "native engine on {name}: {}", r.stderr);
            assert_same_map(&emu, &format!("{name} (platform {platform})"));
        }
    }
    let count = large_project().len();
    assert!(count >= 200, "the large project has {count} files");
}

/// Projects miniprogram-ci refuses before packing: the native engine refuses each with exit 2,
/// names the file, the key and the missing path, and sends nothing (the emulator's journal).
#[test]
fn broken_projects_are_refused_before_anything_is_sent() {
    let module = official();
    let base = || {
        let mut f = files(&[
            ("project.config.json", CONFIG),
            ("app.js", "App({})"),
            ("icon.png", "png"),
            ("workers/w.js", "1"),
        ]);
        for p in ["pages/a/index", "pages/b/index", "sub/p/index"] {
            f.extend(unit(p, None));
        }
        f.extend(unit("components/c/index", Some(r#"{"component":true}"#)));
        f
    };
    let a = r#"["pages/a/index"]"#;
    /// (name, app.json, another file, what the refusal says)
    type Case<'a> = (&'a str, String, Option<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        ("component missing (app.json)", format!(r#"{{"pages":{a},"usingComponents":{{"x":"/components/nope/index"}}}}"#), None, "app.json: [\"usingComponents\"][\"x\"]: \"/components/nope/index\": component not found"),
        ("component missing (page)", format!(r#"{{"pages":{a}}}"#), Some(("pages/a/index.json", r#"{"usingComponents":{"x":"../../components/nope"}}"#)), "pages/a/index.json: [\"usingComponents\"][\"x\"]"),
        ("component without .wxml", format!(r#"{{"pages":{a}}}"#), Some(("pages/a/index.json", r#"{"usingComponents":{"x":"/components/c/index","y":"/pages/b/index.js"}}"#)), "[\"usingComponents\"][\"y\"]"),
        ("npm component missing", format!(r#"{{"pages":{a}}}"#), Some(("pages/a/index.json", r#"{"usingComponents":{"x":"vant/button"}}"#)), "miniprogram_npm/vant/button"),
        ("preloadRule page", format!(r#"{{"pages":{a},"subPackages":[{{"root":"sub","pages":["p/index"]}}],"preloadRule":{{"pages/zz/index":{{"packages":["sub"]}}}}}}"#), None, "[\"preloadRule\"][\"pages/zz/index\"]"),
        ("preloadRule package", format!(r#"{{"pages":{a},"subPackages":[{{"root":"sub","pages":["p/index"]}}],"preloadRule":{{"pages/a/index":{{"packages":["nosuch"]}}}}}}"#), None, "[\"packages\"][0]: nosuch/"),
        ("tabBar page", r#"{"pages":["pages/a/index","pages/b/index"],"tabBar":{"list":[{"pagePath":"pages/a/index","text":"a"},{"pagePath":"pages/zz/index","text":"b"}]}}"#.into(), None, "\"pages/zz/index\" needs to be in [\"pages\"]"),
        ("tabBar of one", format!(r#"{{"pages":{a},"tabBar":{{"list":[{{"pagePath":"pages/a/index","text":"a"}}]}}}}"#), None, "at least 2"),
        ("tabBar icon", r#"{"pages":["pages/a/index","pages/b/index"],"tabBar":{"list":[{"pagePath":"pages/a/index","text":"a","iconPath":"nope.png"},{"pagePath":"pages/b/index","text":"b"}]}}"#.into(), None, "[\"iconPath\"]: \"nope.png\" not found"),
        ("entryPagePath", format!(r#"{{"pages":{a},"entryPagePath":"pages/zz/index"}}"#), None, "[\"entryPagePath\"]: \"pages/zz/index\""),
        ("page twice", r#"{"pages":["pages/a/index","pages/a/index"]}"#.into(), None, "repeated"),
        ("page missing", r#"{"pages":["pages/a/index","pages/zz/index"]}"#.into(), None, "pages/zz/index.wxml does not exist"),
        ("main page in a subpackage", r#"{"pages":["pages/a/index","sub/p/index"],"subPackages":[{"root":"sub","pages":["p/index"]}]}"#.into(), None, "[\"pages\"][1]: \"sub/p/index\""),
        ("subpackage root missing", format!(r#"{{"pages":{a},"subPackages":[{{"root":"nosub","pages":["p/index"]}}]}}"#), None, "nosub/ does not exist"),
        ("subpackage root with /", format!(r#"{{"pages":{a},"subPackages":[{{"root":"/sub","pages":["p/index"]}}]}}"#), None, "\"/sub\" must not start with /"),
        ("workers missing", format!(r#"{{"pages":{a},"workers":"nowhere"}}"#), None, "[\"workers\"]"),
        ("openDataContext missing", format!(r#"{{"pages":{a},"openDataContext":"odc"}}"#), None, "[\"openDataContext\"]"),
        ("skyline page without lazyCodeLoading", format!(r#"{{"pages":{a}}}"#), Some(("pages/a/index.json", r#"{"renderer":"skyline","componentFramework":"glass-easel"}"#)), "lazyCodeLoading"),
        ("skyline app without rendererOptions", format!(r#"{{"pages":{a},"renderer":"skyline","lazyCodeLoading":"requiredComponents","componentFramework":"glass-easel"}}"#), None, "rendererOptions"),
        ("skyline page with a navigation bar", format!(r#"{{"pages":{a},"lazyCodeLoading":"requiredComponents"}}"#), Some(("pages/a/index.json", r#"{"renderer":"skyline","componentFramework":"glass-easel","navigationBarTitleText":"x"}"#)), "navigationStyle"),
        ("skyline page without glass-easel", format!(r#"{{"pages":{a},"lazyCodeLoading":"requiredComponents"}}"#), Some(("pages/a/index.json", r#"{"renderer":"skyline"}"#)), "glass-easel"),
        ("skyline page using a webview component", format!(r#"{{"pages":{a},"lazyCodeLoading":"requiredComponents"}}"#), Some(("pages/a/index.json", r#"{"renderer":"skyline","componentFramework":"glass-easel","usingComponents":{"c":"/components/w/index"}}"#)), "webview"),
        ("componentGenerics without a default", format!(r#"{{"pages":{a}}}"#), Some(("pages/a/index.json", r#"{"componentGenerics":{"g":{}}}"#)), "[\"componentGenerics\"][\"g\"]"),
        ("app.json without pages", r#"{"window":{}}"#.into(), None, "[\"pages\"] should not be empty"),
        ("window word misspelt", format!(r#"{{"pages":{a},"window":{{"navigationStyle":"customm"}}}}"#), None, "[\"window\"][\"navigationStyle\"] field needs to be one of custom, default"),
        ("tab without pagePath", r#"{"pages":["pages/a/index","pages/b/index"],"tabBar":{"list":[{"text":"a"},{"pagePath":"pages/b/index","text":"b"}]}}"#.into(), None, "[\"tabBar\"][\"list\"][0][\"pagePath\"] should not be empty"),
        ("subpackage without root", format!(r#"{{"pages":{a},"subPackages":[{{"pages":["p/index"]}}]}}"#), None, "[\"subPackages\"][0][\"root\"] should not be empty"),
        ("debug not a boolean", format!(r#"{{"pages":{a},"debug":"yes"}}"#), None, "[\"debug\"] field needs to be boolean"),
        ("page renderer misspelt", format!(r#"{{"pages":{a}}}"#), Some(("pages/a/index.json", r#"{"renderer":"webview-free"}"#)), "pages/a/index.json: [\"renderer\"] field needs to be one of"),
        ("page disableScroll a word", format!(r#"{{"pages":{a}}}"#), Some(("pages/a/index.json", r#"{"disableScroll":"yes"}"#)), "[\"disableScroll\"] field needs to be boolean"),
        ("component path a number", format!(r#"{{"pages":{a}}}"#), Some(("pages/a/index.json", r#"{"usingComponents":{"c":7}}"#)), "[\"usingComponents\"][\"c\"] field needs to be string"),
        ("theme variable where none is allowed", format!(r#"{{"pages":{a}}}"#), Some(("pages/a/index.json", r#"{"navigationBarTitleText":"@vant/weapp"}"#)), "\"@vant/weapp\" should not be there"),
        ("theme variable without themeLocation", format!(r#"{{"pages":{a},"window":{{"navigationBarBackgroundColor":"@bg"}}}}"#), None, "app.json has no themeLocation"),
        ("theme variable missing from theme.json", format!(r#"{{"pages":{a},"themeLocation":"theme.json","window":{{"backgroundColor":"@bg"}}}}"#), Some(("theme.json", r##"{"light":{"bg":"#ffffff"},"dark":{}}"##)), "not defined in the theme's \"dark\""),
        ("unknown extended library", format!(r#"{{"pages":{a},"useExtendedLib":{{"foo":true}},"usingComponents":{{"c":"/components/c/index"}}}}"#), None, "foo is not allowed in [\"useExtendedLib\"]"),
    ];
    let (emu, dir) = emulator(false);
    for (name, app, extra, says) in cases {
        let project = dir.path().join(name.replace(' ', "-"));
        let mut list = base();
        list.push(("app.json".into(), app));
        list.extend(unit(
            "components/w/index",
            Some(r#"{"component":true,"renderer":"webview"}"#),
        ));
        if let Some((p, c)) = extra {
            list.push((p.into(), c.into()));
        }
        write_project(&project, &list);
        let before = emu.world().uploads().len();
        assert!(
            official_on(&module, &emu, dir.path(), &project, false, &json!({})).is_err(),
            "{name}: miniprogram-ci refuses it too"
        );
        emu.world().clear_journal();
        for engine in ["native", "auto"] {
            let trap = NetTrap::new();
            let mut c = bin(dir.path(), &trap);
            c.args(["upload", "--engine", engine, "--project-path"])
                .arg(&project)
                .arg("--private-key-path")
                .arg(fixtures().join("keys/private.wx0123456789abcdef.key"))
                .args(["--version-from", "explicit:1.0.0"])
                .env("INPUT_APPID", APPID)
                .env("MP_RELEASE_UPLOAD_BASE_URL", emu.uri());
            let r = run(c);
            assert_eq!(r.code, 2, "{name} ({engine}): {}", r.stderr);
            assert!(r.stderr.contains(says), "{name}: {}", r.stderr);
            assert!(emu.world().journal().is_empty(), "{name}: nothing was sent");
        }
        assert_eq!(emu.world().uploads().len(), before, "{name}");
    }
}

/// Installs (once) the given miniprogram-ci version; returns the cache directory that holds it.
fn official_version(version: &str) -> PathBuf {
    let out = Command::new("bash")
        .arg(root().join("scripts/install-miniprogram-ci.sh"))
        .env("MINIPROGRAM_CI_VERSION", version)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "installing miniprogram-ci@{version}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // <cache>/miniprogram-ci/<version>
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

/// The official engine compiles as DevTools does: project.config.json's settings, the `setting`
/// input over them, the chosen miniprogram-ci version, and the project type from compileType.
#[test]
fn the_official_engine_honours_project_settings_the_setting_input_version_and_type() {
    let cache = official().ancestors().nth(4).unwrap().to_path_buf();
    let (emu, dir) = emulator(false);
    const JS: &str = "// a comment the minifier drops\nconst add = (a, b) => {\n  return a + b;\n};\nmodule.exports = { add };\n";
    let project = |name: &str, setting: &str| {
        let p = dir.path().join(name);
        let mut list = files(&[
            ("app.json", r#"{"pages":["pages/index/index"]}"#),
            ("app.js", "App({})"),
            ("utils/add.js", JS),
        ]);
        list.push(("project.config.json".into(), format!(r#"{{"appid":"wx0123456789abcdef","compileType":"miniprogram","setting":{setting}}}"#)));
        list.extend(unit("pages/index/index", None));
        write_project(&p, &list);
        p
    };
    let upload = |project: &Path, args: &[&str]| {
        let trap = NetTrap::new();
        let mut c = bin(dir.path(), &trap);
        c.args(["upload", "--project-path"])
            .arg(project)
            .arg("--private-key-path")
            .arg(fixtures().join("keys/private.wx0123456789abcdef.key"))
            .arg("--cache-dir")
            .arg(&cache)
            .arg("--ca-file")
            .arg(dir.path().join("ca.pem"))
            .args(["--version-from", "explicit:1.0.0"])
            .args(args)
            .env("INPUT_APPID", APPID)
            .env("MP_RELEASE_UPLOAD_BASE_URL", emu.uri());
        let r = run(c);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        let w = emu.world();
        let up = w.uploads().last().unwrap().clone();
        (r, up)
    };
    let file = |up: &UploadRecord, name: &str| {
        String::from_utf8_lossy(
            &up.files
                .iter()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| {
                    panic!(
                        "{name} in {:?}",
                        up.files.iter().map(|f| &f.0).collect::<Vec<_>>()
                    )
                })
                .1,
        )
        .into_owned()
    };
    // es6 + minified in project.config.json: auto hands it to the official engine, which compiles.
    let compiled = project("compiled", r#"{"es6":true,"minified":true}"#);
    let (r, up) = upload(&compiled, &[]);
    assert!(
        r.stderr.contains("compile setting es6, minified is on"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("with the miniprogram-ci engine"),
        "{}",
        r.stderr
    );
    let js = file(&up, "/utils/add.js");
    assert!(
        !js.contains("=>") && !js.contains("const ") && !js.contains("a comment"),
        "transpiled and minified: {js}"
    );
    // The setting input turns them off again: the native engine, the file as written.
    let (r, up) = upload(
        &compiled,
        &["--setting", r#"{"es6":false,"minifyJS":false}"#],
    );
    assert!(r.stderr.contains("with the native engine"), "{}", r.stderr);
    assert_eq!(file(&up, "/utils/add.js"), JS);
    // …or on, for a project that has none: minified, but still ES2015 (es6 off).
    let plain = project("plain", "{}");
    let (r, up) = upload(
        &plain,
        &[
            "--engine",
            "miniprogram-ci",
            "--setting",
            r#"{"minifyJS":true}"#,
        ],
    );
    assert!(
        r.stderr.contains("with the miniprogram-ci engine"),
        "{}",
        r.stderr
    );
    let js = file(&up, "/utils/add.js");
    assert!(
        js.contains("=>") && !js.contains("a comment") && js.len() < JS.len() / 2,
        "minified only: {js}"
    );
    // An explicit miniprogram-ci version is the one that runs (its version is in ci.signature).
    let other = official_version("2.1.31");
    let trap = NetTrap::new();
    let mut c = bin(dir.path(), &trap);
    c.args([
        "upload",
        "--engine",
        "miniprogram-ci",
        "--miniprogram-ci-version",
        "2.1.31",
        "--project-path",
    ])
    .arg(&plain)
    .arg("--private-key-path")
    .arg(fixtures().join("keys/private.wx0123456789abcdef.key"))
    .arg("--cache-dir")
    .arg(&other)
    .arg("--ca-file")
    .arg(dir.path().join("ca.pem"))
    .args(["--version-from", "explicit:1.0.1"])
    .env("INPUT_APPID", APPID)
    .env("MP_RELEASE_UPLOAD_BASE_URL", emu.uri());
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let up = emu.world().uploads().last().unwrap().clone();
    let sig: Value = serde_json::from_str(&file(&up, "/ci.signature")).unwrap();
    assert_eq!(sig["version"], "2.1.31", "{sig}");
    // A mini game: type=miniGame (the native engine does not pack games; auto says so).
    let game = dir.path().join("game");
    write_project(
        &game,
        &files(&[
            (
                "project.config.json",
                r#"{"appid":"wx0123456789abcdef","compileType":"game","setting":{}}"#,
            ),
            ("game.json", r#"{"deviceOrientation":"portrait"}"#),
            ("game.js", "console.log('game')\n"),
        ]),
    );
    // A mini program plugin and a mini game plugin: the other two types.
    let plugin = dir.path().join("plugin");
    let mut list = files(&[
        (
            "project.config.json",
            r#"{"appid":"wx0123456789abcdef","compileType":"plugin","miniprogramRoot":"miniprogram/","pluginRoot":"plugin/","setting":{}}"#,
        ),
        (
            "plugin/plugin.json",
            r#"{"publicComponents":{"hello":"components/hello/hello"},"main":"index.js"}"#,
        ),
        ("plugin/index.js", "module.exports = {}\n"),
        (
            "miniprogram/app.json",
            r#"{"pages":["pages/index/index"],"plugins":{"myPlugin":{"version":"dev","provider":"wx0123456789abcdef"}}}"#,
        ),
        ("miniprogram/app.js", "App({})"),
        (
            "miniprogram/pages/index/index.json",
            r#"{"usingComponents":{"hello":"plugin://myPlugin/hello"}}"#,
        ),
    ]);
    list.extend(unit(
        "plugin/components/hello/hello",
        Some(r#"{"component":true}"#),
    ));
    list.extend(unit("miniprogram/pages/index/index", None));
    write_project(&plugin, &list);
    let game_plugin = dir.path().join("game-plugin");
    write_project(
        &game_plugin,
        &files(&[
            (
                "project.config.json",
                r#"{"appid":"wx0123456789abcdef","compileType":"gamePlugin","miniprogramRoot":"miniprogram/","pluginRoot":"plugin/","setting":{}}"#,
            ),
            ("plugin/plugin.json", r#"{"main":"index.js"}"#),
            ("plugin/index.js", "module.exports = {}\n"),
            (
                "miniprogram/game.json",
                r#"{"plugins":{"p":{"version":"dev","provider":"wx0123456789abcdef"}}}"#,
            ),
            ("miniprogram/game.js", "requirePlugin('p')\n"),
        ]),
    );
    for (project, ty, has) in [
        (&game, "miniGame", "/game.json"),
        (&plugin, "miniProgramPlugin", "/plugin/plugin.json"),
        (&game_plugin, "miniGamePlugin", "/plugin/plugin.json"),
    ] {
        let (r, up) = upload(project, &[]);
        assert!(
            r.stderr
                .contains("only compileType miniprogram is packed natively"),
            "{ty}: {}",
            r.stderr
        );
        let sent = up
            .query
            .iter()
            .find(|(k, _)| k == "type")
            .map(|(_, v)| v.clone());
        assert_eq!(sent.as_deref(), Some(ty));
        assert!(up.files.iter().any(|(n, _)| n == has), "{ty}: {has}");
    }
    // Asked for explicitly, the native engine refuses a game (exit 2), sending nothing.
    emu.world().clear_journal();
    let trap = NetTrap::new();
    let mut c = bin(dir.path(), &trap);
    c.args(["upload", "--engine", "native", "--project-path"])
        .arg(&game)
        .arg("--private-key-path")
        .arg(fixtures().join("keys/private.wx0123456789abcdef.key"))
        .args(["--version-from", "explicit:1.0.0"])
        .env("INPUT_APPID", APPID)
        .env("MP_RELEASE_UPLOAD_BASE_URL", emu.uri());
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(emu.world().journal().is_empty());
}

/// `pack-npm` builds miniprogram_npm (the official packNpm) before the upload, and
/// `source-map-output` saves the upload's source maps (the official getDevSourceMap); both
/// choose the official engine under auto, and are refused with the native engine.
#[test]
fn pack_npm_and_source_maps_go_through_the_official_engine() {
    let cache = official().ancestors().nth(4).unwrap().to_path_buf();
    let (emu, dir) = emulator(false);
    let project = dir.path().join("npm");
    let mut list = files(&[
        (
            "project.config.json",
            r#"{"appid":"wx0123456789abcdef","compileType":"miniprogram","setting":{"es6":true}}"#,
        ),
        ("app.json", r#"{"pages":["pages/index/index"]}"#),
        (
            "app.js",
            "const lib = require('plain-lib');\nApp({ n: lib });\n",
        ),
        (
            "package.json",
            r#"{"name":"demo","private":true,"dependencies":{"mini-lib":"1.0.0","plain-lib":"1.0.0"}}"#,
        ),
        (
            "node_modules/mini-lib/package.json",
            r#"{"name":"mini-lib","version":"1.0.0","miniprogram":"dist","main":"dist/index.js"}"#,
        ),
        (
            "node_modules/mini-lib/dist/index.js",
            "module.exports = 1;\n",
        ),
        (
            "node_modules/plain-lib/package.json",
            r#"{"name":"plain-lib","version":"1.0.0","main":"index.js"}"#,
        ),
        (
            "node_modules/plain-lib/index.js",
            "module.exports = require('./util');\n",
        ),
        ("node_modules/plain-lib/util.js", "module.exports = 2;\n"),
    ]);
    list.extend(unit(
        "node_modules/mini-lib/dist/comp/index",
        Some(r#"{"component":true}"#),
    ));
    list.extend(unit(
        "pages/index/index",
        Some(r#"{"usingComponents":{"c":"mini-lib/comp"}}"#),
    ));
    write_project(&project, &list);
    let zip = dir.path().join("maps/source-maps.zip");
    std::fs::create_dir_all(zip.parent().unwrap()).unwrap();
    let command = |engine: &str| {
        let trap = NetTrap::new();
        let mut c = bin(dir.path(), &trap);
        c.args(["upload", "--engine", engine, "--pack-npm", "--project-path"])
            .arg(&project)
            .arg("--source-map-output")
            .arg(&zip)
            .arg("--private-key-path")
            .arg(fixtures().join("keys/private.wx0123456789abcdef.key"))
            .arg("--cache-dir")
            .arg(&cache)
            .arg("--ca-file")
            .arg(dir.path().join("ca.pem"))
            .args(["--version-from", "explicit:1.2.0"])
            .env("INPUT_APPID", APPID)
            .env("MP_RELEASE_UPLOAD_BASE_URL", emu.uri());
        run(c)
    };
    let r = command("native");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("needs the miniprogram-ci engine"),
        "{}",
        r.stderr
    );
    assert!(emu.world().journal().is_empty() && !project.join("miniprogram_npm").exists());
    let r = command("auto");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "pack-npm: built miniprogram_npm from 1 miniprogram package(s) and 1 other package(s)"
        ),
        "{}",
        r.stderr
    );
    let up = emu.world().uploads().last().unwrap().clone();
    let names: Vec<&str> = up.files.iter().map(|(n, _)| n.as_str()).collect();
    for want in [
        "/miniprogram_npm/mini-lib/comp/index.json",
        "/miniprogram_npm/plain-lib/index.js",
        "/pages/index/index.json",
    ] {
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    let page = &up
        .files
        .iter()
        .find(|(n, _)| n == "/pages/index/index.json")
        .unwrap()
        .1;
    assert!(
        String::from_utf8_lossy(page).contains("miniprogram_npm/mini-lib/comp/index"),
        "{}",
        String::from_utf8_lossy(page)
    );
    // The zip holds the source maps the upload carried (es6 on makes one per JS file).
    let bytes = std::fs::read(&zip).expect("the source maps were saved");
    assert_eq!(&bytes[..2], b"PK");
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("app.js.map") && text.contains("index.js.map"),
        "{text:.300}"
    );
}

/// Real, published component libraries (Vant Weapp, TDesign, WeUI, mp-html: 200 components with
/// their own nested usingComponents), built into miniprogram_npm by the official packNpm and used
/// by pages, uploaded by both engines: the same package.
#[test]
fn real_component_libraries_pack_the_same() {
    let out = Command::new("bash")
        .arg(root().join("scripts/install-real-components.sh"))
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let libs = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().to_owned());
    let cache = official().ancestors().nth(4).unwrap().to_path_buf();
    let (emu, dir) = emulator_in(
        false,
        Scenario {
            upload_limits: mp_release_emulator::UploadLimits {
                main_mb: 64,
                sub_mb: 64,
                full_mb: 256,
            },
            ..Scenario::default()
        },
    );
    let project = dir.path().join("real");
    copy_tree(&libs.join("node_modules"), &project.join("node_modules"));
    let mut list = files(&[
        ("project.config.json", CONFIG),
        (
            "package.json",
            r#"{"name":"real","private":true,"dependencies":{"@vant/weapp":"1.11.7","mp-html":"2.5.2","weui-miniprogram":"1.5.6","tdesign-miniprogram":"1.16.0"}}"#,
        ),
        ("app.js", "App({})\n"),
    ]);
    // One page per library using every component it ships, by its npm name; a subpackage page
    // using two; an app-wide component.
    let mut pages = Vec::new();
    for (i, (lib, dist)) in [
        ("@vant/weapp", "lib"),
        ("mp-html", "dist/mp-weixin"),
        ("tdesign-miniprogram", "miniprogram_dist"),
        ("weui-miniprogram", "miniprogram_dist"),
    ]
    .iter()
    .enumerate()
    {
        let base = project.join("node_modules").join(lib).join(dist);
        let mut using = serde_json::Map::new();
        for json in walk_files(&base)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
        {
            let stem = json.with_extension("");
            if !stem.with_extension("wxml").exists() {
                continue;
            }
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap())
                .unwrap_or(Value::Null);
            if v.get("component") != Some(&json!(true)) {
                continue;
            }
            let rel = stem
                .strip_prefix(&base)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let name = rel.strip_suffix("/index").unwrap_or(&rel);
            using.insert(format!("c{}", using.len()), json!(format!("{lib}/{name}")));
        }
        assert!(using.len() >= 2, "{lib}: {} components", using.len());
        let page = format!("pages/p{i}/index");
        list.extend(unit(
            &page,
            Some(
                &json!({ "navigationBarTitleText": format!("lib {i}"), "usingComponents": using })
                    .to_string(),
            ),
        ));
        pages.push(page);
    }
    list.extend(unit(
        "sub/pages/x/index",
        Some(r#"{"usingComponents":{"btn":"@vant/weapp/button","html":"mp-html"}}"#),
    ));
    list.push(("app.json".into(), json!({ "pages": pages, "subPackages": [{ "root": "sub", "pages": ["pages/x/index"] }], "usingComponents": { "van-icon": "@vant/weapp/icon" } }).to_string()));
    write_project(&project, &list);
    // The official engine builds miniprogram_npm (pack-npm) and uploads; then the native engine.
    let trap = NetTrap::new();
    let mut c = bin(dir.path(), &trap);
    c.args(["upload", "--pack-npm", "--project-path"])
        .arg(&project)
        .arg("--private-key-path")
        .arg(fixtures().join("keys/private.wx0123456789abcdef.key"))
        .arg("--cache-dir")
        .arg(&cache)
        .arg("--ca-file")
        .arg(dir.path().join("ca.pem"))
        .args(["--version-from", "explicit:1.0.0", "--robot", "3"])
        .env("INPUT_APPID", APPID)
        .env("MP_RELEASE_UPLOAD_BASE_URL", emu.uri());
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = native_on(&emu, dir.path(), &project);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_same_map(&emu, "real component libraries");
    let n = emu.world().uploads().last().unwrap().files.len();
    assert!(n > 1000, "{n} entries");
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk_files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn copy_tree(from: &Path, to: &Path) {
    for p in walk_files(from) {
        let dest = to.join(p.strip_prefix(from).unwrap());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&p, &dest).unwrap();
    }
}
