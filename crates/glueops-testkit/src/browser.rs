//! A real browser for the tests: Debian's `chromium` (installed with its libraries by
//! `apt-get` on first use when the tests run as root), driven by `puppeteer-core` with
//! Node.js, with `axe-core` to check accessibility; both npm packages pinned in
//! `oracles.txt` and installed into `.venv/`.

use std::path::PathBuf;
use std::process::Command;

use crate::{Failure, oracle, workspace};

/// The chromium binary, installed first when it is missing (root only; otherwise the
/// failure says what to install).
pub fn chromium() -> Result<PathBuf, Failure> {
    let bin = PathBuf::from("/usr/bin/chromium");
    if bin.exists() {
        return Ok(bin);
    }
    let lock = workspace().join(".venv").join("chromium.lock");
    let _ = std::fs::create_dir_all(workspace().join(".venv"));
    let start = std::time::Instant::now();
    while std::fs::create_dir(&lock).is_err() {
        if bin.exists() {
            return Ok(bin);
        }
        if start.elapsed() > std::time::Duration::from_secs(900) {
            return Err(Failure(format!("timed out waiting for {}", lock.display())));
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let result = install();
    let _ = std::fs::remove_dir(&lock);
    result?;
    if bin.exists() {
        Ok(bin)
    } else {
        Err(Failure(
            "apt-get installed chromium but /usr/bin/chromium is missing".into(),
        ))
    }
}

fn install() -> Result<(), Failure> {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let hint = "install Debian's chromium: sudo apt-get install --no-install-recommends chromium fonts-dejavu-core";
    if !root {
        return Err(Failure(format!("chromium is not installed; {hint}")));
    }
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output()
            .map_err(|e| Failure(format!("apt-get: {e}; {hint}")))
    };
    let packages = [
        "install",
        "-y",
        "-qq",
        "--no-install-recommends",
        "chromium",
        "fonts-dejavu-core",
    ];
    let first = apt(&packages)?;
    if first.status.success() {
        return Ok(());
    }
    let _ = apt(&["update", "-qq"])?;
    let again = apt(&packages)?;
    if again.status.success() {
        Ok(())
    } else {
        Err(Failure(format!(
            "apt-get could not install chromium: {}; {hint}",
            String::from_utf8_lossy(&again.stderr)
        )))
    }
}

/// `node <script> <args>` with puppeteer-core and axe-core on its module path and
/// `CHROMIUM` and `AXE` in its environment.
pub fn node(script: &std::path::Path, args: &[String]) -> Result<Command, Failure> {
    let chromium = chromium()?;
    let puppeteer = oracle("puppeteer-core", "puppeteer-core/package.json");
    let axe = oracle("axe-core", "axe-core/axe.min.js");
    let modules = |p: &std::path::Path| {
        p.ancestors()
            .find(|a| a.ends_with("node_modules"))
            .map(PathBuf::from)
            .unwrap_or_default()
    };
    let mut cmd = Command::new("node");
    cmd.arg(script)
        .args(args)
        .env("NODE_PATH", modules(&puppeteer))
        .env("CHROMIUM", chromium)
        .env("AXE", axe);
    Ok(cmd)
}
