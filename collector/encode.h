/* Turns a normalized event into the bytes sinks write: one NDJSON line (ECS field names), or one
 * line for people. Each is produced at most once per event, whatever the number of sinks. */
#ifndef L7_ENCODE_H
#define L7_ENCODE_H

#include <stdbool.h>

#include "event.h"
#include "json_writer.h"

struct encode_opts {
	const char *host_name;
	bool http_headers; /* report header fields; sensitive values are always redacted */
};

/* Append the event and a newline to w; 0 or a negative errno. */
int encode_json(struct jw *w, const struct l7_event *ev, const struct encode_opts *o);
/* The text form uses w as a plain growable buffer (jw_raw only). */
int encode_text(struct jw *w, const struct l7_event *ev, const struct encode_opts *o);

/* Header fields whose values never leave the collector. */
bool encode_header_redacted(struct http_slice name);

#endif
