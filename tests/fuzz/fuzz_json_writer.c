/* The JSON writer's string escaping: any bytes, written as a member name, as a value, and as a
 * value in two pieces (jw_strv, split where the first byte says), must give a document whose
 * strings are closed, hold no raw control character, are well-formed UTF-8, and decode back to the
 * input when the input was well-formed UTF-8. The checker here is deliberately independent of the
 * writer: it decodes code points instead of matching byte ranges. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_writer.h"

struct cursor {
	const uint8_t *p;
	const uint8_t *end;
};

/* Length of the well-formed UTF-8 sequence at p, 0 if there is none. */
static size_t utf8_seq_len(const uint8_t *p, size_t n)
{
	size_t len;
	uint32_t cp, min;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = p[0] & 0x1f;
		min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = p[0] & 0x0f;
		min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = p[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static bool utf8_valid(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t len = utf8_seq_len(p + i, n - i);

		if (!len)
			return false;
		i += len;
	}
	return true;
}

static void expect(struct cursor *c, uint8_t ch)
{
	if (c->p == c->end || *c->p != ch)
		abort();
	c->p++;
}

static uint8_t hex_value(uint8_t ch)
{
	if (ch >= '0' && ch <= '9')
		return (uint8_t)(ch - '0');
	if (ch >= 'a' && ch <= 'f')
		return (uint8_t)(ch - 'a' + 10);
	abort(); /* the writer emits lower-case hex only */
}

/* One escape after the backslash; the writer only ever escapes bytes below 0x80. */
static uint8_t unescape(struct cursor *c)
{
	static const char simple[] = "\"\\/bfnrt";
	static const char decoded[] = "\"\\/\b\f\n\r\t";

	if (c->p == c->end)
		abort();

	const char *s = memchr(simple, *c->p, sizeof(simple) - 1);

	if (s) {
		c->p++;
		return (uint8_t)decoded[s - simple];
	}
	expect(c, 'u');
	if (c->end - c->p < 4 || c->p[0] != '0' || c->p[1] != '0')
		abort();

	uint8_t v = (uint8_t)(hex_value(c->p[2]) << 4 | hex_value(c->p[3]));

	if (v >= 0x80)
		abort();
	c->p += 4;
	return v;
}

/* Checks one JSON string at c and decodes it into out; returns the decoded length. */
static size_t check_string(struct cursor *c, uint8_t *out)
{
	size_t o = 0;

	expect(c, '"');
	for (;;) {
		if (c->p == c->end)
			abort(); /* unterminated */

		uint8_t b = *c->p;

		if (b == '"') {
			c->p++;
			return o;
		}
		if (b < 0x20 || b == 0x7f)
			abort(); /* raw control character */
		if (b == '\\') {
			c->p++;
			out[o++] = unescape(c);
			continue;
		}

		size_t len = utf8_seq_len(c->p, (size_t)(c->end - c->p));

		if (!len)
			abort(); /* ill-formed UTF-8 in the output */
		memcpy(out + o, c->p, len);
		o += len;
		c->p += len;
	}
}

static void check_decoded(const uint8_t *in, size_t n, const uint8_t *out, size_t out_len)
{
	if (utf8_valid(in, n) && (out_len != n || memcmp(in, out, n) != 0))
		abort(); /* well-formed input must come back unchanged */
	if (out_len > 3 * n)
		abort(); /* no byte becomes more than one U+FFFD */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Member names are NUL-terminated: the key is the input up to its first NUL. */
	char *key = malloc(size + 1);
	uint8_t *decoded = malloc(3 * size + 1);
	size_t cut = size ? data[0] % (size + 1) : 0;
	struct jw_piece pieces[2] = {{(const char *)data, cut},
	                             {(const char *)data + cut, size - cut}};
	struct jw w;

	if (!key || !decoded)
		abort();
	memcpy(key, data, size);
	key[size] = '\0';

	jw_init(&w);
	jw_obj_open(&w, NULL);
	jw_strn(&w, key, (const char *)data, size);
	jw_strv(&w, "v", pieces, 2);
	jw_obj_close(&w);
	if (jw_error(&w))
		abort();

	struct cursor c = {(const uint8_t *)w.buf, (const uint8_t *)w.buf + w.len};
	size_t len;

	expect(&c, '{');
	len = check_string(&c, decoded);
	check_decoded((const uint8_t *)key, strlen(key), decoded, len);
	expect(&c, ':');
	len = check_string(&c, decoded);
	check_decoded(data, size, decoded, len);
	expect(&c, ',');
	expect(&c, '"');
	expect(&c, 'v');
	expect(&c, '"');
	expect(&c, ':');
	len = check_string(&c, decoded);
	/* Each piece is escaped on its own: whole when both pieces are well-formed. */
	if (utf8_valid(data, cut) && utf8_valid(data + cut, size - cut) &&
	    (len != size || memcmp(data, decoded, size) != 0))
		abort();
	if (len > 3 * size)
		abort();
	expect(&c, '}');
	if (c.p != c.end)
		abort();

	jw_free(&w);
	free(decoded);
	free(key);
	return 0;
}
