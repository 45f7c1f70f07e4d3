/* stdout: NDJSON (or text) lines. Each batch goes out with writev; a write cut short is
 * continued from where it stopped, so lines are never split or interleaved (nothing else in the
 * collector writes to stdout: logs go to stderr). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "sink.h"

#define IOV_BATCH 64

struct stdout_state {
	size_t done;    /* bytes of the current batch already written (kept across SINK_RETRY) */
	int last_errno; /* to log a failure once, not once per batch */
};

static int stdout_init(struct sink *s, const char *arg, const struct sink_option *opts,
                       size_t n_opts)
{
	if (!arg || strcmp(arg, "json") == 0) {
		s->format = SINK_FORMAT_JSON;
	} else if (strcmp(arg, "text") == 0) {
		s->format = SINK_FORMAT_TEXT;
	} else {
		LOG(LOG_ERROR, "sink '%s': unknown format '%s': use stdout (NDJSON) or stdout:text",
		    s->spec, arg);
		return -EINVAL;
	}
	if (n_opts) {
		LOG(LOG_ERROR, "sink '%s': unknown option '%s'", s->spec, opts[0].key);
		return -EINVAL;
	}
	s->priv = calloc(1, sizeof(struct stdout_state));
	return s->priv ? 0 : -ENOMEM;
}

static void report(struct stdout_state *st, int err)
{
	if (st->last_errno == err)
		return;
	st->last_errno = err;
	if (err == EPIPE)
		LOG(LOG_WARN,
		    "stdout was closed: events for the stdout sink are dropped and counted");
	else
		LOG(LOG_WARN, "writing to stdout failed (%s): retrying; events wait in the queue",
		    strerror(err));
}

static enum sink_result stdout_write(struct sink *s, const struct sink_record *recs, size_t n)
{
	struct stdout_state *st = s->priv;
	size_t i = 0, off = st->done;

	/* Find where an earlier, interrupted attempt stopped. */
	while (i < n && off >= recs[i].len)
		off -= recs[i++].len;
	while (i < n) {
		struct iovec iov[IOV_BATCH];
		int k = 0;
		ssize_t w;

		for (size_t j = i; j < n; j++) {
			size_t skip = j == i ? off : 0;

			if (!sink_iov_add(iov, &k, IOV_BATCH, recs[j].data + skip,
			                  recs[j].len - skip))
				break;
		}
		w = writev(STDOUT_FILENO, iov, k);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = {STDOUT_FILENO, POLLOUT, 0};

				poll(&pfd, 1, 1000);
				continue;
			}
			report(st, errno);
			if (errno == EPIPE) {
				st->done = 0;
				return SINK_ERROR;
			}
			return SINK_RETRY;
		}
		st->done += (size_t)w;
		off += (size_t)w;
		while (i < n && off >= recs[i].len)
			off -= recs[i++].len;
	}
	st->done = 0;
	st->last_errno = 0;
	return SINK_OK;
}

static enum sink_result stdout_flush(struct sink *s)
{
	(void)s;
	return SINK_OK;
}

static void stdout_close(struct sink *s)
{
	free(s->priv);
	s->priv = NULL;
}

const struct sink_ops sink_stdout = {
        .name = "stdout",
        .usage = "                             stdout        NDJSON, one event per line\n"
                 "                             stdout:text   one line per event, for people\n",
        .init = stdout_init,
        .write = stdout_write,
        .flush = stdout_flush,
        .close = stdout_close,
};
