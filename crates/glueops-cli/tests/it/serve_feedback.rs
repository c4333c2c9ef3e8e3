//! glueops talks back, end to end: `glueops serve` fed the real GitHub payloads tells a
//! loopback GitHub stand-in (`glueops_testkit::github`, every request checked against
//! GitHub's official OpenAPI description) what became of each pull request and config
//! commit: one preview comment edited in place, deployments and their statuses, a status
//! per environment (one held by a window, with the next opening), the diff comment on a
//! config pull request and a failing `glueops/validate` naming file and line.

use glueops_testkit::github::{GitHubForge, TEST_APP_ID, TEST_APP_KEY};
use glueops_testkit::serve::Served;

use crate::serve::{
    OUTSIDE, Platform, SECRET, config_branch_commit, config_push, payload, post, pull_request,
    wait_outcome, wait_until,
};

pub(crate) const TOKEN: &str = "ghp_feedback_test";

pub(crate) fn start(p: &Platform, github: &GitHubForge, auth: &[String]) -> Served {
    let url = github.url();
    let mut extra: Vec<&str> = vec![
        "--resync",
        "1h",
        "--github-api",
        &url,
        "--public-url",
        "https://glueops.acme.example",
    ];
    extra.extend(auth.iter().map(String::as_str));
    p.start("cache", &extra)
}

pub(crate) fn token_flags(p: &Platform) -> Vec<String> {
    let file = p.root.path().join("github.token");
    std::fs::write(&file, format!("{TOKEN}\n")).unwrap();
    vec![
        "--github-token-file".into(),
        file.to_string_lossy().into_owned(),
    ]
}

fn config_tip(p: &Platform) -> String {
    glueops_testkit::repos::git(&p.repos.config, &["rev-parse", "main"])
        .trim()
        .to_string()
}

fn assert_valid(github: &GitHubForge, served: &Served) {
    assert_eq!(
        github.violations(),
        Vec::<String>::new(),
        "requests broke GitHub's API description:\n{}",
        served.log_text()
    );
}

#[test]
fn a_pull_request_hears_of_its_preview_once_edited_in_place_and_of_its_removal() {
    let p = Platform::new();
    let github = GitHubForge::start(TOKEN);
    let served = start(&p, &github, &token_flags(&p));
    let sha1 = "1111111111111111111111111111111111111111";
    let sha2 = "2222222222222222222222222222222222222222";
    let host = "https://web-pr-5.apps.nonprod.acme.onglueops.rocks";
    post(
        &served,
        "pull_request",
        "open",
        &pull_request("opened", 5, sha1),
        SECRET,
    );
    wait_outcome(&served, "open", "applied");
    let on_pr = |github: &GitHubForge| -> Vec<String> {
        github
            .comments()
            .into_iter()
            .filter(|c| c.repo == "acme/web" && c.issue == 5)
            .map(|c| c.body)
            .collect()
    };
    assert!(
        wait_until(|| on_pr(&github).iter().any(|b| b.contains(host))),
        "no comment with the preview URL: {:?}\n{}",
        github.comments(),
        served.log_text()
    );
    let body = &on_pr(&github)[0];
    assert!(
        body.contains("`1111111`") && body.contains("| `web` |"),
        "{body}"
    );
    let preview = |github: &GitHubForge| {
        github
            .deployments()
            .into_iter()
            .filter(|d| d.environment == "web-pr-5")
            .collect::<Vec<_>>()
    };
    assert!(wait_until(|| preview(&github).iter().any(|d| d
        .statuses
        .last()
        .map(|s| s.0.as_str())
        == Some("success"))));
    let d = &preview(&github)[0];
    assert!(
        d.transient && d.sha == sha1 && d.repo == "acme/web",
        "{d:?}"
    );
    assert_eq!(d.statuses.last().unwrap().1.as_deref(), Some(host));
    // `in_progress` while rendering (unless the release overtook it in the outbox), then
    // `success`.
    let states: Vec<&str> = d.statuses.iter().map(|s| s.0.as_str()).collect();
    assert!(
        states == ["in_progress", "success"] || states == ["success"],
        "{states:?}"
    );
    // The comment links the manifest commit that holds the preview.
    let manifests = p.manifest(&["rev-parse", "--short=7", "main"]).unwrap();
    assert!(body.contains(&format!("`{manifests}`")), "{body}");

    // New commits: the same comment, edited; the older deployment retired.
    post(
        &served,
        "pull_request",
        "sync",
        &pull_request("synchronize", 5, sha2),
        SECRET,
    );
    wait_outcome(&served, "sync", "applied");
    assert!(
        wait_until(|| on_pr(&github).iter().any(|b| b.contains("`2222222`"))),
        "{:?}",
        github.comments()
    );
    assert_eq!(on_pr(&github).len(), 1, "a second comment was posted");
    assert!(wait_until(|| preview(&github).len() == 2
        && preview(&github)[0].statuses.last().map(|s| s.0.as_str())
            == Some("inactive")));

    // A redelivery of the same event (a new delivery id): nothing new is written.
    let writes = |github: &GitHubForge| github.log().iter().filter(|l| l.method != "GET").count();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let before = writes(&github);
    post(
        &served,
        "pull_request",
        "sync-again",
        &pull_request("synchronize", 5, sha2),
        SECRET,
    );
    wait_outcome(&served, "sync-again", "applied");
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(writes(&github), before, "{:?}", github.log());

    // Closed: the comment says so, every deployment of the preview is inactive.
    post(
        &served,
        "pull_request",
        "close",
        &pull_request("closed", 5, sha2),
        SECRET,
    );
    wait_outcome(&served, "close", "applied");
    assert!(
        wait_until(|| on_pr(&github)
            .iter()
            .any(|b| b.contains("Removed: `web-pr-5`"))),
        "{:?}",
        github.comments()
    );
    assert!(wait_until(|| preview(&github).iter().all(|d| d
        .statuses
        .last()
        .map(|s| s.0.as_str())
        == Some("inactive"))));
    assert_eq!(on_pr(&github).len(), 1);
    assert_valid(&github, &served);
}

#[test]
fn a_config_push_gets_a_status_per_environment_and_a_deployment_per_release() {
    let p = Platform::new();
    let github = GitHubForge::start(TOKEN);
    let served = start(&p, &github, &token_flags(&p));
    // The start pass released the first config everywhere (Monday, inside every window).
    let first = config_tip(&p);
    let on = |github: &GitHubForge, sha: &str, context: &str| {
        github
            .statuses()
            .into_iter()
            .filter(|s| s.sha == sha && s.context == context)
            .map(|s| (s.state, s.description))
            .next_back()
    };
    assert!(
        wait_until(|| on(&github, &first, "glueops/production").is_some()),
        "{:?}\n{}",
        github.statuses(),
        served.log_text()
    );
    for env in ["staging", "production"] {
        let context = format!("glueops/{env}");
        assert!(wait_until(|| on(&github, &first, &context).is_some()));
        let (state, description) = on(&github, &first, &context).unwrap();
        assert_eq!(state, "success");
        assert!(
            description.starts_with(&format!("released to {env} (")),
            "{description}"
        );
    }
    let deployed = |github: &GitHubForge, sha: &str, env: &str| {
        github
            .deployments()
            .into_iter()
            .filter(|d| d.sha == sha && d.environment == env)
            .collect::<Vec<_>>()
    };
    assert!(
        wait_until(|| deployed(&github, &first, "staging").len() == 4),
        "{:?}",
        github.deployments()
    );
    let web = deployed(&github, &first, "staging")
        .into_iter()
        .find(|d| d.task == "deploy:web")
        .unwrap();
    assert_eq!(
        web.statuses.last().cloned(),
        Some((
            "success".to_string(),
            Some("https://web-staging.apps.nonprod.acme.onglueops.rocks".to_string())
        ))
    );
    assert!(
        web.payload["manifestCommit"]
            .as_str()
            .is_some_and(|c| c.len() == 40)
    );

    // Saturday: a push changing api in both environments releases staging and is held in
    // production by its window (the next opening named).
    p.set_clock(OUTSIDE);
    p.repos.change_config("api: more logs everywhere", |w| {
        for (env, from, to) in [
            ("staging", "debug", "trace"),
            ("production", "info", "debug"),
        ] {
            let f = w.join(format!("apps/api/envs/{env}/values.yaml"));
            let text = std::fs::read_to_string(&f).unwrap();
            std::fs::write(
                &f,
                text.replace(&format!("value: {from}"), &format!("value: {to}")),
            )
            .unwrap();
        }
    });
    let second = config_tip(&p);
    post(&served, "push", "push", &config_push(&second), SECRET);
    wait_outcome(&served, "push", "applied");
    assert!(
        wait_until(|| on(&github, &second, "glueops/production").is_some()),
        "{:?}\n{}",
        github.statuses(),
        served.log_text()
    );
    let (state, description) = on(&github, &second, "glueops/production").unwrap();
    assert_eq!(state, "pending");
    assert!(
        description.starts_with("held by window `Mon,Tue,Wed,Thu 09:00-16:00 Europe/Berlin`: opens Mon 2026-12-07 09:00 CET"),
        "{description}"
    );
    assert!(wait_until(
        || on(&github, &second, "glueops/staging").is_some()
    ));
    assert_eq!(
        on(&github, &second, "glueops/staging").unwrap(),
        (
            "success".to_string(),
            "released to staging (1 deployment)".to_string()
        )
    );
    assert!(wait_until(
        || deployed(&github, &second, "staging").len() == 1
    ));
    assert!(
        deployed(&github, &second, "production").is_empty(),
        "held: not deployed"
    );
    // The first commit's api deployment in staging was replaced.
    assert!(wait_until(|| deployed(&github, &first, "staging")
        .iter()
        .find(|d| d.task == "deploy:api")
        .is_some_and(
            |d| d.statuses.last().map(|s| s.0.as_str()) == Some("inactive")
        )));
    assert_valid(&github, &served);
}

#[test]
fn a_config_pull_request_hears_what_merging_does_and_an_invalid_one_fails_validate() {
    let p = Platform::new();
    let github = GitHubForge::start("unused");
    let key = p.root.path().join("app.pem");
    std::fs::write(&key, TEST_APP_KEY).unwrap();
    let auth = vec![
        "--github-app-id".into(),
        TEST_APP_ID.to_string(),
        "--github-app-key-file".into(),
        key.to_string_lossy().into_owned(),
    ];
    let served = start(&p, &github, &auth);
    let head = config_branch_commit(&p, "trace", "apps/api/envs/staging/values.yaml", |t| {
        t.replace("value: debug", "value: trace")
    });
    let opened = config_pull_request(11, "trace", &head);
    post(&served, "pull_request", "cfg-pr", &opened, SECRET);
    wait_outcome(&served, "cfg-pr", "applied");
    let comment_on = |github: &GitHubForge, n: u64| {
        github
            .comments()
            .into_iter()
            .find(|c| c.repo == "acme/config" && c.issue == n)
            .map(|c| c.body)
    };
    assert!(
        wait_until(|| comment_on(&github, 11).is_some()),
        "{}",
        served.log_text()
    );
    let body = comment_on(&github, 11).unwrap();
    assert!(body.contains("what merging this does"), "{body}");
    assert!(body.contains("| `staging` | released at once |"), "{body}");
    assert!(
        body.contains("```diff") && body.contains("+") && body.contains("trace"),
        "{body}"
    );
    let validate = |github: &GitHubForge, sha: &str| {
        github
            .statuses()
            .into_iter()
            .find(|s| s.sha == sha && s.context == "glueops/validate")
    };
    assert!(wait_until(|| validate(&github, &head).is_some()));
    assert_eq!(validate(&github, &head).unwrap().state, "success");

    // A config that does not validate: `glueops/validate` fails, naming the file and line.
    let broken = config_branch_commit(&p, "broken", "apps/api/envs/staging/values.yaml", |t| {
        t.replace("deployment: {", "deployment: {replicas: many, ")
    });
    post(
        &served,
        "pull_request",
        "cfg-bad",
        &config_pull_request(12, "broken", &broken),
        SECRET,
    );
    wait_outcome(&served, "cfg-bad", "applied");
    assert!(
        wait_until(|| validate(&github, &broken).is_some()),
        "{}",
        served.log_text()
    );
    let status = validate(&github, &broken).unwrap();
    assert_eq!(status.state, "failure");
    assert!(
        status.description.starts_with(
            "apps/api/envs/staging/values.yaml:2:24: `deployment.replicas` must be an integer"
        ),
        "{}",
        status.description
    );
    assert!(wait_until(
        || comment_on(&github, 12).is_some_and(|b| b.contains("does not validate"))
    ));
    // Signed in as the app: a JWT, then the installation token for every call after.
    assert!(github.jwts_seen() >= 2 && !github.issued_tokens().is_empty());
    assert_valid(&github, &served);
}

/// A config pull request from a branch of the config repo itself.
pub(crate) fn config_pull_request(number: u64, branch: &str, sha: &str) -> Vec<u8> {
    payload(
        "pull_request/opened.payload.json",
        &[
            ("/repository/full_name", "acme/config".into()),
            ("/number", number.into()),
            ("/pull_request/number", number.into()),
            ("/pull_request/head/sha", sha.into()),
            ("/pull_request/head/ref", branch.into()),
            ("/pull_request/base/ref", "main".into()),
        ],
    )
}
