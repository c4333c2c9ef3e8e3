//! Render + serialize N apps × 3 environments (N = 100, 1,000, 10,000) in memory.
//! `benches/render_write.rs` measures writing the tree against the file-system floor, and
//! `benches/kustomize_vs_glueops.py` compares with `kubectl kustomize` on the same deployments.
#![expect(clippy::unwrap_used, reason = "a benchmark fails loudly on bad setup")]

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

criterion_group!(benches, render_and_serialize);
criterion_main!(benches);
