//! Config edits that release: `bump` (set an image tag in the config repo), `promote` (the
//! tag released in the `from` environment, through the gate) and `rollback` (an earlier tag,
//! gates bypassed). Each edits the config repo first — the config stays the request — then
//! syncs.

use std::collections::BTreeSet;

use jiff::Timestamp;

use crate::Error;
use crate::Options;
use crate::apply::{Outcome, sync_with};
use crate::checkout::Checkout;
use crate::config::Config;
use crate::gate::{self, Hold};
use crate::git::{Edit, Trailer};
use crate::plan::Request;
use crate::publish::{self, Commit, Published};
use crate::trailers as t;

/// The application commit a change builds, recorded for lead time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceCommit {
    /// Its id.
    pub commit: String,
    /// When it was made.
    pub time: Timestamp,
}

/// What a config edit did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigEdit {
    /// The values file edited.
    pub path: String,
    /// The config commit the flow continues from (the new one, or the tip when the file
    /// already said so).
    pub commit: String,
    /// False when the file already had that tag: nothing committed.
    pub changed: bool,
}

/// The values file of a deployment.
pub(crate) fn values_path(app: &str, env: &str) -> String {
    format!("apps/{app}/envs/{env}/values.yaml")
}

/// Sets `image.tag` of `app` in `env` in the config repo (`spec` must be a repository): only
/// the bytes of that scalar change (or the key is inserted), the edited repo is validated,
/// then committed and pushed, re-applied on a moved tip.
pub fn bump(
    spec: &str,
    app: &str,
    env: &str,
    tag: &str,
    source: Option<&SourceCommit>,
    extra: &[Trailer],
    opts: &Options,
) -> Result<ConfigEdit, Error> {
    let request = Bump {
        app,
        env,
        tag,
        source,
        extra,
    };
    bump_with(spec, &request, opts, None)
}

/// The values file of `app` in `env` at `base` with `image.tag` set to `tag` (only that
/// scalar's bytes changed), validated with the rest of the config; `None` when it has that
/// tag already.
pub(crate) fn tagged_values(
    checkout: &Checkout,
    base: &str,
    (app, env): (&str, &str),
    tag: &str,
) -> Result<Option<String>, Error> {
    let path = values_path(app, env);
    let Some(bytes) = checkout.repo.read_file(base, &path)? else {
        return Err(Error::Invalid {
            message: format!("`{app}` has no deployment to `{env}`: {path} does not exist"),
            help: "check the app and environment names (`glueops validate` lists them)".into(),
        });
    };
    let text = String::from_utf8(bytes).map_err(|_| Error::Unsafe {
        path: path.clone(),
        reason: "the file is not UTF-8 text".into(),
    })?;
    let new = crate::bump::set_image_tag(&text, tag).map_err(|e| Error::Unsafe {
        path: path.clone(),
        reason: e.0,
    })?;
    if new == text {
        return Ok(None);
    }
    crate::claims::validate_edit(checkout, base, app, &path, new.as_bytes())?;
    Ok(Some(new))
}

/// A [`bump`]'s request: set `image.tag` of `app` in `env` to `tag`.
#[derive(Debug, Clone, Copy)]
pub struct Bump<'a> {
    /// The app.
    pub app: &'a str,
    /// The environment.
    pub env: &'a str,
    /// The image tag.
    pub tag: &'a str,
    /// The source commit the image was built from, recorded in trailers.
    pub source: Option<&'a SourceCommit>,
    /// More trailers for the config commit.
    pub extra: &'a [Trailer],
}

/// [`bump`], with `during` run on another thread while the config commit's push is in flight
/// (a long-running [`Session`](crate::Session) only).
/// Meanwhile the commit stands as the config branch's just-pushed tip, so a [`sync`](crate::sync)
/// in `during` plans on it at once, and pushes its release only after the config remote
/// accepted the bump: when the remote refuses it, that sync pushes nothing and answers
/// [`Error::Superseded`], and the bump is planned again on the fetched tip.
///
/// Answers `during`'s result when it ran: not when nothing was committed (the file already
/// had the tag), not outside a long-running process, and not when `during` unwound.
pub fn bump_beside<T: Send>(
    spec: &str,
    request: &Bump<'_>,
    opts: &Options,
    during: impl FnOnce() -> T + Send,
) -> Result<(ConfigEdit, Option<T>), Error> {
    let result = std::sync::Mutex::new(None);
    let during = Box::new(|| {
        let out = during();
        *result.lock().unwrap_or_else(|p| p.into_inner()) = Some(out);
    });
    let edit = bump_with(spec, request, opts, Some(during))?;
    Ok((edit, result.into_inner().unwrap_or_else(|p| p.into_inner())))
}

fn bump_with(
    spec: &str,
    request: &Bump<'_>,
    opts: &Options,
    during: Option<Box<dyn FnOnce() + Send + '_>>,
) -> Result<ConfigEdit, Error> {
    let Bump {
        app,
        env,
        tag,
        source,
        extra,
    } = *request;
    crate::model::check::image_tag(tag).map_err(|reason| Error::Unsafe {
        path: values_path(app, env),
        reason: reason.to_string(),
    })?;
    let checkout = Checkout::open(spec, opts, opts.config_branch.as_deref())?;
    let path = values_path(app, env);
    let mut trailers: Vec<Trailer> = Vec::new();
    trailers.extend(t::make(t::BUMP, format!("{app}/{env} image.tag={tag}")));
    if let Some(s) = source {
        trailers.extend(t::make(t::SOURCE_COMMIT, &s.commit));
        trailers.extend(t::make(t::SOURCE_TIME, s.time.to_string()));
    }
    trailers.extend(extra.iter().cloned());
    let beside = publish::Beside {
        after: None,
        during,
    };
    let (edit, published) = publish::publish_beside(&checkout, opts.now, false, beside, |base| {
        let base = base.ok_or_else(|| Error::Invalid {
            message: format!(
                "the config repo {} has no branch `{}`",
                checkout.remote, checkout.branch
            ),
            help: "push the config repo first, or name its branch with --config-branch".into(),
        })?;
        let new = tagged_values(&checkout, base, (app, env), tag)?;
        let report = ConfigEdit {
            path: path.clone(),
            commit: base.to_string(),
            changed: new.is_some(),
        };
        let Some(new) = new else {
            return Ok((report, None));
        };
        let mut edit = Edit::default();
        edit.write(&path, new.into_bytes())?;
        let commit = Commit {
            edit,
            title: format!("{app}/{env}: image.tag {tag}"),
            trailers: trailers.clone(),
        };
        Ok((report, Some(commit)))
    })?;
    Ok(match published {
        Published::Pushed { commit, .. } => ConfigEdit { commit, ..edit },
        _ => edit,
    })
}

/// Why a promotion or rollback did not release.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Refused {
    /// The app.
    pub app: String,
    /// The environment.
    pub env: String,
    /// The rules that hold it.
    pub holds: Vec<Hold>,
}

/// What a promotion or rollback did.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase", tag = "result")]
pub enum Release {
    /// Released: the config edit and the sync that released it.
    Released {
        /// The tag.
        tag: String,
        /// The config edit.
        config: ConfigEdit,
        /// The sync.
        sync: Box<Outcome>,
    },
    /// Refused by the gate: nothing committed anywhere.
    Refused(Refused),
}

/// A release of a deployment recorded on the manifest branch.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Released {
    tag: String,
    source: Vec<Trailer>,
}

/// The releases of `app` in `env`, newest first (from the `Glueops-Deploy` trailers), read
/// back only until `tags` distinct tags are found.
fn releases(
    checkout: &Checkout,
    app: &str,
    env: &str,
    tags: usize,
) -> Result<Vec<Released>, Error> {
    let Some(tip) = checkout.fetch()? else {
        return Ok(Vec::new());
    };
    let mut out: Vec<Released> = Vec::new();
    checkout.repo.walk_log(&tip, |entry| {
        for value in t::values(&entry, t::DEPLOY) {
            if let Some(((a, e), fields)) = t::parse_deployment(value)
                && a == app
                && e == env
                && let Some((_, tag)) = fields.iter().find(|(k, _)| *k == "tag")
            {
                out.push(Released {
                    tag: (*tag).to_string(),
                    source: entry
                        .trailers
                        .iter()
                        .filter(|tr| tr.key == t::SOURCE_COMMIT || tr.key == t::SOURCE_TIME)
                        .cloned()
                        .collect(),
                });
            }
        }
        let distinct: BTreeSet<&str> = out.iter().map(|r| r.tag.as_str()).collect();
        distinct.len() < tags
    })?;
    Ok(out)
}

/// Promotes `app` to `env`: its tag becomes the one released in `env`'s `promotion.from`,
/// if the gate passes at `opts.now` with `approved_by`; refused (nothing committed) otherwise.
pub fn promote(
    config: &str,
    manifests: &str,
    app: &str,
    env: &str,
    approved_by: &[String],
    opts: &Options,
) -> Result<Release, Error> {
    let loaded = Config::open(config, opts, opts.config_branch.as_deref(), true)?;
    let environment = loaded
        .platform()?
        .environment(env)
        .ok_or_else(|| Error::Invalid {
            message: format!("no environment is named `{env}`"),
            help: "use one of the environments in glueops.yaml".into(),
        })?;
    let from = environment
        .promotion
        .as_ref()
        .and_then(|p| p.from.clone())
        .ok_or_else(|| Error::Invalid {
            message: format!("`{env}` has no promotion.from: there is nothing to promote from"),
            help: "set spec.environments[].promotion.from in glueops.yaml, or use `glueops bump`"
                .into(),
        })?;
    let checkout = crate::config::manifest_checkout(&loaded, manifests, opts)?;
    let released = releases(&checkout, app, &from, 1)?;
    let Some(source) = released.first() else {
        return Err(Error::Invalid {
            message: format!("`{app}` has never been released to `{from}`: nothing to promote"),
            help: format!("release it to {from} first (`glueops bump` or `glueops sync`)"),
        });
    };
    let mut holds = gate::check(environment, opts.now, approved_by);
    if environment
        .promotion
        .as_ref()
        .is_some_and(|p| p.requires.is_some())
    {
        // The verification gates: the release in `from` soaked and its checks green.
        let tip = checkout.fetch()?;
        let evidence =
            crate::verification::gather(&checkout, tip.as_deref(), loaded.repo()?, opts)?;
        let key = (app.to_string(), env.to_string());
        holds.extend(gate::verify(environment, opts.now, evidence.get(&key)));
    }
    if !holds.is_empty() {
        return Ok(Release::Refused(Refused {
            app: app.into(),
            env: env.into(),
            holds,
        }));
    }
    let tag = source.tag.clone();
    let time = source.source.iter().find(|tr| tr.key == t::SOURCE_TIME);
    let commit = source.source.iter().find(|tr| tr.key == t::SOURCE_COMMIT);
    let carried: Vec<Trailer> = commit.into_iter().chain(time).cloned().collect();
    let edit = bump(config, app, env, &tag, None, &carried, opts)?;
    let request = Request::Promote {
        app: app.into(),
        env: env.into(),
        from,
        tag: tag.clone(),
        approved_by: approved_by.to_vec(),
    };
    released_after(config, manifests, request, tag, edit, opts)
}

/// Rolls `app` in `env` back to `to`, or to the release before the current one; released at
/// once (the gate is bypassed, and the trailers say so).
pub fn rollback(
    config: &str,
    manifests: &str,
    app: &str,
    env: &str,
    to: Option<&str>,
    reason: &str,
    opts: &Options,
) -> Result<Release, Error> {
    let loaded = Config::open(config, opts, opts.config_branch.as_deref(), true)?;
    let checkout = crate::config::manifest_checkout(&loaded, manifests, opts)?;
    let tag = match to {
        Some(tag) => tag.to_string(),
        None => {
            let released = releases(&checkout, app, env, 2)?;
            let current = released.first().map(|r| r.tag.as_str());
            released
                .iter()
                .map(|r| r.tag.as_str())
                .find(|tag| Some(*tag) != current)
                .ok_or_else(|| Error::Invalid {
                    message: format!("`{app}` in `{env}` has no earlier release to roll back to"),
                    help: "name the tag with --to".into(),
                })?
                .to_string()
        }
    };
    let trailer = t::make(t::ROLLBACK, format!("{app}/{env} to={tag} reason={reason}"));
    let edit = bump(
        config,
        app,
        env,
        &tag,
        None,
        &trailer.into_iter().collect::<Vec<_>>(),
        opts,
    )?;
    let request = Request::Rollback {
        app: app.into(),
        env: env.into(),
        tag: tag.clone(),
        reason: reason.to_string(),
    };
    released_after(config, manifests, request, tag, edit, opts)
}

/// Syncs from the edited config with `request` answering the target's gate.
fn released_after(
    config: &str,
    manifests: &str,
    request: Request,
    tag: String,
    edit: ConfigEdit,
    opts: &Options,
) -> Result<Release, Error> {
    let loaded = Config::open(config, opts, opts.config_branch.as_deref(), true)?;
    let outcome = sync_with(&loaded, manifests, &request, opts, false)?;
    let held = request.target().and_then(|(app, env)| {
        outcome
            .plan
            .held
            .iter()
            .find(|h| h.app == app && h.env == env)
    });
    if let Some(h) = held {
        return Ok(Release::Refused(Refused {
            app: h.app.clone(),
            env: h.env.clone(),
            holds: h.holds.clone(),
        }));
    }
    Ok(Release::Released {
        tag,
        config: edit,
        sync: Box::new(outcome),
    })
}

impl SourceCommit {
    /// The source commit a release's trailers name (`Glueops-Source-Commit` and `-Time`).
    pub(crate) fn from_trailers(trailers: &[Trailer]) -> Option<SourceCommit> {
        let commit = trailers.iter().find(|tr| tr.key == t::SOURCE_COMMIT)?;
        let time = trailers.iter().find(|tr| tr.key == t::SOURCE_TIME)?;
        Some(SourceCommit {
            commit: commit.value.clone(),
            time: time.value.parse().ok()?,
        })
    }
}

/// What promoting an app brings: the tag `from` runs, its source trailers, and the releases in
/// `from` since the tag the environment runs, as Markdown.
pub(crate) struct ReleaseNotes {
    pub(crate) tag: String,
    pub(crate) source: Vec<Trailer>,
    pub(crate) markdown: String,
}

/// Releases looked at, newest first, for release notes.
const NOTES_DEPTH: usize = 50;

/// The release notes of promoting `app` to `env` from its `promotion.from`.
pub(crate) fn release_notes(
    config: &str,
    manifests: &str,
    app: &str,
    env: &str,
    opts: &Options,
) -> Result<ReleaseNotes, Error> {
    let loaded = Config::open(config, opts, opts.config_branch.as_deref(), true)?;
    let from = loaded
        .platform()?
        .environment(env)
        .and_then(|e| e.promotion.as_ref())
        .and_then(|p| p.from.clone())
        .ok_or_else(|| Error::Invalid {
            message: format!("`{env}` has no promotion.from: there is nothing to promote from"),
            help: "set spec.environments[].promotion.from in glueops.yaml".into(),
        })?;
    let checkout = crate::config::manifest_checkout(&loaded, manifests, opts)?;
    let mut runs: Option<String> = None;
    let mut brought: Vec<(String, String, Vec<Trailer>)> = Vec::new();
    let mut reached = false;
    if let Some(tip) = checkout.fetch()? {
        checkout.repo.walk_log(&tip, |entry| {
            for value in t::values(&entry, t::DEPLOY) {
                let Some(((a, e), fields)) = t::parse_deployment(value) else {
                    continue;
                };
                let field = |k: &str| {
                    fields
                        .iter()
                        .find(|(f, _)| *f == k)
                        .map(|(_, v)| (*v).to_string())
                };
                if a == app && e == env && runs.is_none() {
                    runs = field("tag");
                }
                if a == app
                    && e == from.as_str()
                    && let Some(tag) = field("tag")
                {
                    if runs.as_deref() == Some(tag.as_str()) {
                        reached = true;
                    } else if !reached {
                        let source = entry
                            .trailers
                            .iter()
                            .filter(|tr| tr.key == t::SOURCE_COMMIT || tr.key == t::SOURCE_TIME)
                            .cloned()
                            .collect();
                        brought.push((tag, field("config").unwrap_or_default(), source));
                    }
                }
            }
            !reached && brought.len() < NOTES_DEPTH
        })?;
    }
    let Some((tag, _, source)) = brought.first().cloned() else {
        return Err(Error::Invalid {
            message: format!("`{app}` in `{from}` runs what `{env}` runs: nothing to promote"),
            help: format!("release a new version to {from} first"),
        });
    };
    let mut markdown = format!(
        "Promotes `{app}` to `{env}`: `{}` → `{tag}`, as `{from}` runs it.\n\n| Release in {from} | Config commit | Author | Source commit |\n|---|---|---|---|\n",
        runs.as_deref().unwrap_or("-")
    );
    for (tag, commit, source) in &brought {
        let author = loaded
            .checkout
            .as_ref()
            .and_then(|c| c.repo.log(commit, 1).ok())
            .and_then(|l| l.into_iter().next())
            .map_or_else(|| "-".to_string(), |e| e.author);
        let source = source
            .iter()
            .find(|tr| tr.key == t::SOURCE_COMMIT)
            .map_or_else(
                || "-".to_string(),
                |tr| format!("`{}`", &tr.value[..tr.value.len().min(7)]),
            );
        markdown.push_str(&format!(
            "| `{tag}` | `{}` | {author} | {source} |\n",
            &commit[..commit.len().min(7)]
        ));
    }
    Ok(ReleaseNotes {
        tag,
        source,
        markdown,
    })
}
