//! GitHub's OpenAPI description as a request checker: operations by method and path
//! template, their query parameters, and JSON Schema validators of their bodies (OpenAPI
//! 3.0's `nullable` turned into a `null` alternative, `components` kept for the `$ref`s).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::forge_http::Request;

/// The path parameters of a matched operation, by name.
pub(crate) type Params = HashMap<String, String>;

struct Operation {
    id: String,
    method: String,
    segments: Vec<String>,
    query: Vec<String>,
    body: Option<Value>,
    body_required: bool,
}

/// The description, loaded once.
pub(crate) struct Spec {
    operations: Vec<Operation>,
    components: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Spec({} operations)", self.operations.len())
    }
}

impl Spec {
    #[expect(
        clippy::panic,
        reason = "test support: a description that cannot be read fails the test that needs it"
    )]
    pub(crate) fn load() -> Spec {
        let file = crate::oracle(
            "octokit-openapi",
            "@octokit/openapi/generated/api.github.com.json",
        );
        let text = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let doc: Value =
            serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let parameters = &doc["components"]["parameters"];
        let mut operations = Vec::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                let Some(id) = op["operationId"].as_str() else {
                    continue;
                };
                let query = op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| {
                        let p = match p["$ref"].as_str() {
                            Some(r) => &parameters[r.rsplit('/').next().unwrap_or_default()],
                            None => p,
                        };
                        (p["in"] == "query")
                            .then(|| p["name"].as_str().unwrap_or_default().to_string())
                    })
                    .collect();
                let body = &op["requestBody"];
                operations.push(Operation {
                    id: id.to_string(),
                    method: method.to_ascii_uppercase(),
                    segments: path.split('/').map(str::to_string).collect(),
                    query,
                    body: body["content"]["application/json"]["schema"]
                        .is_object()
                        .then(|| nullable(&body["content"]["application/json"]["schema"])),
                    body_required: body["required"] == true,
                });
            }
        }
        Spec {
            operations,
            components: nullable(&doc["components"]),
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// The operation `r` is and its path parameters, or what about it breaks the description.
    pub(crate) fn check(&self, r: &Request) -> Result<(String, Params), String> {
        let what = format!("{} {}", r.method, r.path);
        if r.header("user-agent").is_none_or(str::is_empty) {
            return Err(format!(
                "{what}: no User-Agent (GitHub rejects such requests)"
            ));
        }
        if r.header("authorization").is_none_or(str::is_empty) {
            return Err(format!("{what}: no Authorization"));
        }
        let segments: Vec<&str> = r.path.split('/').collect();
        let (op, params) = self
            .operations
            .iter()
            .filter(|o| o.method == r.method && o.segments.len() == segments.len())
            .filter_map(|o| {
                let mut params = Params::new();
                let mut literal = 0;
                for (t, s) in o.segments.iter().zip(&segments) {
                    if let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                        if s.is_empty() {
                            return None;
                        }
                        params.insert(name.to_string(), crate::forge_http::decode(s));
                    } else if t == s {
                        literal += 1;
                    } else {
                        return None;
                    }
                }
                Some((literal, o, params))
            })
            .max_by_key(|(literal, _, _)| *literal)
            .map(|(_, o, p)| (o, p))
            .ok_or_else(|| format!("{what}: no such operation in api.github.com.json"))?;
        for (name, _) in &r.query {
            if !op.query.contains(name) {
                return Err(format!("{what} ({}): no query parameter `{name}`", op.id));
            }
        }
        match (&op.body, r.body.is_empty()) {
            (Some(_), true) if op.body_required => {
                return Err(format!("{what} ({}): the body is required", op.id));
            }
            (None, false) => {
                return Err(format!("{what} ({}): this operation takes no body", op.id));
            }
            (Some(schema), false) => {
                let body: Value = serde_json::from_slice(&r.body)
                    .map_err(|e| format!("{what} ({}): the body is not JSON: {e}", op.id))?;
                let validator = self.validator(&op.id, schema)?;
                let errors: Vec<String> = validator
                    .iter_errors(&body)
                    .map(|e| format!("{} at `{}`", e, e.instance_path()))
                    .collect();
                if !errors.is_empty() {
                    return Err(format!("{what} ({}): {}", op.id, errors.join("; ")));
                }
            }
            _ => {}
        }
        Ok((op.id.clone(), params))
    }

    fn validator(&self, id: &str, schema: &Value) -> Result<Arc<jsonschema::Validator>, String> {
        let mut cache = self.validators.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = cache.get(id) {
            return Ok(Arc::clone(v));
        }
        let mut root = schema.clone();
        if let Some(object) = root.as_object_mut() {
            object.insert("components".into(), self.components.clone());
        }
        let validator = jsonschema::draft202012::new(&root)
            .map_err(|e| format!("{id}: its schema does not compile: {e}"))?;
        let validator = Arc::new(validator);
        cache.insert(id.to_string(), Arc::clone(&validator));
        Ok(validator)
    }
}

/// OpenAPI 3.0 to JSON Schema: `nullable: true` admits `null`.
fn nullable(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, x) in map {
                if k != "nullable" {
                    out.insert(k.clone(), nullable(x));
                }
            }
            if map.get("nullable") == Some(&Value::Bool(true)) {
                if let Some(Value::Array(values)) = out.get_mut("enum") {
                    values.push(Value::Null);
                }
                return json!({ "anyOf": [Value::Object(out), { "type": "null" }] });
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(nullable).collect()),
        other => other.clone(),
    }
}
