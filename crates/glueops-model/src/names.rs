//! Kubernetes name rules.

/// Longest DNS-1123 label (namespace, Service and most object names).
pub const MAX_LABEL: usize = 63;

/// True when `s` is a DNS-1123 label: lowercase alphanumerics and `-`, starting and ending
/// with an alphanumeric, at most 63 characters.
pub fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_LABEL
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// The name an app's objects take from its folder, as GlueOps derives it: lowercase, with `_`
/// and `.` as `-` (folders are named after source repositories, `Demo.ap-p_x`).
///
/// ```
/// assert_eq!(glueops_model::names::app_object_name("Demo.ap-p_x"), "demo-ap-p-x");
/// assert_eq!(glueops_model::names::app_object_name("web"), "web");
/// ```
pub fn app_object_name(folder: &str) -> String {
    folder.to_ascii_lowercase().replace(['_', '.'], "-")
}

/// True when `s` is a DNS-1123 subdomain: dot-separated labels, at most 253 characters.
pub fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// Explains why `s` is not a DNS label, for help texts.
pub(crate) fn label_help(s: &str) -> String {
    let fixed: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .trim_matches('-')
        .to_string();
    if fixed.is_empty() || fixed.len() > MAX_LABEL {
        "use lowercase letters, digits and `-`, starting and ending with a letter or digit, at most 63 characters".to_string()
    } else {
        format!("use lowercase letters, digits and `-`, e.g. `{fixed}`")
    }
}

/// True when `s` is a valid environment variable name (`[A-Za-z_][A-Za-z0-9_]*`).
pub fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// True when `s` is a valid ConfigMap or Secret key (`[-._a-zA-Z0-9]+`, at most 253).
pub fn is_config_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert!(is_dns_label("api"));
        assert!(is_dns_label("a-1"));
        assert!(!is_dns_label("Api"));
        assert!(!is_dns_label("-api"));
        assert!(!is_dns_label("api_v2"));
        assert!(!is_dns_label(&"a".repeat(64)));
        assert!(is_dns_subdomain("api.example.com"));
        assert!(!is_dns_subdomain("api..com"));
        assert_eq!(
            label_help("My_App"),
            "use lowercase letters, digits and `-`, e.g. `my-app`"
        );
        assert!(is_env_name("LOG_LEVEL") && !is_env_name("1X") && !is_env_name("A-B"));
    }
}
