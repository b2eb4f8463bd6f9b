//! `mp-release release-pr`: open or update the one release pull request. On a push to the base
//! branch it decides the next version with the `version` rules, sets it in the files of `write`,
//! writes the release notes, and makes the release branch the base commit plus one release commit
//! (through the Git database API: the workspace is not touched, no push credentials are needed).
//! The pull request from that branch is found again by its branch and updated in place: running
//! again never opens a second one.

use super::Ctx;
use crate::app::pipeline::reporter_for;
use crate::app::version;
use crate::app::Report;
use crate::cli::ReleasePrArgs;
use crate::output::Workflow;
use crate::settings::{self, UsageError};
use anyhow::Context;
use mp_release_core::version::VersionSource;
use serde_json::json;

/// The hidden line that marks the body as ours.
const MARKER: &str = "<!-- mp-release:release-pr -->";

pub(super) fn run(
    a: &ReleasePrArgs,
    cx: &Ctx<'_, '_>,
    _wf: &mut Workflow,
) -> anyhow::Result<Report> {
    let vs = settings::version(&a.version, cx.layers, &cx.g.cwd)?;
    if vs.source == VersionSource::Wechat {
        return Err(UsageError::new(
            "invalid version-from: release-pr decides the version from the repository (git-tag, package.json or explicit:<v>); `wechat` needs WeChat credentials, which this step does not take",
        )
        .into());
    }
    let gs = settings::github(&a.github, cx.layers)?;
    let branch = cx
        .layers
        .parse("release-branch", a.release_branch.as_deref(), check_branch)?
        .map_or_else(|| "mp-release/release".to_owned(), |(b, _)| b);
    let base = match cx.layers.parse("base", a.base.as_deref(), check_branch)? {
        Some((b, _)) => b,
        None => gs.ref_branch.clone().ok_or_else(|| {
            UsageError::new(
                "the base branch is unknown: set base (the branch the release PR merges into); on a push GITHUB_REF gives it",
            )
        })?,
    };
    if branch == base {
        return Err(UsageError::new(format!(
            "release-branch and base are both {branch:?}: the release PR needs a branch of its own"
        ))
        .into());
    }
    let Some(sha) = gs.sha.clone() else {
        return Err(UsageError::new(
            "the base commit is unknown: set sha; on a push GITHUB_SHA gives it",
        )
        .into());
    };
    if gs.api.is_none() {
        return Err(UsageError::new(
            "release-pr needs github-token and the repository (in a workflow: `github-token: ${{ github.token }}`, the Action's default, with contents: write and pull-requests: write)",
        )
        .into());
    }
    let computed = version::compute(&vs, cx.g)?;
    let version = computed.plan.next.to_string();
    if computed.plan.previous.as_ref() == Some(&computed.plan.next) {
        // No commit since the last release (or bump: none): no release PR for the same version.
        tracing::info!("nothing to release: {version} is the current version; no pull request opened or changed");
        return Ok(report(&version, &computed, None, &[], "nothing to release"));
    }
    let messages = computed.commits.clone().unwrap_or_default();
    let notes = mp_release_core::github::release_notes(&version, &messages);
    // The files of `write`, with the new version, by their path in the repository.
    let mut files = Vec::new();
    for (path, text) in &computed.targets {
        let updated =
            mp_release_core::json_edit::set_top_level_string(text, "version", &version)
                .map_err(|e| UsageError::new(format!("invalid --write {}: {e}", path.display())))?;
        let rel = path.strip_prefix(&cx.g.cwd).map_err(|_| {
            UsageError::new(format!(
                "invalid --write {}: release-pr commits files of the repository (the working directory), and this one is outside it",
                path.display()
            ))
        })?;
        files.push((rel.to_string_lossy().replace('\\', "/"), updated));
    }
    let tag = format!("{}{version}", vs.tag_prefix);
    let title = format!("release: {version}");
    let body = format!(
        "{MARKER}\n{notes}\n\n---\n\nThis pull request releases **{version}** (tag `{tag}`). Its head is reviewed by WeChat \
         (the check `{check}`); merging it publishes exactly the reviewed code: `publish` on the merge commit refuses a \
         tree that differs from the reviewed one. The branch `{branch}` is rewritten by `mp-release release-pr` on every \
         push to `{base}`.\n",
        check = gs.check_name,
    );
    if cx.g.dry_run {
        tracing::info!(
            "dry run: would open or update “{title}” from {branch} into {base}; nothing was sent"
        );
        return Ok(report(&version, &computed, None, &files, &title));
    }
    let rep = reporter_for(gs, cx.g, &vs.tag_prefix)?;
    let gh = rep
        .api()
        .ok_or_else(|| anyhow::anyhow!("the GitHub API is not usable here"))?;
    let pull = cx.rt.block_on(async {
        let base_tree = gh.tree_of(&sha).await?;
        let tree = if files.is_empty() {
            base_tree
        } else {
            gh.create_tree(&base_tree, &files).await?
        };
        let commit = gh
            .create_commit(&format!("{title}\n\n{notes}"), &tree, &sha)
            .await?;
        gh.set_branch(&branch, &commit).await?;
        tracing::info!("{branch} is {sha} plus the release commit {commit}");
        let pull = match gh.open_pull(&branch, &base).await? {
            Some(p) => {
                let p = gh.update_pull(p.number, &title, &body).await?;
                tracing::info!("release PR #{} updated: {}", p.number, p.html_url);
                p
            }
            None => {
                let p = gh.create_pull(&title, &branch, &base, &body).await?;
                tracing::info!("release PR #{} opened: {}", p.number, p.html_url);
                p
            }
        };
        Ok::<_, crate::adapters::github::api::GhError>(pull)
    });
    let pull = pull.context("GitHub refused the release pull request")?;
    Ok(report(&version, &computed, Some(&pull), &files, &title))
}

fn check_branch(s: &str) -> Result<String, String> {
    let s = s.trim();
    let bad = s.is_empty()
        || s.starts_with('/')
        || s.ends_with('/')
        || s.contains("..")
        || s.contains("//")
        || s.ends_with(".lock")
        || s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\".contains(c));
    if bad {
        Err(format!("{s:?} is not a valid branch name"))
    } else {
        Ok(s.trim_start_matches("refs/heads/").to_owned())
    }
}

fn report(
    version: &str,
    computed: &version::Computed,
    pull: Option<&crate::adapters::github::api::Pull>,
    files: &[(String, String)],
    title: &str,
) -> Report {
    let previous = computed
        .plan
        .previous
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let (number, url) = pull.map_or((String::new(), String::new()), |p| {
        (p.number.to_string(), p.html_url.clone())
    });
    let written: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    let summary = format!(
        "### mp-release release-pr · {title}\n\n{}{}\n",
        match pull {
            Some(p) => format!("[#{}]({}) · ", p.number, p.html_url),
            None => "no pull request opened or changed · ".to_owned(),
        },
        if written.is_empty() {
            "no file written".to_owned()
        } else {
            format!("version set in {}", written.join(", "))
        }
    );
    Report {
        outputs: vec![
            ("version".into(), version.to_owned()),
            ("previous-version".into(), previous.clone()),
            ("pr-number".into(), number),
            ("pr-url".into(), url.clone()),
        ],
        json: json!({
            "version": version,
            "previous-version": previous,
            "pr-number": pull.map(|p| p.number),
            "pr-url": url,
            "files": written,
        }),
        summary,
        ..Report::default()
    }
}
