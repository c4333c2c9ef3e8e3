//! The corpus of bad repos under tests/it/bad/: each must fail to load, report the code its
//! header expects, and match its reviewed snapshot of the full diagnostics output.

use glueops_model::Repo;

#[test]
fn base_repo_is_valid() {
    let (_, tree) = crate::support::repo_with("");
    let repo = Repo::from_sources(&tree)
        .map_err(|d| d.to_string())
        .unwrap();
    assert_eq!(repo.deployments().count(), 2);
}

#[test]
fn every_bad_repo_is_reported() {
    let mut cases = 0;
    let mut on_disk_cases = 0;
    insta::glob!("bad/*.txt", |path| {
        cases += 1;
        let text = std::fs::read_to_string(path).unwrap();
        let (header, tree) = crate::support::repo_with(&text);
        let expect = header
            .iter()
            .find_map(|h| h.strip_prefix("expect: "))
            .unwrap_or_else(|| panic!("{} has no `# expect: <code>` header", path.display()));
        let diagnostics = match Repo::from_sources(&tree) {
            Ok(_) => panic!("{} loaded without errors", path.display()),
            Err(d) => d,
        };
        let codes: Vec<String> = diagnostics.iter().map(|d| d.code.to_string()).collect();
        assert!(
            codes.iter().any(|c| c == expect),
            "{}: expected a `{expect}` diagnostic, got {codes:?}\n{diagnostics}",
            path.display()
        );
        for d in diagnostics.iter() {
            assert!(
                d.help.is_some(),
                "{}: diagnostic without help: {d}",
                path.display()
            );
        }
        insta::assert_snapshot!(diagnostics.to_string());
        // The same files on disk: `Repo::load` (which parses each file on the thread that read
        // it) reports exactly what `from_sources` does.
        if let Some(dir) = on_disk(&tree) {
            let loaded = match Repo::load(dir.path()) {
                Ok(_) => panic!("{} loaded from disk without errors", path.display()),
                Err(d) => d,
            };
            assert_eq!(
                loaded.to_string(),
                diagnostics.to_string(),
                "{}: load and from_sources disagree",
                path.display()
            );
            on_disk_cases += 1;
        }
    });
    assert!(cases >= 30, "only {cases} bad repos");
    assert!(
        on_disk_cases + 3 >= cases,
        "only {on_disk_cases} of {cases} bad repos could be written to disk"
    );
}

/// The files of `tree` written into a fresh folder; `None` when a path cannot be a file of a
/// folder (the corpus also holds paths that leave the repo).
fn on_disk(tree: &glueops_model::SourceTree) -> Option<tempfile::TempDir> {
    let dir = tempfile::tempdir().unwrap();
    for (path, bytes) in tree.files() {
        if path.is_empty()
            || path.starts_with('/')
            || path
                .split('/')
                .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return None;
        }
        let file = dir.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, bytes).unwrap();
    }
    Some(dir)
}
