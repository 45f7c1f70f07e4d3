#include "capture_syscall.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf_util.h"
#include "environment.h"
#include "log.h"
#include "rings.h"
#include "syscalls.skel.h"

struct syscall_capture {
	struct syscalls_bpf *skel;
	enum syscall_hooks hooks; /* the ones loaded */
	bool discard;             /* --bench-mode discard */
	struct conn_table *ct;
	const uint64_t *mono_to_real;
	char describe[64];
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct syscall_capture *c = ctx;
	const struct sc_record *r = data;

	if (c->discard)
		return 0;
	conn_table_record(c->ct, data, size, size >= sizeof(*r) ? r->ts_ns + *c->mono_to_real : 0);
	return 0;
}

static bool named(const struct bpf_program *p, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(bpf_program__name(p), names[i]) == 0)
			return true;
	return false;
}

#define NAMED(p, names) named(p, names, sizeof(names) / sizeof(names[0]))

/* The tracepoints that make and end connections; the others move data. */
static bool connection_prog(const struct bpf_program *p)
{
	static const char *const names[] = {"exit_accept", "exit_accept4", "enter_connect",
	                                    "exit_connect", "enter_close"};

	return NAMED(p, names);
}

/* The programs of one hook; tracepoints are all the others. */
static bool sys_exit_prog(const struct bpf_program *p)
{
	return strcmp(bpf_program__name(p), "sys_exit_all") == 0;
}

static bool sock_prog(const struct bpf_program *p)
{
	static const char *const names[] = {"sock_send", "sock_recv", "sock_state", "sock_destroy"};

	return NAMED(p, names);
}

static bool always_prog(const struct bpf_program *p)
{
	return strcmp(bpf_program__name(p), "process_exit") == 0;
}

static bool tracepoint_prog(const struct bpf_program *p)
{
	return !sys_exit_prog(p) && !sock_prog(p);
}

static bool hooks_have(enum syscall_hooks hooks, const struct bpf_program *p, bool follow_data)
{
	if (always_prog(p))
		return true;
	switch (hooks) {
	case SYSCALL_HOOKS_SYS_EXIT: /* it also makes and ends connections */
		return sys_exit_prog(p);
	case SYSCALL_HOOKS_SOCK:
		return follow_data ? sock_prog(p) : connection_prog(p);
	default:
		return tracepoint_prog(p) && (follow_data || connection_prog(p));
	}
}

void syscall_hooks_select(struct syscalls_bpf *skel, enum syscall_hooks hooks, bool follow_data)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, skel->obj)
	{
		bpf_program__set_autoload(p, hooks_have(hooks, p, follow_data));
	}
}

static int open_configured(struct syscall_capture *c, const struct config *cfg, bool follow_data,
                           int conns_fd)
{
	int ncpu = libbpf_num_possible_cpus();

	c->skel = syscalls_bpf__open();
	if (!c->skel || ncpu <= 0) {
		env_explain_bpf_failure("opening the syscall probes", -errno);
		return EXIT_RUNTIME;
	}
	c->skel->rodata->max_payload = cfg->max_payload;
	c->skel->rodata->self_tgid = (uint32_t)getpid();
	c->skel->rodata->wakeup_bytes = ring_wakeup_bytes(cfg->ringbuf_bytes);
	c->skel->rodata->follow_data = follow_data;
	c->skel->rodata->attach_only = cfg->bench_mode == BENCH_ATTACH_ONLY;
	c->discard = cfg->bench_mode == BENCH_DISCARD;
	bpf_map__set_max_entries(c->skel->maps.events, follow_data ? cfg->ringbuf_bytes : 4096);
	bpf_map__set_max_entries(c->skel->maps.scratch, (uint32_t)ncpu);
	if (conns_fd >= 0 && bpf_map__reuse_fd(c->skel->maps.local_conns, conns_fd)) {
		LOG(LOG_ERROR, "sharing local_conns with the socket filter: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	return 0;
}

const char *syscall_hooks_name(enum syscall_hooks hooks)
{
	switch (hooks) {
	case SYSCALL_HOOKS_SOCK:
		return "sock";
	case SYSCALL_HOOKS_SYS_EXIT:
		return "sys_exit";
	case SYSCALL_HOOKS_TRACEPOINTS:
		return "tracepoints";
	default:
		return "auto";
	}
}

/* Whether this build has the hooks' programs at all (the tp_btf ones are x86-64 only). */
static bool hooks_built(struct syscalls_bpf *skel, enum syscall_hooks hooks)
{
	const char *prog = hooks == SYSCALL_HOOKS_SOCK       ? "sock_send"
	                   : hooks == SYSCALL_HOOKS_SYS_EXIT ? "sys_exit_all"
	                                                     : NULL;

	return !prog || bpf_object__find_program_by_name(skel->obj, prog);
}

/* Cheapest first (tests/bench/early_exit.py, exchange_cost.py and overhead.py): the sock hooks
 * attach no syscall tracepoint, so no syscall leaves the kernel's fast path; sys_exit runs a
 * program at every syscall; the tracepoint pairs stash at entry. The sock hooks leave some
 * datagrams and every connection's first packets to the wire view (syscalls.bpf.c), so they
 * are taken only when it runs too. With --capture socket only connections are followed, and
 * their few tracepoints cost least. */
static int load(struct syscall_capture *c, const struct config *cfg, bool follow_data, int conns_fd)
{
	static const enum syscall_hooks cheapest_first[] = {
	        SYSCALL_HOOKS_SOCK, SYSCALL_HOOKS_SYS_EXIT, SYSCALL_HOOKS_TRACEPOINTS};
	enum syscall_hooks one = cfg->syscall_hooks;
	const enum syscall_hooks *tries = &one;
	size_t n = 1;
	int err = -EOPNOTSUPP;

	if (one == SYSCALL_HOOKS_AUTO && follow_data) {
		bool wire = cfg->capture & CAPTURE_SOCKET;

		tries = cheapest_first + !wire;
		n = sizeof(cheapest_first) / sizeof(cheapest_first[0]) - !wire;
	} else if (one == SYSCALL_HOOKS_AUTO) {
		one = SYSCALL_HOOKS_TRACEPOINTS;
	}
	for (size_t i = 0; i < n; i++) {
		syscalls_bpf__destroy(c->skel);
		c->skel = NULL;
		err = open_configured(c, cfg, follow_data, conns_fd);
		if (err)
			return err;
		if (!hooks_built(c->skel, tries[i])) {
			err = -EOPNOTSUPP;
			LOG(LOG_DEBUG, "the %s hooks are not built for this architecture",
			    syscall_hooks_name(tries[i]));
			continue;
		}
		syscall_hooks_select(c->skel, tries[i], follow_data);
		bpf_log_quiet(i + 1 < n);
		err = syscalls_bpf__load(c->skel);
		bpf_log_quiet(false);
		if (!err) {
			c->hooks = tries[i];
			return 0;
		}
		LOG(LOG_DEBUG, "the %s hooks did not load (%s)", syscall_hooks_name(tries[i]),
		    strerror(-err));
	}
	env_explain_bpf_failure("loading the syscall probes", err);
	return err == -EPERM || err == -EACCES ? EXIT_USAGE : EXIT_RUNTIME;
}

int syscall_capture_open(struct syscall_capture **out, const struct config *cfg, bool follow_data,
                         int conns_fd, struct conn_table *ct, const uint64_t *mono_to_real,
                         struct rings **rb)
{
	struct syscall_capture *c = calloc(1, sizeof(*c));
	struct bpf_program *p;
	int rc, n = 0;

	if (!c)
		return EXIT_RUNTIME;
	*out = c;
	c->ct = ct;
	c->mono_to_real = mono_to_real;
	rc = load(c, cfg, follow_data, conns_fd);
	if (rc)
		return rc;
	rc = syscalls_bpf__attach(c->skel);
	if (rc) {
		env_explain_bpf_failure("attaching the syscall tracepoints", rc);
		return EXIT_RUNTIME;
	}
	bpf_object__for_each_program(p, c->skel->obj) n += bpf_program__autoload(p);
	if (c->hooks == SYSCALL_HOOKS_SYS_EXIT)
		snprintf(c->describe, sizeof(c->describe), "the tp_btf sys_exit hook");
	else if (c->hooks == SYSCALL_HOOKS_SOCK && follow_data)
		snprintf(c->describe, sizeof(c->describe), "the tp_btf sock hooks");
	else
		snprintf(c->describe, sizeof(c->describe), "%d tracepoints", n);
	if (follow_data) {
		rc = rings_add(rb, c->skel->maps.events, on_record, c);
		if (rc) {
			LOG(LOG_ERROR, "opening the syscall probes' ring buffer: %s",
			    strerror(-rc));
			return EXIT_RUNTIME;
		}
	}
	return 0;
}

/* Read, change, write back: if the fd was reused in between, the new connection's entry takes
 * the old one's socket and id, and the kernel sees a socket change at its next syscall and
 * records it afresh. Rare, and it heals. */
void syscall_capture_skip(struct syscall_capture *c, uint32_t tgid, uint32_t fd, uint64_t conn_id)
{
	struct fd_key k = {tgid, fd};
	struct fd_conn v;

	if (bpf_map__lookup_elem(c->skel->maps.fd_conns, &k, sizeof(k), &v, sizeof(v), 0) != 0 ||
	    v.id != conn_id)
		return;
	v.skip = 1;
	bpf_map__update_elem(c->skel->maps.fd_conns, &k, sizeof(k), &v, sizeof(v), BPF_EXIST);
}

void syscall_capture_forget(struct syscall_capture *c, const struct conn_key *key)
{
	bpf_map__delete_elem(c->skel->maps.local_conns, key, sizeof(*key), 0);
}

const char *syscall_capture_describe(const struct syscall_capture *c)
{
	return c->describe;
}

static const char *const counter_names[] = {
        [SC_CTR_EVENTS] = "events",
        [SC_CTR_EVENT_BYTES] = "event_bytes",
        [SC_CTR_RING_FULL] = "ring_full",
        [SC_CTR_TRUNCATED] = "truncated",
        [SC_CTR_STASH_FULL] = "stash_full",
        [SC_CTR_CONN_FULL] = "conn_full",
        [SC_CTR_READ_FAULT] = "read_fault",
        [SC_CTR_PEEK] = "peek_skipped",
        [SC_CTR_NO_SCRATCH] = "no_scratch",
        [SC_CTR_UDP_NOT_DNS] = "udp_not_dns",
        [SC_CTR_MMSG_CUT] = "mmsg_cut",
        [SC_CTR_SKIPPED] = "skipped",
        [SC_CTR_LEFT_TO_WIRE] = "left_to_wire",
};

_Static_assert(sizeof(counter_names) / sizeof(counter_names[0]) == SC_CTR_MAX,
               "every syscall probe counter needs a name");

void syscall_capture_stats_add(struct syscall_capture *c, struct stats_builder *b)
{
	uint64_t sums[SC_CTR_MAX];

	percpu_sum(c->skel->maps.counters, SC_CTR_MAX, sums);
	for (int i = 0; i < SC_CTR_MAX; i++)
		stats_add(b, "syscalls", counter_names[i], sums[i]);
}

void syscall_capture_close(struct syscall_capture *c)
{
	if (!c)
		return;
	syscalls_bpf__destroy(c->skel);
	free(c);
}

/* Whether the hooks load here: only trying tells (tp_btf targets, and the helpers they call). */
static const char *hooks_verdict(enum syscall_hooks hooks)
{
	struct syscalls_bpf *skel;
	int err = -EOPNOTSUPP;

	if (geteuid() != 0)
		return "run as root to test whether they load";
	skel = syscalls_bpf__open();
	if (!skel)
		return "cannot open the BPF object";
	bpf_map__set_max_entries(skel->maps.scratch, (uint32_t)libbpf_num_possible_cpus());
	if (hooks_built(skel, hooks)) {
		syscall_hooks_select(skel, hooks, true);
		bpf_log_quiet(true); /* the verdict says it */
		err = syscalls_bpf__load(skel);
		bpf_log_quiet(false);
	}
	syscalls_bpf__destroy(skel);
	return err ? "do not load here" : "load here";
}

void probes_list(FILE *out)
{
	static const struct {
		enum syscall_hooks hooks;
		const char *what;
	} sets[] = {
	        {SYSCALL_HOOKS_SOCK, "tp_btf sock_send_length, sock_recv_length, "
	                             "inet_sock_set_state and tcp_destroy_sock (6.3+, x86-64)"},
	        {SYSCALL_HOOKS_SYS_EXIT, "tp_btf sys_exit: one program at every syscall's exit "
	                                 "(5.11+, x86-64)"},
	        {SYSCALL_HOOKS_TRACEPOINTS, "a tracepoint pair per followed syscall"},
	};
	struct syscalls_bpf *skel = syscalls_bpf__open();
	const char *tracefs = env_tracefs();
	struct bpf_program *p;

	fprintf(out, "socket filter   AF_PACKET socket per interface   always available\n");
	if (!skel) {
		fprintf(out, "syscall probes: cannot open the BPF object: %s\n", strerror(errno));
		return;
	}
	fprintf(out, "syscall hooks (--syscall-hooks), cheapest first:\n");
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		fprintf(out, "  %-12s %s: %s\n", syscall_hooks_name(sets[i].hooks), sets[i].what,
		        hooks_verdict(sets[i].hooks));
	fprintf(out, "syscall probes  tracefs: %s\n", tracefs ? tracefs : "not mounted");
	bpf_object__for_each_program(p, skel->obj)
	{
		const char *sec = bpf_program__section_name(p);
		const char *event = strchr(sec, '/') ? strchr(sec, '/') + 1 : sec;
		char path[256];
		bool there;

		if (!tracepoint_prog(p)) {
			fprintf(out, "  %-16s tp_btf     %s\n", bpf_program__name(p), event);
			continue;
		}
		snprintf(path, sizeof(path), "%s/events/%s", tracefs ? tracefs : "", event);
		there = tracefs && access(path, F_OK) == 0;
		fprintf(out, "  %-16s tracepoint %-36s %s%s\n", bpf_program__name(p), event,
		        there ? "available" : "missing",
		        connection_prog(p) || always_prog(p) ? " (also with --capture socket)"
		                                             : "");
	}
	fprintf(out,
	        "--syscall-hooks auto (the default) follows data through the first of sock, "
	        "sys_exit\n"
	        "and tracepoints that loads. sock leaves some datagrams, and each connection's "
	        "first\n"
	        "packets, to the wire view: it is skipped with --capture syscall alone. With\n"
	        "--capture socket the connection tracepoints are used alone. kprobe and fentry\n"
	        "variants are not implemented.\n");
	syscalls_bpf__destroy(skel);
}
