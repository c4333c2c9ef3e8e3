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

/// A template's failing action: the byte offset of its `{{` in the text, and what is wrong.
pub(crate) type Failure = (usize, String);

/// Renders `text`; on success also returns the top-level `.Values` keys it read. On failure,
/// every failing action (one each, at its `{{`), or the one structural problem.
pub(crate) fn render(
    text: &str,
    scope: &Scope<'_>,
) -> Result<(String, BTreeSet<String>), Vec<Failure>> {
    if !text.contains("{{") {
        return Ok((text.to_string(), BTreeSet::new()));
    }
    let tokens = lex(text).map_err(|f| vec![f])?;
    let mut pos = 0;
    let (nodes, stop) = parse(&tokens, &mut pos).map_err(|f| vec![f])?;
    if let Some((stop, at)) = stop {
        return Err(vec![(
            at,
            format!("`{{{{ {stop} }}}}` without a matching `if` or `range`"),
        )]);
    }
    let mut run = Run {
        scope,
        vars: Vec::new(),
        read: BTreeSet::new(),
        out: String::new(),
        failures: Vec::new(),
    };
    let root = Json::Null;
    run.nodes(&nodes, &root);
    if run.failures.is_empty() {
        Ok((run.out, run.read))
    } else {
        Err(run.failures)
    }
}

enum Token {
    Text(String),
    /// An action's text and the offset of its `{{`.
    Action(String, usize),
}

/// Splits text into literal text and actions, applying `{{-` and `-}}` trimming.
fn lex(text: &str) -> Result<Vec<Token>, Failure> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut trim_next = false;
    while let Some(open) = rest.find("{{") {
        let at = text.len() - rest.len() + open;
        let mut literal = &rest[..open];
        if trim_next {
            literal = literal.trim_start();
        }
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err((at, "`{{` without a closing `}}`".to_string()));
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
        out.push(Token::Action(inner.trim().to_string(), at));
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
    Print(String, usize),
    If {
        cond: String,
        at: usize,
        then: Vec<Node>,
        other: Vec<Node>,
    },
    Range {
        vars: Vec<String>,
        over: String,
        at: usize,
        body: Vec<Node>,
        other: Vec<Node>,
    },
}

/// A stop word (`end`, `else`) and where its action starts.
type Stop = Option<(String, usize)>;

/// Parses until `end`/`else` (returned as the stop word) or the end of the tokens.
fn parse(tokens: &[Token], pos: &mut usize) -> Result<(Vec<Node>, Stop), Failure> {
    let mut nodes = Vec::new();
    while let Some(token) = tokens.get(*pos) {
        *pos += 1;
        let (action, at) = match token {
            Token::Text(t) => {
                nodes.push(Node::Text(t.clone()));
                continue;
            }
            Token::Action(a, at) => (a.as_str(), *at),
        };
        if action.starts_with("/*") && action.ends_with("*/") {
            continue;
        }
        let (word, rest) = action
            .split_once(char::is_whitespace)
            .unwrap_or((action, ""));
        match word {
            "end" | "else" => return Ok((nodes, Some((word.to_string(), at)))),
            "if" => {
                let (then, other) = block(tokens, pos, "if", at)?;
                nodes.push(Node::If {
                    cond: rest.trim().to_string(),
                    at,
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
                    return Err((
                        at,
                        format!("`{{{{ {action} }}}}`: range declares one or two `$` variables"),
                    ));
                }
                let (body, other) = block(tokens, pos, "range", at)?;
                nodes.push(Node::Range {
                    vars,
                    over,
                    at,
                    body,
                    other,
                });
            }
            "with" | "define" | "block" | "break" | "continue" => {
                return Err((
                    at,
                    format!("`{{{{ {action} }}}}` is not a form glueops reads"),
                ));
            }
            _ => nodes.push(Node::Print(action.to_string(), at)),
        }
    }
    Ok((nodes, None))
}

/// The body of an `if` or `range` and its `else` part.
fn block(
    tokens: &[Token],
    pos: &mut usize,
    what: &str,
    at: usize,
) -> Result<(Vec<Node>, Vec<Node>), Failure> {
    let (body, stop) = parse(tokens, pos)?;
    match stop {
        Some((word, _)) if word == "end" => Ok((body, Vec::new())),
        Some((word, _)) if word == "else" => match parse(tokens, pos)? {
            (other, Some((end, _))) if end == "end" => Ok((body, other)),
            _ => Err((at, format!("`{what} ... else` without its `end`"))),
        },
        _ => Err((at, format!("`{what}` without its `end`"))),
    }
}

struct Run<'a> {
    scope: &'a Scope<'a>,
    vars: Vec<(String, Json)>,
    read: BTreeSet<String>,
    out: String,
    /// Every action that failed (the run goes on, so each is reported).
    failures: Vec<Failure>,
}

impl Run<'_> {
    fn nodes(&mut self, nodes: &[Node], dot: &Json) {
        for node in nodes {
            let failed = match node {
                Node::Text(t) => {
                    self.out.push_str(t);
                    Ok(())
                }
                Node::Print(action, at) => self
                    .pipeline(action, dot)
                    .and_then(|v| print(&v, action))
                    .map(|text| self.out.push_str(&text))
                    .map_err(|e| (*at, e)),
                Node::If {
                    cond,
                    at,
                    then,
                    other,
                } => match self.pipeline(cond, dot) {
                    Ok(value) => {
                        self.nodes(if truthy(&value) { then } else { other }, dot);
                        Ok(())
                    }
                    Err(e) => Err((*at, e)),
                },
                Node::Range {
                    vars,
                    over,
                    at,
                    body,
                    other,
                } => self
                    .range(vars, over, body, other, dot)
                    .map_err(|e| (*at, e)),
            };
            if let Err(failure) = failed {
                self.failures.push(failure);
            }
        }
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
            self.nodes(other, dot);
            return Ok(());
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
            self.nodes(body, &value);
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
    // The GlueOps app chart's Chart.yaml: it sets no appVersion, so Helm reads "".
    match field {
        Some("Name") => Ok(Json::String(CHART_NAME.to_string())),
        Some("Version") => Ok(Json::String(CHART_VERSION.to_string())),
        Some("APIVersion") => Ok(Json::String("v2".to_string())),
        Some("AppVersion") => Ok(Json::String(String::new())),
        Some("Description") => Ok(Json::String(
            "A Helm chart template for applications".to_string(),
        )),
        other => Err(format!(
            "`.Chart.{}` is not a value glueops reads (Name, Version, APIVersion, AppVersion, Description)",
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
mod tests;
