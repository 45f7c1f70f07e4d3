"""Through a veth pair into a network namespace (MTU 1500), with the collector finding HTTP by
itself (no --port): a request with a 6,000-byte URL and a 100 KB POST are each reported once,
with the full path and the true body size. Then the same requests past the capture limits:
a header block over --max-header-bytes, and packets cut by --snaplen, are reported with
capture.truncated and their true sizes."""

import os

from harness import (Collector, Netns, Nginx, check, collector_exchange_check, require_root,
                     wait_for)
from traffic import curl_transfers, request_bytes

URL_LEN = 6000
BODY_LEN = 100 * 1024


def traffic(server):
    long_path = "/long/" + "a" * (URL_LEN - len("/long/"))
    url = curl_transfers([], [f"http://{server}{long_path}"])[0]
    body = "b" * BODY_LEN
    post = curl_transfers(["--data-binary", body, "-H", "Content-Type: application/octet-stream"],
                          [f"http://{server}/post"])[0]
    check(url["http_code"] == 200 and post["http_code"] == 201,
          f"nginx answered {url['http_code']} and {post['http_code']}")
    return long_path, url, post


def by_path(events, path):
    found = [ev for ev in events if ev["url"].get("path") == path]
    check(len(found) == 1, f"{len(found)} events for {path[:40]}...")
    return found[0]


def run_case(ns, server, *args):
    col = Collector("--capture", "socket", "--interface", ns.host_if, *args).start()
    long_path, url, post = traffic(server)
    col.wait_events(2)
    col.stop()
    collector_exchange_check(col)
    events = col.events("http")
    check(len(events) == 2, f"{len(events)} events for 2 requests")
    return events, long_path, url, post


def main():
    require_root()
    n = os.getpid() % 200 + 20
    ns = Netns(f"l7t{os.getpid()}", f"10.201.{n}.1", f"10.201.{n}.2", mtu=1500)
    server = f"10.201.{n}.2:8080"
    nginx = Nginx([server], netns=ns.name).start()

    # Everything captured.
    events, long_path, url, post = run_case(ns, server)
    ev = by_path(events, long_path)
    check(ev["http"]["request"]["bytes"] == request_bytes(url), "long URL: request bytes")
    check(ev["capture"] == {"source": "socket", "interface": ns.host_if, "truncated": False},
          f"long URL: capture {ev['capture']}")
    ev = by_path(events, "/post")
    req = ev["http"]["request"]
    check(req["body"]["bytes"] == BODY_LEN, f"POST body bytes {req['body']['bytes']}")
    check(req["bytes"] == request_bytes(post), f"POST bytes {req['bytes']}")
    check(req["mime_type"] == "application/octet-stream", f"POST mime type {req}")
    check(ev["http"]["response"]["status_code"] == 201 and not ev["capture"]["truncated"],
          f"POST response {ev['http']['response']} {ev['capture']}")

    # A header block longer than the limit: truncated, the path cut, the size still true.
    events, long_path, url, _ = run_case(ns, server, "--max-header-bytes", "1024")
    ev = next(e for e in events if e["url"].get("path", "").startswith("/long/"))
    check(ev["capture"]["truncated"] is True, "long URL over the header limit: not truncated")
    check(len(ev["url"]["path"]) < URL_LEN and long_path.startswith(ev["url"]["path"]),
          "long URL over the header limit: path is not a prefix")
    check(ev["http"]["request"]["bytes"] == request_bytes(url),
          f"long URL over the header limit: bytes {ev['http']['request']['bytes']} != "
          f"{request_bytes(url)}")
    check(ev["http"]["response"]["status_code"] == 200, "long URL: response")

    # Packets cut by the snap length: bodies lose content, never their size.
    events, _, _, post = run_case(ns, server, "--snaplen", "512")
    ev = by_path(events, "/post")
    req = ev["http"]["request"]
    check(ev["capture"]["truncated"] is True, "POST under --snaplen 512: not truncated")
    check(req["body"]["bytes"] == BODY_LEN and req["bytes"] == request_bytes(post),
          f"POST under --snaplen 512: sizes {req}")

    wait_for(lambda: len(nginx.access_log_lines()) == 6, 10, "nginx to log 6 requests")
    print("test_http_veth: ok")


if __name__ == "__main__":
    main()
