#include "http_parse.h"

#include <string.h>

#include "swar.h"

/* Character classes, one table lookup per byte: the predicates as functions, with strchr for
 * tchar's punctuation, were a fifth of parsing time (tests/bench/overhead.py --perf). */
enum {
	C_TCHAR = 1,  /* RFC 9110 tchar: methods and header names */
	C_FIELD = 2,  /* field values and reason phrases: no control characters but HTAB;
	               * bytes >= 0x80 are obs-text, accepted as servers do */
	C_TARGET = 4, /* request targets: visible characters */
};

#define VISIBLE_NON_TCHAR (C_FIELD | C_TARGET)
#define VISIBLE_TCHAR     (C_TCHAR | C_FIELD | C_TARGET)

/* Visible ASCII in ranges, tchar or not (the non-tchar are "(),/:;<=>?@[\]{}). */
static const uint8_t char_class[256] = {
        ['\t'] = C_FIELD,
        [' '] = C_FIELD,
        ['!'] = VISIBLE_TCHAR,
        ['"'] = VISIBLE_NON_TCHAR,
        ['#' ... '\''] = VISIBLE_TCHAR,
        ['(' ... ')'] = VISIBLE_NON_TCHAR,
        ['*' ... '+'] = VISIBLE_TCHAR,
        [','] = VISIBLE_NON_TCHAR,
        ['-' ... '.'] = VISIBLE_TCHAR,
        ['/'] = VISIBLE_NON_TCHAR,
        ['0' ... '9'] = VISIBLE_TCHAR,
        [':' ... '@'] = VISIBLE_NON_TCHAR,
        ['A' ... 'Z'] = VISIBLE_TCHAR,
        ['[' ... ']'] = VISIBLE_NON_TCHAR,
        ['^' ... 'z'] = VISIBLE_TCHAR,
        ['{'] = VISIBLE_NON_TCHAR,
        ['|'] = VISIBLE_TCHAR,
        ['}'] = VISIBLE_NON_TCHAR,
        ['~'] = VISIBLE_TCHAR,
        [0x80 ... 0xff] = VISIBLE_NON_TCHAR,
};

/* One line of buf[*pos..len): sets *line to it without its CRLF or LF and moves *pos past the
 * terminator. False when no LF is left. */
static bool next_line(const char *buf, size_t len, size_t *pos, struct http_slice *line)
{
	const char *start = buf + *pos;
	const char *nl = memchr(start, '\n', len - *pos);

	if (!nl)
		return false;
	line->p = start;
	line->n = (size_t)(nl - start);
	if (line->n > 0 && start[line->n - 1] == '\r')
		line->n--;
	*pos = (size_t)(nl - buf) + 1;
	return true;
}

/* Length of the prefix of p whose bytes are all in class c. Field values and targets, most of a
 * header block, take every byte from 0x20 (values) or 0x21 (targets) up but DEL: they are
 * scanned eight bytes at a time while no byte falls outside that, then byte by byte against the
 * table, which also admits a value's HTAB. A lookup per byte was most of parsing time in the
 * nginx benchmark's profile. */
static size_t span(const char *p, size_t n, uint8_t c)
{
	size_t i = 0;

	if (c != C_TCHAR) {
		uint8_t lo = c == C_FIELD ? 0x20 : 0x21;

		while (n - i >= sizeof(uint64_t)) {
			uint64_t v = swar_load(p + i);

			if (swar_less(v, lo) | swar_byte(v, 0x7f))
				break;
			i += sizeof(v);
		}
	}
	while (i < n && (char_class[(unsigned char)p[i]] & c))
		i++;
	return i;
}

/* "HTTP/1.x": sets the minor version. */
static bool parse_version(const char *p, size_t n, uint8_t *minor)
{
	if (n != 8 || memcmp(p, "HTTP/1.", 7) != 0 || p[7] < '0' || p[7] > '9')
		return false;
	*minor = (uint8_t)(p[7] - '0');
	return true;
}

/* method SP request-target SP HTTP-version. With cut, the line ended early (capture limit):
 * keep the method and whatever part of the target arrived. */
static int parse_request_line(struct http_slice l, bool cut, struct http_head *h)
{
	size_t m = span(l.p, l.n, C_TCHAR);
	size_t t;

	if (m == 0 || m > 32 || m == l.n || l.p[m] != ' ')
		return HTTP_PARSE_ERROR;
	h->method = (struct http_slice){l.p, m};
	t = span(l.p + m + 1, l.n - m - 1, C_TARGET);
	h->target = (struct http_slice){l.p + m + 1, t};
	if (t == 0)
		return HTTP_PARSE_ERROR;
	if (cut) {
		h->start_line_cut = true;
		return 0;
	}
	if (m + 1 + t == l.n || l.p[m + 1 + t] != ' ')
		return HTTP_PARSE_ERROR;
	if (!parse_version(l.p + m + 2 + t, l.n - m - 2 - t, &h->minor_version))
		return HTTP_PARSE_ERROR;
	return 0;
}

/* HTTP-version SP 3DIGIT [SP reason-phrase]. Some servers omit the space after the code when
 * the reason is empty; accept that. */
static int parse_status_line(struct http_slice l, struct http_head *h)
{
	const char *p = l.p;
	size_t i;

	if (l.n < 12 || !parse_version(p, 8, &h->minor_version) || p[8] != ' ')
		return HTTP_PARSE_ERROR;
	for (i = 9; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return HTTP_PARSE_ERROR;
	h->status = (uint16_t)((p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0'));
	if (h->status < 100)
		return HTTP_PARSE_ERROR;
	if (l.n == 12) {
		h->reason = (struct http_slice){p + 12, 0};
		return 0;
	}
	if (p[12] != ' ' || span(p + 13, l.n - 13, C_FIELD) != l.n - 13)
		return HTTP_PARSE_ERROR;
	h->reason = (struct http_slice){p + 13, l.n - 13};
	return 0;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_framing(struct http_slice name)
{
	return http_slice_eq(name, "content-length") || http_slice_eq(name, "transfer-encoding");
}

/* Past HTTP_MAX_HEADERS a framing field takes the place of the last other field kept: the framer
 * must see every one of them, or a Content-Length hidden behind 64 fields would go unnoticed and
 * its body be read as the next message. False when every kept field is a framing field. */
static bool make_room(struct http_head *h)
{
	uint16_t i = h->n_headers;

	while (i > 0 && is_framing(h->headers[i - 1].name))
		i--;
	if (i == 0)
		return false;
	memmove(&h->headers[i - 1], &h->headers[i],
	        (size_t)(h->n_headers - i) * sizeof(h->headers[0]));
	h->n_headers--;
	return true;
}

/* name ":" OWS value OWS. Whitespace before the colon is an error (RFC 9112 5.1: it has been used
 * for request smuggling). */
static int parse_header_line(struct http_slice l, struct http_head *h)
{
	size_t n = span(l.p, l.n, C_TCHAR);
	const char *v, *end = l.p + l.n;

	if (n == 0 || n == l.n || l.p[n] != ':')
		return HTTP_PARSE_ERROR;
	v = l.p + n + 1;
	while (v < end && is_ows(*v))
		v++;
	while (end > v && is_ows(end[-1]))
		end--;
	if (span(v, (size_t)(end - v), C_FIELD) != (size_t)(end - v))
		return HTTP_PARSE_ERROR;
	if (h->n_headers == HTTP_MAX_HEADERS) {
		h->headers_dropped = true;
		if (!is_framing((struct http_slice){l.p, n}))
			return 0;
		if (!make_room(h))
			return HTTP_PARSE_ERROR; /* 64 framing fields: not a message to trust */
	}
	h->headers[h->n_headers++] = (struct http_header){
	        .name = {l.p, n},
	        .value = {v, (size_t)(end - v)},
	};
	return 0;
}

static int parse_head(const char *buf, size_t len, bool partial, bool request, struct http_head *h)
{
	struct http_slice line;
	size_t pos = 0;
	int rc;

	memset(h, 0, offsetof(struct http_head, headers));
	if (!next_line(buf, len, &pos, &line)) {
		if (!partial)
			return HTTP_PARSE_INCOMPLETE;
		/* The start line itself was cut: only a request's method and target prefix are
		 * worth reporting. */
		if (!request || parse_request_line((struct http_slice){buf, len}, true, h) != 0)
			return HTTP_PARSE_ERROR;
		return (int)len;
	}
	rc = request ? parse_request_line(line, false, h) : parse_status_line(line, h);
	if (rc != 0)
		return HTTP_PARSE_ERROR;
	for (;;) {
		if (!next_line(buf, len, &pos, &line))
			return partial ? (int)len : HTTP_PARSE_INCOMPLETE;
		if (line.n == 0)
			return (int)pos;
		/* obs-fold continuation lines are deprecated (RFC 9112 5.2); skip them rather
		 * than fail the whole message. */
		if (is_ows(line.p[0]))
			continue;
		if (parse_header_line(line, h) != 0)
			return HTTP_PARSE_ERROR;
	}
}

int http_parse_request(const char *buf, size_t len, bool partial, struct http_head *h)
{
	return parse_head(buf, len, partial, true, h);
}

int http_parse_response(const char *buf, size_t len, bool partial, struct http_head *h)
{
	return parse_head(buf, len, partial, false, h);
}

const struct http_header *http_find_header(const struct http_head *h, const char *name)
{
	for (uint16_t i = 0; i < h->n_headers; i++)
		if (http_slice_eq(h->headers[i].name, name))
			return &h->headers[i];
	return NULL;
}

static bool starts_with(const uint8_t *p, size_t n, const char *lit)
{
	size_t k = strlen(lit);

	return n >= k && memcmp(p, lit, k) == 0;
}

bool http_is_request_start(const uint8_t *p, size_t n)
{
	static const char *const methods[] = {"GET ",     "POST ",    "PUT ",   "HEAD ", "DELETE ",
	                                      "OPTIONS ", "CONNECT ", "PATCH ", "TRACE "};

	if (n < 8)
		return false;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (starts_with(p, n, methods[i]))
			return true;
	return false;
}

bool http_is_response_start(const uint8_t *p, size_t n)
{
	return n >= 8 && starts_with(p, n, "HTTP/1.");
}
