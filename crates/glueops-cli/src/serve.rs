//! `glueops serve`: flags (also from `GLUEOPS_*` environment variables), logging, and the
//! server of `glueops-serve`. Webhook secrets come only from files.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::error::Error;

/// Run the platform as a webhook server.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on.
    #[arg(long, env = "GLUEOPS_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Serve `/status` and `/metrics` on this address instead (one only operators reach).
    #[arg(long, env = "GLUEOPS_ADMIN_LISTEN")]
    admin_listen: Option<SocketAddr>,
    /// A file holding a bearer token that `/status` and `/metrics` require.
    #[arg(long, env = "GLUEOPS_ADMIN_TOKEN_FILE", value_name = "FILE")]
    admin_token_file: Option<PathBuf>,
    /// Events whose own time (pull requests, images, pipelines) is older than this are never
    /// applied: a captured body sent again.
    #[arg(long, env = "GLUEOPS_MAX_EVENT_AGE", default_value = "1h", value_parser = crate::flags::duration)]
    max_event_age: std::time::Duration,
    /// How long a client may take to send a request's headers, and again its body.
    #[arg(long, env = "GLUEOPS_REQUEST_TIMEOUT", default_value = "10s", value_parser = crate::flags::duration)]
    request_timeout: std::time::Duration,
    /// Connections served at once; more wait in the kernel's backlog.
    #[arg(long, env = "GLUEOPS_MAX_CONNECTIONS", default_value_t = 256)]
    max_connections: usize,
    /// The config repo (URL or path).
    #[arg(long, env = "GLUEOPS_CONFIG")]
    config: String,
    /// The manifest repo (URL or path).
    #[arg(long, env = "GLUEOPS_MANIFESTS")]
    manifests: String,
    /// A file holding a GitHub webhook secret; repeat (or separate with commas) during a
    /// rotation.
    #[arg(
        long = "github-secret-file",
        env = "GLUEOPS_GITHUB_SECRET_FILE",
        value_delimiter = ','
    )]
    github_secret_files: Vec<PathBuf>,
    /// A file holding a GitLab webhook token; repeat (or separate with commas) during a
    /// rotation.
    #[arg(
        long = "gitlab-token-file",
        env = "GLUEOPS_GITLAB_TOKEN_FILE",
        value_delimiter = ','
    )]
    gitlab_token_files: Vec<PathBuf>,
    /// The secret store that `spec.secretStore.backup` backs up (`sops://`, `vault://`, ...).
    #[arg(long, env = "GLUEOPS_STORE")]
    store: Option<String>,
    /// The age recipients scheduled backups are encrypted to, one per line (`#` comments):
    /// the only readers of an archive; the config repo's list may only repeat them.
    #[arg(long, env = "GLUEOPS_BACKUP_RECIPIENTS", value_name = "FILE")]
    backup_recipients: Option<PathBuf>,
    /// How often the level-triggered pass runs (sync, windows, preview gc, backups).
    #[arg(long, env = "GLUEOPS_RESYNC", default_value = "5m")]
    resync: String,
    /// Deliveries waiting at most; more are answered 503 with Retry-After.
    #[arg(long, env = "GLUEOPS_QUEUE", default_value_t = 1000)]
    queue: usize,
    /// The largest webhook body accepted, in bytes (GitHub sends at most 25 MB).
    #[arg(long, env = "GLUEOPS_MAX_BODY", default_value_t = glueops::git::DEFAULT_MAX_BODY)]
    max_body: usize,
    /// The config repo as webhooks name it (`owner/name`; default from --config).
    #[arg(long, env = "GLUEOPS_CONFIG_REPO")]
    config_repo: Option<String>,
    /// The config branch (default the config repository's default branch).
    #[arg(long, env = "GLUEOPS_CONFIG_BRANCH")]
    config_branch: Option<String>,
    /// The manifest branch (default `spec.manifestRepo.branch`, else `main`).
    #[arg(long, env = "GLUEOPS_BRANCH")]
    branch: Option<String>,
    /// Bare clones and the journal of accepted deliveries (one folder per replica).
    #[arg(long, env = "GLUEOPS_CACHE")]
    cache: Option<PathBuf>,
    /// How long one git process (a fetch, a push) may run before it is stopped; the batch is
    /// retried and `/readyz` says which remote did not answer.
    #[arg(long, env = "GLUEOPS_GIT_TIMEOUT", default_value = "120s", value_parser = crate::flags::duration)]
    git_timeout: std::time::Duration,
    /// Log one JSON object per line.
    #[arg(long, env = "GLUEOPS_LOG_JSON")]
    log_json: bool,
    /// Tests: read the time from this file (RFC 3339) at every use.
    #[arg(long, env = "GLUEOPS_CLOCK_FILE", hide = true)]
    clock_file: Option<PathBuf>,
    #[command(flatten)]
    forge: crate::forge::ForgeArgs,
    /// Watch container registries: poll every image with an `imagePolicy` this often, and
    /// bump the environments whose promotion is `auto` when the policy allows a newer tag.
    #[arg(long, env = "GLUEOPS_REGISTRY_INTERVAL", value_parser = crate::flags::duration)]
    registry_interval: Option<std::time::Duration>,
    /// A file holding a bearer token for `POST /webhooks/registry` (a registry's push
    /// notifications wake the poll); repeat during a rotation.
    #[arg(
        long = "registry-webhook-token-file",
        env = "GLUEOPS_REGISTRY_WEBHOOK_TOKEN_FILE",
        value_delimiter = ',',
        requires = "registry_interval"
    )]
    registry_webhook_token_files: Vec<PathBuf>,
    #[command(flatten)]
    registry: crate::images::RegistryArgs,
    /// The dashboard at `/` (with `/status` and `/metrics`): `on` or `off`.
    #[arg(long, env = "GLUEOPS_DASHBOARD", default_value = "on", value_parser = ["on", "off"])]
    dashboard: String,
}

/// Serve the dashboard alone, read only: no webhooks, nothing written.
#[derive(Debug, clap::Args)]
pub(crate) struct DashboardArgs {
    /// The address to listen on.
    #[arg(long, env = "GLUEOPS_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The config repo (URL or path).
    #[arg(long, env = "GLUEOPS_CONFIG")]
    config: String,
    /// The manifest repo (URL or path).
    #[arg(long, env = "GLUEOPS_MANIFESTS")]
    manifests: String,
    /// The config branch (default the config repository's default branch).
    #[arg(long, env = "GLUEOPS_CONFIG_BRANCH")]
    config_branch: Option<String>,
    /// The manifest branch (default `spec.manifestRepo.branch`, else `main`).
    #[arg(long, env = "GLUEOPS_BRANCH")]
    branch: Option<String>,
    /// Bare clones (default: the user's cache folder).
    #[arg(long, env = "GLUEOPS_CACHE")]
    cache: Option<PathBuf>,
    /// How often the repositories are read again.
    #[arg(long, default_value = "5s", value_parser = crate::flags::duration)]
    refresh: std::time::Duration,
    /// How long one git process may run before it is stopped.
    #[arg(long, env = "GLUEOPS_GIT_TIMEOUT", default_value = "120s", value_parser = crate::flags::duration)]
    git_timeout: std::time::Duration,
}

pub(crate) fn dashboard(args: DashboardArgs) -> Result<u8, Error> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
        .with_ansi(false)
        .init();
    let cache = args
        .cache
        .clone()
        .unwrap_or_else(crate::flows::default_cache);
    let mut settings = glueops_serve::Settings::new(&args.config, &args.manifests, cache);
    settings.read_only = true;
    settings.resync = args.refresh;
    settings.config_branch = args.config_branch;
    settings.manifest_branch = args.branch;
    settings.git_timeout = args.git_timeout;
    run(args.listen, settings)
}

pub(crate) fn serve(args: ServeArgs) -> Result<u8, Error> {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
        .with_ansi(false);
    if args.log_json {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
    let cache = args
        .cache
        .clone()
        .unwrap_or_else(crate::flows::default_cache);
    let mut settings = glueops_serve::Settings::new(&args.config, &args.manifests, cache);
    settings.github_secrets = args
        .github_secret_files
        .iter()
        .map(crate::flags::read_secret)
        .collect::<Result<_, _>>()?;
    settings.gitlab_tokens = args
        .gitlab_token_files
        .iter()
        .map(crate::flags::read_secret)
        .collect::<Result<_, _>>()?;
    let clients = args.forge.clients()?;
    settings.github = clients.github;
    settings.gitlab = clients.gitlab;
    settings.notify = clients.notify;
    settings.public_url.clone_from(&args.forge.public_url);
    settings.store = args.store;
    settings.backup_recipients = args.backup_recipients;
    settings.queue = args.queue;
    settings.max_body = args.max_body;
    settings.config_repo = args.config_repo;
    settings.config_branch = args.config_branch;
    settings.manifest_branch = args.branch;
    settings.git_timeout = args.git_timeout;
    settings.max_event_age = args.max_event_age;
    settings.request_timeout = args.request_timeout;
    settings.max_connections = args.max_connections;
    settings.admin_listen = args.admin_listen;
    settings.admin_token = args
        .admin_token_file
        .as_ref()
        .map(crate::flags::read_secret)
        .transpose()?;
    if let Some(interval) = args.registry_interval {
        settings.registry = Some(glueops_serve::RegistryWatch {
            settings: args.registry.settings()?,
            interval,
            webhook_tokens: args
                .registry_webhook_token_files
                .iter()
                .map(crate::flags::read_secret)
                .collect::<Result<_, _>>()?,
        });
    }
    settings.dashboard = args.dashboard == "on";
    let resync = glueops::model::check::go_duration_seconds(&args.resync)
        .map_err(|e| Error::Invalid(format!("--resync {}: {e}", args.resync)))?;
    settings.resync = std::time::Duration::from_secs(resync.max(1));
    if let Some(file) = args.clock_file {
        settings.clock = glueops_serve::Clock::File(file);
    }
    run(args.listen, settings)
}

/// Serves `settings` on `listen` until SIGTERM or Ctrl-C.
fn run(listen: SocketAddr, settings: glueops_serve::Settings) -> Result<u8, Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    runtime.block_on(async {
        let server = glueops_serve::Server::bind(listen, settings).await?;
        server.run(glueops_serve::shutdown_signal()).await
    })?;
    Ok(0)
}
