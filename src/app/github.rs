//! Reporting a run to GitHub: the check run (or commit status) that gates merges, the sticky
//! pull-request comment, and the tag and release on publish.
//!
//! Nothing here stops a release: a GitHub call that fails becomes a warning annotation (naming the
//! permission to add when that is the cause) and the job summary still tells the whole story.

use crate::adapters::git::Git;
use crate::adapters::github::api::{CheckRunBody, Deployment, GhError, GitHub};
use crate::adapters::http::Net;
use crate::output::Level;
use crate::settings::{Gating, GitHubSettings};
use mp_release_core::github::{
    check_output, clip_chars as clip, deployment_state, pr_comment, release_notes,
    status_description, CheckState, Handover, Links, Preview,
};
use mp_release_core::pipeline::{Outcome, State};
use secrecy::ExposeSecret;
use serde_json::json;

/// Talks to GitHub for one run (or, in `resume`, for one check run).
#[derive(Debug)]
pub struct Reporter {
    gh: Option<GitHub>,
    s: GitHubSettings,
    dry_run: bool,
    /// The check run this run reports to.
    pub check_id: Option<u64>,
    check_url: Option<String>,
    external_id: Option<String>,
    /// Links for the summary and outputs.
    pub links: Links,
    /// The sticky comment, once written.
    pub comment_url: Option<String>,
    /// What went wrong on the way (warnings for the workflow run).
    pub warnings: Vec<String>,
    /// Notices (a fork pull request, a dry run).
    pub notices: Vec<String>,
    /// Where release notes are read from.
    pub repo_dir: std::path::PathBuf,
    /// Tag prefix.
    pub tag_prefix: String,
    /// In `resume`: a run that could not reach WeChat leaves the check run open for the next one.
    pub resuming: bool,
    /// The deployment of `gating: deployment`, once created or found.
    deployment_id: Option<u64>,
    /// The deployment was tried (created, found or refused): not again on every step.
    deployment_tried: bool,
}

impl Reporter {
    /// A reporter that does nothing (the sandbox, or no GitHub).
    pub fn off(s: GitHubSettings) -> Self {
        Self {
            gh: None,
            links: Links {
                run: s.run_url.clone(),
                ..Links::default()
            },
            s,
            dry_run: false,
            check_id: None,
            check_url: None,
            comment_url: None,
            external_id: None,
            warnings: Vec::new(),
            notices: Vec::new(),
            repo_dir: std::path::PathBuf::from("."),
            tag_prefix: "v".into(),
            resuming: false,
            deployment_id: None,
            deployment_tried: false,
        }
    }

    /// A reporter for these settings; on a fork's pull request the token is read-only, so it
    /// reports to the summary only and says so.
    pub fn new(s: GitHubSettings, dry_run: bool, net: &Net) -> anyhow::Result<Self> {
        let mut r = Self::off(s);
        r.dry_run = dry_run;
        let Some((token, url, repo)) = &r.s.api else {
            return Ok(r);
        };
        if r.s.pr.as_ref().is_some_and(|p| p.fork) {
            r.notices.push(
                "a pull request from a fork gets a read-only token: no check run, status or comment; the job summary has the result"
                    .into(),
            );
            return Ok(r);
        }
        r.gh = Some(GitHub::new(url, token.expose_secret(), repo, net)?);
        Ok(r)
    }

    /// A reporter bound to an existing check run (resume).
    pub fn for_check_run(mut self, id: u64, sha: &str, url: Option<String>) -> Self {
        self.check_id = Some(id);
        self.s.sha = Some(sha.to_owned());
        self.s.gating = Gating::Check;
        self.check_url.clone_from(&url);
        self.links.check_run = url;
        self
    }

    /// The link to the preview QR code image, when one was given.
    pub fn qrcode_url(&self) -> Option<String> {
        self.s.qrcode_url.clone()
    }

    /// The client, when calls are to be made.
    pub fn api(&self) -> Option<&GitHub> {
        self.gh.as_ref()
    }

    fn warn(&mut self, e: &GhError) {
        tracing::warn!("{e}");
        self.warnings.push(e.to_string());
    }

    fn active(&self) -> Option<(&GitHub, String)> {
        if self.dry_run {
            return None;
        }
        Some((self.gh.as_ref()?, self.s.sha.clone()?))
    }

    /// The run begins: an in-progress check run (or a pending status) on the commit.
    pub async fn start(&mut self, state: &State) {
        if self.dry_run && self.gh.is_some() {
            self.notices
                .push("dry run: no check run, status, comment, tag or release was written".into());
        }
        let Some((gh, sha)) = self.active() else {
            return;
        };
        match self.s.gating {
            Gating::None => {}
            Gating::Status => self.status(state).await,
            // Resume reports to the check run it found.
            Gating::Check if self.check_id.is_some() => {}
            Gating::Check => {
                let out = check_output(state, &self.links);
                let external_id = Handover::of(state).map(|h| h.encode());
                let body = CheckRunBody {
                    name: Some(self.s.check_name.clone()),
                    head_sha: Some(sha.clone()),
                    status: Some("in_progress"),
                    external_id: external_id.clone(),
                    details_url: self.s.run_url.clone(),
                    output: Some(json!({ "title": out.title, "summary": out.summary })),
                    ..CheckRunBody::default()
                };
                let created = match gh.create_check_run(&body).await {
                    // The answer was lost: GitHub may have made it. Read back before going on
                    // without one (a second create would leave an orphan "in progress").
                    Err(e) if e.uncertain() => {
                        let mine = gh
                            .check_runs(&sha, &self.s.check_name, Some("in_progress"))
                            .await
                            .ok()
                            .and_then(|runs| {
                                runs.into_iter().find(|r| {
                                    self.s.run_url.is_some() && r.details_url == self.s.run_url
                                })
                            });
                        mine.ok_or(e)
                    }
                    r => r,
                };
                match created {
                    Ok(run) => {
                        tracing::info!("check run “{}” created ({})", run.name, run.id);
                        self.check_id = Some(run.id);
                        self.check_url.clone_from(&run.html_url);
                        self.links.check_run = run.html_url;
                        self.external_id = external_id;
                    }
                    Err(e) => self.warn(&e),
                }
            }
        }
        if state.version.is_some() {
            self.deployment(state).await;
        }
    }

    /// `gating: deployment`: the deployment of the commit to the environment (created at the start
    /// of a run, found again by `resume`), and the status that stands for the state.
    async fn deployment(&mut self, state: &State) {
        let Some(env) = self.s.deployment.clone() else {
            return;
        };
        let Some(wanted) = deployment_state(state) else {
            return;
        };
        let Some((gh, sha)) = self.active() else {
            return;
        };
        let appid = state.config.appid.clone();
        let version = state.version.clone().unwrap_or_default();
        let ours = |d: &Deployment| {
            d.payload["tool"] == "mp-release"
                && d.payload["appid"] == appid.as_str()
                && d.payload["version"] == version.as_str()
        };
        let mut failed = Vec::new();
        let mut id = self.deployment_id;
        if id.is_none() {
            // A resumed run, or a create whose answer was lost: the newest deployment of this app
            // and version on the commit is ours.
            let found = gh
                .deployments(&sha, &env)
                .await
                .ok()
                .and_then(|list| list.into_iter().find(|d| ours(d)));
            id = match found {
                Some(d) => Some(d.id),
                None if self.resuming => None,
                None => {
                    let payload =
                        json!({ "tool": "mp-release", "appid": appid, "version": version });
                    let description = clip(&format!("WeChat mini program {appid} {version}"), 140);
                    match gh
                        .create_deployment(&sha, &env, &description, &payload)
                        .await
                    {
                        Ok(d) => {
                            tracing::info!("deployment {} to {env} created", d.id);
                            Some(d.id)
                        }
                        Err(e) => {
                            failed.push(e);
                            None
                        }
                    }
                }
            };
        }
        if let Some(id) = id {
            let r = gh
                .create_deployment_status(
                    id,
                    wanted,
                    &status_description(state),
                    self.s.run_url.as_deref(),
                )
                .await;
            if let Err(e) = r {
                failed.push(e);
            }
        }
        self.deployment_id = id;
        self.deployment_tried = true;
        for e in &failed {
            self.warn(e);
        }
    }

    /// Reports to the sticky comment of release pull request `number` too (publish on its merge
    /// commit: the comment then says the version is live).
    pub fn comment_on(&mut self, number: u64) {
        self.s.pr = Some(crate::settings::PullRequest {
            number,
            fork: false,
            head_ref: String::new(),
            labels: Vec::new(),
            title: String::new(),
            release: true,
        });
    }

    /// The pull request's number when this run is on a release pull request.
    pub fn release_pr(&self) -> Option<u64> {
        self.s.pr.as_ref().filter(|p| p.release).map(|p| p.number)
    }

    /// The pull request's number when this run is on a pull request that `release-pr` does not
    /// recognise (run and submit then review nothing).
    pub fn ordinary_pr(&self) -> Option<u64> {
        self.s.pr.as_ref().filter(|p| !p.release).map(|p| p.number)
    }

    /// Completes the required check at once as `neutral` (a status: `success`), which branch
    /// protection counts as passing: an ordinary pull request is not blocked and spends no quota.
    pub async fn neutral(&mut self, title: &str, summary: &str) {
        self.complete_now("neutral", title, summary).await;
    }

    /// Refuses what WeChat did not review: a failed check (or status) on the commit that says
    /// why, and the error that ends the run with exit 1.
    pub async fn refuse(&mut self, title: &str, why: String) -> anyhow::Error {
        self.complete_now("failure", title, &why).await;
        crate::exit::ReleaseFailed(why).into()
    }

    /// A completed check run with `conclusion` (`success`, `neutral` or `failure`) written at once
    /// on the commit; with `gating: status` a commit status (`failure`, else `success`: statuses
    /// have no neutral).
    pub async fn complete_now(&mut self, conclusion: &'static str, title: &str, summary: &str) {
        let Some((gh, sha)) = self.active() else {
            return;
        };
        let r = match self.s.gating {
            Gating::None => return,
            Gating::Status => {
                let state = if conclusion == "failure" {
                    "failure"
                } else {
                    "success"
                };
                self.commit_status(gh, &sha, state, title).await
            }
            Gating::Check => {
                let body = CheckRunBody {
                    name: Some(self.s.check_name.clone()),
                    head_sha: Some(sha.clone()),
                    status: Some("completed"),
                    conclusion: Some(conclusion),
                    details_url: self.s.run_url.clone(),
                    output: Some(json!({ "title": clip(title, 1000), "summary": summary })),
                    completed_at: Some(chrono::Utc::now().to_rfc3339()),
                    ..CheckRunBody::default()
                };
                gh.create_check_run(&body).await.map(|run| {
                    self.check_url.clone_from(&run.html_url);
                    self.links.check_run = run.html_url;
                })
            }
        };
        if let Err(e) = r {
            self.warn(&e);
        }
    }

    /// A fleet shard's check run, one per shard and commit: created in progress while reviews
    /// run (`conclusion` `None`) with the fleet's hand-over in `external_id`, and updated in place
    /// by the next `fleet run` of the same fleet and shard until it completes. With `gating:
    /// status`, a pending status, then the final one.
    pub async fn fleet_check(
        &mut self,
        conclusion: Option<&'static str>,
        title: &str,
        summary: &str,
        handover: &str,
    ) {
        let Some((gh, sha)) = self.active() else {
            return;
        };
        let r = match self.s.gating {
            Gating::None => return,
            Gating::Status => {
                let state = match conclusion {
                    None => "pending",
                    Some("failure") => "failure",
                    Some(_) => "success",
                };
                self.commit_status(gh, &sha, state, title).await
            }
            Gating::Check => {
                let existing = match gh
                    .check_runs(&sha, &self.s.check_name, Some("in_progress"))
                    .await
                {
                    Ok(runs) => runs
                        .into_iter()
                        .find(|r| r.external_id.as_deref() == Some(handover))
                        .map(|r| r.id),
                    Err(e) => {
                        self.warn(&e);
                        None
                    }
                };
                let Some((gh, sha)) = self.active() else {
                    return;
                };
                let mut body = CheckRunBody {
                    name: None,
                    head_sha: None,
                    status: Some(if conclusion.is_some() {
                        "completed"
                    } else {
                        "in_progress"
                    }),
                    conclusion,
                    external_id: Some(handover.to_owned()),
                    details_url: self.s.run_url.clone(),
                    output: Some(json!({ "title": clip(title, 1000), "summary": summary })),
                    completed_at: conclusion.map(|_| chrono::Utc::now().to_rfc3339()),
                };
                let done = match existing {
                    Some(id) => gh.update_check_run(id, &body).await,
                    None => {
                        body.name = Some(self.s.check_name.clone());
                        body.head_sha = Some(sha.clone());
                        gh.create_check_run(&body).await
                    }
                };
                done.map(|run| {
                    self.check_url.clone_from(&run.html_url);
                    self.links.check_run = run.html_url;
                })
            }
        };
        if let Err(e) = r {
            self.warn(&e);
        }
    }

    /// A commit status named like the check run.
    async fn commit_status(
        &self,
        gh: &GitHub,
        sha: &str,
        state: &str,
        title: &str,
    ) -> Result<(), GhError> {
        gh.create_status(
            sha,
            state,
            &self.s.check_name,
            &clip(title, 140),
            self.s.run_url.as_deref(),
        )
        .await
    }

    /// The settings (the merge guard reads the release-PR rules and the check name).
    pub fn settings(&self) -> &GitHubSettings {
        &self.s
    }

    /// Called after every pipeline step: once the review exists, the check run carries the
    /// hand-over, so a `resume` in a later job can find it even if this job is cancelled.
    pub async fn progress(&mut self, state: &State) {
        // The deployment names the version: it is made once the version is known.
        if !self.deployment_tried && state.version.is_some() && state.outcome.is_none() {
            self.deployment(state).await;
        }
        let Some(id) = self.check_id else { return };
        let Some(handover) = Handover::of(state).map(|h| h.encode()) else {
            return;
        };
        if self.external_id.as_deref() == Some(handover.as_str()) || state.outcome.is_some() {
            return;
        }
        let Some((gh, _)) = self.active() else { return };
        let out = check_output(state, &self.links);
        let body = CheckRunBody {
            external_id: Some(handover.clone()),
            output: Some(json!({ "title": out.title, "summary": out.summary })),
            ..CheckRunBody::default()
        };
        match gh.update_check_run(id, &body).await {
            Ok(_) => self.external_id = Some(handover),
            Err(e) => self.warn(&e),
        }
    }

    /// The run ended (or detached): tag and release on publish, then the check run or status,
    /// then the pull-request comment.
    pub async fn finish(&mut self, state: &State, preview: Option<&Preview>, infra_failure: bool) {
        if matches!(state.outcome, Some(Outcome::Published { .. })) {
            self.tag_and_release(state).await;
        }
        if infra_failure && self.resuming {
            tracing::warn!(
                "WeChat could not be reached: the check run stays in progress for the next resume"
            );
        } else {
            self.conclude(state).await;
        }
        let appid = state.config.appid.clone();
        self.comment(&appid, Some(state), preview).await;
    }

    /// Completes (or refreshes) the check run or status from the state.
    pub async fn conclude(&mut self, state: &State) {
        let Some((gh, _)) = self.active() else {
            return;
        };
        let c = CheckState::of(state);
        match self.s.gating {
            Gating::None => {}
            Gating::Status => self.status(state).await,
            Gating::Check => {
                let Some(id) = self.check_id else { return };
                let out = check_output(state, &self.links);
                let completed = c.conclusion().is_some();
                let body = CheckRunBody {
                    status: Some(c.status()),
                    conclusion: c.conclusion(),
                    external_id: Handover::of(state).map(|h| h.encode()),
                    output: Some(json!({ "title": out.title, "summary": out.summary })),
                    completed_at: completed.then(|| chrono::Utc::now().to_rfc3339()),
                    ..CheckRunBody::default()
                };
                if let Err(e) = gh.update_check_run(id, &body).await {
                    self.warn(&e);
                }
            }
        }
        // While in review the start already said in_progress.
        if state.outcome.is_some() && state.outcome != Some(Outcome::Detached) {
            self.deployment(state).await;
        }
    }

    /// The commit status that stands for the state (pending, success, failure).
    async fn status(&mut self, state: &State) {
        let Some((gh, sha)) = self.active() else {
            return;
        };
        let r = gh
            .create_status(
                &sha,
                CheckState::of(state).commit_status(),
                &self.s.check_name,
                &status_description(state),
                self.s.run_url.as_deref(),
            )
            .await;
        if let Err(e) = r {
            self.warn(&e);
        }
    }

    /// The sticky comment on the pull request: updated in place, never duplicated.
    pub async fn comment(&mut self, appid: &str, state: Option<&State>, preview: Option<&Preview>) {
        let (Some(pr), true) = (self.s.pr.clone(), self.s.comment) else {
            return;
        };
        let Some((gh, _)) = self.active() else { return };
        let body = pr_comment(appid, state, preview);
        let marker = mp_release_core::github::comment_marker(appid);
        let found = match gh.comments(pr.number).await {
            Ok(list) => list
                .into_iter()
                .find(|c| c.body.as_deref().is_some_and(|b| b.starts_with(&marker))),
            Err(e) => return self.warn(&e),
        };
        let r = match found {
            Some(c) => gh.update_comment(c.id, &body).await,
            None => gh.create_comment(pr.number, &body).await,
        };
        match r {
            Ok(c) => {
                tracing::info!("pull-request comment: {}", c.html_url);
                self.comment_url = Some(c.html_url);
            }
            Err(e) => self.warn(&e),
        }
    }

    async fn tag_and_release(&mut self, state: &State) {
        if !(self.s.tag || self.s.release) {
            return;
        }
        let Some((gh, sha)) = self.active() else {
            return;
        };
        let Some(version) = state.version.clone() else {
            return;
        };
        let tag = format!("{}{version}", self.tag_prefix);
        if self.s.release {
            let notes = self.notes(&version, &sha);
            let mut elsewhere = None;
            let r = match gh.create_release(&tag, &sha, &notes).await {
                // A concurrent run (two resumes) made it first: the same release, if its tag is
                // on the released commit; a release of the same name on another commit is not
                // this one and is left alone.
                Err(e) if e.already_exists() || e.uncertain() => {
                    match gh.release_by_tag(&tag).await {
                        Ok(rel) => match gh.tag_sha(&tag).await {
                            Ok(s) if s == sha => Ok(rel),
                            Ok(other) => {
                                elsewhere = Some(format!(
                                    "a GitHub release {tag} already exists for commit {other}, not for the released commit {sha}; left as it is ({})",
                                    rel.html_url
                                ));
                                Err(e)
                            }
                            Err(tag_error) => Err(tag_error),
                        },
                        Err(read_error) => Err(read_error),
                    }
                }
                r => r,
            };
            match (r, elsewhere) {
                (_, Some(msg)) => {
                    tracing::warn!("{msg}");
                    self.warnings.push(msg);
                }
                (Ok(rel), None) => {
                    tracing::info!("GitHub release {}: {}", rel.tag_name, rel.html_url);
                    self.links.release = Some(rel.html_url);
                }
                (Err(e), None) => self.warn(&e),
            }
            return;
        }
        match gh.create_tag(&tag, &sha).await {
            Ok(()) => tracing::info!("tagged {sha} as {tag}"),
            Err(e) if e.already_exists() || e.uncertain() => match gh.tag_sha(&tag).await {
                Ok(s) if s == sha => tracing::info!("tag {tag} already points at {sha}"),
                Ok(other) => {
                    let msg = format!("tag {tag} already exists and points at {other}, not at the released commit {sha}; left as it is");
                    tracing::warn!("{msg}");
                    self.warnings.push(msg);
                }
                Err(e) => self.warn(&e),
            },
            Err(e) => self.warn(&e),
        }
    }

    /// Release notes from the local history: up to the released commit when the checkout has it,
    /// else up to HEAD (a scheduled resume checks out the branch, usually at or after that commit).
    fn notes(&self, version: &str, sha: &str) -> String {
        let git = Git::new(&self.repo_dir);
        let own = format!("{}{version}", self.tag_prefix);
        let tags = git.merged_tags(&self.tag_prefix).unwrap_or_default();
        let last = mp_release_core::version::highest_tag(
            tags.iter().map(String::as_str).filter(|t| *t != own),
            &self.tag_prefix,
        )
        .map(|(t, _)| t.to_owned());
        let messages = git
            .messages_between(last.as_deref(), sha)
            .or_else(|_| git.messages_since(last.as_deref()))
            .unwrap_or_default();
        // The compare view between the tags, from the workflow run's page (…/owner/repo/actions/runs/N).
        let compare = match (&last, &self.s.run_url) {
            (Some(last), Some(run)) => run
                .split_once("/actions/runs/")
                .map(|(repo, _)| format!("{repo}/compare/{last}...{own}")),
            _ => None,
        };
        mp_release_core::github::fit_release_notes(
            &release_notes(version, &messages),
            compare.as_deref(),
        )
    }

    /// What the workflow run should show: notices (fork, dry run) and warnings (failed calls).
    pub fn annotations(&self) -> impl Iterator<Item = (Level, String)> + '_ {
        let notices = self.notices.iter().map(|n| (Level::Notice, n.clone()));
        notices.chain(self.warnings.iter().map(|w| (Level::Warning, w.clone())))
    }

    /// Outputs for the report: the check run's and the release's pages.
    pub fn outputs(&self) -> Vec<(String, String)> {
        vec![
            (
                "check-run-url".into(),
                self.check_url.clone().unwrap_or_default(),
            ),
            (
                "release-url".into(),
                self.links.release.clone().unwrap_or_default(),
            ),
            (
                "deployment-url".into(),
                match (
                    &self.deployment_id,
                    &self.s.server_url,
                    &self.s.api,
                    &self.s.deployment,
                ) {
                    (Some(_), Some(server), Some((_, _, repo)), Some(env)) => {
                        format!("{server}/{repo}/deployments/{}", url_path_segment(env))
                    }
                    _ => String::new(),
                },
            ),
        ]
    }
}

/// An environment name as one segment of a URL path.
fn url_path_segment(s: &str) -> String {
    // Everything but RFC 3986's unreserved characters.
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}
