//! What makes an OTLP request malformed, checked before anything of it is
//! translated: ids of the wrong length (OTLP's own decoders refuse a trace
//! id that is not 16 bytes and a span id that is not 8), a span without a
//! start or ending before it starts, histogram bounds that are not finite
//! and strictly increasing, bucket counts that do not match their bounds or
//! the point's count, quantiles outside [0, 1]. A malformed request is
//! refused whole (`INVALID_ARGUMENT`, HTTP 400) with the field's path in
//! the OTLP JSON names, so nothing of it is stored; records that are well
//! formed but not stored (delta temporality, exponential histograms, past
//! a cap) are refused one by one as a partial success instead. Exemplar
//! ids, like log records', may be absent but not of another length.

use super::proto::collector::logs::v1::ExportLogsServiceRequest;
use super::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use super::proto::collector::trace::v1::ExportTraceServiceRequest;
use super::proto::metrics::v1::{Exemplar, HistogramDataPoint, SummaryDataPoint, metric};
use crate::error::IngestError;

fn bad(path: String, why: impl std::fmt::Display) -> IngestError {
    IngestError::BadInput(format!("{path}: {why}"))
}

/// An id of `len` bytes, or none when `optional`.
fn check_id(
    b: &[u8],
    len: usize,
    optional: bool,
    path: impl Fn() -> String,
) -> Result<(), IngestError> {
    if b.is_empty() && optional {
        return Ok(());
    }
    if b.len() != len {
        return Err(bad(
            path(),
            format!("{} bytes; an id here is {len} bytes", b.len()),
        ));
    }
    if b.iter().all(|&x| x == 0) {
        return Err(bad(path(), "an id of all zero bytes is invalid"));
    }
    Ok(())
}

/// Checks a trace export: every span's and link's ids, every span's times.
pub fn traces(req: &ExportTraceServiceRequest) -> Result<(), IngestError> {
    for (r, rs) in req.resource_spans.iter().enumerate() {
        for (s, ss) in rs.scope_spans.iter().enumerate() {
            for (i, span) in ss.spans.iter().enumerate() {
                let at = |f: &str| format!("resourceSpans[{r}].scopeSpans[{s}].spans[{i}].{f}");
                check_id(&span.trace_id, 16, false, || at("traceId"))?;
                check_id(&span.span_id, 8, false, || at("spanId"))?;
                check_id(&span.parent_span_id, 8, true, || at("parentSpanId"))?;
                if span.start_time_unix_nano == 0 {
                    return Err(bad(at("startTimeUnixNano"), "a span needs a start time"));
                }
                if span.end_time_unix_nano < span.start_time_unix_nano {
                    return Err(bad(
                        at("endTimeUnixNano"),
                        format!(
                            "the span ends ({}) before it starts ({})",
                            span.end_time_unix_nano, span.start_time_unix_nano
                        ),
                    ));
                }
                if i64::try_from(span.end_time_unix_nano).is_err() {
                    return Err(bad(at("endTimeUnixNano"), "a time past the year 2262"));
                }
                for (l, link) in span.links.iter().enumerate() {
                    check_id(&link.trace_id, 16, false, || {
                        at(&format!("links[{l}].traceId"))
                    })?;
                    check_id(&link.span_id, 8, false, || {
                        at(&format!("links[{l}].spanId"))
                    })?;
                }
            }
        }
    }
    Ok(())
}

/// Checks a logs export: the trace and span ids a record carries.
pub fn logs(req: &ExportLogsServiceRequest) -> Result<(), IngestError> {
    for (r, rl) in req.resource_logs.iter().enumerate() {
        for (s, sl) in rl.scope_logs.iter().enumerate() {
            for (i, rec) in sl.log_records.iter().enumerate() {
                let at = |f: &str| format!("resourceLogs[{r}].scopeLogs[{s}].logRecords[{i}].{f}");
                check_id(&rec.trace_id, 16, true, || at("traceId"))?;
                check_id(&rec.span_id, 8, true, || at("spanId"))?;
            }
        }
    }
    Ok(())
}

/// Checks a metrics export: histogram bounds and counts, summary
/// quantiles, exemplar ids.
pub fn metrics(req: &ExportMetricsServiceRequest) -> Result<(), IngestError> {
    for (r, rm) in req.resource_metrics.iter().enumerate() {
        for (s, sm) in rm.scope_metrics.iter().enumerate() {
            for (m, metric) in sm.metrics.iter().enumerate() {
                let base = || format!("resourceMetrics[{r}].scopeMetrics[{s}].metrics[{m}]");
                match &metric.data {
                    Some(metric::Data::Histogram(h)) => {
                        for (p, point) in h.data_points.iter().enumerate() {
                            let at = |f: &str| format!("{}.histogram.dataPoints[{p}].{f}", base());
                            histogram_point(point, &at)?;
                            exemplar_ids(&point.exemplars, &at)?;
                        }
                    }
                    Some(metric::Data::Summary(x)) => {
                        for (p, point) in x.data_points.iter().enumerate() {
                            let at = |f: &str| format!("{}.summary.dataPoints[{p}].{f}", base());
                            summary_point(point, &at)?;
                        }
                    }
                    Some(metric::Data::Gauge(g)) => {
                        for (p, point) in g.data_points.iter().enumerate() {
                            let at = |f: &str| format!("{}.gauge.dataPoints[{p}].{f}", base());
                            exemplar_ids(&point.exemplars, &at)?;
                        }
                    }
                    Some(metric::Data::Sum(x)) => {
                        for (p, point) in x.data_points.iter().enumerate() {
                            let at = |f: &str| format!("{}.sum.dataPoints[{p}].{f}", base());
                            exemplar_ids(&point.exemplars, &at)?;
                        }
                    }
                    Some(metric::Data::ExponentialHistogram(_)) | None => {}
                }
            }
        }
    }
    Ok(())
}

fn histogram_point(p: &HistogramDataPoint, at: &dyn Fn(&str) -> String) -> Result<(), IngestError> {
    let mut last = f64::NEG_INFINITY;
    for (i, &b) in p.explicit_bounds.iter().enumerate() {
        if !b.is_finite() {
            return Err(bad(
                at(&format!("explicitBounds[{i}]")),
                format!("a bucket bound of {b}; bounds are finite (+Inf is implied)"),
            ));
        }
        if i > 0 && b <= last {
            return Err(bad(
                at(&format!("explicitBounds[{i}]")),
                format!("{b} after {last}; bounds are strictly increasing"),
            ));
        }
        last = b;
    }
    if p.bucket_counts.is_empty() {
        return Ok(());
    }
    if p.bucket_counts.len() != p.explicit_bounds.len() + 1 {
        return Err(bad(
            at("bucketCounts"),
            format!(
                "{} counts for {} bounds; there is one count more than bounds",
                p.bucket_counts.len(),
                p.explicit_bounds.len()
            ),
        ));
    }
    let total = p
        .bucket_counts
        .iter()
        .try_fold(0u64, |a, &n| a.checked_add(n));
    if total != Some(p.count) {
        return Err(bad(
            at("count"),
            format!(
                "{} while the bucket counts add up to {}",
                p.count,
                total.map_or_else(|| "more than 2^64".to_string(), |t| t.to_string())
            ),
        ));
    }
    Ok(())
}

fn summary_point(p: &SummaryDataPoint, at: &dyn Fn(&str) -> String) -> Result<(), IngestError> {
    for (i, q) in p.quantile_values.iter().enumerate() {
        if !(0.0..=1.0).contains(&q.quantile) {
            return Err(bad(
                at(&format!("quantileValues[{i}].quantile")),
                format!("{}; a quantile is between 0 and 1", q.quantile),
            ));
        }
    }
    Ok(())
}

fn exemplar_ids(xs: &[Exemplar], at: &dyn Fn(&str) -> String) -> Result<(), IngestError> {
    for (i, e) in xs.iter().enumerate() {
        check_id(&e.trace_id, 16, true, || {
            at(&format!("exemplars[{i}].traceId"))
        })?;
        check_id(&e.span_id, 8, true, || {
            at(&format!("exemplars[{i}].spanId"))
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::proto::metrics::v1::{Histogram, Metric, ResourceMetrics, ScopeMetrics};
    use super::super::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use super::*;

    fn span() -> Span {
        Span {
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            start_time_unix_nano: 10,
            end_time_unix_nano: 20,
            ..Default::default()
        }
    }

    fn export(spans: Vec<Span>) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    fn message(e: IngestError) -> String {
        match e {
            IngestError::BadInput(m) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn spans_are_refused_by_the_field_that_is_wrong() {
        traces(&export(vec![span()])).expect("a well-formed span");
        let cases: Vec<(fn(&mut Span), &str)> = vec![
            (|s| s.trace_id = vec![1; 8], "spans[1].traceId: 8 bytes"),
            (
                |s| s.trace_id = vec![0; 16],
                "spans[1].traceId: an id of all zero",
            ),
            (|s| s.span_id.clear(), "spans[1].spanId: 0 bytes"),
            (
                |s| s.parent_span_id = vec![3; 4],
                "spans[1].parentSpanId: 4 bytes",
            ),
            (|s| s.start_time_unix_nano = 0, "spans[1].startTimeUnixNano"),
            (
                |s| s.end_time_unix_nano = 5,
                "spans[1].endTimeUnixNano: the span ends (5) before it starts (10)",
            ),
            (|s| s.end_time_unix_nano = u64::MAX, "year 2262"),
        ];
        for (break_it, want) in cases {
            let mut bad_one = span();
            break_it(&mut bad_one);
            let m = message(traces(&export(vec![span(), bad_one])).expect_err(want));
            assert!(m.contains(want), "{m} lacks {want}");
            assert!(m.starts_with("resourceSpans[0].scopeSpans[0]."), "{m}");
        }
        let mut linked = span();
        linked.links.push(Default::default());
        let m = message(traces(&export(vec![linked])).expect_err("a link without ids"));
        assert!(m.contains("spans[0].links[0].traceId"), "{m}");
    }

    fn histogram(bounds: Vec<f64>, counts: Vec<u64>, count: u64) -> ExportMetricsServiceRequest {
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![Metric {
                        name: "h".into(),
                        data: Some(metric::Data::Histogram(Histogram {
                            data_points: vec![HistogramDataPoint {
                                explicit_bounds: bounds,
                                bucket_counts: counts,
                                count,
                                ..Default::default()
                            }],
                            aggregation_temporality: 2,
                        })),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn histogram_bounds_and_counts_must_agree() {
        metrics(&histogram(vec![0.5, 1.0], vec![1, 2, 3], 6)).expect("well formed");
        metrics(&histogram(vec![0.5], vec![], 7)).expect("bounds without counts");
        let cases = [
            (
                histogram(vec![0.5, f64::NAN], vec![1, 2, 3], 6),
                "explicitBounds[1]: a bucket bound of NaN",
            ),
            (
                histogram(vec![f64::INFINITY], vec![1, 2], 3),
                "explicitBounds[0]: a bucket bound of inf",
            ),
            (
                histogram(vec![1.0, 1.0], vec![1, 2, 3], 6),
                "explicitBounds[1]: 1 after 1",
            ),
            (
                histogram(vec![1.0], vec![1, 2, 3], 6),
                "bucketCounts: 3 counts for 1 bounds",
            ),
            (
                histogram(vec![1.0], vec![1, 2], 4),
                "count: 4 while the bucket counts add up to 3",
            ),
            (histogram(vec![1.0], vec![u64::MAX, 2], 4), "more than 2^64"),
        ];
        for (req, want) in cases {
            let m = message(metrics(&req).expect_err(want));
            assert!(m.contains(want), "{m} lacks {want}");
            assert!(
                m.starts_with(
                    "resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[0]."
                ),
                "{m}"
            );
        }
    }
}
