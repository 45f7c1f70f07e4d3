/* libFuzzer target for the DNS parser (dns_parse.h). Input format:
 *
 *   byte 0      bit 0: the first parse is partial
 *   bytes 1-2   a cut, big-endian: the prefix length tried below is cut % (length + 1)
 *   the rest    the message, in a buffer of its exact size (as is every prefix), so that ASan
 *               catches any read past it
 *
 * Invariants, checked with abort(): every string the result holds is NUL-terminated inside the
 * text arena and printable ASCII, names and data within their caps; n_answers <= DNS_MAX_ANSWERS
 * and <= ancount, and == ancount unless answers were dropped or the input was cut;
 * truncated_input only with partial; the rcode has extended bits only with EDNS; mnemonics are
 * non-empty and fit their 16-byte buffers.
 * dns_looks_like() implies that the message parses without partial.
 *
 * Partial parses agree with the whole message when it parses: the same header and question, the
 * first of its answers, and all of them unless cut (truncated_input). That holds for the whole
 * buffer too, which partial may still call cut (a name in record data pointing past the end
 * could be a forward pointer to what the capture lost). A prefix that fails to parse fails
 * because it lacks part of the questions, and so do the shorter ones. A partial parse that
 * succeeds without being cut means the parse without partial succeeds too. Nothing loops:
 * libFuzzer's timeout catches a parse that does. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_parse.h"
#include "fuzz_input.h"

/* Shorter prefixes tried when one fails: enough to find a success among them, not quadratic. */
#define SHORTER_TRIES 64

static bool is_arena_string(const struct dns_msg *m, const char *s, size_t cap)
{
	size_t room, len;

	if (!s || s < m->text || s >= m->text + m->text_used)
		return false;
	room = (size_t)(m->text + m->text_used - s);
	len = strnlen(s, room);
	if (len == room || len >= cap)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

static void check_mnemonic(const char *s)
{
	require(s && s[0] && strlen(s) < 16);
}

static void check_msg(const struct dns_msg *m, bool partial)
{
	char buf[16];

	check_mnemonic(dns_opcode_name(m->opcode, buf));
	check_mnemonic(dns_rcode_name(m->rcode, buf));
	require(m->text_used <= DNS_TEXT_BYTES);
	require(m->opcode < 16 && m->rcode < 4096 && (m->has_edns || m->rcode < 16));
	require(m->has_question == (m->qdcount > 0));
	require(!m->has_question || is_arena_string(m, m->question.name, DNS_NAME_TEXT_MAX));
	require(m->n_answers <= DNS_MAX_ANSWERS && m->n_answers <= m->ancount);
	require(m->answers_dropped || m->truncated_input || m->n_answers == m->ancount);
	require(!m->answers_dropped || m->n_answers < m->ancount);
	require(partial || !m->truncated_input);
	for (unsigned i = 0; i < m->n_answers; i++) {
		check_mnemonic(dns_type_name(m->answers[i].type, buf));
		check_mnemonic(dns_class_name(m->answers[i].class, buf));
		require(is_arena_string(m, m->answers[i].name, DNS_NAME_TEXT_MAX));
		require(is_arena_string(m, m->answers[i].data, DNS_DATA_TEXT_MAX));
	}
}

static bool same_rr(const struct dns_rr *a, const struct dns_rr *b)
{
	return a->type == b->type && a->class == b->class && a->ttl == b->ttl &&
	       strcmp(a->name, b->name) == 0 && strcmp(a->data, b->data) == 0;
}

/* The same header, question and first n answers. */
static bool same_start(const struct dns_msg *a, const struct dns_msg *b, unsigned n)
{
	if (a->id != b->id || a->opcode != b->opcode || a->qr != b->qr || a->aa != b->aa ||
	    a->tc != b->tc || a->rd != b->rd || a->ra != b->ra || a->ad != b->ad ||
	    a->cd != b->cd || a->qdcount != b->qdcount || a->ancount != b->ancount ||
	    a->nscount != b->nscount || a->arcount != b->arcount ||
	    a->has_question != b->has_question)
		return false;
	if (a->has_question &&
	    (a->question.type != b->question.type || a->question.class != b->question.class ||
	     strcmp(a->question.name, b->question.name) != 0))
		return false;
	for (unsigned i = 0; i < n; i++)
		if (!same_rr(&a->answers[i], &b->answers[i]))
			return false;
	return true;
}

static bool same_edns(const struct dns_msg *a, const struct dns_msg *b)
{
	return a->has_edns == b->has_edns && a->edns_udp_size == b->edns_udp_size &&
	       a->edns_do == b->edns_do && a->rcode == b->rcode;
}

static bool same_msg(const struct dns_msg *a, const struct dns_msg *b)
{
	return a->n_answers == b->n_answers && a->answers_dropped == b->answers_dropped &&
	       same_start(a, b, a->n_answers) && same_edns(a, b);
}

/* Parses p[0..n) from a copy of exactly n bytes. */
static int parse_copy(const uint8_t *p, size_t n, bool partial, struct dns_msg *m)
{
	uint8_t *copy = malloc(n);
	int rc;

	require(copy != NULL || n == 0);
	if (n)
		memcpy(copy, p, n);
	rc = dns_parse(copy, n, partial, m);
	free(copy);
	if (rc == 0)
		check_msg(m, partial);
	else
		require(rc == DNS_PARSE_ERROR);
	return rc;
}

static bool looks_like_copy(const uint8_t *p, size_t n)
{
	uint8_t *copy = malloc(n);
	bool yes;

	require(copy != NULL || n == 0);
	if (n)
		memcpy(copy, p, n);
	yes = dns_looks_like(copy, n);
	free(copy);
	return yes;
}

/* A partial parse of a prefix of whole, which parsed: its answers are the first of whole's, and
 * all of them unless it was cut. */
static void check_agrees(const struct dns_msg *m, const struct dns_msg *whole)
{
	require(m->n_answers <= whole->n_answers && same_start(m, whole, m->n_answers));
	require(!m->has_edns || same_edns(m, whole));
	require(m->truncated_input || same_msg(m, whole));
}

static void check_prefix(const uint8_t *p, size_t cut, const struct dns_msg *whole)
{
	static struct dns_msg m;

	if (parse_copy(p, cut, true, &m) == 0) {
		check_agrees(&m, whole);
		return;
	}
	for (size_t k = 0, step = cut / SHORTER_TRIES + 1; k < cut; k += step)
		require(parse_copy(p, k, true, &m) != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_msg first, whole, again;
	struct reader r = {data, size};
	bool partial = rd(&r, 1) & 1;
	size_t cut = rd(&r, 2) % (r.n + 1);
	int rc_first = parse_copy(r.p, r.n, partial, &first);
	int rc_whole = parse_copy(r.p, r.n, false, &whole);

	if (looks_like_copy(r.p, r.n))
		require(rc_whole == 0);
	if (rc_whole == 0) {
		require(parse_copy(r.p, r.n, true, &again) == 0);
		check_agrees(&again, &whole);
		check_prefix(r.p, cut, &whole);
	} else if (partial && rc_first == 0) {
		require(first.truncated_input);
	}
	return 0;
}
