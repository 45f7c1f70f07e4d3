"""Shared pieces of the integration tests: the collector binary under test, real servers (nginx),
network namespaces, and the schema check every event goes through.

Tests run as root against real programs. Everything a test starts (processes, namespaces, files)
is registered with `cleanup` and torn down at exit, pass or fail. Nothing here sleeps to
synchronise: `wait_for` polls for the condition that matters."""

import atexit
import glob
import json
import os
import signal
import subprocess
import sys
import threading

from jsonschema import Draft202012Validator, FormatChecker, RefResolver

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
# Re-exported for the tests: one import line each.
from l7common import cleanup, free_port, tmpdir, wait_for, wait_listening  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BINARY = os.environ.get("L7COLLECT", os.path.join(ROOT, "build", "l7collect"))
SCHEMA_DIR = os.environ.get("L7_SCHEMA_DIR", os.path.join(ROOT, "schemas"))


def require_root():
    if os.geteuid() != 0:
        print("skipped: this test needs root")
        sys.exit(77)


atexit.register(cleanup.run)
for _sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(_sig, lambda *_: sys.exit(1))


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


# ---- schemas ---------------------------------------------------------------------------------

def _validator():
    store = {}
    for path in glob.glob(os.path.join(SCHEMA_DIR, "*.schema.json")):
        with open(path) as f:
            schema = json.load(f)
        Draft202012Validator.check_schema(schema)
        store[schema["$id"]] = schema
    root = store["https://l7collect.dev/schemas/event.schema.json"]
    return Draft202012Validator(root, resolver=RefResolver.from_schema(root, store=store),
                                format_checker=FormatChecker())


VALIDATOR = _validator()


def validate(event):
    errors = sorted(VALIDATOR.iter_errors(event), key=lambda e: list(e.path))
    if errors:
        details = "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5])
        raise AssertionError(f"event does not match schemas/: {details}\n{json.dumps(event)}")


def _self_test_validator():
    """The schema check must be able to fail, or every test that relies on it proves nothing."""
    bad = {"event": {"dataset": "http"}, "http": {}}
    check(any(True for _ in VALIDATOR.iter_errors(bad)), "the validator accepted a bogus event")


_self_test_validator()


# ---- the collector ---------------------------------------------------------------------------

class Lines:
    """Bytes as they come, split into whole lines appended to a list; a line's start waits for
    its end, and end() appends a last line cut short (events() then says so)."""

    def __init__(self, out):
        self.out = out
        self.rest = b""

    def feed(self, chunk):
        lines = (self.rest + chunk).split(b"\n")
        self.rest = lines.pop()
        self.out.extend(l.decode(errors="replace") + "\n" for l in lines)

    def end(self):
        if self.rest:
            self.out.append(self.rest.decode(errors="replace"))
            self.rest = b""


class Collector:
    """The real binary, with stdout (events) and stderr (logs) collected as they come. With
    stdout_file, stdout is that file rather than a pipe to this process, as in
    `l7collect > events.ndjson`: under wrk the collector writes some 200 MB/s of events, which
    a Python reader starved of CPU by nginx and wrk cannot take through a pipe, and the stdout
    sink then rightly drops (and counts) what its queue cannot hold."""

    def __init__(self, *args, netns=None, stdout_file=None):
        self.args = [BINARY, *args]
        if netns:
            self.args = ["ip", "netns", "exec", netns] + self.args
        self.stdout_file = stdout_file
        self.stdout_lines = []
        self.stderr_lines = []
        self._parsed = []  # [event, validated] per stdout line, filled by events()
        self._file_lines = Lines(self.stdout_lines)
        self._file = None  # stdout_file, open for reading where the last look stopped
        self.proc = None
        self.rc = None

    @staticmethod
    def _pump(stream, lines):
        while chunk := os.read(stream.fileno(), 1 << 20):
            lines.feed(chunk)
        lines.end()

    def _refresh(self):
        """With stdout_file: the lines written since the last look (once the collector has
        exited, its last line even if cut short)."""
        if not self._file:
            return
        self._file_lines.feed(self._file.read())
        if self.rc is not None:
            self._file_lines.end()

    def start(self, wait_ready=True):
        out = open(self.stdout_file, "wb") if self.stdout_file else subprocess.PIPE
        self.proc = subprocess.Popen(self.args, stdout=out, stderr=subprocess.PIPE)
        if self.stdout_file:
            out.close()  # the collector has its own copy
            self._file = open(self.stdout_file, "rb")
            cleanup.add(self._file.close)
        cleanup.add(self._kill)
        streams = [(self.proc.stderr, self.stderr_lines)]
        if not self.stdout_file:
            streams.append((self.proc.stdout, self.stdout_lines))
        self._threads = [threading.Thread(target=self._pump, args=(s, Lines(l)), daemon=True)
                         for s, l in streams]
        for t in self._threads:
            t.start()
        if wait_ready:
            wait_for(lambda: self.ready() or self.proc.poll() is not None, 30,
                     "the collector's ready line")
            check(self.ready(), "collector exited before ready:\n" + "".join(self.stderr_lines))
        return self

    def ready(self):
        return any(l.startswith("l7collect: ready") for l in self.stderr_lines)

    def _kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self, sig=signal.SIGINT, timeout=30):
        self.proc.send_signal(sig)
        self.rc = self.proc.wait(timeout=timeout)
        for t in self._threads:
            t.join(timeout=10)
        return self.rc

    def wait(self, timeout=60):
        self.rc = self.proc.wait(timeout=timeout)
        for t in self._threads:
            t.join(timeout=10)
        return self.rc

    def events(self, dataset=None, validate_every=1):
        """The NDJSON events written (of one dataset), validated against schemas/: all of them,
        unless a test with hundreds of thousands of alike events asks for every Nth. Lines are
        parsed and each event validated once, however often this is called."""
        self._refresh()
        while len(self._parsed) < len(self.stdout_lines):
            line = self.stdout_lines[len(self._parsed)]
            check(line.endswith("\n"), f"partial line on stdout: {line!r}")
            self._parsed.append([json.loads(line), False])
        out = []
        for i, entry in enumerate(self._parsed):
            ev = entry[0]
            if dataset is not None and ev["event"]["dataset"] != dataset:
                continue
            if not entry[1] and i % validate_every == 0:
                validate(ev)
                entry[1] = True
            out.append(ev)
        return out

    def wait_events(self, n, dataset="http", timeout=20):
        """Waits until n events of dataset have been written, while the collector runs: events
        must come out as exchanges complete, not only when it stops."""
        needle, seen, done = f'"dataset":"{dataset}"', [0], [0]

        def count():
            self._refresh()
            lines = self.stdout_lines[done[0]:]  # only what arrived since the last look
            done[0] += len(lines)
            seen[0] += sum(needle in l for l in lines)
            return seen[0] >= n
        try:
            wait_for(count, timeout, f"{n} {dataset} events on stdout")
        except TimeoutError:
            # Where the rest went: the collector's counters, from the stats event at exit.
            self.stop()
            count()
            raise AssertionError(f"{seen[0]} of {n} {dataset} events after {timeout}s; exit "
                                 f"status {self.rc}, counters at exit: {self.nonzero_counters()}")

    def nonzero_counters(self):
        """The non-zero counters of the last stats event, for a failure message."""
        try:
            stats = self.stats()
        except AssertionError as e:
            return str(e)
        return {f"{g}.{k}": v for g, c in stats.items() if isinstance(c, dict)
                for k, v in c.items() if v}

    def stats(self):
        """The counters of the last stats event (written at exit)."""
        stats = self.events("stats")
        check(stats, "no stats event was written")
        return stats[-1]["l7"]["stats"]

    def stderr(self):
        return "".join(self.stderr_lines)


def collector_exchange_check(col):
    """What every clean run must show: exit 0, and nothing lost in the kernel or the pipeline."""
    check(col.rc == 0, f"collector exit status {col.rc}:\n{col.stderr()}")
    s = col.stats()
    if "kernel" in s:
        check(s["kernel"]["ring_full"] == 0, f"ring buffer overflowed: {s['kernel']}")
    for group, counters in s.items():
        if group.startswith("sink_"):
            check(counters["dropped_queue_full"] == 0 and counters["dropped_error"] == 0,
                  f"{group} dropped events: {counters}")
    return s


# ---- servers and namespaces ------------------------------------------------------------------

NGINX_CONF = """
user root;
worker_processes 1;
daemon on;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests 1000;
    large_client_header_buffers 4 16k;
    client_max_body_size 10m;
    gzip on;
    gzip_types text/plain;
    gzip_min_length 0;
    server {{
        {listen}
        root {dir}/html;
        location = /post {{ return 201 "created\\n"; }}
        location /long {{ return 200 "long\\n"; }}
    }}
}}
"""


class Nginx:
    """A real nginx with its own prefix, config and logs; /index.html (200), /big.txt (gzip:
    chunked when the client accepts gzip), /post (201, any method), /long* (200)."""

    def __init__(self, listens, netns=None):
        self.dir = tmpdir("l7t-nginx-")
        self.netns = netns
        self.listens = listens
        os.makedirs(os.path.join(self.dir, "html"))
        with open(os.path.join(self.dir, "html", "index.html"), "w") as f:
            f.write("<html><body>hello from nginx</body></html>\n")
        with open(os.path.join(self.dir, "html", "big.txt"), "w") as f:
            f.write("".join(f"line {i} of a text that compresses\n" for i in range(4000)))
        listen = "\n        ".join(f"listen {l};" for l in listens)
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write(NGINX_CONF.format(dir=self.dir, listen=listen))

    def _cmd(self, *args):
        cmd = ["nginx", "-c", os.path.join(self.dir, "nginx.conf"), "-p", self.dir, *args]
        return ["ip", "netns", "exec", self.netns] + cmd if self.netns else cmd

    def start(self):
        run(self._cmd())
        cleanup.add(self.stop)
        host, port = self.listens[0].rsplit(":", 1)
        wait_listening(host.strip("[]"), int(port), self.netns)
        return self

    def stop(self):
        pidfile = os.path.join(self.dir, "nginx.pid")
        if os.path.exists(pidfile):
            with open(pidfile) as f:
                pid = int(f.read())
            os.kill(pid, signal.SIGTERM)
            wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 10, "nginx to stop")

    def access_log_lines(self):
        with open(os.path.join(self.dir, "access.log")) as f:
            return f.readlines()


class Netns:
    """A network namespace joined to this one by a veth pair: host side here, peer inside."""

    def __init__(self, name, host_ip, peer_ip, mtu=1500, prefix=24):
        self.name = name
        self.host_if = f"{name}-h"[:15]
        self.peer_if = f"{name}-n"[:15]
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
        run(["ip", "netns", "add", name])
        cleanup.add(subprocess.run, ["ip", "netns", "del", name])
        run(["ip", "link", "add", self.host_if, "mtu", str(mtu), "type", "veth", "peer", "name",
             self.peer_if, "mtu", str(mtu), "netns", name])
        cleanup.add(subprocess.run, ["ip", "link", "del", self.host_if])
        run(["ip", "addr", "add", f"{host_ip}/{prefix}", "dev", self.host_if])
        run(["ip", "link", "set", self.host_if, "up"])
        self.exec(["ip", "addr", "add", f"{peer_ip}/{prefix}", "dev", self.peer_if])
        self.exec(["ip", "link", "set", self.peer_if, "up"])
        self.exec(["ip", "link", "set", "lo", "up"])

    def exec(self, cmd):
        return run(["ip", "netns", "exec", self.name, *cmd])


def curl(*args):
    """Runs curl; returns the transfer details of each URL (curl's %{json})."""
    out = run(["curl", "-s", "-o", "/dev/null", "-w", "%{json}\\n", *args]).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]
