/* pkt_decode against hand-built frames: every link type, IPv4 options, IPv6 extension headers, TCP
 * options, Ethernet padding, snap-length cuts, GSO lengths and every error status. Frames are
 * decoded from guarded copies so that any read past caplen crashes. */
#include "check.h"
#include "packet.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* ---- frame builder ----------------------------------------------------------------------- */

struct fb {
	uint8_t b[4096];
	size_t n;
	size_t ip; /* offset of the IP header */
	int ipver;
	size_t udp; /* offset of the UDP header, 0 if none */
};

static const uint8_t v4_src[4] = {192, 0, 2, 1};
static const uint8_t v4_dst[4] = {198, 51, 100, 7};
static const uint8_t v6_src[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t v6_dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, [14] = 0xab, [15] = 0xcd};

static void put(struct fb *f, const void *p, size_t n)
{
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void put8(struct fb *f, uint8_t v)
{
	put(f, &v, 1);
}

static void put16(struct fb *f, uint16_t v)
{
	v = htons(v);
	put(f, &v, 2);
}

static void put32(struct fb *f, uint32_t v)
{
	v = htonl(v);
	put(f, &v, 4);
}

static void put_zeros(struct fb *f, size_t n)
{
	memset(f->b + f->n, 0, n);
	f->n += n;
}

static void patch16(struct fb *f, size_t off, uint16_t v)
{
	v = htons(v);
	memcpy(f->b + off, &v, 2);
}

/* Destination and source MAC, then the first ethertype (a TPID when tags follow). */
static void eth(struct fb *f, uint16_t type)
{
	static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};

	put(f, macs, sizeof(macs));
	put16(f, type);
}

static void vlan(struct fb *f, uint16_t vid, uint16_t type)
{
	put16(f, vid);
	put16(f, type);
}

/* IPv4 header with opt_len bytes of options (NOPs); the total length is set by finish(). */
static void ip4(struct fb *f, uint8_t proto, size_t opt_len, uint16_t frag)
{
	f->ip = f->n;
	f->ipver = 4;
	put8(f, (uint8_t)(0x40 | (5 + opt_len / 4)));
	put8(f, 0);
	put16(f, 0);
	put16(f, 0x1234);
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put(f, v4_src, 4);
	put(f, v4_dst, 4);
	memset(f->b + f->n, 1, opt_len);
	f->n += opt_len;
}

static void ip6(struct fb *f, uint8_t next)
{
	f->ip = f->n;
	f->ipver = 6;
	put32(f, 0x60012345);
	put16(f, 0);
	put8(f, next);
	put8(f, 64);
	put(f, v6_src, 16);
	put(f, v6_dst, 16);
}

/* An extension header of type `type` spanning len bytes (a multiple of 8), in the length unit that
 * type uses. */
static void ext6(struct fb *f, uint8_t type, uint8_t next, size_t len)
{
	size_t start = f->n;

	put8(f, next);
	put8(f, (uint8_t)(type == IPPROTO_AH ? len / 4 - 2 : len / 8 - 1));
	put_zeros(f, len - 2);
	/* PadN filling the options, so the header is also valid option-wise. */
	if (type == IPPROTO_HOPOPTS || type == IPPROTO_DSTOPTS) {
		f->b[start + 2] = 1;
		f->b[start + 3] = (uint8_t)(len - 4);
	}
}

static void frag6(struct fb *f, uint8_t next, uint16_t off_flags)
{
	put8(f, next);
	put8(f, 0);
	put16(f, off_flags);
	put32(f, 0xdeadbeef);
}

/* TCP header with opt_len bytes of options (NOPs). */
static void tcp(struct fb *f, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                uint8_t flags, size_t opt_len)
{
	put16(f, sport);
	put16(f, dport);
	put32(f, seq);
	put32(f, ack);
	put8(f, (uint8_t)((5 + opt_len / 4) << 4));
	put8(f, flags);
	put16(f, 65535);
	put32(f, 0);
	memset(f->b + f->n, 1, opt_len);
	f->n += opt_len;
}

static void udp(struct fb *f, uint16_t sport, uint16_t dport)
{
	f->udp = f->n;
	put16(f, sport);
	put16(f, dport);
	put32(f, 0);
}

static void data(struct fb *f, const char *s)
{
	put(f, s, strlen(s));
}

/* Sets the IP and UDP lengths from what was built so far. */
static void finish(struct fb *f)
{
	if (f->ipver == 4)
		patch16(f, f->ip + 2, (uint16_t)(f->n - f->ip));
	else
		patch16(f, f->ip + 4, (uint16_t)(f->n - f->ip - 40));
	if (f->udp)
		patch16(f, f->udp + 4, (uint16_t)(f->n - f->udp));
}

/* ---- decoding ---------------------------------------------------------------------------- */

struct result {
	int status;
	struct pkt p;
	size_t payload_off; /* payload - frame */
};

/* Decodes the first caplen bytes of f from a guarded copy. */
static struct result decode_cut(const struct fb *f, size_t caplen, size_t wire_len,
                                enum pkt_link link)
{
	uint8_t *copy = guarded_copy(f->b, caplen);
	struct result r;

	memset(&r, 0, sizeof(r));
	r.status = pkt_decode(copy, caplen, wire_len, link, &r.p);
	if (r.status == PKT_OK) {
		CHECK(r.p.payload >= copy && r.p.payload + r.p.payload_cap <= copy + caplen);
		CHECK(r.p.payload_cap <= r.p.payload_len);
		r.payload_off = (size_t)(r.p.payload - copy);
	}
	guarded_free(copy, caplen);
	return r;
}

static struct result decode(const struct fb *f, enum pkt_link link)
{
	return decode_cut(f, f->n, f->n, link);
}

static void check_v4_tuple(const struct pkt *p, uint8_t proto, uint16_t sport, uint16_t dport)
{
	static const uint8_t zero[12];

	CHECK_EQ_U64(p->t.family, AF_INET);
	CHECK_EQ_U64(p->t.proto, proto);
	CHECK_EQ_U64(p->t.sport, sport);
	CHECK_EQ_U64(p->t.dport, dport);
	CHECK_EQ_U64(p->t.reserved, 0);
	CHECK(memcmp(p->t.saddr, v4_src, 4) == 0);
	CHECK(memcmp(p->t.daddr, v4_dst, 4) == 0);
	CHECK(memcmp(p->t.saddr + 4, zero, 12) == 0);
	CHECK(memcmp(p->t.daddr + 4, zero, 12) == 0);
}

static void check_v6_tuple(const struct pkt *p, uint8_t proto, uint16_t sport, uint16_t dport)
{
	CHECK_EQ_U64(p->t.family, AF_INET6);
	CHECK_EQ_U64(p->t.proto, proto);
	CHECK_EQ_U64(p->t.sport, sport);
	CHECK_EQ_U64(p->t.dport, dport);
	CHECK_EQ_U64(p->t.reserved, 0);
	CHECK(memcmp(p->t.saddr, v6_src, 16) == 0);
	CHECK(memcmp(p->t.daddr, v6_dst, 16) == 0);
}

static void check_status(const struct fb *f, enum pkt_link link, int want)
{
	struct result r = decode(f, link);

	CHECK_STR(pkt_status_name(r.status), pkt_status_name(want));
}

/* ---- tests ------------------------------------------------------------------------------- */

static const char http_get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

/* Ethernet, IPv4 with 8 bytes of options, TCP with 12 bytes of options. */
static void build_eth_ip4_tcp(struct fb *f)
{
	memset(f, 0, sizeof(*f));
	eth(f, 0x0800);
	ip4(f, IPPROTO_TCP, 8, 0x4000 /* DF */);
	tcp(f, 43210, 80, 0x80000001, 0xfedcba98, PKT_TCP_PSH | PKT_TCP_ACK, 12);
	data(f, http_get);
	finish(f);
}

static void test_ipv4_tcp_fields(void)
{
	struct fb f;
	struct result r;

	build_eth_ip4_tcp(&f);
	r = decode(&f, PKT_LINK_ETHERNET);
	CHECK_EQ_U64(r.status, PKT_OK);
	check_v4_tuple(&r.p, IPPROTO_TCP, 43210, 80);
	CHECK_EQ_U64(r.p.tcp_flags, PKT_TCP_PSH | PKT_TCP_ACK);
	CHECK_EQ_U64(r.p.seq, 0x80000001);
	CHECK_EQ_U64(r.p.ack, 0xfedcba98);
	CHECK_EQ_U64(r.payload_off, 14 + 28 + 32);
	CHECK_EQ_U64(r.p.payload_len, strlen(http_get));
	CHECK_EQ_U64(r.p.payload_cap, strlen(http_get));
	CHECK(memcmp(f.b + r.payload_off, http_get, strlen(http_get)) == 0);
}

static void test_tcp_flags(void)
{
	static const uint8_t all[] = {PKT_TCP_FIN, PKT_TCP_SYN, PKT_TCP_RST,
	                              PKT_TCP_PSH, PKT_TCP_ACK, PKT_TCP_SYN | PKT_TCP_ACK};

	for (size_t i = 0; i < sizeof(all); i++) {
		struct fb f = {0};
		struct result r;

		ip4(&f, IPPROTO_TCP, 0, 0);
		tcp(&f, 1, 2, 3, 4, all[i], 0);
		finish(&f);
		r = decode(&f, PKT_LINK_RAW);
		CHECK_EQ_U64(r.status, PKT_OK);
		CHECK_EQ_U64(r.p.tcp_flags, all[i]);
		CHECK_EQ_U64(r.p.payload_len, 0);
		CHECK_EQ_U64(r.payload_off, 40);
	}
}

static void test_vlan_ipv6_udp(void)
{
	struct fb f = {0};
	struct result r;

	eth(&f, 0x8100);
	vlan(&f, 42, 0x86dd);
	ip6(&f, IPPROTO_UDP);
	udp(&f, 5353, 53);
	data(&f, "dns-query");
	finish(&f);
	r = decode(&f, PKT_LINK_ETHERNET);
	CHECK_EQ_U64(r.status, PKT_OK);
	check_v6_tuple(&r.p, IPPROTO_UDP, 5353, 53);
	CHECK_EQ_U64(r.p.tcp_flags, 0);
	CHECK_EQ_U64(r.p.seq, 0);
	CHECK_EQ_U64(r.payload_off, 18 + 40 + 8);
	CHECK_EQ_U64(r.p.payload_len, 9);
	CHECK_EQ_U64(r.p.payload_cap, 9);
}

static void test_qinq(void)
{
	struct fb f = {0};
	struct result r;

	eth(&f, 0x88a8);
	vlan(&f, 100, 0x8100);
	vlan(&f, 200, 0x0800);
	ip4(&f, IPPROTO_UDP, 0, 0);
	udp(&f, 1000, 53);
	data(&f, "abc");
	finish(&f);
	r = decode(&f, PKT_LINK_ETHERNET);
	CHECK_EQ_U64(r.status, PKT_OK);
	check_v4_tuple(&r.p, IPPROTO_UDP, 1000, 53);
	CHECK_EQ_U64(r.payload_off, 22 + 20 + 8);
	CHECK_EQ_U64(r.p.payload_len, 3);

	/* A third tag is beyond what we unwrap. */
	memset(&f, 0, sizeof(f));
	eth(&f, 0x88a8);
	vlan(&f, 1, 0x8100);
	vlan(&f, 2, 0x8100);
	vlan(&f, 3, 0x0800);
	ip4(&f, IPPROTO_UDP, 0, 0);
	udp(&f, 1, 2);
	finish(&f);
	check_status(&f, PKT_LINK_ETHERNET, PKT_ERR_NOT_IP);

	/* A tag cut short is a link error. */
	memset(&f, 0, sizeof(f));
	eth(&f, 0x8100);
	put16(&f, 7);
	check_status(&f, PKT_LINK_ETHERNET, PKT_ERR_LINK);
}

static void test_ethernet_padding(void)
{
	struct fb f = {0};
	struct result r;

	eth(&f, 0x0800);
	ip4(&f, IPPROTO_UDP, 0, 0);
	udp(&f, 53, 5353);
	data(&f, "xy");
	finish(&f);
	put_zeros(&f, 60 - f.n);
	r = decode(&f, PKT_LINK_ETHERNET);
	CHECK_EQ_U64(r.status, PKT_OK);
	CHECK_EQ_U64(r.p.payload_len, 2);
	CHECK_EQ_U64(r.p.payload_cap, 2);

	/* The same for TCP. */
	memset(&f, 0, sizeof(f));
	eth(&f, 0x0800);
	ip4(&f, IPPROTO_TCP, 0, 0);
	tcp(&f, 1, 2, 3, 4, PKT_TCP_ACK, 0);
	finish(&f);
	put_zeros(&f, 6);
	r = decode(&f, PKT_LINK_ETHERNET);
	CHECK_EQ_U64(r.status, PKT_OK);
	CHECK_EQ_U64(r.p.payload_len, 0);
	CHECK_EQ_U64(r.p.payload_cap, 0);
}

static void test_snaplen_cut(void)
{
	struct fb f;
	struct result r;
	size_t hdrs = 14 + 28 + 32;

	build_eth_ip4_tcp(&f);
	r = decode_cut(&f, hdrs + 5, f.n, PKT_LINK_ETHERNET);
	CHECK_EQ_U64(r.status, PKT_OK);
	CHECK_EQ_U64(r.p.payload_cap, 5);
	CHECK_EQ_U64(r.p.payload_len, strlen(http_get));

	/* Exactly the headers: an empty but valid capture of the payload. */
	r = decode_cut(&f, hdrs, f.n, PKT_LINK_ETHERNET);
	CHECK_EQ_U64(r.status, PKT_OK);
	CHECK_EQ_U64(r.p.payload_cap, 0);
	CHECK_EQ_U64(r.p.payload_len, strlen(http_get));

	/* Cut inside the TCP options, inside the IP options, inside the Ethernet header. */
	r = decode_cut(&f, hdrs - 1, f.n, PKT_LINK_ETHERNET);
	CHECK_EQ_U64(r.status, PKT_ERR_MALFORMED);
	r = decode_cut(&f, 14 + 24, f.n, PKT_LINK_ETHERNET);
	CHECK_EQ_U64(r.status, PKT_ERR_MALFORMED);
	r = decode_cut(&f, 13, f.n, PKT_LINK_ETHERNET);
	CHECK_EQ_U64(r.status, PKT_ERR_LINK);

	/* A wire length below caplen is ignored rather than trusted. */
	r = decode_cut(&f, f.n, 10, PKT_LINK_ETHERNET);
	CHECK_EQ_U64(r.status, PKT_OK);
	CHECK_EQ_U64(r.p.payload_len, strlen(http_get));
}

static void test_gso(void)
{
	struct fb f = {0};
	struct result r;

	/* IPv4 total length 0: the frame length decides. */
	eth(&f, 0x0800);
	ip4(&f, IPPROTO_TCP, 0, 0);
	tcp(&f, 1, 2, 3, 4, PKT_TCP_ACK, 0);
	data(&f, "0123456789");
	r = decode_cut(&f, f.n, 100000, PKT_LINK_ETHERNET);
	CHECK_EQ_U64(r.status, PKT_OK);
	CHECK_EQ_U64(r.p.payload_cap, 10);
	CHECK_EQ_U64(r.p.payload_len, 100000 - 14 - 20 - 20);
	r = decode(&f, PKT_LINK_ETHERNET);
	CHECK_EQ_U64(r.status, PKT_OK);
	CHECK_EQ_U64(r.p.payload_len, 10);

	/* A frame length that payload_len cannot hold is nonsense. */
	r = decode_cut(&f, f.n, (size_t)1 << 33, PKT_LINK_ETHERNET);
	CHECK_EQ_U64(r.status, PKT_ERR_MALFORMED);

	/* IPv6 payload length 0. */
	memset(&f, 0, sizeof(f));
	ip6(&f, IPPROTO_TCP);
	tcp(&f, 1, 2, 3, 4, PKT_TCP_ACK, 0);
	data(&f, "0123456789");
	r = decode_cut(&f, f.n, 70000, PKT_LINK_RAW);
	CHECK_EQ_U64(r.status, PKT_OK);
	CHECK_EQ_U64(r.p.payload_cap, 10);
	CHECK_EQ_U64(r.p.payload_len, 70000 - 40 - 20);

	/* UDP keeps its own length even then. */
	memset(&f, 0, sizeof(f));
	ip4(&f, IPPROTO_UDP, 0, 0);
	udp(&f, 1, 2);
	data(&f, "abcd");
	patch16(&f, f.udp + 4, 12);
	r = decode_cut(&f, f.n, 5000, PKT_LINK_RAW);
	CHECK_EQ_U64(r.status, PKT_OK);
	CHECK_EQ_U64(r.p.payload_len, 4);
}

static void test_ipv6_extension_headers(void)
{
	struct fb f = {0};
	struct result r;

	eth(&f, 0x86dd);
	ip6(&f, IPPROTO_HOPOPTS);
	ext6(&f, IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, 8);
	ext6(&f, IPPROTO_DSTOPTS, IPPROTO_ROUTING, 16);
	ext6(&f, IPPROTO_ROUTING, IPPROTO_FRAGMENT, 24);
	frag6(&f, IPPROTO_AH, 0); /* an atomic fragment: offset 0, no more fragments */
	ext6(&f, IPPROTO_AH, IPPROTO_DSTOPTS, 24);
	ext6(&f, IPPROTO_DSTOPTS, IPPROTO_TCP, 8);
	tcp(&f, 443, 50000, 7, 8, PKT_TCP_SYN, 20);
	data(&f, "hello");
	finish(&f);
	r = decode(&f, PKT_LINK_ETHERNET);
	CHECK_EQ_U64(r.status, PKT_OK);
	check_v6_tuple(&r.p, IPPROTO_TCP, 443, 50000);
	CHECK_EQ_U64(r.p.tcp_flags, PKT_TCP_SYN);
	CHECK_EQ_U64(r.payload_off, 14 + 40 + 8 + 16 + 24 + 8 + 24 + 8 + 40);
	CHECK_EQ_U64(r.p.payload_len, 5);
	CHECK_EQ_U64(r.p.payload_cap, 5);
}

static void test_ipv6_errors(void)
{
	struct fb f;

	/* Fragments: more-fragments flag, non-zero offset. */
	static const uint16_t frags[] = {0x0001, 0x0008, 0xfff8};
	for (size_t i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
		memset(&f, 0, sizeof(f));
		ip6(&f, IPPROTO_FRAGMENT);
		frag6(&f, IPPROTO_UDP, frags[i]);
		udp(&f, 1, 2);
		finish(&f);
		check_status(&f, PKT_LINK_RAW, PKT_ERR_FRAGMENT);
	}

	/* No next header, ICMPv6, ESP. */
	static const uint8_t protos[] = {IPPROTO_NONE, IPPROTO_ICMPV6, IPPROTO_ESP};
	for (size_t i = 0; i < sizeof(protos); i++) {
		memset(&f, 0, sizeof(f));
		ip6(&f, IPPROTO_DSTOPTS);
		ext6(&f, IPPROTO_DSTOPTS, protos[i], 8);
		put_zeros(&f, 8);
		finish(&f);
		check_status(&f, PKT_LINK_RAW, PKT_ERR_PROTO);
	}

	/* Eight extension headers pass, a ninth is garbage. */
	for (int n = 8; n <= 9; n++) {
		memset(&f, 0, sizeof(f));
		ip6(&f, IPPROTO_DSTOPTS);
		for (int i = 0; i < n; i++)
			ext6(&f, IPPROTO_DSTOPTS, i == n - 1 ? IPPROTO_UDP : IPPROTO_DSTOPTS, 8);
		udp(&f, 1, 2);
		finish(&f);
		check_status(&f, PKT_LINK_RAW, n == 8 ? PKT_OK : PKT_ERR_MALFORMED);
	}

	/* An extension header longer than the payload length says. */
	memset(&f, 0, sizeof(f));
	ip6(&f, IPPROTO_ROUTING);
	ext6(&f, IPPROTO_ROUTING, IPPROTO_UDP, 32);
	udp(&f, 1, 2);
	finish(&f);
	patch16(&f, f.ip + 4, 24);
	check_status(&f, PKT_LINK_RAW, PKT_ERR_MALFORMED);

	/* Payload length too short for the UDP header. */
	memset(&f, 0, sizeof(f));
	ip6(&f, IPPROTO_UDP);
	udp(&f, 1, 2);
	finish(&f);
	patch16(&f, f.ip + 4, 4);
	check_status(&f, PKT_LINK_RAW, PKT_ERR_MALFORMED);

	/* Ethertype IPv6 but an IPv4 header. */
	memset(&f, 0, sizeof(f));
	eth(&f, 0x86dd);
	ip4(&f, IPPROTO_UDP, 0, 0);
	udp(&f, 1, 2);
	put_zeros(&f, 20);
	finish(&f);
	check_status(&f, PKT_LINK_ETHERNET, PKT_ERR_MALFORMED);

	/* The fixed header cut short. */
	memset(&f, 0, sizeof(f));
	ip6(&f, IPPROTO_UDP);
	f.n = 30;
	check_status(&f, PKT_LINK_RAW, PKT_ERR_MALFORMED);
}

static void test_ipv4_errors(void)
{
	struct fb f;

	/* Fragments: MF, an offset, both; DF alone is fine. */
	static const uint16_t frags[] = {0x2000, 0x0001, 0x3fff, 0x1fff};
	for (size_t i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
		memset(&f, 0, sizeof(f));
		ip4(&f, IPPROTO_UDP, 0, frags[i]);
		udp(&f, 1, 2);
		finish(&f);
		check_status(&f, PKT_LINK_RAW, PKT_ERR_FRAGMENT);
	}

	/* ICMP, GRE. */
	static const uint8_t protos[] = {IPPROTO_ICMP, IPPROTO_GRE};
	for (size_t i = 0; i < sizeof(protos); i++) {
		memset(&f, 0, sizeof(f));
		ip4(&f, protos[i], 0, 0);
		put_zeros(&f, 8);
		finish(&f);
		check_status(&f, PKT_LINK_RAW, PKT_ERR_PROTO);
	}

	/* IHL below 5. */
	memset(&f, 0, sizeof(f));
	ip4(&f, IPPROTO_UDP, 0, 0);
	udp(&f, 1, 2);
	finish(&f);
	f.b[f.ip] = 0x44;
	check_status(&f, PKT_LINK_RAW, PKT_ERR_MALFORMED);

	/* Total length below the header (options included). */
	memset(&f, 0, sizeof(f));
	ip4(&f, IPPROTO_UDP, 4, 0);
	udp(&f, 1, 2);
	finish(&f);
	patch16(&f, f.ip + 2, 20);
	check_status(&f, PKT_LINK_RAW, PKT_ERR_MALFORMED);

	/* Total length leaves no room for the UDP header. */
	patch16(&f, f.ip + 2, 24 + 7);
	check_status(&f, PKT_LINK_RAW, PKT_ERR_MALFORMED);

	/* Ethertype IPv4 but an IPv6 header. */
	memset(&f, 0, sizeof(f));
	eth(&f, 0x0800);
	ip6(&f, IPPROTO_UDP);
	udp(&f, 1, 2);
	finish(&f);
	check_status(&f, PKT_LINK_ETHERNET, PKT_ERR_MALFORMED);
}

static void test_tcp_errors(void)
{
	struct fb f = {0};

	ip4(&f, IPPROTO_TCP, 0, 0);
	tcp(&f, 1, 2, 3, 4, 0, 0);
	finish(&f);
	f.b[20 + 12] = 0x40; /* data offset 4 */
	check_status(&f, PKT_LINK_RAW, PKT_ERR_MALFORMED);

	/* Options beyond the IP length (and the capture). */
	f.b[20 + 12] = 0x60;
	check_status(&f, PKT_LINK_RAW, PKT_ERR_MALFORMED);

	/* Options beyond the IP length but present in the capture. */
	put_zeros(&f, 4);
	check_status(&f, PKT_LINK_RAW, PKT_ERR_MALFORMED);
}

static void test_udp_lengths(void)
{
	struct fb f = {0};
	struct result r;

	ip4(&f, IPPROTO_UDP, 0, 0);
	udp(&f, 1, 2);
	data(&f, "0123456789");
	finish(&f);

	/* UDP shorter than IP: the UDP length wins. */
	patch16(&f, f.udp + 4, 8 + 3);
	r = decode(&f, PKT_LINK_RAW);
	CHECK_EQ_U64(r.status, PKT_OK);
	CHECK_EQ_U64(r.p.payload_len, 3);
	CHECK_EQ_U64(r.p.payload_cap, 3);

	/* UDP longer than IP: the IP length wins. */
	patch16(&f, f.udp + 4, 1000);
	r = decode(&f, PKT_LINK_RAW);
	CHECK_EQ_U64(r.status, PKT_OK);
	CHECK_EQ_U64(r.p.payload_len, 10);

	/* Exactly the header: an empty datagram. */
	patch16(&f, f.udp + 4, 8);
	r = decode(&f, PKT_LINK_RAW);
	CHECK_EQ_U64(r.status, PKT_OK);
	CHECK_EQ_U64(r.p.payload_len, 0);

	patch16(&f, f.udp + 4, 7);
	check_status(&f, PKT_LINK_RAW, PKT_ERR_MALFORMED);
	patch16(&f, f.udp + 4, 0);
	check_status(&f, PKT_LINK_RAW, PKT_ERR_MALFORMED);
}

/* An IPv4 or IPv6 UDP packet behind the given link header bytes. */
static void build_behind(struct fb *f, const void *link_hdr, size_t link_len, int ipver)
{
	memset(f, 0, sizeof(*f));
	put(f, link_hdr, link_len);
	if (ipver == 4)
		ip4(f, IPPROTO_UDP, 0, 0);
	else
		ip6(f, IPPROTO_UDP);
	udp(f, 1234, 53);
	data(f, "q");
	finish(f);
}

static void check_behind(const void *link_hdr, size_t link_len, int ipver, enum pkt_link link,
                         int want)
{
	struct fb f;
	struct result r;

	build_behind(&f, link_hdr, link_len, ipver);
	r = decode(&f, link);
	CHECK_STR(pkt_status_name(r.status), pkt_status_name(want));
	if (want != PKT_OK || r.status != PKT_OK)
		return;
	CHECK_EQ_U64(r.p.t.family, ipver == 4 ? AF_INET : AF_INET6);
	CHECK_EQ_U64(r.p.t.sport, 1234);
	CHECK_EQ_U64(r.payload_off, link_len + (ipver == 4 ? 20 : 40) + 8);
	CHECK_EQ_U64(r.p.payload_len, 1);
}

static void test_null_and_loop(void)
{
	static const struct {
		uint32_t af;
		int ipver;
	} afs[] = {{2, 4}, {10, 6}, {24, 6}, {28, 6}, {30, 6}};

	for (size_t i = 0; i < sizeof(afs) / sizeof(afs[0]); i++) {
		uint32_t host = afs[i].af, net = htonl(afs[i].af);

		check_behind(&host, 4, afs[i].ipver, PKT_LINK_NULL, PKT_OK);
		check_behind(&net, 4, afs[i].ipver, PKT_LINK_LOOP, PKT_OK);
		/* Each in the other's byte order is not a family we know. */
		check_behind(&net, 4, afs[i].ipver, PKT_LINK_NULL, PKT_ERR_NOT_IP);
		check_behind(&host, 4, afs[i].ipver, PKT_LINK_LOOP, PKT_ERR_NOT_IP);
	}
	uint32_t other = 7;
	check_behind(&other, 4, 4, PKT_LINK_NULL, PKT_ERR_NOT_IP);

	struct fb f = {0};
	put16(&f, 0);
	check_status(&f, PKT_LINK_NULL, PKT_ERR_LINK);
	check_status(&f, PKT_LINK_LOOP, PKT_ERR_LINK);
}

static void test_raw(void)
{
	check_behind("", 0, 4, PKT_LINK_RAW, PKT_OK);
	check_behind("", 0, 6, PKT_LINK_RAW, PKT_OK);

	struct fb f = {0};
	put8(&f, 0x50);
	put_zeros(&f, 40);
	check_status(&f, PKT_LINK_RAW, PKT_ERR_NOT_IP);
	f.n = 0;
	check_status(&f, PKT_LINK_RAW, PKT_ERR_MALFORMED);
}

static void test_sll(void)
{
	uint8_t sll[16] = {0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00};
	uint8_t sll2[20] = {0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 2, 0, 0};

	check_behind(sll, sizeof(sll), 4, PKT_LINK_LINUX_SLL, PKT_OK);
	sll[14] = 0x86;
	sll[15] = 0xdd;
	check_behind(sll, sizeof(sll), 6, PKT_LINK_LINUX_SLL, PKT_OK);
	sll[14] = 0x08;
	sll[15] = 0x06; /* ARP */
	check_behind(sll, sizeof(sll), 4, PKT_LINK_LINUX_SLL, PKT_ERR_NOT_IP);

	check_behind(sll2, sizeof(sll2), 6, PKT_LINK_LINUX_SLL2, PKT_OK);
	sll2[0] = 0x08;
	sll2[1] = 0x00;
	check_behind(sll2, sizeof(sll2), 4, PKT_LINK_LINUX_SLL2, PKT_OK);
	sll2[1] = 0x06;
	check_behind(sll2, sizeof(sll2), 4, PKT_LINK_LINUX_SLL2, PKT_ERR_NOT_IP);

	struct fb f = {0};
	put_zeros(&f, 15);
	check_status(&f, PKT_LINK_LINUX_SLL, PKT_ERR_LINK);
	put_zeros(&f, 4);
	check_status(&f, PKT_LINK_LINUX_SLL2, PKT_ERR_LINK);
}

static void test_unknown_link_and_ethertype(void)
{
	struct fb f;

	build_eth_ip4_tcp(&f);
	check_status(&f, (enum pkt_link)999, PKT_ERR_LINK);
	check_status(&f, (enum pkt_link)105 /* 802.11 */, PKT_ERR_LINK);

	memset(&f, 0, sizeof(f));
	eth(&f, 0x0806); /* ARP */
	put_zeros(&f, 28);
	check_status(&f, PKT_LINK_ETHERNET, PKT_ERR_NOT_IP);
}

/* Every prefix of a valid frame either fails (headers incomplete) or decodes the same packet with
 * fewer payload bytes present. */
static void check_prefixes(const struct fb *f, enum pkt_link link)
{
	struct result full = decode(f, link);
	size_t hdrs = full.payload_off;

	CHECK_EQ_U64(full.status, PKT_OK);
	for (size_t cut = 0; cut < f->n; cut++) {
		struct result r = decode_cut(f, cut, f->n, link);

		if (cut < hdrs) {
			CHECK(r.status < 0);
			continue;
		}
		CHECK_EQ_U64(r.status, PKT_OK);
		CHECK_EQ_U64(r.payload_off, hdrs);
		CHECK_EQ_U64(r.p.payload_len, full.p.payload_len);
		CHECK_EQ_U64(r.p.payload_cap, cut - hdrs);
		CHECK(memcmp(&r.p.t, &full.p.t, sizeof(r.p.t)) == 0);
	}
}

static void test_prefixes(void)
{
	struct fb f;
	uint8_t sll2[20] = {0x86, 0xdd};
	uint32_t af6 = 28;

	build_eth_ip4_tcp(&f);
	check_prefixes(&f, PKT_LINK_ETHERNET);

	memset(&f, 0, sizeof(f));
	eth(&f, 0x88a8);
	vlan(&f, 1, 0x8100);
	vlan(&f, 2, 0x86dd);
	ip6(&f, IPPROTO_HOPOPTS);
	ext6(&f, IPPROTO_HOPOPTS, IPPROTO_AH, 16);
	ext6(&f, IPPROTO_AH, IPPROTO_UDP, 16);
	udp(&f, 53, 53);
	data(&f, "abcdef");
	finish(&f);
	check_prefixes(&f, PKT_LINK_ETHERNET);

	build_behind(&f, sll2, sizeof(sll2), 6);
	check_prefixes(&f, PKT_LINK_LINUX_SLL2);
	build_behind(&f, &af6, sizeof(af6), 6);
	check_prefixes(&f, PKT_LINK_NULL);
}

static void test_status_names(void)
{
	CHECK_STR(pkt_status_name(PKT_OK), "ok");
	CHECK_STR(pkt_status_name(PKT_ERR_LINK), "link");
	CHECK_STR(pkt_status_name(PKT_ERR_NOT_IP), "not_ip");
	CHECK_STR(pkt_status_name(PKT_ERR_MALFORMED), "malformed");
	CHECK_STR(pkt_status_name(PKT_ERR_FRAGMENT), "fragment");
	CHECK_STR(pkt_status_name(PKT_ERR_PROTO), "proto");
	CHECK_STR(pkt_status_name(42), "unknown");
}

int main(void)
{
	test_ipv4_tcp_fields();
	test_tcp_flags();
	test_vlan_ipv6_udp();
	test_qinq();
	test_ethernet_padding();
	test_snaplen_cut();
	test_gso();
	test_ipv6_extension_headers();
	test_ipv6_errors();
	test_ipv4_errors();
	test_tcp_errors();
	test_udp_lengths();
	test_null_and_loop();
	test_raw();
	test_sll();
	test_unknown_link_and_ethertype();
	test_prefixes();
	test_status_names();
	return check_report("test_packet");
}
