#include "encode.h"

#include <stdio.h>
#include <string.h>

/* Control characters from the wire must not reach a terminal. */
static void raw_printable(struct jw *w, struct http_slice s)
{
	size_t i = 0;

	while (i < s.n) {
		size_t run = i;

		while (run < s.n && (unsigned char)s.p[run] >= 0x20 && s.p[run] != 0x7f)
			run++;
		jw_raw(w, s.p + i, run - i);
		if (run < s.n)
			jw_raw(w, "?", 1);
		i = run + 1;
	}
}

static void duration(struct jw *w, uint64_t ns)
{
	char buf[32];
	int n;

	if (ns < 1000000)
		n = snprintf(buf, sizeof(buf), "%.2fms", ns / 1e6);
	else if (ns < 1000000000)
		n = snprintf(buf, sizeof(buf), "%.1fms", ns / 1e6);
	else
		n = snprintf(buf, sizeof(buf), "%.2fs", ns / 1e9);
	jw_raw(w, buf, (size_t)n);
}

/* comm[pid] for a local process, else the connection; after sep. */
static void who(struct jw *w, const struct l7_event *ev, const char *sep)
{
	char a[L7_ADDRSTRLEN], b[L7_ADDRSTRLEN], buf[2 * L7_ADDRSTRLEN + 32];
	int n;

	if (ev->process) {
		n = snprintf(buf, sizeof(buf), "%s%s[%u]", sep,
		             ev->process->name ? ev->process->name : "?", ev->process->pid);
	} else {
		const struct l7_tuple *t = &ev->tuple;

		n = snprintf(buf, sizeof(buf), "%s%s:%u -> %s:%u", sep,
		             addr_format(t->family, t->saddr, a), t->sport,
		             addr_format(t->family, t->daddr, b), t->dport);
	}
	jw_raw(w, buf, (size_t)n);
}

static void http_line(struct jw *w, const struct l7_event *ev)
{
	const struct http_head *rq = ev->http.req, *rs = ev->http.resp;
	char status[8];

	raw_printable(w, rq->method);
	jw_raw(w, " ", 1);
	raw_printable(w, rq->target);
	jw_raw(w, " -> ", 4);
	if (rs) {
		jw_raw(w, status, (size_t)snprintf(status, sizeof(status), "%u", rs->status));
		if (rs->reason.n) {
			jw_raw(w, " ", 1);
			raw_printable(w, rs->reason);
		}
	} else {
		jw_raw(w, "no response", 11);
	}
	jw_raw(w, " ", 1);
	duration(w, ev->ts_end > ev->ts_start ? ev->ts_end - ev->ts_start : 0);
	who(w, ev, " ");
	if (ev->truncated)
		jw_raw(w, " (truncated)", 12);
}

static void text(struct jw *w, const char *s)
{
	raw_printable(w, (struct http_slice){s, strlen(s)});
}

/* dig[4242] A example.test -> 192.0.2.7 NOERROR 0.40ms */
static void dns_line(struct jw *w, const struct l7_event *ev)
{
	const struct dns_msg *q = ev->dns.query, *r = ev->dns.resp, *m = q ? q : r;
	char buf[16];

	who(w, ev, "");
	jw_raw(w, " ", 1);
	if (m->has_question) {
		text(w, dns_type_name(m->question.type, buf));
		jw_raw(w, " ", 1);
		text(w, m->question.name);
	} else {
		jw_raw(w, "(no question)", 13);
	}
	jw_raw(w, " -> ", 4);
	if (!r) {
		jw_raw(w, "no response", 11);
	} else {
		for (uint16_t i = 0; i < r->n_answers; i++) {
			if (i)
				jw_raw(w, ", ", 2);
			text(w, r->answers[i].data);
		}
		if (r->n_answers)
			jw_raw(w, " ", 1);
		text(w, dns_rcode_name(r->rcode, buf));
	}
	jw_raw(w, " ", 1);
	duration(w, ev->ts_end > ev->ts_start ? ev->ts_end - ev->ts_start : 0);
	if (!q)
		jw_raw(w, " (query not seen)", 17);
	if (ev->truncated)
		jw_raw(w, " (truncated)", 12);
}

/* Only what is not zero, so the line stays short enough to read. */
static void stats_line(struct jw *w, const struct ev_stats *s)
{
	char buf[160];

	jw_raw(w, "stats:", 6);
	for (uint32_t i = 0; i < s->n; i++) {
		const struct stat_entry *e = &s->entries[i];
		int n;

		if (!e->value)
			continue;
		n = snprintf(buf, sizeof(buf), " %s.%s=%llu", e->group, e->name,
		             (unsigned long long)e->value);
		jw_raw(w, buf, (size_t)(n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1));
	}
}

int encode_text(struct jw *w, const struct l7_event *ev, const struct encode_opts *o)
{
	(void)o;
	if (ev->dataset == L7_DATASET_STATS)
		stats_line(w, &ev->stats);
	else if (ev->dataset == L7_DATASET_DNS)
		dns_line(w, ev);
	else
		http_line(w, ev);
	jw_raw(w, "\n", 1);
	return jw_error(w);
}
