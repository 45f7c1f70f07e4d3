"""HTTP seen from inside the processes (syscall probes), and one truth between the two views:

- curl -> nginx on lo, 100 requests: with the default capture exactly 200 events, 100 with role
  client and curl's pid, 100 with role server and the nginx worker's pid, paired by client port;
  --capture syscall gives the same 200, with each hook set (the tp_btf sock hooks, the tp_btf
  sys_exit program, and the tracepoint pairs older kernels use), and so does the default capture
  on sys_exit; --capture socket 100 (from the wire, with the client's
  process named through the kernel's connection table);
- a Python http.server and a client using sendmsg/recvmsg and writev/readv;
- wrk, 50 connections, 5 seconds: nginx's server-side events equal its access log, nothing lost
  (stdout to a file, as a pipe to this test could not keep up: see harness.Collector);
- a connection opened before the collector started: its next request is reported;
- fd reuse (close and reconnect, and dup2 over a live fd): separate connections, no mixed data;
- unix sockets, pipes and files carrying HTTP-looking bytes: nothing;
- a connection carrying neither HTTP nor DNS stops being copied once its first bytes are seen.

The collector sees every process on the machine, so events are selected by the test servers'
ports."""

import os
import socket
import subprocess
import sys

from harness import (Collector, Nginx, check, cleanup, collector_exchange_check, free_port,
                     require_root, run, tmpdir, wait_for, wait_listening)


def for_port(events, port):
    return [e for e in events if e["destination"]["port"] == port]


def nginx_workers(nginx):
    with open(os.path.join(nginx.dir, "nginx.pid")) as f:
        master = int(f.read())
    with open(f"/proc/{master}/task/{master}/children") as f:
        return {int(p) for p in f.read().split()}


def curl_batch(port, paths):
    """One curl process fetching paths over one keep-alive connection; returns its pid."""
    cmd = ["curl", "-s"]
    for p in paths:
        cmd += ["-o", "/dev/null", f"http://127.0.0.1:{port}{p}"]
    proc = subprocess.Popen(cmd)
    check(proc.wait(timeout=30) == 0, "curl failed")
    return proc.pid


def hundred_requests(port):
    """100 requests in 10 curl processes; returns {pid: [paths]}."""
    batches = {}
    for b in range(10):
        paths = [f"/index.html?b={b}&r={r}" if r % 3 else f"/missing-{b}-{r}" for r in range(10)]
        batches[curl_batch(port, paths)] = paths
    return batches


def check_pairs(events, port, batches, workers):
    """Client and server events of the same exchange agree; every process is the right one."""
    clients = [e for e in events if e["l7"]["role"] == "client"]
    servers = [e for e in events if e["l7"]["role"] == "server"]
    check(len(clients) == 100 and len(servers) == 100,
          f"{len(clients)} client and {len(servers)} server events, expected 100 each")
    key = lambda e: (e["source"]["port"], e["url"]["path"], e["url"].get("query"))
    by_key = {key(e): e for e in servers}
    check(len(by_key) == 100, "server events are not one per exchange")
    expected = {p for paths in batches.values() for p in paths}
    for c in clients:
        s = by_key.get(key(c))
        check(s is not None, f"no server event for the client's {key(c)}")
        where = f"{c['url']['path']}?{c['url'].get('query')}"
        check(c["process"]["pid"] in batches and c["process"]["name"] == "curl",
              f"{where}: client process {c['process']}")
        check(s["process"]["pid"] in workers and s["process"]["name"] == "nginx",
              f"{where}: server process {s['process']}, nginx workers {workers}")
        path = c["url"]["path"] + (f"?{c['url']['query']}" if c["url"].get("query") else "")
        check(path in batches[c["process"]["pid"]], f"{where} paired with the wrong curl")
        expected.discard(path)
        for f in ("status_code", "bytes"):
            check(c["http"]["response"][f] == s["http"]["response"][f],
                  f"{where}: response {f} differs between client and server")
        check(c["http"]["request"]["bytes"] == s["http"]["request"]["bytes"],
              f"{where}: request bytes differ")
        for e in (c, s):
            check(e["capture"]["source"] == "syscall" and "interface" not in e["capture"],
                  f"{where}: capture {e['capture']}")
            check(e["event"]["duration"] > 0, f"{where}: latency")
    check(not expected, f"exchanges never reported: {sorted(expected)[:5]}")


def test_curl_nginx(nginx, port, workers):
    # The default hooks (the tp_btf sock hooks where they load, beside the wire view), the
    # sys_exit program (auto's choice without the wire view), the sock hooks without the wire
    # view, and the tracepoint pairs that older kernels use.
    for mode, want, hooks in (("socket,syscall", 200, "auto"), ("socket,syscall", 200, "sys_exit"),
                              ("syscall", 200, "auto"), ("syscall", 200, "sock"),
                              ("syscall", 200, "tracepoints"), ("socket", 100, "auto")):
        col = Collector("--capture", mode, "-i", "lo", "--syscall-hooks", hooks).start()
        batches = hundred_requests(port)
        col.wait_events(want)
        col.stop()
        stats = collector_exchange_check(col)
        events = for_port(col.events("http"), port)
        check(len(events) == want,
              f"--capture {mode} ({hooks}): {len(events)} events, expected {want}")
        if mode == "socket":
            for e in events:
                check(e["capture"]["source"] == "socket" and "role" not in e["l7"],
                      f"--capture socket: {e['capture']} {e['l7']}")
                check(e["process"]["pid"] in batches and e["process"]["name"] == "curl",
                      f"--capture socket: the wire event's process {e['process']}")
            continue
        check_pairs(events, port, batches, workers)
        check(stats["syscalls"]["ring_full"] == 0 and stats["syscalls"]["read_fault"] == 0,
              f"syscall probe losses: {stats['syscalls']}")
        if mode == "socket,syscall":
            # One truth: the wire saw these connections and left them to the syscalls; the
            # kernel stopped copying their packets after the first.
            check(stats["flows"]["seen_by_syscalls"] >= 10 and stats["http"]["exchanges"] == 0,
                  f"the wire reported what the syscalls saw: {stats['flows']} {stats['http']}")
            check(stats["kernel"]["syscall_owned"] > 0, f"kernel: {stats['kernel']}")


CLIENT = r'''
import os, socket, sys
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port))
# sendmsg with two iovecs, then recvmsg until the response is complete
s.sendmsg([b"GET /msg?x=1 HTTP/1.1\r\nHost: a\r\n", b"User-Agent: msgclient\r\n\r\n"])
buf = b""
while b"\r\n\r\n" not in buf or len(buf) < buf.index(b"\r\n\r\n") + 4 + int(
        [l for l in buf.split(b"\r\n") if l.lower().startswith(b"content-length")][0].split(b":")[1]):
    data, _, _, _ = s.recvmsg(65536)
    buf += data
s.close()
# writev, then readv, on a second connection: http.server speaks HTTP/1.0 and closes each
s = socket.create_connection(("127.0.0.1", port))
os.writev(s.fileno(), [b"GET /vec?y=2 HTTP/1.1\r\n", b"Host: a\r\nConnection: close\r\n\r\n"])
while True:
    b = bytearray(4096)
    n = os.readv(s.fileno(), [b])
    if n == 0:
        break
print("done")
'''


def test_python(work):
    port = free_port()
    srv = subprocess.Popen([sys.executable, "-m", "http.server", "-b", "127.0.0.1", str(port)],
                           cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cleanup.add(lambda: srv.poll() is None and (srv.kill(), srv.wait()))
    wait_listening("127.0.0.1", port)
    with open(os.path.join(work, "msg"), "w") as f:
        f.write("message body\n")
    with open(os.path.join(work, "vec"), "w") as f:
        f.write("vector body\n")
    col = Collector("-i", "lo").start()
    cli = subprocess.run([sys.executable, "-c", CLIENT, str(port)], capture_output=True,
                         text=True, timeout=30)
    check(cli.stdout.strip() == "done", f"the sendmsg/writev client failed: {cli.stderr}")
    col.wait_events(4)
    col.stop()
    collector_exchange_check(col)
    events = for_port(col.events("http"), port)
    got = sorted((e["l7"]["role"], e["url"]["path"], e["http"]["response"]["status_code"],
                  e["process"]["pid"] == srv.pid) for e in events)
    check(got == [("client", "/msg", 200, False), ("client", "/vec", 200, False),
                  ("server", "/msg", 200, True), ("server", "/vec", 200, True)],
          f"sendmsg/recvmsg and writev/readv exchanges: {got}")


def test_wrk(nginx, port):
    before = len(nginx.access_log_lines())
    col = Collector(stdout_file=os.path.join(tmpdir(), "events.ndjson")).start()
    run(["wrk", "-t1", "-c50", "-d5s", f"http://127.0.0.1:{port}/index.html"])
    logged = len(nginx.access_log_lines()) - before
    col.wait_events(logged * 2, timeout=60)
    col.stop()
    stats = collector_exchange_check(col)
    # Validating each of some 200,000 alike events would take minutes: one in 50 is checked.
    events = for_port(col.events("http", validate_every=50), port)
    servers = [e for e in events if e["l7"]["role"] == "server"]
    clients = [e for e in events if e["l7"]["role"] == "client"]
    check(len(servers) == logged, f"{len(servers)} server events for {logged} logged requests")
    check(len(clients) == logged, f"{len(clients)} client (wrk) events for {logged} requests")
    sc = stats["syscalls"]
    check(sc["ring_full"] == 0 and sc["stash_full"] == 0 and sc["read_fault"] == 0 and
          sc["no_scratch"] == 0, f"syscall probe losses under wrk: {sc}")
    print(f"wrk: {logged} requests, {len(events)} events, nothing lost")


def request(s, path):
    """One request on an open connection, and its whole response."""
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: a\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0]
                 .split(b":")[1])
    while len(body) < length:
        body += s.recv(65536)


def test_preexisting_and_reuse(port):
    early = socket.create_connection(("127.0.0.1", port))
    request(early, "/index.html?before=capture")
    col = Collector("-c", "syscall").start()
    request(early, "/index.html?after=capture")
    early.close()

    # close, then a new connection that gets the same fd number
    a = socket.create_connection(("127.0.0.1", port))
    fd = a.fileno()
    request(a, "/index.html?reuse=A")
    a.close()
    b = socket.create_connection(("127.0.0.1", port))
    check(b.fileno() == fd, "the kernel did not reuse the fd number")
    request(b, "/index.html?reuse=B")
    # dup2 over a live fd: no close() call the probes could see
    c = socket.create_connection(("127.0.0.1", port))
    os.dup2(c.fileno(), b.fileno())
    request(b, "/missing?reuse=C")
    b.close()
    c.close()
    col.wait_events(8)
    col.stop()
    collector_exchange_check(col)
    clients = [e for e in for_port(col.events("http"), port) if e["l7"]["role"] == "client"]
    got = sorted((e["url"]["query"], e["http"]["response"]["status_code"]) for e in clients)
    check(got == [("after=capture", 200), ("reuse=A", 200), ("reuse=B", 200), ("reuse=C", 404)],
          f"client events: {got}")
    ports = {e["url"]["query"]: e["source"]["port"] for e in clients}
    check(len(set(ports.values())) == 4, f"connections were mixed: {ports}")


NOT_TCP = r'''
import os, socket, tempfile
req = b"GET /not-tcp HTTP/1.1\r\nHost: a\r\n\r\n"
resp = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
a, b = socket.socketpair()
a.sendall(req); b.recv(100); b.sendall(resp); a.recv(100)
r, w = os.pipe()
os.write(w, req); os.read(r, 100); os.write(w, resp); os.read(r, 100)
with tempfile.TemporaryFile() as f:
    f.write(req + resp); f.seek(0); f.read()
print("done")
'''


def test_not_tcp():
    col = Collector("-c", "syscall").start()
    out = run([sys.executable, "-c", NOT_TCP]).stdout
    check(out.strip() == "done", "the unix/pipe/file script failed")
    col.stop()
    collector_exchange_check(col)
    mine = [e for e in col.events("http") if e["url"].get("path") == "/not-tcp"]
    check(not mine, f"unix sockets, pipes or files produced events: {mine}")


# Each hook set the collector settles on: "-c syscall" takes sys_exit (tracepoints before 5.11),
# the default capture the sock hooks (6.3+), which record a connection at its first byte.
CAPTURES = (("-c", "syscall"), ("-i", "lo"))


def tcp_pair():
    """A connected TCP pair on loopback: (client, server)."""
    with socket.socket() as lsock:
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)
        cli = socket.create_connection(lsock.getsockname())
        srv, _ = lsock.accept()
    return cli, srv


def test_other_protocol(capture):
    """A connection whose first bytes are neither HTTP nor DNS stops being copied in the
    kernel once user space has seen them: the rest of its syscalls are counted, not copied."""
    col = Collector(*capture, "--stats-interval", "1").start()
    cli, srv = tcp_pair()
    with cli, srv:
        cli.sendall(b"SSH-2.0-l7test\r\n")
        srv.recv(64)
        srv.sendall(b"SSH-2.0-l7test-server\r\n")
        cli.recv(64)

        def skipped():
            stats = [e["l7"]["stats"] for e in col.events("stats")]
            return stats and stats[-1]["connections"]["skipped"] >= 2
        wait_for(skipped, 20, "both ends of the connection found to be neither HTTP nor DNS")
        block = b"x" * 1024
        for _ in range(200):
            cli.sendall(block)
            srv.recv(1024, socket.MSG_WAITALL)
            srv.sendall(block)
            cli.recv(1024, socket.MSG_WAITALL)
    col.stop()
    s = collector_exchange_check(col)
    check(s["syscalls"]["skipped"] >= 800 and s["connections"]["other_connections"] >= 2,
          f"not skipped in the kernel ({capture}): {s['syscalls']} {s['connections']}")


def test_joined_other(capture):
    """A connection open before the collector started is joined midstream, its first bytes
    seen maybe inside an HTTP message, and searched for a message start. TLS-like bytes with
    none in the first MiB are given up on both ends, counted, and no longer copied: once the
    collector says so, the 4 MiB that follow are not copied (all 8 MiB, both ends, if they
    were). Waiting for that, rather than bounding what one fast sender got through before the
    kernel heard, keeps the test off the scheduler's timing."""
    block = b"\x17\x03\x03" + os.urandom(4093)

    def send(n):
        for _ in range(n):
            cli.sendall(block)
            srv.recv(len(block), socket.MSG_WAITALL)

    def given_up_and_drained():
        # Given up on both ends, and nothing more copied between two successive stats events:
        # what was in flight before the kernel heard has been read.
        stats = [e["l7"]["stats"]["connections"] for e in col.events("stats")]
        given_up = [c["data_bytes"] for c in stats if c["unframed_connections"] == 2]
        if len(given_up) < 2 or given_up[-1] != given_up[-2]:
            return False
        drained.append(given_up[-1])
        return True

    cli, srv = tcp_pair()
    drained = []
    with cli, srv:
        cli.sendall(b"\x16\x03\x01" + os.urandom(200))
        srv.recv(4096)
        col = Collector(*capture, "--stats-interval", "1").start()
        send(384)  # 1.5 MiB: past the MiB searched
        wait_for(given_up_and_drained, 30, "both ends given up, and the ring drained")
        before = drained[0]
        send(1024)  # 4 MiB
    col.stop()
    s = collector_exchange_check(col)
    c = s["connections"]
    check(c["unframed_connections"] == 2 and c["skipped"] >= 2 and s["syscalls"]["skipped"] > 0,
          f"not given up ({capture}): {s['syscalls']} {c}")
    # Other processes' socket I/O on the host is copied too, hence a margin, not zero.
    check(c["data_bytes"] - before < 256 * 1024,
          f"{c['data_bytes'] - before} bytes copied of 8 MiB moved after the give-up ({capture})")


def main():
    require_root()
    port = free_port()
    nginx = Nginx([f"127.0.0.1:{port}"]).start()
    workers = nginx_workers(nginx)
    test_curl_nginx(nginx, port, workers)
    test_python(tmpdir())
    test_wrk(nginx, port)
    test_preexisting_and_reuse(port)
    test_not_tcp()
    for capture in CAPTURES:
        test_other_protocol(capture)
        test_joined_other(capture)
    print("test_syscall: ok")


if __name__ == "__main__":
    main()
