#include "tcp_app.h"

#include <string.h>

#include "http_parse.h"

#include "dns_sniff.h"

void tcp_app_init(struct tcp_app *a, bool midstream, bool http_forced, uint16_t port_a,
                  uint16_t port_b)
{
	a->kind = TCP_APP_UNDECIDED;
	a->midstream = midstream;
	a->http_forced = http_forced;
	a->dns_port = port_a == DNS_PORT || port_b == DNS_PORT;
	http_session_init(&a->http);
	dns_stream_init(&a->dns[0], 0);
	dns_stream_init(&a->dns[1], 1);
}

/* A length prefix and a plausible header: the check the kernel made (dns_sniff.h). */
static bool dns_start(const uint8_t *p, size_t n)
{
	return n >= 2 + DNS_HEADER_LEN && dns_header_plausible(p + 2, (uint32_t)p[0] << 8 | p[1]);
}

bool tcp_app_can_start(const uint8_t *p, size_t n, uint16_t port_a, uint16_t port_b)
{
	return http_is_request_start(p, n) || http_is_response_start(p, n) || port_a == DNS_PORT ||
	       port_b == DNS_PORT || dns_start(p, n);
}

/* A declared port (--port) carries HTTP by the user's word, unless the stream plainly starts as
 * DNS: -p 53 means DNS. */
static void decide(struct tcp_app *a, const struct tcp_app_env *env, const uint8_t *p, size_t n)
{
	if (http_is_request_start(p, n) || http_is_response_start(p, n)) {
		a->kind = TCP_APP_HTTP;
	} else if (dns_start(p, n) || (a->dns_port && !a->midstream)) {
		a->kind = TCP_APP_DNS;
	} else if (a->midstream || a->http_forced) {
		/* Mid-message: HTTP finds its next message start by itself. */
		a->kind = TCP_APP_HTTP;
	} else {
		a->kind = TCP_APP_OTHER;
		env->stats->other++;
		return;
	}
	if (a->kind == TCP_APP_DNS) {
		env->stats->dns++;
	} else {
		env->stats->http++;
		if (a->midstream)
			http_session_midstream(&a->http);
	}
}

/* A session joined midstream that has not found a message start in TCP_APP_HUNT_MAX bytes. Once
 * either direction finds one the session hunts no more (it joins midstream only when decided). On
 * a declared port it stays HTTP by the user's word, its garbage counted. */
static void hunt(struct tcp_app *a, const struct tcp_app_env *env, size_t n)
{
	if (a->http_forced || !http_session_hunting(&a->http))
		return;
	a->hunted += n;
	if (a->hunted > TCP_APP_HUNT_MAX) {
		a->kind = TCP_APP_OTHER;
		env->stats->unframed++;
	}
}

static void feed(struct tcp_app *a, const struct tcp_app_env *env, int dir, const uint8_t *p,
                 size_t n, uint64_t ts)
{
	if (a->kind == TCP_APP_HTTP) {
		http_session_data(&a->http, &env->http, dir, p, n, ts);
		hunt(a, env, n);
	} else if (a->kind == TCP_APP_DNS)
		dns_stream_data(&a->dns[dir], &env->stats->dns_stream, p, n, ts, env->dns,
		                env->http.ctx);
}

/* Decides on the bytes held (and the first of p[0..n), up to TCP_APP_FIRST in all), then hands
 * over what was held. */
static void decide_held(struct tcp_app *a, const struct tcp_app_env *env, const uint8_t *p,
                        size_t n)
{
	uint8_t look[TCP_APP_FIRST];
	size_t k = a->first_len, more = TCP_APP_FIRST - k < n ? TCP_APP_FIRST - k : n;

	memcpy(look, a->first, k);
	if (more)
		memcpy(look + k, p, more);
	decide(a, env, look, k + more);
	a->first_len = 0;
	if (k)
		feed(a, env, a->first_dir, a->first, k, a->first_ts);
}

void tcp_app_data(struct tcp_app *a, const struct tcp_app_env *env, int dir, const uint8_t *p,
                  size_t n, uint64_t ts)
{
	if (a->kind == TCP_APP_UNDECIDED) {
		if ((!a->first_len || dir == a->first_dir) && a->first_len + n < TCP_APP_FIRST) {
			if (!a->first_len) {
				a->first_dir = (uint8_t)dir;
				a->first_ts = ts;
			}
			memcpy(a->first + a->first_len, p, n);
			a->first_len = (uint8_t)(a->first_len + n);
			return;
		}
		/* The other side spoke first: what was held decides alone. */
		decide_held(a, env, p, a->first_len && dir != a->first_dir ? 0 : n);
	}
	feed(a, env, dir, p, n, ts);
}
void tcp_app_gap(struct tcp_app *a, const struct tcp_app_env *env, int dir, size_t n, uint64_t ts)
{
	if (a->kind == TCP_APP_UNDECIDED && a->first_len)
		decide_held(a, env, NULL, 0);
	/* Before any data, a gap only means the first bytes were missed. */
	if (a->kind == TCP_APP_UNDECIDED)
		a->midstream = true;
	else if (a->kind == TCP_APP_HTTP) {
		http_session_gap(&a->http, &env->http, dir, n, ts);
		hunt(a, env, n); /* bytes cut by --max-payload count: a stream's, without a start */
	} else if (a->kind == TCP_APP_DNS)
		dns_stream_gap(&a->dns[dir], &env->stats->dns_stream, n, ts, env->dns,
		               env->http.ctx);
}

void tcp_app_fin(struct tcp_app *a, const struct tcp_app_env *env, int dir, uint64_t ts)
{
	if (a->kind == TCP_APP_HTTP)
		http_session_fin(&a->http, &env->http, dir, ts);
}

void tcp_app_expire(struct tcp_app *a, const struct tcp_app_env *env, uint64_t now)
{
	if (a->kind == TCP_APP_HTTP)
		http_session_expire(&a->http, &env->http, now);
}

void tcp_app_close(struct tcp_app *a, const struct tcp_app_env *env, bool closed, uint64_t ts)
{
	if (a->kind == TCP_APP_UNDECIDED && a->first_len)
		decide_held(a, env, NULL, 0);
	if (a->kind == TCP_APP_HTTP)
		http_session_close(&a->http, &env->http, closed, ts);
	dns_stream_close(&a->dns[0], &env->stats->dns_stream);
	dns_stream_close(&a->dns[1], &env->stats->dns_stream);
	http_session_free(&a->http);
}

void tcp_app_free(struct tcp_app *a)
{
	http_session_free(&a->http);
	dns_stream_close(&a->dns[0], NULL);
	dns_stream_close(&a->dns[1], NULL);
}
