//! `run --sandbox`: the whole pipeline against the in-process emulator, with a demo platform, an
//! authorized app (live 1.4.2) and a bundled demo project that is really uploaded (native engine,
//! signed with a throwaway key registered in the emulator). No real credential is read; nothing
//! leaves the machine; the clock is virtual, so it finishes at once.

use super::pipeline::{config, drive};
use super::Report;
use crate::adapters::wechat::tokens::{ComponentAuth, Credentials};
use crate::output::Workflow;
use crate::settings::{PipelineSettings, SubmitBody, UploadSettings, WeChatSettings};
use anyhow::Context;
use mp_release_core::pipeline::{BumpSpec, OnExisting, PublishSpec, Rules, State, WaitSpec};
use mp_release_core::upload::signature::SigningKey;
use mp_release_core::version::{BumpLevel, BumpRequest};
use mp_release_emulator::{
    AppSpec, Emulator, Feedback, JsError, ReviewStep, Scenario, Traffic, World,
};
use std::time::Duration;

const COMPONENT: &str = "wx5a4db0c0ffee0001";
/// The sandbox's demo app.
pub const APP: &str = "wxa11ce5a4db0c0001";
const COMPONENT_SECRET: &str = "sandbox-component-secret";
/// A throwaway code-upload key pair for the demo app (it guards nothing).
const KEY: &str = include_str!("sandbox/demo.key");
const PUBLIC_KEY: &str = include_str!("sandbox/demo.pub.pem");
/// The demo project, written to a temporary directory and uploaded.
const DEMO: &[(&str, &str)] = &[
    (
        "project.config.json",
        include_str!("sandbox/demo/project.config.json"),
    ),
    ("app.json", include_str!("sandbox/demo/app.json")),
    ("app.js", include_str!("sandbox/demo/app.js")),
    ("app.wxss", include_str!("sandbox/demo/app.wxss")),
    ("sitemap.json", include_str!("sandbox/demo/sitemap.json")),
    (
        "pages/index/index.js",
        include_str!("sandbox/demo/pages/index/index.js"),
    ),
    (
        "pages/index/index.wxml",
        include_str!("sandbox/demo/pages/index/index.wxml"),
    ),
    (
        "pages/index/index.wxss",
        include_str!("sandbox/demo/pages/index/index.wxss"),
    ),
    (
        "pages/index/index.json",
        include_str!("sandbox/demo/pages/index/index.json"),
    ),
    (
        "pages/cart/cart.js",
        include_str!("sandbox/demo/pages/cart/cart.js"),
    ),
    (
        "pages/cart/cart.wxml",
        include_str!("sandbox/demo/pages/cart/cart.wxml"),
    ),
];

/// The sandboxes' review and release rules: the defaults, no downgrade, no speed-up.
fn rules() -> Rules {
    Rules {
        privacy_api_not_use: false,
        privacy_poll_secs: 60,
        on_existing: OnExisting::Fail,
        speedup: false,
        wait: WaitSpec::default(),
        publish: PublishSpec::default(),
        allow_downgrade: false,
    }
}

/// What the user chose for the sandbox run.
#[derive(Debug, Default)]
pub struct Options {
    /// The emulator's scenario, instead of the demo's (the demo's traffic when it has none).
    pub scenario: Option<Scenario>,
    /// How to publish: fully, phased, or a rollout with its thresholds.
    pub publish: PublishSpec,
}

/// The demo's operations data: 800,000 users a day; both versions throw the same error at 2 ‰
/// of their users and the old one a second, rarer one; a few pieces of feedback.
pub fn demo_traffic() -> Traffic {
    let error = |version: &str, message: &str, at: &str, per_mille: f64| JsError {
        version: version.into(),
        message: message.into(),
        stack: format!("{message}\n    at {at}\n    at Page.onLoad"),
        users_per_day: 0,
        events_per_day: 0,
        per_mille,
        from_percent: 0,
    };
    // hours after the new version first reached users
    let fb = |kind: u8, content: &str, hours: u64| Feedback {
        kind,
        content: content.into(),
        at_seconds: hours * 3600,
        version: Some("@new".into()),
    };
    Traffic {
        daily_uv: 800_000,
        pages_per_user: 4,
        stay_seconds: 142.0,
        errors: vec![
            error(
                "@previous",
                "TypeError: Cannot read property 'length' of undefined",
                "render (pages/index/index.js:41:18)",
                2.0,
            ),
            error(
                "@new",
                "TypeError: Cannot read property 'length' of undefined",
                "render (pages/index/index.js:41:18)",
                2.0,
            ),
            error(
                "@previous",
                "Error: request:fail timeout",
                "fetchMenu (utils/api.js:12:9)",
                0.4,
            ),
        ],
        feedback: vec![
            fb(7, "菜单加载有点慢", 1),
            fb(6, "购物车按钮被挡住了", 3),
            fb(8, "支付后页面没刷新", 5),
            fb(3, "点单页有点卡", 20),
            fb(7, "图片加载慢", 30),
        ],
        pages: vec![
            "pages/index/index".into(),
            "pages/menu/menu".into(),
            "pages/cart/cart".into(),
            "pages/order/order".into(),
            "pages/me/me".into(),
        ],
        startup_ms: 1650,
        ..Traffic::default()
    }
}

/// The demo platform acting for the demo app on the emulator at `base`.
fn demo_settings(base: &url::Url, ticket: String, refresh_token: String) -> WeChatSettings {
    WeChatSettings {
        base: base.clone(),
        // The emulator is on loopback: straight to it, whatever proxy the environment names.
        net: crate::adapters::http::Net::default(),
        timeout: Duration::from_secs(10),
        appid: APP.into(),
        credentials: Credentials::Component {
            component_appid: COMPONENT.into(),
            auth: ComponentAuth::Ticket {
                secret: COMPONENT_SECRET.into(),
                ticket: ticket.into(),
            },
            authorizer_appid: APP.into(),
            refresh_token: refresh_token.into(),
        },
        state_file: None,
        restart: false,
        virtual_clock: true,
        crash_after: None,
    }
}

/// Runs the sandbox.
pub async fn sandbox(
    wf: &mut Workflow,
    g: &crate::settings::Globals,
    opts: Options,
) -> anyhow::Result<Report> {
    let mut scenario = opts
        .scenario
        .unwrap_or_else(|| Scenario::default().review(vec![ReviewStep::approve_after_polls(3)]));
    if scenario.traffic.is_none() {
        scenario.traffic = Some(demo_traffic());
    }
    let mut world = World::new(scenario);
    let ticket = world.add_platform(COMPONENT, COMPONENT_SECRET);
    let reg = world.add_app(AppSpec {
        live_version: Some("1.4.2".into()),
        ..AppSpec::authorized(APP, COMPONENT)
    });
    world.add_upload_key(APP, PUBLIC_KEY);
    let emu = Emulator::start_with(world);
    let project = std::env::temp_dir().join(format!("mp-release-sandbox-{}", std::process::id()));
    for (name, text) in DEMO {
        let path = project.join(name);
        std::fs::create_dir_all(path.parent().unwrap_or(&project))?;
        std::fs::write(&path, text)
            .with_context(|| format!("writing the demo project to {}", project.display()))?;
    }
    let banner = format!(
        "SANDBOX · WeChat emulator at {} · demo app {APP} via platform {COMPONENT} · no real credentials are read and nothing leaves this machine",
        emu.uri()
    );
    let rule = "─".repeat(banner.chars().count().min(100));
    tracing::info!("{rule}");
    tracing::info!("{banner}");
    tracing::info!("{rule}");
    for secret in [COMPONENT_SECRET, &ticket, &reg.refresh_token] {
        wf.mask(secret)?;
    }
    let base = url::Url::parse(&emu.uri())?;
    let ws = demo_settings(&base, ticket, reg.refresh_token);
    let listing = crate::adapters::upload::native::list_project(&project)?;
    let ps = PipelineSettings {
        template: None,
        desc: Some("sandbox: new cart page".into()),
        submit: SubmitBody {
            version_desc: Some("Sandbox release: new cart page".into()),
            build_item_list: true,
            ..SubmitBody::default()
        },
        rules: Rules {
            // The clock is virtual: a rollout of days takes no time, so the sandbox follows it
            // to its end instead of handing it over.
            wait: WaitSpec {
                timeout_secs: if opts.publish.rollout.is_some() {
                    30 * 86_400
                } else {
                    WaitSpec::default().timeout_secs
                },
                ..WaitSpec::default()
            },
            publish: opts.publish,
            ..rules()
        },
        upload: Some(UploadSettings {
            project: project.clone(),
            key: SigningKey::from_pem(KEY)?,
            key_pem: KEY.into(),
            appid: APP.into(),
            robot: 1,
            base,
            timeout: Duration::from_secs(10),
            net: crate::adapters::http::Net::default(),
            engine: crate::settings::EngineChoice::Native,
            cache: std::env::temp_dir(),
            marker: listing.marker.clone(),
            listing: std::sync::Arc::new(listing),
            setting: serde_json::Map::new(),
            ci_version: crate::adapters::upload::official::VERSION.to_owned(),
            project_type: "miniProgram",
            pack_npm: false,
            source_map: None,
        }),
    };
    let bump = BumpSpec {
        bump: BumpRequest::Level(BumpLevel::Minor),
        ..BumpSpec::default()
    };
    let state = State::new(config(&ws, &ps, bump), None);
    // The configured chats hear about the sandbox run too: a team can try its robot this way.
    let mut gh = super::observe::Observers::default().with_chats(g);
    let result = drive(&ws, &ps, state, wf, "mp-release SANDBOX", &mut gh, false).await;
    let _ = std::fs::remove_dir_all(&project);
    let mut report = result?;
    report.print_summary = true;
    // A scripted rejection or an unhealthy rollout is what the user asked the sandbox to show:
    // say what a real run would exit, and exit 0 (giving up on infrastructure still fails).
    if report.exit == crate::exit::Exit::ReleaseFailed {
        tracing::info!(
            "a real run that ends like this exits 1 ({}); the sandbox exits 0",
            report.failure.take().unwrap_or_default()
        );
        report.exit = crate::exit::Exit::Success;
    }
    drop(emu);
    Ok(report)
}

/// `stats --sandbox`: the demo app with a week of demo traffic on the emulator, 1.5.0 released
/// four days into it over 1.4.2 (the window crosses a release), read as a platform would.
pub async fn stats(
    wf: &mut Workflow,
    days: u32,
    versions: Option<Vec<String>>,
) -> anyhow::Result<Report> {
    let mut world = World::new(Scenario {
        traffic: Some(demo_traffic()),
        ..Scenario::default()
    });
    // The window's days begin at the Beijing midnight after the emulator's epoch; the clock goes
    // to noon of the day after the window (yesterday's figures are ready), and the platform's
    // ticket is issued then.
    let start = world.now();
    let midnight = mp_release_core::health::beijing_day_start(start) + 86_400;
    let span = u64::from(days.max(1));
    world.advance(midnight + span * 86_400 + 12 * 3600 - start);
    let ticket = world.add_platform(COMPONENT, COMPONENT_SECRET);
    let reg = world.add_app(AppSpec {
        live_version: Some("1.4.2".into()),
        ..AppSpec::authorized(APP, COMPONENT)
    });
    world.released(APP, "1.5.0", midnight + (span * 4 / 7) * 86_400 + 10 * 3600);
    let emu = Emulator::start_with(world);
    let banner = format!(
        "SANDBOX · WeChat emulator at {} · demo app {APP} · {span} days of demo traffic, 1.5.0 released during them · nothing leaves this machine",
        emu.uri()
    );
    tracing::info!("{banner}");
    for secret in [COMPONENT_SECRET, &ticket, &reg.refresh_token] {
        wf.mask(secret)?;
    }
    let ws = demo_settings(&url::Url::parse(&emu.uri())?, ticket, reg.refresh_token);
    let w = super::stats::Window {
        appid: APP.into(),
        days,
        versions,
        platform: true,
    };
    let mut calls = super::pipeline::connect(&ws, wf).await?;
    let s = super::stats::gather(&mut calls, &w).await?;
    let mut report = super::stats::report(&s, "mp-release stats SANDBOX");
    report.print_summary = true;
    drop(emu);
    Ok(report)
}

/// The fleet sandbox's merchants: 20 apps of one platform, each with its fate.
const FLEET_APPS: usize = 20;

fn fleet_appid(i: usize) -> String {
    format!("wx5a4db0c0ffee{:04x}", 0x100 + i)
}

/// `fleet run --sandbox`: a demo platform with 20 merchant apps of mixed fate (approved,
/// rejected with a reason, delayed then approved, not authorized, an ext_json that cannot be
/// made, a missing refresh token, the review quota running short), released as one fleet on the
/// in-process emulator's virtual clock.
pub async fn fleet(wf: &mut Workflow, g: &crate::settings::Globals) -> anyhow::Result<Report> {
    use mp_release_core::fleet::FleetFile;
    let mut scenario = Scenario {
        // 16 submissions this month: the plan submits 16 and reports the rest as not submitted.
        review_quota: 16,
        ..Scenario::default().review(vec![ReviewStep::approve_after_polls(1)])
    };
    scenario.default_review = vec![ReviewStep::approve_after_polls(2)];
    for (i, steps) in [
        (
            3,
            vec![ReviewStep::reject_after_polls(
                2,
                "1:小程序页面内容不完整，请补充后再提交",
                &["m-3"],
            )],
        ),
        (
            7,
            vec![ReviewStep::reject_after_polls(
                1,
                "2:服务类目与页面内容不符",
                &[],
            )],
        ),
        (
            9,
            vec![
                ReviewStep::delay_after_polls(1, "为了更好的服务小程序，审核时效可能延长"),
                ReviewStep::approve_after_polls(2),
            ],
        ),
    ] {
        scenario.app_reviews.insert(fleet_appid(i), steps);
    }
    let mut world = World::new(scenario);
    let ticket = world.add_platform(COMPONENT, COMPONENT_SECRET);
    let template = world
        .add_template(
            COMPONENT,
            "wx5a4db0c0ffee00de",
            "2.0.0",
            &["pages/index/index", "pages/cart/cart"],
            40_000,
        )
        .context("registering the demo template")?;
    for i in 0..FLEET_APPS {
        let appid = fleet_appid(i);
        let spec = AppSpec {
            live_version: Some("1.9.3".into()),
            // app 12 never authorized the platform; app 15's list entry has no refresh token
            component_appid: (i != 12).then(|| COMPONENT.to_owned()),
            refresh_token_listed: i != 15,
            platform_app: true,
            ..AppSpec::authorized(&appid, COMPONENT)
        };
        world.add_app(spec);
    }
    let emu = Emulator::start_with(world);
    let dir = std::env::temp_dir().join(format!("mp-release-fleet-sandbox-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let cities = [
        "Harbin", "Dalian", "Jinan", "Xi'an", "Chengdu", "Wuhan", "Nanjing", "Hangzhou", "Xiamen",
        "Shenzhen",
    ];
    let mut yaml = format!(
        "# the sandbox's fleet file (see docs/fleet.md)\ntemplate: {template}\nvars:\n  brand: Demo Coffee\next-json:\n  extEnable: true\n  extAppid: \"{{{{appid}}}}\"\n  ext:\n    brand: \"{{{{brand}}}}\"\n    city: \"{{{{city}}}}\"\nreview:\n  version-desc: Spring menu\napps:\n"
    );
    for i in 0..FLEET_APPS {
        let region = if i % 2 == 0 { "north" } else { "south" };
        yaml.push_str(&format!(
            "  - appid: {}\n    labels: [{region}]\n",
            fleet_appid(i)
        ));
        // app 17 names no city: its ext_json cannot be made
        if i != 17 {
            yaml.push_str(&format!(
                "    vars: {{ city: \"{}\" }}\n",
                cities[i % cities.len()]
            ));
        }
        if i == 5 {
            yaml.push_str("    gray-percentage: 20\n");
        }
    }
    let file_path = dir.join("fleet.yml");
    std::fs::write(&file_path, &yaml)?;
    let value: serde_json::Value = serde_norway::from_str(&yaml)?;
    let file = FleetFile::from_value(value).map_err(anyhow::Error::msg)?;
    let banner = format!(
        "SANDBOX · WeChat emulator at {} · platform {COMPONENT} with {FLEET_APPS} merchant apps · fleet file {} · nothing leaves this machine",
        emu.uri(),
        file_path.display()
    );
    let rule = "─".repeat(banner.chars().count().min(100));
    tracing::info!("{rule}");
    tracing::info!("{banner}");
    tracing::info!("{rule}");
    for secret in [COMPONENT_SECRET, &ticket] {
        wf.mask(secret)?;
    }
    let platform = crate::settings::PlatformSettings {
        net: crate::adapters::http::Net::default(),
        base: url::Url::parse(&emu.uri())?,
        timeout: Duration::from_secs(10),
        component_appid: COMPONENT.into(),
        auth: ComponentAuth::Ticket {
            secret: COMPONENT_SECRET.into(),
            ticket: ticket.into(),
        },
        virtual_clock: true,
        crash_after: None,
    };
    let pipeline = PipelineSettings {
        template: None,
        desc: None,
        submit: SubmitBody {
            build_item_list: true,
            ..SubmitBody::default()
        },
        rules: rules(),
        upload: None,
    };
    let s = crate::settings::FleetRunSettings {
        fleet: crate::settings::FleetSettings {
            platform,
            file,
            ext_files: std::collections::BTreeMap::new(),
            select: Vec::new(),
            max_submits: Some(16),
            shards: None,
            template_id: None,
            refresh_env: std::collections::BTreeMap::new(),
            pipeline,
            state_dir: Some(dir.clone()),
            token_service: None,
        },
        shard: mp_release_core::fleet::Shard::ALL,
        state_dir: Some(dir.clone()),
        concurrency: 8,
        global_rate: None,
        rules: Vec::new(),
        prune: mp_release_core::template::Prune::None,
        upload: None,
        github: crate::settings::GitHubSettings::default(),
    };
    let result = super::fleet::run(s, wf, g).await;
    let _ = std::fs::remove_dir_all(&dir);
    let mut report = result?;
    report.print_summary = true;
    // The mixed fates are the demonstration: the sandbox itself succeeded.
    if report.exit != crate::exit::Exit::Success {
        tracing::info!(
            "a real fleet run that ends like this exits {} ({}); the sandbox exits 0",
            report.exit as i32,
            report.failure.take().unwrap_or_default()
        );
        report.exit = crate::exit::Exit::Success;
    }
    drop(emu);
    Ok(report)
}
