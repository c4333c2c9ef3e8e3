//! The files of a config repo, in memory: read from disk by [`SourceTree::read`] (the only
//! I/O of this crate) or built by hand with [`SourceTree::insert`] (tests, fuzzing, callers that
//! hold files from git objects).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::diagnostics::{Code, Diagnostic};
use crate::node::Location;

/// Largest file glueops reads. Real values files are a few KiB.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Most YAML files one repo may hold.
pub const MAX_FILES: usize = 200_000;

/// `ELOOP` on Linux and macOS-compatible errno tables: too many levels of symbolic links.
const ELOOP: i32 = if cfg!(target_os = "macos") { 62 } else { 40 };

/// The top-level entries of a config repo that glueops reads; everything else (README, CI
/// files, `.git`) is ignored.
const READ_DIRS: [&str; 3] = ["apps", "common", "env-overlays"];

/// A config repo's YAML files by relative path (`/`-separated), plus problems met while
/// reading them.
#[derive(Debug, Clone, Default)]
pub struct SourceTree {
    pub(crate) files: BTreeMap<String, Vec<u8>>,
    pub(crate) problems: Vec<Diagnostic>,
}

impl SourceTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file at a relative path such as `apps/api/envs/production/values.yaml`.
    pub fn insert(&mut self, path: impl Into<String>, contents: impl Into<Vec<u8>>) {
        self.files.insert(path.into(), contents.into());
    }

    /// The files, by path.
    pub fn files(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files.iter().map(|(p, c)| (p.as_str(), c.as_slice()))
    }

    /// Reads the YAML files of the config repo at `root`: `glueops.yaml` and everything under
    /// `apps/`, `common/` and `env-overlays/`. Never fails: unreadable files, symlinks that
    /// leave the repo or loop, and oversized files are recorded as problems that
    /// [`crate::Repo::from_sources`] reports with the rest.
    pub fn read(root: &Path) -> Self {
        let mut tree = SourceTree::new();
        let canonical_root = match fs::canonicalize(root) {
            Ok(r) => r,
            Err(e) => {
                tree.problem(
                    Code::Io,
                    ".",
                    format!("cannot open the config repo `{}`: {e}", root.display()),
                    "pass the path of a deployment-configurations repo (the folder holding glueops.yaml)",
                );
                return tree;
            }
        };
        let mut walk = Walk {
            root: canonical_root.clone(),
            visited: BTreeSet::from([canonical_root.clone()]),
            tree,
            full: false,
        };
        let platform = canonical_root.join("glueops.yaml");
        if platform.exists() || platform.is_symlink() {
            walk.visit_file(&platform, "glueops.yaml".to_string());
        }
        for dir in READ_DIRS {
            let path = canonical_root.join(dir);
            if path.exists() || path.is_symlink() {
                walk.visit(&path, dir.to_string());
            }
        }
        walk.tree
    }

    fn problem(&mut self, code: Code, path: &str, message: String, help: &str) {
        self.problems
            .push(Diagnostic::new(code, Location::file(path), "", message).help(help));
    }
}

struct Walk {
    root: PathBuf,
    visited: BTreeSet<PathBuf>,
    tree: SourceTree,
    full: bool,
}

impl Walk {
    fn visit(&mut self, path: &Path, rel: String) {
        let Some(target) = self.follow(path, &rel) else {
            return;
        };
        match fs::metadata(&target) {
            Ok(m) if m.is_dir() => self.visit_dir(&target, rel),
            Ok(_) => self.visit_file(&target, rel),
            Err(e) => self.io(&rel, &e),
        }
    }

    /// Resolves symlinks, refusing ones that leave the repo or loop.
    fn follow(&mut self, path: &Path, rel: &str) -> Option<PathBuf> {
        if !path.is_symlink() {
            return Some(path.to_path_buf());
        }
        match fs::canonicalize(path) {
            Ok(target) if target.starts_with(&self.root) => Some(target),
            Ok(_) => {
                self.tree.problem(
                    Code::PathEscape,
                    rel,
                    format!("`{rel}` is a symlink to a file outside the config repo"),
                    "copy the file into the repo instead of linking to it",
                );
                None
            }
            Err(e) if e.raw_os_error() == Some(ELOOP) => {
                self.tree.problem(
                    Code::SymlinkLoop,
                    rel,
                    format!("`{rel}` is a symlink loop"),
                    "remove the symlink or point it at a real file",
                );
                None
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {
                self.tree.problem(
                    Code::Io,
                    rel,
                    format!("`{rel}` is a symlink to a file that does not exist"),
                    "remove the dangling symlink",
                );
                None
            }
            Err(e) => {
                self.io(rel, &e);
                None
            }
        }
    }

    fn visit_dir(&mut self, dir: &Path, rel: String) {
        if !self.visited.insert(dir.to_path_buf()) && rel.contains('/') {
            self.tree.problem(
                Code::SymlinkLoop,
                &rel,
                format!("`{rel}` leads back into a folder that was already read (a symlink loop)"),
                "remove the symlink that points at one of its own parent folders",
            );
            return;
        }
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => return self.io(&rel, &e),
        };
        // The file type comes with the directory entry (no extra syscall on most filesystems);
        // only symlinks take the slower, checked path through `visit`.
        let mut names = Vec::new();
        for entry in entries {
            match entry.and_then(|e| Ok((e.file_name(), e.file_type()?))) {
                Ok(named) => names.push(named),
                Err(e) => return self.io(&rel, &e),
            }
        }
        names.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, kind) in names {
            let Some(name_str) = name.to_str() else {
                self.tree.problem(
                    Code::Io,
                    &rel,
                    format!("`{rel}` holds a file whose name is not UTF-8: {name:?}"),
                    "rename it using UTF-8 characters",
                );
                continue;
            };
            if name_str.starts_with('.') {
                continue;
            }
            let child_rel = format!("{rel}/{name_str}");
            let child = dir.join(&name);
            if kind.is_symlink() {
                self.visit(&child, child_rel);
            } else if kind.is_dir() {
                self.visit_dir(&child, child_rel);
            } else if kind.is_file() && is_yaml(name_str) {
                self.read_plain_file(&child, child_rel);
            }
        }
    }

    /// Reads a regular (non-symlink) file: one open, one fstat, one read.
    fn read_plain_file(&mut self, path: &Path, rel: String) {
        if self.tree.files.len() >= MAX_FILES {
            return self.too_many(&rel);
        }
        let mut file = match fs::File::open(path) {
            Ok(f) => f,
            Err(e) => return self.io(&rel, &e),
        };
        let len = match file.metadata() {
            Ok(m) => m.len(),
            Err(e) => return self.io(&rel, &e),
        };
        if len > MAX_FILE_BYTES {
            return self.too_large(&rel, len);
        }
        let mut bytes = Vec::with_capacity(len as usize);
        match std::io::Read::read_to_end(&mut file, &mut bytes) {
            Ok(_) => {
                self.tree.files.insert(rel, bytes);
            }
            Err(e) => self.io(&rel, &e),
        }
    }

    fn too_many(&mut self, rel: &str) {
        if !self.full {
            self.full = true;
            self.tree.problem(
                Code::FileTooLarge,
                rel,
                format!("the config repo has more than {MAX_FILES} YAML files"),
                "split the repo; glueops stops reading here",
            );
        }
    }

    fn too_large(&mut self, rel: &str, len: u64) {
        self.tree.problem(
            Code::FileTooLarge,
            rel,
            format!(
                "`{rel}` is {len} bytes; glueops reads files of at most {MAX_FILE_BYTES} bytes"
            ),
            "values files are small; check that this is the file you meant to commit",
        );
    }

    fn visit_file(&mut self, path: &Path, rel: String) {
        if self.tree.files.len() >= MAX_FILES {
            return self.too_many(&rel);
        }
        let Some(target) = self.follow(path, &rel) else {
            return;
        };
        match fs::metadata(&target) {
            Ok(m) if m.len() > MAX_FILE_BYTES => self.too_large(&rel, m.len()),
            Ok(m) if m.is_dir() => self.visit_dir(&target, rel),
            Ok(_) => match fs::read(&target) {
                Ok(bytes) => {
                    self.tree.files.insert(rel, bytes);
                }
                Err(e) => self.io(&rel, &e),
            },
            Err(e) => self.io(&rel, &e),
        }
    }

    fn io(&mut self, rel: &str, e: &std::io::Error) {
        self.tree.problem(
            Code::Io,
            rel,
            format!("cannot read `{rel}`: {e}"),
            "check that the file exists and is readable",
        );
    }
}

pub(crate) fn is_yaml(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml")
}

/// Checks a path given to [`SourceTree::insert`]: relative, `/`-separated, no `..`.
pub(crate) fn check_path(path: &str) -> Result<(), String> {
    if path.is_empty()
        || path.starts_with('/')
        || path.contains('\\')
        || path
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(format!(
            "`{path}` is not a plain relative path inside the config repo"
        ));
    }
    Ok(())
}
