/* The sink interface: one const struct sink_ops per sink, in its own file, listed in registry.c.
 * A sink only writes: queueing, batching, retries with backoff, drop accounting and its thread
 * belong to the pipeline, which calls these functions from that sink's thread alone. */
#ifndef L7_SINK_H
#define L7_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
};

/* Registry (registry.c). */
const struct sink_ops *sink_lookup(const char *name);
/* Every sink's usage, for --help. */
void sink_print_usage(void);

extern const struct sink_ops sink_stdout;

#endif
