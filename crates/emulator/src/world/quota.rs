//! The API-quota tools: `cgi-bin/openapi/quota/get` and `cgi-bin/clear_quota`.

use super::model::TokenKind;
use super::{Answer, Ctx, World, ENDPOINTS};
use crate::clock::{day_of, month_of};
use serde_json::json;

/// Daily quota reported for endpoints without a scenario limit. REFERENCE-UNSURE: WeChat publishes
/// no numbers for the wxa/* APIs ("query them at runtime"); this is our placeholder.
pub const DEFAULT_DAILY_LIMIT: u32 = 100_000;
/// `clear_quota` resets per account per month (48006 beyond).
pub const CLEAR_LIMIT: usize = 10;

impl World {
    /// `POST /cgi-bin/openapi/quota/get` `{cgi_path}`.
    pub(super) fn quota_get(&mut self, c: &Ctx<'_>) -> Answer {
        let path = c.str("cgi_path").unwrap_or_default();
        if !path.starts_with('/') {
            return Err(76003);
        }
        if path.starts_with("/sns/") {
            return Err(76021);
        }
        let &(_, _, auth) = ENDPOINTS.iter().find(|(p, _, _)| *p == path).ok_or(76021)?;
        // The token of the account that owns the API: the component token for platform APIs, the
        // authorizer token when a platform acts for a mini program.
        let owns = matches!(
            (auth, &c.caller.kind),
            (super::Auth::Component, Some(TokenKind::Component { .. }))
                | (
                    super::Auth::Authorizer | super::Auth::OwnOrAuthorizer,
                    Some(TokenKind::Authorizer { .. })
                )
                | (
                    super::Auth::OwnOrAuthorizer | super::Auth::None | super::Auth::Any,
                    Some(TokenKind::Own { .. })
                )
                | (super::Auth::Any, Some(_))
        );
        if !owns {
            return Err(76022);
        }
        let limit = self
            .scenario
            .rate_limits
            .iter()
            .find(|l| l.endpoint == path);
        let daily = limit.and_then(|l| l.per_day).unwrap_or(DEFAULT_DAILY_LIMIT);
        let per_minute = limit.and_then(|l| l.per_minute).unwrap_or(daily);
        let day = day_of(self.now());
        let used = self
            .counters
            .get(&c.caller.account())
            .and_then(|k| k.day.get(&(path.to_owned(), day)))
            .copied()
            .unwrap_or(0);
        Ok(json!({
            "quota": { "daily_limit": daily, "used": used, "remain": daily.saturating_sub(used) },
            "rate_limit": { "call_count": per_minute, "refresh_second": 60 },
            "component_rate_limit": { "call_count": per_minute, "refresh_second": 60 },
        }))
    }

    /// `POST /cgi-bin/clear_quota` `{appid}`: resets the account's daily counters, 10 times a month.
    pub(super) fn clear_quota(&mut self, c: &Ctx<'_>) -> Answer {
        let appid = c.str("appid").filter(|a| !a.is_empty()).ok_or(41002)?;
        if appid != c.caller.account() {
            return Err(40013);
        }
        let now = self.now();
        let counters = self.counters.entry(appid.to_owned()).or_default();
        let month = month_of(now);
        if counters
            .clears
            .iter()
            .filter(|t| month_of(**t) == month)
            .count()
            >= CLEAR_LIMIT
        {
            return Err(48006);
        }
        counters.clears.push(now);
        counters.day.clear();
        counters.minute.clear();
        Ok(json!({}))
    }
}
