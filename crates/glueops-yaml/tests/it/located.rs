//! The located parser: every scalar's span covers exactly the bytes that spell it, whatever
//! the style, so a caller can replace one value in place; keys and errors are located too.

use std::collections::BTreeMap;

use glueops_yaml::{Error, Limits, Located, Value, deserialize, parse_located, to_string};
use proptest::prelude::*;

fn doc(text: &str) -> Located {
    parse_located(text).unwrap().unwrap()
}

fn slice<'a>(text: &'a str, node: &Located) -> &'a str {
    &text[node.span.start..node.span.end]
}

#[test]
fn scalar_spans_cover_the_bytes_as_written() {
    for (text, written) in [
        ("image:\n  tag: 1.4.2\n", "1.4.2"),
        ("image:\n  tag: \"1.4.2\"  # pinned\n", "\"1.4.2\""),
        ("image:\n  tag: '1.4.2'\n", "'1.4.2'"),
        ("image: {repository: acme/api, tag: 1.4.2}\n", "1.4.2"),
        (
            "# comment\nimage:\n  # the tag\n  tag: v2 # trailing\n",
            "v2",
        ),
        ("image:\r\n  tag: 1.4.2\r\n", "1.4.2"),
        ("é: x\nimage:\n  tag: ünïcode-1\n", "ünïcode-1"),
    ] {
        let d = doc(text);
        let tag = d.get("image").and_then(|i| i.get("tag")).unwrap();
        assert_eq!(slice(text, tag), written, "{text:?}");
    }
}

#[test]
fn keys_lines_and_columns_are_located() {
    let text = "a: 1\nb:\n  c: [x, y]\n";
    let d = doc(text);
    let Value::Map(entries) = &d.value else {
        panic!("{d:?}")
    };
    let b = &entries[1];
    assert_eq!(
        (b.key.as_str(), b.key_span.line, b.key_span.column),
        ("b", 2, 1)
    );
    let list = b.value.get("c").unwrap();
    let Value::List(items) = &list.value else {
        panic!("{list:?}")
    };
    assert_eq!((items[1].span.line, items[1].span.column), (3, 10));
    assert_eq!(slice(text, &items[1]), "y");
}

#[test]
fn values_keep_their_types_and_document_order() {
    let d = doc("z: yes\na: 0755\nm: 12\nf: 1.5\nn: ~\nt: true\n");
    let Value::Map(entries) = &d.value else {
        panic!("{d:?}")
    };
    let keys: Vec<&str> = entries.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["z", "a", "m", "f", "n", "t"]);
    let values: Vec<&Value> = entries.iter().map(|e| &e.value.value).collect();
    assert_eq!(
        values,
        [
            &Value::String("yes".into()),
            &Value::String("0755".into()),
            &Value::Int(12),
            &Value::Float(1.5),
            &Value::Null,
            &Value::Bool(true),
        ]
    );
}

#[test]
fn empty_documents_and_errors() {
    assert_eq!(parse_located("# only a comment\n").unwrap(), None);
    let Err(Error::Syntax { line, column, .. }) = parse_located("a: 1\na: 2\n") else {
        panic!("duplicate keys are an error")
    };
    assert_eq!((line, column), (2, 1));
    let shape = deserialize::<BTreeMap<String, u32>>("a: x\n", Limits::Config).unwrap_err();
    assert!(
        matches!(&shape, Error::Syntax { line: 1, column: 4, message } if message.contains("u32")),
        "{shape:?}"
    );
}

proptest! {
    /// Whatever the emitter writes (plain or quoted), the span of each value parses back, on
    /// its own, to that value: replacing those bytes replaces exactly that value.
    #[test]
    fn every_emitted_scalar_span_reads_back_as_its_value(
        map in prop::collection::btree_map("[a-z][a-z0-9_]{0,8}", any::<String>(), 1..6),
    ) {
        let text = to_string(&map).unwrap();
        let d = doc(&text);
        let Value::Map(entries) = &d.value else { panic!("{d:?}") };
        prop_assert_eq!(entries.len(), map.len());
        for e in entries {
            let alone: String = deserialize(slice(&text, &e.value), Limits::Config).unwrap();
            prop_assert_eq!(&alone, &map[&e.key], "{}", text);
        }
    }
}

#[test]
fn a_key_repeated_with_the_same_value_is_one_key() {
    // The GlueOps app chart's own deployment example repeats `resources:` identically.
    let text = "resources:\n  cpu: 1\nname: a\nresources:\n  cpu: 1\n";
    let tree = glueops_yaml::parse_located(text).unwrap().unwrap();
    let glueops_yaml::Value::Map(entries) = &tree.value else {
        panic!("not a map")
    };
    assert_eq!(
        entries.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
        ["resources", "name"]
    );
    assert_eq!(entries[0].key_span.line, 1, "the first one is kept");
}

#[test]
fn a_key_repeated_with_another_value_is_an_error() {
    for text in [
        "a: 1\na: 2\n",
        "m: {x: 1}\nm: {x: 2}\n",
        "l: [1]\nl: [1, 2]\n",
    ] {
        let err = glueops_yaml::parse_located(text).unwrap_err().to_string();
        assert!(err.contains("duplicate mapping key"), "{text:?}: {err}");
    }
}
