//! Bumps as pull requests (`promotion.mode: pull-request`): `glueops bump` proposes the tag on
//! `glueops/bump/<app>/<env>` and opens one pull request (against the GitHub stand-in, every
//! request checked against GitHub's OpenAPI description); a newer tag moves the same branch
//! and edits the same pull request; a branch a person committed to is left alone; merging
//! releases through the normal sync.

use glueops_testkit::github::GitHubForge;
use glueops_testkit::repos::git;

use crate::serve::Platform;
use crate::serve_feedback::{TOKEN, token_flags};

fn cli(p: &Platform, github: &GitHubForge, args: &[&str]) -> std::process::Output {
    let token = p
        .root
        .path()
        .join("github.token")
        .to_string_lossy()
        .into_owned();
    let url = github.url();
    let mut all: Vec<&str> = args.to_vec();
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

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const BRANCH: &str = "glueops/bump/api/staging";

/// Staging takes its changes as pull requests (`extra`: more promotion fields).
fn staging_by_pull_request(p: &Platform, extra: &str) {
    p.repos.change_config("staging takes changes as pull requests", |w| {
        let f = w.join("glueops.yaml");
        let text = std::fs::read_to_string(&f).unwrap().replace(
            "{name: staging, cluster: nonprod, namespace: staging, promotion: {auto: true}}",
            &format!("{{name: staging, cluster: nonprod, namespace: staging, promotion: {{auto: true, mode: pull-request{extra}}}}}"),
        );
        std::fs::write(&f, text).unwrap();
    });
}

#[test]
fn a_bump_in_pull_request_mode_opens_one_pull_request_and_merging_releases_it() {
    let p = Platform::new();
    staging_by_pull_request(&p, "");
    let github = GitHubForge::start(TOKEN);
    let _ = token_flags(&p);
    ok(&cli(&p, &github, &["sync"]));
    let config = &p.repos.config;
    let main = git(config, &["rev-parse", "main"]).trim().to_string();

    let bump = |tag: &str| {
        cli(
            &p,
            &github,
            &["bump", "--app", "api", "--env", "staging", "--tag", tag],
        )
    };
    let out = ok(&bump("1.6.0"));
    assert!(out.contains(&format!("proposed on {BRANCH}")), "{out}");
    assert_eq!(
        git(config, &["rev-parse", "main"]).trim(),
        main,
        "nothing committed to main"
    );
    // The branch is main plus exactly the tag's bytes.
    let diff = git(config, &["diff", "main", BRANCH]);
    let changed: Vec<&str> = diff
        .lines()
        .filter(|l| l.starts_with(['+', '-']) && !l.starts_with("+++") && !l.starts_with("---"))
        .collect();
    assert_eq!(
        changed,
        ["-image: {tag: 1.5.0-rc.1}", "+image: {tag: 1.6.0}"],
        "{diff}"
    );
    let pulls = github.pulls();
    assert_eq!(pulls.len(), 1);
    assert_eq!(
        (pulls[0].head.as_str(), pulls[0].base.as_str()),
        (BRANCH, "main")
    );
    assert!(
        pulls[0].title.contains("api 1.6.0 to staging"),
        "{}",
        pulls[0].title
    );
    assert!(
        pulls[0].body.contains("| `staging` | released at once |")
            && pulls[0].body.contains("```diff"),
        "{}",
        pulls[0].body
    );

    // A newer tag: the same branch moved (one commit on main), the same pull request edited.
    ok(&bump("1.6.1"));
    assert_eq!(
        git(config, &["rev-list", "--count", &format!("main..{BRANCH}")]).trim(),
        "1"
    );
    assert!(
        git(
            config,
            &[
                "show",
                &format!("{BRANCH}:apps/api/envs/staging/values.yaml")
            ]
        )
        .contains("1.6.1")
    );
    let pulls = github.pulls();
    assert_eq!(pulls.len(), 1, "one pull request per app and environment");
    assert!(pulls[0].title.contains("1.6.1") && pulls[0].body.contains("1.6.1"));
    // The same tag again: nothing moves, nothing is written to the forge.
    let writes = |g: &GitHubForge| g.log().iter().filter(|l| l.method != "GET").count();
    let before = (git(config, &["rev-parse", BRANCH]), writes(&github));
    ok(&bump("1.6.1"));
    assert_eq!(
        (git(config, &["rev-parse", BRANCH]), writes(&github)),
        before
    );

    // A person commits to the branch: glueops does not overwrite it, and says so.
    let work = &p.repos.work;
    let remote = config.to_string_lossy().into_owned();
    git(work, &["fetch", "--quiet", &remote, BRANCH]);
    git(work, &["checkout", "--quiet", "-B", "person", "FETCH_HEAD"]);
    std::fs::write(work.join("NOTES.md"), "why 1.6.1\n").unwrap();
    git(work, &["add", "NOTES.md"]);
    git(work, &["commit", "--quiet", "-m", "notes"]);
    git(
        work,
        &["push", "--quiet", &remote, &format!("HEAD:{BRANCH}")],
    );
    let theirs = git(config, &["rev-parse", BRANCH]);
    let out = bump("1.6.2");
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("not glueops'"));
    assert_eq!(
        git(config, &["rev-parse", BRANCH]),
        theirs,
        "their commit stays"
    );
    assert_eq!(github.pulls().len(), 1);

    // Merged: a push to main, and the normal sync releases 1.6.1.
    git(
        work,
        &[
            "push",
            "--quiet",
            &remote,
            &format!("{}:main", theirs.trim()),
        ],
    );
    ok(&cli(&p, &github, &["sync"]));
    let released = p.manifest(&[
        "grep",
        "-l",
        "1.6.1",
        "main",
        "--",
        "clusters/nonprod/staging/api",
    ]);
    assert!(
        released.is_some_and(|l| !l.is_empty()),
        "staging does not run 1.6.1"
    );

    // Promoting to production as a pull request: its description is the release notes.
    let out = ok(&cli(
        &p,
        &github,
        &[
            "promote",
            "--app",
            "api",
            "--to",
            "production",
            "--pull-request",
        ],
    ));
    assert!(
        out.contains("proposed on glueops/promote/api/production"),
        "{out}"
    );
    let promotion = github
        .pulls()
        .into_iter()
        .find(|p| p.head == "glueops/promote/api/production")
        .unwrap();
    assert!(
        promotion.title.contains("promote api 1.6.1 to production"),
        "{}",
        promotion.title
    );
    assert!(
        promotion
            .body
            .contains("Promotes `api` to `production`: `1.4.2` → `1.6.1`, as `staging` runs it.")
            && promotion.body.contains("| `1.6.1` |")
            && promotion.body.contains("| `1.5.0-rc.1` |"),
        "{}",
        promotion.body
    );
    // Merging it is what releases; production still runs 1.4.2 until then.
    assert!(
        git(
            config,
            &[
                "show",
                "glueops/promote/api/production:apps/api/envs/production/values.yaml"
            ]
        )
        .contains("1.6.1")
    );

    // Production takes pull requests too: a bump there supersedes the promotion's pull
    // request, closed with a comment naming its successor.
    p.repos
        .change_config("production takes changes as pull requests", |w| {
            let f = w.join("glueops.yaml");
            let text = std::fs::read_to_string(&f).unwrap();
            std::fs::write(
                &f,
                text.replacen(
                    "        from: staging\n",
                    "        from: staging\n        mode: pull-request\n",
                    1,
                ),
            )
            .unwrap();
        });
    let out = ok(&cli(
        &p,
        &github,
        &[
            "bump",
            "--app",
            "api",
            "--env",
            "production",
            "--tag",
            "1.6.2",
        ],
    ));
    assert!(
        out.contains("proposed on glueops/bump/api/production"),
        "{out}"
    );
    let pulls = github.pulls();
    let bump = pulls
        .iter()
        .find(|p| p.head == "glueops/bump/api/production")
        .unwrap();
    let old = pulls
        .iter()
        .find(|p| p.head == "glueops/promote/api/production")
        .unwrap();
    assert_eq!(
        (bump.state.as_str(), old.state.as_str()),
        ("open", "closed")
    );
    let note = github
        .comments()
        .into_iter()
        .find(|c| c.issue == old.number)
        .unwrap();
    assert!(
        note.body.starts_with(&format!(
            "Superseded by #{} (`glueops/bump/api/production`)",
            bump.number
        )),
        "{}",
        note.body
    );
    glueops_testkit::repos::fsck(config);
    assert_eq!(github.violations(), Vec::<String>::new());
}

#[test]
fn published_images_for_a_pull_request_environment_open_one_pull_request_with_the_newest_tag() {
    use crate::serve::{SECRET, image_published, post, wait_outcome, wait_until};
    let p = Platform::new();
    staging_by_pull_request(&p, ", autoMerge: true");
    let github = GitHubForge::start(TOKEN);
    let served = crate::serve_feedback::start(&p, &github, &token_flags(&p));
    let main = git(&p.repos.config, &["rev-parse", "main"]);
    // Two images at once: one pull request, the newer tag.
    post(
        &served,
        "package",
        "img-1",
        &image_published("1.6.0", "2026-12-07T08:58:00Z"),
        SECRET,
    );
    post(
        &served,
        "package",
        "img-2",
        &image_published("1.6.1", "2026-12-07T08:59:00Z"),
        SECRET,
    );
    wait_outcome(&served, "img-1", "applied");
    wait_outcome(&served, "img-2", "applied");
    assert!(
        wait_until(|| github.pulls().iter().any(|p| p.title.contains("1.6.1"))),
        "{:?}\n{}",
        github.pulls(),
        served.log_text()
    );
    assert_eq!(github.pulls().len(), 1);
    assert_eq!(
        git(&p.repos.config, &["rev-parse", "main"]),
        main,
        "nothing committed to main"
    );
    assert!(
        git(
            &p.repos.config,
            &[
                "show",
                &format!("{BRANCH}:apps/api/envs/staging/values.yaml")
            ]
        )
        .contains("1.6.1")
    );
    assert_eq!(github.violations(), Vec::<String>::new());
}
