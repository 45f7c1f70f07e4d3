/* An intrusive hash table with a least-recently-used list: the bounded tables (connections from
 * the wire, connections from syscalls, processes) embed a struct lru_node and a fixed-size key in
 * their entries and share this code. The table never allocates or frees entries. */
#ifndef L7_LRU_TABLE_H
#define L7_LRU_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct lru_node {
	struct lru_node *hnext;
	struct lru_node *older;
	struct lru_node *newer;
};

struct lru_table {
	struct lru_node **buckets;
	uint32_t mask;
	uint32_t count;
	ptrdiff_t key_off; /* from an entry's lru_node to its key */
	size_t key_len;
	struct lru_node *oldest;
	struct lru_node *newest;
};

/* Entries are found by key_len bytes at key_off bytes from their lru_node (which may be
 * negative). Buckets are sized for about `expected` entries. 0 or -ENOMEM. */
int lru_init(struct lru_table *t, uint32_t expected, ptrdiff_t key_off, size_t key_len);
void lru_destroy(struct lru_table *t);

struct lru_node *lru_find(const struct lru_table *t, const void *key);
/* Adds n (whose key is set) as the most recently used; the key must not be in the table. */
void lru_insert(struct lru_table *t, struct lru_node *n);
void lru_remove(struct lru_table *t, struct lru_node *n);
/* Marks n as the most recently used. */
void lru_touch(struct lru_table *t, struct lru_node *n);

#endif
