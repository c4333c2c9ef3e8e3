//! Backups: every version of every secret in one age-encrypted archive, restorable into any
//! backend. The archive is verified in full (age authentication, format, manifest hashes,
//! paths, version order) before a single secret is written.
//!
//! Inside the encryption, an archive is one JSON document:
//! `{"format":"glueops-secrets-backup","format_version":1,"created":..,"source":..,
//!   "manifest":[{"path","version","source_version","sha256"}..], "entries":[{"path","version","data"}..]}`
//! where each manifest `sha256` is over the exact bytes of its entry.

mod dir;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::keys::{Identities, Recipients};
use crate::secret::{SecretData, SecretPath, VersionId, WireValue};
use crate::store::SecretStore;

pub use dir::BackupDir;

const FORMAT: &str = "glueops-secrets-backup";
const FORMAT_VERSION: u32 = 1;

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    /// Secrets (paths).
    pub secrets: usize,
    /// Versions, over all secrets.
    pub versions: usize,
    /// Size of the encrypted archive.
    pub bytes: usize,
}

#[derive(Serialize, Deserialize)]
struct ManifestEntry {
    path: String,
    version: u64,
    source_version: String,
    sha256: String,
}

#[derive(Serialize)]
struct EntryOut<'a> {
    path: &'a str,
    version: u64,
    data: BTreeMap<&'a str, &'a str>,
}

#[derive(Deserialize)]
struct EntryIn {
    path: String,
    version: u64,
    data: BTreeMap<String, WireValue>,
}

/// Everything of the document but its entries, which are appended as the exact bytes their
/// manifest hashes cover.
#[derive(Serialize)]
struct Header<'a> {
    format: &'a str,
    format_version: u32,
    created: String,
    source: &'a str,
    manifest: Vec<ManifestEntry>,
}

#[derive(Deserialize)]
struct DocumentIn<'a> {
    format: String,
    format_version: u32,
    created: String,
    source: String,
    manifest: Vec<ManifestEntry>,
    #[serde(borrow)]
    entries: Vec<&'a RawValue>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Reads every version of every secret in `store` and returns the archive bytes, encrypted
/// for `recipients`. Nothing is written anywhere; see [`BackupDir`] for files with retention.
pub async fn backup(
    store: &dyn SecretStore,
    recipients: &Recipients,
) -> Result<(Vec<u8>, BackupSummary)> {
    let mut manifest = Vec::new();
    let mut entries: Vec<Zeroizing<Vec<u8>>> = Vec::new();
    let paths = store.list("").await?;
    for path in &paths {
        let versions = store.versions(path).await?;
        for (n, info) in versions.iter().enumerate() {
            let secret = store.get(path, Some(&info.id)).await?;
            let version = n as u64 + 1;
            let out = EntryOut {
                path: path.as_str(),
                version,
                data: secret.data.iter().map(|(k, v)| (k, v.expose())).collect(),
            };
            // Sized for the worst case of JSON escaping, so the buffer never reallocates (a
            // reallocation would leave an unzeroized copy behind).
            let size: usize = secret
                .data
                .iter()
                .map(|(k, v)| 6 * (k.len() + v.expose().len()) + 8)
                .sum();
            let mut bytes = Zeroizing::new(Vec::with_capacity(size + path.as_str().len() + 64));
            serde_json::to_writer(&mut *bytes, &out).map_err(|e| Error::task_from("backup", e))?;
            manifest.push(ManifestEntry {
                path: path.to_string(),
                version,
                source_version: info.id.to_string(),
                sha256: sha256_hex(&bytes),
            });
            entries.push(bytes);
        }
    }
    let versions = manifest.len();
    let header = Header {
        format: FORMAT,
        format_version: FORMAT_VERSION,
        created: jiff::Timestamp::now().to_string(),
        source: store.backend(),
        manifest,
    };
    let total: usize = entries.iter().map(|e| e.len() + 1).sum::<usize>() + versions * 256 + 256;
    let mut plain = Zeroizing::new(Vec::with_capacity(total));
    serde_json::to_writer(&mut *plain, &header).map_err(|e| Error::task_from("backup", e))?;
    // `{...header...}` becomes `{...header...,"entries":[e1,e2,...]}`.
    plain.pop();
    plain.extend_from_slice(br#","entries":["#);
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            plain.push(b',');
        }
        plain.extend_from_slice(entry);
    }
    plain.extend_from_slice(b"]}");
    let encrypted = recipients.encrypt(&plain, false)?;
    let summary = BackupSummary {
        secrets: paths.len(),
        versions,
        bytes: encrypted.len(),
    };
    Ok((encrypted, summary))
}

/// A decrypted, fully verified archive, ready to [`restore`].
pub struct Archive {
    created: String,
    source: String,
    secrets: Vec<(SecretPath, Vec<(String, SecretData)>)>,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive")
            .field("created", &self.created)
            .field("source", &self.source)
            .field("secrets", &self.secrets.len())
            .field("versions", &self.versions())
            .finish()
    }
}

impl Archive {
    /// When the backup was taken (RFC 3339).
    pub fn created(&self) -> &str {
        &self.created
    }

    /// The backend it was taken from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The secrets it holds, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &SecretPath> {
        self.secrets.iter().map(|(p, _)| p)
    }

    /// The versions of one secret, oldest first: (version id in the source store, data).
    pub fn versions_of(&self, path: &SecretPath) -> Option<&[(String, SecretData)]> {
        self.secrets
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, v)| v.as_slice())
    }

    /// How many versions over all secrets.
    pub fn versions(&self) -> usize {
        self.secrets.iter().map(|(_, v)| v.len()).sum()
    }
}

/// Decrypts and verifies an archive. `name` is for messages (a file name).
pub fn verify(bytes: &[u8], identities: &Identities, name: &str) -> Result<Archive> {
    let bad = |reason: String| Error::Archive {
        archive: name.to_string(),
        reason,
    };
    let plain = identities
        .decrypt(bytes, name, "the backup recipients")
        .map_err(|e| match e {
            Error::WrongKey { .. } => bad("none of the identities given can decrypt it".into()),
            Error::Tampered { what, .. } => bad(format!(
                "{what} failed authentication (modified or truncated)"
            )),
            other => other,
        })?;
    let text = std::str::from_utf8(&plain).map_err(|_| bad("the content is not UTF-8".into()))?;
    let doc: DocumentIn<'_> = serde_json::from_str(text).map_err(|e| {
        bad(format!(
            "not a glueops backup (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    if doc.format != FORMAT || doc.format_version != FORMAT_VERSION {
        return Err(bad(format!(
            "format `{}` version {} (this build reads `{FORMAT}` version {FORMAT_VERSION})",
            doc.format, doc.format_version
        )));
    }
    if doc.manifest.len() != doc.entries.len() {
        return Err(bad(format!(
            "the manifest lists {} entries but the archive holds {}",
            doc.manifest.len(),
            doc.entries.len()
        )));
    }
    let mut secrets: Vec<(SecretPath, Vec<(String, SecretData)>)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, (listed, raw)) in doc.manifest.iter().zip(&doc.entries).enumerate() {
        if sha256_hex(raw.get().as_bytes()) != listed.sha256 {
            return Err(bad(format!(
                "entry {} ({} v{}) does not match its manifest hash",
                i + 1,
                listed.path,
                listed.version
            )));
        }
        let entry: EntryIn = serde_json::from_str(raw.get())
            .map_err(|_| bad(format!("entry {} is malformed", i + 1)))?;
        if entry.path != listed.path || entry.version != listed.version {
            return Err(bad(format!(
                "entry {} is not the one its manifest line names",
                i + 1
            )));
        }
        let path = SecretPath::new(&entry.path).map_err(|e| bad(e.to_string()))?;
        let data: SecretData = entry.data.into_iter().map(|(k, v)| (k, v.0)).collect();
        data.validate(&path).map_err(|e| bad(e.to_string()))?;
        match secrets.last_mut() {
            Some((last, versions)) if *last == path => {
                if entry.version != versions.len() as u64 + 1 {
                    return Err(bad(format!(
                        "{path}: versions out of order at entry {}",
                        i + 1
                    )));
                }
                versions.push((listed.source_version.clone(), data));
            }
            _ => {
                if entry.version != 1 || !seen.insert(path.clone()) {
                    return Err(bad(format!(
                        "{path}: versions out of order at entry {}",
                        i + 1
                    )));
                }
                secrets.push((path, vec![(listed.source_version.clone(), data)]));
            }
        }
    }
    Ok(Archive {
        created: doc.created,
        source: doc.source,
        secrets,
    })
}

/// What to do when the target store already holds a secret the archive has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnExisting {
    /// Refuse the whole restore before writing anything (the default).
    #[default]
    Fail,
    /// Add the archive's versions on top of the existing ones.
    AddVersions,
}

/// What a restore wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreSummary {
    /// Secrets written.
    pub secrets: usize,
    /// Versions written.
    pub versions: usize,
    /// For each secret, the new version ids, in the archive's order.
    pub written: Vec<(SecretPath, Vec<VersionId>)>,
}

/// Writes a verified archive into `store`: each secret's versions in order, so the newest
/// archived version becomes the newest in the store.
pub async fn restore(
    archive: &Archive,
    store: &dyn SecretStore,
    on_existing: OnExisting,
) -> Result<RestoreSummary> {
    if on_existing == OnExisting::Fail {
        let existing = store.list("").await?;
        let clashes: Vec<&SecretPath> = archive.paths().filter(|p| existing.contains(p)).collect();
        if let Some(first) = clashes.first() {
            return Err(Error::RestoreConflict {
                count: clashes.len(),
                first: first.to_string(),
            });
        }
    }
    let mut written = Vec::with_capacity(archive.secrets.len());
    for (path, versions) in &archive.secrets {
        let mut ids = Vec::with_capacity(versions.len());
        for (_, data) in versions {
            ids.push(store.put(path, data).await?);
        }
        written.push((path.clone(), ids));
    }
    Ok(RestoreSummary {
        secrets: written.len(),
        versions: archive.versions(),
        written,
    })
}
