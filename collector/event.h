/* The normalized event: what every capture path produces and every encoder reads. Pointers are
 * borrowed: they are valid only while the event is being emitted (it is encoded then, once). */
#ifndef L7_EVENT_H
#define L7_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "dns_parse.h"
#include "http_parse.h"

/* Bumped whenever schemas/ changes. */
#define L7_SCHEMA_VERSION "1.0.0"

enum l7_dataset {
	L7_DATASET_HTTP,
	L7_DATASET_DNS,
	L7_DATASET_STATS,
};

enum l7_source {
	L7_SOURCE_SOCKET,  /* the socket filter: the wire */
	L7_SOURCE_SYSCALL, /* syscall probes: inside the process */
	L7_SOURCE_PCAP,    /* a capture file (--read) */
};

struct ev_process {
	uint32_t pid; /* thread group id */
	uint32_t tid;
	uint32_t uid;
	uint32_t gid;
	uint64_t cgroup_id;
	const char *name; /* comm of the thread group leader */
	const char *thread_name;
	const char *executable;   /* NULL when unknown */
	const char *container_id; /* NULL outside containers */
};

struct ev_http {
	const struct http_head *req;
	const struct http_head *resp; /* NULL: no response was seen */
	uint64_t req_bytes;
	uint64_t req_body_bytes;
	uint64_t resp_bytes;
	uint64_t resp_body_bytes;
};

struct ev_dns {
	const struct dns_msg *query; /* NULL: only the response was seen */
	const struct dns_msg *resp;  /* NULL: no response */
};

/* A counter in a stats event: reported as l7.stats.<group>.<name>. */
struct stat_entry {
	const char *group;
	const char *name;
	uint64_t value;
};

struct ev_stats {
	const struct stat_entry *entries; /* grouped: entries of one group are adjacent */
	uint32_t n;
	uint64_t uptime_ns;
};

struct l7_event {
	enum l7_dataset dataset;
	uint64_t ts_start; /* Unix time, nanoseconds */
	uint64_t ts_end;
	/* Network fields (all but stats): the tuple is oriented client -> server. */
	struct l7_tuple tuple;
	uint64_t client_bytes;
	uint64_t server_bytes;
	const char *community_id;
	enum l7_source source;
	const char *interface; /* NULL when unknown */
	bool truncated;
	const char *status; /* l7.status: "ok", "no_response", "no_query" (DNS) */
	const char *role;   /* "client" or "server" when a local endpoint's view; else NULL */
	const struct ev_process *process; /* NULL when no local process is known */
	union {
		struct ev_http http;
		struct ev_dns dns;
		struct ev_stats stats;
	};
};

const char *l7_source_name(enum l7_source s);
const char *l7_dataset_name(enum l7_dataset d);

#endif
