//! age keys: who files and archives are encrypted for ([`Recipients`]), and what opens them
//! ([`Identities`]). X25519 keys in the usual text forms (`age1...`, `AGE-SECRET-KEY-1...`),
//! found where `sops` looks for them.

use std::io::{Read, Write};
use std::path::Path;
use std::str::FromStr;

use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Public age keys to encrypt for. Order is kept; duplicates are dropped.
#[derive(Clone)]
pub struct Recipients(Vec<(String, age::x25519::Recipient)>);

impl Recipients {
    /// Parses `age1...` keys.
    ///
    /// ```
    /// let keys = glueops_secrets::Recipients::parse(["age1jpvwlce2zpd56gry2cksmgqvvu90504s9qyz7fldmnkld8rm5p0qdg36ql"])?;
    /// assert_eq!(keys.len(), 1);
    /// # Ok::<(), glueops_secrets::Error>(())
    /// ```
    pub fn parse<S: AsRef<str>>(keys: impl IntoIterator<Item = S>) -> Result<Recipients> {
        let mut out: Vec<(String, age::x25519::Recipient)> = Vec::new();
        for key in keys {
            let key = key.as_ref().trim();
            if key.to_ascii_uppercase().starts_with("AGE-SECRET-KEY-") {
                // Never echoed: this is the private half.
                return Err(Error::InvalidAgeKey(
                    "a recipient is an age identity (a private key, `AGE-SECRET-KEY-...`), not its public key; give the `age1...` recipient (`age-keygen -y`) and keep the identity secret".into(),
                ));
            }
            let recipient = age::x25519::Recipient::from_str(key).map_err(|e| {
                Error::InvalidAgeKey(format!(
                    "`{}` is not an age X25519 recipient ({e}); expected `age1...`",
                    shown(key)
                ))
            })?;
            let text = recipient.to_string();
            if !out.iter().any(|(t, _)| *t == text) {
                out.push((text, recipient));
            }
        }
        if out.is_empty() {
            return Err(Error::InvalidAgeKey(
                "no recipients given; pass at least one `age1...` key".into(),
            ));
        }
        Ok(Recipients(out))
    }

    /// The keys as text, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(t, _)| t.as_str())
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never true for a parsed set; here for symmetry with `len`.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The keys as a sorted set, for comparing two recipient lists.
    pub(crate) fn sorted(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.keys().map(str::to_string).collect();
        keys.sort();
        keys
    }

    /// Encrypts `plain` for every recipient at once (one age file), optionally ASCII-armored.
    pub(crate) fn encrypt(&self, plain: &[u8], armor: bool) -> Result<Vec<u8>> {
        encrypt_for(self.0.iter().map(|(_, r)| r), plain, armor)
    }

    /// Encrypts `plain` for one recipient (SOPS stores one age file per recipient).
    pub(crate) fn encrypt_each(&self, plain: &[u8]) -> Result<Vec<(String, String)>> {
        self.0
            .iter()
            .map(|(text, r)| {
                let armored = encrypt_for(std::iter::once(r), plain, true)?;
                let armored =
                    String::from_utf8(armored).map_err(|_| Error::task("age armor is not text"))?;
                Ok((text.clone(), armored))
            })
            .collect()
    }
}

impl std::fmt::Debug for Recipients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.keys()).finish()
    }
}

fn encrypt_for<'a>(
    recipients: impl Iterator<Item = &'a age::x25519::Recipient>,
    plain: &[u8],
    armor: bool,
) -> Result<Vec<u8>> {
    let crypto = |e: std::io::Error| Error::task_from("age encryption failed", e);
    let encryptor = age::Encryptor::with_recipients(recipients.map(|r| r as &dyn age::Recipient))
        .map_err(|e| Error::task_from("age encryption failed", e))?;
    let mut out = Vec::with_capacity(plain.len() + 256);
    let format = if armor {
        age::armor::Format::AsciiArmor
    } else {
        age::armor::Format::Binary
    };
    let armored = age::armor::ArmoredWriter::wrap_output(&mut out, format).map_err(crypto)?;
    let mut writer = encryptor.wrap_output(armored).map_err(crypto)?;
    writer.write_all(plain).map_err(crypto)?;
    writer.finish().and_then(|a| a.finish()).map_err(crypto)?;
    Ok(out)
}

/// Private age keys that can open files. `Debug` shows only their public halves.
#[derive(Clone)]
pub struct Identities(Vec<age::x25519::Identity>);

impl Identities {
    /// Parses identity-file text: `AGE-SECRET-KEY-1...` lines; blank lines and `#` comments
    /// are skipped.
    pub fn parse(text: &str) -> Result<Identities> {
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let key = age::x25519::Identity::from_str(line).map_err(|_| {
                Error::InvalidAgeKey(format!(
                    "line {} is not an age X25519 identity (expected `AGE-SECRET-KEY-1...`)",
                    n + 1
                ))
            })?;
            keys.push(key);
        }
        if keys.is_empty() {
            return Err(Error::InvalidAgeKey(
                "no `AGE-SECRET-KEY-1...` line found in the identities given".into(),
            ));
        }
        Ok(Identities(keys))
    }

    /// Reads an identity file (as written by `age-keygen`).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Identities> {
        let path = path.as_ref();
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?);
        Identities::parse(&text)
    }

    /// Where `sops` looks: `SOPS_AGE_KEY` (the keys themselves), then `SOPS_AGE_KEY_FILE`,
    /// then `$XDG_CONFIG_HOME/sops/age/keys.txt` (or `~/.config/sops/age/keys.txt`).
    pub fn from_env() -> Result<Identities> {
        if let Ok(text) = std::env::var("SOPS_AGE_KEY") {
            return Identities::parse(&Zeroizing::new(text));
        }
        if let Some(file) = std::env::var_os("SOPS_AGE_KEY_FILE") {
            return Identities::from_file(file);
        }
        let config = std::env::var_os("XDG_CONFIG_HOME")
            .map(std::path::PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")));
        match config.map(|c| c.join("sops/age/keys.txt")) {
            Some(file) if file.exists() => Identities::from_file(file),
            _ => Err(Error::InvalidAgeKey(
                "no age identity found: set SOPS_AGE_KEY or SOPS_AGE_KEY_FILE, or create ~/.config/sops/age/keys.txt".into(),
            )),
        }
    }

    /// A new random key (what `age-keygen` makes).
    pub fn generate() -> Identities {
        Identities(vec![age::x25519::Identity::generate()])
    }

    /// Makes a new random key and writes it to a new identity file at `path`, readable only by
    /// its owner (mode 0600 on Unix), the way `age-keygen -o` does. An existing file is never
    /// overwritten: that would destroy the only copy of a private key.
    pub fn generate_to_file(path: impl AsRef<Path>) -> Result<Identities> {
        use std::io::Write;
        let path = path.as_ref();
        let key = Identities::generate();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(|e| Error::io(path, e))?;
        file.write_all(key.expose().as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::io(path, e))?;
        Ok(key)
    }

    /// The identities as identity-file text. Handle with care: these are private keys.
    pub fn expose(&self) -> Zeroizing<String> {
        let mut text = String::new();
        for key in &self.0 {
            text.push_str(key.to_string().expose_secret());
            text.push('\n');
        }
        Zeroizing::new(text)
    }

    /// The public halves, to encrypt for these identities.
    pub fn recipients(&self) -> Recipients {
        Recipients(
            self.0
                .iter()
                .map(|k| {
                    let r = k.to_public();
                    (r.to_string(), r)
                })
                .collect(),
        )
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never true for a parsed set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Decrypts an age file (armored or binary). `file` and `recipients` are for messages.
    pub(crate) fn decrypt(
        &self,
        encrypted: &[u8],
        file: &str,
        recipients: &str,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let tampered = |what: &str| Error::Tampered {
            file: file.to_string(),
            what: what.to_string(),
        };
        let reader = age::armor::ArmoredReader::new(encrypted);
        let decryptor = age::Decryptor::new(reader).map_err(|_| tampered("the age header"))?;
        let mut reader = decryptor
            .decrypt(self.0.iter().map(|k| k as &dyn age::Identity))
            .map_err(|e| match e {
                age::DecryptError::NoMatchingKeys => Error::WrongKey {
                    file: file.to_string(),
                    identities: self.0.len(),
                    recipients: recipients.to_string(),
                },
                _ => tampered("the age header"),
            })?;
        let mut plain = Zeroizing::new(Vec::new());
        reader
            .read_to_end(&mut plain)
            .map_err(|_| tampered("the age payload"))?;
        Ok(plain)
    }
}

impl std::fmt::Debug for Identities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|k| k.to_public().to_string()))
            .finish()
    }
}

/// A key that did not parse, as an error shows it: short ones whole, long ones by their
/// start (a mistyped secret pasted in the wrong place is not printed in full).
fn shown(key: &str) -> String {
    if key.chars().count() <= 12 {
        key.to_string()
    } else {
        format!("{}...", key.chars().take(8).collect::<String>())
    }
}
