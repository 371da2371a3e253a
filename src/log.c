/*
 * log.c - one line per event.
 *
 * Each line is formatted into a stack buffer and written with a single
 * write(2): stderr by default, or SHIM_LOG opened per line with O_APPEND
 * (so lines from many processes never interleave, and the library holds
 * no long-lived fd that an application could close or dup2 over).
 */
#include "log.h"
#include "real.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_PATH_MAX 4096

static int log_level = LOG_WARN;
static char log_path[LOG_PATH_MAX];	/* empty: stderr */

void
log_init(bool trusted)
{
	const char *v, *p;

	log_level = LOG_WARN;
	log_path[0] = '\0';
	if (!trusted)
		return;
	v = getenv("SHIM_VERBOSE");
	if (v != NULL && v[0] >= '0' && v[0] <= '9' && v[1] == '\0')
		log_level = v[0] - '0';
	p = getenv("SHIM_LOG");
	if (p != NULL && p[0] != '\0' && strlen(p) < sizeof(log_path))
		memcpy(log_path, p, strlen(p) + 1);
}

bool
log_enabled(enum log_level lv)
{
	return (int)lv <= log_level;
}

static void
log_write(const char *line, size_t len)
{
	int fd = STDERR_FILENO;

	if (log_path[0] != '\0') {
		fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			  0600);
		if (fd == -1)
			fd = STDERR_FILENO;
	}
	/* One write: a short write on a pipe is possible but never mixed. */
	if (real_write(fd, line, len) == -1) {
		/* nothing sensible to do: logging must not fail a call */
	}
	if (fd != STDERR_FILENO)
		real_close(fd);
}

void
log_msg(enum log_level lv, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	int saved = errno;
	va_list ap;
	int n;
	size_t len;

	if (!log_enabled(lv)) {
		errno = saved;
		return;
	}
	memcpy(line, "proxywrap: ", sizeof("proxywrap: ") - 1);
	va_start(ap, fmt);
	n = vsnprintf(line + sizeof("proxywrap: ") - 1,
		      sizeof(line) - sizeof("proxywrap: "), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	len = sizeof("proxywrap: ") - 1 + (size_t)n;
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	log_write(line, len);
	errno = saved;
}
