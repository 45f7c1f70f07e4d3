/* Counters from every layer, gathered into one list for the periodic stats event. Each layer
 * keeps its own counters in its own struct; this file knows their names. */
#ifndef L7_STATS_H
#define L7_STATS_H

#include <stdint.h>

#include "event.h"
#include "conn_table.h"
#include "dns_table.h"
#include "flow_table.h"

#define STATS_MAX 512

struct stats_builder {
	struct stat_entry e[STATS_MAX];
	uint32_t n;
};

void stats_add(struct stats_builder *b, const char *group, const char *name, uint64_t value);

/* The socket filter's per-CPU counters, summed: values[SF_CTR_MAX] in enum sf_counter order. */
void stats_add_kernel(struct stats_builder *b, const uint64_t *values);
void stats_add_flows(struct stats_builder *b, const struct flow_table_counters *c);
void stats_add_conns(struct stats_builder *b, const struct conn_stats *c,
                     const struct http_stats *http, const struct tcp_app_stats *app);
void stats_add_dns(struct stats_builder *b, const struct dns_stats *d);

#endif
