//! # glueops-forge
//!
//! What glueops tells the people on the pull request, as calls to their forge: a comment
//! edited in place (found again by a hidden marker), a commit status per context, a
//! deployment per environment with its statuses, and notifications to chat or any HTTPS
//! endpoint. An adapter: it knows GitHub's and GitLab's REST APIs and nothing of the loop.
//!
//! Every [`Call`] is a *desired state*, not an action: applying it twice posts once (the
//! comment is looked up by its marker and left alone when its body is already right, a status
//! or deployment status is posted only when the latest one differs, a deployment is looked up
//! before it is created). So a replay, a retry after a timeout or a second replica converges
//! on one comment, one status, one deployment.
//!
//! The [`Outbox`] journals calls in a folder (one file per [`Call::key`], a newer call
//! superseding an older one of the same key) and delivers them with backoff that honours
//! `Retry-After` and rate-limit resets: a forge outage delays feedback, loses none, and a
//! `kill -9` leaves the calls to the next start.
//!
//! ```
//! use glueops_forge::{Call, Forge, GitHub, Host, Outbox, StatusState};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), glueops_forge::Error> {
//! let dir = tempfile::tempdir().unwrap();
//! let outbox = Outbox::open(dir.path())?;
//! outbox.put(&Call::Status {
//!     host: Host::GitHub,
//!     repo: "acme/config".into(),
//!     sha: "0123456789abcdef0123456789abcdef01234567".into(),
//!     context: "glueops/prod".into(),
//!     state: StatusState::Success,
//!     description: "released to prod (3 deployments)".into(),
//!     target_url: None,
//! })?;
//! assert_eq!(outbox.len()?, 1);
//! // A forge without a GitHub client keeps GitHub calls for one that has one.
//! let forge = Forge::new(None, None, Vec::new())?;
//! let report = outbox.deliver(&forge, jiff::Timestamp::now()).await?;
//! assert_eq!((report.delivered, outbox.len()?), (0, 1));
//! # let _ = GitHub::token("https://api.github.com", "t".to_string().into());
//! # Ok(())
//! # }
//! ```

mod app;
mod call;
mod checks;
mod error;
mod github;
mod gitlab;
mod http;
mod notify;
mod outbox;

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

pub use call::{Call, DeploymentState, Event, Host, StatusState};
pub use checks::{Check, CheckStatus};
pub use error::Error;
pub use notify::Endpoint;
pub use outbox::{Delivery, Outbox};

/// How long one request to a forge may take, connection included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// A GitHub API (github.com or an Enterprise Server) and how glueops signs in to it.
#[derive(Clone)]
pub struct GitHub {
    /// The API's base URL (`https://api.github.com`, `https://HOST/api/v3`).
    api: String,
    auth: GitHubAuth,
}

#[derive(Clone)]
enum GitHubAuth {
    Token(SecretString),
    App(Arc<app::App>),
}

impl std::fmt::Debug for GitHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let auth = match &self.auth {
            GitHubAuth::Token(_) => "token".to_string(),
            GitHubAuth::App(app) => format!("app {}", app.id),
        };
        f.debug_struct("GitHub")
            .field("api", &self.api)
            .field("auth", &auth)
            .finish()
    }
}

impl GitHub {
    /// GitHub at `api`, signed in with a token (a fine-grained or classic personal access
    /// token, or an installation token another tool keeps fresh).
    pub fn token(api: &str, token: SecretString) -> GitHub {
        GitHub {
            api: api.trim_end_matches('/').to_string(),
            auth: GitHubAuth::Token(token),
        }
    }

    /// GitHub at `api`, signed in as the GitHub App `id` with its private key (PEM, PKCS#1
    /// as GitHub hands it out, or PKCS#8): a JWT is exchanged for an installation token per
    /// repository owner, refreshed before it expires.
    pub fn app(api: &str, id: u64, key_pem: &SecretString) -> Result<GitHub, Error> {
        Ok(GitHub {
            api: api.trim_end_matches('/').to_string(),
            auth: GitHubAuth::App(Arc::new(app::App::new(id, key_pem)?)),
        })
    }
}

/// A GitLab API (`https://gitlab.com/api/v4` or a self-managed instance's) and a token with
/// the `api` scope.
#[derive(Clone)]
pub struct GitLab {
    api: String,
    token: SecretString,
}

impl std::fmt::Debug for GitLab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitLab")
            .field("api", &self.api)
            .finish_non_exhaustive()
    }
}

impl GitLab {
    /// GitLab at `api` (ending in `/api/v4`), signed in with `token`.
    pub fn new(api: &str, token: SecretString) -> GitLab {
        GitLab {
            api: api.trim_end_matches('/').to_string(),
            token,
        }
    }
}

/// One HTTP request a call made: for metrics and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `github`, `gitlab` or `notify`.
    pub host: &'static str,
    /// What it did (`comment.create`, `status.get`, `deployment.create`, ...).
    pub operation: &'static str,
    /// The HTTP status answered, `None` when no answer came (a timeout, a refused
    /// connection).
    pub status: Option<u16>,
}

/// Sees every request (the server counts them by host, operation and outcome).
pub type Observer = Arc<dyn Fn(&Request) + Send + Sync>;

/// The clients of one run: the forges configured, and where notifications go. Calls for a
/// host without a client wait in the outbox.
#[derive(Clone)]
pub struct Forge {
    http: reqwest::Client,
    github: Option<GitHub>,
    gitlab: Option<GitLab>,
    notify: Vec<Endpoint>,
    tokens: Arc<app::Tokens>,
    observer: Option<Observer>,
    /// The token's user on each forge (asked once: whose comments are glueops').
    login: Arc<std::sync::Mutex<std::collections::BTreeMap<Host, String>>>,
}

impl std::fmt::Debug for Forge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forge")
            .field("github", &self.github)
            .field("gitlab", &self.gitlab)
            .field("notify", &self.notify.len())
            .finish_non_exhaustive()
    }
}

impl Forge {
    /// The clients for `github`, `gitlab` and the notification `notify` endpoints, each
    /// request bounded by [`DEFAULT_TIMEOUT`].
    pub fn new(
        github: Option<GitHub>,
        gitlab: Option<GitLab>,
        notify: Vec<Endpoint>,
    ) -> Result<Forge, Error> {
        Forge::with_timeout(github, gitlab, notify, DEFAULT_TIMEOUT)
    }

    /// As [`Forge::new`], each request bounded by `timeout`.
    pub fn with_timeout(
        github: Option<GitHub>,
        gitlab: Option<GitLab>,
        notify: Vec<Endpoint>,
        timeout: Duration,
    ) -> Result<Forge, Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("glueops/", env!("CARGO_PKG_VERSION")))
            // Redirects could carry the token to another host: none are followed.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|source| Error::Client { source })?;
        Ok(Forge {
            http,
            github,
            gitlab,
            notify,
            tokens: Arc::new(app::Tokens::default()),
            observer: None,
            login: Arc::default(),
        })
    }

    /// Calls `observer` after every request.
    #[must_use]
    pub fn observed(mut self, observer: Observer) -> Forge {
        self.observer = Some(observer);
        self
    }

    /// The notification endpoints.
    pub fn endpoints(&self) -> &[Endpoint] {
        &self.notify
    }

    /// Whether calls for `host` can be applied here.
    pub fn serves(&self, host: Host) -> bool {
        match host {
            Host::GitHub => self.github.is_some(),
            Host::GitLab => self.gitlab.is_some(),
        }
    }

    /// Whether `call` has somewhere to go here: its forge's client, or for a notification at
    /// least one endpoint. A caller journals only these (the others would wait for good).
    pub fn takes(&self, call: &Call) -> bool {
        match call.host() {
            Some(host) => self.serves(host),
            None => !self.notify.is_empty(),
        }
    }

    /// Whether anything is configured at all.
    pub fn is_configured(&self) -> bool {
        self.github.is_some() || self.gitlab.is_some() || !self.notify.is_empty()
    }

    /// Applies `call`: `Ok(true)` when the forge changed, `Ok(false)` when it already was as
    /// the call wants it. Calls for a host without a client fail with
    /// [`Error::NotConfigured`].
    pub async fn apply(&self, call: &Call) -> Result<bool, Error> {
        call.check()?;
        match call {
            Call::Notify { event, endpoint } => {
                let Some(id) = endpoint else { return Ok(false) };
                let Some(target) = self.notify.iter().find(|e| &e.id() == id) else {
                    // An endpoint no longer configured: nothing to tell.
                    return Ok(false);
                };
                notify::send(self, target, event).await
            }
            _ => match call.host() {
                Some(Host::GitHub) => {
                    let github = self
                        .github
                        .as_ref()
                        .ok_or(Error::NotConfigured { host: Host::GitHub })?;
                    github::apply(self, github, call).await
                }
                Some(Host::GitLab) => {
                    let gitlab = self
                        .gitlab
                        .as_ref()
                        .ok_or(Error::NotConfigured { host: Host::GitLab })?;
                    gitlab::apply(self, gitlab, call).await
                }
                None => Ok(false),
            },
        }
    }

    fn login(&self, host: Host) -> Option<String> {
        self.login
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&host)
            .cloned()
    }

    fn remember_login(&self, host: Host, login: &str) {
        self.login
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(host, login.to_string());
    }

    fn observe(&self, host: &'static str, operation: &'static str, status: Option<u16>) {
        if let Some(observer) = &self.observer {
            observer(&Request {
                host,
                operation,
                status,
            });
        }
    }
}
