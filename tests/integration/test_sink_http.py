"""The HTTP sinks (http, elasticsearch, loki) against receivers that stand in for servers Debian
does not have: receivers.py follows the public Elasticsearch _bulk and Loki push APIs (request
format, gzip bodies, status codes, per-item bulk results, filter_path) and fails on demand.

- Healthy: 10,000 events (a generated capture read with --read) through each HTTP sink at once
  arrive exactly once, byte for byte what the stdout sink wrote, in valid bulk / push / NDJSON
  requests of at most 1,000 events, gzip-compressed; auth headers and extra headers sent,
  secrets never printed.
- Failing, each on its own receiver, at the same time: 503 for 10 s then recovery (all three
  sinks); 429 with Retry-After (honoured); bulk answers with errors:true and mixed item
  statuses (201, 409, 429, 400) plus connection resets after storing; stalls longer than the
  sink's timeout. Every event not refused with a 4xx is in the index exactly once (its _id is
  its SHA-1, so re-sent items come back 409), the refused ones are exactly the dead-letter file.
- Live: nginx and curl traffic captured while the receiver goes through those failures: the
  capture counters keep advancing in the periodic stats events, every event ends up in the index
  or the dead-letter file, the sink's counters say what happened, exit 0.
- A dead endpoint with a small queue: its drops are counted, peak memory stays that of a run
  without it, the stdout sink gets everything, and the undelivered events are reported at exit.
- TLS with a certificate made by the test: delivered with ca=, refused without it (verification
  is on by default), delivered with insecure=1 and a warning.
"""

import base64
import calendar
import hashlib
import json
import os
import struct
import subprocess
import threading
import time

from harness import (Collector, Nginx, check, cleanup, free_port, require_root, tmpdir,
                     wait_for)
import receivers

EVENTS = 10_000
FAST = "retry_min=0.2&retry_max=1&timeout=2&connect_timeout=2"
API_KEY = "l7t-secret-api-key-4f9c2e"
PASSWORD = "l7t-secret-password-81b3"


# ---- a capture with EVENTS HTTP exchanges ------------------------------------------------------

def write_pcap(path, exchanges, connections=100):
    """Ethernet/IPv4/TCP, true sequence numbers, zero checksums; exchanges spread round-robin
    over keep-alive connections, each a GET and a 200 with a small body."""
    ns = 1_700_000_000 * 1_000_000_000
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))
        seq = {}

        def segment(conn, from_client, flags, payload=b""):
            nonlocal ns
            ns += 3_000
            cport = 20000 + conn
            src, dst = ((bytes([10, 0, 0, 2]), cport), (bytes([10, 0, 0, 1]), 80))
            if not from_client:
                src, dst = dst, src
            s, a = seq[(conn, from_client)], seq[(conn, not from_client)]
            frame = struct.pack("!6s6sH" "BBHHHBBH4s4s" "HHIIBBHHH",
                                b"\x02\x00\x00\x00\x00\x01", b"\x02\x00\x00\x00\x00\x02", 0x0800,
                                0x45, 0, 40 + len(payload), 0, 0x4000, 64, 6, 0, src[0], dst[0],
                                src[1], dst[1], s, a, 5 << 4, flags, 65535, 0, 0) + payload
            f.write(struct.pack("<IIII", ns // 10**9, ns % 10**9, len(frame), len(frame)))
            f.write(frame)
            seq[(conn, from_client)] = (s + len(payload) + (1 if flags & 0x03 else 0)) & 0xFFFFFFFF

        for c in range(connections):
            seq[(c, True)], seq[(c, False)] = 1000 + c, 50000 + c
            segment(c, True, 0x02)
            segment(c, False, 0x12)
            segment(c, True, 0x10)
        for n in range(exchanges):
            c = n % connections
            body = f"item {n}\n".encode()
            segment(c, True, 0x18, f"GET /items/{n} HTTP/1.1\r\nHost: shop.test\r\n"
                    f"User-Agent: l7t\r\n\r\n".encode())
            segment(c, False, 0x18, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            segment(c, True, 0x10)
        for c in range(connections):
            segment(c, True, 0x11)
            segment(c, False, 0x11)
            segment(c, True, 0x10)


def replay(pcap, *sinks, shutdown=60, env=None, reference="stdout"):
    """--read with a stdout sink (the reference) and the given ones; returns the collector,
    finished, with its peak RSS sampled while it ran (VmHWM: getrusage would count the forked
    test process before exec)."""
    args = ["--read", pcap, "--shutdown-timeout", str(shutdown), "--sink", reference]
    for s in sinks:
        args += ["--sink", s]
    col = Collector(*args)
    if env:
        os.environ.update(env)
    col.start(wait_ready=False)
    deadline = time.monotonic() + shutdown + 60
    col.peak_rss_kb = 0
    while col.proc.poll() is None:
        check(time.monotonic() < deadline, f"collector still running: {' '.join(args)}")
        try:
            with open(f"/proc/{col.proc.pid}/status") as f:
                hwm = [l for l in f if l.startswith("VmHWM:")]
            col.peak_rss_kb = max(col.peak_rss_kb, int(hwm[0].split()[1]) if hwm else 0)
        except OSError:
            pass  # it just exited
        time.sleep(0.02)
    col.rc = col.proc.returncode
    for t in col._threads:
        t.join(timeout=10)
    return col


def reference(col):
    """The events as the stdout sink wrote them (bytes without the newline), all distinct."""
    lines = [l.rstrip("\n").encode() for l in col.stdout_lines]
    check(len(set(lines)) == len(lines), "the stdout sink wrote the same event twice")
    col.events(validate_every=100)
    return lines


def check_clean(srv, name):
    check(not srv.errors, f"{name}: the sink broke the API: {srv.errors[:5]}")
    check(srv.gzip_requests > 0 and srv.plain_requests == 0,
          f"{name}: request bodies not gzip: {srv.gzip_requests} gzip, {srv.plain_requests} plain")


def check_es(es, lines, dead_path=None, name="elasticsearch"):
    """Everything not refused is in the index once; the refused ones are the dead letters."""
    check_clean(es, name)
    refused = {l for l in lines if es.faults.mixed and
               receivers.rejected_by_mixed(hashlib.sha1(l + b"\n").hexdigest())}
    stored = es.sources()
    check(len(stored) == len(set(stored)), f"{name}: an event is in the index twice")
    missing = set(lines) - refused - set(stored)
    check(not missing, f"{name}: {len(missing)} of {len(lines)} events missing, e.g. "
          f"{next(iter(missing), b'')[:200]}")
    check(set(stored) <= set(lines), f"{name}: the index holds events stdout did not get")
    check(not (set(stored) & refused), f"{name}: refused events are in the index")
    if dead_path:
        with open(dead_path, "rb") as f:
            dead = f.read().splitlines()
        check(sorted(dead) == sorted(refused),
              f"{name}: dead letters {len(dead)}, refused {len(refused)}")
    return refused


def check_loki(loki, lines, name="loki"):
    check_clean(loki, name)
    got = loki.lines()
    check(sorted(l.encode() for _, _, l in got) == sorted(lines),
          f"{name}: {len(got)} lines stored for {len(lines)} events")
    for labels, ts, line in got:
        ev = json.loads(line)
        check(set(labels) == {"job", "host", "event_dataset"} and labels["job"] == "l7collect"
              and labels["event_dataset"] == ev["event"]["dataset"]
              and labels["host"] == ev["host"]["name"], f"{name}: labels {labels}")
        check(ev["event"]["dataset"] == "stats" or ts == ns_of(ev["@timestamp"]),
              f"{name}: timestamp {ts} for {ev['@timestamp']}")


def ns_of(rfc3339):
    secs, frac = rfc3339.rstrip("Z").split(".")
    t = time.strptime(secs, "%Y-%m-%dT%H:%M:%S")
    return calendar.timegm(t) * 10**9 + int(frac)


def check_ndjson(srv, lines, name="http"):
    check_clean(srv, name)
    got = [l.rstrip(b"\n") for l in srv.lines]
    check(sorted(got) == sorted(lines), f"{name}: {len(got)} lines for {len(lines)} events")


def start(cls):
    srv = cls().start()
    cleanup.add(srv.stop)
    return srv


# ---- the tests -------------------------------------------------------------------------------

def healthy(pcap, work):
    es, loki, nd = start(receivers.Elasticsearch), start(receivers.Loki), start(receivers.Ndjson)
    with open(f"{work}/password", "w") as f:
        f.write(PASSWORD + "\n")
    col = replay(pcap, f"elasticsearch:{es.url}?api_key_env=L7T_API_KEY",
                 f"loki:{loki.url}/?header=X-Scope-OrgID:tenant-a",
                 f"http:{nd.url}/ingest?user=l7&password_file={work}/password",
                 env={"L7T_API_KEY": API_KEY})
    check(col.rc == 0, f"exit {col.rc}:\n{col.stderr()}")
    lines = reference(col)
    check(len(lines) == EVENTS + 1, f"{len(lines)} events on stdout, {EVENTS} + stats expected")
    check_es(es, lines)
    check(es.creates == len(lines) and es.conflicts == 0, f"creates {es.creates}")
    check_loki(loki, lines)
    check(loki.pushed == len(lines) and loki.duplicates == 0, f"pushed {loki.pushed}")
    check_ndjson(nd, lines)
    for srv, name in ((es, "elasticsearch"), (loki, "loki"), (nd, "http")):
        n = len(srv.headers_seen)
        check(10 < n <= 20, f"{name}: {n} requests for {len(lines)} events (batches of 1000)")
    check(all(h.get("Authorization") == f"ApiKey {API_KEY}" for h in es.headers_seen),
          "elasticsearch: no ApiKey authorization")
    check(all(h.get("X-Scope-OrgID") == "tenant-a" for h in loki.headers_seen), "loki: tenant")
    basic = "Basic " + base64.b64encode(f"l7:{PASSWORD}".encode()).decode()
    check(all(h.get("Authorization") == basic for h in nd.headers_seen), "http: basic auth")
    check(API_KEY not in col.stderr() and PASSWORD not in col.stderr(), "a secret was printed")
    return lines


def failing(pcap, work):
    """Each failure on its own receivers, all at once."""
    runs = {}

    def run(name, *sinks):
        runs[name] = replay(pcap, *sinks)

    down = [start(receivers.Elasticsearch), start(receivers.Loki), start(receivers.Ndjson)]
    for srv in down:
        srv.faults.unavailable_until = time.monotonic() + 10
    # Retry-After: 2 to a sink whose own backoff is at most 0.3 s.
    busy = start(receivers.Elasticsearch)
    busy.faults.too_many, busy.faults.retry_after = 3, "2"
    times, pick = [], busy.faults.pick
    busy.faults.pick = lambda: times.append(time.monotonic()) or pick()
    mixed = start(receivers.Elasticsearch)
    mixed.faults.mixed, mixed.faults.reset_every = True, 4
    stall = start(receivers.Elasticsearch)
    stall.faults.stall, stall.faults.stall_s = 2, 3.0
    dead = f"{work}/dead.ndjson"
    t0 = time.monotonic()
    threads = [
        threading.Thread(target=run, args=("down", f"elasticsearch:{down[0].url}?{FAST}",
                                           f"loki:{down[1].url}?{FAST}",
                                           f"http:{down[2].url}?{FAST}")),
        threading.Thread(target=run, args=("busy", f"elasticsearch:{busy.url}?{FAST}"
                                           "&retry_min=0.1&retry_max=0.3")),
        threading.Thread(target=run, args=("mixed", f"elasticsearch:{mixed.url}?{FAST}"
                                           f"&dead_letter={dead}")),
        threading.Thread(target=run, args=("stall", f"elasticsearch:{stall.url}?{FAST}"
                                           "&timeout=1")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for name, col in runs.items():
        check(col.rc == 0, f"{name}: exit {col.rc}:\n{col.stderr()}")
    lines = reference(runs["down"])
    check(time.monotonic() - t0 >= 10, "503 for 10 s cannot be over sooner")
    check_es(down[0], lines, name="503 elasticsearch")
    check_loki(down[1], lines, name="503 loki")
    check_ndjson(down[2], lines, name="503 http")
    check(down[0].faults.requests > 12, "503: the sink did not retry")

    check_es(busy, reference(runs["busy"]), name="429")
    gaps = [b - a for a, b in zip(times, times[1:4])]
    check(len(gaps) == 3 and min(gaps) >= 1.9, f"429: Retry-After: 2 not honoured: {gaps}")
    check("answered 429" in runs["busy"].stderr(), "429 not logged")

    refused = check_es(mixed, reference(runs["mixed"]), dead, name="mixed")
    check(refused and mixed.conflicts > 0 and mixed.busy_seen,
          f"mixed: refused {len(refused)}, 409s {mixed.conflicts}, 429s {len(mixed.busy_seen)}")
    check(any(st >= {201, 409, 429, 400} for st in mixed.item_statuses),
          f"mixed: no bulk answer mixed 201, 409, 429 and 400: {mixed.item_statuses[:5]}")

    check_es(stall, reference(runs["stall"]), name="stall")
    check(stall.conflicts > 0, "stall: the stalled requests' items should come back 409")
    return runs


def dead_endpoint(pcap, work):
    """Ten times the events must not take more memory: the queue holds 100 of them at most. The
    reference stdout sink blocks on a small queue: otherwise how much it holds depends on how
    fast this script reads the pipe, not on the dead sink (a faster collector once queued 3 MB
    more there on one machine)."""
    port = free_port()  # nothing listens there
    spec = f"elasticsearch:http://127.0.0.1:{port}?queue=100&when_full=drop&{FAST}"
    ref = "stdout?queue=200&when_full=block"
    small = f"{work}/small.pcap"
    write_pcap(small, EVENTS // 10)
    base = replay(small, spec, shutdown=2, reference=ref)
    col = replay(pcap, spec, shutdown=2, reference=ref)
    check(col.rc == 1 and "were not delivered before the shutdown timeout" in col.stderr(),
          f"dead endpoint: exit {col.rc}, stderr:\n{col.stderr()}")
    lines = reference(col)
    check(len(lines) == EVENTS + 1, f"stdout got {len(lines)} events while a sink was dead")
    s = col.stats()["sink_elasticsearch"]
    check(s["dropped_queue_full"] > 0 and s["queued"] + s["dropped_queue_full"] == EVENTS,
          f"dead endpoint: drops not counted: {s}")
    check(s["queued"] <= 300, f"a queue of 100 took {s['queued']} events")
    grow = col.peak_rss_kb - base.peak_rss_kb
    check(base.peak_rss_kb and grow < 4 * 1024,
          f"peak RSS {col.peak_rss_kb} KiB for {EVENTS} events, {base.peak_rss_kb} KiB for "
          f"{EVENTS // 10}")
    return col.peak_rss_kb, base.peak_rss_kb


def shutdown_mid_request(work):
    """A request in flight when the shutdown deadline passes is given up at the deadline, not
    at the sink's much longer timeout."""
    es = start(receivers.Elasticsearch)
    es.faults.stall, es.faults.stall_s = 1, 30.0
    small = f"{work}/small.pcap"
    t0 = time.monotonic()
    col = replay(small, f"elasticsearch:{es.url}?timeout=60", shutdown=2)
    took = time.monotonic() - t0
    check(col.rc == 1 and "were not delivered before the shutdown timeout" in col.stderr(),
          f"shutdown mid-request: exit {col.rc}, stderr:\n{col.stderr()}")
    check(took < 5, f"shutdown took {took:.1f}s with --shutdown-timeout 2")
    return took


def tls(work):
    """HTTPS with a certificate made here: delivered when ca= names it; refused (and nothing
    sent, the events reported undelivered) without it, since verification is on by default;
    delivered with insecure=1, which says loudly that it is insecure."""
    cert, key = f"{work}/cert.pem", f"{work}/key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=l7collect test", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    small = f"{work}/small.pcap"
    es = receivers.Elasticsearch(tls=(cert, key)).start()
    cleanup.add(es.stop)
    col = replay(small, f"elasticsearch:{es.url}?ca={cert}&{FAST}")
    check(col.rc == 0, f"tls with ca=: exit {col.rc}:\n{col.stderr()}")
    lines = reference(col)
    check_es(es, lines)

    nd = receivers.Ndjson(tls=(cert, key)).start()
    cleanup.add(nd.stop)
    col = replay(small, f"http:{nd.url}/ingest?{FAST}", shutdown=2)
    check(col.rc == 1 and not nd.lines and "not delivered" in col.stderr(),
          f"tls without ca=: exit {col.rc}, {len(nd.lines)} lines arrived:\n{col.stderr()}")
    check("certificate" in col.stderr().lower() or "ssl" in col.stderr().lower(),
          f"tls without ca=: the error does not say why:\n{col.stderr()}")

    col = replay(small, f"http:{nd.url}/ingest?insecure=1&{FAST}")
    check(col.rc == 0 and "insecure" in col.stderr().lower(),
          f"tls insecure=1: exit {col.rc}:\n{col.stderr()}")
    check_ndjson(nd, reference(col))
    return len(lines)


def own_traffic():
    """With the default capture (every interface, socket filter and syscall probes) the
    collector sees its own sink's requests on lo; it must not report them, or each batch would
    come back as an event."""
    port = free_port()
    Nginx([f"127.0.0.1:{port}"]).start()
    nd = start(receivers.Ndjson)
    col = Collector("--interface", "lo", "--sink", "stdout", "--sink",
                    f"http:{nd.url}/ingest?flush=0.1&batch=5&gzip=0").start()
    for i in range(20):
        subprocess.run(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{port}/?own={i}"],
                       check=True)
    wait_for(lambda: sum('"own=' in l.decode() for l in nd.lines) >= 40, 20,
             "the exchanges (both ends) at the receiver")
    col.stop()
    check(col.rc == 0, f"exit {col.rc}:\n{col.stderr()}")
    own = [e for e in col.events("http") if e["destination"]["port"] == nd.port]
    check(not own, f"the collector reported its own sink's requests: {own[:2]}")
    mine = [e for e in col.events("http") if e["destination"]["port"] == port]
    check(len(mine) == 40, f"{len(mine)} events for 20 exchanges seen from both ends")
    return len(nd.lines)


def live(work):
    """Capture keeps going while the receiver fails in every way, one after the other."""
    port = free_port()
    Nginx([f"127.0.0.1:{port}"]).start()
    es = start(receivers.Elasticsearch)
    dead = f"{work}/live-dead.ndjson"
    col = Collector("--capture", "socket", "--interface", "lo", "--port", str(port),
                    "--stats-interval", "1", "--sink", "stdout", "--sink",
                    f"elasticsearch:{es.url}?{FAST}&timeout=1&flush=0.2&dead_letter={dead}").start()
    stop = threading.Event()

    def traffic():
        n = 0
        while not stop.is_set():
            urls = [f"http://127.0.0.1:{port}/index.html?n={n + i}" for i in range(5)]
            subprocess.run(["curl", "-s", *[a for u in urls for a in ("-o", "/dev/null", u)]],
                           check=True)
            n += 5
            time.sleep(0.05)
    t = threading.Thread(target=traffic, daemon=True)
    t.start()
    f = es.faults
    phases = [("503", lambda: setattr(f, "unavailable_until", time.monotonic() + 3)),
              ("429", lambda: setattr(f, "too_many", 3)),
              ("mixed+reset", lambda: (setattr(f, "mixed", True), setattr(f, "reset_every", 3))),
              ("stall", lambda: (setattr(f, "reset_every", 0), setattr(f, "stall_s", 2.0),
                                 setattr(f, "stall", 2)))]
    for _, begin in phases:
        begin()
        time.sleep(3)
    stop.set()
    t.join()
    n = len(col.events("stats"))
    wait_for(lambda: len(col.events("stats")) >= n + 2, 5, "stats events after the traffic")

    def all_in():
        lines = [l.rstrip("\n").encode() for l in col.stdout_lines]
        ids = {hashlib.sha1(l + b"\n").hexdigest() for l in lines}
        refused = {i for i in ids if receivers.rejected_by_mixed(i)}
        have = {k[1] for k in es.docs}
        return ids - refused <= have
    wait_for(all_in, 30, "every event in the index")
    check(col.stop() == 0, f"exit {col.rc}:\n{col.stderr()}")
    stats = [e["l7"]["stats"] for e in col.events("stats")]
    http = [s["http"]["exchanges"] for s in stats]
    # Traffic ran for 12 s of the run; the last few stats events came after it.
    check(len(stats) >= 12 and all(b >= a for a, b in zip(http, http[1:])) and
          sum(b > a for a, b in zip(http, http[1:])) >= len(stats) - 6,
          f"capture stalled while the sink failed: exchanges per stats event {http}")
    check(http[-1] >= 300, f"only {http[-1]} exchanges captured")
    for s in stats:
        check(s["kernel"]["ring_full"] == 0 if "kernel" in s else True, "ring buffer overflowed")
        check(s["sink_stdout"]["dropped_queue_full"] == 0, "stdout dropped events")
    # The last stats event went out during shutdown: it too must be in.
    lines = reference(col)
    sink = stats[-1]["sink_elasticsearch"]
    refused = check_es(es, lines, dead, name="live")
    check(sink["retried_5xx"] > 0 and sink["retried_429"] > 0 and sink["retried_connect"] +
          sink["retried_timeout"] > 0 and sink["conflicts_delivered"] > 0 and
          sink["retried_items"] > 0, f"live: sink counters {sink}")
    # The last stats event was written while the events just before it were still in flight.
    check(sink["dead_lettered"] == sink["rejected"] and
          len(refused) - 2 <= sink["rejected"] <= len(refused),
          f"live: {sink['dead_lettered']} dead-lettered, {len(refused)} refused")
    check(sink["dropped_queue_full"] == 0 and sink["dropped_error"] <= sink["rejected"],
          f"live: {sink}")
    return http[-1], sink


def main():
    require_root()
    work = tmpdir("l7t-http-")
    pcap = f"{work}/events.pcap"
    t0 = time.monotonic()
    write_pcap(pcap, EVENTS)
    healthy(pcap, work)
    print(f"healthy: {EVENTS} events through http, elasticsearch and loki "
          f"({time.monotonic() - t0:.1f}s)", flush=True)
    failing(pcap, work)
    print(f"failures: 503 10 s, 429, mixed items + resets, stalls ({time.monotonic() - t0:.1f}s)",
          flush=True)
    peak, base = dead_endpoint(pcap, work)
    print(f"dead endpoint: peak RSS {peak} KiB for {EVENTS} events, {base} KiB for "
          f"{EVENTS // 10} "
          f"({time.monotonic() - t0:.1f}s)", flush=True)
    took = shutdown_mid_request(work)
    print(f"shutdown with a request in flight: {took:.1f}s for --shutdown-timeout 2 "
          f"({time.monotonic() - t0:.1f}s)", flush=True)
    n = own_traffic()
    print(f"own traffic: {n} events delivered over lo, none about the deliveries "
          f"({time.monotonic() - t0:.1f}s)", flush=True)
    n = tls(work)
    print(f"tls: {n} events with ca=, none without it (verification on), all with insecure=1 "
          f"({time.monotonic() - t0:.1f}s)", flush=True)
    n, sink = live(work)
    print(f"live: {n} exchanges captured through every failure, sink counters {sink} "
          f"({time.monotonic() - t0:.1f}s)", flush=True)
    print("test_sink_http: ok")


if __name__ == "__main__":
    main()
