//! THE input table: every input of mp-release, once, with its kind, whether it is secret, where it
//! may come from, and whether action.yml declares it.
//!
//! What is derived from it: the config file's keys and the type each key's value must have, the
//! list of secret inputs (masked and redacted), and the check that a name given to `Layers::pick`
//! exists. What is checked against it by `tests::the_table_matches_clap_config_and_action_yml`:
//! clap's flags of every command and action.yml's inputs (a flag, a key or an Action input that is
//! in one place only fails that test; the same test shows it with a table missing one entry).

/// What kind of value an input takes (decides the YAML types a config file may give it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Free text (also numbers written in YAML: a desc of `1.0`).
    Text,
    /// `true`/`false` (YAML booleans or the words).
    Bool,
    /// A duration such as `90s`, `15m`, `5h`, `7d`.
    Duration,
    /// A whole number (ids, percentages, ports, robots).
    Number,
    /// One of a few words.
    Choice,
    /// A URL.
    Url,
    /// A file or directory path.
    Path,
    /// A list of values (a YAML list, or one value).
    List,
    /// A JSON document: in the config file a map or list, elsewhere its text.
    Json,
    /// A structured value only a file can carry (`review-items`, `ugc-declare`).
    Structured,
    /// A counted flag (`-v`, `-q`).
    Count,
}

impl Kind {
    /// What the config file must hold for this kind, for messages.
    pub fn expected(self) -> &'static str {
        match self {
            Self::Text | Self::Choice | Self::Url | Self::Path => "a single value (text)",
            Self::Bool => "true or false",
            Self::Duration => "a duration such as 90s, 15m or 5h",
            Self::Number => "a number",
            Self::List => "a list of values, or one value",
            Self::Json => "a map or a list (or its JSON text)",
            Self::Structured => "a map or a list",
            Self::Count => "a number from 0 to 2",
        }
    }
}

/// Where an input may be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sources {
    /// A flag, `MP_RELEASE_*`/`INPUT_*`, and the config file.
    All,
    /// A flag and the environment, not the config file (with the reason).
    NotInFile(&'static str),
    /// The config file only (structured values).
    FileOnly,
    /// action.yml only: the composite action itself uses it, the binary never reads it.
    ActionOnly,
    /// The environment, the config file and action.yml, but no flag (with the reason).
    NoFlag(&'static str),
}

/// One input.
#[derive(Debug, Clone, Copy)]
pub struct Input {
    /// kebab-case name: the flag `--name`, env `MP_RELEASE_NAME`/`INPUT_NAME`, config key `name`.
    pub name: &'static str,
    /// Its kind.
    pub kind: Kind,
    /// A secret: masked before any output and redacted from everything written.
    pub secret: bool,
    /// Where it may come from.
    pub sources: Sources,
    /// Declared in action.yml (checked by the tests against action.yml itself).
    #[cfg_attr(not(test), allow(dead_code))]
    pub action: bool,
}

const fn i(name: &'static str, kind: Kind, action: bool) -> Input {
    Input {
        name,
        kind,
        secret: false,
        sources: Sources::All,
        action,
    }
}

const fn secret(name: &'static str, action: bool) -> Input {
    Input {
        name,
        kind: Kind::Text,
        secret: true,
        sources: Sources::All,
        action,
    }
}

/// A secret that is a URL holding its key (a chat webhook): the key parts are secrets on their own.
const fn secret_url(name: &'static str, action: bool) -> Input {
    Input {
        name,
        kind: Kind::Url,
        secret: true,
        sources: Sources::All,
        action,
    }
}

const fn only(name: &'static str, kind: Kind, sources: Sources, action: bool) -> Input {
    Input {
        name,
        kind,
        secret: false,
        sources,
        action,
    }
}

use Kind::{Bool, Choice, Count, Duration, Json, List, Number, Path, Structured, Text, Url};

/// Every input.
pub const INPUTS: &[Input] = &[
    // ---- every command
    only(
        "config",
        Path,
        Sources::NotInFile("the config file cannot name itself"),
        true,
    ),
    i("dry-run", Bool, true),
    i("output", Choice, true),
    i("summary-file", Path, true),
    // counted flags (-vv) on the command line, a number 0-2 elsewhere
    i("verbose", Count, true),
    i("quiet", Count, true),
    only("command", Choice, Sources::ActionOnly, true),
    only("build-from-source", Bool, Sources::ActionOnly, true),
    only("qrcode-artifact", Bool, Sources::ActionOnly, true),
    // ---- version
    i("version-from", Text, true),
    only(
        "version",
        Text,
        Sources::NoFlag("--version is the CLI's own version flag: use --version-from explicit:<v>"),
        true,
    ),
    i("bump", Choice, true),
    i("preid", Text, true),
    i("initial-version", Text, true),
    i("tag-prefix", Text, true),
    i("package-json", Path, true),
    i("write", List, true),
    i("zero-major-rules", Choice, true),
    // ---- WeChat credentials and connection
    i("appid", Text, true),
    secret("access-token", true),
    i("component-appid", Text, true),
    secret("component-access-token", true),
    secret("component-secret", true),
    secret("component-verify-ticket", true),
    secret("authorizer-refresh-token", true),
    secret("app-secret", true),
    i("wechat-base-url", Url, true),
    i("https-proxy", Url, true),
    i("ca-file", Path, true),
    secret_url("notify-wecom", true),
    secret_url("notify-dingtalk", true),
    secret("notify-dingtalk-secret", true),
    secret_url("notify-feishu", true),
    secret("notify-feishu-secret", true),
    secret_url("notify-slack", true),
    i("notify-on", List, true),
    i("notify-mention", List, true),
    // several targets, each with its own events and mentions: a list only a file can hold
    only("notify", Structured, Sources::FileOnly, false),
    i("request-timeout", Duration, true),
    i("state-file", Path, true),
    i("restart", Bool, true),
    only(
        "virtual-clock",
        Bool,
        Sources::NotInFile("a test hook"),
        false,
    ),
    only(
        "crash-after",
        Text,
        Sources::NotInFile("a test hook"),
        false,
    ),
    // ---- the pipeline
    i("template-id", Number, true),
    i("ext-json", Json, true),
    i("desc", Text, true),
    i("version-desc", Text, true),
    i("feedback-info", Text, true),
    i("privacy-api-not-use", Bool, true),
    i("build-item-list", Bool, true),
    i("on-existing-review", Choice, true),
    i("speedup", Bool, true),
    i("allow-downgrade", Bool, true),
    i("wait-timeout", Duration, true),
    i("poll-interval", Duration, true),
    i("poll-max", Duration, true),
    i("privacy-poll-interval", Duration, true),
    i("publish", Choice, true),
    i("gray-percentage", Number, true),
    i("support-debuger-first", Bool, true),
    i("support-experiencer-first", Bool, true),
    i("rollout", Text, true),
    i("rollout-watch", Duration, true),
    i("on-unhealthy", Choice, true),
    i("max-error-ratio", Text, true),
    i("max-new-errors", Number, true),
    i("min-error-users", Number, true),
    i("max-crash-feedback", Number, true),
    i("rollout-min-sample", Number, true),
    i("rollout-max-holds", Number, true),
    i("rollout-log-marker", Text, true),
    only("review-items", Structured, Sources::FileOnly, false),
    only("ugc-declare", Structured, Sources::FileOnly, false),
    // ---- single commands
    i("sandbox", Bool, true),
    i("stats-days", Number, true),
    i("stats-versions", Text, true),
    i("audit-id", Number, true),
    i("qrcode", Path, true),
    i("list", Bool, true),
    i("to", Number, true),
    // `emulator` serves until it is stopped: not a step of a workflow, so not an Action input
    i("port", Number, false),
    i("scenario", Path, false),
    i("qrcode-content", Text, true),
    i("package-sizes", Json, true),
    // ---- the code upload
    i("project-path", Path, true),
    secret("private-key", true),
    i("private-key-path", Path, true),
    i("upload-appid", Text, true),
    i("robot", Number, true),
    i("engine", Choice, true),
    i("upload-base-url", Url, true),
    i("upload-timeout", Duration, true),
    i("cache-dir", Path, true),
    i("setting", Json, true),
    i("miniprogram-ci-version", Text, true),
    i("pack-npm", Bool, true),
    i("source-map-output", Path, true),
    i("page-path", Text, true),
    i("scene", Number, true),
    i("search-query", Text, true),
    i("qrcode-output", Path, true),
    // ---- fleets and the template library
    i("fleet-file", Path, true),
    i("select", List, true),
    i("max-submits", Number, true),
    i("shards", Number, true),
    i("shard", Text, true),
    i("state-dir", Path, true),
    i("concurrency", Number, true),
    i("rate-limit", Text, true),
    i("prune-templates", Text, true),
    i("reports", List, true),
    i("draft-version", Text, true),
    // ---- the push relay: a server, not a step of a workflow (no Action inputs)
    i("listen", Text, false),
    secret("push-token", false),
    secret("encoding-aes-key", false),
    i("ticket-file", Path, false),
    i("push-max-age", Duration, false),
    i("dispatch-event", Text, false),
    // ---- GitHub
    secret("github-token", true),
    i("github-api-url", Url, true),
    i("repository", Text, true),
    i("sha", Text, true),
    i("gating", List, true),
    i("deployment-environment", Text, true),
    i("release-pr", List, true),
    i("release-branch", Text, true),
    i("on-new-commit", Choice, true),
    i("base", Text, true),
    i("check-name", Text, true),
    i("pr-comment", Bool, true),
    i("qrcode-url", Url, true),
    i("git-tag", Bool, true),
    i("github-release", Bool, true),
    i("branches", List, true),
    i("lookback", Duration, true),
];

/// The input called `name`.
pub fn get(name: &str) -> Option<&'static Input> {
    INPUTS.iter().find(|i| i.name == name)
}

/// The names of the secret inputs.
pub fn secrets() -> impl Iterator<Item = &'static str> {
    INPUTS.iter().filter(|i| i.secret).map(|i| i.name)
}

/// Whether the config file may carry `name`.
pub fn in_file(name: &str) -> bool {
    get(name).is_some_and(|i| {
        matches!(
            i.sources,
            Sources::All | Sources::FileOnly | Sources::NoFlag(_)
        )
    })
}

/// Whether the environment may carry `name`.
pub fn in_env(name: &str) -> bool {
    get(name).is_some_and(|i| {
        matches!(
            i.sources,
            Sources::All | Sources::NotInFile(_) | Sources::NoFlag(_)
        )
    })
}

/// Whether a config-file value has the right YAML type for the input; `Err` says what was
/// expected and what came.
pub fn check_file_value(input: &Input, v: &serde_json::Value) -> Result<(), String> {
    use serde_json::Value as V;
    let got = match v {
        V::Null => "nothing",
        V::Bool(_) => "true/false",
        V::Number(_) => "a number",
        V::String(_) => "text",
        V::Array(_) => "a list",
        V::Object(_) => "a map",
    };
    let fits = match (input.kind, v) {
        (_, V::Null) => true,
        (Kind::Bool, V::Bool(_) | V::String(_)) => true,
        (Kind::Number | Kind::Duration | Kind::Count, V::Number(_) | V::String(_)) => true,
        (Kind::Text | Kind::Choice | Kind::Url | Kind::Path, V::String(_) | V::Number(_)) => true,
        // a description of `yes`: YAML turned it into a boolean; the text is what was meant
        (Kind::Text, V::Bool(_)) => true,
        (Kind::List, V::String(_)) => true,
        (Kind::List, V::Array(items)) => items.iter().all(|x| x.is_string() || x.is_number()),
        (Kind::Json, V::String(_) | V::Array(_) | V::Object(_)) => true,
        (Kind::Structured, V::Array(_) | V::Object(_)) => true,
        _ => false,
    };
    if fits {
        Ok(())
    } else {
        Err(format!("expected {}, got {got}", input.kind.expected()))
    }
}

#[cfg(test)]
mod tests;
