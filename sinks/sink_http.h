/* The HTTP sinks' shared core (sink_http_core.c): options, libcurl transport, gzip, auth, TLS,
 * retries with jittered backoff and Retry-After, per-item progress across retries, the
 * dead-letter file and the counters. A flavour (http, elasticsearch, loki) only builds request
 * bodies and, where the server answers per item, reads the response.
 *
 * One batch, many requests: the pipeline hands write() a batch and calls it again with the same
 * batch after SINK_RETRY. The core remembers which of its events are settled (delivered, or
 * refused and dead-lettered) and sends only the others, so a bulk response that refuses some
 * items with 429 or 5xx makes the next request carry those items alone. */
#ifndef L7_SINK_HTTP_H
#define L7_SINK_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sink.h"

struct http_buf {
	char *p;
	size_t len, cap;
	bool oom; /* an append failed: the buffer is unusable until reset */
};

void hbuf_reset(struct http_buf *b);
void hbuf_put(struct http_buf *b, const void *data, size_t n);
void hbuf_puts(struct http_buf *b, const char *s);
/* s as the inside of a JSON string (quotes and backslashes escaped). */
void hbuf_put_json(struct http_buf *b, const char *s, size_t n);

/* What the server said about one item of a request. */
enum http_item {
	HTTP_ITEM_OK,       /* stored */
	HTTP_ITEM_CONFLICT, /* 409: stored by an earlier request whose answer was lost */
	HTTP_ITEM_RETRY_429,
	HTTP_ITEM_RETRY_5XX,
	HTTP_ITEM_REJECTED, /* refused for good: dead-lettered */
};

struct http_sink;

struct http_flavour {
	const char *path;         /* appended to the URL the user gave */
	const char *content_type; /* of the request body */
	size_t priv_size;         /* zeroed state for the flavour, at http_sink_priv() */
	/* A flavour option: 1 taken, 0 not the flavour's, -EINVAL after logging. */
	int (*option)(struct http_sink *h, const char *key, const char *value);
	/* Defaults and checks once every option is read: 0 or -EINVAL/-ENOMEM after logging. */
	int (*setup)(struct http_sink *h);
	/* Appends the body carrying recs[idx[0]], ..., recs[idx[k - 1]] to body. */
	void (*build)(struct http_sink *h, struct http_buf *body, const struct sink_record *recs,
	              const uint32_t *idx, size_t k);
	/* Reads a 2xx answer into out[0..k-1], one per item sent, in order: 0, or -EPROTO when
	 * the answer cannot be read (the whole request is retried). NULL: a 2xx stores all. */
	int (*response)(struct http_sink *h, const char *body, size_t len, enum http_item *out,
	                size_t k);
	void (*release)(struct http_sink *h); /* frees what option and setup allocated */
};

/* The sink_ops functions every flavour shares; init is the flavour's, calling http_sink_init. */
int http_sink_init(struct sink *s, const char *arg, const struct sink_option *opts, size_t n_opts,
                   const struct http_flavour *fl);
enum sink_result http_sink_write(struct sink *s, const struct sink_record *recs, size_t n);
enum sink_result http_sink_flush(struct sink *s);
void http_sink_close(struct sink *s);
void http_sink_stats(struct sink *s, void (*add)(void *ctx, const char *name, uint64_t value),
                     void *ctx);

void *http_sink_priv(struct http_sink *h);
const char *http_sink_spec(const struct http_sink *h);

/* Usage lines every HTTP sink shares, for --help. */
#define HTTP_SINK_USAGE                                                                            \
	"                             HTTP sinks take: batch=EVENTS (1000), batch_bytes=SIZE "     \
	"(5M),\n"                                                                                  \
	"                             flush=SEC (1), gzip=0|1 (1), timeout=SEC (30),\n"            \
	"                             connect_timeout=SEC (10), retry_min=SEC (1),\n"              \
	"                             retry_max=SEC (30), dead_letter=PATH, header=Name:Value,\n"  \
	"                             ca=PEM, cert=PEM, key=PEM, insecure=1 (no TLS checks),\n"    \
	"                             user=NAME with password_env=VAR or password_file=PATH,\n"    \
	"                             token_env=VAR or token_file=PATH (Bearer),\n"                \
	"                             api_key_env=VAR or api_key_file=PATH (Elasticsearch)\n"

/* Fields of an encoded event (our encoder's layout, not a general JSON reader). */
/* The nanoseconds of "@timestamp", or 0 when the record has none. */
uint64_t http_event_time_ns(const struct sink_record *r);
/* The JSON-escaped text of the first string value after pattern (e.g. "\"dataset\":\""), which
 * must end with the value's opening quote. false when absent. */
bool http_event_str(const struct sink_record *r, const char *pattern, const char **val,
                    size_t *len);

#endif
