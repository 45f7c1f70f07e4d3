#include "addr.h"

#include <arpa/inet.h>
#include <string.h>

const char *addr_format(uint8_t family, const uint8_t addr[16], char buf[L7_ADDRSTRLEN])
{
	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, buf, L7_ADDRSTRLEN))
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
