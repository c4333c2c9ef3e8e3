//! Parsers for the small formats inside values: Kubernetes quantities, cron schedules, Go and
//! Prometheus durations, image tags and digests, clock times. Each returns a message that
//! says what is wrong.

/// Parses a Kubernetes resource quantity (`100m`, `1.5`, `128Mi`, `1e3`, `2G`) into its value
/// in base units.
pub(crate) fn parse_quantity(s: &str) -> Result<f64, String> {
    let bad =
        || format!("`{s}` is not a Kubernetes quantity (examples: `250m`, `1`, `128Mi`, `2Gi`)");
    let s_trim = s.trim();
    if s_trim.is_empty() || s_trim != s {
        return Err(bad());
    }
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(split);
    let digits = number.trim_start_matches(['+', '-']);
    if digits.is_empty()
        || number.len() - digits.len() > 1
        || digits.contains(['+', '-'])
        || digits.matches('.').count() > 1
        || digits == "."
    {
        return Err(bad());
    }
    let value: f64 = number.parse().map_err(|_| bad())?;
    let factor = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        e if e.starts_with(['e', 'E']) => {
            let exp: i32 = e[1..].parse().map_err(|_| bad())?;
            10f64.powi(exp)
        }
        "mi" | "mb" | "MB" | "Mb" | "gb" | "GB" | "Gb" | "g" | "gi" => {
            return Err(format!(
                "`{s}` uses the unit `{suffix}`, which Kubernetes does not know; use `Mi`/`Gi` (binary) or `M`/`G` (decimal)"
            ));
        }
        _ => return Err(bad()),
    };
    if value < 0.0 {
        return Err(format!("`{s}` is negative; resources must be zero or more"));
    }
    Ok(value * factor)
}

/// Checks a Kubernetes CronJob schedule: five fields (minute hour day-of-month month
/// day-of-week) or a macro (`@hourly`, `@daily`, `@midnight`, `@weekly`, `@monthly`,
/// `@yearly`, `@annually`).
pub(crate) fn check_cron(s: &str) -> Result<(), String> {
    const MACROS: [&str; 7] = [
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
    ];
    if s.starts_with('@') {
        return if MACROS.contains(&s) {
            Ok(())
        } else {
            Err(format!(
                "`{s}` is not a known macro; use one of {}",
                MACROS.join(", ")
            ))
        };
    }
    if s.starts_with("TZ=") || s.starts_with("CRON_TZ=") {
        return Err(
            "time zones inside the schedule are not allowed by Kubernetes; use the `timeZone` key"
                .to_string(),
        );
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "`{s}` has {} fields; a schedule has 5: minute hour day-of-month month day-of-week (e.g. `*/15 * * * *`)",
            fields.len()
        ));
    }
    const MONTHS: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    let specs: [(&str, u32, u32, &[&str]); 5] = [
        ("minute", 0, 59, &[]),
        ("hour", 0, 23, &[]),
        ("day-of-month", 1, 31, &[]),
        ("month", 1, 12, &MONTHS),
        ("day-of-week", 0, 6, &DAYS),
    ];
    for (field, (name, min, max, names)) in fields.iter().zip(specs) {
        check_cron_field(field, name, min, max, names)?;
    }
    Ok(())
}

fn check_cron_field(
    field: &str,
    name: &str,
    min: u32,
    max: u32,
    names: &[&str],
) -> Result<(), String> {
    let value = |v: &str| -> Result<u32, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(v)) {
            return Ok(i as u32 + min);
        }
        match v.parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(format!("`{v}` is not a valid {name} (allowed {min}-{max})")),
        }
    };
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (part, None),
        };
        if let Some(step) = step {
            match step.parse::<u32>() {
                Ok(n) if n > 0 => {}
                _ => {
                    return Err(format!(
                        "`{part}`: the step after `/` in the {name} field must be a positive number"
                    ));
                }
            }
        }
        if range == "*" || (range == "?" && (name == "day-of-month" || name == "day-of-week")) {
            continue;
        }
        match range.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (value(a)?, value(b)?);
                if a > b {
                    return Err(format!("`{part}`: the {name} range goes backwards"));
                }
            }
            None => {
                value(range)?;
            }
        }
    }
    Ok(())
}

/// Checks a Go duration as Kubernetes and Argo CD read it (`90s`, `1h30m`, `168h`).
pub(crate) fn check_go_duration(s: &str) -> Result<(), String> {
    check_duration(
        s,
        &["ns", "us", "µs", "ms", "s", "m", "h"],
        "`30s`, `5m`, `1h30m`, `168h`",
    )
}

/// Parses a Go duration (`168h`, `1h30m`, `90s`) into whole seconds (fractions round down).
pub(crate) fn go_duration_seconds(s: &str) -> Result<u64, String> {
    check_go_duration(s)?;
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let value: f64 = rest[..n].parse().unwrap_or(0.0);
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..u] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            _ => 1e-9,
        };
        total += value * scale;
        rest = &rest[u..];
    }
    // A checked duration is finite and non-negative; `as` saturates.
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "whole seconds of a checked, non-negative duration; `as` saturates"
    )]
    Ok(total.floor() as u64)
}

/// Checks a Prometheus duration (`30s`, `5m`, `1h`, `1d`, `1w`).
pub(crate) fn check_prometheus_duration(s: &str) -> Result<(), String> {
    // Prometheus' grammar (`model.ParseDuration`): whole numbers, the units in this order,
    // each at most once, or a plain `0`.
    const UNITS: [&str; 7] = ["y", "w", "d", "h", "m", "s", "ms"];
    let bad = || {
        format!(
            "`{s}` is not a Prometheus duration; write whole numbers with units in the order y, w, d, h, m, s, ms, e.g. `30s`, `5m`, `1h30m`"
        )
    };
    if s == "0" {
        return Ok(());
    }
    let mut rest = s;
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad());
        }
        rest = &rest[digits..];
        // `ms` before `m`: the longest unit that matches.
        let (at, unit) = UNITS
            .iter()
            .enumerate()
            .skip(next_unit)
            .filter(|(_, u)| rest.starts_with(**u))
            .max_by_key(|(_, u)| u.len())
            .ok_or_else(bad)?;
        rest = &rest[unit.len()..];
        next_unit = at + 1;
    }
    if s.is_empty() { Err(bad()) } else { Ok(()) }
}

fn check_duration(s: &str, units: &[&str], examples: &str) -> Result<(), String> {
    let bad = || format!("`{s}` is not a duration; write a number and a unit, e.g. {examples}");
    if s.is_empty() || s == "0" {
        return if s == "0" { Ok(()) } else { Err(bad()) };
    }
    let mut rest = s;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if n == 0 || rest[..n].parse::<f64>().is_err() {
            return Err(bad());
        }
        rest = &rest[n..];
        let unit = units
            .iter()
            .filter(|u| rest.starts_with(**u))
            .max_by_key(|u| u.len())
            .ok_or_else(bad)?;
        rest = &rest[unit.len()..];
    }
    Ok(())
}

/// Checks an image tag (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`).
pub(crate) fn check_tag(s: &str) -> Result<(), String> {
    // The chart pins digests through the tag: `1.29.5@sha256:<hex>`.
    if let Some((tag, digest)) = s.split_once('@') {
        check_tag(tag)?;
        return check_digest(digest).map_err(|e| format!("in the tag `{s}`: {e}"));
    }
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a valid image tag: up to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`"
        ))
    }
}

/// Checks an image digest (`sha256:` and 64 lowercase hex digits, or `sha512:` and 128).
pub(crate) fn check_digest(s: &str) -> Result<(), String> {
    let ok = match s.split_once(':') {
        Some(("sha256", hex)) => hex.len() == 64,
        Some(("sha512", hex)) => hex.len() == 128,
        _ => false,
    } && s.split_once(':').is_some_and(|(_, h)| {
        h.chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not an image digest; write `sha256:` followed by 64 lowercase hex digits"
        ))
    }
}

/// Parses a 24-hour clock time `HH:MM` into minutes after midnight.
pub(crate) fn parse_clock(s: &str) -> Result<u32, String> {
    let bad = || format!("`{s}` is not a time of day; write `HH:MM` in 24-hour form, e.g. `09:00`");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 24 || m > 59 || (h == 24 && m > 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// Checks that `name` is an IANA time zone known to the bundled time zone database.
pub(crate) fn check_time_zone(name: &str) -> Result<(), String> {
    match jiff::tz::db().get(name) {
        Ok(_) => Ok(()),
        Err(_) => Err(format!(
            "`{name}` is not an IANA time zone; use a name such as `Europe/Berlin`, `America/New_York` or `UTC`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity("100m"), Ok(0.1));
        assert_eq!(parse_quantity("1"), Ok(1.0));
        assert_eq!(parse_quantity("128Mi"), Ok(128.0 * 1024.0 * 1024.0));
        assert_eq!(parse_quantity("1e3"), Ok(1000.0));
        assert_eq!(parse_quantity(".5"), Ok(0.5));
        assert!(parse_quantity("1GB").is_err_and(|e| e.contains("`GB`")));
        assert!(parse_quantity("abc").is_err());
        assert!(parse_quantity("").is_err());
        assert!(parse_quantity("1.2.3").is_err());
        assert!(parse_quantity("--1").is_err());
    }

    #[test]
    fn cron() {
        for ok in [
            "*/15 * * * *",
            "0 3 * * MON-FRI",
            "0 0 1,15 * ?",
            "@daily",
            "5 4 * JAN-MAR 0",
        ] {
            assert_eq!(check_cron(ok), Ok(()), "{ok}");
        }
        for bad in [
            "* * * *",
            "60 * * * *",
            "0 25 * * *",
            "0 0 0 * *",
            "*/0 * * * *",
            "@often",
            "5-1 * * * *",
            "TZ=UTC 0 0 * * *",
        ] {
            assert!(check_cron(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_tags_clock_zones() {
        assert!(check_go_duration("1h30m").is_ok() && check_go_duration("168h").is_ok());
        assert!(check_go_duration("7d").is_err() && check_go_duration("h").is_err());
        // Prometheus' grammar: whole numbers, units in order, each once; `0` alone.
        for good in [
            "7d",
            "30s",
            "5m",
            "1h30m",
            "1y2w3d4h5m6s7ms",
            "0",
            "0s",
            "90s",
            "250ms",
        ] {
            assert!(check_prometheus_duration(good).is_ok(), "{good}");
        }
        for bad in [
            "", "1.5m", "5", "m", "30s5m", "5m5m", "1h 30m", "5M", "-1m", "10x",
        ] {
            assert!(check_prometheus_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(go_duration_seconds("168h"), Ok(604_800));
        assert_eq!(go_duration_seconds("1h30m15.5s"), Ok(5415));
        assert!(go_duration_seconds("7d").is_err());
        assert!(
            check_tag("1.4.2").is_ok() && check_tag("-bad").is_err() && check_tag("a:b").is_err()
        );
        assert!(check_digest(&format!("sha256:{}", "a".repeat(64))).is_ok());
        assert!(check_digest("sha256:XYZ").is_err());
        assert_eq!(parse_clock("09:30"), Ok(570));
        assert!(parse_clock("9:30").is_err() && parse_clock("25:00").is_err());
        assert!(
            check_time_zone("Europe/Berlin").is_ok() && check_time_zone("Mars/Olympus").is_err()
        );
    }
}
