//! Hostile input fails fast with a clear, located error and never panics: huge files, binary
//! files, deep nesting, symlink loops and paths that leave the repo.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use glueops_model::{Code, Diagnostics, Repo, SourceTree};

/// Writes the base repo of tests/data/base.txt into `dir`.
fn write_base(dir: &Path) {
    let (_, files) = crate::support::sections(include_str!("../data/base.txt"));
    for (path, body) in files {
        let path = dir.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, body.unwrap()).unwrap();
    }
}

fn load(dir: &Path) -> (Diagnostics, Duration) {
    let start = Instant::now();
    let result = Repo::load(dir);
    let elapsed = start.elapsed();
    match result {
        Ok(_) => panic!("hostile repo at {} loaded without errors", dir.display()),
        Err(d) => (d, elapsed),
    }
}

fn only(d: &Diagnostics, code: Code, file: &str, needle: &str) {
    assert_eq!(d.len(), 1, "expected one diagnostic, got:\n{d}");
    let first = d.iter().next().unwrap();
    assert_eq!(first.code, code, "{d}");
    assert_eq!(&*first.location.file, file, "{d}");
    assert!(first.message.contains(needle), "`{needle}` not in: {d}");
    assert!(first.help.is_some(), "{d}");
}

#[test]
fn base_repo_on_disk_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    write_base(dir.path());
    let repo = Repo::load(dir.path()).map_err(|d| d.to_string()).unwrap();
    assert_eq!(repo.deployments().count(), 2);
}

#[test]
fn a_50_mb_file_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    write_base(dir.path());
    let big = fs::File::create(dir.path().join("apps/api/envs/staging/values.yaml")).unwrap();
    big.set_len(50 * 1024 * 1024).unwrap();
    let (d, elapsed) = load(dir.path());
    only(
        &d,
        Code::FileTooLarge,
        "apps/api/envs/staging/values.yaml",
        "52428800 bytes",
    );
    assert!(
        elapsed < Duration::from_secs(5),
        "took {elapsed:?}: it must not parse the file"
    );
}

#[test]
fn a_binary_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_base(dir.path());
    fs::write(
        dir.path().join("common/common-values.yaml"),
        b"\x7fELF\x02\x01\x01\x00\x00\x00garbage",
    )
    .unwrap();
    let (d, _) = load(dir.path());
    only(
        &d,
        Code::BinaryFile,
        "common/common-values.yaml",
        "binary file",
    );
    let mut tree = SourceTree::new();
    tree.insert("glueops.yaml", vec![0xff, 0xfe, b'a']);
    let d = Repo::from_sources(&tree).unwrap_err();
    only(&d, Code::BinaryFile, "glueops.yaml", "not UTF-8");
}

#[test]
fn deep_nesting_is_refused() {
    for (open, close) in [("[", "]"), ("{a: ", "}")] {
        let depth = 10_000;
        let text = format!(
            "deployment: {}1{}\n",
            open.repeat(depth),
            close.repeat(depth)
        );
        let (_, mut tree) = crate::support::repo_with("");
        tree.insert("apps/api/envs/production/values.yaml", text);
        let d = Repo::from_sources(&tree).unwrap_err();
        only(
            &d,
            Code::Syntax,
            "apps/api/envs/production/values.yaml",
            "levels deep",
        );
    }
    let block: String = (0..200)
        .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
        .collect();
    let (_, mut tree) = crate::support::repo_with("");
    tree.insert("apps/api/envs/production/values.yaml", block);
    let d = Repo::from_sources(&tree).unwrap_err();
    only(
        &d,
        Code::Syntax,
        "apps/api/envs/production/values.yaml",
        "levels deep",
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_is_refused() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    write_base(dir.path());
    let env = dir.path().join("apps/api/envs/staging");
    fs::remove_file(env.join("values.yaml")).unwrap();
    symlink("loop-b.yaml", env.join("values.yaml")).unwrap();
    symlink("values.yaml", env.join("loop-b.yaml")).unwrap();
    let (d, _) = load(dir.path());
    assert!(
        d.iter().any(|x| x.code == Code::SymlinkLoop
            && &*x.location.file == "apps/api/envs/staging/values.yaml"),
        "{d}"
    );

    let dir = tempfile::tempdir().unwrap();
    write_base(dir.path());
    symlink("..", dir.path().join("apps/api/base/up")).unwrap();
    let (d, _) = load(dir.path());
    assert!(d.iter().any(|x| x.code == Code::SymlinkLoop && x.location.file.starts_with("apps/api/base/up")), "{d}");
}

#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_repo_is_refused() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret.yaml"), "image: {tag: stolen}\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_base(dir.path());
    let target = dir.path().join("apps/api/envs/staging/values.yaml");
    fs::remove_file(&target).unwrap();
    symlink(outside.path().join("secret.yaml"), &target).unwrap();
    let (d, _) = load(dir.path());
    only(
        &d,
        Code::PathEscape,
        "apps/api/envs/staging/values.yaml",
        "outside the config repo",
    );
}

#[test]
fn a_path_escaping_the_repo_is_refused() {
    let (_, mut tree) = crate::support::repo_with("");
    tree.insert("apps/../../etc/values.yaml", "image: {tag: x}\n");
    let d = Repo::from_sources(&tree).unwrap_err();
    only(
        &d,
        Code::PathEscape,
        "apps/../../etc/values.yaml",
        "not a plain relative path",
    );
}

#[test]
fn a_missing_repo_is_a_clear_error() {
    let d = Repo::load("/nonexistent/config-repo").unwrap_err();
    only(&d, Code::Io, ".", "cannot open the config repo");
}

/// Every YAML file under `dir`, by relative path, read with plain `std::fs`.
fn files_on_disk(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_string();
                out.push((rel, fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn many_apps_read_on_every_core_come_back_whole_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    write_base(dir.path());
    for i in 0..150 {
        let app = dir.path().join(format!("apps/app{i:03}"));
        fs::create_dir_all(app.join("base")).unwrap();
        fs::write(
            app.join("base/base-values.yaml"),
            format!("image: {{repository: acme/app{i}, port: 8080}}\n"),
        )
        .unwrap();
        for env in ["staging", "production"] {
            fs::create_dir_all(app.join("envs").join(env)).unwrap();
            fs::write(
                app.join("envs").join(env).join("values.yaml"),
                format!("image: {{tag: 1.{i}.0}}\n"),
            )
            .unwrap();
        }
    }
    // Bigger than the reader's 16 KiB buffer: read in more than one call.
    let big = format!("# {}\nimage: {{tag: big}}\n", "x".repeat(200_000));
    fs::write(
        dir.path().join("apps/app077/envs/staging/values.yaml"),
        &big,
    )
    .unwrap();
    let tree = SourceTree::read(dir.path());
    let read: Vec<(String, Vec<u8>)> = tree
        .files()
        .map(|(p, c)| (p.to_string(), c.to_vec()))
        .collect();
    assert_eq!(read, files_on_disk(dir.path()));
    assert_eq!(
        read.len(),
        150 * 3 + 6,
        "the base repo's 6 files and 3 per app"
    );
    let repo = Repo::from_sources(&tree)
        .map_err(|d| d.to_string())
        .unwrap();
    assert_eq!(repo.deployments().count(), 2 + 150 * 2);
    // Loading straight from disk parses on the reading threads; the model is the same.
    let loaded = Repo::load(dir.path()).map_err(|d| d.to_string()).unwrap();
    assert!(
        loaded.deployments().eq(repo.deployments()),
        "Repo::load and Repo::from_sources(SourceTree::read) disagree"
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_through_two_apps_is_refused_and_a_shared_folder_is_not_a_loop() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    write_base(dir.path());
    // web's staging values are api's: an alias, not a loop.
    fs::create_dir_all(dir.path().join("apps/web/envs")).unwrap();
    symlink(
        "../../api/envs/staging",
        dir.path().join("apps/web/envs/staging"),
    )
    .unwrap();
    let tree = SourceTree::read(dir.path());
    assert!(
        tree.files()
            .any(|(p, _)| p == "apps/web/envs/staging/values.yaml")
    );
    assert_eq!(
        tree.files()
            .find(|(p, _)| *p == "apps/web/envs/staging/values.yaml")
            .map(|(_, c)| c),
        tree.files()
            .find(|(p, _)| *p == "apps/api/envs/staging/values.yaml")
            .map(|(_, c)| c),
    );

    // api/x -> web, web/y -> api: reading either goes round forever.
    symlink("../web", dir.path().join("apps/api/x")).unwrap();
    symlink("../api", dir.path().join("apps/web/y")).unwrap();
    let (d, elapsed) = load(dir.path());
    assert!(d.iter().any(|x| x.code == Code::SymlinkLoop), "{d}");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}

/// A pipe where a values file belongs, reached directly or through a symlink inside the repo:
/// a located error at once, never a hang and never a silently missing environment. The same
/// repo with the regular file back loads (positive control).
#[cfg(unix)]
#[test]
fn a_pipe_is_refused_whether_named_directly_or_through_a_symlink() {
    use std::os::unix::fs::symlink;
    let mkfifo = |path: &Path| {
        let made = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap();
        assert!(made.success(), "mkfifo ships with coreutils");
    };
    let dir = tempfile::tempdir().unwrap();
    write_base(dir.path());
    Repo::load(dir.path()).unwrap();
    let values = dir.path().join("apps/api/envs/staging/values.yaml");
    let regular = fs::read(&values).unwrap();
    fs::remove_file(&values).unwrap();
    mkfifo(&values);
    let refused = || {
        let (d, took) = load(dir.path());
        only(
            &d,
            Code::Io,
            "apps/api/envs/staging/values.yaml",
            "not a regular file",
        );
        assert!(took < Duration::from_secs(5), "{took:?}");
    };
    refused();
    fs::remove_file(&values).unwrap();
    let pipe = dir.path().join("apps/api/envs/staging/pipe");
    mkfifo(&pipe);
    symlink("pipe", &values).unwrap();
    refused();

    fs::remove_file(&values).unwrap();
    fs::remove_file(&pipe).unwrap();
    fs::write(&values, regular).unwrap();
    Repo::load(dir.path()).unwrap();
}
