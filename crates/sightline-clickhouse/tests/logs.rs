//! Logs on the ClickHouse tier, on ClickHouse's engine: inserts under
//! deduplication tokens, and reads with stream matchers, literal line
//! filters, limits per stream and tenants kept apart, every value bound.

use sightline_clickhouse::ClickHouse;
use sightline_clickhouse::testing::TestClickHouse;
use sightline_core::{Direction, Labels, LogEntry, MatchOp, Matcher, Signal, TenantId};
use sightline_logql::ast::{Expr, Stage};
use sightline_plan::{LogSelection, ReadScope, Selection, StorageTier};

/// 2026-11-20T00:00:00Z in nanoseconds.
const T0: i64 = 1_795_132_800_000_000_000;
const S: i64 = 1_000_000_000;

fn l(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied()).expect("valid labels")
}

fn e(ts: i64, line: &str, md: &[(&str, &str)]) -> LogEntry {
    LogEntry {
        ts_ns: ts,
        line: line.into(),
        metadata: l(md),
    }
}

/// The selection of a LogQL log query's selector and leading filters.
fn sel(t: &TenantId, q: &str, start: i64, end: i64) -> LogSelection {
    let Ok(Expr::Log(log)) = sightline_logql::parse(q) else {
        panic!("{q} is a log query");
    };
    let filters = log
        .stages
        .iter()
        .filter_map(|s| match s {
            Stage::LineFilter(f) => Some(f.clone()),
            _ => None,
        })
        .collect();
    ReadScope::tenant(t.clone())
        .select_logs(log.matchers, start, end)
        .expect("selection")
        .with_line_filters(filters)
}

fn lines(streams: &[sightline_core::LogStream]) -> Vec<String> {
    let mut v: Vec<(i64, String)> = streams
        .iter()
        .flat_map(|s| s.entries.iter().map(|e| (e.ts_ns, e.line.clone())))
        .collect();
    v.sort();
    v.into_iter().map(|(_, l)| l).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_round_trip_with_pushdown_and_tenants_apart() {
    let ch = TestClickHouse::start(None);
    let c = ClickHouse::new(ch.config(30));
    c.migrate().await.expect("migrate");
    let a = TenantId::new("alpha").expect("valid");
    let b = TenantId::new("beta").expect("valid");
    let api = l(&[("app", "api"), ("env", "prod"), ("service_name", "api")]);
    let web = l(&[("app", "web'; DROP TABLE logs; --"), ("env", "dev")]);
    let xs = vec![
        e(T0, "GET /a 200", &[("trace_id", "t1")]),
        e(T0 + S, "GET /b 500", &[]),
        e(T0 + 2 * S, "POST /c 500 {x}", &[("level", "error")]),
    ];
    let ys = vec![e(T0 + S, "web line 500", &[])];
    let n = c
        .insert_logs(&a, &[(&api, &xs[..]), (&web, &ys[..])], "tok-1")
        .await
        .expect("insert");
    assert_eq!(n, 4);
    // The same batch again under the same token writes nothing twice.
    c.insert_logs(&a, &[(&api, &xs[..]), (&web, &ys[..])], "tok-1")
        .await
        .expect("insert again");
    assert_eq!(c.count_rows("logs").await.expect("count"), 4);
    c.insert_logs(&b, &[(&api, &ys[..])], "tok-2")
        .await
        .expect("insert");

    let got = StorageTier::select_logs(&c, &sel(&a, r#"{app="api"}"#, T0, T0 + 10 * S))
        .await
        .expect("select");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].labels, api);
    assert_eq!(got[0].entries, xs);
    // Literal filters, with `or`, run in ClickHouse; the window is [start, end).
    let got = StorageTier::select_logs(
        &c,
        &sel(
            &a,
            r#"{env=~"prod|dev"} |= "500" != "POST""#,
            T0,
            T0 + 10 * S,
        ),
    )
    .await
    .expect("select");
    assert_eq!(lines(&got), vec!["GET /b 500", "web line 500"]);
    let got = StorageTier::select_logs(
        &c,
        &sel(&a, r#"{app="api"} |= "GET" or "POST""#, T0 + S, T0 + 2 * S),
    )
    .await
    .expect("select");
    assert_eq!(lines(&got), vec!["GET /b 500"]);
    // Hostile values are only parameters.
    let got = StorageTier::select_logs(
        &c,
        &sel(
            &a,
            r#"{app="web'; DROP TABLE logs; --"} |= "'\\{}""#,
            T0,
            T0 + 10 * S,
        ),
    )
    .await
    .expect("select");
    assert!(got.is_empty());
    let got = StorageTier::select_logs(
        &c,
        &sel(&a, r#"{app="web'; DROP TABLE logs; --"}"#, T0, T0 + 10 * S),
    )
    .await
    .expect("select");
    assert_eq!(lines(&got), vec!["web line 500"]);
    // A limit per stream, newest first, answered ascending.
    let s = sel(&a, r#"{app="api"}"#, T0, T0 + 10 * S)
        .with_limit(Some(2))
        .with_direction(Direction::Backward);
    let got = StorageTier::select_logs(&c, &s).await.expect("select");
    assert_eq!(got[0].entries, xs[1..].to_vec());
    let s = sel(&a, r#"{app="api"}"#, T0, T0 + 10 * S)
        .with_limit(Some(1))
        .with_direction(Direction::Forward);
    let got = StorageTier::select_logs(&c, &s).await.expect("select");
    assert_eq!(got[0].entries, xs[..1].to_vec());
    // Tenants apart.
    let got = StorageTier::select_logs(&c, &sel(&b, r#"{app="api"}"#, T0, T0 + 10 * S))
        .await
        .expect("select");
    assert_eq!(lines(&got), vec!["web line 500"]);
    // Streams and their label values.
    let all = Selection::for_signal(
        a.clone(),
        Signal::Logs,
        vec![],
        T0 / 1_000_000,
        (T0 + 10 * S) / 1_000_000,
    )
    .expect("selection");
    let mut streams = StorageTier::series(&c, &all).await.expect("series");
    streams.sort();
    assert_eq!(streams, vec![api.clone(), web.clone()]);
    assert_eq!(
        StorageTier::label_values(&c, &all, "env")
            .await
            .expect("values"),
        vec!["dev".to_string(), "prod".to_string()]
    );
    let only = Selection::for_signal(
        a,
        Signal::Logs,
        vec![Matcher::new("env", MatchOp::NotEqual, "dev").expect("valid")],
        T0 / 1_000_000,
        (T0 + 10 * S) / 1_000_000,
    )
    .expect("selection");
    assert_eq!(
        StorageTier::series(&c, &only).await.expect("series"),
        vec![api]
    );
}
