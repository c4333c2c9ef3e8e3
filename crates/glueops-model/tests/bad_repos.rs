//! The corpus of bad repos under tests/bad/: each must fail to load, report the code its
//! header expects, and match its reviewed snapshot of the full diagnostics output.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use glueops_model::Repo;

#[test]
fn base_repo_is_valid() {
    let (_, tree) = support::repo_with("");
    let repo = Repo::from_sources(&tree)
        .map_err(|d| d.to_string())
        .unwrap();
    assert_eq!(repo.deployments().count(), 2);
}

#[test]
fn every_bad_repo_is_reported() {
    let mut cases = 0;
    insta::glob!("bad/*.txt", |path| {
        cases += 1;
        let text = std::fs::read_to_string(path).unwrap();
        let (header, tree) = support::repo_with(&text);
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
    });
    assert!(cases >= 30, "only {cases} bad repos");
}
