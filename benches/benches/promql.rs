//! Criterion benchmarks for PromQL parsing and evaluation over in-memory
//! data (no storage, no HTTP): `cargo bench -p sightline-benches --bench promql`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use sightline_core::{Labels, Sample};
use sightline_eval::{MemStorage, QueryOptions, eval_instant, eval_range};

const QUERIES: &[&str] = &[
    "up",
    r#"http_requests_total{job="api", code=~"5..", method!="GET"}"#,
    "sum by (job) (rate(http_requests_total[5m]))",
    "histogram_quantile(0.99, sum by (le) (rate(request_duration_seconds_bucket[5m])))",
    "topk(10, sum without (instance) (rate(http_requests_total[1m] offset 5m)))",
    "max_over_time(deriv(rate(http_requests_total[5m])[30m:1m])[1h:5m]) > bool 0.5",
    r#"label_replace(up, "host", "$1", "instance", "(.*):\\d+") * on (job) group_left (team) team_info"#,
];

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    for (i, q) in QUERIES.iter().enumerate() {
        g.bench_function(format!("q{i}"), |b| {
            b.iter(|| sightline_promql::parse(black_box(q)))
        });
    }
    g.finish();
}

/// 1,000 counter series (10 jobs x 100 instances) and a classic histogram
/// per job, one hour at 15 s.
fn storage() -> MemStorage {
    let mut m = MemStorage::new();
    let points = 240i64;
    for job in 0..10 {
        for inst in 0..100 {
            let labels = Labels::from_pairs([
                ("__name__", "http_requests_total".to_string()),
                ("job", format!("job{job}")),
                ("instance", format!("host{inst}:9100")),
            ])
            .expect("valid labels");
            m.add(
                labels,
                (0..points).map(|i| Sample {
                    t: i * 15_000,
                    v: (i * (inst + 1)) as f64,
                }),
            );
        }
        for (k, le) in ["0.1", "0.5", "1", "+Inf"].iter().enumerate() {
            let labels = Labels::from_pairs([
                ("__name__", "request_duration_seconds_bucket".to_string()),
                ("job", format!("job{job}")),
                ("le", le.to_string()),
            ])
            .expect("valid labels");
            m.add(
                labels,
                (0..points).map(|i| Sample {
                    t: i * 15_000,
                    v: (i * (k as i64 + 1) * 10) as f64,
                }),
            );
        }
    }
    m
}

fn eval(c: &mut Criterion) {
    let st = storage();
    let opts = QueryOptions::default();
    let mut g = c.benchmark_group("eval");
    let end = 3_600_000 - 7_000;
    for (name, q) in [
        ("selector", "http_requests_total"),
        ("rate", "rate(http_requests_total[5m])"),
        (
            "sum_by_rate",
            "sum by (job) (rate(http_requests_total[5m]))",
        ),
        (
            "histogram_quantile",
            "histogram_quantile(0.9, sum by (job, le) (rate(request_duration_seconds_bucket[5m])))",
        ),
        ("topk", "topk(5, rate(http_requests_total[5m]))"),
        (
            "subquery",
            "max_over_time(rate(http_requests_total[5m])[30m:1m])",
        ),
    ] {
        let expr = sightline_promql::parse(q).expect("valid query");
        g.bench_function(format!("instant/{name}"), |b| {
            b.iter(|| eval_instant(black_box(&expr), end, &opts, &st).expect("evaluates"))
        });
        g.bench_function(format!("range_1h_step60s/{name}"), |b| {
            b.iter(|| {
                eval_range(black_box(&expr), 600_000, end, 60_000, &opts, &st).expect("evaluates")
            })
        });
    }
    g.finish();
}

criterion_group!(benches, parse, eval);
criterion_main!(benches);
