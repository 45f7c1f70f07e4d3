#include "lru_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int lru_init(struct lru_table *t, uint32_t expected, ptrdiff_t key_off, size_t key_len)
{
	uint32_t n = 1024;

	memset(t, 0, sizeof(*t));
	while (n < expected && n < (1u << 30))
		n <<= 1;
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (!t->buckets)
		return -ENOMEM;
	t->mask = n - 1;
	t->key_off = key_off;
	t->key_len = key_len;
	return 0;
}

void lru_destroy(struct lru_table *t)
{
	free(t->buckets);
	t->buckets = NULL;
}

static const void *key_of(const struct lru_table *t, const struct lru_node *n)
{
	return (const char *)n + t->key_off;
}

/* Eight bytes at a time, each word multiplied in (the 64-bit golden ratio) and folded: keys are
 * 8 to 40 bytes and hashed on every packet, where FNV-1a's byte-serial chain of multiplies was
 * most of a lookup (tests/bench/offline.py under perf). */
static uint32_t hash(const struct lru_table *t, const void *key)
{
	const uint8_t *p = key;
	uint64_t h = t->key_len, w;
	size_t i = 0;

	for (; i + sizeof(w) <= t->key_len; i += sizeof(w)) {
		memcpy(&w, p + i, sizeof(w));
		h = (h ^ w) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	if (i < t->key_len) {
		w = 0;
		memcpy(&w, p + i, t->key_len - i);
		h = (h ^ w) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	return (uint32_t)(h ^ h >> 32);
}

static struct lru_node **slot(const struct lru_table *t, const void *key)
{
	struct lru_node **pp = &t->buckets[hash(t, key) & t->mask];

	while (*pp && memcmp(key_of(t, *pp), key, t->key_len) != 0)
		pp = &(*pp)->hnext;
	return pp;
}

struct lru_node *lru_find(const struct lru_table *t, const void *key)
{
	return *slot(t, key);
}

static void unlink_lru(struct lru_table *t, struct lru_node *n)
{
	if (n->older)
		n->older->newer = n->newer;
	else
		t->oldest = n->newer;
	if (n->newer)
		n->newer->older = n->older;
	else
		t->newest = n->older;
	n->older = n->newer = NULL;
}

static void append_lru(struct lru_table *t, struct lru_node *n)
{
	n->older = t->newest;
	n->newer = NULL;
	if (t->newest)
		t->newest->newer = n;
	else
		t->oldest = n;
	t->newest = n;
}

void lru_insert(struct lru_table *t, struct lru_node *n)
{
	struct lru_node **pp = slot(t, key_of(t, n));

	n->hnext = NULL;
	*pp = n;
	append_lru(t, n);
	t->count++;
}

void lru_remove(struct lru_table *t, struct lru_node *n)
{
	*slot(t, key_of(t, n)) = n->hnext;
	unlink_lru(t, n);
	t->count--;
}

void lru_touch(struct lru_table *t, struct lru_node *n)
{
	if (t->newest == n)
		return;
	unlink_lru(t, n);
	append_lru(t, n);
}
