/* The HTTP/1.x header-block parser: valid requests and responses field by field, malformed start
 * lines and header fields, every prefix of every valid block (INCOMPLETE, or in partial mode what
 * a cut block still yields), and the start-of-message sniffers. Every input is a guarded copy
 * ending at an unreadable page, so reading one byte past the block crashes. */
#include "http_parse.h"

#include <stdbool.h>

#include "check.h"

enum { REQ, RESP };

/* One parse of a guarded copy; the head's slices point into the copy until run_free(). */
struct run {
	char *buf;
	size_t n;
	int rc;
	struct http_head h;
};

static int run_parse(struct run *r, const char *s, size_t n, int kind, bool partial)
{
	r->buf = guarded_copy(s, n);
	r->n = n;
	memset(&r->h, 0xa5, sizeof(r->h)); /* the parser must set every field it reports */
	if (kind == REQ)
		r->rc = http_parse_request(r->buf, n, partial, &r->h);
	else
		r->rc = http_parse_response(r->buf, n, partial, &r->h);
	return r->rc;
}

static void run_free(struct run *r)
{
	guarded_free(r->buf, r->n);
}

/* Parses s and throws the result away: for inputs where only the return code matters. */
static int parse_rc(const char *s, size_t n, int kind, bool partial)
{
	struct run r;
	int rc = run_parse(&r, s, n, kind, partial);

	run_free(&r);
	return rc;
}

static bool slice_is(struct http_slice s, const char *lit)
{
	return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

#define CHECK_SLICE(s, lit)                                                                        \
	do {                                                                                       \
		if (!slice_is((s), (lit))) {                                                       \
			fprintf(stderr, "%s:%d: CHECK failed: %s is \"%.*s\", not \"%s\"\n",       \
			        __FILE__, __LINE__, #s, (int)(s).n, (s).p, (lit));                 \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

/* Header fields expected, as name, value pairs ending with NULL. */
#define MAX_FIELDS 8

struct valid_case {
	int kind;
	const char *in;
	const char *method, *target; /* requests */
	unsigned status;             /* responses */
	const char *reason;
	unsigned minor;
	const char *fields[MAX_FIELDS * 2 + 1];
};

static const struct valid_case valid_cases[] = {
        {REQ,
         "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
         "GET",
         "/",
         0,
         NULL,
         1,
         {"Host", "example.com", NULL}},
        {REQ,
         "POST /submit?a=1&b=%20 HTTP/1.0\r\nContent-Length: 3\r\n\r\n",
         "POST",
         "/submit?a=1&b=%20",
         0,
         NULL,
         0,
         {"Content-Length", "3", NULL}},
        {REQ, "PUT /x HTTP/1.1\r\n\r\n", "PUT", "/x", 0, NULL, 1, {NULL}},
        {REQ, "DELETE /x/1 HTTP/1.1\r\n\r\n", "DELETE", "/x/1", 0, NULL, 1, {NULL}},
        {REQ, "HEAD /index.html HTTP/1.1\r\n\r\n", "HEAD", "/index.html", 0, NULL, 1, {NULL}},
        {REQ,
         "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
         "OPTIONS",
         "*",
         0,
         NULL,
         1,
         {"Host", "a", NULL}},
        {REQ, "PATCH /p HTTP/1.1\r\n\r\n", "PATCH", "/p", 0, NULL, 1, {NULL}},
        {REQ, "TRACE / HTTP/1.1\r\n\r\n", "TRACE", "/", 0, NULL, 1, {NULL}},
        {REQ,
         "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
         "CONNECT",
         "example.com:443",
         0,
         NULL,
         1,
         {"Host", "example.com:443", NULL}},
        {REQ,
         "GET http://example.com:8080/a/b?c#d HTTP/1.1\r\n\r\n",
         "GET",
         "http://example.com:8080/a/b?c#d",
         0,
         NULL,
         1,
         {NULL}},
        /* Extension methods: any token. */
        {REQ,
         "PROPFIND /dav HTTP/1.1\r\nDepth: 1\r\n\r\n",
         "PROPFIND",
         "/dav",
         0,
         NULL,
         1,
         {"Depth", "1", NULL}},
        {REQ, "M-SEARCH * HTTP/1.1\r\n\r\n", "M-SEARCH", "*", 0, NULL, 1, {NULL}},
        {REQ,
         "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345 / HTTP/1.1\r\n\r\n",
         "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
         "/",
         0,
         NULL,
         1,
         {NULL}},
        /* Bare LF line endings, and a mix. */
        {REQ,
         "GET /lf HTTP/1.1\nHost: a\nAccept: */*\n\n",
         "GET",
         "/lf",
         0,
         NULL,
         1,
         {"Host", "a", "Accept", "*/*", NULL}},
        {REQ,
         "GET /mix HTTP/1.1\r\nHost: a\nX: b\r\n\n",
         "GET",
         "/mix",
         0,
         NULL,
         1,
         {"Host", "a", "X", "b", NULL}},
        {REQ, "GET / HTTP/1.9\r\n\r\n", "GET", "/", 0, NULL, 9, {NULL}},
        /* OWS around values is trimmed, inner whitespace kept, empty values allowed. */
        {REQ,
         "GET / HTTP/1.1\r\nX-A:   a  b \t\r\nX-B:\r\nX-C: \t \r\nX-D:d\r\n\r\n",
         "GET",
         "/",
         0,
         NULL,
         1,
         {"X-A", "a  b", "X-B", "", "X-C", "", "X-D", "d", NULL}},
        /* obs-fold continuation lines are skipped, the field before them kept. */
        {REQ,
         "GET / HTTP/1.1\r\nX-Long: a\r\n  folded\r\n\tmore\r\nHost: h\r\n\r\n",
         "GET",
         "/",
         0,
         NULL,
         1,
         {"X-Long", "a", "Host", "h", NULL}},
        /* Every tchar in a name; obs-text in a value. */
        {REQ,
         "GET / HTTP/1.1\r\n!#$%&'*+-.^_`|~09azAZ: v\r\nX: caf\xc3\xa9\r\n\r\n",
         "GET",
         "/",
         0,
         NULL,
         1,
         {"!#$%&'*+-.^_`|~09azAZ", "v", "X", "caf\xc3\xa9", NULL}},
        {REQ,
         "GET / HTTP/1.1\r\nX: \"quoted, list\"; q=0.5 (comment)\r\n\r\n",
         "GET",
         "/",
         0,
         NULL,
         1,
         {"X", "\"quoted, list\"; q=0.5 (comment)", NULL}},

        {RESP,
         "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
         NULL,
         NULL,
         200,
         "OK",
         1,
         {"Content-Length", "5", NULL}},
        {RESP, "HTTP/1.0 404 Not Found\r\n\r\n", NULL, NULL, 404, "Not Found", 0, {NULL}},
        {RESP, "HTTP/1.1 100 Continue\r\n\r\n", NULL, NULL, 100, "Continue", 1, {NULL}},
        {RESP, "HTTP/1.1 999 Custom\r\n\r\n", NULL, NULL, 999, "Custom", 1, {NULL}},
        /* Empty reason phrase, with and without the space after the code. */
        {RESP, "HTTP/1.1 204 \r\n\r\n", NULL, NULL, 204, "", 1, {NULL}},
        {RESP, "HTTP/1.1 204\r\n\r\n", NULL, NULL, 204, "", 1, {NULL}},
        {RESP, "HTTP/1.1 200 OK\nServer: x\n\n", NULL, NULL, 200, "OK", 1, {"Server", "x", NULL}},
        /* Reasons may hold spaces, tabs and obs-text. */
        {RESP,
         "HTTP/1.1 500 Internal \tServer Error \xff\r\n\r\n",
         NULL,
         NULL,
         500,
         "Internal \tServer Error \xff",
         1,
         {NULL}},
        {RESP,
         "HTTP/1.1 301 Moved\r\nLocation: http://a/b\r\nSet-Cookie: a=b; Path=/\r\n\r\n",
         NULL,
         NULL,
         301,
         "Moved",
         1,
         {"Location", "http://a/b", "Set-Cookie", "a=b; Path=/", NULL}},
};

static void check_fields(const struct http_head *h, const char *const *fields, const char *in)
{
	uint16_t n = 0;

	while (fields[n * 2])
		n++;
	CHECK_EQ_U64(h->n_headers, n);
	for (uint16_t i = 0; i < n && i < h->n_headers; i++) {
		if (!slice_is(h->headers[i].name, fields[i * 2]) ||
		    !slice_is(h->headers[i].value, fields[i * 2 + 1])) {
			fprintf(stderr, "field %u of %s\n", i, in);
			check_failures++;
		}
	}
	CHECK(!h->headers_dropped);
}

static void check_valid(const struct valid_case *c)
{
	size_t len = strlen(c->in);
	struct run r;

	run_parse(&r, c->in, len, c->kind, false);
	if (r.rc != (int)len)
		fprintf(stderr, "valid case: %s\n", c->in);
	CHECK_EQ_U64(r.rc, len);
	if (r.rc == (int)len) {
		if (c->kind == REQ) {
			CHECK_SLICE(r.h.method, c->method);
			CHECK_SLICE(r.h.target, c->target);
		} else {
			CHECK_EQ_U64(r.h.status, c->status);
			CHECK_SLICE(r.h.reason, c->reason);
		}
		CHECK_EQ_U64(r.h.minor_version, c->minor);
		CHECK(!r.h.start_line_cut);
		check_fields(&r.h, c->fields, c->in);
	}
	run_free(&r);

	/* A body after the block is not read: the count is the block's alone. */
	{
		char buf[512];
		size_t n = (size_t)snprintf(buf, sizeof(buf), "%sBODY\r\n\r\n", c->in);

		CHECK_EQ_U64(parse_rc(buf, n, c->kind, false), len);
		/* Partial mode parses a complete block exactly like the normal mode. */
		CHECK_EQ_U64(parse_rc(buf, n, c->kind, true), len);
	}
}

/* Every proper prefix of a valid block is INCOMPLETE. In partial mode, a prefix ending inside
 * the start line yields a request's method and target prefix (an error for a response, or for a
 * request cut before any target byte); past the start line it yields everything. */
static void check_prefixes(const struct valid_case *c)
{
	size_t len = strlen(c->in);
	size_t sl = (size_t)(strchr(c->in, '\n') - c->in);
	size_t m = c->method ? strlen(c->method) : 0;
	size_t t = c->target ? strlen(c->target) : 0;

	for (size_t k = 0; k < len; k++) {
		struct run r;

		if (parse_rc(c->in, k, c->kind, false) != HTTP_PARSE_INCOMPLETE) {
			fprintf(stderr, "prefix %zu of %s\n", k, c->in);
			check_failures++;
		}
		run_parse(&r, c->in, k, c->kind, true);
		if (k <= sl && (c->kind == RESP || k <= m + 1)) {
			CHECK_EQ_U64(r.rc, HTTP_PARSE_ERROR);
		} else if (k <= sl) {
			size_t got = k - m - 1 < t ? k - m - 1 : t;

			CHECK_EQ_U64(r.rc, k);
			CHECK(r.h.start_line_cut);
			CHECK(slice_is(r.h.method, c->method));
			CHECK(r.h.target.n == got && memcmp(r.h.target.p, c->target, got) == 0);
			CHECK_EQ_U64(r.h.n_headers, 0);
		} else {
			CHECK_EQ_U64(r.rc, k);
			CHECK(!r.h.start_line_cut);
			if (c->kind == REQ)
				CHECK_SLICE(r.h.target, c->target);
			else
				CHECK_EQ_U64(r.h.status, c->status);
		}
		run_free(&r);
	}
}

static void test_valid(void)
{
	for (size_t i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
		check_valid(&valid_cases[i]);
		check_prefixes(&valid_cases[i]);
	}
}

struct bad_case {
	int kind;
	const char *in;
	size_t len; /* 0: strlen(in); set for inputs holding a NUL */
};

static const struct bad_case bad_cases[] = {
        /* Request lines. */
        {REQ, "\r\n\r\n", 0},
        {REQ, " GET / HTTP/1.1\r\n\r\n", 0},
        {REQ, "GET  / HTTP/1.1\r\n\r\n", 0},
        {REQ, "GET /  HTTP/1.1\r\n\r\n", 0},
        {REQ, "GET / HTTP/1.1 \r\n\r\n", 0},
        {REQ, "GET /\tHTTP/1.1\r\n\r\n", 0},
        {REQ, "GET\t/ HTTP/1.1\r\n\r\n", 0},
        {REQ, "GET /\r\n\r\n", 0},
        {REQ, "GET / \r\n\r\n", 0},
        {REQ, "GET\r\n\r\n", 0},
        {REQ, "GET /HTTP/1.1\r\n\r\n", 0},
        {REQ, "GET / HTTP/2.0\r\n\r\n", 0},
        {REQ, "GET / HTTP/1\r\n\r\n", 0},
        {REQ, "GET / HTTP/1.\r\n\r\n", 0},
        {REQ, "GET / HTTP/1.x\r\n\r\n", 0},
        {REQ, "GET / HTTP/1.10\r\n\r\n", 0},
        {REQ, "GET / http/1.1\r\n\r\n", 0},
        {REQ, "GET / HTTPS/1.1\r\n\r\n", 0},
        {REQ, "GET / HTTP/1.1\r\r\n\r\n", 0},
        {REQ, "GE(T / HTTP/1.1\r\n\r\n", 0},
        {REQ, "GET: / HTTP/1.1\r\n\r\n", 0},
        {REQ, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456 / HTTP/1.1\r\n\r\n", 0}, /* 33 bytes */
        {REQ, "GET /a\0b HTTP/1.1\r\n\r\n", 21},
        {REQ, "GET /a\x7f HTTP/1.1\r\n\r\n", 0},
        {REQ, "GET /a\x01 HTTP/1.1\r\n\r\n", 0},
        {REQ, "\0GET / HTTP/1.1\r\n\r\n", 19},
        {REQ, "HTTP/1.1 200 OK\r\n\r\n", 0},
        /* Header fields. */
        {REQ, "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 0},
        {REQ, "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 0},
        {REQ, "GET / HTTP/1.1\r\n: a\r\n\r\n", 0},
        {REQ, "GET / HTTP/1.1\r\nHost a\r\n\r\n", 0},
        {REQ, "GET / HTTP/1.1\r\nHost\r\n\r\n", 0},
        {REQ, "GET / HTTP/1.1\r\nHo st: a\r\n\r\n", 0},
        {REQ, "GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", 0},
        {REQ, "GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n", 0},
        {REQ, "GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", 0},
        {REQ, "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 0},
        {REQ, "GET / HTTP/1.1\r\nX: a\r\r\n\r\n", 0},
        {REQ, "GET / HTTP/1.1\r\nX: \x1b[0m\r\n\r\n", 0},
        {REQ, "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 25},
        {REQ, "GET / HTTP/1.1\r\nX\0: a\r\n\r\n", 25},
        {REQ, "GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", 0},
        /* Status lines. */
        {RESP, "HTTP/1.1 099 Low\r\n\r\n", 0},
        {RESP, "HTTP/1.1 000\r\n\r\n", 0},
        {RESP, "HTTP/1.1 99 OK\r\n\r\n", 0},
        {RESP, "HTTP/1.1 20 OK\r\n\r\n", 0},
        {RESP, "HTTP/1.1 2000 OK\r\n\r\n", 0},
        {RESP, "HTTP/1.1 2x0 OK\r\n\r\n", 0},
        {RESP, "HTTP/1.1 -20 OK\r\n\r\n", 0},
        {RESP, "HTTP/1.1  200 OK\r\n\r\n", 0},
        {RESP, "HTTP/1.1\t200 OK\r\n\r\n", 0},
        {RESP, "HTTP/1.1 200\tOK\r\n\r\n", 0},
        {RESP, "HTTP/1.1 200 O\x01K\r\n\r\n", 0},
        {RESP, "HTTP/1.1 200 OK\x7f\r\n\r\n", 0},
        {RESP, "HTTP/1.1 200 O\0K\r\n\r\n", 20},
        {RESP, "HTTP/1.1\r\n\r\n", 0},
        {RESP, "HTTP/1.1 \r\n\r\n", 0},
        {RESP, "HTTP/2 200 OK\r\n\r\n", 0},
        {RESP, "HTTP/2.0 200 OK\r\n\r\n", 0},
        {RESP, "http/1.1 200 OK\r\n\r\n", 0},
        {RESP, "HTTP/1.a 200 OK\r\n\r\n", 0},
        {RESP, "HTTP/1.11 200 OK\r\n\r\n", 0},
        {RESP, "GET / HTTP/1.1\r\n\r\n", 0},
        {RESP, "HTTP/1.1 200 OK\r\nServer : x\r\n\r\n", 0},
        {RESP, "HTTP/1.1 200 OK\r\nX: \x01\r\n\r\n", 0},
};

/* Bad syntax is an error in both modes, and no prefix of it reads out of bounds. */
static void test_malformed(void)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		size_t len = c->len ? c->len : strlen(c->in);

		if (parse_rc(c->in, len, c->kind, false) != HTTP_PARSE_ERROR) {
			fprintf(stderr, "bad case %zu accepted: %s\n", i, c->in);
			check_failures++;
		}
		CHECK_EQ_U64(parse_rc(c->in, len, c->kind, true), HTTP_PARSE_ERROR);
		for (size_t k = 0; k < len; k++) {
			int rc = parse_rc(c->in, k, c->kind, false);

			CHECK(rc == HTTP_PARSE_ERROR || rc == HTTP_PARSE_INCOMPLETE);
			rc = parse_rc(c->in, k, c->kind, true);
			CHECK(rc == HTTP_PARSE_ERROR || rc == (int)k);
		}
	}
}

enum { CLASS_LEN = 20 };

/* Parses head + v + tail (v CLASS_LEN bytes) whole, and checks it was accepted exactly when ok. */
static void check_verdict(int kind, const char *head, const char *v, const char *tail, bool ok,
                          const char *what, unsigned b, unsigned pos)
{
	char buf[128];
	size_t n = (size_t)snprintf(buf, sizeof(buf), "%s", head);

	memcpy(buf + n, v, CLASS_LEN);
	n += CLASS_LEN;
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", tail);
	if ((parse_rc(buf, n, kind, false) == (int)n) != ok) {
		fprintf(stderr, "%s byte 0x%02x at %u: wrong verdict\n", what, b, pos);
		check_failures++;
	}
}

/* Every byte value at every place of a 20-byte field value, reason phrase and target, so that
 * each one is seen by the parser's eight-byte scan and by its byte-by-byte tail: accepted
 * exactly when its class (RFC 9110 field-vchar, SP and HTAB; visible characters in targets, with
 * obs-text in both) allows it. A reason phrase is trimmed of nothing, so a HTAB or SP at its
 * ends is kept, and a field value's are trimmed as optional whitespace: both accepted. */
static void test_byte_classes(void)
{
	for (unsigned b = 0; b < 256; b++) {
		bool field_ok = b == '\t' || (b >= 0x20 && b != 0x7f);
		bool target_ok = b >= 0x21 && b != 0x7f;

		for (unsigned pos = 0; pos < CLASS_LEN; pos++) {
			char v[CLASS_LEN];

			memset(v, 'a', sizeof(v));
			v[pos] = (char)b;
			check_verdict(REQ, "GET / HTTP/1.1\r\nX: ", v, "\r\n\r\n", field_ok,
			              "field value", b, pos);
			check_verdict(RESP, "HTTP/1.1 200 ", v, "\r\n\r\n", field_ok, "reason", b,
			              pos);
			check_verdict(REQ, "GET /", v, " HTTP/1.1\r\n\r\n", target_ok, "target", b,
			              pos);
		}
	}
}

/* Builds "GET / HTTP/1.1\r\n" with n fields "H<i>: v<i>" and then extra, into buf. */
static size_t many_fields(char *buf, size_t size, unsigned n, const char *extra)
{
	size_t len = (size_t)snprintf(buf, size, "GET / HTTP/1.1\r\n");

	for (unsigned i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, size - len, "H%u: v%u\r\n", i, i);
	len += (size_t)snprintf(buf + len, size - len, "%s\r\n", extra);
	return len;
}

static void test_max_headers(void)
{
	static char buf[8192];
	struct run r;
	size_t len;

	/* Exactly HTTP_MAX_HEADERS fields: all kept. */
	len = many_fields(buf, sizeof(buf), HTTP_MAX_HEADERS, "");
	CHECK_EQ_U64(run_parse(&r, buf, len, REQ, false), len);
	CHECK_EQ_U64(r.h.n_headers, HTTP_MAX_HEADERS);
	CHECK(!r.h.headers_dropped);
	CHECK_SLICE(r.h.headers[HTTP_MAX_HEADERS - 1].name, "H63");
	run_free(&r);

	/* One more: dropped and said so, and the block still parses to its end. */
	len = many_fields(buf, sizeof(buf), HTTP_MAX_HEADERS + 1, "");
	CHECK_EQ_U64(run_parse(&r, buf, len, REQ, false), len);
	CHECK_EQ_U64(r.h.n_headers, HTTP_MAX_HEADERS);
	CHECK(r.h.headers_dropped);
	CHECK_SLICE(r.h.headers[0].name, "H0");
	run_free(&r);

	/* A bad field past the limit is still an error. */
	len = many_fields(buf, sizeof(buf), HTTP_MAX_HEADERS + 5, "Bad : x\r\n");
	CHECK_EQ_U64(parse_rc(buf, len, REQ, false), HTTP_PARSE_ERROR);

	/* The framing fields decide where the body ends: they survive the limit, in order, and
	 * the other fields kept are the first ones. */
	len = many_fields(buf, sizeof(buf), 70,
	                  "Content-Length: 5\r\nX-After: 1\r\nTransfer-Encoding: gzip\r\n"
	                  "Transfer-Encoding: chunked\r\n");
	CHECK_EQ_U64(run_parse(&r, buf, len, REQ, false), len);
	CHECK_EQ_U64(r.h.n_headers, HTTP_MAX_HEADERS);
	CHECK(r.h.headers_dropped);
	CHECK_SLICE(r.h.headers[0].name, "H0");
	CHECK(http_find_header(&r.h, "content-length") != NULL);
	CHECK_SLICE(r.h.headers[HTTP_MAX_HEADERS - 3].name, "Content-Length");
	CHECK_SLICE(r.h.headers[HTTP_MAX_HEADERS - 2].value, "gzip");
	CHECK_SLICE(r.h.headers[HTTP_MAX_HEADERS - 1].value, "chunked");
	CHECK(http_find_header(&r.h, "x-after") == NULL);
	run_free(&r);

	/* More framing fields than fit is not a message to trust. */
	len = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n");
	for (unsigned i = 0; i <= HTTP_MAX_HEADERS; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "Content-Length: 5\r\n");
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, "\r\n");
	CHECK_EQ_U64(parse_rc(buf, len, REQ, false), HTTP_PARSE_ERROR);
}

static void test_partial(void)
{
	static const char req[] = "GET /foo/bar?x=1 HTTP/1.1\r\nHost: a\r\nX-Long-Header: abc";
	static const char resp[] = "HTTP/1.1 200 OK\r\nServer: s\r\nContent-Le";
	struct run r;

	/* The incomplete last line is ignored, complete ones kept. */
	CHECK_EQ_U64(run_parse(&r, req, sizeof(req) - 1, REQ, true), sizeof(req) - 1);
	CHECK(!r.h.start_line_cut);
	CHECK_SLICE(r.h.method, "GET");
	CHECK_SLICE(r.h.target, "/foo/bar?x=1");
	CHECK_EQ_U64(r.h.minor_version, 1);
	CHECK_EQ_U64(r.h.n_headers, 1);
	CHECK_SLICE(r.h.headers[0].name, "Host");
	run_free(&r);
	CHECK_EQ_U64(parse_rc(req, sizeof(req) - 1, REQ, false), HTTP_PARSE_INCOMPLETE);

	CHECK_EQ_U64(run_parse(&r, resp, sizeof(resp) - 1, RESP, true), sizeof(resp) - 1);
	CHECK_EQ_U64(r.h.status, 200);
	CHECK_SLICE(r.h.reason, "OK");
	CHECK_EQ_U64(r.h.n_headers, 1);
	run_free(&r);

	/* A start line cut inside its target keeps the method and the target's prefix. */
	CHECK_EQ_U64(run_parse(&r, "GET /foo/ba", 11, REQ, true), 11);
	CHECK(r.h.start_line_cut);
	CHECK_SLICE(r.h.method, "GET");
	CHECK_SLICE(r.h.target, "/foo/ba");
	CHECK_EQ_U64(r.h.n_headers, 0);
	run_free(&r);
	/* ...or after it, or inside the version: the whole target. */
	CHECK_EQ_U64(run_parse(&r, "PROPFIND /x HTTP/1.", 19, REQ, true), 19);
	CHECK(r.h.start_line_cut);
	CHECK_SLICE(r.h.method, "PROPFIND");
	CHECK_SLICE(r.h.target, "/x");
	run_free(&r);

	/* Nothing of the target, or a bad method: nothing worth reporting. */
	CHECK_EQ_U64(parse_rc("GET ", 4, REQ, true), HTTP_PARSE_ERROR);
	CHECK_EQ_U64(parse_rc("GET", 3, REQ, true), HTTP_PARSE_ERROR);
	CHECK_EQ_U64(parse_rc("", 0, REQ, true), HTTP_PARSE_ERROR);
	CHECK_EQ_U64(parse_rc("G(ET /x", 7, REQ, true), HTTP_PARSE_ERROR);
	CHECK_EQ_U64(parse_rc("GET \x01x", 6, REQ, true), HTTP_PARSE_ERROR);
	/* A cut status line: the status is not trusted. */
	CHECK_EQ_U64(parse_rc("HTTP/1.1 200 O", 14, RESP, true), HTTP_PARSE_ERROR);
	CHECK_EQ_U64(parse_rc("HTTP/1.1 200", 12, RESP, true), HTTP_PARSE_ERROR);
	/* Complete lines are still checked. */
	CHECK_EQ_U64(parse_rc("GET / HTTP/1.1\r\nBad : x\r\nHost", 29, REQ, true),
	             HTTP_PARSE_ERROR);
	CHECK_EQ_U64(parse_rc("GET / HTTP/1.3x\r\nHost", 21, REQ, true), HTTP_PARSE_ERROR);
}

static void test_find_header(void)
{
	static const char in[] = "GET / HTTP/1.1\r\nHost: a\r\nX-Dup: 1\r\nx-dup: 2\r\n\r\n";
	struct run r;
	const struct http_header *hd;

	CHECK_EQ_U64(run_parse(&r, in, sizeof(in) - 1, REQ, false), sizeof(in) - 1);
	hd = http_find_header(&r.h, "host");
	CHECK(hd && slice_is(hd->value, "a"));
	hd = http_find_header(&r.h, "x-dup");
	CHECK(hd && slice_is(hd->value, "1")); /* the first */
	CHECK(http_find_header(&r.h, "hos") == NULL);
	CHECK(http_find_header(&r.h, "hostx") == NULL);
	CHECK(http_find_header(&r.h, "") == NULL);
	run_free(&r);

	CHECK(http_slice_eq((struct http_slice){"CoNtEnT-LeNgTh", 14}, "content-length"));
	CHECK(!http_slice_eq((struct http_slice){"Content-Lengt", 13}, "content-length"));
	CHECK(!http_slice_eq((struct http_slice){"Content-Lengthx", 15}, "content-length"));
	CHECK(http_slice_eq((struct http_slice){"", 0}, ""));
	/* Only ASCII letters fold: '@' is not '`' and '[' is not '{'. */
	CHECK(!http_slice_eq((struct http_slice){"@[", 2}, "`{"));
}

struct sniff_case {
	const char *in;
	bool request, response;
};

static const struct sniff_case sniff_cases[] = {
        {"GET / HTTP/1.1\r\n", true, false},
        {"GET / HT", true, false},
        {"GET /", false, false}, /* too short to tell */
        {"POST /x ", true, false},
        {"PUT /x H", true, false},
        {"HEAD / H", true, false},
        {"DELETE /", true, false},
        {"OPTIONS ", true, false},
        {"CONNECT ", true, false},
        {"PATCH /x", true, false},
        {"TRACE / ", true, false},
        {"get / HTTP/1.1", false, false},
        {"GET\t/ HTTP/1.1", false, false},
        {"GETS / HTTP/1.1", false, false},
        {"PROPFIND / HTTP/1.1", false, false}, /* extension methods need a known stream */
        {"HTTP/1.1 200 OK", false, true},
        {"HTTP/1.0", false, true},
        {"HTTP/1.", false, false},
        {"HTTP/2.0 200", false, false},
        {"http/1.1 200", false, false},
        {"\x16\x03\x01\x02\x00\x01\x00\x01", false, false},
        {"", false, false},
};

static void test_sniff(void)
{
	for (size_t i = 0; i < sizeof(sniff_cases) / sizeof(sniff_cases[0]); i++) {
		const struct sniff_case *c = &sniff_cases[i];
		size_t n = strlen(c->in);
		uint8_t *p = guarded_copy(c->in, n);

		if (http_is_request_start(p, n) != c->request ||
		    http_is_response_start(p, n) != c->response) {
			fprintf(stderr, "sniff: %s\n", c->in);
			check_failures++;
		}
		guarded_free(p, n);
	}
}

int main(void)
{
	test_valid();
	test_malformed();
	test_byte_classes();
	test_max_headers();
	test_partial();
	test_find_header();
	test_sniff();
	return check_report("test_http_parse");
}
