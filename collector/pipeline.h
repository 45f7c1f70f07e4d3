/* From normalized events to sinks: each event is encoded once per format some sink wants, then
 * offered to every sink's bounded queue (events and bytes). Each sink has its own thread, so a
 * slow or dead sink never slows capture or another sink. A full queue drops the event for that
 * sink and counts it (when_full=drop, the default), or makes the capture thread wait
 * (when_full=block). */
#ifndef L7_PIPELINE_H
#define L7_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "encode.h"
#include "event.h"
#include "stats.h"

struct pipeline;

struct pipeline *pipeline_new(const struct encode_opts *enc);

/* Parses NAME[:ARG][?key=value&...] and sets the sink up (not started). Options every sink
 * takes: queue=EVENTS, queue_bytes=SIZE, when_full=drop|block. block_default applies when the
 * spec does not say (offline replays block: nothing is lost by waiting). Returns 0 or -EINVAL
 * after logging what is wrong. */
int pipeline_add_sink(struct pipeline *p, const char *spec, bool block_default);

/* Starts the sink threads. 0 or a negative errno. */
int pipeline_start(struct pipeline *p);

/* Encodes the event and queues it for every sink. Called from one thread (the capture thread). */
void pipeline_submit(struct pipeline *p, const struct l7_event *ev);

/* Queues what the capture thread staged, and wakes the sink threads for it if they were not
 * woken so in the last 10 ms: the capture thread calls it once per round, so sinks get batches
 * instead of one wake-up per event or per round. */
void pipeline_kick(struct pipeline *p);

/* Asks every sink to reopen its output (SIGHUP). */
void pipeline_reopen(struct pipeline *p);

/* The pipeline's and every sink's counters. From the capture thread, like pipeline_submit. */
void pipeline_stats_add(struct pipeline *p, struct stats_builder *b);

/* Lets every sink deliver what it has queued, waiting at most timeout_ns, then frees the
 * pipeline. Returns the number of events that could not be delivered in time. */
uint64_t pipeline_close(struct pipeline *p, uint64_t timeout_ns);

#endif
