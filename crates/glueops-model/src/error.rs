//! [`Error`]: what this crate's value checks and text readers refuse. Loading a repo reports
//! [`Diagnostics`](crate::Diagnostics) instead: every problem, located.

/// A value check or a text reader refused its input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A value that is not what its place takes; the message says what to write instead.
    #[error("{message}")]
    Invalid {
        /// What is wrong, and what to write instead.
        message: String,
    },
    /// Text that should be YAML is not.
    #[error("{what} is not YAML: {source}")]
    Yaml {
        /// Which text.
        what: &'static str,
        /// Where and why the YAML breaks.
        #[source]
        source: glueops_yaml::Error,
    },
}

impl Error {
    pub(crate) fn invalid(message: impl Into<String>) -> Error {
        Error::Invalid {
            message: message.into(),
        }
    }
}
