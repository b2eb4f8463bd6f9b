//! The template flow on the emulator: the development mini program's upload becomes a template
//! (its draft found by version, time and marker among others), a full library (85065) with and
//! without pruning, and a template an app in review may use never deleted.

use crate::helpers::{bin, parse_outputs, run, without_masks, NetTrap};
use mp_release_emulator::{AppSpec, Emulator, Request, Scenario, World};
use serde_json::{json, Value};
use std::path::PathBuf;

const C: &str = "wxc0c0c0c0c0c0c0c0";
const SECRET: &str = "template-component-secret";
/// The development mini program: the fixture key's appid.
const DEV: &str = "wx0123456789abcdef";
const OTHER_DEV: &str = "wx0123456789abcd00";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/miniprogram-ci")
}

struct Lib {
    emu: Emulator,
    ticket: String,
    dir: tempfile::TempDir,
}

impl Lib {
    fn new(setup: impl FnOnce(&mut World)) -> Self {
        let mut w = World::new(Scenario {
            token_lifetime: 400 * 86_400,
            ..Scenario::default()
        });
        let ticket = w.add_platform(C, SECRET);
        w.add_app(AppSpec {
            dev_of: Some(C.into()),
            ..AppSpec::authorized(DEV, C)
        });
        let public =
            std::fs::read_to_string(fixtures().join("keys/public.wx0123456789abcdef.pem")).unwrap();
        w.add_upload_key(DEV, &public);
        setup(&mut w);
        Self {
            emu: Emulator::start_with(w),
            ticket,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, args: &[&str]) -> (i32, std::collections::BTreeMap<String, String>, String) {
        let trap = NetTrap::new();
        let out = self.dir.path().join("gh_output");
        let _ = std::fs::remove_file(&out);
        let mut c = bin(self.dir.path(), &trap);
        c.args(args)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", &out)
            .env("GITHUB_STEP_SUMMARY", self.dir.path().join("gh_summary"))
            .env("INPUT_COMPONENT_APPID", C)
            .env("INPUT_COMPONENT_SECRET", SECRET)
            .env("INPUT_COMPONENT_VERIFY_TICKET", &self.ticket)
            .env("MP_RELEASE_WECHAT_BASE_URL", self.emu.uri())
            .env("MP_RELEASE_UPLOAD_BASE_URL", self.emu.uri())
            .env("MP_RELEASE_VIRTUAL_CLOCK", "true");
        let r = run(c);
        assert_eq!(trap.connections(), 0);
        let mut secrets = self.emu.world().issued_tokens();
        secrets.extend([SECRET.to_owned(), self.ticket.clone()]);
        let stdout = without_masks(&r.stdout);
        for s in &secrets {
            assert!(
                !stdout.contains(s.as_str()) && !r.stderr.contains(s.as_str()),
                "{s} leaked"
            );
        }
        let outputs = parse_outputs(&std::fs::read_to_string(&out).unwrap_or_default());
        (r.code, outputs, r.stderr)
    }

    fn upload_args(version: &str) -> Vec<String> {
        [
            "template",
            "add",
            "--project-path",
            &fixtures()
                .join("sample-projects/sample")
                .display()
                .to_string(),
            "--upload-appid",
            DEV,
            "--private-key-path",
            &fixtures()
                .join("keys/private.wx0123456789abcdef.key")
                .display()
                .to_string(),
            "--version-from",
            &format!("explicit:{version}"),
            "--engine",
            "native",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    }

    fn templates(&self) -> Vec<Value> {
        let comp = self.component_token();
        let mut w = self.emu.world();
        let v = w
            .handle(&Request::get(
                "/wxa/gettemplatelist",
                &[("access_token", &comp)],
            ))
            .body_json()
            .unwrap();
        v["template_list"].as_array().unwrap().clone()
    }

    fn component_token(&self) -> String {
        crate::helpers::component_token(&mut self.emu.world(), C, SECRET, &self.ticket)
    }
}

fn argv(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Other drafts are in the box: the same version uploaded earlier, the same version by another
/// development app and by a colleague at the same time (no marker of this run), a newer
/// version. The template is made from this run's upload, whatever the list order.
#[test]
fn the_uploads_draft_is_found_among_others() {
    let lib = Lib::new(|w| {
        w.add_draft(C, DEV, "2.0.0", &["pages/index/index"], 10);
        w.advance(3600);
    });
    {
        let mut w = lib.emu.world();
        w.add_draft(C, OTHER_DEV, "2.0.0", &["pages/index/index"], 10);
        w.add_draft(C, DEV, "2.0.0", &["pages/index/index"], 10);
        w.add_draft(C, DEV, "2.1.0", &["pages/index/index"], 10);
    }
    let (code, out, err) = lib.run(&argv(&Lib::upload_args("2.0.0")));
    assert_eq!(code, 0, "{err}");
    let template: u64 = out["template-id"].parse().unwrap();
    let draft: u64 = out["draft-id"].parse().unwrap();
    let comp = lib.component_token();
    let drafts = lib
        .emu
        .world()
        .handle(&Request::get(
            "/wxa/gettemplatedraftlist",
            &[("access_token", &comp)],
        ))
        .body_json()
        .unwrap();
    let ours = drafts["draft_list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["draft_id"] == draft)
        .unwrap()
        .clone();
    assert_eq!(ours["user_version"], "2.0.0");
    assert_eq!(ours["source_miniprogram_appid"], DEV);
    assert!(
        ours["user_desc"].as_str().unwrap().contains("mp-release#"),
        "the upload's marker: {ours}"
    );
    assert_eq!(drafts["draft_list"].as_array().unwrap().len(), 5);
    let t = lib
        .templates()
        .into_iter()
        .find(|t| t["template_id"] == template)
        .unwrap();
    assert_eq!(t["draft_id"], draft);
    // the same code again (a rerun after a stop): that template, no second upload
    let uploads = lib.emu.world().uploads().len();
    let (code, rerun, err) = lib.run(&argv(&Lib::upload_args("2.0.0")));
    assert_eq!(code, 0, "{err}");
    assert_eq!(rerun["template-id"], out["template-id"]);
    assert_eq!(
        lib.emu.world().uploads().len(),
        uploads,
        "not uploaded again"
    );
    // again with the same draft: the template made already is found, not made twice
    let (code, out2, err) = lib.run(&["template", "add", "--draft-version", "2.1.0"]);
    assert_eq!(code, 0, "{err}");
    assert_ne!(out2["template-id"], out["template-id"]);
    let (code, again, _) = lib.run(&["template", "add", "--draft-version", "2.1.0"]);
    assert_eq!(code, 0);
    assert_eq!(
        again["template-id"], out2["template-id"],
        "one template per draft"
    );
    assert_eq!(lib.emu.world().successes("/wxa/addtotemplate"), 2);
    // a version with several drafts and nothing to prove which: refused
    let (code, _, err) = lib.run(&["template", "add", "--draft-version", "2.0.0"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("nothing proves which"), "{err}");
}

/// A full library: 85065 stops the flow when pruning is not allowed; with oldest:N the oldest
/// templates no live, trial or in-review version uses are deleted — never the one an app in
/// review or live may use — and the template is made.
#[test]
fn a_full_library_is_pruned_only_when_allowed_and_never_of_used_templates() {
    const LIVE_APP: &str = "wxa1a1a1a1a1a1a1a1";
    const REVIEW_APP: &str = "wxa2a2a2a2a2a2a2a2";
    let mut oldest = Vec::new();
    let lib = Lib::new(|w| {
        for i in 0..200 {
            w.advance(60);
            let t = w
                .add_template(C, DEV, &format!("0.{i}.0"), &["pages/index/index"], 10)
                .unwrap();
            if i < 5 {
                oldest.push(t);
            }
        }
        // live on 0.1.0; 0.0.0 is in review on another app
        w.add_app(AppSpec {
            live_version: Some("0.1.0".into()),
            ..AppSpec::authorized(LIVE_APP, C)
        });
        w.add_app(AppSpec::authorized(REVIEW_APP, C));
    });
    // put 0.0.0 in review on REVIEW_APP through the API
    {
        let comp = lib.component_token();
        let mut w = lib.emu.world();
        let list = w
            .handle(&Request::post(
                "/cgi-bin/component/api_get_authorizer_list",
                &[("access_token", &comp)],
                &json!({ "component_appid": C, "offset": 0, "count": 500 }),
            ))
            .body_json()
            .unwrap();
        let refresh = list["list"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["authorizer_appid"] == REVIEW_APP)
            .unwrap()["refresh_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let t = crate::helpers::authorizer_token(&mut w, &comp, C, REVIEW_APP, &refresh);
        crate::helpers::submit_in_world(&mut w, &t, oldest[0], "0.0.0");
    }
    let args = Lib::upload_args("9.0.0");
    let (code, _, err) = lib.run(&argv(&args));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("full") && err.contains("prune-templates oldest:N"),
        "{err}"
    );
    assert_eq!(lib.templates().len(), 200);
    assert_eq!(lib.emu.world().successes("/wxa/deletetemplate"), 0);
    // the dry run of the pruning shows what would go
    let (code, out, err) = lib.run(&[
        "template",
        "prune",
        "--prune-templates",
        "oldest:2",
        "--dry-run",
    ]);
    assert_eq!(code, 0, "{err}");
    let would: Vec<u64> = out["deleted-templates"]
        .split(',')
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(
        would,
        [oldest[2], oldest[3]],
        "0.0.0 (in review) and 0.1.0 (live) are kept"
    );
    assert_eq!(lib.templates().len(), 200, "a dry run deletes nothing");
    // the flow with pruning: the draft of this upload is in the box already, made a template now
    let mut with_prune = args;
    with_prune.extend(["--prune-templates".to_owned(), "oldest:2".to_owned()]);
    let (code, out, err) = lib.run(&argv(&with_prune));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out["deleted-templates"],
        format!("{},{}", oldest[2], oldest[3])
    );
    let ids: Vec<u64> = lib
        .templates()
        .iter()
        .map(|t| t["template_id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids.len(), 199);
    assert!(
        ids.contains(&oldest[0]) && ids.contains(&oldest[1]),
        "the used templates stay"
    );
    assert!(ids.contains(&out["template-id"].parse().unwrap()));
    let (code, list, _) = lib.run(&["template", "list"]);
    assert_eq!(code, 0);
    assert_eq!(list["template-count"], "199");
}
