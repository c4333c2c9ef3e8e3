//! The one place glueops reads YAML. Every crate that parses YAML (the config-repo model, the
//! SOPS files of the secrets crate) uses [`options`]: strict YAML 1.2 booleans (`yes`/`on` stay
//! strings), numbers with leading zeros or underscores stay strings, duplicate keys are an
//! error, and the parser's budgets are bounded so an alias bomb or a deeply nested document
//! fails fast instead of eating the machine. [`parse`] reads one document into a [`Tree`] that
//! keeps document order (a SOPS MAC hashes values in that order).
//!
//! ```
//! use glueops_yaml::{Tree, parse};
//! let tree = parse("b: yes\na: 0755\n").unwrap();
//! assert_eq!(tree.field("b"), Some(&Tree::Text("yes".into())));
//! assert_eq!(tree.field("a").and_then(Tree::text), Some("0755"));
//! assert!(parse("a: 1\na: 2\n").is_err(), "duplicate keys are an error");
//! ```

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A YAML document in document order.
#[derive(Debug, Clone, PartialEq)]
pub enum Tree {
    /// A mapping, in document order.
    Map(Vec<(String, Tree)>),
    /// A sequence.
    List(Vec<Tree>),
    /// A string.
    Text(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// `true` or `false` (never `yes`/`no`).
    Bool(bool),
    /// `null`, `~` or empty.
    Null,
}

impl Tree {
    /// The value under `key` of a map.
    pub fn field(&self, key: &str) -> Option<&Tree> {
        match self {
            Tree::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The text of a string scalar.
    pub fn text(&self) -> Option<&str> {
        match self {
            Tree::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// Deepest nesting accepted in one document. Real values files nest fewer than 10 levels; the
/// parser checks this bound while it streams, before deserialization recursion gets deep
/// (about 40 KiB of stack per level in debug builds), so even a 2 MiB thread is safe.
pub const MAX_DEPTH: usize = 24;

/// The fixed parser options every glueops YAML read uses.
pub fn options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.max_documents = 1;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_nodes = 2_000_000;
    budget.max_events = 4_000_000;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.strict_booleans = true;
    options.leading_zero_numbers_as_strings = true;
    options.underscored_numbers_as_strings = true;
    options.legacy_octal_numbers = false;
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    options.with_snippet = false;
    options.alias_limits.max_total_replayed_events = 100_000;
    options
}

/// Parses one document (an empty one is an empty map). The error gives only the position, never
/// a snippet of the text (which may hold secrets).
pub fn parse(text: &str) -> Result<Tree, String> {
    let tree: Option<Tree> =
        serde_saphyr::from_str_with_options(text, options()).map_err(|e| match e.location() {
            Some(l) => format!(
                "YAML syntax error at line {}, column {}",
                l.line(),
                l.column()
            ),
            None => "YAML syntax error".to_string(),
        })?;
    Ok(tree.unwrap_or(Tree::Map(Vec::new())))
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TreeVisitor)
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Tree;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Tree, E> {
        Ok(Tree::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Tree, E> {
        Ok(Tree::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Tree, D::Error> {
        Tree::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Tree, E> {
        Ok(Tree::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Tree, E> {
        Ok(Tree::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Tree, E> {
        i64::try_from(v)
            .map(Tree::Int)
            .map_err(|_| E::custom("integer too large"))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Tree, E> {
        Ok(Tree::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Tree, E> {
        Ok(Tree::Text(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Tree, E> {
        Ok(Tree::Text(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Tree::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<Key, Tree>()? {
            entries.push((key.0, value));
        }
        Ok(Tree::Map(entries))
    }
}

/// A map key: any scalar, as text (SOPS paths are made of key text).
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Tree::deserialize(deserializer)? {
            Tree::Text(s) => Ok(Key(s)),
            Tree::Int(i) => Ok(Key(i.to_string())),
            Tree::Float(f) => Ok(Key(f.to_string())),
            Tree::Bool(b) => Ok(Key(b.to_string())),
            Tree::Null => Ok(Key("null".into())),
            Tree::Map(_) | Tree::List(_) => Err(de::Error::custom("a map key must be a scalar")),
        }
    }
}
