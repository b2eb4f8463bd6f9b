//! Logging: `tracing` to stderr, one line per event, secrets redacted, no ANSI unless a terminal.

use crate::secrets::{RedactingWriter, Redactor};
use crate::settings::Globals;
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `-v`/`-q` win over MP_RELEASE_LOG / RUST_LOG.
pub fn init(g: &Globals, redactor: Redactor) {
    let level = match g.verbosity {
        ..=-2 => "error",
        -1 => "warn",
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let ours =
        format!("warn,mp_release={level},mp_release_core={level},mp_release_emulator={level}");
    let filter = match (&g.log_filter, g.verbosity) {
        (Some(f), 0) => EnvFilter::try_new(f).unwrap_or_else(|_| EnvFilter::new(&ours)),
        _ => EnvFilter::new(&ours),
    };
    let ansi = !g.no_color && std::io::stderr().is_terminal();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(move || RedactingWriter::new(std::io::stderr(), redactor.clone()))
        .with_ansi(ansi)
        .with_target(false)
        .without_time()
        .try_init();
}
