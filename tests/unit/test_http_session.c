/* HTTP/1.x sessions through their public API: each case is a script of steps (data on a
 * direction, gaps, FINs, expiry, close), run once with every data step in one piece and checked
 * report by report and counter by counter, then run again with data steps cut at every byte
 * boundary and in small pieces, which must change nothing: not a report, not a counter. Every
 * piece is a guarded copy ending at an unreadable page. */
#include "http_session.h"

#include <stdbool.h>

#include "check.h"

#define L(lit)     (sizeof(lit) - 1)
#define MAX_REPS   32
#define LOG_SIZE   8192
#define SEC        UINT64_C(1000000000)
#define TIMEOUT_NS (30 * SEC)

/* What a report said, copied out of the callback. */
struct rec {
	int client_dir;
	char method[40], target[160];
	bool cut;        /* the request's start line was cut (a gap or the header limit) */
	unsigned status; /* 0: no response */
	uint64_t ts_start, ts_end;
	uint64_t req_bytes, req_body, resp_bytes, resp_body;
	bool truncated;
};

struct h {
	struct http_stats st;
	struct http_cfg cfg;
	struct http_session s;
	struct http_session_env env;
	struct rec rep[MAX_REPS];
	size_t n;
	bool closed;        /* http_session_close returned: nothing may be reported any more */
	char log[LOG_SIZE]; /* every report as a line, to compare runs */
	size_t log_len;
};

static void copy_slice(char *dst, size_t size, struct http_slice s)
{
	size_t n = s.n < size - 1 ? s.n : size - 1;

	memcpy(dst, s.p, n);
	dst[n] = '\0';
}

static void emit(void *ctx, const struct http_report *r)
{
	struct h *h = ctx;
	struct rec *e;

	CHECK(!h->closed);
	CHECK(r->req != NULL);
	CHECK(r->client_dir == 0 || r->client_dir == 1);
	CHECK(r->ts_end >= r->ts_start);
	if (!r->req || h->n == MAX_REPS) {
		check_failures++;
		return;
	}
	e = &h->rep[h->n++];
	*e = (struct rec){
	        .client_dir = r->client_dir,
	        .cut = r->req->start_line_cut,
	        .status = r->resp ? r->resp->status : 0,
	        .ts_start = r->ts_start,
	        .ts_end = r->ts_end,
	        .req_bytes = r->req_bytes,
	        .req_body = r->req_body_bytes,
	        .resp_bytes = r->resp_bytes,
	        .resp_body = r->resp_body_bytes,
	        .truncated = r->truncated,
	};
	copy_slice(e->method, sizeof(e->method), r->req->method);
	copy_slice(e->target, sizeof(e->target), r->req->target);
	if (!r->resp)
		CHECK(r->resp_bytes == 0 && r->resp_body_bytes == 0);
	h->log_len +=
	        (size_t)snprintf(h->log + h->log_len, LOG_SIZE - h->log_len,
	                         "%d %s %s%s -> %u req=%" PRIu64 "/%" PRIu64 " resp=%" PRIu64
	                         "/%" PRIu64 " ts=%" PRIu64 "..%" PRIu64 "%s\n",
	                         e->client_dir, e->method, e->target, e->cut ? "(cut)" : "",
	                         e->status, e->req_bytes, e->req_body, e->resp_bytes, e->resp_body,
	                         e->ts_start, e->ts_end, e->truncated ? " truncated" : "");
	CHECK(h->log_len < LOG_SIZE);
}

static void h_init(struct h *h, uint32_t max_header_bytes)
{
	memset(h, 0, sizeof(*h));
	h->cfg = (struct http_cfg){
	        .max_header_bytes = max_header_bytes,
	        .max_pending = 8,
	        .response_timeout_ns = TIMEOUT_NS,
	        .stats = &h->st,
	};
	h->env = (struct http_session_env){&h->cfg, emit, h};
	http_session_init(&h->s);
}

/* Scripts. MARK: a point where the caller checks what was reported so far (h_run_to stops
 * there). */
enum op { END, DATA, GAP, FIN, EXPIRE, CLOSE, MARK, JOIN };

struct step {
	enum op op;
	int dir;
	const char *data;
	size_t n; /* DATA: bytes; GAP: bytes lost; CLOSE: closed */
	uint64_t ts;
};

/* Steps as brace initializers, one line each (clang-format would spread every one over four). */
/* clang-format off */
#define DATA(dir, lit, ts) {DATA, (dir), (lit), L(lit), (ts)}
#define GAP(dir, n, ts)    {GAP, (dir), NULL, (n), (ts)}
#define FIN(dir, ts)       {FIN, (dir), NULL, 0, (ts)}
#define EXPIRE(ts)         {EXPIRE, 0, NULL, 0, (ts)}
#define CLOSE(closed, ts)  {CLOSE, 0, NULL, (closed), (ts)}
#define PAUSE              {MARK, 0, NULL, 0, 0}
#define JOINED             {JOIN, 0, NULL, 0, 0} /* the session joins midstream */
/* clang-format on */

/* How data steps are cut: step >= 0 cuts that step at `at`; step == ALL_STEPS cuts every data
 * step into pieces of `piece` bytes. */
#define ALL_STEPS (-1)
#define NO_CUT    (-2)

struct cut {
	int step;
	size_t at, piece;
};

static const struct cut whole = {NO_CUT, 0, 0};

static void give(struct h *h, int dir, const char *p, size_t n, uint64_t ts)
{
	uint8_t *g = guarded_copy(p, n);

	http_session_data(&h->s, &h->env, dir, g, n, ts);
	guarded_free(g, n);
}

static void feed(struct h *h, const struct step *s, size_t first, size_t piece)
{
	size_t off = 0;

	while (off < s->n) {
		size_t k = off == 0 ? first : piece;

		if (k == 0 || k > s->n - off)
			k = s->n - off;
		give(h, s->dir, s->data + off, k, s->ts);
		off += k;
	}
}

/* Runs st from step i to the next MARK or the END; returns where to resume. */
static int h_run_to(struct h *h, const struct step *st, int i, struct cut cut)
{
	for (; st[i].op != END; i++) {
		const struct step *s = &st[i];

		CHECK(!h->closed);
		switch (s->op) {
		case DATA:
			if (cut.step == i)
				feed(h, s, cut.at, 0);
			else if (cut.step == ALL_STEPS)
				feed(h, s, cut.piece, cut.piece);
			else
				feed(h, s, 0, 0);
			break;
		case GAP:
			http_session_gap(&h->s, &h->env, s->dir, s->n, s->ts);
			break;
		case FIN:
			http_session_fin(&h->s, &h->env, s->dir, s->ts);
			break;
		case EXPIRE:
			http_session_expire(&h->s, &h->env, s->ts);
			break;
		case CLOSE:
			http_session_close(&h->s, &h->env, s->n != 0, s->ts);
			h->closed = true;
			break;
		case JOIN:
			http_session_midstream(&h->s);
			break;
		case MARK:
			return i + 1;
		case END:
			break;
		}
	}
	return i;
}

static void h_run(struct h *h, const struct step *st, struct cut cut)
{
	for (int i = 0; st[i].op != END;)
		i = h_run_to(h, st, i, cut);
}

/* Runs a whole script (ending in CLOSE) in a fresh session, as `base` was configured. */
static void rerun(struct h *h, const struct h *base, const struct step *st, struct cut cut)
{
	h_init(h, base->cfg.max_header_bytes);
	h->cfg.max_pending = base->cfg.max_pending;
	h_run(h, st, cut);
	CHECK(h->closed);
}

static bool same_run(const struct h *a, const struct h *b, const char *what, size_t at)
{
	if (a->log_len == b->log_len && memcmp(a->log, b->log, a->log_len) == 0 &&
	    memcmp(&a->st, &b->st, sizeof(a->st)) == 0)
		return true;
	fprintf(stderr, "cutting %s %zu changed the run:\n--- whole\n%s--- cut\n%s", what, at,
	        a->log, b->log);
	check_failures++;
	return false;
}

/* Where pieces end must not matter: cut each data step at every byte, then every step into
 * pieces of 1, 2, 3 and 7 bytes, and compare with the run `ref` made of whole steps. */
static void check_cuts(const struct h *ref, const struct step *st)
{
	static struct h h; /* large: keep it off the stack */
	static const size_t pieces[] = {1, 2, 3, 7};

	for (int i = 0; st[i].op != END; i++) {
		for (size_t at = 1; st[i].op == DATA && at < st[i].n; at++) {
			rerun(&h, ref, st, (struct cut){i, at, 0});
			if (!same_run(ref, &h, "a step at", at))
				return;
		}
	}
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		rerun(&h, ref, st, (struct cut){ALL_STEPS, 0, pieces[i]});
		if (!same_run(ref, &h, "into pieces of", pieces[i]))
			return;
	}
}

/* Expectations. */
struct want {
	const char *method, *target;
	unsigned status;
	uint64_t req_bytes, req_body, resp_bytes, resp_body;
	bool truncated;
};

static void check_rep_at(int line, const struct h *h, size_t i, struct want w)
{
	const struct rec *e;

	if (i >= h->n) {
		fprintf(stderr, "line %d: no report %zu (%zu reports)\n", line, i, h->n);
		check_failures++;
		return;
	}
	e = &h->rep[i];
	if (strcmp(e->method, w.method) != 0 || strcmp(e->target, w.target) != 0 ||
	    e->status != w.status || e->req_bytes != w.req_bytes || e->req_body != w.req_body ||
	    e->resp_bytes != w.resp_bytes || e->resp_body != w.resp_body ||
	    e->truncated != w.truncated) {
		fprintf(stderr,
		        "line %d: report %zu is %s %s -> %u req=%" PRIu64 "/%" PRIu64
		        " resp=%" PRIu64 "/%" PRIu64 "%s\n"
		        "        expected %s %s -> %u req=%" PRIu64 "/%" PRIu64 " resp=%" PRIu64
		        "/%" PRIu64 "%s\n",
		        line, i, e->method, e->target, e->status, e->req_bytes, e->req_body,
		        e->resp_bytes, e->resp_body, e->truncated ? " truncated" : "", w.method,
		        w.target, w.status, w.req_bytes, w.req_body, w.resp_bytes, w.resp_body,
		        w.truncated ? " truncated" : "");
		check_failures++;
	}
}

#define CHECK_REP(h, i, ...) check_rep_at(__LINE__, (h), (i), (struct want){__VA_ARGS__})

static void check_ts_at(int line, const struct h *h, size_t i, uint64_t start, uint64_t end)
{
	if (i >= h->n || h->rep[i].ts_start != start || h->rep[i].ts_end != end) {
		fprintf(stderr,
		        "line %d: report %zu timestamps, expected %" PRIu64 "..%" PRIu64 "\n", line,
		        i, start, end);
		check_failures++;
	}
}

#define CHECK_TS(h, i, start, end) check_ts_at(__LINE__, (h), (i), (start), (end))

static void check_stats_at(int line, const struct http_stats *got, struct http_stats want)
{
#define FIELD(f)                                                                                   \
	if (got->f != want.f) {                                                                    \
		fprintf(stderr, "line %d: stats." #f " = %" PRIu64 ", expected %" PRIu64 "\n",     \
		        line, got->f, want.f);                                                     \
		check_failures++;                                                                  \
	}
	FIELD(requests)
	FIELD(responses)
	FIELD(parse_errors)
	FIELD(resyncs)
	FIELD(discarded_bytes)
	FIELD(truncated)
	FIELD(incomplete)
	FIELD(exchanges)
	FIELD(no_response)
	FIELD(unpaired_responses)
	FIELD(informational)
	FIELD(tunnels)
	FIELD(pending_overflow)
	FIELD(header_buffer_limit)
#undef FIELD
}

/* Every counter is compared: the ones not named must be 0. */
#define CHECK_STATS(h, ...) check_stats_at(__LINE__, &(h)->st, (struct http_stats){__VA_ARGS__})

/* Runs a script whole into *h (kept for the caller's checks), then checks that cutting its data
 * steps anywhere changes nothing. */
static void run_script(struct h *h, uint32_t max_header_bytes, const struct step *st)
{
	h_init(h, max_header_bytes);
	h_run(h, st, whole);
	check_cuts(h, st);
}

/* Messages used by several cases. */
static const char get_a[] = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
static const char get_b[] = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
static const char ok_2[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
static const char ok_0[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

static void test_simple(void)
{
	static const char rq[] =
	        "GET /index.html HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
	static const char rs[] = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n"
	                         "Content-Type: text/plain\r\n\r\nhello world";
	static const struct step st[] = {DATA(0, rq, 1000), DATA(1, rs, 2000), CLOSE(1, 3000), {0}};
	/* The same with the client on direction 1, and a body on the request. */
	static const char post[] = "POST /form HTTP/1.1\r\nContent-Length: 7\r\n\r\na=1&b=2";
	static const struct step st1[] = {DATA(1, post, 10), DATA(0, rs, 20), CLOSE(1, 30), {0}};
	static struct h h;

	run_script(&h, 1024, st);
	CHECK_EQ_U64(h.n, 1);
	CHECK_REP(&h, 0, "GET", "/index.html", 200, L(rq), 0, L(rs), 11, false);
	CHECK_TS(&h, 0, 1000, 2000);
	CHECK_EQ_U64(h.rep[0].client_dir, 0);
	CHECK_STATS(&h, .requests = 1, .responses = 1, .exchanges = 1);

	run_script(&h, 1024, st1);
	CHECK_EQ_U64(h.n, 1);
	CHECK_REP(&h, 0, "POST", "/form", 200, L(post), 7, L(rs), 11, false);
	CHECK_TS(&h, 0, 10, 20);
	CHECK_EQ_U64(h.rep[0].client_dir, 1);
	CHECK_STATS(&h, .requests = 1, .responses = 1, .exchanges = 1);
}

/* A session joined midstream: at a message start (the sock hooks join every connection at its
 * first byte) nothing is lost and nothing counted; inside a message, what comes before the next
 * start is discarded, and finding it is a resync. */
static void test_midstream(void)
{
	static const char tail[] = "ccept: */*\r\n\r\n";
	static const struct step at_start[] = {
	        JOINED, DATA(0, get_a, 1), DATA(1, ok_2, 2), CLOSE(1, 3), {0},
	};
	static const struct step inside[] = {
	        JOINED, DATA(0, tail, 1), DATA(0, get_b, 2), DATA(1, ok_0, 3), CLOSE(1, 4), {0},
	};
	static struct h h;

	run_script(&h, 1024, at_start);
	CHECK_EQ_U64(h.n, 1);
	CHECK_REP(&h, 0, "GET", "/a", 200, L(get_a), 0, L(ok_2), 2, false);
	CHECK_STATS(&h, .requests = 1, .responses = 1, .exchanges = 1);

	run_script(&h, 1024, inside);
	CHECK_EQ_U64(h.n, 1);
	CHECK_REP(&h, 0, "GET", "/b", 200, L(get_b), 0, L(ok_0), 0, false);
	CHECK_STATS(&h, .requests = 1, .responses = 1, .resyncs = 1, .discarded_bytes = L(tail),
	            .exchanges = 1);
}

/* The report comes when the response ends, not at close. */
static void test_report_timing(void)
{
	static const struct step part1[] = {
	        DATA(0, get_a, 1), DATA(1, "HTTP/1.1 200 OK\r\n", 2), {0}};
	static const struct step part2[] = {DATA(1, "Content-Length: 2\r\n\r\no", 3), {0}};
	static const struct step part3[] = {DATA(1, "k", 4), {0}};
	static struct h h;

	h_init(&h, 1024);
	h_run(&h, part1, whole);
	h_run(&h, part2, whole);
	CHECK_EQ_U64(h.n, 0);
	h_run(&h, part3, whole);
	CHECK_EQ_U64(h.n, 1);
	CHECK_REP(&h, 0, "GET", "/a", 200, L(get_a), 0, L(ok_2), 2, false);
	CHECK_TS(&h, 0, 1, 4);
	http_session_close(&h.s, &h.env, true, 5);
	CHECK_EQ_U64(h.n, 1);
	CHECK_STATS(&h, .requests = 1, .responses = 1, .exchanges = 1);
}

static void test_keep_alive(void)
{
	static const char put[] = "PUT /c HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
	static const char created[] = "HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\ndone";
	/* Empty lines between messages are allowed before a request and skipped. */
	static const struct step st[] = {
	        DATA(0, get_a, 1), DATA(1, ok_2, 2),    DATA(0, "\r\n", 3),
	        DATA(0, put, 3),   DATA(1, created, 4), DATA(0, get_b, 5),
	        DATA(1, ok_0, 6),  CLOSE(1, 7),         {0},
	};
	static struct h h;

	run_script(&h, 1024, st);
	CHECK_EQ_U64(h.n, 3);
	CHECK_REP(&h, 0, "GET", "/a", 200, L(get_a), 0, L(ok_2), 2, false);
	CHECK_REP(&h, 1, "PUT", "/c", 201, L(put), 3, L(created), 4, false);
	CHECK_REP(&h, 2, "GET", "/b", 200, L(get_b), 0, L(ok_0), 0, false);
	CHECK_TS(&h, 0, 1, 2);
	CHECK_TS(&h, 1, 3, 4);
	CHECK_TS(&h, 2, 5, 6);
	CHECK_STATS(&h, .requests = 3, .responses = 3, .exchanges = 3);
}

static void test_pipelining(void)
{
	static const char head[] = "HEAD /3 HTTP/1.1\r\n\r\n";
	static const char head_resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
	static const char nf[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found";
	static const struct step st[] = {
	        DATA(0,
	             "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
	             "GET /b HTTP/1.1\r\nHost: h\r\n\r\n"
	             "HEAD /3 HTTP/1.1\r\n\r\n"
	             "POST /4 HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi",
	             1),
	        DATA(1,
	             "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	             "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found"
	             "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
	             "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	             2),
	        CLOSE(1, 3),
	        {0},
	};
	static struct h h;

	run_script(&h, 1024, st);
	CHECK_EQ_U64(h.n, 4);
	CHECK_REP(&h, 0, "GET", "/a", 200, L(get_a), 0, L(ok_2), 2, false);
	CHECK_REP(&h, 1, "GET", "/b", 404, L(get_b), 0, L(nf), 9, false);
	CHECK_REP(&h, 2, "HEAD", "/3", 200, L(head), 0, L(head_resp), 0, false);
	CHECK_REP(&h, 3, "POST", "/4", 200, L("POST /4 HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"), 2,
	          L(ok_0), 0, false);
	CHECK_STATS(&h, .requests = 4, .responses = 4, .exchanges = 4);
}

static void test_chunked(void)
{
	static const char rq[] = "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	                         "5;name=value\r\nhello\r\n"
	                         "6 ; a=\"b;c\" ; d\r\n world\r\n"
	                         "0\r\nX-Checksum: abc\r\nX-Other: d\r\n\r\n";
	static const char rs[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n"
	                         "Content-Length: 99\r\n\r\n"
	                         "A\r\n0123456789\r\n"
	                         "00000f\n0123456789abcde\n"
	                         "0\n\n";
	static const struct step st[] = {
	        DATA(0, rq, 1),   DATA(1, rs, 2), DATA(0, get_b, 3),
	        DATA(1, ok_2, 4), CLOSE(1, 5),    {0},
	};
	static struct h h;

	run_script(&h, 1024, st);
	CHECK_EQ_U64(h.n, 2);
	CHECK_REP(&h, 0, "POST", "/up", 200, L(rq), 11, L(rs), 25, false);
	CHECK_REP(&h, 1, "GET", "/b", 200, L(get_b), 0, L(ok_2), 2, false);
	CHECK_STATS(&h, .requests = 2, .responses = 2, .exchanges = 2);
}

static void test_bad_chunks(void)
{
	/* A bad chunk-size line loses the request's framing: it is reported, truncated, when its
	 * response arrives, and the stream finds the next request. */
	static const char rq[] = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	                         "zz\r\nwhatever\r\n";
	static const char bad_end[] = "POST /y HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	                              "2\r\nabX\r\n";
	static const struct step st[] = {
	        DATA(0, rq, 1),      DATA(1, ok_0, 2),
	        DATA(0, get_a, 3),   DATA(1, ok_2, 4),
	        DATA(0, bad_end, 5), DATA(0, get_b, 6),
	        DATA(1, ok_0, 7),    DATA(1, ok_0, 8),
	        CLOSE(1, 9),         {0},
	};
	static struct h h;

	run_script(&h, 1024, st);
	CHECK_EQ_U64(h.n, 4);
	CHECK_REP(&h, 0, "POST", "/x", 200, L(rq), 0, L(ok_0), 0, true);
	CHECK_REP(&h, 1, "GET", "/a", 200, L(get_a), 0, L(ok_2), 2, false);
	/* "abX\r\n": the chunk's 2 bytes, then a line that is not the CRLF after them; the error
	 * comes at the end of that line, and the next request is found at once. */
	CHECK_REP(&h, 2, "POST", "/y", 200, L(bad_end), 2, L(ok_0), 0, true);
	CHECK_REP(&h, 3, "GET", "/b", 200, L(get_b), 0, L(ok_0), 0, false);
	CHECK_STATS(&h, .requests = 4, .responses = 4, .parse_errors = 2, .resyncs = 2,
	            .discarded_bytes = L("whatever\r\n"), .truncated = 2, .exchanges = 4);
}

static void test_no_body_responses(void)
{
	static const char post0[] = "POST /z HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
	static const char head[] = "HEAD /h HTTP/1.1\r\n\r\n";
	/* HEAD: the length of the body a GET would have had, and no body. */
	static const char head_resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n";
	static const char head_chunked[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
	static const char no_content[] = "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n";
	static const char not_mod[] = "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n"
	                              "\r\n";
	static const struct step st[] = {
	        DATA(0, post0, 1),  DATA(1, ok_0, 2),
	        DATA(0, head, 3),   DATA(1, head_resp, 4),
	        DATA(0, head, 5),   DATA(1, head_chunked, 6),
	        DATA(0, get_a, 7),  DATA(1, no_content, 8),
	        DATA(0, get_b, 9),  DATA(1, not_mod, 10),
	        DATA(0, get_a, 11), DATA(1, ok_2, 12),
	        CLOSE(1, 13),       {0},
	};
	static struct h h;

	run_script(&h, 1024, st);
	CHECK_EQ_U64(h.n, 6);
	CHECK_REP(&h, 0, "POST", "/z", 200, L(post0), 0, L(ok_0), 0, false);
	CHECK_REP(&h, 1, "HEAD", "/h", 200, L(head), 0, L(head_resp), 0, false);
	CHECK_REP(&h, 2, "HEAD", "/h", 200, L(head), 0, L(head_chunked), 0, false);
	CHECK_REP(&h, 3, "GET", "/a", 204, L(get_a), 0, L(no_content), 0, false);
	CHECK_REP(&h, 4, "GET", "/b", 304, L(get_b), 0, L(not_mod), 0, false);
	CHECK_REP(&h, 5, "GET", "/a", 200, L(get_a), 0, L(ok_2), 2, false);
	CHECK_STATS(&h, .requests = 6, .responses = 6, .exchanges = 6);
}

static void test_informational(void)
{
	static const char rq[] = "POST /u HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n"
	                         "\r\n";
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	static const char hints[] =
	        "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n";
	static const char created[] = "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
	static const struct step st[] = {
	        DATA(0, rq, 1),
	        DATA(1, cont, 2),
	        DATA(0, "data", 3),
	        DATA(1, hints, 4),
	        DATA(1, created, 5),
	        CLOSE(1, 6),
	        {0},
	};
	static struct h h;

	run_script(&h, 1024, st);
	CHECK_EQ_U64(h.n, 1);
	/* The interim responses are framed and counted, not part of the exchange's bytes. */
	CHECK_REP(&h, 0, "POST", "/u", 201, L(rq) + 4, 4, L(created), 0, false);
	CHECK_TS(&h, 0, 1, 5);
	CHECK_STATS(&h, .requests = 1, .responses = 3, .exchanges = 1, .informational = 2);
}

static void test_switching_protocols(void)
{
	static const char rq[] = "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
	                         "Connection: Upgrade\r\n\r\n";
	static const char rs[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	                         "Connection: Upgrade\r\n\r\n";
	/* WebSocket frames both ways, some looking like HTTP: none of it is. */
	static const struct step st[] = {
	        DATA(0, rq, 1),
	        DATA(1, rs, 2),
	        DATA(1, "\x81\x05hello", 3),
	        DATA(0, "\x81\x85\x01\x02\x03\x04iffmn", 4),
	        DATA(0, "GET /inner HTTP/1.1\r\n\r\n", 5),
	        DATA(1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 6),
	        FIN(0, 7),
	        CLOSE(1, 8),
	        {0},
	};
	static struct h h;

	run_script(&h, 1024, st);
	CHECK_EQ_U64(h.n, 1);
	CHECK_REP(&h, 0, "GET", "/chat", 101, L(rq), 0, L(rs), 0, false);
	CHECK_TS(&h, 0, 1, 2);
	CHECK_STATS(&h, .requests = 1, .responses = 1, .exchanges = 1, .tunnels = 1);
}

static void test_connect(void)
{
	static const char rq[] =
	        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
	static const char rs[] = "HTTP/1.1 200 Connection Established\r\n\r\n";
	static const char denied[] = "HTTP/1.1 407 Proxy Authentication Required\r\n"
	                             "Content-Length: 0\r\n\r\n";
	/* A proxy tunnel to port 80: the inner exchange is not the proxy's business. */
	static const struct step st[] = {
	        DATA(0, rq, 1),
	        DATA(1, denied, 2),
	        DATA(0, rq, 3),
	        DATA(1, rs, 4),
	        DATA(0, "\x16\x03\x01\x00\x05hello", 5),
	        DATA(1, "\x16\x03\x03\x00\x02hi", 6),
	        DATA(0, "\r\nGET / HTTP/1.1\r\nHost: example.com\r\n\r\n", 7),
	        DATA(1, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 8),
	        CLOSE(1, 9),
	        {0},
	};
	static struct h h;

	run_script(&h, 1024, st);
	CHECK_EQ_U64(h.n, 2);
	CHECK_REP(&h, 0, "CONNECT", "example.com:443", 407, L(rq), 0, L(denied), 0, false);
	CHECK_REP(&h, 1, "CONNECT", "example.com:443", 200, L(rq), 0, L(rs), 0, false);
	CHECK_STATS(&h, .requests = 2, .responses = 2, .exchanges = 2, .tunnels = 1);
}

/* A response framed by the connection's end: complete at FIN, truncated if we stop watching. */
static void test_until_close(void)
{
	static const char rq[] = "GET / HTTP/1.0\r\n\r\n";
	static const char rs[] = "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>";
	static const struct step at_fin[] = {
	        DATA(0, rq, 1), DATA(1, rs, 2), DATA(1, "</html>", 3), FIN(1, 4), CLOSE(0, 5), {0},
	};
	static const struct step stop[] = {
	        DATA(0, rq, 1), DATA(1, rs, 2), DATA(1, "</html>", 3), CLOSE(0, 5), {0},
	};
	static const struct step closed[] = {
	        DATA(0, rq, 1), DATA(1, rs, 2), DATA(1, "</html>", 3), CLOSE(1, 5), {0},
	};
	/* Transfer-Encoding without chunked last: a response runs to the end too. */
	static const char gz[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
	                         "Content-Length: 3\r\n\r\n\x1f\x8b\x08\x00";
	static const struct step te[] = {
	        DATA(0, get_a, 1), DATA(1, gz, 2), DATA(0, get_b, 3), FIN(1, 4), CLOSE(1, 5), {0},
	};
	static struct h h;

	run_script(&h, 1024, at_fin);
	CHECK_EQ_U64(h.n, 1);
	CHECK_REP(&h, 0, "GET", "/", 200, L(rq), 0, L(rs) + 7, 13, false);
	CHECK_TS(&h, 0, 1, 3);
	CHECK_STATS(&h, .requests = 1, .responses = 1, .exchanges = 1);

	run_script(&h, 1024, stop);
	CHECK_EQ_U64(h.n, 1);
	CHECK_REP(&h, 0, "GET", "/", 200, L(rq), 0, L(rs) + 7, 13, true);
	CHECK_STATS(&h, .requests = 1, .responses = 1, .exchanges = 1, .truncated = 1);

	run_script(&h, 1024, closed);
	CHECK_EQ_U64(h.n, 1);
	CHECK_REP(&h, 0, "GET", "/", 200, L(rq), 0, L(rs) + 7, 13, false);
	CHECK_STATS(&h, .requests = 1, .responses = 1, .exchanges = 1);

	/* The second request waits for a response that never comes. */
	run_script(&h, 1024, te);
	CHECK_EQ_U64(h.n, 2);
	CHECK_REP(&h, 0, "GET", "/a", 200, L(get_a), 0, L(gz), 4, false);
	CHECK_REP(&h, 1, "GET", "/b", 0, L(get_b), 0, 0, 0, false);
	CHECK_STATS(&h, .requests = 2, .responses = 1, .exchanges = 1, .no_response = 1);
}

static void test_early_response(void)
{
	static const char rq[] = "POST /upload HTTP/1.1\r\nContent-Length: 10\r\n\r\n";
	static const char rs[] = "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n"
	                         "Connection: close\r\n\r\n";
	static const struct step part1[] = {
	        DATA(0, rq, 10),
	        DATA(0, "01234", 11),
	        DATA(1, rs, 20),
	        {0},
	};
	static const struct step part2[] = {DATA(0, "56789", 30), CLOSE(1, 40), {0}};
	static const struct step st[] = {
	        DATA(0, rq, 10),      DATA(0, "01234", 11), DATA(1, rs, 20),
	        DATA(0, "56789", 30), CLOSE(1, 40),         {0},
	};
	/* The request never completes: reported with its response at close, truncated. */
	static const struct step unfinished[] = {
	        DATA(0, rq, 10), DATA(0, "01234", 11), DATA(1, rs, 20), CLOSE(0, 40), {0},
	};
	/* A second final response while the request is still going has nothing to pair with. */
	static const struct step twice[] = {
	        DATA(0, rq, 10),           DATA(1, rs, 20), DATA(1, ok_0, 21),
	        DATA(0, "0123456789", 30), CLOSE(1, 40),    {0},
	};
	static struct h h;

	h_init(&h, 1024);
	h_run(&h, part1, whole);
	CHECK_EQ_U64(h.n, 0);
	h_run(&h, part2, whole);
	CHECK_EQ_U64(h.n, 1);
	CHECK_REP(&h, 0, "POST", "/upload", 413, L(rq) + 10, 10, L(rs), 0, false);
	CHECK_TS(&h, 0, 10, 30);
	CHECK_STATS(&h, .requests = 1, .responses = 1, .exchanges = 1);
	check_cuts(&h, st);

	run_script(&h, 1024, unfinished);
	CHECK_EQ_U64(h.n, 1);
	CHECK_REP(&h, 0, "POST", "/upload", 413, L(rq) + 5, 5, L(rs), 0, true);
	CHECK_TS(&h, 0, 10, 20);
	CHECK_STATS(&h, .requests = 1, .responses = 1, .exchanges = 1, .truncated = 1);

	run_script(&h, 1024, twice);
	CHECK_EQ_U64(h.n, 1);
	CHECK_REP(&h, 0, "POST", "/upload", 413, L(rq) + 10, 10, L(rs), 0, false);
	CHECK_STATS(&h, .requests = 1, .responses = 2, .exchanges = 1, .unpaired_responses = 1);
}

static void test_gap_in_body(void)
{
	static const char rq[] = "POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\n";
	static const char rs[] = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n";
	static const struct step st[] = {
	        DATA(0, rq, 1),    DATA(0, "012", 2), GAP(0, 4, 3), DATA(0, "789", 4),
	        DATA(1, rs, 5),    DATA(1, "ab", 6),  GAP(1, 3, 7), DATA(1, "f", 8),
	        DATA(0, get_a, 9), DATA(1, ok_2, 10), CLOSE(1, 11), {0},
	};
	/* A gap running past the body's end takes the next message's start with it: the stream
	 * finds the message after that. */
	static const struct step over[] = {
	        DATA(0, rq, 1),
	        DATA(0, "01234", 2),
	        GAP(0, 20, 3),
	        DATA(0, "xt HTTP/1.1\r\nHost: h\r\n\r\n", 4),
	        DATA(0, get_b, 5),
	        DATA(1, ok_0, 6),
	        DATA(1, ok_2, 7),
	        CLOSE(1, 8),
	        {0},
	};
	static struct h h;

	run_script(&h, 1024, st);
	CHECK_EQ_U64(h.n, 2);
	CHECK_REP(&h, 0, "POST", "/x", 200, L(rq) + 10, 10, L(rs) + 6, 6, true);
	CHECK_TS(&h, 0, 1, 8);
	CHECK_REP(&h, 1, "GET", "/a", 200, L(get_a), 0, L(ok_2), 2, false);
	CHECK_STATS(&h, .requests = 2, .responses = 2, .truncated = 2, .exchanges = 2);

	run_script(&h, 1024, over);
	CHECK_EQ_U64(h.n, 2);
	CHECK_REP(&h, 0, "POST", "/x", 200, L(rq) + 10, 10, L(ok_0), 0, true);
	CHECK_REP(&h, 1, "GET", "/b", 200, L(get_b), 0, L(ok_2), 2, false);
	CHECK_STATS(&h, .requests = 2, .responses = 2, .resyncs = 1,
	            .discarded_bytes = L("xt HTTP/1.1\r\nHost: h\r\n\r\n"), .truncated = 1,
	            .exchanges = 2);
}

static void test_gap_in_headers(void)
{
	static const char start[] = "GET /very/long/path?q=";
	static const char rest[] = "abc HTTP/1.1\r\nHost: h\r\n\r\n";
	static const struct step st[] = {
	        DATA(0, start, 1), GAP(0, 50, 2),    DATA(0, rest, 3), DATA(1, ok_2, 4),
	        DATA(0, get_b, 5), DATA(1, ok_0, 6), CLOSE(1, 7),      {0},
	};
	/* The gap after the start line: the fields that arrived are kept. */
	static const char start2[] = "GET /p HTTP/1.1\r\nHost: h\r\nX-A";
	static const struct step st2[] = {
	        DATA(0, start2, 1), GAP(0, 10, 2), DATA(1, ok_0, 3), CLOSE(1, 4), {0},
	};
	/* Too little of the start line to say anything: counted as incomplete, and the response
	 * finds no request. */
	static const struct step st3[] = {
	        DATA(0, get_a, 1),
	        DATA(1, ok_0, 2),
	        DATA(0, "GET", 3),
	        GAP(0, 10, 4),
	        DATA(1, ok_0, 5),
	        CLOSE(1, 6),
	        {0},
	};
	/* A gap in a response's header block, after its status line. */
	static const struct step st4[] = {
	        DATA(0, get_a, 1), DATA(1, "HTTP/1.1 500 Oops\r\nServer: x\r\nContent-Le", 2),
	        GAP(1, 30, 3),     DATA(1, "body bytes\r\n", 4),
	        DATA(0, get_b, 5), DATA(1, ok_2, 6),
	        CLOSE(1, 7),       {0},
	};
	static struct h h;

	run_script(&h, 1024, st);
	CHECK_EQ_U64(h.n, 2);
	CHECK_REP(&h, 0, "GET", "/very/long/path?q=", 200, L(start) + 50 + L(rest), 0, L(ok_2), 2,
	          true);
	CHECK(h.rep[0].cut);
	CHECK_REP(&h, 1, "GET", "/b", 200, L(get_b), 0, L(ok_0), 0, false);
	CHECK_STATS(&h, .requests = 2, .responses = 2, .resyncs = 1, .discarded_bytes = L(rest),
	            .truncated = 1, .exchanges = 2);

	run_script(&h, 1024, st2);
	CHECK_EQ_U64(h.n, 1);
	CHECK_REP(&h, 0, "GET", "/p", 200, L(start2) + 10, 0, L(ok_0), 0, true);
	CHECK(!h.rep[0].cut);
	CHECK_STATS(&h, .requests = 1, .responses = 1, .truncated = 1, .exchanges = 1);

	run_script(&h, 1024, st3);
	CHECK_EQ_U64(h.n, 1);
	CHECK_STATS(&h, .requests = 1, .responses = 2, .incomplete = 1, .exchanges = 1,
	            .unpaired_responses = 1);

	run_script(&h, 1024, st4);
	CHECK_EQ_U64(h.n, 2);
	CHECK_REP(&h, 0, "GET", "/a", 500, L(get_a), 0,
	          L("HTTP/1.1 500 Oops\r\nServer: x\r\nContent-Le") + 30 + L("body bytes\r\n"), 0,
	          true);
	CHECK_REP(&h, 1, "GET", "/b", 200, L(get_b), 0, L(ok_2), 2, false);
	CHECK_STATS(&h, .requests = 2, .responses = 2, .resyncs = 1,
	            .discarded_bytes = L("body bytes\r\n"), .truncated = 1, .exchanges = 2);
}

static void test_gap_in_chunks(void)
{
	static const char rq[] = "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel";
	static const char after[] = "lo\r\n0\r\n\r\n";
	static const struct step st[] = {
	        DATA(0, rq, 1),    GAP(0, 10, 2),
	        DATA(0, after, 3), DATA(0, "GET /next HTTP/1.1\r\n\r\n", 4),
	        DATA(1, ok_0, 5),  DATA(1, ok_2, 6),
	        CLOSE(1, 7),       {0},
	};
	/* A gap between messages: the next one is found where the bytes resume. */
	static const struct step idle[] = {
	        DATA(0, get_a, 1), DATA(1, ok_0, 2), GAP(0, 7, 3), DATA(0, get_b, 4),
	        DATA(1, ok_2, 5),  CLOSE(1, 6),      {0},
	};
	static struct h h;

	run_script(&h, 1024, st);
	CHECK_EQ_U64(h.n, 2);
	CHECK_REP(&h, 0, "POST", "/c", 200, L(rq) + 10 + L(after), 3, L(ok_0), 0, true);
	CHECK_REP(&h, 1, "GET", "/next", 200, L("GET /next HTTP/1.1\r\n\r\n"), 0, L(ok_2), 2,
	          false);
	CHECK_STATS(&h, .requests = 2, .responses = 2, .resyncs = 1, .discarded_bytes = L(after),
	            .truncated = 1, .exchanges = 2);

	run_script(&h, 1024, idle);
	CHECK_EQ_U64(h.n, 2);
	CHECK_REP(&h, 1, "GET", "/b", 200, L(get_b), 0, L(ok_2), 2, false);
	CHECK_STATS(&h, .requests = 2, .responses = 2, .resyncs = 1, .exchanges = 2);
}

static void test_garbage(void)
{
	/* Garbage on a stream known to carry requests: dropped up to the next request line. The
	 * garbage starts like a method ("junk") to make the framer wait before rejecting it. */
	static const char junk[] = "junk(not http) GET / HTTP/1.1\r\nmore junk\r\nGE";
	static const struct step known[] = {
	        DATA(0, get_a, 1),
	        DATA(1, ok_0, 2),
	        DATA(0, junk, 3),
	        DATA(0, "\r\nGE", 3),
	        DATA(0, "T /b HTTP/1.1\r\nHost: h\r\n\r\n", 3),
	        DATA(1, ok_2, 4),
	        CLOSE(1, 5),
	        {0},
	};
	/* A binary protocol: nothing is HTTP, every byte is discarded. */
	static const char tls[] = "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03GET / HTTP/1.1\r\n";
	static const struct step binary[] = {
	        DATA(0, tls, 1),
	        DATA(1, "\x16\x03\x03\x00\x03hey", 2),
	        CLOSE(1, 3),
	        {0},
	};
	/* Text on a new stream, then a request at the start of a line. */
	static const char text[] = "hello there\r\nHTTP is \r\nGET";
	static const struct step unknown[] = {
	        DATA(0, text, 1),
	        DATA(0, " /b HTTP/1.1\r\n\r\n", 2),
	        DATA(1, ok_2, 3),
	        CLOSE(1, 4),
	        {0},
	};
	/* A line shorter than any start line starts nothing, even if a method begins it. */
	static const char short_line[] = "x(\r\nGET /\r\n\r\n";
	static const struct step short_lines[] = {
	        DATA(0, get_a, 1),
	        DATA(1, ok_0, 2),
	        DATA(0, short_line, 3),
	        DATA(0, get_b, 4),
	        DATA(1, ok_2, 5),
	        CLOSE(1, 6),
	        {0},
	};
	/* The same on a new stream: its first line decides nothing however it arrives. */
	static const char short_first[] = "GET 1\r\nHost: h\r\n\r\n";
	static const struct step short_firsts[] = {
	        DATA(0, short_first, 1), DATA(0, get_b, 2), DATA(1, ok_2, 3), CLOSE(1, 4), {0},
	};
	static struct h h;

	run_script(&h, 1024, short_firsts);
	CHECK_EQ_U64(h.n, 1);
	CHECK_REP(&h, 0, "GET", "/b", 200, L(get_b), 0, L(ok_2), 2, false);
	CHECK_STATS(&h, .requests = 1, .responses = 1, .parse_errors = 1, .resyncs = 1,
	            .discarded_bytes = L(short_first), .exchanges = 1);

	run_script(&h, 1024, short_lines);
	CHECK_EQ_U64(h.n, 2);
	CHECK_REP(&h, 1, "GET", "/b", 200, L(get_b), 0, L(ok_2), 2, false);
	CHECK_STATS(&h, .requests = 2, .responses = 2, .parse_errors = 1, .resyncs = 1,
	            .discarded_bytes = L(short_line), .exchanges = 2);

	run_script(&h, 1024, known);
	CHECK_EQ_U64(h.n, 2);
	CHECK_REP(&h, 1, "GET", "/b", 200, L(get_b), 0, L(ok_2), 2, false);
	CHECK_STATS(&h, .requests = 2, .responses = 2, .parse_errors = 1, .resyncs = 1,
	            .discarded_bytes = L(junk) + 2, .exchanges = 2);

	run_script(&h, 1024, binary);
	CHECK_EQ_U64(h.n, 0);
	CHECK_STATS(&h, .parse_errors = 2, .discarded_bytes = L(tls) + 8);

	run_script(&h, 1024, unknown);
	CHECK_EQ_U64(h.n, 1);
	CHECK_REP(&h, 0, "GET", "/b", 200, L("GET /b HTTP/1.1\r\n\r\n"), 0, L(ok_2), 2, false);
	CHECK_STATS(&h, .requests = 1, .responses = 1, .parse_errors = 1, .resyncs = 1,
	            .discarded_bytes = L(text) - 3, .exchanges = 1);
}

static void test_unpaired_and_incomplete(void)
{
	static const struct step unpaired[] = {DATA(1, ok_2, 1), CLOSE(1, 2), {0}};
	static const struct step half[] = {
	        DATA(0, "GET /half HTTP/1.1\r\nHost: a\r\n", 1),
	        FIN(0, 2),
	        DATA(1, ok_0, 3),
	        CLOSE(1, 4),
	        {0},
	};
	static const struct step unanswered[] = {
	        DATA(0, get_a, 1),
	        DATA(0, "POST /p HTTP/1.1\r\nContent-Length: 1\r\n\r\nx", 2),
	        FIN(0, 3),
	        CLOSE(0, 4),
	        {0},
	};
	static struct h h;

	run_script(&h, 1024, unpaired);
	CHECK_EQ_U64(h.n, 0);
	CHECK_STATS(&h, .responses = 1, .unpaired_responses = 1);

	run_script(&h, 1024, half);
	CHECK_EQ_U64(h.n, 0);
	CHECK_STATS(&h, .responses = 1, .incomplete = 1, .unpaired_responses = 1);

	run_script(&h, 1024, unanswered);
	CHECK_EQ_U64(h.n, 2);
	CHECK_REP(&h, 0, "GET", "/a", 0, L(get_a), 0, 0, 0, false);
	CHECK_REP(&h, 1, "POST", "/p", 0, L("POST /p HTTP/1.1\r\nContent-Length: 1\r\n\r\nx"), 1, 0,
	          0, false);
	CHECK_TS(&h, 0, 1, 1);
	CHECK_TS(&h, 1, 2, 2);
	CHECK_STATS(&h, .requests = 2, .no_response = 2);
}

static void test_expire(void)
{
	static const uint64_t t0 = 5 * SEC;
	static const char slow[] = "POST /slow HTTP/1.1\r\nContent-Length: 5\r\n\r\nab";
	static const struct step st[] = {
	        DATA(0, get_a, t0),
	        DATA(0, get_b, t0 + 20 * SEC),
	        EXPIRE(t0 + TIMEOUT_NS), /* not more than the timeout yet */
	        PAUSE,
	        EXPIRE(t0 + TIMEOUT_NS + 1),
	        PAUSE,
	        EXPIRE(t0 + 20 * SEC + TIMEOUT_NS),
	        PAUSE,
	        EXPIRE(t0 + 20 * SEC + TIMEOUT_NS + 1),
	        PAUSE,
	        /* Too late: nothing waits for it any more. */
	        DATA(1, ok_2, t0 + 60 * SEC),
	        /* A request still arriving does not expire, however old its start. */
	        DATA(0, slow, t0 + 70 * SEC),
	        EXPIRE(t0 + 200 * SEC),
	        PAUSE,
	        /* Its response comes first and waits for it. */
	        DATA(1, ok_0, t0 + 201 * SEC),
	        DATA(0, "cde", t0 + 202 * SEC),
	        PAUSE,
	        EXPIRE(t0 + 400 * SEC),
	        CLOSE(1, t0 + 401 * SEC),
	        {0},
	};
	static const size_t reports_at_mark[] = {0, 1, 1, 2, 2, 3};
	static struct h h;
	int i = 0;

	h_init(&h, 1024);
	for (size_t m = 0; m < sizeof(reports_at_mark) / sizeof(reports_at_mark[0]); m++) {
		i = h_run_to(&h, st, i, whole);
		CHECK_EQ_U64(h.n, reports_at_mark[m]);
	}
	h_run_to(&h, st, i, whole);
	CHECK_EQ_U64(h.n, 3);
	CHECK_REP(&h, 0, "GET", "/a", 0, L(get_a), 0, 0, 0, false);
	CHECK_TS(&h, 0, t0, t0);
	CHECK_REP(&h, 1, "GET", "/b", 0, L(get_b), 0, 0, 0, false);
	CHECK_TS(&h, 1, t0 + 20 * SEC, t0 + 20 * SEC);
	CHECK_REP(&h, 2, "POST", "/slow", 200, L(slow) + 3, 5, L(ok_0), 0, false);
	CHECK_TS(&h, 2, t0 + 70 * SEC, t0 + 202 * SEC);
	CHECK_STATS(&h, .requests = 3, .responses = 2, .exchanges = 1, .no_response = 2,
	            .unpaired_responses = 1);
	check_cuts(&h, st);
}

static void test_max_pending(void)
{
	static char reqs[16 * 32];
	static char resps[16 * 64];
	struct step st[] = {
	        {DATA, 0, reqs, 0, 1},
	        {DATA, 1, resps, 0, 2},
	        CLOSE(1, 3),
	        {0},
	};
	static struct h h;

	for (int i = 0; i < 9; i++) {
		st[0].n += (size_t)snprintf(reqs + st[0].n, sizeof(reqs) - st[0].n,
		                            "GET /%d HTTP/1.1\r\n\r\n", i);
		st[1].n += (size_t)snprintf(resps + st[1].n, sizeof(resps) - st[1].n, "%s", ok_0);
	}
	run_script(&h, 1024, st);
	/* The ninth request pushes the first out unanswered; the responses then pair in order
	 * with the requests left, and the last has none. */
	CHECK_EQ_U64(h.n, 9);
	CHECK_REP(&h, 0, "GET", "/0", 0, L("GET /0 HTTP/1.1\r\n\r\n"), 0, 0, 0, false);
	CHECK_REP(&h, 1, "GET", "/1", 200, L("GET /1 HTTP/1.1\r\n\r\n"), 0, L(ok_0), 0, false);
	CHECK_REP(&h, 8, "GET", "/8", 200, L("GET /8 HTTP/1.1\r\n\r\n"), 0, L(ok_0), 0, false);
	CHECK_STATS(&h, .requests = 9, .responses = 9, .exchanges = 8, .no_response = 1,
	            .unpaired_responses = 1, .pending_overflow = 1);
}

/* Builds a message whose header block passes `limit` before `framing` and the empty line. */
static size_t big_head(char *buf, size_t size, const char *start, size_t pad, const char *framing,
                       const char *after)
{
	size_t n = (size_t)snprintf(buf, size, "%sX-Pad: ", start);

	memset(buf + n, 'a', pad);
	n += pad;
	n += (size_t)snprintf(buf + n, size - n, "\r\n%s\r\n%s", framing, after);
	return n;
}

static void test_header_limit(void)
{
	static char rq[4096], rs[4096], rq2[4096];
	struct step st[] = {
	        {DATA, 0, rq, 0, 1}, {DATA, 1, rs, 0, 2}, DATA(0, get_b, 3),
	        DATA(1, ok_2, 4),    CLOSE(1, 5),         {0},
	};
	/* Transfer-Encoding past the limit, with trailing whitespace (OWS) on its line. */
	struct step st2[] = {
	        {DATA, 0, rq2, 0, 1}, DATA(1, ok_0, 2), DATA(0, get_b, 3),
	        DATA(1, ok_2, 4),     CLOSE(1, 5),      {0},
	};
	/* The limit cuts the request line: the method and the target's start are kept. */
	static char long_target[2048];
	struct step st3[] = {
	        {DATA, 0, long_target, 0, 1},
	        DATA(1, ok_0, 2),
	        CLOSE(1, 3),
	        {0},
	};
	static struct h h;
	size_t body_rq, body_rs;

	st[0].n = big_head(rq, sizeof(rq), "POST /big HTTP/1.1\r\n", 1100,
	                   "Content-Type: text/plain\r\nContent-Length: 5\r\n", "hello");
	st[1].n = big_head(rs, sizeof(rs), "HTTP/1.1 200 OK\r\n", 2000, "Content-Length: 3\r\n",
	                   "abc");
	run_script(&h, 1024, st);
	body_rq = 5;
	body_rs = 3;
	CHECK_EQ_U64(h.n, 2);
	CHECK_REP(&h, 0, "POST", "/big", 200, st[0].n, body_rq, st[1].n, body_rs, true);
	CHECK(!h.rep[0].cut);
	CHECK_REP(&h, 1, "GET", "/b", 200, L(get_b), 0, L(ok_2), 2, false);
	CHECK_STATS(&h, .requests = 2, .responses = 2, .truncated = 2, .exchanges = 2,
	            .header_buffer_limit = 2);

	st2[0].n = big_head(rq2, sizeof(rq2), "POST /te HTTP/1.1\r\n", 1500,
	                    "Transfer-Encoding: chunked \t\r\n", "3\r\nabc\r\n0\r\n\r\n");
	run_script(&h, 1024, st2);
	CHECK_EQ_U64(h.n, 2);
	CHECK_REP(&h, 0, "POST", "/te", 200, st2[0].n, 3, L(ok_0), 0, true);
	CHECK_REP(&h, 1, "GET", "/b", 200, L(get_b), 0, L(ok_2), 2, false);
	CHECK_STATS(&h, .requests = 2, .responses = 2, .truncated = 1, .exchanges = 2,
	            .header_buffer_limit = 1);

	st3[0].n = (size_t)snprintf(long_target, sizeof(long_target), "GET /");
	memset(long_target + st3[0].n, 'x', 1500);
	st3[0].n += 1500;
	st3[0].n += (size_t)snprintf(long_target + st3[0].n, sizeof(long_target) - st3[0].n,
	                             " HTTP/1.1\r\nHost: h\r\n\r\n");
	run_script(&h, 1024, st3);
	CHECK_EQ_U64(h.n, 1);
	CHECK(h.rep[0].cut);
	CHECK_EQ_U64(strlen(h.rep[0].target), sizeof(h.rep[0].target) - 1);
	CHECK_STATS(&h, .requests = 1, .responses = 1, .truncated = 1, .exchanges = 1,
	            .header_buffer_limit = 1);
}

/* Framing fields past the limit must agree with the ones kept, and be valid, as they must when
 * kept: otherwise the message is rejected. */
static void test_header_limit_conflicts(void)
{
	static char rq[4096], rq2[4096];
	struct step st[] = {
	        {DATA, 0, rq, 0, 1}, {DATA, 0, rq2, 0, 2}, DATA(0, get_b, 3),
	        DATA(1, ok_2, 4),    CLOSE(1, 5),          {0},
	};
	static struct h h;

	st[0].n = big_head(rq, sizeof(rq), "POST /x HTTP/1.1\r\nContent-Length: 5\r\n", 1100,
	                   "Content-Length: 7\r\n", "hello\r\n");
	st[1].n = big_head(rq2, sizeof(rq2), "POST /y HTTP/1.1\r\n", 1100,
	                   "Content-Length: 5\r\nContent-Length: x\r\n", "hello\r\n");
	run_script(&h, 1024, st);
	CHECK_EQ_U64(h.n, 1);
	CHECK_REP(&h, 0, "GET", "/b", 200, L(get_b), 0, L(ok_2), 2, false);
	CHECK_STATS(&h, .requests = 1, .responses = 1, .parse_errors = 2, .resyncs = 2,
	            .discarded_bytes = 2 * L("hello\r\n"), .exchanges = 1,
	            .header_buffer_limit = 2);
}

/* A header block that has not ended within 1 MiB is given up, at the same byte whatever the
 * pieces; one just short of it is read. */
static void test_huge_headers(void)
{
	static char big[1600000];
	static const size_t limit = 1 << 20;
	struct step st[] = {
	        {DATA, 0, big, 0, 1}, DATA(0, get_b, 2), DATA(1, ok_2, 3), CLOSE(1, 4), {0},
	};
	static const size_t pieces[] = {65536, 100000, 333333};
	static struct h h, cut;
	size_t n;

	for (int over = 0; over < 2; over++) {
		size_t want = over ? 1500000 : limit - 30;

		n = (size_t)snprintf(big, sizeof(big), "GET /huge HTTP/1.1\r\n");
		while (n + 100 < want)
			n += (size_t)snprintf(big + n, sizeof(big) - n, "X-Pad: %090d\r\n", 0);
		while (n < want - 2)
			big[n++] = 'b';
		n += (size_t)snprintf(big + n, sizeof(big) - n, "\r\n\r\n");
		st[0].n = n;
		h_init(&h, 1024);
		h_run(&h, st, whole);
		if (over) {
			CHECK_EQ_U64(h.n, 1);
			CHECK_REP(&h, 0, "GET", "/b", 200, L(get_b), 0, L(ok_2), 2, false);
			CHECK_STATS(&h, .requests = 1, .responses = 1, .parse_errors = 1,
			            .resyncs = 1, .discarded_bytes = n - limit, .exchanges = 1,
			            .header_buffer_limit = 1);
		} else {
			CHECK_EQ_U64(h.n, 2);
			CHECK_REP(&h, 0, "GET", "/huge", 200, n, 0, L(ok_2), 2, true);
			CHECK_REP(&h, 1, "GET", "/b", 0, L(get_b), 0, 0, 0, false);
			CHECK_STATS(&h, .requests = 2, .responses = 1, .truncated = 1,
			            .exchanges = 1, .no_response = 1, .header_buffer_limit = 1);
		}
		for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
			rerun(&cut, &h, st, (struct cut){ALL_STEPS, 0, pieces[i]});
			same_run(&h, &cut, "into pieces of", pieces[i]);
		}
	}
}

/* Teardown without reports frees everything (LeakSanitizer checks). */
static void test_free(void)
{
	static const char post[] = "POST /x HTTP/1.1\r\nContent-Length: 9\r\n\r\nab";
	static const char resp[] = "HTTP/1.1 200 OK\r\nX-Long: 01234567890123456789012345678901234";
	static struct h h;

	h_init(&h, 64);
	give(&h, 0, get_a, L(get_a), 1);
	give(&h, 0, post, L(post), 2);
	give(&h, 1, resp, L(resp), 3);
	http_session_free(&h.s);
	CHECK_EQ_U64(h.n, 0);
}

/* More header fields than the parser keeps: the framing field after them still counts. */
static void test_many_fields(void)
{
	static char rq[4096];
	struct step st[] = {
	        {DATA, 0, rq, 0, 1}, DATA(1, ok_0, 2), DATA(0, get_b, 3),
	        DATA(1, ok_2, 4),    CLOSE(1, 5),      {0},
	};
	static struct h h;

	st[0].n = (size_t)snprintf(rq, sizeof(rq), "POST /many HTTP/1.1\r\n");
	for (int i = 0; i < 70; i++)
		st[0].n +=
		        (size_t)snprintf(rq + st[0].n, sizeof(rq) - st[0].n, "X-%d: %d\r\n", i, i);
	st[0].n += (size_t)snprintf(rq + st[0].n, sizeof(rq) - st[0].n,
	                            "Content-Length: 22\r\n\r\nGET /smuggled HTTP/1.1");
	run_script(&h, 65536, st);
	CHECK_EQ_U64(h.n, 2);
	CHECK_REP(&h, 0, "POST", "/many", 200, st[0].n, 22, L(ok_0), 0, false);
	CHECK_REP(&h, 1, "GET", "/b", 200, L(get_b), 0, L(ok_2), 2, false);
	CHECK_STATS(&h, .requests = 2, .responses = 2, .exchanges = 2);
}

static void test_framing_errors(void)
{
	static const char conflict[] =
	        "POST /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n"
	        "\r\nhello\r\n";
	static const char conflict_list[] =
	        "POST /y HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\nhello\r\n";
	static const char same_list[] = "POST /z HTTP/1.1\r\nContent-Length: 3, 3\r\n"
	                                "Content-Length: 3\r\n\r\nabc";
	static const char bad_len[] = "POST /w HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello\r\n";
	/* Transfer-Encoding on a request must end in chunked (RFC 9112 6.3). */
	static const char te_gzip[] = "POST /g HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
	                              "junk\r\n";
	static const struct step st[] = {
	        DATA(0, conflict, 1),  DATA(0, conflict_list, 2),
	        DATA(0, same_list, 3), DATA(0, bad_len, 4),
	        DATA(0, te_gzip, 5),   DATA(0, get_b, 6),
	        DATA(1, ok_0, 7),      DATA(1, ok_2, 8),
	        CLOSE(1, 9),           {0},
	};
	static struct h h;

	run_script(&h, 1024, st);
	CHECK_EQ_U64(h.n, 2);
	CHECK_REP(&h, 0, "POST", "/z", 200, L(same_list), 3, L(ok_0), 0, false);
	CHECK_REP(&h, 1, "GET", "/b", 200, L(get_b), 0, L(ok_2), 2, false);
	CHECK_STATS(&h, .requests = 2, .responses = 2, .parse_errors = 4, .resyncs = 4,
	            .discarded_bytes = 3 * L("hello\r\n") + L("junk\r\n"), .exchanges = 2);
}

/* The server answers early, then the request loses its framing: a second response must not pair
 * with a request already reported with the first. */
static void test_early_then_lost(void)
{
	static const char rq[] = "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab";
	static const char bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
	static const struct step st[] = {
	        DATA(0, rq, 1),    DATA(1, bad, 2),  GAP(0, 5, 3), DATA(1, ok_0, 4),
	        DATA(0, get_b, 5), DATA(1, ok_2, 6), CLOSE(1, 7),  {0},
	};
	static struct h h;

	run_script(&h, 1024, st);
	CHECK_EQ_U64(h.n, 2);
	CHECK_REP(&h, 0, "POST", "/up", 400, L(rq) + 5, 2, L(bad), 0, true);
	CHECK_REP(&h, 1, "GET", "/b", 200, L(get_b), 0, L(ok_2), 2, false);
	CHECK_STATS(&h, .requests = 2, .responses = 3, .resyncs = 1, .truncated = 1, .exchanges = 2,
	            .unpaired_responses = 1);
}

/* Each direction decides its kind from its own first bytes: both can start like requests (or
 * responses) before either message is complete. The first complete one names the client; a
 * message of the same kind from the other side is not part of the conversation. */
static void test_same_kind_both_ways(void)
{
	static const struct step requests[] = {
	        DATA(0, "GET /a HTTP/1.1\r\n", 1),
	        DATA(1, get_b, 2),
	        DATA(0, "Host: h\r\n\r\n", 3),
	        CLOSE(1, 4),
	        {0},
	};
	static const struct step responses[] = {
	        DATA(0, "HTTP/1.1 200 OK\r\n", 1),
	        DATA(1, ok_2, 2),
	        DATA(0, "Content-Length: 0\r\n\r\n", 3),
	        CLOSE(1, 4),
	        {0},
	};
	static struct h h;

	run_script(&h, 1024, requests);
	CHECK_EQ_U64(h.n, 1);
	CHECK_REP(&h, 0, "GET", "/b", 0, L(get_b), 0, 0, 0, false);
	CHECK_EQ_U64(h.rep[0].client_dir, 1);
	CHECK_STATS(&h, .requests = 2, .parse_errors = 1, .no_response = 1);

	run_script(&h, 1024, responses);
	CHECK_EQ_U64(h.n, 0);
	CHECK_STATS(&h, .responses = 2, .parse_errors = 1, .unpaired_responses = 1);
}

/* Long lines decide errors at the same byte however they arrive. */
static void test_long_lines(void)
{
	static char rq[10000];
	struct step st[] = {
	        {DATA, 0, rq, 0, 1}, DATA(0, get_b, 2), DATA(1, ok_0, 3),
	        DATA(1, ok_2, 4),    CLOSE(1, 5),       {0},
	};
	static struct h h, cut;
	size_t n;

	n = (size_t)snprintf(rq, sizeof(rq),
	                     "POST /ext HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;e=");
	memset(rq + n, 'x', 9000);
	n += 9000;
	n += (size_t)snprintf(rq + n, sizeof(rq) - n, "\r\na\r\n0\r\n\r\n");
	st[0].n = n;
	h_init(&h, 1024);
	h_run(&h, st, whole);
	CHECK_EQ_U64(h.n, 2);
	CHECK_REP(&h, 0, "POST", "/ext", 200, n, 0, L(ok_0), 0, true);
	CHECK_STATS(&h, .requests = 2, .responses = 2, .parse_errors = 1, .resyncs = 1,
	            .discarded_bytes = n - 8192 - 1 -
	                               L("POST /ext HTTP/1.1\r\nTransfer-Encoding: "
	                                 "chunked\r\n\r\n"),
	            .truncated = 1, .exchanges = 2);
	for (size_t piece = 1000; piece < 9000; piece += 1000) {
		rerun(&cut, &h, st, (struct cut){ALL_STEPS, 0, piece});
		same_run(&h, &cut, "into pieces of", piece);
	}
}

int main(void)
{
	test_simple();
	test_midstream();
	test_report_timing();
	test_keep_alive();
	test_pipelining();
	test_chunked();
	test_bad_chunks();
	test_no_body_responses();
	test_informational();
	test_switching_protocols();
	test_connect();
	test_until_close();
	test_early_response();
	test_gap_in_body();
	test_gap_in_headers();
	test_gap_in_chunks();
	test_garbage();
	test_unpaired_and_incomplete();
	test_expire();
	test_max_pending();
	test_header_limit();
	test_header_limit_conflicts();
	test_huge_headers();
	test_free();
	test_many_fields();
	test_framing_errors();
	test_early_then_lost();
	test_same_kind_both_ways();
	test_long_lines();
	return check_report("test_http_session");
}
