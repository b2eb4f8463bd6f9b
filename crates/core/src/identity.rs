//! The identity marker of what a run puts on WeChat: a short digest of the content (the project's
//! files, or the template id and `ext_json`), written into the upload's or commit's description so
//! that a read-back can tell this run's trial version from another one under the same version
//! string. Pure: the caller supplies the bytes.

use sha2::{Digest, Sha256};

/// The text that precedes the digest in a description.
pub const PREFIX: &str = "mp-release#";

/// Hashes a sequence of parts, each length-prefixed so that part boundaries count.
#[derive(Debug, Clone, Default)]
pub struct Marker(Sha256);

impl Marker {
    /// A new digest.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one part.
    pub fn part(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
        self
    }

    /// `mp-release#` and the first 12 hex digits of the digest (48 bits: two different contents
    /// share a marker with a chance of about 1 in 2.8 × 10^14).
    pub fn finish(self) -> String {
        let d = self.0.finalize();
        let hex: String = d.iter().take(6).map(|b| format!("{b:02x}")).collect();
        format!("{PREFIX}{hex}")
    }
}

/// The marker of a template commit: the template and the `ext_json` it is committed with.
pub fn template(template_id: u64, ext_json: &str) -> String {
    let mut m = Marker::new();
    m.part(b"template")
        .part(template_id.to_string().as_bytes())
        .part(ext_json.as_bytes());
    m.finish()
}

/// The digest of one file: its name and bytes.
pub fn file_digest(name: &str, bytes: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update((name.len() as u64).to_le_bytes());
    h.update(name.as_bytes());
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
    h.finalize().into()
}

/// The marker of a project: its files as (relative path, bytes), in any order (sorted here by
/// name): the digest of the files' digests ([`file_digest`]), so files can be hashed apart (in
/// parallel, and let go) and still give the same marker.
pub fn files<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut list: Vec<_> = files.into_iter().collect();
    list.sort_unstable_by(|a, b| a.0.cmp(b.0));
    of_digests(
        list.into_iter()
            .map(|(name, bytes)| file_digest(name, bytes)),
    )
}

/// [`files`] from the files' digests ([`file_digest`]), given in the order of the files' names.
pub fn of_digests(digests: impl IntoIterator<Item = [u8; 32]>) -> String {
    let mut m = Marker::new();
    m.part(b"files");
    for d in digests {
        m.part(&d);
    }
    m.finish()
}

/// `desc` with the marker appended (unless it is there already), within WeChat's description
/// limit of `max_chars` characters: the description is cut, never the marker.
pub fn tag(desc: &str, marker: &str, max_chars: usize) -> String {
    if desc.contains(marker) {
        return desc.to_owned();
    }
    let suffix = format!(" [{marker}]");
    let room = max_chars.saturating_sub(suffix.chars().count());
    let kept: String = desc.chars().take(room).collect();
    format!("{}{suffix}", kept.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_decides_the_marker() {
        let a = files([("a.js", b"1".as_slice()), ("b.js", b"2".as_slice())]);
        let same = files([("b.js", b"2".as_slice()), ("a.js", b"1".as_slice())]);
        let other = files([("a.js", b"1".as_slice()), ("b.js", b"3".as_slice())]);
        // boundaries count: ("ab", "c") is not ("a", "bc")
        let shifted = files([("a.jsb", b".js".as_slice())]);
        let unshifted = files([("a.js", b"b.js".as_slice())]);
        assert_eq!(a, same);
        assert_ne!(a, other);
        assert_ne!(shifted, unshifted);
        assert!(a.starts_with(PREFIX) && a.len() == PREFIX.len() + 12, "{a}");
        assert_ne!(template(1, "{}"), template(2, "{}"));
        assert_ne!(template(1, "{}"), template(1, "{\"a\":1}"));
    }

    #[test]
    fn the_description_is_cut_never_the_marker() {
        let m = "mp-release#0123456789ab";
        assert_eq!(
            tag("fix login", m, 100),
            "fix login [mp-release#0123456789ab]"
        );
        assert_eq!(
            tag("fix login [mp-release#0123456789ab]", m, 100),
            "fix login [mp-release#0123456789ab]"
        );
        let long = "长".repeat(300);
        let t = tag(&long, m, 100);
        assert_eq!(t.chars().count(), 100);
        assert!(t.ends_with(" [mp-release#0123456789ab]"));
    }
}
