//! Notifications: `--notify` sends a Slack-compatible message and a signed JSON event on
//! release, hold and failure, each event once per endpoint, also across a restart.

use std::sync::{Arc, Mutex};

use glueops_testkit::forge_http::{Answer, HttpServer, Request};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::serve::{OUTSIDE, Platform, SECRET, config_push, post, wait_outcome, wait_until};

const SIGNING: &str = "the notification secret";

/// A receiver of notifications on 127.0.0.1: every request, in order.
fn receiver() -> (HttpServer, Arc<Mutex<Vec<Request>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&seen);
    let server = HttpServer::start(Arc::new(move |r: &Request| {
        keep.lock().unwrap().push(r.clone());
        Answer::json(200, Value::Null)
    }))
    .unwrap();
    (server, seen)
}

fn kinds(seen: &Mutex<Vec<Request>>, path: &str) -> Vec<String> {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|r| r.path == path)
        .map(|r| r.header("x-glueops-event").unwrap_or_default().to_string())
        .collect()
}

#[test]
fn releases_holds_and_failures_are_notified_once_signed_and_in_slack_form() {
    let p = Platform::new();
    let (server, seen) = receiver();
    let secret = p.root.path().join("notify.secret");
    std::fs::write(&secret, format!("{SIGNING}\n")).unwrap();
    let urls = p.root.path().join("notify.urls");
    std::fs::write(
        &urls,
        format!("# the team channel\nslack+{}/slack\n", server.url()),
    )
    .unwrap();
    let hook = format!("{}/hook", server.url());
    let (secret, urls) = (
        secret.to_string_lossy().into_owned(),
        urls.to_string_lossy().into_owned(),
    );
    let args = [
        "--resync",
        "1h",
        "--notify",
        hook.as_str(),
        "--notify-file",
        urls.as_str(),
        "--notify-secret-file",
        secret.as_str(),
    ];
    let mut served = p.start("cache", &args);
    // The start pass released everything.
    assert!(
        wait_until(|| kinds(&seen, "/hook") == ["release"]),
        "{:?}",
        kinds(&seen, "/hook")
    );
    assert!(wait_until(|| kinds(&seen, "/slack") == ["release"]));
    {
        let all = seen.lock().unwrap();
        let json = all.iter().find(|r| r.path == "/hook").unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(SIGNING.as_bytes()).unwrap();
        mac.update(&json.body);
        let want = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(json.header("x-glueops-signature-256"), Some(want.as_str()));
        let event: Value = serde_json::from_slice(&json.body).unwrap();
        assert_eq!(event["kind"], "release");
        assert!(
            event["summary"].as_str().unwrap().contains("web"),
            "{event}"
        );
        assert_eq!(event["id"].as_str(), json.header("x-glueops-delivery"));
        let slack = all.iter().find(|r| r.path == "/slack").unwrap();
        assert!(
            slack.header("x-glueops-signature-256").is_none(),
            "Slack checks no signature"
        );
        let message: Value = serde_json::from_slice(&slack.body).unwrap();
        assert_eq!(message["text"], event["summary"]);
        assert_eq!(message["blocks"][0]["text"]["type"], "mrkdwn");
    }

    // Saturday: a production change is held.
    p.set_clock(OUTSIDE);
    p.repos.change_config("api production: debug logs", |w| {
        let f = w.join("apps/api/envs/production/values.yaml");
        let text = std::fs::read_to_string(&f).unwrap();
        std::fs::write(&f, text.replace("value: info", "value: debug")).unwrap();
    });
    let sha = glueops_testkit::repos::git(&p.repos.config, &["rev-parse", "main"])
        .trim()
        .to_string();
    post(&served, "push", "held", &config_push(&sha), SECRET);
    wait_outcome(&served, "held", "applied");
    assert!(
        wait_until(|| kinds(&seen, "/hook") == ["release", "hold"]),
        "{:?}",
        kinds(&seen, "/hook")
    );

    // A restart holds again (the level-triggered pass): the hold is not told twice.
    served.kill();
    let served = p.start("cache", &args);
    assert!(wait_until(|| served.log_text().contains("resync done")
        || served.log_text().contains("resync finished")));
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(kinds(&seen, "/hook"), ["release", "hold"]);

    // A config that does not validate is a failure, told once.
    p.repos.change_config("break it", |w| {
        let f = w.join("apps/api/envs/staging/values.yaml");
        let text = std::fs::read_to_string(&f).unwrap();
        std::fs::write(
            &f,
            text.replace("deployment: {", "deployment: {replicas: many, "),
        )
        .unwrap();
    });
    let broken = glueops_testkit::repos::git(&p.repos.config, &["rev-parse", "main"])
        .trim()
        .to_string();
    post(&served, "push", "broken", &config_push(&broken), SECRET);
    assert!(
        wait_until(|| kinds(&seen, "/hook") == ["release", "hold", "failure"]),
        "{:?}\n{}",
        kinds(&seen, "/hook"),
        served.log_text()
    );
    post(
        &served,
        "push",
        "broken-again",
        &config_push(&broken),
        SECRET,
    );
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(kinds(&seen, "/hook"), ["release", "hold", "failure"]);
    assert_eq!(kinds(&seen, "/slack"), ["release", "hold", "failure"]);
}
