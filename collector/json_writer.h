/* A small streaming JSON writer into a growable buffer: every event is encoded by it exactly once.
 * Strings (keys included) are escaped per RFC 8259, and bytes that are not valid UTF-8 become
 * U+FFFD, so whatever arrived on the wire, the output is valid JSON that Elasticsearch and Loki
 * accept. The checked calls track commas and nesting; the direct ones (jw_lit, jw_val_*, below)
 * leave structure to the caller, for the hot path. */
#ifndef L7_JSON_WRITER_H
#define L7_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define JW_MAX_DEPTH 32

struct jw {
	char *buf;
	size_t len;
	size_t cap;
	int depth;
	bool first[JW_MAX_DEPTH]; /* no member written yet at this depth */
	uint32_t in_object;       /* bit d-1: the container at depth d is an object, not an array */
	bool failed;              /* out of memory or nesting too deep: output is unusable */
	struct {                  /* jw_val_time's last value, kept across jw_reset */
		bool valid;
		uint64_t ns;
		char text[32]; /* "YYYY-MM-DDTHH:MM:SS.NNNNNNNNNZ" */
	} time;
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

/* Writing directly, for hot paths whose structure is fixed: jw_lit appends JSON text as it is
 * (braces, commas and member names, all the caller's), the jw_val_* functions one value each,
 * with the escaping and formatting of the calls above. None of them tracks nesting: the caller
 * must produce valid JSON (encode_json's test pins its documents whole). Twenty times cheaper
 * per value than the checked calls, whose bookkeeping of nesting, commas and names was most of
 * the time to encode an event. */
#define jw_lit(w, text) jw_lit_n((w), (text), sizeof(text) - 1)

/* Inline, so that a literal's copy is a few moves, not a call: most of an event is literals. */
static inline void jw_lit_n(struct jw *w, const char *text, size_t n)
{
	if (!w->failed && n < w->cap - w->len) {
		memcpy(w->buf + w->len, text, n);
		w->len += n;
		w->buf[w->len] = '\0';
		return;
	}
	jw_raw(w, text, n);
}
void jw_val_str(struct jw *w, const char *s, size_t n);
void jw_val_cstr(struct jw *w, const char *s); /* NULL: null */
/* A string the caller vouches needs no escaping: printable ASCII other than '"' and '\\' (this
 * program's own names, formatted addresses). It is copied without the scan that every other
 * string gets; anything from the wire or the system must take jw_val_str. */
void jw_val_plain(struct jw *w, const char *s, size_t n);
static inline void jw_val_name(struct jw *w, const char *s)
{
	jw_val_plain(w, s, strlen(s));
}
void jw_val_strv(struct jw *w, const struct jw_piece *pieces, size_t n);
void jw_val_u64(struct jw *w, uint64_t v);
void jw_val_bool(struct jw *w, bool v);
void jw_val_time(struct jw *w, uint64_t unix_ns);
/* Hands a document written directly so far to the checked calls: the buffer holds a top-level
 * object, opened with "{" and given at least one member, that the calls then continue. */
void jw_resume_object(struct jw *w);

#endif
