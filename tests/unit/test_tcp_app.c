/* TCP connections classified by their first bytes (tcp_app.h): HTTP goes to the HTTP session,
 * DNS to the framer and then the dns callback, anything else nowhere. The cases are the ways
 * real clients start: a request in one write, a response first, a DNS message with its prefix,
 * the prefix written alone (glibc, dnsmasq), the other side speaking while bytes are held, a
 * connection joined midstream (and given up when no HTTP starts in it), a declared port, and a
 * close before anything was decided. Every report and frame is copied out of its callback; every
 * piece fed is a guarded copy. */
#include "tcp_app.h"

#include <stdbool.h>

#include "check.h"
#include "dns_build.h"
#include "dns_parse.h"

#define L(lit)      (sizeof(lit) - 1)
#define MAX_REPORTS 8
#define MAX_FRAMES  8
#define FRAME_BYTES 512

struct hrec {
	int client_dir;
	char method[16], target[64];
	unsigned status; /* 0: no response */
	uint64_t ts_start, ts_end;
};

struct frec {
	int dir;
	uint8_t bytes[FRAME_BYTES];
	size_t cap, len;
	uint64_t ts_first, ts_last;
};

struct t {
	struct tcp_app_stats st;
	struct http_stats hst;
	struct http_cfg cfg;
	struct tcp_app_env env;
	struct tcp_app a;
	struct hrec http[MAX_REPORTS];
	size_t n_http;
	struct frec dns[MAX_FRAMES];
	size_t n_dns;
};

static void copy_slice(char *dst, size_t size, struct http_slice s)
{
	size_t n = s.n < size - 1 ? s.n : size - 1;

	memcpy(dst, s.p, n);
	dst[n] = '\0';
}

static void on_http(void *ctx, const struct http_report *r)
{
	struct t *t = ctx;
	struct hrec *e;

	if (t->n_http == MAX_REPORTS) {
		check_failures++;
		return;
	}
	e = &t->http[t->n_http++];
	*e = (struct hrec){r->client_dir, "",       "", r->resp ? r->resp->status : 0,
	                   r->ts_start,   r->ts_end};
	copy_slice(e->method, sizeof(e->method), r->req->method);
	copy_slice(e->target, sizeof(e->target), r->req->target);
}

static void on_dns(void *ctx, const struct dns_frame *f)
{
	struct t *t = ctx;
	struct frec *e;

	/* Frames come only from a connection decided as DNS. */
	CHECK_EQ_U64(t->a.kind, TCP_APP_DNS);
	CHECK(f->cap <= f->len && f->cap <= FRAME_BYTES);
	if (t->n_dns == MAX_FRAMES || f->cap > FRAME_BYTES) {
		check_failures++;
		return;
	}
	e = &t->dns[t->n_dns++];
	e->dir = f->dir;
	e->cap = f->cap;
	e->len = f->len;
	e->ts_first = f->ts_first;
	e->ts_last = f->ts_last;
	if (f->cap)
		memcpy(e->bytes, f->p, f->cap);
}

static struct t *t_new(bool midstream, bool forced, uint16_t port_a, uint16_t port_b)
{
	struct t *t = calloc(1, sizeof(*t));

	if (!t)
		exit(2);
	t->cfg = (struct http_cfg){
	        .max_header_bytes = 4096,
	        .max_pending = 8,
	        .response_timeout_ns = UINT64_C(30000000000),
	        .stats = &t->hst,
	};
	t->env = (struct tcp_app_env){{&t->cfg, on_http, t}, on_dns, &t->st};
	tcp_app_init(&t->a, midstream, forced, port_a, port_b);
	return t;
}

static void t_free(struct t *t)
{
	tcp_app_close(&t->a, &t->env, true, 1000);
	free(t);
}

static void data(struct t *t, int dir, const void *p, size_t n, uint64_t ts)
{
	uint8_t *g = guarded_copy(p, n);

	tcp_app_data(&t->a, &t->env, dir, g, n, ts);
	guarded_free(g, n);
}

static void data_str(struct t *t, int dir, const char *s, uint64_t ts)
{
	data(t, dir, s, strlen(s), ts);
}

static void check_kinds(const struct t *t, uint64_t http, uint64_t dns, uint64_t other)
{
	CHECK_EQ_U64(t->st.http, http);
	CHECK_EQ_U64(t->st.dns, dns);
	CHECK_EQ_U64(t->st.other, other);
}

/* A DNS message over TCP, its 2-byte length prefix first: a query for name (A, IN) with flags,
 * and n_a A records (192.0.2.1...) answering it. Returns the length with the prefix. */
static size_t dns_tcp(uint8_t *out, uint16_t id, uint16_t flags, const char *name, int n_a)
{
	size_t n = dns_build(out + 2, id, flags, name, n_a);

	out[0] = (uint8_t)(n >> 8);
	out[1] = (uint8_t)n;
	return n + 2;
}

static bool frame_is(const struct frec *f, int dir, const uint8_t *msg, size_t n)
{
	return f->dir == dir && f->cap == n && f->len == n && memcmp(f->bytes, msg, n) == 0;
}

static const char req[] = "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n";
static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

static void test_can_start(void)
{
	uint8_t q[128];
	size_t n = dns_tcp(q, 1, 0x0100, "example.com", 0);

	CHECK(tcp_app_can_start((const uint8_t *)req, L(req), 8080, 40000));
	CHECK(tcp_app_can_start((const uint8_t *)resp, L(resp), 40000, 8080));
	CHECK(tcp_app_can_start(q, n, 40000, 8053));
	CHECK(tcp_app_can_start((const uint8_t *)"SSH-2.0-x\r\n", 11, 40000, 53));
	CHECK(!tcp_app_can_start((const uint8_t *)"SSH-2.0-x\r\n", 11, 40000, 22));
}

static void test_http(void)
{
	struct t *t = t_new(false, false, 40000, 8080);

	data_str(t, 0, req, 10);
	CHECK_EQ_U64(t->a.kind, TCP_APP_HTTP);
	data_str(t, 1, resp, 20);
	CHECK_EQ_U64(t->n_http, 1);
	if (t->n_http == 1) {
		CHECK_STR(t->http[0].method, "GET");
		CHECK_STR(t->http[0].target, "/index.html");
		CHECK_EQ_U64(t->http[0].status, 200);
		CHECK_EQ_U64(t->http[0].client_dir, 0);
		CHECK_EQ_U64(t->http[0].ts_start, 10);
		CHECK_EQ_U64(t->http[0].ts_end, 20);
	}
	check_kinds(t, 1, 0, 0);
	CHECK_EQ_U64(t->n_dns, 0);
	t_free(t);

	/* The request in 3-byte pieces: held until TCP_APP_FIRST bytes, then handed over with
	 * the time of its first byte. */
	t = t_new(false, false, 40000, 8080);
	for (size_t off = 0; off < L(req); off += 3) {
		data(t, 0, req + off, L(req) - off < 3 ? L(req) - off : 3, 100 + off);
		CHECK_EQ_U64(t->a.kind, off + 3 < TCP_APP_FIRST ? TCP_APP_UNDECIDED : TCP_APP_HTTP);
	}
	data_str(t, 1, resp, 500);
	CHECK_EQ_U64(t->n_http, 1);
	if (t->n_http == 1) {
		CHECK_STR(t->http[0].target, "/index.html");
		CHECK_EQ_U64(t->http[0].ts_start, 100);
		CHECK_EQ_U64(t->http[0].status, 200);
	}
	check_kinds(t, 1, 0, 0);
	t_free(t);

	/* A response first ("HTTP/1.1 200") is HTTP too: the session frames it. */
	t = t_new(false, false, 8080, 40000);
	data_str(t, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 1);
	CHECK_EQ_U64(t->a.kind, TCP_APP_HTTP);
	CHECK_EQ_U64(t->hst.responses, 1);
	check_kinds(t, 1, 0, 0);
	t_free(t);
}

static void test_dns(void)
{
	uint8_t q[128], r[128];
	size_t nq = dns_tcp(q, 0x4242, 0x0100, "www.example.com", 0);
	size_t nr = dns_tcp(r, 0x4242, 0x8180, "www.example.com", 2);
	struct t *t = t_new(false, false, 40000, 8053); /* not port 53: the bytes decide */

	data(t, 0, q, nq, 5);
	CHECK_EQ_U64(t->a.kind, TCP_APP_DNS);
	data(t, 1, r, nr, 9);
	CHECK_EQ_U64(t->n_dns, 2);
	if (t->n_dns == 2) {
		CHECK(frame_is(&t->dns[0], 0, q + 2, nq - 2));
		CHECK_EQ_U64(t->dns[0].ts_first, 5);
		CHECK(frame_is(&t->dns[1], 1, r + 2, nr - 2));
		CHECK_EQ_U64(t->dns[1].ts_last, 9);
	}
	check_kinds(t, 0, 1, 0);
	CHECK_EQ_U64(t->st.dns_stream.messages, 2);
	CHECK_EQ_U64(t->hst.requests + t->hst.responses + t->hst.parse_errors, 0);
	t_free(t);
}

/* glibc and dnsmasq write the length prefix alone, then the message: two bytes decide nothing,
 * so they are held until there are TCP_APP_FIRST, and the frame still starts at the prefix. */
static void test_dns_prefix_alone(void)
{
	uint8_t q[128], q2[128];
	size_t nq = dns_tcp(q, 0x0102, 0x0100, "example.org", 0);
	size_t nq2 = dns_tcp(q2, 0x0103, 0x0100, "example.net", 0);
	struct t *t = t_new(false, false, 40000, 8053);

	data(t, 0, q, 2, 1);
	CHECK_EQ_U64(t->a.kind, TCP_APP_UNDECIDED);
	CHECK_EQ_U64(t->a.first_len, 2);
	data(t, 0, q + 2, 10, 2);
	CHECK_EQ_U64(t->a.kind, TCP_APP_UNDECIDED); /* 12 bytes: not a header yet */
	CHECK_EQ_U64(t->n_dns, 0);
	data(t, 0, q + 12, nq - 12, 3);
	CHECK_EQ_U64(t->a.kind, TCP_APP_DNS);
	CHECK_EQ_U64(t->n_dns, 1);
	if (t->n_dns == 1) {
		CHECK(frame_is(&t->dns[0], 0, q + 2, nq - 2));
		CHECK_EQ_U64(t->dns[0].ts_first, 1);
		CHECK_EQ_U64(t->dns[0].ts_last, 3);
	}
	/* The next query on the same connection, written the same way. */
	data(t, 0, q2, 2, 4);
	data(t, 0, q2 + 2, nq2 - 2, 5);
	CHECK_EQ_U64(t->n_dns, 2);
	if (t->n_dns == 2) {
		CHECK(frame_is(&t->dns[1], 0, q2 + 2, nq2 - 2));
		CHECK_EQ_U64(t->dns[1].ts_first, 4);
	}
	check_kinds(t, 0, 1, 0);
	t_free(t);

	/* Prefix, then the whole message in one write. */
	t = t_new(false, false, 40000, 8053);
	data(t, 0, q, 2, 1);
	data(t, 0, q + 2, nq - 2, 2);
	CHECK_EQ_U64(t->n_dns, 1);
	if (t->n_dns == 1)
		CHECK(frame_is(&t->dns[0], 0, q + 2, nq - 2));
	check_kinds(t, 0, 1, 0);
	t_free(t);
}

/* Port 53 is DNS whatever the bytes: frames are delivered, parsing them is not tcp_app's
 * business. The same bytes elsewhere are nothing this follows. */
static void test_port53_garbage(void)
{
	static struct dns_msg m;
	uint8_t g[18];
	struct t *t = t_new(false, false, 53, 40000);

	g[0] = 0;
	g[1] = 16;
	memset(g + 2, 0xff, 16);
	data(t, 0, g, sizeof(g), 1);
	CHECK_EQ_U64(t->a.kind, TCP_APP_DNS);
	CHECK_EQ_U64(t->n_dns, 1);
	if (t->n_dns == 1) {
		CHECK(t->dns[0].cap == 16 && t->dns[0].len == 16);
		CHECK(dns_parse(t->dns[0].bytes, t->dns[0].cap, false, &m) == DNS_PARSE_ERROR);
	}
	check_kinds(t, 0, 1, 0);
	t_free(t);

	t = t_new(false, false, 8053, 40000);
	data(t, 0, g, sizeof(g), 1);
	CHECK_EQ_U64(t->a.kind, TCP_APP_OTHER);
	CHECK_EQ_U64(t->n_dns, 0);
	check_kinds(t, 0, 0, 1);
	t_free(t);
}

static void test_other(void)
{
	static const char banner[] = "SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n";
	uint8_t q[128];
	size_t nq = dns_tcp(q, 7, 0x0100, "example.com", 0);
	struct t *t = t_new(false, false, 22, 40000);

	data_str(t, 1, banner, 1);
	CHECK_EQ_U64(t->a.kind, TCP_APP_OTHER);
	/* Nothing later is parsed, not even what would start HTTP or DNS. */
	data_str(t, 0, banner, 2);
	data_str(t, 0, req, 3);
	data(t, 1, q, nq, 4);
	tcp_app_gap(&t->a, &t->env, 0, 100, 5);
	tcp_app_fin(&t->a, &t->env, 0, 6);
	tcp_app_close(&t->a, &t->env, true, 7);
	CHECK_EQ_U64(t->n_http, 0);
	CHECK_EQ_U64(t->n_dns, 0);
	CHECK_EQ_U64(t->hst.requests + t->hst.responses + t->hst.parse_errors, 0);
	CHECK_EQ_U64(t->st.dns_stream.messages, 0);
	check_kinds(t, 0, 0, 1);
	free(t);
}

/* Joined after its start: the first bytes are the middle of a message. HTTP skips to the next
 * message start; without midstream the same bytes are nothing. */
static void test_midstream(void)
{
	static const char tail[] = "ition: inline\r\n\r\nsome body bytes\r\n";
	uint8_t q[128];
	size_t nq = dns_tcp(q, 9, 0x0100, "example.com", 0);
	struct t *t = t_new(true, false, 40000, 8080);

	data_str(t, 0, tail, 1);
	CHECK_EQ_U64(t->a.kind, TCP_APP_HTTP);
	data_str(t, 0, "GET /next HTTP/1.1\r\nHost: a\r\n\r\n", 2);
	data_str(t, 1, "HTTP/1.1 204 No Content\r\n\r\n", 3);
	CHECK_EQ_U64(t->n_http, 1);
	if (t->n_http == 1) {
		CHECK_STR(t->http[0].target, "/next");
		CHECK_EQ_U64(t->http[0].status, 204);
	}
	CHECK_EQ_U64(t->hst.parse_errors, 0);
	check_kinds(t, 1, 0, 0);
	t_free(t);

	t = t_new(false, false, 40000, 8080);
	data_str(t, 0, tail, 1);
	CHECK_EQ_U64(t->a.kind, TCP_APP_OTHER);
	check_kinds(t, 0, 0, 1);
	t_free(t);

	/* A DNS start is DNS even midstream: a message boundary is where syscalls see it. */
	t = t_new(true, false, 53, 40000);
	data(t, 0, q, nq, 1);
	CHECK_EQ_U64(t->a.kind, TCP_APP_DNS);
	CHECK_EQ_U64(t->n_dns, 1);
	check_kinds(t, 0, 1, 0);
	t_free(t);
}

/* Joined midstream, with no HTTP message start in TCP_APP_HUNT_MAX bytes (a TLS session open
 * before the collector): given up as neither, so its bytes stop being copied; counted. One that
 * found a start keeps its HTTP however long its bodies later run, and so does one on a declared
 * port. */
static void test_unframed(void)
{
	static uint8_t noise[4096];
	struct t *t = t_new(true, false, 40000, 443);
	size_t fed = 0;

	for (size_t i = 0; i < sizeof(noise); i++)
		noise[i] = (uint8_t)(i % 7 ? 0x17 : '\n'); /* short lines: no message start */
	while (fed + sizeof(noise) <= TCP_APP_HUNT_MAX) {
		data(t, (int)(fed / sizeof(noise)) % 2, noise, sizeof(noise), 1);
		fed += sizeof(noise);
	}
	CHECK_EQ_U64(t->a.kind, TCP_APP_HTTP); /* exactly TCP_APP_HUNT_MAX searched */
	data(t, 0, noise, 1, 1);
	CHECK_EQ_U64(t->a.kind, TCP_APP_OTHER);
	CHECK_EQ_U64(t->st.unframed, 1);
	data_str(t, 0, req, 2); /* nothing later is parsed */
	CHECK_EQ_U64(t->hst.requests, 0);
	t_free(t);

	t = t_new(true, false, 40000, 8080);
	data_str(t, 0, req, 1);
	data_str(t, 1, "HTTP/1.1 200 OK\r\nContent-Length: 4194304\r\n\r\n", 2);
	for (fed = 0; fed <= 2 * TCP_APP_HUNT_MAX; fed += sizeof(noise))
		data(t, 1, noise, sizeof(noise), 3);
	CHECK_EQ_U64(t->a.kind, TCP_APP_HTTP);
	CHECK_EQ_U64(t->st.unframed, 0);
	t_free(t);

	/* On a declared port, HTTP by the user's word: its garbage is counted, never given up. */
	t = t_new(true, true, 40000, 80);
	for (fed = 0; fed <= 2 * TCP_APP_HUNT_MAX; fed += sizeof(noise))
		data(t, 0, noise, sizeof(noise), 1);
	CHECK_EQ_U64(t->a.kind, TCP_APP_HTTP);
	CHECK_EQ_U64(t->st.unframed, 0);
	CHECK(t->hst.discarded_bytes > 2 * TCP_APP_HUNT_MAX);
	t_free(t);
}

/* A declared port is HTTP by the user's word, unless it plainly starts as DNS. */
static void test_http_forced(void)
{
	static const uint8_t tls[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03,
	                              0x03, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62};
	uint8_t q[128];
	size_t nq = dns_tcp(q, 9, 0x0100, "example.com", 0);
	struct t *t = t_new(false, true, 40000, 8443);

	data(t, 0, tls, sizeof(tls), 1);
	CHECK_EQ_U64(t->a.kind, TCP_APP_HTTP);
	/* The session got the bytes: it skips them to the next message start. */
	data_str(t, 0, "\r\nGET /after HTTP/1.1\r\n\r\n", 2);
	data_str(t, 1, "HTTP/1.1 204 No Content\r\n\r\n", 3);
	CHECK(t->hst.parse_errors + t->hst.discarded_bytes > 0);
	check_kinds(t, 1, 0, 0);
	t_free(t);

	t = t_new(false, true, 40000, 8443);
	data(t, 0, q, nq, 1);
	CHECK_EQ_U64(t->a.kind, TCP_APP_DNS);
	CHECK_EQ_U64(t->n_dns, 1);
	check_kinds(t, 0, 1, 0);
	t_free(t);
}

/* The other side speaks while bytes are held: the held bytes decide alone, and both directions'
 * bytes reach the parser in the order they came, each with its own time. */
static void test_other_side_first(void)
{
	uint8_t q[128], r[128];
	size_t nq = dns_tcp(q, 0x5151, 0x0100, "example.com", 0);
	size_t nr = dns_tcp(r, 0x6161, 0x8180, "example.net", 1);
	struct t *t = t_new(false, false, 40000, 8080);

	data_str(t, 0, "GET / HT", 1);
	CHECK_EQ_U64(t->a.kind, TCP_APP_UNDECIDED);
	data_str(t, 1, resp, 2);
	CHECK_EQ_U64(t->a.kind, TCP_APP_HTTP);
	/* A response before any request head: framed, and unpaired. */
	CHECK_EQ_U64(t->hst.responses, 1);
	CHECK_EQ_U64(t->hst.unpaired_responses, 1);
	/* The held bytes reached the session: the rest of them completes a request. */
	data_str(t, 0, "TP/1.1\r\nHost: a\r\n\r\n", 3);
	CHECK_EQ_U64(t->hst.requests, 1);
	CHECK_EQ_U64(t->hst.parse_errors, 0);
	tcp_app_close(&t->a, &t->env, true, 4);
	CHECK_EQ_U64(t->n_http, 1);
	if (t->n_http == 1) {
		CHECK_STR(t->http[0].method, "GET");
		CHECK_STR(t->http[0].target, "/");
		CHECK_EQ_U64(t->http[0].status, 0);
		CHECK_EQ_U64(t->http[0].client_dir, 0);
		CHECK_EQ_U64(t->http[0].ts_start, 1); /* the held bytes' own time */
	}
	check_kinds(t, 1, 0, 0);
	free(t);

	/* The held bytes decide alone, never joined to the other direction's: "GE" and "T / ..."
	 * would read as a request. */
	t = t_new(false, false, 40000, 8080);
	data_str(t, 0, "GE", 1);
	data_str(t, 1, "T / HTTP/1.1\r\n\r\n", 2);
	CHECK_EQ_U64(t->a.kind, TCP_APP_OTHER);
	check_kinds(t, 0, 0, 1);
	t_free(t);

	/* On port 53 a held prefix is DNS; the other direction's message is framed at once, the
	 * held one when the rest of it comes. */
	t = t_new(false, false, 40000, 53);
	data(t, 0, q, 2, 1);
	data(t, 1, r, nr, 2);
	CHECK_EQ_U64(t->a.kind, TCP_APP_DNS);
	CHECK_EQ_U64(t->n_dns, 1);
	data(t, 0, q + 2, nq - 2, 3);
	CHECK_EQ_U64(t->n_dns, 2);
	if (t->n_dns == 2) {
		CHECK(frame_is(&t->dns[0], 1, r + 2, nr - 2));
		CHECK_EQ_U64(t->dns[0].ts_first, 2);
		CHECK(frame_is(&t->dns[1], 0, q + 2, nq - 2));
		CHECK_EQ_U64(t->dns[1].ts_first, 1);
		CHECK_EQ_U64(t->dns[1].ts_last, 3);
	}
	check_kinds(t, 0, 1, 0);
	t_free(t);
}

/* The connection ends (or a gap comes) with bytes still held: they decide and are delivered. */
static void test_held_at_end(void)
{
	static const uint8_t empty[2] = {0, 0};
	uint8_t q[128];
	size_t nq = dns_tcp(q, 3, 0x0100, "example.com", 0);
	struct t *t = t_new(false, false, 40000, 53);

	data(t, 0, empty, 2, 7);
	CHECK_EQ_U64(t->a.kind, TCP_APP_UNDECIDED);
	tcp_app_close(&t->a, &t->env, true, 8);
	CHECK_EQ_U64(t->a.kind, TCP_APP_DNS);
	CHECK_EQ_U64(t->n_dns, 1);
	if (t->n_dns == 1) {
		CHECK(t->dns[0].cap == 0 && t->dns[0].len == 0);
		CHECK_EQ_U64(t->dns[0].ts_first, 7);
	}
	check_kinds(t, 0, 1, 0);
	free(t);

	/* Half a message held: the stream gets it and counts it unfinished. */
	t = t_new(false, false, 40000, 53);
	data(t, 0, q, 7, 1);
	tcp_app_close(&t->a, &t->env, true, 2);
	CHECK_EQ_U64(t->st.dns_stream.unfinished, 1);
	check_kinds(t, 0, 1, 0);
	free(t);

	t = t_new(false, false, 40000, 8080);
	data_str(t, 0, "GET / HT", 1);
	tcp_app_close(&t->a, &t->env, true, 2);
	CHECK_EQ_U64(t->a.kind, TCP_APP_HTTP);
	CHECK_EQ_U64(t->hst.incomplete, 1); /* the session saw a header block begin */
	check_kinds(t, 1, 0, 0);
	free(t);

	t = t_new(false, false, 40000, 8053);
	data_str(t, 0, "hello", 1);
	tcp_app_close(&t->a, &t->env, true, 2);
	CHECK_EQ_U64(t->a.kind, TCP_APP_OTHER);
	check_kinds(t, 0, 0, 1);
	free(t);

	/* A gap after a held prefix: decided, and the message is delivered partial. */
	t = t_new(false, false, 40000, 53);
	data(t, 0, q, 2, 1);
	tcp_app_gap(&t->a, &t->env, 0, nq - 2, 2);
	CHECK_EQ_U64(t->a.kind, TCP_APP_DNS);
	CHECK_EQ_U64(t->n_dns, 1);
	if (t->n_dns == 1)
		CHECK(t->dns[0].cap == 0 && t->dns[0].len == nq - 2);
	CHECK_EQ_U64(t->st.dns_stream.partial, 1);
	t_free(t);
}

int main(void)
{
	test_can_start();
	test_http();
	test_dns();
	test_dns_prefix_alone();
	test_port53_garbage();
	test_other();
	test_midstream();
	test_unframed();
	test_http_forced();
	test_other_side_first();
	test_held_at_end();
	return check_report("test_tcp_app");
}
