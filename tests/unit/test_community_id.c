/* SHA-1 against published vectors and the padding boundaries, Community ID against the baseline
 * of the specification (github.com/corelight/community-id-spec, baseline/baseline_deflt.json and
 * baseline_seed1.json) and the pycommunityid tests. */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "check.h"
#include "community_id.h"
#include "sha1.h"

static void check_sha1(const void *data, size_t len, const char *want_hex)
{
	uint8_t digest[SHA1_DIGEST_LEN];
	char hex[2 * SHA1_DIGEST_LEN + 1];

	sha1(data, len, digest);
	for (int i = 0; i < SHA1_DIGEST_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	CHECK_STR(hex, want_hex);
}

static void test_sha1(void)
{
	/* Repeated 'a' at the lengths around the padding boundaries; digests from sha1sum. */
	static const struct {
		size_t len;
		const char *hex;
	} lengths[] = {
	        {55, "c1c8bbdc22796e28c0e15163d20899b65621d65a"},
	        {56, "c2db330f6083854c99d4b5bfb6e8f29f201be699"},
	        {63, "03f09f5b158a7a8cdad920bddc29b81c18a551f5"},
	        {64, "0098ba824b5c16427bd7a1122a5a442a25ec644d"},
	        {65, "11655326c708d70319be2610e8a57d9a5b959d3b"},
	        {119, "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56"},
	        {120, "f34c1488385346a55709ba056ddd08280dd4c6d6"},
	        {128, "ad5b3fdbcb526778c2839d2f151ea753995e26a0"},
	};
	const size_t million = 1000000;
	char *a = malloc(million);

	CHECK(a != NULL);
	memset(a, 'a', million);

	/* FIPS 180-2 appendix A and RFC 3174 */
	check_sha1("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	check_sha1("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
	check_sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	           "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	check_sha1(a, million, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");

	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		void *copy = guarded_copy(a, lengths[i].len);

		check_sha1(copy, lengths[i].len, lengths[i].hex);
		guarded_free(copy, lengths[i].len);
	}
	free(a);
}

static const struct {
	uint8_t proto;
	const char *saddr;
	const char *daddr;
	uint16_t sport;
	uint16_t dport;
	const char *seed0;
	const char *seed1;
} flows[] = {
        /* the specification's baseline */
        {IPPROTO_TCP, "128.232.110.120", "66.35.250.204", 34855, 80,
         "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
        {IPPROTO_UDP, "192.168.1.52", "8.8.8.8", 54585, 53,
         "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
        {IPPROTO_TCP, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25,
         "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=", "1:eJYTW6AOzFLlSUoESovMjnu7rMw="},
        {IPPROTO_SCTP, "192.168.170.8", "192.168.170.56", 7, 7,
         "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=", "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg="},
        /* pycommunityid: ports compared as numbers, not as bytes */
        {IPPROTO_TCP, "10.0.0.1", "10.0.0.2", 10, 11569,
         "1:SXBGMX1lBOwhhoDrZynfROxnhnM=", "1:HmBRGR+fUyXF4t8WEtal7Y0gEAo="},
        {IPPROTO_SCTP, "192.168.170.8", "192.168.170.56", 7, 80,
         "1:jQgCxbku+pNGw8WPbEc/TS/uTpQ=", "1:Y1/0jQg6e+I3ZwZZ9LP65DNbTXU="},
        /* Neither has UDP over IPv6 nor equal addresses: computed with a Python script that
         * follows the specification (hashlib, struct.pack), which reproduces the vectors above. */
        {IPPROTO_UDP, "2001:db8::1", "2001:db8::53", 53000, 53,
         "1:p2WBFbz+SRMmv0mLBp8H+ZCQ/2M=", "1:/cYg48H8RTHn4+YXs5nNQpqp56c="},
        {IPPROTO_TCP, "10.0.0.1", "10.0.0.1", 40000, 80,
         "1:VSepksiL0eg8U15xNTOfjO9fI8M=", "1:m3Kep/bXGU3LQz7fwoyZ1FuviG0="},
};

static struct l7_tuple make_tuple(uint8_t proto, const char *saddr, const char *daddr,
                                  uint16_t sport, uint16_t dport)
{
	struct l7_tuple t = {0};

	t.family = strchr(saddr, ':') ? AF_INET6 : AF_INET;
	t.proto = proto;
	t.sport = sport;
	t.dport = dport;
	CHECK(inet_pton(t.family, saddr, t.saddr) == 1);
	CHECK(inet_pton(t.family, daddr, t.daddr) == 1);
	return t;
}

static void test_community_id(void)
{
	char id[COMMUNITY_ID_LEN];

	for (size_t i = 0; i < sizeof(flows) / sizeof(flows[0]); i++) {
		struct l7_tuple t = make_tuple(flows[i].proto, flows[i].saddr, flows[i].daddr,
		                               flows[i].sport, flows[i].dport);
		struct l7_tuple reverse;

		tuple_reverse(&t, &reverse);
		community_id_v1(&t, 0, id);
		CHECK_STR(id, flows[i].seed0);
		community_id_v1(&reverse, 0, id);
		CHECK_STR(id, flows[i].seed0);
		community_id_v1(&t, 1, id);
		CHECK_STR(id, flows[i].seed1);
		community_id_v1(&reverse, 1, id);
		CHECK_STR(id, flows[i].seed1);
	}
}

/* Whatever the addresses and ports, both directions agree and the output has its fixed shape. */
static void test_symmetry(void)
{
	uint64_t rng = 0x853c49e6748fea9bu;
	char forward[COMMUNITY_ID_LEN], backward[COMMUNITY_ID_LEN];

	for (int i = 0; i < 10000; i++) {
		struct l7_tuple t = {0}, reverse;

		t.family = i % 2 ? AF_INET6 : AF_INET;
		t.proto = i % 3 ? IPPROTO_TCP : IPPROTO_UDP;
		for (size_t b = 0; b < (t.family == AF_INET6 ? 16u : 4u); b++) {
			rng = rng * 6364136223846793005u + 1442695040888963407u;
			t.saddr[b] = (uint8_t)(rng >> 56);
			/* often equal bytes, so that the port decides the order */
			t.daddr[b] = i % 4 ? t.saddr[b] : (uint8_t)(rng >> 48);
		}
		rng = rng * 6364136223846793005u + 1442695040888963407u;
		t.sport = (uint16_t)(rng >> 48);
		t.dport = i % 5 ? (uint16_t)(rng >> 32) : t.sport;

		tuple_reverse(&t, &reverse);
		community_id_v1(&t, (uint16_t)i, forward);
		community_id_v1(&reverse, (uint16_t)i, backward);
		CHECK_STR(forward, backward);
		CHECK(strlen(forward) == COMMUNITY_ID_LEN - 1 &&
		      forward[COMMUNITY_ID_LEN - 2] == '=');
	}
}

int main(void)
{
	test_sha1();
	test_community_id();
	test_symmetry();
	return check_report("test_community_id");
}
