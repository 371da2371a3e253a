/*
 * epregs_read.c - read one epoll fd's registrations from
 * /proc/self/fdinfo (see epregs.h), with the real read and close.
 */
#include "epregs.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "real.h"

size_t
epregs_read(int epfd, int fd, unsigned long ino, struct epreg *out,
		  size_t k, size_t max)
{
	char path[48], buf[4096 + 1], *line, *nl;
	struct epoll_event ev;
	unsigned long lino;
	size_t have = 0;
	ssize_t n;
	int f, tfd;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", epfd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f == -1)
		return k;
	while (k < max) {
		n = real_read(f, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
		line = buf;
		while (k < max && (nl = strchr(line, '\n')) != NULL) {
			*nl = '\0';
			if (epregs_parse_line(line, &tfd, &ev, &lino) &&
			    tfd == fd && (ino == 0 || lino == 0 || lino == ino)) {
				out[k].epfd = epfd;
				out[k].ev = ev;
				k++;
			}
			line = nl + 1;
		}
		have = (size_t)(buf + have - line);
		memmove(buf, line, have);
		if (have == sizeof(buf) - 1)
			have = 0;	/* no line is this long: skip it */
	}
	real_close(f);
	return k;
}

bool
epregs_is_epoll(int fd)
{
	char path[40], link[32];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	return strcmp(link, "anon_inode:[eventpoll]") == 0;
}
