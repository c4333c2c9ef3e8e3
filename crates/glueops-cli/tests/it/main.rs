//! The `glueops` binary end to end, as a user runs it. One test binary for the crate.
#![expect(
    clippy::too_many_lines,
    reason = "an end-to-end test reads as one story from setup to the last assert; library code keeps the 90-line limit"
)]
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "tests fail loudly: a panic with the value is the failure report"
)]

mod action;
mod action_runner;
mod cache;
mod credentials;
mod dashboard;
mod hostile;
mod images;
mod pull_requests;
mod render;
mod scenario;
mod secrets;
mod serve;
mod serve_backup;
mod serve_bump;
mod serve_faults;
mod serve_feedback;
mod serve_feedback_faults;
mod serve_feedback_gitlab;
mod serve_load;
mod serve_notify;
mod serve_surface;
mod serve_trust;
mod serve_verification;
mod tolerance;
mod validate;
mod workflows;

use std::path::PathBuf;
use std::process::{Command, Output};

/// The demo config repo of the examples package.
fn demo() -> PathBuf {
    glueops_testkit::workspace().join("examples/demo-config")
}

/// Runs `glueops` with `args`.
fn glueops(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_glueops"))
        .args(args)
        .output()
        .unwrap()
}

/// A copy of the demo repo to break.
fn demo_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let copied = Command::new("cp")
        .arg("-r")
        .arg(demo())
        .arg(&repo)
        .status()
        .unwrap();
    assert!(copied.success());
    (dir, repo)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
