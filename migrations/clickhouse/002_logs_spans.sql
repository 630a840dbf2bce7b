-- Logs and spans, shaped like the OpenTelemetry data model: resource and
-- attribute maps, service name promoted to a column, tenant first.

CREATE TABLE IF NOT EXISTS logs
(
    tenant LowCardinality(String),
    timestamp_ns Int64 CODEC(DoubleDelta, ZSTD(1)),
    observed_timestamp_ns Int64 CODEC(DoubleDelta, ZSTD(1)),
    service_name LowCardinality(String),
    severity_text LowCardinality(String),
    severity_number UInt8,
    trace_id String CODEC(ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    body String CODEC(ZSTD(3)),
    stream_labels Map(LowCardinality(String), String) CODEC(ZSTD(3)),
    resource_attributes Map(LowCardinality(String), String) CODEC(ZSTD(3)),
    log_attributes Map(LowCardinality(String), String) CODEC(ZSTD(3)),
    retention_days UInt16 CODEC(ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY (tenant, toDate(intDiv(timestamp_ns, 86400000000000)))
ORDER BY (tenant, service_name, timestamp_ns)
TTL toDate(intDiv(timestamp_ns, 86400000000000)) + toIntervalDay(retention_days)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS spans
(
    tenant LowCardinality(String),
    timestamp_ns Int64 CODEC(DoubleDelta, ZSTD(1)),
    trace_id String CODEC(ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    parent_span_id String CODEC(ZSTD(1)),
    trace_state String CODEC(ZSTD(1)),
    span_name LowCardinality(String),
    span_kind LowCardinality(String),
    service_name LowCardinality(String),
    duration_ns UInt64 CODEC(T64, ZSTD(1)),
    status_code LowCardinality(String),
    status_message String CODEC(ZSTD(1)),
    resource_attributes Map(LowCardinality(String), String) CODEC(ZSTD(3)),
    span_attributes Map(LowCardinality(String), String) CODEC(ZSTD(3)),
    events_timestamp_ns Array(Int64) CODEC(ZSTD(1)),
    events_name Array(LowCardinality(String)) CODEC(ZSTD(1)),
    events_attributes Array(Map(LowCardinality(String), String)) CODEC(ZSTD(1)),
    retention_days UInt16 CODEC(ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY (tenant, toDate(intDiv(timestamp_ns, 86400000000000)))
ORDER BY (tenant, service_name, span_name, timestamp_ns)
TTL toDate(intDiv(timestamp_ns, 86400000000000)) + toIntervalDay(retention_days)
SETTINGS non_replicated_deduplication_window = 10000;
