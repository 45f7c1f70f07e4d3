/* DNS messages in wire format (RFC 1035), parsed in place: nothing is allocated and the caller
 * owns the result, whose strings live in an arena inside it. Used for UDP payloads and for TCP
 * messages once their 2-byte length prefix is gone; pairing queries with responses is not done
 * here.
 *
 * Names are rendered in presentation form without the trailing dot ("www.example.com"), the root
 * as "."; label bytes other than printable ASCII become \DDD, and the specials . \ " ( ) ; @ $
 * take a backslash (dig style: "a\.b", "x\032y"). Data is rendered as dig does (A and AAAA as
 * addresses, MX "10 mail.example.com", TXT as quoted strings joined by spaces, SRV, SOA, CAA,
 * SVCB/HTTPS with their parameters); other types, and known types whose RDATA is malformed, in
 * the RFC 3597 form "\# <len> <hex>". */
#ifndef L7_DNS_PARSE_H
#define L7_DNS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A name is at most 255 bytes on the wire, length bytes included (RFC 1035 2.3.4); rendered,
 * at most 1003 characters: 250 label bytes (in 4 labels), each as \DDD, and 3 dots. Rendered
 * data longer than DNS_DATA_TEXT_MAX - 1 characters is cut to end in "...". Both sizes count the
 * NUL. */
#define DNS_MAX_NAME      255
#define DNS_NAME_TEXT_MAX 1004
#define DNS_DATA_TEXT_MAX 1024
#define DNS_MAX_ANSWERS   32   /* answer records kept; more are counted */
#define DNS_TEXT_BYTES    8192 /* the arena for one message's names and data */

struct dns_question {
	const char *name;
	uint16_t type, class;
};

struct dns_rr {
	const char *name;
	uint16_t type, class;
	uint32_t ttl;
	const char *data; /* rendered */
};

struct dns_msg {
	uint16_t id;
	uint8_t opcode;
	uint16_t rcode; /* 12 bits with EDNS: the OPT record holds the upper 8 */
	bool qr, aa, tc, rd, ra, ad, cd;
	uint16_t qdcount, ancount, nscount, arcount; /* as in the header */

	bool has_question;            /* qdcount > 0 */
	struct dns_question question; /* the first one */

	/* The first n_answers answer records, in order. Authority and additional records are
	 * checked but not kept, except for the OPT record below. */
	uint16_t n_answers;
	struct dns_rr answers[DNS_MAX_ANSWERS];
	bool answers_dropped; /* more than DNS_MAX_ANSWERS, or the text arena was full */

	bool has_edns; /* the first OPT record of the additional section (RFC 6891) */
	uint16_t edns_udp_size;
	bool edns_do;

	bool truncated_input; /* partial parse: the buffer ended before the records it counts */

	size_t text_used;
	char text[DNS_TEXT_BYTES]; /* where the strings above point */
};

enum {
	DNS_PARSE_ERROR = -1,
};

/* Parses the message p[0..n). Returns 0 or DNS_PARSE_ERROR: shorter than a header, a question
 * or a record that is malformed or runs past the end, a bad label (types 01 and 10, RFC 6891
 * 5), a name over DNS_MAX_NAME bytes, or a compression loop. Bytes after the last counted record
 * are ignored: the counts say what the sender meant.
 *
 * Compression pointers may point anywhere in the message, forward too (RFC 1035 4.1.4 only says
 * "a prior occurrence", and decoders accept both); a name may follow at most 127 of them (one per
 * label of the longest name) and spell at most DNS_MAX_NAME bytes, which ends every loop.
 *
 * partial: p[0..n) is a prefix of the message, cut by a capture limit. The header and the
 * question section must still be whole; the first record that runs past the end, or whose data
 * names point past it, ends the parse with truncated_input set and what came before kept. A
 * prefix of a message that parses, if it holds the questions, therefore parses too. */
int dns_parse(const uint8_t *p, size_t n, bool partial, struct dns_msg *m);

/* A strict and cheap test that p[0..n) is one whole DNS query or response, to recognise DNS on
 * ports other than 53: opcode QUERY, NOTIFY or UPDATE; the Z bit clear; exactly one question, of
 * a known class; records that end exactly at n; and for a standard query, rcode 0, no answer or
 * authority records and at most two additional ones (OPT, TSIG). True implies that dns_parse()
 * without partial succeeds. */
bool dns_looks_like(const uint8_t *p, size_t n);

/* Mnemonics for header and record fields, or the RFC 3597 style fallback written into buf:
 * "TYPE65280", "CLASS7", "RCODE24", "OPCODE7". */
const char *dns_type_name(uint16_t type, char buf[16]);
const char *dns_class_name(uint16_t cls, char buf[16]);
const char *dns_rcode_name(uint16_t rcode, char buf[16]);
const char *dns_opcode_name(uint8_t opcode, char buf[16]);

#endif
