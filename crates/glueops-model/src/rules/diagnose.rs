//! What the rules share: located diagnostics and the key paths they point at.

use crate::diagnostics::{Code, Diagnostic};
use crate::node::{Node, Segment, display_path};
use crate::suggest::did_you_mean;

/// A located diagnostic at `path` of `tree`.
pub(crate) fn at(
    tree: &Node,
    path: &[Segment],
    code: Code,
    message: impl Into<String>,
) -> Diagnostic {
    Diagnostic::new(code, tree.locate(path), display_path(path), message)
}

/// "`x` is not declared" with a did-you-mean among the declared names.
pub(crate) fn undeclared(
    tree: &Node,
    path: &[Segment],
    what: &str,
    name: &str,
    declared: &[&str],
    list: &str,
) -> Diagnostic {
    undeclared_because(
        tree,
        path,
        format!("{what} `{name}` is not declared"),
        name,
        declared,
        list,
    )
}

/// Like [`undeclared`] with a message of its own.
pub(crate) fn undeclared_because(
    tree: &Node,
    path: &[Segment],
    message: String,
    name: &str,
    declared: &[&str],
    list: &str,
) -> Diagnostic {
    let help = match did_you_mean(name, declared.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!(
            "declare it under {list} (declared: {})",
            declared.join(", ")
        ),
    };
    at(tree, path, Code::Undeclared, message).help(help)
}

/// A key segment of a path.
pub(crate) fn k(key: &str) -> Segment {
    Segment::from(key)
}

/// An index segment of a path.
pub(crate) fn i(index: usize) -> Segment {
    Segment::Index(index)
}

/// True only for an explicit `enabled: true`.
pub(crate) fn enabled(flag: Option<bool>) -> bool {
    flag == Some(true)
}

/// Every `customResources` entry and `customResourcesMap` value, with its key path.
pub(crate) fn custom_resource_texts(v: &crate::values::AppValues) -> Vec<(Vec<Segment>, &str)> {
    let listed = v
        .custom_resources
        .iter()
        .flatten()
        .enumerate()
        .map(|(n, t)| (vec![k("customResources"), i(n)], t.as_str()));
    let keyed = v
        .custom_resources_map
        .iter()
        .flatten()
        .filter_map(|(key, t)| {
            t.as_deref()
                .map(|t| (vec![k("customResourcesMap"), k(key)], t))
        });
    listed.chain(keyed).collect()
}
