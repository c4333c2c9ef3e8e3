//! The command line's one error type: what a subcommand can fail with, and how it is printed.

use std::path::PathBuf;

use glueops::model::Diagnostics;

/// Why a subcommand failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// The config repo has problems: printed as they are, located.
    #[error("{0}")]
    Config(Diagnostics),
    /// Rendering failed.
    #[error(transparent)]
    Render(#[from] glueops::render::Error),
    /// Writing the manifest tree, or a loop command, failed.
    #[error(transparent)]
    Write(#[from] glueops::Error),
    /// A secret-store operation failed.
    #[error(transparent)]
    Secrets(#[from] glueops::secrets::Error),
    /// A file given on the command line could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The async runtime the secret stores need could not start.
    #[error("cannot start the async runtime for the secret store")]
    Runtime(#[source] std::io::Error),
    /// The arguments name something that does not exist, or do not fit together.
    #[error("{0}")]
    Invalid(String),
    /// Stdin held something other than what the command reads there. Only the position is
    /// kept: the parser's message quotes the value, which may be a secret.
    #[error(
        "stdin is not a JSON object of strings (line {line}, column {column}; the text is not shown: it may be a secret)"
    )]
    Stdin {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The webhook server failed.
    #[error(transparent)]
    Serve(#[from] glueops_serve::Error),
    /// A forge client or notification endpoint cannot be set up.
    #[error(transparent)]
    Forge(#[from] glueops::forge::Error),
    /// A registry cannot be read, or its credentials file used.
    #[error(transparent)]
    Registry(#[from] glueops::registry::Error),
    /// A result could not be printed as JSON.
    #[error("cannot print the result as JSON")]
    Json(#[source] serde_json::Error),
}

impl Error {
    /// The process exit code: 1 for errors and bad config (clap exits with 2 on usage
    /// errors before a subcommand runs).
    pub(crate) fn exit_code(&self) -> u8 {
        1
    }

    /// Prints the error and its causes to stderr (diagnostics as they are).
    pub(crate) fn report(&self) {
        if let Error::Config(diagnostics) | Error::Write(glueops::Error::Config(diagnostics)) = self
        {
            eprintln!("{diagnostics}");
            return;
        }
        let mut line = format!("error: {self}");
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            let text = c.to_string();
            if !line.contains(&text) {
                line.push_str(": ");
                line.push_str(&text);
            }
            cause = c.source();
        }
        eprintln!("{line}");
    }
}
