//! Load, render, serialize and write N apps × 3 environments (default N = 10,000; set
//! `GLUEOPS_BENCH_APPS`) to a fresh folder, against the floor of writing the same files with
//! plain `std::fs` in the same run: on one thread, and split over every core. Runs alternate
//! (floors, glueops) `GLUEOPS_BENCH_RUNS` times (default 3), each after a `sync`, and report
//! the medians: writing ~240,000 small files is kernel-bound, so the ratio to the floor is the
//! figure that matters. Criterion is not used: one run takes ~30 s. Uses mimalloc, like the
//! `glueops` binary.
#![expect(clippy::unwrap_used, reason = "a benchmark fails loudly on bad setup")]

mod support;

// The allocator the `glueops` binary ships with (see crates/glueops-cli/src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use glueops::files::Files;
use glueops::model::Repo;
use glueops::render::render;

fn floor(dir: &Path, files: &Files) {
    let mut made = BTreeSet::new();
    for (rel, text) in files.iter() {
        let path = dir.join(rel);
        let parent = path.parent().unwrap().to_path_buf();
        if made.insert(parent.clone()) {
            std::fs::create_dir_all(&parent).unwrap();
        }
        std::fs::write(&path, text).unwrap();
    }
}

/// The same writes, the folders first, then the files split in one contiguous part per core.
fn floor_every_core(dir: &Path, files: &Files) {
    let mut made = BTreeSet::new();
    for rel in files.paths() {
        let parent = dir.join(rel).parent().unwrap().to_path_buf();
        if made.insert(parent.clone()) {
            std::fs::create_dir_all(&parent).unwrap();
        }
    }
    let all: Vec<(&str, &[u8])> = files.iter().collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|scope| {
        for part in all.chunks(all.len().div_ceil(cores).max(1)) {
            scope.spawn(move || {
                for (rel, text) in part {
                    std::fs::write(dir.join(rel), text).unwrap();
                }
            });
        }
    });
}

/// Flushes dirty pages so one run's writeback does not slow the next.
fn settle() {
    let _ = std::process::Command::new("sync").status();
}

/// How long `work` takes in a fresh, empty folder, with earlier writeback flushed first.
fn in_fresh_dir(work: impl FnOnce(&Path)) -> std::time::Duration {
    let dir = tempfile::tempdir().unwrap();
    settle();
    let t = Instant::now();
    work(dir.path());
    t.elapsed()
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let apps = support::env_usize("GLUEOPS_BENCH_APPS", 10_000);
    let runs = support::env_usize("GLUEOPS_BENCH_RUNS", 3);
    let (_keep, root) = support::generated_repo(apps);
    let files = render(&Repo::load(&root).unwrap(), &[])
        .unwrap()
        .files()
        .unwrap();
    let bytes: usize = files.total_bytes();
    let (mut floors, mut parallel_floors, mut totals) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        floors.push(in_fresh_dir(|dir| floor(dir, &files)));
        parallel_floors.push(in_fresh_dir(|dir| floor_every_core(dir, &files)));
        totals.push(in_fresh_dir(|dir| {
            let repo = Repo::load(&root).unwrap();
            let rendered = render(&repo, &[]).unwrap().files().unwrap();
            glueops::write_tree(dir, &rendered, |_| {}).unwrap();
        }));
    }
    let (f, p, g) = (
        support::median(floors),
        support::median(parallel_floors),
        support::median(totals),
    );
    println!(
        "render_write {apps}x3: {} files, {} MB\n  floor (std::fs writes of the same files, one thread): {f:.2?}\n  floor (the same, every core): {p:.2?}\n  glueops (load + render + serialize + write): {g:.2?}\n  ratio to the floors: {:.2}x / {:.2}x",
        files.len(),
        bytes / 1_000_000,
        g.as_secs_f64() / f.as_secs_f64(),
        g.as_secs_f64() / p.as_secs_f64()
    );
}
