//! The GitHub calls against wiremock serving recorded answers (tests/fixtures/github).

use super::*;
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SHA: &str = "ce587453ced02b1526dfb4cb910479d431683101";
const TOKEN: &str = "ghs_TestToken0000000000000000000000000";

fn fixture(name: &str) -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/github")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

fn answer(status: u16, name: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(fixture(name))
}

/// The waits the client asked for (recorded, not slept: the tests take no wall-clock time).
type Waits = std::sync::Arc<std::sync::Mutex<Vec<Duration>>>;

async fn server() -> (MockServer, GitHub) {
    let (s, gh, _) = server_with_waits().await;
    (s, gh)
}

async fn server_with_waits() -> (MockServer, GitHub, Waits) {
    let s = MockServer::start().await;
    let waits = Waits::default();
    let gh = GitHub::new(&s.uri(), TOKEN, "acme/shop", &Net::default())
        .unwrap()
        .with_sleeper(Sleeper::Recorded(waits.clone()));
    (s, gh, waits)
}

#[tokio::test]
async fn check_runs_are_created_updated_and_listed() {
    let (s, gh) = server().await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/shop/check-runs"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("x-github-api-version", "2022-11-28"))
        .and(body_partial_json(json!({
            "name": "WeChat review",
            "head_sha": SHA,
            "status": "in_progress",
            "external_id": "mp-release/1:x",
            "output": { "title": "t", "summary": "s" }
        })))
        .respond_with(answer(201, "check_run.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/acme/shop/check-runs/4"))
        .and(body_partial_json(
            json!({ "status": "completed", "conclusion": "success" }),
        ))
        .respond_with(answer(200, "check_run.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/acme/shop/commits/{SHA}/check-runs")))
        .and(query_param("check_name", "WeChat review"))
        .and(query_param("status", "in_progress"))
        .respond_with(answer(200, "check_runs.json"))
        .expect(1)
        .mount(&s)
        .await;
    let created = gh
        .create_check_run(&CheckRunBody {
            name: Some("WeChat review".into()),
            head_sha: Some(SHA.into()),
            status: Some("in_progress"),
            external_id: Some("mp-release/1:x".into()),
            output: Some(json!({ "title": "t", "summary": "s" })),
            ..CheckRunBody::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (created.id, created.html_url.as_deref()),
        (4, Some("https://github.com/acme/shop/runs/4"))
    );
    gh.update_check_run(
        4,
        &CheckRunBody {
            status: Some("completed"),
            conclusion: Some("success"),
            ..CheckRunBody::default()
        },
    )
    .await
    .unwrap();
    let runs = gh
        .check_runs(SHA, "WeChat review", Some("in_progress"))
        .await
        .unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].external_id.as_deref(), Some("EXTERNAL_ID"));
    assert_eq!(runs[1].status, "in_progress");
}

#[tokio::test]
async fn statuses_comments_releases_tags_and_commits() {
    let (s, gh) = server().await;
    Mock::given(method("POST"))
        .and(path(format!("/repos/acme/shop/statuses/{SHA}")))
        .and(body_partial_json(
            json!({ "state": "pending", "context": "WeChat review" }),
        ))
        .respond_with(answer(201, "status.json"))
        .expect(1)
        .mount(&s)
        .await;
    // Two pages of comments, linked the way GitHub does.
    let next = format!("{}/repositories/1/issues/7/comments?page=2", s.uri());
    Mock::given(method("GET"))
        .and(path("/repos/acme/shop/issues/7/comments"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([fixture("comments.json")[0].clone()]))
                .insert_header("link", format!("<{next}>; rel=\"next\"").as_str()),
        )
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/repositories/1/issues/7/comments"))
        .and(query_param("page", "2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([fixture("comments.json")[1].clone()])),
        )
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/shop/issues/7/comments"))
        .and(body_partial_json(json!({ "body": "hello" })))
        .respond_with(answer(201, "comment.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/acme/shop/issues/comments/12"))
        .and(body_partial_json(json!({ "body": "again" })))
        .respond_with(answer(200, "comment.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/shop/releases"))
        .and(body_partial_json(
            json!({ "tag_name": "v1.3.0", "target_commitish": SHA, "body": "notes" }),
        ))
        .respond_with(answer(201, "release.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/shop/releases/tags/v1.3.0"))
        .respond_with(answer(200, "release.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/shop/git/refs"))
        .and(body_partial_json(
            json!({ "ref": "refs/tags/v1.3.0", "sha": SHA }),
        ))
        .respond_with(answer(201, "ref.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/shop/git/ref/tags/v1.3.0"))
        .respond_with(answer(200, "ref.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/shop/commits"))
        .and(query_param("sha", "main"))
        .and(query_param("since", "2026-11-18T00:00:00Z"))
        .respond_with(answer(200, "commits.json"))
        .expect(1)
        .mount(&s)
        .await;

    gh.create_status(SHA, "pending", "WeChat review", "d", Some("https://x"))
        .await
        .unwrap();
    let comments = gh.comments(7).await.unwrap();
    assert_eq!(comments.iter().map(|c| c.id).collect::<Vec<_>>(), [11, 12]);
    assert!(comments[1]
        .body
        .as_deref()
        .unwrap()
        .starts_with("<!-- mp-release:"));
    assert_eq!(gh.create_comment(7, "hello").await.unwrap().id, 1);
    gh.update_comment(12, "again").await.unwrap();
    let rel = gh.create_release("v1.3.0", SHA, "notes").await.unwrap();
    assert_eq!(
        rel.html_url,
        "https://github.com/acme/shop/releases/tag/v1.3.0"
    );
    assert_eq!(
        gh.release_by_tag("v1.3.0").await.unwrap().tag_name,
        "v1.3.0"
    );
    gh.create_tag("v1.3.0", SHA).await.unwrap();
    assert_eq!(gh.tag_sha("v1.3.0").await.unwrap(), SHA);
    assert_eq!(
        gh.commits("main", "2026-11-18T00:00:00Z").await.unwrap(),
        [SHA, "553c2077f0edc3d5dc5d17262f6aa498e69d6f8e"]
    );
}

#[tokio::test]
async fn refusals_say_what_to_do() {
    let (s, gh) = server().await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/shop/check-runs"))
        .respond_with(answer(403, "error_403_integration.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/repos/acme/shop/statuses/{SHA}")))
        .respond_with(answer(403, "error_403_integration.json"))
        .mount(&s)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/acme/shop/check-runs/99"))
        .respond_with(answer(404, "error_404.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/shop/releases"))
        .respond_with(answer(422, "error_422_release_exists.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/shop/git/refs"))
        .respond_with(answer(422, "error_422_ref_exists.json"))
        .mount(&s)
        .await;

    Mock::given(method("GET"))
        .and(path("/repos/acme/shop/releases/tags/v9"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "message": "Bad credentials",
            "documentation_url": "https://docs.github.com/rest",
            "status": "401"
        })))
        .mount(&s)
        .await;
    let e = gh.release_by_tag("v9").await.unwrap_err();
    assert!(
        matches!(e, GhError::Unauthorized { .. }) && e.to_string().contains("check github-token"),
        "{e}"
    );
    let e = gh
        .create_check_run(&CheckRunBody::default())
        .await
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(
            e,
            GhError::Forbidden {
                permission: "checks: write",
                ..
            }
        ),
        "{msg}"
    );
    assert!(
        msg.contains("Resource not accessible by integration")
            && msg.contains("add `permissions: { checks: write }`"),
        "{msg}"
    );
    let e = gh
        .create_status(SHA, "pending", "c", "d", None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("`statuses: write`"), "{e}");
    let e = gh
        .update_check_run(99, &CheckRunBody::default())
        .await
        .unwrap_err();
    assert!(matches!(e, GhError::NotFound { .. }), "{e}");
    assert!(e.to_string().contains("404"), "{e}");
    let e = gh.create_release("v1.3.0", SHA, "").await.unwrap_err();
    assert!(e.already_exists(), "{e}");
    assert!(e.to_string().contains("tag_name already_exists"), "{e}");
    let e = gh.create_tag("v1.3.0", SHA).await.unwrap_err();
    assert!(e.already_exists() && !e.uncertain(), "{e}");
    // The token never shows in an error.
    assert!(!msg.contains(TOKEN));
}

#[tokio::test]
async fn rate_limits_are_waited_out_when_short_and_reported_when_long() {
    let (s, gh, waits) = server_with_waits().await;
    let reset = now_secs() + 30;
    // Primary limit (403 + remaining 0 + reset), then success: the create is sent again.
    Mock::given(method("POST"))
        .and(path("/repos/acme/shop/check-runs"))
        .respond_with(
            answer(403, "error_403_rate_limit.json")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset.to_string().as_str()),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/shop/check-runs"))
        .respond_with(answer(201, "check_run.json"))
        .with_priority(2)
        .expect(1)
        .mount(&s)
        .await;
    // Secondary limit (429 + retry-after), then success.
    Mock::given(method("PATCH"))
        .and(path("/repos/acme/shop/check-runs/4"))
        .respond_with(
            ResponseTemplate::new(429)
                .set_body_json(json!({ "message": "You have exceeded a secondary rate limit." }))
                .insert_header("retry-after", "1"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&s)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/acme/shop/check-runs/4"))
        .respond_with(answer(200, "check_run.json"))
        .with_priority(2)
        .mount(&s)
        .await;
    // A limit that resets in an hour is not waited for.
    Mock::given(method("GET"))
        .and(path("/repos/acme/shop/commits"))
        .respond_with(
            answer(403, "error_403_rate_limit.json")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header(
                    "x-ratelimit-reset",
                    (now_secs() + 3600).to_string().as_str(),
                ),
        )
        .expect(1)
        .mount(&s)
        .await;

    let t = std::time::Instant::now();
    assert_eq!(
        gh.create_check_run(&CheckRunBody::default())
            .await
            .unwrap()
            .id,
        4
    );
    gh.update_check_run(4, &CheckRunBody::default())
        .await
        .unwrap();
    // waited out: the reset (≈30 s away, plus a second) and the retry-after of 1 s, recorded,
    // not slept
    let w = waits.lock().unwrap().clone();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!((29..=32).contains(&w[0].as_secs()), "{w:?}");
    assert_eq!(w[1], Duration::from_secs(1));
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    let e = gh
        .commits("main", "2026-11-18T00:00:00Z")
        .await
        .unwrap_err();
    assert!(
        matches!(e, GhError::RateLimited { wait_secs, .. } if wait_secs > 3000),
        "{e}"
    );
}

#[tokio::test]
async fn server_errors_retry_reads_but_never_blind_creates() {
    let (s, gh) = server().await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/acme/shop/commits/{SHA}/check-runs")))
        .respond_with(ResponseTemplate::new(502).set_body_string("bad gateway"))
        .up_to_n_times(2)
        .with_priority(1)
        .expect(2)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/acme/shop/commits/{SHA}/check-runs")))
        .respond_with(answer(200, "check_runs.json"))
        .with_priority(2)
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/shop/issues/7/comments"))
        .respond_with(ResponseTemplate::new(502).set_body_string("bad gateway"))
        .expect(1)
        .mount(&s)
        .await;
    assert_eq!(
        gh.check_runs(SHA, "WeChat review", None)
            .await
            .unwrap()
            .len(),
        2
    );
    let e = gh.create_comment(7, "x").await.unwrap_err();
    assert!(e.uncertain(), "{e}");
}

#[tokio::test]
async fn an_enterprise_server_api_path_is_kept_across_pages() {
    let s = MockServer::start().await;
    let gh = GitHub::new(
        &format!("{}/api/v3", s.uri()),
        TOKEN,
        "acme/shop",
        &Net::default(),
    )
    .unwrap();
    let next = format!("{}/api/v3/repositories/1/commits?page=2", s.uri());
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/acme/shop/commits"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([fixture("commits.json")[0].clone()]))
                .insert_header("link", format!("<{next}>; rel=\"next\"").as_str()),
        )
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v3/repositories/1/commits"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([fixture("commits.json")[1].clone()])),
        )
        .expect(1)
        .mount(&s)
        .await;
    assert_eq!(
        gh.commits("main", "2026-11-18T00:00:00Z")
            .await
            .unwrap()
            .len(),
        2
    );
}

/// GitHub's client follows the same rule as WeChat's: a redirect is never followed (it would carry
/// the token's request to the host the answer names).
#[tokio::test]
async fn redirects_are_not_followed() {
    let (s, gh) = server().await;
    let elsewhere = MockServer::start().await;
    for (verb, route) in [
        ("POST", "/repos/acme/shop/issues/7/comments".to_owned()),
        ("GET", format!("/repos/acme/shop/commits/{SHA}/check-runs")),
    ] {
        Mock::given(method(verb))
            .and(path(route.as_str()))
            .respond_with(
                ResponseTemplate::new(307)
                    .insert_header("location", format!("{}/steal", elsewhere.uri()).as_str()),
            )
            .mount(&s)
            .await;
    }
    assert!(gh.create_comment(7, "x").await.is_err());
    assert!(gh.check_runs(SHA, "WeChat review", None).await.is_err());
    assert!(
        elsewhere
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "a request reached the other host"
    );
}
