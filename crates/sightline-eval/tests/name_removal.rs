//! `__name__` removal: immediate by default (as Prometheus answers out of
//! the box), delayed to the end of the query when asked for (as
//! Prometheus's `promql-delayed-name-removal` and its test scripts).

use sightline_core::{Labels, Sample};
use sightline_eval::{MemStorage, QueryOptions, Value, eval_instant, eval_range};

fn storage() -> MemStorage {
    let mut m = MemStorage::new();
    let l = Labels::from_pairs([("__name__", "x_total"), ("job", "a")]).expect("labels");
    m.add(
        l,
        (0..10).map(|i| Sample {
            t: i * 15_000,
            v: i as f64,
        }),
    );
    m
}

fn labels_of(q: &str, delayed: bool) -> Vec<String> {
    let expr = sightline_promql::parse(q).expect("parses");
    let opts = QueryOptions {
        delayed_name_removal: delayed,
        ..QueryOptions::default()
    };
    match eval_instant(&expr, 140_000, &opts, &storage()).expect("evaluates") {
        Value::Vector(v) => v.iter().map(|s| s.labels.to_string()).collect(),
        other => panic!("not a vector: {other:?}"),
    }
}

#[test]
fn a_label_copied_from_the_name_after_rate_depends_on_the_mode() {
    let q = r#"label_replace(rate(x_total[1m]), "was", "$1", "__name__", "(.*)")"#;
    assert_eq!(labels_of(q, false), vec![r#"{job="a"}"#]);
    assert_eq!(labels_of(q, true), vec![r#"{job="a", was="x_total"}"#]);
}

#[test]
fn both_modes_drop_the_name_from_the_answer() {
    assert_eq!(labels_of("x_total * 2", false), vec![r#"{job="a"}"#]);
    assert_eq!(labels_of("x_total * 2", true), vec![r#"{job="a"}"#]);
    assert_eq!(
        labels_of("x_total > 1", false),
        vec![r#"{__name__="x_total", job="a"}"#]
    );
}

fn series_labels_of_range(q: &str, delayed: bool) -> Vec<String> {
    let expr = sightline_promql::parse(q).expect("parses");
    let opts = QueryOptions {
        delayed_name_removal: delayed,
        ..QueryOptions::default()
    };
    match eval_range(&expr, 60_000, 140_000, 40_000, &opts, &storage()).expect("evaluates") {
        Value::Matrix(m) => m.iter().map(|s| s.labels.to_string()).collect(),
        other => panic!("not a matrix: {other:?}"),
    }
}

/// `last_over_time` and `first_over_time` keep the name of their input, as
/// an offset would, but a subquery of a name-dropping expression has no
/// name to keep: removed already, or (delayed) marked for removal, a mark
/// the keeper must pass on. Prometheus 3 answers `{job="a"}` in both modes.
#[test]
fn a_keeper_over_a_subquery_of_a_name_dropping_expression_has_no_name() {
    let named = vec![r#"{__name__="x_total", job="a"}"#];
    let nameless = vec![r#"{job="a"}"#];
    for delayed in [false, true] {
        for keeper in ["last_over_time", "first_over_time"] {
            for inner in [
                "abs(x_total)",
                "(x_total * 2)",
                "(-x_total)",
                "sum by (job) (x_total)",
                "rate(x_total[1m])",
            ] {
                let q = format!("{keeper}({inner}[1m:15s])");
                assert_eq!(labels_of(&q, delayed), nameless, "{q}, delayed {delayed}");
                assert_eq!(
                    series_labels_of_range(&q, delayed),
                    nameless,
                    "{q} as a range query, delayed {delayed}"
                );
            }
            for inner in ["x_total", "(x_total > 1)", "last_over_time(x_total[1m])"] {
                let q = format!("{keeper}({inner}[1m:15s])");
                assert_eq!(labels_of(&q, delayed), named, "{q}, delayed {delayed}");
                assert_eq!(
                    series_labels_of_range(&q, delayed),
                    named,
                    "{q} as a range query, delayed {delayed}"
                );
            }
            // The mark survives a subquery of a subquery.
            let q = format!("{keeper}(last_over_time(abs(x_total)[1m:15s])[1m:15s])");
            assert_eq!(labels_of(&q, delayed), nameless, "{q}, delayed {delayed}");
            let q = format!("{keeper}(last_over_time(x_total[1m:15s])[1m:15s])");
            assert_eq!(labels_of(&q, delayed), named, "{q}, delayed {delayed}");
        }
        // Every other range function drops the name either way.
        for f in ["max_over_time", "sum_over_time", "rate", "changes", "deriv"] {
            for inner in ["x_total", "abs(x_total)"] {
                let q = format!("{f}({inner}[1m:15s])");
                assert_eq!(labels_of(&q, delayed), nameless, "{q}, delayed {delayed}");
            }
        }
    }
    // Only a query that reads the name part-way tells the modes apart.
    let q =
        r#"label_replace(last_over_time(abs(x_total)[1m:15s]), "was", "$1", "__name__", "(.*)")"#;
    assert_eq!(labels_of(q, false), nameless);
    assert_eq!(labels_of(q, true), vec![r#"{job="a", was="x_total"}"#]);
}
