//! Where the `authorizer_access_token` comes from, and keeping it fresh.
//!
//! Three ways, as product.md lists: given directly (`access-token`); made from component credentials
//! (`component-access-token`, or `component-secret` + `component-verify-ticket`) plus the
//! `authorizer-refresh-token`; never `cgi-bin/token`, which would break the user's production token.
//! Every token is masked the moment it is obtained. A token is refreshed proactively 10 minutes before
//! it expires, and once more when WeChat says it is invalid or expired.
#![allow(clippy::result_large_err)] // see the client module: errors carry WeChat's answer

use super::{CallError, WeChat};
use crate::secrets::Masker;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use std::sync::Arc;

/// Refresh this long before expiry (the reference: "about 10 min").
const EARLY_REFRESH: u64 = 600;

/// How the component token is obtained.
#[derive(Debug, Clone)]
pub enum ComponentAuth {
    /// Given directly.
    Token(SecretString),
    /// From the component secret and a `component_verify_ticket` (< 12 h old).
    Ticket {
        /// `component_appsecret`.
        secret: SecretString,
        /// The latest ticket pushed by WeChat.
        ticket: SecretString,
    },
}

/// The credentials for code management.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// An `authorizer_access_token` from the user's token service; it cannot be refreshed here.
    Direct(SecretString),
    /// A third-party platform acting for an authorized mini program.
    Component {
        /// The platform.
        component_appid: String,
        /// Its token or secret + ticket.
        auth: ComponentAuth,
        /// The mini program.
        authorizer_appid: String,
        /// `authorizer_refresh_token`.
        refresh_token: SecretString,
    },
    /// A platform's token service hands out the authorizer tokens (`GET url?appid=…`, answering
    /// `{authorizer_access_token, expires_in}`); asked again when WeChat refuses one.
    Service {
        /// The service.
        url: url::Url,
        /// A bearer token for it, if it wants one.
        auth: Option<SecretString>,
        /// The mini program.
        appid: String,
    },
    /// The mini program's own token, from `stable_token` in normal mode (never `cgi-bin/token`,
    /// which would invalidate the user's production token). Good for the few own-token calls
    /// (the trial QR code); WeChat refuses code management with it (86000).
    Own {
        /// The mini program.
        appid: String,
        /// Its AppSecret.
        secret: SecretString,
    },
}

impl Credentials {
    /// Whether these credentials can drive review and release (a third-party platform's).
    pub fn can_manage_code(&self) -> bool {
        !matches!(self, Self::Own { .. })
    }
}

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The token endpoint refused.
    #[error("getting an access token: {}", .0.explain())]
    Call(#[from] CallError),
    /// A direct token was rejected and cannot be refreshed here.
    #[error("the access-token input is invalid or expired ({0}); pass a fresh authorizer_access_token, or give component credentials so mp-release can refresh it")]
    DirectRejected(i64),
    /// The answer had no token.
    #[error("the token endpoint answered without a token")]
    Missing,
}

/// A third-party platform's component token: one per platform, shared by every app the process
/// releases for it (a fleet asks for it once, not once per app).
#[derive(Debug)]
pub struct Platform {
    component_appid: String,
    auth: ComponentAuth,
    cached: Option<(String, u64)>,
    /// Component tokens fetched so far (for tests and logs).
    pub fetched: u32,
}

/// A platform shared between token sources.
pub type SharedPlatform = Arc<tokio::sync::Mutex<Platform>>;

impl Platform {
    /// A platform with its credentials.
    pub fn new(component_appid: String, auth: ComponentAuth) -> Self {
        Self {
            component_appid,
            auth,
            cached: None,
            fetched: 0,
        }
    }

    /// A valid component token, fetched when there is none or it is within 10 minutes of expiry.
    async fn token(
        &mut self,
        wx: &WeChat,
        now: u64,
        masker: &Masker,
    ) -> Result<String, TokenError> {
        match &self.auth {
            ComponentAuth::Token(t) => Ok(t.expose_secret().to_owned()),
            ComponentAuth::Ticket { secret, ticket } => {
                if let Some((t, exp)) = &self.cached {
                    if now.saturating_add(EARLY_REFRESH) < *exp {
                        return Ok(t.clone());
                    }
                }
                let body = json!({
                    "component_appid": self.component_appid,
                    "component_appsecret": secret.expose_secret(),
                    "component_verify_ticket": ticket.expose_secret(),
                });
                let v = wx
                    .post("/cgi-bin/component/api_component_token", None, &body)
                    .await?;
                let (token, expires) = token_of(&v, "component_access_token")?;
                // A failure to print the mask is a failure to protect the secret; the redactor
                // (which `mask` fills first) still scrubs it from everything written.
                let _ = masker.mask(&token);
                self.fetched += 1;
                self.cached = Some((token.clone(), now.saturating_add(expires)));
                Ok(token)
            }
        }
    }
}

/// A token source with its cache: the app's authorizer token, and the platform's component token
/// through a handle that other apps' sources may share.
#[derive(Debug)]
pub struct Tokens {
    creds: Credentials,
    masker: Masker,
    authorizer: Option<(String, u64)>,
    platform: Option<SharedPlatform>,
    /// The calls are the platform's own (template library, authorizer list): they take the
    /// component token.
    component_calls: bool,
}

impl Tokens {
    /// A provider; the given secrets were masked at start-up already.
    pub fn new(creds: Credentials, masker: Masker) -> Self {
        let platform = match &creds {
            Credentials::Component {
                component_appid,
                auth,
                ..
            } => Some(Arc::new(tokio::sync::Mutex::new(Platform::new(
                component_appid.clone(),
                auth.clone(),
            )))),
            _ => None,
        };
        Self {
            creds,
            masker,
            authorizer: None,
            platform,
            component_calls: false,
        }
    }

    /// A source of the platform's component token, for the platform's own calls.
    pub fn component(platform: SharedPlatform, component_appid: String, masker: Masker) -> Self {
        let creds = Credentials::Component {
            component_appid,
            auth: ComponentAuth::Token(SecretString::from(String::new())),
            authorizer_appid: String::new(),
            refresh_token: SecretString::from(String::new()),
        };
        Self {
            creds,
            masker,
            authorizer: None,
            platform: Some(platform),
            component_calls: true,
        }
    }

    /// The same credentials' app, with its component token from `platform` (shared with others:
    /// a fleet's apps ask for the platform's token once).
    #[must_use]
    pub fn sharing(mut self, platform: SharedPlatform) -> Self {
        if matches!(self.creds, Credentials::Component { .. }) {
            self.platform = Some(platform);
        }
        self
    }

    /// The calling account, for rate limits: the mini program the token acts for.
    pub fn account(&self) -> &str {
        match &self.creds {
            Credentials::Component {
                component_appid, ..
            } if self.component_calls => component_appid,
            Credentials::Component {
                authorizer_appid, ..
            } => authorizer_appid,
            Credentials::Own { appid, .. } | Credentials::Service { appid, .. } => appid,
            Credentials::Direct(_) => "access-token",
        }
    }

    /// The platform handle, to share with other apps' token sources.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn platform(&self) -> Option<SharedPlatform> {
        self.platform.clone()
    }

    fn keep(&self, token: &str) {
        // A failure to print the mask is a failure to protect the secret: nothing may follow it,
        // and the redactor (which `mask` fills first) still scrubs it from everything we write.
        let _ = self.masker.mask(token);
    }

    /// Whether `get` would answer from the cache (no token request to WeChat).
    pub fn cached(&self, now: u64) -> bool {
        if self.component_calls {
            // The shared component token: cached unless it is missing or due (a busy lock is
            // taken as "not cached", which only costs a rate-limit slot).
            return self.platform.as_ref().is_some_and(|p| {
                p.try_lock().is_ok_and(|p| match (&p.auth, &p.cached) {
                    (ComponentAuth::Token(_), _) => true,
                    (_, Some((_, exp))) => now.saturating_add(EARLY_REFRESH) < *exp,
                    _ => false,
                })
            });
        }
        match (&self.creds, &self.authorizer) {
            (Credentials::Direct(_), _) => true,
            (_, Some((_, exp))) => now.saturating_add(EARLY_REFRESH) < *exp,
            _ => false,
        }
    }

    /// A valid authorizer token, refreshed when it is within 10 minutes of expiry.
    pub async fn get(&mut self, wx: &WeChat, now: u64) -> Result<String, TokenError> {
        if self.component_calls {
            return self.component_token(wx, now).await;
        }
        if let Credentials::Direct(t) = &self.creds {
            return Ok(t.expose_secret().to_owned());
        }
        match &self.authorizer {
            Some((t, exp)) if now.saturating_add(EARLY_REFRESH) < *exp => Ok(t.clone()),
            _ => self.refresh(wx, now).await,
        }
    }

    /// Fetches a new authorizer token (after 40001/40014/42001). `code` is what WeChat said.
    pub async fn refresh_after(
        &mut self,
        wx: &WeChat,
        now: u64,
        code: i64,
    ) -> Result<String, TokenError> {
        if matches!(self.creds, Credentials::Direct(_)) {
            return Err(TokenError::DirectRejected(code));
        }
        // The component token may be the stale one too.
        if let Some(p) = &self.platform {
            p.lock().await.cached = None;
        }
        if self.component_calls {
            return self.component_token(wx, now).await;
        }
        self.refresh(wx, now).await
    }

    async fn component_token(&mut self, wx: &WeChat, now: u64) -> Result<String, TokenError> {
        let Some(p) = &self.platform else {
            return Err(TokenError::Missing);
        };
        p.lock().await.token(wx, now, &self.masker).await
    }

    async fn refresh(&mut self, wx: &WeChat, now: u64) -> Result<String, TokenError> {
        if let Credentials::Service { url, auth, appid } = &self.creds {
            let mut u = url.clone();
            u.query_pairs_mut().append_pair("appid", appid);
            let v = wx
                .get_external(
                    "token service",
                    &u,
                    auth.as_ref().map(ExposeSecret::expose_secret),
                )
                .await?;
            let field = if v.get("authorizer_access_token").is_some() {
                "authorizer_access_token"
            } else {
                "access_token"
            };
            let (token, expires) = token_of(&v, field)?;
            self.keep(&token);
            self.authorizer = Some((token.clone(), now.saturating_add(expires)));
            return Ok(token);
        }
        if let Credentials::Own { appid, secret } = &self.creds {
            let body = json!({
                "grant_type": "client_credential",
                "appid": appid,
                "secret": secret.expose_secret(),
                "force_refresh": false,
            });
            let v = wx.post("/cgi-bin/stable_token", None, &body).await?;
            let (token, expires) = token_of(&v, "access_token")?;
            self.keep(&token);
            self.authorizer = Some((token.clone(), now.saturating_add(expires)));
            return Ok(token);
        }
        let component = self.component_token(wx, now).await?;
        let Credentials::Component {
            component_appid,
            authorizer_appid,
            refresh_token,
            ..
        } = &self.creds
        else {
            return Err(TokenError::Missing);
        };
        let body = json!({
            "component_appid": component_appid,
            "authorizer_appid": authorizer_appid,
            "authorizer_refresh_token": refresh_token.expose_secret(),
        });
        let v = wx
            .post(
                "/cgi-bin/component/api_authorizer_token",
                Some(&component),
                &body,
            )
            .await?;
        let (token, expires) = token_of(&v, "authorizer_access_token")?;
        self.keep(&token);
        if let Some(new_refresh) = v.get("authorizer_refresh_token").and_then(Value::as_str) {
            self.keep(new_refresh);
        }
        tracing::debug!("new authorizer token, valid {expires} s");
        self.authorizer = Some((token.clone(), now.saturating_add(expires)));
        Ok(token)
    }
}

/// WeChat's tokens live 7200 s: a longer `expires_in` is clamped to it, so a wrong answer can
/// only make mp-release refresh early, never keep a dead token (or overflow a deadline).
const MAX_TOKEN_LIFE: u64 = 7200;

fn token_of(v: &Value, field: &str) -> Result<(String, u64), TokenError> {
    let token = v
        .get(field)
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or(TokenError::Missing)?;
    let expires = v
        .get("expires_in")
        .and_then(Value::as_u64)
        .unwrap_or(MAX_TOKEN_LIFE);
    if expires > MAX_TOKEN_LIFE {
        tracing::warn!(
            "{field}: WeChat said it lives {expires} s; using {MAX_TOKEN_LIFE} s, the documented lifetime"
        );
    }
    Ok((token.to_owned(), expires.min(MAX_TOKEN_LIFE)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mp_release_emulator::{AppSpec, Emulator, Scenario, World};

    fn masker() -> Masker {
        let out: Box<dyn std::io::Write + Send> = Box::new(std::io::sink());
        Masker::new(
            false,
            Arc::new(std::sync::Mutex::new(out)),
            crate::secrets::Redactor::default(),
        )
    }

    /// Two apps of one platform: one component token between them, one authorizer token each.
    #[tokio::test]
    async fn apps_of_one_platform_share_its_component_token() {
        const C: &str = "wxc0c0c0c0c0c0c0c0";
        let mut w = World::new(Scenario::default());
        let ticket = w.add_platform(C, "platform-secret");
        let apps = ["wxa1a1a1a1a1a1a1a1", "wxa2a2a2a2a2a2a2a2"];
        let regs: Vec<_> = apps
            .iter()
            .map(|a| w.add_app(AppSpec::authorized(a, C)))
            .collect();
        let emu = Emulator::start_with(w);
        let wx = WeChat::new(
            &url::Url::parse(&emu.uri()).unwrap(),
            std::time::Duration::from_secs(5),
            &crate::adapters::http::Net::default(),
        )
        .unwrap();
        let creds = |i: usize| Credentials::Component {
            component_appid: C.into(),
            auth: ComponentAuth::Ticket {
                secret: "platform-secret".into(),
                ticket: ticket.clone().into(),
            },
            authorizer_appid: apps[i].into(),
            refresh_token: regs[i].refresh_token.clone().into(),
        };
        let mut first = Tokens::new(creds(0), masker());
        let shared = first.platform().unwrap();
        let mut second = Tokens::new(creds(1), masker()).sharing(shared.clone());
        let now = emu.world().now();
        let (a, b) = (
            first.get(&wx, now).await.unwrap(),
            second.get(&wx, now).await.unwrap(),
        );
        assert_ne!(a, b, "each app its own authorizer token");
        assert_eq!(
            shared.lock().await.fetched,
            1,
            "one component token for both"
        );
        let w = emu.world();
        assert_eq!(w.successes("/cgi-bin/component/api_component_token"), 1);
        assert_eq!(w.successes("/cgi-bin/component/api_authorizer_token"), 2);
    }
}
