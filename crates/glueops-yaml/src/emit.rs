//! The YAML emitter: block style, keys in serialization order, two-space indent, list items at
//! their key's indent (kubectl's layout), and every string that a YAML 1.1 or 1.2 reader could
//! take for anything but a string (`yes`, `on`, `1.10`, `0x1F`, `2024-01-01`, `null`, ...)
//! double-quoted, so kubectl reads back exactly the value that was written.
//!
//! It replaces serde-saphyr's emitter for speed: that emitter took ~8 µs per Kubernetes object
//! and was the largest single cost of rendering a repo (measured in `cargo bench --bench render`).

use std::fmt::Write;

use serde::ser::{self, Serialize};

/// An error from a `Serialize` implementation.
#[derive(Debug)]
pub(super) struct EmitError(String);

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
#[cfg(test)]
fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, EmitError> {
    let mut text = String::with_capacity(1024);
    append(&mut text, value)?;
    Ok(text)
}

/// Appends `value` to `text` as one YAML document ending with a newline. On error, `text`
/// may hold part of the document.
pub(super) fn append<T: Serialize + ?Sized>(text: &mut String, value: &T) -> Result<(), EmitError> {
    value.serialize(Emitter {
        text,
        slot: Slot::Top,
    })
}

fn pad(text: &mut String, indent: usize) {
    const SPACES: &str = "                                                                ";
    let mut left = indent;
    while left > 0 {
        let n = left.min(SPACES.len());
        text.push_str(&SPACES[..n]);
        left -= n;
    }
}

/// Where the value being serialized goes.
#[derive(Clone, Copy)]
enum Slot {
    /// The document itself.
    Top,
    /// After `key:`, the key written at this indent.
    Value(usize),
    /// After `-`, the dash written at this indent.
    Item(usize),
}

impl Slot {
    /// What goes before a scalar in this slot.
    fn scalar_prefix(self) -> &'static str {
        match self {
            Slot::Top => "",
            Slot::Value(_) | Slot::Item(_) => " ",
        }
    }

    /// A map (`seq == false`) or list (`seq == true`) starting in this slot. Maps nest two
    /// spaces under their key; lists stay at their key's indent (kubectl's layout); a block in
    /// a list item starts on the dash's line.
    fn block(self, text: &mut String, seq: bool) -> Block<'_> {
        let (indent, opener, pad_first) = match self {
            Slot::Top => (0, "", false),
            Slot::Value(key) if seq => (key, "\n", true),
            Slot::Value(key) => (key + 2, "\n", true),
            Slot::Item(dash) => (dash + 2, " ", false),
        };
        let empty = match (self, seq) {
            (Slot::Top, false) => "{}\n",
            (Slot::Top, true) => "[]\n",
            (_, false) => " {}\n",
            (_, true) => " []\n",
        };
        Block {
            text,
            indent,
            opener,
            pad_first,
            empty,
            count: 0,
        }
    }
}

/// A map or list being written: entries are written as they come, so nothing is buffered;
/// the opener is written with the first entry, `{}`/`[]` at the end when there was none.
struct Block<'a> {
    text: &'a mut String,
    indent: usize,
    opener: &'static str,
    pad_first: bool,
    empty: &'static str,
    count: usize,
}

impl Block<'_> {
    /// Starts the next entry: the opener or the indent.
    fn next(&mut self) {
        if self.count == 0 {
            self.text.push_str(self.opener);
            if self.pad_first {
                pad(self.text, self.indent);
            }
        } else {
            pad(self.text, self.indent);
        }
        self.count += 1;
    }

    /// Starts a map entry with a string key, up to its colon.
    fn key(&mut self, key: &str) {
        self.next();
        write_str(self.text, key);
        self.text.push(':');
    }

    /// Starts a list item, up to its dash.
    fn dash(&mut self) {
        self.next();
        self.text.push('-');
    }

    /// The value of the entry just started.
    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EmitError> {
        value.serialize(Emitter {
            text: self.text,
            slot: Slot::Value(self.indent),
        })
    }

    /// The list item just started.
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EmitError> {
        value.serialize(Emitter {
            text: self.text,
            slot: Slot::Item(self.indent),
        })
    }

    fn end(self) {
        if self.count == 0 {
            self.text.push_str(self.empty);
        }
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

/// The bytes a plain scalar may hold anywhere: letters, digits and `-_./@+= :`.
const PLAIN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'_' | b'.' | b'/' | b'@' | b'+' | b'=' | b' ' | b':'
            );
        b += 1;
    }
    table
};

/// True when `s` can be written without quotes and every YAML 1.1 and 1.2 reader will still
/// read it as this exact string. Conservative: anything unusual gets quoted.
fn is_plain_safe(s: &str) -> bool {
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
    if !bytes.iter().all(|&b| PLAIN[usize::from(b)]) {
        return false;
    }
    if bytes.contains(&b' ') && bytes.windows(2).any(|w| w == b": " || w == b"  ") {
        return false;
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

/// The integer methods of a `Serializer` whose `int` method writes any integer.
macro_rules! integers {
    () => {
        integers!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
            serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
            serialize_u64: u64);
    };
    ($($name:ident: $ty:ty),*) => {
        $(fn $name(self, v: $ty) -> Result<(), EmitError> {
            self.int(v)
        })*
    };
}

/// Serializes one value into its slot.
struct Emitter<'a> {
    text: &'a mut String,
    slot: Slot,
}

impl<'a> Emitter<'a> {
    fn scalar(self, write: impl FnOnce(&mut String)) -> Result<(), EmitError> {
        self.text.push_str(self.slot.scalar_prefix());
        write(self.text);
        self.text.push('\n');
        Ok(())
    }

    fn int(self, v: impl std::fmt::Display) -> Result<(), EmitError> {
        self.scalar(|t| {
            let _ = write!(t, "{v}");
        })
    }

    /// Starts a map with one entry `variant:`; its value goes in the returned slot.
    fn variant(self, variant: &str) -> (&'a mut String, Slot) {
        let mut outer = self.slot.block(self.text, false);
        outer.key(variant);
        let slot = Slot::Value(outer.indent);
        (outer.text, slot)
    }
}

mod key;
use key::KeyEmitter;

/// A map or struct being written.
struct MapWriter<'a>(Block<'a>);
/// A list or tuple being written.
struct SeqWriter<'a>(Block<'a>);

impl<'a> ser::Serializer for Emitter<'a> {
    type Ok = ();
    type Error = EmitError;
    type SerializeSeq = SeqWriter<'a>;
    type SerializeTuple = SeqWriter<'a>;
    type SerializeTupleStruct = SeqWriter<'a>;
    type SerializeTupleVariant = SeqWriter<'a>;
    type SerializeMap = MapWriter<'a>;
    type SerializeStruct = MapWriter<'a>;
    type SerializeStructVariant = MapWriter<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), EmitError> {
        self.scalar(|t| t.push_str(if v { "true" } else { "false" }))
    }
    integers!();
    fn serialize_f32(self, v: f32) -> Result<(), EmitError> {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> Result<(), EmitError> {
        self.scalar(|t| write_float(t, v))
    }
    fn serialize_char(self, v: char) -> Result<(), EmitError> {
        self.scalar(|t| write_str(t, v.encode_utf8(&mut [0; 4])))
    }
    fn serialize_str(self, v: &str) -> Result<(), EmitError> {
        self.scalar(|t| write_str(t, v))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), EmitError> {
        Err(EmitError(
            "binary values cannot be written as YAML here".to_string(),
        ))
    }
    fn serialize_none(self) -> Result<(), EmitError> {
        self.scalar(|t| t.push_str("null"))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), EmitError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), EmitError> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), EmitError> {
        self.serialize_none()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), EmitError> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), EmitError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), EmitError> {
        let (text, slot) = self.variant(variant);
        value.serialize(Emitter { text, slot })
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<SeqWriter<'a>, EmitError> {
        Ok(SeqWriter(self.slot.block(self.text, true)))
    }
    fn serialize_tuple(self, _: usize) -> Result<SeqWriter<'a>, EmitError> {
        self.serialize_seq(None)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<SeqWriter<'a>, EmitError> {
        self.serialize_seq(None)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<SeqWriter<'a>, EmitError> {
        let (text, slot) = self.variant(variant);
        Ok(SeqWriter(slot.block(text, true)))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<MapWriter<'a>, EmitError> {
        Ok(MapWriter(self.slot.block(self.text, false)))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<MapWriter<'a>, EmitError> {
        self.serialize_map(None)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<MapWriter<'a>, EmitError> {
        let (text, slot) = self.variant(variant);
        Ok(MapWriter(slot.block(text, false)))
    }
}

impl ser::SerializeSeq for SeqWriter<'_> {
    type Ok = ();
    type Error = EmitError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EmitError> {
        self.0.dash();
        self.0.item(value)
    }
    fn end(self) -> Result<(), EmitError> {
        self.0.end();
        Ok(())
    }
}

impl ser::SerializeTuple for SeqWriter<'_> {
    type Ok = ();
    type Error = EmitError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EmitError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<(), EmitError> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for SeqWriter<'_> {
    type Ok = ();
    type Error = EmitError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EmitError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<(), EmitError> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleVariant for SeqWriter<'_> {
    type Ok = ();
    type Error = EmitError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EmitError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<(), EmitError> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeMap for MapWriter<'_> {
    type Ok = ();
    type Error = EmitError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), EmitError> {
        self.0.next();
        key.serialize(KeyEmitter(self.0.text))?;
        self.0.text.push(':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EmitError> {
        self.0.value(value)
    }
    fn end(self) -> Result<(), EmitError> {
        self.0.end();
        Ok(())
    }
}

impl ser::SerializeStruct for MapWriter<'_> {
    type Ok = ();
    type Error = EmitError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EmitError> {
        self.0.key(key);
        self.0.value(value)
    }
    fn end(self) -> Result<(), EmitError> {
        self.0.end();
        Ok(())
    }
}

impl ser::SerializeStructVariant for MapWriter<'_> {
    type Ok = ();
    type Error = EmitError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EmitError> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }
    fn end(self) -> Result<(), EmitError> {
        ser::SerializeStruct::end(self)
    }
}

#[cfg(test)]
mod tests;
