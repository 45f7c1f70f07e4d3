/* Minimal test support: CHECK macros that report and count failures, and guarded copies of inputs
 * that end exactly at an unreadable page, so that a parser reading one byte too far crashes under
 * test instead of passing by luck (the picohttpparser technique). */
#ifndef L7_TEST_CHECK_H
#define L7_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int check_failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

#define CHECK_EQ_U64(a, b)                                                                         \
	do {                                                                                       \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                   \
		if (a_ != b_) {                                                                    \
			fprintf(stderr,                                                            \
			        "%s:%d: CHECK failed: %s == %s (%" PRIu64 " != %" PRIu64 ")\n",    \
			        __FILE__, __LINE__, #a, #b, a_, b_);                               \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                           \
			fprintf(stderr, "%s:%d: CHECK failed: %s == %s (\"%s\" != \"%s\")\n",      \
			        __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)",                    \
			        b_ ? b_ : "(null)");                                               \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

/* Ends a test program: prints a summary, exit status 1 on any failure. */
static inline int check_report(const char *name)
{
	if (check_failures) {
		fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
		return 1;
	}
	printf("%s: ok\n", name);
	return 0;
}

/* A copy of p[0..n) placed so that its last byte is the last byte before a PROT_NONE page. Free
 * with guarded_free(). */
static inline void *guarded_copy(const void *p, size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t span = (n + page - 1) / page * page + page;
	uint8_t *base =
	        mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (base == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	if (mprotect(base + span - page, page, PROT_NONE) != 0) {
		perror("mprotect");
		exit(2);
	}
	uint8_t *dst = base + span - page - n;
	memcpy(dst, p, n);
	return dst;
}

static inline void guarded_free(void *p, size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t span = (n + page - 1) / page * page + page;
	uint8_t *base = (uint8_t *)p + n + page - span;

	munmap(base, span);
}

#endif
