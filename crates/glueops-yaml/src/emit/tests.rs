//! The emitter's layout and quoting, case by case.

use super::*;

#[test]
fn quoting() {
    for plain in [
        "api",
        "ghcr.io/acme/api",
        "app.kubernetes.io/name",
        "50m",
        "128Mi",
        "RollingUpdate",
        "a b",
        "http://x",
        "v1.2",
        "1h30m",
    ] {
        assert!(is_plain_safe(plain), "{plain} should be plain");
    }
    for quoted in [
        "",
        "yes",
        "No",
        "ON",
        "y",
        "null",
        "~",
        "1.10",
        "1.4.2",
        "0755",
        "1_000",
        "0x1F",
        "2024-01-01",
        "1:20",
        "-1",
        ".inf",
        "a: b",
        "a #b",
        "{x}",
        "*",
        " a",
        "a ",
        "a:",
        "'q'",
        "1e3",
        "+1",
    ] {
        assert!(!is_plain_safe(quoted), "{quoted} should be quoted");
    }
}

#[test]
fn layout() {
    #[derive(serde::Serialize)]
    struct Doc {
        name: &'static str,
        list: Vec<std::collections::BTreeMap<&'static str, &'static str>>,
        empty: Vec<u8>,
        nested: std::collections::BTreeMap<&'static str, Vec<&'static str>>,
        f: f64,
    }
    let doc = Doc {
        name: "yes",
        list: vec![[("a", "1"), ("b", "x")].into_iter().collect()],
        empty: vec![],
        nested: [("k", vec!["p", "q"])].into_iter().collect(),
        f: 2.0,
    };
    assert_eq!(
        to_string(&doc).unwrap(),
        "name: \"yes\"\nlist:\n- a: \"1\"\n  b: x\nempty: []\nnested:\n  k:\n  - p\n  - q\nf: 2.0\n"
    );
}

#[test]
fn nesting_variants_and_keys() {
    #[derive(serde::Serialize)]
    enum E {
        Unit,
        New(u8),
        Tuple(u8, &'static str),
        Struct { a: u8, b: Vec<u8> },
    }
    #[derive(serde::Serialize)]
    struct Doc {
        items: Vec<E>,
        lists: Vec<Vec<&'static str>>,
        empties: (std::collections::BTreeMap<u8, u8>, Vec<u8>),
        keys: std::collections::BTreeMap<i32, Option<bool>>,
        variant: E,
    }
    let doc = Doc {
        items: vec![
            E::Unit,
            E::New(1),
            E::Tuple(2, "on"),
            E::Struct { a: 3, b: vec![] },
        ],
        lists: vec![vec!["a", "b"], vec![]],
        empties: (Default::default(), vec![]),
        keys: [(1, Some(true)), (2, None)].into_iter().collect(),
        variant: E::Struct { a: 4, b: vec![5] },
    };
    assert_eq!(
        to_string(&doc).unwrap(),
        "items:\n- Unit\n- New: 1\n- Tuple:\n  - 2\n  - \"on\"\n- Struct:\n    a: 3\n    b: []\n\
         lists:\n- - a\n  - b\n- []\n\
         empties:\n- {}\n- []\n\
         keys:\n  \"1\": true\n  \"2\": null\n\
         variant:\n  Struct:\n    a: 4\n    b:\n    - 5\n"
    );
    assert_eq!(to_string(&Vec::<u8>::new()).unwrap(), "[]\n");
    assert_eq!(to_string(&[1, 2]).unwrap(), "- 1\n- 2\n");
    assert_eq!(to_string("yes").unwrap(), "\"yes\"\n");
    let bad: std::collections::BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into_iter().collect();
    assert!(
        to_string(&bad)
            .unwrap_err()
            .to_string()
            .contains("map keys")
    );
}
