#include "json_writer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "swar.h"

/* Enough for a typical event, so that a writer reused with jw_reset stops reallocating at once. */
#define JW_INITIAL_CAP 4096

#define NSEC_PER_SEC 1000000000u
#define SEC_PER_DAY  86400u

_Static_assert(JW_MAX_DEPTH <= 32, "in_object holds one bit per depth");

/* Running out of memory also releases the buffer: the document is lost anyway, memory is what is
 * short, and a failed writer without a buffer is how jw_error tells -ENOMEM from misuse. */
static void fail_nomem(struct jw *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = 0;
	w->cap = 0;
	w->failed = true;
}

static void fail_misuse(struct jw *w)
{
	w->failed = true;
}

static bool grow(struct jw *w, size_t n)
{
	size_t cap = w->cap ? w->cap : JW_INITIAL_CAP;

	while (cap - w->len <= n) {
		if (cap > SIZE_MAX / 2) {
			fail_nomem(w);
			return false;
		}
		cap *= 2;
	}
	char *buf = realloc(w->buf, cap);
	if (!buf) {
		fail_nomem(w);
		return false;
	}
	w->buf = buf;
	w->cap = cap;
	return true;
}

/* Room for n more bytes and the terminating NUL. Every write goes through here, which is what
 * turns all calls after a failure into no-ops. */
static inline bool reserve(struct jw *w, size_t n)
{
	if (w->failed)
		return false;
	return n < w->cap - w->len || grow(w, n);
}

/* An empty (NULL, 0) is as valid as any empty string, and memcpy must not see its NULL. */
static inline void put(struct jw *w, const void *p, size_t n)
{
	if (!n || !reserve(w, n))
		return;
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

void jw_init(struct jw *w)
{
	*w = (struct jw){0};
	if (grow(w, 0))
		w->buf[0] = '\0';
}

void jw_free(struct jw *w)
{
	free(w->buf);
	*w = (struct jw){0};
}

void jw_reset(struct jw *w)
{
	w->len = 0;
	w->depth = 0;
	w->in_object = 0;
	w->failed = false;
	if (w->buf)
		w->buf[0] = '\0';
}

int jw_error(const struct jw *w)
{
	if (!w->failed)
		return 0;
	return w->buf ? -EINVAL : -ENOMEM;
}

/* ---- strings ------------------------------------------------------------------------------- */

/* Whether any byte of v cannot be copied as it is: below 0x20, '"', '\\', or 0x7f and above
 * (escaped, or the start of a multibyte sequence to validate). */
static inline bool word_has_special(uint64_t v)
{
	return swar_less(v, 0x20) | swar_more(v, 0x7e) | swar_byte(v, '"') | swar_byte(v, '\\');
}

/* Bytes that go out as they are: printable ASCII other than '"' and '\\'. 0x7f is legal in JSON
 * strings, but is escaped with the control characters so that nothing from the wire reaches a
 * terminal or log viewer raw. */
static const bool plain_ascii[256] = {
        [0x20 ... 0x21] = true, /* '"' is 0x22 */
        [0x23 ... 0x5b] = true, /* '\\' is 0x5c */
        [0x5d ... 0x7e] = true,
};

/* What a lead byte allows (Unicode table 3-7, well-formed byte sequences): the sequence length and
 * the range of the second byte. The narrow ranges after E0, ED, F0 and F4 are what exclude
 * overlongs, surrogates and code points above U+10FFFF; len 0 marks bytes that never start a
 * sequence (continuation bytes, the overlong leads C0 C1, and F5..FF). */
struct utf8_lead {
	uint8_t len;
	uint8_t lo;
	uint8_t hi;
};

static struct utf8_lead utf8_lead(uint8_t c)
{
	if (c >= 0xc2 && c <= 0xdf)
		return (struct utf8_lead){2, 0x80, 0xbf};
	if (c == 0xe0)
		return (struct utf8_lead){3, 0xa0, 0xbf};
	if (c == 0xed)
		return (struct utf8_lead){3, 0x80, 0x9f};
	if (c >= 0xe1 && c <= 0xef)
		return (struct utf8_lead){3, 0x80, 0xbf};
	if (c == 0xf0)
		return (struct utf8_lead){4, 0x90, 0xbf};
	if (c >= 0xf1 && c <= 0xf3)
		return (struct utf8_lead){4, 0x80, 0xbf};
	if (c == 0xf4)
		return (struct utf8_lead){4, 0x80, 0x8f};
	return (struct utf8_lead){0, 0, 0};
}

/* Length of the sequence at s (s[0] >= 0x80, n >= 1): a well-formed one (*valid), or else its
 * maximal subpart, the bytes that a single U+FFFD replaces. That is the practice Unicode recommends
 * and Python's 'replace' error handler follows, so that output matches other decoders. */
static size_t utf8_seq(const uint8_t *s, size_t n, bool *valid)
{
	struct utf8_lead lead = utf8_lead(s[0]);
	size_t i = 1;

	if (lead.len && n > 1 && s[1] >= lead.lo && s[1] <= lead.hi) {
		i = 2;
		while (i < lead.len && i < n && (s[i] & 0xc0) == 0x80)
			i++;
	}
	*valid = i == lead.len;
	return i;
}

/* Length of the prefix of s that goes out unchanged: plain ASCII, eight bytes at a time while
 * there is no other byte in them, and well-formed multibyte sequences. */
static size_t verbatim_len(const uint8_t *s, size_t n)
{
	size_t i = 0;
	bool valid;

	for (;;) {
		while (n - i >= sizeof(uint64_t) && !word_has_special(swar_load(s + i)))
			i += sizeof(uint64_t);
		while (i < n && plain_ascii[s[i]])
			i++;
		if (i == n || s[i] < 0x80)
			return i;

		size_t len = utf8_seq(s + i, n - i, &valid);

		if (!valid)
			return i;
		i += len;
	}
}

static void put_escape(struct jw *w, uint8_t c)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
	size_t len = 2;

	switch (c) {
	case '"':
	case '\\':
		esc[1] = (char)c;
		break;
	case '\b':
		esc[1] = 'b';
		break;
	case '\f':
		esc[1] = 'f';
		break;
	case '\n':
		esc[1] = 'n';
		break;
	case '\r':
		esc[1] = 'r';
		break;
	case '\t':
		esc[1] = 't';
		break;
	default:
		len = sizeof(esc);
	}
	put(w, esc, len);
}

/* Handles what stopped verbatim_len at s: an ASCII byte to escape, or an ill-formed sequence to
 * replace. Returns the bytes consumed. */
static size_t put_special(struct jw *w, const uint8_t *s, size_t n)
{
	bool valid;

	if (s[0] < 0x80) {
		put_escape(w, s[0]);
		return 1;
	}
	put(w, "\xef\xbf\xbd", 3);
	return utf8_seq(s, n, &valid);
}

/* The characters of a string value, escaped; no quotes. */
static void put_chars(struct jw *w, const uint8_t *s, size_t n)
{
	size_t i = verbatim_len(s, n);

	put(w, s, i);
	while (i < n) {
		i += put_special(w, s + i, n - i);

		size_t run = verbatim_len(s + i, n - i);

		put(w, s + i, run);
		i += run;
	}
}

/* s in quotes, as it is: one reservation, one copy. */
static void put_quoted(struct jw *w, const char *s, size_t n)
{
	char *p;

	if (!reserve(w, n + 2))
		return;
	p = w->buf + w->len;
	p[0] = '"';
	if (n) /* as in put() */
		memcpy(p + 1, s, n);
	p[n + 1] = '"';
	p[n + 2] = '\0';
	w->len += n + 2;
}

static void put_string(struct jw *w, const char *str, size_t n)
{
	const uint8_t *s = (const uint8_t *)str;

	if (verbatim_len(s, n) == n) { /* the common case, nothing to escape */
		put_quoted(w, str, n);
		return;
	}
	put(w, "\"", 1);
	put_chars(w, s, n);
	put(w, "\"", 1);
}

#define KEY_FAST_MAX 64

/* "key": in one pass, copying while checking: member names are short and nearly always this
 * program's own literals, which the scan, strlen and copy of put_string cost more than they
 * write (a third of encoding time when they did). Longer keys, and any byte that is not plain
 * ASCII, take put_string. */
static void put_key(struct jw *w, const char *key)
{
	const uint8_t *k = (const uint8_t *)key;
	size_t i = 0;
	char *p;

	if (!reserve(w, KEY_FAST_MAX + 3))
		return;
	p = w->buf + w->len;
	p[0] = '"';
	while (i < KEY_FAST_MAX && plain_ascii[k[i]]) {
		p[i + 1] = (char)k[i];
		i++;
	}
	if (!k[i]) {
		p[i + 1] = '"';
		p[i + 2] = ':';
		p[i + 3] = '\0';
		w->len += i + 3;
		return;
	}
	w->buf[w->len] = '\0';
	put_string(w, key, strlen(key));
	put(w, ":", 1);
}

/* ---- structure ----------------------------------------------------------------------------- */

static bool in_object(const struct jw *w)
{
	return w->depth > 0 && (w->in_object >> (w->depth - 1) & 1);
}

/* Writes what precedes a value: the comma, and the member name inside objects. False if the
 * writer has failed or the key does not fit the container. */
static bool begin_value(struct jw *w, const char *key)
{
	if (w->failed)
		return false;
	if (in_object(w) != (key != NULL)) {
		fail_misuse(w);
		return false;
	}
	if (w->depth > 0) {
		if (!w->first[w->depth - 1])
			put(w, ",", 1);
		w->first[w->depth - 1] = false;
	}
	if (key)
		put_key(w, key);
	return !w->failed;
}

static void open_container(struct jw *w, const char *key, bool object)
{
	if (w->depth >= JW_MAX_DEPTH) {
		fail_misuse(w);
		return;
	}
	if (!begin_value(w, key))
		return;

	uint32_t bit = UINT32_C(1) << w->depth;

	w->in_object = object ? w->in_object | bit : w->in_object & ~bit;
	w->first[w->depth] = true;
	w->depth++;
	put(w, object ? "{" : "[", 1);
}

static void close_container(struct jw *w, bool object)
{
	if (w->failed)
		return;
	if (w->depth == 0 || in_object(w) != object) {
		fail_misuse(w);
		return;
	}
	w->depth--;
	put(w, object ? "}" : "]", 1);
}

void jw_obj_open(struct jw *w, const char *key)
{
	open_container(w, key, true);
}

void jw_resume_object(struct jw *w)
{
	if (w->depth != 0 || w->len == 0 || w->buf[0] != '{') {
		fail_misuse(w);
		return;
	}
	w->depth = 1;
	w->in_object |= 1;
	w->first[0] = false;
}

void jw_obj_close(struct jw *w)
{
	close_container(w, true);
}

void jw_arr_open(struct jw *w, const char *key)
{
	open_container(w, key, false);
}

void jw_arr_close(struct jw *w)
{
	close_container(w, false);
}

/* ---- values -------------------------------------------------------------------------------- */

void jw_val_str(struct jw *w, const char *s, size_t n)
{
	put_string(w, s, n);
}

void jw_val_plain(struct jw *w, const char *s, size_t n)
{
	put_quoted(w, s, n);
}

/* A NULL string is written as null, so optional fields need no branch at every call site. */
void jw_val_cstr(struct jw *w, const char *s)
{
	if (s)
		put_string(w, s, strlen(s));
	else
		put(w, "null", 4);
}

void jw_val_strv(struct jw *w, const struct jw_piece *pieces, size_t n)
{
	put(w, "\"", 1);
	for (size_t i = 0; i < n; i++)
		put_chars(w, (const uint8_t *)pieces[i].p, pieces[i].n);
	put(w, "\"", 1);
}

/* "00" to "99": integers are written two digits per division. */
static const char digit_pairs[] =
        "00010203040506070809101112131415161718192021222324252627282930313233"
        "34353637383940414243444546474849505152535455565758596061626364656667"
        "6869707172737475767778798081828384858687888990919293949596979899";

/* Comparisons, not divisions: most integers here (ports, byte counts, ids) are short. */
static size_t decimal_digits(uint64_t v)
{
	uint64_t bound = 10;
	size_t n = 1;

	while (n < 20 && v >= bound) {
		bound *= 10;
		n++;
	}
	return n;
}

/* Digits go straight into the buffer, back to front, two per division: an event has a dozen
 * integers, and going through a temporary cost a memcpy call for each. */
static void put_integer(struct jw *w, uint64_t magnitude, bool negative)
{
	size_t len = decimal_digits(magnitude) + (negative ? 1 : 0);
	char *p;

	if (!reserve(w, len))
		return;
	p = w->buf + w->len + len;
	while (magnitude >= 100) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * (magnitude % 100), 2);
		magnitude /= 100;
	}
	if (magnitude >= 10) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * magnitude, 2);
	} else {
		*--p = (char)('0' + magnitude);
	}
	if (negative)
		*--p = '-';
	w->len += len;
	w->buf[w->len] = '\0';
}

void jw_val_u64(struct jw *w, uint64_t v)
{
	put_integer(w, v, false);
}

void jw_val_bool(struct jw *w, bool v)
{
	put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_str(struct jw *w, const char *key, const char *s)
{
	if (begin_value(w, key))
		jw_val_cstr(w, s);
}

void jw_strn(struct jw *w, const char *key, const char *s, size_t n)
{
	if (begin_value(w, key))
		put_string(w, s, n);
}

void jw_strv(struct jw *w, const char *key, const struct jw_piece *pieces, size_t n)
{
	if (begin_value(w, key))
		jw_val_strv(w, pieces, n);
}

void jw_u64(struct jw *w, const char *key, uint64_t v)
{
	if (begin_value(w, key))
		put_integer(w, v, false);
}

void jw_i64(struct jw *w, const char *key, int64_t v)
{
	/* Unsigned negation, because -INT64_MIN does not fit in int64_t. */
	if (begin_value(w, key))
		put_integer(w, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, v < 0);
}

void jw_bool(struct jw *w, const char *key, bool v)
{
	if (begin_value(w, key))
		jw_val_bool(w, v);
}

struct civil_date {
	uint32_t year;
	uint32_t month;
	uint32_t day;
};

/* Howard Hinnant's civil_from_days (http://howardhinnant.github.io/date_algorithms.html), for days
 * since 1970-01-01 that are never negative here: gmtime_r would be slower, and takes a lock for
 * the time zone on some libcs. Counts from 0000-03-01 so that the leap day ends each year. */
static struct civil_date civil_from_days(uint32_t days)
{
	uint32_t z = days + 719468;
	uint32_t era = z / 146097;
	uint32_t doe = z - era * 146097;
	uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint32_t mp = (5 * doy + 2) / 153;
	uint32_t month = mp < 10 ? mp + 3 : mp - 9;

	return (struct civil_date){
	        .year = yoe + era * 400 + (month <= 2),
	        .month = month,
	        .day = doy - (153 * mp + 2) / 5 + 1,
	};
}

static void format_fixed(char *p, uint32_t v, size_t width)
{
	while (width--) {
		p[width] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* An event's times are nearly always in one second, and so are consecutive events', and an
 * event's start is written twice (@timestamp, event.start): the last value is kept formatted
 * (w->time), the date and time of day formatted again only when the second changes, the
 * nanoseconds when the value does. */
void jw_val_time(struct jw *w, uint64_t unix_ns)
{
	uint64_t secs = unix_ns / NSEC_PER_SEC;
	char *t = w->time.text;

	if (!w->time.valid || w->time.ns / NSEC_PER_SEC != secs) {
		uint32_t sod = (uint32_t)(secs % SEC_PER_DAY);
		/* UINT64_MAX ns is in the year 2554: the day count fits, the year has four digits.
		 */
		struct civil_date date = civil_from_days((uint32_t)(secs / SEC_PER_DAY));

		memcpy(t, "\"YYYY-MM-DDTHH:MM:SS.NNNNNNNNNZ\"", sizeof(w->time.text));
		format_fixed(t + 1, date.year, 4);
		format_fixed(t + 6, date.month, 2);
		format_fixed(t + 9, date.day, 2);
		format_fixed(t + 12, sod / 3600, 2);
		format_fixed(t + 15, sod / 60 % 60, 2);
		format_fixed(t + 18, sod % 60, 2);
	}
	/* A new second is a new value: the nanoseconds are written below in either case. */
	if (!w->time.valid || w->time.ns != unix_ns) {
		format_fixed(t + 21, (uint32_t)(unix_ns % NSEC_PER_SEC), 9);
		w->time.ns = unix_ns;
		w->time.valid = true;
	}
	put(w, t, sizeof(w->time.text));
}

void jw_time(struct jw *w, const char *key, uint64_t unix_ns)
{
	if (begin_value(w, key))
		jw_val_time(w, unix_ns);
}

void jw_raw(struct jw *w, const char *s, size_t n)
{
	put(w, s, n);
}
