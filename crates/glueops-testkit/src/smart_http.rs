//! A git host over HTTP that wants credentials: git's own `git http-backend` (smart HTTP,
//! fetch and push) behind HTTP basic authentication, on 127.0.0.1. Every request without the
//! expected `Authorization` is answered 401, as GitHub and GitLab do; what each request sent
//! is kept, so a test can check the credentials reached the host and nothing else did.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use base64::Engine as _;

use crate::Failure;

/// The running host; it stops serving when dropped (its thread ends with the process).
#[derive(Debug)]
pub struct SmartHttp {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl SmartHttp {
    /// Serves the repositories under `root` to clients that authenticate as `user` with
    /// `password`.
    pub fn start(root: &Path, user: &str, password: &str) -> Result<SmartHttp, Failure> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| Failure(format!("cannot bind the git host: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| Failure(e.to_string()))?
            .port();
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        );
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let (root, log) = (root.to_path_buf(), Arc::clone(&seen));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (root, expected, log) = (root.clone(), expected.clone(), Arc::clone(&log));
                std::thread::spawn(move || {
                    let _ = serve(stream, &root, &expected, &log);
                });
            }
        });
        Ok(SmartHttp { port, seen })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether a request carried exactly these basic credentials.
    pub fn saw_credentials(&self, user: &str, password: &str) -> bool {
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        );
        self.requests()
            .iter()
            .any(|r| r.rsplit(" | ").next() == Some(expected.as_str()))
    }

    /// Each request's line and the `Authorization` header it carried (`-` for none).
    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

fn serve(
    stream: TcpStream,
    root: &Path,
    expected: &str,
    log: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let request = line.trim_end().to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim_end().is_empty() {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let auth = header("authorization");
    log.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(format!("{request} | {}", auth.as_deref().unwrap_or("-")));
    let mut out = stream;
    if auth.as_deref() != Some(expected) {
        return out.write_all(
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
    }
    let length: usize = header("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let mut parts = request.split(' ');
    let (method, target) = (parts.next().unwrap_or("GET"), parts.next().unwrap_or("/"));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut child = Command::new("git")
        .arg("http-backend")
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REMOTE_USER", "glueops-test")
        .env("REQUEST_METHOD", method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("CONTENT_TYPE", header("content-type").unwrap_or_default())
        .env("CONTENT_LENGTH", length.to_string())
        .env(
            "HTTP_CONTENT_ENCODING",
            header("content-encoding").unwrap_or_default(),
        )
        .env("GIT_PROTOCOL", header("git-protocol").unwrap_or_default())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(&body)?;
    }
    let cgi = child.wait_with_output()?.stdout;
    let split = cgi
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| (at, 4))
        .or_else(|| cgi.windows(2).position(|w| w == b"\n\n").map(|at| (at, 2)));
    let Some((at, gap)) = split else {
        return out.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
    };
    let head = String::from_utf8_lossy(&cgi[..at]).into_owned();
    let status = head
        .lines()
        .find_map(|l| l.strip_prefix("Status:"))
        .map_or("200 OK".to_string(), |s| s.trim().to_string());
    let mut response = format!("HTTP/1.1 {status}\r\n");
    for l in head.lines().filter(|l| !l.starts_with("Status:")) {
        response.push_str(l.trim_end());
        response.push_str("\r\n");
    }
    let content = &cgi[at + gap..];
    response.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        content.len()
    ));
    out.write_all(response.as_bytes())?;
    out.write_all(content)
}
