/* What an event says about a process beyond what the kernel sends with each record: its
 * executable and its container. Read from /proc once per process and kept (bounded, least
 * recently used first out), never on the per-event path; forgotten when the process exits. */
#ifndef L7_PROC_CACHE_H
#define L7_PROC_CACHE_H

#include <stdint.h>

#include "conns.h"
#include "event.h"

struct proc_cache;

/* proc_root is "/proc" (tests point it elsewhere). NULL on allocation failure. */
struct proc_cache *proc_cache_new(uint32_t max, const char *proc_root);
void proc_cache_free(struct proc_cache *pc);

/* Fills out for the process behind o: the kernel's identity fields, plus executable and
 * container id from the cache. thread_name may be NULL. Pointers stay valid until the process is
 * forgotten or evicted: use out while emitting the event, no longer. */
void proc_cache_fill(struct proc_cache *pc, const struct conn_owner *o, const char *thread_name,
                     struct ev_process *out);

void proc_cache_forget(struct proc_cache *pc, uint32_t tgid);

/* The container id in the contents of a /proc/PID/cgroup file (cgroup v1 or v2): the 64 hex
 * digits of a docker, containerd (CRI) or cri-o scope or directory, or NULL. */
const char *container_id_from_cgroup(const char *cgroup, char out[65]);

struct proc_cache_stats {
	uint64_t lookups;
	uint64_t misses; /* /proc read */
	uint64_t evicted;
};

const struct proc_cache_stats *proc_cache_stats(const struct proc_cache *pc);

#endif
