//! Each metric node over each dialect it has, printed and compared with a
//! literal; then the invariants over every statement of every node.

use std::collections::BTreeSet;

use sightline_core::MatchOp;
use sightline_core::time::DAY_MS;
use sightline_plan::Selection;
use sightline_promql::functions::Function;

use super::*;
use crate::check::{check, m, sel};
use crate::{ClickHouseDialect as Ch, DataFusionDialect as Df, Param, Statement};

const START: i64 = 1000;
const END: i64 = 2 * DAY_MS + 5;

/// One matcher of each kind.
fn four() -> Selection {
    sel(
        vec![
            m("__name__", MatchOp::Equal, "up"),
            m("job", MatchOp::Regex, "a|b"),
            m("inst", MatchOp::NotEqual, "x"),
            m("zone", MatchOp::NotRegex, "us-.*"),
        ],
        START,
        END,
    )
}

fn two() -> Selection {
    sel(
        vec![
            m("__name__", MatchOp::Equal, "up"),
            m("job", MatchOp::Regex, "a|b"),
        ],
        START,
        END,
    )
}

fn one() -> Selection {
    sel(vec![m("__name__", MatchOp::Equal, "up")], START, END)
}

const GRID: Grid = Grid {
    start_ms: 60_000,
    end_ms: 120_000,
    step_ms: 30_000,
    range_ms: 60_000,
};

#[test]
fn series_clickhouse() {
    check(
        series(&Ch, &four()),
        r#"
        SELECT DISTINCT series_id, labels FROM metric_series WHERE tenant = {tenant:String} AND day >= toDate({d0:UInt16}) AND day <= toDate({d1:UInt16}) AND metric_name = {v0:String} AND match(labels[{k1:String}], {v1:String}) AND labels[{k2:String}] != {v2:String} AND NOT match(labels[{k3:String}], {v3:String})
        tenant = Str("acme")
        d0 = U16(0)
        d1 = U16(2)
        v0 = Str("up")
        k1 = Str("job")
        v1 = Str("^(?s:a|b)$")
        k2 = Str("inst")
        v2 = Str("x")
        k3 = Str("zone")
        v3 = Str("^(?s:us-.*)$")
        "#,
    );
}

/// The archive evaluates the metric-name equality in SQL (row groups prune
/// by it) and leaves the other matchers to the caller.
#[test]
fn series_datafusion() {
    check(
        series(&Df, &four()),
        r#"
        SELECT DISTINCT labels FROM metrics WHERE tenant = $1 AND date >= $2 AND date <= $3 AND timestamp_ms >= $4 AND timestamp_ms <= $5 AND metric_name = $6
        tenant = Str("acme")
        d0 = Str("1970-01-01")
        d1 = Str("1970-01-03")
        start = I64(1000)
        end = I64(172800005)
        v0 = Str("up")
        "#,
    );
}

#[test]
fn samples_clickhouse() {
    check(
        samples(&Ch, &two()),
        r#"
        SELECT series_id, timestamp_ms, value FROM metric_samples WHERE tenant = {tenant:String} AND timestamp_ms >= {start:Int64} AND timestamp_ms <= {end:Int64} AND series_id IN (SELECT series_id FROM metric_series WHERE tenant = {tenant:String} AND day >= toDate({d0:UInt16}) AND day <= toDate({d1:UInt16}) AND metric_name = {v0:String} AND match(labels[{k1:String}], {v1:String})) ORDER BY series_id, timestamp_ms
        tenant = Str("acme")
        start = I64(1000)
        end = I64(172800005)
        d0 = U16(0)
        d1 = U16(2)
        v0 = Str("up")
        k1 = Str("job")
        v1 = Str("^(?s:a|b)$")
        "#,
    );
}

#[test]
fn samples_datafusion() {
    check(
        samples(&Df, &two()),
        r#"
        SELECT labels, timestamp_ms, value FROM metrics WHERE tenant = $1 AND date >= $2 AND date <= $3 AND timestamp_ms >= $4 AND timestamp_ms <= $5 AND metric_name = $6
        tenant = Str("acme")
        d0 = Str("1970-01-01")
        d1 = Str("1970-01-03")
        start = I64(1000)
        end = I64(172800005)
        v0 = Str("up")
        "#,
    );
}

/// Without a metric-name equality the archive reads the tenant's window
/// and the caller matches everything; no parameter is left unused.
#[test]
fn samples_datafusion_without_a_name() {
    let s = sel(
        vec![
            m("__name__", MatchOp::Regex, "u.*"),
            m("job", MatchOp::Equal, "x"),
        ],
        START,
        END,
    );
    check(
        samples(&Df, &s),
        r#"
        SELECT labels, timestamp_ms, value FROM metrics WHERE tenant = $1 AND date >= $2 AND date <= $3 AND timestamp_ms >= $4 AND timestamp_ms <= $5
        tenant = Str("acme")
        d0 = Str("1970-01-01")
        d1 = Str("1970-01-03")
        start = I64(1000)
        end = I64(172800005)
        "#,
    );
}

#[test]
fn label_names_clickhouse() {
    check(
        label_names(&Ch, &two()),
        r#"
        SELECT DISTINCT arrayJoin(mapKeys(labels)) AS name FROM metric_series WHERE tenant = {tenant:String} AND day >= toDate({d0:UInt16}) AND day <= toDate({d1:UInt16}) AND metric_name = {v0:String} AND match(labels[{k1:String}], {v1:String})
        tenant = Str("acme")
        d0 = U16(0)
        d1 = U16(2)
        v0 = Str("up")
        k1 = Str("job")
        v1 = Str("^(?s:a|b)$")
        "#,
    );
}

#[test]
fn label_values_clickhouse() {
    check(
        label_values(&Ch, &two(), "instance"),
        r#"
        SELECT DISTINCT labels[{ln:String}] AS value FROM metric_series WHERE tenant = {tenant:String} AND day >= toDate({d0:UInt16}) AND day <= toDate({d1:UInt16}) AND metric_name = {v0:String} AND match(labels[{k1:String}], {v1:String}) AND mapContains(labels, {ln:String})
        tenant = Str("acme")
        ln = Str("instance")
        d0 = U16(0)
        d1 = U16(2)
        v0 = Str("up")
        k1 = Str("job")
        v1 = Str("^(?s:a|b)$")
        "#,
    );
}

#[test]
fn grid_clickhouse() {
    check(
        grid(&Ch, &one(), Function::Changes, GRID),
        r#"
        SELECT series_id, timeSeriesChangesToGrid(fromUnixTimestamp64Milli({gs:Int64}), fromUnixTimestamp64Milli({ge:Int64}), toDecimal64({gstep:Int64}, 3) / 1000, toDecimal64({grange:Int64}, 3) / 1000)(fromUnixTimestamp64Milli(timestamp_ms), value) AS values FROM metric_samples WHERE tenant = {tenant:String} AND timestamp_ms >= {start:Int64} AND timestamp_ms <= {end:Int64} AND reinterpretAsUInt64(value) != 9218868437227405314 AND series_id IN (SELECT series_id FROM metric_series WHERE tenant = {tenant:String} AND day >= toDate({d0:UInt16}) AND day <= toDate({d1:UInt16}) AND metric_name = {v0:String}) GROUP BY series_id
        tenant = Str("acme")
        gs = I64(60000)
        ge = I64(120000)
        gstep = I64(30000)
        grange = I64(60000)
        start = I64(1000)
        end = I64(172800005)
        d0 = U16(0)
        d1 = U16(2)
        v0 = Str("up")
        "#,
    );
    // Functions ClickHouse does not compute exactly never reach SQL.
    assert_eq!(grid(&Ch, &one(), Function::Rate, GRID), None);
}

#[test]
fn grid_aggregates_follow_the_registry() {
    for f in Function::all() {
        assert_eq!(grid_aggregate(f).is_some(), f.info().clickhouse_grid, "{f}");
    }
    assert_eq!(
        grid_aggregate(Function::CountOverTime),
        Some("timeSeriesCountToGrid")
    );
}

#[test]
fn grid_groups_clickhouse() {
    let by = ["job".to_string()];
    check(
        grid_groups(
            &Ch,
            &one(),
            Function::Changes,
            GRID,
            Grouping {
                without: false,
                labels: &by,
            },
        ),
        r#"
        SELECT key, countForEach(values) AS n, sumForEach(arrayMap(x -> ifNull(x, 0.), values)) AS s, minForEach(arrayMap(x -> ifNull(x, inf), values)) AS lo, maxForEach(arrayMap(x -> ifNull(x, -inf), values)) AS hi FROM (SELECT mapFilter((k, v) -> has({gl:Array(String)}, k), s.labels) AS key, g.values AS values FROM (SELECT series_id, timeSeriesChangesToGrid(fromUnixTimestamp64Milli({gs:Int64}), fromUnixTimestamp64Milli({ge:Int64}), toDecimal64({gstep:Int64}, 3) / 1000, toDecimal64({grange:Int64}, 3) / 1000)(fromUnixTimestamp64Milli(timestamp_ms), value) AS values FROM metric_samples WHERE tenant = {tenant:String} AND timestamp_ms >= {start:Int64} AND timestamp_ms <= {end:Int64} AND reinterpretAsUInt64(value) != 9218868437227405314 AND series_id IN (SELECT series_id FROM metric_series WHERE tenant = {tenant:String} AND day >= toDate({d0:UInt16}) AND day <= toDate({d1:UInt16}) AND metric_name = {v0:String}) GROUP BY series_id) AS g INNER JOIN (SELECT series_id, any(labels) AS labels FROM metric_series WHERE tenant = {tenant:String} AND day >= toDate({d0:UInt16}) AND day <= toDate({d1:UInt16}) AND metric_name = {v0:String} GROUP BY series_id) AS s ON g.series_id = s.series_id) GROUP BY key
        tenant = Str("acme")
        gl = StrArray(["job"])
        gs = I64(60000)
        ge = I64(120000)
        gstep = I64(30000)
        grange = I64(60000)
        start = I64(1000)
        end = I64(172800005)
        d0 = U16(0)
        d1 = U16(2)
        v0 = Str("up")
        "#,
    );
    let without = grid_groups(
        &Ch,
        &one(),
        Function::Changes,
        GRID,
        Grouping {
            without: true,
            labels: &by,
        },
    )
    .expect("a statement");
    assert!(
        without.sql().contains(
            "SELECT mapFilter((k, v) -> NOT has({gl:Array(String)}, k) AND k != '__name__', s.labels) AS key"
        ),
        "{}",
        without.sql()
    );
    assert_eq!(
        grid_groups(
            &Ch,
            &one(),
            Function::Rate,
            GRID,
            Grouping {
                without: false,
                labels: &by
            }
        ),
        None
    );
}

#[test]
fn windows_outside_clickhouse_dates_select_nothing() {
    let up = vec![m("__name__", MatchOp::Equal, "up")];
    let before = sel(up.clone(), -5 * DAY_MS, -2 * DAY_MS);
    assert_eq!(series(&Ch, &before), None);
    assert_eq!(samples(&Ch, &before), None);
    assert_eq!(label_names(&Ch, &before), None);
    assert_eq!(label_values(&Ch, &before, "job"), None);
    assert_eq!(grid(&Ch, &before, Function::Changes, GRID), None);
    // The archive has dates before 1970: it reads them.
    assert!(series(&Df, &before).is_some());
    let wide = sel(up, -5 * DAY_MS, i64::MAX / 2);
    let s = series(&Ch, &wide).expect("clamped");
    assert!(s.params().contains(&("d0".to_string(), Param::U16(0))));
    assert!(s.params().contains(&("d1".to_string(), Param::U16(65_535))));
}

// Hostile input: quotes, braces, placeholders of both dialects, comments,
// statement ends, backslashes and NUL. Each carries `evil`, which no
// statement text may contain.
const EVIL_VALUE: &str = "evil'); DROP TABLE metric_samples; -- {v0:String} $1 \\ \" \u{0}";
/// Label names in matchers cannot hold control characters.
const EVIL_NAME: &str = "evil'\"{k0:String}$1--;\\";
/// The label of a label-values look-up is any text.
const EVIL_LABEL: &str = "evil\u{0}'{ln:String}$2;--\\";
const EVIL_RE: &str = "evil'|\\{v1:String\\}|a$1|--|;|\\\\|\\x00|\u{0}";

fn hostile() -> Selection {
    sel(
        vec![
            m("__name__", MatchOp::Equal, EVIL_VALUE),
            m(EVIL_NAME, MatchOp::Regex, EVIL_RE),
            m("job", MatchOp::NotEqual, EVIL_VALUE),
            m("zone", MatchOp::NotRegex, EVIL_RE),
        ],
        START,
        END,
    )
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Which {
    ClickHouse,
    DataFusion,
}

/// Every statement of every node over `s`, with the dialect it is in.
fn every_statement(s: &Selection) -> Vec<(Which, Statement)> {
    let by = ["job".to_string(), EVIL_NAME.to_string()];
    let grouping = |without| Grouping {
        without,
        labels: &by,
    };
    let all = [
        (Which::ClickHouse, series(&Ch, s)),
        (Which::DataFusion, series(&Df, s)),
        (Which::ClickHouse, samples(&Ch, s)),
        (Which::DataFusion, samples(&Df, s)),
        (Which::ClickHouse, label_names(&Ch, s)),
        (Which::ClickHouse, label_values(&Ch, s, EVIL_LABEL)),
        (Which::ClickHouse, label_values(&Ch, s, "job")),
        (Which::ClickHouse, grid(&Ch, s, Function::Irate, GRID)),
        (
            Which::ClickHouse,
            grid_groups(&Ch, s, Function::Changes, GRID, grouping(false)),
        ),
        (
            Which::ClickHouse,
            grid_groups(&Ch, s, Function::Resets, GRID, grouping(true)),
        ),
    ];
    all.into_iter()
        .map(|(w, st)| (w, st.expect("a statement")))
        .collect()
}

fn selections() -> Vec<Selection> {
    vec![
        four(),
        two(),
        one(),
        hostile(),
        sel(vec![], START, END),
        sel(vec![m("job", MatchOp::Equal, "x")], START, END),
    ]
}

#[test]
fn every_where_starts_with_the_tenant() {
    for s in selections() {
        for (which, st) in every_statement(&s) {
            let tenant = match which {
                Which::ClickHouse => "tenant = {tenant:String}",
                Which::DataFusion => "tenant = $1",
            };
            let mut wheres = st.sql().split(" WHERE ");
            let head = wheres.next().unwrap_or_default();
            assert!(!head.contains("WHERE"), "{}", st.sql());
            let mut n = 0;
            for rest in wheres {
                n += 1;
                assert!(rest.starts_with(tenant), "{which:?}: {}", st.sql());
            }
            assert!(n >= 1, "{}", st.sql());
            assert_eq!(
                st.params().first(),
                Some(&("tenant".to_string(), Param::Str("acme".into()))),
                "{}",
                st.sql()
            );
            // Nested queries share the one tenant parameter.
            let tenants = st
                .params()
                .iter()
                .filter(|(n, _)| n.starts_with("tenant"))
                .count();
            assert_eq!(tenants, 1, "{:?}", st.params());
        }
    }
    let samples = samples(&Ch, &four()).expect("a statement");
    assert_eq!(samples.sql().matches(" WHERE ").count(), 2);
    let by = ["job".to_string()];
    let groups = grid_groups(
        &Ch,
        &four(),
        Function::Changes,
        GRID,
        Grouping {
            without: false,
            labels: &by,
        },
    )
    .expect("a statement");
    assert_eq!(
        groups
            .sql()
            .matches(" WHERE tenant = {tenant:String}")
            .count(),
        3
    );
}

/// The ClickHouse type of a placeholder holding `p`.
fn clickhouse_type(p: &Param) -> &'static str {
    match p {
        Param::Str(_) => "String",
        Param::StrArray(_) => "Array(String)",
        Param::I64(_) => "Int64",
        Param::U16(_) => "UInt16",
    }
}

/// The `{name:Type}` placeholders of a ClickHouse text.
fn clickhouse_placeholders(sql: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = sql;
    while let Some(i) = rest.find('{') {
        let after = &rest[i + 1..];
        let j = after.find('}').expect("a closed placeholder");
        let (name, ty) = after[..j].split_once(':').expect("name:Type");
        out.push((name.to_string(), ty.to_string()));
        rest = &after[j + 1..];
    }
    out
}

/// The `$n` placeholders of a DataFusion text.
fn positions(sql: &str) -> BTreeSet<usize> {
    sql.match_indices('$')
        .map(|(i, _)| {
            let digits: String = sql[i + 1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().expect("a position")
        })
        .collect()
}

/// Placeholders and parameters agree: each placeholder names a parameter
/// of its type, and each parameter is used.
#[test]
fn placeholders_and_parameters_agree() {
    for s in selections() {
        for (which, st) in every_statement(&s) {
            match which {
                Which::ClickHouse => {
                    let used = clickhouse_placeholders(st.sql());
                    for (name, ty) in &used {
                        let p = st
                            .params()
                            .iter()
                            .find(|(n, _)| n == name)
                            .map(|(_, p)| p)
                            .unwrap_or_else(|| panic!("{name} unbound in {}", st.sql()));
                        assert_eq!(clickhouse_type(p), ty.as_str(), "{}", st.sql());
                    }
                    for (name, _) in st.params() {
                        assert!(used.iter().any(|(n, _)| n == name), "{name} unused");
                    }
                    let names: BTreeSet<&str> =
                        st.params().iter().map(|(n, _)| n.as_str()).collect();
                    assert_eq!(names.len(), st.params().len(), "{:?}", st.params());
                }
                Which::DataFusion => {
                    let want: BTreeSet<usize> = (1..=st.params().len()).collect();
                    assert_eq!(positions(st.sql()), want, "{}", st.sql());
                }
            }
        }
    }
}

#[test]
fn hostile_input_is_only_in_parameters() {
    let s = hostile();
    let anchored = format!("^(?s:{EVIL_RE})$");
    for (which, st) in every_statement(&s) {
        let sql = st.sql();
        assert!(!sql.contains("evil"), "{sql}");
        for bad in [";", "--", "\\", "\"", "\u{0}", "DROP"] {
            assert!(!sql.contains(bad), "{bad:?} in {sql}");
        }
        // The one quoted constant is the metric name's label name.
        assert!(!sql.replace("'__name__'", "").contains('\''), "{sql}");
        let has = |p: Param| st.params().iter().any(|(_, q)| *q == p);
        assert!(
            has(Param::Str(EVIL_VALUE.into())),
            "{which:?}: {:?}",
            st.params()
        );
        if which == Which::ClickHouse {
            assert!(has(Param::Str(EVIL_NAME.into())), "{:?}", st.params());
            assert!(has(Param::Str(anchored.clone())), "{:?}", st.params());
        }
    }
    let st = label_values(&Ch, &s, EVIL_LABEL).expect("a statement");
    assert!(
        st.params()
            .contains(&("ln".to_string(), Param::Str(EVIL_LABEL.into())))
    );
    let by = [EVIL_NAME.to_string()];
    let st = grid_groups(
        &Ch,
        &s,
        Function::Changes,
        GRID,
        Grouping {
            without: true,
            labels: &by,
        },
    )
    .expect("a statement");
    assert!(
        st.params()
            .contains(&("gl".to_string(), Param::StrArray(vec![EVIL_NAME.into()])))
    );
}

#[test]
fn hostile_matchers_are_still_evaluated() {
    // The same matchers, whatever their text, in the same places.
    let s = hostile();
    let st = series(&Ch, &s).expect("a statement");
    assert_eq!(
        st.sql(),
        "SELECT DISTINCT series_id, labels FROM metric_series WHERE tenant = {tenant:String} \
         AND day >= toDate({d0:UInt16}) AND day <= toDate({d1:UInt16}) \
         AND metric_name = {v0:String} AND match(labels[{k1:String}], {v1:String}) \
         AND labels[{k2:String}] != {v2:String} AND NOT match(labels[{k3:String}], {v3:String})"
    );
    assert_eq!(s.matchers().len(), 4);
}
