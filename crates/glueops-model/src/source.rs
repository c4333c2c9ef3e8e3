//! The files of a config repo, in memory: read from disk by [`SourceTree::read`] (the only
//! I/O of this crate) or built by hand with [`SourceTree::insert`] (tests, fuzzing, callers that
//! hold files from git objects).

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::diagnostics::{Code, Diagnostic};
use crate::node::Location;

mod folder;

use folder::{Folder, Kind};

/// Largest file glueops reads. Real values files are a few KiB.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Most YAML files one repo may hold.
pub(crate) const MAX_FILES: usize = 200_000;

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
    /// [`crate::Repo::from_sources`] reports with the rest. The apps are read on every core.
    pub fn read(root: &Path) -> Self {
        let (files, problems) = walk(root, &|rel, bytes| (rel, bytes));
        SourceTree {
            files: files.into_iter().collect(),
            problems,
        }
    }

    fn problem(&mut self, code: Code, path: &str, message: String, help: &str) {
        self.problems
            .push(Diagnostic::new(code, Location::file(path), "", message).help(help));
    }
}

/// Walks the config repo at `root` (see [`SourceTree::read`]) and hands every file read to
/// `on_file` with its relative path, on the thread that read it: what `on_file` returns comes
/// back in walk order, with the problems met on the way.
pub(crate) fn walk<T: Send>(
    root: &Path,
    on_file: &(impl Fn(String, Vec<u8>) -> T + Sync),
) -> (Vec<T>, Vec<Diagnostic>) {
    let canonical_root = match fs::canonicalize(root) {
        Ok(r) => r,
        Err(e) => {
            let mut tree = SourceTree::new();
            tree.problem(
                Code::Io,
                ".",
                format!("cannot open the config repo `{}`: {e}", root.display()),
                "pass the path of a deployment-configurations repo (the folder holding glueops.yaml)",
            );
            return (Vec::new(), tree.problems);
        }
    };
    let budget = Budget::default();
    let mut walk = Walk::new(&canonical_root, &budget, on_file);
    let platform = canonical_root.join("glueops.yaml");
    if platform.exists() || platform.is_symlink() {
        walk.visit_file(&platform, "glueops.yaml".to_string());
    }
    for dir in READ_DIRS {
        let path = canonical_root.join(dir);
        if dir == "apps" && path.is_dir() && !path.is_symlink() {
            walk.visit_apps(&path);
        } else if path.exists() || path.is_symlink() {
            walk.visit(&path, dir.to_string());
        }
    }
    (walk.files, walk.problems.problems)
}

/// How many more files the walks of one repo may read, shared by the threads reading it.
struct Budget {
    files: AtomicUsize,
    full: AtomicBool,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            files: AtomicUsize::new(MAX_FILES),
            full: AtomicBool::new(false),
        }
    }
}

impl Budget {
    /// Takes one file from the budget; false when it is spent.
    fn take(&self) -> bool {
        self.files
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// One walk over part of the repo: what `on_file` made of the files it read and the problems
/// it met, in walk order.
struct Walk<'a, T, F> {
    root: &'a Path,
    /// The real folders from the root down to the folder being read: a symlink to one of them
    /// is a loop.
    ancestors: Vec<PathBuf>,
    files: Vec<T>,
    problems: SourceTree,
    budget: &'a Budget,
    buffer: Vec<u8>,
    on_file: &'a F,
}

impl<'a, T: Send, F: Fn(String, Vec<u8>) -> T + Sync> Walk<'a, T, F> {
    fn new(root: &'a Path, budget: &'a Budget, on_file: &'a F) -> Self {
        Self {
            root,
            ancestors: vec![root.to_path_buf()],
            files: Vec::new(),
            problems: SourceTree::new(),
            budget,
            buffer: Vec::new(),
            on_file,
        }
    }

    /// Reads `apps/` (a real folder): each app's folder on its own, the apps spread over the
    /// machine's cores; files and problems come back in name order.
    fn visit_apps(&mut self, apps: &Path) {
        // The folder stays with this thread: each app's folder is opened by its path.
        let Some((_, entries)) = self.entries(Folder::open(apps), "apps") else {
            return;
        };
        let root = self.root;
        let budget = self.budget;
        let on_file = self.on_file;
        let mut ancestors = self.ancestors.clone();
        ancestors.push(apps.to_path_buf());
        let parts = crate::parallel::map_chunks(&entries, |chunk| {
            let mut walk = Walk::new(root, budget, on_file);
            walk.ancestors.clone_from(&ancestors);
            for (name, kind) in chunk {
                walk.entry(None, apps, "apps", name, *kind);
            }
            (walk.files, walk.problems.problems)
        });
        for (files, problems) in parts {
            self.files.extend(files);
            self.problems.problems.extend(problems);
        }
    }

    fn visit(&mut self, path: &Path, rel: String) {
        let Some(target) = self.follow(path, &rel) else {
            return;
        };
        match fs::metadata(&target) {
            Ok(m) if m.is_dir() => self.enter(&target, rel),
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
            Ok(target) if target.starts_with(self.root) => Some(target),
            Ok(_) => {
                self.problems.problem(
                    Code::PathEscape,
                    rel,
                    format!("`{rel}` is a symlink to a file outside the config repo"),
                    "copy the file into the repo instead of linking to it",
                );
                None
            }
            Err(e) if e.raw_os_error() == Some(ELOOP) => {
                self.problems.problem(
                    Code::SymlinkLoop,
                    rel,
                    format!("`{rel}` is a symlink loop"),
                    "remove the symlink or point it at a real file",
                );
                None
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {
                self.problems.problem(
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

    /// The entries of a folder just opened, with their types (from the directory entries: no
    /// extra syscall on most filesystems), sorted by name.
    fn entries(
        &mut self,
        folder: std::io::Result<Folder>,
        rel: &str,
    ) -> Option<(Folder, Vec<(OsString, Kind)>)> {
        match folder.and_then(|mut f| Ok((f.entries()?, f))) {
            Ok((mut names, folder)) => {
                names.sort_by(|a, b| a.0.cmp(&b.0));
                Some((folder, names))
            }
            Err(e) => {
                self.io(rel, &e);
                None
            }
        }
    }

    /// Reads a folder reached through a symlink, unless it is one of the folders it sits in.
    fn enter(&mut self, dir: &Path, rel: String) {
        if self.ancestors.iter().any(|a| a == dir) {
            self.problems.problem(
                Code::SymlinkLoop,
                &rel,
                format!("`{rel}` leads back into one of its own parent folders (a symlink loop)"),
                "remove the symlink that points at one of its own parent folders",
            );
            return;
        }
        self.visit_dir(Folder::open(dir), dir.to_path_buf(), rel);
    }

    /// Reads a real folder, `dir` (`rel` in the repo), just opened.
    fn visit_dir(&mut self, folder: std::io::Result<Folder>, dir: PathBuf, rel: String) {
        let Some((folder, entries)) = self.entries(folder, &rel) else {
            return;
        };
        self.ancestors.push(dir.clone());
        for (name, kind) in &entries {
            self.entry(Some(&folder), &dir, &rel, name, *kind);
        }
        self.ancestors.pop();
    }

    /// One entry of the folder `dir` (`rel` in the repo; open as `folder` unless it is shared
    /// between threads): only symlinks take the slower, checked path through [`Walk::visit`].
    fn entry(&mut self, folder: Option<&Folder>, dir: &Path, rel: &str, name: &OsStr, kind: Kind) {
        let Some(name_str) = name.to_str() else {
            self.problems.problem(
                Code::Io,
                rel,
                format!("`{rel}` holds a file whose name is not UTF-8: {name:?}"),
                "rename it using UTF-8 characters",
            );
            return;
        };
        if name_str.starts_with('.') {
            return;
        }
        let child_rel = format!("{rel}/{name_str}");
        match kind {
            Kind::Symlink => self.visit(&dir.join(name), child_rel),
            Kind::Dir => {
                let child = dir.join(name);
                let opened = match folder {
                    Some(f) => f.folder(name),
                    None => Folder::open(&child),
                };
                self.visit_dir(opened, child, child_rel);
            }
            Kind::File if is_yaml(name_str) => {
                if !self.budget.take() {
                    return self.too_many(&child_rel);
                }
                let opened = match folder {
                    Some(f) => f.file(name),
                    None => fs::File::open(dir.join(name)),
                };
                self.read_plain_file(opened, child_rel);
            }
            Kind::Other if is_yaml(name_str) => self.not_regular(&child_rel),
            Kind::File | Kind::Other => {}
        }
    }

    /// A pipe, socket or device where a config file is expected: reading it could block
    /// forever or read anything, and skipping it would silently drop an environment.
    fn not_regular(&mut self, rel: &str) {
        self.problems.problem(
            Code::Io,
            rel,
            format!("`{rel}` is not a regular file (a pipe, socket or device)"),
            "glueops reads only regular files: replace it with the file it stands for",
        );
    }

    /// Reads a regular (non-symlink) file just opened: for a file that fits the walk's buffer,
    /// one read.
    fn read_plain_file(&mut self, file: std::io::Result<fs::File>, rel: String) {
        let file = match file {
            Ok(f) => f,
            Err(e) => return self.io(&rel, &e),
        };
        match file.metadata() {
            Ok(m) if !m.is_file() => return self.not_regular(&rel),
            Ok(_) => {}
            Err(e) => return self.io(&rel, &e),
        }
        match read_bounded(file, &mut self.buffer) {
            Ok(Ok(bytes)) => self.files.push((self.on_file)(rel, bytes)),
            Ok(Err(len)) => self.too_large(&rel, len),
            Err(e) => self.io(&rel, &e),
        }
    }

    fn too_many(&mut self, rel: &str) {
        if !self.budget.full.swap(true, Ordering::Relaxed) {
            self.problems.problem(
                Code::FileTooLarge,
                rel,
                format!("the config repo has more than {MAX_FILES} YAML files"),
                "split the repo; glueops stops reading here",
            );
        }
    }

    fn too_large(&mut self, rel: &str, len: u64) {
        self.problems.problem(
            Code::FileTooLarge,
            rel,
            format!(
                "`{rel}` is {len} bytes; glueops reads files of at most {MAX_FILE_BYTES} bytes"
            ),
            "values files are small; check that this is the file you meant to commit",
        );
    }

    fn visit_file(&mut self, path: &Path, rel: String) {
        let Some(target) = self.follow(path, &rel) else {
            return;
        };
        match fs::metadata(&target) {
            Ok(m) if m.is_dir() => self.enter(&target, rel),
            Ok(m) if !m.is_file() => self.not_regular(&rel),
            Ok(m) if m.len() > MAX_FILE_BYTES => self.too_large(&rel, m.len()),
            Ok(_) if !self.budget.take() => self.too_many(&rel),
            Ok(_) => match fs::read(&target) {
                Ok(bytes) => self.files.push((self.on_file)(rel, bytes)),
                Err(e) => self.io(&rel, &e),
            },
            Err(e) => self.io(&rel, &e),
        }
    }

    fn io(&mut self, rel: &str, e: &std::io::Error) {
        self.problems.problem(
            Code::Io,
            rel,
            format!("cannot read `{rel}`: {e}"),
            "check that the file exists and is readable",
        );
    }
}

/// Size of a walk's read buffer: a values file that fits is read with one `read`.
const BUFFER_BYTES: usize = 16 * 1024;

/// Reads an open regular file whole, or `Err(size)` when it is larger than
/// [`MAX_FILE_BYTES`]. A short read of a regular file means its end was reached, so a file
/// smaller than the buffer costs one `read` and no `fstat`.
fn read_bounded(mut file: fs::File, buffer: &mut Vec<u8>) -> std::io::Result<Result<Vec<u8>, u64>> {
    buffer.resize(BUFFER_BYTES, 0);
    let n = loop {
        match file.read(buffer) {
            Ok(n) => break n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    };
    let mut bytes = buffer[..n].to_vec();
    if n == BUFFER_BYTES {
        (&mut file)
            .take(MAX_FILE_BYTES + 1 - n as u64)
            .read_to_end(&mut bytes)?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Ok(Err(file.metadata()?.len()));
        }
    }
    Ok(Ok(bytes))
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
