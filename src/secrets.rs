//! Secret redaction shared by every writer of the process (stdout results, workflow files, logs),
//! and the [`Masker`] that announces a secret learnt at run time (`::add-mask::`) before it can be
//! printed.
//!
//! Masking with `::add-mask::` only protects what the runner prints; the redactor also protects files
//! we write ourselves (outputs, summaries, `--summary-file`) and runs outside GitHub Actions. Tokens
//! fetched at run time are added with [`Redactor::add`] the moment they are obtained.

use std::collections::HashSet;
use std::io::{self, Write};
use std::sync::Mutex;
use std::sync::{Arc, PoisonError, RwLock};

/// Shortest secret we redact: replacing one- or two-character strings would destroy every output.
const MIN_REDACT_LEN: usize = 3;

/// The set of known secrets; cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct Redactor(Arc<RwLock<Known>>);

/// What the redactor knows.
#[derive(Debug, Default)]
struct Known {
    /// Exact texts to replace, longest first: each secret, its lines, and its encoded forms.
    texts: Vec<String>,
    /// Every 16-byte window of every PEM body (base64 without line breaks): any fragment of a key
    /// that long is replaced wherever it shows up, however the text around it was cut.
    pem_windows: HashSet<[u8; PEM_WINDOW]>,
}

/// The shortest PEM fragment that is redacted.
const PEM_WINDOW: usize = 16;

/// The forms a secret can take in what WeChat or a library echoes back: as it is, URL-encoded
/// (both `+` and `%20` for spaces), JSON-escaped, and base64 (standard and URL-safe, unpadded too).
fn forms(secret: &str) -> Vec<String> {
    use base64::Engine;
    let b = base64::engine::general_purpose::STANDARD.encode(secret);
    let mut out = vec![
        secret.to_owned(),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
        url::form_urlencoded::byte_serialize(secret.as_bytes())
            .collect::<String>()
            .replace('+', "%20"),
        serde_json::to_string(secret)
            .map(|j| j[1..j.len() - 1].to_owned())
            .unwrap_or_default(),
        b.trim_end_matches('=').to_owned(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
        b,
    ];
    out.sort();
    out.dedup();
    out
}

/// The base64 body of a PEM block (header and footer lines dropped), if `secret` is one.
fn pem_body(secret: &str) -> Option<String> {
    if !secret.contains("-----BEGIN") {
        return None;
    }
    Some(
        secret
            .lines()
            .map(str::trim)
            .filter(|l| !l.starts_with("-----") && !l.contains(':'))
            .collect(),
    )
}

fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_')
}

impl Redactor {
    /// A redactor that knows these secrets.
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let r = Self::default();
        for s in secrets {
            r.add(&s);
        }
        r
    }

    /// Adds a secret: the whole value, each of its lines (PEM keys are multi-line), their encoded
    /// forms, and for a PEM key every 16-character fragment of its body.
    pub fn add(&self, secret: &str) {
        let mut known = self.0.write().unwrap_or_else(PoisonError::into_inner);
        let parts = std::iter::once(secret.trim_end_matches(['\r', '\n']))
            .chain(secret.lines().map(|l| l.trim_end_matches('\r')));
        for part in parts {
            if part.trim().len() < MIN_REDACT_LEN {
                continue;
            }
            for form in forms(part) {
                if form.trim().len() >= MIN_REDACT_LEN && !known.texts.contains(&form) {
                    known.texts.push(form);
                }
            }
        }
        if let Some(body) = pem_body(secret) {
            for w in body.as_bytes().windows(PEM_WINDOW) {
                if let Ok(w) = <[u8; PEM_WINDOW]>::try_from(w) {
                    known.pem_windows.insert(w);
                }
            }
        }
        // Longest first, so a secret that contains another is replaced whole.
        known.texts.sort_by_key(|s| std::cmp::Reverse(s.len()));
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
        let known = self.0.read().unwrap_or_else(PoisonError::into_inner);
        let mut out = text.to_owned();
        for s in &known.texts {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "***");
            }
        }
        if known.pem_windows.is_empty() || out.len() < PEM_WINDOW {
            return out;
        }
        let bytes = out.as_bytes();
        let mut secret = vec![false; bytes.len()];
        for (at, w) in bytes.windows(PEM_WINDOW).enumerate() {
            if w.iter().all(|b| is_base64(*b)) {
                if let Ok(w) = <[u8; PEM_WINDOW]>::try_from(w) {
                    if known.pem_windows.contains(&w) {
                        secret[at..at + PEM_WINDOW].fill(true);
                    }
                }
            }
        }
        if !secret.contains(&true) {
            return out;
        }
        // Marked bytes are ASCII (base64), so cutting around them keeps UTF-8 whole.
        let mut cut = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if secret[i] {
                cut.extend_from_slice(b"***");
                while i < bytes.len() && secret[i] {
                    i += 1;
                }
            } else {
                cut.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(cut).unwrap_or_default()
    }
}

/// The process's stdout, shared by the workflow writer and the maskers handed to token providers.
pub type SharedOut = Arc<Mutex<Box<dyn Write + Send>>>;

/// Masks secrets learnt at run time (tokens): `::add-mask::` in Actions, redaction everywhere.
#[derive(Clone)]
pub struct Masker {
    in_actions: bool,
    out: SharedOut,
    redactor: Redactor,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Masker")
            .field("in_actions", &self.in_actions)
            .finish_non_exhaustive()
    }
}

impl Masker {
    /// A masker writing `::add-mask::` to `out` when `in_actions`.
    pub fn new(in_actions: bool, out: SharedOut, redactor: Redactor) -> Self {
        Self {
            in_actions,
            out,
            redactor,
        }
    }

    /// `text` with every known secret redacted (for files the process writes itself).
    pub fn redact(&self, text: &str) -> String {
        self.redactor.redact(text)
    }

    /// Masks a secret before anything could print it.
    pub fn mask(&self, secret: &str) -> io::Result<()> {
        self.redactor.add(secret);
        if self.in_actions {
            let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
            for line in Redactor::mask_lines(secret) {
                // Raw write: redacting this line would defeat its purpose.
                writeln!(out, "::add-mask::{}", escape_data(line))?;
            }
            out.flush()?;
        }
        Ok(())
    }
}

/// Escapes a workflow command's message: `%`, CR, LF.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
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
    fn encoded_forms_and_key_fragments_are_redacted() {
        use base64::Engine;
        let secret = "s3cret value/with+symbols&\"q\"";
        let r = Redactor::new([secret.to_owned()]);
        let url: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        let json = serde_json::to_string(secret).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
        for text in [
            url.clone(),
            url.replace('+', "%20"),
            json,
            b64.clone(),
            b64.trim_end_matches('=').to_owned(),
        ] {
            let red = r.redact(&format!("errmsg: {text} rid: 1"));
            assert!(!red.contains(&text[1..text.len() - 1]), "{text} → {red}");
            assert!(red.contains("***"), "{red}");
        }
        // any 16+ character fragment of a PEM body, cut anywhere (clap cut one at `=`)
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\nKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQJAIJLixBy2qpFoS4DSmoEm\n-----END RSA PRIVATE KEY-----\n";
        let r = Redactor::new([pem.to_owned()]);
        let body = "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8QuKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQJAIJLixBy2qpFoS4DSmoEm";
        for (a, b) in [(10, 30), (40, 56), (60, 90), (100, 128)] {
            let fragment = &body[a..b];
            let red = r.redact(&format!("tip: a value '{fragment}' was given"));
            assert!(!red.contains(fragment), "{fragment} → {red}");
            assert!(red.starts_with("tip: a value '***' was given"), "{red}");
        }
        // ordinary text is untouched, however long
        assert_eq!(
            r.redact("a perfectly ordinary sentence, nothing secret"),
            "a perfectly ordinary sentence, nothing secret"
        );
    }

    #[test]
    fn short_values_are_not_redacted() {
        let r = Redactor::new(["ab".to_owned(), String::new()]);
        assert_eq!(r.redact("abc"), "abc");
    }
}
