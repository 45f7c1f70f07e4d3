/* The socket filter in the kernel, run with BPF_PROG_TEST_RUN on crafted frames (Cilium's
 * technique): which packets it keeps, what their records hold, and which counter each lands in,
 * with the invariant that every packet lands in exactly one outcome. Needs root, no network.
 *
 * A test run treats the first 14 bytes of its input as an Ethernet header (eth_type_trans) and
 * starts the program after them, so every input here is a dummy header followed by the frame as
 * an AF_PACKET socket would present it: from the MAC header for sf_ethernet, from the IP header
 * for sf_ip (whose skb->protocol then comes from the dummy header). */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netinet/in.h>
#include <unistd.h>

#include "check.h"
#include "rings.h"
#include "sockfilter.h"
#include "sockfilter.skel.h"

#define ETH_P_IP     0x0800
#define ETH_P_IPV6   0x86DD
#define ETH_P_ARP    0x0806
#define ETH_P_8021Q  0x8100
#define ETH_P_8021AD 0x88A8
#define TCP_FIN      0x01
#define TCP_SYN      0x02
#define TCP_RST      0x04
#define TCP_PSH_ACK  0x18

struct spec {
	bool ip_link;          /* build for sf_ip: no MAC header */
	int vlans;             /* 0, 1 (802.1Q) or 2 (802.1ad outside 802.1Q) */
	bool v6;               /* IPv6 instead of IPv4 */
	uint16_t ethertype;    /* overrides the IP ethertype (e.g. ARP) */
	int ip_opt_words;      /* IPv4 options, 4-byte words */
	const uint8_t *v6_ext; /* IPv6 extension header types, in order, 0-terminated list */
	uint16_t frag;         /* IPv4 flags+offset, or IPv6 fragment offset|M */
	uint8_t proto;         /* IPPROTO_TCP by default */
	int tcp_words;         /* TCP header length in words (5 + options) */
	uint16_t sport, dport; /* 40000 -> 8080 by default */
	uint8_t flags;         /* TCP flags, PSH|ACK by default */
	bool reverse;          /* the other direction of the default connection */
	bool short_ihl;        /* claim more IP header than the frame has */
	const char *payload;
	size_t bin_len; /* payload is binary, this long (else a string) */
	size_t pad_to;  /* payload padded with 'x' up to this length */
};

struct frame {
	uint8_t b[4096];
	size_t n;
};

static void put(struct frame *f, const void *p, size_t n)
{
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void put16(struct frame *f, uint16_t v)
{
	v = htons(v);
	put(f, &v, 2);
}

/* The payload's own bytes, without padding. */
static size_t payload_have(const struct spec *s)
{
	return s->bin_len ? s->bin_len : s->payload ? strlen(s->payload) : 0;
}

static size_t payload_len(const struct spec *s)
{
	size_t n = payload_have(s);

	return s->pad_to > n ? s->pad_to : n;
}

static void transport(struct frame *f, const struct spec *s)
{
	uint16_t sport = s->sport ? s->sport : 40000, dport = s->dport ? s->dport : 8080;
	int words = s->tcp_words ? s->tcp_words : 5;
	size_t n = payload_len(s), have = payload_have(s);

	if (s->reverse) {
		uint16_t t = sport;

		sport = dport;
		dport = t;
	}
	put16(f, sport);
	put16(f, dport);
	if (s->proto == IPPROTO_UDP) {
		put16(f, (uint16_t)(8 + n));
		put16(f, 0);
	} else {
		uint8_t rest[10] = {0}; /* sequence, acknowledgement, data offset, flags */

		rest[8] = (uint8_t)(words << 4);
		rest[9] = s->flags ? s->flags : TCP_PSH_ACK;
		put(f, rest, sizeof(rest));
		put16(f, 0xffff); /* window */
		put16(f, 0);      /* checksum */
		put16(f, 0);      /* urgent */
		for (int i = 5; i < words; i++)
			put(f, "\x01\x01\x01\x01", 4); /* NOPs */
	}
	put(f, s->payload ? s->payload : "", have);
	memset(f->b + f->n, 'x', n - have);
	f->n += n - have;
}

static size_t l4_len(const struct spec *s)
{
	size_t hdr = s->proto == IPPROTO_UDP ? 8 : (size_t)(s->tcp_words ? s->tcp_words : 5) * 4;

	return hdr + payload_len(s);
}

static void ipv4(struct frame *f, const struct spec *s)
{
	int words = 5 + s->ip_opt_words;
	uint8_t a[4] = {10, 0, 0, 1}, b[4] = {10, 0, 0, 2};

	put(f, (uint8_t[]){(uint8_t)(0x40 | (s->short_ihl ? 15 : words)), 0}, 2);
	put16(f, (uint16_t)(words * 4 + l4_len(s)));
	put16(f, 1);
	put16(f, s->frag);
	put(f, (uint8_t[]){64, s->proto}, 2);
	put16(f, 0);
	put(f, s->reverse ? b : a, 4);
	put(f, s->reverse ? a : b, 4);
	for (int i = 0; i < s->ip_opt_words; i++)
		put(f, "\x01\x01\x01\x01", 4);
}

static void ipv6(struct frame *f, const struct spec *s)
{
	uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1},
	        b[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
	size_t ext = 0;
	int n = 0;

	while (s->v6_ext && s->v6_ext[n])
		n++;
	ext = (size_t)n * 8;
	put(f, "\x60\x00\x00\x00", 4);
	put16(f, (uint16_t)(ext + l4_len(s)));
	put(f, (uint8_t[]){n ? s->v6_ext[0] : s->proto, 64}, 2);
	put(f, s->reverse ? b : a, 16);
	put(f, s->reverse ? a : b, 16);
	for (int i = 0; i < n; i++) {
		uint8_t h[8] = {i + 1 < n ? s->v6_ext[i + 1] : s->proto, 0};

		if (s->v6_ext[i] == 44) { /* fragment header: offset and M flag */
			h[2] = (uint8_t)(s->frag >> 8);
			h[3] = (uint8_t)s->frag;
		}
		put(f, h, 8);
	}
}

static void build(struct frame *f, struct spec s)
{
	uint16_t l3 = s.ethertype ? s.ethertype : s.v6 ? ETH_P_IPV6 : ETH_P_IP;

	if (!s.proto)
		s.proto = IPPROTO_TCP;
	f->n = 0;
	put(f, "\0\0\0\0\0\0\0\0\0\0\0\0", 12); /* the dummy header eth_type_trans eats */
	put16(f, s.ip_link ? l3 : ETH_P_IP);
	if (!s.ip_link) {
		put(f, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02", 12);
		if (s.vlans == 2) {
			put16(f, ETH_P_8021AD);
			put16(f, 100);
		}
		if (s.vlans >= 1) {
			put16(f, ETH_P_8021Q);
			put16(f, 200);
		}
		put16(f, l3);
	}
	if (s.ethertype == ETH_P_ARP) {
		put(f, "arp arp arp arp arp arp arp", 28);
		return;
	}
	if (s.v6)
		ipv6(f, &s);
	else
		ipv4(f, &s);
	if (!s.short_ihl)
		transport(f, &s);
}

/* ---- running the filter -------------------------------------------------------------------- */

struct rig {
	struct sockfilter_bpf *skel;
	struct rings *rb;
	int records;
	struct sf_record last;
	int ncpu;
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct rig *r = ctx;

	CHECK(size >= sizeof(struct sf_record));
	memcpy(&r->last, data, sizeof(r->last));
	CHECK(r->last.cap_len == size - sizeof(struct sf_record));
	r->records++;
	return 0;
}

static void rig_open(struct rig *r, uint32_t snaplen, uint32_t ring, const uint16_t *ports, int n)
{
	memset(r, 0, sizeof(*r));
	r->ncpu = libbpf_num_possible_cpus();
	r->skel = sockfilter_bpf__open();
	if (!r->skel) {
		perror("open");
		exit(1);
	}
	r->skel->rodata->snaplen = snaplen;
	r->skel->rodata->port_filter_on = n > 0;
	bpf_map__set_max_entries(r->skel->maps.scratch, (uint32_t)r->ncpu);
	bpf_map__set_max_entries(r->skel->maps.packets, ring);
	if (sockfilter_bpf__load(r->skel)) {
		fprintf(stderr, "loading the socket filter failed\n");
		exit(1);
	}
	for (int i = 0; i < n; i++) {
		uint8_t on = 1;

		CHECK(bpf_map__update_elem(r->skel->maps.ports, &ports[i], 2, &on, 1, 0) == 0);
	}
	r->rb = NULL;
	CHECK(rings_add(&r->rb, r->skel->maps.packets, on_record, r) == 0);
}

static void rig_close(struct rig *r)
{
	rings_free(r->rb);
	sockfilter_bpf__destroy(r->skel);
}

static void counters(struct rig *r, uint64_t out[SF_CTR_MAX])
{
	uint64_t percpu[r->ncpu];

	for (uint32_t k = 0; k < SF_CTR_MAX; k++) {
		out[k] = 0;
		if (bpf_map__lookup_elem(r->skel->maps.counters, &k, sizeof(k), percpu,
		                         sizeof(percpu), 0) == 0)
			for (int c = 0; c < r->ncpu; c++)
				out[k] += percpu[c];
	}
}

static const int outcomes[] = {SF_CTR_KEPT,       SF_CTR_RING_FULL,    SF_CTR_NOT_IP,
                               SF_CTR_NOT_HTTP,   SF_CTR_NOT_DNS,      SF_CTR_OTHER_PROTO,
                               SF_CTR_FRAGMENT,   SF_CTR_MALFORMED,    SF_CTR_PORT_FILTERED,
                               SF_CTR_NO_SCRATCH, SF_CTR_SYSCALL_OWNED};

/* Runs one frame and returns the counter that moved; checks that exactly one outcome did. */
static int run(struct rig *r, const struct spec *s, int line)
{
	struct frame f;
	uint64_t before[SF_CTR_MAX], after[SF_CTR_MAX];
	int moved = -1, n = 0;
	int prog = bpf_program__fd(s->ip_link ? r->skel->progs.sf_ip : r->skel->progs.sf_ethernet);

	build(&f, *s);
	counters(r, before);
	r->records = 0;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f.b, .data_size_in = (uint32_t)f.n,
	            .repeat = 1);
	if (bpf_prog_test_run_opts(prog, &o) != 0 || o.retval != 0) {
		fprintf(stderr, "line %d: test run failed (retval %u)\n", line, o.retval);
		check_failures++;
	}
	rings_consume(r->rb);
	counters(r, after);
	for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++) {
		if (after[outcomes[i]] != before[outcomes[i]]) {
			moved = outcomes[i];
			n += (int)(after[outcomes[i]] - before[outcomes[i]]);
		}
	}
	if (n != 1 || after[SF_CTR_PACKETS] - before[SF_CTR_PACKETS] != 1) {
		fprintf(stderr, "line %d: %d outcomes for one packet\n", line, n);
		check_failures++;
	}
	if (moved == SF_CTR_KEPT) {
		size_t frame_len = f.n - 14;

		CHECK(r->records == 1);
		CHECK(r->last.wire_len == frame_len);
		CHECK(r->last.link == (s->ip_link ? SF_LINK_IP : SF_LINK_ETHERNET));
		CHECK(r->last.ts_ns > 0);
	} else {
		CHECK(r->records == 0);
	}
	return moved;
}

#define EXPECT(rig, outcome, ...)                                                                  \
	do {                                                                                       \
		int got_ = run((rig), &(struct spec){__VA_ARGS__}, __LINE__);                      \
		if (got_ != (outcome)) {                                                           \
			fprintf(stderr, "line %d: counter %d moved, expected %s\n", __LINE__,      \
			        got_, #outcome);                                                   \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

static const uint8_t ext_hop_dst[] = {0, 60, 0};
static const uint8_t ext_routing_hop[] = {43, 0, 0};
static const uint8_t ext_frag[] = {44, 0};

static void test_parsing(void)
{
	struct rig r;

	rig_open(&r, SF_FRAME_MAX, 1 << 20, NULL, 0);
	EXPECT(&r, SF_CTR_KEPT, .payload = "GET / HTTP/1.1\r\nHost: a\r\n\r\n", .sport = 1);
	EXPECT(&r, SF_CTR_KEPT, .payload = "POST /x HTTP/1.1\r\n\r\n", .ip_opt_words = 10,
	       .tcp_words = 8, .sport = 2);
	EXPECT(&r, SF_CTR_KEPT, .payload = "PUT /x HTTP/1.1\r\n\r\n", .vlans = 1, .sport = 3);
	EXPECT(&r, SF_CTR_KEPT, .payload = "HEAD /x HTTP/1.1\r\n\r\n", .vlans = 2, .sport = 4);
	EXPECT(&r, SF_CTR_KEPT, .payload = "HTTP/1.1 200 OK\r\n\r\n", .v6 = true, .sport = 5);
	EXPECT(&r, SF_CTR_KEPT, .payload = "OPTIONS * HTTP/1.1\r\n\r\n", .v6 = true,
	       .v6_ext = ext_hop_dst, .sport = 6);
	EXPECT(&r, SF_CTR_KEPT, .payload = "DELETE /x HTTP/1.1\r\n\r\n", .v6 = true,
	       .v6_ext = ext_routing_hop, .vlans = 1, .sport = 7);
	/* An unfragmented datagram may still carry a fragment header (offset 0, M clear). */
	EXPECT(&r, SF_CTR_KEPT, .payload = "PATCH /x HTTP/1.1\r\n\r\n", .v6 = true,
	       .v6_ext = ext_frag, .sport = 8);
	EXPECT(&r, SF_CTR_KEPT, .ip_link = true, .payload = "GET /tun HTTP/1.1\r\n\r\n",
	       .sport = 9);
	EXPECT(&r, SF_CTR_KEPT, .ip_link = true, .v6 = true, .payload = "HTTP/1.0 404 x\r\n\r\n",
	       .sport = 10);

	EXPECT(&r, SF_CTR_FRAGMENT, .payload = "GET / HTTP/1.1\r\n\r\n", .frag = 0x2000);
	EXPECT(&r, SF_CTR_FRAGMENT, .payload = "GET / HTTP/1.1\r\n\r\n", .frag = 0x0010);
	EXPECT(&r, SF_CTR_FRAGMENT, .payload = "GET / HTTP/1.1\r\n\r\n", .v6 = true,
	       .v6_ext = ext_frag, .frag = 0x0001);
	EXPECT(&r, SF_CTR_FRAGMENT, .payload = "GET / HTTP/1.1\r\n\r\n", .v6 = true,
	       .v6_ext = ext_frag, .frag = 0x0100);
	EXPECT(&r, SF_CTR_NOT_HTTP, .payload = "SSH-2.0-OpenSSH_9.2\r\n", .sport = 20);
	EXPECT(&r, SF_CTR_NOT_HTTP, .payload = "GETX / HTTP/1.1\r\n\r\n", .sport = 21);
	EXPECT(&r, SF_CTR_NOT_HTTP, .payload = "GET ", .sport = 22); /* too short to tell */
	EXPECT(&r, SF_CTR_NOT_HTTP, .flags = TCP_SYN, .sport = 23);
	EXPECT(&r, SF_CTR_NOT_DNS, .proto = IPPROTO_UDP, .payload = "GET / HTTP/1.1\r\n\r\n");
	EXPECT(&r, SF_CTR_OTHER_PROTO, .proto = IPPROTO_SCTP, .payload = "GET / HTTP/1.1\r\n\r\n");
	EXPECT(&r, SF_CTR_NOT_IP, .ethertype = ETH_P_ARP);
	EXPECT(&r, SF_CTR_MALFORMED, .short_ihl = true);
	EXPECT(&r, SF_CTR_MALFORMED, .tcp_words = 4, .payload = "GET / HTTP/1.1\r\n\r\n");
	rig_close(&r);
}

/* Packets of a connection seen carrying HTTP are kept whatever they hold, in both directions,
 * until it ends (RST, or FIN from both sides). */
static void test_flow_tracking(void)
{
	struct rig r;

	rig_open(&r, SF_FRAME_MAX, 1 << 20, NULL, 0);
	EXPECT(&r, SF_CTR_NOT_HTTP, .payload = "body bytes, no method", .sport = 30);
	EXPECT(&r, SF_CTR_KEPT, .payload = "POST /upload HTTP/1.1\r\n\r\n", .sport = 30);
	EXPECT(&r, SF_CTR_KEPT, .payload = "body bytes, no method", .sport = 30);
	EXPECT(&r, SF_CTR_KEPT, .payload = "more body", .pad_to = 1400, .sport = 30);
	EXPECT(&r, SF_CTR_KEPT, .payload = "{\"response\": 1}", .reverse = true, .sport = 30);
	EXPECT(&r, SF_CTR_KEPT, .flags = TCP_FIN | 0x10, .sport = 30);
	/* Half-closed: the other side may still answer. */
	EXPECT(&r, SF_CTR_KEPT, .payload = "still answering", .reverse = true, .sport = 30);
	EXPECT(&r, SF_CTR_KEPT, .flags = TCP_FIN | 0x10, .reverse = true, .sport = 30);
	EXPECT(&r, SF_CTR_NOT_HTTP, .payload = "after both FINs", .sport = 30);

	EXPECT(&r, SF_CTR_KEPT, .payload = "GET / HTTP/1.1\r\n\r\n", .v6 = true, .sport = 31);
	EXPECT(&r, SF_CTR_KEPT, .payload = "continuation", .v6 = true, .reverse = true,
	       .sport = 31);
	EXPECT(&r, SF_CTR_KEPT, .flags = TCP_RST, .v6 = true, .sport = 31);
	EXPECT(&r, SF_CTR_NOT_HTTP, .payload = "continuation", .v6 = true, .sport = 31);
	rig_close(&r);
}

/* A query for example.com A, with the EDNS OPT record dig adds. */
#define DNS_QUERY_BYTES                                                                            \
	0x12, 0x34, 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0,                                               \
	        1, /* header: RD AD, 1 question, 1 additional */                                   \
	        7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1, /* A IN */  \
	        0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0 /* OPT: UDP size 1232 */

/* A query for example.com A, with the EDNS OPT record dig adds; and the same with the TCP
 * length prefix. */
static const uint8_t dns_query[] = {DNS_QUERY_BYTES};
static const uint8_t dns_query_tcp[] = {0, sizeof(dns_query), DNS_QUERY_BYTES};

/* DNS is kept over UDP on port 53 whatever it holds, and on any port when a datagram starts
 * with a plausible header; over TCP, a stream starting with a length-prefixed header is
 * followed like HTTP. */
static void test_dns(void)
{
	struct rig r;

	rig_open(&r, SF_FRAME_MAX, 1 << 20, NULL, 0);
	EXPECT(&r, SF_CTR_KEPT, .proto = IPPROTO_UDP, .dport = 53, .payload = "anything");
	EXPECT(&r, SF_CTR_KEPT, .proto = IPPROTO_UDP, .dport = 53, .reverse = true,
	       .payload = "answer");
	EXPECT(&r, SF_CTR_KEPT, .proto = IPPROTO_UDP, .dport = 5353,
	       .payload = (const char *)dns_query, .bin_len = sizeof(dns_query));
	EXPECT(&r, SF_CTR_KEPT, .proto = IPPROTO_UDP, .v6 = true, .dport = 5300,
	       .payload = (const char *)dns_query, .bin_len = sizeof(dns_query));
	/* Cut short: the header promises a question and a record that cannot fit. */
	EXPECT(&r, SF_CTR_NOT_DNS, .proto = IPPROTO_UDP, .dport = 5353,
	       .payload = (const char *)dns_query, .bin_len = 20);
	EXPECT(&r, SF_CTR_NOT_DNS, .proto = IPPROTO_UDP, .dport = 443,
	       .payload = "\xc3\x00\x00\x00\x01\x08quic-ish long header", .pad_to = 1200);

	EXPECT(&r, SF_CTR_KEPT, .dport = 5300, .sport = 41, .payload = (const char *)dns_query_tcp,
	       .bin_len = sizeof(dns_query_tcp));
	EXPECT(&r, SF_CTR_KEPT, .dport = 5300, .sport = 41, .reverse = true,
	       .payload = "continuation of a tracked stream");
	/* A length prefix alone, in a segment of its own: followed on port 53 only. */
	EXPECT(&r, SF_CTR_KEPT, .dport = 53, .sport = 42, .payload = (const char *)dns_query_tcp,
	       .bin_len = 2);
	EXPECT(&r, SF_CTR_NOT_HTTP, .dport = 5300, .sport = 43,
	       .payload = (const char *)dns_query_tcp, .bin_len = 2);
	rig_close(&r);
}

/* Makes one end of the default connection (10.0.0.1:sport -> 10.0.0.2:8080), the client's or the
 * server's, a process whose syscalls are followed. */
static void traced_end(struct rig *r, uint16_t sport, bool server)
{
	struct conn_key k = {.lport = server ? 8080 : sport,
	                     .rport = server ? sport : 8080,
	                     .family = AF_INET,
	                     .proto = IPPROTO_TCP};
	struct conn_owner o = {
	        .tgid = server ? 4343 : 4242, .comm = "app", .flags = CONN_OWNER_TRACED};
	const uint8_t client[4] = {10, 0, 0, 1}, srv[4] = {10, 0, 0, 2};

	memcpy(k.laddr, server ? srv : client, 4);
	memcpy(k.raddr, server ? client : srv, 4);
	CHECK(bpf_map__update_elem(r->skel->maps.local_conns, &k, sizeof(k), &o, sizeof(o), 0) ==
	      0);
}

/* One truth: what a followed process sends, or receives from a peer that is not followed, is
 * left to its syscalls. The connection's first such packet goes out as headers with the owner
 * (so user space lets the connection go), then nothing but the FIN. With and without --port. */
static void test_leave_to_syscalls(void)
{
	static const uint16_t ports[] = {8080};
	const size_t headers = 14 + 20 + 20;

	for (int with_ports = 0; with_ports < 2; with_ports++) {
		struct rig r;

		rig_open(&r, SF_FRAME_MAX, 1 << 20, ports, with_ports);
		traced_end(&r, 50, false);
		EXPECT(&r, SF_CTR_KEPT, .payload = "GET /followed HTTP/1.1\r\n\r\n", .sport = 50);
		CHECK(r.last.cap_len == headers && r.last.flags == SF_REC_OWNED &&
		      r.last.owner.tgid == 4242 && (r.last.owner.flags & CONN_OWNER_TRACED));
		EXPECT(&r, SF_CTR_SYSCALL_OWNED, .payload = "more of the request", .sport = 50);
		/* The peer is not followed: what it sends, the client's reads report. */
		EXPECT(&r, SF_CTR_SYSCALL_OWNED, .payload = "HTTP/1.1 200 OK\r\n\r\n",
		       .reverse = true, .sport = 50);
		EXPECT(&r, SF_CTR_SYSCALL_OWNED, .flags = 0x10, .sport = 50); /* an ACK */
		EXPECT(&r, SF_CTR_KEPT, .flags = TCP_FIN | 0x10, .sport = 50);
		CHECK(r.last.cap_len == headers);
		/* Not HTTP: a followed process's other connections are not followed here either. */
		traced_end(&r, 51, false);
		if (!with_ports)
			EXPECT(&r, SF_CTR_NOT_HTTP, .payload = "SSH-2.0-OpenSSH_9.2\r\n",
			       .sport = 51);

		/* A followed server, its client on another host: the request is the first packet
		 * handed over, under the receiver's name. */
		traced_end(&r, 52, true);
		EXPECT(&r, SF_CTR_KEPT, .payload = "GET /served HTTP/1.1\r\n\r\n", .sport = 52);
		CHECK(r.last.cap_len == headers &&
		      r.last.flags == (SF_REC_OWNED | SF_REC_TO_OWNER) &&
		      r.last.owner.tgid == 4343);
		EXPECT(&r, SF_CTR_SYSCALL_OWNED, .payload = "more of the request", .sport = 52);
		EXPECT(&r, SF_CTR_SYSCALL_OWNED, .payload = "HTTP/1.1 200 OK\r\n\r\n",
		       .reverse = true, .sport = 52);
		EXPECT(&r, SF_CTR_KEPT, .flags = TCP_FIN | 0x10, .sport = 52);
		CHECK(r.last.cap_len == headers && (r.last.flags & SF_REC_TO_OWNER));

		/* Neither end followed: every packet goes out whole. */
		EXPECT(&r, SF_CTR_KEPT, .payload = "GET /wire HTTP/1.1\r\n\r\n", .sport = 53);
		CHECK(r.last.cap_len > headers && r.last.flags == 0);
		EXPECT(&r, SF_CTR_KEPT, .payload = "HTTP/1.1 200 OK\r\n\r\n", .reverse = true,
		       .sport = 53);
		CHECK(r.last.cap_len > headers && r.last.flags == 0);
		rig_close(&r);
	}
}

static void test_snaplen_and_ports(void)
{
	struct rig r;
	uint64_t c[SF_CTR_MAX];
	const uint16_t ports[] = {8080};

	rig_open(&r, 128, 1 << 20, NULL, 0);
	EXPECT(&r, SF_CTR_KEPT, .payload = "GET / HTTP/1.1\r\n", .pad_to = 1000, .sport = 40);
	CHECK(r.last.cap_len == 128);
	CHECK(r.last.wire_len == 14 + 20 + 20 + 1000);
	counters(&r, c);
	CHECK(c[SF_CTR_TRUNCATED] == 1);
	rig_close(&r);

	rig_open(&r, SF_FRAME_MAX, 1 << 20, ports, 1);
	EXPECT(&r, SF_CTR_KEPT, .payload = "\x16\x03\x01 any bytes on a declared port",
	       .sport = 41);
	EXPECT(&r, SF_CTR_KEPT, .flags = TCP_SYN, .sport = 42);
	EXPECT(&r, SF_CTR_KEPT, .payload = "reply", .reverse = true, .sport = 43);
	EXPECT(&r, SF_CTR_PORT_FILTERED, .payload = "GET / HTTP/1.1\r\n\r\n", .sport = 44,
	       .dport = 9090);
	rig_close(&r);
}

/* A full ring loses packets and says so; nothing else is affected. */
static void test_ring_full(void)
{
	struct rig r;
	int kept = 0, full = 0;

	rig_open(&r, SF_FRAME_MAX, 4096, NULL, 0);
	for (int i = 0; i < 6; i++) {
		struct frame f;
		uint64_t before[SF_CTR_MAX], after[SF_CTR_MAX];

		build(&f, (struct spec){.payload = "GET / HTTP/1.1\r\n",
		                        .pad_to = 1400,
		                        .sport = (uint16_t)(50 + i)});
		counters(&r, before);
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f.b, .data_size_in = (uint32_t)f.n,
		            .repeat = 1);
		CHECK(bpf_prog_test_run_opts(bpf_program__fd(r.skel->progs.sf_ethernet), &o) == 0);
		counters(&r, after);
		kept += (int)(after[SF_CTR_KEPT] - before[SF_CTR_KEPT]);
		full += (int)(after[SF_CTR_RING_FULL] - before[SF_CTR_RING_FULL]);
	}
	CHECK(kept == 2); /* 4 KiB holds two records of ~1.5 KiB */
	CHECK(full == 4);
	r.records = 0;
	rings_consume(r.rb);
	CHECK(r.records == 2);
	rig_close(&r);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("test_sockfilter: skipped, needs root\n");
		return 77;
	}
	test_parsing();
	test_flow_tracking();
	test_dns();
	test_leave_to_syscalls();
	test_snaplen_and_ports();
	test_ring_full();
	return check_report("test_sockfilter");
}
