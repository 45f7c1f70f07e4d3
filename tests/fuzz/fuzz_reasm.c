/* libFuzzer target for TCP reassembly. The first byte picks a mode and how much of the global
 * buffer limit other directions hold; the rest is either
 * - free: segments with arbitrary sequence numbers, flags, lengths and snap cuts, or
 * - replay: an original stream, then a recipe of segments cut from it in any order, duplicated,
 *   overlapping or snap-cut. Every delivered byte must be the original's byte at that stream
 *   offset (gaps keep offsets exact), so without gaps the stream is the original exactly.
 * Both end with reasm_flush and reasm_free, and abort() on any broken invariant. The harness
 * tracks stream offsets (0 = the first byte after the SYN, or the first byte seen) alongside
 * reasm's sequence numbers, predicts from the spec where the FIN must land, and keeps its own
 * copy of which pieces reasm holds, to check the memory reasm says it holds. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "packet.h"
#include "fuzz_input.h"
#include "reasm.h"

#define MAX_OOO      4096
#define BUFFERED_MAX 8192
#define WINDOW       (INT64_C(1) << 30)
/* Each piece costs at least REASM_SEG_COST, so no more can be held within MAX_OOO. */
#define MAX_PIECES (MAX_OOO / REASM_SEG_COST)

/* A piece of sequence space reasm holds, in stream offsets, and how many of its bytes (a prefix)
 * were captured. */
struct piece {
	int64_t lo, hi;
	uint32_t cap;
};

struct fz {
	struct reasm_stats st;
	struct reasm_cfg cfg;
	struct reasm_dir d;
	uint64_t now;
	uint64_t others; /* buffered_bytes held by other (imaginary) directions */
	uint32_t start;  /* sequence number of stream offset 0, once synced */
	uint64_t off;    /* stream offset of the next delivered byte */
	uint64_t bound;  /* the farthest stream offset a segment or FIN reached */
	int64_t fin_off; /* where the FIN must be delivered; -1 before one is accepted */
	uint64_t gaps, gap_bytes, out_of_window;
	unsigned fins;
	bool other_gaps; /* a flush or a snap cut happened: gaps need not be overflows */
	/* Replay mode: the stream every delivered byte must come from, which of its bytes were
	 * given captured, and how many of those are beyond off. */
	const uint8_t *orig;
	size_t orig_len;
	bool *given;
	uint64_t ahead;
	/* What reasm must hold, sorted and non-overlapping like its own list. */
	struct piece pieces[MAX_PIECES];
	size_t npieces;
};

/* Moves the stream on by n bytes, delivered or, for a gap, lost. Without snap cuts and flushes, a
 * gap only ever covers bytes that were never given. */
static void advance(struct fz *f, size_t n, bool gap)
{
	require(n > 0 && f->fins == 0);
	require(!f->orig || f->off + n <= f->orig_len);
	for (size_t i = f->off; f->orig && i < f->off + n; i++) {
		require(!gap || f->other_gaps || !f->given[i]);
		f->ahead -= f->given[i];
	}
	f->off += n;
}

static void on_data(void *ctx, const uint8_t *p, size_t n, uint64_t ts_ns)
{
	struct fz *f = ctx;

	require(ts_ns && ts_ns <= f->now);
	require(!f->orig || (f->off + n <= f->orig_len && !memcmp(p, f->orig + f->off, n)));
	advance(f, n, false);
}

static void on_gap(void *ctx, size_t n, uint64_t ts_ns)
{
	struct fz *f = ctx;

	require(ts_ns && ts_ns <= f->now);
	f->gaps++;
	f->gap_bytes += n;
	advance(f, n, true);
}

static void on_fin(void *ctx, uint64_t ts_ns)
{
	struct fz *f = ctx;

	require(ts_ns == f->now && f->fins++ == 0);
	require((int64_t)f->off == f->fin_off);
}

static const struct reasm_ops ops = {.data = on_data, .gap = on_gap, .fin = on_fin};

static void fz_init(struct fz *f, uint8_t others)
{
	memset(f, 0, sizeof(*f));
	f->fin_off = -1;
	f->others = (uint64_t)others * (BUFFERED_MAX / 128);
	f->st.buffered_bytes = f->others;
	f->st.buffered_max = BUFFERED_MAX;
	f->cfg.max_ooo_bytes = MAX_OOO;
	f->cfg.stats = &f->st;
	reasm_init(&f->d);
}

/* Captured bytes held in the pieces. */
static uint64_t held_cap(const struct fz *f)
{
	uint64_t n = 0;

	for (size_t i = 0; i < f->npieces; i++)
		n += f->pieces[i].cap;
	return n;
}

/* What must hold between any two calls. */
static void fz_check(const struct fz *f)
{
	const struct reasm_dir *d = &f->d;

	require(d->ooo_bytes <= MAX_OOO);
	/* Every piece held is charged its captured bytes and its bookkeeping. */
	require(d->ooo_bytes == (uint64_t)REASM_SEG_COST * f->npieces + held_cap(f));
	require((d->ooo != NULL) == (f->npieces > 0));
	require(f->st.buffered_bytes == f->others + d->ooo_bytes);
	require(f->st.buffered_bytes <= BUFFERED_MAX);
	require(d->ooo || (d->ooo_bytes == 0 && d->ooo_since_ns == 0));
	require(f->st.gaps == f->gaps && f->st.gap_bytes == f->gap_bytes);
	/* Every overflow gives up one hole, and holes otherwise only go on a flush. */
	require(f->st.ooo_overflows <= f->gaps);
	require(f->other_gaps || f->st.ooo_overflows == f->gaps);
	require(f->st.out_of_window == f->out_of_window);
	require((f->fins == 1) == (d->state == REASM_CLOSED));
	require(d->state != REASM_UNSYNCED || (f->off == 0 && !d->ooo));
	if (d->state == REASM_UNSYNCED)
		return;
	/* Delivered data and gaps are exactly the sequence space consumed, and never more than
	 * the segments covered. */
	require((uint32_t)f->off == d->next_seq - f->start);
	require(f->off <= f->bound);
	if (!f->orig)
		return;
	/* Replay mode: bytes given but not delivered yet are all buffered, once each (with snap
	 * cuts, some of them may be held as cut instead). */
	require(held_cap(f) <= f->ahead);
	require(f->other_gaps || held_cap(f) == f->ahead);
}

static void add_piece(struct piece *to, size_t *n, struct piece p)
{
	require(*n < MAX_PIECES);
	to[(*n)++] = p;
}

/* reasm stores the new part of a segment, [lo, hi), as one piece per run of it that no held piece
 * covers; the segment's captured bytes end at cap_end. */
static void store_pieces(struct fz *f, int64_t lo, int64_t hi, int64_t cap_end)
{
	struct piece out[MAX_PIECES];
	size_t n = 0;
	int64_t at = lo;

	for (size_t i = 0; i <= f->npieces; i++) {
		const struct piece *p = i < f->npieces ? &f->pieces[i] : NULL;
		int64_t end = p && p->lo < hi ? p->lo : hi;

		if (at < end) {
			int64_t cap = (cap_end < end ? cap_end : end) - at;

			add_piece(out, &n, (struct piece){at, end, cap > 0 ? (uint32_t)cap : 0});
		}
		if (!p)
			break;
		add_piece(out, &n, *p);
		if (p->hi > at)
			at = p->hi;
	}
	memcpy(f->pieces, out, n * sizeof(*out));
	f->npieces = n;
}

/* Updates the pieces after reasm_segment. Whatever the stream reached was delivered, whole; the
 * FIN, once delivered, drops the rest. What is left of an accepted segment beyond the stream,
 * and before a known FIN, was stored: reasm either buffers a segment or, after giving up holes,
 * delivers it in order (a failed allocation would break this, but segments here are tiny). */
static void track_pieces(struct fz *f, bool accepted, int64_t lo, uint32_t cap, uint32_t wire)
{
	int64_t off = (int64_t)f->off, from = lo > off ? lo : off, to = lo + wire;
	size_t n = 0;

	if (f->fins) {
		f->npieces = 0;
		return;
	}
	for (size_t i = 0; i < f->npieces; i++) {
		if (f->pieces[i].lo > off)
			f->pieces[n++] = f->pieces[i];
		else
			require(f->pieces[i].hi <= off);
	}
	f->npieces = n;
	if (f->fin_off >= 0 && to > f->fin_off)
		to = f->fin_off;
	if (accepted && from < to)
		store_pieces(f, from, to, lo + cap);
}

/* The harness's view of a segment that reasm accepted: what it covers and where its FIN is. */
static void fz_accepted(struct fz *f, int64_t off, int64_t rel, uint32_t cap, uint32_t wire,
                        uint8_t flags)
{
	int64_t end = off + rel + wire;

	if (end > (int64_t)f->bound)
		f->bound = (uint64_t)end;
	/* The first FIN wins; one behind what was delivered already ends the stream there. */
	if ((flags & PKT_TCP_FIN) && f->fin_off < 0)
		f->fin_off = end > off ? end : off;
	for (int64_t i = off + rel; f->orig && i < off + rel + cap; i++) {
		if (i >= off && i < (int64_t)f->orig_len && !f->given[i]) {
			f->given[i] = true;
			f->ahead++;
		}
	}
}

static void fz_segment(struct fz *f, uint32_t seq, const uint8_t *p, uint32_t cap, uint32_t wire,
                       uint8_t flags)
{
	struct reasm_dir *d = &f->d;
	uint32_t first = flags & PKT_TCP_SYN ? seq + 1 : seq;
	enum reasm_state before = d->state;
	/* Predicted from the spec before the call, as the callbacks check against it. */
	bool syncs = before == REASM_UNSYNCED && ((flags & (PKT_TCP_SYN | PKT_TCP_FIN)) || wire);
	int64_t rel = before == REASM_SYNCED ? (int32_t)(first - d->next_seq) : 0;
	bool in_window = rel >= -WINDOW && rel + wire <= WINDOW;
	bool accepted = (before == REASM_SYNCED || syncs) && in_window;
	int64_t lo = (int64_t)f->off + rel;

	if (accepted)
		fz_accepted(f, (int64_t)f->off, rel, cap, wire, flags);
	else if (before == REASM_SYNCED || syncs)
		f->out_of_window++;
	f->other_gaps |= cap < wire;
	reasm_segment(d, &f->cfg, &ops, f, seq, p, cap, wire, flags, ++f->now);
	if (syncs)
		f->start = first;
	track_pieces(f, accepted, lo, cap, wire);
	require((d->state == REASM_UNSYNCED) == (before == REASM_UNSYNCED && !syncs));
	fz_check(f);
}

static void fz_flush(struct fz *f)
{
	f->other_gaps = true;
	reasm_flush(&f->d, &f->cfg, &ops, f, ++f->now);
	require(!f->d.ooo && !f->d.fin_seen && f->d.ooo_bytes == 0);
	require(f->fin_off < 0 || f->fins == 1);
	f->npieces = 0;
	fz_check(f);
}

/* Free mode. Per segment: flags (PKT_TCP_* in the low bits; 0x20: flush first; 0x40: absolute
 * sequence number; 0x80: large snap cut), then a signed 16-bit offset from the base (or a 32-bit
 * sequence number), captured length, cut length, and the captured bytes. */
static void run_free(struct fz *f, struct reader *r)
{
	uint32_t base = rd(r, 4);

	while (r->n) {
		uint8_t flags = (uint8_t)rd(r, 1);
		uint32_t seq = flags & 0x40 ? rd(r, 4) : base + (uint32_t)(int16_t)rd(r, 2);
		uint32_t cap = rd(r, 1);
		uint32_t cut = rd(r, 1) << (flags & 0x80 ? 8 : 0);

		if (cap > r->n)
			cap = (uint32_t)r->n;
		if (flags & 0x20)
			fz_flush(f);
		fz_segment(f, seq, r->p, cap, cap + cut, flags & 0x1f);
		r->p += cap;
		r->n -= cap;
	}
	fz_flush(f);
}

/* Replay mode: ISN, original length and bytes, then per segment: start offset, length, options
 * (1: snap-cut to half, 2: FIN if it ends the stream, 4: flush first). The SYN comes first. */
static void run_replay(struct fz *f, struct reader *r)
{
	uint32_t isn = rd(r, 4);
	size_t len = rd(r, 2);

	if (len > r->n)
		len = r->n;
	f->orig = r->p;
	f->orig_len = len;
	f->given = calloc(len ? len : 1, sizeof(*f->given));
	require(f->given != NULL);
	r->p += len;
	r->n -= len;
	fz_segment(f, isn, NULL, 0, 0, PKT_TCP_SYN);
	while (r->n) {
		uint32_t at = len ? rd(r, 2) % len : 0;
		uint32_t n = rd(r, 1), opts = rd(r, 1);
		bool fin = (opts & 2) && at + n >= len;

		if (n > len - at)
			n = (uint32_t)(len - at);
		if (opts & 4)
			fz_flush(f);
		fz_segment(f, isn + 1 + at, f->orig + at, opts & 1 ? n / 2 : n, n,
		           fin ? PKT_TCP_FIN | PKT_TCP_ACK : PKT_TCP_ACK);
	}
	fz_flush(f);
	/* With the FIN known, the flush fills every hole up to it. */
	require(f->fin_off < 0 || (f->fins == 1 && f->off == len));
	free(f->given);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = {data, size};
	uint8_t mode = (uint8_t)rd(&r, 1);
	struct fz f;

	fz_init(&f, mode >> 1);
	if (mode & 1)
		run_replay(&f, &r);
	else
		run_free(&f, &r);
	reasm_free(&f.d, &f.cfg);
	require(f.st.buffered_bytes == f.others);
	return 0;
}
