//! Writing a rendered tree to disk: only files whose bytes change are written, and files a
//! previous render left under `clusters/` that are no longer rendered are removed.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::Error;

/// What [`write_tree`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteSummary {
    /// Files created or changed.
    pub written: usize,
    /// Files already holding the same bytes.
    pub unchanged: usize,
    /// Stale `.yaml` files removed under `clusters/`.
    pub removed: usize,
}

/// Writes `files` (relative path → contents) under `dir`. `progress` is called with the number
/// of files handled so far.
pub fn write_tree(
    dir: &Path,
    files: &BTreeMap<String, String>,
    mut progress: impl FnMut(usize),
) -> Result<WriteSummary, Error> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| Error::Io { path, source }
    };
    let mut summary = WriteSummary::default();
    let root = dir.join("clusters");
    // A folder glueops creates now holds no earlier render: nothing to compare or remove there.
    let had_tree = root.is_dir();
    let mut dirs: BTreeMap<std::path::PathBuf, bool> = BTreeMap::new();
    for (n, (rel, contents)) in files.iter().enumerate() {
        if rel.split('/').any(|c| c.is_empty() || c == "..") || rel.starts_with('/') {
            return Err(Error::UnsafePath { path: rel.clone() });
        }
        let path = dir.join(rel);
        let fresh = match path.parent() {
            Some(parent) => match dirs.get(parent) {
                Some(fresh) => *fresh,
                None => {
                    let existed = parent.is_dir();
                    if !existed {
                        fs::create_dir_all(parent).map_err(io(parent))?;
                    }
                    dirs.insert(parent.to_path_buf(), !existed);
                    !existed
                }
            },
            None => false,
        };
        let unchanged =
            !fresh && fs::read(&path).is_ok_and(|existing| existing == contents.as_bytes());
        if unchanged {
            summary.unchanged += 1;
        } else {
            fs::write(&path, contents).map_err(io(&path))?;
            summary.written += 1;
        }
        if n % 1024 == 0 {
            progress(n);
        }
    }
    progress(files.len());
    if had_tree {
        summary.removed = remove_stale(dir, &root, files)?;
    }
    Ok(summary)
}

fn remove_stale(
    dir: &Path,
    folder: &Path,
    files: &BTreeMap<String, String>,
) -> Result<usize, Error> {
    let io = |source| Error::Io {
        path: folder.display().to_string(),
        source,
    };
    let mut removed = 0;
    for entry in fs::read_dir(folder).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_symlink() {
            continue;
        }
        if path.is_dir() {
            removed += remove_stale(dir, &path, files)?;
            if fs::read_dir(&path).map_err(io)?.next().is_none() {
                fs::remove_dir(&path).map_err(io)?;
            }
        } else if path.extension().is_some_and(|e| e == "yaml") {
            let rel = path
                .strip_prefix(dir)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            if !files.contains_key(&rel) {
                fs::remove_file(&path).map_err(io)?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}
