#include "proc_cache.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lru_table.h"

struct proc_entry {
	struct lru_node node;
	uint32_t tgid;
	char *exe; /* NULL when unreadable (the process is gone, or a kernel thread) */
	char container[65];
	bool in_container;
};

struct proc_cache {
	struct lru_table t;
	uint32_t max;
	char root[64];
	struct proc_cache_stats stats;
};

struct proc_cache *proc_cache_new(uint32_t max, const char *proc_root)
{
	struct proc_cache *pc = calloc(1, sizeof(*pc));

	if (!pc || lru_init(&pc->t, max, offsetof(struct proc_entry, tgid), sizeof(uint32_t))) {
		free(pc);
		return NULL;
	}
	pc->max = max;
	snprintf(pc->root, sizeof(pc->root), "%s", proc_root);
	return pc;
}

static void entry_free(struct proc_entry *e)
{
	free(e->exe);
	free(e);
}

void proc_cache_free(struct proc_cache *pc)
{
	if (!pc)
		return;
	while (pc->t.oldest) {
		struct proc_entry *e = (struct proc_entry *)pc->t.oldest;

		lru_remove(&pc->t, &e->node);
		entry_free(e);
	}
	lru_destroy(&pc->t);
	free(pc);
}

static bool is_hex64(const char *p)
{
	for (int i = 0; i < 64; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

/* Scans every line (v1 has one per hierarchy, v2 one "0::/path") for a path component that is,
 * or ends in, 64 hex digits: /docker/<id>, docker-<id>.scope, cri-containerd-<id>.scope,
 * crio-<id>.scope, /kubepods/.../<id>. A ".scope" suffix is dropped first. */
const char *container_id_from_cgroup(const char *cgroup, char out[65])
{
	const char *line = cgroup;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		const char *p = line + n;

		/* Components from the last one back: the innermost names the container. */
		while (p > line) {
			const char *c = p;
			size_t len;

			while (c > line && c[-1] != '/')
				c--;
			len = (size_t)(p - c);
			if (len > 6 && memcmp(p - 6, ".scope", 6) == 0)
				len -= 6;
			if (len >= 64 && is_hex64(c + len - 64) &&
			    (len == 64 || c[len - 65] == '-' || c[len - 65] == ':')) {
				memcpy(out, c + len - 64, 64);
				out[64] = '\0';
				return out;
			}
			p = c > line ? c - 1 : line;
		}
		line = end ? end + 1 : NULL;
	}
	return NULL;
}

static char *read_small(const char *path, size_t max)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(max + 1);
	n = buf ? fread(buf, 1, max, f) : 0;
	fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

static void load(struct proc_cache *pc, struct proc_entry *e)
{
	char path[128], exe[4096], *cg;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/exe", pc->root, e->tgid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		e->exe = strdup(exe);
	}
	snprintf(path, sizeof(path), "%s/%u/cgroup", pc->root, e->tgid);
	cg = read_small(path, 16384);
	e->in_container = cg && container_id_from_cgroup(cg, e->container);
	free(cg);
}

static struct proc_entry *lookup(struct proc_cache *pc, uint32_t tgid)
{
	struct proc_entry *e = (struct proc_entry *)lru_find(&pc->t, &tgid);

	pc->stats.lookups++;
	if (e) {
		lru_touch(&pc->t, &e->node);
		return e;
	}
	if (pc->t.count >= pc->max && pc->t.oldest) {
		struct proc_entry *old = (struct proc_entry *)pc->t.oldest;

		lru_remove(&pc->t, &old->node);
		entry_free(old);
		pc->stats.evicted++;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->tgid = tgid;
	pc->stats.misses++;
	load(pc, e);
	lru_insert(&pc->t, &e->node);
	return e;
}

void proc_cache_fill(struct proc_cache *pc, const struct conn_owner *o, const char *thread_name,
                     struct ev_process *out)
{
	struct proc_entry *e = pc ? lookup(pc, o->tgid) : NULL;

	memset(out, 0, sizeof(*out));
	out->pid = o->tgid;
	out->tid = o->tid;
	out->uid = o->uid;
	out->gid = o->gid;
	out->cgroup_id = o->cgroup_id;
	out->thread_name = thread_name;
	out->name = o->comm[0] ? o->comm : NULL; /* the kernel helpers NUL-terminate it */
	if (!e)
		return;
	out->executable = e->exe;
	out->container_id = e->in_container ? e->container : NULL;
}

void proc_cache_forget(struct proc_cache *pc, uint32_t tgid)
{
	struct proc_entry *e = pc ? (struct proc_entry *)lru_find(&pc->t, &tgid) : NULL;

	if (e) {
		lru_remove(&pc->t, &e->node);
		entry_free(e);
	}
}

const struct proc_cache_stats *proc_cache_stats(const struct proc_cache *pc)
{
	return &pc->stats;
}
