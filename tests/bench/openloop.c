/* openloop: a fixed-rate (open-loop) HTTP/1.1 load generator for the benchmarks.
 *
 * Requests go out on N keep-alive connections at a fixed total rate, whatever the server does:
 * connection i sends at start + i/rate, then every N/rate seconds. A connection carries one
 * request at a time (no pipelining); when its next send time comes while it is still waiting for
 * a response, that request is sent as soon as the response arrives. Latency is measured from the
 * *scheduled* send time to the end of the response, so time spent queued behind a slow response
 * counts (no coordinated omission).
 *
 * Responses must carry Content-Length (nginx's static files do).
 *
 * Usage: openloop -p PORT [-H 127.0.0.1] [-P /index.html] [-c CONNS] -r RATE -d SECONDS [-w WARMUP]
 * Prints one line of key=value pairs: requests scheduled/sent/completed, errors, the achieved
 * rate and latency percentiles in microseconds (requests scheduled during the warm-up excluded).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE   (256 * 1024)
#define GRACE_NS   2000000000ull /* time given to responses still due after the run */
#define NS_PER_SEC 1000000000ull

struct conn {
	int fd;
	uint64_t next_send; /* scheduled time of this connection's next request */
	uint64_t inflight;  /* scheduled time of the request awaiting its response; 0: idle */
	size_t have;        /* bytes of the current response received */
	size_t need;        /* its full length once the header is parsed; 0: not yet known */
	char *buf;
};

struct opts {
	const char *host, *path;
	int port, conns;
	double rate, duration, warmup;
};

struct results {
	uint64_t scheduled, sent, completed, errors, reconnects;
	uint64_t *lat; /* ns, requests scheduled after the warm-up */
	size_t n_lat, cap_lat;
};

static char request[1024];
static size_t request_len;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int connect_to(const struct opts *o, int epfd, struct conn *c)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
	int one = 1;

	if (inet_pton(AF_INET, o->host, &sa.sin_addr) != 1) {
		fprintf(stderr, "openloop: bad IPv4 address %s\n", o->host);
		exit(2);
	}
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		die("epoll_ctl");
	c->have = c->need = 0;
	return 0;
}

static void reconnect(const struct opts *o, int epfd, struct conn *c, struct results *r)
{
	if (c->inflight)
		r->errors++;
	c->inflight = 0;
	close(c->fd);
	r->reconnects++;
	if (connect_to(o, epfd, c) < 0)
		die("reconnect");
}

static void send_request(const struct opts *o, int epfd, struct conn *c, struct results *r)
{
	ssize_t w = send(c->fd, request, request_len, MSG_NOSIGNAL);

	if (w != (ssize_t)request_len) { /* a fresh socket's buffer always takes ~100 bytes */
		reconnect(o, epfd, c, r);
		return;
	}
	c->inflight = c->next_send;
	r->sent++;
}

/* Length of the whole response once its header is in, from Content-Length; 0 while incomplete. */
static size_t response_length(const char *buf, size_t have)
{
	const char *end = memmem(buf, have, "\r\n\r\n", 4);
	size_t hdr;

	if (!end)
		return 0;
	hdr = (size_t)(end - buf) + 4;
	for (const char *p = buf; p < end;) {
		const char *eol = memmem(p, (size_t)(end - p) + 2, "\r\n", 2);

		if (!eol)
			break;
		if (eol - p > 15 && strncasecmp(p, "content-length:", 15) == 0)
			return hdr + strtoull(p + 15, NULL, 10);
		p = eol + 2;
	}
	fprintf(stderr, "openloop: a response without Content-Length\n");
	exit(1);
}

static void record(const struct opts *o, struct results *r, uint64_t start, uint64_t sched,
                   uint64_t done)
{
	r->completed++;
	if (sched < start + (uint64_t)(o->warmup * NS_PER_SEC))
		return;
	if (r->n_lat == r->cap_lat) {
		r->cap_lat = r->cap_lat ? r->cap_lat * 2 : 65536;
		r->lat = realloc(r->lat, r->cap_lat * sizeof(*r->lat));
		if (!r->lat)
			die("realloc");
	}
	r->lat[r->n_lat++] = done - sched;
}

static void on_readable(const struct opts *o, int epfd, struct conn *c, struct results *r,
                        uint64_t start)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->buf + c->have, BUF_SIZE - c->have, 0);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0 || !c->inflight) { /* closed, failed, or bytes nobody asked for */
			reconnect(o, epfd, c, r);
			return;
		}
		c->have += (size_t)n;
		if (!c->need)
			c->need = response_length(c->buf, c->have);
		if (c->need > BUF_SIZE) {
			fprintf(stderr, "openloop: response larger than %d bytes\n", BUF_SIZE);
			exit(1);
		}
		if (c->need && c->have >= c->need) {
			if (c->have > c->need) { /* no pipelining: nothing may follow */
				reconnect(o, epfd, c, r);
				return;
			}
			record(o, r, start, c->inflight, now_ns());
			c->inflight = 0;
			c->have = c->need = 0;
			return;
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct_us(const struct results *r, double p)
{
	size_t i;

	if (!r->n_lat)
		return 0;
	i = (size_t)(p / 100.0 * (double)(r->n_lat - 1) + 0.5);
	return (double)r->lat[i] / 1000.0;
}

static void report(const struct opts *o, struct results *r)
{
	double sum = 0, measured = o->duration - o->warmup;

	qsort(r->lat, r->n_lat, sizeof(*r->lat), cmp_u64);
	for (size_t i = 0; i < r->n_lat; i++)
		sum += (double)r->lat[i];
	printf("target_rps=%.1f achieved_rps=%.1f scheduled=%llu sent=%llu completed=%llu "
	       "errors=%llu reconnects=%llu measured=%zu mean_us=%.1f p50_us=%.1f p90_us=%.1f "
	       "p99_us=%.1f p999_us=%.1f max_us=%.1f\n",
	       o->rate, measured > 0 ? (double)r->n_lat / measured : 0.0,
	       (unsigned long long)r->scheduled, (unsigned long long)r->sent,
	       (unsigned long long)r->completed, (unsigned long long)r->errors,
	       (unsigned long long)r->reconnects, r->n_lat,
	       r->n_lat ? sum / (double)r->n_lat / 1000.0 : 0.0, pct_us(r, 50), pct_us(r, 90),
	       pct_us(r, 99), pct_us(r, 99.9), r->n_lat ? (double)r->lat[r->n_lat - 1] / 1000 : 0);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	int ch;

	*o = (struct opts){.host = "127.0.0.1", .path = "/index.html", .conns = 50, .warmup = 1};
	while ((ch = getopt(argc, argv, "H:p:P:c:r:d:w:")) != -1) {
		switch (ch) {
		case 'H':
			o->host = optarg;
			break;
		case 'p':
			o->port = atoi(optarg);
			break;
		case 'P':
			o->path = optarg;
			break;
		case 'c':
			o->conns = atoi(optarg);
			break;
		case 'r':
			o->rate = atof(optarg);
			break;
		case 'd':
			o->duration = atof(optarg);
			break;
		case 'w':
			o->warmup = atof(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (o->port > 0 && o->conns > 0 && o->rate > 0 && o->duration > o->warmup)
		return;
usage:
	fprintf(stderr, "usage: openloop -p PORT -r RATE -d SECONDS [-H IPV4] [-P PATH] [-c CONNS] "
	                "[-w WARMUP_SECONDS < SECONDS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct results r = {0};
	struct conn *conns;
	struct epoll_event evs[256];
	uint64_t start, end, interval, gap;
	int epfd;

	parse_args(argc, argv, &o);
	request_len = (size_t)snprintf(request, sizeof(request),
	                               "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: openloop\r\n"
	                               "Accept: */*\r\n\r\n",
	                               o.path, o.host, o.port);
	/* Wake-ups within a microsecond of the schedule, not the default 50 us slack. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	conns = calloc((size_t)o.conns, sizeof(*conns));
	if (epfd < 0 || !conns)
		die("setup");
	for (int i = 0; i < o.conns; i++) {
		conns[i].buf = malloc(BUF_SIZE);
		if (!conns[i].buf || connect_to(&o, epfd, &conns[i]) < 0)
			die("connect");
	}
	gap = (uint64_t)((double)NS_PER_SEC / o.rate);
	interval = gap * (uint64_t)o.conns;
	start = now_ns() + 10000000ull; /* 10 ms to settle */
	end = start + (uint64_t)(o.duration * NS_PER_SEC);
	for (int i = 0; i < o.conns; i++)
		conns[i].next_send = start + gap * (uint64_t)i;

	for (;;) {
		uint64_t now = now_ns(), wake = UINT64_MAX;
		bool busy = false;
		struct timespec to;
		int n;

		for (int i = 0; i < o.conns; i++) {
			struct conn *c = &conns[i];

			if (!c->inflight && c->next_send < end && c->next_send <= now) {
				r.scheduled++;
				send_request(&o, epfd, c, &r);
				c->next_send += interval;
			}
			busy |= c->inflight != 0;
			if (!c->inflight && c->next_send < end && c->next_send < wake)
				wake = c->next_send;
		}
		if (now >= end && (!busy || now >= end + GRACE_NS))
			break;
		if (wake == UINT64_MAX)
			wake = now >= end ? end + GRACE_NS : now + 1000000ull;
		wake = wake > now ? wake - now : 0;
		to.tv_sec = (time_t)(wake / NS_PER_SEC);
		to.tv_nsec = (long)(wake % NS_PER_SEC);
		n = epoll_pwait2(epfd, evs, 256, &to, NULL);
		if (n < 0 && errno != EINTR)
			die("epoll_pwait2");
		for (int k = 0; k < n; k++)
			on_readable(&o, epfd, evs[k].data.ptr, &r, start);
	}
	/* Requests the schedule called for that never went out (their connection stayed busy). */
	for (int i = 0; i < o.conns; i++) {
		struct conn *c = &conns[i];

		while (c->next_send < end) {
			r.scheduled++;
			c->next_send += interval;
		}
		if (c->inflight)
			r.errors++;
	}
	report(&o, &r);
	return 0;
}
