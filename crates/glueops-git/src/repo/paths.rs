//! Paths inside a repository: checked before anything is written.

use crate::error::{Error, Result};

/// Splits a relative, `/`-separated path into components, checked by the rules every
/// [`glueops_files::Files`] path follows. An empty string is the root (no components).
pub(crate) fn components(path: &str) -> Result<Vec<&str>> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    glueops_files::check_path(path).map_err(|e| Error::InvalidPath {
        path: path.to_string(),
        reason: e.reason.to_string(),
    })?;
    Ok(path.split('/').collect())
}

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
            return Err(Error::InvalidPath {
                path: format!("{key}: {value}"),
                reason: "a trailer is `Key: value`, the key letters, digits and '-', the value one non-empty line".into(),
            });
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
