//! Who hears about a run as it goes: a fan-out list of observers, each told when the run starts,
//! after every step, and when it ends, and each adding its outputs, annotations and links to the
//! report. Today the GitHub reporter (check run or status, PR comment, tag and release); chat
//! notifications and deployments join the list without touching the pipeline.

use super::github::Reporter;
use crate::output::Level;
use mp_release_core::github::Links;
use mp_release_core::pipeline::State;

/// One observer.
#[derive(Debug)]
pub enum Observer {
    /// GitHub: check run or commit status, PR comment, tag and release.
    GitHub(Box<Reporter>),
}

/// The observers of one run, told in order.
#[derive(Debug, Default)]
pub struct Observers(Vec<Observer>);

impl Observers {
    /// A list with the GitHub reporter.
    pub fn github(reporter: Reporter) -> Self {
        Self(vec![Observer::GitHub(Box::new(reporter))])
    }

    /// The run begins (or resumes).
    pub async fn start(&mut self, s: &State) {
        for o in &mut self.0 {
            match o {
                Observer::GitHub(r) => r.start(s).await,
            }
        }
    }

    /// After every step (the check run learns the review id this way, as soon as there is one).
    pub async fn progress(&mut self, s: &State) {
        for o in &mut self.0 {
            match o {
                Observer::GitHub(r) => r.progress(s).await,
            }
        }
    }

    /// The run ended (or detached); `infra_failure` says it gave up on infrastructure; `trial`
    /// is the trial version's QR code for testers, when one was read.
    pub async fn finish(
        &mut self,
        s: &State,
        infra_failure: bool,
        trial: Option<&mp_release_core::github::Preview>,
    ) {
        for o in &mut self.0 {
            match o {
                Observer::GitHub(r) => r.finish(s, trial, infra_failure).await,
            }
        }
    }

    /// Whether an observer shows the trial QR code (the comment of a release pull request).
    pub fn wants_trial_qr(&self) -> bool {
        self.0.iter().any(|o| match o {
            Observer::GitHub(r) => r.release_pr().is_some() && r.api().is_some(),
        })
    }

    /// Step outputs the observers add (check-run-url, release-url …).
    pub fn outputs(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .flat_map(|o| match o {
                Observer::GitHub(r) => r.outputs(),
            })
            .collect()
    }

    /// Warnings and notices the observers met (a missing permission …).
    pub fn annotations(&self) -> Vec<(Level, String)> {
        self.0
            .iter()
            .flat_map(|o| match o {
                Observer::GitHub(r) => r.annotations().collect::<Vec<_>>(),
            })
            .collect()
    }

    /// The links the job summary shows.
    pub fn links(&self) -> Links {
        let mut links = Links::default();
        for o in &self.0 {
            match o {
                Observer::GitHub(r) => {
                    links.check_run = links.check_run.or_else(|| r.links.check_run.clone());
                    links.release = links.release.or_else(|| r.links.release.clone());
                    links.run = links.run.or_else(|| r.links.run.clone());
                }
            }
        }
        links
    }
}
