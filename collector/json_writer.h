/* A small streaming JSON writer into a growable buffer: every event is encoded by it exactly once.
 * Commas and nesting are tracked here, strings (keys included) are escaped per RFC 8259, and bytes
 * that are not valid UTF-8 become U+FFFD, so whatever arrived on the wire, the output is valid
 * JSON that Elasticsearch and Loki accept. */
#ifndef L7_JSON_WRITER_H
#define L7_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JW_MAX_DEPTH 32

struct jw {
	char *buf;
	size_t len;
	size_t cap;
	int depth;
	bool first[JW_MAX_DEPTH]; /* no member written yet at this depth */
	uint32_t in_object;       /* bit d-1: the container at depth d is an object, not an array */
	bool failed;              /* out of memory or nesting too deep: output is unusable */
};

void jw_init(struct jw *w);
void jw_free(struct jw *w);
/* Empties the buffer for the next document, keeping its memory. */
void jw_reset(struct jw *w);
/* 0, or -ENOMEM / -EINVAL if anything since jw_reset failed. */
int jw_error(const struct jw *w);

/* key is the member name inside an object and must be NULL inside an array or at top level. */
void jw_obj_open(struct jw *w, const char *key);
void jw_obj_close(struct jw *w);
void jw_arr_open(struct jw *w, const char *key);
void jw_arr_close(struct jw *w);

void jw_str(struct jw *w, const char *key, const char *s);
void jw_strn(struct jw *w, const char *key, const char *s, size_t n);
/* One string value from pieces, without joining them first. Each piece is escaped on its own: a
 * UTF-8 sequence split between two pieces is replaced, not joined (callers split at ASCII). */
struct jw_piece {
	const char *p;
	size_t n;
};
void jw_strv(struct jw *w, const char *key, const struct jw_piece *pieces, size_t n);
void jw_u64(struct jw *w, const char *key, uint64_t v);
void jw_i64(struct jw *w, const char *key, int64_t v);
void jw_bool(struct jw *w, const char *key, bool v);
/* RFC 3339 UTC with nanoseconds, e.g. "2026-11-22T02:43:24.123456789Z". */
void jw_time(struct jw *w, const char *key, uint64_t unix_ns);

/* Appends raw bytes (no separator, no escaping): for the trailing newline of NDJSON. */
void jw_raw(struct jw *w, const char *s, size_t n);

#endif
