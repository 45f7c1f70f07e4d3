/* The syscall probes' side of the kernel/user boundary: the records of their ring buffer, their
 * counters, and the limits user space configures. Included by syscalls.bpf.c and the collector;
 * fixed-width types only. */
#ifndef L7_BPF_SYSCALLS_H
#define L7_BPF_SYSCALLS_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#include "conns.h"

/* Largest --max-payload: bytes copied per syscall (iovecs included), or per message of a
 * sendmmsg/recvmmsg. */
#define SC_PAYLOAD_MAX 32768

/* Messages of one sendmmsg/recvmmsg copied (each its own record). glibc's resolver sends its A
 * and AAAA queries with one sendmmsg. */
#define SC_MMSG_MAX 4

enum sc_kind {
	SC_DATA = 1, /* bytes a syscall moved on a TCP socket, or one UDP datagram */
	SC_OPEN,  /* accept() or connect() made a connection, or data showed one we had not seen */
	SC_CLOSE, /* close() on a followed connection */
	SC_EXIT,  /* a process exited: its connections are gone */
};

enum sc_dir {
	SC_EGRESS = 0,  /* the process sent (write, send*) */
	SC_INGRESS = 1, /* the process received (read, recv*) */
};

enum sc_role {
	SC_ROLE_UNKNOWN = 0, /* open before the collector started: the first message will say */
	SC_ROLE_CLIENT,      /* connect(); sock hooks: the handshake went SYN_SENT to ESTABLISHED */
	SC_ROLE_SERVER,      /* accept(); sock hooks: SYN_RECV to ESTABLISHED */
};

/* Who last used a connection, as records report it: read with helpers when a thread first uses
 * the connection, then copied. Those helpers (uid/gid, cgroup, two comm reads) were a quarter
 * of what a followed syscall cost (tests/bench). A thread renamed, or a process that changes
 * its ids, while it holds the connection keeps the old values until another thread uses it. */
struct sc_identity {
	__u64 cgroup_id;
	__u32 tgid;
	__u32 tid; /* 0 in a connection's copy: not read yet */
	__u32 uid;
	__u32 gid;
	char comm[16];  /* the thread's */
	char pcomm[16]; /* the thread group leader's */
};

#define SC_REC_TRUNCATED 0x1 /* len > cap: --max-payload cut the copy */

struct sc_record {
	__u64 ts_ns;   /* bpf_ktime_get_ns() at syscall exit */
	__u64 conn_id; /* unique per connection for the collector's lifetime */
	__u32 fd;
	__u32 len; /* bytes the syscall moved (SC_DATA) */
	__u32 cap; /* payload bytes after this header (the record may be longer) */
	__u8 kind; /* enum sc_kind */
	__u8 dir;  /* enum sc_dir */
	__u8 role; /* enum sc_role */
	__u8 flags;
	struct sc_identity who;
	struct conn_key conn; /* UDP: the datagram's peer is raddr/rport */
};

_Static_assert(sizeof(struct sc_identity) == 56, "sc_identity layout is shared with user space");
_Static_assert(sizeof(struct sc_record) == 128, "sc_record layout is shared with user space");
_Static_assert(sizeof(struct sc_record) % 8 == 0, "payload must follow an 8-byte boundary");

/* The probes' connections (map fd_conns): one per (process, fd), for the socket behind it. */
struct fd_key {
	__u32 tgid;
	__u32 fd;
};

struct fd_conn {
	__u64 sk;   /* struct sock *: another socket on the same fd is another connection */
	__u64 file; /* struct file *: while the fd holds it, sk need not be read again */
	__u64 id;
	struct conn_key key;
	__u8 role; /* enum sc_role */
	__u8 own;  /* the collector's, or a connection to it (see conn_get): not followed */
	/* Set by user space once a connection's first bytes show neither HTTP nor DNS: its data
	 * is no longer copied (SC_CTR_SKIPPED). */
	__u8 skip;
	__u8 reserved[5];
	struct sc_identity who;
};

_Static_assert(sizeof(struct fd_conn) == 128, "fd_conn layout is shared with user space");

/* Per-CPU counters; every syscall on a followed socket ends in one of the outcome counters. */
enum sc_counter {
	SC_CTR_EVENTS = 0,  /* records written */
	SC_CTR_EVENT_BYTES, /* payload bytes written */
	SC_CTR_RING_FULL,   /* lost: the ring buffer had no room */
	SC_CTR_TRUNCATED,   /* data records cut at --max-payload */
	SC_CTR_STASH_FULL,  /* lost: no room to keep a syscall's arguments until its exit */
	SC_CTR_CONN_FULL,   /* a connection could not be recorded (its data is still sent) */
	SC_CTR_READ_FAULT,  /* lost: the process's buffer could not be read */
	SC_CTR_PEEK,        /* MSG_PEEK receives, skipped: the bytes will be read again */
	SC_CTR_NO_SCRATCH,  /* lost: no scratch space on this CPU */
	SC_CTR_UDP_NOT_DNS, /* UDP datagrams that do not look like DNS: not copied */
	SC_CTR_MMSG_CUT,    /* messages of a sendmmsg/recvmmsg past SC_MMSG_MAX: not copied */
	SC_CTR_SKIPPED,     /* data syscalls on connections that carry neither HTTP nor DNS */
	/* The sock hooks only: datagrams they cannot place (a message of sendmmsg/recvmmsg, a
	 * receive on an unconnected socket, whose source they never see): left to the wire view */
	SC_CTR_LEFT_TO_WIRE,
	SC_CTR_MAX,
};

#endif
