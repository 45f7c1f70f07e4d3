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

/* HTTP counters, of the wire view ("http") or of the syscall view ("http_syscall"). */
static void add_http(struct stats_builder *b, const char *g, const struct http_stats *h)
{
	ADD(g, h, requests);
	ADD(g, h, responses);
	ADD(g, h, exchanges);
	ADD(g, h, no_response);
	ADD(g, h, unpaired_responses);
	ADD(g, h, informational);
	ADD(g, h, parse_errors);
	ADD(g, h, resyncs);
	ADD(g, h, discarded_bytes);
	ADD(g, h, truncated);
	ADD(g, h, incomplete);
	ADD(g, h, tunnels);
	ADD(g, h, pending_overflow);
	ADD(g, h, header_buffer_limit);
}

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

	add_http(b, "http", c->http);
}

void stats_add_conns(struct stats_builder *b, const struct conn_stats *c,
                     const struct http_stats *http)
{
	ADD("connections", c, active);
	ADD("connections", c, opened);
	ADD("connections", c, midstream);
	ADD("connections", c, closed);
	ADD("connections", c, process_exits);
	ADD("connections", c, expired);
	ADD("connections", c, evicted);
	ADD("connections", c, data_records);
	ADD("connections", c, data_bytes);
	ADD("connections", c, cut_bytes);
	ADD("connections", c, bad_records);
	add_http(b, "http_syscall", http);
}
