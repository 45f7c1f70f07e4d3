/* encode_json against whole expected documents, compared by jansson (json_equal: every member,
 * nothing more, any order): an HTTP event with every optional field, one from HTTP/1.0 without a
 * Host on IPv6 and without a response, DNS with answers and EDNS and DNS unanswered, and a stats
 * event. What an integration test cannot reach (container ids, header joining and redaction,
 * url.full from the server's address) is pinned here, and any rewrite of the encoder must give
 * the same documents. */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "check.h"
#include "dns_build.h"
#include "encode.h"

#define T0 1764650000123456789ull /* 2025-12-02T04:33:20.123456789Z */

static void check_json(const struct l7_event *ev, bool headers, const char *want_text)
{
	struct encode_opts o = {"node-1", headers};
	json_error_t err;
	json_t *want = json_loads(want_text, 0, &err), *got;
	struct jw w;

	if (!want)
		fprintf(stderr, "expected document: %s at %d\n", err.text, err.position);
	jw_init(&w);
	CHECK(encode_json(&w, ev, &o) == 0);
	CHECK(w.len > 0 && w.buf[w.len - 1] == '\n');
	got = json_loadb(w.buf, w.len, 0, &err);
	CHECK(want && got && json_equal(want, got));
	if (got && want && !json_equal(want, got))
		fprintf(stderr, "encoded: %s\n", w.buf);
	json_decref(want);
	json_decref(got);
	jw_free(&w);
}

static void tuple(struct l7_event *ev, int family, const char *src, uint16_t sport, const char *dst,
                  uint16_t dport, int proto)
{
	ev->tuple.family = (uint8_t)family;
	ev->tuple.proto = (uint8_t)proto;
	inet_pton(family, src, ev->tuple.saddr);
	inet_pton(family, dst, ev->tuple.daddr);
	ev->tuple.sport = sport;
	ev->tuple.dport = dport;
}

static void test_http_full(void)
{
	static const char rq_text[] =
	        "POST /a/b?x=1&y=2 HTTP/1.1\r\nHost: example.test:8443\r\nUser-Agent: curl/8.1\r\n"
	        "Referer: http://ref.test/\r\nCookie: secret=1\r\nX-Forwarded-For: 192.0.2.1\r\n"
	        "Content-Type: application/json; charset=utf-8\r\nx-forwarded-for: 192.0.2.2\r\n"
	        "\r\n";
	static const char rs_text[] = "HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\n"
	                              "Set-Cookie: s=2\r\n\r\n";
	struct http_head rq, rs;
	struct ev_process proc = {.pid = 4242,
	                          .tid = 4243,
	                          .uid = 1000,
	                          .gid = 1001,
	                          .name = "curl",
	                          .thread_name = "curl-worker",
	                          .executable = "/usr/bin/curl",
	                          .container_id = "0123456789ab"};
	struct l7_event ev = {.dataset = L7_DATASET_HTTP,
	                      .ts_start = T0,
	                      .ts_end = T0 + 1500,
	                      .client_bytes = 300,
	                      .server_bytes = 90,
	                      .community_id = "1:abc=",
	                      .source = L7_SOURCE_SYSCALL,
	                      .interface = "eth0",
	                      .truncated = true,
	                      .status = "ok",
	                      .role = "client",
	                      .process = &proc};

	CHECK(http_parse_request(rq_text, sizeof(rq_text) - 1, false, &rq) > 0);
	CHECK(http_parse_response(rs_text, sizeof(rs_text) - 1, false, &rs) > 0);
	tuple(&ev, AF_INET, "10.1.2.3", 40000, "10.9.8.7", 8443, IPPROTO_TCP);
	ev.http = (struct ev_http){&rq, &rs, 300, 40, 90, 12};
	check_json(&ev, true,
	           "{"
	           "\"@timestamp\":\"2025-12-02T04:33:20.123456789Z\",\"schema_version\":\"1.0.0\","
	           "\"event\":{\"kind\":\"event\",\"category\":[\"network\",\"web\"],"
	           "\"type\":[\"protocol\"],\"dataset\":\"http\","
	           "\"start\":\"2025-12-02T04:33:20.123456789Z\","
	           "\"end\":\"2025-12-02T04:33:20.123458289Z\",\"duration\":1500},"
	           "\"host\":{\"name\":\"node-1\"},"
	           "\"network\":{\"transport\":\"tcp\",\"type\":\"ipv4\",\"protocol\":\"http\","
	           "\"community_id\":\"1:abc=\",\"bytes\":390},"
	           "\"source\":{\"ip\":\"10.1.2.3\",\"port\":40000,\"bytes\":300},"
	           "\"destination\":{\"ip\":\"10.9.8.7\",\"port\":8443,\"bytes\":90},"
	           "\"client\":{\"ip\":\"10.1.2.3\",\"port\":40000,\"bytes\":300},"
	           "\"server\":{\"ip\":\"10.9.8.7\",\"port\":8443,\"bytes\":90},"
	           "\"process\":{\"pid\":4242,\"name\":\"curl\",\"executable\":\"/usr/bin/curl\","
	           "\"thread\":{\"id\":4243,\"name\":\"curl-worker\"},\"user\":{\"id\":\"1000\"},"
	           "\"group\":{\"id\":\"1001\"}},"
	           "\"container\":{\"id\":\"0123456789ab\"},"
	           "\"http\":{\"version\":\"1.1\","
	           "\"request\":{\"method\":\"POST\",\"bytes\":300,\"body\":{\"bytes\":40},"
	           "\"mime_type\":\"application/json\",\"referrer\":\"http://ref.test/\","
	           "\"headers\":{\"host\":\"example.test:8443\",\"user-agent\":\"curl/8.1\","
	           "\"referer\":\"http://ref.test/\",\"cookie\":\"[REDACTED]\","
	           "\"x-forwarded-for\":\"192.0.2.1, 192.0.2.2\","
	           "\"content-type\":\"application/json; charset=utf-8\"}},"
	           "\"response\":{\"status_code\":201,\"bytes\":90,\"body\":{\"bytes\":12},"
	           "\"mime_type\":\"text/plain\",\"headers\":{\"content-type\":\"text/plain\","
	           "\"set-cookie\":\"[REDACTED]\"}}},"
	           "\"url\":{\"scheme\":\"http\",\"domain\":\"example.test\",\"port\":8443,"
	           "\"path\":\"/a/b\",\"query\":\"x=1&y=2\","
	           "\"full\":\"http://example.test:8443/a/b?x=1&y=2\"},"
	           "\"user_agent\":{\"original\":\"curl/8.1\"},"
	           "\"capture\":{\"source\":\"syscall\",\"interface\":\"eth0\",\"truncated\":true},"
	           "\"l7\":{\"status\":\"ok\",\"role\":\"client\","
	           "\"http\":{\"status_phrase\":\"Created\"}}}");
}

/* HTTP/1.0 without Host, on IPv6, no response, from the wire: url.full names the server by
 * address; no process, role, version from the request. */
static void test_http_minimal(void)
{
	static const char rq_text[] = "GET /x HTTP/1.0\r\n\r\n";
	struct http_head rq;
	struct l7_event ev = {.dataset = L7_DATASET_HTTP,
	                      .ts_start = T0,
	                      .ts_end = T0,
	                      .client_bytes = 19,
	                      .source = L7_SOURCE_SOCKET,
	                      .status = "no_response"};

	CHECK(http_parse_request(rq_text, sizeof(rq_text) - 1, false, &rq) > 0);
	tuple(&ev, AF_INET6, "2001:db8::1", 50000, "2001:db8::2", 8080, IPPROTO_TCP);
	ev.http = (struct ev_http){&rq, NULL, 19, 0, 0, 0};
	check_json(&ev, false,
	           "{"
	           "\"@timestamp\":\"2025-12-02T04:33:20.123456789Z\",\"schema_version\":\"1.0.0\","
	           "\"event\":{\"kind\":\"event\",\"category\":[\"network\",\"web\"],"
	           "\"type\":[\"protocol\"],\"dataset\":\"http\","
	           "\"start\":\"2025-12-02T04:33:20.123456789Z\","
	           "\"end\":\"2025-12-02T04:33:20.123456789Z\",\"duration\":0},"
	           "\"host\":{\"name\":\"node-1\"},"
	           "\"network\":{\"transport\":\"tcp\",\"type\":\"ipv6\",\"protocol\":\"http\","
	           "\"bytes\":19},"
	           "\"source\":{\"ip\":\"2001:db8::1\",\"port\":50000,\"bytes\":19},"
	           "\"destination\":{\"ip\":\"2001:db8::2\",\"port\":8080,\"bytes\":0},"
	           "\"client\":{\"ip\":\"2001:db8::1\",\"port\":50000,\"bytes\":19},"
	           "\"server\":{\"ip\":\"2001:db8::2\",\"port\":8080,\"bytes\":0},"
	           "\"http\":{\"version\":\"1.0\","
	           "\"request\":{\"method\":\"GET\",\"bytes\":19,\"body\":{\"bytes\":0}}},"
	           "\"url\":{\"scheme\":\"http\",\"port\":8080,\"path\":\"/x\","
	           "\"full\":\"http://[2001:db8::2]:8080/x\"},"
	           "\"capture\":{\"source\":\"socket\",\"truncated\":false},"
	           "\"l7\":{\"status\":\"no_response\"}}");
}

/* Both DNS documents up to the source endpoint; then network.bytes and source.bytes. */
#define DNS_HEAD                                                                                   \
	"{\"@timestamp\":\"2025-12-02T04:33:20.123456789Z\",\"schema_version\":\"1.0.0\","         \
	"\"event\":{\"kind\":\"event\",\"category\":[\"network\"],\"type\":[\"protocol\"],"        \
	"\"dataset\":\"dns\",\"start\":\"2025-12-02T04:33:20.123456789Z\","                        \
	"\"end\":\"2025-12-02T04:33:20.123656789Z\",\"duration\":200000},"                         \
	"\"host\":{\"name\":\"node-1\"},"                                                          \
	"\"network\":{\"transport\":\"udp\",\"type\":\"ipv4\",\"protocol\":\"dns\",\"bytes\":%zu}" \
	","                                                                                        \
	"\"source\":{\"ip\":\"10.0.0.1\",\"port\":53000,\"bytes\":%zu},"

static void test_dns(void)
{
	uint8_t q[512], r[512];
	size_t qn = dns_build(q, 0x1234, 0x0100, "h.example.test", 0);
	size_t rn = dns_build(r, 0x1234, 0x8180, "h.example.test", 2);
	static struct dns_msg query, resp;
	struct l7_event ev = {.dataset = L7_DATASET_DNS,
	                      .ts_start = T0,
	                      .ts_end = T0 + 200000,
	                      .client_bytes = qn,
	                      .server_bytes = rn,
	                      .source = L7_SOURCE_SOCKET,
	                      .status = "ok"};

	CHECK(dns_parse(q, qn, false, &query) == 0);
	CHECK(dns_parse(r, rn, false, &resp) == 0);
	query.has_edns = true; /* as an OPT record would have set them */
	query.edns_udp_size = 1232;
	query.edns_do = true;
	tuple(&ev, AF_INET, "10.0.0.1", 53000, "10.0.0.53", 53, IPPROTO_UDP);
	ev.dns = (struct ev_dns){&query, &resp};
	char want[4096];

	snprintf(want, sizeof(want),
	         DNS_HEAD
	         "\"destination\":{\"ip\":\"10.0.0.53\",\"port\":53,\"bytes\":%zu},"
	         "\"client\":{\"ip\":\"10.0.0.1\",\"port\":53000,\"bytes\":%zu},"
	         "\"server\":{\"ip\":\"10.0.0.53\",\"port\":53,\"bytes\":%zu},"
	         "\"dns\":{\"type\":\"answer\",\"id\":\"4660\",\"op_code\":\"QUERY\","
	         "\"header_flags\":[\"RD\",\"RA\"],\"response_code\":\"NOERROR\","
	         "\"question\":{\"name\":\"h.example.test\",\"type\":\"A\",\"class\":\"IN\"},"
	         "\"answers\":[{\"name\":\"h.example.test\",\"type\":\"A\",\"class\":\"IN\","
	         "\"ttl\":%u,\"data\":\"192.0.2.1\"},{\"name\":\"h.example.test\",\"type\":\"A\","
	         "\"class\":\"IN\",\"ttl\":%u,\"data\":\"192.0.2.2\"}],"
	         "\"resolved_ip\":[\"192.0.2.1\",\"192.0.2.2\"]},"
	         "\"capture\":{\"source\":\"socket\",\"truncated\":false},"
	         "\"l7\":{\"status\":\"ok\",\"dns\":{\"query\":{\"edns\":{\"udp_size\":1232,"
	         "\"do\":true}},\"answers_dropped\":false}}}",
	         qn + rn, qn, rn, qn, rn, resp.answers[0].ttl, resp.answers[1].ttl);
	check_json(&ev, false, want);

	/* Unanswered: the query's header, no answers, nothing about the response. */
	query.has_edns = false;
	ev.dns.resp = NULL;
	ev.server_bytes = 0;
	ev.status = "no_response";
	snprintf(want, sizeof(want),
	         DNS_HEAD
	         "\"destination\":{\"ip\":\"10.0.0.53\",\"port\":53,\"bytes\":0},"
	         "\"client\":{\"ip\":\"10.0.0.1\",\"port\":53000,\"bytes\":%zu},"
	         "\"server\":{\"ip\":\"10.0.0.53\",\"port\":53,\"bytes\":0},"
	         "\"dns\":{\"type\":\"query\",\"id\":\"4660\",\"op_code\":\"QUERY\","
	         "\"header_flags\":[\"RD\"],"
	         "\"question\":{\"name\":\"h.example.test\",\"type\":\"A\",\"class\":\"IN\"}},"
	         "\"capture\":{\"source\":\"socket\",\"truncated\":false},"
	         "\"l7\":{\"status\":\"no_response\",\"dns\":{}}}",
	         qn, qn, qn);
	check_json(&ev, false, want);
}

static void test_stats(void)
{
	static const struct stat_entry e[] = {
	        {"kernel", "packets", 10}, {"kernel", "kept", 4}, {"sink_file", "written", 3}};
	struct l7_event ev = {.dataset = L7_DATASET_STATS, .ts_start = T0, .ts_end = T0};

	ev.stats = (struct ev_stats){e, 3, 5000000000ull};
	check_json(&ev, false,
	           "{"
	           "\"@timestamp\":\"2025-12-02T04:33:20.123456789Z\",\"schema_version\":\"1.0.0\","
	           "\"event\":{\"kind\":\"metric\",\"dataset\":\"stats\","
	           "\"start\":\"2025-12-02T04:33:20.123456789Z\","
	           "\"end\":\"2025-12-02T04:33:20.123456789Z\",\"duration\":0},"
	           "\"host\":{\"name\":\"node-1\"},"
	           "\"l7\":{\"stats\":{\"uptime_ns\":5000000000,\"kernel\":{\"packets\":10,"
	           "\"kept\":4},"
	           "\"sink_file\":{\"written\":3}}}}");
}

int main(void)
{
	test_http_full();
	test_http_minimal();
	test_dns();
	test_stats();
	return check_report("test_encode_json");
}
