//! What glueops-git trusts of what it reads: a webhook's origin (forks, triggers) and time,
//! repository strings and branch names before they reach git, git's own deadlines.

use std::path::Path;
use std::time::Duration;

use glueops_git::{
    Headers, LocalRepo, PullRequestAction, Remote, RepoEvent, Trigger, WebhookReceiver,
};
use hmac::{Hmac, Mac};
use proptest::prelude::*;

const SECRET: &str = "s";

fn fixture(rel: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn receive(event: &str, body: &serde_json::Value) -> glueops_git::Delivery {
    let body = serde_json::to_vec(body).unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(&body);
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let headers = Headers::new([
        ("X-GitHub-Event", event),
        ("X-Hub-Signature-256", signature.as_str()),
    ]);
    WebhookReceiver::new()
        .github_secret(SECRET)
        .receive(&headers, &body)
        .unwrap()
}

#[test]
fn a_pull_request_from_a_fork_is_marked_with_its_head_repository_and_sender() {
    let mut pr = fixture("github/pull_request/labeled.payload.json");
    let same = receive("pull_request", &pr);
    let RepoEvent::PullRequest(p) = &same.event else {
        panic!("{same:?}")
    };
    assert!(!p.fork, "the fixture's head is its own repository");
    pr["pull_request"]["head"]["repo"]["full_name"] = "mallory/Hello-World".into();
    pr["sender"]["login"] = "maintainer".into();
    let fork = receive("pull_request", &pr);
    let RepoEvent::PullRequest(p) = &fork.event else {
        panic!("{fork:?}")
    };
    assert!(p.fork);
    assert_eq!(p.head_repo.as_deref(), Some("mallory/Hello-World"));
    assert_eq!(p.sender, "maintainer");
    assert!(matches!(p.action, PullRequestAction::Labeled { .. }));
    // A deleted fork (`head.repo: null`) is a fork too.
    pr["pull_request"]["head"]["repo"] = serde_json::Value::Null;
    let gone = receive("pull_request", &pr);
    assert!(matches!(&gone.event, RepoEvent::PullRequest(p) if p.fork && p.head_repo.is_none()));
}

#[test]
fn a_workflow_run_says_why_it_ran_and_whose_code_it_built() {
    let mut run = fixture("github/workflow_run/completed.payload.json");
    run["workflow_run"]["event"] = "pull_request".into();
    run["workflow_run"]["head_repository"]["full_name"] = "mallory/octo-repo".into();
    let d = receive("workflow_run", &run);
    let RepoEvent::PipelineCompleted(p) = &d.event else {
        panic!("{d:?}")
    };
    assert_eq!(p.trigger, Trigger::PullRequest);
    assert_eq!(p.head_repo.as_deref(), Some("mallory/octo-repo"));
    assert_eq!(
        p.workflow_path.as_deref(),
        Some(".github/workflows/test.yml")
    );
    run["workflow_run"]["event"] = "push".into();
    let d = receive("workflow_run", &run);
    assert!(matches!(&d.event, RepoEvent::PipelineCompleted(p) if p.trigger == Trigger::Push));
}

#[test]
fn a_body_older_than_the_window_is_stale_and_a_fresh_one_is_not() {
    let pr = fixture("github/pull_request/opened.payload.json");
    let d = receive("pull_request", &pr);
    let at: jiff::Timestamp = "2019-05-15T15:20:33Z".parse().unwrap();
    assert_eq!(d.at, Some(at));
    let hour = Duration::from_secs(3600);
    assert!(d.is_stale("2019-05-15T16:20:34Z".parse().unwrap(), hour));
    assert!(!d.is_stale("2019-05-15T16:20:33Z".parse().unwrap(), hour));
    assert!(
        !d.is_stale("2019-05-15T15:00:00Z".parse().unwrap(), hour),
        "future is not stale"
    );
    // A push carries no time: its replay syncs from the config's tip, re-applying nothing old.
    let push = receive("push", &fixture("github/push/payload.json"));
    assert_eq!(push.at, None);
    assert!(!push.is_stale(jiff::Timestamp::now(), hour));
}

#[test]
fn gitlab_times_and_merge_request_forks_are_read() {
    let mut mr = fixture("gitlab/merge_request.json");
    mr["object_attributes"]["source_project_id"] = 99.into();
    let body = serde_json::to_vec(&mr).unwrap();
    let headers = Headers::new([
        ("X-Gitlab-Event", "Merge Request Hook"),
        ("X-Gitlab-Token", SECRET),
    ]);
    let d = WebhookReceiver::new()
        .gitlab_token(SECRET)
        .receive(&headers, &body)
        .unwrap();
    assert!(matches!(&d.event, RepoEvent::PullRequest(p) if p.fork));
    assert_eq!(d.at, Some("2013-12-03T17:23:34Z".parse().unwrap()));
    let pipeline = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gitlab/pipeline.json"),
    )
    .unwrap();
    let headers = Headers::new([
        ("X-Gitlab-Event", "Pipeline Hook"),
        ("X-Gitlab-Token", SECRET),
    ]);
    let d = WebhookReceiver::new()
        .gitlab_token(SECRET)
        .receive(&headers, &pipeline)
        .unwrap();
    assert_eq!(d.at, Some("2016-08-12T15:26:29Z".parse().unwrap()));
}

/// `git check-ref-format --branch` is the oracle: every name glueops accepts, git accepts;
/// every name git refuses, glueops refuses. glueops is stricter only for `@` alone (git
/// reads it as `HEAD`), and names starting with `-`, which git refuses too.
fn git_accepts_branch(name: &str) -> bool {
    std::process::Command::new("git")
        .args(["check-ref-format", "--branch"])
        .arg(name)
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap()
        .status
        .success()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
    #[test]
    fn branch_names_follow_git(name in "[a-z./@{}~^:?*\\[\\\\ -]{1,6}") {
        prop_assume!(name != "@" && !name.starts_with("@{"));
        let ours = glueops_git::check_branch(&name).is_ok();
        prop_assert_eq!(ours, git_accepts_branch(&name), "{:?}", name);
    }

    /// No string parses into a remote whose URL git could read as an option, or that names a
    /// transport other than the allowed ones.
    #[test]
    fn no_remote_is_an_option(spec in "(-|--upload-pack=|ext::|fd::|file://|https://u:p@h/|ssh://|[a-z@:/.-]){0,6}[a-z]{0,4}") {
        if let Ok(remote) = Remote::parse(&spec) {
            prop_assert!(!remote.url().starts_with('-'), "{}", remote.url());
            // git reads `<name>::<address>` as a remote helper only when `<name>` has no `/`.
            let helper = remote.url().split_once("::").is_some_and(|(t, _)| !t.contains('/'));
            prop_assert!(!helper, "{}", remote.url());
            prop_assert!(!remote.to_string().contains(":p@"), "{}", remote);
        }
    }
}

/// A remote that accepts the connection and never answers: the fetch is stopped at its
/// deadline, with an error that says so; a remote that answers is fetched (positive control).
#[test]
fn a_silent_remote_is_stopped_at_the_deadline() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        listener.accept().map(|(s, _)| {
            std::thread::sleep(Duration::from_secs(8));
            drop(s);
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let repo = LocalRepo::init_bare(dir.path().join("c.git")).unwrap();
    let silent = Remote::parse(&format!("git://127.0.0.1:{port}/x.git"))
        .unwrap()
        .with_timeout(Duration::from_secs(1));
    let started = std::time::Instant::now();
    let err = repo.fetch(&silent, "main").unwrap_err();
    assert!(
        matches!(err, glueops_git::Error::GitTimeout { .. }),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    drop(held);
    let origin = dir.path().join("origin.git");
    let init = std::process::Command::new("git")
        .args(["init", "-q", "--bare", "-b", "main"])
        .arg(&origin)
        .status()
        .unwrap();
    assert!(init.success());
    let local = Remote::parse(&origin.to_string_lossy()).unwrap();
    assert_eq!(
        repo.fetch(&local, "main").unwrap(),
        None,
        "an empty remote has no branch"
    );
}
