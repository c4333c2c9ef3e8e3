//! The model's side of YAML: every config-repo byte goes through [`glueops_yaml::parse_located`]
//! (strict YAML 1.2 booleans, numbers with leading zeros or underscores stay strings, duplicate
//! keys are an error, bounded budgets), and the located tree becomes a [`Node`] tied to its file.

use std::collections::BTreeMap;
use std::sync::Arc;

use glueops_yaml::{Located, Span, Value as Yaml};

use crate::diagnostics::{Code, Diagnostic};
use crate::node::{Entry, Location, Map, Node, NodeValue as Value};

/// A YAML syntax error with the position the parser reported.
#[derive(Debug, Clone)]
pub(crate) struct SyntaxError {
    pub(crate) line: u32,
    pub(crate) column: u32,
    pub(crate) message: String,
}

impl SyntaxError {
    /// The located diagnostic for this error in `file`.
    pub(crate) fn diagnostic(&self, file: &Arc<str>) -> Diagnostic {
        Diagnostic::new(
            Code::Syntax,
            Location::new(file.clone(), self.line, self.column),
            "",
            self.message.clone(),
        )
        .help(syntax_help(&self.message))
    }
}

/// Parses one YAML document into a located tree. An empty document (or one holding only
/// comments) is an empty map.
pub(crate) fn parse(file: &Arc<str>, text: &str) -> Result<Node, SyntaxError> {
    match glueops_yaml::parse_located(text) {
        Ok(Some(doc)) => Ok(node(file, doc)),
        Ok(None) => Ok(Node::new(
            Value::Map(Map::default()),
            Location::new(file.clone(), 1, 1),
        )),
        Err(glueops_yaml::Error::Syntax {
            line,
            column,
            message,
        }) => Err(SyntaxError {
            line,
            column,
            message,
        }),
        Err(other) => Err(SyntaxError {
            line: 0,
            column: 0,
            message: other.to_string(),
        }),
    }
}

/// A fix for a YAML error, by what the parser said.
fn syntax_help(message: &str) -> &'static str {
    if message.contains("duplicate") {
        "a key appears twice in one map; keep one and merge their values"
    } else if message.contains("alias") || message.contains("budget") || message.contains("limit") {
        "the document expands beyond glueops' limits; remove the anchors and aliases (values files do not need them)"
    } else if message.contains("depth") || message.contains("nest") {
        "the document nests too deeply; values files need only a few levels"
    } else {
        "fix the YAML at this position (check brackets, quotes and indentation)"
    }
}

/// The text of the scalar that starts at `line:column` of `text`, as the user wrote it.
pub(crate) fn raw_scalar(text: &str, line: u32, column: u32) -> Option<String> {
    let src = text.lines().nth(line.checked_sub(1)? as usize)?;
    let token: String = src
        .chars()
        .skip(column.checked_sub(1)? as usize)
        .take_while(|c| !matches!(c, ',' | '}' | ']' | '#'))
        .collect();
    let token = token.trim();
    (!token.is_empty()).then(|| token.to_string())
}

fn node(file: &Arc<str>, doc: Located) -> Node {
    let location = loc(file, doc.span);
    let value = match doc.value {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Int(i) => Value::Int(i),
        Yaml::Float(f) => Value::Float(f),
        Yaml::String(s) => Value::String(s),
        Yaml::List(items) => Value::List(items.into_iter().map(|i| node(file, i)).collect()),
        Yaml::Map(entries) => {
            let mut map = BTreeMap::new();
            for e in entries {
                let entry = Entry {
                    key_location: loc(file, e.key_span),
                    node: node(file, e.value),
                };
                map.insert(e.key, entry);
            }
            Value::Map(Map::from_entries(map))
        }
    };
    Node::new(value, location)
}

fn loc(file: &Arc<str>, span: Span) -> Location {
    Location::new(file.clone(), span.line, span.column)
}
