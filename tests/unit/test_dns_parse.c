/* The DNS wire-format parser: every rendered record type, compression (pointers into the middle
 * of names, forward pointers, loops), the limits on labels, names, answers and the text arena,
 * bogus counts with and without partial, EDNS, header flags, and the recognizer. Messages are
 * built field by field below and parsed from guarded copies ending at an unreadable page; each
 * message that parses also has all its prefixes parsed, with and without partial. */
#include "dns_parse.h"

#include <stdbool.h>
#include <stddef.h>

#include "check.h"

#define QR 0x8000
#define AA 0x0400
#define TC 0x0200
#define RD 0x0100
#define RA 0x0080
#define AD 0x0020
#define CD 0x0010

#define IN 1

/* A message under construction; qend is where its question section ends. */
struct msg {
	uint8_t b[16384];
	size_t n;
	size_t qend;
};

static void u8(struct msg *w, unsigned v)
{
	w->b[w->n++] = (uint8_t)v;
}

static void u16(struct msg *w, unsigned v)
{
	u8(w, v >> 8);
	u8(w, v);
}

static void u32(struct msg *w, uint32_t v)
{
	u16(w, v >> 16);
	u16(w, v & 0xffff);
}

static void raw(struct msg *w, const void *p, size_t k)
{
	memcpy(w->b + w->n, p, k);
	w->n += k;
}

/* Labels of a dotted name, then the root label; "" is the root alone. */
static void name(struct msg *w, const char *dotted)
{
	while (*dotted) {
		size_t k = strcspn(dotted, ".");

		u8(w, (unsigned)k);
		raw(w, dotted, k);
		dotted += k + (dotted[k] == '.');
	}
	u8(w, 0);
}

static void labels(struct msg *w, const char *dotted_prefix)
{
	name(w, dotted_prefix);
	w->n--; /* without the root: a pointer follows */
}

static void ptr(struct msg *w, size_t off)
{
	u16(w, 0xc000 | (unsigned)off);
}

static void header(struct msg *w, unsigned id, unsigned flags, unsigned qd, unsigned an,
                   unsigned ns, unsigned ar)
{
	w->n = 0;
	u16(w, id);
	u16(w, flags);
	u16(w, qd);
	u16(w, an);
	u16(w, ns);
	u16(w, ar);
	w->qend = w->n;
}

static void question(struct msg *w, const char *qname, unsigned type)
{
	name(w, qname);
	u16(w, type);
	u16(w, IN);
	w->qend = w->n;
}

/* A record's fields after its owner name; returns where its RDLENGTH goes (rr_end fills it). */
static size_t rr_start(struct msg *w, unsigned type, unsigned class, uint32_t ttl)
{
	u16(w, type);
	u16(w, class);
	u32(w, ttl);
	u16(w, 0);
	return w->n - 2;
}

static void rr_end(struct msg *w, size_t at)
{
	size_t k = w->n - at - 2;

	w->b[at] = (uint8_t)(k >> 8);
	w->b[at + 1] = (uint8_t)k;
}

/* An OPT record (RFC 6891): root owner, UDP size as class, extended rcode and flags as TTL. */
static void opt(struct msg *w, unsigned udp_size, unsigned ext_rcode, bool dnssec_ok)
{
	u8(w, 0);
	rr_end(w, rr_start(w, 41, udp_size, (uint32_t)ext_rcode << 24 | (dnssec_ok ? 0x8000 : 0)));
}

static bool in_text(const struct dns_msg *m, const char *s)
{
	size_t room;

	if (!s || s < m->text || s >= m->text + m->text_used)
		return false;
	room = (size_t)(m->text + m->text_used - s);
	if (strnlen(s, room) == room)
		return false;
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

static void check_strings(const struct dns_msg *m)
{
	CHECK(m->text_used <= DNS_TEXT_BYTES);
	CHECK(m->n_answers <= DNS_MAX_ANSWERS && m->n_answers <= m->ancount);
	CHECK(m->has_question == (m->qdcount > 0));
	if (m->has_question)
		CHECK(in_text(m, m->question.name));
	for (unsigned i = 0; i < m->n_answers; i++) {
		CHECK(in_text(m, m->answers[i].name));
		CHECK(in_text(m, m->answers[i].data));
		CHECK(strlen(m->answers[i].data) < DNS_DATA_TEXT_MAX);
	}
}

static int parse_into(const uint8_t *b, size_t n, bool partial, struct dns_msg *m)
{
	uint8_t *p = guarded_copy(b, n);
	int rc;

	memset(m, 0xa5, sizeof(*m)); /* the parser must set every field it reports */
	rc = dns_parse(p, n, partial, m);
	guarded_free(p, n);
	if (rc == 0)
		check_strings(m);
	return rc;
}

/* Every strict prefix fails without partial; with it, those that hold the question section parse
 * and say they were cut, and the others fail. */
static void check_prefixes(const struct msg *w)
{
	static struct dns_msg m;

	for (size_t k = 0; k < w->n; k++) {
		int rc = parse_into(w->b, k, false, &m);

		if (rc != DNS_PARSE_ERROR) {
			fprintf(stderr, "prefix %zu of %zu parsed without partial\n", k, w->n);
			check_failures++;
		}
		rc = parse_into(w->b, k, true, &m);
		if (k < w->qend ? rc != DNS_PARSE_ERROR : rc != 0 || !m.truncated_input) {
			fprintf(stderr, "prefix %zu of %zu (question ends at %zu): rc %d\n", k,
			        w->n, w->qend, rc);
			check_failures++;
		}
	}
}

static struct dns_msg m;

/* Parses the whole message into m; on success also checks its prefixes. */
static int parse(const struct msg *w, bool partial)
{
	int rc = parse_into(w->b, w->n, partial, &m);

	if (rc == 0 && !partial) {
		CHECK(!m.truncated_input);
		check_prefixes(w);
		parse_into(w->b, w->n, false, &m);
	}
	return rc;
}

static bool looks_like(const void *b, size_t n)
{
	uint8_t *p = guarded_copy(b, n);
	bool yes = dns_looks_like(p, n);

	guarded_free(p, n);
	return yes;
}

static void test_header_flags(void)
{
	static struct msg w;
	char buf[16];

	header(&w, 0xbeef, QR | AA | TC | RD | RA | AD | CD | 3, 1, 0, 0, 0);
	question(&w, "nope.example.com", 1);
	CHECK_EQ_U64(parse(&w, false), 0);
	CHECK_EQ_U64(m.id, 0xbeef);
	CHECK(m.qr && m.aa && m.tc && m.rd && m.ra && m.ad && m.cd);
	CHECK_EQ_U64(m.opcode, 0);
	CHECK_EQ_U64(m.rcode, 3);
	CHECK_STR(dns_rcode_name(m.rcode, buf), "NXDOMAIN");
	CHECK_EQ_U64(m.qdcount, 1);
	CHECK(!m.has_edns && m.n_answers == 0 && !m.answers_dropped);

	header(&w, 7, 5 << 11, 1, 0, 0, 0);
	question(&w, "example.com", 6);
	CHECK_EQ_U64(parse(&w, false), 0);
	CHECK(!m.qr && !m.aa && !m.tc && !m.rd && !m.ra && !m.ad && !m.cd);
	CHECK_EQ_U64(m.opcode, 5);
	CHECK_STR(dns_opcode_name(m.opcode, buf), "UPDATE");

	/* No question at all (DSO, some FORMERR answers): still a message. */
	header(&w, 1, QR | 1, 0, 0, 0, 0);
	CHECK_EQ_U64(parse(&w, false), 0);
	CHECK(!m.has_question);

	header(&w, 1, 0, 0, 0, 0, 0);
	CHECK_EQ_U64(parse_into(w.b, 11, false, &m), DNS_PARSE_ERROR);
	CHECK_EQ_U64(parse_into(w.b, 11, true, &m), DNS_PARSE_ERROR);
}

static void test_query(void)
{
	static struct msg w;
	char buf[16];

	header(&w, 0x1234, RD | AD, 1, 0, 0, 1);
	question(&w, "www.example.com", 28);
	opt(&w, 1232, 0, true);
	CHECK_EQ_U64(parse(&w, false), 0);
	CHECK(m.has_question);
	CHECK_STR(m.question.name, "www.example.com");
	CHECK_EQ_U64(m.question.type, 28);
	CHECK_EQ_U64(m.question.class, IN);
	CHECK_STR(dns_type_name(m.question.type, buf), "AAAA");
	CHECK_STR(dns_class_name(m.question.class, buf), "IN");
	CHECK(m.has_edns && m.edns_do);
	CHECK_EQ_U64(m.edns_udp_size, 1232);
	CHECK_EQ_U64(m.rcode, 0);
	CHECK(looks_like(w.b, w.n));
}

/* A response to qname/qtype with one answer (owner: the question name) whose RDATA is r. */
static void one_answer(struct msg *w, const char *qname, unsigned qtype, const struct msg *r)
{
	size_t at;

	header(w, 0x4242, QR | RD | RA, 1, 1, 0, 0);
	question(w, qname, qtype);
	ptr(w, 12);
	at = rr_start(w, qtype, IN, 300);
	raw(w, r->b, r->n);
	rr_end(w, at);
}

/* The rendered data of the single record of this type and RDATA; NULL if it was not kept. */
static const char *data_of(unsigned type, const struct msg *r)
{
	static struct msg w;

	one_answer(&w, "example.com", type, r);
	if (parse(&w, false) != 0 || m.n_answers != 1)
		return NULL;
	CHECK_STR(m.answers[0].name, "example.com");
	CHECK_EQ_U64(m.answers[0].type, type);
	CHECK_EQ_U64(m.answers[0].ttl, 300);
	return m.answers[0].data;
}

#define CHECK_DATA(type, r, want) CHECK_STR(data_of((type), (r)), (want))

static void test_addresses(void)
{
	static const uint8_t v6[16] = {0x26, 0x06, 0x28, 0x00, 0x02, 0x20, 0,    1,
	                               0x02, 0x48, 0x18, 0x93, 0x25, 0xc8, 0x19, 0x46};
	static struct msg r;

	r.n = 0;
	raw(&r, "\x5d\xb8\xd8\x22", 4);
	CHECK_DATA(1, &r, "93.184.216.34");
	r.n = 0;
	raw(&r, v6, sizeof(v6));
	CHECK_DATA(28, &r, "2606:2800:220:1:248:1893:25c8:1946");
	/* Wrong lengths: the record is kept, in the generic form. */
	r.n = 0;
	raw(&r, "\x0a\x00\x00", 3);
	CHECK_DATA(1, &r, "\\# 3 0A0000");
	r.n = 0;
	raw(&r, v6, 4);
	CHECK_DATA(28, &r, "\\# 4 26062800");
}

static void test_names_in_data(void)
{
	static struct msg r;

	r.n = 0;
	name(&r, "host.example.com");
	CHECK_DATA(12, &r, "host.example.com");
	CHECK_DATA(2, &r, "host.example.com");
	r.n = 0;
	u16(&r, 0);
	u16(&r, 5);
	u16(&r, 5060);
	name(&r, "sip.example.com");
	CHECK_DATA(33, &r, "0 5 5060 sip.example.com");
	r.n = 0;
	name(&r, "ns1.example.com");
	name(&r, "hostmaster.example.com");
	u32(&r, 2024010101);
	u32(&r, 7200);
	u32(&r, 3600);
	u32(&r, 1209600);
	u32(&r, 300);
	CHECK_DATA(6, &r,
	           "ns1.example.com hostmaster.example.com 2024010101 7200 3600 1209600 300");
	/* A name that runs past its RDATA, and trailing bytes after one. */
	r.n = 0;
	u16(&r, 10);
	raw(&r, "\x04mail", 5);
	CHECK_DATA(15, &r, "\\# 7 000A046D61696C");
	r.n = 0;
	name(&r, "a");
	u8(&r, 9);
	CHECK_DATA(5, &r, "\\# 4 01610009");
}

static void test_txt(void)
{
	static const uint8_t odd[] = {9, 'a', '"', 'b', '\\', 'c', 1, 0xff, ' ', 'd'};
	static struct msg r;
	char want[DNS_DATA_TEXT_MAX], xs[256];
	const char *data;

	r.n = 0;
	u8(&r, 11);
	raw(&r, "v=spf1 -all", 11);
	u8(&r, 6);
	raw(&r, "second", 6);
	u8(&r, 0);
	CHECK_DATA(16, &r, "\"v=spf1 -all\" \"second\" \"\"");
	r.n = 0;
	raw(&r, odd, sizeof(odd));
	CHECK_DATA(16, &r, "\"a\\\"b\\\\c\\001\\255 d\"");
	/* Strings that run past the RDATA; no string at all. */
	r.n = 0;
	raw(&r,
	    "\x05"
	    "abc",
	    4);
	CHECK_DATA(16, &r, "\\# 4 05616263");
	r.n = 0;
	CHECK_DATA(16, &r, "\\# 0");

	/* 2 KB of text: cut at the cap, ending in "...". */
	memset(xs, 'x', 255);
	xs[255] = '\0';
	r.n = 0;
	for (int i = 0; i < 8; i++) {
		u8(&r, 255);
		memset(r.b + r.n, 'x', 255);
		r.n += 255;
	}
	for (size_t i = 0, k = 0; i < 8 && k < DNS_DATA_TEXT_MAX; i++)
		k += (size_t)snprintf(want + k, sizeof(want) - k, "%s\"%s\"", i ? " " : "", xs);
	memcpy(want + DNS_DATA_TEXT_MAX - 4, "...", 4);
	CHECK_DATA(16, &r, want);

	/* Escapes are never split by the cut: 254 of them fit before the "...". */
	r.n = 0;
	for (int i = 0; i < 2; i++) {
		u8(&r, 255);
		memset(r.b + r.n, 1, 255);
		r.n += 255;
	}
	data = data_of(16, &r);
	CHECK(data && strlen(data) == 1 + 254 * 4 + 3);
	CHECK(data && strcmp(data + strlen(data) - 7, "\\001...") == 0);
}

static void test_caa(void)
{
	static struct msg r;

	r.n = 0;
	raw(&r, "\x00\x05issueletsencrypt.org", 22);
	CHECK_DATA(257, &r, "0 issue \"letsencrypt.org\"");
	r.n = 0;
	raw(&r, "\x80\x05iodefmailto:a@b.c", 19);
	CHECK_DATA(257, &r, "128 iodef \"mailto:a@b.c\"");
	r.n = 0;
	raw(&r, "\x00\x00", 2);
	CHECK_DATA(257, &r, "\\# 2 0000");
	r.n = 0;
	raw(&r, "\x00\x02i-x", 5);
	CHECK_DATA(257, &r, "\\# 5 0002692D78");
}

static void svc_param(struct msg *r, unsigned key, const void *v, size_t k)
{
	u16(r, key);
	u16(r, (unsigned)k);
	raw(r, v, k);
}

static void test_svcb(void)
{
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static struct msg r;

	r.n = 0;
	u16(&r, 1);
	name(&r, "");
	svc_param(&r, 0, "\x00\x01", 2);
	svc_param(&r, 1, "\x02h2\x02h3", 6);
	svc_param(&r, 2, "", 0);
	svc_param(&r, 3, "\x01\xbb", 2);
	svc_param(&r, 4, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	svc_param(&r, 5, "\x01\x02\x03\x04", 4);
	svc_param(&r, 6, v6, 16);
	svc_param(&r, 65000, "\xab\xcd", 2);
	CHECK_DATA(65, &r,
	           "1 . mandatory=alpn alpn=h2,h3 no-default-alpn port=443 "
	           "ipv4hint=1.2.3.4,5.6.7.8 ech=AQIDBA== ipv6hint=2001:db8::1 key65000=ABCD");
	CHECK_DATA(64, &r,
	           "1 . mandatory=alpn alpn=h2,h3 no-default-alpn port=443 "
	           "ipv4hint=1.2.3.4,5.6.7.8 ech=AQIDBA== ipv6hint=2001:db8::1 key65000=ABCD");

	/* Alias mode; malformed values fall back to keyN=hex, the record stays. */
	r.n = 0;
	u16(&r, 0);
	name(&r, "svc.example.net");
	CHECK_DATA(64, &r, "0 svc.example.net");
	svc_param(&r, 3, "\x01\xbb\x00", 3);
	svc_param(&r, 1, "\x03h2", 3);
	svc_param(&r, 2, "x", 1);
	svc_param(&r, 7, "", 0);
	svc_param(&r, 1, "\x04h,\\\"", 5);
	CHECK_DATA(64, &r,
	           "0 svc.example.net key3=01BB00 key1=036832 key2=78 key7 alpn=h\\,\\\\\\\"");
	/* A parameter that runs past the RDATA: generic. */
	r.n = 0;
	u16(&r, 1);
	name(&r, "");
	raw(&r, "\x00\x03\x00\x04\x01\xbb", 6);
	CHECK_DATA(65, &r, "\\# 9 0001000003000401BB");
}

static void test_generic(void)
{
	static struct msg r;
	char buf[16];

	r.n = 0;
	raw(&r, "\x01\x02\x03", 3);
	CHECK_DATA(65280, &r, "\\# 3 010203");
	r.n = 0;
	CHECK_DATA(10, &r, "\\# 0");
	CHECK_STR(dns_type_name(65280, buf), "TYPE65280");
	CHECK_STR(dns_type_name(65, buf), "HTTPS");
	CHECK_STR(dns_type_name(257, buf), "CAA");
	CHECK_STR(dns_class_name(3, buf), "CH");
	CHECK_STR(dns_class_name(7, buf), "CLASS7");
	CHECK_STR(dns_rcode_name(23, buf), "BADCOOKIE");
	CHECK_STR(dns_rcode_name(24, buf), "RCODE24");
	CHECK_STR(dns_opcode_name(6, buf), "DSO");
	CHECK_STR(dns_opcode_name(7, buf), "OPCODE7");
}

/* www.example.com CNAME cdn.example.net, cdn.example.net CNAME edge.example.net (a pointer into
 * the middle of the previous target), edge.example.net A 1.2.3.4; then MX with a pointer into the
 * middle of the question name. */
static void test_compression(void)
{
	static struct msg w;
	size_t at, cdn, edge;

	header(&w, 1, QR | RD | RA, 1, 3, 0, 0);
	question(&w, "www.example.com", 1);
	ptr(&w, 12);
	at = rr_start(&w, 5, IN, 60);
	cdn = w.n;
	name(&w, "cdn.example.net");
	rr_end(&w, at);
	ptr(&w, cdn);
	at = rr_start(&w, 5, IN, 60);
	edge = w.n;
	labels(&w, "edge");
	ptr(&w, cdn + 4);
	rr_end(&w, at);
	ptr(&w, edge);
	at = rr_start(&w, 1, IN, 20);
	raw(&w, "\x01\x02\x03\x04", 4);
	rr_end(&w, at);
	CHECK_EQ_U64(parse(&w, false), 0);
	CHECK_EQ_U64(m.n_answers, 3);
	CHECK_STR(m.answers[0].name, "www.example.com");
	CHECK_STR(m.answers[0].data, "cdn.example.net");
	CHECK_STR(m.answers[1].name, "cdn.example.net");
	CHECK_STR(m.answers[1].data, "edge.example.net");
	CHECK_STR(m.answers[2].name, "edge.example.net");
	CHECK_STR(m.answers[2].data, "1.2.3.4");
	CHECK_EQ_U64(m.answers[2].ttl, 20);
	CHECK(looks_like(w.b, w.n));

	header(&w, 2, QR, 1, 1, 0, 0);
	question(&w, "www.example.com", 15);
	ptr(&w, 12);
	at = rr_start(&w, 15, IN, 60);
	u16(&w, 10);
	labels(&w, "mail");
	ptr(&w, 12 + 4);
	rr_end(&w, at);
	CHECK_EQ_U64(parse(&w, false), 0);
	CHECK_STR(m.answers[0].data, "10 mail.example.com");
}

/* A CNAME whose target is the owner name of the next record: a forward pointer, legal and
 * followed. Cut before that name, the partial parse cannot know the target yet. */
static void test_forward_pointer(void)
{
	static struct msg w;
	size_t at, ptr_at, target;

	header(&w, 3, QR, 1, 2, 0, 0);
	question(&w, "www.example.com", 1);
	ptr(&w, 12);
	at = rr_start(&w, 5, IN, 60);
	ptr_at = w.n;
	u16(&w, 0);
	rr_end(&w, at);
	target = w.n;
	name(&w, "target.example.org");
	at = rr_start(&w, 1, IN, 60);
	raw(&w, "\x01\x02\x03\x04", 4);
	rr_end(&w, at);
	w.b[ptr_at] = (uint8_t)(0xc0 | target >> 8);
	w.b[ptr_at + 1] = (uint8_t)target;
	CHECK_EQ_U64(parse(&w, false), 0);
	CHECK_EQ_U64(m.n_answers, 2);
	CHECK_STR(m.answers[0].data, "target.example.org");
	CHECK_STR(m.answers[1].name, "target.example.org");
	CHECK_STR(m.answers[1].data, "1.2.3.4");

	CHECK_EQ_U64(parse_into(w.b, target, true, &m), 0);
	CHECK(m.truncated_input);
	CHECK_EQ_U64(m.n_answers, 0);
	CHECK_EQ_U64(parse_into(w.b, target, false, &m), DNS_PARSE_ERROR);
}

static void test_bad_names(void)
{
	static struct msg w;
	size_t at;

	/* A pointer to itself; two pointing at each other; a label then a pointer back to it. */
	header(&w, 4, 0, 1, 0, 0, 0);
	ptr(&w, 12);
	u16(&w, 1);
	u16(&w, IN);
	CHECK_EQ_U64(parse(&w, false), DNS_PARSE_ERROR);
	CHECK_EQ_U64(parse(&w, true), DNS_PARSE_ERROR);

	header(&w, 4, QR, 1, 1, 0, 0);
	question(&w, "example.com", 1);
	at = w.n;
	ptr(&w, at + 2);
	ptr(&w, at);
	rr_end(&w, rr_start(&w, 1, IN, 0));
	CHECK_EQ_U64(parse(&w, false), DNS_PARSE_ERROR);
	CHECK_EQ_U64(parse(&w, true), DNS_PARSE_ERROR);

	header(&w, 4, 0, 1, 0, 0, 0);
	labels(&w, "a");
	ptr(&w, 12);
	u16(&w, 1);
	u16(&w, IN);
	CHECK_EQ_U64(parse(&w, false), DNS_PARSE_ERROR);

	/* Label lengths 64 and 128 are the reserved label types 01 and 10. */
	header(&w, 4, 0, 1, 0, 0, 0);
	u8(&w, 64);
	memset(w.b + w.n, 'a', 64);
	w.n += 64;
	name(&w, "com");
	u16(&w, 1);
	u16(&w, IN);
	CHECK_EQ_U64(parse(&w, false), DNS_PARSE_ERROR);
	w.b[12] = 0x80;
	CHECK_EQ_U64(parse(&w, false), DNS_PARSE_ERROR);

	/* A pointer past the end of a whole message. */
	header(&w, 4, 0, 1, 0, 0, 0);
	ptr(&w, 200);
	u16(&w, 1);
	u16(&w, IN);
	CHECK_EQ_U64(parse(&w, false), DNS_PARSE_ERROR);
}

/* Four labels of 63, 63, 63 and 61 bytes: 255 bytes on the wire, the most there may be. */
static void long_name(struct msg *w, unsigned last)
{
	const unsigned len[4] = {63, 63, 63, last};

	for (int i = 0; i < 4; i++) {
		u8(w, len[i]);
		memset(w->b + w->n, 'a' + i, len[i]);
		w->n += len[i];
	}
	u8(w, 0);
}

static void test_name_limits(void)
{
	static struct msg w;
	static struct msg r;
	static const uint8_t odd[] = {3,   'a', '.', 'b', 3,    'x', ' ',
	                              'y', 4,   '*', '@', 0xc3, '_', 0};
	size_t at;

	header(&w, 5, 0, 1, 0, 0, 0);
	long_name(&w, 61);
	u16(&w, 1);
	u16(&w, IN);
	w.qend = w.n;
	CHECK_EQ_U64(parse(&w, false), 0);
	CHECK_EQ_U64(strlen(m.question.name), 253);

	header(&w, 5, 0, 1, 0, 0, 0);
	long_name(&w, 62);
	u16(&w, 1);
	u16(&w, IN);
	CHECK_EQ_U64(parse(&w, false), DNS_PARSE_ERROR);

	/* The same limit through pointers: 192 bytes in the question, 64 more before a pointer. */
	header(&w, 5, QR, 1, 1, 0, 0);
	for (int i = 0; i < 3; i++) {
		u8(&w, 63);
		memset(w.b + w.n, 'q', 63);
		w.n += 63;
	}
	u8(&w, 0);
	u16(&w, 1);
	u16(&w, IN);
	u8(&w, 63);
	memset(w.b + w.n, 'r', 63);
	w.n += 63;
	ptr(&w, 12);
	rr_end(&w, rr_start(&w, 1, IN, 0));
	CHECK_EQ_U64(parse(&w, false), DNS_PARSE_ERROR);

	/* Escapes in names; the largest rendered name fits DNS_NAME_TEXT_MAX. */
	r.n = 0;
	raw(&r, odd, sizeof(odd));
	CHECK_DATA(5, &r, "a\\.b.x\\032y.*\\@\\195_");
	header(&w, 5, 0, 1, 0, 0, 0);
	for (int i = 0; i < 4; i++) {
		unsigned len = i < 3 ? 63 : 61;

		u8(&w, len);
		memset(w.b + w.n, 0x7f, len);
		w.n += len;
	}
	u8(&w, 0);
	u16(&w, 1);
	u16(&w, IN);
	w.qend = w.n;
	CHECK_EQ_U64(parse(&w, false), 0);
	CHECK_EQ_U64(strlen(m.question.name), 250 * 4 + 3);
	CHECK(strlen(m.question.name) < DNS_NAME_TEXT_MAX);

	/* The root. */
	header(&w, 5, QR, 1, 1, 0, 0);
	question(&w, "", 2);
	ptr(&w, 12);
	at = rr_start(&w, 2, IN, 518400);
	name(&w, "a.root-servers.net");
	rr_end(&w, at);
	CHECK_EQ_U64(parse(&w, false), 0);
	CHECK_STR(m.question.name, ".");
	CHECK_STR(m.answers[0].name, ".");
	CHECK_STR(m.answers[0].data, "a.root-servers.net");
}

static void test_counts(void)
{
	static struct msg w;
	size_t at;

	header(&w, 6, QR, 1, 65535, 0, 0);
	question(&w, "example.com", 1);
	ptr(&w, 12);
	at = rr_start(&w, 1, IN, 5);
	raw(&w, "\x0a\x00\x00\x01", 4);
	rr_end(&w, at);
	CHECK_EQ_U64(parse(&w, false), DNS_PARSE_ERROR);
	CHECK_EQ_U64(parse(&w, true), 0);
	CHECK(m.truncated_input);
	CHECK_EQ_U64(m.ancount, 65535);
	CHECK_EQ_U64(m.n_answers, 1);
	CHECK_STR(m.answers[0].data, "10.0.0.1");

	/* Questions must be whole even with partial. */
	header(&w, 6, 0, 2, 0, 0, 0);
	question(&w, "example.com", 1);
	CHECK_EQ_U64(parse(&w, true), DNS_PARSE_ERROR);

	/* Bytes after the counted records are ignored, though dns_looks_like() says no. */
	header(&w, 6, RD, 1, 0, 0, 0);
	question(&w, "example.com", 1);
	CHECK(looks_like(w.b, w.n));
	u16(&w, 0);
	CHECK_EQ_U64(parse_into(w.b, w.n, false, &m), 0);
	CHECK(!looks_like(w.b, w.n));

	/* An NXDOMAIN with the zone's SOA in the authority section: no answers kept. */
	header(&w, 6, QR | RD | RA | 3, 1, 0, 1, 0);
	question(&w, "nope.example.com", 1);
	ptr(&w, 12 + 5);
	at = rr_start(&w, 6, IN, 900);
	name(&w, "ns1.example.com");
	name(&w, "hostmaster.example.com");
	for (int i = 0; i < 5; i++)
		u32(&w, 300);
	rr_end(&w, at);
	CHECK_EQ_U64(parse(&w, false), 0);
	CHECK_EQ_U64(m.rcode, 3);
	CHECK_EQ_U64(m.n_answers, 0);
	CHECK_EQ_U64(m.nscount, 1);
	CHECK(looks_like(w.b, w.n));
}

static void test_edns(void)
{
	static struct msg w;
	char buf[16];

	header(&w, 7, QR | RD, 1, 0, 0, 1);
	question(&w, "example.com", 1);
	opt(&w, 1232, 1, true);
	CHECK_EQ_U64(parse(&w, false), 0);
	CHECK(m.has_edns && m.edns_do);
	CHECK_EQ_U64(m.edns_udp_size, 1232);
	CHECK_EQ_U64(m.rcode, 16);
	CHECK_STR(dns_rcode_name(m.rcode, buf), "BADVERS");

	/* Only the first OPT counts; an OPT outside the additional section is an ordinary record.
	 */
	header(&w, 7, QR, 1, 1, 0, 2);
	question(&w, "example.com", 1);
	opt(&w, 512, 0, false);
	opt(&w, 4096, 0, false);
	opt(&w, 1400, 0, true);
	CHECK_EQ_U64(parse(&w, false), 0);
	CHECK_EQ_U64(m.edns_udp_size, 4096);
	CHECK(!m.edns_do);
	CHECK_STR(m.answers[0].data, "\\# 0");
}

static void test_many_answers(void)
{
	static struct msg w;
	char want[32];

	header(&w, 8, QR, 1, 40, 0, 0);
	question(&w, "example.com", 1);
	for (unsigned i = 0; i < 40; i++) {
		size_t at;

		ptr(&w, 12);
		at = rr_start(&w, 1, IN, i);
		u8(&w, 10);
		u8(&w, 0);
		u8(&w, 0);
		u8(&w, i);
		rr_end(&w, at);
	}
	CHECK_EQ_U64(parse(&w, false), 0);
	CHECK_EQ_U64(m.n_answers, DNS_MAX_ANSWERS);
	CHECK(m.answers_dropped);
	for (unsigned i = 0; i < DNS_MAX_ANSWERS; i++) {
		snprintf(want, sizeof(want), "10.0.0.%u", i);
		CHECK_STR(m.answers[i].data, want);
		CHECK_EQ_U64(m.answers[i].ttl, i);
	}

	/* Names of 1003 characters fill the arena after a few answers. */
	header(&w, 8, QR, 1, 12, 0, 0);
	question(&w, "example.com", 16);
	for (unsigned i = 0; i < 12; i++) {
		size_t at;

		for (int j = 0; j < 4; j++) {
			unsigned len = j < 3 ? 63 : 61;

			u8(&w, len);
			memset(w.b + w.n, 1, len);
			w.n += len;
		}
		u8(&w, 0);
		at = rr_start(&w, 16, IN, 0);
		raw(&w, "\x02ok", 3);
		rr_end(&w, at);
	}
	CHECK_EQ_U64(parse(&w, false), 0);
	CHECK(m.answers_dropped);
	CHECK_EQ_U64(m.n_answers, (DNS_TEXT_BYTES - 12) / (1004 + 5));
	CHECK_STR(m.answers[m.n_answers - 1].data, "\"ok\"");
}

static void test_looks_like(void)
{
	static const char http[] =
	        "GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.5.0\r\n"
	        "Accept: */*\r\n\r\n";
	static const uint8_t tls[] = {
	        0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x9a, 0x4f,
	        0x1e, 0x60, 0x8c, 0x2b, 0x11, 0xd3, 0x45, 0x0e, 0x73, 0x5a, 0x88, 0x21, 0x3c,
	        0xb0, 0x4d, 0x19, 0x2e, 0x61, 0xf7, 0x0a, 0x33, 0xc5, 0x90, 0x12, 0x7e, 0x44,
	        0xd8, 0x6b, 0x20, 0x55, 0x3a, 0xe1, 0x07, 0x20, 0x8f, 0x52, 0xc1, 0x39, 0x0b,
	        0x76, 0xaf, 0x13, 0x28, 0x64, 0x5e, 0x9d, 0x02, 0xc7, 0x4a, 0x31, 0x80,
	};
	static struct msg w;
	size_t at;

	header(&w, 0xabcd, RD, 1, 0, 0, 0);
	question(&w, "example.com", 1);
	CHECK(looks_like(w.b, w.n));
	CHECK(!looks_like(w.b, 11));
	CHECK(!looks_like(w.b, w.n - 1));
	CHECK(!looks_like(http, sizeof(http) - 1));
	CHECK(!looks_like(tls, sizeof(tls)));
	CHECK(!looks_like(tls, 5));

	/* Z bit; an unknown class; two questions; a query with an answer. */
	w.b[3] = 0x40;
	CHECK(!looks_like(w.b, w.n));
	w.b[3] = 0;
	w.b[w.n - 1] = 7;
	CHECK(!looks_like(w.b, w.n));
	w.b[w.n - 1] = IN;
	w.b[5] = 2;
	CHECK(!looks_like(w.b, w.n));
	w.b[5] = 1;
	w.b[7] = 1;
	CHECK(!looks_like(w.b, w.n));
	w.b[2] = QR >> 8;
	ptr(&w, 12);
	at = rr_start(&w, 1, IN, 0);
	raw(&w, "\x01\x02\x03\x04", 4);
	rr_end(&w, at);
	CHECK(looks_like(w.b, w.n));
	CHECK_EQ_U64(parse_into(w.b, w.n, false, &m), 0);
}

int main(void)
{
	test_header_flags();
	test_query();
	test_addresses();
	test_names_in_data();
	test_txt();
	test_caa();
	test_svcb();
	test_generic();
	test_compression();
	test_forward_pointer();
	test_bad_names();
	test_name_limits();
	test_counts();
	test_edns();
	test_many_answers();
	test_looks_like();
	return check_report("test_dns_parse");
}
