/* The sink interface: one const struct sink_ops per sink, in its own file, listed in registry.c.
 * A sink only writes: queueing, batching, retries with backoff, drop accounting and its thread
 * belong to the pipeline, which calls these functions from that sink's thread alone. A sink
 * that pays per call (HTTP) says how large a batch it wants, how long to wait before a retry
 * and which events the far end refused, through the fields at the end of struct sink. */
#ifndef L7_SINK_H
#define L7_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

enum sink_result {
	SINK_OK = 0,     /* everything written */
	SINK_RETRY = 1,  /* a passing failure (full disk, busy server): call again with the same
	                    batch after a backoff; the sink remembers how far it got */
	SINK_ERROR = -1, /* the batch cannot be delivered: counted as dropped */
};

enum sink_format {
	SINK_FORMAT_JSON, /* NDJSON lines */
	SINK_FORMAT_TEXT, /* one line for people */
};

/* One encoded event, newline included. */
struct sink_record {
	const char *data;
	size_t len;
};

/* Adds len bytes at p to iov[0..*k): the last entry grows when p follows it in memory (the
 * pipeline packs the events it encodes back to back), so a batch goes to the kernel in a few
 * large pieces; a writev of many small ones cost the collector a fifth more in the kernel.
 * False when p needs an entry of its own and all max are taken. */
static inline bool sink_iov_add(struct iovec *iov, int *k, int max, const char *p, size_t len)
{
	if (*k && (const char *)iov[*k - 1].iov_base + iov[*k - 1].iov_len == p) {
		iov[*k - 1].iov_len += len;
		return true;
	}
	if (*k == max)
		return false;
	iov[(*k)++] = (struct iovec){(void *)p, len};
	return true;
}

/* key=value options after '?' in a sink spec that the pipeline did not consume. */
struct sink_option {
	char *key;
	char *value;
};

struct sink;

struct sink_ops {
	const char *name;  /* the spec prefix: "stdout" */
	const char *usage; /* lines for --help */
	/* arg: the text after "name:" (NULL if none). Sets s->format and s->priv. Returns 0, or
	 * -EINVAL after logging what is wrong with the spec. */
	int (*init)(struct sink *s, const char *arg, const struct sink_option *opts, size_t n_opts);
	enum sink_result (*write)(struct sink *s, const struct sink_record *recs, size_t n);
	enum sink_result (*flush)(struct sink *s);
	void (*close)(struct sink *s);
	void (*reopen)(struct sink *s); /* SIGHUP; NULL when there is nothing to reopen */
	/* Counters of the sink's own (rotations, dead letters, HTTP statuses), added to its stats
	 * group with add(ctx, name, value). Called from the capture thread while the sink's thread
	 * runs: read counters with __atomic_load_n and write them with __atomic_fetch_add
	 * (relaxed). NULL when the pipeline's counters say it all. */
	void (*stats)(struct sink *s, void (*add)(void *ctx, const char *name, uint64_t value),
	              void *ctx);
};

struct sink {
	const struct sink_ops *ops;
	char *spec; /* as the user wrote it, for messages and stats */
	enum sink_format format;
	void *priv;
	/* Batching, set by init for sinks that pay per call (an HTTP request): write gets a batch
	 * once batch_events events or batch_bytes bytes are queued, or the oldest has waited
	 * batch_delay_ns. 0 everywhere: whatever is queued, up to the pipeline's default. */
	uint32_t batch_events;
	uint64_t batch_bytes;
	uint64_t batch_delay_ns;
	/* Set by the pipeline before each write: 0 for a new batch, then 1, 2... for the same batch
	 * after each SINK_RETRY (the sink keeps its progress and picks its backoff from it). */
	unsigned attempt;
	/* Set by write before SINK_RETRY: wait this long before the next call (a server's
	 * Retry-After, a jittered backoff); 0 leaves the wait to the pipeline's backoff. */
	uint64_t retry_ns;
	/* Set by write before SINK_OK: how many events of the batch the far end refused for good
	 * (the sink dead-letters and counts them); the pipeline counts them as dropped_error. */
	size_t rejected;
	/* CLOCK_MONOTONIC time by which a closing pipeline needs write to return; 0 while running.
	 * Written by another thread: a sink that waits on the network reads it with
	 * __atomic_load_n while it waits, and returns SINK_RETRY when it passes. */
	uint64_t deadline_ns;
};

/* Registry (registry.c). */
const struct sink_ops *sink_lookup(const char *name);
/* Every sink's usage, for --help. */
void sink_print_usage(void);

extern const struct sink_ops sink_stdout;
extern const struct sink_ops sink_file;
extern const struct sink_ops sink_http;
extern const struct sink_ops sink_elasticsearch;
extern const struct sink_ops sink_loki;

#endif
