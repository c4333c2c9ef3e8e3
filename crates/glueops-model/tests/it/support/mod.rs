//! Test helpers: repos written as one text file (`-- path --` sections).

use std::collections::BTreeMap;

use glueops_model::SourceTree;

/// Parses `-- path --` sections; lines before the first section starting with `#` are the
/// header. A section whose body is `!delete` removes that file from the base.
pub(crate) fn sections(text: &str) -> (Vec<String>, BTreeMap<String, Option<String>>) {
    let mut header = Vec::new();
    let mut files = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        if let Some(path) = line.strip_prefix("-- ").and_then(|l| l.strip_suffix(" --")) {
            if let Some((p, body)) = current.take() {
                files.insert(p, Some(body));
            }
            current = Some((path.to_string(), String::new()));
        } else if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
        } else if let Some(h) = line.strip_prefix('#') {
            header.push(h.trim().to_string());
        }
    }
    if let Some((p, body)) = current {
        files.insert(p, Some(body));
    }
    for body in files.values_mut() {
        if body.as_deref().map(str::trim) == Some("!delete") {
            *body = None;
        }
    }
    (header, files)
}

/// The base repo of tests/data/base.txt with `case` applied on top.
pub(crate) fn repo_with(case: &str) -> (Vec<String>, SourceTree) {
    let (_, mut files) = sections(include_str!("../../data/base.txt"));
    let (header, changes) = sections(case);
    files.extend(changes);
    let mut tree = SourceTree::new();
    for (path, body) in files {
        if let Some(body) = body {
            tree.insert(path, body);
        }
    }
    (header, tree)
}
