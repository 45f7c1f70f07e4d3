/* The pipeline with real file sinks, under ASan: encoded events share 64 KiB chunks that the last
 * sink to finish frees, and the capture thread stages them 64 at a time. Every event must arrive
 * once, in order, in every sink that had room; events larger than a chunk take their own; a sink
 * whose queue is too small drops and counts, and queued + dropped adds up to what was submitted.
 * A chunk freed too early or never is ASan's to report. */
#include <jansson.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "check.h"
#include "pipeline.h"
#include "sink.h"

#define EVENTS 5000

/* The request target of event i: mostly short, every 500th larger than a chunk. */
static size_t path_len(int i)
{
	return i % 500 == 7 ? 70000 + (size_t)i : 10 + (size_t)(i % 300);
}

static void submit(struct pipeline *p, int i, char *buf)
{
	size_t n = path_len(i);
	struct http_head rq, rs;
	struct ev_process proc = {.pid = 42, .tid = 43, .name = "app", .thread_name = "app"};
	struct l7_event ev = {.dataset = L7_DATASET_HTTP,
	                      .ts_start = 1764650000000000000ull + (uint64_t)i,
	                      .ts_end = 1764650000000001000ull + (uint64_t)i,
	                      .source = L7_SOURCE_SYSCALL,
	                      .status = "ok",
	                      .role = "server",
	                      .process = &proc};
	int len = snprintf(buf, 128, "GET /%d/", i);
	static const char rsp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

	memset(buf + len, 'p', n);
	len += (int)n;
	len += sprintf(buf + len, " HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(http_parse_request(buf, (size_t)len, false, &rq) > 0);
	CHECK(http_parse_response(rsp, sizeof(rsp) - 1, false, &rs) > 0);
	ev.tuple.family = AF_INET;
	ev.tuple.proto = IPPROTO_TCP;
	ev.tuple.sport = 40000;
	ev.tuple.dport = 80;
	ev.http.req = &rq;
	ev.http.resp = &rs;
	pipeline_submit(p, &ev);
}

static uint64_t counter(const struct stats_builder *b, const char *group, const char *name)
{
	for (uint32_t i = 0; i < b->n; i++)
		if (strcmp(b->e[i].group, group) == 0 && strcmp(b->e[i].name, name) == 0)
			return b->e[i].value;
	CHECK(!"counter missing");
	return 0;
}

/* Every line of path is event i's, in order, from first on; returns the number of lines. */
static int check_file(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t cap = 0;
	char *line = NULL;
	int n = 0, last = -1;

	CHECK(f != NULL);
	if (!f)
		return 0;
	while (getline(&line, &cap, f) > 0) {
		json_error_t err;
		json_t *j = json_loads(line, 0, &err);
		const char *url =
		        json_string_value(json_object_get(json_object_get(j, "url"), "path"));
		int i = url ? atoi(url + 1) : -1;
		char prefix[32];

		snprintf(prefix, sizeof(prefix), "/%d/", i);
		CHECK(j != NULL && i > last && strlen(url) == strlen(prefix) + path_len(i) &&
		      strncmp(url, prefix, strlen(prefix)) == 0);
		last = i;
		json_decref(j);
		n++;
	}
	free(line);
	fclose(f);
	return n;
}

/* A sink that blocks when full loses nothing at close either: the events still staged when the
 * pipeline closes wait for room in its 8-event queue, as they would have during capture (they
 * were dropped once, the last stats event among them). */
static void test_block_close(const char *dir, char *buf)
{
	struct encode_opts enc = {"host", false};
	char spec[300], path[256];
	struct pipeline *p = pipeline_new(&enc);

	snprintf(path, sizeof(path), "%s/block.ndjson", dir);
	snprintf(spec, sizeof(spec), "file:%s?queue=8&when_full=block", path);
	CHECK(p != NULL && pipeline_add_sink(p, spec, false) == 0 && pipeline_start(p) == 0);
	for (int i = 0; i < 1000; i++)
		submit(p, i, buf);
	CHECK(pipeline_close(p, 10000000000ull) == 0);
	CHECK(check_file(path) == 1000);
}

/* The file and stdout sinks' writev pieces: a record that follows the last piece in memory
 * extends it, any other takes a piece of its own while there is one. */
static void test_iov_add(void)
{
	static const char mem[] = "aaa\nbb\nc\nddd\n";
	struct iovec iov[2];
	int k = 0;

	CHECK(sink_iov_add(iov, &k, 2, mem, 4) && k == 1);
	CHECK(sink_iov_add(iov, &k, 2, mem + 4, 3) && k == 1 && iov[0].iov_len == 7);
	CHECK(sink_iov_add(iov, &k, 2, mem + 9, 2) && k == 2); /* "c\n" skipped: a gap */
	CHECK(sink_iov_add(iov, &k, 2, mem + 11, 4) && k == 2 && iov[1].iov_len == 6);
	CHECK(!sink_iov_add(iov, &k, 2, mem + 7, 2) && k == 2 && iov[0].iov_len == 7);
	CHECK(iov[0].iov_base == mem && iov[1].iov_base == mem + 9);
}

int main(void)
{
	char dir[] = "/tmp/test_pipeline.XXXXXX", spec[3][256], path[2][256];
	struct encode_opts enc = {"host", false};
	struct stats_builder b = {0};
	char *buf = malloc(128 + 80000 + 64);
	struct pipeline *p;

	CHECK(mkdtemp(dir) != NULL && buf != NULL);
	snprintf(path[0], sizeof(path[0]), "%s/all.ndjson", dir);
	snprintf(path[1], sizeof(path[1]), "%s/few.ndjson", dir);
	snprintf(spec[0], sizeof(spec[0]), "file:%s?when_full=block", path[0]);
	snprintf(spec[1], sizeof(spec[1]), "file:%s?queue=8&when_full=drop", path[1]);
	snprintf(spec[2], sizeof(spec[2]), "file:%s/text.log?format=text", dir);
	p = pipeline_new(&enc);
	CHECK(p != NULL);
	for (int s = 0; s < 3; s++)
		CHECK(pipeline_add_sink(p, spec[s], false) == 0);
	CHECK(pipeline_start(p) == 0);
	for (int i = 0; i < EVENTS; i++) {
		submit(p, i, buf);
		if (i % 1000 == 999)
			pipeline_kick(p);
	}
	pipeline_stats_add(p, &b);
	CHECK(counter(&b, "sink_file", "queued") == EVENTS);
	CHECK(counter(&b, "sink_file_2", "queued") +
	              counter(&b, "sink_file_2", "dropped_queue_full") ==
	      EVENTS);
	CHECK(pipeline_close(p, 10000000000ull) == 0);

	CHECK(check_file(path[0]) == EVENTS);
	/* The small queue kept what fitted, in order, and dropped the rest. */
	int few = check_file(path[1]);

	CHECK(few > 0 && few <= EVENTS);
	fprintf(stderr, "test_pipeline: the 8-event queue delivered %d of %d\n", few, EVENTS);
	test_block_close(dir, buf);
	test_iov_add();
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
	free(buf);
	return check_report("test_pipeline");
}
