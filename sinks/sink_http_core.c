/* The HTTP sinks' core: see sink_http.h. One libcurl easy handle per sink, reused so the
 * connection stays open between requests, driven through a multi handle so that a request in
 * flight can look at the pipeline's shutdown deadline and give up when it passes. */
#define _GNU_SOURCE /* memmem, asprintf */
#include "sink_http.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "log.h"
#include "units.h"

#define DEFAULT_BATCH_EVENTS 1000
#define DEFAULT_BATCH_BYTES  (5ull << 20)
#define DEFAULT_FLUSH_NS     1000000000ull
#define DEFAULT_TIMEOUT_NS   30000000000ull
#define DEFAULT_CONNECT_NS   10000000000ull
#define DEFAULT_RETRY_MIN_NS 1000000000ull
#define DEFAULT_RETRY_MAX_NS 30000000000ull
#define RETRY_AFTER_MAX_S    3600        /* a longer Retry-After is taken as this */
#define POLL_SLICE_MS        100         /* how often a request in flight checks the deadline */
#define RESPONSE_MAX         (64u << 20) /* a bulk answer without filter_path stays far below */
#define SECRET_MAX           4096

enum counter {
	C_SENT_EVENTS,
	C_SENT_BYTES,
	C_REQUESTS,
	C_REQUEST_BYTES,
	C_RETRIED_CONNECT,
	C_RETRIED_TIMEOUT,
	C_RETRIED_429,
	C_RETRIED_5XX,
	C_RETRIED_ITEMS,
	C_CONFLICTS,
	C_REJECTED,
	C_DEAD_LETTERED,
	C_DEAD_LETTER_ERRORS,
	C_STATUS_1XX, /* C_STATUS_1XX + status / 100 - 1 for each answer */
	C_STATUS_2XX,
	C_STATUS_3XX,
	C_STATUS_4XX,
	C_STATUS_5XX,
	C_N,
};

static const char *const counter_names[C_N] = {
        "sent_events",        "sent_bytes",          "requests",    "request_bytes",
        "retried_connect",    "retried_timeout",     "retried_429", "retried_5xx",
        "retried_items",      "conflicts_delivered", "rejected",    "dead_lettered",
        "dead_letter_errors", "status_1xx",          "status_2xx",  "status_3xx",
        "status_4xx",         "status_5xx",
};

/* Kinds of delivery problems; HTTP statuses (100 to 599) stand for themselves. */
enum problem {
	PROBLEM_NONE = 0,
	PROBLEM_OOM = 1,
	PROBLEM_UNREADABLE = 2,
	PROBLEM_ITEMS_REFUSED = 3,
	PROBLEM_DEAD_LETTER = 4,
	PROBLEM_CURL = 1000, /* + CURLcode: a message with the details of each try (times, ports)
	                        is still one problem */
};

struct http_sink {
	struct sink *s;
	const struct http_flavour *fl;
	void *fpriv;
	CURL *easy;
	CURLM *multi;
	struct curl_slist *headers;
	char *secret; /* password, token or API key: wiped before it is freed */
	char errbuf[CURL_ERROR_SIZE];
	bool gzip;
	uint64_t retry_min_ns, retry_max_ns;
	int dead_fd;
	z_stream z;
	bool z_ready;
	struct http_buf body, gz, resp;
	/* Per event of the batch being delivered (batch_events long): settled once delivered or
	 * dead-lettered, so that a retry sends only the others. */
	uint8_t *settled;
	uint32_t *idx;
	enum http_item *items;
	size_t batch_rejected;
	uint64_t rng;
	long problem; /* the last problem logged (enum problem or an HTTP status), to log each once
	                 rather than once per retry */
	uint64_t c[C_N];
};

/* ---- buffers ------------------------------------------------------------------------------ */

static bool hbuf_reserve(struct http_buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	if (b->oom)
		return false;
	if (b->len + more <= b->cap)
		return true;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void hbuf_put(struct http_buf *b, const void *data, size_t n)
{
	if (!hbuf_reserve(b, n))
		return;
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

void hbuf_puts(struct http_buf *b, const char *s)
{
	hbuf_put(b, s, strlen(s));
}

void hbuf_put_json(struct http_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

		if (c != '"' && c != '\\' && c >= 0x20)
			continue;
		hbuf_put(b, s + start, i - start);
		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			hbuf_put(b, esc, 2);
		} else {
			hbuf_put(b, esc, 6);
		}
		start = i + 1;
	}
	hbuf_put(b, s + start, n - start);
}

void hbuf_reset(struct http_buf *b)
{
	b->len = 0;
	b->oom = false;
}

static void hbuf_free(struct http_buf *b)
{
	free(b->p);
	*b = (struct http_buf){0};
}

/* ---- event fields ------------------------------------------------------------------------- */

uint64_t http_event_time_ns(const struct sink_record *r)
{
	static const char key[] = "{\"@timestamp\":\"";
	const size_t klen = sizeof(key) - 1, tlen = sizeof("YYYY-MM-DDTHH:MM:SS.NNNNNNNNNZ") - 1;
	struct tm tm = {0};
	unsigned long ns;
	char text[32];
	time_t secs;

	if (r->len < klen + tlen || memcmp(r->data, key, klen) != 0)
		return 0;
	memcpy(text, r->data + klen, tlen);
	text[tlen] = '\0';
	if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d.%9luZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	           &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ns) != 7)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	secs = timegm(&tm);
	if (secs < 0)
		return 0;
	return (uint64_t)secs * 1000000000ull + ns;
}

bool http_event_str(const struct sink_record *r, const char *pattern, const char **val, size_t *len)
{
	const char *p = memmem(r->data, r->len, pattern, strlen(pattern)), *end;

	if (!p)
		return false;
	p += strlen(pattern);
	end = r->data + r->len;
	for (const char *q = p; q < end; q++) {
		if (*q == '\\') {
			q++;
		} else if (*q == '"') {
			*val = p;
			*len = (size_t)(q - p);
			return true;
		}
	}
	return false;
}

/* ---- counters and messages ---------------------------------------------------------------- */

static void count(struct http_sink *h, enum counter c, uint64_t v)
{
	__atomic_fetch_add(&h->c[c], v, __ATOMIC_RELAXED);
}

/* Logs a delivery problem when it differs from the last one, not once per retry. */
__attribute__((format(printf, 3, 4))) static void problem(struct http_sink *h, long what,
                                                          const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (what == h->problem)
		return;
	h->problem = what;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	LOG(LOG_WARN, "sink '%s': %s", h->s->spec, msg);
}

static void recovered(struct http_sink *h)
{
	if (h->problem == PROBLEM_NONE)
		return;
	h->problem = PROBLEM_NONE;
	LOG(LOG_INFO, "sink '%s': the server takes events again", h->s->spec);
}

/* ---- options ------------------------------------------------------------------------------ */

/* A secret from an environment variable or a file (its first line), never from the spec. */
static int read_secret(struct http_sink *h, const char *key, const char *from, bool file)
{
	char buf[SECRET_MAX];
	size_t n = 0;

	if (h->secret) {
		LOG(LOG_ERROR, "sink '%s': give one credential (password, token or API key), once",
		    h->s->spec);
		return -EINVAL;
	}
	if (file) {
		FILE *f = fopen(from, "re");

		if (!f) {
			LOG(LOG_ERROR, "sink '%s': %s: cannot read '%s' (%s)", h->s->spec, key,
			    from, strerror(errno));
			return -EINVAL;
		}
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	} else {
		const char *v = getenv(from);

		if (!v || !*v) {
			LOG(LOG_ERROR, "sink '%s': %s: the environment variable %s is not set",
			    h->s->spec, key, from);
			return -EINVAL;
		}
		n = strnlen(v, sizeof(buf) - 1);
		memcpy(buf, v, n);
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!buf[0]) {
		LOG(LOG_ERROR, "sink '%s': %s: '%s' holds no secret", h->s->spec, key, from);
		return -EINVAL;
	}
	h->secret = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return h->secret ? 0 : -ENOMEM;
}

enum auth {
	AUTH_NONE,
	AUTH_BASIC,
	AUTH_BEARER,
	AUTH_API_KEY,
};

struct init_state {
	enum auth auth;
	bool user;
	const char *dead_letter;
	uint64_t timeout_ns, connect_ns;
};

static int bad_value(struct http_sink *h, const char *key, const char *value, const char *want)
{
	LOG(LOG_ERROR, "sink '%s': bad value '%s' for %s: %s", h->s->spec, value, key, want);
	return -EINVAL;
}

static int bool_value(struct http_sink *h, const char *key, const char *value, bool *out)
{
	if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0)
		return bad_value(h, key, value, "0 or 1");
	*out = value[0] == '1';
	return 1;
}

static int seconds_value(struct http_sink *h, const char *key, const char *value, uint64_t *out)
{
	if (parse_seconds(value, 86400, out) != 0)
		return bad_value(h, key, value, "seconds, such as 0.5 or 30");
	return 1;
}

static int set_auth(struct http_sink *h, struct init_state *st, enum auth a, const char *key,
                    const char *value, bool file)
{
	int rc = read_secret(h, key, value, file);

	st->auth = a;
	return rc ? rc : 1;
}

/* The options every HTTP sink takes: 1 taken, 0 not a core option, -EINVAL after logging. */
static int core_option(struct http_sink *h, struct init_state *st, const char *k, const char *v)
{
	struct sink *s = h->s;
	uint64_t n;

	if (strcmp(k, "batch") == 0) {
		if (parse_uint(v, 1, 1u << 20, &n) != 0)
			return bad_value(h, k, v, "events in one request, 1 to 1048576");
		s->batch_events = (uint32_t)n;
		return 1;
	}
	if (strcmp(k, "batch_bytes") == 0) {
		if (parse_size(v, &s->batch_bytes) != 0 || !s->batch_bytes)
			return bad_value(h, k, v, "a size such as 5M");
		return 1;
	}
	if (strcmp(k, "flush") == 0)
		return seconds_value(h, k, v, &s->batch_delay_ns);
	if (strcmp(k, "gzip") == 0)
		return bool_value(h, k, v, &h->gzip);
	if (strcmp(k, "timeout") == 0)
		return seconds_value(h, k, v, &st->timeout_ns);
	if (strcmp(k, "connect_timeout") == 0)
		return seconds_value(h, k, v, &st->connect_ns);
	if (strcmp(k, "retry_min") == 0)
		return seconds_value(h, k, v, &h->retry_min_ns);
	if (strcmp(k, "retry_max") == 0)
		return seconds_value(h, k, v, &h->retry_max_ns);
	if (strcmp(k, "dead_letter") == 0) {
		st->dead_letter = v;
		return 1;
	}
	if (strcmp(k, "header") == 0) {
		const char *colon = strchr(v, ':');
		struct curl_slist *l;

		if (!colon || colon == v)
			return bad_value(h, k, v, "Name:Value");
		if (strncasecmp(v, "Authorization:", 14) == 0) {
			/* Not even the spec is echoed: it holds the secret. */
			LOG(LOG_ERROR,
			    "sink %s: secrets stay off the command line (it is readable in /proc): "
			    "use token_env=, token_file=, api_key_env= or api_key_file=",
			    s->ops->name);
			return -EINVAL;
		}
		l = curl_slist_append(h->headers, v);
		if (!l)
			return -ENOMEM;
		h->headers = l;
		return 1;
	}
	if (strcmp(k, "ca") == 0)
		return curl_easy_setopt(h->easy, CURLOPT_CAINFO, v) ? -ENOMEM : 1;
	if (strcmp(k, "cert") == 0)
		return curl_easy_setopt(h->easy, CURLOPT_SSLCERT, v) ? -ENOMEM : 1;
	if (strcmp(k, "key") == 0)
		return curl_easy_setopt(h->easy, CURLOPT_SSLKEY, v) ? -ENOMEM : 1;
	if (strcmp(k, "insecure") == 0) {
		bool off;
		int rc = bool_value(h, k, v, &off);

		if (rc == 1 && off) {
			LOG(LOG_WARN,
			    "sink '%s': insecure=1: the server's TLS certificate is NOT checked: "
			    "anyone on the path can read and change these events; give its CA with "
			    "ca=PEM instead",
			    s->spec);
			curl_easy_setopt(h->easy, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_easy_setopt(h->easy, CURLOPT_SSL_VERIFYHOST, 0L);
		}
		return rc;
	}
	if (strcmp(k, "user") == 0) {
		st->user = true;
		return curl_easy_setopt(h->easy, CURLOPT_USERNAME, v) ? -ENOMEM : 1;
	}
	if (strcmp(k, "password_env") == 0 || strcmp(k, "password_file") == 0)
		return set_auth(h, st, AUTH_BASIC, k, v, k[9] == 'f');
	if (strcmp(k, "token_env") == 0 || strcmp(k, "token_file") == 0)
		return set_auth(h, st, AUTH_BEARER, k, v, k[6] == 'f');
	if (strcmp(k, "api_key_env") == 0 || strcmp(k, "api_key_file") == 0)
		return set_auth(h, st, AUTH_API_KEY, k, v, k[8] == 'f');
	if (strcmp(k, "password") == 0 || strcmp(k, "token") == 0 || strcmp(k, "api_key") == 0) {
		/* Command lines are world-readable in /proc: not even the spec is echoed back. */
		LOG(LOG_ERROR,
		    "sink %s: secrets stay off the command line (it is readable in /proc): use "
		    "%s_env=VARIABLE or %s_file=PATH",
		    s->ops->name, k, k);
		return -EINVAL;
	}
	return 0;
}

static size_t on_response(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_buf *b = arg;
	size_t n = size * nmemb;

	/* Returning less than n makes curl fail the transfer: retried, not misread. */
	if (b->len + n > RESPONSE_MAX)
		return 0;
	hbuf_put(b, data, n);
	return b->oom ? 0 : n;
}

/* Everything on the easy handle that stays the same from request to request. */
static int transport_setup(struct http_sink *h, const char *url, const struct init_state *st)
{
	/* "Expect:" turns off curl's 100-continue wait on large bodies: one round trip less. */
	const char *fixed[] = {"Expect:", h->gzip ? "Content-Encoding: gzip" : NULL};
	char header[SECRET_MAX + 64];
	size_t ulen = strlen(url);
	struct curl_slist *l;
	char *full;
	int rc = 0;

	while (ulen && url[ulen - 1] == '/')
		ulen--;
	if (asprintf(&full, "%.*s%s", (int)ulen, url, h->fl->path) < 0)
		return -ENOMEM;
	curl_easy_setopt(h->easy, CURLOPT_URL, full);
	free(full);
	snprintf(header, sizeof(header), "Content-Type: %s", h->fl->content_type);
	l = curl_slist_append(h->headers, header);
	for (size_t i = 0; l && i < sizeof(fixed) / sizeof(fixed[0]) && fixed[i]; i++)
		l = curl_slist_append(h->headers = l, fixed[i]);
	if (!l)
		return -ENOMEM;
	h->headers = l;
	if (st->user != (st->auth == AUTH_BASIC)) {
		LOG(LOG_ERROR,
		    "sink '%s': basic auth takes user=NAME with password_env=VARIABLE or "
		    "password_file=PATH, both",
		    h->s->spec);
		return -EINVAL;
	}
	if (st->auth != AUTH_NONE && strncmp(url, "http://", 7) == 0)
		LOG(LOG_WARN,
		    "sink '%s': credentials go to an http:// URL in clear text: use https:// "
		    "unless the network is yours",
		    h->s->spec);
	switch (st->auth) {
	case AUTH_NONE:
		break;
	case AUTH_BASIC:
		curl_easy_setopt(h->easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		rc = curl_easy_setopt(h->easy, CURLOPT_PASSWORD, h->secret) ? -ENOMEM : 0;
		break;
	case AUTH_BEARER:
		curl_easy_setopt(h->easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		rc = curl_easy_setopt(h->easy, CURLOPT_XOAUTH2_BEARER, h->secret) ? -ENOMEM : 0;
		break;
	case AUTH_API_KEY:
		snprintf(header, sizeof(header), "Authorization: ApiKey %s", h->secret);
		l = curl_slist_append(h->headers, header);
		explicit_bzero(header, sizeof(header));
		if (!l)
			return -ENOMEM;
		h->headers = l;
		break;
	}
	if (rc)
		return rc;
	curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(h->easy, CURLOPT_TIMEOUT_MS, (long)(st->timeout_ns / 1000000));
	curl_easy_setopt(h->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)(st->connect_ns / 1000000));
	curl_easy_setopt(h->easy, CURLOPT_NOSIGNAL, 1L); /* signals belong to the main thread */
	curl_easy_setopt(h->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(h->easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h->easy, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(h->easy, CURLOPT_WRITEFUNCTION, on_response);
	curl_easy_setopt(h->easy, CURLOPT_WRITEDATA, &h->resp);
	curl_easy_setopt(h->easy, CURLOPT_USERAGENT, "l7collect/" L7_VERSION);
	curl_easy_setopt(h->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	return 0;
}

void *http_sink_priv(struct http_sink *h)
{
	return h->fpriv;
}

const char *http_sink_spec(const struct http_sink *h)
{
	return h->s->spec;
}

int http_sink_init(struct sink *s, const char *arg, const struct sink_option *opts, size_t n_opts,
                   const struct http_flavour *fl)
{
	struct init_state st = {.timeout_ns = DEFAULT_TIMEOUT_NS, .connect_ns = DEFAULT_CONNECT_NS};
	const char *authority;
	struct http_sink *h;
	int rc = -ENOMEM;

	if (!arg || (strncmp(arg, "http://", 7) != 0 && strncmp(arg, "https://", 8) != 0)) {
		LOG(LOG_ERROR,
		    "sink '%s': give the server's URL: %s:http://HOST:PORT or https://...", s->spec,
		    s->ops->name);
		return -EINVAL;
	}
	authority = strstr(arg, "://") + 3;
	if (memchr(authority, '@', strcspn(authority, "/"))) {
		LOG(LOG_ERROR,
		    "sink %s: credentials stay out of the URL (the command line is readable in "
		    "/proc): use user= with password_env= or password_file=",
		    s->ops->name);
		return -EINVAL;
	}
	/* Once, from the main thread before any sink thread runs: curl_global_init is not
	 * thread-safe everywhere, and curl_easy_init would otherwise call it. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -ENOMEM;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	s->priv = h;
	s->format = SINK_FORMAT_JSON;
	s->batch_events = DEFAULT_BATCH_EVENTS;
	s->batch_bytes = DEFAULT_BATCH_BYTES;
	s->batch_delay_ns = DEFAULT_FLUSH_NS;
	h->s = s;
	h->fl = fl;
	h->gzip = true;
	h->dead_fd = -1;
	h->retry_min_ns = DEFAULT_RETRY_MIN_NS;
	h->retry_max_ns = DEFAULT_RETRY_MAX_NS;
	h->rng = clock_ns(CLOCK_MONOTONIC) ^ (uintptr_t)h;
	h->easy = curl_easy_init();
	h->multi = curl_multi_init();
	if (!h->easy || !h->multi || (fl->priv_size && !(h->fpriv = calloc(1, fl->priv_size))))
		goto fail;
	for (size_t i = 0; i < n_opts; i++) {
		rc = core_option(h, &st, opts[i].key, opts[i].value);
		if (rc == 0 && fl->option)
			rc = fl->option(h, opts[i].key, opts[i].value);
		if (rc == 0) {
			LOG(LOG_ERROR, "sink '%s': unknown option '%s' (see --help)", s->spec,
			    opts[i].key);
			rc = -EINVAL;
		}
		if (rc < 0)
			goto fail;
	}
	if (h->retry_min_ns == 0 || h->retry_max_ns < h->retry_min_ns) {
		LOG(LOG_ERROR, "sink '%s': retry_min must be above 0 and at most retry_max",
		    s->spec);
		rc = -EINVAL;
		goto fail;
	}
	rc = fl->setup ? fl->setup(h) : 0;
	if (rc == 0)
		rc = transport_setup(h, arg, &st);
	if (rc)
		goto fail;
	rc = -ENOMEM;
	if (h->gzip) {
		/* Level 1: most of what gzip can save on JSON, for a fraction of the CPU. */
		if (deflateInit2(&h->z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			goto fail;
		h->z_ready = true;
	}
	h->settled = calloc(s->batch_events, sizeof(*h->settled));
	h->idx = calloc(s->batch_events, sizeof(*h->idx));
	h->items = calloc(s->batch_events, sizeof(*h->items));
	if (!h->settled || !h->idx || !h->items)
		goto fail;
	if (st.dead_letter) {
		h->dead_fd = open(st.dead_letter, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (h->dead_fd < 0) {
			LOG(LOG_ERROR, "sink '%s': cannot open the dead-letter file '%s': %s",
			    s->spec, st.dead_letter, strerror(errno));
			rc = -EINVAL;
			goto fail;
		}
	}
	return 0;
fail:
	if (rc == -ENOMEM)
		LOG(LOG_ERROR, "sink '%s': out of memory setting the sink up", s->spec);
	http_sink_close(s);
	return rc;
}

/* ---- delivery ----------------------------------------------------------------------------- */

/* Builds (and compresses) the body for the unsettled events idx[0..k-1]. */
static int build_request(struct http_sink *h, const struct sink_record *recs, size_t k)
{
	struct http_buf *out = &h->body;

	hbuf_reset(&h->body);
	hbuf_reset(&h->resp);
	h->fl->build(h, &h->body, recs, h->idx, k);
	if (h->body.oom)
		return -ENOMEM;
	if (h->gzip) {
		uLong bound = deflateBound(&h->z, h->body.len);

		hbuf_reset(&h->gz);
		if (!hbuf_reserve(&h->gz, bound) || deflateReset(&h->z) != Z_OK)
			return -ENOMEM;
		h->z.next_in = (Bytef *)h->body.p;
		h->z.avail_in = (uInt)h->body.len;
		h->z.next_out = (Bytef *)h->gz.p;
		h->z.avail_out = (uInt)h->gz.cap;
		if (deflate(&h->z, Z_FINISH) != Z_STREAM_END)
			return -ENOMEM;
		h->gz.len = h->z.total_out;
		out = &h->gz;
	}
	curl_easy_setopt(h->easy, CURLOPT_POSTFIELDS, out->p);
	curl_easy_setopt(h->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)out->len);
	count(h, C_REQUESTS, 1);
	count(h, C_REQUEST_BYTES, out->len);
	return 0;
}

static bool deadline_passed(struct sink *s)
{
	uint64_t deadline = __atomic_load_n(&s->deadline_ns, __ATOMIC_RELAXED);

	return deadline && clock_ns(CLOCK_MONOTONIC) >= deadline;
}

/* Runs the request. false when the shutdown deadline passed first (the request is abandoned);
 * otherwise *rc is curl's verdict. */
static bool perform(struct http_sink *h, CURLcode *rc)
{
	bool in_time = true;
	int running = 1, left;
	CURLMsg *msg;

	h->errbuf[0] = '\0';
	*rc = CURLE_OUT_OF_MEMORY; /* what a multi handle that fails to run amounts to */
	curl_multi_add_handle(h->multi, h->easy);
	for (;;) {
		uint64_t deadline, now, slice = POLL_SLICE_MS;

		if (curl_multi_perform(h->multi, &running) != CURLM_OK || !running)
			break;
		deadline = __atomic_load_n(&h->s->deadline_ns, __ATOMIC_RELAXED);
		now = clock_ns(CLOCK_MONOTONIC);
		if (deadline && now >= deadline) {
			in_time = false;
			break;
		}
		if (deadline && (deadline - now) / 1000000 < slice)
			slice = (deadline - now) / 1000000 + 1;
		curl_multi_poll(h->multi, NULL, 0, (int)slice, NULL);
	}
	while ((msg = curl_multi_info_read(h->multi, &left)))
		if (msg->msg == CURLMSG_DONE)
			*rc = msg->data.result;
	curl_multi_remove_handle(h->multi, h->easy);
	return in_time;
}

/* xorshift64*: jitter needs spread, not secrecy. */
static uint64_t next_random(struct http_sink *h)
{
	h->rng ^= h->rng >> 12;
	h->rng ^= h->rng << 25;
	h->rng ^= h->rng >> 27;
	return h->rng * 0x2545F4914F6CDD1Dull;
}

/* SINK_RETRY after "full jitter": a uniform wait up to retry_min doubled per attempt (at most
 * retry_max), so that collectors on many nodes do not come back in step; never sooner than the
 * server's Retry-After. */
static enum sink_result retry(struct http_sink *h, uint64_t after_ns)
{
	unsigned shift = h->s->attempt < 40 ? h->s->attempt : 40;
	uint64_t cap = h->retry_min_ns;

	while (shift-- && cap < h->retry_max_ns)
		cap *= 2;
	if (cap > h->retry_max_ns)
		cap = h->retry_max_ns;
	h->s->retry_ns = next_random(h) % (cap + 1);
	if (h->s->retry_ns < after_ns)
		h->s->retry_ns = after_ns;
	if (!h->s->retry_ns)
		h->s->retry_ns = 1; /* 0 would hand the wait back to the pipeline's backoff */
	return SINK_RETRY;
}

static uint64_t retry_after_ns(struct http_sink *h)
{
	curl_off_t secs = 0;

	if (curl_easy_getinfo(h->easy, CURLINFO_RETRY_AFTER, &secs) != CURLE_OK || secs <= 0)
		return 0;
	if (secs > RETRY_AFTER_MAX_S)
		secs = RETRY_AFTER_MAX_S;
	return (uint64_t)secs * 1000000000ull;
}

/* An event the server refused for good: to the dead-letter file, as it was sent. */
static void reject(struct http_sink *h, const struct sink_record *r)
{
	h->batch_rejected++;
	count(h, C_REJECTED, 1);
	if (h->dead_fd < 0)
		return;
	for (size_t off = 0; off < r->len;) {
		ssize_t w = write(h->dead_fd, r->data + off, r->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			problem(h, PROBLEM_DEAD_LETTER,
			        "writing the dead-letter file failed (%s): refused events are lost",
			        strerror(errno));
			count(h, C_DEAD_LETTER_ERRORS, 1);
			return;
		}
		off += (size_t)w;
	}
	count(h, C_DEAD_LETTERED, 1);
}

static void settle(struct http_sink *h, const struct sink_record *recs, uint32_t i,
                   enum http_item what)
{
	h->settled[i] = 1;
	if (what == HTTP_ITEM_REJECTED) {
		reject(h, &recs[i]);
		return;
	}
	if (what == HTTP_ITEM_CONFLICT)
		count(h, C_CONFLICTS, 1);
	count(h, C_SENT_EVENTS, 1);
	count(h, C_SENT_BYTES, recs[i].len);
}

static enum sink_result batch_done(struct http_sink *h)
{
	h->s->rejected = h->batch_rejected;
	return SINK_OK;
}

/* A 2xx answer: settles what it stored or refused; the rest is retried alone. */
static enum sink_result answered(struct http_sink *h, const struct sink_record *recs, size_t k)
{
	size_t again = 0, rejected = h->batch_rejected;
	bool busy = false;

	if (h->fl->response && h->fl->response(h, h->resp.p, h->resp.len, h->items, k) != 0) {
		problem(h, PROBLEM_UNREADABLE,
		        "the server's answer could not be read as the API's: retrying the "
		        "request; check the URL points at the right server");
		return retry(h, 0);
	}
	for (size_t j = 0; j < k; j++) {
		enum http_item what = h->fl->response ? h->items[j] : HTTP_ITEM_OK;

		if (what == HTTP_ITEM_RETRY_429 || what == HTTP_ITEM_RETRY_5XX) {
			again++;
			busy |= what == HTTP_ITEM_RETRY_429;
			continue;
		}
		settle(h, recs, h->idx[j], what);
	}
	if (h->batch_rejected > rejected)
		problem(h, PROBLEM_ITEMS_REFUSED,
		        "the server refused some events for good (4xx items): they are counted "
		        "as rejected and kept in the dead-letter file if there is one");
	if (!again) {
		if (h->batch_rejected == rejected)
			recovered(h);
		return batch_done(h);
	}
	count(h, C_RETRIED_ITEMS, again);
	count(h, busy ? C_RETRIED_429 : C_RETRIED_5XX, 1);
	return retry(h, 0);
}

enum sink_result http_sink_write(struct sink *s, const struct sink_record *recs, size_t n)
{
	struct http_sink *h = s->priv;
	long status = 0;
	CURLcode rc;
	size_t k = 0;

	/* Past the shutdown deadline nothing new is sent: the pipeline counts what is left. */
	if (deadline_passed(s))
		return SINK_RETRY;
	if (s->attempt == 0) {
		memset(h->settled, 0, n);
		h->batch_rejected = 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!h->settled[i])
			h->idx[k++] = (uint32_t)i;
	if (build_request(h, recs, k) != 0) {
		problem(h, PROBLEM_OOM, "out of memory building a request: retrying");
		return retry(h, 0);
	}
	if (!perform(h, &rc))
		return SINK_RETRY;
	if (rc != CURLE_OK) {
		count(h, rc == CURLE_OPERATION_TIMEDOUT ? C_RETRIED_TIMEOUT : C_RETRIED_CONNECT, 1);
		problem(h, PROBLEM_CURL + rc, "%s: retrying; events wait in the queue",
		        h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
		return retry(h, 0);
	}
	curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 100 && status < 600)
		count(h, (enum counter)(C_STATUS_1XX + status / 100 - 1), 1);
	if (status >= 200 && status < 300)
		return answered(h, recs, k);
	if (status == 408 || status == 429 || (status >= 500 && status < 600 && status != 501)) {
		count(h,
		      status == 429   ? C_RETRIED_429
		      : status == 408 ? C_RETRIED_TIMEOUT
		                      : C_RETRIED_5XX,
		      1);
		problem(h, status, "the server answered %ld: retrying; events wait in the queue",
		        status);
		return retry(h, retry_after_ns(h));
	}
	/* Sending the same request again would get the same answer. */
	problem(h, status,
	        "the server refused a request with status %ld (%.*s): its events are counted as "
	        "rejected and kept in the dead-letter file if there is one; check the URL, "
	        "credentials and options",
	        status, (int)(h->resp.len < 120 ? h->resp.len : 120), h->resp.p ? h->resp.p : "");
	for (size_t j = 0; j < k; j++)
		settle(h, recs, h->idx[j], HTTP_ITEM_REJECTED);
	return batch_done(h);
}

enum sink_result http_sink_flush(struct sink *s)
{
	/* Batching is the pipeline's (batch_events, batch_bytes, batch_delay_ns), and each write
	 * returns only once its batch is settled: nothing waits here. */
	(void)s;
	return SINK_OK;
}

void http_sink_close(struct sink *s)
{
	struct http_sink *h = s->priv;

	if (!h)
		return;
	if (h->fpriv && h->fl->release)
		h->fl->release(h);
	free(h->fpriv);
	if (h->multi)
		curl_multi_cleanup(h->multi);
	if (h->easy)
		curl_easy_cleanup(h->easy);
	/* The API key header holds the secret. */
	for (struct curl_slist *l = h->headers; l; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(h->headers);
	if (h->secret) {
		explicit_bzero(h->secret, strlen(h->secret));
		free(h->secret);
	}
	if (h->z_ready)
		deflateEnd(&h->z);
	if (h->dead_fd >= 0)
		close(h->dead_fd);
	hbuf_free(&h->body);
	hbuf_free(&h->gz);
	hbuf_free(&h->resp);
	free(h->settled);
	free(h->idx);
	free(h->items);
	free(h);
	s->priv = NULL;
}

void http_sink_stats(struct sink *s, void (*add)(void *ctx, const char *name, uint64_t value),
                     void *ctx)
{
	struct http_sink *h = s->priv;

	for (int i = 0; i < C_N; i++)
		add(ctx, counter_names[i], __atomic_load_n(&h->c[i], __ATOMIC_RELAXED));
}
