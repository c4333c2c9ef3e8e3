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
/// of files handled so far. Every path is checked before anything is written; the files are
/// written on every core.
pub fn write_tree(
    dir: &Path,
    files: &BTreeMap<String, String>,
    mut progress: impl FnMut(usize),
) -> Result<WriteSummary, Error> {
    if let Some(rel) = files
        .keys()
        .find(|rel| rel.starts_with('/') || rel.split('/').any(|c| c.is_empty() || c == ".."))
    {
        return Err(Error::UnsafePath { path: rel.clone() });
    }
    let root = dir.join("clusters");
    // A folder glueops creates now holds no earlier render: nothing to compare or remove there.
    let had_tree = root.is_dir();
    let mut fresh: BTreeMap<&str, bool> = BTreeMap::new();
    for rel in files.keys() {
        let parent = rel.rsplit_once('/').map_or("", |(p, _)| p);
        if !fresh.contains_key(parent) {
            let path = dir.join(parent);
            let existed = path.is_dir();
            if !existed {
                fs::create_dir_all(&path).map_err(io(&path))?;
            }
            fresh.insert(parent, !existed);
        }
    }
    let entries: Vec<(&String, &String)> = files.iter().collect();
    let mut summary = WriteSummary::default();
    for (round, chunk) in entries.chunks(ROUND).enumerate() {
        let parts = glueops_model::parallel::map_chunks(chunk, |batch| {
            let mut done = WriteSummary::default();
            for (rel, contents) in batch {
                let parent = rel.rsplit_once('/').map_or("", |(p, _)| p);
                let path = dir.join(rel);
                let unchanged = !fresh.get(parent).copied().unwrap_or(false)
                    && fs::read(&path).is_ok_and(|existing| existing == contents.as_bytes());
                if unchanged {
                    done.unchanged += 1;
                } else {
                    fs::write(&path, contents).map_err(io(&path))?;
                    done.written += 1;
                }
            }
            Ok::<_, Error>(done)
        });
        for part in parts {
            let part = part?;
            summary.written += part.written;
            summary.unchanged += part.unchanged;
        }
        progress(round * ROUND + chunk.len());
    }
    if had_tree {
        summary.removed = remove_stale(dir, &root, files)?;
    }
    Ok(summary)
}

/// Files written between two progress reports.
const ROUND: usize = 8192;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.display().to_string();
    move |source| Error::Io { path, source }
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
