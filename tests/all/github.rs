//! Reporting to GitHub end to end: the binary against the emulator (WeChat) and wiremock serving
//! recorded GitHub answers (tests/fixtures/github): check runs, statuses, the sticky comment, the
//! release on publish, fork pull requests, and `resume` finishing a review another process
//! submitted, including two resumes racing.

use crate::helpers::*;
use mp_release_emulator::{ReviewStep, Scenario};
use serde_json::{json, Value};
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SHA: &str = "ce587453ced02b1526dfb4cb910479d431683101";
const TOKEN: &str = "ghs_e2eTestToken11111111111111111111";
const RELEASE: &str = "/wxa/release";

pub(crate) fn fixture(name: &str) -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/github")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

pub(crate) fn answer(status: u16, name: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(fixture(name))
}

/// wiremock on its own thread, driven from these synchronous tests.
pub(crate) struct FakeGitHub {
    rt: tokio::runtime::Runtime,
    server: MockServer,
}

/// One request GitHub received.
#[derive(Debug)]
pub(crate) struct Seen {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) body: Value,
    auth: String,
}

impl FakeGitHub {
    pub(crate) fn new() -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(MockServer::start());
        Self { rt, server }
    }

    pub(crate) fn uri(&self) -> String {
        self.server.uri()
    }

    pub(crate) fn mount(&self, mock: Mock) {
        self.rt.block_on(mock.mount(&self.server));
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.rt
            .block_on(self.server.received_requests())
            .unwrap_or_default()
            .into_iter()
            .map(|r| Seen {
                method: r.method.to_string(),
                path: r.url.path().to_owned(),
                body: serde_json::from_slice(&r.body).unwrap_or(Value::Null),
                auth: r
                    .headers
                    .get("authorization")
                    .map(|v| v.to_str().unwrap_or_default().to_owned())
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// Every request received so far, checked by scripts/validate-github-requests.cjs against
    /// GitHub's official OpenAPI description (@octokit/openapi): the operation exists, the body
    /// fits its schema, the query parameters are the operation's, the documented limits hold, and
    /// Accept, X-GitHub-Api-Version and User-Agent are sent.
    pub(crate) fn assert_follows_openapi(&self) {
        let requests: Vec<Value> = self
            .rt
            .block_on(self.server.received_requests())
            .unwrap_or_default()
            .into_iter()
            .map(|r| {
                let headers: serde_json::Map<String, Value> = r
                    .headers
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().to_ascii_lowercase(),
                            json!(v.to_str().unwrap_or_default()),
                        )
                    })
                    .collect();
                let query: serde_json::Map<String, Value> = r
                    .url
                    .query_pairs()
                    .map(|(k, v)| (k.into_owned(), json!(v)))
                    .collect();
                json!({
                    "method": r.method.to_string(),
                    "path": r.url.path(),
                    "query": query,
                    "headers": headers,
                    "body": serde_json::from_slice::<Value>(&r.body).ok(),
                })
            })
            .collect();
        if requests.is_empty() {
            return;
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let install = std::process::Command::new("bash")
            .arg(root.join("scripts/install-openapi.sh"))
            .output()
            .unwrap();
        assert!(
            install.status.success(),
            "GitHub's OpenAPI description could not be installed (scripts/install-openapi.sh): {}",
            String::from_utf8_lossy(&install.stderr)
        );
        let modules = String::from_utf8(install.stdout).unwrap().trim().to_owned();
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), serde_json::to_vec(&requests).unwrap()).unwrap();
        let out = std::process::Command::new("node")
            .arg(root.join("scripts/validate-github-requests.cjs"))
            .arg(file.path())
            .env("NODE_PATH", modules)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "requests GitHub's OpenAPI description refuses:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub(crate) fn count(&self, m: &str, p: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.method == m && s.path == p)
            .count()
    }

    /// The environment of a workflow step on `acme/shop` at SHA, with a token.
    pub(crate) fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("INPUT_GITHUB_TOKEN", TOKEN.to_owned()),
            ("GITHUB_API_URL", self.server.uri()),
            ("GITHUB_REPOSITORY", "acme/shop".into()),
            ("GITHUB_SHA", SHA.into()),
            ("GITHUB_SERVER_URL", "https://github.com".into()),
            ("GITHUB_RUN_ID", "42".into()),
            ("GITHUB_REF", "refs/heads/main".into()),
        ]
    }

    /// Check runs: created as id 4, updated in place.
    /// PR #7 has no comment of ours yet: it is created.
    pub(crate) fn mount_new_comment(&self) {
        self.mount(
            Mock::given(method("GET"))
                .and(path("/repos/acme/shop/issues/7/comments"))
                .respond_with(ResponseTemplate::new(200).set_body_json(json!([]))),
        );
        self.mount(
            Mock::given(method("POST"))
                .and(path("/repos/acme/shop/issues/7/comments"))
                .respond_with(answer(201, "comment.json")),
        );
    }

    pub(crate) fn mount_check_runs(&self) {
        self.mount(
            Mock::given(method("POST"))
                .and(path("/repos/acme/shop/check-runs"))
                .respond_with(answer(201, "check_run.json")),
        );
        self.mount(
            Mock::given(method("PATCH"))
                .and(path("/repos/acme/shop/check-runs/4"))
                .respond_with(answer(200, "check_run.json")),
        );
    }
}

/// A git history in `dir`: the first commit tagged `tag`, the others after it.
fn git_history(dir: &std::path::Path, messages: &[&str], tag: &str) {
    let git = |args: &[&str]| {
        git_at(dir, args);
    };
    git(&["init", "-q", "-b", "main"]);
    for (i, m) in messages.iter().enumerate() {
        git(&["commit", "-q", "--allow-empty", "-m", m]);
        if i == 0 {
            git(&["tag", tag]);
        }
    }
}

/// The latest update of the check run `submit` created.
pub(crate) fn last_patch_of_run_4(gh: &FakeGitHub) -> Seen {
    gh.seen()
        .into_iter()
        .rfind(|s| s.method == "PATCH" && s.path == "/repos/acme/shop/check-runs/4")
        .unwrap()
}

fn wx_with(review: ReviewStep) -> Wx {
    Wx::new(Scenario::default().review(vec![review]), |a| a)
}

pub(crate) fn run_with(
    wx: &Wx,
    gh: &FakeGitHub,
    args: &[&str],
    extra: &[(&str, &str)],
) -> PipelineRun {
    let env = gh.env();
    let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(extra);
    let r = wx.run(args, &all);
    assert_token_masked(&r);
    assert_github_saw_no_secret(wx, gh);
    gh.assert_follows_openapi();
    r
}

/// Everything sent to GitHub (check runs, statuses, comments, releases) is free of WeChat secrets
/// and tokens, and of the GitHub token outside the Authorization header.
fn assert_github_saw_no_secret(wx: &Wx, gh: &FakeGitHub) {
    let mut secrets = wx.emu.world().issued_tokens();
    secrets.extend([
        COMPONENT_SECRET.to_owned(),
        wx.ticket.clone(),
        wx.refresh.clone(),
        TOKEN.to_owned(),
    ]);
    for seen in gh.seen() {
        let text = format!("{} {}", seen.path, seen.body);
        for s in &secrets {
            assert!(
                !text.contains(s.as_str()),
                "secret {s:?} sent to GitHub: {text}"
            );
        }
    }
}

/// The GitHub token is masked first and appears nowhere else.
fn assert_token_masked(r: &PipelineRun) {
    assert!(
        r.stdout.contains(&format!("::add-mask::{TOKEN}")),
        "{}",
        r.stdout
    );
    let rest: String = r
        .stdout
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect();
    for (name, text) in [
        ("stdout", &rest),
        ("stderr", &r.stderr),
        ("summary", &r.summary),
        ("outputs", &format!("{:?}", r.outputs)),
    ] {
        assert!(!text.contains(TOKEN), "the token leaked into {name}");
    }
}

#[test]
fn run_reports_a_check_run_from_in_progress_to_success() {
    let wx = wx_with(ReviewStep::approve_after_polls(2));
    let gh = FakeGitHub::new();
    gh.mount_check_runs();
    gh.mount(
        Mock::given(method("POST"))
            .and(path("/repos/acme/shop/git/refs"))
            .respond_with(answer(201, "ref.json")),
    );
    let r = run_with(&wx, &gh, &["run"], &[("INPUT_GIT_TAG", "true")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let seen = gh.seen();
    // Tagged on publish, on the released commit.
    let tag = seen.iter().find(|s| s.path.ends_with("/git/refs")).unwrap();
    assert_eq!(tag.body, json!({ "ref": "refs/tags/v1.5.0", "sha": SHA }));
    let create = seen.iter().find(|s| s.method == "POST").unwrap();
    assert_eq!(create.auth, format!("Bearer {TOKEN}"));
    assert_eq!(
        (
            &create.body["name"],
            &create.body["head_sha"],
            &create.body["status"],
            &create.body["details_url"]
        ),
        (
            &json!("WeChat review"),
            &json!(SHA),
            &json!("in_progress"),
            &json!("https://github.com/acme/shop/actions/runs/42")
        )
    );
    let patches: Vec<&Seen> = seen.iter().filter(|s| s.method == "PATCH").collect();
    // The hand-over as soon as the review exists, then the end.
    assert!(patches.len() >= 2, "{patches:?}");
    let handover = patches[0].body["external_id"].as_str().unwrap();
    assert!(
        handover.starts_with(&format!(
            "mp-release/2:{APP}:{}:1.5.0:full:-:",
            r.outputs["audit-id"]
        )),
        "{handover}"
    );
    let last = patches.last().unwrap();
    assert_eq!(
        (&last.body["status"], &last.body["conclusion"]),
        (&json!("completed"), &json!("success"))
    );
    assert!(last.body["completed_at"].is_string());
    assert_eq!(last.body["output"]["title"], "1.5.0 is live");
    assert_eq!(
        r.outputs["check-run-url"],
        "https://github.com/acme/shop/runs/4"
    );
    assert!(
        r.summary
            .contains("[check run](https://github.com/acme/shop/runs/4)"),
        "{}",
        r.summary
    );
}

#[test]
fn status_gating_and_a_missing_permission() {
    let wx = wx_with(ReviewStep::reject_after_polls(1, "页面内容不完整", &["m1"]));
    let gh = FakeGitHub::new();
    gh.mount(
        Mock::given(method("POST"))
            .and(path(format!("/repos/acme/shop/statuses/{SHA}")))
            .respond_with(answer(201, "status.json")),
    );
    let r = run_with(&wx, &gh, &["run"], &[("INPUT_GATING", "status")]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let states: Vec<Value> = gh
        .seen()
        .into_iter()
        .map(|s| s.body["state"].clone())
        .collect();
    assert_eq!(states, [json!("pending"), json!("failure")]);

    // A token without `checks: write`: the release goes on, a warning names the permission.
    let wx = wx_with(ReviewStep::approve_after_polls(1));
    let gh = FakeGitHub::new();
    gh.mount(
        Mock::given(method("POST"))
            .and(path("/repos/acme/shop/check-runs"))
            .respond_with(answer(403, "error_403_integration.json")),
    );
    let r = run_with(&wx, &gh, &["run"], &[]);
    assert_eq!(
        (r.code, r.outputs["published"].as_str()),
        (0, "true"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout
            .contains("::warning title=mp-release::GitHub refused to create a check run")
            && r.stdout.contains("permissions: { checks: write }"),
        "{}",
        r.stdout
    );
    assert_eq!(wx.successes(RELEASE), 1);
}

/// `run --publish never` on the release PR #7: the review, without publishing (the merge does).
fn review_on_release_pr(wx: &Wx, gh: &FakeGitHub) -> PipelineRun {
    let event = pr_event(wx.dir.path(), false);
    run_with(
        wx,
        gh,
        &["run", "--publish", "never"],
        &[
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_EVENT_PATH", &event),
        ],
    )
}

/// A `pull_request` event of #7, a release PR (its branch is the one `release-pr` opens).
fn pr_event(dir: &std::path::Path, fork: bool) -> String {
    pr_event_on(dir, fork, "mp-release/release", &[], "release: 1.5.0")
}

fn pr_event_on(
    dir: &std::path::Path,
    fork: bool,
    branch: &str,
    labels: &[&str],
    title: &str,
) -> String {
    let head = if fork { "mallory/shop" } else { "acme/shop" };
    let labels: Vec<Value> = labels.iter().map(|l| json!({ "name": l })).collect();
    let event = json!({
        "action": "synchronize",
        "number": 7,
        "pull_request": {
            "number": 7,
            "title": title,
            "labels": labels,
            "head": { "sha": SHA, "ref": branch, "repo": { "full_name": head, "fork": fork } },
            "base": { "sha": "553c2077f0edc3d5dc5d17262f6aa498e69d6f8e", "ref": "main", "repo": { "full_name": "acme/shop", "fork": false } }
        }
    });
    let p = dir.join(if fork { "fork.json" } else { "pr.json" });
    std::fs::write(&p, event.to_string()).unwrap();
    p.display().to_string()
}

#[test]
fn pull_requests_get_one_sticky_comment_and_forks_get_the_summary_only() {
    let wx = wx_with(ReviewStep::approve_after_polls(1));
    let gh = FakeGitHub::new();
    gh.mount_check_runs();
    // The pull request already has our comment (and someone else's): it is updated, not duplicated.
    let mut comments = fixture("comments.json");
    comments[1]["body"] = json!(format!("<!-- mp-release:{APP} -->\nold"));
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/acme/shop/issues/7/comments"))
            .respond_with(ResponseTemplate::new(200).set_body_json(comments)),
    );
    gh.mount(
        Mock::given(method("PATCH"))
            .and(path("/repos/acme/shop/issues/comments/12"))
            .respond_with(answer(200, "comment.json")),
    );
    let event = pr_event(wx.dir.path(), false);
    let r = run_with(
        &wx,
        &gh,
        &["run", "--publish", "never"],
        &[
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_EVENT_PATH", &event),
            // On pull_request events GITHUB_SHA is the merge commit, not what was built.
            ("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567"),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(gh.count("POST", "/repos/acme/shop/issues/7/comments"), 0);
    let seen = gh.seen();
    let patch = seen
        .iter()
        .find(|s| s.path == "/repos/acme/shop/issues/comments/12")
        .unwrap();
    let body = patch.body["body"].as_str().unwrap();
    assert!(
        body.starts_with(&format!("<!-- mp-release:{APP} -->\n"))
            && body.contains("1.5.0 was approved"),
        "{body}"
    );
    // The release PR's comment carries the trial version's QR code for testers, drawn in blocks.
    assert!(
        body.contains("**Trial version (体验版) for testers** scan with WeChat:\n\n```text\n"),
        "{body}"
    );
    // The check run is on the pull request's head commit.
    let create = seen
        .iter()
        .find(|s| s.path.ends_with("/check-runs"))
        .unwrap();
    assert_eq!(create.body["head_sha"], SHA);

    // A fork: no call to GitHub at all, a notice, and the run still succeeds.
    let wx = wx_with(ReviewStep::approve_after_polls(1));
    let gh = FakeGitHub::new();
    let event = pr_event(wx.dir.path(), true);
    let r = run_with(
        &wx,
        &gh,
        &["run", "--publish", "never"],
        &[
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_EVENT_PATH", &event),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(gh.seen().is_empty(), "{:?}", gh.seen());
    assert!(
        r.stdout
            .contains("::notice title=mp-release::a pull request from a fork"),
        "{}",
        r.stdout
    );
}

/// Serves the commit list and the open check run carrying `handover` on SHA.
/// The GraphQL answer for the history of `main` (commits.json: SHA, then an older commit without
/// check runs) carrying these REST-shaped check runs, as GitHub's GraphQL API shapes them.
fn graphql_history(runs: &Value) -> Value {
    let nodes: Vec<Value> = runs["check_runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            json!({
                "databaseId": r["id"],
                "name": r["name"],
                "status": r["status"].as_str().unwrap().to_ascii_uppercase(),
                "externalId": r["external_id"],
                "startedAt": r["started_at"],
                "detailsUrl": r["details_url"],
                "url": r["html_url"],
            })
        })
        .collect();
    json!({ "data": { "repository": { "ref": { "target": { "history": {
        "pageInfo": { "hasNextPage": false, "endCursor": null },
        "nodes": [
            { "oid": SHA, "checkSuites": { "nodes": [ { "checkRuns": { "nodes": nodes } } ] } },
            { "oid": "553c2077f0edc3d5dc5d17262f6aa498e69d6f8e", "checkSuites": { "nodes": [] } }
        ]
    } } } } } })
}

pub(crate) fn mount_resume(gh: &FakeGitHub, handover: &str) {
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/acme/shop/commits"))
            .and(query_param("sha", "main"))
            .respond_with(answer(200, "commits.json")),
    );
    let mut runs = fixture("check_runs.json");
    runs["check_runs"][0]["external_id"] = json!(handover);
    // Run 9 has no hand-over: one from a job that died 7 hours ago, one that started an hour ago.
    let ago = |h: i64| (chrono::Utc::now() - chrono::Duration::hours(h)).to_rfc3339();
    runs["check_runs"][1]["started_at"] = json!(ago(7));
    let mut young = runs["check_runs"][1].clone();
    young["id"] = json!(10);
    young["started_at"] = json!(ago(1));
    runs["check_runs"].as_array_mut().unwrap().push(young);
    gh.mount(
        Mock::given(method("POST"))
            .and(path("/graphql"))
            .respond_with(ResponseTemplate::new(200).set_body_json(graphql_history(&runs))),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("/repos/acme/shop/commits/{SHA}/check-runs")))
            .and(query_param("check_name", "WeChat review"))
            .respond_with(ResponseTemplate::new(200).set_body_json(runs)),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path(
                "/repos/acme/shop/commits/553c2077f0edc3d5dc5d17262f6aa498e69d6f8e/check-runs",
            ))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({ "total_count": 0, "check_runs": [] })),
            ),
    );
}

/// `submit` in one process (wait-timeout 0): the check run is left in progress with the hand-over.
fn submit_and_hand_over(wx: &Wx, gh: &FakeGitHub) -> String {
    submit_and_hand_over_with(wx, gh, &[])
}

/// [`submit_and_hand_over`] with more inputs.
fn submit_and_hand_over_with(wx: &Wx, gh: &FakeGitHub, extra: &[(&str, &str)]) -> String {
    gh.mount_check_runs();
    let r = run_with(wx, gh, &["submit"], extra);
    assert_eq!(
        (r.code, r.outputs["review-status"].as_str()),
        (0, "pending"),
        "{}",
        r.stderr
    );
    let seen = gh.seen();
    let last = seen.iter().rfind(|s| s.method == "PATCH").unwrap();
    assert_eq!(last.body["status"], "in_progress");
    assert!(last.body.get("conclusion").is_none(), "{:?}", last.body);
    last.body["external_id"].as_str().unwrap().to_owned()
}

#[test]
fn resume_finishes_a_review_submitted_by_another_process() {
    let wx = wx_with(ReviewStep::reject_after_polls(3, "图标模糊", &["media-9"]));
    let gh = FakeGitHub::new();
    let handover = submit_and_hand_over(&wx, &gh);
    mount_resume(&gh, &handover);
    // First look: still in review, the check run stays open.
    let r = run_with(&wx, &gh, &["resume"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let list: Value = serde_json::from_str(&r.outputs["resumed"]).unwrap();
    assert_eq!(list[0]["result"], "detached", "{list}");
    assert_eq!(list[0]["check-run-id"], 4);
    let last = last_patch_of_run_4(&gh);
    assert_eq!(last.body["status"], "in_progress");
    // The open check runs came from one GraphQL request for the whole history, not a REST
    // listing per commit (GITHUB_TOKEN has 1,000 REST requests an hour per repository).
    assert_eq!(gh.count("POST", "/graphql"), 1);
    assert_eq!(gh.count("GET", "/repos/acme/shop/commits"), 0);
    assert!(
        r.stderr.contains("on 2 commit(s) of main") && r.stderr.contains("GitHub request(s)"),
        "{}",
        r.stderr
    );
    // Later: rejected; the check run fails with the reason.
    let _ = run_with(&wx, &gh, &["resume"], &[]);
    let r = run_with(&wx, &gh, &["resume"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let list: Value = serde_json::from_str(&r.outputs["resumed"]).unwrap();
    assert_eq!(list[0]["result"], "rejected", "{list}");
    let last = last_patch_of_run_4(&gh);
    assert_eq!(
        (&last.body["status"], &last.body["conclusion"]),
        (&json!("completed"), &json!("failure"))
    );
    let summary = last.body["output"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("图标模糊") && summary.contains("media-9"),
        "{summary}"
    );
    // Without a hand-over: the run of a job that died hours ago is marked cancelled (once per
    // resume, as it stays in the listing here); the young one may still be running and is left alone.
    let stale: Vec<Seen> = gh
        .seen()
        .into_iter()
        .filter(|s| s.path == "/repos/acme/shop/check-runs/9")
        .collect();
    assert_eq!(stale.len(), 3, "{stale:?}");
    assert_eq!(
        (&stale[0].body["status"], &stale[0].body["conclusion"]),
        (&json!("completed"), &json!("cancelled"))
    );
    assert_eq!(gh.count("PATCH", "/repos/acme/shop/check-runs/10"), 0);
}

#[test]
fn two_concurrent_resumes_publish_once_and_release_once() {
    let wx = wx_with(ReviewStep::approve_after_polls(1));
    let gh = FakeGitHub::new();
    let handover = submit_and_hand_over(&wx, &gh);
    mount_resume(&gh, &handover);
    // The checkout the resume job runs in: history since the last release tag makes the notes.
    git_history(
        wx.dir.path(),
        &["chore: init", "feat(cart): coupons", "fix: rounding"],
        "v1.4.2",
    );
    // GitHub creates the release once; the second create meets "already_exists".
    let mut rel = fixture("release.json");
    rel["tag_name"] = json!("v1.5.0");
    rel["html_url"] = json!("https://github.com/acme/shop/releases/tag/v1.5.0");
    gh.mount(
        Mock::given(method("POST"))
            .and(path("/repos/acme/shop/releases"))
            .and(body_partial_json(
                json!({ "tag_name": "v1.5.0", "target_commitish": SHA }),
            ))
            .respond_with(ResponseTemplate::new(201).set_body_json(rel.clone()))
            .up_to_n_times(1)
            .with_priority(1),
    );
    gh.mount(
        Mock::given(method("POST"))
            .and(path("/repos/acme/shop/releases"))
            .respond_with(answer(422, "error_422_release_exists.json"))
            .with_priority(2),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/acme/shop/releases/tags/v1.5.0"))
            .respond_with(ResponseTemplate::new(200).set_body_json(rel)),
    );
    // The tag the release made is on the released commit.
    let mut tag_ref = fixture("ref.json");
    tag_ref["ref"] = json!("refs/tags/v1.5.0");
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/acme/shop/git/ref/tags/v1.5.0"))
            .respond_with(ResponseTemplate::new(200).set_body_json(tag_ref)),
    );
    let env: Vec<(&str, String)> = gh
        .env()
        .into_iter()
        .chain([("INPUT_GITHUB_RELEASE", "true".to_owned())])
        .collect();
    let cmd = |i: usize| {
        let mut c = wx.cmd(&["resume"]);
        for (k, v) in &env {
            c.env(k, v);
        }
        c.env("GITHUB_OUTPUT", wx.dir.path().join(format!("out{i}")));
        c.env("GITHUB_STEP_SUMMARY", wx.dir.path().join(format!("sum{i}")));
        c
    };
    let (mut a, mut b) = (cmd(1), cmd(2));
    // Two processes at once.
    let outs = std::thread::scope(|s| {
        let ta = s.spawn(move || a.output().unwrap());
        let tb = s.spawn(move || b.output().unwrap());
        [ta.join().unwrap(), tb.join().unwrap()]
    });
    for (i, out) in [1, 2].into_iter().zip(outs) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "resume {i}: {stderr}");
        assert!(!stderr.contains(TOKEN));
        let outputs =
            parse_outputs(&std::fs::read_to_string(wx.dir.path().join(format!("out{i}"))).unwrap());
        let list: Value = serde_json::from_str(&outputs["resumed"]).unwrap();
        assert_eq!(
            (
                &list[0]["result"],
                &list[0]["published"],
                &list[0]["release-url"]
            ),
            (
                &json!("published"),
                &json!(true),
                &json!("https://github.com/acme/shop/releases/tag/v1.5.0")
            ),
            "resume {i}: {list}\n{stderr}"
        );
    }
    assert_eq!(wx.successes(RELEASE), 1, "WeChat released once");
    let state = wx.emu.world().app_state(APP).unwrap();
    assert_eq!(state["live"]["user_version"], "1.5.0");
    // Both completed the same check run with success; the release exists once on GitHub.
    let completed: Vec<Seen> = gh
        .seen()
        .into_iter()
        .filter(|s| s.path == "/repos/acme/shop/check-runs/4" && s.body["status"] == "completed")
        .collect();
    assert_eq!(completed.len(), 2, "{completed:?}");
    assert!(completed.iter().all(|s| s.body["conclusion"] == "success"));
    let notes = gh
        .seen()
        .into_iter()
        .find(|s| s.path == "/repos/acme/shop/releases")
        .unwrap()
        .body["body"]
        .clone();
    assert_eq!(
        notes.as_str().unwrap(),
        "## 1.5.0\n\n### Features\n\n- feat(cart): coupons\n\n### Fixes\n\n- fix: rounding\n"
    );
}

#[test]
fn resume_refuses_to_start_without_github() {
    let wx = Wx::new(Scenario::default(), |a| a);
    let r = wx.run(&["resume"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("github-token"), "{}", r.stderr);
    let gh = FakeGitHub::new();
    let r = run_with(&wx, &gh, &["resume"], &[("GITHUB_REF", "refs/tags/v1")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("branches"), "{}", r.stderr);
    assert!(gh.seen().is_empty());
    assert_eq!(wx.emu.world().journal().len(), 0);
}

#[test]
fn comment_links_the_qr_artifact_or_draws_the_code() {
    let wx = Wx::new(Scenario::default(), |a| a);
    let gh = FakeGitHub::new();
    gh.mount_new_comment();
    let event = pr_event(wx.dir.path(), false);
    let artifact = "https://github.com/acme/shop/actions/runs/42/artifacts/7";
    let sizes = r#"[{"name":"__FULL__","size":812400,"limit":12582912}]"#;
    let content = "https://open.weixin.qq.com/sns/getexpappinfo?appid=wxa1&path=pages%2Findex";
    let common = [
        ("GITHUB_EVENT_NAME", "pull_request"),
        ("GITHUB_EVENT_PATH", event.as_str()),
        ("INPUT_QRCODE_CONTENT", content),
        ("INPUT_PACKAGE_SIZES", sizes),
    ];
    let mut with_link = common.to_vec();
    with_link.push(("INPUT_QRCODE_URL", artifact));
    let r = run_with(&wx, &gh, &["comment"], &with_link);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.outputs["comment-url"],
        "https://github.com/acme/shop/pull/7#issuecomment-1"
    );
    let r2 = run_with(&wx, &gh, &["comment"], &common);
    assert_eq!(r2.code, 0, "{}", r2.stderr);
    let bodies: Vec<String> = gh
        .seen()
        .into_iter()
        .filter(|s| s.method == "POST")
        .map(|s| s.body["body"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(bodies.len(), 2);
    assert!(
        bodies[0].contains(&format!("[QR code]({artifact})"))
            && bodies[0].contains("| all packages | 793.4 KB | 12.00 MB | 6 % |"),
        "{}",
        bodies[0]
    );
    assert!(
        bodies[1].contains("```text\n") && bodies[1].contains('█'),
        "{}",
        bodies[1]
    );
    // A bad package-sizes value is refused before any call.
    let before = gh.seen().len();
    let mut bad = common.to_vec();
    bad[3] = ("INPUT_PACKAGE_SIZES", "[{\"name\": 1}]");
    let r = run_with(&wx, &gh, &["comment"], &bad);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("INPUT_PACKAGE_SIZES"), "{}", r.stderr);
    assert_eq!(gh.seen().len(), before);
}

#[test]
fn bad_github_inputs_are_refused_before_any_call() {
    let wx = Wx::new(Scenario::default(), |a| a);
    let gh = FakeGitHub::new();
    for (name, value, says) in [
        (
            "INPUT_GATING",
            "checks",
            "expected check, status, deployment or none",
        ),
        ("INPUT_SHA", "abc123", "40 hex digits"),
        ("INPUT_REPOSITORY", "acme", "owner/name"),
        ("INPUT_GIT_TAG", "maybe", "expected true or false"),
        ("INPUT_CHECK_NAME", " ", "1 to 100 characters"),
    ] {
        let r = run_with(&wx, &gh, &["run"], &[(name, value)]);
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert!(
            r.stderr.contains(name) && r.stderr.contains(says),
            "{name}: {}",
            r.stderr
        );
    }
    // github-release without a token: the input that needs it is named.
    let r = wx.run(&["run"], &[("INPUT_GITHUB_RELEASE", "true")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("github-token"), "{}", r.stderr);
    assert!(gh.seen().is_empty());
    assert_eq!(wx.emu.world().journal().len(), 0);
}

#[test]
fn a_lost_check_run_answer_is_read_back_not_created_twice() {
    let wx = wx_with(ReviewStep::approve_after_polls(1));
    let gh = FakeGitHub::new();
    // GitHub made the check run but the answer was lost (502), once.
    gh.mount(
        Mock::given(method("POST"))
            .and(path("/repos/acme/shop/check-runs"))
            .respond_with(ResponseTemplate::new(502).set_body_string("bad gateway")),
    );
    let mut runs = fixture("check_runs.json");
    runs["check_runs"][1]["details_url"] = json!("https://github.com/acme/shop/actions/runs/41");
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("/repos/acme/shop/commits/{SHA}/check-runs")))
            .respond_with(ResponseTemplate::new(200).set_body_json(runs)),
    );
    gh.mount(
        Mock::given(method("PATCH"))
            .and(path("/repos/acme/shop/check-runs/4"))
            .respond_with(answer(200, "check_run.json")),
    );
    let r = run_with(&wx, &gh, &["run"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // One create, then the run found its own check run (details_url = this workflow run) and
    // completed it.
    assert_eq!(gh.count("POST", "/repos/acme/shop/check-runs"), 1);
    let last = last_patch_of_run_4(&gh);
    assert_eq!(last.body["conclusion"], "success");
    assert_eq!(gh.count("PATCH", "/repos/acme/shop/check-runs/9"), 0);
    assert_eq!(
        r.outputs["check-run-url"],
        "https://github.com/acme/shop/runs/4"
    );
}

/// Deployments: created as id 7 (deployment.json), listed as `existing`, statuses accepted.
fn mount_deployments(gh: &FakeGitHub, existing: Vec<Value>) {
    gh.mount(
        Mock::given(method("POST"))
            .and(path("/repos/acme/shop/deployments"))
            .respond_with(answer(201, "deployment.json")),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/acme/shop/deployments"))
            .respond_with(ResponseTemplate::new(200).set_body_json(Value::Array(existing))),
    );
    gh.mount(
        Mock::given(method("POST"))
            .and(path("/repos/acme/shop/deployments/7/statuses"))
            .respond_with(answer(201, "deployment_status.json")),
    );
}

/// `gating: check,deployment`: a deployment of the released commit to `wechat-production`,
/// `in_progress` while in review and `success` once live (the Environments page shows it), next to
/// the check run; a rejection ends it as `failure` with the reason.
#[test]
fn deployments_follow_the_review_next_to_the_check_run() {
    let wx = wx_with(ReviewStep::approve_after_polls(1));
    let gh = FakeGitHub::new();
    gh.mount_check_runs();
    mount_deployments(&gh, vec![]);
    let r = run_with(&wx, &gh, &["run"], &[("INPUT_GATING", "check,deployment")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let seen = gh.seen();
    let create = seen
        .iter()
        .find(|s| s.method == "POST" && s.path == "/repos/acme/shop/deployments")
        .expect("a deployment");
    assert_eq!(
        (
            &create.body["ref"],
            &create.body["environment"],
            &create.body["required_contexts"],
            &create.body["auto_merge"],
            &create.body["payload"]["appid"],
            &create.body["payload"]["version"],
        ),
        (
            &json!(SHA),
            &json!("wechat-production"),
            &json!([]),
            &json!(false),
            &json!(APP),
            &json!("1.5.0"),
        )
    );
    let states: Vec<Value> = seen
        .iter()
        .filter(|s| s.path.ends_with("/deployments/7/statuses"))
        .map(|s| s.body["state"].clone())
        .collect();
    assert_eq!(states, [json!("in_progress"), json!("success")]);
    let last = seen
        .iter()
        .rev()
        .find(|s| s.path.ends_with("/deployments/7/statuses"))
        .unwrap();
    assert_eq!(last.body["description"], "1.5.0 is live");
    assert_eq!(
        last.body["log_url"],
        "https://github.com/acme/shop/actions/runs/42"
    );
    assert!(last.body["description"].as_str().unwrap().chars().count() <= 140);
    assert_eq!(
        gh.count("POST", "/repos/acme/shop/check-runs"),
        1,
        "the check run too"
    );
    assert_eq!(
        r.outputs["deployment-url"],
        "https://github.com/acme/shop/deployments/wechat-production"
    );

    // Rejected, in its own environment: failure with the reason.
    let wx = wx_with(ReviewStep::reject_after_polls(1, "页面内容不完整", &["m1"]));
    let gh = FakeGitHub::new();
    mount_deployments(&gh, vec![]);
    let r = run_with(
        &wx,
        &gh,
        &["run"],
        &[
            ("INPUT_GATING", "deployment"),
            ("INPUT_DEPLOYMENT_ENVIRONMENT", "shop north"),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let seen = gh.seen();
    assert_eq!(
        gh.count("POST", "/repos/acme/shop/check-runs"),
        0,
        "deployment alone"
    );
    let create = seen
        .iter()
        .find(|s| s.path == "/repos/acme/shop/deployments" && s.method == "POST")
        .unwrap();
    assert_eq!(create.body["environment"], "shop north");
    let last = seen
        .iter()
        .rev()
        .find(|s| s.path.ends_with("/statuses"))
        .unwrap();
    assert_eq!(last.body["state"], "failure");
    assert!(
        last.body["description"]
            .as_str()
            .unwrap()
            .contains("rejected"),
        "{}",
        last.body
    );
    assert_eq!(
        r.outputs["deployment-url"],
        "https://github.com/acme/shop/deployments/shop%20north"
    );

    // A bad gating word is exit 2 before anything is sent.
    let r = run_with(&wx, &gh, &["run"], &[("INPUT_GATING", "check,none")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("INPUT_GATING"), "{}", r.stderr);
}

/// A GitHub that refuses the GraphQL query (an old GHES, a proxy passing REST only): resume says so
/// and lists the check runs commit by commit instead, with the same result.
#[test]
fn resume_falls_back_to_rest_when_graphql_is_refused() {
    let wx = wx_with(ReviewStep::approve_after_polls(1));
    let gh = FakeGitHub::new();
    let handover = submit_and_hand_over(&wx, &gh);
    gh.mount(
        Mock::given(method("POST"))
            .and(path("/graphql"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "errors": [{ "type": "INTERNAL", "message": "Something went wrong while executing your query." }]
            })))
            .with_priority(1),
    );
    mount_resume(&gh, &handover);
    let r = run_with(&wx, &gh, &["resume"], &[("INPUT_WAIT_TIMEOUT", "1h")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let list: Value = serde_json::from_str(&r.outputs["resumed"]).unwrap();
    assert_eq!(list[0]["result"], "published", "{list}");
    assert!(
        r.stderr
            .contains("listing the check runs commit by commit instead"),
        "{}",
        r.stderr
    );
    assert_eq!(gh.count("GET", "/repos/acme/shop/commits"), 1);
    assert_eq!(
        gh.count("GET", &format!("/repos/acme/shop/commits/{SHA}/check-runs")),
        1
    );
    assert_eq!(wx.successes(RELEASE), 1);
}

/// What a scheduled resume costs of the token's budget on a busy branch (100 commits in the
/// lookback, no review open): the figure in docs/benchmarks.md.
#[test]
fn resume_on_100_commits_costs_one_graphql_request_instead_of_101_rest_requests() {
    use wiremock::matchers::path_regex;
    let shas: Vec<String> = (0..100).map(|i| format!("{i:040x}")).collect();
    let count = |graphql: bool| -> usize {
        let wx = wx_with(ReviewStep::approve_after_polls(1));
        let gh = FakeGitHub::new();
        let history = json!({ "data": { "repository": { "ref": { "target": { "history": {
            "pageInfo": { "hasNextPage": false, "endCursor": null },
            "nodes": shas.iter().map(|s| json!({ "oid": s, "checkSuites": { "nodes": [] } })).collect::<Vec<_>>()
        } } } } } });
        let answer = if graphql {
            ResponseTemplate::new(200).set_body_json(history)
        } else {
            ResponseTemplate::new(502)
        };
        gh.mount(
            Mock::given(method("POST"))
                .and(path("/graphql"))
                .respond_with(answer),
        );
        let commits: Vec<Value> = shas.iter().map(|s| json!({ "sha": s })).collect();
        gh.mount(
            Mock::given(method("GET"))
                .and(path("/repos/acme/shop/commits"))
                .respond_with(ResponseTemplate::new(200).set_body_json(commits)),
        );
        gh.mount(
            Mock::given(method("GET"))
                .and(path_regex(
                    "^/repos/acme/shop/commits/[0-9a-f]{40}/check-runs$",
                ))
                .respond_with(
                    ResponseTemplate::new(200)
                        .set_body_json(json!({ "total_count": 0, "check_runs": [] })),
                ),
        );
        let r = run_with(&wx, &gh, &["resume"], &[]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stderr.contains("on 100 commit(s)"), "{}", r.stderr);
        // The REST fallback also tried GraphQL first (a 502, retried as idempotent).
        gh.seen().iter().filter(|s| s.path != "/graphql").count()
            + usize::from(graphql) * gh.count("POST", "/graphql")
    };
    assert_eq!(count(true), 1);
    assert_eq!(count(false), 101);
}

/// A release of the same tag name on another commit (made by hand, or by an earlier release of
/// another app) is not taken over: a warning names both commits, release-url stays empty.
#[test]
fn an_existing_release_of_the_tag_on_another_commit_is_not_taken_over() {
    let wx = wx_with(ReviewStep::approve_after_polls(1));
    let gh = FakeGitHub::new();
    gh.mount_check_runs();
    gh.mount(
        Mock::given(method("POST"))
            .and(path("/repos/acme/shop/releases"))
            .respond_with(answer(422, "error_422_release_exists.json")),
    );
    let mut rel = fixture("release.json");
    rel["tag_name"] = json!("v1.5.0");
    rel["html_url"] = json!("https://github.com/acme/shop/releases/tag/v1.5.0");
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/acme/shop/releases/tags/v1.5.0"))
            .respond_with(ResponseTemplate::new(200).set_body_json(rel)),
    );
    let other = "1111111111111111111111111111111111111111";
    let mut tag_ref = fixture("ref.json");
    tag_ref["object"]["sha"] = json!(other);
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/acme/shop/git/ref/tags/v1.5.0"))
            .respond_with(ResponseTemplate::new(200).set_body_json(tag_ref)),
    );
    let r = run_with(&wx, &gh, &["run"], &[("INPUT_GITHUB_RELEASE", "true")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.outputs["published"], "true");
    assert_eq!(r.outputs["release-url"], "");
    assert!(
        r.stdout.contains("::warning")
            && r.stdout
                .contains(&format!("already exists for commit {other}"))
            && r.stdout.contains(SHA),
        "{}",
        r.stdout
    );
}

/// `resume` with `gating: check,deployment` finds the deployment the submitting run made (by its
/// payload: tool, app and version) and ends it; it never makes a second one.
#[test]
fn resume_ends_the_deployment_the_submitting_run_made() {
    let wx = wx_with(ReviewStep::approve_after_polls(1));
    let gh = FakeGitHub::new();
    gh.mount_check_runs();
    mount_deployments(&gh, vec![fixture("deployment.json")]);
    let gating = [("INPUT_GATING", "check,deployment")];
    let r = run_with(&wx, &gh, &["submit"], &gating);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let handover = gh
        .seen()
        .iter()
        .rfind(|s| s.method == "PATCH")
        .unwrap()
        .body["external_id"]
        .as_str()
        .unwrap()
        .to_owned();
    mount_resume(&gh, &handover);
    let r = run_with(
        &wx,
        &gh,
        &["resume"],
        &[gating[0], ("INPUT_WAIT_TIMEOUT", "1h")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let states: Vec<Value> = gh
        .seen()
        .iter()
        .filter(|s| s.path.ends_with("/deployments/7/statuses"))
        .map(|s| s.body["state"].clone())
        .collect();
    assert_eq!(states.last(), Some(&json!("success")), "{states:?}");
    // The submitting run found the listed one too (same app and version): nothing was created.
    assert_eq!(gh.count("POST", "/repos/acme/shop/deployments"), 0);
    assert_eq!(wx.successes(RELEASE), 1);
}

/// An ordinary pull request (not recognised by `release-pr`): the required check is completed as
/// neutral at once (branch protection counts it as passing), WeChat is not called at all, no
/// quota is spent. A label or a rule of the user's own makes it a release PR.
#[test]
fn an_ordinary_pull_request_gets_a_neutral_check_and_no_wechat_call() {
    let wx = wx_with(ReviewStep::approve_after_polls(1));
    let gh = FakeGitHub::new();
    gh.mount_check_runs();
    let event = pr_event_on(
        wx.dir.path(),
        false,
        "feature/login",
        &["ui"],
        "Fix the login page",
    );
    let pr_env = [
        ("GITHUB_EVENT_NAME", "pull_request"),
        ("GITHUB_EVENT_PATH", event.as_str()),
        ("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567"),
    ];
    let r = run_with(&wx, &gh, &["submit"], &pr_env);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.outputs["review-status"], "not-submitted");
    assert!(
        wx.emu.world().journal().is_empty(),
        "no WeChat call: {:?}",
        wx.emu.world().journal().len()
    );
    let seen = gh.seen();
    let create = seen
        .iter()
        .find(|s| s.path == "/repos/acme/shop/check-runs")
        .unwrap();
    assert_eq!(
        (
            &create.body["head_sha"],
            &create.body["status"],
            &create.body["conclusion"],
            &create.body["output"]["title"]
        ),
        (
            &json!(SHA),
            &json!("completed"),
            &json!("neutral"),
            &json!("not a release PR: nothing to review")
        )
    );
    assert!(create.body["completed_at"].is_string());
    assert_eq!(
        r.outputs["check-run-url"],
        "https://github.com/acme/shop/runs/4"
    );
    assert!(r.summary.contains("not a release PR"), "{}", r.summary);

    // The label makes it a release PR: reviewed as usual.
    let event = pr_event_on(
        wx.dir.path(),
        false,
        "feature/login",
        &["wechat-release"],
        "Fix",
    );
    let r = run_with(
        &wx,
        &gh,
        &["submit"],
        &[pr_env[0], ("GITHUB_EVENT_PATH", event.as_str()), pr_env[2]],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.outputs["review-status"], "pending");
    assert_eq!(wx.successes("/wxa/submit_audit"), 1);

    // A rule of the user's own; a bad rule is exit 2 before anything is sent.
    let wx = wx_with(ReviewStep::approve_after_polls(1));
    let gh = FakeGitHub::new();
    gh.mount_check_runs();
    let event = pr_event_on(wx.dir.path(), false, "hotfix/42", &[], "Hotfix");
    let env = |rule: &'static str| {
        vec![
            pr_env[0],
            ("GITHUB_EVENT_PATH", event.as_str()),
            pr_env[2],
            ("INPUT_RELEASE_PR", rule),
        ]
    };
    let r = run_with(&wx, &gh, &["submit"], &env("branch:hotfix/*"));
    assert_eq!(r.outputs["review-status"], "pending", "{}", r.stderr);
    let r = run_with(&wx, &gh, &["submit"], &env("branches:x"));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("INPUT_RELEASE_PR"), "{}", r.stderr);
}

const MERGE: &str = "fedcba9876543210fedcba9876543210fedcba98";

/// The answers of a merged release PR #7 (head SHA, merged as MERGE) whose head's check run
/// carries `handover` and ended with `conclusion`; the merge commit's tree is `merged_tree`.
fn mount_merged_release_pr(gh: &FakeGitHub, handover: &str, conclusion: &str, merged_tree: &str) {
    mount_merged_release_pr_at(gh, SHA, MERGE, handover, conclusion, merged_tree);
}

/// The same for release PR #7 with head `head`, merged as `merge`.
pub(crate) fn mount_merged_release_pr_at(
    gh: &FakeGitHub,
    head: &str,
    merge: &str,
    handover: &str,
    conclusion: &str,
    merged_tree: &str,
) {
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("/repos/acme/shop/commits/{merge}/pulls")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([{
                "number": 7,
                "title": "release: 1.5.0",
                "labels": [],
                "state": "closed",
                "head": { "ref": "mp-release/release", "sha": head },
                "base": { "ref": "main", "sha": "553c2077f0edc3d5dc5d17262f6aa498e69d6f8e" },
                "merged_at": "2026-11-25T08:00:00Z",
                "merge_commit_sha": merge,
                "html_url": "https://github.com/acme/shop/pull/7"
            }]))),
    );
    let mut run = fixture("check_run.json");
    run["status"] = json!("completed");
    run["conclusion"] = json!(conclusion);
    run["external_id"] = json!(handover);
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("/repos/acme/shop/commits/{head}/check-runs")))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({ "total_count": 1, "check_runs": [run] })),
            ),
    );
    for (sha, tree) in [
        (head, "1111111111111111111111111111111111111111"),
        (merge, merged_tree),
    ] {
        gh.mount(
            Mock::given(method("GET"))
                .and(path(format!("/repos/acme/shop/git/commits/{sha}")))
                .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                    "sha": sha,
                    "tree": { "sha": tree, "url": format!("https://api.github.com/repos/acme/shop/git/trees/{tree}") },
                    "message": "release: 1.5.0",
                    "parents": []
                }))),
        );
    }
}

/// The release PR is reviewed on its head (approved, not published), then merged: `publish` on the
/// merge commit releases exactly that review when the merged tree is the reviewed tree, and tags
/// the merge commit; a merge whose tree differs, or whose head was never approved, publishes
/// nothing (exit 1) and says why in a failed check run on the merge commit.
#[test]
fn publish_on_merge_releases_only_the_reviewed_tree() {
    let review_then_merge = |merged_tree: &str, conclusion: &str| {
        let wx = wx_with(ReviewStep::approve_after_polls(1));
        let gh = FakeGitHub::new();
        gh.mount_check_runs();
        gh.mount(
            Mock::given(method("POST"))
                .and(path("/repos/acme/shop/git/refs"))
                .respond_with(answer(201, "ref.json")),
        );
        gh.mount_new_comment();
        let r = review_on_release_pr(&wx, &gh);
        assert_eq!(r.outputs["review-status"], "approved", "{}", r.stderr);
        assert_eq!(wx.successes(RELEASE), 0);
        let handover = gh
            .seen()
            .iter()
            .rfind(|s| s.method == "PATCH")
            .unwrap()
            .body["external_id"]
            .as_str()
            .unwrap()
            .to_owned();
        mount_merged_release_pr(&gh, &handover, conclusion, merged_tree);
        let r = run_with(
            &wx,
            &gh,
            &["publish"],
            &[
                ("GITHUB_EVENT_NAME", "push"),
                ("GITHUB_SHA", MERGE),
                ("INPUT_GIT_TAG", "true"),
            ],
        );
        (wx, gh, r)
    };
    // Squash-merged: a new SHA, the reviewed tree.
    let (wx, gh, r) = review_then_merge("1111111111111111111111111111111111111111", "success");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.outputs["published"], "true");
    assert_eq!(wx.successes(RELEASE), 1);
    assert!(
        r.stderr.contains("the merged tree is the reviewed head"),
        "{}",
        r.stderr
    );
    let tag = gh
        .seen()
        .into_iter()
        .find(|s| s.path.ends_with("/git/refs"))
        .unwrap();
    assert_eq!(tag.body, json!({ "ref": "refs/tags/v1.5.0", "sha": MERGE }));
    // The release PR's sticky comment now says it is live.
    let comment = gh
        .seen()
        .into_iter()
        .rfind(|s| s.method == "POST" && s.path == "/repos/acme/shop/issues/7/comments")
        .expect("a comment on the release PR");
    assert!(
        comment.body["body"]
            .as_str()
            .unwrap()
            .contains("1.5.0 is live"),
        "{:?}",
        comment.body
    );

    // A different tree (a commit added on the base branch, a conflict resolved in the merge):
    // refused before the release call.
    let (wx, gh, r) = review_then_merge("2222222222222222222222222222222222222222", "success");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(wx.successes(RELEASE), 0, "nothing published");
    assert_eq!(wx.calls(RELEASE), 0);
    assert!(
        r.stderr.contains("is not the code WeChat reviewed"),
        "{}",
        r.stderr
    );
    let refused = gh
        .seen()
        .into_iter()
        .rfind(|s| s.method == "POST" && s.path == "/repos/acme/shop/check-runs")
        .unwrap();
    assert_eq!(
        (&refused.body["head_sha"], &refused.body["conclusion"]),
        (&json!(MERGE), &json!("failure"))
    );
    assert_eq!(gh.count("POST", "/repos/acme/shop/git/refs"), 0, "no tag");

    // The head's review was never approved (its check run failed): refused too.
    let (wx, _gh, r) = review_then_merge("1111111111111111111111111111111111111111", "failure");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(wx.successes(RELEASE), 0);
    assert!(
        r.stderr.contains("has no approved WeChat review"),
        "{}",
        r.stderr
    );
}

/// `release-pr` on a push to main: the next version from the commits since the last tag, set in
/// package.json, in one release commit on `mp-release/release` made through the Git database API
/// (the workspace is untouched), and one pull request — opened the first time, updated in place
/// the second (the branch force-moved, no second pull request).
#[test]
fn release_pr_opens_one_pull_request_and_updates_it() {
    let wx = wx_with(ReviewStep::approve_after_polls(1));
    let gh = FakeGitHub::new();
    git_history(
        wx.dir.path(),
        &["feat: first", "feat: pay with points", "fix: crash"],
        "v1.4.2",
    );
    let pkg = "{\n  \"name\": \"shop\",\n  \"version\": \"1.4.2\"\n}\n";
    std::fs::write(wx.dir.path().join("package.json"), pkg).unwrap();
    let obj = |sha: &str| json!({ "sha": sha, "url": format!("https://api.github.com/repos/acme/shop/git/x/{sha}") });
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("/repos/acme/shop/git/commits/{SHA}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "sha": SHA, "tree": obj("1111111111111111111111111111111111111111"), "parents": []
            }))),
    );
    gh.mount(
        Mock::given(method("POST"))
            .and(path("/repos/acme/shop/git/trees"))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({
                "sha": "2222222222222222222222222222222222222222", "url": "u", "tree": [], "truncated": false
            }))),
    );
    gh.mount(
        Mock::given(method("POST"))
            .and(path("/repos/acme/shop/git/commits"))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({
                "sha": "3333333333333333333333333333333333333333",
                "tree": obj("2222222222222222222222222222222222222222"), "parents": [obj(SHA)], "message": "release: 1.5.0"
            }))),
    );
    // The branch does not exist the first time (GitHub: 422 "Reference does not exist").
    gh.mount(
        Mock::given(method("PATCH"))
            .and(path("/repos/acme/shop/git/refs/heads/mp-release/release"))
            .respond_with(ResponseTemplate::new(422).set_body_json(json!({
                "message": "Reference does not exist",
                "documentation_url": "https://docs.github.com/rest/git/refs#update-a-reference",
                "status": "422"
            })))
            .up_to_n_times(1)
            .with_priority(1),
    );
    gh.mount(
        Mock::given(method("PATCH"))
            .and(path("/repos/acme/shop/git/refs/heads/mp-release/release"))
            .respond_with(answer(200, "ref.json")),
    );
    gh.mount(
        Mock::given(method("POST"))
            .and(path("/repos/acme/shop/git/refs"))
            .respond_with(answer(201, "ref.json")),
    );
    let pull = json!({ "number": 8, "html_url": "https://github.com/acme/shop/pull/8", "state": "open",
        "title": "release: 1.5.0", "head": { "ref": "mp-release/release", "sha": "3333333333333333333333333333333333333333" } });
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/acme/shop/pulls"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
            .up_to_n_times(1)
            .with_priority(1),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/acme/shop/pulls"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([&pull]))),
    );
    gh.mount(
        Mock::given(method("POST"))
            .and(path("/repos/acme/shop/pulls"))
            .respond_with(ResponseTemplate::new(201).set_body_json(pull.clone())),
    );
    gh.mount(
        Mock::given(method("PATCH"))
            .and(path("/repos/acme/shop/pulls/8"))
            .respond_with(ResponseTemplate::new(200).set_body_json(pull)),
    );
    let env = [
        ("INPUT_VERSION_FROM", "git-tag"),
        ("INPUT_BUMP", "auto"),
        ("INPUT_WRITE", "package.json"),
    ];
    let r = run_with(&wx, &gh, &["release-pr"], &env);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        (
            r.outputs["version"].as_str(),
            r.outputs["pr-number"].as_str()
        ),
        ("1.5.0", "8")
    );
    assert_eq!(r.outputs["pr-url"], "https://github.com/acme/shop/pull/8");
    assert_eq!(
        std::fs::read_to_string(wx.dir.path().join("package.json")).unwrap(),
        pkg,
        "the workspace is not touched"
    );
    let seen = gh.seen();
    let tree = seen
        .iter()
        .find(|s| s.path.ends_with("/git/trees"))
        .unwrap();
    assert_eq!(
        tree.body["base_tree"],
        "1111111111111111111111111111111111111111"
    );
    assert_eq!(tree.body["tree"][0]["path"], "package.json");
    assert!(tree.body["tree"][0]["content"]
        .as_str()
        .unwrap()
        .contains("\"version\": \"1.5.0\""));
    let commit = seen
        .iter()
        .find(|s| s.path.ends_with("/git/commits") && s.method == "POST")
        .unwrap();
    assert_eq!(commit.body["parents"], json!([SHA]));
    assert!(commit.body["message"]
        .as_str()
        .unwrap()
        .starts_with("release: 1.5.0"));
    let created = seen
        .iter()
        .find(|s| s.path == "/repos/acme/shop/git/refs")
        .unwrap();
    assert_eq!(created.body["ref"], "refs/heads/mp-release/release");
    let opened = seen
        .iter()
        .find(|s| s.path == "/repos/acme/shop/pulls" && s.method == "POST")
        .unwrap();
    assert_eq!(
        (
            &opened.body["title"],
            &opened.body["head"],
            &opened.body["base"]
        ),
        (
            &json!("release: 1.5.0"),
            &json!("mp-release/release"),
            &json!("main")
        )
    );
    let body = opened.body["body"].as_str().unwrap();
    assert!(
        body.contains("<!-- mp-release:release-pr -->") && body.contains("pay with points"),
        "{body}"
    );

    // Again: the branch is moved (force), the same pull request is updated, none is opened.
    let r = run_with(&wx, &gh, &["release-pr"], &env);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(gh.count("POST", "/repos/acme/shop/pulls"), 1);
    assert_eq!(gh.count("PATCH", "/repos/acme/shop/pulls/8"), 1);
    let moved = gh
        .seen()
        .into_iter()
        .rfind(|s| s.method == "PATCH" && s.path.contains("/git/refs/"))
        .unwrap();
    assert_eq!(moved.body["force"], true);
    assert!(
        wx.emu.world().journal().is_empty(),
        "release-pr never calls WeChat"
    );

    // Nothing to release (the version would not change): no request to GitHub at all.
    let before = gh.seen().len();
    let r = run_with(
        &wx,
        &gh,
        &["release-pr"],
        &[env[0], ("INPUT_BUMP", "none"), env[2]],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("nothing to release"), "{}", r.stderr);
    assert_eq!(gh.seen().len(), before);
}

/// A push to a release PR while its review is in flight for the earlier head: `keep` (the default)
/// fails the new head's check and sends WeChat nothing more, so the unreviewed commit cannot be
/// merged under the other's approval; `resubmit` withdraws that review (one withdrawal) and
/// submits the new head.
#[test]
fn a_new_commit_during_the_review_is_kept_apart_or_resubmitted() {
    const SHA2: &str = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";
    let during_review = |mode: &str| {
        let wx = wx_with(ReviewStep::approve_after_polls(20));
        let gh = FakeGitHub::new();
        gh.mount_check_runs();
        // The new head has no check run of its own yet.
        gh.mount(
            Mock::given(method("GET"))
                .and(path(format!("/repos/acme/shop/commits/{SHA2}/check-runs")))
                .respond_with(
                    ResponseTemplate::new(200)
                        .set_body_json(json!({ "total_count": 0, "check_runs": [] })),
                ),
        );
        let event = pr_event(wx.dir.path(), false);
        let pr = |event: &str| {
            vec![
                ("GITHUB_EVENT_NAME", "pull_request".to_owned()),
                ("GITHUB_EVENT_PATH", event.to_owned()),
            ]
        };
        let first: Vec<(&str, String)> = pr(&event);
        let first: Vec<(&str, &str)> = first.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = run_with(&wx, &gh, &["submit"], &first);
        assert_eq!(r.outputs["review-status"], "pending", "{}", r.stderr);
        // The next push: the same pull request, a new head.
        let text = std::fs::read_to_string(&event).unwrap().replace(SHA, SHA2);
        let second_event = wx.dir.path().join("pr2.json");
        std::fs::write(&second_event, text).unwrap();
        let mut second = pr(second_event.to_str().unwrap());
        second.push(("INPUT_ON_NEW_COMMIT", mode.to_owned()));
        let second: Vec<(&str, &str)> = second.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = run_with(&wx, &gh, &["submit"], &second);
        (wx, gh, r)
    };
    let (wx, gh, r) = during_review("keep");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("is not the one under review"),
        "{}",
        r.stderr
    );
    assert_eq!(
        wx.successes("/wxa/submit_audit"),
        1,
        "nothing submitted again"
    );
    assert_eq!(wx.calls("/wxa/undocodeaudit"), 0, "nothing withdrawn");
    assert_eq!(wx.calls("/wxa/commit"), 1, "the trial was not replaced");
    let failed = gh
        .seen()
        .into_iter()
        .rfind(|s| s.method == "POST" && s.path == "/repos/acme/shop/check-runs")
        .unwrap();
    assert_eq!(
        (&failed.body["head_sha"], &failed.body["conclusion"]),
        (&json!(SHA2), &json!("failure"))
    );

    let (wx, _gh, r) = during_review("resubmit");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.outputs["review-status"], "pending");
    assert_eq!(wx.successes("/wxa/undocodeaudit"), 1, "one withdrawal");
    assert_eq!(
        wx.successes("/wxa/submit_audit"),
        2,
        "the new head submitted"
    );
    assert!(
        r.stderr
            .contains("it is withdrawn and this commit submitted"),
        "{}",
        r.stderr
    );

    // The job re-run on the same head: its own check run carries the hand-over, so on-new-commit
    // does not apply; the pipeline's own rules decide (without the state file of the first run, the
    // in-flight review cannot be proven to be this run's: on-existing-review, default fail), and
    // nothing is submitted twice.
    let wx = wx_with(ReviewStep::approve_after_polls(20));
    let gh = FakeGitHub::new();
    gh.mount_check_runs();
    let event = pr_event(wx.dir.path(), false);
    let pr = [
        ("GITHUB_EVENT_NAME", "pull_request"),
        ("GITHUB_EVENT_PATH", event.as_str()),
    ];
    let r = run_with(&wx, &gh, &["submit"], &pr);
    assert_eq!(r.outputs["review-status"], "pending", "{}", r.stderr);
    let handover = gh
        .seen()
        .iter()
        .rfind(|s| s.method == "PATCH")
        .unwrap()
        .body["external_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut own = fixture("check_run.json");
    own["external_id"] = json!(handover);
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("/repos/acme/shop/commits/{SHA}/check-runs")))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({ "total_count": 1, "check_runs": [own] })),
            ),
    );
    let r = run_with(&wx, &gh, &["submit"], &pr);
    assert!(
        !r.stderr.contains("is not the one under review"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("already in flight"), "{}", r.stderr);
    assert_eq!(wx.successes("/wxa/submit_audit"), 1);
}

/// `args` on a `merge_group` event whose candidate is MERGE, with this `head_ref`.
fn on_merge_group(wx: &Wx, gh: &FakeGitHub, args: &[&str], head_ref: &str) -> PipelineRun {
    let group = wx.dir.path().join("merge_group.json");
    let event = json!({ "action": "checks_requested", "merge_group": {
        "head_sha": MERGE,
        "head_ref": head_ref,
        "base_sha": "553c2077f0edc3d5dc5d17262f6aa498e69d6f8e",
        "base_ref": "refs/heads/main"
    } });
    std::fs::write(&group, event.to_string()).unwrap();
    run_with(
        wx,
        gh,
        args,
        &[
            ("GITHUB_EVENT_NAME", "merge_group"),
            ("GITHUB_EVENT_PATH", group.to_str().unwrap()),
            ("GITHUB_SHA", MERGE),
        ],
    )
}

/// `merge_group` (a merge queue): the required check goes on the queue's candidate commit —
/// success when the group ends with the release PR and the candidate's tree is the reviewed one,
/// failure when the tree differs, neutral for an ordinary pull request; WeChat is not called.
#[test]
fn a_merge_queue_candidate_gets_the_check_of_the_reviewed_release_pr() {
    let queue = |branch: &str, merged_tree: &str| {
        let wx = wx_with(ReviewStep::approve_after_polls(1));
        let gh = FakeGitHub::new();
        gh.mount_check_runs();
        let r = review_on_release_pr(&wx, &gh);
        assert_eq!(r.outputs["review-status"], "approved", "{}", r.stderr);
        let handover = gh
            .seen()
            .iter()
            .rfind(|s| s.method == "PATCH")
            .unwrap()
            .body["external_id"]
            .as_str()
            .unwrap()
            .to_owned();
        mount_merged_release_pr(&gh, &handover, "success", merged_tree);
        gh.mount(
            Mock::given(method("GET"))
                .and(path("/repos/acme/shop/pulls/7"))
                .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                    "number": 7, "title": "a change", "labels": [], "state": "open",
                    "head": { "ref": branch, "sha": SHA },
                    "base": { "ref": "main", "sha": "553c2077f0edc3d5dc5d17262f6aa498e69d6f8e" },
                    "merged_at": null, "merge_commit_sha": null
                }))),
        );
        let calls_before = wx.emu.world().journal().len();
        let r = on_merge_group(
            &wx,
            &gh,
            &["run", "--publish", "never"],
            &format!("refs/heads/gh-readonly-queue/main/pr-7-{SHA}"),
        );
        assert_eq!(
            wx.emu.world().journal().len(),
            calls_before,
            "no WeChat call"
        );
        let check = gh
            .seen()
            .into_iter()
            .rfind(|s| s.method == "POST" && s.path == "/repos/acme/shop/check-runs")
            .unwrap();
        assert_eq!(check.body["head_sha"], MERGE);
        (r, check.body["conclusion"].clone())
    };
    let same = "1111111111111111111111111111111111111111";
    let (r, conclusion) = queue("mp-release/release", same);
    assert_eq!((r.code, conclusion), (0, json!("success")), "{}", r.stderr);
    let (r, conclusion) = queue(
        "mp-release/release",
        "2222222222222222222222222222222222222222",
    );
    assert_eq!((r.code, conclusion), (1, json!("failure")), "{}", r.stderr);
    let (r, conclusion) = queue("feature/login", same);
    assert_eq!((r.code, conclusion), (0, json!("neutral")), "{}", r.stderr);
}

/// A release PR whose review is rejected: the check run on its head fails with WeChat's reason
/// and screenshot ids, and the sticky comment says so.
#[test]
fn a_rejected_release_pr_gets_a_failed_check_with_the_reason() {
    let wx = wx_with(ReviewStep::reject_after_polls(
        1,
        "页面内容不完整<br>图标模糊",
        &["media-3"],
    ));
    let gh = FakeGitHub::new();
    gh.mount_check_runs();
    gh.mount_new_comment();
    let r = review_on_release_pr(&wx, &gh);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.outputs["reject-reason"], "页面内容不完整\n图标模糊");
    let seen = gh.seen();
    let last = seen.iter().rfind(|s| s.method == "PATCH").unwrap();
    assert_eq!(last.body["conclusion"], "failure");
    let summary = last.body["output"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("> 页面内容不完整") && summary.contains("media-3"),
        "{summary}"
    );
    let comment = seen
        .iter()
        .find(|s| s.method == "POST" && s.path.ends_with("/issues/7/comments"))
        .unwrap();
    assert!(
        comment.body["body"].as_str().unwrap().contains("图标模糊"),
        "{:?}",
        comment.body
    );
}

/// A merge group whose head_ref names no pull request is not waved through as an ordinary one:
/// its check fails (in doubt), and WeChat is not called.
#[test]
fn a_merge_group_naming_no_pull_request_fails_its_check() {
    let wx = wx_with(ReviewStep::approve_after_polls(1));
    let gh = FakeGitHub::new();
    gh.mount_check_runs();
    let r = on_merge_group(
        &wx,
        &gh,
        &["submit"],
        "refs/heads/gh-readonly-queue/main/something-else",
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(wx.emu.world().journal().is_empty());
    let check = gh
        .seen()
        .into_iter()
        .find(|s| s.path == "/repos/acme/shop/check-runs")
        .unwrap();
    assert_eq!(
        (&check.body["head_sha"], &check.body["conclusion"]),
        (&json!(MERGE), &json!("failure"))
    );
}

/// Chat notifications across the hand-over: the submitting run tells `submitted`; the resume
/// that finds the approval publishes and tells `published` once; a second resume tells nothing.
#[test]
fn resume_tells_the_chats_once() {
    let wx = wx_with(ReviewStep::approve_after_polls(1));
    let gh = FakeGitHub::new();
    let chats = crate::notify::Chats::new(true);
    let hook = chats.slack_url();
    let told = || chats.slack_texts();
    let notify = [
        ("INPUT_NOTIFY_SLACK", hook.as_str()),
        ("INPUT_NOTIFY_ON", "all"),
    ];
    let handover = submit_and_hand_over_with(&wx, &gh, &notify);
    assert!(
        told().iter().any(|t| t.contains("submitted for review")),
        "{:?}",
        told()
    );
    mount_resume(&gh, &handover);
    let r = run_with(&wx, &gh, &["resume"], &notify);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let live: Vec<String> = told()
        .into_iter()
        .filter(|t| t.contains("is live"))
        .collect();
    assert_eq!(live.len(), 1, "{:?}", told());
    assert!(
        told().iter().any(|t| t.contains("passed review")),
        "{:?}",
        told()
    );
    // The check run is completed now: GitHub no longer lists it as open.
    gh.mount(
        Mock::given(method("POST"))
            .and(path("/graphql"))
            .respond_with(ResponseTemplate::new(200).set_body_json(graphql_history(
                &json!({ "total_count": 0, "check_runs": [] }),
            )))
            .with_priority(1),
    );
    let before = told().len();
    let r = run_with(&wx, &gh, &["resume"], &notify);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        told().len(),
        before,
        "a second resume tells nothing: {:?}",
        told()
    );
    assert!(!r.stderr.contains(crate::notify::SLACK_SECRET));
}
