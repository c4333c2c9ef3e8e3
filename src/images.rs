//! Registry watching: per deployment whose values carry an `imagePolicy`, the tag its
//! registry offers that the policy allows, and whether the environment moves to it (only
//! environments whose promotion is `auto` follow; the others keep promotion).
//!
//! One tag list per image however many apps and environments use it; a manifest is read only
//! when the policy orders by creation time (once per tag, remembered in [`Known`]) or pins
//! digests (the chosen tag's).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use futures_util::StreamExt as _;
use glueops_registry::{Image, Registries};
use jiff::Timestamp;

use crate::model::values::{Candidate, TagPolicy};
use crate::model::{Repo, platform::PromotionMode};

/// Tag lists read at once during a poll.
const IN_FLIGHT: usize = 8;

/// A deployment that follows (or is reported against) its registry.
#[derive(Debug, Clone)]
pub struct Watch {
    /// The app.
    pub app: String,
    /// The environment.
    pub env: String,
    /// Its image repository.
    pub image: Image,
    /// Its checked policy.
    pub policy: TagPolicy,
    /// `image.tag` as the values say it (`1.4.0`, `1.4.0@sha256:…`), when set.
    pub current: Option<String>,
    /// Whether the environment's promotion is `auto` (it follows the policy).
    pub follows: bool,
    /// Whether the environment takes changes as pull requests.
    pub proposed: bool,
}

/// The deployments of `repo` with an `imagePolicy`, in the config's order. An image name no
/// registry can be asked about is an error naming the deployment.
pub fn watches(repo: &Repo) -> Result<Vec<Watch>, crate::Error> {
    let platform = repo.platform();
    let mut out = Vec::new();
    for d in repo.deployments() {
        let (Some(env), Some(policy)) = (d.environment(), &d.values.image_policy) else {
            continue;
        };
        let invalid = |message: String| crate::Error::Invalid {
            message: format!("{}/{env}: {message}", d.app),
            help: "run `glueops validate`".into(),
        };
        let policy = policy
            .compile()
            .map_err(|(key, message)| invalid(format!("imagePolicy.{key}: {message}")))?;
        let image = d.values.image.as_ref();
        let repository = image
            .and_then(|i| i.repository.as_deref())
            .ok_or_else(|| invalid("imagePolicy needs image.repository".into()))?;
        let image = Image::new(image.and_then(|i| i.registry.as_deref()), repository)
            .map_err(|e| invalid(e.to_string()))?;
        let promotion = platform.environment(env).and_then(|e| e.promotion.as_ref());
        out.push(Watch {
            app: d.app.clone(),
            env: env.to_string(),
            image,
            policy,
            current: d.values.image.as_ref().and_then(|i| i.tag.clone()),
            follows: promotion.and_then(|p| p.auto) == Some(true),
            proposed: promotion.and_then(|p| p.mode) == Some(PromotionMode::PullRequest),
        });
    }
    Ok(out)
}

/// Creation times read from registries, by image and tag: kept by a long-running caller so
/// a tag's manifest is read once.
#[derive(Debug, Clone, Default)]
pub struct Known {
    created: HashMap<(Image, String), Option<Timestamp>>,
    /// Digests resolved during the current poll (a tag can move between polls).
    digests: HashMap<(Image, String), String>,
}

/// What a poll found for one deployment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageStatus {
    /// The app.
    pub app: String,
    /// The environment.
    pub env: String,
    /// `registry/repository`.
    pub image: String,
    /// `image.tag` now.
    pub current: Option<String>,
    /// The tag the policy allows, as it would be written (`tag@sha256:…` when pinned).
    pub latest: Option<String>,
    /// Whether the environment follows the policy (its promotion is `auto`).
    pub follows: bool,
    /// Whether it moves: it follows, and `latest` is ahead of `current`.
    pub moves: bool,
    /// Whether its changes are proposed as pull requests.
    pub proposed: bool,
    /// How many tags the policy allows.
    pub allowed: usize,
    /// The tags it skipped, by reason.
    pub skipped: BTreeMap<String, Vec<String>>,
    /// Why the registry could not be read, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A poll of every watched image.
#[derive(Debug, Clone, Default)]
pub struct Poll {
    /// Per deployment, in the order given.
    pub statuses: Vec<ImageStatus>,
    /// HTTP requests the poll sent.
    pub requests: u64,
    /// The longest `Retry-After` a registry asked for.
    pub retry_after: Option<Duration>,
}

/// Reads each watched image's registry once and decides every deployment of it.
pub async fn poll(watches: &[Watch], registries: &Registries, known: &mut Known) -> Poll {
    let before = registries.requests();
    known.digests.clear();
    let mut by_image: BTreeMap<&Image, Vec<&Watch>> = BTreeMap::new();
    for w in watches {
        by_image.entry(&w.image).or_default().push(w);
    }
    // Every image's tags at once (a few in flight), then each deployment decided.
    // Owned images: a borrowed one in the stream's closure is not `Send` for every lifetime.
    let images: Vec<Image> = by_image.keys().map(|i| (*i).clone()).collect();
    let listed: Vec<(Image, Result<Vec<String>, glueops_registry::Error>)> =
        futures_util::stream::iter(images)
            .map(|image| async move {
                let tags = registries.tags(&image).await;
                (image, tags)
            })
            .buffered(IN_FLIGHT)
            .collect()
            .await;
    // Creation times of tags a registry no longer lists are forgotten.
    let now_listed: HashMap<&Image, std::collections::HashSet<&str>> = listed
        .iter()
        .filter_map(|(image, tags)| {
            let tags = tags.as_ref().ok()?;
            Some((image, tags.iter().map(String::as_str).collect()))
        })
        .collect();
    known.created.retain(|(image, tag), _| {
        now_listed
            .get(image)
            .is_none_or(|tags| tags.contains(tag.as_str()))
    });
    let mut statuses: HashMap<(&str, &str), ImageStatus> = HashMap::new();
    let mut retry_after: Option<Duration> = None;
    for (image, tags) in listed {
        let group = by_image.get(&image).map(Vec::as_slice).unwrap_or_default();
        let tags = match tags {
            Ok(tags) => tags,
            Err(e) => {
                retry_after = retry_after.max(e.retry_after());
                for w in group {
                    statuses.insert((&w.app, &w.env), failed(w, &e));
                }
                continue;
            }
        };
        for w in group {
            let status = match decide(w, &tags, registries, known).await {
                Ok(s) => s,
                Err(e) => {
                    retry_after = retry_after.max(e.retry_after());
                    failed(w, &e)
                }
            };
            statuses.insert((&w.app, &w.env), status);
        }
    }
    Poll {
        statuses: watches
            .iter()
            .filter_map(|w| statuses.remove(&(w.app.as_str(), w.env.as_str())))
            .collect(),
        requests: registries.requests() - before,
        retry_after,
    }
}

async fn decide(
    w: &Watch,
    tags: &[String],
    registries: &Registries,
    known: &mut Known,
) -> Result<ImageStatus, glueops_registry::Error> {
    if w.policy.needs_created() {
        learn_created(w, tags, registries, known).await?;
    }
    let candidates: Vec<Candidate> = tags
        .iter()
        .map(|tag| Candidate {
            tag: tag.clone(),
            created: known
                .created
                .get(&(w.image.clone(), tag.clone()))
                .copied()
                .flatten(),
        })
        .collect();
    let choice = w.policy.choose(&candidates);
    let current = w.current.as_deref();
    let current_tag = current.map(|c| c.split_once('@').map_or(c, |(t, _)| t));
    let mut latest = choice.chosen.clone();
    if let Some(chosen) = &choice.chosen
        && w.policy.pin_digest
    {
        let key = (w.image.clone(), chosen.clone());
        let digest = match known.digests.get(&key) {
            Some(d) => d.clone(),
            None => {
                let d = registries.digest(&w.image, chosen).await?;
                known.digests.insert(key, d.clone());
                d
            }
        };
        latest = Some(format!("{chosen}@{digest}"));
    }
    let forward = match (&choice.chosen, current_tag) {
        (Some(_), None) => true,
        (Some(chosen), Some(now)) if chosen == now => latest.as_deref() != current,
        (Some(chosen), Some(now)) => {
            let at = |tag: &str| Candidate {
                tag: tag.to_string(),
                created: candidates
                    .iter()
                    .find(|c| c.tag == tag)
                    .and_then(|c| c.created),
            };
            w.policy.forward(&at(now), &at(chosen))
        }
        (None, _) => false,
    };
    Ok(ImageStatus {
        moves: w.follows && forward,
        latest,
        allowed: choice.allowed,
        skipped: choice.skipped,
        ..status(w)
    })
}

/// Reads the creation time of every tag the policy admits that [`Known`] lacks, a few
/// manifests at once. A tag gone since it was listed is not remembered (asked again if it
/// comes back).
async fn learn_created(
    w: &Watch,
    tags: &[String],
    registries: &Registries,
    known: &mut Known,
) -> Result<(), glueops_registry::Error> {
    let missing: Vec<String> = tags
        .iter()
        .filter(|t| w.policy.admits(t).is_ok())
        .filter(|t| !known.created.contains_key(&(w.image.clone(), (*t).clone())))
        .cloned()
        .collect();
    let image = &w.image;
    let read: Vec<(
        String,
        Result<glueops_registry::Manifest, glueops_registry::Error>,
    )> = futures_util::stream::iter(missing)
        .map(|tag| async move {
            let manifest = registries.manifest(image, &tag).await;
            (tag, manifest)
        })
        .buffered(IN_FLIGHT)
        .collect()
        .await;
    for (tag, manifest) in read {
        match manifest {
            Ok(m) => {
                known.created.insert((image.clone(), tag), m.created);
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn status(w: &Watch) -> ImageStatus {
    ImageStatus {
        app: w.app.clone(),
        env: w.env.clone(),
        image: w.image.to_string(),
        current: w.current.clone(),
        latest: None,
        follows: w.follows,
        moves: false,
        proposed: w.proposed,
        allowed: 0,
        skipped: BTreeMap::new(),
        error: None,
    }
}

fn failed(w: &Watch, e: &glueops_registry::Error) -> ImageStatus {
    ImageStatus {
        error: Some(e.to_string()),
        ..status(w)
    }
}
