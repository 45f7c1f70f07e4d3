/* HTTP/1.x start line and header fields, parsed in place (picohttpparser-style): results are
 * slices of the caller's buffer, nothing is allocated, and the caller owns all state. The framer
 * (http_stream.h) finds where a header block ends; this file only reads one. */
#ifndef L7_HTTP_PARSE_H
#define L7_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HTTP_MAX_HEADERS 64

struct http_slice {
	const char *p;
	size_t n;
};

struct http_header {
	struct http_slice name;
	struct http_slice value; /* without surrounding whitespace */
};

struct http_head {
	struct http_slice method; /* requests */
	struct http_slice target; /* requests: as sent, possibly cut short (partial) */
	struct http_slice reason; /* responses */
	uint16_t status;          /* responses: 100..999 */
	uint8_t minor_version;    /* HTTP/1.<minor>; meaningless when start_line_cut */
	bool start_line_cut;      /* partial parse: the start line ended before its version */
	bool headers_dropped;     /* more header fields than HTTP_MAX_HEADERS */
	uint16_t n_headers;
	struct http_header headers[HTTP_MAX_HEADERS];
};

enum {
	HTTP_PARSE_ERROR = -1,
	HTTP_PARSE_INCOMPLETE = -2,
};

/* Parses buf[0..len) from the start line through the empty line that ends the header block.
 * Returns the bytes consumed (the empty line included), HTTP_PARSE_INCOMPLETE if the empty line
 * has not arrived, or HTTP_PARSE_ERROR on bad syntax. Lines may end in CRLF or a bare LF.
 *
 * partial: the block was cut short by a capture limit. Complete lines are parsed as usual, the
 * incomplete last line is ignored, except a start line cut inside its target, which keeps the
 * method and the target's prefix (start_line_cut). Returns len instead of INCOMPLETE. */
int http_parse_request(const char *buf, size_t len, bool partial, struct http_head *h);
int http_parse_response(const char *buf, size_t len, bool partial, struct http_head *h);

/* The first header with this name (ASCII case-insensitive), or NULL. */
const struct http_header *http_find_header(const struct http_head *h, const char *name);

/* True when p[0..n) begins like an HTTP/1.x message: one of the standard request methods followed
 * by a space, or "HTTP/1.". Used to decide that a TCP stream carries HTTP and to find the next
 * message after lost bytes; needs at least 8 bytes to say yes. */
bool http_is_request_start(const uint8_t *p, size_t n);
bool http_is_response_start(const uint8_t *p, size_t n);

/* Case-insensitive comparison of a slice with a NUL-terminated lower-case literal. Inline, so
 * that a literal's length is a constant: most comparisons (every field name against the framing
 * names while parsing, each lookup by name while encoding) end at the length. */
static inline bool http_slice_eq(struct http_slice s, const char *lower)
{
	if (s.n != strlen(lower))
		return false;
	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];

		if ((c >= 'A' && c <= 'Z' ? (char)(c + 32) : c) != lower[i])
			return false;
	}
	return true;
}

#endif
