//! `glueops images` and registry watching in `glueops serve`, against a real registry
//! (Debian's docker-registry on 127.0.0.1) and real git remotes: the demo platform's `api`
//! follows `imagePolicy` in staging (promotion `auto`); production (promotion from staging,
//! with approvals) is reported, never moved.

use std::time::Duration;

use glueops_testkit::registry::{Auth, TestRegistry};
use glueops_testkit::repos::git;
use serde_json::Value;

use crate::serve::{Platform, wait_until};

const STAGING: &str = "apps/api/envs/staging/values.yaml";
const PRODUCTION: &str = "apps/api/envs/production/values.yaml";

/// The demo platform with `api`'s image on `registry` under `policy`, and a staging values
/// file with comments (kept byte for byte by every bump).
fn platform(registry: &TestRegistry, policy: &str) -> Platform {
    let p = Platform::new();
    let host = registry.host();
    p.repos.change_config("api: watch the registry", |work| {
        let base = work.join("apps/api/base/base-values.yaml");
        let text = std::fs::read_to_string(&base).unwrap().replace(
            "image: {registry: ghcr.io, repository: acme/api, port: 8080}",
            &format!("image: {{registry: \"{host}\", repository: acme/api, port: 8080}}\nimagePolicy: {policy}"),
        );
        std::fs::write(&base, text).unwrap();
        let staging = work.join(STAGING);
        let text = std::fs::read_to_string(&staging).unwrap();
        std::fs::write(
            &staging,
            format!("# Staging follows the registry.\n\n{}", text.replace("image: {tag: 1.5.0-rc.1}", "image: {tag: 1.5.0-rc.1}  # set by glueops")),
        )
        .unwrap();
    });
    p
}

/// A file of the config remote's main branch.
fn config_file(p: &Platform, path: &str) -> String {
    git(&p.repos.config, &["show", &format!("main:{path}")])
}

fn config_commits(p: &Platform) -> usize {
    git(&p.repos.config, &["rev-list", "--count", "main"])
        .trim()
        .parse()
        .unwrap()
}

/// Whether the manifest branch runs `reference` (`host/acme/api:tag`, the whole tag) anywhere.
fn released(p: &Platform, reference: &str) -> bool {
    let pattern = format!("{}([\"' @]|$)", reference.replace('.', "\\."));
    p.manifest(&["grep", "-q", "-E", &pattern, "main"])
        .is_some()
}

fn images(p: &Platform, registry: &TestRegistry, args: &[&str]) -> std::process::Output {
    let auth = p.root.path().join("docker-config.json");
    std::fs::write(&auth, registry.docker_config()).unwrap();
    let auth = auth.to_string_lossy().into_owned();
    let mut all = vec!["images", "--registry-auth-file", &auth];
    all.extend(args);
    p.cli(&all)
}

fn staging_tag(p: &Platform) -> String {
    let text = config_file(p, STAGING);
    text.lines()
        .find_map(|l| l.strip_prefix("image: {tag: "))
        .and_then(|rest| rest.split('}').next())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn images_reports_and_update_bumps_only_auto_environments_keeping_comments() {
    let registry = TestRegistry::start(Auth::Htpasswd).unwrap();
    for (tag, at) in [
        ("1.4.0", "2026-11-01T00:00:00Z"),
        ("1.5.0", "2026-12-01T00:00:00Z"),
        ("2.0.0", "2026-12-02T00:00:00Z"),
        ("1.6.0-rc.1", "2026-12-03T00:00:00Z"),
        ("latest", "2026-12-03T00:00:00Z"),
    ] {
        registry.push("acme/api", tag, at).unwrap();
    }
    let p = platform(&registry, r#"{semver: ">=1.4.0 <2.0.0"}"#);
    // Read only: the report says what would move and why the rest was skipped.
    let out = images(&p, &registry, &["--json"]);
    assert!(out.status.success(), "{}", crate::stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let find = |env: &str| {
        report
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["app"] == "api" && s["env"] == env)
            .unwrap()
            .clone()
    };
    let staging = find("staging");
    assert_eq!(
        (staging["current"].as_str(), staging["latest"].as_str()),
        (Some("1.5.0-rc.1"), Some("1.5.0"))
    );
    assert_eq!(
        (staging["follows"].as_bool(), staging["moves"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(
        staging["skipped"]["not a semantic version"],
        serde_json::json!(["latest"])
    );
    assert!(
        staging["skipped"]["outside the range >=1.4.0 <2.0.0"]
            .as_array()
            .unwrap()
            .contains(&Value::from("2.0.0"))
    );
    assert_eq!(
        staging["skipped"]["a pre-release the range does not name"],
        serde_json::json!(["1.6.0-rc.1"])
    );
    let production = find("production");
    assert_eq!(
        (
            production["follows"].as_bool(),
            production["moves"].as_bool()
        ),
        (Some(false), Some(false))
    );
    // One tag list for the image both environments use, and nothing else.
    let text = images(&p, &registry, &[]);
    assert!(
        crate::stdout(&text).contains("1 image(s) read in 2 registry request(s)"),
        "the 401 challenge, then the tag list: {}",
        crate::stdout(&text)
    );
    assert_eq!(config_commits(&p), 2, "reading commits nothing");

    // --update: staging is bumped and released; production is untouched.
    let before = config_file(&p, STAGING);
    let out = images(&p, &registry, &["--update"]);
    assert!(
        out.status.success(),
        "{}{}",
        crate::stdout(&out),
        crate::stderr(&out)
    );
    let after = config_file(&p, STAGING);
    assert_eq!(
        after,
        before.replace("1.5.0-rc.1", "1.5.0"),
        "only the tag's bytes change"
    );
    assert!(
        after.starts_with("# Staging follows the registry.\n\n")
            && after.contains("# set by glueops")
    );
    assert!(config_file(&p, PRODUCTION).contains("image: {tag: 1.4.2}"));
    let host = registry.host();
    assert!(
        released(&p, &format!("{host}/acme/api:1.5.0")),
        "staging released 1.5.0"
    );
    assert!(!released(&p, &format!("{host}/acme/api:2.0.0")));
    // Again: nothing moves, nothing is committed or released.
    let (commits, releases) = (config_commits(&p), p.repos.manifest_commits());
    let out = images(&p, &registry, &["--update"]);
    assert!(out.status.success(), "{}", crate::stderr(&out));
    assert_eq!(
        (config_commits(&p), p.repos.manifest_commits()),
        (commits, releases)
    );
    p.repos.fsck();
}

#[test]
fn newest_by_creation_time_among_a_pattern_pins_the_index_digest() {
    let registry = TestRegistry::start(Auth::Token).unwrap();
    registry
        .push("acme/api", "main-100-aaaaaaa", "2026-11-01T00:00:00Z")
        .unwrap();
    let index = registry
        .push_index("acme/api", "main-090-bbbbbbb", "2026-12-01T00:00:00Z")
        .unwrap();
    registry
        .push("acme/api", "main-110-ccccccc", "2026-10-01T00:00:00Z")
        .unwrap();
    registry
        .push("acme/api", "feature-x", "2026-12-06T00:00:00Z")
        .unwrap();
    let p = platform(
        &registry,
        r#"{pattern: "^main-[0-9]+-[0-9a-f]{7}$", newest: true, pin: digest}"#,
    );
    let out = images(&p, &registry, &["--update"]);
    assert!(
        out.status.success(),
        "{}{}",
        crate::stdout(&out),
        crate::stderr(&out)
    );
    assert_eq!(staging_tag(&p), format!("main-090-bbbbbbb@{index}"));
    // Ordered by a group instead: the highest build number.
    let p2 = platform(
        &registry,
        r#"{pattern: "^main-(?P<n>[0-9]+)-[0-9a-f]{7}$", order: n}"#,
    );
    let out = images(&p2, &registry, &["--update"]);
    assert!(out.status.success(), "{}", crate::stderr(&out));
    assert_eq!(staging_tag(&p2), "main-110-ccccccc");
}

#[test]
fn a_policy_that_cannot_choose_is_a_located_config_error() {
    let (_dir, repo) = crate::demo_copy();
    let base = repo.join("apps/api/base/base-values.yaml");
    let text = std::fs::read_to_string(&base).unwrap();
    std::fs::write(
        &base,
        format!("{text}imagePolicy: {{pattern: \"^main-(\", order: n}}\n"),
    )
    .unwrap();
    let out = crate::glueops(&["validate".as_ref(), repo.as_os_str()]);
    assert!(!out.status.success());
    let shown = format!("{}{}", crate::stdout(&out), crate::stderr(&out));
    assert!(
        shown.contains("base-values.yaml")
            && shown.contains("imagePolicy")
            && shown.contains("not a regular expression"),
        "{shown}"
    );
}

/// `glueops serve --registry-interval 1s` on `p`, reading `registry` with its credentials.
fn serve(
    p: &Platform,
    registry: &TestRegistry,
    interval: &str,
    token: Option<&str>,
) -> glueops_testkit::serve::Served {
    let auth = p.root.path().join("docker-config.json");
    std::fs::write(&auth, registry.docker_config()).unwrap();
    let mut extra = vec![
        "--registry-interval".to_string(),
        interval.to_string(),
        "--registry-auth-file".into(),
        auth.to_string_lossy().into_owned(),
    ];
    if let Some(token) = token {
        let file = p.root.path().join("registry.token");
        std::fs::write(&file, format!("{token}\n")).unwrap();
        extra.extend([
            "--registry-webhook-token-file".to_string(),
            file.to_string_lossy().into_owned(),
        ]);
    }
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    p.start("serve-cache", &extra)
}

fn bump_commits(p: &Platform, tag: &str) -> usize {
    git(&p.repos.config, &["log", "--format=%s", "main"])
        .lines()
        .filter(|l| *l == format!("api/staging: image.tag {tag}"))
        .count()
}

#[test]
fn serve_follows_the_registry_within_an_interval_and_survives_it_going_away() {
    let mut registry = TestRegistry::start(Auth::Htpasswd).unwrap();
    registry
        .push("acme/api", "1.4.0", "2026-11-01T00:00:00Z")
        .unwrap();
    let p = platform(&registry, r#"{semver: ">=1.4.0 <2.0.0"}"#);
    let served = serve(&p, &registry, "1s", None);
    let host = registry.host();
    // 1.4.0 is below the rc staging runs: nothing moves.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(staging_tag(&p), "1.5.0-rc.1");
    registry
        .push("acme/api", "1.5.0", "2026-12-01T00:00:00Z")
        .unwrap();
    assert!(
        wait_until(|| released(&p, &format!("{host}/acme/api:1.5.0"))),
        "{}",
        served.log_text()
    );
    assert_eq!(staging_tag(&p), "1.5.0");
    assert!(config_file(&p, STAGING).contains("# Staging follows the registry."));
    // Outside the range: nothing, for several intervals.
    registry
        .push("acme/api", "2.0.0", "2026-12-02T00:00:00Z")
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(staging_tag(&p), "1.5.0");
    assert!(config_file(&p, PRODUCTION).contains("image: {tag: 1.4.2}"));
    // The registry goes away: polls fail and are logged; nothing is bumped or lost.
    registry.pause();
    assert!(
        served
            .wait_log(Duration::from_secs(30), |l| l
                .contains("cannot read the image's tags"))
            .is_some()
    );
    registry.resume().unwrap();
    registry
        .push("acme/api", "1.6.0", "2026-12-04T00:00:00Z")
        .unwrap();
    assert!(
        wait_until(|| released(&p, &format!("{host}/acme/api:1.6.0"))),
        "{}",
        served.log_text()
    );
    // Every tag was committed once, however many polls saw it.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        (bump_commits(&p, "1.5.0"), bump_commits(&p, "1.6.0")),
        (1, 1)
    );
    let metrics = served.request("GET", "/metrics", &[], b"").body;
    assert!(
        metrics.contains("glueops_registry_polls_total{outcome=\"error\"}")
            && metrics.contains("glueops_registry_polls_total{outcome=\"ok\"}"),
        "{metrics}"
    );
    p.repos.fsck();
}

fn notification(repository: &str) -> Vec<u8> {
    serde_json::json!({"events": [{
        "id": "4f4e1f9a", "timestamp": "2026-12-07T09:00:00Z", "action": "push",
        "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "repository": repository, "tag": "9.9.9", "url": "http://evil.example/v2/x/manifests/9.9.9"},
        "request": {"host": "127.0.0.1"}, "source": {"addr": "registry:5000"}
    }]})
    .to_string()
    .into_bytes()
}

#[test]
fn a_registry_webhook_wakes_the_poll_and_only_with_its_token() {
    let registry = TestRegistry::start(Auth::Htpasswd).unwrap();
    registry
        .push("acme/api", "1.4.0", "2026-11-01T00:00:00Z")
        .unwrap();
    let p = platform(&registry, r#"{semver: ">=1.4.0 <2.0.0"}"#);
    // Polls once at start, then not for an hour: only the webhook can bring 1.5.0 now.
    let served = serve(&p, &registry, "1h", Some("registry-hook-token"));
    assert!(
        served
            .wait_log(Duration::from_secs(30), |l| l
                .contains("glueops serve listening"))
            .is_some()
    );
    std::thread::sleep(Duration::from_secs(1));
    registry
        .push("acme/api", "1.5.0", "2026-12-01T00:00:00Z")
        .unwrap();
    let post = |token: Option<&str>, body: &[u8]| {
        let mut headers = vec![(
            "content-type",
            "application/vnd.docker.distribution.events.v1+json".to_string(),
        )];
        if let Some(t) = token {
            headers.push(("authorization", format!("Bearer {t}")));
        }
        served.request("POST", "/webhooks/registry", &headers, body)
    };
    assert_eq!(post(None, &notification("acme/api")).status, 401);
    assert_eq!(
        post(Some("registry-hook-tokem"), &notification("acme/api")).status,
        401
    );
    assert_eq!(post(Some("registry-hook-token"), b"{not json").status, 400);
    let other = post(Some("registry-hook-token"), &notification("acme/other"));
    assert!(
        other.status == 202 && other.body.contains("ignored"),
        "{}",
        other.body
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(staging_tag(&p), "1.5.0-rc.1", "nothing polled yet");
    // Positive control: the right token and repository wake the poll at once. The
    // notification's own tag (9.9.9) is never taken: the registry says what exists.
    let woke = post(Some("registry-hook-token"), &notification("acme/api"));
    assert!(
        woke.status == 202 && woke.body.contains("accepted"),
        "{}",
        woke.body
    );
    let host = registry.host();
    assert!(
        wait_until(|| released(&p, &format!("{host}/acme/api:1.5.0"))),
        "{}",
        served.log_text()
    );
    assert!(!released(&p, &format!("{host}/acme/api:9.9.9")));
}

#[test]
fn ecr_registries_take_their_password_from_the_aws_sdk() {
    // The registry wants user AWS with the password moto's GetAuthorizationToken hands out.
    let registry = TestRegistry::start(Auth::Htpasswd).unwrap();
    registry
        .push("acme/api", "1.5.0", "2026-12-01T00:00:00Z")
        .unwrap();
    let moto = glueops_testkit::moto();
    let p = platform(&registry, r#"{semver: ">=1.4.0 <2.0.0"}"#);
    let host = registry.host();
    let run = |ecr: bool| {
        let mut args: Vec<String> = vec!["images".into(), "--json".into()];
        if ecr {
            args.extend(["--ecr-registry".into(), host.clone()]);
        }
        args.extend([
            "--ecr-endpoint".into(),
            moto.url(),
            "--config".into(),
            p.repos.config.to_string_lossy().into_owned(),
            "--cache".into(),
            p.root
                .path()
                .join("ecr-cache")
                .to_string_lossy()
                .into_owned(),
        ]);
        std::process::Command::new(env!("CARGO_BIN_EXE_glueops"))
            .args(&args)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .output()
            .unwrap()
    };
    let out = run(true);
    assert!(out.status.success(), "{}", crate::stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let staging = report
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["env"] == "staging")
        .unwrap();
    assert_eq!(staging["latest"], "1.5.0", "{staging}");
    // Control: the same registry not named ECR has no credentials, and says what to give.
    let out = run(false);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let error = report[0]["error"].as_str().unwrap_or_default().to_string();
    assert!(
        !out.status.success() && error.contains("--registry-auth-file"),
        "{error}"
    );
}

#[test]
fn in_pull_request_mode_the_policy_s_tag_is_proposed_not_committed() {
    use glueops_testkit::github::GitHubForge;
    let registry = TestRegistry::start(Auth::Anonymous).unwrap();
    registry
        .push("acme/api", "1.5.0", "2026-12-01T00:00:00Z")
        .unwrap();
    let p = platform(&registry, r#"{semver: ">=1.4.0 <2.0.0"}"#);
    p.repos
        .change_config("staging takes changes as pull requests", |w| {
            let f = w.join("glueops.yaml");
            let text = std::fs::read_to_string(&f).unwrap().replace(
                "promotion: {auto: true}}",
                "promotion: {auto: true, mode: pull-request}}",
            );
            std::fs::write(&f, text).unwrap();
        });
    let github = GitHubForge::start(crate::serve_feedback::TOKEN);
    let _ = crate::serve_feedback::token_flags(&p);
    let main = git(&p.repos.config, &["rev-parse", "main"]);
    let token = p.root.path().join("github.token");
    let (url, token) = (github.url(), token.to_string_lossy().into_owned());
    let update = || {
        images(
            &p,
            &registry,
            &[
                "--update",
                "--github-api",
                &url,
                "--github-token-file",
                &token,
                "--config-repo",
                "acme/config",
            ],
        )
    };
    let out = update();
    assert!(
        out.status.success(),
        "{}{}",
        crate::stdout(&out),
        crate::stderr(&out)
    );
    assert!(
        crate::stdout(&out).contains("proposed api/staging 1.5.0 on glueops/bump/api/staging"),
        "{}",
        crate::stdout(&out)
    );
    assert_eq!(
        git(&p.repos.config, &["rev-parse", "main"]),
        main,
        "nothing committed to main"
    );
    let proposed = git(
        &p.repos.config,
        &["show", &format!("glueops/bump/api/staging:{STAGING}")],
    );
    assert!(
        proposed.contains("image: {tag: 1.5.0}  # set by glueops"),
        "{proposed}"
    );
    let pulls = github.pulls();
    assert_eq!(pulls.len(), 1);
    assert!(
        pulls[0].title.contains("api 1.5.0 to staging"),
        "{}",
        pulls[0].title
    );
    // Again: the same branch, no second pull request.
    let out = update();
    assert!(out.status.success(), "{}", crate::stderr(&out));
    assert_eq!(github.pulls().len(), 1);
}
