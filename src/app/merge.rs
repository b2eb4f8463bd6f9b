//! The merge guard of `publish`: on the commit a release pull request was merged into, publish
//! only what WeChat reviewed. The merged commit's *tree* must be the tree of the release PR's head
//! that the review was for (merge and squash commits make new SHAs with the same tree), and that
//! head's check run must carry an approved hand-over for this app; WeChat's approved review must
//! then be that hand-over's review. Anything else is refused before the release call.

use crate::adapters::github::api::{GhError, GitHub, PullRequestInfo};
use crate::settings::GitHubSettings;
use mp_release_core::github::Handover;

/// The review a merged release pull request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reviewed {
    /// The pull request.
    pub pr: u64,
    /// Its head commit (the one reviewed).
    pub head: String,
    /// The review.
    pub audit_id: u64,
    /// The version reviewed.
    pub version: String,
}

/// What the guard decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guard {
    /// The commit merged no release pull request: `publish` works as without the flow.
    NotAReleaseMerge,
    /// The merged tree is the reviewed one.
    Allowed(Reviewed),
    /// Not what WeChat reviewed: why.
    Refused(String),
}

/// Looks at the pull requests `sha` merged. GitHub errors are returned: without an answer the
/// merge cannot be proven to be the reviewed code, and the caller stops in doubt.
pub async fn check(
    gh: &GitHub,
    gs: &GitHubSettings,
    appid: &str,
    sha: &str,
) -> Result<Guard, GhError> {
    let merged: Vec<_> = gh
        .pulls_of_commit(sha)
        .await?
        .into_iter()
        .filter(|p| p.merged_at.is_some() && p.merge_commit_sha.as_deref() == Some(sha))
        .filter(|p| is_release(p, gs))
        .collect();
    let Some(pr) = merged.first() else {
        return Ok(Guard::NotAReleaseMerge);
    };
    reviewed_tree(gh, gs, appid, pr, sha).await
}

/// `sha` (a merge commit, or a merge queue's candidate) against the review of release PR `pr`: its
/// head must carry an approved hand-over for the app, and `sha`'s tree must be that head's tree.
async fn reviewed_tree(
    gh: &GitHub,
    gs: &GitHubSettings,
    appid: &str,
    pr: &PullRequestInfo,
    sha: &str,
) -> Result<Guard, GhError> {
    let head = pr.head.sha.clone();
    let approved = gh
        .check_runs(&head, &gs.check_name, None)
        .await?
        .into_iter()
        .filter(|r| r.status == "completed" && r.conclusion.as_deref() == Some("success"))
        .find_map(|r| {
            r.external_id
                .as_deref()
                .and_then(Handover::decode)
                .filter(|h| h.appid == appid)
        });
    let Some(h) = approved else {
        return Ok(Guard::Refused(format!(
            "release PR #{} was merged, but its head {head} has no approved WeChat review for {appid} (no successful “{}” check run with a hand-over): nothing is published",
            pr.number, gs.check_name
        )));
    };
    let (merged_tree, reviewed_tree) = (gh.tree_of(sha).await?, gh.tree_of(&head).await?);
    if merged_tree != reviewed_tree {
        return Ok(Guard::Refused(format!(
            "the merged commit {sha} is not the code WeChat reviewed: its tree {merged_tree} differs from the tree {reviewed_tree} of release PR #{}'s head {head} (review {}, version {}); nothing is published — merge the reviewed head as it is, or push the change to the release PR and have it reviewed",
            pr.number, h.audit_id, h.version
        )));
    }
    Ok(Guard::Allowed(Reviewed {
        pr: pr.number,
        head,
        audit_id: h.audit_id,
        version: h.version,
    }))
}

fn is_release(p: &PullRequestInfo, gs: &GitHubSettings) -> bool {
    crate::settings::PullRequest {
        number: p.number,
        fork: false,
        head_ref: p.head.branch.clone(),
        labels: p.labels.iter().map(|l| l.name.clone()).collect(),
        title: p.title.clone(),
        release: false,
    }
    .matches(&gs.release_rules)
}

/// A merge queue's candidate `head_sha` for pull request `pr` (the last of its group):
/// `NotAReleaseMerge` when that pull request is not a release PR, otherwise as for a merge.
pub async fn check_group(
    gh: &GitHub,
    gs: &GitHubSettings,
    appid: &str,
    pr: u64,
    head_sha: &str,
) -> Result<Guard, GhError> {
    let info = gh.pull(pr).await?;
    if !is_release(&info, gs) {
        return Ok(Guard::NotAReleaseMerge);
    }
    reviewed_tree(gh, gs, appid, &info, head_sha).await
}
