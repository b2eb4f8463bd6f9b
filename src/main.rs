//! mp-release: release WeChat Mini Programs from CI. Parse, run, map the outcome to an exit code.

mod adapters;
mod app;
mod cli;
mod exit;
mod logging;
mod output;
mod secrets;
mod settings;

use std::process::ExitCode;

fn main() -> ExitCode {
    let env = settings::Env::capture();
    let argv: Vec<String> = std::env::args().collect();
    app::main_with(&env, &argv, Box::new(std::io::stdout())).into()
}
