//! Signing in as a GitHub App: a JWT (RS256, ten minutes at most) signed with the app's key
//! is exchanged for an installation token per repository owner, kept until shortly before it
//! expires.

use std::collections::BTreeMap;
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::Sha256;

use crate::Error;

/// A GitHub App: its id and signing key.
pub(crate) struct App {
    pub(crate) id: u64,
    key: rsa::pkcs1v15::SigningKey<Sha256>,
}

impl App {
    pub(crate) fn new(id: u64, pem: &SecretString) -> Result<App, Error> {
        let pem = pem.expose_secret().trim();
        let key = if pem.contains("BEGIN RSA PRIVATE KEY") {
            RsaPrivateKey::from_pkcs1_pem(pem).map_err(|e| Error::Key {
                reason: "not a PKCS#1 RSA key".into(),
                source: Some(Box::new(e)),
            })?
        } else if pem.contains("BEGIN PRIVATE KEY") {
            RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| Error::Key {
                reason: "not a PKCS#8 RSA key".into(),
                source: Some(Box::new(e)),
            })?
        } else {
            return Err(Error::Key {
                reason: "no `BEGIN RSA PRIVATE KEY` or `BEGIN PRIVATE KEY` block".into(),
                source: None,
            });
        };
        Ok(App {
            id,
            key: rsa::pkcs1v15::SigningKey::new(key),
        })
    }

    /// A JWT valid from a minute ago (clock drift) for nine minutes.
    pub(crate) fn jwt(&self, now: i64) -> SecretString {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let claims = serde_json::json!({
            "iat": now - 60,
            "exp": now + 540,
            "iss": self.id.to_string(),
        });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signed = format!("{header}.{claims}");
        let signature = self.key.sign(signed.as_bytes()).to_bytes();
        SecretString::from(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

/// Installation tokens by repository owner (lowercase), with when they expire.
#[derive(Default)]
pub(crate) struct Tokens {
    by_owner: Mutex<BTreeMap<String, (SecretString, i64)>>,
}

/// A token is used until five minutes before it expires.
const MARGIN: i64 = 300;

impl Tokens {
    pub(crate) fn get(&self, owner: &str, now: i64) -> Option<SecretString> {
        let map = self.by_owner.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&owner.to_ascii_lowercase())
            .filter(|(_, expires)| *expires - MARGIN > now)
            .map(|(t, _)| t.clone())
    }

    pub(crate) fn put(&self, owner: &str, token: SecretString, expires: i64) {
        self.by_owner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(owner.to_ascii_lowercase(), (token, expires));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_that_is_not_pem_is_refused_with_what_to_give() {
        let e = App::new(1, &SecretString::from("hello".to_string()))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("PEM file GitHub generated"), "{e}");
    }

    #[test]
    fn tokens_are_not_used_in_their_last_minutes() {
        let tokens = Tokens::default();
        tokens.put("Acme", SecretString::from("t".to_string()), 1000);
        assert!(tokens.get("acme", 600).is_some());
        assert!(tokens.get("acme", 701).is_none());
        assert!(tokens.get("other", 0).is_none());
    }
}
