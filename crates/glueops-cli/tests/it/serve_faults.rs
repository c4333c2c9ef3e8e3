//! `glueops serve` against bad input and faults: forged, replayed, oversized and malformed
//! deliveries; GitLab's token; a manifest remote that goes away and comes back; `kill -9`
//! in the middle of applying; two replicas on the same remotes.

use std::time::Duration;

use glueops_testkit::serve::Served;
use serde_json::Value;

use super::serve::{Platform, SECRET, post, pull_request, wait_outcome, wait_until};

const WAIT: Duration = Duration::from_secs(60);

fn gitlab_payload(fixture: &str, edits: &[(&str, Value)]) -> Vec<u8> {
    let path = glueops_testkit::workspace()
        .join("crates/glueops-git/tests/fixtures/gitlab")
        .join(fixture);
    let mut v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    super::serve::fresh(&mut v, &["object_attributes"]);
    for (pointer, value) in edits {
        *v.pointer_mut(pointer).unwrap() = value.clone();
    }
    serde_json::to_vec(&v).unwrap()
}

fn post_gitlab(
    served: &Served,
    event: &str,
    id: &str,
    body: &[u8],
    token: &str,
) -> glueops_testkit::serve::Response {
    served.request(
        "POST",
        "/webhooks/gitlab",
        &[
            ("X-Gitlab-Event", event.into()),
            ("X-Gitlab-Event-UUID", id.into()),
            ("X-Gitlab-Token", token.into()),
        ],
        body,
    )
}

#[test]
fn bad_input_is_answered_and_commits_nothing() {
    let p = Platform::new();
    let mut served = p.start("cache", &["--resync", "1h", "--max-body", "65536"]);
    let commits = p.repos.manifest_commits();
    let open = pull_request("opened", 7, &"a".repeat(40));

    let forged = post(&served, "pull_request", "forged", &open, "not the secret");
    assert_eq!(forged.status, 401, "{}", forged.body);
    let missing = served.request(
        "POST",
        "/webhooks/github",
        &[("X-GitHub-Event", "push".into())],
        b"{}",
    );
    assert_eq!(missing.status, 401, "{}", missing.body);
    let mut big = open.clone();
    big.extend(std::iter::repeat_n(b' ', 70_000));
    assert_eq!(
        post(&served, "pull_request", "big", &big, SECRET).status,
        413
    );
    let malformed = post(
        &served,
        "pull_request",
        "bad-json",
        b"{\"action\": ",
        SECRET,
    );
    assert_eq!(malformed.status, 400, "{}", malformed.body);
    let mut unknown: Value = serde_json::from_slice(&open).unwrap();
    unknown["repository"]["full_name"] = "someone/else".into();
    let unknown = post(
        &served,
        "pull_request",
        "unknown",
        &serde_json::to_vec(&unknown).unwrap(),
        SECRET,
    );
    assert_eq!(unknown.status, 202);
    assert!(unknown.body.contains("ignored"), "{}", unknown.body);
    let wrong_host = served.request(
        "POST",
        "/webhooks/gitlab",
        &[
            ("X-Gitlab-Event", "Push Hook".into()),
            ("X-Gitlab-Token", "wrong".into()),
        ],
        b"{}",
    );
    assert_eq!(wrong_host.status, 401);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        p.repos.manifest_commits(),
        commits,
        "bad input committed something"
    );

    // A replay of an applied delivery is answered 200 and applies nothing: the preview it
    // opened stays closed.
    assert_eq!(
        post(&served, "pull_request", "open-7", &open, SECRET).status,
        202
    );
    wait_outcome(&served, "open-7", "applied");
    let close = pull_request("closed", 7, &"a".repeat(40));
    assert_eq!(
        post(&served, "pull_request", "close-7", &close, SECRET).status,
        202
    );
    wait_outcome(&served, "close-7", "applied");
    let after = p.repos.manifest_commits();
    assert_eq!(after, commits + 2);
    let replay = post(&served, "pull_request", "open-7", &open, SECRET);
    assert_eq!(replay.status, 200, "{}", replay.body);
    assert!(replay.body.contains("duplicate"));

    // GitLab: a push to the config syncs; a merge request for an app without previews fails
    // with the reason, and commits nothing.
    p.repos.change_config("worker staging: debug logs", |w| {
        let f = w.join("apps/worker/envs/staging/values.yaml");
        let text = std::fs::read_to_string(&f).unwrap();
        std::fs::write(
            &f,
            format!("{text}deployment: {{envVariables: [{{name: LOG_LEVEL, value: debug}}]}}\n"),
        )
        .unwrap();
    });
    let push = gitlab_payload(
        "push.json",
        &[
            ("/project/path_with_namespace", "acme/config".into()),
            ("/ref", "refs/heads/main".into()),
        ],
    );
    assert_eq!(
        post_gitlab(&served, "Push Hook", "gl-push", &push, "wrong token").status,
        401
    );
    assert_eq!(
        post_gitlab(&served, "Push Hook", "gl-push", &push, "a gitlab token").status,
        202
    );
    wait_outcome(&served, "gl-push", "applied");
    assert!(
        p.head_message().contains("Glueops-Deploy: worker/staging"),
        "{}",
        p.head_message()
    );
    let before = p.repos.manifest_commits();
    let mr = gitlab_payload(
        "merge_request.json",
        &[
            ("/project/path_with_namespace", "acme/worker".into()),
            ("/object_attributes/iid", 9.into()),
        ],
    );
    assert_eq!(
        post_gitlab(
            &served,
            "Merge Request Hook",
            "gl-mr",
            &mr,
            "a gitlab token"
        )
        .status,
        202
    );
    wait_outcome(&served, "gl-mr", "failed");
    assert!(served.log_text().contains("`worker` has no previews"));
    assert_eq!(p.repos.manifest_commits(), before);

    // After a restart the ledger still knows the applied deliveries.
    assert!(served.terminate(WAIT).is_some_and(|s| s.success()));
    let served = p.start("cache-2", &["--resync", "1h"]);
    let replay = post(&served, "pull_request", "close-7", &close, SECRET);
    assert_eq!(replay.status, 200, "{}", replay.body);
    assert!(replay.body.contains("duplicate"));
    let metrics = served.request("GET", "/metrics", &[], b"").body;
    assert!(metrics.contains("outcome=\"duplicate\"} 1"), "{metrics}");
    p.repos.fsck();
}

#[test]
fn a_manifest_remote_that_goes_away_is_retried_until_it_returns() {
    let p = Platform::new();
    let served = p.start("cache", &["--resync", "1h"]);
    let away = p.root.path().join("manifests.away");
    std::fs::rename(&p.repos.manifests, &away).unwrap();
    assert_eq!(
        post(
            &served,
            "pull_request",
            "while-away",
            &pull_request("opened", 3, &"c".repeat(40)),
            SECRET
        )
        .status,
        202
    );
    let not_ready = wait_until(|| {
        let r = served.request("GET", "/readyz", &[], b"");
        r.status == 503 && r.body.contains("\"manifestsReachable\":false")
    });
    assert!(
        not_ready,
        "/readyz did not report the remote: {}",
        served.log_text()
    );
    assert!(
        served
            .wait_log(WAIT, |l| l.contains("the batch is kept and retried"))
            .is_some()
    );
    std::fs::rename(&away, &p.repos.manifests).unwrap();
    wait_outcome(&served, "while-away", "applied");
    assert!(wait_until(|| served
        .request("GET", "/readyz", &[], b"")
        .status
        == 200));
    assert!(
        p.manifest(&[
            "ls-tree",
            "-d",
            "main",
            "clusters/nonprod/previews/web-pr-3"
        ])
        .is_some_and(|l| !l.is_empty())
    );
    p.repos.fsck();
}

/// Trailer lines `key: value` over the manifest branch's whole history.
fn trailer_count(p: &Platform, needle: &str) -> usize {
    p.manifest(&["log", "--format=%B", "main"])
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with(needle))
        .count()
}

#[test]
fn kill_9_while_applying_loses_nothing_and_repeats_nothing() {
    let p = Platform::new();
    let mut served = p.start("cache", &["--resync", "1h"]);
    // Bursts of deliveries, each cut short by kill -9 a little later each time.
    let mut sent = Vec::new();
    let mut replayed = 0;
    for (round, delay) in [5u64, 40, 120].into_iter().enumerate() {
        for i in 0..4u64 {
            let n = 100 + 10 * round as u64 + i;
            let id = format!("k{n}");
            let body = pull_request("opened", n, &format!("{n:0>40}"));
            if post(&served, "pull_request", &id, &body, SECRET).status == 202 {
                sent.push(n);
            }
        }
        std::thread::sleep(Duration::from_millis(delay));
        served.kill();
        // A kill in the middle of a fetch or push leaves git's lock files behind.
        for clone in std::fs::read_dir(p.root.path().join("cache"))
            .unwrap()
            .flatten()
        {
            if clone.path().join("refs").is_dir() {
                std::fs::write(clone.path().join("refs/stale.lock"), "").unwrap();
                std::fs::write(clone.path().join("packed-refs.lock"), "").unwrap();
            }
        }
        served = p.start("cache", &["--resync", "1h"]);
        replayed += usize::from(served.log_text().contains("journal: replaying deliveries"));
    }
    assert_eq!(
        sent.len(),
        12,
        "every delivery was accepted before the kill"
    );
    assert!(
        replayed > 0,
        "no kill interrupted work: the test proves nothing"
    );
    for n in &sent {
        wait_outcome_or_applied(&served, &p, *n);
    }
    for n in &sent {
        let opened = trailer_count(&p, &format!("Glueops-Preview-Open: web#{n} "));
        assert_eq!(opened, 1, "preview {n} was opened {opened} times");
    }
    // Nothing left half-done: a drift check finds the branch exactly as rendered.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_glueops"))
        .args(["drift", "--config"])
        .arg(&p.repos.config)
        .arg("--manifests")
        .arg(&p.repos.manifests)
        .arg("--cache")
        .arg(p.root.path().join("drift-cache"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "drift after the kills: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    p.repos.fsck();
}

/// Waits for preview `n`: applied before a kill (in the ledger), or by the restarted server
/// replaying its journal.
fn wait_outcome_or_applied(served: &Served, p: &Platform, n: u64) {
    let dir = format!("clusters/nonprod/previews/web-pr-{n}");
    let done = wait_until(|| {
        p.manifest(&["show", "glueops-ledger:ledger.json"])
            .is_some_and(|l| l.contains(&format!("\"k{n}\"")))
            && p.manifest(&["ls-tree", "-d", "main", &dir])
                .is_some_and(|l| !l.is_empty())
    });
    assert!(done, "delivery k{n} was lost:\n{}", served.log_text());
}

#[test]
fn two_replicas_end_where_one_does() {
    let opens = |served: &[&Served]| {
        for n in 0..6u64 {
            let to = served[n as usize % served.len()];
            let body = pull_request("opened", 200 + n, &format!("{n:0>40}"));
            assert_eq!(
                post(to, "pull_request", &format!("r{n}"), &body, SECRET).status,
                202
            );
            // The same delivery, redelivered to the other replica.
            let other = served[(n as usize + 1) % served.len()];
            let again = post(other, "pull_request", &format!("r{n}"), &body, SECRET);
            assert!(again.status == 202 || again.status == 200, "{}", again.body);
        }
    };
    let close = |served: &[&Served]| {
        let close = pull_request("closed", 201, &format!("{:0>40}", 1));
        assert_eq!(
            post(served[0], "pull_request", "r-close", &close, SECRET).status,
            202
        );
    };
    // Settled: the deliveries are in the ledger and no replica has work waiting. (Events
    // about one pull request that overtake each other on two replicas can end differently
    // from one; each sender's pull request events come one after another.)
    let settle = |p: &Platform, served: &[&Served], ids: &[&str]| {
        assert!(
            wait_until(|| {
                let ledger = p
                    .manifest(&["show", "glueops-ledger:ledger.json"])
                    .unwrap_or_default();
                ids.iter().all(|id| ledger.contains(&format!("\"{id}\"")))
                    && served.iter().all(|s| {
                        s.request("GET", "/metrics", &[], b"")
                            .body
                            .contains("glueops_queue_depth 0")
                    })
            }),
            "the replicas did not settle"
        );
    };
    let opened = ["r0", "r1", "r2", "r3", "r4", "r5"];
    let one = Platform::new();
    let a = one.start("cache-a", &["--resync", "1h"]);
    opens(&[&a]);
    settle(&one, &[&a], &opened);
    close(&[&a]);
    settle(&one, &[&a], &["r-close"]);
    let two = Platform::new();
    let (b, c) = (
        two.start("cache-b", &["--resync", "1h"]),
        two.start("cache-c", &["--resync", "1h"]),
    );
    opens(&[&b, &c]);
    settle(&two, &[&b, &c], &opened);
    close(&[&b, &c]);
    settle(&two, &[&b, &c], &["r-close"]);
    let tree = |p: &Platform| p.manifest(&["rev-parse", "main^{tree}"]).unwrap();
    assert_eq!(
        tree(&one),
        tree(&two),
        "two replicas ended elsewhere than one"
    );
    for n in [200u64, 202, 203, 204, 205] {
        assert_eq!(
            trailer_count(&two, &format!("Glueops-Preview-Open: web#{n} ")),
            1,
            "preview {n} opened twice"
        );
    }
    one.repos.fsck();
    two.repos.fsck();
}

#[test]
fn sigterm_finishes_accepted_work_then_exits_0() {
    let p = Platform::new();
    let mut served = p.start("cache", &["--resync", "1h"]);
    let ids: Vec<String> = (0..10u64).map(|n| format!("t{n}")).collect();
    for (n, id) in ids.iter().enumerate() {
        let body = pull_request("opened", 300 + n as u64, &format!("{n:0>40}"));
        assert_eq!(post(&served, "pull_request", id, &body, SECRET).status, 202);
    }
    let status = served.terminate(WAIT).expect("no exit after SIGTERM");
    assert!(status.success(), "{status:?}: {}", served.log_text());
    let ledger = p.manifest(&["show", "glueops-ledger:ledger.json"]).unwrap();
    for id in &ids {
        assert!(
            ledger.contains(&format!("\"{id}\"")),
            "{id} was accepted and not applied"
        );
    }
    let left = std::fs::read_dir(p.root.path().join("cache/serve-journal"))
        .unwrap()
        .count();
    assert_eq!(left, 0, "the journal kept finished work");
}

#[test]
fn a_branch_another_writer_moved_or_rewound_is_planned_on_as_it_is() {
    let p = Platform::new();
    let served = p.start("cache", &["--resync", "1h"]);
    let open = |n: u64| {
        let id = format!("w{n}");
        let body = pull_request("opened", n, &format!("{n:0>40}"));
        assert_eq!(
            post(&served, "pull_request", &id, &body, SECRET).status,
            202
        );
        wait_outcome(&served, &id, "applied");
        p.manifest(&["rev-parse", "main"]).unwrap()
    };
    let parent = |c: &str| p.manifest(&["rev-parse", &format!("{c}^")]).unwrap();
    let t1 = open(1);
    // Someone else commits on the branch (the server pushed t1 and knows nothing newer).
    let work = p.root.path().join("other");
    glueops_testkit::repos::git(
        p.root.path(),
        &[
            "clone",
            "--quiet",
            &p.repos.manifests.to_string_lossy(),
            &work.to_string_lossy(),
        ],
    );
    std::fs::write(work.join("NOTES.md"), "hand written\n").unwrap();
    glueops_testkit::repos::git(&work, &["add", "NOTES.md"]);
    glueops_testkit::repos::git(
        &work,
        &[
            "-c",
            "user.name=x",
            "-c",
            "user.email=x@x",
            "commit",
            "--quiet",
            "-m",
            "notes",
        ],
    );
    glueops_testkit::repos::git(&work, &["push", "--quiet", "origin", "HEAD:main"]);
    let theirs = glueops_testkit::repos::git(&work, &["rev-parse", "HEAD"])
        .trim()
        .to_string();
    let t2 = open(2);
    assert_eq!(
        parent(&t2),
        theirs,
        "the server's commit does not build on the other writer's"
    );
    // Someone rewinds the branch to before both: the next commit builds on the rewound tip.
    glueops_testkit::repos::git(
        &work,
        &[
            "push",
            "--quiet",
            "--force",
            "origin",
            &format!("{t1}:main"),
        ],
    );
    let t3 = open(3);
    assert_eq!(parent(&t3), t1, "the server undid a rewind");
    p.repos.fsck();
}
