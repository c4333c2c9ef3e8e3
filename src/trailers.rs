//! The commit trailers glueops writes: the audit trail of every release, and the state the
//! next run starts from. Documented in the README ("Trailers").

use crate::git::{HistoryEntry, Trailer};

/// The config commit rendered (every glueops commit on the manifest branch carries it; the
/// next sync renders only what changed since).
pub const CONFIG: &str = "Glueops-Config";
/// One per deployment whose files changed: `<app>/<env> tag=<tag> config=<commit>`.
pub const DEPLOY: &str = "Glueops-Deploy";
/// One per deployment whose files were removed: `<app>/<env>`.
pub const REMOVE: &str = "Glueops-Remove";
/// One per deployment whose change a gate holds: `<app>/<env>`.
pub const HELD: &str = "Glueops-Held";
/// A preview opened or updated: `<app>#<N> sha=<head sha>`.
pub const PREVIEW_OPEN: &str = "Glueops-Preview-Open";
/// A preview closed: `<app>#<N> <why>`.
pub const PREVIEW_CLOSE: &str = "Glueops-Preview-Close";
/// A promotion: `<app>/<env> from=<env> tag=<tag> approved-by=<a>,<b>`.
pub const PROMOTION: &str = "Glueops-Promotion";
/// A sync that counted approvals recorded for its config commit: `<a>,<b>`.
pub const APPROVED: &str = "Glueops-Approved-By";
/// A rollback (gates bypassed): `<app>/<env> to=<tag> reason=<text>`.
pub const ROLLBACK: &str = "Glueops-Rollback";
/// The source (application code) commit a change builds, for lead time.
pub const SOURCE_COMMIT: &str = "Glueops-Source-Commit";
/// When that source commit was made (RFC 3339), for lead time.
pub const SOURCE_TIME: &str = "Glueops-Source-Time";
/// A manifest file someone else changed, restored: its path.
pub const REPAIRED: &str = "Glueops-Repaired";
/// A config edit glueops made: `<app>/<env> image.tag=<tag>`.
pub const BUMP: &str = "Glueops-Bump";

/// The values of every trailer `key` in `entry`.
pub(crate) fn values<'a>(entry: &'a HistoryEntry, key: &'a str) -> impl Iterator<Item = &'a str> {
    entry
        .trailers
        .iter()
        .filter(move |t| t.key == key)
        .map(|t| t.value.as_str())
}

/// The first value of `key` in `entry`.
pub(crate) fn value<'a>(entry: &'a HistoryEntry, key: &str) -> Option<&'a str> {
    entry
        .trailers
        .iter()
        .find(|t| t.key == key)
        .map(|t| t.value.as_str())
}

/// A deployment trailer's value taken apart: `(app, env)` and the `k=v` fields.
pub(crate) type Parsed<'a> = ((&'a str, &'a str), Vec<(&'a str, &'a str)>);

/// `<app>/<env>` at the start of a trailer value, and the `k=v` fields after it (a `reason=`
/// runs to the end of the line).
pub(crate) fn parse_deployment(value: &str) -> Option<Parsed<'_>> {
    let (target, rest) = value.split_once(' ').unwrap_or((value, ""));
    let (app, env) = target.split_once('/')?;
    let mut fields = Vec::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let Some((k, v)) = rest.split_once('=') else {
            break;
        };
        if k == "reason" {
            fields.push((k, v));
            break;
        }
        let (v, next) = v.split_once(' ').unwrap_or((v, ""));
        fields.push((k, v));
        rest = next.trim();
    }
    Some(((app, env), fields))
}

/// A trailer whose value is made safe for one line.
pub(crate) fn make(key: &str, value: impl AsRef<str>) -> Option<Trailer> {
    let one_line: String = value
        .as_ref()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    Trailer::new(key, one_line.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_values_parse_back() {
        let ((app, env), fields) =
            parse_deployment("api/production to=1.4.2 reason=bad deploy, p99 up").unwrap();
        assert_eq!((app, env), ("api", "production"));
        assert_eq!(
            fields,
            vec![("to", "1.4.2"), ("reason", "bad deploy, p99 up")]
        );
        assert!(parse_deployment("nonsense").is_none());
        assert_eq!(make(ROLLBACK, "a\nb").unwrap().value, "a b");
    }
}
