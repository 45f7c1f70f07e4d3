/* libFuzzer target for DNS over TCP as the collector follows it: a connection's bytes go through
 * tcp_app (classification, then dns_stream framing), and every frame goes to dns_parse and to
 * dns_table_message (as the wire saw it, and as a process saw it too: bit 6 below), whose events
 * are checked as they come. Input format:
 *
 *   byte 0      bits 0-1: the ports, dir 0's sender first: 0: 40000 -> 53, 1: 53 -> 40000,
 *               2: 40000 -> 8053 (the bytes decide), 3: 40000 -> 8080 on a declared port (HTTP
 *               by the user's word); bit 2: midstream; bit 3: the final close is a real end
 *               (closed); bits 4-5: max_transactions = 1 << (2 * x) (1, 4, 16, 64); bit 6: dir
 *               0's end is a known process: the wire names it as dir 0's sender, and its own
 *               syscalls see every message too (a second copy of each); bit 7: differential
 *               mode (below)
 *   byte 1      the dns table's hold = (bits 0-3) * 20 ms, timeout = (bits 4-7 + 1) * 500 ms
 *   then operations until the input runs out, each one byte: op = bits 0-2, d = bit 3 (the
 *   direction), x = bits 4-7:
 *     op 0-1    raw data on d: a length byte L, then L + 1 bytes (fewer if the input ends), fed
 *               in pieces of x bytes (x == 0: one piece)
 *     op 2      a DNS message on d: a length byte L, then L bytes (a zero-length message for
 *               L == 0), fed after a 2-byte prefix saying L, the whole in pieces of x bytes, or
 *               for x == 15 the prefix alone and then the message (glibc, dnsmasq)
 *     op 3      the same with a 2-byte length L
 *     op 4      gap on d of (next byte + 1) << (x & 7) bytes
 *     op 5      FIN on d
 *     op 6      the clock moves on by (next byte + 1) << x times 100 us (up to 14 minutes):
 *               tcp_app_expire, then dns_table_tick
 *     op 7      close (closed = d); nothing after it is read
 *   Every operation advances the clock by 1 us, and the table is ticked after each; the run ends
 *   with a close (closed from byte 0) unless an op 7 came first, then dns_table_flush.
 *
 * Invariants, checked with abort(): frames come only from a connection decided as DNS, with
 * cap <= len, cap <= the data bytes fed to their direction, ts_first <= ts_last, and per
 * direction in stream order (each starts no earlier than the previous one ended); while a
 * direction has had no gap, each frame is exactly the next length-prefixed message of the bytes
 * fed to it (prefix, length, every byte). The framer's counters agree with the frames (messages,
 * partial), and without gaps nothing is partial or lost and a message is unfinished at the close
 * exactly when bytes are left over. Events have the status their messages say (ok: both,
 * no_response: the query only, no_query: the response only), a query that is a query and a
 * response that is a response, with the same id, the connection's TCP ports, and the process
 * exactly when one saw every message (it is then the asker or the answerer); the table
 * counts every frame once (messages + parse_errors), every parsed message once (queries,
 * responses, copies, late copies, retransmits), reports every transaction once (transactions ==
 * the events emitted == their statuses; queries + responses == transactions + ok), holds nothing
 * after the flush and reports nothing after it. LeakSanitizer checks that close frees.
 *
 * Differentials: a run with no gaps is repeated twice with every byte (and FIN) at one time, the
 * clock still moving for the ticks: once with the operations' pieces and once with every data
 * operation in one piece: both must give the same frames and events (a digest of every field and
 * byte) and the same counters, tcp_app's, HTTP's and the table's. One time, because tcp_app hands
 * the bytes it held before deciding (up to TCP_APP_FIRST, from several writes) over at the first
 * write's time: a message shorter than that, ending in a later write, gets the first write's time
 * as its last byte's, and where pieces end would move it (a DNS message with a question, or an HTTP
 * message, is longer). In differential mode only the data operations count, as in fuzz_http:
 * direction 0's bytes in the operations' pieces, then direction 1's, each direction at one time;
 * then the same two streams each in one piece. Where pieces end must not matter. */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns_parse.h"
#include "dns_table.h"
#include "fuzz_input.h"
#include "tcp_app.h"

#define SEC     UINT64_C(1000000000)
#define MS      UINT64_C(1000000)
#define US      UINT64_C(1000)
#define T_START (UINT64_C(1700000000) * SEC)
#define FAR     (UINT64_C(3600) * SEC)

struct fz {
	struct tcp_app_stats st;
	struct http_stats hst;
	struct http_cfg hcfg;
	struct tcp_app_env env;
	struct tcp_app a;
	struct dns_table *dt;
	struct l7_tuple key; /* dir 0's sender -> receiver */
	struct ev_process proc;
	bool proc_known;
	uint64_t now;
	uint64_t fed[2];     /* data bytes given to each direction */
	uint64_t fed_all[2]; /* ... data and gaps */
	bool gap[2];         /* the direction had a gap: no exact check of its frames */
	uint8_t *stream[2];  /* the data bytes given to each direction, for the exact check */
	size_t stream_len[2];
	size_t pos[2]; /* where the next frame's prefix is in stream */
	uint64_t last_ts[2];
	uint64_t frames, partial_frames;
	uint64_t copies; /* frames given to the table a second time (the process's view) */
	uint64_t events, ok, no_response, no_query;
	uint64_t digest;
	bool closed; /* tcp_app_close returned: no more frames */
	bool flushed;
	struct dns_stats dns; /* the table's counters at the end */
};

static void mix(uint64_t *h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		*h = (*h ^ b[i]) * UINT64_C(1099511628211);
}

static void mix_u64(uint64_t *h, uint64_t v)
{
	mix(h, &v, sizeof(v));
}

static void mix_str(uint64_t *h, const char *s)
{
	if (s)
		mix(h, s, strlen(s) + 1);
	else
		mix_u64(h, 0x5a5a);
}

static void on_event(void *ctx, const struct l7_event *ev)
{
	struct fz *f = ctx;
	const struct dns_msg *q = ev->dns.query, *r = ev->dns.resp;

	require(!f->flushed);
	require(ev->dataset == L7_DATASET_DNS && ev->status);
	if (strcmp(ev->status, "ok") == 0) {
		require(q && r);
		f->ok++;
	} else if (strcmp(ev->status, "no_response") == 0) {
		require(q && !r);
		f->no_response++;
	} else {
		require(strcmp(ev->status, "no_query") == 0);
		require(!q && r);
		f->no_query++;
	}
	require(!q || !q->qr);
	require(!r || r->qr);
	require(!q || !r || q->id == r->id);
	require(ev->tuple.proto == IPPROTO_TCP);
	require(ev->source == (f->proc_known ? L7_SOURCE_SYSCALL : L7_SOURCE_SOCKET));
	require((ev->tuple.sport == f->key.sport && ev->tuple.dport == f->key.dport) ||
	        (ev->tuple.sport == f->key.dport && ev->tuple.dport == f->key.sport));
	/* The process's own view sees every message: it is always known, as asker or answerer. */
	require(!ev->process == !f->proc_known);
	require(!ev->process || ev->process->pid == f->proc.pid);
	require(!ev->process == !ev->role);
	f->events++;

	mix_str(&f->digest, ev->status);
	mix_str(&f->digest, ev->role);
	mix_u64(&f->digest, ev->ts_start);
	mix_u64(&f->digest, ev->ts_end);
	mix(&f->digest, &ev->tuple, sizeof(ev->tuple));
	mix_u64(&f->digest, ev->truncated);
	mix_u64(&f->digest, ev->client_bytes);
	mix_u64(&f->digest, ev->server_bytes);
	mix_u64(&f->digest, q ? q->id : 0x10000);
	mix_u64(&f->digest, r ? r->n_answers : 0x10000);
}

static void on_frame(void *ctx, const struct dns_frame *m)
{
	static struct dns_msg msg;
	struct fz *f = ctx;
	int d = m->dir;
	struct dns_obs o = dns_obs_of_frame(m, L7_SOURCE_SOCKET);
	int rc;

	o.interface = "lo";
	o.process = d == 0 && f->proc_known ? &f->proc : NULL;
	o.process_sent = true;
	require(!f->closed && f->a.kind == TCP_APP_DNS);
	require(d == 0 || d == 1);
	require(m->cap <= m->len && m->len <= 0xffff);
	require(m->cap <= f->fed[d]);
	require(m->ts_first <= m->ts_last && m->ts_last <= f->now);
	require(m->ts_first >= f->last_ts[d]);
	f->last_ts[d] = m->ts_last;
	f->frames++;
	if (m->cap < m->len)
		f->partial_frames++;
	if (!f->gap[d]) {
		const uint8_t *s = f->stream[d] + f->pos[d];

		require(f->pos[d] + 2 + m->len <= f->stream_len[d]);
		require(((size_t)s[0] << 8 | s[1]) == m->len);
		require(m->cap == m->len);
		require(m->cap == 0 || memcmp(m->p, s + 2, m->cap) == 0);
		f->pos[d] += 2 + m->len;
	}

	mix_u64(&f->digest, (uint64_t)d);
	mix_u64(&f->digest, m->cap);
	mix_u64(&f->digest, m->len);
	mix(&f->digest, m->p, m->cap);
	mix_u64(&f->digest, m->ts_first);
	mix_u64(&f->digest, m->ts_last);
	rc = dns_parse(m->p, m->cap, m->cap < m->len, &msg);
	mix_u64(&f->digest, (uint64_t)rc);
	if (rc == 0) {
		mix_u64(&f->digest, msg.id);
		mix_u64(&f->digest, msg.qr);
		mix_u64(&f->digest, msg.n_answers);
	}

	if (d == 0)
		o.tuple = f->key;
	else
		tuple_reverse(&f->key, &o.tuple);
	dns_table_message(f->dt, &o);
	if (f->proc_known) {
		/* The process's own copy: it sent dir 0 and received dir 1. */
		o.source = L7_SOURCE_SYSCALL;
		o.interface = NULL;
		o.process = &f->proc;
		o.process_sent = d == 0;
		dns_table_message(f->dt, &o);
		f->copies++;
	}
}

static void on_http(void *ctx, const struct http_report *r)
{
	struct fz *f = ctx;

	require(f->a.kind == TCP_APP_HTTP);
	mix_u64(&f->digest, (uint64_t)r->client_dir);
	mix_u64(&f->digest, r->resp ? r->resp->status : 0);
	mix_u64(&f->digest, r->ts_start);
	mix_u64(&f->digest, r->ts_end);
	mix_u64(&f->digest, r->req_bytes);
	mix_u64(&f->digest, r->resp_bytes);
}

struct setup {
	uint16_t port[2];
	bool midstream, forced, closed, proc_known;
	struct dns_cfg dcfg;
	size_t stream_size; /* the most bytes data operations give one direction */
};

static void fz_init(struct fz *f, const struct setup *s)
{
	memset(f, 0, sizeof(*f));
	f->hcfg = (struct http_cfg){
	        .max_header_bytes = 512,
	        .max_pending = 4,
	        .response_timeout_ns = 30 * SEC,
	        .stats = &f->hst,
	};
	f->env = (struct tcp_app_env){{&f->hcfg, on_http, f}, on_frame, &f->st};
	f->key = (struct l7_tuple){.family = AF_INET, .proto = IPPROTO_TCP};
	f->key.sport = s->port[0];
	f->key.dport = s->port[1];
	memcpy(f->key.saddr, (const uint8_t[]){192, 0, 2, 1}, 4);
	memcpy(f->key.daddr, (const uint8_t[]){192, 0, 2, 53}, 4);
	f->proc = (struct ev_process){.pid = 42, .tid = 42, .name = "kdig"};
	f->proc_known = s->proc_known;
	f->now = T_START;
	f->digest = UINT64_C(14695981039346656037);
	f->dt = dns_table_new(&s->dcfg, on_event, f);
	require(f->dt != NULL);
	for (int d = 0; d < 2; d++) {
		f->stream[d] = malloc(s->stream_size + 1);
		require(f->stream[d] != NULL);
	}
	tcp_app_init(&f->a, s->midstream, s->forced, s->port[0], s->port[1]);
}

/* Each piece in a buffer of its own size, so that reading past it is caught. */
static void give(struct fz *f, int d, const uint8_t *p, size_t n, uint64_t ts)
{
	uint8_t *copy;

	if (!n)
		return;
	copy = malloc(n);
	require(copy != NULL);
	memcpy(copy, p, n);
	memcpy(f->stream[d] + f->stream_len[d], p, n);
	f->stream_len[d] += n;
	f->fed[d] += n;
	f->fed_all[d] += n;
	tcp_app_data(&f->a, &f->env, d, copy, n, ts);
	free(copy);
}

static void give_pieces(struct fz *f, int d, const uint8_t *p, size_t n, size_t piece, uint64_t ts)
{
	for (size_t off = 0; off < n;) {
		size_t k = piece && piece < n - off ? piece : n - off;

		give(f, d, p + off, k, ts);
		off += k;
	}
}

enum op_kind { OP_DATA, OP_GAP, OP_FIN, OP_CLOCK, OP_CLOSE, OP_END };

struct op {
	enum op_kind kind;
	int dir;
	uint8_t prefix[2];
	bool prefixed;
	bool prefix_alone;
	size_t piece;
	const uint8_t *p;
	size_t n;
	uint64_t v; /* gap bytes, clock step */
};

static struct op next_op(struct reader *r)
{
	struct op o = {.kind = OP_END};
	unsigned b, op, x;
	uint32_t len;

	if (r->n == 0)
		return o;
	b = rd(r, 1);
	op = b & 7;
	x = b >> 4;
	o.dir = (b >> 3) & 1;
	switch (op) {
	case 4:
		o.kind = OP_GAP;
		o.v = (uint64_t)(rd(r, 1) + 1) << (x & 7);
		return o;
	case 5:
		o.kind = OP_FIN;
		return o;
	case 6:
		o.kind = OP_CLOCK;
		o.v = ((uint64_t)(rd(r, 1) + 1) << x) * 100 * US;
		return o;
	case 7:
		o.kind = OP_CLOSE;
		return o;
	case 2:
	case 3:
		len = rd(r, op == 2 ? 1 : 2);
		o.prefixed = true;
		o.prefix[0] = (uint8_t)(len >> 8);
		o.prefix[1] = (uint8_t)len;
		o.prefix_alone = x == 15;
		break;
	default:
		len = rd(r, 1) + 1;
		break;
	}
	o.kind = OP_DATA;
	o.piece = x;
	o.p = r->p;
	o.n = len < r->n ? len : r->n;
	r->p += o.n;
	r->n -= o.n;
	return o;
}

/* A data operation's bytes, its prefix first: in its pieces, or in one. */
static void feed_op(struct fz *f, const struct op *o, bool whole, uint64_t ts)
{
	static uint8_t buf[2 + 0xffff];

	if (!o->prefixed) {
		give_pieces(f, o->dir, o->p, o->n, whole ? 0 : o->piece, ts);
		return;
	}
	memcpy(buf, o->prefix, 2);
	memcpy(buf + 2, o->p, o->n);
	if (whole) {
		give(f, o->dir, buf, 2 + o->n, ts);
	} else if (o->prefix_alone) {
		give(f, o->dir, buf, 2, ts);
		give(f, o->dir, buf + 2, o->n, ts);
	} else {
		give_pieces(f, o->dir, buf, 2 + o->n, o->piece, ts);
	}
}

static void fz_close(struct fz *f, bool closed)
{
	const struct tcp_app_stats *st = &f->st;
	const struct dns_stats *ds = dns_table_stats(f->dt);

	tcp_app_close(&f->a, &f->env, closed, f->now);
	f->closed = true;
	/* Held bytes were decided on and handed over; the framers' buffers are freed. */
	require(f->a.first_len == 0);
	require(f->a.dns[0].buf == NULL && f->a.dns[1].buf == NULL);
	require(st->http + st->dns + st->other <= 1);
	require(f->frames == st->dns_stream.messages);
	require(f->partial_frames == st->dns_stream.partial);
	require(st->dns_stream.lost_bytes <= f->fed_all[0] + f->fed_all[1]);
	if (f->a.kind != TCP_APP_DNS)
		require(f->frames == 0 && st->dns_stream.unfinished == 0);
	/* Without gaps every byte was framed: what is left over is one unfinished message. */
	if (f->a.kind == TCP_APP_DNS && !f->gap[0] && !f->gap[1]) {
		require(st->dns_stream.partial == 0 && st->dns_stream.lost_bytes == 0);
		require(st->dns_stream.unfinished ==
		        (uint64_t)(f->pos[0] < f->stream_len[0]) + (f->pos[1] < f->stream_len[1]));
	}

	dns_table_flush(f->dt);
	f->flushed = true;
	require(ds->not_dns == 0);
	require(ds->messages + ds->parse_errors == f->frames + f->copies);
	require(ds->messages ==
	        ds->queries + ds->responses + ds->copies + ds->late_copies + ds->retransmits);
	require(ds->transactions == f->events);
	require(ds->transactions == f->ok + ds->no_response + ds->no_query);
	require(ds->no_response == f->no_response && ds->no_query == f->no_query);
	require(ds->queries + ds->responses == ds->transactions + f->ok);
	require(ds->evicted <= ds->transactions);
	require(ds->active == 0);
	dns_table_tick(f->dt, f->now + FAR);
	require(ds->active == 0);
	f->dns = *ds;
	dns_table_free(f->dt);
	f->dt = NULL;
	free(f->stream[0]);
	free(f->stream[1]);
}

/* The operations in order. whole: each data operation in one piece; one_time: every byte, gap
 * and FIN at one time (the clock still moves for ticks). Returns whether there was a gap. */
static bool run_ops(struct fz *f, struct reader r, const struct setup *s, bool whole, bool one_time)
{
	bool closed = s->closed, gaps = false;
	struct op o;

	fz_init(f, s);
	while ((o = next_op(&r)).kind != OP_END && o.kind != OP_CLOSE) {
		uint64_t ts;

		f->now += US;
		ts = one_time ? T_START : f->now;
		switch (o.kind) {
		case OP_DATA:
			feed_op(f, &o, whole, ts);
			break;
		case OP_GAP:
			gaps = true;
			f->gap[o.dir] = true;
			f->fed_all[o.dir] += o.v;
			tcp_app_gap(&f->a, &f->env, o.dir, o.v, ts);
			break;
		case OP_FIN:
			tcp_app_fin(&f->a, &f->env, o.dir, ts);
			break;
		case OP_CLOCK:
			f->now += o.v;
			tcp_app_expire(&f->a, &f->env, f->now);
			break;
		default:
			break;
		}
		dns_table_tick(f->dt, f->now);
	}
	if (o.kind == OP_CLOSE)
		closed = o.dir;
	f->now += US;
	fz_close(f, closed);
	return gaps;
}

/* Direction 0's data operations, then direction 1's, each direction at one time; whole: each
 * direction in one piece. */
static void run_dirs(struct fz *f, struct reader r, const struct setup *s, bool whole, uint8_t *buf)
{
	fz_init(f, s);
	for (int d = 0; d < 2; d++) {
		struct reader ops = r;
		struct op o;
		size_t len = 0;

		f->now = T_START + (uint64_t)d * MS;
		while ((o = next_op(&ops)).kind != OP_END && o.kind != OP_CLOSE) {
			if (o.kind != OP_DATA || o.dir != d)
				continue;
			if (!whole) {
				feed_op(f, &o, false, f->now);
				continue;
			}
			if (o.prefixed) {
				memcpy(buf + len, o.prefix, 2);
				len += 2;
			}
			memcpy(buf + len, o.p, o.n);
			len += o.n;
		}
		give(f, d, buf, len, f->now);
	}
	fz_close(f, s->closed);
}

static void same(const struct fz *a, const struct fz *b)
{
	require(a->digest == b->digest && a->frames == b->frames && a->events == b->events);
	require(memcmp(&a->st, &b->st, sizeof(a->st)) == 0);
	require(memcmp(&a->hst, &b->hst, sizeof(a->hst)) == 0);
	require(memcmp(&a->dns, &b->dns, sizeof(a->dns)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t ports[4][2] = {
	        {40000, 53}, {53, 40000}, {40000, 8053}, {40000, 8080}};
	static struct fz cut, whole;
	struct reader r = {data, size};
	unsigned flags = rd(&r, 1), times = rd(&r, 1);
	struct setup s = {
	        .port = {ports[flags & 3][0], ports[flags & 3][1]},
	        .midstream = flags & 4,
	        .forced = (flags & 3) == 3,
	        .closed = flags & 8,
	        .proc_known = flags & 0x40,
	        .dcfg = {1u << (2 * ((flags >> 4) & 3)), ((times >> 4) + 1) * 500 * MS,
	                 (times & 15) * 20 * MS},
	        .stream_size = 2 * size + 16,
	};

	if (flags & 0x80) {
		uint8_t *buf = malloc(s.stream_size);

		require(buf != NULL);
		run_dirs(&cut, r, &s, false, buf);
		run_dirs(&whole, r, &s, true, buf);
		free(buf);
		same(&cut, &whole);
		return 0;
	}
	if (run_ops(&cut, r, &s, false, false))
		return 0;
	run_ops(&cut, r, &s, false, true);
	run_ops(&whole, r, &s, true, true);
	same(&cut, &whole);
	return 0;
}
