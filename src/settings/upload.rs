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
    let files = native::list_project(&project).map_err(|e| UsageError::input(&origin, e))?;
    let marker =
        mp_release_core::identity::files(files.iter().map(|(n, b)| (n.as_str(), b.as_slice())));
    let engine = if asked == Some(EngineChoice::Official) {
        EngineChoice::Official
    } else {
        match compile(&Input {
            files,
            appid: appid.0.clone(),
            platform: false,
            whitelist: None,
        }) {
            Ok(_) => EngineChoice::Native,
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
    }))
}
