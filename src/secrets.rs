//! Secret redaction shared by every writer of the process (stdout results, workflow files, logs).
//!
//! Masking with `::add-mask::` only protects what the runner prints; the redactor also protects files
//! we write ourselves (outputs, summaries, `--summary-file`) and runs outside GitHub Actions. Tokens
//! fetched at run time are added with [`Redactor::add`] the moment they are obtained.

use std::io::{self, Write};
use std::sync::{Arc, PoisonError, RwLock};

/// Shortest secret we redact: replacing one- or two-character strings would destroy every output.
const MIN_REDACT_LEN: usize = 3;

/// The set of known secrets; cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct Redactor(Arc<RwLock<Vec<String>>>);

impl Redactor {
    /// A redactor that knows these secrets.
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let r = Self::default();
        for s in secrets {
            r.add(&s);
        }
        r
    }

    /// Adds a secret: the whole value and each of its lines (PEM keys are multi-line).
    pub fn add(&self, secret: &str) {
        let mut all = self.0.write().unwrap_or_else(PoisonError::into_inner);
        let parts = std::iter::once(secret.trim_end_matches(['\r', '\n']))
            .chain(secret.lines().map(|l| l.trim_end_matches('\r')));
        for part in parts {
            if part.trim().len() >= MIN_REDACT_LEN && !all.iter().any(|s| s == part) {
                all.push(part.to_owned());
            }
        }
        // Longest first, so a secret that contains another is replaced whole.
        all.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    /// The lines to hand to `::add-mask::`, in the order they were learnt.
    pub fn mask_lines(secret: &str) -> Vec<&str> {
        secret
            .lines()
            .map(|l| l.trim_end_matches('\r'))
            .filter(|l| !l.trim().is_empty())
            .collect()
    }

    /// `text` with every known secret replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let all = self.0.read().unwrap_or_else(PoisonError::into_inner);
        let mut out = text.to_owned();
        for s in all.iter() {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "***");
            }
        }
        out
    }
}

/// A `Write` that redacts each chunk before passing it on (tracing writes one chunk per event).
#[derive(Debug)]
pub struct RedactingWriter<W: Write> {
    inner: W,
    redactor: Redactor,
}

impl<W: Write> RedactingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W, redactor: Redactor) -> Self {
        Self { inner, redactor }
    }
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.inner
            .write_all(self.redactor.redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_whole_and_lines_longest_first() {
        let r =
            Redactor::new(["-----BEGIN KEY-----\nAAAA\r\nBBBB\n-----END KEY-----\n".to_owned()]);
        r.add("tok");
        r.add("tok-extended");
        let text = "x tok-extended y tok z AAAA\nBBBB";
        assert_eq!(r.redact(text), "x *** y *** z ***\n***");
        assert!(!r.redact("-----BEGIN KEY-----").contains("BEGIN"));
    }

    #[test]
    fn short_values_are_not_redacted() {
        let r = Redactor::new(["ab".to_owned(), String::new()]);
        assert_eq!(r.redact("abc"), "abc");
    }
}
