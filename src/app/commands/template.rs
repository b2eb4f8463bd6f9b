//! `mp-release template list | add | prune`: the platform's template library.

use super::{simple, Ctx};
use crate::app::platform::{self, PlatformCalls};
use crate::app::Report;
use crate::cli::{TemplateAddArgs, TemplateArgs, TemplateCommand, TemplatePruneArgs};
use crate::output::Workflow;
use crate::settings;
use mp_release_core::limit::Limiter;
use mp_release_core::template::{DraftQuery, Prune, Template, LIBRARY_LIMIT};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

pub(super) fn run(
    c: &TemplateCommand,
    cx: &Ctx<'_, '_>,
    wf: &mut Workflow,
) -> anyhow::Result<Report> {
    match c {
        TemplateCommand::List(a) => list(a, cx, wf),
        TemplateCommand::Add(a) => add(a, cx, wf),
        TemplateCommand::Prune(a) => prune(a, cx, wf),
    }
}

async fn connect(s: &settings::PlatformSettings, wf: &Workflow) -> anyhow::Result<PlatformCalls> {
    PlatformCalls::connect(s, wf.masker(), Arc::new(Mutex::new(Limiter::unlimited()))).await
}

fn table(list: &[Template]) -> String {
    let mut out = String::from(
        "| template | version | description | draft | created |\n|---:|---|---|---:|---|\n",
    );
    for t in list {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            t.template_id,
            t.user_version,
            t.user_desc
                .replace('|', "\\|")
                .chars()
                .take(80)
                .collect::<String>(),
            t.draft_id,
            time(t.create_time)
        );
    }
    out
}

fn time(secs: u64) -> String {
    chrono::DateTime::from_timestamp(i64::try_from(secs).unwrap_or(0), 0).map_or_else(
        || secs.to_string(),
        |d| d.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

fn list(a: &TemplateArgs, cx: &Ctx<'_, '_>, wf: &mut Workflow) -> anyhow::Result<Report> {
    let s = settings::platform(&a.wechat, cx.layers, cx.g)?;
    cx.rt.block_on(async {
        let mut p = connect(&s, wf).await?;
        let mut list = p.templates().await?;
        list.sort_by_key(|t| (t.create_time, t.template_id));
        tracing::info!("{} of {LIBRARY_LIMIT} templates in the library", list.len());
        let summary = format!(
            "### mp-release template list\n\n{} of {LIBRARY_LIMIT} templates (oldest first)\n\n{}",
            list.len(),
            table(&list)
        );
        let mut r = simple(
            vec![
                ("template-count", list.len().to_string()),
                ("templates", serde_json::to_string(&list)?),
            ],
            summary,
        );
        r.json = serde_json::json!({ "templates": list, "template-count": list.len(), "limit": LIBRARY_LIMIT });
        Ok(r)
    })
}

fn prune(a: &TemplatePruneArgs, cx: &Ctx<'_, '_>, wf: &mut Workflow) -> anyhow::Result<Report> {
    let s = settings::platform(&a.wechat, cx.layers, cx.g)?;
    let (rule, _) = settings::prune(cx.layers, a.prune_templates.as_deref())?;
    let Prune::Oldest(n) = rule else {
        return Err(settings::UsageError::new(
            "prune-templates is not set (or none): give oldest:N, the most templates to delete (the oldest no live, trial or in-review version uses); add --dry-run to see them first",
        )
        .into());
    };
    let dry = cx.g.dry_run;
    cx.rt.block_on(async {
        let mut p = connect(&s, wf).await?;
        let choice = platform::prune(&mut p, n, dry).await?;
        let word = if dry { "would delete" } else { "deleted" };
        let summary = format!(
            "### mp-release template prune{}\n\n{word} {} templates; {} kept because a live, trial or in-review version may use them\n\n{}",
            if dry { " (dry run)" } else { "" },
            choice.delete.len(),
            choice.kept_in_use.len(),
            table(&choice.delete)
        );
        let ids: Vec<String> = choice.delete.iter().map(|t| t.template_id.to_string()).collect();
        let mut r = simple(
            vec![("deleted-templates", ids.join(",")), ("dry-run", dry.to_string())],
            summary,
        );
        r.json = serde_json::json!({ "delete": choice.delete, "kept-in-use": choice.kept_in_use, "dry-run": dry });
        Ok(r)
    })
}

fn add(a: &TemplateAddArgs, cx: &Ctx<'_, '_>, wf: &mut Workflow) -> anyhow::Result<Report> {
    let s = settings::platform(&a.wechat, cx.layers, cx.g)?;
    let (rule, _) = settings::prune(cx.layers, a.prune_templates.as_deref())?;
    let draft_version = cx.layers.pick("draft-version", a.draft_version.as_deref());
    let up = settings::upload(&a.upload, &a.wechat, cx.layers, cx.g, false)?;
    let vs = settings::version(&a.version, cx.layers, &cx.g.cwd)?;
    let desc = cx.layers.pick("desc", a.desc.as_deref()).map(|(d, _)| d);
    if up.is_some() == draft_version.is_some() {
        return Err(settings::UsageError::new(
            "give project-path (with upload-appid: the development mini program, and private-key) to upload and make a template of the upload, or draft-version to make one of a draft already in the draft box — one of the two",
        )
        .into());
    }
    if cx.g.dry_run {
        return Ok(super::dry(
            "upload the development mini program and add its draft to the template library",
        ));
    }
    cx.rt.block_on(async {
        let mut p = connect(&s, wf).await?;
        let added = match (&up, &draft_version) {
            (Some(up), _) => {
                let version = crate::app::version::compute(&vs, cx.g)?.plan.next.to_string();
                let desc = desc.unwrap_or_else(|| format!("mp-release {version}"));
                platform::upload_and_add(&mut p, up, &version, &desc, rule, wf).await?
            }
            (None, Some((v, _))) => {
                // No upload of ours to prove: the draft of that version must be the only one in
                // the box (any age), or add_draft refuses as ambiguous.
                let q = DraftQuery { user_version: v, since: 0, source_appid: None, marker: None };
                platform::add_draft(&mut p, &q, rule).await?
            }
            (None, None) => unreachable!("checked above"),
        };
        let t = &added.template;
        let mut summary = format!(
            "### mp-release template add\n\ntemplate **{}** made from draft {} (version {})\n",
            t.template_id, added.draft.draft_id, t.user_version
        );
        if !added.deleted.is_empty() {
            let _ = write!(summary, "\nThe library was full: deleted the oldest unused templates\n\n{}", table(&added.deleted));
        }
        let deleted: Vec<String> = added.deleted.iter().map(|t| t.template_id.to_string()).collect();
        let mut r = simple(
            vec![
                ("template-id", t.template_id.to_string()),
                ("draft-id", added.draft.draft_id.to_string()),
                ("version", t.user_version.clone()),
                ("deleted-templates", deleted.join(",")),
            ],
            summary,
        );
        r.json = serde_json::json!({
            "template-id": t.template_id, "draft-id": added.draft.draft_id, "version": t.user_version,
            "deleted-templates": added.deleted,
        });
        Ok(r)
    })
}
