/* The capture-file reader against files written here: classic pcap in both byte orders with
 * microsecond and nanosecond timestamps, pcapng with several interfaces, timestamp resolutions,
 * simple packet blocks, unknown blocks and several sections; then every prefix of those files
 * (truncation), impossible lengths (corruption) and files that are not captures at all. */
#include "check.h"
#include "pcap.h"

#include <stdbool.h>

/* ---- file writer ------------------------------------------------------------------------- */

#define MAX_MARKS 64

struct wb {
	uint8_t *b;
	size_t n, cap;
	bool be; /* byte order to write integers in */
	/* Ends of the header and of each record or block, and whether that one carried a frame. */
	size_t mark[MAX_MARKS];
	bool mark_frame[MAX_MARKS];
	int n_marks;
};

static void w_bytes(struct wb *w, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (w->n + n > w->cap) {
		w->cap = (w->n + n) * 2;
		w->b = realloc(w->b, w->cap);
		if (!w->b)
			exit(2);
	}
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void w_uint(struct wb *w, uint64_t v, size_t n)
{
	uint8_t b[8];

	for (size_t i = 0; i < n; i++)
		b[w->be ? n - 1 - i : i] = (uint8_t)(v >> (8 * i));
	w_bytes(w, b, n);
}

static void w16(struct wb *w, uint16_t v)
{
	w_uint(w, v, 2);
}

static void w32(struct wb *w, uint32_t v)
{
	w_uint(w, v, 4);
}

static void w_zeros(struct wb *w, size_t n)
{
	static const uint8_t zeros[64];

	while (n > 0) {
		size_t k = n < sizeof(zeros) ? n : sizeof(zeros);

		w_bytes(w, zeros, k);
		n -= k;
	}
}

static void w_pad4(struct wb *w)
{
	w_zeros(w, (4 - w->n % 4) % 4);
}

/* Files with more records than marks are not checked prefix by prefix. */
static void w_mark(struct wb *w, bool frame)
{
	if (w->n_marks == MAX_MARKS)
		return;
	w->mark[w->n_marks] = w->n;
	w->mark_frame[w->n_marks] = frame;
	w->n_marks++;
}

static void wb_free(struct wb *w)
{
	free(w->b);
	memset(w, 0, sizeof(*w));
}

/* Overwrites the 32-bit value at off, in the writer's byte order. */
static void patch32(struct wb *w, size_t off, uint32_t v)
{
	size_t n = w->n;

	w->n = off;
	w32(w, v);
	w->n = n;
}

/* ---- classic pcap ------------------------------------------------------------------------ */

#define MAGIC_USEC 0xa1b2c3d4u
#define MAGIC_NSEC 0xa1b23c4du

static void classic_header(struct wb *w, uint32_t magic, uint32_t linktype)
{
	w32(w, magic);
	w16(w, 2);
	w16(w, 4);
	w32(w, 0);
	w32(w, 0);
	w32(w, 262144);
	w32(w, linktype);
	w_mark(w, false);
}

static void classic_record(struct wb *w, uint32_t sec, uint32_t frac, const void *data,
                           uint32_t caplen, uint32_t orig_len)
{
	w32(w, sec);
	w32(w, frac);
	w32(w, caplen);
	w32(w, orig_len);
	w_bytes(w, data, caplen);
	w_mark(w, true);
}

/* ---- pcapng ------------------------------------------------------------------------------ */

#define NG_SHB 0x0a0d0d0au

static size_t block_begin(struct wb *w, uint32_t type)
{
	size_t start = w->n;

	w32(w, type);
	w32(w, 0);
	return start;
}

static void block_end(struct wb *w, size_t start, bool frame)
{
	uint32_t len;

	w_pad4(w);
	len = (uint32_t)(w->n - start + 4);
	w32(w, len);
	patch32(w, start + 4, len);
	w_mark(w, frame);
}

static void ng_shb(struct wb *w)
{
	size_t start = block_begin(w, NG_SHB);

	w32(w, 0x1a2b3c4d);
	w16(w, 1);
	w16(w, 0);
	w_uint(w, UINT64_MAX, 8); /* section length unknown */
	block_end(w, start, false);
}

static void ng_option(struct wb *w, uint16_t code, const void *value, uint16_t len)
{
	w16(w, code);
	w16(w, len);
	w_bytes(w, value, len);
	w_pad4(w);
}

/* tsresol < 0: no if_tsresol option. An if_name precedes it so the option walk is exercised. */
static void ng_idb(struct wb *w, uint16_t linktype, uint32_t snaplen, int tsresol)
{
	size_t start = block_begin(w, 1);
	uint8_t res = (uint8_t)tsresol;

	w16(w, linktype);
	w16(w, 0);
	w32(w, snaplen);
	ng_option(w, 2, "eth0", 4);
	if (tsresol >= 0)
		ng_option(w, 9, &res, 1);
	ng_option(w, 0, NULL, 0);
	block_end(w, start, false);
}

static void ng_epb(struct wb *w, uint32_t if_id, uint64_t ts, const void *data, uint32_t caplen,
                   uint32_t orig_len)
{
	size_t start = block_begin(w, 6);

	w32(w, if_id);
	w32(w, (uint32_t)(ts >> 32));
	w32(w, (uint32_t)ts);
	w32(w, caplen);
	w32(w, orig_len);
	w_bytes(w, data, caplen);
	w_pad4(w);
	ng_option(w, 1, "a comment", 9);
	ng_option(w, 0, NULL, 0);
	block_end(w, start, true);
}

static void ng_spb(struct wb *w, const void *data, uint32_t n, uint32_t orig_len)
{
	size_t start = block_begin(w, 3);

	w32(w, orig_len);
	w_bytes(w, data, n);
	block_end(w, start, true);
}

static void ng_other(struct wb *w, uint32_t type, size_t body)
{
	size_t start = block_begin(w, type);

	w_zeros(w, body);
	block_end(w, start, false);
}

/* ---- reading ----------------------------------------------------------------------------- */

struct got {
	uint64_t ts_ns;
	uint32_t caplen, wire_len, link_raw;
	enum pkt_link link;
	uint8_t data[64];
};

/* Reads the first n bytes of w as a file. Returns the status that ended the read (of pcap_open
 * if it failed, else of the last pcap_next) and how many frames came before it. */
static int read_file(const struct wb *w, size_t n, struct got *got, size_t max, size_t *n_got)
{
	/* fmemopen refuses an empty buffer on older C libraries; a pipe-like empty file is
	 * what we mean anyway. */
	FILE *f = n ? fmemopen(w->b, n, "rb") : tmpfile();
	struct pcap_reader *r;
	struct pcap_frame frame;
	int status;

	*n_got = 0;
	if (!f) {
		perror("fmemopen");
		exit(2);
	}
	status = pcap_open(f, &r);
	if (status < 0) {
		CHECK(r == NULL);
		return status;
	}
	while ((status = pcap_next(r, &frame)) == PCAP_FRAME) {
		CHECK(frame.caplen <= frame.wire_len);
		if (*n_got < max) {
			struct got *g = &got[*n_got];

			g->ts_ns = frame.ts_ns;
			g->caplen = frame.caplen;
			g->wire_len = frame.wire_len;
			g->link = frame.link;
			g->link_raw = frame.link_raw;
			memcpy(g->data, frame.data, frame.caplen < 64 ? frame.caplen : 64);
		}
		(*n_got)++;
	}
	/* The end is sticky. */
	if (status == PCAP_EOF)
		CHECK_EQ_U64(pcap_next(r, &frame), PCAP_EOF);
	pcap_close(r);
	return status;
}

static int read_whole(const struct wb *w, struct got *got, size_t max, size_t *n_got)
{
	return read_file(w, w->n, got, max, n_got);
}

/* Every prefix of w ends in FORMAT (no magic yet), TRUNCATED, or EOF exactly at a boundary, with
 * the frames wholly inside the prefix read. */
static void check_prefixes(const struct wb *w)
{
	for (size_t cut = 0; cut <= w->n; cut++) {
		struct got got[4];
		size_t n_got, frames = 0;
		bool boundary = false;
		int status = read_file(w, cut, got, 4, &n_got);

		for (int i = 0; i < w->n_marks && w->mark[i] <= cut; i++) {
			frames += w->mark_frame[i];
			boundary = w->mark[i] == cut;
		}
		if (cut < 4)
			CHECK_EQ_U64(status, PCAP_ERR_FORMAT);
		else if (boundary)
			CHECK_EQ_U64(status, PCAP_EOF);
		else
			CHECK_STR(pcap_status_name(status), pcap_status_name(PCAP_ERR_TRUNCATED));
		CHECK_EQ_U64(n_got, frames);
	}
}

/* ---- tests ------------------------------------------------------------------------------- */

static const uint8_t pkt_a[] = "0123456789abcdefghijklmnopqrstuvwxyz";
static const uint8_t pkt_b[] = "ABCDEFG";

static void test_classic(void)
{
	for (int be = 0; be <= 1; be++) {
		for (int nsec = 0; nsec <= 1; nsec++) {
			struct wb w = {.be = be};
			struct got g[4];
			size_t n;

			classic_header(&w, nsec ? MAGIC_NSEC : MAGIC_USEC, 1);
			classic_record(&w, 1700000000, 123456, pkt_a, 36, 36);
			classic_record(&w, 1700000001, 999999, pkt_b, 5, 1500);
			/* caplen above orig_len: tolerated, the wire length is the larger. */
			classic_record(&w, 0, 0, pkt_b, 7, 3);
			classic_record(&w, 0xffffffffu, 0, pkt_a, 0, 0);

			CHECK_EQ_U64(read_whole(&w, g, 4, &n), PCAP_EOF);
			CHECK_EQ_U64(n, 4);
			CHECK_EQ_U64(g[0].ts_ns,
			             1700000000000000000ull + 123456ull * (nsec ? 1 : 1000));
			CHECK_EQ_U64(g[0].caplen, 36);
			CHECK_EQ_U64(g[0].wire_len, 36);
			CHECK_EQ_U64(g[0].link, PKT_LINK_ETHERNET);
			CHECK_EQ_U64(g[0].link_raw, 1);
			CHECK(memcmp(g[0].data, pkt_a, 36) == 0);
			CHECK_EQ_U64(g[1].ts_ns,
			             1700000001000000000ull + 999999ull * (nsec ? 1 : 1000));
			CHECK_EQ_U64(g[1].caplen, 5);
			CHECK_EQ_U64(g[1].wire_len, 1500);
			CHECK(memcmp(g[1].data, pkt_b, 5) == 0);
			CHECK_EQ_U64(g[2].caplen, 7);
			CHECK_EQ_U64(g[2].wire_len, 7);
			CHECK_EQ_U64(g[3].ts_ns, 0xffffffffull * 1000000000ull);
			CHECK_EQ_U64(g[3].caplen, 0);
			check_prefixes(&w);
			wb_free(&w);
		}
	}
}

static void test_classic_linktypes(void)
{
	static const struct {
		uint32_t field;
		uint32_t want;
	} cases[] = {
	        {0x00000071, PKT_LINK_LINUX_SLL},
	        {0x00000114, PKT_LINK_LINUX_SLL2},
	        {0x44000001, PKT_LINK_ETHERNET}, /* FCS present, 4 bytes of it */
	        {0x00000093, 147},               /* a user link type passes through */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wb w = {0};
		struct got g[1];
		size_t n;

		classic_header(&w, MAGIC_USEC, cases[i].field);
		classic_record(&w, 1, 2, pkt_b, 3, 3);
		CHECK_EQ_U64(read_whole(&w, g, 1, &n), PCAP_EOF);
		CHECK_EQ_U64(n, 1);
		CHECK_EQ_U64(g[0].link, cases[i].want);
		CHECK_EQ_U64(g[0].link_raw, cases[i].want);
		wb_free(&w);
	}
}

static void test_classic_caplen_limit(void)
{
	struct wb w = {0};
	struct got g[1];
	size_t n;
	uint8_t *big = calloc(1, 256 * 1024);

	classic_header(&w, MAGIC_USEC, 1);
	classic_record(&w, 1, 2, big, 256 * 1024, 256 * 1024);
	CHECK_EQ_U64(read_whole(&w, g, 1, &n), PCAP_EOF);
	CHECK_EQ_U64(n, 1);
	CHECK_EQ_U64(g[0].caplen, 256 * 1024);

	/* One byte more is no real capture. */
	patch32(&w, 24 + 8, 256 * 1024 + 1);
	CHECK_EQ_U64(read_whole(&w, g, 1, &n), PCAP_ERR_CORRUPT);
	patch32(&w, 24 + 8, 0xffffffffu);
	CHECK_EQ_U64(read_whole(&w, g, 1, &n), PCAP_ERR_CORRUPT);
	CHECK_EQ_U64(n, 0);
	free(big);
	wb_free(&w);
}

static void test_classic_from_file(void)
{
	struct wb w = {.be = true};
	FILE *f = tmpfile();
	struct pcap_reader *r;
	struct pcap_frame frame;

	classic_header(&w, MAGIC_NSEC, 101);
	classic_record(&w, 10, 20, pkt_a, 10, 10);
	fwrite(w.b, 1, w.n, f);
	rewind(f);
	CHECK_EQ_U64(pcap_open(f, &r), 0);
	CHECK_EQ_U64(pcap_next(r, &frame), PCAP_FRAME);
	CHECK_EQ_U64(frame.ts_ns, 10000000020ull);
	CHECK_EQ_U64(frame.link, PKT_LINK_RAW);
	CHECK(memcmp(frame.data, pkt_a, 10) == 0);
	CHECK_EQ_U64(pcap_next(r, &frame), PCAP_EOF);
	pcap_close(r);
	wb_free(&w);
}

static void test_read_error(void)
{
	/* fread on a write-only stream fails with EBADF: an I/O error, not a short file. */
	FILE *f = fopen("/dev/null", "w");
	struct pcap_reader *r;

	CHECK_EQ_U64(pcap_open(f, &r), PCAP_ERR_IO);
	CHECK(r == NULL);
	pcap_close(NULL);
}

static void test_not_a_capture(void)
{
	struct wb w = {0};
	size_t n;

	CHECK_EQ_U64(read_whole(&w, NULL, 0, &n), PCAP_ERR_FORMAT);
	w_bytes(&w, "GET / HTTP/1.1\r\n\r\n", 18);
	CHECK_EQ_U64(read_whole(&w, NULL, 0, &n), PCAP_ERR_FORMAT);
	wb_free(&w);

	/* The microsecond magic with one byte off. */
	w_bytes(&w, "\xd4\xc3\xb2\xa0", 4);
	w_zeros(&w, 20);
	CHECK_EQ_U64(read_whole(&w, NULL, 0, &n), PCAP_ERR_FORMAT);
	wb_free(&w);

	/* A pcapng block type with no byte-order magic after it. */
	w32(&w, NG_SHB);
	w32(&w, 28);
	w32(&w, 0x12345678);
	w_zeros(&w, 16);
	CHECK_EQ_U64(read_whole(&w, NULL, 0, &n), PCAP_ERR_FORMAT);
	wb_free(&w);

	/* A pcapng section of a major version we cannot parse. */
	ng_shb(&w);
	w.b[12] = 2;
	CHECK_EQ_U64(read_whole(&w, NULL, 0, &n), PCAP_ERR_FORMAT);
	wb_free(&w);
}

/* One section: three interfaces with different resolutions, unknown blocks, EPBs and an SPB. */
static void build_pcapng(struct wb *w)
{
	ng_shb(w);
	ng_idb(w, 1, 0, -1);
	ng_other(w, 0x0badcafe, 12);
	ng_idb(w, 101, 65535, 9);
	ng_idb(w, 113, 65535, 0x94);
	ng_epb(w, 0, 1700000000123456ull, pkt_a, 36, 36);
	ng_epb(w, 1, 1700000000123456789ull, pkt_b, 7, 60);
	ng_other(w, 5 /* interface statistics */, 40);
	ng_epb(w, 2, (1700000000ull << 20) | (1u << 19), pkt_a, 1, 1);
	ng_spb(w, pkt_b, 6, 6);
}

static void test_pcapng(void)
{
	for (int be = 0; be <= 1; be++) {
		struct wb w = {.be = be};
		struct got g[4];
		size_t n;

		build_pcapng(&w);
		CHECK_EQ_U64(read_whole(&w, g, 4, &n), PCAP_EOF);
		CHECK_EQ_U64(n, 4);
		CHECK_EQ_U64(g[0].ts_ns, 1700000000123456000ull);
		CHECK_EQ_U64(g[0].caplen, 36);
		CHECK_EQ_U64(g[0].wire_len, 36);
		CHECK_EQ_U64(g[0].link, PKT_LINK_ETHERNET);
		CHECK(memcmp(g[0].data, pkt_a, 36) == 0);
		CHECK_EQ_U64(g[1].ts_ns, 1700000000123456789ull);
		CHECK_EQ_U64(g[1].caplen, 7);
		CHECK_EQ_U64(g[1].wire_len, 60);
		CHECK_EQ_U64(g[1].link, PKT_LINK_RAW);
		CHECK_EQ_U64(g[1].link_raw, 101);
		CHECK(memcmp(g[1].data, pkt_b, 7) == 0);
		CHECK_EQ_U64(g[2].ts_ns, 1700000000500000000ull);
		CHECK_EQ_U64(g[2].link, PKT_LINK_LINUX_SLL);
		CHECK_EQ_U64(g[2].caplen, 1);
		/* The SPB: interface 0, no timestamp, the captured length from the original one
		 * rather than the padded block. */
		CHECK_EQ_U64(g[3].ts_ns, 0);
		CHECK_EQ_U64(g[3].link, PKT_LINK_ETHERNET);
		CHECK_EQ_U64(g[3].caplen, 6);
		CHECK_EQ_U64(g[3].wire_len, 6);
		CHECK(memcmp(g[3].data, pkt_b, 6) == 0);
		check_prefixes(&w);
		wb_free(&w);
	}
}

static void test_pcapng_spb_lengths(void)
{
	struct wb w = {0};
	struct got g[3];
	size_t n;

	ng_shb(&w);
	ng_idb(&w, 1, 0, -1);       /* no snap length */
	ng_spb(&w, pkt_a, 8, 1514); /* the block cuts */
	ng_spb(&w, pkt_a, 8, 5);    /* the original length cuts (padding is not data) */
	ng_spb(&w, pkt_a, 0, 0);
	CHECK_EQ_U64(read_whole(&w, g, 3, &n), PCAP_EOF);
	CHECK_EQ_U64(n, 3);
	CHECK_EQ_U64(g[0].caplen, 8);
	CHECK_EQ_U64(g[0].wire_len, 1514);
	CHECK_EQ_U64(g[1].caplen, 5);
	CHECK_EQ_U64(g[1].wire_len, 5);
	CHECK_EQ_U64(g[2].caplen, 0);
	wb_free(&w);

	ng_shb(&w);
	ng_idb(&w, 1, 4, -1);
	ng_spb(&w, pkt_a, 8, 1514); /* the snap length cuts */
	CHECK_EQ_U64(read_whole(&w, g, 1, &n), PCAP_EOF);
	CHECK_EQ_U64(g[0].caplen, 4);
	CHECK_EQ_U64(g[0].wire_len, 1514);
	CHECK(memcmp(g[0].data, pkt_a, 4) == 0);
	wb_free(&w);
}

static void test_pcapng_sections(void)
{
	struct wb w = {0};
	struct got g[3];
	size_t n;

	ng_shb(&w);
	ng_idb(&w, 1, 0, -1);
	ng_idb(&w, 113, 0, 9);
	ng_epb(&w, 1, 5, pkt_a, 4, 4);
	/* A second section, in the other byte order, with its own interfaces. */
	w.be = true;
	ng_shb(&w);
	ng_idb(&w, 101, 0, 0);
	ng_epb(&w, 0, 7, pkt_b, 3, 3);
	ng_spb(&w, pkt_b, 2, 2);
	CHECK_EQ_U64(read_whole(&w, g, 3, &n), PCAP_EOF);
	CHECK_EQ_U64(n, 3);
	CHECK_EQ_U64(g[0].link, PKT_LINK_LINUX_SLL);
	CHECK_EQ_U64(g[0].ts_ns, 5);
	CHECK_EQ_U64(g[1].link, PKT_LINK_RAW);
	CHECK_EQ_U64(g[1].ts_ns, 7000000000ull);
	CHECK(memcmp(g[1].data, pkt_b, 3) == 0);
	CHECK_EQ_U64(g[2].link, PKT_LINK_RAW);
	check_prefixes(&w);

	/* Interface 1 belonged to the first section only. */
	ng_epb(&w, 1, 7, pkt_b, 3, 3);
	CHECK_EQ_U64(read_whole(&w, g, 3, &n), PCAP_ERR_CORRUPT);
	CHECK_EQ_U64(n, 3);
	wb_free(&w);
}

static void test_pcapng_tsresol(void)
{
	static const struct {
		int tsresol;
		uint64_t ts;
		uint64_t want_ns;
	} cases[] = {
	        {0, 5, 5000000000ull},                         /* seconds */
	        {3, 1700000000123ull, 1700000000123000000ull}, /* milliseconds */
	        {12, 5000, 5},                                 /* picoseconds */
	        {19, 10000000000ull, 1},                       /* 10^-19 s */
	        {29, UINT64_MAX, 0},                           /* finer than the table */
	        {127, UINT64_MAX, 0},
	        {0x80, 5, 5000000000ull},                           /* 2^0 s */
	        {0x8a, (3ull << 10) | 512, 3500000000ull},          /* 2^-10 s */
	        {0xa0, (3ull << 32) | (1ull << 31), 3500000000ull}, /* 2^-32 s */
	        {0xa8, (7ull << 40) | (1ull << 39), 7500000000ull}, /* 2^-40 s */
	        {0xc0, 1ull << 63, 500000000ull},                   /* 2^-64 s */
	        {0xc0, 1ull << 29, 0},                              /* 2^-35 s in all: below 1 ns */
	        {0xff, UINT64_MAX, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wb w = {0};
		struct got g[1];
		size_t n;

		ng_shb(&w);
		ng_idb(&w, 1, 0, cases[i].tsresol);
		ng_epb(&w, 0, cases[i].ts, pkt_b, 1, 1);
		CHECK_EQ_U64(read_whole(&w, g, 1, &n), PCAP_EOF);
		CHECK_EQ_U64(n, 1);
		CHECK_EQ_U64(g[0].ts_ns, cases[i].want_ns);
		wb_free(&w);
	}
}

/* A valid one-interface file followed by whatever build() appends; the result must be CORRUPT
 * after the one good frame. */
static void check_corrupt_tail(void (*build)(struct wb *w), bool be)
{
	struct wb w = {.be = be};
	struct got g[2];
	size_t n;

	ng_shb(&w);
	ng_idb(&w, 1, 0, -1);
	ng_epb(&w, 0, 1, pkt_a, 8, 8);
	build(&w);
	CHECK_STR(pcap_status_name(read_whole(&w, g, 2, &n)), pcap_status_name(PCAP_ERR_CORRUPT));
	CHECK_EQ_U64(n, 1);
	wb_free(&w);
}

static void tail_len_not_multiple_of_4(struct wb *w)
{
	/* Consistent with its trailer, but not 4-byte aligned. */
	w32(w, 0x0badcafe);
	w32(w, 13);
	w_zeros(w, 1);
	w32(w, 13);
}

static void tail_len_below_12(struct wb *w)
{
	w32(w, 0x0badcafe);
	w32(w, 8);
	w32(w, 8);
}

static void tail_len_huge(struct wb *w)
{
	w32(w, 0x0badcafe);
	w32(w, (16u << 20) + 4);
	w_zeros(w, 64);
}

static void tail_trailer_mismatch(struct wb *w)
{
	ng_other(w, 0x0badcafe, 8);
	patch32(w, w->n - 4, 24);
}

static void tail_epb_caplen_beyond_block(struct wb *w)
{
	size_t start = w->n;

	ng_epb(w, 0, 1, pkt_a, 8, 8);
	/* 8 bytes of data and 20 of options: 29 is past the block. */
	patch32(w, start + 20, 29);
}

static void tail_epb_bad_interface(struct wb *w)
{
	ng_epb(w, 1, 1, pkt_a, 8, 8);
}

static void tail_epb_too_short(struct wb *w)
{
	ng_other(w, 6, 16);
}

static void tail_idb_too_short(struct wb *w)
{
	ng_other(w, 1, 4);
}

static void tail_idb_option_overrun(struct wb *w)
{
	size_t start = block_begin(w, 1);

	w16(w, 1);
	w16(w, 0);
	w32(w, 0);
	w16(w, 2);
	w16(w, 9); /* 12 bytes padded, 4 present */
	w32(w, 0);
	block_end(w, start, false);
}

static void tail_spb_too_short(struct wb *w)
{
	ng_other(w, 3, 0);
}

static void tail_shb_too_short(struct wb *w)
{
	size_t start = block_begin(w, NG_SHB);

	w32(w, 0x1a2b3c4d);
	w16(w, 1);
	w16(w, 0);
	block_end(w, start, false);
}

static void tail_too_many_interfaces(struct wb *w)
{
	for (int i = 1; i <= 1024; i++)
		ng_idb(w, 1, 0, -1);
}

static void test_pcapng_corrupt(void)
{
	void (*const tails[])(struct wb *) = {
	        tail_len_not_multiple_of_4,
	        tail_len_below_12,
	        tail_len_huge,
	        tail_trailer_mismatch,
	        tail_epb_caplen_beyond_block,
	        tail_epb_bad_interface,
	        tail_epb_too_short,
	        tail_idb_too_short,
	        tail_idb_option_overrun,
	        tail_spb_too_short,
	        tail_shb_too_short,
	        tail_too_many_interfaces,
	};

	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		check_corrupt_tail(tails[i], false);
		check_corrupt_tail(tails[i], true);
	}
}

static void test_pcapng_interface_limit(void)
{
	struct wb w = {0};
	struct got g[1];
	size_t n;

	ng_shb(&w);
	for (int i = 0; i < 1024; i++)
		ng_idb(&w, (uint16_t)i, 0, -1);
	ng_epb(&w, 1023, 1, pkt_a, 8, 8);
	CHECK_EQ_U64(read_whole(&w, g, 1, &n), PCAP_EOF);
	CHECK_EQ_U64(n, 1);
	CHECK_EQ_U64(g[0].link_raw, 1023);
	wb_free(&w);

	/* An SPB needs an interface 0. */
	ng_shb(&w);
	ng_spb(&w, pkt_a, 4, 4);
	CHECK_EQ_U64(read_whole(&w, g, 1, &n), PCAP_ERR_CORRUPT);
	wb_free(&w);
}

static void test_status_names(void)
{
	CHECK_STR(pcap_status_name(PCAP_EOF), "eof");
	CHECK_STR(pcap_status_name(PCAP_FRAME), "frame");
	CHECK_STR(pcap_status_name(PCAP_ERR_IO), "io");
	CHECK_STR(pcap_status_name(PCAP_ERR_FORMAT), "format");
	CHECK_STR(pcap_status_name(PCAP_ERR_TRUNCATED), "truncated");
	CHECK_STR(pcap_status_name(PCAP_ERR_CORRUPT), "corrupt");
	CHECK_STR(pcap_status_name(99), "unknown");
}

int main(void)
{
	test_classic();
	test_classic_linktypes();
	test_classic_caplen_limit();
	test_classic_from_file();
	test_read_error();
	test_not_a_capture();
	test_pcapng();
	test_pcapng_spb_lengths();
	test_pcapng_sections();
	test_pcapng_tsresol();
	test_pcapng_corrupt();
	test_pcapng_interface_limit();
	test_status_names();
	return check_report("test_pcap");
}
