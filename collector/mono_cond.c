#include "mono_cond.h"

#include <time.h>

void mono_cond_init(pthread_cond_t *c)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
}

void mono_cond_wait_until(pthread_cond_t *c, pthread_mutex_t *mu, uint64_t deadline)
{
	struct timespec ts = {(time_t)(deadline / 1000000000ull), (long)(deadline % 1000000000ull)};

	pthread_cond_timedwait(c, mu, &ts);
}
