#include "rings.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#define RINGS_MAX           2 /* the socket filter's and the syscall probes' */
#define RINGS_PUBLISH_BYTES (64u << 10)

/* One ring mapped as the kernel lays it out (kernel/bpf/ringbuf.c): a page holding the consumer
 * position, which the reader writes; then, read-only, a page holding the producer position and
 * the data pages mapped twice in a row, so a record that wraps past the end is contiguous. */
struct ring {
	ring_buffer_sample_fn fn;
	void *ctx;
	uint64_t mask;    /* data size - 1 */
	uint64_t publish; /* read this much more than published: publish */
	unsigned long *consumer_pos;
	unsigned long *producer_pos; /* this mapping and data are read-only */
	uint8_t *data;
	size_t page, producer_len;
};

struct rings {
	int epfd;
	int n;
	struct ring ring[RINGS_MAX];
};

static void ring_unmap(struct ring *g)
{
	if (g->consumer_pos)
		munmap(g->consumer_pos, g->page);
	if (g->producer_pos)
		munmap(g->producer_pos, g->producer_len);
}

static int ring_map(struct ring *g, int fd, uint32_t size)
{
	void *p;

	g->page = (size_t)sysconf(_SC_PAGESIZE);
	g->mask = size - 1;
	g->publish = size / 8 < RINGS_PUBLISH_BYTES ? size / 8 : RINGS_PUBLISH_BYTES;
	p = mmap(NULL, g->page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	g->consumer_pos = p;
	g->producer_len = g->page + 2 * (size_t)size;
	p = mmap(NULL, g->producer_len, PROT_READ, MAP_SHARED, fd, (off_t)g->page);
	if (p == MAP_FAILED)
		return -errno;
	g->producer_pos = p;
	g->data = (uint8_t *)p + g->page;
	return 0;
}

int rings_add(struct rings **r, const struct bpf_map *map, ring_buffer_sample_fn fn, void *ctx)
{
	struct rings *s = *r;
	struct ring *g;
	struct epoll_event ev = {.events = EPOLLIN};
	int fd = bpf_map__fd(map), rc;

	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		s->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (s->epfd < 0) {
			rc = -errno;
			free(s);
			return rc;
		}
		*r = s;
	}
	if (s->n == RINGS_MAX)
		return -ENOSPC;
	g = &s->ring[s->n];
	*g = (struct ring){.fn = fn, .ctx = ctx};
	rc = ring_map(g, fd, bpf_map__max_entries(map));
	if (!rc && epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev))
		rc = -errno;
	if (rc) {
		ring_unmap(g);
		return rc;
	}
	s->n++;
	return 0;
}

/* A record's header: its length, with the busy and discard bits on top, then a page offset only
 * the kernel uses. Records start at multiples of 8. */
static uint64_t record_span(uint32_t len)
{
	len &= ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
	return ((uint64_t)len + BPF_RINGBUF_HDR_SZ + 7) & ~7ull;
}

/* Reads until the ring is empty or a record is still being written, at most one ring's worth so
 * the run loop gets its turn under a flood. Release on the published position: the kernel may
 * reuse the space once it sees it, so every read of it must be done. */
static int ring_drain(struct ring *g)
{
	uint64_t cons = *g->consumer_pos, start = cons, published = cons;
	int count = 0, rc = 0;
	uint64_t prod = __atomic_load_n(g->producer_pos, __ATOMIC_ACQUIRE);

	while (cons - start <= g->mask) {
		uint32_t *hdr;
		uint32_t len;

		/* The producers write their position on every record: read it again only when
		 * caught up with the last reading. */
		if (cons == prod) {
			prod = __atomic_load_n(g->producer_pos, __ATOMIC_ACQUIRE);
			if (cons == prod)
				break;
		}
		hdr = (uint32_t *)(g->data + (cons & g->mask));
		len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		if (len & BPF_RINGBUF_BUSY_BIT)
			break;
		cons += record_span(len);
		if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
			count++;
			rc = g->fn(g->ctx, (uint8_t *)hdr + BPF_RINGBUF_HDR_SZ, len);
			if (rc < 0)
				break;
		}
		if (cons - published >= g->publish) {
			__atomic_store_n(g->consumer_pos, cons, __ATOMIC_RELEASE);
			published = cons;
		}
	}
	if (cons != published)
		__atomic_store_n(g->consumer_pos, cons, __ATOMIC_RELEASE);
	return rc < 0 ? rc : count;
}

int rings_consume(struct rings *r)
{
	int total = 0;

	for (int i = 0; i < r->n; i++) {
		int n = ring_drain(&r->ring[i]);

		if (n < 0)
			return n;
		total += n;
	}
	return total;
}

int rings_poll(struct rings *r, int timeout_ms)
{
	struct epoll_event ev[RINGS_MAX];

	/* Which ring woke us does not matter: below the wake-up threshold the others hold records
	 * too, and all are read. */
	if (epoll_wait(r->epfd, ev, RINGS_MAX, timeout_ms) < 0)
		return -errno;
	return rings_consume(r);
}

void rings_free(struct rings *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->n; i++)
		ring_unmap(&r->ring[i]);
	close(r->epfd);
	free(r);
}
