//! The journal of calls not yet made: one file per [`Call::key`] (written to a new file,
//! synced, renamed into place), a newer call of the same key replacing the older, a file
//! removed only once its call was applied and no newer call replaced it meanwhile. A crash
//! or `kill -9` leaves each file whole or absent; the next start delivers what is left.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::{Call, Error, Forge, Host};

/// Attempts at most before a call is given up (backoff doubles up to ten minutes: about
/// four hours of trying).
const MAX_ATTEMPTS: u32 = 30;
const MAX_BACKOFF: Duration = Duration::from_secs(600);
/// The file of notifications sent lately.
const SENT: &str = "notified";
/// Notifications remembered as sent.
const SENT_KEPT: usize = 1000;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    seq: u64,
    call: Call,
    #[serde(default)]
    attempts: u32,
    /// Unix seconds before which it is not tried again.
    #[serde(default)]
    not_before: i64,
}

/// What one [`Outbox::deliver`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Calls applied that changed the forge.
    pub delivered: usize,
    /// Calls applied that found the forge already as wanted.
    pub unchanged: usize,
    /// Calls given up (refused by the forge as invalid, or failing too long).
    pub dropped: usize,
    /// Calls still waiting (for a retry, or a host without a client).
    pub waiting: usize,
    /// When the earliest waiting call may be tried again.
    pub next_attempt: Option<Timestamp>,
}

/// A folder of calls waiting to be made.
#[derive(Debug)]
pub struct Outbox {
    dir: PathBuf,
    next: Mutex<u64>,
}

impl Outbox {
    /// The outbox in `dir` (created when missing), with the calls a previous run left.
    pub fn open(dir: &Path) -> Result<Outbox, Error> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        // A file never renamed into place: the `put` that wrote it did not return.
        for item in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if item.file_name().to_string_lossy().ends_with(".tmp") {
                let _ = std::fs::remove_file(item.path());
            }
        }
        let outbox = Outbox {
            dir: dir.to_path_buf(),
            next: Mutex::new(0),
        };
        let last = outbox.entries()?.iter().map(|(_, e)| e.seq).max();
        *outbox.next.lock().unwrap_or_else(|p| p.into_inner()) = last.map_or(0, |s| s + 1);
        Ok(outbox)
    }

    /// Calls waiting.
    pub fn len(&self) -> Result<usize, Error> {
        Ok(self.entries()?.len())
    }

    /// Whether no call waits.
    pub fn is_empty(&self) -> Result<bool, Error> {
        Ok(self.len()? == 0)
    }

    /// The calls waiting, oldest first.
    pub fn calls(&self) -> Result<Vec<Call>, Error> {
        Ok(self.entries()?.into_iter().map(|(_, e)| e.call).collect())
    }

    /// Journals `call` (synced before this returns), replacing a waiting call of the same
    /// key.
    pub fn put(&self, call: &Call) -> Result<(), Error> {
        // One lock for every change of a file: a put never races a removal or a retry.
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        let seq = *next;
        *next += 1;
        self.write(&Entry {
            seq,
            call: call.clone(),
            attempts: 0,
            not_before: 0,
        })
    }

    /// Applies every call that is due, oldest first; a call the forge refuses for now waits
    /// with a growing pause (at least what `Retry-After` or the rate-limit reset asks), and
    /// the other calls of that host wait for the next round.
    pub async fn deliver(&self, forge: &Forge, now: Timestamp) -> Result<Delivery, Error> {
        self.expand_notifications(forge)?;
        let mut report = Delivery::default();
        let mut resting: Vec<Option<Host>> = Vec::new();
        for (path, entry) in self.entries()? {
            let host = entry.call.host();
            if host.is_some_and(|h| !forge.serves(h)) {
                // For a run that has this host's client.
                report.waiting += 1;
                continue;
            }
            if entry.not_before > now.as_second() || resting.contains(&host) {
                report.waiting += 1;
                report.note_next(entry.not_before.max(now.as_second() + 1));
                continue;
            }
            let notification = matches!(entry.call, Call::Notify { .. });
            if notification && self.was_sent(&entry.call.key())? {
                self.remove_if_current(&path, entry.seq)?;
                report.unchanged += 1;
                continue;
            }
            match forge.apply(&entry.call).await {
                Ok(changed) => {
                    if notification && changed {
                        self.record_sent(entry.call.key())?;
                    }
                    self.remove_if_current(&path, entry.seq)?;
                    if changed {
                        report.delivered += 1;
                    } else {
                        report.unchanged += 1;
                    }
                }
                Err(e) if e.is_retryable() && entry.attempts + 1 < MAX_ATTEMPTS => {
                    let pause = backoff(entry.attempts).max(e.retry_after().unwrap_or_default());
                    if e.retry_after().is_some() {
                        resting.push(host);
                    }
                    let not_before =
                        now.as_second() + i64::try_from(pause.as_secs()).unwrap_or(600);
                    tracing::warn!(call = %entry.call.key(), error = %e, retry_in_s = pause.as_secs(), "feedback: the forge refused for now; kept and retried");
                    let retried = Entry {
                        attempts: entry.attempts + 1,
                        not_before,
                        ..entry
                    };
                    self.replace_if_current(&path, &retried)?;
                    report.waiting += 1;
                    report.note_next(not_before);
                }
                Err(e) => {
                    tracing::warn!(call = %entry.call.key(), error = %e, "feedback: given up");
                    self.remove_if_current(&path, entry.seq)?;
                    report.dropped += 1;
                }
            }
        }
        Ok(report)
    }

    fn sent_path(&self) -> PathBuf {
        self.dir.join(SENT)
    }

    /// The notifications sent lately (their keys), newest last.
    fn sent(&self) -> Result<Vec<String>, Error> {
        match std::fs::read(self.sent_path()) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| Error::Journal {
                path: self.sent_path(),
                source,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(source) => Err(Error::Io {
                path: self.sent_path(),
                source,
            }),
        }
    }

    fn was_sent(&self, key: &str) -> Result<bool, Error> {
        Ok(self.sent()?.iter().any(|k| k == key))
    }

    /// Remembers a notification sent (the last [`SENT_KEPT`]): an event told again (a
    /// restart, a replay) is not sent twice.
    fn record_sent(&self, key: String) -> Result<(), Error> {
        let _changing = self.next.lock().unwrap_or_else(|p| p.into_inner());
        let mut sent = self.sent()?;
        sent.push(key);
        let extra = sent.len().saturating_sub(SENT_KEPT);
        sent.drain(..extra);
        let bytes = serde_json::to_vec(&sent).map_err(|source| Error::Journal {
            path: self.sent_path(),
            source,
        })?;
        let tmp = self.dir.join(format!("{SENT}.tmp"));
        let _ = std::fs::remove_file(&tmp);
        replace_file(&tmp, &self.sent_path(), &bytes)
    }

    /// A notification for every endpoint becomes one call per endpoint.
    fn expand_notifications(&self, forge: &Forge) -> Result<(), Error> {
        for (path, entry) in self.entries()? {
            if let Call::Notify {
                event,
                endpoint: None,
            } = &entry.call
            {
                for target in forge.endpoints() {
                    self.put(&Call::Notify {
                        event: event.clone(),
                        endpoint: Some(target.id()),
                    })?;
                }
                self.remove_if_current(&path, entry.seq)?;
            }
        }
        Ok(())
    }

    fn path_of(&self, call: &Call) -> PathBuf {
        let digest = Sha256::digest(call.key().as_bytes());
        self.dir
            .join(format!("{}.json", hex::encode(&digest[..12])))
    }

    fn entries(&self) -> Result<Vec<(PathBuf, Entry)>, Error> {
        let io = |source| Error::Io {
            path: self.dir.clone(),
            source,
        };
        let mut out = Vec::new();
        for item in std::fs::read_dir(&self.dir).map_err(io)? {
            let item = item.map_err(io)?;
            let path = item.path();
            let name = item.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".json") || !item.file_type().map_err(io)?.is_file() {
                continue;
            }
            if let Some(entry) = read(&path)? {
                out.push((path, entry));
            }
        }
        out.sort_by_key(|(_, e)| e.seq);
        Ok(out)
    }

    fn write(&self, entry: &Entry) -> Result<(), Error> {
        let path = self.path_of(&entry.call);
        let tmp = path.with_extension(format!("{}.tmp", entry.seq));
        let bytes = serde_json::to_vec(entry).map_err(|source| Error::Journal {
            path: path.clone(),
            source,
        })?;
        replace_file(&tmp, &path, &bytes)?;
        if let Ok(dir) = std::fs::File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    fn remove_if_current(&self, path: &Path, seq: u64) -> Result<(), Error> {
        let _changing = self.next.lock().unwrap_or_else(|p| p.into_inner());
        if read(path)?.is_some_and(|e| e.seq == seq) {
            std::fs::remove_file(path).map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })?;
        }
        Ok(())
    }

    fn replace_if_current(&self, path: &Path, entry: &Entry) -> Result<(), Error> {
        let _changing = self.next.lock().unwrap_or_else(|p| p.into_inner());
        if read(path)?.is_some_and(|e| e.seq == entry.seq) {
            self.write(entry)?;
        }
        Ok(())
    }
}

impl Delivery {
    fn note_next(&mut self, not_before: i64) {
        if let Ok(at) = Timestamp::from_second(not_before) {
            self.next_attempt = Some(self.next_attempt.map_or(at, |n| n.min(at)));
        }
    }
}

/// Writes `bytes` to the new file `tmp` (never through a link someone left at that name),
/// syncs it, and renames it over `path`: `path` is whole before and after.
fn replace_file(tmp: &Path, path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write as _;
    let io = |source| Error::Io {
        path: tmp.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(tmp)
        .map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(tmp, path).map_err(io)
}

/// 1 s, 2 s, 4 s, … up to ten minutes.
fn backoff(attempts: u32) -> Duration {
    Duration::from_secs(1u64 << attempts.min(10)).min(MAX_BACKOFF)
}

fn read(path: &Path) -> Result<Option<Entry>, Error> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| Error::Journal {
                path: path.to_path_buf(),
                source,
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}
