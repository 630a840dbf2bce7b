#!/usr/bin/env python3
"""Test-only ClickHouse HTTP interface served by chDB (ClickHouse's engine in-process).

Usage: python3 scripts/clickhouse_test_server.py PORT [--data-dir DIR] [--log]

Binds 127.0.0.1:PORT (PORT 0 picks a free port) and prints
`ready on 127.0.0.1:PORT` to stderr once it accepts connections. Without
--data-dir the tables live in a temporary directory removed at exit.

It speaks the subset of ClickHouse's HTTP interface that the Rust `clickhouse`
crate and curl use:

* `GET /ping` and `GET /` (no query) answer `Ok.`.
* The query comes from the URL `query` parameter followed by a newline and the
  request body (ClickHouse's own rule), from the body alone, or from the
  `query` parts of a `multipart/form-data` body.
* `param_<name>` URL parameters and form parts are server-side query
  parameters (`{name:Type}` placeholders); `database` (or the
  `X-ClickHouse-Database` header) picks the current database;
  `default_format` (or the `X-ClickHouse-Format` header) the output format when
  the query has no FORMAT clause (TabSeparated otherwise). Every other
  parameter is a ClickHouse setting for this one request, except the
  parameters ClickHouse's HTTP handler itself reserves (user, password,
  query_id, session_id, wait_end_of_query, ...), which are accepted and
  ignored. Credentials are never checked.
* `INSERT ... FORMAT X` with the rows as the data that follows the query (in
  practice the request body, plain or chunked, or gzip/deflate by
  Content-Encoding) is loaded with `INSERT ... FROM INFILE '<tmp>' FORMAT X`.
* One statement per request; GET requests are read-only, as in ClickHouse.
* Errors: non-200 status chosen as ClickHouse's HTTP handler does, body
  `Code: N. DB::Exception: ... (NAME) (version ...)`, header
  `X-ClickHouse-Exception-Code: N`.

Known differences from a real server: results are buffered, not streamed;
all requests share one chDB session, so `session_id` is ignored and a
temporary table outlives its request; no external data, native
(`compress`/`decompress`) compression or response compression; no progress
headers; `X-ClickHouse-Summary` carries chDB's read/written counters only;
`readonly` is emulated by statement kind, not enforced by the engine.
"""

import argparse
import gzip
import http.server
import json
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
import zlib
from email import policy
from email.parser import BytesParser

try:
    from chdb import session as chdb_session
except ImportError:  # pragma: no cover - reported to the user at start
    sys.stderr.write(
        "clickhouse_test_server: the Python package chdb-core is not installed "
        "(scripts/clickhouse-test-server installs it)\n"
    )
    sys.exit(2)


# --------------------------------------------------------------------------
# Error codes and HTTP status mapping (ClickHouse's exceptionCodeToHTTPStatus).

CODES = {
    "BAD_ARGUMENTS": 36,
    "NOT_IMPLEMENTED": 48,
    "SYNTAX_ERROR": 62,
    "UNKNOWN_TYPE_OF_QUERY": 78,
    "UNKNOWN_COMPRESSION_METHOD": 89,
    "READONLY": 164,
    "INTO_OUTFILE_NOT_ALLOWED": 358,
    "HTTP_LENGTH_REQUIRED": 381,
    "CANNOT_DECOMPRESS": 271,
    "UNKNOWN_EXCEPTION": 1002,
}

STATUS_BY_NAME = {}
for _name in (
    "BAD_ARGUMENTS CANNOT_COMPILE_REGEXP CANNOT_PARSE_TEXT CANNOT_PARSE_ESCAPE_SEQUENCE "
    "CANNOT_PARSE_QUOTED_STRING CANNOT_PARSE_DATE CANNOT_PARSE_DATETIME CANNOT_PARSE_NUMBER "
    "CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING CANNOT_PARSE_IPV4 CANNOT_PARSE_IPV6 "
    "CANNOT_PARSE_INPUT_ASSERTION_FAILED CANNOT_PARSE_UUID DUPLICATE_COLUMN ILLEGAL_COLUMN "
    "UNKNOWN_ELEMENT_IN_AST UNKNOWN_TYPE_OF_AST_NODE THERE_IS_NO_COLUMN TOO_DEEP_AST TOO_BIG_AST "
    "UNEXPECTED_AST_STRUCTURE SYNTAX_ERROR INCORRECT_DATA TYPE_MISMATCH "
    "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE"
).split():
    STATUS_BY_NAME[_name] = 400
for _name in (
    "UNKNOWN_TABLE UNKNOWN_FUNCTION UNKNOWN_IDENTIFIER UNKNOWN_TYPE UNKNOWN_STORAGE "
    "UNKNOWN_DATABASE UNKNOWN_SETTING UNKNOWN_DIRECTION_OF_SORTING UNKNOWN_AGGREGATE_FUNCTION "
    "UNKNOWN_FORMAT UNKNOWN_DATABASE_ENGINE UNKNOWN_TYPE_OF_QUERY UNKNOWN_ROLE"
).split():
    STATUS_BY_NAME[_name] = 404
STATUS_BY_NAME.update(
    {
        "REQUIRED_PASSWORD": 401,
        "UNKNOWN_USER": 403,
        "WRONG_PASSWORD": 403,
        "AUTHENTICATION_FAILED": 403,
        "SET_NON_GRANTED_ROLE": 403,
        "ACCESS_DENIED": 403,
        "QUERY_IS_TOO_LARGE": 413,
        "NOT_IMPLEMENTED": 501,
        "SOCKET_TIMEOUT": 503,
        "CANNOT_OPEN_FILE": 503,
        "CANNOT_SCHEDULE_TASK": 503,
        "HTTP_LENGTH_REQUIRED": 411,
        "TIMEOUT_EXCEEDED": 408,
        "UNSUPPORTED_MEDIA_TYPE": 415,
    }
)
# Used when a message carries a code but no name.
STATUS_BY_CODE = {62: 400, 60: 404, 81: 404, 115: 404, 73: 404, 46: 404, 47: 404, 48: 501}

# URL parameters that ClickHouse's HTTP handler consumes itself: never settings.
RESERVED_PARAMS = {
    "compress", "decompress", "user", "password", "quota_key", "query_id", "stacktrace",
    "buffer_size", "wait_end_of_query", "session_id", "session_timeout", "session_check",
    "client_protocol_version", "close_session", "query", "database", "default_format",
    "role",
}

SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

VERSION = "26.9"  # replaced by SELECT version() at start


class CHError(Exception):
    """An error to send back as ClickHouse would."""

    def __init__(self, code, name, text):
        super().__init__(text)
        self.code = code
        self.name = name
        self.text = text

    @classmethod
    def of(cls, name, text):
        return cls(CODES.get(name, 1002), name, text)

    def status(self):
        if self.name in STATUS_BY_NAME:
            return STATUS_BY_NAME[self.name]
        return STATUS_BY_CODE.get(self.code, 500)

    def body(self):
        text = self.text.rstrip()
        if not text.endswith("."):
            text += "."
        return "Code: %d. DB::Exception: %s (%s) (version %s (official build))\n" % (
            self.code, text, self.name, VERSION)


_PREFIX = re.compile(r"^(?:Code: (\d+)\. DB::Exception: )+")
_VERSION_TAIL = re.compile(r" \(version [^()]*(?:\([^()]*\))?[^()]*\)")
_NAME_TAIL = re.compile(r"(?:\.? \(([A-Z][A-Z0-9_]*)\))+\s*$")


def error_from_chdb(exc):
    """Turns chDB's exception text (often nested) into one ClickHouse error."""
    msg = str(exc).strip()
    m = _PREFIX.match(msg)
    if not m:
        return CHError(1001, "STD_EXCEPTION", msg or exc.__class__.__name__)
    code = int(m.group(1))
    text = _VERSION_TAIL.sub("", msg[m.end():])
    name = "UNKNOWN_EXCEPTION"
    t = _NAME_TAIL.search(text)
    if t:
        name = t.group(1)
        text = text[: t.start()]
    return CHError(code, name, text)


# --------------------------------------------------------------------------
# A small ClickHouse lexer: enough to find statement boundaries, the FORMAT
# clause and where INSERT data starts. Works on text decoded as latin-1 so that
# offsets are byte offsets into the request.

_WS = " \t\n\r\f\v"
_WORD_START = re.compile(r"[A-Za-z_\x80-\xff]")
_WORD = re.compile(r"[A-Za-z0-9_$\x80-\xff]*")
_NUMBER = re.compile(r"[0-9][A-Za-z0-9_.]*(?:[eEpP][+-][0-9]+)?")
_HEREDOC = re.compile(r"\$([A-Za-z0-9_]*)\$")


def tokens(text, pos=0):
    """Yields (kind, start, end); kind is word, quoted, string, number, punct."""
    n = len(text)
    while pos < n:
        c = text[pos]
        if c in _WS:
            pos += 1
            continue
        if text.startswith("--", pos) or (c == "#" and text[pos + 1:pos + 2] in (" ", "!")):
            end = text.find("\n", pos)
            pos = n if end < 0 else end + 1
            continue
        if text.startswith("/*", pos):
            depth, pos = 1, pos + 2
            while pos < n and depth:
                if text.startswith("/*", pos):
                    depth, pos = depth + 1, pos + 2
                elif text.startswith("*/", pos):
                    depth, pos = depth - 1, pos + 2
                else:
                    pos += 1
            continue
        if c in "'`\"":
            start, pos = pos, pos + 1
            while pos < n:
                ch = text[pos]
                if ch == "\\":
                    pos += 2
                    continue
                if ch == c:
                    if text[pos + 1:pos + 2] == c:
                        pos += 2
                        continue
                    pos += 1
                    break
                pos += 1
            yield ("string" if c == "'" else "quoted"), start, min(pos, n)
            continue
        if c == "$":
            m = _HEREDOC.match(text, pos)
            if m:
                end = text.find(m.group(0), m.end())
                end = n if end < 0 else end + len(m.group(0))
                yield "string", pos, end
                pos = end
                continue
        if _WORD_START.match(c):
            end = _WORD.match(text, pos + 1).end()
            yield "word", pos, end
            pos = end
            continue
        if c.isdigit():
            end = _NUMBER.match(text, pos).end()
            yield "number", pos, end
            pos = end
            continue
        yield "punct", pos, pos + 1
        pos += 1


READ_ONLY_KINDS = {"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXISTS", "EXPLAIN", "(", "USE", "SET"}


class Statement:
    """What the adapter needs to know about one request's SQL."""

    def __init__(self):
        self.kind = None          # first keyword, upper case ("(" for a parenthesized SELECT)
        self.format = None        # FORMAT clause of a query that returns data
        self.insert_format = None # FORMAT of an INSERT whose data follows the query
        self.infile_at = None     # byte offset where FROM INFILE goes
        self.sql_end = None       # byte offset where the INSERT's SQL ends
        self.data_start = None    # byte offset where the INSERT's data starts


def _word(text, tok):
    return text[tok[1]:tok[2]].upper() if tok[0] == "word" else None


def analyze(text):
    """Parses the statement in `text` (latin-1 decoded bytes) just enough."""
    st = Statement()
    it = tokens(text)
    toks = []

    def nxt():
        tok = next(it, None)
        if tok is not None:
            toks.append(tok)
        return tok

    first = nxt()
    if first is None:
        raise CHError.of("SYNTAX_ERROR", "Empty query")
    st.kind = _word(text, first) or text[first[1]:first[2]]

    if st.kind == "INSERT":
        _analyze_insert(text, st, nxt)
        if st.data_start is not None:
            return st

    # Whole statement: check for a second statement, find FORMAT and INTO OUTFILE.
    depth = 0
    while True:
        tok = nxt()
        if tok is None:
            break
        s = text[tok[1]:tok[2]]
        if tok[0] == "punct":
            if s in "([{":
                depth += 1
            elif s in ")]}":
                depth -= 1
            elif s == ";":
                rest = nxt()
                while rest is not None and text[rest[1]:rest[2]] == ";":
                    rest = nxt()
                if rest is not None:
                    raise CHError.of(
                        "SYNTAX_ERROR",
                        "Syntax error (Multi-statements are not allowed): failed at position %d (end of query): %s"
                        % (tok[1] + 1, text[tok[1]:tok[1] + 40].encode("latin-1").decode("utf-8", "replace")),
                    )
                break
    words = [(i, _word(text, t)) for i, t in enumerate(toks) if t[0] == "word"]
    for i, w in words:
        if w == "OUTFILE" and i > 0 and _word(text, toks[i - 1]) == "INTO":
            raise CHError.of("INTO_OUTFILE_NOT_ALLOWED", "INTO OUTFILE is not allowed")
    # The output format: the last `FORMAT name` followed by the end, ';' or SETTINGS.
    for i in range(len(toks) - 2, -1, -1):
        if _word(text, toks[i]) == "FORMAT" and toks[i + 1][0] == "word":
            after = toks[i + 2] if i + 2 < len(toks) else None
            if after is None or text[after[1]:after[2]] == ";" or _word(text, after) == "SETTINGS":
                st.format = text[toks[i + 1][1]:toks[i + 1][2]]
                break
    return st


def _analyze_insert(text, st, nxt):
    """INSERT INTO [TABLE|FUNCTION] target [(cols)] [SETTINGS ...] FORMAT name <data>."""
    tok = nxt()
    if _word(text, tok or ("", 0, 0)) != "INTO":
        return
    tok = nxt()
    w = _word(text, tok or ("", 0, 0))
    is_function = False
    if w == "TABLE":
        tok = nxt()
        if _word(text, tok or ("", 0, 0)) == "FUNCTION":
            is_function = True
            tok = nxt()
    elif w == "FUNCTION":
        is_function = True
        tok = nxt()
    if tok is None or tok[0] not in ("word", "quoted"):
        return
    # target: a.b.c, or a function call
    while True:
        tok = nxt()
        if tok is None:
            return
        s = text[tok[1]:tok[2]]
        if s == ".":
            tok = nxt()
            if tok is None or tok[0] not in ("word", "quoted"):
                return
            continue
        break
    if is_function and s == "(":
        depth = 1
        while depth:
            tok = nxt()
            if tok is None:
                return
            s = text[tok[1]:tok[2]]
            depth += {"(": 1, ")": -1}.get(s, 0) if tok[0] == "punct" else 0
        tok = nxt()
        if tok is None:
            return
        s = text[tok[1]:tok[2]]
    # optional column list
    if not is_function and tok[0] == "punct" and s == "(":
        depth = 1
        while depth:
            tok = nxt()
            if tok is None:
                return
            if tok[0] == "punct":
                depth += {"(": 1, ")": -1}.get(text[tok[1]:tok[2]], 0)
        infile_at = tok[2]
        tok = nxt()
    else:
        infile_at = tok[1]
    # scan to FORMAT at depth 0, giving up on VALUES, SELECT, WITH, FROM INFILE
    depth = 0
    while tok is not None:
        w = _word(text, tok)
        if tok[0] == "punct":
            depth += {"(": 1, ")": -1}.get(text[tok[1]:tok[2]], 0)
        elif depth == 0 and w in ("VALUES", "SELECT", "WITH"):
            return
        elif depth == 0 and w == "FROM":
            raise CHError.of("UNKNOWN_TYPE_OF_QUERY", "Query has infile and was send directly to server")
        elif depth == 0 and w == "FORMAT":
            name = nxt()
            if name is None or name[0] != "word":
                return
            st.insert_format = text[name[1]:name[2]]
            st.infile_at = infile_at
            st.sql_end = name[2]
            # ClickHouse: data starts after spaces/tabs and one line break.
            p, n = name[2], len(text)
            while p < n and text[p] in " \t\f":
                p += 1
            if p < n and text[p] == "\r":
                p += 1
            if p < n and text[p] == "\n":
                p += 1
            if p < n and text[p] == ";":
                raise CHError.of(
                    "SYNTAX_ERROR",
                    "You have excessive ';' symbol before data for INSERT.",
                )
            st.data_start = p
            return
        tok = nxt()


# --------------------------------------------------------------------------
# Formats -> Content-Type (ClickHouse's getContentType of each output format).

def content_type(fmt):
    f = fmt.lower()
    if f.startswith(("rowbinary", "native", "parquet", "arrow", "orc", "avro", "msgpack",
                     "protobuf", "capnproto", "bson", "npy")):
        return "application/octet-stream"
    if f in ("json", "jsoncompact", "jsonstrings", "jsoncompactstrings", "jsoncolumns",
             "jsoncompactcolumns", "jsoncolumnswithmetadata", "jsonobjecteachrow"):
        return "application/json; charset=UTF-8"
    if f in ("jsoneachrow", "jsonlines", "ndjson", "jsonstringseachrow", "jsoncompacteachrow",
             "jsoncompactstringseachrow", "jsoneachrowwithprogress",
             "jsonstringseachrowwithprogress") or f.startswith("jsoncompacteachrowwith") \
            or f.startswith("jsoncompactstringseachrowwith"):
        return "application/x-ndjson; charset=UTF-8"
    if f.startswith(("tabseparated", "tsv")):
        return "text/tab-separated-values; charset=UTF-8"
    if f.startswith("csv"):
        return "text/csv; charset=UTF-8; header=%s" % ("present" if "names" in f else "absent")
    if f == "xml":
        return "application/xml; charset=UTF-8"
    return "text/plain; charset=UTF-8"


# --------------------------------------------------------------------------
# The engine: one chDB session, used by one request at a time.

class Engine:
    def __init__(self, data_dir, upload_dir, log):
        global VERSION
        self.session = chdb_session.Session(data_dir)
        self.lock = threading.Lock()
        self.upload_dir = upload_dir
        self.log = log
        # chDB turns on implicit_select; a server does not.
        self.session.query("SET implicit_select = 0", "TSV")
        VERSION = self._scalar("SELECT version()")
        self.timezone = self._scalar("SELECT timezone()")
        self.baseline = self._changed_settings()
        self.current_db = None

    def _scalar(self, sql):
        return self.session.query(sql, "TabSeparatedRaw").bytes().decode().strip()

    def _changed_settings(self):
        out = self.session.query(
            "SELECT name, value FROM system.settings WHERE changed", "JSONEachRow").bytes()
        rows = [json.loads(line) for line in out.splitlines() if line.strip()]
        return {r["name"]: r["value"] for r in rows if r["name"] != "database"}

    def _set(self, name, value):
        self.session.query("SET %s = %s" % (name, quote_string(value)), "TSV")

    def _reset(self, name):
        if name in self.baseline:
            self._set(name, self.baseline[name])
        else:
            self.session.query("SET %s = DEFAULT" % name, "TSV")

    def close(self):
        with self.lock:
            try:
                self.session.close()
            except Exception:
                pass

    def run(self, st, raw, database, settings, params, fmt):
        """Runs one statement; returns the chDB result. Raises CHError."""
        with self.lock:
            if self.current_db != database:
                try:
                    self.session.query("USE %s" % quote_ident(database), "TSV")
                except Exception as e:
                    self.current_db = None
                    raise error_from_chdb(e)
                self.current_db = database
            applied = []
            upload = None
            try:
                # URL settings are applied with SET on the one shared session and
                # put back right after the query (below). A SETTINGS clause
                # appended to the SQL would not work for every statement
                # (CREATE TABLE ... SETTINGS means table settings, and
                # INSERT/DESCRIBE/SYSTEM have their own placement rules).
                for name, value in settings:
                    check_dialect(name, value)
                    applied.append(name)
                    self._set(name, value)
                if st.kind == "SET":
                    m = re.search(r"\bdialect\s*=\s*'([^']*)'", raw.decode("utf-8", "replace"), re.I)
                    if m:
                        check_dialect("dialect", m.group(1))
                if st.data_start is not None:
                    fd, upload = tempfile.mkstemp(prefix="insert-", suffix=".bin", dir=self.upload_dir)
                    with os.fdopen(fd, "wb") as f:
                        f.write(memoryview(raw)[st.data_start:])
                    sql = (
                        raw[:st.infile_at].decode("utf-8")
                        + " FROM INFILE %s COMPRESSION 'none' " % quote_string(upload)
                        + raw[st.infile_at:st.sql_end].decode("utf-8")
                    )
                else:
                    sql = raw.decode("utf-8")
                if self.log:
                    sys.stderr.write("query: %s\n" % sql[:2000])
                return self.session.query(sql, fmt, params=params or None)
            except CHError:
                raise
            except UnicodeDecodeError as e:
                raise CHError.of("SYNTAX_ERROR", "The query is not valid UTF-8: %s" % e)
            except Exception as e:
                raise error_from_chdb(e)
            finally:
                if upload:
                    try:
                        os.unlink(upload)
                    except OSError:
                        pass
                for name in dict.fromkeys(applied):
                    try:
                        self._reset(name)
                    except Exception as e:
                        sys.stderr.write("clickhouse_test_server: cannot reset %s: %s\n" % (name, e))
                if st.kind in ("SET", "USE"):
                    self.current_db = None
                    try:
                        now = self._changed_settings()
                        for name in set(now) | set(self.baseline):
                            if now.get(name) != self.baseline.get(name):
                                self._reset(name)
                    except Exception as e:
                        sys.stderr.write("clickhouse_test_server: cannot restore settings: %s\n" % e)


def check_dialect(name, value):
    """Only the ClickHouse dialect: under another one (PromQL, PRQL, KQL) the
    SET that puts the shared session back would not parse, and chDB 26.9's
    PromQL cannot run anyway (it needs ANTLR4, which chDB leaves out)."""
    if name.lower() == "dialect" and value.lower() != "clickhouse":
        raise CHError.of(
            "BAD_ARGUMENTS",
            "The test server runs only the clickhouse dialect, not %r "
            "(chDB's PromQL needs ANTLR4 support, which chDB leaves out)" % value)


def quote_string(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quote_ident(s):
    return "`" + s.replace("\\", "\\\\").replace("`", "\\`") + "`"


# --------------------------------------------------------------------------
# HTTP

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    engine = None  # set by main()

    def version_string(self):
        return "ClickHouse"

    def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler's name
        if self.engine.log:
            sys.stderr.write("%s %s\n" % (self.address_string(), format % args))

    # ---- body

    def _read_body(self):
        te = self.headers.get("Transfer-Encoding", "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise CHError.of("BAD_ARGUMENTS", "Unexpected end of chunked request body")
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise CHError.of("BAD_ARGUMENTS", "Invalid chunk size in request body")
                if size == 0:
                    while True:  # trailers
                        line = self.rfile.readline(65537)
                        if line in (b"\r\n", b"\n", b""):
                            break
                    break
                data = self.rfile.read(size)
                if len(data) != size:
                    raise CHError.of("BAD_ARGUMENTS", "Unexpected end of chunked request body")
                chunks.append(data)
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = self.headers.get("Content-Length")
        if length is None:
            if self.command == "POST":
                self.close_connection = True
                raise CHError.of(
                    "HTTP_LENGTH_REQUIRED",
                    "The Transfer-Encoding is not chunked and there is no Content-Length header for POST request",
                )
            return b""
        try:
            n = int(length)
        except ValueError:
            self.close_connection = True
            raise CHError.of("BAD_ARGUMENTS", "Invalid Content-Length")
        return self.rfile.read(n) if n > 0 else b""

    def _decode_body(self, body):
        enc = self.headers.get("Content-Encoding", "").strip().lower()
        if enc in ("", "identity", "none"):
            return body
        if enc in ("gzip", "x-gzip", "deflate"):
            try:
                if enc == "deflate":
                    try:
                        return zlib.decompress(body)
                    except zlib.error:
                        return zlib.decompress(body, -zlib.MAX_WBITS)
                return gzip.decompress(body)
            except Exception as e:
                raise CHError.of("CANNOT_DECOMPRESS", "Cannot decompress %s request body: %s" % (enc, e))
        raise CHError.of(
            "NOT_IMPLEMENTED",
            "Content-Encoding %s is not supported by this test server (only gzip and deflate); "
            "send the request body uncompressed" % enc,
        )

    # ---- responses

    def _send(self, status, body, headers=()):
        self.send_response(status)
        sent = set()
        for k, v in headers:
            self.send_header(k, v)
            sent.add(k.lower())
        if "content-type" not in sent:
            self.send_header("Content-Type", "text/plain; charset=UTF-8")
        self.send_header("X-ClickHouse-Server-Display-Name", socket.gethostname())
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        else:
            self.send_header("Keep-Alive", "timeout=10")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_error(self, err, query_id=None):
        headers = [("X-ClickHouse-Exception-Code", str(err.code))]
        if query_id:
            headers.append(("X-ClickHouse-Query-Id", query_id))
        if self.engine.log:
            sys.stderr.write("error: %s" % err.body())
        self._send(err.status(), err.body().encode("utf-8"), headers)

    # ---- methods

    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def do_HEAD(self):
        self._handle()

    def do_OPTIONS(self):
        self._send(204, b"", [("Allow", "GET, POST, HEAD, OPTIONS")])

    def _handle(self):
        query_id = None
        try:
            url = urllib.parse.urlsplit(self.path)
            try:
                body = self._read_body()
            except CHError as e:
                self.close_connection = True
                raise e
            path = url.path.rstrip("/") or "/"
            if path in ("/ping", "/replicas_status"):
                self._send(200, b"Ok.\n")
                return
            params = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
            query_id = dict(params).get("query_id") or self.headers.get("X-ClickHouse-Query-Id") \
                or str(uuid.uuid4())
            ctype = self.headers.get("Content-Type", "")
            multipart = ctype.lower().startswith("multipart/form-data")
            body = self._decode_body(body)
            if multipart:
                form = parse_multipart(ctype, body)
                params = params + form
                raw = "".join(v for k, v in params if k == "query").encode("utf-8")
            else:
                q = dict(params).get("query", "")
                raw = (q.encode("utf-8") + b"\n" if q else b"") + body
            if not raw.strip() and self.command in ("GET", "HEAD") and "query" not in dict(params):
                self._send(200, b"Ok.\n")
                return
            self._execute(params, raw, multipart, query_id)
        except CHError as e:
            self._send_error(e, query_id)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:  # never let one request take the server down
            self._send_error(CHError(1001, "STD_EXCEPTION", "%s: %s" % (e.__class__.__name__, e)), query_id)

    def _execute(self, params, raw, multipart, query_id):
        database = self.headers.get("X-ClickHouse-Database") or ""
        default_format = self.headers.get("X-ClickHouse-Format") or ""
        settings, qparams = [], {}
        for k, v in params:
            if k == "database":
                database = database or v
            elif k == "default_format":
                default_format = default_format or v
            elif k.startswith("param_"):
                qparams.setdefault(k[len("param_"):], v)
            elif k in RESERVED_PARAMS or not k:
                if k in ("compress", "decompress") and v not in ("", "0", "false"):
                    raise CHError.of(
                        "NOT_IMPLEMENTED",
                        "The '%s' parameter (ClickHouse native compression) is not supported by this "
                        "test server" % k,
                    )
            elif multipart and k.endswith(("_format", "_types", "_structure")):
                pass
            else:
                settings.append((k, v))
        database = database or "default"

        readonly = 0
        rest = []
        for k, v in settings:
            if not SETTING_NAME.match(k):
                raise CHError(115, "UNKNOWN_SETTING", "Unknown setting '%s'" % k)
            if k == "readonly":
                try:
                    readonly = int(v)
                except ValueError:
                    raise CHError.of("BAD_ARGUMENTS", "Cannot parse readonly value '%s'" % v)
            else:
                rest.append((k, v))
        settings = rest
        if self.command in ("GET", "HEAD") and readonly == 0:
            readonly = 2
        if readonly == 1 and settings:
            raise CHError.of("READONLY", "Cannot modify '%s' setting in readonly mode" % settings[0][0])

        st = analyze(raw.decode("latin-1"))
        if readonly and (st.kind not in READ_ONLY_KINDS or (readonly == 1 and st.kind == "SET")):
            raise CHError.of(
                "READONLY",
                "Cannot execute query in readonly mode. For queries over HTTP, method GET implies "
                "readonly. You should use method POST for modifying queries",
            )
        if st.kind == "SET" and re.search(rb"(?i)\breadonly\b", raw):
            # A SET lasts for its own request only; readonly would lock the shared session.
            self._send(200, b"", [("X-ClickHouse-Query-Id", query_id)])
            return

        fmt = st.format or default_format or "TabSeparated"
        started = time.monotonic()
        result = self.engine.run(st, raw, database, settings, qparams, fmt)
        elapsed_ns = int((time.monotonic() - started) * 1e9)
        out = result.bytes() or b""
        summary = {
            "read_rows": str(result.rows_read()),
            "read_bytes": str(result.bytes_read()),
            "written_rows": str(result.rows_written()),
            "written_bytes": str(result.bytes_written()),
            "total_rows_to_read": "0",
            "result_rows": "0",
            "result_bytes": str(len(out)),
            "elapsed_ns": str(elapsed_ns),
        }
        headers = [
            ("X-ClickHouse-Query-Id", query_id),
            ("X-ClickHouse-Summary", json.dumps(summary, separators=(",", ":"))),
        ]
        if st.kind in READ_ONLY_KINDS - {"USE", "SET"} or out:
            headers += [
                ("Content-Type", content_type(fmt)),
                ("X-ClickHouse-Format", fmt),
                ("X-ClickHouse-Timezone", self.engine.timezone),
            ]
        self._send(200, out, headers)


def parse_multipart(ctype, body):
    """Returns the form fields of a multipart/form-data body as (name, value) pairs."""
    msg = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + body)
    if not msg.is_multipart():
        raise CHError.of("BAD_ARGUMENTS", "Cannot parse multipart/form-data request body")
    fields = []
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name is None:
            continue
        if part.get_filename() is not None:
            raise CHError.of(
                "NOT_IMPLEMENTED",
                "External data (file part '%s') is not supported by this test server" % name,
            )
        value = part.get_payload(decode=True) or b""
        fields.append((name, value.decode("utf-8", "replace")))
    return fields


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description="ClickHouse HTTP interface over chDB, for tests")
    ap.add_argument("port", type=int)
    ap.add_argument("--data-dir", help="keep tables here (default: a temporary directory removed at exit)")
    ap.add_argument("--log", action="store_true", help="print each request and query to stderr")
    args = ap.parse_args()

    temp_root = tempfile.mkdtemp(prefix="clickhouse-test-server-")
    if args.data_dir:
        data_dir = os.path.abspath(args.data_dir)
        os.makedirs(data_dir, exist_ok=True)
    else:
        data_dir = os.path.join(temp_root, "data")
    upload_dir = os.path.join(temp_root, "uploads")
    os.makedirs(upload_dir, exist_ok=True)

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    engine = None
    httpd = None
    stopped = False
    try:
        engine = Engine(data_dir, upload_dir, args.log)
        Handler.engine = engine
        httpd = Server(("127.0.0.1", args.port), Handler)
        sys.stderr.write("ready on 127.0.0.1:%d\n" % httpd.server_address[1])
        sys.stderr.flush()
        httpd.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        stopped = True
    finally:
        if httpd is not None:
            httpd.server_close()
        if engine is not None:
            engine.close()
        shutil.rmtree(temp_root, ignore_errors=True)
    if stopped:
        # The session is closed and every statement was committed when it
        # answered: exit without chDB's exit-time teardown, after which a
        # recreated tmp/ was once seen under the removed temporary directory.
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
