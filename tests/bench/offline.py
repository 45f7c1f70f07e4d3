#!/usr/bin/python3
"""How fast the collector turns a capture file into HTTP events, next to tshark.

Writes a large synthetic pcap (Ethernet/IPv4, correct TCP sequence and acknowledgement numbers,
zero checksums): by default 200,000 HTTP/1.1 exchanges, most on long-lived keep-alive connections
used in random order, some on short connections with their own handshake and close; browser-like
request headers, a mix of small and medium bodies, some POSTs, some 304s, some chunked responses
split across segments. Between them, one DNS transaction over UDP per 4 exchanges (a query and
its answer, A records, each from a new client port, as resolvers do). Then times, 3 times each
(medians reported):
  l7collect --read FILE --sink stdout > /dev/null
  tshark -r FILE -T ek > /dev/null
  tshark -r FILE -Y "http or dns" -T ek > /dev/null
and checks, in one extra collector run writing to a file, that it reported every exchange and
transaction.

Usage: /usr/bin/python3 tests/bench/offline.py [--exchanges 200000] [--repeats 3] [--pcap FILE]"""

import argparse
import math
import os
import random
import struct
import subprocess
import time

import benchlib as bl

SERVER_IP = bytes([127, 0, 0, 1])
SERVER_PORT = 80  # tshark dissects port 80 as HTTP without being told
MSS = 1448
MAC_CLIENT = bytes.fromhex("020000000001")
MAC_SERVER = bytes.fromhex("020000000002")
SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10

USER_AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "okhttp/4.12.0",
    "python-requests/2.31.0",
]
PATHS = ["/api/v1/items/{n}", "/static/js/app.{n}.js", "/images/thumb/{n}.jpg",
         "/search?q=term{n}&page=2&sort=relevance", "/api/v2/users/{n}/orders?limit=50"]
TEXT = (b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
        b"incididunt ut labore et dolore magna aliqua. ") * 1200  # ~130 KB to slice bodies from


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--exchanges", type=int, default=200_000, help="HTTP exchanges [200000]")
    p.add_argument("--keepalive-connections", type=int, default=1000,
                   help="long-lived connections carrying most exchanges [1000]")
    p.add_argument("--new-connection-share", type=float, default=0.05,
                   help="share of exchanges on short connections of 1-3 exchanges [0.05]")
    p.add_argument("--dns-per-exchange", type=float, default=0.25,
                   help="DNS transactions per HTTP exchange [0.25]")
    p.add_argument("--repeats", type=int, default=3, help="timed runs of each command [3]")
    p.add_argument("--pcap", help="use (or create, and keep) this file instead of a temp one")
    p.add_argument("--no-tshark", action="store_true", help="time only the collector")
    bl.add_noise_args(p)
    p.add_argument("--collector-args", default="",
                   help="extra collector arguments, e.g. '-p 80' [none: HTTP found by content]")
    return p.parse_args()


# ---- pcap writing ----------------------------------------------------------------------------

class PcapWriter:
    """Classic pcap, nanosecond timestamps, Ethernet link type."""

    def __init__(self, path):
        self.f = open(path, "wb", buffering=1 << 22)
        self.f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))
        self.packets = 0

    def write(self, ts_ns, frame):
        self.f.write(struct.pack("<IIII", ts_ns // 1_000_000_000, ts_ns % 1_000_000_000,
                                 len(frame), len(frame)))
        self.f.write(frame)
        self.packets += 1

    def close(self):
        self.f.close()


class Clock:
    """Capture time: advances a little with every packet, more where a server would think."""

    def __init__(self, rng):
        self.ns = 1_700_000_000 * 1_000_000_000
        self.rng = rng

    def tick(self, lo=2_000, hi=20_000):
        self.ns += self.rng.randint(lo, hi)
        return self.ns


class Connection:
    """One TCP connection; every segment goes to the pcap with its true sequence numbers."""
    _ip_id = 0

    def __init__(self, pcap, clock, client_ip, client_port, rng):
        self.pcap, self.clock = pcap, clock
        self.client = (client_ip, client_port)
        self.seq = {True: rng.getrandbits(32), False: rng.getrandbits(32)}  # by from_client
        self.open = False

    def segment(self, from_client, flags, payload=b""):
        src, dst = (self.client, (SERVER_IP, SERVER_PORT)) if from_client else \
                   ((SERVER_IP, SERVER_PORT), self.client)
        Connection._ip_id = (Connection._ip_id + 1) & 0xFFFF
        seq, ack = self.seq[from_client], self.seq[not from_client]
        frame = struct.pack(
            "!6s6sH" "BBHHHBBH4s4s" "HHIIBBHHH",
            MAC_SERVER if from_client else MAC_CLIENT, MAC_CLIENT if from_client else MAC_SERVER,
            0x0800,
            0x45, 0, 40 + len(payload), Connection._ip_id, 0x4000, 64, 6, 0, src[0], dst[0],
            src[1], dst[1], seq, ack if flags & ACK else 0, 5 << 4, flags, 65535, 0, 0) + payload
        self.pcap.write(self.clock.tick(), frame)
        self.seq[from_client] = (seq + len(payload) + (1 if flags & (SYN | FIN) else 0)) \
            & 0xFFFFFFFF

    def send(self, from_client, data):
        """data in MSS-sized segments, PSH on the last."""
        for off in range(0, len(data), MSS):
            last = off + MSS >= len(data)
            self.segment(from_client, ACK | (PSH if last else 0), data[off:off + MSS])

    def handshake(self):
        self.segment(True, SYN)
        self.segment(False, SYN | ACK)
        self.segment(True, ACK)
        self.open = True

    def close(self):
        self.segment(True, FIN | ACK)
        self.segment(False, FIN | ACK)
        self.segment(True, ACK)
        self.open = False

    def exchange(self, request, response):
        if not self.open:
            self.handshake()
        self.send(True, request)
        self.clock.tick(20_000, 400_000)  # the server at work
        self.send(False, response)
        self.segment(True, ACK)


# ---- HTTP content ----------------------------------------------------------------------------

def make_request(rng, n):
    path = rng.choice(PATHS).format(n=n)
    post = rng.random() < 0.1
    body = b'{"id": %d, "items": [1, 2, 3], "note": "%s"}' % (n, b"x" * rng.randint(10, 400)) \
        if post else b""
    lines = [f"{'POST' if post else 'GET'} {path} HTTP/1.1",
             "Host: shop.example.test",
             f"User-Agent: {rng.choice(USER_AGENTS)}",
             "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
             "Accept-Language: en-US,en;q=0.9,de;q=0.7",
             "Accept-Encoding: gzip, deflate, br",
             f"Cookie: session={rng.getrandbits(128):032x}; prefs=" + "a" * rng.randint(0, 300),
             "Connection: keep-alive"]
    if post:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def body_of(rng, size):
    off = rng.randint(0, len(TEXT) - size)
    return TEXT[off:off + size]


def chunked(rng, body):
    out, off = [], 0
    while off < len(body):
        n = min(rng.randint(200, 4000), len(body) - off)
        out.append(b"%x\r\n%s\r\n" % (n, body[off:off + n]))
        off += n
    return b"".join(out) + b"0\r\n\r\n"


def make_response(rng):
    """(response bytes, kind): 60% small, 25% medium, 10% chunked, 5% 304."""
    r = rng.random()
    common = ["Server: nginx/1.22.1", "Date: Tue, 14 Nov 2023 22:13:20 GMT",
              "Cache-Control: private, max-age=0", f'ETag: "{rng.getrandbits(64):x}"',
              "X-Request-Id: " + f"{rng.getrandbits(128):032x}"]
    if r < 0.05:
        return ("HTTP/1.1 304 Not Modified\r\n" + "\r\n".join(common) + "\r\n\r\n").encode()
    if r < 0.15:
        body = chunked(rng, body_of(rng, rng.randint(1000, 16000)))
        head = ["HTTP/1.1 200 OK", "Content-Type: text/plain; charset=utf-8",
                "Transfer-Encoding: chunked", *common]
    else:
        body = body_of(rng, rng.randint(50, 1500) if r < 0.75 else rng.randint(2000, 24000))
        head = ["HTTP/1.1 200 OK", "Content-Type: text/html; charset=utf-8",
                f"Content-Length: {len(body)}", *common]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


# ---- DNS -------------------------------------------------------------------------------------

RESOLVER_IP = bytes([127, 0, 0, 53])
UDP_MAC = (MAC_CLIENT, MAC_SERVER)


def dns_name(name):
    return b"".join(bytes([len(label)]) + label for label in name.split(b".")) + b"\0"


def dns_transaction(rng, n):
    """(query, response): an A question and one or two A answers (the second behind a CNAME)."""
    qid = rng.getrandbits(16)
    name = b"svc%d.ns%d.cluster.example.test" % (n, n % 97)
    question = dns_name(name) + struct.pack("!HH", 1, 1)
    query = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + question
    answers = [b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 30, 4) + bytes([10, 96, n % 250, 7])]
    if rng.random() < 0.3:
        target = dns_name(b"lb%d.example.test" % (n % 13))
        answers = [b"\xc0\x0c" + struct.pack("!HHIH", 5, 1, 300, len(target)) + target,
                   dns_name(b"lb%d.example.test" % (n % 13)) + struct.pack("!HHIH", 1, 1, 60, 4) +
                   bytes([192, 0, 2, n % 250 + 1])]
    response = struct.pack("!HHHHHH", qid, 0x8180, 1, len(answers), 0, 0) + question + \
        b"".join(answers)
    return query, response


def udp_frame(src, dst, payload, ip_id):
    (sip, sport), (dip, dport) = src, dst
    return struct.pack("!6s6sH" "BBHHHBBH4s4s" "HHHH", MAC_SERVER, MAC_CLIENT, 0x0800,
                       0x45, 0, 28 + len(payload), ip_id, 0x4000, 64, 17, 0, sip, dip,
                       sport, dport, 8 + len(payload), 0) + payload


def dns_exchange(pcap, clock, rng, n):
    client = (bytes([127, 2, n >> 8 & 0xFF, n & 0xFF]), rng.randint(32768, 60999))
    query, response = dns_transaction(rng, n)
    pcap.write(clock.tick(), udp_frame(client, (RESOLVER_IP, 53), query, n & 0xFFFF))
    pcap.write(clock.tick(50_000, 2_000_000), udp_frame((RESOLVER_IP, 53), client, response,
                                                         (n + 1) & 0xFFFF))


# ---- the capture -----------------------------------------------------------------------------

def client_addresses():
    """Distinct (ip, port) pairs for clients, all within 127.0.0.0/8."""
    for b in range(1, 255):
        for c in range(1, 255):
            for port in range(20000, 60000, 7):
                yield bytes([127, 1, b, c]), port


def generate(path, args):
    """Writes the capture; returns (exchanges, DNS transactions, packets, connections)."""
    rng = random.Random(1)
    pcap, clock, addrs = PcapWriter(path), Clock(rng), client_addresses()
    new_conn = lambda: Connection(pcap, clock, *next(addrs), rng)
    pool = [new_conn() for _ in range(args.keepalive_connections)]
    done, conns, dns = 0, len(pool), 0
    while done < args.exchanges:
        while dns < done * args.dns_per_exchange:
            dns_exchange(pcap, clock, rng, dns)
            dns += 1
        short = rng.random() < args.new_connection_share
        if short:
            c, n = new_conn(), min(rng.randint(1, 3), args.exchanges - done)
            conns += 1
        else:
            c, n = rng.choice(pool), 1
        for _ in range(n):
            c.exchange(make_request(rng, done), make_response(rng))
            done += 1
        if short:
            c.close()
    for c in pool:
        if c.open:
            c.close()
    while dns < done * args.dns_per_exchange:
        dns_exchange(pcap, clock, rng, dns)
        dns += 1
    pcap.close()
    return done, dns, pcap.packets, conns


# ---- timing ----------------------------------------------------------------------------------

def timed(cmd, stdout=subprocess.DEVNULL):
    """{'wall': seconds, 'other': share of the machine other jobs used meanwhile}"""
    window = bl.CpuWindow()
    proc = bl.spawn(cmd, stdout=stdout, stderr=subprocess.PIPE)
    _, err = proc.communicate()
    window.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err.decode()[-2000:]}")
    return {"wall": window.wall, "other": window.other_share()}


def verify(pcap, args, workdir, expected, expected_dns):
    """One collector run into a file: HTTP and DNS events and the stats event's counts."""
    out = os.path.join(workdir, "events.ndjson")
    with open(out, "wb") as f:
        wall = timed(collector_cmd(pcap, args), stdout=f)["wall"]
    stats = bl.last_stats(out)
    events = bl.http_events(out)[0]  # a capture file has no client-side (syscall) events
    dns = bl.count_bytes(out, b'"dataset":"dns"')
    rows = [["HTTP events written", events], ["stats http.exchanges", bl.stat(stats,
                                                                          "http.exchanges")],
            ["exchanges generated", expected],
            ["parse_errors / no_response / gaps", f"{bl.stat(stats, 'http.parse_errors')} / "
             f"{bl.stat(stats, 'http.no_response')} / {bl.stat(stats, 'reassembly.gaps')}"],
            ["every exchange reported", "yes" if events == expected else
             f"NO ({expected - events} missing)"],
            ["DNS events written / generated", f"{dns} / {expected_dns}"],
            ["every DNS transaction reported", "yes" if dns == expected_dns else
             f"NO ({expected_dns - dns} missing)"],
            ["wall time writing to a file (s)", f"{wall:.2f}"],
            ["output size (MB)", f"{os.path.getsize(out) / 1e6:.0f}"]]
    os.remove(out)
    bl.print_table("Completeness (one collector run writing to a file)", ["what", "value"], rows)


def collector_cmd(pcap, args):
    return [bl.BINARY, "--read", pcap, "--sink", "stdout", *args.collector_args.split()]


def main():
    args = parse_args()
    bl.check_binary()
    bl.prepare_memory()
    workdir = bl.tmpdir()
    print(bl.describe_machine())
    pcap = args.pcap or os.path.join(workdir, "bench.pcap")
    t0 = time.monotonic()
    if args.pcap and os.path.exists(pcap):
        expected = args.exchanges
        expected_dns = math.ceil(expected * args.dns_per_exchange)
        print(f"using the existing {pcap}: assumed to hold {expected} exchanges (--exchanges) "
              f"and {expected_dns} DNS transactions (--dns-per-exchange)")
    else:
        bl.progress(f"writing {args.exchanges} exchanges to {pcap}")
        expected, expected_dns, packets, conns = generate(pcap, args)
        print(f"generated {pcap}: {expected} exchanges, {expected_dns} DNS transactions, "
              f"{packets} packets, {conns} connections, "
              f"{os.path.getsize(pcap) / 1e6:.0f} MB in {time.monotonic() - t0:.1f}s")
    verify(pcap, args, workdir, expected, expected_dns)

    commands = [("l7collect --read FILE --sink stdout", collector_cmd(pcap, args))]
    if not args.no_tshark:
        commands += [("tshark -r FILE -T ek", ["tshark", "-r", pcap, "-T", "ek"]),
                     ('tshark -r FILE -Y "http or dns" -T ek',
                      ["tshark", "-r", pcap, "-Y", "http or dns", "-T", "ek"])]
    times = {name: [] for name, _ in commands}
    for i in range(args.repeats):  # interleaved, so drift hits every command alike
        for name, cmd in commands:
            bl.progress(f"repeat {i + 1}/{args.repeats}: {name}")
            tries = args.tries if cmd[0] == bl.BINARY else 1  # a tshark run takes minutes
            times[name].append(bl.retry_noisy(lambda: timed(cmd), args.max_other, tries))
    first = bl.median([r["wall"] for r in times[commands[0][0]]])
    rows = []
    for name, runs in times.items():
        walls = [r["wall"] for r in runs]
        rows.append([name, " ".join(f"{t:.2f}" for t in walls), f"{bl.median(walls):.2f}",
                     f"{(expected + expected_dns) / bl.median(walls):,.0f}",
                     f"{bl.median(walls) / first:.1f}x",
                     bl.fmt(100 * max((r["other"] or 0) for r in runs), ".1f")])
    bl.print_table(f"Offline replay of {expected} HTTP exchanges and {expected_dns} DNS "
                   f"transactions, output to /dev/null "
                   f"(medians of {args.repeats})",
                   ["command", "wall s (each run)", "median s", "exchanges + transactions/s",
                    "time vs l7collect", "other % (max)"], rows)


if __name__ == "__main__":
    bl.main(main)
