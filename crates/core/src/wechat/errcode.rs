//! Every WeChat error code mp-release relies on: WeChat's `errmsg`, what it means, what the user
//! should do, and how a client must react (the retry class).
//!
//! Sources: the global table (§5) and the per-endpoint tables (§1–§3, §6) of the API reference.
//! Where the reference itself is unsure, the entry says so in `meaning`. `errmsg` follows the official
//! 错误描述 where the reference's corrections (C12) name it. REFERENCE-UNSURE: the Chinese texts of
//! 61040, 9400001 and 9402203 are not quoted in the reference (only that they are Chinese); ours are
//! the official tables' wording as far as it is known. Clients branch on the code, never the text.

use serde::Serialize;

/// How a client reacts to a code. Nothing that creates state is retried without reading state back;
/// that rule lives in the runner, this class only says what kind of failure it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RetryClass {
    /// Transient: retry with exponential backoff and jitter, within the call's budget.
    Backoff,
    /// The token is invalid or expired: fetch a new token once, then retry once.
    RefreshToken,
    /// A rate window is exhausted: wait for the next window (minute) and retry.
    NextWindow,
    /// A state that is not a failure: wait and poll (privacy scan running, review in flight).
    Pending,
    /// Retrying cannot help: report with the action to take.
    Fatal,
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ErrorInfo {
    /// The `errcode`.
    pub code: i64,
    /// WeChat's `errmsg` (without the ` rid: …` suffix).
    pub errmsg: &'static str,
    /// What it means.
    pub meaning: &'static str,
    /// What the user should do.
    pub action: &'static str,
    /// How a client reacts.
    pub class: RetryClass,
}

macro_rules! table {
    ($( $code:literal, $class:ident, $errmsg:literal, $meaning:literal, $action:literal; )*) => {
        /// The table, sorted by code.
        pub const TABLE: &[ErrorInfo] = &[
            $( ErrorInfo { code: $code, errmsg: $errmsg, meaning: $meaning, action: $action, class: RetryClass::$class }, )*
        ];
    };
}

table! {
    -60005, Fatal, "commit failed", "listed for wxa/commit without a description (reference: undocumented)", "retry later by hand; report the rid to WeChat if it persists";
    -3, Backoff, "system busy", "系统繁忙 (jserr_detail)", "nothing; retried automatically with backoff";
    -1, Backoff, "system error", "WeChat is busy", "nothing; retried automatically with backoff";
    20011, NextWindow, "频率限制", "jserr_list called too often (operations data)", "nothing; retried in the next minute";
    40001, RefreshToken, "invalid credential, access_token is invalid or not latest", "token invalid or superseded (or a wrong AppSecret when fetching one)", "if fetching a token fails with it, check the secret";
    40002, Fatal, "invalid grant_type", "bad grant_type", "a bug: report it";
    40005, Fatal, "invalid file type", "uploadmedia: wrong file type", "upload PNG/JPEG/GIF images or MP4 video";
    40006, Fatal, "invalid meida size", "uploadmedia: file too large", "images ≤ 2 MB, video ≤ 10 MB";
    40013, Fatal, "invalid appid", "unknown or wrong appid", "check the appid input";
    40014, RefreshToken, "invalid access_token", "bad token", "nothing; a new token is fetched once";
    40097, Fatal, "invalid args", "invalid arguments", "check the request arguments";
    40125, Fatal, "invalid appsecret", "wrong or reset secret", "check the secret input (it may have been reset in the console)";
    40164, Fatal, "invalid ip, not in whitelist", "caller IP not in the mini program's API IP whitelist", "add the IP shown in errmsg to the whitelist, or turn the whitelist off";
    40243, Fatal, "AppSecret is frozen", "the admin froze the AppSecret", "unfreeze it in the console";
    41001, Fatal, "access_token missing", "no token sent", "a bug: report it";
    41002, Fatal, "appid missing", "appid missing", "set the appid input";
    41004, Fatal, "appsecret missing", "secret missing", "set the secret input";
    41005, Fatal, "media data missing", "uploadmedia: no media data", "a bug: report it";
    42001, RefreshToken, "access_token expired", "token expired", "nothing; a new token is fetched once";
    42007, Fatal, "access_token and refresh_token exception", "tokens invalidated after a password change (old global list; not re-verified)", "re-authorize the platform";
    43001, Fatal, "require GET method", "wrong HTTP method", "a bug: report it";
    43002, Fatal, "require POST method", "wrong HTTP method", "a bug: report it";
    44002, Fatal, "empty post data", "the body is missing (WeChat wants `{}`)", "a bug: report it";
    45009, Fatal, "reach max api daily quota limit", "the daily quota of this API is used up", "wait for tomorrow, or reset it with clear_quota (10 per month)";
    45011, NextWindow, "api minute-quota reach limit mustslower retry next minute", "per-minute frequency limit", "nothing; retried in the next minute";
    47001, Fatal, "data format error", "bad JSON or field types", "a bug: report it";
    48001, Fatal, "api unauthorized", "wrong token type, or the account lacks this API", "use an authorizer_access_token from a third-party platform holding permission set 18";
    48006, Fatal, "forbid to clear quota because of reaching the limit", "clear_quota used 10 times this month", "wait for next month";
    50004, Fatal, "forbid to get token", "the token API is forbidden for this account", "check the account's status in the console";
    50007, Fatal, "account freezed", "the account is frozen", "check the account's status in the console";
    61003, Fatal, "component is not authorized by this account", "the mini program has not authorized this platform", "have the merchant authorize the platform";
    61004, Fatal, "access clientip is not registered", "caller IP not in the third-party platform's whitelist", "add the IP shown in errmsg to the platform whitelist; GitHub-hosted runners change IP, so use a fixed-egress proxy or a self-hosted runner";
    61005, Fatal, "component ticket is expired", "component_verify_ticket older than 12 h", "supply a fresh ticket from the push (every 10 min)";
    61006, Fatal, "component ticket is invalid", "unknown component_verify_ticket", "supply the latest ticket pushed by WeChat";
    61007, Fatal, "api is unauthorized to component", "the merchant did not grant permission set 18", "the merchant must re-authorize with permission set 18";
    61010, Fatal, "code is expired", "the authorization code is unknown, expired or already used (C3)", "have the merchant authorize again: a code is single-use and short-lived";
    61011, Fatal, "invalid component", "unknown component appid", "check the component-appid input";
    61014, Fatal, "must use component token for component api", "wrong token type (a component token is required)", "a bug: report it";
    61023, Fatal, "refresh_token is invalid", "bad or outdated authorizer_refresh_token", "recover it with api_get_authorizer_list or re-authorize";
    61024, Fatal, "must use api(api_component_token) to get token for component acct", "cgi-bin/token called with a platform appid", "use the component token flow";
    61039, Pending, "隐私接口检查任务未完成", "the privacy-API scan after a commit or upload is still running", "nothing; polled until it finishes (never re-commit)";
    61040, Fatal, "隐私接口未授权或未配置", "a privacy API is used without permission or not declared", "fix requiredPrivateInfos, obtain the permission, or set privacy-api-not-use";
    61501, Fatal, "date range error", "a datacube date range WeChat does not allow (one day per call, no later than yesterday)", "ask for a single past day; today's data never exists (T+1)";
    61504, Backoff, "系统繁忙，稍后再试试", "the data-analysis backend is busy", "nothing; retried automatically with backoff";
    76003, Fatal, "invalid cgi_path", "cgi_path must start with / and carry no host", "a bug: report it";
    76021, Fatal, "cgi_path not found", "unknown cgi_path", "check the API path";
    76022, Fatal, "could not use this cgi_path,no permission", "the token's account does not own this API", "use the token of the account that owns the API";
    80066, Fatal, "invalid plugin version", "ext_json names a plugin version that is invalid", "fix the plugin version in ext_json";
    80067, Fatal, "plugin not found", "ext_json names an unknown plugin", "fix the plugin list in ext_json";
    80082, Fatal, "no permission to use this plugin", "the mini program may not use this plugin", "apply for the plugin in the console";
    85006, Fatal, "tag is in invalid format", "item_list tag format (≤ 10 space-separated tags, each ≤ 20 chars)", "fix the tags of the review items";
    85007, Fatal, "page path is invalid", "item_list address is not a page of the code", "use a page from get_page";
    85008, Fatal, "no category has been approved", "category not configured or not approved on the mini program", "set an approved category in the console";
    85009, Pending, "already submit a version under auditing", "a version is already under review, or an approved version has not been released (C5)", "attach to it or withdraw it (on-existing-review), wait for it, or release the approved version first";
    85010, Fatal, "item_list has empty field", "a review item is missing a required field", "fill first_class/second_class/first_id/second_id";
    85011, Fatal, "title is invalid", "review item title invalid (≤ 32 chars)", "shorten the title";
    85012, Fatal, "invalid audit id", "the auditid belongs to another appid, or is wrong", "check the audit id (resume state may belong to another app)";
    85013, Fatal, "invalid ext_json", "ext_json is not a valid JSON string", "send ext_json as a JSON-encoded string";
    85014, Fatal, "template not exist", "template_id not in the template library", "check template-id with gettemplatelist";
    85019, Fatal, "no version is under auditing", "nothing reviewed to release (or to withdraw)", "submit a review first";
    85020, Fatal, "status not allowed", "the latest review is not approved", "wait for approval before releasing";
    85023, Fatal, "item_list count not in 1-5", "item_list has 0 or more than 5 entries", "give 1 to 5 review items, or none at all";
    85043, Fatal, "template error", "the template is broken", "re-create the template";
    85044, Fatal, "package exceed max limit", "code package over the size limit", "reduce the package size or use subpackages";
    85045, Fatal, "some path in ext_json not exist", "ext_json names a page the template does not have", "use only pages of the template";
    85046, Fatal, "tabBar path not exist", "a tabBar page is missing", "fix tabBar in ext_json";
    85047, Fatal, "pages are empty", "ext_json pages is empty", "list at least one page";
    85048, Fatal, "parse ext_json error", "ext_json is not parseable JSON", "fix the JSON in ext-json";
    85051, Fatal, "data too large", "version_desc or preview_info over the limit", "shorten version-desc";
    85052, Fatal, "app is already released", "the approved version is already live (community report)", "nothing to publish; submit a new review first";
    85058, Fatal, "no valid audit_id exist", "no review on record (community report)", "submit a review first";
    85064, Fatal, "template not found", "draft or template not found", "check the draft id / template id";
    85065, Fatal, "template list is full", "the template library holds 200 templates", "delete old templates (prune)";
    85077, Fatal, "category has been deleted", "a review category was delisted by WeChat", "pick another category";
    85079, Fatal, "miniprogram has no online release", "the first publish of an app must be a full release", "publish fully the first time (drop gray-percentage)";
    85080, Fatal, "miniprogram commit not approved", "the latest submission is not approved", "wait for approval";
    85081, Fatal, "invalid gray percentage", "gray_percentage not in 0-100", "use 1-100";
    85082, Fatal, "gray percentage too low", "percentage not above the current phased release", "raise the percentage";
    85085, Fatal, "submit audit reach limit pleasetry later", "the platform's monthly review quota is used up", "see queryquota; request temporary quota in 小程序服务商助手";
    85086, Fatal, "must commit before submit audit", "nothing committed to submit", "commit or upload the code first";
    85087, Fatal, "navigateToMiniProgram appid list empty", "navigateToMiniProgram used without declaring target appids", "declare navigateToMiniProgramAppIdList";
    85092, Fatal, "invalid preview_info format", "bad preview_info format", "fix preview_info";
    85093, Fatal, "preview_info pic or video too much", "too many preview images or videos", "use fewer preview media";
    85094, Fatal, "need ugc declare", "a UGC declaration is required for these categories", "add ugc-declare to the config";
    85310, Fatal, "requiredPrivateInfos format error", "requiredPrivateInfos format or API name wrong", "fix requiredPrivateInfos";
    85311, Fatal, "requiredPrivateInfos has mutually exclusive apis", "requiredPrivateInfos contains mutually exclusive APIs", "keep only one of the exclusive APIs";
    85312, Fatal, "requiredPrivateInfos api no permission", "requiredPrivateInfos names an API without permission", "apply for the API in the console";
    86000, Fatal, "should be called only from third party", "the mini program's own token or a component token was used on wxa/*", "use an authorizer_access_token from a third-party platform holding permission set 18";
    86001, Fatal, "component experience version not exists", "nothing has been committed through the platform", "commit or upload the code first";
    86002, Fatal, "miniprogram have not completed init procedure", "nickname, avatar or intro not set", "complete the mini program's profile in the console";
    86007, Fatal, "submit audit is forbidden", "submission forbidden for this mini program", "see the console for the restriction";
    86009, Fatal, "component submit new miniprogram is restricted", "the platform may not submit new mini programs", "see the platform console";
    86010, Fatal, "component submit update is restricted", "the platform may not submit updates", "see the platform console";
    87006, Fatal, "minigame can not use this api", "mini games cannot use this API", "not supported for mini games";
    87011, Fatal, "gray release is in progress", "a phased release is running", "finish or revert the phased release first";
    87012, Fatal, "forbid revert this version release", "the version cannot be rolled back (no previous version, already rolled back, too old), or, on undocodeaudit, there is no review to withdraw (C4)", "for a rollback pick a version from `rollback --list`; for a withdrawal there is nothing in review";
    87013, Fatal, "no quota to undo code", "withdraw limit reached (5 per day, 10 per month)", "wait until tomorrow (or next month)";
    89401, Backoff, "system unstable", "the speed-up system is unstable", "nothing; retried automatically";
    89402, Fatal, "audit not in queue", "the review is not waiting (done, or never submitted)", "nothing to speed up";
    89403, Fatal, "audit type can not speedup", "this review type cannot be expedited", "nothing to do";
    89404, Fatal, "audit has been speeded up", "already expedited", "nothing to do";
    89405, Fatal, "speedup quota exhausted", "the monthly speed-up quota is used up", "wait for next month";
    89503, Fatal, "this call needs admin confirmation", "the admin must approve calls from this IP", "have the admin approve it in WeChat, then rerun";
    89506, Fatal, "ip has been rejected by admin", "the admin rejected this IP", "retry after 24 hours";
    89507, Fatal, "ip has been rejected by admin, retry after 1h", "the admin rejected this IP", "retry after 1 hour";
    200002, Fatal, "参数错误", "userlog_search: date, begintime and endtime are required; the date must be recent (the page says 7 days, the error text 3) and endtime after begintime", "a bug: report it";
    200007, Fatal, "无权限", "userlog_search: the account may not read the real-time log", "grant the real-time log permission, or drop rollout-log-marker";
    200010, NextWindow, "操作过于频繁", "userlog_search: at most 50 calls a minute", "nothing; retried in the next minute";
    9400001, Fatal, "该开发小程序已开通小程序直播权限，不支持发布版本", "the development mini program has live-streaming enabled", "turn live-streaming off on the development mini program";
    9402202, Backoff, "concurrent limit", "an earlier commit/submit is still processing", "nothing; retried automatically";
    9402203, Fatal, "标准模板ext_json错误，传了不合法的参数", "illegal ext_json keys for a standard template", "use only extAppid, ext and window";
}

/// Looks up a code.
pub fn lookup(code: i64) -> Option<&'static ErrorInfo> {
    TABLE
        .binary_search_by_key(&code, |e| e.code)
        .ok()
        .map(|i| &TABLE[i])
}

/// The class of a code; unknown codes are fatal (never retry what we do not understand).
pub fn class_of(code: i64) -> RetryClass {
    lookup(code).map_or(RetryClass::Fatal, |e| e.class)
}

/// WeChat's `errmsg` for a code (`"unknown error"` for codes not in the table).
pub fn errmsg(code: i64) -> &'static str {
    lookup(code).map_or("unknown error", |e| e.errmsg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(
            TABLE.windows(2).all(|w| w[0].code < w[1].code),
            "keep TABLE sorted by code"
        );
    }

    #[test]
    fn every_entry_has_text_and_lookup_finds_it() {
        for e in TABLE {
            assert!(
                !e.errmsg.is_empty() && !e.meaning.is_empty() && !e.action.is_empty(),
                "{}",
                e.code
            );
            assert_eq!(lookup(e.code), Some(e));
        }
        assert_eq!(lookup(12345), None);
        assert_eq!(class_of(12345), RetryClass::Fatal);
    }

    #[test]
    fn classes_follow_the_reference_policy() {
        use RetryClass::*;
        let expect = [
            (-1, Backoff),
            (89401, Backoff),
            (9402202, Backoff),
            (45011, NextWindow),
            (40001, RefreshToken),
            (40014, RefreshToken),
            (42001, RefreshToken),
            (61039, Pending),
            (85009, Pending),
            (45009, Fatal),
            (85085, Fatal),
            (87013, Fatal),
            (86000, Fatal),
            (48001, Fatal),
            (61004, Fatal),
            (44002, Fatal),
        ];
        for (code, class) in expect {
            assert_eq!(class_of(code), class, "{code}");
        }
    }
}
