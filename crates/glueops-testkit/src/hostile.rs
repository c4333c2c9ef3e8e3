//! Remotes that misbehave, for deadline tests: [`Gate`] is a TCP stand-in on 127.0.0.1 in
//! front of a real server (`git daemon`) that forwards connections while open and, while
//! closed, accepts them and never answers (a silent server, a hook that sleeps forever).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use crate::{Failure, Server};

/// A TCP stand-in: open, it forwards to `upstream`; closed, it holds every new connection
/// without a byte of answer until it is dropped or opened again.
#[derive(Debug)]
pub struct Gate {
    port: u16,
    open: Arc<AtomicBool>,
    held: Arc<Mutex<Vec<TcpStream>>>,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Gate {
    /// A gate on a free port of 127.0.0.1 in front of `127.0.0.1:upstream`, open.
    pub fn start(upstream: u16) -> Result<Gate, Failure> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| Failure(format!("cannot bind the gate: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| Failure(e.to_string()))?
            .port();
        let gate = Gate {
            port,
            open: Arc::new(AtomicBool::new(true)),
            held: Arc::default(),
            accepted: Arc::default(),
            stop: Arc::default(),
        };
        let (open, held, accepted, stop) = (
            Arc::clone(&gate.open),
            Arc::clone(&gate.held),
            Arc::clone(&gate.accepted),
            Arc::clone(&gate.stop),
        );
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                accepted.fetch_add(1, Ordering::SeqCst);
                if open.load(Ordering::SeqCst) {
                    forward(stream, upstream);
                } else {
                    held.lock().unwrap_or_else(|p| p.into_inner()).push(stream);
                }
            }
        });
        Ok(gate)
    }

    /// The port to point a remote at.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// New connections are held silently (those already forwarded go on).
    pub fn close(&self) {
        self.open.store(false, Ordering::SeqCst);
    }

    /// New connections are forwarded again; the held ones are dropped.
    pub fn open(&self) {
        self.open.store(true, Ordering::SeqCst);
        for s in self
            .held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.open();
        // Wake the accept loop so it sees `stop`.
        let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port));
    }
}

fn forward(client: TcpStream, upstream: u16) {
    let Ok(server) = TcpStream::connect((Ipv4Addr::LOCALHOST, upstream)) else {
        return;
    };
    let pipe = |mut from: TcpStream, mut to: TcpStream| {
        thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            loop {
                match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
            let _ = to.shutdown(Shutdown::Write);
        });
    };
    if let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) {
        pipe(client, s2);
        pipe(server, c2);
    }
}

/// `git daemon` serving the repositories under `root` (pushes enabled) on 127.0.0.1 and a
/// free port: `git://127.0.0.1:<port>/<path under root>`.
pub fn git_daemon(root: &std::path::Path) -> Result<Server, Failure> {
    let port = crate::free_port()?;
    let mut cmd = std::process::Command::new("git");
    cmd.args([
        "daemon",
        "--reuseaddr",
        "--listen=127.0.0.1",
        "--export-all",
        "--enable=receive-pack",
    ])
    .arg(format!("--port={port}"))
    .arg(format!("--base-path={}", root.display()))
    .arg(root);
    Server::start(
        "git daemon",
        cmd,
        port,
        Duration::from_secs(20),
        "git daemon ships with git (Debian package `git`)",
    )
}
