/* http: NDJSON to any endpoint, one POST per batch; any 2xx stores the whole batch. */
#include "sink_http.h"

static void ndjson_build(struct http_sink *h, struct http_buf *body, const struct sink_record *recs,
                         const uint32_t *idx, size_t k)
{
	(void)h;
	for (size_t j = 0; j < k; j++)
		hbuf_put(body, recs[idx[j]].data, recs[idx[j]].len);
}

static const struct http_flavour ndjson = {
        .path = "",
        .content_type = "application/x-ndjson",
        .build = ndjson_build,
};

static int ndjson_init(struct sink *s, const char *arg, const struct sink_option *opts,
                       size_t n_opts)
{
	return http_sink_init(s, arg, opts, n_opts, &ndjson);
}

const struct sink_ops sink_http = {
        .name = "http",
        .usage = "                             http:URL      NDJSON POSTed to URL in batches\n",
        .init = ndjson_init,
        .write = http_sink_write,
        .flush = http_sink_flush,
        .close = http_sink_close,
        .stats = http_sink_stats,
};
