//! Writing many new objects at once as one pack (version 2) with its index (version 2),
//! instead of one loose file per object: a rendered tree of 30,000 files is 60,000 objects,
//! and creating 60,000 files is most of the cost of a first commit.
//!
//! Objects are stored whole (no deltas), zlib level 1. The pack is renamed into place before
//! its index, and git (and gix) only see a pack once its index exists, so a crash leaves at
//! most an unused temp file.

use std::io::Write;
use std::path::Path;

use gix::ObjectId;
use gix::objs::Kind;

use crate::error::{Error, Result};

fn type_code(kind: Kind) -> u8 {
    match kind {
        Kind::Commit => 1,
        Kind::Tree => 2,
        Kind::Blob => 3,
        Kind::Tag => 4,
    }
}

fn header(kind: Kind, size: usize, out: &mut Vec<u8>) {
    let mut size = size as u64;
    let mut byte = (type_code(kind) << 4) | (size & 0x0f) as u8;
    size >>= 4;
    while size > 0 {
        out.push(byte | 0x80);
        byte = (size & 0x7f) as u8;
        size >>= 7;
    }
    out.push(byte);
}

fn sha1(bytes: &[u8]) -> Result<ObjectId> {
    let mut hasher = gix::hash::hasher(gix::hash::Kind::Sha1);
    hasher.update(bytes);
    hasher
        .try_finalize()
        .map_err(|e| Error::repo(Path::new("."), "hash pack", e))
}

/// Writes `objects` (id, kind, content) as one pack + index into `<objects_dir>/pack/`.
pub(crate) fn write(objects_dir: &Path, objects: &[(ObjectId, Kind, &[u8])]) -> Result<()> {
    let (pack, index, pack_sum) = pack(objects_dir, objects)?;
    let idx = index_of(index, &pack_sum)?;
    store(objects_dir, &format!("pack-{pack_sum}"), &pack, &idx)
}

/// One entry of a pack's index: the object, the CRC of its packed bytes, where they start.
type IndexEntry = (ObjectId, u32, u64);

/// The pack (version 2, every object whole, zlib level 1, its SHA-1 at the end), what its
/// index needs, and its SHA-1.
fn pack(
    objects_dir: &Path,
    objects: &[(ObjectId, Kind, &[u8])],
) -> Result<(Vec<u8>, Vec<IndexEntry>, ObjectId)> {
    let err =
        |operation: &'static str, e: crate::error::BoxError| Error::repo(objects_dir, operation, e);
    let total: usize = objects.iter().map(|(_, _, d)| d.len() / 2 + 32).sum();
    let mut pack = Vec::with_capacity(total + 32);
    pack.extend_from_slice(b"PACK");
    pack.extend_from_slice(&2u32.to_be_bytes());
    let count = u32::try_from(objects.len())
        .map_err(|e| err("write pack (too many objects for one pack)", e.into()))?;
    pack.extend_from_slice(&count.to_be_bytes());

    let mut compress = gix::zlib::stream::deflate::Compress::new(
        gix::zlib::Compression::new(1).unwrap_or_default(),
    );
    let mut scratch = Vec::new();
    let mut index: Vec<IndexEntry> = Vec::with_capacity(objects.len());
    for (id, kind, data) in objects {
        let offset = pack.len() as u64;
        header(*kind, data.len(), &mut pack);
        compress.reset();
        scratch.clear();
        scratch.resize(data.len() + data.len() / 8 + 128, 0);
        let status = compress
            .compress(
                data,
                &mut scratch,
                gix::zlib::stream::deflate::FlushCompress::Finish,
            )
            .map_err(|e| err("compress object", e.into()))?;
        if status != gix::zlib::Status::StreamEnd {
            return Err(err("compress object", "output buffer too small".into()));
        }
        pack.extend_from_slice(&scratch[..compress.total_out() as usize]);
        let crc = crc32fast::hash(&pack[offset as usize..]);
        index.push((*id, crc, offset));
    }
    let pack_sum = sha1(&pack)?;
    pack.extend_from_slice(pack_sum.as_bytes());
    Ok((pack, index, pack_sum))
}

/// The pack's index (version 2): fan-out, ids, CRCs, offsets (large ones in a second
/// table), the pack's checksum and its own.
fn index_of(mut index: Vec<IndexEntry>, pack_sum: &ObjectId) -> Result<Vec<u8>> {
    index.sort_by_key(|(id, _, _)| *id);
    let mut idx = Vec::with_capacity(8 + 1024 + index.len() * 28 + 40);
    idx.extend_from_slice(&[0xff, b't', b'O', b'c']);
    idx.extend_from_slice(&2u32.to_be_bytes());
    let mut fanout = [0u32; 256];
    for (id, _, _) in &index {
        fanout[id.as_bytes()[0] as usize] += 1;
    }
    let mut running = 0u32;
    for n in fanout {
        running += n;
        idx.extend_from_slice(&running.to_be_bytes());
    }
    for (id, _, _) in &index {
        idx.extend_from_slice(id.as_bytes());
    }
    for (_, crc, _) in &index {
        idx.extend_from_slice(&crc.to_be_bytes());
    }
    let mut large = Vec::new();
    for (_, _, offset) in &index {
        if *offset < 0x8000_0000 {
            idx.extend_from_slice(&(*offset as u32).to_be_bytes());
        } else {
            let slot = 0x8000_0000u32 | large.len() as u32;
            idx.extend_from_slice(&slot.to_be_bytes());
            large.push(*offset);
        }
    }
    for offset in large {
        idx.extend_from_slice(&offset.to_be_bytes());
    }
    idx.extend_from_slice(pack_sum.as_bytes());
    let idx_sum = sha1(&idx)?;
    idx.extend_from_slice(idx_sum.as_bytes());
    Ok(idx)
}

/// Writes the pack and its index into `<objects_dir>/pack/`, each through a synced temp file
/// renamed into place (the index last, so git never sees an index without its pack).
fn store(objects_dir: &Path, name: &str, pack: &[u8], idx: &[u8]) -> Result<()> {
    let dir = objects_dir.join("pack");
    std::fs::create_dir_all(&dir).map_err(|e| Error::Io {
        path: dir.clone(),
        source: e,
    })?;
    for (ext, bytes) in [("pack", pack), ("idx", idx)] {
        let target = dir.join(format!("{name}.{ext}"));
        let temp = dir.join(format!(".tmp-{name}.{ext}.{}", std::process::id()));
        let io = |e: std::io::Error| Error::Io {
            path: target.clone(),
            source: e,
        };
        let mut file = std::fs::File::create(&temp).map_err(io)?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(io)?;
        std::fs::rename(&temp, &target).map_err(io)?;
    }
    Ok(())
}
