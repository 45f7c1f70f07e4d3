/* The syscall probes in the kernel: loaded, attached to the real tracepoints, and driven by this
 * process's own TCP traffic on loopback through every syscall family (read/write, readv/writev,
 * recvfrom/sendto, recvmsg/sendmsg, sendfile), with the records checked field by field. Also:
 * pipes and unix sockets make no records, MSG_PEEK is skipped, --max-payload cuts and says so,
 * payloads of every size arrive whole, the reader keeps every record through a small ring wrapped
 * many times, and accept/connect/close enter and leave local_conns. Needs
 * root and tracefs; no network. */
#define _GNU_SOURCE /* memfd_create */
#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bpf_util.h"
#include "capture_syscall.h"
#include "check.h"
#include "rings.h"
#include "syscalls.h"
#include "syscalls.skel.h"

#define MAX_RECS 64

struct rec {
	struct sc_record h;
	char data[SC_PAYLOAD_MAX];
	size_t size; /* of the record in the ring: the header, the payload and any room left */
};

static struct rec recs[MAX_RECS];
static int n_recs;

static int on_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	CHECK(size >= sizeof(struct sc_record));
	if (n_recs < MAX_RECS) {
		struct rec *r = &recs[n_recs++];
		size_t keep = sizeof(r->h) + sizeof(r->data);

		memset(r, 0, sizeof(*r));
		memcpy(r, data, size < keep ? size : keep);
		r->size = size;
		CHECK(r->h.cap <= size - sizeof(struct sc_record));
	}
	return 0;
}

/* This process's records about fd (the probes see every process on the machine). */
static int mine(int fd, uint8_t kind, struct rec **out, int max)
{
	int n = 0;

	for (int i = 0; i < n_recs && n < max; i++)
		if (recs[i].h.who.tgid == (uint32_t)getpid() && recs[i].h.fd == (uint32_t)fd &&
		    recs[i].h.kind == kind)
			out[n++] = &recs[i];
	return n;
}

static void tcp_pair(int *client, int *server, uint16_t *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	CHECK(bind(l, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(l, 1) == 0);
	CHECK(getsockname(l, (struct sockaddr *)&a, &len) == 0);
	*port = ntohs(a.sin_port);
	*client = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(*client, (struct sockaddr *)&a, sizeof(a)) == 0);
	*server = accept(l, NULL, NULL);
	CHECK(*server >= 0);
	close(l);
}

static void check_data(struct rec *r, uint8_t dir, const char *text, uint32_t len)
{
	CHECK(r->h.dir == dir);
	CHECK_EQ_U64(r->h.len, len);
	CHECK(r->h.cap <= len && memcmp(r->data, text, r->h.cap) == 0);
	CHECK(r->h.who.tid > 0 && r->h.ts_ns > 0 && r->h.conn_id != 0);
	CHECK(strncmp(r->h.who.pcomm, "test_syscalls", 15) == 0);
}

static void drain(struct rings *rb)
{
	n_recs = 0;
	rings_consume(rb);
}

/* Every family of data syscall. The sock hooks record a connection at its first byte rather than at
 * connect or accept, and take its role from the handshake they saw. */
static void test_families(struct syscalls_bpf *skel, struct rings *rb)
{
	static const char req[] = "GET /k HTTP/1.1\r\nHost: a\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	struct iovec iov[2] = {{(void *)req, 10}, {(void *)(req + 10), sizeof(req) - 1 - 10}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
	struct rec *got[8];
	char buf[512];
	int cli, srv, file;
	uint16_t port;
	struct conn_key key;
	struct conn_owner owner;

	drain(rb);
	tcp_pair(&cli, &srv, &port);
	CHECK(write(cli, req, sizeof(req) - 1) == sizeof(req) - 1);
	CHECK(read(srv, buf, sizeof(buf)) == sizeof(req) - 1);
	CHECK(writev(srv, iov, 2) == sizeof(req) - 1);
	CHECK(readv(cli, &(struct iovec){buf, sizeof(buf)}, 1) == sizeof(req) - 1);
	CHECK(sendto(cli, resp, sizeof(resp) - 1, 0, NULL, 0) == sizeof(resp) - 1);
	CHECK(recv(srv, buf, sizeof(buf), MSG_PEEK) == sizeof(resp) - 1); /* skipped */
	CHECK(recvfrom(srv, buf, sizeof(buf), 0, NULL, NULL) == sizeof(resp) - 1);
	CHECK(sendmsg(srv, &mh, 0) == sizeof(req) - 1);
	mh.msg_iov = &(struct iovec){buf, sizeof(buf)};
	mh.msg_iovlen = 1;
	CHECK(recvmsg(cli, &mh, 0) == sizeof(req) - 1);
	/* A file in memory: the matrix's guests see the host's tree over 9p, where /tmp may not be
	 * writable. */
	file = memfd_create("l7-test", 0);
	CHECK(write(file, "12345678", 8) == 8 && lseek(file, 0, SEEK_SET) == 0);
	CHECK(sendfile(srv, file, NULL, 8) == 8);
	close(file);
	rings_consume(rb);

	/* Open records: connect() (a handshake started) makes the client, accept() (one answered)
	 * the server. */
	CHECK(mine(cli, SC_OPEN, got, 8) == 1 && got[0]->h.role == SC_ROLE_CLIENT &&
	      got[0]->h.conn.rport == port && got[0]->h.conn.family == AF_INET);
	CHECK(mine(srv, SC_OPEN, got, 8) == 1 && got[0]->h.role == SC_ROLE_SERVER &&
	      got[0]->h.conn.lport == port);
	key = got[0]->h.conn;
	CHECK(bpf_map__lookup_elem(skel->maps.local_conns, &key, sizeof(key), &owner, sizeof(owner),
	                           0) == 0);
	CHECK(owner.tgid == (uint32_t)getpid() && (owner.flags & CONN_OWNER_TRACED));

	if (mine(cli, SC_DATA, got, 8) != 4) {
		CHECK(!"four data records for the client");
		return;
	}
	check_data(got[0], SC_EGRESS, req, sizeof(req) - 1);   /* write */
	check_data(got[1], SC_INGRESS, req, sizeof(req) - 1);  /* readv */
	check_data(got[2], SC_EGRESS, resp, sizeof(resp) - 1); /* sendto */
	check_data(got[3], SC_INGRESS, req, sizeof(req) - 1);  /* recvmsg */
	if (mine(srv, SC_DATA, got, 8) != 5) {
		CHECK(!"five data records for the server");
		return;
	}
	check_data(got[0], SC_INGRESS, req, sizeof(req) - 1);   /* read */
	check_data(got[1], SC_EGRESS, req, sizeof(req) - 1);    /* writev, two iovecs */
	check_data(got[2], SC_INGRESS, resp, sizeof(resp) - 1); /* recvfrom, not the peek */
	check_data(got[3], SC_EGRESS, req, sizeof(req) - 1);    /* sendmsg, two iovecs */
	CHECK(got[4]->h.dir == SC_EGRESS && got[4]->h.len == 8 &&
	      got[4]->h.cap == 0); /* sendfile */
	CHECK(got[0]->h.conn_id == got[1]->h.conn_id);

	/* cli has sendfile's 8 bytes unread, so its close resets the connection, and srv's close
	 * finds it closed already: the sock hooks see that one as the socket's destruction. */
	drain(rb);
	close(cli);
	close(srv);
	rings_consume(rb);
	CHECK(mine(cli, SC_CLOSE, got, 8) == 1 && mine(srv, SC_CLOSE, got, 8) == 1);
	CHECK(bpf_map__lookup_elem(skel->maps.local_conns, &key, sizeof(key), &owner, sizeof(owner),
	                           0) != 0);
}

/* A connection open before the probes were: its role unknown (its first bytes seen may be
 * mid-message), on both ends. */
static void test_joined(struct rings *rb, int cli, int srv)
{
	struct rec *got[4];
	char buf[8];

	drain(rb);
	CHECK(write(cli, "GET / HT", 8) == 8 && read(srv, buf, sizeof(buf)) == 8);
	rings_consume(rb);
	CHECK(mine(cli, SC_OPEN, got, 4) == 1 && got[0]->h.role == SC_ROLE_UNKNOWN);
	CHECK(mine(srv, SC_OPEN, got, 4) == 1 && got[0]->h.role == SC_ROLE_UNKNOWN);
	CHECK(mine(cli, SC_DATA, got, 4) == 1 && mine(srv, SC_DATA, got, 4) == 1);
	close(cli);
	close(srv);
}

static void test_not_tcp(struct rings *rb)
{
	static const char req[] = "GET / HTTP/1.1\r\n\r\n";
	char buf[64];
	int p[2], u[2];

	drain(rb);
	CHECK(pipe(p) == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, u) == 0);
	CHECK(write(p[1], req, sizeof(req)) == sizeof(req) && read(p[0], buf, sizeof(buf)) > 0);
	CHECK(write(u[0], req, sizeof(req)) == sizeof(req) && read(u[1], buf, sizeof(buf)) > 0);
	rings_consume(rb);
	for (int i = 0; i < n_recs; i++)
		CHECK(recs[i].h.who.tgid != (uint32_t)getpid());
	close(p[0]);
	close(p[1]);
	close(u[0]);
	close(u[1]);
}

/* A query for a.test A: a plausible DNS header on any port. */
static const uint8_t dns_query[] = {0x12, 0x34, 1, 0,   0,   1,   0,   0, 0, 0, 0, 0,
                                    1,    'a',  4, 't', 'e', 's', 't', 0, 0, 1, 0, 1};

/* The same query for AAAA, with another id: as long as the first, as glibc's pair is. */
static const uint8_t dns_query_aaaa[] = {0x56, 0x78, 1, 0,   0,   1,   0,   0, 0, 0,  0, 0,
                                         1,    'a',  4, 't', 'e', 's', 't', 0, 0, 28, 0, 1};

/* UDP: one record per DNS datagram with its peer, for unconnected sockets (sendto, recvfrom) and
 * for sendmmsg/recvmmsg; datagrams that are not DNS are counted, not copied. Two sendmmsg calls
 * on one array, each message in its own record and in order. The sock hooks (sock) cannot see
 * the source of a datagram an unconnected socket receives, nor which message of a recvmmsg
 * fires them: those are counted as left to the wire view. */
static void test_udp(struct syscalls_bpf *skel, struct rings *rb, bool sock)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_in from;
	socklen_t len = sizeof(a);
	struct iovec iov[2] = {{(void *)dns_query, sizeof(dns_query)},
	                       {(void *)dns_query_aaaa, sizeof(dns_query_aaaa)}};
	struct mmsghdr mm[2] = {{.msg_hdr = {.msg_iov = &iov[0], .msg_iovlen = 1}},
	                        {.msg_hdr = {.msg_iov = &iov[1], .msg_iovlen = 1}}};
	char b1[64], b2[64];
	struct iovec riov[2] = {{b1, sizeof(b1)}, {b2, sizeof(b2)}};
	struct mmsghdr rm[2] = {{.msg_hdr = {.msg_iov = &riov[0], .msg_iovlen = 1}},
	                        {.msg_hdr = {.msg_iov = &riov[1], .msg_iovlen = 1}}};
	int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
	uint64_t before[SC_CTR_MAX], after[SC_CTR_MAX];
	struct rec *got[8];
	uint16_t port;

	CHECK(bind(rx, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(getsockname(rx, (struct sockaddr *)&a, &len) == 0);
	port = ntohs(a.sin_port);
	drain(rb);
	percpu_sum(skel->maps.counters, SC_CTR_MAX, before);
	CHECK(sendto(tx, dns_query, sizeof(dns_query), 0, (struct sockaddr *)&a, sizeof(a)) ==
	      sizeof(dns_query));
	len = sizeof(from);
	CHECK(recvfrom(rx, b1, sizeof(b1), 0, (struct sockaddr *)&from, &len) == sizeof(dns_query));
	CHECK(sendto(tx, "not dns at all", 14, 0, (struct sockaddr *)&a, sizeof(a)) == 14);
	CHECK(recv(rx, b1, sizeof(b1), 0) == 14);
	CHECK(connect(tx, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(sendmmsg(tx, mm, 2, 0) == 2);
	CHECK(sendmmsg(tx, mm, 2, 0) == 2);
	CHECK(recvmmsg(rx, rm, 2, MSG_WAITFORONE, NULL) >= 1);
	rings_consume(rb);
	percpu_sum(skel->maps.counters, SC_CTR_MAX, after);

	/* sendto, then A and AAAA twice */
	if (mine(tx, SC_DATA, got, 8) != 5) {
		CHECK(!"five datagrams sent");
		return;
	}
	for (int i = 0; i < 5; i++) {
		const uint8_t *q = i % 2 ? dns_query : dns_query_aaaa;

		CHECK(got[i]->h.dir == SC_EGRESS && got[i]->h.conn.proto == IPPROTO_UDP);
		CHECK(got[i]->h.conn.rport == port && got[i]->h.len == sizeof(dns_query));
		CHECK(memcmp(got[i]->data, i ? q : dns_query, sizeof(dns_query)) == 0);
	}
	if (sock) {
		/* rx is not connected: recvfrom, recv and recvmmsg (at least one message). */
		CHECK(mine(rx, SC_DATA, got, 4) == 0);
		CHECK(after[SC_CTR_LEFT_TO_WIRE] - before[SC_CTR_LEFT_TO_WIRE] >= 3);
		CHECK_EQ_U64(after[SC_CTR_UDP_NOT_DNS] - before[SC_CTR_UDP_NOT_DNS], 1); /* sent */
		close(rx);
		close(tx);
		return;
	}
	/* recvfrom names the sender: tx's port. */
	CHECK(mine(rx, SC_DATA, got, 4) >= 2);
	CHECK(got[0]->h.dir == SC_INGRESS && got[0]->h.conn.lport == port &&
	      got[0]->h.conn.rport == ntohs(from.sin_port));
	CHECK_EQ_U64(after[SC_CTR_UDP_NOT_DNS] - before[SC_CTR_UDP_NOT_DNS],
	             2); /* sent, received */
	close(rx);
	close(tx);
	drain(rb);
	CHECK(mine(tx, SC_CLOSE, got, 4) == 1); /* connect() made tx a connection */
}

/* A connected UDP socket's receive, under the sock hooks: its peer is the socket's, even when
 * the caller asks for the source address (glibc's resolver does), which is written only after
 * the hook has run. */
static void test_udp_connected(struct rings *rb)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_in b = a, from;
	socklen_t len = sizeof(a);
	int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
	struct rec *got[4];
	char buf[64];

	CHECK(bind(rx, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	      getsockname(rx, (struct sockaddr *)&a, &len) == 0);
	CHECK(bind(tx, (struct sockaddr *)&b, sizeof(b)) == 0 &&
	      getsockname(tx, (struct sockaddr *)&b, &len) == 0);
	CHECK(connect(rx, (struct sockaddr *)&b, sizeof(b)) == 0);
	drain(rb);
	CHECK(sendto(tx, dns_query, sizeof(dns_query), 0, (struct sockaddr *)&a, sizeof(a)) ==
	      sizeof(dns_query));
	memset(&from, 0xee, sizeof(from)); /* what the hook would read as an address */
	len = sizeof(from);
	CHECK(recvfrom(rx, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len) ==
	      sizeof(dns_query));
	rings_consume(rb);
	CHECK(mine(rx, SC_DATA, got, 4) == 1 && got[0]->h.dir == SC_INGRESS &&
	      got[0]->h.conn.rport == ntohs(b.sin_port) && got[0]->h.conn.family == AF_INET &&
	      memcmp(got[0]->h.conn.raddr, &b.sin_addr, 4) == 0);
	close(rx);
	close(tx);
	drain(rb); /* rx's close, where connect() made it a connection */
}

/* With a small --max-payload the copy is cut, the true length kept, and the record flagged. */
static void test_cut(struct rings *rb)
{
	char big[3000], buf[4096];
	struct rec *got[4];
	int cli, srv;
	uint16_t port;
	ssize_t n = 0;

	memset(big, 'z', sizeof(big));
	drain(rb);
	tcp_pair(&cli, &srv, &port);
	CHECK(write(cli, big, sizeof(big)) == sizeof(big));
	while (n < (ssize_t)sizeof(big))
		n += read(srv, buf, sizeof(buf));
	rings_consume(rb);
	if (mine(cli, SC_DATA, got, 4) != 1) {
		CHECK(!"one data record");
		return;
	}
	CHECK(got[0]->h.len == sizeof(big) && got[0]->h.cap == 100 &&
	      (got[0]->h.flags & SC_REC_TRUNCATED));
	close(cli);
	close(srv);
}

/* A payload of len bytes written and read back: one record of it, each byte in its place, and
 * a reservation (room) at most twice the payload, or the smallest. */
static void check_size(struct rings *rb, int cli, int srv, uint32_t len)
{
	static char out[SC_PAYLOAD_MAX + 8192], in[65536];
	uint32_t cap = len < SC_PAYLOAD_MAX ? len : SC_PAYLOAD_MAX;
	struct rec *got[4];
	ssize_t n = 0;

	for (uint32_t k = 0; k < len; k++)
		out[k] = (char)((k * 7 + len) % 251);
	drain(rb);
	CHECK(write(cli, out, len) == (ssize_t)len);
	while (n < (ssize_t)len)
		n += read(srv, in, sizeof(in));
	rings_consume(rb);
	if (mine(cli, SC_DATA, got, 4) != 1) {
		CHECK(!"one data record per write");
		return;
	}
	CHECK_EQ_U64(got[0]->h.len, len);
	CHECK_EQ_U64(got[0]->h.cap, cap);
	CHECK(memcmp(got[0]->data, out, cap) == 0);
	CHECK(!!(got[0]->h.flags & SC_REC_TRUNCATED) == (len > SC_PAYLOAD_MAX));
	CHECK(got[0]->size - sizeof(struct sc_record) <= (cap < 128 ? 128 : 2 * (size_t)cap));
}

/* Payloads on each side of every size a record's ring reservation comes in (powers of two from
 * 128 bytes), and past the largest. */
static void test_sizes(struct rings *rb)
{
	int cli, srv;
	uint16_t port;

	tcp_pair(&cli, &srv, &port);
	check_size(rb, cli, srv, 1);
	for (uint32_t room = 128; room <= SC_PAYLOAD_MAX; room *= 2)
		for (uint32_t len = room - 1; len <= room + 1; len++)
			check_size(rb, cli, srv, len);
	check_size(rb, cli, srv, SC_PAYLOAD_MAX + 8192);
	close(cli);
	close(srv);
}

/* The reader (rings.c) through a ring of the smallest size --ringbuf-size takes, 64 KiB, wrapped
 * some 25 times: every write arrives once, in order and byte for byte, and none is lost to a full
 * ring. A position published late, or not at the end of a drain, shows as records lost or read
 * twice; a record read across the ring's end without the double mapping, as wrong bytes. */
static void test_ring_wrap(struct syscalls_bpf *skel, struct rings *rb)
{
	enum { BATCH = 4, LEN = 3000 };
	static char out[BATCH][LEN], in[LEN];
	uint64_t before[SC_CTR_MAX], after[SC_CTR_MAX];
	struct rec *got[BATCH + 1];
	int cli, srv;
	uint16_t port;

	tcp_pair(&cli, &srv, &port);
	drain(rb);
	percpu_sum(skel->maps.counters, SC_CTR_MAX, before);
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < BATCH; i++) {
			ssize_t n = 0;

			memset(out[i], 'a' + (round * BATCH + i) % 26, LEN);
			CHECK(write(cli, out[i], LEN) == LEN);
			while (n < LEN)
				n += read(srv, in, (size_t)(LEN - n));
		}
		drain(rb);
		if (mine(cli, SC_DATA, got, BATCH + 1) != BATCH) {
			CHECK(!"every write of the batch, once");
			break;
		}
		for (int i = 0; i < BATCH; i++)
			CHECK(got[i]->h.cap == LEN && memcmp(got[i]->data, out[i], LEN) == 0);
	}
	percpu_sum(skel->maps.counters, SC_CTR_MAX, after);
	CHECK_EQ_U64(after[SC_CTR_RING_FULL] - before[SC_CTR_RING_FULL], 0);
	close(cli);
	close(srv);
}

/* Whether the kernel has the sock hooks' tracepoints (Linux 6.3+). */
static bool has_sock_tracepoints(void)
{
	return access("/sys/kernel/tracing/events/sock/sock_send_length", F_OK) == 0 ||
	       access("/sys/kernel/debug/tracing/events/sock/sock_send_length", F_OK) == 0;
}

/* NULL when the sys_exit hook does not load on this kernel (before 5.11), or the sock hooks'
 * tracepoints are missing (before 6.3): the tracepoints must load, and the sock hooks wherever
 * their tracepoints exist. */
static struct syscalls_bpf *open_probes(enum syscall_hooks hooks, uint32_t max_payload,
                                        uint32_t self, uint32_t ring_bytes, struct rings **rb)
{
	struct syscalls_bpf *skel = syscalls_bpf__open();

	if (!skel)
		exit(1);
	skel->rodata->max_payload = max_payload;
	skel->rodata->self_tgid = self;
	skel->rodata->wakeup_bytes = 1; /* these tests read as they go */
	if (ring_bytes)
		bpf_map__set_max_entries(skel->maps.events, ring_bytes);
	bpf_map__set_max_entries(skel->maps.scratch, (uint32_t)libbpf_num_possible_cpus());
	syscall_hooks_select(skel, hooks, true);
	if (syscalls_bpf__load(skel) || syscalls_bpf__attach(skel)) {
		syscalls_bpf__destroy(skel);
		if (hooks == SYSCALL_HOOKS_SYS_EXIT ||
		    (hooks == SYSCALL_HOOKS_SOCK && !has_sock_tracepoints()))
			return NULL;
		fprintf(stderr, "loading or attaching the syscall tracepoints failed\n");
		exit(1);
	}
	*rb = NULL;
	CHECK(rings_add(rb, skel->maps.events, on_record, NULL) == 0);
	return skel;
}

/* With this process as the collector (self_tgid), its connections are entered in local_conns as
 * its own before their first byte (the sock hooks do it from TCP states, not connect), nothing of
 * theirs is recorded, and they leave local_conns when closed. */
static void test_own(struct syscalls_bpf *skel, struct rings *rb)
{
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	struct conn_key key = {.family = AF_INET, .proto = IPPROTO_TCP};
	struct conn_owner owner;
	uint32_t lo = htonl(INADDR_LOOPBACK);
	struct rec *got[4];
	char buf[8];
	int cli, srv;
	uint16_t port;

	drain(rb);
	tcp_pair(&cli, &srv, &port);
	CHECK(getsockname(cli, (struct sockaddr *)&me, &len) == 0);
	memcpy(key.laddr, &lo, 4);
	memcpy(key.raddr, &lo, 4);
	key.lport = ntohs(me.sin_port);
	key.rport = port;
	CHECK(bpf_map__lookup_elem(skel->maps.local_conns, &key, sizeof(key), &owner, sizeof(owner),
	                           0) == 0 &&
	      (owner.flags & CONN_OWNER_SELF));
	CHECK(write(cli, "GET / HT", 8) == 8 && read(srv, buf, sizeof(buf)) == 8);
	close(cli);
	close(srv);
	rings_consume(rb);
	CHECK(mine(cli, SC_DATA, got, 4) == 0 && mine(srv, SC_DATA, got, 4) == 0);
	CHECK(bpf_map__lookup_elem(skel->maps.local_conns, &key, sizeof(key), &owner, sizeof(owner),
	                           0) != 0);
}

/* Every test, with the probes hooked one way. */
static void test_hooks(enum syscall_hooks hooks, const char *name)
{
	struct syscalls_bpf *skel;
	struct rings *rb;
	int old_cli, old_srv;
	uint16_t port;

	tcp_pair(&old_cli, &old_srv, &port); /* before the probes: test_joined */
	skel = open_probes(hooks, 4096, 0, 0, &rb);
	if (!skel) {
		printf("test_syscalls: %s: does not load on this kernel, skipped\n", name);
		close(old_cli);
		close(old_srv);
		return;
	}
	test_families(skel, rb);
	test_joined(rb, old_cli, old_srv);
	test_udp(skel, rb, hooks == SYSCALL_HOOKS_SOCK);
	test_udp_connected(rb);
	test_not_tcp(rb);
	rings_free(rb);
	syscalls_bpf__destroy(skel);

	skel = open_probes(hooks, 100, 0, 0, &rb);
	test_cut(rb);
	rings_free(rb);
	syscalls_bpf__destroy(skel);

	skel = open_probes(hooks, SC_PAYLOAD_MAX, 0, 0, &rb);
	test_sizes(rb);
	rings_free(rb);
	syscalls_bpf__destroy(skel);

	skel = open_probes(hooks, 4096, 0, 64 << 10, &rb);
	test_ring_wrap(skel, rb);
	rings_free(rb);
	syscalls_bpf__destroy(skel);

	skel = open_probes(hooks, 4096, (uint32_t)getpid(), 0, &rb);
	test_own(skel, rb);
	rings_free(rb);
	syscalls_bpf__destroy(skel);
	printf("test_syscalls: %s: done\n", name);
}

int main(void)
{
	if (geteuid() != 0 || (access("/sys/kernel/tracing/events/syscalls", F_OK) != 0 &&
	                       access("/sys/kernel/debug/tracing/events/syscalls", F_OK) != 0)) {
		printf("test_syscalls: skipped, needs root and tracefs\n");
		return 77;
	}
	test_hooks(SYSCALL_HOOKS_TRACEPOINTS, "tracepoints");
	test_hooks(SYSCALL_HOOKS_SYS_EXIT, "sys_exit");
	test_hooks(SYSCALL_HOOKS_SOCK, "sock");
	return check_report("test_syscalls");
}
