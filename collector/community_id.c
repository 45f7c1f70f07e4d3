#include "community_id.h"

#include <string.h>
#include <sys/socket.h>

#include "sha1.h"

#define COMMUNITY_ID_PREFIX "1:"
#define DIGEST_BASE64_LEN   ((SHA1_DIGEST_LEN + 2) / 3 * 4)

_Static_assert(COMMUNITY_ID_LEN == sizeof(COMMUNITY_ID_PREFIX) + DIGEST_BASE64_LEN,
               "prefix, base64 of the digest, NUL");
_Static_assert(SHA1_DIGEST_LEN % 3 == 2, "the base64 ends in exactly one '='");

/* Standard base64 with padding (RFC 4648, section 4). A zero byte completes the last group of
 * three: its bits are the padding bits the standard asks for, and the character it adds alone
 * becomes the '='. */
static void base64_digest(const uint8_t digest[SHA1_DIGEST_LEN], char out[DIGEST_BASE64_LEN])
{
	static const char alphabet[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t in[SHA1_DIGEST_LEN + 1] = {0};

	memcpy(in, digest, SHA1_DIGEST_LEN);
	for (size_t i = 0, o = 0; i < sizeof(in); i += 3, o += 4) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o] = alphabet[v >> 18 & 63];
		out[o + 1] = alphabet[v >> 12 & 63];
		out[o + 2] = alphabet[v >> 6 & 63];
		out[o + 3] = alphabet[v & 63];
	}
	out[DIGEST_BASE64_LEN - 1] = '=';
}

static uint8_t *put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

void community_id_v1(const struct l7_tuple *t, uint16_t seed, char out[COMMUNITY_ID_LEN])
{
	size_t addr_len = t->family == AF_INET6 ? 16 : 4;
	const uint8_t *addr1 = t->saddr, *addr2 = t->daddr;
	uint16_t port1 = t->sport, port2 = t->dport;
	int cmp = memcmp(addr1, addr2, addr_len);

	/* The smaller endpoint goes first, so that both directions of a flow hash the same. */
	if (cmp > 0 || (cmp == 0 && port1 > port2)) {
		addr1 = t->daddr;
		addr2 = t->saddr;
		port1 = t->dport;
		port2 = t->sport;
	}

	/* seed, address, address, protocol, zero pad byte, port, port; all in network byte order */
	uint8_t input[2 + 16 + 16 + 1 + 1 + 2 + 2];
	uint8_t *p = put_be16(input, seed);

	memcpy(p, addr1, addr_len);
	p += addr_len;
	memcpy(p, addr2, addr_len);
	p += addr_len;
	*p++ = t->proto;
	*p++ = 0;
	p = put_be16(p, port1);
	p = put_be16(p, port2);

	uint8_t digest[SHA1_DIGEST_LEN];

	sha1(input, (size_t)(p - input), digest);
	memcpy(out, COMMUNITY_ID_PREFIX, strlen(COMMUNITY_ID_PREFIX));
	base64_digest(digest, out + strlen(COMMUNITY_ID_PREFIX));
	out[COMMUNITY_ID_LEN - 1] = '\0';
}
