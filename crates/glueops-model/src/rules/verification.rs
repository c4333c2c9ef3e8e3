//! Verification gates and pull-request mode in `glueops.yaml`: `promotion.requires` (checks
//! and soak of the `from` environment's release) and `promotion.autoMerge`.

use super::diagnose::{at, k};
use super::platform::At;
use crate::diagnostics::{Code, Report};
use crate::node::Segment;
use crate::platform::{Promotion, PromotionMode};

/// `requires` verifies the release of `from` (so needs it), with a soak that is a duration
/// and check names that are not empty; `autoMerge` only merges pull requests.
pub(super) fn check(promotion: &Promotion, at_promotion: &At<'_>, report: &mut Report) {
    if promotion.auto_merge == Some(true) && promotion.mode != Some(PromotionMode::PullRequest) {
        report.push(
            at_promotion
                .report("autoMerge", Code::Conflict, "`autoMerge` merges pull requests, but this environment's changes are committed directly")
                .help("add `mode: pull-request`, or remove `autoMerge`"),
        );
    }
    let Some(requires) = &promotion.requires else {
        return;
    };
    let at_requires = at_promotion.child(&[k("requires")]);
    if promotion.from.is_none() {
        report.push(
            at_promotion
                .report("requires", Code::Conflict, "`requires` verifies the release of the environment promoted from, but there is no `from`")
                .help("name the environment versions come from: `from: staging`"),
        );
    }
    if let Some(soak) = &requires.soak
        && let Err(e) = crate::formats::go_duration_seconds(soak)
    {
        report.push(
            at_requires
                .report("soak", Code::InvalidValue, e.to_string())
                .help("a Go duration such as `30m` or `2h`"),
        );
    }
    for (i, name) in requires.checks.iter().flatten().enumerate() {
        if name.trim().is_empty() {
            report.push(
                at(
                    at_requires.tree,
                    &at_requires.path(&[k("checks"), Segment::Index(i)]),
                    Code::InvalidValue,
                    "a check name is empty",
                )
                .help("the name of a commit status context or check run, e.g. smoke-tests"),
            );
        }
    }
}
