//! # glueops-yaml
//!
//! Every YAML byte glueops reads or writes goes through this crate; no other crate of the
//! workspace talks to the YAML library (serde-saphyr).
//!
//! - **Reading** uses one fixed set of options: strict YAML 1.2 booleans (`yes`/`on` stay
//!   strings), numbers with leading zeros or underscores stay strings, duplicate keys are an
//!   error, and the parser's budgets are bounded so that an alias bomb or a deeply nested
//!   document fails fast instead of eating the machine.
//!   - [`parse_located`] reads one document into a [`Located`] tree: every node knows its line,
//!     column and byte span, so a caller can point at a value or replace its bytes in place.
//!   - [`parse`] reads one document into a [`Tree`] that keeps document order (a SOPS MAC
//!     hashes values in that order) and never quotes the text in its errors.
//!   - [`deserialize`] reads one document straight into a type.
//! - **Writing** ([`to_string`], [`append`]) is block style, keys in serialization order, list
//!   items at their key's indent (kubectl's layout), and every string that a YAML 1.1 or 1.2
//!   reader could take for anything but a string (`yes`, `on`, `1.10`, `0x1F`, `2024-01-01`,
//!   `null`, ...) double-quoted, so kubectl reads back exactly the value that was written.
//!
//! ```
//! use glueops_yaml::{Tree, parse, parse_located, to_string};
//!
//! let tree = parse("b: yes\na: 0755\n").unwrap();
//! assert_eq!(tree.field("b"), Some(&Tree::Text("yes".into())));
//! assert_eq!(tree.field("a").and_then(Tree::text), Some("0755"));
//! assert!(parse("a: 1\na: 2\n").is_err(), "duplicate keys are an error");
//!
//! let text = "image:\n  tag: \"1.4.2\"  # pinned\n";
//! let doc = parse_located(text).unwrap().expect("not empty");
//! let tag = doc.get("image").and_then(|image| image.get("tag")).unwrap();
//! assert_eq!((tag.span.line, tag.span.column), (2, 8));
//! assert_eq!(&text[tag.span.start..tag.span.end], "\"1.4.2\"");
//!
//! let out = to_string(&std::collections::BTreeMap::from([("enabled", "yes")])).unwrap();
//! assert_eq!(out, "enabled: \"yes\"\n");
//! ```

mod emit;
mod located;
mod tree;

pub use located::{Entry, Located, Span, Value, parse_located};
pub use tree::Tree;

/// Deepest nesting accepted in one config document. Real values files nest fewer than 10
/// levels; the parser checks this bound while it streams, before deserialization recursion
/// gets deep (about 40 KiB of stack per level in debug builds), so even a 2 MiB thread is safe.
pub const MAX_DEPTH: usize = 24;

/// What can go wrong reading or writing YAML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text is not valid YAML, breaks one of the fixed rules (a duplicate key, a document
    /// nested deeper than [`MAX_DEPTH`], too many aliases), or (for [`deserialize`]) does not
    /// have the shape asked for.
    #[error("YAML syntax error at line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line (0 when the parser gave no position).
        line: u32,
        /// 1-based column (0 when the parser gave no position).
        column: u32,
        /// What the parser said, without its own position suffix.
        message: String,
    },
    /// A value could not be written as YAML (its `Serialize` implementation failed, or it
    /// has a map key that is not a scalar).
    #[error("cannot write the value as YAML: {message}")]
    Emit {
        /// The serializer's message.
        message: String,
    },
}

/// How much a document may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limits {
    /// Config files written by people (values files, `glueops.yaml`, SOPS files): at most
    /// [`MAX_DEPTH`] levels, 1,000 anchors and aliases.
    Config,
    /// Machine-written schema documents such as upstream CRDs: 200 levels and ten million
    /// nodes.
    Schema,
}

/// The fixed parser options every glueops YAML read uses.
fn options(limits: Limits) -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    match limits {
        Limits::Config => {
            budget.max_depth = MAX_DEPTH;
            budget.max_nodes = 2_000_000;
            budget.max_events = 4_000_000;
        }
        Limits::Schema => {
            budget.max_depth = 200;
            budget.max_nodes = 10_000_000;
            budget.max_events = 20_000_000;
        }
    }
    budget.max_documents = 1;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
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

/// Parses one document into a [`Tree`] (an empty document is an empty map). The error gives
/// only the position, never the parser's message: that may quote the text, which may hold
/// secrets.
pub fn parse(text: &str) -> Result<Tree, Error> {
    let tree: Option<Tree> = serde_saphyr::from_str_with_options(text, options(Limits::Config))
        .map_err(|e| {
            let (line, column) = position(&e);
            Error::Syntax {
                line,
                column,
                message: "invalid YAML (the text is not shown: it may hold secrets)".into(),
            }
        })?;
    Ok(tree.unwrap_or(Tree::Map(Vec::new())))
}

/// Deserializes one document into `T` with the fixed options and the given [`Limits`].
pub fn deserialize<T: serde::de::DeserializeOwned>(text: &str, limits: Limits) -> Result<T, Error> {
    deserialize_with(text, options(limits))
}

/// Like [`deserialize`], but a key repeated in one map reaches `T`'s visitor (which decides).
pub(crate) fn deserialize_repeats<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Error> {
    let mut options = options(Limits::Config);
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::PassThrough;
    deserialize_with(text, options)
}

fn deserialize_with<T: serde::de::DeserializeOwned>(
    text: &str,
    options: serde_saphyr::Options,
) -> Result<T, Error> {
    serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let (line, column) = position(&e);
        Error::Syntax {
            line,
            column,
            message: tidy(&e.to_string()),
        }
    })
}

/// Deserializes every document of a stream (`---`-separated, at most 1,000; empty documents
/// are skipped) into `T` with the fixed options and the given [`Limits`].
///
/// ```
/// let docs: Vec<serde_json::Value> =
///     glueops_yaml::deserialize_stream("a: 1\n---\nb: 2\n", glueops_yaml::Limits::Config).unwrap();
/// assert_eq!(docs.len(), 2);
/// ```
pub fn deserialize_stream<T: serde::de::DeserializeOwned>(
    text: &str,
    limits: Limits,
) -> Result<Vec<T>, Error> {
    let mut options = options(limits);
    if let Some(budget) = options.budget.as_mut() {
        budget.max_documents = 1_000;
    }
    let docs: Vec<Option<T>> =
        serde_saphyr::from_multiple_with_options(text, options).map_err(|e| {
            let (line, column) = position(&e);
            Error::Syntax {
                line,
                column,
                message: tidy(&e.to_string()),
            }
        })?;
    Ok(docs.into_iter().flatten().collect())
}

/// Serializes `value` as one YAML document ending with a newline.
pub fn to_string<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    let mut text = String::with_capacity(1024);
    append(&mut text, value)?;
    Ok(text)
}

/// Appends `value` to `out` as one YAML document, as [`to_string`] writes it. On error, `out`
/// is left as it was.
pub fn append<T: serde::Serialize + ?Sized>(out: &mut String, value: &T) -> Result<(), Error> {
    let start = out.len();
    emit::append(out, value).map_err(|e| {
        out.truncate(start);
        Error::Emit {
            message: e.to_string(),
        }
    })
}

/// The 1-based line and column the parser reported, or zeros.
fn position(e: &serde_saphyr::Error) -> (u32, u32) {
    e.location()
        .map(|l| (clamp(l.line()), clamp(l.column())))
        .unwrap_or((0, 0))
}

fn clamp(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// The parser's message without its own position suffix (errors show the position) and
/// without advice about parser options that callers cannot set.
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
