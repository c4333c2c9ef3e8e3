//! How the server runs: repositories, secrets, limits, the clock, and where feedback goes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::Clock;

/// How the server runs.
#[derive(Clone)]
pub struct Settings {
    /// The config repo (URL or path).
    pub config: String,
    /// The manifest repo (URL or path).
    pub manifests: String,
    /// The config repo as webhooks name it (`owner/name`); default: the last two parts of
    /// [`config`](Self::config), without `.git`.
    pub config_repo: Option<String>,
    /// The config branch (default the remote's default branch).
    pub config_branch: Option<String>,
    /// The manifest branch (default `spec.manifestRepo.branch`, else `main`).
    pub manifest_branch: Option<String>,
    /// GitHub webhook secrets (several during a rotation).
    pub github_secrets: Vec<String>,
    /// GitLab webhook tokens (several during a rotation).
    pub gitlab_tokens: Vec<String>,
    /// The secret store for scheduled backups (`sops://`, `vault://`, `awssm://`, ...).
    pub store: Option<String>,
    /// The age recipients backups are encrypted to, one per line: the server's own, never
    /// the config repo's.
    pub backup_recipients: Option<PathBuf>,
    /// How often the level-triggered pass runs.
    pub resync: Duration,
    /// Deliveries waiting at most; more are answered 503 with `Retry-After`.
    pub queue: usize,
    /// Bare clones and the journal of accepted deliveries (one folder per replica).
    pub cache: PathBuf,
    /// The largest webhook body accepted.
    pub max_body: usize,
    /// Where `/status` and `/metrics` are served instead of the main address (an address
    /// only operators reach); `None`: on the main address.
    pub admin_listen: Option<SocketAddr>,
    /// A bearer token `/status` and `/metrics` require (`Authorization: Bearer <token>`).
    pub admin_token: Option<String>,
    /// How long a client may take to send a request's headers, and again its body: a slow
    /// or silent client is answered (408) or dropped and its connection freed.
    pub request_timeout: Duration,
    /// Connections served at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// Where "now" comes from.
    pub clock: Clock,
    /// Events whose payload time is older than this are never applied (a captured body sent
    /// again under a new delivery id).
    pub max_event_age: Duration,
    /// How long one git process may run before it is killed (the batch is retried; `/readyz`
    /// says which remote did not answer).
    pub git_timeout: Duration,
    /// GitHub, for comments, statuses and deployments (`None`: nothing is told there).
    pub github: Option<glueops::forge::GitHub>,
    /// GitLab, likewise.
    pub gitlab: Option<glueops::forge::GitLab>,
    /// Where release, hold, rollback, drift and failure notifications go.
    pub notify: Vec<glueops::forge::Endpoint>,
    /// This server's public address, for links back from statuses.
    pub public_url: Option<String>,
    /// Registry watching (`None`: images arrive only by forge events).
    pub registry: Option<RegistryWatch>,
    /// Whether the dashboard (`GET /`) is served with the operators' routes.
    pub dashboard: bool,
    /// Read only (`glueops dashboard`): no webhooks, no writes; the board is read every
    /// [`resync`](Self::resync) instead of the level-triggered pass.
    pub read_only: bool,
}

/// How the server watches container registries for the tags `imagePolicy` allows.
#[derive(Clone)]
pub struct RegistryWatch {
    /// How registries are reached (credentials, insecure hosts, deadlines).
    pub settings: glueops::registry::Settings,
    /// How often every watched image is polled.
    pub interval: Duration,
    /// Bearer tokens `POST /webhooks/registry` requires (several during a rotation); none:
    /// that route answers 404.
    pub webhook_tokens: Vec<String>,
}

impl std::fmt::Debug for RegistryWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryWatch")
            .field("insecure", &self.settings.insecure)
            .field("interval", &self.interval)
            .field("webhook_tokens", &self.webhook_tokens.len())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets are counted, never printed.
        f.debug_struct("Settings")
            .field("config", &glueops::git::redact(&self.config))
            .field("manifests", &glueops::git::redact(&self.manifests))
            .field("config_repo", &self.config_repo)
            .field("github_secrets", &self.github_secrets.len())
            .field("gitlab_tokens", &self.gitlab_tokens.len())
            .field("store", &self.store.as_ref().map(|_| "set"))
            .field("admin_listen", &self.admin_listen)
            .field("admin_token", &self.admin_token.as_ref().map(|_| "set"))
            .field("resync", &self.resync)
            .field("queue", &self.queue)
            .field("cache", &self.cache)
            .field("github", &self.github)
            .field("gitlab", &self.gitlab)
            .field("notify", &self.notify.len())
            .field("registry", &self.registry)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Settings for `config` and `manifests` with clones under `cache`: no secrets yet (every
    /// delivery is refused until one is added), a 5-minute resync, a queue of 1,000.
    pub fn new(
        config: impl Into<String>,
        manifests: impl Into<String>,
        cache: impl Into<PathBuf>,
    ) -> Settings {
        Settings {
            config: config.into(),
            manifests: manifests.into(),
            config_repo: None,
            config_branch: None,
            manifest_branch: None,
            github_secrets: Vec::new(),
            gitlab_tokens: Vec::new(),
            store: None,
            backup_recipients: None,
            resync: Duration::from_secs(300),
            queue: 1000,
            cache: cache.into(),
            max_body: glueops::git::DEFAULT_MAX_BODY,
            admin_listen: None,
            admin_token: None,
            request_timeout: Duration::from_secs(10),
            max_connections: 256,
            clock: Clock::System,
            git_timeout: glueops::git::DEFAULT_GIT_TIMEOUT,
            max_event_age: Duration::from_secs(3600),
            github: None,
            gitlab: None,
            notify: Vec::new(),
            public_url: None,
            registry: None,
            dashboard: true,
            read_only: false,
        }
    }

    /// `owner/name` of the config repo, as webhooks name it.
    pub(crate) fn config_repo_name(&self) -> String {
        match &self.config_repo {
            Some(name) => name.clone(),
            None => glueops::feedback::repo_name(&self.config),
        }
    }
}
