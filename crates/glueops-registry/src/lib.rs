//! Container registries as glueops reads them: which tags a repository has, and for a tag
//! its digest and its image's creation time, over the
//! [OCI distribution API](https://github.com/opencontainers/distribution-spec) v2.
//!
//! An adapter: no policy and no loop logic (the root crate `glueops` chooses tags). Every
//! call has a deadline; `429`/`503` answers keep their `Retry-After`; credentials come from a
//! Docker `config.json` and are never logged, shown or put in an error. HTTPS always, plain
//! HTTP only for loopback registries and those named insecure (as Docker does).
//!
//! Written on `reqwest` rather than `oci-client` 0.18: that crate's `list_tags` drops the
//! `Link` header (a registry that caps page sizes, as ECR and Docker Hub do, is read
//! incompletely or needs an extra request per image) and the `Retry-After` of a 429, and it
//! brings a second `reqwest` (0.13) and `sha2` (0.11) into the build.
//!
//! ```no_run
//! use glueops_registry::{Image, Registries, Settings};
//! # async fn run() -> Result<(), glueops_registry::Error> {
//! let registries = Registries::new(Settings::default())?;
//! let image = Image::new(Some("ghcr.io"), "acme/api")?;
//! let tags = registries.tags(&image).await?;
//! if let Some(tag) = tags.last() {
//!     let manifest = registries.manifest(&image, tag).await?;
//!     println!("{tag}: {} built {:?}", manifest.digest, manifest.created);
//! }
//! # Ok(()) }
//! ```

mod api;
mod auth;
mod ecr;
mod error;
mod image;

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use secrecy::SecretString;

pub use api::Manifest;
pub use auth::{Credential, Credentials};
pub use ecr::Ecr;
pub use error::Error;
pub use image::Image;

/// How registries are reached.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Credentials by registry host.
    pub credentials: Credentials,
    /// Registries (`host:port`) reached over plain HTTP although they are not on loopback.
    pub insecure: Vec<String>,
    /// The deadline of each request.
    pub timeout: Duration,
    /// Tags asked for per page (registries may send fewer and a `Link` to the rest).
    pub page_size: u32,
    /// Amazon ECR registries (their credentials from the AWS SDK, with the `aws` feature).
    pub ecr: Ecr,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            credentials: Credentials::default(),
            insecure: Vec::new(),
            timeout: Duration::from_secs(30),
            page_size: 1000,
            ecr: Ecr::default(),
        }
    }
}

/// A client of container registries: keeps the tokens registries hand out (per registry and
/// repository, until they expire) and counts its requests. A value the caller owns; cheap to
/// share behind an `Arc`.
#[derive(Debug)]
pub struct Registries {
    http: reqwest::Client,
    settings: Settings,
    /// `Authorization` values by (registry, repository), with when they stop being good.
    tokens: Mutex<HashMap<(String, String), (SecretString, Instant)>>,
    /// ECR credentials by registry, with when they stop being good.
    ecr_credentials: Mutex<HashMap<String, (Credential, Instant)>>,
    requests: AtomicU64,
}

impl Registries {
    /// A client with `settings`.
    pub fn new(settings: Settings) -> Result<Registries, Error> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("glueops/", env!("CARGO_PKG_VERSION")))
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|source| Error::Client { source })?;
        Ok(Registries {
            http,
            settings,
            tokens: Mutex::new(HashMap::new()),
            ecr_credentials: Mutex::new(HashMap::new()),
            requests: AtomicU64::new(0),
        })
    }

    /// How many HTTP requests this client has sent (token requests included).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Every tag of `image`, in the registry's order, following `Link` pages.
    pub async fn tags(&self, image: &Image) -> Result<Vec<String>, Error> {
        api::tags(self, image).await
    }

    /// The manifest `reference` (a tag or digest) of `image`: its digest, and its image's
    /// creation time (for an image index, of its `linux/amd64` image, or its first).
    pub async fn manifest(&self, image: &Image, reference: &str) -> Result<Manifest, Error> {
        api::manifest(self, image, reference).await
    }

    /// The digest `reference` of `image` resolves to (a `HEAD` request).
    pub async fn digest(&self, image: &Image, reference: &str) -> Result<String, Error> {
        api::digest(self, image, reference).await
    }

    fn counted(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// The credential for `image`'s registry: its `config.json` entry, else (for ECR) a token
    /// from the AWS SDK, kept until shortly before it expires.
    async fn credential(&self, image: &Image) -> Result<Option<Credential>, Error> {
        if let Some(c) = self.settings.credentials.get(image.registry()) {
            return Ok(Some(c.clone()));
        }
        let Some(region) = self.settings.ecr.region_of(image.registry()) else {
            return Ok(None);
        };
        let kept = {
            let kept = self
                .ecr_credentials
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            kept.get(image.registry())
                .filter(|(_, until)| *until > Instant::now())
                .map(|(c, _)| c.clone())
        };
        if let Some(c) = kept {
            return Ok(Some(c));
        }
        self.counted();
        let (credential, lifetime) =
            ecr::credential(&self.settings.ecr, region, image.registry()).await?;
        self.ecr_credentials
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                image.registry().to_string(),
                (credential.clone(), Instant::now() + lifetime),
            );
        Ok(Some(credential))
    }

    /// The `Authorization` for `image`: its repository's token, else the registry's basic
    /// credentials once the registry asked for them.
    fn token(&self, image: &Image) -> Option<SecretString> {
        let tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        let good = |repository: &str| {
            tokens
                .get(&(image.registry().to_string(), repository.to_string()))
                .filter(|(_, until)| *until > Instant::now())
                .map(|(t, _)| t.clone())
        };
        good(image.repository()).or_else(|| good(""))
    }

    /// Keeps `value` for `image`'s repository, or (`whole_registry`) for every repository of
    /// its registry (basic credentials).
    fn keep_token(
        &self,
        image: &Image,
        value: SecretString,
        lifetime: Duration,
        whole_registry: bool,
    ) {
        let repository = if whole_registry {
            ""
        } else {
            image.repository()
        };
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.insert(
            (image.registry().to_string(), repository.to_string()),
            (value, Instant::now() + lifetime),
        );
    }

    /// `https://host`, or `http://host` for loopback and insecure registries.
    fn base(&self, host: &str) -> String {
        let plain = image::is_loopback(host)
            || self
                .settings
                .insecure
                .iter()
                .any(|h| h.eq_ignore_ascii_case(host));
        format!("{}://{host}", if plain { "http" } else { "https" })
    }

    fn allows_plain(&self, host: &str) -> bool {
        self.base(host).starts_with("http://")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_always_except_loopback_and_registries_named_insecure() {
        let r = Registries::new(Settings {
            insecure: vec!["registry.lan:5000".into()],
            ..Settings::default()
        })
        .unwrap();
        assert_eq!(r.base("ghcr.io"), "https://ghcr.io");
        assert_eq!(r.base("10.0.0.7:5000"), "https://10.0.0.7:5000");
        assert_eq!(r.base("registry.lan:5001"), "https://registry.lan:5001");
        assert_eq!(r.base("registry.lan:5000"), "http://registry.lan:5000");
        assert_eq!(r.base("127.0.0.1:5000"), "http://127.0.0.1:5000");
        assert_eq!(r.base("localhost:5000"), "http://localhost:5000");
    }
}
