//! A real OCI registry for the tests: Debian's `docker-registry` (the CNCF distribution
//! server, pinned in `oracles.txt`) on 127.0.0.1, anonymous, with htpasswd auth, or behind a
//! token server this module runs (RS256 tokens by a test key, the registry trusting its
//! certificate). Images are pushed through the registry's own API, as `docker push` does.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use sha2::{Digest as _, Sha256};

use crate::forge_http::{Answer, HttpServer, Request};
use crate::{Failure, Server, free_port, oracle};

/// The user and password of the htpasswd and token-server registries.
pub const USER: &str = "glueops";
/// See [`USER`].
pub const PASSWORD: &str = "registry-test-password";
const TOKEN_KEY: &str = include_str!("../fixtures/registry-token-key.pem");
const TOKEN_CERT: &str = include_str!("../fixtures/registry-token-cert.pem");
const HTPASSWD: &str = include_str!("../fixtures/registry.htpasswd");
const SERVICE: &str = "glueops-test-registry";
const ISSUER: &str = "glueops-test-token-issuer";

/// How the registry asks for credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Anyone may pull and push.
    Anonymous,
    /// `Basic` with [`USER`] and [`PASSWORD`].
    Htpasswd,
    /// `Bearer` tokens from a token server that wants [`USER`] and [`PASSWORD`].
    Token,
}

/// A running registry with its storage; stopped and removed on drop.
#[derive(Debug)]
pub struct TestRegistry {
    server: Option<Server>,
    port: u16,
    dir: PathBuf,
    auth: Auth,
    token_server: Option<HttpServer>,
    /// The scopes the token server was asked for, in order.
    pub scopes: Arc<Mutex<Vec<String>>>,
    tokens: Arc<AtomicUsize>,
}

impl TestRegistry {
    /// Starts a registry on a free port of 127.0.0.1.
    pub fn start(auth: Auth) -> Result<TestRegistry, Failure> {
        let port = free_port()?;
        let dir =
            std::env::temp_dir().join(format!("glueops-registry-{}-{port}", std::process::id()));
        std::fs::create_dir_all(dir.join("data"))
            .map_err(|e| Failure(format!("{}: {e}", dir.display())))?;
        let scopes = Arc::new(Mutex::new(Vec::new()));
        let tokens = Arc::new(AtomicUsize::new(0));
        let token_server = match auth {
            Auth::Token => Some(token_server(Arc::clone(&scopes), Arc::clone(&tokens))?),
            _ => None,
        };
        let mut registry = TestRegistry {
            server: None,
            port,
            dir,
            auth,
            token_server,
            scopes,
            tokens,
        };
        registry.write_config()?;
        registry.resume()?;
        Ok(registry)
    }

    fn write_config(&self) -> Result<(), Failure> {
        let write = |name: &str, text: &str| {
            std::fs::write(self.dir.join(name), text)
                .map_err(|e| Failure(format!("{}: {e}", self.dir.display())))
        };
        let auth = match (&self.auth, &self.token_server) {
            (Auth::Htpasswd, _) => {
                write("htpasswd", HTPASSWD)?;
                format!(
                    "auth: {{htpasswd: {{realm: glueops-test, path: {}}}}}\n",
                    self.dir.join("htpasswd").display()
                )
            }
            (Auth::Token, Some(server)) => {
                write("token-cert.pem", TOKEN_CERT)?;
                format!(
                    "auth: {{token: {{realm: '{}/token', service: {SERVICE}, issuer: {ISSUER}, rootcertbundle: {}}}}}\n",
                    server.url(),
                    self.dir.join("token-cert.pem").display()
                )
            }
            _ => String::new(),
        };
        write(
            "config.yml",
            &format!(
                "version: 0.1\nlog: {{level: error, accesslog: {{disabled: true}}}}\nstorage: {{filesystem: {{rootdirectory: {}}}, delete: {{enabled: true}}}}\nhttp: {{addr: 127.0.0.1:{}}}\n{auth}",
                self.dir.join("data").display(),
                self.port
            ),
        )
    }

    /// Stops the registry process (its storage stays): requests to it now fail.
    pub fn pause(&mut self) {
        self.server = None;
    }

    /// Starts the registry process again on the same port and storage.
    pub fn resume(&mut self) -> Result<(), Failure> {
        let binary = oracle("docker-registry", "usr/bin/docker-registry");
        let mut command = Command::new(binary);
        command.arg("serve").arg(self.dir.join("config.yml"));
        self.server = Some(Server::start(
            "docker-registry",
            command,
            self.port,
            Duration::from_secs(30),
            "install Debian's docker-registry package",
        )?);
        Ok(())
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// How many tokens the token server handed out.
    pub fn tokens_issued(&self) -> usize {
        self.tokens.load(Ordering::SeqCst)
    }

    /// A Docker `config.json` with the test credentials for this registry.
    pub fn docker_config(&self) -> String {
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
        serde_json::json!({"auths": {self.host(): {"auth": auth}}}).to_string()
    }

    /// Pushes an image for `linux/<arch>` built at `created` (RFC 3339) as `repo:tag`; its
    /// manifest digest.
    pub fn push(&self, repo: &str, tag: &str, created: &str) -> Result<String, Failure> {
        self.push_image(repo, Some(tag), created, "amd64")
    }

    /// Pushes a multi-arch image as `repo:tag`: an image index of `linux/amd64` (built at
    /// `created`), `linux/arm64` (a day older) and an attestation; the index's digest.
    pub fn push_index(&self, repo: &str, tag: &str, created: &str) -> Result<String, Failure> {
        let day_before = created
            .parse::<jiff::Timestamp>()
            .map_err(|e| Failure(e.to_string()))?
            .checked_sub(jiff::SignedDuration::from_hours(24))
            .map_err(|e| Failure(e.to_string()))?
            .to_string();
        let arm = self.push_image(repo, None, &day_before, "arm64")?;
        let amd = self.push_image(repo, None, created, "amd64")?;
        let entry = |digest: &str, os: &str, arch: &str| serde_json::json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": 1, "platform": {"os": os, "architecture": arch}});
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [entry(&arm, "unknown", "unknown"), entry(&arm, "linux", "arm64"), entry(&amd, "linux", "amd64")],
        });
        self.put_manifest(repo, tag, "application/vnd.oci.image.index.v1+json", &index)
    }

    /// Pushes `count` tags (`tag(i)`) of one image built at `created`, in one go.
    pub fn push_many(
        &self,
        repo: &str,
        tags: impl IntoIterator<Item = String>,
        created: &str,
    ) -> Result<(), Failure> {
        let digest = self.push_image(repo, None, created, "amd64")?;
        let manifest = self.get(
            &format!("/v2/{repo}/manifests/{digest}"),
            "application/vnd.oci.image.manifest.v1+json",
        )?;
        let manifest: serde_json::Value =
            serde_json::from_slice(&manifest).map_err(|e| Failure(e.to_string()))?;
        for tag in tags {
            self.put_manifest(
                repo,
                &tag,
                "application/vnd.oci.image.manifest.v1+json",
                &manifest,
            )?;
        }
        Ok(())
    }

    /// Deletes the manifest `digest` of `repo` (and every tag pointing to it).
    pub fn delete(&self, repo: &str, digest: &str) -> Result<(), Failure> {
        let reply = self.call(
            "DELETE",
            &format!("/v2/{repo}/manifests/{digest}"),
            &[],
            &[],
        )?;
        expect(&reply, 202, "delete manifest")
    }

    fn push_image(
        &self,
        repo: &str,
        tag: Option<&str>,
        created: &str,
        arch: &str,
    ) -> Result<String, Failure> {
        let layer = format!("layer of {repo} {created} {arch}").into_bytes();
        let layer_digest = self.put_blob(repo, &layer)?;
        let config = serde_json::json!({
            "created": created, "architecture": arch, "os": "linux",
            "config": {}, "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        });
        let config = config.to_string().into_bytes();
        let config_digest = self.put_blob(repo, &config)?;
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": layer.len()}],
        });
        let bytes = manifest.to_string().into_bytes();
        let digest = sha256(&bytes);
        self.put_manifest(
            repo,
            tag.unwrap_or(&digest),
            "application/vnd.oci.image.manifest.v1+json",
            &manifest,
        )
    }

    fn put_blob(&self, repo: &str, bytes: &[u8]) -> Result<String, Failure> {
        let digest = sha256(bytes);
        let reply = self.call("POST", &format!("/v2/{repo}/blobs/uploads/"), &[], &[])?;
        expect(&reply, 202, "start blob upload")?;
        let location = reply
            .header("location")
            .ok_or_else(|| Failure("no upload Location".into()))?;
        let path = location
            .strip_prefix(&format!("http://{}", self.host()))
            .unwrap_or(&location)
            .to_string();
        let separator = if path.contains('?') { '&' } else { '?' };
        let reply = self.call(
            "PUT",
            &format!("{path}{separator}digest={digest}"),
            &[("content-type", "application/octet-stream".into())],
            bytes,
        )?;
        expect(&reply, 201, "finish blob upload")?;
        Ok(digest)
    }

    fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        manifest: &serde_json::Value,
    ) -> Result<String, Failure> {
        let bytes = manifest.to_string().into_bytes();
        let reply = self.call(
            "PUT",
            &format!("/v2/{repo}/manifests/{reference}"),
            &[("content-type", media_type.to_string())],
            &bytes,
        )?;
        expect(&reply, 201, "put manifest")?;
        Ok(sha256(&bytes))
    }

    fn get(&self, path: &str, accept: &str) -> Result<Vec<u8>, Failure> {
        let reply = self.call("GET", path, &[("accept", accept.to_string())], &[])?;
        expect(&reply, 200, "get")?;
        Ok(reply.body)
    }

    /// One request with push rights (the test's credentials, or a push token).
    fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<Reply, Failure> {
        let mut headers = headers.to_vec();
        match self.auth {
            Auth::Anonymous => {}
            Auth::Htpasswd => headers.push((
                "authorization",
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
                ),
            )),
            Auth::Token => {
                let repo = path
                    .trim_start_matches("/v2/")
                    .split("/blobs/")
                    .next()
                    .unwrap_or_default();
                let repo = repo.split("/manifests/").next().unwrap_or_default();
                headers.push((
                    "authorization",
                    format!("Bearer {}", token(repo, &["pull", "push", "delete"])?),
                ));
            }
        }
        request(self.port, method, path, &headers, body)
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        self.server = None;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The token server: `GET /token?service=…&scope=repository:NAME:ACTIONS` with the test's
/// basic credentials answers a token for those actions; anything else 401.
fn token_server(
    scopes: Arc<Mutex<Vec<String>>>,
    issued: Arc<AtomicUsize>,
) -> Result<HttpServer, Failure> {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
    );
    let handler = move |r: &Request| -> Answer {
        if r.path != "/token" || r.param("service") != Some(SERVICE) {
            return Answer::json(404, serde_json::json!({"error": "unknown"}));
        }
        if r.header("authorization") != Some(expected.as_str()) {
            return Answer::json(401, serde_json::json!({"error": "credentials"}));
        }
        let scope = r.param("scope").unwrap_or_default().to_string();
        scopes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(scope.clone());
        let mut parts = scope.splitn(3, ':');
        let (Some("repository"), Some(name), Some(actions)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Answer::json(400, serde_json::json!({"error": "scope"}));
        };
        let actions: Vec<&str> = actions.split(',').collect();
        match token(name, &actions) {
            Ok(t) => {
                issued.fetch_add(1, Ordering::SeqCst);
                Answer::json(200, serde_json::json!({"token": t, "expires_in": 300}))
            }
            Err(e) => Answer::json(500, serde_json::json!({"error": e.0})),
        }
    };
    HttpServer::start(Arc::new(handler)).map_err(|e| Failure(format!("token server: {e}")))
}

/// A registry token for `actions` on repository `name`, signed by the test issuer's key.
fn token(name: &str, actions: &[&str]) -> Result<String, Failure> {
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let der = TOKEN_CERT
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>();
    let now = jiff::Timestamp::now().as_second();
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5c": [der]});
    let claims = serde_json::json!({
        "iss": ISSUER, "sub": USER, "aud": SERVICE, "exp": now + 300, "nbf": now - 60, "iat": now,
        "jti": format!("{name}-{now}-{}", actions.join("-")),
        "access": [{"type": "repository", "name": name, "actions": actions}],
    });
    let signed = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let key = rsa::RsaPrivateKey::from_pkcs1_pem(TOKEN_KEY).map_err(|e| Failure(e.to_string()))?;
    let signature = rsa::pkcs1v15::SigningKey::<Sha256>::new(key)
        .sign(signed.as_bytes())
        .to_bytes();
    Ok(format!("{signed}.{}", b64(&signature)))
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// An HTTP answer.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

fn expect(reply: &Reply, status: u16, what: &str) -> Result<(), Failure> {
    if reply.status == status {
        Ok(())
    } else {
        Err(Failure(format!(
            "{what}: the registry answered {}: {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        )))
    }
}

/// One HTTP/1.1 request to 127.0.0.1:`port` (`Connection: close`; chunked answers decoded).
fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> Result<Reply, Failure> {
    use std::io::{Read as _, Write as _};
    let fail = |e: std::io::Error| Failure(format!("{method} {path}: {e}"));
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(fail)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(fail)?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).map_err(fail)?;
    stream.write_all(body).map_err(fail)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(fail)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| Failure(format!("{method} {path}: no HTTP answer")))?;
    let text = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = text.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Failure(format!("{method} {path}: no status")))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        body = unchunk(&body);
    }
    Ok(Reply {
        status,
        headers,
        body,
    })
}

fn unchunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = raw.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&raw[..end]).trim(), 16).unwrap_or(0);
        if size == 0 || raw.len() < end + 2 + size {
            break;
        }
        out.extend_from_slice(&raw[end + 2..end + 2 + size]);
        raw = &raw[(end + 4 + size).min(raw.len())..];
    }
    out
}
