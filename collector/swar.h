/* Eight bytes at a time: whether any byte of a 64-bit word has some property, with the haszero,
 * hasless and hasmore tricks of Bit Twiddling Hacks. Each may misplace which byte matched, but
 * none errs on whether one did, and whether is all their callers (the JSON writer's escaping
 * scan, the HTTP parser's character classes) ask before falling back to a byte loop. The masks
 * they return are combined with | so that a scan tests one word with one branch. */
#ifndef L7_SWAR_H
#define L7_SWAR_H

#include <stdint.h>
#include <string.h>

#define SWAR_ONES  0x0101010101010101ull
#define SWAR_HIGHS 0x8080808080808080ull

static inline uint64_t swar_load(const void *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Non-zero if a byte of v is below n (n <= 0x80). */
static inline uint64_t swar_less(uint64_t v, uint8_t n)
{
	return (v - SWAR_ONES * n) & ~v & SWAR_HIGHS;
}

/* Non-zero if a byte of v is above n (n <= 0x7f). */
static inline uint64_t swar_more(uint64_t v, uint8_t n)
{
	return ((v + SWAR_ONES * (uint8_t)(0x7f - n)) | v) & SWAR_HIGHS;
}

/* Non-zero if a byte of v equals b. */
static inline uint64_t swar_byte(uint64_t v, uint8_t b)
{
	return swar_less(v ^ (SWAR_ONES * b), 1);
}

#endif
