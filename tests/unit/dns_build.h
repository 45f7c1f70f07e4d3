/* Real DNS messages for the tests of the layers above the parser (TCP framing, transactions):
 * a header, one question and A records, in wire format. */
#ifndef L7_TEST_DNS_BUILD_H
#define L7_TEST_DNS_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A message with id and flags, one question for name (A, IN), and n_a A records 192.0.2.1...
 * whose names point at the question's. Returns its length. */
static inline size_t dns_build(uint8_t *out, uint16_t id, uint16_t flags, const char *name, int n_a)
{
	uint8_t *p = out;

	*p++ = (uint8_t)(id >> 8);
	*p++ = (uint8_t)id;
	*p++ = (uint8_t)(flags >> 8);
	*p++ = (uint8_t)flags;
	memcpy(p, (const uint8_t[]){0, 1, 0, (uint8_t)n_a, 0, 0, 0, 0}, 8);
	p += 8;
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		*p++ = (uint8_t)l;
		memcpy(p, name, l);
		p += l;
		name += l + (dot ? 1 : 0);
	}
	*p++ = 0;
	memcpy(p, (const uint8_t[]){0, 1, 0, 1}, 4);
	p += 4;
	for (int i = 0; i < n_a; i++) {
		memcpy(p, (const uint8_t[]){0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4}, 12);
		p += 12;
		memcpy(p, (const uint8_t[]){192, 0, 2, (uint8_t)(i + 1)}, 4);
		p += 4;
	}
	return (size_t)(p - out);
}

#endif
