//! `__name__` removal: immediate by default (as Prometheus answers out of
//! the box), delayed to the end of the query when asked for (as
//! Prometheus's `promql-delayed-name-removal` and its test scripts).

use sightline_core::{Labels, Sample};
use sightline_eval::{MemStorage, QueryOptions, Value, eval_instant};

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
