//! `mp-release upload` and `preview`: the native engine on its own, outside the pipeline.

use super::Report;
use crate::adapters::git::Git;
use crate::adapters::http::Route;
use crate::adapters::upload::native::UploadError;
use crate::adapters::upload::native::{Native, Request, Uploaded};
use crate::adapters::upload::official::Official;
use crate::adapters::upload::{Engine, Uploader};
use crate::output::Workflow;
use crate::settings::{EngineChoice, Globals, UploadSettings, VersionSettings};
use anyhow::Context;
use mp_release_core::report::{package_sizes_json, package_table};
use secrecy::ExposeSecret;
use serde_json::json;

fn report(
    up: &UploadSettings,
    u: &Uploaded,
    mut outputs: Vec<(String, String)>,
    title: &str,
) -> Report {
    let packages = u.packages();
    outputs.push(("package-sizes".into(), package_sizes_json(&packages)));
    let json =
        serde_json::Value::Object(outputs.iter().map(|(k, v)| (k.clone(), json!(v))).collect());
    let summary = format!(
        "### ✅ {title} · `{}`\n\n{} files, {} bytes gzipped, robot {}\n\n{}",
        up.appid,
        u.files,
        u.gzip_bytes,
        up.robot,
        package_table(&packages)
    );
    Report {
        outputs,
        json,
        summary,
        ..Report::default()
    }
}

/// The engine the settings chose, ready for `req`.
pub fn uploader(up: &UploadSettings, req: Request) -> anyhow::Result<Uploader> {
    let net = &up.net;
    let engine = match up.engine {
        EngineChoice::Native => Engine::Native(Native::new(&up.base, up.timeout, net)?),
        EngineChoice::Official => {
            // miniprogram-ci's host is fixed: a custom upload host (the emulator) is reached as its
            // HTTPS proxy; otherwise the proxy the policy gives the upload host.
            let custom = up.base.as_str().trim_end_matches('/')
                != crate::adapters::upload::native::DEFAULT_BASE;
            let proxy = if custom {
                Some(up.base.to_string())
            } else {
                match net.route(&up.base) {
                    Route::Proxy(p, _) => Some(p.to_string()),
                    Route::Direct | Route::Bypassed(_) => None,
                }
            };
            net.log_route("upload host (miniprogram-ci)", &up.base);
            Engine::Official(Official::new(
                &up.cache,
                &up.ci_version,
                proxy,
                net.ca_file.clone(),
                up.timeout * 3,
            ))
        }
    };
    Ok(Uploader {
        engine,
        key: up.key.clone(),
        pem: up.key_pem.clone(),
        req,
    })
}

pub(super) async fn send(
    up: &UploadSettings,
    req: &Request,
    wf: &Workflow,
) -> anyhow::Result<Uploaded> {
    wf.masker().mask(up.key_pem.expose_secret())?;
    let uploader = uploader(up, req.clone())?;
    let what = if req.preview {
        "previewing"
    } else {
        "uploading"
    };
    tracing::info!(
        "{what} {} as {} with the {} engine (robot {})",
        req.project.display(),
        req.appid,
        uploader.engine.name(),
        req.robot
    );
    let u = uploader
        .upload(&req.version)
        .await
        .map_err(|e| match e {
            // The network or a middle box, not WeChat's verdict: exit 3.
            UploadError::Transport { .. } | UploadError::Redirect { .. } => anyhow::anyhow!(e),
            e => crate::exit::ReleaseFailed(e.to_string()).into(),
        })
        .with_context(|| format!("{what} {}", req.project.display()))?;
    if u.files > 0 {
        tracing::info!("done: {} files, {} bytes gzipped", u.files, u.gzip_bytes);
    } else {
        tracing::info!("done");
    }
    Ok(u)
}

/// Uploads a new version.
pub async fn upload(
    up: UploadSettings,
    vs: &VersionSettings,
    desc: Option<String>,
    g: &Globals,
    wf: &mut Workflow,
) -> anyhow::Result<Report> {
    let version = super::version::compute(vs, g)?.plan.next.to_string();
    let desc = desc
        .or_else(|| Git::new(&up.project).head_subject())
        .unwrap_or_else(|| format!("mp-release {version}"));
    let req = up.request(&version, desc, false);
    let u = send(&up, &req, wf).await?;
    Ok(report(
        &up,
        &u,
        vec![("version".into(), version)],
        "mp-release upload",
    ))
}

/// What a preview opens, where its QR code goes, and its description.
pub struct PreviewOptions {
    /// The page and its query.
    pub page: Option<(String, Option<String>)>,
    /// The scene.
    pub scene: u32,
    /// Where the QR code is saved.
    pub out: std::path::PathBuf,
    /// The description.
    pub desc: Option<String>,
}

/// Uploads a preview and saves its QR code.
pub async fn preview(
    up: UploadSettings,
    o: PreviewOptions,
    wf: &mut Workflow,
    mut gh: super::github::Reporter,
    g: &crate::settings::Globals,
) -> anyhow::Result<Report> {
    let PreviewOptions {
        page,
        scene,
        out,
        desc,
    } = o;
    let desc = desc.unwrap_or_else(|| "mp-release preview".into());
    let req = Request {
        page,
        scene,
        ..up.request("0.0.1", desc, true)
    };
    let u = send(&up, &req, wf).await?;
    let qr = u
        .qrcode
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("the preview answer carried no QR code"))?;
    // Read the code back from WeChat's image, then render it as a PNG and for the terminal.
    let content = crate::adapters::qr::decode(qr);
    let mut blocks = None;
    let (bytes, content) = match content
        .as_deref()
        .and_then(|c| crate::adapters::qr::png(c).map(|png| (png, c)))
    {
        Some((png, c)) => {
            blocks = crate::adapters::qr::terminal(c);
            if let Some(b) = &blocks {
                tracing::info!("preview QR code (scan it with WeChat):\n{b}");
            }
            (png, c.to_owned())
        }
        None => {
            tracing::warn!(
                "could not read the QR code back from WeChat's image; saving the image as it came"
            );
            (qr.clone(), String::new())
        }
    };
    std::fs::write(&out, &bytes)
        .with_context(|| format!("writing the QR code to {}", out.display()))?;
    tracing::info!("preview QR code saved to {}", out.display());
    // The chats: WeCom shows the QR code itself; the others get the link, if there is one.
    let notice = mp_release_core::notify::Notice {
        appid: up.appid.clone(),
        version: None,
        previous: None,
        event: mp_release_core::notify::Event::Preview {
            packages: u.packages(),
            qr_link: gh.qrcode_url(),
        },
        links: gh.links.clone(),
        packages: Vec::new(),
    };
    let chat_warnings =
        crate::adapters::notify::Notifier::tell(&g.notify, &g.net, &notice, Some(&bytes)).await;
    let preview = mp_release_core::github::Preview {
        trial: false,
        image_url: gh.qrcode_url(),
        blocks,
        packages: u.packages(),
    };
    gh.comment(&up.appid, None, Some(&preview)).await;
    let mut r = report(
        &up,
        &u,
        vec![
            ("qrcode".into(), out.display().to_string()),
            ("qrcode-content".into(), content),
            (
                "qrcode-base64".into(),
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &bytes),
            ),
        ],
        "mp-release preview",
    );
    r.annotations.extend(gh.annotations());
    r.annotations.extend(
        chat_warnings
            .into_iter()
            .map(|w| (crate::output::Level::Warning, w)),
    );
    Ok(r)
}
