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

/// Takes an advisory lock on `path` for the rest of the process: one process at a time drives a
/// state file (or a fleet's state directory). The lock file lives in the temporary directory,
/// named by a hash of the absolute path, so nothing is left beside the user's files; the lock
/// goes with the process however it ends (`kill -9` included), so a crashed run never blocks the
/// next one. Another process holding it is an error saying which.
pub fn hold_lock(path: &Path) -> Result<(), String> {
    use std::io::{Read, Seek};
    static HELD: std::sync::Mutex<Vec<(std::path::PathBuf, std::fs::File)>> =
        std::sync::Mutex::new(Vec::new());
    let absolute = match (
        path.parent().filter(|p| !p.as_os_str().is_empty()),
        path.file_name(),
    ) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir).map(|d| d.join(name)),
        (None, Some(name)) => std::env::current_dir().map(|d| d.join(name)),
        _ => std::fs::canonicalize(path),
    }
    .unwrap_or_else(|_| {
        std::env::current_dir().map_or_else(|_| path.to_path_buf(), |c| c.join(path))
    });
    let mut held = HELD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if held.iter().any(|(p, _)| *p == absolute) {
        return Ok(());
    }
    // A lock that cannot be had for a reason other than another holder (an unwritable temporary
    // directory) only loses this protection: the run goes on, and says so.
    let unlocked = |why: String| {
        tracing::warn!("{why}; going on without it");
        Ok(())
    };
    let dir = std::env::temp_dir().join("mp-release-locks");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return unlocked(format!(
            "cannot make the lock directory {}: {e}",
            dir.display()
        ));
    }
    let hash = mp_release_core::github::fnv1a(&absolute.to_string_lossy());
    let lock = dir.join(format!("{hash:016x}.lock"));
    let lock = lock.as_path();
    let mut f = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(lock)
    {
        Ok(f) => f,
        Err(e) => {
            return unlocked(format!("cannot open the lock file {}: {e}", lock.display()));
        }
    };
    match f.try_lock() {
        Ok(()) => {
            let _ = f.set_len(0);
            let _ = f.rewind();
            let _ = write!(f, "{}", std::process::id());
            held.push((absolute, f));
            Ok(())
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = f.read_to_string(&mut pid);
            Err(format!(
                "another mp-release process (pid {}) is driving {} right now; this run leaves it alone (run it again after that one ends)",
                if pid.trim().is_empty() { "?" } else { pid.trim() },
                path.display()
            ))
        }
        Err(std::fs::TryLockError::Error(e)) => {
            unlocked(format!("cannot lock {}: {e}", lock.display()))
        }
    }
}
