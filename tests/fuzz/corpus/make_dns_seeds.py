#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_dns (tests/fuzz/corpus/dns/): real-looking DNS messages built
field by field, each behind the target's 3-byte prefix (flags, then a cut). Run it again after
changing it; the files are checked in, so the fuzz test does not need Python."""
import ipaddress
import os
import struct

QR, AA, TC, RD, RA, AD, CD = 0x8000, 0x0400, 0x0200, 0x0100, 0x0080, 0x0020, 0x0010
A, NS, CNAME, SOA, PTR, MX, TXT, AAAA, SRV, OPT, SVCB, HTTPS, CAA = (
    1, 2, 5, 6, 12, 15, 16, 28, 33, 41, 64, 65, 257)
IN = 1


def name(dotted):
    out = b""
    for label in dotted.split(".") if dotted else []:
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def labels(dotted):
    """Labels without the root label: a compression pointer follows."""
    return name(dotted)[:-1]


def ptr(off):
    return struct.pack(">H", 0xC000 | off)


def header(ident, flags, qd=1, an=0, ns=0, ar=0):
    return struct.pack(">6H", ident, flags, qd, an, ns, ar)


def question(qname, qtype, qclass=IN):
    return name(qname) + struct.pack(">HH", qtype, qclass)


def rr(owner, rtype, ttl, rdata, rclass=IN):
    return owner + struct.pack(">HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def opt(udp=1232, ext_rcode=0, do=False, options=b""):
    return rr(b"\0", OPT, ext_rcode << 24 | (0x8000 if do else 0), options, rclass=udp)


def v4(text):
    return ipaddress.IPv4Address(text).packed


def v6(text):
    return ipaddress.IPv6Address(text).packed


def strings(*parts):
    return b"".join(bytes([len(p)]) + p for p in parts)


def svc_param(key, value):
    return struct.pack(">HH", key, len(value)) + value


def seeds():
    q = 12  # where the question name starts: the usual pointer target
    cookie = struct.pack(">HH", 10, 8) + bytes.fromhex("5c1f3e9a7b2d4c01")
    yield "query_a", header(0x1A2B, RD, ar=1) + question("www.example.com", A) + opt(
        options=cookie)
    yield "query_aaaa_do", header(0x0D0E, RD | AD, ar=1) + question(
        "www.example.com", AAAA) + opt(4096, do=True)
    yield "response_a", header(0x1A2B, QR | RD | RA, an=2, ar=1) + question(
        "www.example.com", A) + rr(ptr(q), A, 300, v4("93.184.216.34")) + rr(
            ptr(q), A, 300, v4("93.184.216.35")) + opt()
    yield "response_aaaa", header(0x0D0E, QR | RD | RA | AD, an=1, ar=1) + question(
        "www.example.com", AAAA) + rr(ptr(q), AAAA, 3600,
                                      v6("2606:2800:220:1:248:1893:25c8:1946")) + opt(do=True)

    # www.example.com CNAME cdn.example.net; cdn CNAME edge.example.net; edge A, A.
    msg = header(0x2222, QR | RD | RA, an=4) + question("www.example.com", A)
    cdn = len(msg) + 12
    msg += rr(ptr(q), CNAME, 60, name("cdn.example.net"))
    edge = len(msg) + 12
    msg += rr(ptr(cdn), CNAME, 60, labels("edge") + ptr(cdn + 4))
    msg += rr(ptr(edge), A, 20, v4("192.0.2.10")) + rr(ptr(edge), A, 20, v4("192.0.2.11"))
    yield "response_cname_chain", msg

    msg = header(0x3333, QR | RD | RA, an=2) + question("example.com", MX)
    msg += rr(ptr(q), MX, 3600, struct.pack(">H", 10) + labels("mx1") + ptr(q))
    msg += rr(ptr(q), MX, 3600, struct.pack(">H", 20) + labels("mx2") + ptr(q))
    yield "response_mx", msg

    dkim = b"v=DKIM1; k=rsa; p=" + b"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" * 8
    txt = header(0x4444, QR | RD | RA, an=3) + question("example.com", TXT) + rr(
        ptr(q), TXT, 300, strings(b"v=spf1 -all")) + rr(
            ptr(q), TXT, 300, strings(b"google-site-verification=abc", b"second \"quoted\"")) + rr(
                ptr(q), TXT, 300, strings(dkim[:255], dkim[255:]))
    yield "response_txt", txt
    # Cut inside the big record, as a 200-byte capture limit would.
    yield "truncated", txt[:200]

    msg = header(0x5555, QR | RD | RA, an=2, ar=1) + question("_sip._tcp.example.com", SRV)
    target = len(msg) + 12 + 6
    msg += rr(ptr(q), SRV, 600, struct.pack(">HHH", 0, 5, 5060) + name("sip1.example.com"))
    msg += rr(ptr(q), SRV, 600, struct.pack(">HHH", 10, 5, 5060) + labels("sip2") + ptr(
        target + 5))
    msg += rr(ptr(target), A, 600, v4("198.51.100.7"))
    yield "response_srv", msg

    soa = name("ns1.example.com") + name("hostmaster.example.com") + struct.pack(
        ">5I", 2024010101, 7200, 3600, 1209600, 300)
    yield "response_nxdomain_soa", header(0x6666, QR | RD | RA | 3, ns=1, ar=1) + question(
        "nope.example.com", A) + rr(ptr(q + 5), SOA, 900, soa) + opt()

    yield "response_caa", header(0x7777, QR | RD | RA, an=2) + question("example.com", CAA) + rr(
        ptr(q), CAA, 3600, b"\x00\x05issueletsencrypt.org") + rr(
            ptr(q), CAA, 3600, b"\x80\x05iodefmailto:security@example.com")

    params = (svc_param(1, strings(b"h2", b"h3")) + svc_param(3, struct.pack(">H", 443)) +
              svc_param(4, v4("104.16.132.229") + v4("104.16.133.229")) +
              svc_param(5, bytes.fromhex("0045fe0d00412b00200020")) +
              svc_param(6, v6("2606:4700::6810:84e5") + v6("2606:4700::6810:85e5")))
    yield "response_https", header(0x8888, QR | RD | RA, an=1) + question(
        "cloudflare.example", HTTPS) + rr(ptr(q), HTTPS, 300, struct.pack(">H", 1) + b"\0" +
                                          params)
    yield "response_svcb_alias", header(0x8889, QR | RD | RA, an=1) + question(
        "_dns.resolver.arpa", SVCB) + rr(ptr(q), SVCB, 300,
                                         struct.pack(">H", 0) + name("dns.example.net"))

    yield "response_ptr", header(0x9999, QR | RD | RA, an=1) + question(
        "34.216.184.93.in-addr.arpa", PTR) + rr(ptr(q), PTR, 86400, name("host.example.com"))

    msg = header(0xAAAA, QR | AA, an=2, ar=3) + question("", NS)
    a_root = len(msg) + 11  # past the root owner name and the fixed fields
    msg += rr(b"\0", NS, 518400, name("a.root-servers.net"))
    msg += rr(b"\0", NS, 518400, labels("b") + ptr(a_root + 2))
    msg += rr(ptr(a_root), A, 518400, v4("198.41.0.4"))
    msg += rr(ptr(a_root), AAAA, 518400, v6("2001:503:ba3e::2:30"))
    msg += opt(1232, do=True)
    yield "response_ns_root_glue", msg

    yield "response_badvers", header(0xBBBB, QR, ar=1) + question("example.com", A) + opt(
        1232, ext_rcode=1)

    yield "response_many", header(0xCCCC, QR | RD | RA, an=40) + question(
        "many.example.com", A) + b"".join(
            rr(ptr(q), A, 60, v4("10.0.0.%d" % i)) for i in range(40))

    yield "update", header(0xDDDD, 5 << 11, qd=1, an=1, ns=1) + question("example.com", SOA) + rr(
        labels("www") + ptr(q), CNAME, 0, b"", rclass=255) + rr(
            labels("www") + ptr(q), A, 300, v4("192.0.2.1"))
    yield "notify", header(0xEEEE, 4 << 11 | AA, an=1) + question("example.com", SOA) + rr(
        ptr(q), SOA, 3600, soa)

    yield "loop_self", header(0x0101, 0) + ptr(q) + struct.pack(">HH", A, IN)
    msg = header(0x0202, QR, an=1) + question("example.com", A)
    loop = len(msg)
    yield "loop_pair", msg + ptr(loop + 2) + ptr(loop) + struct.pack(">HHIH", A, IN, 0, 0)
    yield "loop_labels", header(0x0303, 0) + labels("a") + ptr(q) + struct.pack(">HH", A, IN)

    msg = header(0x0404, QR, an=2) + question("www.example.com", A)
    target = len(msg) + 12 + 2
    msg += rr(ptr(q), CNAME, 60, ptr(target))
    msg += rr(name("target.example.org"), A, 60, v4("192.0.2.4"))
    yield "forward_pointer", msg



def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dns")
    os.makedirs(out, exist_ok=True)
    for label, msg in seeds():
        partial = 1 if label == "truncated" else 0
        with open(os.path.join(out, label), "wb") as f:
            f.write(bytes([partial]) + struct.pack(">H", len(msg) // 2) + msg)


if __name__ == "__main__":
    main()
