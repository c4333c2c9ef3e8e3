//! Many preview changes in one commit: what a webhook server applies when a burst of pull
//! request events is waiting (one config read, one render, one push).

use std::collections::{BTreeMap, BTreeSet};

use super::{PreviewOutcome, PreviewTarget, PullRequest, apps, open_previews, run, settings};
use crate::Error;
use crate::Options;
use crate::config::Config;
use crate::config::manifest_checkout;
use crate::git::Edit;
use crate::publish::{self, Commit};
use crate::render::PreviewRequest;
use crate::render::{Layout, Owner};
use crate::trailers as t;

/// One pull request's preview change, for [`apply_previews`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreviewChange {
    /// Open or update its previews (closed instead when its labels exclude it).
    Open {
        /// Which apps.
        target: PreviewTarget,
        /// The pull request.
        pr: PullRequest,
    },
    /// Close its previews.
    Close {
        /// Which apps.
        target: PreviewTarget,
        /// The pull request.
        number: u64,
    },
}

/// What becomes of one preview (`<app>-pr-<N>`).
pub(super) enum Wanted {
    Open(PreviewRequest),
    /// Close, and why (the close trailer says it).
    Close(String),
}

/// Previews by name (`<app>-pr-<N>`): app, pull request number, what becomes of it.
pub(super) type WantedPreviews = BTreeMap<String, (String, u64, Wanted)>;

/// Applies `changes` in one commit: for each preview the last change wins (events are
/// level-triggered: a pull request's latest state is what counts). Nothing is committed
/// when nothing changes.
pub fn apply_previews(
    config: &str,
    manifests: &str,
    changes: &[PreviewChange],
    opts: &Options,
) -> Result<PreviewOutcome, Error> {
    let config = Config::open(config, opts, opts.config_branch.as_deref(), false)?;
    apply_loaded(&config, manifests, changes, opts)
}

pub(super) fn apply_loaded(
    config: &Config,
    manifests: &str,
    changes: &[PreviewChange],
    opts: &Options,
) -> Result<PreviewOutcome, Error> {
    let settings = settings(config)?;
    for change in changes {
        if let PreviewChange::Open { pr, .. } = change
            && let Some(sha) = &pr.sha
        {
            crate::model::check::commit_id(sha).map_err(|message| Error::Invalid {
                message: message.to_string(),
                help: "the preview's image tag is the pull request's head commit".into(),
            })?;
        }
    }
    let mut wanted = WantedPreviews::new();
    for change in changes {
        let (target, number) = match change {
            PreviewChange::Open { target, pr } => (target, pr.number),
            PreviewChange::Close { target, number } => (target, *number),
        };
        for app in apps(config, target)? {
            let state = match change {
                PreviewChange::Open { pr, .. } if admitted(settings, pr) => {
                    Wanted::Open(PreviewRequest {
                        app: app.clone(),
                        number,
                        head_sha: pr.sha.clone(),
                        branch: pr.branch.clone(),
                    })
                }
                PreviewChange::Open { .. } => Wanted::Close("labels".into()),
                PreviewChange::Close { .. } => Wanted::Close("closed".into()),
            };
            wanted.insert(format!("{app}-pr-{number}"), (app, number, state));
        }
    }
    publish_wanted(config, manifests, &wanted, opts)
}

/// Renders the previews `wanted` opens, removes the ones it closes that are open (and the
/// previews project when none is left), in one commit.
pub(super) fn publish_wanted(
    config: &Config,
    manifests: &str,
    wanted: &WantedPreviews,
    opts: &Options,
) -> Result<PreviewOutcome, Error> {
    let settings = settings(config)?;
    let requests: Vec<PreviewRequest> = wanted
        .values()
        .filter_map(|(_, _, w)| match w {
            Wanted::Open(r) => Some(r.clone()),
            Wanted::Close(_) => None,
        })
        .collect();
    let mut hosts = BTreeMap::new();
    let rendered = if requests.is_empty() {
        crate::files::Files::default()
    } else {
        // Only these apps are loaded when the other apps' claims at this commit are known.
        let apps: BTreeSet<String> = requests.iter().map(|r| r.app.clone()).collect();
        let (repo, _) = config.with_apps(config.commit.as_deref(), &apps)?;
        let files = crate::render::render_selected(&repo, &requests, &|_| false)?.files()?;
        for r in &requests {
            // Rendered above: the preview loads.
            if let Ok(d) = repo.preview_at(&r.app, r.number, r.head_sha.as_deref()) {
                let names: Vec<String> = d.hostnames().into_iter().map(|(h, _)| h).collect();
                hosts.insert(format!("{}-pr-{}", r.app, r.number), names);
            }
        }
        files
    };
    let layout = Layout::new(config.platform()?);
    let checkout = manifest_checkout(config, manifests, opts)?;
    let branch = PreviewBranch {
        checkout: &checkout,
        layout: &layout,
        cluster: &settings.cluster,
        rendered: &rendered,
    };
    let mut out = run(&checkout, opts, |base| {
        preview_commit(&branch, wanted, base)
    })?;
    hosts.retain(|name, _| out.opened.contains(name));
    out.hosts = hosts;
    if let Some(commit) = &out.commit {
        for name in &out.opened {
            out.commits
                .entry(name.clone())
                .or_insert_with(|| commit.clone());
        }
    }
    Ok(out)
}

/// Manifest commits looked at, newest first, for the one that opened a preview.
const OPENED_DEPTH: usize = 500;

/// The newest commit at or before `base` whose preview-open trailer is `opened`.
fn opened_in(
    checkout: &crate::checkout::Checkout,
    base: &str,
    opened: &str,
) -> Result<Option<String>, Error> {
    Ok(checkout
        .repo
        .log(base, OPENED_DEPTH)?
        .into_iter()
        .find(|e| {
            e.trailers
                .iter()
                .any(|t| t.key == t::PREVIEW_OPEN && t.value == opened)
        })
        .map(|e| e.commit))
}

/// The manifest branch previews are written to, and what was rendered for them.
struct PreviewBranch<'a> {
    checkout: &'a crate::checkout::Checkout,
    layout: &'a Layout,
    cluster: &'a str,
    rendered: &'a crate::files::Files,
}

/// The commit that opens and closes `wanted` on the branch at `base` (none when nothing
/// changes).
fn preview_commit(
    b: &PreviewBranch<'_>,
    wanted: &WantedPreviews,
    base: Option<&str>,
) -> Result<(PreviewOutcome, Option<Commit>), Error> {
    let (checkout, layout, cluster) = (b.checkout, b.layout, b.cluster);
    let state = publish::state_of(checkout, base)?;
    let open = match base {
        Some(base) => open_previews(checkout, base, layout, cluster)?,
        None => BTreeSet::new(),
    };
    let mut out = PreviewOutcome::default();
    let mut edit = Edit::default();
    let mut trailers = publish::carry_state(&state);
    let changed = wanted_edits(b, wanted, base, &open, (&mut out, &mut edit, &mut trailers))?;
    for (path, bytes) in b.rendered.iter() {
        let ours = match layout.owner_of(path) {
            Owner::Preview { name: Some(n), .. } => changed.contains(&n),
            Owner::Preview { name: None, .. } => true,
            _ => false,
        };
        if ours {
            edit.write(path, bytes.to_vec())?;
            out.written.push(path.to_string());
        }
    }
    if out.opened.is_empty()
        && !out.closed.is_empty()
        && open.iter().all(|n| out.closed.contains(n))
    {
        let project = layout.previews_project(cluster);
        if let Some(base) = base
            && checkout.repo.read_file(base, &project)?.is_some()
        {
            edit.remove(&project)?;
            out.removed.push(project);
        }
    }
    if out.opened.is_empty() && out.closed.is_empty() {
        return Ok((out, None));
    }
    let title = title(&out);
    Ok((
        out,
        Some(Commit {
            edit,
            title,
            trailers,
        }),
    ))
}

/// The edits and trailers of each wanted preview: an opened one's folder cleared for its
/// fresh render (unless the branch holds it as rendered), an open one that closes removed.
/// The previews whose files are rewritten.
fn wanted_edits(
    b: &PreviewBranch<'_>,
    wanted: &WantedPreviews,
    base: Option<&str>,
    open: &BTreeSet<String>,
    (out, edit, trailers): (
        &mut PreviewOutcome,
        &mut Edit,
        &mut Vec<crate::git::Trailer>,
    ),
) -> Result<BTreeSet<String>, Error> {
    let (layout, cluster) = (b.layout, b.cluster);
    let mut changed: BTreeSet<String> = BTreeSet::new();
    for (name, (app, number, w)) in wanted {
        match w {
            Wanted::Open(r) => {
                out.opened.push(name.clone());
                // Already on the branch as rendered (a redelivery, or a burst that ends
                // where it began): no edit, and no trailer claiming it was opened.
                if let Some(base) = base
                    && as_rendered(b.checkout, base, layout, cluster, name, b.rendered)?
                {
                    let opened = format!(
                        "{app}#{number} sha={}",
                        r.head_sha.as_deref().unwrap_or("-")
                    );
                    if let Some(commit) = opened_in(b.checkout, base, &opened)? {
                        out.commits.insert(name.clone(), commit);
                    }
                    continue;
                }
                edit.remove(&layout.preview_dir(cluster, name))?;
                changed.insert(name.clone());
                let sha = r.head_sha.as_deref().unwrap_or("-");
                trailers.extend(t::make(
                    t::PREVIEW_OPEN,
                    format!("{app}#{number} sha={sha}"),
                ));
            }
            Wanted::Close(why) if open.contains(name) => {
                for path in [
                    layout.preview_dir(cluster, name),
                    layout.delivery_file(cluster, name),
                ] {
                    edit.remove(&path)?;
                    out.removed.push(path);
                }
                out.closed.push(name.clone());
                trailers.extend(t::make(t::PREVIEW_CLOSE, format!("{app}#{number} {why}")));
            }
            Wanted::Close(_) => {}
        }
    }
    Ok(changed)
}

/// Whether the preview `name` on the branch at `base` is exactly its rendered files (its
/// folder and its delivery object).
fn as_rendered(
    checkout: &crate::checkout::Checkout,
    base: &str,
    layout: &Layout,
    cluster: &str,
    name: &str,
    rendered: &crate::files::Files,
) -> Result<bool, Error> {
    let dir = layout.preview_dir(cluster, name);
    let mut have = checkout.repo.list(base, &dir)?;
    let delivery = layout.delivery_file(cluster, name);
    if let Some(bytes) = checkout.repo.read_file(base, &delivery)? {
        have.insert(delivery, crate::git::blob_id(&bytes));
    }
    let want: BTreeMap<String, String> = rendered
        .iter()
        .filter(
            |(p, _)| matches!(layout.owner_of(p), Owner::Preview { name: Some(n), .. } if n == name),
        )
        .map(|(p, bytes)| (p.to_string(), crate::git::blob_id(bytes)))
        .collect();
    Ok(!want.is_empty() && have == want)
}

fn admitted(settings: &crate::model::platform::Previews, pr: &PullRequest) -> bool {
    settings
        .labels
        .as_ref()
        .is_none_or(|l| l.admits(&pr.labels))
}

fn title(out: &PreviewOutcome) -> String {
    let part = |names: &[String], side: usize| {
        let parts: BTreeSet<&str> = names
            .iter()
            .filter_map(|n| {
                n.rsplit_once("-pr-")
                    .map(|(a, n)| if side == 0 { a } else { n })
            })
            .collect();
        parts.into_iter().collect::<Vec<_>>().join(", ")
    };
    match (out.opened.as_slice(), out.closed.as_slice()) {
        (o, []) => format!("preview: open pull request {} ({})", part(o, 1), part(o, 0)),
        ([], c) => format!("preview: close {}", c.join(", ")),
        (o, c) => format!("preview: open {}; close {}", o.join(", "), c.join(", ")),
    }
}
