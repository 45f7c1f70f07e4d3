/* DNS over TCP, one direction of a connection (RFC 1035 4.2.2, RFC 7766): every message follows
 * its length in two bytes, and TCP cuts the stream anywhere, so one segment or read may hold
 * several messages and one message may span several. This gathers each message whole. Bytes a
 * capture limit did not copy (gaps) inside a message make it partial; a gap that covers a length
 * prefix loses the framing, and the rest of the direction is counted, not parsed. */
#ifndef L7_DNS_STREAM_H
#define L7_DNS_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dns_frame {
	int dir; /* the stream's, as given to dns_stream_init() */
	const uint8_t *p;
	size_t cap;        /* bytes in p */
	size_t len;        /* the message's length as its prefix says */
	uint64_t ts_first; /* when its first byte (the prefix's) arrived */
	uint64_t ts_last;  /* when its last byte arrived */
};

typedef void (*dns_frame_fn)(void *ctx, const struct dns_frame *f);

struct dns_stream_stats {
	uint64_t messages;
	uint64_t partial;    /* messages with bytes missing (capture limit, lost segments) */
	uint64_t lost_bytes; /* bytes not parsed because the framing was lost */
	uint64_t unfinished; /* messages cut short by the end of the connection */
};

struct dns_stream {
	int dir;
	uint8_t prefix[2];
	uint8_t have_prefix; /* 0..2 bytes of the current prefix */
	bool lost;           /* framing lost: nothing more is parsed */
	bool hole;           /* the current message had a gap: bytes after it are not kept */
	uint32_t len;        /* current message length, once the prefix is whole */
	uint32_t got;        /* its bytes received, data or gap */
	uint32_t contig;     /* its bytes copied before any gap */
	uint64_t ts_first;
	uint8_t *buf; /* grows to the largest message seen; freed by dns_stream_close() */
	uint32_t buf_size;
};

void dns_stream_init(struct dns_stream *s, int dir);
void dns_stream_data(struct dns_stream *s, struct dns_stream_stats *st, const uint8_t *p, size_t n,
                     uint64_t ts, dns_frame_fn fn, void *ctx);
void dns_stream_gap(struct dns_stream *s, struct dns_stream_stats *st, size_t n, uint64_t ts,
                    dns_frame_fn fn, void *ctx);
/* The connection ended: an unfinished message is counted (unless st is NULL) and dropped. */
void dns_stream_close(struct dns_stream *s, struct dns_stream_stats *st);

#endif
