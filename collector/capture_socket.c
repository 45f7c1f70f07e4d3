#include "capture_socket.h"

#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bpf_util.h"
#include "environment.h"
#include "interfaces.h"
#include "log.h"
#include "rings.h"
#include "sockfilter.skel.h"

struct socket_capture {
	struct sockfilter_bpf *skel;
	struct iface *ifaces;
	int *fds;
	int n;
	struct flow_table *ft;
	struct wire_stats *ws;
	const uint64_t *mono_to_real; /* added to bpf_ktime_get_ns() stamps; kept by the run loop */
	uint64_t bad_records;
	bool discard; /* --bench-mode discard */
	char describe[512];
};

static const char *ifname_of(const struct socket_capture *c, uint32_t ifindex)
{
	for (int i = 0; i < c->n; i++)
		if ((uint32_t)c->ifaces[i].ifindex == ifindex)
			return c->ifaces[i].name;
	return NULL;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct socket_capture *c = ctx;
	const struct sf_record *r = data;

	if (size < sizeof(*r) || r->cap_len > size - sizeof(*r)) {
		c->bad_records++;
		return 0;
	}
	if (c->discard)
		return 0;
	wire_frame(c->ft, c->ws, (const uint8_t *)(r + 1), r->cap_len, r->wire_len,
	           r->link == SF_LINK_IP ? PKT_LINK_RAW : PKT_LINK_ETHERNET,
	           r->ts_ns + *c->mono_to_real, ifname_of(c, r->ifindex),
	           r->flags & SF_REC_OWNED ? &r->owner : NULL, r->flags & SF_REC_TO_OWNER);
	return 0;
}

/* A socket that delivers nothing itself (the filter returns 0): it exists to run the filter on
 * every packet of one interface. Bound only after the filter is attached, so no packet arrives
 * unfiltered. */
static int open_socket(const struct socket_capture *c, const struct iface *i)
{
	bool eth = iface_is_ethernet(i);
	int prog = bpf_program__fd(eth ? c->skel->progs.sf_ethernet : c->skel->progs.sf_ip);
	int fd = socket(AF_PACKET, (eth ? SOCK_RAW : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	int one = 1, rcvbuf = 4096;
	struct sockaddr_ll sll = {
	        .sll_family = AF_PACKET,
	        .sll_protocol = htons(ETH_P_ALL),
	        .sll_ifindex = i->ifindex,
	};

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &prog, sizeof(prog)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)))
		goto fail;
	/* On lo every packet passes twice, sent and received. Ignoring the sent copy halves the
	 * work and keeps the kernel from cloning it for us at all (Linux 4.20). */
	if (i->type == ARPHRD_LOOPBACK &&
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)))
		goto fail;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		goto fail;
	return fd;
fail:
	one = -errno;
	close(fd);
	return one;
}

static int load(struct socket_capture *c, const struct config *cfg)
{
	int err, ncpu = libbpf_num_possible_cpus();

	if (ncpu <= 0)
		return EXIT_RUNTIME;
	c->skel = sockfilter_bpf__open();
	if (!c->skel) {
		env_explain_bpf_failure("opening the socket filter", -errno);
		return EXIT_RUNTIME;
	}
	c->skel->rodata->snaplen = cfg->snaplen;
	c->skel->rodata->port_filter_on = cfg->n_ports > 0;
	c->skel->rodata->syscalls_follow_data = (cfg->capture & CAPTURE_SYSCALL) != 0;
	c->skel->rodata->wakeup_bytes = ring_wakeup_bytes(cfg->ringbuf_bytes);
	c->skel->rodata->attach_only = cfg->bench_mode == BENCH_ATTACH_ONLY;
	c->discard = cfg->bench_mode == BENCH_DISCARD;
	bpf_map__set_max_entries(c->skel->maps.packets, cfg->ringbuf_bytes);
	bpf_map__set_max_entries(c->skel->maps.scratch, (uint32_t)ncpu);
	err = sockfilter_bpf__load(c->skel);
	if (err) {
		env_explain_bpf_failure("loading the socket filter", err);
		return err == -EPERM || err == -EACCES ? EXIT_USAGE : EXIT_RUNTIME;
	}
	for (size_t k = 0; k < cfg->n_ports; k++) {
		uint8_t on = 1;

		if (bpf_map__update_elem(c->skel->maps.ports, &cfg->ports[k], sizeof(uint16_t), &on,
		                         sizeof(on), BPF_ANY)) {
			LOG(LOG_ERROR, "configuring --port %u: %s", cfg->ports[k], strerror(errno));
			return EXIT_RUNTIME;
		}
	}
	return 0;
}

static int attach(struct socket_capture *c)
{
	size_t used = 0;

	c->fds = calloc((size_t)c->n, sizeof(*c->fds));
	if (!c->fds)
		return EXIT_RUNTIME;
	for (int i = 0; i < c->n; i++)
		c->fds[i] = -1;
	for (int i = 0; i < c->n; i++) {
		c->fds[i] = open_socket(c, &c->ifaces[i]);
		if (c->fds[i] < 0) {
			env_explain_bpf_failure(c->ifaces[i].name, c->fds[i]);
			return c->fds[i] == -EPERM ? EXIT_USAGE : EXIT_RUNTIME;
		}
		used += (size_t)snprintf(c->describe + used, sizeof(c->describe) - used, "%s%s",
		                         i ? ", " : "", c->ifaces[i].name);
		if (used >= sizeof(c->describe))
			used = sizeof(c->describe) - 1;
	}
	return 0;
}

int socket_capture_open(struct socket_capture **out, const struct config *cfg,
                        struct flow_table *ft, struct wire_stats *ws, const uint64_t *mono_to_real,
                        struct rings **rb)
{
	struct socket_capture *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return EXIT_RUNTIME;
	*out = c;
	c->ft = ft;
	c->ws = ws;
	c->mono_to_real = mono_to_real;
	rc = interfaces_resolve(cfg->interfaces, cfg->n_interfaces, &c->ifaces);
	if (rc < 0)
		return rc == -ENODEV ? EXIT_USAGE : EXIT_RUNTIME;
	if (rc == 0) {
		LOG(LOG_ERROR, "no interface is up: name one with --interface");
		return EXIT_USAGE;
	}
	c->n = rc;
	rc = load(c, cfg);
	if (rc)
		return rc;
	rc = attach(c);
	if (rc)
		return rc;
	rc = rings_add(rb, c->skel->maps.packets, on_record, c);
	if (rc) {
		LOG(LOG_ERROR, "opening the socket filter's ring buffer: %s", strerror(-rc));
		return EXIT_RUNTIME;
	}
	return 0;
}

int socket_capture_conns_fd(const struct socket_capture *c)
{
	return bpf_map__fd(c->skel->maps.local_conns);
}

const char *socket_capture_describe(const struct socket_capture *c)
{
	return c->describe;
}

void socket_capture_stats_add(struct socket_capture *c, struct stats_builder *b)
{
	uint64_t sums[SF_CTR_MAX];

	percpu_sum(c->skel->maps.counters, SF_CTR_MAX, sums);
	stats_add_kernel(b, sums);
	stats_add(b, "ringbuf", "bad_records", c->bad_records);
}

void socket_capture_close(struct socket_capture *c)
{
	if (!c)
		return;
	for (int i = 0; c->fds && i < c->n; i++)
		if (c->fds[i] >= 0)
			close(c->fds[i]);
	sockfilter_bpf__destroy(c->skel);
	free(c->fds);
	free(c->ifaces);
	free(c);
}
