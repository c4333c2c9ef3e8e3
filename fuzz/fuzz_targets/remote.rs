//! Repository strings and branch names, as a flag or a config file gives them: parsing never
//! panics, and nothing it accepts could reach git as an option, name a remote helper, or
//! print a password.
#![no_main]

use glueops_git::{Remote, check_branch, redact};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(remote) = Remote::parse(text) {
        let url = remote.url();
        assert!(!url.starts_with('-'), "{url}");
        assert!(!url.chars().any(char::is_control), "{url}");
        // git reads `<name>::<address>` as a remote helper only when `<name>` has no `/`.
        assert!(!url.split_once("::").is_some_and(|(t, _)| !t.contains('/')), "{url}");
        let shown = remote.to_string();
        assert_eq!(redact(&shown), shown, "a shown remote still holds credentials: {shown}");
    }
    if check_branch(text).is_ok() {
        assert!(!text.starts_with('-') && !text.contains("..") && !text.contains(' '), "{text}");
    }
    // Redacting is idempotent and never grows a text by more than its stars.
    let once = redact(text);
    assert_eq!(redact(&once), once);
});
