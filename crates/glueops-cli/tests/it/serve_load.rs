//! `glueops serve` under load: 1,000 signed deliveries from 8 concurrent clients into a queue
//! of 32. No answer but 202, 200 or 503 (a full queue); every accepted delivery applied
//! exactly once; p50/p99 from request to applied (pushed) reported from the server's log.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::serve::{Platform, SECRET, config_push, post, pull_request, wait_until};

const CLIENTS: u64 = 8;
const PRS_PER_CLIENT: u64 = 10;
const ROUNDS: u64 = 12;
const PUSHES_PER_CLIENT: u64 = 5;

#[test]
fn a_thousand_deliveries_from_eight_clients_are_each_applied_once() {
    let p = Platform::new();
    let served = p.start("cache", &["--resync", "1h", "--queue", "32"]);
    let config = glueops_testkit::repos::git(&p.repos.config, &["rev-parse", "main"])
        .trim()
        .to_string();
    let started = Instant::now();
    let results: Vec<(u64, u64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (served, config) = (&served, &config);
                scope.spawn(move || {
                    let (mut accepted, mut busy) = (0u64, 0u64);
                    let mut send = |event: &str, id: String, body: Vec<u8>| loop {
                        let r = post(served, event, &id, &body, SECRET);
                        match r.status {
                            202 => {
                                accepted += 1;
                                return;
                            }
                            503 => {
                                assert_eq!(r.header("retry-after"), Some("5"));
                                busy += 1;
                                // Sooner than Retry-After asks, to keep the test short.
                                std::thread::sleep(Duration::from_millis(20));
                            }
                            other => panic!("{id}: {other} {}", r.body),
                        }
                    };
                    for round in 0..ROUNDS {
                        for k in 0..PRS_PER_CLIENT {
                            let n = 1000 + c * 100 + k;
                            let action = if round == 0 { "opened" } else { "synchronize" };
                            let sha = format!("{c}{k:02}{round:02}").repeat(8);
                            send(
                                "pull_request",
                                format!("c{c}-pr{n}-r{round}"),
                                pull_request(action, n, &sha[..40]),
                            );
                        }
                        if round < PUSHES_PER_CLIENT {
                            send("push", format!("c{c}-push{round}"), config_push(config));
                        }
                    }
                    (accepted, busy)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let accepted: u64 = results.iter().map(|r| r.0).sum();
    let busy: u64 = results.iter().map(|r| r.1).sum();
    let total = CLIENTS * (PRS_PER_CLIENT * ROUNDS + PUSHES_PER_CLIENT);
    assert_eq!((total, accepted), (1000, 1000));

    // Every delivery applied exactly once (one log line each), and in the ledger.
    let applied = || {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for line in served.log_json() {
            if line["message"] == "delivery" && line["outcome"] == "applied" {
                *seen
                    .entry(line["delivery"].as_str().unwrap_or_default().to_string())
                    .or_default() += 1;
            }
        }
        seen
    };
    assert!(
        wait_until(|| applied().len() == 1000),
        "applied {} of 1000:\n{}",
        applied().len(),
        served.log_text()
    );
    let elapsed = started.elapsed();
    let seen = applied();
    assert!(
        seen.values().all(|&n| n == 1),
        "applied twice: {:?}",
        seen.iter().filter(|e| *e.1 > 1).collect::<Vec<_>>()
    );
    let ledger: Value =
        serde_json::from_str(&p.manifest(&["show", "glueops-ledger:ledger.json"]).unwrap())
            .unwrap();
    assert_eq!(ledger["deliveries"].as_object().unwrap().len(), 1000);

    // Each pull request's preview runs its last commit.
    for c in 0..CLIENTS {
        for k in 0..PRS_PER_CLIENT {
            let n = 1000 + c * 100 + k;
            let sha = format!("{c}{k:02}{:02}", ROUNDS - 1).repeat(8);
            let dir = format!("clusters/nonprod/previews/web-pr-{n}");
            assert!(
                p.manifest(&["grep", "-q", &sha[..40], "main", "--", &dir])
                    .is_some(),
                "{dir} is not at its last commit"
            );
        }
    }

    // The queue stayed bounded: full-queue refusals happened and were counted.
    let metrics = served.request("GET", "/metrics", &[], b"").body;
    let refused: u64 = metrics
        .lines()
        .filter(|l| {
            l.starts_with("glueops_webhook_events_total{") && l.contains("outcome=\"refused\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert_eq!(refused, busy, "503s answered and counted differ");
    let mut latencies: Vec<f64> = served
        .log_json()
        .iter()
        .filter(|l| l["message"] == "delivery" && l["outcome"] == "applied")
        .filter_map(|l| l["latency_ms"].as_f64())
        .collect();
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
    eprintln!(
        "load: 1000 deliveries from {CLIENTS} clients in {:.1} s; 503 (queue of 32 full): {busy}; request to applied: p50 {:.0} ms, p99 {:.0} ms",
        elapsed.as_secs_f64(),
        at(0.5),
        at(0.99)
    );
    super::serve::promtool_accepts(&metrics);
    p.repos.fsck();
}
