#!/usr/bin/env python3
"""Checks scripts/clickhouse_test_server.py over HTTP the way the `clickhouse`
crate and curl use it. Starts its own servers on free loopback ports.

Usage: python3 scripts/clickhouse_test_server_selftest.py
Ends with `N passed, M failed`; exits non-zero on any failure.
"""

import gzip
import http.client
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "clickhouse_test_server.py")

passed, failed = 0, 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   %s" % name)
    else:
        failed += 1
        print("FAIL %s %s" % (name, detail))


def start(data_dir=None):
    args = [sys.executable, SERVER, "0"] + (["--data-dir", data_dir] if data_dir else [])
    p = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = p.stderr.readline()
        if not line:
            break
        if line.startswith("ready on "):
            port = int(line.strip().rsplit(":", 1)[1])
            threading.Thread(target=lambda: [None for _ in p.stderr], daemon=True).start()
            return p, port
    p.kill()
    raise SystemExit("server did not start")


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        return None


class Client:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method, params=None, body=None, headers=None, chunked=False, path="/"):
        url = path + ("?" + urllib.parse.urlencode(params) if params else "")
        h = dict(headers or {})
        if chunked:
            self.conn.request(method, url, body=iter([body[: len(body) // 2], body[len(body) // 2:]]),
                              headers=h, encode_chunked=True)
        else:
            self.conn.request(method, url, body=body, headers=h)
        r = self.conn.getresponse()
        data = r.read()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data

    def post(self, sql, params=None, **kw):
        return self.request("POST", params, sql.encode() if isinstance(sql, str) else sql, **kw)

    def multipart(self, sql, qparams, params=None):
        boundary = uuid.uuid4().hex
        parts = [("query", sql)] + [("param_" + k, v) for k, v in qparams.items()]
        body = b"".join(
            b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
            % (boundary.encode(), k.encode(), v.encode()) for k, v in parts
        ) + b"--%s--\r\n" % boundary.encode()
        return self.request("POST", params, body,
                            {"Content-Type": "multipart/form-data; boundary=" + boundary})


# ---- RowBinary helpers

def leb128(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def rb_string(s):
    b = s.encode()
    return leb128(len(b)) + b


def rb_row(tenant, ts_ms, labels, v):
    out = rb_string(tenant) + struct.pack("<q", ts_ms) + leb128(len(labels))
    for k, val in labels.items():
        out += rb_string(k) + rb_string(val)
    return out + struct.pack("<d", v)


class Reader:
    def __init__(self, b):
        self.b, self.p = b, 0

    def uleb(self):
        n = shift = 0
        while True:
            c = self.b[self.p]
            self.p += 1
            n |= (c & 0x7F) << shift
            shift += 7
            if not c & 0x80:
                return n

    def string(self):
        n = self.uleb()
        s = self.b[self.p:self.p + n].decode()
        self.p += n
        return s

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.b, self.p)
        self.p += struct.calcsize(fmt)
        return v[0]

    def done(self):
        return self.p >= len(self.b)


def read_rbwnt(data, readers):
    r = Reader(data)
    n = r.uleb()
    names = [r.string() for _ in range(n)]
    types = [r.string() for _ in range(n)]
    rows = []
    while not r.done():
        rows.append([readers[t](r) for t in types])
    return names, types, rows


READERS = {
    "String": Reader.string,
    "UInt8": lambda r: r.take("<B"),
    "UInt64": lambda r: r.take("<Q"),
    "Float64": lambda r: r.take("<d"),
    "DateTime64(3)": lambda r: r.take("<q"),
    "Map(LowCardinality(String), String)":
        lambda r: dict((r.string(), r.string()) for _ in range(r.uleb())),
}


def main():
    p, port = start()
    c = Client(port)
    now_ms = int(time.time() * 1000)
    try:
        run_checks(c, port, now_ms)
    finally:
        rc = stop(p)
        check("SIGTERM stops the server cleanly", rc == 0, "exit code %r" % rc)
    persistence_check(now_ms)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


def run_checks(c, port, now_ms):
    s, h, b = c.request("GET", path="/ping")
    check("GET /ping", (s, b) == (200, b"Ok.\n"), (s, b))
    s, h, b = c.request("GET")
    check("GET /", (s, b) == (200, b"Ok.\n"), (s, b))

    s, h, b = c.post(
        "CREATE TABLE samples (tenant String, ts DateTime64(3), "
        "labels Map(LowCardinality(String), String), v Float64) "
        "ENGINE = MergeTree PARTITION BY (tenant, toDate(ts)) ORDER BY (tenant, ts) "
        "TTL toDateTime(ts) + INTERVAL 30 DAY "
        "SETTINGS non_replicated_deduplication_window = 100")
    check("CREATE TABLE MergeTree/Map/DateTime64/PARTITION BY/TTL", s == 200, (s, b))

    # DESCRIBE as the crate's insert validation does it
    s, h, b = c.post("DESCRIBE TABLE `samples`", {
        "default_format": "RowBinaryWithNamesAndTypes", "describe_include_subcolumns": "1"})
    ok = s == 200 and h.get("x-clickhouse-format") == "RowBinaryWithNamesAndTypes"
    if ok:
        r = Reader(b)
        n = r.uleb()
        names = [r.string() for _ in range(n)]
        types = [r.string() for _ in range(n)]
        rows = []
        while not r.done():
            rows.append([r.string() for _ in range(7)] + [r.take("<B")])
        cols = {row[0]: (row[1], row[7]) for row in rows}
        ok = (names[:2] == ["name", "type"] and types[-1] == "UInt8"
              and cols.get("labels") == ("Map(LowCardinality(String), String)", 0)
              and cols.get("labels.keys", (None, 0))[1] == 1
              and cols.get("ts") == ("DateTime64(3)", 0))
    check("DESCRIBE with describe_include_subcolumns=1 as RowBinaryWithNamesAndTypes", ok, (s, h, b[:200]))
    s, h, b = c.post("SELECT getSetting('describe_include_subcolumns')")
    check("URL setting does not leak into the next request", (s, b) == (200, b"false\n"), (s, b))
    s, h, b = c.post("up", {"dialect": "promql"})
    s2, _, b2 = c.post("SELECT 1")
    check("another dialect is refused and the session keeps working",
          s in (400, 500) and b"BAD_ARGUMENTS" in b and (s2, b2) == (200, b"1\n"), (s, b[:120], s2, b2))

    # INSERT RowBinary body (plain and chunked)
    rows = b"".join(rb_row(t, now_ms + i, {"job": "api", "i": str(i)}, i * 1.5)
                    for i, t in enumerate(["acme", "acme", "globex"]))
    q = {"query": "INSERT INTO `samples`(`tenant`,`ts`,`labels`,`v`) FORMAT RowBinary"}
    s, h, b = c.request("POST", q, rows)
    summary = json.loads(h.get("x-clickhouse-summary", "{}"))
    check("INSERT RowBinary body", s == 200 and summary.get("written_rows") == "3", (s, h, b))
    more = b"".join(rb_row("acme", now_ms + 100 + i, {"job": "db"}, 7.0) for i in range(1000))
    s, h, b = c.request("POST", q, more, chunked=True)
    check("INSERT RowBinary chunked body (1000 rows)", s == 200, (s, b))

    # INSERT RowBinaryWithNamesAndTypes as the crate sends it
    header = leb128(4) + b"".join(rb_string(n) for n in ["tenant", "ts", "labels", "v"]) + b"".join(
        rb_string(t) for t in ["String", "DateTime64(3)", "Map(LowCardinality(String), String)", "Float64"])
    body = header + rb_row("initech", now_ms, {}, 2.5)
    s, h, b = c.request("POST", {
        "query": "INSERT INTO `samples`(`tenant`,`ts`,`labels`,`v`) FORMAT RowBinaryWithNamesAndTypes"}, body)
    check("INSERT RowBinaryWithNamesAndTypes body", s == 200, (s, b))

    # INSERT with inline data in the body alone, and gzip Content-Encoding
    s, h, b = c.post('INSERT INTO samples FORMAT JSONEachRow\n{"tenant":"hooli","ts":%d,"labels":{"a":"b"},"v":1}'
                     % (now_ms // 1000))
    check("INSERT with inline JSONEachRow data in the body", s == 200, (s, b))
    s, h, b = c.request("POST", {"query": "INSERT INTO samples FORMAT JSONEachRow"},
                        gzip.compress(b'{"tenant":"hooli","ts":%d,"labels":{},"v":2}\n' % (now_ms // 1000)),
                        {"Content-Encoding": "gzip"})
    check("INSERT with gzip Content-Encoding", s == 200, (s, b))
    s, h, b = c.request("POST", {"query": "INSERT INTO samples FORMAT RowBinary"}, rows,
                        {"Content-Encoding": "lz4"})
    check("unsupported Content-Encoding is an error naming it",
          s == 501 and b"lz4" in b and h.get("x-clickhouse-exception-code") == "48", (s, b))
    s, h, b = c.post("INSERT INTO samples VALUES ('hooli', now64(3), map('x', 'y'), 3)")
    check("INSERT ... VALUES", s == 200, (s, b))

    # SELECT with a server-side parameter: URL param_ and multipart
    sql = "SELECT tenant, ts, labels, v FROM samples WHERE tenant = {tenant:String} ORDER BY ts"
    s, h, b = c.post(sql, {"param_tenant": "acme", "default_format": "RowBinaryWithNamesAndTypes"})
    ok = s == 200 and h.get("content-type") == "application/octet-stream"
    if ok:
        names, types, got = read_rbwnt(b, READERS)
        ok = (names == ["tenant", "ts", "labels", "v"] and len(got) == 1002
              and got[0] == ["acme", now_ms, {"job": "api", "i": "0"}, 0.0])
    check("SELECT {tenant:String} via URL param_tenant, RowBinaryWithNamesAndTypes", ok, (s, h, b[:100]))

    s, h, b = c.multipart(sql + " LIMIT 1", {"tenant": "globex"}, {"default_format": "JSON"})
    ok = s == 200 and h.get("content-type", "").startswith("application/json")
    if ok:
        doc = json.loads(b)
        ok = doc["data"] == [{"tenant": "globex", "ts": doc["data"][0]["ts"],
                              "labels": {"job": "api", "i": "2"}, "v": 3}] \
            and [m["type"] for m in doc["meta"]] == ["String", "DateTime64(3)",
                                                     "Map(LowCardinality(String), String)", "Float64"]
    check("SELECT {tenant:String} via multipart form, JSON", ok, (s, h, b[:300]))

    s, h, b = c.multipart("SELECT count() FROM samples WHERE tenant = {t:String} AND v > {min:Float64}",
                          {"t": "acme", "min": "0.5"}, {"default_format": "RowBinary"})
    check("multipart with two params, RowBinary count",
          s == 200 and len(b) == 8 and struct.unpack("<Q", b)[0] == 1001, (s, b))
    s, h, b = c.post("SELECT {s:String}", {"param_s": "a\\tb"})
    check("param values use ClickHouse escaping", (s, b) == (200, b"a\\tb\n"), (s, b))
    s, h, b = c.post("SELECT 1 AS x FORMAT JSONEachRow")
    check("FORMAT clause wins and sets headers", s == 200 and b == b'{"x":1}\n'
          and h.get("x-clickhouse-format") == "JSONEachRow", (s, h, b))
    s, h, b = c.request("GET", {"query": "SELECT count() FROM samples", "default_format": "JSONCompact"})
    check("GET with query in URL", s == 200 and json.loads(b)["data"] in ([[1007]], [["1007"]]), (s, b))

    # Errors
    s, h, b = c.post("SELEC 1")
    check("syntax error: 400, code 62", s == 400 and h.get("x-clickhouse-exception-code") == "62"
          and b.startswith(b"Code: 62. DB::Exception: Syntax error") and b"(SYNTAX_ERROR)" in b, (s, h, b[:200]))
    s, h, b = c.post("SELECT * FROM missing_table")
    check("unknown table: 404, code 60", s == 404 and h.get("x-clickhouse-exception-code") == "60"
          and b.startswith(b"Code: 60. DB::Exception:") and b"(UNKNOWN_TABLE)" in b, (s, h, b))
    s, h, b = c.post("SELECT 1; SELECT 2")
    check("multi-statements are refused", s == 400 and b"Multi-statements" in b, (s, b))
    s, h, b = c.post("SELECT {x:String}")
    check("missing parameter: code 456", s == 500 and h.get("x-clickhouse-exception-code") == "456", (s, b))
    s, h, b = c.post("SELECT 1", {"no_such_setting": "1"})
    check("unknown URL setting: 404, code 115", s == 404 and h.get("x-clickhouse-exception-code") == "115",
          (s, b))
    s, h, b = c.request("GET", {"query": "DROP TABLE samples"})
    check("GET is read-only (code 164)", s == 500 and h.get("x-clickhouse-exception-code") == "164", (s, b))
    s, h, b = c.post("SELECT 1", {"compress": "1"})
    check("compress=1 is refused", s == 501, (s, b))
    s, h, b = c.post(b"\xff\xfe")
    check("garbage body does not crash", s in (400, 500) and b.startswith(b"Code: "), (s, b))
    s, h, b = c.post("SELECT 1")
    check("server still answers after errors", (s, b) == (200, b"1\n"), (s, b))

    # Settings isolation
    s, h, b = c.post("SELECT number FROM numbers(10)",
                     {"max_result_rows": "2", "result_overflow_mode": "throw"})
    check("URL settings apply to their request", s != 200 and b"TOO_MANY_ROWS" in b, (s, b[:200]))
    s, h, b = c.post("SELECT count() FROM (SELECT number FROM numbers(10))")
    s2, h2, b2 = c.post("SELECT number FROM numbers(10)")
    check("... and not to the next", s2 == 200 and b2.count(b"\n") == 10, (s2, b2))
    s, h, before = c.post("SELECT getSetting('max_threads'), getSetting('max_block_size')")
    s, h, b = c.post("SET max_block_size = 7")
    s2, h2, after = c.post("SELECT getSetting('max_threads'), getSetting('max_block_size')")
    check("a SET statement lasts for its own request only", s == 200 and before == after, (before, after))
    s, h, b = c.post("SELECT getSetting('date_time_input_format')", {"date_time_input_format": "basic"})
    s2, h2, b2 = c.post("SELECT getSetting('date_time_input_format')")
    check("date_time_input_format per request", (b, b2) == (b"basic\n", b"best_effort\n"), (b, b2))

    # Deduplication token
    dq = {"query": "INSERT INTO samples FORMAT RowBinary", "insert_deduplication_token": "tok-1"}
    dedup_rows = b"".join(rb_row("dedup", now_ms + i, {}, float(i)) for i in range(5))
    c.request("POST", dq, dedup_rows)
    c.request("POST", dq, dedup_rows)
    s, h, b = c.post("SELECT count() FROM samples WHERE tenant = 'dedup'")
    check("insert_deduplication_token deduplicates a retried insert", b == b"5\n", b)

    # database parameter
    c.post("CREATE DATABASE IF NOT EXISTS other")
    s, h, b = c.post("CREATE TABLE t (x UInt8) ENGINE = MergeTree ORDER BY x", {"database": "other"})
    s, h, b = c.request("POST", {"query": "INSERT INTO t FORMAT RowBinary", "database": "other"}, b"\x01\x02")
    s, h, b = c.post("SELECT sum(x), currentDatabase() FROM t", {"database": "other"})
    s2, h2, b2 = c.post("SELECT currentDatabase()")
    check("database parameter", (b, b2) == (b"3\tother\n", b"default\n"), (b, b2))
    s, h, b = c.post("SELECT 1", {"database": "nope"})
    check("unknown database: 404, code 81", s == 404 and h.get("x-clickhouse-exception-code") == "81", (s, b))

    # Concurrent clients
    errors = []

    def worker(i):
        cc = Client(port)
        for _ in range(20):
            s, h, b = cc.post("SELECT count() FROM samples WHERE tenant = {t:String}",
                              {"param_t": "acme"})
            if (s, b) != (200, b"1002\n"):
                errors.append((s, b))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check("8 concurrent clients x 20 queries", not errors, errors[:3])


def persistence_check(now_ms):
    with tempfile.TemporaryDirectory() as d:
        p, port = start(d)
        c = Client(port)
        c.post("CREATE TABLE kept (x UInt64) ENGINE = MergeTree ORDER BY x")
        c.request("POST", {"query": "INSERT INTO kept FORMAT RowBinary"}, struct.pack("<QQ", 1, 2))
        stop(p)
        p, port = start(d)
        c = Client(port)
        s, h, b = c.post("SELECT count() FROM kept")
        stop(p)
        check("--data-dir keeps tables across restarts", (s, b) == (200, b"2\n"), (s, b))


if __name__ == "__main__":
    main()
