/* addr_format against inet_ntop: every IPv4 octet value in every position (the hand-written
 * dotted quad), and IPv6. */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "addr.h"
#include "check.h"

static void check_like_inet_ntop(uint8_t family, const uint8_t a[16])
{
	char got[L7_ADDRSTRLEN], want[INET6_ADDRSTRLEN];

	inet_ntop(family, a, want, sizeof(want));
	CHECK_STR(addr_format(family, a, got), want);
}

int main(void)
{
	uint8_t a[16] = {0};

	for (int v = 0; v < 256; v++)
		for (int pos = 0; pos < 4; pos++) {
			memset(a, 0, sizeof(a));
			a[pos] = (uint8_t)v;
			a[(pos + 1) % 4] = (uint8_t)(255 - v);
			check_like_inet_ntop(AF_INET, a);
		}
	memset(a, 0xff, 4);
	check_like_inet_ntop(AF_INET, a);
	memset(a, 0, sizeof(a));
	a[15] = 1;
	check_like_inet_ntop(AF_INET6, a);
	inet_pton(AF_INET6, "2001:db8::ffff:192.0.2.1", a);
	check_like_inet_ntop(AF_INET6, a);
	return check_report("test_addr");
}
