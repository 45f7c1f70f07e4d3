#include "conn_table.h"

#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "community_id.h"
#include "http_session.h"
#include "lru_table.h"
#include "proc_cache.h"

struct conn {
	struct lru_node node;
	uint64_t id;
	uint64_t last_ts;
	struct conn_key key;
	struct conn_owner owner; /* the process; comm is the thread group leader's */
	char thread[16];         /* the name of the thread that last moved bytes */
	struct http_session http;
	char community_id[COMMUNITY_ID_LEN];
};

struct conn_table {
	struct conn_cfg cfg;
	struct conn_stats stats;
	struct http_stats http_stats;
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

static struct conn *oldest(const struct conn_table *ct)
{
	return (struct conn *)ct->t.oldest; /* node is the first member */
}

/* The tuple oriented client -> server: the local end is the client when it sent the request. */
static void oriented(const struct conn_key *k, bool local_is_client, struct l7_tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->family = k->family == AF_INET6 ? AF_INET6 : AF_INET;
	t->proto = IPPROTO_TCP;
	memcpy(local_is_client ? t->saddr : t->daddr, k->laddr, 16);
	memcpy(local_is_client ? t->daddr : t->saddr, k->raddr, 16);
	t->sport = local_is_client ? k->lport : k->rport;
	t->dport = local_is_client ? k->rport : k->lport;
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

static struct http_session_env session_env(struct conn_call *cc)
{
	return (struct http_session_env){&cc->ct->cfg.http, emit_http, cc};
}

static void conn_end(struct conn_table *ct, struct conn *c, bool closed, uint64_t ts)
{
	struct conn_call cc = {ct, c};
	struct http_session_env env = session_env(&cc);

	http_session_close(&c->http, &env, closed, ts);
	lru_remove(&ct->t, &c->node);
	ct->stats.active--;
	free(c);
}

static void set_owner(struct conn *c, const struct sc_record *r)
{
	c->owner.tgid = r->tgid;
	c->owner.tid = r->tid;
	c->owner.uid = r->uid;
	c->owner.gid = r->gid;
	c->owner.cgroup_id = r->cgroup_id;
	memcpy(c->owner.comm, r->pcomm, sizeof(c->owner.comm));
	c->owner.comm[sizeof(c->owner.comm) - 1] = '\0';
	memcpy(c->thread, r->comm, sizeof(c->thread));
	c->thread[sizeof(c->thread) - 1] = '\0';
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
	http_session_init(&c->http);
	if (r->kind != SC_OPEN || r->role == SC_ROLE_UNKNOWN) {
		http_session_midstream(&c->http);
		ct->stats.midstream++;
	}
	lru_insert(&ct->t, &c->node);
	ct->stats.active++;
	ct->stats.opened++;
	return c;
}

static void data(struct conn_table *ct, struct conn *c, const struct sc_record *r,
                 const uint8_t *payload, uint64_t ts)
{
	struct conn_call cc = {ct, c};
	struct http_session_env env = session_env(&cc);
	int dir = r->dir == SC_INGRESS;

	ct->stats.data_records++;
	ct->stats.data_bytes += r->len;
	set_owner(c, r);
	if (r->cap)
		http_session_data(&c->http, &env, dir, payload, r->cap, ts);
	if (r->len > r->cap) {
		ct->stats.cut_bytes += r->len - r->cap;
		http_session_gap(&c->http, &env, dir, r->len - r->cap, ts);
	}
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
		process_exit(ct, r->tgid, ts);
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
		struct http_session_env env = session_env(&cc);

		next = (struct conn *)c->node.newer;
		if (now > c->last_ts && now - c->last_ts > ct->cfg.idle_timeout_ns) {
			ct->stats.expired++;
			conn_end(ct, c, false, now);
			continue;
		}
		http_session_expire(&c->http, &env, now);
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
		http_session_free(&c->http);
		free(c);
	}
	lru_destroy(&ct->t);
	free(ct);
}
