//! `glueops render`: every deployment (and the previews asked for) into a manifest-repo tree,
//! writing only the files whose bytes change; a summary per kind.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use glueops::WriteSummary;
use glueops::model::Repo;
use glueops::render::{ManifestSet, PreviewRequest, render};
use indicatif::{ProgressBar, ProgressStyle};

use crate::error::Error;

/// `glueops render <repo> --out <dir> [--preview <app>:<N>[:<sha>]]... [--stream <file>]`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
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

/// How long each step took.
struct Timings {
    load: Duration,
    render: Duration,
    total: Duration,
}

pub(crate) fn run(args: &Args) -> Result<(), Error> {
    let start = Instant::now();
    let repo = Repo::load(&args.repo).map_err(Error::Config)?;
    crate::validate::print_warnings(&repo);
    let load = start.elapsed();
    let set = render(&repo, &args.previews)?;
    let rendered = start.elapsed();
    let summary = match &args.out {
        Some(out) => write(out, &set, args.stream.as_deref())?,
        None => {
            let parts = set.stream_parts()?;
            if let Some(path) = &args.stream {
                write_parts(path, parts.iter().map(String::as_bytes))?;
            }
            WriteSummary::default()
        }
    };
    let timings = Timings {
        load,
        render: rendered - load,
        total: start.elapsed(),
    };
    print_summary(args, &repo, &set, &summary, &timings);
    // The process ends here: hand the memory back at exit instead of freeing the model and
    // every rendered object one by one.
    std::mem::forget((repo, set));
    Ok(())
}

/// Writes the tree under `out` (and the stream, when asked for).
fn write(out: &Path, set: &ManifestSet, stream: Option<&Path>) -> Result<WriteSummary, Error> {
    let files = set.files()?;
    let bar = progress(files.len());
    let summary = glueops::write_tree(out, &files, |n| bar.set_position(n as u64));
    bar.finish_and_clear();
    if let Some(path) = stream {
        write_parts(path, [glueops::render::stream(&files).as_slice()])?;
    }
    std::mem::forget(files);
    Ok(summary?)
}

fn print_summary(args: &Args, repo: &Repo, set: &ManifestSet, summary: &WriteSummary, t: &Timings) {
    println!("{:<24} {:>7}", "KIND", "OBJECTS");
    for (kind, n) in set.counts() {
        println!("{kind:<24} {n:>7}");
    }
    let target = args.out.as_ref().or(args.stream.as_ref());
    println!(
        "\n{} objects from {} deployments and {} previews; {} files written, {} unchanged, {} removed in {:.2?} (load {:.2?}, render {:.2?}, write {:.2?}) -> {}",
        set.len(),
        repo.deployments().count(),
        args.previews.len(),
        summary.written,
        summary.unchanged,
        summary.removed,
        t.total,
        t.load,
        t.render,
        t.total.saturating_sub(t.load + t.render),
        target.map_or_else(String::new, |p| p.display().to_string())
    );
}

/// Writes `parts` one after the other into the file at `path`.
fn write_parts<'a>(path: &Path, parts: impl IntoIterator<Item = &'a [u8]>) -> Result<(), Error> {
    use std::io::Write;
    let io = |source| Error::File {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::create(path).map_err(io)?;
    for part in parts {
        file.write_all(part).map_err(io)?;
    }
    Ok(())
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
