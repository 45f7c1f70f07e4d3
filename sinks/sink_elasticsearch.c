/* elasticsearch: the _bulk API. Each event is a "create" with an _id derived from its bytes, so
 * an event sent twice (its first answer lost to a reset or a timeout) is stored once: the second
 * create comes back 409, which counts as delivered. The answer is read item by item: 2xx and
 * 409 delivered, 429 and 5xx sent again alone, any other 4xx dead-lettered.
 * https://www.elastic.co/guide/en/elasticsearch/reference/current/docs-bulk.html */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "sha1.h"
#include "sink_http.h"
#include "units.h"

#define NS_PER_DAY (86400ull * 1000000000ull)

struct es {
	char *index; /* a strftime pattern (dated indices) or a fixed name (a data stream) */
	bool dated;
	uint64_t day; /* the day name was made for, when dated */
	char name[256];
};

static int es_option(struct http_sink *h, const char *key, const char *value)
{
	struct es *es = http_sink_priv(h);

	if (strcmp(key, "index") != 0)
		return 0;
	/* Elasticsearch's own rules for index and data stream names, and nothing that would need
	 * escaping in the action line. */
	if (!*value || strlen(value) > 200 || strpbrk(value, "\"\\/*?<>|, #:") || value[0] == '-' ||
	    value[0] == '_' || value[0] == '+') {
		LOG(LOG_ERROR,
		    "sink '%s': bad index '%s': lowercase, none of \\/*?\"<>|,#: or spaces, not "
		    "starting with - _ +; strftime patterns such as %%Y.%%m.%%d are allowed",
		    http_sink_spec(h), value);
		return -EINVAL;
	}
	for (const char *p = value; *p; p++) {
		if (*p >= 'A' && *p <= 'Z' && (p == value || p[-1] != '%')) {
			LOG(LOG_ERROR, "sink '%s': index names are lowercase: '%s'",
			    http_sink_spec(h), value);
			return -EINVAL;
		}
	}
	free(es->index);
	es->index = strdup(value);
	return es->index ? 1 : -ENOMEM;
}

static int es_setup(struct http_sink *h)
{
	struct es *es = http_sink_priv(h);

	if (!es->index && !(es->index = strdup("l7collect-%Y.%m.%d")))
		return -ENOMEM;
	es->dated = strchr(es->index, '%') != NULL;
	es->day = UINT64_MAX;
	if (!es->dated)
		snprintf(es->name, sizeof(es->name), "%s", es->index);
	return 0;
}

/* The index for an event: a dated pattern takes the event's own date (UTC), so a replay of an
 * old capture lands in the indices of its days. */
static const char *index_for(struct es *es, const struct sink_record *r)
{
	uint64_t ts = http_event_time_ns(r), day;
	struct tm tm;
	time_t secs;

	if (!es->dated)
		return es->name;
	if (!ts)
		ts = clock_ns(CLOCK_REALTIME);
	day = ts / NS_PER_DAY;
	if (day != es->day) {
		secs = (time_t)(day * 86400);
		gmtime_r(&secs, &tm);
		if (!strftime(es->name, sizeof(es->name), es->index, &tm))
			snprintf(es->name, sizeof(es->name), "l7collect");
		es->day = day;
	}
	return es->name;
}

static void es_build(struct http_sink *h, struct http_buf *body, const struct sink_record *recs,
                     const uint32_t *idx, size_t k)
{
	static const char hex[] = "0123456789abcdef";
	struct es *es = http_sink_priv(h);

	for (size_t j = 0; j < k; j++) {
		const struct sink_record *r = &recs[idx[j]];
		uint8_t digest[SHA1_DIGEST_LEN];
		char id[2 * SHA1_DIGEST_LEN];

		/* The _id is the event's SHA-1: the same event always gets the same _id. */
		sha1(r->data, r->len, digest);
		for (int i = 0; i < SHA1_DIGEST_LEN; i++) {
			id[2 * i] = hex[digest[i] >> 4];
			id[2 * i + 1] = hex[digest[i] & 15];
		}
		hbuf_puts(body, "{\"create\":{\"_index\":\"");
		hbuf_puts(body, index_for(es, r));
		hbuf_puts(body, "\",\"_id\":\"");
		hbuf_put(body, id, sizeof(id));
		hbuf_puts(body, "\"}}\n");
		hbuf_put(body, r->data, r->len); /* ends with the newline _bulk needs */
	}
}

static enum http_item item_result(long status)
{
	if (status >= 200 && status < 300)
		return HTTP_ITEM_OK;
	if (status == 409)
		return HTTP_ITEM_CONFLICT;
	if (status == 429)
		return HTTP_ITEM_RETRY_429;
	if (status >= 500)
		return HTTP_ITEM_RETRY_5XX;
	return HTTP_ITEM_REJECTED;
}

/* Reads {"errors":..,"items":[{"<action>":{"status":N,...}},...]}: depth counts open brackets,
 * so "items" is a key at depth 1, its items open at depth 3 and each status is a key at depth 4.
 * Whatever else the server sends (took, _index, error.reason with any text) is skipped. */
static int es_response(struct http_sink *h, const char *p, size_t len, enum http_item *out,
                       size_t k)
{
	size_t items = 0, statuses = 0;
	bool items_key = false, in_items = false;
	int depth = 0;

	(void)h;
	for (size_t i = 0; i < len; i++) {
		char c = p[i];

		if (c == '"') {
			size_t start = ++i;

			while (i < len && p[i] != '"')
				i += p[i] == '\\' ? 2 : 1;
			if (i >= len)
				return -EPROTO;
			size_t klen = i - start, j = i + 1;

			while (j < len &&
			       (p[j] == ' ' || p[j] == '\n' || p[j] == '\r' || p[j] == '\t'))
				j++;
			if (j >= len || p[j] != ':')
				continue; /* a value, not a key */
			if (depth == 1)
				items_key = klen == 5 && memcmp(p + start, "items", 5) == 0;
			if (in_items && depth == 4 && klen == 6 &&
			    memcmp(p + start, "status", 6) == 0) {
				char *end;
				long status = strtol(p + j + 1, &end, 10);

				if (end == p + j + 1 || statuses != items - 1)
					return -EPROTO;
				out[statuses++] = item_result(status);
			}
		} else if (c == '{' || c == '[') {
			depth++;
			if (c == '[' && depth == 2 && items_key)
				in_items = true;
			if (c == '{' && depth == 3 && in_items && ++items > k)
				return -EPROTO;
		} else if (c == '}' || c == ']') {
			if (c == ']' && depth == 2)
				in_items = false;
			depth--;
		}
	}
	return items == k && statuses == k ? 0 : -EPROTO;
}

static void es_release(struct http_sink *h)
{
	struct es *es = http_sink_priv(h);

	free(es->index);
}

static const struct http_flavour es_flavour = {
        /* Only what is read back: one small status per item instead of the whole result. */
        .path = "/_bulk?filter_path=errors,items.*.status,items.*.error.type",
        .content_type = "application/x-ndjson",
        .priv_size = sizeof(struct es),
        .option = es_option,
        .setup = es_setup,
        .build = es_build,
        .response = es_response,
        .release = es_release,
};

static int es_init(struct sink *s, const char *arg, const struct sink_option *opts, size_t n_opts)
{
	return http_sink_init(s, arg, opts, n_opts, &es_flavour);
}

const struct sink_ops sink_elasticsearch = {
        .name = "elasticsearch",
        .usage = "                             elasticsearch:URL  the _bulk API; index=NAME\n"
                 "                               (l7collect-%Y.%m.%d: the event's date) or\n"
                 "                               a data stream's name\n",
        .init = es_init,
        .write = http_sink_write,
        .flush = http_sink_flush,
        .close = http_sink_close,
        .stats = http_sink_stats,
};
