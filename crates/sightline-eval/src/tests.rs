//! Hand-computed checks of the core semantics, on trees built without the
//! parser: lookback and staleness, left-open ranges, offset and `@`, rate
//! extrapolation and counter resets, aggregation, name removal, range
//! steps, sample limits and prefetch windows.

use sightline_core::{Labels, MatchOp, Matcher, Sample, stale_nan};

use crate::ast::*;
use crate::{MemStorage, QueryOptions, Value, eval_instant, eval_range, selections};

const M: i64 = 60_000;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied()).expect("valid labels")
}

fn vs(name: &str) -> VectorSelector {
    VectorSelector {
        name: Some(name.to_string()),
        matchers: vec![Matcher::new("__name__", MatchOp::Equal, name).expect("valid matcher")],
        offset: None,
        at: None,
        span: Span::default(),
    }
}

fn sel(name: &str) -> Expr {
    Expr::Vector(vs(name))
}

fn range(v: VectorSelector, r: i64) -> Expr {
    Expr::Matrix(MatrixSelector {
        vector: v,
        range: r,
        span: Span::default(),
    })
}

fn call(func: Function, args: Vec<Expr>) -> Expr {
    Expr::Call(Call {
        func,
        args,
        span: Span::default(),
    })
}

fn num(v: f64) -> Expr {
    Expr::Number {
        value: v,
        span: Span::default(),
    }
}

fn bin(op: BinOp, lhs: Expr, rhs: Expr, return_bool: bool) -> Expr {
    Expr::Binary(BinaryExpr {
        op,
        lhs: Box::new(lhs),
        rhs: Box::new(rhs),
        return_bool,
        matching: None,
        span: Span::default(),
    })
}

fn agg(op: AggOp, e: Expr, grouping: Option<(bool, &[&str])>) -> Expr {
    Expr::Aggregate(AggregateExpr {
        op,
        expr: Box::new(e),
        param: None,
        grouping: grouping.map(|(without, l)| Grouping {
            without,
            labels: l.iter().map(|s| s.to_string()).collect(),
        }),
        span: Span::default(),
    })
}

/// A series as label pairs and (time, value) points.
type SeriesSpec<'a> = (&'a [(&'a str, &'a str)], &'a [(i64, f64)]);

fn store(series: &[SeriesSpec]) -> MemStorage {
    let mut s = MemStorage::new();
    for (l, pts) in series {
        s.add(labels(l), pts.iter().map(|&(t, v)| Sample { t, v }));
    }
    s
}

/// An instant query's vector as (labels, value), sorted by labels.
fn vector(e: &Expr, t: i64, s: &MemStorage) -> Vec<(Labels, f64)> {
    match eval_instant(e, t, &QueryOptions::default(), s).expect("evaluates") {
        Value::Vector(v) => {
            let mut out: Vec<_> = v.into_iter().map(|x| (x.labels, x.v)).collect();
            out.sort_by(|a, b| a.0.cmp(&b.0));
            out
        }
        other => panic!("expected a vector, got {other:?}"),
    }
}

fn single(e: &Expr, t: i64, s: &MemStorage) -> f64 {
    let v = vector(e, t, s);
    assert_eq!(v.len(), 1, "expected one element, got {v:?}");
    v[0].1
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn lookback_is_left_open_and_takes_newest_sample() {
    let s = store(&[(&[("__name__", "x")], &[(0, 1.0), (M, 2.0)])]);
    assert_eq!(single(&sel("x"), 30_000, &s), 1.0);
    assert_eq!(single(&sel("x"), 5 * M, &s), 2.0);
    // The sample at 1m is 5m old at 6m: outside (t - 5m, t].
    assert!(vector(&sel("x"), 6 * M, &s).is_empty());
    assert_eq!(single(&sel("x"), 6 * M - 1, &s), 2.0);
}

#[test]
fn staleness_marker_hides_series() {
    let s = store(&[(
        &[("__name__", "x")],
        &[(0, 1.0), (M, stale_nan()), (3 * M, 3.0)],
    )]);
    assert_eq!(single(&sel("x"), 30_000, &s), 1.0);
    assert!(vector(&sel("x"), 90_000, &s).is_empty());
    assert_eq!(single(&sel("x"), 3 * M, &s), 3.0);
}

#[test]
fn range_selector_is_left_open_and_drops_stale_markers() {
    let s = store(&[(
        &[("__name__", "x")],
        &[(0, 0.0), (M, 1.0), (2 * M, stale_nan()), (3 * M, 3.0)],
    )]);
    let Value::Matrix(m) =
        eval_instant(&range(vs("x"), 3 * M), 3 * M, &QueryOptions::default(), &s).expect("ok")
    else {
        panic!("expected a matrix");
    };
    assert_eq!(m.len(), 1);
    let ts: Vec<i64> = m[0].samples.iter().map(|p| p.t).collect();
    assert_eq!(ts, vec![M, 3 * M]);
    // count_over_time sees the same window.
    assert_eq!(
        single(
            &call(Function::CountOverTime, vec![range(vs("x"), 3 * M)]),
            3 * M,
            &s
        ),
        2.0
    );
}

#[test]
fn offset_negative_offset_and_at() {
    let s = store(&[(
        &[("__name__", "x")],
        &[(0, 0.0), (M, 10.0), (2 * M, 20.0), (3 * M, 30.0)],
    )]);
    let mut v = vs("x");
    v.offset = Some(M);
    assert_eq!(single(&Expr::Vector(v.clone()), 3 * M, &s), 20.0);
    v.offset = Some(-M);
    assert_eq!(single(&Expr::Vector(v), M, &s), 20.0);
    let mut v = vs("x");
    v.at = Some(At::Timestamp(M));
    assert_eq!(single(&Expr::Vector(v.clone()), 100 * M, &s), 10.0);
    v.at = Some(At::Start);
    v.offset = Some(M);
    // Instant query: start() is the evaluation time; minus the offset.
    assert_eq!(single(&Expr::Vector(v), 3 * M, &s), 20.0);
}

#[test]
fn rate_extrapolates_to_window_start() {
    // 0, 10, ..., 50 every minute. At 5m the window (0, 5m] holds 1m..5m:
    // 40 over 240s; 60s to the start (< 1.1 * 60s) so extrapolate fully;
    // the zero point is 60s before the first sample, not nearer.
    // increase = 40 * 300/240 = 50; rate = 50 / 300.
    let pts: Vec<(i64, f64)> = (0..=5).map(|i| (i * M, 10.0 * i as f64)).collect();
    let s = store(&[(&[("__name__", "c_total"), ("job", "a")], &pts)]);
    assert!(close(
        single(
            &call(Function::Increase, vec![range(vs("c_total"), 5 * M)]),
            5 * M,
            &s
        ),
        50.0
    ));
    assert!(close(
        single(
            &call(Function::Rate, vec![range(vs("c_total"), 5 * M)]),
            5 * M,
            &s
        ),
        50.0 / 300.0
    ));
    let out = vector(
        &call(Function::Rate, vec![range(vs("c_total"), 5 * M)]),
        5 * M,
        &s,
    );
    assert_eq!(
        out[0].0,
        labels(&[("job", "a")]),
        "rate drops the metric name"
    );
}

#[test]
fn rate_handles_counter_reset_and_zero_point() {
    // 0 10 20 5 15 at 0..4m; increase over (-1m, 4m]: 15 - 0 + 20 = 35;
    // the counter starts at 0 so no extrapolation before the first sample.
    let s = store(&[(
        &[("__name__", "c")],
        &[
            (0, 0.0),
            (M, 10.0),
            (2 * M, 20.0),
            (3 * M, 5.0),
            (4 * M, 15.0),
        ],
    )]);
    assert!(close(
        single(
            &call(Function::Increase, vec![range(vs("c"), 5 * M)]),
            4 * M,
            &s
        ),
        35.0
    ));
    assert_eq!(
        single(
            &call(Function::Resets, vec![range(vs("c"), 5 * M)]),
            4 * M,
            &s
        ),
        1.0
    );
}

#[test]
fn delta_extrapolates_half_interval_when_far_from_edges() {
    // Gauge 1 at 0 and 4 at 1m; window (-5m, 5m] at 5m... use 10m range at
    // 5m: 300s to the start and 240s to the end are both beyond 66s, so
    // each side extends by half the 60s spacing: 3 * (60+30+30)/60 = 6.
    let s = store(&[(&[("__name__", "g")], &[(0, 1.0), (M, 4.0)])]);
    assert!(close(
        single(
            &call(Function::Delta, vec![range(vs("g"), 10 * M)]),
            5 * M,
            &s
        ),
        6.0
    ));
    // One sample: no result.
    assert!(vector(&call(Function::Delta, vec![range(vs("g"), 30_000)]), M, &s).is_empty());
}

#[test]
fn aggregations_by_and_without() {
    let s = store(&[
        (&[("__name__", "x"), ("job", "a"), ("i", "1")], &[(0, 1.0)]),
        (&[("__name__", "x"), ("job", "a"), ("i", "2")], &[(0, 3.0)]),
        (&[("__name__", "x"), ("job", "b"), ("i", "1")], &[(0, 10.0)]),
    ]);
    let by_job = |op| vector(&agg(op, sel("x"), Some((false, &["job"]))), 0, &s);
    let a = labels(&[("job", "a")]);
    let b = labels(&[("job", "b")]);
    assert_eq!(
        by_job(AggOp::Sum),
        vec![(a.clone(), 4.0), (b.clone(), 10.0)]
    );
    assert_eq!(
        by_job(AggOp::Avg),
        vec![(a.clone(), 2.0), (b.clone(), 10.0)]
    );
    assert_eq!(
        by_job(AggOp::Count),
        vec![(a.clone(), 2.0), (b.clone(), 1.0)]
    );
    assert_eq!(
        by_job(AggOp::Min),
        vec![(a.clone(), 1.0), (b.clone(), 10.0)]
    );
    assert_eq!(by_job(AggOp::Max), vec![(a, 3.0), (b, 10.0)]);
    let without_i = vector(&agg(AggOp::Sum, sel("x"), Some((true, &["i"]))), 0, &s);
    assert_eq!(without_i.len(), 2);
    assert_eq!(without_i[0].0, labels(&[("job", "a")]));
    assert_eq!(single(&agg(AggOp::Sum, sel("x"), None), 0, &s), 14.0);
}

#[test]
fn arithmetic_drops_name_and_filters_keep_it() {
    let s = store(&[(&[("__name__", "x"), ("job", "a")], &[(0, 2.0)])]);
    let v = vector(&bin(BinOp::Mul, sel("x"), num(3.0), false), 0, &s);
    assert_eq!(v, vec![(labels(&[("job", "a")]), 6.0)]);
    let v = vector(&bin(BinOp::Gt, sel("x"), num(1.0), false), 0, &s);
    assert_eq!(v, vec![(labels(&[("__name__", "x"), ("job", "a")]), 2.0)]);
    assert!(vector(&bin(BinOp::Gt, sel("x"), num(5.0), false), 0, &s).is_empty());
    let v = vector(&bin(BinOp::Gt, sel("x"), num(5.0), true), 0, &s);
    assert_eq!(v, vec![(labels(&[("job", "a")]), 0.0)]);
    // Scalar on the left of a comparison: the vector's value is kept.
    let v = vector(&bin(BinOp::Lt, num(1.0), sel("x"), false), 0, &s);
    assert_eq!(v[0].1, 2.0);
    let neg = Expr::Unary {
        op: UnaryOp::Neg,
        expr: Box::new(sel("x")),
        span: Span::default(),
    };
    assert_eq!(vector(&neg, 0, &s), vec![(labels(&[("job", "a")]), -2.0)]);
}

#[test]
fn scalars_and_bool_comparisons() {
    let s = MemStorage::new();
    let e = bin(
        BinOp::Add,
        num(1.0),
        bin(BinOp::Pow, num(2.0), num(3.0), false),
        false,
    );
    assert_eq!(
        eval_instant(&e, 0, &QueryOptions::default(), &s),
        Ok(Value::Scalar { t: 0, v: 9.0 })
    );
    let e = bin(BinOp::Gt, num(1.0), num(2.0), true);
    assert_eq!(
        eval_instant(&e, 0, &QueryOptions::default(), &s),
        Ok(Value::Scalar { t: 0, v: 0.0 })
    );
    assert!(
        eval_instant(
            &bin(BinOp::Gt, num(1.0), num(2.0), false),
            0,
            &QueryOptions::default(),
            &s
        )
        .is_err()
    );
}

#[test]
fn range_query_steps_and_scalar_results() {
    let s = store(&[(&[("__name__", "x")], &[(0, 1.0), (2 * M, 2.0)])]);
    let Value::Matrix(m) =
        eval_range(&sel("x"), 0, 10 * M, 3 * M, &QueryOptions::default(), &s).expect("ok")
    else {
        panic!("matrix");
    };
    // Steps 0, 3m, 6m, 9m; the 2m sample is visible until 7m.
    let pts: Vec<(i64, f64)> = m[0].samples.iter().map(|p| (p.t, p.v)).collect();
    assert_eq!(pts, vec![(0, 1.0), (3 * M, 2.0), (6 * M, 2.0)]);
    let Value::Matrix(m) =
        eval_range(&num(4.0), 0, 2 * M, M, &QueryOptions::default(), &s).expect("ok")
    else {
        panic!("matrix");
    };
    assert_eq!(m.len(), 1);
    assert!(m[0].labels.is_empty());
    assert_eq!(m[0].samples.len(), 3);
    assert!(eval_range(&range(vs("x"), M), 0, M, M, &QueryOptions::default(), &s).is_err());
}

#[test]
fn too_many_samples_is_refused() {
    let pts: Vec<(i64, f64)> = (0..100).map(|i| (i * 1000, 1.0)).collect();
    let s = store(&[(&[("__name__", "x")], &pts)]);
    let opts = QueryOptions {
        max_samples: 10,
        ..QueryOptions::default()
    };
    let e = call(Function::SumOverTime, vec![range(vs("x"), 100_000)]);
    assert_eq!(
        eval_instant(&e, 99_000, &opts, &s),
        Err(crate::EvalError::TooManySamples)
    );
}

#[test]
fn malformed_and_native_functions_are_refused() {
    let s = store(&[(&[("__name__", "x")], &[(0, 1.0)])]);
    let e = call(Function::HistogramCount, vec![sel("x")]);
    assert!(matches!(
        eval_instant(&e, 0, &QueryOptions::default(), &s),
        Err(crate::EvalError::Unsupported(_))
    ));
    // A tree not from the parser: a call with the wrong number of arguments.
    assert!(matches!(
        eval_instant(
            &call(Function::Rate, vec![]),
            0,
            &QueryOptions::default(),
            &s
        ),
        Err(crate::EvalError::BadQuery(_))
    ));
}

#[test]
fn selection_windows_cover_lookback_ranges_and_offsets() {
    let opts = QueryOptions::default();
    let w = selections(&sel("x"), 10 * M, 20 * M, M, &opts);
    assert_eq!((w[0].1, w[0].2), (5 * M + 1, 20 * M));
    let mut v = vs("x");
    v.offset = Some(M);
    let w = selections(&range(v, 2 * M), 10 * M, 10 * M, 0, &opts);
    assert_eq!((w[0].1, w[0].2), (7 * M + 1, 9 * M));
    let sq = Expr::Subquery(Subquery {
        expr: Box::new(sel("x")),
        range: 10 * M,
        step: Some(M),
        offset: None,
        at: None,
        span: Span::default(),
    });
    let w = selections(&sq, 30 * M, 30 * M, 0, &opts);
    assert_eq!((w[0].1, w[0].2), (15 * M + 1, 30 * M));
}

/// Annotations as rendered for the query text.
fn rendered(q: &str, range: bool, s: &MemStorage) -> Vec<String> {
    let e = sightline_promql::parse(q).expect("parses");
    let opts = QueryOptions::default();
    let (_, annos) = if range {
        crate::eval_range_with_annotations(&e, 0, 2 * M, M, &opts, s).expect("evaluates")
    } else {
        crate::eval_instant_with_annotations(&e, 2 * M, &opts, s).expect("evaluates")
    };
    annos.iter().map(|a| a.render(q)).collect()
}

#[test]
fn annotations_carry_prometheus_wording_and_position() {
    let s = store(&[
        (
            &[("__name__", "gauge")],
            &[(0, 1.0), (M, 2.0), (2 * M, 3.0)],
        ),
        (
            &[("__name__", "c_total")],
            &[(0, 1.0), (M, 2.0), (2 * M, 3.0)],
        ),
    ]);
    assert_eq!(
        rendered("rate(gauge[5m])", false, &s),
        [
            "PromQL info: metric might not be a counter, name does not end in \
          _total/_sum/_count/_bucket: \"gauge\" (1:6)"
        ]
    );
    assert!(rendered("rate(c_total[5m])", false, &s).is_empty());
    assert_eq!(
        rendered("sum(sort(gauge))", true, &s),
        [
            "PromQL warning: sort is ineffective for range queries since results are \
          always ordered by labels (1:5)"
        ]
    );
    assert!(rendered("sort(gauge)", false, &s).is_empty());
    assert_eq!(
        rendered("quantile(1.5, gauge)", false, &s),
        ["PromQL warning: quantile value should be between 0 and 1, got 1.5 (1:10)"]
    );
    assert_eq!(
        rendered("histogram_quantile(0.5, gauge)", false, &s),
        [
            "PromQL warning: bucket label \"le\" is missing or has a malformed value of \"\" \
          for metric name \"gauge\" (1:25)"
        ]
    );
}
