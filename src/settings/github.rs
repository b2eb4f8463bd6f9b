//! GitHub settings: where to report (repository, commit, pull request), how (check run, commit
//! status, nothing), and what else to do on publish (tag, release). Read from the inputs and the
//! runner's `GITHUB_*` variables and event payload; validated before anything is sent.

use super::{parse_bool, Layers, UsageError};
use crate::cli::GitHubArgs;
use secrecy::SecretString;

/// How merges are gated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gating {
    /// A check run (needs `checks: write`).
    Check,
    /// A commit status (needs `statuses: write`).
    Status,
    /// Neither.
    None,
}

/// What a new commit on a release PR does to a review in flight for an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewCommit {
    /// The review goes on; the new commit's check fails (it is not the code under review).
    Keep,
    /// The review is withdrawn and the new commit submitted.
    Resubmit,
}

/// The pull request a run belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// Its number.
    pub number: u64,
    /// Opened from a fork: the workflow token is read-only there.
    pub fork: bool,
    /// The head branch.
    pub head_ref: String,
    /// Its labels.
    pub labels: Vec<String>,
    /// Its title.
    pub title: String,
    /// Whether `release-pr` recognises it as a release pull request.
    pub release: bool,
}

/// A `merge_group` event: the merge queue's candidate commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeGroup {
    /// The commit the queue tests (the base with the queued pull requests merged).
    pub head_sha: String,
    /// The pull request the group ends with (from `gh-readonly-queue/<base>/pr-<N>-<sha>`).
    pub pr: Option<u64>,
}

/// One rule of `release-pr`: what makes a pull request a release PR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleasePrRule {
    /// Every pull request (review them all: the quota is spent on each).
    All,
    /// The head branch is this one, or starts with the part before a final `*`.
    Branch(String),
    /// The pull request has this label.
    Label(String),
    /// The title starts with this.
    Title(String),
}

/// `release-pr`'s default: the branch `mp-release release-pr` opens, the label, the title prefix.
pub const DEFAULT_RELEASE_PR: &str = "branch:mp-release/*, label:wechat-release, title:release:";

/// Parses `release-pr`: comma- or newline-separated `branch:<name or prefix*>`, `label:<name>`,
/// `title:<prefix>`, or `all`.
pub fn parse_release_pr(s: &str) -> Result<Vec<ReleasePrRule>, String> {
    let mut rules = Vec::new();
    for item in s
        .split([',', '\n'])
        .map(str::trim)
        .filter(|i| !i.is_empty())
    {
        let rule = match item.split_once(':') {
            _ if item == "all" => ReleasePrRule::All,
            Some(("branch", b)) if !b.trim().is_empty() => ReleasePrRule::Branch(b.trim().to_owned()),
            Some(("label", l)) if !l.trim().is_empty() => ReleasePrRule::Label(l.trim().to_owned()),
            // a title prefix keeps its own spaces but not the ones around the comma
            Some(("title", t)) if !t.trim().is_empty() => ReleasePrRule::Title(t.trim_start().to_owned()),
            _ => {
                return Err(format!(
                    "expected branch:<name or prefix*>, label:<name>, title:<prefix> or all, got {item:?}"
                ))
            }
        };
        rules.push(rule);
    }
    if rules.is_empty() {
        return Err("give at least one rule (branch:…, label:…, title:… or all)".into());
    }
    Ok(rules)
}

impl PullRequest {
    /// Whether any rule recognises this pull request.
    pub fn matches(&self, rules: &[ReleasePrRule]) -> bool {
        rules.iter().any(|r| match r {
            ReleasePrRule::All => true,
            ReleasePrRule::Branch(b) => match b.strip_suffix('*') {
                Some(prefix) => self.head_ref.starts_with(prefix),
                None => self.head_ref == *b,
            },
            ReleasePrRule::Label(l) => self.labels.iter().any(|x| x == l),
            ReleasePrRule::Title(t) => self.title.starts_with(t.as_str()),
        })
    }
}

/// Validated GitHub settings. `api` is `None` when there is no token or no repository: the run
/// then writes only its outputs and job summary.
#[derive(Debug, Clone)]
pub struct GitHubSettings {
    /// Token, API URL and `owner/name`, when the API can be used.
    pub api: Option<(SecretString, String, String)>,
    /// The commit being released.
    pub sha: Option<String>,
    /// Check run, status or nothing.
    pub gating: Gating,
    /// `on-new-commit`.
    pub on_new_commit: NewCommit,
    /// On a `merge_group` event: the queue's candidate.
    pub merge_group: Option<MergeGroup>,
    /// `release-pr`: what makes a pull request a release PR (the merge guard of `publish` too).
    pub release_rules: Vec<ReleasePrRule>,
    /// `gating: deployment`: the environment a GitHub deployment of the commit goes to.
    pub deployment: Option<String>,
    /// `GITHUB_SERVER_URL` (links to the environment's deployments).
    pub server_url: Option<String>,
    /// The check run's name (status context).
    pub check_name: String,
    /// The pull request, on `pull_request` events.
    pub pr: Option<PullRequest>,
    /// Write the sticky comment on pull requests.
    pub comment: bool,
    /// Link to the preview QR code image.
    pub qrcode_url: Option<String>,
    /// Tag the released commit.
    pub tag: bool,
    /// Create a GitHub release.
    pub release: bool,
    /// The workflow run's page.
    pub run_url: Option<String>,
    /// The branch of `GITHUB_REF`, when it is one.
    pub ref_branch: Option<String>,
}

impl Default for GitHubSettings {
    /// No GitHub at all (the sandbox, commands that do not report there).
    fn default() -> Self {
        Self {
            api: None,
            sha: None,
            gating: Gating::None,
            deployment: None,
            release_rules: Vec::new(),
            on_new_commit: NewCommit::Keep,
            merge_group: None,
            server_url: None,
            check_name: "WeChat review".into(),
            pr: None,
            comment: false,
            qrcode_url: None,
            tag: false,
            release: false,
            run_url: None,
            ref_branch: None,
        }
    }
}

/// `gating`: `check`, `status` or `none`, and `deployment` on its own or with one of the first two
/// (`check,deployment`).
fn parse_gating(s: &str) -> Result<(Gating, bool), String> {
    let words: Vec<&str> = s
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect();
    let mut mode = None;
    let mut deployment = false;
    for w in &words {
        let m = match *w {
            "check" => Gating::Check,
            "status" => Gating::Status,
            "none" => Gating::None,
            "deployment" => {
                deployment = true;
                continue;
            }
            other => {
                return Err(format!(
                    "expected check, status, deployment or none (deployment may go with check or status: check,deployment), got {other:?}"
                ))
            }
        };
        if mode.replace(m).is_some() {
            return Err(
                "give one of check, status and none (and deployment besides, if wanted)".into(),
            );
        }
    }
    if deployment && mode == Some(Gating::None) {
        return Err("none and deployment contradict each other".into());
    }
    let mode = mode.unwrap_or(if deployment {
        Gating::None
    } else {
        Gating::Check
    });
    Ok((mode, deployment))
}

fn check_sha(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(format!(
            "expected a full commit SHA (40 hex digits), got {s:?}"
        ))
    }
}

/// Reads the GitHub settings.
/// `github-api-url`, else `$GITHUB_API_URL`, else api.github.com.
pub(crate) fn api_url(layers: &Layers<'_>, flag: Option<&str>) -> Result<String, UsageError> {
    Ok(layers
        .parse("github-api-url", flag, |s| {
            let u = url::Url::parse(s.trim()).map_err(|e| format!("expected a URL: {e}"))?;
            match u.scheme() {
                "http" | "https" => Ok(s.trim().trim_end_matches('/').to_owned()),
                _ => Err("expected an http(s) URL".to_owned()),
            }
        })?
        .map(|(u, _)| u)
        .or_else(|| layers.env.get("GITHUB_API_URL").map(str::to_owned))
        .unwrap_or_else(|| "https://api.github.com".into()))
}

/// `repository` (owner/name), else `$GITHUB_REPOSITORY`.
pub(crate) fn repository(
    layers: &Layers<'_>,
    flag: Option<&str>,
) -> Result<Option<String>, UsageError> {
    Ok(layers
        .parse("repository", flag, |s| {
            let s = s.trim();
            match s.split_once('/') {
                Some((o, n)) if !o.is_empty() && !n.is_empty() && !n.contains('/') => {
                    Ok(s.to_owned())
                }
                _ => Err(format!("expected owner/name, got {s:?}")),
            }
        })?
        .map(|(r, _)| r)
        .or_else(|| layers.env.get("GITHUB_REPOSITORY").map(str::to_owned)))
}

pub fn github(a: &GitHubArgs, layers: &Layers<'_>) -> Result<GitHubSettings, UsageError> {
    let env = layers.env;
    let token = layers.pick("github-token", a.github_token.as_deref());
    let api_url = api_url(layers, a.github_api_url.as_deref())?;
    let repository = repository(layers, a.repository.as_deref())?;
    let gating = layers.parse("gating", a.gating.as_deref(), parse_gating)?;
    let explicit_gating = gating
        .as_ref()
        .is_some_and(|((g, d), _)| *g != Gating::None || *d);
    let (gating, deploy) = gating.map_or((Gating::Check, false), |(g, _)| g);
    let deployment = match layers.parse(
        "deployment-environment",
        a.deployment_environment.as_deref(),
        |s| {
            let s = s.trim();
            if s.is_empty() || s.chars().count() > 255 {
                Err("expected an environment name of 1 to 255 characters".to_owned())
            } else {
                Ok(s.to_owned())
            }
        },
    )? {
        Some((e, _)) if deploy => Some(e),
        None if deploy => Some("wechat-production".to_owned()),
        _ => None,
    };
    let check_name = layers
        .parse("check-name", a.check_name.as_deref(), |s| {
            let s = s.trim();
            if s.is_empty() || s.len() > 100 {
                Err("expected a name of 1 to 100 characters".to_owned())
            } else {
                Ok(s.to_owned())
            }
        })?
        .map_or_else(|| "WeChat review".to_owned(), |(n, _)| n);
    let flag = |name: &str, v: Option<&str>, default: bool| {
        layers
            .parse(name, v, parse_bool)
            .map(|o| o.map_or(default, |(b, _)| b))
    };
    let comment = flag("pr-comment", a.pr_comment.as_deref(), true)?;
    let tag = flag("git-tag", a.git_tag.as_deref(), false)?;
    let release = flag("github-release", a.github_release.as_deref(), false)?;
    let qrcode_url = layers
        .parse("qrcode-url", a.qrcode_url.as_deref(), |s| {
            url::Url::parse(s.trim())
                .map(|_| s.trim().to_owned())
                .map_err(|e| format!("expected a URL: {e}"))
        })?
        .map(|(u, _)| u);
    let rules = layers
        .parse("release-pr", a.release_pr.as_deref(), parse_release_pr)?
        .map_or_else(
            || parse_release_pr(DEFAULT_RELEASE_PR).expect("a valid constant"),
            |(r, _)| r,
        );
    let pr = pull_request(env.get("GITHUB_EVENT_PATH")).map(|(mut p, head)| {
        p.release = p.matches(&rules);
        (p, head)
    });
    let sha = match layers.parse("sha", a.sha.as_deref(), check_sha)? {
        Some((s, _)) => Some(s),
        None => pr
            .as_ref()
            .and_then(|(_, head)| head.clone())
            .or_else(|| env.get("GITHUB_SHA").and_then(|s| check_sha(s).ok())),
    };
    let needs_api = explicit_gating || tag || release;
    let api = match (token, repository) {
        (Some((t, _)), Some(r)) => Some((SecretString::from(t), api_url, r)),
        (None, _) if needs_api => {
            return Err(UsageError::new(
                "gating, git-tag and github-release need github-token (in a workflow: `github-token: ${{ github.token }}`, the Action's default)",
            ))
        }
        (Some(_), None) if needs_api => {
            return Err(UsageError::new(
                "the GitHub repository is unknown: set repository (owner/name); in a workflow GITHUB_REPOSITORY gives it",
            ))
        }
        _ => None,
    };
    if api.is_some() && sha.is_none() && (explicit_gating || tag || release) {
        return Err(UsageError::new(
            "the commit being released is unknown: set sha (40 hex digits); in a workflow GITHUB_SHA gives it",
        ));
    }
    let run_url = match (
        env.get("GITHUB_SERVER_URL"),
        env.get("GITHUB_REPOSITORY"),
        env.get("GITHUB_RUN_ID"),
    ) {
        (Some(server), Some(repo), Some(id)) => Some(format!(
            "{}/{repo}/actions/runs/{id}",
            server.trim_end_matches('/')
        )),
        _ => None,
    };
    let ref_branch = env
        .get("GITHUB_REF")
        .and_then(|r| r.strip_prefix("refs/heads/"))
        .map(str::to_owned);
    Ok(GitHubSettings {
        api,
        sha,
        gating,
        deployment,
        release_rules: rules,
        merge_group: merge_group(env.get("GITHUB_EVENT_PATH")),
        on_new_commit: layers
            .parse("on-new-commit", a.on_new_commit.as_deref(), |s| {
                match s.trim() {
                    "keep" => Ok(NewCommit::Keep),
                    "resubmit" => Ok(NewCommit::Resubmit),
                    _ => Err("expected keep or resubmit".to_owned()),
                }
            })?
            .map_or(NewCommit::Keep, |(v, _)| v),
        server_url: env
            .get("GITHUB_SERVER_URL")
            .map(|u| u.trim_end_matches('/').to_owned()),
        check_name,
        pr: pr.map(|(p, _)| p),
        comment,
        qrcode_url,
        tag,
        release,
        run_url,
        ref_branch,
    })
}

/// The merge group of a `merge_group` event payload.
fn merge_group(event_path: Option<&str>) -> Option<MergeGroup> {
    let text = std::fs::read_to_string(event_path?).ok()?;
    let event: serde_json::Value = serde_json::from_str(&text).ok()?;
    let g = event.get("merge_group")?;
    let head_sha = check_sha(g["head_sha"].as_str()?).ok()?;
    // gh-readonly-queue/main/pr-7-<sha of the pull request's head>
    let pr = g["head_ref"]
        .as_str()
        .and_then(|r| r.rsplit('/').next())
        .and_then(|last| last.strip_prefix("pr-"))
        .and_then(|rest| rest.split('-').next())
        .and_then(|n| n.parse().ok());
    Some(MergeGroup { head_sha, pr })
}

/// The pull request of a `pull_request`/`pull_request_target` event payload, and its head commit.
fn pull_request(event_path: Option<&str>) -> Option<(PullRequest, Option<String>)> {
    let text = std::fs::read_to_string(event_path?).ok()?;
    let event: serde_json::Value = serde_json::from_str(&text).ok()?;
    let pr = event.get("pull_request")?;
    let number = pr["number"].as_u64()?;
    let head = pr["head"]["repo"]["full_name"].as_str();
    let base = pr["base"]["repo"]["full_name"].as_str();
    let fork = pr["head"]["repo"]["fork"].as_bool() == Some(true) || head != base;
    let sha = pr["head"]["sha"].as_str().and_then(|s| check_sha(s).ok());
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    let labels = pr["labels"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| text(&l["name"]))
        .collect();
    Some((
        PullRequest {
            number,
            fork,
            head_ref: text(&pr["head"]["ref"]),
            labels,
            title: text(&pr["title"]),
            release: false,
        },
        sha,
    ))
}

/// Validated settings of `mp-release resume`.
#[derive(Debug, Clone)]
pub struct ResumeSettings {
    /// Branches whose recent commits are searched.
    pub branches: Vec<String>,
    /// How far back, in seconds.
    pub lookback_secs: u64,
}

/// Validates `resume`'s own inputs; it needs the GitHub API and check runs.
pub fn resume(
    a: &crate::cli::ResumeArgs,
    layers: &Layers<'_>,
    gs: &GitHubSettings,
) -> Result<ResumeSettings, UsageError> {
    if gs.api.is_none() {
        return Err(UsageError::new(
            "resume finds reviews through the check runs on GitHub: give github-token (the Action passes github.token) and repository (GITHUB_REPOSITORY in a workflow)",
        ));
    }
    if gs.gating != Gating::Check {
        return Err(UsageError::new(
            "resume follows check runs (gating: check); with commit statuses, follow a review with `mp-release wait --audit-id` instead",
        ));
    }
    let branches: Vec<String> = match layers.pick("branches", a.branches.as_deref()) {
        Some((list, origin)) => {
            let v: Vec<String> = list
                .split([',', '\n'])
                .map(str::trim)
                .filter(|b| !b.is_empty())
                .map(str::to_owned)
                .collect();
            if v.is_empty() {
                return Err(UsageError::input(&origin, "expected branch names, comma-separated"));
            }
            v
        }
        None => match &gs.ref_branch {
            Some(b) => vec![b.clone()],
            None => {
                return Err(UsageError::new(
                    "resume does not know which branches to search: set branches (e.g. main,release); in a workflow the branch of GITHUB_REF is the default",
                ))
            }
        },
    };
    let lookback_secs = layers
        .parse("lookback", a.lookback.as_deref(), |s| {
            super::parse::bounded_duration(
                s,
                std::time::Duration::ZERO,
                super::parse::limits::LOOKBACK,
            )
            .map(|d| d.as_secs())
        })?
        .map_or(7 * 24 * 3600, |(v, _)| v);
    Ok(ResumeSettings {
        branches,
        lookback_secs,
    })
}
