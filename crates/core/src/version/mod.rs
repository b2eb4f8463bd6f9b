//! Versions: where the current one comes from, how the next one is computed, and WeChat's limits.
//!
//! This module owns the rules only. Reading tags, commits or files is the binary's job; it hands the
//! results to [`plan`], which decides the next version without touching anything.

mod bump;
mod conventional;

pub use bump::{bump, check_preid, BumpError, BumpLevel};
pub use conventional::{classify, Change};

use semver::Version;
use serde::Serialize;
use std::fmt;

/// WeChat's limit on `user_version` (`wxa/commit`, and the version field of an upload).
pub const MAX_USER_VERSION_CHARS: usize = 64;

/// Where the current version is read from (`--version-from`).
///
/// An extension point: each variant is resolved by the binary into an optional current version.
/// `wechat` is resolved by the pipeline itself (`getversioninfo`), the others before it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSource {
    /// `explicit:<version>`: the version is given.
    Explicit(Version),
    /// `git-tag[:<prefix>]`: the highest semver tag with the prefix that HEAD contains.
    GitTag {
        /// Tag prefix given after the colon, if any (otherwise the `tag-prefix` setting applies).
        prefix: Option<String>,
    },
    /// `package.json`: the `version` field of the configured package file.
    PackageJson,
    /// `wechat`: the live version on WeChat (the trial version when nothing is live yet).
    Wechat,
}

impl VersionSource {
    /// Parses the `--version-from` syntax. The error text says what is accepted.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if let Some(v) = raw.strip_prefix("explicit:") {
            let v = v.trim().trim_start_matches('v');
            return Version::parse(v).map(Self::Explicit).map_err(|e| {
                format!("`explicit:` must be followed by a semver version such as 1.4.0 ({e})")
            });
        }
        if raw == "git-tag" {
            return Ok(Self::GitTag { prefix: None });
        }
        if let Some(p) = raw.strip_prefix("git-tag:") {
            check_tag_prefix(p)?;
            return Ok(Self::GitTag {
                prefix: Some(p.to_owned()),
            });
        }
        if raw == "package.json" {
            return Ok(Self::PackageJson);
        }
        if raw == "wechat" {
            return Ok(Self::Wechat);
        }
        Err(
            "expected one of explicit:<version>, git-tag, git-tag:<prefix>, package.json, wechat"
                .to_owned(),
        )
    }

    /// The name used in reports (`git-tag`, `package.json`, `explicit`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Explicit(_) => "explicit",
            Self::GitTag { .. } => "git-tag",
            Self::PackageJson => "package.json",
            Self::Wechat => "wechat",
        }
    }
}

/// Checks a tag prefix: printable, no whitespace, none of the characters git refuses in ref names.
pub fn check_tag_prefix(p: &str) -> Result<(), String> {
    let bad = p
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\".contains(*c));
    match bad {
        Some(c) => Err(format!(
            "a tag prefix cannot contain {c:?} (git refuses it in tag names)"
        )),
        None if p.len() > 32 => Err("a tag prefix is at most 32 characters".to_owned()),
        None => Ok(()),
    }
}

/// What `--bump` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BumpRequest {
    /// A fixed level.
    Level(BumpLevel),
    /// The level implied by conventional commits since the last tag.
    Auto,
    /// Keep the current version.
    None,
}

impl BumpRequest {
    /// Parses `major|minor|patch|premajor|preminor|prepatch|prerelease|auto|none`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "auto" => Ok(Self::Auto),
            "none" => Ok(Self::None),
            other => BumpLevel::parse(other).map(Self::Level).ok_or_else(|| {
                "expected one of major, minor, patch, premajor, preminor, prepatch, prerelease, auto, none"
                    .to_owned()
            }),
        }
    }
}

/// How `auto` treats 0.x versions, where semver says anything may change at any time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ZeroMajorRules {
    /// Shift down one level: a breaking change bumps the minor, a feature bumps the patch.
    #[default]
    Shifted,
    /// Same as 1.x and later: breaking → major (leaving 0.x), feature → minor.
    Standard,
}

impl ZeroMajorRules {
    /// Parses `shifted|standard`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "shifted" => Ok(Self::Shifted),
            "standard" => Ok(Self::Standard),
            _ => Err(
                "expected `shifted` (0.x: breaking → minor, feat → patch) or `standard`".to_owned(),
            ),
        }
    }
}

/// The level `auto` picks for a set of commit messages, or `None` when there is nothing to release.
///
/// ```
/// use mp_release_core::version::{auto_level, BumpLevel, ZeroMajorRules};
/// let v = semver::Version::new(1, 2, 3);
/// assert_eq!(auto_level(&v, ["fix: a", "feat: b"], ZeroMajorRules::Shifted), Some(BumpLevel::Minor));
/// assert_eq!(auto_level(&v, ["chore: tidy"], ZeroMajorRules::Shifted), Some(BumpLevel::Patch));
/// let zero = semver::Version::new(0, 4, 1);
/// assert_eq!(auto_level(&zero, ["feat!: new api"], ZeroMajorRules::Shifted), Some(BumpLevel::Minor));
/// ```
pub fn auto_level<'a>(
    current: &Version,
    messages: impl IntoIterator<Item = &'a str>,
    zero: ZeroMajorRules,
) -> Option<BumpLevel> {
    let strongest = messages.into_iter().map(classify).max()?;
    let shifted = current.major == 0 && zero == ZeroMajorRules::Shifted;
    Some(match (strongest, shifted) {
        (Change::Breaking, false) => BumpLevel::Major,
        (Change::Breaking, true) | (Change::Feature, false) => BumpLevel::Minor,
        (Change::Feature, true) | (Change::Fix | Change::Other, _) => BumpLevel::Patch,
    })
}

/// Everything [`plan`] needs besides the current version.
#[derive(Debug, Clone)]
pub struct PlanInput<'a> {
    /// What `--bump` asked for.
    pub bump: BumpRequest,
    /// `--preid`, for the pre* levels (and `auto`, which then makes a prerelease).
    pub preid: Option<&'a str>,
    /// Commit messages since the last tag; required for `auto`.
    pub commits: Option<&'a [String]>,
    /// The version to use when there is no current version.
    pub initial: &'a Version,
    /// 0.x rules for `auto`.
    pub zero: ZeroMajorRules,
}

/// The decided next version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionPlan {
    /// The version before, if there was one.
    pub previous: Option<Version>,
    /// The version after.
    pub next: Version,
    /// What was applied: a level name, `none`, or `initial`.
    pub bump: String,
}

/// Why a plan could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The bump itself failed.
    #[error(transparent)]
    Bump(#[from] BumpError),
    /// `auto` was asked for but no commit list was supplied (a bug in the caller).
    #[error("bump `auto` needs the commits since the last tag")]
    MissingCommits,
    /// The result is longer than WeChat accepts.
    #[error("version {0} is {1} characters long; WeChat accepts at most {MAX_USER_VERSION_CHARS} (shorten --preid or the build metadata)")]
    TooLong(String, usize),
}

/// Decides the next version from the current one and the request.
///
/// No current version → the initial version, unbumped. `auto` with no commits → unchanged (`none`).
pub fn plan(previous: Option<&Version>, input: &PlanInput<'_>) -> Result<VersionPlan, PlanError> {
    let (next, label) = match previous {
        None => (input.initial.clone(), "initial".to_owned()),
        Some(prev) => match input.bump {
            BumpRequest::None => (prev.clone(), "none".to_owned()),
            BumpRequest::Level(level) => (bump(prev, level, input.preid)?, level.name().to_owned()),
            BumpRequest::Auto => {
                let commits = input.commits.ok_or(PlanError::MissingCommits)?;
                match auto_level(prev, commits.iter().map(String::as_str), input.zero) {
                    None => (prev.clone(), "none".to_owned()),
                    Some(level) => {
                        let level = match input.preid {
                            None => level,
                            Some(_) if !prev.pre.is_empty() => BumpLevel::Prerelease,
                            Some(_) => level.to_pre(),
                        };
                        (bump(prev, level, input.preid)?, level.name().to_owned())
                    }
                }
            }
        },
    };
    check_user_version(&next)?;
    Ok(VersionPlan {
        previous: previous.cloned(),
        next,
        bump: label,
    })
}

/// Checks WeChat's 64-character limit on `user_version`.
pub fn check_user_version(v: &Version) -> Result<(), PlanError> {
    let s = v.to_string();
    let n = s.chars().count();
    if n > MAX_USER_VERSION_CHARS {
        return Err(PlanError::TooLong(s, n));
    }
    Ok(())
}

/// Picks the highest semver version among tag names that start with `prefix`; others are ignored.
///
/// ```
/// use mp_release_core::version::highest_tag;
/// let tags = ["v1.2.0", "v1.10.0", "release-9", "v2.0.0-rc.1", "x1.0.0"];
/// let (tag, v) = highest_tag(tags, "v").unwrap();
/// assert_eq!((tag, v.to_string()), ("v2.0.0-rc.1", "2.0.0-rc.1".to_owned()));
/// ```
pub fn highest_tag<'a>(
    tags: impl IntoIterator<Item = &'a str>,
    prefix: &str,
) -> Option<(&'a str, Version)> {
    tags.into_iter()
        .filter_map(|t| Some((t, Version::parse(t.strip_prefix(prefix)?).ok()?)))
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.len().cmp(&a.0.len())))
}

impl fmt::Display for VersionPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.previous {
            Some(p) => write!(f, "{p} → {} ({})", self.next, self.bump),
            None => write!(f, "{} (initial)", self.next),
        }
    }
}

#[cfg(test)]
mod tests;
