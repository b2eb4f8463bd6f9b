//! Validated settings of the code upload: the project is read and checked against the native
//! engine's rules, and the key parsed, before anything is sent.

use super::parse::bounded_duration;
use super::{Layers, UsageError};
use crate::adapters::upload::native;
use crate::cli::UploadOptions;
use mp_release_core::upload::project::{compile, CompileError, Input};
use mp_release_core::upload::signature::SigningKey;
use secrecy::SecretString;
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

/// Everything an upload needs.
#[derive(Debug, Clone)]
pub struct UploadSettings {
    /// Proxies and trust roots (the process's one policy, from the globals).
    pub net: crate::adapters::http::Net,
    /// The project directory.
    pub project: PathBuf,
    /// The parsed key.
    pub key: SigningKey,
    /// The key's PEM text, to mask (it may come from a file the user never passed as a secret).
    pub key_pem: SecretString,
    /// The uploading appid.
    pub appid: String,
    /// Robot 1–30.
    pub robot: u8,
    /// The upload host.
    pub base: Url,
    /// Timeout of the upload request.
    pub timeout: Duration,
    /// Which engine uploads.
    pub engine: EngineChoice,
    /// Where the official engine is installed (`<cache>/miniprogram-ci/<version>`).
    pub cache: PathBuf,
    /// The identity marker of the project's content ([`mp_release_core::identity`]).
    pub marker: String,
    /// The project as listed here (text files read), for the native engine to pack.
    pub listing: std::sync::Arc<native::Listing>,
    /// The `setting` input: miniprogram-ci compile options over project.config.json's.
    pub setting: serde_json::Map<String, serde_json::Value>,
    /// The miniprogram-ci version the official engine runs.
    pub ci_version: String,
    /// The project type (miniprogram-ci's `type`), from project.config.json's `compileType`.
    pub project_type: &'static str,
    /// Build miniprogram_npm (miniprogram-ci's packNpm) before uploading.
    pub pack_npm: bool,
    /// Where to save the upload's source maps (miniprogram-ci's getDevSourceMap).
    pub source_map: Option<PathBuf>,
}

impl UploadSettings {
    /// The request for one upload (or preview) of this project.
    pub fn request(&self, version: &str, desc: String, preview: bool) -> native::Request {
        native::Request {
            project: self.project.clone(),
            appid: self.appid.clone(),
            version: version.to_owned(),
            desc,
            robot: self.robot,
            preview,
            page: None,
            scene: 1011,
            setting: self.setting.clone(),
            listing: self.listing.clone(),
            project_type: self.project_type,
            pack_npm: self.pack_npm,
            source_map: self.source_map.clone(),
        }
    }
}

/// The project type miniprogram-ci is told, from project.config.json's `compileType` (absent:
/// a mini program, as DevTools assumes).
pub fn project_type(listing: &native::Listing) -> Result<&'static str, String> {
    let config = listing
        .files
        .iter()
        .find(|f| f.name == "project.config.json")
        .and_then(|f| f.data.as_deref())
        .ok_or("project.config.json could not be read")?;
    let v: serde_json::Value =
        mp_release_core::upload::js_json::parse(&String::from_utf8_lossy(config))
            .map_err(|e| format!("project.config.json is not valid JSON: {e}"))?;
    match v.get("compileType") {
        None | Some(serde_json::Value::Null) => Ok("miniProgram"),
        Some(t) => match t.as_str() {
            Some("miniprogram") => Ok("miniProgram"),
            Some("game") => Ok("miniGame"),
            Some("plugin") => Ok("miniProgramPlugin"),
            Some("gamePlugin") => Ok("miniGamePlugin"),
            _ => Err(format!(
                "project.config.json: compileType {t} is not one of miniprogram, game, plugin, gamePlugin"
            )),
        },
    }
}

/// miniprogram-ci's compile options the `setting` input may set (all booleans).
pub const SETTING_KEYS: &[&str] = &[
    "es6",
    "es7",
    "minify",
    "minifyJS",
    "minifyWXML",
    "minifyWXSS",
    "autoPrefixWXSS",
    "codeProtect",
    "disableUseStrict",
    "compileWorklet",
];

/// The `setting` input: a JSON object of [`SETTING_KEYS`] with boolean values.
pub fn parse_setting(s: &str) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let v: serde_json::Value =
        serde_json::from_str(s.trim()).map_err(|e| format!("not valid JSON: {e}"))?;
    let serde_json::Value::Object(m) = v else {
        return Err(r#"expected a JSON object such as {"es6": true, "minify": true}"#.into());
    };
    for (k, v) in &m {
        if !SETTING_KEYS.contains(&k.as_str()) {
            return Err(format!(
                "unknown compile option {k:?}: expected some of {}",
                SETTING_KEYS.join(", ")
            ));
        }
        if !v.is_boolean() {
            return Err(format!("{k} must be true or false, got {v}"));
        }
    }
    Ok(m)
}

/// A miniprogram-ci version: `X.Y.Z` (what npm is asked for; no ranges or tags, so the run is
/// reproducible).
pub fn parse_ci_version(s: &str) -> Result<String, String> {
    let t = s.trim();
    let parts: Vec<&str> = t.split('.').collect();
    if parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
    {
        Ok(t.to_owned())
    } else {
        Err(format!(
            "expected an exact version such as {}, got {s:?}",
            crate::adapters::upload::official::VERSION
        ))
    }
}

/// The engine decided during validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineChoice {
    /// This binary.
    Native,
    /// The official miniprogram-ci.
    Official,
}

/// Validates the upload options. `None` when no project-path is set (no upload asked for);
/// `required` makes that an error (the upload and preview commands).
pub fn upload(
    a: &UploadOptions,
    w: &crate::cli::WeChatArgs,
    layers: &Layers<'_>,
    g: &super::Globals,
    required: bool,
) -> Result<Option<UploadSettings>, UsageError> {
    let cwd = g.cwd.as_path();
    let Some((project, origin)) = layers.pick("project-path", a.project_path.as_deref()) else {
        return if required {
            Err(UsageError::new("project-path is not set: give the mini program project directory (the one with project.config.json)"))
        } else {
            Ok(None)
        };
    };
    let project = cwd.join(project);
    if !project.join("project.config.json").is_file() {
        return Err(UsageError::input(
            &origin,
            format_args!(
                "{} has no project.config.json; point it at the mini program project",
                project.display()
            ),
        ));
    }
    let appid = layers
        .pick("upload-appid", a.upload_appid.as_deref())
        .or_else(|| layers.pick("appid", w.appid.as_deref()))
        .ok_or_else(|| UsageError::new("appid is not set: give the uploading mini program's appid (--appid, or upload-appid)"))?;
    let appid = (
        super::parse::check_appid(&appid.0).map_err(|e| UsageError::input(&appid.1, e))?,
        appid.1,
    );
    let engine = layers
        .pick("engine", a.engine.as_deref())
        .unwrap_or(("auto".into(), super::Origin::Flag("engine".into())));
    let asked = match engine.0.trim() {
        "auto" => None,
        "native" => Some(EngineChoice::Native),
        "miniprogram-ci" => Some(EngineChoice::Official),
        _ => {
            return Err(UsageError::input(
                &engine.1,
                "expected auto, native or miniprogram-ci",
            ))
        }
    };
    // Check the project against the native rules now, so a broken or out-of-subset project fails
    // before anything is sent (getattr's `platform` only changes how ext.json is packed).
    // The listing also gives the run's identity marker: a digest of what is uploaded, so a
    // read-back can tell this upload from other code under the same version string.
    let setting = layers
        .parse("setting", a.setting.as_deref(), parse_setting)?
        .map(|(m, _)| m)
        .unwrap_or_default();
    let ci_version = layers
        .parse(
            "miniprogram-ci-version",
            a.miniprogram_ci_version.as_deref(),
            parse_ci_version,
        )?
        .map_or_else(
            || crate::adapters::upload::official::VERSION.to_owned(),
            |(v, _)| v,
        );
    let pack_npm = layers
        .parse("pack-npm", a.pack_npm.as_deref(), super::parse_bool)?
        .filter(|(b, _)| *b);
    let source_map = layers.parse("source-map-output", a.source_map_output.as_deref(), |p| {
        let p = cwd.join(p);
        super::writable_file(&p)?;
        Ok(p)
    })?;
    // What only the official tool does: the native engine cannot be asked for it.
    let official_only = match (&source_map, &pack_npm) {
        (Some((_, o)), _) => Some(("source-map-output", o.clone())),
        (None, Some((_, o))) => Some(("pack-npm", o.clone())),
        (None, None) => None,
    };
    if let (Some((what, o)), Some(EngineChoice::Native)) = (&official_only, asked) {
        return Err(UsageError::input(
            o,
            format_args!("{what} needs the miniprogram-ci engine (engine auto or miniprogram-ci); the native engine has no packNpm or getDevSourceMap"),
        ));
    }
    let t0 = std::time::Instant::now();
    let listing = native::list_project(&project).map_err(|e| UsageError::input(&origin, e))?;
    tracing::debug!("listed {} files in {:?}", listing.files.len(), t0.elapsed());
    let marker = listing.marker.clone();
    let project_type = project_type(&listing).map_err(|e| UsageError::input(&origin, e))?;
    let engine = if asked == Some(EngineChoice::Official) {
        EngineChoice::Official
    } else if let Some((what, _)) = official_only {
        tracing::info!("engine auto: {what} is set; using the official miniprogram-ci engine");
        EngineChoice::Official
    } else {
        match compile(&Input {
            files: std::borrow::Cow::Borrowed(&listing.files),
            appid: appid.0.clone(),
            platform: false,
            whitelist: None,
            setting: setting.clone(),
        }) {
            Ok(_) => {
                tracing::debug!("checked against the native rules in {:?}", t0.elapsed());
                EngineChoice::Native
            }
            Err(CompileError::OutOfSubset(why)) if asked.is_none() => {
                tracing::info!("engine auto: {why}; using the official miniprogram-ci engine");
                EngineChoice::Official
            }
            Err(e) => return Err(UsageError::input(&origin, e)),
        }
    };
    let pem = match (layers.pick("private-key", a.private_key.as_deref()), layers.pick("private-key-path", a.private_key_path.as_deref())) {
        (Some((pem, _)), _) => pem,
        // A PEM key is under 4 KiB; 64 KiB leaves room for any key and refuses anything else.
        (None, Some((path, o))) => super::read_text(&cwd.join(&path), 64 << 10).map_err(|e| UsageError::input(&o, e))?,
        (None, None) => {
            return Err(UsageError::new(
                "no code-upload key: give private-key (the PEM text, from a secret) or private-key-path (mp console → 开发管理 → 开发设置 → 小程序代码上传)",
            ))
        }
    };
    let key = SigningKey::from_pem(&pem)
        .map_err(|e| UsageError::new(format!("invalid private-key: {e}")))?;
    let robot = match layers.pick("robot", a.robot.as_deref()) {
        None => 1,
        Some((r, o)) => match r.trim().parse::<u8>() {
            Ok(n @ 1..=30) => n,
            _ => {
                return Err(UsageError::input(
                    &o,
                    format_args!("expected a robot number from 1 to 30, got {r:?}"),
                ))
            }
        },
    };
    let url = |name: &str, flag: Option<&str>, default: &str| -> Result<Url, UsageError> {
        match layers.pick(name, flag) {
            None => Ok(Url::parse(default).expect("a valid constant")),
            Some((u, o)) => super::parse::url(&u).map_err(|e| UsageError::input(&o, e)),
        }
    };
    let base = url(
        "upload-base-url",
        a.upload_base_url.as_deref(),
        native::DEFAULT_BASE,
    )?;
    let timeout = match layers.pick("upload-timeout", a.upload_timeout.as_deref()) {
        None => Duration::from_secs(120),
        Some((t, o)) => bounded_duration(&t, Duration::from_secs(1), super::parse::limits::REQUEST)
            .map_err(|e| UsageError::input(&o, e))?,
    };
    let cache = match layers.pick("cache-dir", a.cache_dir.as_deref()) {
        Some((c, _)) => cwd.join(c),
        None => layers.default_cache_dir(),
    };
    Ok(Some(UploadSettings {
        net: g.net.clone(),
        project,
        key,
        key_pem: pem.into(),
        appid: appid.0,
        robot,
        base,
        timeout,
        engine,
        cache,
        marker,
        listing: std::sync::Arc::new(listing),
        setting,
        ci_version,
        project_type,
        pack_npm: pack_npm.is_some(),
        source_map: source_map.map(|(p, _)| p),
    }))
}
