//! The pipeline commands' shared driver: `run`, `submit`, `wait` and `publish` validate their
//! settings here, build the state (or resume it from the state file, or report a finished one
//! again), drive the core machine through the runner and turn the end into the report. `resume`
//! and the sandbox drive it too.

use super::calls::Calls;
use super::clock::Clock;
use super::github::Reporter;
use super::observe::Observers;
use super::runner::Runner;
use super::Report;
use crate::adapters::wechat::tokens::Tokens;
use crate::adapters::wechat::WeChat;
use crate::exit::Exit;
use crate::output::{Level, Workflow};
use crate::settings::{self, Globals, Layers, PipelineSettings, WeChatSettings};
use mp_release_core::pipeline::{AuditInfo, BumpSpec, Config, Outcome, Review, Stage, State};
use mp_release_core::report;
use mp_release_core::version::VersionSource;
use serde_json::{json, Value};

/// Review and release need a third-party platform's token: say so before any call.
pub(super) fn require_platform(ws: &WeChatSettings) -> Result<(), settings::UsageError> {
    if ws.credentials.can_manage_code() {
        return Ok(());
    }
    Err(settings::UsageError::new(
        "app-secret gives the mini program's own token, and WeChat accepts review and release calls only from a \
         third-party platform acting for the mini program (permission set 18): give access-token, or the component \
         credentials. Without a platform, reviews are submitted and released by hand in the mp.weixin.qq.com console",
    ))
}

/// The GitHub reporter of a command, validated with the other inputs (before any call).
pub(super) fn reporter(
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
    let mut r = Reporter::new(s, g.dry_run, &g.net)?;
    r.repo_dir.clone_from(&g.cwd);
    tag_prefix.clone_into(&mut r.tag_prefix);
    Ok(r)
}

/// The longest description put on an upload or commit. REFERENCE-UNSURE: WeChat documents no limit
/// for `user_desc` or the upload's `desc`; 500 characters keeps any real description whole.
pub(super) const MAX_DESC_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Run,
    Submit,
}

/// The WeChat call path of a command: client, token source and clock, built once.
pub(super) async fn connect(ws: &WeChatSettings, wf: &Workflow) -> anyhow::Result<Calls> {
    let wx = WeChat::new(&ws.base, ws.timeout, &ws.net)?;
    let tokens = Tokens::new(ws.credentials.clone(), wf.masker());
    let clock = Clock::of(&wx, ws.virtual_clock).await?;
    Ok(Calls::new(wx, tokens, clock))
}

/// The settings of `run` and `submit`, validated in full before anything is sent.
pub(super) fn pipeline_settings(
    wechat: &crate::cli::WeChatArgs,
    pipeline: &crate::cli::PipelineArgs,
    version: &crate::cli::VersionArgs,
    upload: &crate::cli::UploadOptions,
    layers: &Layers<'_>,
    g: &settings::Globals,
) -> anyhow::Result<(WeChatSettings, PipelineSettings, settings::VersionSettings)> {
    let cwd = g.cwd.as_path();
    let ws = settings::wechat(wechat, layers, g)?;
    require_platform(&ws)?;
    let mut ps = settings::pipeline(pipeline, layers, cwd, &ws.appid)?;
    ps.upload = upload_mode(upload, wechat, layers, g, &ps)?;
    let vs = settings::version(version, layers, cwd)?;
    Ok((ws, ps, vs))
}

/// Upload mode when project-path is set; it excludes template mode.
pub(super) fn upload_mode(
    a: &crate::cli::UploadOptions,
    w: &crate::cli::WeChatArgs,
    layers: &Layers<'_>,
    g: &settings::Globals,
    ps: &PipelineSettings,
) -> Result<Option<settings::UploadSettings>, settings::UsageError> {
    let up = settings::upload(a, w, layers, g, false)?;
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
        rules: ps.rules.clone(),
    }
}

/// The state to start from: the saved one when it belongs to an unfinished run of this app.
pub(super) fn resume_or(ws: &WeChatSettings, fresh: State) -> anyhow::Result<State> {
    let Some(path) = &ws.state_file else {
        return Ok(fresh);
    };
    // Two processes on one state file (a scheduled run while the last one still follows its
    // rollout) would both act on it: the second stops before reading it (exit 3).
    crate::adapters::fs::hold_lock(path).map_err(anyhow::Error::msg)?;
    let saved = Runner::load(path).map_err(|e| {
        settings::UsageError::new(format!(
            "invalid state-file {}: {e:#}; it is not a state file of this version of mp-release: remove it (or give \
             another state-file) to start anew",
            path.display()
        ))
    })?;
    let Some(saved) = saved else {
        return Ok(fresh);
    };
    if saved.config.appid != ws.appid {
        return Err(settings::UsageError::new(format!(
            "invalid state-file {}: it records a run of {}, not of {}; give each app its own state-file",
            path.display(),
            saved.config.appid,
            ws.appid
        ))
        .into());
    }
    let version = saved.version.as_deref().unwrap_or("?");
    // A rollout handed over to a later run (its next look lay beyond wait-timeout): the state
    // file is the hand-over, as the check run is for `resume`; this run takes the look that is
    // due, with the steps of the run that began it.
    if let Some(st) = saved
        .rollout_handed_over(fresh.config.clone())
        .filter(|_| !ws.restart)
    {
        tracing::info!(
            "continuing the rollout of {version} saved in {} (step {} of {})",
            path.display(),
            st.rollout.as_ref().map_or(0, |p| p.step) + 1,
            st.config
                .rules
                .publish
                .rollout
                .as_ref()
                .map_or(0, |r| r.steps.len())
        );
        return Ok(st);
    }
    match (saved.stage == Stage::Done, ws.restart) {
        (false, _) => {
            tracing::info!(
                "resuming the run of {version} saved in {} (stage {})",
                path.display(),
                saved.stage.name()
            );
            Ok(saved)
        }
        // Finished means finished: the recorded outcome is reported again, nothing is sent.
        (true, false) => {
            tracing::warn!(
                "{} records a finished run of {version} ({}): reporting it again without calling WeChat; to \
                 start a new release give restart: true or another state-file",
                path.display(),
                saved.outcome.as_ref().map_or("no outcome", outcome_word),
            );
            Ok(saved)
        }
        (true, true) => {
            tracing::info!(
                "restart: starting a new release over the finished run of {version} in {}",
                path.display()
            );
            Ok(fresh)
        }
    }
}

pub(super) fn outcome_word(o: &Outcome) -> &'static str {
    match o {
        Outcome::Published { .. } => "published",
        Outcome::Approved => "approved",
        Outcome::Rejected => "rejected",
        Outcome::Withdrawn => "withdrawn",
        Outcome::Detached => "detached",
        Outcome::DryRun { .. } => "dry run",
        Outcome::Failed { .. } => "failed",
        Outcome::Unhealthy { reverted: true, .. } => "reverted",
        Outcome::Unhealthy { .. } => "unhealthy",
    }
}

pub(super) async fn drive(
    ws: &WeChatSettings,
    ps: &PipelineSettings,
    state: State,
    wf: &Workflow,
    title: &str,
    observers: &mut Observers,
    dry_run: bool,
) -> anyhow::Result<Report> {
    if state.stage == Stage::Done {
        // A finished state file: the same outputs and summary as when it finished, no call at all.
        return Ok(pipeline_report(&state, state.in_doubt, title, observers));
    }
    let calls = connect(ws, wf).await?;
    let mut runner = runner_for(calls, ws, ps, &state, wf, dry_run)?;
    observers.start(&state).await;
    let mut end = runner
        .drive(state, async |s: &State| observers.progress(s).await)
        .await?;
    // The release's first operations figures for the summary and the check run (a read that
    // fails leaves them out: the release is done either way).
    if matches!(end.outcome, Some(Outcome::Published { .. })) && !dry_run {
        end.after_release = super::stats::after_release(&mut runner.calls, &end).await;
    }
    // in_doubt: stopped on what it could not prove, or on an infrastructure failure (exit 3).
    let infra = end.in_doubt;
    // On a release PR the comment carries the trial version's QR code for testers.
    let trial = match &end.outcome {
        Some(Outcome::Approved | Outcome::Detached | Outcome::Published { .. })
            if observers.wants_trial_qr() && !dry_run =>
        {
            trial_qr(&mut runner.calls).await
        }
        _ => None,
    };
    observers.finish(&end, infra, trial.as_ref()).await;
    Ok(pipeline_report(&end, infra, title, observers))
}

/// The runner of one app's pipeline on `calls`: the tagged descriptions, the uploader (upload
/// mode), the state file, the test hooks.
pub(super) fn runner_for(
    calls: Calls,
    ws: &WeChatSettings,
    ps: &PipelineSettings,
    state: &State,
    wf: &Workflow,
    dry_run: bool,
) -> anyhow::Result<Runner> {
    let desc = ps.desc.clone().unwrap_or_else(|| match &state.version {
        Some(v) => format!("mp-release {v}"),
        None => "released by mp-release".into(),
    });
    // The description carries the run's identity marker (see mp_release_core::identity).
    let tagged = |d: &str| match &state.config.marker {
        Some(m) => mp_release_core::identity::tag(d, m, MAX_DESC_CHARS),
        None => d.to_owned(),
    };
    let mut runner = Runner::new(calls, ps.submit.clone(), tagged(&desc));
    if let Some(up) = &ps.upload {
        wf.masker()
            .mask(secrecy::ExposeSecret::expose_secret(&up.key_pem))?;
        let desc = ps
            .desc
            .clone()
            .or_else(|| crate::adapters::git::Git::new(&up.project).head_subject())
            .unwrap_or(desc);
        let desc = tagged(&desc);
        let req = up.request("", desc, false);
        runner.uploader = Some(super::upload::uploader(up, req)?);
    }
    runner.dry_run = dry_run;
    runner.masker = Some(wf.masker());
    // A dry run writes nothing, not even the state file.
    if !dry_run {
        runner.state_file.clone_from(&ws.state_file);
    }
    runner.crash_after.clone_from(&ws.crash_after);
    Ok(runner)
}

/// The trial version's QR code, drawn for a comment; a failure to read it is only logged (the
/// release does not depend on it).
async fn trial_qr(calls: &mut Calls) -> Option<mp_release_core::github::Preview> {
    let image = match calls
        .once("get_qrcode", false, async |wx, t| wx.qrcode(t, None).await)
        .await
    {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!("the trial QR code could not be read for the comment: {e}");
            return None;
        }
    };
    let blocks = crate::adapters::qr::decode(&image.bytes)
        .and_then(|content| crate::adapters::qr::terminal(&content));
    Some(mp_release_core::github::Preview {
        image_url: None,
        blocks,
        packages: Vec::new(),
        trial: true,
    })
}

pub(super) fn pipeline_report(
    s: &State,
    infra: bool,
    title: &str,
    observers: &Observers,
) -> Report {
    let mut outputs = report::outputs(s);
    outputs.extend(observers.outputs());
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
        Some(Outcome::Unhealthy { why, .. }) => Some(format!("{}: {why}", report::headline(s))),
        _ => None,
    };
    let mut annotations = Vec::new();
    if matches!(s.outcome, Some(Outcome::Detached)) {
        annotations.push((Level::Notice, report::headline(s)));
    }
    annotations.extend(observers.annotations());
    tracing::info!("{}", report::headline(s));
    let summary = mp_release_core::github::job_summary(s, title, &observers.links());
    Report {
        outputs,
        json: Value::Object(json),
        summary,
        annotations,
        exit,
        failure,
        ..Report::default()
    }
}

pub(super) async fn pipeline(
    ws: WeChatSettings,
    mut ps: PipelineSettings,
    vs: &settings::VersionSettings,
    g: &Globals,
    wf: &mut Workflow,
    kind: Kind,
    observers: &mut Observers,
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
        super::version::write_targets(&targets, v, g.dry_run)?;
    }
    drive(&ws, &ps, state, wf, "mp-release", observers, g.dry_run).await
}

pub(super) async fn wait(
    ws: WeChatSettings,
    mut ps: PipelineSettings,
    audit_id: Option<u64>,
    wf: &mut Workflow,
    g: &Globals,
) -> anyhow::Result<Report> {
    ps.rules.publish.never = true;
    let mut state = State::new(config(&ws, &ps, BumpSpec::default()), None).at(Stage::Wait);
    state.audit_id = audit_id;
    let mut chats = Observers::default().with_chats(g);
    drive(
        &ws,
        &ps,
        state,
        wf,
        "mp-release wait",
        &mut chats,
        g.dry_run,
    )
    .await
}

/// The latest review (None when there is none: 85058), through the shared call path.
pub(super) async fn latest(calls: &mut Calls) -> anyhow::Result<Option<AuditInfo>> {
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

pub(super) async fn publish(
    ws: WeChatSettings,
    ps: PipelineSettings,
    wf: &mut Workflow,
    g: &Globals,
    mut rep: Reporter,
) -> anyhow::Result<Report> {
    let dry_run = g.dry_run;
    // On the commit a release pull request was merged into: only the reviewed code is published.
    let guard = match (rep.api(), rep.settings().sha.clone()) {
        (Some(gh), Some(sha)) => Some(
            super::merge::check(gh, rep.settings(), &ws.appid, &sha)
                .await
                .map_err(|e| {
                    anyhow::anyhow!(
                        "the merged commit could not be checked against the code WeChat reviewed ({e}); nothing was published"
                    )
                })?,
        ),
        _ => None,
    };
    let reviewed = match guard {
        Some(super::merge::Guard::Refused(why)) => {
            return Err(rep.refuse("not the code WeChat reviewed", why).await);
        }
        Some(super::merge::Guard::Allowed(r)) => {
            tracing::info!(
                "release PR #{} merged: the merged tree is the reviewed head {} (review {}, {})",
                r.pr,
                r.head,
                r.audit_id,
                r.version
            );
            rep.comment_on(r.pr);
            Some(r)
        }
        Some(super::merge::Guard::NotAReleaseMerge) | None => None,
    };
    let mut calls = connect(&ws, wf).await?;
    let Some(a) = latest(&mut calls).await? else {
        anyhow::bail!(crate::exit::ReleaseFailed(
            "nothing to publish: there is no review on record; submit first".into()
        ));
    };
    if let Some(r) = reviewed.filter(|r| r.audit_id != a.auditid || r.version != a.user_version) {
        let why = format!(
            "WeChat's latest review is {} (version {}), not the review {} (version {}) of release PR #{}: nothing is published",
            a.auditid, a.user_version, r.audit_id, r.version, r.pr
        );
        return Err(rep.refuse("not the code WeChat reviewed", why).await);
    }
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
    let mut observers = Observers::github(rep).with_chats(g);
    drive(
        &ws,
        &ps,
        resume_or(&ws, state)?,
        wf,
        "mp-release publish",
        &mut observers,
        dry_run,
    )
    .await
}
