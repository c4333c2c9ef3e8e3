//! A server that cannot start fails loudly, saying what to install.

use std::process::Command;
use std::time::Duration;

use glueops_testkit::{Server, free_port, requirement};

#[test]
fn a_missing_program_names_what_to_install() {
    let port = free_port().unwrap();
    let err = Server::start(
        "ghost",
        Command::new("/nonexistent/ghost-server"),
        port,
        Duration::from_secs(2),
        "Install it with: pip install ghost",
    )
    .unwrap_err();
    assert!(err.to_string().contains("pip install ghost"), "{err}");
}

#[test]
fn a_server_that_exits_or_never_listens_fails() {
    let port = free_port().unwrap();
    let mut exits = Command::new("sh");
    exits.args(["-c", "echo broken config >&2; exit 3"]);
    let err = Server::start("quitter", exits, port, Duration::from_secs(5), "hint-1").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("exited") && text.contains("hint-1") && text.contains("broken config"),
        "{text}"
    );

    let mut idle = Command::new("sleep");
    idle.arg("30");
    let err =
        Server::start("sleeper", idle, port, Duration::from_millis(300), "hint-2").unwrap_err();
    assert!(err.to_string().contains("did not listen"), "{err}");
}

#[test]
fn every_oracle_is_pinned() {
    for name in ["kubernetes-validate", "checkov", "moto", "openbao", "sops"] {
        let spec = requirement(name).unwrap();
        assert!(spec.contains("=="), "{name} must be pinned: {spec}");
    }
    assert!(requirement("nope").is_err());
}

#[test]
fn ports_handed_out_in_parallel_never_overlap() {
    let runs: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|_| s.spawn(|| glueops_testkit::free_ports(2).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut ports: Vec<u16> = runs.iter().flat_map(|&p| [p, p + 1]).collect();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), 32, "two runs of two ports overlap: {runs:?}");
    for port in ports {
        std::net::TcpListener::bind(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("port {port} was handed out but is not free: {e}"));
    }
    assert!(
        !runs.contains(&free_port().unwrap()),
        "a port was handed out twice"
    );
}

#[test]
fn ports_are_handed_out_outside_the_ephemeral_range() {
    // An outgoing connection may take any port of the ephemeral range the moment a free
    // port is released, before the server binds it.
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap();
    let range: Vec<u16> = text
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    for _ in 0..20 {
        let port = glueops_testkit::free_ports(2).unwrap();
        for p in [port, port + 1] {
            assert!(
                p < range[0] || p > range[1],
                "port {p} lies in the ephemeral range {range:?}"
            );
        }
    }
}
