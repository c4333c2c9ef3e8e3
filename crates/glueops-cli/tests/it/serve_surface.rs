//! `glueops serve`'s HTTP surface against clients that misbehave: headers or a body that
//! never arrive, more idle connections than it serves, unsigned event types and forged
//! delivery ids meant for the metrics and the log, and anonymous callers of the operators'
//! routes. Each test has its positive control: the well-behaved request beside it works.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use glueops_testkit::serve::{Served, request};

use super::serve::{Platform, SECRET, post, pull_request, wait_until};

/// Reads until the server closes the connection or `limit` passes; what it sent.
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    (
        String::from_utf8_lossy(&raw).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn slow_clients_are_cut_off_and_idle_connections_never_starve_the_server() {
    let p = Platform::new();
    let served = p.start(
        "cache",
        &[
            "--resync",
            "1h",
            "--request-timeout",
            "2s",
            "--max-connections",
            "4",
        ],
    );
    // Headers that never finish: the connection is closed at the deadline.
    let mut slow = TcpStream::connect(served.addr).unwrap();
    slow.write_all(b"POST /webhooks/github HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let (_, took) = read_until_closed(&mut slow, Duration::from_secs(20));
    assert!(
        took < Duration::from_secs(8),
        "slow headers held the connection {took:?}"
    );
    // A declared 25 MB body never sent: 408 at the deadline.
    let mut silent = TcpStream::connect(served.addr).unwrap();
    silent
        .write_all(b"POST /webhooks/github HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\nContent-Length: 25000000\r\n\r\n{")
        .unwrap();
    let (answer, took) = read_until_closed(&mut silent, Duration::from_secs(20));
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(took < Duration::from_secs(8), "{took:?}");
    // A keep-alive connection that made one request and then idles is closed at the deadline
    // too (it would otherwise hold one of the few connections for good).
    let mut kept = TcpStream::connect(served.addr).unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (answer, took) = read_until_closed(&mut kept, Duration::from_secs(20));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        took < Duration::from_secs(8),
        "an idle keep-alive connection held {took:?}"
    );
    // Four idle connections fill the server; they are dropped at the deadline and the next
    // request is served (while they hold it, it waits in the backlog).
    let idle: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(served.addr).unwrap())
        .collect();
    let started = Instant::now();
    let healthz = served.request("GET", "/healthz", &[], b"");
    assert_eq!(healthz.status, 200, "{}", healthz.body);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    drop(idle);
    // Positive control: a signed delivery is still accepted at once.
    let ok = post(
        &served,
        "pull_request",
        "after-slow",
        &pull_request("opened", 3, &"a".repeat(40)),
        SECRET,
    );
    assert_eq!(ok.status, 202, "{}", ok.body);
}

#[test]
fn metrics_labels_and_log_fields_are_never_chosen_by_the_sender() {
    let p = Platform::new();
    let served = p.start("cache", &["--resync", "1h"]);
    for n in 0..20 {
        let forged = served.request(
            "POST",
            "/webhooks/github",
            &[
                ("X-GitHub-Event", format!("random-{n}")),
                ("X-GitHub-Delivery", format!("d{n}")),
            ],
            b"{}",
        );
        assert_eq!(forged.status, 401);
    }
    let evil_id = "x\" outcome=applied reason=\"forged";
    let signed_unknown = served.request(
        "POST",
        "/webhooks/github",
        &[
            ("X-GitHub-Event", "made_up_event".into()),
            ("X-GitHub-Delivery", evil_id.into()),
            (
                "X-Hub-Signature-256",
                glueops_testkit::serve::github_signature(SECRET, b"{}"),
            ),
        ],
        b"{}",
    );
    assert_eq!(signed_unknown.status, 202, "{}", signed_unknown.body);
    let metrics = served.request("GET", "/metrics", &[], b"").body;
    assert!(!metrics.contains("random-"), "{metrics}");
    assert!(
        metrics.contains("type=\"unverified\",outcome=\"rejected\"} 20"),
        "{metrics}"
    );
    assert!(metrics.contains("type=\"unknown\""), "{metrics}");
    super::serve::promtool_accepts(&metrics);
    let log = served.log_json();
    assert!(
        log.iter()
            .any(|l| l["delivery"] == "invalid" && l["event"] == "unknown"),
        "{}",
        served.log_text()
    );
    assert!(
        !served.log_text().contains("forged"),
        "{}",
        served.log_text()
    );
    // Positive control: a real event type and id are logged and counted as they are.
    let ok = post(
        &served,
        "pull_request",
        "real-id-1",
        &pull_request("opened", 4, &"b".repeat(40)),
        SECRET,
    );
    assert_eq!(ok.status, 202, "{}", ok.body);
    assert!(
        served
            .wait_log(Duration::from_secs(30), |l| l
                .contains("\"delivery\":\"real-id-1\""))
            .is_some()
    );
    let metrics = served.request("GET", "/metrics", &[], b"").body;
    assert!(
        metrics.contains("type=\"pull_request\",outcome=\"accepted\"} 1"),
        "{metrics}"
    );
}

#[test]
fn operators_routes_live_apart_or_behind_a_token_and_readyz_tells_no_secrets() {
    let p = Platform::new();
    let token = p.root.path().join("admin.token");
    std::fs::write(&token, "let-me-in\n").unwrap();
    let admin_port = glueops_testkit::free_port().unwrap();
    let admin_addr = format!("127.0.0.1:{admin_port}");
    let token_arg = token.to_string_lossy().into_owned();
    let args = p.args(
        "cache",
        &[
            "--resync",
            "1h",
            "--admin-listen",
            &admin_addr,
            "--admin-token-file",
            &token_arg,
        ],
    );
    let served = Served::start(Path::new(env!("CARGO_BIN_EXE_glueops")), &args);
    assert!(wait_until(|| served
        .request("GET", "/readyz", &[], b"")
        .status
        == 200));
    let admin = admin_addr.parse().unwrap();
    // Not on the public address at all; on the admin address only with the token.
    assert_eq!(served.request("GET", "/status", &[], b"").status, 404);
    assert_eq!(served.request("GET", "/metrics", &[], b"").status, 404);
    assert_eq!(
        request(admin, "GET", "/status", &[], b"").unwrap().status,
        401
    );
    let wrong = [("Authorization", "Bearer let-me-out".to_string())];
    assert_eq!(
        request(admin, "GET", "/metrics", &wrong, b"")
            .unwrap()
            .status,
        401
    );
    let right = [("Authorization", "Bearer let-me-in".to_string())];
    assert!(wait_until(|| request(admin, "GET", "/status", &right, b"")
        .unwrap()
        .status
        == 200));
    assert_eq!(
        request(admin, "GET", "/metrics", &right, b"")
            .unwrap()
            .status,
        200
    );
    // /readyz names reachability and a reason code, nothing else.
    let ready: serde_json::Value =
        serde_json::from_str(&served.request("GET", "/readyz", &[], b"").body).unwrap();
    let keys: Vec<&str> = ready
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "configReachable",
            "lastSyncOk",
            "manifestsReachable",
            "reason"
        ]
    );
}
