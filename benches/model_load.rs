//! Load + layer + validate a generated repo of 1,000 apps × 3 environments, against the floor
//! of walking and reading the same files. Target: under 1 s on a 2-core machine.
#![expect(clippy::unwrap_used, reason = "a benchmark fails loudly on bad setup")]

mod support;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use glueops::model::Repo;

fn load(c: &mut Criterion) {
    let (_dir, root) = support::generated_repo(1_000);
    let repo = Repo::load(&root).map_err(|d| d.to_string()).unwrap();
    assert_eq!(repo.deployments().count(), 3_000);
    let mut group = c.benchmark_group("model_load_1000x3");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("floor: walk + read files", |b| {
        b.iter(|| black_box(support::read_all(&root)))
    });
    group.bench_function("glueops: load + layer + validate", |b| {
        b.iter(|| {
            black_box(
                Repo::load(&root)
                    .map(|r| r.deployments().count())
                    .unwrap_or(0),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
