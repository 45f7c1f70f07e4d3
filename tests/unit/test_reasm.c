/* TCP reassembly: segments go in, and the callbacks are recorded as one string (data bytes,
 * "[gap N]", "[fin]") that is compared with the expected stream. Every payload is a guarded copy,
 * so reading past the captured bytes crashes. */
#include "reasm.h"

#include <stdbool.h>

#include "check.h"
#include "packet.h"

#define MAX_TS  64
#define BIG_RUN (1 << 16) /* longer data runs are recorded as "[data N]", to save memory */

/* Under ASan, allocations over 1 MiB fail (return NULL) instead of aborting, so that a large
 * out-of-order segment really hits the allocation failure path. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#endif
#ifdef HAVE_ASAN
const char *__asan_default_options(void);

const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1:max_allocation_size_mb=1";
}
#endif

struct rec {
	char *buf;
	size_t len, size;
	unsigned fins;
	bool late; /* a callback came after the FIN */
	const uint8_t *last_data;
	uint64_t ts[MAX_TS]; /* timestamps of the first callbacks, in order */
	size_t nts;
};

static void rec_put(struct rec *r, const void *p, size_t n)
{
	if (r->len + n + 1 > r->size) {
		r->size = (r->len + n + 1) * 2;
		r->buf = realloc(r->buf, r->size);
		if (!r->buf)
			abort();
	}
	memcpy(r->buf + r->len, p, n);
	r->len += n;
	r->buf[r->len] = '\0';
}

static void rec_event(struct rec *r, uint64_t ts_ns)
{
	if (r->fins)
		r->late = true;
	if (r->nts < MAX_TS)
		r->ts[r->nts++] = ts_ns;
}

static void on_data(void *ctx, const uint8_t *p, size_t n, uint64_t ts_ns)
{
	struct rec *r = ctx;

	CHECK(n > 0);
	rec_event(r, ts_ns);
	r->last_data = p;
	if (n > BIG_RUN) {
		char m[32];
		int k = snprintf(m, sizeof(m), "[data %zu]", n);

		rec_put(r, m, (size_t)k);
	} else {
		rec_put(r, p, n);
	}
}

static void on_gap(void *ctx, size_t n, uint64_t ts_ns)
{
	struct rec *r = ctx;
	char m[32];
	int k = snprintf(m, sizeof(m), "[gap %zu]", n);

	CHECK(n > 0);
	rec_event(r, ts_ns);
	rec_put(r, m, (size_t)k);
}

static void on_fin(void *ctx, uint64_t ts_ns)
{
	struct rec *r = ctx;

	rec_event(r, ts_ns);
	r->fins++;
	rec_put(r, "[fin]", 5);
}

static const struct reasm_ops ops = {.data = on_data, .gap = on_gap, .fin = on_fin};

/* One direction, its own stats, and what it delivered. Timestamps count calls from 1. */
struct harness {
	struct reasm_stats st;
	struct reasm_cfg cfg;
	struct reasm_dir d;
	struct rec rec;
	uint64_t now;
};

static void h_init(struct harness *h, uint32_t max_ooo, uint64_t buffered_max)
{
	memset(h, 0, sizeof(*h));
	h->st.buffered_max = buffered_max;
	h->cfg.max_ooo_bytes = max_ooo;
	h->cfg.stats = &h->st;
	reasm_init(&h->d);
}

static void h_seg(struct harness *h, uint32_t seq, const char *data, uint32_t cap, uint32_t wire,
                  uint8_t flags)
{
	void *p = guarded_copy(data, cap);

	reasm_segment(&h->d, &h->cfg, &ops, &h->rec, seq, p, cap, wire, flags, ++h->now);
	guarded_free(p, cap);
}

static void h_str(struct harness *h, uint32_t seq, const char *s, uint8_t flags)
{
	h_seg(h, seq, s, (uint32_t)strlen(s), (uint32_t)strlen(s), flags);
}

static void h_flush(struct harness *h)
{
	reasm_flush(&h->d, &h->cfg, &ops, &h->rec, ++h->now);
}

static const char *h_out(const struct harness *h)
{
	return h->rec.buf ? h->rec.buf : "";
}

/* Frees the direction and checks what must hold at the end of every test. */
static void h_done(struct harness *h)
{
	reasm_free(&h->d, &h->cfg);
	CHECK(h->d.ooo == NULL);
	CHECK_EQ_U64(h->d.ooo_bytes, 0);
	CHECK_EQ_U64(h->st.buffered_bytes, 0);
	CHECK(!h->rec.late);
	CHECK(h->rec.fins <= 1);
	free(h->rec.buf);
}

static void test_in_order(void)
{
	struct harness h;

	h_init(&h, 1 << 16, 1 << 20);
	h_str(&h, 100, "GET / ", 0);
	h_str(&h, 106, "HTTP/1.1", 0);
	h_str(&h, 114, "\r\n", PKT_TCP_FIN | PKT_TCP_ACK);
	CHECK_STR(h_out(&h), "GET / HTTP/1.1\r\n[fin]");
	CHECK_EQ_U64(h.st.segments, 3);
	CHECK_EQ_U64(h.st.gaps, 0);
	CHECK_EQ_U64(h.st.out_of_order, 0);
	CHECK_EQ_U64(h.st.retransmitted, 0);
	CHECK_EQ_U64(h.d.state, REASM_CLOSED);
	h_done(&h);
}

/* In-order bytes are handed over where the caller has them, not copied. */
static void test_zero_copy(void)
{
	static const uint8_t pkt[] = "payload";
	struct harness h;

	h_init(&h, 1 << 16, 1 << 20);
	reasm_segment(&h.d, &h.cfg, &ops, &h.rec, 1, pkt, 7, 7, 0, 1);
	CHECK(h.rec.last_data == pkt);
	h_done(&h);
}

static void test_reversed(void)
{
	struct harness h;

	h_init(&h, 1 << 16, 1 << 20);
	h_seg(&h, 999, "", 0, 0, PKT_TCP_SYN);
	h_str(&h, 1009, "jkl", 0);
	h_str(&h, 1006, "ghi", 0);
	h_str(&h, 1003, "def", 0);
	CHECK_STR(h_out(&h), "");
	CHECK_EQ_U64(h.st.out_of_order, 3);
	CHECK_EQ_U64(h.d.ooo_bytes, 3 * REASM_SEG_COST + 9);
	CHECK_EQ_U64(h.st.buffered_bytes, 3 * REASM_SEG_COST + 9);
	CHECK_EQ_U64(h.d.ooo_since_ns, 2);
	h_str(&h, 1000, "abc", 0);
	CHECK_STR(h_out(&h), "abcdefghijkl");
	CHECK_EQ_U64(h.d.next_seq, 1012);
	CHECK_EQ_U64(h.st.buffered_bytes, 0);
	CHECK_EQ_U64(h.d.ooo_since_ns, 0);
	/* Buffered bytes are delivered with the time they arrived. */
	CHECK_EQ_U64(h.rec.nts, 4);
	CHECK_EQ_U64(h.rec.ts[0], 5);
	CHECK_EQ_U64(h.rec.ts[1], 4);
	CHECK_EQ_U64(h.rec.ts[3], 2);
	h_done(&h);
}

/* A new segment only fills the holes between buffered ones: first arrival wins. */
static void test_buffer_overlaps(void)
{
	struct harness h;

	h_init(&h, 1 << 16, 1 << 20);
	h_seg(&h, 0, "", 0, 0, PKT_TCP_SYN);
	h_str(&h, 10, "cdef", 0);
	h_str(&h, 13, "fgh", 0);
	/* "gh" is stored as a segment of its own, charged its own bookkeeping. */
	CHECK_EQ_U64(h.d.ooo_bytes, 2 * REASM_SEG_COST + 6);
	CHECK_EQ_U64(h.st.retransmitted, 1);
	h_str(&h, 8, "abcdefghij", 0);
	/* Its two new parts, "ab" and "ij", are two more segments. */
	CHECK_EQ_U64(h.d.ooo_bytes, 4 * REASM_SEG_COST + 10);
	CHECK_EQ_U64(h.st.retransmitted, 7);
	CHECK_EQ_U64(h.st.out_of_order, 3);
	h_str(&h, 1, "1234567", 0);
	CHECK_STR(h_out(&h), "1234567abcdefghij");
	h_done(&h);
}

/* ooo_since_ns is the oldest arrival among what is still buffered, whatever the order of the
 * sequence numbers and of the timestamps (merged captures can go back in time). */
static void test_ooo_since(void)
{
	struct harness h;

	h_init(&h, 1 << 16, 1 << 20);
	h_seg(&h, 0, "", 0, 0, PKT_TCP_SYN);
	h.now = 100;
	h_str(&h, 30, "zz", 0);
	h.now = 50;
	h_str(&h, 10, "xx", 0);
	CHECK_EQ_U64(h.d.ooo_since_ns, 51);
	h.now = 200;
	h_str(&h, 20, "yy", 0);
	CHECK_EQ_U64(h.d.ooo_since_ns, 51);
	h_str(&h, 1, "123456789", 0);
	CHECK_STR(h_out(&h), "123456789xx");
	CHECK_EQ_U64(h.d.ooo_since_ns, 101);
	h_done(&h);
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint32_t rng_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(rng_next(s) % n);
}

struct test_seg {
	uint32_t off, len;
};

/* Cuts msg[0..len) into segments, then adds exact duplicates and retransmissions that overlap
 * segment boundaries; returns how many there are, shuffled. */
static size_t make_segments(uint64_t *rng, uint32_t len, struct test_seg *segs, size_t max)
{
	size_t n = 0;

	for (uint32_t off = 0; off < len && n < max;) {
		uint32_t l = 1 + rng_below(rng, 100);

		if (l > len - off)
			l = len - off;
		segs[n++] = (struct test_seg){off, l};
		off += l;
	}
	for (size_t dups = rng_below(rng, 20), i = 0; i < dups && n < max; i++) {
		struct test_seg dup = segs[rng_below(rng, (uint32_t)n)];

		segs[n++] = dup;
	}
	for (size_t overlaps = rng_below(rng, 20), i = 0; i < overlaps && n < max; i++) {
		uint32_t off = rng_below(rng, len);

		segs[n++] = (struct test_seg){off, 1 + rng_below(rng, len - off)};
	}
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = rng_below(rng, (uint32_t)i + 1);
		struct test_seg t = segs[i];

		segs[i] = segs[j];
		segs[j] = t;
	}
	return n;
}

static void test_permutations(void)
{
	enum { LEN = 1500, MAX_SEGS = 1000 };
	static struct test_seg segs[MAX_SEGS];
	char msg[LEN + 1], want[LEN + 8];
	uint64_t rng = 0x9e3779b97f4a7c15u;

	for (int i = 0; i < LEN; i++)
		msg[i] = (char)('a' + rng_below(&rng, 26));
	msg[LEN] = '\0';
	snprintf(want, sizeof(want), "%s[fin]", msg);
	for (int round = 0; round < 300; round++) {
		/* Every fourth round starts just before the sequence numbers wrap. */
		uint32_t isn =
		        round % 4 ? (uint32_t)rng_next(&rng) : UINT32_MAX - rng_below(&rng, LEN);
		size_t n = make_segments(&rng, LEN, segs, MAX_SEGS);
		struct harness h;

		uint64_t fed = 0;

		h_init(&h, 1 << 20, 1 << 20);
		h_seg(&h, isn, "", 0, 0, PKT_TCP_SYN);
		for (size_t i = 0; i < n; i++) {
			bool last = segs[i].off + segs[i].len == LEN;

			h_seg(&h, isn + 1 + segs[i].off, msg + segs[i].off, segs[i].len,
			      segs[i].len, last ? PKT_TCP_FIN : 0);
			fed += segs[i].len;
		}
		CHECK_STR(h_out(&h), want);
		CHECK_EQ_U64(h.st.gaps, 0);
		CHECK_EQ_U64(h.rec.fins, 1);
		CHECK_EQ_U64(h.d.state, REASM_CLOSED);
		CHECK_EQ_U64(h.st.buffered_bytes, 0);
		/* Every byte is delivered once; the copies arriving after the FIN count as late. */
		CHECK_EQ_U64(fed, LEN + h.st.retransmitted + h.st.after_fin);
		h_done(&h);
	}
}

static void test_syn(void)
{
	struct harness h;

	h_init(&h, 1 << 16, 1 << 20);
	h_seg(&h, 1000, "", 0, 0, PKT_TCP_SYN);
	CHECK_EQ_U64(h.d.state, REASM_SYNCED);
	CHECK_EQ_U64(h.d.next_seq, 1001);
	h_str(&h, 1006, "world", 0);
	h_seg(&h, 1000, "", 0, 0, PKT_TCP_SYN); /* retransmitted SYN: nothing new */
	h_str(&h, 1001, "hello", 0);
	CHECK_STR(h_out(&h), "helloworld");
	CHECK_EQ_U64(h.st.segments, 2);
	CHECK_EQ_U64(h.st.retransmitted, 0);
	h_done(&h);

	/* A SYN with data (TCP Fast Open): the data follows the SYN's sequence number. */
	h_init(&h, 1 << 16, 1 << 20);
	h_str(&h, 5000, "hi", PKT_TCP_SYN);
	CHECK_EQ_U64(h.d.next_seq, 5003);
	h_str(&h, 5003, "!", 0);
	h_str(&h, 5000, "hi", PKT_TCP_SYN);
	CHECK_STR(h_out(&h), "hi!");
	CHECK_EQ_U64(h.st.retransmitted, 2);
	h_done(&h);
}

static void test_midstream(void)
{
	struct harness h;

	h_init(&h, 1 << 16, 1 << 20);
	/* A bare ACK does not place the stream (a keepalive is one byte behind it). */
	h_seg(&h, 6000, "", 0, 0, PKT_TCP_ACK);
	CHECK_EQ_U64(h.d.state, REASM_UNSYNCED);
	h_str(&h, 7000, "middle", 0);
	CHECK_EQ_U64(h.d.state, REASM_SYNCED);
	h_str(&h, 6990, "0123456789", 0);
	h_str(&h, 7003, "dle more", 0);
	CHECK_STR(h_out(&h), "middle more");
	CHECK_EQ_U64(h.st.retransmitted, 13);
	CHECK_EQ_U64(h.st.segments, 3);
	h_done(&h);

	/* A FIN seen first places the stream at its end. */
	h_init(&h, 1 << 16, 1 << 20);
	h_seg(&h, 500, "", 0, 0, PKT_TCP_FIN | PKT_TCP_ACK);
	CHECK_STR(h_out(&h), "[fin]");
	CHECK_EQ_U64(h.d.state, REASM_CLOSED);
	h_done(&h);
}

static void test_wraparound(void)
{
	struct harness h;

	h_init(&h, 1 << 16, 1 << 20);
	h_seg(&h, 0xfffffff8u, "", 0, 0, PKT_TCP_SYN);
	h_str(&h, 8, "DDDDD", PKT_TCP_FIN);
	h_str(&h, 3, "CCCCC", 0);
	h_str(&h, 0xfffffffeu, "BBBBB", 0); /* crosses 2^32 */
	h_str(&h, 0xfffffffbu, "AAAB", 0);  /* overlaps B */
	CHECK_STR(h_out(&h), "");
	h_str(&h, 0xfffffff9u, "AAAAA", 0);
	CHECK_STR(h_out(&h), "AAAAABBBBBCCCCCDDDDD[fin]");
	CHECK_EQ_U64(h.d.next_seq, 13);
	/* The "B" of the overlap against the buffer, then its "AAA" against the in-order "A". */
	CHECK_EQ_U64(h.st.retransmitted, 4);
	h_done(&h);
}

static void test_snap_cut(void)
{
	struct harness h;

	h_init(&h, 1 << 16, 1 << 20);
	h_seg(&h, 10, "abcdef", 3, 6, 0);
	h_str(&h, 16, "ghi", 0);
	CHECK_STR(h_out(&h), "abc[gap 3]ghi");
	CHECK_EQ_U64(h.st.gaps, 1);
	CHECK_EQ_U64(h.st.gap_bytes, 3);
	h_done(&h);

	/* Buffered: the segment remembers its wire length and delivers the cut part as a gap. */
	h_init(&h, 1 << 16, 1 << 20);
	h_seg(&h, 99, "", 0, 0, PKT_TCP_SYN);
	h_seg(&h, 110, "klmnop", 2, 6, 0);
	h_seg(&h, 118, "", 0, 3, 0); /* nothing captured at all */
	h_str(&h, 116, "qr", 0);
	/* The cut parts are not held, so only captured bytes and bookkeeping are charged; the
	 * segment with nothing captured still costs its bookkeeping. */
	CHECK_EQ_U64(h.d.ooo_bytes, 3 * REASM_SEG_COST + 4);
	h_str(&h, 100, "0123456789", 0);
	CHECK_STR(h_out(&h), "0123456789kl[gap 4]qr[gap 3]");
	/* A cut part is delivered with the time of the segment it was cut from. */
	CHECK_EQ_U64(h.rec.ts[2], 2);
	CHECK_EQ_U64(h.rec.ts[4], 3);
	CHECK_EQ_U64(h.d.next_seq, 121);
	CHECK_EQ_U64(h.st.gaps, 2);
	CHECK_EQ_U64(h.st.gap_bytes, 7);
	/* The cut bytes arriving again later are old news. */
	h_str(&h, 112, "mnop", 0);
	CHECK_EQ_U64(h.st.retransmitted, 4);
	h_done(&h);

	/* The cut bytes do not count against the limit: two segments of 2 captured bytes fit in
	 * exactly their cost, whatever their wire lengths. */
	h_init(&h, 2 * REASM_SEG_COST + 4, 1 << 20);
	h_seg(&h, 0, "", 0, 0, PKT_TCP_SYN);
	h_seg(&h, 10, "ab", 2, 100, 0);
	h_seg(&h, 200, "cd", 2, 50, 0);
	CHECK_EQ_U64(h.d.ooo_bytes, 2 * REASM_SEG_COST + 4);
	CHECK_EQ_U64(h.st.ooo_overflows, 0);
	h_done(&h);
}

static void test_flush(void)
{
	struct harness h;

	h_init(&h, 1 << 16, 1 << 20);
	h_seg(&h, 0, "", 0, 0, PKT_TCP_SYN);
	h_str(&h, 1, "0123456789", 0);
	h_str(&h, 21, "abcdefghij", 0);
	h_flush(&h);
	CHECK_STR(h_out(&h), "0123456789[gap 10]abcdefghij");
	CHECK_EQ_U64(h.st.gaps, 1);
	CHECK_EQ_U64(h.st.gap_bytes, 10);
	CHECK_EQ_U64(h.st.buffered_bytes, 0);
	CHECK(h.d.ooo == NULL);
	CHECK_EQ_U64(h.d.state, REASM_SYNCED);
	/* The gap carries the flush time, the data its arrival time. */
	CHECK_EQ_U64(h.rec.ts[1], 4);
	CHECK_EQ_U64(h.rec.ts[2], 3);
	h_flush(&h);
	h_str(&h, 31, "!", 0);
	CHECK_STR(h_out(&h), "0123456789[gap 10]abcdefghij!");
	h_done(&h);

	/* Several holes, and a FIN after the last buffered segment. */
	h_init(&h, 1 << 16, 1 << 20);
	h_seg(&h, 0, "", 0, 0, PKT_TCP_SYN);
	h_str(&h, 1, "aa", 0);
	h_str(&h, 9, "cc", PKT_TCP_FIN);
	h_str(&h, 5, "bb", 0);
	h_flush(&h);
	CHECK_STR(h_out(&h), "aa[gap 2]bb[gap 2]cc[fin]");
	CHECK_EQ_U64(h.d.state, REASM_CLOSED);
	h_done(&h);

	/* A FIN with nothing buffered before it, and a hole. */
	h_init(&h, 1 << 16, 1 << 20);
	h_str(&h, 1, "aa", 0);
	h_seg(&h, 10, "", 0, 0, PKT_TCP_FIN);
	CHECK(h.d.fin_seen);
	h_flush(&h);
	CHECK_STR(h_out(&h), "aa[gap 7][fin]");
	CHECK(!h.d.fin_seen);
	h_done(&h);

	/* A segment buffered beyond a FIN that came later: the flush stops at the FIN. */
	h_init(&h, 1 << 16, 1 << 20);
	h_str(&h, 1, "aa", 0);
	h_str(&h, 20, "zz", 0);
	h_seg(&h, 10, "", 0, 0, PKT_TCP_FIN);
	h_flush(&h);
	CHECK_STR(h_out(&h), "aa[gap 7][fin]");
	CHECK_EQ_U64(h.st.after_fin, 2);
	h_done(&h);

	/* Nothing to do before the stream is placed. */
	h_init(&h, 1 << 16, 1 << 20);
	h_flush(&h);
	CHECK_STR(h_out(&h), "");
	CHECK_EQ_U64(h.d.state, REASM_UNSYNCED);
	h_done(&h);
}

static void test_fin(void)
{
	struct harness h;

	/* The FIN arrives before the bytes it follows. */
	h_init(&h, 1 << 16, 1 << 20);
	h_seg(&h, 0, "", 0, 0, PKT_TCP_SYN);
	h_str(&h, 1, "abc", 0);
	h_str(&h, 7, "ghi", PKT_TCP_FIN);
	CHECK_STR(h_out(&h), "abc");
	CHECK(h.d.fin_seen);
	CHECK_EQ_U64(h.d.fin_seq, 10);
	h_str(&h, 4, "def", 0);
	CHECK_STR(h_out(&h), "abcdefghi[fin]");
	CHECK_EQ_U64(h.d.state, REASM_CLOSED);
	h_str(&h, 10, "late", 0);
	h_str(&h, 7, "ghi", PKT_TCP_FIN);
	h_flush(&h);
	CHECK_STR(h_out(&h), "abcdefghi[fin]");
	CHECK_EQ_U64(h.st.after_fin, 7);
	CHECK_EQ_U64(h.st.segments, 5);
	h_done(&h);

	/* Bytes beyond a known FIN are dropped, whether they arrive before or after it. */
	h_init(&h, 1 << 16, 1 << 20);
	h_seg(&h, 0, "", 0, 0, PKT_TCP_SYN);
	h_str(&h, 1, "ab", 0);
	h_str(&h, 20, "zz", 0);
	h_seg(&h, 10, "", 0, 0, PKT_TCP_FIN | PKT_TCP_ACK);
	h_seg(&h, 15, "", 0, 0, PKT_TCP_FIN); /* the first FIN wins */
	CHECK_EQ_U64(h.d.fin_seq, 10);
	h_str(&h, 8, "xyzw", 0);
	CHECK_EQ_U64(h.st.after_fin, 2);
	CHECK_EQ_U64(h.d.ooo_bytes, 2 * REASM_SEG_COST + 4); /* "zz" and "xy" */
	h_str(&h, 3, "cdefg", 0);
	CHECK_STR(h_out(&h), "abcdefgxy[fin]");
	CHECK_EQ_U64(h.st.after_fin, 4);
	CHECK_EQ_U64(h.st.buffered_bytes, 0);
	h_done(&h);
}

static void test_overflow(void)
{
	struct harness h;

	/* Room for one segment of up to 10 bytes. */
	h_init(&h, REASM_SEG_COST + 10, 1 << 20);
	h_seg(&h, 0, "", 0, 0, PKT_TCP_SYN);
	h_str(&h, 1, "aaaa", 0);
	h_str(&h, 9, "bbbbbb", 0);
	h_str(&h, 17, "cccccc", 0);
	/* "b" and "c" do not fit together: the hole before "b" is given up, "c" waits for its own.
	 */
	CHECK_STR(h_out(&h), "aaaa[gap 4]bbbbbb");
	CHECK_EQ_U64(h.st.ooo_overflows, 1);
	CHECK_EQ_U64(h.d.ooo_bytes, REASM_SEG_COST + 6);
	CHECK_EQ_U64(h.rec.ts[1], 4); /* the gap: when "c" revealed it */
	h_str(&h, 15, "dd", 0);
	CHECK_STR(h_out(&h), "aaaa[gap 4]bbbbbbddcccccc");
	CHECK_EQ_U64(h.d.next_seq, 23);
	/* A segment larger than the limit: its own hole goes, and it is delivered as it is. */
	h_str(&h, 30, "eeeeeeeeeeee", 0);
	CHECK_STR(h_out(&h), "aaaa[gap 4]bbbbbbddcccccc[gap 7]eeeeeeeeeeee");
	CHECK_EQ_U64(h.st.ooo_overflows, 2);
	CHECK_EQ_U64(h.st.gaps, 2);
	CHECK_EQ_U64(h.st.gap_bytes, 11);
	CHECK_EQ_U64(h.st.buffered_bytes, 0);
	h_done(&h);

	/* Several holes must go before the new segment fits: room for exactly three segments of 2
	 * bytes, and "dddd" needs the room of two of them. */
	h_init(&h, 3 * REASM_SEG_COST + 6, 1 << 20);
	h_seg(&h, 0, "", 0, 0, PKT_TCP_SYN);
	h_str(&h, 3, "aa", 0);
	h_str(&h, 7, "bb", 0);
	h_str(&h, 11, "cc", 0);
	h_str(&h, 15, "dddd", 0);
	CHECK_STR(h_out(&h), "[gap 2]aa[gap 2]bb");
	CHECK_EQ_U64(h.st.ooo_overflows, 2);
	CHECK_EQ_U64(h.d.ooo_bytes, 2 * REASM_SEG_COST + 6);
	h_flush(&h);
	CHECK_STR(h_out(&h), "[gap 2]aa[gap 2]bb[gap 2]cc[gap 2]dddd");
	h_done(&h);

	/* A duplicate of buffered bytes adds nothing, not even bookkeeping, so it never forces a
	 * gap even when the buffer is exactly full. */
	h_init(&h, REASM_SEG_COST + 4, 1 << 20);
	h_seg(&h, 0, "", 0, 0, PKT_TCP_SYN);
	h_str(&h, 5, "wxyz", 0);
	h_str(&h, 5, "wxyz", 0);
	h_str(&h, 6, "xy", 0);
	CHECK_EQ_U64(h.st.ooo_overflows, 0);
	CHECK_EQ_U64(h.st.retransmitted, 6);
	CHECK_EQ_U64(h.st.out_of_order, 1);
	h_str(&h, 1, "stuv", 0);
	CHECK_STR(h_out(&h), "stuvwxyz");
	h_done(&h);
}

/* The limit on buffered bytes shared by all directions. */
static void test_global_limit(void)
{
	struct harness a, b;

	/* Room for two segments holding 8 bytes between them; each direction's own limit is far. */
	h_init(&a, 1 << 16, 2 * REASM_SEG_COST + 8);
	h_init(&b, 1 << 16, 0);
	b.cfg.stats = &a.st;
	h_seg(&a, 0, "", 0, 0, PKT_TCP_SYN);
	h_str(&a, 10, "123456", 0);
	h_seg(&b, 100, "", 0, 0, PKT_TCP_SYN);
	h_str(&b, 110, "abcd", 0);
	/* 6 + 4 bytes > 8: b gives up its own hole, not a's. */
	CHECK_STR(h_out(&b), "[gap 9]abcd");
	CHECK_EQ_U64(a.st.ooo_overflows, 1);
	CHECK_EQ_U64(a.d.ooo_bytes, REASM_SEG_COST + 6);
	h_str(&b, 120, "xy", 0);
	CHECK_EQ_U64(b.d.ooo_bytes, REASM_SEG_COST + 2);
	CHECK_EQ_U64(a.st.buffered_bytes, 2 * REASM_SEG_COST + 8);
	reasm_free(&b.d, &b.cfg);
	CHECK_EQ_U64(a.st.buffered_bytes, REASM_SEG_COST + 6);
	h_done(&b);

	/* The limit lowered below what is held: even a copy of buffered bytes gives up a hole. */
	h_str(&a, 30, "zz", 0);
	a.st.buffered_max = 1;
	h_str(&a, 11, "23", 0);
	CHECK_STR(h_out(&a), "[gap 9]123456");
	CHECK_EQ_U64(a.st.ooo_overflows, 2);
	CHECK_EQ_U64(a.st.retransmitted, 2);
	h_done(&a);
}

/* Segment i of a flood: its wire bytes start at flood_seq(i, wire), with a one-byte hole before
 * each, so that giving up the oldest hole releases exactly one segment. */
static uint32_t flood_seq(uint32_t i, uint32_t wire)
{
	return 2 + i * (wire + 1);
}

/* What segment i of a flood delivers once its hole is given up: the hole, its captured byte,
 * then the part the snap length cut. */
static void flood_expect(struct rec *want, uint32_t i, uint32_t cap, uint32_t wire)
{
	char m[32];
	int k;

	rec_put(want, "[gap 1]", 7);
	if (cap)
		rec_put(want, &(char){(char)('a' + i % 26)}, 1);
	if (wire > cap) {
		k = snprintf(m, sizeof(m), "[gap %u]", wire - cap);
		rec_put(want, m, (size_t)k);
	}
}

static void flood_one(struct harness *h, uint32_t i, uint32_t cap, uint32_t wire)
{
	char c = (char)('a' + i % 26);

	h_seg(h, flood_seq(i, wire), &c, cap, wire, 0);
}

/* A flood of tiny segments ahead of holes on one direction. Charged only their captured bytes,
 * they would be held without bound (without any, for snap-cut ones); with their bookkeeping
 * charged, at most max_ooo_bytes / REASM_SEG_COST are held and the rest force gaps. */
static void flood_dir(uint32_t cap, uint32_t wire)
{
	enum { LIMIT = 4096, N = 1000 };
	const uint32_t cost = cap + REASM_SEG_COST;
	const uint32_t fit = LIMIT / cost;
	/* Gaps per released segment: its hole, and its cut part if any. */
	const uint32_t per = wire > cap ? 2 : 1;
	struct rec want = {0};
	struct harness h;
	uint64_t held, gaps;

	h_init(&h, LIMIT, 1u << 30);
	h_seg(&h, 0, "", 0, 0, PKT_TCP_SYN);
	for (uint32_t i = 0; i < N; i++) {
		flood_one(&h, i, cap, wire);
		flood_expect(&want, i, cap, wire);
		CHECK(h.d.ooo_bytes <= LIMIT);
		CHECK_EQ_U64(h.d.ooo_bytes, (i < fit ? i + 1 : fit) * cost);
		CHECK_EQ_U64(h.st.buffered_bytes, h.d.ooo_bytes);
	}
	/* Once full, each new segment gave up the oldest hole and released one segment. */
	CHECK_EQ_U64(h.st.out_of_order, N);
	CHECK_EQ_U64(h.st.ooo_overflows, N - fit);
	CHECK_EQ_U64(h.st.gaps, (N - fit) * per);
	/* The stream waits at the hole before the oldest segment held. */
	CHECK_EQ_U64(h.d.next_seq, flood_seq(N - fit, wire) - 1);
	held = h.d.ooo_bytes / cost;
	CHECK(held <= LIMIT / REASM_SEG_COST);
	/* The flush releases what was held, each segment after its hole. */
	gaps = h.st.gaps;
	h_flush(&h);
	CHECK_EQ_U64(h.st.gaps - gaps, held * per);
	CHECK_STR(h_out(&h), want.buf);
	CHECK_EQ_U64(h.st.gaps, N * per);
	CHECK_EQ_U64(h.st.gap_bytes, N * (1 + wire - cap));
	CHECK_EQ_U64(h.d.next_seq, flood_seq(N - 1, wire) + wire);
	CHECK_EQ_U64(h.d.ooo_bytes, 0);
	h_done(&h);
	free(want.buf);
}

/* Captured bytes per segment of direction k in the global flood: even directions send one, odd
 * ones nothing (snap-cut), so both costs share the limit. */
static uint32_t flood_cap(uint32_t k)
{
	return k % 2 ? 0 : 1;
}

/* The flood spread over several directions, bounded only by the global limit. */
static void flood_global(void)
{
	enum { DIRS = 4, LIMIT = 4096, N = 250 };
	struct reasm_stats st = {.buffered_max = LIMIT};
	struct harness h[DIRS];
	struct rec want[DIRS] = {{0}};
	uint64_t held[DIRS], total = 0, gaps = 0;

	for (uint32_t k = 0; k < DIRS; k++) {
		h_init(&h[k], 1 << 16, 0);
		h[k].cfg.stats = &st;
		h_seg(&h[k], 0, "", 0, 0, PKT_TCP_SYN);
	}
	for (uint32_t i = 0; i < N; i++) {
		uint64_t sum = 0;

		total = 0;
		for (uint32_t k = 0; k < DIRS; k++) {
			flood_one(&h[k], i, flood_cap(k), 1);
			flood_expect(&want[k], i, flood_cap(k), 1);
			CHECK(st.buffered_bytes <= LIMIT);
		}
		for (uint32_t k = 0; k < DIRS; k++) {
			uint32_t cost = flood_cap(k) + REASM_SEG_COST;

			/* Each direction holds whole segments of its own cost. */
			CHECK_EQ_U64(h[k].d.ooo_bytes % cost, 0);
			held[k] = h[k].d.ooo_bytes / cost;
			total += held[k];
			sum += h[k].d.ooo_bytes;
		}
		CHECK_EQ_U64(st.buffered_bytes, sum);
		CHECK(total <= LIMIT / REASM_SEG_COST);
	}
	/* Every segment not held any more was released by an overflow, which gave up its hole; a
	 * snap-cut one was then delivered as a gap too. The limit was used up to less than one
	 * segment's cost. */
	CHECK_EQ_U64(st.out_of_order, DIRS * N);
	CHECK_EQ_U64(st.ooo_overflows, DIRS * N - total);
	for (uint32_t k = 0; k < DIRS; k++) {
		CHECK_EQ_U64(h[k].d.next_seq, flood_seq(N - (uint32_t)held[k], 1) - 1);
		gaps += (N - held[k]) * (flood_cap(k) ? 1 : 2);
	}
	CHECK_EQ_U64(st.gaps, gaps);
	CHECK(st.buffered_bytes + REASM_SEG_COST + 1 > LIMIT);
	for (uint32_t k = 0; k < DIRS; k++) {
		h_flush(&h[k]);
		CHECK_STR(h_out(&h[k]), want[k].buf);
		CHECK_EQ_U64(h[k].d.ooo_bytes, 0);
		h_done(&h[k]);
		free(want[k].buf);
	}
	CHECK_EQ_U64(st.gaps, DIRS * N + DIRS / 2 * N);
	CHECK_EQ_U64(st.buffered_bytes, 0);
}

static void test_flood(void)
{
	flood_dir(1, 1);
	flood_dir(0, 1);
	flood_dir(0, 1500); /* a full-size segment of which the snap length kept nothing */
	flood_global();
}

static void test_out_of_window(void)
{
	struct harness h;

	h_init(&h, 1 << 16, 1 << 20);
	h_seg(&h, 0, "", 0, 0, PKT_TCP_SYN);
	h_str(&h, 1 + (1u << 30) + 1, "far", PKT_TCP_FIN);
	h_str(&h, 1 - (1u << 30) - 1, "old", 0);
	h_seg(&h, 2, "x", 1, 1u << 31, 0); /* absurd wire length */
	CHECK_EQ_U64(h.st.out_of_window, 3);
	CHECK(!h.d.fin_seen);
	CHECK_EQ_U64(h.d.ooo_bytes, 0);
	/* Just inside the window on both sides. */
	h_str(&h, 1 + (1u << 30) - 4, "near", 0);
	CHECK_EQ_U64(h.d.ooo_bytes, REASM_SEG_COST + 4);
	h_str(&h, 1 - (1u << 30), "past", 0);
	CHECK_EQ_U64(h.st.retransmitted, 4);
	CHECK_EQ_U64(h.st.out_of_window, 3);
	CHECK_STR(h_out(&h), "");
	h_done(&h);
}

static void test_free(void)
{
	struct harness h;

	h_init(&h, 1 << 16, 1 << 20);
	h_seg(&h, 0, "", 0, 0, PKT_TCP_SYN);
	h_str(&h, 5, "abc", 0);
	h_str(&h, 10, "defg", 0);
	CHECK_EQ_U64(h.st.buffered_bytes, 2 * REASM_SEG_COST + 7);
	reasm_free(&h.d, &h.cfg);
	CHECK_EQ_U64(h.st.buffered_bytes, 0);
	CHECK_STR(h_out(&h), "");
	h_done(&h);
}

/* A segment that cannot be buffered is handled like an overflow: its hole goes, nothing else. */
static void test_alloc_failure(void)
{
#ifdef HAVE_ASAN
	enum { BIG = 2 << 20 };
	static char big[BIG]; /* not malloc: that would fail too */
	struct harness h;

	memset(big, 'x', BIG);
	h_init(&h, 1u << 30, 1u << 30);
	h_seg(&h, 0, "", 0, 0, PKT_TCP_SYN);
	h_str(&h, 1, "ab", 0);
	h_seg(&h, 10, big, BIG, BIG, 0);
	CHECK_EQ_U64(h.st.ooo_overflows, 1);
	CHECK_STR(h_out(&h), "ab[gap 7][data 2097152]");
	CHECK_EQ_U64(h.d.next_seq, 10 + BIG);
	h_done(&h);

	/* The part before a buffered segment is stored, the part after it fails. */
	h_init(&h, 1u << 30, 1u << 30);
	h_seg(&h, 0, "", 0, 0, PKT_TCP_SYN);
	h_str(&h, 20, "xxxxx", 0);
	h_seg(&h, 15, big, BIG, BIG, 0);
	CHECK_EQ_U64(h.st.ooo_overflows, 1);
	CHECK_EQ_U64(h.st.retransmitted, 5);
	CHECK_EQ_U64(h.st.gap_bytes, 14);
	CHECK_STR(h_out(&h), "[gap 14]xxxxxxxxxx[data 2097142]");
	CHECK_EQ_U64(h.d.next_seq, 15 + BIG);
	CHECK_EQ_U64(h.st.buffered_bytes, 0);
	h_done(&h);
#else
	printf("test_reasm: allocation failure not tested (needs ASan)\n");
#endif
}

int main(void)
{
	test_in_order();
	test_zero_copy();
	test_reversed();
	test_buffer_overlaps();
	test_ooo_since();
	test_permutations();
	test_syn();
	test_midstream();
	test_wraparound();
	test_snap_cut();
	test_flush();
	test_fin();
	test_overflow();
	test_global_limit();
	test_flood();
	test_out_of_window();
	test_free();
	test_alloc_failure();
	return check_report("test_reasm");
}
