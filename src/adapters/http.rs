//! The HTTP policy every WeChat client shares (the API host and the upload host): no redirect is
//! ever followed, answers are read up to a size cap, and a redirect is reported with the host it
//! pointed to. One place, so that a new client cannot forget a rule.
//!
//! Why no redirects: WeChat's APIs never redirect, and following one re-sends the request, with
//! its `access_token` in the query and secrets in the body, to a host the answer chose. A 3xx
//! is an infrastructure failure that names that host.

use std::time::Duration;
use url::Url;

/// The largest JSON answer read from a WeChat API (the biggest real ones are a few KiB).
pub const JSON_CAP: usize = 8 << 20;

/// The largest image read (the trial QR code is a JPEG of a few KiB; the emulator's too).
pub const IMAGE_CAP: usize = 4 << 20;

/// A `reqwest` client with the shared policy: user agent, timeouts, rustls, no redirects, and the
/// proxy when one is given (an ambient `HTTPS_PROXY` is ignored on purpose: it would silently
/// change the egress IP that WeChat's whitelists see).
pub fn client(timeout: Duration, proxy: Option<&Url>) -> anyhow::Result<reqwest::Client> {
    let builder = reqwest::Client::builder()
        .user_agent(concat!("mp-release/", env!("CARGO_PKG_VERSION")))
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        .use_rustls_tls();
    let builder = match proxy {
        Some(p) => builder.proxy(reqwest::Proxy::all(p.as_str())?),
        None => builder.no_proxy(),
    };
    Ok(builder.build()?)
}

/// Where a redirect answer points: the host of its `Location` (never the whole URL, which may
/// carry a token), or a word saying there was none.
pub fn redirect_target(resp: &reqwest::Response) -> String {
    let location = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match resp.url().join(location) {
        Ok(u) if !location.is_empty() => format!(
            "{}://{}{}",
            u.scheme(),
            u.host_str().unwrap_or("?"),
            u.port().map(|p| format!(":{p}")).unwrap_or_default()
        ),
        _ => "no Location".to_owned(),
    }
}

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// The answer is larger than the cap (`Content-Length` or counted while reading).
    TooLarge(usize),
    /// The connection failed mid-answer.
    Transport(reqwest::Error),
}

/// Reads the body, refusing more than `cap` bytes without reading them all.
pub async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, BodyError> {
    if let Some(len) = resp.content_length() {
        if len > cap as u64 {
            return Err(BodyError::TooLarge(cap));
        }
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Transport)? {
        if out.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge(cap));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
