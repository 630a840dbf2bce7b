//! Small numeric and label helpers shared by the evaluator's modules.

use sightline_core::gofmt::format_g;
use sightline_core::{Labels, METRIC_NAME};

/// Labels that carry a series' identity metadata rather than dimensions;
/// operations that change a value's meaning drop them all.
const METADATA_LABELS: [&str; 3] = [METRIC_NAME, "__type__", "__unit__"];

/// One step of Neumaier-compensated summation: adds `inc` to `sum` and
/// returns the new sum and compensation.
pub(crate) fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// A copy without `__name__` (and the `__type__`/`__unit__` metadata).
pub(crate) fn drop_metadata(l: &Labels) -> Labels {
    if !l.iter().any(|x| METADATA_LABELS.contains(&x.name.as_str())) {
        return l.clone();
    }
    Labels::from_sorted(
        l.iter()
            .filter(|x| !METADATA_LABELS.contains(&x.name.as_str()))
            .cloned()
            .collect(),
    )
}

/// Keeps only the listed labels.
pub(crate) fn keep_labels(l: &Labels, names: &[String]) -> Labels {
    Labels::from_sorted(
        l.iter()
            .filter(|x| names.contains(&x.name))
            .cloned()
            .collect(),
    )
}

/// Drops the listed labels (and nothing else).
pub(crate) fn del_labels(l: &Labels, names: &[String]) -> Labels {
    Labels::from_sorted(
        l.iter()
            .filter(|x| !names.contains(&x.name))
            .cloned()
            .collect(),
    )
}

/// The labels a series is matched on: `on(names)` keeps `names`,
/// `ignoring(names)` drops them and `__name__`.
pub(crate) fn match_labels(l: &Labels, on: bool, names: &[String]) -> Labels {
    if on {
        keep_labels(l, names)
    } else {
        Labels::from_sorted(
            l.iter()
                .filter(|x| x.name != METRIC_NAME && !names.contains(&x.name))
                .cloned()
                .collect(),
        )
    }
}

/// Prometheus's label-set rendering, `{a="1", b="2"}` (Go-quoted values).
pub(crate) fn labels_string(l: &Labels) -> String {
    let mut s = String::from("{");
    for (i, x) in l.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&x.name);
        s.push('=');
        s.push_str(&go_quote(&x.value));
    }
    s.push('}');
    s
}

pub(crate) use sightline_core::gofmt::quote as go_quote;

/// Go's `labels.FormatOpenMetricsFloat`: Go's `'g'` form
/// ([`format_g`]), with `.0` appended to integral values.
pub(crate) fn format_openmetrics_float(v: f64) -> String {
    let s = format_g(v);
    if !v.is_finite() || s.contains(['e', '.']) {
        s
    } else {
        format!("{s}.0")
    }
}

/// Sorts floats ascending with NaN first, as Prometheus's value heaps do.
pub(crate) fn cmp_nan_first(a: f64, b: f64) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// Prometheus's `quantile` over a set of values (sorted here): linear
/// interpolation between the closest ranks.
pub(crate) fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    values.sort_by(|a, b| cmp_nan_first(*a, *b));
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openmetrics_floats() {
        assert_eq!(format_openmetrics_float(1.0), "1.0");
        assert_eq!(format_openmetrics_float(0.0), "0.0");
        assert_eq!(format_openmetrics_float(0.25), "0.25");
        assert_eq!(format_openmetrics_float(1e6), "1e+06");
        assert_eq!(format_openmetrics_float(f64::INFINITY), "+Inf");
        assert_eq!(format_openmetrics_float(f64::NAN), "NaN");
    }
}
