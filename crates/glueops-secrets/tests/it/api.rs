//! Paths, URLs, keys and redaction: the parts of the API that need no backend.

use glueops_secrets::{
    AuditLog, Error, Identities, Recipients, SecretData, SecretPath, SecretValue, StoreUrl, open,
};

#[test]
fn paths_follow_the_app_name_convention() {
    for ok in [
        "api/database",
        "a/b",
        "my-app/tls-cert-2",
        &format!("{}/x", "a".repeat(63)),
    ] {
        let p: SecretPath = ok.parse().unwrap();
        assert_eq!(p.to_string(), ok);
    }
    let cases = [
        ("database", "no `/`"),
        ("api/db/extra", "more than two parts"),
        ("/db", "app `` is empty"),
        ("api/", "name `` is empty"),
        ("Api/db", "characters other than"),
        ("api/db_1", "characters other than"),
        ("api/-db", "starts or ends with '-'"),
        ("../etc/passwd", "more than two parts"),
        ("../passwd", "characters other than"),
        (&format!("{}/x", "a".repeat(64)), "longer than 63"),
    ];
    for (bad, reason) in cases {
        let err = bad.parse::<SecretPath>().unwrap_err();
        assert!(matches!(err, Error::InvalidPath { .. }), "{bad}: {err}");
        assert!(
            err.to_string().contains(reason),
            "{bad}: `{err}` should say {reason}"
        );
        assert!(err.to_string().contains("<app>/<name>"), "{err}");
    }
}

#[test]
fn urls_parse_into_stores() {
    let r = "age1jpvwlce2zpd56gry2cksmgqvvu90504s9qyz7fldmnkld8rm5p0qdg36ql";
    assert_eq!(StoreUrl::parse("memory://").unwrap(), StoreUrl::Memory);
    assert_eq!(
        StoreUrl::parse(&format!("sops:///srv/secrets?recipient={r},{r}")).unwrap(),
        StoreUrl::Sops {
            dir: "/srv/secrets".into(),
            recipients: vec![r.into(), r.into()]
        }
    );
    assert_eq!(
        StoreUrl::parse("sops://relative/dir?recipient=x&recipient=y").unwrap(),
        StoreUrl::Sops {
            dir: "relative/dir".into(),
            recipients: vec!["x".into(), "y".into()]
        }
    );
    assert_eq!(
        StoreUrl::parse("awssm://eu-west-1?endpoint=http%3A%2F%2F127.0.0.1%3A5000").unwrap(),
        StoreUrl::Aws {
            region: "eu-west-1".into(),
            endpoint: Some("http://127.0.0.1:5000".into())
        }
    );
    assert_eq!(
        StoreUrl::parse("awssm://us-east-1").unwrap(),
        StoreUrl::Aws {
            region: "us-east-1".into(),
            endpoint: None
        }
    );
    assert_eq!(
        StoreUrl::parse("vault://vault.internal:8200/kv/").unwrap(),
        StoreUrl::Vault {
            address: "https://vault.internal:8200".into(),
            mount: "kv".into()
        }
    );
    for (bad, says) in [
        ("nope", "scheme"),
        ("ftp://x", "unknown scheme"),
        ("memory://x", "nothing after"),
        ("sops://", "give the folder"),
        ("awssm://", "give the region"),
        ("awssm://us-east-1?endpint=x", "unknown parameter `endpint`"),
        ("vault://host:8200", "mount"),
        ("vault://host:8200/", "mount"),
    ] {
        let err = StoreUrl::parse(bad).unwrap_err();
        assert!(matches!(err, Error::InvalidUrl { .. }), "{bad}: {err}");
        assert!(
            err.to_string().contains(says),
            "{bad}: `{err}` should say {says}"
        );
    }
}

#[tokio::test]
async fn open_memory_and_sops_urls() {
    let store = open("memory://", AuditLog::new(std::io::sink(), "t"))
        .await
        .unwrap();
    assert_eq!(store.backend(), "memory");
    let dir = tempfile::tempdir().unwrap();
    let key = Identities::generate();
    let r = key.recipients().keys().next().unwrap().to_string();
    let url = format!("sops://{}?recipient={r}", dir.path().display());
    let store = open(&url, AuditLog::new(std::io::sink(), "t"))
        .await
        .unwrap();
    assert_eq!(store.backend(), "sops");
    // Writing needs only the recipient.
    store
        .put(
            &"api/db".parse().unwrap(),
            &SecretData::new().with("k", "v"),
        )
        .await
        .unwrap();
    assert!(dir.path().join("api/db.yaml").exists());
    let err = open(
        "sops:///tmp/x?recipient=age1notakey",
        AuditLog::new(std::io::sink(), "t"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::InvalidAgeKey(_)), "{err}");
}

#[test]
fn keys_parse_and_never_print_private_halves() {
    let key = Identities::generate();
    let text = key.expose();
    assert!(text.starts_with("AGE-SECRET-KEY-1"));
    let again = Identities::parse(&format!("# created by test\n\n{}", text.as_str())).unwrap();
    assert_eq!(
        again.recipients().keys().collect::<Vec<_>>(),
        key.recipients().keys().collect::<Vec<_>>()
    );
    let shown = format!("{key:?}");
    assert!(
        shown.contains("age1") && !shown.contains("AGE-SECRET-KEY"),
        "{shown}"
    );
    assert!(
        Identities::parse("not a key")
            .unwrap_err()
            .to_string()
            .contains("line 1")
    );
    assert!(Identities::parse("# only a comment").is_err());
    assert!(
        Recipients::parse(["age1bogus"])
            .unwrap_err()
            .to_string()
            .contains("age1bogus")
    );
    assert!(Recipients::parse(Vec::<String>::new()).is_err());
}

#[test]
fn values_are_redacted_everywhere() {
    let v = SecretValue::new("correct horse battery");
    assert_eq!(format!("{v}"), "[redacted]");
    assert_eq!(format!("{v:?}"), "[redacted]");
    let data = SecretData::new().with("password", "correct horse battery");
    assert!(!format!("{data:?}").contains("correct"), "{data:?}");
    assert_eq!(v.expose(), "correct horse battery");
    assert_eq!(v, SecretValue::new("correct horse battery"));
    assert_ne!(v, SecretValue::new("correct horse batterY"));
}
