#include "dns_stream.h"

#include <stdlib.h>
#include <string.h>

void dns_stream_init(struct dns_stream *s, int dir)
{
	memset(s, 0, sizeof(*s));
	s->dir = dir;
}

static void lose(struct dns_stream *s, struct dns_stream_stats *st, size_t n)
{
	s->lost = true;
	st->lost_bytes += n;
	free(s->buf);
	s->buf = NULL;
	s->buf_size = 0;
}

static void deliver(struct dns_stream *s, struct dns_stream_stats *st, uint64_t ts, dns_frame_fn fn,
                    void *ctx)
{
	struct dns_frame f = {s->dir, s->buf, s->contig, s->len, s->ts_first, ts};

	st->messages++;
	if (s->contig < s->len)
		st->partial++;
	s->have_prefix = 0;
	s->hole = false;
	s->got = s->contig = 0;
	fn(ctx, &f);
}

/* The prefix is whole: room for the message it announces. False when there is none. */
static bool start_message(struct dns_stream *s)
{
	s->len = (uint32_t)s->prefix[0] << 8 | s->prefix[1];
	if (s->len > s->buf_size) {
		uint8_t *b = realloc(s->buf, s->len);

		if (!b)
			return false;
		s->buf = b;
		s->buf_size = s->len;
	}
	return true;
}

void dns_stream_data(struct dns_stream *s, struct dns_stream_stats *st, const uint8_t *p, size_t n,
                     uint64_t ts, dns_frame_fn fn, void *ctx)
{
	while (n && !s->lost) {
		size_t take;

		if (s->have_prefix < 2) {
			if (s->have_prefix == 0)
				s->ts_first = ts;
			s->prefix[s->have_prefix++] = *p++;
			n--;
			if (s->have_prefix == 2 && !start_message(s)) {
				lose(s, st, n);
				return;
			}
			if (s->have_prefix == 2 && s->len == 0)
				deliver(s, st, ts, fn, ctx);
			continue;
		}
		take = s->len - s->got < n ? s->len - s->got : n;
		if (!s->hole) {
			memcpy(s->buf + s->got, p, take);
			s->contig += (uint32_t)take;
		}
		s->got += (uint32_t)take;
		p += take;
		n -= take;
		if (s->got == s->len)
			deliver(s, st, ts, fn, ctx);
	}
	if (s->lost)
		st->lost_bytes += n;
}

void dns_stream_gap(struct dns_stream *s, struct dns_stream_stats *st, size_t n, uint64_t ts,
                    dns_frame_fn fn, void *ctx)
{
	while (n && !s->lost) {
		size_t take;

		/* Without the length, where the next message starts is unknown. */
		if (s->have_prefix < 2) {
			lose(s, st, n);
			return;
		}
		take = s->len - s->got < n ? s->len - s->got : n;
		s->hole = true;
		s->got += (uint32_t)take;
		n -= take;
		if (s->got == s->len)
			deliver(s, st, ts, fn, ctx);
	}
	if (s->lost)
		st->lost_bytes += n;
}

void dns_stream_close(struct dns_stream *s, struct dns_stream_stats *st)
{
	if (st && !s->lost && s->have_prefix)
		st->unfinished++;
	free(s->buf);
	dns_stream_init(s, s->dir);
}
