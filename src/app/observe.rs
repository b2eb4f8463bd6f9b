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

/// The chats, with the state they last saw: a notification is sent for what a step changed, so
/// each event is told once, by the process in which it happened (a resume that finds the approval
/// tells it; the next resume, finding nothing new, tells nothing).
#[derive(Debug)]
pub struct Chat {
    notifier: crate::adapters::notify::Notifier,
    last: Option<State>,
}

/// The observers of one run, told in order.
#[derive(Debug, Default)]
pub struct Observers(Vec<Observer>, Option<Chat>);

impl Observers {
    /// A list with the GitHub reporter.
    pub fn github(reporter: Reporter) -> Self {
        Self(vec![Observer::GitHub(Box::new(reporter))], None)
    }

    /// Adds the chats of `g` (when any is configured; never in a dry run, which sends nothing).
    #[must_use]
    pub fn with_chats(mut self, g: &crate::settings::Globals) -> Self {
        if g.dry_run {
            return self;
        }
        self.1 = crate::adapters::notify::Notifier::new(&g.notify, &g.net).map(|notifier| Chat {
            notifier,
            last: None,
        });
        self
    }

    /// Tells the chats what changed since they last looked.
    async fn chat(&mut self, s: &State) {
        let links = self.links();
        let Some(chat) = &mut self.1 else { return };
        if let Some(before) = &chat.last {
            for event in mp_release_core::notify::events_between(before, s) {
                let notice = mp_release_core::notify::Notice {
                    appid: s.config.appid.clone(),
                    version: s.version.clone(),
                    previous: s.previous_version.clone(),
                    event,
                    links: links.clone(),
                    packages: s.packages.clone(),
                };
                chat.notifier.send(&notice, None).await;
            }
        }
        chat.last = Some(s.clone());
    }

    /// The run begins (or resumes).
    pub async fn start(&mut self, s: &State) {
        for o in &mut self.0 {
            match o {
                Observer::GitHub(r) => r.start(s).await,
            }
        }
        if let Some(chat) = &mut self.1 {
            chat.last = Some(s.clone());
        }
    }

    /// After every step (the check run learns the review id this way, as soon as there is one).
    pub async fn progress(&mut self, s: &State) {
        for o in &mut self.0 {
            match o {
                Observer::GitHub(r) => r.progress(s).await,
            }
        }
        self.chat(s).await;
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
        self.chat(s).await;
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

    /// Warnings and notices the observers met (a missing permission, an undelivered message …).
    pub fn annotations(&self) -> Vec<(Level, String)> {
        let mut out: Vec<(Level, String)> = self
            .0
            .iter()
            .flat_map(|o| match o {
                Observer::GitHub(r) => r.annotations().collect::<Vec<_>>(),
            })
            .collect();
        if let Some(chat) = &self.1 {
            out.extend(
                chat.notifier
                    .warnings
                    .iter()
                    .map(|w| (Level::Warning, w.clone())),
            );
        }
        out
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
