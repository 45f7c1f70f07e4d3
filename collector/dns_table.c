#include "dns_table.h"

#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "community_id.h"
#include "dns_parse.h"
#include "dns_sniff.h"
#include "lru_table.h"

/* Who saw a message, best first for timing: the asking process's own syscalls time what it
 * waited, the wire what the network took, the server's syscalls what the server took. */
enum view {
	VIEW_CLIENT,
	VIEW_WIRE,
	VIEW_SERVER,
	VIEWS,
};

/* Copies of one message closer together than this are the same packet seen twice (two
 * interfaces, or two paths); further apart, the client sent it again. */
#define SAME_COPY_NS 10000000ull
/* How long a reported transaction is remembered, to recognise copies that come late. */
#define REMEMBER_NS 1000000000ull

struct dns_key {
	uint64_t qhash; /* the question: name (case-folded), type and class */
	uint16_t cport;
	uint16_t sport;
	uint16_t id;
	uint8_t transport;
	uint8_t reserved;
};

_Static_assert(sizeof(struct dns_key) == 16, "dns_key is hashed as bytes: no padding");

struct msg_copy {
	uint8_t *p; /* NULL: not seen */
	uint32_t cap;
	uint32_t len;
	uint64_t ts_first;
	uint64_t ts_last;
};

struct proc_copy {
	bool known;
	bool from_syscall; /* the process's own view: it names the thread too */
	struct ev_process p;
	char name[16];
	char thread[16];
	char container[65];
	char *executable;
};

enum txn_state {
	T_WAITING, /* a query, no response yet: due is its timeout */
	T_READY,   /* a response: due is the end of the hold */
	T_DONE,    /* reported: due is when it is forgotten */
};

struct txn {
	struct lru_node node;
	struct dns_key key;
	struct txn *prev, *next; /* in the queue of its state, oldest first */
	uint8_t state;
	uint64_t due;
	struct msg_copy q, r;
	uint64_t q_ts[VIEWS];  /* when each view saw the query's first byte; 0: not seen */
	uint64_t r_ts[VIEWS];  /* ... the response's last byte */
	struct l7_tuple tuple; /* client -> server */
	bool tuple_whole;      /* both of its addresses are known */
	enum l7_source wire_source;
	const char *interface;
	struct proc_copy asker, answerer;
};

struct queue {
	struct txn *head, *tail;
};

struct dns_table {
	struct dns_cfg cfg;
	struct dns_stats stats;
	dns_emit_fn emit;
	void *ctx;
	struct lru_table t;
	struct queue queues[3];          /* by enum txn_state */
	struct dns_msg msg, query, resp; /* parse scratch: large, so not on the stack */
};

static void enqueue(struct dns_table *t, struct txn *x, enum txn_state state, uint64_t due)
{
	struct queue *q = &t->queues[state];

	x->state = (uint8_t)state;
	x->due = due;
	x->next = NULL;
	x->prev = q->tail;
	if (q->tail)
		q->tail->next = x;
	else
		q->head = x;
	q->tail = x;
}

static void dequeue(struct dns_table *t, struct txn *x)
{
	struct queue *q = &t->queues[x->state];

	if (x->prev)
		x->prev->next = x->next;
	else
		q->head = x->next;
	if (x->next)
		x->next->prev = x->prev;
	else
		q->tail = x->prev;
	x->prev = x->next = NULL;
}

struct dns_table *dns_table_new(const struct dns_cfg *cfg, dns_emit_fn emit, void *ctx)
{
	struct dns_table *t = calloc(1, sizeof(*t));

	if (!t || lru_init(&t->t, cfg->max_transactions,
	                   offsetof(struct txn, key) - offsetof(struct txn, node),
	                   sizeof(struct dns_key))) {
		free(t);
		return NULL;
	}
	t->cfg = *cfg;
	t->emit = emit;
	t->ctx = ctx;
	return t;
}

const struct dns_stats *dns_table_stats(const struct dns_table *t)
{
	return &t->stats;
}

static void proc_free(struct proc_copy *c)
{
	free(c->executable);
	memset(c, 0, sizeof(*c));
}

static void copy_str(char *dst, size_t size, const char *src)
{
	if (!src) {
		dst[0] = '\0';
		return;
	}
	strncpy(dst, src, size - 1);
	dst[size - 1] = '\0';
}

/* The process fields point into the cache, which may forget the process before the
 * transaction is reported: they are copied. */
static void proc_keep(struct proc_copy *c, const struct ev_process *p, bool from_syscall)
{
	if (!p || (c->known && (c->from_syscall || !from_syscall)))
		return;
	proc_free(c);
	c->known = true;
	c->from_syscall = from_syscall;
	c->p = *p;
	copy_str(c->name, sizeof(c->name), p->name);
	copy_str(c->thread, sizeof(c->thread), p->thread_name);
	copy_str(c->container, sizeof(c->container), p->container_id);
	c->executable = p->executable ? strdup(p->executable) : NULL;
	c->p.name = c->name;
	c->p.thread_name = p->thread_name ? c->thread : NULL;
	c->p.container_id = p->container_id ? c->container : NULL;
	c->p.executable = c->executable;
}

static void txn_free(struct dns_table *t, struct txn *x)
{
	dequeue(t, x);
	lru_remove(&t->t, &x->node);
	free(x->q.p);
	free(x->r.p);
	proc_free(&x->asker);
	proc_free(&x->answerer);
	free(x);
	t->stats.active--;
}

static const char *const status_names[] = {"ok", "no_response", "no_query"};

enum status { ST_OK, ST_NO_RESPONSE, ST_NO_QUERY };

/* The start and end of a transaction, from the best view that saw both messages. */
static void timing(const struct txn *x, uint64_t *start, uint64_t *end)
{
	*start = *end = 0;
	for (int v = 0; v < VIEWS; v++) {
		if (x->q_ts[v] && x->r_ts[v]) {
			*start = x->q_ts[v];
			*end = x->r_ts[v];
			return;
		}
	}
	if (!x->q.p) {
		*start = x->r.ts_first;
		*end = x->r.ts_last;
		return;
	}
	*start = x->q.ts_first;
	*end = x->r.p ? x->r.ts_last : x->q.ts_last;
	if (*end < *start)
		*end = *start;
}

/* Messages are kept as bytes and parsed again when reported: a parsed message is ~9 KB, the
 * bytes a few hundred, and a transaction waits up to --dns-timeout. */
static const struct dns_msg *reparse(const struct msg_copy *c, struct dns_msg *m)
{
	if (!c->p || dns_parse(c->p, c->cap, c->cap < c->len, m) != 0)
		return NULL;
	return m;
}

static void report(struct dns_table *t, struct txn *x)
{
	enum status st = x->r.p ? (x->q.p ? ST_OK : ST_NO_QUERY) : ST_NO_RESPONSE;
	const struct proc_copy *who = x->asker.known ? &x->asker : &x->answerer;
	char community[COMMUNITY_ID_LEN];
	bool syscall = x->q_ts[VIEW_CLIENT] || x->q_ts[VIEW_SERVER] || x->r_ts[VIEW_CLIENT] ||
	               x->r_ts[VIEW_SERVER];
	struct l7_event ev = {
	        .dataset = L7_DATASET_DNS,
	        .tuple = x->tuple,
	        .client_bytes = x->q.len,
	        .server_bytes = x->r.len,
	        .community_id = community,
	        .source = syscall ? L7_SOURCE_SYSCALL : x->wire_source,
	        .interface = x->interface,
	        .truncated = (x->q.p && x->q.cap < x->q.len) || (x->r.p && x->r.cap < x->r.len),
	        .status = status_names[st],
	        .role = who->known ? (who == &x->asker ? "client" : "server") : NULL,
	        .process = who->known ? &who->p : NULL,
	        .dns = {reparse(&x->q, &t->query), reparse(&x->r, &t->resp)},
	};

	/* Only when no copy of either message could be kept (out of memory). */
	if (!ev.dns.query && !ev.dns.resp) {
		t->stats.lost++;
		return;
	}
	timing(x, &ev.ts_start, &ev.ts_end);
	community_id_v1(&x->tuple, 0, community);
	t->stats.transactions++;
	if (st == ST_NO_RESPONSE)
		t->stats.no_response++;
	else if (st == ST_NO_QUERY)
		t->stats.no_query++;
	t->emit(t->ctx, &ev);
}

/* Reported now; remembered (without its messages) until copies can no longer come. */
static void retire(struct dns_table *t, struct txn *x, uint64_t now)
{
	report(t, x);
	dequeue(t, x);
	free(x->q.p);
	free(x->r.p);
	x->q.p = x->r.p = NULL;
	proc_free(&x->asker);
	proc_free(&x->answerer);
	enqueue(t, x, T_DONE, now + REMEMBER_NS);
}

/* FNV-1a over the question, the name case-folded: 0x20-randomised resolvers echo the case
 * they sent, other paths may not. */
static uint64_t question_hash(const struct dns_msg *m)
{
	uint64_t h = UINT64_C(14695981039346656037);
	uint8_t tail[4] = {(uint8_t)(m->question.type >> 8), (uint8_t)m->question.type,
	                   (uint8_t)(m->question.class >> 8), (uint8_t)m->question.class};

	if (!m->has_question)
		return 0;
	for (const char *c = m->question.name; *c; c++) {
		uint8_t b = (uint8_t)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);

		h = (h ^ b) * UINT64_C(1099511628211);
	}
	for (int i = 0; i < 4; i++)
		h = (h ^ tail[i]) * UINT64_C(1099511628211);
	return h;
}

static struct txn *txn_new(struct dns_table *t, const struct dns_key *k)
{
	struct txn *x;

	if (t->stats.active >= t->cfg.max_transactions && t->t.oldest) {
		x = (struct txn *)t->t.oldest; /* node is the first member */
		/* Forgetting a reported one early reports nothing early. */
		if (x->state != T_DONE) {
			t->stats.evicted++;
			report(t, x);
		}
		txn_free(t, x);
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->key = *k;
	lru_insert(&t->t, &x->node);
	t->stats.active++;
	return x;
}

/* Keeps the copy of a message with the most bytes. */
static void keep_msg(struct msg_copy *c, const struct dns_obs *o)
{
	uint8_t *p;

	if (c->p && c->cap >= o->cap)
		return;
	p = malloc(o->cap ? o->cap : 1);
	if (!p)
		return;
	memcpy(p, o->p, o->cap);
	free(c->p);
	if (!c->p) {
		c->ts_first = o->ts_first;
		c->ts_last = o->ts_last;
	}
	c->p = p;
	c->cap = (uint32_t)o->cap;
	c->len = (uint32_t)o->len;
}

static bool whole(const struct l7_tuple *tu)
{
	static const uint8_t zero[16];

	return memcmp(tu->saddr, zero, 16) && memcmp(tu->daddr, zero, 16);
}

/* What this copy adds: the view's time, addresses, the interface, a process: a client view's
 * process asked, a server view's answered, and on the wire the process known is the packet's
 * sender. */
static void note_copy(struct txn *x, const struct dns_obs *o, const struct l7_tuple *cs,
                      enum view v, bool query)
{
	bool asker = v == VIEW_CLIENT || (v == VIEW_WIRE && query);

	if (query && !x->q_ts[v])
		x->q_ts[v] = o->ts_first;
	if (!query && !x->r_ts[v])
		x->r_ts[v] = o->ts_last;
	if (!x->tuple_whole && (whole(cs) || !x->tuple.family)) {
		x->tuple = *cs;
		x->tuple_whole = whole(cs);
	}
	if (v == VIEW_WIRE) {
		x->wire_source = o->source;
		if (!x->interface)
			x->interface = o->interface;
	}
	if (o->process)
		proc_keep(asker ? &x->asker : &x->answerer, o->process, v != VIEW_WIRE);
}

void dns_table_message(struct dns_table *t, const struct dns_obs *o)
{
	struct dns_msg *m = &t->msg;
	struct l7_tuple cs;
	struct dns_key k = {0};
	enum view v;
	struct txn *x;
	bool query, wire = o->source != L7_SOURCE_SYSCALL;

	/* Off port 53, a datagram is DNS only if it is a whole, strictly valid message: the
	 * kernel judged by 12 bytes. A copy cut by --max-payload cannot be judged whole, and its
	 * header has passed: it goes to the parser. Garbage on port 53 is DNS gone wrong, and
	 * counted so. */
	if (o->tuple.proto == IPPROTO_UDP && o->tuple.sport != DNS_PORT &&
	    o->tuple.dport != DNS_PORT && o->cap == o->len && !dns_looks_like(o->p, o->cap)) {
		t->stats.not_dns++;
		return;
	}
	if (dns_parse(o->p, o->cap, o->cap < o->len, m) != 0) {
		t->stats.parse_errors++;
		return;
	}
	t->stats.messages++;
	query = !m->qr;
	/* A process that sent a query or received a response asked it. */
	v = wire ? VIEW_WIRE : o->process_sent == query ? VIEW_CLIENT : VIEW_SERVER;
	if (query)
		cs = o->tuple;
	else
		tuple_reverse(&o->tuple, &cs);
	k.qhash = question_hash(m);
	k.cport = cs.sport;
	k.sport = cs.dport;
	k.id = m->id;
	k.transport = cs.proto;

	x = (struct txn *)lru_find(&t->t, &k);
	if (x && x->state == T_DONE) {
		t->stats.late_copies++;
		return;
	}
	if (!x) {
		x = txn_new(t, &k);
		if (!x)
			return;
		if (query) {
			t->stats.queries++;
			enqueue(t, x, T_WAITING, o->ts_first + t->cfg.timeout_ns);
		} else {
			t->stats.responses++;
			enqueue(t, x, T_READY, o->ts_last + t->cfg.hold_ns);
		}
	} else if (query) {
		uint64_t seen = x->q_ts[v];
		uint64_t apart = o->ts_first > seen ? o->ts_first - seen : seen - o->ts_first;

		if (seen && apart >= SAME_COPY_NS)
			t->stats.retransmits++;
		else if (seen || x->q.p)
			t->stats.copies++;
		else
			t->stats.queries++; /* the query of a response seen first */
	} else if (x->r.p) {
		t->stats.copies++;
	} else {
		t->stats.responses++;
		dequeue(t, x);
		enqueue(t, x, T_READY, o->ts_last + t->cfg.hold_ns);
	}
	lru_touch(&t->t, &x->node);
	keep_msg(query ? &x->q : &x->r, o);
	note_copy(x, o, &cs, v, query);
}

void dns_table_tick(struct dns_table *t, uint64_t now)
{
	struct txn *x;

	while ((x = t->queues[T_WAITING].head) && x->due <= now)
		retire(t, x, now);
	while ((x = t->queues[T_READY].head) && x->due <= now)
		retire(t, x, now);
	while ((x = t->queues[T_DONE].head) && x->due <= now)
		txn_free(t, x);
}

void dns_table_flush(struct dns_table *t)
{
	struct txn *x;

	while ((x = t->queues[T_WAITING].head))
		retire(t, x, x->due);
	while ((x = t->queues[T_READY].head))
		retire(t, x, x->due);
	while ((x = t->queues[T_DONE].head))
		txn_free(t, x);
}

void dns_table_free(struct dns_table *t)
{
	struct txn *x;

	if (!t)
		return;
	for (int s = 0; s < 3; s++)
		while ((x = t->queues[s].head))
			txn_free(t, x);
	lru_destroy(&t->t);
	free(t);
}
