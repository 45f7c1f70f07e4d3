/* Frames one direction of an HTTP/1.x connection: bytes in (as the reassembler or the syscall
 * probes deliver them, in pieces of any size), whole messages out. It finds where each header
 * block ends, frames the body (Content-Length, chunked, until close, none), counts every byte,
 * and after lost bytes or garbage resynchronises at the next message start. It keeps no parsed
 * fields: the header block is kept raw and parsed in place when a callback needs it. */
#ifndef L7_HTTP_STREAM_H
#define L7_HTTP_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "http_parse.h"

enum http_kind {
	HTTP_KIND_UNKNOWN = 0, /* decided by the first message */
	HTTP_KIND_REQUEST,
	HTTP_KIND_RESPONSE,
};

enum http_body {
	HTTP_BODY_NONE = 0,
	HTTP_BODY_LENGTH,  /* content_length bytes */
	HTTP_BODY_CHUNKED, /* chunked transfer coding */
	HTTP_BODY_EOF,     /* until the connection closes (responses only) */
	HTTP_BODY_TUNNEL,  /* the connection stops carrying HTTP (101, CONNECT 2xx) */
};

struct http_spares; /* http_session.h */

/* Counters shared by every stream and session; the owner reads them for stats. */
struct http_stats {
	uint64_t requests;           /* request messages framed */
	uint64_t responses;          /* response messages framed */
	uint64_t parse_errors;       /* bad start lines, header fields or chunk framing */
	uint64_t resyncs;            /* times a stream found a message start after losing framing */
	uint64_t discarded_bytes;    /* bytes skipped while looking for a message start */
	uint64_t truncated;          /* messages with bytes not captured */
	uint64_t incomplete;         /* connections that ended inside a message's header block */
	uint64_t exchanges;          /* request/response pairs reported */
	uint64_t no_response;        /* requests reported without a response */
	uint64_t unpaired_responses; /* responses with no request seen: counted, not reported */
	uint64_t informational;      /* 1xx interim responses */
	uint64_t tunnels;            /* connections that switched protocols */
	uint64_t pending_overflow; /* requests given up because too many waited on one connection */
	uint64_t header_buffer_limit; /* header blocks longer than max_header_bytes */
};

struct http_cfg {
	uint32_t
	        max_header_bytes; /* header block kept per message; the rest is scanned, not kept */
	uint32_t max_pending;     /* requests waiting for responses per connection */
	uint64_t
	        response_timeout_ns; /* a request unanswered this long is reported as no_response */
	bool capture_headers;        /* report header fields (sensitive values redacted) */
	struct http_stats *stats;
	/* Storage of answered requests, for the next ones; may be NULL. */
	struct http_spares *spares;
};

/* A message as the callbacks see it. The head's slices point into the stream's buffer and are
 * valid only during the callback. */
struct http_msg {
	enum http_kind kind;
	enum http_body body;     /* from the header fields; head() may change it */
	bool truncated;          /* some of this message's bytes were not captured */
	uint64_t content_length; /* for HTTP_BODY_LENGTH */
	uint64_t ts_start;       /* first byte */
	uint64_t ts_end;         /* last byte (message()) */
	uint64_t header_bytes;   /* start line, fields and the empty line */
	uint64_t body_bytes;     /* content: Content-Length bytes, or the chunk sizes added up */
	uint64_t wire_bytes;     /* every byte of the message, chunk framing and gaps included */
	const char *raw;         /* the header block as kept; head's slices point into it */
	uint32_t raw_len;
	bool raw_partial; /* raw is not the whole block (limit or gap): parse it as partial */
	/* Parsed for head(), and for message() of a response; a request's message() gets only
	 * the counts above (its head went to head()). */
	struct http_head head;
};

struct http_stream_ops {
	/* The header block is complete. For a response the session knows what the stream cannot
	 * (the request was HEAD or CONNECT) and may change m->body. */
	void (*head)(void *ctx, struct http_msg *m);
	/* The message is complete (or, truncated, as complete as it will get). */
	void (*message)(void *ctx, const struct http_msg *m);
};

struct http_stream {
	char *hdr; /* header block of the current message; freed when the message ends */
	uint32_t hdr_len;
	uint32_t hdr_cap;
	uint32_t scan;      /* where the search for the header block's end resumes */
	uint32_t line_len;  /* length so far of the line being read (chunk sizes, trailers, skip) */
	uint64_t remaining; /* body or chunk bytes still to come */
	uint64_t ts_start;
	uint64_t ts_end;
	uint64_t header_bytes;
	uint64_t body_bytes;
	uint64_t wire_bytes;
	uint64_t skip_length; /* Content-Length seen past the header limit */
	uint8_t state;        /* private */
	uint8_t kind;         /* enum http_kind */
	uint8_t body;         /* enum http_body of the current message */
	bool in_message;      /* a message has started and not ended */
	bool head_done;       /* head() was called for the current message */
	bool truncated;
	bool hdr_cut; /* the header block outgrew max_header_bytes */
	bool skip_length_set;
	bool skip_chunked;
	bool joined; /* joined midstream, no message start found yet */
	bool pickup; /* ... and nothing lost yet: finding one is no resync */
	uint8_t line_n;
	char line[46]; /* the start of the line being read */
};

void http_stream_init(struct http_stream *s, enum http_kind kind);
void http_stream_free(struct http_stream *s);

/* Joined midstream and still looking for its first message start. */
bool http_stream_hunting(const struct http_stream *s);

/* Tells a stream whose kind is still unknown what it carries (the other direction decided). */
void http_stream_set_kind(struct http_stream *s, enum http_kind kind);

void http_stream_data(struct http_stream *s, const struct http_cfg *cfg,
                      const struct http_stream_ops *ops, void *ctx, const uint8_t *p, size_t n,
                      uint64_t ts);

/* n bytes of the stream were lost. */
void http_stream_gap(struct http_stream *s, const struct http_cfg *cfg,
                     const struct http_stream_ops *ops, void *ctx, size_t n, uint64_t ts);

/* The direction ended. closed: the peer finished sending (FIN), which completes a body framed by
 * the connection's end; false: we stop watching (shutdown, eviction), so such a body is
 * reported as truncated. A header block that never ended is counted as incomplete. */
void http_stream_end(struct http_stream *s, const struct http_cfg *cfg,
                     const struct http_stream_ops *ops, void *ctx, bool closed, uint64_t ts);

/* Reports a message whose framing was lost (its head was delivered) as it stands, truncated:
 * the session calls this when the response to it arrives. */
void http_stream_finish_lost(struct http_stream *s, const struct http_cfg *cfg,
                             const struct http_stream_ops *ops, void *ctx);

/* The stream was joined in the middle (a connection open before capture began): bytes up to the
 * next message start are skipped, not taken for a malformed message. */
void http_stream_midstream(struct http_stream *s);

/* True while a message that had its head delivered is waiting for more bytes. */
bool http_stream_lost(const struct http_stream *s);

#endif
