/* Local connections and the processes that own them: the map the syscall probes fill and the
 * socket filter reads (DESIGN.md "Process attribution for the wire view"). Shared by both kernel
 * objects (one map, reused by fd) and by the collector; fixed-width types only. */
#ifndef L7_BPF_CONNS_H
#define L7_BPF_CONNS_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* One endpoint's view of a TCP connection or UDP socket: its own address first. A packet from A
 * to B is owned by the process whose key is {A, B}. IPv4 (and IPv4-mapped IPv6) addresses use
 * the first 4 bytes, the rest zero, so both views of one connection compare as bytes. */
struct conn_key {
	__u8 laddr[16];
	__u8 raddr[16];
	__u16 lport; /* host byte order */
	__u16 rport;
	__u16 family; /* AF_INET or AF_INET6 */
	__u16 proto;  /* IPPROTO_TCP or IPPROTO_UDP */
};

_Static_assert(sizeof(struct conn_key) == 40, "conn_key is hashed as bytes: no padding");

#define CONN_OWNER_TRACED 0x1 /* the syscall probes capture this connection's data */
#define CONN_OWNER_SELF                                                                            \
	0x2 /* the collector's own (its HTTP sinks): reported nowhere. Also                        \
	     * TRACED, so the socket filter leaves it alone too */

struct conn_owner {
	__u32 tgid;
	__u32 tid;
	__u32 uid;
	__u32 gid;
	__u64 cgroup_id;
	char comm[16]; /* the thread group leader's */
	__u32 flags;   /* CONN_OWNER_* */
	__u32 reserved;
};

_Static_assert(sizeof(struct conn_owner) == 48, "conn_owner layout is shared with user space");

#define CONNS_MAX 65536

#endif
