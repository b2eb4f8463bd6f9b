//! Validated settings of `mp-release relay`: where it listens, the platform's message crypto, the
//! ticket file, the replay window, and the repository it dispatches to.

use super::parse::{bounded_duration, check_appid};
use super::{Layers, UsageError};
use crate::cli::RelayArgs;
use secrecy::SecretString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// `relay`.
#[derive(Debug, Clone)]
pub struct RelaySettings {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The Token (secret).
    pub token: SecretString,
    /// The EncodingAESKey (secret).
    pub aes_key: SecretString,
    /// The platform's appid.
    pub component_appid: String,
    /// Where the latest ticket goes.
    pub ticket_file: Option<PathBuf>,
    /// The replay window.
    pub max_age: Duration,
    /// The dispatch's event type.
    pub event_type: String,
    /// owner/repo (`None`: pushes are verified and logged, nothing dispatched).
    pub repository: Option<String>,
    /// The token for the dispatches (secret).
    pub github_token: Option<SecretString>,
    /// The GitHub API.
    pub api_url: String,
    /// Proxies and trust (the process's policy).
    pub net: crate::adapters::http::Net,
    /// The platform's AppSecret, to look up review ids (with the tickets pushed).
    pub component_secret: Option<SecretString>,
    /// A ticket to start with.
    pub ticket: Option<SecretString>,
    /// WeChat's API.
    pub wechat_base: url::Url,
}

/// Reads `relay`'s settings.
pub fn relay(
    a: &RelayArgs,
    layers: &Layers<'_>,
    g: &super::Globals,
) -> Result<RelaySettings, UsageError> {
    let listen = layers
        .parse("listen", a.listen.as_deref(), |s| {
            s.trim().parse::<SocketAddr>().map_err(|_| {
                format!("expected an address such as 127.0.0.1:8080 or 0.0.0.0:8080, got {s:?}")
            })
        })?
        .map_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)), |(a, _)| a);
    let Some((token, _)) = layers.pick("push-token", a.push_token.as_deref()) else {
        return Err(UsageError::new(
            "push-token is not set: give the platform's message Token (开放平台 → 第三方平台 → 开发资料 → 消息校验Token)",
        ));
    };
    let Some((key, key_origin)) = layers.pick("encoding-aes-key", a.encoding_aes_key.as_deref())
    else {
        return Err(UsageError::new(
            "encoding-aes-key is not set: give the platform's EncodingAESKey (消息加解密Key, 43 characters)",
        ));
    };
    let Some((component_appid, _)) =
        layers.parse("component-appid", a.component_appid.as_deref(), check_appid)?
    else {
        return Err(UsageError::new(
            "component-appid is not set: every push names the platform it is for, and pushes for another are refused",
        ));
    };
    if let Err(e) = mp_release_core::push::Crypt::new(&token, &key, &component_appid) {
        return Err(UsageError::input(&key_origin, e));
    }
    let ticket_file = layers
        .parse("ticket-file", a.ticket_file.as_deref(), |s| {
            let p = g.cwd.join(s);
            super::writable_file(&p)?;
            Ok(p)
        })?
        .map(|(p, _)| p);
    let max_age = layers
        .parse("push-max-age", a.push_max_age.as_deref(), |s| {
            bounded_duration(s, Duration::from_secs(1), Duration::from_secs(86_400))
        })?
        .map_or(Duration::from_secs(300), |(d, _)| d);
    let event_type = layers
        .parse("dispatch-event", a.dispatch_event.as_deref(), |s| {
            let s = s.trim();
            if s.is_empty() || s.chars().count() > 100 {
                Err("GitHub takes an event type of 1 to 100 characters".to_owned())
            } else {
                Ok(s.to_owned())
            }
        })?
        .map_or_else(|| "weapp-audit".to_owned(), |(t, _)| t);
    let repository = super::github::repository(layers, a.repository.as_deref())?;
    let api_url = super::github::api_url(layers, a.github_api_url.as_deref())?;
    let github_token = layers
        .pick("github-token", a.github_token.as_deref())
        .map(|(t, _)| SecretString::from(t));
    if repository.is_some() && github_token.is_none() {
        return Err(UsageError::new(
            "repository is set but github-token is not: the dispatches need a token with Contents: write (a fine-grained token or a GitHub App's)",
        ));
    }
    let component_secret = layers
        .pick("component-secret", a.component_secret.as_deref())
        .map(|(v, _)| SecretString::from(v));
    let ticket = layers
        .pick(
            "component-verify-ticket",
            a.component_verify_ticket.as_deref(),
        )
        .map(|(v, _)| SecretString::from(v));
    let wechat_base = layers
        .parse(
            "wechat-base-url",
            a.wechat_base_url.as_deref(),
            super::parse::url,
        )?
        .map_or_else(
            || url::Url::parse(crate::adapters::wechat::DEFAULT_BASE).expect("a valid constant"),
            |(u, _)| u,
        );
    Ok(RelaySettings {
        component_secret,
        ticket,
        wechat_base,
        listen,
        token: SecretString::from(token),
        aes_key: SecretString::from(key),
        component_appid,
        ticket_file,
        max_age,
        event_type,
        repository,
        github_token,
        api_url,
        net: g.net.clone(),
    })
}
