//! The gate of an environment: deploy windows (weekly, in a time zone, DST included) and
//! approvals. Pure: the time is given.

use jiff::civil::{Time, Weekday as Day};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan as _};

use crate::model::platform::{DeployWindow, Environment, Weekday};

/// Why a change to an environment is not released now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(
    tag = "rule",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Hold {
    /// Outside every deploy window.
    Window {
        /// The windows, as written (`Mon,Tue 09:00-16:00 Europe/Berlin`).
        windows: Vec<String>,
        /// When the next window opens, in its time zone (`Mon 2026-12-07 09:00 CET`).
        next_open: Option<String>,
    },
    /// Not enough approvals.
    Approval {
        /// Distinct approvers needed.
        required: u32,
        /// The approvals that count.
        approved_by: Vec<String>,
        /// Names given that are not approvers (they do not count).
        not_approvers: Vec<String>,
        /// Who may approve.
        approvers: Vec<String>,
    },
    /// The release in the `from` environment has not run there long enough.
    Soak {
        /// The environment promoted from.
        from: String,
        /// The soak required (seconds).
        required: u64,
        /// Seconds left; the whole soak when `from` has no release of the app.
        left: u64,
        /// Whether `from` has a release of the app at all.
        released: bool,
    },
    /// Checks required on the release in `from` are not green.
    Checks {
        /// The environment promoted from.
        from: String,
        /// Its release (the config commit, else the manifest commit), when it has one.
        release: Option<String>,
        /// The checks not green, in the order required.
        waiting: Vec<CheckWait>,
        /// Why the checks could not be read, when they could not.
        #[serde(skip_serializing_if = "Option::is_none")]
        unreadable: Option<String>,
    },
}

/// A required check that is not green.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckWait {
    /// The status context or check run name.
    pub name: String,
    /// `pending`, `failure`, or `missing` (not reported yet, or unreadable).
    pub state: String,
    /// The check's link (a failure's log).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A check's result on a commit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum CheckState {
    /// Queued or running.
    Pending {
        /// Its link.
        url: Option<String>,
    },
    /// Green.
    Success,
    /// Red (failed, errored, cancelled, timed out).
    Failure {
        /// Its link.
        url: Option<String>,
    },
}

/// What is known of the release of an app in the environment promoted from, for the
/// verification gates (`promotion.requires`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evidence {
    /// The config commit it was rendered from.
    pub config: Option<String>,
    /// The manifest commit that released it.
    pub manifest: Option<String>,
    /// When (Unix seconds); `None`: the app was never released there.
    pub released_at: Option<i64>,
    /// The checks found on those commits, by name (a check on either commit counts; green
    /// wins over pending, pending over failed).
    pub checks: std::collections::BTreeMap<String, CheckState>,
    /// Why the checks could not be read, when they could not (every required check then
    /// holds as `missing`, with this reason).
    pub unreadable: Option<String>,
}

impl Hold {
    /// The rule's name, as in the JSON (`window`, `approval`, `soak`, `checks`).
    pub fn rule(&self) -> &'static str {
        match self {
            Hold::Window { .. } => "window",
            Hold::Approval { .. } => "approval",
            Hold::Soak { .. } => "soak",
            Hold::Checks { .. } => "checks",
        }
    }
}

impl std::fmt::Display for Hold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Hold::Window { windows, next_open } => {
                write!(f, "outside the deploy windows ({})", windows.join("; "))?;
                if let Some(next) = next_open {
                    write!(f, "; the next opens {next}")?;
                }
                Ok(())
            }
            Hold::Approval {
                required,
                approved_by,
                not_approvers,
                approvers,
            } => {
                let missing = usize::try_from(*required)
                    .unwrap_or(usize::MAX)
                    .saturating_sub(approved_by.len());
                write!(
                    f,
                    "needs {missing} more approval{} (of {required}) from {}",
                    if missing == 1 { "" } else { "s" },
                    approvers.join(", ")
                )?;
                if !not_approvers.is_empty() {
                    write!(
                        f,
                        "; {} may not approve",
                        not_approvers
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )?;
                }
                Ok(())
            }
            Hold::Soak {
                from,
                required,
                left,
                released,
            } => {
                if *released {
                    write!(
                        f,
                        "soaking in {from}: {} of {} left",
                        minutes(*left),
                        minutes(*required)
                    )
                } else {
                    write!(f, "soaking: {from} has no release of it yet")
                }
            }
            Hold::Checks {
                from,
                release,
                waiting,
                unreadable,
            } => {
                let release = release.as_deref().map_or_else(
                    || "no release".to_string(),
                    |r| format!("release {}", &r[..r.len().min(7)]),
                );
                let parts: Vec<String> = waiting
                    .iter()
                    .map(|w| match (&w.url, w.state.as_str()) {
                        (Some(url), "failure") => format!("`{}` failed ({url})", w.name),
                        _ => format!("`{}`: {}", w.name, w.state),
                    })
                    .collect();
                write!(
                    f,
                    "waiting for checks on {from}'s {release}: {}",
                    parts.join(", ")
                )?;
                if let Some(why) = unreadable {
                    write!(f, " (the checks cannot be read: {why})")?;
                }
                Ok(())
            }
        }
    }
}

/// `12 min`, `1 h 5 min`, `30 s`.
fn minutes(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s.div_ceil(60)),
        s => format!("{} h {} min", s / 3600, (s % 3600).div_ceil(60)),
    }
}

/// The verification gates of `env` (`promotion.requires`) at `now`, given what is known of
/// the release of the app in the environment promoted from (`None`: nothing is).
pub fn verify(env: &Environment, now: Timestamp, evidence: Option<&Evidence>) -> Vec<Hold> {
    let mut holds = Vec::new();
    let Some(promotion) = &env.promotion else {
        return holds;
    };
    let (Some(requires), Some(from)) = (&promotion.requires, &promotion.from) else {
        return holds;
    };
    let released_at = evidence.and_then(|e| e.released_at);
    if let Some(required) = requires.soak_seconds() {
        let ran = released_at.map(|at| now.as_second().saturating_sub(at).max(0).unsigned_abs());
        match ran {
            Some(ran) if ran >= required => {}
            _ => holds.push(Hold::Soak {
                from: from.clone(),
                required,
                left: required.saturating_sub(ran.unwrap_or(0)),
                released: released_at.is_some(),
            }),
        }
    }
    let names = requires.checks.as_deref().unwrap_or_default();
    if names.is_empty() {
        return holds;
    }
    let waiting: Vec<CheckWait> = names
        .iter()
        .filter_map(|name| {
            let found = evidence.and_then(|e| e.checks.get(name));
            let (state, url) = match found {
                Some(CheckState::Success) => return None,
                Some(CheckState::Pending { url }) => ("pending", url.clone()),
                Some(CheckState::Failure { url }) => ("failure", url.clone()),
                None => ("missing", None),
            };
            Some(CheckWait {
                name: name.clone(),
                state: state.to_string(),
                url,
            })
        })
        .collect();
    if !waiting.is_empty() || released_at.is_none() {
        holds.push(Hold::Checks {
            from: from.clone(),
            release: evidence.and_then(|e| e.config.clone().or_else(|| e.manifest.clone())),
            waiting,
            unreadable: evidence.and_then(|e| e.unreadable.clone()),
        });
    }
    holds
}

/// Whether releases to `env` pass a gate (approvals or windows).
pub fn is_gated(env: &Environment) -> bool {
    env.promotion.as_ref().is_some_and(|p| {
        p.approval.is_some()
            || p.windows.as_ref().is_some_and(|w| !w.is_empty())
            || p.requires.as_ref().is_some_and(|r| {
                r.soak.is_some() || r.checks.as_ref().is_some_and(|c| !c.is_empty())
            })
    })
}

/// Checks `env`'s gate at `now` with the approvals given: every rule that holds, none when the
/// gate is open.
pub fn check(env: &Environment, now: Timestamp, approved_by: &[String]) -> Vec<Hold> {
    let mut holds = Vec::new();
    let Some(promotion) = &env.promotion else {
        return holds;
    };
    if let Some(windows) = promotion.windows.as_ref().filter(|w| !w.is_empty())
        && !windows.iter().any(|w| is_open(w, now))
    {
        holds.push(Hold::Window {
            windows: windows.iter().map(describe).collect(),
            next_open: windows
                .iter()
                .filter_map(|w| next_open(w, now))
                .min_by_key(|z| z.timestamp())
                .map(|z| z.strftime("%a %Y-%m-%d %H:%M %Z (%Q)").to_string()),
        });
    }
    if let Some(approval) = &promotion.approval {
        let mut counted: Vec<String> = Vec::new();
        let mut not_approvers: Vec<String> = Vec::new();
        for name in approved_by {
            let list = if approval.approvers.contains(name) {
                &mut counted
            } else {
                &mut not_approvers
            };
            if !list.contains(name) {
                list.push(name.clone());
            }
        }
        if counted.len() < usize::try_from(approval.required).unwrap_or(usize::MAX) {
            holds.push(Hold::Approval {
                required: approval.required,
                approved_by: counted,
                not_approvers,
                approvers: approval.approvers.clone(),
            });
        }
    }
    holds
}

fn describe(w: &DeployWindow) -> String {
    let days: Vec<String> = w.days.iter().map(|d| format!("{d:?}")).collect();
    format!("{} {}-{} {}", days.join(","), w.start, w.end, w.time_zone)
}

fn day(d: Weekday) -> Day {
    match d {
        Weekday::Mon => Day::Monday,
        Weekday::Tue => Day::Tuesday,
        Weekday::Wed => Day::Wednesday,
        Weekday::Thu => Day::Thursday,
        Weekday::Fri => Day::Friday,
        Weekday::Sat => Day::Saturday,
        Weekday::Sun => Day::Sunday,
    }
}

/// `HH:MM` (checked by the model) as a time of day; `24:00` is the end of the day.
fn clock(s: &str) -> Option<Time> {
    let minutes = crate::model::check::clock(s).ok()?;
    if minutes >= 24 * 60 {
        return Some(Time::MAX);
    }
    let (h, m) = (minutes / 60, minutes % 60);
    Time::new(i8::try_from(h).ok()?, i8::try_from(m).ok()?, 0, 0).ok()
}

/// Whether `w` is open at `now`: on one of its days, at or after `start` and before `end`,
/// both read on the wall clock of its time zone.
fn is_open(w: &DeployWindow, now: Timestamp) -> bool {
    let (Ok(tz), Some(start), Some(end)) =
        (TimeZone::get(&w.time_zone), clock(&w.start), clock(&w.end))
    else {
        return false;
    };
    let here = now.to_zoned(tz);
    let time = here.time();
    w.days.iter().any(|d| day(*d) == here.weekday()) && time >= start && time < end
}

/// When `w` next opens after `now` (within two weeks).
fn next_open(w: &DeployWindow, now: Timestamp) -> Option<jiff::Zoned> {
    let tz = TimeZone::get(&w.time_zone).ok()?;
    let start = clock(&w.start)?;
    let today = now.to_zoned(tz.clone()).date();
    (0..15).find_map(|n: i64| {
        let date = today.checked_add(n.days()).ok()?;
        if !w.days.iter().any(|d| day(*d) == date.weekday()) {
            return None;
        }
        // A start inside a DST gap opens at the first instant after it.
        let opens = date.to_datetime(start).to_zoned(tz.clone()).ok()?;
        (opens.timestamp() > now).then_some(opens)
    })
}

#[cfg(test)]
mod verify_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::platform::{Approval, Promotion};

    fn env(windows: Vec<DeployWindow>, approval: Option<Approval>) -> Environment {
        Environment {
            name: "production".into(),
            cluster: "prod".into(),
            namespace: None,
            promotion: Some(Promotion {
                auto: None,
                from: Some("staging".into()),
                approval,
                windows: Some(windows),
                ..Promotion::default()
            }),
        }
    }

    fn berlin_weekdays() -> DeployWindow {
        DeployWindow {
            days: vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu],
            start: "09:00".into(),
            end: "16:00".into(),
            time_zone: "Europe/Berlin".into(),
        }
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn windows_read_the_wall_clock_of_their_zone() {
        let e = env(vec![berlin_weekdays()], None);
        // Tuesday 10:00 in Berlin (CET, UTC+1) is 09:00 UTC.
        assert!(check(&e, at("2026-12-01T09:00:00Z"), &[]).is_empty());
        // 08:59 Berlin: closed, opens at 09:00 the same day.
        let holds = check(&e, at("2026-12-01T07:59:00Z"), &[]);
        assert_eq!(
            holds,
            vec![Hold::Window {
                windows: vec!["Mon,Tue,Wed,Thu 09:00-16:00 Europe/Berlin".into()],
                next_open: Some("Tue 2026-12-01 09:00 CET (Europe/Berlin)".into()),
            }]
        );
        // Saturday: the next window is Monday.
        let holds = check(&e, at("2026-12-05T12:00:00Z"), &[]);
        assert!(
            holds[0].to_string().contains("Mon 2026-12-07 09:00 CET"),
            "{}",
            holds[0]
        );
        // 16:00 is closed (the end is exclusive).
        assert!(!check(&e, at("2026-12-01T15:00:00Z"), &[]).is_empty());
    }

    #[test]
    fn summer_time_moves_the_window_in_utc() {
        let e = env(vec![berlin_weekdays()], None);
        // In July Berlin is UTC+2: 09:30 Berlin is 07:30 UTC.
        assert!(check(&e, at("2026-07-07T07:30:00Z"), &[]).is_empty());
        assert!(!check(&e, at("2026-12-01T07:30:00Z"), &[]).is_empty());
        // The Sunday of the March change: Monday's window opens at 09:00 CEST = 07:00 UTC.
        let holds = check(&e, at("2026-03-29T12:00:00Z"), &[]);
        assert!(
            holds[0].to_string().contains("Mon 2026-03-30 09:00 CEST"),
            "{}",
            holds[0]
        );
    }

    #[test]
    fn approvals_count_distinct_approvers_only() {
        let approval = Approval {
            required: 2,
            approvers: vec!["alice".into(), "bob".into(), "carol".into()],
        };
        let e = env(vec![], Some(approval));
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let holds = check(
            &e,
            at("2026-12-01T09:00:00Z"),
            &names(&["alice", "alice", "mallory"]),
        );
        assert_eq!(
            holds[0].to_string(),
            "needs 1 more approval (of 2) from alice, bob, carol; `mallory` may not approve"
        );
        assert!(check(&e, at("2026-12-01T09:00:00Z"), &names(&["alice", "carol"])).is_empty());
        assert!(is_gated(&e));
    }
}
