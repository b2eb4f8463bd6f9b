//! Conventional-commit classification for `--bump auto`.
//!
//! Deliberately lenient: a message that is not a conventional commit is `Other` (which still means a
//! patch release), and a `BREAKING CHANGE:` footer counts even under a malformed header, because
//! over-bumping is a smaller mistake than shipping a breaking change as a patch.

/// What a commit means for the version, weakest first (so `max` picks the strongest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// Anything else (chore, docs, refactor, non-conventional messages).
    Other,
    /// `fix` or `perf`.
    Fix,
    /// `feat`.
    Feature,
    /// `!` after the type/scope, or a `BREAKING CHANGE:` / `BREAKING-CHANGE:` footer.
    Breaking,
}

/// Classifies one commit message (header, body and footers).
///
/// ```
/// use mp_release_core::version::{classify, Change};
/// assert_eq!(classify("feat(login): add QR login"), Change::Feature);
/// assert_eq!(classify("fix!: drop old API"), Change::Breaking);
/// assert_eq!(classify("docs: typo\n\nBREAKING CHANGE: config renamed"), Change::Breaking);
/// assert_eq!(classify("Merge branch 'x'"), Change::Other);
/// ```
pub fn classify(message: &str) -> Change {
    let mut lines = message.lines();
    let header = lines.next().unwrap_or_default().trim();
    let footer_breaking = lines.any(|l| {
        let l = l.trim_start();
        l.starts_with("BREAKING CHANGE:") || l.starts_with("BREAKING-CHANGE:")
    });
    let Some((kind, bang)) = parse_header(header) else {
        return if footer_breaking {
            Change::Breaking
        } else {
            Change::Other
        };
    };
    if bang || footer_breaking {
        return Change::Breaking;
    }
    match kind.to_ascii_lowercase().as_str() {
        "feat" => Change::Feature,
        "fix" | "perf" => Change::Fix,
        _ => Change::Other,
    }
}

/// `type(scope)!: description` → (type, has `!`). `None` if the header is not conventional.
fn parse_header(header: &str) -> Option<(&str, bool)> {
    let type_end = header
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(header.len());
    let (kind, mut rest) = header.split_at(type_end);
    if kind.is_empty() {
        return None;
    }
    if let Some(after) = rest.strip_prefix('(') {
        let close = after.find(')')?;
        if after[..close].contains('(') {
            return None;
        }
        rest = &after[close + 1..];
    }
    let bang = rest.starts_with('!');
    if bang {
        rest = &rest[1..];
    }
    let desc = rest.strip_prefix(':')?;
    (desc.starts_with(' ') && !desc.trim().is_empty()).then_some((kind, bang))
}
