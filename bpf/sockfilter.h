/* The socket filter's side of the kernel/user boundary: the record each kept packet becomes in the
 * ring buffer, the counters the filter keeps, and the maps user space configures. Included by
 * sockfilter.bpf.c and by the collector; fixed-width types only. */
#ifndef L7_BPF_SOCKFILTER_H
#define L7_BPF_SOCKFILTER_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#include "conns.h"

/* Largest frame copied: Ethernet (14) + two VLAN tags (8) + IPv6 header (40) + the largest IP
 * payload (65535), rounded up. TSO/GSO super-packets on lo and veth reach this size; BIG TCP
 * packets beyond it are cut and counted as truncated. */
#define SF_FRAME_MAX 65600

/* How often the reader polls the ring buffers when no wake-up came (the programs wake it only once
 * a fill threshold is waiting), so this bounds how late an event can be. SF_BUSY_POLL_MS is the
 * interval while records flow: a round then holds a millisecond of records rather than ten, and
 * an application thread that needs the CPU the reader is on waits behind a burst that much
 * shorter (README, "Reading the rings every millisecond while records flow"). */
#define SF_POLL_MS      10
#define SF_BUSY_POLL_MS 1

/* Most ports --port accepts. */
#define SF_PORTS_MAX 64

/* How the copied frame starts: at an Ethernet header (Ethernet, veth, lo) or at the IP header
 * (tun, wireguard: ARPHRD_NONE/RAWIP links, read through SOCK_DGRAM sockets). */
enum sf_link {
	SF_LINK_ETHERNET = 1,
	SF_LINK_IP = 2,
};

/* Per-CPU counters, summed by user space; every packet the filter sees ends in exactly one of the
 * outcome counters (KEPT, RING_FULL, NOT_*, OTHER_PROTO, FRAGMENT, MALFORMED, PORT_FILTERED,
 * NO_SCRATCH, SYSCALL_OWNED). */
enum sf_counter {
	SF_CTR_PACKETS = 0,       /* packets the filter ran on */
	SF_CTR_KEPT,              /* sent to user space */
	SF_CTR_KEPT_BYTES,        /* bytes sent to user space (frame bytes, without records) */
	SF_CTR_RING_FULL,         /* lost: the ring buffer had no room */
	SF_CTR_TRUNCATED,         /* kept, but cut at the snap length */
	SF_CTR_NOT_IP,            /* neither IPv4 nor IPv6 */
	SF_CTR_OTHER_PROTO,       /* IP, but neither TCP nor UDP */
	SF_CTR_NOT_HTTP,          /* TCP, not in a tracked flow and starting neither an HTTP nor a
	                           * DNS message (nor on port 53) */
	SF_CTR_NOT_DNS,           /* UDP, neither on port 53 nor starting with a DNS header */
	SF_CTR_FRAGMENT,          /* IP fragments (not reassembled) */
	SF_CTR_MALFORMED,         /* headers too short or inconsistent */
	SF_CTR_PORT_FILTERED,     /* outside the --port set */
	SF_CTR_FLOW_TRACK_FAILED, /* an HTTP flow could not be added to the flow map */
	SF_CTR_NO_SCRATCH,        /* lost: no scratch slot for this CPU (the loader sizes it) */
	SF_CTR_SYSCALL_OWNED,     /* sent by, or to, a process the syscall probes follow: reported
	                           * from there, so not copied (one truth) */
	SF_CTR_MAX,
};

#define SF_REC_OWNED 0x1 /* owner holds the local process that sent this packet */
#define SF_REC_TO_OWNER                                                                            \
	0x2 /* with SF_REC_OWNED: owner received it instead (its sender is not                     \
	     * followed: another host) */

/* One ring buffer record: this header, then cap_len bytes of the frame. */
struct sf_record {
	__u64 ts_ns;    /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 ifindex;  /* interface the packet was seen on */
	__u32 wire_len; /* frame length in the kernel (skb->len) */
	__u32 cap_len;  /* bytes that follow this header: min(wire_len, snaplen) */
	__u8 pkt_type;  /* PACKET_HOST, PACKET_OUTGOING, ... (linux/if_packet.h) */
	__u8 link;      /* enum sf_link */
	__u16 flags;    /* SF_REC_* */
	struct conn_owner
	        owner; /* with SF_REC_OWNED, the sender's (or receiver's) local_conns entry */
};

_Static_assert(sizeof(struct sf_record) == 72, "sf_record layout is shared with user space");
_Static_assert(sizeof(struct sf_record) % 8 == 0, "frame bytes must follow an 8-byte boundary");

#endif
