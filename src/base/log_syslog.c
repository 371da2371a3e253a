/*
 * log_syslog.c - audit events to the local syslog socket (log_syslog.h),
 * RFC 5424 §6: HEADER (PRI VERSION TIMESTAMP HOSTNAME APP-NAME PROCID
 * MSGID), STRUCTURED-DATA "-", then the event's JSON as MSG.
 */
#include "log_syslog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "log.h"	/* LOG_JSON_MAX */
#include "real.h"

#define SYSLOG_FAC_USER 1	/* RFC 5424 §6.2.1, table 1 */
#define SYSLOG_SEV_WARNING 4
#define SYSLOG_SEV_INFO 6
#define SYSLOG_MSG_MAX (LOG_JSON_MAX + 400)
#define SYSLOG_HOST_MAX 255	/* RFC 5424 §6.2.4 */
#define SYSLOG_MSGID_MAX 32	/* §6.2.7 */

static struct sockaddr_un sl_addr;
static socklen_t sl_len;		/* 0: off */
static int sl_failed;			/* warned once; nothing more sent */

int
log_syslog_use(const char *path)
{
	size_t len;

	sl_len = 0;
	sl_failed = 0;
	if (path == NULL)
		return 0;
	len = strlen(path);
	if (len == 0 || len >= sizeof(sl_addr.sun_path))
		return -ENAMETOOLONG;
	memset(&sl_addr, 0, sizeof(sl_addr));
	sl_addr.sun_family = AF_UNIX;
	memcpy(sl_addr.sun_path, path, len + 1);
	sl_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	return 0;
}

const char *
log_syslog_path(void)
{
	return sl_addr.sun_path;
}

bool
log_syslog_on(void)
{
	return sl_len != 0 && !__atomic_load_n(&sl_failed, __ATOMIC_RELAXED);
}

/* A header field: printable US-ASCII without blanks (§6), or "-". */
static size_t
put_field(const char *s, size_t max, char *buf, size_t n)
{
	size_t len = 0;

	for (; *s != '\0' && len < max && len + 1 < n; s++)
		buf[len++] = *s > 32 && *s < 127 ? *s : '_';
	if (len == 0 && n > 1)
		buf[len++] = '-';
	buf[len] = '\0';
	return len;
}

static int
severity(const char *event)
{
	static const char *const warn[] = {
		"block", "proxy-error", "exec-refused", "sni-mismatch",
	};
	size_t i;

	for (i = 0; i < sizeof(warn) / sizeof(warn[0]); i++)
		if (strcmp(event, warn[i]) == 0)
			return SYSLOG_SEV_WARNING;
	return SYSLOG_SEV_INFO;
}

size_t
log_syslog_format(const char *event, const char *time, const char *host,
		  long pid, const char *json, size_t jlen, char *buf, size_t n)
{
	char h[SYSLOG_HOST_MAX + 1], id[SYSLOG_MSGID_MAX + 1];
	int w;

	if (n == 0)
		return 0;
	put_field(host, SYSLOG_HOST_MAX, h, sizeof(h));
	put_field(event, SYSLOG_MSGID_MAX, id, sizeof(id));
	if (jlen > 0 && json[jlen - 1] == '\n')
		jlen--;
	w = snprintf(buf, n, "<%d>1 %s %s proxywrap %ld %s - %.*s",
		     SYSLOG_FAC_USER * 8 + severity(event), time, h, pid, id,
		     (int)jlen, json);
	if (w < 0)
		return 0;
	return (size_t)w < n ? (size_t)w : n - 1;
}

/* uname's nodename, once per process image. */
static const char *
hostname(void)
{
	static struct utsname u;
	static int done;

	if (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
		if (uname(&u) == -1)
			u.nodename[0] = '\0';
		__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
	}
	return u.nodename;
}

int
log_syslog_send(const char *event, const char *time, const char *json,
		size_t jlen)
{
	char msg[SYSLOG_MSG_MAX];
	size_t len;
	int fd, e = 0, saved = errno;

	if (!log_syslog_on())
		return 0;
	len = log_syslog_format(event, time, hostname(), (long)getpid(), json,
				jlen, msg, sizeof(msg));
	fd = real_socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			 0);
	if (fd == -1)
		e = errno;
	else if (real_sendto(fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL,
			     (const struct sockaddr *)&sl_addr, sl_len) == -1)
		e = errno;
	if (fd != -1)
		real_close(fd);
	/* a full queue loses this event only; no socket loses them all */
	errno = saved;
	if (e != 0 && e != EAGAIN && e != ENOBUFS && e != EINTR &&
	    __atomic_exchange_n(&sl_failed, 1, __ATOMIC_RELAXED) == 0)
		return e;
	return 0;
}
