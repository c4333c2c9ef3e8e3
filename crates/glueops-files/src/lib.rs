//! # glueops-files
//!
//! [`Files`]: a tree of files, relative `/`-separated path → bytes, in path order. It is the
//! one file-map type of the workspace: `glueops-render` produces it, the root crate writes it
//! to disk, and `glueops-git` commits it. Every path is checked when it is inserted, so no
//! consumer ever meets a path that leaves its folder.
//!
//! ```
//! use glueops_files::{Files, PathError};
//!
//! let mut files = Files::new();
//! files.insert("clusters/prod/api/deployment-api.yaml", "kind: Deployment\n")?;
//! assert_eq!(files.get("clusters/prod/api/deployment-api.yaml"), Some(&b"kind: Deployment\n"[..]));
//! assert!(matches!(files.insert("../escape.yaml", ""), Err(PathError { .. })));
//! # Ok::<(), PathError>(())
//! ```

use std::collections::BTreeMap;

mod branch;

pub use branch::{BranchError, check_branch};

/// A path that cannot be part of a [`Files`] tree, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "refusing the path `{path}`: it {reason}; give a relative `/`-separated path inside the tree"
)]
pub struct PathError {
    /// The path as given.
    pub path: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Checks that `path` is relative, `/`-separated, and stays inside its tree.
///
/// Refused: the empty path, a leading `/`, empty components (`a//b`, a trailing `/`), `.` and
/// `..`, `.git` (git refuses it), NUL bytes and `\` (a separator on Windows checkouts).
pub fn check_path(path: &str) -> Result<(), PathError> {
    let refuse = |reason| {
        Err(PathError {
            path: path.to_string(),
            reason,
        })
    };
    if path.is_empty() {
        return refuse("is empty");
    }
    if path.starts_with('/') {
        return refuse("is absolute");
    }
    for part in path.split('/') {
        match part {
            "" => return refuse("has an empty component (`//` or a trailing `/`)"),
            "." | ".." => return refuse("has a `.` or `..` component"),
            _ if part.eq_ignore_ascii_case(".git") => {
                return refuse("has a `.git` component, which git refuses");
            }
            _ if part.contains('\0') => return refuse("contains a NUL byte"),
            _ if part.contains('\\') => return refuse("contains `\\`"),
            _ => {}
        }
    }
    Ok(())
}

/// Files by relative path, in path order; every path checked by [`check_path`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Files {
    entries: BTreeMap<String, Vec<u8>>,
}

impl Files {
    /// An empty tree.
    pub fn new() -> Files {
        Files::default()
    }

    /// Adds or replaces the file at `path`; returns the bytes it replaced.
    pub fn insert(
        &mut self,
        path: impl Into<String>,
        contents: impl Into<Vec<u8>>,
    ) -> Result<Option<Vec<u8>>, PathError> {
        let path = path.into();
        check_path(&path)?;
        Ok(self.entries.insert(path, contents.into()))
    }

    /// Removes the file at `path`; returns its bytes.
    pub fn remove(&mut self, path: &str) -> Option<Vec<u8>> {
        self.entries.remove(path)
    }

    /// The bytes of the file at `path`.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.entries.get(path).map(Vec::as_slice)
    }

    /// Whether there is a file at `path`.
    pub fn contains(&self, path: &str) -> bool {
        self.entries.contains_key(path)
    }

    /// `(path, bytes)` in path order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &[u8])> {
        self.entries.iter().map(|(p, b)| (p.as_str(), b.as_slice()))
    }

    /// The paths, in order.
    pub fn paths(&self) -> impl ExactSizeIterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// How many files.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no files.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Total bytes of all files.
    pub fn total_bytes(&self) -> usize {
        self.entries.values().map(Vec::len).sum()
    }

    /// Builds a tree from `(path, bytes)` pairs; the first bad path is the error.
    pub fn try_from_iter<P, C>(pairs: impl IntoIterator<Item = (P, C)>) -> Result<Files, PathError>
    where
        P: Into<String>,
        C: Into<Vec<u8>>,
    {
        let mut files = Files::new();
        for (path, contents) in pairs {
            files.insert(path, contents)?;
        }
        Ok(files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_leave_the_tree_are_refused() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "a/",
            "./a",
            "a/.git/config",
            "a\\b",
            "a\0b",
        ] {
            let err = Files::new().insert(bad, "x").unwrap_err();
            assert_eq!(err.path, bad);
        }
        for good in [
            "a",
            "clusters/prod/api/deployment-api.yaml",
            ".flux.yaml",
            "a..b/c",
        ] {
            assert!(check_path(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn keeps_path_order_and_replaces() {
        let mut files = Files::try_from_iter([("b", "2"), ("a", "1")]).unwrap();
        assert_eq!(files.insert("b", "3").unwrap(), Some(b"2".to_vec()));
        assert_eq!(files.paths().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(files.total_bytes(), 2);
        assert_eq!(files.remove("a"), Some(b"1".to_vec()));
        assert_eq!(files.len(), 1);
    }
}
