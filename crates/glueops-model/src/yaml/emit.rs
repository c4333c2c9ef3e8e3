//! The YAML emitter: block style, keys in serialization order, two-space indent, list items at
//! their key's indent (kubectl's layout), and every string that a YAML 1.1 or 1.2 reader could
//! take for anything but a string (`yes`, `on`, `1.10`, `0x1F`, `2024-01-01`, `null`, ...)
//! double-quoted, so kubectl reads back exactly the value that was written.
//!
//! It replaces serde-saphyr's emitter for speed: that emitter took ~8 µs per Kubernetes object
//! and was the largest single cost of rendering a repo (measured in `cargo bench --bench render`).

use std::borrow::Cow;
use std::fmt::Write;

use serde::ser::{self, Serialize};

/// A serialized value, in serialization order.
enum Out {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Out>),
    Map(Vec<(Cow<'static, str>, Out)>),
}

/// An error from a `Serialize` implementation.
#[derive(Debug)]
pub(crate) struct EmitError(String);

impl std::fmt::Display for EmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EmitError {}

impl ser::Error for EmitError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        EmitError(msg.to_string())
    }
}

/// Serializes `value` as one YAML document ending with a newline.
pub(crate) fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, EmitError> {
    let out = value.serialize(ValueSerializer)?;
    let mut text = String::with_capacity(1024);
    match &out {
        Out::Map(entries) if !entries.is_empty() => write_map(&mut text, entries, 0),
        Out::Seq(items) if !items.is_empty() => write_seq(&mut text, items, 0),
        other => {
            write_scalar(&mut text, other);
            text.push('\n');
        }
    }
    Ok(text)
}

fn pad(text: &mut String, indent: usize) {
    for _ in 0..indent {
        text.push(' ');
    }
}

fn write_map(text: &mut String, entries: &[(Cow<'static, str>, Out)], indent: usize) {
    for (i, (key, value)) in entries.iter().enumerate() {
        if i > 0 {
            pad(text, indent);
        }
        write_str(text, key);
        text.push(':');
        write_value(text, value, indent + 2, indent);
    }
}

fn write_seq(text: &mut String, items: &[Out], indent: usize) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            pad(text, indent);
        }
        text.push('-');
        match item {
            Out::Map(entries) if !entries.is_empty() => {
                text.push(' ');
                write_map(text, entries, indent + 2);
            }
            Out::Seq(inner) if !inner.is_empty() => {
                text.push(' ');
                write_seq(text, inner, indent + 2);
            }
            other => {
                text.push(' ');
                write_scalar(text, other);
                text.push('\n');
            }
        }
    }
}

/// After `key:`: a scalar on the same line, or a nested block (maps indented, lists at the
/// key's own indent).
fn write_value(text: &mut String, value: &Out, map_indent: usize, key_indent: usize) {
    match value {
        Out::Map(entries) if !entries.is_empty() => {
            text.push('\n');
            pad(text, map_indent);
            write_map(text, entries, map_indent);
        }
        Out::Seq(items) if !items.is_empty() => {
            text.push('\n');
            pad(text, key_indent);
            write_seq(text, items, key_indent);
        }
        other => {
            text.push(' ');
            write_scalar(text, other);
            text.push('\n');
        }
    }
}

fn write_scalar(text: &mut String, value: &Out) {
    match value {
        Out::Null => text.push_str("null"),
        Out::Bool(b) => text.push_str(if *b { "true" } else { "false" }),
        Out::Int(i) => {
            let _ = write!(text, "{i}");
        }
        Out::Float(f) => write_float(text, *f),
        Out::Str(s) => write_str(text, s),
        Out::Seq(_) => text.push_str("[]"),
        Out::Map(_) => text.push_str("{}"),
    }
}

fn write_float(text: &mut String, f: f64) {
    if f.is_nan() {
        text.push_str(".nan");
    } else if f.is_infinite() {
        text.push_str(if f > 0.0 { ".inf" } else { "-.inf" });
    } else {
        let start = text.len();
        let _ = write!(text, "{f:?}");
        if !text[start..].contains(['.', 'e', 'E']) {
            text.push_str(".0");
        }
    }
}

fn write_str(text: &mut String, s: &str) {
    if is_plain_safe(s) {
        text.push_str(s);
    } else {
        text.push('"');
        for c in s.chars() {
            match c {
                '"' => text.push_str("\\\""),
                '\\' => text.push_str("\\\\"),
                '\n' => text.push_str("\\n"),
                '\t' => text.push_str("\\t"),
                '\r' => text.push_str("\\r"),
                c if (c as u32) < 0x20
                    || c == '\u{7f}'
                    || c == '\u{feff}'
                    || c == '\u{2028}'
                    || c == '\u{2029}'
                    || c == '\u{85}' =>
                {
                    let _ = write!(text, "\\u{:04x}", c as u32);
                }
                c => text.push(c),
            }
        }
        text.push('"');
    }
}

/// True when `s` can be written without quotes and every YAML 1.1 and 1.2 reader will still
/// read it as this exact string. Conservative: anything unusual gets quoted.
pub(crate) fn is_plain_safe(s: &str) -> bool {
    let bytes = s.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if !(first.is_ascii_alphanumeric() || first == b'/' || first == b'_')
        || last == b' '
        || last == b':'
    {
        return false;
    }
    let mut prev = 0u8;
    for &b in bytes {
        let ok = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'_' | b'.' | b'/' | b'@' | b'+' | b'=' | b' ' | b':'
            );
        if !ok || (prev == b':' && b == b' ') || (prev == b' ' && b == b' ') {
            return false;
        }
        prev = b;
    }
    if first.is_ascii_digit() || first == b'+' {
        // Numbers, YAML 1.1 sexagesimals, dates and timestamps, 0x/0o/0b literals.
        let numeric = bytes.iter().all(|b| {
            b.is_ascii_digit() || matches!(b, b'.' | b'_' | b':' | b'+' | b'-' | b'e' | b'E')
        });
        let radix = bytes.len() > 1
            && first == b'0'
            && matches!(bytes[1], b'x' | b'o' | b'b' | b'X' | b'O' | b'B');
        let date =
            bytes.len() >= 8 && bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'-';
        if numeric || radix || date {
            return false;
        }
    }
    s.len() > 5
        || ![
            "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf",
        ]
        .iter()
        .any(|w| s.eq_ignore_ascii_case(w))
}

struct ValueSerializer;

struct SeqBuilder(Vec<Out>);
struct MapBuilder {
    entries: Vec<(Cow<'static, str>, Out)>,
    key: Option<String>,
}
struct VariantBuilder {
    name: &'static str,
    inner: Out,
}

fn key_string(out: Out) -> Result<String, EmitError> {
    match out {
        Out::Str(s) => Ok(s),
        Out::Int(i) => Ok(i.to_string()),
        Out::Bool(b) => Ok(b.to_string()),
        _ => Err(EmitError(
            "map keys must be strings, numbers or booleans".to_string(),
        )),
    }
}

impl ser::Serializer for ValueSerializer {
    type Ok = Out;
    type Error = EmitError;
    type SerializeSeq = SeqBuilder;
    type SerializeTuple = SeqBuilder;
    type SerializeTupleStruct = SeqBuilder;
    type SerializeTupleVariant = VariantBuilder;
    type SerializeMap = MapBuilder;
    type SerializeStruct = MapBuilder;
    type SerializeStructVariant = VariantBuilder;

    fn serialize_bool(self, v: bool) -> Result<Out, EmitError> {
        Ok(Out::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Out, EmitError> {
        Ok(Out::Int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Out, EmitError> {
        Ok(Out::Int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Out, EmitError> {
        Ok(Out::Int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Out, EmitError> {
        Ok(Out::Int(v.into()))
    }
    fn serialize_i128(self, v: i128) -> Result<Out, EmitError> {
        Ok(Out::Int(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Out, EmitError> {
        Ok(Out::Int(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Out, EmitError> {
        Ok(Out::Int(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Out, EmitError> {
        Ok(Out::Int(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Out, EmitError> {
        Ok(Out::Int(v.into()))
    }
    fn serialize_f32(self, v: f32) -> Result<Out, EmitError> {
        Ok(Out::Float(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Out, EmitError> {
        Ok(Out::Float(v))
    }
    fn serialize_char(self, v: char) -> Result<Out, EmitError> {
        Ok(Out::Str(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Out, EmitError> {
        Ok(Out::Str(v.to_string()))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<Out, EmitError> {
        Err(EmitError(
            "binary values cannot be written as YAML here".to_string(),
        ))
    }
    fn serialize_none(self) -> Result<Out, EmitError> {
        Ok(Out::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Out, EmitError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Out, EmitError> {
        Ok(Out::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Out, EmitError> {
        Ok(Out::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Out, EmitError> {
        Ok(Out::Str(variant.to_string()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Out, EmitError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Out, EmitError> {
        Ok(Out::Map(vec![(
            Cow::Borrowed(variant),
            value.serialize(ValueSerializer)?,
        )]))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder, EmitError> {
        Ok(SeqBuilder(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder, EmitError> {
        Ok(SeqBuilder(Vec::with_capacity(len)))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqBuilder, EmitError> {
        Ok(SeqBuilder(Vec::with_capacity(len)))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantBuilder, EmitError> {
        Ok(VariantBuilder {
            name: variant,
            inner: Out::Seq(Vec::with_capacity(len)),
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapBuilder, EmitError> {
        Ok(MapBuilder {
            entries: Vec::with_capacity(len.unwrap_or(0)),
            key: None,
        })
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<MapBuilder, EmitError> {
        Ok(MapBuilder {
            entries: Vec::with_capacity(len),
            key: None,
        })
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantBuilder, EmitError> {
        Ok(VariantBuilder {
            name: variant,
            inner: Out::Map(Vec::with_capacity(len)),
        })
    }
}

impl ser::SerializeSeq for SeqBuilder {
    type Ok = Out;
    type Error = EmitError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EmitError> {
        self.0.push(value.serialize(ValueSerializer)?);
        Ok(())
    }
    fn end(self) -> Result<Out, EmitError> {
        Ok(Out::Seq(self.0))
    }
}

impl ser::SerializeTuple for SeqBuilder {
    type Ok = Out;
    type Error = EmitError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EmitError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Out, EmitError> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for SeqBuilder {
    type Ok = Out;
    type Error = EmitError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EmitError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Out, EmitError> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeMap for MapBuilder {
    type Ok = Out;
    type Error = EmitError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), EmitError> {
        self.key = Some(key_string(key.serialize(ValueSerializer)?)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EmitError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| EmitError("a map value came without its key".to_string()))?;
        self.entries
            .push((Cow::Owned(key), value.serialize(ValueSerializer)?));
        Ok(())
    }
    fn end(self) -> Result<Out, EmitError> {
        Ok(Out::Map(self.entries))
    }
}

impl ser::SerializeStruct for MapBuilder {
    type Ok = Out;
    type Error = EmitError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EmitError> {
        self.entries
            .push((Cow::Borrowed(key), value.serialize(ValueSerializer)?));
        Ok(())
    }
    fn end(self) -> Result<Out, EmitError> {
        Ok(Out::Map(self.entries))
    }
}

impl ser::SerializeTupleVariant for VariantBuilder {
    type Ok = Out;
    type Error = EmitError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EmitError> {
        if let Out::Seq(items) = &mut self.inner {
            items.push(value.serialize(ValueSerializer)?);
        }
        Ok(())
    }
    fn end(self) -> Result<Out, EmitError> {
        Ok(Out::Map(vec![(Cow::Borrowed(self.name), self.inner)]))
    }
}

impl ser::SerializeStructVariant for VariantBuilder {
    type Ok = Out;
    type Error = EmitError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EmitError> {
        if let Out::Map(entries) = &mut self.inner {
            entries.push((Cow::Borrowed(key), value.serialize(ValueSerializer)?));
        }
        Ok(())
    }
    fn end(self) -> Result<Out, EmitError> {
        Ok(Out::Map(vec![(Cow::Borrowed(self.name), self.inner)]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        for plain in [
            "api",
            "ghcr.io/acme/api",
            "app.kubernetes.io/name",
            "50m",
            "128Mi",
            "RollingUpdate",
            "a b",
            "http://x",
            "v1.2",
            "1h30m",
        ] {
            assert!(is_plain_safe(plain), "{plain} should be plain");
        }
        for quoted in [
            "",
            "yes",
            "No",
            "ON",
            "y",
            "null",
            "~",
            "1.10",
            "1.4.2",
            "0755",
            "1_000",
            "0x1F",
            "2024-01-01",
            "1:20",
            "-1",
            ".inf",
            "a: b",
            "a #b",
            "{x}",
            "*",
            " a",
            "a ",
            "a:",
            "'q'",
            "1e3",
            "+1",
        ] {
            assert!(!is_plain_safe(quoted), "{quoted} should be quoted");
        }
    }

    #[test]
    fn layout() {
        #[derive(serde::Serialize)]
        struct Doc {
            name: &'static str,
            list: Vec<std::collections::BTreeMap<&'static str, &'static str>>,
            empty: Vec<u8>,
            nested: std::collections::BTreeMap<&'static str, Vec<&'static str>>,
            f: f64,
        }
        let doc = Doc {
            name: "yes",
            list: vec![[("a", "1"), ("b", "x")].into_iter().collect()],
            empty: vec![],
            nested: [("k", vec!["p", "q"])].into_iter().collect(),
            f: 2.0,
        };
        assert_eq!(
            to_string(&doc).unwrap(),
            "name: \"yes\"\nlist:\n- a: \"1\"\n  b: x\nempty: []\nnested:\n  k:\n  - p\n  - q\nf: 2.0\n"
        );
    }
}
