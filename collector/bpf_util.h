/* libbpf chores both captures share. */
#ifndef L7_BPF_UTIL_H
#define L7_BPF_UTIL_H

#include <bpf/libbpf.h>
#include <stdbool.h>
#include <stdint.h>

/* Sums a per-CPU array of n u64 counters into out[n]. */
void percpu_sum(const struct bpf_map *map, uint32_t n, uint64_t *out);

/* How much a ring buffer holds before its programs wake the reader: an eighth of it, at most
 * 1 MiB. Below that the reader finds records on its own poll timeout. A wakeup is a self-IPI
 * from the writing CPU, costly under virtualization: at 256 KiB they were still a measurable
 * share of a followed syscall's cost. */
static inline uint32_t ring_wakeup_bytes(uint32_t ring_bytes)
{
	return ring_bytes / 8 < (1u << 20) ? ring_bytes / 8 : 1u << 20;
}

/* Routes libbpf's messages through our log: its debug chatter only with -v. */
void bpf_log_setup(void);

/* While on, libbpf's warnings are debug chatter too: for loads that may fail with a fallback to
 * try next (the syscall hooks, cheapest first), whose failure is not the user's concern. */
void bpf_log_quiet(bool on);

#endif
