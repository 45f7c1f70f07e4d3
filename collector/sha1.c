#include "sha1.h"

#include <string.h>

#define SHA1_BLOCK_LEN 64

struct sha1_ctx {
	uint32_t h[5];
	uint64_t bytes; /* message length so far, for the padding */
	uint8_t block[SHA1_BLOCK_LEN];
	size_t fill;
};

static uint32_t rol32(uint32_t x, unsigned int n)
{
	return x << n | x >> (32 - n);
}

static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* FIPS 180-4, 6.1.2: one 512-bit block into the hash state. */
static void sha1_compress(uint32_t h[5], const uint8_t block[SHA1_BLOCK_LEN])
{
	uint32_t w[80];
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];

	for (int t = 0; t < 16; t++)
		w[t] = load_be32(block + 4 * t);
	for (int t = 16; t < 80; t++)
		w[t] = rol32(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);

	for (int t = 0; t < 80; t++) {
		uint32_t f, k;

		if (t < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (t < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (t < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}

		uint32_t temp = rol32(a, 5) + f + e + k + w[t];

		e = d;
		d = c;
		c = rol32(b, 30);
		b = a;
		a = temp;
	}

	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

static void sha1_init(struct sha1_ctx *ctx)
{
	*ctx = (struct sha1_ctx){
	        .h = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0},
	};
}

static void sha1_update(struct sha1_ctx *ctx, const uint8_t *p, size_t len)
{
	ctx->bytes += len;
	while (len) {
		size_t take = SHA1_BLOCK_LEN - ctx->fill;

		if (take > len)
			take = len;
		memcpy(ctx->block + ctx->fill, p, take);
		ctx->fill += take;
		p += take;
		len -= take;
		if (ctx->fill == SHA1_BLOCK_LEN) {
			sha1_compress(ctx->h, ctx->block);
			ctx->fill = 0;
		}
	}
}

/* FIPS 180-4, 5.1.1: a 1 bit, zeros up to 56 bytes into a block, the bit length big-endian. */
static void sha1_final(struct sha1_ctx *ctx, uint8_t out[SHA1_DIGEST_LEN])
{
	uint8_t pad[SHA1_BLOCK_LEN + 8] = {0x80};
	uint64_t bits = ctx->bytes * 8;
	size_t zeros_end =
	        ctx->fill < SHA1_BLOCK_LEN - 8 ? SHA1_BLOCK_LEN - 8 : 2 * SHA1_BLOCK_LEN - 8;
	size_t pad_len = zeros_end - ctx->fill;

	store_be32(pad + pad_len, (uint32_t)(bits >> 32));
	store_be32(pad + pad_len + 4, (uint32_t)bits);
	sha1_update(ctx, pad, pad_len + 8);
	for (int i = 0; i < 5; i++)
		store_be32(out + 4 * i, ctx->h[i]);
}

void sha1(const void *data, size_t len, uint8_t out[SHA1_DIGEST_LEN])
{
	struct sha1_ctx ctx;

	sha1_init(&ctx);
	sha1_update(&ctx, data, len);
	sha1_final(&ctx, out);
}
