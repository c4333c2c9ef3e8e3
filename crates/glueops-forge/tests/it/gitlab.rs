//! The GitLab client against the loopback stand-in that checks every request against the
//! request shapes of GitLab's REST docs (`glueops_testkit::gitlab`).

use glueops_forge::{Call, CheckStatus, Forge, GitLab, Host, StatusState};
use glueops_testkit::gitlab::GitLabForge;
use secrecy::SecretString;

const TOKEN: &str = "glpat-forge-test";
const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

#[tokio::test(flavor = "current_thread")]
async fn pipeline_statuses_are_read_as_checks_newest_first() {
    let gitlab = GitLabForge::start(TOKEN);
    let client = GitLab::new(&gitlab.url(), SecretString::from(TOKEN.to_string()));
    let forge = Forge::new(None, Some(client), Vec::new()).unwrap();
    let status = |state, description: &str| Call::Status {
        host: Host::GitLab,
        repo: "acme/config".into(),
        sha: SHA.into(),
        context: "smoke-tests".into(),
        state,
        description: description.into(),
        target_url: Some("https://ci.acme.example/pipelines/3".into()),
    };
    assert!(
        forge
            .apply(&status(StatusState::Pending, "running"))
            .await
            .unwrap()
    );
    let checks = forge
        .checks(Host::GitLab, "acme/config", SHA)
        .await
        .unwrap();
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].status, CheckStatus::Pending);
    assert!(
        forge
            .apply(&status(StatusState::Failure, "failed"))
            .await
            .unwrap()
    );
    let checks = forge
        .checks(Host::GitLab, "acme/config", SHA)
        .await
        .unwrap();
    assert_eq!(
        (checks.len(), checks[0].status, checks[0].url.as_deref()),
        (
            1,
            CheckStatus::Failure,
            Some("https://ci.acme.example/pipelines/3")
        )
    );
    assert!(
        forge
            .apply(&status(StatusState::Success, "passed"))
            .await
            .unwrap()
    );
    let checks = forge
        .checks(Host::GitLab, "acme/config", SHA)
        .await
        .unwrap();
    assert_eq!(
        checks[0].status,
        CheckStatus::Success,
        "the newest status of a name wins"
    );
    assert_eq!(gitlab.violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "current_thread")]
async fn a_note_someone_else_marked_is_never_taken_for_glueops_own() {
    let gitlab = GitLabForge::start(TOKEN);
    let client = GitLab::new(&gitlab.url(), SecretString::from(TOKEN.to_string()));
    let forge = Forge::new(None, Some(client), Vec::new()).unwrap();
    let planted = "look here\n\n<!-- glueops:preview -->";
    gitlab.plant_note("acme/web", 3, "mallory", planted);
    let note = |body: &str| Call::Comment {
        host: Host::GitLab,
        repo: "acme/web".into(),
        number: 3,
        marker: "preview".into(),
        body: body.into(),
    };
    assert!(forge.apply(&note("first")).await.unwrap());
    assert!(forge.apply(&note("second")).await.unwrap());
    assert!(!forge.apply(&note("second")).await.unwrap());
    let notes = gitlab.notes();
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[0].body, planted);
    assert!(
        notes[1].body.starts_with("second")
            && notes[1].author == glueops_testkit::gitlab::TOKEN_USER
    );
    assert_eq!(gitlab.violations(), Vec::<String>::new());
}
