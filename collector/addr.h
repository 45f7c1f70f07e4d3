/* Endpoints of a connection as the rest of the collector sees them. */
#ifndef L7_ADDR_H
#define L7_ADDR_H

#include <stddef.h>
#include <stdint.h>

/* Both addresses and ports of one packet or connection. Always zero-initialise before filling so
 * that the struct can be hashed and compared as bytes. IPv4 addresses use the first 4 bytes of
 * saddr/daddr, the rest stays zero. Ports are in host byte order. */
struct l7_tuple {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t sport;
	uint16_t dport;
	uint16_t reserved;
	uint8_t saddr[16];
	uint8_t daddr[16];
};

_Static_assert(sizeof(struct l7_tuple) == 40, "l7_tuple is hashed as bytes: no padding");

/* INET6_ADDRSTRLEN, without pulling netinet/in.h into every header. */
#define L7_ADDRSTRLEN 46

/* Writes the address in its usual text form (inet_ntop); returns buf. */
const char *addr_format(uint8_t family, const uint8_t addr[16], char buf[L7_ADDRSTRLEN]);

/* The same connection seen from the other side. */
void tuple_reverse(const struct l7_tuple *in, struct l7_tuple *out);

#endif
