/* The intrusive hash + LRU list shared by the bounded tables: lookups by a key found at a signed
 * offset from the embedded node, bucket chains far longer than one, and the older/newer list
 * checked link by link against an independent model after a long random sequence of inserts,
 * touches and removes. */
#include "lru_table.h"

#include <stdbool.h>
#include <stddef.h>

#include "check.h"

/* The key before the node: key_off is negative (conn_table's layout puts it after). */
struct neg_entry {
	uint64_t key;
	uint32_t other; /* not part of the key: must not affect lookups */
	struct lru_node node;
};

/* The key after the node, and longer than a machine word: every byte must be compared. */
struct pos_key {
	uint32_t a;
	uint8_t b[12];
};

struct pos_entry {
	struct lru_node node;
	uint64_t other;
	struct pos_key key;
};

#define NEG_OFF                                                                                    \
	((ptrdiff_t)offsetof(struct neg_entry, key) - (ptrdiff_t)offsetof(struct neg_entry, node))
#define POS_OFF                                                                                    \
	((ptrdiff_t)offsetof(struct pos_entry, key) - (ptrdiff_t)offsetof(struct pos_entry, node))

static struct neg_entry *neg_of(struct lru_node *n)
{
	return n ? (struct neg_entry *)((char *)n - offsetof(struct neg_entry, node)) : NULL;
}

/* Walks the list both ways: the chains must mirror each other, end at oldest/newest, and hold
 * exactly count nodes. Returns the number of nodes seen from the oldest. */
static uint32_t check_links(const struct lru_table *t)
{
	const struct lru_node *n, *prev = NULL;
	uint32_t fwd = 0, back = 0;

	CHECK((t->oldest == NULL) == (t->newest == NULL));
	CHECK((t->count == 0) == (t->oldest == NULL));
	if (t->oldest)
		CHECK(t->oldest->older == NULL && t->newest->newer == NULL);
	for (n = t->oldest; n && fwd <= t->count; prev = n, n = n->newer) {
		CHECK(n->older == prev);
		fwd++;
	}
	CHECK(prev == t->newest);
	prev = NULL;
	for (n = t->newest; n && back <= t->count; prev = n, n = n->older) {
		CHECK(n->newer == prev);
		back++;
	}
	CHECK(prev == t->oldest);
	CHECK_EQ_U64(fwd, t->count);
	CHECK_EQ_U64(back, t->count);
	return fwd;
}

static void test_negative_offset(void)
{
	struct lru_table t;
	struct neg_entry e[3] = {{.key = 7, .other = 1}, {.key = 9, .other = 2}, {.key = 11}};
	uint64_t k;

	CHECK(NEG_OFF < 0);
	CHECK(lru_init(&t, 16, NEG_OFF, sizeof(uint64_t)) == 0);
	CHECK_EQ_U64(t.count, 0);
	k = 7;
	CHECK(lru_find(&t, &k) == NULL);
	for (int i = 0; i < 3; i++)
		lru_insert(&t, &e[i].node);
	CHECK_EQ_U64(t.count, 3);
	for (int i = 0; i < 3; i++) {
		k = e[i].key;
		CHECK(neg_of(lru_find(&t, &k)) == &e[i]);
	}
	/* A value stored in a non-key field is not a key. */
	k = 1;
	CHECK(lru_find(&t, &k) == NULL);
	k = 8;
	CHECK(lru_find(&t, &k) == NULL);

	lru_remove(&t, &e[1].node);
	CHECK_EQ_U64(t.count, 2);
	k = 9;
	CHECK(lru_find(&t, &k) == NULL);
	k = 7;
	CHECK(neg_of(lru_find(&t, &k)) == &e[0]);
	k = 11;
	CHECK(neg_of(lru_find(&t, &k)) == &e[2]);
	check_links(&t);

	/* The key can come back once removed. */
	lru_insert(&t, &e[1].node);
	k = 9;
	CHECK(neg_of(lru_find(&t, &k)) == &e[1]);
	CHECK(t.newest == &e[1].node);
	check_links(&t);
	lru_destroy(&t);
}

static void test_positive_offset(void)
{
	struct lru_table t;
	struct pos_entry e[2] = {{.other = 1}, {.other = 2}};
	struct pos_key k;

	CHECK(POS_OFF > 0);
	CHECK(lru_init(&t, 0, POS_OFF, sizeof(struct pos_key)) == 0);
	memset(&e[0].key, 0, sizeof(e[0].key));
	memset(&e[1].key, 0, sizeof(e[1].key));
	e[0].key.a = e[1].key.a = 42;
	e[1].key.b[11] = 1; /* the two keys differ only in their last byte */
	lru_insert(&t, &e[0].node);
	lru_insert(&t, &e[1].node);
	k = e[0].key;
	CHECK(lru_find(&t, &k) == &e[0].node);
	k = e[1].key;
	CHECK(lru_find(&t, &k) == &e[1].node);
	k.b[11] = 2;
	CHECK(lru_find(&t, &k) == NULL);
	lru_remove(&t, &e[0].node);
	k = e[0].key;
	CHECK(lru_find(&t, &k) == NULL);
	CHECK(t.oldest == &e[1].node && t.newest == &e[1].node);
	/* Touching the only entry changes nothing. */
	lru_touch(&t, &e[1].node);
	CHECK(t.oldest == &e[1].node && t.newest == &e[1].node);
	CHECK(e[1].node.older == NULL && e[1].node.newer == NULL);
	lru_remove(&t, &e[1].node);
	CHECK_EQ_U64(t.count, 0);
	check_links(&t);
	lru_destroy(&t);
}

/* Five entries a..e inserted in order: touching and removing at either end and in the middle. */
static void test_order(void)
{
	struct lru_table t;
	struct neg_entry e[5];
	struct lru_node *a = &e[0].node, *b = &e[1].node, *c = &e[2].node, *d = &e[3].node,
	                *x = &e[4].node;

	CHECK(lru_init(&t, 8, NEG_OFF, sizeof(uint64_t)) == 0);
	for (int i = 0; i < 5; i++) {
		e[i] = (struct neg_entry){.key = (uint64_t)i + 100};
		lru_insert(&t, &e[i].node);
		CHECK(t.newest == &e[i].node);
		CHECK(t.oldest == a);
	}
	/* a b c d x */
	CHECK(a->newer == b && b->older == a && x->older == d && d->newer == x);

	lru_touch(&t, a); /* b c d x a */
	CHECK(t.oldest == b && t.newest == a);
	CHECK(b->older == NULL && a->older == x && x->newer == a && a->newer == NULL);

	lru_touch(&t, c); /* b d x a c */
	CHECK(b->newer == d && d->older == b && a->newer == c && c->older == a);
	CHECK(t.newest == c);

	lru_touch(&t, c); /* already newest: b d x a c */
	CHECK(t.newest == c && c->older == a);
	CHECK_EQ_U64(check_links(&t), 5);

	lru_remove(&t, b); /* oldest: d x a c */
	CHECK(t.oldest == d && d->older == NULL);
	CHECK_EQ_U64(t.count, 4);

	lru_remove(&t, c); /* newest: d x a */
	CHECK(t.newest == a && a->newer == NULL);

	lru_remove(&t, x); /* middle: d a */
	CHECK(d->newer == a && a->older == d);
	CHECK_EQ_U64(check_links(&t), 2);

	for (int i = 0; i < 5; i++) {
		uint64_t k = e[i].key;
		bool kept = i == 0 || i == 3;

		CHECK((lru_find(&t, &k) != NULL) == kept);
	}
	lru_remove(&t, a);
	lru_remove(&t, d);
	CHECK(t.oldest == NULL && t.newest == NULL && t.count == 0);
	lru_destroy(&t);
}

#define MANY 6000

/* Far more entries than buckets: chains are long and removal unlinks from their middle. */
static void test_collisions(void)
{
	static struct neg_entry e[MANY];
	struct lru_table t;
	uint32_t longest = 0;

	CHECK(lru_init(&t, 4, NEG_OFF, sizeof(uint64_t)) == 0);
	CHECK(t.mask + 1 < MANY / 4); /* otherwise this would not test collisions */
	for (uint32_t i = 0; i < MANY; i++) {
		e[i].key = (uint64_t)i * 0x9e3779b97f4a7c15ull;
		lru_insert(&t, &e[i].node);
	}
	CHECK_EQ_U64(t.count, MANY);
	for (uint32_t b = 0; b <= t.mask; b++) {
		uint32_t len = 0;

		for (struct lru_node *n = t.buckets[b]; n; n = n->hnext)
			len++;
		if (len > longest)
			longest = len;
	}
	CHECK(longest >= 4);
	for (uint32_t i = 0; i < MANY; i++)
		CHECK(neg_of(lru_find(&t, &e[i].key)) == &e[i]);
	/* Every other one out, then the rest must still be found, the removed ones not. */
	for (uint32_t i = 0; i < MANY; i += 2)
		lru_remove(&t, &e[i].node);
	CHECK_EQ_U64(t.count, MANY / 2);
	for (uint32_t i = 0; i < MANY; i++) {
		struct neg_entry *got = neg_of(lru_find(&t, &e[i].key));

		CHECK(got == (i % 2 ? &e[i] : NULL));
	}
	CHECK_EQ_U64(check_links(&t), MANY / 2);
	CHECK(t.oldest == &e[1].node && t.newest == &e[MANY - 1].node);
	for (uint32_t i = 1; i < MANY; i += 2)
		lru_remove(&t, &e[i].node);
	CHECK_EQ_U64(t.count, 0);
	for (uint32_t b = 0; b <= t.mask; b++)
		CHECK(t.buckets[b] == NULL);
	lru_destroy(&t);
}

/* xorshift64: a fixed seed makes every run the same sequence. */
static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

#define KEYS 2000
#define OPS  200000

/* The model: indexes of present entries, oldest first. */
static uint32_t model[KEYS];
static uint32_t model_n;

static int model_pos(uint32_t idx)
{
	for (uint32_t i = 0; i < model_n; i++)
		if (model[i] == idx)
			return (int)i;
	return -1;
}

static void model_del(int pos)
{
	memmove(&model[pos], &model[pos + 1], (model_n - (uint32_t)pos - 1) * sizeof(model[0]));
	model_n--;
}

static void check_model(const struct lru_table *t, const struct pos_entry *e)
{
	const struct lru_node *n = t->oldest;
	uint32_t i;

	CHECK_EQ_U64(check_links(t), model_n);
	for (i = 0; i < model_n && n; i++, n = n->newer)
		CHECK(n == &e[model[i]].node);
	n = t->newest;
	for (i = model_n; i > 0 && n; i--, n = n->older)
		CHECK(n == &e[model[i - 1]].node);
}

static void test_random(void)
{
	static struct pos_entry e[KEYS];
	static bool present[KEYS];
	struct lru_table t;
	uint64_t found = 0;

	CHECK(lru_init(&t, 64, POS_OFF, sizeof(struct pos_key)) == 0);
	for (uint32_t i = 0; i < KEYS; i++) {
		memset(&e[i].key, 0, sizeof(e[i].key));
		/* Keys alike except in a few bytes, spread over the key. */
		e[i].key.a = i % 7;
		e[i].key.b[3] = (uint8_t)(i >> 8);
		e[i].key.b[11] = (uint8_t)i;
	}
	for (uint32_t op = 0; op < OPS; op++) {
		uint32_t idx = rnd(KEYS);
		uint32_t what = rnd(10);
		struct lru_node *n = lru_find(&t, &e[idx].key);
		int pos = model_pos(idx);

		CHECK((n != NULL) == present[idx]);
		CHECK(n == NULL || n == &e[idx].node);
		CHECK((pos >= 0) == present[idx]);
		if (!present[idx]) {
			/* Inserts outweigh removes until the table holds about half the keys. */
			if (what < 6) {
				lru_insert(&t, &e[idx].node);
				present[idx] = true;
				model[model_n++] = idx;
			}
		} else if (what < 4) {
			lru_remove(&t, n);
			present[idx] = false;
			model_del(pos);
		} else if (what < 9) {
			lru_touch(&t, n);
			model_del(pos);
			model[model_n++] = idx;
			found++;
		} else if (model_n) {
			/* Evict the oldest, as the tables do when full. */
			uint32_t old = model[0];

			CHECK(t.oldest == &e[old].node);
			lru_remove(&t, t.oldest);
			present[old] = false;
			model_del(0);
		}
		CHECK_EQ_U64(t.count, model_n);
		CHECK(model_n == 0 || t.oldest == &e[model[0]].node);
		CHECK(model_n == 0 || t.newest == &e[model[model_n - 1]].node);
		if (op % 5000 == 0)
			check_model(&t, e);
	}
	check_model(&t, e);
	CHECK(model_n > KEYS / 4); /* the sequence kept the table busy */
	CHECK(found > OPS / 10);
	for (uint32_t i = 0; i < KEYS; i++)
		CHECK((lru_find(&t, &e[i].key) != NULL) == present[i]);
	lru_destroy(&t);
}

int main(void)
{
	test_negative_offset();
	test_positive_offset();
	test_order();
	test_collisions();
	test_random();
	return check_report("test_lru_table");
}
