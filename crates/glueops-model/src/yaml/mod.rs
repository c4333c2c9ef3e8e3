//! The model's one place that talks to the YAML library: every config-repo byte goes through
//! [`parse`] with the fixed options of `glueops-yaml` (strict YAML 1.2 booleans, numbers with
//! leading zeros or underscores stay strings, duplicate keys are an error, bounded budgets),
//! into a tree where every node knows its file, line and column.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::diagnostics::{Code, Diagnostic};
use crate::node::{Entry, Location, Map, Node, Value};

/// Deepest nesting accepted in one file (the shared bound of [`glueops_yaml::options`]).
pub(crate) const MAX_DEPTH: usize = glueops_yaml::MAX_DEPTH;

fn options() -> serde_saphyr::Options {
    glueops_yaml::options()
}

/// A YAML syntax error with the position the parser reported.
#[derive(Debug, Clone)]
pub(crate) struct SyntaxError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl SyntaxError {
    /// The located diagnostic for this error in `file`.
    pub fn diagnostic(&self, file: &Arc<str>) -> Diagnostic {
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
    let parsed: Option<Spanned<Raw>> = serde_saphyr::from_str_with_options(text, options())
        .map_err(|e| {
            let (line, column) = e
                .location()
                .map(|l| (clamp(l.line()), clamp(l.column())))
                .unwrap_or((0, 0));
            SyntaxError {
                line,
                column,
                message: tidy(&e.to_string()),
            }
        })?;
    Ok(match parsed {
        Some(raw) => raw.into_node(file),
        None => Node::new(
            Value::Map(Map::default()),
            Location::new(file.clone(), 1, 1),
        ),
    })
}

mod emit;

/// Serializes a value as YAML (see [`emit`]: block style, kubectl-safe quoting).
pub(crate) fn to_string<T: serde::Serialize>(value: &T) -> Result<String, String> {
    emit::to_string(value).map_err(|e| e.to_string())
}

/// Appends a value as YAML to `out`; on error, `out` is left as it was.
pub(crate) fn append<T: serde::Serialize>(out: &mut String, value: &T) -> Result<(), String> {
    let start = out.len();
    emit::append(out, value).map_err(|e| {
        out.truncate(start);
        e.to_string()
    })
}

fn clamp(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// The parser's message without its own position suffix (the diagnostic shows the position)
/// and without advice about parser options that users cannot set.
fn tidy(message: &str) -> String {
    let mut m = message
        .lines()
        .next()
        .unwrap_or("invalid YAML")
        .trim()
        .to_string();
    m = m.replace(", set DuplicateKeyPolicy in Options if acceptable", "");
    if m.contains("Depth {") || m.contains("recursion limit") {
        return format!("the document nests more than {MAX_DEPTH} levels deep");
    }
    if let Some(i) = m.rfind(" at line ")
        && m[i + 9..]
            .chars()
            .all(|c| c.is_ascii_digit() || c == ',' || c == ' ' || c.is_ascii_lowercase())
    {
        m.truncate(i);
    }
    m
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

/// The tree as the parser hands it over, before locations are tied to a file.
enum Raw {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    List(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<String>, Spanned<Raw>)>),
}

trait IntoNode {
    fn into_node(self, file: &Arc<str>) -> Node;
}

impl IntoNode for Spanned<Raw> {
    fn into_node(self, file: &Arc<str>) -> Node {
        let location = loc(file, &self.referenced);
        let value = match self.value {
            Raw::Null => Value::Null,
            Raw::Bool(b) => Value::Bool(b),
            Raw::Int(i) => Value::Int(i),
            Raw::Float(f) => Value::Float(f),
            Raw::String(s) => Value::String(s),
            Raw::List(items) => Value::List(items.into_iter().map(|i| i.into_node(file)).collect()),
            Raw::Map(entries) => {
                let mut map = BTreeMap::new();
                for (key, value) in entries {
                    let entry = Entry {
                        key_location: loc(file, &key.referenced),
                        node: value.into_node(file),
                    };
                    map.insert(key.value, entry);
                }
                Value::Map(Map::from_entries(map))
            }
        };
        Node::new(value, location)
    }
}

fn loc(file: &Arc<str>, l: &serde_saphyr::Location) -> Location {
    Location::new(file.clone(), clamp(l.line()), clamp(l.column()))
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Raw, D::Error> {
        Raw::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Raw, E> {
        Ok(i64::try_from(v).map_or(Raw::Float(v as f64), Raw::Int))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Raw, E> {
        Ok(i64::try_from(v).map_or(Raw::Float(v as f64), Raw::Int))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Raw, E> {
        Ok(i64::try_from(v).map_or(Raw::Float(v as f64), Raw::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Raw, E> {
        Ok(Raw::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::String(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::String(v))
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Raw, E> {
        Err(E::custom(
            "binary (!!binary) values are not supported; use a plain string",
        ))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Raw>>()? {
            items.push(item);
        }
        Ok(Raw::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value::<Spanned<Raw>>()?;
            entries.push((key, value));
        }
        Ok(Raw::Map(entries))
    }
}
