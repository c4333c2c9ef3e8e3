//! The dashboard in a real browser: headless Chromium (Debian's) driven by puppeteer-core,
//! against `glueops serve` on 127.0.0.1 with the demo config after a scripted history (syncs,
//! bumps, a held promotion, a rollback, two previews). The DOM shows the right tags, reasons
//! and URLs; a release made while the page is open appears without a reload; axe-core finds no
//! serious violation; screenshots at desktop and phone widths are kept under
//! `<target>/test-artifacts/dashboard/`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Stdio;

use glueops_testkit::repos::git;
use serde_json::Value;

use crate::serve::{INSIDE, Platform, SECRET, image_published, post};

fn ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}{}",
        crate::stdout(out),
        crate::stderr(out)
    );
}

fn artifacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| glueops_testkit::workspace().join("target"));
    let dir = target.join("test-artifacts/dashboard");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The demo platform with a history worth looking at.
fn scripted_history() -> Platform {
    let p = Platform::new();
    ok(&p.cli(&["sync"]));
    ok(&p.cli(&["bump", "--app", "api", "--env", "staging", "--tag", "1.6.0"]));
    ok(&p.cli(&["sync"]));
    // Production needs an approval: `promote` refuses, and the promotion merged into the
    // config is held by the sync until someone approves it.
    let refused = p.cli(&["promote", "--app", "api", "--to", "production"]);
    assert_eq!(
        refused.status.code(),
        Some(3),
        "{}",
        crate::stdout(&refused)
    );
    p.repos.change_config("api: 1.6.0 to production", |w| {
        let f = w.join("apps/api/envs/production/values.yaml");
        let text = std::fs::read_to_string(&f)
            .unwrap()
            .replace("image: {tag: 1.4.2}", "image: {tag: 1.6.0}");
        std::fs::write(&f, text).unwrap();
    });
    let held = p.cli(&["sync"]);
    assert!(
        crate::stdout(&held).contains("held"),
        "{}",
        crate::stdout(&held)
    );
    ok(&p.cli(&["bump", "--app", "web", "--env", "staging", "--tag", "2.9.0"]));
    ok(&p.cli(&["sync"]));
    ok(&p.cli(&[
        "rollback",
        "--app",
        "web",
        "--env",
        "staging",
        "--reason",
        "checkout broke",
    ]));
    ok(&p.cli(&[
        "preview", "open", "--app", "web", "--pr", "7", "--sha", "4f2a9c1d",
    ]));
    ok(&p.cli(&[
        "preview",
        "open",
        "--app",
        "api",
        "--pr",
        "12",
        "--sha",
        "a1b2c3d4e5",
    ]));
    p
}

fn stage<'a>(dom: &'a Value, app: &str, env: &str) -> &'a Value {
    dom["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["app"] == app && s["env"] == env)
        .unwrap_or_else(|| panic!("no stage {app}/{env} in {dom}"))
}

#[test]
fn the_dashboard_shows_the_platform_and_updates_itself_in_a_real_browser() {
    let p = scripted_history();
    let served = p.start("serve-cache", &[]);
    let url = format!("http://{}/", served.addr);
    assert!(crate::serve::wait_until(|| served
        .request("GET", "/", &[], b"")
        .status
        == 200));
    let out = artifacts();
    let script =
        glueops_testkit::workspace().join("crates/glueops-cli/tests/browser/dashboard.cjs");
    let args = [
        url.clone(),
        out.to_string_lossy().into_owned(),
        "1.7.0".into(),
    ];
    let mut browser = glueops_testkit::browser::node(&script, &args)
        .unwrap()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(browser.stdout.take().unwrap()).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    assert_eq!(
        first, r#"{"ready":true}"#,
        "the browser did not get ready: {first}"
    );
    // A release while the page is open: an image published for api bumps staging.
    let answer = post(
        &served,
        "package",
        "live-1",
        &image_published("1.7.0", INSIDE),
        SECRET,
    );
    assert_eq!(answer.status, 202, "{}", answer.body);
    let last = lines.next().and_then(Result::ok).unwrap_or_default();
    let status = browser.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut browser.stderr.take().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{err}\n{}", served.log_text());
    let report: Value =
        serde_json::from_str(&last).unwrap_or_else(|e| panic!("{e}: {last}\n{err}"));
    let dom = &report["dom"];

    // Pipelines: tags, what released them, what holds production and what waits there.
    assert_eq!(stage(dom, "api", "staging")["tag"], "1.6.0");
    assert!(
        stage(dom, "api", "staging")["when"]
            .as_str()
            .unwrap()
            .starts_with("bump"),
        "{dom}"
    );
    let production = stage(dom, "api", "production");
    assert_eq!(production["tag"], "1.4.2");
    assert_eq!(production["held"], true, "{production}");
    let holds = production["holds"].to_string();
    assert!(
        holds.contains("needs 1 more approval") && holds.contains("alice, bob"),
        "{holds}"
    );
    assert_eq!(production["waiting"], "waiting: 1.6.0");
    let web = stage(dom, "web", "staging");
    assert_eq!(web["tag"], "2.8.0", "rolled back from 2.9.0: {web}");
    assert!(
        web["when"].as_str().unwrap().starts_with("rollback"),
        "{web}"
    );
    // Previews with their URLs and head commits; releases with the rollback marked; DORA.
    let previews: Vec<&Value> = dom["previews"].as_array().unwrap().iter().collect();
    assert_eq!(previews.len(), 2, "{previews:?}");
    let web7 = previews.iter().find(|p| p["name"] == "web-pr-7").unwrap();
    assert_eq!(web7["head"], "4f2a9c1");
    assert_eq!(
        web7["links"][0],
        "https://web-pr-7.apps.nonprod.acme.onglueops.rocks/"
    );
    assert!(previews.iter().any(|p| p["name"] == "api-pr-12"));
    let releases = dom["releases"].as_array().unwrap();
    assert!(
        releases
            .iter()
            .any(|r| r["rollback"] == true && r["text"].as_str().unwrap().contains("web/staging")),
        "{releases:?}"
    );
    let dora = dom["dora"].as_array().unwrap();
    let api = dora.iter().find(|d| d["name"] == "api/staging").unwrap();
    assert!(
        api["bars"].as_u64().unwrap() >= 1 && api["text"].as_str().unwrap().contains("/day"),
        "{api}"
    );
    // Phones: nothing wider than the screen.
    assert_eq!(report["phone"], true);

    // Live: the new tag appeared on the same page (no reload), within seconds.
    let live = &report["live"];
    eprintln!(
        "live update: {} ms after the webhook was posted",
        live["ms"]
    );
    assert_eq!(live["samePage"], true, "{live}");
    assert_eq!(stage(&live["after"], "api", "staging")["tag"], "1.7.0");
    assert!(live["ms"].as_u64().unwrap() < 15_000, "{live}");

    // Accessibility and a page that runs clean.
    let serious: Vec<&Value> = report["axe"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["impact"] == "serious" || v["impact"] == "critical")
        .collect();
    assert!(serious.is_empty(), "axe-core: {serious:?}");
    assert_eq!(report["errors"], serde_json::json!([]), "console errors");
    for shot in [
        "dashboard-desktop.png",
        "dashboard-phone.png",
        "dashboard-after-release.png",
    ] {
        assert!(
            std::fs::metadata(out.join(shot)).unwrap().len() > 10_000,
            "{shot}"
        );
    }
}

#[test]
fn the_dashboard_pages_filter_and_stay_read_only() {
    let p = scripted_history();
    let served = p.start("serve-cache", &[]);
    let get = |path: &str| served.request("GET", path, &[], b"");
    assert!(
        crate::serve::wait_until(|| get("/").status == 200),
        "{}",
        served.log_text()
    );
    let page = get("/?app=api&env=production");
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-security-policy")
            .is_some_and(|c| c.contains("default-src 'none'"))
    );
    assert!(
        page.body.contains("data-env=\"production\"")
            && !page.body.contains("data-env=\"staging\"")
    );
    assert!(!page.body.contains("id=\"app-web\""), "filtered to api");
    // Without JavaScript the page refreshes itself.
    assert!(
        page.body
            .contains("<noscript><meta http-equiv=\"refresh\" content=\"5\"></noscript>")
    );
    let history = get("/apps/web/staging");
    assert!(
        history.status == 200
            && history.body.contains("web in staging")
            && history.body.contains("rollback"),
        "{}",
        history.body
    );
    assert_eq!(get("/apps/web/nowhere").status, 404);
    // Drift: a hand edit on the manifest branch, put back by the next sync, is named.
    let file = "clusters/prod/production/worker/deployment-worker.yaml";
    let hand = p.root.path().join("hand");
    let remote = p.repos.manifests.to_string_lossy().into_owned();
    git(
        p.root.path(),
        &["clone", "--quiet", &remote, &hand.to_string_lossy()],
    );
    let text = std::fs::read_to_string(hand.join(file)).unwrap();
    std::fs::write(hand.join(file), format!("{text}# hotfix by hand\n")).unwrap();
    git(&hand, &["commit", "--quiet", "-am", "hotfix by hand"]);
    git(&hand, &["push", "--quiet", "origin", "HEAD:main"]);
    let tip = git(&p.repos.config, &["rev-parse", "main"]);
    let pushed = post(
        &served,
        "push",
        "drift-1",
        &crate::serve::config_push(tip.trim()),
        SECRET,
    );
    assert_eq!(pushed.status, 202, "{}", pushed.body);
    assert!(
        crate::serve::wait_until(|| get("/").body.contains(file)),
        "the drift is not shown: {}",
        served.log_text()
    );
    assert!(get("/").body.contains("put back by the last sync"));
    // Markup from the config is escaped, never run.
    let hostile = get("/?app=%3Cscript%3Ealert(1)%3C/script%3E").body;
    assert!(
        hostile.contains("&lt;script&gt;alert(1)") && !hostile.contains("<script>alert(1)"),
        "{hostile}"
    );
    // Open event streams are capped: the 33rd is refused, and the page and the webhook
    // server keep answering while 32 are held open.
    let open_stream = || {
        use std::io::{Read as _, Write as _};
        let mut stream = std::net::TcpStream::connect(served.addr).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        write!(stream, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).unwrap();
        (String::from_utf8_lossy(&head).into_owned(), stream)
    };
    let held: Vec<_> = (0..32).map(|_| open_stream()).collect();
    assert!(
        held.iter().all(|(head, _)| head.ends_with("200")),
        "{:?}",
        held.iter().map(|h| &h.0).collect::<Vec<_>>()
    );
    assert!(open_stream().0.ends_with("503"));
    assert_eq!(get("/").status, 200);
    assert_eq!(get("/healthz").status, 200);
    drop(held);
    // --dashboard off: no page.
    let off = p.start("serve-off", &["--dashboard", "off"]);
    assert!(crate::serve::wait_until(|| off
        .request("GET", "/status", &[], b"")
        .status
        == 200));
    assert_eq!(off.request("GET", "/", &[], b"").status, 404);
    assert_eq!(off.request("GET", "/status", &[], b"").status, 200);
    // Behind the admin token like /status: refused without it, shown with it.
    let token = p.root.path().join("admin.token");
    std::fs::write(&token, "dash-token\n").unwrap();
    let guarded = p.start(
        "serve-guarded",
        &["--admin-token-file", token.to_str().unwrap()],
    );
    assert_eq!(guarded.request("GET", "/", &[], b"").status, 401);
    let bearer = [("authorization", "Bearer dash-token".to_string())];
    assert!(crate::serve::wait_until(|| guarded
        .request("GET", "/", &bearer, b"")
        .status
        == 200));
}

#[test]
fn glueops_dashboard_serves_the_page_read_only() {
    let p = scripted_history();
    let before = (
        p.repos.manifest_commits(),
        glueops_testkit::repos::git(&p.repos.config, &["rev-parse", "main"]),
    );
    let port = glueops_testkit::free_port().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_glueops"))
        .args([
            "dashboard",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--refresh",
            "1s",
            "--config",
        ])
        .arg(&p.repos.config)
        .arg("--manifests")
        .arg(&p.repos.manifests)
        .arg("--cache")
        .arg(p.root.path().join("dashboard-cache"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let get = |path: &str| {
        glueops_testkit::serve::request(addr, "GET", path, &[], b"").map_or(0, |r| r.status)
    };
    let up = crate::serve::wait_until(|| get("/") == 200);
    let page = glueops_testkit::serve::request(addr, "GET", "/", &[], b"").map(|r| r.body);
    let hook = glueops_testkit::serve::request(addr, "POST", "/webhooks/github", &[], b"{}")
        .map_or(0, |r| r.status);
    let _ = child.kill();
    let _ = child.wait();
    assert!(up, "the dashboard did not answer");
    assert!(page.unwrap().contains("needs 1 more approval"));
    assert_eq!(hook, 404, "no webhook is taken");
    // It read the repositories and wrote nothing, although production waits for a sync.
    let after = (
        p.repos.manifest_commits(),
        glueops_testkit::repos::git(&p.repos.config, &["rev-parse", "main"]),
    );
    assert_eq!(before, after);
}
