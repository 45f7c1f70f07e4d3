/* The wire view's common path, live or from a file: a captured frame is decoded and handed to
 * the flow table; frames that cannot be decoded are counted by reason. */
#ifndef L7_WIRE_H
#define L7_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow_table.h"
#include "packet.h"
#include "stats.h"

struct wire_stats {
	uint64_t frames;
	uint64_t bad_link;
	uint64_t not_ip;
	uint64_t malformed;
	uint64_t fragments;
	uint64_t other_proto;
};

/* owner and to_owner as for flow_table_packet. */
void wire_frame(struct flow_table *ft, struct wire_stats *st, const uint8_t *frame, size_t cap,
                size_t wire_len, enum pkt_link link, uint64_t ts, const char *ifname,
                const struct conn_owner *owner, bool to_owner);

void stats_add_wire(struct stats_builder *b, const struct wire_stats *st);

#endif
