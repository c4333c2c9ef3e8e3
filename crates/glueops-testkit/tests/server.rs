//! A server that cannot start fails loudly, saying what to install.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

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
