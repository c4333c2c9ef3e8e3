//! Rules for `deployment.strategy` in its progressive form (blue/green and canary through
//! Argo Rollouts): steps only for a canary, one action per step, weights, durations, and the
//! analysis' threshold, counts and PromQL.

use crate::diagnostics::{Code, Report};
use crate::formats::check_go_duration;
use crate::instance::AppInstance;
use crate::node::Segment;
use crate::rules::diagnose::{at, i, k};
use crate::values::{Progressive, ProgressiveKind, Strategy};

/// Checks the progressive strategy of the app's Deployment, if it has one.
pub(crate) fn check_strategy(d: &AppInstance, report: &mut Report) {
    let Some(Strategy::Progressive(p)) = d
        .values
        .deployment
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
    else {
        return;
    };
    let base = [k("deployment"), k("strategy")];
    let canary = p.kind == Some(ProgressiveKind::Canary);
    if p.steps.is_some() && !canary {
        report.push(
            at(
                &d.tree,
                &[&base[..], &[k("steps")]].concat(),
                Code::Conflict,
                "`steps` apply to a canary only",
            )
            .help("set `type: canary`, or remove `steps`"),
        );
    }
    let v = &d.values;
    let has_service = v.service.as_ref().is_some_and(|s| s.enabled == Some(true))
        || v.ingress.as_ref().is_some_and(|g| g.enabled == Some(true));
    if p.kind == Some(ProgressiveKind::BlueGreen) && !has_service {
        report.push(
            at(
                &d.tree,
                &[&base[..], &[k("type")]].concat(),
                Code::Conflict,
                "a blue/green release switches the app's Service, and this app has none",
            )
            .help("set `service: {enabled: true}`, or use `type: canary`"),
        );
    }
    check_steps(d, p, &base, report);
    check_analysis(d, p, &base, report);
}

fn check_steps(d: &AppInstance, p: &Progressive, base: &[Segment], report: &mut Report) {
    let analysis_off = p.analysis.as_ref().and_then(|a| a.enabled) == Some(false);
    for (n, step) in p.steps.iter().flatten().enumerate() {
        let path = [base, &[k("steps"), i(n)]].concat();
        let actions = usize::from(step.set_weight.is_some())
            + usize::from(step.pause.is_some())
            + usize::from(step.analysis.is_some());
        if actions != 1 {
            report.push(
                at(
                    &d.tree,
                    &path,
                    Code::InvalidValue,
                    format!("a canary step does one thing; this one sets {actions}"),
                )
                .help("write each of `setWeight`, `pause` and `analysis` as its own step"),
            );
        }
        if let Some(w) = step.set_weight
            && !(1..=100).contains(&w)
        {
            report.push(
                at(
                    &d.tree,
                    &[&path[..], &[k("setWeight")]].concat(),
                    Code::InvalidValue,
                    format!("`setWeight` is {w}; a weight is a percentage from 1 to 100"),
                )
                .help("e.g. setWeight: 20"),
            );
        }
        if let Some(duration) = step.pause.as_ref().and_then(|p| p.duration.as_ref())
            && let Err(e) = check_go_duration(duration)
        {
            report.push(
                at(
                    &d.tree,
                    &[&path[..], &[k("pause"), k("duration")]].concat(),
                    Code::Time,
                    e,
                )
                .help("e.g. pause: {duration: 10m}; leave `duration` out to wait for a manual promotion"),
            );
        }
        if step.analysis.is_some() && analysis_off {
            report.push(
                at(
                    &d.tree,
                    &[&path[..], &[k("analysis")]].concat(),
                    Code::Conflict,
                    "an analysis step, but `deployment.strategy.analysis.enabled` is false",
                )
                .help("remove the step, or turn the analysis on"),
            );
        }
    }
}

fn check_analysis(d: &AppInstance, p: &Progressive, base: &[Segment], report: &mut Report) {
    let Some(a) = &p.analysis else { return };
    let path = |key: &str| [base, &[k("analysis"), k(key)]].concat();
    if let Some(t) = a.threshold
        && !(0.0..=1.0).contains(&t)
    {
        report.push(
            at(
                &d.tree,
                &path("threshold"),
                Code::InvalidValue,
                format!("`threshold` is {t}; a success rate is between 0 and 1"),
            )
            .help("e.g. threshold: 0.95 (95 % of requests succeed)"),
        );
    }
    if let Some(interval) = &a.interval
        && let Err(e) = check_go_duration(interval)
    {
        report.push(at(&d.tree, &path("interval"), Code::Time, e).help("e.g. interval: 1m"));
    }
    if a.count == Some(0) {
        report.push(
            at(
                &d.tree,
                &path("count"),
                Code::InvalidValue,
                "`count` is 0: the analysis would measure nothing",
            )
            .help("e.g. count: 5"),
        );
    }
    if let Some(query) = &a.query
        && let Err(e) = promql_parser::parser::parse(query)
    {
        report.push(
            at(
                &d.tree,
                &path("query"),
                Code::Promql,
                format!("the analysis `query` is not valid PromQL: {e}"),
            )
            .help("write one PromQL expression whose result is the success rate, 0 to 1"),
        );
    }
    if let Some(url) = &a.prometheus
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        report.push(
            at(
                &d.tree,
                &path("prometheus"),
                Code::InvalidValue,
                format!("`prometheus` is `{url}`, not an http(s) URL"),
            )
            .help("e.g. prometheus: http://prometheus-operated.monitoring.svc:9090"),
        );
    }
}
