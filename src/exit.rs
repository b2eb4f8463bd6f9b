//! Exit codes, decided in one place from the error chain.
//!
//! 0 success (including "submitted and detached"), 1 the release failed (rejected, publish refused),
//! 2 bad input or configuration (nothing was sent), 3 infrastructure error after retries.

use crate::settings::UsageError;
use std::process::ExitCode;

/// The process outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Exit {
    /// 0
    #[default]
    Success = 0,
    /// 1
    ReleaseFailed = 1,
    /// 2
    Usage = 2,
    /// 3
    Infrastructure = 3,
}

/// A release that ran to its end and failed (a rejected review, a refused publish): exit 1.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ReleaseFailed(pub String);

impl Exit {
    /// The code for how a pipeline ended: published, approved or detached succeed; a rejection,
    /// a withdrawal or a refusal fails the release (1); giving up on infrastructure is 3.
    pub fn of_outcome(
        outcome: Option<&mp_release_core::pipeline::Outcome>,
        infra_failure: bool,
    ) -> Self {
        use mp_release_core::pipeline::Outcome;
        match outcome {
            Some(
                Outcome::Published { .. }
                | Outcome::Approved
                | Outcome::Detached
                | Outcome::DryRun { .. },
            ) => Self::Success,
            Some(Outcome::Failed { .. }) if infra_failure => Self::Infrastructure,
            Some(
                Outcome::Rejected
                | Outcome::Withdrawn
                | Outcome::Failed { .. }
                | Outcome::Unhealthy { .. },
            ) => Self::ReleaseFailed,
            None => Self::Infrastructure,
        }
    }

    /// The code for an error: usage and release failures are recognised anywhere in the chain;
    /// everything else is an infrastructure failure.
    pub fn of(err: &anyhow::Error) -> Self {
        if err.chain().any(|e| e.is::<UsageError>()) {
            Self::Usage
        } else if err.chain().any(|e| e.is::<ReleaseFailed>()) {
            Self::ReleaseFailed
        } else {
            Self::Infrastructure
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn codes_from_the_chain() {
        let usage = anyhow::Error::new(UsageError::new("bad")).context("reading inputs");
        assert_eq!(Exit::of(&usage), Exit::Usage);
        let failed: anyhow::Result<()> = Err(ReleaseFailed("rejected".into())).context("waiting");
        assert_eq!(Exit::of(&failed.unwrap_err()), Exit::ReleaseFailed);
        assert_eq!(
            Exit::of(&anyhow::anyhow!("connection reset")),
            Exit::Infrastructure
        );
        assert_eq!(
            [
                Exit::Success,
                Exit::ReleaseFailed,
                Exit::Usage,
                Exit::Infrastructure
            ]
            .map(|e| e as u8),
            [0, 1, 2, 3]
        );
    }
}
