//! helm-unittest's asserts, evaluated on the objects glueops renders for the suite's template
//! (or on glueops's refusal, for `failedTemplate`).

use regex::Regex;
use serde_json::Value;

use super::path::find;

/// What glueops did with a case's values.
pub(crate) enum Rendered {
    /// The objects rendered for the suite's template, in manifest order.
    Objects(Vec<Value>),
    /// glueops refused: every error, as (key path, message, located in a values file).
    Refused(Vec<(String, String, bool)>),
}

/// Evaluates one assert (`{equal: {...}}`, ...); `Err` says why it fails.
pub(crate) fn check(
    assert: &Value,
    rendered: &Rendered,
    case_selector: Option<&Value>,
) -> Result<(), String> {
    let (name, args) = assert
        .as_object()
        .and_then(|m| {
            m.iter()
                .find(|(k, _)| *k != "documentSelector" && *k != "not")
        })
        .ok_or_else(|| format!("unreadable assert {assert}"))?;
    let objects = match rendered {
        Rendered::Refused(errors) if name == "failedTemplate" => {
            return refused_alike(args, errors);
        }
        Rendered::Refused(errors) => {
            let all: Vec<String> = errors.iter().map(|(p, m, _)| format!("{p}: {m}")).collect();
            return Err(format!("glueops refuses: {}", all.join("; ")));
        }
        Rendered::Objects(_) if name == "failedTemplate" => {
            return Err(format!("glueops renders; the chart fails with {args}"));
        }
        Rendered::Objects(objects) => objects,
    };
    let selector = args
        .get("documentSelector")
        .or_else(|| assert.get("documentSelector"))
        .or(case_selector);
    let docs: Vec<&Value> = match selector {
        Some(s) => {
            let path = s["path"].as_str().unwrap_or_default();
            let picked: Vec<&Value> = objects
                .iter()
                .filter(|o| find(o, path).iter().any(|v| equal(v, &s["value"])))
                .collect();
            if picked.is_empty() {
                return Err(format!("no document where {path} = {}", s["value"]));
            }
            picked
        }
        None => objects.iter().collect(),
    };
    on_documents(name, args, &docs)
}

fn on_documents(name: &str, args: &Value, docs: &[&Value]) -> Result<(), String> {
    match name {
        "hasDocuments" => {
            let want = args["count"].as_u64().unwrap_or(0) as usize;
            expect(docs.len() == want, || {
                format!("{} documents, want {want}", docs.len())
            })
        }
        "containsDocument" => {
            let hit = docs.iter().any(|d| {
                d["kind"] == args["kind"]
                    && d["apiVersion"] == args["apiVersion"]
                    && ["name", "namespace"]
                        .iter()
                        .all(|k| args.get(*k).is_none_or(|want| &d["metadata"][*k] == want))
            });
            expect(hit, || format!("no document like {args}"))
        }
        _ if docs.is_empty() => match name {
            "notExists" | "isNull" | "notContains" => Ok(()),
            _ => Err("no documents rendered".to_string()),
        },
        _ => docs.iter().try_for_each(|d| on_document(name, args, d)),
    }
}

fn on_document(name: &str, args: &Value, doc: &Value) -> Result<(), String> {
    let path = args.get("path").and_then(Value::as_str).unwrap_or_default();
    let found = find(doc, path);
    let shown = || format!("{path} = {}", show(&found));
    match name {
        "isKind" => expect(doc["kind"] == args["of"], || {
            format!("kind {}", doc["kind"])
        }),
        "isAPIVersion" => expect(doc["apiVersion"] == args["of"], || {
            format!("apiVersion {}", doc["apiVersion"])
        }),
        "equal" => expect(
            !found.is_empty() && found.iter().all(|v| equal(v, &args["value"])),
            shown,
        ),
        "notEqual" => expect(found.iter().all(|v| !equal(v, &args["value"])), shown),
        "exists" => expect(!found.is_empty(), shown),
        "notExists" => expect(found.is_empty(), shown),
        "isNull" => expect(found.iter().all(|v| v.is_null()), shown),
        "isNotNull" => expect(
            !found.is_empty() && found.iter().all(|v| !v.is_null()),
            shown,
        ),
        "isNotEmpty" | "isNotNullOrEmpty" => {
            expect(!found.is_empty() && found.iter().all(|v| !empty(v)), shown)
        }
        "isEmpty" | "isNullOrEmpty" => expect(found.iter().all(|v| empty(v)), shown),
        "matchRegex" | "notMatchRegex" => {
            let re = Regex::new(args["pattern"].as_str().unwrap_or_default())
                .map_err(|e| e.to_string())?;
            let hit = !found.is_empty()
                && found
                    .iter()
                    .all(|v| v.as_str().is_some_and(|s| re.is_match(s)));
            expect(hit == (name == "matchRegex"), shown)
        }
        "lengthEqual" => {
            let want = args["count"].as_u64().unwrap_or(0) as usize;
            expect(
                found.len() == 1 && found[0].as_array().is_some_and(|a| a.len() == want),
                shown,
            )
        }
        "contains" | "notContains" => {
            let any = args["any"].as_bool().unwrap_or(false);
            let hits = found.first().and_then(|v| v.as_array()).map_or(0, |items| {
                items
                    .iter()
                    .filter(|e| {
                        if any {
                            subset(&args["content"], e)
                        } else {
                            equal(e, &args["content"])
                        }
                    })
                    .count()
            });
            if name == "notContains" {
                return expect(hits == 0, shown);
            }
            match args.get("count").and_then(Value::as_u64) {
                Some(n) => expect(hits == n as usize, shown),
                None => expect(hits > 0, shown),
            }
        }
        other => Err(format!("assert {other} is not supported by the harness")),
    }
}

/// A `failedTemplate` case passes when glueops refuses for the same reason, located: an error
/// in a values file whose key path (or message) names what the chart's message names, and
/// the secret / secretKey the chart's message names.
fn refused_alike(args: &Value, errors: &[(String, String, bool)]) -> Result<(), String> {
    let chart = args
        .get("errorPattern")
        .or_else(|| args.get("errorMessage"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let literal = args.get("errorMessage").is_some();
    // The key the chart's message starts with (`image.pullSecrets must ...`), as a regex: it
    // names whole segments of glueops' key path, or is quoted in glueops' message.
    let subject = chart.split_whitespace().next().unwrap_or_default();
    let subject = subject.strip_prefix(r"\.Values\.").unwrap_or(subject);
    let subject = if literal {
        regex::escape(subject)
    } else {
        subject.to_string()
    };
    let in_path =
        Regex::new(&format!(r"(?:^|\.)(?:{subject})(?:$|\.)")).map_err(|e| e.to_string())?;
    let quoted = Regex::new(&format!("`(?:{subject})`")).map_err(|e| e.to_string())?;
    let whole = if literal {
        regex::escape(chart)
    } else {
        chart.to_string()
    };
    let whole = Regex::new(&whole).map_err(|e| e.to_string())?;
    // The secret and secretKey the chart's message names.
    let named: Vec<String> = Regex::new(r"secretKey ([a-z0-9-]+)|secret example-app-([a-z0-9-]+)")
        .map_err(|e| e.to_string())?
        .captures_iter(chart)
        .filter_map(|c| {
            c.get(1)
                .or_else(|| c.get(2))
                .map(|m| m.as_str().to_string())
        })
        .collect();
    let alike = errors.iter().any(|(path, message, located)| {
        *located
            && (in_path.is_match(path) || quoted.is_match(message) || whole.is_match(message))
            && named.iter().all(|n| path.split('.').any(|p| p == n))
    });
    let all: Vec<String> = errors.iter().map(|(p, m, _)| format!("{p}: {m}")).collect();
    expect(alike, || {
        format!(
            "glueops refuses, for another reason ({}); the chart: {chart}",
            all.join("; ")
        )
    })
}

fn expect(ok: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(why()) }
}

fn show(found: &[&Value]) -> String {
    match found {
        [] => "<missing>".to_string(),
        [one] => one.to_string(),
        many => format!("{many:?}"),
    }
}

fn empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

/// Equality as helm-unittest compares: numbers by value (`1` equals `1.0`).
pub(crate) fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
        }
        _ => a == b,
    }
}

/// `want` is part of `have`: every key of a map `want` matches, recursively.
fn subset(want: &Value, have: &Value) -> bool {
    match (want, have) {
        (Value::Object(w), Value::Object(h)) => w
            .iter()
            .all(|(k, v)| h.get(k).is_some_and(|hv| subset(v, hv))),
        _ => equal(want, have),
    }
}

#[test]
fn asserts_fail_when_the_object_differs_and_pass_when_it_matches() {
    let docs = Rendered::Objects(vec![serde_json::json!({
        "kind": "Deployment", "apiVersion": "apps/v1",
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "web", "env": [{"name": "A", "value": "1"}]}]}}},
    })]);
    let yes = |a: Value| assert!(check(&a, &docs, None).is_ok(), "{a}");
    let no = |a: Value| assert!(check(&a, &docs, None).is_err(), "{a}");
    yes(serde_json::json!({"equal": {"path": "spec.replicas", "value": 2.0}}));
    no(serde_json::json!({"equal": {"path": "spec.replicas", "value": 3}}));
    no(serde_json::json!({"equal": {"path": "spec.missing", "value": null}}));
    yes(serde_json::json!({"isNull": {"path": "spec.missing"}}));
    yes(serde_json::json!({"hasDocuments": {"count": 1}}));
    no(serde_json::json!({"hasDocuments": {"count": 0}}));
    yes(serde_json::json!({"isKind": {"of": "Deployment"}}));
    no(serde_json::json!({"isKind": {"of": "StatefulSet"}}));
    let env = "spec.template.spec.containers[0].env";
    yes(serde_json::json!({"contains": {"path": env, "content": {"name": "A", "value": "1"}}}));
    no(serde_json::json!({"contains": {"path": env, "content": {"name": "A"}}}));
    yes(serde_json::json!({"contains": {"path": env, "content": {"name": "A"}, "any": true}}));
    yes(serde_json::json!({"notContains": {"path": env, "content": {"name": "B", "value": "1"}}}));
    yes(serde_json::json!({"matchRegex": {"path": "metadata.name", "pattern": "^w"}}));
    no(serde_json::json!({"matchRegex": {"path": "metadata.name", "pattern": "^x"}}));
    no(serde_json::json!({"failedTemplate": {"errorPattern": "x"}}));
    let refused = Rendered::Refused(vec![(
        "externalSecret.secrets.name5.data.missing-key.remoteRef.key".to_string(),
        "required".to_string(),
        true,
    )]);
    let msg = "remoteRef.key is required for secretKey missing-key in secret example-app-name5";
    assert!(
        check(
            &serde_json::json!({"failedTemplate": {"errorMessage": msg}}),
            &refused,
            None
        )
        .is_ok()
    );
    let other = "remoteRef.key is required for secretKey missing-key in secret example-app-name6";
    assert!(
        check(
            &serde_json::json!({"failedTemplate": {"errorMessage": other}}),
            &refused,
            None
        )
        .is_err()
    );
    assert!(
        check(
            &serde_json::json!({"equal": {"path": "a", "value": 1}}),
            &refused,
            None
        )
        .is_err()
    );
}
