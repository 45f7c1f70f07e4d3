#include "stats.h"

#include "sockfilter.h"

void stats_add(struct stats_builder *b, const char *group, const char *name, uint64_t value)
{
	if (b->n < STATS_MAX)
		b->e[b->n++] = (struct stat_entry){group, name, value};
}

static const char *const kernel_names[] = {
        [SF_CTR_PACKETS] = "packets",
        [SF_CTR_KEPT] = "kept",
        [SF_CTR_KEPT_BYTES] = "kept_bytes",
        [SF_CTR_RING_FULL] = "ring_full",
        [SF_CTR_TRUNCATED] = "truncated",
        [SF_CTR_NOT_IP] = "not_ip",
        [SF_CTR_NOT_TCP] = "not_tcp",
        [SF_CTR_NOT_HTTP] = "not_http",
        [SF_CTR_FRAGMENT] = "fragments",
        [SF_CTR_MALFORMED] = "malformed",
        [SF_CTR_PORT_FILTERED] = "port_filtered",
        [SF_CTR_FLOW_TRACK_FAILED] = "flow_track_failed",
        [SF_CTR_NO_SCRATCH] = "no_scratch",
};

_Static_assert(sizeof(kernel_names) / sizeof(kernel_names[0]) == SF_CTR_MAX,
               "every socket filter counter needs a name");

void stats_add_kernel(struct stats_builder *b, const uint64_t *values)
{
	for (int i = 0; i < SF_CTR_MAX; i++)
		stats_add(b, "kernel", kernel_names[i], values[i]);
}

#define ADD(group, s, field) stats_add(b, group, #field, (s)->field)

void stats_add_flows(struct stats_builder *b, const struct flow_table_counters *c)
{
	ADD("flows", c->flows, active);
	ADD("flows", c->flows, created);
	ADD("flows", c->flows, closed);
	ADD("flows", c->flows, expired);
	ADD("flows", c->flows, evicted);
	ADD("flows", c->flows, not_http);
	ADD("flows", c->flows, skipped);
	ADD("flows", c->flows, port_filtered);
	ADD("flows", c->flows, not_tcp);
	ADD("flows", c->flows, hole_timeouts);
	ADD("flows", c->flows, seen_by_syscalls);

	ADD("reassembly", c->reasm, segments);
	ADD("reassembly", c->reasm, out_of_order);
	ADD("reassembly", c->reasm, retransmitted);
	ADD("reassembly", c->reasm, gaps);
	ADD("reassembly", c->reasm, gap_bytes);
	ADD("reassembly", c->reasm, ooo_overflows);
	ADD("reassembly", c->reasm, out_of_window);
	ADD("reassembly", c->reasm, after_fin);
	ADD("reassembly", c->reasm, buffered_bytes);

	ADD("http", c->http, requests);
	ADD("http", c->http, responses);
	ADD("http", c->http, exchanges);
	ADD("http", c->http, no_response);
	ADD("http", c->http, unpaired_responses);
	ADD("http", c->http, informational);
	ADD("http", c->http, parse_errors);
	ADD("http", c->http, resyncs);
	ADD("http", c->http, discarded_bytes);
	ADD("http", c->http, truncated);
	ADD("http", c->http, incomplete);
	ADD("http", c->http, tunnels);
	ADD("http", c->http, pending_overflow);
	ADD("http", c->http, header_buffer_limit);
}
