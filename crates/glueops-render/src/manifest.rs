//! [`ManifestSet`]: rendered objects with their paths in the manifest repo, in a stable order,
//! and their deterministic YAML.

use std::collections::BTreeMap;

use glueops_files::Files;
use rayon::prelude::*;

use crate::Error;

/// Fewest objects one parallel job serializes: below this, handing work to another thread
/// costs more than it saves.
const MIN_PER_JOB: usize = 32;

/// Batches handed out per thread: items differ in cost, so threads take small batches as they
/// go and finish together.
const BATCHES_PER_THREAD: usize = 8;

/// How many of `len` items one parallel batch takes, at least `min`.
pub(crate) fn batch_size(len: usize, min: usize) -> usize {
    len.div_ceil(rayon::current_num_threads() * BATCHES_PER_THREAD)
        .max(min)
}
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
        glueops_yaml::to_string(&self.object).map_err(|source| Error::Serialize {
            path: self.path.clone(),
            source,
        })
    }
}

/// Every rendered object, sorted by path; paths are unique.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManifestSet {
    manifests: Vec<Manifest>,
}

impl ManifestSet {
    /// A set of manifests; fails when two objects would share a file. (A path that would leave
    /// the manifest repo fails [`ManifestSet::files`], which checks every path once.)
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
    pub fn counts(&self) -> BTreeMap<&str, usize> {
        let mut counts = BTreeMap::new();
        for m in &self.manifests {
            *counts.entry(m.object.kind()).or_insert(0) += 1;
        }
        counts
    }

    /// Every file: path → YAML, one object per file. Serializes on every available core.
    pub fn files(&self) -> Result<Files, Error> {
        let texts: Vec<(String, String)> = self
            .manifests
            .par_iter()
            .with_min_len(MIN_PER_JOB)
            .map(|m| Ok((m.path.clone(), m.to_yaml()?)))
            .collect::<Result<_, Error>>()?;
        Ok(Files::try_from_iter(texts)?)
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
        let batch = self
            .manifests
            .len()
            .div_ceil(rayon::current_num_threads() * BATCHES_PER_THREAD)
            .max(MIN_PER_JOB);
        self.manifests
            .par_chunks(batch)
            .map(|chunk| {
                let mut out = String::with_capacity(chunk.len() * 1024);
                for m in chunk {
                    out.push_str("---\n");
                    glueops_yaml::append(&mut out, &m.object).map_err(|source| {
                        Error::Serialize {
                            path: m.path.clone(),
                            source,
                        }
                    })?;
                }
                Ok(out)
            })
            .collect()
    }
}

/// Joins already serialized files (as [`ManifestSet::files`] returns them) into one
/// `---`-separated stream, in path order.
pub fn stream(files: &Files) -> Vec<u8> {
    let mut out = Vec::with_capacity(files.total_bytes() + 4 * files.len());
    for (_, yaml) in files.iter() {
        out.extend_from_slice(b"---\n");
        out.extend_from_slice(yaml);
    }
    out
}
