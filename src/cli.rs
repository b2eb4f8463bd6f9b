//! Command-line grammar (clap derive). Raw strings only: settings.rs validates and merges them with
//! the environment and the config file, so clap never sees env vars and `--help` never shows a value.

use clap::{ArgAction, Args, Parser, Subcommand};

/// Shown under every command's `--help`.
const ENV_HELP: &str = "Every option can also be set as MP_RELEASE_<NAME> or, in a GitHub Action, \
INPUT_<NAME> (e.g. MP_RELEASE_BUMP, INPUT_VERSION_FROM or INPUT_VERSION-FROM). An empty value counts \
as unset. Precedence: defaults < config file < environment < flags.\n\nExit codes: 0 success, \
1 release failed, 2 bad input (nothing was sent), 3 infrastructure error after retries.";

/// Release WeChat Mini Programs: version, upload, review, publish, report.
#[derive(Debug, Parser)]
#[command(name = "mp-release", version, about, propagate_version = true)]
#[command(after_help = ENV_HELP)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// YAML config file (default: .mp-release.yml if present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<String>,
    /// Compute and report, but write nothing and send nothing that changes state.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Result format on stdout.
    #[arg(long, global = true, value_name = "text|json")]
    pub output: Option<String>,
    /// Write the job summary (Markdown) to this file when not running in GitHub Actions.
    #[arg(long, global = true, value_name = "FILE")]
    pub summary_file: Option<String>,
    /// More log output (-v debug, -vv trace).
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
    /// Less log output (-q warnings, -qq errors only).
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub quiet: u8,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compute the next version, write it where asked, and report it.
    #[command(after_help = ENV_HELP)]
    Version(VersionArgs),
    /// Serve the built-in WeChat emulator on 127.0.0.1 for other tools (admin API under /__emulator/).
    #[command(after_help = ENV_HELP)]
    Emulator(EmulatorArgs),
}

/// `mp-release emulator`.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Port on 127.0.0.1 (default 0: a free port, printed as `url=`).
    #[arg(long, value_name = "PORT")]
    pub port: Option<String>,
    /// Scenario file (YAML or JSON): review outcomes, privacy-scan time, quotas, limits, faults.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<String>,
}

/// `mp-release version`.
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Where the current version comes from: explicit:<v>, git-tag, git-tag:<prefix>, package.json.
    #[arg(long, value_name = "SOURCE")]
    pub version_from: Option<String>,
    /// major|minor|patch|premajor|preminor|prepatch|prerelease|auto|none
    /// (default: auto; none with explicit:<v>).
    #[arg(long, value_name = "LEVEL")]
    pub bump: Option<String>,
    /// Prerelease identifier for the pre* levels, e.g. beta.
    #[arg(long, value_name = "ID")]
    pub preid: Option<String>,
    /// Version to use when there is no current version yet (default 0.1.0).
    #[arg(long, value_name = "VERSION")]
    pub initial_version: Option<String>,
    /// Prefix of release tags (default v; git-tag:<prefix> sets it too).
    #[arg(long, value_name = "PREFIX")]
    pub tag_prefix: Option<String>,
    /// The package file read by --version-from package.json (default package.json).
    #[arg(long, value_name = "FILE")]
    pub package_json: Option<String>,
    /// Write the new version into this JSON file's top-level "version" (repeatable).
    #[arg(long, value_name = "FILE")]
    pub write: Vec<String>,
    /// How auto treats 0.x: shifted (breaking → minor, feat → patch) or standard.
    #[arg(long, value_name = "RULES")]
    pub zero_major_rules: Option<String>,
}
