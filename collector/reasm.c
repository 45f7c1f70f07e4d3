/* TCP reassembly for one direction of one connection (see reasm.h).
 *
 * Invariants between calls, for a SYNCED direction:
 * - every buffered segment starts strictly after next_seq, and the list is sorted and
 *   non-overlapping, so the first segment bounds the oldest hole;
 * - ooo_bytes is the memory held (seg_cost of each buffered segment), and is included in
 *   stats->buffered_bytes;
 * - with fin_seen, next_seq is before fin_seq (reaching it closes the direction at once);
 * - every sequence number in play is within REASM_WINDOW of next_seq, so the signed 32-bit
 *   differences used for ordering cannot wrap. */
#include "reasm.h"

#include <stdlib.h>
#include <string.h>

#include "packet.h"

/* A segment farther than this from next_seq is garbage or from another incarnation of the
 * connection, not a reordering: real TCP windows are far smaller. */
#define REASM_WINDOW (INT64_C(1) << 30)

struct reasm_seg {
	struct reasm_seg *next;
	uint64_t ts_ns; /* arrival: the timestamp its bytes and its cut part are delivered with */
	uint32_t seq;
	uint32_t wire; /* sequence space covered */
	uint32_t cap;  /* data[0..cap) were captured; the rest of wire was cut by the snap length */
	uint8_t data[];
};

/* A run of sequence space being worked on: cap captured bytes at p, then wire - cap cut ones. p
 * borrows from the caller's packet or from a buffered segment, which must outlive the span. */
struct span {
	uint32_t seq;
	uint32_t cap;
	uint32_t wire;
	const uint8_t *p;
	uint64_t ts_ns;
};

/* The arguments of one public call, passed around together. */
struct reasm_run {
	struct reasm_dir *d;
	const struct reasm_cfg *cfg;
	const struct reasm_ops *ops;
	void *ctx;
	uint64_t ts_ns;
};

static int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static bool seq_before(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) < 0;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static uint32_t span_end(const struct span *s)
{
	return s->seq + s->wire;
}

/* Drops the first n <= wire sequence numbers. */
static void span_skip(struct span *s, uint32_t n)
{
	uint32_t c = min_u32(n, s->cap);

	s->seq += n;
	s->wire -= n;
	s->cap -= c;
	if (c) /* p may be NULL when nothing was captured; even NULL + 0 is undefined */
		s->p += c;
}

/* Keeps only the first n <= wire sequence numbers. */
static void span_truncate(struct span *s, uint32_t n)
{
	s->wire = n;
	s->cap = min_u32(s->cap, n);
}

static struct span seg_span(const struct reasm_seg *g)
{
	return (struct span){
	        .seq = g->seq, .cap = g->cap, .wire = g->wire, .p = g->data, .ts_ns = g->ts_ns};
}

static uint32_t seg_end(const struct reasm_seg *g)
{
	return g->seq + g->wire;
}

/* The oldest arrival among what is still buffered (0 when nothing is), which is what a caller's
 * timeout on a hole has to measure. */
static void refresh_ooo_since(struct reasm_dir *d)
{
	d->ooo_since_ns = d->ooo ? d->ooo->ts_ns : 0;
	for (const struct reasm_seg *g = d->ooo; g; g = g->next)
		if (g->ts_ns < d->ooo_since_ns)
			d->ooo_since_ns = g->ts_ns;
}

/* What a buffered segment is charged against the limits: its bytes and its bookkeeping, so that
 * a flood of tiny segments cannot hold more memory than the limits say. */
static uint32_t seg_cost(uint32_t cap)
{
	return cap + REASM_SEG_COST;
}

_Static_assert(sizeof(struct reasm_seg) + 16 <= REASM_SEG_COST,
               "REASM_SEG_COST must cover a segment's header and malloc's own");

static void seg_link(struct reasm_dir *d, struct reasm_stats *st, struct reasm_seg **link,
                     struct reasm_seg *g)
{
	if (!d->ooo || g->ts_ns < d->ooo_since_ns)
		d->ooo_since_ns = g->ts_ns;
	g->next = *link;
	*link = g;
	d->ooo_bytes += seg_cost(g->cap);
	st->buffered_bytes += seg_cost(g->cap);
}

/* Unlinks the first buffered segment; the caller owns it and frees it. ooo_since_ns is left for
 * the caller to refresh once it is done removing. */
static struct reasm_seg *seg_pop(struct reasm_dir *d, struct reasm_stats *st)
{
	struct reasm_seg *g = d->ooo;

	d->ooo = g->next;
	d->ooo_bytes -= seg_cost(g->cap);
	st->buffered_bytes -= seg_cost(g->cap);
	return g;
}

/* Frees everything buffered; returns the sequence space it covered. */
static uint64_t drop_buffered(struct reasm_dir *d, struct reasm_stats *st)
{
	uint64_t wire = 0;

	while (d->ooo) {
		struct reasm_seg *g = seg_pop(d, st);

		wire += g->wire;
		free(g);
	}
	refresh_ooo_since(d);
	return wire;
}

/* Drops the part of s the stream has already gone past. */
static void trim_delivered(struct reasm_run *r, struct span *s)
{
	int32_t behind = seq_diff(r->d->next_seq, s->seq);
	uint32_t n;

	if (behind <= 0)
		return;
	n = min_u32((uint32_t)behind, s->wire);
	r->cfg->stats->retransmitted += n;
	span_skip(s, n);
}

/* Drops the part of s at or beyond a FIN that is known but not reached yet. */
static void clip_after_fin(struct reasm_run *r, struct span *s)
{
	int32_t room = seq_diff(r->d->fin_seq, s->seq);
	uint32_t keep;

	if (!r->d->fin_seen)
		return;
	keep = room > 0 ? min_u32((uint32_t)room, s->wire) : 0;
	r->cfg->stats->after_fin += s->wire - keep;
	span_truncate(s, keep);
}

static void emit_gap(struct reasm_run *r, uint32_t n, uint64_t ts_ns)
{
	r->cfg->stats->gaps++;
	r->cfg->stats->gap_bytes += n;
	r->d->next_seq += n;
	r->ops->gap(r->ctx, n, ts_ns);
}

/* Delivers s, which starts at next_seq: its captured bytes, then the part the snap length cut. */
static void emit(struct reasm_run *r, struct span s)
{
	clip_after_fin(r, &s);
	if (s.cap) {
		r->d->next_seq += s.cap;
		r->ops->data(r->ctx, s.p, s.cap, s.ts_ns);
	}
	if (s.wire > s.cap)
		emit_gap(r, s.wire - s.cap, s.ts_ns);
}

/* Delivers the buffered segments that next_seq has reached. A segment that an in-order one
 * overlapped loses the overlap: what was delivered stays delivered. */
static void drain(struct reasm_run *r)
{
	struct reasm_dir *d = r->d;
	bool removed = false;

	while (d->ooo && !seq_before(d->next_seq, d->ooo->seq)) {
		struct reasm_seg *g = seg_pop(d, r->cfg->stats);
		struct span s = seg_span(g);

		trim_delivered(r, &s);
		emit(r, s);
		free(g); /* only now: s.p points into it */
		removed = true;
	}
	if (removed)
		refresh_ooo_since(d);
}

/* Stops waiting for the bytes before seq: they become a gap, and what follows is delivered. */
static void skip_to(struct reasm_run *r, uint32_t seq)
{
	uint32_t n = seq - r->d->next_seq;

	if (n)
		emit_gap(r, n, r->ts_ns);
	drain(r);
}

/* Delivers the FIN once the stream has reached it. Whatever is still buffered then lies beyond
 * the FIN, and is dropped. */
static bool reach_fin(struct reasm_run *r)
{
	struct reasm_dir *d = r->d;

	if (!d->fin_seen || seq_before(d->next_seq, d->fin_seq))
		return false;
	d->fin_seen = false;
	d->state = REASM_CLOSED;
	r->cfg->stats->after_fin += drop_buffered(d, r->cfg->stats);
	r->ops->fin(r->ctx, r->ts_ns);
	return true;
}

/* Finds the next part of s that falls in a hole of the buffer, searching from *link on. Bytes the
 * buffer already holds are skipped (first arrival wins) and added to *dup. Returns the link the
 * part goes in front of, with the part in *piece (a prefix of s, which is left starting with it),
 * or NULL when nothing of s is left. */
static struct reasm_seg **next_piece(struct reasm_seg **link, struct span *s, struct span *piece,
                                     uint64_t *dup)
{
	struct reasm_seg *g;

	for (; (g = *link) && s->wire; link = &g->next) {
		int32_t overlap = seq_diff(seg_end(g), s->seq);

		if (seq_before(s->seq, g->seq))
			break;
		if (overlap > 0) {
			uint32_t n = min_u32((uint32_t)overlap, s->wire);

			*dup += n;
			span_skip(s, n);
		}
	}
	if (!s->wire)
		return NULL;
	*piece = *s;
	if (g)
		span_truncate(piece, min_u32(s->wire, g->seq - s->seq));
	return link;
}

/* Memory that buffering s would add (seg_cost of each piece it would store). */
static uint64_t novel_bytes(struct reasm_dir *d, struct span s)
{
	struct reasm_seg **link = &d->ooo;
	struct span piece;
	uint64_t dup = 0, n = 0;

	while ((link = next_piece(link, &s, &piece, &dup))) {
		n += seg_cost(piece.cap);
		span_skip(&s, piece.wire);
	}
	return n;
}

static bool fits(const struct reasm_run *r, uint64_t n)
{
	const struct reasm_stats *st = r->cfg->stats;

	return r->d->ooo_bytes + n <= r->cfg->max_ooo_bytes &&
	       st->buffered_bytes + n <= st->buffered_max;
}

static struct reasm_seg *seg_new(const struct span *s)
{
	struct reasm_seg *g = malloc(sizeof(*g) + s->cap);

	if (!g)
		return NULL;
	g->seq = s->seq;
	g->wire = s->wire;
	g->cap = s->cap;
	g->ts_ns = s->ts_ns;
	if (s->cap)
		memcpy(g->data, s->p, s->cap);
	return g;
}

/* Copies the parts of s that are not buffered yet into the buffer, one segment per hole they
 * fill. Returns false if an allocation failed: s is then left with what was not stored. */
static bool buffer(struct reasm_run *r, struct span *s)
{
	struct reasm_stats *st = r->cfg->stats;
	struct reasm_seg **link = &r->d->ooo;
	struct span piece;
	bool stored = false, ok = true;

	while ((link = next_piece(link, s, &piece, &st->retransmitted))) {
		struct reasm_seg *g = seg_new(&piece);

		if (!g) {
			ok = false;
			break;
		}
		seg_link(r->d, st, link, g);
		link = &g->next;
		span_skip(s, piece.wire);
		stored = true;
	}
	if (stored)
		st->out_of_order++;
	return ok;
}

/* Gives up on the oldest hole, which ends where s or the first buffered segment starts. */
static void give_up_hole(struct reasm_run *r, const struct span *s)
{
	const struct reasm_seg *g = r->d->ooo;

	r->cfg->stats->ooo_overflows++;
	skip_to(r, g && seq_before(g->seq, s->seq) ? g->seq : s->seq);
}

/* s starts at or after next_seq, and within the FIN if one is known. In order, it is delivered
 * straight from the caller's memory; ahead, it is buffered, giving up on holes until it fits. */
static void place(struct reasm_run *r, struct span s)
{
	for (;;) {
		if (s.seq == r->d->next_seq) {
			emit(r, s);
			drain(r);
			return;
		}
		if (fits(r, novel_bytes(r->d, s)) && buffer(r, &s))
			return;
		give_up_hole(r, &s);
		/* What the hole revealed may have covered part of s, or all of it. */
		trim_delivered(r, &s);
		if (!s.wire)
			return;
	}
}

static bool in_window(const struct reasm_dir *d, const struct span *s)
{
	int64_t start = seq_diff(s->seq, d->next_seq);

	return start >= -REASM_WINDOW && start + s->wire <= REASM_WINDOW;
}

void reasm_init(struct reasm_dir *d)
{
	memset(d, 0, sizeof(*d));
}

void reasm_segment(struct reasm_dir *d, const struct reasm_cfg *cfg, const struct reasm_ops *ops,
                   void *ctx, uint32_t seq, const uint8_t *payload, uint32_t cap, uint32_t wire_len,
                   uint8_t flags, uint64_t ts_ns)
{
	struct reasm_run r = {.d = d, .cfg = cfg, .ops = ops, .ctx = ctx, .ts_ns = ts_ns};
	/* wire_len >= cap is the contract; a violation must not read more than was captured, nor
	 * turn into a gap of nearly 2^32 bytes. */
	struct span s = {.seq = seq,
	                 .cap = min_u32(cap, wire_len),
	                 .wire = wire_len,
	                 .p = payload,
	                 .ts_ns = ts_ns};

	if (wire_len)
		cfg->stats->segments++;
	if (d->state == REASM_CLOSED) {
		cfg->stats->after_fin += wire_len;
		return;
	}
	if (flags & PKT_TCP_SYN)
		s.seq++; /* the SYN itself takes a sequence number; its payload follows */
	if (d->state == REASM_UNSYNCED) {
		/* A SYN or FIN tells exactly where the stream is, and so does payload. A bare ACK
		 * does not: a keepalive carries the sequence number before the next byte. */
		if (!(flags & (PKT_TCP_SYN | PKT_TCP_FIN)) && !wire_len)
			return;
		d->next_seq = s.seq;
		d->state = REASM_SYNCED;
	}
	if (!in_window(d, &s)) {
		cfg->stats->out_of_window++;
		return;
	}
	/* The first FIN wins, like the first copy of any byte. */
	if ((flags & PKT_TCP_FIN) && !d->fin_seen) {
		d->fin_seen = true;
		d->fin_seq = span_end(&s);
	}
	trim_delivered(&r, &s);
	clip_after_fin(&r, &s);
	if (s.wire)
		place(&r, s);
	reach_fin(&r);
}

void reasm_flush(struct reasm_dir *d, const struct reasm_cfg *cfg, const struct reasm_ops *ops,
                 void *ctx, uint64_t ts_ns)
{
	struct reasm_run r = {.d = d, .cfg = cfg, .ops = ops, .ctx = ctx, .ts_ns = ts_ns};

	if (d->state != REASM_SYNCED)
		return;
	/* Each round delivers at least the first buffered segment, or reaches the FIN. */
	while (d->ooo || d->fin_seen) {
		uint32_t to = d->ooo ? d->ooo->seq : d->fin_seq;

		if (d->fin_seen && seq_before(d->fin_seq, to))
			to = d->fin_seq;
		skip_to(&r, to);
		if (reach_fin(&r))
			return;
	}
}

void reasm_free(struct reasm_dir *d, const struct reasm_cfg *cfg)
{
	drop_buffered(d, cfg->stats);
}
