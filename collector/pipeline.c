#include "pipeline.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mono_cond.h"
#include "sink.h"
#include "units.h"

#define BATCH_DEFAULT        512 /* events per write for sinks that set no batch_events */
#define WAKE_BATCH           256 /* queued events that wake a waiting sink thread */
#define STAGE_MAX            64  /* events the capture thread queues under one lock */
#define DEFAULT_QUEUE_EVENTS 65536
#define DEFAULT_QUEUE_BYTES  (64ull << 20)
#define BACKOFF_MIN_NS       100000000ull  /* 100 ms */
#define BACKOFF_MAX_NS       5000000000ull /* 5 s */
#define KICK_NS              10000000ull   /* 10 ms: how often a kick wakes sinks for less */

/* Encoded events are packed into chunks of REC_CHUNK_BYTES, each freed when the last sink is done
 * with its last record. A malloc per event, freed by a sink thread, had the two threads meet on
 * glibc's arena lock: futex wake-ups, about a tenth of the collector's CPU at saturation. */
#define REC_CHUNK_BYTES (64u << 10)

/* While the encoder fills a chunk, its count holds FILL_BIAS besides the references released so
 * far, so no release can free it; the encoder counts the references it hands out (p->handed) and
 * settles both in one step when it moves on (chunk_retire). An atomic add per event on the line
 * the sink threads release on moved that line between the CPUs twice per event. */
#define FILL_BIAS (1u << 30)

struct rec_chunk {
	/* Records staged or queued for a sink and not yet released (see FILL_BIAS). Alone on its
	 * cache line: the encoder writes the records after it, the sink threads this count. */
	atomic_uint refs;
	_Alignas(64) char mem[];
};

/* One encoded event, shared by every sink that takes its format. In its chunk the headers grow
 * down from the end and the events up from the start, each right after the one encoded before
 * it: the file and stdout sinks hand a run of them to the kernel as one piece (sink_iov_add). */
struct out_rec {
	struct rec_chunk *chunk;
	char *data;
	uint32_t len;
};

struct sink_counters {
	uint64_t queued;
	uint64_t written;
	uint64_t written_bytes;
	uint64_t dropped_full;     /* queue full (when_full=drop) */
	uint64_t dropped_error;    /* the sink could not deliver */
	uint64_t dropped_shutdown; /* still retrying when the shutdown deadline passed */
	uint64_t retries;
};

struct slot {
	struct sink sink;
	char *stats_group;
	pthread_t thread;
	bool started;
	/* Everything below is guarded by mu. */
	pthread_mutex_t mu;
	pthread_cond_t items; /* something queued, or closing */
	pthread_cond_t space; /* something dequeued, or closing */
	struct out_rec **ring;
	uint32_t cap, head;
	uint32_t count; /* changed under mu with set_count; read without it by has_room */
	uint64_t bytes, max_bytes;
	bool block;
	bool closing, reopen;
	bool finished;     /* the thread is done (guarded by the pipeline's done_mu) */
	bool waiting;      /* the sink thread sleeps on items */
	uint64_t deadline; /* CLOCK_MONOTONIC, once closing */
	struct sink_counters c;
	struct pipeline *p;
	/* The sink thread's own: the batch being delivered, batch_max long. */
	struct out_rec **batch;
	struct sink_record *recs;
	uint32_t batch_max;
	/* Queued events (or bytes) that wake the waiting sink thread: a batch's worth. */
	uint32_t wake_events;
	uint64_t wake_bytes;
	/* The capture thread's own: events encoded for this sink, queued together (stage_flush),
	 * each holding a reference. Taking mu per event had the two threads contend for it. */
	struct out_rec *staged[STAGE_MAX];
	uint32_t n_staged;
};

struct pipeline {
	struct slot **slots;
	size_t n;
	struct encode_opts enc;
	struct jw out[2];             /* encoding buffers, one per enum sink_format */
	struct rec_chunk *filling;    /* where the next encoded event goes */
	uint32_t fill_used, fill_top; /* events below fill_used, headers from fill_top up */
	uint32_t handed;              /* references to filling handed to sinks */
	bool want[2];
	uint64_t encode_errors;
	uint64_t kicked_ns; /* CLOCK_MONOTONIC of the last kick that woke the sinks */
	pthread_mutex_t done_mu;
	pthread_cond_t done_cv;
	size_t n_done;
};

static void set_count(struct slot *sl, uint32_t v)
{
	__atomic_store_n(&sl->count, v, __ATOMIC_RELAXED);
}

/* Read without the lock by the capture thread, the only producer: only the sink thread makes
 * room, so a stale answer can only call a queue full that just got room (a counted drop). */
static bool has_room(struct slot *sl)
{
	return sl->block || __atomic_load_n(&sl->count, __ATOMIC_RELAXED) + sl->n_staged < sl->cap;
}

struct pipeline *pipeline_new(const struct encode_opts *enc)
{
	struct pipeline *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->enc = *enc;
	jw_init(&p->out[SINK_FORMAT_JSON]);
	jw_init(&p->out[SINK_FORMAT_TEXT]);
	pthread_mutex_init(&p->done_mu, NULL);
	mono_cond_init(&p->done_cv);
	return p;
}

static void chunk_release(struct rec_chunk *c, uint32_t n)
{
	if (atomic_fetch_sub_explicit(&c->refs, n, memory_order_acq_rel) == n)
		free(c);
}

static void rec_release(struct out_rec *r)
{
	chunk_release(r->chunk, 1);
}

/* n records, released with one atomic step per run of records from the same chunk. */
static void recs_release(struct out_rec **recs, size_t n)
{
	for (size_t i = 0; i < n;) {
		struct rec_chunk *c = recs[i]->chunk;
		uint32_t k = 0;

		for (; i < n && recs[i]->chunk == c; i++)
			k++;
		chunk_release(c, k);
	}
}

/* The encoder is done with the chunk it filled: its bias gives way to the references it handed
 * out, and the chunk is freed now if every one of them has been released. */
static void chunk_retire(struct pipeline *p)
{
	if (p->filling)
		chunk_release(p->filling, FILL_BIAS - p->handed);
	p->filling = NULL;
	p->handed = 0;
}

/* Room for an encoded event of len bytes, in the chunk being filled or a new one (its own, when
 * it is larger than a chunk). It stays valid while its chunk is the one being filled: the caller
 * stages it (a reference per sink) before allocating again. */
static struct out_rec *rec_alloc(struct pipeline *p, uint32_t len)
{
	uint32_t need = len + (uint32_t)sizeof(struct out_rec);
	struct out_rec *r;

	if (!p->filling || p->fill_top - p->fill_used < need) {
		/* A multiple of 8, so the headers stacked down from the end stay aligned. */
		uint32_t cap = need > REC_CHUNK_BYTES ? (need + 7) & ~7u : REC_CHUNK_BYTES;
		struct rec_chunk *c = malloc(sizeof(*c) + cap);

		if (!c)
			return NULL;
		atomic_init(&c->refs, FILL_BIAS);
		chunk_retire(p);
		p->filling = c;
		p->fill_used = 0;
		p->fill_top = cap;
	}
	p->fill_top -= (uint32_t)sizeof(struct out_rec);
	r = (struct out_rec *)(p->filling->mem + p->fill_top);
	r->chunk = p->filling;
	r->data = p->filling->mem + p->fill_used;
	r->len = len;
	p->fill_used += len;
	return r;
}

/* Splits "name:arg?k=v&k=v" in place. */
static int split_spec(char *s, char **arg, struct sink_option *opts, size_t *n_opts)
{
	char *q = strchr(s, '?'), *colon;

	*n_opts = 0;
	if (q) {
		*q++ = '\0';
		for (char *kv = strtok(q, "&"); kv; kv = strtok(NULL, "&")) {
			char *eq = strchr(kv, '=');

			if (!eq || eq == kv || *n_opts == 16)
				return -EINVAL;
			*eq = '\0';
			opts[(*n_opts)++] = (struct sink_option){kv, eq + 1};
		}
	}
	colon = strchr(s, ':');
	*arg = NULL;
	if (colon) {
		*colon = '\0';
		*arg = colon + 1;
	}
	return 0;
}

/* Takes the options the pipeline handles out of opts; returns 0 or -EINVAL. */
static int queue_options(struct slot *sl, struct sink_option *opts, size_t *n_opts)
{
	uint64_t events = DEFAULT_QUEUE_EVENTS;
	size_t kept = 0;

	sl->max_bytes = DEFAULT_QUEUE_BYTES;
	for (size_t i = 0; i < *n_opts; i++) {
		const char *k = opts[i].key, *v = opts[i].value;
		int rc = 0;

		if (strcmp(k, "queue") == 0)
			rc = parse_uint(v, 1, 1u << 24, &events);
		else if (strcmp(k, "queue_bytes") == 0)
			rc = parse_size(v, &sl->max_bytes);
		else if (strcmp(k, "when_full") == 0 && strcmp(v, "drop") == 0)
			sl->block = false;
		else if (strcmp(k, "when_full") == 0 && strcmp(v, "block") == 0)
			sl->block = true;
		else if (strcmp(k, "when_full") == 0)
			rc = -EINVAL;
		else
			opts[kept++] = opts[i];
		if (rc) {
			LOG(LOG_ERROR,
			    "sink '%s': bad value '%s' for %s (queue=EVENTS, queue_bytes=SIZE such "
			    "as 64M, when_full=drop|block)",
			    sl->sink.spec, v, k);
			return -EINVAL;
		}
	}
	*n_opts = kept;
	sl->cap = (uint32_t)events;
	return 0;
}

static void slot_free(struct slot *sl)
{
	while (sl->count) {
		rec_release(sl->ring[sl->head]);
		sl->head = (sl->head + 1) % sl->cap;
		set_count(sl, sl->count - 1);
	}
	free(sl->ring);
	free(sl->batch);
	free(sl->recs);
	free(sl->sink.spec);
	free(sl->stats_group);
	pthread_mutex_destroy(&sl->mu);
	pthread_cond_destroy(&sl->items);
	pthread_cond_destroy(&sl->space);
	free(sl);
}

/* "sink_<name>", with a number from the second sink of a kind on. */
static char *stats_group(struct pipeline *p, const char *name)
{
	char buf[64];
	int same = 0;

	for (size_t i = 0; i < p->n; i++)
		same += strcmp(p->slots[i]->sink.ops->name, name) == 0;
	if (same)
		snprintf(buf, sizeof(buf), "sink_%s_%d", name, same + 1);
	else
		snprintf(buf, sizeof(buf), "sink_%s", name);
	return strdup(buf);
}

int pipeline_add_sink(struct pipeline *p, const char *spec, bool block_default)
{
	struct sink_option opts[16];
	size_t n_opts;
	char *copy = strdup(spec), *arg;
	struct slot *sl = calloc(1, sizeof(*sl));
	struct slot **grown;
	int rc = -EINVAL;

	if (!copy || !sl)
		goto fail;
	pthread_mutex_init(&sl->mu, NULL);
	mono_cond_init(&sl->items);
	mono_cond_init(&sl->space);
	sl->p = p;
	sl->block = block_default;
	sl->sink.spec = strdup(spec);
	if (split_spec(copy, &arg, opts, &n_opts) != 0) {
		LOG(LOG_ERROR, "sink '%s': options go after '?' as key=value pairs joined by '&'",
		    spec);
		goto fail;
	}
	sl->sink.ops = sink_lookup(copy);
	if (!sl->sink.ops) {
		LOG(LOG_ERROR, "unknown sink '%s' in '%s': see --help for the sinks there are",
		    copy, spec);
		goto fail;
	}
	if (queue_options(sl, opts, &n_opts) != 0)
		goto fail;
	rc = sl->sink.ops->init(&sl->sink, arg, opts, n_opts);
	if (rc != 0)
		goto fail;
	sl->ring = calloc(sl->cap, sizeof(*sl->ring));
	sl->batch_max = sl->sink.batch_events ? sl->sink.batch_events : BATCH_DEFAULT;
	sl->wake_events = sl->sink.batch_events ? sl->sink.batch_events : WAKE_BATCH;
	sl->wake_bytes = sl->sink.batch_bytes ? sl->sink.batch_bytes : UINT64_MAX;
	sl->batch = calloc(sl->batch_max, sizeof(*sl->batch));
	sl->recs = calloc(sl->batch_max, sizeof(*sl->recs));
	sl->stats_group = stats_group(p, sl->sink.ops->name);
	grown = realloc(p->slots, (p->n + 1) * sizeof(*p->slots));
	if (!sl->ring || !sl->batch || !sl->recs || !sl->stats_group || !grown) {
		if (grown)
			p->slots = grown;
		sl->sink.ops->close(&sl->sink);
		rc = -ENOMEM;
		goto fail;
	}
	p->slots = grown;
	p->slots[p->n++] = sl;
	p->want[sl->sink.format] = true;
	free(copy);
	return 0;
fail:
	if (sl)
		slot_free(sl);
	free(copy);
	return rc;
}

/* Hands a batch to the sink, retrying passing failures after the wait the sink asks for (or an
 * exponential backoff) until it works or the shutdown deadline passes. Called with sl->mu held;
 * drops it while writing. */
static void deliver(struct slot *sl, size_t n)
{
	struct sink_record *recs = sl->recs;
	uint64_t backoff = BACKOFF_MIN_NS, bytes = 0, now, until;

	for (size_t i = 0; i < n; i++) {
		recs[i] = (struct sink_record){sl->batch[i]->data, sl->batch[i]->len};
		bytes += sl->batch[i]->len;
	}
	for (sl->sink.attempt = 0;; sl->sink.attempt++) {
		enum sink_result r;

		if (sl->reopen && sl->sink.ops->reopen) {
			sl->reopen = false;
			pthread_mutex_unlock(&sl->mu);
			sl->sink.ops->reopen(&sl->sink);
			pthread_mutex_lock(&sl->mu);
		}
		sl->sink.retry_ns = 0;
		sl->sink.rejected = 0;
		pthread_mutex_unlock(&sl->mu);
		r = sl->sink.ops->write(&sl->sink, recs, n);
		pthread_mutex_lock(&sl->mu);
		if (r == SINK_OK) {
			size_t bad = sl->sink.rejected < n ? sl->sink.rejected : n;

			sl->c.written += n - bad;
			sl->c.written_bytes += bytes;
			sl->c.dropped_error += bad;
			return;
		}
		if (r == SINK_ERROR) {
			sl->c.dropped_error += n;
			return;
		}
		sl->c.retries++;
		now = clock_ns(CLOCK_MONOTONIC);
		until = now + (sl->sink.retry_ns ? sl->sink.retry_ns : backoff);
		backoff = backoff * 2 < BACKOFF_MAX_NS ? backoff * 2 : BACKOFF_MAX_NS;
		/* Woken early only by closing: from then on the deadline bounds the wait too. */
		while (now < until && !(sl->closing && now >= sl->deadline)) {
			mono_cond_wait_until(&sl->items, &sl->mu,
			                     sl->closing && sl->deadline < until ? sl->deadline
			                                                         : until);
			now = clock_ns(CLOCK_MONOTONIC);
		}
		if (sl->closing && now >= sl->deadline) {
			sl->c.dropped_shutdown += n;
			return;
		}
	}
}

/* Whether the queue holds a batch worth a write: always for sinks that do not batch; for those
 * that do, a full batch, the oldest event's wait over (since = when this thread first saw it),
 * or closing. */
static bool batch_ready(struct slot *sl, uint64_t since)
{
	const struct sink *s = &sl->sink;

	/* A queue smaller than a batch (events or half its bytes) must not wait for one. */
	return !s->batch_events || sl->closing || sl->count >= s->batch_events ||
	       sl->count == sl->cap || sl->bytes * 2 >= sl->max_bytes ||
	       (s->batch_bytes && sl->bytes >= s->batch_bytes) ||
	       clock_ns(CLOCK_MONOTONIC) >= since + s->batch_delay_ns;
}

static void *sink_thread(void *arg)
{
	struct slot *sl = arg;
	uint64_t batch_bytes = sl->sink.batch_bytes ? sl->sink.batch_bytes : UINT64_MAX;

	pthread_mutex_lock(&sl->mu);
	for (;;) {
		size_t n = 0;
		uint64_t since, bytes = 0;

		while (!sl->count && !sl->closing) {
			sl->waiting = true;
			pthread_cond_wait(&sl->items, &sl->mu);
			sl->waiting = false;
		}
		if (!sl->count)
			break; /* closing, and everything delivered */
		since = clock_ns(CLOCK_MONOTONIC);
		while (!batch_ready(sl, since)) {
			sl->waiting = true;
			mono_cond_wait_until(&sl->items, &sl->mu, since + sl->sink.batch_delay_ns);
			sl->waiting = false;
		}
		/* The first event always goes, even one larger than batch_bytes. */
		while (n < sl->batch_max && sl->count &&
		       (!n || bytes + sl->ring[sl->head]->len <= batch_bytes)) {
			sl->batch[n] = sl->ring[sl->head];
			bytes += sl->batch[n]->len;
			sl->bytes -= sl->batch[n]->len;
			sl->head = (sl->head + 1) % sl->cap;
			set_count(sl, sl->count - 1);
			n++;
		}
		pthread_cond_broadcast(&sl->space);
		deliver(sl, n);
		bool idle = !sl->count;

		pthread_mutex_unlock(&sl->mu);
		recs_release(sl->batch, n);
		if (idle)
			sl->sink.ops->flush(&sl->sink);
		pthread_mutex_lock(&sl->mu);
	}
	pthread_mutex_unlock(&sl->mu);
	sl->sink.ops->flush(&sl->sink);
	sl->sink.ops->close(&sl->sink);
	pthread_mutex_lock(&sl->p->done_mu);
	sl->finished = true;
	sl->p->n_done++;
	pthread_cond_broadcast(&sl->p->done_cv);
	pthread_mutex_unlock(&sl->p->done_mu);
	return NULL;
}

int pipeline_start(struct pipeline *p)
{
	for (size_t i = 0; i < p->n; i++) {
		int rc = pthread_create(&p->slots[i]->thread, NULL, sink_thread, p->slots[i]);

		if (rc)
			return -rc;
		p->slots[i]->started = true;
	}
	return 0;
}

/* Under mu. Once signalled, the thread is no longer counted as waiting: the events queued before
 * it runs would otherwise each signal again, a futex call apiece. */
static void wake_sink(struct slot *sl)
{
	pthread_cond_signal(&sl->items);
	sl->waiting = false;
}

/* Under mu: one staged event into the queue, or dropped (its reference released) when the queue
 * is full and may not block, or blocks no longer: past until (CLOCK_MONOTONIC, 0 for never), or
 * once closing. */
static void enqueue(struct slot *sl, struct out_rec *r, uint64_t until)
{
	while (sl->count == sl->cap || sl->bytes + r->len > sl->max_bytes) {
		if (!sl->block || sl->closing || (until && clock_ns(CLOCK_MONOTONIC) >= until)) {
			sl->c.dropped_full++;
			rec_release(r);
			return;
		}
		if (sl->waiting) /* full of bytes with fewer than wake_events events */
			wake_sink(sl);
		if (until)
			mono_cond_wait_until(&sl->space, &sl->mu, until);
		else
			pthread_cond_wait(&sl->space, &sl->mu);
	}
	sl->ring[(sl->head + sl->count) % sl->cap] = r;
	set_count(sl, sl->count + 1);
	sl->bytes += r->len;
	sl->c.queued++;
}

/* Under mu. */
static void queue_staged(struct slot *sl, uint64_t until)
{
	for (uint32_t i = 0; i < sl->n_staged; i++)
		enqueue(sl, sl->staged[i], until);
	sl->n_staged = 0;
}

/* Queues what the capture thread staged. Waking the sink thread per event costs a futex call
 * and a context switch each: it is woken for a batch, or with kick for whatever is queued. */
static void stage_flush(struct slot *sl, bool kick, uint64_t until)
{
	pthread_mutex_lock(&sl->mu);
	queue_staged(sl, until);
	if (sl->waiting && sl->count &&
	    (kick || sl->count >= sl->wake_events || sl->bytes >= sl->wake_bytes ||
	     sl->count == sl->cap))
		wake_sink(sl);
	pthread_mutex_unlock(&sl->mu);
}

static void stage(struct slot *sl, struct out_rec *r)
{
	sl->p->handed++; /* r is in the chunk being filled */
	sl->staged[sl->n_staged++] = r;
	if (sl->n_staged == STAGE_MAX)
		stage_flush(sl, false, 0);
}

static struct out_rec *encode(struct pipeline *p, enum sink_format fmt, const struct l7_event *ev)
{
	struct jw *w = &p->out[fmt];
	struct out_rec *r;
	int rc;

	jw_reset(w);
	rc = fmt == SINK_FORMAT_JSON ? encode_json(w, ev, &p->enc) : encode_text(w, ev, &p->enc);
	if (rc || w->len > UINT32_MAX - REC_CHUNK_BYTES || !(r = rec_alloc(p, (uint32_t)w->len))) {
		p->encode_errors++;
		return NULL;
	}
	memcpy(r->data, w->buf, w->len);
	return r;
}

void pipeline_submit(struct pipeline *p, const struct l7_event *ev)
{
	bool room[2] = {false, false};

	/* Encoding is most of an event's cost: an event no queue of that format has room for is
	 * counted as dropped without being encoded. */
	for (size_t i = 0; i < p->n; i++)
		room[p->slots[i]->sink.format] |= has_room(p->slots[i]);
	for (int f = 0; f < 2; f++) {
		/* r is in the chunk being filled, which the encoder holds: it is staged for its
		 * sinks (each staging a reference) before the next encoding may start a chunk. */
		struct out_rec *r =
		        p->want[f] && room[f] ? encode(p, (enum sink_format)f, ev) : NULL;

		for (size_t i = 0; i < p->n; i++) {
			struct slot *sl = p->slots[i];

			if (sl->sink.format != (enum sink_format)f)
				continue;
			if (r) {
				stage(sl, r);
			} else if (!room[f]) {
				pthread_mutex_lock(&sl->mu);
				sl->c.dropped_full++;
				pthread_mutex_unlock(&sl->mu);
			}
		}
	}
}

/* Queues every round, wakes for less than a batch every KICK_NS: the capture thread reads the
 * rings every millisecond while records flow, and a wake-up and a short write per round were a
 * tenth of the collector's CPU at 25% load (README, "Reading the rings every millisecond"). */
void pipeline_kick(struct pipeline *p)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	bool wake = now >= p->kicked_ns + KICK_NS;

	if (wake)
		p->kicked_ns = now;
	for (size_t i = 0; i < p->n; i++)
		stage_flush(p->slots[i], wake, 0);
}

void pipeline_reopen(struct pipeline *p)
{
	for (size_t i = 0; i < p->n; i++) {
		pthread_mutex_lock(&p->slots[i]->mu);
		p->slots[i]->reopen = true;
		pthread_mutex_unlock(&p->slots[i]->mu);
	}
}

struct sink_stats_ctx {
	struct stats_builder *b;
	const char *group;
};

static void add_sink_stat(void *ctx, const char *name, uint64_t value)
{
	struct sink_stats_ctx *c = ctx;

	stats_add(c->b, c->group, name, value);
}

void pipeline_stats_add(struct pipeline *p, struct stats_builder *b)
{
	stats_add(b, "pipeline", "encode_errors", p->encode_errors);
	for (size_t i = 0; i < p->n; i++) {
		struct slot *sl = p->slots[i];
		struct sink_counters c;
		uint64_t depth;

		pthread_mutex_lock(&sl->mu);
		queue_staged(sl, 0); /* counted as queued or dropped, not left out */
		c = sl->c;
		depth = sl->count;
		pthread_mutex_unlock(&sl->mu);
		stats_add(b, sl->stats_group, "queued", c.queued);
		stats_add(b, sl->stats_group, "written", c.written);
		stats_add(b, sl->stats_group, "written_bytes", c.written_bytes);
		stats_add(b, sl->stats_group, "dropped_queue_full", c.dropped_full);
		stats_add(b, sl->stats_group, "dropped_error", c.dropped_error);
		stats_add(b, sl->stats_group, "dropped_shutdown", c.dropped_shutdown);
		stats_add(b, sl->stats_group, "retries", c.retries);
		stats_add(b, sl->stats_group, "queue_depth", depth);
		if (sl->sink.ops->stats) {
			struct sink_stats_ctx ctx = {b, sl->stats_group};

			sl->sink.ops->stats(&sl->sink, add_sink_stat, &ctx);
		}
	}
}

uint64_t pipeline_close(struct pipeline *p, uint64_t timeout_ns)
{
	uint64_t deadline = clock_ns(CLOCK_MONOTONIC) + timeout_ns, lost = 0;
	size_t started = 0;

	/* The last events staged (the final stats event among them) wait for room in a sink that
	 * blocks when full, as any event would have, up to the deadline; the sink thread, not yet
	 * closing, delivers meanwhile. Queued once closing, they were dropped from a full queue. */
	for (size_t i = 0; i < p->n; i++)
		if (p->slots[i]->started)
			stage_flush(p->slots[i], true, deadline);
	for (size_t i = 0; i < p->n; i++) {
		struct slot *sl = p->slots[i];

		started += sl->started;
		pthread_mutex_lock(&sl->mu);
		sl->closing = true;
		queue_staged(sl, 0); /* unstarted sinks' */
		sl->deadline = deadline;
		__atomic_store_n(&sl->sink.deadline_ns, deadline, __ATOMIC_RELAXED);
		pthread_cond_broadcast(&sl->items);
		pthread_cond_broadcast(&sl->space);
		pthread_mutex_unlock(&sl->mu);
	}
	/* A little past the deadline, so a sink that gives up right at it can still report. */
	pthread_mutex_lock(&p->done_mu);
	while (p->n_done < started && clock_ns(CLOCK_MONOTONIC) < deadline + 500000000ull)
		mono_cond_wait_until(&p->done_cv, &p->done_mu, deadline + 500000000ull);
	pthread_mutex_unlock(&p->done_mu);
	for (size_t i = 0; i < p->n; i++) {
		struct slot *sl = p->slots[i];
		bool finished;

		if (!sl->started) {
			sl->sink.ops->close(&sl->sink);
			slot_free(sl);
			continue;
		}
		pthread_mutex_lock(&p->done_mu);
		finished = sl->finished;
		pthread_mutex_unlock(&p->done_mu);
		pthread_mutex_lock(&sl->mu);
		lost += sl->c.dropped_shutdown + sl->count;
		pthread_mutex_unlock(&sl->mu);
		if (!finished) {
			/* Stuck in a write that never returns: leave it to process exit. */
			LOG(LOG_ERROR, "sink '%s' did not finish within the shutdown timeout",
			    sl->sink.spec);
			continue;
		}
		pthread_join(sl->thread, NULL);
		slot_free(sl);
	}
	if (p->n_done == started) {
		free(p->slots);
		jw_free(&p->out[0]);
		jw_free(&p->out[1]);
		chunk_retire(p);
		free(p);
	}
	return lost;
}
