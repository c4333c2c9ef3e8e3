//! Real git repositories for the loop's tests: a config repo (a work tree and the bare remote
//! it pushes to) and an empty bare manifest remote, in a folder the test owns.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `git -C dir args` and returns its stdout; a failure fails the test with git's output.
#[expect(
    clippy::panic,
    reason = "test support: a git call that fails is the test's failure, reported with git's words"
)]
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = match Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .env("LC_ALL", "C")
        .output()
    {
        Ok(out) => out,
        Err(e) => panic!("cannot run git ({e}): install git 2.x"),
    };
    if !out.status.success() {
        // `git fsck` reports missing and broken objects on stdout, errors on stderr.
        panic!(
            "git {args:?} in {} ({}): {}{}",
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Writes `n` distinct loose blobs (`<tag> <i>`) into the repository at `dir`, no ref
/// pointing to them (what a long run of small fetches and commits leaves); their ids.
#[expect(
    clippy::panic,
    reason = "test support: a git call that fails is the test's failure, reported with git's words"
)]
pub fn write_loose_blobs(dir: &Path, tag: &str, n: usize) -> Vec<String> {
    use std::io::Write as _;
    let mut child = match Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["hash-object", "-w", "--stdin-paths"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => panic!("cannot run git ({e}): install git 2.x"),
    };
    // The blobs' files beside the repository, one folder per call.
    let files = dir.with_extension(format!("loose-{tag}"));
    let mut paths = String::new();
    for i in 0..n {
        let path = files.join(format!("f{i}"));
        if let Err(e) = std::fs::create_dir_all(&files)
            .and_then(|()| std::fs::write(&path, format!("{tag} {i}\n")))
        {
            panic!("cannot write {}: {e}", path.display());
        }
        paths.push_str(&format!("{}\n", path.display()));
    }
    let written = child
        .stdin
        .take()
        .map(|mut stdin| stdin.write_all(paths.as_bytes()));
    let out = match (written, child.wait_with_output()) {
        (Some(Ok(())), Ok(out)) if out.status.success() => out,
        (_, out) => panic!("git hash-object in {} failed: {out:?}", dir.display()),
    };
    let _ = std::fs::remove_dir_all(&files);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The loose objects of the repository at `dir` (`git count-objects`).
#[expect(
    clippy::panic,
    reason = "test support: an answer git does not give is the test's failure"
)]
pub fn loose_count(dir: &Path) -> usize {
    let counted = git(dir, &["count-objects", "-v"]);
    match counted
        .lines()
        .find_map(|l| l.strip_prefix("count: "))
        .and_then(|n| n.trim().parse().ok())
    {
        Some(n) => n,
        None => panic!("git count-objects said: {counted}"),
    }
}

const FSCK: [&str; 4] = ["fsck", "--strict", "--no-dangling", "--no-progress"];

/// `git fsck --strict` of the repository at `dir` passes.
///
/// Run it only when no push into `dir` is in flight: git's fsck lists the objects first and
/// reads the refs after, so a push that lands in between reads as "missing" objects.
pub fn fsck(dir: &Path) {
    git(dir, &FSCK);
}

/// `git fsck --strict` of `dir` passes once a writer this test cannot wait for (a `git push`
/// orphaned by a killed process) has finished: it is retried for up to ten seconds, then the
/// last failure fails the test. A torn repository stays torn and still fails.
pub fn fsck_settled(dir: &Path) {
    for _ in 0..50 {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(FSCK)
            .env("LC_ALL", "C")
            .output();
        if out.is_ok_and(|out| out.status.success()) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    fsck(dir);
}

/// A config repo and a manifest repo, as bare remotes on disk.
#[derive(Debug, Clone)]
pub struct Repos {
    /// The config repo's work tree (where tests edit and commit).
    pub work: PathBuf,
    /// The config repo's bare remote.
    pub config: PathBuf,
    /// The manifest repo's bare remote (empty at first).
    pub manifests: PathBuf,
    /// A cache folder for glueops' clones.
    pub cache: PathBuf,
}

impl Repos {
    /// Copies the config repo at `source` into `root/work`, commits it, and sets up the bare
    /// remotes beside it.
    pub fn new(root: &Path, source: &Path) -> Repos {
        let work = root.join("work");
        git(
            root,
            &["init", "--quiet", "-b", "main", &work.to_string_lossy()],
        );
        copy_tree(source, &work);
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "--quiet", "-m", "config: first commit"]);
        let config = root.join("config.git");
        git(
            root,
            &[
                "clone",
                "--quiet",
                "--bare",
                &work.to_string_lossy(),
                &config.to_string_lossy(),
            ],
        );
        let manifests = root.join("manifests.git");
        git(
            root,
            &[
                "init",
                "--quiet",
                "--bare",
                "-b",
                "main",
                &manifests.to_string_lossy(),
            ],
        );
        Repos {
            work,
            config,
            manifests,
            cache: root.join("cache"),
        }
    }

    /// Takes the remote's latest commits, lets `edit` change the work tree, commits everything
    /// with `message` and pushes it.
    pub fn change_config(&self, message: &str, edit: impl FnOnce(&Path)) {
        let remote = self.config.to_string_lossy().into_owned();
        git(
            &self.work,
            &["pull", "--quiet", "--ff-only", &remote, "main"],
        );
        edit(&self.work);
        git(&self.work, &["add", "-A"]);
        git(&self.work, &["commit", "--quiet", "-m", message]);
        git(&self.work, &["push", "--quiet", &remote, "HEAD:main"]);
    }

    /// The manifest branch's tree id.
    pub fn manifest_tree(&self) -> String {
        git(&self.manifests, &["rev-parse", "main^{tree}"])
            .trim()
            .to_string()
    }

    /// The manifest branch's commit count.
    pub fn manifest_commits(&self) -> usize {
        git(&self.manifests, &["rev-list", "--count", "main"])
            .trim()
            .parse()
            .unwrap_or(0)
    }

    /// `git fsck --strict` of both remotes.
    pub fn fsck(&self) {
        fsck(&self.config);
        fsck(&self.manifests);
    }
}

/// Copies the files under `from` into `to` (folders created as needed).
#[expect(
    clippy::panic,
    reason = "test support: a copy that fails is the test's failure"
)]
pub fn copy_tree(from: &Path, to: &Path) {
    let entries = match std::fs::read_dir(from) {
        Ok(e) => e,
        Err(e) => panic!("cannot read {}: {e}", from.display()),
    };
    if let Err(e) = std::fs::create_dir_all(to) {
        panic!("cannot create {}: {e}", to.display());
    }
    for entry in entries.flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else if let Err(e) = std::fs::copy(entry.path(), &target) {
            panic!("cannot copy {}: {e}", entry.path().display());
        }
    }
}
