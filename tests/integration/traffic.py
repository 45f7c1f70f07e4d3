"""Real HTTP traffic against the test nginx, and what each exchange must look like as an event.

Every request records what its client saw (curl's own counters, or the bytes a raw socket sent
and received), so the events can be checked field by field, not just counted."""

import socket

from harness import check, run
import json


def curl_transfers(opts, urls):
    """One curl process; several URLs share one keep-alive connection. Returns curl's %{json}
    for each transfer."""
    cmd = ["curl", "-s", "-w", "%{json}\\n", *opts]
    for u in urls:
        cmd += ["-o", "/dev/null", u]
    out = run(cmd).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def request_bytes(t):
    """The request's size on the wire from curl's counters. curl counts a body it sent along
    with the headers in size_request, and a larger upload only in size_upload."""
    included = t["size_request"] >= t["size_upload"]
    return t["size_request"] + (0 if included else t["size_upload"])


def split_url(path_query):
    path, _, query = path_query.partition("?")
    return path, query or None


def expect_from_curl(t, path_query, chunked=False):
    path, query = split_url(path_query)
    return {
        "method": t["method"],
        "path": path,
        "query": query,
        "status": t["http_code"],
        "client_port": t["local_port"],
        "req_bytes": request_bytes(t),
        "req_body_bytes": t["size_upload"],
        "resp_body_bytes": t["size_download"],
        # Chunk framing is on the wire but not in curl's counts.
        "resp_bytes": None if chunked else t["size_header"] + t["size_download"],
        "chunked": chunked,
    }


def pipelined(host, port, paths):
    """Sends all requests in one write (HTTP/1.1 pipelining) and reads every response."""
    host_field = (f"[{host}]" if ":" in host else host) + f":{port}"
    reqs = [f"GET {p} HTTP/1.1\r\nHost: {host_field}\r\nUser-Agent: pipeline-test\r\n"
            + ("Connection: close\r\n" if i == len(paths) - 1 else "") + "\r\n"
            for i, p in enumerate(paths)]
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.connect((host, port))
        s.sendall("".join(reqs).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        local_port = s.getsockname()[1]
    out, pos = [], 0
    for p, req in zip(paths, reqs):
        head_end = data.index(b"\r\n\r\n", pos) + 4
        head = data[pos:head_end].decode()
        status = int(head.split(" ", 2)[1])
        length = next(int(l.split(":", 1)[1]) for l in head.split("\r\n")
                      if l.lower().startswith("content-length:"))
        path, query = split_url(p)
        out.append({"method": "GET", "path": path, "query": query, "status": status,
                    "client_port": local_port, "req_bytes": len(req), "req_body_bytes": 0,
                    "resp_body_bytes": length, "resp_bytes": head_end - pos + length,
                    "chunked": False})
        pos = head_end + length
    check(pos == len(data), "pipelined responses were not read completely")
    return out


def mixed_requests(host, port):
    """The 50-request mix: GET 200, GET 404, POST with a body, HEAD, chunked responses, a
    keep-alive connection carrying 10 requests and two pipelined requests."""
    h = f"[{host}]" if ":" in host else host
    base = f"http://{h}:{port}"
    exp = []
    for i in range(15):
        pq = f"/index.html?i={i}&kind=ok"
        exp += [expect_from_curl(t, pq) for t in curl_transfers([], [base + pq])]
    for i in range(10):
        pq = f"/missing-{i}"
        exp += [expect_from_curl(t, pq) for t in curl_transfers([], [base + pq])]
    for i in range(5):
        pq = f"/post?n={i}"
        body = "field=" + "x" * (200 * (i + 1))
        exp += [expect_from_curl(t, pq) for t in curl_transfers(["--data", body], [base + pq])]
    for i in range(3):
        pq = f"/index.html?head={i}"
        exp += [expect_from_curl(t, pq) for t in curl_transfers(["--head"], [base + pq])]
    for i in range(5):
        # nginx gzips on the fly and so cannot know the length: chunked.
        pq = f"/big.txt?gz={i}"
        exp += [expect_from_curl(t, pq, chunked=True)
                for t in curl_transfers(["-H", "Accept-Encoding: gzip"], [base + pq])]
    keepalive = [f"/index.html?ka={i}" for i in range(10)]
    transfers = curl_transfers([], [base + pq for pq in keepalive])
    check(len({t["local_port"] for t in transfers}) == 1, "curl did not keep the connection")
    exp += [expect_from_curl(t, pq) for t, pq in zip(transfers, keepalive)]
    exp += pipelined(host, port, ["/index.html?pipe=1", "/missing-pipe?pipe=2"])
    check(len(exp) == 50, f"the mix has {len(exp)} requests, not 50")
    statuses = [e["status"] for e in exp]
    check(statuses == [200] * 15 + [404] * 10 + [201] * 5 + [200] * 3 + [200] * 5 + [200] * 10
          + [200, 404], f"nginx did not answer the mix as planned: {statuses}")
    return exp


def event_key(ev):
    return (ev["source"]["port"], ev["url"].get("path"), ev["url"].get("query"))


def check_exchanges(events, expected, server_port):
    """Exactly one event per expected exchange, every field as the client saw it."""
    by_key = {}
    for ev in events:
        check(ev["destination"]["port"] == server_port,
              f"event for an unexpected server port: {ev['destination']}")
        key = event_key(ev)
        check(key not in by_key, f"two events for one exchange {key}")
        by_key[key] = ev
    check(len(events) == len(expected),
          f"{len(events)} HTTP events for {len(expected)} requests")
    for e in expected:
        key = (e["client_port"], e["path"], e["query"])
        check(key in by_key, f"no event for {e['method']} {e['path']}?{e['query']} "
                             f"from port {e['client_port']}")
        ev = by_key[key]
        req, resp = ev["http"]["request"], ev["http"].get("response")
        where = f"{e['method']} {e['path']}"
        check(req["method"] == e["method"], f"{where}: method {req['method']}")
        check(ev["l7"]["status"] == "ok" and resp, f"{where}: no response in {ev}")
        check(resp["status_code"] == e["status"], f"{where}: status {resp['status_code']}")
        check(req["bytes"] == e["req_bytes"], f"{where}: request bytes {req['bytes']} != "
                                              f"{e['req_bytes']}")
        check(req["body"]["bytes"] == e["req_body_bytes"], f"{where}: request body bytes")
        check(resp["body"]["bytes"] == e["resp_body_bytes"],
              f"{where}: response body bytes {resp['body']['bytes']} != "
              f"{e['resp_body_bytes']}")
        if e["resp_bytes"] is not None:
            check(resp["bytes"] == e["resp_bytes"],
                  f"{where}: response bytes {resp['bytes']} != {e['resp_bytes']}")
        else:
            check(resp["bytes"] > resp["body"]["bytes"], f"{where}: chunked response bytes")
        check(ev["event"]["duration"] > 0, f"{where}: latency {ev['event']['duration']}")
        check(ev["capture"]["truncated"] is False, f"{where}: marked truncated")
        check(ev["source"]["bytes"] == req["bytes"] and
              ev["destination"]["bytes"] == resp["bytes"], f"{where}: endpoint bytes")
