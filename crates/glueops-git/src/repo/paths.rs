//! Paths inside a repository: checked before anything is written.

use crate::error::{Error, Result};

/// Splits a relative, `/`-separated path into components, checked by the rules every
/// [`glueops_files::Files`] path follows. An empty string is the root (no components).
pub(crate) fn components(path: &str) -> Result<Vec<&str>> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    glueops_files::check_path(path).map_err(|source| Error::InvalidPath {
        path: path.to_string(),
        source,
    })?;
    Ok(path.split('/').collect())
}
