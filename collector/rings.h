/* The reader of the BPF ring buffers: every ring the captures write, behind one epoll.
 *
 * It replaces libbpf's ring_buffer, which tells the kernel how far it has read after every
 * record. The producers read that position on every record they write (bpf_ringbuf_query for
 * the wake-up decision, then the reservation), so each of those stores cost the writing CPU a
 * cache miss on a line the reader had just taken: about a tenth of a microsecond per record, 2.4%
 * of a saturated nginx's machine in bpf_ringbuf_query alone (tests/bench/overhead.py --perf).
 * This reader publishes its position once per RINGS_PUBLISH_BYTES read and at the end of every
 * drain. */
#ifndef L7_RINGS_H
#define L7_RINGS_H

#include <bpf/libbpf.h>
#include <stdint.h>

struct rings;

/* Adds a BPF_MAP_TYPE_RINGBUF map, loaded, creating *r on first use; fn gets each record, as
 * with libbpf (a negative return stops the drain and is returned). 0 or a negative errno. */
int rings_add(struct rings **r, const struct bpf_map *map, ring_buffer_sample_fn fn, void *ctx);

/* Waits up to timeout_ms for a ring to wake us, then drains every ring: the number of records
 * read, or a negative errno (-EINTR on a signal). */
int rings_poll(struct rings *r, int timeout_ms);

/* Drains every ring without waiting: the number of records read, or a negative errno. */
int rings_consume(struct rings *r);

void rings_free(struct rings *r);

#endif
