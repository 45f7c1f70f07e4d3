"""DNS transactions from a real resolver (dnsmasq with static records) and real clients (dig,
kdig, getaddrinfo through a small C program), asserting on the events:

- A, AAAA, MX, TXT, SRV, a CNAME chain and NXDOMAIN, over UDP and over TCP (dig +tcp), on a
  non-standard port: one transaction each, the right answers and rcode, latency > 0, dig's pid
  and name;
- IPv6 to ::1;
- a TXT answer too large for UDP: the truncated (TC) answer and dig's retry over TCP, both;
- three queries on one TCP connection (kdig +tcp +keepopen); one message split across two
  segments and three messages in one, from a small client, seen from the syscalls and from the
  wire alone;
- getaddrinfo() in a network namespace whose resolver is dnsmasq on port 53 (glibc sends A and
  AAAA together with sendmmsg);
- a resolver that never answers: no_response after --dns-timeout;
- malformed DNS on port 53: counted as parse errors, nothing reported, no crash.

The collector sees every process on the machine: events are picked by the test server's port."""

import os
import socket
import struct
import subprocess
import sys

from harness import (Collector, Netns, check, cleanup, collector_exchange_check, free_port,
                     require_root, run, tmpdir, wait_for, wait_listening)

ZONE = """
no-resolv
no-hosts
bind-interfaces
pid-file=
local=/example.test/
host-record=h.example.test,192.0.2.8,2001:db8::8
mx-host=example.test,mail.example.test,10
txt-record=t.example.test,"v=spf1 -all","second"
srv-host=_http._tcp.example.test,web.example.test,8080,1,5
cname=c.example.test,h.example.test
cname=c2.example.test,c.example.test
"""
# Eight 200-byte strings: 1.6 KB, more than dig's EDNS UDP size (1232).
BIG_TXT = "".join(f'txt-record=big.example.test,"{str(i) * 200}"\n' for i in range(1, 9))

# name, type, rcode, answer data in order
RECORDS = [
    ("h.example.test", "A", "NOERROR", ["192.0.2.8"]),
    ("h.example.test", "AAAA", "NOERROR", ["2001:db8::8"]),
    ("example.test", "MX", "NOERROR", ["10 mail.example.test"]),
    ("t.example.test", "TXT", "NOERROR", ['"v=spf1 -all" "second"']),
    ("_http._tcp.example.test", "SRV", "NOERROR", ["1 5 8080 web.example.test"]),
    ("c2.example.test", "A", "NOERROR", ["c.example.test", "h.example.test", "192.0.2.8"]),
    ("nx.example.test", "A", "NXDOMAIN", []),
]


class Dnsmasq:
    """dnsmasq in the foreground with the test zone, on address:port (in netns if given)."""

    def __init__(self, address, port, netns=None):
        self.dir = tmpdir("l7t-dnsmasq-")
        self.conf = os.path.join(self.dir, "dnsmasq.conf")
        with open(self.conf, "w") as f:
            f.write(ZONE + BIG_TXT + f"port={port}\nlisten-address={address}\n")
        self.address, self.port, self.netns = address, port, netns

    def start(self):
        cmd = ["dnsmasq", "-k", "-C", self.conf, "--log-facility=" + self.dir + "/log"]
        if self.netns:
            cmd = ["ip", "netns", "exec", self.netns] + cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        cleanup.add(self.stop)
        wait_listening(self.address, self.port, self.netns)
        return self

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def for_port(events, port):
    return [e for e in events if e["destination"]["port"] == port]


def dig(*args):
    """Runs dig; returns (pid, stdout)."""
    proc = subprocess.Popen(["dig", "+tries=1", "+time=5", *args], stdout=subprocess.PIPE,
                            text=True)
    out, _ = proc.communicate(timeout=30)
    check(proc.returncode == 0, f"dig {args} failed:\n{out}")
    return proc.pid, out


def check_transaction(e, name, qtype, rcode, data, pid, comm, transport):
    d = e["dns"]
    what = f"{transport} {qtype} {name}"
    check(d["question"] == {"name": name, "type": qtype, "class": "IN"},
          f"{what}: question {d['question']}")
    check(d["response_code"] == rcode, f"{what}: rcode {d['response_code']}, expected {rcode}")
    check([a["data"] for a in d["answers"]] == data, f"{what}: answers {d['answers']}")
    ips = [a["data"] for a in d["answers"] if a["type"] in ("A", "AAAA")]
    check(d["resolved_ip"] == ips, f"{what}: resolved_ip {d['resolved_ip']}")
    check(e["network"]["transport"] == transport, f"{what}: transport {e['network']}")
    check(e["event"]["duration"] > 0, f"{what}: latency {e['event']['duration']}")
    check(e["l7"]["status"] == "ok", f"{what}: status {e['l7']}")
    check(e.get("process", {}).get("pid") == pid and e["process"]["name"] == comm,
          f"{what}: process {e.get('process')}, expected {comm}[{pid}]")
    check(e["l7"]["role"] == "client", f"{what}: role {e['l7']}")
    # The asker's own syscalls name the thread; a packet's owner would not.
    check(e["process"]["thread"].get("name"), f"{what}: thread {e['process']['thread']}")
    check(e["capture"]["source"] == "syscall", f"{what}: capture {e['capture']}")


def test_records():
    port = free_port()
    Dnsmasq("127.0.0.1", port).start()
    col = Collector("--dns-timeout", "2").start()
    expected = {}
    for transport in ("udp", "tcp"):
        for name, qtype, rcode, data in RECORDS:
            pid, _ = dig(f"@127.0.0.1", "-p", str(port), name, qtype,
                         *(["+tcp"] if transport == "tcp" else []))
            expected[pid] = (name, qtype, rcode, data, transport)
    wait_for(lambda: len(for_port(col.events("dns"), port)) >= len(expected), 20,
             f"{len(expected)} DNS events")
    col.stop()
    s = collector_exchange_check(col)
    events = for_port(col.events("dns"), port)
    check(len(events) == len(expected), f"{len(events)} events for {len(expected)} queries")
    by_pid = {e["process"]["pid"]: e for e in events if "process" in e}
    check(sorted(by_pid) == sorted(expected), f"events for pids {sorted(by_pid)}")
    for pid, (name, qtype, rcode, data, transport) in expected.items():
        check_transaction(by_pid[pid], name, qtype, rcode, data, pid, "dig", transport)
    check(s["dns"]["parse_errors"] == 0 and s["dns"]["no_response"] == 0, f"dns {s['dns']}")
    print(f"records: {len(events)} transactions, UDP and TCP, answers as dnsmasq has them")


def test_ipv6():
    port = free_port()
    Dnsmasq("::1", port).start()
    col = Collector().start()
    pid, _ = dig("@::1", "-p", str(port), "h.example.test", "AAAA")
    wait_for(lambda: for_port(col.events("dns"), port), 20, "the DNS event")
    col.stop()
    collector_exchange_check(col)
    (e,) = for_port(col.events("dns"), port)
    check_transaction(e, "h.example.test", "AAAA", "NOERROR", ["2001:db8::8"], pid, "dig",
                      "udp")
    check(e["network"]["type"] == "ipv6" and e["destination"]["ip"] == "::1",
          f"addresses {e['network']} {e['destination']}")
    print("ipv6: a query to ::1 reported with its IPv6 addresses")


def test_truncated_then_tcp():
    port = free_port()
    Dnsmasq("127.0.0.1", port).start()
    col = Collector().start()
    pid, out = dig("@127.0.0.1", "-p", str(port), "big.example.test", "TXT")
    check("Truncated, retrying in TCP mode" in out, f"dig did not retry over TCP:\n{out}")
    wait_for(lambda: len(for_port(col.events("dns"), port)) >= 2, 20, "two DNS events")
    col.stop()
    collector_exchange_check(col)
    events = sorted(for_port(col.events("dns"), port), key=lambda e: e["network"]["transport"])
    check([e["network"]["transport"] for e in events] == ["tcp", "udp"],
          f"transports {[e['network']['transport'] for e in events]}")
    tcp, udp = events
    check("TC" in udp["dns"]["header_flags"] and "TC" not in tcp["dns"]["header_flags"],
          f"flags: udp {udp['dns']['header_flags']}, tcp {tcp['dns']['header_flags']}")
    check(len(tcp["dns"]["answers"]) == 8, f"{len(tcp['dns']['answers'])} answers over TCP")
    check(all(e["process"]["pid"] == pid for e in events), "not both from dig")
    check(udp["l7"]["dns"]["query"]["edns"]["udp_size"] == 1232,
          f"EDNS of dig's query: {udp['l7']['dns']}")
    print(f"truncated: UDP answer with TC ({len(udp['dns']['answers'])} answers), "
          "then the TCP retry with all 8")


def query(qid, name, qtype=1):
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + labels + struct.pack("!HH", qtype, 1)


def framed(m):
    return struct.pack("!H", len(m)) + m


# argv: port, then each send as hex; after each send, the answers it asked for are read.
SPLIT_CLIENT = r'''
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # one send, one segment
for arg in sys.argv[2:]:
    want, data = arg.split(":")
    s.send(bytes.fromhex(data))
    for _ in range(int(want)):
        n = struct.unpack("!H", s.recv(2, socket.MSG_WAITALL))[0]
        s.recv(n, socket.MSG_WAITALL)
s.close()
'''


def split_client_args(port):
    """A message in two segments, then three messages in one. The first segment holds the
    length and the header: off port 53, the kernel filter recognises a DNS stream by them."""
    one = framed(query(0x1111, "h.example.test"))
    three = b"".join(framed(query(0x2220 + i, "h.example.test", 28)) for i in range(3))
    return [str(port), "0:" + one[:16].hex(), "1:" + one[16:].hex(), "3:" + three.hex()]


def test_tcp_streams():
    port = free_port()
    Dnsmasq("127.0.0.1", port).start()
    for capture in ("socket,syscall", "socket"):
        col = Collector("--capture", capture).start()
        proc = subprocess.Popen(["kdig", "@127.0.0.1", "-p", str(port), "+tcp", "+keepopen",
                                 "h.example.test", "A", "h.example.test", "AAAA",
                                 "t.example.test", "TXT"], stdout=subprocess.PIPE, text=True)
        out, _ = proc.communicate(timeout=30)
        check(proc.returncode == 0 and out.count("NOERROR") == 3, f"kdig:\n{out}")
        client = subprocess.Popen([sys.executable, "-c", SPLIT_CLIENT,
                                   *split_client_args(port)])
        check(client.wait(timeout=30) == 0, "the split-message client failed")
        wait_for(lambda: len(for_port(col.events("dns"), port)) >= 7, 20, "seven DNS events")
        col.stop()
        s = collector_exchange_check(col)
        events = for_port(col.events("dns"), port)
        check(len(events) == 7, f"{capture}: {len(events)} events, expected 7")
        check(all(e["network"]["transport"] == "tcp" and e["l7"]["status"] == "ok"
                  for e in events), f"{capture}: {[e['l7'] for e in events]}")
        kdig = [e for e in events if e.get("process", {}).get("pid") == proc.pid]
        ids = sorted(int(e["dns"]["id"]) for e in events if e not in kdig)
        check(ids == [0x1111, 0x2220, 0x2221, 0x2222], f"{capture}: split client ids {ids}")
        if capture == "socket":
            check(s["flows"]["dns_tcp_messages"] >= 14, f"flows: {s['flows']}")
        else:
            check(len(kdig) == 3 and {e["process"]["name"] for e in kdig} == {"kdig"},
                  f"kdig's events: {[e.get('process') for e in kdig]}")
            check(s["connections"]["dns_tcp_messages"] >= 14, f"connections: {s['connections']}")
    print("tcp: three queries on one kdig connection, a message in two segments and three in "
          "one segment, from the syscalls and from the wire")


GAI = r'''
#include <netdb.h>
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
	struct addrinfo hints, *res;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(argv[1], "80", &hints, &res);
	if (rc) {
		fprintf(stderr, "%s\n", gai_strerror(rc));
		return 1;
	}
	freeaddrinfo(res);
	return 0;
}
'''


def test_getaddrinfo():
    d = tmpdir("l7t-gai-")
    with open(os.path.join(d, "gai.c"), "w") as f:
        f.write(GAI)
    binary = os.path.join(d, "gai")
    run(["cc", "-O2", "-o", binary, os.path.join(d, "gai.c")])
    ns = Netns("l7dns", "10.77.0.1", "10.77.0.2")
    # ip netns exec puts /etc/netns/NAME/resolv.conf in place of /etc/resolv.conf.
    conf_dir = f"/etc/netns/{ns.name}"
    os.makedirs(conf_dir, exist_ok=True)
    cleanup.add(subprocess.run, ["rm", "-rf", conf_dir])
    with open(os.path.join(conf_dir, "resolv.conf"), "w") as f:
        f.write("nameserver 127.0.0.1\n")
    Dnsmasq("127.0.0.1", 53, netns=ns.name).start()
    col = Collector().start()
    proc = subprocess.Popen(["ip", "netns", "exec", ns.name, binary, "h.example.test"])
    check(proc.wait(timeout=30) == 0, "getaddrinfo failed")
    mine = lambda: [e for e in for_port(col.events("dns"), 53)
                    if e.get("process", {}).get("name") == "gai"]
    wait_for(lambda: len(mine()) >= 2, 20, "the A and AAAA transactions of getaddrinfo")
    col.stop()
    collector_exchange_check(col)
    events = mine()
    types = sorted(e["dns"]["question"]["type"] for e in events)
    check(types == ["A", "AAAA"], f"getaddrinfo's queries: {types}")
    for e in events:
        want = "192.0.2.8" if e["dns"]["question"]["type"] == "A" else "2001:db8::8"
        check(e["dns"]["resolved_ip"] == [want] and e["l7"]["status"] == "ok",
              f"{e['dns']} {e['l7']}")
    print("getaddrinfo: A and AAAA (sendmmsg) from the asking process, in a namespace")


SILENT = r'''
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
print("ready", flush=True)
while True:
    s.recvfrom(4096)
'''


def test_no_response():
    port = free_port()
    silent = subprocess.Popen([sys.executable, "-c", SILENT, str(port)], stdout=subprocess.PIPE,
                              text=True)
    cleanup.add(silent.kill)
    check(silent.stdout.readline().strip() == "ready", "the silent resolver did not start")
    col = Collector("--dns-timeout", "1").start()
    proc = subprocess.Popen(["dig", "@127.0.0.1", "-p", str(port), "+tries=1", "+time=3",
                             "h.example.test"], stdout=subprocess.DEVNULL)
    proc.wait(timeout=30)
    wait_for(lambda: for_port(col.events("dns"), port), 20, "the unanswered query's event")
    col.stop()
    s = collector_exchange_check(col)
    (e,) = for_port(col.events("dns"), port)
    check(e["l7"]["status"] == "no_response" and "response_code" not in e["dns"]
          and e["dns"]["type"] == "query", f"{e['dns']} {e['l7']}")
    check(e["process"]["pid"] == proc.pid, f"process {e['process']}, expected dig[{proc.pid}]")
    check(s["dns"]["no_response"] == 1, f"dns {s['dns']}")
    print("no response: reported after --dns-timeout, without a response code")


MALFORMED = [
    b"\x12",                                                   # shorter than a header
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",                      # not DNS at all
    query(7, "h.example.test")[:20],                           # cut inside the question
    struct.pack("!HHHHHH", 8, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c\x00\x01\x00\x01",  # pointer loop
    struct.pack("!HHHHHH", 9, 0x8180, 1, 65535, 0, 0) + query(9, "a.b")[12:],  # bogus count
]


def test_malformed():
    col = Collector("--capture", "socket", "-i", "lo", "--dns-timeout", "1").start()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for m in MALFORMED:
            s.sendto(m, ("127.0.0.1", 53))
        s.sendto(query(10, "h.example.test"), ("127.0.0.1", 53))  # a good one to sync on
    wait_for(lambda: col.events("dns"), 20, "the well-formed query's event")
    col.stop()
    s = collector_exchange_check(col)
    events = col.events("dns")
    check(len(events) == 1 and events[0]["dns"]["id"] == "10", f"events: {events}")
    check(s["dns"]["parse_errors"] == len(MALFORMED), f"dns {s['dns']}")
    print(f"malformed: {len(MALFORMED)} bad datagrams on port 53 counted, none reported")


if __name__ == "__main__":
    require_root()
    test_records()
    test_ipv6()
    test_truncated_then_tcp()
    test_tcp_streams()
    test_getaddrinfo()
    test_no_response()
    test_malformed()
    print("ok")
