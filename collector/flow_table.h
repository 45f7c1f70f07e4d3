/* The connections the wire view follows: one entry per TCP connection (both directions, whatever
 * interfaces its packets crossed), holding the reassembly of each direction and the HTTP or DNS
 * parser they feed (tcp_app.h). Bounded: least recently used connections are given up when the
 * table is full, idle ones after a timeout; giving one up reports what it holds. UDP datagrams
 * (DNS) pass through to the DNS transactions. */
#ifndef L7_FLOW_TABLE_H
#define L7_FLOW_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "http_stream.h"
#include "packet.h"
#include "conns.h"
#include "reasm.h"
#include "tcp_app.h"

struct dns_table;
struct proc_cache;

struct flow_stats {
	uint64_t active; /* connections in the table now */
	uint64_t created;
	uint64_t closed;           /* ended by FIN or RST */
	uint64_t expired;          /* idle longer than the idle timeout */
	uint64_t evicted;          /* given up because the table was full */
	uint64_t skipped;          /* packets of no followed connection that could not start one */
	uint64_t port_filtered;    /* packets outside the --port set */
	uint64_t datagrams;        /* UDP datagrams, handed to the DNS transactions */
	uint64_t own_datagrams;    /* of those, the collector's own (its sinks' DNS): dropped */
	uint64_t other_proto;      /* neither TCP nor UDP */
	uint64_t hole_timeouts;    /* directions that stopped waiting for missing bytes */
	uint64_t seen_by_syscalls; /* connections left to the syscall probes (one truth) */
};

struct flow_cfg {
	uint32_t max_flows;
	uint64_t idle_timeout_ns;
	uint64_t hole_timeout_ns; /* how long out-of-order bytes wait for the hole before them */
	uint32_t max_ooo_bytes;   /* per direction */
	uint64_t max_buffered;    /* out-of-order bytes, all connections together */
	const uint16_t *ports;    /* --port: only these, and all their TCP traffic is HTTP */
	uint32_t n_ports;
	struct http_cfg http;     /* its stats pointer is set by the table */
	struct proc_cache *procs; /* for the process fields of events; NULL reading files */
	struct dns_table *dns;    /* where DNS messages go */
	enum l7_source source;
};

typedef void (*flow_emit_fn)(void *ctx, const struct l7_event *ev);

struct flow_table;

struct flow_table *flow_table_new(const struct flow_cfg *cfg, flow_emit_fn emit, void *ctx);

/* One decoded packet; ifname (owned by the caller, stable) names where it was seen, or NULL;
 * owner is the local process that sent it (from local_conns), or with to_owner the one that
 * receives it, or NULL. */
void flow_table_packet(struct flow_table *ft, const struct pkt *p, uint64_t ts, const char *ifname,
                       const struct conn_owner *owner, bool to_owner);

/* Timeouts: call about once a second with the current time (packet time when reading a file). */
void flow_table_tick(struct flow_table *ft, uint64_t now);

/* Reports everything still held, as at shutdown or the end of a capture file. */
void flow_table_flush(struct flow_table *ft, uint64_t now);

void flow_table_free(struct flow_table *ft);

struct flow_table_counters {
	const struct flow_stats *flows;
	const struct reasm_stats *reasm;
	const struct http_stats *http;
	const struct tcp_app_stats *app;
};

struct flow_table_counters flow_table_counters(const struct flow_table *ft);

#endif
