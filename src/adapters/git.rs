//! The `git` CLI: tags, commit messages since a tag, and shallow-clone detection.
//!
//! The git CLI rather than a library: it honours the user's config (safe.directory, alternates,
//! worktrees) exactly as the checkout action left it, and costs nothing to build.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Why git could not answer.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// `git` is not installed.
    #[error("git is not installed or not on PATH; install git or use --version-from explicit:<version> / package.json with --bump other than auto")]
    Missing,
    /// Not a repository.
    #[error("{0} is not inside a git repository; run in your checkout, or use --version-from explicit:<version> / package.json with --bump other than auto")]
    NotARepo(PathBuf),
    /// A shallow clone, where tags and history are incomplete.
    #[error("this checkout is a shallow clone, so its tags and commit history are incomplete and the version would be miscounted; set `fetch-depth: 0` on actions/checkout (or run `git fetch --unshallow --tags`)")]
    Shallow,
    /// Another git failure.
    #[error("git {args} failed: {stderr}")]
    Failed {
        /// The arguments.
        args: String,
        /// What git said.
        stderr: String,
    },
}

/// A repository (or a directory inside one).
#[derive(Debug, Clone)]
pub struct Git {
    dir: PathBuf,
}

impl Git {
    /// Git commands run in `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_owned(),
        }
    }

    fn run(&self, args: &[&str]) -> Result<String, GitError> {
        let out = Command::new("git")
            .arg("-C")
            .arg(&self.dir)
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
            .output()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => GitError::Missing,
                _ => GitError::Failed {
                    args: args.join(" "),
                    stderr: e.to_string(),
                },
            })?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
            if stderr.contains("not a git repository") {
                return Err(GitError::NotARepo(self.dir.clone()));
            }
            return Err(GitError::Failed {
                args: args.join(" "),
                stderr,
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Fails unless this is a full (non-shallow) repository.
    pub fn require_full_history(&self) -> Result<(), GitError> {
        match self.run(&["rev-parse", "--is-shallow-repository"])?.trim() {
            "false" => Ok(()),
            _ => Err(GitError::Shallow),
        }
    }

    /// Tags starting with `prefix` that HEAD contains (so tags of other branches do not count).
    pub fn merged_tags(&self, prefix: &str) -> Result<Vec<String>, GitError> {
        let has_head = self
            .run(&["rev-parse", "--verify", "--quiet", "HEAD"])
            .is_ok();
        if !has_head {
            return Ok(Vec::new());
        }
        let pattern = format!("{prefix}*");
        let out = self.run(&["tag", "--merged", "HEAD", "--list", &pattern])?;
        Ok(out
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect())
    }

    /// The subject of the last commit, if there is one.
    pub fn head_subject(&self) -> Option<String> {
        let s = self.run(&["log", "-1", "--format=%s"]).ok()?;
        Some(s.trim().to_owned()).filter(|s| !s.is_empty())
    }

    /// Full messages of the non-merge commits after `since` (all of history when `None`), newest first.
    pub fn messages_since(&self, since: Option<&str>) -> Result<Vec<String>, GitError> {
        self.messages_between(since, "HEAD")
    }

    /// Full messages of the non-merge commits after tag `since` up to `until`, newest first. An
    /// unborn HEAD has no messages; any other unknown `until` is an error (the caller picks another).
    pub fn messages_between(
        &self,
        since: Option<&str>,
        until: &str,
    ) -> Result<Vec<String>, GitError> {
        let verify = format!("{until}^{{commit}}");
        if let Err(e) = self.run(&["rev-parse", "--verify", "--quiet", &verify]) {
            return if until == "HEAD" {
                Ok(Vec::new())
            } else {
                Err(e)
            };
        }
        let range = since.map_or_else(|| until.to_owned(), |t| format!("refs/tags/{t}..{until}"));
        // Each record starts with the hash line, so commits with empty messages still count.
        let out = self.run(&["log", "--no-merges", "-z", "--format=%H%n%B", &range, "--"])?;
        Ok(out
            .split('\0')
            .filter(|rec| !rec.trim().is_empty())
            .map(|rec| {
                rec.split_once('\n')
                    .map_or("", |(_, msg)| msg)
                    .trim()
                    .to_owned()
            })
            .collect())
    }
}
