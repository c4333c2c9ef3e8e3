//! Keeping a clone glueops owns packed: every small fetch and every commit leaves loose
//! objects, and thousands of them make each connectivity check of a later fetch or push read
//! that many files. Fetches run with git's auto-maintenance off (a process per fetch), so the
//! clone is compacted here instead, when its loose objects pass a limit.

use std::path::Path;

use super::LocalRepo;
use crate::error::Result;
use crate::run::git;

/// Loose objects a clone may hold before [`LocalRepo::pack_loose_objects`] packs them: a
/// few dozen releases' worth; packing that many takes git a few milliseconds.
pub const LOOSE_LIMIT: usize = 256;

/// The loose objects under `objects/` (the two-hex-digit folders only).
fn loose_objects(objects: &Path) -> usize {
    let Ok(dirs) = std::fs::read_dir(objects) else {
        return 0;
    };
    dirs.flatten()
        .filter(|d| {
            let name = d.file_name();
            let name = name.to_string_lossy();
            name.len() == 2 && name.bytes().all(|b| b.is_ascii_hexdigit())
        })
        .map(|d| std::fs::read_dir(d.path()).map_or(0, |files| files.count()))
        .sum()
}

impl LocalRepo {
    /// How many loose objects the repository holds.
    pub fn loose_object_count(&self) -> usize {
        loose_objects(&self.with_gix(|r| r.common_dir().join("objects")))
    }

    /// Packs the loose objects once there are more than `limit`: `git repack -d --geometric=2`
    /// rolls them and the small packs into one, keeping the number of packs logarithmic in
    /// the objects held. Nothing is pruned; git removes only loose objects and packs whose
    /// objects are in the new pack, so readers and writers at the same time are safe. `true`
    /// when it packed.
    pub fn pack_loose_objects(&self, limit: usize) -> Result<bool> {
        if self.loose_object_count() <= limit {
            return Ok(false);
        }
        git(
            Some(self.path()),
            &[
                "repack",
                "-d",
                "-q",
                "--geometric=2",
                "--no-write-bitmap-index",
            ],
        )?;
        Ok(true)
    }
}
