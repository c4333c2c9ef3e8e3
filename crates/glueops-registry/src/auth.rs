//! Credentials (a Docker `config.json`) and the registry's `WWW-Authenticate` challenge:
//! `Basic` answers with the credentials, `Bearer` fetches a token for the repository's scope
//! from the realm the registry names.

use std::collections::BTreeMap;

use base64::Engine as _;
use secrecy::{ExposeSecret as _, SecretString};

use crate::Error;

/// A user name and its password (or token) for one registry.
#[derive(Clone)]
pub struct Credential {
    /// The user name (`AWS` for ECR, `oauth2accesstoken`, a robot account, ...).
    pub username: String,
    /// The password or token.
    pub password: SecretString,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// Credentials by registry host.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    by_host: BTreeMap<String, Credential>,
}

impl Credentials {
    /// The `auths` of a Docker `config.json` (`docker login` writes it): per registry either
    /// `auth` (base64 of `user:password`) or `username` and `password`. Keys may be URLs
    /// (`https://index.docker.io/v1/`); credential helpers (`credsStore`, `credHelpers`) are
    /// not run.
    ///
    /// ```
    /// let creds = glueops_registry::Credentials::from_docker_config(
    ///     br#"{"auths": {"ghcr.io": {"auth": "Ym90OnNlY3JldA=="}}}"#,
    /// )?;
    /// assert_eq!(creds.get("ghcr.io").map(|c| c.username.as_str()), Some("bot"));
    /// # Ok::<(), glueops_registry::Error>(())
    /// ```
    pub fn from_docker_config(bytes: &[u8]) -> Result<Credentials, Error> {
        #[derive(serde::Deserialize)]
        struct File {
            #[serde(default)]
            auths: BTreeMap<String, Entry>,
        }
        #[derive(serde::Deserialize)]
        struct Entry {
            auth: Option<String>,
            username: Option<String>,
            password: Option<String>,
        }
        let file: File = serde_json::from_slice(bytes).map_err(|e| Error::Credentials {
            // serde_json's message names a line and column, never the value.
            reason: format!("it is not a Docker config.json: {e}"),
        })?;
        let mut creds = Credentials::default();
        for (key, entry) in file.auths {
            let host = host_of(&key);
            let (username, password) = match (entry.auth, entry.username, entry.password) {
                (Some(auth), _, _) => {
                    let decoded = base64::engine::general_purpose::STANDARD
                        .decode(auth.trim())
                        .ok()
                        .and_then(|b| String::from_utf8(b).ok())
                        .ok_or_else(|| Error::Credentials {
                            reason: format!(
                                "the `auth` of `{host}` is not base64 of user:password"
                            ),
                        })?;
                    let (u, p) = decoded.split_once(':').ok_or_else(|| Error::Credentials {
                        reason: format!("the `auth` of `{host}` is not base64 of user:password"),
                    })?;
                    (u.to_string(), p.to_string())
                }
                (None, Some(u), Some(p)) => (u, p),
                _ => continue,
            };
            creds.insert(&host, username, SecretString::from(password));
        }
        Ok(creds)
    }

    /// Adds (or replaces) the credential of `host`.
    pub fn insert(&mut self, host: &str, username: String, password: SecretString) {
        self.by_host
            .insert(host_of(host), Credential { username, password });
    }

    /// The credential of `host` (`docker.io` for Docker Hub).
    pub fn get(&self, host: &str) -> Option<&Credential> {
        self.by_host.get(&host_of(host))
    }
}

/// `https://index.docker.io/v1/` → `docker.io`; `ghcr.io` → `ghcr.io`.
fn host_of(key: &str) -> String {
    let key = key.trim();
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = key.split('/').next().unwrap_or(key).to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".into(),
        _ => host,
    }
}

/// A `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    /// Send the credentials.
    Basic,
    /// Fetch a token from `realm` for `service` and `scope`.
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// Reads `Basic realm="…"` or `Bearer realm="…",service="…",scope="…"`.
pub(crate) fn challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params: BTreeMap<String, String> = BTreeMap::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let after = after.trim_start();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            after.split_once(',').map_or((after, ""), |(v, n)| (v, n))
        };
        params.insert(key.trim().to_ascii_lowercase(), value.to_string());
        rest = next.trim_start().trim_start_matches(',').trim_start();
    }
    if scheme.eq_ignore_ascii_case("basic") {
        Some(Challenge::Basic)
    } else if scheme.eq_ignore_ascii_case("bearer") {
        Some(Challenge::Bearer {
            realm: params.remove("realm")?,
            service: params.remove("service"),
            scope: params.remove("scope"),
        })
    } else {
        None
    }
}

/// `Basic <base64 user:password>`.
pub(crate) fn basic(credential: &Credential) -> SecretString {
    let pair = format!(
        "{}:{}",
        credential.username,
        credential.password.expose_secret()
    );
    SecretString::from(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_of_the_big_registries_are_read() {
        assert_eq!(
            challenge(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/nginx:pull".into()),
            })
        );
        assert_eq!(
            challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(challenge("Negotiate"), None);
        assert_eq!(challenge(r#"Bearer service="x""#), None, "no realm");
    }

    #[test]
    fn docker_config_entries_are_read_and_never_printed() {
        let c = Credentials::from_docker_config(
            br#"{"auths": {"https://index.docker.io/v1/": {"auth": "dXNlcjpodW50ZXIy"},
                          "quay.io": {"username": "robot", "password": "s3cr3t"},
                          "helper.io": {}}, "credsStore": "desktop"}"#,
        )
        .unwrap();
        let hub = c.get("docker.io").unwrap();
        assert_eq!(hub.username, "user");
        assert_eq!(hub.password.expose_secret(), "hunter2");
        assert_eq!(c.get("quay.io").unwrap().username, "robot");
        assert!(c.get("helper.io").is_none());
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("s3cr3t"),
            "{shown}"
        );
        let bad =
            Credentials::from_docker_config(br#"{"auths": {"x.io": {"auth": "bm9jb2xvbg=="}}}"#)
                .unwrap_err()
                .to_string();
        assert!(bad.contains("x.io") && !bad.contains("nocolon"), "{bad}");
    }
}
