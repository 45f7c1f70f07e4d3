#include "interfaces.h"

#include <errno.h>
#include <net/if_arp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

bool iface_is_ethernet(const struct iface *i)
{
	return i->type == ARPHRD_ETHER || i->type == ARPHRD_LOOPBACK;
}

/* Fills type; returns whether the interface is up. */
static bool query(int fd, struct iface *i)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, i->name, IF_NAMESIZE - 1);
	i->type = ioctl(fd, SIOCGIFHWADDR, &ifr) == 0 ? ifr.ifr_hwaddr.sa_family : ARPHRD_NONE;
	return ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP);
}

static int resolve_named(int fd, const char *const *names, size_t n, struct iface *list)
{
	for (size_t k = 0; k < n; k++) {
		struct iface *i = &list[k];

		if (strlen(names[k]) >= IF_NAMESIZE ||
		    !(i->ifindex = (int)if_nametoindex(names[k]))) {
			LOG(LOG_ERROR, "no interface named '%s' (`ip link` lists them)", names[k]);
			return -ENODEV;
		}
		strcpy(i->name, names[k]);
		if (!query(fd, i))
			LOG(LOG_WARN, "interface %s is down: watching it anyway", i->name);
	}
	return (int)n;
}

static int resolve_up(int fd, struct iface **out)
{
	struct if_nameindex *all = if_nameindex(), *e;
	struct iface *list;
	int n = 0;

	if (!all)
		return -errno;
	for (e = all; e->if_index; e++)
		n++;
	list = calloc((size_t)n + 1, sizeof(*list));
	if (!list) {
		if_freenameindex(all);
		return -ENOMEM;
	}
	n = 0;
	for (e = all; e->if_index; e++) {
		struct iface *i = &list[n];

		strncpy(i->name, e->if_name, IF_NAMESIZE - 1);
		i->ifindex = (int)e->if_index;
		if (query(fd, i))
			n++;
	}
	if_freenameindex(all);
	*out = list;
	return n;
}

int interfaces_resolve(const char *const *names, size_t n, struct iface **out)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc;

	if (fd < 0)
		return -errno;
	if (n) {
		*out = calloc(n, sizeof(**out));
		rc = *out ? resolve_named(fd, names, n, *out) : -ENOMEM;
	} else {
		rc = resolve_up(fd, out);
	}
	close(fd);
	if (rc < 0) {
		free(*out);
		*out = NULL;
	}
	return rc;
}
