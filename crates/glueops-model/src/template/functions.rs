//! The functions templates may call, each pure and with Helm's (Sprig's) semantics: the
//! text functions real GlueOps repos use. Anything impure (`env`, `now`, `rand*`, `lookup`,
//! `.Files`) is not here, so it stays a located refusal.

use serde_json::Value as Json;
use sha2::Digest as _;

use super::{print, truthy};

/// Every function a template may call, by name.
pub(super) const NAMES: &[&str] = &[
    "b64enc",
    "default",
    "lower",
    "printf",
    "quote",
    "replace",
    "sha256sum",
    "squote",
    "toString",
    "trim",
    "trimPrefix",
    "trimSuffix",
    "trunc",
    "upper",
];

/// Calls `name` with `args` (a piped value comes last, as in Go templates).
pub(super) fn call(name: &str, args: &[Json], action: &str) -> Result<Json, String> {
    let text = |v: &Json| print(v, action);
    let wrong = || {
        Err(format!(
            "`{{{{ {action} }}}}`: `{name}` takes {}, got {} argument{}",
            arity(name),
            args.len(),
            if args.len() == 1 { "" } else { "s" }
        ))
    };
    let out = match (name, args) {
        ("quote", [v]) => format!("{:?}", text(v)?),
        ("squote", [v]) => format!("'{}'", text(v)?),
        ("lower", [v]) => text(v)?.to_lowercase(),
        ("upper", [v]) => text(v)?.to_uppercase(),
        ("trim", [v]) => text(v)?.trim().to_string(),
        ("toString", [v]) => text(v)?,
        ("default", [fallback, v]) => {
            return Ok(if truthy(v) {
                v.clone()
            } else {
                fallback.clone()
            });
        }
        ("trunc", [n, v]) => {
            let n = n
                .as_i64()
                .ok_or_else(|| format!("`{{{{ {action} }}}}`: trunc takes a whole number first"))?;
            trunc(&text(v)?, n)
        }
        ("replace", [old, new, v]) => text(v)?.replace(&text(old)?, &text(new)?),
        ("trimSuffix", [suffix, v]) => {
            let (s, suffix) = (text(v)?, text(suffix)?);
            s.strip_suffix(suffix.as_str()).unwrap_or(&s).to_string()
        }
        ("trimPrefix", [prefix, v]) => {
            let (s, prefix) = (text(v)?, text(prefix)?);
            s.strip_prefix(prefix.as_str()).unwrap_or(&s).to_string()
        }
        ("b64enc", [v]) => {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(text(v)?)
        }
        ("sha256sum", [v]) => hex(&sha2::Sha256::digest(text(v)?.as_bytes())),
        ("printf", [format, rest @ ..]) => printf(&text(format)?, rest, action)?,
        _ => return wrong(),
    };
    Ok(Json::String(out))
}

fn arity(name: &str) -> &'static str {
    match name {
        "default" | "trunc" | "trimSuffix" | "trimPrefix" => "2 arguments",
        "replace" => "3 arguments",
        "printf" => "a format and its arguments",
        _ => "1 argument",
    }
}

/// Sprig's `trunc`: the first `n` characters, or for a negative `n` the last `-n`.
fn trunc(s: &str, n: i64) -> String {
    let count = s.chars().count();
    let keep = usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX);
    if keep >= count {
        return s.to_string();
    }
    if n >= 0 {
        s.chars().take(keep).collect()
    } else {
        s.chars().skip(count - keep).collect()
    }
}

/// Go's `fmt.Sprintf` for the verbs templates use: `%s`, `%v`, `%d`, `%q` and `%%`.
fn printf(format: &str, args: &[Json], action: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let verb = chars.next();
        if verb == Some('%') {
            out.push('%');
            continue;
        }
        let arg = args.next().ok_or_else(|| {
            format!("`{{{{ {action} }}}}`: printf has fewer arguments than verbs")
        })?;
        match verb {
            Some('s' | 'v') => out.push_str(&print(arg, action)?),
            Some('d') if arg.is_i64() => out.push_str(&print(arg, action)?),
            Some('q') => out.push_str(&format!("{:?}", print(arg, action)?)),
            other => {
                return Err(format!(
                    "`{{{{ {action} }}}}`: printf verb `%{}` is not one glueops reads (%s, %v, %d, %q)",
                    other.map(String::from).unwrap_or_default()
                ));
            }
        }
    }
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}
