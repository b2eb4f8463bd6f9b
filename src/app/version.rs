//! `mp-release version`: read the current version, decide the next, write it where asked, report.
//!
//! Every check that can fail on bad input runs before the first write, so a failing run changes
//! nothing.

use super::Report;
use crate::adapters::{fs, git::Git};
use crate::output::Level;
use crate::settings::{Globals, UsageError, VersionSettings};
use anyhow::Context;
use mp_release_core::version::{highest_tag, plan, BumpRequest, PlanInput, VersionSource};
use semver::Version;
use serde_json::json;

/// The decided version and how it was reached.
pub struct Computed {
    /// The plan.
    pub plan: mp_release_core::version::VersionPlan,
    /// The last release tag, if one was read.
    pub last_tag: Option<(String, Version)>,
    /// Commit messages read for `auto`.
    pub commits: Option<Vec<String>>,
    /// Targets to write, with their current text.
    pub targets: Vec<(std::path::PathBuf, String)>,
}

/// Commit messages since the last release tag, for `auto` when the version comes from WeChat.
pub fn commits_for_auto(s: &VersionSettings, g: &Globals) -> anyhow::Result<Option<Vec<String>>> {
    if s.bump != BumpRequest::Auto {
        return Ok(None);
    }
    let git = Git::new(&g.cwd);
    let usage = |e: crate::adapters::git::GitError| UsageError::new(e.to_string());
    git.require_full_history().map_err(usage)?;
    let tags = git.merged_tags(&s.tag_prefix).map_err(usage)?;
    let last =
        highest_tag(tags.iter().map(String::as_str), &s.tag_prefix).map(|(t, _)| t.to_owned());
    Ok(Some(git.messages_since(last.as_deref()).map_err(usage)?))
}

/// Reads the current version and decides the next one; nothing is written.
pub fn compute(s: &VersionSettings, g: &Globals) -> anyhow::Result<Computed> {
    let targets = s
        .write
        .iter()
        .map(|p| fs::check_json_target(p).map(|text| (p.clone(), text)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| UsageError::new(format!("invalid --write: {e}")))?;

    // Local files first: they are the user's input and the cheapest to check.
    let from_package = match s.source {
        VersionSource::PackageJson => Some(read_package_version(&s.package_json)?),
        _ => None,
    };
    let git = Git::new(&g.cwd);
    let usage = |e: crate::adapters::git::GitError| UsageError::new(e.to_string());
    let wants_auto = s.bump == BumpRequest::Auto;
    if matches!(s.source, VersionSource::GitTag { .. }) || wants_auto {
        git.require_full_history().map_err(usage)?;
    }
    let last_tag = if matches!(s.source, VersionSource::GitTag { .. }) || wants_auto {
        let tags = git.merged_tags(&s.tag_prefix).map_err(usage)?;
        highest_tag(tags.iter().map(String::as_str), &s.tag_prefix).map(|(t, v)| (t.to_owned(), v))
    } else {
        None
    };
    let previous: Option<Version> = match s.source.clone() {
        VersionSource::Explicit(v) => Some(v),
        VersionSource::GitTag { .. } => last_tag.as_ref().map(|(_, v)| v.clone()),
        VersionSource::PackageJson => from_package,
        VersionSource::Wechat => unreachable!("refused by run() and not passed by the pipeline"),
    };
    let commits = match (wants_auto, &previous) {
        (true, Some(_)) => Some(
            git.messages_since(last_tag.as_ref().map(|(t, _)| t.as_str()))
                .map_err(usage)?,
        ),
        _ => None,
    };
    let input = PlanInput {
        bump: s.bump,
        preid: s.preid.as_deref(),
        commits: commits.as_deref(),
        initial: &s.initial,
        zero: s.zero,
    };
    let plan = plan(previous.as_ref(), &input).map_err(|e| UsageError::new(e.to_string()))?;
    Ok(Computed {
        plan,
        last_tag,
        commits,
        targets,
    })
}

/// Writes `version` into each checked JSON target (or says what it would write, in a dry run).
pub fn write_targets(
    targets: &[(std::path::PathBuf, String)],
    version: &str,
    dry_run: bool,
) -> anyhow::Result<()> {
    for (path, text) in targets {
        if dry_run {
            tracing::info!(
                "dry run: would write version {version} to {}",
                path.display()
            );
        } else {
            fs::write_json_version(path, text, version)
                .with_context(|| format!("writing version {version} to {}", path.display()))?;
            tracing::info!("wrote version {version} to {}", path.display());
        }
    }
    Ok(())
}

pub fn run(s: &VersionSettings, g: &Globals) -> anyhow::Result<Report> {
    if s.source == VersionSource::Wechat {
        return Err(UsageError::new(
            "invalid --version-from: `wechat` needs WeChat credentials; the pipeline reads it (mp-release run --version-from wechat)",
        )
        .into());
    }
    let Computed {
        plan,
        last_tag,
        commits,
        targets,
    } = compute(s, g)?;
    let version = plan.next.to_string();
    tracing::info!("version {plan}");

    write_targets(&targets, &version, g.dry_run)?;

    let previous_s = plan
        .previous
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let tag = format!("{}{version}", s.tag_prefix);
    let since = last_tag
        .as_ref()
        .map_or_else(|| "the first commit".to_owned(), |(t, _)| format!("`{t}`"));
    let why = match (&commits, plan.bump.as_str()) {
        (_, "initial") => format!("no earlier version; initial version {}", s.initial),
        (Some(c), _) => format!("auto: {} commit(s) since {since}", c.len()),
        _ => format!("from --bump ({})", plan.bump),
    };
    let summary = format!(
        "### mp-release · version\n\n| | |\n|---|---|\n| version | **{version}** |\n| previous | {} |\n| bump | {} — {why} |\n| tag | `{tag}` |\n| source | {} |\n{}",
        if previous_s.is_empty() { "—" } else { &previous_s },
        plan.bump,
        s.source.name(),
        if g.dry_run { "\n_Dry run: nothing was written._\n" } else { "" },
    );
    let mut annotations = Vec::new();
    if g.dry_run {
        annotations.push((
            Level::Notice,
            format!("dry run: version {version} computed, nothing written"),
        ));
    }
    if plan.bump == "none" && commits.as_ref().is_some_and(Vec::is_empty) {
        let msg = format!("no commits since {since}: the version stays {version}");
        tracing::warn!("{msg}");
        annotations.push((Level::Warning, msg));
    }
    let written: Vec<String> = targets
        .iter()
        .map(|(p, _)| p.display().to_string())
        .collect();
    Ok(Report {
        outputs: vec![
            ("version".into(), version.clone()),
            ("previous-version".into(), previous_s.clone()),
            ("bump".into(), plan.bump.clone()),
            ("tag".into(), tag.clone()),
        ],
        json: json!({
            "version": version,
            "previous-version": previous_s,
            "bump": plan.bump,
            "tag": tag,
            "source": s.source.name(),
            "commits": commits.as_ref().map(Vec::len),
            "written": if g.dry_run { Vec::new() } else { written },
            "dry-run": g.dry_run,
        }),
        summary,
        annotations,
        ..Report::default()
    })
}

fn read_package_version(path: &std::path::Path) -> Result<Version, UsageError> {
    let raw = fs::read_json_version(path)
        .map_err(|e| UsageError::new(format!("invalid --package-json: {e}")))?;
    Version::parse(raw.trim_start_matches('v')).map_err(|e| {
        UsageError::new(format!(
            "invalid --package-json: {} has version {raw:?}, which is not semver ({e})",
            path.display()
        ))
    })
}
