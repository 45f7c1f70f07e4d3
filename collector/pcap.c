#include "pcap.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NSEC_PER_SEC 1000000000ull

#define PCAP_MAGIC_USEC  0xa1b2c3d4u
#define PCAP_MAGIC_NSEC  0xa1b23c4du
#define PCAP_GLOBAL_HLEN 24
#define PCAP_RECORD_HLEN 16
/* Above any real snap length (tcpdump's default is 262144) yet small enough that a corrupt record
 * cannot make us allocate gigabytes. */
#define PCAP_MAX_CAPLEN (256u * 1024)
/* libpcap's LT_LINKTYPE(): the bits above carry the FCS length and its "present" flag. */
#define PCAP_LINKTYPE_MASK 0x03ffffffu

#define NG_SHB              0x0a0d0d0au
#define NG_IDB              1
#define NG_SPB              3
#define NG_EPB              6
#define NG_BYTE_ORDER_MAGIC 0x1a2b3c4du
#define NG_BLOCK_HLEN       8 /* type and total length, before the body */
#define NG_BLOCK_MIN_LEN    12
#define NG_SHB_MIN_LEN      28
#define NG_IDB_MIN_LEN      20
#define NG_SPB_MIN_LEN      16
#define NG_EPB_MIN_LEN      32
#define NG_OPT_END          0
#define NG_OPT_TSRESOL      9
#define NG_DEFAULT_TSRESOL  6 /* microseconds */
/* Real files have a handful of interfaces, and blocks of at most one snap length plus options; the
 * caps bound what a corrupt file can make us allocate. */
#define NG_MAX_IFACES    1024
#define NG_MAX_BLOCK_LEN (16u << 20)

/* Enough for any usual block or record without growing. */
#define INITIAL_BUF_SIZE (64u * 1024)

/* Internal reads follow pcap_next's convention: > 0 done, 0 clean end, < 0 error. */
#define READ_OK 1

struct ng_iface {
	uint32_t linktype;
	uint32_t snaplen;
	uint8_t tsresol;
};

struct pcap_reader {
	FILE *f;
	bool pcapng;
	bool big_endian; /* byte order of the file, or of the current pcapng section */
	uint8_t *buf;    /* the current record or block */
	size_t buf_cap;

	/* classic pcap */
	uint32_t linktype;
	uint32_t ns_per_frac; /* 1000 for microsecond files, 1 for nanosecond ones */

	/* pcapng: the current section's interfaces */
	uint32_t block_len;
	struct ng_iface *ifaces;
	uint32_t n_ifaces;
	uint32_t ifaces_cap;
};

/* Both formats store integers in the byte order of the machine that wrote them. */
static uint32_t load(const uint8_t *p, size_t n, bool big_endian)
{
	uint32_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint32_t)p[big_endian ? i : n - 1 - i] << (8 * (n - 1 - i));
	return v;
}

static uint16_t rd16(const struct pcap_reader *r, const uint8_t *p)
{
	return (uint16_t)load(p, 2, r->big_endian);
}

static uint32_t rd32(const struct pcap_reader *r, const uint8_t *p)
{
	return load(p, 4, r->big_endian);
}

/* Sets the reader's byte order from a magic number written in the writer's; false if p holds the
 * magic in neither order. */
static bool byte_order_from_magic(struct pcap_reader *r, const uint8_t *p, uint32_t magic)
{
	if (load(p, 4, false) == magic)
		r->big_endian = false;
	else if (load(p, 4, true) == magic)
		r->big_endian = true;
	else
		return false;
	return true;
}

/* Reads exactly n bytes. Running out before the first byte is a clean end only where a record may
 * start (eof_ok); anywhere else the file was cut. */
static int read_exact(struct pcap_reader *r, uint8_t *dst, size_t n, bool eof_ok)
{
	size_t got = fread(dst, 1, n, r->f);

	if (got == n)
		return READ_OK;
	if (ferror(r->f))
		return PCAP_ERR_IO;
	return got == 0 && eof_ok ? PCAP_EOF : PCAP_ERR_TRUNCATED;
}

/* Grows the record buffer to hold n bytes; callers bound n first. */
static int reserve(struct pcap_reader *r, size_t n)
{
	size_t cap = r->buf_cap ? r->buf_cap : INITIAL_BUF_SIZE;
	uint8_t *buf;

	if (n <= r->buf_cap)
		return 0;
	while (cap < n)
		cap *= 2;
	buf = realloc(r->buf, cap);
	if (!buf)
		return PCAP_ERR_IO; /* errno is ENOMEM */
	r->buf = buf;
	r->buf_cap = cap;
	return 0;
}

static void fill_frame(struct pcap_frame *frame, uint64_t ts_ns, const uint8_t *data,
                       uint32_t caplen, uint32_t orig_len, uint32_t linktype)
{
	frame->ts_ns = ts_ns;
	frame->data = data;
	frame->caplen = caplen;
	/* Some writers store a wire length below the captured one; the frame is at least what was
	 * captured. */
	frame->wire_len = orig_len > caplen ? orig_len : caplen;
	frame->link = (enum pkt_link)linktype;
	frame->link_raw = linktype;
}

/* ---- classic pcap ------------------------------------------------------------------------ */

static int classic_open(struct pcap_reader *r)
{
	int status;

	if (byte_order_from_magic(r, r->buf, PCAP_MAGIC_USEC))
		r->ns_per_frac = 1000;
	else if (byte_order_from_magic(r, r->buf, PCAP_MAGIC_NSEC))
		r->ns_per_frac = 1;
	else
		return PCAP_ERR_FORMAT;
	status = read_exact(r, r->buf + 4, PCAP_GLOBAL_HLEN - 4, false);
	if (status < 0)
		return status;
	r->linktype = rd32(r, r->buf + 20) & PCAP_LINKTYPE_MASK;
	return 0;
}

static int classic_next(struct pcap_reader *r, struct pcap_frame *frame)
{
	uint8_t h[PCAP_RECORD_HLEN];
	uint32_t caplen;
	uint64_t ts_ns;
	int status;

	status = read_exact(r, h, sizeof(h), true);
	if (status <= 0)
		return status;
	caplen = rd32(r, h + 8);
	if (caplen > PCAP_MAX_CAPLEN)
		return PCAP_ERR_CORRUPT;
	status = reserve(r, caplen);
	if (status < 0)
		return status;
	status = read_exact(r, r->buf, caplen, false);
	if (status < 0)
		return status;
	ts_ns = (uint64_t)rd32(r, h) * NSEC_PER_SEC + (uint64_t)rd32(r, h + 4) * r->ns_per_frac;
	fill_frame(frame, ts_ns, r->buf, caplen, rd32(r, h + 12), r->linktype);
	return PCAP_FRAME;
}

/* ---- pcapng ------------------------------------------------------------------------------ */

/* Reads one block into r->buf and sets r->block_len. have_type: its type is already in r->buf
 * (pcap_open read it as the file magic). */
static int ng_read_block(struct pcap_reader *r, bool have_type)
{
	size_t have = NG_BLOCK_HLEN;
	uint32_t len;
	int status;

	if (!have_type) {
		status = read_exact(r, r->buf, 4, true);
		if (status <= 0)
			return status;
	}
	status = read_exact(r, r->buf + 4, 4, false);
	if (status < 0)
		return status;
	/* The SHB type reads the same in both byte orders, but its length does not: the byte-order
	 * magic after it decides how to read everything in the section. */
	if (load(r->buf, 4, false) == NG_SHB) {
		status = read_exact(r, r->buf + have, 4, false);
		if (status < 0)
			return status;
		if (!byte_order_from_magic(r, r->buf + have, NG_BYTE_ORDER_MAGIC))
			return PCAP_ERR_FORMAT;
		have += 4;
	}
	len = rd32(r, r->buf + 4);
	if (len < NG_BLOCK_MIN_LEN || len % 4 != 0 || len > NG_MAX_BLOCK_LEN)
		return PCAP_ERR_CORRUPT;
	status = reserve(r, len);
	if (status < 0)
		return status;
	status = read_exact(r, r->buf + have, len - have, false);
	if (status < 0)
		return status;
	if (rd32(r, r->buf + len - 4) != len)
		return PCAP_ERR_CORRUPT;
	r->block_len = len;
	return READ_OK;
}

static int ng_section(struct pcap_reader *r)
{
	if (r->block_len < NG_SHB_MIN_LEN)
		return PCAP_ERR_CORRUPT;
	/* A new major version may change any block's layout. */
	if (rd16(r, r->buf + 12) != 1)
		return PCAP_ERR_FORMAT;
	r->n_ifaces = 0;
	return 0;
}

/* Only if_tsresol matters to us; the walk still checks every option's length. */
static int ng_iface_options(const struct pcap_reader *r, const uint8_t *p, size_t n,
                            struct ng_iface *iface)
{
	while (n >= 4) {
		uint16_t code = rd16(r, p);
		size_t len = rd16(r, p + 2);
		size_t padded = (len + 3) & ~(size_t)3;

		if (code == NG_OPT_END)
			break;
		if (padded > n - 4)
			return PCAP_ERR_CORRUPT;
		if (code == NG_OPT_TSRESOL && len >= 1)
			iface->tsresol = p[4];
		p += 4 + padded;
		n -= 4 + padded;
	}
	return 0;
}

static int ng_interface(struct pcap_reader *r)
{
	struct ng_iface *iface;
	int status;

	if (r->block_len < NG_IDB_MIN_LEN || r->n_ifaces == NG_MAX_IFACES)
		return PCAP_ERR_CORRUPT;
	if (r->n_ifaces == r->ifaces_cap) {
		uint32_t cap = r->ifaces_cap ? r->ifaces_cap * 2 : 4;
		struct ng_iface *ifaces = realloc(r->ifaces, cap * sizeof(*ifaces));

		if (!ifaces)
			return PCAP_ERR_IO;
		r->ifaces = ifaces;
		r->ifaces_cap = cap;
	}
	iface = &r->ifaces[r->n_ifaces];
	iface->linktype = rd16(r, r->buf + 8);
	iface->snaplen = rd32(r, r->buf + 12);
	iface->tsresol = NG_DEFAULT_TSRESOL;
	status = ng_iface_options(r, r->buf + 16, r->block_len - NG_IDB_MIN_LEN, iface);
	if (status < 0)
		return status;
	r->n_ifaces++;
	return 0;
}

/* The largest power of ten that fits in 64 bits. */
#define POW10_MAX_EXP 19

static uint64_t pow10_u64(uint32_t exp)
{
	uint64_t v = 1;

	while (exp--)
		v *= 10;
	return v;
}

static uint64_t pow2_units_to_ns(uint64_t ts, uint32_t exp)
{
	uint64_t frac;

	/* Coarsen to 2^-32 s (0.23 ns) so that frac * 10^9 below fits in 64 bits. */
	if (exp > 32) {
		ts = exp - 32 < 64 ? ts >> (exp - 32) : 0;
		exp = 32;
	}
	frac = ts & ((1ull << exp) - 1);
	return (ts >> exp) * NSEC_PER_SEC + ((frac * NSEC_PER_SEC) >> exp);
}

/* if_tsresol: the low 7 bits are an exponent, of 2 if the high bit is set, else of 10; the
 * timestamp counts units of 10^-exp (or 2^-exp) seconds. */
static uint64_t ng_ts_ns(uint8_t tsresol, uint64_t ts)
{
	uint32_t exp = tsresol & 0x7f;

	if (tsresol & 0x80)
		return pow2_units_to_ns(ts, exp);
	if (exp <= 9)
		return ts * pow10_u64(9 - exp);
	/* Any finer and every 64-bit count of such units is below one nanosecond. */
	return exp - 9 <= POW10_MAX_EXP ? ts / pow10_u64(exp - 9) : 0;
}

static int ng_enhanced_packet(struct pcap_reader *r, struct pcap_frame *frame)
{
	const uint8_t *b = r->buf;
	const struct ng_iface *iface;
	uint32_t if_id, caplen;
	uint64_t ts;

	if (r->block_len < NG_EPB_MIN_LEN)
		return PCAP_ERR_CORRUPT;
	if_id = rd32(r, b + 8);
	caplen = rd32(r, b + 20);
	if (if_id >= r->n_ifaces || caplen > r->block_len - NG_EPB_MIN_LEN)
		return PCAP_ERR_CORRUPT;
	iface = &r->ifaces[if_id];
	ts = (uint64_t)rd32(r, b + 12) << 32 | rd32(r, b + 16);
	fill_frame(frame, ng_ts_ns(iface->tsresol, ts), b + 28, caplen, rd32(r, b + 24),
	           iface->linktype);
	return PCAP_FRAME;
}

/* A Simple Packet Block has no interface id (it is always the first), no timestamp and no
 * captured length: that follows from the block length and the interface's snap length. */
static int ng_simple_packet(struct pcap_reader *r, struct pcap_frame *frame)
{
	uint32_t orig_len, caplen;

	if (r->block_len < NG_SPB_MIN_LEN || r->n_ifaces == 0)
		return PCAP_ERR_CORRUPT;
	orig_len = rd32(r, r->buf + 8);
	caplen = r->block_len - NG_SPB_MIN_LEN;
	if (orig_len < caplen)
		caplen = orig_len;
	if (r->ifaces[0].snaplen != 0 && r->ifaces[0].snaplen < caplen)
		caplen = r->ifaces[0].snaplen;
	fill_frame(frame, 0, r->buf + 12, caplen, orig_len, r->ifaces[0].linktype);
	return PCAP_FRAME;
}

/* PCAP_FRAME, 0 for a block that carries no frame, or a negative enum pcap_status. */
static int ng_block(struct pcap_reader *r, struct pcap_frame *frame)
{
	switch (rd32(r, r->buf)) {
	case NG_SHB:
		return ng_section(r);
	case NG_IDB:
		return ng_interface(r);
	case NG_EPB:
		return ng_enhanced_packet(r, frame);
	case NG_SPB:
		return ng_simple_packet(r, frame);
	default:
		return 0;
	}
}

static int ng_next(struct pcap_reader *r, struct pcap_frame *frame)
{
	for (;;) {
		int status = ng_read_block(r, false);

		if (status <= 0)
			return status;
		status = ng_block(r, frame);
		if (status != 0)
			return status;
	}
}

/* ---- public ------------------------------------------------------------------------------ */

static int open_reader(struct pcap_reader *r)
{
	int status = reserve(r, INITIAL_BUF_SIZE);

	if (status < 0)
		return status;
	status = read_exact(r, r->buf, 4, false);
	if (status < 0)
		/* Too short to hold a magic number: not a capture file at all. */
		return status == PCAP_ERR_TRUNCATED ? PCAP_ERR_FORMAT : status;
	if (load(r->buf, 4, false) != NG_SHB)
		return classic_open(r);
	r->pcapng = true;
	status = ng_read_block(r, true);
	return status < 0 ? status : ng_section(r);
}

int pcap_open(FILE *f, struct pcap_reader **out)
{
	struct pcap_reader *r = calloc(1, sizeof(*r));
	int status;

	*out = NULL;
	if (!r) {
		fclose(f);
		return PCAP_ERR_IO;
	}
	r->f = f;
	status = open_reader(r);
	if (status < 0) {
		pcap_close(r);
		return status;
	}
	*out = r;
	return 0;
}

int pcap_next(struct pcap_reader *r, struct pcap_frame *frame)
{
	return r->pcapng ? ng_next(r, frame) : classic_next(r, frame);
}

void pcap_close(struct pcap_reader *r)
{
	if (!r)
		return;
	fclose(r->f);
	free(r->ifaces);
	free(r->buf);
	free(r);
}

const char *pcap_status_name(int status)
{
	switch (status) {
	case PCAP_EOF:
		return "eof";
	case PCAP_FRAME:
		return "frame";
	case PCAP_ERR_IO:
		return "io";
	case PCAP_ERR_FORMAT:
		return "format";
	case PCAP_ERR_TRUNCATED:
		return "truncated";
	case PCAP_ERR_CORRUPT:
		return "corrupt";
	default:
		return "unknown";
	}
}
