use glueops_forge::{Call, Event, Forge, Host, Outbox, StatusState};

fn status(state: StatusState, description: &str) -> Call {
    status_of("glueops/prod", state, description)
}

fn status_of(context: &str, state: StatusState, description: &str) -> Call {
    Call::Status {
        host: Host::GitHub,
        repo: "acme/config".into(),
        sha: "0123456789abcdef0123456789abcdef01234567".into(),
        context: context.into(),
        state,
        description: description.into(),
        target_url: None,
    }
}

#[test]
fn a_newer_call_of_the_same_key_replaces_the_waiting_one_and_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(dir.path()).unwrap();
    outbox.put(&status(StatusState::Pending, "held")).unwrap();
    outbox
        .put(&status(StatusState::Success, "released"))
        .unwrap();
    let other = status_of("glueops/staging", StatusState::Success, "released");
    outbox.put(&other).unwrap();
    // A write that never finished (a kill between create and rename) is not a call.
    std::fs::write(dir.path().join("abc.json.7.tmp"), b"{").unwrap();
    let reopened = Outbox::open(dir.path()).unwrap();
    assert_eq!(
        reopened.calls().unwrap(),
        vec![status(StatusState::Success, "released"), other]
    );
    // Sequence numbers go on after a reopen: a new put is newer than what was left.
    reopened
        .put(&status(StatusState::Failure, "broken"))
        .unwrap();
    assert_eq!(
        reopened.calls().unwrap().last(),
        Some(&status(StatusState::Failure, "broken"))
    );
}

#[test]
fn a_file_that_is_not_a_call_is_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.json"), b"not json").unwrap();
    let e = Outbox::open(dir.path()).unwrap_err().to_string();
    assert!(
        e.contains("x.json") && e.contains("not a journaled call"),
        "{e}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn calls_for_a_host_without_a_client_wait_and_notifications_without_endpoints_vanish() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(dir.path()).unwrap();
    outbox
        .put(&status(StatusState::Success, "released"))
        .unwrap();
    outbox
        .put(&Call::Notify {
            event: Event {
                kind: "release".into(),
                summary: "released".into(),
                details: serde_json::Value::Null,
                id: "e1".into(),
            },
            endpoint: None,
        })
        .unwrap();
    let forge = Forge::new(None, None, Vec::new()).unwrap();
    // A caller that knows its clients journals neither.
    assert!(!forge.takes(&status(StatusState::Success, "released")));
    let report = outbox
        .deliver(&forge, jiff::Timestamp::now())
        .await
        .unwrap();
    assert_eq!((report.delivered, report.waiting), (0, 1));
    assert_eq!(
        outbox.calls().unwrap(),
        vec![status(StatusState::Success, "released")]
    );
}

#[tokio::test(flavor = "current_thread")]
async fn an_unreachable_notification_url_never_shows_in_the_error() {
    // Port 9 on loopback: nothing listens; the path is the credential of a Slack webhook.
    let endpoint =
        glueops_forge::Endpoint::parse("slack+http://127.0.0.1:9/services/T0/B0/SECRETPART", None)
            .unwrap();
    let id = endpoint.id();
    let forge = Forge::new(None, None, vec![endpoint]).unwrap();
    let call = Call::Notify {
        event: Event {
            kind: "release".into(),
            summary: "released".into(),
            details: serde_json::Value::Null,
            id: "e2".into(),
        },
        endpoint: Some(id),
    };
    let e = forge.apply(&call).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    let shown = format!("{e} {e:?}");
    assert!(
        !shown.contains("SECRETPART") && !shown.contains("/services/"),
        "{shown}"
    );
}
