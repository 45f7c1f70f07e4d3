#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_syscall.h"
#include "log.h"
#include "sink.h"
#include "units.h"

/* Each of the two rings. 8 MiB held every record at saturation on a 2-CPU machine (the reader
 * is woken at 1 MiB and polls every 10 ms); 16 MiB, mapped twice each as ring buffers are, put a
 * stalled collector over 128 MiB of RSS (tests/bench/memory.py). */
#define DEFAULT_RINGBUF      (8u << 20)
#define DEFAULT_MAX_FLOWS    65536
#define DEFAULT_MAX_HEADER   65536
#define DEFAULT_HTTP_TIMEOUT 30
#define DEFAULT_DNS_TIMEOUT  5
#define DEFAULT_IDLE_TIMEOUT 120
#define DEFAULT_STATS        60
#define DEFAULT_SHUTDOWN     10

enum {
	OPT_READ = 256,
	OPT_HTTP_HEADERS,
	OPT_HTTP_TIMEOUT,
	OPT_DNS_TIMEOUT,
	OPT_MAX_FLOWS,
	OPT_MAX_HEADER,
	OPT_RINGBUF,
	OPT_STATS,
	OPT_SHUTDOWN,
	OPT_MAX_PAYLOAD,
	OPT_LIST_PROBES,
	OPT_SYSCALL_HOOKS,
	OPT_BENCH_MODE,
};

static const struct option options[] = {
        {"capture", required_argument, NULL, 'c'},
        {"interface", required_argument, NULL, 'i'},
        {"port", required_argument, NULL, 'p'},
        {"snaplen", required_argument, NULL, 's'},
        {"read", required_argument, NULL, OPT_READ},
        {"sink", required_argument, NULL, 'o'},
        {"http-headers", no_argument, NULL, OPT_HTTP_HEADERS},
        {"http-timeout", required_argument, NULL, OPT_HTTP_TIMEOUT},
        {"dns-timeout", required_argument, NULL, OPT_DNS_TIMEOUT},
        {"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
        {"max-header-bytes", required_argument, NULL, OPT_MAX_HEADER},
        {"ringbuf-size", required_argument, NULL, OPT_RINGBUF},
        {"stats-interval", required_argument, NULL, OPT_STATS},
        {"shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN},
        {"max-payload", required_argument, NULL, OPT_MAX_PAYLOAD},
        {"list-probes", no_argument, NULL, OPT_LIST_PROBES},
        {"syscall-hooks", required_argument, NULL, OPT_SYSCALL_HOOKS},
        {"bench-mode", required_argument, NULL, OPT_BENCH_MODE},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
};

static void usage(void)
{
	printf("Usage: l7collect [OPTION]...\n"
	       "Watches this host's network traffic with eBPF and writes one JSON event per HTTP\n"
	       "exchange and per DNS transaction (request and response paired, with latency, and\n"
	       "the local process behind it) to one or more sinks.\n"
	       "\n"
	       "Capture:\n"
	       "  -c, --capture LIST       where to look, comma separated [socket,syscall]:\n"
	       "                           syscall: inside each local process (its reads and\n"
	       "                           writes on TCP sockets, DNS on UDP ones): one HTTP\n"
	       "                           event per local end, with role client or server;\n"
	       "                           one DNS event per transaction, with the asker\n"
	       "                           socket: the packets on the watched interfaces; what\n"
	       "                           no local process's syscalls saw (other namespaces,\n"
	       "                           forwarded traffic) is reported from there, once\n"
	       "  -i, --interface IF       watch IF; repeat for several [every interface that is\n"
	       "                           up, lo included]\n"
	       "  -p, --port PORT          on the wire, follow only this port; repeat for "
	       "several.\n"
	       "                           Its TCP traffic is parsed as HTTP (unless it starts\n"
	       "                           as DNS), so garbage on it is counted. Without --port,\n"
	       "                           HTTP is found by its first bytes (a request method\n"
	       "                           or \"HTTP/1.\"), DNS on port 53 or by its header on\n"
	       "                           any port, over UDP and TCP\n"
	       "  -s, --snaplen BYTES      bytes kept of each packet [%u, the largest]; bytes cut\n"
	       "                           are counted and marked capture.truncated\n"
	       "      --max-payload BYTES  bytes copied per syscall, iovecs included [4096, at\n"
	       "                           most 32768]; what is cut is counted, sizes stay true\n"
	       "      --list-probes        list the kernel hooks and whether this kernel has them\n"
	       "      --syscall-hooks HOW  auto, sock, sys_exit or tracepoints [auto: the first\n"
	       "                           that loads here: sock (6.3+, x86-64; socket I/O alone\n"
	       "                           pays; beside the wire view only, which covers what it\n"
	       "                           cannot see), sys_exit (5.11+, x86-64), then a\n"
	       "                           tracepoint pair per syscall; --list-probes tells]\n"
	       "      --read FILE          read a pcap or pcapng file instead of capturing, and\n"
	       "                           exit at its end (no root needed; '-' is stdin)\n"
	       "\n"
	       "Output:\n"
	       "  -o, --sink SPEC          where events go; repeat for several [stdout]\n",
	       SF_FRAME_MAX);
	sink_print_usage();
	printf("                           Every sink takes options after '?', joined by '&':\n"
	       "                             queue=EVENTS (65536), queue_bytes=SIZE (64M),\n"
	       "                             when_full=drop|block (drop: the event is dropped for\n"
	       "                             that sink and counted; block: capture waits)\n"
	       "      --http-headers       include header fields (values of Authorization, "
	       "Cookie,\n"
	       "                           Set-Cookie and Proxy-Authorization are redacted)\n"
	       "      --stats-interval SEC seconds between stats events (counters of everything\n"
	       "                           seen, dropped or lost); 0 for none [%u]\n"
	       "\n"
	       "Limits:\n"
	       "      --http-timeout SEC   report a request unanswered this long with\n"
	       "                           l7.status \"no_response\" [%u]\n"
	       "      --dns-timeout SEC    the same for a DNS query [%u]\n"
	       "      --max-flows N        connections followed at once; the least recently\n"
	       "                           active is given up first [%u]\n"
	       "      --max-header-bytes N header block kept per HTTP message; longer ones are\n"
	       "                           reported truncated, with their true size [%u]\n"
	       "      --ringbuf-size SIZE  each kernel ring buffer (socket filter, syscall "
	       "probes),\n"
	       "                           a power of two; raise it if kernel.ring_full or\n"
	       "                           syscalls.ring_full count losses [8M]\n"
	       "      --shutdown-timeout SEC  time sinks get to deliver at exit [%u]\n"
	       "\n"
	       "      --bench-mode MODE    for measuring the collector (tests/bench), not for "
	       "use:\n"
	       "                           attach-only: the kernel programs return at once;\n"
	       "                           discard: records are read and dropped unparsed\n"
	       "  -v, --verbose            more detail on stderr; twice adds libbpf's own log\n"
	       "  -h, --help               this text\n"
	       "  -V, --version            version\n"
	       "\n"
	       "Examples:\n"
	       "  sudo l7collect                          every HTTP exchange and DNS "
	       "transaction,\n"
	       "                                          NDJSON on stdout\n"
	       "  sudo l7collect -o stdout:text -p 8080   one line per exchange on port 8080\n"
	       "  sudo l7collect -i eth0 > events.ndjson  only what crosses eth0\n"
	       "  l7collect --read web.pcap -o stdout:text  replay a capture\n"
	       "\n"
	       "Once capture has begun, a line starting \"l7collect: ready\" goes to stderr.\n"
	       "SIGINT or SIGTERM: deliver what is queued, write a last stats event, exit 0.\n"
	       "Exit status: 0 ok, 1 failure while running, 2 bad usage or an environment that\n"
	       "cannot work (not root, no BTF, BPF refused, unknown interface).\n",
	       DEFAULT_STATS, DEFAULT_HTTP_TIMEOUT, DEFAULT_DNS_TIMEOUT, DEFAULT_MAX_FLOWS,
	       DEFAULT_MAX_HEADER, DEFAULT_SHUTDOWN);
}

static int bad(const char *opt, const char *value, const char *expect)
{
	LOG(LOG_ERROR, "%s '%s': %s (see --help)", opt, value, expect);
	return EXIT_USAGE;
}

static int parse_capture(const char *list, unsigned *out)
{
	char buf[64], *tok, *save;

	if (strlen(list) >= sizeof(buf))
		return -1;
	strcpy(buf, list);
	*out = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "socket") == 0)
			*out |= CAPTURE_SOCKET;
		else if (strcmp(tok, "syscall") == 0)
			*out |= CAPTURE_SYSCALL;
		else
			return -1;
	}
	return *out ? 0 : -1;
}

static int add(const char **list, size_t *n, const char *v, const char *opt)
{
	if (*n == CLI_MAX_LIST)
		return bad(opt, v, "too many");
	list[(*n)++] = v;
	return -1;
}

/* One option; -1 to go on, or an exit status. */
static int option(int c, const char *arg, struct config *cfg)
{
	uint64_t v;

	switch (c) {
	case 'c':
		if (parse_capture(arg, &cfg->capture))
			return bad("--capture", arg, "a list of socket and syscall");
		return -1;
	case 'i':
		return add(cfg->interfaces, &cfg->n_interfaces, arg, "--interface");
	case 'o':
		return add(cfg->sinks, &cfg->n_sinks, arg, "--sink");
	case 'p':
		if (parse_uint(arg, 1, 65535, &v))
			return bad("--port", arg, "a TCP port, 1 to 65535");
		if (cfg->n_ports == SF_PORTS_MAX)
			return bad("--port", arg, "too many ports");
		cfg->ports[cfg->n_ports++] = (uint16_t)v;
		return -1;
	case 's':
		if (parse_size(arg, &v) || v < 128 || v > SF_FRAME_MAX)
			return bad("--snaplen", arg, "bytes, 128 to 65600");
		cfg->snaplen = (uint32_t)v;
		return -1;
	case OPT_MAX_PAYLOAD:
		if (parse_size(arg, &v) || v < 1 || v > SC_PAYLOAD_MAX)
			return bad("--max-payload", arg, "bytes, 1 to 32768");
		cfg->max_payload = (uint32_t)v;
		return -1;
	case OPT_BENCH_MODE:
		if (strcmp(arg, "attach-only") == 0)
			cfg->bench_mode = BENCH_ATTACH_ONLY;
		else if (strcmp(arg, "discard") == 0)
			cfg->bench_mode = BENCH_DISCARD;
		else
			return bad("--bench-mode", arg, "attach-only or discard");
		return -1;
	case OPT_SYSCALL_HOOKS:
		for (int h = SYSCALL_HOOKS_AUTO; h <= SYSCALL_HOOKS_SOCK; h++)
			if (strcmp(arg, syscall_hooks_name((enum syscall_hooks)h)) == 0) {
				cfg->syscall_hooks = (uint8_t)h;
				return -1;
			}
		return bad("--syscall-hooks", arg, "auto, sock, sys_exit or tracepoints");
	case OPT_LIST_PROBES:
		cfg->list_probes = true;
		return -1;
	case OPT_READ:
		cfg->read_file = arg;
		return -1;
	case OPT_HTTP_HEADERS:
		cfg->http_headers = true;
		return -1;
	case OPT_HTTP_TIMEOUT:
		if (parse_seconds(arg, 86400, &cfg->http_timeout_ns) || !cfg->http_timeout_ns)
			return bad("--http-timeout", arg, "seconds, more than 0");
		return -1;
	case OPT_DNS_TIMEOUT:
		if (parse_seconds(arg, 3600, &cfg->dns_timeout_ns) || !cfg->dns_timeout_ns)
			return bad("--dns-timeout", arg, "seconds, more than 0");
		return -1;
	case OPT_MAX_FLOWS:
		if (parse_uint(arg, 16, 1u << 24, &v))
			return bad("--max-flows", arg, "a number, 16 to 16777216");
		cfg->max_flows = (uint32_t)v;
		return -1;
	case OPT_MAX_HEADER:
		/* http_stream.c stops scanning a header block at 1 MiB: no longer limit here. */
		if (parse_size(arg, &v) || v < 256 || v > (1u << 20))
			return bad("--max-header-bytes", arg, "bytes, 256 to 1M");
		cfg->max_header_bytes = (uint32_t)v;
		return -1;
	case OPT_RINGBUF:
		if (parse_size(arg, &v) || v < 65536 || v > (1u << 30) || (v & (v - 1)))
			return bad("--ringbuf-size", arg, "a power of two, 64K to 1G");
		cfg->ringbuf_bytes = (uint32_t)v;
		return -1;
	case OPT_STATS:
		if (parse_seconds(arg, 86400, &cfg->stats_interval_ns))
			return bad("--stats-interval", arg, "seconds");
		return -1;
	case OPT_SHUTDOWN:
		if (parse_seconds(arg, 3600, &cfg->shutdown_timeout_ns))
			return bad("--shutdown-timeout", arg, "seconds");
		return -1;
	case 'v':
		cfg->verbose++;
		return -1;
	case 'h':
		usage();
		return EXIT_OK;
	case 'V':
		printf("l7collect %s\n", L7_VERSION);
		return EXIT_OK;
	default:
		fprintf(stderr, "Try 'l7collect --help' for the options.\n");
		return EXIT_USAGE;
	}
}

int cli_parse(int argc, char **argv, struct config *cfg)
{
	int c;

	memset(cfg, 0, sizeof(*cfg));
	cfg->capture = CAPTURE_SOCKET | CAPTURE_SYSCALL;
	cfg->max_payload = 4096;
	cfg->snaplen = SF_FRAME_MAX;
	cfg->ringbuf_bytes = DEFAULT_RINGBUF;
	cfg->max_flows = DEFAULT_MAX_FLOWS;
	cfg->max_header_bytes = DEFAULT_MAX_HEADER;
	cfg->http_timeout_ns = DEFAULT_HTTP_TIMEOUT * 1000000000ull;
	cfg->dns_timeout_ns = DEFAULT_DNS_TIMEOUT * 1000000000ull;
	cfg->idle_timeout_ns = DEFAULT_IDLE_TIMEOUT * 1000000000ull;
	cfg->stats_interval_ns = DEFAULT_STATS * 1000000000ull;
	cfg->shutdown_timeout_ns = DEFAULT_SHUTDOWN * 1000000000ull;

	while ((c = getopt_long(argc, argv, "c:i:p:s:o:vhV", options, NULL)) != -1) {
		int rc = option(c, optarg, cfg);

		if (rc >= 0)
			return rc;
	}
	if (optind < argc) {
		LOG(LOG_ERROR, "unexpected argument '%s' (see --help)", argv[optind]);
		return EXIT_USAGE;
	}
	if (cfg->read_file && cfg->n_interfaces) {
		LOG(LOG_ERROR, "--read and --interface exclude each other: a file has its own");
		return EXIT_USAGE;
	}
	if (!cfg->n_sinks)
		cfg->sinks[cfg->n_sinks++] = "stdout";
	return -1;
}
