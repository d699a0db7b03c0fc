//! Inline SVG charts: a sparkline per reading and a full chart with axes and a time range.

use leptos::prelude::*;

/// The points of a series scaled into a `width` × `height` box (with `pad` inside). Times run
/// left to right from `from_ms` to `to_ms`; values bottom to top from min to max; points outside
/// the range and values that are not finite are left out.
pub fn scaled(
    points: &[(u64, f64)],
    from_ms: u64,
    to_ms: u64,
    width: f64,
    height: f64,
    pad: f64,
) -> Vec<(f64, f64)> {
    let visible = in_range(points, from_ms, to_ms);
    let (min, max) = value_range(visible.iter().map(|p| p.1));
    let span_t = (to_ms.saturating_sub(from_ms)).max(1) as f64;
    visible
        .into_iter()
        .map(|(t, v)| {
            let x = pad + (t - from_ms) as f64 / span_t * (width - 2.0 * pad);
            let y = if max > min {
                height - pad - (v - min) / (max - min) * (height - 2.0 * pad)
            } else {
                height / 2.0
            };
            (x, y)
        })
        .collect()
}

/// The points of a series from `from_ms` to `to_ms`, both included, with a finite value.
fn in_range(points: &[(u64, f64)], from_ms: u64, to_ms: u64) -> Vec<(u64, f64)> {
    points
        .iter()
        .copied()
        .filter(|(t, v)| (from_ms..=to_ms).contains(t) && v.is_finite())
        .collect()
}

/// The `points` attribute of an SVG polyline through `points`.
pub fn polyline(points: &[(f64, f64)]) -> String {
    let mut out = String::new();
    for (x, y) in points {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&format!("{x:.1},{y:.1}"));
    }
    out
}

/// The lowest and highest value (0, 0 when there are none).
pub fn value_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values
        .fold(None, |acc: Option<(f64, f64)>, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
        .unwrap_or((0.0, 0.0))
}

/// A small line of a reading's recent history.
#[component]
pub fn Sparkline(
    /// `(time, value)` points, oldest first.
    points: Vec<(u64, f64)>,
    /// Text for screen readers (the reading's name and range).
    label: String,
) -> impl IntoView {
    let line = sparkline(&points);
    view! {
        <svg class="sparkline" viewBox="0 0 100 24" preserveAspectRatio="none" role="img" aria-label=label>
            <polyline points=line />
        </svg>
    }
}

/// A sparkline's polyline: the whole series, from its first point's time to its last's.
fn sparkline(points: &[(u64, f64)]) -> String {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return String::new();
    };
    polyline(&scaled(points, first.0, last.0, 100.0, 24.0, 2.0))
}

/// A chart of one reading over a time range, with its value and time bounds.
#[component]
pub fn FullChart(
    /// `(time, value)` points, oldest first.
    points: Vec<(u64, f64)>,
    /// Start of the range shown.
    from_ms: u64,
    /// End of the range shown.
    to_ms: u64,
    /// Label of the value axis (name and unit).
    label: String,
    /// Formats a time for the axis.
    format_time: fn(u64) -> String,
) -> impl IntoView {
    let visible = in_range(&points, from_ms, to_ms);
    let (min, max) = value_range(visible.iter().map(|p| p.1));
    let scaled = scaled(&visible, from_ms, to_ms, 600.0, 200.0, 8.0);
    // The latest point as a dot (a line of no length, with round caps): it is all there is to
    // see while the range holds one point.
    let last = polyline(&scaled.last().map(|&p| [p, p]).unwrap_or_default());
    let line = polyline(&scaled);
    let summary = summary(&label, &visible);
    view! {
        <figure class="full-chart">
            // The summary is the image's name, and only that: the caption held it too, and screen
            // readers read it twice.
            <svg viewBox="0 0 600 200" preserveAspectRatio="none" role="img" aria-label=summary>
                <line class="axis" x1="8" y1="192" x2="592" y2="192" />
                <line class="axis" x1="8" y1="8" x2="8" y2="192" />
                <polyline points=line />
                <polyline class="last-point" points=last />
            </svg>
            <figcaption>
                <span class="chart-label">{label}</span>
                <span class="chart-max">{format!("max {}", crate::state::model::format_number(max))}</span>
                <span class="chart-min">{format!("min {}", crate::state::model::format_number(min))}</span>
                <span class="chart-from">{format_time(from_ms)}</span>
                <span class="chart-to">{format_time(to_ms)}</span>
            </figcaption>
        </figure>
    }
}

/// A chart in words (its image's name): how many points the range holds, between which values.
fn summary(label: &str, visible: &[(u64, f64)]) -> String {
    let (min, max) = value_range(visible.iter().map(|p| p.1));
    let points = match visible.len() {
        0 => return format!("{label}: no data in this range"),
        1 => "1 point".to_owned(),
        n => format!("{n} points"),
    };
    format!(
        "{label}: {points}, from {} to {}",
        crate::state::model::format_number(min),
        crate::state::model::format_number(max)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polyline_spans_the_box_from_min_to_max_inside_its_padding() {
        let points = [(0, 10.0), (50, 20.0), (100, 15.0)];
        for (height, pad, expected) in [
            (20.0, 0.0, "0.0,20.0 50.0,0.0 100.0,10.0"),
            (24.0, 2.0, "2.0,22.0 50.0,2.0 98.0,12.0"),
        ] {
            let line = polyline(&scaled(&points, 0, 100, 100.0, height, pad));
            assert_eq!(line, expected, "padding {pad}");
        }
    }

    #[test]
    fn polyline_skips_points_outside_the_range_and_flat_series_sit_in_the_middle() {
        let points = [(0, 1.0), (10, 5.0), (20, 5.0)];
        assert_eq!(
            polyline(&scaled(&points, 10, 20, 10.0, 8.0, 0.0)),
            "0.0,4.0 10.0,4.0"
        );
        assert_eq!(polyline(&scaled(&[], 0, 1, 10.0, 8.0, 0.0)), "");
        assert_eq!(scaled(&[(5, f64::NAN)], 0, 10, 10.0, 8.0, 0.0), []);
    }

    /// A sparkline spans its own series, however long ago; one point sits at the left edge.
    #[test]
    fn a_sparkline_spans_its_series() {
        let points = [(5_000, 1.0), (5_500, 3.0), (6_000, 2.0)];
        assert_eq!(sparkline(&points), "2.0,22.0 50.0,2.0 98.0,12.0");
        assert_eq!(sparkline(&[(7_000, 4.0)]), "2.0,12.0");
        assert_eq!(sparkline(&[]), "");
    }

    #[test]
    fn a_chart_counts_only_the_points_of_its_range() {
        let points = [
            (9, 100.0),
            (10, 1.5),
            (15, f64::NAN),
            (20, 3.0),
            (21, -100.0),
        ];
        let visible = in_range(&points, 10, 20);
        assert_eq!(visible, [(10, 1.5), (20, 3.0)]);
        assert_eq!(
            summary("Temperature", &visible),
            "Temperature: 2 points, from 1.5 to 3"
        );
        assert_eq!(summary("T", &visible[..1]), "T: 1 point, from 1.5 to 1.5");
        assert_eq!(summary("T", &[]), "T: no data in this range");
    }
}
