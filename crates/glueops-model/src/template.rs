//! The Go-template forms the GlueOps app chart evaluates, and nothing more: values
//! (`{{ .Values.reference_domain }}`), the release (`.Release.Name`, `.Release.Namespace`),
//! the chart (`.Chart.Name`, `.Chart.Version`), the chart's helpers (`include "app.name" .`,
//! `include "app.namespace" $`, or with `template`), `if`/`else`/`end`, `range` over maps and
//! lists with variables, comments, `{{-`/`-}}` trimming, and the pure Sprig functions real
//! repos use, called or piped (`trunc`, `default`, `lower`, `upper`, `trim`, `replace`,
//! `trimSuffix`, `trimPrefix`, `quote`, `squote`, `printf`, `b64enc`, `sha256sum`,
//! `toString`). Anything else (`env`, `now`, `rand*`, `lookup`, `.Files`) is an error
//! naming the action, never text passed through.

mod functions;

use std::collections::BTreeSet;

use serde_json::Value as Json;

/// The version of the GlueOps app chart whose vocabulary glueops speaks (`.Chart.Version`).
pub const CHART_VERSION: &str = "0.14.1";
/// The GlueOps app chart's name (`.Chart.Name`).
pub const CHART_NAME: &str = "app";

/// What templates of one app instance can see.
pub(crate) struct Scope<'a> {
    /// `.Values`: the merged values with `captain_domain` and `glueops_app_name`.
    pub values: &'a Json,
    /// `.Release.Name`: the instance name.
    pub release: &'a str,
    /// `.Release.Namespace`.
    pub namespace: &'a str,
    /// `include "app.name" $`.
    pub app_name: &'a str,
}

/// Renders `text`; on success also returns the top-level `.Values` keys it read.
pub(crate) fn render(text: &str, scope: &Scope<'_>) -> Result<(String, BTreeSet<String>), String> {
    if !text.contains("{{") {
        return Ok((text.to_string(), BTreeSet::new()));
    }
    let tokens = lex(text)?;
    let mut pos = 0;
    let (nodes, stop) = parse(&tokens, &mut pos)?;
    if let Some(stop) = stop {
        return Err(format!(
            "`{{{{ {stop} }}}}` without a matching `if` or `range`"
        ));
    }
    let mut run = Run {
        scope,
        vars: Vec::new(),
        read: BTreeSet::new(),
        out: String::new(),
    };
    let root = Json::Null;
    run.nodes(&nodes, &root)?;
    Ok((run.out, run.read))
}

enum Token {
    Text(String),
    Action(String),
}

/// Splits text into literal text and actions, applying `{{-` and `-}}` trimming.
fn lex(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut trim_next = false;
    while let Some(open) = rest.find("{{") {
        let mut literal = &rest[..open];
        if trim_next {
            literal = literal.trim_start();
        }
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err("`{{` without a closing `}}`".to_string());
        };
        let mut inner = &after[..close];
        if let Some(stripped) = inner.strip_prefix('-') {
            literal = literal.trim_end();
            inner = stripped;
        }
        trim_next = false;
        if let Some(stripped) = inner.strip_suffix('-') {
            trim_next = true;
            inner = stripped;
        }
        if !literal.is_empty() {
            out.push(Token::Text(literal.to_string()));
        }
        out.push(Token::Action(inner.trim().to_string()));
        rest = &after[close + 2..];
    }
    let literal = if trim_next { rest.trim_start() } else { rest };
    if !literal.is_empty() {
        out.push(Token::Text(literal.to_string()));
    }
    Ok(out)
}

enum Node {
    Text(String),
    Print(String),
    If {
        cond: String,
        then: Vec<Node>,
        other: Vec<Node>,
    },
    Range {
        vars: Vec<String>,
        over: String,
        body: Vec<Node>,
        other: Vec<Node>,
    },
}

/// Parses until `end`/`else` (returned as the stop word) or the end of the tokens.
fn parse(tokens: &[Token], pos: &mut usize) -> Result<(Vec<Node>, Option<String>), String> {
    let mut nodes = Vec::new();
    while let Some(token) = tokens.get(*pos) {
        *pos += 1;
        let action = match token {
            Token::Text(t) => {
                nodes.push(Node::Text(t.clone()));
                continue;
            }
            Token::Action(a) => a.as_str(),
        };
        if action.starts_with("/*") && action.ends_with("*/") {
            continue;
        }
        let (word, rest) = action
            .split_once(char::is_whitespace)
            .unwrap_or((action, ""));
        match word {
            "end" | "else" => return Ok((nodes, Some(word.to_string()))),
            "if" => {
                let (then, other) = block(tokens, pos, "if")?;
                nodes.push(Node::If {
                    cond: rest.trim().to_string(),
                    then,
                    other,
                });
            }
            "range" => {
                let (vars, over) = match rest.split_once(":=") {
                    Some((vars, over)) => (
                        vars.split(',').map(|v| v.trim().to_string()).collect(),
                        over.trim().to_string(),
                    ),
                    None => (Vec::new(), rest.trim().to_string()),
                };
                if vars.len() > 2 || vars.iter().any(|v: &String| !v.starts_with('$')) {
                    return Err(format!(
                        "`{{{{ {action} }}}}`: range declares one or two `$` variables"
                    ));
                }
                let (body, other) = block(tokens, pos, "range")?;
                nodes.push(Node::Range {
                    vars,
                    over,
                    body,
                    other,
                });
            }
            "with" | "define" | "block" | "break" | "continue" => {
                return Err(format!("`{{{{ {action} }}}}` is not a form glueops reads"));
            }
            _ => nodes.push(Node::Print(action.to_string())),
        }
    }
    Ok((nodes, None))
}

/// The body of an `if` or `range` and its `else` part.
fn block(tokens: &[Token], pos: &mut usize, what: &str) -> Result<(Vec<Node>, Vec<Node>), String> {
    let (body, stop) = parse(tokens, pos)?;
    match stop.as_deref() {
        Some("end") => Ok((body, Vec::new())),
        Some("else") => match parse(tokens, pos)? {
            (other, Some(end)) if end == "end" => Ok((body, other)),
            _ => Err(format!("`{what} ... else` without its `end`")),
        },
        _ => Err(format!("`{what}` without its `end`")),
    }
}

struct Run<'a> {
    scope: &'a Scope<'a>,
    vars: Vec<(String, Json)>,
    read: BTreeSet<String>,
    out: String,
}

impl Run<'_> {
    fn nodes(&mut self, nodes: &[Node], dot: &Json) -> Result<(), String> {
        for node in nodes {
            match node {
                Node::Text(t) => self.out.push_str(t),
                Node::Print(action) => {
                    let value = self.pipeline(action, dot)?;
                    self.out.push_str(&print(&value, action)?);
                }
                Node::If { cond, then, other } => {
                    let value = self.pipeline(cond, dot)?;
                    self.nodes(if truthy(&value) { then } else { other }, dot)?;
                }
                Node::Range {
                    vars,
                    over,
                    body,
                    other,
                } => self.range(vars, over, body, other, dot)?,
            }
        }
        Ok(())
    }

    fn range(
        &mut self,
        vars: &[String],
        over: &str,
        body: &[Node],
        other: &[Node],
        dot: &Json,
    ) -> Result<(), String> {
        let items: Vec<(Json, Json)> = match self.pipeline(over, dot)? {
            Json::Object(map) => map.into_iter().map(|(k, v)| (Json::String(k), v)).collect(),
            Json::Array(list) => list
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Json::from(i), v))
                .collect(),
            Json::Null => Vec::new(),
            _ => return Err(format!("`range {over}`: not a map or a list")),
        };
        if items.is_empty() {
            return self.nodes(other, dot);
        }
        for (key, value) in items {
            let depth = self.vars.len();
            match vars {
                [v] => self.vars.push((v.clone(), value.clone())),
                [k, v] => {
                    self.vars.push((k.clone(), key));
                    self.vars.push((v.clone(), value.clone()));
                }
                _ => {}
            }
            self.nodes(body, &value)?;
            self.vars.truncate(depth);
        }
        Ok(())
    }

    /// `command | fn args | ...`: each stage's value is the last argument of the next.
    fn pipeline(&mut self, action: &str, dot: &Json) -> Result<Json, String> {
        let mut value = None;
        for stage in split_pipes(action) {
            let words = words(stage.trim())?;
            if words.is_empty() {
                return Err(format!("`{{{{ {action} }}}}`: an empty pipe stage"));
            }
            value = Some(self.command(&words, value, dot, action)?);
        }
        value.ok_or_else(|| format!("`{{{{ {action} }}}}` is empty"))
    }

    /// One command: a function call (with the piped value last), `include`/`template` of the
    /// chart's helpers, or a single value.
    fn command(
        &mut self,
        words: &[String],
        piped: Option<Json>,
        dot: &Json,
        action: &str,
    ) -> Result<Json, String> {
        let Some((name, args)) = words.split_first() else {
            return Err(format!("`{{{{ {action} }}}}`: an empty command"));
        };
        if functions::NAMES.contains(&name.as_str()) {
            let mut values = args
                .iter()
                .map(|a| self.operand(a, dot))
                .collect::<Result<Vec<_>, _>>()?;
            values.extend(piped);
            return functions::call(name, &values, action);
        }
        match (name.as_str(), args, piped) {
            ("include" | "template", [helper, arg], None) if arg == "." || arg == "$" => {
                match helper.as_str() {
                    "\"app.name\"" => Ok(Json::String(self.scope.app_name.to_string())),
                    "\"app.namespace\"" => Ok(Json::String(self.scope.namespace.to_string())),
                    _ => Err(format!(
                        "`{{{{ {action} }}}}`: glueops knows the chart's templates \"app.name\" and \"app.namespace\""
                    )),
                }
            }
            (_, [], None) => self.operand(name, dot),
            (_, _, Some(_)) => Err(format!(
                "`{{{{ {action} }}}}`: `{name}` is not a function glueops reads ({})",
                functions::NAMES.join(", ")
            )),
            _ => Err(format!("`{{{{ {action} }}}}` is not a form glueops reads")),
        }
    }

    fn operand(&mut self, word: &str, dot: &Json) -> Result<Json, String> {
        if let Some(s) = word.strip_prefix('"').and_then(|w| w.strip_suffix('"')) {
            return Ok(Json::String(s.replace("\\\"", "\"")));
        }
        if let Ok(n) = word.parse::<i64>() {
            return Ok(Json::from(n));
        }
        match word {
            "true" => return Ok(Json::Bool(true)),
            "false" => return Ok(Json::Bool(false)),
            "." => return Ok(dot.clone()),
            _ => {}
        }
        let (base, path) =
            if let Some(rest) = word.strip_prefix("$.").or_else(|| word.strip_prefix('.')) {
                (None, rest)
            } else if let Some(var) = word.strip_prefix('$') {
                let (name, path) = var.split_once('.').unwrap_or((var, ""));
                let value = self
                    .vars
                    .iter()
                    .rev()
                    .find(|(n, _)| n.trim_start_matches('$') == name)
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| format!("`${name}` is not defined"))?;
                (Some(value), path)
            } else {
                return Err(format!("`{word}` is not a value glueops reads"));
            };
        let mut parts = path.split('.').filter(|p| !p.is_empty());
        let mut current = match base {
            Some(v) => v,
            None => match parts.next() {
                Some("Values") => self.values_root(&mut parts)?,
                Some("Release") => self.release(parts.next())?,
                Some("Chart") => chart(parts.next())?,
                Some(other) => match dot {
                    Json::Object(m) => m.get(other).cloned().unwrap_or(Json::Null),
                    _ => return Err(format!("`.{other}` is not a value glueops reads")),
                },
                None => dot.clone(),
            },
        };
        for part in parts {
            current = current.get(part).cloned().unwrap_or(Json::Null);
        }
        Ok(current)
    }

    fn values_root<'p>(
        &mut self,
        parts: &mut impl Iterator<Item = &'p str>,
    ) -> Result<Json, String> {
        let Some(key) = parts.next() else {
            return Ok(self.scope.values.clone());
        };
        self.read.insert(key.to_string());
        Ok(self.scope.values.get(key).cloned().unwrap_or(Json::Null))
    }

    fn release(&self, field: Option<&str>) -> Result<Json, String> {
        match field {
            Some("Name") => Ok(Json::String(self.scope.release.to_string())),
            Some("Namespace") => Ok(Json::String(self.scope.namespace.to_string())),
            other => Err(format!(
                "`.Release.{}` is not a value glueops reads (Name, Namespace)",
                other.unwrap_or_default()
            )),
        }
    }
}

fn chart(field: Option<&str>) -> Result<Json, String> {
    match field {
        Some("Name") => Ok(Json::String(CHART_NAME.to_string())),
        Some("Version") => Ok(Json::String(CHART_VERSION.to_string())),
        other => Err(format!(
            "`.Chart.{}` is not a value glueops reads (Name, Version)",
            other.unwrap_or_default()
        )),
    }
}

/// Splits an action at the `|` that are not inside a quoted string.
fn split_pipes(action: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in action.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '|' if !quoted => {
                out.push(&action[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&action[start..]);
    out
}

/// Splits a command into words, keeping quoted strings whole.
fn words(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut word = String::new();
        if c == '"' {
            word.push(c);
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                word.push(c);
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        word.push(n);
                    }
                } else if c == '"' {
                    closed = true;
                    break;
                }
            }
            if !closed {
                return Err(format!("an unclosed string in `{text}`"));
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
        }
        out.push(word);
    }
    Ok(out)
}

/// Go's truthiness: false, 0, "", empty collections and nothing are false.
pub(super) fn truthy(v: &Json) -> bool {
    match v {
        Json::Null => false,
        Json::Bool(b) => *b,
        Json::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Json::String(s) => !s.is_empty(),
        Json::Array(a) => !a.is_empty(),
        Json::Object(o) => !o.is_empty(),
    }
}

pub(super) fn print(v: &Json, action: &str) -> Result<String, String> {
    match v {
        Json::String(s) => Ok(s.clone()),
        Json::Number(n) => Ok(n.to_string()),
        Json::Bool(b) => Ok(b.to_string()),
        Json::Null => Err(format!("`{{{{ {action} }}}}` is not set")),
        Json::Array(_) | Json::Object(_) => {
            Err(format!("`{{{{ {action} }}}}` is a map or a list, not text"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(values: &Json) -> Scope<'_> {
        Scope {
            values,
            release: "web-staging",
            namespace: "staging",
            app_name: "web",
        }
    }

    fn run(text: &str) -> Result<String, String> {
        let values = serde_json::json!({
            "reference_domain": "example.com",
            "optional_resource": {"enabled": true, "size": "large"},
            "fruit_colors": {"pear": "green", "apple": "red"},
            "off": false,
        });
        render(text, &scope(&values)).map(|(s, _)| s)
    }

    #[test]
    fn values_release_chart_and_app_name() {
        assert_eq!(
            run("foo.{{ .Values.reference_domain }}").unwrap(),
            "foo.example.com"
        );
        assert_eq!(
            run("{{ .Release.Name }}/{{ .Release.Namespace }}").unwrap(),
            "web-staging/staging"
        );
        assert_eq!(
            run("{{ .Chart.Name }}.example.com").unwrap(),
            "app.example.com"
        );
        assert_eq!(run("{{ template \"app.name\" . }}-cm").unwrap(), "web-cm");
        assert_eq!(run("{{ include \"app.name\" $ }}-x").unwrap(), "web-x");
        assert_eq!(
            run("{{ .Values.reference_domain | upper | quote }}").unwrap(),
            "\"EXAMPLE.COM\""
        );
        assert_eq!(run("{{ .Values.missing | default \"d\" }}").unwrap(), "d");
    }

    #[test]
    fn if_else_range_and_trimming() {
        let text = "a:\n  {{- if .Values.optional_resource.enabled }}\n  size: {{ .Values.optional_resource.size }}\n  {{- end }}\n";
        assert_eq!(run(text).unwrap(), "a:\n  size: large\n");
        assert_eq!(
            run("{{ if .Values.off }}yes{{ else }}no{{ end }}").unwrap(),
            "no"
        );
        let text = "{{- range $fruit, $color := .Values.fruit_colors }}\n- {{ $fruit }}={{ $color }}\n{{- end }}";
        assert_eq!(run(text).unwrap(), "\n- apple=red\n- pear=green");
        assert_eq!(run("{{/* a comment */}}x").unwrap(), "x");
    }

    #[test]
    fn what_is_not_read_is_an_error() {
        for text in [
            "{{ .Values.missing }}",
            "{{ .Capabilities.KubeVersion }}",
            "{{ lookup \"v1\" \"Secret\" \"ns\" \"n\" }}",
            "{{ if .Values.off }}never closed",
            "{{ end }}",
            "{{ .Values.fruit_colors }}",
            "{{ .Values.x | b64enc }}",
            "{{ env \"HOME\" }}",
            "{{ randAlphaNum 8 }}",
            "{{ now }}",
            "{{ .Values.reference_domain | trunc }}",
            "{{ printf \"%x\" 1 }}",
            "{{ with .Values.x }}{{ end }}",
            "{{ unclosed",
        ] {
            assert!(run(text).is_err(), "{text} should be refused");
        }
    }

    #[test]
    fn the_pure_sprig_functions_real_repos_use() {
        for (text, want) in [
            ("{{ .Values.reference_domain | trunc 7 }}", "example"),
            ("{{ trunc -3 .Values.reference_domain }}", "com"),
            ("{{ include \"app.namespace\" . }}", "staging"),
            ("{{ include \"app.name\" . | upper | trunc 2 }}", "WE"),
            (
                "{{ .Values.reference_domain | replace \".\" \"-\" }}",
                "example-com",
            ),
            (
                "{{ .Values.reference_domain | trimSuffix \".com\" }}",
                "example",
            ),
            (
                "{{ trimPrefix \"exa\" .Values.reference_domain }}",
                "mple.com",
            ),
            (
                "{{ printf \"%s-%s|%d%%\" .Release.Name \"x\" 5 }}",
                "web-staging-x|5%",
            ),
            (
                "{{ .Values.reference_domain | b64enc }}",
                "ZXhhbXBsZS5jb20=",
            ),
            ("{{ \"abc\" | sha256sum | trunc 12 }}", "ba7816bf8f01"),
            ("{{ .Values.reference_domain | squote }}", "'example.com'"),
            ("{{ default \"d\" .Values.missing }}", "d"),
            (
                "{{ .Values.reference_domain | default \"d\" }}",
                "example.com",
            ),
        ] {
            assert_eq!(run(text).as_deref(), Ok(want), "{text}");
        }
    }

    #[test]
    fn reports_the_values_it_read() {
        let values = serde_json::json!({"a": 1, "b": {"c": 2}});
        let (_, read) = render("{{ .Values.a }}{{ $.Values.b.c }}", &scope(&values)).unwrap();
        assert_eq!(read.into_iter().collect::<Vec<_>>(), ["a", "b"]);
    }
}
