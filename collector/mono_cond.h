/* Condition variables timed on CLOCK_MONOTONIC, so that a step of the wall clock (NTP, an
 * operator) neither cuts a wait short nor stretches it: the pipeline's and the sinks' threads
 * wait on these. */
#ifndef L7_MONO_COND_H
#define L7_MONO_COND_H

#include <pthread.h>
#include <stdint.h>

void mono_cond_init(pthread_cond_t *c);

/* Waits on c (mu held) until signalled or CLOCK_MONOTONIC reaches deadline (nanoseconds). */
void mono_cond_wait_until(pthread_cond_t *c, pthread_mutex_t *mu, uint64_t deadline);

#endif
