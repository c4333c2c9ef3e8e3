//! The value checks the model applies, for tools that take the same values from elsewhere
//! (a command line, a webhook): each returns a message that says what to write instead.
//!
//! ```
//! use glueops_model::check;
//! assert!(check::image_tag("1.4.2").is_ok());
//! assert!(check::image_tag("v1:latest").is_err());
//! assert_eq!(check::clock("09:30").unwrap(), 570);
//! assert_eq!(check::go_duration_seconds("168h").unwrap(), 604_800);
//! assert!(check::commit_id("4f2a9c1").is_ok());
//! assert!(check::commit_id("a b").is_err());
//! ```

use crate::Error;

/// An image tag (`1.4.2`, `sha-4f2a9c1`, `1.29.5@sha256:<hex>`).
pub fn image_tag(tag: &str) -> Result<(), Error> {
    crate::formats::check_tag(tag).map_err(Error::invalid)
}

/// A 24-hour clock time `HH:MM`, as minutes after midnight.
pub fn clock(time: &str) -> Result<u32, Error> {
    crate::formats::parse_clock(time).map_err(Error::invalid)
}

/// A Go duration (`168h`, `1h30m`), in whole seconds.
pub fn go_duration_seconds(duration: &str) -> Result<u64, Error> {
    crate::formats::go_duration_seconds(duration).map_err(Error::invalid)
}

/// A commit id: 7 to 64 hexadecimal digits (an abbreviated or full SHA-1 or SHA-256 id); a
/// pull request's head commit becomes a preview's image tag, so nothing else is taken.
pub fn commit_id(id: &str) -> Result<(), Error> {
    if (7..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "`{}` is not a commit id: give 7 to 64 hexadecimal digits (`git rev-parse HEAD`)",
            id.escape_debug()
        )))
    }
}

/// Whether objects of `kind` live outside namespaces: the built-in cluster-scoped kinds, and
/// by convention every `Cluster*` kind (ClusterRole, ClusterIssuer, ClusterSecretStore, ...).
///
/// ```
/// assert!(glueops_model::check::cluster_scoped("ClusterRoleBinding"));
/// assert!(!glueops_model::check::cluster_scoped("ConfigMap"));
/// ```
pub fn cluster_scoped(kind: &str) -> bool {
    kind.starts_with("Cluster")
        || matches!(
            kind,
            "Namespace"
                | "Node"
                | "PersistentVolume"
                | "StorageClass"
                | "PriorityClass"
                | "IngressClass"
                | "RuntimeClass"
                | "CSIDriver"
                | "CSINode"
                | "VolumeAttachment"
                | "CertificateSigningRequest"
                | "CustomResourceDefinition"
                | "APIService"
                | "ValidatingWebhookConfiguration"
                | "MutatingWebhookConfiguration"
                | "ValidatingAdmissionPolicy"
                | "ValidatingAdmissionPolicyBinding"
                | "MutatingAdmissionPolicy"
                | "MutatingAdmissionPolicyBinding"
                | "FlowSchema"
                | "PriorityLevelConfiguration"
        )
}
