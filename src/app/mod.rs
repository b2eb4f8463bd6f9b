//! The composition root of one process: mask secrets, parse, validate, run one command, report,
//! and turn the outcome into an exit code.

mod calls;
mod clock;
mod commands;
mod fleet;
mod github;
mod health;
mod merge;
mod observe;
mod pipeline;
mod platform;
mod relay;
mod resume;
mod runner;
mod sandbox;
mod stats;
mod upload;
mod version;

use crate::cli::{Cli, Command};
use crate::exit::Exit;
use crate::output::{AnnotationProps, Level, Workflow};
use crate::secrets::{RedactingWriter, Redactor};
use crate::settings::{self, Env, Layers};
use clap::Parser;
use std::io::Write;

/// What a command hands back for the report.
#[derive(Debug, Default)]
pub struct Report {
    /// Step outputs, in order.
    pub outputs: Vec<(String, String)>,
    /// The `--output json` document.
    pub json: serde_json::Value,
    /// The job summary (Markdown).
    pub summary: String,
    /// Warnings and notices worth an annotation in the workflow run.
    pub annotations: Vec<(Level, String)>,
    /// How the process ends once the report is out (a rejected review still reports first).
    pub exit: Exit,
    /// The error to print when `exit` is not success.
    pub failure: Option<String>,
    /// Print the summary on stdout too (the sandbox, where there is no summary file).
    pub print_summary: bool,
    /// What the terminal shows before the outputs (text output only): `stats`' table.
    pub terminal: Option<String>,
}

/// Runs the process with an explicit environment and argv (tests call this too).
pub fn main_with(env: &Env, argv: &[String], stdout: Box<dyn Write + Send>) -> Exit {
    let secrets = env.secrets(argv);
    let redactor = Redactor::new(secrets.iter().cloned());
    let mut wf = Workflow::early(env.in_actions(), redactor.clone(), stdout);
    // Masks go out before any other byte: nothing has been printed yet.
    for s in &secrets {
        if wf.mask(s).is_err() {
            return Exit::Infrastructure;
        }
    }
    let mut stderr = RedactingWriter::new(std::io::stderr(), redactor.clone());
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            let _ = print_clap(&mut wf, &e);
            return Exit::Success;
        }
        Err(e) => {
            let message = clap_message(&e);
            let _ = write!(stderr, "{message}");
            let _ = wf.annotate(Level::Error, &first_line(&message), &title());
            return Exit::Usage;
        }
    };
    match run(env, &cli, &mut wf, redactor) {
        // The annotation goes out first: a runner that stops reading when the process ends
        // still has it (the stderr line says the same).
        Ok(Some((code, message))) => {
            let _ = wf.annotate(Level::Error, &message, &title());
            let _ = writeln!(stderr, "error: {message}");
            code
        }
        Ok(None) => Exit::Success,
        Err(err) => {
            let code = Exit::of(&err);
            let _ = wf.annotate(Level::Error, &format!("{err:#}"), &title());
            let _ = writeln!(stderr, "error: {err:#}");
            code
        }
    }
}

/// A command-line error without the values it was given: a misplaced value may be a key or a
/// token (`--private-key "$PEM"` after a typo), so only flag names, the usage and clap's
/// suggestions are shown.
fn clap_message(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ErrorKind};
    let arg = e.get(ContextKind::InvalidArg).map(ToString::to_string);
    // A flag name as typed (`--bogus`, `--bump <LEVEL>`) is shown; anything that may be a value is not.
    let shown = |a: &str| {
        let name = a.split_once('=').map_or(a, |(n, _)| n);
        let name = name.split(' ').next().unwrap_or(name);
        (name.starts_with('-') && name.len() <= 48 && !name.contains(char::is_whitespace))
            .then(|| name.to_owned())
    };
    let what = arg.as_deref().and_then(shown);
    let head = match (e.kind(), &what) {
        (ErrorKind::UnknownArgument, Some(a)) => format!("unexpected argument '{a}'"),
        (ErrorKind::UnknownArgument, None) => {
            "an unexpected value on the command line (not shown: it may be a secret); \
            quote values that start with '-' as --name=VALUE"
                .to_owned()
        }
        (ErrorKind::InvalidValue, Some(a))
            if e.get(ContextKind::InvalidValue)
                .is_some_and(|v| v.to_string().is_empty()) =>
        {
            format!("'{a}' needs a value")
        }
        (ErrorKind::InvalidValue | ErrorKind::ValueValidation, Some(a)) => {
            format!("invalid value for '{a}'")
        }
        (ErrorKind::InvalidSubcommand, _) => "unknown command".to_owned(),
        (_, Some(a)) => format!("{} ('{a}')", kind_words(e.kind())),
        (_, None) => kind_words(e.kind()).to_owned(),
    };
    let mut out = format!("error: {head}\n");
    if let Some(s) = e
        .get(ContextKind::SuggestedArg)
        .or_else(|| e.get(ContextKind::SuggestedSubcommand))
    {
        out.push_str(&format!("\n  tip: a similar one exists: '{s}'\n"));
    }
    if let Some(u) = e.get(ContextKind::Usage) {
        out.push_str(&format!("\n{u}\n"));
    }
    out.push_str("\nFor more information, try '--help'.\n");
    out
}

fn kind_words(k: clap::error::ErrorKind) -> &'static str {
    use clap::error::ErrorKind as K;
    match k {
        K::MissingRequiredArgument => "a required argument is missing",
        K::MissingSubcommand => "a command is required",
        K::ArgumentConflict => "these arguments cannot be used together",
        K::TooManyValues | K::WrongNumberOfValues | K::TooFewValues => "wrong number of values",
        K::NoEquals => "this option needs --name=VALUE",
        K::InvalidUtf8 => "an argument is not UTF-8",
        _ => "invalid command line",
    }
}

fn print_clap(wf: &mut Workflow, e: &clap::Error) -> std::io::Result<()> {
    wf.raw_result(&e.render().to_string())
}

fn title() -> AnnotationProps {
    AnnotationProps {
        title: Some("mp-release".into()),
        ..AnnotationProps::default()
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_owned()
}

/// Runs the command; `Ok(Some(..))` when the report is out but the process must still fail.
fn run(
    env: &Env,
    cli: &Cli,
    wf: &mut Workflow,
    redactor: Redactor,
) -> anyhow::Result<Option<(Exit, String)>> {
    let cwd = std::env::current_dir()?;
    let layers = Layers::load(env, &cli.global, &cwd)?;
    // Secrets from the config file: masked and redacted before anything else is printed.
    for s in layers.file_secrets() {
        redactor.add(&s);
        wf.mask(&s)?;
    }
    let globals = settings::globals(cli, &layers, env, &cwd)?;
    crate::logging::init(&globals, redactor);
    tracing::debug!(
        "mp-release {} in {} (debug logs: -v, MP_RELEASE_LOG, or RUNNER_DEBUG=1 in Actions)",
        env!("CARGO_PKG_VERSION"),
        cwd.display()
    );
    wf.configure(
        globals.output,
        globals.actions.as_ref(),
        globals.summary_file.as_deref(),
    );
    let mut report = match &cli.command {
        Command::Emulator(args) => {
            let s = settings::emulator(args, &layers, &cwd)?;
            serve_emulator(s, wf)?;
            return Ok(None);
        }
        Command::Relay(args) => {
            let s = settings::relay(args, &layers, &globals)?;
            relay::serve(s, wf)?;
            return Ok(None);
        }
        Command::Version(args) => {
            let s = settings::version(args, &layers, &cwd)?;
            wf.group("mp-release version")?;
            let report = version::run(&s, &globals);
            wf.end_group()?;
            report?
        }
        other => commands::command(other, &layers, &globals, wf)?,
    };
    for (level, message) in &report.annotations {
        wf.annotate(*level, message, &title())?;
    }
    // The job summary as an output too, for chat-ops of one's own (it is redacted as all output is).
    if !report.summary.is_empty() {
        report
            .outputs
            .push(("summary-markdown".into(), report.summary.clone()));
        if let serde_json::Value::Object(m) = &mut report.json {
            m.insert("summary-markdown".into(), serde_json::json!(report.summary));
        }
    }
    if let Some(t) = report
        .terminal
        .as_ref()
        .filter(|_| globals.output != settings::OutputFormat::Json)
    {
        wf.raw_result(t)?;
    }
    wf.outputs(&report.outputs, &report.json)?;
    if report.print_summary {
        wf.raw_result(&format!("\n{}", report.summary))?;
    }
    wf.summary(&report.summary)?;
    Ok(match report.exit {
        Exit::Success => None,
        code => Some((
            code,
            report
                .failure
                .unwrap_or_else(|| "the release failed".into()),
        )),
    })
}

/// SIGINT and SIGTERM, listened to from the moment this is made (so a signal sent right after
/// the emulator says where it listens is not lost to the default action). Needs a runtime context.
struct StopSignals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn listen() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Self {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Waits for one of them (Ctrl-C where there are no Unix signals).
    async fn wait(mut self) -> anyhow::Result<()> {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c().await?;
        Ok(())
    }
}

/// `mp-release emulator`: serve until the process is ended (SIGINT or SIGTERM).
///
/// The test CA goes into a fresh private directory (mode 0700, a random name created
/// exclusively, so nothing planted at a predictable path is followed or overwritten) and is
/// removed when the process ends by a signal. (A `kill -9` leaves that one directory behind.)
fn serve_emulator(s: settings::EmulatorSettings, wf: &mut Workflow) -> anyhow::Result<()> {
    use anyhow::Context;
    use std::io::Write;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], s.port));
    let world = mp_release_emulator::World::new(s.scenario);
    let emu = mp_release_emulator::Emulator::bind_with_tls(addr, world)
        .with_context(|| format!("starting the emulator on {addr}"))?;
    let url = emu.uri();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let stop = {
        let _in_runtime = rt.enter();
        StopSignals::listen()?
    };
    // The test CA, for tools that reach the emulator as an HTTPS proxy (the real miniprogram-ci).
    let mut builder = tempfile::Builder::new();
    builder.prefix("mp-release-emulator-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o700));
    }
    let dir = builder
        .tempdir()
        .context("creating a private directory for the emulator's CA")?;
    let ca = dir.path().join("ca.pem");
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&ca)
        .and_then(|mut f| f.write_all(emu.ca_pem().unwrap_or_default().as_bytes()))
        .with_context(|| format!("writing {}", ca.display()))?;
    tracing::info!("WeChat emulator listening on {url}; admin API under {url}/__emulator/");
    tracing::info!(
        "as an HTTPS proxy: HTTPS_PROXY={url} NODE_EXTRA_CA_CERTS={}",
        ca.display()
    );
    let ca_text = ca.display().to_string();
    wf.outputs(
        &[("url".into(), url.clone()), ("ca".into(), ca_text.clone())],
        &serde_json::json!({ "url": url, "ca": ca_text }),
    )?;
    rt.block_on(stop.wait())?;
    tracing::info!("emulator stopped; removing {}", dir.path().display());
    drop(emu);
    dir.close()
        .with_context(|| "removing the emulator's CA directory")?;
    Ok(())
}
