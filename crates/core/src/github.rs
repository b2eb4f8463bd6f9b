//! What mp-release tells GitHub, as pure data: the check run's state and text, the commit status,
//! the sticky pull-request comment, release notes, and the `external_id` that carries a review
//! from the job that submitted it to the `resume` that finishes it.

use crate::pipeline::{
    Look, OnUnhealthy, Outcome, PublishSpec, RolloutProgress, RolloutSpec, RolloutStep, State,
    StepRecord,
};
use crate::report;
use crate::version::{classify, Change};
use std::fmt::Write;

/// GitHub refuses a check run's `output.summary` or `output.text` above 65,535 characters, and
/// (measured by others) also above 65,535 bytes; bytes are the stricter count for UTF-8 text.
pub const CHECK_TEXT_LIMIT: usize = 65_535;
/// A commit status `description` is cut by GitHub at 140 characters.
pub const STATUS_DESCRIPTION_LIMIT: usize = 140;
/// An issue comment body is refused above 65,536 characters.
pub const COMMENT_LIMIT: usize = 65_536;
const PREFIX: &str = "mp-release/2";
/// The first hand-over format (no rollout): still read, never written.
const PREFIX_V1: &str = "mp-release/1";

/// What `resume` needs to finish a review another job submitted, or to advance a rollout another
/// job began: stored in the check run's `external_id`, so GitHub itself keeps the hand-over.
#[derive(Debug, Clone, PartialEq)]
pub struct Handover {
    /// The mini program.
    pub appid: String,
    /// The review.
    pub audit_id: u64,
    /// The version under review.
    pub version: String,
    /// What to do on approval. A rollout's thresholds are not carried (resume's own settings
    /// give them); its steps and `on-unhealthy` are.
    pub publish: PublishSpec,
    /// Where a rollout stands, once it began: the step, whether its raise may have been sent,
    /// when it was confirmed, the plan's `create_timestamp`, the next look, the holds, a revert
    /// that may have been sent, the baseline version and the percentages reached so far.
    pub rollout: Option<RolloutProgress>,
}

/// FNV-1a (64 bit) of a text: a stable digest across processes and releases (std's hasher is
/// seeded per process), for hand-over digests and lock names, not for security.
pub fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn hex(text: &str) -> String {
    text.bytes().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn unhex(text: &str) -> Option<String> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

fn opt(v: Option<u64>) -> String {
    v.map(|n| n.to_string()).unwrap_or_default()
}

fn unopt(s: &str) -> Option<Option<u64>> {
    if s.is_empty() {
        Some(None)
    } else {
        s.parse().ok().map(Some)
    }
}

fn encode_rule(p: &PublishSpec) -> String {
    let mut rule = match p {
        PublishSpec { never: true, .. } => "never".to_owned(),
        PublishSpec {
            rollout: Some(r), ..
        } => {
            let steps: Vec<String> = r
                .steps
                .iter()
                .map(|s| format!("{}@{}", s.percent, s.watch_secs))
                .collect();
            let on = match r.on_unhealthy {
                OnUnhealthy::Revert => "r",
                OnUnhealthy::Hold => "h",
            };
            format!("rollout.{on}.{}", steps.join(","))
        }
        PublishSpec {
            gray_percentage: Some(p),
            ..
        } => format!("gray{p}"),
        PublishSpec { .. } => "full".to_owned(),
    };
    if p.debuger_first {
        rule.push_str("+d");
    }
    if p.experiencer_first {
        rule.push_str("+e");
    }
    rule
}

fn decode_rule(rule: &str) -> Option<PublishSpec> {
    let mut parts = rule.split('+');
    let base = parts.next()?;
    let mut p = PublishSpec::default();
    for flag in parts {
        match flag {
            "d" => p.debuger_first = true,
            "e" => p.experiencer_first = true,
            _ => return None,
        }
    }
    match base {
        "never" => p.never = true,
        "full" => {}
        r if r.starts_with("rollout.") => {
            let mut f = r.splitn(3, '.').skip(1);
            let on = match f.next()? {
                "r" => OnUnhealthy::Revert,
                "h" => OnUnhealthy::Hold,
                _ => return None,
            };
            let steps: Option<Vec<RolloutStep>> = f
                .next()?
                .split(',')
                .map(|st| {
                    let (pct, watch) = st.split_once('@')?;
                    Some(RolloutStep {
                        percent: pct.parse().ok()?,
                        watch_secs: watch.parse().ok()?,
                    })
                })
                .collect();
            p.rollout = Some(RolloutSpec {
                steps: steps?,
                on_unhealthy: on,
                thresholds: crate::health::Thresholds::default(),
                max_holds: DEFAULT_MAX_HOLDS,
                log_marker: None,
            });
        }
        g => p.gray_percentage = Some(g.strip_prefix("gray")?.parse().ok()?),
    }
    Some(p)
}

/// How many times a step may hold before its look judges what it has, unless set.
pub const DEFAULT_MAX_HOLDS: u32 = 2;

fn encode_progress(r: Option<&RolloutProgress>) -> String {
    let Some(r) = r else {
        return "-".to_owned();
    };
    let changes: Vec<String> = r.changes.iter().map(|(t, p)| format!("{t}@{p}")).collect();
    format!(
        "{};{};{};{};{};{};{};{};{};{}",
        r.step,
        u8::from(r.sent),
        opt(r.step_started),
        opt(r.plan_created),
        opt(r.next_look),
        r.holds,
        u8::from(r.revert_sent),
        r.previous.as_deref().map(hex).unwrap_or_default(),
        changes.join(","),
        // The deadline of the process following it now, or (a resume that left it alone) of
        // the job that still does.
        opt(r.deadline.or(r.held_until))
    )
}

fn decode_progress(text: &str) -> Option<Option<RolloutProgress>> {
    if text == "-" {
        return Some(None);
    }
    let f: Vec<&str> = text.split(';').collect();
    let [step, sent, started, created, next, holds, revert, prev, changes, held] = f.as_slice()
    else {
        return None;
    };
    let flag = |v: &str| match v {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    };
    let changes: Option<Vec<(u64, u32)>> = changes
        .split(',')
        .filter(|c| !c.is_empty())
        .map(|c| {
            let (t, p) = c.split_once('@')?;
            Some((t.parse().ok()?, p.parse().ok()?))
        })
        .collect();
    let changes = changes?;
    // The looks of earlier jobs are not carried (an `external_id` is no log), the steps reached
    // are: the timeline of a later job begins with them, numbered as they were.
    let history = changes
        .iter()
        .map(|&(at, pct)| {
            StepRecord::bare(
                pct,
                at,
                if pct == 100 {
                    Look::Released
                } else {
                    Look::Raised
                },
            )
        })
        .collect();
    Some(Some(RolloutProgress {
        step: step.parse().ok()?,
        previous: if prev.is_empty() {
            None
        } else {
            Some(unhex(prev)?)
        },
        // The plan is read again before the next raise.
        preread: false,
        sent: flag(sent)?,
        tries: 0,
        plan_created: unopt(created)?,
        step_started: unopt(started)?,
        next_look: unopt(next)?,
        holds: holds.parse().ok()?,
        revert_sent: flag(revert)?,
        deadline: None,
        changes,
        history,
        unhealthy: None,
        held_until: unopt(held)?,
    }))
}

impl Handover {
    /// `mp-release/2:<appid>:<audit id>:<version>:<rule>:<rollout>:<digest>`; the rule is `full`,
    /// `gray<N>`, `never` or `rollout.<r|h>.<percent>@<watch secs>,…`, with `+d`/`+e` for the
    /// members-first flags; `<rollout>` is `-` or the progress (`;`-separated); the digest
    /// (FNV-1a of the rest) makes a hand-edited or foreign id fail to decode.
    ///
    /// REFERENCE-UNSURE: GitHub documents no length limit for `external_id` (its OpenAPI schema,
    /// which the tests validate every request against, has none); with at most 20 steps a rollout's
    /// hand-over stays under about 700 characters.
    pub fn encode(&self) -> String {
        let body = format!(
            "{PREFIX}:{}:{}:{}:{}:{}",
            self.appid,
            self.audit_id,
            self.version,
            encode_rule(&self.publish),
            encode_progress(self.rollout.as_ref())
        );
        format!("{body}:{:016x}", fnv1a(&body))
    }

    /// Reads an `external_id` (this format or `mp-release/1`); `None` for anything this tool did
    /// not write (or that was altered).
    pub fn decode(id: &str) -> Option<Self> {
        let (body, digest) = id.rsplit_once(':')?;
        if format!("{:016x}", fnv1a(body)) != digest {
            return None;
        }
        let (rest, v2) = match body.strip_prefix(PREFIX) {
            Some(rest) => (rest, true),
            None => (body.strip_prefix(PREFIX_V1)?, false),
        };
        let rest = rest.strip_prefix(':')?;
        let (appid, rest) = rest.split_once(':')?;
        let (audit, rest) = rest.split_once(':')?;
        let (rest, rollout) = if v2 {
            let (rest, progress) = rest.rsplit_once(':')?;
            (rest, decode_progress(progress)?)
        } else {
            (rest, None)
        };
        let (version, rule) = rest.rsplit_once(':')?;
        let publish = decode_rule(rule)?;
        if !v2 && (publish.rollout.is_some() || publish.debuger_first || publish.experiencer_first)
        {
            return None;
        }
        Some(Self {
            appid: appid.to_owned(),
            audit_id: audit.parse().ok()?,
            version: version.to_owned(),
            publish,
            rollout,
        })
    }

    /// The hand-over of a run, once it has a review.
    pub fn of(s: &State) -> Option<Self> {
        Some(Self {
            appid: s.config.appid.clone(),
            audit_id: s.audit_id?,
            version: s.version.clone()?,
            publish: s.config.rules.publish.clone(),
            // Once the plan exists (or a raise or revert may have been sent) the hand-over
            // carries the progress: a resume must never start the rollout over.
            rollout: s
                .rollout
                .clone()
                .filter(|r| r.sent || r.revert_sent || r.plan_created.is_some()),
        })
    }
}

/// A check run's conclusion, as far as this tool uses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conclusion {
    /// Approved (and published when asked).
    Success,
    /// Rejected, or the release failed.
    Failure,
    /// Withdrawn.
    Neutral,
}

/// Where a run stands, for the check run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckState {
    /// The review (or the run) is not over.
    InProgress,
    /// Over.
    Completed(Conclusion),
}

impl CheckState {
    /// From a pipeline state.
    pub fn of(s: &State) -> Self {
        match &s.outcome {
            None | Some(Outcome::Detached) => Self::InProgress,
            Some(Outcome::Published { .. } | Outcome::Approved) => {
                Self::Completed(Conclusion::Success)
            }
            // A dry run writes nothing to GitHub; neutral if it ever were reported.
            Some(Outcome::Withdrawn | Outcome::DryRun { .. }) => {
                Self::Completed(Conclusion::Neutral)
            }
            Some(Outcome::Rejected | Outcome::Failed { .. } | Outcome::Unhealthy { .. }) => {
                Self::Completed(Conclusion::Failure)
            }
        }
    }

    /// The check run's `status`.
    pub fn status(self) -> &'static str {
        match self {
            Self::InProgress => "in_progress",
            Self::Completed(_) => "completed",
        }
    }

    /// The check run's `conclusion`, when completed.
    pub fn conclusion(self) -> Option<&'static str> {
        match self {
            Self::InProgress => None,
            Self::Completed(Conclusion::Success) => Some("success"),
            Self::Completed(Conclusion::Failure) => Some("failure"),
            Self::Completed(Conclusion::Neutral) => Some("neutral"),
        }
    }

    /// The commit-status `state`. Statuses have no neutral; branch protection lets `neutral`
    /// check runs pass, so a withdrawn review is a `success` status whose description says
    /// "withdrawn" (it gates nothing either way).
    pub fn commit_status(self) -> &'static str {
        match self {
            Self::InProgress => "pending",
            Self::Completed(Conclusion::Success | Conclusion::Neutral) => "success",
            Self::Completed(Conclusion::Failure) => "failure",
        }
    }
}

/// Links worth putting in a report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    /// The check run.
    pub check_run: Option<String>,
    /// The GitHub release.
    pub release: Option<String>,
    /// The workflow run.
    pub run: Option<String>,
}

impl Links {
    /// `**Links** [check run](…) · [release](…)`, or nothing.
    pub fn line(&self) -> String {
        let parts: Vec<String> = [
            ("check run", &self.check_run),
            ("release", &self.release),
            ("workflow run", &self.run),
        ]
        .iter()
        .filter_map(|(label, url)| url.as_ref().map(|u| format!("[{label}]({u})")))
        .collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!("**Links** {}\n", parts.join(" · "))
        }
    }
}

/// Cuts `text` to `max` bytes on a character boundary, saying so at the end.
pub fn fit(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    const CUT: &str = "\n\n… (cut to fit GitHub's limit; the job summary has it all)\n";
    let mut end = max.saturating_sub(CUT.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{CUT}", &text[..end])
}

/// The check run's `output`: title, summary (Markdown) and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutput {
    /// One line.
    pub title: String,
    /// The body, within [`CHECK_TEXT_LIMIT`] bytes.
    pub summary: String,
}

/// The job summary of a run in its final form: the report, then the links (check run, release,
/// workflow run) when there are any.
pub fn job_summary(s: &State, title: &str, links: &Links) -> String {
    let mut body = report::summary(s, title).trim_end().to_owned();
    body.push('\n');
    let line = links.line();
    if !line.is_empty() {
        body.push('\n');
        body.push_str(&line);
    }
    body
}

/// The check run output of a run.
pub fn check_output(s: &State, links: &Links) -> CheckOutput {
    // The check run does not link to itself.
    let links = Links {
        check_run: None,
        ..links.clone()
    };
    let body = job_summary(s, "WeChat review", &links);
    CheckOutput {
        title: report::headline(s),
        summary: fit(&body, CHECK_TEXT_LIMIT),
    }
}

/// The commit status `description` (one short line, cut on a character boundary).
pub fn status_description(s: &State) -> String {
    clip_chars(&report::headline(s), STATUS_DESCRIPTION_LIMIT)
}

/// `text` cut to at most `max` characters (GitHub counts characters in its short fields: status
/// and deployment descriptions, check-run titles), ending with `…` when cut.
pub fn clip_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}

/// The deployment status that stands for the state: `in_progress` while in review, `success` once
/// published, `failure` when rejected, withdrawn or stopped, `inactive` when approved but not
/// published (`publish: never`: nothing went live); `None` for a dry run.
pub fn deployment_state(s: &State) -> Option<&'static str> {
    match &s.outcome {
        None | Some(Outcome::Detached) => Some("in_progress"),
        Some(Outcome::Published { .. }) => Some("success"),
        Some(Outcome::Approved) => Some("inactive"),
        Some(
            Outcome::Rejected
            | Outcome::Withdrawn
            | Outcome::Failed { .. }
            | Outcome::Unhealthy { .. },
        ) => Some("failure"),
        Some(Outcome::DryRun { .. }) => None,
    }
}

/// The hidden line that makes a pull-request comment ours (one sticky comment per app).
pub fn comment_marker(appid: &str) -> String {
    format!("<!-- mp-release:{appid} -->")
}

/// The preview part of a pull-request comment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preview {
    /// A link to the QR code image (an uploaded artifact), when there is one.
    pub image_url: Option<String>,
    /// The QR code drawn with Unicode blocks, when there is no image link.
    pub blocks: Option<String>,
    /// Package sizes: (name, bytes, limit).
    pub packages: Vec<(String, u64, u64)>,
    /// The code is the trial version's (体验版, for testers of a release PR), not a preview's.
    pub trial: bool,
}

/// The sticky pull-request comment: the run's result (when there is a run) and the preview.
pub fn pr_comment(appid: &str, run: Option<&State>, preview: Option<&Preview>) -> String {
    let mut out = comment_marker(appid);
    out.push('\n');
    match run {
        Some(s) => {
            let _ = writeln!(out, "{}\n", report::summary(s, "mp-release").trim_end());
        }
        None => {
            let _ = writeln!(out, "### 📱 mp-release preview · `{appid}`\n");
        }
    }
    if let Some(p) = preview {
        let what = if p.trial {
            "Trial version (体验版) for testers"
        } else {
            "Preview"
        };
        match (&p.image_url, &p.blocks) {
            (Some(url), _) => {
                let _ = writeln!(
                    out,
                    "**{what}** scan with WeChat: [QR code]({url}) (workflow artifact)\n"
                );
            }
            (None, Some(blocks)) => {
                let _ = writeln!(
                    out,
                    "**{what}** scan with WeChat:\n\n```text\n{}\n```\n",
                    blocks.trim_end()
                );
            }
            (None, None) => {
                let _ = writeln!(out, "**{what}**: no QR code could be read back\n");
            }
        }
        let already = run.is_some_and(|s| !s.packages.is_empty());
        if !p.packages.is_empty() && !already {
            let _ = writeln!(out, "{}", report::package_table(&p.packages));
        }
    }
    fit(&out, COMMENT_LIMIT)
}

/// Release notes from the commit messages since the last tag, grouped the conventional way.
pub fn release_notes(version: &str, messages: &[String]) -> String {
    let mut breaking = Vec::new();
    let mut features = Vec::new();
    let mut fixes = Vec::new();
    let mut other = Vec::new();
    for m in messages {
        let subject = m.lines().next().unwrap_or_default().trim();
        if subject.is_empty() {
            continue;
        }
        match classify(m) {
            Change::Breaking => breaking.push(subject),
            Change::Feature => features.push(subject),
            Change::Fix => fixes.push(subject),
            Change::Other => other.push(subject),
        }
    }
    let mut out = format!("## {version}\n");
    for (title, list) in [
        ("Breaking changes", &breaking),
        ("Features", &features),
        ("Fixes", &fixes),
        ("Other changes", &other),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n### {title}\n");
        for subject in list {
            let _ = writeln!(out, "- {subject}");
        }
    }
    if messages.is_empty() {
        out.push_str("\nNo commits since the previous release.\n");
    }
    out
}

/// GitHub refuses a release body over 125,000 characters (422), which would cost the release and
/// its tag.
pub const RELEASE_BODY_LIMIT: usize = 125_000;

/// Release notes within GitHub's limit: cut at a line, with a pointer to the full list (the compare
/// view between the tags, when known).
pub fn fit_release_notes(notes: &str, compare_url: Option<&str>) -> String {
    if notes.chars().count() <= RELEASE_BODY_LIMIT {
        return notes.to_owned();
    }
    let tail = match compare_url {
        Some(u) => format!("\n… and more: the full list is in [the compare view]({u}).\n"),
        None => {
            "\n… and more: the full list is in the commit history since the previous release.\n"
                .to_owned()
        }
    };
    let budget = RELEASE_BODY_LIMIT - tail.chars().count();
    let mut out = String::new();
    let mut used = 0;
    for line in notes.split_inclusive('\n') {
        let n = line.chars().count();
        if used + n > budget {
            break;
        }
        out.push_str(line);
        used += n;
    }
    out.push_str(&tail);
    out
}

#[cfg(test)]
mod tests;
