// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The process view: hooks on the calls that move bytes on sockets, and on accept, connect and
 * close. The bytes actually moved are copied once the call has moved them (a read's buffer holds
 * them only then): at exit, with the arguments stashed at enter on the tracepoint pairs or read
 * from the saved registers on tp_btf. Only TCP and UDP sockets over IPv4 and IPv6 are followed;
 * every other fd leaves after a few reads of the fd table, or never reaches the sock hooks.
 * Of UDP, only DNS is copied (port 53, or a DNS header on any port: dns_sniff.h), one record per
 * datagram with its peer's address, so unconnected sockets (sendto, recvfrom) are covered too.
 *
 * Connections are identified by (tgid, fd) and the struct sock behind the fd: a reused fd that
 * names another socket is another connection, whether or not its close() was seen. Every
 * connection is also entered in local_conns, which the socket filter reads, so that packets a
 * followed process sends are known as its own (reported from here, not again from the wire) and
 * wire events get their process.
 *
 * This project's machines have neither kprobes nor fentry. Three sets of hooks share this code,
 * and the loader takes the cheapest that loads (collector/capture_syscall.c): the socket-level
 * tp_btf tracepoints (sock_data, Linux 6.3+), one tp_btf program at every syscall's exit
 * (sys_exit_all, 5.11+), and the classic tracepoint pairs below, which work from Linux 5.8 (ring
 * buffer) on. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "conns.bpf.h"
#include "dns_sniff.h"
#include "ring_wake.bpf.h"
#include "syscalls.h"

#define AF_INET          2
#define AF_INET6         10
#define SOCK_STREAM      1
#define SOCK_DGRAM       2
#define S_IFMT           00170000
#define S_IFSOCK         0140000
#define MSG_PEEK         2
#define EINPROGRESS      115
#define IOV_MAX_FOLLOWED 16 /* iovecs copied per syscall; more are counted, not copied */

/* Set by the loader before load. */
const volatile __u32 max_payload = 4096;
const volatile __u32 self_tgid =
        0; /* the collector's own sockets (its HTTP sinks) are not followed */
const volatile __u32 wakeup_bytes = 1 << 20;
/* Off with --capture socket: only accept/connect/close run, to fill local_conns for the wire
 * view's process fields, and no records are written. */
const volatile __u8 follow_data = 1;
/* --bench-mode attach-only: every program returns at once, to measure what the hooks alone
 * cost (tests/bench: T0). */
const volatile __u8 attach_only = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* resized by the loader (--ringbuf-size) */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SC_CTR_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

enum how {
	HOW_BUF = 1, /* one buffer: read, write, recvfrom, sendto */
	HOW_IOV,     /* an iovec array: readv, writev */
	HOW_MSG,     /* a msghdr: recvmsg, sendmsg */
	HOW_MMSG,    /* an array of mmsghdr: recvmmsg, sendmmsg */
	HOW_COUNT,   /* bytes only: sendfile */
	HOW_CONNECT,
};

/* What enter saw, for exit. */
struct stash {
	__u64 sk;   /* struct sock * */
	__u64 file; /* struct file * */
	__u64 buf;  /* buffer, iovec array, msghdr or mmsghdr array */
	__u64 addr; /* sendto's destination, recvfrom's source: a user sockaddr, or 0 */
	__u32 fd;
	__u32 count;  /* buffer size, iovec count or mmsghdr count */
	__u8 how;     /* enum how */
	__u8 dir;     /* enum sc_dir */
	__u8 proto;   /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 no_name; /* a receive's sockaddr is not written yet: the peer is the socket's */
	__u8 one_msg; /* HOW_MMSG: only message msg_index moved (the sock hooks) */
	__u8 msg_index;
	__u8 reserved[2];
};

/* Threads inside a followed syscall at once. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct stash);
} stash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CONNS_MAX);
	__type(key, struct fd_key);
	__type(value, struct fd_conn);
} fd_conns SEC(".maps");

/* TCP sockets that completed their handshake while we watched, with the side they took
 * (enum sc_role), until their first byte: the sock hooks record a connection only then, and this is
 * how they know it from one open before the collector started, whose first bytes seen may be
 * mid-message. Without it every connection was taken to be joined midstream, and one carrying
 * neither HTTP nor DNS (TLS, a database) was searched for an HTTP message start, every byte
 * copied to the collector for as long as it lived, instead of being skipped at its first bytes.
 * An entry evicted before its socket's first byte only costs that socket the old guess. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* struct sock * */
	__type(value, __u32);
} born_socks SEC(".maps");

/* Connection ids: this CPU's number in the top bits, a per-CPU count below. No atomic fetch-add:
 * it needs Linux 5.12, and per CPU nothing else runs this program at the same time. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} conn_seq SEC(".maps");

/* Records are built here: twice the largest payload, so that iovec offsets can be masked into
 * range and the verifier can see every copy fits. One slot per CPU (a per-CPU array value is
 * limited to 32 KiB); tracepoint programs run with preemption off, so a slot is never shared. */
struct scratch {
	struct sc_record rec;
	__u8 data[2 * SC_PAYLOAD_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* resized by the loader to the number of CPUs */
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

static __always_inline void count(__u32 idx, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	if (c)
		*c += n;
}

/* The TCP or UDP socket that file f on fd is (*proto says which), or NULL for anything else
 * (files, pipes, unix sockets): f_inode->i_mode says whether it is a socket. A connection already
 * recorded on fd for the same file gives its socket from the map, which saves the four reads to
 * reach it: most of what was left of a followed syscall's cost after the copies. That connection
 * is *known (else NULL), when known is given, so that the caller need not look it up again. */
static __always_inline struct sock *file_sock(__u32 fd, struct file *f, __u8 *proto,
                                              struct fd_conn **known)
{
	struct fd_key fk = {.tgid = bpf_get_current_pid_tgid() >> 32, .fd = fd};
	struct fd_conn *c;
	struct socket *sock;
	struct sock *sk;
	__u16 family;

	if (known)
		*known = NULL;
	if ((BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	c = bpf_map_lookup_elem(&fd_conns, &fk);
	if (c && c->file == (__u64)f) {
		*proto = (__u8)c->key.proto;
		if (known)
			*known = c;
		return (struct sock *)c->sk;
	}
	sock = BPF_CORE_READ(f, private_data);
	switch (BPF_CORE_READ(sock, type)) {
	case SOCK_STREAM:
		*proto = IPPROTO_TCP;
		break;
	case SOCK_DGRAM:
		*proto = IPPROTO_UDP;
		break;
	default:
		return NULL;
	}
	sk = BPF_CORE_READ(sock, sk);
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	return family == AF_INET || family == AF_INET6 ? sk : NULL;
}

/* The socket behind fd in the current process, through task->files->fdt->fd[fd]; its file in
 * *file. In a classic tracepoint every step is a probe read: with file_sock's, these are most of
 * what a syscall on an fd that is not followed costs (tests/bench/early_exit.py). */
static __always_inline struct sock *fd_sock(__u32 fd, __u8 *proto, __u64 *file,
                                            struct fd_conn **known)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *f = NULL;

	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return NULL;
	*file = (__u64)f;
	return file_sock(fd, f, proto, known);
}

/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d, a dual-stack socket talking IPv4) is stored as
 * the IPv4 address it is, so that it matches the IPv4 packets the socket filter sees. */
static __always_inline bool v4_mapped(const __u8 *a)
{
	__u64 lo;
	__u32 mid;

	__builtin_memcpy(&lo, a, 8);
	__builtin_memcpy(&mid, a + 8, 4);
	return lo == 0 && mid == bpf_htonl(0x0000ffff);
}

static __always_inline void unmap_v4(__u8 *a)
{
	__builtin_memcpy(a, a + 12, 4);
	__builtin_memset(a + 4, 0, 12);
}

static __always_inline void sock_key(struct sock *sk, __u8 proto, struct conn_key *k)
{
	k->proto = proto;
	k->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	k->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	k->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (k->family == AF_INET) {
		BPF_CORE_READ_INTO((__u32 *)k->laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)k->raddr, sk, __sk_common.skc_daddr);
		return;
	}
	BPF_CORE_READ_INTO((struct in6_addr *)k->laddr, sk, __sk_common.skc_v6_rcv_saddr);
	BPF_CORE_READ_INTO((struct in6_addr *)k->raddr, sk, __sk_common.skc_v6_daddr);
	if (v4_mapped(k->laddr) && v4_mapped(k->raddr)) {
		unmap_v4(k->laddr);
		unmap_v4(k->raddr);
		k->family = AF_INET;
	}
}

static __always_inline struct scratch *scratch_slot(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct scratch *s = bpf_map_lookup_elem(&scratch, &cpu);

	if (!s)
		count(SC_CTR_NO_SCRATCH, 1);
	return s;
}

/* The calling thread in *who: read only when it is not the thread already there (sc_identity). */
static __always_inline void identify(struct sc_identity *who)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid;
	struct task_struct *task;

	if (who->tid == (__u32)pid_tgid)
		return;
	uid_gid = bpf_get_current_uid_gid();
	task = (struct task_struct *)bpf_get_current_task();
	who->tgid = pid_tgid >> 32;
	who->tid = (__u32)pid_tgid;
	who->uid = (__u32)uid_gid;
	who->gid = uid_gid >> 32;
	who->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(who->comm, sizeof(who->comm));
	BPF_CORE_READ_STR_INTO(&who->pcomm, task, group_leader, comm);
}

/* Fills the record header with who is calling and on what connection. */
static __always_inline void header(struct sc_record *r, __u8 kind, __u32 fd, struct fd_conn *c)
{
	identify(&c->who);
	r->ts_ns = bpf_ktime_get_ns();
	r->conn_id = c->id;
	r->fd = fd;
	r->len = 0;
	r->cap = 0;
	r->kind = kind;
	r->dir = 0;
	r->role = c->role;
	r->flags = 0;
	r->who = c->who;
	r->conn = c->key;
}

static __always_inline void count_sent(__u32 cap)
{
	count(SC_CTR_EVENTS, 1);
	count(SC_CTR_EVENT_BYTES, cap);
}

static __always_inline void submit(struct scratch *s, __u32 cap)
{
	__u64 wake;

	/* The mask only tells the verifier what the callers already ensured: cap <= 2 * max. */
	cap &= 2 * SC_PAYLOAD_MAX - 1;
	wake = ring_wake_flag(&events, sizeof(s->rec) + cap, wakeup_bytes);
	if (bpf_ringbuf_output(&events, s, sizeof(s->rec) + cap, wake) < 0) {
		count(SC_CTR_RING_FULL, 1);
		return;
	}
	count_sent(cap);
}

/* The collector's own syscalls: its connections are entered in local_conns (so the socket
 * filter leaves them alone: a sink's requests must not come back as events), nothing else. */
static __always_inline bool mine(void)
{
	return bpf_get_current_pid_tgid() >> 32 == self_tgid;
}

/* A record without payload (open, close, exit). */
static __always_inline void emit_plain(__u8 kind, __u32 fd, struct fd_conn *c)
{
	struct scratch *s;

	if (!follow_data || c->own)
		return;
	s = scratch_slot();
	if (!s)
		return;
	header(&s->rec, kind, fd, c);
	submit(s, 0);
}

static __always_inline __u64 next_conn_id(void)
{
	__u32 zero = 0;
	__u64 *seq = bpf_map_lookup_elem(&conn_seq, &zero);

	if (!seq)
		return 0;
	*seq += 1;
	return (__u64)bpf_get_smp_processor_id() << 48 | *seq;
}

/* A local process's end of a connection whose other end is the collector's: a sink delivering to
 * a receiver on this host. Followed, the receiver's view of each delivery would be an event,
 * delivered in turn. The collector's end is entered first (its connect() returns before the
 * receiver's accept()). */
static __always_inline bool peer_is_mine(const struct conn_key *k)
{
	struct conn_key peer = *k;
	struct conn_owner *o;

	__builtin_memcpy(peer.laddr, k->raddr, sizeof(peer.laddr));
	__builtin_memcpy(peer.raddr, k->laddr, sizeof(peer.raddr));
	peer.lport = k->rport;
	peer.rport = k->lport;
	o = bpf_map_lookup_elem(&local_conns, &peer);
	return o && (o->flags & CONN_OWNER_SELF);
}

/* The connection on (this process, fd), recorded now if it is new. A fd that now names another
 * socket than the one recorded is a new connection, and the old one is reported closed. */
static __always_inline struct fd_conn *conn_get(__u32 fd, __u64 file, struct sock *sk, __u8 proto,
                                                __u8 role)
{
	struct fd_key fk = {.tgid = bpf_get_current_pid_tgid() >> 32, .fd = fd};
	struct fd_conn *old = bpf_map_lookup_elem(&fd_conns, &fk);
	struct fd_conn fresh = {};
	struct conn_owner owner = {};

	if (old && old->sk == (__u64)sk)
		return old;
	if (role == SC_ROLE_UNKNOWN && proto == IPPROTO_TCP) {
		__u64 id = (__u64)sk;
		__u32 *born = bpf_map_lookup_elem(&born_socks, &id);

		if (born) {
			role = (__u8)*born;
			bpf_map_delete_elem(&born_socks, &id);
		}
	}
	if (old) {
		emit_plain(SC_CLOSE, fd, old);
		bpf_map_delete_elem(&local_conns, &old->key);
	}
	fresh.sk = (__u64)sk;
	fresh.file = file;
	fresh.id = next_conn_id();
	fresh.role = role;
	sock_key(sk, proto, &fresh.key);
	fresh.own = mine() || peer_is_mine(&fresh.key);
	identify(&fresh.who);
	if (bpf_map_update_elem(&fd_conns, &fk, &fresh, BPF_ANY)) {
		count(SC_CTR_CONN_FULL, 1);
		return NULL;
	}
	owner.tgid = fresh.who.tgid;
	owner.tid = fresh.who.tid;
	owner.uid = fresh.who.uid;
	owner.gid = fresh.who.gid;
	owner.cgroup_id = fresh.who.cgroup_id;
	owner.flags = fresh.own     ? CONN_OWNER_TRACED | CONN_OWNER_SELF
	              : follow_data ? CONN_OWNER_TRACED
	                            : 0;
	__builtin_memcpy(owner.comm, fresh.who.pcomm, sizeof(owner.comm));
	if (bpf_map_update_elem(&local_conns, &fresh.key, &owner, BPF_ANY))
		count(SC_CTR_CONN_FULL, 1);
	old = bpf_map_lookup_elem(&fd_conns, &fk);
	if (old)
		emit_plain(SC_OPEN, fd, old);
	return old;
}

static __always_inline int on_enter(__u64 fd, __u64 buf, __u64 count_, __u64 flags, __u64 addr,
                                    __u8 how, __u8 dir)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct stash st = {};
	struct sock *sk;

	if (attach_only || (mine() && how != HOW_CONNECT))
		return 0;
	sk = fd_sock((__u32)fd, &st.proto, &st.file, NULL); /* exit looks the connection up */
	if (!sk)
		return 0;
	if (flags & MSG_PEEK) {
		count(SC_CTR_PEEK, 1);
		return 0;
	}
	st.sk = (__u64)sk;
	st.buf = buf;
	st.addr = addr;
	st.fd = (__u32)fd;
	st.count = (__u32)count_;
	st.how = how;
	st.dir = dir;
	if (bpf_map_update_elem(&stash, &pid_tgid, &st, BPF_ANY))
		count(SC_CTR_STASH_FULL, 1);
	return 0;
}

/* Copies n bytes (1 <= n <= SC_PAYLOAD_MAX, as the caller ensured) from user memory to data at
 * off (off < SC_PAYLOAD_MAX). Masking restates the bounds for the verifier: off + n stays within
 * the scratch's 2 * SC_PAYLOAD_MAX. */
static __always_inline int copy_in(struct scratch *s, __u32 off, __u64 n, __u64 from)
{
	off &= SC_PAYLOAD_MAX - 1;
	n = (n - 1) & (SC_PAYLOAD_MAX - 1);
	return bpf_probe_read_user(s->data + off, n + 1, (const void *)from);
}

/* Up to limit bytes from an iovec array; returns the bytes copied or -1. */
static __always_inline int copy_iov(struct scratch *s, __u64 iov, __u32 iovcnt, __u32 limit)
{
	__u32 off = 0;

	for (__u32 i = 0; i < IOV_MAX_FOLLOWED; i++) {
		struct iovec v;
		__u64 n;

		if (i >= iovcnt || off >= limit)
			break;
		if (bpf_probe_read_user(&v, sizeof(v), (const void *)(iov + i * sizeof(v))))
			return -1;
		n = v.iov_len < limit - off ? v.iov_len : limit - off;
		if (!n)
			continue;
		if (copy_in(s, off, n, (__u64)v.iov_base))
			return -1;
		off += n;
	}
	return off;
}

/* Copies up to limit bytes of the payload of a syscall that moved `moved` bytes; for a msghdr,
 * also returns where the peer's address is (msg_name) in *name. Returns the bytes copied or -1. */
static __always_inline int copy_payload(struct scratch *s, const struct stash *st, __u32 moved,
                                        __u64 *name)
{
	__u32 limit = moved < max_payload ? moved : max_payload;
	struct user_msghdr mh;

	if (limit > SC_PAYLOAD_MAX)
		limit = SC_PAYLOAD_MAX;
	*name = st->no_name ? 0 : st->addr;
	switch (st->how) {
	case HOW_BUF:
		return limit && copy_in(s, 0, limit, st->buf) ? -1 : (int)limit;
	case HOW_IOV:
		return copy_iov(s, st->buf, st->count, limit);
	case HOW_MSG:
		if (bpf_probe_read_user(&mh, sizeof(mh), (const void *)st->buf))
			return -1;
		if (!st->no_name)
			*name = (__u64)mh.msg_name;
		return copy_iov(s, (__u64)mh.msg_iov, (__u32)mh.msg_iovlen, limit);
	default: /* HOW_COUNT: sendfile moves file bytes the process never holds */
		return 0;
	}
}

/* The peer of a datagram, from the sockaddr the process passed or received (name), else the
 * connected socket's. A dual-stack socket talking IPv4 has an IPv4-mapped peer: both ends are
 * then stored as IPv4, as the socket filter sees them. */
static __always_inline void datagram_peer(struct conn_key *k, __u64 name)
{
	struct {
		__u16 family;
		__u16 port;
		__u32 v4; /* sin_addr, or sin6_flowinfo */
		__u8 v6[16];
	} sa;

	if (!name || bpf_probe_read_user(&sa, 8, (const void *)name))
		return;
	if (sa.family == AF_INET) {
		__builtin_memset(k->raddr, 0, sizeof(k->raddr));
		__builtin_memcpy(k->raddr, &sa.v4, 4);
	} else if (sa.family == AF_INET6 &&
	           !bpf_probe_read_user(sa.v6, 16, (const void *)(name + 8))) {
		__builtin_memcpy(k->raddr, sa.v6, 16);
		if (v4_mapped(k->raddr)) {
			unmap_v4(k->raddr);
			if (v4_mapped(k->laddr))
				unmap_v4(k->laddr);
			k->family = AF_INET;
		}
	} else {
		return;
	}
	k->rport = bpf_ntohs(sa.port);
}

/* A data record's header, for cap bytes of the `moved` a syscall moved. */
static __always_inline void data_header(struct sc_record *r, const struct stash *st,
                                        struct fd_conn *c, __u32 moved, __u32 cap)
{
	header(r, SC_DATA, st->fd, c);
	r->dir = st->dir;
	r->len = moved;
	r->cap = cap;
	if (cap < moved && st->how != HOW_COUNT) {
		r->flags = SC_REC_TRUNCATED;
		count(SC_CTR_TRUNCATED, 1);
	}
}

/* Writes one data record from the payload in s: for TCP on connection c, for UDP as a datagram
 * to or from name, and only if it looks like DNS. */
static __always_inline void emit_data(struct scratch *s, const struct stash *st, struct fd_conn *c,
                                      __u32 moved, __u32 cap, __u64 name)
{
	struct fd_conn dgram = {};

	if (st->proto == IPPROTO_UDP) {
		sock_key((struct sock *)st->sk, IPPROTO_UDP, &dgram.key);
		datagram_peer(&dgram.key, name);
		if (dgram.key.lport != DNS_PORT && dgram.key.rport != DNS_PORT &&
		    (cap < DNS_HEADER_LEN || !dns_header_plausible(s->data, moved))) {
			count(SC_CTR_UDP_NOT_DNS, 1);
			return;
		}
		c = &dgram;
	} else if (!c) {
		return; /* for the verifier: TCP callers pass their connection */
	}
	data_header(&s->rec, st, c, moved, cap);
	submit(s, cap);
}

/* The smallest ring reservation, past the header, that holds limit payload bytes: a power of two
 * from 128 bytes. With steps of four (128, 512, 2048...) the records spread over twice the ring
 * memory, and the application's cost per exchange came out higher, not lower, than with the
 * copy (tests/bench/exchange_cost.py, three runs of four). */
static __always_inline __u32 reserve_room(__u32 limit)
{
	__u32 room = 128;

	while (room < limit && room < SC_PAYLOAD_MAX)
		room *= 2;
	return room;
}

/* TCP bytes from one user buffer (read, write, send, recv: all the common cases but writev and
 * sendmsg) are read straight into a ring reservation. Built in the scratch slot, a record was
 * copied twice: from the process into the slot, then by bpf_ringbuf_output into the ring. A
 * reservation's size must be a constant the verifier sees, hence the switch: each case is
 * verified with its own room, and the reader goes by rec.cap. */
static __always_inline void buf_exit(const struct stash *st, struct fd_conn *c, __u32 moved)
{
	__u32 limit = moved < max_payload ? moved : max_payload;
	struct sc_record *r;
	__u32 room;
	__u64 wake;

	if (limit > SC_PAYLOAD_MAX)
		limit = SC_PAYLOAD_MAX;
	room = reserve_room(limit);
	/* Asked before reserving, as bpf_ringbuf_output's callers do: the reservation itself
	 * already counts as unread data. */
	wake = ring_wake_flag(&events, sizeof(*r) + room, wakeup_bytes);
	switch (room) {
	case 128:
		r = bpf_ringbuf_reserve(&events, sizeof(*r) + 128, 0);
		break;
	case 256:
		r = bpf_ringbuf_reserve(&events, sizeof(*r) + 256, 0);
		break;
	case 512:
		r = bpf_ringbuf_reserve(&events, sizeof(*r) + 512, 0);
		break;
	case 1024:
		r = bpf_ringbuf_reserve(&events, sizeof(*r) + 1024, 0);
		break;
	case 2048:
		r = bpf_ringbuf_reserve(&events, sizeof(*r) + 2048, 0);
		break;
	case 4096:
		r = bpf_ringbuf_reserve(&events, sizeof(*r) + 4096, 0);
		break;
	case 8192:
		r = bpf_ringbuf_reserve(&events, sizeof(*r) + 8192, 0);
		break;
	case 16384:
		r = bpf_ringbuf_reserve(&events, sizeof(*r) + 16384, 0);
		break;
	default:
		r = bpf_ringbuf_reserve(&events, sizeof(*r) + SC_PAYLOAD_MAX, 0);
		break;
	}
	if (!r) {
		count(SC_CTR_RING_FULL, 1);
		return;
	}
	/* 1 <= limit <= room, restated for the verifier (room is a power of two). */
	if (bpf_probe_read_user((void *)(r + 1), ((limit - 1) & (room - 1)) + 1,
	                        (const void *)st->buf)) {
		bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
		count(SC_CTR_READ_FAULT, 1);
		return;
	}
	data_header(r, st, c, moved, limit);
	bpf_ringbuf_submit(r, wake);
	count_sent(limit);
}

/* Message i of a sendmmsg/recvmmsg, which moved `moved` bytes (0: as its msg_len says, which
 * the kernel writes after each message): a record of its own. False if its entry cannot be read. */
static __always_inline bool mmsg_one(struct scratch *s, const struct stash *st, struct fd_conn *c,
                                     __u32 i, __u32 moved)
{
	struct mmsghdr m;
	__u32 limit;
	int cap;

	if (bpf_probe_read_user(&m, sizeof(m), (const void *)(st->buf + i * sizeof(m)))) {
		count(SC_CTR_READ_FAULT, 1);
		return false;
	}
	if (!moved)
		moved = m.msg_len;
	limit = moved < max_payload ? moved : max_payload;
	if (limit > SC_PAYLOAD_MAX)
		limit = SC_PAYLOAD_MAX;
	cap = copy_iov(s, (__u64)m.msg_hdr.msg_iov, (__u32)m.msg_hdr.msg_iovlen, limit);
	if (cap < 0) {
		count(SC_CTR_READ_FAULT, 1);
		return true;
	}
	emit_data(s, st, c, moved, (__u32)cap, (__u64)m.msg_hdr.msg_name);
	return true;
}

/* sendmmsg/recvmmsg at exit: ret messages, each a record of its own. */
static __always_inline void mmsg_exit(struct scratch *s, const struct stash *st, struct fd_conn *c,
                                      __u32 ret)
{
	for (__u32 i = 0; i < SC_MMSG_MAX; i++)
		if (i >= ret || !mmsg_one(s, st, c, i, 0))
			return;
	if (ret > SC_MMSG_MAX)
		count(SC_CTR_MMSG_CUT, ret - SC_MMSG_MAX);
}

/* A data syscall on a followed socket returned ret. known: its connection, when the caller
 * already has it (file_sock), else NULL. */
static __always_inline void data_exit(const struct stash *st, long ret, struct fd_conn *known)
{
	struct fd_conn *c = NULL;
	struct scratch *s;
	__u64 name;
	int cap;

	if (ret <= 0)
		return;
	/* Before the scratch slot is filled: a new connection's open record is built there. */
	if (st->proto == IPPROTO_TCP) {
		c = known ? known
		          : conn_get(st->fd, st->file, (struct sock *)st->sk, IPPROTO_TCP,
		                     SC_ROLE_UNKNOWN);
		if (!c || c->own)
			return;
		if (c->skip) {
			count(SC_CTR_SKIPPED, 1);
			return;
		}
	}
	/* c is set for TCP alone; datagrams keep the scratch slot, where their payload is checked
	 * for DNS before a record is written. */
	if (st->how == HOW_BUF && c) {
		buf_exit(st, c, (__u32)ret);
		return;
	}
	s = scratch_slot();
	if (!s)
		return;
	if (st->how == HOW_MMSG) {
		if (st->one_msg)
			mmsg_one(s, st, c, st->msg_index & (SC_MMSG_MAX - 1), (__u32)ret);
		else
			mmsg_exit(s, st, c, (__u32)ret);
		return;
	}
	cap = copy_payload(s, st, (__u32)ret, &name);
	if (cap < 0) {
		count(SC_CTR_READ_FAULT, 1);
		return;
	}
	emit_data(s, st, c, (__u32)ret, (__u32)cap, name);
}

/* What this thread's syscall entry stashed, taken out: false when there is nothing (not a
 * followed fd, or attach-only mode). */
static __always_inline bool stash_take(struct stash *out)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct stash *p;

	if (attach_only)
		return false;
	p = bpf_map_lookup_elem(&stash, &pid_tgid);
	if (!p)
		return false;
	*out = *p;
	bpf_map_delete_elem(&stash, &pid_tgid);
	return true;
}

static __always_inline int on_exit(long ret)
{
	struct stash st;

	if (stash_take(&st))
		data_exit(&st, ret, NULL); /* enter's lookup is not this program's */
	return 0;
}

#define DATA_SYSCALL(name, how, dir, buf, cnt, flags, addr)                                        \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                                \
	int enter_##name(struct trace_event_raw_sys_enter *ctx)                                    \
	{                                                                                          \
		return on_enter(ctx->args[0], buf, cnt, flags, addr, how, dir);                    \
	}                                                                                          \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                                 \
	int exit_##name(struct trace_event_raw_sys_exit *ctx)                                      \
	{                                                                                          \
		return on_exit(ctx->ret);                                                          \
	}

DATA_SYSCALL(read, HOW_BUF, SC_INGRESS, ctx->args[1], ctx->args[2], 0, 0)
DATA_SYSCALL(write, HOW_BUF, SC_EGRESS, ctx->args[1], ctx->args[2], 0, 0)
DATA_SYSCALL(readv, HOW_IOV, SC_INGRESS, ctx->args[1], ctx->args[2], 0, 0)
DATA_SYSCALL(writev, HOW_IOV, SC_EGRESS, ctx->args[1], ctx->args[2], 0, 0)
DATA_SYSCALL(recvfrom, HOW_BUF, SC_INGRESS, ctx->args[1], ctx->args[2], ctx->args[3], ctx->args[4])
DATA_SYSCALL(sendto, HOW_BUF, SC_EGRESS, ctx->args[1], ctx->args[2], 0, ctx->args[4])
DATA_SYSCALL(recvmsg, HOW_MSG, SC_INGRESS, ctx->args[1], 0, ctx->args[2], 0)
DATA_SYSCALL(sendmsg, HOW_MSG, SC_EGRESS, ctx->args[1], 0, 0, 0)
DATA_SYSCALL(recvmmsg, HOW_MMSG, SC_INGRESS, ctx->args[1], ctx->args[2], ctx->args[3], 0)
DATA_SYSCALL(sendmmsg, HOW_MMSG, SC_EGRESS, ctx->args[1], ctx->args[2], 0, 0)
DATA_SYSCALL(sendfile64, HOW_COUNT, SC_EGRESS, 0, ctx->args[3], 0, 0)

/* accept() returns the new connection's fd; the server side of it. */
static __always_inline int on_accept(long fd)
{
	struct sock *sk;
	__u64 file;
	__u8 proto;

	if (fd < 0 || attach_only)
		return 0;
	sk = fd_sock((__u32)fd, &proto, &file, NULL);
	if (sk)
		conn_get((__u32)fd, file, sk, proto, SC_ROLE_SERVER);
	return 0;
}

/* A non-blocking connect() returns EINPROGRESS, but the local port is already bound: the
 * connection can be recorded now, before its first byte. A connected UDP socket (glibc's
 * resolver uses them) is recorded too: that attributes its datagrams on the wire. */
static __always_inline void connected(__u32 fd, __u64 file, struct sock *sk, __u8 proto, long ret)
{
	if (ret == 0 || ret == -EINPROGRESS)
		conn_get(fd, file, sk, proto, SC_ROLE_CLIENT);
}

static __always_inline void closed(__u32 fd)
{
	struct fd_key fk = {.tgid = bpf_get_current_pid_tgid() >> 32, .fd = fd};
	struct fd_conn *c = bpf_map_lookup_elem(&fd_conns, &fk);

	if (!c)
		return;
	emit_plain(SC_CLOSE, fd, c);
	bpf_map_delete_elem(&local_conns, &c->key);
	bpf_map_delete_elem(&fd_conns, &fk);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept(ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_connect")
int enter_connect(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(ctx->args[0], 0, 0, 0, 0, HOW_CONNECT, SC_EGRESS);
}

SEC("tracepoint/syscalls/sys_exit_connect")
int exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	struct stash st;

	if (stash_take(&st))
		connected(st.fd, st.file, (struct sock *)st.sk, st.proto, ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int enter_close(struct trace_event_raw_sys_enter *ctx)
{
	if (!attach_only)
		closed((__u32)ctx->args[0]);
	return 0;
}

/* The last thread of a process is gone: so are its connections, closed or not. */
SEC("tracepoint/sched/sched_process_exit")
int process_exit(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fd_conn none = {};

	(void)ctx;
	if (attach_only || mine() || BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	emit_plain(SC_EXIT, 0, &none);
	return 0;
}

#if defined(__TARGET_ARCH_x86)
/* One program at every syscall's exit instead of two tracepoints per followed syscall: the
 * arguments are still in the caller's saved registers (x86-64 puts the return value in ax and
 * keeps orig_ax, di, si, dx, r10 and r8), so nothing needs stashing at entry, and the task's fd
 * table is walked with plain BTF loads rather than probe reads. Every syscall of every process
 * runs it, so it must leave at once for the ones not followed. tp_btf and
 * bpf_get_current_task_btf need Linux 5.11; the loader falls back to the tracepoints above
 * where this does not load, and uses them with --capture socket, which follows only
 * connections. Numbers from arch/x86/entry/syscalls/syscall_64.tbl. */
enum {
	NR_read = 0,
	NR_write = 1,
	NR_close = 3,
	NR_readv = 19,
	NR_writev = 20,
	NR_sendfile = 40,
	NR_connect = 42,
	NR_accept = 43,
	NR_sendto = 44,
	NR_recvfrom = 45,
	NR_sendmsg = 46,
	NR_recvmsg = 47,
	NR_accept4 = 288,
	NR_recvmmsg = 299,
	NR_sendmmsg = 307,
};

#define TS_COMPAT 0x0002 /* a 32-bit caller: its syscall numbers mean other calls */

static __always_inline struct sock *fd_sock_btf(struct task_struct *task, __u32 fd, __u8 *proto,
                                                __u64 *file, struct fd_conn **known)
{
	struct fdtable *fdt = task->files->fdt;
	struct file *f = NULL;

	/* The fd array holds pointers: its slot is the one probe read before the file. */
	if (fd >= fdt->max_fds || bpf_probe_read_kernel(&f, sizeof(f), &fdt->fd[fd]) || !f)
		return NULL;
	*file = (__u64)f;
	return file_sock(fd, f, proto, known);
}

/* close, accept, accept4, connect: the connection table, nothing copied. */
static __always_inline int connection_exit(struct task_struct *task, const struct pt_regs *regs,
                                           long ret)
{
	struct sock *sk;
	__u64 file;
	__u8 proto;

	switch (regs->orig_ax) {
	case NR_close:
		if (ret == 0)
			closed((__u32)regs->di);
		break;
	case NR_connect:
		if ((sk = fd_sock_btf(task, (__u32)regs->di, &proto, &file, NULL)))
			connected((__u32)regs->di, file, sk, proto, ret);
		break;
	default: /* accept, accept4 */
		if (ret >= 0 && (sk = fd_sock_btf(task, (__u32)ret, &proto, &file, NULL)))
			conn_get((__u32)ret, file, sk, proto, SC_ROLE_SERVER);
		break;
	}
	return 0;
}

enum syscall_class {
	SYSCALL_OTHER,      /* not followed: most syscalls */
	SYSCALL_CONNECTION, /* close, accept, accept4, connect */
	SYSCALL_DATA,       /* moves bytes: *st and *flags say how */
};

/* What the caller's syscall is, from its saved registers; for a data syscall, how its bytes are
 * found (st->how, st->dir, st->addr, st->buf, st->count, st->fd) and its flags. */
static __always_inline enum syscall_class classify(const struct pt_regs *regs, struct stash *st,
                                                   __u64 *flags)
{
	switch (regs->orig_ax) {
	case NR_close:
	case NR_accept:
	case NR_accept4:
	case NR_connect:
		return SYSCALL_CONNECTION;
	case NR_read:
		st->dir = SC_INGRESS;
		/* fall through */
	case NR_write:
		st->how = HOW_BUF;
		break;
	case NR_readv:
		st->dir = SC_INGRESS;
		/* fall through */
	case NR_writev:
		st->how = HOW_IOV;
		break;
	case NR_recvfrom:
		st->dir = SC_INGRESS;
		*flags = regs->r10;
		/* fall through */
	case NR_sendto:
		st->how = HOW_BUF;
		st->addr = regs->r8;
		break;
	case NR_recvmsg:
		st->dir = SC_INGRESS;
		*flags = regs->dx;
		/* fall through */
	case NR_sendmsg:
		st->how = HOW_MSG;
		break;
	case NR_recvmmsg:
		st->dir = SC_INGRESS;
		*flags = regs->r10;
		/* fall through */
	case NR_sendmmsg:
		st->how = HOW_MMSG;
		break;
	case NR_sendfile: /* bytes only */
		st->how = HOW_COUNT;
		break;
	default:
		return SYSCALL_OTHER;
	}
	st->buf = regs->si;
	st->count = (__u32)(st->how == HOW_COUNT ? regs->r10 : regs->dx);
	st->fd = (__u32)regs->di;
	return SYSCALL_DATA;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit_all, struct pt_regs *regs, long ret)
{
	struct fd_conn *known;
	struct task_struct *task;
	struct stash st = {}; /* dir 0: SC_EGRESS */
	enum syscall_class class;
	__u64 flags = 0;
	struct sock *sk;

	(void)ctx; /* BPF_PROG's raw context: the arguments are named above */
	if (attach_only)
		return 0;
	/* Leave first, and cheaply, for the hundreds of syscalls not followed. */
	class = classify(regs, &st, &flags);
	if (class == SYSCALL_OTHER)
		return 0;
	task = bpf_get_current_task_btf();
	if (task->thread_info.status & TS_COMPAT)
		return 0;
	if (class == SYSCALL_CONNECTION)
		return connection_exit(task, regs, ret);
	if (ret <= 0 || mine())
		return 0;
	sk = fd_sock_btf(task, st.fd, &st.proto, &st.file, &known);
	if (!sk)
		return 0;
	if (flags & MSG_PEEK) {
		count(SC_CTR_PEEK, 1);
		return 0;
	}
	st.sk = (__u64)sk;
	data_exit(&st, ret, known);
	return 0;
}

#define PF_IO_WORKER 0x00000010
#define PF_KTHREAD   0x00200000

/* The socket-level hooks (Linux 6.3+): sock_send_length and sock_recv_length fire inside
 * sock_sendmsg and sock_recvmsg, with the socket, once the bytes have moved, and
 * inet_sock_set_state at every TCP state change. They are not syscall tracepoints: a kernel
 * with none of those attached keeps every syscall of every process on its fast path, and no
 * program of ours runs for a pipe or a file (tests/bench/overhead.py: with empty programs nginx
 * keeps 0.98 of its throughput on these hooks, 0.95 on sys_exit). The syscall's own arguments
 * (which fd, where the bytes are) are in the caller's saved registers, as for sys_exit; the fd is
 * checked to hold this very socket, so a kernel socket driven from inside some other syscall (a
 * network file system's) is not the caller's.
 *
 * What they cannot see, the wire view (which the loader runs beside them) reports:
 * - a connection is recorded at its first byte, not at connect or accept: its role is the side
 *   of the handshake inet_sock_set_state saw (born_socks), or, for one open before we started,
 *   inferred from its first message; its first packets reach the socket filter before
 *   local_conns names them;
 * - recvmmsg fires once per message, without saying which (sendmmsg does too, but its place
 *   can be followed: sendmmsg_message);
 * - a datagram received on an unconnected socket: its source is written to the caller's
 *   sockaddr after they fire, and nowhere they can read;
 * - sendfile goes through ->sendpage before Linux 6.5.
 * A TCP connection ends when close() on its fd changes its state or destroys it (sock_closing);
 * a process's, when it exits (process_exit). A UDP socket is never a connection here. The
 * collector's own connections are entered in local_conns from their TCP states (own_sock); its
 * own DNS lookups are not recognised, and may be reported from the wire. */
static __always_inline struct pt_regs *caller_regs(struct task_struct **task)
{
	*task = bpf_get_current_task_btf();
	if ((*task)->flags & (PF_KTHREAD | PF_IO_WORKER) || (*task)->thread_info.status & TS_COMPAT)
		return NULL;
	return (struct pt_regs *)bpf_task_pt_regs(*task);
}

/* Each thread's place in the array of its sendmmsg, for the sock hooks. */
struct mmsg_pos {
	__u64 arr; /* the mmsghdr array */
	__u32 next;
	__u32 reserved;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct mmsg_pos);
} mmsg_pos SEC(".maps");

/* Whether message i of st's mmsghdr array could have sent ret bytes: one iovec must hold them
 * all (a datagram goes whole); more iovecs are not summed, and pass. */
static __always_inline bool message_fits(const struct stash *st, __u32 i, __u32 ret)
{
	struct mmsghdr m;
	struct iovec v;

	if (bpf_probe_read_user(&m, sizeof(m), (const void *)(st->buf + i * sizeof(m))))
		return false;
	if (m.msg_hdr.msg_iovlen != 1)
		return true;
	return !bpf_probe_read_user(&v, sizeof(v), m.msg_hdr.msg_iov) && v.iov_len == ret;
}

/* Which message of its sendmmsg fired the hook: they fire once per message, in order, without
 * saying which (glibc's resolver sends its A and AAAA queries this way). The thread's place in
 * the array is kept in mmsg_pos. A call that stopped early (an error) leaves a place behind
 * that its next call on the same array would take up: a message that does not fit its entry
 * starts again from the first. */
static __always_inline bool sendmmsg_message(struct stash *st, __u32 ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct mmsg_pos next = {.arr = st->buf};
	struct mmsg_pos *at;
	__u32 i;

	at = bpf_map_lookup_elem(&mmsg_pos, &id);
	i = at && at->arr == st->buf && at->next < st->count ? at->next : 0;
	if (i && !message_fits(st, i, ret))
		i = 0;
	next.next = i + 1;
	bpf_map_update_elem(&mmsg_pos, &id, &next, BPF_ANY);
	if (i >= SC_MMSG_MAX) {
		count(SC_CTR_MMSG_CUT, 1);
		return false;
	}
	st->one_msg = 1;
	st->msg_index = (__u8)i;
	return true;
}

static __always_inline int sock_data(struct sock *sk, int ret, int rflags)
{
	struct fd_conn *known = NULL;
	struct task_struct *task;
	struct pt_regs *regs;
	struct stash st = {};
	struct fd_key fk;
	__u64 flags = 0;

	if (attach_only || ret <= 0 || mine())
		return 0;
	regs = caller_regs(&task);
	if (!regs || classify(regs, &st, &flags) != SYSCALL_DATA)
		return 0;
	if (rflags & MSG_PEEK) {
		count(SC_CTR_PEEK, 1);
		return 0;
	}
	fk.tgid = bpf_get_current_pid_tgid() >> 32;
	fk.fd = st.fd;
	known = bpf_map_lookup_elem(&fd_conns, &fk);
	if (known && known->sk == (__u64)sk) {
		st.proto = (__u8)known->key.proto;
		st.file = known->file;
	} else if (fd_sock_btf(task, st.fd, &st.proto, &st.file, NULL) == sk) {
		known = NULL;
	} else {
		return 0;
	}
	if (st.dir == SC_INGRESS &&
	    (st.how == HOW_MMSG || (st.proto == IPPROTO_UDP && !sk->__sk_common.skc_dport))) {
		/* Which message of a recvmmsg this is, or where an unconnected socket's datagram
		 * came from, is not known here (the sockaddr is written after the hook runs). */
		count(SC_CTR_LEFT_TO_WIRE, 1);
		return 0;
	}
	if (st.how == HOW_MMSG && !sendmmsg_message(&st, ret))
		return 0;
	/* A connected UDP socket's peer is the socket's: the caller's sockaddr comes later. */
	st.no_name = st.proto == IPPROTO_UDP && st.dir == SC_INGRESS;
	st.sk = (__u64)sk;
	data_exit(&st, ret, known);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(sock_send, struct sock *sk, int ret, int flags)
{
	(void)ctx;
	return sock_data(sk, ret, flags);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(sock_recv, struct sock *sk, int ret, int flags)
{
	(void)ctx;
	return sock_data(sk, ret, flags);
}

/* close() on a followed TCP connection's fd either moves it to FIN_WAIT1, LAST_ACK or CLOSE, or,
 * when it was closed already (a reset), destroys it: both in the caller's context. The same
 * changes also run in softirq on top of whatever task was interrupted, and a task in close()
 * may be closing another fd: the fd's entry must name this socket. */
static __always_inline int sock_closing(const struct sock *sk)
{
	struct task_struct *task;
	struct pt_regs *regs;
	struct fd_conn *c;
	struct fd_key fk;

	if (attach_only)
		return 0;
	regs = caller_regs(&task);
	if (!regs || regs->orig_ax != NR_close)
		return 0;
	fk.tgid = bpf_get_current_pid_tgid() >> 32;
	fk.fd = (__u32)regs->di;
	c = bpf_map_lookup_elem(&fd_conns, &fk);
	if (c && c->sk == (__u64)sk)
		closed(fk.fd);
	return 0;
}

/* The collector's own TCP sockets (its HTTP sinks'), for the sock hooks: they must be in
 * local_conns as CONN_OWNER_SELF before their first byte, or the socket filter would report a
 * delivery's first packets, and a receiver on this host its first read (peer_is_mine). Their
 * connect() moves them to SYN_SENT in the collector's own context, but before a local port is
 * chosen; ESTABLISHED follows in whatever context the handshake completes, when the key is
 * whole. So the socket is remembered at the first and entered at the second, with its key:
 * at CLOSE the port may be released already, and the key is taken from here. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);             /* struct sock * */
	__type(value, struct conn_key); /* all zero until ESTABLISHED */
} own_socks SEC(".maps");

static __always_inline void own_sock(struct sock *sk, int oldstate, int newstate)
{
	struct conn_owner owner = {.tgid = self_tgid, .flags = CONN_OWNER_TRACED | CONN_OWNER_SELF};
	struct conn_key none = {}; /* hashed as bytes: an IPv4 address leaves 12 of 16 unset */
	__u64 id = (__u64)sk;
	struct conn_key *k;

	if (newstate == TCP_SYN_SENT) {
		if (mine())
			bpf_map_update_elem(&own_socks, &id, &none, BPF_ANY);
		return;
	}
	if (!(newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_SENT) && newstate != TCP_CLOSE)
		return;
	k = bpf_map_lookup_elem(&own_socks, &id);
	if (!k)
		return;
	if (newstate == TCP_CLOSE) {
		bpf_map_delete_elem(&local_conns, k);
		bpf_map_delete_elem(&own_socks, &id);
		return;
	}
	sock_key(sk, IPPROTO_TCP, k);
	if (bpf_map_update_elem(&local_conns, k, &owner, BPF_ANY))
		count(SC_CTR_CONN_FULL, 1);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(sock_state, const struct sock *sk, int oldstate, int newstate)
{
	(void)ctx;
	if (attach_only)
		return 0;
	own_sock((struct sock *)sk, oldstate, newstate);
	if (newstate == TCP_ESTABLISHED && (oldstate == TCP_SYN_SENT || oldstate == TCP_SYN_RECV)) {
		__u64 id = (__u64)sk;
		__u32 role = oldstate == TCP_SYN_SENT ? SC_ROLE_CLIENT : SC_ROLE_SERVER;

		bpf_map_update_elem(&born_socks, &id, &role, BPF_ANY);
		return 0;
	}
	/* The states close() moves a socket to (tcp_close); the others never run in it. */
	if (newstate == TCP_FIN_WAIT1 || newstate == TCP_LAST_ACK || newstate == TCP_CLOSE)
		return sock_closing(sk);
	return 0;
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(sock_destroy, const struct sock *sk)
{
	(void)ctx;
	return sock_closing(sk);
}
#endif

char LICENSE[] SEC("license") = "Dual BSD/GPL";
