//! One request to a forge: sent with its credential (a sensitive header, never logged),
//! its answer read as JSON, its error status turned into an [`Error`] that says when to ask
//! again.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret as _, SecretString};

use crate::{Error, Forge};

/// A credential header (`Authorization: Bearer …`, `PRIVATE-TOKEN: …`), marked sensitive.
pub(crate) fn credential(
    name: &'static str,
    prefix: &str,
    secret: &SecretString,
) -> Result<(HeaderName, HeaderValue), Error> {
    let mut value = HeaderValue::from_str(&format!("{prefix}{}", secret.expose_secret()))
        .map_err(|_| Error::Answer {
            operation: "credential",
            reason: "the token holds characters an HTTP header cannot carry (a stray newline in the token file?)".into(),
        })?;
    value.set_sensitive(true);
    Ok((HeaderName::from_static(name), value))
}

/// Sends `request` (already carrying its credential) and reads its JSON answer (`Null` for
/// an empty one).
pub(crate) async fn send(
    forge: &Forge,
    host: &'static str,
    operation: &'static str,
    request: reqwest::RequestBuilder,
) -> Result<serde_json::Value, Error> {
    let answer = match request.send().await {
        Ok(a) => a,
        Err(source) => {
            forge.observe(host, operation, None);
            // A notification URL can be a credential (a Slack webhook): errors never carry URLs.
            return Err(Error::Transport {
                operation,
                source: source.without_url(),
            });
        }
    };
    let status = answer.status();
    forge.observe(host, operation, Some(status.as_u16()));
    let retry_after = retry_after(answer.headers(), status.as_u16());
    let bytes = answer.bytes().await.map_err(|source| Error::Transport {
        operation,
        source: source.without_url(),
    })?;
    if !status.is_success() {
        return Err(Error::Status {
            operation,
            status: status.as_u16(),
            message: message(&bytes),
            retry_after,
        });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Value::Null);
    }
    serde_json::from_slice(&bytes).map_err(|e| Error::Answer {
        operation,
        reason: format!("the answer is not JSON: {e}"),
    })
}

/// The forge's own message: its JSON `message` (GitHub, GitLab) or `error`, else the start
/// of the body.
fn message(bytes: &[u8]) -> String {
    let text = match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(v) => match v.get("message").or_else(|| v.get("error")) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => v.to_string(),
        },
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    };
    text.chars().take(300).collect()
}

/// When to ask again: `Retry-After` (seconds), or a spent rate limit's reset time
/// (`x-ratelimit-reset` on GitHub, `ratelimit-reset` on GitLab, Unix seconds).
fn retry_after(headers: &HeaderMap, status: u16) -> Option<Duration> {
    let number = |name: &str| -> Option<i64> {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
    };
    if let Some(seconds) = number("retry-after") {
        return Some(Duration::from_secs(seconds.clamp(0, 3600).unsigned_abs()));
    }
    let spent = ["x-ratelimit-remaining", "ratelimit-remaining"]
        .iter()
        .any(|h| number(h) == Some(0));
    if spent && (status == 403 || status == 429) {
        let reset = number("x-ratelimit-reset").or_else(|| number("ratelimit-reset"))?;
        let wait = reset.saturating_sub(jiff::Timestamp::now().as_second());
        return Some(Duration::from_secs(wait.clamp(1, 3600).unsigned_abs()));
    }
    None
}

/// The JSON answer's field `key` as an integer.
pub(crate) fn id(value: &serde_json::Value, operation: &'static str) -> Result<u64, Error> {
    value
        .get("id")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| Error::Answer {
            operation,
            reason: "the answer has no numeric `id`".into(),
        })
}

/// The JSON answer as an array.
pub(crate) fn array(
    value: serde_json::Value,
    operation: &'static str,
) -> Result<Vec<serde_json::Value>, Error> {
    match value {
        serde_json::Value::Array(items) => Ok(items),
        _ => Err(Error::Answer {
            operation,
            reason: "the answer is not a list".into(),
        }),
    }
}

/// Pages of comments read at most when looking for a marker (100 each).
const MAX_PAGES: u32 = 20;

/// The id and body of the first item whose `body` carries `mark` and that `own` says glueops
/// wrote (anyone can paste a marker into a comment: theirs is never edited), reading pages of
/// 100 with `list(page)` until one is short.
pub(crate) async fn find_marked<F, Fut>(
    mark: &str,
    own: &(dyn Fn(&serde_json::Value) -> bool + Sync),
    mut list: F,
) -> Result<Option<(u64, String)>, Error>
where
    F: FnMut(u32) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<serde_json::Value>, Error>>,
{
    for page in 1..=MAX_PAGES {
        let items = list(page).await?;
        for item in &items {
            if let Some(text) = item["body"].as_str()
                && text.contains(mark)
                && own(item)
            {
                return Ok(Some((id(item, "comment.list")?, text.to_string())));
            }
        }
        if items.len() < 100 {
            break;
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_read_from_either_header() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h, 429), Some(Duration::from_secs(7)));
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        let reset = (jiff::Timestamp::now().as_second() + 30).to_string();
        h.insert("x-ratelimit-reset", HeaderValue::from_str(&reset).unwrap());
        let wait = retry_after(&h, 403).unwrap();
        assert!((28..=30).contains(&wait.as_secs()), "{wait:?}");
        // A 403 with quota left is a refusal, not a rate limit.
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("12"));
        assert_eq!(retry_after(&h, 403), None);
    }

    #[test]
    fn the_forges_message_is_kept_short() {
        assert_eq!(message(br#"{"message":"Not Found"}"#), "Not Found");
        assert_eq!(message(&[b'x'; 1000]).len(), 300);
    }
}
