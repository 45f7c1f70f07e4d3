/* The JSON writer: exact output for documents, escapes and U+FFFD substitution, and what jansson
 * reads back from it; timestamps against gmtime_r; error paths; random strings against an
 * independent reference for the replacement of ill-formed UTF-8. */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "check.h"
#include "json_writer.h"

#define R "\xef\xbf\xbd" /* U+FFFD, what ill-formed UTF-8 becomes */

/* Exact output; the writer NUL-terminates, and JSON text never holds a raw NUL. */
static void check_output(const struct jw *w, const char *want)
{
	CHECK(jw_error(w) == 0);
	CHECK_EQ_U64(strlen(w->buf), w->len);
	CHECK_STR(w->buf, want);
}

static json_t *parse(const struct jw *w)
{
	json_error_t err;
	json_t *j = json_loadb(w->buf, w->len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &err);

	if (!j)
		fprintf(stderr, "jansson: %s at %d in: %.*s\n", err.text, err.position, (int)w->len,
		        w->buf);
	return j;
}

static bool string_is(const json_t *j, const void *want, size_t want_len)
{
	return json_is_string(j) && json_string_length(j) == want_len &&
	       memcmp(json_string_value(j), want, want_len) == 0;
}

/* Writes s[0..n) from a guarded copy, so that reading past its end crashes, and returns the
 * value jansson reads back (NULL if it does not parse). */
static json_t *write_and_parse(struct jw *w, const void *s, size_t n)
{
	void *copy = guarded_copy(s, n);

	jw_reset(w);
	jw_strn(w, NULL, copy, n);
	guarded_free(copy, n);
	CHECK(jw_error(w) == 0);
	return parse(w);
}

static void test_document(void)
{
	struct jw w;

	jw_init(&w);
	jw_obj_open(&w, NULL);
	jw_str(&w, "s", "text");
	jw_u64(&w, "u", 9223372036854775807u);
	jw_i64(&w, "i", -42);
	jw_bool(&w, "t", true);
	jw_bool(&w, "f", false);
	jw_time(&w, "ts", 1795315404123456789u);
	jw_str(&w, "none", NULL);
	jw_obj_open(&w, "empty_obj");
	jw_obj_close(&w);
	jw_arr_open(&w, "empty_arr");
	jw_arr_close(&w);
	jw_arr_open(&w, "arr");
	jw_u64(&w, NULL, 1);
	jw_str(&w, NULL, "two");
	jw_obj_open(&w, NULL);
	jw_bool(&w, "x", true);
	jw_obj_close(&w);
	jw_arr_open(&w, NULL);
	jw_arr_open(&w, NULL);
	jw_arr_close(&w);
	jw_arr_close(&w);
	jw_arr_close(&w);
	jw_obj_open(&w, "nested");
	jw_obj_open(&w, "deeper");
	jw_strn(&w, "bytes", "a\0b", 3);
	jw_obj_close(&w);
	jw_obj_close(&w);
	jw_obj_close(&w);
	check_output(&w,
	             "{\"s\":\"text\",\"u\":9223372036854775807,\"i\":-42,\"t\":true,\"f\":false,"
	             "\"ts\":\"2026-11-22T02:43:24.123456789Z\",\"none\":null,"
	             "\"empty_obj\":{},\"empty_arr\":[],\"arr\":[1,\"two\",{\"x\":true},[[]]],"
	             "\"nested\":{\"deeper\":{\"bytes\":\"a\\u0000b\"}}}");

	json_t *j = parse(&w);

	CHECK(json_is_object(j));
	CHECK(string_is(json_object_get(j, "s"), "text", 4));
	CHECK(json_integer_value(json_object_get(j, "u")) == INT64_MAX);
	CHECK(json_integer_value(json_object_get(j, "i")) == -42);
	CHECK(json_is_true(json_object_get(j, "t")));
	CHECK(json_is_false(json_object_get(j, "f")));
	CHECK(string_is(json_object_get(j, "ts"), "2026-11-22T02:43:24.123456789Z", 30));
	CHECK(json_is_null(json_object_get(j, "none")));
	CHECK(json_object_size(json_object_get(j, "empty_obj")) == 0);
	CHECK(json_array_size(json_object_get(j, "empty_arr")) == 0);

	json_t *arr = json_object_get(j, "arr");

	CHECK(json_array_size(arr) == 4);
	CHECK(json_integer_value(json_array_get(arr, 0)) == 1);
	CHECK(string_is(json_array_get(arr, 1), "two", 3));
	CHECK(json_is_true(json_object_get(json_array_get(arr, 2), "x")));
	CHECK(json_array_size(json_array_get(json_array_get(arr, 3), 0)) == 0);
	CHECK(string_is(
	        json_object_get(json_object_get(json_object_get(j, "nested"), "deeper"), "bytes"),
	        "a\0b", 3));
	json_decref(j);
	jw_free(&w);
}

/* Elasticsearch bulk bodies and NDJSON put several documents in one buffer: no commas between. */
static void test_top_level_sequence(void)
{
	struct jw w;

	jw_init(&w);
	jw_obj_open(&w, NULL);
	jw_obj_open(&w, "index");
	jw_obj_close(&w);
	jw_obj_close(&w);
	jw_raw(&w, "\n", 1);
	jw_obj_open(&w, NULL);
	jw_u64(&w, "a", 1);
	jw_obj_close(&w);
	jw_raw(&w, "\n", 1);
	jw_str(&w, NULL, "scalar");
	jw_u64(&w, NULL, 7);
	check_output(&w, "{\"index\":{}}\n{\"a\":1}\n\"scalar\"7");

	jw_reset(&w);
	jw_arr_open(&w, NULL);
	jw_raw(&w, "0", 1); /* raw bytes are not members: the next value still comes first */
	jw_u64(&w, NULL, 1);
	jw_arr_close(&w);
	check_output(&w, "[01]");
	jw_free(&w);
}

static void test_integers(void)
{
	static const uint64_t u64s[] = {
	        0,
	        1,
	        9,
	        10,
	        99,
	        100,
	        12345,
	        4294967295u,
	        4294967296u,
	        999999999999999999u,
	        1000000000000000000u,
	        9223372036854775807u,
	        9223372036854775808u,
	        10000000000000000000u,
	        UINT64_MAX,
	};
	static const int64_t i64s[] = {
	        0,         1,          -1,
	        9,         -9,         -10,
	        10,        2147483647, -2147483648LL,
	        INT64_MAX, INT64_MIN,  INT64_MIN + 1,
	};
	char want[32];
	struct jw w;

	jw_init(&w);
	for (size_t i = 0; i < sizeof(u64s) / sizeof(u64s[0]); i++) {
		jw_reset(&w);
		jw_u64(&w, NULL, u64s[i]);
		snprintf(want, sizeof(want), "%" PRIu64, u64s[i]);
		check_output(&w, want);
	}
	/* Each side of every change in the number of digits, which the writer counts first. */
	for (uint64_t p = 10, digits = 2; digits <= 20; p *= 10, digits++) {
		for (uint64_t v = p - 1; v <= p; v++) {
			jw_reset(&w);
			jw_val_u64(&w, v);
			snprintf(want, sizeof(want), "%" PRIu64, v);
			check_output(&w, want);
		}
	}
	for (size_t i = 0; i < sizeof(i64s) / sizeof(i64s[0]); i++) {
		jw_reset(&w);
		jw_i64(&w, NULL, i64s[i]);
		snprintf(want, sizeof(want), "%" PRId64, i64s[i]);
		check_output(&w, want);

		json_t *j = parse(&w);

		CHECK(json_is_integer(j) && json_integer_value(j) == i64s[i]);
		json_decref(j);
	}
	jw_free(&w);
}

static void test_escapes(void)
{
	char all_ascii[128];
	struct jw w;

	for (int i = 0; i < 128; i++)
		all_ascii[i] = (char)i;
	jw_init(&w);
	jw_strn(&w, NULL, all_ascii, sizeof(all_ascii));
	check_output(&w,
	             "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f"
	             "\\r\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017"
	             "\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f"
	             " !\\\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`"
	             "abcdefghijklmnopqrstuvwxyz{|}~\\u007f\"");

	json_t *j = write_and_parse(&w, all_ascii, sizeof(all_ascii));

	CHECK(string_is(j, all_ascii, sizeof(all_ascii)));
	json_decref(j);

	/* Escapes next to ill-formed sequences, and runs of them with no plain bytes between. */
	jw_reset(&w);
	jw_strn(&w, NULL, "\xc3\n\xe2\x82\"\\\\\x01\x80", 9);
	check_output(&w, "\"" R "\\n" R "\\\"\\\\\\\\\\u0001" R "\"");
	jw_reset(&w);
	jw_str(&w, NULL, "");
	check_output(&w, "\"\"");
	jw_reset(&w);
	jw_strn(&w, NULL, NULL, 0); /* an empty buffer may well come as (NULL, 0) */
	jw_raw(&w, NULL, 0);
	check_output(&w, "\"\"");
	jw_free(&w);
}

/* Shortest and longest of each length, the code points around the surrogates, and text. */
static void test_valid_utf8(void)
{
	static const char text[] = "\xc2\x80 \xdf\xbf \xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80 "
	                           "\xef\xbf\xbd \xef\xbf\xbf \xf0\x90\x80\x80 \xf4\x8f\xbf\xbf "
	                           "h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac 100 \xf0\x9f\x98\x80 "
	                           "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e";
	char want[sizeof(text) + 2];
	struct jw w;

	jw_init(&w);
	jw_str(&w, NULL, text);
	snprintf(want, sizeof(want), "\"%s\"", text);
	check_output(&w, want);

	json_t *j = write_and_parse(&w, text, sizeof(text) - 1);

	CHECK(string_is(j, text, sizeof(text) - 1));
	json_decref(j);
	jw_free(&w);
}

/* Expected values are what Python's bytes.decode('utf-8', 'replace') gives for each input. */
static const struct {
	const char *name;
	const char *in;
	size_t in_len;
	const char *want;
} invalid_utf8[] = {
        {"lone continuation byte", "\x80", 1, R},
        {"two continuation bytes", "\xbf\x80", 2, R R},
        {"continuation byte between ASCII", "a\x80z", 3, "a" R "z"},
        {"overlong NUL", "\xc0\x80", 2, R R},
        {"overlong slash", "\xc0\xaf", 2, R R},
        {"overlong 2-byte maximum", "\xc1\xbf", 2, R R},
        {"overlong 3-byte slash", "\xe0\x80\xaf", 3, R R R},
        {"overlong 3-byte maximum", "\xe0\x9f\xbf", 3, R R R},
        {"overlong 4-byte slash", "\xf0\x80\x80\xaf", 4, R R R R},
        {"overlong 4-byte maximum", "\xf0\x8f\xbf\xbf", 4, R R R R},
        {"surrogate U+D800", "\xed\xa0\x80", 3, R R R},
        {"surrogate U+DFFF", "\xed\xbf\xbf", 3, R R R},
        {"CESU-8 surrogate pair", "\xed\xa0\xbd\xed\xb8\x80", 6, R R R R R R},
        {"U+110000", "\xf4\x90\x80\x80", 4, R R R R},
        {"lead F5", "\xf5\x80\x80\x80", 4, R R R R},
        {"lead F7, 21 bits", "\xf7\xbf\xbf\xbf", 4, R R R R},
        {"5-byte form", "\xf8\x88\x80\x80\x80", 5, R R R R R},
        {"6-byte form", "\xfc\x84\x80\x80\x80\x80", 6, R R R R R R},
        {"FE FF", "\xfe\xff", 2, R R},
        {"truncated 2-byte at end", "\xc3", 1, R},
        {"truncated 3-byte at end", "\xe2\x82", 2, R},
        {"truncated 3-byte after E0 at end", "\xe0\xa0", 2, R},
        {"truncated 4-byte at end", "\xf0\x9f\x98", 3, R},
        {"truncated U+10FFFF at end", "\xf4\x8f\xbf", 3, R},
        {"lone 4-byte lead at end", "a\xf0", 2, "a" R},
        {"truncated 3-byte before ASCII", "\xe2\x82z", 3, R "z"},
        {"truncated 4-byte before ASCII", "\xf0\x9f\x98z", 4, R "z"},
        {"lead before a complete sequence", "\xc3\xc3\xa9", 3, R "\xc3\xa9"},
        {"3-byte lead before a complete sequence", "\xe2\xe2\x82\xac", 4, R "\xe2\x82\xac"},
        {"lead before ASCII", "\xc2Z", 2, R "Z"},
        {"complete sequence then continuation", "\xe2\x82\xac\x80", 4, "\xe2\x82\xac" R},
        {"truncated overlong", "\xf0\x80\x80", 3, R R R},
        {"truncated surrogate", "\xed\xa0", 2, R R},
        {"truncated 4-byte before 2-byte", "\xf1\x80\x80\xc2\xa9", 5, R "\xc2\xa9"},
        {"Unicode table 3-8 example", "\xe1\x80\xe2\xf0\x91\x92\xf1\xbfZ", 9, R R R R "Z"},
        {"invalid byte inside a word", "abcdefgh\xffijklmnop", 17, "abcdefgh" R "ijklmnop"},
        {"truncated at end after a word", "abcdefg\xe2\x82", 9, "abcdefg" R},
};

static void test_invalid_utf8(void)
{
	char want[64];
	struct jw w;

	jw_init(&w);
	for (size_t i = 0; i < sizeof(invalid_utf8) / sizeof(invalid_utf8[0]); i++) {
		int failures = check_failures;
		json_t *j = write_and_parse(&w, invalid_utf8[i].in, invalid_utf8[i].in_len);

		snprintf(want, sizeof(want), "\"%s\"", invalid_utf8[i].want);
		check_output(&w, want);
		CHECK(string_is(j, invalid_utf8[i].want, strlen(invalid_utf8[i].want)));
		if (check_failures != failures)
			fprintf(stderr, "  case: %s\n", invalid_utf8[i].name);
		json_decref(j);
	}
	jw_free(&w);
}

/* Header names from the wire become keys: they get the same escaping and replacement. */
static void test_keys(void)
{
	struct jw w;

	jw_init(&w);
	jw_obj_open(&w, NULL);
	jw_u64(&w, "a\"b\\c\nd\xff", 1);
	jw_u64(&w, "", 2);
	jw_obj_close(&w);
	check_output(&w, "{\"a\\\"b\\\\c\\nd" R "\":1,\"\":2}");

	json_t *j = parse(&w);

	CHECK(json_integer_value(json_object_get(j, "a\"b\\c\nd" R)) == 1);
	CHECK(json_integer_value(json_object_get(j, "")) == 2);
	json_decref(j);

	/* Around the 64 bytes put_key copies in one pass, plain and with an escape past them. */
	for (size_t n = 62; n <= 67; n++) {
		char key[80], want[128];

		memset(key, 'k', n);
		key[n] = '\0';
		jw_reset(&w);
		jw_obj_open(&w, NULL);
		jw_u64(&w, key, n);
		jw_obj_close(&w);
		snprintf(want, sizeof(want), "{\"%s\":%zu}", key, n);
		check_output(&w, want);
		key[n - 1] = '"';
		jw_reset(&w);
		jw_obj_open(&w, NULL);
		jw_u64(&w, key, n);
		jw_obj_close(&w);
		snprintf(want, sizeof(want), "{\"%.*s\\\"\":%zu}", (int)n - 1, key, n);
		check_output(&w, want);
	}
	jw_free(&w);
}

/* jw_strv: pieces escaped one by one into one string; a sequence split between pieces is
 * replaced, as documented. */
static void test_pieces(void)
{
	const struct jw_piece pieces[] = {{"a\"", 2},  {"", 0},     {NULL, 0}, {"\xc3\xa9", 2},
	                                  {"\xc3", 1}, {"\xa9", 1}, {"\n", 1}};
	struct jw w;

	jw_init(&w);
	jw_obj_open(&w, NULL);
	jw_strv(&w, "v", pieces, sizeof(pieces) / sizeof(pieces[0]));
	jw_strv(&w, "none", pieces, 0);
	jw_obj_close(&w);
	check_output(&w, "{\"v\":\"a\\\"\xc3\xa9" R R "\\n\",\"none\":\"\"}");
	jw_free(&w);
}

/* Writing directly: literals and values, then the checked calls carrying on in the same object. */
static void test_direct(void)
{
	const struct jw_piece pieces[] = {{"a", 1}, {"\"", 1}};
	struct jw w;

	jw_init(&w);
	jw_lit(&w, "{\"s\":");
	jw_val_str(&w, "x\ny", 3);
	jw_lit(&w, ",\"c\":");
	jw_val_cstr(&w, NULL);
	jw_lit(&w, ",\"v\":");
	jw_val_strv(&w, pieces, 2);
	jw_lit(&w, ",\"n\":");
	jw_val_name(&w, "ipv4");
	jw_lit(&w, ",\"ip\":");
	jw_val_plain(&w, "::1x", 3);
	jw_lit(&w, ",\"u\":[");
	jw_val_u64(&w, 0);
	jw_lit(&w, ",");
	jw_val_u64(&w, 9);
	jw_lit(&w, ",");
	jw_val_u64(&w, 10);
	jw_lit(&w, ",");
	jw_val_u64(&w, 99);
	jw_lit(&w, ",");
	jw_val_u64(&w, 100);
	jw_lit(&w, ",");
	jw_val_u64(&w, UINT64_MAX);
	jw_lit(&w, "],\"b\":");
	jw_val_bool(&w, false);
	jw_lit(&w, ",\"t\":");
	jw_val_time(&w, 1795315404123456789u);
	jw_resume_object(&w);
	jw_u64(&w, "checked", 1);
	jw_obj_close(&w);
	check_output(&w,
	             "{\"s\":\"x\\ny\",\"c\":null,\"v\":\"a\\\"\",\"n\":\"ipv4\",\"ip\":\"::1\","
	             "\"u\":[0,9,10,99,100,18446744073709551615],\"b\":false,"
	             "\"t\":\"2026-11-22T02:43:24.123456789Z\",\"checked\":1}");

	/* Only a top-level object the buffer holds can be resumed. */
	jw_reset(&w);
	jw_lit(&w, "[1");
	jw_resume_object(&w);
	CHECK(jw_error(&w) == -EINVAL);
	jw_free(&w);
}

static void check_time(uint64_t unix_ns, const char *want)
{
	char quoted[40];
	struct jw w;

	jw_init(&w);
	jw_time(&w, NULL, unix_ns);
	snprintf(quoted, sizeof(quoted), "\"%s\"", want);
	check_output(&w, quoted);
	jw_free(&w);
}

static uint64_t xorshift64(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

static void test_time(void)
{
	const uint64_t year_2400 = 13569465600u; /* seconds */
	uint64_t rng = 0x9e3779b97f4a7c15u;
	time_t prev = 0;
	uint32_t prev_nanos = 0;
	struct jw w;

	check_time(0, "1970-01-01T00:00:00.000000000Z");
	check_time(1, "1970-01-01T00:00:00.000000001Z");
	check_time(1795315404123456789u, "2026-11-22T02:43:24.123456789Z");
	check_time(951868799999999999u, "2000-02-29T23:59:59.999999999Z");
	check_time(4107542400000000000u, "2100-03-01T00:00:00.000000000Z");
	check_time(UINT64_MAX, "2554-07-21T23:34:33.709551615Z");

	jw_init(&w);

	for (int i = 0; i < 200000; i++) {
		uint64_t secs = xorshift64(&rng) % year_2400;
		uint32_t nanos = (uint32_t)(xorshift64(&rng) % 1000000000u);
		time_t t = (time_t)secs;
		struct tm tm;
		char want[40];
		size_t n;

		/* Every 7th sample lands on a day boundary, where off-by-one errors live; every 3rd
		 * is in the second before it, and every 5th is the value before it, which the
		 * writer keeps formatted (its cache). */
		if (i % 7 == 0)
			t -= t % 86400;
		if (i % 3 == 1)
			t = prev;
		if (i % 5 == 2) {
			t = prev;
			nanos = prev_nanos;
		}
		prev = t;
		prev_nanos = nanos;
		gmtime_r(&t, &tm);
		n = strftime(want, sizeof(want), "\"%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(want + n, sizeof(want) - n, ".%09" PRIu32 "Z\"", nanos);

		jw_reset(&w);
		jw_time(&w, NULL, (uint64_t)t * 1000000000u + nanos);
		if (strcmp(w.buf, want) != 0) {
			CHECK_STR(w.buf, want);
			break;
		}
	}
	jw_free(&w);
}

static void test_misuse(void)
{
	struct jw w;
	size_t len;

	jw_init(&w);
	for (int i = 0; i < JW_MAX_DEPTH; i++)
		jw_arr_open(&w, NULL);
	CHECK(jw_error(&w) == 0);
	len = w.len;
	jw_arr_open(&w, NULL);
	CHECK(jw_error(&w) == -EINVAL);
	for (int i = 0; i < JW_MAX_DEPTH; i++)
		jw_arr_close(&w);
	jw_u64(&w, NULL, 1);
	jw_raw(&w, "x", 1);
	CHECK(jw_error(&w) == -EINVAL);
	CHECK_EQ_U64(w.len, len);

	/* The deepest nesting allowed is valid JSON. */
	jw_reset(&w);
	for (int i = 0; i < JW_MAX_DEPTH; i++)
		jw_obj_open(&w, i ? "k" : NULL);
	for (int i = 0; i < JW_MAX_DEPTH; i++)
		jw_obj_close(&w);
	CHECK(jw_error(&w) == 0);
	json_decref(parse(&w));

	jw_reset(&w);
	jw_u64(&w, "key", 1);
	CHECK(jw_error(&w) == -EINVAL); /* key at top level */

	jw_reset(&w);
	jw_arr_open(&w, NULL);
	jw_str(&w, "key", "v");
	CHECK(jw_error(&w) == -EINVAL); /* key inside an array */

	jw_reset(&w);
	jw_obj_open(&w, NULL);
	jw_bool(&w, NULL, true);
	CHECK(jw_error(&w) == -EINVAL); /* no key inside an object */

	jw_reset(&w);
	jw_obj_open(&w, NULL);
	jw_arr_open(&w, NULL);
	CHECK(jw_error(&w) == -EINVAL); /* a container without a key inside an object */

	jw_reset(&w);
	jw_obj_close(&w);
	CHECK(jw_error(&w) == -EINVAL); /* nothing open */

	jw_reset(&w);
	jw_arr_open(&w, NULL);
	jw_obj_close(&w);
	CHECK(jw_error(&w) == -EINVAL);

	jw_reset(&w);
	jw_obj_open(&w, NULL);
	jw_arr_close(&w);
	CHECK(jw_error(&w) == -EINVAL);

	jw_reset(&w);
	jw_u64(&w, NULL, 5);
	check_output(&w, "5");
	jw_free(&w);
}

static void test_out_of_memory(void)
{
	struct jw w;

	jw_init(&w);
	jw_obj_open(&w, NULL);
	/* A size no buffer can double to: fails before the source is read, which is why a one-byte
	 * source is safe here. */
	jw_raw(&w, "x", SIZE_MAX / 2);
	CHECK(jw_error(&w) == -ENOMEM);
	CHECK(w.buf == NULL && w.len == 0);
	jw_u64(&w, "a", 1);
	jw_obj_close(&w);
	CHECK(jw_error(&w) == -ENOMEM);
	CHECK_EQ_U64(w.len, 0);

	jw_reset(&w);
	CHECK(jw_error(&w) == 0);
	jw_obj_open(&w, NULL);
	jw_u64(&w, "a", 1);
	jw_obj_close(&w);
	check_output(&w, "{\"a\":1}");
	jw_free(&w);
}

static void test_growth_and_reset(void)
{
	const size_t n = 1 << 20;
	char *big = malloc(n);
	struct jw w;

	CHECK(big != NULL);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)(i % 61 == 60 ? '\n' : 'a' + i % 26);
	jw_init(&w);
	jw_arr_open(&w, NULL);
	jw_strn(&w, NULL, big, n);
	jw_arr_close(&w);
	CHECK(jw_error(&w) == 0);
	CHECK(w.cap > n && w.len < w.cap && w.buf[w.len] == '\0');

	json_t *j = parse(&w);

	CHECK(string_is(json_array_get(j, 0), big, n));
	json_decref(j);

	char *buf = w.buf;
	size_t cap = w.cap;

	jw_reset(&w);
	CHECK(w.buf == buf && w.cap == cap && w.len == 0 && w.buf[0] == '\0');
	jw_free(&w);
	free(big);
}

/* Reference replacement of ill-formed UTF-8, by arithmetic on code points rather than by the
 * writer's byte ranges: the first k bytes of a sequence belong to one maximal subpart if some
 * completion of them is the shortest encoding of a Unicode scalar value. */
static size_t ref_seq_len(uint8_t lead)
{
	if (lead >= 0xc0 && lead < 0xe0)
		return 2;
	if (lead >= 0xe0 && lead < 0xf0)
		return 3;
	if (lead >= 0xf0 && lead < 0xf8)
		return 4;
	return 0;
}

static bool ref_prefix_completes(const uint8_t *p, size_t k, size_t len)
{
	static const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
	uint32_t bits = p[0] & (0x7fu >> len);

	for (size_t i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return false;
		bits = bits << 6 | (p[i] & 0x3f);
	}

	uint32_t shift = 6 * (uint32_t)(len - k);
	uint32_t lo = bits << shift, hi = lo | ((1u << shift) - 1);

	if (lo < min_cp[len])
		lo = min_cp[len];
	if (hi > 0x10ffff)
		hi = 0x10ffff;
	return lo <= hi && !(lo >= 0xd800 && hi <= 0xdfff);
}

/* Writes the expected decoded string to out (room for 3 * n bytes); returns its length. */
static size_t ref_replace(const uint8_t *s, size_t n, uint8_t *out, bool *valid)
{
	size_t o = 0;

	*valid = true;
	for (size_t i = 0; i < n;) {
		size_t len = ref_seq_len(s[i]);
		size_t k = 0;

		if (s[i] < 0x80) {
			out[o++] = s[i++];
			continue;
		}
		while (k < len && i + k < n && ref_prefix_completes(s + i, k + 1, len))
			k++;
		if (len && k == len) {
			memcpy(out + o, s + i, len);
			o += len;
			i += len;
			continue;
		}
		memcpy(out + o, R, 3);
		o += 3;
		i += k ? k : 1;
		*valid = false;
	}
	return o;
}

/* Random strings built from pieces that make ill-formed UTF-8 likely but not certain. */
static size_t random_string(uint64_t *rng, uint8_t *s, size_t cap)
{
	static const char *const pieces[] = {
	        "plain text",
	        "\"",
	        "\\",
	        "\x00",
	        "\x1f",
	        "\x7f",
	        "\xc3\xa9",
	        "\xe2\x82\xac",
	        "\xf0\x9f\x98\x80",
	        "\xed\x9f\xbf",
	        "\xf4\x8f\xbf\xbf",
	};
	size_t n = 0, count = xorshift64(rng) % 24;

	for (size_t i = 0; i < count; i++) {
		uint64_t r = xorshift64(rng);

		if (r % 3 == 0 && n < cap) {
			s[n++] = (uint8_t)(r >> 8); /* any byte */
			continue;
		}

		const char *piece = pieces[(r >> 8) % (sizeof(pieces) / sizeof(pieces[0]))];
		size_t len = piece[0] ? strlen(piece) : 1;

		/* Sometimes only the start of a piece: truncated sequences. */
		if ((r >> 16) % 5 == 0)
			len = (r >> 24) % len + 1;
		if (n + len > cap)
			break;
		memcpy(s + n, piece, len);
		n += len;
	}
	return n;
}

static void test_random_strings(void)
{
	uint64_t rng = 0x2545f4914f6cdd1du;
	uint8_t in[512], want[3 * sizeof(in)];
	size_t valid_count = 0;
	struct jw w;

	jw_init(&w);
	for (int iter = 0; iter < 5000; iter++) {
		bool valid;
		size_t n = random_string(&rng, in, sizeof(in));
		size_t want_len = ref_replace(in, n, want, &valid);
		json_t *j = write_and_parse(&w, in, n);
		bool ok = string_is(j, want, want_len) && (!valid || string_is(j, in, n));

		for (size_t i = 0; i < w.len; i++)
			ok = ok && (uint8_t)w.buf[i] >= 0x20 && w.buf[i] != 0x7f;
		CHECK(ok);
		if (!ok) {
			fprintf(stderr, "  iteration %d, input:", iter);
			for (size_t i = 0; i < n; i++)
				fprintf(stderr, " %02x", in[i]);
			fprintf(stderr, "\n");
		}
		valid_count += valid;
		json_decref(j);
	}
	/* Both kinds must be well represented for the loop to mean anything. */
	CHECK(valid_count > 500 && valid_count < 4500);
	jw_free(&w);
}

int main(void)
{
	test_document();
	test_top_level_sequence();
	test_integers();
	test_escapes();
	test_valid_utf8();
	test_invalid_utf8();
	test_keys();
	test_pieces();
	test_time();
	test_direct();
	test_misuse();
	test_out_of_memory();
	test_growth_and_reset();
	test_random_strings();
	return check_report("test_json_writer");
}
