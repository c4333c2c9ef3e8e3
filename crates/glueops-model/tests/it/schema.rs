//! The committed JSON Schemas under schema/ are exactly the ones generated from the Rust types,
//! and an editor validating with them accepts and rejects the same files glueops does.

use std::path::PathBuf;

use glueops_model::{Document, Repo};

fn committed(doc: Document) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../schema")
        .join(doc.file_name())
}

fn generated(doc: Document) -> String {
    serde_json::to_string_pretty(&doc.schema()).unwrap() + "\n"
}

#[test]
fn committed_schemas_match_the_types() {
    for doc in [Document::AppValues, Document::Platform] {
        let path = committed(doc);
        let fresh = generated(doc);
        if std::env::var_os("GLUEOPS_BLESS").is_some() {
            std::fs::write(&path, &fresh).unwrap();
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == fresh,
            "{} is out of date with the Rust types; run `GLUEOPS_BLESS=1 cargo test -p glueops-model --test schema` and commit it",
            path.display()
        );
    }
}

fn validate_with_committed(doc: Document, file: &str, text: &str) -> bool {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(committed(doc)).unwrap()).unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let value: serde_json::Value = glueops_yaml::deserialize(text, glueops_yaml::Limits::Config)
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    validator.is_valid(&value)
}

#[test]
fn editors_and_glueops_agree_on_the_demo_repo() {
    let demo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo-config");
    assert!(Repo::load(&demo).is_ok());
    let mut checked = 0;
    for entry in walk(&demo) {
        let rel = entry
            .strip_prefix(&demo)
            .unwrap()
            .to_string_lossy()
            .to_string();
        let text = std::fs::read_to_string(&entry).unwrap();
        let doc = if rel == "glueops.yaml" {
            Document::Platform
        } else {
            Document::AppValues
        };
        assert!(
            validate_with_committed(doc, &rel, &text),
            "{rel} fails the committed schema"
        );
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} files");
}

#[test]
fn editors_and_glueops_agree_on_bad_files() {
    for text in [
        "deployment: {replica: 3}\n",
        "image: {tag: [1.10]}\n",
        "service: {type: Cluster}\n",
        "image: {port: 70000}\n",
    ] {
        assert!(
            !validate_with_committed(Document::AppValues, "values.yaml", text),
            "{text}"
        );
        let (_, mut tree) = glueops_support_repo();
        tree.insert("apps/api/envs/staging/values.yaml", text);
        assert!(Repo::from_sources(&tree).is_err(), "{text}");
    }
}

fn glueops_support_repo() -> (Vec<String>, glueops_model::SourceTree) {
    crate::support::repo_with("")
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
    out.sort();
    out
}
