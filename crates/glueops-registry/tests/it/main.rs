//! Against a real registry: Debian's docker-registry (the CNCF distribution server) on
//! 127.0.0.1, anonymous, with htpasswd auth and behind a token server; the faults a real
//! registry will not produce on demand (429, hostile `Link`) against a loopback stand-in.
#![expect(
    clippy::unwrap_used,
    reason = "tests fail loudly: a panic with the value is the failure report"
)]

use std::sync::Arc;
use std::time::Duration;

use glueops_registry::{Credentials, Error, Image, Registries, Settings};
use glueops_testkit::forge_http::{Answer, HttpServer};
use glueops_testkit::registry::{Auth, PASSWORD, TestRegistry};

fn client(credentials: Credentials) -> Registries {
    Registries::new(Settings {
        credentials,
        timeout: Duration::from_secs(5),
        ..Settings::default()
    })
    .unwrap()
}

fn image(registry: &TestRegistry, repo: &str) -> Image {
    Image::new(Some(&registry.host()), repo).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn tags_digests_and_creation_times_come_from_the_registry() {
    let registry = TestRegistry::start(Auth::Anonymous).unwrap();
    let pushed = registry
        .push("acme/api", "1.4.0", "2026-11-01T10:00:00Z")
        .unwrap();
    registry
        .push("acme/api", "1.5.0", "2026-12-01T10:00:00.123456789Z")
        .unwrap();
    let c = client(Credentials::default());
    let api = image(&registry, "acme/api");
    let mut tags = c.tags(&api).await.unwrap();
    tags.sort();
    assert_eq!(tags, ["1.4.0", "1.5.0"]);
    let m = c.manifest(&api, "1.4.0").await.unwrap();
    assert_eq!(m.digest, pushed);
    assert_eq!(m.created.unwrap().to_string(), "2026-11-01T10:00:00Z");
    assert_eq!(c.digest(&api, "1.4.0").await.unwrap(), pushed);
    // A multi-arch image: the index's digest, the linux/amd64 image's creation time.
    let index = registry
        .push_index("acme/api", "2.0.0", "2026-12-05T08:00:00Z")
        .unwrap();
    let m = c.manifest(&api, "2.0.0").await.unwrap();
    assert_eq!(m.digest, index);
    assert_eq!(m.created.unwrap().to_string(), "2026-12-05T08:00:00Z");
    // A tag that disappears is "not found", not a transport failure.
    registry.delete("acme/api", &pushed).unwrap();
    let gone = c.manifest(&api, "1.4.0").await.unwrap_err();
    assert!(gone.is_not_found() && !gone.is_transient(), "{gone}");
    let unknown = c.tags(&image(&registry, "acme/nothing")).await.unwrap_err();
    assert!(unknown.is_not_found(), "{unknown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_tags_are_read_from_the_registry_in_one_request() {
    // docker-registry 2.8.2 answers every tag at once (it ignores `n`; distribution 3 pages).
    let registry = TestRegistry::start(Auth::Anonymous).unwrap();
    let tags: Vec<String> = (0..1000).map(|i| format!("1.0.{i}")).collect();
    registry
        .push_many("acme/many", tags.clone(), "2026-12-01T00:00:00Z")
        .unwrap();
    let c = client(Credentials::default());
    let mut read = c.tags(&image(&registry, "acme/many")).await.unwrap();
    read.sort();
    let mut want = tags;
    want.sort();
    assert_eq!(read, want);
    assert_eq!(c.requests(), 1);
}

/// A registry that pages its tags as the distribution spec says: at most `n` per answer, then
/// `Link: </v2/<name>/tags/list?n=<n>&last=<last tag>>; rel="next"` (distribution 3, Harbor,
/// GHCR, ECR). docker-registry 2.8.2 does not page, so this stand-in does.
fn paging_registry(tags: Vec<String>) -> HttpServer {
    stand_in(move |r| {
        let n: usize = r
            .param("n")
            .and_then(|n| n.parse().ok())
            .unwrap_or(tags.len())
            .min(100);
        let start = r
            .param("last")
            .and_then(|last| tags.iter().position(|t| t == last))
            .map_or(0, |i| i + 1);
        let page: Vec<&String> = tags.iter().skip(start).take(n).collect();
        let mut headers = Vec::new();
        if start + n < tags.len() {
            let last = page.last().map(|t| t.as_str()).unwrap_or_default();
            headers.push((
                "Link".into(),
                format!("</v2/acme/api/tags/list?n={n}&last={last}>; rel=\"next\""),
            ));
        }
        Answer {
            status: 200,
            headers,
            body: serde_json::json!({"name": "acme/api", "tags": page}),
        }
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_tags_are_read_across_link_pages() {
    let tags: Vec<String> = (0..1000).map(|i| format!("main-{i:04}")).collect();
    // The registry caps pages at 100 whatever glueops asks for: the Link is followed.
    let server = paging_registry(tags.clone());
    let c = client(Credentials::default());
    let host = server.addr().to_string();
    let read = c
        .tags(&Image::new(Some(&host), "acme/api").unwrap())
        .await
        .unwrap();
    assert_eq!(read, tags);
    assert_eq!(c.requests(), 10, "one request per page");
}

#[tokio::test(flavor = "multi_thread")]
async fn htpasswd_registries_take_the_docker_config_credentials_and_refuse_others() {
    let registry = TestRegistry::start(Auth::Htpasswd).unwrap();
    registry
        .push("acme/api", "1.0.0", "2026-12-01T00:00:00Z")
        .unwrap();
    let api = image(&registry, "acme/api");
    // Positive control: the credentials of a docker login work.
    let creds = Credentials::from_docker_config(registry.docker_config().as_bytes()).unwrap();
    let c = client(creds);
    assert_eq!(c.tags(&api).await.unwrap(), ["1.0.0"]);
    // Without credentials: a clear error saying what to give.
    let none = client(Credentials::default()).tags(&api).await.unwrap_err();
    assert!(
        matches!(none, Error::Auth { .. }) && none.to_string().contains("--registry-auth-file"),
        "{none}"
    );
    // Wrong ones: refused, and the error does not show them.
    let mut wrong = Credentials::default();
    wrong.insert(
        &registry.host(),
        "glueops".into(),
        "not-the-password".into(),
    );
    let refused = client(wrong).tags(&api).await.unwrap_err().to_string();
    assert!(
        refused.contains("refused") && !refused.contains("not-the-password"),
        "{refused}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn token_registries_hand_out_pull_tokens_that_are_kept() {
    let registry = TestRegistry::start(Auth::Token).unwrap();
    registry
        .push("acme/api", "1.0.0", "2026-12-01T00:00:00Z")
        .unwrap();
    let api = image(&registry, "acme/api");
    let creds = Credentials::from_docker_config(registry.docker_config().as_bytes()).unwrap();
    let c = client(creds);
    let issued = registry.tokens_issued();
    assert_eq!(c.tags(&api).await.unwrap(), ["1.0.0"]);
    let m = c.manifest(&api, "1.0.0").await.unwrap();
    assert!(m.created.is_some());
    // One token for the repository, asked for pull only, kept for the next calls.
    assert_eq!(registry.tokens_issued(), issued + 1);
    let scopes = registry.scopes.lock().unwrap().clone();
    assert_eq!(
        scopes.last().map(String::as_str),
        Some("repository:acme/api:pull")
    );
    // The token server refuses anonymous requests: the error says what to give.
    let anonymous = client(Credentials::default()).tags(&api).await.unwrap_err();
    assert!(
        anonymous.to_string().contains("--registry-auth-file"),
        "{anonymous}"
    );
    assert!(!format!("{anonymous:?}").contains(PASSWORD));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registry_that_is_down_is_a_transient_failure_and_comes_back() {
    let mut registry = TestRegistry::start(Auth::Anonymous).unwrap();
    registry
        .push("acme/api", "1.0.0", "2026-12-01T00:00:00Z")
        .unwrap();
    let api = image(&registry, "acme/api");
    let c = client(Credentials::default());
    registry.pause();
    let down = c.tags(&api).await.unwrap_err();
    assert!(down.is_transient(), "{down}");
    registry.resume().unwrap();
    assert_eq!(c.tags(&api).await.unwrap(), ["1.0.0"]);
}

fn stand_in(
    answer: impl Fn(&glueops_testkit::forge_http::Request) -> Answer + Send + Sync + 'static,
) -> HttpServer {
    HttpServer::start(Arc::new(answer)).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_keep_their_retry_after_and_hostile_links_are_not_followed() {
    let limited = stand_in(|_| Answer {
        status: 429,
        headers: vec![("Retry-After".into(), "7".into())],
        body: serde_json::json!({"errors": [{"code": "TOOMANYREQUESTS", "message": "slow down"}]}),
    });
    let c = client(Credentials::default());
    let host = limited.addr().to_string();
    let e = c
        .tags(&Image::new(Some(&host), "acme/api").unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)), "{e}");
    assert!(
        e.is_transient() && e.to_string().contains("slow down"),
        "{e}"
    );
    // A Link to another host would take the repository's token there: refused.
    let elsewhere = stand_in(|_| Answer {
        status: 200,
        headers: vec![(
            "Link".into(),
            "<http://198.51.100.7/v2/acme/api/tags/list?last=b>; rel=\"next\"".into(),
        )],
        body: serde_json::json!({"name": "acme/api", "tags": ["a", "b"]}),
    });
    let host = elsewhere.addr().to_string();
    let e = c
        .tags(&Image::new(Some(&host), "acme/api").unwrap())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("another host"), "{e}");
    // A challenge whose realm is plain HTTP on another host: credentials are not sent there.
    let realm = stand_in(|_| Answer {
        status: 401,
        headers: vec![(
            "WWW-Authenticate".into(),
            "Bearer realm=\"http://198.51.100.7/token\",service=\"x\"".into(),
        )],
        body: serde_json::Value::Null,
    });
    let host = realm.addr().to_string();
    let mut creds = Credentials::default();
    creds.insert(&host, "u".into(), "p".into());
    let e = client(creds)
        .tags(&Image::new(Some(&host), "acme/api").unwrap())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not HTTPS"), "{e}");
}
