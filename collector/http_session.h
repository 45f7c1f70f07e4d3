/* One HTTP/1.x connection: a framer per direction, and the requests waiting for their responses.
 * Pairs them in order (pipelining included), skips 1xx interim responses, lets a response that
 * finishes before its request (a server answering early) wait for it, and reports each exchange,
 * or a request that never got an answer, through the caller's emit function. */
#ifndef L7_HTTP_SESSION_H
#define L7_HTTP_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "http_stream.h"

/* One exchange as the session reports it; the caller adds the connection's identity. */
struct http_report {
	int client_dir;               /* the direction (0 or 1) that carried the request */
	const struct http_head *req;  /* never NULL */
	const struct http_head *resp; /* NULL: no response */
	uint64_t ts_start;            /* first request byte */
	uint64_t ts_end;              /* last response byte, or last request byte */
	uint64_t req_bytes, req_body_bytes;
	uint64_t resp_bytes, resp_body_bytes;
	bool truncated;
};

struct http_session_env {
	const struct http_cfg *cfg;
	void (*emit)(void *ctx, const struct http_report *r);
	void *ctx;
};

struct http_req; /* private: a request waiting for its response */

/* Storage of answered requests, reused by the next ones of any session sharing an http_cfg
 * (one table's). At most HTTP_SPARES_MAX are kept, each about 2 KB and its header block's copy
 * if that is no longer than HTTP_SPARE_RAW_MAX. */
#define HTTP_SPARES_MAX    64
#define HTTP_SPARE_RAW_MAX 4096

struct http_spares {
	struct http_req *list;
	uint32_t n;
};

void http_spares_free(struct http_spares *sp);

struct http_session {
	struct http_stream dir[2];
	struct http_req *oldest; /* waiting requests, oldest first */
	struct http_req *newest;
	uint16_t n_pending;
	int8_t client_dir; /* -1 until the first message says */
};

void http_session_init(struct http_session *s);

/* The connection was open before capture began: both directions start at their next message. */
void http_session_midstream(struct http_session *s);

/* Joined midstream, and neither direction has found a message start yet. */
bool http_session_hunting(const struct http_session *s);

void http_session_data(struct http_session *s, const struct http_session_env *env, int dir,
                       const uint8_t *p, size_t n, uint64_t ts);
void http_session_gap(struct http_session *s, const struct http_session_env *env, int dir, size_t n,
                      uint64_t ts);
/* One direction finished sending (FIN). */
void http_session_fin(struct http_session *s, const struct http_session_env *env, int dir,
                      uint64_t ts);
/* Reports requests unanswered for longer than cfg->response_timeout_ns. */
void http_session_expire(struct http_session *s, const struct http_session_env *env, uint64_t now);
/* We stop watching: reports what is left (closed: the connection really ended) and frees. */
void http_session_close(struct http_session *s, const struct http_session_env *env, bool closed,
                        uint64_t ts);
/* Frees everything without reporting (teardown after the sinks are gone). */
void http_session_free(struct http_session *s);

#endif
