/* exchange_loop: HTTP/1.1 exchanges over one keep-alive TCP connection on loopback, client and
 * server in this one thread, timed with clock_gettime(CLOCK_MONOTONIC). Each exchange is four
 * followed syscalls (the client's write and read, the server's read and write) and two events
 * when the collector follows syscalls (the client's view and the server's), with no scheduler
 * or epoll in between: the cost of capture per exchange, with little else.
 *
 * Usage: exchange_loop [EXCHANGES] (default 200000)
 * Prints one line: exchanges=N total=T seconds=S ns_per_exchange=X (total: with the warm-up,
 * which the collector sees too)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char request[] = "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "User-Agent: exchange_loop\r\nAccept: */*\r\n\r\n";
static char response[768];
static size_t response_len;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* A connected pair on 127.0.0.1: *client and *server. */
static void connect_pair(int *client, int *server)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int one = 1, l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &len))
		die("listen");
	*client = socket(AF_INET, SOCK_STREAM, 0);
	if (*client < 0 || connect(*client, (struct sockaddr *)&a, sizeof(a)))
		die("connect");
	*server = accept(l, NULL, NULL);
	if (*server < 0)
		die("accept");
	close(l);
	setsockopt(*client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(*server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void exchanges(int client, int server, long n)
{
	char buf[4096];

	for (long i = 0; i < n; i++) {
		size_t got = 0;

		if (write(client, request, sizeof(request) - 1) != sizeof(request) - 1)
			die("client write");
		while (got < sizeof(request) - 1) {
			ssize_t r = read(server, buf, sizeof(buf));

			if (r <= 0)
				die("server read");
			got += (size_t)r;
		}
		if (write(server, response, response_len) != (ssize_t)response_len)
			die("server write");
		for (got = 0; got < response_len;) {
			ssize_t r = read(client, buf, sizeof(buf));

			if (r <= 0)
				die("client read");
			got += (size_t)r;
		}
	}
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	const size_t body = 612; /* nginx's default index.html */
	int client, server, head;
	double t0, t1;

	if (n <= 0) {
		fprintf(stderr, "usage: exchange_loop [EXCHANGES > 0]\n");
		return 2;
	}
	head = snprintf(response, sizeof(response),
	                "HTTP/1.1 200 OK\r\nServer: exchange_loop\r\nContent-Type: text/html\r\n"
	                "Content-Length: %zu\r\n\r\n",
	                body);
	memset(response + head, 'x', body);
	response_len = (size_t)head + body;
	connect_pair(&client, &server);
	exchanges(client, server, n / 20 + 1); /* warm up */
	t0 = now_s();
	exchanges(client, server, n);
	t1 = now_s();
	printf("exchanges=%ld total=%ld seconds=%.6f ns_per_exchange=%.2f\n", n, n + n / 20 + 1,
	       t1 - t0, (t1 - t0) * 1e9 / n);
	return 0;
}
