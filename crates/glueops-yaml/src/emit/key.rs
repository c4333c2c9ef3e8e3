//! Map keys: written as plain or quoted strings by the same rules as values.

use serde::ser::{self, Serialize};

use super::{EmitError, write_str};

fn key_error() -> EmitError {
    EmitError("map keys must be strings, numbers or booleans".to_string())
}

/// Writes a map key: strings, numbers and booleans (the last two quoted, so they read back as
/// the string keys they are in YAML's data model for Kubernetes).
pub(super) struct KeyEmitter<'a>(pub(super) &'a mut String);

impl KeyEmitter<'_> {
    fn int(self, v: impl std::fmt::Display) -> Result<(), EmitError> {
        write_str(self.0, &v.to_string());
        Ok(())
    }
}

impl ser::Serializer for KeyEmitter<'_> {
    type Ok = ();
    type Error = EmitError;
    type SerializeSeq = ser::Impossible<(), EmitError>;
    type SerializeTuple = ser::Impossible<(), EmitError>;
    type SerializeTupleStruct = ser::Impossible<(), EmitError>;
    type SerializeTupleVariant = ser::Impossible<(), EmitError>;
    type SerializeMap = ser::Impossible<(), EmitError>;
    type SerializeStruct = ser::Impossible<(), EmitError>;
    type SerializeStructVariant = ser::Impossible<(), EmitError>;

    fn serialize_bool(self, v: bool) -> Result<(), EmitError> {
        write_str(self.0, if v { "true" } else { "false" });
        Ok(())
    }
    integers!();
    fn serialize_f32(self, _: f32) -> Result<(), EmitError> {
        Err(key_error())
    }
    fn serialize_f64(self, _: f64) -> Result<(), EmitError> {
        Err(key_error())
    }
    fn serialize_char(self, v: char) -> Result<(), EmitError> {
        write_str(self.0, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), EmitError> {
        write_str(self.0, v);
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), EmitError> {
        Err(key_error())
    }
    fn serialize_none(self) -> Result<(), EmitError> {
        Err(key_error())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), EmitError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), EmitError> {
        Err(key_error())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), EmitError> {
        Err(key_error())
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
        _: &'static str,
        _: &T,
    ) -> Result<(), EmitError> {
        Err(key_error())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, EmitError> {
        Err(key_error())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, EmitError> {
        Err(key_error())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, EmitError> {
        Err(key_error())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, EmitError> {
        Err(key_error())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, EmitError> {
        Err(key_error())
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, EmitError> {
        Err(key_error())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, EmitError> {
        Err(key_error())
    }
}
