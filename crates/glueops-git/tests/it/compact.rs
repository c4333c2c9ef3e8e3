//! Packing a clone's loose objects once they pile up, losing none (referenced or not).

use crate::support::{fsck, git};
use glueops_git::LocalRepo;
use glueops_testkit::repos::write_loose_blobs as loose_blobs;

#[test]
fn loose_objects_past_the_limit_are_packed_and_none_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clone.git");
    let repo = LocalRepo::init_bare(&path).unwrap();
    let ids = loose_blobs(&path, "first", 40);
    assert_eq!(repo.loose_object_count(), 40);
    // At or under the limit: nothing to do, nothing touched.
    assert!(!repo.pack_loose_objects(40).unwrap());
    assert_eq!(repo.loose_object_count(), 40);
    // Past it: one pack, no loose object left, every object still there (unreferenced too).
    let more = loose_blobs(&path, "second", 30);
    assert_eq!(repo.loose_object_count(), 70);
    assert!(repo.pack_loose_objects(40).unwrap());
    assert_eq!(repo.loose_object_count(), 0);
    for id in ids.iter().chain(&more) {
        assert_eq!(
            git(&path, &["cat-file", "-p", id]).lines().count(),
            1,
            "{id} was lost"
        );
    }
    // Again: the small packs roll up as loose objects come (geometric), none lost.
    let third = loose_blobs(&path, "third", 50);
    assert!(repo.pack_loose_objects(40).unwrap());
    assert_eq!(repo.loose_object_count(), 0);
    let count = git(&path, &["count-objects", "-v"]);
    assert!(count.contains("in-pack: 120"), "{count}");
    assert_eq!(git(&path, &["cat-file", "-p", &third[49]]), "third 49\n");
    // An open handle reads them from the pack.
    assert_eq!(repo.read_blob(&ids[0]).unwrap(), b"first 0\n");
    fsck(&path);
}
