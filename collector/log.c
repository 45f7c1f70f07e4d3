#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

enum log_level log_max_level = LOG_INFO;

static const char *const level_prefix[] = {
        [LOG_ERROR] = "error: ",
        [LOG_WARN] = "warning: ",
        [LOG_INFO] = "",
        [LOG_DEBUG] = "debug: ",
};

void log_emit(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "l7collect: %s", level_prefix[level]);
	va_list ap;

	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line: stderr is unbuffered and shared by every thread. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}
