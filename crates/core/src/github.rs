//! What mp-release tells GitHub, as pure data: the check run's state and text, the commit status,
//! the sticky pull-request comment, release notes, and the `external_id` that carries a review
//! from the job that submitted it to the `resume` that finishes it.

use crate::pipeline::{Outcome, PublishSpec, State};
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
const PREFIX: &str = "mp-release/1";

/// What `resume` needs to finish a review another job submitted: stored in the check run's
/// `external_id`, so GitHub itself keeps the hand-over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handover {
    /// The mini program.
    pub appid: String,
    /// The review.
    pub audit_id: u64,
    /// The version under review.
    pub version: String,
    /// What to do on approval.
    pub publish: PublishSpec,
}

fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Handover {
    /// `mp-release/1:<appid>:<audit id>:<version>:<rule>:<digest>`; the rule is `full`, `gray<N>` or
    /// `never`; the digest (FNV-1a of the rest) makes a hand-edited or foreign id fail to decode.
    pub fn encode(&self) -> String {
        let rule = match self.publish {
            PublishSpec { never: true, .. } => "never".to_owned(),
            PublishSpec {
                gray_percentage: Some(p),
                ..
            } => format!("gray{p}"),
            PublishSpec { .. } => "full".to_owned(),
        };
        let body = format!(
            "{PREFIX}:{}:{}:{}:{rule}",
            self.appid, self.audit_id, self.version
        );
        format!("{body}:{:016x}", fnv1a(&body))
    }

    /// Reads an `external_id`; `None` for anything this tool did not write (or that was altered).
    pub fn decode(id: &str) -> Option<Self> {
        let (body, digest) = id.rsplit_once(':')?;
        if format!("{:016x}", fnv1a(body)) != digest {
            return None;
        }
        let rest = body.strip_prefix(PREFIX)?.strip_prefix(':')?;
        let (appid, rest) = rest.split_once(':')?;
        let (audit, rest) = rest.split_once(':')?;
        let (version, rule) = rest.rsplit_once(':')?;
        let publish = match rule {
            "never" => PublishSpec {
                never: true,
                gray_percentage: None,
            },
            "full" => PublishSpec::default(),
            g => PublishSpec {
                never: false,
                gray_percentage: Some(g.strip_prefix("gray")?.parse().ok()?),
            },
        };
        Some(Self {
            appid: appid.to_owned(),
            audit_id: audit.parse().ok()?,
            version: version.to_owned(),
            publish,
        })
    }

    /// The hand-over of a run, once it has a review.
    pub fn of(s: &State) -> Option<Self> {
        Some(Self {
            appid: s.config.appid.clone(),
            audit_id: s.audit_id?,
            version: s.version.clone()?,
            publish: s.config.rules.publish,
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
            Some(Outcome::Rejected | Outcome::Failed { .. }) => {
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
        Some(Outcome::Rejected | Outcome::Withdrawn | Outcome::Failed { .. }) => Some("failure"),
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
