#include "encode.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static const char *const redacted_headers[] = {"authorization", "cookie", "set-cookie",
                                               "proxy-authorization"};

bool encode_header_redacted(struct http_slice name)
{
	for (size_t i = 0; i < sizeof(redacted_headers) / sizeof(redacted_headers[0]); i++)
		if (http_slice_eq(name, redacted_headers[i]))
			return true;
	return false;
}

static void jw_slice(struct jw *w, const char *key, struct http_slice s)
{
	jw_strn(w, key, s.p, s.n);
}

static void begin_event(struct jw *w, const struct l7_event *ev, const struct encode_opts *o,
                        const char *kind)
{
	jw_obj_open(w, NULL);
	jw_time(w, "@timestamp", ev->ts_start);
	jw_str(w, "schema_version", L7_SCHEMA_VERSION);
	jw_obj_open(w, "event");
	jw_str(w, "kind", kind);
	if (ev->dataset != L7_DATASET_STATS) {
		jw_arr_open(w, "category");
		jw_str(w, NULL, "network");
		if (ev->dataset == L7_DATASET_HTTP)
			jw_str(w, NULL, "web");
		jw_arr_close(w);
		jw_arr_open(w, "type");
		jw_str(w, NULL, "protocol");
		jw_arr_close(w);
	}
	jw_str(w, "dataset", l7_dataset_name(ev->dataset));
	jw_time(w, "start", ev->ts_start);
	jw_time(w, "end", ev->ts_end);
	jw_u64(w, "duration", ev->ts_end > ev->ts_start ? ev->ts_end - ev->ts_start : 0);
	jw_obj_close(w);
	jw_obj_open(w, "host");
	jw_str(w, "name", o->host_name);
	jw_obj_close(w);
}

static void endpoint(struct jw *w, const char *key, const char *ip, uint16_t port, uint64_t bytes)
{
	jw_obj_open(w, key);
	jw_str(w, "ip", ip);
	jw_u64(w, "port", port);
	jw_u64(w, "bytes", bytes);
	jw_obj_close(w);
}

/* ECS names both views of a connection: source/destination and client/server. Here the client
 * is the source. */
static void network(struct jw *w, const struct l7_event *ev, const char *protocol)
{
	const struct l7_tuple *t = &ev->tuple;
	char cip[L7_ADDRSTRLEN], sip[L7_ADDRSTRLEN];

	jw_obj_open(w, "network");
	jw_str(w, "transport", t->proto == IPPROTO_UDP ? "udp" : "tcp");
	jw_str(w, "type", t->family == AF_INET6 ? "ipv6" : "ipv4");
	jw_str(w, "protocol", protocol);
	if (ev->community_id)
		jw_str(w, "community_id", ev->community_id);
	jw_u64(w, "bytes", ev->client_bytes + ev->server_bytes);
	jw_obj_close(w);
	addr_format(t->family, t->saddr, cip);
	addr_format(t->family, t->daddr, sip);
	endpoint(w, "source", cip, t->sport, ev->client_bytes);
	endpoint(w, "destination", sip, t->dport, ev->server_bytes);
	endpoint(w, "client", cip, t->sport, ev->client_bytes);
	endpoint(w, "server", sip, t->dport, ev->server_bytes);
}

static void id_string(struct jw *w, const char *obj, uint32_t id)
{
	char buf[11];
	int n = 0;

	/* ECS user.id and group.id are keywords: strings. */
	do {
		buf[sizeof(buf) - 1 - n++] = (char)('0' + id % 10);
		id /= 10;
	} while (id);
	jw_obj_open(w, obj);
	jw_strn(w, "id", buf + sizeof(buf) - n, (size_t)n);
	jw_obj_close(w);
}

static void process(struct jw *w, const struct ev_process *p)
{
	jw_obj_open(w, "process");
	jw_u64(w, "pid", p->pid);
	if (p->name)
		jw_str(w, "name", p->name);
	if (p->executable)
		jw_str(w, "executable", p->executable);
	jw_obj_open(w, "thread");
	jw_u64(w, "id", p->tid);
	if (p->thread_name)
		jw_str(w, "name", p->thread_name);
	jw_obj_close(w);
	id_string(w, "user", p->uid);
	id_string(w, "group", p->gid);
	jw_obj_close(w);
	if (p->container_id) {
		jw_obj_open(w, "container");
		jw_str(w, "id", p->container_id);
		jw_obj_close(w);
	}
}

static void capture(struct jw *w, const struct l7_event *ev)
{
	jw_obj_open(w, "capture");
	jw_str(w, "source", l7_source_name(ev->source));
	if (ev->interface)
		jw_str(w, "interface", ev->interface);
	jw_bool(w, "truncated", ev->truncated);
	jw_obj_close(w);
}

/* Content-Type without its parameters. */
static void mime_type(struct jw *w, const struct http_head *h)
{
	const struct http_header *ct = http_find_header(h, "content-type");
	struct http_slice v;
	const char *semi;

	if (!ct)
		return;
	v = ct->value;
	semi = memchr(v.p, ';', v.n);
	if (semi)
		v.n = (size_t)(semi - v.p);
	while (v.n && (v.p[v.n - 1] == ' ' || v.p[v.n - 1] == '\t'))
		v.n--;
	if (v.n)
		jw_slice(w, "mime_type", v);
}

/* Header fields by lower-cased name; repeated fields joined with ", " (RFC 9110 5.3). */
static void headers(struct jw *w, const struct http_head *h)
{
	struct jw_piece joined[2 * HTTP_MAX_HEADERS];

	jw_obj_open(w, "headers");
	for (uint16_t i = 0; i < h->n_headers; i++) {
		struct http_slice name = h->headers[i].name;
		char key[128];
		size_t k, n = name.n < sizeof(key) - 1 ? name.n : sizeof(key) - 1, pieces = 0;
		uint16_t j;

		for (j = 0; j < i; j++)
			if (h->headers[j].name.n == name.n &&
			    strncasecmp(h->headers[j].name.p, name.p, name.n) == 0)
				break;
		if (j < i)
			continue; /* joined into the first one */
		for (k = 0; k < n; k++)
			key[k] = (char)(name.p[k] >= 'A' && name.p[k] <= 'Z' ? name.p[k] + 32
			                                                     : name.p[k]);
		key[n] = '\0';
		if (encode_header_redacted(name)) {
			jw_str(w, key, "[REDACTED]");
			continue;
		}
		for (j = i; j < h->n_headers; j++) {
			const struct http_header *hd = &h->headers[j];

			if (hd->name.n != name.n || strncasecmp(hd->name.p, name.p, name.n) != 0)
				continue;
			if (pieces)
				joined[pieces++] = (struct jw_piece){", ", 2};
			joined[pieces++] = (struct jw_piece){hd->value.p, hd->value.n};
		}
		jw_strv(w, key, joined, pieces);
	}
	jw_obj_close(w);
}

struct url_parts {
	struct http_slice scheme, authority, path, query, domain, port;
};

static bool slice_starts(struct http_slice s, const char *lower)
{
	size_t n = strlen(lower);

	return s.n >= n && http_slice_eq((struct http_slice){s.p, n}, lower);
}

/* Splits host[:port] (or [v6]:port). */
static void split_authority(struct url_parts *u)
{
	struct http_slice a = u->authority;
	const char *colon;

	if (a.n && a.p[0] == '[') {
		const char *close = memchr(a.p, ']', a.n);

		if (!close)
			return;
		u->domain = (struct http_slice){a.p + 1, (size_t)(close - a.p - 1)};
		if ((size_t)(close - a.p) + 1 < a.n && close[1] == ':')
			u->port = (struct http_slice){close + 2, a.n - (size_t)(close - a.p) - 2};
		return;
	}
	colon = a.n ? memchr(a.p, ':', a.n) : NULL; /* no Host: a.p is NULL */
	u->domain = (struct http_slice){a.p, colon ? (size_t)(colon - a.p) : a.n};
	if (colon)
		u->port = (struct http_slice){colon + 1, a.n - (size_t)(colon - a.p) - 1};
}

/* RFC 9112 3.2: origin-form (/path?query), absolute-form (to proxies), authority-form (CONNECT)
 * and asterisk-form (OPTIONS *). The authority comes from the target when it has one, else from
 * the Host field. */
static void url_split(const struct http_head *rq, struct url_parts *u)
{
	struct http_slice t = rq->target;
	const struct http_header *host = http_find_header(rq, "host");
	const char *q, *frag;

	memset(u, 0, sizeof(*u));
	u->scheme = (struct http_slice){"http", 4};
	if (host)
		u->authority = host->value;
	if (http_slice_eq(rq->method, "connect")) {
		u->authority = t;
		t.n = 0;
	} else if (slice_starts(t, "http://") || slice_starts(t, "https://")) {
		const char *sep = memchr(t.p, ':', t.n);
		const char *a = sep + 3, *end = t.p + t.n, *p = a;

		u->scheme = (struct http_slice){t.p, (size_t)(sep - t.p)};
		while (p < end && *p != '/' && *p != '?' && *p != '#')
			p++;
		u->authority = (struct http_slice){a, (size_t)(p - a)};
		t = (struct http_slice){p, (size_t)(end - p)};
	}
	split_authority(u);
	frag = memchr(t.p, '#', t.n);
	if (frag)
		t.n = (size_t)(frag - t.p);
	q = memchr(t.p, '?', t.n);
	u->path = (struct http_slice){t.p, q ? (size_t)(q - t.p) : t.n};
	if (q)
		u->query = (struct http_slice){q + 1, t.n - u->path.n - 1};
}

static uint16_t parse_port(struct http_slice s, uint16_t fallback)
{
	uint32_t v = 0;

	if (s.n == 0 || s.n > 5)
		return fallback;
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return fallback;
		v = v * 10 + (uint32_t)(s.p[i] - '0');
	}
	return v && v <= 65535 ? (uint16_t)v : fallback;
}

static void url(struct jw *w, const struct l7_event *ev)
{
	const struct http_head *rq = ev->http.req;
	struct url_parts u;
	struct jw_piece full[9];
	size_t n = 0;
	char ip[L7_ADDRSTRLEN], port[8];

	url_split(rq, &u);
	jw_obj_open(w, "url");
	jw_slice(w, "scheme", u.scheme);
	if (u.domain.n)
		jw_slice(w, "domain", u.domain);
	jw_u64(w, "port", parse_port(u.port, ev->tuple.dport));
	if (u.path.n)
		jw_slice(w, "path", u.path);
	if (u.query.n)
		jw_slice(w, "query", u.query);
	/* url.full: scheme://authority/path?query, with the server's address when the request
	 * named no host (HTTP/1.0). */
	full[n++] = (struct jw_piece){u.scheme.p, u.scheme.n};
	full[n++] = (struct jw_piece){"://", 3};
	if (u.authority.n) {
		full[n++] = (struct jw_piece){u.authority.p, u.authority.n};
	} else {
		bool v6 = ev->tuple.family == AF_INET6;

		addr_format(ev->tuple.family, ev->tuple.daddr, ip);
		full[n++] = (struct jw_piece){"[", v6};
		full[n++] = (struct jw_piece){ip, strlen(ip)};
		full[n++] = (struct jw_piece){"]", v6};
		full[n++] = (struct jw_piece){
		        port, (size_t)snprintf(port, sizeof(port), ":%u", ev->tuple.dport)};
	}
	full[n++] = (struct jw_piece){u.path.p, u.path.n};
	if (u.query.n) {
		full[n++] = (struct jw_piece){"?", 1};
		full[n++] = (struct jw_piece){u.query.p, u.query.n};
	}
	jw_strv(w, "full", full, n);
	jw_obj_close(w);
}

static void http(struct jw *w, const struct l7_event *ev, const struct encode_opts *o)
{
	const struct ev_http *h = &ev->http;
	const struct http_head *rq = h->req, *rs = h->resp;
	const struct http_header *ua = http_find_header(rq, "user-agent");
	const struct http_header *ref = http_find_header(rq, "referer");
	char version[4] = "1.x";

	jw_obj_open(w, "http");
	if (!rq->start_line_cut || rs) {
		version[2] =
		        (char)('0' + (rq->start_line_cut ? rs->minor_version : rq->minor_version));
		jw_str(w, "version", version);
	}
	jw_obj_open(w, "request");
	jw_slice(w, "method", rq->method);
	jw_u64(w, "bytes", h->req_bytes);
	jw_obj_open(w, "body");
	jw_u64(w, "bytes", h->req_body_bytes);
	jw_obj_close(w);
	mime_type(w, rq);
	if (ref)
		jw_slice(w, "referrer", ref->value);
	if (o->http_headers)
		headers(w, rq);
	jw_obj_close(w);
	if (rs) {
		jw_obj_open(w, "response");
		jw_u64(w, "status_code", rs->status);
		jw_u64(w, "bytes", h->resp_bytes);
		jw_obj_open(w, "body");
		jw_u64(w, "bytes", h->resp_body_bytes);
		jw_obj_close(w);
		mime_type(w, rs);
		if (o->http_headers)
			headers(w, rs);
		jw_obj_close(w);
	}
	jw_obj_close(w);
	url(w, ev);
	if (ua) {
		jw_obj_open(w, "user_agent");
		jw_slice(w, "original", ua->value);
		jw_obj_close(w);
	}
}

static void dns_flag(struct jw *w, bool on, const char *name)
{
	if (on)
		jw_str(w, NULL, name);
}

static void dns_answers(struct jw *w, const struct dns_msg *r)
{
	char t[16], c[16];

	jw_arr_open(w, "answers");
	for (uint16_t i = 0; i < r->n_answers; i++) {
		const struct dns_rr *a = &r->answers[i];

		jw_obj_open(w, NULL);
		jw_str(w, "name", a->name);
		jw_str(w, "type", dns_type_name(a->type, t));
		jw_str(w, "class", dns_class_name(a->class, c));
		jw_u64(w, "ttl", a->ttl);
		jw_str(w, "data", a->data);
		jw_obj_close(w);
	}
	jw_arr_close(w);
	jw_arr_open(w, "resolved_ip");
	for (uint16_t i = 0; i < r->n_answers; i++)
		if (r->answers[i].type == 1 || r->answers[i].type == 28) /* A, AAAA */
			jw_str(w, NULL, r->answers[i].data);
	jw_arr_close(w);
}

/* ECS dns.*: the header of the response when there is one (its flags say what the server did),
 * the question as asked. */
static void dns(struct jw *w, const struct l7_event *ev)
{
	const struct dns_msg *q = ev->dns.query, *r = ev->dns.resp, *m = r ? r : q, *ask;
	char buf[16];

	jw_obj_open(w, "dns");
	jw_str(w, "type", r ? "answer" : "query");
	jw_strn(w, "id", buf, (size_t)snprintf(buf, sizeof(buf), "%u", m->id));
	jw_str(w, "op_code", dns_opcode_name(m->opcode, buf));
	jw_arr_open(w, "header_flags");
	dns_flag(w, m->aa, "AA");
	dns_flag(w, m->tc, "TC");
	dns_flag(w, m->rd, "RD");
	dns_flag(w, m->ra, "RA");
	dns_flag(w, m->ad, "AD");
	dns_flag(w, m->cd, "CD");
	jw_arr_close(w);
	if (r)
		jw_str(w, "response_code", dns_rcode_name(r->rcode, buf));
	/* The question as asked, or as the response repeats it. */
	ask = q && q->has_question ? q : m;
	if (ask->has_question) {
		jw_obj_open(w, "question");
		jw_str(w, "name", ask->question.name);
		jw_str(w, "type", dns_type_name(ask->question.type, buf));
		jw_str(w, "class", dns_class_name(ask->question.class, buf));
		jw_obj_close(w);
	}
	if (r)
		dns_answers(w, r);
	jw_obj_close(w);
}

/* What ECS has no field for: EDNS as each side advertised it, and records left out. */
static void l7_dns(struct jw *w, const struct l7_event *ev)
{
	const struct dns_msg *side[2] = {ev->dns.query, ev->dns.resp};
	const char *names[2] = {"query", "response"};

	jw_obj_open(w, "dns");
	for (int i = 0; i < 2; i++) {
		if (!side[i] || !side[i]->has_edns)
			continue;
		jw_obj_open(w, names[i]);
		jw_obj_open(w, "edns");
		jw_u64(w, "udp_size", side[i]->edns_udp_size);
		jw_bool(w, "do", side[i]->edns_do);
		jw_obj_close(w);
		jw_obj_close(w);
	}
	if (ev->dns.resp)
		jw_bool(w, "answers_dropped", ev->dns.resp->answers_dropped);
	jw_obj_close(w);
}

static void l7(struct jw *w, const struct l7_event *ev)
{
	jw_obj_open(w, "l7");
	jw_str(w, "status", ev->status);
	if (ev->role)
		jw_str(w, "role", ev->role);
	if (ev->dataset == L7_DATASET_DNS) {
		l7_dns(w, ev);
	} else if (ev->http.resp) {
		jw_obj_open(w, "http");
		jw_slice(w, "status_phrase", ev->http.resp->reason);
		jw_obj_close(w);
	}
	jw_obj_close(w);
}

static void stats(struct jw *w, const struct ev_stats *s)
{
	const char *group = NULL;

	jw_obj_open(w, "l7");
	jw_obj_open(w, "stats");
	jw_u64(w, "uptime_ns", s->uptime_ns);
	for (uint32_t i = 0; i < s->n; i++) {
		const struct stat_entry *e = &s->entries[i];

		if (!group || strcmp(group, e->group) != 0) {
			if (group)
				jw_obj_close(w);
			group = e->group;
			jw_obj_open(w, group);
		}
		jw_u64(w, e->name, e->value);
	}
	if (group)
		jw_obj_close(w);
	jw_obj_close(w);
	jw_obj_close(w);
}

int encode_json(struct jw *w, const struct l7_event *ev, const struct encode_opts *o)
{
	if (ev->dataset == L7_DATASET_STATS) {
		begin_event(w, ev, o, "metric");
		stats(w, &ev->stats);
	} else {
		begin_event(w, ev, o, "event");
		network(w, ev, l7_dataset_name(ev->dataset));
		if (ev->process)
			process(w, ev->process);
		if (ev->dataset == L7_DATASET_DNS)
			dns(w, ev);
		else
			http(w, ev, o);
		capture(w, ev);
		l7(w, ev);
	}
	jw_obj_close(w);
	jw_raw(w, "\n", 1);
	return jw_error(w);
}
