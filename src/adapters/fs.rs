//! File access for version sources and targets: reading and atomically rewriting JSON files.

use mp_release_core::json_edit;
use std::io::Write;
use std::path::Path;

/// Reads a JSON file's top-level `version` string.
pub fn read_json_version(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    json_edit::get_top_level_string(&text, "version")
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Checks that `path` can be updated (readable JSON object with a string `version`); returns its text.
pub fn check_json_target(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    json_edit::set_top_level_string(&text, "version", "0.0.0")
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text)
}

/// Rewrites the top-level `version` of a JSON file, keeping every other byte (and the file's
/// permissions), atomically.
pub fn write_json_version(path: &Path, original: &str, version: &str) -> std::io::Result<()> {
    let updated = json_edit::set_top_level_string(original, "version", version)
        .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))?;
    write_atomic(path, updated.as_bytes(), Mode::LikeExisting)
}

/// Who may read a file `write_atomic` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The process's default.
    Plain,
    /// The owner only (0600): a file that holds a credential.
    OwnerOnly,
    /// As the file it replaces, if there is one.
    LikeExisting,
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, synced, then
/// renamed over it, so a crash never leaves half a file (state files, reports, tickets, versions).
pub fn write_atomic(path: &Path, bytes: &[u8], mode: Mode) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.mp-release-{}", std::process::id()));
    let result = (|| {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if mode == Mode::OwnerOnly {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let mut f = o.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        if mode == Mode::LikeExisting {
            if let Ok(meta) = std::fs::metadata(path) {
                std::fs::set_permissions(&tmp, meta.permissions())?;
            }
        }
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
