//! [`Remote`]: a repository string parsed once at the boundary into what git may talk to.
//!
//! A string from a flag, an environment variable or a config file never reaches a git process
//! as it was given: it is parsed into one of the transports glueops allows (a local path,
//! `file://`, `http(s)://`, `ssh://`, `git://` or scp-like `user@host:path`), refused when it
//! could be read as an option or names another transport (`ext::`, `fd::`, a remote helper),
//! and its credentials are taken out of the URL: they reach git through a credential helper
//! reading this process's environment, never through arguments, and nothing glueops prints
//! shows them.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// How long a git process may run before it is killed, unless told otherwise.
pub const DEFAULT_GIT_TIMEOUT: Duration = Duration::from_secs(120);

/// The transports glueops lets git use (`GIT_ALLOW_PROTOCOL`): everything else, `ext::` and
/// `fd::` included, is refused by git itself too.
pub(crate) const ALLOWED_PROTOCOLS: &str = "file:git:http:https:ssh";

/// The transport a [`Remote`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A path on this machine.
    Path,
    /// `file://`.
    File,
    /// `http://`.
    Http,
    /// `https://`.
    Https,
    /// `ssh://` or scp-like `user@host:path`.
    Ssh,
    /// `git://` (the git daemon).
    Git,
}

/// A repository string that cannot be a remote, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{shown}` is not a repository glueops can use: it {reason}; give a path, or a file://, http(s)://, ssh://, git:// or user@host:path URL"
)]
pub struct RemoteError {
    /// The string as given, credentials redacted and control characters escaped.
    pub shown: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// A git remote: where `git fetch`/`git push` talk to, parsed and checked.
///
/// ```
/// use glueops_git::{Remote, Transport};
///
/// let remote = Remote::parse("https://x-access-token:ghp_secret@github.com/acme/manifests.git")?;
/// assert_eq!(remote.transport(), Transport::Https);
/// // What git is given, and what anything prints: no credentials.
/// assert_eq!(remote.url(), "https://github.com/acme/manifests.git");
/// assert_eq!(remote.to_string(), "https://github.com/acme/manifests.git");
/// assert!(!format!("{remote:?}").contains("ghp_secret"));
/// // An option is never a remote.
/// assert!(Remote::parse("--upload-pack=touch /tmp/pwned #://").is_err());
/// assert!(Remote::parse("ext::sh -c touch% /tmp/pwned").is_err());
/// # Ok::<(), glueops_git::RemoteError>(())
/// ```
#[derive(Clone)]
pub struct Remote {
    transport: Transport,
    /// What git is given: the URL without credentials, or the path.
    url: String,
    credentials: Option<Credentials>,
    timeout: Duration,
}

/// A user name and password (or token) taken out of an `http(s)://` URL.
#[derive(Clone)]
pub(crate) struct Credentials {
    pub(crate) username: String,
    pub(crate) password: SecretString,
}

impl fmt::Debug for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Remote")
            .field("transport", &self.transport)
            .field("url", &redact(&self.url))
            .field(
                "credentials",
                &self.credentials.as_ref().map(|_| "redacted"),
            )
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl fmt::Display for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.url))
    }
}

impl PartialEq for Remote {
    fn eq(&self, other: &Self) -> bool {
        self.transport == other.transport && self.url == other.url
    }
}

impl Eq for Remote {}

impl Remote {
    /// Parses a repository string. Local paths are taken as given (relative ones are
    /// relative to the process's working directory).
    pub fn parse(spec: &str) -> Result<Remote, RemoteError> {
        let refuse = |reason| {
            Err(RemoteError {
                shown: redact(spec).escape_debug().to_string(),
                reason,
            })
        };
        if spec.is_empty() {
            return refuse("is empty");
        }
        if spec.starts_with('-') {
            return refuse("starts with `-`, so git would read it as an option");
        }
        if spec.chars().any(char::is_control) {
            return refuse("contains a control character");
        }
        if let Some((scheme, rest)) = spec.split_once("://")
            && !scheme.contains('/')
        {
            return Remote::parse_url(scheme, rest, spec);
        }
        if let Some((transport, _)) = spec.split_once("::")
            && !transport.contains('/')
        {
            return refuse("names a `transport::address` remote helper (such as ext:: or fd::)");
        }
        // git's own rule: a colon before any slash makes it scp-like `[user@]host:path`.
        if let Some((host, path)) = spec.split_once(':')
            && !host.contains('/')
        {
            let bare_host = host.rsplit('@').next().unwrap_or(host);
            if bare_host.is_empty() || bare_host.starts_with('-') {
                return refuse("has an empty host, or one starting with `-`");
            }
            if path.is_empty() {
                return refuse("has no path after `host:`");
            }
            return Ok(Remote::new(Transport::Ssh, spec.to_string(), None));
        }
        Ok(Remote::new(Transport::Path, spec.to_string(), None))
    }

    fn parse_url(scheme: &str, rest: &str, spec: &str) -> Result<Remote, RemoteError> {
        let refuse = |reason| {
            Err(RemoteError {
                shown: redact(spec).escape_debug().to_string(),
                reason,
            })
        };
        let transport = match scheme.to_ascii_lowercase().as_str() {
            "file" => Transport::File,
            "http" => Transport::Http,
            "https" => Transport::Https,
            "ssh" | "git+ssh" | "ssh+git" => Transport::Ssh,
            "git" => Transport::Git,
            _ => return refuse("uses a scheme other than file, http, https, ssh or git"),
        };
        if transport == Transport::File {
            return Ok(Remote::new(transport, spec.to_string(), None));
        }
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let (userinfo, host) = match authority.rsplit_once('@') {
            Some((user, host)) => (Some(user), host),
            None => (None, authority),
        };
        if !valid_host(host) {
            return refuse("has no valid host (a name or [address], then an optional :port)");
        }
        if path.len() <= 1 {
            return refuse("has no repository path after the host");
        }
        let Some(userinfo) = userinfo else {
            return Ok(Remote::new(transport, spec.to_string(), None));
        };
        let (username, password) = match userinfo.split_once(':') {
            Some((user, password)) => (user, Some(password)),
            None => (userinfo, None),
        };
        if username.starts_with('-') {
            return refuse("has a user name starting with `-`");
        }
        match (transport, password) {
            // A token may stand alone as the user name (`https://<token>@host/...`): the
            // whole user info leaves the URL.
            (Transport::Http | Transport::Https, _) => Ok(Remote::new(
                transport,
                format!("{scheme}://{host}{path}"),
                Some(Credentials {
                    username: percent_decode(username),
                    password: SecretString::from(percent_decode(password.unwrap_or_default())),
                }),
            )),
            // A password in an ssh:// or git:// URL is never used by git: drop it.
            (_, Some(_)) => Ok(Remote::new(
                transport,
                format!("{scheme}://{username}@{host}{path}"),
                None,
            )),
            (_, None) => Ok(Remote::new(transport, spec.to_string(), None)),
        }
    }

    fn new(transport: Transport, url: String, credentials: Option<Credentials>) -> Remote {
        Remote {
            transport,
            url,
            credentials,
            timeout: DEFAULT_GIT_TIMEOUT,
        }
    }

    /// The same remote with every git process talking to it killed after `timeout`.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Remote {
        self.timeout = timeout;
        self
    }

    /// How long a git process talking to this remote may run.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The transport.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// What git is given, and what is shown: the URL without credentials, or the path.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether the remote is a path on this machine (relative paths still to be resolved).
    pub fn is_path(&self) -> bool {
        self.transport == Transport::Path
    }

    /// The same remote at another local path (a relative path made absolute).
    pub fn at_path(&self, path: PathBuf) -> Remote {
        Remote {
            url: path.to_string_lossy().into_owned(),
            ..self.clone()
        }
    }

    /// Whether credentials were taken out of the URL.
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// The environment a git process needs for this remote: the allowed transports, and
    /// the credential helper that answers with the credentials taken out of the URL (the
    /// helper's text holds no secret; the secret is in this variable list, never in
    /// arguments).
    pub(crate) fn environment(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![("GIT_ALLOW_PROTOCOL", ALLOWED_PROTOCOLS.to_string())];
        if let Some(c) = &self.credentials {
            env.extend([
                ("GIT_CONFIG_COUNT", "2".to_string()),
                // An empty helper first: no other configured helper answers for this remote.
                ("GIT_CONFIG_KEY_0", "credential.helper".to_string()),
                ("GIT_CONFIG_VALUE_0", String::new()),
                ("GIT_CONFIG_KEY_1", "credential.helper".to_string()),
                (
                    "GIT_CONFIG_VALUE_1",
                    "!f() { test \"$1\" = get && printf 'username=%s\\npassword=%s\\n' \"$GLUEOPS_GIT_USERNAME\" \"$GLUEOPS_GIT_PASSWORD\"; }; f"
                        .to_string(),
                ),
                ("GLUEOPS_GIT_USERNAME", c.username.clone()),
                ("GLUEOPS_GIT_PASSWORD", c.password.expose_secret().to_string()),
            ]);
        }
        env
    }
}

impl std::str::FromStr for Remote {
    type Err = RemoteError;

    fn from_str(s: &str) -> Result<Remote, RemoteError> {
        Remote::parse(s)
    }
}

/// `text` with the credentials of every URL in it replaced by `***`: the password of
/// `scheme://user:password@`, and the whole user info of `http(s)://user@` (a token may stand
/// alone there). For anything printed that may hold a URL: git's own messages, error chains.
///
/// ```
/// assert_eq!(
///     glueops_git::redact("fatal: unable to access 'https://x:tok@h/r.git/': 403"),
///     "fatal: unable to access 'https://***@h/r.git/': 403"
/// );
/// assert_eq!(glueops_git::redact("ssh://git:pw@h/r.git"), "ssh://git:***@h/r.git");
/// ```
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    // Every `//` starts an authority (so a URL inside another URL's path is found too).
    while let Some(at) = rest.find("//") {
        let (head, tail) = rest.split_at(at + 2);
        out.push_str(head);
        let end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || matches!(c, '\'' | '"' | '`' | '>'))
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        let scheme: String = head[..at]
            .strip_suffix(':')
            .unwrap_or_default()
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            .collect::<String>()
            .to_ascii_lowercase();
        let web = scheme == "ptth" || scheme == "sptth";
        match authority.rsplit_once('@') {
            Some((_, host)) if web => {
                out.push_str("***@");
                out.push_str(host);
            }
            Some((userinfo, host)) if userinfo.contains(':') => {
                let user = userinfo.split(':').next().unwrap_or_default();
                out.push_str(user);
                out.push_str(":***@");
                out.push_str(host);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// `name[:port]` or `[v6 address][:port]`; the name of letters, digits, `.`, `-` and `_`, not
/// starting with `-`.
fn valid_host(host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) if !name.ends_with(':') && !port.contains(']') => (name, Some(port)),
        _ => (host, None),
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let name_ok = if let Some(v6) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        !v6.is_empty()
            && v6
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    } else {
        !name.is_empty()
            && !name.starts_with('-')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    };
    port_ok && name_ok
}

/// Decodes `%XX` escapes (a token with `@` or `:` in a URL is written escaped).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_allowed_transport_parses() {
        for (spec, transport) in [
            ("/srv/git/acme.git", Transport::Path),
            ("relative/acme.git", Transport::Path),
            ("./-odd", Transport::Path),
            ("file:///srv/git/acme.git", Transport::File),
            ("http://127.0.0.1:8080/acme.git", Transport::Http),
            ("https://github.com/acme/x.git", Transport::Https),
            ("ssh://git@github.com/acme/x.git", Transport::Ssh),
            ("git@github.com:acme/x.git", Transport::Ssh),
            ("git://127.0.0.1:9418/acme.git", Transport::Git),
        ] {
            assert_eq!(
                Remote::parse(spec).map(|r| r.transport()),
                Ok(transport),
                "{spec}"
            );
        }
    }

    #[test]
    fn options_helpers_and_other_schemes_are_refused() {
        for spec in [
            "",
            "--upload-pack=touch /tmp/pwned #://",
            "-u",
            "ext::sh -c touch% /tmp/pwned",
            "fd::17",
            "foo::bar",
            "gopher://host/x.git",
            "ssh://-oProxyCommand=touch%20x/y",
            "-oProxyCommand=x:y",
            "host:",
            "https://host",
            "https://host/",
            "https://a\nb/x.git",
            "ssh://-u@host/x.git",
        ] {
            assert!(Remote::parse(spec).is_err(), "{spec:?}");
        }
    }

    #[test]
    fn credentials_leave_the_url_and_never_print() {
        let r = Remote::parse("https://x-access-token:s%40cret@github.com/a/b.git").unwrap();
        assert_eq!(r.url(), "https://github.com/a/b.git");
        assert!(r.has_credentials());
        let env = r.environment();
        assert!(env.contains(&("GLUEOPS_GIT_PASSWORD", "s@cret".into())));
        assert!(!format!("{r:?}{r}").contains("cret"));
        let err = Remote::parse("gopher://u:hunter2@h/x").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let ssh = Remote::parse("ssh://git:pw@host/x.git").unwrap();
        assert_eq!(ssh.url(), "ssh://git@host/x.git");
    }

    #[test]
    fn redact_hides_passwords_only() {
        assert_eq!(
            redact("push to https://u:tok@h/x.git and git@h:x, HTTP://tok@h/y"),
            "push to https://***@h/x.git and git@h:x, HTTP://***@h/y"
        );
        assert_eq!(redact("ssh://git@h/x"), "ssh://git@h/x");
        assert_eq!(redact("no url"), "no url");
    }
}
