//! Token endpoints: `cgi-bin/token`, `stable_token`, and the component/authorizer token flow.

use super::model::{Token, TokenKind};
use super::{Answer, Ctx, World};
use serde_json::{json, Value};

/// A ticket is valid for 12 hours.
const TICKET_LIFETIME: u64 = 12 * 3600;
/// `stable_token` renews 5 minutes before expiry; `cgi-bin/token` leaves the old token 5 minutes.
const OVERLAP: u64 = 300;

impl World {
    fn issue(&mut self, prefix: &str, kind: TokenKind) -> (String, u64) {
        let value = self.opaque(prefix);
        let lifetime = self.scenario.token_lifetime;
        let expires_at = self.now() + lifetime;
        self.tokens
            .insert(value.clone(), Token { kind, expires_at });
        (value, lifetime)
    }

    fn remaining(&self, token: &str) -> u64 {
        self.tokens
            .get(token)
            .map_or(0, |t| t.expires_at.saturating_sub(self.now()))
    }

    /// Shared checks of the two AppSecret endpoints; returns the appid.
    fn check_secret(
        &self,
        c: &Ctx<'_>,
        grant: Option<&str>,
        appid: Option<&str>,
        secret: Option<&str>,
    ) -> Result<String, i64> {
        if grant != Some("client_credential") {
            return Err(40002);
        }
        let appid = appid.filter(|a| !a.is_empty()).ok_or(41002)?;
        let secret = secret.filter(|s| !s.is_empty()).ok_or(41004)?;
        if self.platforms.contains_key(appid) {
            return Err(61024);
        }
        let app = self.apps.get(appid).ok_or(40013)?;
        if let Some(code) = app.secret_block {
            return Err(code);
        }
        let listed = |l: &Vec<String>| l.iter().any(|ip| ip == c.req.peer_ip());
        if app.api_ip_whitelist.as_ref().is_some_and(|l| !listed(l)) {
            return Err(40164);
        }
        if app.secret != secret {
            // getAccessToken: 40001 for a well-formed secret of another app, 40125 for one that
            // cannot be a secret (32 hex digits). stable_token documents only 40125.
            let well_formed = secret.len() == 32 && secret.bytes().all(|b| b.is_ascii_hexdigit());
            let stable = c.req.path == "/cgi-bin/stable_token";
            return Err(if well_formed && !stable { 40001 } else { 40125 });
        }
        Ok(appid.to_owned())
    }

    /// `GET /cgi-bin/token`: every fetch invalidates the previous token (after a 5-minute overlap).
    pub(super) fn cgi_token(&mut self, c: &Ctx<'_>) -> Answer {
        let r = c.req;
        let appid = self.check_secret(
            c,
            r.param("grant_type"),
            r.param("appid"),
            r.param("secret"),
        )?;
        let now = self.now();
        if let Some(old) = self.apps.get(&appid).and_then(|a| a.own_token.clone()) {
            if let Some(t) = self.tokens.get_mut(&old) {
                t.expires_at = t.expires_at.min(now + OVERLAP);
            }
        }
        let (token, expires_in) = self.issue(
            "ACCESS_",
            TokenKind::Own {
                appid: appid.clone(),
            },
        );
        self.app_mut(&appid)?.own_token = Some(token.clone());
        Ok(json!({ "access_token": token, "expires_in": expires_in }))
    }

    /// `POST /cgi-bin/stable_token`: isolated from `cgi-bin/token`; the same token while it has at
    /// least 5 minutes left; `force_refresh` 20 times a day and at least 30 s apart.
    pub(super) fn stable_token(&mut self, c: &Ctx<'_>) -> Answer {
        let appid = self.check_secret(c, c.str("grant_type"), c.str("appid"), c.str("secret"))?;
        let force = c
            .body
            .get("force_refresh")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        let now = self.now();
        let current = self.apps[&appid]
            .stable_token
            .clone()
            .filter(|t| self.remaining(t) > 0);
        if force {
            let app = self.app_mut(&appid)?;
            let today = crate::clock::day_of(now);
            let used_today = app
                .force_refresh_log
                .iter()
                .filter(|t| crate::clock::day_of(**t) == today)
                .count();
            let last = app.force_refresh_log.last().copied();
            if used_today >= 20 {
                // REFERENCE-UNSURE: the docs give the 20/day limit but no code; we answer 45009.
                return Err(45009);
            }
            let too_soon = last.is_some_and(|t| now < t + 30);
            match (&current, too_soon) {
                // "calls must be ≥ 30 s apart or no refresh happens": the current token is returned.
                (Some(t), true) => {
                    return Ok(json!({ "access_token": t, "expires_in": self.remaining(t) }))
                }
                _ => {
                    app.force_refresh_log.push(now);
                    if let Some(old) = current {
                        self.tokens.remove(&old);
                    }
                }
            }
        } else if let Some(t) = current.filter(|t| self.remaining(t) >= OVERLAP) {
            return Ok(json!({ "access_token": t, "expires_in": self.remaining(&t) }));
        }
        // Renewal: the old token (if any) lives on until its own expiry.
        let (token, expires_in) = self.issue(
            "STABLE_",
            TokenKind::Own {
                appid: appid.clone(),
            },
        );
        self.app_mut(&appid)?.stable_token = Some(token.clone());
        Ok(json!({ "access_token": token, "expires_in": expires_in }))
    }

    /// `POST /cgi-bin/component/api_component_token`.
    pub(super) fn component_token(&mut self, c: &Ctx<'_>) -> Answer {
        let component = c
            .str("component_appid")
            .filter(|s| !s.is_empty())
            .ok_or(41002)?;
        let secret = c
            .str("component_appsecret")
            .filter(|s| !s.is_empty())
            .ok_or(41004)?;
        let ticket = c.str("component_verify_ticket").unwrap_or_default();
        // 40013 for a value that is no appid at all; 61011 for an appid that is no platform.
        if !mp_release_core::wechat::is_appid(component) {
            return Err(40013);
        }
        let p = self.platforms.get(component).ok_or(61011)?;
        if !p.allows(c.req.peer_ip()) {
            return Err(61004);
        }
        if p.secret != secret {
            return Err(40125);
        }
        let issued = p
            .tickets
            .iter()
            .find(|(t, _)| t == ticket)
            .map(|(_, at)| *at)
            .ok_or(61006)?;
        if self.now() >= issued + TICKET_LIFETIME {
            return Err(61005);
        }
        let (token, expires_in) = self.issue(
            "COMPONENT_",
            TokenKind::Component {
                component: component.to_owned(),
            },
        );
        Ok(json!({ "component_access_token": token, "expires_in": expires_in }))
    }

    /// `POST /cgi-bin/component/api_authorizer_token?access_token=COMPONENT_ACCESS_TOKEN`.
    pub(super) fn authorizer_token(&mut self, c: &Ctx<'_>) -> Answer {
        let component = c.caller.component().to_owned();
        let (appid, auth) = self.authorization_in(c)?;
        let refresh = c.str("authorizer_refresh_token").unwrap_or_default();
        if refresh.is_empty() || auth.refresh_token != refresh {
            return Err(61023);
        }
        // REFERENCE-UNSURE: whether the refresh token rotates is undocumented; it does not here.
        let refresh = auth.refresh_token.clone();
        let (token, expires_in) = self.issue(
            "AUTHORIZER_",
            TokenKind::Authorizer {
                component,
                appid: appid.to_owned(),
            },
        );
        Ok(
            json!({ "authorizer_access_token": token, "expires_in": expires_in, "authorizer_refresh_token": refresh }),
        )
    }

    /// `POST /cgi-bin/component/api_query_auth`: the first exchange of an authorization code.
    pub(super) fn query_auth(&mut self, c: &Ctx<'_>) -> Answer {
        let component = c.caller.component().to_owned();
        let code = c.str("authorization_code").unwrap_or_default();
        // C3 (observed): an unknown, expired or already used code answers 61010 `code is expired`.
        let appid = self.auth_codes.remove(code).ok_or(61010)?;
        let refresh = self
            .apps
            .get(&appid)
            .and_then(|a| a.authorization.as_ref())
            .filter(|a| a.component == component)
            .map(|a| a.refresh_token.clone())
            .ok_or(61003)?;
        let (token, expires_in) = self.issue(
            "AUTHORIZER_",
            TokenKind::Authorizer {
                component,
                appid: appid.clone(),
            },
        );
        Ok(json!({ "authorization_info": {
            "authorizer_appid": appid,
            "authorizer_access_token": token,
            "expires_in": expires_in,
            "authorizer_refresh_token": refresh,
            "func_info": [{ "funcscope_category": { "id": 18 } }],
        }}))
    }
}

impl World {
    /// The `authorizer_appid` of a platform's call and its authorization to the calling platform:
    /// 61011 for another platform's `component_appid`, 41002 without an appid, 40013 for an
    /// unknown app, 61003 when it is not authorized to this platform.
    fn authorization_in<'a>(
        &'a self,
        c: &'a Ctx<'_>,
    ) -> Result<(&'a str, &'a super::model::Authorization), i64> {
        let component = c.caller.component();
        if c.str("component_appid").is_some_and(|a| a != component) {
            return Err(61011);
        }
        let appid = c
            .str("authorizer_appid")
            .filter(|s| !s.is_empty())
            .ok_or(41002)?;
        let app = self.apps.get(appid).ok_or(40013)?;
        let auth = app
            .authorization
            .as_ref()
            .filter(|a| a.component == component)
            .ok_or(61003)?;
        Ok((appid, auth))
    }

    /// `POST /cgi-bin/component/api_get_authorizer_list` `{component_appid, offset, count ≤ 500}`:
    /// the platform's authorizers by authorization time, `total_count` and one page of
    /// `{authorizer_appid, refresh_token, auth_time}`.
    /// REFERENCE-UNSURE: the page documents no error for `count` over 500; 61011 for another
    /// platform's appid and 40097 (invalid args) for a bad count are our choice.
    pub(super) fn authorizer_list(&mut self, c: &Ctx<'_>) -> Answer {
        let component = c.caller.component().to_owned();
        if c.str("component_appid").is_some_and(|a| a != component) {
            return Err(61011);
        }
        let offset = usize::try_from(c.num("offset").unwrap_or(0)).unwrap_or(usize::MAX);
        let count = usize::try_from(c.num("count").unwrap_or(500)).unwrap_or(usize::MAX);
        if count == 0 || count > 500 {
            return Err(40097);
        }
        let mut all: Vec<(u64, &str, &super::model::Authorization)> = self
            .apps
            .iter()
            .filter_map(|(appid, a)| {
                a.authorization
                    .as_ref()
                    .filter(|auth| auth.component == component)
                    .map(|auth| (auth.auth_time, appid.as_str(), auth))
            })
            .collect();
        all.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        let list: Vec<Value> = all
            .iter()
            .skip(offset)
            .take(count)
            .map(|(time, appid, auth)| {
                let mut v = json!({ "authorizer_appid": appid, "auth_time": time });
                if auth.refresh_listed {
                    v["refresh_token"] = json!(auth.refresh_token);
                }
                v
            })
            .collect();
        Ok(json!({ "total_count": all.len(), "list": list }))
    }

    /// `POST /cgi-bin/component/api_get_authorizer_info` `{component_appid, authorizer_appid}`:
    /// the authorization's permission sets (`func_info`).
    /// REFERENCE-UNSURE: the shape follows the open-platform page as SDKs model it
    /// (`authorization_info.func_info[].funcscope_category.id`, `authorizer_info.MiniProgramInfo`);
    /// only the fields a release tool reads are served.
    pub(super) fn authorizer_info(&mut self, c: &Ctx<'_>) -> Answer {
        let (appid, auth) = self.authorization_in(c)?;
        let mut sets = vec![json!({ "funcscope_category": { "id": 17 } })];
        if auth.set18 {
            sets.push(json!({ "funcscope_category": { "id": 18 } }));
        }
        Ok(json!({
            "authorizer_info": {
                "nick_name": format!("shop {}", &appid[appid.len() - 4..]),
                "MiniProgramInfo": { "network": {}, "categories": [], "visit_status": 0 },
            },
            "authorization_info": {
                "authorizer_appid": appid,
                "func_info": sets,
            },
        }))
    }
}
