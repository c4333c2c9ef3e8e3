//! Property tests: the layering laws and YAML round-trips.

use std::collections::BTreeMap;
use std::sync::Arc;

use glueops_model::node::{Entry, Map};
use glueops_model::values::{ConfigEntry, ConfigMaps, DeploymentSpec, EnvVariable, Image, Pod};
use glueops_model::{AppValues, Location, Node, NodeValue as Value, Segment};
use glueops_yaml::{Limits, deserialize, to_string as to_yaml};
use proptest::prelude::*;

const KEYS: [&str; 5] = ["a", "b", "c", "d", "e"];

fn arb_scalar(file: Arc<str>) -> impl Strategy<Value = Node> {
    let value = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        "[a-z0-9 .:-]{0,8}".prop_map(Value::String),
    ];
    (value, 1u32..50, 1u32..20)
        .prop_map(move |(v, l, c)| Node::new(v, Location::new(file.clone(), l, c)))
}

/// Trees whose every node is located in `file`.
fn arb_tree(file: &'static str) -> impl Strategy<Value = Node> {
    let file: Arc<str> = Arc::from(file);
    let leaf = arb_scalar(file.clone());
    let f2 = file.clone();
    let inner = leaf.prop_recursive(4, 40, 5, move |inner| {
        let f = f2.clone();
        let f3 = f2.clone();
        prop_oneof![
            (prop::collection::vec(inner.clone(), 0..3), 1u32..50).prop_map(move |(items, l)| {
                Node::new(Value::List(items), Location::new(f.clone(), l, 1))
            }),
            (
                prop::collection::btree_map(prop::sample::select(&KEYS[..]), inner, 0..4),
                1u32..50
            )
                .prop_map(move |(m, l)| map_node(
                    &f3,
                    m.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
                    l
                )),
        ]
    });
    let f4 = file.clone();
    (
        prop::collection::btree_map(prop::sample::select(&KEYS[..]), inner, 0..5),
        1u32..50,
    )
        .prop_map(move |(m, l)| {
            map_node(
                &f4,
                m.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
                l,
            )
        })
}

fn map_node(file: &Arc<str>, entries: BTreeMap<String, Node>, line: u32) -> Node {
    let entries: Map = entries
        .into_iter()
        .map(|(k, node)| {
            (
                k,
                Entry {
                    key_location: node.location.clone(),
                    node,
                },
            )
        })
        .collect();
    Node::new(Value::Map(entries), Location::new(file.clone(), line, 1))
}

/// Every leaf (non-map value, or empty map) with its path and location: what a reader of the
/// layered values sees, and where each piece came from.
fn leaves(node: &Node) -> Vec<(Vec<Segment>, serde_json::Value, Location)> {
    fn go(
        node: &Node,
        path: &mut Vec<Segment>,
        out: &mut Vec<(Vec<Segment>, serde_json::Value, Location)>,
    ) {
        match &node.value {
            Value::Map(m) if !m.is_empty() || path.is_empty() => {
                for (k, e) in m.iter() {
                    path.push(Segment::Key(k.clone()));
                    go(&e.node, path, out);
                    path.pop();
                }
            }
            _ => out.push((path.clone(), node.to_json(), node.location.clone())),
        }
    }
    let mut out = Vec::new();
    go(node, &mut Vec::new(), &mut out);
    out
}

fn stack(layers: &[&Node]) -> Node {
    layers
        .iter()
        .fold(Node::empty("empty"), |acc, l| acc.layer((*l).clone()))
}

/// The layers (by index) that have a node at `path`.
fn has_path(node: &Node, path: &[Segment]) -> bool {
    node.get(path).is_some()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn an_empty_layer_is_an_identity(a in arb_tree("a")) {
        let empty = Node::empty("empty");
        prop_assert_eq!(leaves(&empty.clone().layer(a.clone())), leaves(&a));
        prop_assert_eq!(leaves(&a.clone().layer(empty)), leaves(&a));
    }

    #[test]
    fn merge_is_layering_then_effective(a in arb_tree("a"), b in arb_tree("b"), c in arb_tree("c")) {
        for layers in [vec![], vec![&a], vec![&a, &b], vec![&a, &b, &c], vec![&c, &a, &b, &a]] {
            prop_assert_eq!(
                Node::merge(Arc::from("empty"), &layers),
                stack(&layers).effective()
            );
        }
        // Layered trees carry replace marks; merging them is still the same fold.
        let layered = stack(&[&a, &b]);
        prop_assert_eq!(
            Node::merge(Arc::from("empty"), &[&layered, &c]),
            stack(&[&layered, &c]).effective()
        );
    }

    #[test]
    fn layering_is_associative(a in arb_tree("a"), b in arb_tree("b"), c in arb_tree("c")) {
        let left = a.clone().layer(b.clone()).layer(c.clone());
        let right = a.layer(b.layer(c));
        prop_assert_eq!(leaves(&left), leaves(&right));
        prop_assert_eq!(leaves(&left.effective()), leaves(&right.effective()));
    }

    #[test]
    fn null_removes_the_key(a in arb_tree("a"), key in prop::sample::select(&KEYS[..])) {
        let null = Node::new(Value::Null, Location::new(Arc::from("b"), 1, 1));
        let b = map_node(&Arc::from("b"), BTreeMap::from([(key.to_string(), null)]), 1);
        let merged = a.layer(b).effective();
        prop_assert!(merged.get(&[Segment::from(key)]).is_none());
    }

    #[test]
    fn provenance_is_the_last_layer_that_set_the_leaf(a in arb_tree("a"), b in arb_tree("b"), c in arb_tree("c")) {
        let layers = [&a, &b, &c];
        let merged = stack(&layers).effective();
        for (path, _, location) in leaves(&merged) {
            let last = layers.iter().rev().find(|l| has_path(l, &path));
            prop_assert!(last.is_some(), "leaf at {:?} comes from no layer", path);
            let last = last.unwrap();
            prop_assert_eq!(&location.file, &last.location.file, "leaf at {:?}", path);
            prop_assert_eq!(Some(&location), last.get(&path).map(|n| &n.location));
        }
    }

    #[test]
    fn trees_round_trip_through_yaml(a in arb_tree("a")) {
        let json = a.to_json();
        let text = to_yaml(&json).unwrap();
        let back: serde_json::Value = deserialize(&text, Limits::Config).unwrap_or_else(|e| panic!("{e}\n{text}"));
        prop_assert_eq!(back, json, "{}", text);
    }

    #[test]
    fn app_values_round_trip_through_yaml(
        tag in "[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}",
        replicas in any::<u32>(),
        port in any::<u16>(),
        vars in prop::collection::vec(("[A-Z_]{1,8}", any::<String>()), 0..4),
        config in prop::collection::btree_map("[a-z._-]{1,8}", any::<String>(), 0..4),
    ) {
        let values = AppValues {
            image: Some(Image { tag: Some(tag), port: Some(port), ..Image::default() }),
            deployment: Some(Box::new(DeploymentSpec {
                replicas: Some(replicas),
                pod: Pod {
                    env_variables: Some(vars.into_iter().map(|(n, v)| EnvVariable { name: Some(n), value: Some(v) }).collect()),
                    ..Pod::default()
                },
                ..DeploymentSpec::default()
            })),
            config_map: Some(ConfigMaps {
                configs: Some(BTreeMap::from([("app".to_string(), Some(ConfigEntry { data_map: Some(config), data: None }))])),
                ..ConfigMaps::default()
            }),
            ..AppValues::default()
        };
        let text = to_yaml(&values).unwrap();
        let back: AppValues = deserialize(&text, Limits::Config).unwrap_or_else(|e| panic!("{e}\n{text}"));
        prop_assert_eq!(back, values, "{}", text);
    }
}

#[test]
fn ambiguous_strings_stay_strings() {
    for s in [
        "yes",
        "no",
        "on",
        "off",
        "NO",
        "1.10",
        "0755",
        "1_000",
        "2024-01-01",
        "null",
        "~",
        "",
        "true",
        "0x1F",
        ".inf",
        "1e3",
    ] {
        let text = to_yaml(&BTreeMap::from([("v", s)])).unwrap();
        let back: serde_json::Value = deserialize(&text, Limits::Config).unwrap();
        assert_eq!(
            back["v"],
            serde_json::Value::String(s.to_string()),
            "{s:?} -> {text}"
        );
    }
}
