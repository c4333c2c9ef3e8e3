//! The workspace's shape, checked: no two modules of a crate import each other, directly or
//! around a loop; the loop's checkout depends on nothing of the loop; no process-wide state
//! in the root crate.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A crate's modules (top-level, under `src/`) and the top-level modules each refers to as
/// `crate::<module>` outside its tests.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    sources(src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(src).unwrap().with_extension("");
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .into_owned();
        if top == "lib" || top == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let deps = graph.entry(top.clone()).or_default();
        for (at, _) in code.match_indices("crate::") {
            let name: String = code[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
                .collect();
            if !name.is_empty() && name != top {
                deps.insert(name);
            }
        }
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for deps in graph.values_mut() {
        deps.retain(|d| modules.contains(d));
    }
    graph
}

/// A loop in `graph`, if there is one (a path that comes back to its start).
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

fn crate_sources() -> Vec<PathBuf> {
    let root = workspace();
    let mut dirs = vec![root.join("src")];
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let src = entry.unwrap().path().join("src");
        if src.is_dir() {
            dirs.push(src);
        }
    }
    dirs.sort();
    dirs
}

#[test]
fn no_crate_has_modules_that_import_each_other() {
    let mut seen = 0;
    for src in crate_sources() {
        let graph = module_graph(&src);
        seen += graph.len();
        if let Some(cycle) = find_cycle(&graph) {
            panic!(
                "{}: modules import each other: {}",
                src.display(),
                cycle.join(" -> ")
            );
        }
    }
    assert!(seen > 50, "the scan found only {seen} modules");
}

#[test]
fn the_cycle_check_finds_a_cycle_when_there_is_one() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(str::to_string).collect()))
    .collect();
    assert_eq!(find_cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
    let mut acyclic = graph.clone();
    acyclic.get_mut("c").unwrap().clear();
    assert_eq!(find_cycle(&acyclic), None);
}

#[test]
fn checkout_depends_on_nothing_of_the_loop_and_src_has_no_statics() {
    let graph = module_graph(&workspace().join("src"));
    let checkout: Vec<&String> = graph["checkout"].iter().collect();
    assert!(
        checkout
            .iter()
            .all(|d| ["session", "options", "git", "model", "files"].contains(&d.as_str())),
        "checkout depends on {checkout:?}"
    );
    let mut files = Vec::new();
    sources(&workspace().join("src"), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let statics: Vec<&str> = code
            .lines()
            .filter(|l| {
                let l = l.trim_start();
                (l.starts_with("static ") || l.starts_with("pub static ") || l.contains(" static "))
                    && !l.starts_with("//")
                    && !l.contains("'static")
            })
            .collect();
        assert!(
            statics.is_empty(),
            "{}: process-wide state: {statics:?}",
            file.display()
        );
    }
}
