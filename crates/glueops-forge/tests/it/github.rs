//! The GitHub client against the loopback stand-in that checks every request against
//! GitHub's OpenAPI description (`glueops_testkit::github`).

use glueops_forge::{Call, DeploymentState, Forge, GitHub, Host, Outbox, StatusState};
use glueops_testkit::github::{GitHubForge, TEST_APP_ID, TEST_APP_KEY};
use secrecy::SecretString;

const TOKEN: &str = "ghp_test_token";
const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn token_forge(github: &GitHubForge) -> Forge {
    let client = GitHub::token(&github.url(), SecretString::from(TOKEN.to_string()));
    Forge::new(Some(client), None, Vec::new()).unwrap()
}

fn comment(body: &str) -> Call {
    Call::Comment {
        host: Host::GitHub,
        repo: "acme/web".into(),
        number: 5,
        marker: "preview".into(),
        body: body.into(),
    }
}

fn deployment(sha: &str, state: DeploymentState) -> Call {
    Call::Deployment {
        host: Host::GitHub,
        repo: "acme/config".into(),
        sha: sha.into(),
        branch: Some("main".into()),
        environment: "prod".into(),
        task: "deploy:web".into(),
        transient: false,
        state,
        url: Some("https://web.example.com".into()),
        description: "web v2 released to prod".into(),
        payload: serde_json::json!({ "manifestCommit": "abc" }),
    }
}

fn assert_valid(github: &GitHubForge) {
    assert_eq!(
        github.violations(),
        Vec::<String>::new(),
        "requests broke the API description"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_comment_is_created_once_then_edited_in_place_and_left_alone_when_unchanged() {
    let github = GitHubForge::start(TOKEN);
    let forge = token_forge(&github);
    assert!(forge.apply(&comment("first")).await.unwrap());
    assert!(forge.apply(&comment("second")).await.unwrap());
    assert!(
        !forge.apply(&comment("second")).await.unwrap(),
        "unchanged: nothing posted"
    );
    let comments = github.comments();
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(
        comments[0].body.starts_with("second")
            && comments[0].body.contains("<!-- glueops:preview -->")
    );
    let writes: Vec<String> = github
        .log()
        .into_iter()
        .filter(|l| l.method != "GET")
        .map(|l| l.operation)
        .collect();
    assert_eq!(
        writes,
        vec!["issues/create-comment", "issues/update-comment"]
    );
    assert_valid(&github);
}

#[tokio::test(flavor = "current_thread")]
async fn statuses_and_deployments_are_looked_up_before_they_are_written() {
    let github = GitHubForge::start(TOKEN);
    let forge = token_forge(&github);
    let status = Call::Status {
        host: Host::GitHub,
        repo: "acme/config".into(),
        sha: SHA.into(),
        context: "glueops/prod".into(),
        state: StatusState::Pending,
        description: "held by window".into(),
        target_url: None,
    };
    assert!(forge.apply(&status).await.unwrap());
    assert!(!forge.apply(&status).await.unwrap());
    assert_eq!(github.statuses().len(), 1);

    assert!(
        forge
            .apply(&deployment(SHA, DeploymentState::Success))
            .await
            .unwrap()
    );
    assert!(
        !forge
            .apply(&deployment(SHA, DeploymentState::Success))
            .await
            .unwrap()
    );
    let d = github.deployments();
    assert_eq!(d.len(), 1);
    assert_eq!(
        d[0].statuses,
        vec![(
            "success".to_string(),
            Some("https://web.example.com".to_string())
        )]
    );
    // A newer release of the same app and environment retires the older one.
    let newer = "1123456789abcdef0123456789abcdef01234567";
    assert!(
        forge
            .apply(&deployment(newer, DeploymentState::Success))
            .await
            .unwrap()
    );
    let d = github.deployments();
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].statuses.last().map(|s| s.0.as_str()), Some("inactive"));
    assert_eq!(d[1].statuses.last().map(|s| s.0.as_str()), Some("success"));
    assert_valid(&github);
}

#[tokio::test(flavor = "current_thread")]
async fn the_stand_in_refuses_what_the_description_does_not_allow() {
    // The positive control of every `assert_valid`: a body the description forbids, a
    // request without a User-Agent, an operation that does not exist.
    let github = GitHubForge::start(TOKEN);
    let http = reqwest::Client::new();
    let url = format!("{}/repos/acme/config/statuses/{SHA}", github.url());
    let bad_state = http
        .post(&url)
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("user-agent", "test")
        .body(r#"{"state":"ok"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad_state.status(), 400);
    let no_agent = http
        .post(&url)
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(r#"{"state":"success"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(no_agent.status(), 400);
    let violations = github.violations();
    assert_eq!(violations.len(), 2, "{violations:?}");
    assert!(violations[0].contains("is not one of"), "{violations:?}");
    assert!(violations[1].contains("User-Agent"), "{violations:?}");
    // The legitimate request passes.
    let ok = http
        .post(&url)
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("user-agent", "test")
        .body(r#"{"state":"success","context":"glueops/prod"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 201);
    // A wrong token is refused.
    let forge = Forge::new(
        Some(GitHub::token(
            &github.url(),
            SecretString::from("wrong".to_string()),
        )),
        None,
        Vec::new(),
    )
    .unwrap();
    let e = forge.apply(&comment("x")).await.unwrap_err();
    assert!(e.to_string().contains("401"), "{e}");
    assert!(
        !e.to_string().contains("wrong"),
        "the token is never in an error: {e}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_github_app_signs_a_jwt_and_reuses_its_installation_token() {
    let github = GitHubForge::start("no personal token here");
    let key = SecretString::from(TEST_APP_KEY.to_string());
    let app = GitHub::app(&github.url(), TEST_APP_ID, &key).unwrap();
    let forge = Forge::new(Some(app), None, Vec::new()).unwrap();
    forge.apply(&comment("one")).await.unwrap();
    forge.apply(&comment("two")).await.unwrap();
    assert_eq!(github.comments().len(), 1);
    assert_eq!(
        github.jwts_seen(),
        2,
        "one installation lookup and one token, once"
    );
    assert_eq!(github.issued_tokens().len(), 1);
    // Another owner gets its own installation token.
    let other = Call::Comment {
        host: Host::GitHub,
        repo: "other-org/app".into(),
        number: 1,
        marker: "preview".into(),
        body: "x".into(),
    };
    forge.apply(&other).await.unwrap();
    assert_eq!(github.issued_tokens().len(), 2);
    assert_valid(&github);
    // A different key is not the app's.
    let wrong = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n";
    assert!(
        GitHub::app(
            &github.url(),
            TEST_APP_ID,
            &SecretString::from(wrong.to_string())
        )
        .is_err()
    );
}

#[tokio::test(flavor = "current_thread")]
async fn an_outage_delays_the_outbox_and_a_rate_limit_is_waited_out() {
    let github = GitHubForge::start(TOKEN);
    let forge = token_forge(&github);
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(dir.path()).unwrap();
    outbox.put(&comment("released")).unwrap();
    github.fail_next(1, 502, None);
    let now = jiff::Timestamp::now();
    let first = outbox.deliver(&forge, now).await.unwrap();
    assert_eq!((first.delivered, first.waiting), (0, 1));
    let retry_at = first.next_attempt.unwrap();
    // Not before its backoff.
    let early = outbox.deliver(&forge, now).await.unwrap();
    assert_eq!((early.delivered, early.waiting), (0, 1));
    github.fail_next(1, 429, Some(120));
    let limited = outbox.deliver(&forge, retry_at).await.unwrap();
    assert_eq!(limited.waiting, 1);
    let wait = limited.next_attempt.unwrap().as_second() - retry_at.as_second();
    assert!(wait >= 120, "Retry-After is honoured: {wait} s");
    let done = outbox
        .deliver(&forge, limited.next_attempt.unwrap())
        .await
        .unwrap();
    assert_eq!((done.delivered, done.waiting), (1, 0));
    assert!(outbox.is_empty().unwrap());
    assert_eq!(github.comments().len(), 1);
    assert_valid(&github);
}

#[tokio::test(flavor = "current_thread")]
async fn a_commit_id_or_repository_from_a_payload_never_shapes_a_url() {
    let github = GitHubForge::start(TOKEN);
    let forge = token_forge(&github);
    let status = |repo: &str, sha: &str| Call::Status {
        host: Host::GitHub,
        repo: repo.into(),
        sha: sha.into(),
        context: "glueops/prod".into(),
        state: StatusState::Success,
        description: "released".into(),
        target_url: None,
    };
    for (repo, sha) in [
        ("acme/config", "abc1234&environment=x"),
        ("acme/config", "../../../user"),
        ("acme/config?x=1", SHA),
        ("acme/../other", SHA),
    ] {
        let e = forge.apply(&status(repo, sha)).await.unwrap_err();
        assert!(!e.is_retryable(), "{e}");
    }
    assert!(
        github.log().is_empty(),
        "nothing reached the forge: {:?}",
        github.log()
    );
    // The legitimate call goes through.
    assert!(forge.apply(&status("acme/config", SHA)).await.unwrap());
    assert_eq!(github.statuses().len(), 1);
    assert_valid(&github);
}

#[tokio::test(flavor = "current_thread")]
async fn a_comment_someone_else_marked_is_never_taken_for_glueops_own() {
    let github = GitHubForge::start(TOKEN);
    // Anyone can paste the hidden marker into a comment of their own.
    let planted = "look here\n\n<!-- glueops:preview -->";
    github.plant_comment("acme/web", 5, "mallory", planted);
    for forge in [
        token_forge(&github),
        Forge::new(
            Some(
                GitHub::app(
                    &github.url(),
                    TEST_APP_ID,
                    &SecretString::from(TEST_APP_KEY.to_string()),
                )
                .unwrap(),
            ),
            None,
            Vec::new(),
        )
        .unwrap(),
    ] {
        assert!(forge.apply(&comment("first")).await.unwrap());
        assert!(forge.apply(&comment("second")).await.unwrap());
    }
    let comments = github.comments();
    assert_eq!(
        comments[0].body, planted,
        "mallory's comment is left as it is"
    );
    // One comment of the token's user and one of the app, each edited in place.
    let ours: Vec<(&str, bool, &str)> = comments[1..]
        .iter()
        .map(|c| {
            (
                c.author.as_str(),
                c.by_app,
                c.body.lines().next().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        ours,
        vec![
            (glueops_testkit::github::TOKEN_USER, false, "second"),
            ("glueops-test[bot]", true, "second"),
        ]
    );
    assert_valid(&github);
}
