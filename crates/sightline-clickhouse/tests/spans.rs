//! Spans on the ClickHouse tier, on ClickHouse's engine: inserts under
//! deduplication tokens, every field read back as written (the OTLP bytes
//! included), by trace and by window, tenants and scopes kept apart.

use sightline_clickhouse::ClickHouse;
use sightline_clickhouse::testing::TestClickHouse;
use sightline_core::span::StoredSpan;
use sightline_core::{Labels, TenantId};
use sightline_plan::{ReadScope, StorageTier};

/// 2026-11-20T00:00:00Z in nanoseconds.
const T0: i64 = 1_795_132_800_000_000_000;
const DAY: i64 = 86_400_000_000_000;

fn l(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied()).expect("valid labels")
}

fn span(trace: u8, id: u8, start: i64, end: i64, app: &str) -> StoredSpan {
    StoredSpan {
        trace_id: [trace; 16],
        span_id: [id; 8],
        parent_span_id: (id > 1).then_some([1; 8]),
        name: format!("GET /cart/{id}'; DROP TABLE spans; --"),
        kind: i32::from(id % 6),
        start_ns: start,
        end_ns: end,
        status_code: i32::from(id % 3),
        service_name: "checkout".into(),
        attributes: l(&[("http.route", "/cart"), ("http.status_code", "200")]),
        resource: l(&[("application", app), ("service.name", "checkout")]).into(),
        // Bytes that are not UTF-8 survive the String column.
        otlp: vec![id, 0xff, 0x00, 0xfe, 0x80],
    }
}

fn ids(spans: &[StoredSpan]) -> Vec<u8> {
    let mut v: Vec<u8> = spans.iter().map(|s| s.span_id[0]).collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn spans_round_trip_by_trace_and_window_with_tenants_apart() {
    let ch = TestClickHouse::start(None);
    let c = ClickHouse::new(ch.config(30));
    c.migrate().await.expect("migrate");
    let a = TenantId::new("alpha").expect("valid");
    let b = TenantId::new("beta").expect("valid");
    // Span 2 starts the day before the window and runs into it.
    let xs = vec![
        span(1, 1, T0, T0 + 1_000, "shop"),
        span(1, 2, T0 - DAY / 2, T0 + 10, "shop"),
        span(2, 3, T0 + 5_000, T0 + 6_000, "billing"),
        span(3, 4, T0 - 3 * DAY, T0 - 3 * DAY + 1, "shop"),
    ];
    assert_eq!(c.insert_spans(&a, &xs, "tok-1").await.expect("insert"), 4);
    // The same batch again under the same token writes nothing twice.
    c.insert_spans(&a, &xs, "tok-1")
        .await
        .expect("insert again");
    assert_eq!(c.count_rows("spans").await.expect("count"), 4);
    c.insert_spans(&b, &[span(1, 9, T0, T0 + 1, "shop")], "tok-2")
        .await
        .expect("insert b");

    let scope = ReadScope::tenant(a.clone());
    // A trace by id: both its spans, the one begun the day before too, and
    // not b's span of the same trace id; every field as written.
    let sel = scope
        .select_spans(Some([1; 16]), T0, T0 + DAY)
        .expect("selection");
    let got = StorageTier::select_spans(&c, &sel).await.expect("select");
    assert_eq!(ids(&got), [1, 2]);
    for s in &got {
        let want = xs.iter().find(|x| x.span_id == s.span_id).expect("written");
        assert_eq!(s, want);
    }
    // A window: what overlaps it, of every trace.
    let sel = scope
        .select_spans(None, T0 + 500, T0 + 5_500)
        .expect("selection");
    assert_eq!(
        ids(&StorageTier::select_spans(&c, &sel).await.expect("select")),
        [1, 3]
    );
    // Ended before the window: not read.
    let sel = scope
        .select_spans(None, T0 + 2_000, T0 + 3_000)
        .expect("selection");
    assert!(
        StorageTier::select_spans(&c, &sel)
            .await
            .expect("select")
            .is_empty()
    );
    // A scoped reader reads its application's spans only.
    let shop =
        ReadScope::with_labels(a.clone(), &[("application".into(), "shop".into())]).expect("scope");
    let sel = shop
        .select_spans(None, T0 - 4 * DAY, T0 + DAY)
        .expect("selection");
    assert_eq!(
        ids(&StorageTier::select_spans(&c, &sel).await.expect("select")),
        [1, 2, 4]
    );
    // b reads only its own.
    let sel = ReadScope::tenant(b.clone())
        .select_spans(None, T0 - 4 * DAY, T0 + DAY)
        .expect("selection");
    assert_eq!(
        ids(&StorageTier::select_spans(&c, &sel).await.expect("select")),
        [9]
    );
}
