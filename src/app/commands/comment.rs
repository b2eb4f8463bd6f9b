//! `mp-release comment`: the sticky pull-request comment of a preview.

use super::simple;
use crate::app::github::Reporter;
use crate::app::Report;

/// `mp-release comment`: the preview's sticky comment, with the QR code's link when there is one.
pub(super) async fn comment(
    appid: &str,
    content: Option<String>,
    packages: Vec<(String, u64, u64)>,
    mut gh: Reporter,
) -> anyhow::Result<Report> {
    let preview = mp_release_core::github::Preview {
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
