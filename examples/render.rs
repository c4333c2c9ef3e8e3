//! `cargo run --release --example render -- <config-repo> --out <dir> [--preview <app>:<N>[:<sha>]]... [--stream <file>]`
//!
//! Renders every deployment (and the requested previews) of a config repo into a manifest-repo
//! tree, writing only files whose bytes change, and prints a summary. Bad config: the
//! diagnostics, exit 1, nothing written.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use glueops::model::Repo;
use glueops::render::{PreviewRequest, render};
use indicatif::{ProgressBar, ProgressStyle};

// Rendering allocates many small objects on every core; glibc's per-thread arenas grow with
// one `mprotect` per few pages, which cost a third of the run (`cargo bench --bench render`
// and `benches/kustomize_vs_glueops.py` measure both allocators).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Render a glueops config repo into Kubernetes manifests.
#[derive(Parser)]
struct Args {
    /// The config repo (the folder holding glueops.yaml).
    repo: PathBuf,
    /// Where to write the manifest tree (one object per file).
    #[arg(long, required_unless_present = "stream")]
    out: Option<PathBuf>,
    /// A pull-request preview to render: `<app>:<N>[:<head sha>]`; repeatable.
    #[arg(long = "preview")]
    previews: Vec<PreviewRequest>,
    /// Also write every object as one `---` stream to this file.
    #[arg(long)]
    stream: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let start = Instant::now();
    let repo = match Repo::load(&args.repo) {
        Ok(repo) => repo,
        Err(diagnostics) => {
            eprintln!("{diagnostics}");
            return ExitCode::FAILURE;
        }
    };
    let loaded = start.elapsed();
    let result = render(&repo, &args.previews).and_then(|set| Ok((set.files()?, set)));
    let (files, set) = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let rendered = start.elapsed();
    let bar = if files.len() >= 5_000 {
        let bar = ProgressBar::new(files.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("writing {bar:40} {pos}/{len} files")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let summary = match &args.out {
        Some(out) => match glueops::write_tree(out, &files, |n| bar.set_position(n as u64)) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => glueops::WriteSummary::default(),
    };
    bar.finish_and_clear();
    if let Some(path) = &args.stream
        && let Err(e) = std::fs::write(path, glueops::render::stream(&files))
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    let written = start.elapsed();
    println!("{:<24} {:>7}", "KIND", "OBJECTS");
    for (kind, n) in set.counts() {
        println!("{kind:<24} {n:>7}");
    }
    println!(
        "\n{} objects from {} deployments and {} previews; {} files written, {} unchanged, {} removed in {:.2?} (load {:.2?}, render {:.2?}, write {:.2?}) -> {}",
        set.len(),
        repo.deployments().count(),
        args.previews.len(),
        summary.written,
        summary.unchanged,
        summary.removed,
        written,
        loaded,
        rendered - loaded,
        written - rendered,
        args.out
            .as_ref()
            .or(args.stream.as_ref())
            .map_or_else(String::new, |p| p.display().to_string())
    );
    // The process ends here: hand the memory back to the OS at exit instead of freeing the
    // model and every rendered object one by one.
    std::mem::forget((repo, set, files));
    ExitCode::SUCCESS
}
