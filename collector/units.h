/* Numbers from the command line and sink specs, and the clocks. */
#ifndef L7_UNITS_H
#define L7_UNITS_H

#include <stdint.h>
#include <time.h>

/* "65536", "64K", "16M", "1G" (powers of 1024). 0 or -EINVAL. */
int parse_size(const char *s, uint64_t *out);

/* A decimal integer in [min, max]. 0 or -EINVAL (also for trailing junk). */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Seconds, fractions allowed ("0.5", "30"), as nanoseconds in [0, max_s]. 0 or -EINVAL. */
int parse_seconds(const char *s, double max_s, uint64_t *out_ns);

static inline uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
