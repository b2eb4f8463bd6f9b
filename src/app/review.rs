//! The commands that talk to WeChat: `run`, `submit`, `wait`, `publish` (the pipeline, through the
//! runner) and `status`, `withdraw`, `rollback`, `quota` (single reads or calls), plus the sandbox.
//! Everything is validated before the first call; the report is written even when the release fails.

use super::calls::Calls;
use super::github::Reporter;
use super::runner::{Clock, Runner};
use super::Report;
use crate::adapters::wechat::tokens::Tokens;
use crate::adapters::wechat::WeChat;
use crate::cli::Command;
use crate::exit::Exit;
use crate::output::{Level, Workflow};
use crate::settings::{self, Globals, Layers, PipelineSettings, WeChatSettings};
use anyhow::Context;
use mp_release_core::pipeline::{AuditInfo, BumpSpec, Config, Outcome, Review, Stage, State};
use mp_release_core::report;
use mp_release_core::version::VersionSource;
use serde_json::{json, Value};

/// Review and release need a third-party platform's token: say so before any call.
fn require_platform(ws: &WeChatSettings) -> Result<(), settings::UsageError> {
    if ws.credentials.can_manage_code() {
        return Ok(());
    }
    Err(settings::UsageError::new(
        "app-secret gives the mini program's own token, and WeChat accepts review and release calls only from a \
         third-party platform acting for the mini program (permission set 18): give access-token, or the component \
         credentials. Without a platform, reviews are submitted and released by hand in the mp.weixin.qq.com console",
    ))
}

/// Runs one WeChat command.
pub fn command(
    cmd: &Command,
    layers: &Layers<'_>,
    g: &Globals,
    wf: &mut Workflow,
) -> anyhow::Result<Report> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // The GitHub client (octocrab) spawns its worker when built, so build it inside the runtime.
    let _rt = rt.enter();
    let cwd = &g.cwd;
    let flag = |name: &str, set: bool| -> Result<bool, settings::UsageError> {
        Ok(layers
            .parse(name, set.then_some("true"), settings::parse_bool)?
            .is_some_and(|(b, _)| b))
    };
    match cmd {
        Command::Run(a) if flag("sandbox", a.sandbox)? => rt.block_on(super::sandbox::sandbox(wf)),
        Command::Run(a) => {
            let (ws, ps, vs) =
                pipeline_settings(&a.wechat, &a.pipeline, &a.version, &a.upload, layers, cwd)?;
            let mut gh = reporter(&a.github, layers, g, &vs.tag_prefix)?;
            rt.block_on(pipeline(ws, ps, &vs, g, wf, Kind::Run, &mut gh))
        }
        Command::Submit(a) => {
            let (ws, ps, vs) =
                pipeline_settings(&a.wechat, &a.pipeline, &a.version, &a.upload, layers, cwd)?;
            let mut gh = reporter(&a.github, layers, g, &vs.tag_prefix)?;
            rt.block_on(pipeline(ws, ps, &vs, g, wf, Kind::Submit, &mut gh))
        }
        Command::Resume(a) => {
            let ws = settings::wechat(&a.wechat, layers, cwd)?;
            require_platform(&ws)?;
            let mut ps = settings::pipeline(&a.pipeline, layers, cwd, &ws.appid)?;
            if layers
                .pick("wait-timeout", a.pipeline.wait_timeout.as_deref())
                .is_none()
            {
                ps.rules.wait.timeout_secs = 0;
            }
            let vs = settings::version(&crate::cli::VersionArgs::default(), layers, cwd)?;
            let gs = settings::github(&a.github, layers)?;
            let rs = settings::resume(a, layers, &gs)?;
            rt.block_on(super::resume::resume(ws, ps, rs, gs, g, &vs.tag_prefix, wf))
        }
        Command::Wait(a) => {
            let ws = settings::wechat(&a.wechat, layers, cwd)?;
            require_platform(&ws)?;
            let ps = settings::pipeline(&a.pipeline, layers, cwd, &ws.appid)?;
            let audit_id = layers
                .parse("audit-id", a.audit_id.as_deref(), |s| {
                    s.trim()
                        .parse::<u64>()
                        .map_err(|_| format!("expected a review id (a number), got {s:?}"))
                })?
                .map(|(v, _)| v);
            rt.block_on(wait(ws, ps, audit_id, wf, g.dry_run))
        }
        Command::Publish(a) => {
            let ws = settings::wechat(&a.wechat, layers, cwd)?;
            require_platform(&ws)?;
            let ps = settings::pipeline(&a.pipeline, layers, cwd, &ws.appid)?;
            rt.block_on(publish(ws, ps, wf, g.dry_run))
        }
        Command::Status(a) => {
            let ws = settings::wechat(&a.wechat, layers, cwd)?;
            if !ws.credentials.can_manage_code() && a.qrcode.is_none() {
                require_platform(&ws)?;
            }
            let audit_id = layers
                .parse("audit-id", a.audit_id.as_deref(), |s| {
                    s.trim()
                        .parse::<u64>()
                        .map_err(|_| format!("expected a review id (a number), got {s:?}"))
                })?
                .map(|(v, _)| v);
            let qrcode = layers
                .pick("qrcode", a.qrcode.as_deref())
                .map(|(p, _)| cwd.join(p));
            rt.block_on(status(ws, audit_id, qrcode, wf))
        }
        Command::Withdraw(a) => {
            let ws = settings::wechat(&a.wechat, layers, cwd)?;
            if g.dry_run {
                return Ok(dry("withdraw the review in flight (undocodeaudit)"));
            }
            rt.block_on(withdraw(ws, wf))
        }
        Command::Quota(a) => rt.block_on(quota(settings::wechat(&a.wechat, layers, cwd)?, wf)),
        Command::Rollback(a) => {
            let ws = settings::wechat(&a.wechat, layers, cwd)?;
            let to = layers
                .parse("to", a.to.as_deref(), |t| {
                    t.trim().parse::<u64>().map_err(|_| {
                        format!("expected an app_version number from `rollback --list`, got {t:?}")
                    })
                })?
                .map(|(v, _)| v);
            let list = flag("list", a.list)?;
            if g.dry_run && !list {
                return Ok(dry("roll the live version back (revertcoderelease)"));
            }
            rt.block_on(rollback(ws, list, to, wf))
        }
        Command::Upload(a) => {
            let up = settings::upload(&a.upload, &a.wechat, layers, cwd, true)?.expect("required");
            let vs = settings::version(&a.version, layers, cwd)?;
            let desc = layers.pick("desc", a.desc.as_deref()).map(|(d, _)| d);
            if g.dry_run {
                return Ok(dry("upload the project as a new version"));
            }
            rt.block_on(super::upload::upload(up, &vs, desc, g, wf))
        }
        Command::Preview(a) => {
            let up = settings::upload(&a.upload, &a.wechat, layers, cwd, true)?.expect("required");
            // A preview is never tagged: the tag prefix does not matter.
            let gh = reporter(&a.github, layers, g, "v")?;
            let page = layers
                .pick("page-path", a.page_path.as_deref())
                .map(|(p, _)| {
                    (
                        p,
                        layers
                            .pick("search-query", a.search_query.as_deref())
                            .map(|(q, _)| q),
                    )
                });
            let out = layers
                .parse("qrcode-output", a.qrcode_output.as_deref(), |p| {
                    let p = cwd.join(p);
                    settings::writable_file(&p)?;
                    Ok(p)
                })?
                .map_or_else(|| cwd.join("preview-qrcode.png"), |(p, _)| p);
            let desc = layers.pick("desc", a.desc.as_deref()).map(|(d, _)| d);
            if g.dry_run {
                return Ok(dry("upload a preview and comment on the pull request"));
            }
            rt.block_on(super::upload::preview(up, page, out, desc, wf, gh))
        }
        Command::Comment(a) => {
            let appid = settings::appid(a.appid.as_deref(), layers)?;
            let content = layers
                .pick("qrcode-content", a.qrcode_content.as_deref())
                .map(|(c, _)| c);
            let packages = settings::package_sizes(a.package_sizes.as_deref(), layers)?;
            let gh = reporter(&a.github, layers, g, "v")?;
            if g.dry_run {
                return Ok(dry("write the pull-request comment"));
            }
            rt.block_on(comment(&appid, content, packages, gh))
        }
        Command::Version(_) | Command::Emulator(_) => unreachable!("handled by the caller"),
    }
}

/// The GitHub reporter of a command, validated with the other inputs (before any call).
fn reporter(
    a: &crate::cli::GitHubArgs,
    layers: &Layers<'_>,
    g: &Globals,
    tag_prefix: &str,
) -> anyhow::Result<Reporter> {
    reporter_for(settings::github(a, layers)?, g, tag_prefix)
}

/// A reporter for validated GitHub settings.
pub(super) fn reporter_for(
    s: settings::GitHubSettings,
    g: &Globals,
    tag_prefix: &str,
) -> anyhow::Result<Reporter> {
    let mut r = Reporter::new(s, g.dry_run)?;
    r.repo_dir.clone_from(&g.cwd);
    tag_prefix.clone_into(&mut r.tag_prefix);
    Ok(r)
}

/// The longest description put on an upload or commit. REFERENCE-UNSURE: WeChat documents no limit
/// for `user_desc` or the upload's `desc`; 500 characters keeps any real description whole.
const MAX_DESC_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Run,
    Submit,
}

async fn connect(ws: &WeChatSettings, wf: &Workflow) -> anyhow::Result<(WeChat, Tokens, Clock)> {
    let wx = WeChat::new(&ws.base, ws.timeout, ws.proxy.as_ref())?;
    let tokens = Tokens::new(ws.credentials.clone(), wf.masker());
    let clock = if ws.virtual_clock {
        Clock::virtual_of(&wx).await?
    } else {
        Clock::Real
    };
    Ok((wx, tokens, clock))
}

/// The settings of `run` and `submit`, validated in full before anything is sent.
fn pipeline_settings(
    wechat: &crate::cli::WeChatArgs,
    pipeline: &crate::cli::PipelineArgs,
    version: &crate::cli::VersionArgs,
    upload: &crate::cli::UploadOptions,
    layers: &Layers<'_>,
    cwd: &std::path::Path,
) -> anyhow::Result<(WeChatSettings, PipelineSettings, settings::VersionSettings)> {
    let ws = settings::wechat(wechat, layers, cwd)?;
    require_platform(&ws)?;
    let mut ps = settings::pipeline(pipeline, layers, cwd, &ws.appid)?;
    ps.upload = upload_mode(upload, wechat, layers, cwd, &ps)?;
    let vs = settings::version(version, layers, cwd)?;
    Ok((ws, ps, vs))
}

/// Upload mode when project-path is set; it excludes template mode.
fn upload_mode(
    a: &crate::cli::UploadOptions,
    w: &crate::cli::WeChatArgs,
    layers: &Layers<'_>,
    cwd: &std::path::Path,
    ps: &PipelineSettings,
) -> Result<Option<settings::UploadSettings>, settings::UsageError> {
    let up = settings::upload(a, w, layers, cwd, false)?;
    if up.is_some() && ps.template.is_some() {
        return Err(settings::UsageError::new(
            "project-path and template-id are both set: upload the code (upload mode) or commit a template (template mode), not both",
        ));
    }
    Ok(up)
}

pub(super) fn config(ws: &WeChatSettings, ps: &PipelineSettings, bump: BumpSpec) -> Config {
    let marker = match (&ps.upload, &ps.template) {
        (Some(up), _) => Some(up.marker.clone()),
        (None, Some(t)) => Some(mp_release_core::identity::template(
            t.template_id,
            &t.ext_json,
        )),
        (None, None) => None,
    };
    Config {
        marker,
        upload: ps.upload.is_some(),
        appid: ws.appid.clone(),
        template: ps.template.clone(),
        bump,
        rules: ps.rules,
    }
}

/// The state to start from: the saved one when it belongs to an unfinished run of this app.
fn resume_or(ws: &WeChatSettings, fresh: State) -> anyhow::Result<State> {
    let Some(path) = &ws.state_file else {
        return Ok(fresh);
    };
    let saved = Runner::load(path).map_err(|e| {
        settings::UsageError::new(format!(
            "invalid state-file {}: {e:#}; it is not a state file of this version of mp-release: remove it (or give \
             another state-file) to start anew",
            path.display()
        ))
    })?;
    match saved {
        // Finished means finished: the recorded outcome is reported again, nothing is sent.
        Some(saved)
            if saved.stage == Stage::Done && saved.config.appid == ws.appid && !ws.restart =>
        {
            tracing::warn!(
                "{} records a finished run of {} ({}): reporting it again without calling WeChat; to start a \
                 new release give restart: true or another state-file",
                path.display(),
                saved.version.as_deref().unwrap_or("?"),
                saved.outcome.as_ref().map_or("no outcome", outcome_word),
            );
            Ok(saved)
        }
        Some(saved) if saved.stage != Stage::Done && saved.config.appid == ws.appid => {
            tracing::info!(
                "resuming the run of {} saved in {} (stage {})",
                saved.version.as_deref().unwrap_or("?"),
                path.display(),
                saved.stage.name()
            );
            Ok(saved)
        }
        // restart: a new release over a finished one.
        Some(saved) if saved.config.appid == ws.appid => {
            tracing::info!(
                "restart: starting a new release over the finished run of {} in {}",
                saved.version.as_deref().unwrap_or("?"),
                path.display()
            );
            Ok(fresh)
        }
        Some(saved) => Err(settings::UsageError::new(format!(
            "invalid state-file {}: it records a run of {}, not of {}; give each app its own state-file",
            path.display(),
            saved.config.appid,
            ws.appid
        ))
        .into()),
        None => Ok(fresh),
    }
}

fn outcome_word(o: &Outcome) -> &'static str {
    match o {
        Outcome::Published { .. } => "published",
        Outcome::Approved => "approved",
        Outcome::Rejected => "rejected",
        Outcome::Withdrawn => "withdrawn",
        Outcome::Detached => "detached",
        Outcome::DryRun { .. } => "dry run",
        Outcome::Failed { .. } => "failed",
    }
}

pub async fn drive(
    ws: &WeChatSettings,
    ps: &PipelineSettings,
    state: State,
    wf: &Workflow,
    title: &str,
    gh: &mut Reporter,
    dry_run: bool,
) -> anyhow::Result<Report> {
    if state.stage == Stage::Done {
        // A finished state file: the same outputs and summary as when it finished, no call at all.
        return Ok(pipeline_report(&state, state.in_doubt, title, gh));
    }
    let (wx, tokens, clock) = connect(ws, wf).await?;
    let desc = ps.desc.clone().unwrap_or_else(|| match &state.version {
        Some(v) => format!("mp-release {v}"),
        None => "released by mp-release".into(),
    });
    // The description carries the run's identity marker (see mp_release_core::identity).
    let tagged = |d: &str| match &state.config.marker {
        Some(m) => mp_release_core::identity::tag(d, m, MAX_DESC_CHARS),
        None => d.to_owned(),
    };
    let mut runner = Runner::new(wx, tokens, clock, ps.submit.clone(), tagged(&desc));
    if let Some(up) = &ps.upload {
        wf.masker()
            .mask(secrecy::ExposeSecret::expose_secret(&up.key_pem))?;
        let desc = ps
            .desc
            .clone()
            .or_else(|| crate::adapters::git::Git::new(&up.project).head_subject())
            .unwrap_or(desc);
        let desc = tagged(&desc);
        let req = crate::adapters::upload::native::Request {
            project: up.project.clone(),
            appid: up.appid.clone(),
            version: String::new(),
            desc,
            robot: up.robot,
            preview: false,
            page: None,
        };
        runner.uploader = Some(super::upload::uploader(up, req)?);
    }
    runner.dry_run = dry_run;
    runner.masker = Some(wf.masker());
    // A dry run writes nothing, not even the state file.
    if !dry_run {
        runner.state_file.clone_from(&ws.state_file);
    }
    runner.crash_after.clone_from(&ws.crash_after);
    gh.start(&state).await;
    let end = runner
        .drive(state, async |s: &State| gh.progress(s).await)
        .await?;
    let infra = runner.calls.infra_failure || end.in_doubt;
    gh.finish(&end, None, infra).await;
    Ok(pipeline_report(&end, infra, title, gh))
}

fn pipeline_report(s: &State, infra: bool, title: &str, gh: &Reporter) -> Report {
    let mut outputs = report::outputs(s);
    outputs.extend(gh.outputs());
    let mut json = serde_json::Map::new();
    for (k, v) in &outputs {
        json.insert(k.clone(), json!(v));
    }
    json.insert("outcome".into(), json!(s.outcome));
    json.insert("timeline".into(), json!(s.timeline));
    json.insert("notes".into(), json!(s.notes));
    let exit = Exit::of_outcome(s.outcome.as_ref(), infra);
    let failure = match &s.outcome {
        Some(Outcome::Failed { message, .. }) => Some(message.clone()),
        Some(Outcome::Rejected | Outcome::Withdrawn) => Some(report::headline(s)),
        _ => None,
    };
    let mut annotations = Vec::new();
    if matches!(s.outcome, Some(Outcome::Detached)) {
        annotations.push((Level::Notice, report::headline(s)));
    }
    annotations.extend(gh.annotations());
    tracing::info!("{}", report::headline(s));
    let summary = mp_release_core::github::job_summary(s, title, &gh.links);
    Report {
        outputs,
        json: Value::Object(json),
        summary,
        annotations,
        exit,
        failure,
        print_summary: false,
    }
}

async fn pipeline(
    ws: WeChatSettings,
    mut ps: PipelineSettings,
    vs: &settings::VersionSettings,
    g: &Globals,
    wf: &mut Workflow,
    kind: Kind,
    gh: &mut Reporter,
) -> anyhow::Result<Report> {
    if kind == Kind::Submit {
        ps.rules.wait.timeout_secs = 0;
    }
    let mut bump = BumpSpec {
        bump: vs.bump,
        preid: vs.preid.clone(),
        initial: vs.initial.clone(),
        commits: None,
        zero: vs.zero,
    };
    let mut targets = Vec::new();
    let known = if vs.source == VersionSource::Wechat {
        if !vs.write.is_empty() {
            return Err(settings::UsageError::new(
                "invalid write: with version-from wechat the version is known only after WeChat answers, so run cannot \
                 write it into files first; run `mp-release version --version-from explicit:<v> --write …` in a step \
                 before, or take the version from git-tag or package.json",
            )
            .into());
        }
        bump.commits = super::version::commits_for_auto(vs, g)?;
        None
    } else {
        let c = super::version::compute(vs, g)?;
        targets = c.targets;
        Some((
            c.plan.next.to_string(),
            c.plan.previous.map(|p| p.to_string()),
            c.plan.bump,
        ))
    };
    let fresh = State::new(config(&ws, &ps, bump), known);
    let state = resume_or(&ws, fresh)?;
    // `write`: the version this run releases (a resumed run's, not a newly computed one) goes
    // into the files before anything is sent; a finished state file writes nothing.
    if let Some(v) = state
        .version
        .as_deref()
        .filter(|_| state.stage != Stage::Done)
    {
        for (path, text) in &targets {
            if g.dry_run {
                tracing::info!("dry run: would write version {v} to {}", path.display());
            } else {
                crate::adapters::fs::write_json_version(path, text, v)
                    .with_context(|| format!("writing version {v} to {}", path.display()))?;
                tracing::info!("wrote version {v} to {}", path.display());
            }
        }
    }
    drive(&ws, &ps, state, wf, "mp-release", gh, g.dry_run).await
}

async fn wait(
    ws: WeChatSettings,
    mut ps: PipelineSettings,
    audit_id: Option<u64>,
    wf: &mut Workflow,
    dry_run: bool,
) -> anyhow::Result<Report> {
    ps.rules.publish.never = true;
    let mut state = State::new(config(&ws, &ps, BumpSpec::default()), None).at(Stage::Wait);
    state.audit_id = audit_id;
    let mut gh = Reporter::off(settings::GitHubSettings::default());
    drive(&ws, &ps, state, wf, "mp-release wait", &mut gh, dry_run).await
}

/// The latest review (None when there is none: 85058), through the shared call path.
async fn latest(calls: &mut Calls) -> anyhow::Result<Option<AuditInfo>> {
    let v = calls
        .once("get_latest_auditstatus", false, async |wx, t| {
            match wx.get("/wxa/get_latest_auditstatus", Some(t), &[]).await {
                Err(e) if e.code() == Some(85058) => Ok(None),
                r => r.map(Some),
            }
        })
        .await?;
    match v {
        None => Ok(None),
        Some(v) => super::runner::audit_info("/wxa/get_latest_auditstatus", &v)
            .map(Some)
            .map_err(|e| anyhow::anyhow!(e.explain())),
    }
}

/// The shared call path for a single-call command.
async fn calls_for(ws: &WeChatSettings, wf: &Workflow) -> anyhow::Result<Calls> {
    let (wx, tokens, clock) = connect(ws, wf).await?;
    Ok(Calls::new(wx, tokens, clock))
}

async fn publish(
    ws: WeChatSettings,
    ps: PipelineSettings,
    wf: &mut Workflow,
    dry_run: bool,
) -> anyhow::Result<Report> {
    let mut calls = calls_for(&ws, wf).await?;
    let Some(a) = latest(&mut calls).await? else {
        anyhow::bail!(crate::exit::ReleaseFailed(
            "nothing to publish: there is no review on record; submit first".into()
        ));
    };
    if a.status != 0 {
        let word = match a.status {
            1 => "rejected",
            3 => "withdrawn",
            4 => "delayed",
            _ => "in review",
        };
        anyhow::bail!(crate::exit::ReleaseFailed(format!(
            "nothing to publish: the latest review ({}, version {}) is {word}",
            a.auditid, a.user_version
        )));
    }
    let mut state = State::new(
        config(&ws, &ps, BumpSpec::default()),
        Some((a.user_version.clone(), None, "none".into())),
    )
    .at(Stage::Publish);
    state.audit_id = Some(a.auditid);
    state.review = Some(Review {
        status: 0,
        reason: String::new(),
        screenshot: String::new(),
    });
    let mut gh = Reporter::off(settings::GitHubSettings::default());
    drive(
        &ws,
        &ps,
        resume_or(&ws, state)?,
        wf,
        "mp-release publish",
        &mut gh,
        dry_run,
    )
    .await
}

/// `mp-release comment`: the preview's sticky comment, with the QR code's link when there is one.
async fn comment(
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

/// `--dry-run` of a command that is one change: the inputs were valid; nothing is sent.
fn dry(what: &str) -> Report {
    tracing::info!("dry run: would {what}; nothing was sent");
    simple(
        vec![("dry-run", "true".into())],
        format!("### 🧪 mp-release dry run\n\nthe inputs are valid; it would {what}. Nothing was sent.\n"),
    )
}

/// The report's word for a review status.
fn status_word(status: u8) -> &'static str {
    match status {
        0 => "approved",
        1 => "rejected",
        2 => "pending",
        3 => "withdrawn",
        4 => "delayed",
        _ => "none",
    }
}

fn simple(outputs: Vec<(&str, String)>, summary: String) -> Report {
    let outputs: Vec<(String, String)> = outputs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let json = Value::Object(outputs.iter().map(|(k, v)| (k.clone(), json!(v))).collect());
    Report {
        outputs,
        json,
        summary,
        ..Report::default()
    }
}

async fn status(
    ws: WeChatSettings,
    audit_id: Option<u64>,
    qrcode: Option<std::path::PathBuf>,
    wf: &mut Workflow,
) -> anyhow::Result<Report> {
    let mut calls = calls_for(&ws, wf).await?;
    if let Some(path) = &qrcode {
        let image = calls
            .once("get_qrcode", false, async |wx, t| wx.qrcode(t, None).await)
            .await
            .context("getting the trial QR code")?;
        std::fs::write(path, &image.bytes)
            .with_context(|| format!("writing {}", path.display()))?;
        tracing::info!(
            "trial QR code ({}, {} bytes) saved to {}",
            image.content_type,
            image.bytes.len(),
            path.display()
        );
    }
    if !ws.credentials.can_manage_code() {
        // The own token reads no review state (86000): the QR code is all there is.
        let file = qrcode.map(|p| p.display().to_string()).unwrap_or_default();
        let summary = format!(
            "### mp-release status · `{}`\n\ntrial QR code saved to {file}\n",
            ws.appid
        );
        return Ok(simple(vec![("qrcode", file)], summary));
    }
    let info = calls
        .once("getversioninfo", false, async |wx, t| {
            wx.post("/wxa/getversioninfo", Some(t), &json!({})).await
        })
        .await?;
    let (id, status, version, reason) = match audit_id {
        Some(id) => {
            let v = calls
                .once("get_auditstatus", false, async move |wx, t| {
                    wx.post("/wxa/get_auditstatus", Some(t), &json!({ "auditid": id }))
                        .await
                })
                .await?;
            let known = super::runner::audit_info("/wxa/get_auditstatus", &v)
                .map_err(|e| anyhow::anyhow!(e.explain()))?;
            (
                id.to_string(),
                Some(u64::from(known.status)),
                String::new(),
                v["reason"].as_str().unwrap_or_default().to_owned(),
            )
        }
        None => match latest(&mut calls).await? {
            Some(a) => (
                a.auditid.to_string(),
                Some(u64::from(a.status)),
                a.user_version,
                a.reason,
            ),
            None => (String::new(), None, String::new(), String::new()),
        },
    };
    let word = status
        .and_then(|n| u8::try_from(n).ok())
        .map_or("none", status_word);
    let live = info["release_info"]["release_version"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let trial = info["exp_info"]["exp_version"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let summary = format!(
        "### mp-release status · `{}`\n\nlive **{}** · trial {} · review {} {word}\n",
        ws.appid,
        if live.is_empty() { "—" } else { &live },
        if trial.is_empty() { "—" } else { &trial },
        if id.is_empty() { "—" } else { &id }
    );
    Ok(simple(
        vec![
            ("audit-id", id),
            ("review-status", word.into()),
            ("review-version", version),
            (
                "reject-reason",
                if word == "rejected" {
                    reason
                } else {
                    String::new()
                },
            ),
            ("live-version", live),
            ("trial-version", trial),
        ],
        summary,
    ))
}

async fn withdraw(ws: WeChatSettings, wf: &mut Workflow) -> anyhow::Result<Report> {
    let mut calls = calls_for(&ws, wf).await?;
    let before = latest(&mut calls).await?;
    let answer = calls
        .once("undocodeaudit", true, async |wx, t| {
            match wx.get("/wxa/undocodeaudit", Some(t), &[]).await {
                // C4: 87012 here means there is nothing to withdraw (no review, or it ended).
                Err(e) if e.code() == Some(87012) => Ok(json!({ "nothing-to-withdraw": true })),
                r => r,
            }
        })
        .await
        .context("withdrawing the review in flight")?;
    let id = before
        .as_ref()
        .map(|a| a.auditid.to_string())
        .unwrap_or_default();
    if answer.get("nothing-to-withdraw").is_some() {
        let (what, word) = match &before {
            Some(a) => (
                format!(
                    "review {} of {} is {}",
                    a.auditid,
                    a.user_version,
                    status_word(a.status)
                ),
                status_word(a.status),
            ),
            None => ("there is no review".to_owned(), "none"),
        };
        let line = format!("nothing to withdraw: {what} (WeChat answered 87012)");
        tracing::warn!("{line}");
        let mut report = simple(
            vec![
                ("audit-id", id),
                ("review-status", word.into()),
                ("withdrawn", "false".into()),
            ],
            format!("### mp-release withdraw · `{}`\n\n{line}\n", ws.appid),
        );
        report.annotations.push((Level::Warning, line));
        return Ok(report);
    }
    tracing::info!("withdrew review {id}");
    Ok(simple(
        vec![
            ("audit-id", id.clone()),
            ("review-status", "withdrawn".into()),
            ("withdrawn", "true".into()),
        ],
        format!(
            "### mp-release withdraw · `{}`\n\nreview {id} withdrawn\n",
            ws.appid
        ),
    ))
}

async fn quota(ws: WeChatSettings, wf: &mut Workflow) -> anyhow::Result<Report> {
    let mut calls = calls_for(&ws, wf).await?;
    let q = calls
        .once("queryquota", false, async |wx, t| {
            wx.get("/wxa/queryquota", Some(t), &[]).await
        })
        .await?;
    let n = |k: &str| q[k].as_u64().map(|v| v.to_string()).unwrap_or_default();
    let summary = format!(
        "### mp-release quota\n\nreviews {}/{} left this month · speed-ups {}/{}\n",
        n("rest"),
        n("limit"),
        n("speedup_rest"),
        n("speedup_limit")
    );
    Ok(simple(
        vec![
            ("quota-rest", n("rest")),
            ("quota-limit", n("limit")),
            ("speedup-rest", n("speedup_rest")),
            ("speedup-limit", n("speedup_limit")),
        ],
        summary,
    ))
}

async fn rollback(
    ws: WeChatSettings,
    list: bool,
    to: Option<u64>,
    wf: &mut Workflow,
) -> anyhow::Result<Report> {
    let mut calls = calls_for(&ws, wf).await?;
    let hist = calls
        .once("revertcoderelease", false, async |wx, t| {
            wx.get(
                "/wxa/revertcoderelease",
                Some(t),
                &[("action", "get_history_version")],
            )
            .await
        })
        .await?;
    let versions: Vec<Value> = hist["version_list"].as_array().cloned().unwrap_or_default();
    let mut table = String::from("| app_version | version | description |\n|---|---|---|\n");
    for v in &versions {
        table.push_str(&format!(
            "| {} | {} | {} |\n",
            v["app_version"],
            v["user_version"].as_str().unwrap_or_default(),
            v["user_desc"]
                .as_str()
                .unwrap_or_default()
                .replace('|', "\\|")
        ));
    }
    tracing::info!("rollback targets:\n{table}");
    if list {
        let json_list = serde_json::to_string(&versions)?;
        return Ok(simple(
            vec![("history", json_list)],
            format!("### mp-release rollback · `{}`\n\n{table}", ws.appid),
        ));
    }
    let q = to.map(|v| v.to_string());
    calls
        .once("revertcoderelease", true, async |wx, t| {
            let query: Vec<(&str, &str)> = q
                .as_deref()
                .map(|v| ("app_version", v))
                .into_iter()
                .collect();
            wx.get("/wxa/revertcoderelease", Some(t), &query).await
        })
        .await
        .context("rolling back (revertcoderelease)")?;
    let info = calls
        .once("getversioninfo", false, async |wx, t| {
            wx.post("/wxa/getversioninfo", Some(t), &json!({})).await
        })
        .await?;
    let live = info["release_info"]["release_version"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    tracing::info!("rolled back: {live} is live");
    Ok(simple(
        vec![("version", live.clone())],
        format!(
            "### mp-release rollback · `{}`\n\nrolled back: **{live}** is live\n\n{table}",
            ws.appid
        ),
    ))
}
