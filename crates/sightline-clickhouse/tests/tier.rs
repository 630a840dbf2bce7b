//! The ClickHouse tier on ClickHouse's engine: the test server started on a
//! free loopback port (or `SIGHTLINE_TEST_CLICKHOUSE_URL`).

use sightline_clickhouse::testing::TestClickHouse;
use sightline_clickhouse::{ChError, ClickHouse, SeriesBatch};
use sightline_core::{Labels, MatchOp, Matcher, Sample, TenantId, stale_nan};
use sightline_plan::Selection;

const HOUR: i64 = 3_600_000;
/// 2026-11-20T00:00:00Z.
const T0: i64 = 1_795_132_800_000;

fn tenant(s: &str) -> TenantId {
    TenantId::new(s).expect("valid tenant")
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied()).expect("valid labels")
}

fn m(name: &str, op: MatchOp, v: &str) -> Matcher {
    Matcher::new(name, op, v).expect("valid matcher")
}

fn sel(t: &TenantId, ms: Vec<Matcher>, start: i64, end: i64) -> Selection {
    Selection::new(t.clone(), ms, start, end).expect("valid selection")
}

async fn open(ch: &TestClickHouse) -> ClickHouse {
    let c = ClickHouse::new(ch.config(30));
    c.migrate().await.expect("migrate");
    c
}

async fn count(c: &ClickHouse, table: &str) -> u64 {
    c.count_rows(table).await.expect("count")
}

/// Samples every 15 s across two days, with a stale marker in the middle.
fn samples(n: usize, start: i64) -> Vec<Sample> {
    (0..n)
        .map(|i| {
            let t = start + i as i64 * 15_000;
            let v = if i == n / 2 {
                stale_nan()
            } else {
                i as f64 * 0.5
            };
            Sample { t, v }
        })
        .collect()
}

fn same_samples(a: &[Sample], b: &[Sample]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.t == y.t && x.v.to_bits() == y.v.to_bits())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_apply_once_and_are_idempotent() {
    let ch = TestClickHouse::start(None);
    let c = ClickHouse::new(ch.config(30));
    assert_eq!(
        c.migrate().await.expect("first"),
        sightline_clickhouse::MIGRATIONS.len()
    );
    assert_eq!(c.migrate().await.expect("second"), 0);
    for table in ["metric_series", "metric_samples", "logs", "spans"] {
        assert_eq!(count(&c, table).await, 0, "{table} exists and is empty");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_round_trip_across_days_with_stale_markers() {
    let ch = TestClickHouse::start(None);
    let c = open(&ch).await;
    let t = tenant("acme");
    let a = labels(&[("__name__", "up"), ("job", "api"), ("instance", "a:1")]);
    let b = labels(&[("__name__", "up"), ("job", "db"), ("instance", "b:1")]);
    // 20 h starting 4 h before midnight: two days.
    let sa = samples(4_800, T0 - 4 * HOUR);
    let sb = samples(100, T0);
    let n = c
        .insert_metrics(
            &t,
            &[
                SeriesBatch {
                    labels: &a,
                    samples: &sa,
                },
                SeriesBatch {
                    labels: &b,
                    samples: &sb,
                },
            ],
            "batch-1",
        )
        .await
        .expect("insert");
    assert_eq!(n, 4_900);
    let got = c
        .select(&sel(
            &t,
            vec![m("__name__", MatchOp::Equal, "up")],
            T0 - 5 * HOUR,
            T0 + 20 * HOUR,
        ))
        .await
        .expect("select");
    assert_eq!(got.len(), 2);
    for (l, s) in &got {
        let want = if *l == a { &sa } else { &sb };
        assert!(same_samples(s, want), "{l}: {} samples", s.len());
    }
    // A window inside one day, and matchers of every kind.
    let got = c
        .select(&sel(
            &t,
            vec![
                m("job", MatchOp::Regex, "a.i|x"),
                m("instance", MatchOp::NotEqual, "b:1"),
                m("zone", MatchOp::Equal, ""),
                m("job", MatchOp::NotRegex, "d.*"),
            ],
            T0 + HOUR,
            T0 + 2 * HOUR,
        ))
        .await
        .expect("select");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, a);
    let want: Vec<Sample> = sa
        .iter()
        .filter(|s| s.t >= T0 + HOUR && s.t <= T0 + 2 * HOUR)
        .copied()
        .collect();
    assert!(same_samples(&got[0].1, &want));
    let series = c
        .series(&sel(
            &t,
            vec![m("instance", MatchOp::Regex, ".+")],
            T0,
            T0 + HOUR,
        ))
        .await
        .expect("series");
    assert_eq!(series, {
        let mut v = vec![a.clone(), b.clone()];
        v.sort();
        v
    });
    // The first hours of 1970 (where day and second numbers look alike),
    // with a retention that keeps them.
    let c = ClickHouse::new(ch.config(u16::MAX));
    c.migrate().await.expect("migrate");
    let early = labels(&[("__name__", "early")]);
    let se: Vec<Sample> = (0..200)
        .map(|i| Sample {
            t: i * 300_000,
            v: i as f64,
        })
        .collect();
    c.insert_metrics(
        &t,
        &[SeriesBatch {
            labels: &early,
            samples: &se,
        }],
        "batch-early",
    )
    .await
    .expect("insert");
    let got = c
        .select(&sel(
            &t,
            vec![m("__name__", MatchOp::Equal, "early")],
            0,
            60 * HOUR,
        ))
        .await
        .expect("select");
    assert_eq!(got.len(), 1);
    assert!(
        same_samples(&got[0].1, &se),
        "{} of 200 early samples",
        got[0].1.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_batch_is_written_once() {
    let ch = TestClickHouse::start(None);
    let c = open(&ch).await;
    let t = tenant("acme");
    let a = labels(&[("__name__", "up"), ("job", "api")]);
    let sa = samples(1_000, T0);
    let batch = [SeriesBatch {
        labels: &a,
        samples: &sa,
    }];
    for _ in 0..3 {
        c.insert_metrics(&t, &batch, "wal0000000000000007-acme-0")
            .await
            .expect("insert");
    }
    assert_eq!(count(&c, "metric_samples").await, 1_000);
    assert_eq!(count(&c, "metric_series").await, 1);
    // A fresh client (a restarted process) retrying under the same token.
    let c2 = ClickHouse::new(sightline_clickhouse::ClickHouseConfig {
        database: c.config().database.clone(),
        ..ch.config(30)
    });
    c2.insert_metrics(&t, &batch, "wal0000000000000007-acme-0")
        .await
        .expect("insert");
    assert_eq!(count(&c, "metric_samples").await, 1_000);
    assert_eq!(count(&c, "metric_series").await, 1);
    // A different batch is written.
    let sb = samples(10, T0 + sightline_core::time::DAY_MS);
    c.insert_metrics(
        &t,
        &[SeriesBatch {
            labels: &a,
            samples: &sb,
        }],
        "wal0000000000000008-acme-0",
    )
    .await
    .expect("insert");
    assert_eq!(count(&c, "metric_samples").await, 1_010);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_never_see_each_other() {
    let ch = TestClickHouse::start(None);
    let c = open(&ch).await;
    let (ta, tb) = (tenant("alpha"), tenant("beta"));
    let l = labels(&[("__name__", "up"), ("job", "api")]);
    let only_b = labels(&[("__name__", "secret"), ("job", "api")]);
    let sa = samples(10, T0);
    let sb: Vec<Sample> = samples(10, T0)
        .into_iter()
        .map(|s| Sample { t: s.t, v: 1e6 })
        .collect();
    c.insert_metrics(
        &ta,
        &[SeriesBatch {
            labels: &l,
            samples: &sa,
        }],
        "a",
    )
    .await
    .expect("insert a");
    c.insert_metrics(
        &tb,
        &[
            SeriesBatch {
                labels: &l,
                samples: &sb,
            },
            SeriesBatch {
                labels: &only_b,
                samples: &sb,
            },
        ],
        "b",
    )
    .await
    .expect("insert b");
    let everything = vec![m("__name__", MatchOp::Regex, ".*")];
    let got = c
        .select(&sel(&ta, everything.clone(), T0, T0 + HOUR))
        .await
        .expect("select");
    assert_eq!(got.len(), 1);
    assert!(same_samples(&got[0].1, &sa));
    let names = c
        .series(&sel(&ta, everything, 0, T0 + HOUR))
        .await
        .expect("series");
    assert_eq!(names, vec![l.clone()]);
    let all_a = sel(&ta, vec![m("__name__", MatchOp::Regex, ".*")], 0, T0 + HOUR);
    assert_eq!(
        c.label_names(&all_a).await.expect("names"),
        vec!["__name__", "job"]
    );
    assert_eq!(
        c.label_values(&all_a, "__name__").await.expect("values"),
        vec!["up"]
    );
    let all_b = sel(&tb, vec![m("__name__", MatchOp::Regex, ".*")], 0, T0 + HOUR);
    assert_eq!(
        c.label_values(&all_b, "__name__").await.expect("values"),
        vec!["secret", "up"]
    );
    assert!(
        c.label_values(&all_a, "j'ob")
            .await
            .expect("values")
            .is_empty()
    );
    let none = c
        .select(&sel(
            &ta,
            vec![m("__name__", MatchOp::Equal, "secret")],
            T0,
            T0 + HOUR,
        ))
        .await
        .expect("select");
    assert!(none.is_empty());
}

/// Hostile matcher names, values and regular expressions: each read ends
/// in the caller's own rows (none here match) or in a refusal of the
/// input, never in a ClickHouse parse error or a foreign row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_matchers_are_bound_not_spliced() {
    let ch = TestClickHouse::start(None);
    let c = open(&ch).await;
    let (ta, tb) = (tenant("alpha"), tenant("beta"));
    let hostile_value = "x'); DROP TABLE metric_samples; --";
    let l = labels(&[("__name__", "up"), ("job", hostile_value)]);
    let s = samples(10, T0);
    c.insert_metrics(
        &tb,
        &[SeriesBatch {
            labels: &l,
            samples: &s,
        }],
        "b",
    )
    .await
    .expect("insert");
    let own = labels(&[("__name__", "up"), ("job", "a'b\\c\0d")]);
    c.insert_metrics(
        &ta,
        &[SeriesBatch {
            labels: &own,
            samples: &s,
        }],
        "a",
    )
    .await
    .expect("insert");
    let values = [
        "'",
        "\"",
        "\\",
        "\\'",
        "--",
        "/*",
        "*/",
        "'); DROP TABLE metric_samples; --",
        "x' OR '1'='1",
        "\0",
        "a\0b",
        "{tenant:String}",
        "}{",
        "`",
        "\n\t\r",
        "ü☃",
    ];
    let names = [
        "job",
        "j'ob",
        "a\\b",
        "x') OR 1=1 --",
        "labels['x']",
        "{k0:String}",
        "tenant",
        "__name__",
    ];
    let regexes = [
        ".*",
        "a|b",
        "x'); DROP TABLE metric_samples; --.*",
        "\\'",
        "(?i)UP",
        "[\\x00-\\x7f]*",
        ".*\\\\.*",
        "a{1000}{1000}",
        "(",
        "[",
        "\\",
    ];
    let mut checked = 0;
    for name in names {
        for v in values {
            for op in [MatchOp::Equal, MatchOp::NotEqual] {
                checked += run_hostile(&c, &ta, &own, Matcher::new(name, op, v)).await;
            }
        }
        for re in regexes {
            for op in [MatchOp::Regex, MatchOp::NotRegex] {
                checked += run_hostile(&c, &ta, &own, Matcher::new(name, op, re)).await;
            }
        }
        // A huge regular expression: refused before it is bound.
        let huge = "a".repeat(1 << 20) + "|(b+)+";
        checked += run_hostile(&c, &ta, &own, Matcher::new(name, MatchOp::Regex, huge)).await;
    }
    assert!(checked > 300, "{checked} cases run");
    // The hostile-named tables still exist and the foreign tenant's rows too.
    assert_eq!(count(&c, "metric_samples").await, 20);
}

async fn run_hostile(
    c: &ClickHouse,
    t: &TenantId,
    own: &Labels,
    matcher: Result<Matcher, sightline_core::CoreError>,
) -> usize {
    let Ok(matcher) = matcher else {
        return 1; // refused as invalid input (400) before reaching storage
    };
    let what = format!(
        "{:?} {:?} {:?}",
        matcher.name,
        matcher.op,
        matcher.value.chars().take(60).collect::<String>()
    );
    let Ok(sel) = Selection::new(t.clone(), vec![matcher.clone()], T0, T0 + HOUR) else {
        return 1; // refused by the planner's allow-list (400)
    };
    for r in [
        c.select(&sel)
            .await
            .map(|v| v.into_iter().map(|(l, _)| l).collect::<Vec<_>>()),
        c.series(&sel).await,
    ] {
        match r {
            Ok(rows) => {
                for l in &rows {
                    assert_eq!(l, own, "{what}: only the caller's series can come back");
                }
                let expect = matcher.matches_labels(own);
                assert_eq!(
                    !rows.is_empty(),
                    expect,
                    "{what}: same answer as the evaluator"
                );
            }
            Err(ChError::BadQuery(msg)) => {
                assert!(!msg.contains("Syntax error"), "{what}: {msg}");
            }
            Err(e) => panic!("{what}: {e}"),
        }
    }
    1
}
