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

/* HTTP and DNS events are written directly (jw_lit and jw_val_*: literal member names and
 * punctuation), the stats event through the checked calls: events are the hot path, and their
 * structure is fixed, so tests/unit/test_encode_json.c pins it whole. Every object below opens
 * with a member it always has, so optional members follow with their comma. */

static void slice(struct jw *w, struct http_slice s)
{
	jw_val_str(w, s.p, s.n);
}

/* An optional string member, written when s is not NULL; member is its literal ,"name": */
static void opt_cstr(struct jw *w, const char *member, size_t member_len, const char *s)
{
	if (!s)
		return;
	jw_lit_n(w, member, member_len);
	jw_val_cstr(w, s);
}

#define OPT_CSTR(w, member, s) opt_cstr((w), (member), sizeof(member) - 1, (s))

/* The top-level object, left open. */
static void begin_event(struct jw *w, const struct l7_event *ev, const struct encode_opts *o,
                        const char *kind)
{
	jw_lit(w, "{\"@timestamp\":");
	jw_val_time(w, ev->ts_start);
	jw_lit(w, ",\"schema_version\":\"" L7_SCHEMA_VERSION "\",\"event\":{\"kind\":");
	jw_val_name(w, kind);
	if (ev->dataset == L7_DATASET_HTTP)
		jw_lit(w, ",\"category\":[\"network\",\"web\"],\"type\":[\"protocol\"]");
	else if (ev->dataset != L7_DATASET_STATS)
		jw_lit(w, ",\"category\":[\"network\"],\"type\":[\"protocol\"]");
	jw_lit(w, ",\"dataset\":");
	jw_val_name(w, l7_dataset_name(ev->dataset));
	jw_lit(w, ",\"start\":");
	jw_val_time(w, ev->ts_start);
	jw_lit(w, ",\"end\":");
	jw_val_time(w, ev->ts_end);
	jw_lit(w, ",\"duration\":");
	jw_val_u64(w, ev->ts_end > ev->ts_start ? ev->ts_end - ev->ts_start : 0);
	jw_lit(w, "},\"host\":{\"name\":");
	jw_val_cstr(w, o->host_name);
	jw_lit(w, "}");
}

/* An endpoint object's members, after its ,"name":{ */
static void endpoint(struct jw *w, const char *ip, size_t ip_len, uint16_t port, uint64_t bytes)
{
	jw_lit(w, "\"ip\":");
	jw_val_plain(w, ip, ip_len);
	jw_lit(w, ",\"port\":");
	jw_val_u64(w, port);
	jw_lit(w, ",\"bytes\":");
	jw_val_u64(w, bytes);
	jw_lit(w, "}");
}

/* ECS names both views of a connection: source/destination and client/server. Here the client
 * is the source. */
static void network(struct jw *w, const struct l7_event *ev, const char *protocol)
{
	const struct l7_tuple *t = &ev->tuple;
	char cip[L7_ADDRSTRLEN], sip[L7_ADDRSTRLEN];
	size_t cn, sn;

	jw_lit(w, ",\"network\":{\"transport\":");
	jw_val_name(w, t->proto == IPPROTO_UDP ? "udp" : "tcp");
	jw_lit(w, ",\"type\":");
	jw_val_name(w, t->family == AF_INET6 ? "ipv6" : "ipv4");
	jw_lit(w, ",\"protocol\":");
	jw_val_name(w, protocol);
	OPT_CSTR(w, ",\"community_id\":", ev->community_id);
	jw_lit(w, ",\"bytes\":");
	jw_val_u64(w, ev->client_bytes + ev->server_bytes);
	jw_lit(w, "}");
	addr_format(t->family, t->saddr, cip);
	addr_format(t->family, t->daddr, sip);
	cn = strlen(cip);
	sn = strlen(sip);
	jw_lit(w, ",\"source\":{");
	endpoint(w, cip, cn, t->sport, ev->client_bytes);
	jw_lit(w, ",\"destination\":{");
	endpoint(w, sip, sn, t->dport, ev->server_bytes);
	jw_lit(w, ",\"client\":{");
	endpoint(w, cip, cn, t->sport, ev->client_bytes);
	jw_lit(w, ",\"server\":{");
	endpoint(w, sip, sn, t->dport, ev->server_bytes);
}

/* {"id":"N"}: ECS user.id and group.id are keywords, strings. */
static void id_object(struct jw *w, uint32_t id)
{
	char buf[11];
	int n = 0;

	do {
		buf[sizeof(buf) - 1 - n++] = (char)('0' + id % 10);
		id /= 10;
	} while (id);
	jw_lit(w, "{\"id\":");
	jw_val_str(w, buf + sizeof(buf) - n, (size_t)n);
	jw_lit(w, "}");
}

static void process(struct jw *w, const struct ev_process *p)
{
	jw_lit(w, ",\"process\":{\"pid\":");
	jw_val_u64(w, p->pid);
	OPT_CSTR(w, ",\"name\":", p->name);
	OPT_CSTR(w, ",\"executable\":", p->executable);
	jw_lit(w, ",\"thread\":{\"id\":");
	jw_val_u64(w, p->tid);
	OPT_CSTR(w, ",\"name\":", p->thread_name);
	jw_lit(w, "},\"user\":");
	id_object(w, p->uid);
	jw_lit(w, ",\"group\":");
	id_object(w, p->gid);
	jw_lit(w, "}");
	if (p->container_id) {
		jw_lit(w, ",\"container\":{\"id\":");
		jw_val_cstr(w, p->container_id);
		jw_lit(w, "}");
	}
}

static void capture(struct jw *w, const struct l7_event *ev)
{
	jw_lit(w, ",\"capture\":{\"source\":");
	jw_val_name(w, l7_source_name(ev->source));
	OPT_CSTR(w, ",\"interface\":", ev->interface);
	jw_lit(w, ",\"truncated\":");
	jw_val_bool(w, ev->truncated);
	jw_lit(w, "}");
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
	if (v.n) {
		jw_lit(w, ",\"mime_type\":");
		slice(w, v);
	}
}

/* Header fields by lower-cased name; repeated fields joined with ", " (RFC 9110 5.3). */
static void headers(struct jw *w, const struct http_head *h)
{
	struct jw_piece joined[2 * HTTP_MAX_HEADERS];

	bool first = true;

	jw_lit(w, ",\"headers\":{");
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
		if (!first)
			jw_lit(w, ",");
		first = false;
		jw_val_str(w, key, n);
		if (encode_header_redacted(name)) {
			jw_lit(w, ":\"[REDACTED]\"");
			continue;
		}
		jw_lit(w, ":");
		for (j = i; j < h->n_headers; j++) {
			const struct http_header *hd = &h->headers[j];

			if (hd->name.n != name.n || strncasecmp(hd->name.p, name.p, name.n) != 0)
				continue;
			if (pieces)
				joined[pieces++] = (struct jw_piece){", ", 2};
			joined[pieces++] = (struct jw_piece){hd->value.p, hd->value.n};
		}
		jw_val_strv(w, joined, pieces);
	}
	jw_lit(w, "}");
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
	jw_lit(w, ",\"url\":{\"scheme\":");
	slice(w, u.scheme);
	if (u.domain.n) {
		jw_lit(w, ",\"domain\":");
		slice(w, u.domain);
	}
	jw_lit(w, ",\"port\":");
	jw_val_u64(w, parse_port(u.port, ev->tuple.dport));
	if (u.path.n) {
		jw_lit(w, ",\"path\":");
		slice(w, u.path);
	}
	if (u.query.n) {
		jw_lit(w, ",\"query\":");
		slice(w, u.query);
	}
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
	jw_lit(w, ",\"full\":");
	jw_val_strv(w, full, n);
	jw_lit(w, "}");
}

/* What a request and a response both have, and the close of their object. */
static void message_end(struct jw *w, const struct http_head *m, uint64_t bytes, uint64_t body,
                        const struct encode_opts *o)
{
	jw_lit(w, ",\"bytes\":");
	jw_val_u64(w, bytes);
	jw_lit(w, ",\"body\":{\"bytes\":");
	jw_val_u64(w, body);
	jw_lit(w, "}");
	mime_type(w, m);
	if (o->http_headers)
		headers(w, m);
	jw_lit(w, "}");
}

static void http(struct jw *w, const struct l7_event *ev, const struct encode_opts *o)
{
	const struct ev_http *h = &ev->http;
	const struct http_head *rq = h->req, *rs = h->resp;
	const struct http_header *ua = http_find_header(rq, "user-agent");
	const struct http_header *ref = http_find_header(rq, "referer");
	char version[4] = "1.x";

	/* "http" opens with "request" unless the version is known (ECS orders nothing). */
	jw_lit(w, ",\"http\":{");
	if (!rq->start_line_cut || rs) {
		version[2] =
		        (char)('0' + (rq->start_line_cut ? rs->minor_version : rq->minor_version));
		jw_lit(w, "\"version\":");
		jw_val_str(w, version, 3);
		jw_lit(w, ",");
	}
	jw_lit(w, "\"request\":{\"method\":");
	slice(w, rq->method);
	if (ref) {
		jw_lit(w, ",\"referrer\":");
		slice(w, ref->value);
	}
	message_end(w, rq, h->req_bytes, h->req_body_bytes, o);
	if (rs) {
		jw_lit(w, ",\"response\":{\"status_code\":");
		jw_val_u64(w, rs->status);
		message_end(w, rs, h->resp_bytes, h->resp_body_bytes, o);
	}
	jw_lit(w, "}");
	url(w, ev);
	if (ua) {
		jw_lit(w, ",\"user_agent\":{\"original\":");
		slice(w, ua->value);
		jw_lit(w, "}");
	}
}

/* An element of an array written directly: the comma unless it is the first. */
static void element(struct jw *w, bool *first)
{
	if (!*first)
		jw_lit(w, ",");
	*first = false;
}

static void dns_flag(struct jw *w, bool *first, bool on, const char *name)
{
	if (on) {
		element(w, first);
		jw_val_cstr(w, name);
	}
}

static void dns_answers(struct jw *w, const struct dns_msg *r)
{
	char t[16], c[16];
	bool first = true;

	jw_lit(w, ",\"answers\":[");
	for (uint16_t i = 0; i < r->n_answers; i++) {
		const struct dns_rr *a = &r->answers[i];

		element(w, &first);
		jw_lit(w, "{\"name\":");
		jw_val_cstr(w, a->name);
		jw_lit(w, ",\"type\":");
		jw_val_cstr(w, dns_type_name(a->type, t));
		jw_lit(w, ",\"class\":");
		jw_val_cstr(w, dns_class_name(a->class, c));
		jw_lit(w, ",\"ttl\":");
		jw_val_u64(w, a->ttl);
		jw_lit(w, ",\"data\":");
		jw_val_cstr(w, a->data);
		jw_lit(w, "}");
	}
	jw_lit(w, "],\"resolved_ip\":[");
	first = true;
	for (uint16_t i = 0; i < r->n_answers; i++) {
		if (r->answers[i].type == 1 || r->answers[i].type == 28) { /* A, AAAA */
			element(w, &first);
			jw_val_cstr(w, r->answers[i].data);
		}
	}
	jw_lit(w, "]");
}

/* ECS dns.*: the header of the response when there is one (its flags say what the server did),
 * the question as asked. */
static void dns(struct jw *w, const struct l7_event *ev)
{
	const struct dns_msg *q = ev->dns.query, *r = ev->dns.resp, *m = r ? r : q, *ask;
	char buf[16];
	bool first = true;

	jw_lit(w, ",\"dns\":{\"type\":");
	jw_val_cstr(w, r ? "answer" : "query");
	jw_lit(w, ",\"id\":");
	jw_val_str(w, buf, (size_t)snprintf(buf, sizeof(buf), "%u", m->id));
	jw_lit(w, ",\"op_code\":");
	jw_val_cstr(w, dns_opcode_name(m->opcode, buf));
	jw_lit(w, ",\"header_flags\":[");
	dns_flag(w, &first, m->aa, "AA");
	dns_flag(w, &first, m->tc, "TC");
	dns_flag(w, &first, m->rd, "RD");
	dns_flag(w, &first, m->ra, "RA");
	dns_flag(w, &first, m->ad, "AD");
	dns_flag(w, &first, m->cd, "CD");
	jw_lit(w, "]");
	if (r) {
		jw_lit(w, ",\"response_code\":");
		jw_val_cstr(w, dns_rcode_name(r->rcode, buf));
	}
	/* The question as asked, or as the response repeats it. */
	ask = q && q->has_question ? q : m;
	if (ask->has_question) {
		jw_lit(w, ",\"question\":{\"name\":");
		jw_val_cstr(w, ask->question.name);
		jw_lit(w, ",\"type\":");
		jw_val_cstr(w, dns_type_name(ask->question.type, buf));
		jw_lit(w, ",\"class\":");
		jw_val_cstr(w, dns_class_name(ask->question.class, buf));
		jw_lit(w, "}");
	}
	if (r)
		dns_answers(w, r);
	jw_lit(w, "}");
}

/* What ECS has no field for: EDNS as each side advertised it, and records left out. */
static void l7_dns(struct jw *w, const struct l7_event *ev)
{
	const struct dns_msg *side[2] = {ev->dns.query, ev->dns.resp};
	static const char *const names[2] = {"\"query\":{\"edns\":{\"udp_size\":",
	                                     "\"response\":{\"edns\":{\"udp_size\":"};
	bool first = true;

	jw_lit(w, ",\"dns\":{");
	for (int i = 0; i < 2; i++) {
		if (!side[i] || !side[i]->has_edns)
			continue;
		element(w, &first);
		jw_raw(w, names[i], strlen(names[i]));
		jw_val_u64(w, side[i]->edns_udp_size);
		jw_lit(w, ",\"do\":");
		jw_val_bool(w, side[i]->edns_do);
		jw_lit(w, "}}");
	}
	if (ev->dns.resp) {
		element(w, &first);
		jw_lit(w, "\"answers_dropped\":");
		jw_val_bool(w, ev->dns.resp->answers_dropped);
	}
	jw_lit(w, "}");
}

static void l7(struct jw *w, const struct l7_event *ev)
{
	jw_lit(w, ",\"l7\":{\"status\":");
	jw_val_name(w, ev->status);
	OPT_CSTR(w, ",\"role\":", ev->role);
	if (ev->dataset == L7_DATASET_DNS) {
		l7_dns(w, ev);
	} else if (ev->http.resp) {
		jw_lit(w, ",\"http\":{\"status_phrase\":");
		slice(w, ev->http.resp->reason);
		jw_lit(w, "}");
	}
	jw_lit(w, "}");
}

/* Names from every layer, a cold path: through the checked calls. */
static void stats(struct jw *w, const struct ev_stats *s)
{
	const char *group = NULL;

	jw_resume_object(w);
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
	jw_obj_close(w); /* the event */
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
		jw_lit(w, "}");
	}
	jw_lit(w, "\n");
	return jw_error(w);
}
