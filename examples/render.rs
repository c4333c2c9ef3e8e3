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
    let set = match render(&repo, &args.previews) {
        Ok(set) => set,
        Err(e) => return fail(&e),
    };
    // The tree needs one file per object; a stream alone is serialized straight from the set.
    let (files, stream) = match &args.out {
        Some(_) => match set.files() {
            Ok(files) => {
                let stream = args
                    .stream
                    .is_some()
                    .then(|| vec![glueops::render::stream(&files)]);
                (files, stream)
            }
            Err(e) => return fail(&e),
        },
        None => match set.stream_parts() {
            Ok(parts) => (Default::default(), Some(parts)),
            Err(e) => return fail(&e),
        },
    };
    let rendered = start.elapsed();
    let summary = match &args.out {
        Some(out) => {
            let bar = progress(files.len());
            let summary = glueops::write_tree(out, &files, |n| bar.set_position(n as u64));
            bar.finish_and_clear();
            match summary {
                Ok(s) => s,
                Err(e) => return fail(&e),
            }
        }
        None => glueops::WriteSummary::default(),
    };
    if let (Some(path), Some(stream)) = (&args.stream, &stream)
        && let Err(e) = write_parts(path, stream)
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
    std::mem::forget((repo, set, files, stream));
    ExitCode::SUCCESS
}

/// Writes `parts` one after the other into the file at `path`.
fn write_parts(path: &std::path::Path, parts: &[String]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::File::create(path)?;
    for part in parts {
        file.write_all(part.as_bytes())?;
    }
    Ok(())
}

fn fail(e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::FAILURE
}

/// A progress bar for writing `files` files; hidden for small trees.
fn progress(files: usize) -> ProgressBar {
    if files < 5_000 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(files as u64);
    bar.set_style(
        ProgressStyle::with_template("writing {bar:40} {pos}/{len} files")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}
