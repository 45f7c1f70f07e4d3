/* DNS over TCP framing (dns_stream.h) through its public API: streams of length-prefixed messages
 * fed whole, byte by byte and cut at every pair of points, with gaps inside a message and over a
 * length prefix, and ended early. Every frame is copied out of the callback and compared field by
 * field with what the stream held; every piece fed is a guarded copy ending at an unreadable
 * page, so reading past a piece crashes. */
#include "dns_stream.h"

#include <stdbool.h>

#include "check.h"

#define MAX_FRAMES 16
#define BIG        65535

struct rec {
	int dir;
	uint8_t *bytes; /* a copy of the frame's cap bytes */
	size_t cap, len;
	uint64_t ts_first, ts_last;
};

struct h {
	struct dns_stream s;
	struct dns_stream_stats st;
	struct rec f[MAX_FRAMES];
	size_t n;
};

static void on_frame(void *ctx, const struct dns_frame *f)
{
	struct h *h = ctx;
	struct rec *r;

	CHECK(f->cap <= f->len);
	if (h->n == MAX_FRAMES) {
		check_failures++;
		return;
	}
	r = &h->f[h->n++];
	*r = (struct rec){f->dir, malloc(f->cap + 1), f->cap, f->len, f->ts_first, f->ts_last};
	if (!r->bytes)
		exit(2);
	if (f->cap)
		memcpy(r->bytes, f->p, f->cap);
}

static void h_init(struct h *h, int dir)
{
	memset(h, 0, sizeof(*h));
	dns_stream_init(&h->s, dir);
}

/* Frees the stream (counting an unfinished message) and the recorded frames. */
static void h_done(struct h *h)
{
	dns_stream_close(&h->s, &h->st);
	CHECK(h->s.buf == NULL);
	for (size_t i = 0; i < h->n; i++)
		free(h->f[i].bytes);
	h->n = 0;
}

static void feed(struct h *h, const uint8_t *p, size_t n, uint64_t ts)
{
	uint8_t *g = guarded_copy(p, n);

	dns_stream_data(&h->s, &h->st, g, n, ts, on_frame, h);
	guarded_free(g, n);
}

static void gap(struct h *h, size_t n, uint64_t ts)
{
	dns_stream_gap(&h->s, &h->st, n, ts, on_frame, h);
}

static bool frame_is(const struct rec *r, const uint8_t *p, size_t cap, size_t len)
{
	return r->cap == cap && r->len == len && (cap == 0 || memcmp(r->bytes, p, cap) == 0);
}

/* Two messages of a kdig-like exchange on one direction: a query and the next query. */
static const uint8_t two[] = {
        /* 33 bytes: id 0x1234, RD, www.example.com A IN */
        0x00, 0x21, 0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
        'w', 'w', 'w', 0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'c', 'o', 'm', 0x00, 0x00,
        0x01, 0x00, 0x01,
        /* 17 bytes: id 0xbeef, root NS IN */
        0x00, 0x11, 0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x02, 0x00, 0x01};
#define M1_LEN 33
#define M1_END (2 + M1_LEN) /* where the second message's prefix starts */
#define M2_LEN 17

_Static_assert(sizeof(two) == M1_END + 2 + M2_LEN, "the prefixes say the messages' lengths");

static void check_two(const struct h *h, uint64_t f1, uint64_t l1, uint64_t f2, uint64_t l2)
{
	CHECK_EQ_U64(h->n, 2);
	if (h->n != 2)
		return;
	CHECK(frame_is(&h->f[0], two + 2, M1_LEN, M1_LEN));
	CHECK(frame_is(&h->f[1], two + M1_END + 2, M2_LEN, M2_LEN));
	CHECK_EQ_U64(h->f[0].ts_first, f1);
	CHECK_EQ_U64(h->f[0].ts_last, l1);
	CHECK_EQ_U64(h->f[1].ts_first, f2);
	CHECK_EQ_U64(h->f[1].ts_last, l2);
	CHECK_EQ_U64(h->st.messages, 2);
	CHECK_EQ_U64(h->st.partial, 0);
	CHECK_EQ_U64(h->st.lost_bytes, 0);
}

static void test_one_message(void)
{
	struct h h;

	h_init(&h, 1);
	feed(&h, two, M1_END, 7);
	CHECK_EQ_U64(h.n, 1);
	if (h.n == 1) {
		CHECK(frame_is(&h.f[0], two + 2, M1_LEN, M1_LEN));
		CHECK_EQ_U64(h.f[0].dir, 1); /* the dir given at init, not a constant */
		CHECK_EQ_U64(h.f[0].ts_first, 7);
		CHECK_EQ_U64(h.f[0].ts_last, 7);
	}
	CHECK_EQ_U64(h.st.messages, 1);
	h_done(&h);
	CHECK_EQ_U64(h.st.unfinished, 0); /* it ended between messages */

	h_init(&h, 0);
	feed(&h, two, M1_END, 7);
	CHECK(h.n == 1 && h.f[0].dir == 0);
	h_done(&h);
}

static void test_several_in_one_piece(void)
{
	struct h h;

	h_init(&h, 0);
	feed(&h, two, sizeof(two), 50);
	check_two(&h, 50, 50, 50, 50);
	h_done(&h);
}

/* Byte i arrives at time 1000 + i: each frame starts at its first prefix byte and ends at its
 * last byte, wherever the pieces were cut. */
static void test_byte_by_byte(void)
{
	struct h h;

	h_init(&h, 0);
	for (size_t i = 0; i < sizeof(two); i++) {
		feed(&h, two + i, 1, 1000 + i);
		/* Nothing is delivered before its last byte. */
		CHECK_EQ_U64(h.n, i + 1 >= sizeof(two) ? 2 : i + 1 >= M1_END ? 1 : 0);
	}
	check_two(&h, 1000, 1000 + M1_END - 1, 1000 + M1_END, 1000 + sizeof(two) - 1);
	h_done(&h);
}

/* The time of byte b when the stream is cut at a <= c into three pieces timed 1, 2, 3. */
static uint64_t piece_ts(size_t b, size_t a, size_t c)
{
	return b < a ? 1 : b < c ? 2 : 3;
}

static void test_every_split(void)
{
	const size_t n = sizeof(two);

	for (size_t a = 0; a <= n; a++) {
		for (size_t c = a; c <= n; c++) {
			struct h h;

			h_init(&h, 0);
			if (a)
				feed(&h, two, a, 1);
			if (c > a)
				feed(&h, two + a, c - a, 2);
			if (n > c)
				feed(&h, two + c, n - c, 3);
			check_two(&h, piece_ts(0, a, c), piece_ts(M1_END - 1, a, c),
			          piece_ts(M1_END, a, c), piece_ts(n - 1, a, c));
			h_done(&h);
			CHECK_EQ_U64(h.st.unfinished, 0);
		}
	}
}

/* A zero-length message is a frame of its own (its time is the prefix's) and does not disturb
 * the next one. */
static void test_zero_length(void)
{
	uint8_t buf[2 + M1_END];
	struct h h;

	buf[0] = buf[1] = 0;
	memcpy(buf + 2, two, M1_END);
	h_init(&h, 0);
	feed(&h, buf, 1, 10);
	CHECK_EQ_U64(h.n, 0);
	feed(&h, buf + 1, sizeof(buf) - 1, 11);
	CHECK_EQ_U64(h.n, 2);
	if (h.n == 2) {
		CHECK(frame_is(&h.f[0], NULL, 0, 0));
		CHECK_EQ_U64(h.f[0].ts_first, 10);
		CHECK_EQ_U64(h.f[0].ts_last, 11);
		CHECK(frame_is(&h.f[1], two + 2, M1_LEN, M1_LEN));
		CHECK_EQ_U64(h.f[1].ts_first, 11);
	}
	CHECK_EQ_U64(h.st.messages, 2);
	CHECK_EQ_U64(h.st.partial, 0);
	h_done(&h);
}

/* Bytes lost inside a message: it is delivered with what came before the gap (cap) and its true
 * length, counted partial, and the stream stays framed. */
static void test_gap_inside(void)
{
	struct h h;

	h_init(&h, 0);
	feed(&h, two, 12, 1); /* the prefix and 10 bytes */
	gap(&h, 5, 2);
	CHECK_EQ_U64(h.n, 0);
	/* Bytes after the gap count towards the length but are not kept. */
	feed(&h, two + 17, sizeof(two) - 17, 3);
	CHECK_EQ_U64(h.n, 2);
	if (h.n == 2) {
		CHECK(frame_is(&h.f[0], two + 2, 10, M1_LEN));
		CHECK_EQ_U64(h.f[0].ts_first, 1);
		CHECK_EQ_U64(h.f[0].ts_last, 3);
		CHECK(frame_is(&h.f[1], two + M1_END + 2, M2_LEN, M2_LEN));
		CHECK_EQ_U64(h.f[1].ts_first, 3);
	}
	CHECK_EQ_U64(h.st.messages, 2);
	CHECK_EQ_U64(h.st.partial, 1);
	CHECK_EQ_U64(h.st.lost_bytes, 0);
	h_done(&h);

	/* A gap that ends the message delivers it, at the gap's time. */
	h_init(&h, 0);
	feed(&h, two, 2 + 20, 1);
	gap(&h, M1_LEN - 20, 4);
	CHECK_EQ_U64(h.n, 1);
	if (h.n == 1) {
		CHECK(frame_is(&h.f[0], two + 2, 20, M1_LEN));
		CHECK_EQ_U64(h.f[0].ts_last, 4);
	}
	feed(&h, two + M1_END, sizeof(two) - M1_END, 5);
	CHECK_EQ_U64(h.n, 2);
	if (h.n == 2)
		CHECK(frame_is(&h.f[1], two + M1_END + 2, M2_LEN, M2_LEN));
	CHECK_EQ_U64(h.st.partial, 1);
	h_done(&h);

	/* A gap right after the prefix: nothing is kept, the message still frames. */
	h_init(&h, 0);
	feed(&h, two, 2, 1);
	gap(&h, M1_LEN, 2);
	feed(&h, two + M1_END, sizeof(two) - M1_END, 3);
	CHECK_EQ_U64(h.n, 2);
	if (h.n == 2) {
		CHECK(frame_is(&h.f[0], NULL, 0, M1_LEN));
		CHECK(frame_is(&h.f[1], two + M1_END + 2, M2_LEN, M2_LEN));
	}
	h_done(&h);
}

/* Without a length prefix where the next message starts is unknown: nothing more is delivered
 * and every later byte, gap or data, is counted as lost. */
static void test_gap_over_prefix(void)
{
	struct h h;

	/* The gap starts exactly at the second prefix. */
	h_init(&h, 0);
	feed(&h, two, M1_END, 1);
	gap(&h, 3, 2);
	feed(&h, two + M1_END + 3, sizeof(two) - M1_END - 3, 3);
	feed(&h, two, sizeof(two), 4);
	CHECK_EQ_U64(h.n, 1);
	CHECK_EQ_U64(h.st.messages, 1);
	CHECK_EQ_U64(h.st.lost_bytes, 3 + (sizeof(two) - M1_END - 3) + sizeof(two));
	gap(&h, 100, 5);
	CHECK_EQ_U64(h.st.lost_bytes, 3 + (sizeof(two) - M1_END - 3) + sizeof(two) + 100);
	CHECK_EQ_U64(h.n, 1);
	h_done(&h);
	CHECK_EQ_U64(h.st.unfinished, 0); /* a lost stream has no message to finish */

	/* The gap runs from inside the first message over the second prefix: the first is
	 * delivered partial, the rest of the gap is lost. */
	h_init(&h, 0);
	feed(&h, two, 10, 1);
	gap(&h, M1_END - 10 + 1, 2);
	feed(&h, two + M1_END + 1, sizeof(two) - M1_END - 1, 3);
	CHECK_EQ_U64(h.n, 1);
	if (h.n == 1)
		CHECK(frame_is(&h.f[0], two + 2, 8, M1_LEN));
	CHECK_EQ_U64(h.st.partial, 1);
	CHECK_EQ_U64(h.st.lost_bytes, 1 + sizeof(two) - M1_END - 1);
	h_done(&h);

	/* A gap after one prefix byte loses the framing too. */
	h_init(&h, 0);
	feed(&h, two, 1, 1);
	gap(&h, 1, 2);
	feed(&h, two + 2, sizeof(two) - 2, 3);
	CHECK_EQ_U64(h.n, 0);
	CHECK_EQ_U64(h.st.lost_bytes, 1 + sizeof(two) - 2);
	h_done(&h);
	CHECK_EQ_U64(h.st.unfinished, 0); /* its prefix byte began nothing that can finish */
}

static void test_close(void)
{
	struct h h;

	/* Half a message: unfinished. */
	h_init(&h, 0);
	feed(&h, two, M1_END + 5, 1);
	CHECK_EQ_U64(h.n, 1);
	h_done(&h);
	CHECK_EQ_U64(h.st.unfinished, 1);
	CHECK_EQ_U64(h.st.messages, 1);

	/* One prefix byte is a message begun. */
	h_init(&h, 0);
	feed(&h, two, 1, 1);
	h_done(&h);
	CHECK_EQ_U64(h.st.unfinished, 1);

	/* st NULL: freed (LeakSanitizer checks) and not counted; the stream is reusable. */
	h_init(&h, 1);
	feed(&h, two, M1_END + 5, 1);
	CHECK(h.s.buf != NULL);
	dns_stream_close(&h.s, NULL);
	CHECK(h.s.buf == NULL);
	CHECK_EQ_U64(h.s.dir, 1);
	CHECK_EQ_U64(h.st.unfinished, 0);
	feed(&h, two, M1_END, 2);
	CHECK_EQ_U64(h.n, 2);
	if (h.n == 2)
		CHECK(frame_is(&h.f[1], two + 2, M1_LEN, M1_LEN));
	h_done(&h);
	CHECK_EQ_U64(h.st.unfinished, 0);
}

/* The longest message a prefix can announce, fed in pieces that do not line up with it. */
static void test_largest(void)
{
	size_t n = 2 + BIG;
	uint8_t *buf = malloc(n);
	struct h h;

	if (!buf)
		exit(2);
	buf[0] = 0xff;
	buf[1] = 0xff;
	for (size_t i = 2; i < n; i++)
		buf[i] = (uint8_t)(i * 7 + i / 251);
	h_init(&h, 0);
	for (size_t off = 0; off < n; off += 1000)
		feed(&h, buf + off, n - off < 1000 ? n - off : 1000, 1 + off / 1000);
	CHECK_EQ_U64(h.n, 1);
	if (h.n == 1) {
		CHECK(frame_is(&h.f[0], buf + 2, BIG, BIG));
		CHECK_EQ_U64(h.f[0].ts_first, 1);
		CHECK_EQ_U64(h.f[0].ts_last, 1 + (n - 1) / 1000);
	}
	CHECK_EQ_U64(h.st.partial, 0);
	h_done(&h);
	free(buf);
}

int main(void)
{
	test_one_message();
	test_several_in_one_piece();
	test_byte_by_byte();
	test_every_split();
	test_zero_length();
	test_gap_inside();
	test_gap_over_prefix();
	test_close();
	test_largest();
	return check_report("test_dns_stream");
}
