#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "capture_socket.h"
#include "collector.h"
#include "environment.h"
#include "log.h"
#include "units.h"

#define TICK_NS 1000000000ull

volatile sig_atomic_t collector_exiting;
static volatile sig_atomic_t reopen_requested;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reopen_requested = 1;
	else
		collector_exiting = 1;
}

static void install_signals(sigset_t *handled)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: the poll must wake up */
	sigemptyset(&sa.sa_mask);
	sigemptyset(handled);
	sigaddset(handled, SIGINT);
	sigaddset(handled, SIGTERM);
	sigaddset(handled, SIGHUP);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a closed stdout is an EPIPE for the stdout sink to count */
}

static void emit(void *ctx, const struct l7_event *ev)
{
	struct collector *c = ctx;

	pipeline_submit(c->pipe, ev);
}

/* Every counter, as a stats event. Sink counters are left out when sinks is false. */
static void stats_event(struct collector *c, uint64_t now, bool sinks, struct stats_builder *b,
			struct l7_event *ev)
{
	struct flow_table_counters fc = flow_table_counters(c->ft);

	b->n = 0;
	if (c->sock)
		socket_capture_stats_add(c->sock, b);
	stats_add_wire(b, &c->wire);
	stats_add_flows(b, &fc);
	if (sinks)
		pipeline_stats_add(c->pipe, b);
	memset(ev, 0, sizeof(*ev));
	ev->dataset = L7_DATASET_STATS;
	ev->ts_start = ev->ts_end = now;
	ev->stats = (struct ev_stats){b->e, b->n, now > c->start_ns ? now - c->start_ns : 0};
}

void collector_emit_stats(struct collector *c, uint64_t now)
{
	struct stats_builder b;
	struct l7_event ev;

	stats_event(c, now, true, &b, &ev);
	pipeline_submit(c->pipe, &ev);
	c->last_stats_ns = now;
}

/* The capture side's counters on stderr at exit: they survive a sink that cannot take the last
 * stats event (pipeline_close says what the sinks could not deliver). */
static void log_summary(struct collector *c)
{
	struct stats_builder b;
	struct l7_event ev;
	struct jw w;

	stats_event(c, clock_ns(CLOCK_REALTIME), false, &b, &ev);
	jw_init(&w);
	if (encode_text(&w, &ev, &c->enc) == 0 && w.len > 1)
		LOG(LOG_INFO, "exit %.*s", (int)w.len - 1, w.buf);
	jw_free(&w);
}

void collector_tick(struct collector *c, uint64_t now)
{
	if (now < c->last_tick_ns + TICK_NS)
		return;
	c->last_tick_ns = now;
	flow_table_tick(c->ft, now);
	if (c->sock && c->cfg->stats_interval_ns &&
	    now >= c->last_stats_ns + c->cfg->stats_interval_ns)
		collector_emit_stats(c, now);
}

static int live(struct collector *c)
{
	int rc = env_check_live();

	if (rc)
		return rc;
	rc = socket_capture_open(&c->sock, c->cfg, c->ft, &c->wire);
	if (rc)
		return rc;
	LOG(LOG_INFO, "ready: watching %s with the socket filter",
	    socket_capture_describe(c->sock));
	c->last_stats_ns = clock_ns(CLOCK_REALTIME);
	while (!collector_exiting) {
		int n = socket_capture_poll(c->sock, SF_POLL_MS);

		if (n < 0 && n != -EINTR) {
			LOG(LOG_ERROR, "reading the ring buffer: %s", strerror(-n));
			return EXIT_RUNTIME;
		}
		if (reopen_requested) {
			reopen_requested = 0;
			pipeline_reopen(c->pipe);
		}
		collector_tick(c, clock_ns(CLOCK_REALTIME));
		pipeline_kick(c->pipe);
	}
	/* Whatever the filter queued before we stopped. */
	socket_capture_poll(c->sock, 0);
	return 0;
}

static struct flow_cfg flow_config(const struct config *cfg)
{
	return (struct flow_cfg){
	        .max_flows = cfg->max_flows,
	        .idle_timeout_ns = cfg->idle_timeout_ns,
	        .hole_timeout_ns = TICK_NS,
	        .max_ooo_bytes = 1u << 20,
	        .max_buffered = 64ull << 20,
	        .ports = cfg->ports,
	        .n_ports = (uint32_t)cfg->n_ports,
	        .http =
	                {
	                        .max_header_bytes = cfg->max_header_bytes,
	                        .max_pending = 64,
	                        .response_timeout_ns = cfg->http_timeout_ns,
	                        .capture_headers = cfg->http_headers,
	                },
	        .source = cfg->read_file ? L7_SOURCE_PCAP : L7_SOURCE_SOCKET,
	};
}

/* Sink threads start with the signals blocked, so they always reach the capture thread. */
static int start_sinks(struct pipeline *p, const sigset_t *handled)
{
	sigset_t old;
	int rc;

	pthread_sigmask(SIG_BLOCK, handled, &old);
	rc = pipeline_start(p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int run(const struct config *cfg)
{
	struct collector c;
	struct flow_cfg fcfg = flow_config(cfg);
	sigset_t handled;
	uint64_t lost;
	int rc = EXIT_USAGE;

	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	log_max_level = cfg->verbose ? LOG_DEBUG : LOG_INFO;
	install_signals(&handled);
	if (gethostname(c.host, sizeof(c.host) - 1) != 0)
		strcpy(c.host, "unknown");
	c.enc = (struct encode_opts){c.host, cfg->http_headers};
	c.pipe = pipeline_new(&c.enc);
	c.ft = flow_table_new(&fcfg, emit, &c);
	if (!c.pipe || !c.ft)
		return EXIT_RUNTIME;
	for (size_t i = 0; i < cfg->n_sinks; i++)
		if (pipeline_add_sink(c.pipe, cfg->sinks[i], cfg->read_file != NULL) != 0)
			goto out;
	if (start_sinks(c.pipe, &handled) != 0) {
		LOG(LOG_ERROR, "starting the sink threads failed");
		rc = EXIT_RUNTIME;
		goto out;
	}
	c.start_ns = clock_ns(CLOCK_REALTIME);
	rc = cfg->read_file ? offline_read(&c, cfg->read_file) : live(&c);
	if (rc != EXIT_USAGE) {
		uint64_t now = cfg->read_file ? c.last_packet_ns : clock_ns(CLOCK_REALTIME);

		flow_table_flush(c.ft, now);
		if (cfg->stats_interval_ns)
			collector_emit_stats(&c, cfg->read_file ? clock_ns(CLOCK_REALTIME) : now);
		log_summary(&c);
	}
out:
	socket_capture_close(c.sock);
	lost = pipeline_close(c.pipe, cfg->shutdown_timeout_ns);
	if (lost) {
		LOG(LOG_ERROR, "%llu events were not delivered before the shutdown timeout",
		    (unsigned long long)lost);
		if (!rc)
			rc = EXIT_RUNTIME;
	}
	flow_table_free(c.ft);
	return rc;
}
