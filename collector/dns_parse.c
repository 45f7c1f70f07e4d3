#include "dns_parse.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define HEADER_BYTES   12
#define MIN_QUESTION   5   /* root name, type, class */
#define MIN_RR         11  /* root name, type, class, ttl, rdlength */
#define MAX_POINTERS   127 /* one per label of the longest name: more can only be a loop */
#define CAA_MAX_TAG    15  /* RFC 8659 4.1 */
#define OPCODE_QUERY   0
#define OPCODE_NOTIFY  4
#define OPCODE_UPDATE  5
#define FLAG_Z         0x40 /* in the header's fourth byte: must be zero (RFC 1035 4.1.1) */
#define EDNS_DO        0x8000
#define QUERY_MAX_ADDL 2 /* OPT and TSIG */

enum {
	T_A = 1,
	T_NS = 2,
	T_CNAME = 5,
	T_SOA = 6,
	T_PTR = 12,
	T_MX = 15,
	T_TXT = 16,
	T_AAAA = 28,
	T_SRV = 33,
	T_DNAME = 39,
	T_OPT = 41,
	T_SVCB = 64,
	T_HTTPS = 65,
	T_SPF = 99,
	T_CAA = 257,
};

/* What a read yields. SHORT: the bytes ran out where more of the message may exist (the end of
 * the buffer); BAD: the message itself is malformed. */
enum { OK, SHORT, BAD };

/* A read position: bytes [off, end) of the buffer p[0..n). Running past end yields overrun:
 * SHORT where end is the buffer's end, BAD where it is the end of a record's data (the record
 * says that nothing of it lies beyond). */
struct cur {
	const uint8_t *p;
	size_t n;
	size_t off, end;
	int overrun;
};

/* A string being written at the free end of the arena. Pieces (a character, an escape, a number)
 * go in whole or not at all, so a cut never splits an escape sequence. */
struct out {
	char *s;
	size_t len;
	size_t limit; /* characters that fit, the NUL aside */
	size_t safe;  /* length at the last piece boundary that leaves room for "..." */
	bool full;    /* a piece did not fit */
	bool may_cut; /* the limit is the caller's cap, not the arena's end: cut with "..." */
};

struct rr_wire {
	size_t owner; /* offset of the owner name */
	uint16_t type, class;
	uint32_t ttl;
	struct cur data; /* the RDATA; overrun is BAD */
};

static uint16_t be16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int take(struct cur *c, size_t k, const uint8_t **b)
{
	if (c->end - c->off < k)
		return c->overrun;
	*b = c->p + c->off;
	c->off += k;
	return OK;
}

static int get_u8(struct cur *c, uint8_t *v)
{
	const uint8_t *b;
	int rc = take(c, 1, &b);

	if (rc == OK)
		*v = b[0];
	return rc;
}

static int get_u16(struct cur *c, uint16_t *v)
{
	const uint8_t *b;
	int rc = take(c, 2, &b);

	if (rc == OK)
		*v = be16(b);
	return rc;
}

static int get_u32(struct cur *c, uint32_t *v)
{
	const uint8_t *b;
	int rc = take(c, 4, &b);

	if (rc == OK)
		*v = be32(b);
	return rc;
}

/* ---- output ---------------------------------------------------------------------------------- */

/* Starts a string of at most cap bytes, NUL included, at the arena's free end. */
static void out_open(struct out *o, struct dns_msg *m, size_t cap)
{
	size_t room = DNS_TEXT_BYTES - m->text_used;

	*o = (struct out){.s = m->text + m->text_used};
	if (room == 0) {
		o->full = true;
		return;
	}
	o->limit = (cap < room ? cap : room) - 1;
	o->may_cut = cap <= room;
}

/* Ends the string and claims its place in the arena; NULL when the arena was too small. */
static const char *out_close(struct out *o, struct dns_msg *m)
{
	if (o->full) {
		if (!o->may_cut)
			return NULL;
		o->len = o->safe;
		memcpy(o->s + o->len, "...", 3);
		o->len += 3;
	}
	o->s[o->len] = '\0';
	m->text_used += o->len + 1;
	return o->s;
}

static void put(struct out *o, const char *piece, size_t k)
{
	if (o->full)
		return;
	if (k > o->limit - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->s + o->len, piece, k);
	o->len += k;
	if (o->len + 3 <= o->limit)
		o->safe = o->len;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_uint(struct out *o, uint32_t v)
{
	char b[16];
	int k = snprintf(b, sizeof(b), "%" PRIu32, v);

	put(o, b, (size_t)k);
}

static void put_ddd(struct out *o, uint8_t c)
{
	char b[4] = {'\\', (char)('0' + c / 100), (char)('0' + c / 10 % 10), (char)('0' + c % 10)};

	put(o, b, sizeof(b));
}

static void put_backslashed(struct out *o, uint8_t c)
{
	char b[2] = {'\\', (char)c};

	put(o, b, sizeof(b));
}

static bool is_graph(uint8_t c)
{
	return c > 0x20 && c < 0x7f;
}

/* A label byte as dig writes it: the characters that mean something in a zone file escaped. */
static void put_label_byte(struct out *o, uint8_t c)
{
	if (!is_graph(c))
		put_ddd(o, c);
	else if (strchr(".\\\"();@$", c))
		put_backslashed(o, c);
	else
		put(o, (const char *)&c, 1);
}

/* A <character-string> in double quotes (TXT, CAA values). */
static void put_quoted(struct out *o, const uint8_t *b, size_t k)
{
	put(o, "\"", 1);
	for (size_t i = 0; i < k; i++) {
		if (b[i] == '"' || b[i] == '\\')
			put_backslashed(o, b[i]);
		else if (b[i] == ' ' || is_graph(b[i]))
			put(o, (const char *)&b[i], 1);
		else
			put_ddd(o, b[i]);
	}
	put(o, "\"", 1);
}

static void put_hex(struct out *o, const uint8_t *b, size_t k)
{
	static const char digits[] = "0123456789ABCDEF";

	for (size_t i = 0; i < k; i++) {
		char h[2] = {digits[b[i] >> 4], digits[b[i] & 15]};

		put(o, h, sizeof(h));
	}
}

static void put_base64(struct out *o, const uint8_t *b, size_t k)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < k; i += 3) {
		uint32_t v = (uint32_t)b[i] << 16 | (uint32_t)(i + 1 < k ? b[i + 1] : 0) << 8 |
		             (i + 2 < k ? b[i + 2] : 0);
		char q[4] = {a[v >> 18 & 63], a[v >> 12 & 63], i + 1 < k ? a[v >> 6 & 63] : '=',
		             i + 2 < k ? a[v & 63] : '='};

		put(o, q, sizeof(q));
	}
}

/* Addresses of size bytes each, comma-separated; false unless there is a whole number of them. */
static bool put_addrs(struct out *o, int af, size_t size, const uint8_t *b, size_t k)
{
	char text[INET6_ADDRSTRLEN];

	if (k == 0 || k % size != 0)
		return false;
	for (size_t i = 0; i < k; i += size) {
		if (i)
			put(o, ",", 1);
		inet_ntop(af, b + i, text, sizeof(text));
		put_str(o, text);
	}
	return true;
}

/* ---- names ----------------------------------------------------------------------------------- */

/* Reads the name at c->off, rendering it into o unless o is NULL, and moves c past it (past its
 * first pointer if it has one). Its bytes up to the first pointer are bounded like any other read
 * from c; after a pointer, by the buffer, so that a target missing from a cut buffer is SHORT.
 * Loops end at MAX_POINTERS pointers or DNS_MAX_NAME bytes of labels. */
static int walk_name(struct cur *c, struct out *o)
{
	struct cur at = *c;
	size_t wire = 0;
	unsigned jumps = 0;
	const uint8_t *b;
	int rc;

	for (;;) {
		uint8_t len;

		if ((rc = get_u8(&at, &len)) != OK)
			return rc;
		if ((len & 0xc0) == 0xc0) {
			uint8_t low;

			if ((rc = get_u8(&at, &low)) != OK)
				return rc;
			if (jumps++ == 0)
				c->off = at.off;
			if (jumps > MAX_POINTERS)
				return BAD;
			at.off = (size_t)(len & 0x3f) << 8 | low;
			at.end = at.n;
			at.overrun = SHORT;
			if (at.off >= at.n)
				return SHORT;
			continue;
		}
		if (len & 0xc0)
			return BAD; /* extended label types: obsolete (RFC 6891 5) */
		wire += 1 + (size_t)len;
		if (wire > DNS_MAX_NAME)
			return BAD;
		if (len == 0)
			break;
		if ((rc = take(&at, len, &b)) != OK)
			return rc;
		if (o && wire > 1 + (size_t)len)
			put(o, ".", 1);
		for (size_t i = 0; o && i < len; i++)
			put_label_byte(o, b[i]);
	}
	if (jumps == 0)
		c->off = at.off;
	if (o && wire == 1)
		put(o, ".", 1);
	return OK;
}

/* The name at off, which has been walked already, rendered into the arena; NULL if full. */
static const char *render_name(struct dns_msg *m, const struct cur *c, size_t off)
{
	struct cur at = {c->p, c->n, off, c->n, SHORT};
	struct out o;

	out_open(&o, m, DNS_NAME_TEXT_MAX);
	walk_name(&at, &o);
	return out_close(&o, m);
}

/* ---- record data ----------------------------------------------------------------------------- */

static int put_field_u16(struct cur *d, struct out *o)
{
	uint16_t v;
	int rc = get_u16(d, &v);

	if (rc == OK) {
		put_uint(o, v);
		put(o, " ", 1);
	}
	return rc;
}

static int put_field_u32(struct cur *d, struct out *o)
{
	uint32_t v;
	int rc = get_u32(d, &v);

	if (rc == OK) {
		put(o, " ", 1);
		put_uint(o, v);
	}
	return rc;
}

static int put_addr(struct cur *d, struct out *o, int af, size_t size)
{
	const uint8_t *b;
	int rc = take(d, size, &b);

	if (rc == OK)
		put_addrs(o, af, size, b, size);
	return rc;
}

/* MX: preference exchange. */
static int put_mx(struct cur *d, struct out *o)
{
	int rc = put_field_u16(d, o);

	return rc != OK ? rc : walk_name(d, o);
}

/* SRV: priority weight port target (RFC 2782). */
static int put_srv(struct cur *d, struct out *o)
{
	int rc = OK;

	for (int i = 0; i < 3 && rc == OK; i++)
		rc = put_field_u16(d, o);
	return rc != OK ? rc : walk_name(d, o);
}

/* SOA: mname rname serial refresh retry expire minimum. */
static int put_soa(struct cur *d, struct out *o)
{
	int rc = walk_name(d, o);

	if (rc != OK)
		return rc;
	put(o, " ", 1);
	rc = walk_name(d, o);
	for (int i = 0; i < 5 && rc == OK; i++)
		rc = put_field_u32(d, o);
	return rc;
}

static int get_string(struct cur *d, const uint8_t **b, uint8_t *len)
{
	int rc = get_u8(d, len);

	return rc != OK ? rc : take(d, *len, b);
}

/* TXT: one or more strings (RFC 1035 3.3.14), quoted, separated by spaces. */
static int put_txt(struct cur *d, struct out *o)
{
	const uint8_t *b;
	uint8_t len;
	int rc;

	if (d->off == d->end)
		return BAD;
	for (bool first = true; d->off < d->end; first = false) {
		if ((rc = get_string(d, &b, &len)) != OK)
			return rc;
		if (!first)
			put(o, " ", 1);
		put_quoted(o, b, len);
	}
	return OK;
}

static bool is_alnum(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* CAA: flags tag "value" (RFC 8659 4.1). */
static int put_caa(struct cur *d, struct out *o)
{
	const uint8_t *tag;
	uint8_t flags, len;
	int rc;

	if ((rc = get_u8(d, &flags)) != OK || (rc = get_string(d, &tag, &len)) != OK)
		return rc;
	if (len == 0 || len > CAA_MAX_TAG)
		return BAD;
	for (uint8_t i = 0; i < len; i++)
		if (!is_alnum(tag[i]))
			return BAD;
	put_uint(o, flags);
	put(o, " ", 1);
	put(o, (const char *)tag, len);
	put(o, " ", 1);
	put_quoted(o, d->p + d->off, d->end - d->off);
	d->off = d->end;
	return OK;
}

static const char *const svc_keys[] = {
        "mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech", "ipv6hint",
};

static void put_svc_key(struct out *o, uint16_t key)
{
	if (key < ARRAY_SIZE(svc_keys)) {
		put_str(o, svc_keys[key]);
	} else {
		put(o, "key", 3);
		put_uint(o, key);
	}
}

/* alpn: length-prefixed protocol ids, comma-separated, commas and backslashes in them escaped. */
static bool put_alpn(struct out *o, const uint8_t *v, size_t k)
{
	if (k == 0)
		return false;
	for (size_t i = 0; i < k; i += 1 + (size_t)v[i]) {
		if (v[i] == 0 || v[i] > k - i - 1)
			return false;
		if (i)
			put(o, ",", 1);
		for (size_t j = i + 1; j <= i + v[i]; j++) {
			if (!is_graph(v[j]))
				put_ddd(o, v[j]);
			else if (v[j] == ',' || v[j] == '\\' || v[j] == '"')
				put_backslashed(o, v[j]);
			else
				put(o, (const char *)&v[j], 1);
		}
	}
	return true;
}

static bool put_mandatory(struct out *o, const uint8_t *v, size_t k)
{
	if (k == 0 || k % 2 != 0)
		return false;
	for (size_t i = 0; i < k; i += 2) {
		if (i)
			put(o, ",", 1);
		put_svc_key(o, be16(v + i));
	}
	return true;
}

/* The value of a known SvcParam in its presentation form (RFC 9460 7); false if malformed. */
static bool put_svc_value(struct out *o, uint16_t key, const uint8_t *v, size_t k)
{
	if (key >= ARRAY_SIZE(svc_keys))
		return false;
	put_str(o, svc_keys[key]);
	if (key == 2)
		return k == 0;
	put(o, "=", 1);
	switch (key) {
	case 0:
		return put_mandatory(o, v, k);
	case 1:
		return put_alpn(o, v, k);
	case 3:
		if (k != 2)
			return false;
		put_uint(o, be16(v));
		return true;
	case 4:
		return put_addrs(o, AF_INET, 4, v, k);
	case 5:
		put_base64(o, v, k);
		return k > 0;
	default:
		return put_addrs(o, AF_INET6, 16, v, k);
	}
}

/* SVCB and HTTPS: priority target key=value... (RFC 9460). A parameter whose value does not
 * parse is shown as keyN=hex rather than losing the record. */
static int put_svcb(struct cur *d, struct out *o)
{
	int rc = put_field_u16(d, o);

	if (rc != OK || (rc = walk_name(d, o)) != OK)
		return rc;
	while (d->off < d->end) {
		const uint8_t *v;
		uint16_t key, len;
		struct out before;

		if ((rc = get_u16(d, &key)) != OK || (rc = get_u16(d, &len)) != OK ||
		    (rc = take(d, len, &v)) != OK)
			return rc;
		put(o, " ", 1);
		before = *o;
		if (put_svc_value(o, key, v, len))
			continue;
		*o = before;
		put(o, "key", 3);
		put_uint(o, key);
		if (len) {
			put(o, "=", 1);
			put_hex(o, v, len);
		}
	}
	return OK;
}

/* The presentation form of a known type; BAD for malformed data and for types without one. */
static int put_known(struct cur *d, uint16_t type, struct out *o)
{
	switch (type) {
	case T_A:
		return put_addr(d, o, AF_INET, 4);
	case T_AAAA:
		return put_addr(d, o, AF_INET6, 16);
	case T_NS:
	case T_CNAME:
	case T_PTR:
	case T_DNAME:
		return walk_name(d, o);
	case T_MX:
		return put_mx(d, o);
	case T_SOA:
		return put_soa(d, o);
	case T_TXT:
	case T_SPF:
		return put_txt(d, o);
	case T_SRV:
		return put_srv(d, o);
	case T_CAA:
		return put_caa(d, o);
	case T_SVCB:
	case T_HTTPS:
		return put_svcb(d, o);
	default:
		return BAD;
	}
}

/* RFC 3597 3: \# length hex. */
static void put_generic(const struct cur *d, struct out *o)
{
	size_t k = d->end - d->off;

	put(o, "\\# ", 3);
	put_uint(o, (uint32_t)k);
	if (k) {
		put(o, " ", 1);
		put_hex(o, d->p + d->off, k);
	}
}

/* Renders a record's data into the arena: *data is NULL when the arena is full. SHORT when a name
 * in it points past the end of a partial buffer: the record is not known yet. Otherwise data that
 * does not parse is rendered generically, so that a record whose framing is sound never fails the
 * message (dns_looks_like() relies on this). */
static int render_data(struct dns_msg *m, const struct rr_wire *rr, bool partial, const char **data)
{
	struct cur d = rr->data;
	struct out o;
	int rc;

	out_open(&o, m, DNS_DATA_TEXT_MAX);
	rc = put_known(&d, rr->type, &o);
	if (rc == OK && d.off != d.end)
		rc = BAD;
	if (rc == SHORT && partial)
		return SHORT;
	if (rc != OK) {
		out_open(&o, m, DNS_DATA_TEXT_MAX);
		put_generic(&rr->data, &o);
	}
	*data = out_close(&o, m);
	return OK;
}

/* ---- sections -------------------------------------------------------------------------------- */

static void read_header(const uint8_t *p, struct dns_msg *m)
{
	m->id = be16(p);
	m->qr = p[2] & 0x80;
	m->opcode = p[2] >> 3 & 0xf;
	m->aa = p[2] & 0x04;
	m->tc = p[2] & 0x02;
	m->rd = p[2] & 0x01;
	m->ra = p[3] & 0x80;
	m->ad = p[3] & 0x20;
	m->cd = p[3] & 0x10;
	m->rcode = p[3] & 0xf;
	m->qdcount = be16(p + 4);
	m->ancount = be16(p + 6);
	m->nscount = be16(p + 8);
	m->arcount = be16(p + 10);
}

static int next_question(struct cur *c, uint16_t *type, uint16_t *class)
{
	int rc = walk_name(c, NULL);

	if (rc == OK)
		rc = get_u16(c, type);
	return rc != OK ? rc : get_u16(c, class);
}

static int next_rr(struct cur *c, struct rr_wire *rr)
{
	const uint8_t *b;
	uint16_t rdlen;
	int rc;

	rr->owner = c->off;
	if ((rc = walk_name(c, NULL)) != OK || (rc = get_u16(c, &rr->type)) != OK ||
	    (rc = get_u16(c, &rr->class)) != OK || (rc = get_u32(c, &rr->ttl)) != OK ||
	    (rc = get_u16(c, &rdlen)) != OK || (rc = take(c, rdlen, &b)) != OK)
		return rc;
	rr->data = (struct cur){c->p, c->n, c->off - rdlen, c->off, BAD};
	return OK;
}

static int read_questions(struct cur *c, struct dns_msg *m)
{
	for (unsigned i = 0; i < m->qdcount; i++) {
		size_t at = c->off;
		struct dns_question q;
		int rc = next_question(c, &q.type, &q.class);

		if (rc != OK)
			return rc;
		if (i == 0) {
			/* First in the arena, so it always fits. */
			q.name = render_name(m, c, at);
			m->question = q;
			m->has_question = true;
		}
	}
	return OK;
}

/* Keeps answers while they fit, so that answers[] is always the first n_answers of them. */
static int keep_answer(const struct cur *c, const struct rr_wire *rr, bool partial,
                       struct dns_msg *m)
{
	size_t mark = m->text_used;
	const char *name, *data;
	int rc;

	if (m->answers_dropped)
		return OK;
	if (m->n_answers == DNS_MAX_ANSWERS) {
		m->answers_dropped = true;
		return OK;
	}
	name = render_name(m, c, rr->owner);
	rc = render_data(m, rr, partial, &data);
	if (rc != OK || !name || !data) {
		m->text_used = mark;
		if (rc == OK)
			m->answers_dropped = true;
		return rc;
	}
	m->answers[m->n_answers++] = (struct dns_rr){name, rr->type, rr->class, rr->ttl, data};
	return OK;
}

/* RFC 6891 6.1.3: the OPT record's class is the UDP payload size, its TTL the upper rcode bits,
 * the version and the flags. */
static void read_opt(const struct rr_wire *rr, struct dns_msg *m)
{
	if (m->has_edns)
		return;
	m->has_edns = true;
	m->edns_udp_size = rr->class;
	m->edns_do = rr->ttl & EDNS_DO;
	m->rcode |= (uint16_t)(rr->ttl >> 24 << 4);
}

static int read_records(struct cur *c, bool partial, struct dns_msg *m)
{
	unsigned additional = (unsigned)m->ancount + m->nscount;
	unsigned total = additional + m->arcount;

	for (unsigned i = 0; i < total; i++) {
		struct rr_wire rr;
		int rc = next_rr(c, &rr);

		if (rc == OK && i < m->ancount)
			rc = keep_answer(c, &rr, partial, m);
		if (rc != OK)
			return rc;
		if (i >= additional && rr.type == T_OPT)
			read_opt(&rr, m);
	}
	return OK;
}

int dns_parse(const uint8_t *p, size_t n, bool partial, struct dns_msg *m)
{
	struct cur c = {p, n, HEADER_BYTES, n, SHORT};
	int rc;

	memset(m, 0, offsetof(struct dns_msg, text));
	if (n < HEADER_BYTES)
		return DNS_PARSE_ERROR;
	read_header(p, m);
	if (read_questions(&c, m) != OK)
		return DNS_PARSE_ERROR;
	rc = read_records(&c, partial, m);
	if (rc == SHORT && partial) {
		m->truncated_input = true;
		return 0;
	}
	return rc == OK ? 0 : DNS_PARSE_ERROR;
}

/* ---- recognition ----------------------------------------------------------------------------- */

static bool class_known(uint16_t cls)
{
	return cls == 1 || cls == 3 || cls == 4 || cls == 254 || cls == 255;
}

/* The header alone: the tests that reject most non-DNS payloads before any name is read. */
static bool header_plausible(const uint8_t *p, size_t n)
{
	unsigned opcode = p[2] >> 3 & 0xf;
	bool qr = p[2] & 0x80;
	size_t an = be16(p + 6), ns = be16(p + 8), ar = be16(p + 10);

	if ((p[3] & FLAG_Z) || be16(p + 4) != 1)
		return false;
	if (opcode != OPCODE_QUERY && opcode != OPCODE_NOTIFY && opcode != OPCODE_UPDATE)
		return false;
	if (MIN_QUESTION + (an + ns + ar) * MIN_RR > n - HEADER_BYTES)
		return false;
	if (qr)
		return true;
	if ((p[3] & 0xf) != 0)
		return false;
	/* NOTIFY and UPDATE requests carry records by design (RFC 1996 3.7, RFC 2136 2). */
	return opcode != OPCODE_QUERY || (an == 0 && ns == 0 && ar <= QUERY_MAX_ADDL);
}

bool dns_looks_like(const uint8_t *p, size_t n)
{
	struct cur c = {p, n, HEADER_BYTES, n, SHORT};
	uint16_t type, class;
	unsigned records;
	struct rr_wire rr;

	if (n < HEADER_BYTES || !header_plausible(p, n))
		return false;
	if (next_question(&c, &type, &class) != OK || type == 0 || !class_known(class))
		return false;
	records = (unsigned)be16(p + 6) + be16(p + 8) + be16(p + 10);
	for (unsigned i = 0; i < records; i++)
		if (next_rr(&c, &rr) != OK)
			return false;
	return c.off == n;
}

/* ---- mnemonics ------------------------------------------------------------------------------- */

struct code_name {
	uint16_t code;
	const char *name;
};

static const char *lookup(const struct code_name *t, size_t k, unsigned code, const char *prefix,
                          char buf[16])
{
	for (size_t i = 0; i < k; i++)
		if (t[i].code == code)
			return t[i].name;
	snprintf(buf, 16, "%s%u", prefix, code);
	return buf;
}

const char *dns_type_name(uint16_t type, char buf[16])
{
	static const struct code_name types[] = {
	        {1, "A"},       {2, "NS"},          {3, "MD"},       {4, "MF"},
	        {5, "CNAME"},   {6, "SOA"},         {7, "MB"},       {8, "MG"},
	        {9, "MR"},      {10, "NULL"},       {11, "WKS"},     {12, "PTR"},
	        {13, "HINFO"},  {14, "MINFO"},      {15, "MX"},      {16, "TXT"},
	        {17, "RP"},     {18, "AFSDB"},      {24, "SIG"},     {25, "KEY"},
	        {28, "AAAA"},   {29, "LOC"},        {33, "SRV"},     {35, "NAPTR"},
	        {36, "KX"},     {37, "CERT"},       {39, "DNAME"},   {41, "OPT"},
	        {42, "APL"},    {43, "DS"},         {44, "SSHFP"},   {45, "IPSECKEY"},
	        {46, "RRSIG"},  {47, "NSEC"},       {48, "DNSKEY"},  {49, "DHCID"},
	        {50, "NSEC3"},  {51, "NSEC3PARAM"}, {52, "TLSA"},    {53, "SMIMEA"},
	        {55, "HIP"},    {59, "CDS"},        {60, "CDNSKEY"}, {61, "OPENPGPKEY"},
	        {62, "CSYNC"},  {63, "ZONEMD"},     {64, "SVCB"},    {65, "HTTPS"},
	        {99, "SPF"},    {108, "EUI48"},     {109, "EUI64"},  {249, "TKEY"},
	        {250, "TSIG"},  {251, "IXFR"},      {252, "AXFR"},   {253, "MAILB"},
	        {254, "MAILA"}, {255, "ANY"},       {256, "URI"},    {257, "CAA"},
	        {32768, "TA"},  {32769, "DLV"},
	};

	return lookup(types, ARRAY_SIZE(types), type, "TYPE", buf);
}

const char *dns_class_name(uint16_t cls, char buf[16])
{
	static const struct code_name classes[] = {
	        {1, "IN"}, {3, "CH"}, {4, "HS"}, {254, "NONE"}, {255, "ANY"},
	};

	return lookup(classes, ARRAY_SIZE(classes), cls, "CLASS", buf);
}

const char *dns_rcode_name(uint16_t rcode, char buf[16])
{
	/* 16 is also TSIG's BADSIG (RFC 8945); in a header with OPT it is BADVERS. */
	static const struct code_name rcodes[] = {
	        {0, "NOERROR"},  {1, "FORMERR"}, {2, "SERVFAIL"},  {3, "NXDOMAIN"},
	        {4, "NOTIMP"},   {5, "REFUSED"}, {6, "YXDOMAIN"},  {7, "YXRRSET"},
	        {8, "NXRRSET"},  {9, "NOTAUTH"}, {10, "NOTZONE"},  {11, "DSOTYPENI"},
	        {16, "BADVERS"}, {17, "BADKEY"}, {18, "BADTIME"},  {19, "BADMODE"},
	        {20, "BADNAME"}, {21, "BADALG"}, {22, "BADTRUNC"}, {23, "BADCOOKIE"},
	};

	return lookup(rcodes, ARRAY_SIZE(rcodes), rcode, "RCODE", buf);
}

const char *dns_opcode_name(uint8_t opcode, char buf[16])
{
	static const struct code_name opcodes[] = {
	        {0, "QUERY"},  {1, "IQUERY"}, {2, "STATUS"},
	        {4, "NOTIFY"}, {5, "UPDATE"}, {6, "DSO"},
	};

	return lookup(opcodes, ARRAY_SIZE(opcodes), opcode, "OPCODE", buf);
}
