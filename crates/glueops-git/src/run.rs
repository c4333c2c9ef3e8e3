//! Running the `git` CLI (transport, and `repack`): every process has a deadline, is killed
//! with its children when it passes it, and is given remotes and refspecs only after
//! `--end-of-options`, so no string from outside is ever read as an option.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::remote::{ALLOWED_PROTOCOLS, DEFAULT_GIT_TIMEOUT, Remote, redact};

/// Runs `git <args>` (in `dir`, when given) with no remote, within the default deadline; its
/// stdout. For local commands only: every argument is glueops' own.
pub(crate) fn git(dir: Option<&Path>, args: &[&str]) -> Result<String> {
    let argv: Vec<OsString> = args.iter().map(OsString::from).collect();
    run(
        dir,
        &argv,
        &[("GIT_ALLOW_PROTOCOL", ALLOWED_PROTOCOLS.to_string())],
        DEFAULT_GIT_TIMEOUT,
    )
}

/// Runs `git <options> --end-of-options <remote> <operands>` (in `dir`, when given) within the
/// remote's deadline, with the remote's environment (allowed transports, credentials).
pub(crate) fn git_remote(
    dir: Option<&Path>,
    options: &[&str],
    remote: &Remote,
    operands: &[&str],
) -> Result<String> {
    let mut argv: Vec<OsString> = options.iter().map(OsString::from).collect();
    argv.push("--end-of-options".into());
    argv.push(remote.url().into());
    argv.extend(operands.iter().map(OsString::from));
    run(dir, &argv, &remote.environment(), remote.timeout())
}

fn shown(args: &[OsString]) -> String {
    let joined: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    redact(&joined.join(" "))
}

fn run(
    dir: Option<&Path>,
    args: &[OsString],
    env: &[(&'static str, String)],
    timeout: Duration,
) -> Result<String> {
    let mut cmd = Command::new("git");
    if let Some(dir) = dir {
        cmd.arg("-C").arg(dir);
    }
    // English messages: retries and "no such branch" are recognized by what git says.
    cmd.args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "")
        .env("SSH_ASKPASS", "")
        .env("LC_ALL", "C")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Its own process group: on a deadline, git and every helper it started (ssh,
    // git-remote-https, upload-pack) are killed together.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let child = cmd.spawn().map_err(|source| Error::GitMissing {
        args: shown(args),
        source,
    })?;
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::Builder::new()
        .name("git-wait".into())
        .spawn(move || {
            let _ignored = tx.send(child.wait_with_output());
        })
        .map_err(|source| Error::GitMissing {
            args: shown(args),
            source,
        })?;
    let out = match rx.recv_timeout(timeout) {
        Ok(out) => out,
        Err(_) => {
            kill_group(pid);
            // The pipes close as the group dies; a helper that left the group is not waited
            // for long.
            let _ignored = rx.recv_timeout(Duration::from_secs(5));
            drop(waiter);
            return Err(Error::GitTimeout {
                args: shown(args),
                after: timeout,
            });
        }
    };
    let _ignored = waiter.join();
    let out = out.map_err(|source| Error::GitMissing {
        args: shown(args),
        source,
    })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(Error::GitCommand {
            args: shown(args),
            stderr: redact(String::from_utf8_lossy(&out.stderr).trim()),
        })
    }
}

#[cfg(unix)]
fn kill_group(pid: u32) {
    if let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ignored = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

#[cfg(not(unix))]
fn kill_group(_pid: u32) {}
