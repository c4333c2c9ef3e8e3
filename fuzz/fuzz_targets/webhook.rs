//! Verify + parse of arbitrary webhook deliveries: the first byte picks the host and event,
//! the rest is the body, signed correctly (so parsing is reached) or not.
#![no_main]

use glueops_git::{Headers, WebhookReceiver};
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;

const EVENTS: &[(&str, &str)] = &[
    ("X-GitHub-Event", "push"),
    ("X-GitHub-Event", "pull_request"),
    ("X-GitHub-Event", "package"),
    ("X-GitHub-Event", "registry_package"),
    ("X-GitHub-Event", "workflow_run"),
    ("X-GitHub-Event", "delete"),
    ("X-GitHub-Event", "ping"),
    ("X-GitHub-Event", "star"),
    ("X-Gitlab-Event", "Push Hook"),
    ("X-Gitlab-Event", "Tag Push Hook"),
    ("X-Gitlab-Event", "Merge Request Hook"),
    ("X-Gitlab-Event", "Pipeline Hook"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let (header, event) = EVENTS[selector as usize % EVENTS.len()];
    let signed = selector & 0x80 == 0;
    let signature = if signed {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"fuzz").unwrap();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    } else {
        String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned()
    };
    let headers = Headers::new([
        (header, event.to_string()),
        ("X-Hub-Signature-256", signature.clone()),
        ("X-Gitlab-Token", if signed { "fuzz".to_string() } else { signature }),
    ]);
    let receiver = WebhookReceiver::new().github_secret("fuzz").gitlab_token("fuzz").max_body(1 << 20);
    let _ = receiver.receive(&headers, body);
});
