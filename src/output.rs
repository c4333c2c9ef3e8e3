//! Writing a rendered tree to disk: only files whose bytes change are written, and files a
//! previous render left under `clusters/` that are no longer rendered are removed.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use glueops_files::Files;
use rayon::prelude::*;

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

/// Writes `files` under `dir` (their paths were checked when they entered the [`Files`], so
/// none leaves `dir`). `progress` is called with the number of files handled so far. The
/// files are written on every core.
pub fn write_tree(
    dir: &Path,
    files: &Files,
    mut progress: impl FnMut(usize),
) -> Result<WriteSummary, Error> {
    let root = dir.join("clusters");
    // A folder glueops creates now holds no earlier render: nothing to compare or remove there.
    let had_tree = root.is_dir();
    let mut fresh: BTreeMap<&str, bool> = BTreeMap::new();
    for rel in files.paths() {
        let parent = rel.rsplit_once('/').map_or("", |(p, _)| p);
        if !fresh.contains_key(parent) {
            no_link_on_the_way(dir, parent)?;
            let path = dir.join(parent);
            let existed = path.is_dir();
            if !existed {
                fs::create_dir_all(&path).map_err(io(&path))?;
            }
            fresh.insert(parent, !existed);
        }
    }
    let entries: Vec<(&str, &[u8])> = files.iter().collect();
    let mut summary = WriteSummary::default();
    for (round, chunk) in entries.chunks(ROUND).enumerate() {
        let done = chunk
            .par_iter()
            .with_min_len(MIN_PER_JOB)
            .map(|(rel, contents)| write_one(dir, &fresh, rel, contents))
            .try_reduce(WriteSummary::default, |a, b| {
                Ok(WriteSummary {
                    written: a.written + b.written,
                    unchanged: a.unchanged + b.unchanged,
                    removed: 0,
                })
            })?;
        summary.written += done.written;
        summary.unchanged += done.unchanged;
        progress(round * ROUND + chunk.len());
    }
    if had_tree {
        summary.removed = remove_stale(dir, &root, files)?;
    }
    Ok(summary)
}

/// Files written between two progress reports.
const ROUND: usize = 8192;

/// Fewest files one parallel job writes.
const MIN_PER_JOB: usize = 32;

/// Writes one file unless it already holds `contents` (a folder created by this call holds
/// nothing to compare).
fn write_one(
    dir: &Path,
    fresh: &BTreeMap<&str, bool>,
    rel: &str,
    contents: &[u8],
) -> Result<WriteSummary, Error> {
    let parent = rel.rsplit_once('/').map_or("", |(p, _)| p);
    let path = dir.join(rel);
    let made_now = fresh.get(parent).copied().unwrap_or(false);
    if !made_now && fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) {
        return Err(not_regular(&path));
    }
    let unchanged = !made_now && fs::read(&path).is_ok_and(|existing| existing == contents);
    if unchanged {
        return Ok(WriteSummary {
            unchanged: 1,
            ..WriteSummary::default()
        });
    }
    fs::write(&path, contents).map_err(io(&path))?;
    Ok(WriteSummary {
        written: 1,
        ..WriteSummary::default()
    })
}

/// Refuses a folder on the way from `dir` to `dir/parent` that is a symlink: a link planted
/// in the output tree must not make glueops write outside it.
fn no_link_on_the_way(dir: &Path, parent: &str) -> Result<(), Error> {
    let mut path = dir.to_path_buf();
    for part in parent.split('/').filter(|p| !p.is_empty()) {
        path.push(part);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => return Err(not_regular(&path)),
            Ok(_) => {}
            // Not there yet: created as a real folder below.
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}

fn not_regular(path: &Path) -> Error {
    Error::Invalid {
        message: format!(
            "`{}` in the output folder is a symlink or not a regular file: glueops never writes through one",
            path.display()
        ),
        help:
            "remove it (glueops writes real files and folders there), or render into another folder"
                .into(),
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.display().to_string();
    move |source| Error::Io { path, source }
}

fn remove_stale(dir: &Path, folder: &Path, files: &Files) -> Result<usize, Error> {
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
            if !files.contains(&rel) {
                fs::remove_file(&path).map_err(io)?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}
