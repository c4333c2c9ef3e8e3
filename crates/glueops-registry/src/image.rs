//! An image repository on a registry, checked before any of it reaches a URL.

use std::fmt;

use crate::Error;

/// A repository on a registry, e.g. `ghcr.io/acme/api` (Docker Hub's `nginx` is
/// `docker.io/library/nginx`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Image {
    registry: String,
    repository: String,
}

impl Image {
    /// The image `repository` on `registry` (`None`: `docker.io`, as the chart assumes).
    /// The registry is a host with an optional port; the repository is lowercase path
    /// components of letters, digits, `.`, `_` and `-`.
    ///
    /// ```
    /// use glueops_registry::Image;
    /// let hub = Image::new(None, "nginx")?;
    /// assert_eq!(hub.to_string(), "docker.io/library/nginx");
    /// assert!(Image::new(Some("ghcr.io"), "../etc").is_err());
    /// # Ok::<(), glueops_registry::Error>(())
    /// ```
    pub fn new(registry: Option<&str>, repository: &str) -> Result<Image, Error> {
        let registry = registry.map_or("docker.io", str::trim);
        let refuse = |reason: &str| Error::Image {
            image: format!("{registry}/{repository}"),
            reason: reason.to_string(),
        };
        check_host(registry).map_err(|r| refuse(&r))?;
        let registry = match registry.to_ascii_lowercase().as_str() {
            "index.docker.io" | "registry-1.docker.io" | "docker.io" => "docker.io".to_string(),
            other => other.to_string(),
        };
        let mut repository = repository.trim().to_string();
        let components_ok = !repository.is_empty()
            && repository.len() <= 255
            && repository.split('/').all(|c| {
                !c.is_empty()
                    && c.starts_with(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit())
                    && c.ends_with(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit())
                    && c.bytes().all(|b| {
                        b.is_ascii_lowercase()
                            || b.is_ascii_digit()
                            || matches!(b, b'.' | b'_' | b'-')
                    })
            });
        if !components_ok {
            return Err(refuse(
                "a repository is lowercase path components of letters, digits, `.`, `_` and `-` (each starting and ending with a letter or digit)",
            ));
        }
        if registry == "docker.io" && !repository.contains('/') {
            repository = format!("library/{repository}");
        }
        Ok(Image {
            registry,
            repository,
        })
    }

    /// The registry as the config names it (`docker.io` for Docker Hub).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path, e.g. `acme/api`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The host the distribution API answers on (`registry-1.docker.io` for Docker Hub).
    pub fn api_host(&self) -> &str {
        if self.registry == "docker.io" {
            "registry-1.docker.io"
        } else {
            &self.registry
        }
    }
}

impl fmt::Display for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)
    }
}

/// A host, optionally with a port: DNS labels, an IPv4 address or a bracketed IPv6 one.
pub(crate) fn check_host(host: &str) -> Result<(), String> {
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) if !n.ends_with(':') && !p.contains(']') => (n, Some(p)),
        _ => (host, None),
    };
    if let Some(p) = port
        && p.parse::<u16>().map_or(true, |p| p == 0)
    {
        return Err(format!("`{p}` is not a port"));
    }
    let ipv6 = name.starts_with('[')
        && name.ends_with(']')
        && name[1..name.len() - 1]
            .parse::<std::net::Ipv6Addr>()
            .is_ok();
    let dns = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if ipv6 || dns {
        Ok(())
    } else {
        Err(
            "a registry is a host name with an optional port, e.g. ghcr.io or 127.0.0.1:5000"
                .into(),
        )
    }
}

/// Whether `host` (with its port) is on this machine: plain HTTP is allowed there.
pub(crate) fn is_loopback(host: &str) -> bool {
    let name = host
        .rsplit_once(':')
        .filter(|(n, _)| !n.ends_with(':'))
        .map_or(host, |(n, _)| n);
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_and_hostile_ones_refused() {
        let i = Image::new(Some("ghcr.io"), "acme/api").unwrap();
        assert_eq!((i.api_host(), i.repository()), ("ghcr.io", "acme/api"));
        let hub = Image::new(Some("index.docker.io"), "acme/api").unwrap();
        assert_eq!(hub.api_host(), "registry-1.docker.io");
        assert_eq!(
            Image::new(Some("127.0.0.1:5000"), "a/b")
                .unwrap()
                .registry(),
            "127.0.0.1:5000"
        );
        for (registry, repo) in [
            ("ghcr.io", "Acme/api"),
            ("ghcr.io", "acme//api"),
            ("ghcr.io", "acme/api?n=1"),
            ("ghcr.io", "-x/api"),
            ("ghcr.io", "acme/../api"),
            ("evil.com/x", "acme"),
            ("host:0", "acme"),
            ("user@host", "acme"),
        ] {
            assert!(
                Image::new(Some(registry), repo).is_err(),
                "{registry} {repo}"
            );
        }
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for h in ["127.0.0.1:5000", "localhost:1", "[::1]:5000", "127.0.0.1"] {
            assert!(is_loopback(h), "{h}");
        }
        for h in ["ghcr.io", "10.0.0.1:5000", "localhost.evil.com"] {
            assert!(!is_loopback(h), "{h}");
        }
    }
}
