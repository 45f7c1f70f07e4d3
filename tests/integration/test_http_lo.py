"""HTTP on lo, live and replayed: 50 mixed requests (GET 200 and 404, POST with a body, HEAD,
chunked responses, a keep-alive connection carrying 10 requests, two pipelined requests) against
a real nginx give exactly one event each, every field as curl saw it. The same traffic, recorded
by tcpdump and replayed with --read (as pcap and as pcapng), gives the same exchanges."""

import json
import subprocess

from harness import (Collector, Nginx, check, cleanup, collector_exchange_check, free_port,
                     require_root, tmpdir, wait_for, run)
from traffic import check_exchanges, mixed_requests



def fields(ev):
    """What a replay must reproduce: everything but the clock (tcpdump stamps packets with its
    own clock, the live path with the kernel's), where the capture came from, and the process (a
    file cannot say which process sent its packets)."""
    return json.dumps({k: v for k, v in ev.items()
                       if k not in ("@timestamp", "event", "capture", "process")}, sort_keys=True)


def record(port, path):
    tcpdump = subprocess.Popen(["tcpdump", "-Z", "root", "--immediate-mode", "-i", "lo", "-w", path,
                                "-U", "tcp", "port", str(port)],
                               stderr=subprocess.PIPE, text=True)
    cleanup.add(lambda: tcpdump.poll() is None and tcpdump.kill())
    wait_for(lambda: "listening on" in tcpdump.stderr.readline(), 20, "tcpdump to listen")
    return tcpdump


def replay(path):
    col = Collector("--read", path, "--sink", "stdout").start(wait_ready=False)
    check(col.wait() == 0, f"--read {path} failed:\n{col.stderr()}")
    return col.events("http")


def main():
    require_root()
    port = free_port()
    Nginx([f"127.0.0.1:{port}"]).start()
    work = tmpdir()
    pcap = f"{work}/lo.pcap"
    tcpdump = record(port, pcap)
    col = Collector("--capture", "socket", "--interface", "lo", "--port", str(port), "--sink",
                    "stdout").start()

    expected = mixed_requests("127.0.0.1", port)

    col.wait_events(50)
    col.stop()
    stats = collector_exchange_check(col)
    live = col.events("http")
    check_exchanges(live, expected, port)
    for ev in live:
        check(ev["capture"] == {"source": "socket", "interface": "lo", "truncated": False},
              f"capture fields: {ev['capture']}")
        check(ev["network"]["type"] == "ipv4" and ev["source"]["ip"] == "127.0.0.1",
              f"network fields: {ev['network']} {ev['source']}")
        # Wire events name the local client (curl, or this script for the pipelined requests).
        check(ev.get("process", {}).get("name") in ("curl", "python3"),
              f"wire attribution: {ev.get('process')}")
    check(stats["http"]["exchanges"] == 50 and stats["http"]["parse_errors"] == 0,
          f"http counters: {stats['http']}")

    tcpdump.terminate()
    tcpdump.wait(timeout=10)
    pcapng = f"{work}/lo.pcapng"
    run(["editcap", "-F", "pcapng", pcap, pcapng])
    for path in (pcap, pcapng):
        offline = replay(path)
        check_exchanges(offline, expected, port)
        check(sorted(map(fields, offline)) == sorted(map(fields, live)),
              f"{path}: replayed exchanges differ from the live ones")
        check(all(ev["capture"]["source"] == "pcap" for ev in offline), "capture.source")
    print("test_http_lo: ok")


if __name__ == "__main__":
    main()
