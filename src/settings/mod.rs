//! Raw inputs → validated settings. The one place that reads the environment.
//!
//! Inputs come from four layers, merged once by [`Layers::pick`]: defaults < config file < environment
//! (`MP_RELEASE_<NAME>`, then `INPUT_<NAME>` in both runner spellings) < command-line flags. Every
//! validation error names the input as the user gave it (flag, env var or config key), says what is
//! expected, and happens before anything is sent anywhere.
#![allow(clippy::disallowed_methods)] // reading the environment is this module's job

mod fleet;
mod github;
pub mod inputs;
pub(crate) mod parse;
mod relay;
mod upload;
mod wechat;

pub use fleet::{
    credentials_of, fleet, fleet_run, prune, reports, FleetRunSettings, FleetSettings,
};
pub use github::{
    github, resume, Gating, GitHubSettings, MergeGroup, NewCommit, PullRequest, ResumeSettings,
};
pub use relay::{relay, RelaySettings};
pub use upload::{upload, EngineChoice, UploadSettings};
pub use wechat::{
    pipeline, platform, wechat, PipelineSettings, PlatformSettings, SubmitBody, WeChatSettings,
};

use crate::cli::{Cli, EmulatorArgs, GlobalArgs, VersionArgs};
pub use crate::output::{ActionsEnv, OutputFormat};
use mp_release_core::version::{
    check_preid, check_tag_prefix, BumpRequest, VersionSource, ZeroMajorRules,
};
pub(crate) use parse::parse_bool;
use semver::Version;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// A snapshot of the process environment, taken once at start-up.
#[derive(Debug, Clone, Default)]
pub struct Env(BTreeMap<String, String>);

impl Env {
    /// Captures the real environment (non-UTF-8 values are converted lossily).
    pub fn capture() -> Self {
        Self(
            std::env::vars_os()
                .map(|(k, v)| {
                    (
                        k.to_string_lossy().into_owned(),
                        v.to_string_lossy().into_owned(),
                    )
                })
                .collect(),
        )
    }

    /// A value, with empty meaning unset (the runner passes unset Action inputs as "").
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `true` when running as a GitHub Actions step.
    pub fn in_actions(&self) -> bool {
        self.get("GITHUB_ACTIONS") == Some("true")
    }

    /// The env names an input can be read from, in precedence order.
    fn names_for(input: &str) -> [String; 3] {
        let upper = input.to_ascii_uppercase();
        let snake = upper.replace('-', "_");
        [
            format!("MP_RELEASE_{snake}"),
            format!("INPUT_{snake}"),
            format!("INPUT_{upper}"),
        ]
    }

    /// Every secret value visible to the process: secret inputs from the environment and from argv.
    pub fn secrets(&self, argv: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        for input in inputs::secrets() {
            let values = self.values_of(input, argv);
            if inputs::get(input).is_some_and(|i| i.kind == inputs::Kind::Url) {
                out.extend(values.iter().flat_map(|v| key_parts(v)));
            }
            out.extend(values);
        }
        // A proxy's password, in https-proxy or in the proxy variables, is a secret too.
        let proxies = PROXY_VARS
            .iter()
            .filter_map(|n| self.get(n).map(str::to_owned))
            .chain(self.values_of("https-proxy", argv));
        out.extend(proxies.filter_map(|p| proxy_password(&p)));
        out.retain(|s| !s.is_empty());
        out
    }

    /// The values `input` has in the environment and on the command line.
    fn values_of(&self, input: &str, argv: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Self::names_for(input)
            .iter()
            .filter_map(|n| self.get(n).map(str::to_owned))
            .collect();
        let flag = format!("--{input}");
        let mut it = argv.iter();
        while let Some(a) = it.next() {
            if *a == flag {
                out.extend(it.next().cloned());
            } else if let Some(v) = a.strip_prefix(&format!("{flag}=")) {
                out.push(v.to_owned());
            }
        }
        out
    }
}

/// The proxy variables honoured (as curl reads them).
const PROXY_VARS: &[&str] = &[
    "https_proxy",
    "HTTPS_PROXY",
    "http_proxy",
    "HTTP_PROXY",
    "all_proxy",
    "ALL_PROXY",
];

/// The password of a proxy URL, decoded (the redactor covers its encoded forms).
fn proxy_password(proxy: &str) -> Option<String> {
    let u = crate::adapters::http::parse_proxy(proxy).ok()?;
    let pw = u.password()?;
    Some(
        percent_encoding::percent_decode_str(pw)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

/// How the user named an input; error messages use it so the user can find what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `--flag`.
    Flag(String),
    /// An environment variable.
    Env(String),
    /// A key in the config file.
    Config { file: PathBuf, key: String },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flag(n) => write!(f, "--{n}"),
            Self::Env(n) => write!(f, "{n}"),
            Self::Config { file, key } => write!(f, "`{key}` in {}", file.display()),
        }
    }
}

/// Bad input: exit code 2, and nothing was sent or written.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UsageError {
    /// The full message: which input, what is wrong, what to do.
    pub message: String,
}

impl UsageError {
    /// An error about one input.
    pub fn input(origin: &Origin, what: impl fmt::Display) -> Self {
        Self {
            message: format!("invalid {origin}: {what}"),
        }
    }

    /// An error not tied to one input.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// How deeply `text` nests, counting open brackets and `- ` list markers on one line (a cheap
/// bound taken before the YAML parser sees the text).
fn nesting(text: &str) -> usize {
    let mut flow = 0usize;
    let mut deepest = 0usize;
    for line in text.lines() {
        let t = line.trim_start();
        let mut dashes = 0;
        let mut rest = t;
        while let Some(r) = rest.strip_prefix("- ") {
            dashes += 1;
            rest = r.trim_start();
        }
        let indent = (line.len() - t.len()) / 2;
        for c in line.chars() {
            match c {
                '[' | '{' => flow += 1,
                ']' | '}' => flow = flow.saturating_sub(1),
                _ => {}
            }
            deepest = deepest.max(flow);
        }
        deepest = deepest.max(indent + dashes);
    }
    deepest
}

/// Reads a file input: a regular file only (a FIFO or a device would block or never end) and at
/// most `cap` bytes.
pub(crate) fn read_bounded(path: &Path, cap: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > cap {
        return Err(format!("larger than {} KiB", cap >> 10));
    }
    let mut out = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(cap + 1).read_to_end(&mut out))
        .map_err(|e| e.to_string())?;
    if out.len() as u64 > cap {
        return Err(format!("larger than {} KiB", cap >> 10));
    }
    Ok(out)
}

/// An output file mp-release will write: an existing regular file, or a new name in an existing
/// directory. Checked before anything is sent, so a release never ends on "cannot write".
pub(crate) fn writable_file(p: &Path) -> Result<(), String> {
    if p.is_dir() {
        return Err(format!("{} is a directory; give a file name", p.display()));
    }
    if p.exists() && !p.is_file() {
        return Err(format!("{} is not a regular file", p.display()));
    }
    if p.exists() && std::fs::metadata(p).is_ok_and(|m| m.permissions().readonly()) {
        return Err(format!("{} is read-only", p.display()));
    }
    match p.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => Err(format!(
            "directory {} does not exist; create it or pick another path",
            dir.display()
        )),
        _ => Ok(()),
    }
}

/// [`read_bounded`] as UTF-8 text, with the path in the message.
pub(crate) fn read_text(path: &Path, cap: u64) -> Result<String, String> {
    let bytes =
        read_bounded(path, cap).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8 text", path.display()))
}

/// The config file (YAML): a map from input names to values.
#[derive(Debug, Default)]
pub struct ConfigFile(BTreeMap<String, serde_json::Value>);

/// The largest config file read, and the deepest nesting parsed: a config file is a page of
/// settings, and a YAML parser given 100,000 nested brackets spends minutes before failing.
const MAX_CONFIG_BYTES: u64 = 256 << 10;
const MAX_CONFIG_DEPTH: usize = 32;

impl ConfigFile {
    fn parse(text: &str, file: &Path) -> Result<Self, UsageError> {
        let whole = |e: String| {
            UsageError::new(format!(
                "config file {}: {e} (keys are the input names, e.g. `bump: minor`)",
                file.display()
            ))
        };
        if nesting(text) > MAX_CONFIG_DEPTH {
            return Err(whole(format!(
                "nested more than {MAX_CONFIG_DEPTH} levels deep; a config file holds input names and their values"
            )));
        }
        let map: BTreeMap<String, serde_json::Value> =
            serde_norway::from_str(text).map_err(|e| whole(e.to_string()))?;
        for (k, v) in &map {
            let origin = Origin::Config {
                file: file.to_owned(),
                key: k.clone(),
            };
            let Some(input) = inputs::get(k).filter(|_| inputs::in_file(k)) else {
                let known: Vec<&str> = inputs::INPUTS
                    .iter()
                    .filter(|i| inputs::in_file(i.name))
                    .map(|i| i.name)
                    .collect();
                return Err(whole(format!(
                    "unknown field `{k}`, expected one of {}",
                    known.join(", ")
                )));
            };
            inputs::check_file_value(input, v).map_err(|e| UsageError::input(&origin, e))?;
        }
        Ok(Self(map))
    }

    /// A scalar as text (numbers and booleans too); a JSON input's map or list as its JSON text.
    /// (Every value was type-checked against the input table when the file was read.)
    fn scalar(&self, key: &str) -> Option<String> {
        match self.0.get(key)? {
            serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::Bool(b) => Some(b.to_string()),
            v @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))
                if inputs::get(key).is_some_and(|i| i.kind == inputs::Kind::Json) =>
            {
                Some(v.to_string())
            }
            _ => None,
        }
    }

    /// A structured value (`review-items`, `ugc-declare`, `write`).
    pub fn value(&self, key: &str) -> Option<&serde_json::Value> {
        self.0.get(key)
    }
}

/// The merged layers; `pick` answers "what is the value of input X and where did it come from".
#[derive(Debug)]
pub struct Layers<'a> {
    env: &'a Env,
    file: Option<(PathBuf, ConfigFile)>,
}

impl<'a> Layers<'a> {
    /// Loads the config file named by `--config` / env, or `.mp-release.yml` if it exists.
    pub fn load(env: &'a Env, global: &GlobalArgs, cwd: &Path) -> Result<Self, UsageError> {
        let named = match &global.config {
            Some(p) if !p.is_empty() => Some((p.clone(), Origin::Flag("config".into()))),
            _ => Env::names_for("config")
                .into_iter()
                .find_map(|n| env.get(&n).map(|v| (v.to_owned(), Origin::Env(n)))),
        };
        let (path, origin) = match named {
            Some((p, o)) => (cwd.join(p), Some(o)),
            None => {
                let default = cwd.join(".mp-release.yml");
                if !default.is_file() {
                    return Ok(Self { env, file: None });
                }
                (default, None)
            }
        };
        let text = read_text(&path, MAX_CONFIG_BYTES).map_err(|e| match &origin {
            Some(o) => UsageError::input(o, format_args!("config file: {e}")),
            None => UsageError::new(format!("config file: {e}")),
        })?;
        let file: ConfigFile = if text.trim().is_empty() {
            ConfigFile::default()
        } else {
            ConfigFile::parse(&text, &path)?
        };
        Ok(Self {
            env,
            file: Some((path, file)),
        })
    }

    /// The value of input `name` (kebab-case) and its origin: flag, then env, then config file.
    /// `name` must be in the input table ([`inputs::INPUTS`]); the sources it allows are read.
    pub fn pick(&self, name: &str, flag: Option<&str>) -> Option<(String, Origin)> {
        debug_assert!(
            inputs::get(name).is_some(),
            "input {name} is not in the input table"
        );
        if let Some(v) = flag.filter(|v| !v.is_empty()) {
            return Some((v.to_owned(), Origin::Flag(name.to_owned())));
        }
        if inputs::in_env(name) {
            for n in Env::names_for(name) {
                if let Some(v) = self.env.get(&n) {
                    return Some((v.to_owned(), Origin::Env(n)));
                }
            }
        }
        if !inputs::in_file(name) {
            return None;
        }
        let (file, cfg) = self.file.as_ref()?;
        cfg.scalar(name).map(|v| {
            (
                v,
                Origin::Config {
                    file: file.clone(),
                    key: name.to_owned(),
                },
            )
        })
    }

    /// The secret inputs' values given in the config file (masked and redacted like the others).
    pub fn file_secrets(&self) -> Vec<String> {
        let Some((_, cfg)) = &self.file else {
            return Vec::new();
        };
        // The `notify:` list's webhook URLs (and their keys) and signing secrets.
        let chats: Vec<String> = match cfg.value("notify") {
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(serde_json::Value::as_object)
                .flat_map(|m| m.iter())
                .filter_map(|(k, v)| {
                    let v = v.as_str()?;
                    match k.as_str() {
                        "secret" => Some(vec![v.to_owned()]),
                        "wecom" | "dingtalk" | "feishu" | "slack" => {
                            let mut parts = key_parts(v);
                            parts.push(v.to_owned());
                            Some(parts)
                        }
                        _ => None,
                    }
                })
                .flatten()
                .collect(),
            _ => Vec::new(),
        };
        inputs::secrets()
            .filter_map(|name| cfg.scalar(name).map(|v| (name, v)))
            .flat_map(|(name, v)| {
                let mut parts = if inputs::get(name).is_some_and(|i| i.kind == inputs::Kind::Url) {
                    key_parts(&v)
                } else {
                    Vec::new()
                };
                parts.push(v);
                parts
            })
            .chain(cfg.scalar("https-proxy").and_then(|p| proxy_password(&p)))
            .chain(chats)
            .collect()
    }

    /// Where mp-release caches things (the official engine): `$XDG_CACHE_HOME/mp-release`,
    /// `$HOME/.cache/mp-release`, or the temporary directory.
    pub fn default_cache_dir(&self) -> PathBuf {
        match (self.env.get("XDG_CACHE_HOME"), self.env.get("HOME")) {
            (Some(x), _) => PathBuf::from(x).join("mp-release"),
            (None, Some(h)) => PathBuf::from(h).join(".cache/mp-release"),
            (None, None) => std::env::temp_dir().join("mp-release-cache"),
        }
    }

    /// A structured value from the config file, with its origin.
    pub fn file_value(&self, key: &str) -> Option<(serde_json::Value, Origin)> {
        let (file, cfg) = self.file.as_ref()?;
        cfg.value(key).cloned().map(|v| {
            (
                v,
                Origin::Config {
                    file: file.clone(),
                    key: key.to_owned(),
                },
            )
        })
    }

    /// An environment variable a file names (a fleet app's `refresh-token-env`).
    pub fn env_var(&self, name: &str) -> Option<&str> {
        self.env.get(name)
    }

    /// A list input: repeated flags, or a newline/comma separated env value, or a YAML list.
    pub(crate) fn pick_list(&self, name: &str, flags: &[String]) -> Vec<(String, Origin)> {
        let flags: Vec<_> = flags.iter().filter(|v| !v.is_empty()).collect();
        if !flags.is_empty() {
            return flags
                .into_iter()
                .map(|v| (v.clone(), Origin::Flag(name.to_owned())))
                .collect();
        }
        for n in Env::names_for(name) {
            if let Some(v) = self.env.get(&n) {
                return v
                    .split(['\n', ','])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| (s.to_owned(), Origin::Env(n.clone())))
                    .collect();
            }
        }
        let Some((file, cfg)) = &self.file else {
            return Vec::new();
        };
        let origin = || Origin::Config {
            file: file.clone(),
            key: name.to_owned(),
        };
        match cfg.value(name) {
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str())
                .map(|s| (s.to_owned(), origin()))
                .collect(),
            Some(serde_json::Value::String(s)) => vec![(s.clone(), origin())],
            _ => Vec::new(),
        }
    }

    pub(crate) fn parse<T>(
        &self,
        name: &str,
        flag: Option<&str>,
        f: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<(T, Origin)>, UsageError> {
        match self.pick(name, flag) {
            None => Ok(None),
            Some((raw, origin)) => match f(&raw) {
                Ok(v) => Ok(Some((v, origin))),
                Err(e) => Err(UsageError::input(&origin, e)),
            },
        }
    }
}

/// Settings shared by every command.
#[derive(Debug, Clone)]
pub struct Globals {
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--output`.
    pub output: OutputFormat,
    /// -2 (errors only) ..= 2 (trace).
    pub verbosity: i8,
    /// `--summary-file` (outside Actions).
    pub summary_file: Option<PathBuf>,
    /// GitHub Actions runtime files, when running there.
    pub actions: Option<ActionsEnv>,
    /// The log filter from MP_RELEASE_LOG or RUST_LOG.
    pub log_filter: Option<String>,
    /// Honour NO_COLOR.
    pub no_color: bool,
    /// The working directory.
    pub cwd: PathBuf,
    /// Proxies and trust roots of every client.
    pub net: crate::adapters::http::Net,
    /// The chats that hear about the run.
    pub notify: NotifySettings,
}

pub use crate::adapters::notify::{NotifySettings, NotifyTarget};

/// The parts of a secret URL that are its key (query values, and path segments of 12 characters
/// or more: WeCom's `key`, DingTalk's `access_token`, Feishu's hook id, Slack's path), masked and
/// redacted on their own too: an error or a proxy log may show one without the rest of the URL.
fn key_parts(value: &str) -> Vec<String> {
    let Ok(u) = url::Url::parse(value.trim()) else {
        return Vec::new();
    };
    u.query_pairs()
        .map(|(_, v)| v.into_owned())
        .chain(u.path_segments().into_iter().flatten().map(str::to_owned))
        .filter(|p| p.len() >= 12)
        .collect()
}

/// `notify-on`'s words (or `all`), checked.
fn events(v: &str) -> Result<Vec<String>, String> {
    use mp_release_core::notify::EVENTS;
    let list = words(v);
    if list.iter().any(|w| w == "all") {
        return Ok(EVENTS.iter().map(|e| (*e).to_owned()).collect());
    }
    match list.iter().find(|w| !EVENTS.contains(&w.as_str())) {
        Some(bad) => Err(format!(
            "unknown event {bad:?}: expected some of {}, or all",
            EVENTS.join(", ")
        )),
        None => Ok(list),
    }
}

/// A list or a comma-separated text, from the config file.
fn file_words(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(a) => Some(
            a.iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => None,
    }
}

/// A chat webhook URL: https, or http on loopback (tests).
fn webhook_url(u: &str) -> Option<url::Url> {
    url::Url::parse(u.trim()).ok().filter(|x| {
        x.scheme() == "https"
            || (x.scheme() == "http"
                && x.host_str()
                    .is_some_and(|h| h == "127.0.0.1" || h == "localhost" || h == "[::1]"))
    })
}

/// The config file's `notify:` list: `- wecom: <url>` (or dingtalk, feishu, slack) with
/// `secret`, `on` and `mention` of its own.
fn file_targets(layers: &Layers<'_>) -> Result<Vec<NotifyTarget>, UsageError> {
    use mp_release_core::notify::Provider;
    let Some((v, origin)) = layers.file_value("notify") else {
        return Ok(Vec::new());
    };
    let bad =
        |i: usize, why: &str| UsageError::input(&origin, format_args!("item {}: {why}", i + 1));
    let serde_json::Value::Array(items) = v else {
        return Err(UsageError::input(&origin, "expected a list of chats: - wecom: <webhook URL> (or dingtalk, feishu, slack), with secret, on and mention if wanted"));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let serde_json::Value::Object(m) = item else {
            return Err(bad(
                i,
                "expected a map such as {wecom: <webhook URL>, on: [rejected, published]}",
            ));
        };
        if let Some(k) = m.keys().find(|k| {
            !matches!(
                k.as_str(),
                "wecom" | "dingtalk" | "feishu" | "slack" | "secret" | "on" | "mention"
            )
        }) {
            return Err(bad(
                i,
                &format!("unknown key {k:?} (wecom, dingtalk, feishu, slack, secret, on, mention)"),
            ));
        }
        let chats: Vec<(Provider, &serde_json::Value)> = [
            (Provider::WeCom, "wecom"),
            (Provider::DingTalk, "dingtalk"),
            (Provider::Feishu, "feishu"),
            (Provider::Slack, "slack"),
        ]
        .into_iter()
        .filter_map(|(p, k)| m.get(k).map(|v| (p, v)))
        .collect();
        let [(provider, url)] = chats.as_slice() else {
            return Err(bad(
                i,
                "name exactly one chat: wecom, dingtalk, feishu or slack",
            ));
        };
        let url = url.as_str().and_then(webhook_url).ok_or_else(|| {
            bad(i, "expected the robot's https:// webhook URL (http:// only on loopback); the value is not shown: it is a secret")
        })?;
        let secret = match m.get("secret") {
            None => None,
            Some(serde_json::Value::String(s))
                if matches!(provider, Provider::DingTalk | Provider::Feishu) =>
            {
                Some(s.clone().into())
            }
            Some(_) => {
                return Err(bad(
                    i,
                    "secret is DingTalk's or Feishu's signing secret (text)",
                ))
            }
        };
        let on = match m.get("on") {
            None => None,
            Some(v) => {
                let text = file_words(v).ok_or_else(|| bad(i, "on: expected a list of events"))?;
                Some(events(&text).map_err(|e| bad(i, &e))?)
            }
        };
        let mentions = match m.get("mention") {
            None => None,
            Some(v) => Some(words(
                &file_words(v).ok_or_else(|| bad(i, "mention: expected a list"))?,
            )),
        };
        out.push(NotifyTarget {
            provider: *provider,
            url,
            secret,
            on,
            mentions,
        });
    }
    Ok(out)
}

/// Comma-, space- or newline-separated words.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| c == ',' || c.is_whitespace())
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn notify(g: &GlobalArgs, layers: &Layers<'_>) -> Result<NotifySettings, UsageError> {
    use mp_release_core::notify::{Provider, DEFAULT_EVENTS};
    let mut targets = Vec::new();
    for (provider, url_name, flag, secret_name, secret_flag) in [
        (
            Provider::WeCom,
            "notify-wecom",
            g.notify_wecom.as_deref(),
            None,
            None,
        ),
        (
            Provider::DingTalk,
            "notify-dingtalk",
            g.notify_dingtalk.as_deref(),
            Some("notify-dingtalk-secret"),
            g.notify_dingtalk_secret.as_deref(),
        ),
        (
            Provider::Feishu,
            "notify-feishu",
            g.notify_feishu.as_deref(),
            Some("notify-feishu-secret"),
            g.notify_feishu_secret.as_deref(),
        ),
        (
            Provider::Slack,
            "notify-slack",
            g.notify_slack.as_deref(),
            None,
            None,
        ),
    ] {
        let secret = match secret_name {
            Some(n) => layers.pick(n, secret_flag),
            None => None,
        };
        let Some((u, origin)) = layers.pick(url_name, flag) else {
            if let Some((_, o)) = secret {
                return Err(UsageError::input(
                    &o,
                    format_args!(
                        "a signing secret without {url_name}: give the robot's webhook URL too"
                    ),
                ));
            }
            continue;
        };
        // The URL is a secret: errors never show it.
        let url = webhook_url(&u)
            .ok_or_else(|| UsageError::input(&origin, "expected the robot's https:// webhook URL (http:// only on loopback, for tests); the value is not shown: it is a secret"))?;
        targets.push(NotifyTarget {
            provider,
            url,
            secret: secret.map(|(s, _)| s.into()),
            on: None,
            mentions: None,
        });
    }
    targets.extend(file_targets(layers)?);
    let on = match layers.pick("notify-on", g.notify_on.as_deref()) {
        None => DEFAULT_EVENTS.iter().map(|e| (*e).to_owned()).collect(),
        Some((v, o)) => events(&v).map_err(|e| UsageError::input(&o, e))?,
    };
    let mentions = layers
        .pick("notify-mention", g.notify_mention.as_deref())
        .map(|(v, _)| words(&v))
        .unwrap_or_default();
    Ok(NotifySettings {
        targets,
        on,
        mentions,
    })
}

/// Validated settings of `mp-release version`.
#[derive(Debug, Clone)]
pub struct VersionSettings {
    /// Where the current version comes from.
    pub source: VersionSource,
    /// What to do to it.
    pub bump: BumpRequest,
    /// Prerelease identifier.
    pub preid: Option<String>,
    /// Version when there is none yet.
    pub initial: Version,
    /// Prefix of release tags.
    pub tag_prefix: String,
    /// The package file for `package.json`.
    pub package_json: PathBuf,
    /// JSON files to write the version into.
    pub write: Vec<PathBuf>,
    /// 0.x rules for auto.
    pub zero: ZeroMajorRules,
}

/// Validates the globals.
pub fn globals(
    cli: &Cli,
    layers: &Layers<'_>,
    env: &Env,
    cwd: &Path,
) -> Result<Globals, UsageError> {
    let g = &cli.global;
    let dry_run = match g.dry_run {
        true => true,
        false => layers
            .parse("dry-run", None, parse_bool)?
            .is_some_and(|(b, _)| b),
    };
    let output = layers
        .parse("output", g.output.as_deref(), |s| match s.trim() {
            "text" => Ok(OutputFormat::Text),
            "json" => Ok(OutputFormat::Json),
            _ => Err("expected text or json".to_owned()),
        })?
        .map_or(OutputFormat::Text, |(v, _)| v);
    // -v/-q count on the command line; elsewhere (INPUT_VERBOSE, the config file) a number 0-2.
    let count = |name: &str, flag: u8| -> Result<i8, UsageError> {
        let given = (flag > 0).then(|| flag.min(2).to_string());
        Ok(layers
            .parse(name, given.as_deref(), |s| match s.trim() {
                "" | "0" | "false" => Ok(0),
                "1" | "true" => Ok(1),
                "2" => Ok(2),
                _ => Err("expected a number from 0 to 2".to_owned()),
            })?
            .map_or(0, |(v, _)| v))
    };
    let (verbose, quiet) = (count("verbose", g.verbose)?, count("quiet", g.quiet)?);
    if verbose > 0 && quiet > 0 {
        return Err(UsageError::new(
            "-v/--verbose and -q/--quiet cannot be used together: pick one",
        ));
    }
    let verbosity = verbose - quiet;
    let summary_file = layers
        .parse("summary-file", g.summary_file.as_deref(), |s| {
            let p = cwd.join(s);
            writable_file(&p)?;
            Ok(p)
        })?
        .map(|(p, _)| p);
    let actions = env.in_actions().then(|| ActionsEnv {
        output_file: env.get("GITHUB_OUTPUT").map(PathBuf::from),
        summary_file: env.get("GITHUB_STEP_SUMMARY").map(PathBuf::from),
    });
    // "Re-run with debug logging" in the Actions UI sets RUNNER_DEBUG=1: debug logs, unless -v/-q
    // or a log filter say otherwise.
    let verbosity = match verbosity {
        0 if env.get("RUNNER_DEBUG") == Some("1")
            && env
                .get("MP_RELEASE_LOG")
                .or_else(|| env.get("RUST_LOG"))
                .is_none() =>
        {
            1
        }
        v => v,
    };
    Ok(Globals {
        dry_run,
        output,
        verbosity,
        summary_file,
        actions,
        log_filter: env
            .get("MP_RELEASE_LOG")
            .or_else(|| env.get("RUST_LOG"))
            .map(str::to_owned),
        no_color: env.get("NO_COLOR").is_some(),
        cwd: cwd.to_owned(),
        net: net(g, layers, env, cwd)?,
        notify: notify(g, layers)?,
    })
}

/// The network policy: `https-proxy` (every host through it) or the proxy variables of the
/// environment, and `ca-file`. A malformed proxy variable is bad input like any other.
fn net(
    g: &GlobalArgs,
    layers: &Layers<'_>,
    env: &Env,
    cwd: &Path,
) -> Result<crate::adapters::http::Net, UsageError> {
    use crate::adapters::http::{parse_proxy, read_ca_file, EnvProxies, Net};
    let explicit = layers
        .parse("https-proxy", g.https_proxy.as_deref(), parse_proxy)?
        .map(|(u, _)| u);
    let proxies = EnvProxies::read(|n| env.get(n).map(str::to_owned)).map_err(|(name, e)| {
        UsageError::input(
            &Origin::Env(name),
            format_args!("{e} (unset it, or give the proxy with https-proxy)"),
        )
    })?;
    let (extra_ca, ca_file) = match layers.pick("ca-file", g.ca_file.as_deref()) {
        None => (Vec::new(), None),
        Some((f, o)) => {
            let path = cwd.join(f);
            let certs = read_bounded(&path, 4 << 20)
                .and_then(|b| read_ca_file(&b))
                .map_err(|e| UsageError::input(&o, format_args!("{}: {e}", path.display())))?;
            (certs, Some(path))
        }
    };
    Ok(Net {
        explicit,
        env: proxies,
        extra_ca,
        ca_file,
    })
}

/// Validates the settings of `mp-release version`.
pub fn version(
    a: &VersionArgs,
    layers: &Layers<'_>,
    cwd: &Path,
) -> Result<VersionSettings, UsageError> {
    let from = layers.parse(
        "version-from",
        a.version_from.as_deref(),
        VersionSource::parse,
    )?;
    // `version: 1.2.3` (what every peer action takes) is `version-from: explicit:1.2.3`.
    let plain = layers.parse("version", None, |s| {
        VersionSource::parse(&format!("explicit:{}", s.trim()))
    })?;
    let source = match (from, plain) {
        (Some((_, a)), Some((_, b))) => {
            return Err(UsageError::new(format!(
                "{a} and {b} are both set: give the version once (version: 1.2.3 is version-from: explicit:1.2.3)"
            )))
        }
        (Some((s, _)), None) | (None, Some((s, _))) => s,
        (None, None) => VersionSource::GitTag { prefix: None },
    };
    let default_bump = match source {
        VersionSource::Explicit(_) => BumpRequest::None,
        _ => BumpRequest::Auto,
    };
    let bump = layers
        .parse("bump", a.bump.as_deref(), BumpRequest::parse)?
        .map_or(default_bump, |(b, _)| b);
    let preid = layers
        .parse("preid", a.preid.as_deref(), |s| {
            check_preid(s.trim())
                .map(|()| s.trim().to_owned())
                .map_err(|e| e.to_string())
        })?
        .map(|(p, _)| p);
    let initial = layers
        .parse("initial-version", a.initial_version.as_deref(), |s| {
            Version::parse(s.trim().trim_start_matches('v'))
                .map_err(|e| format!("expected a semver version such as 0.1.0 ({e})"))
        })?
        .map_or_else(|| Version::new(0, 1, 0), |(v, _)| v);
    let explicit_prefix = layers.parse("tag-prefix", a.tag_prefix.as_deref(), |s| {
        check_tag_prefix(s).map(|()| s.to_owned())
    })?;
    let tag_prefix = match (explicit_prefix, &source) {
        (Some((p, _)), _) => p,
        (None, VersionSource::GitTag { prefix: Some(p) }) => p.clone(),
        (None, _) => "v".to_owned(),
    };
    let package_json = layers
        .pick("package-json", a.package_json.as_deref())
        .map_or_else(|| cwd.join("package.json"), |(p, _)| cwd.join(p));
    let write = layers
        .pick_list("write", &a.write)
        .into_iter()
        .map(|(p, origin)| {
            let path = cwd.join(&p);
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                return Err(UsageError::input(
                    &origin,
                    format_args!("{p:?} is not a .json file; --write updates the top-level \"version\" of a JSON file such as package.json"),
                ));
            }
            Ok(path)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let zero = layers
        .parse(
            "zero-major-rules",
            a.zero_major_rules.as_deref(),
            ZeroMajorRules::parse,
        )?
        .map_or(ZeroMajorRules::default(), |(z, _)| z);
    if preid.is_some()
        && matches!(bump, BumpRequest::Level(l) if !matches!(l.name(), "premajor" | "preminor" | "prepatch" | "prerelease"))
    {
        return Err(UsageError::new(format!(
            "--preid only applies to premajor, preminor, prepatch, prerelease and auto, not to --bump {}; drop --preid or pick a pre* level",
            match bump { BumpRequest::Level(l) => l.name(), _ => "" }
        )));
    }
    Ok(VersionSettings {
        source,
        bump,
        preid,
        initial,
        tag_prefix,
        package_json,
        write,
        zero,
    })
}

/// Validated settings of `mp-release emulator`.
#[derive(Debug, Clone)]
pub struct EmulatorSettings {
    /// Port on 127.0.0.1 (0: any free port).
    pub port: u16,
    /// The scenario, read and checked before anything starts.
    pub scenario: mp_release_emulator::Scenario,
}

/// Validates the settings of `mp-release emulator`.
pub fn emulator(
    a: &EmulatorArgs,
    layers: &Layers<'_>,
    cwd: &Path,
) -> Result<EmulatorSettings, UsageError> {
    let port = layers
        .parse("port", a.port.as_deref(), |s| {
            s.trim()
                .parse::<u16>()
                .map_err(|_| format!("expected a port number 0-65535, got {s:?}"))
        })?
        .map_or(0, |(p, _)| p);
    let scenario = scenario(a.scenario.as_deref(), layers, cwd)?.unwrap_or_default();
    Ok(EmulatorSettings { port, scenario })
}

/// The `scenario` input (the emulator's, and the sandboxes'): a YAML or JSON file, read and
/// checked before anything starts.
pub fn scenario(
    flag: Option<&str>,
    layers: &Layers<'_>,
    cwd: &Path,
) -> Result<Option<mp_release_emulator::Scenario>, UsageError> {
    Ok(layers
        .parse("scenario", flag, |s| {
            let path = cwd.join(s);
            let text = read_text(&path, MAX_CONFIG_BYTES)?;
            mp_release_emulator::Scenario::from_yaml(&text)
                .map_err(|e| format!("{}: {e}", path.display()))
        })?
        .map(|(s, _)| s))
}

/// The appid input on its own (for commands that need nothing else of WeChat).
pub fn appid(flag: Option<&str>, layers: &Layers<'_>) -> Result<String, UsageError> {
    match layers.parse("appid", flag, parse::check_appid)? {
        Some((a, _)) => Ok(a),
        None => Err(UsageError::new(
            "appid is required: give the mini program's appid (wx followed by 16 hex digits)",
        )),
    }
}

/// The `package-sizes` JSON (`[{"name","size","limit"}]`) that `upload` and `preview` output.
pub fn package_sizes(
    flag: Option<&str>,
    layers: &Layers<'_>,
) -> Result<Vec<(String, u64, u64)>, UsageError> {
    let parsed = layers.parse("package-sizes", flag, |s| {
        let v: serde_json::Value = serde_json::from_str(s)
            .map_err(|e| format!("expected the package-sizes output of preview (JSON): {e}"))?;
        v.as_array()
            .ok_or_else(|| "expected a JSON list".to_owned())?
            .iter()
            .map(
                |p| match (p["name"].as_str(), p["size"].as_u64(), p["limit"].as_u64()) {
                    (Some(n), Some(s), Some(l)) => Ok((n.to_owned(), s, l)),
                    _ => Err(format!(
                        "expected {{\"name\", \"size\", \"limit\"}} entries, got {p}"
                    )),
                },
            )
            .collect::<Result<Vec<_>, String>>()
    })?;
    Ok(parsed.map(|(v, _)| v).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env(pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect())
    }

    #[test]
    fn precedence_flag_env_file() {
        let e = env(&[
            ("INPUT_BUMP", "minor"),
            ("INPUT_PREID", ""),
            ("INPUT_TAG-PREFIX", "app-"),
        ]);
        let cfg = ConfigFile::parse(
            "bump: major
preid: rc
",
            Path::new("c.yml"),
        )
        .unwrap();
        let layers = Layers {
            env: &e,
            file: Some(("c.yml".into(), cfg)),
        };
        assert_eq!(layers.pick("bump", Some("patch")).unwrap().0, "patch");
        assert_eq!(
            layers.pick("bump", None).unwrap(),
            ("minor".into(), Origin::Env("INPUT_BUMP".into()))
        );
        // empty env value = unset, so the file wins
        assert_eq!(layers.pick("preid", None).unwrap().0, "rc");
        // the hyphenated spelling the runner produces for JS/Docker actions
        assert_eq!(
            layers.pick("tag-prefix", None).unwrap().1,
            Origin::Env("INPUT_TAG-PREFIX".into())
        );
        let e2 = env(&[("INPUT_BUMP", "minor"), ("MP_RELEASE_BUMP", "patch")]);
        let layers2 = Layers {
            env: &e2,
            file: None,
        };
        assert_eq!(layers2.pick("bump", None).unwrap().0, "patch");
    }

    #[test]
    fn config_files_are_bounded_and_typed() {
        let deep = format!(
            "review-items: {}{}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let t = std::time::Instant::now();
        let e = ConfigFile::parse(&deep, Path::new("c.yml")).unwrap_err();
        assert!(e.message.contains("nested more than 32"), "{}", e.message);
        assert!(t.elapsed() < std::time::Duration::from_secs(2));
        let dashes = format!("write:\n{}x\n", "- ".repeat(10_000));
        assert!(ConfigFile::parse(&dashes, Path::new("c.yml")).is_err());
        let e = ConfigFile::parse("gray-percentage: [30]\n", Path::new("c.yml")).unwrap_err();
        assert_eq!(
            e.message,
            "invalid `gray-percentage` in c.yml: expected a number, got a list"
        );
        let e = ConfigFile::parse("virtual-clock: true\n", Path::new("c.yml")).unwrap_err();
        assert!(
            e.message.contains("unknown field `virtual-clock`"),
            "{}",
            e.message
        );
        let e = ConfigFile::parse("verbose: [2]\n", Path::new("c.yml")).unwrap_err();
        assert!(e.message.contains("from 0 to 2"), "{}", e.message);
        // a FIFO, a device or a huge file is refused without reading it
        assert!(read_bounded(Path::new("/dev/zero"), 1024)
            .unwrap_err()
            .contains("not a regular file"));
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'a'; 2048]).unwrap();
        assert!(read_bounded(&big, 1024)
            .unwrap_err()
            .contains("larger than 1 KiB"));
        assert_eq!(read_bounded(&big, 4096).unwrap().len(), 2048);
    }

    #[test]
    fn secrets_from_env_and_argv() {
        let e = env(&[
            ("INPUT_PRIVATE-KEY", "k1"),
            ("MP_RELEASE_ACCESS_TOKEN", "t1"),
            ("INPUT_BUMP", "x"),
        ]);
        let argv: Vec<String> = ["mp-release", "--app-secret", "s1", "--github-token=g1"]
            .map(String::from)
            .to_vec();
        let mut s = e.secrets(&argv);
        s.sort();
        assert_eq!(s, ["g1", "k1", "s1", "t1"]);
    }
}
