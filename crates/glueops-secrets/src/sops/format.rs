//! The SOPS file format (what `sops` 3.x reads and writes), for one Kubernetes Secret per file.
//!
//! - A random 256-bit data key encrypts each value with AES-256-GCM (32-byte IV), the value's
//!   key path (`stringData:password:`) as additional data, stored as
//!   `ENC[AES256_GCM,data:<b64>,iv:<b64>,tag:<b64>,type:str]`.
//! - The data key is age-encrypted once per recipient under `sops.age`.
//! - `sops.mac` is SHA-512 over every value in document order (encrypted or not), hex, then
//!   encrypted with the data key and `sops.lastmodified` as additional data. It catches a
//!   changed, added, removed or reordered value, including the unencrypted ones.

use aes_gcm::aead::consts::U32;
use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::{AeadInPlace, KeyInit, OsRng};
use aes_gcm::aes::Aes256;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::keys::{Identities, Recipients};
use crate::secret::{SecretData, SecretPath, SecretValue};
use glueops_yaml::Tree;

/// The `sops` release whose format this writes.
const SOPS_VERSION: &str = "3.11.0";
/// Keys whose values are encrypted (what Flux's docs recommend for Secrets).
pub(crate) const ENCRYPTED_REGEX: &str = "^(data|stringData)$";
/// Annotation holding the version number of the file.
pub(crate) const VERSION_ANNOTATION: &str = "secrets.glueops.dev/version";

type Gcm = aes_gcm::AesGcm<Aes256, U32>;
type DataKey = Zeroizing<[u8; 32]>;

/// A decrypted file.
pub(crate) struct Decoded {
    pub data: SecretData,
    pub version: Option<String>,
    pub recipients: Vec<String>,
}

/// The `sops.lastmodified` time of a file, read without decrypting it.
pub(crate) fn lastmodified(text: &str) -> Option<jiff::Timestamp> {
    let tree = glueops_yaml::parse(text).ok()?;
    tree.field("sops")?
        .field("lastmodified")?
        .text()?
        .parse()
        .ok()
}

/// Encrypts `data` as a Kubernetes Secret named after `path`, version `version`.
pub(crate) fn encode(
    path: &SecretPath,
    version: u64,
    data: &SecretData,
    recipients: &Recipients,
    now: jiff::Timestamp,
) -> Result<String> {
    let mut key: DataKey = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(&mut key[..]);
    let cipher = Gcm::new_from_slice(&key[..]).map_err(|_| Error::task("AES key"))?;
    let version = version.to_string();
    // Leaves in document order: (key path, value, encrypted?).
    let mut mac = Sha512::new();
    let plain_leaves: [&str; 8] = [
        "v1",
        "Secret",
        path.name(),
        path.app(),
        "glueops",
        path.as_str(),
        &version,
        "Opaque",
    ];
    for leaf in plain_leaves {
        mac.update(leaf.as_bytes());
    }
    let mut out = String::with_capacity(1024 + data.len() * 160);
    out.push_str("apiVersion: v1\nkind: Secret\nmetadata:\n");
    out.push_str(&format!("    name: {}\n", path.name()));
    out.push_str(&format!(
        "    labels:\n        app.kubernetes.io/name: {}\n        app.kubernetes.io/managed-by: glueops\n",
        path.app()
    ));
    out.push_str(&format!(
        "    annotations:\n        secrets.glueops.dev/path: {}\n        {VERSION_ANNOTATION}: {}\n",
        path.as_str(),
        quoted(&version)
    ));
    out.push_str("type: Opaque\nstringData:\n");
    for (k, v) in data.iter() {
        mac.update(v.expose().as_bytes());
        let aad = format!("stringData:{k}:");
        let enc = encrypt_value(&cipher, v.expose().as_bytes(), &aad)?;
        out.push_str(&format!("    {}: {enc}\n", quoted(k)));
    }
    let lastmodified = jiff::Timestamp::from_second(now.as_second())
        .map_err(|e| Error::task_from("clock", e))?
        .to_string();
    let digest = hex_upper(&mac.finalize());
    let mac = encrypt_value(&cipher, digest.as_bytes(), &lastmodified)?;
    out.push_str("sops:\n    age:\n");
    for (recipient, armored) in recipients.encrypt_each(&key[..])? {
        out.push_str(&format!(
            "        - recipient: {recipient}\n          enc: |\n"
        ));
        for line in armored.lines() {
            out.push_str("            ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str(&format!("    lastmodified: {}\n", quoted(&lastmodified)));
    out.push_str(&format!("    mac: {mac}\n"));
    out.push_str(&format!("    encrypted_regex: {ENCRYPTED_REGEX}\n"));
    out.push_str(&format!("    version: {SOPS_VERSION}\n"));
    Ok(out)
}

fn encrypt_value(cipher: &Gcm, plain: &[u8], aad: &str) -> Result<String> {
    if plain.is_empty() {
        // sops leaves empty values as they are.
        return Ok("\"\"".to_string());
    }
    let mut iv = [0u8; 32];
    OsRng.fill_bytes(&mut iv);
    let mut buffer = Zeroizing::new(plain.to_vec());
    let tag = cipher
        .encrypt_in_place_detached(&iv.into(), aad.as_bytes(), &mut buffer)
        .map_err(|_| Error::task("AES-GCM encryption failed"))?;
    Ok(format!(
        "ENC[AES256_GCM,data:{},iv:{},tag:{},type:str]",
        B64.encode(&*buffer),
        B64.encode(iv),
        B64.encode(tag)
    ))
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Which leaves a file encrypts, from its `sops` metadata.
enum Rule {
    EncryptedRegex(regex::Regex),
    UnencryptedRegex(regex::Regex),
    EncryptedSuffix(String),
    UnencryptedSuffix(String),
}

impl Rule {
    fn from_metadata(meta: &Tree, file: &str) -> Result<Rule> {
        let text = |k: &str| meta.field(k).and_then(Tree::text).filter(|s| !s.is_empty());
        let regex = |pattern: &str| {
            compiled(pattern).map_err(|e| Error::Format {
                file: file.to_string(),
                reason: format!("sops metadata has an invalid regex: {e}"),
            })
        };
        Ok(if let Some(p) = text("encrypted_regex") {
            Rule::EncryptedRegex(regex(p)?)
        } else if let Some(p) = text("unencrypted_regex") {
            Rule::UnencryptedRegex(regex(p)?)
        } else if let Some(s) = text("encrypted_suffix") {
            Rule::EncryptedSuffix(s.to_string())
        } else {
            Rule::UnencryptedSuffix(
                text("unencrypted_suffix")
                    .unwrap_or("_unencrypted")
                    .to_string(),
            )
        })
    }

    fn encrypts(&self, path: &[&str]) -> bool {
        match self {
            Rule::EncryptedRegex(re) => path.iter().any(|k| re.is_match(k)),
            Rule::UnencryptedRegex(re) => !path.iter().any(|k| re.is_match(k)),
            Rule::EncryptedSuffix(s) => path.iter().any(|k| k.ends_with(s.as_str())),
            Rule::UnencryptedSuffix(s) => !path.iter().any(|k| k.ends_with(s.as_str())),
        }
    }
}

/// A compiled regex, cached by pattern: every file of a folder carries the same one, and
/// compiling it per file would dominate a backup or rotation of thousands of files. The
/// cache is bounded (patterns come from files).
fn compiled(pattern: &str) -> std::result::Result<regex::Regex, regex::Error> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<String, regex::Regex>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(re) = cache.lock().ok().and_then(|c| c.get(pattern).cloned()) {
        return Ok(re);
    }
    let re = regex::Regex::new(pattern)?;
    if let Ok(mut c) = cache.lock()
        && c.len() < 64
    {
        c.insert(pattern.to_string(), re.clone());
    }
    Ok(re)
}

/// Walks the document in order, decrypting and hashing.
struct Walk<'a> {
    cipher: Gcm,
    rule: Rule,
    mac_only_encrypted: bool,
    mac: Sha512,
    file: &'a str,
    /// Cleartext of `stringData.*` and `data.*` leaves.
    secret_leaves: Vec<(String, String, Zeroizing<Vec<u8>>)>,
}

impl Walk<'_> {
    fn tampered(&self, what: String) -> Error {
        Error::Tampered {
            file: self.file.to_string(),
            what,
        }
    }

    fn node(&mut self, tree: &Tree, path: &mut Vec<String>) -> Result<()> {
        match tree {
            Tree::Map(entries) => {
                for (k, v) in entries {
                    if path.is_empty() && k == "sops" {
                        continue;
                    }
                    path.push(k.clone());
                    self.node(v, path)?;
                    path.pop();
                }
                Ok(())
            }
            Tree::List(items) => items.iter().try_for_each(|item| self.node(item, path)),
            leaf => self.leaf(leaf, path),
        }
    }

    fn leaf(&mut self, leaf: &Tree, path: &[String]) -> Result<()> {
        let keys: Vec<&str> = path.iter().map(String::as_str).collect();
        let encrypted = self.rule.encrypts(&keys);
        let plain: Zeroizing<Vec<u8>> = match (encrypted, leaf) {
            (true, Tree::Text(s)) if s.is_empty() => Zeroizing::new(Vec::new()),
            (true, Tree::Text(s)) => {
                let aad = format!("{}:", keys.join(":"));
                decrypt_value(&self.cipher, s, &aad).map_err(|what| {
                    self.tampered(format!("the value at `{}` ({what})", keys.join(".")))
                })?
            }
            (true, _) => {
                return Err(self.tampered(format!(
                    "the value at `{}` should be encrypted but is not",
                    keys.join(".")
                )));
            }
            (false, leaf) => Zeroizing::new(plain_bytes(leaf).into_bytes()),
        };
        if encrypted || !self.mac_only_encrypted {
            self.mac.update(&plain[..]);
        }
        if let [top @ ("stringData" | "data"), key] = keys.as_slice() {
            self.secret_leaves
                .push((top.to_string(), key.to_string(), plain));
        }
        Ok(())
    }
}

/// How sops turns an unencrypted value into bytes for the MAC.
fn plain_bytes(leaf: &Tree) -> String {
    match leaf {
        Tree::Text(s) => s.clone(),
        Tree::Int(i) => i.to_string(),
        Tree::Float(f) => f.to_string(),
        Tree::Bool(true) => "True".into(),
        Tree::Bool(false) => "False".into(),
        Tree::Null | Tree::Map(_) | Tree::List(_) => String::new(),
    }
}

/// Opens `ENC[AES256_GCM,...]`; the error says which part is wrong, never the value.
fn decrypt_value(
    cipher: &Gcm,
    text: &str,
    aad: &str,
) -> std::result::Result<Zeroizing<Vec<u8>>, String> {
    let inner = text
        .strip_prefix("ENC[AES256_GCM,")
        .and_then(|s| s.strip_suffix(']'))
        .ok_or("not in sops' ENC[AES256_GCM,...] form")?;
    let mut parts = [None::<&str>; 4];
    for field in inner.split(',') {
        let (name, value) = field.split_once(':').ok_or("malformed ENC[] field")?;
        let slot = match name {
            "data" => 0,
            "iv" => 1,
            "tag" => 2,
            "type" => 3,
            _ => return Err("unknown ENC[] field".into()),
        };
        parts[slot] = Some(value);
    }
    let field = |i: usize, name: &str| {
        let value = parts[i].ok_or(format!("no {name}"))?;
        B64.decode(value)
            .map_err(|_| format!("{name} is not base64"))
    };
    let mut data = Zeroizing::new(field(0, "data")?);
    let iv = field(1, "iv")?;
    let tag = field(2, "tag")?;
    if iv.len() != 32 {
        return Err("the IV is not 32 bytes".into());
    }
    if tag.len() != 16 {
        return Err("the tag is not 16 bytes".into());
    }
    cipher
        .decrypt_in_place_detached(
            aes_gcm::Nonce::<U32>::from_slice(&iv),
            aad.as_bytes(),
            &mut data,
            aes_gcm::Tag::from_slice(&tag),
        )
        .map_err(|_| "authentication failed: data, IV or tag changed".to_string())?;
    Ok(data)
}

/// Decrypts and verifies a SOPS-encrypted Kubernetes Secret.
pub(crate) fn decode(text: &str, file: &str, identities: &Identities) -> Result<Decoded> {
    let format = |reason: String| Error::Format {
        file: file.to_string(),
        reason,
    };
    let tree = glueops_yaml::parse(text).map_err(|source| Error::Yaml {
        file: file.to_string(),
        source,
    })?;
    let meta = tree
        .field("sops")
        .ok_or_else(|| format("not a SOPS-encrypted file (no `sops` metadata)".into()))?;
    let mut recipients = Vec::new();
    let mut armored = Vec::new();
    if let Some(Tree::List(entries)) = meta.field("age") {
        for entry in entries {
            if let (Some(r), Some(enc)) = (
                entry.field("recipient").and_then(Tree::text),
                entry.field("enc").and_then(Tree::text),
            ) {
                recipients.push(r.to_string());
                armored.push(enc);
            }
        }
    }
    if armored.is_empty() {
        return Err(format(
            "the data key is not encrypted for any age recipient (glueops reads age-encrypted sops files)".into(),
        ));
    }
    let key = data_key(&armored, identities, file, &recipients.join(", "))?;
    let cipher = Gcm::new_from_slice(&key[..]).map_err(|_| Error::task("AES key"))?;
    let lastmodified_text = meta
        .field("lastmodified")
        .and_then(Tree::text)
        .ok_or_else(|| format("sops metadata has no `lastmodified`".into()))?;
    let mut walk = Walk {
        cipher,
        rule: Rule::from_metadata(meta, file)?,
        mac_only_encrypted: matches!(meta.field("mac_only_encrypted"), Some(Tree::Bool(true))),
        mac: Sha512::new(),
        file,
        secret_leaves: Vec::new(),
    };
    walk.node(&tree, &mut Vec::new())?;
    let expected = meta
        .field("mac")
        .and_then(Tree::text)
        .ok_or_else(|| walk.tampered("the MAC (missing)".into()))?;
    let expected = decrypt_value(&walk.cipher, expected, lastmodified_text)
        .map_err(|what| walk.tampered(format!("the MAC ({what})")))?;
    let digest = hex_upper(&std::mem::take(&mut walk.mac).finalize());
    if expected.as_slice() != digest.as_bytes() {
        return Err(walk.tampered(
            "the MAC (a value, the last-modified time or the order of values changed)".into(),
        ));
    }
    let mut data = SecretData::new();
    for (top, key, plain) in std::mem::take(&mut walk.secret_leaves) {
        let bytes = if top == "data" {
            Zeroizing::new(B64.decode(&plain[..]).map_err(|_| {
                format(format!(
                    "`data.{key}` is not base64 (Secret `data` values must be)"
                ))
            })?)
        } else {
            plain
        };
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| format(format!("`{top}.{key}` is not UTF-8 text")))?;
        data.insert(key, SecretValue::new(text));
    }
    let version = tree
        .field("metadata")
        .and_then(|m| m.field("annotations"))
        .and_then(|a| a.field(VERSION_ANNOTATION))
        .and_then(Tree::text)
        .map(str::to_string);
    Ok(Decoded {
        data,
        version,
        recipients,
    })
}

/// The data key from the first age entry one of `identities` opens.
fn data_key(
    armored: &[&str],
    identities: &Identities,
    file: &str,
    recipients: &str,
) -> Result<DataKey> {
    let mut last = None;
    for enc in armored {
        match identities.decrypt(enc.as_bytes(), file, recipients) {
            Ok(plain) => {
                let key: [u8; 32] = plain.as_slice().try_into().map_err(|_| Error::Tampered {
                    file: file.to_string(),
                    what: "the data key (not 32 bytes)".into(),
                })?;
                return Ok(Zeroizing::new(key));
            }
            Err(e @ Error::WrongKey { .. }) => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::WrongKey {
        file: file.to_string(),
        identities: identities.len(),
        recipients: recipients.to_string(),
    }))
}

/// `text` as a double-quoted YAML scalar (JSON string syntax is valid YAML).
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_string())
}
