/* Live capture from the wire: the socket filter loaded once, attached to one AF_PACKET socket
 * per watched interface, and the reader of its ring buffer, which hands each frame to wire.c. */
#ifndef L7_CAPTURE_SOCKET_H
#define L7_CAPTURE_SOCKET_H

#include "cli.h"
#include "stats.h"
#include "wire.h"

struct rings;
struct socket_capture;

/* Loads, configures and attaches; its ring buffer joins the run loop's poller *rb. Returns 0, or
 * an exit status after logging why not. */
int socket_capture_open(struct socket_capture **out, const struct config *cfg,
                        struct flow_table *ft, struct wire_stats *ws, const uint64_t *mono_to_real,
                        struct rings **rb);

/* The local_conns map it created, for the syscall probes to share. */
int socket_capture_conns_fd(const struct socket_capture *c);

/* Names of the watched interfaces, comma separated, for the ready line. */
const char *socket_capture_describe(const struct socket_capture *c);

void socket_capture_stats_add(struct socket_capture *c, struct stats_builder *b);

void socket_capture_close(struct socket_capture *c);

#endif
