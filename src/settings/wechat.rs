//! Validated settings of the commands that talk to WeChat: credentials, connection, and the review
//! pipeline's options. Same rules as the rest of settings: every error names the input as given and
//! happens before the first call.

use super::parse::{bounded_duration, check_appid, limits, url};
use super::{parse_bool, Layers, Origin, UsageError};
use crate::adapters::wechat::tokens::{ComponentAuth, Credentials};
use crate::cli::{PipelineArgs, WeChatArgs};
use mp_release_core::pipeline::{
    CommitSpec, OnExisting, OnUnhealthy, PublishSpec, RolloutSpec, Rules, WaitSpec,
};
use secrecy::SecretString;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

/// Connection and credentials.
#[derive(Debug, Clone)]
pub struct WeChatSettings {
    /// Proxies and trust roots (the process's one policy, from the globals).
    pub net: crate::adapters::http::Net,
    /// API base URL.
    pub base: Url,
    /// Per-request timeout.
    pub timeout: Duration,
    /// The mini program.
    pub appid: String,
    /// How to get its token.
    pub credentials: Credentials,
    /// Where the pipeline state lives.
    pub state_file: Option<PathBuf>,
    /// `restart`: a finished state file starts a new release instead of being reported again.
    pub restart: bool,
    /// Test hook: the emulator's virtual clock.
    pub virtual_clock: bool,
    /// Test hook: stop after this call.
    pub crash_after: Option<String>,
}

/// The parts of `submit_audit`'s body that come from inputs.
#[derive(Debug, Clone, Default)]
pub struct SubmitBody {
    /// `item_list` from the config file's `review-items`.
    pub item_list: Option<Value>,
    /// Build `item_list` from get_category + get_page.
    pub build_item_list: bool,
    /// `version_desc`.
    pub version_desc: Option<String>,
    /// `feedback_info`.
    pub feedback_info: Option<String>,
    /// `ugc_declare` from the config file.
    pub ugc_declare: Option<Value>,
}

/// The pipeline's options.
#[derive(Debug, Clone)]
pub struct PipelineSettings {
    /// Template mode.
    pub template: Option<CommitSpec>,
    /// The `user_desc` given (default decided once the version is known).
    pub desc: Option<String>,
    /// Submit body.
    pub submit: SubmitBody,
    /// The review, wait and publish rules, as the pipeline's config carries them.
    pub rules: Rules,
    /// Upload mode: the code is uploaded instead of a template committed.
    pub upload: Option<super::UploadSettings>,
}

fn secret(layers: &Layers<'_>, name: &str, flag: Option<&str>) -> Option<(SecretString, Origin)> {
    layers
        .pick(name, flag)
        .map(|(v, o)| (SecretString::from(v), o))
}

/// Validates credentials and connection.
pub fn wechat(
    a: &WeChatArgs,
    layers: &Layers<'_>,
    g: &super::Globals,
) -> Result<WeChatSettings, UsageError> {
    let cwd = g.cwd.as_path();
    let appid = layers
        .parse("appid", a.appid.as_deref(), check_appid)?
        .map(|(v, _)| v);
    let (base, timeout) = connection(a, layers)?;
    let state_file = layers
        .parse("state-file", a.state_file.as_deref(), |s| {
            let p = cwd.join(s);
            super::writable_file(&p)?;
            Ok(p)
        })?
        .map(|(p, _)| p);
    let virtual_clock = layers
        .parse("virtual-clock", a.virtual_clock.as_deref(), parse_bool)?
        .is_some_and(|(b, _)| b);
    let restart = layers
        .parse("restart", a.restart.as_deref(), parse_bool)?
        .is_some_and(|(b, _)| b);
    let crash_after = layers
        .pick("crash-after", a.crash_after.as_deref())
        .map(|(v, _)| v);

    let direct = secret(layers, "access-token", a.access_token.as_deref());
    let component = component(a, layers)?;
    let refresh = secret(
        layers,
        "authorizer-refresh-token",
        a.authorizer_refresh_token.as_deref(),
    );
    let app_secret = secret(layers, "app-secret", a.app_secret.as_deref());

    let credentials = match (direct, component) {
        (Some((_, o)), Some((_, _, c))) => {
            return Err(UsageError::new(format!(
                "{o} and {c} are both set: give either an access token, or the component credentials, not both"
            )))
        }
        (Some((token, _)), None) => Credentials::Direct(token),
        (None, Some((component_appid, auth, origin))) => {
            let Some((refresh_token, _)) = refresh else {
                return Err(UsageError::new(format!(
                    "{origin} is set but authorizer-refresh-token is not: give the mini program's authorizer_refresh_token"
                )));
            };
            let Some(authorizer_appid) = appid.clone() else {
                return Err(UsageError::new("appid is not set: give the mini program's appid (--appid or INPUT_APPID)"));
            };
            Credentials::Component { component_appid, auth, authorizer_appid, refresh_token }
        }
        (None, None) if app_secret.is_some() && appid.is_some() => Credentials::Own {
            appid: appid.clone().unwrap_or_default(),
            secret: app_secret.map(|(s, _)| s).expect("checked above"),
        },
        (None, None) => {
            return Err(UsageError::new(
                "no WeChat credentials: give access-token (an authorizer_access_token), or component-appid with \
                 component-access-token (or component-secret + component-verify-ticket) and authorizer-refresh-token \
                 (or, for the trial QR code only, app-secret). WeChat accepts review and release calls only from a \
                 third-party platform acting for the mini program",
            ))
        }
    };
    let appid = appid.ok_or_else(|| {
        UsageError::new("appid is not set: give the mini program's appid (--appid or INPUT_APPID)")
    })?;
    Ok(WeChatSettings {
        net: g.net.clone(),
        base,
        timeout,
        appid,
        credentials,
        state_file,
        restart,
        virtual_clock,
        crash_after,
    })
}

/// `wechat-base-url` and `request-timeout`.
fn connection(a: &WeChatArgs, layers: &Layers<'_>) -> Result<(Url, Duration), UsageError> {
    let base = layers
        .parse("wechat-base-url", a.wechat_base_url.as_deref(), url)?
        .map_or_else(
            || Url::parse(crate::adapters::wechat::DEFAULT_BASE).expect("a valid constant"),
            |(u, _)| u,
        );
    let timeout = layers
        .parse("request-timeout", a.request_timeout.as_deref(), |s| {
            bounded_duration(s, Duration::from_millis(1), limits::REQUEST)
        })?
        .map_or(Duration::from_secs(30), |(d, _)| d);
    Ok((base, timeout))
}

/// The platform's credentials: `component-appid` with `component-access-token`, or with
/// `component-secret` + `component-verify-ticket`; `None` when no component-appid is given.
fn component(
    a: &WeChatArgs,
    layers: &Layers<'_>,
) -> Result<Option<(String, ComponentAuth, Origin)>, UsageError> {
    let Some((component_appid, origin)) =
        layers.parse("component-appid", a.component_appid.as_deref(), check_appid)?
    else {
        return Ok(None);
    };
    let component_token = secret(
        layers,
        "component-access-token",
        a.component_access_token.as_deref(),
    );
    let component_secret = secret(layers, "component-secret", a.component_secret.as_deref());
    let ticket = secret(
        layers,
        "component-verify-ticket",
        a.component_verify_ticket.as_deref(),
    );
    let auth = match (component_token, component_secret, ticket) {
        (Some((t, _)), _, _) => ComponentAuth::Token(t),
        (None, Some((secret, _)), Some((ticket, _))) => ComponentAuth::Ticket { secret, ticket },
        (None, Some(_), None) => return Err(UsageError::new(format!(
            "{origin} is set with component-secret but without component-verify-ticket: give the latest ticket WeChat pushed (valid 12 h), or a component-access-token"
        ))),
        (None, None, _) => return Err(UsageError::new(format!(
            "{origin} is set but neither component-access-token nor component-secret + component-verify-ticket is"
        ))),
    };
    Ok(Some((component_appid, auth, origin)))
}

/// A third-party platform's connection and credentials, for its own calls (template library,
/// authorizer list) and for every app of a fleet.
#[derive(Debug, Clone)]
pub struct PlatformSettings {
    /// Proxies and trust roots.
    pub net: crate::adapters::http::Net,
    /// API base URL.
    pub base: Url,
    /// Per-request timeout.
    pub timeout: Duration,
    /// The platform's appid.
    pub component_appid: String,
    /// Its token, or secret + ticket.
    pub auth: ComponentAuth,
    /// Test hook: the emulator's virtual clock.
    pub virtual_clock: bool,
    /// Test hook: stop after this call.
    pub crash_after: Option<String>,
}

impl PlatformSettings {
    /// The credentials of one app of the platform: its refresh token with the platform's.
    pub fn app(&self, appid: &str, refresh_token: SecretString) -> Credentials {
        Credentials::Component {
            component_appid: self.component_appid.clone(),
            auth: self.auth.clone(),
            authorizer_appid: appid.to_owned(),
            refresh_token,
        }
    }

    /// The settings of one app of the platform, with these credentials.
    pub fn for_app(&self, appid: &str, credentials: Credentials) -> WeChatSettings {
        WeChatSettings {
            net: self.net.clone(),
            base: self.base.clone(),
            timeout: self.timeout,
            appid: appid.to_owned(),
            credentials,
            state_file: None,
            restart: false,
            virtual_clock: self.virtual_clock,
            crash_after: self.crash_after.clone(),
        }
    }
}

/// Validates the platform's credentials and connection. An input that names one app
/// (`appid`, `authorizer-refresh-token`, `access-token`) does not apply — each app of a fleet has
/// its own, from the fleet file or the platform's authorizer list — and is ignored with a warning
/// (a config file or environment shared with the single-app commands may well carry them).
pub fn platform(
    a: &WeChatArgs,
    layers: &Layers<'_>,
    g: &super::Globals,
) -> Result<PlatformSettings, UsageError> {
    for (name, flag) in [
        ("appid", a.appid.as_deref()),
        ("access-token", a.access_token.as_deref()),
        (
            "authorizer-refresh-token",
            a.authorizer_refresh_token.as_deref(),
        ),
        ("app-secret", a.app_secret.as_deref()),
        ("state-file", a.state_file.as_deref()),
    ] {
        if let Some((_, origin)) = layers.pick(name, flag) {
            tracing::warn!(
                "{origin} is ignored: this command acts for the platform and its apps, whose appids and refresh tokens come from the fleet file or the platform's authorizer list (a fleet keeps its state in state-dir)"
            );
        }
    }
    let Some((component_appid, auth, _)) = component(a, layers)? else {
        return Err(UsageError::new(
            "component-appid is not set: the platform's own calls (template library, authorizer list) and fleets need the third-party platform's component-appid with component-access-token, or component-secret + component-verify-ticket",
        ));
    };
    let (base, timeout) = connection(a, layers)?;
    let virtual_clock = layers
        .parse("virtual-clock", a.virtual_clock.as_deref(), parse_bool)?
        .is_some_and(|(b, _)| b);
    let crash_after = layers
        .pick("crash-after", a.crash_after.as_deref())
        .map(|(v, _)| v);
    Ok(PlatformSettings {
        net: g.net.clone(),
        base,
        timeout,
        component_appid,
        auth,
        virtual_clock,
        crash_after,
    })
}

/// Validates the pipeline's options.
pub fn pipeline(
    a: &PipelineArgs,
    layers: &Layers<'_>,
    cwd: &Path,
    appid: &str,
) -> Result<PipelineSettings, UsageError> {
    let template_id = layers.parse("template-id", a.template_id.as_deref(), |s| {
        s.trim().parse::<u64>().map_err(|_| {
            format!("expected a template id (a number from gettemplatelist), got {s:?}")
        })
    })?;
    let ext_json = layers.parse("ext-json", a.ext_json.as_deref(), |s| {
        let text = match s.trim().strip_prefix('@') {
            // ext.json is a few KiB; WeChat caps what it accepts far below 1 MiB.
            Some(file) => super::read_text(&cwd.join(file), 1 << 20)?,
            None => s.to_owned(),
        };
        match serde_json::from_str::<Value>(&text) {
            Ok(v @ Value::Object(_)) => Ok(v.to_string()),
            Ok(_) => Err("expected a JSON object (the content of ext.json)".to_owned()),
            Err(e) => Err(format!("not valid JSON: {e}")),
        }
    })?;
    let desc = layers.pick("desc", a.desc.as_deref()).map(|(v, _)| v);
    let template = match (template_id, ext_json) {
        (Some((id, _)), ext) => Some(CommitSpec {
            template_id: id,
            ext_json: ext.map_or_else(
                || serde_json::json!({ "extAppid": appid }).to_string(),
                |(e, _)| e,
            ),
            desc: String::new(),
        }),
        (None, Some((_, origin))) => {
            return Err(UsageError::input(
                &origin,
                "ext-json only applies with template-id (template mode); set template-id too",
            ))
        }
        (None, None) => None,
    };
    let bool_of = |name: &str, flag: Option<&str>| -> Result<bool, UsageError> {
        Ok(layers
            .parse(name, flag, parse_bool)?
            .is_some_and(|(b, _)| b))
    };
    let secs =
        |name: &str, flag: Option<&str>, default: u64, max: Duration| -> Result<u64, UsageError> {
            Ok(layers
                .parse(name, flag, |s| bounded_duration(s, Duration::ZERO, max))?
                .map_or(default, |(d, _)| d.as_secs()))
        };
    let feedback = layers.parse("feedback-info", a.feedback_info.as_deref(), |s| {
        if s.chars().count() > 200 {
            Err(format!("at most 200 characters, got {}", s.chars().count()))
        } else {
            Ok(s.to_owned())
        }
    })?;
    let item_list = match layers.file_value("review-items") {
        None => None,
        Some((v @ Value::Array(_), origin)) => {
            let n = v.as_array().map_or(0, Vec::len);
            if !(1..=5).contains(&n) {
                return Err(UsageError::input(&origin, format_args!("WeChat accepts 1 to 5 review items, got {n}")));
            }
            Some(v)
        }
        Some((_, origin)) => return Err(UsageError::input(&origin, "expected a list of review items (first_class, second_class, first_id, second_id, address, tag, title)")),
    };
    let ugc_declare = match layers.file_value("ugc-declare") {
        None => None,
        Some((v @ Value::Object(_), _)) => Some(v),
        Some((_, origin)) => {
            return Err(UsageError::input(
                &origin,
                "expected a map (scene, method, has_audit_team, audit_desc, other_scene_desc)",
            ))
        }
    };
    let on_existing = layers
        .parse(
            "on-existing-review",
            a.on_existing_review.as_deref(),
            |s| match s.trim() {
                "attach" => Ok(OnExisting::Attach),
                "withdraw" => Ok(OnExisting::Withdraw),
                "fail" => Ok(OnExisting::Fail),
                _ => Err("expected attach, withdraw or fail".to_owned()),
            },
        )?
        .map_or(OnExisting::Fail, |(v, _)| v);
    let never = layers
        .parse("publish", a.publish.as_deref(), |s| match s.trim() {
            "on-approval" => Ok(false),
            "never" => Ok(true),
            _ => Err("expected on-approval or never".to_owned()),
        })?
        .is_some_and(|(v, _)| v);
    let gray_percentage = layers
        .parse("gray-percentage", a.gray_percentage.as_deref(), |s| match s
            .trim()
            .trim_end_matches('%')
            .parse::<u32>()
        {
            Ok(p) if (1..=100).contains(&p) => Ok(p),
            _ => Err(format!("expected a percentage from 1 to 100, got {s:?}")),
        })?
        .map(|(p, _)| p);
    let debuger_first = bool_of("support-debuger-first", a.support_debuger_first.as_deref())?;
    let experiencer_first = bool_of(
        "support-experiencer-first",
        a.support_experiencer_first.as_deref(),
    )?;
    let watch = secs(
        "rollout-watch",
        a.rollout_watch.as_deref(),
        2 * 3600,
        limits::WATCH,
    )?;
    if watch < 60 {
        if let Some((_, origin)) = layers.pick("rollout-watch", a.rollout_watch.as_deref()) {
            return Err(UsageError::input(
                &origin,
                "a watch window of at least 1m is needed",
            ));
        }
    }
    let steps = layers.parse("rollout", a.rollout.as_deref(), |s| {
        super::parse::parse_rollout(s, watch)
    })?;
    let number = |name: &str, flag: Option<&str>, default: u64, max: u64| {
        layers
            .parse(name, flag, |s| match s.trim().parse::<u64>() {
                Ok(n) if n <= max => Ok(n),
                _ => Err(format!(
                    "expected a whole number from 0 to {max}, got {s:?}"
                )),
            })
            .map(|v| v.map_or(default, |(n, _)| n))
    };
    let d = mp_release_core::health::Thresholds::default();
    let thresholds = mp_release_core::health::Thresholds {
        max_error_ratio: layers
            .parse("max-error-ratio", a.max_error_ratio.as_deref(), |s| match s
                .trim()
                .trim_end_matches(['x', '×'])
                .parse::<f64>()
            {
                Ok(r) if (1.0..=1000.0).contains(&r) => Ok(r),
                _ => Err(format!(
                    "expected a ratio from 1.0 to 1000 (such as 2.0), got {s:?}"
                )),
            })?
            .map_or(d.max_error_ratio, |(r, _)| r),
        max_new_errors: usize::try_from(number(
            "max-new-errors",
            a.max_new_errors.as_deref(),
            d.max_new_errors as u64,
            10_000,
        )?)
        .unwrap_or(usize::MAX),
        min_error_users: number(
            "min-error-users",
            a.min_error_users.as_deref(),
            d.min_error_users,
            1_000_000,
        )?
        .max(1),
        max_crash_feedback: number(
            "max-crash-feedback",
            a.max_crash_feedback.as_deref(),
            d.max_crash_feedback,
            1_000_000,
        )?,
        min_sample: number(
            "rollout-min-sample",
            a.rollout_min_sample.as_deref(),
            d.min_sample,
            1_000_000,
        )?,
    };
    let max_holds = u32::try_from(number(
        "rollout-max-holds",
        a.rollout_max_holds.as_deref(),
        u64::from(mp_release_core::github::DEFAULT_MAX_HOLDS),
        100,
    )?)
    .unwrap_or(100);
    let on_unhealthy = layers
        .parse("on-unhealthy", a.on_unhealthy.as_deref(), |s| {
            match s.trim() {
                "revert" => Ok(OnUnhealthy::Revert),
                "hold" => Ok(OnUnhealthy::Hold),
                _ => Err("expected revert or hold".to_owned()),
            }
        })?
        .map_or(OnUnhealthy::Revert, |(v, _)| v);
    let log_marker = layers
        .parse("rollout-log-marker", a.rollout_log_marker.as_deref(), |s| {
            let s = s.trim();
            if !s.contains("{version}") {
                Err(format!(
                    "expected the marker your app logs with {{version}} where its version goes (such as v{{version}}), got {s:?}"
                ))
            } else if s.chars().count() > 64 {
                Err("at most 64 characters".to_owned())
            } else {
                Ok(s.to_owned())
            }
        })?
        .map(|(m, _)| m);
    let rollout = match steps {
        None => None,
        Some((_, origin)) if gray_percentage.is_some() => {
            return Err(UsageError::input(
                &origin,
                "rollout and gray-percentage are two ways to phase a release: give one (a rollout's last step is its percentage)",
            ))
        }
        Some((_, origin)) if never => {
            return Err(UsageError::input(
                &origin,
                "a rollout publishes, and publish is never: drop one of them",
            ))
        }
        Some((steps, _)) => Some(RolloutSpec {
            steps,
            on_unhealthy,
            thresholds,
            max_holds,
            log_marker,
        }),
    };
    let wait = WaitSpec {
        first_secs: secs(
            "poll-interval",
            a.poll_interval.as_deref(),
            60,
            limits::POLL,
        )?
        .max(1),
        max_secs: secs("poll-max", a.poll_max.as_deref(), 600, limits::POLL)?.max(1),
        timeout_secs: secs(
            "wait-timeout",
            a.wait_timeout.as_deref(),
            5 * 3600,
            limits::WAIT,
        )?,
    };
    Ok(PipelineSettings {
        template,
        desc,
        submit: SubmitBody {
            item_list,
            build_item_list: bool_of("build-item-list", a.build_item_list.as_deref())?,
            // WeChat refuses a longer version_desc with 85051, after the commit was made.
            version_desc: layers
                .parse("version-desc", a.version_desc.as_deref(), |s| {
                    match s.chars().count() {
                        n if n > 1000 => Err(format!("at most 1,000 characters, got {n}")),
                        _ => Ok(s.to_owned()),
                    }
                })?
                .map(|(v, _)| v),
            feedback_info: feedback.map(|(v, _)| v),
            ugc_declare,
        },
        rules: Rules {
            privacy_api_not_use: bool_of("privacy-api-not-use", a.privacy_api_not_use.as_deref())?,
            privacy_poll_secs: secs(
                "privacy-poll-interval",
                a.privacy_poll_interval.as_deref(),
                60,
                limits::POLL,
            )?
            .max(1),
            on_existing,
            speedup: bool_of("speedup", a.speedup.as_deref())?,
            wait,
            publish: PublishSpec {
                never,
                gray_percentage,
                rollout,
                debuger_first,
                experiencer_first,
            },
            allow_downgrade: bool_of("allow-downgrade", a.allow_downgrade.as_deref())?,
        },
        upload: None,
    })
}
