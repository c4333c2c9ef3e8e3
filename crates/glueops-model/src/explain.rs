//! Prints a located tree as YAML with the provenance of every leaf.

use std::fmt::Write;

use crate::node::{Node, NodeValue as Value};

/// The tree as YAML where every leaf ends with `# <file>:<line>`, the layer that set it.
///
/// ```
/// use glueops_model::{Repo, SourceTree, explain};
///
/// let mut files = SourceTree::new();
/// files.insert("glueops.yaml", &include_bytes!("../tests/data/minimal-platform.yaml")[..]);
/// files.insert("apps/api/base/base-values.yaml", "image: {repository: acme/api, port: 8080}\n");
/// files.insert("apps/api/envs/staging/values.yaml", "image: {tag: \"1.10\"}\n");
/// let repo = Repo::from_sources(&files).unwrap();
/// let text = explain(repo.effective_values("api", "staging").unwrap());
/// assert!(text.contains("tag: \"1.10\"  # apps/api/envs/staging/values.yaml:1"));
/// assert!(text.contains("port: 8080  # apps/api/base/base-values.yaml:1"));
/// ```
pub fn explain(node: &Node) -> String {
    let mut out = String::new();
    write_node(&mut out, node, 0);
    out
}

fn scalar(node: &Node) -> String {
    let json = node.to_json();
    glueops_yaml::to_string(&json)
        .map(|s| s.trim_end().to_string())
        .unwrap_or_else(|_| json.to_string())
}

fn origin(node: &Node) -> String {
    format!("  # {}:{}", node.location.file, node.location.line)
}

fn write_node(out: &mut String, node: &Node, indent: usize) {
    let pad = " ".repeat(indent);
    match &node.value {
        Value::Map(map) => {
            for (key, entry) in map.iter() {
                let key = scalar(&Node::new(
                    Value::String(key.clone()),
                    entry.node.location.clone(),
                ));
                match &entry.node.value {
                    Value::Map(m) if !m.is_empty() => {
                        let _ = writeln!(out, "{pad}{key}:");
                        write_node(out, &entry.node, indent + 2);
                    }
                    Value::List(l) if !l.is_empty() => {
                        let _ = writeln!(out, "{pad}{key}:{}", origin(&entry.node));
                        write_node(out, &entry.node, indent + 2);
                    }
                    Value::Map(_) => {
                        let _ = writeln!(out, "{pad}{key}: {{}}{}", origin(&entry.node));
                    }
                    Value::List(_) => {
                        let _ = writeln!(out, "{pad}{key}: []{}", origin(&entry.node));
                    }
                    _ => {
                        let _ = writeln!(
                            out,
                            "{pad}{key}: {}{}",
                            scalar(&entry.node),
                            origin(&entry.node)
                        );
                    }
                }
            }
        }
        Value::List(items) => {
            for item in items {
                match &item.value {
                    Value::Map(m) if !m.is_empty() => {
                        let mut inner = String::new();
                        write_node(&mut inner, item, indent + 2);
                        let inner = inner
                            .strip_prefix(&" ".repeat(indent + 2))
                            .unwrap_or(&inner)
                            .to_string();
                        let _ = write!(out, "{pad}- {inner}");
                    }
                    Value::List(l) if !l.is_empty() => {
                        let _ = writeln!(out, "{pad}-{}", origin(item));
                        write_node(out, item, indent + 2);
                    }
                    _ => {
                        let _ = writeln!(out, "{pad}- {}{}", scalar(item), origin(item));
                    }
                }
            }
        }
        _ => {
            let _ = writeln!(out, "{pad}{}{}", scalar(node), origin(node));
        }
    }
}
