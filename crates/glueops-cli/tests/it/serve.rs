//! `glueops serve` end to end: the binary on 127.0.0.1 with the demo config repo and a bare
//! manifest remote, fed the real GitHub payloads (`crates/glueops-git/tests/fixtures/`, see its
//! SOURCES.md) with their repository names rewritten to the demo apps' `source.repo` and
//! signed by the test. Every write is checked with `git fsck --strict`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use glueops_testkit::repos::{Repos, git};
use glueops_testkit::serve::{Response, Served, github_signature};
use serde_json::Value;

pub(crate) const SECRET: &str = "a webhook secret";
/// Monday 2026-12-07 10:00 in Berlin: inside production's window (Mon-Thu 09:00-16:00).
pub(crate) const INSIDE: &str = "2026-12-07T09:00:00Z";
/// Saturday 2026-12-05: outside it.
pub(crate) const OUTSIDE: &str = "2026-12-05T10:00:00Z";
const WAIT: Duration = Duration::from_secs(60);

/// A demo platform: config and manifest remotes, secrets, an injected clock.
pub(crate) struct Platform {
    pub(crate) root: tempfile::TempDir,
    pub(crate) repos: Repos,
    pub(crate) clock: PathBuf,
}

impl Platform {
    pub(crate) fn new() -> Platform {
        let root = tempfile::tempdir().unwrap();
        let demo = glueops_testkit::workspace().join("examples/demo-config");
        let repos = Repos::new(root.path(), &demo);
        std::fs::write(root.path().join("github.secret"), format!("{SECRET}\n")).unwrap();
        std::fs::write(root.path().join("gitlab.token"), "a gitlab token\n").unwrap();
        let clock = root.path().join("clock");
        std::fs::write(&clock, INSIDE).unwrap();
        Platform { root, repos, clock }
    }

    /// The flags of a server of this platform with its own cache folder `cache`.
    pub(crate) fn args(&self, cache: &str, extra: &[&str]) -> Vec<String> {
        let p = |s: &Path| s.to_string_lossy().into_owned();
        let mut args = vec![
            "--config".into(),
            p(&self.repos.config),
            "--manifests".into(),
            p(&self.repos.manifests),
            "--config-repo".into(),
            "acme/config".into(),
            "--github-secret-file".into(),
            p(&self.root.path().join("github.secret")),
            "--gitlab-token-file".into(),
            p(&self.root.path().join("gitlab.token")),
            "--cache".into(),
            p(&self.root.path().join(cache)),
            "--clock-file".into(),
            p(&self.clock),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    pub(crate) fn start(&self, cache: &str, extra: &[&str]) -> Served {
        let served = Served::start(
            Path::new(env!("CARGO_BIN_EXE_glueops")),
            &self.args(cache, extra),
        );
        // The start pass renders everything into the empty remote.
        assert!(
            wait_until(|| self
                .manifest(&["rev-parse", "--verify", "-q", "main"])
                .is_some()),
            "the first resync did not release: {}",
            served.log_text()
        );
        assert!(
            wait_until(|| served.request("GET", "/readyz", &[], b"").status == 200),
            "not ready: {}",
            served.log_text()
        );
        served
    }

    pub(crate) fn set_clock(&self, at: &str) {
        std::fs::write(&self.clock, at).unwrap();
    }

    /// `git <args>` in the manifest remote; `None` when it fails.
    pub(crate) fn manifest(&self, args: &[&str]) -> Option<String> {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(&self.repos.manifests)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// `glueops <args> --config C --manifests M --cache <root>/cli-cache --now INSIDE`: the
    /// one-shot commands on this platform, with a cache of their own.
    pub(crate) fn cli(&self, args: &[&str]) -> std::process::Output {
        let cache = self.root.path().join("cli-cache");
        let mut all: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
        all.extend([
            "--config".as_ref(),
            self.repos.config.as_os_str(),
            "--manifests".as_ref(),
            self.repos.manifests.as_os_str(),
            "--cache".as_ref(),
            cache.as_os_str(),
            "--now".as_ref(),
            INSIDE.as_ref(),
        ]);
        crate::glueops(&all)
    }

    pub(crate) fn head_message(&self) -> String {
        self.manifest(&["log", "-1", "--format=%B", "main"])
            .unwrap_or_default()
    }
}

pub(crate) fn wait_until(mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + WAIT;
    while std::time::Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A real payload from the fixtures, with `edits` (JSON pointer → value) applied.
pub(crate) fn payload(fixture: &str, edits: &[(&str, Value)]) -> Vec<u8> {
    let path = glueops_testkit::workspace()
        .join("crates/glueops-git/tests/fixtures/github")
        .join(fixture);
    let mut v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    fresh(
        &mut v,
        &[
            "pull_request",
            "package",
            "registry_package",
            "workflow_run",
        ],
    );
    // A pull request from the repository itself unless an edit names another head.
    if v.pointer("/pull_request/head/repo").is_some() {
        let repo = edits
            .iter()
            .find(|(p, _)| *p == "/repository/full_name")
            .map(|(_, r)| r.clone());
        if let Some(repo) = repo {
            v["pull_request"]["head"]["repo"]["full_name"] = repo;
        }
    }
    for (pointer, value) in edits {
        *v.pointer_mut(pointer)
            .unwrap_or_else(|| panic!("{fixture} has no {pointer}")) = value.clone();
    }
    serde_json::to_vec(&v).unwrap()
}

/// The events glueops checks for freshness happened at the servers' clock ([`INSIDE`]).
pub(crate) fn fresh(v: &mut Value, objects: &[&str]) {
    for key in objects {
        for field in ["updated_at", "finished_at"] {
            if let Some(at) = v.get_mut(*key).and_then(|o| o.get_mut(field)) {
                *at = INSIDE.into();
            }
        }
    }
}

/// POSTs a GitHub delivery signed with `secret`.
pub(crate) fn post(served: &Served, event: &str, id: &str, body: &[u8], secret: &str) -> Response {
    served.request(
        "POST",
        "/webhooks/github",
        &[
            ("Content-Type", "application/json".into()),
            ("X-GitHub-Event", event.into()),
            ("X-GitHub-Delivery", id.into()),
            ("X-Hub-Signature-256", github_signature(secret, body)),
        ],
        body,
    )
}

/// Waits for the log line of delivery `id` with `outcome`.
pub(crate) fn wait_outcome(served: &Served, id: &str, outcome: &str) {
    let found = served.wait_log(WAIT, |l| {
        l.contains(&format!("\"delivery\":\"{id}\""))
            && l.contains(&format!("\"outcome\":\"{outcome}\""))
    });
    assert!(
        found.is_some(),
        "delivery {id} was not {outcome}:\n{}",
        served.log_text()
    );
}

pub(crate) fn pull_request(fixture: &str, number: u64, sha: &str) -> Vec<u8> {
    payload(
        &format!("pull_request/{fixture}.payload.json"),
        &[
            ("/repository/full_name", "acme/web".into()),
            ("/number", number.into()),
            ("/pull_request/number", number.into()),
            ("/pull_request/head/sha", sha.into()),
            ("/pull_request/head/ref", "feature".into()),
        ],
    )
}

/// An image of acme/api tagged `tag`, published at `at` (staging follows it).
pub(crate) fn image_published(tag: &str, at: &str) -> Vec<u8> {
    payload(
        "package/published.docker.payload.json",
        &[
            ("/repository/full_name", "acme/api".into()),
            ("/package/name", "api".into()),
            (
                "/package/package_version/container_metadata/tag/name",
                Value::from(tag),
            ),
            ("/package/updated_at", Value::from(at)),
        ],
    )
}

pub(crate) fn config_push(after: &str) -> Vec<u8> {
    payload(
        "push/payload.json",
        &[
            ("/repository/full_name", "acme/config".into()),
            ("/ref", "refs/heads/main".into()),
            ("/after", after.into()),
            // The fixture is a branch deletion; a merge is a push that keeps the branch.
            ("/deleted", false.into()),
        ],
    )
}

fn review(number: u64, sha: &str, reviewer: &str) -> Vec<u8> {
    payload(
        "pull_request_review/submitted.payload.json",
        &[
            ("/repository/full_name", "acme/config".into()),
            ("/review/state", "approved".into()),
            ("/review/commit_id", sha.into()),
            ("/review/user/login", reviewer.into()),
            ("/pull_request/number", number.into()),
            ("/pull_request/head/sha", sha.into()),
        ],
    )
}

/// Commits `file` = `text` on branch `branch` of the config work tree and pushes the branch;
/// the commit id.
pub(crate) fn config_branch_commit(
    p: &Platform,
    branch: &str,
    file: &str,
    edit: impl FnOnce(String) -> String,
) -> String {
    let work = &p.repos.work;
    let remote = p.repos.config.to_string_lossy().into_owned();
    git(work, &["fetch", "--quiet", &remote, "main"]);
    git(work, &["checkout", "--quiet", "-B", branch, "FETCH_HEAD"]);
    let path = work.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, edit(text)).unwrap();
    git(
        work,
        &[
            "commit",
            "--quiet",
            "-am",
            &format!("{branch}: edit {file}"),
        ],
    );
    git(
        work,
        &["push", "--quiet", &remote, &format!("HEAD:{branch}")],
    );
    git(work, &["rev-parse", "HEAD"]).trim().to_string()
}

/// A config pull request: `file` edited on `branch`, approved by `reviewer` on pull request
/// `number` (delivery `ids.0`), then fast-forwarded into main and pushed (delivery `ids.1`).
fn reviewed_and_merged(
    p: &Platform,
    served: &Served,
    branch: &str,
    file: &str,
    edit: impl FnOnce(String) -> String,
    (number, reviewer): (u64, &str),
    (review_id, merge_id): (&str, &str),
) {
    let head = config_branch_commit(p, branch, file, edit);
    let body = review(number, &head, reviewer);
    post(served, "pull_request_review", review_id, &body, SECRET);
    wait_outcome(served, review_id, "applied");
    merge(p, &head);
    post(served, "push", merge_id, &config_push(&head), SECRET);
    wait_outcome(served, merge_id, "applied");
}

/// Fast-forwards the config's main to `sha`.
fn merge(p: &Platform, sha: &str) {
    let remote = p.repos.config.to_string_lossy().into_owned();
    git(
        &p.repos.work,
        &["push", "--quiet", &remote, &format!("{sha}:main")],
    );
    git(&p.repos.work, &["checkout", "--quiet", "-B", "main", sha]);
}

fn files_changed(p: &Platform, from: &str) -> Vec<String> {
    p.manifest(&["diff", "--name-only", from, "main"])
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn webhooks_release_previews_bumps_and_gated_promotions() {
    let p = Platform::new();
    let mut served = p.start("cache", &["--resync", "1s"]);
    assert_eq!(served.request("GET", "/healthz", &[], b"").status, 200);
    assert!(wait_until(|| served
        .request("GET", "/readyz", &[], b"")
        .status
        == 200));

    // A pull request on acme/web: its preview is opened, moved, closed, nothing else touched.
    let before = p.manifest(&["rev-parse", "main^{tree}"]).unwrap();
    let sha1 = "1111111111111111111111111111111111111111";
    let sha2 = "2222222222222222222222222222222222222222";
    let r = post(
        &served,
        "pull_request",
        "pr-open",
        &pull_request("opened", 42, sha1),
        SECRET,
    );
    assert_eq!(r.status, 202, "{}", r.body);
    wait_outcome(&served, "pr-open", "applied");
    let preview = "clusters/nonprod/previews/web-pr-42";
    let listed = p
        .manifest(&["ls-tree", "-r", "--name-only", "main", preview])
        .unwrap();
    assert!(
        !listed.is_empty(),
        "no preview folder in:\n{}",
        p.head_message()
    );
    let grep = |sha: &str| {
        p.manifest(&["grep", "-l", sha, "main", "--", preview])
            .is_some()
    };
    assert!(grep(sha1));
    post(
        &served,
        "pull_request",
        "pr-sync",
        &pull_request("synchronize", 42, sha2),
        SECRET,
    );
    wait_outcome(&served, "pr-sync", "applied");
    assert!(grep(sha2) && !grep(sha1), "the preview's tag did not move");
    post(
        &served,
        "pull_request",
        "pr-close",
        &pull_request("closed", 42, sha2),
        SECRET,
    );
    wait_outcome(&served, "pr-close", "applied");
    assert_eq!(
        p.manifest(&["rev-parse", "main^{tree}"]).unwrap(),
        before,
        "closing left something behind"
    );

    // A config push: only the deployment it changed is rewritten.
    let tip = p.manifest(&["rev-parse", "main"]).unwrap();
    p.repos.change_config("api staging: trace logs", |w| {
        let f = w.join("apps/api/envs/staging/values.yaml");
        let text = std::fs::read_to_string(&f).unwrap();
        std::fs::write(&f, text.replace("value: debug", "value: trace")).unwrap();
    });
    let after = git(&p.repos.config, &["rev-parse", "main"])
        .trim()
        .to_string();
    post(&served, "push", "cfg-push", &config_push(&after), SECRET);
    wait_outcome(&served, "cfg-push", "applied");
    let changed = files_changed(&p, &tip);
    assert!(!changed.is_empty(), "the push released nothing");
    assert!(
        changed
            .iter()
            .all(|f| f.contains("/staging/api/") || f.contains("api-staging")),
        "files outside api/staging changed: {changed:?}"
    );

    // An image published for acme/api: staging is bumped in the config (only the tag's
    // bytes), then released.
    let values = "apps/api/envs/staging/values.yaml";
    let old_values = git(&p.repos.config, &["show", &format!("main:{values}")]);
    let image = payload(
        "package/published.docker.payload.json",
        &[
            ("/repository/full_name", "acme/api".into()),
            ("/package/name", "api".into()),
            (
                "/package/package_version/container_metadata/tag/name",
                "9.9.9".into(),
            ),
        ],
    );
    post(&served, "package", "pkg", &image, SECRET);
    wait_outcome(&served, "pkg", "applied");
    let new_values = git(&p.repos.config, &["show", &format!("main:{values}")]);
    assert_eq!(
        new_values,
        old_values.replace("tag: 1.5.0-rc.1", "tag: 9.9.9"),
        "more than the tag changed"
    );
    assert!(
        p.head_message()
            .contains("Glueops-Deploy: api/staging tag=9.9.9"),
        "{}",
        p.head_message()
    );
    // The release is made on the commit the bump pushed (read without a second fetch).
    let bumped = git(&p.repos.config, &["rev-parse", "main"]);
    assert!(
        p.head_message()
            .contains(&format!("Glueops-Config: {}", bumped.trim())),
        "the release does not name the bump's commit {bumped}: {}",
        p.head_message()
    );

    // Inside the window, an approver's review releases production when the pull request
    // merges.
    reviewed_and_merged(
        &p,
        &served,
        "promote-web",
        "apps/web/envs/production/values.yaml",
        |t| t.replace("replicas: 3", "replicas: 4"),
        (5, "alice"),
        ("rev-1", "merge-1"),
    );
    let message = p.head_message();
    assert!(
        message.contains("Glueops-Deploy: web/production")
            && message.contains("Glueops-Approved-By: alice"),
        "{message}"
    );

    // Outside the window: held, with the rule; the resync after the window opens releases.
    p.set_clock(OUTSIDE);
    reviewed_and_merged(
        &p,
        &served,
        "promote-api",
        "apps/api/envs/production/values.yaml",
        |t| t.replace("value: info", "value: warn"),
        (6, "bob"),
        ("rev-2", "merge-2"),
    );
    // A hold commits nothing; /status says why and when the window opens.
    assert!(
        !p.head_message().contains("api/production"),
        "{}",
        p.head_message()
    );
    let held = wait_until(|| {
        let status: Value = serde_json::from_str(&served.request("GET", "/status", &[], b"").body)
            .unwrap_or_default();
        status["deployments"].as_array().is_some_and(|ds| {
            ds.iter().any(|d| {
                d["app"] == "api"
                    && d["env"] == "production"
                    && d["held"][0]["rule"] == "window"
                    && d["held"][0]["nextOpen"].is_string()
            })
        })
    });
    let status = served.request("GET", "/status", &[], b"").body;
    assert!(held, "/status does not show the hold: {status}");
    // Staging runs the published image; production still the one it had.
    assert!(
        status.contains("\"image\":\"ghcr.io/acme/api:9.9.9\""),
        "{status}"
    );
    assert!(
        status.contains("\"image\":\"ghcr.io/acme/api:1.4.2\""),
        "{status}"
    );
    p.set_clock("2026-12-07T09:30:00Z");
    assert!(
        wait_until(|| p.head_message().contains("Glueops-Deploy: api/production")),
        "the resync did not release the held promotion: {}",
        p.head_message()
    );
    assert!(p.head_message().contains("Glueops-Approved-By: bob"));
    let ledger = p.manifest(&["show", "glueops-ledger:ledger.json"]).unwrap();
    assert!(
        ledger.contains("\"reviewer\": \"bob\"") && ledger.contains("merge-2"),
        "{ledger}"
    );

    // Metrics: Prometheus text that promtool accepts, with the deliveries counted.
    let metrics = served.request("GET", "/metrics", &[], b"");
    assert_eq!(metrics.status, 200);
    assert!(
        metrics.body.contains(
            "glueops_webhook_events_total{host=\"github\",type=\"push\",outcome=\"applied\"} 3"
        ),
        "{}",
        metrics.body
    );
    assert!(metrics.body.contains("glueops_open_previews 0"));
    promtool_accepts(&metrics.body);

    // SIGTERM: exits 0.
    let status = served
        .terminate(WAIT)
        .expect("glueops serve did not stop on SIGTERM");
    assert!(status.success(), "exit {status:?}: {}", served.log_text());
    p.repos.fsck();
}

pub(crate) fn promtool_accepts(text: &str) {
    // Debian's promtool, unpacked into .venv/promtool on first use.
    let promtool = glueops_testkit::oracle("promtool", "usr/bin/promtool");
    let mut child = std::process::Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
