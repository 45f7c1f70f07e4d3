/* pipe_syscall: the cost of a write(1 byte) + read(1 byte) pair on a pipe, timed with
 * clock_gettime(CLOCK_MONOTONIC). A stand-in for "any process making syscalls": once the
 * collector attaches syscall probes, each pair here goes through them (and should leave them
 * early, since a pipe is nothing the collector follows).
 *
 * Usage: pipe_syscall [ITERATIONS] (default 2000000)
 * Prints one line: iterations=N seconds=S ns_per_pair=X
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pairs(int fds[2], long n)
{
	char c = 'x';

	for (long i = 0; i < n; i++) {
		if (write(fds[1], &c, 1) != 1 || read(fds[0], &c, 1) != 1) {
			perror("pipe_syscall");
			exit(1);
		}
	}
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000000;
	int fds[2];
	double t0, t1;

	if (n <= 0 || pipe(fds) != 0) {
		fprintf(stderr, "usage: pipe_syscall [ITERATIONS > 0]\n");
		return 2;
	}
	pairs(fds, n / 20 + 1); /* warm up: caches, branch predictors, CPU frequency */
	t0 = now_s();
	pairs(fds, n);
	t1 = now_s();
	printf("iterations=%ld seconds=%.6f ns_per_pair=%.2f\n", n, t1 - t0, (t1 - t0) * 1e9 / n);
	return 0;
}
