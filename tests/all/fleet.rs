//! Fleets on the emulator: 50 merchant apps of mixed fate through `fleet plan` / `fleet run` /
//! `fleet report`, quota running out midway, a crash and a `kill -9` mid-fleet resumed, shards
//! merged into the unsharded report, and bad fleet inputs refused before any call. Every run is
//! scanned for every secret the emulator issued and every refresh token.

use crate::helpers::{
    assert_held_by, bin, parse_outputs, run, wait_for, walk, without_masks, NetTrap, PipelineRun,
};
use mp_release_emulator::{AppSpec, Emulator, ReviewStep, Scenario, World};
use serde_json::Value;
use std::collections::BTreeMap;

const C: &str = "wxc0c0c0c0c0c0c0c0";
const SECRET: &str = "fleet-component-secret-42";

/// Each of the first `apps` apps had exactly one successful call of each of `paths`.
fn assert_once_each(f: &Fleet, apps: usize, paths: &[&str]) {
    for i in 0..apps {
        let a = appid(i);
        for p in paths {
            assert_eq!(f.successes_for(p, &a), 1, "app {i}: {p} once");
        }
    }
}

/// `fleet <sub> --fleet-file fleet.yml` and the rest of the arguments.
fn fleet_args<'a>(sub: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["fleet", sub, "--fleet-file", "fleet.yml"];
    args.extend_from_slice(rest);
    args
}

fn appid(i: usize) -> String {
    format!("wxf1ee7{i:011x}")
}

/// An emulator with a platform, a template and `n` merchant apps.
struct Fleet {
    emu: Emulator,
    ticket: String,
    template: u64,
    refresh: BTreeMap<String, String>,
    dir: tempfile::TempDir,
}

impl Fleet {
    fn new(n: usize, scenario: Scenario, spec: impl Fn(usize, AppSpec) -> AppSpec) -> Self {
        let mut w = World::new(scenario);
        let ticket = w.add_platform(C, SECRET);
        let template = w
            .add_template(
                C,
                "wxd0d0d0d0d0d0d0d0",
                "3.1.0",
                &["pages/index/index"],
                4096,
            )
            .unwrap();
        let mut refresh = BTreeMap::new();
        for i in 0..n {
            w.advance(1);
            let reg = w.add_app(spec(
                i,
                AppSpec {
                    live_version: Some("3.0.0".into()),
                    ..AppSpec::authorized(&appid(i), C)
                },
            ));
            refresh.insert(appid(i), reg.refresh_token);
        }
        Self {
            emu: Emulator::start_with(w),
            ticket,
            template,
            refresh,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// `fleet.yml`: the template, `apps: all`.
    fn write_all(&self) {
        self.write(
            "fleet.yml",
            &format!("template: {}\napps: all\n", self.template),
        );
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir.path().join(name), text).unwrap();
    }

    fn envs(&self) -> Vec<(String, String)> {
        let d = self.dir.path();
        [
            ("GITHUB_ACTIONS", "true".to_owned()),
            ("GITHUB_OUTPUT", d.join("gh_output").display().to_string()),
            (
                "GITHUB_STEP_SUMMARY",
                d.join("gh_summary").display().to_string(),
            ),
            ("INPUT_COMPONENT_APPID", C.to_owned()),
            ("INPUT_COMPONENT_SECRET", SECRET.to_owned()),
            ("INPUT_COMPONENT_VERIFY_TICKET", self.ticket.clone()),
            ("MP_RELEASE_WECHAT_BASE_URL", self.emu.uri()),
            ("MP_RELEASE_UPLOAD_BASE_URL", self.emu.uri()),
            ("MP_RELEASE_VIRTUAL_CLOCK", "true".to_owned()),
            ("MP_RELEASE_REQUEST_TIMEOUT", "5s".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    fn cmd(&self, args: &[&str], env: &[(&str, &str)]) -> assert_cmd::Command {
        let trap = NetTrap::new();
        let mut c = bin(self.dir.path(), &trap);
        c.args(args).envs(self.envs());
        for (k, v) in env {
            c.env(k, v);
        }
        c
    }

    /// The same as a plain process (to kill it).
    fn spawn(&self, args: &[&str]) -> std::process::Child {
        let trap = NetTrap::new();
        crate::helpers::clean(
            std::process::Command::new(assert_cmd::cargo::cargo_bin("mp-release")),
            self.dir.path(),
            &trap,
        )
        .args(args)
        .envs(self.envs())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
    }

    /// `kill -9` of a `fleet` process `ms` after it started, once for each moment.
    fn kill_at(&self, args: &[&str], moments: &[u64]) {
        for ms in moments {
            let mut child = self.spawn(args);
            std::thread::sleep(std::time::Duration::from_millis(*ms));
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> PipelineRun {
        for f in ["gh_output", "gh_summary"] {
            let _ = std::fs::remove_file(self.dir.path().join(f));
        }
        let r = run(self.cmd(args, env));
        let outputs_text =
            std::fs::read_to_string(self.dir.path().join("gh_output")).unwrap_or_default();
        let out = PipelineRun {
            code: r.code,
            stdout: r.stdout,
            stderr: r.stderr,
            outputs: parse_outputs(&outputs_text),
            summary: std::fs::read_to_string(self.dir.path().join("gh_summary"))
                .unwrap_or_default(),
        };
        self.assert_no_leaks(&out, &outputs_text);
        out
    }

    /// No issued token, refresh token, ticket or secret in anything written (state files too).
    fn assert_no_leaks(&self, r: &PipelineRun, outputs: &str) {
        let mut secrets = self.emu.world().issued_tokens();
        secrets.extend([SECRET.to_owned(), self.ticket.clone()]);
        secrets.extend(self.refresh.values().cloned());
        let mut files = String::new();
        for e in walk(self.dir.path()) {
            files.push_str(&std::fs::read_to_string(e).unwrap_or_default());
        }
        let stdout = without_masks(&r.stdout);
        for s in &secrets {
            for (name, text) in [
                ("stdout", &stdout),
                ("stderr", &r.stderr),
                ("outputs", &outputs.to_owned()),
                ("summary", &r.summary),
                ("files", &files),
            ] {
                assert!(
                    !text.contains(s.as_str()),
                    "secret {s:?} leaked into {name}"
                );
            }
        }
    }

    /// Successful calls of `path` made for `app`.
    fn successes_for(&self, path: &str, app: &str) -> usize {
        self.emu
            .world()
            .journal()
            .iter()
            .filter(|e| {
                e.path == path && e.account.as_deref() == Some(app) && e.processed == Some(0)
            })
            .count()
    }

    fn report(&self, dir: &str) -> Value {
        let d = self.dir.path().join(dir);
        let f = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("fleet-report")
            })
            .unwrap();
        serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap()
    }
}

/// Every review approved at the first poll, except `rejected`'s ("no menu").
fn approved_but(rejected: usize) -> Scenario {
    let mut scenario = Scenario {
        review_quota: 100,
        default_review: vec![ReviewStep::approve_after_polls(1)],
        ..Scenario::default()
    };
    scenario.app_reviews.insert(
        appid(rejected),
        vec![ReviewStep::reject_after_polls(1, "no menu", &[])],
    );
    scenario
}

/// Two fields of every result of a report, as pairs.
fn pairs(report: &Value, key: &str, value: &str) -> Vec<(String, String)> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[key].as_str().unwrap().to_owned(),
                r[value].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn statuses(report: &Value) -> BTreeMap<String, String> {
    pairs(report, "appid", "status").into_iter().collect()
}

/// 50 apps: approve after 1–3 polls, reject, delay then approve, one never authorized, one
/// without permission set 18, one without a listed refresh token (and one whose token comes
/// from the environment instead), one with an ext_json that cannot be made, one skipped.
fn fifty() -> Fleet {
    let mut scenario = Scenario {
        review_quota: 200,
        ..Scenario::default()
    };
    for i in 0..50 {
        let steps = match i % 10 {
            6 => vec![ReviewStep::reject_after_polls(
                1,
                &format!("{i}: 页面内容不完整"),
                &["m1"],
            )],
            7 => vec![
                ReviewStep::delay_after_polls(1, "审核延后"),
                ReviewStep::approve_after_polls(2),
            ],
            n => vec![ReviewStep::approve_after_polls(1 + n as u32 % 3)],
        };
        scenario.app_reviews.insert(appid(i), steps);
    }
    Fleet::new(50, scenario, |i, spec| match i {
        40 => AppSpec {
            component_appid: None,
            ..spec
        },
        41 => AppSpec {
            set18: false,
            ..spec
        },
        42 | 43 => AppSpec {
            refresh_token_listed: false,
            ..spec
        },
        _ => spec,
    })
}

fn fifty_file(f: &Fleet) -> String {
    let mut yaml = format!(
        "template: {}\nvars: {{ brand: Acme }}\next-json:\n  extEnable: true\n  extAppid: \"{{{{appid}}}}\"\n  ext: {{ brand: \"{{{{brand}}}}\", shop: \"{{{{shop}}}}\" }}\nreview:\n  version-desc: the spring release\napps:\n",
        f.template
    );
    for i in 0..50 {
        yaml.push_str(&format!(
            "  - appid: {}\n    labels: [{}]\n",
            appid(i),
            if i < 25 { "north" } else { "south" }
        ));
        if i != 44 {
            yaml.push_str(&format!("    vars: {{ shop: \"shop {i}\" }}\n"));
        }
        if i == 43 {
            yaml.push_str("    refresh-token-env: SHOP43_REFRESH\n");
        }
        if i == 45 {
            yaml.push_str("    skip: closed for renovation\n");
        }
        if i == 3 {
            yaml.push_str("    gray-percentage: 10\n");
        }
        if i == 4 {
            yaml.push_str("    publish: never\n");
        }
    }
    yaml
}

#[test]
fn fifty_apps_of_mixed_fate() {
    let f = fifty();
    f.write("fleet.yml", &fifty_file(&f));
    let token43 = f.refresh[&appid(43)].clone();
    let env = [("SHOP43_REFRESH", token43.as_str())];
    // the plan first: pure, nothing changes
    let p = f.run(&fleet_args("plan", &["--shards", "3"]), &env);
    assert_eq!(p.code, 0, "{}", p.stderr);
    let plan: Value = serde_json::from_str(&p.outputs["plan"]).unwrap();
    assert_eq!(plan["apps"].as_array().unwrap().len(), 45);
    assert_eq!(p.outputs["submits"], "45");
    let matrix: Value = serde_json::from_str(&p.outputs["matrix"]).unwrap();
    assert_eq!(matrix["include"].as_array().unwrap().len(), 3);
    assert_eq!(
        f.emu.world().successes("/wxa/commit"),
        0,
        "plan commits nothing"
    );

    let r = f.run(&fleet_args("run", &["--state-dir", "state"]), &env);
    assert_eq!(r.code, 1, "rejections fail the fleet: {}", r.stderr);
    let report = f.report("state");
    let st = statuses(&report);
    assert_eq!(st.len(), 50, "every app has a line");
    for i in 0..50 {
        let want = match i {
            40 | 41 | 42 | 44 | 45 => "skipped",
            3 => "phased",
            4 => "approved",
            _ if i % 10 == 6 => "rejected",
            _ => "published",
        };
        assert_eq!(st[&appid(i)], want, "app {i}");
    }
    let reasons: BTreeMap<String, String> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["appid"].as_str().unwrap().to_owned(),
                r["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(reasons[&appid(40)].contains("not authorized"));
    assert!(reasons[&appid(41)].contains("permission set 18"));
    assert!(reasons[&appid(42)].contains("no refresh token"));
    assert!(reasons[&appid(44)].contains("{{shop}}"));
    assert!(reasons[&appid(45)].contains("renovation"));
    assert!(reasons[&appid(16)].contains("16: 页面内容不完整"));
    // every planned app: one commit, one submission; a release for each approved one
    for i in (0..50).filter(|i| ![40, 41, 42, 44, 45].contains(i)) {
        let a = appid(i);
        assert_eq!(
            f.successes_for("/wxa/commit", &a),
            1,
            "app {i} committed once"
        );
        assert_eq!(
            f.successes_for("/wxa/submit_audit", &a),
            1,
            "app {i} submitted once"
        );
        let released =
            f.successes_for("/wxa/release", &a) + f.successes_for("/wxa/grayrelease", &a);
        assert_eq!(
            released,
            usize::from(st[&a] == "published" || st[&a] == "phased"),
            "app {i}"
        );
    }
    let w = f.emu.world();
    // One component token per process (plan, run), refreshed when it comes within 10 minutes of
    // its 7200 s: every app's sleep moves the one virtual clock, so a long run crosses that.
    let component_tokens = w.successes("/cgi-bin/component/api_component_token");
    let elapsed = w.now() - w.journal()[0].at;
    let allowed = 2 + usize::try_from(elapsed / 6600).unwrap();
    assert!(
        (2..=allowed).contains(&component_tokens),
        "{component_tokens} component tokens for 45 apps in {elapsed} s of the virtual clock"
    );
    let state = w.app_state(&appid(0)).unwrap();
    let ext = &state["trial"]["ext_json"];
    assert_eq!(ext["ext"]["shop"], "shop 0");
    assert_eq!(ext["extAppid"], appid(0).as_str());
    drop(w);
    let counts: Value = serde_json::from_str(&r.outputs["fleet-counts"]).unwrap();
    assert_eq!(counts["published"], 38);
    assert_eq!(counts["rejected"], 5);
    assert!(r.outputs["failed-apps"].contains(&appid(6)));
    assert!(r.summary.contains("#### Failures (5)"), "{}", r.summary);
    // progress is a handful of lines, not one per poll
    let progress = r.stderr.lines().filter(|l| l.contains("apps done")).count();
    assert!(progress <= 12, "{progress} progress lines");
    assert!(!r.stderr.contains("next check in"), "no per-poll lines");

    // a second run changes nothing: every app is finished
    let before = f
        .emu
        .world()
        .journal()
        .iter()
        .filter(|e| e.path.starts_with("/wxa/"))
        .count();
    let again = f.run(&fleet_args("run", &["--state-dir", "state"]), &env);
    assert_eq!(again.code, 1);
    assert_eq!(statuses(&f.report("state")), st);
    let after = f
        .emu
        .world()
        .journal()
        .iter()
        .filter(|e| e.path.starts_with("/wxa/"))
        .count();
    assert_eq!(
        before, after,
        "finished apps are reported again, nothing is sent"
    );
    // selection by label
    let north = f.run(&fleet_args("plan", &["--select", "label=north"]), &env);
    let plan: Value = serde_json::from_str(&north.outputs["plan"]).unwrap();
    assert_eq!(plan["apps"].as_array().unwrap().len(), 25);
    assert_eq!(plan["not-selected"], 25);
}

/// The platform's quota runs out after 10 submissions (a sanction, or another tool): the rest
/// are reported as not submitted, nothing is submitted past it, and a run after the quota is
/// refilled submits exactly those.
#[test]
fn quota_running_out_midway_holds_the_rest() {
    let scenario = Scenario {
        review_quota: 100,
        quota_cut_after: Some(10),
        token_lifetime: 400 * 86_400,
        default_review: vec![ReviewStep::approve_after_polls(1)],
        ..Scenario::default()
    };
    let f = Fleet::new(24, scenario, |_, s| s);
    f.write_all();
    let r = f.run(
        &fleet_args("run", &["--state-dir", "s", "--concurrency", "6"]),
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let st = statuses(&f.report("s"));
    let published = st.values().filter(|s| *s == "published").count();
    let held = st.values().filter(|s| *s == "not-submitted").count();
    assert_eq!((published, held), (10, 14), "{st:?}");
    assert_eq!(
        f.emu.world().successes("/wxa/submit_audit"),
        10,
        "nothing submitted past the quota"
    );
    let refused = f
        .emu
        .world()
        .journal()
        .iter()
        .filter(|e| e.path == "/wxa/submit_audit" && e.errcode == Some(85085))
        .count();
    assert!(
        refused <= 6,
        "after the first 85085 only the submissions already in flight were tried: {refused}"
    );
    // next month: the quota is back, the held apps continue from before their submission
    let ticket = {
        let mut w = f.emu.world();
        let mut s = w.scenario().clone();
        s.quota_cut_after = None;
        w.set_scenario(s);
        w.advance(32 * 86_400);
        w.push_ticket(C).unwrap()
    };
    let r = f.run(
        &fleet_args("run", &["--state-dir", "s"]),
        &[("INPUT_COMPONENT_VERIFY_TICKET", &ticket)],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(statuses(&f.report("s")).values().all(|s| s == "published"));
    for i in 0..24 {
        assert_eq!(
            f.successes_for("/wxa/submit_audit", &appid(i)),
            1,
            "app {i}"
        );
        assert_eq!(
            f.successes_for("/wxa/commit", &appid(i)),
            1,
            "app {i}: not committed again"
        );
    }
}

/// A plan that would run the quota out is refused before anything is sent (exit 2); with
/// max-submits the first N apps are submitted and the rest reported as not submitted.
#[test]
fn a_plan_over_the_quota_is_refused_or_cut() {
    let scenario = Scenario {
        review_quota: 6,
        default_review: vec![ReviewStep::approve_after_polls(1)],
        ..Scenario::default()
    };
    let f = Fleet::new(10, scenario, |_, s| s);
    f.write_all();
    let r = f.run(&["fleet", "run", "--fleet-file", "fleet.yml"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("review quota has 6 left") && r.stderr.contains("max-submits"),
        "{}",
        r.stderr
    );
    assert_eq!(f.emu.world().successes("/wxa/commit"), 0);
    let r = f.run(
        &fleet_args("run", &["--max-submits", "6", "--state-dir", "s"]),
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let st = statuses(&f.report("s"));
    assert_eq!(st.values().filter(|s| *s == "published").count(), 6);
    assert_eq!(st.values().filter(|s| *s == "not-submitted").count(), 4);
    assert_eq!(f.emu.world().successes("/wxa/submit_audit"), 6);
    assert_eq!(
        f.emu.world().successes("/wxa/commit"),
        6,
        "apps past the budget are not even committed"
    );
}

/// Reviews approved at the second poll, every answer `latency_ms` late.
fn slow_reviews(latency_ms: u64) -> Scenario {
    Scenario {
        review_quota: 100,
        latency_ms,
        default_review: vec![ReviewStep::approve_after_polls(2)],
        ..Scenario::default()
    }
}

/// A crash right after a submission (the test hook), then `kill -9` at random moments: every
/// rerun continues, and no app is submitted or released twice.
#[test]
fn a_killed_fleet_resumes_without_submitting_twice() {
    let f = Fleet::new(12, slow_reviews(3), |_, s| s);
    f.write_all();
    let args = fleet_args("run", &["--state-dir", "s", "--concurrency", "4"]);
    let crashed = f.run(&args, &[("MP_RELEASE_CRASH_AFTER", "submit_audit")]);
    assert_ne!(crashed.code, 0);
    assert!(f.emu.world().successes("/wxa/submit_audit") >= 1);
    // kill -9 at growing moments
    f.kill_at(&args, &[40, 90, 160]);
    let r = f.run(&args, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(statuses(&f.report("s")).values().all(|s| s == "published"));
    assert_once_each(&f, 12, &["/wxa/submit_audit", "/wxa/release"]);
}

/// Two `fleet run`s of one shard on one state-dir at once (a schedule faster than the run): the
/// second stops before any call (exit 3, naming the holder); a killed holder frees it.
#[test]
fn one_fleet_run_at_a_time_per_state_dir() {
    let f = Fleet::new(4, slow_reviews(100), |_, s| s);
    f.write_all();
    let args = fleet_args("run", &["--state-dir", "s"]);
    let mut first = f.spawn(&args);
    wait_for(&f.dir.path().join("s/plan.json"));
    let second = f.run(&args, &[]);
    assert_held_by(&second, first.id());
    // stopped before the platform's client was even made
    assert!(!second.stderr.contains("WeChat API"), "{}", second.stderr);
    let _ = first.kill();
    let _ = first.wait();
    let r = f.run(&args, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(statuses(&f.report("s")).values().all(|s| s == "published"));
    assert_once_each(&f, 4, &["/wxa/submit_audit", "/wxa/release"]);
}

/// Three shards from one plan, each with its own state, merged by `fleet report`: the same apps,
/// outcomes and reasons as the unsharded run of the same fleet on a twin emulator.
#[test]
fn sharded_runs_merge_into_the_unsharded_report() {
    let make = || {
        let mut scenario = Scenario {
            review_quota: 100,
            default_review: vec![ReviewStep::approve_after_polls(1)],
            ..Scenario::default()
        };
        for i in [2, 9, 13] {
            scenario.app_reviews.insert(
                appid(i),
                vec![ReviewStep::reject_after_polls(
                    1,
                    &format!("reason {i}"),
                    &[],
                )],
            );
        }
        let f = Fleet::new(17, scenario, |i, s| {
            if i == 5 {
                AppSpec { set18: false, ..s }
            } else {
                s
            }
        });
        f.write(
            "fleet.yml",
            &format!(
                "template: {}\napps: all\noverrides:\n  - appid: {}\n    skip: paused\n",
                f.template,
                appid(7)
            ),
        );
        f
    };
    let whole = make();
    let r = whole.run(&fleet_args("run", &["--state-dir", "all"]), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let sharded = make();
    let p = sharded.run(
        &fleet_args("plan", &["--state-dir", "plan", "--shards", "3"]),
        &[],
    );
    assert_eq!(p.code, 0, "{}", p.stderr);
    for i in 1..=3 {
        let dir = sharded.dir.path().join(format!("shard{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(
            sharded.dir.path().join("plan/plan.json"),
            dir.join("plan.json"),
        )
        .unwrap();
        let r = sharded.run(
            &fleet_args(
                "run",
                &[
                    "--state-dir",
                    &format!("shard{i}"),
                    "--shard",
                    &format!("{i}/3"),
                ],
            ),
            &[],
        );
        assert!(r.code <= 1, "{}", r.stderr);
        assert!(
            r.stderr.contains("the plan saved in the state-dir"),
            "{}",
            r.stderr
        );
    }
    let merged = sharded.run(
        &[
            "fleet",
            "report",
            "--reports",
            "shard1",
            "--reports",
            "shard2",
            "--reports",
            "shard3",
        ],
        &[],
    );
    assert_eq!(merged.code, 1, "{}", merged.stderr);
    let strip = |v: &Value| -> Vec<Value> {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let mut r = r.clone();
                r.as_object_mut().unwrap().remove("audit-id");
                r
            })
            .collect()
    };
    let mut reports = Vec::new();
    for i in 1..=3 {
        reports.push(sharded.report(&format!("shard{i}")));
    }
    let mut from_shards: Vec<Value> = reports.iter().flat_map(&strip).collect();
    from_shards.sort_by(|a, b| a["appid"].as_str().cmp(&b["appid"].as_str()));
    assert_eq!(from_shards, strip(&whole.report("all")));
    assert_eq!(merged.outputs["fleet-counts"], r.outputs["fleet-counts"]);
    assert_eq!(merged.outputs["failed-apps"], r.outputs["failed-apps"]);
    let table = |s: &str| {
        s.lines()
            .filter(|l| l.starts_with("| `"))
            .map(|l| {
                // the review column differs between the twin emulators
                let cells: Vec<&str> = l.split(" | ").collect();
                format!("{} {} {}", cells[0], cells[2], cells[4])
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(table(&merged.summary), table(&r.summary));
    for shard in reports {
        assert_eq!(shard["shards"].as_array().unwrap().len(), 1);
    }
}

/// Bad fleet inputs: exit 2, a message naming the input, and not a single call.
#[test]
fn bad_fleet_inputs_are_refused_before_any_call() {
    let f = Fleet::new(2, Scenario::default(), |_, s| s);
    let good = format!("template: {}\napps: all\n", f.template);
    let cases: Vec<(&str, String, Vec<&str>, &str)> = vec![
        (
            "unknown key",
            format!("{good}colour: red\n"),
            vec![],
            "colour",
        ),
        (
            "bad appid",
            format!("template: {}\napps:\n  - appid: wx12\n", f.template),
            vec![],
            "apps[0] (wx12)",
        ),
        (
            "no such env",
            format!(
                "template: {}\napps:\n  - appid: {}\n    refresh-token-env: NOPE_TOKEN\n",
                f.template,
                appid(0)
            ),
            vec![],
            "NOPE_TOKEN",
        ),
        (
            "template word",
            "template: latest\napps: all\n".into(),
            vec![],
            "template id or new",
        ),
        (
            "new without version",
            "template: new\napps: all\n".into(),
            vec![],
            "version",
        ),
        (
            "new without project",
            "template: new\nversion: 1.0.0\napps: all\n".into(),
            vec![],
            "project-path",
        ),
        ("bad shard", good.clone(), vec!["--shard", "4/3"], "shard"),
        (
            "rollout without a state-dir",
            good.clone(),
            vec!["--rollout", "5,100"],
            "a fleet's rollout needs state-dir",
        ),
        (
            "falling rollout",
            good.clone(),
            vec!["--rollout", "5,5,100", "--state-dir", "st"],
            "must rise",
        ),
        (
            "bad select",
            good.clone(),
            vec!["--select", "colour=red"],
            "select",
        ),
        (
            "bad rate",
            good.clone(),
            vec!["--rate-limit", "fast"],
            "rate-limit",
        ),
        (
            "bad prune",
            good.clone(),
            vec!["--prune-templates", "all"],
            "prune-templates",
        ),
        ("ext-json input", good, vec!["--ext-json", "{}"], "ext-json"),
        ("not yaml", "template: [\n".into(), vec![], "YAML"),
    ];
    for (what, yaml, extra, says) in cases {
        f.write("bad.yml", &yaml);
        let mut args = vec!["fleet", "run", "--fleet-file", "bad.yml"];
        args.extend(extra);
        let r = f.run(&args, &[]);
        assert_eq!(r.code, 2, "{what}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{what}: {}", r.stderr);
    }
    let missing = f.run(&["fleet", "plan"], &[]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("fleet-file"), "{}", missing.stderr);
    assert!(
        f.emu.world().journal().is_empty(),
        "nothing was sent: {:?}",
        f.emu.world().journal().first()
    );
}

/// One chat message per fleet: the unsharded run tells the chats once, with the failures; the
/// shards of a matrix say nothing and `fleet report` tells the merged result once.
#[test]
fn a_fleet_is_one_chat_message() {
    let chats = crate::notify::Chats::new(true);
    let f = Fleet::new(6, approved_but(2), |_, s| s);
    f.write_all();
    let slack = chats.slack_url();
    let env = [("INPUT_NOTIFY_SLACK", slack.as_str())];
    let r = f.run(&fleet_args("run", &["--state-dir", "a"]), &env);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let texts = chats.slack_texts();
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(
        texts[0].contains("fleet release of 3.1.0 to 6 apps: 1 rejected, 5 published"),
        "{}",
        texts[0]
    );
    let body = &chats.slack_bodies()[0];
    assert!(
        body.contains(&format!("{}: rejected: no menu", appid(2))),
        "{body}"
    );
    // shards stay quiet; the merged report speaks once
    for i in 1..=2 {
        let r = f.run(
            &fleet_args(
                "run",
                &[
                    "--state-dir",
                    &format!("s{i}"),
                    "--shard",
                    &format!("{i}/2"),
                ],
            ),
            &env,
        );
        assert!(r.code <= 1, "{}", r.stderr);
    }
    assert_eq!(chats.slack_texts().len(), 1);
    let m = f.run(
        &["fleet", "report", "--reports", "s1", "--reports", "s2"],
        &env,
    );
    assert_eq!(m.code, 1, "{}", m.stderr);
    let texts = chats.slack_texts();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(
        texts[1].contains("to 6 apps: 1 rejected, 5 published"),
        "{}",
        texts[1]
    );
    for t in &texts {
        assert!(!t.contains(crate::notify::SLACK_SECRET));
    }
}

/// `--dry-run`: every app stops before its first change; nothing is committed or written.
#[test]
fn a_dry_run_changes_nothing() {
    let f = Fleet::new(4, Scenario::default(), |_, s| s);
    f.write_all();
    let r = f.run(&fleet_args("run", &["--state-dir", "s", "--dry-run"]), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let counts: Value = serde_json::from_str(&r.outputs["fleet-counts"]).unwrap();
    assert_eq!(counts["skipped"], 4, "{counts}");
    assert!(
        r.summary.contains("dry run: stopped before commit"),
        "{}",
        r.summary
    );
    let w = f.emu.world();
    assert_eq!(w.successes("/wxa/commit"), 0);
    assert!(!f.dir.path().join("s").exists(), "no state written");
}

/// A platform's token service instead of refresh tokens: each app's authorizer token comes from
/// `GET url?appid=…` with the service's key, even for apps the authorizer list has no refresh
/// token for; the key and the tokens never show.
#[test]
fn authorizer_tokens_from_a_token_service() {
    use wiremock::matchers::{header, method, path, query_param};
    use wiremock::{Mock, ResponseTemplate};
    let scenario = Scenario {
        default_review: vec![ReviewStep::approve_after_polls(1)],
        ..Scenario::default()
    };
    let f = Fleet::new(3, scenario, |_, s| AppSpec {
        refresh_token_listed: false,
        ..s
    });
    let service = crate::github::FakeGitHub::new();
    let comp = crate::helpers::component_token(&mut f.emu.world(), C, SECRET, &f.ticket);
    for i in 0..3 {
        let token = crate::helpers::authorizer_token(
            &mut f.emu.world(),
            &comp,
            C,
            &appid(i),
            &f.refresh[&appid(i)],
        );
        service.mount(
            Mock::given(method("GET"))
                .and(path("/tokens"))
                .and(query_param("appid", appid(i)))
                .and(header("authorization", "Bearer ts-key-0042"))
                .respond_with(ResponseTemplate::new(200).set_body_json(
                    serde_json::json!({ "authorizer_access_token": token, "expires_in": 7200 }),
                )),
        );
    }
    let mut yaml = format!(
        "template: {}\ntoken-service:\n  url: {}/tokens\n  auth-env: TS_KEY\napps:\n",
        f.template,
        service.uri()
    );
    for i in 0..3 {
        yaml.push_str(&format!("  - appid: {}\n", appid(i)));
    }
    f.write("fleet.yml", &yaml);
    let r = f.run(
        &["fleet", "run", "--fleet-file", "fleet.yml"],
        &[("TS_KEY", "ts-key-0042")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let counts: Value = serde_json::from_str(&r.outputs["fleet-counts"]).unwrap();
    assert_eq!(counts["published"], 3, "{counts}");
    assert_eq!(
        f.emu
            .world()
            .successes("/cgi-bin/component/api_authorizer_token"),
        3,
        "only the test's own"
    );
    assert!(
        r.stdout.contains("::add-mask::ts-key-0042"),
        "masked before anything"
    );
    assert!(!r.stderr.contains("ts-key-0042") && !without_masks(&r.stdout).contains("ts-key-0042"));
    // the key is required when the file names it
    let r = f.run(&["fleet", "plan", "--fleet-file", "fleet.yml"], &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("TS_KEY"), "{}", r.stderr);
}

/// `template: new`: the development mini program is uploaded once, its draft made a template, and
/// every app gets it; a rerun finds the template in the state-dir and uploads nothing.
#[test]
fn a_fleet_makes_its_template_from_the_upload() {
    let scenario = Scenario {
        default_review: vec![ReviewStep::approve_after_polls(1)],
        ..Scenario::default()
    };
    let f = Fleet::new(3, scenario, |_, s| s);
    let fixtures =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/miniprogram-ci");
    {
        let mut w = f.emu.world();
        w.add_app(AppSpec {
            appid: "wx0123456789abcdef".into(),
            dev_of: Some(C.into()),
            ..AppSpec::default()
        });
        w.add_upload_key(
            "wx0123456789abcdef",
            &std::fs::read_to_string(fixtures.join("keys/public.wx0123456789abcdef.pem")).unwrap(),
        );
    }
    f.write(
        "fleet.yml",
        "template: new\nversion: 4.0.0\ndesc: the autumn menu\napps: all\n",
    );
    let project = fixtures
        .join("sample-projects/sample")
        .display()
        .to_string();
    let key = fixtures
        .join("keys/private.wx0123456789abcdef.key")
        .display()
        .to_string();
    let args = fleet_args(
        "run",
        &[
            "--state-dir",
            "s",
            "--project-path",
            &project,
            "--upload-appid",
            "wx0123456789abcdef",
            "--private-key-path",
            &key,
            "--engine",
            "native",
        ],
    );
    let r = f.run(&args, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let template: u64 = r.outputs["template-id"].parse().unwrap();
    assert_ne!(template, f.template);
    let st = statuses(&f.report("s"));
    assert!(st.values().all(|s| s == "published"), "{st:?}");
    let trial = f.emu.world().app_state(&appid(0)).unwrap();
    assert_eq!(trial["trial"]["template_id"], template);
    assert_eq!(trial["trial"]["user_version"], "4.0.0");
    let uploads = f.emu.world().uploads().len();
    assert_eq!(uploads, 1);
    let again = f.run(&args, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.outputs["template-id"], r.outputs["template-id"]);
    assert_eq!(f.emu.world().uploads().len(), 1, "not uploaded again");
    assert_eq!(f.emu.world().successes("/wxa/addtotemplate"), 1);
}

/// In a workflow with a token, each shard writes its own check run (`<check-name> fleet i/N`) with
/// the shard's summary: failure when an app did not make it.
#[test]
fn each_shard_writes_its_check_run() {
    let gh = crate::github::FakeGitHub::new();
    gh.mount_check_runs();
    let f = Fleet::new(4, approved_but(1), |_, s| s);
    f.write_all();
    let api = gh.uri();
    let env = [
        ("INPUT_GITHUB_TOKEN", "ghs_fleetTestToken000000000000000000"),
        ("GITHUB_API_URL", api.as_str()),
        ("GITHUB_REPOSITORY", "acme/shop"),
        ("GITHUB_SHA", "ce587453ced02b1526dfb4cb910479d431683101"),
        ("GITHUB_RUN_ID", "42"),
        ("GITHUB_SERVER_URL", "https://github.com"),
    ];
    for i in 1..=2 {
        let r = f.run(&fleet_args("run", &["--shard", &format!("{i}/2")]), &env);
        assert!(r.code <= 1, "{}", r.stderr);
    }
    let runs: Vec<Value> = gh
        .seen()
        .into_iter()
        .filter(|s| s.method == "POST" && s.path == "/repos/acme/shop/check-runs")
        .map(|s| s.body)
        .collect();
    assert_eq!(runs.len(), 2, "{runs:?}");
    let names: Vec<&str> = runs.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["WeChat review fleet 1/2", "WeChat review fleet 2/2"]
    );
    // appid(1) is the second app: shard 2 of 2 holds it
    assert_eq!(runs[0]["conclusion"], "success");
    assert_eq!(runs[1]["conclusion"], "failure");
    assert!(
        runs[1]["output"]["summary"]
            .as_str()
            .unwrap()
            .contains("no menu"),
        "{}",
        runs[1]
    );
    gh.assert_follows_openapi();
}

/// Mistyped answers of the platform's endpoints stop the command (exit 3) with what did not fit,
/// before anything is committed.
#[test]
fn mistyped_platform_answers_stop_before_any_commit() {
    use mp_release_emulator::FaultKind;
    for (endpoint, body, says) in [
        (
            "/cgi-bin/component/api_get_authorizer_list",
            r#"{"total_count":"many","list":{}}"#,
            "total_count",
        ),
        (
            "/cgi-bin/component/api_get_authorizer_list",
            r#"{"total_count":2,"list":[{"refresh_token":"x"}]}"#,
            "authorizer_appid",
        ),
        (
            "/cgi-bin/component/api_get_authorizer_info",
            r#"{"authorization_info":{"func_info":"all"}}"#,
            "func_info",
        ),
        (
            "/wxa/gettemplatelist",
            r#"{"template_list":{"template_id":1}}"#,
            "template_list",
        ),
    ] {
        let scenario = Scenario::default().fault(endpoint, None, FaultKind::Body(body.into()));
        let f = Fleet::new(2, scenario, |_, s| s);
        // the template's version comes from the library: the version is left to it
        f.write(
            "fleet.yml",
            &format!("template: {}\napps: all\n", f.template),
        );
        let r = f.run(&["fleet", "run", "--fleet-file", "fleet.yml"], &[]);
        assert_eq!(r.code, 3, "{endpoint}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{endpoint}: {}", r.stderr);
        assert_eq!(f.emu.world().successes("/wxa/commit"), 0, "{endpoint}");
    }
}

/// A shard with reviews still running leaves its check run in progress with the fleet's
/// hand-over; the next run of the same fleet and shard (with the state-dir) finds it and completes
/// it in place — one check run per shard and commit.
#[test]
fn a_shards_check_run_is_handed_over_and_completed_in_place() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    let gh = crate::github::FakeGitHub::new();
    gh.mount_check_runs();
    gh.mount(
        Mock::given(method("GET"))
            .and(path(
                "/repos/acme/shop/commits/ce587453ced02b1526dfb4cb910479d431683101/check-runs",
            ))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({ "total_count": 0, "check_runs": [] })),
            )
            .up_to_n_times(1),
    );
    let scenario = Scenario {
        default_review: vec![ReviewStep::approve_after_polls(2)],
        ..Scenario::default()
    };
    let f = Fleet::new(3, scenario, |_, s| s);
    f.write_all();
    let api = gh.uri();
    let env = [
        ("INPUT_GITHUB_TOKEN", "ghs_fleetTestToken000000000000000000"),
        ("GITHUB_API_URL", api.as_str()),
        ("GITHUB_REPOSITORY", "acme/shop"),
        ("GITHUB_SHA", "ce587453ced02b1526dfb4cb910479d431683101"),
        ("GITHUB_RUN_ID", "42"),
        ("GITHUB_SERVER_URL", "https://github.com"),
    ];
    // a job that does not wait: every app is handed over in review
    let args = fleet_args("run", &["--state-dir", "s", "--wait-timeout", "0s"]);
    let first = f.run(&args, &env);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let created: Vec<Value> = gh
        .seen()
        .into_iter()
        .filter(|s| s.method == "POST" && s.path == "/repos/acme/shop/check-runs")
        .map(|s| s.body)
        .collect();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["status"], "in_progress");
    let handover = created[0]["external_id"].as_str().unwrap().to_owned();
    assert!(
        handover.starts_with("mp-release/fleet:mp-release#") && handover.ends_with(":1/1"),
        "{handover}"
    );
    // GitHub now lists it in progress on the commit
    let mut listed = crate::github::fixture("check_runs.json");
    listed["check_runs"][0]["external_id"] = Value::String(handover);
    listed["check_runs"][0]["name"] = Value::String("WeChat review fleet 1/1".into());
    gh.mount(
        Mock::given(method("GET"))
            .and(path(
                "/repos/acme/shop/commits/ce587453ced02b1526dfb4cb910479d431683101/check-runs",
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(listed)),
    );
    let second = f.run(&fleet_args("run", &["--state-dir", "s"]), &env);
    assert_eq!(second.code, 0, "{}", second.stderr);
    let seen = gh.seen();
    let posts = seen
        .iter()
        .filter(|s| s.method == "POST" && s.path == "/repos/acme/shop/check-runs")
        .count();
    assert_eq!(posts, 1, "no second check run");
    let patch = seen
        .iter()
        .rfind(|s| s.method == "PATCH" && s.path == "/repos/acme/shop/check-runs/4")
        .expect("the check run was completed in place");
    assert_eq!(patch.body["status"], "completed");
    assert_eq!(patch.body["conclusion"], "success");
    assert!(statuses(&f.report("s")).values().all(|s| s == "published"));
    gh.assert_follows_openapi();
}

/// The state dir lost between jobs: a rerun reads each app's trial back, finds this run's marker,
/// and follows the review in flight — nothing is committed or submitted a second time.
#[test]
fn a_lost_state_dir_does_not_commit_or_submit_again() {
    let scenario = Scenario {
        default_review: vec![ReviewStep::approve_after_polls(3)],
        ..Scenario::default()
    };
    let f = Fleet::new(5, scenario, |_, s| s);
    f.write_all();
    let r = f.run(
        &fleet_args("run", &["--state-dir", "s", "--wait-timeout", "0s"]),
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(statuses(&f.report("s")).values().all(|s| s == "in-review"));
    std::fs::remove_dir_all(f.dir.path().join("s")).unwrap();
    let r = f.run(&fleet_args("run", &["--state-dir", "s2"]), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        statuses(&f.report("s2")).values().all(|s| s == "published"),
        "{}",
        r.stderr
    );
    assert_once_each(&f, 5, &["/wxa/commit", "/wxa/submit_audit", "/wxa/release"]);
}

/// Traffic for every app: the old version's error rate, and the new one's (per mille of its
/// users) from 5 % on.
fn fleet_traffic(old: f64, new: f64) -> Scenario {
    use mp_release_emulator::{JsError, Traffic};
    let error = |version: &str, per_mille: f64| {
        JsError {
        version: version.into(),
        message: "TypeError: cannot read property 'price' of undefined".into(),
        stack: "TypeError: cannot read property 'price' of undefined\n    at onLoad (pages/index/index.js:9:3)".into(),
        users_per_day: 0,
        events_per_day: 0,
        per_mille,
        from_percent: 5,
    }
    };
    Scenario {
        traffic: Some(Traffic {
            daily_uv: 2_000_000,
            errors: vec![error("@previous", old), error("@new", new)],
            ..Traffic::default()
        }),
        ..approved_but(99)
    }
}

/// Calls of `path` the emulator received (answered or not).
fn calls_to(f: &Fleet, path: &str) -> usize {
    f.emu
        .world()
        .journal()
        .iter()
        .filter(|c| c.path == path)
        .count()
}

/// The first `apps` apps have `version` live.
fn assert_live(f: &Fleet, apps: usize, version: &str) {
    for i in 0..apps {
        assert_eq!(
            f.emu.world().app_state(&appid(i)).unwrap()["live"]["user_version"],
            version,
            "app {i}"
        );
    }
}

/// Every app of the report in `st` has `status`.
fn assert_all(f: &Fleet, status: &str) {
    let results = fleet_results(f);
    assert!(results.iter().all(|x| x.0 == status), "{results:?}");
}

/// The statuses and reasons of the report a `fleet run` wrote into `st`.
fn fleet_results(f: &Fleet) -> Vec<(String, String)> {
    pairs(&f.report("st"), "status", "reason")
}

const ROLLOUT: [&str; 8] = [
    "--rollout",
    "5,100",
    "--rollout-watch",
    "1h",
    "--wait-timeout",
    "10m",
    "--state-dir",
    "st",
];

/// A fleet's health-gated rollout outlasts its run: each app's step is kept in the state-dir, and
/// the next `fleet run` takes the look and releases. Exactly one grayrelease and one release per
/// app, whatever the number of runs; a finished fleet sends nothing. (Every run is scanned for
/// secrets by `Fleet::run`.)
#[test]
fn a_fleet_rolls_out_across_runs() {
    let f = Fleet::new(3, fleet_traffic(20.0, 20.0), |_, s| s);
    f.write_all();
    let r = f.run(&fleet_args("run", &ROLLOUT), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for (status, reason) in fleet_results(&f) {
        assert_eq!(status, "rolling-out", "{reason}");
        assert!(reason.starts_with("at 5 %; the next look at "), "{reason}");
    }
    assert_once_each(&f, 3, &["/wxa/grayrelease"]);
    assert_eq!(calls_to(&f, "/wxa/release"), 0);
    // a run before the look changes nothing
    let r = f.run(&fleet_args("run", &ROLLOUT), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_all(&f, "rolling-out");
    assert_once_each(&f, 3, &["/wxa/grayrelease"]);
    // an hour later: the look finds the new version as healthy as the old one, and releases
    f.emu.world().advance(3600);
    let r = f.run(&fleet_args("run", &ROLLOUT), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_all(&f, "published");
    assert_once_each(
        &f,
        3,
        &["/wxa/grayrelease", "/wxa/release", "/wxa/submit_audit"],
    );
    assert_live(&f, 3, "3.1.0");
    // finished means finished
    let r = f.run(&fleet_args("run", &ROLLOUT), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_once_each(&f, 3, &["/wxa/grayrelease", "/wxa/release"]);
}

/// `kill -9` at growing moments of the runs that raise and release a fleet's rollout: every
/// rerun continues from the state-dir; no app is raised or released twice.
#[test]
fn a_killed_fleet_rollout_raises_and_releases_once() {
    let mut s = fleet_traffic(20.0, 20.0);
    s.latency_ms = 3;
    let f = Fleet::new(6, s, |_, s| s);
    f.write_all();
    let mut args = fleet_args("run", &ROLLOUT);
    args.extend(["--concurrency", "3"]);
    f.kill_at(&args, &[150, 220, 290]);
    let r = f.run(&args, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_all(&f, "rolling-out");
    f.emu.world().advance(3600);
    f.kill_at(&args, &[40, 80, 120]);
    let r = f.run(&args, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_all(&f, "published");
    assert_once_each(
        &f,
        6,
        &["/wxa/submit_audit", "/wxa/grayrelease", "/wxa/release"],
    );
    assert_live(&f, 6, "3.1.0");
}

/// An error spike under the new version at 5 %: every app's phased release is reverted once,
/// each result says so with the evidence, the fleet fails; a later run sends nothing more.
/// A crash right after the second app's revert is resumed without reverting it again.
#[test]
fn an_unhealthy_fleet_reverts_each_app_once() {
    let f = Fleet::new(3, fleet_traffic(20.0, 160.0), |_, s| s);
    f.write_all();
    let r = f.run(&fleet_args("run", &ROLLOUT), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    f.emu.world().advance(3600);
    let r = f.run(
        &fleet_args("run", &ROLLOUT),
        &[("MP_RELEASE_CRASH_AFTER", "revertgrayrelease#2")],
    );
    assert!(
        r.code == 3 && r.stderr.contains("stopped right after"),
        "the crash: {}",
        r.stderr
    );
    // The app whose revert was the second stopped right after sending it (its state says the
    // revert may have been sent); the others went on beside it.
    let unconfirmed = (0..3)
        .filter(|i| {
            let path = f.dir.path().join(format!("st/apps/{}.json", appid(*i)));
            let st: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            st["rollout"]["revert_sent"] == true && st["outcome"].is_null()
        })
        .count();
    assert_eq!(unconfirmed, 1, "one app stopped right after its revert");
    let r = f.run(&fleet_args("run", &ROLLOUT), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    for (status, reason) in fleet_results(&f) {
        assert_eq!(status, "failed", "{reason}");
        assert!(reason.starts_with("reverted at 5 %: "), "{reason}");
        assert!(reason.contains("ratio"), "{reason}");
    }
    assert_once_each(&f, 3, &["/wxa/grayrelease", "/wxa/revertgrayrelease"]);
    assert_eq!(calls_to(&f, "/wxa/release"), 0);
    assert_live(&f, 3, "3.0.0");
    let r = f.run(&fleet_args("run", &ROLLOUT), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_once_each(&f, 3, &["/wxa/grayrelease", "/wxa/revertgrayrelease"]);
}
