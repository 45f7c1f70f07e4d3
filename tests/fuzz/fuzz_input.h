/* What the fuzz targets share: reading a recipe from the input, and failing loudly. */
#ifndef L7_FUZZ_INPUT_H
#define L7_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Reads input front to back; reading past the end yields zeros, so every input is a recipe. */
struct reader {
	const uint8_t *p;
	size_t n;
};

/* The next `bytes` bytes (at most 4) as a big-endian number. */
static inline uint32_t rd(struct reader *r, unsigned bytes)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < bytes; i++) {
		v = v << 8 | (r->n ? *r->p : 0);
		if (r->n) {
			r->p++;
			r->n--;
		}
	}
	return v;
}

/* An invariant: abort() so libFuzzer records the input. */
static inline void require(bool ok)
{
	if (!ok)
		abort();
}

#endif
