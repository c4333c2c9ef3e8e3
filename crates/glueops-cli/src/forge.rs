//! The flags that let glueops talk back (comments, statuses, deployments, notifications),
//! shared by `glueops serve` and the one-shot commands. Tokens and keys come only from files.

use std::path::PathBuf;

use glueops::forge::{Endpoint, GitHub, GitLab};
use secrecy::SecretString;

use crate::error::Error;

/// Where glueops tells what it did.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ForgeArgs {
    /// The GitHub API (`https://HOST/api/v3` for GitHub Enterprise Server).
    #[arg(
        global = true,
        long,
        env = "GLUEOPS_GITHUB_API",
        default_value = "https://api.github.com",
        value_name = "URL"
    )]
    github_api: String,
    /// A file holding a GitHub token (contents read, pull requests, statuses and deployments
    /// write): comments, statuses and deployments on GitHub.
    #[arg(
        global = true,
        long,
        env = "GLUEOPS_GITHUB_TOKEN_FILE",
        value_name = "FILE",
        conflicts_with = "github_app_id"
    )]
    github_token_file: Option<PathBuf>,
    /// Sign in as this GitHub App (with --github-app-key-file): an installation token per
    /// repository owner, refreshed before it expires.
    #[arg(
        global = true,
        long,
        env = "GLUEOPS_GITHUB_APP_ID",
        value_name = "ID",
        requires = "github_app_key_file"
    )]
    github_app_id: Option<u64>,
    /// The GitHub App's private key (the PEM file GitHub generated).
    #[arg(
        global = true,
        long,
        env = "GLUEOPS_GITHUB_APP_KEY_FILE",
        value_name = "PEM",
        requires = "github_app_id"
    )]
    github_app_key_file: Option<PathBuf>,
    /// The GitLab API.
    #[arg(
        global = true,
        long,
        env = "GLUEOPS_GITLAB_API",
        default_value = "https://gitlab.com/api/v4",
        value_name = "URL"
    )]
    gitlab_api: String,
    /// A file holding a GitLab token with the `api` scope: notes, statuses and deployments
    /// on GitLab.
    #[arg(
        global = true,
        long,
        env = "GLUEOPS_GITLAB_API_TOKEN_FILE",
        value_name = "FILE"
    )]
    gitlab_api_token_file: Option<PathBuf>,
    /// Send release, hold, rollback, drift and failure notifications here (repeatable): a
    /// Slack incoming webhook (`hooks.slack.com`, or `slack+https://…` for a compatible one)
    /// or any HTTPS endpoint (a signed JSON event). A URL that is itself a credential (a
    /// Slack webhook) belongs in --notify-file.
    #[arg(
        global = true,
        long = "notify",
        env = "GLUEOPS_NOTIFY",
        value_delimiter = ',',
        value_name = "URL"
    )]
    notify: Vec<String>,
    /// A file of notification URLs, one per line (`#` comments).
    #[arg(global = true, long, env = "GLUEOPS_NOTIFY_FILE", value_name = "FILE")]
    notify_file: Option<PathBuf>,
    /// A file holding the secret that signs JSON notifications
    /// (`X-Glueops-Signature-256: sha256=<HMAC-SHA256 of the body>`).
    #[arg(
        global = true,
        long,
        env = "GLUEOPS_NOTIFY_SECRET_FILE",
        value_name = "FILE"
    )]
    notify_secret_file: Option<PathBuf>,
    /// Where glueops is reached, for links back from statuses (`https://glueops.example.com`).
    #[arg(global = true, long, env = "GLUEOPS_PUBLIC_URL", value_name = "URL")]
    pub(crate) public_url: Option<String>,
}

/// The clients the flags configure.
pub(crate) struct Clients {
    pub(crate) github: Option<GitHub>,
    pub(crate) gitlab: Option<GitLab>,
    pub(crate) notify: Vec<Endpoint>,
}

impl ForgeArgs {
    /// The clients configured (none when no token, key or endpoint is given).
    pub(crate) fn clients(&self) -> Result<Clients, Error> {
        let github = match (
            &self.github_token_file,
            self.github_app_id,
            &self.github_app_key_file,
        ) {
            (Some(file), _, _) => Some(GitHub::token(&api(&self.github_api)?, secret(file)?)),
            (None, Some(id), Some(key)) => {
                Some(GitHub::app(&api(&self.github_api)?, id, &secret(key)?)?)
            }
            _ => None,
        };
        let gitlab = match &self.gitlab_api_token_file {
            Some(file) => Some(GitLab::new(&api(&self.gitlab_api)?, secret(file)?)),
            None => None,
        };
        let signing = self.notify_secret_file.as_ref().map(secret).transpose()?;
        let mut urls = self.notify.clone();
        if let Some(file) = &self.notify_file {
            let text = std::fs::read_to_string(file).map_err(|source| Error::File {
                path: file.clone(),
                source,
            })?;
            urls.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_string),
            );
        }
        let notify = urls
            .iter()
            .map(|u| Endpoint::parse(u, signing.clone()))
            .collect::<Result<_, _>>()?;
        if let Some(url) = &self.public_url {
            api(url)?;
        }
        Ok(Clients {
            github,
            gitlab,
            notify,
        })
    }
}

/// An API address: `https://`, or plain `http://` to a loopback address only (a token is
/// never sent in the clear across a network).
fn api(url: &str) -> Result<String, Error> {
    let rest = url
        .strip_prefix("https://")
        .map(|r| (r, true))
        .or_else(|| url.strip_prefix("http://").map(|r| (r, false)));
    let Some((rest, tls)) = rest else {
        return Err(Error::Invalid(format!("`{url}` is not an https:// URL")));
    };
    let host = rest.split(['/', ':']).next().unwrap_or_default();
    if rest.split('/').next().unwrap_or_default().contains('@') || host.is_empty() {
        return Err(Error::Invalid(format!(
            "`{}` must name a host and no credentials (tokens come from files)",
            url.split('@').next_back().unwrap_or_default()
        )));
    }
    if !tls && !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        return Err(Error::Invalid(format!(
            "`{url}`: plain http:// is only for a loopback address; use https://"
        )));
    }
    Ok(url.trim_end_matches('/').to_string())
}

fn secret(path: &PathBuf) -> Result<SecretString, Error> {
    crate::flags::read_secret(path).map(SecretString::from)
}

/// The feedback flags of a one-shot command (`sync`, `preview`, `bump`, `promote`,
/// `rollback`): what it did is told to the forge before it exits; what the forge does not
/// take within `--feedback-timeout` waits in `<cache>/feedback-outbox` for the next command.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct FeedbackArgs {
    #[command(flatten)]
    forge: ForgeArgs,
    /// The config repo as the forge names it (`owner/name`; default: the last two parts of
    /// --config).
    #[arg(long, env = "GLUEOPS_CONFIG_REPO", global = true)]
    config_repo: Option<String>,
    /// How long the command keeps trying to deliver its feedback before it leaves the rest
    /// in the cache's outbox for the next command.
    #[arg(long, env = "GLUEOPS_FEEDBACK_TIMEOUT", global = true, default_value = "30s", value_parser = crate::flags::duration)]
    feedback_timeout: std::time::Duration,
}

/// Where a one-shot command's feedback goes.
pub(crate) struct Destination<'a> {
    pub(crate) cache: &'a std::path::Path,
    pub(crate) config: &'a str,
    pub(crate) manifests: &'a str,
    pub(crate) config_branch: Option<&'a str>,
}

impl FeedbackArgs {
    /// Composes the calls with `compose` and delivers them (nothing when no forge or
    /// endpoint is configured). A forge that does not answer never fails the command: its
    /// calls wait in the outbox, and a warning says so.
    pub(crate) fn tell(
        &self,
        to: &Destination<'_>,
        compose: impl FnOnce(&glueops::feedback::Feedback) -> Vec<glueops::forge::Call>,
    ) -> Result<(), Error> {
        let clients = self.clients_or_none()?;
        let Some(forge) = clients else {
            return Ok(());
        };
        let host = if forge.serves(glueops::forge::Host::GitHub) {
            glueops::forge::Host::GitHub
        } else {
            glueops::forge::Host::GitLab
        };
        let repo = self
            .config_repo
            .clone()
            .unwrap_or_else(|| glueops::feedback::repo_name(to.config));
        let mut feedback = glueops::feedback::Feedback::new(host, &repo);
        feedback.config_branch = to.config_branch.map(str::to_string);
        feedback.manifests_web = glueops::feedback::web_url(to.manifests);
        feedback.public_url.clone_from(&self.forge.public_url);
        let outbox = glueops::forge::Outbox::open(&to.cache.join("feedback-outbox"))?;
        for call in compose(&feedback).into_iter().filter(|c| forge.takes(c)) {
            outbox.put(&call)?;
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        let deadline = std::time::Instant::now() + self.feedback_timeout;
        let waiting = runtime.block_on(async {
            loop {
                let report = outbox.deliver(&forge, jiff::Timestamp::now()).await?;
                let due = report.next_attempt.map(|at| {
                    let secs = at.as_second() - jiff::Timestamp::now().as_second();
                    std::time::Duration::from_secs(secs.clamp(1, 30).unsigned_abs())
                });
                match due {
                    Some(wait) if std::time::Instant::now() + wait < deadline => {
                        tokio::time::sleep(wait).await;
                    }
                    _ => return Ok::<usize, Error>(report.waiting),
                }
            }
        })?;
        if waiting > 0 {
            eprintln!(
                "warning: {waiting} feedback call(s) for the forge wait in {} (the forge did not take them); the next glueops command with this --cache sends them",
                to.cache.join("feedback-outbox").display()
            );
        }
        Ok(())
    }

    /// Where the verification gates read checks (`promotion.requires.checks`), when a forge
    /// is configured: the config repo (`--config-repo`) and the manifest repo (its name on
    /// the forge, from `spec.manifestRepo.url`).
    pub(crate) fn checks(
        &self,
        config: &str,
        opts: &glueops::Options,
    ) -> Result<Option<std::sync::Arc<dyn glueops::verification::CheckSource>>, Error> {
        let Some(forge) = self.clients_or_none()? else {
            return Ok(None);
        };
        let host = if forge.serves(glueops::forge::Host::GitHub) {
            glueops::forge::Host::GitHub
        } else {
            glueops::forge::Host::GitLab
        };
        Ok(Some(std::sync::Arc::new(
            glueops::verification::ForgeChecks {
                forge,
                host,
                config_repo: self
                    .config_repo
                    .clone()
                    .unwrap_or_else(|| glueops::feedback::repo_name(config)),
                manifests_repo: glueops::Config::open(
                    config,
                    opts,
                    opts.config_branch.as_deref(),
                    false,
                )?
                .platform()
                .ok()
                .and_then(|p| glueops::feedback::forge_name(&p.spec.manifest_repo.url)),
            },
        )))
    }

    fn clients_or_none(&self) -> Result<Option<glueops::forge::Forge>, Error> {
        let c = self.forge.clients()?;
        let forge = glueops::forge::Forge::new(c.github, c.gitlab, c.notify)?;
        Ok(forge.is_configured().then_some(forge))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apis_are_https_or_loopback_and_carry_no_credentials() {
        assert_eq!(
            api("https://ghe.example.com/api/v3/").unwrap(),
            "https://ghe.example.com/api/v3"
        );
        assert!(api("http://127.0.0.1:9/api").is_ok());
        for bad in [
            "http://api.github.com",
            "ftp://x",
            "https://user:pw@host/api",
            "--upload-pack=x",
        ] {
            let e = api(bad).unwrap_err().to_string();
            assert!(!e.contains("pw"), "{e}");
        }
    }
}
