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
        [SF_CTR_OTHER_PROTO] = "other_proto",
        [SF_CTR_NOT_HTTP] = "not_http",
        [SF_CTR_NOT_DNS] = "not_dns",
        [SF_CTR_FRAGMENT] = "fragments",
        [SF_CTR_MALFORMED] = "malformed",
        [SF_CTR_PORT_FILTERED] = "port_filtered",
        [SF_CTR_FLOW_TRACK_FAILED] = "flow_track_failed",
        [SF_CTR_NO_SCRATCH] = "no_scratch",
        [SF_CTR_SYSCALL_OWNED] = "syscall_owned",
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

/* What TCP connections were found carrying, for the wire ("flows") or syscall view. */
static void add_tcp_app(struct stats_builder *b, const char *g, const struct tcp_app_stats *a)
{
	stats_add(b, g, "http_connections", a->http);
	stats_add(b, g, "dns_connections", a->dns);
	stats_add(b, g, "other_connections", a->other);
	stats_add(b, g, "unframed_connections", a->unframed);
	stats_add(b, g, "dns_tcp_messages", a->dns_stream.messages);
	stats_add(b, g, "dns_tcp_partial", a->dns_stream.partial);
	stats_add(b, g, "dns_tcp_lost_bytes", a->dns_stream.lost_bytes);
	stats_add(b, g, "dns_tcp_unfinished", a->dns_stream.unfinished);
}

void stats_add_flows(struct stats_builder *b, const struct flow_table_counters *c)
{
	ADD("flows", c->flows, active);
	ADD("flows", c->flows, created);
	ADD("flows", c->flows, closed);
	ADD("flows", c->flows, expired);
	ADD("flows", c->flows, evicted);
	ADD("flows", c->flows, skipped);
	ADD("flows", c->flows, port_filtered);
	ADD("flows", c->flows, datagrams);
	ADD("flows", c->flows, own_datagrams);
	ADD("flows", c->flows, other_proto);
	ADD("flows", c->flows, hole_timeouts);
	ADD("flows", c->flows, seen_by_syscalls);
	add_tcp_app(b, "flows", c->app);

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

void stats_add_dns(struct stats_builder *b, const struct dns_stats *d)
{
	ADD("dns", d, messages);
	ADD("dns", d, parse_errors);
	ADD("dns", d, not_dns);
	ADD("dns", d, queries);
	ADD("dns", d, responses);
	ADD("dns", d, transactions);
	ADD("dns", d, no_response);
	ADD("dns", d, no_query);
	ADD("dns", d, copies);
	ADD("dns", d, late_copies);
	ADD("dns", d, retransmits);
	ADD("dns", d, evicted);
	ADD("dns", d, lost);
	ADD("dns", d, active);
}

void stats_add_conns(struct stats_builder *b, const struct conn_stats *c,
                     const struct http_stats *http, const struct tcp_app_stats *app)
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
	ADD("connections", c, datagrams);
	ADD("connections", c, skipped);
	add_tcp_app(b, "connections", app);
	add_http(b, "http_syscall", http);
}
