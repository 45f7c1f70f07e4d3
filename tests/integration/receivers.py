"""Small stand-ins for the servers the HTTP sinks talk to: Elasticsearch's _bulk API, Grafana
Loki's push API and a plain NDJSON endpoint. Debian packages neither Elasticsearch nor Loki, so
the tests run against these: each follows the public API documentation to the letter where the
sink depends on it (request format, gzip request bodies, status codes, per-item bulk results,
filter_path) and can be told to fail the way real servers do: 503 for a while, 429 with
Retry-After, bulk responses with errors:true and mixed item statuses, connection resets, stalls.
Standard library only.

  https://www.elastic.co/guide/en/elasticsearch/reference/current/docs-bulk.html
  https://www.elastic.co/guide/en/elasticsearch/reference/current/common-options.html#common-options-response-filtering
  https://grafana.com/docs/loki/latest/reference/loki-http-api/#ingest-logs
"""

import gzip
import hashlib
import json
import re
import socket
import ssl
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Faults:
    """How the receiver misbehaves; the test changes these while the collector runs. Every
    counter of requests refers to requests that reach the handler."""

    def __init__(self):
        self.lock = threading.Lock()
        self.unavailable_until = 0.0  # time.monotonic(): 503 until then
        self.too_many = 0             # the next N requests: 429 with Retry-After
        self.retry_after = "1"
        self.reset_every = 0          # every Nth request: stored, then the connection reset
        self.stall = 0                # the next N requests: stored, answered after stall_s
        self.stall_s = 0.0
        self.mixed = False            # bulk items: some 429 on first sight, some 400 always
        self.requests = 0

    def pick(self):
        """The fault for the next request: None, 503, 429, 'reset' or 'stall'."""
        with self.lock:
            self.requests += 1
            if time.monotonic() < self.unavailable_until:
                return 503
            if self.too_many:
                self.too_many -= 1
                return 429
            if self.stall:
                self.stall -= 1
                return "stall"
            if self.reset_every and self.requests % self.reset_every == 0:
                return "reset"
            return None


def rejected_by_mixed(doc_id):
    """Items a mixed-mode receiver refuses for good (400), whatever happens: about 1 in 40."""
    return int(doc_id[:8], 16) % 40 == 0


def stored_by_mixed(doc_id):
    """Items a mixed-mode receiver holds before they are first sent, as if an earlier request
    had stored them and its answer was lost: 409 on first sight. About 1 in 11."""
    return int(doc_id[16:24], 16) % 11 == 0


def busy_by_mixed(doc_id):
    """Items a mixed-mode receiver answers 429 the first time it sees them: about 1 in 7."""
    return int(doc_id[8:16], 16) % 7 == 0


class Receiver(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler, port=0, tls=None):
        """tls: (certificate file, key file) to serve HTTPS."""
        super().__init__(("127.0.0.1", port), handler)
        self.tls = tls
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.socket = ctx.wrap_socket(self.socket, server_side=True)
        self.faults = Faults()
        self.lock = threading.Lock()
        self.errors = []          # API violations the sink made: the test fails on any
        self.headers_seen = []    # request headers, one dict per request
        self.gzip_requests = 0
        self.plain_requests = 0
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self):
        return self.server_address[1]

    @property
    def url(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.shutdown()
        self.server_close()

    def violation(self, msg):
        with self.lock:
            self.errors.append(msg)


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, as the real servers speak it."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", ctype="application/json", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if status != 204:
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 204:
            self.wfile.write(body)

    def reset(self):
        """Closes with an RST, as a crashed server or a load balancer would."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def read_body(self):
        """The request body, gzip-decoded as the servers do for Content-Encoding: gzip."""
        srv = self.server
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with srv.lock:
            srv.headers_seen.append(dict(self.headers.items()))
        enc = self.headers.get("Content-Encoding", "")
        if enc == "gzip":
            with srv.lock:
                srv.gzip_requests += 1
            return gzip.decompress(raw)
        if enc:
            srv.violation(f"Content-Encoding {enc!r}")
        with srv.lock:
            srv.plain_requests += 1
        return raw

    def do_POST(self):
        body = self.read_body()
        fault = self.server.faults.pick()
        if fault in (503, 429):
            err = {"error": {"type": "es_rejected_execution_exception" if fault == 429 else
                             "unavailable", "reason": "try later"}, "status": fault}
            hdrs = [("Retry-After", self.server.faults.retry_after)] if fault == 429 else []
            return self.reply(fault, json.dumps(err).encode(), headers=hdrs)
        status, out, ctype = self.handle_request(urlsplit(self.path), body)
        if fault == "reset":
            return self.reset()
        if fault == "stall":
            time.sleep(self.server.faults.stall_s)
        try:
            self.reply(status, out, ctype)
        except OSError:
            pass  # the client gave up during the stall


# ---- Elasticsearch ---------------------------------------------------------------------------

INDEX_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def filter_path(obj, patterns):
    """Elasticsearch's response filtering: keep only what the dotted paths (* for any key) name;
    objects and arrays left empty go."""
    def keep(o, paths):
        if any(not p for p in paths):
            return o
        if isinstance(o, list):
            kept = [x for x in (keep(x, paths) for x in o) if x is not None]
            return kept or None
        if not isinstance(o, dict):
            return None
        out = {}
        for k, v in o.items():
            sub = [p[1:] for p in paths if p[0] in ("*", k)]
            if sub:
                v = keep(v, sub)
                if v is not None:
                    out[k] = v
        return out or None

    return keep(obj, [p.split(".") for p in patterns]) or {}


class ElasticsearchHandler(Handler):
    def handle_request(self, url, body):
        srv = self.server
        if url.path != "/_bulk":
            return 404, b'{"error":"no handler"}', "application/json"
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
        if ctype not in ("application/json", "application/x-ndjson"):
            srv.violation(f"bulk Content-Type {ctype!r}")
            return 406, b'{"error":"Content-Type not supported"}', "application/json"
        if not body.endswith(b"\n"):
            srv.violation("bulk body without the trailing newline")
            return 400, b'{"error":"The bulk request must be terminated by a newline [\\\\n]"}', \
                "application/json"
        lines = body.split(b"\n")[:-1]
        if len(lines) % 2:
            srv.violation("bulk body with an odd number of lines")
            return 400, b'{"error":"malformed bulk"}', "application/json"
        items, errors = [], False
        for action_line, source in zip(lines[0::2], lines[1::2]):
            item = self.bulk_item(json.loads(action_line), source)
            errors |= item["status"] >= 300
            items.append({"create": item})
        with srv.lock:
            srv.item_statuses.append({i["create"]["status"] for i in items})
        resp = {"took": 3, "errors": errors, "items": items}
        fp = parse_qs(url.query).get("filter_path")
        if fp:
            resp = filter_path(resp, fp[0].split(","))
        return 200, json.dumps(resp).encode(), "application/json"

    def bulk_item(self, action, source):
        srv = self.server
        if list(action) != ["create"]:
            srv.violation(f"bulk action {list(action)} (create expected)")
        meta = action.get("create", {})
        index, doc_id = meta.get("_index", ""), meta.get("_id", "")
        if not INDEX_NAME.match(index) or not re.match(r"^[0-9a-f]{40}$", doc_id):
            srv.violation(f"bulk metadata {meta}")
        if hashlib.sha1(source + b"\n").hexdigest() != doc_id:
            srv.violation(f"_id {doc_id} is not the SHA-1 of the event")
        base = {"_index": index, "_id": doc_id}
        try:
            json.loads(source)
        except ValueError:
            return {**base, "status": 400, "error": {"type": "document_parsing_exception"}}
        with srv.lock:
            if srv.faults.mixed and rejected_by_mixed(doc_id):
                return {**base, "status": 400, "error": {
                    "type": "mapper_parsing_exception",
                    "reason": "failed to parse field [status] of type [long]"}}
            if srv.faults.mixed and busy_by_mixed(doc_id) and doc_id not in srv.busy_seen:
                srv.busy_seen.add(doc_id)
                return {**base, "status": 429, "error": {
                    "type": "es_rejected_execution_exception", "reason": "queue full"}}
            key = (index, doc_id)
            if srv.faults.mixed and stored_by_mixed(doc_id):
                srv.docs.setdefault(key, source)
            if key in srv.docs:
                srv.conflicts += 1
                return {**base, "status": 409, "error": {
                    "type": "version_conflict_engine_exception",
                    "reason": f"[{doc_id}]: version conflict, document already exists"}}
            srv.docs[key] = source
            srv.creates += 1
        return {**base, "result": "created", "status": 201, "_version": 1}


class Elasticsearch(Receiver):
    def __init__(self, port=0, tls=None):
        super().__init__(ElasticsearchHandler, port, tls)
        self.docs = {}          # (index, _id) -> source bytes: the index
        self.busy_seen = set()
        self.item_statuses = []  # the set of item statuses of each bulk answer
        self.creates = 0
        self.conflicts = 0

    def sources(self):
        with self.lock:
            return list(self.docs.values())


# ---- Loki ------------------------------------------------------------------------------------

LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class LokiHandler(Handler):
    def handle_request(self, url, body):
        srv = self.server
        if url.path != "/loki/api/v1/push":
            return 404, b"404 page not found\n", "text/plain"
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
        if ctype != "application/json":  # anything else is taken as protobuf
            srv.violation(f"push Content-Type {ctype!r}")
            return 400, b"unsupported Content-Type\n", "text/plain"
        try:
            push = json.loads(body)
            streams = push["streams"]
        except (ValueError, KeyError, TypeError):
            srv.violation("push body is not {\"streams\": [...]}")
            return 400, b"error parsing push request\n", "text/plain"
        for st in streams:
            labels, values = st.get("stream"), st.get("values")
            if not isinstance(labels, dict) or not labels or not isinstance(values, list):
                srv.violation(f"stream without labels or values: {str(st)[:200]}")
                return 400, b"error at least one label pair is required per stream\n", \
                    "text/plain"
            for k, v in labels.items():
                if not LABEL_NAME.match(k) or not isinstance(v, str):
                    srv.violation(f"label {k}={v!r}")
            key = tuple(sorted(labels.items()))
            last = -1
            for entry in values:
                if (not isinstance(entry, list) or len(entry) not in (2, 3)
                        or not isinstance(entry[0], str) or not entry[0].isdigit()
                        or not isinstance(entry[1], str)):
                    srv.violation(f"entry {str(entry)[:200]}")
                    return 400, b"error parsing entry\n", "text/plain"
                ts = int(entry[0])
                if ts < last:
                    srv.violation(f"stream {key}: entries out of time order")
                last = ts
                with srv.lock:
                    srv.pushed += 1
                    # Loki drops an entry equal to one it has (same stream, time and line).
                    if (key, ts, entry[1]) in srv.entries:
                        srv.duplicates += 1
                    else:
                        srv.entries[(key, ts, entry[1])] = True
        return 204, b"", "text/plain"


class Loki(Receiver):
    def __init__(self, port=0):
        super().__init__(LokiHandler, port)
        self.entries = {}  # (labels, ts, line) -> True
        self.pushed = 0
        self.duplicates = 0

    def lines(self):
        with self.lock:
            return [(dict(k[0]), k[1], k[2]) for k in self.entries]


# ---- plain NDJSON ----------------------------------------------------------------------------

class NdjsonHandler(Handler):
    def handle_request(self, url, body):
        srv = self.server
        if body and not body.endswith(b"\n"):
            srv.violation("NDJSON body without a final newline")
        with srv.lock:
            srv.lines.extend(body.splitlines(keepends=True))
        return 200, b"ok\n", "text/plain"


class Ndjson(Receiver):
    def __init__(self, port=0, tls=None):
        super().__init__(NdjsonHandler, port, tls)
        self.lines = []
