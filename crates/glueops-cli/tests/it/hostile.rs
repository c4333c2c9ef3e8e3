//! The `glueops` binary and `glueops serve` against hostile input and hostile remotes:
//! repository strings that try to become git options, remotes that never answer. Every
//! attack has its positive control: the same command with a legitimate value works.

use std::path::Path;
use std::time::{Duration, Instant};

use glueops_testkit::hostile::{Gate, git_daemon};
use glueops_testkit::repos::Repos;
use glueops_testkit::serve::Served;

use super::serve::{Platform, SECRET, post, wait_until};
use super::{glueops, stderr};

fn sync(config: &str, manifests: &str, cache: &Path, extra: &[&str]) -> std::process::Output {
    // `--flag=value`: the form that hands a value starting with `-` to glueops.
    let (config, manifests) = (
        format!("--config={config}"),
        format!("--manifests={manifests}"),
    );
    let mut args: Vec<&std::ffi::OsStr> =
        vec!["sync".as_ref(), config.as_ref(), manifests.as_ref()];
    args.extend([std::ffi::OsStr::new("--cache"), cache.as_os_str()]);
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    glueops(&args)
}

fn demo_repos(root: &Path) -> Repos {
    Repos::new(
        root,
        &glueops_testkit::workspace().join("examples/demo-config"),
    )
}

#[test]
fn repository_strings_and_branches_never_become_git_options() {
    let root = tempfile::tempdir().unwrap();
    let repos = demo_repos(root.path());
    let (config, manifests) = (
        repos.config.to_string_lossy().into_owned(),
        repos.manifests.to_string_lossy().into_owned(),
    );
    let pwned = root.path().join("pwned");
    let attacks = [
        format!("--upload-pack=touch {} #://", pwned.display()),
        format!("--receive-pack=touch {} #://", pwned.display()),
        format!("ext::sh -c touch% {}", pwned.display()),
        "-oProxyCommand=touch x:y".to_string(),
    ];
    for attack in &attacks {
        for (c, m) in [
            (attack.as_str(), manifests.as_str()),
            (config.as_str(), attack.as_str()),
        ] {
            let out = sync(c, m, &repos.cache, &[]);
            assert_eq!(out.status.code(), Some(1), "{attack}: {}", stderr(&out));
            assert!(
                stderr(&out).contains("is not a repository glueops can use"),
                "{attack}: {}",
                stderr(&out)
            );
        }
    }
    for branch in ["--upload-pack=touch", "main..x", "a b"] {
        let flag = format!("--config-branch={branch}");
        let out = sync(&config, &manifests, &repos.cache, &[&flag]);
        assert_eq!(out.status.code(), Some(1), "{branch}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("is not a valid branch name"),
            "{}",
            stderr(&out)
        );
    }
    // The same through the environment of `glueops serve`: it refuses to start.
    let secret = root.path().join("secret");
    std::fs::write(&secret, "s").unwrap();
    let serve = std::process::Command::new(env!("CARGO_BIN_EXE_glueops"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config", &config])
        .arg("--github-secret-file")
        .arg(&secret)
        .env("GLUEOPS_MANIFESTS", &attacks[0])
        .output()
        .unwrap();
    assert_eq!(serve.status.code(), Some(1), "{}", stderr(&serve));
    assert!(stderr(&serve).contains("is not a repository glueops can use"));
    assert!(!pwned.exists(), "an attack ran a command");
    let branch = glueops_testkit::repos::git(&repos.manifests, &["branch", "--list"]);
    assert!(branch.trim().is_empty(), "an attack committed: {branch}");

    // Positive control: the same command with the real remotes releases.
    let ok = sync(&config, &manifests, &repos.cache, &[]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert_eq!(repos.manifest_commits(), 1);
    // An odd but legitimate path (a folder named like an option, reached as a path) works.
    let odd = root.path().join("-odd.git");
    std::fs::rename(&repos.manifests, &odd).unwrap();
    let relative = format!("./{}", odd.file_name().unwrap().to_string_lossy());
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_glueops"))
        .current_dir(root.path())
        .args([
            "sync",
            "--config",
            &config,
            "--manifests",
            &relative,
            "--json",
        ])
        .arg("--cache")
        .arg(&repos.cache)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(!pwned.exists());
}

#[test]
fn a_remote_that_never_answers_times_out_within_the_deadline() {
    let root = tempfile::tempdir().unwrap();
    let repos = demo_repos(root.path());
    let daemon = git_daemon(root.path()).unwrap();
    let gate = Gate::start(daemon.port()).unwrap();
    let url = format!("git://127.0.0.1:{}/manifests.git", gate.port());
    let config = repos.config.to_string_lossy().into_owned();
    gate.close();
    let started = Instant::now();
    let out = sync(&config, &url, &repos.cache, &["--git-timeout", "2s"]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no answer within 2s"),
        "{}",
        stderr(&out)
    );
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert!(gate.accepted() >= 1, "git never reached the silent remote");
    // Positive control: the same remote, answering, releases.
    gate.open();
    let ok = sync(&config, &url, &repos.cache, &["--git-timeout", "30s"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert_eq!(repos.manifest_commits(), 1);
    repos.fsck();
}

#[test]
fn serve_stays_responsive_while_a_remote_hangs_and_recovers_when_it_returns() {
    let p = Platform::new();
    let daemon = git_daemon(p.root.path()).unwrap();
    let gate = Gate::start(daemon.port()).unwrap();
    let url = format!("git://127.0.0.1:{}/manifests.git", gate.port());
    let mut args = p.args("cache", &["--resync", "1h", "--git-timeout", "2s"]);
    let at = args.iter().position(|a| a == "--manifests").unwrap();
    args[at + 1] = url;
    let served = Served::start(Path::new(env!("CARGO_BIN_EXE_glueops")), &args);
    assert!(
        wait_until(|| served.request("GET", "/readyz", &[], b"").status == 200),
        "{}",
        served.log_text()
    );
    let before = p.repos.manifest_commits();
    gate.close();
    p.repos
        .change_config("config: web 2.8.1 on staging", |work| {
            let values = work.join("apps/web/envs/staging/values.yaml");
            std::fs::write(&values, "image: {tag: 2.8.1}\n").unwrap();
        });
    let head = glueops_testkit::repos::git(&p.repos.config, &["rev-parse", "main"]);
    let push = super::serve::config_push(head.trim());
    assert_eq!(
        post(&served, "push", "while-silent", &push, SECRET).status,
        202
    );
    // While git hangs, the server answers at once and /readyz names the reason.
    let mut slowest = Duration::ZERO;
    let reported = wait_until(|| {
        let started = Instant::now();
        assert_eq!(served.request("GET", "/healthz", &[], b"").status, 200);
        let ready = served.request("GET", "/readyz", &[], b"");
        slowest = slowest.max(started.elapsed());
        ready.status == 503 && ready.body.contains("\"reason\":\"git-timeout\"")
    });
    assert!(reported, "/readyz did not say why: {}", served.log_text());
    assert!(slowest < Duration::from_secs(1), "a probe took {slowest:?}");
    assert!(
        served
            .wait_log(Duration::from_secs(60), |l| l
                .contains("no answer within 2s"))
            .is_some()
    );
    assert_eq!(p.repos.manifest_commits(), before);
    // The remote returns: the kept batch lands, and the server is ready again.
    gate.open();
    super::serve::wait_outcome(&served, "while-silent", "applied");
    assert!(wait_until(|| served
        .request("GET", "/readyz", &[], b"")
        .status
        == 200));
    assert!(p.repos.manifest_commits() > before);
    p.repos.fsck();
}

#[test]
fn a_preview_sha_and_a_manifest_url_are_checked_before_use() {
    let root = tempfile::tempdir().unwrap();
    let repos = demo_repos(root.path());
    let cache = repos.cache.to_string_lossy().into_owned();
    let (config, manifests) = (
        repos.config.to_string_lossy().into_owned(),
        repos.manifests.to_string_lossy().into_owned(),
    );
    let preview = |sha: &str| {
        let args: Vec<&std::ffi::OsStr> = [
            "preview",
            "open",
            "--app",
            "web",
            "--pr",
            "42",
            "--sha",
            sha,
            "--config",
            &config,
            "--manifests",
            &manifests,
            "--cache",
            &cache,
        ]
        .into_iter()
        .map(std::ffi::OsStr::new)
        .collect();
        glueops(&args)
    };
    let bad = preview("a b");
    assert_eq!(bad.status.code(), Some(1), "{}", stderr(&bad));
    assert!(
        stderr(&bad).contains("is not a commit id"),
        "{}",
        stderr(&bad)
    );
    let ok = preview("4f2a9c1");
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));

    // A token in glueops.yaml's manifest URL would be committed into every Application.
    let (_dir, copy) = super::demo_copy();
    let platform = copy.join("glueops.yaml");
    let text = std::fs::read_to_string(&platform).unwrap();
    let url = text
        .lines()
        .find_map(|l| l.split("url: \"").nth(1))
        .and_then(|u| u.split('"').next())
        .unwrap()
        .to_string();
    assert!(url.starts_with("https://"), "{url}");
    let with_token = url.replacen("https://", "https://x:ghp_token@", 1);
    std::fs::write(&platform, text.replace(&url, &with_token)).unwrap();
    let run = glueops(&[std::ffi::OsStr::new("validate"), copy.as_os_str()]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        stderr(&run).contains("the manifest repo URL holds credentials"),
        "{}",
        stderr(&run)
    );
}
