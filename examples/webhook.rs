//! Verify a webhook delivery and turn it into one event type, whichever host sent it: what a
//! server in front of glueops does with every request.
//!
//! `cargo run -p glueops-examples --example webhook`

use glueops::git::{Headers, RepoEvent, WebhookReceiver};
use hmac::{Hmac, Mac};

fn main() -> Result<(), glueops::git::Error> {
    let secret = "s3cret";
    // A real push payload GitHub sent (see crates/glueops-git/tests/fixtures/SOURCES.md).
    let body = include_bytes!("../crates/glueops-git/tests/fixtures/github/push/payload.json");

    // What GitHub sends: the event name, a delivery id, and an HMAC-SHA256 of the exact body.
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|_| glueops::git::Error::BadSignature { host: "github" })?;
    mac.update(body);
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let headers = Headers::new([
        ("X-GitHub-Event", "push"),
        ("X-GitHub-Delivery", "5b3a1a8e-cc78-11e3-81ab-4c9367dc0958"),
        ("X-Hub-Signature-256", signature.as_str()),
    ]);

    // Size cap, signature (constant time), replay window, then parse.
    let receiver = WebhookReceiver::new().github_secret(secret);
    let delivery = receiver.receive(&headers, body)?;
    match &delivery.event {
        RepoEvent::Push(push) => println!(
            "push to {} {} at {}: {} commit(s) by {}",
            push.repo.full_name,
            push.git_ref,
            push.after,
            push.commits.len(),
            push.pusher
        ),
        other => println!("{other:?}"),
    }

    // The same delivery again is a replay, and refused.
    match receiver.receive(&headers, body) {
        Err(e) => println!("again: {e}"),
        Ok(_) => println!("again: accepted (unexpected)"),
    }
    Ok(())
}
