//! Validated settings of `fleet` and `template`: the fleet file (typed, strict), the selection,
//! budgets, shards, state directory, concurrency and rate limits. Like every command's settings,
//! all of it is checked before the first call; the refresh tokens the file names by environment
//! variable are read here, so a missing one stops the run before anything is sent.

use super::{Layers, Origin, PlatformSettings, UsageError};
use crate::cli::{FleetArgs, FleetRunArgs};
use mp_release_core::fleet::{FleetFile, RefreshSource, Selector, Shard, TemplateSource};
use mp_release_core::limit::Rule;
use mp_release_core::template::Prune;
use secrecy::SecretString;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A fleet file is a few hundred KiB for thousands of apps.
const MAX_FLEET_FILE: u64 = 32 << 20;

/// `fleet plan` and `fleet run`.
#[derive(Debug, Clone)]
pub struct FleetSettings {
    /// The platform.
    pub platform: PlatformSettings,
    /// The fleet file, parsed.
    pub file: FleetFile,
    /// Its `{file: …}` ext_jsons, read.
    pub ext_files: BTreeMap<String, Map<String, Value>>,
    /// `select`.
    pub select: Vec<Selector>,
    /// `max-submits`.
    pub max_submits: Option<u32>,
    /// `shards`.
    pub shards: Option<u32>,
    /// `template-id`: wins over the file's.
    pub template_id: Option<u64>,
    /// The refresh tokens named by `refresh-token-env`, read from the environment.
    pub refresh_env: BTreeMap<String, SecretString>,
    /// The pipeline rules every app shares (waiting, polling, on-existing-review, speedup…);
    /// publish, phased percentage and review fields come per app from the plan.
    pub pipeline: super::PipelineSettings,
    /// `state-dir`.
    pub state_dir: Option<PathBuf>,
    /// The fleet file's token service: its URL and bearer token.
    pub token_service: Option<(url::Url, Option<SecretString>)>,
}

impl FleetSettings {
    /// The template named now (the input, else the file's id); `None` for `template: new`.
    pub fn template_id(&self) -> Option<u64> {
        self.template_id.or(match self.file.template {
            TemplateSource::Id(id) => Some(id),
            TemplateSource::Word(_) => None,
        })
    }

    /// The values of the refresh tokens and the token service's key, to mask before anything is
    /// printed.
    pub fn secrets(&self) -> Vec<String> {
        self.refresh_env
            .values()
            .chain(self.token_service.iter().filter_map(|(_, a)| a.as_ref()))
            .map(|s| secrecy::ExposeSecret::expose_secret(s).to_owned())
            .collect()
    }
}

/// `fleet run`'s own settings.
#[derive(Debug, Clone)]
pub struct FleetRunSettings {
    /// Shared with plan.
    pub fleet: FleetSettings,
    /// This job's slice.
    pub shard: Shard,
    /// Where the fleet's state lives.
    pub state_dir: Option<PathBuf>,
    /// Apps at once.
    pub concurrency: usize,
    /// Requests a second over the fleet (this shard's share of it).
    pub global_rate: Option<f64>,
    /// Per-app endpoint limits.
    pub rules: Vec<Rule>,
    /// `prune-templates`.
    pub prune: Prune,
    /// `template: new`: the development mini program's upload.
    pub upload: Option<super::UploadSettings>,
    /// Where the shard's check run goes (its name ends in ` fleet i/N`).
    pub github: super::GitHubSettings,
}

fn number(
    layers: &Layers<'_>,
    name: &str,
    flag: Option<&str>,
    min: u64,
    max: u64,
) -> Result<Option<u64>, UsageError> {
    Ok(layers
        .parse(name, flag, |s| match s.trim().parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(format!(
                "expected a whole number from {min} to {max}, got {s:?}"
            )),
        })?
        .map(|(n, _)| n))
}

/// Reads and checks the fleet file and the inputs `fleet plan` and `fleet run` share.
pub fn fleet(
    a: &FleetArgs,
    layers: &Layers<'_>,
    g: &super::Globals,
) -> Result<FleetSettings, UsageError> {
    let platform = super::platform(&a.wechat, layers, g)?;
    let Some((rel, origin)) = layers.pick("fleet-file", a.fleet_file.as_deref()) else {
        return Err(UsageError::new(
            "fleet-file is not set: give the fleet file (YAML: template, apps or all, ext-json…; see docs/fleet.md)",
        ));
    };
    let file_path = g.cwd.join(&rel);
    let file = read_fleet_file(&file_path).map_err(|e| UsageError::input(&origin, e))?;
    let dir = file_path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut ext_files = BTreeMap::new();
    for f in file.ext_files() {
        let text = super::read_text(&dir.join(&f), 1 << 20)
            .map_err(|e| UsageError::input(&origin, format_args!("ext-json file {f}: {e}")))?;
        match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(m)) => {
                ext_files.insert(f, m);
            }
            Ok(_) => {
                return Err(UsageError::input(
                    &origin,
                    format_args!(
                        "ext-json file {f}: expected a JSON object (the content of ext.json)"
                    ),
                ))
            }
            Err(e) => {
                return Err(UsageError::input(
                    &origin,
                    format_args!("ext-json file {f}: not valid JSON: {e}"),
                ))
            }
        }
    }
    let select = layers
        .pick_list("select", &a.select)
        .into_iter()
        .map(|(s, o)| Selector::parse(&s).map_err(|e| UsageError::input(&o, e)))
        .collect::<Result<Vec<_>, _>>()?;
    let max_submits = number(layers, "max-submits", a.max_submits.as_deref(), 0, 100_000)?
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    let shards = number(layers, "shards", a.shards.as_deref(), 1, 256)?
        .map(|n| u32::try_from(n).unwrap_or(1));
    if let Some((_, o)) = layers.pick("ext-json", a.pipeline.ext_json.as_deref()) {
        return Err(UsageError::input(&o, "a fleet's ext_json is set per app in the fleet file (ext-json there, with {{appid}} and other variables)"));
    }
    let pipeline = super::pipeline(&a.pipeline, layers, &g.cwd, "")?;
    let state_dir = layers
        .parse("state-dir", a.state_dir.as_deref(), |s| {
            let p = g.cwd.join(s);
            if p.exists() && !p.is_dir() {
                return Err(format!("{} exists and is not a directory", p.display()));
            }
            Ok(p)
        })?
        .map(|(p, _)| p);
    // A rollout outlasts a run (each step watches for hours); what each app reached lives in its
    // state file, and only there: without one the next run could not tell its own phased release
    // from another.
    if pipeline.rules.publish.rollout.is_some() && state_dir.is_none() {
        if let Some((_, origin)) = layers.pick("rollout", a.pipeline.rollout.as_deref()) {
            return Err(UsageError::input(
                &origin,
                "a fleet's rollout needs state-dir: each app's progress (step, plan, next look) is kept there for the next fleet run",
            ));
        }
    }
    if matches!(file.template, TemplateSource::Word(_)) && file.version.is_none() {
        return Err(UsageError::input(&origin, "template: new needs version: the version the development mini program is uploaded as, which every app gets"));
    }
    let template_id = pipeline.template.as_ref().map(|t| t.template_id);
    let mut refresh_env = BTreeMap::new();
    let entries = match &file.apps {
        mp_release_core::fleet::Apps::List(l) => l.as_slice(),
        mp_release_core::fleet::Apps::All(_) => file.overrides.as_slice(),
    };
    for e in entries.iter().filter(|e| e.skip.is_none()) {
        if let Some(name) = &e.refresh_token_env {
            match layers.env_var(name) {
                Some(v) if !v.trim().is_empty() => {
                    refresh_env.insert(name.clone(), SecretString::from(v.trim().to_owned()));
                }
                _ => {
                    return Err(UsageError::input(
                        &origin,
                        format_args!(
                            "{}: refresh-token-env names {name}, which is not set: export the app's authorizer_refresh_token as {name}, or remove refresh-token-env to take it from the platform's authorizer list",
                            e.appid
                        ),
                    ))
                }
            }
        }
    }
    let token_service = match &file.token_service {
        None => None,
        Some(t) => {
            let u = url::Url::parse(&t.url)
                .map_err(|e| UsageError::input(&origin, format_args!("token-service: url: {e}")))?;
            let auth = match &t.auth_env {
                None => None,
                Some(name) => match layers.env_var(name) {
                    Some(v) if !v.trim().is_empty() => Some(SecretString::from(v.trim().to_owned())),
                    _ => {
                        return Err(UsageError::input(
                            &origin,
                            format_args!("token-service: auth-env names {name}, which is not set: export the token service's key as {name}"),
                        ))
                    }
                },
            };
            Some((u, auth))
        }
    };
    Ok(FleetSettings {
        platform,
        file,
        ext_files,
        select,
        max_submits,
        shards,
        template_id,
        refresh_env,
        pipeline,
        state_dir,
        token_service,
    })
}

fn read_fleet_file(path: &Path) -> Result<FleetFile, String> {
    let text = super::read_text(path, MAX_FLEET_FILE).map_err(|e| format!("fleet file: {e}"))?;
    // Through a JSON value, as the config file and scenarios are read.
    let value: Value = serde_norway::from_str(&text)
        .map_err(|e| format!("fleet file {}: not valid YAML: {e}", path.display()))?;
    FleetFile::from_value(value).map_err(|e| format!("fleet file {}: {e}", path.display()))
}

/// The credentials of a planned app: its refresh token (from the environment or `listed`, the
/// authorizer list's) with the platform's, or the token service; `None` when the list has no
/// token for it (any more).
pub fn credentials_of(
    s: &FleetSettings,
    appid: &str,
    source: &RefreshSource,
    listed: &BTreeMap<String, SecretString>,
) -> Option<crate::adapters::wechat::tokens::Credentials> {
    let refresh = match source {
        RefreshSource::Env(name) => s.refresh_env.get(name).cloned()?,
        RefreshSource::Listed => listed.get(appid).cloned()?,
        RefreshSource::Service => {
            let (url, auth) = s.token_service.clone()?;
            return Some(crate::adapters::wechat::tokens::Credentials::Service {
                url,
                auth,
                appid: appid.to_owned(),
            });
        }
    };
    Some(s.platform.app(appid, refresh))
}

/// `rate-limit`: `20` (requests a second over the fleet) and/or `endpoint=N` per app.
fn rate(s: &str) -> Result<(Option<f64>, Vec<Rule>), String> {
    let mut global = None;
    let mut rules = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let parse = |n: &str| match n.trim().parse::<f64>() {
            Ok(x) if x > 0.0 && x <= 100_000.0 => Ok(x),
            _ => Err(format!(
                "expected requests a second (a number above 0), got {n:?}"
            )),
        };
        match part.split_once('=') {
            None if global.is_none() => global = Some(parse(part)?),
            None => return Err("give the fleet's rate once".into()),
            Some((endpoint, n)) => rules.push(Rule {
                endpoint: Some(endpoint.trim().to_owned()),
                per_second: parse(n)?,
            }),
        }
    }
    Ok((global, rules))
}

/// Reads `fleet run`'s settings.
pub fn fleet_run(
    a: &FleetRunArgs,
    layers: &Layers<'_>,
    g: &super::Globals,
) -> Result<FleetRunSettings, UsageError> {
    let fleet = fleet(&a.fleet, layers, g)?;
    let state_dir = fleet.state_dir.clone();
    let shard = layers
        .parse("shard", a.shard.as_deref(), Shard::parse)?
        .map_or(Shard::ALL, |(s, _)| s);
    let concurrency = number(layers, "concurrency", a.concurrency.as_deref(), 1, 256)?
        .map_or(16, |n| usize::try_from(n).unwrap_or(16));
    let (global_rate, rules) = layers
        .parse("rate-limit", a.rate_limit.as_deref(), rate)?
        .map_or((None, Vec::new()), |(r, _)| r);
    // Shards cannot share a limiter: each takes its share of the fleet's rate.
    let global_rate = global_rate.map(|r| r / f64::from(shard.count));
    let prune = layers
        .parse(
            "prune-templates",
            a.prune_templates.as_deref(),
            Prune::parse,
        )?
        .map_or(Prune::None, |(p, _)| p);
    let upload = super::upload(&a.upload, &a.fleet.wechat, layers, g, false)?;
    match (&upload, fleet.template_id()) {
        (Some(_), Some(_)) => {
            return Err(UsageError::new(
                "project-path is set but the fleet commits an existing template (template-id, or template: <id> in the fleet file): give template: new to make the template from this upload, or drop project-path",
            ))
        }
        (None, None) => {
            return Err(UsageError::new(
                "the fleet file says template: new but project-path is not set: give the development mini program's project (project-path, upload-appid, private-key) to upload and make the template, or give template-id",
            ))
        }
        _ => {}
    }
    if upload.is_some() && shard.count > 1 {
        return Err(UsageError::new(
            "template: new with shards: every shard would upload and make its own template; make the template once (mp-release template add, in the plan job) and give each shard its template-id",
        ));
    }
    let mut github = super::github(&a.github, layers)?;
    github.check_name = format!("{} fleet {}", github.check_name, shard.label());
    Ok(FleetRunSettings {
        github,
        fleet,
        shard,
        state_dir,
        concurrency,
        global_rate,
        rules,
        prune,
        upload,
    })
}

/// `prune-templates` of the template commands.
pub fn prune(
    layers: &Layers<'_>,
    flag: Option<&str>,
) -> Result<(Prune, Option<Origin>), UsageError> {
    Ok(layers
        .parse("prune-templates", flag, Prune::parse)?
        .map_or((Prune::None, None), |(p, o)| (p, Some(o))))
}

/// `reports` of `fleet report`: files, or directories holding `fleet-report*.json`.
pub fn reports(
    layers: &Layers<'_>,
    flags: &[String],
    cwd: &Path,
) -> Result<Vec<PathBuf>, UsageError> {
    let mut out = Vec::new();
    for (p, origin) in layers.pick_list("reports", flags) {
        let path = cwd.join(&p);
        if path.is_dir() {
            let mut found: Vec<PathBuf> = walk_reports(&path);
            found.sort();
            if found.is_empty() {
                return Err(UsageError::input(
                    &origin,
                    format_args!("{} holds no fleet-report*.json", path.display()),
                ));
            }
            out.extend(found);
        } else if path.is_file() {
            out.push(path);
        } else {
            return Err(UsageError::input(
                &origin,
                format_args!("{} does not exist", path.display()),
            ));
        }
    }
    if out.is_empty() {
        return Err(UsageError::new(
            "reports is not set: give the shards' fleet-report*.json files or the directory the artifacts were downloaded to",
        ));
    }
    Ok(out)
}

/// The report files under `dir`, two levels deep (download-artifact puts each in its own folder).
fn walk_reports(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), 0)];
    while let Some((d, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() && depth < 2 {
                stack.push((p, depth + 1));
            } else if name.starts_with("fleet-report") && name.ends_with(".json") {
                out.push(p);
            }
        }
    }
    out
}
