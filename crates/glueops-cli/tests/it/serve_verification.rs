//! Verification gates end to end: production requires `smoke-tests` green on staging's
//! release and a 30-minute soak there. `glueops serve` reads the checks from the GitHub
//! stand-in (commit statuses on the config commit, check runs on the manifest commit),
//! holds with the reason on the config commit's status, and releases once both hold.

use glueops_testkit::github::{CheckRun, GitHubForge};

use crate::serve::{INSIDE, Platform, SECRET, config_push, post, wait_outcome, wait_until};
use crate::serve_feedback::{TOKEN, start, token_flags};

fn production_status(github: &GitHubForge, sha: &str) -> Option<(String, String)> {
    github
        .statuses()
        .into_iter()
        .filter(|s| s.sha == sha && s.context == "glueops/production")
        .map(|s| (s.state, s.description))
        .next_back()
}

#[test]
fn production_waits_for_smoke_tests_and_a_soak_in_staging() {
    let p = Platform::new();
    p.repos.change_config("production requires smoke tests and a soak", |w| {
        let f = w.join("glueops.yaml");
        let text = std::fs::read_to_string(&f).unwrap();
        let start = text.find("    - name: production").unwrap();
        let end = text.find("  previews:").unwrap();
        let production = "    - name: production\n      cluster: prod\n      namespace: production\n      promotion: {from: staging, requires: {checks: [smoke-tests], soak: 30m}}\n";
        std::fs::write(&f, format!("{}{production}{}", &text[..start], &text[end..])).unwrap();
    });
    let github = GitHubForge::start(TOKEN);
    let served = start(&p, &github, &token_flags(&p));
    let sync = |id: &str, sha: &str| {
        post(&served, "push", id, &config_push(sha), SECRET);
        wait_outcome(&served, id, "applied");
    };

    // A change to api in both environments: staging releases, production waits.
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
    let sha = glueops_testkit::repos::git(&p.repos.config, &["rev-parse", "main"])
        .trim()
        .to_string();
    sync("push", &sha);
    let released = p.manifest(&["rev-parse", "main"]).unwrap();
    let tree = |what: &str| {
        p.manifest(&["ls-tree", "-r", "main", what])
            .unwrap_or_default()
    };
    let production_api = tree("clusters/prod/production/api");
    assert!(
        wait_until(|| production_status(&github, &sha).is_some()),
        "{}",
        served.log_text()
    );
    let (state, description) = production_status(&github, &sha).unwrap();
    assert_eq!(state, "pending");
    assert!(
        description.contains("soaking in staging: 30 min of 30 min left"),
        "{description}"
    );
    assert!(
        description.contains(&format!(
            "waiting for checks on staging's release {}: `smoke-tests`: missing",
            &sha[..7]
        )),
        "{description}"
    );

    // A config pull request touching production hears the same gates in its comment.
    let head = crate::serve::config_branch_commit(
        &p,
        "prod-warn",
        "apps/api/envs/production/values.yaml",
        |t| t.replace("value: debug", "value: warn"),
    );
    let opened = crate::serve_feedback::config_pull_request(21, "prod-warn", &head);
    post(&served, "pull_request", "cfg-pr", &opened, SECRET);
    wait_outcome(&served, "cfg-pr", "applied");
    assert!(
        wait_until(|| github.comments().iter().any(|c| c.issue == 21)),
        "{}",
        served.log_text()
    );
    let comment = github
        .comments()
        .into_iter()
        .find(|c| c.issue == 21)
        .unwrap()
        .body;
    assert!(
        comment.contains("| `production` | soaking in staging: 30 min of 30 min left; waiting for checks on staging's release"),
        "{comment}"
    );

    // 31 minutes later, smoke tests running on the config commit: still held, by them.
    p.set_clock("2026-12-07T09:31:00Z");
    github.report_status("acme/config", &sha, "smoke-tests", "pending", None);
    sync("later", &sha);
    assert!(wait_until(|| production_status(&github, &sha)
        .is_some_and(|(_, d)| d.contains("`smoke-tests`: pending"))));
    assert!(
        !production_status(&github, &sha)
            .unwrap()
            .1
            .contains("soaking"),
        "the soak is over"
    );
    // They fail: held, with the failure's link.
    github.report_status(
        "acme/config",
        &sha,
        "smoke-tests",
        "failure",
        Some("https://ci.acme.example/runs/7"),
    );
    sync("failed", &sha);
    assert!(wait_until(|| production_status(&github, &sha).is_some_and(
        |(_, d)| d.contains("`smoke-tests` failed (https://ci.acme.example/runs/7)")
    )));
    assert_eq!(
        tree("clusters/prod/production/api"),
        production_api,
        "nothing released while held"
    );

    // A green check run on staging's manifest commit counts as well: production releases.
    github.report_check_run(CheckRun {
        repo: "acme/manifests".into(),
        sha: released.clone(),
        name: "smoke-tests".into(),
        status: "completed".into(),
        conclusion: Some("success".into()),
        html_url: None,
    });
    sync("green", &sha);
    assert!(
        wait_until(|| production_status(&github, &sha).is_some_and(|(s, _)| s == "success")),
        "{:?}\n{}",
        production_status(&github, &sha),
        served.log_text()
    );
    assert_ne!(
        tree("clusters/prod/production/api"),
        production_api,
        "production released"
    );
    assert_eq!(github.violations(), Vec::<String>::new());
    let _ = INSIDE;
}
