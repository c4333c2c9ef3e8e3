//! What a loop command tells a CI job besides its output: a Markdown summary
//! (`--summary FILE`, e.g. `$GITHUB_STEP_SUMMARY`) and `name=value` outputs (`--outputs FILE`,
//! e.g. `$GITHUB_OUTPUT`). Both files are appended to, as the runner expects.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use glueops::PreviewOutcome;
use glueops::plan::{Change, Held, Plan};
use glueops::{ConfigEdit, Outcome, Release};

use crate::error::Error;

/// One command's result, for CI.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// `released` (a commit pushed), `unchanged`, `planned` (dry run or diff), `refused`,
    /// `drift` or `clean`.
    result: &'static str,
    /// Whether the command changed (or, for a plan, would change) anything.
    changed: bool,
    /// The commit pushed last (the manifest commit; the config commit of a bump without sync).
    commit: Option<String>,
    /// Why nothing was released, naming the rule (one line).
    reason: Option<String>,
    /// Every deployment held back, one line each, naming the rule.
    held: Vec<String>,
    /// The summary.
    markdown: String,
}

impl Report {
    /// Appends the summary and the outputs to the files asked for.
    pub(crate) fn write(
        &self,
        summary: Option<&Path>,
        outputs: Option<&Path>,
    ) -> Result<(), Error> {
        if let Some(path) = summary {
            append(path, &self.markdown)?;
        }
        if let Some(path) = outputs {
            let mut text = String::new();
            output(&mut text, "result", self.result);
            output(
                &mut text,
                "changed",
                if self.changed { "true" } else { "false" },
            );
            output(&mut text, "commit", self.commit.as_deref().unwrap_or(""));
            output(&mut text, "reason", self.reason.as_deref().unwrap_or(""));
            output(&mut text, "held", &self.held.join("\n"));
            append(path, &text)?;
        }
        Ok(())
    }

    /// A sync (or the sync inside a release).
    pub(crate) fn outcome(command: &str, o: &Outcome) -> Report {
        let mut r = Report {
            markdown: format!("### glueops {command}\n\n"),
            ..Report::default()
        };
        r.add_outcome(o);
        r
    }

    fn add_outcome(&mut self, o: &Outcome) {
        let p = &o.plan;
        self.held = held_lines(&p.held);
        if let Some(refusal) = &p.refused {
            self.result = "refused";
            self.reason = Some(refusal.reason.clone());
            let _ = write!(
                self.markdown,
                "**Refused**: {}\n\n{}\n",
                refusal.reason, refusal.help
            );
            return;
        }
        self.markdown.push_str(&plan_markdown(p));
        (self.result, self.changed, self.commit) = match (&o.commit, o.dry_run) {
            (Some(c), _) => {
                let _ = writeln!(
                    self.markdown,
                    "\nCommitted `{}`: {} files written, {} removed.",
                    short(c),
                    p.written.len(),
                    p.removed.len()
                );
                ("released", true, Some(c.clone()))
            }
            (None, true) => {
                let _ = writeln!(
                    self.markdown,
                    "\nDry run: would write {} and remove {} files.",
                    p.written.len(),
                    p.removed.len()
                );
                let changed = !p.written.is_empty() || !p.removed.is_empty();
                ("planned", changed, None)
            }
            (None, false) => {
                self.markdown.push_str("\nNothing to change.\n");
                ("unchanged", false, None)
            }
        };
    }

    /// A promotion or a rollback.
    pub(crate) fn release(command: &str, release: &Release) -> Report {
        match release {
            Release::Released { tag, sync, config } => {
                let mut r = Report {
                    markdown: format!(
                        "### glueops {command}\n\nReleased tag `{tag}` (config `{}`).\n\n",
                        short(&config.commit)
                    ),
                    ..Report::default()
                };
                r.add_outcome(sync);
                r
            }
            Release::Refused(refused) => {
                let rules: Vec<String> = refused
                    .holds
                    .iter()
                    .map(|h| format!("rule `{}`: {h}", h.rule()))
                    .collect();
                let mut markdown = format!(
                    "### glueops {command}\n\n**Held**: `{}/{}` is not released.\n\n",
                    refused.app, refused.env
                );
                for rule in &rules {
                    let _ = writeln!(markdown, "- {rule}");
                }
                Report {
                    result: "refused",
                    reason: Some(format!(
                        "{}/{} is held by {}",
                        refused.app,
                        refused.env,
                        rules.join("; ")
                    )),
                    markdown,
                    ..Report::default()
                }
            }
        }
    }

    /// A bump, and the sync after it when there was one.
    pub(crate) fn bump(edit: &ConfigEdit, tag: &str, synced: Option<&Outcome>) -> Report {
        let mut r = Report {
            markdown: String::from("### glueops bump\n\n"),
            result: if edit.changed {
                "released"
            } else {
                "unchanged"
            },
            changed: edit.changed,
            commit: edit.changed.then(|| edit.commit.clone()),
            ..Report::default()
        };
        let _ = writeln!(
            r.markdown,
            "{} `{}`: `image.tag` = `{tag}` (config `{}`).\n",
            if edit.changed {
                "Bumped"
            } else {
                "Already at the tag:"
            },
            edit.path,
            short(&edit.commit)
        );
        if let Some(o) = synced {
            let bumped = r.changed;
            let config_commit = r.commit.take();
            r.add_outcome(o);
            r.changed |= bumped;
            if r.commit.is_none() {
                r.commit = config_commit;
            }
            if r.changed && r.result == "unchanged" {
                r.result = "released";
            }
        }
        r
    }

    /// A preview opened, closed or collected.
    pub(crate) fn preview(o: &PreviewOutcome) -> Report {
        let mut markdown = String::from("### glueops preview\n\n");
        if let Some(why) = &o.skipped {
            let _ = writeln!(markdown, "No preview: {why}\n");
        }
        for name in &o.opened {
            let _ = writeln!(markdown, "- opened `{name}`");
        }
        for name in &o.closed {
            let _ = writeln!(markdown, "- closed `{name}`");
        }
        match &o.commit {
            Some(c) => {
                let _ = writeln!(
                    markdown,
                    "\nCommitted `{}`: {} files written, {} removed.",
                    short(c),
                    o.written.len(),
                    o.removed.len()
                );
            }
            None => markdown.push_str("\nNothing to change.\n"),
        }
        Report {
            result: if o.commit.is_some() {
                "released"
            } else {
                "unchanged"
            },
            changed: o.commit.is_some(),
            commit: o.commit.clone(),
            markdown,
            ..Report::default()
        }
    }

    /// A drift check.
    pub(crate) fn drift(p: &Plan) -> Report {
        let drifted = !p.written.is_empty() || !p.removed.is_empty();
        let mut markdown = String::from("### glueops drift\n\n");
        if !drifted {
            markdown.push_str("No drift: the manifest branch is what the config renders.\n");
        }
        for path in &p.written {
            let _ = writeln!(markdown, "- differs: `{path}`");
        }
        for path in &p.removed {
            let _ = writeln!(markdown, "- not rendered: `{path}`");
        }
        Report {
            result: if drifted { "drift" } else { "clean" },
            changed: drifted,
            reason: drifted.then(|| {
                format!(
                    "{} file(s) on the manifest branch differ from a fresh render",
                    p.written.len() + p.removed.len()
                )
            }),
            markdown,
            ..Report::default()
        }
    }

    /// What a config change would change.
    pub(crate) fn diff(changes: &[glueops::render::Change]) -> Report {
        Report {
            result: "planned",
            changed: !changes.is_empty(),
            markdown: format!("### glueops diff\n\n{}", glueops::render::markdown(changes)),
            ..Report::default()
        }
    }
}

/// The plan as a table of deployments, then what is held and what was repaired.
fn plan_markdown(p: &Plan) -> String {
    let mut out = String::new();
    if !p.deployments.is_empty() {
        out.push_str("| Deployment | Change | Tag | Files |\n|---|---|---|---:|\n");
        for d in &p.deployments {
            let change = match d.change {
                Change::Added => "added",
                Change::Changed if d.repair => "repaired",
                Change::Changed => "changed",
                Change::Removed => "removed",
            };
            let _ = writeln!(
                out,
                "| `{}/{}` | {change} | {} | {} |",
                d.app,
                d.env,
                d.tag.as_deref().map_or("-".into(), |t| format!("`{t}`")),
                d.files
            );
        }
    }
    if !p.held.is_empty() {
        out.push_str("\n**Held** (not released):\n\n");
        for line in held_lines(&p.held) {
            let _ = writeln!(out, "- {line}");
        }
    }
    for path in &p.repaired {
        let _ = writeln!(out, "- repaired `{path}` (changed by someone else)");
    }
    out
}

fn held_lines(held: &[Held]) -> Vec<String> {
    held.iter()
        .flat_map(|h| {
            h.holds
                .iter()
                .map(move |hold| format!("{}/{}: rule `{}`: {hold}", h.app, h.env, hold.rule()))
        })
        .collect()
}

/// `name=value`, or the runner's `name<<DELIMITER` form for a value with line breaks.
fn output(out: &mut String, name: &str, value: &str) {
    if value.contains('\n') || value.contains('\r') {
        let mut delimiter = String::from("GLUEOPS_EOF");
        while value.contains(&delimiter) {
            delimiter.push('_');
        }
        let _ = write!(out, "{name}<<{delimiter}\n{value}\n{delimiter}\n");
    } else {
        let _ = writeln!(out, "{name}={value}");
    }
}

fn append(path: &Path, text: &str) -> Result<(), Error> {
    let io = |source| Error::File {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)
}

/// A commit id shortened for people (its first 12 hex digits).
pub(crate) fn short(c: &str) -> &str {
    c.get(..12).unwrap_or(c)
}

#[cfg(test)]
mod tests {
    use super::output;

    #[test]
    fn outputs_use_the_runners_two_forms() {
        let mut s = String::new();
        output(&mut s, "commit", "abc");
        output(&mut s, "held", "a/b: rule `window`\nGLUEOPS_EOF");
        assert_eq!(
            s,
            "commit=abc\nheld<<GLUEOPS_EOF_\na/b: rule `window`\nGLUEOPS_EOF\nGLUEOPS_EOF_\n"
        );
    }
}
