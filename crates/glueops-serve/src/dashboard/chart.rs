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

/// A bar per day, scaled to the busiest day, with a text alternative saying the same.
pub(crate) fn releases_per_day(daily: &[u32], label: &str) -> Markup {
    let max = daily.iter().copied().max().unwrap_or(0).max(1);
    let total: u32 = daily.iter().sum();
    let (width, height) = (daily.len() * 4, 24usize);
    let title = format!("{label}: {total} releases in {} days", daily.len());
    html! {
        svg class="chart" role="img" aria-label=(title) width=(width) height=(height)
            viewBox=(format!("0 0 {width} {height}")) xmlns="http://www.w3.org/2000/svg" {
            title { (title) }
            @for (i, n) in daily.iter().enumerate() {
                @if *n > 0 {
                    @let h = (f64::from(*n) / f64::from(max) * 22.0).ceil().max(2.0);
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
    fn the_chart_has_a_bar_per_busy_day_and_says_the_total() {
        let svg = releases_per_day(&[0, 2, 0, 1], "api/staging").into_string();
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains("api/staging: 3 releases in 4 days"), "{svg}");
        assert_eq!(ago(100, 40), "1m 0s ago");
        assert_eq!(short("0123456789"), "0123456");
    }
}
