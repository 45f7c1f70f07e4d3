/* The process view: the syscall probes loaded, attached and read, their records handed to the
 * connection table. With --capture socket alone they still run, reduced to accept, connect and
 * close, to tell the wire view which local process owns a connection. */
#ifndef L7_CAPTURE_SYSCALL_H
#define L7_CAPTURE_SYSCALL_H

#include <stdbool.h>
#include <stdio.h>

#include "cli.h"
#include "conn_table.h"
#include "stats.h"

struct rings;
struct syscall_capture;
struct syscalls_bpf;

/* Where the probes hook (--syscall-hooks). */
enum syscall_hooks {
	SYSCALL_HOOKS_AUTO,        /* following data: the first of sock, sys_exit, tracepoints that
	                            * loads; else tracepoints */
	SYSCALL_HOOKS_TRACEPOINTS, /* a pair of classic tracepoints per followed syscall */
	SYSCALL_HOOKS_SYS_EXIT, /* one tp_btf program at every syscall's exit (Linux 5.11, x86-64)
	                         */
	SYSCALL_HOOKS_SOCK,     /* tp_btf sock_send_length and sock_recv_length (Linux 6.3, x86-64),
	                         * and tracepoints for what they do not see */
};

/* "auto", "tracepoints", "sys_exit" or "sock": the --syscall-hooks value. */
const char *syscall_hooks_name(enum syscall_hooks hooks);

/* Sets which of the skeleton's programs load: those of hooks (not AUTO), the data ones only
 * with follow_data. The collector and the kernel tests choose through this. */
void syscall_hooks_select(struct syscalls_bpf *skel, enum syscall_hooks hooks, bool follow_data);

/* follow_data: capture the bytes (--capture syscall), or only fill local_conns. conns_fd is the
 * socket filter's local_conns map, or -1 to create it. With follow_data the ring buffer joins
 * the poller *rb and feeds ct. Returns 0, or an exit status after logging why not. */
int syscall_capture_open(struct syscall_capture **out, const struct config *cfg, bool follow_data,
                         int conns_fd, struct conn_table *ct, const uint64_t *mono_to_real,
                         struct rings **rb);

/* Connection conn_id on (tgid, fd) carries neither HTTP nor DNS: its data is no longer copied. */
void syscall_capture_skip(struct syscall_capture *c, uint32_t tgid, uint32_t fd, uint64_t conn_id);

/* The connection is gone (its process exited): the socket filter should stop calling it local. */
void syscall_capture_forget(struct syscall_capture *c, const struct conn_key *key);

/* "N tracepoints", "the tp_btf sys_exit hook" or "the tp_btf sock hooks and N tracepoints",
 * for the ready line. */
const char *syscall_capture_describe(const struct syscall_capture *c);

void syscall_capture_stats_add(struct syscall_capture *c, struct stats_builder *b);

void syscall_capture_close(struct syscall_capture *c);

/* --list-probes: every program, where it attaches and whether this kernel has that. */
void probes_list(FILE *out);

#endif
