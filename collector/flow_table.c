#include "flow_table.h"

#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "community_id.h"
#include "dns_table.h"
#include "lru_table.h"
#include "proc_cache.h"
#include "tcp_app.h"

enum flow_state {
	FLOW_PARSED,  /* its bytes go to its tcp_app */
	FLOW_SYSCALL, /* a local process's syscalls report it: followed only to see it end */
};

struct flow {
	struct lru_node node;
	struct l7_tuple key; /* canonical: the lower endpoint is the source */
	uint64_t last_ts;
	const char *ifname;
	uint8_t state;
	uint8_t fins;              /* bit d: direction d delivered its FIN */
	uint8_t owned;             /* bit d: owner[d] holds the local process sending direction d */
	struct reasm_dir reasm[2]; /* direction 0: sent by the key's source */
	struct tcp_app app;
	struct conn_owner owner[2];
	char community_id[COMMUNITY_ID_LEN]; /* computed when first reported */
};

struct flow_table {
	struct flow_cfg cfg;
	struct reasm_cfg reasm_cfg;
	struct flow_stats stats;
	struct reasm_stats reasm_stats;
	struct http_stats http_stats;
	struct http_spares http_spares;
	struct tcp_app_stats app_stats;
	flow_emit_fn emit;
	void *emit_ctx;
	struct lru_table t;
	uint8_t port_bits[65536 / 8];
};

/* What reassembly and the HTTP session call back with. */
struct flow_call {
	struct flow_table *ft;
	struct flow *f;
	int dir;
};

struct flow_table *flow_table_new(const struct flow_cfg *cfg, flow_emit_fn emit, void *ctx)
{
	struct flow_table *ft = calloc(1, sizeof(*ft));

	if (!ft || lru_init(&ft->t, cfg->max_flows,
	                    offsetof(struct flow, key) - offsetof(struct flow, node),
	                    sizeof(struct l7_tuple))) {
		free(ft);
		return NULL;
	}
	ft->cfg = *cfg;
	ft->cfg.http.stats = &ft->http_stats;
	ft->cfg.http.spares = &ft->http_spares;
	ft->reasm_stats.buffered_max = cfg->max_buffered;
	ft->reasm_cfg = (struct reasm_cfg){cfg->max_ooo_bytes, &ft->reasm_stats};
	ft->emit = emit;
	ft->emit_ctx = ctx;
	for (uint32_t i = 0; i < cfg->n_ports; i++)
		ft->port_bits[cfg->ports[i] / 8] |= (uint8_t)(1u << (cfg->ports[i] % 8));
	return ft;
}

struct flow_table_counters flow_table_counters(const struct flow_table *ft)
{
	return (struct flow_table_counters){&ft->stats, &ft->reasm_stats, &ft->http_stats,
	                                    &ft->app_stats};
}

static bool port_declared(const struct flow_table *ft, uint16_t port)
{
	return ft->port_bits[port / 8] & (1u << (port % 8));
}

static struct flow *oldest(const struct flow_table *ft)
{
	return (struct flow *)ft->t.oldest; /* node is the first member */
}

/* Orders the endpoints so both directions share a key; returns the packet's direction. */
static int canonical(const struct l7_tuple *t, struct l7_tuple *key)
{
	int c = memcmp(t->saddr, t->daddr, sizeof(t->saddr));

	if (c < 0 || (c == 0 && t->sport <= t->dport)) {
		*key = *t;
		return 0;
	}
	tuple_reverse(t, key);
	return 1;
}

static void emit_http(void *ctx, const struct http_report *r)
{
	struct flow_call *fc = ctx;
	struct flow *f = fc->f;
	struct ev_process proc;
	struct l7_event ev = {
	        .dataset = L7_DATASET_HTTP,
	        .ts_start = r->ts_start,
	        .ts_end = r->ts_end,
	        .client_bytes = r->req_bytes,
	        .server_bytes = r->resp_bytes,
	        .source = fc->ft->cfg.source,
	        .interface = f->ifname,
	        .truncated = r->truncated,
	        .status = r->resp ? "ok" : "no_response",
	        .http = {r->req, r->resp, r->req_bytes, r->req_body_bytes, r->resp_bytes,
	                 r->resp_body_bytes},
	};

	/* Direction 0 is sent by the key's source: the client when it carries the requests. */
	if (r->client_dir == 0)
		ev.tuple = f->key;
	else
		tuple_reverse(&f->key, &ev.tuple);
	if (!f->community_id[0])
		community_id_v1(&f->key, 0, f->community_id);
	ev.community_id = f->community_id;
	/* The local process that owns the connection: the client's end when it is local. */
	for (int i = 0; i < 2; i++) {
		int d = i == 0 ? r->client_dir : !r->client_dir;

		if (f->owned & (1u << d)) {
			proc_cache_fill(fc->ft->cfg.procs, &f->owner[d], NULL, &proc);
			ev.process = &proc;
			break;
		}
	}
	fc->ft->emit(fc->ft->emit_ctx, &ev);
}

/* The local process that sent direction dir, if known. */
static const struct ev_process *sender(struct flow_call *fc, int dir, struct ev_process *proc)
{
	if (!(fc->f->owned & (1u << dir)))
		return NULL;
	proc_cache_fill(fc->ft->cfg.procs, &fc->f->owner[dir], NULL, proc);
	return proc;
}

static void emit_dns(void *ctx, const struct dns_frame *m)
{
	struct flow_call *fc = ctx;
	struct ev_process proc;
	struct dns_obs o = dns_obs_of_frame(m, fc->ft->cfg.source);

	o.interface = fc->f->ifname;
	o.process = sender(fc, m->dir, &proc);
	o.process_sent = true;
	if (m->dir == 0)
		o.tuple = fc->f->key;
	else
		tuple_reverse(&fc->f->key, &o.tuple);
	dns_table_message(fc->ft->cfg.dns, &o);
}

static struct tcp_app_env app_env(struct flow_call *fc)
{
	return (struct tcp_app_env){
	        {&fc->ft->cfg.http, emit_http, fc}, emit_dns, &fc->ft->app_stats};
}

static void on_data(void *ctx, const uint8_t *p, size_t n, uint64_t ts)
{
	struct flow_call *fc = ctx;
	struct tcp_app_env env = app_env(fc);

	tcp_app_data(&fc->f->app, &env, fc->dir, p, n, ts);
}

static void on_gap(void *ctx, size_t n, uint64_t ts)
{
	struct flow_call *fc = ctx;
	struct tcp_app_env env = app_env(fc);

	tcp_app_gap(&fc->f->app, &env, fc->dir, n, ts);
}

static void on_fin(void *ctx, uint64_t ts)
{
	struct flow_call *fc = ctx;
	struct tcp_app_env env = app_env(fc);

	fc->f->fins |= (uint8_t)(1u << fc->dir);
	tcp_app_fin(&fc->f->app, &env, fc->dir, ts);
}

static const struct reasm_ops reasm_ops = {on_data, on_gap, on_fin};

/* Reports what the connection still holds and forgets it. closed: it really ended. */
static void flow_end(struct flow_table *ft, struct flow *f, bool closed, uint64_t ts)
{
	struct flow_call fc = {ft, f, 0};
	struct tcp_app_env env = app_env(&fc);

	for (fc.dir = 0; fc.dir < 2; fc.dir++)
		reasm_flush(&f->reasm[fc.dir], &ft->reasm_cfg, &reasm_ops, &fc, ts);
	if (f->state == FLOW_PARSED)
		tcp_app_close(&f->app, &env, closed, ts);
	for (int d = 0; d < 2; d++)
		reasm_free(&f->reasm[d], &ft->reasm_cfg);
	lru_remove(&ft->t, &f->node);
	ft->stats.active--;
	free(f);
}

static struct flow *flow_create(struct flow_table *ft, const struct l7_tuple *key, uint64_t ts)
{
	struct flow *f;

	if (ft->stats.active >= ft->cfg.max_flows && oldest(ft)) {
		ft->stats.evicted++;
		flow_end(ft, oldest(ft), false, ts);
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->key = *key;
	reasm_init(&f->reasm[0]);
	reasm_init(&f->reasm[1]);
	tcp_app_init(&f->app, false, port_declared(ft, key->sport) || port_declared(ft, key->dport),
	             key->sport, key->dport);
	lru_insert(&ft->t, &f->node);
	ft->stats.active++;
	ft->stats.created++;
	return f;
}

/* Whether a packet of an unknown connection can start following it: a SYN (the start of the
 * stream), bytes that start an HTTP or DNS message, or any bytes on a declared port. */
static bool can_start(const struct flow_table *ft, const struct pkt *p)
{
	if (p->tcp_flags & PKT_TCP_RST)
		return false;
	if (p->tcp_flags & PKT_TCP_SYN)
		return true;
	if (p->payload_len == 0)
		return false;
	if (ft->cfg.n_ports)
		return true; /* the port filter already matched */
	return tcp_app_can_start(p->payload, p->payload_cap, p->t.sport, p->t.dport);
}

/* One truth (DESIGN.md): a connection whose packets a followed local process sends is reported
 * by the syscall probes, once per local endpoint. The wire view lets go of it, and of any
 * exchange it had started: the kernel marks the packets, so the decision does not depend on
 * which ring buffer user space reads first. */
static void hand_over(struct flow_table *ft, struct flow *f)
{
	tcp_app_free(&f->app);
	reasm_free(&f->reasm[0], &ft->reasm_cfg);
	reasm_free(&f->reasm[1], &ft->reasm_cfg);
	f->state = FLOW_SYSCALL;
	ft->stats.seen_by_syscalls++;
}

static void note_owner(struct flow_table *ft, struct flow *f, int dir,
                       const struct conn_owner *owner)
{
	if (!owner)
		return;
	if (!(f->owned & (1u << dir))) {
		f->owner[dir] = *owner;
		f->owned |= (uint8_t)(1u << dir);
	}
	if (owner->flags & CONN_OWNER_TRACED && f->state != FLOW_SYSCALL)
		hand_over(ft, f);
}

/* UDP carries one DNS message per datagram (the kernel kept only what may be DNS). */
static void datagram(struct flow_table *ft, const struct pkt *p, uint64_t ts, const char *ifname,
                     const struct conn_owner *owner)
{
	struct ev_process proc;
	struct dns_obs o = {
	        .p = p->payload,
	        .cap = p->payload_cap,
	        .len = p->payload_len,
	        .ts_first = ts,
	        .ts_last = ts,
	        .tuple = p->t,
	        .source = ft->cfg.source,
	        .interface = ifname,
	        .process_sent = true,
	};

	ft->stats.datagrams++;
	if (owner && (owner->flags & CONN_OWNER_SELF)) {
		ft->stats.own_datagrams++; /* the collector's own lookups (its HTTP sinks) */
		return;
	}
	if (owner) {
		proc_cache_fill(ft->cfg.procs, owner, NULL, &proc);
		o.process = &proc;
	}
	dns_table_message(ft->cfg.dns, &o);
}

void flow_table_packet(struct flow_table *ft, const struct pkt *p, uint64_t ts, const char *ifname,
                       const struct conn_owner *owner, bool to_owner)
{
	struct l7_tuple key;
	struct flow *f;
	int dir;

	if (ft->cfg.n_ports && !port_declared(ft, p->t.sport) && !port_declared(ft, p->t.dport)) {
		ft->stats.port_filtered++;
		return;
	}
	if (p->t.proto == IPPROTO_UDP) {
		datagram(ft, p, ts, ifname, to_owner ? NULL : owner); /* the kernel names senders */
		return;
	}
	if (p->t.proto != IPPROTO_TCP) {
		ft->stats.other_proto++;
		return;
	}
	dir = canonical(&p->t, &key);
	f = (struct flow *)lru_find(&ft->t, &key);
	if (f && (p->tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK)) == PKT_TCP_SYN &&
	    f->reasm[dir].state != REASM_UNSYNCED && p->seq + 1 != f->reasm[dir].next_seq) {
		/* A new connection on the same addresses and ports: the old one ended unseen. */
		ft->stats.closed++;
		flow_end(ft, f, true, ts);
		f = NULL;
	}
	if (!f) {
		/* A followed process's packet (headers only: the kernel leaves its connection to
		 * the syscalls) starts an entry too, to count the connection and see it end. */
		bool handed = owner && (owner->flags & CONN_OWNER_TRACED);

		if (!(can_start(ft, p) || handed) || !(f = flow_create(ft, &key, ts))) {
			ft->stats.skipped++;
			return;
		}
		f->ifname = ifname;
	}
	f->last_ts = ts;
	lru_touch(&ft->t, &f->node);
	note_owner(ft, f, to_owner ? !dir : dir, owner);

	if (f->state == FLOW_SYSCALL) {
		if (p->tcp_flags & PKT_TCP_FIN)
			f->fins |= (uint8_t)(1u << dir);
	} else {
		struct flow_call fc = {ft, f, dir};

		reasm_segment(&f->reasm[dir], &ft->reasm_cfg, &reasm_ops, &fc, p->seq, p->payload,
		              p->payload_cap, p->payload_len, p->tcp_flags, ts);
	}
	if (p->tcp_flags & PKT_TCP_RST || f->fins == 3) {
		ft->stats.closed++;
		flow_end(ft, f, true, ts);
	}
}

void flow_table_tick(struct flow_table *ft, uint64_t now)
{
	struct flow *f = oldest(ft), *next;

	for (; f; f = next) {
		struct flow_call fc = {ft, f, 0};
		struct tcp_app_env env = app_env(&fc);

		next = (struct flow *)f->node.newer;
		if (now > f->last_ts && now - f->last_ts > ft->cfg.idle_timeout_ns) {
			ft->stats.expired++;
			flow_end(ft, f, false, now);
			continue;
		}
		for (fc.dir = 0; fc.dir < 2; fc.dir++) {
			struct reasm_dir *d = &f->reasm[fc.dir];

			/* Bytes buffered behind a hole wait from their arrival; a FIN behind a
			 * hole with nothing buffered waits until the connection goes quiet. */
			uint64_t since = d->ooo ? d->ooo_since_ns : f->last_ts;

			if ((d->ooo || d->fin_seen) && now > since &&
			    now - since > ft->cfg.hole_timeout_ns) {
				ft->stats.hole_timeouts++;
				reasm_flush(d, &ft->reasm_cfg, &reasm_ops, &fc, now);
			}
		}
		if (f->state == FLOW_PARSED)
			tcp_app_expire(&f->app, &env, now);
	}
}

void flow_table_flush(struct flow_table *ft, uint64_t now)
{
	while (oldest(ft))
		flow_end(ft, oldest(ft), false, now);
}

void flow_table_free(struct flow_table *ft)
{
	if (!ft)
		return;
	/* No reports from here: call flow_table_flush() first to have them. */
	while (oldest(ft)) {
		struct flow *f = oldest(ft);

		lru_remove(&ft->t, &f->node);
		tcp_app_free(&f->app);
		reasm_free(&f->reasm[0], &ft->reasm_cfg);
		reasm_free(&f->reasm[1], &ft->reasm_cfg);
		free(f);
	}
	lru_destroy(&ft->t);
	http_spares_free(&ft->http_spares);
	free(ft);
}
