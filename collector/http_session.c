#include "http_session.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum req_method {
	METHOD_OTHER,
	METHOD_HEAD,    /* its response has no body whatever the headers say */
	METHOD_CONNECT, /* a 2xx response turns the connection into a tunnel */
};

/* A message kept past its callback: a copy of its header block and its counts. */
struct http_part {
	char *raw;
	uint32_t raw_len;
	uint32_t raw_cap;
	bool raw_partial;
	bool truncated;
	uint64_t ts_start;
	uint64_t ts_end;
	uint64_t wire_bytes;
	uint64_t body_bytes;
};

/* A request waiting for its response. Its head is kept parsed, its slices pointing into
 * part.raw: parsing it again when it was reported was one of five parses per exchange. That
 * makes a request 2 KB, past malloc's fast path, so answered requests are kept for the next
 * ones (struct http_spares). A response that came early is kept raw and parsed when reported:
 * that is rare. */
struct http_req {
	struct http_req *next;
	struct http_part part;
	struct http_part *early; /* a response that ended before this request did */
	uint8_t method;
	bool complete;
	struct http_head head;
};

/* The stream callbacks' context: which session, and which of its directions. */
struct call {
	struct http_session *s;
	const struct http_session_env *env;
	int dir;
};

static const struct http_stream_ops stream_ops;

void http_session_init(struct http_session *s)
{
	memset(s, 0, sizeof(*s));
	http_stream_init(&s->dir[0], HTTP_KIND_UNKNOWN);
	http_stream_init(&s->dir[1], HTTP_KIND_UNKNOWN);
	s->client_dir = -1;
}

bool http_session_hunting(const struct http_session *s)
{
	return http_stream_hunting(&s->dir[0]) && http_stream_hunting(&s->dir[1]);
}

void http_session_midstream(struct http_session *s)
{
	http_stream_midstream(&s->dir[0]);
	http_stream_midstream(&s->dir[1]);
}

static void part_counts(struct http_part *p, const struct http_msg *m)
{
	p->truncated = m->truncated;
	p->ts_start = m->ts_start;
	p->ts_end = m->ts_end;
	p->wire_bytes = m->wire_bytes;
	p->body_bytes = m->body_bytes;
}

static bool part_save(struct http_part *p, const struct http_msg *m)
{
	uint32_t need = m->raw_len ? m->raw_len : 1;

	if (p->raw_cap < need) {
		char *raw = realloc(p->raw, need);

		if (!raw)
			return false;
		p->raw = raw;
		p->raw_cap = need;
	}
	memcpy(p->raw, m->raw, m->raw_len);
	p->raw_len = m->raw_len;
	p->raw_partial = m->raw_partial;
	part_counts(p, m);
	return true;
}

static void rebase(struct http_slice *sl, const char *from, const char *to)
{
	if (sl->p)
		sl->p = to + (sl->p - from);
}

/* The head of m, its slices moved from m's buffer to the copy in r->part.raw. */
static void keep_head(struct http_req *r, const struct http_msg *m)
{
	struct http_head *h = &r->head;

	memcpy(h, &m->head,
	       offsetof(struct http_head, headers) +
	               m->head.n_headers * sizeof(m->head.headers[0]));
	rebase(&h->method, m->raw, r->part.raw);
	rebase(&h->target, m->raw, r->part.raw);
	rebase(&h->reason, m->raw, r->part.raw);
	for (uint16_t i = 0; i < h->n_headers; i++) {
		rebase(&h->headers[i].name, m->raw, r->part.raw);
		rebase(&h->headers[i].value, m->raw, r->part.raw);
	}
}

static struct http_req *req_new(struct http_spares *sp)
{
	struct http_req *r = sp ? sp->list : NULL;
	struct http_part part = {0};

	if (r) {
		sp->list = r->next;
		sp->n--;
		part = (struct http_part){.raw = r->part.raw, .raw_cap = r->part.raw_cap};
	} else if (!(r = malloc(sizeof(*r)))) {
		return NULL;
	}
	r->next = NULL;
	r->part = part;
	r->early = NULL;
	r->method = METHOD_OTHER;
	r->complete = false;
	return r;
}

static void req_free(struct http_spares *sp, struct http_req *r)
{
	if (r->early) {
		free(r->early->raw);
		free(r->early);
	}
	if (sp && sp->n < HTTP_SPARES_MAX) {
		if (r->part.raw_cap > HTTP_SPARE_RAW_MAX) {
			free(r->part.raw);
			r->part.raw = NULL;
			r->part.raw_cap = 0;
		}
		r->next = sp->list;
		sp->list = r;
		sp->n++;
		return;
	}
	free(r->part.raw);
	free(r);
}

void http_spares_free(struct http_spares *sp)
{
	while (sp->list) {
		struct http_req *r = sp->list;

		sp->list = r->next;
		free(r->part.raw);
		free(r);
	}
	sp->n = 0;
}

static void pop_oldest(struct http_session *s, struct http_spares *sp)
{
	struct http_req *r = s->oldest;

	s->oldest = r->next;
	if (!s->oldest)
		s->newest = NULL;
	s->n_pending--;
	req_free(sp, r);
}

/* Reports the oldest request, with its response if there is one (a live one with its head
 * already parsed, or one that waited), and forgets it. */
static void report_oldest(struct call *c, const struct http_head *resp_head,
                          const struct http_part *resp)
{
	struct http_session *s = c->s;
	struct http_stats *st = c->env->cfg->stats;
	struct http_req *r = s->oldest;
	struct http_head saved_head;
	struct http_report rep;

	if (!resp)
		resp = r->early;
	if (resp && !resp_head) {
		if (http_parse_response(resp->raw, resp->raw_len, resp->raw_partial, &saved_head) <
		    0)
			resp = NULL;
		else
			resp_head = &saved_head;
	}
	rep = (struct http_report){
	        .client_dir = s->client_dir,
	        .req = &r->head,
	        .resp = resp ? resp_head : NULL,
	        .ts_start = r->part.ts_start,
	        .ts_end = r->part.ts_end,
	        .req_bytes = r->part.wire_bytes,
	        .req_body_bytes = r->part.body_bytes,
	        .truncated = r->part.truncated,
	};
	if (resp) {
		if (resp->ts_end > rep.ts_end)
			rep.ts_end = resp->ts_end;
		rep.resp_bytes = resp->wire_bytes;
		rep.resp_body_bytes = resp->body_bytes;
		rep.truncated |= resp->truncated;
		st->exchanges++;
	} else {
		st->no_response++;
	}
	c->env->emit(c->env->ctx, &rep);
	pop_oldest(s, c->env->cfg->spares);
}

static void learn_direction(struct call *c, enum http_kind kind)
{
	struct http_session *s = c->s;

	if (s->client_dir >= 0)
		return;
	s->client_dir = (int8_t)(kind == HTTP_KIND_REQUEST ? c->dir : !c->dir);
	http_stream_set_kind(&s->dir[!c->dir],
	                     kind == HTTP_KIND_REQUEST ? HTTP_KIND_RESPONSE : HTTP_KIND_REQUEST);
}

static void on_request_head(struct call *c, const struct http_msg *m)
{
	struct http_session *s = c->s;
	struct http_req *r;

	if (s->n_pending >= c->env->cfg->max_pending) {
		c->env->cfg->stats->pending_overflow++;
		report_oldest(c, NULL, NULL);
	}
	r = req_new(c->env->cfg->spares);
	if (!r || !part_save(&r->part, m)) {
		if (r)
			req_free(c->env->cfg->spares, r);
		c->env->cfg->stats->pending_overflow++;
		return;
	}
	keep_head(r, m);
	if (http_slice_eq(m->head.method, "head"))
		r->method = METHOD_HEAD;
	else if (http_slice_eq(m->head.method, "connect"))
		r->method = METHOD_CONNECT;
	if (s->newest)
		s->newest->next = r;
	else
		s->oldest = r;
	s->newest = r;
	s->n_pending++;
}

static void on_request(struct call *c, const struct http_msg *m)
{
	struct http_session *s = c->s;
	struct http_req *r = s->newest;

	/* Requests end in the order they start, so the one ending is the newest. */
	if (!r || r->complete)
		return;
	part_counts(&r->part, m);
	r->complete = true;
	if (r->early && r == s->oldest)
		report_oldest(c, NULL, NULL);
}

static void on_response_head(struct call *c, struct http_msg *m)
{
	const struct http_req *r = c->s->oldest;
	uint16_t status = m->head.status;

	if (status < 200)
		m->body = status == 101 ? HTTP_BODY_TUNNEL : HTTP_BODY_NONE;
	else if (status == 204 || status == 304 || (r && r->method == METHOD_HEAD))
		m->body = HTTP_BODY_NONE;
	else if (r && r->method == METHOD_CONNECT && status < 300)
		m->body = HTTP_BODY_TUNNEL;
}

/* Pairs a response that is not interim (101 included) with the oldest request. */
static void pair_response(struct call *c, const struct http_msg *m)
{
	struct http_session *s = c->s;
	struct http_stats *st = c->env->cfg->stats;
	struct http_req *r = s->oldest;
	struct http_part live;

	if (!r) {
		st->unpaired_responses++;
		return;
	}
	if (!r->complete && http_stream_lost(&s->dir[s->client_dir])) {
		/* The request lost bytes and its end was never found: its response marks it. If
		 * that response came early, finishing the request reports (and frees) it with
		 * that one, and this response has no request left. */
		struct call rc = {s, c->env, s->client_dir};
		bool answered = r->early != NULL;

		http_stream_finish_lost(&s->dir[s->client_dir], c->env->cfg, &stream_ops, &rc);
		if (answered) {
			st->unpaired_responses++;
			return;
		}
	}
	if (r->complete) {
		part_counts(&live, m);
		report_oldest(c, &m->head, &live);
		return;
	}
	/* The server answered before the request ended (say, rejecting an upload it did not
	 * read): keep the response until the request is complete. */
	if (r->early) {
		st->unpaired_responses++;
		return;
	}
	r->early = calloc(1, sizeof(*r->early));
	if (!r->early || !part_save(r->early, m)) {
		free(r->early);
		r->early = NULL;
		st->unpaired_responses++;
	}
}

static void on_response(struct call *c, const struct http_msg *m)
{
	struct http_session *s = c->s;

	if (m->head.status < 200 && m->head.status != 101) {
		c->env->cfg->stats->informational++;
		return;
	}
	pair_response(c, m);
	if (m->body == HTTP_BODY_TUNNEL) {
		/* The connection carries something else both ways now: the client's bytes are
		 * no more requests than the server's are responses. */
		struct call rc = {s, c->env, s->client_dir};

		http_stream_end(&s->dir[s->client_dir], c->env->cfg, &stream_ops, &rc, true,
		                m->ts_end);
	}
}

/* Both directions can take the same kind before either message is complete (each decides from
 * its own first bytes): once the client is known, a request from the server or a response from
 * the client is not part of the conversation. */
static bool wrong_way(const struct call *c, enum http_kind kind)
{
	return (kind == HTTP_KIND_REQUEST) != (c->dir == c->s->client_dir);
}

static void on_head(void *ctx, struct http_msg *m)
{
	struct call *c = ctx;

	learn_direction(c, m->kind);
	if (wrong_way(c, m->kind)) {
		c->env->cfg->stats->parse_errors++;
		return;
	}
	if (m->kind == HTTP_KIND_REQUEST)
		on_request_head(c, m);
	else
		on_response_head(c, m);
}

static void on_message(void *ctx, const struct http_msg *m)
{
	struct call *c = ctx;

	if (wrong_way(c, m->kind))
		return;
	if (m->kind == HTTP_KIND_REQUEST)
		on_request(c, m);
	else
		on_response(c, m);
}

static const struct http_stream_ops stream_ops = {
        .head = on_head,
        .message = on_message,
};

void http_session_data(struct http_session *s, const struct http_session_env *env, int dir,
                       const uint8_t *p, size_t n, uint64_t ts)
{
	struct call c = {s, env, dir};

	http_stream_data(&s->dir[dir], env->cfg, &stream_ops, &c, p, n, ts);
}

void http_session_gap(struct http_session *s, const struct http_session_env *env, int dir, size_t n,
                      uint64_t ts)
{
	struct call c = {s, env, dir};

	http_stream_gap(&s->dir[dir], env->cfg, &stream_ops, &c, n, ts);
}

void http_session_fin(struct http_session *s, const struct http_session_env *env, int dir,
                      uint64_t ts)
{
	struct call c = {s, env, dir};

	http_stream_end(&s->dir[dir], env->cfg, &stream_ops, &c, true, ts);
}

void http_session_expire(struct http_session *s, const struct http_session_env *env, uint64_t now)
{
	struct call c = {s, env, s->client_dir};

	while (s->oldest && s->oldest->complete && now > s->oldest->part.ts_end &&
	       now - s->oldest->part.ts_end > env->cfg->response_timeout_ns)
		report_oldest(&c, NULL, NULL);
}

void http_session_close(struct http_session *s, const struct http_session_env *env, bool closed,
                        uint64_t ts)
{
	for (int d = 0; d < 2; d++) {
		struct call c = {s, env, d};

		http_stream_end(&s->dir[d], env->cfg, &stream_ops, &c, closed, ts);
	}
	while (s->oldest) {
		struct call c = {s, env, s->client_dir};

		report_oldest(&c, NULL, NULL);
	}
}

void http_session_free(struct http_session *s)
{
	while (s->oldest)
		pop_oldest(s, NULL);
	http_stream_free(&s->dir[0]);
	http_stream_free(&s->dir[1]);
}
