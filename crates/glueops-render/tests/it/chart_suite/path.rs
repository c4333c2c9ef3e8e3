//! helm-unittest's paths into an object: `spec.template.spec.containers[0].image`,
//! `metadata.labels["app.kubernetes.io/name"]`, `containers[?(@.name == "web")].ports`, with an
//! optional leading `.`.

use serde_json::Value;

#[derive(Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
    /// `[?(@.field == "value")]`: every element whose `field` equals `value`.
    Filter(String, Value),
}

fn parse(path: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut rest = path.strip_prefix('.').unwrap_or(path);
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            rest = r;
        } else if let Some(r) = rest.strip_prefix("[?(@.") {
            let end = r
                .find(")]")
                .unwrap_or_else(|| panic!("bad filter in {path}"));
            let (field, value) = r[..end].split_once("==").unwrap();
            let value = value.trim();
            let value = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                Some(s) => Value::String(s.to_string()),
                None => serde_json::from_str(value).unwrap(),
            };
            steps.push(Step::Filter(field.trim().to_string(), value));
            rest = &r[end + 2..];
        } else if let Some(r) = rest.strip_prefix("[\"") {
            let end = r.find("\"]").unwrap_or_else(|| panic!("bad key in {path}"));
            steps.push(Step::Key(r[..end].to_string()));
            rest = &r[end + 2..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').unwrap_or_else(|| panic!("bad index in {path}"));
            steps.push(Step::Index(r[..end].parse().unwrap()));
            rest = &r[end + 1..];
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            steps.push(Step::Key(rest[..end].to_string()));
            rest = &rest[end..];
        }
    }
    steps
}

/// Every value at `path` in `object` (none when the path leads nowhere; several after a filter).
pub(crate) fn find<'a>(object: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut found = vec![object];
    for step in parse(path) {
        found = found
            .into_iter()
            .flat_map(|v| -> Vec<&Value> {
                match &step {
                    Step::Key(k) => v.get(k).into_iter().collect(),
                    Step::Index(i) => v.get(*i).into_iter().collect(),
                    Step::Filter(field, want) => v
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|e| e.get(field) == Some(want))
                        .collect(),
                }
            })
            .collect();
    }
    found
}

#[test]
fn paths_read_keys_indexes_quoted_keys_and_filters() {
    let object = serde_json::json!({
        "metadata": {"labels": {"app.kubernetes.io/name": "web"}},
        "spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]},
    });
    assert_eq!(
        find(&object, r#"metadata.labels["app.kubernetes.io/name"]"#),
        vec!["web"]
    );
    assert_eq!(find(&object, ".spec.containers[1].image"), vec!["y"]);
    assert_eq!(
        find(&object, r#"spec.containers[?(@.name == "a")].image"#),
        vec!["x"]
    );
    assert!(find(&object, "spec.containers[2]").is_empty());
    assert!(find(&object, r#"spec.containers[?(@.name == "c")]"#).is_empty());
    assert!(find(&object, "spec.missing.deeper").is_empty());
}
