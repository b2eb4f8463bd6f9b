//! The platform's own calls (component token): its template library, its draft box and its
//! authorizer list; and the template flow built on them (upload → draft → template, pruning a
//! full library). Decisions are the core's (`mp_release_core::template`); this performs them.

use super::calls::{Calls, GaveUp};
use super::clock::Clock;
use crate::adapters::wechat::tokens::{Platform, SharedPlatform, Tokens};
use crate::adapters::wechat::{CallError, WeChat};
use crate::output::Workflow;
use crate::secrets::Masker;
use crate::settings::PlatformSettings;
use mp_release_core::fleet::Authorizer;
use mp_release_core::limit::Limiter;
use mp_release_core::template::{self, Draft, DraftQuery, InUse, Prune, Template};
use mp_release_core::wechat::wire;
use secrecy::SecretString;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The platform's connection: its component token shared by everything this process does for
/// it, one rate limiter for all of it, one client (and connection pool) for the platform and all
/// its apps.
#[derive(Debug)]
pub struct PlatformCalls {
    /// The platform's own calls.
    pub calls: Calls,
    /// The component token, shared with every app's token source.
    pub shared: SharedPlatform,
    /// Its settings.
    pub settings: PlatformSettings,
    /// Masks every token and refresh token as it is obtained.
    masker: Masker,
}

impl PlatformCalls {
    /// Connects (reads the virtual clock in tests); nothing is fetched yet.
    pub async fn connect(
        s: &PlatformSettings,
        masker: Masker,
        limiter: Arc<Mutex<Limiter>>,
    ) -> anyhow::Result<Self> {
        let shared: SharedPlatform = Arc::new(tokio::sync::Mutex::new(Platform::new(
            s.component_appid.clone(),
            s.auth.clone(),
        )));
        let wx = WeChat::new(&s.base, s.timeout, &s.net)?;
        let tokens = Tokens::component(shared.clone(), s.component_appid.clone(), masker.clone());
        let mut calls = Calls::new(wx.clone(), tokens, Clock::of(&wx, s.virtual_clock).await?);
        calls.limiter = limiter;
        Ok(Self {
            calls,
            shared,
            settings: s.clone(),
            masker,
        })
    }

    /// Another call path for the platform's own calls (one of several at once), sharing its
    /// client, token and limiter.
    pub async fn worker(&self) -> anyhow::Result<Calls> {
        let tokens = Tokens::component(
            self.shared.clone(),
            self.settings.component_appid.clone(),
            self.masker.clone(),
        );
        self.calls_with(tokens).await
    }

    async fn calls_with(&self, tokens: Tokens) -> anyhow::Result<Calls> {
        let wx = self.calls.wx.clone();
        let clock = Clock::of(&wx, self.settings.virtual_clock).await?;
        let mut calls = Calls::new(wx, tokens, clock);
        calls.limiter = self.calls.limiter.clone();
        Ok(calls)
    }

    /// The call path of one app of the platform: its own authorizer token (from its refresh
    /// token), the shared component token, client and limiter.
    pub async fn app_calls(
        &self,
        appid: &str,
        refresh: SecretString,
    ) -> anyhow::Result<(Calls, crate::settings::WeChatSettings)> {
        self.app_calls_with(appid, self.settings.app(appid, refresh))
            .await
    }

    /// The same with any credentials (a token service's).
    pub async fn app_calls_with(
        &self,
        appid: &str,
        creds: crate::adapters::wechat::tokens::Credentials,
    ) -> anyhow::Result<(Calls, crate::settings::WeChatSettings)> {
        let ws = self.settings.for_app(appid, creds);
        let tokens =
            Tokens::new(ws.credentials.clone(), self.masker.clone()).sharing(self.shared.clone());
        Ok((self.calls_with(tokens).await?, ws))
    }

    /// The ordinary templates, by id.
    pub async fn templates(&mut self) -> anyhow::Result<Vec<Template>> {
        // C13: the type filter may be ignored; the core filters again.
        let path = "/wxa/gettemplatelist";
        let v = self
            .calls
            .once("gettemplatelist", false, async |wx, t| {
                wx.get(path, Some(t), &[("template_type", "0")]).await
            })
            .await?;
        template::templates(&v).map_err(|e| anyhow::anyhow!("gettemplatelist: {e}"))
    }

    /// The draft box.
    pub async fn drafts(&mut self) -> anyhow::Result<Vec<Draft>> {
        let v = self
            .calls
            .once("gettemplatedraftlist", false, async |wx, t| {
                wx.get("/wxa/gettemplatedraftlist", Some(t), &[]).await
            })
            .await?;
        template::drafts(&v).map_err(|e| anyhow::anyhow!("gettemplatedraftlist: {e}"))
    }

    /// Every authorizer, paged by 500; each listed refresh token is masked as it is read.
    pub async fn authorizers(
        &mut self,
    ) -> anyhow::Result<(Vec<Authorizer>, BTreeMap<String, SecretString>)> {
        const PAGE: u64 = 500;
        // 200 pages are 100,000 apps: an answer that claims more is not believed.
        const MAX_PAGES: u64 = 200;
        let component = self.settings.component_appid.clone();
        let mut out = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut tokens = BTreeMap::new();
        let mut offset = 0u64;
        for _ in 0..MAX_PAGES {
            let body = json!({ "component_appid": component, "offset": offset, "count": PAGE });
            let v = self
                .calls
                .once("api_get_authorizer_list", false, async |wx, t| {
                    wx.post("/cgi-bin/component/api_get_authorizer_list", Some(t), &body)
                        .await
                })
                .await?;
            let total = v
                .get("total_count")
                .and_then(Value::as_u64)
                .ok_or_else(|| {
                    anyhow::anyhow!("api_get_authorizer_list: the answer has no total_count")
                })?;
            let items = v
                .get("list")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for item in &items {
                let Some(appid) = item.get("authorizer_appid").and_then(Value::as_str) else {
                    anyhow::bail!("api_get_authorizer_list: an item has no authorizer_appid");
                };
                let refresh = item
                    .get("refresh_token")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty());
                if let Some(r) = refresh {
                    self.masker.mask(r)?;
                    tokens.insert(appid.to_owned(), SecretString::from(r.to_owned()));
                }
                if !seen.insert(appid.to_owned()) {
                    continue;
                }
                out.push(Authorizer {
                    appid: appid.to_owned(),
                    refresh_listed: refresh.is_some(),
                    set18: None,
                });
            }
            offset += PAGE;
            if items.is_empty() || offset >= total {
                return Ok((out, tokens));
            }
        }
        anyhow::bail!("api_get_authorizer_list: more than {MAX_PAGES} pages; stopped")
    }

    async fn add_to_template(&mut self, draft_id: u64) -> Result<(), GaveUp> {
        let body = json!({ "draft_id": draft_id, "template_type": 0 });
        self.calls
            .call(
                "addtotemplate",
                true,
                async |wx, t| {
                    wx.post("/wxa/addtotemplate", Some(t), &body)
                        .await
                        .map(|_| ())
                },
                |_| None,
            )
            .await
    }

    async fn delete_template(&mut self, id: u64) -> anyhow::Result<()> {
        let body = json!({ "template_id": id });
        match self
            .calls
            .call(
                "deletetemplate",
                true,
                async |wx, t| {
                    wx.post("/wxa/deletetemplate", Some(t), &body)
                        .await
                        .map(|_| ())
                },
                // Already gone (a retried delete): what was wanted.
                |e: &CallError| (e.code() == Some(85064)).then_some(()),
            )
            .await
        {
            Ok(()) => Ok(()),
            Err(GaveUp::ReadBack(_)) => {
                if self.templates().await?.iter().any(|t| t.template_id == id) {
                    anyhow::bail!(
                        "deletetemplate {id}: the answer was lost and the template is still there"
                    )
                }
                Ok(())
            }
            Err(e) => anyhow::bail!("deletetemplate {id}: {}", e.explain()),
        }
    }
}

/// What may be using a template: the live, trial and in-review versions of every authorizer.
/// An app whose versions cannot be read makes the answer incomplete, and pruning then stops.
pub async fn in_use(p: &mut PlatformCalls) -> anyhow::Result<InUse> {
    let (authorizers, tokens) = p.authorizers().await?;
    let mut used = InUse::default();
    let mut unread = Vec::new();
    for a in &authorizers {
        let Some(refresh) = tokens.get(&a.appid) else {
            unread.push(format!(
                "{} (no refresh token in the authorizer list)",
                a.appid
            ));
            continue;
        };
        let (mut calls, _) = p.app_calls(&a.appid, refresh.clone()).await?;
        let info = calls
            .once("getversioninfo", false, async |wx, t| {
                wx.post("/wxa/getversioninfo", Some(t), &json!({})).await
            })
            .await
            .and_then(|v| {
                super::runner::answer::<wire::VersionInfo>("/wxa/getversioninfo", &v)
                    .map_err(|e| anyhow::anyhow!(e.explain()))
            });
        let latest = super::pipeline::latest(&mut calls).await;
        match (info, latest) {
            (Ok(info), Ok(latest)) => {
                used.versions.extend(info.trial());
                used.versions.extend(info.live());
                if let Some(l) = latest.filter(|l| matches!(l.status, 2 | 4)) {
                    used.versions.insert(l.user_version);
                }
            }
            (Err(e), _) | (_, Err(e)) => unread.push(format!("{} ({e:#})", a.appid)),
        }
    }
    if !unread.is_empty() {
        anyhow::bail!(crate::exit::ReleaseFailed(format!(
            "nothing was deleted: the versions of {} authorized apps could not be read, so a template they use could be taken for unused: {}",
            unread.len(),
            unread.iter().take(10).cloned().collect::<Vec<_>>().join("; ")
        )));
    }
    Ok(used)
}

/// The templates pruning deletes (and deletes them unless `dry_run`), oldest first.
pub async fn prune(
    p: &mut PlatformCalls,
    limit: usize,
    dry_run: bool,
) -> anyhow::Result<template::PruneChoice> {
    let list = p.templates().await?;
    let used = in_use(p).await?;
    let choice = template::prune_choice(&list, &used, limit);
    for t in &choice.delete {
        if dry_run {
            tracing::info!(
                "dry run: would delete template {} ({}, created {})",
                t.template_id,
                t.user_version,
                t.create_time
            );
        } else {
            p.delete_template(t.template_id).await?;
            tracing::info!(
                "deleted template {} ({}, created {}): no authorized app uses it",
                t.template_id,
                t.user_version,
                t.create_time
            );
        }
    }
    Ok(choice)
}

/// A template of this very code: the version, and the upload's marker in its description
/// (`addtotemplate` copies the draft's). A run that stopped after making it finds it here instead
/// of uploading and adding a second one.
pub async fn existing(
    p: &mut PlatformCalls,
    version: &str,
    marker: &str,
) -> anyhow::Result<Option<Template>> {
    Ok(p.templates()
        .await?
        .into_iter()
        .filter(|t| t.user_version == version && t.user_desc.contains(marker))
        .max_by_key(|t| t.template_id))
}

/// The whole template flow from the development mini program's project: a template of this code
/// already made (a run that stopped after it) is taken as it is; otherwise the project is uploaded
/// with the marker in its description, and its draft made a template.
pub async fn upload_and_add(
    p: &mut PlatformCalls,
    up: &crate::settings::UploadSettings,
    version: &str,
    desc: &str,
    prune_rule: Prune,
    wf: &Workflow,
) -> anyhow::Result<Added> {
    if let Some(t) = existing(p, version, &up.marker).await? {
        tracing::info!(
            "template {} is this code already (version {version}, {}): not uploaded again",
            t.template_id,
            up.marker
        );
        let draft = Draft {
            draft_id: t.draft_id,
            user_version: t.user_version.clone(),
            user_desc: t.user_desc.clone(),
            create_time: t.create_time,
            source_appid: t.source_appid.clone(),
        };
        return Ok(Added {
            template: t,
            draft,
            deleted: Vec::new(),
        });
    }
    let since = p.calls.clock.now();
    let tagged = mp_release_core::identity::tag(desc, &up.marker, super::pipeline::MAX_DESC_CHARS);
    super::upload::send(up, &up.request(version, tagged, false), wf).await?;
    let q = DraftQuery {
        user_version: version,
        since,
        source_appid: Some(&up.appid),
        marker: Some(&up.marker),
    };
    add_draft(p, &q, prune_rule).await
}

/// The template made from this run's draft, and the templates deleted to make room.
#[derive(Debug, Clone)]
pub struct Added {
    /// The template.
    pub template: Template,
    /// The draft it came from.
    pub draft: Draft,
    /// Deleted from a full library.
    pub deleted: Vec<Template>,
}

/// The template flow after the development mini program's upload: find this run's draft (by
/// version, time and marker; the draft box may lag the upload, so it is looked for a few times),
/// add it to the library unless a template of that draft exists already (a run that stopped
/// after addtotemplate), prune a full library when allowed, and read the new template's id.
pub async fn add_draft(
    p: &mut PlatformCalls,
    q: &DraftQuery<'_>,
    prune_rule: Prune,
) -> anyhow::Result<Added> {
    let mut tries = 0;
    let draft = loop {
        let drafts = p.drafts().await?;
        match template::find_draft(&drafts, q) {
            Ok(d) => break d.clone(),
            Err(template::DraftError::NotFound { .. }) if tries < 5 => {
                tries += 1;
                p.calls
                    .clock
                    .sleep(std::time::Duration::from_secs(2))
                    .await?;
            }
            Err(e) => anyhow::bail!(crate::exit::ReleaseFailed(format!("template flow: {e}"))),
        }
    };
    tracing::info!(
        "draft {} ({}, uploaded at {}) is this run's upload",
        draft.draft_id,
        draft.user_version,
        draft.create_time
    );
    if let Some(t) = template::template_of_draft(&p.templates().await?, draft.draft_id) {
        tracing::info!(
            "template {} was already made from draft {}",
            t.template_id,
            draft.draft_id
        );
        return Ok(Added {
            template: t.clone(),
            draft,
            deleted: Vec::new(),
        });
    }
    let mut deleted = Vec::new();
    let mut pruned = false;
    loop {
        match p.add_to_template(draft.draft_id).await {
            Ok(()) => break,
            // A lost answer: the read below tells whether it was made.
            Err(GaveUp::ReadBack(e)) => {
                tracing::warn!("addtotemplate: {}; reading the library back", e.explain());
                break;
            }
            Err(GaveUp::Failed(e)) if e.code() == Some(85065) && !pruned => {
                let Prune::Oldest(n) = prune_rule else {
                    anyhow::bail!(crate::exit::ReleaseFailed(format!(
                        "the template library is full ({} templates, 85065): delete old templates (mp-release template prune --prune-templates oldest:N, --dry-run to see which), or give prune-templates oldest:N to let this run delete the oldest unused ones",
                        template::LIBRARY_LIMIT
                    )));
                };
                let choice = prune(p, n, false).await?;
                if choice.delete.is_empty() {
                    anyhow::bail!(crate::exit::ReleaseFailed(format!(
                        "the template library is full (85065) and every template may be in use by a live, trial or in-review version ({} kept): nothing was deleted",
                        choice.kept_in_use.len()
                    )));
                }
                deleted = choice.delete;
                pruned = true;
            }
            Err(e) => anyhow::bail!(crate::exit::ReleaseFailed(format!(
                "addtotemplate: {}",
                e.explain()
            ))),
        }
    }
    let list = p.templates().await?;
    let Some(t) = template::template_of_draft(&list, draft.draft_id) else {
        anyhow::bail!(
            "addtotemplate answered, but no template of draft {} is in the library: nothing is committed",
            draft.draft_id
        );
    };
    tracing::info!(
        "template {} made from draft {} ({})",
        t.template_id,
        draft.draft_id,
        draft.user_version
    );
    Ok(Added {
        template: t.clone(),
        draft,
        deleted,
    })
}
