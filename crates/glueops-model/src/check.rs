//! The value checks the model applies, for tools that take the same values from elsewhere
//! (a command line, a webhook): each returns a message that says what to write instead.
//!
//! ```
//! use glueops_model::check;
//! assert!(check::image_tag("1.4.2").is_ok());
//! assert!(check::image_tag("v1:latest").is_err());
//! assert_eq!(check::clock("09:30"), Ok(570));
//! assert_eq!(check::go_duration_seconds("168h"), Ok(604_800));
//! ```

/// An image tag (`1.4.2`, `sha-4f2a9c1`, `1.29.5@sha256:<hex>`).
pub fn image_tag(tag: &str) -> Result<(), String> {
    crate::formats::check_tag(tag)
}

/// A 24-hour clock time `HH:MM`, as minutes after midnight.
pub fn clock(time: &str) -> Result<u32, String> {
    crate::formats::parse_clock(time)
}

/// A Go duration (`168h`, `1h30m`), in whole seconds.
pub fn go_duration_seconds(duration: &str) -> Result<u64, String> {
    crate::formats::go_duration_seconds(duration)
}
