/* What a TCP connection carries, decided by its first bytes, and the parser that follows it:
 * HTTP/1.x (http_session.h) or DNS (dns_stream.h), or neither. The wire view (flow_table.c) and
 * the syscall view (conn_table.c) both hold one per connection; direction 0 and 1 mean what the
 * holder says they mean. */
#ifndef L7_TCP_APP_H
#define L7_TCP_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns_stream.h"
#include "http_session.h"

enum tcp_app_kind {
	TCP_APP_UNDECIDED,
	TCP_APP_HTTP,
	TCP_APP_DNS,
	TCP_APP_OTHER, /* neither: followed only to see it end */
};

struct tcp_app_stats {
	uint64_t http;     /* connections found carrying HTTP */
	uint64_t dns;      /* ... DNS */
	uint64_t other;    /* ... something else, not parsed */
	uint64_t unframed; /* joined midstream, no HTTP message start in TCP_APP_HUNT_MAX bytes */
	struct dns_stream_stats dns_stream;
};

/* The callbacks: HTTP reports through http (whose ctx is also dns's). */
struct tcp_app_env {
	struct http_session_env http;
	dns_frame_fn dns;
	struct tcp_app_stats *stats;
};

/* Bytes gathered before deciding: a DNS length prefix and header (14), an HTTP method (8). A
 * DNS client may write the prefix alone, and no HTTP or DNS message is shorter than this. */
#define TCP_APP_FIRST 16

/* A connection joined midstream is taken for HTTP and searched for a message start, its bytes
 * copied from the kernel meanwhile. One open before the collector started may carry anything (a
 * TLS session, a database pool's connection, for hours): with no start in this many bytes it is
 * given up as neither, and skipped like one, at the price of an HTTP connection joined inside a
 * body longer than this. Not on a declared port (--port): HTTP there by the user's word. */
#define TCP_APP_HUNT_MAX (1u << 20)

struct tcp_app {
	uint8_t kind;      /* enum tcp_app_kind */
	bool midstream;    /* joined after its start: the first bytes may be mid-message */
	bool http_forced;  /* on a --port: HTTP by the user's word */
	bool dns_port;     /* one end is port 53 */
	uint8_t first_len; /* undecided: bytes held in first, sent on first_dir */
	uint8_t first_dir;
	uint8_t first[TCP_APP_FIRST];
	uint64_t first_ts;
	uint64_t hunted; /* joined midstream: bytes passed without a first HTTP message start */
	struct http_session http;
	struct dns_stream dns[2];
};

/* The ports are the connection's two (either order). */
void tcp_app_init(struct tcp_app *a, bool midstream, bool http_forced, uint16_t port_a,
                  uint16_t port_b);

/* Whether bytes that start a connection's stream (or a packet of a connection not followed yet)
 * can begin a message this follows. */
bool tcp_app_can_start(const uint8_t *p, size_t n, uint16_t port_a, uint16_t port_b);

void tcp_app_data(struct tcp_app *a, const struct tcp_app_env *env, int dir, const uint8_t *p,
                  size_t n, uint64_t ts);
void tcp_app_gap(struct tcp_app *a, const struct tcp_app_env *env, int dir, size_t n, uint64_t ts);
void tcp_app_fin(struct tcp_app *a, const struct tcp_app_env *env, int dir, uint64_t ts);
void tcp_app_expire(struct tcp_app *a, const struct tcp_app_env *env, uint64_t now);
/* Reports what is pending (closed: the connection really ended) and frees everything. */
void tcp_app_close(struct tcp_app *a, const struct tcp_app_env *env, bool closed, uint64_t ts);
/* Frees without reporting. */
void tcp_app_free(struct tcp_app *a);

#endif
