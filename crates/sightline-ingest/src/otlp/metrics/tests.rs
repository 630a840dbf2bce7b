use super::super::proto::common::v1::{AnyValue, KeyValue, any_value};
use super::super::proto::metrics::v1::{
    Gauge, Histogram, Metric, ResourceMetrics, ScopeMetrics, Sum, Summary,
    summary_data_point::ValueAtQuantile,
};
use super::super::proto::resource::v1::Resource;
use super::*;

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

const T: u64 = 1_700_000_000_000_000_000;

fn request(resource: Vec<KeyValue>, metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: resource,
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn metric(name: &str, unit: &str, data: metric::Data) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        description: format!("about {name}"),
        data: Some(data),
        ..Default::default()
    }
}

fn point(attrs: Vec<KeyValue>, v: f64) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs,
        time_unix_nano: T,
        value: Some(number_data_point::Value::AsDouble(v)),
        ..Default::default()
    }
}

fn run(req: ExportMetricsServiceRequest) -> (Vec<(String, Vec<(i64, f64)>)>, Refused, WriteBatch) {
    let tenant = TenantId::new("t").expect("tenant");
    let now_ms = (T / 1_000_000) as i64 + 1_000;
    let (b, r) = translate(
        &tenant,
        req,
        &MetricSettings::default(),
        &DecodeLimits::default(),
        now_ms,
    )
    .expect("translates");
    let mut series: Vec<(String, Vec<(i64, f64)>)> = b
        .series
        .iter()
        .map(|s| {
            (
                s.labels.to_string(),
                s.samples.iter().map(|x| (x.t, x.v)).collect(),
            )
        })
        .collect();
    series.sort_by(|a, b| a.0.cmp(&b.0));
    (series, r, b)
}

#[test]
fn names_follow_prometheus_translation() {
    use NameKind::*;
    for (name, unit, kind, want) in [
        ("response_time", "ms", Other, "response_time_milliseconds"),
        ("memory_usage", "By", Gauge, "memory_usage_bytes"),
        ("requests", "1/s", Gauge, "requests_per_second"),
        ("throughput", "By/s", Other, "throughput_bytes_per_second"),
        ("custom_metric", "{custom}", Other, "custom_metric"),
        ("custom_metric", "By/{custom}", Other, "custom_metric_bytes"),
        ("requests", "", Counter, "requests_total"),
        ("items", "1", Counter, "items_total"),
        ("cpu_usage", "1", Gauge, "cpu_usage_ratio"),
        ("123metric", "", Other, "_123metric"),
        ("metric@@##$$name", "", Other, "metric_name"),
        (
            "http.server.duration",
            "s",
            Other,
            "http_server_duration_seconds",
        ),
        ("http.requests.total", "", Counter, "http_requests_total"),
        ("disk.io", "By", Counter, "disk_io_bytes_total"),
        ("latency_seconds", "s", Other, "latency_seconds"),
    ] {
        assert_eq!(
            metric_name(name, unit, kind, true).as_deref(),
            Some(want),
            "{name} {unit}"
        );
    }
    assert_eq!(metric_name("@@", "", Other, true), None);
    assert_eq!(
        metric_name("http.server.duration", "s", Other, false).as_deref(),
        Some("http_server_duration")
    );
    assert_eq!(
        metric_name("a__b", "", Counter, false).as_deref(),
        Some("a__b")
    );
    assert_eq!(unit_name("By/s"), "bytes_per_second");
    assert_eq!(unit_name("1"), "");
}

#[test]
fn counters_gauges_and_job_instance() {
    let (series, refused, b) = run(request(
        vec![
            kv("service.name", "checkout"),
            kv("service.namespace", "shop"),
            kv("service.instance.id", "i-1"),
            kv("host.name", "h1"),
        ],
        vec![
            metric(
                "http.requests",
                "{request}",
                metric::Data::Sum(Sum {
                    data_points: vec![point(
                        vec![kv("http.method", "GET"), kv("job", "mine")],
                        7.0,
                    )],
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                    is_monotonic: true,
                }),
            ),
            metric(
                "queue.depth",
                "",
                metric::Data::Sum(Sum {
                    data_points: vec![point(vec![], -3.0)],
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                    is_monotonic: false,
                }),
            ),
            metric(
                "cpu.usage",
                "1",
                metric::Data::Gauge(Gauge {
                    data_points: vec![point(vec![kv("cpu", "0")], 0.5)],
                }),
            ),
        ],
    ));
    assert_eq!(refused, Refused::default());
    let ms = (T / 1_000_000) as i64;
    let names: Vec<&str> = series.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(
        names,
        [
            r#"{__name__="cpu_usage_ratio", cpu="0", instance="i-1", job="shop/checkout"}"#,
            r#"{__name__="http_requests_total", http_method="GET", instance="i-1", job="shop/checkout"}"#,
            r#"{__name__="queue_depth", instance="i-1", job="shop/checkout"}"#,
            r#"{__name__="target_info", host_name="h1", instance="i-1", job="shop/checkout"}"#,
        ]
    );
    assert_eq!(series[1].1, [(ms, 7.0)]);
    assert_eq!(series[2].1, [(ms, -3.0)]);
    assert_eq!(series[3].1, [(ms, 1.0)]);
    let kinds: Vec<(&str, &str, &str)> = b
        .metadata
        .iter()
        .map(|m| (m.metric.as_str(), m.kind.as_str(), m.unit.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("cpu_usage_ratio", "gauge", ""),
            ("http_requests_total", "counter", ""),
            ("queue_depth", "gauge", ""),
            ("target_info", "gauge", ""),
        ]
    );
}

#[test]
fn histograms_summaries_and_staleness() {
    let hp = HistogramDataPoint {
        time_unix_nano: T,
        count: 6,
        sum: Some(12.5),
        bucket_counts: vec![1, 2, 3],
        explicit_bounds: vec![0.005, 1.0],
        ..Default::default()
    };
    let stale = HistogramDataPoint {
        time_unix_nano: T + 1_000_000_000,
        flags: NO_RECORDED_VALUE,
        ..hp.clone()
    };
    let (series, refused, _) = run(request(
        vec![kv("service.name", "api")],
        vec![
            metric(
                "http.server.duration",
                "s",
                metric::Data::Histogram(Histogram {
                    data_points: vec![hp, stale],
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                }),
            ),
            metric(
                "rpc.latency",
                "ms",
                metric::Data::Summary(Summary {
                    data_points: vec![SummaryDataPoint {
                        time_unix_nano: T,
                        count: 10,
                        sum: 55.0,
                        quantile_values: vec![
                            ValueAtQuantile {
                                quantile: 0.5,
                                value: 4.0,
                            },
                            ValueAtQuantile {
                                quantile: 0.99,
                                value: 9.0,
                            },
                        ],
                        ..Default::default()
                    }],
                }),
            ),
        ],
    ));
    assert_eq!(refused.count, 0);
    let ms = (T / 1_000_000) as i64;
    let get = |l: &str| {
        series
            .iter()
            .find(|(x, _)| x == l)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {l} in {series:?}"))
    };
    let b = |le: &str| {
        format!(r#"{{__name__="http_server_duration_seconds_bucket", job="api", le="{le}"}}"#)
    };
    assert_eq!(get(&b("0.005"))[0], (ms, 1.0));
    assert_eq!(get(&b("1"))[0], (ms, 3.0));
    assert_eq!(get(&b("+Inf"))[0], (ms, 6.0), "+Inf is the count");
    assert_eq!(
        get(r#"{__name__="http_server_duration_seconds_sum", job="api"}"#)[0],
        (ms, 12.5)
    );
    let count = get(r#"{__name__="http_server_duration_seconds_count", job="api"}"#);
    assert_eq!(count[0], (ms, 6.0));
    assert!(sightline_core::is_stale_nan(count[1].1), "{count:?}");
    assert_eq!(
        get(r#"{__name__="rpc_latency_milliseconds", job="api", quantile="0.99"}"#),
        [(ms, 9.0)]
    );
    assert_eq!(
        get(r#"{__name__="rpc_latency_milliseconds_sum", job="api"}"#),
        [(ms, 55.0)]
    );
    assert!(
        !series.iter().any(|(l, _)| l.contains("target_info")),
        "no other attributes"
    );
}

#[test]
fn refusals_are_counted_per_point_and_the_rest_is_written() {
    let delta = metric(
        "d",
        "",
        metric::Data::Sum(Sum {
            data_points: vec![point(vec![], 1.0), point(vec![], 2.0)],
            aggregation_temporality: AggregationTemporality::Delta as i32,
            is_monotonic: true,
        }),
    );
    let exp = metric(
        "e",
        "",
        metric::Data::ExponentialHistogram(
            super::super::proto::metrics::v1::ExponentialHistogram {
                data_points: vec![Default::default()],
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
            },
        ),
    );
    let untimed = metric(
        "g",
        "",
        metric::Data::Gauge(Gauge {
            data_points: vec![NumberDataPoint::default(), point(vec![], 4.0)],
        }),
    );
    let (series, refused, _) = run(request(vec![], vec![delta, exp, untimed]));
    assert_eq!(refused.count, 4);
    assert!(
        refused.message().contains("delta temporality"),
        "{}",
        refused.message()
    );
    assert!(refused.message().contains("exponential histograms"));
    assert!(refused.message().contains("without a time"));
    assert_eq!(series.len(), 1);
    assert_eq!(series[0].0, r#"{__name__="g"}"#);
}

#[test]
fn colliding_keys_join_and_no_attribute_names_the_series() {
    let ms = (T / 1_000_000) as i64;
    let mut p = point(
        vec![kv("a.b", "1"), kv("a_b", "2"), kv("__name__", "forged")],
        5.0,
    );
    p.start_time_unix_nano = T - 60_000_000_000;
    let (series, _, _) = run(request(
        vec![
            kv("service.name", "s"),
            kv("__name__", "up"),
            kv("host", "h"),
        ],
        vec![metric(
            "c",
            "",
            metric::Data::Sum(Sum {
                data_points: vec![p],
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
                is_monotonic: true,
            }),
        )],
    ));
    assert_eq!(
        series,
        [
            (
                r#"{__name__="c_total", a_b="1;2", job="s"}"#.to_string(),
                vec![(ms, 5.0)]
            ),
            (
                r#"{__name__="target_info", host="h", job="s"}"#.to_string(),
                vec![(ms, 1.0)]
            ),
        ],
        "the start time writes no sample; no attribute becomes __name__"
    );
}

#[test]
fn points_far_ahead_are_refused_and_target_info_is_bounded() {
    let tenant = TenantId::new("t").expect("tenant");
    let now_ms = (T / 1_000_000) as i64;
    let mut ahead = point(vec![], 1.0);
    ahead.time_unix_nano = T + 3_600_000_000_000;
    let many: Vec<NumberDataPoint> = (0..5_000u64)
        .map(|i| NumberDataPoint {
            time_unix_nano: T - i * 1_000_000_000,
            ..point(vec![kv("i", &i.to_string())], 1.0)
        })
        .collect();
    let req = request(
        vec![kv("service.name", "s"), kv("host", "h")],
        vec![
            metric(
                "g",
                "",
                metric::Data::Gauge(Gauge {
                    data_points: vec![ahead],
                }),
            ),
            metric("h", "", metric::Data::Gauge(Gauge { data_points: many })),
        ],
    );
    let (b, refused) = translate(
        &tenant,
        req,
        &MetricSettings::default(),
        &DecodeLimits::default(),
        now_ms,
    )
    .expect("translates");
    assert_eq!(refused.count, 1);
    assert!(
        refused.message().contains("ahead of the server's clock"),
        "{}",
        refused.message()
    );
    let info = b
        .series
        .iter()
        .find(|s| s.labels.metric_name() == Some("target_info"))
        .expect("target_info");
    assert_eq!(info.samples.len(), MAX_TARGET_INFO_SAMPLES);
}
