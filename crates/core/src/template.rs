//! The template flow of a third-party platform, as pure decisions: which draft in the draft box is
//! this run's upload, which template `addtotemplate` made from it, and which templates may be
//! deleted when the library is full (85065).
//!
//! The rules (wechat-ops-api.md part E, correction C9): a draft is found by its `user_version`,
//! its upload time (not before the run started) and, when the upload carried one, the run's
//! identity marker in its description — never by its position in the list. `addtotemplate`
//! returns no id: the new template is the one with that `draft_id`, the highest `template_id` if
//! there are several (the list order breaks once the library is full). A template is deleted only
//! when no live, trial or in-review version of any authorized app may be using it.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;

/// The ordinary template library holds 200 templates (C9; standard templates are retired).
pub const LIBRARY_LIMIT: usize = 200;

/// How far before the run's start a draft's `create_time` may be and still count as this run's
/// (WeChat's clock and ours differ by a little).
pub const CLOCK_SKEW_SECS: u64 = 120;

/// A draft in the draft box (`gettemplatedraftlist`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    /// `draft_id`.
    pub draft_id: u64,
    /// `user_version`.
    pub user_version: String,
    /// `user_desc`.
    #[serde(default)]
    pub user_desc: String,
    /// `create_time` (Unix seconds).
    #[serde(default)]
    pub create_time: u64,
    /// `source_miniprogram_appid`.
    #[serde(default, rename = "source_miniprogram_appid")]
    pub source_appid: String,
}

/// A template in the library (`gettemplatelist`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// `template_id`.
    pub template_id: u64,
    /// `draft_id`.
    #[serde(default)]
    pub draft_id: u64,
    /// `user_version`.
    #[serde(default)]
    pub user_version: String,
    /// `user_desc`.
    #[serde(default)]
    pub user_desc: String,
    /// `create_time`.
    #[serde(default)]
    pub create_time: u64,
    /// `source_miniprogram_appid`.
    #[serde(default, rename = "source_miniprogram_appid")]
    pub source_appid: String,
    /// `template_type`: 0 ordinary, 1 standard.
    #[serde(default)]
    pub template_type: u8,
}

/// Reads a list out of an answer (`draft_list`, `template_list`); a missing list is empty.
fn list<T: serde::de::DeserializeOwned>(v: &Value, key: &str) -> Result<Vec<T>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                serde_json::from_value(numbers_as_numbers(item))
                    .map_err(|e| format!("{key}[{i}] is not what WeChat documents: {e}"))
            })
            .collect(),
        Some(other) => Err(format!(
            "{key} is not a list (got {})",
            match other {
                Value::Bool(_) => "true/false",
                Value::Number(_) => "a number",
                Value::String(_) => "text",
                _ => "a map",
            }
        )),
    }
}

/// Ids and times sent as strings ("draft_id": "1") read as numbers.
fn numbers_as_numbers(item: &Value) -> Value {
    let mut item = item.clone();
    if let Some(m) = item.as_object_mut() {
        for key in ["draft_id", "template_id", "create_time", "template_type"] {
            if let Some(n) = m
                .get(key)
                .and_then(Value::as_str)
                .and_then(|s| s.trim().parse::<u64>().ok())
            {
                m.insert(key.into(), Value::from(n));
            }
        }
    }
    item
}

/// The drafts of a `gettemplatedraftlist` answer.
pub fn drafts(v: &Value) -> Result<Vec<Draft>, String> {
    list(v, "draft_list")
}

/// The templates of a `gettemplatelist` answer, ordinary ones only (C13: the type filter may be
/// ignored by WeChat, so it is applied here), sorted by `template_id`.
pub fn templates(v: &Value) -> Result<Vec<Template>, String> {
    let mut all: Vec<Template> = list(v, "template_list")?;
    all.retain(|t| t.template_type == 0);
    all.sort_by_key(|t| t.template_id);
    Ok(all)
}

/// What identifies this run's draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftQuery<'a> {
    /// The version uploaded.
    pub user_version: &'a str,
    /// The run's start (Unix seconds, WeChat's clock where known).
    pub since: u64,
    /// The development mini program that uploaded, when known.
    pub source_appid: Option<&'a str>,
    /// The identity marker the upload's description carries, when it carried one.
    pub marker: Option<&'a str>,
}

/// Why no draft could be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DraftError {
    /// Nothing matches yet (the draft box may lag the upload: look again).
    #[error("no draft of version {version} uploaded since {since} is in the draft box ({seen} drafts seen{hint})")]
    NotFound {
        /// The version looked for.
        version: String,
        /// Since when.
        since: u64,
        /// Drafts in the box.
        seen: usize,
        /// What the closest candidates were.
        hint: String,
    },
    /// Several drafts fit and nothing tells them apart: taking one could release the wrong code.
    #[error("{count} drafts of version {version} were uploaded since {since} ({ids}) and nothing proves which is this run's; upload with a version of its own")]
    Ambiguous {
        /// The version.
        version: String,
        /// Since when.
        since: u64,
        /// How many.
        count: usize,
        /// Their ids.
        ids: String,
    },
}

/// This run's draft: the version matches, it was uploaded after the run started (allowing
/// `CLOCK_SKEW_SECS`), by the development app when known, and its description carries the run's
/// marker when the upload had one. Of several, the newest is taken only when the marker proves
/// it; otherwise they are ambiguous.
pub fn find_draft<'d>(drafts: &'d [Draft], q: &DraftQuery<'_>) -> Result<&'d Draft, DraftError> {
    let since = q.since.saturating_sub(CLOCK_SKEW_SECS);
    let fits: Vec<&Draft> = drafts
        .iter()
        .filter(|d| d.user_version == q.user_version)
        .filter(|d| d.create_time >= since)
        .filter(|d| q.source_appid.is_none_or(|a| d.source_appid == a))
        .filter(|d| q.marker.is_none_or(|m| d.user_desc.contains(m)))
        .collect();
    match fits.as_slice() {
        [one] => Ok(one),
        [] => {
            let same_version: Vec<String> = drafts
                .iter()
                .filter(|d| d.user_version == q.user_version)
                .map(|d| format!("draft {} uploaded at {}", d.draft_id, d.create_time))
                .collect();
            Err(DraftError::NotFound {
                version: q.user_version.to_owned(),
                since,
                seen: drafts.len(),
                hint: if same_version.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; of this version, but older or not this run's: {}",
                        same_version.join(", ")
                    )
                },
            })
        }
        many => {
            // With the marker in each, the same upload was seen twice (a retried upload): the
            // newest is the one WeChat kept last.
            if q.marker.is_some() {
                if let Some(newest) = many.iter().max_by_key(|d| (d.create_time, d.draft_id)) {
                    return Ok(newest);
                }
            }
            Err(DraftError::Ambiguous {
                version: q.user_version.to_owned(),
                since,
                count: many.len(),
                ids: many
                    .iter()
                    .map(|d| d.draft_id.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
        }
    }
}

/// The template made from `draft_id`: the highest `template_id` with that draft (C9).
pub fn template_of_draft(templates: &[Template], draft_id: u64) -> Option<&Template> {
    templates
        .iter()
        .filter(|t| t.draft_id == draft_id)
        .max_by_key(|t| t.template_id)
}

/// What `prune-templates` allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Prune {
    /// Never delete (the default): a full library stops the flow.
    #[default]
    None,
    /// Delete at most this many of the oldest unused templates.
    Oldest(usize),
}

impl Prune {
    /// Parses `none` or `oldest:N`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s == "none" {
            return Ok(Self::None);
        }
        match s.strip_prefix("oldest:").map(|n| n.trim().parse::<usize>()) {
            Some(Ok(n)) if (1..=LIBRARY_LIMIT).contains(&n) => Ok(Self::Oldest(n)),
            _ => Err(format!(
                "expected none or oldest:N (N from 1 to {LIBRARY_LIMIT}), got {s:?}"
            )),
        }
    }
}

/// What may be using a template: versions seen live, on trial or in review on the authorized
/// apps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InUse {
    /// `user_version`s of live, trial and in-review versions.
    pub versions: BTreeSet<String>,
}

impl InUse {
    /// Whether `t` may be in use. WeChat does not say which template a version came from, so a
    /// template whose version any app shows is kept: a wrong "in use" costs a slot, a wrong
    /// "unused" could delete what an app in review depends on.
    pub fn holds(&self, t: &Template) -> bool {
        self.versions.contains(&t.user_version)
    }
}

/// One template the pruning keeps or deletes, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PruneChoice {
    /// The templates to delete, oldest first.
    pub delete: Vec<Template>,
    /// Templates kept because something may use them (oldest first, for the report).
    pub kept_in_use: Vec<Template>,
}

/// The oldest templates (by `create_time`, then `template_id`) nothing may use, at most `limit`.
pub fn prune_choice(templates: &[Template], in_use: &InUse, limit: usize) -> PruneChoice {
    let mut by_age: Vec<&Template> = templates.iter().collect();
    by_age.sort_by_key(|t| (t.create_time, t.template_id));
    let mut delete = Vec::new();
    let mut kept_in_use = Vec::new();
    for t in by_age {
        if in_use.holds(t) {
            kept_in_use.push(t.clone());
        } else if delete.len() < limit {
            delete.push(t.clone());
        }
    }
    PruneChoice {
        delete,
        kept_in_use,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn draft(id: u64, v: &str, at: u64, desc: &str) -> Draft {
        Draft {
            draft_id: id,
            user_version: v.into(),
            user_desc: desc.into(),
            create_time: at,
            source_appid: "wxdev".into(),
        }
    }

    fn tpl(id: u64, draft: u64, v: &str, at: u64) -> Template {
        Template {
            template_id: id,
            draft_id: draft,
            user_version: v.into(),
            user_desc: String::new(),
            create_time: at,
            source_appid: "wxdev".into(),
            template_type: 0,
        }
    }

    #[test]
    fn the_draft_is_found_by_version_time_and_marker_not_position() {
        let box_ = vec![
            draft(9, "1.5.0", 1_000, "mp-release 1.5.0 [mpr:old]"),
            draft(3, "1.5.0", 5_000, "mp-release 1.5.0 [mpr:ours]"),
            draft(4, "1.4.0", 5_001, "other"),
            draft(5, "1.5.0", 5_002, "someone else's"),
        ];
        let q = DraftQuery {
            user_version: "1.5.0",
            since: 4_990,
            source_appid: Some("wxdev"),
            marker: Some("[mpr:ours]"),
        };
        assert_eq!(find_draft(&box_, &q).unwrap().draft_id, 3);
        // without the marker, two uploads of 1.5.0 after the start cannot be told apart
        let blind = DraftQuery {
            marker: None,
            ..q.clone()
        };
        assert!(matches!(
            find_draft(&box_, &blind),
            Err(DraftError::Ambiguous { count: 2, .. })
        ));
        // an older draft of the version is never taken
        let later = DraftQuery {
            since: 9_000,
            ..q.clone()
        };
        let e = find_draft(&box_, &later).unwrap_err();
        assert!(e.to_string().contains("draft 3 uploaded at 5000"), "{e}");
        // a little clock skew is allowed
        let skewed = DraftQuery {
            since: 5_100,
            ..q.clone()
        };
        assert_eq!(find_draft(&box_, &skewed).unwrap().draft_id, 3);
        // another development app's draft is not ours
        let other_dev = DraftQuery {
            source_appid: Some("wxother"),
            ..q
        };
        assert!(find_draft(&box_, &other_dev).is_err());
    }

    #[test]
    fn the_new_template_is_the_highest_id_of_the_draft() {
        // after a delete-and-add on a full library the new one takes an old one's position
        let v = json!({ "template_list": [
            { "template_id": 50, "draft_id": 7, "user_version": "1.0.0", "create_time": 10 },
            { "template_id": "72", "draft_id": "8", "user_version": "1.1.0", "create_time": 30 },
            { "template_id": 61, "draft_id": 8, "user_version": "1.1.0", "create_time": 20 },
            { "template_id": 90, "draft_id": 8, "template_type": 1 },
        ]});
        let list = templates(&v).unwrap();
        assert_eq!(
            list.iter().map(|t| t.template_id).collect::<Vec<_>>(),
            [50, 61, 72],
            "sorted by id, standard templates left out"
        );
        assert_eq!(template_of_draft(&list, 8).unwrap().template_id, 72);
        assert!(template_of_draft(&list, 9).is_none());
        assert!(templates(&json!({ "template_list": 3 })).is_err());
        assert!(templates(&json!({})).unwrap().is_empty());
    }

    #[test]
    fn pruning_deletes_the_oldest_nothing_uses() {
        let list = vec![
            tpl(1, 1, "1.0.0", 100),
            tpl(2, 2, "1.1.0", 200),
            tpl(3, 3, "1.2.0", 300),
            tpl(4, 4, "1.3.0", 400),
            tpl(5, 5, "1.4.0", 500),
        ];
        let in_use = InUse {
            versions: ["1.0.0".to_owned(), "1.2.0".to_owned()].into(),
        };
        let c = prune_choice(&list, &in_use, 2);
        let ids = |v: &[Template]| v.iter().map(|t| t.template_id).collect::<Vec<_>>();
        assert_eq!(ids(&c.delete), [2, 4], "the two oldest nothing uses");
        assert_eq!(ids(&c.kept_in_use), [1, 3]);
        assert!(prune_choice(&list, &in_use, 0).delete.is_empty());
    }

    #[test]
    fn prune_rule_parses() {
        assert_eq!(Prune::parse("none"), Ok(Prune::None));
        assert_eq!(Prune::parse("oldest:3"), Ok(Prune::Oldest(3)));
        for bad in ["oldest:0", "oldest:201", "oldest", "all", "oldest:x"] {
            assert!(Prune::parse(bad).is_err(), "{bad}");
        }
    }
}
