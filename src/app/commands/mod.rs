//! The commands that talk to WeChat, one file each where they are single calls (`status`,
//! `withdraw`, `quota`, `rollback`, `comment`); the pipeline commands (`run`, `submit`, `wait`,
//! `publish`) go through `app::pipeline`. `command` dispatches one line per command after the
//! settings of that command are validated; nothing is sent before.

mod comment;
mod fleet;
mod publish;
mod quota;
mod release_pr;
mod resume;
mod rollback;
mod run;
mod stats;
mod status;
mod template;
mod upload;
mod wait;
mod withdraw;

use crate::app::Report;
use crate::cli::Command;
use crate::output::Workflow;
use crate::settings::{self, Globals, Layers};
use serde_json::{json, Value};

/// What every command gets besides its own arguments: the layered inputs, the globals, and the
/// runtime its calls run on.
pub(super) struct Ctx<'a, 'l> {
    /// Flags, environment and config file.
    pub layers: &'a Layers<'l>,
    /// Settings shared by every command.
    pub g: &'a Globals,
    /// The runtime (entered: the GitHub client spawns its worker when built).
    pub rt: &'a tokio::runtime::Runtime,
}

impl Ctx<'_, '_> {
    /// A boolean input given by a bare flag, the environment or the config file.
    fn flag(&self, name: &str, set: bool) -> Result<bool, settings::UsageError> {
        Ok(self
            .layers
            .parse(name, set.then_some("true"), settings::parse_bool)?
            .is_some_and(|(b, _)| b))
    }

    /// `audit-id`.
    fn audit_id(&self, flag: Option<&str>) -> Result<Option<u64>, settings::UsageError> {
        Ok(self
            .layers
            .parse("audit-id", flag, |s| {
                s.trim()
                    .parse::<u64>()
                    .map_err(|_| format!("expected a review id (a number), got {s:?}"))
            })?
            .map(|(v, _)| v))
    }
}

/// Runs one WeChat command: one line each.
pub(super) fn command(
    cmd: &Command,
    layers: &Layers<'_>,
    g: &Globals,
    wf: &mut Workflow,
) -> anyhow::Result<Report> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let _entered = rt.enter();
    let cx = Ctx { layers, g, rt: &rt };
    match cmd {
        Command::Run(a) => run::run(a, &cx, wf),
        Command::Submit(a) => run::submit(a, &cx, wf),
        Command::Resume(a) => resume::run(a, &cx, wf),
        Command::Wait(a) => wait::run(a, &cx, wf),
        Command::Publish(a) => publish::run(a, &cx, wf),
        Command::Status(a) => status::run(a, &cx, wf),
        Command::Withdraw(a) => withdraw::run(a, &cx, wf),
        Command::Quota(a) => quota::run(a, &cx, wf),
        Command::Stats(a) => stats::run(a, &cx, wf),
        Command::Rollback(a) => rollback::run(a, &cx, wf),
        Command::Upload(a) => upload::upload(a, &cx, wf),
        Command::Preview(a) => upload::preview(a, &cx, wf),
        Command::Fleet(c) => fleet::run(c, &cx, wf),
        Command::Template(c) => template::run(c, &cx, wf),
        Command::Comment(a) => comment::run(a, &cx, wf),
        Command::ReleasePr(a) => release_pr::run(a, &cx, wf),
        Command::Version(_) | Command::Emulator(_) | Command::Relay(_) => {
            unreachable!("handled by the caller")
        }
    }
}

/// `--dry-run` of a command that is one change: the inputs were valid; nothing is sent.
pub(super) fn dry(what: &str) -> Report {
    tracing::info!("dry run: would {what}; nothing was sent");
    simple(
        vec![("dry-run", "true".into())],
        format!("### 🧪 mp-release dry run\n\nthe inputs are valid; it would {what}. Nothing was sent.\n"),
    )
}

/// The report's word for a review status.
pub(super) fn status_word(status: u8) -> &'static str {
    match status {
        0 => "approved",
        1 => "rejected",
        2 => "pending",
        3 => "withdrawn",
        4 => "delayed",
        _ => "none",
    }
}

pub(super) fn simple(outputs: Vec<(&str, String)>, summary: String) -> Report {
    let outputs: Vec<(String, String)> = outputs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let json = Value::Object(outputs.iter().map(|(k, v)| (k.clone(), json!(v))).collect());
    Report {
        outputs,
        json,
        summary,
        ..Report::default()
    }
}
