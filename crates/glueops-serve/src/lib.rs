//! # glueops-serve
//!
//! The platform loop as a webhook server (`glueops serve`). Verified GitHub and GitLab
//! deliveries in; released commits out:
//! - a push to the config branch syncs; a pull request on an app's `source.repo` opens,
//!   updates or closes its preview; a published image or a green pipeline on an app's branch
//!   bumps the environments whose promotion is `auto`, then syncs; an approving review of a
//!   config pull request counts at the gates of the commits it approved; anything else is
//!   answered 202 and counted.
//! - One worker applies the work in arrival order, batching what is waiting (one sync for a
//!   burst of pushes). What must outlive the process lives in git: approvals and applied
//!   delivery ids in the manifest remote's [`glueops::ledger`], releases and holds in the
//!   trailers. Accepted deliveries are journaled before they are answered, so a crash loses
//!   none; on start and every `resync` a level-triggered pass repairs what a lost event left
//!   (sync, windows that opened, preview gc, scheduled secret backups).
//! - `/healthz`, `/readyz`, `/status` (JSON) and `/metrics` (Prometheus text, through
//!   `prometheus-client`).
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), glueops_serve::Error> {
//! let cache = tempfile::tempdir().unwrap();
//! // Paths or URLs of the config and manifest repositories.
//! let mut settings = glueops_serve::Settings::new("/srv/git/acme/config.git", "/srv/git/acme/manifests.git", cache.path());
//! settings.github_secrets.push("the webhook secret".into());
//! let server = glueops_serve::Server::bind("127.0.0.1:0".parse().unwrap(), settings).await?;
//! println!("POST webhooks to http://{}/webhooks/github", server.local_addr()?);
//! // A real server stops on `glueops_serve::shutdown_signal()` (SIGTERM or Ctrl-C).
//! server.run(async {}).await
//! # }
//! ```

mod backup;
mod bumps;
mod dashboard;
mod guard;
mod health;
mod http;
mod images;
mod listen;
mod metrics;
mod queue;
mod route;
mod settings;
mod steps;
mod talkback;
mod worker;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use glueops::Status;
use glueops::git::WebhookReceiver;
use jiff::Timestamp;

use crate::health::{Health, reason_code};
use crate::metrics::Metrics;
use crate::queue::Queue;
use crate::route::Routes;

pub use settings::{RegistryWatch, Settings};

/// Where "now" comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clock {
    /// The system clock.
    System,
    /// The RFC 3339 time written in this file, read at every use (for tests of deploy
    /// windows: the test moves time by rewriting the file).
    File(PathBuf),
}

impl Clock {
    pub(crate) fn now(&self) -> Timestamp {
        match self {
            Clock::System => Timestamp::now(),
            Clock::File(path) => std::fs::read_to_string(path)
                .ok()
                .and_then(|t| t.trim().parse().ok())
                .unwrap_or_else(Timestamp::now),
        }
    }
}

/// Errors of the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The address cannot be listened on.
    #[error("cannot listen on {addr}: {source}; pick a free address with --listen")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The server stopped with an I/O error.
    #[error("the server failed: {0}")]
    Serve(#[source] std::io::Error),
    /// A file of the journal or cache cannot be read or written.
    #[error("cannot use `{}`: {source}; check the cache folder's permissions and free space", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A journal file is not one this server wrote.
    #[error("`{}` is not a journaled delivery ({reason}); move it out of the journal folder", path.display())]
    Journal {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The config or manifest repository string cannot be a git remote.
    #[error("{0}")]
    Remote(#[source] glueops::git::RemoteError),
    /// A branch name git would refuse.
    #[error("{0}")]
    Branch(#[source] glueops::git::BranchError),
    /// No webhook secret is configured.
    #[error("no webhook secret: give --github-secret-file or --gitlab-token-file (or both)")]
    NoSecret,
    /// The worker thread, or a blocking task of the server, cannot be started or ended badly.
    #[error("the worker failed: {what}")]
    Worker {
        /// What failed.
        what: &'static str,
        /// The cause (a join error, the OS refusing a thread), when there is one.
        #[source]
        source: Option<Cause>,
    },
    /// The scheduled secret-store backup cannot run; nothing was backed up.
    #[error("secret store backup: {what}")]
    Backup {
        /// What is wrong, and what to fix.
        what: String,
        /// The cause, when there is one.
        #[source]
        source: Option<Cause>,
    },
}

/// The cause of a worker or backup failure, as the library that failed gave it.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

impl Error {
    fn worker(what: &'static str, source: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::Worker {
            what,
            source: Some(Box::new(source)),
        }
    }

    pub(crate) fn backup(
        what: impl Into<String>,
        source: Option<impl std::error::Error + Send + Sync + 'static>,
    ) -> Error {
        Error::Backup {
            what: what.into(),
            source: source.map(|e| Box::new(e) as Cause),
        }
    }
}

/// What the handlers and the worker share.
#[derive(Debug)]
struct Shared {
    settings: Settings,
    receiver: WebhookReceiver,
    queue: Queue,
    metrics: Arc<Metrics>,
    /// Feedback to the forge, when one is configured.
    talkback: Option<talkback::Talkback>,
    routes: RwLock<Option<(Arc<Routes>, Option<String>)>>,
    applied: RwLock<glueops::ledger::Ledger>,
    health: Mutex<Health>,
    status: RwLock<Option<Arc<Status>>>,
    /// What the last sync held (a hold commits nothing).
    held: RwLock<Option<Vec<glueops::plan::Held>>>,
    /// This server writes its branches: every call plans on the tips it pushed (a fetch
    /// saved per release; any other writer's tip is caught by the compare-and-swap push).
    session: Arc<glueops::Session>,
    /// Registry watching, when configured.
    watcher: Option<images::Watcher>,
    /// What the dashboard shows, and its version (watched by `/events`).
    board: tokio::sync::watch::Sender<dashboard::Shown>,
    /// Open `/events` streams (at most [`dashboard::EVENT_STREAMS`]).
    event_streams: Arc<tokio::sync::Semaphore>,
    /// The deployments with an `imagePolicy`, as of the config commit routed on.
    watches: RwLock<Arc<Vec<glueops::images::Watch>>>,
}

impl Shared {
    fn options(&self) -> glueops::Options {
        let mut opts = glueops::Options::new(&self.settings.cache, self.settings.clock.now());
        opts.config_branch.clone_from(&self.settings.config_branch);
        opts.branch.clone_from(&self.settings.manifest_branch);
        opts.git_timeout = self.settings.git_timeout;
        opts.session = Arc::clone(&self.session);
        opts.checks = self.talkback.as_ref().map(|t| t.checks(self));
        opts
    }

    fn watches(&self) -> Arc<Vec<glueops::images::Watch>> {
        Arc::clone(&read(&self.watches))
    }

    fn set_watches(&self, watches: Vec<glueops::images::Watch>) {
        *self.watches.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(watches);
    }

    fn routes(&self) -> Option<Arc<Routes>> {
        read(&self.routes).as_ref().map(|(r, _)| Arc::clone(r))
    }

    fn routes_commit(&self) -> Option<String> {
        read(&self.routes).as_ref().and_then(|(_, c)| c.clone())
    }

    fn set_routes(&self, (routes, commit): (Routes, Option<String>)) {
        *self.routes.write().unwrap_or_else(|p| p.into_inner()) = Some((Arc::new(routes), commit));
    }

    fn manifest_branch(&self) -> String {
        self.routes()
            .map_or_else(|| "main".to_string(), |r| r.manifest_branch.clone())
    }

    fn already_applied(&self, id: &str) -> bool {
        read(&self.applied).applied(id)
    }

    fn shown(&self) -> dashboard::Shown {
        self.board.borrow().clone()
    }

    fn board_changes(&self) -> tokio::sync::watch::Receiver<dashboard::Shown> {
        self.board.subscribe()
    }

    /// Shows `board`; the version rises (and `/events` tells the pages) when it changed
    /// beyond the moment it was read.
    fn set_board(&self, board: glueops::board::Board) {
        self.board.send_if_modified(|shown| {
            let same = shown.board.as_deref().is_some_and(|old| {
                glueops::board::Board {
                    now: board.now,
                    ..old.clone()
                } == board
            });
            if !same {
                shown.version += 1;
            }
            shown.board = Some(Arc::new(board));
            !same
        });
    }

    /// What the last sync repaired (files someone else changed on the manifest branch).
    fn set_drift(&self, paths: Vec<String>) {
        self.board.send_if_modified(|shown| {
            if *shown.drift == paths {
                return false;
            }
            shown.drift = Arc::new(paths);
            shown.version += 1;
            true
        });
    }

    fn set_status(&self, status: Status) {
        *self.status.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(status));
    }

    fn status(&self) -> Option<Arc<Status>> {
        read(&self.status).clone()
    }

    fn health(&self) -> Health {
        self.health
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn set_config_ok(&self, ok: bool) {
        self.health
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .config_reachable = ok;
    }

    fn set_manifests_ok(&self, ok: bool) {
        self.health
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .manifests_reachable = ok;
    }

    fn set_synced(&self, error: Option<&glueops::Error>) {
        let mut h = self.health.lock().unwrap_or_else(|p| p.into_inner());
        let ok = error.is_none();
        h.last_sync_ok = ok;
        h.reason = error.map(reason_code);
        if ok {
            h.config_reachable = true;
            h.manifests_reachable = true;
        }
    }

    /// A batch failed (and is retried): `/readyz` says why.
    fn set_failed(&self, error: &glueops::Error) {
        self.health.lock().unwrap_or_else(|p| p.into_inner()).reason = Some(reason_code(error));
    }

    fn applied_ledger(&self) -> glueops::ledger::Ledger {
        read(&self.applied).clone()
    }

    fn remember_applied(&self, ledger: &glueops::ledger::Ledger) {
        ledger.clone_into(&mut self.applied.write().unwrap_or_else(|p| p.into_inner()));
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

/// A bound server, not yet serving.
#[derive(Debug)]
pub struct Server {
    listener: tokio::net::TcpListener,
    admin: Option<tokio::net::TcpListener>,
    shared: Arc<Shared>,
}

impl Server {
    /// Listens on `addr` (port 0 picks a free one) and opens the journal of deliveries a
    /// previous run accepted.
    pub async fn bind(addr: SocketAddr, settings: Settings) -> Result<Server, Error> {
        if settings.github_secrets.is_empty()
            && settings.gitlab_tokens.is_empty()
            && !settings.read_only
        {
            return Err(Error::NoSecret);
        }
        // Repository strings and branch names are checked before anything reaches git.
        for spec in [&settings.config, &settings.manifests] {
            glueops::git::Remote::parse(spec).map_err(Error::Remote)?;
        }
        for branch in [&settings.config_branch, &settings.manifest_branch]
            .into_iter()
            .flatten()
        {
            glueops::git::check_branch(branch).map_err(Error::Branch)?;
        }
        let mut receiver = WebhookReceiver::new()
            .max_body(settings.max_body)
            .dedup_window(10_000, Duration::from_secs(3600));
        for secret in &settings.github_secrets {
            receiver = receiver.github_secret(secret.clone());
        }
        for token in &settings.gitlab_tokens {
            receiver = receiver.gitlab_token(token.clone());
        }
        // Clearing locks and replaying the journal read and write files: off the runtime.
        let (cache, capacity) = (settings.cache.clone(), settings.queue);
        let queue = tokio::task::spawn_blocking(move || {
            health::clear_stale_locks(&cache);
            Queue::open(&cache.join("serve-journal"), capacity)
        })
        .await
        .map_err(|e| Error::worker("opening the journal", e))??;
        if queue.len() > 0 {
            tracing::info!(
                deliveries = queue.len(),
                "journal: replaying deliveries accepted before a restart"
            );
        }
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| Error::Listen { addr, source })?;
        let admin = match settings.admin_listen {
            Some(addr) => Some(
                tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|source| Error::Listen { addr, source })?,
            ),
            None => None,
        };
        let metrics = Arc::new(Metrics::new());
        let talkback = talkback::Talkback::open(&settings, &metrics)?;
        let watcher = settings
            .registry
            .as_ref()
            .map(images::Watcher::new)
            .transpose()?;
        let shared = Arc::new(Shared {
            settings,
            receiver,
            queue,
            metrics,
            talkback,
            routes: RwLock::new(None),
            applied: RwLock::new(glueops::ledger::Ledger::default()),
            health: Mutex::new(Health::default()),
            status: RwLock::new(None),
            held: RwLock::new(None),
            session: Arc::new(glueops::Session::long_running()),
            watcher,
            watches: RwLock::new(Arc::new(Vec::new())),
            board: tokio::sync::watch::Sender::new(dashboard::Shown::default()),
            event_streams: Arc::new(tokio::sync::Semaphore::new(dashboard::EVENT_STREAMS)),
        });
        // Route from the first request: read the config before answering any.
        let reader = Arc::clone(&shared);
        match tokio::task::spawn_blocking(move || steps::load_routes(&reader)).await {
            Ok(Ok(routes)) => shared.set_routes(routes),
            Ok(Err(e)) => {
                tracing::warn!(error = %steps::chain(&e), "the config cannot be read yet; webhooks are answered 503 until it can")
            }
            Err(e) => return Err(Error::worker("reading the config for routing", e)),
        }
        Ok(Server {
            listener,
            admin,
            shared,
        })
    }

    /// The address listened on.
    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        self.listener.local_addr().map_err(Error::Serve)
    }

    /// The operators' address (`/status`, `/metrics`), when they have their own.
    pub fn admin_addr(&self) -> Result<Option<SocketAddr>, Error> {
        self.admin
            .as_ref()
            .map(|l| l.local_addr().map_err(Error::Serve))
            .transpose()
    }

    /// Serves until `shutdown` completes, then stops accepting, finishes every accepted
    /// delivery (or leaves it journaled when a remote is away) and returns.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let shared = Arc::clone(&self.shared);
        let worker = std::thread::Builder::new()
            .name("glueops-worker".into())
            .spawn(move || worker::run(&shared))
            .map_err(|e| Error::worker("starting the worker thread", e))?;
        let admin_address = self.admin_addr()?.map(|a| a.to_string());
        tracing::info!(address = %self.local_addr()?, admin = admin_address.as_deref().unwrap_or("-"), "glueops serve listening");
        // One stop signal for both listeners.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let stopped_rx = stopped.clone();
        // Feedback goes on until the worker finished the accepted deliveries.
        let (feedback_stop, until_feedback) = tokio::sync::watch::channel(false);
        let until_stopped = move || {
            let mut stopped = stopped.clone();
            async move {
                let _ = stopped.wait_for(|s| *s).await;
            }
        };
        let settings = &self.shared.settings;
        let limits = (settings.max_connections, settings.request_timeout);
        let admin = self.admin.map(|listener| {
            let router = http::admin_router(Arc::clone(&self.shared));
            tokio::spawn(listen::serve(listener, router, limits, until_stopped()))
        });
        let public = http::router(Arc::clone(&self.shared), admin.is_none());
        let main = listen::serve(self.listener, public, limits, until_stopped());
        let signal = async move {
            shutdown.await;
            let _ = stop.send(true);
        };
        let watching = tokio::spawn(images::watch(Arc::clone(&self.shared), stopped_rx));
        let feedback = tokio::spawn(talkback::deliver(
            Arc::clone(&self.shared),
            until_feedback,
            FEEDBACK_GRACE,
        ));
        tokio::join!(main, signal);
        let _ = watching.await;
        if let Some(admin) = admin {
            let _ = admin.await;
        }
        tracing::info!(
            waiting = self.shared.queue.len(),
            "shutting down: finishing accepted deliveries"
        );
        self.shared.queue.close();
        let joined = tokio::task::spawn_blocking(move || worker.join())
            .await
            .map_err(|e| Error::worker("waiting for the worker thread", e))?;
        joined.map_err(|_| Error::Worker {
            what: "the worker thread panicked",
            source: None,
        })?;
        let _ = feedback_stop.send(true);
        let _ = feedback.await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// How long feedback is still delivered at shutdown; the rest waits in the outbox.
const FEEDBACK_GRACE: Duration = Duration::from_secs(5);

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_repo_is_named_as_webhooks_name_it() {
        let name = |spec: &str| Settings::new(spec, "m", "c").config_repo_name();
        assert_eq!(name("https://github.com/acme/config.git"), "acme/config");
        assert_eq!(name("git@github.com:acme/config.git"), "acme/config");
        assert_eq!(name("/srv/git/acme/config.git/"), "acme/config");
        let mut s = Settings::new("/tmp/x.git", "m", "c");
        s.config_repo = Some("Acme/Other".into());
        assert_eq!(s.config_repo_name(), "Acme/Other");
    }

    #[test]
    fn settings_never_print_secrets() {
        let mut s = Settings::new("c", "m", "cache");
        s.github_secrets.push("hunter2".into());
        s.store = Some("vault://token@host".into());
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("token@host"),
            "{shown}"
        );
    }
}
