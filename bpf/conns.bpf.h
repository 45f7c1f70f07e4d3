/* The local_conns map (conns.h), defined identically in every kernel object that uses it; the
 * loader creates it once and hands its fd to the others (bpf_map__reuse_fd). */
#ifndef L7_BPF_CONNS_BPF_H
#define L7_BPF_CONNS_BPF_H

#include "conns.h"

/* LRU: an entry whose close() was never seen (the process died, or the fd was passed on) ages
 * out instead of leaking. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CONNS_MAX);
	__type(key, struct conn_key);
	__type(value, struct conn_owner);
} local_conns SEC(".maps");

#endif
