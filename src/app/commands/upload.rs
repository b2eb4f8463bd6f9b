//! `mp-release upload` and `mp-release preview`: their settings (all validated before the first
//! byte is sent); the work is `app::upload`.

use super::{dry, Ctx};
use crate::app::pipeline::reporter;
use crate::app::Report;
use crate::cli::{PreviewArgs, UploadArgs};
use crate::output::Workflow;
use crate::settings;

pub(super) fn upload(
    a: &UploadArgs,
    cx: &Ctx<'_, '_>,
    wf: &mut Workflow,
) -> anyhow::Result<Report> {
    let (layers, cwd) = (cx.layers, &cx.g.cwd);
    let up = settings::upload(&a.upload, &a.wechat, layers, cx.g, true)?.expect("required");
    let vs = settings::version(&a.version, layers, cwd)?;
    let desc = layers.pick("desc", a.desc.as_deref()).map(|(d, _)| d);
    if cx.g.dry_run {
        return Ok(dry("upload the project as a new version"));
    }
    cx.rt
        .block_on(crate::app::upload::upload(up, &vs, desc, cx.g, wf))
}

pub(super) fn preview(
    a: &PreviewArgs,
    cx: &Ctx<'_, '_>,
    wf: &mut Workflow,
) -> anyhow::Result<Report> {
    let (layers, cwd) = (cx.layers, &cx.g.cwd);
    let up = settings::upload(&a.upload, &a.wechat, layers, cx.g, true)?.expect("required");
    // A preview is never tagged: the tag prefix does not matter.
    let gh = reporter(&a.github, layers, cx.g, "v")?;
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
    let scene = layers
        .parse("scene", a.scene.as_deref(), |s| match s.trim().parse::<u32>() {
            Ok(n @ 1000..=9999) => Ok(n),
            _ => Err(format!("expected a scene number from 1000 to 9999 (e.g. 1011: scanning a QR code), got {s:?}")),
        })?
        .map_or(1011, |(n, _)| n);
    let desc = layers.pick("desc", a.desc.as_deref()).map(|(d, _)| d);
    if cx.g.dry_run {
        return Ok(dry("upload a preview and comment on the pull request"));
    }
    let options = crate::app::upload::PreviewOptions {
        page,
        scene,
        out,
        desc,
    };
    cx.rt
        .block_on(crate::app::upload::preview(up, options, wf, gh, cx.g))
}
