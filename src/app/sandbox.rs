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
use mp_release_emulator::{AppSpec, Emulator, ReviewStep, Scenario, World};
use std::time::Duration;

const COMPONENT: &str = "wx5a4db0c0ffee0001";
const APP: &str = "wxa11ce5a4db0c0001";
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

/// Runs the sandbox.
pub async fn sandbox(wf: &mut Workflow, g: &crate::settings::Globals) -> anyhow::Result<Report> {
    let mut world =
        World::new(Scenario::default().review(vec![ReviewStep::approve_after_polls(3)]));
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
    let ws = WeChatSettings {
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
            refresh_token: reg.refresh_token.into(),
        },
        state_file: None,
        restart: false,
        virtual_clock: true,
        crash_after: None,
    };
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
            privacy_api_not_use: false,
            privacy_poll_secs: 60,
            on_existing: OnExisting::Fail,
            speedup: false,
            wait: WaitSpec::default(),
            publish: PublishSpec::default(),
            allow_downgrade: false,
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
    drop(emu);
    Ok(report)
}
