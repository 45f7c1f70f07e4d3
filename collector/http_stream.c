#include "http_stream.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum hs_state {
	HS_IDLE = 0,     /* between messages */
	HS_HEADERS,      /* keeping the header block */
	HS_HEADERS_SKIP, /* past max_header_bytes: scanning for the block's end, keeping nothing */
	HS_BODY_LENGTH,
	HS_CHUNK_SIZE,
	HS_CHUNK_DATA,
	HS_CHUNK_END, /* the CRLF after a chunk's data */
	HS_TRAILERS,
	HS_BODY_EOF,
	HS_TUNNEL,
	HS_RESYNC, /* framing lost: looking for the next message start */
	HS_ENDED,
};

#define HDR_INITIAL   1024
#define LINE_MAX_LEN  8192      /* chunk-size and trailer lines */
#define SKIP_MAX_LEN  (1 << 20) /* a header block this long is not HTTP */
#define START_MAX_LEN 32        /* longest method we accept, with its space */
#define START_PEEK    8         /* bytes that tell whether a message starts (http_is_*_start) */

/* The arguments every step needs, bundled to keep signatures short. */
struct feed {
	struct http_stream *s;
	const struct http_cfg *cfg;
	const struct http_stream_ops *ops;
	void *ctx;
	uint64_t ts;
	/* Room for a message, and whether it holds the current message's head, parsed by this
	 * call: a message that ends in the call that completed its head (a response and its body
	 * in one read) is not parsed again. NULL outside http_stream_data. */
	struct http_msg *msg;
	bool msg_parsed;
};

void http_stream_init(struct http_stream *s, enum http_kind kind)
{
	memset(s, 0, sizeof(*s));
	s->kind = (uint8_t)kind;
}

void http_stream_free(struct http_stream *s)
{
	free(s->hdr);
	s->hdr = NULL;
	s->hdr_len = s->hdr_cap = 0;
}

void http_stream_set_kind(struct http_stream *s, enum http_kind kind)
{
	if (s->kind == HTTP_KIND_UNKNOWN)
		s->kind = (uint8_t)kind;
}

void http_stream_midstream(struct http_stream *s)
{
	if (s->state == HS_IDLE) {
		s->state = HS_RESYNC;
		s->joined = s->pickup = true;
	}
}

bool http_stream_hunting(const struct http_stream *s)
{
	return s->joined;
}

bool http_stream_lost(const struct http_stream *s)
{
	return s->state == HS_RESYNC && s->in_message && s->head_done;
}

static void account(struct feed *f, size_t n)
{
	f->s->wire_bytes += n;
	f->s->ts_end = f->ts;
}

static void line_reset(struct http_stream *s)
{
	s->line_len = 0;
	s->line_n = 0;
}

/* Reads up to and including the next LF, keeping the line's first bytes in s->line. */
static size_t read_line(struct http_stream *s, const uint8_t *p, size_t n, bool *done)
{
	const uint8_t *nl = memchr(p, '\n', n);
	size_t len = nl ? (size_t)(nl - p) : n;
	size_t keep = sizeof(s->line) - s->line_n;

	if (keep > len)
		keep = len;
	memcpy(s->line + s->line_n, p, keep);
	s->line_n += (uint8_t)keep;
	s->line_len += (uint32_t)(len > UINT32_MAX - s->line_len ? UINT32_MAX - s->line_len : len);
	*done = nl != NULL;
	return nl ? len + 1 : n;
}

/* The kept part of the line just read, without its CR. */
static struct http_slice line_text(const struct http_stream *s)
{
	size_t n = s->line_n;

	if (s->line_len == n && n > 0 && s->line[n - 1] == '\r')
		n--;
	return (struct http_slice){s->line, n};
}

static bool line_empty(const struct http_stream *s)
{
	return s->line_len == 0 || (s->line_len == 1 && s->line[0] == '\r');
}

static void begin_message(struct feed *f)
{
	struct http_stream *s = f->s;

	s->in_message = true;
	f->msg_parsed = false;
	s->head_done = s->truncated = s->hdr_cut = false;
	s->skip_length_set = s->skip_chunked = false;
	s->hdr_len = s->scan = 0;
	s->header_bytes = s->body_bytes = s->wire_bytes = 0;
	s->ts_start = s->ts_end = f->ts;
	line_reset(s);
	s->state = HS_HEADERS;
}

static void end_message(struct http_stream *s, enum hs_state next)
{
	http_stream_free(s);
	s->in_message = false;
	s->head_done = false;
	s->state = (uint8_t)next;
}

static int parse_stored(const struct http_stream *s, struct http_head *h)
{
	if (!s->hdr)
		return HTTP_PARSE_ERROR; /* nothing kept: the header buffer could not be allocated
		                          */
	if (s->kind == HTTP_KIND_REQUEST)
		return http_parse_request(s->hdr, s->hdr_len, s->hdr_cut, h);
	return http_parse_response(s->hdr, s->hdr_len, s->hdr_cut, h);
}

/* Everything of the current message but its parsed head. */
static void msg_counts(const struct http_stream *s, struct http_msg *m)
{
	m->kind = s->kind;
	m->body = s->body;
	m->truncated = s->truncated;
	m->content_length = 0;
	m->ts_start = s->ts_start;
	m->ts_end = s->ts_end;
	m->header_bytes = s->header_bytes;
	m->body_bytes = s->body_bytes;
	m->wire_bytes = s->wire_bytes;
	m->raw = s->hdr;
	m->raw_len = s->hdr_len;
	m->raw_partial = s->hdr_cut;
}

static int fill_msg(const struct http_stream *s, struct http_msg *m)
{
	msg_counts(s, m);
	return parse_stored(s, &m->head) < 0 ? -1 : 0;
}

/* Reports the current message and gets ready for the next. */
static void complete(struct feed *f, enum hs_state next)
{
	struct http_stream *s = f->s;
	struct http_stats *st = f->cfg->stats;
	struct http_msg local, *m = &local;
	int rc = 0;

	if (f->msg_parsed) {
		m = f->msg;
		msg_counts(s, m);
	} else if (s->kind == HTTP_KIND_REQUEST && s->head_done) {
		/* A request's message() takes only its counts (its head went to head()): parsing
		 * the same bytes again would only say again that they parse. */
		msg_counts(s, m);
		memset(&m->head, 0, offsetof(struct http_head, headers));
	} else {
		rc = fill_msg(s, m);
	}
	f->msg_parsed = false;
	if (rc == 0) {
		if (s->kind == HTTP_KIND_REQUEST)
			st->requests++;
		else
			st->responses++;
		if (m->truncated)
			st->truncated++;
		f->ops->message(f->ctx, m);
	} else {
		st->parse_errors++;
	}
	end_message(s, next);
}

/* Bad syntax. A message whose head was reported stays open, to be reported truncated when the
 * stream finds its feet again; one that never got that far is dropped. */
static void parse_error(struct feed *f)
{
	struct http_stream *s = f->s;

	f->cfg->stats->parse_errors++;
	f->msg_parsed = false;
	s->line_n = 0; /* resync keeps line_len: whether the error came inside a line */
	if (s->head_done) {
		s->truncated = true;
		s->state = HS_RESYNC;
	} else {
		end_message(s, HS_RESYNC);
	}
}

/* skip_length after a bad Content-Length past the header limit: parse_length() never gives it. */
#define SKIP_LENGTH_BAD UINT64_MAX

static bool parse_length(struct http_slice v, uint64_t *out)
{
	uint64_t n = 0;
	size_t i;

	if (v.n == 0 || v.n > 18)
		return false;
	for (i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return false;
		n = n * 10 + (uint64_t)(v.p[i] - '0');
	}
	*out = n;
	return true;
}

/* Content-Length may repeat ("5, 5", or the header twice) only with one value (RFC 9110 8.6). */
static bool merge_length(struct http_slice v, bool *have, uint64_t *len)
{
	const char *p = v.p, *end = v.p + v.n;

	while (p <= end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma ? comma : end;
		struct http_slice item;
		uint64_t n;

		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		item = (struct http_slice){p, (size_t)(e - p)};
		while (item.n && (item.p[item.n - 1] == ' ' || item.p[item.n - 1] == '\t'))
			item.n--;
		if (!parse_length(item, &n) || (*have && n != *len))
			return false;
		*have = true;
		*len = n;
		if (!comma)
			break;
		p = comma + 1;
	}
	return true;
}

/* Whether the last transfer coding listed is chunked. */
static bool ends_chunked(struct http_slice v)
{
	const char *p = v.p + v.n;

	while (p > v.p && p[-1] != ',')
		p--;
	while (p < v.p + v.n && (*p == ' ' || *p == '\t'))
		p++;
	return http_slice_eq((struct http_slice){p, (size_t)(v.p + v.n - p)}, "chunked");
}

/* RFC 9112 6.3: Transfer-Encoding beats Content-Length; a request without either has no body,
 * a response without either runs to the connection's end. */
static int framing(const struct http_stream *s, const struct http_head *h, enum http_body *body,
                   uint64_t *len)
{
	bool te = s->skip_chunked, chunked = s->skip_chunked, have_len = false;
	bool request = s->kind == HTTP_KIND_REQUEST;

	*len = 0;
	for (uint16_t i = 0; i < h->n_headers; i++) {
		const struct http_header *hd = &h->headers[i];

		if (http_slice_eq(hd->name, "transfer-encoding")) {
			te = true;
			chunked = ends_chunked(hd->value);
		} else if (http_slice_eq(hd->name, "content-length")) {
			if (!merge_length(hd->value, &have_len, len))
				return -1;
		}
	}
	if (s->skip_length_set) {
		/* The fields past the limit must agree with the ones kept. */
		if (s->skip_length == SKIP_LENGTH_BAD || (have_len && *len != s->skip_length))
			return -1;
		have_len = true;
		*len = s->skip_length;
	}
	if (te) {
		if (!chunked && request)
			return -1; /* RFC 9112 6.3: the server would answer 400 */
		*body = chunked ? HTTP_BODY_CHUNKED : HTTP_BODY_EOF;
	} else if (have_len) {
		*body = *len ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
	} else {
		*body = request ? HTTP_BODY_NONE : HTTP_BODY_EOF;
	}
	return 0;
}

/* The header block is in (complete, or as complete as the limit or a gap allowed). */
static void head_complete(struct feed *f)
{
	struct http_stream *s = f->s;
	struct http_msg local, *m = f->msg ? f->msg : &local;
	enum http_body body;
	uint64_t len;

	if (fill_msg(s, m) < 0 || framing(s, &m->head, &body, &len) < 0) {
		parse_error(f);
		return;
	}
	m->body = body;
	m->content_length = len;
	f->ops->head(f->ctx, m);
	s->head_done = true;
	s->body = (uint8_t)m->body;
	f->msg_parsed = m == f->msg;
	switch (m->body) {
	case HTTP_BODY_NONE:
		complete(f, HS_IDLE);
		break;
	case HTTP_BODY_LENGTH:
		s->remaining = m->content_length;
		s->state = HS_BODY_LENGTH;
		break;
	case HTTP_BODY_CHUNKED:
		line_reset(s);
		s->state = HS_CHUNK_SIZE;
		break;
	case HTTP_BODY_EOF:
		s->state = HS_BODY_EOF;
		break;
	case HTTP_BODY_TUNNEL:
		f->cfg->stats->tunnels++;
		complete(f, HS_TUNNEL);
		break;
	}
}

/* 1: the kept bytes start like a message of this stream's kind (deciding the kind if unknown),
 * 0: too few bytes to tell, -1: they do not. Checked early so garbage fails fast instead of
 * filling the header buffer. */
static int check_start(struct http_stream *s)
{
	const uint8_t *b = (const uint8_t *)s->hdr;
	size_t n = s->hdr_len, i;

	switch (s->kind) {
	case HTTP_KIND_UNKNOWN:
		/* Decided by the first START_PEEK bytes alone, whatever else has arrived; a line
		 * shorter than that is no start line. */
		if (memchr(b, '\n', n < START_PEEK ? n : START_PEEK))
			return -1;
		if (n < START_PEEK)
			return 0;
		if (http_is_response_start(b, n))
			s->kind = HTTP_KIND_RESPONSE;
		else if (http_is_request_start(b, n))
			s->kind = HTTP_KIND_REQUEST;
		else
			return -1;
		return 1;
	case HTTP_KIND_RESPONSE:
		return memcmp(b, "HTTP/1.", n < 7 ? n : 7) != 0 ? -1 : n >= 7;
	default:
		/* Any token method, so WebDAV and custom methods pass once the stream is known. */
		for (i = 0; i < n && i < START_MAX_LEN; i++) {
			if (b[i] == ' ')
				return i > 0 ? 1 : -1;
			if (b[i] <= ' ' || b[i] >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", b[i]))
				return -1;
		}
		return i < START_MAX_LEN ? 0 : -1;
	}
}

static bool reserve(struct http_stream *s, uint32_t need, uint32_t max)
{
	uint32_t cap = s->hdr_cap ? s->hdr_cap : HDR_INITIAL;
	char *p;

	if (need <= s->hdr_cap)
		return true;
	while (cap < need)
		cap = cap > max / 2 ? max : cap * 2;
	p = realloc(s->hdr, cap);
	if (!p)
		return false;
	s->hdr = p;
	s->hdr_cap = cap;
	return true;
}

/* Where the header block ends (just past its empty line), or 0 if not yet. Resumes at s->scan
 * so each byte is looked at about once however the block arrives. */
static uint32_t find_end(struct http_stream *s)
{
	const char *b = s->hdr;
	uint32_t i = s->scan, n = s->hdr_len;

	while (i < n) {
		const char *nl = memchr(b + i, '\n', n - i);
		uint32_t k;

		if (!nl)
			break;
		k = (uint32_t)(nl - b);
		if (k + 1 < n && b[k + 1] == '\n')
			return k + 2;
		if (k + 2 < n && b[k + 1] == '\r' && b[k + 2] == '\n')
			return k + 3;
		if (k + 2 >= n) {
			s->scan = k; /* the empty line may still be arriving */
			return 0;
		}
		i = k + 1;
	}
	s->scan = n;
	return 0;
}

/* Starts scanning past the header limit, carrying over the line the limit cut. */
static void start_skip(struct feed *f)
{
	struct http_stream *s = f->s;
	const char *nl = NULL;
	uint32_t from = 0;

	for (uint32_t i = s->hdr_len; i > 0; i--) {
		if (s->hdr[i - 1] == '\n') {
			nl = s->hdr + i - 1;
			break;
		}
	}
	if (nl)
		from = (uint32_t)(nl - s->hdr) + 1;
	line_reset(s);
	s->line_n = (uint8_t)(s->hdr_len - from < sizeof(s->line) ? s->hdr_len - from
	                                                          : sizeof(s->line));
	if (s->line_n)
		memcpy(s->line, s->hdr + from, s->line_n);
	s->line_len = s->hdr_len - from;
	s->hdr_cut = s->truncated = true;
	f->cfg->stats->header_buffer_limit++;
	s->state = HS_HEADERS_SKIP;
}

static size_t on_headers(struct feed *f, const uint8_t *p, size_t n)
{
	struct http_stream *s = f->s;
	uint32_t max = f->cfg->max_header_bytes;
	uint32_t before = s->hdr_len;
	size_t take = n < max - before ? n : max - before;
	uint32_t end;
	int ok;

	if (!reserve(s, before + (uint32_t)take, max)) {
		/* Out of memory: keep what we have and scan the rest, as at the limit. */
		start_skip(f);
		return 0;
	}
	memcpy(s->hdr + before, p, take);
	s->hdr_len += (uint32_t)take;
	ok = before < START_MAX_LEN ? check_start(s) : 1;
	if (ok < 0) {
		/* Give this piece back: the resync scan may find a message start inside it, though
		 * not on this line, which does not start one. The bytes kept before the piece are
		 * discarded with the rest of the line, as if it had come in one piece. */
		s->hdr_len = before;
		f->cfg->stats->discarded_bytes += before;
		parse_error(f);
		s->line_len = 1;
		return 0;
	}
	end = find_end(s);
	if (end) {
		size_t used = end - before;

		s->hdr_len = end;
		s->header_bytes = end;
		account(f, used);
		head_complete(f);
		return used;
	}
	account(f, take);
	s->header_bytes = s->hdr_len;
	if (s->hdr_len == max)
		start_skip(f);
	return take;
}

/* A header line past the limit: only the framing fields still matter. */
static void note_skipped_line(struct http_stream *s)
{
	struct http_slice l = line_text(s);
	const char *colon = memchr(l.p, ':', l.n);
	struct http_slice name, value;

	if (!colon)
		return;
	name = (struct http_slice){l.p, (size_t)(colon - l.p)};
	value = (struct http_slice){colon + 1, l.n - name.n - 1};
	while (value.n && (value.p[0] == ' ' || value.p[0] == '\t')) {
		value.p++;
		value.n--;
	}
	while (value.n && (value.p[value.n - 1] == ' ' || value.p[value.n - 1] == '\t'))
		value.n--;
	if (http_slice_eq(name, "content-length") && s->line_len == s->line_n) {
		/* A bad or conflicting value stays bad: framing() rejects the message, as it
		 * would had the field been kept. */
		if (!merge_length(value, &s->skip_length_set, &s->skip_length)) {
			s->skip_length_set = true;
			s->skip_length = SKIP_LENGTH_BAD;
		}
	} else if (http_slice_eq(name, "transfer-encoding") && s->line_len == s->line_n)
		s->skip_chunked = ends_chunked(value);
}

static size_t on_headers_skip(struct feed *f, const uint8_t *p, size_t n)
{
	struct http_stream *s = f->s;
	size_t i = 0;

	/* Give up on a block that has not ended within SKIP_MAX_LEN bytes: at that byte, however
	 * the block arrives. */
	if (s->header_bytes >= SKIP_MAX_LEN) {
		parse_error(f);
		return 0;
	}
	if (n > SKIP_MAX_LEN - s->header_bytes)
		n = (size_t)(SKIP_MAX_LEN - s->header_bytes);
	while (i < n) {
		bool done;

		i += read_line(s, p + i, n - i, &done);
		if (!done)
			break;
		if (line_empty(s)) {
			line_reset(s);
			s->header_bytes += i;
			account(f, i);
			head_complete(f);
			return i;
		}
		note_skipped_line(s);
		line_reset(s);
	}
	s->header_bytes += i;
	account(f, i);
	return i;
}

/* Counts up to n bytes of a body or chunk of known length (counted, never kept); returns how
 * many belong to it. */
static size_t count_body(struct feed *f, size_t n)
{
	struct http_stream *s = f->s;
	size_t take = n < s->remaining ? n : (size_t)s->remaining;

	s->remaining -= take;
	s->body_bytes += take;
	account(f, take);
	return take;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* chunk-size [ BWS ";" extensions ] */
static bool parse_chunk_size(struct http_slice l, uint64_t *size)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < l.n && i < 16; i++) {
		int d = hex_digit(l.p[i]);

		if (d < 0)
			break;
		v = v << 4 | (uint64_t)d;
	}
	if (i == 0 || i == 16)
		return false;
	while (i < l.n && (l.p[i] == ' ' || l.p[i] == '\t'))
		i++;
	if (i < l.n && l.p[i] != ';')
		return false;
	*size = v;
	return true;
}

/* Chunk-size lines, the CRLF after each chunk and trailer lines are all lines. */
static size_t on_chunk_line(struct feed *f, const uint8_t *p, size_t n)
{
	struct http_stream *s = f->s;
	/* Read no further than the byte that makes a line too long, so that the error comes at
	 * that byte however the line arrives. */
	size_t room = LINE_MAX_LEN + 1 - s->line_len;
	bool done;
	size_t used = read_line(s, p, n < room ? n : room, &done);
	uint64_t size;

	account(f, used);
	if (!done) {
		if (s->line_len > LINE_MAX_LEN)
			parse_error(f);
		return used;
	}
	switch (s->state) {
	case HS_CHUNK_SIZE:
		if (!parse_chunk_size(line_text(s), &size)) {
			parse_error(f);
			break;
		}
		s->remaining = size;
		s->state = size ? HS_CHUNK_DATA : HS_TRAILERS;
		break;
	case HS_CHUNK_END:
		if (!line_empty(s)) {
			parse_error(f);
			break;
		}
		s->state = HS_CHUNK_SIZE;
		break;
	default: /* HS_TRAILERS */
		if (line_empty(s))
			complete(f, HS_IDLE);
		break;
	}
	line_reset(s);
	return used;
}

static bool starts_message(const struct http_stream *s, const uint8_t *p, size_t n)
{
	switch (s->kind) {
	case HTTP_KIND_REQUEST:
		return http_is_request_start(p, n);
	case HTTP_KIND_RESPONSE:
		return http_is_response_start(p, n);
	default:
		return http_is_request_start(p, n) || http_is_response_start(p, n);
	}
}

/* Bytes skipped while looking for a message start: they belong to the lost message, if one is
 * open. */
static void discard(struct feed *f, size_t n)
{
	if (n)
		f->s->pickup = false;
	f->cfg->stats->discarded_bytes += n;
	if (f->s->in_message)
		account(f, n);
}

/* The bytes held at a line start did not begin a message: the rest of their line goes too. */
static void drop_held(struct feed *f)
{
	struct http_stream *s = f->s;

	discard(f, s->line_n);
	s->line_len = s->line_n;
	s->line_n = 0;
}

/* A message starts here: the lost one, if any, ends. A stream joined midstream whose first bytes
 * start a message lost nothing: no resync. With the sock hooks that is every connection, joined at
 * its first byte. */
static void resynced(struct feed *f)
{
	if (!f->s->pickup)
		f->cfg->stats->resyncs++;
	f->s->joined = f->s->pickup = false;
	if (f->s->in_message)
		complete(f, HS_IDLE);
	f->s->state = HS_IDLE;
}

/* Whether a message starts at a line start, from its first START_PEEK bytes: 1 yes, -1 no, 0 too
 * few bytes to tell (and no LF among them). A line shorter than that starts nothing, whatever
 * follows it. */
static int line_starts_message(const struct http_stream *s, const uint8_t *p, size_t n)
{
	size_t k = n < START_PEEK ? n : START_PEEK;

	if (memchr(p, '\n', k))
		return -1;
	if (k < START_PEEK)
		return 0;
	return starts_message(s, p, k) ? 1 : -1;
}

/* The line start held from earlier pieces, completed with p's first bytes: 1 if a message starts
 * there (it has been fed on), 0 if p ran out before that could be told (p is held too), -1 if
 * not. */
static int resolve_held(struct feed *f, const uint8_t *p, size_t n)
{
	struct http_stream *s = f->s;
	uint8_t start[START_PEEK];
	size_t k = s->line_n, more = n < START_PEEK - k ? n : START_PEEK - k;
	int yes;

	memcpy(start, s->line, k);
	memcpy(start + k, p, more);
	yes = line_starts_message(s, start, k + more);
	if (yes > 0) {
		line_reset(s);
		resynced(f);
		http_stream_data(s, f->cfg, f->ops, f->ctx, start, k, f->ts);
	} else if (yes == 0) {
		memcpy(s->line + k, p, n);
		s->line_n = (uint8_t)(k + n);
		s->line_len = s->line_n;
	} else {
		drop_held(f);
	}
	return yes;
}

/* Messages start at the beginning of a line; anything before the next one is discarded. Here
 * line_len is nonzero inside a line, and a line start too short to tell whether a message begins
 * there is held in s->line (line_n bytes) for the next piece: where pieces end must not decide
 * what is found. */
static size_t on_resync(struct feed *f, const uint8_t *p, size_t n)
{
	struct http_stream *s = f->s;
	size_t i = 0;

	if (s->line_n) {
		int held = resolve_held(f, p, n);

		if (held >= 0)
			return held ? 0 : n;
	}
	for (;;) {
		const uint8_t *nl;

		if (s->line_len == 0) {
			int yes = line_starts_message(s, p + i, n - i);

			if (yes > 0)
				break;
			if (yes == 0) {
				discard(f, i);
				memcpy(s->line, p + i, n - i);
				s->line_n = (uint8_t)(n - i);
				s->line_len = s->line_n;
				return n;
			}
		}
		nl = memchr(p + i, '\n', n - i);
		if (!nl) {
			s->line_len = 1;
			i = n;
			break;
		}
		i = (size_t)(nl - p) + 1;
		s->line_len = 0;
		if (i == n)
			break;
	}
	discard(f, i);
	if (i < n)
		resynced(f);
	return i;
}

static size_t on_idle(struct feed *f, const uint8_t *p, size_t n)
{
	size_t i = 0;

	/* RFC 9112 2.2: empty lines before a request are ignored. */
	while (i < n && (p[i] == '\r' || p[i] == '\n'))
		i++;
	if (i < n)
		begin_message(f);
	return i;
}

void http_stream_data(struct http_stream *s, const struct http_cfg *cfg,
                      const struct http_stream_ops *ops, void *ctx, const uint8_t *p, size_t n,
                      uint64_t ts)
{
	struct http_msg msg;
	struct feed f = {s, cfg, ops, ctx, ts, &msg, false};

	while (n > 0) {
		size_t used;

		switch (s->state) {
		case HS_IDLE:
			used = on_idle(&f, p, n);
			break;
		case HS_HEADERS:
			used = on_headers(&f, p, n);
			break;
		case HS_HEADERS_SKIP:
			used = on_headers_skip(&f, p, n);
			break;
		case HS_BODY_LENGTH:
			used = count_body(&f, n);
			if (!s->remaining)
				complete(&f, HS_IDLE);
			break;
		case HS_CHUNK_SIZE:
		case HS_CHUNK_END:
		case HS_TRAILERS:
			used = on_chunk_line(&f, p, n);
			break;
		case HS_CHUNK_DATA:
			used = count_body(&f, n);
			if (!s->remaining)
				s->state = HS_CHUNK_END;
			break;
		case HS_BODY_EOF:
			s->body_bytes += n;
			account(&f, n);
			used = n;
			break;
		case HS_RESYNC:
			used = on_resync(&f, p, n);
			break;
		default: /* HS_TUNNEL, HS_ENDED: not HTTP, or nothing more expected */
			used = n;
			break;
		}
		p += used;
		n -= used;
	}
}

/* A gap inside a header block: report what arrived of the head if it names a request or a
 * status, then wait for the next message start. */
static void gap_in_headers(struct feed *f, size_t n)
{
	struct http_stream *s = f->s;
	struct http_msg m;

	s->hdr_cut = s->truncated = true;
	account(f, n);
	if (s->kind == HTTP_KIND_UNKNOWN || fill_msg(s, &m) < 0) {
		f->cfg->stats->incomplete++;
		end_message(s, HS_RESYNC);
		return;
	}
	m.body = HTTP_BODY_NONE;
	f->ops->head(f->ctx, &m);
	s->head_done = true;
	s->state = HS_RESYNC;
}

void http_stream_gap(struct http_stream *s, const struct http_cfg *cfg,
                     const struct http_stream_ops *ops, void *ctx, size_t n, uint64_t ts)
{
	struct feed f = {s, cfg, ops, ctx, ts, NULL, false};
	size_t take;

	s->pickup = false;
	switch (s->state) {
	case HS_IDLE:
		s->state = HS_RESYNC;
		break;
	case HS_HEADERS:
	case HS_HEADERS_SKIP:
		gap_in_headers(&f, n);
		break;
	case HS_BODY_LENGTH:
		/* Body bytes are counted, not kept: a gap inside the body costs only content. */
		s->truncated = true;
		take = count_body(&f, n);
		if (!s->remaining)
			complete(&f, take < n ? HS_RESYNC : HS_IDLE);
		break;
	case HS_BODY_EOF:
		s->truncated = true;
		s->body_bytes += n;
		account(&f, n);
		break;
	case HS_CHUNK_SIZE:
	case HS_CHUNK_DATA:
	case HS_CHUNK_END:
	case HS_TRAILERS:
		/* The chunk framing is gone with the bytes. */
		s->truncated = true;
		account(&f, n);
		s->state = HS_RESYNC;
		break;
	case HS_RESYNC:
		if (s->line_n)
			drop_held(&f);
		if (s->in_message)
			account(&f, n);
		break;
	default:
		break;
	}
	/* What follows the lost bytes may start a line: resync looks there first. */
	if (s->state == HS_RESYNC)
		line_reset(s);
}

void http_stream_end(struct http_stream *s, const struct http_cfg *cfg,
                     const struct http_stream_ops *ops, void *ctx, bool closed, uint64_t ts)
{
	struct feed f = {s, cfg, ops, ctx, ts, NULL, false};

	switch (s->state) {
	case HS_HEADERS:
	case HS_HEADERS_SKIP:
		cfg->stats->incomplete++;
		break;
	case HS_BODY_EOF:
		s->truncated |= !closed;
		complete(&f, HS_ENDED);
		break;
	case HS_BODY_LENGTH:
	case HS_CHUNK_SIZE:
	case HS_CHUNK_DATA:
	case HS_CHUNK_END:
	case HS_TRAILERS:
		s->truncated = true;
		complete(&f, HS_ENDED);
		break;
	case HS_RESYNC:
		if (s->line_n)
			drop_held(&f);
		if (http_stream_lost(s))
			complete(&f, HS_ENDED);
		break;
	default:
		break;
	}
	end_message(s, HS_ENDED);
}

void http_stream_finish_lost(struct http_stream *s, const struct http_cfg *cfg,
                             const struct http_stream_ops *ops, void *ctx)
{
	struct feed f = {s, cfg, ops, ctx, s->ts_end, NULL, false};

	if (http_stream_lost(s))
		complete(&f, HS_RESYNC);
}
