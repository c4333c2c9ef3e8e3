use super::*;
use crate::plan::{Deployment, Held, Plan, Scope};

const CONFIG: &str = "1111111111111111111111111111111111111111";
const MANIFESTS: &str = "2222222222222222222222222222222222222222";

fn deployment(app: &str, env: &str, change: Change, hosts: &[&str]) -> Deployment {
    Deployment {
        app: app.into(),
        env: env.into(),
        change,
        tag: Some("v2".into()),
        files: 3,
        repair: false,
        hosts: hosts.iter().map(|h| (*h).to_string()).collect(),
    }
}

fn outcome(deployments: Vec<Deployment>, held: Vec<Held>, commit: Option<&str>) -> Outcome {
    Outcome {
        plan: Plan {
            base: None,
            config: Some(CONFIG.into()),
            scope: Scope::Full {
                reason: "test".into(),
            },
            whole_config: true,
            deployments,
            held,
            repaired: Vec::new(),
            written: Vec::new(),
            removed: Vec::new(),
            refused: None,
            title: String::new(),
            edit: crate::git::Edit::default(),
            trailers: Vec::new(),
        },
        commit: commit.map(str::to_string),
        attempts: 1,
        dry_run: false,
        plan_time: std::time::Duration::ZERO,
    }
}

fn window_hold(env: &str) -> Held {
    Held {
        app: "web".into(),
        env: env.into(),
        holds: vec![Hold::Window {
            windows: vec!["Mon-Fri 09:00-17:00 Europe/Berlin".into()],
            next_open: Some("Mon 2026-12-07 09:00 CET (+01:00)".into()),
        }],
    }
}

fn statuses(calls: &[Call]) -> Vec<(String, StatusState, String)> {
    calls
        .iter()
        .filter_map(|c| match c {
            Call::Status {
                context,
                state,
                description,
                sha,
                ..
            } => {
                assert_eq!(sha, CONFIG, "statuses go on the config commit");
                Some((context.clone(), *state, description.clone()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_release_sets_a_status_per_environment_and_a_deployment_per_app() {
    let fb = Feedback::new(Host::GitHub, "acme/config");
    let out = outcome(
        vec![
            deployment(
                "web",
                "staging",
                Change::Changed,
                &["web.staging.example.com"],
            ),
            deployment("api", "staging", Change::Added, &[]),
        ],
        vec![window_hold("prod")],
        Some(MANIFESTS),
    );
    let calls = fb.release(&out, "release");
    assert_eq!(
        statuses(&calls),
        vec![
            (
                "glueops/prod".into(),
                StatusState::Pending,
                "held by window `Mon-Fri 09:00-17:00 Europe/Berlin`: opens Mon 2026-12-07 09:00 CET (+01:00)".into()
            ),
            (
                "glueops/staging".into(),
                StatusState::Success,
                "released to staging (2 deployments)".into()
            ),
        ]
    );
    let deployments: Vec<(&str, &str, Option<&str>)> = calls
        .iter()
        .filter_map(|c| match c {
            Call::Deployment {
                environment,
                task,
                url,
                payload,
                ..
            } => {
                assert_eq!(payload["manifestCommit"], MANIFESTS);
                Some((environment.as_str(), task.as_str(), url.as_deref()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        deployments,
        vec![
            (
                "staging",
                "deploy:web",
                Some("https://web.staging.example.com")
            ),
            ("staging", "deploy:api", None),
        ]
    );
    let kinds: Vec<&str> = calls
        .iter()
        .filter_map(|c| match c {
            Call::Notify { event, .. } => Some(event.kind.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, vec!["release", "hold"]);
}

#[test]
fn nothing_released_and_nothing_held_tells_nothing() {
    let fb = Feedback::new(Host::GitHub, "acme/config");
    assert_eq!(
        fb.release(&outcome(Vec::new(), Vec::new(), None), "release"),
        Vec::new()
    );
    // Held alone (a resync while the window is shut) is still told: statuses are idempotent.
    let held = fb.release(
        &outcome(Vec::new(), vec![window_hold("prod")], None),
        "release",
    );
    assert_eq!(statuses(&held).len(), 1);
}

#[test]
fn a_removed_deployment_is_retired_not_deployed() {
    let fb = Feedback::new(Host::GitHub, "acme/config");
    let out = outcome(
        vec![deployment("web", "prod", Change::Removed, &[])],
        Vec::new(),
        Some(MANIFESTS),
    );
    let calls = fb.release(&out, "release");
    assert!(calls.iter().any(|c| matches!(c, Call::Retire { environment, task, .. } if environment == "prod" && task == "deploy:web")));
    assert!(!calls.iter().any(|c| matches!(c, Call::Deployment { .. })));
}

fn copy(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn an_invalid_config_fails_validate_and_every_environment_with_the_located_error() {
    let dir = tempfile::tempdir().unwrap();
    copy(
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo-config")),
        dir.path(),
    );
    let values = dir.path().join("apps/api/envs/staging/values.yaml");
    let text = std::fs::read_to_string(&values).unwrap();
    std::fs::write(
        &values,
        text.replace("deployment: {", "deployment: {replicas: many, "),
    )
    .unwrap();
    let diagnostics = crate::model::Repo::load(dir.path()).unwrap_err();
    let error = crate::Error::Config(diagnostics);
    let fb = Feedback::new(Host::GitHub, "acme/config");
    let calls = fb.invalid(CONFIG, &["prod".into()], &error);
    let s = statuses(&calls);
    assert_eq!(s.len(), 2);
    for (context, state, description) in s {
        assert!(context == "glueops/validate" || context == "glueops/prod");
        assert_eq!(state, StatusState::Failure);
        assert_eq!(
            description,
            "apps/api/envs/staging/values.yaml:2:24: `deployment.replicas` must be an integer, but it is a string"
        );
    }
    // Not the config's: the first line that says something.
    let other = crate::Error::Invalid {
        message: "the manifest remote cannot be read".into(),
        help: "check it".into(),
    };
    assert_eq!(
        first_error(&other),
        "the manifest remote cannot be read; check it"
    );
}

#[test]
fn a_closed_preview_is_retired_and_its_comment_says_so() {
    let fb = Feedback::new(Host::GitHub, "acme/config");
    let pull = PreviewPull {
        repo: "acme/web".into(),
        number: 7,
        sha: "abcdef0123456789abcdef0123456789abcdef01".into(),
        branch: "f".into(),
        apps: vec!["web".into(), "worker".into()],
        open: false,
    };
    let mut out = PreviewOutcome::default();
    out.closed.push("web-pr-7".into());
    let calls = fb.preview(&pull, &out);
    assert!(matches!(&calls[0], Call::Retire { environment, .. } if environment == "web-pr-7"));
    assert!(
        matches!(&calls[1], Call::Comment { body, marker, .. } if marker == "preview" && body.contains("Removed: `web-pr-7`"))
    );
    // Nothing opened or closed: nothing to say.
    assert_eq!(fb.preview(&pull, &PreviewOutcome::default()), Vec::new());
}

#[test]
fn manifest_commits_link_to_the_forge_when_the_remote_is_on_one() {
    let mut fb = Feedback::new(Host::GitHub, "acme/config");
    fb.manifests_web = web_url("git@github.com:acme/manifests.git");
    assert_eq!(
        fb.manifests_web.as_deref(),
        Some("https://github.com/acme/manifests")
    );
    assert_eq!(
        fb.commit_link(MANIFESTS),
        format!("[`2222222`](https://github.com/acme/manifests/commit/{MANIFESTS})")
    );
    assert_eq!(
        web_url("https://x-access-token:secret@github.com/acme/m.git").as_deref(),
        Some("https://github.com/acme/m")
    );
    assert_eq!(web_url("/srv/git/manifests.git"), None);
    assert_eq!(
        forge_name("https://github.com/acme/manifests.git").as_deref(),
        Some("acme/manifests")
    );
    assert_eq!(
        forge_name("git@gitlab.com:group/sub/m.git").as_deref(),
        Some("group/sub/m")
    );
    assert_eq!(forge_name("https://github.com/acme"), None);
    fb.host = Host::GitLab;
    fb.manifests_web = web_url("https://gitlab.com/group/m");
    assert!(fb.commit_link(MANIFESTS).contains("/-/commit/"));
}

#[test]
fn a_long_diff_is_cut_at_a_line_and_says_how_much_is_left() {
    let text: String = (0..2000).map(|i| format!("+line {i}\n")).collect();
    let shown = cut(&text, FILE_DIFF);
    assert!(shown.len() < FILE_DIFF + 100);
    assert!(shown.contains("more lines: run `glueops diff`"), "{shown}");
    assert_eq!(cut("short\n", FILE_DIFF), "short\n");
}

#[test]
fn a_branch_name_cannot_end_its_code_span_in_the_comment() {
    let fb = Feedback::new(Host::GitHub, "acme/config");
    let pull = PreviewPull {
        repo: "acme/web".into(),
        number: 7,
        sha: "abcdef0123456789abcdef0123456789abcdef01".into(),
        branch: "x`[click](https://evil.example)`".into(),
        apps: vec!["web".into()],
        open: true,
    };
    let mut out = PreviewOutcome::default();
    out.opened.push("web-pr-7".into());
    let calls = fb.preview(&pull, &out);
    let Some(Call::Comment { body, .. }) = calls.last() else {
        panic!("no comment: {calls:?}");
    };
    assert!(
        body.contains("of `x'[click](https://evil.example)'`."),
        "{body}"
    );
    // An ordinary branch reads as written.
    assert_eq!(inline_code("feature/login-42"), "feature/login-42");
}
