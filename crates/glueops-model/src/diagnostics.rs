//! Diagnostics: every problem of a config repo, located at file:line:column, with what is
//! wrong and how to fix it, reported all at once, sorted, rustc-style.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::node::Location;

/// What kind of problem a [`Diagnostic`] reports. Stable identifiers, shown in brackets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Code {
    /// A file or folder could not be read.
    #[error("io")]
    Io,
    /// `glueops.yaml` is missing.
    #[error("missing-platform")]
    MissingPlatform,
    /// A file is larger than glueops reads.
    #[error("file-too-large")]
    FileTooLarge,
    /// A file is not UTF-8 text.
    #[error("binary-file")]
    BinaryFile,
    /// A symlink points outside the repo, or a path leaves it.
    #[error("path-escape")]
    PathEscape,
    /// A symlink loop.
    #[error("symlink-loop")]
    SymlinkLoop,
    /// A YAML file where glueops expects none (likely a misspelled name).
    #[error("unexpected-file")]
    UnexpectedFile,
    /// Invalid YAML, or a YAML document over the parser's limits.
    #[error("yaml")]
    Syntax,
    /// A key the schema does not know.
    #[error("unknown-key")]
    UnknownKey,
    /// A required key is missing.
    #[error("missing-key")]
    MissingKey,
    /// A value of the wrong type.
    #[error("wrong-type")]
    WrongType,
    /// A value the schema rejects (not one of the allowed values, out of range, ...).
    #[error("invalid-value")]
    InvalidValue,
    /// A name that is not a valid DNS-1123 label, or too long once combined.
    #[error("invalid-name")]
    InvalidName,
    /// Two things share a name that must be unique.
    #[error("duplicate")]
    Duplicate,
    /// A reference to an environment, cluster or secret that is not declared.
    #[error("undeclared")]
    Undeclared,
    /// Promotions form a cycle.
    #[error("promotion-cycle")]
    PromotionCycle,
    /// A hostname is claimed twice in one environment.
    #[error("hostname-conflict")]
    HostnameConflict,
    /// A resource quantity that does not parse, or limits below requests.
    #[error("resources")]
    Resources,
    /// An image tag or digest that is not well-formed, or a missing tag.
    #[error("image")]
    Image,
    /// A cron schedule that does not parse.
    #[error("cron")]
    Cron,
    /// A time zone that is not an IANA name, or a malformed time or duration.
    #[error("time")]
    Time,
    /// An unsupported `{{ }}` template form.
    #[error("template")]
    Template,
    /// A PromQL expression that does not parse.
    #[error("promql")]
    Promql,
    /// glueops' version does not satisfy `spec.requires`.
    #[error("version")]
    Version,
    /// Settings that contradict each other.
    #[error("conflict")]
    Conflict,
    /// Plaintext secret values in a values file (the chart's `secret:`).
    #[error("plaintext-secret")]
    PlaintextSecret,
    /// A pod setting the namespace's restricted pod-security profile rejects.
    #[error("pod-security")]
    PodSecurity,
    /// Two app instances would own the same object in one namespace.
    #[error("name-conflict")]
    NameConflict,
}

/// How serious a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The repo does not load.
    #[default]
    Error,
    /// The repo loads, and does what GlueOps would do, but something is likely a mistake or
    /// is ignored (`glueops validate --deny-warnings` fails on it).
    Warning,
}

/// One problem, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// What kind of problem.
    pub code: Code,
    /// An error, or a warning.
    pub severity: Severity,
    /// Where (for a merged value: the layer it came from).
    pub location: Location,
    /// The key path of the offending value, e.g. `deployment.replicas` (empty for files).
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    /// Related places, e.g. the other file that claims the same hostname.
    pub notes: Vec<(Location, String)>,
    /// The source line at `location`, filled in when the diagnostics are collected.
    pub source_line: Option<String>,
}

impl Diagnostic {
    /// A diagnostic without help.
    pub fn new(
        code: Code,
        location: Location,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code,
            severity: Severity::Error,
            location,
            path: path.into(),
            message: message.into(),
            help: None,
            notes: Vec::new(),
            source_line: None,
        }
    }

    /// Adds how to fix it.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The same diagnostic as a warning: reported, but the repo loads.
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    /// Adds a related place.
    pub fn note(mut self, location: Location, note: impl Into<String>) -> Self {
        self.notes.push((location, note.into()));
        self
    }

    fn sort_key(&self) -> (&Location, &str, &str) {
        (&self.location, &self.path, &self.message)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        writeln!(f, "{level}[{}]: {}", self.code, self.message)?;
        let gutter = " ".repeat(self.location.line.max(1).to_string().len());
        writeln!(f, "{gutter}--> {}", self.location)?;
        if let Some(line) = &self.source_line {
            let caret_pad: String = line
                .chars()
                .take(self.location.column.saturating_sub(1) as usize)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            writeln!(f, "{gutter} |")?;
            writeln!(f, "{} | {}", self.location.line, line)?;
            writeln!(f, "{gutter} | {caret_pad}^")?;
        }
        if !self.path.is_empty() {
            writeln!(f, "{gutter} = key: {}", self.path)?;
        }
        for (location, note) in &self.notes {
            writeln!(f, "{gutter} = note: {note} ({location})")?;
        }
        if let Some(help) = &self.help {
            writeln!(f, "{gutter} = help: {help}")?;
        }
        Ok(())
    }
}

/// All problems of a config repo, sorted by file, line and column. The error type of
/// [`crate::Repo::load`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// The diagnostics, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// How many are errors.
    pub fn errors(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// How many are warnings.
    pub fn warnings(&self) -> usize {
        self.items.len() - self.errors()
    }
}

impl std::error::Error for Diagnostics {}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.items {
            writeln!(f, "{d}")?;
        }
        let (n, w) = (self.errors(), self.warnings());
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        if n == 0 {
            return write!(
                f,
                "warning: the config repo has {w} warning{}; it loads (`glueops validate --deny-warnings` fails on them)",
                plural(w)
            );
        }
        write!(
            f,
            "error: the config repo has {n} problem{}{}; fix {} and run again",
            plural(n),
            if w == 0 {
                String::new()
            } else {
                format!(" and {w} warning{}", plural(w))
            },
            if n == 1 { "it" } else { "them" }
        )
    }
}

/// Collects diagnostics while a repo loads, and attaches source lines at the end. Warnings
/// are kept apart: `len` and `is_empty` count errors, the ones that stop a load.
#[derive(Debug, Default)]
pub(crate) struct Report {
    items: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
    sources: BTreeMap<Arc<str>, Arc<str>>,
}

impl Report {
    /// Remembers a file's text so diagnostics in it can show the source line.
    pub(crate) fn add_source(&mut self, file: Arc<str>, text: Arc<str>) {
        self.sources.insert(file, text);
    }

    /// Records one problem (or warning).
    pub(crate) fn push(&mut self, diagnostic: Diagnostic) {
        match diagnostic.severity {
            Severity::Error => self.items.push(diagnostic),
            Severity::Warning => self.warnings.push(diagnostic),
        }
    }

    /// True when nothing was recorded.
    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The recorded problems and warnings, unsorted and without source lines (to merge into
    /// another report).
    pub(crate) fn into_items(mut self) -> Vec<Diagnostic> {
        self.items.append(&mut self.warnings);
        self.items
    }

    /// Adds the problems and warnings another report recorded.
    pub(crate) fn absorb(&mut self, items: Vec<Diagnostic>) {
        for d in items {
            self.push(d);
        }
    }

    /// How many problems were recorded.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// The sorted, de-duplicated diagnostics (errors and warnings) with their source lines.
    pub(crate) fn finish(mut self) -> Diagnostics {
        self.items.append(&mut self.warnings);
        for d in &mut self.items {
            if d.location.line > 0
                && let Some(text) = self.sources.get(&d.location.file)
            {
                d.source_line = text
                    .lines()
                    .nth(d.location.line as usize - 1)
                    .map(|l| l.trim_end().to_string());
            }
        }
        self.items.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        self.items.dedup();
        Diagnostics { items: self.items }
    }
}
