//! The commands that talk to WeChat, one file each where they are single calls (`status`,
//! `withdraw`, `quota`, `rollback`, `comment`); the pipeline commands (`run`, `submit`, `wait`,
//! `publish`) go through `app::pipeline`. `command` dispatches one line per command after the
//! settings of that command are validated; nothing is sent before.

mod comment;
mod quota;
mod rollback;
mod status;
mod withdraw;

use super::pipeline::{
    pipeline, pipeline_settings, publish, reporter, require_platform, wait, Kind,
};
use crate::app::Report;
use crate::cli::Command;
use crate::output::Workflow;
use crate::settings::{self, Globals, Layers};
use serde_json::{json, Value};

/// Runs one WeChat command.
pub(super) fn command(
    cmd: &Command,
    layers: &Layers<'_>,
    g: &Globals,
    wf: &mut Workflow,
) -> anyhow::Result<Report> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // The GitHub client (octocrab) spawns its worker when built, so build it inside the runtime.
    let _rt = rt.enter();
    let cwd = &g.cwd;
    let flag = |name: &str, set: bool| -> Result<bool, settings::UsageError> {
        Ok(layers
            .parse(name, set.then_some("true"), settings::parse_bool)?
            .is_some_and(|(b, _)| b))
    };
    match cmd {
        Command::Run(a) if flag("sandbox", a.sandbox)? => {
            rt.block_on(crate::app::sandbox::sandbox(wf))
        }
        Command::Run(a) => {
            let (ws, ps, vs) =
                pipeline_settings(&a.wechat, &a.pipeline, &a.version, &a.upload, layers, cwd)?;
            let mut gh = reporter(&a.github, layers, g, &vs.tag_prefix)?;
            rt.block_on(pipeline(ws, ps, &vs, g, wf, Kind::Run, &mut gh))
        }
        Command::Submit(a) => {
            let (ws, ps, vs) =
                pipeline_settings(&a.wechat, &a.pipeline, &a.version, &a.upload, layers, cwd)?;
            let mut gh = reporter(&a.github, layers, g, &vs.tag_prefix)?;
            rt.block_on(pipeline(ws, ps, &vs, g, wf, Kind::Submit, &mut gh))
        }
        Command::Resume(a) => {
            let ws = settings::wechat(&a.wechat, layers, cwd)?;
            require_platform(&ws)?;
            let mut ps = settings::pipeline(&a.pipeline, layers, cwd, &ws.appid)?;
            if layers
                .pick("wait-timeout", a.pipeline.wait_timeout.as_deref())
                .is_none()
            {
                ps.rules.wait.timeout_secs = 0;
            }
            let vs = settings::version(&crate::cli::VersionArgs::default(), layers, cwd)?;
            let gs = settings::github(&a.github, layers)?;
            let rs = settings::resume(a, layers, &gs)?;
            rt.block_on(crate::app::resume::resume(
                ws,
                ps,
                rs,
                gs,
                g,
                &vs.tag_prefix,
                wf,
            ))
        }
        Command::Wait(a) => {
            let ws = settings::wechat(&a.wechat, layers, cwd)?;
            require_platform(&ws)?;
            let ps = settings::pipeline(&a.pipeline, layers, cwd, &ws.appid)?;
            let audit_id = layers
                .parse("audit-id", a.audit_id.as_deref(), |s| {
                    s.trim()
                        .parse::<u64>()
                        .map_err(|_| format!("expected a review id (a number), got {s:?}"))
                })?
                .map(|(v, _)| v);
            rt.block_on(wait(ws, ps, audit_id, wf, g.dry_run))
        }
        Command::Publish(a) => {
            let ws = settings::wechat(&a.wechat, layers, cwd)?;
            require_platform(&ws)?;
            let ps = settings::pipeline(&a.pipeline, layers, cwd, &ws.appid)?;
            rt.block_on(publish(ws, ps, wf, g.dry_run))
        }
        Command::Status(a) => {
            let ws = settings::wechat(&a.wechat, layers, cwd)?;
            if !ws.credentials.can_manage_code() && a.qrcode.is_none() {
                require_platform(&ws)?;
            }
            let audit_id = layers
                .parse("audit-id", a.audit_id.as_deref(), |s| {
                    s.trim()
                        .parse::<u64>()
                        .map_err(|_| format!("expected a review id (a number), got {s:?}"))
                })?
                .map(|(v, _)| v);
            let qrcode = layers
                .pick("qrcode", a.qrcode.as_deref())
                .map(|(p, _)| cwd.join(p));
            rt.block_on(status::status(ws, audit_id, qrcode, wf))
        }
        Command::Withdraw(a) => {
            let ws = settings::wechat(&a.wechat, layers, cwd)?;
            if g.dry_run {
                return Ok(dry("withdraw the review in flight (undocodeaudit)"));
            }
            rt.block_on(withdraw::withdraw(ws, wf))
        }
        Command::Quota(a) => {
            rt.block_on(quota::quota(settings::wechat(&a.wechat, layers, cwd)?, wf))
        }
        Command::Rollback(a) => {
            let ws = settings::wechat(&a.wechat, layers, cwd)?;
            let to = layers
                .parse("to", a.to.as_deref(), |t| {
                    t.trim().parse::<u64>().map_err(|_| {
                        format!("expected an app_version number from `rollback --list`, got {t:?}")
                    })
                })?
                .map(|(v, _)| v);
            let list = flag("list", a.list)?;
            if g.dry_run && !list {
                return Ok(dry("roll the live version back (revertcoderelease)"));
            }
            rt.block_on(rollback::rollback(ws, list, to, wf))
        }
        Command::Upload(a) => {
            let up = settings::upload(&a.upload, &a.wechat, layers, cwd, true)?.expect("required");
            let vs = settings::version(&a.version, layers, cwd)?;
            let desc = layers.pick("desc", a.desc.as_deref()).map(|(d, _)| d);
            if g.dry_run {
                return Ok(dry("upload the project as a new version"));
            }
            rt.block_on(crate::app::upload::upload(up, &vs, desc, g, wf))
        }
        Command::Preview(a) => {
            let up = settings::upload(&a.upload, &a.wechat, layers, cwd, true)?.expect("required");
            // A preview is never tagged: the tag prefix does not matter.
            let gh = reporter(&a.github, layers, g, "v")?;
            let page = layers
                .pick("page-path", a.page_path.as_deref())
                .map(|(p, _)| {
                    (
                        p,
                        layers
                            .pick("search-query", a.search_query.as_deref())
                            .map(|(q, _)| q),
                    )
                });
            let out = layers
                .parse("qrcode-output", a.qrcode_output.as_deref(), |p| {
                    let p = cwd.join(p);
                    settings::writable_file(&p)?;
                    Ok(p)
                })?
                .map_or_else(|| cwd.join("preview-qrcode.png"), |(p, _)| p);
            let desc = layers.pick("desc", a.desc.as_deref()).map(|(d, _)| d);
            if g.dry_run {
                return Ok(dry("upload a preview and comment on the pull request"));
            }
            rt.block_on(crate::app::upload::preview(up, page, out, desc, wf, gh))
        }
        Command::Comment(a) => {
            let appid = settings::appid(a.appid.as_deref(), layers)?;
            let content = layers
                .pick("qrcode-content", a.qrcode_content.as_deref())
                .map(|(c, _)| c);
            let packages = settings::package_sizes(a.package_sizes.as_deref(), layers)?;
            let gh = reporter(&a.github, layers, g, "v")?;
            if g.dry_run {
                return Ok(dry("write the pull-request comment"));
            }
            rt.block_on(comment::comment(&appid, content, packages, gh))
        }
        Command::Version(_) | Command::Emulator(_) => unreachable!("handled by the caller"),
    }
}

/// `--dry-run` of a command that is one change: the inputs were valid; nothing is sent.
pub(super) fn dry(what: &str) -> Report {
    tracing::info!("dry run: would {what}; nothing was sent");
    simple(
        vec![("dry-run", "true".into())],
        format!("### 🧪 mp-release dry run\n\nthe inputs are valid; it would {what}. Nothing was sent.\n"),
    )
}

/// The report's word for a review status.
pub(super) fn status_word(status: u8) -> &'static str {
    match status {
        0 => "approved",
        1 => "rejected",
        2 => "pending",
        3 => "withdrawn",
        4 => "delayed",
        _ => "none",
    }
}

pub(super) fn simple(outputs: Vec<(&str, String)>, summary: String) -> Report {
    let outputs: Vec<(String, String)> = outputs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let json = Value::Object(outputs.iter().map(|(k, v)| (k.clone(), json!(v))).collect());
    Report {
        outputs,
        json,
        summary,
        ..Report::default()
    }
}
