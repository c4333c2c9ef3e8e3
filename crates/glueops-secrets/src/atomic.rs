//! Crash-safe file writes: a temp file in the same folder, fsync, then rename (or link), then
//! fsync the folder. A writer killed at any point leaves either the old file or the new one,
//! plus at most a stray temp file (named `.<file>.tmp-*`, never read as data).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// True for the temp files this module makes.
pub(crate) fn is_temp(name: &str) -> bool {
    name.starts_with('.') && name.contains(".tmp-")
}

fn temp_beside(target: &Path) -> Result<(PathBuf, File)> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = dir.join(format!(".{name}.tmp-{}-{n}", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(&temp, e)),
        }
    }
}

fn write_temp(target: &Path, bytes: &[u8]) -> Result<PathBuf> {
    let (temp, mut file) = temp_beside(target)?;
    let result = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(&temp, e));
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map(|()| temp)
}

/// Flushes a folder's entries (the rename) to disk. The empty path is the current folder.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

/// Replaces `target` with `bytes` atomically.
pub(crate) fn replace(target: &Path, bytes: &[u8]) -> Result<()> {
    let temp = write_temp(target, bytes)?;
    if let Err(e) = std::fs::rename(&temp, target) {
        let _ = std::fs::remove_file(&temp);
        return Err(Error::io(target, e));
    }
    sync_dir(target.parent().unwrap_or(Path::new(".")))
}

/// Creates `target` with `bytes` atomically, only if it does not exist yet.
/// Returns `Ok(false)` (and writes nothing) when it already exists.
pub(crate) fn create_new(target: &Path, bytes: &[u8]) -> Result<bool> {
    let temp = write_temp(target, bytes)?;
    let linked = std::fs::hard_link(&temp, target);
    let _ = std::fs::remove_file(&temp);
    match linked {
        Ok(()) => {
            sync_dir(target.parent().unwrap_or(Path::new(".")))?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::io(target, e)),
    }
}

/// Creates `dir` and its parents, syncing each new one into its parent.
pub(crate) fn create_dirs(dir: &Path) -> Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dirs(parent)?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => sync_dir(dir.parent().unwrap_or(Path::new("."))),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::io(dir, e)),
    }
}
