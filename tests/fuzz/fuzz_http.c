/* libFuzzer target for HTTP/1.x sessions (http_session.h, and through it the framer and the
 * parser). Input format:
 *
 *   byte 0      max_header_bytes = 64 + byte * 1984 / 255 (64..2048)
 *   byte 1      bits 0-2: max_pending - 1 (1..8); bit 3: the final close is a real end (closed);
 *               bit 7: differential mode (below)
 *   then operations until the input runs out, each one byte: op = bits 0-2, d = bit 3 (the
 *   direction), x = bits 4-7:
 *     op 0-2    data on d: a length byte L, then L + 1 payload bytes (fewer if the input ends),
 *               fed in pieces of x bytes (x == 0: in one piece)
 *     op 3      the same payload fed r times, a piece each time, r = 2^(x / 2) (up to 128) or,
 *               for x == 15, 4096: lines and header blocks past the framer's limits (8 KiB
 *               lines, 1 MiB blocks) from small inputs, the costly ones rarely
 *     op 4      gap on d of (next byte + 1) << (x & 7) bytes
 *     op 5      FIN on d
 *     op 6      expire at now + next byte * response_timeout / 16
 *     op 7      close (closed = d); nothing after it is read, in either mode
 *   Every operation advances the clock by 1 us; the run ends with a close (closed from byte 1)
 *   unless an op 7 came first.
 *
 * Invariants, checked with abort(): every report has a request; ts_end >= ts_start; byte counts
 * do not exceed what was fed to the direction (data and gaps), bodies not their messages; no
 * report without a response has response bytes; nothing is reported after close, and close
 * leaves nothing behind (LeakSanitizer checks the heap); reports = exchanges + no_response.
 *
 * Differential mode: only the data operations count. The bytes for direction 0 are fed first, in
 * the operations' pieces, then those for direction 1; then the same two streams again in one
 * piece each, into a fresh session. Both runs must report the same exchanges (a digest of every
 * report field, the request's header fields included) and end with the same counters: where
 * pieces end must not matter. The first run reuses answered requests' storage (http_spares), the
 * second allocates each anew, so that reuse must not matter either. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "http_session.h"

#define TIMEOUT_NS UINT64_C(30000000000)
#define STEP_NS    UINT64_C(1000)

struct fz {
	struct http_stats st;
	struct http_cfg cfg;
	struct http_spares spares;
	struct http_session s;
	struct http_session_env env;
	uint64_t fed[2]; /* bytes given to each direction, data and gaps */
	uint64_t now;
	uint64_t reports;
	uint64_t digest;
	bool closed;
};

static void mix(uint64_t *h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		*h = (*h ^ b[i]) * UINT64_C(1099511628211);
}

static void mix_u64(uint64_t *h, uint64_t v)
{
	mix(h, &v, sizeof(v));
}

static void mix_slice(uint64_t *h, struct http_slice s)
{
	mix_u64(h, s.n);
	mix(h, s.p, s.n);
}

static void emit(void *ctx, const struct http_report *r)
{
	struct fz *f = ctx;
	int c = r->client_dir;

	require(!f->closed);
	require(r->req != NULL);
	require(c == 0 || c == 1);
	require(r->ts_end >= r->ts_start);
	require(r->req_bytes <= f->fed[c] && r->resp_bytes <= f->fed[!c]);
	require(r->req_body_bytes <= r->req_bytes && r->resp_body_bytes <= r->resp_bytes);
	require(r->resp || (r->resp_bytes == 0 && r->resp_body_bytes == 0));
	f->reports++;

	mix_u64(&f->digest, (uint64_t)c);
	mix_slice(&f->digest, r->req->method);
	mix_slice(&f->digest, r->req->target);
	mix_u64(&f->digest, r->req->start_line_cut);
	mix_u64(&f->digest, r->req->n_headers);
	/* A request's head is kept parsed while it waits, its slices moved to its own copy: read
	 * them all. */
	for (uint16_t i = 0; i < r->req->n_headers; i++) {
		mix_slice(&f->digest, r->req->headers[i].name);
		mix_slice(&f->digest, r->req->headers[i].value);
	}
	if (r->resp) {
		mix_u64(&f->digest, r->resp->status);
		mix_slice(&f->digest, r->resp->reason);
		mix_u64(&f->digest, r->resp->n_headers);
	}
	mix_u64(&f->digest, r->ts_start);
	mix_u64(&f->digest, r->ts_end);
	mix_u64(&f->digest, r->req_bytes);
	mix_u64(&f->digest, r->req_body_bytes);
	mix_u64(&f->digest, r->resp_bytes);
	mix_u64(&f->digest, r->resp_body_bytes);
	mix_u64(&f->digest, r->truncated);
}

/* recycle: answered requests' storage is reused (http_spares), as the tables do. */
static void fz_init(struct fz *f, uint32_t max_header_bytes, uint32_t max_pending, bool recycle)
{
	memset(f, 0, sizeof(*f));
	f->cfg = (struct http_cfg){
	        .max_header_bytes = max_header_bytes,
	        .max_pending = max_pending,
	        .response_timeout_ns = TIMEOUT_NS,
	        .stats = &f->st,
	        .spares = recycle ? &f->spares : NULL,
	};
	f->env = (struct http_session_env){&f->cfg, emit, f};
	f->digest = UINT64_C(14695981039346656037);
	http_session_init(&f->s);
}

/* Each piece in a buffer of its own size, so that reading past it is caught. */
static void give(struct fz *f, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
	uint8_t *copy = malloc(n);

	require(copy != NULL);
	memcpy(copy, p, n);
	f->fed[dir] += n;
	http_session_data(&f->s, &f->env, dir, copy, n, ts);
	free(copy);
}

static void give_pieces(struct fz *f, int dir, const uint8_t *p, size_t n, size_t piece,
                        uint64_t ts)
{
	for (size_t off = 0; off < n;) {
		size_t k = piece && piece < n - off ? piece : n - off;

		give(f, dir, p + off, k, ts);
		off += k;
	}
}

static void fz_close(struct fz *f, bool closed)
{
	http_session_close(&f->s, &f->env, closed, f->now);
	f->closed = true;
	/* Nothing is left behind: no waiting request, no header buffer. */
	require(f->s.oldest == NULL && f->s.newest == NULL && f->s.n_pending == 0);
	require(f->s.dir[0].hdr == NULL && f->s.dir[1].hdr == NULL);
	require(f->reports == f->st.exchanges + f->st.no_response);
	require(f->reports <= f->st.requests && f->st.exchanges <= f->st.responses);
	http_spares_free(&f->spares);
}

/* One data operation: its direction, piece size, payload and how many times it is fed. */
struct data_op {
	int dir;
	size_t piece;
	const uint8_t *p;
	size_t n;
	size_t repeat;
};

enum next { NEXT_END, NEXT_CLOSE, NEXT_OP };

/* Reads the next operation: NEXT_END at the end of the input, NEXT_CLOSE for op 7 (d->dir is
 * closed), else NEXT_OP. Data operations are returned in *d for the caller to feed; the others
 * are applied at once, unless only_data. */
static enum next next_op(struct fz *f, struct reader *r, bool only_data, struct data_op *d)
{
	unsigned b, op, x, v;
	int dir;

	if (r->n == 0)
		return NEXT_END;
	b = rd(r, 1);
	op = b & 7;
	dir = (b >> 3) & 1;
	x = b >> 4;
	f->now += STEP_NS;
	*d = (struct data_op){dir, x, NULL, 0, 1};
	switch (op) {
	case 4:
		v = rd(r, 1);
		if (!only_data) {
			size_t n = (size_t)(v + 1) << (x & 7);

			f->fed[dir] += n;
			http_session_gap(&f->s, &f->env, dir, n, f->now);
		}
		break;
	case 5:
		if (!only_data)
			http_session_fin(&f->s, &f->env, dir, f->now);
		break;
	case 6:
		v = rd(r, 1);
		if (!only_data) {
			f->now += v * (TIMEOUT_NS / 16);
			http_session_expire(&f->s, &f->env, f->now);
		}
		break;
	case 7:
		return NEXT_CLOSE;
	default:
		if (op == 3)
			*d = (struct data_op){dir, 0, NULL, 0, (size_t)1 << (x < 15 ? x / 2 : 12)};
		v = rd(r, 1) + 1;
		d->p = r->p;
		d->n = v < r->n ? v : r->n;
		r->p += d->n;
		r->n -= d->n;
		break;
	}
	return NEXT_OP;
}

static void run_ops(struct reader r, uint32_t max_header, uint32_t max_pending, bool closed)
{
	static struct fz f;
	struct data_op d;
	enum next next;

	fz_init(&f, max_header, max_pending, true);
	while ((next = next_op(&f, &r, false, &d)) == NEXT_OP)
		for (size_t i = 0; i < d.repeat && d.n; i++)
			give_pieces(&f, d.dir, d.p, d.n, d.piece, f.now);
	fz_close(&f, next == NEXT_CLOSE ? d.dir : closed);
}

/* Feeds the data operations' bytes direction 0 first, then direction 1; whole: each direction
 * in one piece (gathered into buf), else in the operations' pieces. */
static void run_data(struct fz *f, struct reader r, bool whole, uint8_t *buf)
{
	for (int dir = 0; dir < 2; dir++) {
		struct reader ops = r;
		struct data_op d;
		size_t len = 0;

		while (next_op(f, &ops, true, &d) == NEXT_OP) {
			for (size_t i = 0; i < d.repeat && d.n && d.dir == dir; i++) {
				if (whole) {
					memcpy(buf + len, d.p, d.n);
					len += d.n;
				} else {
					give_pieces(f, dir, d.p, d.n, d.piece, (uint64_t)dir + 1);
				}
			}
		}
		if (whole && len)
			give(f, dir, buf, len, (uint64_t)dir + 1);
	}
	f->now = 3;
}

/* The most data operations can feed one direction: the size of the whole layout's buffer. */
static size_t data_size(struct reader r)
{
	static struct fz scratch;
	struct data_op d;
	size_t n = 0;

	while (next_op(&scratch, &r, true, &d) == NEXT_OP)
		n += d.n * d.repeat;
	return n;
}

static void run_differential(struct reader r, uint32_t max_header, uint32_t max_pending,
                             bool closed)
{
	static struct fz cut, whole;
	uint8_t *buf = malloc(data_size(r) + 1);

	require(buf != NULL);
	fz_init(&cut, max_header, max_pending, true);
	run_data(&cut, r, false, buf);
	fz_close(&cut, closed);
	fz_init(&whole, max_header, max_pending, false);
	run_data(&whole, r, true, buf);
	fz_close(&whole, closed);
	free(buf);
	require(cut.reports == whole.reports && cut.digest == whole.digest);
	require(memcmp(&cut.st, &whole.st, sizeof(cut.st)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = {data, size};
	uint32_t max_header = 64 + rd(&r, 1) * 1984 / 255;
	unsigned flags = rd(&r, 1);
	uint32_t max_pending = (flags & 7) + 1;
	bool closed = flags & 8;

	if (flags & 0x80)
		run_differential(r, max_header, max_pending, closed);
	else
		run_ops(r, max_header, max_pending, closed);
	return 0;
}
