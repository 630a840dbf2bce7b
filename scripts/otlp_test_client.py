"""Sends telemetry with the OpenTelemetry Python SDK's OTLP exporters.

Run through scripts/otlp-test-client, which installs the SDK:

    otlp-test-client --endpoint URL --protocol grpc|http --token T [--gzip] < spec.json

URL is the server's OTLP gRPC address (http://127.0.0.1:4317) or its HTTP
base URL (http://127.0.0.1:9700; the exporters append /v1/<signal>).

The spec (JSON on stdin), every key optional:

    {"resource": {"service.name": "checkout", ...},
     "timeout_s": 10,
     "spans": [{"name": "GET /cart", "kind": "server", "start_ms": <unix ms>,
                "duration_ms": 120, "attributes": {...},
                "status": "ok"|"error"|"unset", "status_message": "...",
                "events": [{"name": "retry", "offset_ms": 5, "attributes": {...}}],
                "children": [<span>, ...]}],
     "metrics": [{"type": "counter"|"updown"|"histogram"|"gauge",
                  "name": "...", "unit": "...", "description": "...",
                  "boundaries": [..] (histogram), "temporality": "delta" (counter, histogram),
                  "points": [{"attributes": {...}, "value": 3}
                             | {"attributes": {...}, "values": [..]} (histogram)]}],
     "logs": [{"body": "...", "level": "ERROR"|"WARNING"|"INFO"|"DEBUG",
               "attributes": {...}, "in_span": "<name of a span above>"}]}

Each signal is recorded in memory, then handed to the OTLP exporter once,
so the exporter's own result is what is printed (JSON on stdout):

    {"spans": "SUCCESS"|"FAILURE", "trace_ids": {"<span name>": "<hex>"},
     "span_ids": {"<span name>": "<hex>"}, "metrics": ..., "logs": ...}

A signal the spec does not name is not sent and not printed.
"""

import argparse
import json
import logging
import sys
import time


def attrs(d):
    return dict(d or {})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--protocol", choices=["grpc", "http"], required=True)
    ap.add_argument("--token", default="")
    ap.add_argument("--gzip", action="store_true")
    a = ap.parse_args()
    spec = json.load(sys.stdin)

    from opentelemetry.sdk.resources import Resource

    resource = Resource.create(attrs(spec.get("resource")))
    headers = {"authorization": f"Bearer {a.token}"} if a.token else {}
    timeout = spec.get("timeout_s", 10)
    out = {}

    if a.protocol == "grpc":
        from grpc import Compression
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        def exporter(cls, _path):
            return cls(
                endpoint=a.endpoint,
                insecure=True,
                headers=headers,
                timeout=timeout,
                compression=Compression.Gzip if a.gzip else Compression.NoCompression,
            )
    else:
        from opentelemetry.exporter.otlp.proto.http import Compression
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        def exporter(cls, path):
            return cls(
                endpoint=a.endpoint.rstrip("/") + path,
                headers=headers,
                timeout=timeout,
                compression=Compression.Gzip if a.gzip else Compression.NoCompression,
            )

    spans_by_name = {}
    tracer = None
    if "spans" in spec or any(l.get("in_span") for l in spec.get("logs", [])):
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from opentelemetry.trace import SpanKind, Status, StatusCode

        memory = InMemorySpanExporter()
        tp = TracerProvider(resource=resource)
        tp.add_span_processor(SimpleSpanProcessor(memory))
        tracer = tp.get_tracer("sightline.test", "1.0")
        kinds = {
            "internal": SpanKind.INTERNAL,
            "server": SpanKind.SERVER,
            "client": SpanKind.CLIENT,
            "producer": SpanKind.PRODUCER,
            "consumer": SpanKind.CONSUMER,
        }
        now_ms = int(time.time() * 1000)

        def record(s, parent_ctx, default_start):
            start_ms = s.get("start_ms", default_start)
            start = int(start_ms * 1_000_000)
            end = start + int(s.get("duration_ms", 10) * 1_000_000)
            span = tracer.start_span(
                s["name"],
                context=parent_ctx,
                kind=kinds[s.get("kind", "internal")],
                attributes=attrs(s.get("attributes")),
                start_time=start,
            )
            for e in s.get("events", []):
                span.add_event(
                    e["name"],
                    attributes=attrs(e.get("attributes")),
                    timestamp=start + int(e.get("offset_ms", 0) * 1_000_000),
                )
            st = s.get("status", "unset")
            if st == "error":
                span.set_status(Status(StatusCode.ERROR, s.get("status_message")))
            elif st == "ok":
                span.set_status(Status(StatusCode.OK))
            ctx = trace.set_span_in_context(span)
            spans_by_name[s["name"]] = span
            for c in s.get("children", []):
                record(c, ctx, start_ms + 1)
            span.end(end_time=end)

        for s in spec.get("spans", []):
            record(s, None, now_ms - 1000)
        if "spans" in spec:
            finished = memory.get_finished_spans()
            res = exporter(OTLPSpanExporter, "/v1/traces").export(finished)
            out["spans"] = res.name
            out["trace_ids"] = {
                n: format(sp.get_span_context().trace_id, "032x") for n, sp in spans_by_name.items()
            }
            out["span_ids"] = {
                n: format(sp.get_span_context().span_id, "016x") for n, sp in spans_by_name.items()
            }

    if "metrics" in spec:
        from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider, UpDownCounter
        from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
        from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View

        temporality = {}
        views = []
        for m in spec["metrics"]:
            if m.get("temporality") == "delta":
                kind = {"counter": Counter, "histogram": Histogram}[m["type"]]
                temporality[kind] = AggregationTemporality.DELTA
            if m["type"] == "histogram" and "boundaries" in m:
                views.append(
                    View(
                        instrument_name=m["name"],
                        aggregation=ExplicitBucketHistogramAggregation(m["boundaries"]),
                    )
                )
        reader = InMemoryMetricReader(preferred_temporality=temporality)
        mp = MeterProvider(resource=resource, metric_readers=[reader], views=views)
        meter = mp.get_meter("sightline.test", "1.0")
        for m in spec["metrics"]:
            kw = {"unit": m.get("unit", ""), "description": m.get("description", "")}
            t = m["type"]
            if t == "counter":
                inst = meter.create_counter(m["name"], **kw)
                for p in m["points"]:
                    inst.add(p["value"], attributes=attrs(p.get("attributes")))
            elif t == "updown":
                inst = meter.create_up_down_counter(m["name"], **kw)
                for p in m["points"]:
                    inst.add(p["value"], attributes=attrs(p.get("attributes")))
            elif t == "gauge":
                inst = meter.create_gauge(m["name"], **kw)
                for p in m["points"]:
                    inst.set(p["value"], attributes=attrs(p.get("attributes")))
            elif t == "histogram":
                inst = meter.create_histogram(m["name"], **kw)
                for p in m["points"]:
                    for v in p["values"]:
                        inst.record(v, attributes=attrs(p.get("attributes")))
            else:
                raise SystemExit(f"unknown metric type {t}")
        data = reader.get_metrics_data()
        res = exporter(OTLPMetricExporter, "/v1/metrics").export(data)
        out["metrics"] = res.name

    if "logs" in spec:
        from opentelemetry import trace
        from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
        from opentelemetry.sdk._logs.export import InMemoryLogExporter, SimpleLogRecordProcessor

        memory = InMemoryLogExporter()
        lp = LoggerProvider(resource=resource)
        lp.add_log_record_processor(SimpleLogRecordProcessor(memory))
        logger = logging.getLogger("sightline.test")
        logger.propagate = False
        logger.setLevel(logging.DEBUG)
        logger.addHandler(LoggingHandler(level=logging.DEBUG, logger_provider=lp))
        for l in spec["logs"]:
            level = getattr(logging, l.get("level", "INFO"))
            span = spans_by_name.get(l.get("in_span", ""))
            if span is not None:
                with trace.use_span(span, end_on_exit=False):
                    logger.log(level, l["body"], extra=attrs(l.get("attributes")))
            else:
                logger.log(level, l["body"], extra=attrs(l.get("attributes")))
        res = exporter(OTLPLogExporter, "/v1/logs").export(memory.get_finished_logs())
        out["logs"] = res.name

    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
