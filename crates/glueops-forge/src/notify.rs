//! Notifications: a Slack-compatible incoming webhook (text and blocks), or any HTTPS
//! endpoint that takes a JSON event signed like the webhooks glueops verifies
//! (`X-Glueops-Signature-256: sha256=<hex HMAC-SHA256 of the body>`).

use hmac::{Hmac, Mac as _};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest as _, Sha256};

use crate::http;
use crate::{Error, Event, Forge};

/// Where notifications go.
#[derive(Clone)]
pub struct Endpoint {
    url: SecretString,
    shown: String,
    slack: bool,
    secret: Option<SecretString>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &self.shown)
            .field("slack", &self.slack)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// The endpoint at `url`: `https://` (plain `http://` only to a loopback address), a
    /// Slack incoming webhook when its host is `hooks.slack.com` or it is written
    /// `slack+https://…`. `secret` signs the JSON events (Slack checks none). The URL is
    /// treated as a secret (a Slack webhook's path is its credential): logs show its host.
    pub fn parse(url: &str, secret: Option<SecretString>) -> Result<Endpoint, Error> {
        let (slack_prefix, url) = match url.strip_prefix("slack+") {
            Some(rest) => (true, rest),
            None => (false, url),
        };
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or_else(|| Error::Endpoint {
                url: shown(url),
                reason: "not an https:// URL".into(),
            })?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let name = host.rsplit_once('@').map_or(host, |(_, h)| h);
        let name = name.rsplit_once(':').map_or(name, |(h, _)| h);
        let loopback = matches!(name, "127.0.0.1" | "localhost" | "[::1]");
        if url.starts_with("http://") && !loopback {
            return Err(Error::Endpoint {
                url: shown(url),
                reason: "plain http:// is only for a loopback address; use https://".into(),
            });
        }
        if name.is_empty() || host.contains('@') {
            return Err(Error::Endpoint {
                url: shown(url),
                reason: "no host, or credentials in the URL".into(),
            });
        }
        Ok(Endpoint {
            url: SecretString::from(url.to_string()),
            shown: shown(url),
            slack: slack_prefix || name.eq_ignore_ascii_case("hooks.slack.com"),
            secret,
        })
    }

    /// A stable name for the endpoint that does not reveal it (a hash of its URL).
    pub fn id(&self) -> String {
        let digest = Sha256::digest(self.url.expose_secret().as_bytes());
        hex::encode(&digest[..6])
    }
}

/// Scheme and host only (no credentials, path or query).
fn shown(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(not a URL)".into();
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("{scheme}://{host}")
}

pub(crate) async fn send(forge: &Forge, endpoint: &Endpoint, event: &Event) -> Result<bool, Error> {
    let body = if endpoint.slack {
        serde_json::json!({
            "text": event.summary,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": event.summary}}],
        })
    } else {
        serde_json::to_value(event).map_err(|e| Error::Answer {
            operation: "notify",
            reason: e.to_string(),
        })?
    };
    let bytes = body.to_string().into_bytes();
    let mut request = forge
        .http
        .post(endpoint.url.expose_secret())
        .header("content-type", "application/json")
        .header("x-glueops-event", &event.kind)
        .header("x-glueops-delivery", &event.id);
    if let Some(secret) = &endpoint.secret
        && !endpoint.slack
    {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()).map_err(|_| {
                Error::Endpoint {
                    url: endpoint.shown.clone(),
                    reason: "the signing secret cannot key HMAC-SHA256".into(),
                }
            })?;
        mac.update(&bytes);
        let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        request = request.header("x-glueops-signature-256", signature);
    }
    http::send(forge, "notify", "notify", request.body(bytes)).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_https_or_loopback_and_never_shown_whole() {
        let slack = Endpoint::parse("https://hooks.slack.com/services/T/B/XYZ", None).unwrap();
        assert!(slack.slack);
        assert!(!format!("{slack:?}").contains("XYZ"));
        assert!(
            Endpoint::parse("slack+https://chat.example/hook", None)
                .unwrap()
                .slack
        );
        assert!(!Endpoint::parse("http://127.0.0.1:9/x", None).unwrap().slack);
        for bad in [
            "http://example.com/x",
            "ftp://x",
            "https://user:pw@host/x",
            "-x",
        ] {
            let e = Endpoint::parse(bad, None).unwrap_err().to_string();
            assert!(!e.contains("pw"), "{e}");
        }
        let a = Endpoint::parse("https://a.example/1", None).unwrap();
        let b = Endpoint::parse("https://a.example/2", None).unwrap();
        assert_ne!(a.id(), b.id());
        assert_eq!(
            a.id(),
            Endpoint::parse("https://a.example/1", None).unwrap().id()
        );
    }
}
