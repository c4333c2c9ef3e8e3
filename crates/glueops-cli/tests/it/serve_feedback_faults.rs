//! Feedback never holds up a release and is never lost or doubled: a forge answering 502
//! and 429 for a while, and `kill -9` while feedback waits in the outbox.

use glueops_testkit::github::GitHubForge;

use crate::serve::{Platform, SECRET, post, pull_request, wait_outcome, wait_until};
use crate::serve_feedback::{TOKEN, start, token_flags};

const HOST: &str = "https://web-pr-9.apps.nonprod.acme.onglueops.rocks";

fn comments_on_9(github: &GitHubForge) -> Vec<String> {
    github
        .comments()
        .into_iter()
        .filter(|c| c.repo == "acme/web" && c.issue == 9)
        .map(|c| c.body)
        .collect()
}

fn created(github: &GitHubForge, operation: &str) -> usize {
    github
        .log()
        .iter()
        .filter(|l| l.operation == operation && l.status < 300)
        .count()
}

fn preview_is_released(p: &Platform) -> bool {
    p.manifest(&[
        "ls-tree",
        "-r",
        "--name-only",
        "main",
        "clusters/nonprod/previews/web-pr-9",
    ])
    .is_some_and(|l| !l.is_empty())
}

#[test]
fn a_forge_outage_delays_feedback_but_not_the_release_and_it_arrives_once() {
    let p = Platform::new();
    let github = GitHubForge::start(TOKEN);
    let served = start(&p, &github, &token_flags(&p));
    // Let the start pass's feedback land first.
    assert!(wait_until(|| !github.deployments().is_empty()));
    std::thread::sleep(std::time::Duration::from_millis(500));
    github.fail_next(4, 502, None);
    github.fail_next(1, 429, Some(2));
    github.fail_next(2, 502, None);
    let sha = "9999999999999999999999999999999999999999";
    let started = std::time::Instant::now();
    post(
        &served,
        "pull_request",
        "open",
        &pull_request("opened", 9, sha),
        SECRET,
    );
    wait_outcome(&served, "open", "applied");
    assert!(preview_is_released(&p), "the release waited for the forge");
    let released_in = started.elapsed();
    assert!(
        wait_until(|| comments_on_9(&github).iter().any(|b| b.contains(HOST))),
        "the feedback never arrived: {:?}\n{}",
        github.log(),
        served.log_text()
    );
    assert_eq!(github.faults_left(), 0, "every fault was answered");
    assert_eq!(comments_on_9(&github).len(), 1);
    assert_eq!(
        created(&github, "issues/create-comment"),
        1,
        "{:?}",
        github.log()
    );
    let preview = || -> Vec<_> {
        github
            .deployments()
            .into_iter()
            .filter(|d| d.environment == "web-pr-9")
            .collect()
    };
    assert!(
        wait_until(|| preview()
            .first()
            .is_some_and(|d| d.statuses.last().map(|s| s.0.as_str()) == Some("success"))),
        "{:?}",
        github.log()
    );
    assert_eq!(preview().len(), 1, "{:?}", preview());
    assert!(wait_until(|| served
        .request("GET", "/metrics", &[], b"")
        .body
        .contains("glueops_feedback_queued 0")));
    // How long Retry-After and rate-limit resets are waited out is measured against the
    // stand-in in glueops-forge's own tests (`an_outage_delays_the_outbox_...`).
    assert!(github.log().iter().any(|l| l.status == 429));
    assert!(
        released_in < std::time::Duration::from_secs(30),
        "{released_in:?}"
    );
    assert_eq!(github.violations(), Vec::<String>::new());
    // Calls are counted by host, operation and outcome; the outbox's depth is a gauge.
    let metrics = served.request("GET", "/metrics", &[], b"").body;
    for line in [
        "glueops_forge_requests_total{host=\"github\",operation=\"comment.create\",outcome=\"ok\"} 1",
        "glueops_forge_requests_total{host=\"github\",operation=\"deployment.list\",outcome=\"retry\"}",
        "glueops_feedback_queued 0",
    ] {
        assert!(metrics.contains(line), "no `{line}` in:\n{metrics}");
    }
    crate::serve::promtool_accepts(&metrics);
}

#[test]
fn feedback_waiting_in_the_outbox_survives_kill_9_and_is_posted_once_after_restart() {
    let p = Platform::new();
    let github = GitHubForge::start(TOKEN);
    let mut served = start(&p, &github, &token_flags(&p));
    assert!(wait_until(|| !github.deployments().is_empty()));
    std::thread::sleep(std::time::Duration::from_millis(500));
    // The forge is down for good: the feedback of the preview waits.
    github.fail_next(100_000, 502, None);
    let sha = "8888888888888888888888888888888888888888";
    post(
        &served,
        "pull_request",
        "open",
        &pull_request("opened", 9, sha),
        SECRET,
    );
    wait_outcome(&served, "open", "applied");
    assert!(preview_is_released(&p));
    let outbox = p.root.path().join("cache/feedback-outbox");
    let waiting = || {
        std::fs::read_dir(&outbox)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                    .count()
            })
            .unwrap_or(0)
    };
    assert!(
        wait_until(|| waiting() >= 2),
        "nothing waits in {}",
        outbox.display()
    );
    served.kill();
    assert!(comments_on_9(&github).is_empty());
    github.clear_faults();
    let served = start(&p, &github, &token_flags(&p));
    assert!(
        wait_until(|| comments_on_9(&github).iter().any(|b| b.contains(HOST))),
        "not posted after the restart:\n{}",
        served.log_text()
    );
    assert!(wait_until(|| waiting() == 0), "the outbox did not empty");
    assert_eq!(comments_on_9(&github).len(), 1);
    assert_eq!(created(&github, "issues/create-comment"), 1);
    assert_eq!(
        github
            .deployments()
            .iter()
            .filter(|d| d.environment == "web-pr-9")
            .count(),
        1
    );
    assert_eq!(github.violations(), Vec::<String>::new());
}

/// `glueops <args>` on the platform with the GitHub stand-in's flags.
fn one_shot(p: &Platform, github: &GitHubForge, args: &[&str]) -> std::process::Output {
    let token = p.root.path().join("github.token");
    let url = github.url();
    let mut all: Vec<&str> = args.to_vec();
    let token = token.to_string_lossy().into_owned();
    all.extend([
        "--github-api",
        &url,
        "--github-token-file",
        &token,
        "--config-repo",
        "acme/config",
    ]);
    p.cli(&all)
}

#[test]
fn one_shot_commands_tell_the_forge_and_leave_what_it_refused_for_the_next() {
    let p = Platform::new();
    let github = GitHubForge::start(TOKEN);
    let _ = token_flags(&p);
    let out = one_shot(&p, &github, &["sync"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tip = glueops_testkit::repos::git(&p.repos.config, &["rev-parse", "main"])
        .trim()
        .to_string();
    let contexts = |github: &GitHubForge| -> Vec<String> {
        let mut c: Vec<String> = github
            .statuses()
            .into_iter()
            .filter(|s| s.sha == tip)
            .map(|s| s.context)
            .collect();
        c.sort();
        c
    };
    assert_eq!(contexts(&github), ["glueops/production", "glueops/staging"]);
    assert_eq!(github.deployments().len(), 8, "one per app and environment");

    // A bump, then its rollback: the rolled-back deployment is inactive, the one rolled
    // back to (a new config commit) succeeded.
    let bump = ["bump", "--app", "api", "--env", "staging", "--tag", "1.6.0"];
    let out = one_shot(&p, &github, &bump);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bumped = glueops_testkit::repos::git(&p.repos.config, &["rev-parse", "main"])
        .trim()
        .to_string();
    let rollback = [
        "rollback", "--app", "api", "--env", "staging", "--reason", "errors",
    ];
    let out = one_shot(&p, &github, &rollback);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let back = glueops_testkit::repos::git(&p.repos.config, &["rev-parse", "main"])
        .trim()
        .to_string();
    let api: Vec<_> = github
        .deployments()
        .into_iter()
        .filter(|d| d.environment == "staging" && d.task == "deploy:api")
        .collect();
    let last_state = |sha: &str| {
        api.iter()
            .find(|d| d.sha == sha)
            .and_then(|d| d.statuses.last().map(|s| s.0.clone()))
    };
    assert_eq!(last_state(&bumped).as_deref(), Some("inactive"), "{api:?}");
    assert_eq!(last_state(&back).as_deref(), Some("success"), "{api:?}");
    assert_eq!(
        api.iter()
            .filter(|d| d.statuses.last().is_some_and(|s| s.0 == "success"))
            .count(),
        1
    );

    // The forge is down: the preview is released, the command succeeds with a warning, and
    // the feedback waits in the cache's outbox.
    github.fail_next(100_000, 503, None);
    let sha = "7777777777777777777777777777777777777777";
    let open = [
        "preview",
        "open",
        "--app",
        "web",
        "--pr",
        "9",
        "--sha",
        sha,
        "--branch",
        "feature",
        "--feedback-timeout",
        "2s",
    ];
    let out = one_shot(&p, &github, &open);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(preview_is_released(&p));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("feedback call(s) for the forge wait in"),
        "{stderr}"
    );
    assert!(!stderr.contains(TOKEN));
    assert!(comments_on_9(&github).is_empty());
    // Back up: the next command sends what waited, once.
    github.clear_faults();
    let out = one_shot(&p, &github, &["sync"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(comments_on_9(&github).len(), 1);
    assert!(comments_on_9(&github)[0].contains(HOST));
    assert_eq!(created(&github, "issues/create-comment"), 1);
    assert_eq!(github.violations(), Vec::<String>::new());
}
