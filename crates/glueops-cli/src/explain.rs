//! `glueops explain`: one deployment's merged values with the provenance of every leaf.

use std::path::Path;

use glueops::model::{PreviewRef, Repo, explain};

use crate::error::Error;

pub(crate) fn run(repo: &Path, app: &str, env: &str) -> Result<(), Error> {
    let repo = Repo::load(repo).map_err(Error::Config)?;
    let text = match PreviewRef::in_place_of_env(app, env) {
        Some(preview) => {
            let preview = preview.map_err(|e| Error::Invalid(e.to_string()))?;
            let instance = repo
                .preview(&preview.app, preview.number)
                .map_err(Error::Config)?;
            explain(&instance.tree)
        }
        None => explain(repo.effective_values(app, env).ok_or_else(|| {
            let known: Vec<String> = repo
                .deployments()
                .map(|d| format!("{} {}", d.app, d.environment().unwrap_or_default()))
                .collect();
            Error::Invalid(format!(
                "`{app}` is not deployed to `{env}`; deployments: {}",
                known.join(", ")
            ))
        })?),
    };
    print!("{text}");
    Ok(())
}
