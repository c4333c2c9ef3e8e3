//! JSON Schemas generated from the Rust types, and validation of each raw file against them.
//!
//! The committed `schema/*.schema.json` files are these schemas (a test fails when they drift),
//! so an editor using them and glueops accept exactly the same files.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use jsonschema::{ValidationError, Validator};
use serde_json::Value as Json;

use crate::diagnostics::{Code, Diagnostic};
use crate::node::{Node, Segment, display_path};
use crate::platform::Platform;
use crate::suggest::did_you_mean;
use crate::values::AppValues;

mod forms;

pub(crate) use forms::Fixes;
use forms::{chart_form, chart_form_warning, one_of, type_names, wrong_type};

/// Which document a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// A values file (`common-values.yaml`, `env-values.yaml`, `base-values.yaml`,
    /// `values.yaml`): [`AppValues`].
    AppValues,
    /// `glueops.yaml`: [`Platform`].
    Platform,
}

impl Document {
    /// The schema as JSON (JSON Schema 2020-12).
    pub fn schema(self) -> Json {
        let schema = match self {
            Document::AppValues => schemars::schema_for!(AppValues),
            Document::Platform => schemars::schema_for!(Platform),
        };
        let mut schema = schema.to_value();
        if let Some(defs) = schema.get_mut("$defs").and_then(Json::as_object_mut) {
            for def in defs.values_mut() {
                close(def);
            }
        }
        schema
    }

    /// The file name the schema is committed under in `schema/`.
    pub fn file_name(self) -> &'static str {
        match self {
            Document::AppValues => "app-values.schema.json",
            Document::Platform => "platform.schema.json",
        }
    }

    /// The compiled schema for `instance`: for a values file, the lean one unless the file
    /// sets a Kubernetes pass-through key (affinity, probes, volumes, ...), which only the
    /// full one can check. Compiling the full schema costs several times the lean one, and
    /// most files never need it.
    fn compiled_for(self, instance: &Json) -> &'static Result<(Validator, Json), String> {
        match self {
            Document::AppValues if uses(instance, &lean_app_values().1) => {
                compile(&APP_FULL, || self.schema())
            }
            Document::AppValues => compile(&APP_LEAN, || lean_app_values().0.clone()),
            Document::Platform => compile(&PLATFORM, || self.schema()),
        }
    }
}

type Compiled = OnceLock<Result<(Validator, Json), String>>;
static APP_LEAN: Compiled = OnceLock::new();
static APP_FULL: Compiled = OnceLock::new();
static PLATFORM: Compiled = OnceLock::new();

fn compile(
    cell: &'static Compiled,
    schema: impl FnOnce() -> Json,
) -> &'static Result<(Validator, Json), String> {
    cell.get_or_init(|| {
        let schema = schema();
        jsonschema::draft202012::new(&schema)
            .map(|v| (v, schema.clone()))
            .map_err(|e| e.to_string())
    })
}

/// The app-values schema with every Kubernetes pass-through type accepting anything, and the
/// keys whose values are such types.
fn lean_app_values() -> &'static (Json, BTreeSet<String>) {
    static LEAN: OnceLock<(Json, BTreeSet<String>)> = OnceLock::new();
    LEAN.get_or_init(|| {
        let mut schema = Document::AppValues.schema();
        let mut keys = BTreeSet::new();
        strip_kubernetes(&mut schema, None, &mut keys);
        if let Some(defs) = schema.get_mut("$defs").and_then(Json::as_object_mut) {
            defs.retain(|name, _| !name.starts_with(KUBERNETES_DEFS));
        }
        (schema, keys)
    })
}

const KUBERNETES_DEFS: &str = "io.k8s.";

impl AppValues {
    /// The top-level keys glueops knows (every other key is a template value).
    pub fn known_keys() -> Vec<String> {
        app_keys()
    }
}

/// The top-level keys of a values file, from the (cached) schema.
pub(crate) fn app_keys() -> Vec<String> {
    lean_app_values().0["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// Replaces every reference to a Kubernetes type below `schema` by `true`, recording the
/// property it was the value of.
fn strip_kubernetes(schema: &mut Json, property: Option<&str>, keys: &mut BTreeSet<String>) {
    match schema {
        Json::Object(map) => {
            let kubernetes = map
                .get("$ref")
                .and_then(Json::as_str)
                .is_some_and(|r| r.starts_with(&format!("#/$defs/{KUBERNETES_DEFS}")));
            if kubernetes {
                keys.extend(property.map(str::to_string));
                *schema = Json::Bool(true);
                return;
            }
            for (key, value) in map.iter_mut() {
                match key.as_str() {
                    "properties" => {
                        if let Some(props) = value.as_object_mut() {
                            for (name, sub) in props.iter_mut() {
                                strip_kubernetes(sub, Some(name), keys);
                            }
                        }
                    }
                    "$defs" => {
                        if let Some(defs) = value.as_object_mut() {
                            for (name, sub) in defs.iter_mut() {
                                if !name.starts_with(KUBERNETES_DEFS) {
                                    strip_kubernetes(sub, None, keys);
                                }
                            }
                        }
                    }
                    _ => strip_kubernetes(value, property, keys),
                }
            }
        }
        Json::Array(items) => items
            .iter_mut()
            .for_each(|i| strip_kubernetes(i, property, keys)),
        _ => {}
    }
}

/// Whether `instance` has any of `keys` anywhere.
fn uses(instance: &Json, keys: &BTreeSet<String>) -> bool {
    match instance {
        Json::Object(map) => map.iter().any(|(k, v)| keys.contains(k) || uses(v, keys)),
        Json::Array(items) => items.iter().any(|i| uses(i, keys)),
        _ => false,
    }
}

/// Makes an object schema that lists its properties reject every other key, as glueops'
/// own types do: the Kubernetes types (affinity, probes, volumes, ...) leave that open, and a
/// typo there would otherwise pass unnoticed.
fn close(schema: &mut Json) {
    let Some(map) = schema.as_object_mut() else {
        return;
    };
    if map.contains_key("properties") && !map.contains_key("additionalProperties") {
        map.insert("additionalProperties".into(), Json::Bool(false));
    }
}

/// Compiles both schemas now (each is compiled once per process, on first use).
fn prepare() {
    let _ = Document::AppValues.compiled_for(&Json::Null);
    let _ = Document::Platform.compiled_for(&Json::Null);
}

/// Starts compiling both schemas on rayon's pool unless that is done: a fixed cost of
/// milliseconds, once per process, that overlaps with reading and parsing the files
/// (validation waits for it if it must).
pub(crate) fn prepare_in_background() {
    if !prepared() {
        rayon::spawn(prepare);
    }
}

/// True once both schemas are compiled.
fn prepared() -> bool {
    APP_LEAN.get().is_some() && PLATFORM.get().is_some()
}

/// Validates one raw file against its schema; every problem becomes a located diagnostic.
/// The file's problems, and the keys to drop from it: in app values, a key no schema knows
/// and no known key is a near miss of is ignored by the chart, so it is a warning and is
/// dropped (glueops ignores it too); a near miss stays an error.
pub(crate) fn validate(document: Document, node: &Node, text: &str) -> (Vec<Diagnostic>, Fixes) {
    let instance = node.to_json();
    let (validator, schema) = match document.compiled_for(&instance) {
        Ok(v) => (&v.0, &v.1),
        Err(e) => {
            let broken = Diagnostic::new(
                Code::InvalidValue,
                node.location.clone(),
                "",
                format!("glueops' built-in schema failed to compile: {e}"),
            )
            .help("this is a bug in glueops; please report it");
            return (vec![broken], Fixes::default());
        }
    };
    let mut out = Vec::new();
    let mut ignored = Fixes::default();
    let app_values = document == Document::AppValues;
    for error in validator.iter_errors(&instance) {
        convert(
            &error,
            node,
            schema,
            &mut out,
            app_values.then_some(&mut ignored),
        );
    }
    // Show the value as the user wrote it (`1.10`, not the parsed `1.1`).
    for d in &mut out {
        if let Some(help) = d.help.as_mut()
            && help.starts_with("quote it")
            && let Some(raw) = crate::yaml::raw_scalar(text, d.location.line, d.location.column)
        {
            *help = format!("quote it so YAML keeps it as text: \"{raw}\"");
        }
    }
    (out, ignored)
}

fn instance_path(error: &ValidationError<'_>) -> Vec<Segment> {
    error
        .instance_path()
        .iter()
        .map(|s| match s {
            LocationSegment::Property(p) => Segment::Key(p.to_string()),
            LocationSegment::Index(i) => Segment::Index(i),
        })
        .collect()
}

fn convert(
    error: &ValidationError<'_>,
    node: &Node,
    schema: &Json,
    out: &mut Vec<Diagnostic>,
    mut ignored: Option<&mut Fixes>,
) {
    let path = instance_path(error);
    let shown = display_path(&path);
    let at = node.get(&path);
    let found = at.map_or("nothing", Node::kind_name);
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let allowed = object_properties(schema, &path);
            for key in unexpected {
                let mut key_path = path.clone();
                key_path.push(Segment::Key(key.clone()));
                let parent = if path.is_empty() {
                    "at the top level".to_string()
                } else {
                    format!("in `{shown}`")
                };
                let suggestion = did_you_mean(key, allowed.iter().map(String::as_str));
                let help = match suggestion {
                    Some(s) => format!("did you mean `{s}`?"),
                    None if allowed.is_empty() => "remove this key".to_string(),
                    None => format!("remove it; keys allowed here: {}", allowed.join(", ")),
                };
                let diagnostic = Diagnostic::new(
                    Code::UnknownKey,
                    node.locate_key(&key_path),
                    display_path(&key_path),
                    format!("unknown key `{key}` {parent}"),
                )
                .help(help);
                let per_workload_image =
                    path.len() >= 2 && path.last() == Some(&Segment::Key("image".to_string()));
                match (suggestion, ignored.as_deref_mut()) {
                    _ if per_workload_image => out.push(Diagnostic {
                        message: format!(
                            "`image.{key}` is not supported under a per-resource image (`{shown}` takes registry, repository, tag and digest); the chart refuses it too"
                        ),
                        help: Some(suggestion.map_or_else(
                            || "set it on the workload instead of in its image, or under the top-level `image`".to_string(),
                            |s| format!("did you mean `{s}`?"),
                        )),
                        ..diagnostic
                    }),
                    (None, Some(ignored)) => {
                        out.push(Diagnostic {
                            message: format!(
                                "unknown key `{key}` {parent}: no chart template reads it, so GlueOps ignores it, and so does glueops"
                            ),
                            ..diagnostic.warning()
                        });
                        ignored.drop.push(key_path);
                    }
                    (Some(_), Some(_)) => out.push(Diagnostic {
                        message: format!(
                            "unknown key `{key}` {parent}: it would not take effect"
                        ),
                        ..diagnostic
                    }),
                    _ => out.push(diagnostic),
                }
            }
        }
        ValidationErrorKind::Required { property } => {
            let property = property.as_str().unwrap_or_default();
            let mut key_path = path.clone();
            key_path.push(Segment::Key(property.to_string()));
            out.push(
                Diagnostic::new(
                    Code::MissingKey,
                    node.locate(&path),
                    display_path(&key_path),
                    format!("missing required key `{property}`"),
                )
                .help(format!("add `{property}:` here")),
            );
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            alternatives(context, &path, node, schema, out, ignored);
        }
        ValidationErrorKind::Type { kind } if ignored.is_some() => {
            let expected = type_names(kind);
            match (chart_form(node.get(&path), &path, &expected), ignored) {
                (Some((value, what)), Some(fixes)) => {
                    out.push(chart_form_warning(node, &path, &what));
                    fixes.set.push((path, value));
                }
                _ => out.push(leaf(error.kind(), &path, node, found)),
            }
        }
        kind => out.push(leaf(kind, &path, node, found)),
    }
}

/// A schema error that is not about keys: wrong type, not one of the allowed values, range.
fn leaf(kind: &ValidationErrorKind, path: &[Segment], node: &Node, found: &str) -> Diagnostic {
    let shown = display_path(path);
    let location = node.locate(path);
    let value = node.get(path).map(Node::to_json).unwrap_or(Json::Null);
    let d = |code, msg: String| Diagnostic::new(code, location.clone(), shown.clone(), msg);
    match kind {
        ValidationErrorKind::Type { kind } => {
            let expected: Vec<String> = match kind {
                TypeKind::Single(t) => vec![t.to_string()],
                TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect(),
            };
            wrong_type(
                d(Code::WrongType, String::new()),
                &shown,
                &expected,
                found,
                &value,
            )
        }
        ValidationErrorKind::Enum { options } => {
            let options: Vec<String> = options
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            one_of(
                d(Code::InvalidValue, String::new()),
                &shown,
                &options,
                &value,
            )
        }
        ValidationErrorKind::Constant { expected_value } => {
            let options = expected_value
                .as_str()
                .map(str::to_string)
                .into_iter()
                .collect::<Vec<_>>();
            one_of(
                d(Code::InvalidValue, String::new()),
                &shown,
                &options,
                &value,
            )
        }
        ValidationErrorKind::Minimum { limit }
        | ValidationErrorKind::ExclusiveMinimum { limit } => d(
            Code::InvalidValue,
            format!("`{shown}` is {value}, below the minimum {limit}"),
        )
        .help(format!("use a value of at least {limit}")),
        ValidationErrorKind::Maximum { limit }
        | ValidationErrorKind::ExclusiveMaximum { limit } => d(
            Code::InvalidValue,
            format!("`{shown}` is {value}, above the maximum {limit}"),
        )
        .help(format!("use a value of at most {limit}")),
        other => d(
            Code::InvalidValue,
            format!("`{shown}` is invalid: {other:?}"),
        )
        .help("check the value against schema/ in the glueops repo"),
    }
}

/// An `anyOf`/`oneOf` failed (an optional value, a union such as integer-or-string, or an
/// enum with documented variants). Report the branch that explains it best.
fn alternatives(
    context: &[Vec<ValidationError<'static>>],
    path: &[Segment],
    node: &Node,
    schema: &Json,
    out: &mut Vec<Diagnostic>,
    mut ignored: Option<&mut Fixes>,
) {
    let is_null = matches!(
        node.get(path).map(|n| &n.value),
        Some(crate::node::NodeValue::Null)
    );
    // Branches that only say "this should be null" explain nothing for a non-null value.
    let branches: Vec<&Vec<ValidationError<'static>>> = context
        .iter()
        .filter(|b| is_null || !b.iter().all(|e| is_null_type_error(e)))
        .collect();
    let mut leaves = Vec::new();
    for branch in &branches {
        for e in branch.iter() {
            collect_leaves(e, &mut leaves);
        }
    }
    let same_place = leaves.iter().all(|e| instance_path(e) == path);
    let simple = leaves.iter().all(|e| {
        matches!(
            e.kind(),
            ValidationErrorKind::Type { .. }
                | ValidationErrorKind::Constant { .. }
                | ValidationErrorKind::Enum { .. }
        )
    });
    if !leaves.is_empty() && same_place && simple {
        let found = node.get(path).map_or("nothing", Node::kind_name);
        let value = node.get(path).map(Node::to_json).unwrap_or(Json::Null);
        let mut types = Vec::new();
        let mut options = Vec::new();
        for e in &leaves {
            match e.kind() {
                ValidationErrorKind::Type {
                    kind: TypeKind::Single(t),
                } => types.push(t.to_string()),
                ValidationErrorKind::Type {
                    kind: TypeKind::Multiple(s),
                } => types.extend(s.iter().map(|t| t.to_string())),
                ValidationErrorKind::Constant { expected_value } => {
                    options.extend(expected_value.as_str().map(str::to_string))
                }
                ValidationErrorKind::Enum { options: o } => options.extend(
                    o.as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|v| v.as_str().map(str::to_string)),
                ),
                _ => {}
            }
        }
        let d = Diagnostic::new(Code::WrongType, node.locate(path), display_path(path), "");
        if !options.is_empty() && value.is_string() {
            let mut d = one_of(d, &display_path(path), &options, &value);
            d.code = Code::InvalidValue;
            out.push(d);
        } else {
            types.dedup();
            if !options.is_empty() {
                types.push("string".to_string());
            }
            if let (Some((fixed, what)), Some(fixes)) = (
                chart_form(node.get(path), path, &types),
                ignored.as_deref_mut(),
            ) {
                out.push(chart_form_warning(node, path, &what));
                fixes.set.push((path.to_vec(), fixed));
                return;
            }
            out.push(wrong_type(d, &display_path(path), &types, found, &value));
        }
        return;
    }
    // A structural problem inside one branch (e.g. an unknown key inside an optional map):
    // report that branch's own errors, deepest first.
    let best = branches
        .iter()
        .max_by_key(|b| b.iter().map(|e| instance_path(e).len()).max().unwrap_or(0));
    if let Some(branch) = best {
        for e in branch.iter() {
            convert(e, node, schema, out, ignored.as_deref_mut());
        }
    }
}

fn is_null_type_error(e: &ValidationError<'_>) -> bool {
    matches!(e.kind(), ValidationErrorKind::Type { kind: TypeKind::Single(t) } if t.to_string() == "null")
}

fn collect_leaves<'a>(
    e: &'a ValidationError<'static>,
    out: &mut Vec<&'a ValidationError<'static>>,
) {
    match e.kind() {
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            for branch in context {
                for inner in branch {
                    collect_leaves(inner, out);
                }
            }
        }
        _ => out.push(e),
    }
}

/// The property names the schema allows for the object at `path` (for "did you mean").
fn object_properties(root: &Json, path: &[Segment]) -> Vec<String> {
    fn resolve<'a>(root: &'a Json, mut s: &'a Json) -> &'a Json {
        for _ in 0..16 {
            match s.get("$ref").and_then(Json::as_str) {
                Some(r) => match r
                    .strip_prefix("#/$defs/")
                    .and_then(|n| root.get("$defs")?.get(n))
                {
                    Some(next) => s = next,
                    None => return s,
                },
                None => return s,
            }
        }
        s
    }
    fn branches<'a>(root: &'a Json, s: &'a Json) -> Vec<&'a Json> {
        let s = resolve(root, s);
        let mut out = vec![s];
        for key in ["anyOf", "oneOf", "allOf"] {
            for b in s.get(key).and_then(Json::as_array).into_iter().flatten() {
                out.extend(branches(root, b));
            }
        }
        out
    }
    fn walk<'a>(root: &'a Json, s: &'a Json, path: &[Segment]) -> Vec<String> {
        let Some((first, rest)) = path.split_first() else {
            let mut keys: Vec<String> = branches(root, s)
                .into_iter()
                .filter_map(|b| b.get("properties").and_then(Json::as_object))
                .flat_map(|p| p.keys().cloned())
                .collect();
            keys.sort();
            keys.dedup();
            return keys;
        };
        for b in branches(root, s) {
            let next = match first {
                Segment::Key(k) => b
                    .get("properties")
                    .and_then(|p| p.get(k))
                    .or_else(|| b.get("additionalProperties").filter(|a| a.is_object())),
                Segment::Index(_) => b.get("items"),
            };
            if let Some(next) = next {
                let found = walk(root, next, rest);
                if !found.is_empty() {
                    return found;
                }
            }
        }
        Vec::new()
    }
    walk(root, root, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lean_schema_leaves_out_only_the_kubernetes_types() {
        let (lean, keys) = lean_app_values();
        let defs = lean["$defs"].as_object().unwrap();
        assert!(defs.keys().all(|k| !k.starts_with(KUBERNETES_DEFS)));
        assert!(defs.contains_key("DeploymentSpec") && defs.contains_key("IngressEntry"));
        for key in [
            "affinity",
            "volumes",
            "securityContext",
            "sidecar",
            "livenessProbe",
            "valueFrom",
        ] {
            assert!(keys.contains(key), "{key} is a Kubernetes pass-through key");
        }
        for key in ["deployment", "resources", "ingress", "image"] {
            assert!(!keys.contains(key), "{key} is glueops' own");
        }
        let plain = serde_json::json!({"deployment": {"enabled": true, "resources": {}}});
        let pass_through = serde_json::json!({"deployment": {"affinity": {}}});
        assert!(!uses(&plain, keys));
        assert!(uses(&pass_through, keys));
    }
}
