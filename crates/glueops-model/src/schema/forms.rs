//! The wording of schema problems, and the forms of a value the GlueOps chart converts
//! (read the same way, with a warning, instead of refused).

use jsonschema::error::TypeKind;
use serde_json::Value as Json;

use crate::diagnostics::{Code, Diagnostic};
use crate::node::{Node, Segment, display_path};
use crate::suggest::did_you_mean;

/// What validating a values file changes in it before it is layered: keys to drop (ones
/// the chart ignores) and values written in a form the chart converts (quoted numbers,
/// labels as a `[{key, value}]` list), replaced by what the chart reads them as.
#[derive(Debug, Default)]
pub(crate) struct Fixes {
    /// Keys to remove.
    pub drop: Vec<Vec<Segment>>,
    /// Values to replace.
    pub set: Vec<(Vec<Segment>, crate::node::NodeValue)>,
}

pub(super) fn type_names(kind: &TypeKind) -> Vec<String> {
    match kind {
        TypeKind::Single(t) => vec![t.to_string()],
        TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect(),
    }
}

/// A value the chart converts where the schema wants another type: a quoted integer where
/// an integer goes (`"30"`), or a `[{key: k, value: v}]` list where a map of text goes
/// (labels and annotations). The value it becomes, and how it was written.
pub(super) fn chart_form(
    at: Option<&Node>,
    path: &[Segment],
    expected: &[String],
) -> Option<(crate::node::NodeValue, String)> {
    use crate::node::{Entry, Map, NodeValue as Value};
    let at = at?;
    let wants = |t: &str| expected.iter().any(|e| e == t);
    match &at.value {
        Value::String(s) if wants("integer") && !wants("string") => {
            let n: i64 = s.trim().parse().ok()?;
            Some((Value::Int(n), format!("the quoted number \"{s}\"")))
        }
        // A label or annotation value written as a YAML boolean or number: the chart quotes
        // every value (`expose: true` is the label `"true"`).
        Value::Bool(_) | Value::Int(_) | Value::Float(_)
            if wants("string") && !wants("integer") && !wants("boolean") && in_labels(path) =>
        {
            let text = match &at.value {
                Value::Bool(b) => b.to_string(),
                Value::Int(i) => i.to_string(),
                Value::Float(f) => f.to_string(),
                _ => return None,
            };
            Some((
                Value::String(text.clone()),
                format!("the YAML scalar `{text}`"),
            ))
        }
        Value::List(items) if wants("object") && !items.is_empty() => {
            let mut entries = std::collections::BTreeMap::new();
            for item in items {
                let Value::Map(m) = &item.value else {
                    return None;
                };
                if m.len() != 2 {
                    return None;
                }
                let text = |key: &str| match m.get(key).map(|e| &e.node.value) {
                    Some(Value::String(s)) => Some(s.clone()),
                    _ => None,
                };
                let (key, value) = (text("key")?, text("value")?);
                let node = Node::new(Value::String(value), item.location.clone());
                entries.insert(
                    key,
                    Entry {
                        key_location: item.location.clone(),
                        node,
                    },
                );
            }
            Some((
                Value::Map(Map::from_entries(entries)),
                "a `[{key, value}]` list".to_string(),
            ))
        }
        _ => None,
    }
}

pub(super) fn chart_form_warning(node: &Node, path: &[Segment], what: &str) -> Diagnostic {
    let shown = display_path(path);
    Diagnostic::new(
        Code::WrongType,
        node.locate(path),
        shown.clone(),
        format!("`{shown}` is written as {what}; glueops reads it as the chart converts it"),
    )
    .help("write it in the form the schema takes: a number unquoted, labels as a map, a label value quoted")
    .warning()
}

pub(super) fn wrong_type(
    mut d: Diagnostic,
    shown: &str,
    expected: &[String],
    found: &str,
    value: &Json,
) -> Diagnostic {
    let mut wanted: Vec<&str> = expected
        .iter()
        .map(String::as_str)
        .filter(|t| *t != "null")
        .map(article)
        .collect();
    wanted.dedup();
    let wanted = if wanted.is_empty() {
        "null".to_string()
    } else {
        wanted.join(" or ")
    };
    d.message = format!("`{shown}` must be {wanted}, but it is {found}");
    if shown.ends_with("ullSecrets") && expected.iter().any(|t| t == "string") {
        // The chart's wording, and how to say "none" at this level.
        let none = if shown == "image.pullSecrets" {
            "write \"\" to render no pull secret"
        } else {
            "write \"\" to opt this workload out of `image.pullSecrets`"
        };
        d.message = format!("`{shown}` must be a string secret name, but it is {found}; {none}");
    }
    let help = if expected.iter().any(|t| t == "string")
        && matches!(value, Json::Number(_) | Json::Bool(_))
    {
        format!("quote it so YAML keeps it as text: \"{value}\"")
    } else if expected.iter().any(|t| t == "integer" || t == "number") && value.is_string() {
        "write the number without quotes".to_string()
    } else {
        format!("write {wanted} here, or `null` to remove the key")
    };
    d.help = Some(help);
    d
}

pub(super) fn one_of(
    mut d: Diagnostic,
    shown: &str,
    options: &[String],
    value: &Json,
) -> Diagnostic {
    let listed = options
        .iter()
        .map(|o| format!("`{o}`"))
        .collect::<Vec<_>>()
        .join(", ");
    d.message = format!("`{shown}` is {value}, which is not one of {listed}");
    let help = value
        .as_str()
        .and_then(|v| did_you_mean(v, options.iter().map(String::as_str)))
        .map_or_else(
            || format!("use one of {listed}"),
            |s| format!("did you mean `{s}`?"),
        );
    d.help = Some(help);
    d
}

fn article(t: &str) -> &'static str {
    match t {
        "string" => "a string",
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "a boolean (true or false)",
        "array" => "a list",
        "object" => "a map",
        _ => "null",
    }
}

/// Whether `path` is a value inside a labels or annotations map.
fn in_labels(path: &[Segment]) -> bool {
    let parent = path.len().checked_sub(2).and_then(|i| path.get(i));
    matches!(parent, Some(Segment::Key(k)) if matches!(
        k.as_str(),
        "labels" | "annotations" | "commonLabels" | "commonAnnotations" | "podLabels" | "podAnnotations"
    ))
}
