/* DNS transactions: each query paired with its response, whichever capture path saw them, and
 * reported once (DESIGN.md: "one event per transaction from whichever source saw it, with the
 * process that asked").
 *
 * Every DNS message any path sees comes here: datagrams from the wire and from the syscall
 * probes, TCP messages from both views' streams. Copies of one message (the asking process's
 * sendto, the packet on the wire, the server's recvfrom) meet in one transaction, found by
 * transport, both ports, the DNS id and the question. Addresses are left out of the key on
 * purpose: a process's view of an unconnected socket has no local address (0.0.0.0), the wire's
 * has the real one. A transaction is reported a short hold after its response arrived, so that
 * copies read from the other ring buffer still join it, and then remembered a while longer so
 * that late copies are counted, not reported again. */
#ifndef L7_DNS_TABLE_H
#define L7_DNS_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "dns_stream.h"
#include "event.h"

/* One DNS message as a capture path saw it. */
struct dns_obs {
	const uint8_t *p;
	size_t cap;                       /* bytes in p */
	size_t len;                       /* the message's true length */
	uint64_t ts_first;                /* Unix time of its first byte */
	uint64_t ts_last;                 /* ... and of its last */
	struct l7_tuple tuple;            /* sender -> receiver; an unknown address is all zeros */
	enum l7_source source;            /* the wire (socket, pcap) or a process's syscalls */
	const char *interface;            /* the wire's, or NULL */
	const struct ev_process *process; /* a local process that sent or received it, or NULL */
	bool process_sent;                /* process sent it (else received it) */
};

/* An observation of a message framed by dns_stream: its bytes and times from the frame, the
 * source given; the caller fills in the rest. */
static inline struct dns_obs dns_obs_of_frame(const struct dns_frame *m, enum l7_source source)
{
	return (struct dns_obs){.p = m->p,
	                        .cap = m->cap,
	                        .len = m->len,
	                        .ts_first = m->ts_first,
	                        .ts_last = m->ts_last,
	                        .source = source};
}

struct dns_stats {
	uint64_t messages;     /* messages that parsed */
	uint64_t parse_errors; /* messages that did not (not DNS, or malformed): not reported */
	uint64_t not_dns;      /* datagrams off port 53 the kernel kept on their header alone,
	                        * that are not whole DNS messages */
	uint64_t queries;      /* distinct queries */
	uint64_t responses;    /* distinct responses */
	uint64_t transactions; /* reported: ok + no_response + no_query */
	uint64_t no_response;  /* queries with no response within the timeout */
	uint64_t no_query;     /* responses whose query was not seen */
	uint64_t copies;       /* messages seen again (another path, another interface): merged */
	uint64_t late_copies;  /* copies that came after their transaction was reported */
	uint64_t retransmits;  /* a query sent again by its client before the response */
	uint64_t evicted;      /* transactions reported early because the table was full */
	uint64_t lost;         /* transactions not reported: no memory to keep their messages */
	uint64_t active;       /* transactions held now */
};

struct dns_cfg {
	uint32_t max_transactions;
	uint64_t timeout_ns; /* --dns-timeout */
	uint64_t hold_ns;    /* how long a complete transaction waits for copies from other paths */
};

typedef void (*dns_emit_fn)(void *ctx, const struct l7_event *ev);

struct dns_table;

struct dns_table *dns_table_new(const struct dns_cfg *cfg, dns_emit_fn emit, void *ctx);
void dns_table_message(struct dns_table *t, const struct dns_obs *o);
/* Reports what is due at now (Unix time, or packet time reading a file); cheap when nothing is:
 * call it every round. */
void dns_table_tick(struct dns_table *t, uint64_t now);
/* Reports everything held, as at shutdown. */
void dns_table_flush(struct dns_table *t);
void dns_table_free(struct dns_table *t);

const struct dns_stats *dns_table_stats(const struct dns_table *t);

#endif
