/* The command line, parsed into one configuration the rest of the collector reads. */
#ifndef L7_CLI_H
#define L7_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sockfilter.h"
#include "syscalls.h"

/* Exit statuses. */
enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1, /* something failed while running */
	EXIT_USAGE = 2,   /* bad command line, or an environment that cannot work */
};

#define CAPTURE_SOCKET  0x1u
#define CAPTURE_SYSCALL 0x2u

/* --bench-mode: parts of the collector switched off, to measure the others (tests/bench). */
enum bench_mode {
	BENCH_OFF,
	BENCH_ATTACH_ONLY, /* T0: the programs run on their hooks and return at once */
	BENCH_DISCARD,     /* T1: the kernel side in full; user space drops every record read */
};

#define CLI_MAX_LIST 64

struct config {
	unsigned capture; /* CAPTURE_* bits */
	const char *interfaces[CLI_MAX_LIST];
	size_t n_interfaces; /* 0: every interface that is up */
	const char *sinks[CLI_MAX_LIST];
	size_t n_sinks;
	uint16_t ports[SF_PORTS_MAX];
	size_t n_ports;
	const char *read_file; /* --read: offline */
	uint32_t snaplen;
	uint32_t ringbuf_bytes;
	uint32_t max_flows;
	uint32_t max_header_bytes;
	uint32_t max_payload; /* bytes copied per syscall */
	uint64_t http_timeout_ns;
	uint64_t dns_timeout_ns;
	uint64_t idle_timeout_ns;
	uint64_t stats_interval_ns; /* 0: no stats events */
	uint64_t shutdown_timeout_ns;
	bool http_headers;
	bool list_probes;
	uint8_t syscall_hooks; /* enum syscall_hooks (capture_syscall.h) */
	uint8_t bench_mode;    /* enum bench_mode */
	int verbose;
};

/* Fills cfg from argv. Returns -1 to go on, or an exit status: EXIT_OK after --help or
 * --version, EXIT_USAGE after printing what is wrong. */
int cli_parse(int argc, char **argv, struct config *cfg);

#endif
