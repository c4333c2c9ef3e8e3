//! Small pure helpers of the page: durations and ages in words, and the inline SVG chart of
//! releases per day.

use maud::{Markup, html};

/// `3d 4h`, `2h 5m`, `40s`.
pub(crate) fn duration(seconds: i64) -> String {
    glueops::dora::human(seconds)
}

/// `5m ago`, `in 2h` relative to `now`.
pub(crate) fn ago(now: i64, at: i64) -> String {
    if at <= now {
        format!("{} ago", duration(now - at))
    } else {
        format!("in {}", duration(at - now))
    }
}

/// An RFC 3339 time (UTC) for a `<time datetime>`.
pub(crate) fn stamp(at: i64) -> String {
    jiff::Timestamp::from_second(at).map_or_else(|_| String::new(), |t| t.to_string())
}

/// The first 7 characters of a commit id.
pub(crate) fn short(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}

/// A bar per day (`None`: nothing that day), scaled to the greatest, with a text alternative
/// saying what it shows.
pub(crate) fn per_day(values: &[Option<f64>], title: &str) -> Markup {
    let max = values.iter().flatten().copied().fold(0.0_f64, f64::max);
    let (width, height) = (values.len() * 4, 24usize);
    html! {
        svg class="chart" role="img" aria-label=(title) width=(width) height=(height)
            viewBox=(format!("0 0 {width} {height}")) xmlns="http://www.w3.org/2000/svg" {
            title { (title) }
            @for (i, v) in values.iter().enumerate() {
                @if let Some(v) = v.filter(|v| *v > 0.0) {
                    @let h = (v / max * 22.0).ceil().max(2.0);
                    rect x=(i * 4) y=(format!("{:.0}", 24.0 - h)) width="3" height=(format!("{h:.0}")) {}
                }
            }
            line x1="0" y1="23.5" x2=(width) y2="23.5" class="axis" {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_has_a_bar_per_day_with_a_value_and_says_what_it_shows() {
        let svg = per_day(
            &[None, Some(2.0), Some(0.0), Some(1.0)],
            "api/staging: 3 releases",
        )
        .into_string();
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(
            svg.contains("aria-label=\"api/staging: 3 releases\""),
            "{svg}"
        );
        assert!(
            svg.contains("height=\"22\"") && svg.contains("height=\"11\""),
            "scaled to the greatest: {svg}"
        );
        assert_eq!(ago(100, 40), "1m 0s ago");
        assert_eq!(short("0123456789"), "0123456");
    }
}
