//! The process output channel, and the only place that writes workflow output: `$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`, workflow
//! commands (`::add-mask::`, `::group::`, annotations) and, outside Actions, the same results as
//! text or JSON on stdout and the summary in `--summary-file`.
//!
//! Ordering rule: `::add-mask::` for every secret is the first thing written, before any other byte
//! reaches stdout. Everything written here also passes through the [`Redactor`].

pub mod names;

use crate::secrets::{Masker, Redactor, SharedOut};
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// Result format on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// `name=value` lines.
    Text,
    /// One JSON object.
    Json,
}

/// What the runner gives a step.
#[derive(Debug, Clone, Default)]
pub struct ActionsEnv {
    /// `$GITHUB_OUTPUT`.
    pub output_file: Option<PathBuf>,
    /// `$GITHUB_STEP_SUMMARY`.
    pub summary_file: Option<PathBuf>,
}

/// GitHub refuses a step summary above 1 MiB ("supports content up to a size of 1024k").
pub const SUMMARY_LIMIT: usize = 1024 * 1024;

/// Annotation levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `::error`
    Error,
    /// `::warning`
    Warning,
    /// `::notice`
    Notice,
}

impl Level {
    fn command(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Notice => "notice",
        }
    }
}

/// Optional annotation location and title.
#[derive(Debug, Clone, Default)]
pub struct AnnotationProps {
    /// `file=`
    pub file: Option<String>,
    /// `line=`
    pub line: Option<u32>,
    /// `title=`
    pub title: Option<String>,
}

/// Escapes a workflow command's data (the part after `::`): `%`, CR and LF. Lives with the
/// masker, which writes the first workflow commands of a process.
pub use crate::secrets::escape_data;

/// Escapes a workflow command's property value: as data, plus `:` and `,`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Formats one annotation command.
pub fn annotation(level: Level, message: &str, props: &AnnotationProps) -> String {
    let mut p = Vec::new();
    if let Some(f) = &props.file {
        p.push(format!("file={}", escape_property(f)));
    }
    if let Some(l) = props.line {
        p.push(format!("line={l}"));
    }
    if let Some(t) = &props.title {
        p.push(format!("title={}", escape_property(t)));
    }
    let props = if p.is_empty() {
        String::new()
    } else {
        format!(" {}", p.join(","))
    };
    format!("::{}{props}::{}\n", level.command(), escape_data(message))
}

/// Formats one `$GITHUB_OUTPUT` entry: `name=value` for one line, a heredoc with a random delimiter
/// that does not occur in the value otherwise. `fresh_delimiter` is injected for tests.
pub fn format_output(
    name: &str,
    value: &str,
    mut fresh_delimiter: impl FnMut() -> String,
) -> String {
    if !value.contains(['\n', '\r']) {
        return format!("{name}={value}\n");
    }
    let delimiter = loop {
        let d = fresh_delimiter();
        if !value.contains(&d) {
            break d;
        }
    };
    format!("{name}<<{delimiter}\n{value}\n{delimiter}\n")
}

fn random_delimiter() -> String {
    format!("ghadelimiter_{}", uuid::Uuid::new_v4())
}

/// Cuts `summary` so that `already + result` fits [`SUMMARY_LIMIT`], at a line boundary when one is
/// near, and says so visibly at the end.
pub fn fit_summary(summary: &str, already: usize) -> String {
    let budget = SUMMARY_LIMIT.saturating_sub(already);
    if summary.len() <= budget {
        return summary.to_owned();
    }
    let note = |omitted: usize| {
        format!("\n\n> **Summary truncated:** {omitted} bytes omitted to stay within GitHub's 1 MiB step-summary limit.\n")
    };
    // The note's length depends on the number it prints; reserve for the widest.
    let reserve = note(summary.len()).len();
    if budget < reserve {
        // Not even the note fits: the file is full already. Writing more would lose the whole
        // summary (GitHub rejects it), so add nothing.
        return String::new();
    }
    let mut cut = budget.saturating_sub(reserve);
    while cut > 0 && !summary.is_char_boundary(cut) {
        cut -= 1;
    }
    if let Some(nl) = summary[..cut].rfind('\n').filter(|&nl| cut - nl < 4096) {
        cut = nl;
    }
    format!("{}{}", &summary[..cut], note(summary.len() - cut))
}

/// Writes results and workflow commands for one process.
pub struct Workflow {
    in_actions: bool,
    output_file: Option<PathBuf>,
    summary_file: Option<PathBuf>,
    format: OutputFormat,
    out: SharedOut,
    redactor: Redactor,
}

impl std::fmt::Debug for Workflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workflow")
            .field("in_actions", &self.in_actions)
            .finish_non_exhaustive()
    }
}

impl Workflow {
    /// Before settings are known: Actions or not, stdout, text. `mask` is called right away.
    pub fn early(in_actions: bool, redactor: Redactor, out: Box<dyn Write + Send>) -> Self {
        Self {
            in_actions,
            output_file: None,
            summary_file: None,
            format: OutputFormat::Text,
            out: Arc::new(Mutex::new(out)),
            redactor,
        }
    }

    /// Adopts the validated settings: the output format, the runner's files when in Actions, and
    /// `--summary-file` (used where the runner gives none).
    pub fn configure(
        &mut self,
        format: OutputFormat,
        actions: Option<&ActionsEnv>,
        summary_file: Option<&Path>,
    ) {
        self.format = format;
        let summary_file = summary_file.map(Path::to_path_buf);
        match actions {
            Some(a) => {
                self.output_file.clone_from(&a.output_file);
                self.summary_file = a.summary_file.clone().or(summary_file);
            }
            None => self.summary_file = summary_file,
        }
    }

    /// A masker sharing this writer's stdout, for secrets learnt later (tokens).
    pub fn masker(&self) -> Masker {
        Masker::new(
            self.in_actions,
            Arc::clone(&self.out),
            self.redactor.clone(),
        )
    }

    /// Masks a secret: `::add-mask::` per line in Actions (escaped, as the runner unescapes it), and
    /// redaction everywhere. Call it before printing anything that could contain the value.
    pub fn mask(&mut self, secret: &str) -> io::Result<()> {
        self.masker().mask(secret)
    }

    fn print(&mut self, text: &str) -> io::Result<()> {
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        out.write_all(self.redactor.redact(text).as_bytes())?;
        out.flush()
    }

    /// Text that is the command's result as it is (help, version), redacted.
    pub fn raw_result(&mut self, text: &str) -> io::Result<()> {
        self.print(text)
    }

    /// `::group::` (Actions only).
    pub fn group(&mut self, title: &str) -> io::Result<()> {
        if self.in_actions {
            self.print(&format!("::group::{}\n", escape_data(title)))?;
        }
        Ok(())
    }

    /// `::endgroup::` (Actions only).
    pub fn end_group(&mut self) -> io::Result<()> {
        if self.in_actions {
            self.print("::endgroup::\n")?;
        }
        Ok(())
    }

    /// An annotation in Actions; outside Actions the log already carries the message.
    pub fn annotate(
        &mut self,
        level: Level,
        message: &str,
        props: &AnnotationProps,
    ) -> io::Result<()> {
        if self.in_actions {
            self.print(&annotation(level, message, props))?;
        }
        Ok(())
    }

    /// Publishes the step outputs: `$GITHUB_OUTPUT` in Actions, and stdout in the chosen format.
    pub fn outputs(
        &mut self,
        outputs: &[(String, String)],
        json: &serde_json::Value,
    ) -> io::Result<()> {
        for (k, _) in outputs {
            debug_assert!(
                names::known(k),
                "the output {k:?} is not in the output table (src/output/names.rs)"
            );
        }
        if let Some(path) = self.output_file.clone() {
            let mut text = String::new();
            for (k, v) in outputs {
                text.push_str(&format_output(
                    k,
                    &self.redactor.redact(v),
                    random_delimiter,
                ));
            }
            append(&path, &text)?;
        }
        let shown = match self.format {
            OutputFormat::Json => {
                let mut s = serde_json::to_string_pretty(json).map_err(io::Error::other)?;
                s.push('\n');
                s
            }
            OutputFormat::Text => outputs
                .iter()
                .map(|(k, v)| match v.contains(['\n', '\r']) {
                    // Keep one line per output so `grep`/`cut` work; JSON escaping shows the breaks.
                    true => format!("{k}={}\n", serde_json::Value::String(v.clone())),
                    false => format!("{k}={v}\n"),
                })
                .collect(),
        };
        self.print(&shown)
    }

    /// Appends the job summary (Markdown) to `$GITHUB_STEP_SUMMARY` or `--summary-file`, within the
    /// 1 MiB limit.
    pub fn summary(&mut self, markdown: &str) -> io::Result<()> {
        let Some(path) = self.summary_file.clone() else {
            return Ok(());
        };
        let already =
            std::fs::metadata(&path).map_or(0, |m| usize::try_from(m.len()).unwrap_or(usize::MAX));
        append(
            &path,
            &fit_summary(&self.redactor.redact(markdown), already),
        )
    }
}

fn append(path: &Path, text: &str) -> io::Result<()> {
    let mut f = OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests;
