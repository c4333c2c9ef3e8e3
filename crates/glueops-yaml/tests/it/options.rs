//! The fixed options hold: YAML 1.1 booleans and octal-looking numbers stay strings, duplicate
//! keys fail, and hostile documents fail fast with a position, never a snippet.

use glueops_yaml::{MAX_DEPTH, Tree, parse};

#[test]
fn ambiguous_scalars_stay_strings() {
    let tree = parse("a: yes\nb: on\nc: 0755\nd: 1_000\ne: true\nf: 12\ng: ~\n").unwrap();
    let get = |k: &str| tree.field(k).unwrap().clone();
    assert_eq!(get("a"), Tree::Text("yes".into()));
    assert_eq!(get("b"), Tree::Text("on".into()));
    assert_eq!(get("c"), Tree::Text("0755".into()));
    assert_eq!(get("d"), Tree::Text("1_000".into()));
    assert_eq!(get("e"), Tree::Bool(true));
    assert_eq!(get("f"), Tree::Int(12));
    assert_eq!(get("g"), Tree::Null);
    // Document order is kept.
    let Tree::Map(entries) = parse("z: 1\na: 2\nm: 3\n").unwrap() else {
        panic!()
    };
    assert_eq!(
        entries.iter().map(|(k, _)| k.as_str()).collect::<String>(),
        "zam"
    );
}

#[test]
fn hostile_documents_fail_fast_without_snippets() {
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    let start = std::time::Instant::now();
    assert!(parse(bomb).is_err(), "an alias bomb is refused");
    let deep = format!(
        "{}x{}",
        "[".repeat(MAX_DEPTH + 5),
        "]".repeat(MAX_DEPTH + 5)
    );
    assert!(parse(&deep).is_err(), "nesting beyond MAX_DEPTH is refused");
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    let err = parse("password: hunter2\npassword: again\n")
        .unwrap_err()
        .to_string();
    assert!(!err.contains("hunter2") && err.contains("line"), "{err}");
    let err = parse("key: [unclosed secret-value\n")
        .unwrap_err()
        .to_string();
    assert!(!err.contains("secret-value"), "{err}");
}
