/* Reads capture files: classic pcap (either byte order, microsecond or nanosecond timestamps) and
 * pcapng (section, interface description, enhanced and simple packet blocks; other blocks are
 * skipped). Our own reader rather than libpcap: the format is small, the frames feed the same
 * pkt_decode as live capture, and the reader is fuzzed with the other parsers. */
#ifndef L7_PCAP_H
#define L7_PCAP_H

#include <stdint.h>
#include <stdio.h>

#include "packet.h"

enum pcap_status {
	PCAP_EOF = 0,
	PCAP_FRAME = 1,
	PCAP_ERR_IO = -1,        /* read error (errno says why) */
	PCAP_ERR_FORMAT = -2,    /* not a pcap or pcapng file */
	PCAP_ERR_TRUNCATED = -3, /* the file ends inside a record */
	PCAP_ERR_CORRUPT = -4,   /* a record or block with impossible lengths */
};

struct pcap_frame {
	uint64_t ts_ns;      /* capture time, nanoseconds since the Unix epoch */
	const uint8_t *data; /* valid until the next pcap_next() or pcap_close() */
	uint32_t caplen;     /* bytes in data */
	uint32_t wire_len;   /* frame length on the wire */
	enum pkt_link link;  /* link type of the frame's interface */
	uint32_t link_raw;   /* the LINKTYPE number from the file, for error messages */
};

struct pcap_reader;

/* Takes ownership of f (closed by pcap_close). Returns 0 or a negative enum pcap_status. */
int pcap_open(FILE *f, struct pcap_reader **out);

/* PCAP_FRAME with *frame filled, PCAP_EOF at the clean end, or a negative enum pcap_status. */
int pcap_next(struct pcap_reader *r, struct pcap_frame *frame);

void pcap_close(struct pcap_reader *r);

const char *pcap_status_name(int status);

#endif
