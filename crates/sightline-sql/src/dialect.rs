//! The SQL engines statements are written for, and what each spells its own
//! way: placeholders, the tables (allow-listed constants), regular
//! expression matches, label look-ups and day bounds.

use sightline_core::time::{DAY_MS, utc_date};
use sightline_core::{METRIC_NAME, MatchOp, Matcher};

use crate::statement::Param;

/// Where a dialect keeps log entries: the table and its columns (stream
/// labels, time in nanoseconds, line, structured metadata).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogTable {
    pub table: &'static str,
    pub labels: &'static str,
    pub time: &'static str,
    pub line: &'static str,
    pub metadata: &'static str,
}

/// Where a dialect keeps spans: the table, the select list giving
/// `sightline_sql::spans::SPAN_COLUMNS` in their order, and the columns (or
/// expressions) a read filters on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanTable {
    pub table: &'static str,
    pub columns: &'static str,
    /// Start and end in nanoseconds.
    pub start: &'static str,
    pub end: &'static str,
    /// The trace id as lowercase hex.
    pub trace_id: &'static str,
}

/// The tables a dialect's metric statements read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricTables {
    /// One row per sample.
    pub samples: &'static str,
    /// One row per series and day (`series_id`, `metric_name`, `labels` as
    /// a map, `day`), where sample rows carry only a series id; `None` where
    /// every sample row carries its series' metric name, labels and date.
    pub series: Option<&'static str>,
}

/// What differs between the SQL engines statements are lowered for.
///
/// Every method returns text made of constants and the placeholders it is
/// given; values only ever come back as [`Param`]s.
pub trait Dialect {
    /// The placeholder of the `index`-th parameter (counting from 1),
    /// bound under `name`, holding `param`.
    fn placeholder(&self, index: usize, name: &str, param: &Param) -> String;

    /// The tables metric statements read.
    fn metric_tables(&self) -> MetricTables;

    /// `column` matches the (already anchored) regular expression held by
    /// placeholder `re`.
    fn regex_match(&self, column: &str, re: &str) -> String;

    /// The value of the label named by placeholder `key` (empty when the
    /// series lacks it), or `None` where labels are not a map SQL can look
    /// into.
    fn label_value(&self, key: &str) -> Option<String>;

    /// Whether statements evaluate `m` in SQL; the caller applies every
    /// matcher this refuses to the rows that come back. Admits a matcher on
    /// a label other than the metric name only where
    /// [`Dialect::label_value`] gives text.
    fn evaluates(&self, m: &Matcher) -> bool;

    /// The first and last stored day a window `[start_ms, end_ms]` touches,
    /// as the day column holds them; `None` when no stored day can fall in
    /// it.
    fn day_bounds(&self, start_ms: i64, end_ms: i64) -> Option<(Param, Param)>;

    /// The day column between placeholders `lo` and `hi`, both included.
    fn day_between(&self, lo: &str, hi: &str) -> String;

    /// The log table and its columns.
    fn log_table(&self) -> LogTable;

    /// A stream label's value by its bound name, where the dialect can
    /// read stream labels in SQL (ClickHouse's map); `None` otherwise (the
    /// caller matches stream labels itself).
    fn stream_label_value(&self, key: &str) -> Option<String>;

    /// Whether `column` holds the bound substring `needle`.
    fn contains(&self, column: &str, needle: &str) -> String;

    /// The span table and its columns.
    fn span_table(&self) -> SpanTable;

    /// Whether the log and span tables' rows carry a day partition the
    /// statement names (the archive's `date` directories); otherwise the
    /// engine prunes partitions by the time predicate itself.
    fn day_partitions(&self) -> bool;
}

/// ClickHouse, the hot tier: server-side `{name:Type}` parameters, a
/// series table (labels as a `Map(String, String)`, one row per series and
/// `Date`) beside a samples table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClickHouseDialect;

impl ClickHouseDialect {
    /// One row per (tenant, day, series).
    pub const SERIES_TABLE: &'static str = "metric_series";
    /// One row per sample.
    pub const SAMPLES_TABLE: &'static str = "metric_samples";
    pub const LOGS_TABLE: &'static str = "logs";
    pub const SPANS_TABLE: &'static str = "spans";
    /// The last day ClickHouse's `Date` holds (2149-06-06).
    pub const MAX_DATE_DAY: u16 = u16::MAX;

    /// The `Date` of a timestamp as a day number, clamped to what `Date`
    /// holds: the `day` of the series row a sample at `t_ms` needs.
    pub fn date_day(t_ms: i64) -> u16 {
        let day = t_ms
            .div_euclid(DAY_MS)
            .clamp(0, i64::from(Self::MAX_DATE_DAY));
        // Clamped into u16's range just above.
        u16::try_from(day).unwrap_or(Self::MAX_DATE_DAY)
    }

    /// The value of the label named by placeholder `key` ('' when absent,
    /// as ClickHouse's map subscript gives it).
    pub(crate) fn label(key: &str) -> String {
        format!("labels[{key}]")
    }

    fn type_name(param: &Param) -> &'static str {
        match param {
            Param::Str(_) => "String",
            Param::StrArray(_) => "Array(String)",
            Param::I64(_) => "Int64",
            Param::U16(_) => "UInt16",
        }
    }
}

impl Dialect for ClickHouseDialect {
    fn placeholder(&self, _index: usize, name: &str, param: &Param) -> String {
        format!("{{{name}:{}}}", Self::type_name(param))
    }

    fn metric_tables(&self) -> MetricTables {
        MetricTables {
            samples: Self::SAMPLES_TABLE,
            series: Some(Self::SERIES_TABLE),
        }
    }

    fn regex_match(&self, column: &str, re: &str) -> String {
        format!("match({column}, {re})")
    }

    fn label_value(&self, key: &str) -> Option<String> {
        Some(Self::label(key))
    }

    fn evaluates(&self, _m: &Matcher) -> bool {
        true
    }

    fn day_bounds(&self, start_ms: i64, end_ms: i64) -> Option<(Param, Param)> {
        let max = i64::from(Self::MAX_DATE_DAY);
        // Past `Date`'s last day the first bound does not convert, before
        // its first the last bound does not: no day can match.
        let d0 = u16::try_from(start_ms.div_euclid(DAY_MS).max(0)).ok()?;
        let d1 = u16::try_from(end_ms.div_euclid(DAY_MS).min(max)).ok()?;
        (d0 <= d1).then_some((Param::U16(d0), Param::U16(d1)))
    }

    fn day_between(&self, lo: &str, hi: &str) -> String {
        format!("day >= toDate({lo}) AND day <= toDate({hi})")
    }

    fn log_table(&self) -> LogTable {
        LogTable {
            table: Self::LOGS_TABLE,
            labels: "stream_labels",
            time: "timestamp_ns",
            line: "body",
            metadata: "log_attributes",
        }
    }

    fn stream_label_value(&self, key: &str) -> Option<String> {
        Some(format!("stream_labels[{key}]"))
    }

    fn contains(&self, column: &str, needle: &str) -> String {
        format!("position({column}, {needle}) > 0")
    }

    /// Kinds and statuses are kept by name (`sightline_core::span`), the
    /// end as the start plus the duration.
    fn span_table(&self) -> SpanTable {
        SpanTable {
            table: Self::SPANS_TABLE,
            columns: "trace_id, span_id, parent_span_id, span_name, span_kind, timestamp_ns, \
                      timestamp_ns + toInt64(duration_ns) AS end_ns, status_code, service_name, \
                      span_attributes, resource_attributes, otlp",
            start: "timestamp_ns",
            end: "(timestamp_ns + toInt64(duration_ns))",
            trace_id: "trace_id",
        }
    }

    fn day_partitions(&self) -> bool {
        false
    }
}

/// DataFusion over the Parquet archive: positional `$n` parameters, one
/// listing table whose rows carry their series' metric name and labels
/// (JSON text), partitioned by a `date` column (`YYYY-MM-DD` strings from
/// the `date=` directories).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DataFusionDialect;

/// The first millisecond of year 0000 and the last of year 9999: dates
/// compare as strings between them.
const YEAR_0_MS: i64 = -62_167_219_200_000;
const YEAR_9999_END_MS: i64 = 253_402_300_799_999;

impl DataFusionDialect {
    /// The name the archive registers its listing table under.
    pub const METRICS_TABLE: &'static str = "metrics";
    pub const LOGS_TABLE: &'static str = "logs";
    pub const SPANS_TABLE: &'static str = "spans";
    /// The archive's date partition column.
    pub const DATE_COLUMN: &'static str = "date";

    /// The first and last date partition (`YYYY-MM-DD`) a window touches,
    /// clamped to years 0000-9999, where the partitions' text order is
    /// their date order.
    pub fn date_range(start_ms: i64, end_ms: i64) -> (String, String) {
        (
            utc_date(start_ms.clamp(YEAR_0_MS, YEAR_9999_END_MS)),
            utc_date(end_ms.clamp(YEAR_0_MS, YEAR_9999_END_MS)),
        )
    }
}

impl Dialect for DataFusionDialect {
    fn placeholder(&self, index: usize, _name: &str, _param: &Param) -> String {
        format!("${index}")
    }

    fn metric_tables(&self) -> MetricTables {
        MetricTables {
            samples: Self::METRICS_TABLE,
            series: None,
        }
    }

    fn regex_match(&self, column: &str, re: &str) -> String {
        format!("{column} ~ {re}")
    }

    /// Labels are JSON text in the archive.
    fn label_value(&self, _key: &str) -> Option<String> {
        None
    }

    /// Metric-name equality only: the name is a column whose row-group
    /// statistics prune; labels are JSON text, matched in Rust.
    fn evaluates(&self, m: &Matcher) -> bool {
        m.name == METRIC_NAME && m.op == MatchOp::Equal
    }

    fn day_bounds(&self, start_ms: i64, end_ms: i64) -> Option<(Param, Param)> {
        let (d0, d1) = Self::date_range(start_ms, end_ms);
        Some((Param::Str(d0), Param::Str(d1)))
    }

    fn day_between(&self, lo: &str, hi: &str) -> String {
        let col = Self::DATE_COLUMN;
        format!("{col} >= {lo} AND {col} <= {hi}")
    }

    fn log_table(&self) -> LogTable {
        LogTable {
            table: Self::LOGS_TABLE,
            labels: "labels",
            time: "timestamp_ns",
            line: "line",
            metadata: "metadata",
        }
    }

    fn stream_label_value(&self, _key: &str) -> Option<String> {
        None
    }

    fn contains(&self, column: &str, needle: &str) -> String {
        format!("strpos({column}, {needle}) > 0")
    }

    fn span_table(&self) -> SpanTable {
        SpanTable {
            table: Self::SPANS_TABLE,
            columns: crate::spans::SPAN_COLUMNS,
            start: "start_ns",
            end: "end_ns",
            trace_id: "trace_id",
        }
    }

    fn day_partitions(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clickhouse_fragments() {
        let d = ClickHouseDialect;
        assert_eq!(
            d.placeholder(3, "v0", &Param::Str("x".into())),
            "{v0:String}"
        );
        assert_eq!(
            d.placeholder(1, "gl", &Param::StrArray(vec![])),
            "{gl:Array(String)}"
        );
        assert_eq!(d.placeholder(1, "start", &Param::I64(0)), "{start:Int64}");
        assert_eq!(d.placeholder(1, "d0", &Param::U16(0)), "{d0:UInt16}");
        assert_eq!(
            d.regex_match("metric_name", "{v0:String}"),
            "match(metric_name, {v0:String})"
        );
        assert_eq!(
            d.label_value("{k1:String}").as_deref(),
            Some("labels[{k1:String}]")
        );
        assert_eq!(
            d.day_between("{d0:UInt16}", "{d1:UInt16}"),
            "day >= toDate({d0:UInt16}) AND day <= toDate({d1:UInt16})"
        );
    }

    #[test]
    fn datafusion_fragments() {
        let d = DataFusionDialect;
        assert_eq!(d.placeholder(3, "v0", &Param::Str("x".into())), "$3");
        assert_eq!(d.regex_match("metric_name", "$6"), "metric_name ~ $6");
        assert_eq!(d.label_value("$2"), None);
        assert_eq!(d.day_between("$2", "$3"), "date >= $2 AND date <= $3");
        let name = Matcher::new(METRIC_NAME, MatchOp::Equal, "up").expect("valid");
        let name_re = Matcher::new(METRIC_NAME, MatchOp::Regex, "up").expect("valid");
        let label = Matcher::new("job", MatchOp::Equal, "x").expect("valid");
        assert!(d.evaluates(&name));
        assert!(!d.evaluates(&name_re));
        assert!(!d.evaluates(&label));
    }

    #[test]
    fn clickhouse_days_are_clamped_to_date() {
        let d = ClickHouseDialect;
        assert_eq!(
            d.day_bounds(1000, 2 * DAY_MS + 5),
            Some((Param::U16(0), Param::U16(2)))
        );
        assert_eq!(d.day_bounds(-5 * DAY_MS, -2 * DAY_MS), None);
        assert_eq!(
            d.day_bounds(-5 * DAY_MS, i64::MAX / 2),
            Some((Param::U16(0), Param::U16(65_535)))
        );
        assert_eq!(d.day_bounds(70_000 * DAY_MS, 70_001 * DAY_MS), None);
        assert_eq!(ClickHouseDialect::date_day(-1), 0);
        assert_eq!(ClickHouseDialect::date_day(DAY_MS + 1), 1);
        assert_eq!(ClickHouseDialect::date_day(i64::MAX), u16::MAX);
    }

    #[test]
    fn archive_dates_are_clamped_to_four_digit_years() {
        assert_eq!(
            DataFusionDialect::date_range(1000, 2 * DAY_MS + 5),
            ("1970-01-01".to_string(), "1970-01-03".to_string())
        );
        // Prometheus's min and max times (look-ups without bounds).
        assert_eq!(
            DataFusionDialect::date_range(-9_223_309_901_257_974, 9_223_309_901_257_974),
            ("0000-01-01".to_string(), "9999-12-31".to_string())
        );
    }
}
