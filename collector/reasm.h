/* TCP reassembly for one direction of one connection: turns segments in any order, with
 * retransmissions, overlaps and losses, into an ordered byte stream delivered through callbacks.
 * Missing bytes are never invented or skipped silently: they are delivered as a gap of a known
 * length, so the parser above can resynchronise and say what it lost. */
#ifndef L7_REASM_H
#define L7_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Counters shared by all directions; the caller owns them and reads them for stats. */
struct reasm_stats {
	uint64_t segments;       /* segments with payload given to reasm_segment */
	uint64_t out_of_order;   /* segments that arrived ahead of a hole and were buffered */
	uint64_t retransmitted;  /* bytes that arrived again and were dropped */
	uint64_t gaps;           /* gaps delivered */
	uint64_t gap_bytes;      /* bytes missing in those gaps */
	uint64_t ooo_overflows;  /* times the out-of-order limit forced a gap */
	uint64_t out_of_window;  /* segments too far from the expected sequence, dropped */
	uint64_t after_fin;      /* payload bytes after the FIN, dropped */
	uint64_t buffered_bytes; /* memory held for out-of-order segments, all directions */
	uint64_t buffered_max;   /* limit on buffered_bytes across all directions */
};

struct reasm_cfg {
	uint32_t max_ooo_bytes;    /* per direction, memory: beyond this, give up on the hole */
	struct reasm_stats *stats; /* required */
};

/* Stream events, in stream order. Timestamps are those of the segment that carried the bytes
 * (for a gap: the segment that revealed it, or the flush time). */
struct reasm_ops {
	void (*data)(void *ctx, const uint8_t *p, size_t n, uint64_t ts_ns);
	void (*gap)(void *ctx, size_t n, uint64_t ts_ns);
	void (*fin)(void *ctx, uint64_t ts_ns);
};

enum reasm_state {
	REASM_UNSYNCED = 0, /* nothing seen yet: the first SYN or data segment sets the sequence */
	REASM_SYNCED,
	REASM_CLOSED, /* FIN delivered; later payload is dropped and counted */
};

/* Bookkeeping each buffered segment is charged on top of its captured bytes (its header and
 * malloc's), so the limits bound memory even against a flood of one-byte segments. */
#define REASM_SEG_COST 64

struct reasm_seg; /* private: a buffered out-of-order segment */

struct reasm_dir {
	uint32_t next_seq;     /* sequence number of the next byte to deliver */
	uint32_t fin_seq;      /* sequence number of the FIN, when fin_seen */
	uint8_t state;         /* enum reasm_state */
	bool fin_seen;         /* a FIN arrived but bytes before it are still missing */
	uint32_t ooo_bytes;    /* memory held in ooo: captured bytes + REASM_SEG_COST each */
	uint64_t ooo_since_ns; /* arrival time of the oldest buffered segment */
	struct reasm_seg *ooo; /* buffered segments, sorted by sequence, non-overlapping */
};

void reasm_init(struct reasm_dir *d);

/* One segment. seq is the sequence number of its first payload byte (for a SYN, of the SYN
 * itself). payload[0..cap) are the bytes captured; wire_len >= cap is the payload length on the
 * wire, the difference being bytes the snap length cut, delivered as a gap. flags are PKT_TCP_*
 * (packet.h); SYN and FIN are honoured, RST is the caller's business. */
void reasm_segment(struct reasm_dir *d, const struct reasm_cfg *cfg, const struct reasm_ops *ops,
                   void *ctx, uint32_t seq, const uint8_t *payload, uint32_t cap, uint32_t wire_len,
                   uint8_t flags, uint64_t ts_ns);

/* Stops waiting for missing bytes: everything buffered is delivered, holes as gaps, and a FIN
 * that was waiting for them is delivered too. Used on timeouts and when the connection ends. */
void reasm_flush(struct reasm_dir *d, const struct reasm_cfg *cfg, const struct reasm_ops *ops,
                 void *ctx, uint64_t ts_ns);

/* Frees buffered segments without delivering them. */
void reasm_free(struct reasm_dir *d, const struct reasm_cfg *cfg);

#endif
