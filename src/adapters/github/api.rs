//! The GitHub REST API through octocrab: check runs, commit statuses, the sticky pull-request
//! comment, tags and releases, and the commit listing `resume` walks.
//!
//! octocrab brings the authentication, the base URI (GHES or a test server), `Link` pagination and
//! errors that keep the response headers (rate limits). The request and answer shapes are ours:
//! octocrab's check-run model has no `external_id` or `status`, and those are what `resume` reads.
//!
//! Retries are by class, as for WeChat: a rate-limited request was not processed, so it is sent
//! again after the wait GitHub names (when that wait is short); a 5xx or a transport error is
//! retried only for reads and for PATCHes to a known id; a create whose answer was lost is left to
//! the caller, which reads back before creating again.

use crate::adapters::http::Net;
use octocrab::Octocrab;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::time::Duration;

/// The longest wait for a rate limit to reset before giving up on a GitHub call.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(120);
/// Tries of a read (or idempotent write) that meets a 5xx or a transport error.
const MAX_TRIES: u32 = 3;

/// A GitHub call that did not succeed, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum GhError {
    /// 403 without a rate limit: the token lacks a permission.
    #[error("GitHub refused to {what} (403: {message}): the token lacks the `{permission}` permission; add `permissions: {{ {permission} }}` to the job, or give a token that has it")]
    Forbidden {
        /// What was attempted.
        what: String,
        /// The workflow permission that allows it.
        permission: &'static str,
        /// GitHub's message.
        message: String,
    },
    /// 401: the token itself is refused.
    #[error("GitHub refused the token when asked to {what} (401: {message}): check github-token (expired, revoked, or not a token for this GitHub)")]
    Unauthorized {
        /// What was attempted.
        what: String,
        /// GitHub's message.
        message: String,
    },
    /// 404.
    #[error("GitHub answered 404 when asked to {what} ({message}): check the repository and commit, and that the token can see the repository")]
    NotFound {
        /// What was attempted.
        what: String,
        /// GitHub's message.
        message: String,
    },
    /// 422.
    #[error("GitHub refused to {what} as invalid (422: {message}{details})")]
    Invalid {
        /// What was attempted.
        what: String,
        /// GitHub's message.
        message: String,
        /// The `errors` list, flattened.
        details: String,
        /// The `code`s of the `errors` list (`already_exists`, …).
        codes: Vec<String>,
    },
    /// The rate limit is used up for longer than we wait.
    #[error("GitHub's rate limit for this token is used up for another {wait_secs} s, so this run did not {what}; it is retried by the next run (or give a token with a larger limit)")]
    RateLimited {
        /// What was not done.
        what: String,
        /// Seconds until the limit resets.
        wait_secs: u64,
    },
    /// Anything else: 5xx after retries, transport, an answer that does not parse.
    #[error("GitHub call to {what} failed: {message}")]
    Other {
        /// What was attempted.
        what: String,
        /// The status, when there was one.
        status: Option<u16>,
        /// What happened.
        message: String,
    },
}

impl GhError {
    /// `true` for a 422 whose errors say the thing exists already.
    pub fn already_exists(&self) -> bool {
        match self {
            Self::Invalid { codes, message, .. } => {
                codes.iter().any(|c| c == "already_exists") || message.contains("already exists")
            }
            _ => false,
        }
    }

    /// `true` when the result of a write is unknown (it may have been applied).
    pub fn uncertain(&self) -> bool {
        matches!(self, Self::Other { status, .. } if status.is_none_or(|s| s >= 500))
    }
}

/// A check run, as far as this tool reads it.
#[derive(Debug, Clone, Deserialize)]
pub struct CheckRun {
    /// Its id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// The commit.
    pub head_sha: String,
    /// queued, in_progress, completed.
    pub status: String,
    /// What the creator stored.
    pub external_id: Option<String>,
    /// When it started (RFC 3339).
    #[serde(default)]
    pub started_at: Option<String>,
    /// Its page.
    pub html_url: Option<String>,
    /// The page its creator linked (the workflow run).
    #[serde(default)]
    pub details_url: Option<String>,
    /// success, failure, neutral, … once completed.
    #[serde(default)]
    pub conclusion: Option<String>,
}

/// A pull request as `GET …/commits/{sha}/pulls` lists it (the part the merge guard reads).
#[derive(Debug, Clone, Deserialize)]
pub struct PullRequestInfo {
    /// Its number.
    pub number: u64,
    /// Its title.
    #[serde(default)]
    pub title: String,
    /// Its labels.
    #[serde(default)]
    pub labels: Vec<Label>,
    /// The head branch and commit.
    pub head: GitEnd,
    /// When it was merged; `None` while open.
    #[serde(default)]
    pub merged_at: Option<String>,
    /// The commit the merge made (merge, squash or rebase).
    #[serde(default)]
    pub merge_commit_sha: Option<String>,
}

/// A label.
#[derive(Debug, Clone, Deserialize)]
pub struct Label {
    /// Its name.
    pub name: String,
}

/// One end of a pull request.
#[derive(Debug, Clone, Deserialize)]
pub struct GitEnd {
    /// The branch.
    #[serde(rename = "ref")]
    pub branch: String,
    /// The commit.
    pub sha: String,
}

/// A pull request as GitHub answers for one (the part `release-pr` reads).
#[derive(Debug, Clone, Deserialize)]
pub struct Pull {
    /// Its number.
    pub number: u64,
    /// Its page.
    pub html_url: String,
}

#[derive(Debug, Deserialize)]
struct GitCommit {
    tree: GitObject,
}

#[derive(Debug, Deserialize)]
struct CheckRuns {
    check_runs: Vec<CheckRun>,
}

/// An issue or pull-request comment.
#[derive(Debug, Clone, Deserialize)]
pub struct Comment {
    /// Its id.
    pub id: u64,
    /// Its text.
    #[serde(default)]
    pub body: Option<String>,
    /// Its page.
    pub html_url: String,
}

/// A release.
#[derive(Debug, Clone, Deserialize)]
pub struct Release {
    /// Its tag.
    pub tag_name: String,
    /// Its page.
    pub html_url: String,
}

/// A deployment (what `POST …/deployments` and the listing answer, in part).
#[derive(Debug, Clone, Deserialize)]
pub struct Deployment {
    /// Its id.
    pub id: u64,
    /// What it was created with (mp-release puts `{"tool": "mp-release", "appid": …}`).
    #[serde(default)]
    pub payload: Value,
}

#[derive(Debug, Deserialize)]
struct GitRef {
    object: GitObject,
}

#[derive(Debug, Deserialize)]
struct GitObject {
    sha: String,
}

#[derive(Debug, Deserialize)]
struct CommitItem {
    sha: String,
}

/// What a check run is set to.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckRunBody {
    /// The name (create only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The commit (create only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_sha: Option<String>,
    /// in_progress or completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    /// success, failure, neutral.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<&'static str>,
    /// The hand-over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The workflow run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details_url: Option<String>,
    /// `{title, summary}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// RFC 3339, when completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
}

/// A client for one repository.
#[derive(Debug)]
pub struct GitHub {
    oc: Octocrab,
    repo: String,
    sleeper: Sleeper,
    /// The GraphQL endpoint (`/graphql` on api.github.com, `/api/graphql` on GHES).
    graphql: String,
    /// Requests sent (every try), for the log: what a run costs of the token's hourly budget.
    sent: std::sync::atomic::AtomicUsize,
}

/// How the client waits between tries: for real, or (tests) by recording the wait and going on.
#[derive(Debug, Clone, Default)]
pub enum Sleeper {
    /// `tokio::time::sleep`.
    #[default]
    Real,
    /// Records each wait and returns at once.
    #[cfg_attr(not(test), allow(dead_code))]
    Recorded(std::sync::Arc<std::sync::Mutex<Vec<Duration>>>),
}

impl Sleeper {
    async fn sleep(&self, d: Duration) {
        match self {
            Self::Real => tokio::time::sleep(d).await,
            Self::Recorded(waits) => waits
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(d),
        }
    }
}

fn header_u64(h: Option<&http::HeaderMap>, name: &str) -> Option<u64> {
    h?.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl GitHub {
    /// A client for `owner/name` at `api_url` (https://api.github.com, a GHES API, a test server).
    pub fn new(api_url: &str, token: &str, repo: &str, net: &Net) -> anyhow::Result<Self> {
        let base = url::Url::parse(api_url)
            .map_err(|e| anyhow::anyhow!("the GitHub API URL {api_url:?} is not usable: {e}"))?;
        net.log_route("GitHub API", &base);
        // The same reqwest client as WeChat's: proxy, trust roots, timeouts, no redirects.
        // octocrab sends `X-GitHub-Api-Version: 2022-11-28` itself; the media type GitHub
        // recommends is added to every request.
        let oc = Octocrab::builder()
            .base_uri(api_url)
            .map_err(|e| anyhow::anyhow!("the GitHub API URL {api_url:?} is not usable: {e}"))?
            .personal_token(token.to_owned())
            .add_header(
                http::header::ACCEPT,
                "application/vnd.github+json".to_owned(),
            )
            .build_with_reqwest(net.client(Duration::from_secs(30))?)
            .map_err(|e| anyhow::anyhow!("building the GitHub client: {e}"))?;
        // GHES serves REST under /api/v3 and GraphQL at /api/graphql.
        let trimmed = api_url.trim_end_matches('/');
        let graphql = match trimmed.strip_suffix("/api/v3") {
            Some(host) => format!("{host}/api/graphql"),
            None => format!("{trimmed}/graphql"),
        };
        Ok(Self {
            oc,
            repo: repo.to_owned(),
            sleeper: Sleeper::Real,
            graphql,
            sent: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// The same client waiting with `sleeper` (tests record the waits instead of sleeping).
    #[must_use]
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn with_sleeper(mut self, sleeper: Sleeper) -> Self {
        self.sleeper = sleeper;
        self
    }

    /// One call with the retry rules. `idempotent` allows retrying a 5xx or transport error.
    async fn call<R, F>(
        &self,
        what: &str,
        permission: &'static str,
        idempotent: bool,
        f: F,
    ) -> Result<R, GhError>
    where
        F: AsyncFn(&Octocrab) -> octocrab::Result<R>,
    {
        let mut tries = 0;
        let mut rate_waits = 0;
        loop {
            tries += 1;
            self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let err = match f(&self.oc).await {
                Ok(r) => return Ok(r),
                Err(e) => e,
            };
            let (status, message, headers, codes, details) = match &err {
                octocrab::Error::GitHub { source, .. } => {
                    let codes: Vec<String> = source
                        .errors
                        .iter()
                        .flatten()
                        .filter_map(|e| e["code"].as_str().map(str::to_owned))
                        .collect();
                    let details: Vec<String> = source
                        .errors
                        .iter()
                        .flatten()
                        .map(|e| match e["message"].as_str() {
                            Some(m) => m.to_owned(),
                            None => format!(
                                "{} {}",
                                e["field"].as_str().unwrap_or_default(),
                                e["code"].as_str().unwrap_or_default()
                            )
                            .trim()
                            .to_owned(),
                        })
                        .collect();
                    (
                        Some(source.status_code.as_u16()),
                        source.message.clone(),
                        source.headers.clone(),
                        codes,
                        details,
                    )
                }
                other => (None, other.to_string(), None, Vec::new(), Vec::new()),
            };
            let h = headers.as_ref();
            let limited = matches!(status, Some(403 | 429))
                && (header_u64(h, "x-ratelimit-remaining") == Some(0)
                    || header_u64(h, "retry-after").is_some()
                    || message.to_ascii_lowercase().contains("rate limit"));
            if limited {
                // GitHub did not process a rate-limited request: sending it again is safe.
                let wait_secs = header_u64(h, "retry-after")
                    .or_else(|| {
                        header_u64(h, "x-ratelimit-reset")
                            .map(|reset| reset.saturating_sub(now_secs()).saturating_add(1))
                    })
                    // A secondary limit without headers: GitHub asks for at least a minute.
                    .unwrap_or(60);
                if rate_waits >= MAX_TRIES || Duration::from_secs(wait_secs) > MAX_RATE_LIMIT_WAIT {
                    return Err(GhError::RateLimited {
                        what: what.to_owned(),
                        wait_secs,
                    });
                }
                rate_waits += 1;
                tracing::warn!(
                    "GitHub rate limit hit while trying to {what}; waiting {wait_secs} s"
                );
                self.sleeper.sleep(Duration::from_secs(wait_secs)).await;
                continue;
            }
            let what = what.to_owned();
            match status {
                Some(403) => {
                    return Err(GhError::Forbidden {
                        what,
                        permission,
                        message,
                    })
                }
                Some(401) => return Err(GhError::Unauthorized { what, message }),
                Some(404) => return Err(GhError::NotFound { what, message }),
                Some(422) => {
                    let details = if details.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", details.join("; "))
                    };
                    return Err(GhError::Invalid {
                        what,
                        message,
                        details,
                        codes,
                    });
                }
                Some(s) if s >= 500 => {}
                None => {}
                Some(s) => {
                    return Err(GhError::Other {
                        what,
                        status: Some(s),
                        message,
                    })
                }
            }
            if !idempotent || tries >= MAX_TRIES {
                return Err(GhError::Other {
                    what,
                    status,
                    message,
                });
            }
            let ms = 500 * 2u64.pow(tries - 1);
            tracing::warn!("GitHub call to {what} failed ({message}); retrying in {ms} ms");
            self.sleeper.sleep(Duration::from_millis(ms)).await;
        }
    }

    fn route(&self, tail: &str) -> String {
        format!("/repos/{}/{tail}", self.repo)
    }

    /// `GET /repos/{repo}/commits/{sha}/pulls`: the pull requests the commit belongs to (for a
    /// merge commit: the pull request it merged).
    pub async fn pulls_of_commit(&self, sha: &str) -> Result<Vec<PullRequestInfo>, GhError> {
        let route = self.route(&format!("commits/{sha}/pulls"));
        self.call(
            "list the pull requests of a commit",
            "pull-requests: read",
            true,
            async |oc| oc.get(&route, None::<&()>).await,
        )
        .await
    }

    /// `GET /repos/{repo}/pulls/{number}`.
    pub async fn pull(&self, number: u64) -> Result<PullRequestInfo, GhError> {
        let route = self.route(&format!("pulls/{number}"));
        self.call(
            "read a pull request",
            "pull-requests: read",
            true,
            async |oc| oc.get(&route, None::<&()>).await,
        )
        .await
    }

    /// The tree of a commit (`GET /repos/{repo}/git/commits/{sha}`): what the commit contains,
    /// whatever its parents and message.
    pub async fn tree_of(&self, sha: &str) -> Result<String, GhError> {
        let route = self.route(&format!("git/commits/{sha}"));
        let c: GitCommit = self
            .call("read a commit", "contents: read", true, async |oc| {
                oc.get(&route, None::<&()>).await
            })
            .await?;
        Ok(c.tree.sha)
    }

    /// `POST /repos/{repo}/git/trees`: `base_tree` with these files' text replaced.
    pub async fn create_tree(
        &self,
        base_tree: &str,
        files: &[(String, String)],
    ) -> Result<String, GhError> {
        let route = self.route("git/trees");
        let entries: Vec<Value> = files
            .iter()
            .map(|(path, text)| json!({ "path": path, "mode": "100644", "type": "blob", "content": text }))
            .collect();
        let b = json!({ "base_tree": base_tree, "tree": entries });
        let t: GitObject = self
            .call("create a tree", "contents: write", true, async |oc| {
                oc.post(&route, Some(&b)).await
            })
            .await?;
        Ok(t.sha)
    }

    /// `POST /repos/{repo}/git/commits`: a commit of `tree` on `parent` (an unreferenced object
    /// until a ref points at it, so sending it twice is harmless).
    pub async fn create_commit(
        &self,
        message: &str,
        tree: &str,
        parent: &str,
    ) -> Result<String, GhError> {
        let route = self.route("git/commits");
        let b = json!({ "message": message, "tree": tree, "parents": [parent] });
        let c: GitObject = self
            .call("create a commit", "contents: write", true, async |oc| {
                oc.post(&route, Some(&b)).await
            })
            .await?;
        Ok(c.sha)
    }

    /// Points `refs/heads/{branch}` at `sha`, creating the branch when it does not exist (a
    /// force update: the release branch is the base plus one release commit, every time).
    pub async fn set_branch(&self, branch: &str, sha: &str) -> Result<(), GhError> {
        let route = self.route(&format!("git/refs/heads/{branch}"));
        let b = json!({ "sha": sha, "force": true });
        let updated: Result<Value, GhError> = self
            .call("move a branch", "contents: write", true, async |oc| {
                oc.patch(&route, Some(&b)).await
            })
            .await;
        match updated {
            Ok(_) => Ok(()),
            // GitHub answers 422 "Reference does not exist" (or 404) for a branch not made yet.
            Err(GhError::Invalid { .. } | GhError::NotFound { .. }) => {
                let route = self.route("git/refs");
                let b = json!({ "ref": format!("refs/heads/{branch}"), "sha": sha });
                let _: Value = self
                    .call("create a branch", "contents: write", false, async |oc| {
                        oc.post(&route, Some(&b)).await
                    })
                    .await?;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// The open pull request from `branch` (of this repository) into `base`, if there is one.
    pub async fn open_pull(&self, branch: &str, base: &str) -> Result<Option<Pull>, GhError> {
        let route = self.route("pulls");
        let owner = self.repo.split('/').next().unwrap_or_default();
        let q = json!({ "head": format!("{owner}:{branch}"), "base": base, "state": "open", "per_page": 10 });
        let list: Vec<Pull> = self
            .call(
                "list pull requests",
                "pull-requests: read",
                true,
                async |oc| oc.get(&route, Some(&q)).await,
            )
            .await?;
        Ok(list.into_iter().next())
    }

    /// `POST /repos/{repo}/pulls`.
    pub async fn create_pull(
        &self,
        title: &str,
        branch: &str,
        base: &str,
        body: &str,
    ) -> Result<Pull, GhError> {
        let route = self.route("pulls");
        let b = json!({ "title": title, "head": branch, "base": base, "body": body });
        self.call(
            "open a pull request",
            "pull-requests: write",
            false,
            async |oc| oc.post(&route, Some(&b)).await,
        )
        .await
    }

    /// `PATCH /repos/{repo}/pulls/{number}`: title and body.
    pub async fn update_pull(&self, number: u64, title: &str, body: &str) -> Result<Pull, GhError> {
        let route = self.route(&format!("pulls/{number}"));
        let b = json!({ "title": title, "body": body });
        self.call(
            "update a pull request",
            "pull-requests: write",
            true,
            async |oc| oc.patch(&route, Some(&b)).await,
        )
        .await
    }

    /// How many requests this client has sent.
    pub fn requests_sent(&self) -> usize {
        self.sent.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The in-progress check runs named `name` on the commits of `branch` since `since`, through
    /// GraphQL: one request per 100 commits (the REST API needs one per commit). Returns the
    /// number of commits looked at and the runs.
    pub async fn open_check_runs(
        &self,
        branch: &str,
        since: &str,
        name: &str,
    ) -> Result<(usize, Vec<CheckRun>), GhError> {
        const QUERY: &str = "query($owner: String!, $name: String!, $ref: String!, $since: GitTimestamp!, $check: String!, $after: String) { repository(owner: $owner, name: $name) { ref(qualifiedName: $ref) { target { ... on Commit { history(first: 100, since: $since, after: $after) { pageInfo { hasNextPage endCursor } nodes { oid checkSuites(first: 20) { nodes { checkRuns(first: 10, filterBy: {checkName: $check, status: IN_PROGRESS}) { nodes { databaseId name status externalId startedAt detailsUrl url } } } } } } } } } } }";
        let (owner, repo) = self.repo.split_once('/').unwrap_or((&self.repo, ""));
        let mut after: Option<String> = None;
        let mut commits = 0;
        let mut runs = Vec::new();
        // 20 pages are 2,000 commits: more than any lookback of a release branch.
        for _ in 0..20 {
            let body = json!({
                "query": QUERY,
                "variables": {
                    "owner": owner, "name": repo, "ref": format!("refs/heads/{branch}"),
                    "since": since, "check": name, "after": after,
                },
            });
            let url = self.graphql.clone();
            let answer: Value = self
                .call(
                    "list check runs (GraphQL)",
                    "checks: read",
                    true,
                    async |oc| oc.post(&url, Some(&body)).await,
                )
                .await?;
            if let Some(errors) = answer["errors"].as_array().filter(|e| !e.is_empty()) {
                let message = errors
                    .iter()
                    .filter_map(|e| e["message"].as_str())
                    .collect::<Vec<_>>()
                    .join("; ");
                return Err(GhError::Other {
                    what: "list check runs (GraphQL)".into(),
                    status: Some(200),
                    message: mp_release_core::pipeline::clip(&message),
                });
            }
            let history = &answer["data"]["repository"]["ref"]["target"]["history"];
            let Some(nodes) = history["nodes"].as_array() else {
                // No such branch: nothing to resume there.
                return Ok((commits, runs));
            };
            for commit in nodes {
                commits += 1;
                let sha = commit["oid"].as_str().unwrap_or_default();
                for suite in commit["checkSuites"]["nodes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    for run in suite["checkRuns"]["nodes"].as_array().into_iter().flatten() {
                        let Some(id) = run["databaseId"].as_u64() else {
                            continue;
                        };
                        let text = |k: &str| run[k].as_str().map(str::to_owned);
                        runs.push(CheckRun {
                            id,
                            name: text("name").unwrap_or_default(),
                            head_sha: sha.to_owned(),
                            status: text("status").unwrap_or_default().to_ascii_lowercase(),
                            external_id: text("externalId"),
                            started_at: text("startedAt"),
                            html_url: text("url"),
                            details_url: text("detailsUrl"),
                            conclusion: None,
                        });
                    }
                }
            }
            if history["pageInfo"]["hasNextPage"] != json!(true) {
                break;
            }
            after = history["pageInfo"]["endCursor"].as_str().map(str::to_owned);
        }
        Ok((commits, runs))
    }

    /// `POST /repos/{repo}/check-runs`.
    pub async fn create_check_run(&self, body: &CheckRunBody) -> Result<CheckRun, GhError> {
        let route = self.route("check-runs");
        self.call("create a check run", "checks: write", false, async |oc| {
            oc.post(&route, Some(body)).await
        })
        .await
    }

    /// `PATCH /repos/{repo}/check-runs/{id}`.
    pub async fn update_check_run(
        &self,
        id: u64,
        body: &CheckRunBody,
    ) -> Result<CheckRun, GhError> {
        let route = self.route(&format!("check-runs/{id}"));
        self.call("update a check run", "checks: write", true, async |oc| {
            oc.patch(&route, Some(body)).await
        })
        .await
    }

    /// `GET /repos/{repo}/commits/{sha}/check-runs?check_name=…` (the latest run per name, one page).
    pub async fn check_runs(
        &self,
        sha: &str,
        name: &str,
        status: Option<&str>,
    ) -> Result<Vec<CheckRun>, GhError> {
        let route = self.route(&format!("commits/{sha}/check-runs"));
        let mut q = json!({ "check_name": name, "per_page": 100 });
        if let Some(s) = status {
            q["status"] = json!(s);
        }
        let list: CheckRuns = self
            .call("list check runs", "checks: read", true, async |oc| {
                oc.get(&route, Some(&q)).await
            })
            .await?;
        Ok(list.check_runs)
    }

    /// `POST /repos/{repo}/statuses/{sha}`.
    pub async fn create_status(
        &self,
        sha: &str,
        state: &str,
        context: &str,
        description: &str,
        target_url: Option<&str>,
    ) -> Result<(), GhError> {
        let route = self.route(&format!("statuses/{sha}"));
        let body = json!({
            "state": state,
            "context": context,
            "description": description,
            "target_url": target_url,
        });
        // A status is a new entry each time and the latest one counts: resending is harmless.
        let _: Value = self
            .call(
                "create a commit status",
                "statuses: write",
                true,
                async |oc| oc.post(&route, Some(&body)).await,
            )
            .await?;
        Ok(())
    }

    /// `POST /repos/{repo}/deployments`: a deployment of `sha` to `environment`, created even if
    /// the commit's checks are not green (`required_contexts: []`: the review is what gates) and
    /// without merging the default branch into it (`auto_merge: false`).
    pub async fn create_deployment(
        &self,
        sha: &str,
        environment: &str,
        description: &str,
        payload: &Value,
    ) -> Result<Deployment, GhError> {
        let route = self.route("deployments");
        let b = json!({
            "ref": sha,
            "environment": environment,
            "description": description,
            "auto_merge": false,
            "required_contexts": [],
            "production_environment": true,
            "payload": payload,
        });
        self.call(
            "create a deployment",
            "deployments: write",
            false,
            async |oc| oc.post(&route, Some(&b)).await,
        )
        .await
    }

    /// `GET /repos/{repo}/deployments?sha=…&environment=…` (newest first, one page).
    pub async fn deployments(
        &self,
        sha: &str,
        environment: &str,
    ) -> Result<Vec<Deployment>, GhError> {
        let route = self.route("deployments");
        let q = json!({ "sha": sha, "environment": environment, "per_page": 30 });
        self.call("list deployments", "deployments: read", true, async |oc| {
            oc.get(&route, Some(&q)).await
        })
        .await
    }

    /// `POST /repos/{repo}/deployments/{id}/statuses`.
    pub async fn create_deployment_status(
        &self,
        id: u64,
        state: &str,
        description: &str,
        log_url: Option<&str>,
    ) -> Result<(), GhError> {
        let route = self.route(&format!("deployments/{id}/statuses"));
        let mut b = json!({ "state": state, "description": description, "auto_inactive": true });
        if let Some(u) = log_url {
            b["log_url"] = json!(u);
        }
        // Each status is a new entry and the latest one counts: resending is harmless.
        let _: Value = self
            .call(
                "create a deployment status",
                "deployments: write",
                true,
                async |oc| oc.post(&route, Some(&b)).await,
            )
            .await?;
        Ok(())
    }

    /// Every item of a listing, following the `Link: rel="next"` pages.
    async fn all_pages<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        permission: &'static str,
        route: &str,
        query: &Value,
    ) -> Result<Vec<T>, GhError> {
        let mut page: octocrab::Page<T> = self
            .call(what, permission, true, async |oc| {
                oc.get(route, Some(query)).await
            })
            .await?;
        let mut all = std::mem::take(&mut page.items);
        while let Some(next) = page.next.take() {
            let uri = Some(next);
            let got: Option<octocrab::Page<T>> = self
                .call(what, permission, true, async |oc| oc.get_page(&uri).await)
                .await?;
            let Some(mut p) = got else { break };
            all.append(&mut p.items);
            page = p;
        }
        Ok(all)
    }

    /// Every comment of an issue or pull request (all pages).
    pub async fn comments(&self, number: u64) -> Result<Vec<Comment>, GhError> {
        let route = self.route(&format!("issues/{number}/comments"));
        self.all_pages(
            "list pull-request comments",
            "pull-requests: read",
            &route,
            &json!({ "per_page": 100 }),
        )
        .await
    }

    /// `POST /repos/{repo}/issues/{n}/comments`.
    pub async fn create_comment(&self, number: u64, body: &str) -> Result<Comment, GhError> {
        let route = self.route(&format!("issues/{number}/comments"));
        let b = json!({ "body": body });
        self.call(
            "comment on the pull request",
            "pull-requests: write",
            false,
            async |oc| oc.post(&route, Some(&b)).await,
        )
        .await
    }

    /// `PATCH /repos/{repo}/issues/comments/{id}`.
    pub async fn update_comment(&self, id: u64, body: &str) -> Result<Comment, GhError> {
        let route = self.route(&format!("issues/comments/{id}"));
        let b = json!({ "body": body });
        self.call(
            "update the pull-request comment",
            "pull-requests: write",
            true,
            async |oc| oc.patch(&route, Some(&b)).await,
        )
        .await
    }

    /// `POST /repos/{repo}/releases` (creates the tag at `sha` when it does not exist).
    pub async fn create_release(
        &self,
        tag: &str,
        sha: &str,
        body: &str,
    ) -> Result<Release, GhError> {
        let route = self.route("releases");
        let b = json!({ "tag_name": tag, "target_commitish": sha, "name": tag, "body": body });
        self.call("create a release", "contents: write", false, async |oc| {
            oc.post(&route, Some(&b)).await
        })
        .await
    }

    /// `GET /repos/{repo}/releases/tags/{tag}`.
    pub async fn release_by_tag(&self, tag: &str) -> Result<Release, GhError> {
        let route = self.route(&format!("releases/tags/{tag}"));
        self.call("read a release", "contents: read", true, async |oc| {
            oc.get(&route, None::<&()>).await
        })
        .await
    }

    /// `POST /repos/{repo}/git/refs` for `refs/tags/{tag}`.
    pub async fn create_tag(&self, tag: &str, sha: &str) -> Result<(), GhError> {
        let route = self.route("git/refs");
        let b = json!({ "ref": format!("refs/tags/{tag}"), "sha": sha });
        let _: Value = self
            .call("create a tag", "contents: write", false, async |oc| {
                oc.post(&route, Some(&b)).await
            })
            .await?;
        Ok(())
    }

    /// The commit a tag points at (`GET /repos/{repo}/git/ref/tags/{tag}`).
    pub async fn tag_sha(&self, tag: &str) -> Result<String, GhError> {
        let route = self.route(&format!("git/ref/tags/{tag}"));
        let r: GitRef = self
            .call("read a tag", "contents: read", true, async |oc| {
                oc.get(&route, None::<&()>).await
            })
            .await?;
        Ok(r.object.sha)
    }

    /// The commits of `branch` since `since` (RFC 3339), newest first (every page).
    pub async fn commits(&self, branch: &str, since: &str) -> Result<Vec<String>, GhError> {
        let route = self.route("commits");
        let q = json!({ "sha": branch, "since": since, "per_page": 100 });
        let list: Vec<CommitItem> = self
            .all_pages("list commits", "contents: read", &route, &q)
            .await?;
        Ok(list.into_iter().map(|c| c.sha).collect())
    }
}

#[cfg(test)]
mod tests;
