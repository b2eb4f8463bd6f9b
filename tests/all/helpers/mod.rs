//! Shared helpers: temporary git repositories, a network trap, and running the real binary.
#![allow(clippy::disallowed_methods)] // tests pass the real PATH on to the binary

use assert_cmd::Command;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// A temporary git repository with a committer identity and no global config.
pub struct Repo {
    pub dir: TempDir,
}

impl Repo {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let r = Self { dir };
        r.git(&["init", "-q", "-b", "main"]);
        r
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn git(&self, args: &[&str]) -> String {
        git_at(self.path(), args)
    }

    /// An empty commit with this message.
    pub fn commit(&self, message: &str) -> &Self {
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self
    }

    pub fn tag(&self, name: &str) -> &Self {
        self.git(&["tag", name]);
        self
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

/// `git` in `dir` with a fixed identity and no user or system config; panics on failure.
pub fn git_at(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A listening socket that counts connections: any network attempt through the proxy variables
/// (which every HTTP client of ours honours) shows up here.
pub struct NetTrap {
    listener: TcpListener,
    pub url: String,
}

impl NetTrap {
    pub fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        Self { listener, url }
    }

    pub fn connections(&self) -> usize {
        let mut n = 0;
        while self.listener.accept().is_ok() {
            n += 1;
        }
        n
    }
}

/// The binary with a clean environment: PATH, HOME and git identity only, plus the network trap's
/// proxy variables.
pub fn bin(cwd: &Path, trap: &NetTrap) -> Command {
    Command::from_std(clean(
        std::process::Command::new(assert_cmd::cargo::cargo_bin("mp-release")),
        cwd,
        trap,
    ))
}

/// `program` with the clean environment of [`bin`] (the docs test runs `bash` this way).
pub fn clean(mut c: std::process::Command, cwd: &Path, trap: &NetTrap) -> std::process::Command {
    c.current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", cwd)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HTTPS_PROXY", &trap.url)
        .env("HTTP_PROXY", &trap.url)
        .env("ALL_PROXY", &trap.url)
        // Loopback (the emulator, wiremock) is reached directly; any other host lands in the trap.
        .env("NO_PROXY", "127.0.0.1,localhost,::1")
        // The WeChat hosts and the GitHub API point at the trap as well, so that a test that
        // forgets to give its server's URL fails there rather than waiting on a closed network.
        .env("MP_RELEASE_WECHAT_BASE_URL", &trap.url)
        .env("MP_RELEASE_UPLOAD_BASE_URL", &trap.url)
        .env("GITHUB_API_URL", &trap.url)
        .env("NO_COLOR", "1");
    c
}

/// Every file below `dir`, at any depth (nothing when it cannot be read).
pub fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// stdout without the `::add-mask::` lines (the only place a secret may stand).
pub fn without_masks(stdout: &str) -> String {
    stdout
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// What one run produced.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Waits (up to 10 s) until `path` exists: a spawned process got that far.
pub fn wait_for(path: &Path) {
    for _ in 0..400 {
        if path.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("{} never appeared", path.display());
}

/// `second` stopped (exit 3) because process `holder` held its state.
pub fn assert_held_by(second: &PipelineRun, holder: u32) {
    assert_eq!(second.code, 3, "{}", second.stderr);
    assert!(
        second
            .stderr
            .contains(&format!("another mp-release process (pid {holder})")),
        "{}",
        second.stderr
    );
}

pub fn run(mut c: Command) -> Run {
    let out = c.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `k=v` lines of stdout as pairs.
pub fn kv(stdout: &str) -> std::collections::BTreeMap<String, String> {
    stdout
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The ids of the demo world the pipeline tests release into.
pub const COMPONENT: &str = "wxc0c0c0c0c0c0c0c0";
pub const APP: &str = "wxa1a1a1a1a1a1a1a1";
pub const COMPONENT_SECRET: &str = "component-secret-0123456789";

/// An emulator with a platform, an authorized app (live version 1.4.2) and a template, plus a
/// working directory for the binary, run as a GitHub Actions step.
pub struct Wx {
    pub emu: mp_release_emulator::Emulator,
    pub ticket: String,
    pub refresh: String,
    pub template: u64,
    pub dir: TempDir,
}

/// What one run of the binary produced, with the Actions files read back.
pub struct PipelineRun {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub outputs: std::collections::BTreeMap<String, String>,
    pub summary: String,
}

impl Wx {
    pub fn new(
        scenario: mp_release_emulator::Scenario,
        spec: impl FnOnce(mp_release_emulator::AppSpec) -> mp_release_emulator::AppSpec,
    ) -> Self {
        Self::build(scenario, spec, false)
    }

    /// The same world served by an emulator that also acts as a TLS-ending HTTPS proxy for the
    /// WeChat hosts (its test CA: `emu.ca_pem()`).
    pub fn tls(
        scenario: mp_release_emulator::Scenario,
        spec: impl FnOnce(mp_release_emulator::AppSpec) -> mp_release_emulator::AppSpec,
    ) -> Self {
        Self::build(scenario, spec, true)
    }

    fn build(
        scenario: mp_release_emulator::Scenario,
        spec: impl FnOnce(mp_release_emulator::AppSpec) -> mp_release_emulator::AppSpec,
        tls: bool,
    ) -> Self {
        use mp_release_emulator::{AppSpec, Emulator, World};
        let mut w = World::new(scenario);
        let ticket = w.add_platform(COMPONENT, COMPONENT_SECRET);
        let reg = w.add_app(spec(AppSpec {
            live_version: Some("1.4.2".into()),
            ..AppSpec::authorized(APP, COMPONENT)
        }));
        let template = w
            .add_template(
                COMPONENT,
                "wxd0d0d0d0d0d0d0d0",
                "1.5.0",
                &["pages/index/index", "pages/me/me"],
                4096,
            )
            .unwrap();
        Self {
            emu: if tls {
                Emulator::bind_with_tls(([127, 0, 0, 1], 0).into(), w).unwrap()
            } else {
                Emulator::start_with(w)
            },
            ticket,
            refresh: reg.refresh_token,
            template,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The binary, configured through Action inputs (both spellings) and MP_RELEASE_* variables.
    pub fn cmd(&self, args: &[&str]) -> Command {
        Command::from_std(self.std_cmd(args))
    }

    /// [`Wx::cmd`] as a `std` command (to spawn it and kill it).
    pub fn std_cmd(&self, args: &[&str]) -> std::process::Command {
        let trap = NetTrap::new();
        let mut c = clean(
            std::process::Command::new(assert_cmd::cargo::cargo_bin("mp-release")),
            self.dir.path(),
            &trap,
        );
        c.args(args)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", self.dir.path().join("gh_output"))
            .env("GITHUB_STEP_SUMMARY", self.dir.path().join("gh_summary"))
            .env("INPUT_APPID", APP)
            .env("INPUT_COMPONENT-APPID", COMPONENT)
            .env("INPUT_COMPONENT_SECRET", COMPONENT_SECRET)
            .env("INPUT_COMPONENT_VERIFY_TICKET", &self.ticket)
            .env("INPUT_AUTHORIZER-REFRESH-TOKEN", &self.refresh)
            .env("INPUT_TEMPLATE_ID", self.template.to_string())
            .env("INPUT_VERSION_FROM", "wechat")
            .env("INPUT_BUMP", "minor")
            .env("MP_RELEASE_WECHAT_BASE_URL", self.emu.uri())
            .env("MP_RELEASE_UPLOAD_BASE_URL", self.emu.uri())
            .env("MP_RELEASE_VIRTUAL_CLOCK", "true")
            .env("MP_RELEASE_REQUEST_TIMEOUT", "2s")
            .env("MP_RELEASE_LOG", "debug");
        c
    }

    pub fn run(&self, args: &[&str], env: &[(&str, &str)]) -> PipelineRun {
        let _ = std::fs::remove_file(self.dir.path().join("gh_output"));
        let _ = std::fs::remove_file(self.dir.path().join("gh_summary"));
        let mut c = self.cmd(args);
        for (k, v) in env {
            c.env(k, v);
        }
        let r = run(c);
        let outputs_text =
            std::fs::read_to_string(self.dir.path().join("gh_output")).unwrap_or_default();
        let summary =
            std::fs::read_to_string(self.dir.path().join("gh_summary")).unwrap_or_default();
        let out = PipelineRun {
            code: r.code,
            stdout: r.stdout,
            stderr: r.stderr,
            outputs: parse_outputs(&outputs_text),
            summary,
        };
        self.assert_no_leaks(&out, &outputs_text);
        out
    }

    /// Every secret and every token the emulator issued: none may appear in anything the binary
    /// wrote, except in its own `::add-mask::` lines.
    pub fn assert_no_leaks(&self, r: &PipelineRun, outputs_text: &str) {
        let mut secrets = self.emu.world().issued_tokens();
        secrets.extend([
            COMPONENT_SECRET.to_owned(),
            self.ticket.clone(),
            self.refresh.clone(),
        ]);
        let stdout = without_masks(&r.stdout);
        let state = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
            .collect::<Vec<_>>()
            .join("\n");
        for s in &secrets {
            for (name, text) in [
                ("stdout", &stdout),
                ("stderr", &r.stderr),
                ("outputs", &outputs_text.to_owned()),
                ("summary", &r.summary),
                ("files", &state),
            ] {
                assert!(
                    !text.contains(s.as_str()),
                    "secret {s:?} leaked into {name}:\n{text}"
                );
            }
        }
    }

    pub fn successes(&self, path: &str) -> usize {
        self.emu.world().successes(path)
    }

    /// Requests on one path the emulator received, processed or not.
    pub fn calls(&self, path: &str) -> usize {
        self.emu
            .world()
            .journal()
            .iter()
            .filter(|e| e.path == path)
            .count()
    }
}

/// `$GITHUB_OUTPUT` with the runner's rules (single-line and heredoc entries).
pub fn parse_outputs(text: &str) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    let mut lines = text.split('\n');
    while let Some(line) = lines.next() {
        if let Some((k, delim)) = line.split_once("<<").filter(|(k, _)| !k.contains('=')) {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.insert(k.to_owned(), value.join("\n"));
        } else if let Some((k, v)) = line.split_once('=') {
            out.insert(k.to_owned(), v.to_owned());
        }
    }
    out
}

/// A platform's component token, asked of the world directly (set-up of a test).
pub fn component_token(
    w: &mut mp_release_emulator::World,
    component: &str,
    secret: &str,
    ticket: &str,
) -> String {
    let v = w
        .handle(&mp_release_emulator::Request::post(
            "/cgi-bin/component/api_component_token",
            &[],
            &serde_json::json!({ "component_appid": component, "component_appsecret": secret, "component_verify_ticket": ticket }),
        ))
        .body_json()
        .unwrap();
    v["component_access_token"].as_str().unwrap().to_owned()
}

/// An app's authorizer token, asked of the world directly with the platform's token.
pub fn authorizer_token(
    w: &mut mp_release_emulator::World,
    component_token: &str,
    component: &str,
    appid: &str,
    refresh: &str,
) -> String {
    let v = w
        .handle(&mp_release_emulator::Request::post(
            "/cgi-bin/component/api_authorizer_token",
            &[("access_token", component_token)],
            &serde_json::json!({ "component_appid": component, "authorizer_appid": appid, "authorizer_refresh_token": refresh }),
        ))
        .body_json()
        .unwrap();
    v["authorizer_access_token"].as_str().unwrap().to_owned()
}

/// Commits `template` as `version` with an app's token, waits out the privacy scan and submits:
/// a review in flight, made as a platform would make it.
pub fn submit_in_world(
    w: &mut mp_release_emulator::World,
    token: &str,
    template: u64,
    version: &str,
) {
    use mp_release_emulator::Request;
    let commit = serde_json::json!({ "template_id": template, "ext_json": "{}", "user_version": version, "user_desc": "d" });
    let v = w.handle(&Request::post(
        "/wxa/commit",
        &[("access_token", token)],
        &commit,
    ));
    assert_eq!(v.errcode(), Some(0), "{:?}", v.body_json());
    while w
        .handle(&Request::get(
            "/wxa/security/get_code_privacy_info",
            &[("access_token", token)],
        ))
        .errcode()
        == Some(61039)
    {}
    let v = w.handle(&Request::post(
        "/wxa/submit_audit",
        &[("access_token", token)],
        &serde_json::json!({}),
    ));
    assert_eq!(v.errcode(), Some(0), "{:?}", v.body_json());
}
