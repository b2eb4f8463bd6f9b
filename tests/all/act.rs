//! The composite action in a real Actions runner: nektos/act (installed by scripts/install-act.sh)
//! in host mode runs workflows that say `uses: acme/mp-release@v1` (or `@<sha>`), mapped to a copy
//! of this checkout whose `dist/checksums.txt` records a fake release `v9.8.7`, served from a
//! `file://` mirror through `MP_RELEASE_DOWNLOAD_BASE`. The release's binary is the one these tests
//! built. Each test asserts what a workflow author sees: a later step's `${{ steps.x.outputs.* }}`,
//! the job summary, masked secrets, annotations and the job's result.
//!
//! `actions/upload-artifact` (a step of the action, skipped unless a pull request previews) is
//! mapped to a local stub: act fails a composite whose nested remote action it cannot fetch, even
//! when that step is skipped, and this machine reaches no GitHub.

use crate::helpers::*;
use mp_release_emulator::{AppSpec, Emulator, ReviewStep, Scenario, World};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const VERSION: &str = "v9.8.7";
const UPLOAD_ARTIFACT: &str = "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02";
/// The docs' workflows check out with this; the test's workspace already is the checkout.
const CHECKOUT: &str = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683";

/// The act binary, installed on first use. A machine where it cannot be installed fails here:
/// the tests say so instead of skipping.
fn act() -> &'static Path {
    static ACT: OnceLock<PathBuf> = OnceLock::new();
    ACT.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let out = Command::new("bash")
            .arg(root.join("scripts/install-act.sh"))
            .output()
            .expect("running scripts/install-act.sh");
        assert!(
            out.status.success(),
            "act could not be installed (scripts/install-act.sh: {}); these tests need it:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    })
}

/// The fake release: a directory `<root>/v9.8.7/<asset>` per runner target, all holding the
/// binary under test, and the checksum table of those assets. Made once per test process.
struct Release {
    /// The `…/releases/download` root, as a `file://` URL.
    base: String,
    /// `dist/checksums.txt` as the release workflow writes it.
    table: String,
}

/// Where this process keeps its fake release: a static is never dropped, so a `TempDir` here
/// was never removed (a copy of the test binary per run, gigabytes over a day). The directory is
/// named by process id under cargo's target tmp dir; the ones of processes that have ended are
/// removed first.
fn release_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
    for entry in std::fs::read_dir(root).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ended = name
            .strip_prefix("act-release-")
            .is_some_and(|pid| !Path::new("/proc").join(pid).exists());
        if ended {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let dir = root.join(format!("act-release-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn release() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(|| {
        let dir = release_dir();
        let stage = dir.join("stage");
        std::fs::create_dir_all(&stage).unwrap();
        std::fs::copy(
            assert_cmd::cargo::cargo_bin("mp-release"),
            stage.join("mp-release"),
        )
        .unwrap();
        let version_dir = dir.join("download").join(VERSION);
        std::fs::create_dir_all(&version_dir).unwrap();
        let first = "mp-release-x86_64-unknown-linux-musl.tar.gz";
        let st = Command::new("tar")
            .env("GZIP", "-1")
            .arg("-czf")
            .arg(version_dir.join(first))
            .arg("-C")
            .arg(&stage)
            .arg("mp-release")
            .status()
            .unwrap();
        assert!(st.success());
        let mut table = format!(
            "# sha256 of the release binaries of {VERSION}, one per line: \"<sha256>  <asset>\".\n"
        );
        let sha = sha256_hex(&version_dir.join(first));
        for asset in [first, "mp-release-aarch64-unknown-linux-musl.tar.gz"] {
            if asset != first {
                std::fs::hard_link(version_dir.join(first), version_dir.join(asset)).unwrap();
            }
            table.push_str(&format!("{sha}  {asset}\n"));
        }
        // The staged copy is only the tarball's source.
        let _ = std::fs::remove_dir_all(&stage);
        Release {
            base: format!("file://{}", dir.join("download").display()),
            table,
        }
    })
}

fn sha256_hex(file: &Path) -> String {
    let out = Command::new("sha256sum").arg(file).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

/// A checkout of the action at a ref: action.yml, the install script, the checksum table;
/// committed and tagged v1. Returns the commit.
fn action_checkout(dir: &Path, table: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(dir.join("scripts")).unwrap();
    std::fs::create_dir_all(dir.join("dist")).unwrap();
    std::fs::copy(root.join("action.yml"), dir.join("action.yml")).unwrap();
    std::fs::copy(
        root.join("scripts/action-install.sh"),
        dir.join("scripts/action-install.sh"),
    )
    .unwrap();
    std::fs::write(dir.join("dist/checksums.txt"), table).unwrap();
    git_at(dir, &["init", "-q", "-b", "main"]);
    git_at(dir, &["add", "-A"]);
    git_at(dir, &["commit", "-qm", "the action"]);
    git_at(dir, &["tag", "v1"]);
    git_at(dir, &["rev-parse", "HEAD"]).trim().to_owned()
}

/// The stand-in for actions/upload-artifact: says what it would upload and gives a link.
fn artifact_stub(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("action.yml"),
        r#"name: upload-artifact stub
description: stands in for actions/upload-artifact in the act tests (no GitHub here)
inputs:
  name: { description: n }
  path: { description: p }
  retention-days: { description: r }
outputs:
  artifact-url:
    description: u
    value: ${{ steps.s.outputs.artifact-url }}
runs:
  using: composite
  steps:
    - id: s
      shell: bash
      env:
        NAME: ${{ inputs.name }}
        FILE: ${{ inputs.path }}
      run: |
        test -s "$FILE"
        echo "stub upload-artifact: $NAME <- $FILE"
        echo "artifact-url=https://github.example/artifacts/1" >> "$GITHUB_OUTPUT"
"#,
    )
    .unwrap();
    git_at(dir, &["init", "-q", "-b", "main"]);
    git_at(dir, &["add", "-A"]);
    git_at(dir, &["commit", "-qm", "stub"]);
}

/// A composite action that runs `script` and ignores its inputs.
fn stub_action(dir: &Path, name: &str, script: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("action.yml"),
        format!(
            "name: {name}\ndescription: {name}\ninputs:\n  fetch-depth: {{ description: d }}\n  persist-credentials: {{ description: p }}\nruns:\n  using: composite\n  steps:\n    - shell: bash\n      run: {script}\n"
        ),
    )
    .unwrap();
    git_at(dir, &["init", "-q", "-b", "main"]);
    git_at(dir, &["add", "-A"]);
    git_at(dir, &["commit", "-qm", "stub"]);
}

/// One act run of a workflow.
struct ActRun {
    code: i32,
    log: String,
}

impl ActRun {
    /// The `Summary - …` lines act prints for the job summary.
    fn summary(&self) -> String {
        self.log
            .lines()
            .filter_map(|l| l.split_once("Summary - ").map(|(_, s)| s))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Asserts a later step saw output `name` as `want`.
    fn saw(&self, name: &str, want: &str) {
        assert_eq!(
            self.echoed(name).as_deref(),
            Some(want),
            "{name}:\n{}",
            self.log
        );
    }

    /// What a later step echoed as `seen <name>=<value>` (the binary prints `name=value` lines
    /// of its own, so the prefix keeps them apart).
    fn echoed(&self, name: &str) -> Option<String> {
        let key = format!("| seen {name}=");
        self.log
            .lines()
            .find_map(|l| l.split_once(&key).map(|(_, v)| v.trim_end().to_owned()))
    }
}

/// A workspace with one workflow, run by act in host mode.
struct Act {
    home: tempfile::TempDir,
    action: PathBuf,
    sha: String,
    stub: PathBuf,
    checkout: PathBuf,
    repo: PathBuf,
}

impl Act {
    fn new(table: &str) -> Self {
        let home = tempfile::tempdir().unwrap();
        let action = home.path().join("action");
        let sha = action_checkout(&action, table);
        let stub = home.path().join("upload-artifact");
        artifact_stub(&stub);
        let checkout = home.path().join("checkout");
        stub_action(
            &checkout,
            "checkout stub",
            "echo stub checkout, the workspace is the checkout",
        );
        let repo = home.path().join("repo");
        std::fs::create_dir_all(repo.join(".github/workflows")).unwrap();
        Self {
            home,
            action,
            sha,
            stub,
            checkout,
            repo,
        }
    }

    fn run(&self, workflow: &str, env: &[(&str, &str)], secrets: &[(&str, &str)]) -> ActRun {
        self.run_event("push", None, workflow, env, secrets)
    }

    /// The workflow on `event` (with this payload, when given).
    fn run_event(
        &self,
        event: &str,
        payload: Option<&Path>,
        workflow: &str,
        env: &[(&str, &str)],
        secrets: &[(&str, &str)],
    ) -> ActRun {
        std::fs::write(self.repo.join(".github/workflows/release.yml"), workflow).unwrap();
        if !self.repo.join(".git").exists() {
            git_at(&self.repo, &["init", "-q", "-b", "main"]);
        }
        git_at(&self.repo, &["add", "-A"]);
        // A commit only when something changed: a test can know HEAD (GITHUB_SHA) before the run.
        if !git_at(&self.repo, &["status", "--porcelain"])
            .trim()
            .is_empty()
        {
            git_at(&self.repo, &["commit", "-qm", "workflow"]);
        }
        let trap = NetTrap::new();
        let mut c = clean(Command::new(act()), &self.repo, &trap);
        // act asks api.nektosact.com for notices unless told not to.
        // The job inherits this environment (host mode): the trap's base URLs would win over the
        // workflow's inputs (MP_RELEASE_* comes first), so only its proxy variables stay.
        c.env_remove("MP_RELEASE_WECHAT_BASE_URL")
            .env_remove("MP_RELEASE_UPLOAD_BASE_URL")
            .env_remove("GITHUB_API_URL");
        c.env("HOME", self.home.path())
            .env("ACT_DISABLE_VERSION_CHECK", "1")
            .args([
                event,
                "-P",
                "ubuntu-latest=-self-hosted",
                "--action-offline-mode",
            ])
            .args(["-W", ".github/workflows/release.yml"])
            .arg("--local-repository")
            .arg(format!("acme/mp-release@v1={}", self.action.display()))
            .arg("--local-repository")
            .arg(format!(
                "acme/mp-release@{}={}",
                self.sha,
                self.action.display()
            ))
            .arg("--local-repository")
            .arg(format!("{UPLOAD_ARTIFACT}={}", self.stub.display()))
            .arg("--local-repository")
            .arg(format!("{CHECKOUT}={}", self.checkout.display()))
            .arg("--env")
            .arg(format!("MP_RELEASE_DOWNLOAD_BASE={}", release().base));
        for (k, v) in env {
            c.arg("--env").arg(format!("{k}={v}"));
        }
        for (k, v) in secrets {
            c.arg("-s").arg(format!("{k}={v}"));
        }
        if let Some(p) = payload {
            c.arg("-e").arg(p);
        }
        let out = c.output().expect("running act");
        let log = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            trap.connections(),
            0,
            "the job tried to reach the network:\n{log}"
        );
        ActRun {
            code: out.status.code().unwrap_or(-1),
            log,
        }
    }
}

/// A job: the action (with `with`), then a step echoing `names` of its outputs (through `env:`,
/// as a careful workflow author passes them).
fn workflow(uses: &str, with: &str, names: &[&str]) -> String {
    format!(
        "on: push\njobs:\n  release:\n    runs-on: ubuntu-latest\n    steps:\n      - id: mp\n        uses: {uses}\n        with:\n{with}{}",
        echo_step(&names.iter().map(|n| (*n, format!("steps.mp.outputs.{n}"))).collect::<Vec<_>>())
    )
}

/// A step printing `name=<value of expression>` for each pair.
fn echo_step(pairs: &[(&str, String)]) -> String {
    let env: String = pairs
        .iter()
        .enumerate()
        .map(|(i, (_, e))| format!("          V{i}: ${{{{ {e} }}}}\n"))
        .collect();
    let run: String = pairs
        .iter()
        .enumerate()
        .map(|(i, (n, _))| format!("          echo \"seen {n}=$V{i}\"\n"))
        .collect();
    format!("      - name: read the outputs\n        env:\n{env}        run: |\n{run}")
}

fn indent(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("          {l}\n")).collect()
}

#[test]
fn the_sandbox_runs_from_a_v1_pin_and_a_later_step_reads_its_outputs() {
    let a = Act::new(&release().table);
    let wf = workflow(
        "acme/mp-release@v1",
        &indent(&["sandbox: true"]),
        &["version", "review-status", "published", "audit-id"],
    );
    let r = a.run(&wf, &[], &[]);
    assert_eq!(r.code, 0, "{}", r.log);
    assert!(
        r.log.contains(&format!(
            "mp-release {VERSION} (x86_64-unknown-linux-musl) downloaded and verified"
        )) || r.log.contains(&format!(
            "mp-release {VERSION} (aarch64-unknown-linux-musl) downloaded and verified"
        )),
        "{}",
        r.log
    );
    r.saw("review-status", "approved");
    r.saw("published", "true");
    assert!(
        r.echoed("version").is_some_and(|v| !v.is_empty()),
        "{}",
        r.log
    );
    assert!(
        r.echoed("audit-id").is_some_and(|v| !v.is_empty()),
        "{}",
        r.log
    );
    assert!(
        r.summary().contains("mp-release"),
        "summary: {}",
        r.summary()
    );
    assert!(r.log.contains("Job succeeded"), "{}", r.log);
}

/// The Action's own run of a sandbox rollout and of `stats`: later steps read `rollout-status`
/// and `stats`, and the job summary carries the charts.
#[test]
fn a_rollout_and_stats_run_in_the_action_and_later_steps_read_their_outputs() {
    let a = Act::new(&release().table);
    let wf = format!(
        "on: push\njobs:\n  release:\n    runs-on: ubuntu-latest\n    steps:\n      - id: roll\n        uses: acme/mp-release@v1\n        with:\n          sandbox: true\n          rollout: 5,50,100\n      - id: stats\n        uses: acme/mp-release@v1\n        with:\n          command: stats\n          sandbox: true\n{}",
        echo_step(&[
            ("rollout", "steps.roll.outputs.rollout-status".into()),
            ("stats", "steps.stats.outputs.stats".into()),
        ])
    );
    let r = a.run(&wf, &[], &[]);
    assert_eq!(r.code, 0, "{}", r.log);
    assert!(
        r.echoed("rollout")
            .is_some_and(|v| v.contains("\"state\":\"complete\"") && v.contains("\"percent\":100")),
        "{}",
        r.log
    );
    assert!(
        r.echoed("stats")
            .is_some_and(|v| v.contains("\"releases\":[{") && v.contains("\"visit_uv\"")),
        "{}",
        r.log
    );
    // act logs each summary's first line
    assert!(
        r.summary().contains("📈 mp-release stats SANDBOX"),
        "summary: {}",
        r.summary()
    );
    assert!(r.log.contains("Job succeeded"), "{}", r.log);
}

#[test]
fn a_sha_pin_installs_the_recorded_release_and_a_second_step_uses_the_tool_cache() {
    let a = Act::new(&release().table);
    let uses = format!("acme/mp-release@{}", a.sha);
    let wf = format!(
        "on: push\njobs:\n  release:\n    runs-on: ubuntu-latest\n    steps:\n      - id: one\n        uses: {uses}\n        with:\n          sandbox: true\n      - id: two\n        uses: {uses}\n        with:\n          command: version\n          version: 2.3.4\n{}",
        echo_step(&[
            ("first", "steps.one.outputs.review-status".into()),
            ("second", "steps.two.outputs.version".into()),
            ("tag", "steps.two.outputs.tag".into()),
        ])
    );
    let r = a.run(&wf, &[], &[]);
    assert_eq!(r.code, 0, "{}", r.log);
    assert_eq!(
        r.log.matches("downloaded and verified").count(),
        1,
        "{}",
        r.log
    );
    assert!(
        r.log.contains(&format!("mp-release {VERSION} (")),
        "{}",
        r.log
    );
    assert!(r.log.contains("from the tool cache"), "{}", r.log);
    r.saw("first", "approved");
    r.saw("second", "2.3.4");
    r.saw("tag", "v2.3.4");
}

/// The sandbox from `@v1` with this checksum table: a failed job.
fn sandbox_fails_to_install(table: &str) -> ActRun {
    let a = Act::new(table);
    let wf = workflow(
        "acme/mp-release@v1",
        &indent(&["sandbox: true"]),
        &["version"],
    );
    let r = a.run(&wf, &[], &[]);
    assert_ne!(r.code, 0, "{}", r.log);
    r
}

#[test]
fn a_wrong_checksum_stops_the_job_before_anything_runs() {
    let bad = release()
        .table
        .lines()
        .map(|l| match l.split_once("  ") {
            Some((_, asset)) if !l.starts_with('#') => format!("{}  {asset}", "0".repeat(64)),
            _ => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let r = sandbox_fails_to_install(&bad);
    assert!(r.log.contains("checksum mismatch"), "{}", r.log);
    assert!(r.log.contains("refusing to run it"), "{}", r.log);
    assert!(r.log.contains("Job failed"), "{}", r.log);
    assert_eq!(r.echoed("version"), None, "the next step never ran");
}

#[test]
fn a_ref_without_a_recorded_release_says_what_to_do() {
    let r = sandbox_fails_to_install(
        "# sha256 of the release binaries of this ref, one per line: \"<sha256>  <asset>\".\n",
    );
    assert!(r.log.contains("records no release"), "{}", r.log);
    assert!(r.log.contains("build-from-source"), "{}", r.log);
}

const UPLOADER: &str = "wx0123456789abcdef";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/miniprogram-ci")
}

#[test]
fn upload_and_preview_against_the_served_emulator_mask_the_key() {
    let mut w = World::new(Scenario::default());
    w.add_app(AppSpec {
        appid: UPLOADER.into(),
        ..AppSpec::default()
    });
    let public =
        std::fs::read_to_string(fixtures().join("keys/public.wx0123456789abcdef.pem")).unwrap();
    w.add_upload_key(UPLOADER, &public);
    let emu = Emulator::start_with(w);
    let a = Act::new(&release().table);
    let project = fixtures().join("sample-projects/sample");
    let key =
        std::fs::read_to_string(fixtures().join("keys/private.wx0123456789abcdef.key")).unwrap();
    let mut with = Vec::new();
    let lines = [
        format!("appid: {UPLOADER}"),
        format!("project-path: {}", project.display()),
        "private-key: ${{ env.UPLOAD_KEY }}".to_owned(),
        format!("upload-base-url: {}", emu.uri()),
        "engine: native".to_owned(),
    ];
    for l in &lines {
        with.push(l.as_str());
    }
    let steps = |command: &str, extra: &[&str]| {
        let mut all = with.clone();
        all.push(command);
        all.extend_from_slice(extra);
        indent(&all)
    };
    let wf = format!(
        "on: push\njobs:\n  release:\n    runs-on: ubuntu-latest\n    steps:\n      - id: up\n        uses: acme/mp-release@v1\n        with:\n{}      - id: mp\n        uses: acme/mp-release@v1\n        with:\n{}{}          test -s \"$V2\"\n",
        steps("command: upload", &["version: 1.2.3"]),
        steps("command: preview", &["qrcode-output: preview.png"]),
        echo_step(&[
            ("sizes", "steps.up.outputs.package-sizes".into()),
            ("version", "steps.up.outputs.version".into()),
            ("qrcode", "steps.mp.outputs.qrcode".into()),
            ("content", "steps.mp.outputs.qrcode-content".into()),
        ]),
    );
    // The key goes in as a plain env value (not an act secret): masking it is the binary's doing.
    let r = a.run(&wf, &[("UPLOAD_KEY", &key)], &[]);
    assert_eq!(r.code, 0, "{}", r.log);
    r.saw("version", "1.2.3");
    assert!(
        r.echoed("sizes").is_some_and(|s| s.contains("\"size\"")),
        "{}",
        r.log
    );
    assert!(
        r.echoed("qrcode")
            .is_some_and(|q| q.ends_with("preview.png")),
        "{}",
        r.log
    );
    assert!(
        r.echoed("content").is_some_and(|c| !c.is_empty()),
        "{}",
        r.log
    );
    assert_eq!(emu.world().uploads().len(), 2, "one upload, one preview");
    for line in key
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 8)
    {
        assert!(
            !r.log.contains(line),
            "a line of the private key is in the log"
        );
    }
}

#[test]
fn run_with_platform_credentials_reports_like_a_workflow_author_expects() {
    let wx = Wx::new(
        Scenario::default().review(vec![ReviewStep::approve_after_polls(1)]),
        |a| a,
    );
    let a = Act::new(&release().table);
    let with = indent(&[
        "appid: ${{ env.APPID }}",
        "component-appid: ${{ env.COMPONENT }}",
        "component-secret: ${{ secrets.COMPONENT_SECRET }}",
        "component-verify-ticket: ${{ env.TICKET }}",
        "authorizer-refresh-token: ${{ env.REFRESH }}",
        "template-id: ${{ env.TEMPLATE }}",
        "version-from: wechat",
        "bump: minor",
        "wechat-base-url: ${{ env.WECHAT }}",
        "poll-interval: 1s",
        "poll-max: 1s",
        "privacy-poll-interval: 1s",
    ]);
    let wf = workflow(
        "acme/mp-release@v1",
        &with,
        &[
            "version",
            "previous-version",
            "review-status",
            "published",
            "audit-id",
            "quota-rest",
        ],
    );
    let template = wx.template.to_string();
    let uri = wx.emu.uri();
    let r = a.run(
        &wf,
        &[
            ("APPID", APP),
            ("COMPONENT", COMPONENT),
            ("TICKET", &wx.ticket),
            ("REFRESH", &wx.refresh),
            ("TEMPLATE", &template),
            ("WECHAT", &uri),
        ],
        &[("COMPONENT_SECRET", COMPONENT_SECRET)],
    );
    assert_eq!(r.code, 0, "{}", r.log);
    r.saw("version", "1.5.0");
    r.saw("previous-version", "1.4.2");
    r.saw("review-status", "approved");
    r.saw("published", "true");
    assert_eq!(wx.successes("/wxa/release"), 1);
    assert!(r.summary().contains("1.5.0"), "summary: {}", r.summary());
    // Secrets given as env values (the ticket, the refresh token) and the tokens the emulator
    // issued at run time: masked by the binary, absent from the log.
    let mut secrets = wx.emu.world().issued_tokens();
    secrets.extend([wx.ticket.as_str(), wx.refresh.as_str(), COMPONENT_SECRET].map(str::to_owned));
    for s in &secrets {
        assert!(!r.log.contains(s.as_str()), "{s} is in the log:\n{}", r.log);
    }
    // A bad input: exit 2 becomes a failed job with an error annotation naming the input.
    let bad = workflow(
        "acme/mp-release@v1",
        &indent(&["command: version", "bump: sideways"]),
        &["version"],
    );
    let r = a.run(&bad, &[], &[]);
    assert_ne!(r.code, 0, "{}", r.log);
    assert!(r.log.contains("::error"), "{}", r.log);
    assert!(r.log.contains("INPUT_BUMP"), "{}", r.log);
}

/// The workflows of docs/gating.md, as written there (`<owner>` → `acme`), in act: the review on
/// a release PR (its `npm ci && npm run build:weapp` builds a real project into dist/, uploaded by
/// the native engine to the emulator; the check run on the PR head ends `success`), then the
/// publish on the merge commit (the merged tree is the reviewed one: released and tagged). GitHub
/// is a wiremock fake whose requests are checked against GitHub's OpenAPI description.
#[test]
fn the_gating_workflows_of_the_docs_review_a_release_pr_and_publish_its_merge() {
    use crate::github::{answer, FakeGitHub};
    use serde_json::json;
    use wiremock::matchers::{method, path};
    use wiremock::Mock;
    const APPID: &str = "wx1234567890abcdef";
    const PLATFORM: &str = "wxabcdef1234567890";
    let docs =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/gating.md"))
            .unwrap();
    let workflow = |name: &str| -> String {
        let start = docs.find(&format!("```yaml\nname: {name}\n")).expect(name) + 8;
        let len = docs[start..].find("```").unwrap();
        docs[start..start + len].replace("<owner>", "acme")
    };
    // WeChat: the docs' platform and app, the app live at 1.4.2, its code-upload key registered.
    let mut w = World::new(Scenario::default().review(vec![ReviewStep::approve_after_polls(1)]));
    let ticket = w.add_platform(PLATFORM, COMPONENT_SECRET);
    let reg = w.add_app(AppSpec {
        live_version: Some("1.4.2".into()),
        ..AppSpec::authorized(APPID, PLATFORM)
    });
    let public =
        std::fs::read_to_string(fixtures().join("keys/public.wx0123456789abcdef.pem")).unwrap();
    w.add_upload_key(APPID, &public);
    let emu = Emulator::start_with(w);
    let key =
        std::fs::read_to_string(fixtures().join("keys/private.wx0123456789abcdef.key")).unwrap();
    // The repository: a mini program in project/, an npm build that copies it to dist/.
    let a = Act::new(&release().table);
    copy_dir(
        &fixtures().join("sample-projects/sample"),
        &a.repo.join("project"),
    );
    let config = a.repo.join("project/project.config.json");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("wx0123456789abcdef", APPID);
    std::fs::write(&config, text).unwrap();
    std::fs::write(
        a.repo.join("package.json"),
        r#"{ "name": "shop", "version": "1.4.2", "private": true, "scripts": { "build:weapp": "rm -rf dist && cp -r project dist" } }"#,
    )
    .unwrap();
    std::fs::write(
        a.repo.join("package-lock.json"),
        r#"{ "name": "shop", "version": "1.4.2", "lockfileVersion": 3, "requires": true, "packages": { "": { "name": "shop", "version": "1.4.2" } } }"#,
    )
    .unwrap();
    std::fs::write(a.repo.join(".gitignore"), "dist/\nnode_modules/\n").unwrap();
    git_at(&a.repo, &["init", "-q", "-b", "main"]);
    git_at(
        &a.repo,
        &[
            "remote",
            "add",
            "origin",
            "https://github.com/acme/shop.git",
        ],
    );
    let gh = FakeGitHub::new();
    gh.mount_check_runs();
    gh.mount_new_comment();
    let uri = emu.uri();
    let gh_uri = gh.uri();
    let env = [
        ("GITHUB_API_URL", gh_uri.as_str()),
        ("MP_RELEASE_WECHAT_BASE_URL", uri.as_str()),
        ("MP_RELEASE_UPLOAD_BASE_URL", uri.as_str()),
        ("MP_RELEASE_VIRTUAL_CLOCK", "true"),
        ("MP_RELEASE_ENGINE", "native"),
        // The platform's AppSecret and ticket instead of the docs' component-access-token secret
        // (left unset here, so the input is empty and counts as not given).
        ("MP_RELEASE_COMPONENT_SECRET", COMPONENT_SECRET),
        ("MP_RELEASE_COMPONENT_VERIFY_TICKET", ticket.as_str()),
    ];
    let secrets = [
        ("GITHUB_TOKEN", "ghs_actGatingToken0000000000000000000"),
        ("MP_UPLOAD_KEY", key.as_str()),
        ("MP_AUTHORIZER_REFRESH_TOKEN", reg.refresh_token.as_str()),
    ];

    // 1. The review, on the release PR #7 (its head: the repository's commit).
    let review = workflow("wechat-review");
    std::fs::write(a.repo.join(".github/workflows/release.yml"), &review).unwrap();
    git_at(&a.repo, &["add", "-A"]);
    git_at(&a.repo, &["commit", "-qm", "release: 1.5.0"]);
    let head = git_at(&a.repo, &["rev-parse", "HEAD"]).trim().to_owned();
    let event = a.home.path().join("pull_request.json");
    std::fs::write(
        &event,
        json!({ "action": "opened", "number": 7, "pull_request": {
            "number": 7, "title": "release: 1.5.0", "labels": [],
            "head": { "sha": head, "ref": "mp-release/release", "repo": { "full_name": "acme/shop", "fork": false } },
            "base": { "sha": head, "ref": "main", "repo": { "full_name": "acme/shop", "fork": false } }
        } })
        .to_string(),
    )
    .unwrap();
    let r = a.run_event("pull_request", Some(&event), &review, &env, &secrets);
    assert_eq!(r.code, 0, "{}", r.log);
    assert!(r.log.contains("Job succeeded"), "{}", r.log);
    assert!(
        r.log.contains(&format!("Success - Main {CHECKOUT}")),
        "{}",
        r.log
    );
    assert_eq!(emu.world().uploads().len(), 1, "dist/ uploaded");
    assert_eq!(emu.world().successes("/wxa/submit_audit"), 1);
    assert_eq!(emu.world().successes("/wxa/release"), 0, "publish: never");
    let seen = gh.seen();
    let last = seen.iter().rfind(|s| s.method == "PATCH").unwrap();
    assert_eq!(last.body["conclusion"], "success", "{:?}", last.body);
    let handover = last.body["external_id"].as_str().unwrap().to_owned();
    let created = seen
        .iter()
        .find(|s| s.path == "/repos/acme/shop/check-runs")
        .unwrap();
    assert_eq!(created.body["head_sha"], head.as_str());
    assert_eq!(gh.count("POST", "/repos/acme/shop/issues/7/comments"), 1);
    assert!(!r.log.contains(reg.refresh_token.as_str()));

    // 2. The merge: a squash commit on main with the reviewed tree; the publish workflow.
    let publish = workflow("wechat-publish");
    std::fs::write(a.repo.join(".github/workflows/release.yml"), &publish).unwrap();
    git_at(&a.repo, &["add", "-A"]);
    git_at(&a.repo, &["commit", "-qm", "release: 1.5.0 (#7)"]);
    let merge = git_at(&a.repo, &["rev-parse", "HEAD"]).trim().to_owned();
    crate::github::mount_merged_release_pr_at(
        &gh,
        &head,
        &merge,
        &handover,
        "success",
        "1111111111111111111111111111111111111111",
    );
    gh.mount(
        Mock::given(method("POST"))
            .and(path("/repos/acme/shop/git/refs"))
            .respond_with(answer(201, "ref.json")),
    );
    let r = a.run_event("push", None, &publish, &env, &secrets);
    assert_eq!(r.code, 0, "{}", r.log);
    assert!(
        r.log.contains("the merged tree is the reviewed head"),
        "{}",
        r.log
    );
    assert_eq!(emu.world().successes("/wxa/release"), 1, "published once");
    let tag = gh
        .seen()
        .into_iter()
        .find(|s| s.path.ends_with("/git/refs"))
        .unwrap();
    assert_eq!(tag.body, json!({ "ref": "refs/tags/v1.5.0", "sha": merge }));
    gh.assert_follows_openapi();
}
