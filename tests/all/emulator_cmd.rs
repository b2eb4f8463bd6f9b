//! `mp-release emulator`: the served mode for other tools.

use crate::helpers::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

struct Killed(std::process::Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `mp-release emulator --port 0 ARGS` in `dir` (also its TMPDIR), stdout piped, killed on drop.
fn serve(dir: &std::path::Path, args: &[&str]) -> Killed {
    let child = Command::new(assert_cmd::cargo::cargo_bin("mp-release"))
        .args(["emulator", "--port", "0"])
        .args(args)
        .current_dir(dir)
        .env("TMPDIR", dir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Killed(child)
}

#[test]
fn serves_with_a_scenario_file_and_an_admin_api() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.yml"),
        "privacy-scan: {polls: 5, seconds: 600}\nreview-quota: 3\n",
    )
    .unwrap();
    let mut child = serve(dir.path(), &["--scenario", "s.yml"]);
    let mut line = String::new();
    BufReader::new(child.0.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("url=")
        .unwrap_or_else(|| panic!("{line:?}"));
    let addr = url.strip_prefix("http://").unwrap();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "POST /__emulator/clock HTTP/1.1\r\nContent-Length: 15\r\nConnection: close\r\n\r\n{{\"advance\": 60}}").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    assert!(
        raw.contains(&format!("\"now\":{}", mp_release_emulator::EPOCH + 60)),
        "{raw}"
    );
}

#[test]
fn a_bad_scenario_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.yml"), "privacy-scna: {}\n").unwrap();
    let trap = NetTrap::new();
    let mut c = bin(dir.path(), &trap);
    c.args(["emulator", "--scenario", "s.yml"]);
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("--scenario") && r.stderr.contains("unknown field `privacy-scna`"),
        "{}",
        r.stderr
    );
    let mut c = bin(dir.path(), &trap);
    c.args(["emulator", "--port", "70000"]);
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--port") && r.stderr.contains("0-65535"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_test_ca_lives_in_a_private_directory_removed_on_exit() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let mut child = serve(tmp.path(), &[]);
    let mut out = BufReader::new(child.0.stdout.take().unwrap());
    let mut ca = None;
    for _ in 0..2 {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        if let Some(p) = line.trim().strip_prefix("ca=") {
            ca = Some(std::path::PathBuf::from(p));
        }
    }
    let ca = ca.expect("a ca= output");
    let dir = ca.parent().unwrap().to_owned();
    assert!(dir.starts_with(tmp.path()), "{}", dir.display());
    assert!(std::fs::read_to_string(&ca)
        .unwrap()
        .contains("BEGIN CERTIFICATE"));
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "private to the user");
    assert!(
        !dir.file_name()
            .unwrap()
            .to_string_lossy()
            .ends_with(&format!("{}", child.0.id())),
        "not named after something predictable"
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = child.0.wait().unwrap();
    assert!(code.success(), "{code:?}");
    assert!(!dir.exists(), "removed on exit: {}", dir.display());
}
