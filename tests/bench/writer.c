/* writer: appends a sample file's bytes to an output file at a fixed byte rate, nothing else.
 *
 * overhead.py's write floor: run beside nginx at the rate the collector wrote its events, it
 * measures what writing that NDJSON costs the machine, which any collector producing those
 * events pays whatever its capture and encoding cost.
 *
 * Every millisecond it writes what is due in CHUNK-sized write(2)s (the collector's sinks hand
 * the kernel batches of this order), cycling through the sample. Stops on SIGINT or SIGTERM and
 * prints bytes=N.
 *
 * Usage: writer -s SAMPLE -o OUTPUT -r BYTES_PER_SECOND
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK      (64 * 1024)
#define NS_PER_SEC 1000000000ull

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* The sample, repeated until it fills at least one chunk. */
static char *load_sample(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	size_t n, have = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0) {
		fprintf(stderr, "writer: %s: %s\n", path, fd < 0 ? strerror(errno) : "empty");
		exit(1);
	}
	n = (size_t)st.st_size;
	buf = malloc(n < CHUNK ? 2 * CHUNK : n);
	if (!buf)
		exit(1);
	while (have < n) {
		ssize_t r = read(fd, buf + have, n - have);

		if (r <= 0) {
			fprintf(stderr, "writer: reading %s failed\n", path);
			exit(1);
		}
		have += (size_t)r;
	}
	close(fd);
	while (have < CHUNK) {
		memcpy(buf + have, buf, n);
		have += n;
	}
	*len = have;
	return buf;
}

int main(int argc, char **argv)
{
	const char *sample = NULL, *output = NULL;
	double rate = 0;
	size_t len, pos = 0;
	uint64_t t0, written = 0;
	char *buf;
	int c, fd;

	while ((c = getopt(argc, argv, "s:o:r:")) != -1) {
		switch (c) {
		case 's':
			sample = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'r':
			rate = atof(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (!sample || !output || rate <= 0)
		goto usage;
	buf = load_sample(sample, &len);
	fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (fd < 0) {
		fprintf(stderr, "writer: %s: %s\n", output, strerror(errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	t0 = now_ns();
	while (!stop) {
		double due = (double)(now_ns() - t0) / NS_PER_SEC * rate;
		struct timespec ms = {0, 1000000};

		while (!stop && (double)written < due) {
			size_t n = len - pos < CHUNK ? len - pos : CHUNK;
			ssize_t w = write(fd, buf + pos, n);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				fprintf(stderr, "writer: write: %s\n", strerror(errno));
				return 1;
			}
			written += (uint64_t)w;
			pos = (pos + (size_t)w) % len;
		}
		nanosleep(&ms, NULL);
	}
	printf("bytes=%llu\n", (unsigned long long)written);
	return 0;
usage:
	fprintf(stderr, "usage: writer -s SAMPLE -o OUTPUT -r BYTES_PER_SECOND\n");
	return 2;
}
