-- Spans keep, beside the columns searches read, the whole span as OTLP
-- encodes it (a ResourceSpans of its resource, its scope and the span
-- alone), so that a trace read back is what was sent: typed attribute
-- values, events, links, the trace state, the status message and the
-- dropped counts. The columns that only repeated part of it go.
-- A trace is looked up by id across days: a bloom filter per granule
-- skips the granules without it.

ALTER TABLE spans ADD COLUMN IF NOT EXISTS otlp String CODEC(ZSTD(3));
ALTER TABLE spans DROP COLUMN IF EXISTS events_timestamp_ns;
ALTER TABLE spans DROP COLUMN IF EXISTS events_name;
ALTER TABLE spans DROP COLUMN IF EXISTS events_attributes;
ALTER TABLE spans DROP COLUMN IF EXISTS trace_state;
ALTER TABLE spans DROP COLUMN IF EXISTS status_message;
ALTER TABLE spans ADD INDEX IF NOT EXISTS trace_id_bloom trace_id TYPE bloom_filter(0.001) GRANULARITY 1;
