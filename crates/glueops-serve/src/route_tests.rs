//! Routing by the demo config: what each event asks for, and what it may not.

use super::*;
use glueops::git::{
    ImagePublished, PipelineCompleted, PullRequest, Push, Repository, Review, Trigger,
};

fn routes() -> Routes {
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/demo-config");
    let repo = glueops::model::Repo::load(demo).unwrap();
    Routes::new("Acme/Config", "main", &repo)
}

fn repo(name: &str) -> Repository {
    Repository {
        full_name: name.into(),
        clone_url: None,
    }
}

fn push(name: &str, git_ref: &str) -> RepoEvent {
    RepoEvent::Push(Push {
        repo: repo(name),
        git_ref: git_ref.into(),
        before: "0".repeat(40),
        after: "1".repeat(40),
        commits: Vec::new(),
        pusher: "dev".into(),
    })
}

#[test]
fn only_a_push_to_the_config_branch_syncs() {
    let r = routes();
    assert_eq!(
        r.route(&push("acme/config", "refs/heads/main"), None),
        Ok(vec![Work::Sync])
    );
    assert!(
        r.route(&push("acme/config", "refs/heads/feature"), None)
            .is_err()
    );
    assert!(r.route(&push("acme/web", "refs/heads/main"), None).is_err());
}

#[test]
fn pull_requests_on_an_app_repo_open_and_close_previews() {
    let r = routes();
    let pr = |action| {
        RepoEvent::PullRequest(PullRequest {
            repo: repo("acme/web"),
            number: 7,
            action,
            head_branch: "feature".into(),
            head_sha: "abc".into(),
            base_branch: "main".into(),
            labels: vec!["preview".into()],
            author: "dev".into(),
            head_repo: Some("acme/web".into()),
            fork: false,
            sender: "dev".into(),
        })
    };
    let open = r.route(&pr(PullRequestAction::Synchronized), None).unwrap();
    assert!(matches!(
        &open[..],
        [Work::Preview {
            open: true,
            number: 7,
            app,
            ..
        }] if app == "web"
    ));
    let closed = r
        .route(&pr(PullRequestAction::Closed { merged: true }), None)
        .unwrap();
    assert!(matches!(&closed[..], [Work::Preview { open: false, .. }]));
    let RepoEvent::PullRequest(mut other) = pr(PullRequestAction::Opened) else {
        unreachable!()
    };
    other.repo = repo("acme/unknown");
    assert!(r.route(&RepoEvent::PullRequest(other), None).is_err());
}

#[test]
fn an_image_or_a_green_pipeline_bumps_the_auto_environments() {
    let r = routes();
    let image = RepoEvent::ImagePublished(ImagePublished {
        repo: repo("acme/api"),
        name: "api".into(),
        package_type: "container".into(),
        version: "1.2.3".into(),
        tag: Some("1.2.3".into()),
        digest: None,
    });
    assert_eq!(
        r.route(&image, None),
        Ok(vec![Work::Bump {
            app: "api".into(),
            env: "staging".into(),
            tag: "1.2.3".into(),
            at: None,
        }])
    );
    let run = |branch: &str, conclusion| {
        RepoEvent::PipelineCompleted(PipelineCompleted {
            repo: repo("acme/web"),
            name: "build".into(),
            branch: branch.into(),
            sha: "f".repeat(40),
            conclusion,
            trigger: Trigger::Push,
            head_repo: Some("acme/web".into()),
            workflow_path: Some(".github/workflows/build.yml".into()),
        })
    };
    assert!(matches!(
        &r.route(&run("main", Conclusion::Success), None).unwrap()[..],
        [Work::Bump { env, .. }] if env == "staging"
    ));
    assert!(r.route(&run("main", Conclusion::Failure), None).is_err());
    assert!(r.route(&run("feature", Conclusion::Success), None).is_err());
}

#[test]
fn reviews_count_on_the_config_repo_only() {
    let r = routes();
    let review = |name: &str| {
        RepoEvent::Review(Review {
            repo: repo(name),
            number: 3,
            sha: "abc".into(),
            reviewer: "alice".into(),
            approved: true,
        })
    };
    assert!(matches!(
        &r.route(&review("acme/config"), None).unwrap()[..],
        [Work::Review { .. }]
    ));
    assert!(r.route(&review("acme/web"), None).is_err());
}

fn run_of(head_repo: Option<&str>, trigger: Trigger, path: &str, name: &str) -> RepoEvent {
    RepoEvent::PipelineCompleted(PipelineCompleted {
        repo: repo("acme/web"),
        name: name.into(),
        branch: "main".into(),
        sha: "f".repeat(40),
        conclusion: Conclusion::Success,
        trigger,
        head_repo: head_repo.map(str::to_string),
        workflow_path: Some(path.into()),
    })
}

#[test]
fn only_a_push_run_of_the_apps_own_repository_bumps() {
    let r = routes();
    let build = ".github/workflows/build.yml";
    // A fork's pull request whose head branch is named like the app's branch.
    for (attack, why) in [
        (
            run_of(Some("evil/web"), Trigger::PullRequest, build, "build"),
            "pull request",
        ),
        (
            run_of(Some("evil/web"), Trigger::Push, build, "build"),
            "fork",
        ),
        (
            run_of(Some("acme/web"), Trigger::PullRequest, build, "build"),
            "pull request",
        ),
        (
            run_of(
                Some("acme/web"),
                Trigger::Other("pull_request_target".into()),
                build,
                "build",
            ),
            "triggered by",
        ),
        (run_of(None, Trigger::Push, build, "build"), "does not name"),
    ] {
        let err = r.route(&attack, Some(1)).unwrap_err();
        assert!(err.reason.contains(why), "{err}");
    }
    // Positive control: a push run of acme/web itself bumps staging, with the event's time.
    let ok = r
        .route(
            &run_of(Some("acme/web"), Trigger::Push, build, "build"),
            Some(7),
        )
        .unwrap();
    assert!(matches!(&ok[..], [Work::Bump { env, at: Some(7), .. }] if env == "staging"));
}

#[test]
fn source_workflow_names_the_one_workflow_that_deploys() {
    let mut r = routes();
    for route in r.apps.get_mut("acme/web").unwrap() {
        route.workflow = Some("release.yml".into());
    }
    let run = |path: &str, name: &str| run_of(Some("acme/web"), Trigger::Push, path, name);
    assert!(
        r.route(&run(".github/workflows/lint.yml", "lint"), None)
            .is_err()
    );
    for ok in [
        run(".github/workflows/release.yml", "Release"),
        run(".github/workflows/other.yml", "release.yml"),
    ] {
        assert!(r.route(&ok, None).is_ok());
    }
}

fn fork_pr(action: PullRequestAction, sender: &str) -> RepoEvent {
    RepoEvent::PullRequest(PullRequest {
        repo: repo("acme/web"),
        number: 9,
        action,
        head_branch: "main".into(),
        head_sha: "e".repeat(40),
        base_branch: "main".into(),
        labels: vec!["safe-to-preview".into()],
        author: "mallory".into(),
        head_repo: Some("mallory/web".into()),
        fork: true,
        sender: sender.into(),
    })
}

#[test]
fn forks_get_no_preview_unless_allowed_and_labelled_by_someone_else() {
    let label = || PullRequestAction::Labeled {
        label: "safe-to-preview".into(),
    };
    let mut r = routes();
    // Off by default: no event from a fork opens a preview; closing is always allowed.
    for action in [
        PullRequestAction::Opened,
        PullRequestAction::Synchronized,
        label(),
    ] {
        let err = r.route(&fork_pr(action, "maintainer"), None).unwrap_err();
        assert!(err.reason.contains("previews of forks are off"), "{err}");
    }
    let closed = r
        .route(
            &fork_pr(PullRequestAction::Closed { merged: false }, "mallory"),
            None,
        )
        .unwrap();
    assert!(matches!(&closed[..], [Work::Preview { open: false, .. }]));

    r.fork_previews = true;
    r.opt_in = vec!["safe-to-preview".into()];
    for (action, sender) in [
        (PullRequestAction::Opened, "mallory"),
        (PullRequestAction::Synchronized, "mallory"),
        (PullRequestAction::Reopened, "mallory"),
        (label(), "mallory"),
        (label(), ""),
    ] {
        assert!(
            r.route(&fork_pr(action.clone(), sender), None).is_err(),
            "{action:?}"
        );
    }
    // Positive control: a maintainer adds the label → the preview opens at that commit.
    let open = r.route(&fork_pr(label(), "maintainer"), None).unwrap();
    assert!(matches!(
        &open[..],
        [Work::Preview {
            open: true,
            number: 9,
            ..
        }]
    ));
    let removed = PullRequestAction::Unlabeled {
        label: "safe-to-preview".into(),
    };
    let closed = r.route(&fork_pr(removed, "maintainer"), None).unwrap();
    assert!(matches!(&closed[..], [Work::Preview { open: false, .. }]));
}
