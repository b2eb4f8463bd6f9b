//! The native engine against what the real miniprogram-ci 2.1.42 uploaded (the captures in
//! tests/fixtures): same names, same order, same bytes, the `__warning__` strings the official
//! tool writes from its schema checks included.

use mp_release_core::upload::project::{compile, Body, CompileError, Input, ProjectFile};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/miniprogram-ci")
}

fn list(dir: &Path, base: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            list(&p, base, out);
        } else {
            let rel = p
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, std::fs::read(&p).unwrap()));
        }
    }
}

fn project(sample: &str, platform: bool) -> Input<'static> {
    let dir = fixtures().join("sample-projects").join(sample);
    let mut files = Vec::new();
    list(&dir, &dir, &mut files);
    files.sort();
    Input {
        files: files
            .into_iter()
            .map(|(n, b)| ProjectFile::read(n, b))
            .collect::<Vec<_>>()
            .into(),
        appid: "wx0123456789abcdef".into(),
        platform,
        ..Input::default()
    }
}

/// The entries with their bytes.
fn bytes(input: &Input<'_>, entries: Vec<(String, Body)>) -> Vec<(String, Vec<u8>)> {
    entries
        .into_iter()
        .map(|(n, b)| {
            let v = b.bytes(&input.files).expect("read").to_vec();
            (n, v)
        })
        .collect()
}

/// The captured upload of a scenario: entries in order, without ci.signature.
fn captured(scenario: &str) -> Vec<(String, Vec<u8>)> {
    let dir = fixtures().join("captures").join(scenario);
    let json = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            (n.contains("_wxa_ci_upload") || n.contains("testSourceURL")) && n.ends_with(".json")
        });
    let json = json.unwrap();
    let files_dir = json.with_extension("files");
    let capture: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    capture["pack"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .filter(|n| n != "/ci.signature")
        .map(|n| {
            let bytes = std::fs::read(files_dir.join(n.trim_start_matches('/'))).unwrap();
            (n, bytes)
        })
        .collect()
}

fn assert_same(sample: &str, platform: bool, scenario: &str) {
    let input = project(sample, platform);
    let ours = bytes(&input, compile(&input).unwrap().entries);
    let theirs = captured(scenario);
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&ours), names(&theirs), "{scenario}: names and order");
    for ((n, a), (_, b)) in ours.iter().zip(&theirs) {
        assert_eq!(
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(b),
            "{scenario}: {n}"
        );
    }
}

#[test]
fn sample_matches_byte_for_byte() {
    assert_same("sample", false, "api-proxy");
    assert_same("sample", false, "s1-preview");
    let input = project("sample", false);
    let ours = bytes(&input, compile(&input).unwrap().entries);
    assert_eq!(ours, captured("api-proxy"));
}

#[test]
fn sample2_whitelist_pack_options_default_ignores_components() {
    assert_same("sample2", false, "s2-unused-off");
}

#[test]
fn sample4_miniprogram_root_ext_json_and_npm_components() {
    assert_same("sample4", false, "s4");
    assert_same("sample4", true, "s4-platform");
    let out = compile(&project("sample4", true)).unwrap();
    assert_eq!(out.ext_appid.as_deref(), Some("wxaaaaaaaaaaaaaaaa"));
}

#[test]
fn out_of_subset_samples_are_refused_with_the_reason() {
    for (sample, why) in [
        ("sample3", "ignoreUploadUnusedFiles"),
        ("sample5", "useCompilerPlugins"),
        ("sample-swc", "swc"),
    ] {
        match compile(&project(sample, false)) {
            Err(CompileError::OutOfSubset(m)) => assert!(m.contains(why), "{sample}: {m}"),
            other => panic!("{sample}: {other:?}"),
        }
    }
}
