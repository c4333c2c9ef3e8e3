//! `imagePolicy` (glueops): which of the tags in an app's registry an environment whose
//! promotion is `auto` follows, and how it is written. Pure: [`ImagePolicy::compile`] checks
//! it, [`TagPolicy::choose`] picks among tags the registry listed.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which registry tags an app follows (in environments whose promotion is `auto`): exactly
/// one of `semver`, `pattern` (with `order` or `newest`) or `newest`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImagePolicy {
    /// A semantic version range, e.g. `>=1.4.0 <2.0.0` or `^1.4`. Tags that are not versions
    /// are skipped (a leading `v` is allowed); pre-releases only when the range names one
    /// of the same version, e.g. `>=1.5.0-rc.0`.
    pub semver: Option<String>,
    /// A regular expression a tag must match, e.g. `^main-(?P<ts>[0-9]+)-[0-9a-f]{7}$`.
    pub pattern: Option<String>,
    /// With `pattern`: the named group that orders the matching tags (whole numbers compare
    /// as numbers and below text; text compares alphabetically).
    pub order: Option<String>,
    /// The newest image by its creation time (alone, or among the tags `pattern` matches).
    pub newest: Option<bool>,
    /// `digest`: write the chosen tag with its digest (`1.5.0@sha256:…`), so a tag pushed
    /// again is deployed again.
    pub pin: Option<Pin>,
}

/// How a chosen tag is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Pin {
    /// `tag@sha256:<digest>`.
    Digest,
}

/// A checked [`ImagePolicy`].
#[derive(Debug, Clone)]
pub struct TagPolicy {
    rule: Rule,
    /// Whether the chosen tag is written with its digest.
    pub pin_digest: bool,
}

#[derive(Debug, Clone)]
enum Rule {
    /// Alternatives (`||`), each comparators that all must hold.
    Semver(Vec<semver::VersionReq>, String),
    Pattern {
        regex: regex::Regex,
        order: Option<String>,
    },
    Newest,
}

/// One tag the registry lists, with its image's creation time when the policy needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The tag.
    pub tag: String,
    /// When its image was built (the image config's `created`), when known.
    pub created: Option<Timestamp>,
}

/// What a policy makes of the tags: the greatest it allows, and why the others were skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Choice {
    /// The greatest allowed tag under the policy's order (ties: the greater tag text).
    pub chosen: Option<String>,
    /// How many tags the policy allows.
    pub allowed: usize,
    /// The tags it does not allow, by reason.
    pub skipped: BTreeMap<String, Vec<String>>,
}

/// The value a policy orders tags by.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    /// A semantic version.
    Version(semver::Version),
    /// A captured whole number.
    Number(u128),
    /// Captured text.
    Text(String),
    /// A creation time.
    Created(Timestamp),
}

impl ImagePolicy {
    /// Checks the policy: one way to order, a range and a pattern that parse, a group the
    /// pattern has. The error names the key at fault.
    pub fn compile(&self) -> Result<TagPolicy, (&'static str, String)> {
        let newest = self.newest == Some(true);
        let rule = match (&self.semver, &self.pattern) {
            (Some(_), Some(_)) => {
                return Err((
                    "pattern",
                    "`semver` and `pattern` both choose tags: keep one".into(),
                ));
            }
            (Some(_), None) if newest => {
                return Err((
                    "newest",
                    "`semver` orders by version; `newest` by creation time: keep one".into(),
                ));
            }
            (Some(range), None) => {
                if self.order.is_some() {
                    return Err((
                        "order",
                        "`order` names a group of `pattern`; there is no pattern".into(),
                    ));
                }
                let reqs = parse_range(range).map_err(|e| {
                    (
                        "semver",
                        format!("`{range}` is not a semantic version range: {e}"),
                    )
                })?;
                Rule::Semver(reqs, range.trim().to_string())
            }
            (None, Some(pattern)) => {
                let regex = regex::Regex::new(pattern).map_err(|e| {
                    (
                        "pattern",
                        format!("`{pattern}` is not a regular expression: {e}"),
                    )
                })?;
                match (&self.order, newest) {
                    (Some(_), true) => {
                        return Err((
                            "newest",
                            "`order` and `newest` both order the matching tags: keep one".into(),
                        ));
                    }
                    (None, false) => {
                        return Err((
                            "pattern",
                            "a pattern needs an order: `order: <group>` or `newest: true`".into(),
                        ));
                    }
                    (Some(group), false)
                        if !regex.capture_names().flatten().any(|n| n == group) =>
                    {
                        return Err(("order", format!("`{pattern}` has no group named `{group}`")));
                    }
                    _ => {}
                }
                Rule::Pattern {
                    regex,
                    order: self.order.clone(),
                }
            }
            (None, None) if newest => {
                if self.order.is_some() {
                    return Err((
                        "order",
                        "`order` names a group of `pattern`; there is no pattern".into(),
                    ));
                }
                Rule::Newest
            }
            (None, None) => {
                return Err((
                    "semver",
                    "say which tags to follow: `semver`, `pattern` or `newest: true`".into(),
                ));
            }
        };
        Ok(TagPolicy {
            rule,
            pin_digest: self.pin == Some(Pin::Digest),
        })
    }
}

impl TagPolicy {
    /// Whether choosing needs each tag's creation time (fetched for [`TagPolicy::admits`]
    /// tags only).
    pub fn needs_created(&self) -> bool {
        match &self.rule {
            Rule::Newest => true,
            Rule::Pattern { order, .. } => order.is_none(),
            Rule::Semver(..) => false,
        }
    }

    /// Whether `tag` can be chosen, before creation times are known; the reason when not.
    pub fn admits(&self, tag: &str) -> Result<(), String> {
        self.rank(&Candidate {
            tag: tag.to_string(),
            created: Some(Timestamp::UNIX_EPOCH),
        })
        .map(drop)
    }

    /// The rank of `candidate`, or why the policy skips it.
    pub fn rank(&self, candidate: &Candidate) -> Result<Rank, String> {
        let tag = candidate.tag.as_str();
        // What a registry lists is not trusted: only a tag glueops would write is a candidate.
        if crate::formats::check_tag(tag).is_err() || tag.contains('@') {
            return Err("not a valid image tag".into());
        }
        let created = || {
            candidate
                .created
                .map(Rank::Created)
                .ok_or_else(|| "the image records no creation time".to_string())
        };
        match &self.rule {
            Rule::Semver(reqs, range) => {
                let version = semver::Version::parse(tag.strip_prefix('v').unwrap_or(tag))
                    .map_err(|_| "not a semantic version".to_string())?;
                if reqs.iter().any(|r| r.matches(&version)) {
                    Ok(Rank::Version(version))
                } else if version.pre.is_empty() {
                    Err(format!("outside the range {range}"))
                } else {
                    Err("a pre-release the range does not name".into())
                }
            }
            Rule::Pattern { regex, order } => {
                let captures = regex
                    .captures(tag)
                    .ok_or_else(|| "does not match the pattern".to_string())?;
                let Some(group) = order else {
                    return created();
                };
                let value = captures
                    .name(group)
                    .map(|m| m.as_str())
                    .ok_or_else(|| format!("the group `{group}` matched nothing"))?;
                Ok(match value.parse::<u128>() {
                    Ok(n) if value.bytes().all(|b| b.is_ascii_digit()) => Rank::Number(n),
                    _ => Rank::Text(value.to_string()),
                })
            }
            Rule::Newest => created(),
        }
    }

    /// The greatest tag the policy allows (by rank, ties by tag text), and the others by
    /// reason.
    pub fn choose(&self, candidates: &[Candidate]) -> Choice {
        let mut choice = Choice::default();
        let mut best: Option<(Rank, &str)> = None;
        for c in candidates {
            match self.rank(c) {
                Ok(rank) => {
                    choice.allowed += 1;
                    let better = best.as_ref().is_none_or(|(r, t)| {
                        rank.cmp(r).then_with(|| c.tag.as_str().cmp(t)) == Ordering::Greater
                    });
                    if better {
                        best = Some((rank, &c.tag));
                    }
                }
                Err(reason) => choice
                    .skipped
                    .entry(reason)
                    .or_default()
                    .push(c.tag.clone()),
            }
        }
        choice.chosen = best.map(|(_, t)| t.to_string());
        choice
    }

    /// Whether moving from `current` to `chosen` goes forward: always when `current` has no
    /// rank under the policy (another scheme, a tag set by hand), never back to a lower one.
    pub fn forward(&self, current: &Candidate, chosen: &Candidate) -> bool {
        match (self.rank_ignoring_range(current), self.rank(chosen)) {
            (Some(now), Ok(next)) => next > now,
            (None, Ok(_)) => true,
            (_, Err(_)) => false,
        }
    }

    /// The rank of `c` even outside a semver range (a version set by hand above the range is
    /// not moved back).
    fn rank_ignoring_range(&self, c: &Candidate) -> Option<Rank> {
        match &self.rule {
            Rule::Semver(..) => semver::Version::parse(c.tag.strip_prefix('v').unwrap_or(&c.tag))
                .ok()
                .map(Rank::Version),
            _ => self.rank(c).ok(),
        }
    }
}

/// A range as npm and Helm write it (`>=1.4.0 <2.0.0`, `^1.4 || ~2.1`) or as Cargo does
/// (`>=1.4.0, <2.0.0`): alternatives of comparators, an operator alone taking the next word.
fn parse_range(range: &str) -> Result<Vec<semver::VersionReq>, semver::Error> {
    range
        .split("||")
        .map(|alternative| {
            let mut comparators: Vec<String> = Vec::new();
            let mut operator = String::new();
            for word in alternative
                .split([' ', ',', '\t'])
                .filter(|w| !w.is_empty())
            {
                if word
                    .chars()
                    .all(|c| matches!(c, '<' | '>' | '=' | '~' | '^'))
                {
                    operator.push_str(word);
                    continue;
                }
                let word = std::mem::take(&mut operator) + word;
                // `v1.4.0`, `>=v1.4.0`: the `v` is not part of the version.
                let at = word
                    .find(|c: char| c.is_ascii_alphanumeric() || c == '*')
                    .unwrap_or(0);
                let (op, version) = word.split_at(at);
                comparators.push(format!(
                    "{op}{}",
                    version.strip_prefix('v').unwrap_or(version)
                ));
            }
            if !operator.is_empty() {
                comparators.push(operator);
            }
            semver::VersionReq::parse(&comparators.join(", "))
        })
        .collect()
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
