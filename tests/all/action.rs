//! The composite action's install script, with a fake release directory: the runner's OS/arch picks
//! the asset, its sha256 must match the committed table, and anything else stops it.

use std::path::Path;
use std::process::Command;

const TARGETS: &[(&str, &str, &str)] = &[
    ("Linux", "X64", "x86_64-unknown-linux-musl"),
    ("Linux", "ARM64", "aarch64-unknown-linux-musl"),
    ("macOS", "X64", "x86_64-apple-darwin"),
    ("macOS", "ARM64", "aarch64-apple-darwin"),
    ("Windows", "X64", "x86_64-pc-windows-msvc"),
];

/// The release the fixtures' checksum table records.
const VERSION: &str = "v1.4.0";

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// A fake action checkout (the script + a checksum table) and a fake release with one tarball per
/// target, each holding a stand-in binary that prints its target.
fn fixture(corrupt: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (action, release) = (
        dir.path().join("action"),
        dir.path().join("release").join(VERSION),
    );
    std::fs::create_dir_all(action.join("scripts")).unwrap();
    std::fs::create_dir_all(action.join("dist")).unwrap();
    std::fs::create_dir_all(&release).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/action-install.sh"),
        action.join("scripts/action-install.sh"),
    )
    .unwrap();
    // the first line as the release workflow writes it: it names the version to download
    let mut table = format!(
        "# sha256 of the release binaries of {VERSION}, one per line: \"<sha256>  <asset>\".\n"
    );
    for (os, _, target) in TARGETS {
        let stage = dir.path().join(format!("stage-{target}"));
        std::fs::create_dir_all(&stage).unwrap();
        let exe = if *os == "Windows" {
            "mp-release.exe"
        } else {
            "mp-release"
        };
        std::fs::write(stage.join(exe), format!("#!/bin/sh\necho {target}\n")).unwrap();
        let asset = format!("mp-release-{target}.tar.gz");
        let st = Command::new("tar")
            .args(["-czf"])
            .arg(release.join(&asset))
            .arg("-C")
            .arg(&stage)
            .arg(exe)
            .status()
            .unwrap();
        assert!(st.success());
        let sum = if corrupt == Some(*target) {
            "0".repeat(64)
        } else {
            sha256(&release.join(&asset))
        };
        table.push_str(&format!("{sum}  {asset}\n"));
    }
    std::fs::write(action.join("dist/checksums.txt"), table).unwrap();
    dir
}

fn install(dir: &Path, os: &str, arch: &str, extra: &[(&str, &str)]) -> (i32, String, String) {
    let out_file = dir.join(format!("out-{os}-{arch}"));
    let mut c = Command::new("env");
    c.args(["-u", "BASH_ENV", "-u", "ENV", "bash"])
        .arg(dir.join("action/scripts/action-install.sh"))
        .env("GITHUB_ACTION_PATH", dir.join("action"))
        .env("GITHUB_OUTPUT", &out_file)
        .env("RUNNER_OS", os)
        .env("RUNNER_ARCH", arch)
        .env("RUNNER_TEMP", dir.join(format!("tmp-{os}-{arch}")))
        .env("GITHUB_ACTION_REPOSITORY", "mp-release/mp-release")
        .env("RUNNER_TOOL_CACHE", dir.join(format!("cache-{os}-{arch}")))
        .env(
            "MP_RELEASE_DOWNLOAD_BASE",
            format!("file://{}", dir.join("release").display()),
        );
    for (k, v) in extra {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        std::fs::read_to_string(out_file).unwrap_or_default(),
    )
}

/// Runs the stand-in binary the install step named in `bin=`; it prints its target.
fn run_installed(outputs: &str) -> String {
    let bin = outputs
        .lines()
        .find_map(|l| l.strip_prefix("bin="))
        .unwrap();
    let ran = Command::new("sh").arg(bin).output().unwrap();
    String::from_utf8_lossy(&ran.stdout).trim().to_owned()
}

#[test]
fn picks_the_asset_of_the_runner_and_verifies_it() {
    let dir = fixture(None);
    for (os, arch, target) in TARGETS {
        let (code, stdout, outputs) = install(dir.path(), os, arch, &[]);
        assert_eq!(code, 0, "{os}/{arch}: {stdout}");
        assert!(
            outputs.contains(&format!("asset=mp-release-{target}.tar.gz")),
            "{outputs}"
        );
        assert_eq!(
            run_installed(&outputs),
            *target,
            "the extracted binary is the runner's"
        );
    }
}

#[test]
fn a_wrong_checksum_or_an_unknown_runner_stops_it() {
    let dir = fixture(Some("aarch64-apple-darwin"));
    let (code, stdout, outputs) = install(dir.path(), "macOS", "ARM64", &[]);
    assert_eq!(code, 1);
    assert!(stdout.contains("::error title=mp-release::checksum mismatch for mp-release-aarch64-apple-darwin.tar.gz"), "{stdout}");
    assert!(!outputs.contains("bin="), "nothing to run");
    assert!(
        !dir.path()
            .join(format!("cache-macOS-ARM64/mp-release/{VERSION}/aarch64-apple-darwin/mp-release-aarch64-apple-darwin.tar.gz"))
            .exists(),
        "the bad download is removed"
    );
    // a release without the asset: a clear message, not curl's
    std::fs::remove_file(dir.path().join(format!(
        "release/{VERSION}/mp-release-x86_64-apple-darwin.tar.gz"
    )))
    .unwrap();
    let (code, stdout, _) = install(dir.path(), "macOS", "X64", &[]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains(&format!(
            "no mp-release-x86_64-apple-darwin.tar.gz in release {VERSION}"
        )),
        "{stdout}"
    );
    let (code, stdout, _) = install(dir.path(), "Linux", "ARM", &[]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("no prebuilt mp-release for runner Linux/ARM"),
        "{stdout}"
    );
    // a table that records no release (a branch before the first release)
    std::fs::write(
        dir.path().join("action/dist/checksums.txt"),
        "# sha256 of the release binaries of this ref, one per line\n",
    )
    .unwrap();
    let (code, stdout, _) = install(dir.path(), "Linux", "X64", &[]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("records no release") && stdout.contains("build-from-source: true"),
        "{stdout}"
    );
    // exported bash functions are refused
    let (code, stdout, _) = install(
        dir.path(),
        "Linux",
        "X64",
        &[("BASH_FUNC_curl%%", "() { echo pwned; }")],
    );
    assert_eq!(code, 1);
    assert!(stdout.contains("exported bash functions"), "{stdout}");
}

/// `@v1`, `@v1.4.0` and `@<sha>` checkouts all carry the same table, so they install the recorded
/// release whatever the ref is called; a second step of the job takes it from the tool cache.
#[test]
fn the_recorded_release_is_installed_whatever_the_ref_and_cached() {
    let dir = fixture(None);
    for reference in ["v1", "v1.4.0", "0123456789abcdef0123456789abcdef01234567"] {
        let (code, stdout, outputs) = install(
            dir.path(),
            "Linux",
            "X64",
            &[("GITHUB_ACTION_REF", reference)],
        );
        assert_eq!(code, 0, "{reference}: {stdout}");
        assert!(outputs.contains(&format!("version={VERSION}")), "{outputs}");
    }
    // the release is gone from the mirror: the cached copy still serves the next step
    std::fs::remove_dir_all(dir.path().join("release")).unwrap();
    let (code, stdout, outputs) = install(dir.path(), "Linux", "X64", &[]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("from the tool cache"), "{stdout}");
    assert_eq!(run_installed(&outputs), "x86_64-unknown-linux-musl");
}

#[test]
fn every_input_reaches_the_binary_through_env() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml")).unwrap();
    // no `${{ inputs.* }}` inside a run: line (script injection)
    for line in text.lines().filter(|l| l.trim_start().starts_with("run:")) {
        assert!(!line.contains("${{"), "{line}");
    }
    let inputs: Vec<&str> = text
        .split("\ninputs:\n")
        .nth(1)
        .unwrap()
        .split("\noutputs:\n")
        .next()
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   ") && l.ends_with(':'))
        .map(|l| l.trim().trim_end_matches(':'))
        .collect();
    assert!(inputs.len() > 20, "{inputs:?}");
    // The outputs of the GitHub side are mirrored too.
    for out in ["check-run-url", "release-url", "resumed", "resumed-count"] {
        assert!(
            text.contains(&format!("value: ${{{{ steps.run.outputs.{out} }}}}")),
            "output {out} is not mirrored"
        );
    }
    // Two inputs are the composite's own: how to get the binary, and whether to upload the QR code.
    for input in inputs
        .iter()
        .filter(|i| !["build-from-source", "qrcode-artifact"].contains(*i))
    {
        let env = format!(
            "INPUT_{}: ${{{{ inputs.{input} }}}}",
            input.to_uppercase().replace('-', "_")
        );
        assert!(
            text.contains(&env),
            "{input} is not mapped through env ({env})"
        );
    }
}
