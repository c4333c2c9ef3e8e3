//! `glueops serve` planning a release while the bump it follows is still being pushed: the
//! release reaches the manifest remote only after the config remote accepted the bump, and
//! never when it refused it. The config remote's `pre-receive` hook holds or refuses pushes.
//! `glueops bump --manifests` does the same in one process.

use std::path::Path;
use std::time::Duration;

use glueops_testkit::repos::git;

use crate::serve::{Platform, SECRET, post, wait_outcome, wait_until};

/// An image published for acme/api (staging bumps on it).
fn image(tag: &str) -> Vec<u8> {
    crate::serve::image_published(tag, crate::serve::INSIDE)
}

/// Installs the config remote's `pre-receive` hook (`None`: removes it).
fn hook(p: &Platform, script: Option<&str>) {
    let path = p.repos.config.join("hooks/pre-receive");
    match script {
        Some(script) => {
            std::fs::write(&path, format!("#!/bin/sh\n{script}")).unwrap();
            let chmod = std::process::Command::new("chmod")
                .arg("+x")
                .arg(&path)
                .status()
                .unwrap();
            assert!(chmod.success());
        }
        None => std::fs::remove_file(&path).unwrap(),
    }
}

/// The manifest branch's commits, newest first.
fn manifest_commits(p: &Platform) -> Vec<String> {
    git(&p.repos.manifests, &["rev-list", "main"])
        .lines()
        .map(str::to_string)
        .collect()
}

/// Every release on the manifest branch names a config commit the config remote has.
fn every_release_names_an_accepted_config_commit(p: &Platform) {
    for commit in manifest_commits(p) {
        let message = git(&p.repos.manifests, &["log", "-1", "--format=%B", &commit]);
        for config in message
            .lines()
            .filter_map(|l| l.strip_prefix("Glueops-Config: "))
        {
            let known = std::process::Command::new("git")
                .arg("-C")
                .arg(&p.repos.config)
                .args(["cat-file", "-e", &format!("{}^{{commit}}", config.trim())])
                .status()
                .unwrap();
            assert!(
                known.success(),
                "manifest commit {commit} releases config commit {config}, which the config remote never accepted"
            );
        }
    }
}

fn config_tip(p: &Platform) -> String {
    git(&p.repos.config, &["rev-parse", "main"])
        .trim()
        .to_string()
}

/// The manifest branch's head releases `tag` for api/staging on the config remote's tip (the
/// bump that landed), and every release names a config commit the remote holds; both remotes
/// pass fsck.
fn released_on_the_landed_bump(p: &Platform, tag: &str) {
    let bump = config_tip(p);
    let message = p.head_message();
    assert!(
        message.contains(&format!("Glueops-Config: {bump}"))
            && message.contains(&format!("api/staging tag={tag}")),
        "the release is not made on the bump that landed ({bump}): {message}"
    );
    every_release_names_an_accepted_config_commit(p);
    p.repos.fsck();
}

/// A hook that reads the manifest branch, holds the config push `hold`, reads it again and
/// records in `flag` whether it moved meanwhile (git's own variables unset: they name the
/// config remote and its quarantine).
fn holding_hook(manifests: &Path, flag: &Path, hold: &str) -> String {
    let read = format!(
        "env -u GIT_DIR -u GIT_OBJECT_DIRECTORY -u GIT_ALTERNATE_OBJECT_DIRECTORIES \
         -u GIT_QUARANTINE_PATH git --git-dir='{}' rev-parse main",
        manifests.display()
    );
    format!(
        "before=$({read})\nsleep {hold}\nafter=$({read})\n\
         if [ \"$before\" = \"$after\" ]; then echo still >> '{f}'; else echo moved >> '{f}'; fi\n\
         exit 0\n",
        f = flag.display()
    )
}

#[test]
fn the_release_beside_a_bump_waits_until_the_config_remote_accepted_it() {
    let p = Platform::new();
    let served = p.start("cache", &["--resync", "1h"]);
    let flag = p.root.path().join("hook.log");
    hook(&p, Some(&holding_hook(&p.repos.manifests, &flag, "0.6")));
    let before = manifest_commits(&p).len();
    post(&served, "package", "img-1", &image("9.9.1"), SECRET);
    wait_outcome(&served, "img-1", "applied");
    let log = std::fs::read_to_string(&flag).unwrap();
    assert_eq!(
        log.trim(),
        "still",
        "the manifest remote moved while the bump's push was held"
    );
    // One release, made on the bump's commit.
    assert_eq!(manifest_commits(&p).len(), before + 1);
    released_on_the_landed_bump(&p, "9.9.1");
}

#[test]
fn a_bump_the_config_remote_refuses_releases_nothing_until_it_is_accepted() {
    let p = Platform::new();
    let served = p.start("cache", &["--resync", "1h"]);
    let tried = p.root.path().join("tried");
    hook(
        &p,
        Some(&format!(
            "echo try >> '{}'\necho 'pushes are frozen' >&2\nexit 1\n",
            tried.display()
        )),
    );
    let before = manifest_commits(&p);
    post(&served, "package", "img-1", &image("9.9.1"), SECRET);
    // The server plans the release beside each refused push and retries the batch.
    assert!(
        wait_until(|| std::fs::read_to_string(&tried).is_ok_and(|t| t.lines().count() >= 3)),
        "the bump was not retried: {}",
        served.log_text()
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        manifest_commits(&p),
        before,
        "a release planned on a refused bump reached the manifest remote"
    );
    // Unfrozen: the retry lands the bump, then its release.
    hook(&p, None);
    wait_outcome(&served, "img-1", "applied");
    assert_eq!(manifest_commits(&p).len(), before.len() + 1);
    released_on_the_landed_bump(&p, "9.9.1");
}

#[test]
fn a_bump_on_a_config_branch_another_writer_moved_is_released_as_landed() {
    let p = Platform::new();
    let served = p.start("cache", &["--resync", "1h"]);
    post(&served, "package", "img-1", &image("9.9.1"), SECRET);
    wait_outcome(&served, "img-1", "applied");
    // Someone else commits to the config (no webhook): the server's known tip is stale, so
    // its next bump's compare-and-swap is refused while the release is planned beside it.
    p.repos.change_config("ops: a note", |work| {
        std::fs::write(work.join("NOTES.md"), "hand written\n").unwrap();
    });
    let theirs = config_tip(&p);
    post(&served, "package", "img-2", &image("9.9.2"), SECRET);
    wait_outcome(&served, "img-2", "applied");
    assert_eq!(
        git(&p.repos.config, &["rev-parse", "main^"]).trim(),
        theirs,
        "the bump does not build on the other writer's commit"
    );
    released_on_the_landed_bump(&p, "9.9.2");
}

fn cli_bump(p: &Platform, tag: &str) -> std::process::Output {
    p.cli(&["bump", "--app", "api", "--env", "staging", "--tag", tag])
}

#[test]
fn the_cli_bump_releases_only_after_the_config_remote_accepted_it() {
    let p = Platform::new();
    assert!(p.cli(&["sync"]).status.success());
    let flag = p.root.path().join("hook.log");
    hook(&p, Some(&holding_hook(&p.repos.manifests, &flag, "0.6")));
    let before = manifest_commits(&p).len();
    let out = cli_bump(&p, "9.9.1");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = std::fs::read_to_string(&flag).unwrap();
    assert_eq!(
        log.trim(),
        "still",
        "the manifest remote moved while the bump's push was held"
    );
    assert_eq!(manifest_commits(&p).len(), before + 1);
    released_on_the_landed_bump(&p, "9.9.1");
}

#[test]
fn a_cli_bump_the_config_remote_refuses_releases_nothing() {
    let p = Platform::new();
    assert!(p.cli(&["sync"]).status.success());
    hook(&p, Some("echo 'pushes are frozen' >&2\nexit 1\n"));
    let before = manifest_commits(&p);
    let out = cli_bump(&p, "9.9.1");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a refused bump succeeded: {stderr}");
    assert!(
        stderr.contains("pushes are frozen"),
        "the remote's reason is not shown: {stderr}"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        manifest_commits(&p),
        before,
        "a release planned on a refused bump reached the manifest remote"
    );
    // Unfrozen: the same command lands the bump, then its release.
    hook(&p, None);
    assert!(cli_bump(&p, "9.9.1").status.success());
    assert_eq!(manifest_commits(&p).len(), before.len() + 1);
    released_on_the_landed_bump(&p, "9.9.1");
}

#[test]
fn a_cli_bump_on_a_config_branch_moved_during_its_push_is_released_as_landed() {
    let p = Platform::new();
    assert!(p.cli(&["sync"]).status.success());
    // While the bump's push is held, another writer lands a commit first (the hook pushes it
    // from a clone of its own before letting the first push go on): the bump is refused,
    // made again on that commit, and only then released.
    let other = p.root.path().join("other");
    git(
        p.root.path(),
        &[
            "clone",
            "-q",
            &p.repos.config.to_string_lossy(),
            &other.to_string_lossy(),
        ],
    );
    std::fs::write(other.join("NOTES.md"), "hand written\n").unwrap();
    git(&other, &["add", "NOTES.md"]);
    git(
        &other,
        &[
            "-c",
            "user.name=ops",
            "-c",
            "user.email=ops@example.com",
            "commit",
            "-qm",
            "ops: a note",
        ],
    );
    let theirs = git(&other, &["rev-parse", "HEAD"]).trim().to_string();
    let once = p.root.path().join("once");
    hook(
        &p,
        Some(&format!(
            "if [ ! -e '{once}' ]; then touch '{once}'; \
             env -u GIT_DIR -u GIT_OBJECT_DIRECTORY -u GIT_ALTERNATE_OBJECT_DIRECTORIES -u GIT_QUARANTINE_PATH \
             git -C '{other}' push -q origin HEAD:refs/heads/main >/dev/null 2>&1 & sleep 0.5; fi\nexit 0\n",
            once = once.display(),
            other = other.display()
        )),
    );
    let out = cli_bump(&p, "9.9.2");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        git(&p.repos.config, &["rev-parse", "main^"]).trim(),
        theirs,
        "the bump does not build on the other writer's commit"
    );
    released_on_the_landed_bump(&p, "9.9.2");
}
