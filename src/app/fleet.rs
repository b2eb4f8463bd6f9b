//! `fleet plan`, `fleet run`, `fleet report`: one template to many merchant mini programs.
//!
//! The plan is the core's (`mp_release_core::fleet::plan`) from facts read here (the authorizer
//! list, each app's permission sets, the review quota, what the state directory says was
//! submitted already). `fleet run` drives every planned app of its shard through the single-app
//! pipeline — the same runner and sans-IO machine as `run` — concurrently, on one set of
//! services: one component token, per-app authorizer tokens, one rate limiter, one review budget
//! (the first 85085 closes it for every app). One app's failure never stops the others.
//!
//! The state directory: `plan.json` (the plan and the fingerprint of what it was made from),
//! `template.json` (`template: new`: the template this fleet made), `apps/<appid>.json` (each
//! app's pipeline state, saved before every effect as `run --state-file` does) and
//! `fleet-report-<i>-of-<n>.json`. Running again continues every unfinished app.

use super::calls::Calls;
use super::platform::{self, PlatformCalls};
use super::runner::{InjectedStop, SubmitGate};
use super::Report;
use crate::exit::Exit;
use crate::output::Workflow;
use crate::settings::{FleetRunSettings, FleetSettings};
use anyhow::Context;
use futures_util::StreamExt;
use mp_release_core::fleet::{
    self as core, AppResult, Authorizer, Facts, Plan, PlannedApp, RefreshSource, Shard, Status,
};
use mp_release_core::limit::Limiter;
use mp_release_core::pipeline::{BumpSpec, CommitSpec, Quota, Stage, State};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// `plan.json`.
#[derive(Debug, Serialize, Deserialize)]
struct SavedPlan {
    /// What the plan was made from (fleet file, selection, budget, template).
    fingerprint: String,
    plan: Plan,
}

/// `template.json` (`template: new`).
#[derive(Debug, Serialize, Deserialize)]
struct SavedTemplate {
    template_id: u64,
    draft_id: u64,
    version: String,
}

fn fingerprint(s: &FleetSettings) -> String {
    let mut m = mp_release_core::identity::Marker::new();
    m.part(
        serde_json::to_string(&s.file)
            .unwrap_or_default()
            .as_bytes(),
    );
    m.part(
        serde_json::to_string(&s.ext_files)
            .unwrap_or_default()
            .as_bytes(),
    );
    m.part(
        serde_json::to_string(&s.select)
            .unwrap_or_default()
            .as_bytes(),
    );
    m.part(format!("{:?}/{:?}", s.max_submits, s.template_id).as_bytes());
    m.finish()
}

fn write_json(path: &Path, v: &impl Serialize, wf: &Workflow) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let text = wf.masker().redact(&serde_json::to_string_pretty(v)?);
    crate::adapters::fs::write_atomic(path, text.as_bytes(), crate::adapters::fs::Mode::Plain)
        .with_context(|| format!("writing {}", path.display()))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<Option<T>> {
    if !path.exists() {
        return Ok(None);
    }
    let text = crate::settings::read_text(path, 64 << 20).map_err(anyhow::Error::msg)?;
    Ok(Some(serde_json::from_str(&text).with_context(|| {
        format!(
            "reading {}: not a file of this version of mp-release; remove it to start anew",
            path.display()
        )
    })?))
}

fn app_state_path(dir: &Path, appid: &str) -> PathBuf {
    dir.join("apps").join(format!("{appid}.json"))
}

/// The apps whose saved states show a submission (they need no quota again).
fn submitted_in(dir: Option<&Path>) -> BTreeSet<String> {
    let Some(dir) = dir else {
        return BTreeSet::new();
    };
    let Ok(entries) = std::fs::read_dir(dir.join("apps")) else {
        return BTreeSet::new();
    };
    entries
        .flatten()
        .filter_map(|e| read_json::<State>(&e.path()).ok().flatten())
        .filter(|s| s.audit_id.is_some())
        .map(|s| s.config.appid)
        .collect()
}

/// What the platform says, for the plan.
struct Gathered {
    authorizers: Option<Vec<Authorizer>>,
    listed: BTreeMap<String, SecretString>,
    quota: Option<Quota>,
}

/// Reads the authorizer list when the plan needs it (apps: all, or apps without
/// refresh-token-env), each candidate's permission sets, and the review quota.
async fn gather(p: &mut PlatformCalls, s: &FleetSettings) -> anyhow::Result<Gathered> {
    let entries = match &s.file.apps {
        core::Apps::List(l) => l.clone(),
        core::Apps::All(_) => Vec::new(),
    };
    let need_list = matches!(s.file.apps, core::Apps::All(_))
        || (s.file.token_service.is_none()
            && entries
                .iter()
                .any(|e| e.skip.is_none() && e.refresh_token_env.is_none()));
    let (mut authorizers, listed) = if need_list {
        let (a, t) = p.authorizers().await?;
        tracing::info!(
            "{} authorizers of platform {}",
            a.len(),
            s.platform.component_appid
        );
        (Some(a), t)
    } else {
        (None, BTreeMap::new())
    };
    if let Some(list) = &mut authorizers {
        // Only the apps the fleet concerns are asked about their permission sets.
        let wanted: Option<BTreeSet<&str>> = match &s.file.apps {
            core::Apps::All(_) => None,
            core::Apps::List(_) => Some(entries.iter().map(|e| e.appid.as_str()).collect()),
        };
        let todo: Vec<usize> = (0..list.len())
            .filter(|i| {
                wanted
                    .as_ref()
                    .is_none_or(|w| w.contains(list[*i].appid.as_str()))
            })
            .collect();
        let answers = RefCell::new(BTreeMap::new());
        let workers = todo.len().clamp(1, 16);
        let mut pool = Vec::new();
        for _ in 0..workers {
            pool.push(p.worker().await?);
        }
        let chunks: Vec<Vec<usize>> = (0..workers)
            .map(|w| todo.iter().copied().skip(w).step_by(workers).collect())
            .collect();
        let list_ref = &*list;
        futures_util::future::try_join_all(pool.iter_mut().zip(chunks).map(|(calls, idx)| {
            let answers = &answers;
            async move {
                for i in idx {
                    let appid = &list_ref[i].appid;
                    let set18 = has_set18(calls, &s.platform.component_appid, appid).await?;
                    answers.borrow_mut().insert(i, set18);
                }
                anyhow::Ok(())
            }
        }))
        .await?;
        for (i, set18) in answers.into_inner() {
            list[i].set18 = Some(set18);
        }
    }
    // queryquota takes any authorizer's token (D.1).
    let any_token = listed
        .iter()
        .next()
        .map(|(a, t)| (a.clone(), s.platform.app(a, t.clone())))
        .or_else(|| {
            entries.iter().filter(|e| e.skip.is_none()).find_map(|e| {
                let source = match &e.refresh_token_env {
                    Some(n) => RefreshSource::Env(n.clone()),
                    None => RefreshSource::Service,
                };
                Some((
                    e.appid.clone(),
                    crate::settings::credentials_of(s, &e.appid, &source, &listed)?,
                ))
            })
        });
    let quota = match any_token {
        Some((appid, creds)) => read_quota(p, &appid, creds).await,
        None => None,
    };
    Ok(Gathered {
        authorizers,
        listed,
        quota,
    })
}

async fn has_set18(calls: &mut Calls, component: &str, appid: &str) -> anyhow::Result<bool> {
    let body = json!({ "component_appid": component, "authorizer_appid": appid });
    let v = calls
        .once("api_get_authorizer_info", false, async |wx, t| {
            wx.post("/cgi-bin/component/api_get_authorizer_info", Some(t), &body)
                .await
        })
        .await?;
    let sets = v
        .pointer("/authorization_info/func_info")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow::anyhow!("api_get_authorizer_info: no func_info for {appid}"))?;
    Ok(sets
        .iter()
        .any(|f| f.pointer("/funcscope_category/id").and_then(Value::as_i64) == Some(18)))
}

/// The template's version, read from the library (the template must be there).
async fn template_version(p: &mut PlatformCalls, id: u64) -> anyhow::Result<String> {
    let list = p.templates().await?;
    match list.iter().find(|t| t.template_id == id) {
        Some(t) => Ok(t.user_version.clone()),
        None => anyhow::bail!(crate::exit::ReleaseFailed(format!(
            "template {id} is not in the platform's template library (gettemplatelist has {} templates): nothing was committed",
            list.len()
        ))),
    }
}

/// Plans from scratch; what it read of the platform is handed back for the run.
async fn make_plan(
    p: &mut PlatformCalls,
    s: &FleetSettings,
    template_id: Option<u64>,
) -> anyhow::Result<(Plan, Gathered)> {
    let version = match (&s.file.version, template_id) {
        (Some(v), _) => v.clone(),
        (None, Some(id)) => template_version(p, id).await?,
        (None, None) => unreachable!("settings require version with template: new"),
    };
    let g = gather(p, s).await?;
    let submitted = submitted_in(s.state_dir.as_deref());
    let facts = Facts {
        authorizers: g.authorizers.as_deref(),
        template_id,
        version: &version,
        quota_rest: g.quota.map(|q| q.rest),
        max_submits: s.max_submits,
        select: &s.select,
        submitted: &submitted,
        files: &s.ext_files,
    };
    let plan =
        core::plan(&s.file, &facts).map_err(|e| crate::settings::UsageError::new(e.to_string()))?;
    Ok((plan, g))
}

fn plan_table(plan: &Plan, max_rows: usize) -> String {
    use std::fmt::Write as _;
    let mut out = String::from("| app | labels | publish | ext_json |\n|---|---|---|---|\n");
    for a in plan.apps.iter().take(max_rows) {
        let publish = match (a.publish_never, a.gray_percentage) {
            (true, _) => "never".to_owned(),
            (false, Some(p)) => format!("phased {p}%"),
            (false, None) => "on approval".to_owned(),
        };
        let ext: String = a.ext_json.chars().take(60).collect();
        let _ = writeln!(
            out,
            "| `{}` | {} | {publish} | `{}` |",
            a.appid,
            a.labels.join(", "),
            ext.replace('|', "\\|")
        );
    }
    if plan.apps.len() > max_rows {
        let _ = writeln!(
            out,
            "\n_… and {} more apps (the plan output has them all)_",
            plan.apps.len() - max_rows
        );
    }
    if !plan.skipped.is_empty() {
        let _ = writeln!(
            out,
            "\n**Left out ({})**\n\n| app | why |\n|---|---|",
            plan.skipped.len()
        );
        for sk in plan.skipped.iter().take(max_rows) {
            let _ = writeln!(
                out,
                "| `{}` | {}: {} |",
                sk.appid,
                sk.kind.word(),
                sk.reason.replace('|', "\\|")
            );
        }
    }
    out
}

fn plan_headline(plan: &Plan) -> String {
    let template = plan.template_id.map_or_else(
        || "the template made from the upload".to_owned(),
        |t| format!("template {t}"),
    );
    let quota = match (plan.quota_rest, plan.max_submits) {
        (Some(r), Some(m)) => format!("; review quota left {r}, max-submits {m}"),
        (Some(r), None) => format!("; review quota left {r}"),
        (None, Some(m)) => format!("; max-submits {m} (quota not read)"),
        (None, None) => "; review quota not read".to_owned(),
    };
    format!(
        "commit {template} as {} to {} apps, submit {}{quota}; {} left out{}",
        plan.version,
        plan.apps.len(),
        plan.submits,
        plan.skipped.len(),
        if plan.not_selected > 0 {
            format!(", {} not selected", plan.not_selected)
        } else {
            String::new()
        }
    )
}

/// `fleet plan`.
pub(super) async fn plan(s: FleetSettings, wf: &mut Workflow) -> anyhow::Result<Report> {
    let limiter = Arc::new(Mutex::new(Limiter::unlimited()));
    let mut p = PlatformCalls::connect(&s.platform, wf.masker(), limiter).await?;
    let template_id = s.template_id();
    let (plan, _) = make_plan(&mut p, &s, template_id).await?;
    let headline = plan_headline(&plan);
    tracing::info!("plan: {headline}");
    if let Some(dir) = &s.state_dir {
        let saved = SavedPlan {
            fingerprint: fingerprint(&s),
            plan: plan.clone(),
        };
        write_json(&dir.join("plan.json"), &saved, wf)?;
        tracing::info!("saved the plan to {}", dir.join("plan.json").display());
    }
    let mut outputs = vec![
        ("plan".to_owned(), serde_json::to_string(&plan)?),
        ("submits".to_owned(), plan.submits.to_string()),
        ("version".to_owned(), plan.version.clone()),
    ];
    if let Some(n) = s.shards {
        outputs.push(("matrix".into(), core::matrix(n).to_string()));
    }
    let summary = format!(
        "### mp-release fleet plan\n\n{headline}\n\n{}",
        plan_table(&plan, 500)
    );
    let mut json = json!({ "plan": plan });
    if let Some(n) = s.shards {
        json["matrix"] = core::matrix(n);
    }
    Ok(Report {
        outputs,
        json,
        summary,
        ..Report::default()
    })
}

/// Progress on stderr: a line when the share of finished apps crosses a tenth (or every app for
/// small fleets), never one per poll.
struct Progress {
    total: usize,
    done: usize,
    counts: BTreeMap<Status, usize>,
    started: std::time::Instant,
    last_tenth: usize,
}

impl Progress {
    fn record(&mut self, status: Status) {
        self.done += 1;
        *self.counts.entry(status).or_insert(0) += 1;
        let tenth = self.done * 10 / self.total.max(1);
        if self.total > 20 && tenth == self.last_tenth && self.done != self.total {
            return;
        }
        self.last_tenth = tenth;
        let failed: usize = self
            .counts
            .iter()
            .filter(|(s, _)| s.is_failure())
            .map(|(_, n)| n)
            .sum();
        let review = self.counts.get(&Status::InReview).copied().unwrap_or(0);
        let rolling = self.counts.get(&Status::RollingOut).copied().unwrap_or(0);
        let elapsed = self.started.elapsed().as_secs_f64();
        #[allow(clippy::cast_precision_loss)]
        let eta = elapsed / self.done as f64 * (self.total - self.done) as f64;
        tracing::info!(
            "fleet: {}/{} apps done · {} in review{} · {} failed{}",
            self.done,
            self.total,
            review,
            if rolling > 0 {
                format!(" · {rolling} rolling out")
            } else {
                String::new()
            },
            failed,
            if self.done < self.total {
                format!(" · about {eta:.0} s left")
            } else {
                String::new()
            }
        );
    }
}

/// One app through the pipeline; its result.
#[allow(clippy::too_many_arguments)]
async fn drive_app(
    p: &PlatformCalls,
    s: &FleetRunSettings,
    plan: &Plan,
    template_id: u64,
    app: &PlannedApp,
    creds: crate::adapters::wechat::tokens::Credentials,
    gate: Arc<SubmitGate>,
    quota: Option<&mp_release_core::pipeline::Quota>,
    wf: &Workflow,
    dry_run: bool,
) -> anyhow::Result<AppResult> {
    let (calls, mut ws) = p.app_calls_with(&app.appid, creds).await?;
    let shared_quota = quota.copied();
    if !dry_run {
        ws.state_file = s.state_dir.as_ref().map(|d| app_state_path(d, &app.appid));
    }
    let mut ps = s.fleet.pipeline.clone();
    ps.template = Some(CommitSpec {
        template_id,
        ext_json: app.ext_json.clone(),
        desc: String::new(),
    });
    ps.desc = Some(plan.desc.clone());
    if app.version_desc.is_some() {
        ps.submit.version_desc.clone_from(&app.version_desc);
    }
    if let Some(items) = &app.items {
        ps.submit.item_list = Some(Value::Array(items.clone()));
    }
    ps.rules.privacy_api_not_use |= app.privacy_api_not_use;
    ps.rules.publish.never |= app.publish_never;
    if let Some(p) = app.gray_percentage {
        ps.rules.publish.gray_percentage = Some(p);
        ps.rules.publish.rollout = None;
    }
    let fresh = State::new(
        super::pipeline::config(&ws, &ps, BumpSpec::default()),
        Some((plan.version.clone(), None, "none".into())),
    );
    let state = match ws
        .state_file
        .as_deref()
        .map(super::runner::Runner::load)
        .transpose()?
    {
        Some(Some(saved)) if saved.config.appid != app.appid => {
            anyhow::bail!(
                "its state file records a run of {}, not of {}",
                saved.config.appid,
                app.appid
            )
        }
        Some(Some(saved)) if saved.config.marker != fresh.config.marker => {
            anyhow::bail!(
                "its saved state is of another template or ext_json (marker {:?}, now {:?}): a finished or running release is never replaced; remove apps/{}.json from the state-dir to start this one",
                saved.config.marker,
                fresh.config.marker,
                app.appid
            )
        }
        // Handed over: mid-rollout, this run goes on with it where it stands (the steps of the
        // run that began it, the thresholds of this one); in review (a job that did not wait), it
        // follows that review — the same review id, the rules of this run. As `resume` does for
        // one app.
        Some(Some(saved))
            if matches!(
                saved.outcome,
                Some(mp_release_core::pipeline::Outcome::Detached)
            ) =>
        {
            if let Some(st) = saved.rollout_handed_over(fresh.config.clone()) {
                st
            } else {
                let version = saved
                    .version
                    .clone()
                    .unwrap_or_else(|| plan.version.clone());
                let mut st = State::new(
                    fresh.config.clone(),
                    Some((version, saved.previous_version.clone(), "none".into())),
                )
                .at(Stage::Wait);
                st.audit_id = saved.audit_id;
                st
            }
        }
        Some(Some(saved)) => saved,
        // No saved state: a fleet's state dir may have been lost between jobs, so the trial
        // version is read back before committing. When it carries this run's marker (this code,
        // this ext_json) the commit is not sent again, and a review of it in flight is attached
        // to rather than submitted twice; otherwise the commit goes out as usual.
        _ => {
            let mut st = fresh;
            st.commit_sent = true;
            st
        }
    };
    if state.stage == Stage::Done {
        return Ok(core::result_of(app, &state));
    }
    let mut runner = super::pipeline::runner_for(calls, &ws, &ps, &state, wf, dry_run)?;
    runner.gate = Some(gate);
    runner.quiet = true;
    runner.shared_quota = shared_quota;
    let end = runner.drive(state, async |_: &State| {}).await?;
    if let Some(mp_release_core::pipeline::Outcome::DryRun { next }) = &end.outcome {
        return Ok(core::left_out(
            &app.appid,
            &app.labels,
            Status::Skipped,
            &format!("dry run: stopped before {next}"),
            &plan.version,
        ));
    }
    if let Some(why) = &runner.held {
        return Ok(core::left_out(
            &app.appid,
            &app.labels,
            Status::NotSubmitted,
            &format!("not submitted: the platform's review quota ran out during this run ({why}); run again after it is refilled"),
            &plan.version,
        ));
    }
    Ok(core::result_of(app, &end))
}

/// The platform's review quota (`queryquota` takes any authorizer's token, D.1), read once for
/// the plan and every app's report; `None` (with a warning) when it cannot be read.
async fn read_quota(
    p: &PlatformCalls,
    appid: &str,
    creds: crate::adapters::wechat::tokens::Credentials,
) -> Option<Quota> {
    let read = async {
        let (mut calls, _) = p.app_calls_with(appid, creds).await?;
        let v = calls
            .once("queryquota", false, async |wx, t| {
                wx.get("/wxa/queryquota", Some(t), &[]).await
            })
            .await?;
        let q: mp_release_core::wechat::wire::QuotaInfo =
            super::runner::answer("/wxa/queryquota", &v)
                .map_err(|e| anyhow::anyhow!(e.explain()))?;
        anyhow::Ok(Quota {
            rest: q.rest,
            limit: q.limit,
            speedup_rest: q.speedup_rest,
            speedup_limit: q.speedup_limit,
        })
    };
    match read.await {
        Ok(q) => Some(q),
        Err(e) => {
            tracing::warn!("the review quota could not be read ({e:#}); the plan cannot check it and each app reads it itself");
            None
        }
    }
}

/// `fleet run`.
#[allow(clippy::too_many_lines)]
pub(super) async fn run(
    s: FleetRunSettings,
    wf: &mut Workflow,
    g: &crate::settings::Globals,
) -> anyhow::Result<Report> {
    // One process at a time per shard of a state-dir (a scheduled run while the last one still
    // follows its reviews or rollouts would drive the same apps twice); shards may share one.
    if let Some(d) = &s.state_dir {
        let key = d.join(format!("shard-{}-of-{}", s.shard.index, s.shard.count));
        crate::adapters::fs::hold_lock(&key).map_err(anyhow::Error::msg)?;
    }
    let limiter = Arc::new(Mutex::new(Limiter::new(s.rules.clone(), s.global_rate)));
    let mut p = PlatformCalls::connect(&s.fleet.platform, wf.masker(), limiter).await?;
    let dir = s.state_dir.clone();
    if dir.is_none() && !g.dry_run {
        tracing::warn!("no state-dir: a stopped fleet cannot be continued where it stopped (each app's read-backs still keep a rerun from submitting twice)");
    }
    // A state-dir planned for another fleet is refused before anything is sent (or uploaded).
    let fp = fingerprint(&s.fleet);
    let saved: Option<SavedPlan> = match &dir {
        Some(d) => read_json(&d.join("plan.json"))?,
        None => None,
    };
    let other = |d: &Option<PathBuf>| {
        crate::settings::UsageError::new(format!(
            "{} holds the plan of another fleet file, selection or template: give another state-dir, or remove plan.json there to plan anew (the apps' states stay and are checked against the new plan)",
            d.as_deref().unwrap_or(Path::new(".")).display()
        ))
    };
    if saved.as_ref().is_some_and(|sp| sp.fingerprint != fp) {
        return Err(other(&dir).into());
    }
    // The template: given, or made from this run's upload (once: template.json keeps it).
    let mut deleted = Vec::new();
    let template_id = match s.fleet.template_id() {
        Some(id) => id,
        None => {
            let saved: Option<SavedTemplate> = match &dir {
                Some(d) => read_json(&d.join("template.json"))?,
                None => None,
            };
            match saved {
                Some(t) => {
                    tracing::info!(
                        "template {} (draft {}) was made by this fleet's earlier run",
                        t.template_id,
                        t.draft_id
                    );
                    t.template_id
                }
                None if g.dry_run => {
                    tracing::info!("dry run: would upload the development mini program, make its template and release it to the fleet; nothing was sent");
                    return Ok(Report {
                        outputs: vec![("dry-run".into(), "true".into())],
                        json: json!({ "dry-run": "true" }),
                        summary: "### 🧪 mp-release fleet dry run\n\nthe inputs are valid; it would upload the development mini program, make its template and release it to the fleet. Nothing was sent.\n".into(),
                        ..Report::default()
                    });
                }
                None => {
                    let up = s
                        .upload
                        .as_ref()
                        .expect("settings require project-path with template: new");
                    let version = s.fleet.file.version.clone().unwrap_or_default();
                    let desc = s
                        .fleet
                        .file
                        .desc
                        .clone()
                        .unwrap_or_else(|| format!("mp-release {version}"));
                    let added =
                        platform::upload_and_add(&mut p, up, &version, &desc, s.prune, wf).await?;
                    deleted.clone_from(&added.deleted);
                    if let Some(d) = &dir {
                        let t = SavedTemplate {
                            template_id: added.template.template_id,
                            draft_id: added.draft.draft_id,
                            version,
                        };
                        write_json(&d.join("template.json"), &t, wf)?;
                    }
                    added.template.template_id
                }
            }
        }
    };
    // The plan: the one saved for this fleet file, else made now (and saved).
    let (plan, mut listed, mut quota) = match saved {
        Some(sp)
            if sp.fingerprint == fp && sp.plan.template_id.is_none_or(|t| t == template_id) =>
        {
            tracing::info!(
                "the plan saved in the state-dir: {}",
                plan_headline(&sp.plan)
            );
            (sp.plan, None, None)
        }
        Some(_) => return Err(other(&dir).into()),
        None => {
            let planning = std::time::Instant::now();
            let (mut plan, gathered) = make_plan(&mut p, &s.fleet, Some(template_id)).await?;
            plan.template_id = Some(template_id);
            tracing::info!(
                "plan: {} (planned in {:.1} s)",
                plan_headline(&plan),
                planning.elapsed().as_secs_f64()
            );
            if let (Some(d), false) = (&dir, g.dry_run) {
                write_json(
                    &d.join("plan.json"),
                    &SavedPlan {
                        fingerprint: fp.clone(),
                        plan: plan.clone(),
                    },
                    wf,
                )?;
            }
            (plan, Some(gathered.listed), gathered.quota)
        }
    };
    let slice = plan.slice(s.shard);
    let skipped = plan.skipped_in(s.shard);
    // Refresh tokens from the list, when this run did not read it already.
    if listed.is_none() && slice.iter().any(|a| a.refresh == RefreshSource::Listed) {
        listed = Some(p.authorizers().await?.1);
    }
    let listed = listed.unwrap_or_default();
    if let (Some(d), false) = (&dir, g.dry_run) {
        std::fs::create_dir_all(d.join("apps"))
            .with_context(|| format!("creating {}", d.join("apps").display()))?;
    }
    let gate = Arc::new(SubmitGate::default());
    // The platform's quota, read once for the report of every app (not once per app).
    let finished = |a: &&PlannedApp| {
        dir.as_deref()
            .and_then(|d| {
                read_json::<State>(&app_state_path(d, &a.appid))
                    .ok()
                    .flatten()
            })
            .is_some_and(|st| st.stage == Stage::Done)
    };
    if quota.is_none() && !slice.iter().all(finished) {
        let first = slice.iter().find_map(|a| {
            let creds = crate::settings::credentials_of(&s.fleet, &a.appid, &a.refresh, &listed)?;
            Some((a.appid.clone(), creds))
        });
        if let Some((appid, creds)) = first {
            quota = read_quota(&p, &appid, creds).await;
        }
    }
    let progress = RefCell::new(Progress {
        total: slice.len(),
        done: 0,
        counts: BTreeMap::new(),
        started: std::time::Instant::now(),
        last_tenth: 0,
    });
    tracing::info!(
        "fleet: {} apps in shard {} ({} at a time)",
        slice.len(),
        s.shard.label(),
        s.concurrency
    );
    let (pr, sr, planr, gater, progr, listedr, quotar) =
        (&p, &s, &plan, &gate, &progress, &listed, quota.as_ref());
    let wf_ref: &Workflow = wf;
    let outcomes: Vec<anyhow::Result<AppResult>> = futures_util::stream::iter(slice.iter().copied())
        .map(|app| async move {
            let creds =
                crate::settings::credentials_of(&sr.fleet, &app.appid, &app.refresh, listedr);
            let result = match creds {
                None => Ok(core::left_out(
                    &app.appid,
                    &app.labels,
                    Status::Failed,
                    "its refresh token is no longer in the platform's authorizer list (the authorization was revoked or changed since the plan)",
                    &planr.version,
                )),
                Some(creds) => {
                    match drive_app(pr, sr, planr, template_id, app, creds, gater.clone(), quotar, wf_ref, g.dry_run).await {
                        Ok(r) => Ok(r),
                        // A test hook's stop is the process's end (as a kill would be).
                        Err(e) if e.downcast_ref::<InjectedStop>().is_some() => Err(e),
                        Err(e) => Ok(core::left_out(&app.appid, &app.labels, Status::Failed, &format!("{e:#}"), &planr.version)),
                    }
                }
            };
            if let Ok(r) = &result {
                if r.status.is_failure() {
                    tracing::warn!("{}: {} — {}", r.appid, r.status.word(), r.reason);
                }
                progr.borrow_mut().record(r.status);
            }
            result
        })
        .buffer_unordered(s.concurrency)
        .collect()
        .await;
    let mut results = Vec::new();
    for o in outcomes {
        results.push(o?);
    }
    for sk in skipped {
        let status = if sk.kind == core::SkipKind::OverBudget {
            Status::NotSubmitted
        } else {
            Status::Skipped
        };
        results.push(core::left_out(
            &sk.appid,
            &sk.labels,
            status,
            &sk.reason,
            &plan.version,
        ));
    }
    results.sort_by(|a, b| a.appid.cmp(&b.appid));
    let report = core::Report {
        version: plan.version.clone(),
        template_id: Some(template_id),
        shards: vec![s.shard.label()],
        results,
    };
    let path = dir.as_ref().map(|d| {
        d.join(format!(
            "fleet-report-{}-of-{}.json",
            s.shard.index, s.shard.count
        ))
    });
    if let (Some(path), false) = (&path, g.dry_run) {
        write_json(path, &report, wf)?;
    }
    let mut out = finish(&report, path.as_deref(), "mp-release fleet");
    if !deleted.is_empty() {
        let ids: Vec<String> = deleted.iter().map(|t| t.template_id.to_string()).collect();
        out.outputs
            .push(("deleted-templates".into(), ids.join(",")));
        out.summary.push_str(&format!(
            "\nThe template library was full: deleted the oldest unused templates {}.\n",
            ids.join(", ")
        ));
    }
    out.outputs
        .push(("template-id".into(), template_id.to_string()));
    // The shard's check run: failure when an app did not make it, neutral while reviews run
    // (`fleet run` again with the state-dir follows them), success when every app ended well.
    if !g.dry_run {
        let mut rep = super::pipeline::reporter_for(s.github.clone(), g, "v")?;
        let in_review = report
            .results
            .iter()
            .filter(|r| r.status.is_pending())
            .count();
        let (conclusion, title) = match (out.exit, in_review) {
            (Exit::Success, 0) => (
                Some("success"),
                format!("{} apps released", report.results.len()),
            ),
            (Exit::Success, n) => (
                None,
                format!("{n} apps still in review or rolling out: the next fleet run of this shard with the state-dir follows them"),
            ),
            _ => (Some("failure"), out.failure.clone().unwrap_or_default()),
        };
        let text = core::summary(&report, "mp-release fleet", 60_000);
        // The hand-over: this fleet (its plan's fingerprint) and shard; the run that finds the
        // check run in progress updates it instead of adding one.
        let handover = format!("mp-release/fleet:{fp}:{}", s.shard.label());
        rep.fleet_check(conclusion, &title, &text, &handover).await;
        out.outputs.extend(rep.outputs());
        out.annotations.extend(rep.annotations());
    }
    // One chat message for the fleet; a shard's is left to `fleet report`, which sees them all.
    if s.shard.count == 1 && !g.dry_run {
        tell(&report, &s.fleet.platform.component_appid, g, &mut out).await;
    }
    Ok(out)
}

/// The fleet's one chat message (the `fleet` event of notify-on).
async fn tell(report: &core::Report, who: &str, g: &crate::settings::Globals, out: &mut Report) {
    let counts = report
        .counts()
        .into_iter()
        .map(|(s, n)| (s.word().to_owned(), n))
        .collect();
    let failed = report
        .results
        .iter()
        .filter(|r| r.status.is_failure())
        .map(|r| {
            (
                r.appid.clone(),
                r.status.word().to_owned(),
                r.reason.clone(),
            )
        })
        .collect();
    let notice = mp_release_core::notify::Notice {
        appid: who.to_owned(),
        version: Some(report.version.clone()),
        previous: None,
        event: mp_release_core::notify::Event::Fleet {
            total: report.results.len(),
            counts,
            failed,
        },
        links: mp_release_core::github::Links::default(),
        packages: Vec::new(),
    };
    let warnings = crate::adapters::notify::Notifier::tell(&g.notify, &g.net, &notice, None).await;
    out.annotations.extend(
        warnings
            .into_iter()
            .map(|w| (crate::output::Level::Warning, w)),
    );
}

/// The report's outputs, summary and exit code.
fn finish(report: &core::Report, path: Option<&Path>, title: &str) -> Report {
    let counts: BTreeMap<&str, usize> = report
        .counts()
        .into_iter()
        .map(|(s, n)| (s.word(), n))
        .collect();
    let failed: Vec<&str> = report
        .results
        .iter()
        .filter(|r| r.status.is_failure())
        .map(|r| r.appid.as_str())
        .collect();
    let mut outputs = vec![
        ("version".to_owned(), report.version.clone()),
        (
            "fleet-counts".to_owned(),
            serde_json::to_string(&counts).unwrap_or_default(),
        ),
        ("failed-apps".to_owned(), failed.join(",")),
    ];
    if let Some(p) = path {
        outputs.push(("fleet-report".into(), p.display().to_string()));
    }
    let summary = core::summary(report, title, core::SUMMARY_CAP);
    let line = counts
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ");
    tracing::info!("fleet {}: {line}", report.version);
    let (exit, failure) = if failed.is_empty() {
        (Exit::Success, None)
    } else {
        (
            Exit::ReleaseFailed,
            Some(format!(
                "{} of {} apps did not make it: {}",
                failed.len(),
                report.results.len(),
                cut_list(&failed)
            )),
        )
    };
    Report {
        outputs,
        json: json!({ "report": report, "counts": counts }),
        summary,
        exit,
        failure,
        ..Report::default()
    }
}

fn cut_list(ids: &[&str]) -> String {
    if ids.len() <= 10 {
        return ids.join(", ");
    }
    format!("{} and {} more", ids[..10].join(", "), ids.len() - 10)
}

/// `fleet report`: the shards' reports merged (and the fleet's chat message).
pub(super) async fn report(
    paths: &[PathBuf],
    g: &crate::settings::Globals,
) -> anyhow::Result<Report> {
    let mut reports = Vec::new();
    for p in paths {
        let r: core::Report =
            read_json(p)?.ok_or_else(|| anyhow::anyhow!("{} does not exist", p.display()))?;
        reports.push(r);
    }
    let merged = core::merge(&reports)
        .map_err(|e| crate::settings::UsageError::new(format!("invalid reports: {e}")))?;
    let expected: BTreeSet<u32> = merged
        .shards
        .iter()
        .filter_map(|s| Shard::parse(s).ok())
        .map(|s| s.count)
        .collect();
    if let Some(&n) = expected.iter().next() {
        if expected.len() == 1 && merged.shards.len() < n as usize {
            tracing::warn!(
                "only {} of {n} shards' reports were given: the report covers those",
                merged.shards.len()
            );
        }
    }
    let mut out = finish(&merged, None, "mp-release fleet report");
    if !g.dry_run {
        let who = merged
            .template_id
            .map_or_else(|| "fleet".to_owned(), |t| format!("template {t}"));
        tell(&merged, &who, g, &mut out).await;
    }
    Ok(out)
}
