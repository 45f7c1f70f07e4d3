/* Decodes one captured frame (live from the ring buffer or from a pcap file) down to the TCP or
 * UDP payload. Never reads past caplen; all header lengths are taken from the headers. */
#ifndef L7_PACKET_H
#define L7_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* Where a frame starts. Values are pcap LINKTYPE_* numbers so pcap files map straight through. */
enum pkt_link {
	PKT_LINK_NULL = 0,         /* BSD loopback: 4-byte address family, host byte order */
	PKT_LINK_ETHERNET = 1,     /* Ethernet, with up to two 802.1Q/802.1ad tags */
	PKT_LINK_RAW = 101,        /* IPv4 or IPv6 header first, version from the first nibble */
	PKT_LINK_LOOP = 108,       /* OpenBSD loopback: 4-byte address family, network byte order */
	PKT_LINK_LINUX_SLL = 113,  /* Linux "cooked" v1 (tcpdump -i any) */
	PKT_LINK_LINUX_SLL2 = 276, /* Linux "cooked" v2 */
};

enum pkt_status {
	PKT_OK = 0,
	PKT_ERR_LINK = -1,      /* unknown link type, or a link header cut short */
	PKT_ERR_NOT_IP = -2,    /* not IPv4 or IPv6 */
	PKT_ERR_MALFORMED = -3, /* IP or transport headers too short, cut short, or inconsistent */
	PKT_ERR_FRAGMENT = -4,  /* an IP fragment (not reassembled) */
	PKT_ERR_PROTO = -5,     /* IP, but neither TCP nor UDP */
};

#define PKT_TCP_FIN 0x01
#define PKT_TCP_SYN 0x02
#define PKT_TCP_RST 0x04
#define PKT_TCP_PSH 0x08
#define PKT_TCP_ACK 0x10

struct pkt {
	struct l7_tuple t;      /* addresses, ports, family and protocol */
	uint8_t tcp_flags;      /* PKT_TCP_*; 0 for UDP */
	uint32_t seq;           /* TCP sequence number of the first payload byte */
	uint32_t ack;           /* TCP acknowledgement number */
	const uint8_t *payload; /* points into the frame */
	uint32_t payload_cap;   /* payload bytes present in the frame */
	uint32_t payload_len; /* payload bytes on the wire (from the IP lengths); >= payload_cap */
};

/* Decodes frame[0..caplen). wire_len is the frame's length before capture cut it; it is used only
 * when the IP header cannot say (a GSO packet whose IPv4 total length or IPv6 payload length is
 * 0). Returns PKT_OK or a negative enum pkt_status; *out is only meaningful on PKT_OK. */
int pkt_decode(const uint8_t *frame, size_t caplen, size_t wire_len, enum pkt_link link,
               struct pkt *out);

/* A short name for a status, for counters and logs. */
const char *pkt_status_name(int status);

#endif
