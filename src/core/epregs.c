/*
 * epregs.c - parse one line of an epoll fd's fdinfo (see epregs.h).
 *
 * The kernel writes "tfd: %8d events: %8x data: %16llx  pos:%lli
 * ino:%lx sdev:%x"; older kernels stop after data.  Fields are read by
 * name, each number must be whole, and anything else is not a
 * registration.
 */
#include "epregs.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* After "key:" and blanks, a number in base; *end past it.  False when
 * the key is not at *p or no digits follow. */
static bool
field(const char **p, const char *key, int base, unsigned long long max,
      unsigned long long *v)
{
	const char *s = *p;
	char *end;
	size_t kl = strlen(key);

	while (*s == ' ' || *s == '\t')
		s++;
	if (strncmp(s, key, kl) != 0)
		return false;
	s += kl;
	while (*s == ' ' || *s == '\t')
		s++;
	if (!(*s >= '0' && *s <= '9') &&
	    !(base == 16 && ((*s >= 'a' && *s <= 'f') ||
			     (*s >= 'A' && *s <= 'F'))))
		return false;
	errno = 0;
	*v = strtoull(s, &end, base);
	if (errno != 0 || *v > max || end == s)
		return false;
	*p = end;
	return true;
}

bool
epregs_parse_line(const char *line, int *tfd, struct epoll_event *ev,
		  unsigned long *ino)
{
	unsigned long long fd, events, data, v;
	const char *p = line, *q;
	int saved = errno;
	bool ok;

	ok = field(&p, "tfd:", 10, INT_MAX, &fd) &&
	     field(&p, "events:", 16, UINT_MAX, &events) &&
	     field(&p, "data:", 16, ULLONG_MAX, &data);
	*ino = 0;
	if (ok) {
		*tfd = (int)fd;
		ev->events = (unsigned int)events;
		ev->data.u64 = data;
		q = strstr(p, "ino:");
		if (q != NULL && field(&q, "ino:", 16, ULONG_MAX, &v))
			*ino = (unsigned long)v;
	}
	errno = saved;
	return ok;
}
