//! Chains of binary operators are evaluated without recursion along the
//! chain: a chain of 10,000 operands at any precedence level evaluates, in
//! both name-removal modes, on a 2 MiB thread stack in an unoptimised
//! build, and its prefetch windows are listed the same way.

use sightline_core::{Labels, Sample};
use sightline_eval::{MemStorage, QueryOptions, Value, eval_instant, eval_range, selections};

const N: usize = 10_000;

fn storage() -> MemStorage {
    let mut m = MemStorage::new();
    for (name, job, v) in [
        ("x", "a", 1.0),
        ("two", "a", 2.0),
        ("zero", "a", 0.0),
        ("y", "b", 1.0),
    ] {
        let l = Labels::from_pairs([("__name__", name), ("job", job)]).expect("labels");
        m.add(l, (0..10).map(|i| Sample { t: i * 60_000, v }));
    }
    m
}

/// `n` operands, taken from `operands` in turn, joined by `op`.
fn chain(operands: &[&str], op: &str, n: usize) -> String {
    (0..n)
        .map(|i| operands[i % operands.len()])
        .collect::<Vec<_>>()
        .join(&format!(" {op} "))
}

fn options(delayed: bool) -> QueryOptions {
    QueryOptions {
        delayed_name_removal: delayed,
        ..QueryOptions::default()
    }
}

/// Labels and value of every element of an instant query at 5m (a scalar
/// with empty labels), sorted by labels.
fn instant(q: &str, delayed: bool) -> Vec<(String, f64)> {
    let expr = sightline_promql::parse(q).expect("parses");
    match eval_instant(&expr, 300_000, &options(delayed), &storage()).expect("evaluates") {
        Value::Vector(v) => {
            let mut out: Vec<_> = v.iter().map(|s| (s.labels.to_string(), s.v)).collect();
            out.sort_by(|a, b| a.0.cmp(&b.0));
            out
        }
        Value::Scalar { v, .. } => vec![(String::new(), v)],
        other => panic!("unexpected {other:?}"),
    }
}

fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("thread starts")
        .join()
        .expect("no overflow");
}

#[test]
fn chains_of_10_000_operands_evaluate_on_a_small_stack() {
    on_small_stack(|| {
        let x = r#"{job="a"}"#;
        let named_x = r#"{__name__="x", job="a"}"#;
        let named_y = r#"{__name__="y", job="b"}"#;
        let n = N as f64;
        let cases: Vec<(String, Vec<(&str, f64)>)> = vec![
            (chain(&["x"], "+", N), vec![(x, n)]),
            // 1 - 5,000 * 2 - 4,999 * 1.
            (chain(&["x", "two"], "-", N), vec![(x, -14_998.0)]),
            (chain(&["x"], "*", N), vec![(x, 1.0)]),
            // Right-associative: 2 ^ (1 ^ (... ^ (1 ^ 0))) = 2.
            (
                format!("two ^ {} ^ zero", chain(&["x"], "^", N - 2)),
                vec![(x, 2.0)],
            ),
            (
                format!("2 ^ {} ^ 0", chain(&["1"], "^", N - 2)),
                vec![("", 2.0)],
            ),
            (chain(&["x"], "==", N), vec![(named_x, 1.0)]),
            (chain(&["x"], "== bool", N), vec![(x, 1.0)]),
            (chain(&["1"], "+", N), vec![("", n)]),
            (
                chain(&["x", "y"], "or", N),
                vec![(named_x, 1.0), (named_y, 1.0)],
            ),
            (chain(&["x"], "and", N), vec![(named_x, 1.0)]),
            (
                format!("x unless {}", chain(&["y"], "unless", N - 1)),
                vec![(named_x, 1.0)],
            ),
        ];
        for delayed in [false, true] {
            for (q, want) in &cases {
                let want: Vec<(String, f64)> =
                    want.iter().map(|(l, v)| (l.to_string(), *v)).collect();
                assert_eq!(
                    instant(q, delayed),
                    want,
                    "{}…, delayed {delayed}",
                    &q[..40]
                );
            }
            // A range query, and the windows prefetch lists: one per
            // selector.
            let expr = sightline_promql::parse(&chain(&["x"], "+", N)).expect("parses");
            let opts = options(delayed);
            match eval_range(&expr, 0, 120_000, 60_000, &opts, &storage()).expect("evaluates") {
                Value::Matrix(m) => {
                    assert_eq!(m.len(), 1);
                    assert_eq!(m[0].labels.to_string(), x);
                    assert_eq!(m[0].samples.len(), 3);
                    assert!(m[0].samples.iter().all(|s| s.v == n));
                }
                other => panic!("not a matrix: {other:?}"),
            }
            assert_eq!(selections(&expr, 0, 120_000, 60_000, &opts).len(), N);
        }
    });
}
