//! Flag values that need more than parsing: durations, and secrets read from files.

use std::path::PathBuf;

use crate::error::Error;

/// A duration flag: `90`, `90s`, `5m`, `1h30m` (at least one second).
pub(crate) fn duration(text: &str) -> Result<std::time::Duration, String> {
    let seconds = if text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse::<u64>().map_err(|e| e.to_string())?
    } else {
        glueops::model::check::go_duration_seconds(text).map_err(|e| e.to_string())?
    };
    Ok(std::time::Duration::from_secs(seconds.max(1)))
}

/// The secret in the file `path` (its trailing newline dropped); an empty file is an error.
pub(crate) fn read_secret(path: &PathBuf) -> Result<String, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::File {
        path: path.clone(),
        source,
    })?;
    let secret = text.trim_end_matches(['\n', '\r']).to_string();
    if secret.is_empty() {
        return Err(Error::Invalid(format!(
            "{} is empty: put the secret in it",
            path.display()
        )));
    }
    Ok(secret)
}
