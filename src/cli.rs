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
    /// Send every request (WeChat, upload, GitHub) through this proxy, e.g. one with the fixed
    /// egress IP of WeChat's IP whitelists (default: HTTPS_PROXY/HTTP_PROXY/NO_PROXY, as curl).
    #[arg(long, global = true, value_name = "URL")]
    pub https_proxy: Option<String>,
    /// Extra certificate authorities (PEM file), trusted besides the system's and the bundled
    /// ones by every client, the official upload engine too (a TLS-inspecting proxy, the emulator).
    #[arg(long, global = true, value_name = "FILE")]
    pub ca_file: Option<String>,
    /// Notify a WeCom (企业微信) group: the robot's webhook URL (secret).
    #[arg(long, global = true, value_name = "URL")]
    pub notify_wecom: Option<String>,
    /// Notify a DingTalk (钉钉) group: the robot's webhook URL (secret).
    #[arg(long, global = true, value_name = "URL")]
    pub notify_dingtalk: Option<String>,
    /// The DingTalk robot's signing secret (加签, SEC…; secret).
    #[arg(long, global = true, value_name = "SECRET")]
    pub notify_dingtalk_secret: Option<String>,
    /// Notify a Feishu/Lark (飞书) group: the bot's webhook URL (secret).
    #[arg(long, global = true, value_name = "URL")]
    pub notify_feishu: Option<String>,
    /// The Feishu bot's signing secret (secret).
    #[arg(long, global = true, value_name = "SECRET")]
    pub notify_feishu_secret: Option<String>,
    /// Notify a Slack channel: the incoming webhook URL (secret).
    #[arg(long, global = true, value_name = "URL")]
    pub notify_slack: Option<String>,
    /// Which events the chats hear about, comma-separated (default rejected,published,rolled-back,failed,preview,reverted,fleet; also submitted, approved, detached, phased (each step of a rollout); all).
    #[arg(long, global = true, value_name = "EVENTS")]
    pub notify_on: Option<String>,
    /// Who is mentioned, comma-separated: WeCom userids, DingTalk mobiles or userids, Feishu open ids, or @all.
    #[arg(long, global = true, value_name = "WHO")]
    pub notify_mention: Option<String>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compute the next version, write it where asked, and report it.
    #[command(after_help = ENV_HELP)]
    Version(VersionArgs),
    /// The whole pipeline: version, commit (template mode), precheck, submit, wait, publish.
    #[command(after_help = ENV_HELP)]
    Run(RunArgs),
    /// Version, commit and precheck, then submit for review and stop (detach).
    #[command(after_help = ENV_HELP)]
    Submit(SubmitArgs),
    /// Follow a review (the latest, or --audit-id) until it ends or wait-timeout passes.
    #[command(after_help = ENV_HELP)]
    Wait(WaitArgs),
    /// Publish the approved version (fully, or phased with --gray-percentage) and confirm it is live.
    #[command(after_help = ENV_HELP)]
    Publish(PublishArgs),
    /// Show the latest review (or --audit-id) and the live and trial versions.
    #[command(after_help = ENV_HELP)]
    Status(StatusArgs),
    /// Withdraw the review in flight (undocodeaudit; 5 per day, 10 per month).
    #[command(after_help = ENV_HELP)]
    Withdraw(WeChatOnly),
    /// Roll the live version back (revertcoderelease); --list shows the history.
    #[command(after_help = ENV_HELP)]
    Rollback(RollbackArgs),
    /// Show the platform's review and speed-up quota.
    #[command(after_help = ENV_HELP)]
    Quota(WeChatOnly),
    /// Operations data (运营数据) of the last full days: visits against the days before, top pages,
    /// sources, start-up times, JS errors per version, user feedback (own token or a platform's).
    #[command(after_help = ENV_HELP)]
    Stats(StatsArgs),
    /// Upload the project as a new version (the native engine: no Node.js needed).
    #[command(after_help = ENV_HELP)]
    Upload(UploadArgs),
    /// Upload the project as a preview and save its QR code.
    #[command(after_help = ENV_HELP)]
    Preview(PreviewArgs),
    /// Finish reviews that outlasted their job: find this tool's open check runs on recent commits,
    /// follow each review, publish per its rule, and complete the check runs.
    #[command(after_help = ENV_HELP)]
    Resume(ResumeArgs),
    /// Open or update the release pull request: the next version (the `version` rules), the files
    /// of --write set to it, release notes; one pull request from the release branch, updated in place.
    #[command(after_help = ENV_HELP)]
    ReleasePr(ReleasePrArgs),
    /// Write the sticky pull-request comment of a preview (the Action runs it with the link of the
    /// QR code artifact it uploaded).
    #[command(after_help = ENV_HELP)]
    Comment(CommentArgs),
    /// Serve the built-in WeChat emulator on 127.0.0.1 for other tools (admin API under /__emulator/).
    #[command(after_help = ENV_HELP)]
    Emulator(EmulatorArgs),
    /// Receive WeChat's encrypted pushes to the platform (review results, tickets), verify and
    /// decrypt them, and start GitHub workflows with repository_dispatch (serves until stopped).
    #[command(after_help = ENV_HELP)]
    Relay(RelayArgs),
    /// Release one template to many merchant mini programs of a third-party platform: `plan`,
    /// `run` (optionally one shard of a job matrix), `report` (merge the shards' reports).
    #[command(subcommand)]
    Fleet(FleetCommand),
    /// The platform's template library: `list`, `add` (the development mini program's upload
    /// becomes a template), `prune` (delete the oldest templates nothing uses).
    #[command(subcommand)]
    Template(TemplateCommand),
}

/// `mp-release relay`.
#[derive(Debug, Args)]
pub struct RelayArgs {
    /// Address to listen on (default 127.0.0.1:0: a free port, printed as `url=`).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// The platform's message Token (消息校验Token; secret).
    #[arg(long, value_name = "TOKEN")]
    pub push_token: Option<String>,
    /// The platform's EncodingAESKey (消息加解密Key, 43 characters; secret).
    #[arg(long, value_name = "KEY")]
    pub encoding_aes_key: Option<String>,
    /// The third-party platform's appid (the receiver every push must name).
    #[arg(long, value_name = "APPID")]
    pub component_appid: Option<String>,
    /// Keep the latest component_verify_ticket in this file (mode 0600), for the token flow.
    #[arg(long, value_name = "FILE")]
    pub ticket_file: Option<String>,
    /// Refuse pushes whose timestamp is further than this from now (replays; default 5m).
    #[arg(long, value_name = "DURATION")]
    pub push_max_age: Option<String>,
    /// The repository_dispatch event type (default weapp-audit).
    #[arg(long, value_name = "TYPE")]
    pub dispatch_event: Option<String>,
    /// The repository to dispatch to: owner/repo.
    #[arg(long, value_name = "OWNER/REPO")]
    pub repository: Option<String>,
    /// A token that may create repository_dispatch events (Contents: write; secret).
    #[arg(long, value_name = "TOKEN")]
    pub github_token: Option<String>,
    /// The GitHub API (default $GITHUB_API_URL, else https://api.github.com).
    #[arg(long, value_name = "URL")]
    pub github_api_url: Option<String>,
    /// The platform's AppSecret: with it the relay looks up the review id of each result
    /// (get_latest_auditstatus, with the tickets it receives) and puts it in the dispatch (secret).
    #[arg(long, value_name = "SECRET")]
    pub component_secret: Option<String>,
    /// The latest component_verify_ticket, until WeChat pushes the next (secret).
    #[arg(long, value_name = "TICKET")]
    pub component_verify_ticket: Option<String>,
    /// WeChat API base URL (default https://api.weixin.qq.com; the emulator's URL in tests).
    #[arg(long, value_name = "URL")]
    pub wechat_base_url: Option<String>,
}

/// `mp-release fleet …`.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum FleetCommand {
    /// Which apps, what each will do, the review quota needed against what is left, and with
    /// --shards the job matrix. Changes nothing.
    #[command(after_help = ENV_HELP)]
    Plan(FleetArgs),
    /// Every planned app (or this shard's) through the release pipeline, concurrently; run it
    /// again with the same state-dir to continue.
    #[command(after_help = ENV_HELP)]
    Run(FleetRunArgs),
    /// Merge the shards' JSON reports into one summary.
    #[command(after_help = ENV_HELP)]
    Report(FleetReportArgs),
}

/// What `fleet plan` and `fleet run` share.
#[derive(Debug, Args)]
pub struct FleetArgs {
    /// The fleet file (YAML): the apps or `all`, their ext_json, overrides (see docs/fleet.md).
    #[arg(long, value_name = "FILE")]
    pub fleet_file: Option<String>,
    /// Only the apps that match: label=…, group=… or appid=… (values separated by commas;
    /// repeat for several conditions, all of which must hold).
    #[arg(long, value_name = "KEY=VALUE")]
    pub select: Vec<String>,
    /// Submit at most this many apps (the rest are reported as not submitted), instead of
    /// refusing when the platform's review quota is short.
    #[arg(long, value_name = "N")]
    pub max_submits: Option<String>,
    /// Split the fleet into this many slices (`fleet plan` prints the job matrix).
    #[arg(long, value_name = "N")]
    pub shards: Option<String>,
    /// The fleet's state: the plan, one file per app and the report (run again to continue).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<String>,
    /// Credentials and connection (the platform's).
    #[command(flatten)]
    pub wechat: WeChatArgs,
    /// Pipeline options (waiting, polling, on-existing-review; template-id overrides the file's).
    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

/// `mp-release fleet run`.
#[derive(Debug, Args)]
pub struct FleetRunArgs {
    /// Run a demo platform with 20 merchant apps of mixed fate on the built-in emulator.
    #[arg(long)]
    pub sandbox: bool,
    /// This job's slice, i/N (one job of the matrix `fleet plan --shards N` printed).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// How many apps are driven at once (default 16).
    #[arg(long, value_name = "N")]
    pub concurrency: Option<String>,
    /// Requests a second to WeChat over the whole fleet (divided among the shards), optionally
    /// with per-app limits of endpoints: 20,submit_audit=1.
    #[arg(long, value_name = "RATE")]
    pub rate_limit: Option<String>,
    /// When the template library is full (85065): none (default) or oldest:N.
    #[arg(long, value_name = "RULE")]
    pub prune_templates: Option<String>,
    /// Shared with `fleet plan`.
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Upload options (`template: new`: the development mini program's upload).
    #[command(flatten)]
    pub upload: UploadOptions,
    /// GitHub options (one check run per shard: `<check-name> fleet i/N`).
    #[command(flatten)]
    pub github: GitHubArgs,
}

/// `mp-release fleet report`.
#[derive(Debug, Args)]
pub struct FleetReportArgs {
    /// The shards' JSON reports (files, or directories searched for fleet-report*.json).
    #[arg(long, value_name = "PATH")]
    pub reports: Vec<String>,
}

/// `mp-release template …`.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum TemplateCommand {
    /// The template library, oldest first, with how full it is.
    #[command(after_help = ENV_HELP)]
    List(TemplateArgs),
    /// Upload the development mini program (project-path, upload-appid) and make its draft a
    /// template; or with --draft-version, the one draft of that version in the draft box.
    #[command(after_help = ENV_HELP)]
    Add(TemplateAddArgs),
    /// Delete the oldest templates no live, trial or in-review version uses (prune-templates
    /// oldest:N; --dry-run lists them).
    #[command(after_help = ENV_HELP)]
    Prune(TemplatePruneArgs),
}

/// What the template commands share.
#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// Credentials and connection (the platform's).
    #[command(flatten)]
    pub wechat: WeChatArgs,
}

/// `mp-release template add`.
#[derive(Debug, Args)]
pub struct TemplateAddArgs {
    /// Take the draft of this version already in the draft box instead of uploading.
    #[arg(long, value_name = "VERSION")]
    pub draft_version: Option<String>,
    /// When the library is full (85065): none (default) or oldest:N.
    #[arg(long, value_name = "RULE")]
    pub prune_templates: Option<String>,
    /// Credentials and connection (the platform's).
    #[command(flatten)]
    pub wechat: WeChatArgs,
    /// Version options (the uploaded version).
    #[command(flatten)]
    pub version: VersionArgs,
    /// Upload options (the development mini program).
    #[command(flatten)]
    pub upload: UploadOptions,
    /// `desc` of the upload.
    #[arg(long, value_name = "TEXT")]
    pub desc: Option<String>,
}

/// `mp-release template prune`.
#[derive(Debug, Args)]
pub struct TemplatePruneArgs {
    /// How many of the oldest unused templates to delete: oldest:N.
    #[arg(long, value_name = "RULE")]
    pub prune_templates: Option<String>,
    /// Credentials and connection (the platform's).
    #[command(flatten)]
    pub wechat: WeChatArgs,
}

/// Reporting to GitHub: check run or commit status, pull-request comment, tag and release.
#[derive(Debug, Args)]
pub struct GitHubArgs {
    /// A token for the GitHub API (secret; the Action passes github.token). Without one, only the
    /// job summary and outputs are written.
    #[arg(long, value_name = "TOKEN")]
    pub github_token: Option<String>,
    /// The GitHub API (default $GITHUB_API_URL, else https://api.github.com).
    #[arg(long, value_name = "URL")]
    pub github_api_url: Option<String>,
    /// owner/name (default $GITHUB_REPOSITORY).
    #[arg(long, value_name = "OWNER/NAME")]
    pub repository: Option<String>,
    /// The commit being released (default: the pull request's head, else $GITHUB_SHA).
    #[arg(long, value_name = "SHA")]
    pub sha: Option<String>,
    /// check (default: a check run), status (a commit status, for tokens that cannot write checks), deployment (a GitHub deployment, also with check or status: check,deployment) or none.
    #[arg(long, value_name = "MODE")]
    pub gating: Option<String>,
    /// What makes a pull request a release PR that run and submit review (others get a neutral check at once): branch:<name or prefix*>, label:<name>, title:<prefix> or all (default branch:mp-release/*, label:wechat-release, title:release:).
    #[arg(long, value_name = "RULES")]
    pub release_pr: Option<String>,
    /// A new commit on a release PR whose review is in flight: keep (default: the review goes on for the earlier commit, this commit's check fails) or resubmit (withdraw it and submit this commit; withdrawals are limited to 5 a day, 10 a month).
    #[arg(long, value_name = "MODE")]
    pub on_new_commit: Option<String>,
    /// The environment of gating: deployment (default wechat-production).
    #[arg(long, value_name = "NAME")]
    pub deployment_environment: Option<String>,
    /// The check run's (or status context's) name; branch protection requires it by name.
    #[arg(long, value_name = "NAME")]
    pub check_name: Option<String>,
    /// One sticky comment on the pull request (default true on pull requests).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub pr_comment: Option<String>,
    /// A link to the preview QR code image (e.g. the artifact the Action uploads) for the comment.
    #[arg(long, value_name = "URL")]
    pub qrcode_url: Option<String>,
    /// On publish, create the git tag <tag-prefix><version> on the released commit.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub git_tag: Option<String>,
    /// On publish, create a GitHub release (and its tag) with notes from the commits since the last tag.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub github_release: Option<String>,
}

/// `mp-release comment`.
#[derive(Debug, Args)]
pub struct CommentArgs {
    /// The mini program.
    #[arg(long, value_name = "APPID")]
    pub appid: Option<String>,
    /// What the QR code says (the `qrcode-content` output of `preview`): drawn as Unicode blocks
    /// when there is no qrcode-url.
    #[arg(long, value_name = "TEXT")]
    pub qrcode_content: Option<String>,
    /// The `package-sizes` output of `preview` (JSON).
    #[arg(long, value_name = "JSON")]
    pub package_sizes: Option<String>,
    /// GitHub options.
    #[command(flatten)]
    pub github: GitHubArgs,
}

/// `mp-release resume`.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// Branches whose recent commits are searched (comma-separated; default the branch of $GITHUB_REF).
    #[arg(long, value_name = "LIST")]
    pub branches: Option<String>,
    /// How far back to look for commits (default 7d).
    #[arg(long, value_name = "DURATION")]
    pub lookback: Option<String>,
    /// Credentials and connection.
    #[command(flatten)]
    pub wechat: WeChatArgs,
    /// Pipeline options (wait-timeout defaults to 0 here: one look per review, for scheduled runs).
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// GitHub options.
    #[command(flatten)]
    pub github: GitHubArgs,
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
#[derive(Debug, Default, Args)]
pub struct VersionArgs {
    /// Where the current version comes from: explicit:<v>, git-tag, git-tag:<prefix>, package.json,
    /// or wechat (the live version; run and submit only).
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

/// Credentials and connection, shared by every command that talks to WeChat.
#[derive(Debug, Args)]
pub struct WeChatArgs {
    /// The mini program (authorizer) appid: wx + 16 hex digits.
    #[arg(long, value_name = "APPID")]
    pub appid: Option<String>,
    /// An authorizer_access_token from your token service (secret).
    #[arg(long, value_name = "TOKEN")]
    pub access_token: Option<String>,
    /// The third-party platform's appid.
    #[arg(long, value_name = "APPID")]
    pub component_appid: Option<String>,
    /// The platform's component_access_token (secret).
    #[arg(long, value_name = "TOKEN")]
    pub component_access_token: Option<String>,
    /// The platform's AppSecret, with --component-verify-ticket (secret).
    #[arg(long, value_name = "SECRET")]
    pub component_secret: Option<String>,
    /// The latest component_verify_ticket, less than 12 h old (secret).
    #[arg(long, value_name = "TICKET")]
    pub component_verify_ticket: Option<String>,
    /// The mini program's authorizer_refresh_token (secret).
    #[arg(long, value_name = "TOKEN")]
    pub authorizer_refresh_token: Option<String>,
    /// The mini program's own AppSecret: only for `status --qrcode` (review needs a platform) (secret).
    #[arg(long, value_name = "SECRET")]
    pub app_secret: Option<String>,
    /// WeChat API base URL (default https://api.weixin.qq.com; the emulator's URL in tests).
    #[arg(long, value_name = "URL")]
    pub wechat_base_url: Option<String>,
    /// Timeout of one HTTP request (default 30s).
    #[arg(long, value_name = "DURATION")]
    pub request_timeout: Option<String>,
    /// Keep the pipeline state in this file and resume from it (a finished one is reported again).
    #[arg(long, value_name = "FILE")]
    pub state_file: Option<String>,
    /// Start a new release although the state file records a finished one.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub restart: Option<String>,
    /// Test hook: sleep on the emulator's virtual clock instead of the wall clock.
    #[arg(long, hide = true, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub virtual_clock: Option<String>,
    /// Test hook: stop the process right after this call (e.g. submit_audit), before saving state.
    #[arg(long, hide = true, value_name = "CALL")]
    pub crash_after: Option<String>,
}

/// Options of the review pipeline.
#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// Template mode: the template to commit to the app.
    #[arg(long, value_name = "ID")]
    pub template_id: Option<String>,
    /// Template mode: ext_json (a JSON object, or @FILE).
    #[arg(long, value_name = "JSON")]
    pub ext_json: Option<String>,
    /// Description of the commit (user_desc; default "mp-release <version>").
    #[arg(long, value_name = "TEXT")]
    pub desc: Option<String>,
    /// Release notes shown to the reviewers.
    #[arg(long, value_name = "TEXT")]
    pub version_desc: Option<String>,
    /// Feedback for the reviewers when resubmitting after a rejection (≤ 200 characters).
    #[arg(long, value_name = "TEXT")]
    pub feedback_info: Option<String>,
    /// Declare that privacy APIs found in the code but not configured are never called.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub privacy_api_not_use: Option<String>,
    /// Build item_list from get_category + get_page when the config file has no review-items.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub build_item_list: Option<String>,
    /// A review already in flight: attach, withdraw or fail (default fail).
    #[arg(long, value_name = "CHOICE")]
    pub on_existing_review: Option<String>,
    /// Ask for an expedited review (uses the platform's monthly speed-up quota).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub speedup: Option<String>,
    /// Publish even when the version is lower than the live one (default false).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub allow_downgrade: Option<String>,
    /// How long to follow the review before detaching (default 5h; 0 = submit and detach; for
    /// `wait` and `resume`, 0 = look once).
    #[arg(long, value_name = "DURATION")]
    pub wait_timeout: Option<String>,
    /// First interval between review polls (default 60s; it grows by half each poll).
    #[arg(long, value_name = "DURATION")]
    pub poll_interval: Option<String>,
    /// Largest interval between review polls (default 10m).
    #[arg(long, value_name = "DURATION")]
    pub poll_max: Option<String>,
    /// Interval between privacy-scan polls (default 60s).
    #[arg(long, value_name = "DURATION")]
    pub privacy_poll_interval: Option<String>,
    /// on-approval (default) or never.
    #[arg(long, value_name = "RULE")]
    pub publish: Option<String>,
    /// Phased release to this percentage (1-100) instead of a full release.
    #[arg(long, value_name = "PERCENT")]
    pub gray_percentage: Option<String>,
    /// Phased releases reach the project's members first (support_debuger_first).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub support_debuger_first: Option<String>,
    /// Phased releases reach trial members first (support_experiencer_first).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub support_experiencer_first: Option<String>,
    /// A health-gated phased rollout: percentages, each optionally with its watch window
    /// (1,5,20,100 or 5@2h,20@12h,100); 100 ends with a full release.
    #[arg(long, value_name = "STEPS")]
    pub rollout: Option<String>,
    /// The watch window of a rollout step without its own (default 2h).
    #[arg(long, value_name = "DURATION")]
    pub rollout_watch: Option<String>,
    /// An unhealthy rollout step: revert (default; revertgrayrelease) or hold (leave it, exit 1).
    #[arg(long, value_name = "CHOICE")]
    pub on_unhealthy: Option<String>,
    /// Unhealthy when the new version's error users per share are more than this many times the
    /// previous version's (default 2.0).
    #[arg(long, value_name = "RATIO")]
    pub max_error_ratio: Option<String>,
    /// Unhealthy when more new error signatures than this reach min-error-users (default 0).
    #[arg(long, value_name = "N")]
    pub max_new_errors: Option<String>,
    /// Users a new error signature needs to count (default 3).
    #[arg(long, value_name = "N")]
    pub min_error_users: Option<String>,
    /// Unhealthy when crash-type feedback since the step began is above this (default 5).
    #[arg(long, value_name = "N")]
    pub max_crash_feedback: Option<String>,
    /// Error users (both versions) the ratio needs before it is judged; fewer hold (default 20).
    #[arg(long, value_name = "N")]
    pub rollout_min_sample: Option<String>,
    /// Holds a step may take for a small sample before its look judges what it has (default 2).
    #[arg(long, value_name = "N")]
    pub rollout_max_holds: Option<String>,
    /// The marker the app writes into its real-time log (setFilterMsg), with {version} for its
    /// version (e.g. v{version}): error logs under it are judged per version too.
    #[arg(long, value_name = "TEMPLATE")]
    pub rollout_log_marker: Option<String>,
}

/// Options of the code upload.
#[derive(Debug, Args)]
pub struct UploadOptions {
    /// The mini program project (the directory with project.config.json). In `run`, setting it
    /// uploads the code instead of committing a template.
    #[arg(long, value_name = "DIR")]
    pub project_path: Option<String>,
    /// The code-upload private key, PEM text (secret).
    #[arg(long, value_name = "PEM", allow_hyphen_values = true)]
    pub private_key: Option<String>,
    /// The code-upload private key, as a file.
    #[arg(long, value_name = "FILE")]
    pub private_key_path: Option<String>,
    /// The uploading appid (default: appid; a platform's development mini program in template flows).
    #[arg(long, value_name = "APPID")]
    pub upload_appid: Option<String>,
    /// Robot 1-30 (each robot has its own development version slot).
    #[arg(long, value_name = "N")]
    pub robot: Option<String>,
    /// auto (default), native, or miniprogram-ci.
    #[arg(long, value_name = "ENGINE")]
    pub engine: Option<String>,
    /// The upload host (default https://servicewechat.com; the emulator's URL in tests).
    #[arg(long, value_name = "URL")]
    pub upload_base_url: Option<String>,
    /// Timeout of the upload request (default 120s; the official engine gets three times as long).
    #[arg(long, value_name = "DURATION")]
    pub upload_timeout: Option<String>,
    /// Where the official engine is installed on first use (default ~/.cache/mp-release).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<String>,
    /// Compile settings over project.config.json's, as a JSON object of miniprogram-ci options:
    /// es6, es7, minify, minifyJS, minifyWXML, minifyWXSS, autoPrefixWXSS, codeProtect,
    /// disableUseStrict, compileWorklet (true/false). Any of them on needs the miniprogram-ci engine.
    #[arg(long, value_name = "JSON")]
    pub setting: Option<String>,
    /// The miniprogram-ci version the official engine installs and runs (default: the newest one
    /// verified by mp-release's interop tests).
    #[arg(long, value_name = "VERSION")]
    pub miniprogram_ci_version: Option<String>,
    /// Build miniprogram_npm from the project's npm dependencies (miniprogram-ci's packNpm) before
    /// uploading (true/false; needs the miniprogram-ci engine).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub pack_npm: Option<String>,
    /// Save the uploaded code's source maps (a zip, miniprogram-ci's getDevSourceMap) to this file,
    /// for error monitoring (needs the miniprogram-ci engine).
    #[arg(long, value_name = "FILE")]
    pub source_map_output: Option<String>,
}

/// `mp-release upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// Upload options.
    #[command(flatten)]
    pub upload: UploadOptions,
    /// Credentials and connection (only appid, https-proxy are used).
    #[command(flatten)]
    pub wechat: WeChatArgs,
    /// Version options.
    #[command(flatten)]
    pub version: VersionArgs,
    /// Description of the version (default: the last commit's subject).
    #[arg(long, value_name = "TEXT")]
    pub desc: Option<String>,
}

/// `mp-release preview`.
#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// Upload options.
    #[command(flatten)]
    pub upload: UploadOptions,
    /// Credentials and connection (only appid, https-proxy are used).
    #[command(flatten)]
    pub wechat: WeChatArgs,
    /// The page the preview opens.
    #[arg(long, value_name = "PAGE")]
    pub page_path: Option<String>,
    /// The page's query string.
    #[arg(long, value_name = "QUERY")]
    pub search_query: Option<String>,
    /// The scene the preview opens with (default 1011, scanning a QR code).
    #[arg(long, value_name = "SCENE")]
    pub scene: Option<String>,
    /// Where to save the preview QR code (a PNG; default preview-qrcode.png).
    #[arg(long, value_name = "FILE")]
    pub qrcode_output: Option<String>,
    /// Description of the preview.
    #[arg(long, value_name = "TEXT")]
    pub desc: Option<String>,
    /// GitHub options (the pull-request comment).
    #[command(flatten)]
    pub github: GitHubArgs,
}

/// `mp-release run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run the whole pipeline against the built-in WeChat emulator, with a demo app (no account needed).
    #[arg(long)]
    pub sandbox: bool,
    /// With --sandbox: the emulator's scenario file (YAML or JSON) instead of the demo's, e.g.
    /// traffic and errors to try a rollout's thresholds on.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<String>,
    /// Credentials and connection.
    #[command(flatten)]
    pub wechat: WeChatArgs,
    /// Pipeline options.
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// Version options.
    #[command(flatten)]
    pub version: VersionArgs,
    /// Upload options (upload mode).
    #[command(flatten)]
    pub upload: UploadOptions,
    /// GitHub options.
    #[command(flatten)]
    pub github: GitHubArgs,
}

/// `mp-release submit`.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// Credentials and connection.
    #[command(flatten)]
    pub wechat: WeChatArgs,
    /// Pipeline options.
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// Version options.
    #[command(flatten)]
    pub version: VersionArgs,
    /// Upload options (upload mode).
    #[command(flatten)]
    pub upload: UploadOptions,
    /// GitHub options.
    #[command(flatten)]
    pub github: GitHubArgs,
}

/// `mp-release wait`.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// The review to follow (default: the latest).
    #[arg(long, value_name = "ID")]
    pub audit_id: Option<String>,
    /// Credentials and connection.
    #[command(flatten)]
    pub wechat: WeChatArgs,
    /// Pipeline options.
    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

/// `mp-release release-pr`.
#[derive(Debug, Args)]
pub struct ReleasePrArgs {
    /// How the next version is found and where it is written.
    #[command(flatten)]
    pub version: VersionArgs,
    /// The repository and token.
    #[command(flatten)]
    pub github: GitHubArgs,
    /// The branch of the release pull request (default mp-release/release); reset to the base plus one release commit on every run.
    #[arg(long, value_name = "BRANCH")]
    pub release_branch: Option<String>,
    /// The branch the release pull request merges into (default: the workflow's branch).
    #[arg(long, value_name = "BRANCH")]
    pub base: Option<String>,
}

/// `mp-release publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Credentials and connection.
    #[command(flatten)]
    pub wechat: WeChatArgs,
    /// Pipeline options.
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// Reporting to GitHub, and the merge guard on a merged release pull request.
    #[command(flatten)]
    pub github: GitHubArgs,
}

/// `mp-release status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// A review id (default: the latest review).
    #[arg(long, value_name = "ID")]
    pub audit_id: Option<String>,
    /// Save the trial version's QR code (JPEG) to this file.
    #[arg(long, value_name = "FILE")]
    pub qrcode: Option<String>,
    /// Credentials and connection.
    #[command(flatten)]
    pub wechat: WeChatArgs,
}

/// `mp-release rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// List the versions that can be rolled back to, and change nothing.
    #[arg(long)]
    pub list: bool,
    /// Roll back to this app_version from the list (default: the previous version).
    #[arg(long, value_name = "APP_VERSION")]
    pub to: Option<String>,
    /// Credentials and connection.
    #[command(flatten)]
    pub wechat: WeChatArgs,
}

/// `mp-release stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// A week of demo data on the built-in emulator, with charts (no account needed).
    #[arg(long)]
    pub sandbox: bool,
    /// Full days to show, ending yesterday (1-30, default 7); the same number before is the comparison.
    #[arg(long, value_name = "N")]
    pub stats_days: Option<String>,
    /// The versions whose JS errors are compared, new first (default with platform credentials:
    /// the live version and the one before it; with the app's own token: all versions together).
    #[arg(long, value_name = "NEW,PREVIOUS")]
    pub stats_versions: Option<String>,
    /// Credentials and connection.
    #[command(flatten)]
    pub wechat: WeChatArgs,
}

/// Commands that need only credentials.
#[derive(Debug, Args)]
pub struct WeChatOnly {
    /// Credentials and connection.
    #[command(flatten)]
    pub wechat: WeChatArgs,
}
