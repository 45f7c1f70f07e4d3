/* One logging macro with levels. Messages go to stderr, one write(2) per line, so lines from
 * different threads never interleave; stdout belongs to the stdout sink alone. */
#ifndef L7_LOG_H
#define L7_LOG_H

enum log_level {
	LOG_ERROR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3,
};

/* Messages above this level are not formatted at all. Set once at start-up, before threads. */
extern enum log_level log_max_level;

void log_emit(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define LOG(level, ...)                                                                            \
	do {                                                                                       \
		if ((level) <= log_max_level)                                                      \
			log_emit((level), __VA_ARGS__);                                            \
	} while (0)

#endif
