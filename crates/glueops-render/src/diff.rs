//! Differences between two renders, object by object, as unified YAML diffs for PR comments.

use glueops_files::Files;
use similar::TextDiff;

/// How one file changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    /// Only in the new render.
    Added,
    /// Only in the old render.
    Removed,
    /// In both, with different bytes.
    Changed,
}

/// One changed object (file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Path in the manifest repo.
    pub path: String,
    /// Added, removed or changed.
    pub kind: ChangeKind,
    /// Unified diff of the YAML (`---`/`+++` headers, three lines of context).
    pub diff: String,
}

/// Compares two renders; unchanged files are left out. Sorted by path. Bytes that are not
/// UTF-8 are shown with replacement characters.
pub fn diff(old: &Files, new: &Files) -> Vec<Change> {
    let mut paths: Vec<&str> = old.paths().chain(new.paths()).collect();
    paths.sort();
    paths.dedup();
    let mut out = Vec::new();
    for path in paths {
        let (before, after) = (old.get(path), new.get(path));
        let kind = match (before, after) {
            (None, Some(_)) => ChangeKind::Added,
            (Some(_), None) => ChangeKind::Removed,
            (Some(a), Some(b)) if a != b => ChangeKind::Changed,
            _ => continue,
        };
        let (a, b) = (
            String::from_utf8_lossy(before.unwrap_or_default()),
            String::from_utf8_lossy(after.unwrap_or_default()),
        );
        let text = TextDiff::from_lines(a.as_ref(), b.as_ref())
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{path}"), &format!("b/{path}"))
            .to_string();
        out.push(Change {
            path: path.to_string(),
            kind,
            diff: text,
        });
    }
    out
}

/// A Markdown summary of changes for a pull-request comment: counts, then one collapsible
/// diff per object.
pub fn markdown(changes: &[Change]) -> String {
    let count = |k| changes.iter().filter(|c| c.kind == k).count();
    let mut out = format!(
        "**glueops**: {} added, {} changed, {} removed\n",
        count(ChangeKind::Added),
        count(ChangeKind::Changed),
        count(ChangeKind::Removed)
    );
    for c in changes {
        out.push_str(&format!(
            "\n<details><summary>{:?}: <code>{}</code></summary>\n\n```diff\n{}```\n</details>\n",
            c.kind, c.path, c.diff
        ));
    }
    out
}
