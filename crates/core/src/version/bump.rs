//! Semver increments with npm's rules (the ones JavaScript developers already know from `npm version`).
//!
//! Build metadata is dropped by every increment. A prerelease is "finished" by the level that covers
//! it: `patch` on 1.2.4-beta.1 gives 1.2.4, `minor` on 1.3.0-rc.0 gives 1.3.0.

use semver::{BuildMetadata, Prerelease, Version};

/// A fixed increment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BumpLevel {
    /// x.0.0
    Major,
    /// _.x.0
    Minor,
    /// _._.x
    Patch,
    /// (x+1).0.0-<preid>.0
    Premajor,
    /// _.(x+1).0-<preid>.0
    Preminor,
    /// _._.(x+1)-<preid>.0
    Prepatch,
    /// next prerelease number, or prepatch from a release
    Prerelease,
}

/// Why an increment is impossible.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BumpError {
    /// The preid is not a valid semver prerelease identifier.
    #[error("preid {0:?} is not a valid prerelease identifier: use letters, digits and hyphens, not only digits (e.g. beta, rc)")]
    BadPreid(String),
    /// A component would overflow.
    #[error("version {0} cannot be incremented: a number would overflow")]
    Overflow(String),
}

impl BumpLevel {
    /// Parses a level name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "major" => Self::Major,
            "minor" => Self::Minor,
            "patch" => Self::Patch,
            "premajor" => Self::Premajor,
            "preminor" => Self::Preminor,
            "prepatch" => Self::Prepatch,
            "prerelease" => Self::Prerelease,
            _ => return None,
        })
    }

    /// The level's name as accepted by `--bump`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Major => "major",
            Self::Minor => "minor",
            Self::Patch => "patch",
            Self::Premajor => "premajor",
            Self::Preminor => "preminor",
            Self::Prepatch => "prepatch",
            Self::Prerelease => "prerelease",
        }
    }

    /// The prerelease twin of a release level (major → premajor); pre levels map to themselves.
    pub fn to_pre(self) -> Self {
        match self {
            Self::Major => Self::Premajor,
            Self::Minor => Self::Preminor,
            Self::Patch => Self::Prepatch,
            other => other,
        }
    }
}

/// Validates a `--preid`: a semver identifier of letters, digits and hyphens that is not all digits.
pub fn check_preid(id: &str) -> Result<(), BumpError> {
    let ok = !id.is_empty()
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !id.chars().all(|c| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(BumpError::BadPreid(id.to_owned()))
    }
}

/// Applies one increment.
///
/// ```
/// use mp_release_core::version::{bump, BumpLevel::*};
/// let v = semver::Version::parse("1.2.3").unwrap();
/// let a = bump(&v, Prepatch, Some("beta")).unwrap();
/// assert_eq!(a.to_string(), "1.2.4-beta.0");
/// let b = bump(&a, Prerelease, Some("beta")).unwrap();
/// assert_eq!(b.to_string(), "1.2.4-beta.1");
/// assert_eq!(bump(&b, Patch, None).unwrap().to_string(), "1.2.4");
/// ```
pub fn bump(v: &Version, level: BumpLevel, preid: Option<&str>) -> Result<Version, BumpError> {
    if let Some(id) = preid {
        check_preid(id)?;
    }
    let overflow = || BumpError::Overflow(v.to_string());
    let inc = |n: u64| n.checked_add(1).ok_or_else(overflow);
    let mut n = Version::new(v.major, v.minor, v.patch);
    let was_pre = !v.pre.is_empty();
    match level {
        BumpLevel::Major => {
            if v.minor != 0 || v.patch != 0 || !was_pre {
                n = Version::new(inc(v.major)?, 0, 0);
            }
        }
        BumpLevel::Minor => {
            if v.patch != 0 || !was_pre {
                n = Version::new(v.major, inc(v.minor)?, 0);
            }
        }
        BumpLevel::Patch => {
            if !was_pre {
                n.patch = inc(v.patch)?;
            }
        }
        BumpLevel::Premajor => {
            n = Version::new(inc(v.major)?, 0, 0);
            n.pre = first_pre(preid);
        }
        BumpLevel::Preminor => {
            n = Version::new(v.major, inc(v.minor)?, 0);
            n.pre = first_pre(preid);
        }
        BumpLevel::Prepatch => {
            n.patch = inc(v.patch)?;
            n.pre = first_pre(preid);
        }
        BumpLevel::Prerelease if !was_pre => {
            n.patch = inc(v.patch)?;
            n.pre = first_pre(preid);
        }
        BumpLevel::Prerelease => n.pre = next_pre(&v.pre, preid).ok_or_else(overflow)?,
    }
    n.build = BuildMetadata::EMPTY;
    Ok(n)
}

fn pre(s: &str) -> Prerelease {
    // Only called with identifiers made of checked preids and decimal numbers.
    Prerelease::new(s).unwrap_or(Prerelease::EMPTY)
}

fn first_pre(preid: Option<&str>) -> Prerelease {
    match preid {
        Some(id) => pre(&format!("{id}.0")),
        None => pre("0"),
    }
}

/// The prerelease after `cur`: increment its last number (or append `.0`), or restart at `<preid>.0`
/// when the preid changes.
fn next_pre(cur: &Prerelease, preid: Option<&str>) -> Option<Prerelease> {
    let mut parts: Vec<String> = cur.as_str().split('.').map(str::to_owned).collect();
    if let Some(id) = preid {
        if parts[0] != id {
            return Some(pre(&format!("{id}.0")));
        }
    }
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match parts.iter().rposition(|p| numeric(p)) {
        Some(i) => parts[i] = parts[i].parse::<u64>().ok()?.checked_add(1)?.to_string(),
        None => parts.push("0".to_owned()),
    }
    Some(pre(&parts.join(".")))
}
