//! Reading the files of a config repo into layers: decode, classify, parse, then validate.
//! Each file is independent of every other, so both steps run on every core.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::diagnostics::{Code, Diagnostic, Report};
use crate::layout::{FileKind, classify};
use crate::node::{Location, Node};
use crate::schema::{self, Document};
use crate::source::{MAX_FILE_BYTES, check_path};
use crate::yaml;

/// One layer file, parsed; `valid` is false when it failed schema validation (deployments
/// that use it are then not checked further, so one typo does not cascade).
#[derive(Debug, Clone)]
pub(crate) struct Layer {
    pub(crate) node: Node,
    pub(crate) valid: bool,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct AppLayers {
    pub(crate) base: Option<Layer>,
    pub(crate) envs: BTreeMap<String, Layer>,
    pub(crate) previews_common: Option<Layer>,
    pub(crate) pull_requests: BTreeMap<u64, Layer>,
}

/// One file of the repo after decoding and parsing.
pub(crate) struct ParsedFile {
    pub(crate) path: Arc<str>,
    pub(crate) text: Option<Arc<str>>,
    pub(crate) layer: Option<(FileKind, Layer)>,
    pub(crate) problems: Vec<Diagnostic>,
}

/// Decodes, classifies and parses one file; independent of every other file. The layer is
/// not yet valid: [`validate`] decides that.
pub(crate) fn read_file(path: &str, bytes: &[u8]) -> ParsedFile {
    let file: Arc<str> = Arc::from(path);
    let mut report = Report::default();
    let mut out = ParsedFile {
        path: file.clone(),
        text: None,
        layer: None,
        problems: Vec::new(),
    };
    let Some(text) = decode(&file, bytes, &mut report) else {
        out.problems = report.into_items();
        return out;
    };
    out.text = Some(text.clone());
    match classify(path) {
        // A file that holds no YAML at all (blank, comments only) changes nothing wherever it
        // is: never more than a warning.
        Err(d) if no_content(&text) => out.problems.push(d.warning()),
        Err(d) => out.problems.push(*d),
        Ok(kind) => match yaml::parse(&file, &text) {
            Err(e) => out.problems.push(e.diagnostic(&file)),
            Ok(mut node) => {
                if kind != FileKind::Platform {
                    out.problems.extend(tag_as_written(&mut node, &text));
                }
                out.layer = Some((kind, Layer { node, valid: false }));
            }
        },
    }
    out.problems.extend(report.into_items());
    out
}

/// `image.tag` written as a YAML number (`5.6`, `1.10`: the chart's own test cases do it) is
/// taken as written, as text. Helm would print the number (`1.10` as `1.1`): when that
/// differs from what is written, a warning says so.
fn tag_as_written(node: &mut crate::node::Node, text: &str) -> Option<Diagnostic> {
    use crate::node::{NodeValue as Value, Segment};
    let path = [Segment::Key("image".into()), Segment::Key("tag".into())];
    let tag = node.get_mut(&path)?;
    let helm = match &tag.value {
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        _ => return None,
    };
    let written = crate::yaml::raw_scalar(text, tag.location.line, tag.location.column)
        .unwrap_or_else(|| helm.clone());
    if matches!(tag.value, Value::Int(0)) || matches!(tag.value, Value::Float(f) if f == 0.0) {
        return Some(
            Diagnostic::new(
                Code::Image,
                tag.location.clone(),
                "image.tag",
                format!("image.tag `{written}` (top-level) is a falsey non-string value: the chart refuses it, as it would be silently treated as unset"),
            )
            .help(format!("quote it if the tag really is \"{written}\"")),
        );
    }
    tag.value = Value::String(written.clone());
    (written != helm).then(|| {
        Diagnostic::new(
            Code::Image,
            tag.location.clone(),
            "image.tag",
            format!("image.tag `{written}` is a YAML number: Helm would render it as `{helm}`; glueops keeps it as written"),
        )
        .help(format!("quote it so every tool reads it as text: \"{written}\""))
        .warning()
    })
}

/// Whether `text` holds nothing but blank lines, comments and document markers.
fn no_content(text: &str) -> bool {
    text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#') || l == "---" || l == "..."
    })
}

/// Validates the layer of a parsed file against its schema: whether it is valid, why not,
/// and the keys to drop from it (ones the chart ignores: reported as warnings).
pub(crate) fn validate(file: &ParsedFile) -> (bool, Vec<Diagnostic>, crate::schema::Fixes) {
    let (Some((kind, layer)), Some(text)) = (&file.layer, &file.text) else {
        return (false, Vec::new(), crate::schema::Fixes::default());
    };
    let document = if *kind == FileKind::Platform {
        Document::Platform
    } else {
        Document::AppValues
    };
    let (problems, ignored) = schema::validate(document, &layer.node, text);
    let valid = problems
        .iter()
        .all(|d| d.severity == crate::diagnostics::Severity::Warning);
    (valid, problems, ignored)
}

fn decode(file: &Arc<str>, bytes: &[u8], report: &mut Report) -> Option<Arc<str>> {
    if let Err(message) = check_path(file) {
        report.push(
            Diagnostic::new(Code::PathEscape, Location::file(file.clone()), "", message)
                .help("keep every file inside the config repo"),
        );
        return None;
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        report.push(
            Diagnostic::new(
                Code::FileTooLarge,
                Location::file(file.clone()),
                "",
                format!(
                    "`{file}` is {} bytes; glueops reads files of at most {MAX_FILE_BYTES} bytes",
                    bytes.len()
                ),
            )
            .help("values files are small; check that this is the file you meant to commit"),
        );
        return None;
    }
    let binary = |what: &str| {
        Diagnostic::new(
            Code::BinaryFile,
            Location::file(file.clone()),
            "",
            format!("`{file}` {what}"),
        )
        .help("values files must be UTF-8 YAML text")
    };
    if bytes.contains(&0) {
        report.push(binary("is a binary file (it contains NUL bytes)"));
        return None;
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Some(Arc::from(text.strip_prefix('\u{feff}').unwrap_or(text))),
        Err(e) => {
            report.push(binary(&format!(
                "is not UTF-8 text (invalid byte at offset {})",
                e.valid_up_to()
            )));
            None
        }
    }
}
