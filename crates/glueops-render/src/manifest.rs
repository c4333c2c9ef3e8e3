//! [`ManifestSet`]: rendered objects with their paths in the manifest repo, in a stable order,
//! and their deterministic YAML.

use std::collections::BTreeMap;

use crate::Error;
use crate::object::Object;

/// One object and the file it is written to.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// Path in the manifest repo, e.g. `clusters/prod/production/api/deployment-api.yaml`.
    pub path: String,
    /// The object.
    pub object: Object,
}

impl Manifest {
    /// The object as YAML (one document, ending with a newline).
    pub fn to_yaml(&self) -> Result<String, Error> {
        glueops_model::to_yaml(&self.object).map_err(|message| Error::Serialize {
            path: self.path.clone(),
            message,
        })
    }
}

/// Every rendered object, sorted by path; paths are unique.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManifestSet {
    manifests: Vec<Manifest>,
}

impl ManifestSet {
    /// A set of manifests; fails when two objects would share a file.
    pub fn new(mut manifests: Vec<Manifest>) -> Result<Self, Error> {
        manifests.sort_by(|a, b| a.path.cmp(&b.path));
        if let Some(w) = manifests.windows(2).find(|w| w[0].path == w[1].path) {
            return Err(Error::Collision {
                path: w[0].path.clone(),
            });
        }
        Ok(Self { manifests })
    }

    /// The manifests, sorted by path.
    pub fn iter(&self) -> impl Iterator<Item = &Manifest> {
        self.manifests.iter()
    }

    /// How many objects.
    pub fn len(&self) -> usize {
        self.manifests.len()
    }

    /// True when nothing was rendered.
    pub fn is_empty(&self) -> bool {
        self.manifests.is_empty()
    }

    /// Objects per kind.
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for m in &self.manifests {
            *counts.entry(m.object.kind()).or_insert(0) += 1;
        }
        counts
    }

    /// Every file: path → YAML, one object per file. Serializes on every available core.
    pub fn files(&self) -> Result<BTreeMap<String, String>, Error> {
        let parts = glueops_model::parallel::map_chunks(&self.manifests, |chunk| {
            chunk
                .iter()
                .map(|m| Ok((m.path.clone(), m.to_yaml()?)))
                .collect::<Result<Vec<_>, Error>>()
        });
        let mut files = BTreeMap::new();
        for part in parts {
            files.extend(part?);
        }
        Ok(files)
    }

    /// One `---`-separated stream of every object in path order, for `kubectl apply -f -`:
    /// the same bytes as [`stream`] of [`ManifestSet::files`], serialized on every available
    /// core without the files in between.
    pub fn stream(&self) -> Result<String, Error> {
        let parts = self.stream_parts()?;
        let mut out = String::with_capacity(parts.iter().map(String::len).sum());
        for part in &parts {
            out.push_str(part);
        }
        Ok(out)
    }

    /// [`ManifestSet::stream`] in consecutive parts (one per batch of objects serialized
    /// together), for writing out without joining them first.
    pub fn stream_parts(&self) -> Result<Vec<String>, Error> {
        glueops_model::parallel::map_chunks(&self.manifests, |chunk| {
            let mut out = String::with_capacity(chunk.len() * 1024);
            for m in chunk {
                out.push_str("---\n");
                glueops_model::append_yaml(&mut out, &m.object).map_err(|message| {
                    Error::Serialize {
                        path: m.path.clone(),
                        message,
                    }
                })?;
            }
            Ok(out)
        })
        .into_iter()
        .collect()
    }
}

/// Joins already serialized files (as [`ManifestSet::files`] returns them) into one
/// `---`-separated stream, in path order.
pub fn stream(files: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(files.values().map(|f| f.len() + 4).sum());
    for yaml in files.values() {
        out.push_str("---\n");
        out.push_str(yaml);
    }
    out
}
