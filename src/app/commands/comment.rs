//! `mp-release comment`: the sticky pull-request comment of a preview.

use super::simple;
use super::{dry, Ctx};
use crate::app::github::Reporter;
use crate::app::pipeline::reporter;
use crate::app::Report;
use crate::cli::CommentArgs;
use crate::output::Workflow;

pub(super) fn run(a: &CommentArgs, cx: &Ctx<'_, '_>, _wf: &mut Workflow) -> anyhow::Result<Report> {
    let appid = crate::settings::appid(a.appid.as_deref(), cx.layers)?;
    let content = cx
        .layers
        .pick("qrcode-content", a.qrcode_content.as_deref())
        .map(|(c, _)| c);
    let packages = crate::settings::package_sizes(a.package_sizes.as_deref(), cx.layers)?;
    let gh = reporter(&a.github, cx.layers, cx.g, "v")?;
    if cx.g.dry_run {
        return Ok(dry("write the pull-request comment"));
    }
    cx.rt.block_on(comment(&appid, content, packages, gh))
}

/// `mp-release comment`: the preview's sticky comment, with the QR code's link when there is one.
pub(super) async fn comment(
    appid: &str,
    content: Option<String>,
    packages: Vec<(String, u64, u64)>,
    mut gh: Reporter,
) -> anyhow::Result<Report> {
    let preview = mp_release_core::github::Preview {
        trial: false,
        image_url: gh.qrcode_url(),
        blocks: content.as_deref().and_then(crate::adapters::qr::terminal),
        packages,
    };
    gh.comment(appid, None, Some(&preview)).await;
    let mut r = simple(
        vec![("comment-url", gh.comment_url.clone().unwrap_or_default())],
        String::new(),
    );
    r.annotations.extend(gh.annotations());
    Ok(r)
}
