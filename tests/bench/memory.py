#!/usr/bin/python3
"""How much memory the collector holds (VmRSS and VmHWM from /proc/PID/status).

(a) Idle connections: the collector (`-i lo -p PORT > file`) watches while 10,000 keep-alive
    connections are opened to nginx, one request each, then left idle. RSS is sampled as they
    open and after they are all open; the growth per connection is what following one costs.
(b) A stalled sink: the collector's stdout is a pipe nobody reads while wrk loads nginx for 60 s.
    The sink queue is bounded (queue=65536 events, queue_bytes=64M by default), so RSS must level
    off; afterwards the pipe is drained and the collector stopped, and its final stats show what
    it dropped.

Usage: sudo /usr/bin/python3 tests/bench/memory.py [--connections 10000] [--stall 60]"""

import argparse
import json
import os
import select
import socket
import subprocess
import threading
import time

import benchlib as bl


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--connections", type=int, default=10_000, help="idle connections [10000]")
    p.add_argument("--hold", type=float, default=5, help="seconds to hold them open [5]")
    p.add_argument("--stall", type=int, default=60,
                   help="seconds of load with an unread stdout [60]")
    p.add_argument("--sample-every", type=float, default=5,
                   help="seconds between samples while stalled [5]")
    p.add_argument("--skip", choices=["idle", "stall"], help="skip one part")
    return p.parse_args()


def mb(kb):
    return f"{kb / 1024:.1f}"


MEM_HEADERS = ["VmRSS MB", "VmHWM MB", "RssAnon MB"]


def mem_row(label, col, extra=()):
    """VmRSS includes the kernel ring buffer, mapped (twice, for wrap-around) as a file;
    RssAnon is the collector's own heap and stacks."""
    m = col.memory()
    return [label, mb(m["VmRSS"]), mb(m["VmHWM"]), mb(m["RssAnon"]), *extra]


def all_stats(path):
    """Every stats event in an NDJSON file, oldest first."""
    with open(path, "rb") as f:
        return [json.loads(l)["l7"]["stats"] for l in f if b'"dataset":"stats"' in l]


# ---- (a) idle keep-alive connections ---------------------------------------------------------

def read_response(sock):
    """Reads one whole response (Content-Length framed) from a blocking socket."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the response ended")
        data += chunk
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            length = next(int(l.split(b":")[1]) for l in head.split(b"\r\n")
                          if l.lower().startswith(b"content-length:"))
            if len(body) >= length:
                return


def open_idle(port, n, request):
    """n connections, one request answered on each, then left open."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(request)
        socks.append(s)
    for s in socks:
        read_response(s)
    return socks


def idle_connections(args, workdir):
    bl.raise_nofile(args.connections + 1024)
    nginx = bl.Nginx(cpu=0, worker_connections=args.connections + 512).start()
    out = os.path.join(workdir, "idle.ndjson")
    col = bl.Collector(["-i", "lo", "-p", str(nginx.port), "--stats-interval", "1"], out,
                       workdir).start()
    request = (f"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:{nginx.port}\r\n"
               f"User-Agent: l7bench-idle\r\n\r\n").encode()
    time.sleep(1)
    logged0 = nginx.logged_requests()
    rss0 = col.memory()["VmRSS"]
    rows = [mem_row("collector ready, no connections", col, ["-"])]
    socks = []
    step = max(args.connections // 4, 1)
    try:
        while len(socks) < args.connections:
            socks += open_idle(nginx.port, min(step, args.connections - len(socks)), request)
            col.wait_idle()
            m = col.memory()
            rows.append(mem_row(f"{len(socks)} connections open", col,
                                [f"{(m['VmRSS'] - rss0) * 1024 / len(socks):.0f}"]))
        time.sleep(args.hold)
        col.wait_idle()
        m = col.memory()
        rows.append(mem_row(f"after {args.hold:g}s idle", col,
                            [f"{(m['VmRSS'] - rss0) * 1024 / len(socks):.0f}"]))
        time.sleep(1.5)  # one more stats event with every connection still open
        col.stop()
    finally:
        for s in socks:
            s.close()
    stats = all_stats(out)
    peak_flows = max((bl.stat(s, "flows.active") for s in stats), default=0)
    bl.print_table(f"(a) {args.connections} idle keep-alive connections (collector -i lo -p "
                   f"{nginx.port}, one request on each)",
                   ["state", *MEM_HEADERS, "RSS growth bytes/connection"], rows)
    final = stats[-1] if stats else {}
    print(f"flows.active peak {peak_flows}, flows.created {bl.stat(final, 'flows.created')}, "
          f"http.exchanges {bl.stat(final, 'http.exchanges')}, "
          f"HTTP events (server side, client side) {bl.http_events(out)}, requests logged by nginx "
          f"{nginx.logged_requests() - logged0}, ring_full {bl.ring_losses(final)}, "
          f"sink drops {bl.sink_drops(final)}, exit status {col.rc}")
    nginx.stop()


# ---- (b) a sink nobody reads -----------------------------------------------------------------

class Drain(threading.Thread):
    """Reads a pipe to its end, counting bytes and keeping the tail."""

    def __init__(self, fd):
        super().__init__(daemon=True)
        self.fd, self.bytes, self.tail, self.last_data = fd, 0, b"", time.monotonic()

    def run(self):
        while True:
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                return
            self.bytes += len(chunk)
            self.tail = (self.tail + chunk)[-(1 << 20):]
            self.last_data = time.monotonic()

    def quiet_for(self, seconds):
        return time.monotonic() - self.last_data >= seconds


def stalled_sink(args, workdir):
    nginx = bl.Nginx(cpu=0).start()
    rfd, wfd = os.pipe()
    col = bl.Collector(["-i", "lo", "-p", str(nginx.port)], wfd, workdir).start()
    os.close(wfd)
    bl.cleanup.add(os.close, rfd)  # runs before the collector is stopped: EPIPE lets it go
    wrk = bl.spawn(["wrk", "-t1", "-c50", f"-d{args.stall}s", nginx.url()], 1,
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    t0 = time.monotonic()
    rows = []
    while wrk.poll() is None:
        cpu = col.cpu_seconds()
        rows.append(mem_row(f"{time.monotonic() - t0:.0f}", col, [f"{cpu:.1f}"]))
        select.select([], [], [], args.sample_every)
    wrk_out = wrk.stdout.read()
    rows.append(mem_row(f"{time.monotonic() - t0:.0f} (load over)", col,
                        [f"{col.cpu_seconds():.1f}"]))
    bl.print_table(f"(b) stdout a pipe nobody reads, wrk -t1 -c50 -d{args.stall}s "
                   "(queue=65536 events / 64 MiB by default)",
                   ["seconds", *MEM_HEADERS, "collector CPU s"], rows)
    drain = Drain(rfd)
    drain.start()
    bl.wait_for(lambda: drain.quiet_for(1.0), 60, "the queued events to drain")
    col.stop()
    drain.join(timeout=30)
    stats = bl.stats_from_lines(drain.tail.splitlines())
    sink = stats.get("sink_stdout", {}) if stats else {}
    requests = int(next(l.split()[0] for l in wrk_out.splitlines() if "requests in" in l))
    counters = [["wrk requests", requests], ["nginx access log lines", nginx.logged_requests()],
                ["kernel.kept / kernel.ring_full",
                 f"{bl.stat(stats, 'kernel.kept')} / {bl.stat(stats, 'kernel.ring_full')}"],
                ["http.exchanges", bl.stat(stats, "http.exchanges")],
                *[[f"sink_stdout.{k}", sink.get(k, "-")]
                  for k in ("queued", "written", "dropped_queue_full", "dropped_error",
                            "dropped_shutdown")],
                ["bytes read from the pipe after the stall", drain.bytes],
                ["exit status", col.rc]]
    bl.print_table("(b) final counters (pipe drained after the load, then SIGINT)",
                   ["counter", "value"], counters)
    nginx.stop()


def main():
    args = parse_args()
    bl.check_binary()
    bl.prepare_memory()
    workdir = bl.tmpdir()
    print(bl.describe_machine())
    if args.skip != "idle":
        idle_connections(args, workdir)
    if args.skip != "stall":
        stalled_sink(args, workdir)


if __name__ == "__main__":
    bl.main(main)
