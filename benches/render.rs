//! Render + serialize N apps × 3 environments (N = 100, 1,000, 10,000), and render + write
//! 10,000 × 3 to disk next to the floor of writing the same files with plain `std::fs`.
//! `benches/kustomize_vs_glueops.py` compares with `kubectl kustomize` on the same deployments.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use glueops::model::Repo;
use glueops::render::render;

fn render_and_serialize(c: &mut Criterion) {
    let mut group = c.benchmark_group("render_serialize");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(15));
    for apps in [100, 1_000, 10_000] {
        let repo = Repo::from_sources(&support::repo_sources(apps))
            .map_err(|d| d.to_string())
            .unwrap();
        assert_eq!(repo.deployments().count(), apps * 3);
        group.bench_with_input(
            BenchmarkId::new("glueops", format!("{apps}x3")),
            &repo,
            |b, repo| b.iter(|| black_box(render(repo, &[]).unwrap().files().unwrap().len())),
        );
    }
    group.finish();
}

fn render_and_write(c: &mut Criterion) {
    let apps = 10_000;
    let repo = Repo::from_sources(&support::repo_sources(apps))
        .map_err(|d| d.to_string())
        .unwrap();
    let files = render(&repo, &[]).unwrap().files().unwrap();
    let mut group = c.benchmark_group("render_write_10000x3");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(60));
    group.bench_function("floor: std::fs writes of the same files", |b| {
        b.iter_with_large_drop(|| {
            let dir = tempfile::tempdir().unwrap();
            let mut made = std::collections::BTreeSet::new();
            for (rel, text) in &files {
                let path = dir.path().join(rel);
                let parent = path.parent().unwrap().to_path_buf();
                if made.insert(parent.clone()) {
                    std::fs::create_dir_all(&parent).unwrap();
                }
                std::fs::write(&path, text).unwrap();
            }
            dir
        })
    });
    group.bench_function("glueops: render + serialize + write", |b| {
        b.iter_with_large_drop(|| {
            let dir = tempfile::tempdir().unwrap();
            let files = render(&repo, &[]).unwrap().files().unwrap();
            glueops::write_tree(dir.path(), &files, |_| {}).unwrap();
            dir
        })
    });
    group.finish();
}

criterion_group!(benches, render_and_serialize, render_and_write);
criterion_main!(benches);
