//! Fleets: one template released to many merchant mini programs of a third-party platform.
//!
//! Pure, like the rest of the core: the fleet file's schema and its per-app `ext_json`
//! templating; the plan (which apps, what each does, the review quota it needs against what is
//! left, shards for a job matrix); and the report (each app's outcome from its pipeline state,
//! shard reports merged, a job summary that stays under GitHub's 1 MiB cap for thousands of apps).
//! The binary gathers the facts (authorizer list, quota, saved states), asks for the plan, runs
//! every planned app through the single-app pipeline, and renders the report.

use crate::pipeline::{Outcome, Stage, State};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// The fleet file (YAML; `deny_unknown_fields` at every level).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FleetFile {
    /// The template to commit: its id, or `new` (made from this run's upload of the development
    /// mini program by the template flow).
    pub template: TemplateSource,
    /// The `user_version` every app gets (default: the template's).
    #[serde(default)]
    pub version: Option<String>,
    /// The `user_desc` of each commit (default `mp-release <version>`).
    #[serde(default)]
    pub desc: Option<String>,
    /// Variables every app's `ext_json` may use (an app's own `vars` win).
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// The default `ext_json` (default `{"extAppid": "{{appid}}"}`).
    #[serde(default)]
    pub ext_json: Option<ExtJson>,
    /// What goes into each `submit_audit`.
    #[serde(default)]
    pub review: ReviewSpec,
    /// `on-approval` (default) or `never`.
    #[serde(default)]
    pub publish: Option<PublishRule>,
    /// Phased release percentage (1–100); a full release when absent.
    #[serde(default)]
    pub gray_percentage: Option<u32>,
    /// `all` (every authorizer of the platform) or the apps, each with its settings.
    pub apps: Apps,
    /// With `apps: all`: settings for some of them (labels, vars, overrides, skip).
    #[serde(default)]
    pub overrides: Vec<AppEntry>,
    /// The platform's token service, for the apps without `refresh-token-env`: their authorizer
    /// tokens come from it instead of refresh tokens from the authorizer list.
    #[serde(default)]
    pub token_service: Option<TokenService>,
}

/// A token service: `GET url?appid=…` answers `{authorizer_access_token, expires_in}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TokenService {
    /// The service's URL (http or https).
    pub url: String,
    /// The environment variable holding a bearer token for it, if it wants one.
    #[serde(default)]
    pub auth_env: Option<String>,
}

/// Where the template comes from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum TemplateSource {
    /// A template id from `gettemplatelist`.
    Id(u64),
    /// `new`: the template flow makes it.
    Word(String),
}

/// The apps of a fleet.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Apps {
    /// `all`.
    All(String),
    /// The listed apps.
    List(Vec<AppEntry>),
}

impl<'de> Deserialize<'de> for Apps {
    /// By hand, so that an error inside an app says which app and which field (an untagged enum
    /// would only say that nothing matched).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match Value::deserialize(d)? {
            Value::String(s) => Ok(Self::All(s)),
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| {
                    let appid = v
                        .get("appid")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_owned();
                    serde_json::from_value(v)
                        .map_err(|e| D::Error::custom(format!("apps[{i}] ({appid}): {e}")))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Self::List),
            _ => Err(D::Error::custom("apps: expected all or a list of apps")),
        }
    }
}

/// `publish`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PublishRule {
    /// Publish when approved.
    OnApproval,
    /// Stop at approved.
    Never,
}

/// `ext_json`: inline (a map whose text may use `{{variables}}`), or a file holding one.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum ExtJson {
    /// `{file: path}`, relative to the fleet file; read by the binary before planning.
    File {
        /// The path.
        file: String,
    },
    /// The document itself.
    Inline(Map<String, Value>),
}

/// What goes into `submit_audit`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReviewSpec {
    /// `version_desc`.
    #[serde(default)]
    pub version_desc: Option<String>,
    /// `item_list` (1 to 5 items).
    #[serde(default)]
    pub items: Option<Vec<Value>>,
    /// `privacy_api_not_use`.
    #[serde(default)]
    pub privacy_api_not_use: Option<bool>,
}

/// One app's entry.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AppEntry {
    /// The merchant mini program.
    pub appid: String,
    /// Labels for `--select label=…`.
    #[serde(default)]
    pub labels: Vec<String>,
    /// A group for `--select group=…` and the report.
    #[serde(default)]
    pub group: Option<String>,
    /// Variables for its `ext_json`.
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// Its own `ext_json` (else the fleet's).
    #[serde(default)]
    pub ext_json: Option<ExtJson>,
    /// The environment variable holding its `authorizer_refresh_token` (else the platform's
    /// authorizer list).
    #[serde(default)]
    pub refresh_token_env: Option<String>,
    /// Its publish rule.
    #[serde(default)]
    pub publish: Option<PublishRule>,
    /// Its phased-release percentage.
    #[serde(default)]
    pub gray_percentage: Option<u32>,
    /// Its review settings (each field given wins over the fleet's).
    #[serde(default)]
    pub review: Option<ReviewSpec>,
    /// Leave it out of this release, with the reason.
    #[serde(default)]
    pub skip: Option<String>,
}

impl AppEntry {
    fn bare(appid: &str) -> Self {
        Self {
            appid: appid.to_owned(),
            labels: Vec::new(),
            group: None,
            vars: BTreeMap::new(),
            ext_json: None,
            refresh_token_env: None,
            publish: None,
            gray_percentage: None,
            review: None,
            skip: None,
        }
    }
}

fn is_env_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl FleetFile {
    /// Parses the file's content (as a JSON value: the binary reads the YAML) and checks what
    /// the types cannot: appids, duplicates, percentages, names, the template word.
    pub fn from_value(v: Value) -> Result<Self, String> {
        let f: Self = serde_json::from_value(v).map_err(|e| e.to_string())?;
        f.check()?;
        Ok(f)
    }

    fn check(&self) -> Result<(), String> {
        if let TemplateSource::Word(w) = &self.template {
            if w != "new" {
                return Err(format!(
                    "template: expected a template id or new, got {w:?}"
                ));
            }
        }
        if let Apps::All(w) = &self.apps {
            if w != "all" {
                return Err(format!("apps: expected all or a list of apps, got {w:?}"));
            }
        }
        if matches!(self.apps, Apps::List(_)) && !self.overrides.is_empty() {
            return Err(
                "overrides only apply with apps: all; put the settings on the apps of the list"
                    .into(),
            );
        }
        if let Some(v) = &self.version {
            if v.is_empty() || v.chars().count() > 64 {
                return Err(format!(
                    "version: 1 to 64 characters (WeChat's user_version), got {} characters",
                    v.chars().count()
                ));
            }
        }
        if let Some(t) = &self.token_service {
            if !(t.url.starts_with("https://") || t.url.starts_with("http://")) {
                return Err(format!(
                    "token-service: url must be http(s), got {:?}",
                    t.url
                ));
            }
            if t.auth_env.as_deref().is_some_and(|n| !is_env_name(n)) {
                return Err("token-service: auth-env must name an environment variable (letters, digits, _)".into());
            }
        }
        check_percentage("gray-percentage", self.gray_percentage)?;
        check_review("review", &self.review)?;
        let entries: Vec<&AppEntry> = match &self.apps {
            Apps::List(l) => l.iter().collect(),
            Apps::All(_) => self.overrides.iter().collect(),
        };
        if matches!(self.apps, Apps::List(ref l) if l.is_empty()) {
            return Err("apps: the list is empty".into());
        }
        let mut seen = BTreeSet::new();
        for (i, e) in entries.iter().enumerate() {
            let at = format!("apps[{i}] ({})", e.appid);
            if !crate::wechat::is_appid(&e.appid) {
                return Err(format!("{at}: appid must be wx followed by 16 hex digits"));
            }
            if !seen.insert(e.appid.as_str()) {
                return Err(format!("{at}: listed twice"));
            }
            check_percentage(&format!("{at}: gray-percentage"), e.gray_percentage)?;
            if let Some(r) = &e.review {
                check_review(&format!("{at}: review"), r)?;
            }
            if let Some(n) = &e.refresh_token_env {
                if !is_env_name(n) {
                    return Err(format!(
                        "{at}: refresh-token-env must name an environment variable (letters, digits, _), got {n:?}"
                    ));
                }
            }
            for l in &e.labels {
                if l.is_empty() || l.contains([',', '=']) {
                    return Err(format!(
                        "{at}: label {l:?}: labels are non-empty and hold no ',' or '='"
                    ));
                }
            }
        }
        Ok(())
    }

    /// The `{file: …}` paths of `ext_json`s, for the binary to read.
    pub fn ext_files(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut add = |e: &Option<ExtJson>| {
            if let Some(ExtJson::File { file }) = e {
                if !out.contains(file) {
                    out.push(file.clone());
                }
            }
        };
        add(&self.ext_json);
        match &self.apps {
            Apps::List(l) => l.iter().for_each(|e| add(&e.ext_json)),
            Apps::All(_) => self.overrides.iter().for_each(|e| add(&e.ext_json)),
        }
        out
    }
}

fn check_percentage(at: &str, p: Option<u32>) -> Result<(), String> {
    match p {
        Some(p) if !(1..=100).contains(&p) => {
            Err(format!("{at}: a percentage from 1 to 100, got {p}"))
        }
        _ => Ok(()),
    }
}

fn check_review(at: &str, r: &ReviewSpec) -> Result<(), String> {
    if let Some(items) = &r.items {
        if !(1..=5).contains(&items.len()) {
            return Err(format!(
                "{at}: items: WeChat accepts 1 to 5 review items, got {}",
                items.len()
            ));
        }
    }
    if let Some(d) = &r.version_desc {
        if d.chars().count() > 1000 {
            return Err(format!(
                "{at}: version-desc: at most 1,000 characters, got {}",
                d.chars().count()
            ));
        }
    }
    Ok(())
}

/// Fills `{{name}}` in every string (keys too) of `doc` from `vars`; an unknown name is an error.
/// Values are substituted into parsed strings, so a variable can never change the JSON's shape.
pub fn render_ext(
    doc: &Map<String, Value>,
    vars: &BTreeMap<String, String>,
) -> Result<Value, String> {
    fn text(s: &str, vars: &BTreeMap<String, String>) -> Result<String, String> {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(i) = rest.find("{{") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let Some(j) = after.find("}}") else {
                return Err(format!("an unclosed {{{{ in {s:?}"));
            };
            let name = after[..j].trim();
            match vars.get(name) {
                Some(v) => out.push_str(v),
                None => {
                    return Err(format!(
                        "unknown variable {{{{{name}}}}} (known: {})",
                        vars.keys().cloned().collect::<Vec<_>>().join(", ")
                    ))
                }
            }
            rest = &after[j + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }
    fn walk(v: &Value, vars: &BTreeMap<String, String>) -> Result<Value, String> {
        Ok(match v {
            Value::String(s) => Value::String(text(s, vars)?),
            Value::Array(a) => {
                Value::Array(a.iter().map(|x| walk(x, vars)).collect::<Result<_, _>>()?)
            }
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, x) in m {
                    out.insert(text(k, vars)?, walk(x, vars)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }
    walk(&Value::Object(doc.clone()), vars)
}

/// One authorizer of the platform as the binary found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorizer {
    /// `authorizer_appid`.
    pub appid: String,
    /// The list item carried a refresh token.
    pub refresh_listed: bool,
    /// Permission set 18 granted (`api_get_authorizer_info`); `None` when not asked.
    pub set18: Option<bool>,
}

/// `--select key=value[,value…]`: `label`, `group` or `appid`; several selectors must all match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selector {
    /// `label`, `group` or `appid`.
    pub key: String,
    /// Any of these.
    pub values: Vec<String>,
}

impl Selector {
    /// Parses `key=value[,value…]`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let Some((k, v)) = s.split_once('=') else {
            return Err(format!(
                "expected label=…, group=… or appid=… (values separated by commas), got {s:?}"
            ));
        };
        let key = k.trim().to_owned();
        if !matches!(key.as_str(), "label" | "group" | "appid") {
            return Err(format!(
                "expected label, group or appid before '=', got {key:?}"
            ));
        }
        let values: Vec<String> = v
            .split(',')
            .map(|x| x.trim().to_owned())
            .filter(|x| !x.is_empty())
            .collect();
        if values.is_empty() {
            return Err(format!("{key}= needs a value"));
        }
        Ok(Self { key, values })
    }

    fn matches(&self, e: &AppEntry) -> bool {
        match self.key.as_str() {
            "label" => e.labels.iter().any(|l| self.values.contains(l)),
            "group" => e.group.as_ref().is_some_and(|g| self.values.contains(g)),
            _ => self.values.contains(&e.appid),
        }
    }
}

/// Where an app's refresh token comes from (the plan names the source, never the token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefreshSource {
    /// This environment variable.
    Env(String),
    /// The platform's authorizer list.
    Listed,
    /// The fleet file's token service (an authorizer token, not a refresh token).
    Service,
}

/// One app the plan releases to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PlannedApp {
    /// The appid.
    pub appid: String,
    /// Its labels.
    pub labels: Vec<String>,
    /// Its group.
    pub group: Option<String>,
    /// The `ext_json` to commit (rendered).
    pub ext_json: String,
    /// Where its refresh token comes from.
    pub refresh: RefreshSource,
    /// Stop at approved.
    pub publish_never: bool,
    /// Phased release percentage.
    pub gray_percentage: Option<u32>,
    /// `version_desc`.
    pub version_desc: Option<String>,
    /// `item_list`.
    pub items: Option<Vec<Value>>,
    /// `privacy_api_not_use`.
    pub privacy_api_not_use: bool,
    /// Whether it still needs a submission (and so a unit of the platform's quota).
    pub submits: bool,
}

/// Why an app is left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipKind {
    /// The fleet file says so.
    Skipped,
    /// Not among the platform's authorizers.
    NotAuthorized,
    /// The authorizer list has no refresh token for it and the file names none.
    NoRefreshToken,
    /// It did not grant permission set 18 (code management would answer 61007).
    NoPermission,
    /// Its `ext_json` could not be made.
    InvalidExtJson,
    /// Past `max-submits`: not submitted so the platform's quota is not run out.
    OverBudget,
}

impl SkipKind {
    /// The word in reports.
    pub fn word(self) -> &'static str {
        match self {
            Self::Skipped => "skipped",
            Self::NotAuthorized => "not-authorized",
            Self::NoRefreshToken => "no-refresh-token",
            Self::NoPermission => "no-permission",
            Self::InvalidExtJson => "invalid-ext-json",
            Self::OverBudget => "not-submitted",
        }
    }
}

/// An app left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct SkippedApp {
    /// The appid.
    pub appid: String,
    /// Why.
    pub kind: SkipKind,
    /// In words.
    pub reason: String,
    /// Its labels.
    pub labels: Vec<String>,
}

/// The plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Plan {
    /// The template to commit (`None`: made by the template flow at run time).
    pub template_id: Option<u64>,
    /// The version every app gets.
    pub version: String,
    /// The `user_desc` of each commit.
    pub desc: String,
    /// The apps, by appid.
    pub apps: Vec<PlannedApp>,
    /// The apps left out, by appid.
    pub skipped: Vec<SkippedApp>,
    /// Apps the selectors left out (not listed).
    pub not_selected: usize,
    /// Submissions the plan makes.
    pub submits: u32,
    /// The platform's quota left when planned (`queryquota` `rest`).
    pub quota_rest: Option<u32>,
    /// `max-submits`.
    pub max_submits: Option<u32>,
}

/// What the binary found out before planning.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The platform's authorizers (`None` when not read: then `apps: all` cannot be planned).
    pub authorizers: Option<&'a [Authorizer]>,
    /// The template, if known now.
    pub template_id: Option<u64>,
    /// The version (the file's, else the template's).
    pub version: &'a str,
    /// `queryquota` `rest`.
    pub quota_rest: Option<u32>,
    /// `max-submits`.
    pub max_submits: Option<u32>,
    /// Selectors.
    pub select: &'a [Selector],
    /// Apps whose saved state shows they were submitted already (they need no quota).
    pub submitted: &'a BTreeSet<String>,
    /// `{file: …}` contents, by path.
    pub files: &'a BTreeMap<String, Map<String, Value>>,
}

/// Why there is no plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The platform would run out of review quota midway.
    #[error("the plan submits {needed} apps but the platform's review quota has {rest} left this month (queryquota; WeChat counts 85085 across all apps, and bulk submissions that fail can cost quota as a sanction): give max-submits {rest} or less to submit that many and report the rest as not submitted, or narrow the fleet with select")]
    Quota {
        /// Submissions needed.
        needed: u32,
        /// Quota left.
        rest: u32,
    },
    /// `max-submits` over the quota.
    #[error("max-submits is {max} but the platform's review quota has {rest} left this month: give {rest} or less")]
    BudgetOverQuota {
        /// max-submits.
        max: u32,
        /// rest.
        rest: u32,
    },
    /// `apps: all` without the authorizer list.
    #[error("apps: all needs the platform's authorizer list (api_get_authorizer_list), which could not be read")]
    NoAuthorizers,
}

/// Plans the fleet: every app in appid order, planned or left out with its reason.
pub fn plan(file: &FleetFile, facts: &Facts<'_>) -> Result<Plan, PlanError> {
    let listed: Option<BTreeMap<&str, &Authorizer>> = facts
        .authorizers
        .map(|a| a.iter().map(|x| (x.appid.as_str(), x)).collect());
    let entries: Vec<AppEntry> = match &file.apps {
        Apps::List(l) => l.clone(),
        Apps::All(_) => {
            let Some(listed) = &listed else {
                return Err(PlanError::NoAuthorizers);
            };
            let overrides: BTreeMap<&str, &AppEntry> = file
                .overrides
                .iter()
                .map(|e| (e.appid.as_str(), e))
                .collect();
            let mut all: Vec<AppEntry> = listed
                .keys()
                .map(|a| {
                    overrides
                        .get(a)
                        .map_or_else(|| AppEntry::bare(a), |e| (*e).clone())
                })
                .collect();
            // An override for an app that is not (or no longer) an authorizer is reported too.
            for e in &file.overrides {
                if !listed.contains_key(e.appid.as_str()) {
                    all.push(e.clone());
                }
            }
            all
        }
    };
    let mut entries = entries;
    entries.sort_by(|a, b| a.appid.cmp(&b.appid));
    let mut apps = Vec::new();
    let mut skipped = Vec::new();
    let mut not_selected = 0;
    let skip = |e: &AppEntry, kind: SkipKind, reason: String| SkippedApp {
        appid: e.appid.clone(),
        kind,
        reason,
        labels: e.labels.clone(),
    };
    for e in &entries {
        if !facts.select.iter().all(|s| s.matches(e)) {
            not_selected += 1;
            continue;
        }
        if let Some(why) = &e.skip {
            skipped.push(skip(
                e,
                SkipKind::Skipped,
                format!("skipped by the fleet file: {why}"),
            ));
            continue;
        }
        let auth = listed.as_ref().map(|l| l.get(e.appid.as_str()).copied());
        if let Some(None) = auth {
            skipped.push(skip(
                e,
                SkipKind::NotAuthorized,
                "not authorized to the platform (not in api_get_authorizer_list): the merchant must authorize it first".into(),
            ));
            continue;
        }
        let auth = auth.flatten();
        if auth.and_then(|a| a.set18) == Some(false) {
            skipped.push(skip(
                e,
                SkipKind::NoPermission,
                "did not grant permission set 18 (小程序开发与数据分析): code management would answer 61007; the merchant must re-authorize with it".into(),
            ));
            continue;
        }
        let refresh = match (&e.refresh_token_env, auth) {
            (Some(n), _) => RefreshSource::Env(n.clone()),
            (None, _) if file.token_service.is_some() => RefreshSource::Service,
            (None, Some(a)) if a.refresh_listed => RefreshSource::Listed,
            (None, Some(_)) => {
                skipped.push(skip(
                    e,
                    SkipKind::NoRefreshToken,
                    "the authorizer list has no refresh token for it (WeChat leaves it out until api_query_auth has been called for the authorization): name one with refresh-token-env".into(),
                ));
                continue;
            }
            (None, None) => RefreshSource::Listed,
        };
        let mut vars = file.vars.clone();
        vars.extend(e.vars.clone());
        vars.insert("appid".into(), e.appid.clone());
        vars.insert("version".into(), facts.version.to_owned());
        let doc = match e.ext_json.as_ref().or(file.ext_json.as_ref()) {
            None => Ok(serde_json::json!({ "extAppid": e.appid })),
            Some(ExtJson::Inline(m)) => render_ext(m, &vars),
            Some(ExtJson::File { file: path }) => match facts.files.get(path) {
                Some(m) => render_ext(m, &vars),
                None => Err(format!("{path} was not read")),
            },
        };
        let ext_json = match doc {
            Ok(v) => v.to_string(),
            Err(why) => {
                skipped.push(skip(
                    e,
                    SkipKind::InvalidExtJson,
                    format!("invalid ext_json: {why}"),
                ));
                continue;
            }
        };
        let review = e.review.clone().unwrap_or_default();
        apps.push(PlannedApp {
            appid: e.appid.clone(),
            labels: e.labels.clone(),
            group: e.group.clone(),
            ext_json,
            refresh,
            publish_never: e.publish.or(file.publish) == Some(PublishRule::Never),
            gray_percentage: e.gray_percentage.or(file.gray_percentage),
            version_desc: review
                .version_desc
                .or_else(|| file.review.version_desc.clone()),
            items: review.items.or_else(|| file.review.items.clone()),
            privacy_api_not_use: review
                .privacy_api_not_use
                .or(file.review.privacy_api_not_use)
                .unwrap_or(false),
            submits: !facts.submitted.contains(&e.appid),
        });
    }
    let needed = u32::try_from(apps.iter().filter(|a| a.submits).count()).unwrap_or(u32::MAX);
    let budget = match (facts.max_submits, facts.quota_rest) {
        (Some(max), Some(rest)) if max > rest => {
            return Err(PlanError::BudgetOverQuota { max, rest })
        }
        (Some(max), _) => Some(max),
        (None, Some(rest)) if needed > rest => return Err(PlanError::Quota { needed, rest }),
        (None, _) => None,
    };
    if let Some(budget) = budget {
        let mut used = 0;
        let mut kept = Vec::new();
        for a in apps {
            if !a.submits {
                kept.push(a);
            } else if used < budget {
                used += 1;
                kept.push(a);
            } else {
                skipped.push(SkippedApp {
                    appid: a.appid.clone(),
                    kind: SkipKind::OverBudget,
                    reason: format!(
                        "not submitted: past max-submits {budget}, so the platform's review quota is not run out midway"
                    ),
                    labels: a.labels.clone(),
                });
            }
        }
        apps = kept;
    }
    skipped.sort_by(|a, b| a.appid.cmp(&b.appid));
    let submits = u32::try_from(apps.iter().filter(|a| a.submits).count()).unwrap_or(u32::MAX);
    Ok(Plan {
        template_id: facts.template_id,
        version: facts.version.to_owned(),
        desc: file
            .desc
            .clone()
            .unwrap_or_else(|| format!("mp-release {}", facts.version)),
        apps,
        skipped,
        not_selected,
        submits,
        quota_rest: facts.quota_rest,
        max_submits: facts.max_submits,
    })
}

/// One slice of a fleet: `index` of `count` (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 1 to `count`.
    pub index: u32,
    /// How many.
    pub count: u32,
}

impl Shard {
    /// The whole fleet.
    pub const ALL: Self = Self { index: 1, count: 1 };

    /// Parses `i/N`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("expected i/N with 1 ≤ i ≤ N ≤ 256 (this job's slice), got {s:?}");
        let (i, n) = s.trim().split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count || count > 256 {
            return Err(bad());
        }
        Ok(Self { index, count })
    }

    /// Whether the app at `position` (in appid order) is in this slice.
    pub fn holds(self, position: usize) -> bool {
        position % self.count as usize == (self.index - 1) as usize
    }

    /// `i/N`.
    pub fn label(self) -> String {
        format!("{}/{}", self.index, self.count)
    }
}

impl Plan {
    /// The apps of one slice (round-robin over appid order, so slices stay even).
    pub fn slice(&self, shard: Shard) -> Vec<&PlannedApp> {
        self.apps
            .iter()
            .enumerate()
            .filter(|(i, _)| shard.holds(*i))
            .map(|(_, a)| a)
            .collect()
    }

    /// The left-out apps of one slice (their own round-robin, so each is reported once).
    pub fn skipped_in(&self, shard: Shard) -> Vec<&SkippedApp> {
        self.skipped
            .iter()
            .enumerate()
            .filter(|(i, _)| shard.holds(*i))
            .map(|(_, a)| a)
            .collect()
    }
}

/// `{"include": [{"shard": "1/N"}, …]}` for `strategy.matrix` through `fromJSON`.
pub fn matrix(count: u32) -> Value {
    let include: Vec<Value> = (1..=count.max(1))
        .map(|i| serde_json::json!({ "shard": format!("{i}/{}", count.max(1)) }))
        .collect();
    serde_json::json!({ "include": include })
}

/// An app's outcome in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Failed (an error stopped it).
    Failed,
    /// Rejected by the review.
    Rejected,
    /// Not submitted: the review quota ran out (85085) or the budget was spent.
    NotSubmitted,
    /// Left out by the plan (skipped, not authorized, no token, no permission, bad ext_json).
    Skipped,
    /// Withdrawn.
    Withdrawn,
    /// Still in review: `fleet run` again (or on a schedule) follows it.
    InReview,
    /// In a phased rollout that outlasted the run: `fleet run` again with the state-dir takes the
    /// next look.
    RollingOut,
    /// Approved, not published (publish: never).
    Approved,
    /// Released in phases.
    Phased,
    /// Released.
    Published,
}

impl Status {
    /// The word in reports.
    pub fn word(self) -> &'static str {
        match self {
            Self::Failed => "failed",
            Self::Rejected => "rejected",
            Self::NotSubmitted => "not-submitted",
            Self::Skipped => "skipped",
            Self::Withdrawn => "withdrawn",
            Self::InReview => "in-review",
            Self::RollingOut => "rolling-out",
            Self::Approved => "approved",
            Self::Phased => "phased",
            Self::Published => "published",
        }
    }

    /// Whether a later `fleet run` with the state-dir goes on with it (a review or a rollout).
    pub fn is_pending(self) -> bool {
        matches!(self, Self::InReview | Self::RollingOut)
    }

    /// Whether the app counts as a failure for the exit code.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Self::Failed | Self::Rejected | Self::NotSubmitted | Self::Withdrawn
        )
    }

    fn icon(self) -> &'static str {
        match self {
            Self::Failed => "❌",
            Self::Rejected => "⛔",
            Self::NotSubmitted => "⏸️",
            Self::Skipped => "⏭️",
            Self::Withdrawn => "↩️",
            Self::InReview => "⏳",
            Self::RollingOut => "📶",
            Self::Approved => "✅",
            Self::Phased => "🌓",
            Self::Published => "🚀",
        }
    }
}

/// One app's line in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct AppResult {
    /// The appid.
    pub appid: String,
    /// The version committed.
    pub version: String,
    /// The outcome.
    pub status: Status,
    /// The review, if submitted.
    pub audit_id: Option<u64>,
    /// Why (rejection reason, error, skip reason).
    pub reason: String,
    /// Whether this release is live on it.
    pub published: bool,
    /// Labels (for grouping).
    pub labels: Vec<String>,
}

/// The errcode of "no review quota left".
pub const QUOTA_EXHAUSTED: i64 = 85085;

/// An app's result from its pipeline state.
pub fn result_of(app: &PlannedApp, s: &State) -> AppResult {
    let rolling = s.rollout.as_ref().filter(|_| s.published);
    let reason = match (&s.outcome, &s.review) {
        (Some(Outcome::Failed { message, .. }), _) => message.clone(),
        (
            Some(Outcome::Unhealthy {
                why,
                reverted,
                percent,
            }),
            _,
        ) => format!(
            "{} at {percent} %: {why}",
            if *reverted {
                "reverted"
            } else {
                "unhealthy, held"
            }
        ),
        (Some(Outcome::Rejected | Outcome::Withdrawn), Some(r)) => r.reason.clone(),
        (Some(Outcome::Detached), _) if rolling.is_some() => {
            let r = rolling.map_or(0, |r| r.changes.last().map_or(0, |c| c.1));
            let next = s
                .rollout
                .as_ref()
                .and_then(|p| p.next_look)
                .map(|t| format!("; the next look at {} UTC", crate::report::utc(t)))
                .unwrap_or_default();
            format!("at {r} %{next}")
        }
        _ => String::new(),
    };
    let status = match &s.outcome {
        Some(Outcome::Detached) if rolling.is_some() => Status::RollingOut,
        Some(Outcome::Published { phased: Some(_) }) => Status::Phased,
        Some(Outcome::Published { phased: None }) => Status::Published,
        Some(Outcome::Approved) => Status::Approved,
        Some(Outcome::Rejected) => Status::Rejected,
        Some(Outcome::Withdrawn) => Status::Withdrawn,
        Some(Outcome::Detached) => Status::InReview,
        Some(Outcome::Failed {
            code: Some(QUOTA_EXHAUSTED),
            ..
        }) if s.audit_id.is_none() => Status::NotSubmitted,
        Some(Outcome::Failed { .. } | Outcome::DryRun { .. } | Outcome::Unhealthy { .. }) => {
            Status::Failed
        }
        None if s.stage == Stage::Done => Status::Failed,
        None => Status::InReview,
    };
    AppResult {
        appid: app.appid.clone(),
        version: s.version.clone().unwrap_or_default(),
        status,
        audit_id: s.audit_id,
        reason: one_line(&reason),
        published: s.published,
        labels: app.labels.clone(),
    }
}

/// A result for an app the plan left out, or that was held before submitting.
pub fn left_out(
    appid: &str,
    labels: &[String],
    status: Status,
    reason: &str,
    version: &str,
) -> AppResult {
    AppResult {
        appid: appid.to_owned(),
        version: version.to_owned(),
        status,
        audit_id: None,
        reason: one_line(reason),
        published: false,
        labels: labels.to_vec(),
    }
}

fn one_line(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    cut(&s, 600)
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A fleet report: one run's (or one shard's) results, or several merged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Report {
    /// The version released.
    pub version: String,
    /// The template committed.
    pub template_id: Option<u64>,
    /// The shards this report covers (`1/1` for a whole fleet).
    pub shards: Vec<String>,
    /// Every app, by appid.
    pub results: Vec<AppResult>,
}

impl Report {
    /// The count per status, in the order of `Status`.
    pub fn counts(&self) -> BTreeMap<Status, usize> {
        let mut c = BTreeMap::new();
        for r in &self.results {
            *c.entry(r.status).or_insert(0) += 1;
        }
        c
    }

    /// Whether any app failed (exit 1).
    pub fn any_failed(&self) -> bool {
        self.results.iter().any(|r| r.status.is_failure())
    }
}

/// Merges shard reports into one (apps by appid). Reports of different releases, or one app in
/// two shards, are refused: the merged report would not describe one release.
pub fn merge(reports: &[Report]) -> Result<Report, String> {
    let Some(first) = reports.first() else {
        return Err("no report to merge".into());
    };
    let mut by_app: BTreeMap<String, AppResult> = BTreeMap::new();
    let mut shards = Vec::new();
    for r in reports {
        if r.version != first.version || r.template_id != first.template_id {
            return Err(format!(
                "the reports are of different releases: {} (template {:?}) and {} (template {:?})",
                first.version, first.template_id, r.version, r.template_id
            ));
        }
        shards.extend(r.shards.iter().cloned());
        for a in &r.results {
            if by_app.insert(a.appid.clone(), a.clone()).is_some() {
                return Err(format!("{} is in two reports", a.appid));
            }
        }
    }
    shards.sort();
    shards.dedup();
    Ok(Report {
        version: first.version.clone(),
        template_id: first.template_id,
        shards,
        results: by_app.into_values().collect(),
    })
}

/// GitHub's cap on one step's job summary.
pub const SUMMARY_CAP: usize = 1 << 20;

/// The job summary under `title`: counts, then the failures in full, then the other apps grouped by status,
/// cut to stay under `max_bytes` (a line says how many were left out).
pub fn summary(r: &Report, title: &str, max_bytes: usize) -> String {
    let mut out = String::new();
    let counts = r.counts();
    let failed: usize = counts
        .iter()
        .filter(|(s, _)| s.is_failure())
        .map(|(_, n)| n)
        .sum();
    let icon = if failed > 0 { "⚠️" } else { "🚀" };
    let _ = writeln!(
        out,
        "### {icon} {title} · {} · {} apps{}\n",
        r.version,
        r.results.len(),
        r.template_id
            .map_or_else(String::new, |t| format!(" · template {t}"))
    );
    out.push_str("| status | apps |\n|---|---:|\n");
    for (s, n) in &counts {
        let _ = writeln!(out, "| {} {} | {n} |", s.icon(), s.word());
    }
    out.push('\n');
    let row = |a: &AppResult| {
        format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            a.appid,
            a.version,
            a.status.word(),
            a.audit_id.map_or_else(String::new, |i| i.to_string()),
            cell(&a.reason),
            if a.published { "yes" } else { "no" }
        )
    };
    let head =
        "| app | version | status | review | reason | published |\n|---|---|---|---|---|---|\n";
    // Room kept for the closing lines.
    let budget = max_bytes.saturating_sub(512);
    let mut left_out = 0usize;
    let failures: Vec<&AppResult> = r.results.iter().filter(|a| a.status.is_failure()).collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "#### Failures ({})\n", failures.len());
        out.push_str(head);
        for a in &failures {
            let line = row(a);
            if out.len() + line.len() > budget {
                left_out += 1;
                continue;
            }
            out.push_str(&line);
        }
        out.push('\n');
    }
    for (status, _) in counts.iter().filter(|(s, _)| !s.is_failure()) {
        let group: Vec<&AppResult> = r.results.iter().filter(|a| a.status == *status).collect();
        let title = format!(
            "<details><summary>{} {} ({})</summary>\n\n",
            status.icon(),
            status.word(),
            group.len()
        );
        if out.len() + title.len() + head.len() > budget {
            left_out += group.len();
            continue;
        }
        out.push_str(&title);
        out.push_str(head);
        for a in group {
            let line = row(a);
            if out.len() + line.len() + 20 > budget {
                left_out += 1;
                continue;
            }
            out.push_str(&line);
        }
        out.push_str("\n</details>\n\n");
    }
    if left_out > 0 {
        let _ = writeln!(
            out,
            "_{left_out} more apps are not listed, to keep the summary under GitHub's 1 MiB; the JSON report has every app._"
        );
    }
    out
}

fn cell(s: &str) -> String {
    cut(&s.replace('|', "\\|").replace(['\n', '\r'], " "), 200)
}

#[cfg(test)]
mod tests;
