/* The network interfaces to watch. */
#ifndef L7_INTERFACES_H
#define L7_INTERFACES_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

struct iface {
	char name[IF_NAMESIZE];
	int ifindex;
	unsigned short type; /* ARPHRD_* */
};

/* The named interfaces, or with n == 0 every interface that is up. Returns how many (filling
 * *out, to be freed) or a negative errno: -ENODEV after logging an unknown name. */
int interfaces_resolve(const char *const *names, size_t n, struct iface **out);

/* Whether frames on this link start with an Ethernet header (read with SOCK_RAW); the others
 * are read from their IP header (SOCK_DGRAM). */
bool iface_is_ethernet(const struct iface *i);

#endif
