//! Branch names as git accepts them (`git check-ref-format --branch`), checked before any
//! name reaches a git process or a ref.

/// A branch name git would refuse, or one that could be read as an option, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{name}` is not a valid branch name: it {reason}; use a name such as `main` or `release/1.x`"
)]
pub struct BranchError {
    /// The name as given (control characters escaped).
    pub name: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Checks `name` against git's rules for a branch (`refs/heads/<name>`), plus the one
/// rule that keeps it from ever being read as a command-line option: no leading `-`.
///
/// Refused: the empty name, `HEAD`, `@`, a leading `-`, a leading or trailing `/` or `//`,
/// a component starting with `.` or ending in `.lock`, `..`, `@{`, a trailing `.`, control
/// characters, space and `~ ^ : ? * [ \`.
///
/// ```
/// use glueops_files::check_branch;
/// assert!(check_branch("release/1.x").is_ok());
/// assert!(check_branch("--upload-pack=touch /tmp/pwned").is_err());
/// assert!(check_branch("main..other").is_err());
/// ```
pub fn check_branch(name: &str) -> Result<(), BranchError> {
    let refuse = |reason| {
        Err(BranchError {
            name: name.escape_debug().to_string(),
            reason,
        })
    };
    if name.is_empty() {
        return refuse("is empty");
    }
    if name == "HEAD" || name == "@" {
        return refuse("is reserved by git");
    }
    if name.starts_with('-') {
        return refuse("starts with `-`");
    }
    if name.starts_with('/') || name.ends_with('/') || name.contains("//") {
        return refuse("has an empty component (a leading, trailing or doubled `/`)");
    }
    if name.ends_with('.') {
        return refuse("ends with `.`");
    }
    if name.contains("..") {
        return refuse("contains `..`");
    }
    if name.contains("@{") {
        return refuse("contains `@{`");
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\'))
    {
        return if c.is_control() {
            refuse("contains a control character")
        } else {
            refuse("contains a space or one of `~ ^ : ? * [ \\`")
        };
    }
    for part in name.split('/') {
        if part.starts_with('.') {
            return refuse("has a component starting with `.`");
        }
        if part.ends_with(".lock") {
            return refuse("has a component ending in `.lock`");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_branch;

    #[test]
    fn names_git_accepts_pass() {
        for ok in [
            "main",
            "release/1.x",
            "feature/JIRA-12_b",
            "v1.2.3",
            "a@b",
            "dependabot/npm_and_yarn/x-1.0",
        ] {
            assert!(check_branch(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn names_git_refuses_or_options_fail() {
        for bad in [
            "",
            "HEAD",
            "@",
            "-x",
            "--upload-pack=x",
            "/a",
            "a/",
            "a//b",
            "a.",
            "a..b",
            "a@{1}",
            "a b",
            "a~1",
            "a^",
            "a:b",
            "a?",
            "a*",
            "a[",
            "a\\b",
            "a\nb",
            "a\0",
            ".hidden",
            "a/.b",
            "x.lock",
            "a/x.lock/b",
        ] {
            assert!(check_branch(bad).is_err(), "{bad:?}");
        }
    }
}
