/* The connections the syscall probes follow, one per conn_id (a (process, fd, socket) in the
 * kernel), each holding the HTTP or DNS parser its data feeds (tcp_app.h). Direction 0 is what
 * the process sent, direction 1 what it received, so a report says whether the local process was
 * the client or the server. Bounded like the flow table: least recently used first out, idle
 * ones expire. UDP datagrams (DNS) pass through to the DNS transactions. */
#ifndef L7_CONN_TABLE_H
#define L7_CONN_TABLE_H

#include <stdint.h>

#include "event.h"
#include "http_stream.h"
#include "syscalls.h"
#include "tcp_app.h"

struct dns_table;
struct proc_cache;

struct conn_stats {
	uint64_t active;
	uint64_t opened;
	uint64_t midstream; /* first seen by their data: open before capture began */
	uint64_t closed;    /* close() seen */
	uint64_t process_exits;
	uint64_t expired; /* idle longer than the idle timeout */
	uint64_t evicted; /* given up because the table was full */
	uint64_t data_records;
	uint64_t data_bytes;  /* bytes the syscalls moved */
	uint64_t cut_bytes;   /* of those, bytes --max-payload did not copy */
	uint64_t bad_records; /* records shorter than they say */
	uint64_t skipped;     /* connections found to carry neither HTTP nor DNS */
	uint64_t datagrams;   /* UDP datagrams, handed to the DNS transactions */
};

struct conn_cfg {
	uint32_t max_conns;
	uint64_t idle_timeout_ns;
	struct http_cfg http;     /* its stats pointer is set by the table */
	struct proc_cache *procs; /* executable and container of each process */
	struct dns_table *dns;    /* where DNS messages go */
	/* A connection carries neither HTTP nor DNS: the kernel may stop copying its data. NULL:
	 * nothing to tell. Called with the table's ctx. */
	void (*skip)(void *ctx, uint32_t tgid, uint32_t fd, uint64_t conn_id);
};

typedef void (*conn_emit_fn)(void *ctx, const struct l7_event *ev);
/* A process exited: its connections' entries in local_conns can go. */
typedef void (*conn_forget_fn)(void *ctx, const struct conn_key *key);

struct conn_table;

struct conn_table *conn_table_new(const struct conn_cfg *cfg, conn_emit_fn emit,
                                  conn_forget_fn forget, void *ctx);

/* One ring buffer record of size bytes (header and payload), its timestamp made Unix time. */
void conn_table_record(struct conn_table *ct, const void *rec, size_t size, uint64_t ts);

void conn_table_tick(struct conn_table *ct, uint64_t now);
/* Reports everything still held, as at shutdown. */
void conn_table_flush(struct conn_table *ct, uint64_t now);
void conn_table_free(struct conn_table *ct);

const struct conn_stats *conn_table_stats(const struct conn_table *ct);
const struct http_stats *conn_table_http_stats(const struct conn_table *ct);
const struct tcp_app_stats *conn_table_app_stats(const struct conn_table *ct);

#endif
