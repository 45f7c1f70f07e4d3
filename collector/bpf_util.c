#include "bpf_util.h"

#include <stdio.h>
#include <stdlib.h>

#include "log.h"

void percpu_sum(const struct bpf_map *map, uint32_t n, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *percpu = ncpu > 0 ? calloc((size_t)ncpu, sizeof(uint64_t)) : NULL;

	for (uint32_t k = 0; k < n; k++) {
		out[k] = 0;
		if (!percpu || bpf_map__lookup_elem(map, &k, sizeof(k), percpu,
		                                    (size_t)ncpu * sizeof(uint64_t), 0))
			continue;
		for (int cpu = 0; cpu < ncpu; cpu++)
			out[k] += percpu[cpu];
	}
	free(percpu);
}

static bool quiet;

void bpf_log_quiet(bool on)
{
	quiet = on;
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if ((level == LIBBPF_DEBUG || quiet) && log_max_level < LOG_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void bpf_log_setup(void)
{
	libbpf_set_print(libbpf_log);
}
