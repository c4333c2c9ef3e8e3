//! DORA metrics from the manifest branch's history: per app and environment, releases and
//! releases per day, median lead time (source commit → release), change failure rate
//! (releases later rolled back / releases) and median time to restore (release → its
//! rollback). Pure over the log; [`crate::dora_metrics`] reads it from a manifest repository.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::git::HistoryEntry;
use crate::trailers as t;

/// The metrics of one deployment (app × environment) over a period.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    /// The app.
    pub app: String,
    /// The environment.
    pub env: String,
    /// Releases (rollbacks not counted).
    pub releases: usize,
    /// Rollbacks.
    pub rollbacks: usize,
    /// Releases per day over the period.
    pub per_day: f64,
    /// Median seconds from source commit to release, over releases that recorded one.
    pub median_lead_time: Option<i64>,
    /// Releases later rolled back, over releases.
    pub change_failure_rate: Option<f64>,
    /// Median seconds from a release to the rollback that replaced it.
    pub median_time_to_restore: Option<i64>,
}

#[derive(Default)]
struct Tally {
    /// (time, rolled back?) of each release, oldest first.
    releases: Vec<(i64, bool)>,
    rollbacks: usize,
    leads: Vec<i64>,
    restores: Vec<i64>,
}

/// Computes the metrics from `log` (newest first, as [`crate::git::LocalRepo::log`] gives
/// it) for commits in `[since, until)`.
pub fn metrics(
    log: &[HistoryEntry],
    since: Option<Timestamp>,
    until: Option<Timestamp>,
) -> Vec<Metrics> {
    let from = since.map_or(i64::MIN, |s| s.as_second());
    let to = until.map_or(i64::MAX, |u| u.as_second());
    let mut by: BTreeMap<(String, String), Tally> = BTreeMap::new();
    for entry in log.iter().rev().filter(|e| e.time >= from && e.time < to) {
        let rolled: Vec<(String, String)> = t::values(entry, t::ROLLBACK)
            .filter_map(t::parse_deployment)
            .map(|((a, e), _)| (a.to_string(), e.to_string()))
            .collect();
        let source_time = t::value(entry, t::SOURCE_TIME).and_then(|s| s.parse::<Timestamp>().ok());
        for value in t::values(entry, t::DEPLOY) {
            let Some(((app, env), _)) = t::parse_deployment(value) else {
                continue;
            };
            let key = (app.to_string(), env.to_string());
            let tally = by.entry(key.clone()).or_default();
            if rolled.contains(&key) {
                tally.rollbacks += 1;
                if let Some(last) = tally.releases.iter_mut().rev().find(|(_, failed)| !failed) {
                    last.1 = true;
                    tally.restores.push(entry.time - last.0);
                }
            } else {
                tally.releases.push((entry.time, false));
                if let Some(s) = source_time {
                    tally.leads.push(entry.time - s.as_second());
                }
            }
        }
    }
    let days = match (since, until) {
        (Some(s), Some(u)) => Some(((u.as_second() - s.as_second()) as f64 / 86_400.0).max(1.0)),
        _ => None,
    };
    by.into_iter()
        .map(|((app, env), mut tally)| {
            let releases = tally.releases.len();
            let failed = tally.releases.iter().filter(|(_, f)| *f).count();
            let span = days.unwrap_or_else(|| {
                let first = tally.releases.first().map_or(0, |r| r.0);
                let last = tally.releases.last().map_or(0, |r| r.0);
                ((last - first) as f64 / 86_400.0).max(1.0)
            });
            Metrics {
                app,
                env,
                releases,
                rollbacks: tally.rollbacks,
                per_day: releases as f64 / span,
                median_lead_time: median(&mut tally.leads),
                change_failure_rate: (releases > 0).then(|| failed as f64 / releases as f64),
                median_time_to_restore: median(&mut tally.restores),
            }
        })
        .collect()
}

fn median(values: &mut [i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2
    } else {
        values[mid]
    })
}

/// A human duration: `3d 4h`, `2h 5m`, `40s`.
pub fn human(seconds: i64) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
        seconds % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::Trailer;

    fn entry(time: i64, trailers: &[(&str, &str)]) -> HistoryEntry {
        HistoryEntry {
            commit: format!("{time:040}"),
            author: "glueops".into(),
            time,
            title: String::new(),
            trailers: trailers
                .iter()
                .map(|(k, v)| Trailer::new(*k, *v).unwrap())
                .collect(),
        }
    }

    #[test]
    fn a_rolled_back_release_is_a_failure_and_its_rollback_the_restore() {
        let src = "1970-01-01T00:00:00Z";
        let log = vec![
            entry(
                5000,
                &[
                    (t::DEPLOY, "api/prod tag=1 config=c"),
                    (t::ROLLBACK, "api/prod to=1 reason=x"),
                ],
            ),
            entry(
                3000,
                &[
                    (t::DEPLOY, "api/prod tag=2 config=c"),
                    (t::SOURCE_TIME, src),
                ],
            ),
            entry(
                1000,
                &[
                    (t::DEPLOY, "api/prod tag=1 config=c"),
                    (t::DEPLOY, "api/stage tag=1 config=c"),
                ],
            ),
        ];
        let m = metrics(&log, None, None);
        let prod = &m[0];
        assert_eq!((prod.releases, prod.rollbacks), (2, 1));
        assert_eq!(prod.change_failure_rate, Some(0.5));
        assert_eq!(prod.median_time_to_restore, Some(2000));
        assert_eq!(prod.median_lead_time, Some(3000));
        assert_eq!(
            (m[1].env.as_str(), m[1].change_failure_rate),
            ("stage", Some(0.0))
        );
        // A period that leaves the rollback out sees no failure.
        let early = metrics(&log, None, Some(Timestamp::from_second(4000).unwrap()));
        assert_eq!(early[0].change_failure_rate, Some(0.0));
        assert_eq!(human(93_784), "1d 2h");
    }
}
