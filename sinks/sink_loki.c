/* loki: the push API (POST /loki/api/v1/push, JSON). Events become log lines in streams keyed
 * by a few low-cardinality labels: Loki indexes labels, not lines, and a label that takes many
 * values (an IP, a pid, a path) makes a stream per value and brings it down. The line is the
 * whole event, to be read with LogQL's json parser.
 * https://grafana.com/docs/loki/latest/reference/loki-http-api/#ingest-logs */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sink_http.h"
#include "units.h"

/* The labels there are: each takes a handful of values. */
static const struct label {
	const char *name;
	const char *pattern; /* where the encoder writes its value; NULL: job= */
} labels[] = {
        {"job", NULL},
        {"host", "\"host\":{\"name\":\""},
        {"event_dataset", "\"dataset\":\""}, /* the first: event.dataset, early in every event */
        {"capture_source", "\"capture\":{\"source\":\""},
};
#define N_LABELS       (sizeof(labels) / sizeof(labels[0]))
#define DEFAULT_LABELS 0x7u /* job, host, event_dataset */

struct entry {
	const char *key; /* the stream's labels, as JSON: entries with equal keys share a stream */
	size_t key_len;
	uint64_t ts;
	uint32_t idx;
};

struct loki {
	unsigned labels; /* bit i: labels[i] */
	char *job;
	struct entry *entries;
	size_t cap;
	struct http_buf keys;
};

static int loki_option(struct http_sink *h, const char *key, const char *value)
{
	struct loki *l = http_sink_priv(h);

	if (strcmp(key, "job") == 0) {
		free(l->job);
		l->job = strdup(value);
		return l->job ? 1 : -ENOMEM;
	}
	if (strcmp(key, "labels") != 0)
		return 0;
	l->labels = 0;
	for (const char *p = value; *p;) {
		size_t n = strcspn(p, ","), i;

		for (i = 0; i < N_LABELS; i++)
			if (strlen(labels[i].name) == n && strncmp(labels[i].name, p, n) == 0)
				break;
		if (i == N_LABELS) {
			LOG(LOG_ERROR,
			    "sink '%s': unknown label '%.*s': labels= takes job, host, "
			    "event_dataset and capture_source, comma separated (IPs, pids and "
			    "paths would make a stream each: query them with | json instead)",
			    http_sink_spec(h), (int)n, p);
			return -EINVAL;
		}
		l->labels |= 1u << i;
		p += n + (p[n] == ',');
	}
	return 1;
}

static int loki_setup(struct http_sink *h)
{
	struct loki *l = http_sink_priv(h);

	if (!l->labels)
		l->labels = DEFAULT_LABELS;
	if (!l->job && !(l->job = strdup("l7collect")))
		return -ENOMEM;
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->key, y->key, n);

	if (c)
		return c;
	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx; /* equal times keep the queue's order */
}

static bool same_stream(const struct entry *a, const struct entry *b)
{
	return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

static void put_key(struct loki *l, const struct sink_record *r)
{
	bool first = true;

	hbuf_puts(&l->keys, "{");
	for (size_t i = 0; i < N_LABELS; i++) {
		const char *v = l->job;
		size_t n = strlen(l->job);

		if (!(l->labels & (1u << i)))
			continue;
		if (labels[i].pattern && !http_event_str(r, labels[i].pattern, &v, &n))
			continue; /* an event without it (a stats event has no capture) */
		hbuf_puts(&l->keys, first ? "\"" : ",\"");
		hbuf_puts(&l->keys, labels[i].name);
		hbuf_puts(&l->keys, "\":\"");
		/* The encoder's values are JSON-escaped already; job= is the user's text. */
		if (labels[i].pattern)
			hbuf_put(&l->keys, v, n);
		else
			hbuf_put_json(&l->keys, v, n);
		hbuf_puts(&l->keys, "\"");
		first = false;
	}
	hbuf_puts(&l->keys, "}");
}

static void loki_build(struct http_sink *h, struct http_buf *body, const struct sink_record *recs,
                       const uint32_t *idx, size_t k)
{
	struct loki *l = http_sink_priv(h);
	uint64_t now = clock_ns(CLOCK_REALTIME);
	size_t *offs;
	char ts[24];

	if (k > l->cap) {
		struct entry *e = realloc(l->entries, k * sizeof(*e));

		if (!e) {
			body->oom = true;
			return;
		}
		l->entries = e;
		l->cap = k;
	}
	/* Keys first (the buffer may move while it grows), pointers into it after. */
	offs = calloc(k, sizeof(*offs));
	if (!offs) {
		body->oom = true;
		return;
	}
	hbuf_reset(&l->keys);
	for (size_t j = 0; j < k; j++) {
		const struct sink_record *r = &recs[idx[j]];
		uint64_t t = http_event_time_ns(r);

		offs[j] = l->keys.len;
		put_key(l, r);
		l->entries[j] = (struct entry){NULL, l->keys.len - offs[j], t ? t : now, idx[j]};
	}
	for (size_t j = 0; j < k; j++)
		l->entries[j].key = l->keys.p + offs[j];
	free(offs);
	if (l->keys.oom) {
		body->oom = true;
		return;
	}
	/* Loki wants each stream's entries in time order. */
	qsort(l->entries, k, sizeof(*l->entries), entry_cmp);
	hbuf_puts(body, "{\"streams\":[");
	for (size_t j = 0; j < k; j++) {
		const struct entry *e = &l->entries[j];
		const struct sink_record *r = &recs[e->idx];

		if (j == 0 || !same_stream(e, e - 1)) {
			hbuf_puts(body, j ? "]},{\"stream\":" : "{\"stream\":");
			hbuf_put(body, e->key, e->key_len);
			hbuf_puts(body, ",\"values\":[");
		} else {
			hbuf_puts(body, ",");
		}
		snprintf(ts, sizeof(ts), "%llu", (unsigned long long)e->ts);
		hbuf_puts(body, "[\"");
		hbuf_puts(body, ts);
		hbuf_puts(body, "\",\"");
		hbuf_put_json(body, r->data, r->len - (r->len && r->data[r->len - 1] == '\n'));
		hbuf_puts(body, "\"]");
	}
	hbuf_puts(body, k ? "]}]}" : "]}");
}

static void loki_release(struct http_sink *h)
{
	struct loki *l = http_sink_priv(h);

	free(l->job);
	free(l->entries);
	free(l->keys.p);
}

static const struct http_flavour loki_flavour = {
        .path = "/loki/api/v1/push",
        .content_type = "application/json",
        .priv_size = sizeof(struct loki),
        .option = loki_option,
        .setup = loki_setup,
        .build = loki_build,
        .release = loki_release,
};

static int loki_init(struct sink *s, const char *arg, const struct sink_option *opts, size_t n_opts)
{
	return http_sink_init(s, arg, opts, n_opts, &loki_flavour);
}

const struct sink_ops sink_loki = {
        .name = "loki",
        .usage = "                             loki:URL      the push API; labels=job,host,\n"
                 "                               event_dataset (and capture_source), job=NAME\n"
                 "                               (l7collect); "
                 "header=X-Scope-OrgID:TENANT\n" HTTP_SINK_USAGE,
        .init = loki_init,
        .write = http_sink_write,
        .flush = http_sink_flush,
        .close = http_sink_close,
        .stats = http_sink_stats,
};
