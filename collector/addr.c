#include "addr.h"

#include <arpa/inet.h>
#include <string.h>

/* Dotted quad by hand: glibc's inet_ntop formats IPv4 with sprintf, and every event has two. */
static void format_v4(const uint8_t a[4], char *buf)
{
	for (int i = 0; i < 4; i++) {
		uint8_t v = a[i];

		if (v >= 100)
			*buf++ = (char)('0' + v / 100);
		if (v >= 10)
			*buf++ = (char)('0' + v / 10 % 10);
		*buf++ = (char)('0' + v % 10);
		*buf++ = i < 3 ? '.' : '\0';
	}
}

const char *addr_format(uint8_t family, const uint8_t addr[16], char buf[L7_ADDRSTRLEN])
{
	if (family != AF_INET6) {
		format_v4(addr, buf);
		return buf;
	}
	if (!inet_ntop(AF_INET6, addr, buf, L7_ADDRSTRLEN))
		strcpy(buf, "?");
	return buf;
}

void tuple_reverse(const struct l7_tuple *in, struct l7_tuple *out)
{
	*out = *in;
	out->sport = in->dport;
	out->dport = in->sport;
	memcpy(out->saddr, in->daddr, sizeof(out->saddr));
	memcpy(out->daddr, in->saddr, sizeof(out->daddr));
}
