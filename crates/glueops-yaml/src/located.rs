//! [`Located`]: a document where every node knows where it was written.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::{Error, clamp};

/// Where a node was written: 1-based line and column of its first character, and its bytes.
///
/// For a scalar, `start..end` are the bytes as written, quotes included, so replacing
/// `text[start..end]` changes that value and nothing else. For a map or a list, `start` is
/// where it begins and `end` is `start` (the parser reports no end for collections).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Span {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset just past the last byte.
    pub end: usize,
}

impl Span {
    fn of(l: &serde_saphyr::Location) -> Span {
        let span = l.span();
        let start = span.byte_offset().map_or(0, to_usize);
        let len = span.byte_len().map_or(0, to_usize);
        Span {
            line: clamp(l.line()),
            column: clamp(l.column()),
            start,
            end: start + len,
        }
    }
}

fn to_usize(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// One node and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    /// The value.
    pub value: Value,
    /// Where it was written.
    pub span: Span,
}

impl Located {
    /// The value under `key`, for a map.
    pub fn get(&self, key: &str) -> Option<&Located> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key).map(|e| &e.value),
            _ => None,
        }
    }
}

/// A map entry: its key, where the key was written, and the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key, as text.
    pub key: String,
    /// Where the key was written.
    pub key_span: Span,
    /// The value.
    pub value: Located,
}

/// The value of a [`Located`] node.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`, `~` or empty.
    Null,
    /// `true` or `false` (never `yes`/`no`).
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float (integers beyond `i64` too).
    Float(f64),
    /// A string.
    String(String),
    /// A sequence.
    List(Vec<Located>),
    /// A mapping, in document order.
    Map(Vec<Entry>),
}

/// Parses one document into a located tree; `None` for an empty document (or one holding only
/// comments). Map keys must be strings. A key written twice in one map is an error unless
/// both values are the same (Helm keeps the last silently; an identical repeat loses nothing,
/// a different one would).
pub fn parse_located(text: &str) -> Result<Option<Located>, Error> {
    let parsed: Option<Spanned<Raw>> = crate::deserialize_repeats(text)?;
    if let Some(raw) = &parsed {
        repeats(raw)?;
    }
    Ok(parsed.map(Spanned::<Raw>::into_located))
}

/// A key written twice in one map with two different values is an error at the second.
fn repeats(raw: &Spanned<Raw>) -> Result<(), Error> {
    match &raw.value {
        Raw::List(items) => items.iter().try_for_each(repeats),
        Raw::Map(entries) => {
            for (n, (key, value)) in entries.iter().enumerate() {
                let earlier = entries[..n].iter().find(|(k, _)| k.value == key.value);
                if let Some((_, first)) = earlier
                    && !same(&first.value, &value.value)
                {
                    let span = Span::of(&key.referenced);
                    return Err(Error::Syntax {
                        line: span.line,
                        column: span.column,
                        message: format!(
                            "duplicate mapping key: {} (with a different value)",
                            key.value
                        ),
                    });
                }
                repeats(value)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Whether two parsed values are the same, wherever they were written.
fn same(a: &Raw, b: &Raw) -> bool {
    match (a, b) {
        (Raw::Null, Raw::Null) => true,
        (Raw::Bool(x), Raw::Bool(y)) => x == y,
        (Raw::Int(x), Raw::Int(y)) => x == y,
        (Raw::Float(x), Raw::Float(y)) => x.to_bits() == y.to_bits(),
        (Raw::String(x), Raw::String(y)) => x == y,
        (Raw::List(x), Raw::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(&a.value, &b.value))
        }
        (Raw::Map(x), Raw::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka.value == kb.value && same(&va.value, &vb.value))
        }
        _ => false,
    }
}

/// The tree as the parser hands it over.
enum Raw {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    List(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<String>, Spanned<Raw>)>),
}

trait IntoLocated {
    fn into_located(self) -> Located;
}

impl IntoLocated for Spanned<Raw> {
    fn into_located(self) -> Located {
        let value = match self.value {
            Raw::Null => Value::Null,
            Raw::Bool(b) => Value::Bool(b),
            Raw::Int(i) => Value::Int(i),
            Raw::Float(f) => Value::Float(f),
            Raw::String(s) => Value::String(s),
            Raw::List(items) => Value::List(items.into_iter().map(|i| i.into_located()).collect()),
            Raw::Map(mut entries) => Value::Map({
                // An identical repeat (checked by `repeats`) is the same key: keep the first.
                let mut seen = std::collections::BTreeSet::new();
                entries.retain(|(key, _)| seen.insert(key.value.clone()));
                entries
                    .into_iter()
                    .map(|(key, value)| Entry {
                        key_span: Span::of(&key.referenced),
                        key: key.value,
                        value: value.into_located(),
                    })
                    .collect()
            }),
        };
        Located {
            value,
            span: Span::of(&self.referenced),
        }
    }
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
