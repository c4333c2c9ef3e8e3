//! Credentials in a remote URL reach the git host and nothing else: not git's arguments,
//! not the CLI's output (text or `--json`), not `glueops serve`'s log, `/readyz`, `/status`
//! or `/metrics`. The host is git's own `git http-backend` behind basic authentication.

use std::path::Path;

use glueops_testkit::serve::Served;
use glueops_testkit::smart_http::SmartHttp;

use super::serve::{Platform, wait_until};
use super::{glueops, stderr, stdout};

const TOKEN: &str = "ghp_s3cretTOKENvalue0123456789";

#[test]
fn a_token_in_the_remote_url_is_used_and_never_shown() {
    let p = Platform::new();
    let host = SmartHttp::start(p.root.path(), "x-access-token", TOKEN).unwrap();
    let with_token = format!(
        "http://x-access-token:{TOKEN}@127.0.0.1:{}/manifests.git",
        host.port()
    );
    let wrong = format!(
        "http://x-access-token:wrong{TOKEN}@127.0.0.1:{}/manifests.git",
        host.port()
    );
    let config = p.repos.config.to_string_lossy().into_owned();
    let cache = p
        .root
        .path()
        .join("cli-cache")
        .to_string_lossy()
        .into_owned();
    let run = |manifests: &str, json: bool| {
        let mut args = vec![
            "sync",
            "--config",
            config.as_str(),
            "--manifests",
            manifests,
            "--cache",
            cache.as_str(),
        ];
        if json {
            args.push("--json");
        }
        let args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
        glueops(&args)
    };
    // A refused token: the error names the remote without its credentials.
    let refused = run(&wrong, false);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("127.0.0.1"),
        "{}",
        stderr(&refused)
    );
    // The right token releases (text and JSON), over the authenticated host.
    for json in [false, true] {
        let out = run(&with_token, json);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        for text in [
            stdout(&out),
            stderr(&out),
            stdout(&refused),
            stderr(&refused),
        ] {
            assert!(!text.contains(TOKEN), "the token was printed: {text}");
        }
    }
    assert!(
        host.saw_credentials("x-access-token", TOKEN),
        "the token never reached the host: {:?}",
        host.requests()
    );
    assert_eq!(p.repos.manifest_commits(), 1);

    // glueops serve with the same remote: nothing it answers or logs shows the token.
    let mut args = p.args("cache", &["--resync", "1h", "--git-timeout", "10s"]);
    let at = args.iter().position(|a| a == "--manifests").unwrap();
    args[at + 1] = wrong.clone();
    let served = Served::start(Path::new(env!("CARGO_BIN_EXE_glueops")), &args);
    assert!(
        served
            .wait_log(std::time::Duration::from_secs(60), |l| l.contains("401")
                || l.contains("Authentication failed"))
            .is_some(),
        "{}",
        served.log_text()
    );
    let mut seen = served.log_text();
    for path in ["/readyz", "/status", "/metrics", "/healthz"] {
        seen.push_str(&served.request("GET", path, &[], b"").body);
    }
    assert!(!seen.contains(TOKEN), "the token was shown: {seen}");
    assert!(!seen.contains("wrongghp"), "the token was shown: {seen}");
    drop(served);
    // Positive control: the right token, and the server is ready.
    args[at + 1] = with_token;
    let served = Served::start(Path::new(env!("CARGO_BIN_EXE_glueops")), &args);
    assert!(
        wait_until(|| served.request("GET", "/readyz", &[], b"").status == 200),
        "{}",
        served.log_text()
    );
    assert!(!served.log_text().contains(TOKEN));
}
