//! The data a store holds: paths, values that never print, versions.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};

/// Where a secret lives: `<app>/<name>`, the GlueOps convention (`api/database`).
///
/// Both parts are lowercase DNS labels, so a path is also a valid Kubernetes Secret name, an
/// AWS Secrets Manager name and a Vault KV path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SecretPath {
    full: String,
    slash: usize,
}

impl SecretPath {
    /// Parses and checks a path.
    ///
    /// ```
    /// use glueops_secrets::SecretPath;
    /// let path: SecretPath = "api/database".parse()?;
    /// assert_eq!((path.app(), path.name()), ("api", "database"));
    /// assert!("api/Database".parse::<SecretPath>().is_err());
    /// # Ok::<(), glueops_secrets::Error>(())
    /// ```
    pub fn new(path: &str) -> Result<SecretPath> {
        let invalid = |reason: String| Error::InvalidPath {
            path: path.to_string(),
            reason,
        };
        let Some((app, name)) = path.split_once('/') else {
            return Err(invalid("it has no `/` between app and name".into()));
        };
        if name.contains('/') {
            return Err(invalid("it has more than two parts".into()));
        }
        for (what, part) in [("app", app), ("name", name)] {
            if let Some(reason) = label_problem(part) {
                return Err(invalid(format!("the {what} `{part}` {reason}")));
            }
        }
        Ok(SecretPath {
            full: path.to_string(),
            slash: app.len(),
        })
    }

    /// The app part.
    pub fn app(&self) -> &str {
        &self.full[..self.slash]
    }

    /// The name part.
    pub fn name(&self) -> &str {
        &self.full[self.slash + 1..]
    }

    /// The whole path, `<app>/<name>`.
    pub fn as_str(&self) -> &str {
        &self.full
    }
}

fn label_problem(part: &str) -> Option<&'static str> {
    if part.is_empty() {
        return Some("is empty");
    }
    if part.len() > 63 {
        return Some("is longer than 63 characters");
    }
    if !part
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Some("has characters other than a-z, 0-9 and '-'");
    }
    if part.starts_with('-') || part.ends_with('-') {
        return Some("starts or ends with '-'");
    }
    None
}

impl FromStr for SecretPath {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        SecretPath::new(s)
    }
}

impl fmt::Display for SecretPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

/// One secret value. `Debug` and `Display` print `[redacted]`; the memory is zeroized on drop.
/// Read it with [`SecretValue::expose`], only where the value is really needed.
#[derive(Clone)]
pub struct SecretValue(SecretString);

impl SecretValue {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> SecretValue {
        SecretValue(SecretString::from(value.into()))
    }

    /// The value in clear.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl From<String> for SecretValue {
    fn from(value: String) -> Self {
        SecretValue::new(value)
    }
}

impl From<&str> for SecretValue {
    fn from(value: &str) -> Self {
        SecretValue::new(value)
    }
}

impl PartialEq for SecretValue {
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        // Constant time in the contents (the length is not secret).
        bool::from(self.expose().as_bytes().ct_eq(other.expose().as_bytes()))
    }
}

impl Eq for SecretValue {}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The keys and values of one secret version, sorted by key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecretData(BTreeMap<String, SecretValue>);

impl SecretData {
    /// An empty map.
    pub fn new() -> SecretData {
        SecretData::default()
    }

    /// Sets `key` to `value`, returning the data for chaining.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<SecretValue>) -> SecretData {
        self.insert(key, value);
        self
    }

    /// Sets `key` to `value`.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<SecretValue>) {
        self.0.insert(key.into(), value.into());
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&SecretValue> {
        self.0.get(key)
    }

    /// Keys and values, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &SecretValue)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The keys, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no keys.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Checks the data can be stored at `path`: at least one key, and keys Kubernetes accepts.
    pub fn validate(&self, path: &SecretPath) -> Result<()> {
        if self.0.is_empty() {
            return Err(Error::EmptySecret {
                path: path.to_string(),
            });
        }
        for key in self.0.keys() {
            let ok = !key.is_empty()
                && key.len() <= 253
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !ok {
                return Err(Error::InvalidKey {
                    path: path.to_string(),
                    key: key.clone(),
                });
            }
        }
        Ok(())
    }
}

impl<K: Into<String>, V: Into<SecretValue>> FromIterator<(K, V)> for SecretData {
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        SecretData(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

/// A backend's name for one version of a secret: `"3"` in SOPS files and Vault, a UUID in AWS.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VersionId(String);

impl VersionId {
    /// Wraps a backend's version id.
    pub fn new(id: impl Into<String>) -> VersionId {
        VersionId(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VersionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for VersionId {
    fn from(value: &str) -> Self {
        VersionId::new(value)
    }
}

/// What a store knows about one version, without its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    /// The backend's id.
    pub id: VersionId,
    /// When it was written, if the backend records it.
    pub created: Option<jiff::Timestamp>,
    /// The backend's labels for it: AWS staging labels (`AWSCURRENT`, `AWSPREVIOUS`); empty
    /// for backends without labels.
    pub stages: Vec<String>,
}

/// One version of a secret, read from a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    /// Which secret.
    pub path: SecretPath,
    /// Which version.
    pub version: VersionId,
    /// Its keys and values.
    pub data: SecretData,
}

/// A value as a JSON backend or archive sends it, wrapped as soon as serde hands it over.
/// Strings are taken as they are; numbers and booleans (which `vault kv put` or the AWS
/// console can store) as their JSON text.
pub(crate) struct WireValue(pub SecretValue);

impl<'de> serde::Deserialize<'de> for WireValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Scalar;
        impl serde::de::Visitor<'_> for Scalar {
            type Value = WireValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_string<E: serde::de::Error>(
                self,
                v: String,
            ) -> std::result::Result<WireValue, E> {
                Ok(WireValue(SecretValue::new(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<WireValue, E> {
                Ok(WireValue(SecretValue::new(v)))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> std::result::Result<WireValue, E> {
                Ok(WireValue(SecretValue::new(v.to_string())))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<WireValue, E> {
                Ok(WireValue(SecretValue::new(v.to_string())))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<WireValue, E> {
                Ok(WireValue(SecretValue::new(v.to_string())))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<WireValue, E> {
                Ok(WireValue(SecretValue::new(v.to_string())))
            }
        }
        d.deserialize_any(Scalar)
    }
}

/// Serializes data as a JSON object of strings (for backends that take JSON).
#[cfg(any(feature = "aws", feature = "vault"))]
pub(crate) fn to_json(data: &SecretData) -> zeroize::Zeroizing<Vec<u8>> {
    let size: usize = data
        .iter()
        .map(|(k, v)| 6 * (k.len() + v.expose().len()) + 8)
        .sum();
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(size + 2));
    let map: BTreeMap<&str, &str> = data.iter().map(|(k, v)| (k, v.expose())).collect();
    // Writing a map of strings into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, &map);
    out
}

/// Parses a JSON object of scalars.
#[cfg(feature = "aws")]
pub(crate) fn from_json(text: &[u8]) -> std::result::Result<SecretData, String> {
    let map: BTreeMap<String, WireValue> = serde_json::from_slice(text).map_err(|e| {
        format!(
            "not a JSON object of strings (line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    Ok(map.into_iter().map(|(k, v)| (k, v.0)).collect())
}
