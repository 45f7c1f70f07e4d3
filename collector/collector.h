/* The running collector: what the live loop (run.c) and the file reader (offline.c) share. */
#ifndef L7_COLLECTOR_H
#define L7_COLLECTOR_H

#include <signal.h>
#include <stdint.h>

#include "cli.h"
#include "encode.h"
#include "flow_table.h"
#include "pipeline.h"
#include "wire.h"

struct conn_table;
struct dns_table;
struct proc_cache;
struct rings;
struct socket_capture;
struct syscall_capture;

struct collector {
	const struct config *cfg;
	struct pipeline *pipe;
	struct flow_table *ft;
	struct dns_table *dns; /* DNS transactions, from every capture path */
	struct wire_stats wire;
	struct socket_capture *sock; /* NULL when reading a file or without --capture socket */
	struct syscall_capture *sys; /* NULL when reading a file */
	struct conn_table *conns;    /* syscall connections: NULL without --capture syscall */
	struct proc_cache *procs;
	struct rings *rb;      /* one poller for every ring buffer */
	uint64_t mono_to_real; /* CLOCK_MONOTONIC (BPF timestamps) to Unix time */
	struct encode_opts enc;
	char host[256];
	uint64_t start_ns;
	uint64_t last_tick_ns;
	uint64_t last_stats_ns;
	uint64_t last_packet_ns; /* --read: the clock is the capture's */
};

/* Set by signal handlers. */
extern volatile sig_atomic_t collector_exiting;

/* Timeouts and, in live mode, periodic stats; now is wall-clock or packet time. Call it every
 * round: what needs less is done once a second. */
void collector_tick(struct collector *c, uint64_t now);

/* Sends a stats event with every counter. */
void collector_emit_stats(struct collector *c, uint64_t now);

/* --read FILE: returns an exit status. */
int offline_read(struct collector *c, const char *path);

/* The whole program after the command line: returns an exit status. */
int run(const struct config *cfg);

#endif
