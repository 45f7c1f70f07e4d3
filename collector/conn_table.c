#include "conn_table.h"

#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "community_id.h"
#include "dns_table.h"
#include "lru_table.h"
#include "proc_cache.h"

struct conn {
	struct lru_node node;
	uint64_t id;
	uint64_t last_ts;
	struct conn_key key;
	struct conn_owner owner; /* the process; comm is the thread group leader's */
	char thread[16];         /* the name of the thread that last moved bytes */
	bool skipped;            /* told the kernel to stop copying it */
	struct tcp_app app;
	char community_id[COMMUNITY_ID_LEN];
};

struct conn_table {
	struct conn_cfg cfg;
	struct conn_stats stats;
	struct http_stats http_stats;
	struct http_spares http_spares;
	struct tcp_app_stats app_stats;
	conn_emit_fn emit;
	conn_forget_fn forget;
	void *ctx;
	struct lru_table t;
};

struct conn_call {
	struct conn_table *ct;
	struct conn *c;
};

struct conn_table *conn_table_new(const struct conn_cfg *cfg, conn_emit_fn emit,
                                  conn_forget_fn forget, void *ctx)
{
	struct conn_table *ct = calloc(1, sizeof(*ct));

	if (!ct ||
	    lru_init(&ct->t, cfg->max_conns,
	             offsetof(struct conn, id) - offsetof(struct conn, node), sizeof(uint64_t))) {
		free(ct);
		return NULL;
	}
	ct->cfg = *cfg;
	ct->cfg.http.stats = &ct->http_stats;
	ct->cfg.http.spares = &ct->http_spares;
	ct->emit = emit;
	ct->forget = forget;
	ct->ctx = ctx;
	return ct;
}

const struct conn_stats *conn_table_stats(const struct conn_table *ct)
{
	return &ct->stats;
}

const struct http_stats *conn_table_http_stats(const struct conn_table *ct)
{
	return &ct->http_stats;
}

const struct tcp_app_stats *conn_table_app_stats(const struct conn_table *ct)
{
	return &ct->app_stats;
}

static struct conn *oldest(const struct conn_table *ct)
{
	return (struct conn *)ct->t.oldest; /* node is the first member */
}

/* The tuple oriented local -> remote (local_first: the local end sent the request, or this
 * message) or the other way. */
static void oriented(const struct conn_key *k, bool local_first, struct l7_tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->family = k->family == AF_INET6 ? AF_INET6 : AF_INET;
	t->proto = k->proto == IPPROTO_UDP ? IPPROTO_UDP : IPPROTO_TCP;
	memcpy(local_first ? t->saddr : t->daddr, k->laddr, 16);
	memcpy(local_first ? t->daddr : t->saddr, k->raddr, 16);
	t->sport = local_first ? k->lport : k->rport;
	t->dport = local_first ? k->rport : k->lport;
}

static void emit_http(void *ctx, const struct http_report *r)
{
	struct conn_call *cc = ctx;
	struct conn *c = cc->c;
	bool client = r->client_dir == SC_EGRESS;
	struct ev_process proc;
	struct l7_event ev = {
	        .dataset = L7_DATASET_HTTP,
	        .ts_start = r->ts_start,
	        .ts_end = r->ts_end,
	        .client_bytes = r->req_bytes,
	        .server_bytes = r->resp_bytes,
	        .source = L7_SOURCE_SYSCALL,
	        .truncated = r->truncated,
	        .status = r->resp ? "ok" : "no_response",
	        .role = client ? "client" : "server",
	        .process = &proc,
	        .http = {r->req, r->resp, r->req_bytes, r->req_body_bytes, r->resp_bytes,
	                 r->resp_body_bytes},
	};

	oriented(&c->key, client, &ev.tuple);
	if (!c->community_id[0])
		community_id_v1(&ev.tuple, 0, c->community_id);
	ev.community_id = c->community_id;
	proc_cache_fill(cc->ct->cfg.procs, &c->owner, c->thread, &proc);
	cc->ct->emit(cc->ct->ctx, &ev);
}

/* One DNS message the process sent (egress) or received, over TCP (c) or UDP (c NULL, the
 * datagram's record r says who and where). */
static void dns_message(struct conn_table *ct, const struct conn_key *key,
                        const struct conn_owner *owner, const char *thread, int dir,
                        const struct dns_frame *m)
{
	struct ev_process proc;
	struct dns_obs o = dns_obs_of_frame(m, L7_SOURCE_SYSCALL);

	o.process = &proc;
	o.process_sent = dir == SC_EGRESS;
	oriented(key, dir == SC_EGRESS, &o.tuple);
	proc_cache_fill(ct->cfg.procs, owner, thread, &proc);
	dns_table_message(ct->cfg.dns, &o);
}

static void emit_dns(void *ctx, const struct dns_frame *m)
{
	struct conn_call *cc = ctx;

	dns_message(cc->ct, &cc->c->key, &cc->c->owner, cc->c->thread, m->dir, m);
}

static struct tcp_app_env app_env(struct conn_call *cc)
{
	return (struct tcp_app_env){
	        {&cc->ct->cfg.http, emit_http, cc}, emit_dns, &cc->ct->app_stats};
}

static void conn_end(struct conn_table *ct, struct conn *c, bool closed, uint64_t ts)
{
	struct conn_call cc = {ct, c};
	struct tcp_app_env env = app_env(&cc);

	tcp_app_close(&c->app, &env, closed, ts);
	lru_remove(&ct->t, &c->node);
	ct->stats.active--;
	free(c);
}

static void owner_of(const struct sc_record *r, struct conn_owner *o, char thread[16])
{
	o->tgid = r->who.tgid;
	o->tid = r->who.tid;
	o->uid = r->who.uid;
	o->gid = r->who.gid;
	o->cgroup_id = r->who.cgroup_id;
	memcpy(o->comm, r->who.pcomm, sizeof(o->comm));
	o->comm[sizeof(o->comm) - 1] = '\0';
	memcpy(thread, r->who.comm, 16);
	thread[15] = '\0';
}

static void set_owner(struct conn *c, const struct sc_record *r)
{
	owner_of(r, &c->owner, c->thread);
}

/* A connection seen first through its data (its open record was lost, or it was open before
 * capture began) is joined at its next message start. */
static struct conn *conn_open(struct conn_table *ct, const struct sc_record *r, uint64_t ts)
{
	struct conn *c;

	if (ct->stats.active >= ct->cfg.max_conns && oldest(ct)) {
		ct->stats.evicted++;
		conn_end(ct, oldest(ct), false, ts);
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->id = r->conn_id;
	c->key = r->conn;
	c->last_ts = ts;
	set_owner(c, r);
	tcp_app_init(&c->app, r->kind != SC_OPEN || r->role == SC_ROLE_UNKNOWN, false,
	             r->conn.lport, r->conn.rport);
	if (c->app.midstream)
		ct->stats.midstream++;
	lru_insert(&ct->t, &c->node);
	ct->stats.active++;
	ct->stats.opened++;
	return c;
}

static void data(struct conn_table *ct, struct conn *c, const struct sc_record *r,
                 const uint8_t *payload, uint64_t ts)
{
	struct conn_call cc = {ct, c};
	struct tcp_app_env env = app_env(&cc);
	int dir = r->dir == SC_INGRESS;

	ct->stats.data_records++;
	ct->stats.data_bytes += r->len;
	set_owner(c, r);
	if (r->cap)
		tcp_app_data(&c->app, &env, dir, payload, r->cap, ts);
	if (c->app.kind == TCP_APP_OTHER && !c->skipped) {
		c->skipped = true;
		ct->stats.skipped++;
		if (ct->cfg.skip)
			ct->cfg.skip(ct->ctx, r->who.tgid, r->fd, c->id);
	}
	if (r->len > r->cap) {
		ct->stats.cut_bytes += r->len - r->cap;
		tcp_app_gap(&c->app, &env, dir, r->len - r->cap, ts);
	}
}

/* A UDP datagram: one DNS message (the kernel copies nothing else of UDP), not a connection. */
static void datagram(struct conn_table *ct, const struct sc_record *r, uint64_t ts)
{
	struct conn_owner owner = {0};
	char thread[16];
	struct dns_frame m = {r->dir, (const uint8_t *)(r + 1), r->cap, r->len, ts, ts};

	ct->stats.datagrams++;
	ct->stats.data_bytes += r->len;
	if (r->len > r->cap)
		ct->stats.cut_bytes += r->len - r->cap;
	owner_of(r, &owner, thread);
	dns_message(ct, &r->conn, &owner, thread, r->dir, &m);
}

/* Every connection of an exited process ends; the kernel entries that let the socket filter
 * recognise them go too. */
static void process_exit(struct conn_table *ct, uint32_t tgid, uint64_t ts)
{
	struct conn *c = oldest(ct), *next;

	ct->stats.process_exits++;
	for (; c; c = next) {
		next = (struct conn *)c->node.newer;
		if (c->owner.tgid != tgid)
			continue;
		ct->forget(ct->ctx, &c->key);
		conn_end(ct, c, true, ts);
	}
	proc_cache_forget(ct->cfg.procs, tgid);
}

void conn_table_record(struct conn_table *ct, const void *rec, size_t size, uint64_t ts)
{
	const struct sc_record *r = rec;
	struct conn *c;

	if (size < sizeof(*r) || r->cap > size - sizeof(*r)) {
		ct->stats.bad_records++;
		return;
	}
	if (r->kind == SC_EXIT) {
		process_exit(ct, r->who.tgid, ts);
		return;
	}
	if (r->conn.proto == IPPROTO_UDP) {
		if (r->kind == SC_DATA)
			datagram(ct, r, ts);
		return;
	}
	c = (struct conn *)lru_find(&ct->t, &r->conn_id);
	if (r->kind == SC_CLOSE) {
		if (c) {
			ct->stats.closed++;
			conn_end(ct, c, true, ts);
		}
		return;
	}
	if (!c && !(c = conn_open(ct, r, ts)))
		return;
	c->last_ts = ts;
	lru_touch(&ct->t, &c->node);
	if (r->kind == SC_DATA)
		data(ct, c, r, (const uint8_t *)(r + 1), ts);
}

void conn_table_tick(struct conn_table *ct, uint64_t now)
{
	struct conn *c = oldest(ct), *next;

	for (; c; c = next) {
		struct conn_call cc = {ct, c};
		struct tcp_app_env env = app_env(&cc);

		next = (struct conn *)c->node.newer;
		if (now > c->last_ts && now - c->last_ts > ct->cfg.idle_timeout_ns) {
			ct->stats.expired++;
			conn_end(ct, c, false, now);
			continue;
		}
		tcp_app_expire(&c->app, &env, now);
	}
}

void conn_table_flush(struct conn_table *ct, uint64_t now)
{
	while (oldest(ct))
		conn_end(ct, oldest(ct), false, now);
}

void conn_table_free(struct conn_table *ct)
{
	if (!ct)
		return;
	/* No reports from here: call conn_table_flush() first to have them. */
	while (oldest(ct)) {
		struct conn *c = oldest(ct);

		lru_remove(&ct->t, &c->node);
		tcp_app_free(&c->app);
		free(c);
	}
	lru_destroy(&ct->t);
	http_spares_free(&ct->http_spares);
	free(ct);
}
