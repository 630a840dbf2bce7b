-- Metrics: one row per series and day in metric_series, one row per sample
-- in metric_samples. Every table keeps one tenant's day in one partition,
-- orders by tenant first and expires rows after the tenant's retention,
-- which each row carries (retention_days) so that TTL needs no join.
-- Days are computed as toDate(intDiv(ms, 86400000)): a day number, never
-- toDate(seconds), which reads numbers under 65536 as day numbers and so
-- misplaces (and expires) the first hours of 1970.

CREATE TABLE IF NOT EXISTS metric_series
(
    tenant LowCardinality(String),
    day Date CODEC(DoubleDelta, ZSTD(1)),
    metric_name LowCardinality(String),
    series_id UInt64,
    labels Map(LowCardinality(String), String) CODEC(ZSTD(3)),
    retention_days UInt16 CODEC(ZSTD(1))
)
ENGINE = ReplacingMergeTree
PARTITION BY (tenant, day)
ORDER BY (tenant, metric_name, series_id)
TTL day + toIntervalDay(retention_days)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS metric_samples
(
    tenant LowCardinality(String),
    series_id UInt64,
    timestamp_ms Int64 CODEC(DoubleDelta, ZSTD(1)),
    value Float64 CODEC(Gorilla, ZSTD(1)),
    retention_days UInt16 CODEC(ZSTD(1))
)
-- Replacing: a batch replayed from the write-ahead log after a crash (under
-- a new deduplication token) collapses onto the rows it repeats; readers
-- also keep one value per (series, timestamp).
ENGINE = ReplacingMergeTree
PARTITION BY (tenant, toDate(intDiv(timestamp_ms, 86400000)))
ORDER BY (tenant, series_id, timestamp_ms)
TTL toDate(intDiv(timestamp_ms, 86400000)) + toIntervalDay(retention_days)
SETTINGS non_replicated_deduplication_window = 10000;
