/* file:PATH: NDJSON (or text) lines appended to PATH, rotated by size and age.
 *
 * Rotated files are named PATH.<UTC time of the rotation, to the microsecond> ("events.ndjson.
 * 20261202T042303.123456Z", then ".gz"): a name never changes once given, so the helper thread
 * can compress and delete rotated files while the sink thread rotates again, without the
 * rename cascade of PATH.1 -> PATH.2 (keep renames per rotation, a crash in the middle leaves
 * two files with one number, and a file being compressed would be renamed under the
 * compressor). The names sort by time as plain strings, for ls, for us and for shippers.
 *
 * No partial lines: each write is of whole lines, and the space for them is reserved first
 * (fallocate), so a full disk fails the reservation before a byte is written. Where the
 * filesystem cannot reserve, or a write fails anyway (EIO), the file is cut back to the end of
 * the last whole line written. Lines of a batch already in the file are remembered across
 * SINK_RETRY, so the retried batch goes on where it stopped: nothing twice, nothing lost.
 *
 * The sink thread writes and rotates; a helper thread fdatasyncs every fsync interval, deletes
 * rotated files beyond keep=N and compresses the others (to NAME.gz.tmp, renamed to NAME.gz
 * when complete), so neither a sync nor zlib holds up writing. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "log.h"
#include "mono_cond.h"
#include "sink.h"
#include "units.h"

#define IOV_BATCH        64
#define DEFAULT_MAX_SIZE (100ull << 20)
#define DEFAULT_KEEP     7
#define DEFAULT_SYNC_NS  1000000000ull
#define MAX_DURATION_S   (366.0 * 86400)
#define STAMP_LEN        23   /* "20261202T042303.123456Z" */
#define FILE_MODE        0640 /* events can carry URLs and headers */
#define GZ_CHUNK         (64u << 10)

struct file_counters {
	uint64_t rotations;
	uint64_t reopens;
	uint64_t deleted;
	uint64_t gzip_done;
	uint64_t gzip_failed;
	uint64_t errors_nospace; /* ENOSPC, EDQUOT */
	uint64_t errors_io;      /* EIO */
	uint64_t errors_other;
	uint64_t partial_cut; /* writes cut short whose partial line was truncated away */
};

struct file_state {
	/* Set by init. */
	char *path;
	const char *base; /* PATH's last component, inside path */
	int dirfd;        /* PATH's directory: renames, deletions and its fsync go through it */
	uint64_t max_size, max_age_ns, sync_ns;
	uint64_t keep;
	bool gzip;
	/* The sink thread's alone. */
	size_t done;        /* records of the current batch in the file (kept across SINK_RETRY) */
	off_t cut_to;       /* -1, or where a failed cut must still truncate the file to */
	uint64_t opened_ns; /* CLOCK_MONOTONIC, for max_age */
	uint64_t last_rot_us; /* the last rotated name's time: names never repeat */
	int last_errno;       /* to log a failure once, not once per retry */
	int rotate_errno;     /* the same for rotations */
	bool no_reserve;      /* the filesystem cannot fallocate */
	/* Shared with the helper thread: fd is replaced, and read by the helper, under mu. */
	pthread_mutex_t mu;
	pthread_cond_t wake;
	pthread_t helper;
	int fd;
	bool maintain; /* rotated files to delete or compress (mu) */
	bool stop;     /* (mu; the compressor reads it with __atomic_load_n) */
	bool dirty;    /* written since the last fdatasync (__atomic) */
	uint64_t next_sync;
	struct file_counters c; /* __atomic, read by the capture thread */
};

static void count(uint64_t *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

static void count_error(struct file_state *st, int err)
{
	if (err == ENOSPC || err == EDQUOT)
		count(&st->c.errors_nospace);
	else if (err == EIO)
		count(&st->c.errors_io);
	else
		count(&st->c.errors_other);
}

/* ---- names ---------------------------------------------------------------------------------- */

static void stamp(uint64_t us, char out[STAMP_LEN + 1])
{
	time_t sec = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(out, STAMP_LEN + 1, "%04d%02d%02dT%02d%02d%02d.%06uZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	         (unsigned)(us % 1000000));
}

/* Whether name is BASE.<stamp> followed by suffix; sets stem to the stamp. Anything else in
 * the directory (files logrotate moved, other programs' files) is never touched. */
static bool rotated_name(const struct file_state *st, const char *name, const char *suffix,
                         char stem[STAMP_LEN + 1])
{
	size_t bl = strlen(st->base);
	const char *p = name + bl + 1;

	if (strncmp(name, st->base, bl) != 0 || name[bl] != '.' || strlen(p) < STAMP_LEN ||
	    strcmp(p + STAMP_LEN, suffix) != 0)
		return false;
	for (int i = 0; i < STAMP_LEN; i++) {
		char want = i == 8 ? 'T' : i == 15 ? '.' : i == STAMP_LEN - 1 ? 'Z' : '0';

		if (want == '0' ? p[i] < '0' || p[i] > '9' : p[i] != want)
			return false;
	}
	memcpy(stem, p, STAMP_LEN);
	stem[STAMP_LEN] = '\0';
	return true;
}

static void name_of(const struct file_state *st, const char *stem, const char *suffix,
                    char out[NAME_MAX + 1])
{
	snprintf(out, NAME_MAX + 1, "%s.%s%s", st->base, stem, suffix);
}

static bool exists(const struct file_state *st, const char *name)
{
	return faccessat(st->dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* ---- the helper thread: periodic fdatasync, deleting and compressing rotated files ---------- */

/* stem.gz.tmp -> stem.gz, then stem deleted. 0 or an errno. */
static int gzip_file(struct file_state *st, const char *stem)
{
	char src[NAME_MAX + 1], tmp[NAME_MAX + 1], dst[NAME_MAX + 1], buf[GZ_CHUNK];
	int in, out, gzfd, err = 0;
	gzFile gz = NULL;
	ssize_t n;

	name_of(st, stem, "", src);
	name_of(st, stem, ".gz.tmp", tmp);
	name_of(st, stem, ".gz", dst);
	in = openat(st->dirfd, src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return errno;
	out = openat(st->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, FILE_MODE);
	if (out < 0) {
		err = errno;
		close(in);
		return err;
	}
	/* gzclose closes the descriptor it was given: a dup, so out stays open for the sync. */
	gzfd = dup(out);
	if (gzfd < 0 || !(gz = gzdopen(gzfd, "wb6"))) {
		err = gzfd < 0 ? errno : ENOMEM;
		if (gzfd >= 0)
			close(gzfd);
	}
	while (!err && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0)
			err = errno == EINTR ? 0 : errno;
		else if ((errno = 0, gzwrite(gz, buf, (unsigned)n)) != (int)n)
			err = errno ? errno : EIO; /* not a system call's failure: zlib's */
		else if (__atomic_load_n(&st->stop, __ATOMIC_RELAXED))
			err = ECANCELED; /* shutting down: the next start compresses it */
	}
	errno = 0;
	if (gz && gzclose(gz) != Z_OK && !err)
		err = errno ? errno : EIO;
	if (!err && fdatasync(out) != 0)
		err = errno;
	close(out);
	close(in);
	if (!err && renameat(st->dirfd, tmp, st->dirfd, dst) != 0)
		err = errno;
	if (err) {
		unlinkat(st->dirfd, tmp, 0);
		return err;
	}
	unlinkat(st->dirfd, src, 0);
	fsync(st->dirfd);
	return 0;
}

struct rotated {
	char stem[STAMP_LEN + 1];
	bool plain, gz;
};

static int newest_first(const void *a, const void *b)
{
	return -strcmp(((const struct rotated *)a)->stem, ((const struct rotated *)b)->stem);
}

/* Finds this sink's rotated files (with or without .gz) and leftovers of an interrupted
 * compression (deleted: only this thread compresses, and it is here). */
static size_t list_rotated(struct file_state *st, struct rotated **out)
{
	int fd = openat(st->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct rotated *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		LOG(LOG_WARN, "sink file:%s: cannot list its directory (%s): old files stay",
		    st->path, strerror(errno));
		*out = NULL;
		return 0;
	}
	while ((de = readdir(d))) {
		char stem[STAMP_LEN + 1];
		bool gz = false;
		size_t i;

		if (rotated_name(st, de->d_name, ".gz.tmp", stem)) {
			unlinkat(st->dirfd, de->d_name, 0);
			continue;
		}
		if (!rotated_name(st, de->d_name, "", stem) &&
		    !(gz = rotated_name(st, de->d_name, ".gz", stem)))
			continue;
		for (i = 0; i < n && strcmp(v[i].stem, stem) != 0; i++)
			;
		if (i == n) {
			if (n == cap) {
				struct rotated *grown =
				        realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

				if (!grown)
					break;
				v = grown;
			}
			v[n] = (struct rotated){.plain = false, .gz = false};
			memcpy(v[n++].stem, stem, sizeof(stem));
		}
		if (gz)
			v[i].gz = true;
		else
			v[i].plain = true;
	}
	closedir(d);
	if (n > 1) /* v is NULL when there are none, and qsort's base must not be */
		qsort(v, n, sizeof(*v), newest_first);
	*out = v;
	return n;
}

/* Deletes rotated files beyond keep (the oldest), then compresses the rest, oldest first. */
static void maintain(struct file_state *st)
{
	struct rotated *v;
	size_t n = list_rotated(st, &v);
	char name[NAME_MAX + 1];

	for (size_t i = st->keep; i < n; i++) {
		if (v[i].plain) {
			name_of(st, v[i].stem, "", name);
			unlinkat(st->dirfd, name, 0);
		}
		if (v[i].gz) {
			name_of(st, v[i].stem, ".gz", name);
			unlinkat(st->dirfd, name, 0);
		}
		count(&st->c.deleted);
	}
	for (size_t i = n < st->keep ? n : st->keep; st->gzip && i-- > 0;) {
		int err;

		if (!v[i].plain || __atomic_load_n(&st->stop, __ATOMIC_RELAXED))
			continue;
		if (v[i].gz) {
			/* Stopped between renaming the .gz into place and deleting the original:
			 * the .gz is complete (it only gets its name when it is). */
			name_of(st, v[i].stem, "", name);
			unlinkat(st->dirfd, name, 0);
			continue;
		}
		err = gzip_file(st, v[i].stem);
		if (err == 0) {
			count(&st->c.gzip_done);
		} else if (err != ECANCELED) {
			count(&st->c.gzip_failed);
			name_of(st, v[i].stem, "", name);
			LOG(LOG_WARN,
			    "sink file:%s: compressing %s failed (%s): it stays uncompressed until "
			    "the next rotation tries again",
			    st->path, name, strerror(err));
		}
	}
	free(v);
}

static void *helper_main(void *arg)
{
	struct file_state *st = arg;

	pthread_mutex_lock(&st->mu);
	while (!st->stop) {
		uint64_t now = clock_ns(CLOCK_MONOTONIC);

		if (st->maintain) {
			st->maintain = false;
			pthread_mutex_unlock(&st->mu);
			maintain(st);
			pthread_mutex_lock(&st->mu);
			continue;
		}
		if (st->sync_ns && now >= st->next_sync) {
			/* Under mu: the sink thread cannot close the descriptor meanwhile. */
			if (__atomic_exchange_n(&st->dirty, false, __ATOMIC_RELAXED) &&
			    st->fd >= 0 && fdatasync(st->fd) != 0) {
				count_error(st, errno);
				LOG(LOG_WARN, "sink file:%s: fdatasync failed: %s", st->path,
				    strerror(errno));
			}
			st->next_sync = now + st->sync_ns;
		}
		if (st->sync_ns)
			mono_cond_wait_until(&st->wake, &st->mu, st->next_sync);
		else
			pthread_cond_wait(&st->wake, &st->mu);
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

static void wake_helper(struct file_state *st)
{
	pthread_mutex_lock(&st->mu);
	st->maintain = true;
	pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->mu);
}

/* ---- the sink thread: writing, rotating, reopening ------------------------------------------ */

/* Opens PATH anew in place of the current descriptor. 0 or an errno. */
static int open_file(struct file_state *st)
{
	int fd = openat(st->dirfd, st->base, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, FILE_MODE);
	int err = fd < 0 ? errno : 0, old;

	pthread_mutex_lock(&st->mu);
	old = st->fd;
	st->fd = fd;
	pthread_mutex_unlock(&st->mu);
	if (old >= 0)
		close(old);
	st->cut_to = -1;
	st->opened_ns = clock_ns(CLOCK_MONOTONIC);
	return err;
}

/* PATH -> PATH.<now>, synced, then a new PATH. 0, or an errno: from the rename (PATH stays as
 * it was) or from opening the new PATH (st->fd is then -1). */
static int rotate(struct file_state *st)
{
	struct timespec ts;
	char stem[STAMP_LEN + 1], name[NAME_MAX + 1];
	bool moved_away = false;
	uint64_t us;

	clock_gettime(CLOCK_REALTIME, &ts);
	us = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	/* Two rotations in one microsecond, or a clock stepped back: the next free name. */
	if (us <= st->last_rot_us)
		us = st->last_rot_us + 1;
	for (;; us++) {
		stamp(us, stem);
		name_of(st, stem, ".gz", name);
		if (exists(st, name))
			continue;
		name_of(st, stem, "", name);
		if (!exists(st, name))
			break;
	}
	if (renameat(st->dirfd, st->base, st->dirfd, name) != 0) {
		if (errno != ENOENT)
			return errno;
		moved_away = true; /* by someone else, without a SIGHUP: it is theirs now */
	}
	st->last_rot_us = us;
	if (fdatasync(st->fd) != 0) {
		count_error(st, errno);
		LOG(LOG_WARN, "sink file:%s: fdatasync of the rotated file: %s", st->path,
		    strerror(errno));
	}
	if (!moved_away) {
		fsync(st->dirfd);
		count(&st->c.rotations);
		wake_helper(st);
	}
	return open_file(st);
}

/* A rotation that cannot rename (the directory became read-only, say) must not stop the
 * writing: the file grows past its limits meanwhile, and each batch tries again. */
static void rotate_failed(struct file_state *st, int err)
{
	count_error(st, err);
	if (st->rotate_errno == err)
		return;
	st->rotate_errno = err;
	LOG(LOG_WARN,
	    "sink file:%s: cannot rotate (%s): writing on into it; make its directory writable "
	    "for the collector",
	    st->path, strerror(err));
}

static enum sink_result failed(struct file_state *st, int err)
{
	count_error(st, err);
	if (st->last_errno != err) {
		st->last_errno = err;
		if (err == ENOSPC || err == EDQUOT)
			LOG(LOG_WARN,
			    "sink file:%s: %s: events wait in the queue (and are dropped and "
			    "counted "
			    "once it is full); writing resumes by itself when space is freed",
			    st->path, strerror(err));
		else
			LOG(LOG_WARN, "sink file:%s: %s: retrying; events wait in the queue",
			    st->path, strerror(err));
	}
	return SINK_RETRY;
}

/* Cuts the file back to the last whole line; remembered until it works, since nothing may be
 * appended after a partial line. */
static int cut(struct file_state *st)
{
	if (ftruncate(st->fd, st->cut_to) != 0)
		return errno;
	st->cut_to = -1;
	return 0;
}

/* Appends k whole lines (iov) to a file of size base; *written says how many bytes got in,
 * also on failure. 0 or an errno. */
static int append(struct file_state *st, struct iovec *iov, int k, off_t base, size_t *written)
{
	size_t total = 0;
	int i = 0;

	for (int j = 0; j < k; j++)
		total += iov[j].iov_len;
	*written = 0;
	if (!st->no_reserve && fallocate(st->fd, FALLOC_FL_KEEP_SIZE, base, (off_t)total) != 0) {
		if (errno != EOPNOTSUPP && errno != ENOSYS)
			return errno; /* nothing written */
		st->no_reserve = true;
	}
	while (*written < total) {
		ssize_t w = writev(st->fd, iov + i, k - i);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? errno : EIO;
		*written += (size_t)w;
		while (i < k && (size_t)w >= iov[i].iov_len)
			w -= (ssize_t)iov[i++].iov_len;
		if (i < k) {
			iov[i].iov_base = (char *)iov[i].iov_base + w;
			iov[i].iov_len -= (size_t)w;
		}
	}
	return 0;
}

static bool rotation_due(const struct file_state *st, off_t size, size_t len)
{
	if (size == 0)
		return false;
	if (st->max_size && (uint64_t)size + len > st->max_size)
		return true;
	return st->max_age_ns && clock_ns(CLOCK_MONOTONIC) - st->opened_ns >= st->max_age_ns;
}

static enum sink_result file_write(struct sink *s, const struct sink_record *recs, size_t n)
{
	struct file_state *st = s->priv;

	while (st->done < n) {
		struct iovec iov[IOV_BATCH];
		uint64_t bytes = 0;
		struct stat sb;
		size_t written;
		bool past_limit = false;
		int k = 0, err;

		if (st->fd < 0 && (err = open_file(st)) != 0)
			return failed(st, err);
		if (st->cut_to >= 0 && (err = cut(st)) != 0)
			return failed(st, err);
		/* The size from the file itself: logrotate's copytruncate may have emptied it. */
		if (fstat(st->fd, &sb) != 0)
			return failed(st, errno);
		if (rotation_due(st, sb.st_size, recs[st->done].len)) {
			err = rotate(st);
			if (err == 0) {
				st->rotate_errno = 0;
				continue;
			}
			if (st->fd < 0)
				return failed(st, err);
			rotate_failed(st, err);
			past_limit = true;
		}
		/* As many lines as fit under max_size; at least one (a line longer than max_size
		 * gets a file of its own). */
		for (size_t j = st->done; j < n; j++) {
			if (bytes && st->max_size && !past_limit &&
			    (uint64_t)sb.st_size + bytes + recs[j].len > st->max_size)
				break;
			if (!sink_iov_add(iov, &k, IOV_BATCH, recs[j].data, recs[j].len))
				break;
			bytes += recs[j].len;
		}
		err = append(st, iov, k, sb.st_size, &written);
		if (written)
			__atomic_store_n(&st->dirty, true, __ATOMIC_RELAXED);
		/* The lines that got in whole stay; a part of the next one is cut off. */
		for (bytes = 0; st->done < n && bytes + recs[st->done].len <= written; st->done++)
			bytes += recs[st->done].len;
		if (err) {
			if (written > bytes) {
				st->cut_to = sb.st_size + (off_t)bytes;
				if (cut(st) == 0)
					count(&st->c.partial_cut);
			}
			return failed(st, err);
		}
	}
	st->done = 0;
	if (st->last_errno) {
		st->last_errno = 0;
		LOG(LOG_INFO, "sink file:%s: writing again", st->path);
	}
	return SINK_OK;
}

static enum sink_result file_flush(struct sink *s)
{
	(void)s; /* lines go straight to the file; the helper thread syncs it */
	return SINK_OK;
}

/* SIGHUP: logrotate (or anyone) moved PATH away and wants a new one. */
static void file_reopen(struct sink *s)
{
	struct file_state *st = s->priv;
	int err;

	if (st->fd >= 0) {
		if (st->cut_to >= 0 && cut(st) != 0)
			LOG(LOG_WARN,
			    "sink file:%s: the file closed on SIGHUP ends in a partial line",
			    st->path);
		fdatasync(st->fd);
	}
	err = open_file(st);
	count(&st->c.reopens);
	if (err)
		failed(st, err); /* logged now; the next write tries again */
}

static void file_close(struct sink *s)
{
	struct file_state *st = s->priv;

	pthread_mutex_lock(&st->mu);
	__atomic_store_n(&st->stop, true, __ATOMIC_RELAXED);
	pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->mu);
	pthread_join(st->helper, NULL);
	/* Deleting is quick, so no more than keep rotated files stay; what is not compressed yet
	 * waits for the next start (compressing now would hold up the exit). */
	maintain(st);
	if (st->fd >= 0) {
		fdatasync(st->fd);
		close(st->fd);
	}
	close(st->dirfd);
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->wake);
	free(st->path);
	free(st);
	s->priv = NULL;
}

static void file_stats(struct sink *s, void (*add)(void *ctx, const char *name, uint64_t value),
                       void *ctx)
{
	struct file_state *st = s->priv;
	struct {
		const char *name;
		uint64_t *v;
	} const counters[] = {
	        {"rotations", &st->c.rotations},
	        {"reopens", &st->c.reopens},
	        {"files_deleted", &st->c.deleted},
	        {"gzip_done", &st->c.gzip_done},
	        {"gzip_failed", &st->c.gzip_failed},
	        {"errors_nospace", &st->c.errors_nospace},
	        {"errors_io", &st->c.errors_io},
	        {"errors_other", &st->c.errors_other},
	        {"partial_lines_cut", &st->c.partial_cut},
	};

	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		add(ctx, counters[i].name, __atomic_load_n(counters[i].v, __ATOMIC_RELAXED));
}

/* ---- the spec ------------------------------------------------------------------------------- */

/* Seconds, or a number with s, m, h or d after it ("1h"). */
static int parse_duration(const char *v, uint64_t *ns)
{
	static const struct {
		char unit;
		unsigned mult;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
	char num[32];
	size_t len = strlen(v);
	unsigned mult = 1;

	if (len == 0 || len >= sizeof(num))
		return -EINVAL;
	memcpy(num, v, len + 1);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (num[len - 1] == units[i].unit) {
			num[len - 1] = '\0';
			mult = units[i].mult;
		}
	}
	if (parse_seconds(num, MAX_DURATION_S / mult, ns) != 0)
		return -EINVAL;
	*ns *= mult;
	return 0;
}

static int parse_options(struct sink *s, struct file_state *st, const struct sink_option *opts,
                         size_t n_opts)
{
	for (size_t i = 0; i < n_opts; i++) {
		const char *k = opts[i].key, *v = opts[i].value, *want = NULL;
		uint64_t flag = 0;

		if (strcmp(k, "max_size") == 0) {
			if (parse_size(v, &st->max_size) != 0)
				want = "a size such as 100M (0: no limit)";
		} else if (strcmp(k, "max_age") == 0) {
			if (parse_duration(v, &st->max_age_ns) != 0)
				want = "a time such as 3600, 60m or 1h (0: no limit)";
		} else if (strcmp(k, "fsync") == 0) {
			if (parse_duration(v, &st->sync_ns) != 0)
				want = "a time such as 1s (0: only when rotating and closing)";
		} else if (strcmp(k, "keep") == 0) {
			if (parse_uint(v, 0, 100000, &st->keep) != 0)
				want = "a number of rotated files, 0 to 100000";
		} else if (strcmp(k, "gzip") == 0) {
			if (parse_uint(v, 0, 1, &flag) != 0)
				want = "0 or 1";
			st->gzip = flag;
		} else if (strcmp(k, "format") == 0) {
			if (strcmp(v, "json") == 0)
				s->format = SINK_FORMAT_JSON;
			else if (strcmp(v, "text") == 0)
				s->format = SINK_FORMAT_TEXT;
			else
				want = "json or text";
		} else {
			LOG(LOG_ERROR,
			    "sink '%s': unknown option '%s': the file sink takes max_size, "
			    "max_age, "
			    "keep, gzip, fsync and format",
			    s->spec, k);
			return -EINVAL;
		}
		if (want) {
			LOG(LOG_ERROR, "sink '%s': bad value '%s' for %s: use %s", s->spec, v, k,
			    want);
			return -EINVAL;
		}
	}
	return 0;
}

/* Opens PATH's directory and PATH, so that a path that cannot work fails at start-up. */
static int open_path(struct sink *s, struct file_state *st)
{
	char *slash = strrchr(st->path, '/');
	const char *dir = ".";
	int err;

	st->base = slash ? slash + 1 : st->path;
	if (!*st->base || strcmp(st->base, ".") == 0 || strcmp(st->base, "..") == 0) {
		LOG(LOG_ERROR,
		    "sink '%s': the path must name a file: file:/var/log/l7collect/"
		    "events.ndjson",
		    s->spec);
		return -EINVAL;
	}
	if (strlen(st->base) + 1 + STAMP_LEN + strlen(".gz.tmp") > NAME_MAX) {
		LOG(LOG_ERROR, "sink '%s': the file name is too long to add a rotation time to it",
		    s->spec);
		return -EINVAL;
	}
	if (slash) {
		*slash = '\0';
		dir = slash == st->path ? "/" : st->path;
	}
	st->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	err = st->dirfd < 0 ? errno : faccessat(st->dirfd, ".", W_OK, AT_EACCESS) ? errno : 0;
	if (err == ENOENT)
		LOG(LOG_ERROR,
		    "sink '%s': directory %s does not exist: create it (mkdir -p %s) "
		    "or choose another path",
		    s->spec, dir, dir);
	else if (err)
		LOG(LOG_ERROR,
		    "sink '%s': directory %s: %s: the file sink creates, renames and "
		    "deletes files there; make it writable for the collector or choose another "
		    "path",
		    s->spec, dir, strerror(err));
	if (slash)
		*slash = '/';
	if (err)
		return -EINVAL;
	err = open_file(st);
	if (err) {
		LOG(LOG_ERROR,
		    "sink '%s': cannot open %s: %s: make it writable for the collector "
		    "or choose another path",
		    s->spec, st->path, strerror(err));
		return -EINVAL;
	}
	return 0;
}

static int file_init(struct sink *s, const char *arg, const struct sink_option *opts, size_t n_opts)
{
	struct file_state *st;
	sigset_t all, old;
	int rc;

	s->format = SINK_FORMAT_JSON;
	if (!arg || !*arg) {
		LOG(LOG_ERROR, "sink '%s': say which file: file:/var/log/l7collect/events.ndjson",
		    s->spec);
		return -EINVAL;
	}
	st = calloc(1, sizeof(*st));
	if (!st || !(st->path = strdup(arg))) {
		free(st);
		return -ENOMEM;
	}
	st->fd = st->dirfd = -1;
	st->cut_to = -1;
	st->max_size = DEFAULT_MAX_SIZE;
	st->keep = DEFAULT_KEEP;
	st->gzip = true;
	st->sync_ns = DEFAULT_SYNC_NS;
	pthread_mutex_init(&st->mu, NULL);
	mono_cond_init(&st->wake);
	rc = parse_options(s, st, opts, n_opts);
	if (rc == 0)
		rc = open_path(s, st);
	if (rc == 0) {
		/* Leftovers of an earlier run: files beyond keep, files not yet compressed. */
		st->maintain = true;
		st->next_sync = clock_ns(CLOCK_MONOTONIC) + st->sync_ns;
		/* Signals are for the capture thread: the helper never takes one. */
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		rc = -pthread_create(&st->helper, NULL, helper_main, st);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (rc) {
		if (st->fd >= 0)
			close(st->fd);
		if (st->dirfd >= 0)
			close(st->dirfd);
		pthread_mutex_destroy(&st->mu);
		pthread_cond_destroy(&st->wake);
		free(st->path);
		free(st);
		return rc;
	}
	s->priv = st;
	return 0;
}

const struct sink_ops sink_file = {
        .name = "file",
        .usage = "                             file:PATH     NDJSON appended to PATH, rotated to "
                 "PATH.<UTC time>;\n"
                 "                               options: max_size=SIZE (100M), max_age=TIME "
                 "(such as 1h),\n"
                 "                               keep=N rotated files (7), gzip=0|1 rotated "
                 "files (1),\n"
                 "                               fsync=TIME between fdatasyncs (1s), "
                 "format=json|text;\n"
                 "                               0 turns a limit off. SIGHUP reopens PATH "
                 "(logrotate)\n",
        .init = file_init,
        .write = file_write,
        .flush = file_flush,
        .close = file_close,
        .reopen = file_reopen,
        .stats = file_stats,
};
