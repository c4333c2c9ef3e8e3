//! Commit trailers: `Key: value` lines in the last paragraph of a message.

use crate::error::{Error, Result};

/// A commit trailer, `Key: value` at the end of the message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Trailer {
    /// `Glueops-App`, `Glueops-Env`, `Glueops-Image-Tag`, ...
    pub key: String,
    /// The value.
    pub value: String,
}

impl Trailer {
    /// A trailer; the key must be letters, digits and `-`, the value one line.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Result<Trailer> {
        let (key, value) = (key.into(), value.into());
        let key_ok = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !key_ok || value.contains('\n') || value.trim().is_empty() {
            return Err(Error::InvalidTrailer { key, value });
        }
        Ok(Trailer { key, value })
    }
}

/// The trailers of a commit message: the last paragraph, when every line of it is `Key: value`.
pub(crate) fn parse_trailers(message: &str) -> Vec<Trailer> {
    let Some(last) = message.trim_end().rsplit("\n\n").next() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for line in last.lines() {
        let Some((key, value)) = line.split_once(": ") else {
            return Vec::new();
        };
        match Trailer::new(key, value.trim()) {
            Ok(t) => out.push(t),
            Err(_) => return Vec::new(),
        }
    }
    if out.len() == last.lines().count() && message.trim_end().contains("\n\n") {
        out
    } else {
        Vec::new()
    }
}
