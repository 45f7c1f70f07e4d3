/* Recognising DNS in the kernel, on any port, from the 12-byte message header alone: the socket
 * filter and the syscall probes keep a UDP datagram (or start following a TCP stream) when this
 * says yes, and user space parses the whole message (dns_parse.c), counting what was kept and was
 * not DNS after all. It has to be cheap and reject the common non-DNS traffic: random bytes pass
 * the qdcount test once in 65,536, and HTTP or TLS never do. */
#ifndef L7_BPF_DNS_SNIFF_H
#define L7_BPF_DNS_SNIFF_H

#ifndef __bpf__ /* the collector uses it too (tcp_app.c, dns_table.c) */
#include <linux/types.h>
#include <stdbool.h>
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#endif

#define DNS_PORT       53
#define DNS_HEADER_LEN 12

/* h holds the first 12 bytes of a message of len bytes. */
static __always_inline bool dns_header_plausible(const __u8 *h, __u32 len)
{
	__u16 flags = (__u16)h[2] << 8 | h[3];
	__u32 opcode = (flags >> 11) & 0xf;
	__u32 qd = (__u32)h[4] << 8 | h[5];
	__u32 an = (__u32)h[6] << 8 | h[7];
	__u32 ns = (__u32)h[8] << 8 | h[9];
	__u32 ar = (__u32)h[10] << 8 | h[11];

	/* One question (every resolver sends one); the Z bit clear; a defined opcode (QUERY,
	 * IQUERY, STATUS, NOTIFY, UPDATE, DSO). */
	if (qd != 1 || (flags & 0x0040) || opcode > 6 || opcode == 3)
		return false;
	/* A query has no answers, except a NOTIFY's SOA. */
	if (!(flags & 0x8000) && an && opcode != 4)
		return false;
	/* The smallest question is 5 bytes (root name, type, class), a record 11. */
	return DNS_HEADER_LEN + 5 + (an + ns + ar) * 11 <= len;
}

#endif
