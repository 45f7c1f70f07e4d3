// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The wire view: a socket filter on AF_PACKET sockets (one per interface) that keeps only packets
 * that can be HTTP or DNS, or that belong to a TCP connection already seen carrying either, and
 * copies each kept frame (up to the snap length) into a ring buffer. It always returns 0, so
 * nothing is queued on the socket itself: the ring buffer is the only way packets reach user space.
 *
 * Socket filters cannot read packet memory directly; every read goes through bpf_skb_load_bytes,
 * which copies (and handles non-linear skbs). Offsets may be any runtime value, lengths must be
 * constants or verifier-bounded. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "conns.bpf.h"
#include "dns_sniff.h"
#include "ring_wake.bpf.h"
#include "sockfilter.h"

#define AF_INET      2
#define AF_INET6     10
#define ETH_HLEN     14
#define ETH_P_IP     0x0800
#define ETH_P_IPV6   0x86DD
#define ETH_P_8021Q  0x8100
#define ETH_P_8021AD 0x88A8

#define NEXTHDR_HOP      0
#define NEXTHDR_ROUTING  43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_AUTH     51
#define NEXTHDR_DEST     60

/* Set by the loader before load. */
const volatile __u32 snaplen = SF_FRAME_MAX;
const volatile __u8 port_filter_on = 0;
/* Off with --capture socket: no process is followed by the syscall probes then, so what a packet's
 * receiver is needs no lookup. */
const volatile __u8 syscalls_follow_data = 1;
/* Wake the reader once per this much waiting (ring_wake.bpf.h; it also polls on a short timeout): a
 * wake-up per record is an interrupt per packet, the largest cost of the filter when it ran with
 * the default (wake when the reader had caught up, which a fast reader always has). */
const volatile __u32 wakeup_bytes = 1 << 20;
/* --bench-mode attach-only: the programs run and return at once, to measure what their hooks
 * alone cost (tests/bench: T0). */
const volatile __u8 attach_only = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* resized by the loader (--ringbuf-size) */
} packets SEC(".maps");

/* Frames are assembled here before bpf_ringbuf_output: bpf_ringbuf_reserve needs a constant size
 * and frames vary from 60 bytes to 64 KiB. A per-CPU array would be the natural choice, but
 * per-CPU values are limited to 32 KiB, so this is a plain array with one slot per possible CPU
 * (max_entries set by the loader). Socket filters run with bottom halves disabled, so two runs
 * never share a CPU's slot at the same time. */
struct scratch {
	struct sf_record rec;
	__u8 frame[SF_FRAME_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SF_CTR_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* --port set, host byte order. Consulted only when port_filter_on. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SF_PORTS_MAX);
	__type(key, __u16);
	__type(value, __u8);
} ports SEC(".maps");

/* TCP connections seen carrying HTTP or DNS, keyed by both endpoints in a canonical order so one
 * entry covers both directions. Later packets of a tracked connection are kept whatever they hold
 * (body bytes, continuation of a long header, the response). LRU: a connection whose end we never
 * see ages out instead of leaking. */
struct flow_key {
	__u32 addr_lo[4];
	__u32 addr_hi[4];
	__u16 port_lo;
	__u16 port_hi;
	__u32 proto;
};

/* Bits 0 and 1 of fin_seen and traced are the lo and hi endpoints of flow_key. */
struct flow_state {
	__u32 fin_seen; /* that endpoint sent a FIN */
	__u8 handed; /* a packet of a followed process went to user space: see leave_to_syscalls */
	/* That endpoint's packets are reported by the syscall probes (local_conns said once that
	 * its process, or the one it sends to, is followed): they stop without a lookup. */
	__u8 traced;
	__u8 reserved[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct flow_key);
	__type(value, struct flow_state);
} l7_flows SEC(".maps");

struct l4 {
	__u32 saddr[4];
	__u32 daddr[4];
	__u32 off; /* transport header offset */
	__u32 end; /* end of the IP packet (excludes link-layer padding) */
	__u8 proto;
};

enum verdict {
	V_OK = 0,
	V_FRAGMENT = -1,
	V_MALFORMED = -2,
};

static __always_inline void count(__u32 idx, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	if (c)
		*c += n;
}

static __always_inline int parse_ipv4(struct __sk_buff *skb, __u32 off, struct l4 *l4)
{
	struct iphdr ip;
	__u32 tot;

	if (bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)) < 0)
		return V_MALFORMED;
	/* A header longer than the packet is malformed, whatever its protocol field says. */
	if (ip.version != 4 || ip.ihl < 5 || off + ip.ihl * 4 > skb->len)
		return V_MALFORMED;
	/* MF or a fragment offset: only whole datagrams carry a usable TCP header and payload. */
	if (ip.frag_off & bpf_htons(0x3fff))
		return V_FRAGMENT;
	tot = bpf_ntohs(ip.tot_len);
	/* tot_len 0 marks a GSO packet larger than 64 KiB (BIG TCP): use the skb length. */
	l4->end = tot ? off + tot : skb->len;
	if (tot && tot < ip.ihl * 4)
		return V_MALFORMED;
	l4->off = off + ip.ihl * 4;
	l4->proto = ip.protocol;
	l4->saddr[0] = ip.saddr;
	l4->daddr[0] = ip.daddr;
	return V_OK;
}

static __always_inline int parse_ipv6(struct __sk_buff *skb, __u32 off, struct l4 *l4)
{
	struct ipv6hdr ip;
	__u8 nexthdr;
	__u32 plen;

	if (bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)) < 0)
		return V_MALFORMED;
	if (ip.version != 6)
		return V_MALFORMED;
	__builtin_memcpy(l4->saddr, &ip.saddr, 16);
	__builtin_memcpy(l4->daddr, &ip.daddr, 16);
	plen = bpf_ntohs(ip.payload_len);
	off += sizeof(ip);
	l4->end = plen ? off + plen : skb->len; /* 0: jumbogram or BIG TCP */
	nexthdr = ip.nexthdr;

	/* Extension headers, in any order and number up to a bound the verifier can see. */
	for (int i = 0; i < 8; i++) {
		__u8 h[4];

		if (nexthdr != NEXTHDR_HOP && nexthdr != NEXTHDR_ROUTING &&
		    nexthdr != NEXTHDR_FRAGMENT && nexthdr != NEXTHDR_AUTH &&
		    nexthdr != NEXTHDR_DEST)
			break;
		if (bpf_skb_load_bytes(skb, off, h, sizeof(h)) < 0)
			return V_MALFORMED;
		if (nexthdr == NEXTHDR_FRAGMENT) {
			/* Offset or more-fragments flag set: part of a fragmented datagram. */
			if ((h[2] << 8 | h[3]) & 0xfff9)
				return V_FRAGMENT;
			off += 8;
		} else if (nexthdr == NEXTHDR_AUTH) {
			off += (h[1] + 2) * 4;
		} else {
			off += (h[1] + 1) * 8;
		}
		nexthdr = h[0];
	}
	l4->off = off;
	l4->proto = nexthdr;
	return V_OK;
}

/* Reads the first 8 payload bytes as a big-endian number, so a token compares as a constant
 * whatever the host byte order. */
static __always_inline __u64 tok(const char *s)
{
	__u64 v = 0;
	int i;

	for (i = 0; i < 8 && s[i]; i++)
		v |= (__u64)(__u8)s[i] << (56 - 8 * i);
	return v;
}

static __always_inline __u64 tok_mask(const char *s)
{
	__u64 m = 0;
	int i;

	for (i = 0; i < 8 && s[i]; i++)
		m |= 0xffULL << (56 - 8 * i);
	return m;
}

#define STARTS_WITH(v, s) (((v)&tok_mask(s)) == tok(s))

/* A payload that starts an HTTP/1.x request (a method and a space) or response ("HTTP/1.").
 * Every real HTTP/1.x message is longer than 8 bytes. */
static __always_inline bool starts_http(struct __sk_buff *skb, __u32 off)
{
	__u64 v;

	if (bpf_skb_load_bytes(skb, off, &v, sizeof(v)) < 0)
		return false;
	v = bpf_be64_to_cpu(v);
	return STARTS_WITH(v, "GET ") || STARTS_WITH(v, "POST ") || STARTS_WITH(v, "HTTP/1.") ||
	       STARTS_WITH(v, "PUT ") || STARTS_WITH(v, "HEAD ") || STARTS_WITH(v, "DELETE ") ||
	       STARTS_WITH(v, "PATCH ") || STARTS_WITH(v, "OPTIONS ") ||
	       STARTS_WITH(v, "CONNECT ") || STARTS_WITH(v, "TRACE ");
}

/* A TCP payload that starts a DNS message: a 2-byte length, then a plausible header. Port 53
 * needs no such proof: a client may send the length in a segment of its own. */
static __always_inline bool starts_dns_tcp(struct __sk_buff *skb, __u32 off, __u32 len, __u16 sport,
                                           __u16 dport)
{
	__u8 h[2 + DNS_HEADER_LEN];

	if (sport == bpf_htons(DNS_PORT) || dport == bpf_htons(DNS_PORT))
		return true;
	if (len < sizeof(h) || bpf_skb_load_bytes(skb, off, h, sizeof(h)) < 0)
		return false;
	return dns_header_plausible(h + 2, (__u32)h[0] << 8 | h[1]);
}

/* Orders the two endpoints so both directions of a connection map to one key. Returns true when
 * the packet's source is the "hi" endpoint. */
static __always_inline bool flow_key_make(struct flow_key *k, const struct l4 *l4, __u16 sport,
                                          __u16 dport)
{
	bool src_hi = false;
	int i;

	for (i = 0; i < 4; i++) {
		if (l4->saddr[i] != l4->daddr[i]) {
			src_hi = l4->saddr[i] > l4->daddr[i];
			goto ordered;
		}
	}
	src_hi = sport > dport;
ordered:
	if (src_hi) {
		__builtin_memcpy(k->addr_lo, l4->daddr, 16);
		__builtin_memcpy(k->addr_hi, l4->saddr, 16);
		k->port_lo = dport;
		k->port_hi = sport;
	} else {
		__builtin_memcpy(k->addr_lo, l4->saddr, 16);
		__builtin_memcpy(k->addr_hi, l4->daddr, 16);
		k->port_lo = sport;
		k->port_hi = dport;
	}
	k->proto = l4->proto;
	return src_hi;
}

/* The local process that sent this packet (or, with to, that receives it), if local_conns knows
 * its connection. */
static __always_inline struct conn_owner *local_end(const struct l4 *l4, __u16 sport, __u16 dport,
                                                    __u16 family, bool to)
{
	struct conn_key k = {};

	__builtin_memcpy(k.laddr, to ? l4->daddr : l4->saddr, 16);
	__builtin_memcpy(k.raddr, to ? l4->saddr : l4->daddr, 16);
	k.lport = bpf_ntohs(to ? dport : sport);
	k.rport = bpf_ntohs(to ? sport : dport);
	k.family = family;
	k.proto = l4->proto;
	return bpf_map_lookup_elem(&local_conns, &k);
}

/* Copies the frame into the ring buffer: whole up to the snap length, or its first hdr_len
 * bytes (the headers) when not 0. o is the sender's entry in local_conns (the receiver's with
 * flags SF_REC_TO_OWNER), or NULL. */
static __always_inline void emit(struct __sk_buff *skb, __u8 link, const struct conn_owner *o,
                                 __u16 flags, __u32 hdr_len)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct scratch *s = bpf_map_lookup_elem(&scratch, &cpu);
	__u32 len = skb->len;
	/* The helpers need a length the verifier can prove is in [1, SF_FRAME_MAX]. Bound n =
	 * length - 1 with one check and pass n + 1: written as "cap < 1 || cap > MAX", clang
	 * folds both tests into one compare on a copy of cap - 1, which verifiers before Linux 6.8
	 * cannot relate back to cap, and they reject the call as possibly zero-sized. barrier_var
	 * keeps the 64-bit n in one register from the check to the call. */
	__u64 n = (__u64)(len < snaplen ? len : snaplen) - 1;
	__u64 wake;

	if (hdr_len && hdr_len <= n)
		n = hdr_len - 1;

	if (!s) {
		count(SF_CTR_NO_SCRATCH, 1);
		return;
	}
	if (n >= SF_FRAME_MAX) {
		count(SF_CTR_MALFORMED, 1); /* an empty skb */
		return;
	}
	barrier_var(n);
	if (bpf_skb_load_bytes(skb, 0, s->frame, n + 1) < 0) {
		count(SF_CTR_MALFORMED, 1);
		return;
	}
	s->rec.ts_ns = bpf_ktime_get_ns();
	s->rec.ifindex = skb->ifindex;
	s->rec.wire_len = len;
	s->rec.cap_len = n + 1;
	s->rec.pkt_type = skb->pkt_type;
	s->rec.link = link;
	s->rec.flags = 0;
	if (o) {
		s->rec.owner = *o;
		s->rec.flags = SF_REC_OWNED | flags;
	}
	wake = ring_wake_flag(&packets, sizeof(s->rec) + n + 1, wakeup_bytes);
	if (bpf_ringbuf_output(&packets, s, sizeof(s->rec) + n + 1, wake) < 0) {
		count(SF_CTR_RING_FULL, 1);
		return;
	}
	count(SF_CTR_KEPT, 1);
	count(SF_CTR_KEPT_BYTES, n + 1);
	if (n + 1 < len && !hdr_len)
		count(SF_CTR_TRUNCATED, 1);
}

/* UDP: DNS only, on port 53 or wherever a datagram starts with a plausible DNS header. */
static __always_inline void filter_udp(struct __sk_buff *skb, __u8 link, struct l4 *l4,
                                       __u16 family)
{
	struct udphdr uh;
	__u8 h[DNS_HEADER_LEN];
	__u32 off = l4->off + sizeof(uh), len = 0;

	if (bpf_skb_load_bytes(skb, l4->off, &uh, sizeof(uh)) < 0) {
		count(SF_CTR_MALFORMED, 1);
		return;
	}
	if (l4->end > skb->len)
		l4->end = skb->len;
	if (l4->end > off)
		len = l4->end - off;
	if (port_filter_on) {
		__u16 sp = bpf_ntohs(uh.source), dp = bpf_ntohs(uh.dest);

		if (!bpf_map_lookup_elem(&ports, &sp) && !bpf_map_lookup_elem(&ports, &dp)) {
			count(SF_CTR_PORT_FILTERED, 1);
			return;
		}
	} else if (uh.source != bpf_htons(DNS_PORT) && uh.dest != bpf_htons(DNS_PORT) &&
	           (len < sizeof(h) || bpf_skb_load_bytes(skb, off, h, sizeof(h)) < 0 ||
	            !dns_header_plausible(h, len))) {
		count(SF_CTR_NOT_DNS, 1);
		return;
	}
	emit(skb, link, local_end(l4, uh.source, uh.dest, family, false), 0, 0);
}

/* One truth (DESIGN.md): a connection whose local end the syscall probes follow is reported from
 * there. User space needs one packet that says so (it then lets the connection go, and any
 * exchange the wire had begun) and the connection's end, FIN or RST: those go out as headers
 * alone; every other packet that process sends, or receives from a peer not followed (another
 * host), stops here, counted. st is the connection's entry in l7_flows. Returns true when the
 * packet goes no further. */
static __always_inline bool syscalls_report(const struct flow_state *st, const struct tcphdr *th)
{
	return st->handed && !th->fin && !th->rst;
}

static __always_inline bool leave_to_syscalls(struct flow_state *st, const struct tcphdr *th)
{
	if (syscalls_report(st, th)) {
		count(SF_CTR_SYSCALL_OWNED, 1);
		return true;
	}
	st->handed = 1;
	return false;
}

/* The connection's entry in l7_flows, made now if it has none; NULL if the map is full. */
static __always_inline struct flow_state *flow_track(const struct flow_key *key)
{
	struct flow_state fresh = {};
	struct flow_state *st = bpf_map_lookup_elem(&l7_flows, key);

	if (st)
		return st;
	if (bpf_map_update_elem(&l7_flows, key, &fresh, BPF_NOEXIST) < 0)
		count(SF_CTR_FLOW_TRACK_FAILED, 1);
	return bpf_map_lookup_elem(&l7_flows, key);
}

/* RST ends a connection; so do FINs from both sides. A half-closed connection still carries the
 * response: tracking goes on after the first FIN. */
static __always_inline void flow_end(const struct flow_key *key, struct flow_state *st,
                                     const struct tcphdr *th, bool src_hi)
{
	__u32 seen;

	if (th->rst) {
		bpf_map_delete_elem(&l7_flows, key);
		return;
	}
	if (!th->fin)
		return;
	seen = st->fin_seen | (src_hi ? 2 : 1);
	if (seen == 3)
		bpf_map_delete_elem(&l7_flows, key);
	else
		st->fin_seen = seen;
}

static __always_inline int filter_l3(struct __sk_buff *skb, __u32 off, __u16 eth_proto, __u8 link)
{
	struct l4 l4 = {};
	struct tcphdr th;
	struct flow_key key = {};
	struct flow_state *st;
	struct conn_owner *o;
	__u32 payload_off, payload_len = 0, hdr_len = 0;
	__u16 family = eth_proto == ETH_P_IP ? AF_INET : AF_INET6;
	bool src_hi, traced;
	__u16 flags = 0;
	__u8 src_bit;
	int v;

	if (eth_proto == ETH_P_IP)
		v = parse_ipv4(skb, off, &l4);
	else if (eth_proto == ETH_P_IPV6)
		v = parse_ipv6(skb, off, &l4);
	else {
		count(SF_CTR_NOT_IP, 1);
		return 0;
	}
	if (v != V_OK) {
		count(v == V_FRAGMENT ? SF_CTR_FRAGMENT : SF_CTR_MALFORMED, 1);
		return 0;
	}
	if (l4.proto == IPPROTO_UDP) {
		filter_udp(skb, link, &l4, family);
		return 0;
	}
	if (l4.proto != IPPROTO_TCP) {
		count(SF_CTR_OTHER_PROTO, 1);
		return 0;
	}
	if (bpf_skb_load_bytes(skb, l4.off, &th, sizeof(th)) < 0 || th.doff < 5) {
		count(SF_CTR_MALFORMED, 1);
		return 0;
	}
	payload_off = l4.off + th.doff * 4;
	if (l4.end > skb->len)
		l4.end = skb->len;
	if (l4.end > payload_off)
		payload_len = l4.end - payload_off;

	if (port_filter_on) {
		__u16 sp = bpf_ntohs(th.source), dp = bpf_ntohs(th.dest);

		if (!bpf_map_lookup_elem(&ports, &sp) && !bpf_map_lookup_elem(&ports, &dp)) {
			count(SF_CTR_PORT_FILTERED, 1);
			return 0;
		}
	}
	src_hi = flow_key_make(&key, &l4, th.source, th.dest);
	src_bit = src_hi ? 2 : 1;
	st = bpf_map_lookup_elem(&l7_flows, &key);
	/* Most packets of a followed connection: its sender is known to be followed. */
	if (st && (st->traced & src_bit) && syscalls_report(st, &th)) {
		count(SF_CTR_SYSCALL_OWNED, 1);
		return 0;
	}
	/* Without --port, a connection is followed once a packet starts an HTTP or DNS message;
	 * with it, every packet on the ports is kept, and l7_flows holds only connections that
	 * a followed process sends on. */
	if (!st && !port_filter_on) {
		if (!payload_len ||
		    !((payload_len >= 8 && starts_http(skb, payload_off)) ||
		      starts_dns_tcp(skb, payload_off, payload_len, th.source, th.dest))) {
			count(SF_CTR_NOT_HTTP, 1);
			return 0;
		}
		st = flow_track(&key);
	}
	/* Only for packets that go further: most TCP on a host stops above, without a lookup. */
	o = local_end(&l4, th.source, th.dest, family, false);
	traced = o && (o->flags & CONN_OWNER_TRACED);
	if (!traced && syscalls_follow_data) {
		/* From a peer the probes do not follow (another host) to a process they do: the
		 * process's reads report these bytes. */
		struct conn_owner *to = local_end(&l4, th.source, th.dest, family, true);

		if (to && (to->flags & CONN_OWNER_TRACED)) {
			o = to;
			traced = true;
			flags = SF_REC_TO_OWNER;
		}
	}
	if (!st && traced)
		st = flow_track(&key);
	if (st && traced) {
		st->traced |= src_bit;
		if (leave_to_syscalls(st, &th))
			return 0;
		hdr_len = payload_off;
	}
	if (st)
		flow_end(&key, st, &th, src_hi);
	emit(skb, link, o, flags, hdr_len);
	return 0;
}

/* Ethernet-framed links (Ethernet, veth, lo) read through SOCK_RAW: the frame starts at the MAC
 * header. Up to two VLAN tags (802.1Q, 802.1ad) are skipped; tags the driver stripped into the
 * skb metadata are not in the frame at all. */
SEC("socket")
int sf_ethernet(struct __sk_buff *skb)
{
	__u16 proto;
	__u32 off = ETH_HLEN;

	if (attach_only)
		return 0;
	count(SF_CTR_PACKETS, 1);
	if (bpf_skb_load_bytes(skb, 12, &proto, sizeof(proto)) < 0) {
		count(SF_CTR_MALFORMED, 1);
		return 0;
	}
	proto = bpf_ntohs(proto);
	for (int i = 0; i < 2; i++) {
		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		if (bpf_skb_load_bytes(skb, off + 2, &proto, sizeof(proto)) < 0) {
			count(SF_CTR_MALFORMED, 1);
			return 0;
		}
		proto = bpf_ntohs(proto);
		off += 4;
	}
	return filter_l3(skb, off, proto, SF_LINK_ETHERNET);
}

/* Links without a MAC header (tun, wireguard) read through SOCK_DGRAM: the frame starts at the IP
 * header and skb->protocol names it. */
SEC("socket")
int sf_ip(struct __sk_buff *skb)
{
	if (attach_only)
		return 0;
	count(SF_CTR_PACKETS, 1);
	return filter_l3(skb, 0, bpf_ntohs((__u16)skb->protocol), SF_LINK_IP);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
