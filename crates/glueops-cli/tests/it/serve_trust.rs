//! `glueops serve` against signed deliveries it must still not act on: a body captured and
//! sent again under a new delivery id, an image event older than the one released, a fork's
//! CI run on a branch named like the app's, a fork's pull request. Each attack changes
//! nothing; the legitimate event beside it is applied.

use serde_json::Value;

use super::serve::{
    INSIDE, Platform, SECRET, image_published, payload, post, pull_request, wait_outcome,
};

fn staging_tag(p: &Platform, app: &str) -> String {
    let file = format!("main:apps/{app}/envs/staging/values.yaml");
    glueops_testkit::repos::git(&p.repos.config, &["show", &file])
}

#[test]
fn replays_and_older_events_never_move_staging_back() {
    let p = Platform::new();
    let served = p.start("cache", &["--resync", "1h"]);
    let from_clock = |minutes: i64| {
        let at: jiff::Timestamp = INSIDE.parse().unwrap();
        (at + jiff::SignedDuration::from_mins(minutes)).to_string()
    };
    let old = image_published("1.6.0", &from_clock(-30));
    post(&served, "package", "img-1.6", &old, SECRET);
    wait_outcome(&served, "img-1.6", "applied");
    post(
        &served,
        "package",
        "img-1.7",
        &image_published("1.7.0", &from_clock(-20)),
        SECRET,
    );
    wait_outcome(&served, "img-1.7", "applied");
    assert!(staging_tag(&p, "api").contains("1.7.0"));
    let commits = p.repos.manifest_commits();

    // The captured 1.6.0 body, signed as it was, under a new delivery id.
    let replay = post(&served, "package", "img-1.6-again", &old, SECRET);
    assert_eq!(replay.status, 202, "{}", replay.body);
    wait_outcome(&served, "img-1.6-again", "ignored");
    // A body older than the window (two hours before the server's clock).
    let stale = post(
        &served,
        "package",
        "img-stale",
        &image_published("1.9.0", &from_clock(-120)),
        SECRET,
    );
    assert!(stale.body.contains("stale"), "{}", stale.body);
    assert!(
        staging_tag(&p, "api").contains("1.7.0"),
        "{}",
        staging_tag(&p, "api")
    );
    assert_eq!(p.repos.manifest_commits(), commits, "a replay released");

    // Positive control: a newer event still bumps.
    post(
        &served,
        "package",
        "img-1.8",
        &image_published("1.8.0", &from_clock(-10)),
        SECRET,
    );
    wait_outcome(&served, "img-1.8", "applied");
    assert!(staging_tag(&p, "api").contains("1.8.0"));
    p.repos.fsck();
}

#[test]
fn a_forks_run_and_pull_request_release_nothing() {
    let p = Platform::new();
    let served = p.start("cache", &["--resync", "1h"]);
    let run = |event: &str, head: &str| {
        payload(
            "workflow_run/completed.payload.json",
            &[
                ("/repository/full_name", "acme/web".into()),
                ("/workflow_run/head_branch", "main".into()),
                ("/workflow_run/head_sha", "c".repeat(40).into()),
                ("/workflow_run/event", event.into()),
                ("/workflow_run/head_repository/full_name", head.into()),
            ],
        )
    };
    let before = (staging_tag(&p, "web"), p.repos.manifest_commits());
    for (id, body) in [
        ("fork-run", run("pull_request", "mallory/web")),
        ("fork-push-run", run("push", "mallory/web")),
        ("pr-run", run("pull_request_target", "acme/web")),
    ] {
        let r = post(&served, "workflow_run", id, &body, SECRET);
        assert_eq!(r.status, 202, "{}", r.body);
        assert!(r.body.contains("ignored"), "{id}: {}", r.body);
    }
    let mut fork: Value =
        serde_json::from_slice(&pull_request("opened", 5, &"d".repeat(40))).unwrap();
    fork["pull_request"]["head"]["repo"]["full_name"] = "mallory/web".into();
    let r = post(
        &served,
        "pull_request",
        "fork-pr",
        &serde_json::to_vec(&fork).unwrap(),
        SECRET,
    );
    assert!(r.body.contains("previews of forks are off"), "{}", r.body);
    assert_eq!((staging_tag(&p, "web"), p.repos.manifest_commits()), before);

    // Positive control: a push run of acme/web itself bumps its staging.
    let r = post(
        &served,
        "workflow_run",
        "own-run",
        &run("push", "acme/web"),
        SECRET,
    );
    assert_eq!(r.status, 202, "{}", r.body);
    wait_outcome(&served, "own-run", "applied");
    assert!(
        staging_tag(&p, "web").contains(&"c".repeat(40)),
        "{}",
        staging_tag(&p, "web")
    );
    p.repos.fsck();
}
