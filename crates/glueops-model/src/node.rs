//! Located values: the YAML tree of a values file where every node remembers the file, line
//! and column it came from, and the Helm-style layering of such trees.
//!
//! # Layering
//! [`Node::layer`] puts one tree over another the way Helm merges values files:
//! maps merge key by key, scalars and lists replace, and an explicit `null` removes the key
//! (it stays in the layered tree as a tombstone until [`Node::effective`] drops it, so that
//! layering stays associative: `(a + b) + c == a + (b + c)`). A map that lands on something
//! that is not a map replaces it, and remembers that it did, so lower layers never leak back in.
//! Every leaf of a layered tree keeps the location of the last layer that set it.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use self::NodeValue as Value;

/// Where a value was written: a file of the config repo (relative path), a 1-based line and
/// a 1-based column. Line 0 means "the whole file" (used for errors about a file or folder).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// Path of the file relative to the repo root, with `/` separators.
    pub file: Arc<str>,
    /// 1-based line, or 0 for the file as a whole.
    pub line: u32,
    /// 1-based column, or 0 for the file as a whole.
    pub column: u32,
}

impl Location {
    /// A location at `line:column` of `file`.
    pub fn new(file: Arc<str>, line: u32, column: u32) -> Self {
        Self { file, line, column }
    }

    /// The file as a whole (no line).
    pub fn file(file: impl Into<Arc<str>>) -> Self {
        Self::new(file.into(), 0, 0)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file)
        } else {
            write!(f, "{}:{}:{}", self.file, self.line, self.column)
        }
    }
}

/// One located value.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where it was written (for a layered map: where the topmost layer wrote it).
    pub location: Location,
}

/// A YAML value whose children are located [`Node`]s.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    /// `null` or `~`: in a layer, removes the key from the layers below.
    Null,
    /// `true` / `false` (YAML 1.2: `yes`/`on` are strings).
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    String(String),
    /// A sequence; layering replaces it as a whole.
    List(Vec<Node>),
    /// A mapping; layering merges it key by key.
    Map(Map),
}

/// A mapping with keys in sorted order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Map {
    entries: BTreeMap<String, Entry>,
    /// True when this map replaced a non-map value of a lower layer: layering it onto anything
    /// replaces rather than merges.
    replaces: bool,
}

/// A key's location and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Where the key was written.
    pub key_location: Location,
    /// The value.
    pub node: Node,
}

impl Map {
    /// A map of the given entries.
    pub(crate) fn from_entries(entries: BTreeMap<String, Entry>) -> Self {
        Self {
            entries,
            replaces: false,
        }
    }

    /// The entry for `key`.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.get(key)
    }

    /// Removes `key`'s entry.
    pub(crate) fn remove(&mut self, key: &str) -> Option<Entry> {
        self.entries.remove(key)
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Entry)> {
        self.entries.iter()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl FromIterator<(String, Entry)> for Map {
    /// A map of the given entries (a key given twice keeps the last).
    fn from_iter<I: IntoIterator<Item = (String, Entry)>>(entries: I) -> Self {
        Self::from_entries(entries.into_iter().collect())
    }
}

/// One step of a path into a tree: a map key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Segment {
    /// A map key.
    Key(String),
    /// A list index.
    Index(usize),
}

impl From<&str> for Segment {
    fn from(key: &str) -> Self {
        Segment::Key(key.to_string())
    }
}

impl From<usize> for Segment {
    fn from(index: usize) -> Self {
        Segment::Index(index)
    }
}

/// Formats a key path the way users write it: `deployment.envSecrets[0].secretName`.
pub fn display_path(path: &[Segment]) -> String {
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Segment::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
    if out.is_empty() {
        out.push_str("(top level)");
    }
    out
}

impl Node {
    /// A node at a location.
    pub fn new(value: Value, location: Location) -> Self {
        Self { value, location }
    }

    /// An empty map located at the start of `file`: the identity of layering.
    pub fn empty(file: impl Into<Arc<str>>) -> Self {
        Self::new(Value::Map(Map::default()), Location::new(file.into(), 1, 1))
    }

    /// Puts `upper` over `self` (see the module docs for the rules).
    pub fn layer(self, upper: Node) -> Node {
        match upper.value {
            Value::Map(upper_map) => {
                if upper_map.replaces {
                    return Node::new(Value::Map(upper_map), upper.location);
                }
                match self.value {
                    Value::Map(mut lower_map) => {
                        for (key, entry) in upper_map.entries {
                            let merged = match lower_map.entries.remove(&key) {
                                Some(lower) => Entry {
                                    key_location: entry.key_location,
                                    node: lower.node.layer(entry.node),
                                },
                                None => entry,
                            };
                            lower_map.entries.insert(key, merged);
                        }
                        Node::new(Value::Map(lower_map), upper.location)
                    }
                    _ => Node::new(
                        Value::Map(Map {
                            entries: upper_map.entries,
                            replaces: true,
                        }),
                        upper.location,
                    ),
                }
            }
            other => Node::new(other, upper.location),
        }
    }

    /// The tree as a reader sees it after layering: `null` tombstones removed from maps and
    /// the layering marks cleared.
    pub fn effective(self) -> Node {
        let value = match self.value {
            Value::Map(map) => Value::Map(Map::from_entries(
                map.entries
                    .into_iter()
                    .filter(|(_, e)| e.node.value != Value::Null)
                    .map(|(k, e)| {
                        (
                            k,
                            Entry {
                                key_location: e.key_location,
                                node: e.node.effective(),
                            },
                        )
                    })
                    .collect(),
            )),
            Value::List(items) => Value::List(items.into_iter().map(Node::effective).collect()),
            other => other,
        };
        Node::new(value, self.location)
    }

    /// `layers` (lowest first) put over one another and made effective: the same tree as
    /// folding [`Node::layer`] over [`Node::empty`]`(file)` and calling [`Node::effective`],
    /// built in one pass that copies only what the result keeps.
    pub fn merge(file: Arc<str>, layers: &[&Node]) -> Node {
        if layers.is_empty() {
            return Node::empty(file);
        }
        if layers.iter().any(|l| l.has_replacing_map()) {
            // Only trees that are themselves results of layering carry replace marks.
            return layers
                .iter()
                .fold(Node::empty(file), |acc, l| acc.layer((*l).clone()))
                .effective();
        }
        merged(layers)
    }

    fn has_replacing_map(&self) -> bool {
        match &self.value {
            Value::Map(m) => m.replaces || m.entries.values().any(|e| e.node.has_replacing_map()),
            Value::List(items) => items.iter().any(Node::has_replacing_map),
            _ => false,
        }
    }

    /// A copy with `null` entries of maps removed (what [`Node::effective`] gives, from a
    /// borrowed tree).
    fn effective_copy(&self) -> Node {
        let value = match &self.value {
            Value::Map(map) => Value::Map(Map::from_entries(
                map.entries
                    .iter()
                    .filter(|(_, e)| e.node.value != Value::Null)
                    .map(|(k, e)| {
                        (
                            k.clone(),
                            Entry {
                                key_location: e.key_location.clone(),
                                node: e.node.effective_copy(),
                            },
                        )
                    })
                    .collect(),
            )),
            Value::List(items) => Value::List(items.iter().map(Node::effective_copy).collect()),
            other => other.clone(),
        };
        Node::new(value, self.location.clone())
    }

    /// The node at `path`, to change it.
    pub(crate) fn get_mut(&mut self, path: &[Segment]) -> Option<&mut Node> {
        let mut at = self;
        for segment in path {
            at = match (&mut at.value, segment) {
                (Value::Map(map), Segment::Key(k)) => &mut map.entries.get_mut(k)?.node,
                (Value::List(items), Segment::Index(i)) => items.get_mut(*i)?,
                _ => return None,
            };
        }
        Some(at)
    }

    /// Removes the value at `path` (a key of a map), if there is one.
    pub(crate) fn remove(&mut self, path: &[Segment]) {
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        let mut at = self;
        for segment in parents {
            let next = match (&mut at.value, segment) {
                (Value::Map(map), Segment::Key(k)) => map.entries.get_mut(k).map(|e| &mut e.node),
                (Value::List(items), Segment::Index(i)) => items.get_mut(*i),
                _ => None,
            };
            let Some(next) = next else { return };
            at = next;
        }
        if let (Value::Map(map), Segment::Key(k)) = (&mut at.value, last) {
            map.remove(k);
        }
    }

    /// The node at `path`, if any.
    pub fn get(&self, path: &[Segment]) -> Option<&Node> {
        let mut node = self;
        for segment in path {
            node = match (segment, &node.value) {
                (Segment::Key(k), Value::Map(m)) => &m.get(k)?.node,
                (Segment::Index(i), Value::List(l)) => l.get(*i)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// The best location for something wrong at `path`: the value there, or the deepest
    /// ancestor that exists.
    pub fn locate(&self, path: &[Segment]) -> Location {
        let mut node = self;
        for segment in path {
            let next = match (segment, &node.value) {
                (Segment::Key(k), Value::Map(m)) => m.get(k).map(|e| &e.node),
                (Segment::Index(i), Value::List(l)) => l.get(*i),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        node.location.clone()
    }

    /// The location of the key that ends `path` (for "unknown key" errors), falling back to
    /// [`Node::locate`].
    pub fn locate_key(&self, path: &[Segment]) -> Location {
        if let Some((Segment::Key(key), parent)) = path.split_last()
            && let Some(Node {
                value: Value::Map(m),
                ..
            }) = self.get(parent)
            && let Some(entry) = m.get(key)
        {
            return entry.key_location.clone();
        }
        self.locate(path)
    }

    /// The value as JSON (for schema validation and typed decoding). Locations are dropped;
    /// `null` entries are kept.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::String(s) => J::String(s.clone()),
            Value::List(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(m) => J::Object(
                m.entries
                    .iter()
                    .map(|(k, e)| (k.clone(), e.node.to_json()))
                    .collect(),
            ),
        }
    }

    /// A short name for the kind of value, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::String(_) => "a string",
            Value::List(_) => "a list",
            Value::Map(_) => "a map",
        }
    }
}

/// The effective layering of `nodes` (lowest first, at least one): the top one if it is not a
/// map; otherwise the maps above the highest non-map, merged key by key.
fn merged(nodes: &[&Node]) -> Node {
    let Some(top) = nodes.last() else {
        return Node::new(Value::Null, Location::file(""));
    };
    let start = match nodes
        .iter()
        .rposition(|n| !matches!(n.value, Value::Map(_)))
    {
        Some(j) if j + 1 == nodes.len() => return top.effective_copy(),
        Some(j) => j + 1,
        None => 0,
    };
    let maps = &nodes[start..];
    if maps.len() == 1 {
        return top.effective_copy();
    }
    let mut by_key: BTreeMap<&String, Vec<&Entry>> = BTreeMap::new();
    for node in maps {
        if let Value::Map(m) = &node.value {
            for (key, entry) in &m.entries {
                by_key.entry(key).or_default().push(entry);
            }
        }
    }
    let mut entries = BTreeMap::new();
    let mut stack = Vec::new();
    for (key, layered) in by_key {
        stack.clear();
        stack.extend(layered.iter().map(|e| &e.node));
        let node = merged(&stack);
        if node.value == Value::Null {
            continue;
        }
        if let Some(last) = layered.last() {
            entries.insert(
                key.clone(),
                Entry {
                    key_location: last.key_location.clone(),
                    node,
                },
            );
        }
    }
    Node::new(Value::Map(Map::from_entries(entries)), top.location.clone())
}
