//! The distribution API calls: tag lists (following `Link`), manifests and image indexes,
//! config blobs, each answer's size bounded and each digest checked against the bytes.

use std::time::Duration;

use jiff::Timestamp;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest as _, Sha256};

use crate::auth::{self, Challenge};
use crate::{Error, Image, Registries};

/// What a manifest says of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The manifest's digest (`sha256:…`), of an image index for a multi-arch image.
    pub digest: String,
    /// The image config's `created`, when it has one.
    pub created: Option<Timestamp>,
}

const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";
const MAX_MANIFEST: usize = 4 << 20;
const MAX_TAG_PAGE: usize = 16 << 20;
const MAX_TOKEN: usize = 64 << 10;
const MAX_PAGES: usize = 10_000;

struct Answer {
    headers: HeaderMap,
    body: Vec<u8>,
}

pub(crate) async fn tags(reg: &Registries, image: &Image) -> Result<Vec<String>, Error> {
    #[derive(serde::Deserialize)]
    struct Page {
        tags: Option<Vec<String>>,
    }
    let base = reg.base(image.api_host());
    let mut url = parse_url(
        &format!(
            "{base}/v2/{}/tags/list?n={}",
            image.repository(),
            reg.settings.page_size
        ),
        image,
    )?;
    let mut all = Vec::new();
    for _ in 0..MAX_PAGES {
        let answer = send(
            reg,
            image,
            "list tags",
            Method::GET,
            &url,
            None,
            MAX_TAG_PAGE,
        )
        .await?;
        let page: Page = serde_json::from_slice(&answer.body).map_err(|e| Error::Answer {
            operation: "list tags",
            registry: image.registry().into(),
            reason: format!("the tag list is not JSON: {e}"),
        })?;
        all.extend(page.tags.unwrap_or_default());
        match next_page(&answer.headers, &url, image)? {
            Some(next) if next != url => url = next,
            _ => return Ok(all),
        }
    }
    Err(Error::Answer {
        operation: "list tags",
        registry: image.registry().into(),
        reason: format!("more than {MAX_PAGES} pages of tags"),
    })
}

/// The `rel="next"` of a `Link` header, on the same registry (a link elsewhere is refused:
/// the registry's token would follow it).
fn next_page(headers: &HeaderMap, current: &Url, image: &Image) -> Result<Option<Url>, Error> {
    let Some(link) = headers.get(header::LINK).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    for part in link.split(',') {
        let Some((target, params)) = part.split_once(';') else {
            continue;
        };
        let is_next = params.split(';').any(|p| {
            p.trim()
                .replace(' ', "")
                .eq_ignore_ascii_case("rel=\"next\"")
                || p.trim().eq_ignore_ascii_case("rel=next")
        });
        let target = target.trim().trim_start_matches('<').trim_end_matches('>');
        if !is_next {
            continue;
        }
        let next = current.join(target).map_err(|e| {
            answer_error(
                image,
                "list tags",
                format!("the Link header's next page is not a URL: {e}"),
            )
        })?;
        if next.origin() != current.origin() {
            return Err(answer_error(
                image,
                "list tags",
                "the Link header points to another host; not followed".into(),
            ));
        }
        return Ok(Some(next));
    }
    Ok(None)
}

pub(crate) async fn manifest(
    reg: &Registries,
    image: &Image,
    reference: &str,
) -> Result<Manifest, Error> {
    let (digest, body) = get_manifest(reg, image, reference).await?;
    let value: serde_json::Value = json(image, "read manifest", &body)?;
    let image_manifest = if let Some(entries) = value.get("manifests").and_then(|m| m.as_array()) {
        let Some(chosen) = pick_platform(entries) else {
            return Ok(Manifest {
                digest,
                created: None,
            });
        };
        let (_, body) = get_manifest(reg, image, &chosen).await?;
        json(image, "read manifest", &body)?
    } else {
        value
    };
    let Some(config) = image_manifest
        .pointer("/config/digest")
        .and_then(|d| d.as_str())
    else {
        return Ok(Manifest {
            digest,
            created: None,
        });
    };
    check_digest(config, image)?;
    let url = parse_url(
        &format!(
            "{}/v2/{}/blobs/{config}",
            reg.base(image.api_host()),
            image.repository()
        ),
        image,
    )?;
    let blob = send(
        reg,
        image,
        "read image config",
        Method::GET,
        &url,
        None,
        MAX_MANIFEST,
    )
    .await?;
    verify(config, &blob.body, image)?;
    let config: serde_json::Value = json(image, "read image config", &blob.body)?;
    let created = config
        .get("created")
        .and_then(|c| c.as_str())
        .and_then(|c| c.parse::<Timestamp>().ok());
    Ok(Manifest { digest, created })
}

pub(crate) async fn digest(
    reg: &Registries,
    image: &Image,
    reference: &str,
) -> Result<String, Error> {
    check_reference(reference, image)?;
    let url = manifest_url(reg, image, reference)?;
    let answer = send(
        reg,
        image,
        "resolve digest",
        Method::HEAD,
        &url,
        Some(MANIFEST_TYPES),
        0,
    )
    .await?;
    match content_digest(&answer.headers) {
        Some(d) if check_digest(&d, image).is_ok() => Ok(d),
        _ => get_manifest(reg, image, reference).await.map(|(d, _)| d),
    }
}

/// The manifest's bytes and digest (of the bytes; a `Docker-Content-Digest` that disagrees is
/// an error, as is a digest reference the bytes do not have).
async fn get_manifest(
    reg: &Registries,
    image: &Image,
    reference: &str,
) -> Result<(String, Vec<u8>), Error> {
    check_reference(reference, image)?;
    let url = manifest_url(reg, image, reference)?;
    let answer = send(
        reg,
        image,
        "read manifest",
        Method::GET,
        &url,
        Some(MANIFEST_TYPES),
        MAX_MANIFEST,
    )
    .await?;
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(&answer.body)));
    let claimed = content_digest(&answer.headers).filter(|d| d.starts_with("sha256:"));
    if let Some(claimed) = claimed
        .as_deref()
        .or(reference.starts_with("sha256:").then_some(reference))
        && claimed != digest
    {
        return Err(answer_error(
            image,
            "read manifest",
            format!("the manifest's bytes have digest {digest}, not {claimed}"),
        ));
    }
    Ok((digest, answer.body))
}

/// `linux/amd64` in an index, else the first entry that is an image for a platform (not an
/// attestation), else the first.
fn pick_platform(entries: &[serde_json::Value]) -> Option<String> {
    let platform = |e: &serde_json::Value, key: &str| {
        e.pointer(&format!("/platform/{key}"))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let digest =
        |e: &serde_json::Value| e.get("digest").and_then(|d| d.as_str()).map(str::to_string);
    entries
        .iter()
        .find(|e| {
            platform(e, "os").as_deref() == Some("linux")
                && platform(e, "architecture").as_deref() == Some("amd64")
        })
        .or_else(|| {
            entries
                .iter()
                .find(|e| platform(e, "os").is_some_and(|o| o != "unknown"))
        })
        .or_else(|| entries.first())
        .and_then(digest)
}

fn manifest_url(reg: &Registries, image: &Image, reference: &str) -> Result<Url, Error> {
    parse_url(
        &format!(
            "{}/v2/{}/manifests/{reference}",
            reg.base(image.api_host()),
            image.repository()
        ),
        image,
    )
}

/// One request with the repository's authorization, answering a `401` challenge once.
async fn send(
    reg: &Registries,
    image: &Image,
    operation: &'static str,
    method: Method,
    url: &Url,
    accept: Option<&'static str>,
    limit: usize,
) -> Result<Answer, Error> {
    let host = image.api_host();
    if url.scheme() == "http" && !reg.allows_plain(host) {
        return Err(Error::Insecure {
            registry: host.to_string(),
        });
    }
    for attempt in 0..2 {
        let mut request = reg.http.request(method.clone(), url.clone());
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT, accept);
        }
        if let Some(token) = reg.token(image) {
            request = request.header(header::AUTHORIZATION, sensitive(&token, image)?);
        }
        reg.counted();
        let response = request.send().await.map_err(|source| Error::Transport {
            operation,
            registry: image.registry().into(),
            source: source.without_url(),
        })?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED && attempt == 0 {
            let challenge = response
                .headers()
                .get(header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .and_then(auth::challenge);
            let Some(challenge) = challenge else {
                return Err(auth_error(image, operation, "the registry asks for credentials without a challenge glueops knows (Basic or Bearer)".into()));
            };
            authorize(reg, image, operation, challenge).await?;
            continue;
        }
        if status == StatusCode::UNAUTHORIZED {
            let known = reg.settings.credentials.get(image.registry()).is_some()
                || reg.settings.ecr.region_of(image.registry()).is_some();
            let reason = match known.then_some(()) {
                Some(_) => format!(
                    "the registry refused the credentials for {}",
                    image.registry()
                ),
                None => format!(
                    "the registry needs credentials: give --registry-auth-file with an entry for {}",
                    image.registry()
                ),
            };
            return Err(auth_error(image, operation, reason));
        }
        let headers = response.headers().clone();
        let retry_after = retry_after(&headers, status);
        let body = read_body(response, limit, image, operation).await?;
        if !status.is_success() {
            return Err(Error::Status {
                operation,
                registry: image.registry().into(),
                status: status.as_u16(),
                message: message(&body),
                retry_after,
            });
        }
        return Ok(Answer { headers, body });
    }
    Err(auth_error(
        image,
        operation,
        "the registry asked for credentials twice".into(),
    ))
}

/// Answers a challenge: the credentials for `Basic`, a token from the realm for `Bearer`.
async fn authorize(
    reg: &Registries,
    image: &Image,
    operation: &'static str,
    challenge: Challenge,
) -> Result<(), Error> {
    let credential = reg.credential(image).await?;
    let credential = credential.as_ref();
    let (realm, service) = match challenge {
        Challenge::Basic => {
            let Some(credential) = credential else {
                return Err(auth_error(
                    image,
                    operation,
                    format!(
                        "the registry needs credentials: give --registry-auth-file with an entry for {}",
                        image.registry()
                    ),
                ));
            };
            reg.keep_token(
                image,
                auth::basic(credential),
                Duration::from_secs(3600),
                true,
            );
            return Ok(());
        }
        Challenge::Bearer { realm, service, .. } => (realm, service),
    };
    let url = token_url(reg, image, operation, &realm, service.as_deref())?;
    let mut request = reg.http.get(url);
    if let Some(credential) = credential {
        request = request.header(
            header::AUTHORIZATION,
            sensitive(&auth::basic(credential), image)?,
        );
    }
    reg.counted();
    let response = request.send().await.map_err(|source| Error::Transport {
        operation: "fetch a registry token",
        registry: image.registry().into(),
        source: source.without_url(),
    })?;
    let status = response.status();
    let retry_after = retry_after(response.headers(), status);
    let body = read_body(response, MAX_TOKEN, image, operation).await?;
    if !status.is_success() {
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(auth_error(
                image,
                operation,
                format!(
                    "the token server refused {} ({status})",
                    if credential.is_some() {
                        "the credentials"
                    } else {
                        "anonymous access; give --registry-auth-file"
                    }
                ),
            ));
        }
        return Err(Error::Status {
            operation: "fetch a registry token",
            registry: image.registry().into(),
            status: status.as_u16(),
            message: message(&body),
            retry_after,
        });
    }
    let (value, lifetime) = read_token(image, operation, &body)?;
    reg.keep_token(image, value, lifetime, false);
    Ok(())
}

/// The token of a token server's answer (`token` or `access_token`), and how long to keep it.
fn read_token(
    image: &Image,
    operation: &'static str,
    body: &[u8],
) -> Result<(SecretString, Duration), Error> {
    #[derive(serde::Deserialize)]
    struct Token {
        token: Option<String>,
        access_token: Option<String>,
        expires_in: Option<u64>,
    }
    let token: Token = serde_json::from_slice(body).map_err(|_| {
        auth_error(
            image,
            operation,
            "the token server's answer is not a token".into(),
        )
    })?;
    let Some(value) = token.token.or(token.access_token).filter(|t| !t.is_empty()) else {
        return Err(auth_error(
            image,
            operation,
            "the token server's answer holds no token".into(),
        ));
    };
    let lifetime = Duration::from_secs(token.expires_in.unwrap_or(60).saturating_sub(10).max(5));
    Ok((SecretString::from(format!("Bearer {value}")), lifetime))
}

/// The realm's URL asking for a pull token of the repository; HTTPS unless the realm is on
/// loopback or named insecure.
fn token_url(
    reg: &Registries,
    image: &Image,
    operation: &'static str,
    realm: &str,
    service: Option<&str>,
) -> Result<Url, Error> {
    let mut url = Url::parse(realm).map_err(|e| {
        auth_error(
            image,
            operation,
            format!("the token realm is not a URL: {e}"),
        )
    })?;
    let realm_host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        (None, _) => String::new(),
    };
    let plain_ok = url.scheme() == "http"
        && (reg.allows_plain(&realm_host)
            || reg.allows_plain(image.api_host()) && crate::image::is_loopback(&realm_host));
    if url.scheme() != "https" && !plain_ok {
        return Err(auth_error(
            image,
            operation,
            format!(
                "the token realm `{realm_host}` is not HTTPS; credentials are not sent over plain HTTP"
            ),
        ));
    }
    {
        let mut query = url.query_pairs_mut();
        if let Some(service) = service {
            query.append_pair("service", service);
        }
        // Only ever pull: glueops reads registries.
        query.append_pair("scope", &format!("repository:{}:pull", image.repository()));
    }
    Ok(url)
}

fn sensitive(value: &SecretString, image: &Image) -> Result<HeaderValue, Error> {
    let mut v = HeaderValue::from_str(value.expose_secret()).map_err(|_| {
        auth_error(
            image,
            "authorize",
            "the credential or token holds characters an HTTP header cannot carry".into(),
        )
    })?;
    v.set_sensitive(true);
    Ok(v)
}

async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
    image: &Image,
    operation: &'static str,
) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    loop {
        let chunk = response.chunk().await.map_err(|source| Error::Transport {
            operation,
            registry: image.registry().into(),
            source: source.without_url(),
        })?;
        let Some(chunk) = chunk else { return Ok(body) };
        if body.len() + chunk.len() > limit.max(64 << 10) {
            return Err(answer_error(
                image,
                operation,
                format!("the answer is larger than {} bytes", limit.max(64 << 10)),
            ));
        }
        body.extend_from_slice(&chunk);
    }
}

fn retry_after(headers: &HeaderMap, status: StatusCode) -> Option<Duration> {
    if status != StatusCode::TOO_MANY_REQUESTS && status != StatusCode::SERVICE_UNAVAILABLE {
        return None;
    }
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    let seconds = value.parse::<u64>().ok().or_else(|| {
        // An HTTP date.
        let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
        u64::try_from(at.as_second() - Timestamp::now().as_second()).ok()
    })?;
    Some(Duration::from_secs(seconds.min(3600)))
}

/// The registry's `errors[0].message`, or the start of the body.
fn message(body: &[u8]) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let text = parsed
        .as_ref()
        .and_then(|v| v.pointer("/errors/0/message"))
        .and_then(|m| m.as_str())
        .map_or_else(
            || String::from_utf8_lossy(body).into_owned(),
            str::to_string,
        );
    text.chars().take(300).collect()
}

fn content_digest(headers: &HeaderMap) -> Option<String> {
    headers
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
}

fn check_reference(reference: &str, image: &Image) -> Result<(), Error> {
    let tag = !reference.is_empty()
        && reference.len() <= 128
        && reference.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && reference
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if tag || check_digest(reference, image).is_ok() {
        Ok(())
    } else {
        Err(Error::Image {
            image: image.to_string(),
            reason: format!(
                "`{}` is neither a tag nor a digest",
                reference.escape_debug()
            ),
        })
    }
}

fn check_digest(digest: &str, image: &Image) -> Result<(), Error> {
    let ok = digest.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    });
    if ok {
        Ok(())
    } else {
        Err(answer_error(
            image,
            "read manifest",
            format!("`{}` is not a sha256 digest", digest.escape_debug()),
        ))
    }
}

fn verify(digest: &str, body: &[u8], image: &Image) -> Result<(), Error> {
    let actual = format!("sha256:{}", hex::encode(Sha256::digest(body)));
    if actual == digest {
        Ok(())
    } else {
        Err(answer_error(
            image,
            "read image config",
            format!("the blob's bytes have digest {actual}, not {digest}"),
        ))
    }
}

fn json(image: &Image, operation: &'static str, body: &[u8]) -> Result<serde_json::Value, Error> {
    serde_json::from_slice(body)
        .map_err(|e| answer_error(image, operation, format!("the answer is not JSON: {e}")))
}

fn parse_url(url: &str, image: &Image) -> Result<Url, Error> {
    Url::parse(url).map_err(|e| Error::Image {
        image: image.to_string(),
        reason: e.to_string(),
    })
}

fn answer_error(image: &Image, operation: &'static str, reason: String) -> Error {
    Error::Answer {
        operation,
        registry: image.registry().into(),
        reason,
    }
}

fn auth_error(image: &Image, operation: &'static str, reason: String) -> Error {
    Error::Auth {
        operation,
        registry: image.registry().into(),
        reason,
    }
}
