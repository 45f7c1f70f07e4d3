#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "bpf_util.h"
#include "capture_socket.h"
#include "capture_syscall.h"
#include "collector.h"
#include "conn_table.h"
#include "dns_table.h"
#include "proc_cache.h"
#include "environment.h"
#include "log.h"
#include "rings.h"
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
	if (c->conns) {
		syscall_capture_stats_add(c->sys, b);
		stats_add_conns(b, conn_table_stats(c->conns), conn_table_http_stats(c->conns),
		                conn_table_app_stats(c->conns));
	}
	stats_add_wire(b, &c->wire);
	stats_add_flows(b, &fc);
	stats_add_dns(b, dns_table_stats(c->dns));
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
	/* DNS transactions are due a short hold after their response: every round. */
	dns_table_tick(c->dns, now);
	if (now < c->last_tick_ns + TICK_NS)
		return;
	c->last_tick_ns = now;
	flow_table_tick(c->ft, now);
	if (c->conns)
		conn_table_tick(c->conns, now);
	if (c->rb && c->cfg->stats_interval_ns &&
	    now >= c->last_stats_ns + c->cfg->stats_interval_ns)
		collector_emit_stats(c, now);
}

static struct http_cfg http_config(const struct config *cfg)
{
	return (struct http_cfg){
	        .max_header_bytes = cfg->max_header_bytes,
	        .max_pending = 64,
	        .response_timeout_ns = cfg->http_timeout_ns,
	        .capture_headers = cfg->http_headers,
	};
}

static struct flow_cfg flow_config(const struct config *cfg, struct proc_cache *procs,
                                   struct dns_table *dns)
{
	return (struct flow_cfg){
	        .max_flows = cfg->max_flows,
	        .idle_timeout_ns = cfg->idle_timeout_ns,
	        .hole_timeout_ns = TICK_NS,
	        .max_ooo_bytes = 1u << 20,
	        .max_buffered = 64ull << 20,
	        .ports = cfg->ports,
	        .n_ports = (uint32_t)cfg->n_ports,
	        .http = http_config(cfg),
	        .procs = procs,
	        .dns = dns,
	        .source = cfg->read_file ? L7_SOURCE_PCAP : L7_SOURCE_SOCKET,
	};
}

/* How long a DNS transaction with its response waits for copies from the other capture path:
 * the slower ring buffer is read within a poll interval, give or take scheduling. */
#define DNS_HOLD_NS (20ull * SF_POLL_MS * 1000000ull)

static struct dns_cfg dns_config(const struct config *cfg)
{
	return (struct dns_cfg){
	        .max_transactions = cfg->max_flows,
	        .timeout_ns = cfg->dns_timeout_ns,
	        .hold_ns = DNS_HOLD_NS,
	};
}

static void skip_conn(void *ctx, uint32_t tgid, uint32_t fd, uint64_t conn_id)
{
	struct collector *c = ctx;

	if (c->sys)
		syscall_capture_skip(c->sys, tgid, fd, conn_id);
}

static void forget_conn(void *ctx, const struct conn_key *key)
{
	struct collector *c = ctx;

	syscall_capture_forget(c->sys, key);
}

/* The syscall probes need tracefs. Without --capture syscall they only attribute wire events to
 * processes, which is worth a warning, not a refusal. */
static int open_syscalls(struct collector *c)
{
	const struct config *cfg = c->cfg;
	bool follow = cfg->capture & CAPTURE_SYSCALL;
	struct conn_cfg ccfg = {
	        .max_conns = cfg->max_flows,
	        .idle_timeout_ns = cfg->idle_timeout_ns,
	        .http = http_config(cfg),
	        .procs = c->procs,
	        .dns = c->dns,
	        .skip = skip_conn,
	};

	if (!env_tracefs()) {
		if (follow) {
			LOG(LOG_ERROR,
			    "tracefs is not mounted, and the syscall probes attach through "
			    "it: mount -t tracefs none /sys/kernel/tracing, or use "
			    "--capture socket");
			return EXIT_USAGE;
		}
		LOG(LOG_WARN, "tracefs is not mounted: wire events will not name their processes "
		              "(mount -t tracefs none /sys/kernel/tracing)");
		return 0;
	}
	if (follow && !(c->conns = conn_table_new(&ccfg, emit, forget_conn, c)))
		return EXIT_RUNTIME;
	return syscall_capture_open(&c->sys, cfg, follow,
	                            c->sock ? socket_capture_conns_fd(c->sock) : -1, c->conns,
	                            &c->mono_to_real, &c->rb);
}

static void ready_line(const struct collector *c)
{
	char what[768] = "";

	if (c->sock)
		snprintf(what, sizeof(what), "%s with the socket filter",
		         socket_capture_describe(c->sock));
	if (c->sys)
		snprintf(what + strlen(what), sizeof(what) - strlen(what), "%s%s on %s",
		         c->sock ? "; " : "",
		         c->conns ? "syscalls of every process" : "connections for process fields",
		         syscall_capture_describe(c->sys));
	LOG(LOG_INFO, "ready: watching %s", what);
}

static int live(struct collector *c)
{
	int rc = env_check_live(), timeout_ms = SF_POLL_MS;

	if (rc)
		return rc;
	bpf_log_setup();
	c->mono_to_real = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
	if (c->cfg->capture & CAPTURE_SOCKET) {
		rc = socket_capture_open(&c->sock, c->cfg, c->ft, &c->wire, &c->mono_to_real,
		                         &c->rb);
		if (rc)
			return rc;
	}
	rc = open_syscalls(c);
	if (rc)
		return rc;
	ready_line(c);
	c->last_stats_ns = clock_ns(CLOCK_REALTIME);
	while (!collector_exiting) {
		int n;

		/* Follows steps of the wall clock (NTP) between polls. */
		c->mono_to_real = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
		/* The programs wake us only past a fill threshold: below it, the timeout does. */
		n = c->rb ? rings_poll(c->rb, timeout_ms) : 0;
		timeout_ms = n > 0 ? SF_BUSY_POLL_MS : SF_POLL_MS;
		if (n < 0 && n != -EINTR) {
			LOG(LOG_ERROR, "reading the ring buffers: %s", strerror(-n));
			return EXIT_RUNTIME;
		}
		if (reopen_requested) {
			reopen_requested = 0;
			pipeline_reopen(c->pipe);
		}
		collector_tick(c, clock_ns(CLOCK_REALTIME));
		pipeline_kick(c->pipe);
	}
	/* Whatever the kernel queued before we stopped. */
	if (c->rb)
		rings_consume(c->rb);
	return 0;
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
	struct flow_cfg fcfg;
	struct dns_cfg dcfg;
	sigset_t handled;
	uint64_t lost;
	int rc = EXIT_USAGE;
	if (cfg->list_probes) {
		probes_list(stdout);
		return EXIT_OK;
	}
	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	log_max_level = cfg->verbose ? LOG_DEBUG : LOG_INFO;
	install_signals(&handled);
	if (gethostname(c.host, sizeof(c.host) - 1) != 0)
		strcpy(c.host, "unknown");
	c.enc = (struct encode_opts){c.host, cfg->http_headers};
	c.pipe = pipeline_new(&c.enc);
	/* Reading a file, the processes on this machine have nothing to do with it. */
	c.procs = cfg->read_file ? NULL : proc_cache_new(4096, "/proc");
	dcfg = dns_config(cfg);
	c.dns = dns_table_new(&dcfg, emit, &c);
	fcfg = flow_config(cfg, c.procs, c.dns);
	c.ft = flow_table_new(&fcfg, emit, &c);
	if (!c.pipe || !c.dns || !c.ft || (!cfg->read_file && !c.procs))
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
		if (c.conns)
			conn_table_flush(c.conns, now);
		dns_table_flush(c.dns);
		if (cfg->stats_interval_ns)
			collector_emit_stats(&c, cfg->read_file ? clock_ns(CLOCK_REALTIME) : now);
		log_summary(&c);
	}
out:
	/* Sinks first: detaching two dozen tracepoints takes a second or two (a grace period
	 * each), and queued events need not wait for it. */
	lost = pipeline_close(c.pipe, cfg->shutdown_timeout_ns);
	rings_free(c.rb);
	syscall_capture_close(c.sys);
	socket_capture_close(c.sock);
	if (lost) {
		LOG(LOG_ERROR, "%llu events were not delivered before the shutdown timeout",
		    (unsigned long long)lost);
		if (!rc)
			rc = EXIT_RUNTIME;
	}
	flow_table_free(c.ft);
	conn_table_free(c.conns);
	dns_table_free(c.dns);
	proc_cache_free(c.procs);
	return rc;
}
