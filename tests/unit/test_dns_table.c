/* DNS transactions (dns_table.h) from synthetic observations of real DNS bytes: a query and its
 * response as the wire, the asking process and the answering process saw them, in any order,
 * reported once with the asker; and the ways a transaction goes wrong (no response, no query,
 * retransmits, late copies, a full table, bytes that are not DNS). Time is driven by
 * dns_table_tick(); every event is copied out of the callback, whose pointers die with it. */
#include "dns_table.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "check.h"
#include "dns_build.h"

#define SEC        UINT64_C(1000000000)
#define MS         UINT64_C(1000000)
#define US         UINT64_C(1000)
#define T0         (UINT64_C(1700000000) * SEC)
#define TIMEOUT    (5 * SEC)
#define HOLD       (100 * MS)
#define REMEMBER   SEC /* dns_table.c: how long a reported transaction is remembered */
#define MAX_EVENTS 8
#define CPORT      40000

/* What an event said, copied out of the callback. */
struct ev {
	char status[16];
	char role[8]; /* "" for NULL */
	bool has_query, has_resp;
	char qname[64], rname[64];
	uint16_t qid, rid;
	unsigned n_answers;
	char answer0[32];
	bool has_proc;
	uint32_t pid;
	char pname[16];
	bool has_thread;
	char thread[16];
	uint64_t ts_start, ts_end;
	struct l7_tuple tuple;
	enum l7_source source;
	bool truncated;
	uint64_t client_bytes, server_bytes;
};

struct h {
	struct dns_table *t;
	struct ev e[MAX_EVENTS];
	size_t n;
};

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static void on_event(void *ctx, const struct l7_event *ev)
{
	struct h *h = ctx;
	struct ev *e;

	CHECK_EQ_U64(ev->dataset, L7_DATASET_DNS);
	CHECK(ev->community_id && strncmp(ev->community_id, "1:", 2) == 0);
	if (h->n == MAX_EVENTS) {
		check_failures++;
		return;
	}
	e = &h->e[h->n++];
	memset(e, 0, sizeof(*e));
	copy_str(e->status, sizeof(e->status), ev->status);
	copy_str(e->role, sizeof(e->role), ev->role);
	if (ev->dns.query) {
		e->has_query = true;
		e->qid = ev->dns.query->id;
		CHECK(!ev->dns.query->qr);
		copy_str(e->qname, sizeof(e->qname), ev->dns.query->question.name);
	}
	if (ev->dns.resp) {
		e->has_resp = true;
		e->rid = ev->dns.resp->id;
		CHECK(ev->dns.resp->qr);
		copy_str(e->rname, sizeof(e->rname), ev->dns.resp->question.name);
		e->n_answers = ev->dns.resp->n_answers;
		if (e->n_answers)
			copy_str(e->answer0, sizeof(e->answer0), ev->dns.resp->answers[0].data);
	}
	if (ev->process) {
		e->has_proc = true;
		e->pid = ev->process->pid;
		copy_str(e->pname, sizeof(e->pname), ev->process->name);
		e->has_thread = ev->process->thread_name != NULL;
		copy_str(e->thread, sizeof(e->thread), ev->process->thread_name);
	}
	e->ts_start = ev->ts_start;
	e->ts_end = ev->ts_end;
	e->tuple = ev->tuple;
	e->source = ev->source;
	e->truncated = ev->truncated;
	e->client_bytes = ev->client_bytes;
	e->server_bytes = ev->server_bytes;
}

static void h_init(struct h *h, uint32_t max)
{
	struct dns_cfg cfg = {max, TIMEOUT, HOLD};

	memset(h, 0, sizeof(*h));
	h->t = dns_table_new(&cfg, on_event, h);
	if (!h->t)
		exit(2);
}

static const struct dns_stats *stats(const struct h *h)
{
	return dns_table_stats(h->t);
}

static void h_done(struct h *h)
{
	dns_table_free(h->t);
}

#define QUERY 0x0100 /* RD */
#define RESP  0x8180 /* QR RD RA */

/* A message and the bytes it was built in. */
struct msg {
	uint8_t b[512];
	size_t n;
};

static struct msg query(uint16_t id, const char *name)
{
	struct msg m;

	m.n = dns_build(m.b, id, QUERY, name, 0);
	return m;
}

static struct msg response(uint16_t id, const char *name, int n_a)
{
	struct msg m;

	m.n = dns_build(m.b, id, RESP, name, n_a);
	return m;
}

/* client:cport -> 10.0.0.53:53 over UDP; a zero client address is a process's view of an
 * unconnected socket. */
static struct l7_tuple to_server(uint16_t cport, bool client_addr, uint16_t sport)
{
	struct l7_tuple t = {.family = AF_INET, .proto = IPPROTO_UDP};

	t.sport = cport;
	t.dport = sport;
	if (client_addr)
		memcpy(t.saddr, (const uint8_t[]){10, 0, 0, 1}, 4);
	memcpy(t.daddr, (const uint8_t[]){10, 0, 0, 53}, 4);
	return t;
}

static struct l7_tuple to_client(uint16_t cport, bool client_addr, uint16_t sport)
{
	struct l7_tuple f = to_server(cport, client_addr, sport), t;

	tuple_reverse(&f, &t);
	return t;
}

/* Who sees a message: the wire, or a process (its pid names it) through its syscalls. */
struct view {
	enum l7_source source;
	const struct ev_process *proc;
	bool client_addr; /* the view knows the client's address */
};

static const struct ev_process dig = {
        .pid = 100, .tid = 101, .name = "dig", .thread_name = "isc-net-0000"};
static const struct ev_process dig_wire = {.pid = 100, .tid = 100, .name = "dig"};
static const struct ev_process unbound = {
        .pid = 200, .tid = 200, .name = "unbound", .thread_name = "unbound"};

static const struct view wire = {L7_SOURCE_SOCKET, NULL, true};
static const struct view client = {L7_SOURCE_SYSCALL, &dig, false};
static const struct view server = {L7_SOURCE_SYSCALL, &unbound, true};

/* m sent by its sender (the client for a query, the server for a response) and seen by v over
 * [ts, ts_last]. A process view's process sent it when it is the sender's view. */
static void see_ports(struct h *h, const struct view *v, const struct msg *m, uint64_t ts,
                      uint64_t ts_last, uint16_t cport, uint16_t sport)
{
	bool is_query = !(m->b[2] & 0x80);
	struct dns_obs o = {
	        .p = m->b,
	        .cap = m->n,
	        .len = m->n,
	        .ts_first = ts,
	        .ts_last = ts_last,
	        .tuple = is_query ? to_server(cport, v->client_addr, sport)
	                          : to_client(cport, v->client_addr, sport),
	        .source = v->source,
	        .interface = v->source == L7_SOURCE_SOCKET ? "eth0" : NULL,
	        .process = v->proc,
	        .process_sent = v == &server ? !is_query : is_query,
	};
	uint8_t *g = guarded_copy(m->b, m->n);

	o.p = g;
	dns_table_message(h->t, &o);
	guarded_free(g, m->n);
}

static void see(struct h *h, const struct view *v, const struct msg *m, uint64_t ts)
{
	see_ports(h, v, m, ts, ts + 1 * US, CPORT, 53);
}

static bool is_client_to_server(const struct l7_tuple *t)
{
	return t->proto == IPPROTO_UDP && t->sport == CPORT && t->dport == 53 &&
	       t->daddr[0] == 10 && t->daddr[3] == 53;
}

/* Wire only: reported a hold after the response's last byte, oriented client -> server. */
static void test_pair(void)
{
	struct msg q = query(0x1234, "www.example.com"), r = response(0x1234, "www.example.com", 2);
	struct h h;

	h_init(&h, 64);
	see(&h, &wire, &q, T0);
	see(&h, &wire, &r, T0 + 20 * MS);
	dns_table_tick(h.t, T0 + 20 * MS + 1 * US + HOLD - 1);
	CHECK_EQ_U64(h.n, 0);
	dns_table_tick(h.t, T0 + 20 * MS + 1 * US + HOLD);
	CHECK_EQ_U64(h.n, 1);
	if (h.n == 1) {
		struct ev *e = &h.e[0];

		CHECK_STR(e->status, "ok");
		CHECK(e->has_query && e->has_resp);
		CHECK_EQ_U64(e->qid, 0x1234);
		CHECK_STR(e->qname, "www.example.com");
		CHECK_EQ_U64(e->n_answers, 2);
		CHECK_STR(e->answer0, "192.0.2.1");
		CHECK_EQ_U64(e->ts_start, T0);
		CHECK_EQ_U64(e->ts_end, T0 + 20 * MS + 1 * US);
		CHECK(is_client_to_server(&e->tuple));
		CHECK(e->tuple.saddr[0] == 10 && e->tuple.saddr[3] == 1);
		CHECK_EQ_U64(e->source, L7_SOURCE_SOCKET);
		CHECK(!e->truncated);
		CHECK(!e->has_proc);
		CHECK_STR(e->role, "");
		CHECK_EQ_U64(e->client_bytes, q.n);
		CHECK_EQ_U64(e->server_bytes, r.n);
	}
	CHECK_EQ_U64(stats(&h)->messages, 2);
	CHECK_EQ_U64(stats(&h)->queries, 1);
	CHECK_EQ_U64(stats(&h)->responses, 1);
	CHECK_EQ_U64(stats(&h)->transactions, 1);
	CHECK_EQ_U64(stats(&h)->copies, 0);
	dns_table_tick(h.t, T0 + 100 * SEC);
	CHECK_EQ_U64(h.n, 1);
	h_done(&h);
}

/* The transaction as the asking process, the wire and the answering process saw it, the copies
 * arriving in an order the ring buffers allow (responses before queries): one event, with the
 * asker, timed by the asker's view. */
static void test_three_views(void)
{
	struct msg q = query(0x0a0b, "example.org"), r = response(0x0a0b, "example.org", 1);
	uint64_t cq = T0, wq = T0 + 50 * US, sq = T0 + 100 * US;
	uint64_t sr = T0 + 3 * MS, wr = T0 + 3 * MS + 50 * US, cr = T0 + 3 * MS + 100 * US;
	uint64_t report_at = cr + 1 * US + HOLD; /* the hold starts at the first response seen */
	struct h h;

	h_init(&h, 64);
	see(&h, &client, &r, cr);
	see(&h, &wire, &r, wr);
	see(&h, &client, &q, cq);
	see(&h, &server, &q, sq);
	see(&h, &server, &r, sr);
	see(&h, &wire, &q, wq);
	dns_table_tick(h.t, report_at - 1);
	CHECK_EQ_U64(h.n, 0);
	dns_table_tick(h.t, report_at);
	CHECK_EQ_U64(h.n, 1);
	if (h.n == 1) {
		struct ev *e = &h.e[0];

		CHECK_STR(e->status, "ok");
		CHECK(e->has_proc);
		CHECK_EQ_U64(e->pid, 100);
		CHECK_STR(e->pname, "dig");
		CHECK_STR(e->role, "client");
		CHECK_EQ_U64(e->ts_start, cq);
		CHECK_EQ_U64(e->ts_end, cr + 1 * US);
		CHECK_EQ_U64(e->source, L7_SOURCE_SYSCALL);
		/* The client's own view had no local address: the others' whole tuple wins. */
		CHECK(is_client_to_server(&e->tuple));
		CHECK(e->tuple.saddr[0] == 10 && e->tuple.saddr[3] == 1);
	}
	CHECK_EQ_U64(stats(&h)->messages, 6);
	CHECK_EQ_U64(stats(&h)->queries, 1);
	CHECK_EQ_U64(stats(&h)->responses, 1);
	CHECK_EQ_U64(stats(&h)->copies, 4);
	CHECK_EQ_U64(stats(&h)->retransmits, 0);
	CHECK_EQ_U64(stats(&h)->active, 1);

	/* A copy after the report is counted, not reported again. */
	see(&h, &wire, &r, wr + 1 * MS);
	dns_table_tick(h.t, report_at + 10 * MS);
	CHECK_EQ_U64(h.n, 1);
	CHECK_EQ_U64(stats(&h)->late_copies, 1);
	CHECK_EQ_U64(stats(&h)->transactions, 1);

	/* Remembered for REMEMBER after the report, then forgotten. */
	dns_table_tick(h.t, report_at + REMEMBER - 1);
	CHECK_EQ_U64(stats(&h)->active, 1);
	dns_table_tick(h.t, report_at + REMEMBER);
	CHECK_EQ_U64(stats(&h)->active, 0);
	CHECK_EQ_U64(h.n, 1);
	h_done(&h);
}

/* The wire knows the sending process but not its thread; the process's own view names the
 * thread, and replaces the wire's whichever came first. */
static void test_process_upgrade(void)
{
	static const struct view wire_proc = {L7_SOURCE_SOCKET, &dig_wire, true};
	struct msg q = query(77, "example.com"), r = response(77, "example.com", 1);

	for (int order = 0; order < 2; order++) {
		struct h h;

		h_init(&h, 64);
		see(&h, order ? &client : &wire_proc, &q, T0);
		see(&h, order ? &wire_proc : &client, &q, T0 + 10 * US);
		see(&h, &wire, &r, T0 + 1 * MS);
		dns_table_flush(h.t);
		CHECK_EQ_U64(h.n, 1);
		if (h.n == 1) {
			CHECK_EQ_U64(h.e[0].pid, 100);
			CHECK_STR(h.e[0].role, "client");
			CHECK(h.e[0].has_thread);
			CHECK_STR(h.e[0].thread, "isc-net-0000");
		}
		h_done(&h);
	}

	/* The wire's process alone is reported, without a thread. */
	struct h h;

	h_init(&h, 64);
	see(&h, &wire_proc, &q, T0);
	see(&h, &wire, &r, T0 + 1 * MS);
	dns_table_flush(h.t);
	CHECK_EQ_U64(h.n, 1);
	if (h.n == 1) {
		CHECK_EQ_U64(h.e[0].pid, 100);
		CHECK_STR(h.e[0].role, "client");
		CHECK(!h.e[0].has_thread);
	}
	h_done(&h);
}

/* Only the server's view: the asker is remote, the process is the server's. */
static void test_server_only(void)
{
	struct msg q = query(5, "example.net"), r = response(5, "example.net", 1);
	struct h h;

	h_init(&h, 64);
	see(&h, &server, &q, T0);
	see(&h, &server, &r, T0 + 200 * US);
	dns_table_flush(h.t);
	CHECK_EQ_U64(h.n, 1);
	if (h.n == 1) {
		CHECK_STR(h.e[0].status, "ok");
		CHECK_EQ_U64(h.e[0].pid, 200);
		CHECK_STR(h.e[0].pname, "unbound");
		CHECK_STR(h.e[0].role, "server");
		CHECK_EQ_U64(h.e[0].source, L7_SOURCE_SYSCALL);
		CHECK_EQ_U64(h.e[0].ts_start, T0);
		CHECK_EQ_U64(h.e[0].ts_end, T0 + 201 * US);
		CHECK(is_client_to_server(&h.e[0].tuple));
	}
	h_done(&h);
}

static void test_no_response(void)
{
	struct msg q = query(9, "slow.example");
	struct h h;

	h_init(&h, 64);
	see(&h, &client, &q, T0);
	dns_table_tick(h.t, T0 + TIMEOUT - 1);
	CHECK_EQ_U64(h.n, 0);
	dns_table_tick(h.t, T0 + TIMEOUT);
	CHECK_EQ_U64(h.n, 1);
	if (h.n == 1) {
		CHECK_STR(h.e[0].status, "no_response");
		CHECK(h.e[0].has_query && !h.e[0].has_resp);
		CHECK_STR(h.e[0].qname, "slow.example");
		CHECK_STR(h.e[0].role, "client");
		CHECK_EQ_U64(h.e[0].ts_start, T0);
		CHECK_EQ_U64(h.e[0].server_bytes, 0);
	}
	CHECK_EQ_U64(stats(&h)->no_response, 1);
	CHECK_EQ_U64(stats(&h)->transactions, 1);
	h_done(&h);
}

static void test_no_query(void)
{
	struct msg r = response(11, "orphan.example", 1);
	struct h h;

	h_init(&h, 64);
	see(&h, &wire, &r, T0);
	dns_table_tick(h.t, T0 + 1 * US + HOLD - 1);
	CHECK_EQ_U64(h.n, 0);
	dns_table_tick(h.t, T0 + 1 * US + HOLD);
	CHECK_EQ_U64(h.n, 1);
	if (h.n == 1) {
		CHECK_STR(h.e[0].status, "no_query");
		CHECK(!h.e[0].has_query && h.e[0].has_resp);
		CHECK_STR(h.e[0].rname, "orphan.example");
		CHECK_EQ_U64(h.e[0].ts_start, T0);
		CHECK_EQ_U64(h.e[0].ts_end, T0 + 1 * US);
		/* Oriented client -> server although only the server -> client message was seen. */
		CHECK(is_client_to_server(&h.e[0].tuple));
	}
	CHECK_EQ_U64(stats(&h)->no_query, 1);
	CHECK_EQ_U64(stats(&h)->transactions, 1);
	h_done(&h);
}

/* The client sends the query again a second later: one transaction, timed from the first. */
static void test_retransmit(void)
{
	struct msg q = query(21, "example.com"), r = response(21, "example.com", 1);
	struct h h;

	h_init(&h, 64);
	see(&h, &client, &q, T0);
	see(&h, &client, &q, T0 + 1 * SEC);
	see(&h, &client, &r, T0 + 1 * SEC + 5 * MS);
	dns_table_flush(h.t);
	CHECK_EQ_U64(h.n, 1);
	if (h.n == 1) {
		CHECK_STR(h.e[0].status, "ok");
		CHECK_EQ_U64(h.e[0].ts_start, T0);
	}
	CHECK_EQ_U64(stats(&h)->retransmits, 1);
	CHECK_EQ_U64(stats(&h)->copies, 0);
	CHECK_EQ_U64(stats(&h)->queries, 1);
	h_done(&h);
}

/* A 0x20-randomising resolver's query and a response that does not echo its case. */
static void test_case_folding(void)
{
	struct msg q = query(31, "wWw.ExAmple.COM"), r = response(31, "WWW.example.com", 1);
	struct h h;

	h_init(&h, 64);
	see(&h, &wire, &q, T0);
	see(&h, &wire, &r, T0 + 1 * MS);
	dns_table_flush(h.t);
	CHECK_EQ_U64(h.n, 1);
	if (h.n == 1) {
		CHECK_STR(h.e[0].status, "ok");
		CHECK_STR(h.e[0].qname, "wWw.ExAmple.COM");
		CHECK_STR(h.e[0].rname, "WWW.example.com");
	}
	h_done(&h);
}

/* A response that differs from the query in its name, its id or its client port is another
 * transaction's. */
static void test_separate(void)
{
	struct msg q = query(41, "a.example");
	struct msg other[3] = {response(41, "b.example", 1), response(42, "a.example", 1),
	                       response(41, "a.example", 1)};

	for (int i = 0; i < 3; i++) {
		struct h h;

		h_init(&h, 64);
		see(&h, &wire, &q, T0);
		see_ports(&h, &wire, &other[i], T0 + 1 * MS, T0 + 1 * MS,
		          i == 2 ? CPORT + 1 : CPORT, 53);
		dns_table_flush(h.t);
		CHECK_EQ_U64(h.n, 2);
		CHECK_EQ_U64(stats(&h)->transactions, 2);
		CHECK_EQ_U64(stats(&h)->no_response, 1);
		CHECK_EQ_U64(stats(&h)->no_query, 1);
		CHECK_EQ_U64(stats(&h)->copies, 0);
		h_done(&h);
	}
}

static void test_not_dns(void)
{
	static const struct msg junk = {.b = "\x12\x34\x01", .n = 3};
	static const struct msg text = {.b = "hello, this is not dns at all", .n = 29};
	struct msg q = query(51, "example.com");
	struct h h;

	/* On port 53: DNS gone wrong. */
	h_init(&h, 64);
	see(&h, &wire, &junk, T0);
	dns_table_flush(h.t);
	CHECK_EQ_U64(h.n, 0);
	CHECK_EQ_U64(stats(&h)->parse_errors, 1);
	CHECK_EQ_U64(stats(&h)->not_dns, 0);
	CHECK_EQ_U64(stats(&h)->messages, 0);
	h_done(&h);

	/* Off port 53, a datagram that is not one whole valid message is not DNS at all; a valid
	 * one is. */
	h_init(&h, 64);
	see_ports(&h, &wire, &junk, T0, T0, CPORT, 5353);
	see_ports(&h, &wire, &text, T0, T0, CPORT, 5353);
	CHECK_EQ_U64(stats(&h)->not_dns, 2);
	CHECK_EQ_U64(stats(&h)->parse_errors, 0);
	see_ports(&h, &wire, &q, T0, T0, CPORT, 5353);
	CHECK_EQ_U64(stats(&h)->messages, 1);
	CHECK_EQ_U64(stats(&h)->not_dns, 2);
	dns_table_flush(h.t);
	CHECK_EQ_U64(h.n, 1);
	h_done(&h);
}

/* A full table reports its least recently used transaction early. */
static void test_evict(void)
{
	struct msg q[3] = {query(61, "one.example"), query(62, "two.example"),
	                   query(63, "three.example")};
	struct h h;

	h_init(&h, 2);
	for (int i = 0; i < 3; i++)
		see(&h, &wire, &q[i], T0 + (uint64_t)i * MS);
	CHECK_EQ_U64(h.n, 1);
	if (h.n == 1) {
		CHECK_STR(h.e[0].status, "no_response");
		CHECK_EQ_U64(h.e[0].qid, 61);
	}
	CHECK_EQ_U64(stats(&h)->evicted, 1);
	CHECK_EQ_U64(stats(&h)->active, 2);
	dns_table_flush(h.t);
	CHECK_EQ_U64(h.n, 3);
	CHECK_EQ_U64(stats(&h)->no_response, 3);
	h_done(&h);

	/* Forgetting a transaction already reported reports nothing early. */
	struct msg r0 = response(61, "one.example", 1);

	h_init(&h, 2);
	see(&h, &wire, &q[0], T0);
	see(&h, &wire, &r0, T0 + 1 * MS);
	dns_table_tick(h.t, T0 + 1 * SEC);
	CHECK_EQ_U64(h.n, 1);
	see(&h, &wire, &q[1], T0 + 1 * SEC);
	see(&h, &wire, &q[2], T0 + 1 * SEC);
	CHECK_EQ_U64(h.n, 1);
	CHECK_EQ_U64(stats(&h)->evicted, 0);
	CHECK_EQ_U64(stats(&h)->active, 2);
	dns_table_flush(h.t);
	h_done(&h);
}

static void test_flush(void)
{
	struct msg q1 = query(71, "waiting.example"), q2 = query(72, "ready.example");
	struct msg r2 = response(72, "ready.example", 1);
	struct h h;

	h_init(&h, 64);
	see(&h, &wire, &q1, T0);
	see(&h, &wire, &q2, T0);
	see(&h, &wire, &r2, T0 + 1 * MS);
	dns_table_tick(h.t, T0 + 1 * MS);
	CHECK_EQ_U64(h.n, 0);
	dns_table_flush(h.t);
	CHECK_EQ_U64(h.n, 2);
	if (h.n == 2) {
		CHECK_STR(h.e[0].status, "no_response");
		CHECK_EQ_U64(h.e[0].qid, 71);
		CHECK_STR(h.e[1].status, "ok");
		CHECK_EQ_U64(h.e[1].qid, 72);
	}
	CHECK_EQ_U64(stats(&h)->active, 0);
	dns_table_tick(h.t, T0 + 100 * SEC);
	CHECK_EQ_U64(h.n, 2);
	h_done(&h);
}

/* A response cut by a capture limit (cap < len) still pairs, and the event says truncated. */
static void test_truncated(void)
{
	struct msg q = query(81, "big.example"), r = response(81, "big.example", 3);
	struct dns_obs o = {
	        .p = r.b,
	        .cap = r.n - 6,
	        .len = r.n,
	        .ts_first = T0 + 1 * MS,
	        .ts_last = T0 + 1 * MS,
	        .tuple = to_client(CPORT, true, 53),
	        .source = L7_SOURCE_SOCKET,
	};
	struct h h;

	h_init(&h, 64);
	see(&h, &wire, &q, T0);
	dns_table_message(h.t, &o);
	dns_table_flush(h.t);
	CHECK_EQ_U64(h.n, 1);
	if (h.n == 1) {
		CHECK_STR(h.e[0].status, "ok");
		CHECK(h.e[0].truncated);
		CHECK_EQ_U64(h.e[0].n_answers, 2); /* the third ran past the bytes kept */
		CHECK_EQ_U64(h.e[0].server_bytes, r.n);
	}
	h_done(&h);
}

int main(void)
{
	test_pair();
	test_three_views();
	test_process_upgrade();
	test_server_only();
	test_no_response();
	test_no_query();
	test_retransmit();
	test_case_folding();
	test_separate();
	test_not_dns();
	test_evict();
	test_flush();
	test_truncated();
	return check_report("test_dns_table");
}
