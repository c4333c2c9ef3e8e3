//! glueops talks back to GitLab: `glueops serve` fed the real GitLab payloads (see
//! `crates/glueops-git/tests/fixtures/SOURCES.md`) tells a loopback GitLab stand-in
//! (`glueops_testkit::gitlab`, every request checked against the request shapes of GitLab's
//! REST API docs: GitLab publishes no complete OpenAPI description) of previews on merge
//! requests, releases and holds on config commits, and what a config merge request does.

use glueops_testkit::gitlab::GitLabForge;
use glueops_testkit::serve::Served;
use serde_json::Value;

use crate::serve::{Platform, config_branch_commit, wait_outcome, wait_until};

const API_TOKEN: &str = "glpat-feedback-test";
const HOOK_TOKEN: &str = "a gitlab token";

fn payload(fixture: &str, edits: &[(&str, Value)]) -> Vec<u8> {
    let path = glueops_testkit::workspace()
        .join("crates/glueops-git/tests/fixtures/gitlab")
        .join(fixture);
    let mut v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    crate::serve::fresh(&mut v, &["object_attributes"]);
    for (pointer, value) in edits {
        *v.pointer_mut(pointer).unwrap() = value.clone();
    }
    serde_json::to_vec(&v).unwrap()
}

fn post(served: &Served, event: &str, id: &str, body: &[u8]) {
    let r = served.request(
        "POST",
        "/webhooks/gitlab",
        &[
            ("X-Gitlab-Event", event.into()),
            ("X-Gitlab-Event-UUID", id.into()),
            ("X-Gitlab-Token", HOOK_TOKEN.into()),
        ],
        body,
    );
    assert_eq!(r.status, 202, "{}", r.body);
}

/// A merge request hook on `project` (`action`: open, update, close), head `sha` of `branch`.
fn merge_request(project: &str, iid: u64, action: &str, sha: &str, branch: &str) -> Vec<u8> {
    let state = if action == "close" {
        "closed"
    } else {
        "opened"
    };
    payload(
        "merge_request.json",
        &[
            ("/project/path_with_namespace", project.into()),
            ("/object_attributes/iid", iid.into()),
            ("/object_attributes/action", action.into()),
            ("/object_attributes/state", state.into()),
            ("/object_attributes/last_commit/id", sha.into()),
            ("/object_attributes/source_branch", branch.into()),
            ("/object_attributes/target_branch", "main".into()),
        ],
    )
}

#[test]
fn gitlab_merge_requests_and_config_commits_hear_back() {
    let p = Platform::new();
    let gitlab = GitLabForge::start(API_TOKEN);
    let token = p.root.path().join("gitlab-api.token");
    std::fs::write(&token, format!("{API_TOKEN}\n")).unwrap();
    let url = gitlab.url();
    let token = token.to_string_lossy().into_owned();
    let served = p.start(
        "cache",
        &[
            "--resync",
            "1h",
            "--gitlab-api",
            &url,
            "--gitlab-api-token-file",
            &token,
        ],
    );
    let valid = |gitlab: &GitLabForge| {
        assert_eq!(
            gitlab.violations(),
            Vec::<String>::new(),
            "{}",
            served.log_text()
        );
    };
    // The start pass: a status per environment and a deployment per app, on the config
    // commit, in environments `<env>/<app>`.
    let first = glueops_testkit::repos::git(&p.repos.config, &["rev-parse", "main"])
        .trim()
        .to_string();
    assert!(
        wait_until(|| gitlab
            .statuses()
            .iter()
            .any(|s| s.sha == first && s.name == "glueops/staging" && s.state == "success")),
        "{:?}\n{}",
        gitlab.statuses(),
        served.log_text()
    );
    assert!(wait_until(|| gitlab.deployments().iter().any(|d| d
        .environment
        == "staging/web"
        && d.sha == first
        && d.git_ref == "main"
        && d.status == "success")));
    assert!(wait_until(|| gitlab.environments().iter().any(|e| e.name
        == "staging/web"
        && e.external_url.as_deref()
            == Some(
                "https://web-staging.apps.nonprod.acme.onglueops.rocks"
            ))));

    // A merge request on acme/web: one note with the preview URL, edited on update, saying
    // it was removed on close; the preview's environment stopped.
    let sha1 = "1111111111111111111111111111111111111111";
    let sha2 = "2222222222222222222222222222222222222222";
    post(
        &served,
        "Merge Request Hook",
        "mr-open",
        &merge_request("acme/web", 3, "open", sha1, "feature"),
    );
    wait_outcome(&served, "mr-open", "applied");
    let notes = |gitlab: &GitLabForge| -> Vec<String> {
        gitlab
            .notes()
            .into_iter()
            .filter(|n| n.project == "acme/web" && n.iid == 3)
            .map(|n| n.body)
            .collect()
    };
    let host = "https://web-pr-3.apps.nonprod.acme.onglueops.rocks";
    assert!(
        wait_until(|| notes(&gitlab).iter().any(|b| b.contains(host))),
        "{:?}",
        gitlab.notes()
    );
    assert!(wait_until(|| gitlab
        .deployments()
        .iter()
        .any(|d| d.environment == "web-pr-3" && d.status == "success")));
    post(
        &served,
        "Merge Request Hook",
        "mr-update",
        &merge_request("acme/web", 3, "update", sha2, "feature"),
    );
    wait_outcome(&served, "mr-update", "applied");
    assert!(wait_until(|| notes(&gitlab)
        .iter()
        .any(|b| b.contains("`2222222`"))));
    assert_eq!(notes(&gitlab).len(), 1);
    post(
        &served,
        "Merge Request Hook",
        "mr-close",
        &merge_request("acme/web", 3, "close", sha2, "feature"),
    );
    wait_outcome(&served, "mr-close", "applied");
    assert!(wait_until(|| notes(&gitlab)
        .iter()
        .any(|b| b.contains("Removed: `web-pr-3`"))));
    assert!(wait_until(|| gitlab
        .environments()
        .iter()
        .any(|e| e.name == "web-pr-3" && e.state == "stopped")));
    assert_eq!(notes(&gitlab).len(), 1);

    // A config merge request: a note with the diff and a `glueops/validate` status.
    let head = config_branch_commit(&p, "trace", "apps/api/envs/staging/values.yaml", |t| {
        t.replace("value: debug", "value: trace")
    });
    post(
        &served,
        "Merge Request Hook",
        "cfg-mr",
        &merge_request("acme/config", 4, "open", &head, "trace"),
    );
    wait_outcome(&served, "cfg-mr", "applied");
    assert!(wait_until(|| gitlab
        .notes()
        .iter()
        .any(|n| n.project == "acme/config"
            && n.iid == 4
            && n.body.contains("```diff"))));
    assert!(wait_until(|| gitlab
        .statuses()
        .iter()
        .any(|s| s.sha == head
            && s.name == "glueops/validate"
            && s.state == "success")));
    valid(&gitlab);
}

#[test]
fn the_gitlab_stand_in_refuses_what_the_docs_do_not_describe() {
    // The positive control of the shape checks: a status with an undocumented state, one
    // without a token, an undocumented attribute; the documented request passes.
    let gitlab = GitLabForge::start(API_TOKEN);
    let path = format!("/api/v4/projects/acme%2Fconfig/statuses/{}", "a".repeat(40));
    let send = |token: Option<&str>, body: &str| {
        let mut headers = vec![
            ("User-Agent", "test".to_string()),
            ("Content-Type", "application/json".to_string()),
        ];
        if let Some(t) = token {
            headers.push(("PRIVATE-TOKEN", t.to_string()));
        }
        let r = glueops_testkit::serve::request(
            gitlab.addr(),
            "POST",
            &path,
            &headers,
            body.as_bytes(),
        )
        .unwrap();
        r.status.to_string()
    };
    assert_eq!(
        send(Some(API_TOKEN), r#"{"state":"ok","name":"glueops/x"}"#),
        "400"
    );
    assert_eq!(send(None, r#"{"state":"success"}"#), "400");
    assert_eq!(
        send(Some(API_TOKEN), r#"{"state":"success","context2":"x"}"#),
        "400"
    );
    assert_eq!(gitlab.violations().len(), 3, "{:?}", gitlab.violations());
    assert_eq!(
        send(
            Some(API_TOKEN),
            r#"{"state":"failed","name":"glueops/validate","description":"x"}"#
        ),
        "201"
    );
    assert_eq!(gitlab.statuses().len(), 1);
}

#[test]
fn a_bump_in_pull_request_mode_opens_a_merge_request_that_merges_when_its_pipeline_succeeds() {
    use crate::serve::{SECRET, image_published};
    let p = Platform::new();
    p.repos.change_config("staging takes changes as merge requests", |w| {
        let f = w.join("glueops.yaml");
        let text = std::fs::read_to_string(&f).unwrap().replace(
            "{name: staging, cluster: nonprod, namespace: staging, promotion: {auto: true}}",
            "{name: staging, cluster: nonprod, namespace: staging, promotion: {auto: true, mode: pull-request, autoMerge: true}}",
        );
        std::fs::write(&f, text).unwrap();
    });
    let gitlab = GitLabForge::start(API_TOKEN);
    let token = p.root.path().join("gitlab-api.token");
    std::fs::write(&token, format!("{API_TOKEN}\n")).unwrap();
    let (url, token) = (gitlab.url(), token.to_string_lossy().into_owned());
    let served = p.start(
        "cache",
        &[
            "--resync",
            "1h",
            "--gitlab-api",
            &url,
            "--gitlab-api-token-file",
            &token,
        ],
    );
    let r = crate::serve::post(
        &served,
        "package",
        "img",
        &image_published("1.6.0", "2026-12-07T08:59:00Z"),
        SECRET,
    );
    assert_eq!(r.status, 202, "{}", r.body);
    wait_outcome(&served, "img", "applied");
    assert!(
        wait_until(|| gitlab
            .merge_requests()
            .iter()
            .any(|m| m.merge_when_pipeline_succeeds)),
        "{:?}\n{}",
        gitlab.merge_requests(),
        served.log_text()
    );
    let mrs = gitlab.merge_requests();
    assert_eq!(mrs.len(), 1);
    assert_eq!(
        (
            mrs[0].source_branch.as_str(),
            mrs[0].target_branch.as_str(),
            mrs[0].project.as_str()
        ),
        ("glueops/bump/api/staging", "main", "acme/config")
    );
    assert!(
        mrs[0].description.contains("```diff"),
        "{}",
        mrs[0].description
    );
    assert_eq!(gitlab.violations(), Vec::<String>::new());
}
