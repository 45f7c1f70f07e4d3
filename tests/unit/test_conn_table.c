/* The syscall connection table fed ring buffer records as the probes write them (bpf/syscalls.h):
 * client and server exchanges, connections joined midstream, several connections of one
 * process, payloads cut at --max-payload, malformed records, process exits, idle expiry and
 * eviction. Each record is passed in a heap block of exactly its size, so that reading past it
 * is an ASan error. */
#include "conn_table.h"

#include <arpa/inet.h>
#include <stdbool.h>

#include "check.h"
#include "community_id.h"
#include "proc_cache.h"

#define L(lit)  (sizeof(lit) - 1)
#define SEC     UINT64_C(1000000000)
#define MS      UINT64_C(1000000)
#define T0      (UINT64_C(1700000000) * SEC) /* record timestamps made Unix time */
#define IDLE    (10 * SEC)
#define RESP_TO (5 * SEC)
#define MAX_EVS 32

/* What an event said, copied out of the callback (its pointers die with it). */
struct got {
	enum l7_dataset dataset;
	enum l7_source source;
	struct l7_tuple tuple;
	uint64_t ts_start, ts_end;
	uint64_t client_bytes, server_bytes, resp_body;
	bool truncated;
	char status[16], role[8], community_id[COMMUNITY_ID_LEN];
	char method[16], target[64];
	unsigned code; /* 0: no response */
	bool has_proc;
	uint32_t pid, tid, uid, gid;
	uint64_t cgroup_id;
	char name[16], thread[16];
	bool has_exe, has_container;
};

static struct {
	struct proc_cache *pc;
	struct conn_table *ct;
	struct got ev[MAX_EVS];
	size_t n;
	struct conn_key forgot[16];
	size_t n_forgot;
} w;

static void copy_str(char *dst, size_t size, const char *s)
{
	snprintf(dst, size, "%s", s ? s : "(null)");
}

static void copy_slice(char *dst, size_t size, struct http_slice s)
{
	size_t n = s.n < size - 1 ? s.n : size - 1;

	memcpy(dst, s.p, n);
	dst[n] = '\0';
}

static void emit(void *ctx, const struct l7_event *ev)
{
	struct got *g;

	CHECK(ctx == &w);
	if (w.n == MAX_EVS) {
		check_failures++;
		return;
	}
	g = &w.ev[w.n++];
	memset(g, 0, sizeof(*g));
	g->dataset = ev->dataset;
	g->source = ev->source;
	g->tuple = ev->tuple;
	g->ts_start = ev->ts_start;
	g->ts_end = ev->ts_end;
	g->client_bytes = ev->client_bytes;
	g->server_bytes = ev->server_bytes;
	g->resp_body = ev->http.resp_body_bytes;
	g->truncated = ev->truncated;
	copy_str(g->status, sizeof(g->status), ev->status);
	copy_str(g->role, sizeof(g->role), ev->role);
	copy_str(g->community_id, sizeof(g->community_id), ev->community_id);
	CHECK(ev->http.req != NULL);
	if (ev->http.req) {
		copy_slice(g->method, sizeof(g->method), ev->http.req->method);
		copy_slice(g->target, sizeof(g->target), ev->http.req->target);
	}
	g->code = ev->http.resp ? ev->http.resp->status : 0;
	g->has_proc = ev->process != NULL;
	if (ev->process) {
		g->pid = ev->process->pid;
		g->tid = ev->process->tid;
		g->uid = ev->process->uid;
		g->gid = ev->process->gid;
		g->cgroup_id = ev->process->cgroup_id;
		copy_str(g->name, sizeof(g->name), ev->process->name);
		copy_str(g->thread, sizeof(g->thread), ev->process->thread_name);
		g->has_exe = ev->process->executable != NULL;
		g->has_container = ev->process->container_id != NULL;
	}
}

static void forget(void *ctx, const struct conn_key *key)
{
	CHECK(ctx == &w);
	if (w.n_forgot == sizeof(w.forgot) / sizeof(w.forgot[0])) {
		check_failures++;
		return;
	}
	w.forgot[w.n_forgot++] = *key;
}

static void setup(uint32_t max_conns)
{
	struct conn_cfg cfg = {
	        .max_conns = max_conns,
	        .idle_timeout_ns = IDLE,
	        .http = {.max_header_bytes = 4096,
	                 .max_pending = 16,
	                 .response_timeout_ns = RESP_TO},
	        .procs = w.pc,
	};

	w.n = w.n_forgot = 0;
	w.ct = conn_table_new(&cfg, emit, forget, &w);
	if (!w.ct) {
		fprintf(stderr, "conn_table_new failed\n");
		exit(2);
	}
}

static void teardown(void)
{
	conn_table_free(w.ct);
	w.ct = NULL;
}

/* One (process, fd, socket) as the probes see it. */
struct cs {
	uint64_t id;
	uint32_t tgid, tid, fd;
	const char *comm, *pcomm;
	struct conn_key key;
};

static struct cs conn4(uint64_t id, uint32_t tgid, const char *laddr, uint16_t lport,
                       const char *raddr, uint16_t rport)
{
	struct cs c = {.id = id, .tgid = tgid, .tid = tgid + 1, .fd = (uint32_t)id + 3};

	c.comm = "worker";
	c.pcomm = "app";
	inet_pton(AF_INET, laddr, c.key.laddr);
	inet_pton(AF_INET, raddr, c.key.raddr);
	c.key.lport = lport;
	c.key.rport = rport;
	c.key.family = AF_INET;
	return c;
}

/* A record of size bytes (header and the first size - header bytes of payload), whatever its
 * header says. */
static void feed_sized(const struct sc_record *h, const void *payload, size_t size, uint64_t ts)
{
	uint8_t *rec = malloc(size ? size : 1);

	if (!rec)
		exit(2);
	memcpy(rec, h, size < sizeof(*h) ? size : sizeof(*h));
	if (size > sizeof(*h))
		memcpy(rec + sizeof(*h), payload, size - sizeof(*h));
	conn_table_record(w.ct, rec, size, ts);
	free(rec);
}

static struct sc_record header(const struct cs *c, uint8_t kind, uint64_t ts)
{
	struct sc_record h = {
	        .ts_ns = ts - T0, /* monotonic in the kernel; the caller passes the Unix time */
	        .conn_id = c->id,
	        .fd = c->fd,
	        .kind = kind,
	        .who = {.cgroup_id = 0x4242,
	                .tgid = c->tgid,
	                .tid = c->tid,
	                .uid = 1000,
	                .gid = 1001},
	        .conn = c->key,
	};

	snprintf(h.who.comm, sizeof(h.who.comm), "%s", c->comm);
	snprintf(h.who.pcomm, sizeof(h.who.pcomm), "%s", c->pcomm);
	return h;
}

static void sc_open(const struct cs *c, uint8_t role, uint64_t ts)
{
	struct sc_record h = header(c, SC_OPEN, ts);

	h.role = role;
	feed_sized(&h, NULL, sizeof(h), ts);
}

static void sc_close(const struct cs *c, uint64_t ts)
{
	struct sc_record h = header(c, SC_CLOSE, ts);

	feed_sized(&h, NULL, sizeof(h), ts);
}

static void sc_exit(uint32_t tgid, uint64_t ts)
{
	struct cs none = {.tgid = tgid, .comm = "", .pcomm = ""};
	struct sc_record h = header(&none, SC_EXIT, ts);

	feed_sized(&h, NULL, sizeof(h), ts);
}

/* A data record: the syscall moved len bytes, cap of them were copied. */
static void sc_data_cut(const struct cs *c, uint8_t dir, const char *p, uint32_t len, uint32_t cap,
                        uint64_t ts)
{
	struct sc_record h = header(c, SC_DATA, ts);

	h.dir = dir;
	h.len = len;
	h.cap = cap;
	h.flags = cap < len ? SC_REC_TRUNCATED : 0;
	feed_sized(&h, p, sizeof(h) + cap, ts);
}

static void sc_send(const struct cs *c, const char *s, uint64_t ts)
{
	sc_data_cut(c, SC_EGRESS, s, (uint32_t)strlen(s), (uint32_t)strlen(s), ts);
}

static void sc_recv(const struct cs *c, const char *s, uint64_t ts)
{
	sc_data_cut(c, SC_INGRESS, s, (uint32_t)strlen(s), (uint32_t)strlen(s), ts);
}

static uint32_t ip4(const uint8_t a[16])
{
	uint32_t v;

	memcpy(&v, a, 4);
	return ntohl(v);
}

/* The event's tuple is client -> server with these ports and IPv4 addresses. */
static void check_tuple(const struct got *g, uint32_t saddr, uint16_t sport, uint32_t daddr,
                        uint16_t dport)
{
	CHECK_EQ_U64(g->tuple.family, AF_INET);
	CHECK_EQ_U64(g->tuple.proto, IPPROTO_TCP);
	CHECK_EQ_U64(ip4(g->tuple.saddr), saddr);
	CHECK_EQ_U64(ip4(g->tuple.daddr), daddr);
	CHECK_EQ_U64(g->tuple.sport, sport);
	CHECK_EQ_U64(g->tuple.dport, dport);
}

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

#define REQ  "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
#define RESP "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"

/* connect(), request out in two writes, response in two reads, close(). */
static void test_client(void)
{
	struct cs c = conn4(1, 100, "10.0.0.1", 40000, "10.0.0.2", 80);
	const struct conn_stats *st;
	const struct got *g = &w.ev[0];

	setup(16);
	st = conn_table_stats(w.ct);
	c.comm = "curl-worker";
	c.pcomm = "curl";
	sc_open(&c, SC_ROLE_CLIENT, T0);
	CHECK_EQ_U64(st->opened, 1);
	CHECK_EQ_U64(st->active, 1);
	sc_send(&c, "GET / HTTP/1.1\r\n", T0 + 1 * MS);
	sc_send(&c, "Host: x\r\n\r\n", T0 + 2 * MS);
	sc_recv(&c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", T0 + 30 * MS);
	CHECK_EQ_U64(w.n, 0); /* the body is still to come */
	sc_recv(&c, "hi", T0 + 35 * MS);
	CHECK_EQ_U64(w.n, 1); /* reported as soon as the response is complete */
	sc_close(&c, T0 + 40 * MS);
	CHECK_EQ_U64(w.n, 1);

	CHECK_EQ_U64(g->dataset, L7_DATASET_HTTP);
	CHECK_EQ_U64(g->source, L7_SOURCE_SYSCALL);
	CHECK_STR(g->role, "client");
	CHECK_STR(g->status, "ok");
	CHECK_STR(g->method, "GET");
	CHECK_STR(g->target, "/");
	CHECK_EQ_U64(g->code, 200);
	CHECK(!g->truncated);
	/* Latency: first request byte to last response byte. */
	CHECK_EQ_U64(g->ts_start, T0 + 1 * MS);
	CHECK_EQ_U64(g->ts_end, T0 + 35 * MS);
	CHECK_EQ_U64(g->ts_end - g->ts_start, 34 * MS);
	CHECK_EQ_U64(g->client_bytes, L(REQ));
	CHECK_EQ_U64(g->server_bytes, L(RESP));
	CHECK_EQ_U64(g->resp_body, 2);
	/* The local end sent the request: it is the source. */
	check_tuple(g, IP(10, 0, 0, 1), 40000, IP(10, 0, 0, 2), 80);
	CHECK_EQ_U64(strlen(g->community_id), COMMUNITY_ID_LEN - 1);
	CHECK(g->has_proc);
	CHECK_EQ_U64(g->pid, 100);
	CHECK_EQ_U64(g->tid, 101);
	CHECK_EQ_U64(g->uid, 1000);
	CHECK_EQ_U64(g->gid, 1001);
	CHECK_EQ_U64(g->cgroup_id, 0x4242);
	CHECK_STR(g->name, "curl");
	CHECK_STR(g->thread, "curl-worker");
	/* The proc root is an empty directory: nothing is known beyond the kernel's fields. */
	CHECK(!g->has_exe && !g->has_container);

	CHECK_EQ_U64(st->closed, 1);
	CHECK_EQ_U64(st->active, 0);
	CHECK_EQ_U64(st->midstream, 0);
	CHECK_EQ_U64(st->data_records, 4);
	CHECK_EQ_U64(st->data_bytes, L(REQ) + L(RESP));
	CHECK_EQ_U64(st->cut_bytes, 0);
	CHECK_EQ_U64(conn_table_http_stats(w.ct)->exchanges, 1);

	/* A close() for a connection the table does not hold changes nothing. */
	sc_close(&c, T0 + 50 * MS);
	CHECK_EQ_U64(st->closed, 1);
	CHECK_EQ_U64(st->opened, 1);
	teardown();
}

/* accept(), request in, response out: the local process is the server, the peer the source. */
static void test_server(void)
{
	struct cs c = conn4(2, 200, "10.0.0.2", 8080, "10.0.0.9", 51000);
	const struct got *g = &w.ev[0];

	setup(16);
	sc_open(&c, SC_ROLE_SERVER, T0);
	sc_recv(&c, "POST /submit HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", T0 + 5 * MS);
	sc_send(&c, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", T0 + 7 * MS);
	CHECK_EQ_U64(w.n, 1);
	CHECK_STR(g->role, "server");
	CHECK_STR(g->method, "POST");
	CHECK_STR(g->target, "/submit");
	CHECK_EQ_U64(g->code, 201);
	CHECK_EQ_U64(g->ts_start, T0 + 5 * MS);
	CHECK_EQ_U64(g->ts_end, T0 + 7 * MS);
	check_tuple(g, IP(10, 0, 0, 9), 51000, IP(10, 0, 0, 2), 8080);
	CHECK_EQ_U64(g->pid, 200);
	CHECK_STR(g->name, "app");
	CHECK_STR(g->thread, "worker");
	CHECK_EQ_U64(conn_table_stats(w.ct)->midstream, 0);
	teardown();
}

/* Connections open before capture began, joined in the middle of a response: the tail is
 * skipped, the next full exchange reported, once. Whether the open record was lost (data
 * first) or says the role is unknown (the probes saw the fd first at its data). */
#define TAIL_A "ody>lorem ipsum</body></html>\n"
#define TAIL_B "0\r\n\r\n" /* the end of a chunked body */

static void test_midstream(void)
{
	struct cs a = conn4(3, 300, "10.0.0.1", 40003, "10.0.0.2", 80);
	struct cs b = conn4(4, 300, "10.0.0.1", 40004, "10.0.0.2", 80);
	const struct conn_stats *st;

	setup(16);
	st = conn_table_stats(w.ct);
	sc_recv(&a, TAIL_A, T0);
	CHECK_EQ_U64(st->opened, 1);
	CHECK_EQ_U64(st->midstream, 1);
	sc_send(&a, "GET /next HTTP/1.1\r\nHost: x\r\n\r\n", T0 + 1 * MS);
	sc_recv(&a, "HTTP/1.1 204 No Content\r\n\r\n", T0 + 2 * MS);

	sc_open(&b, SC_ROLE_UNKNOWN, T0 + 3 * MS);
	CHECK_EQ_U64(st->midstream, 2);
	sc_recv(&b, TAIL_B, T0 + 4 * MS);
	sc_send(&b, "GET /again HTTP/1.1\r\nHost: x\r\n\r\n", T0 + 5 * MS);
	sc_recv(&b, RESP, T0 + 6 * MS);
	sc_close(&a, T0 + 7 * MS);
	sc_close(&b, T0 + 7 * MS);

	CHECK_EQ_U64(w.n, 2);
	CHECK_STR(w.ev[0].target, "/next");
	CHECK_EQ_U64(w.ev[0].code, 204);
	CHECK_STR(w.ev[0].role, "client");
	CHECK_EQ_U64(w.ev[0].ts_start, T0 + 1 * MS);
	CHECK(!w.ev[0].truncated);
	CHECK_STR(w.ev[1].target, "/again");
	CHECK_EQ_U64(w.ev[1].code, 200);
	CHECK_EQ_U64(w.ev[1].tuple.sport, 40004);
	CHECK_EQ_U64(st->opened, 2);
	/* The tails were skipped as such, not taken for malformed messages. */
	CHECK_EQ_U64(conn_table_http_stats(w.ct)->parse_errors, 0);
	CHECK_EQ_U64(conn_table_http_stats(w.ct)->discarded_bytes, L(TAIL_A) + L(TAIL_B));
	CHECK_EQ_U64(conn_table_http_stats(w.ct)->unpaired_responses, 0);
	teardown();
}

/* Two connections of one process, their writes and reads interleaved and split mid-line: each
 * exchange is paired on its own connection. */
static void test_interleaved(void)
{
	struct cs a = conn4(5, 500, "10.0.0.1", 41000, "10.0.0.2", 80);
	struct cs b = conn4(6, 500, "10.0.0.1", 41001, "10.0.0.3", 8080);

	setup(16);
	sc_open(&a, SC_ROLE_CLIENT, T0);
	sc_open(&b, SC_ROLE_CLIENT, T0);
	sc_send(&a, "GET /a HTTP/1.1\r\nHo", T0 + 1 * MS);
	sc_send(&b, "GET /b HTTP/1.1\r\nHost: x\r\n\r\n", T0 + 2 * MS);
	sc_send(&a, "st: x\r\n\r\n", T0 + 3 * MS);
	sc_recv(&a, "HTTP/1.1 200 OK\r\nContent-Le", T0 + 4 * MS);
	sc_recv(&b, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", T0 + 5 * MS);
	CHECK_EQ_U64(w.n, 1);
	sc_send(&b, "GET /b2 HTTP/1.1\r\nHost: x\r\n\r\n", T0 + 6 * MS);
	sc_recv(&a, "ngth: 1\r\n\r\n!", T0 + 7 * MS);
	sc_recv(&b, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", T0 + 8 * MS);

	CHECK_EQ_U64(w.n, 3);
	CHECK_STR(w.ev[0].target, "/b");
	CHECK_EQ_U64(w.ev[0].code, 404);
	CHECK_EQ_U64(w.ev[0].tuple.sport, 41001);
	CHECK_EQ_U64(ip4(w.ev[0].tuple.daddr), IP(10, 0, 0, 3));
	CHECK_EQ_U64(w.ev[0].ts_start, T0 + 2 * MS);
	CHECK_EQ_U64(w.ev[0].ts_end, T0 + 5 * MS);

	CHECK_STR(w.ev[1].target, "/a");
	CHECK_EQ_U64(w.ev[1].code, 200);
	CHECK_EQ_U64(w.ev[1].tuple.sport, 41000);
	CHECK_EQ_U64(w.ev[1].ts_start, T0 + 1 * MS);
	CHECK_EQ_U64(w.ev[1].ts_end, T0 + 7 * MS);
	CHECK_EQ_U64(w.ev[1].client_bytes, L("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"));
	CHECK_EQ_U64(w.ev[1].resp_body, 1);

	CHECK_STR(w.ev[2].target, "/b2");
	CHECK_EQ_U64(w.ev[2].code, 503);
	CHECK_EQ_U64(w.ev[2].tuple.sport, 41001);
	/* Same connection, same community id; the other connection has its own. */
	CHECK_STR(w.ev[2].community_id, w.ev[0].community_id);
	CHECK(strcmp(w.ev[1].community_id, w.ev[0].community_id) != 0);
	teardown();
}

/* --max-payload cut a read: the bytes not copied are counted, the exchange is still reported,
 * marked truncated, with the sizes the syscalls moved. */
static void test_truncated(void)
{
	static char resp[64 + 1000];
	struct cs c = conn4(7, 700, "10.0.0.1", 42000, "10.0.0.2", 80);
	struct cs d = conn4(8, 700, "10.0.0.1", 42001, "10.0.0.2", 80);
	static const char big_req[] = "GET /a/very/long/path/that/is/cut HTTP/1.1\r\n"
	                              "Host: x\r\nCookie: 0123456789abcdef0123456789\r\n\r\n";
	const struct conn_stats *st;
	int hdr;

	setup(16);
	st = conn_table_stats(w.ct);
	hdr = snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
	memset(resp + hdr, 'x', 1000);
	sc_open(&c, SC_ROLE_CLIENT, T0);
	sc_send(&c, REQ, T0 + 1 * MS);
	/* One read of the whole response, only the head and 100 body bytes copied. */
	sc_data_cut(&c, SC_INGRESS, resp, (uint32_t)hdr + 1000, (uint32_t)hdr + 100, T0 + 2 * MS);
	CHECK_EQ_U64(st->cut_bytes, 900);
	CHECK_EQ_U64(st->data_bytes, L(REQ) + (uint64_t)hdr + 1000);
	CHECK_EQ_U64(w.n, 1);
	CHECK_EQ_U64(w.ev[0].code, 200);
	CHECK(w.ev[0].truncated);
	CHECK_EQ_U64(w.ev[0].server_bytes, (uint64_t)hdr + 1000);
	CHECK_EQ_U64(w.ev[0].resp_body, 1000);
	CHECK_EQ_U64(w.ev[0].ts_end, T0 + 2 * MS);

	/* The framing survives the cut: the next exchange is whole again. */
	sc_send(&c, REQ, T0 + 3 * MS);
	sc_recv(&c, RESP, T0 + 4 * MS);
	CHECK_EQ_U64(w.n, 2);
	CHECK(!w.ev[1].truncated);
	CHECK_EQ_U64(w.ev[1].code, 200);

	/* A write cut inside the request's header block: the start line survives, the response
	 * still pairs with it. */
	sc_open(&d, SC_ROLE_CLIENT, T0 + 5 * MS);
	sc_data_cut(&d, SC_EGRESS, big_req, (uint32_t)L(big_req), 52, T0 + 6 * MS);
	CHECK_EQ_U64(st->cut_bytes, 900 + L(big_req) - 52);
	sc_recv(&d, RESP, T0 + 7 * MS);
	CHECK_EQ_U64(w.n, 3);
	CHECK_STR(w.ev[2].target, "/a/very/long/path/that/is/cut");
	CHECK_EQ_U64(w.ev[2].code, 200);
	CHECK(w.ev[2].truncated);
	CHECK_EQ_U64(w.ev[2].client_bytes, L(big_req));
	teardown();
}

/* Records shorter than their header says are dropped whole and counted. */
static void test_bad_records(void)
{
	struct cs c = conn4(9, 900, "10.0.0.1", 43000, "10.0.0.2", 80);
	struct sc_record h = header(&c, SC_DATA, T0);
	const struct conn_stats *st;

	setup(16);
	st = conn_table_stats(w.ct);
	/* Shorter than the header itself. */
	feed_sized(&h, NULL, 64, T0);
	feed_sized(&h, NULL, 0, T0);
	CHECK_EQ_U64(st->bad_records, 2);
	/* The header promises 100 payload bytes, 50 follow. */
	h.len = h.cap = 100;
	feed_sized(&h, REQ REQ REQ, sizeof(h) + 50, T0);
	CHECK_EQ_U64(st->bad_records, 3);
	/* One byte short is still short. */
	h.len = h.cap = (uint32_t)L(REQ);
	feed_sized(&h, REQ, sizeof(h) + L(REQ) - 1, T0);
	CHECK_EQ_U64(st->bad_records, 4);
	CHECK_EQ_U64(st->opened, 0);
	CHECK_EQ_U64(st->data_records, 0);
	CHECK_EQ_U64(st->active, 0);
	/* Exactly its size is fine. */
	feed_sized(&h, REQ, sizeof(h) + L(REQ), T0);
	CHECK_EQ_U64(st->bad_records, 4);
	CHECK_EQ_U64(st->data_records, 1);
	CHECK_EQ_U64(w.n, 0);
	teardown();
}

static bool key_eq(const struct conn_key *a, const struct conn_key *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* A process exits: its connections end (pending requests reported without a response), their
 * kernel entries are forgotten, the other process's connection stays, and the exited pid's
 * /proc details are dropped so a new process with that pid is read afresh. */
static void test_exit(void)
{
	struct cs a = conn4(10, 1000, "10.0.0.1", 44000, "10.0.0.2", 80);
	struct cs b = conn4(11, 1000, "10.0.0.1", 44001, "10.0.0.2", 80);
	struct cs other = conn4(12, 1001, "10.0.0.1", 44002, "10.0.0.2", 80);
	struct cs again = conn4(13, 1000, "10.0.0.1", 44003, "10.0.0.2", 80);
	const struct conn_stats *st;
	const struct proc_cache_stats *ps = proc_cache_stats(w.pc);
	uint64_t misses;

	setup(16);
	st = conn_table_stats(w.ct);
	sc_open(&a, SC_ROLE_CLIENT, T0);
	sc_open(&b, SC_ROLE_SERVER, T0 + 1 * MS);
	sc_open(&other, SC_ROLE_CLIENT, T0 + 2 * MS);
	sc_send(&a, "GET /pending HTTP/1.1\r\nHost: x\r\n\r\n", T0 + 3 * MS);
	sc_send(&other, "GET /other HTTP/1.1\r\nHost: x\r\n\r\n", T0 + 4 * MS);
	CHECK_EQ_U64(w.n, 0);

	misses = ps->misses;
	sc_exit(1000, T0 + 5 * MS);
	CHECK_EQ_U64(st->process_exits, 1);
	CHECK_EQ_U64(st->active, 1);
	CHECK_EQ_U64(st->closed, 0); /* no close() was seen */
	CHECK_EQ_U64(w.n_forgot, 2);
	/* In whatever order the table holds them. */
	CHECK((key_eq(&w.forgot[0], &a.key) && key_eq(&w.forgot[1], &b.key)) ||
	      (key_eq(&w.forgot[0], &b.key) && key_eq(&w.forgot[1], &a.key)));
	CHECK_EQ_U64(w.n, 1);
	CHECK_STR(w.ev[0].target, "/pending");
	CHECK_STR(w.ev[0].status, "no_response");
	CHECK_EQ_U64(w.ev[0].code, 0);
	CHECK_EQ_U64(w.ev[0].pid, 1000);
	CHECK_EQ_U64(ps->misses, misses + 1);

	/* An exit of a process without connections is counted, nothing else. */
	sc_exit(4242, T0 + 6 * MS);
	CHECK_EQ_U64(st->process_exits, 2);
	CHECK_EQ_U64(w.n_forgot, 2);
	CHECK_EQ_U64(st->active, 1);

	/* The pid is reused: its details are looked up again, not taken from the cache. */
	sc_open(&again, SC_ROLE_CLIENT, T0 + 7 * MS);
	sc_send(&again, REQ, T0 + 8 * MS);
	sc_recv(&again, RESP, T0 + 9 * MS);
	CHECK_EQ_U64(w.n, 2);
	CHECK_EQ_U64(w.ev[1].pid, 1000);
	CHECK_EQ_U64(ps->misses, misses + 2);

	/* Data on an ended connection id would make it new again; a close() is just ignored. */
	sc_close(&a, T0 + 10 * MS);
	CHECK_EQ_U64(st->closed, 0);

	sc_exit(1001, T0 + 11 * MS);
	CHECK_EQ_U64(w.n_forgot, 3);
	CHECK(key_eq(&w.forgot[2], &other.key));
	CHECK_EQ_U64(w.n, 3);
	CHECK_STR(w.ev[2].target, "/other");
	CHECK_STR(w.ev[2].status, "no_response");
	CHECK_EQ_U64(st->active, 1); /* again, pid 1000's new connection */
	teardown();
}

/* conn_table_tick: a request unanswered past the response timeout is reported while its
 * connection stays; a connection idle past the idle timeout ends. */
static void test_idle(void)
{
	struct cs a = conn4(14, 1400, "10.0.0.1", 45000, "10.0.0.2", 80);
	struct cs b = conn4(15, 1400, "10.0.0.1", 45001, "10.0.0.2", 80);
	const struct conn_stats *st;

	setup(16);
	st = conn_table_stats(w.ct);
	sc_open(&a, SC_ROLE_CLIENT, T0);
	sc_send(&a, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n", T0 + 1 * SEC);
	conn_table_tick(w.ct, T0 + 3 * SEC);
	CHECK_EQ_U64(w.n, 0);
	conn_table_tick(w.ct, T0 + 7 * SEC);
	CHECK_EQ_U64(w.n, 1);
	CHECK_STR(w.ev[0].target, "/slow");
	CHECK_STR(w.ev[0].status, "no_response");
	CHECK_EQ_U64(st->expired, 0);
	CHECK_EQ_U64(st->active, 1);

	sc_open(&b, SC_ROLE_CLIENT, T0 + 8 * SEC);
	sc_send(&b, "GET /later HTTP/1.1\r\nHost: x\r\n\r\n", T0 + 8 * SEC);
	/* Exactly the idle timeout is not past it. */
	conn_table_tick(w.ct, T0 + 1 * SEC + IDLE);
	CHECK_EQ_U64(st->expired, 0);
	conn_table_tick(w.ct, T0 + 12 * SEC);
	CHECK_EQ_U64(st->expired, 1);
	CHECK_EQ_U64(st->active, 1);
	CHECK_EQ_U64(w.n, 1); /* /slow was already reported, and only once */

	/* b's request is pending when b expires: reported as it goes. */
	conn_table_tick(w.ct, T0 + 19 * SEC);
	CHECK_EQ_U64(st->expired, 2);
	CHECK_EQ_U64(st->active, 0);
	CHECK_EQ_U64(w.n, 2);
	CHECK_STR(w.ev[1].target, "/later");
	CHECK_STR(w.ev[1].status, "no_response");
	/* Expiry is not a process exit: the kernel's entries stay (the socket may live on). */
	CHECK_EQ_U64(w.n_forgot, 0);
	teardown();
}

/* max_conns=2: a third connection evicts the least recently used one, reporting what it held;
 * its data later makes it a new (midstream) connection. */
static void test_evict(void)
{
	struct cs a = conn4(16, 1600, "10.0.0.1", 46000, "10.0.0.2", 80);
	struct cs b = conn4(17, 1600, "10.0.0.1", 46001, "10.0.0.2", 80);
	struct cs c = conn4(18, 1600, "10.0.0.1", 46002, "10.0.0.2", 80);
	const struct conn_stats *st;

	setup(2);
	st = conn_table_stats(w.ct);
	sc_open(&a, SC_ROLE_CLIENT, T0);
	sc_open(&b, SC_ROLE_CLIENT, T0 + 1 * MS);
	sc_send(&b, "GET /lost HTTP/1.1\r\nHost: x\r\n\r\n", T0 + 2 * MS);
	sc_send(&a, "GET /kept HTTP/1.1\r\nHost: x\r\n\r\n", T0 + 3 * MS); /* b is now oldest */
	sc_open(&c, SC_ROLE_CLIENT, T0 + 4 * MS);
	CHECK_EQ_U64(st->evicted, 1);
	CHECK_EQ_U64(st->active, 2);
	CHECK_EQ_U64(st->opened, 3);
	CHECK_EQ_U64(w.n, 1);
	CHECK_STR(w.ev[0].target, "/lost");
	CHECK_STR(w.ev[0].status, "no_response");
	CHECK_EQ_U64(w.n_forgot, 0); /* evicted, not gone: the kernel entry stays */

	/* a was kept: its response pairs with its request. */
	sc_recv(&a, RESP, T0 + 5 * MS);
	CHECK_EQ_U64(w.n, 2);
	CHECK_STR(w.ev[1].target, "/kept");
	CHECK_EQ_U64(w.ev[1].code, 200);

	/* b's response comes back as new data: a new connection, joined midstream, evicting c
	 * (a was used since). Its response has no request to pair with: not reported. */
	sc_recv(&b, RESP, T0 + 6 * MS);
	CHECK_EQ_U64(st->evicted, 2);
	CHECK_EQ_U64(st->opened, 4);
	CHECK_EQ_U64(st->midstream, 1);
	CHECK_EQ_U64(st->active, 2);
	CHECK_EQ_U64(w.n, 2);

	/* Shutdown: what is still held is reported by a flush. */
	sc_send(&a, "GET /at-exit HTTP/1.1\r\nHost: x\r\n\r\n", T0 + 7 * MS);
	conn_table_flush(w.ct, T0 + 8 * MS);
	CHECK_EQ_U64(st->active, 0);
	CHECK_EQ_U64(w.n, 3);
	CHECK_STR(w.ev[2].target, "/at-exit");
	CHECK_STR(w.ev[2].status, "no_response");
	teardown();
}

int main(void)
{
	char root[] = "/tmp/l7ct.XXXXXX";

	/* An empty proc root: every process looks gone, which the events must survive. */
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 2;
	}
	w.pc = proc_cache_new(64, root);
	CHECK(w.pc != NULL);
	if (w.pc) {
		test_client();
		test_server();
		test_midstream();
		test_interleaved();
		test_truncated();
		test_bad_records();
		test_exit();
		test_idle();
		test_evict();
	}
	proc_cache_free(w.pc);
	if (rmdir(root) != 0) {
		perror(root);
		check_failures++;
	}
	return check_report("test_conn_table");
}
