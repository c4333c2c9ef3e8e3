//! Setting `image.tag` in a values file by changing only the bytes of that scalar (or inserting
//! the key), so comments, order, quoting and flow or block style survive.

use glueops_yaml::{Located, Tree, Value};

/// Why a values file cannot be edited safely.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unsafe(pub String);

/// Returns `text` with `image.tag` set to `tag`: the tag scalar's bytes replaced in its own
/// quoting style, or `tag` inserted into `image` (or `image` appended). Refuses a tag that is
/// not an image tag, a file of several documents, and a tag or `image` written through an
/// anchor, alias or merge key. The result is checked: it parses to the same tree with the
/// new tag.
///
/// ```
/// let text = "# prod\nimage: {repository: acme/api, tag: \"1.4.2\"}  # pinned\n";
/// let out = glueops::set_image_tag(text, "1.5.0").unwrap();
/// assert_eq!(out, "# prod\nimage: {repository: acme/api, tag: \"1.5.0\"}  # pinned\n");
/// assert!(glueops::set_image_tag("image: {tag: &t 1.0}\nother: *t\n", "2.0").is_err());
/// ```
pub fn set_image_tag(text: &str, tag: &str) -> Result<String, Unsafe> {
    crate::model::check::image_tag(tag).map_err(|e| Unsafe(e.to_string()))?;
    if several_documents(text) {
        return Err(Unsafe(
            "the file holds several YAML documents; glueops edits single-document values files only".into(),
        ));
    }
    // The parser resolves merge keys, so they are found in the text.
    if text.lines().any(|l| {
        l.trim_start()
            .trim_start_matches(['-', ' ', '{'])
            .starts_with("<<")
    }) {
        return Err(refuse("the file merges values with `<<`"));
    }
    let parsed = glueops_yaml::parse_located(text)
        .map_err(|e| Unsafe(format!("the file is not valid YAML ({e}); fix it first")))?;
    let out = match &parsed {
        None => append(text, tag),
        Some(root) => edit(text, root, tag)?,
    };
    verify(text, &out, tag)?;
    Ok(out)
}

fn several_documents(text: &str) -> bool {
    let mut content = false;
    for line in text.lines() {
        let marker = line == "---" || line.starts_with("--- ") || line == "...";
        if marker && content {
            return true;
        }
        let t = line.trim();
        if !t.is_empty() && !t.starts_with('#') && !marker {
            content = true;
        }
    }
    false
}

fn append(text: &str, tag: &str) -> String {
    let mut out = text.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!("image:\n  tag: {}\n", scalar(tag, None)));
    out
}

/// The tag as a YAML scalar: in the quotes `like` used, plain when that reads back as the
/// same string, double-quoted otherwise.
fn scalar(tag: &str, like: Option<u8>) -> String {
    match like {
        Some(b'"') => format!("\"{tag}\""),
        Some(b'\'') => format!("'{tag}'"),
        _ if matches!(glueops_yaml::parse(&format!("v: {tag}\n")), Ok(t) if t.field("v").and_then(Tree::text) == Some(tag)) => {
            tag.to_string()
        }
        _ => format!("\"{tag}\""),
    }
}

fn refuse(what: &str) -> Unsafe {
    Unsafe(format!(
        "{what}; glueops will not edit it (another key would change too): set image.tag by hand"
    ))
}

/// Bytes between a key and its value: where an anchor (`&name`) or a tag (`!x`) would be.
fn between(text: &str, key_end: usize, value_start: usize) -> &str {
    text.get(key_end..value_start).unwrap_or("")
}

fn edit(text: &str, root: &Located, tag: &str) -> Result<String, Unsafe> {
    let Value::Map(entries) = &root.value else {
        return Err(Unsafe("the file is not a map of values".into()));
    };
    if entries.iter().any(|e| e.key == "<<") {
        return Err(refuse("the file merges values with `<<`"));
    }
    let Some(image) = entries.iter().find(|e| e.key == "image") else {
        if text.as_bytes().get(root.span.start) == Some(&b'{') {
            let at = root.span.start + 1;
            return Ok(format!(
                "{}image: {{tag: {}}}, {}",
                &text[..at],
                scalar(tag, None),
                &text[at..]
            ));
        }
        return Ok(append(text, tag));
    };
    let image_at = image.value.span.start;
    if text.as_bytes().get(image_at) == Some(&b'*') {
        return Err(refuse("`image` is an alias"));
    }
    if between(text, image.key_span.end, image_at).contains(['&', '!']) {
        return Err(refuse("`image` carries an anchor or a tag"));
    }
    let Value::Map(fields) = &image.value.value else {
        return Err(Unsafe(
            "`image` is not a map; write it as `image: {tag: ...}`".into(),
        ));
    };
    if fields.iter().any(|e| e.key == "<<") {
        return Err(refuse("`image` merges values with `<<`"));
    }
    match fields.iter().find(|e| e.key == "tag") {
        Some(entry) => {
            let span = entry.value.span;
            let first = text.as_bytes().get(span.start).copied();
            if first == Some(b'*') {
                return Err(refuse("`image.tag` is an alias"));
            }
            if between(text, entry.key_span.end, span.start).contains(['&', '!']) {
                return Err(refuse("`image.tag` carries an anchor or a tag"));
            }
            if matches!(first, Some(b'|' | b'>')) || span.end <= span.start {
                return Err(Unsafe("`image.tag` is not a one-line scalar".into()));
            }
            let quote = first.filter(|b| matches!(b, b'"' | b'\''));
            Ok(format!(
                "{}{}{}",
                &text[..span.start],
                scalar(tag, quote),
                &text[span.end..]
            ))
        }
        None if text.as_bytes().get(image_at) == Some(&b'{') => {
            let at = image_at + 1;
            let sep = if fields.is_empty() { "" } else { ", " };
            Ok(format!(
                "{}tag: {}{sep}{}",
                &text[..at],
                scalar(tag, None),
                &text[at..]
            ))
        }
        None => {
            let Some(first) = fields.first() else {
                return Err(Unsafe("`image` is empty; write `image: {tag: ...}`".into()));
            };
            let line_start = text[..first.key_span.start]
                .rfind('\n')
                .map_or(0, |i| i + 1);
            let indent = &text[line_start..first.key_span.start];
            if !indent.chars().all(|c| c == ' ') {
                return Err(Unsafe(
                    "`image` is written in a form glueops does not edit".into(),
                ));
            }
            Ok(format!(
                "{}{indent}tag: {}\n{}",
                &text[..line_start],
                scalar(tag, None),
                &text[line_start..]
            ))
        }
    }
}

/// The edit must read back as the old tree with `image.tag` set.
fn verify(old: &str, new: &str, tag: &str) -> Result<(), Unsafe> {
    let failed =
        || Unsafe("the edited file would not read back as intended; set image.tag by hand".into());
    let mut expected = glueops_yaml::parse(old).map_err(|_| failed())?;
    let actual = glueops_yaml::parse(new).map_err(|_| failed())?;
    set(&mut expected, tag);
    if sorted(actual) == sorted(expected) {
        Ok(())
    } else {
        Err(failed())
    }
}

/// The tree with every map's entries in key order (an inserted key may come first).
fn sorted(tree: Tree) -> Tree {
    match tree {
        Tree::Map(entries) => {
            let mut entries: Vec<(String, Tree)> =
                entries.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Tree::Map(entries)
        }
        Tree::List(items) => Tree::List(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// Sets `image.tag` in a parsed tree, as the edit does in text.
pub(crate) fn set(tree: &mut Tree, tag: &str) {
    let Tree::Map(entries) = tree else { return };
    let image = match entries.iter_mut().find(|(k, _)| k == "image") {
        Some((_, v)) => v,
        None => {
            entries.push(("image".into(), Tree::Map(Vec::new())));
            match entries.last_mut() {
                Some((_, v)) => v,
                None => return,
            }
        }
    };
    let Tree::Map(fields) = image else { return };
    match fields.iter_mut().find(|(k, _)| k == "tag") {
        Some((_, v)) => *v = Tree::Text(tag.to_string()),
        None => fields.push(("tag".into(), Tree::Text(tag.to_string()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_only_the_scalar_in_every_style() {
        let cases = [
            ("image: {tag: 1.4.2}\n", "image: {tag: 1.5.0}\n"),
            (
                "image:\n  tag: '1.4.2' # x\n",
                "image:\n  tag: '1.5.0' # x\n",
            ),
            (
                "image:\n  repository: a\n  tag: \"1.4.2\"\nz: 1\n",
                "image:\n  repository: a\n  tag: \"1.5.0\"\nz: 1\n",
            ),
        ];
        for (old, new) in cases {
            assert_eq!(set_image_tag(old, "1.5.0").unwrap(), new);
        }
    }

    #[test]
    fn inserts_the_key_where_it_belongs() {
        assert_eq!(
            set_image_tag("", "1.5.0").unwrap(),
            "image:\n  tag: 1.5.0\n"
        );
        assert_eq!(
            set_image_tag("# c\nx: 1", "1.5").unwrap(),
            "# c\nx: 1\nimage:\n  tag: \"1.5\"\n"
        );
        assert_eq!(
            set_image_tag("image: {repository: a}\n", "2").unwrap(),
            "image: {tag: \"2\", repository: a}\n"
        );
        assert_eq!(
            set_image_tag("image:\n    repository: a # r\n", "v2").unwrap(),
            "image:\n    tag: v2\n    repository: a # r\n"
        );
    }

    #[test]
    fn refuses_what_it_cannot_edit_safely() {
        for (text, why) in [
            ("base: &img {tag: 1.0}\nimage: *img\n", "alias"),
            ("image: &img {tag: 1.0}\nother: *img\n", "anchor"),
            ("image: {tag: &t 1.0}\n", "anchor"),
            ("a: 1\n---\nimage: {tag: 1.0}\n", "several"),
            ("image:\n  <<: {tag: 1.0}\n", "<<"),
            ("image: {tag: 1.0}\n", "not a valid image tag"),
        ] {
            let tag = if why == "not a valid image tag" {
                "bad tag"
            } else {
                "2.0"
            };
            let e = set_image_tag(text, tag).unwrap_err();
            assert!(e.0.contains(why), "{text:?}: {e}");
        }
    }
}
