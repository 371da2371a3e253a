/*
 * epregs_read.c - read one epoll fd's registrations from
 * /proc/self/fdinfo, or another process's (see epregs.h), with the real
 * read and close.
 */
#include "epregs.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "real.h"

/* /proc/self/WHAT/N, or /proc/PID/WHAT/N */
static void
proc_path(char *buf, size_t n, pid_t pid, const char *what, int fd)
{
	if (pid == 0)
		snprintf(buf, n, "/proc/self/%s/%d", what, fd);
	else
		snprintf(buf, n, "/proc/%d/%s/%d", (int)pid, what, fd);
}

size_t
epregs_read(int epfd, int fd, unsigned long ino, struct epreg *out,
		  size_t k, size_t max)
{
	return epregs_read_pid(0, epfd, fd, ino, out, k, max);
}

size_t
epregs_read_pid(pid_t pid, int epfd, int fd, unsigned long ino,
		struct epreg *out, size_t k, size_t max)
{
	char path[48], buf[4096 + 1], *line, *nl;
	struct epoll_event ev;
	unsigned long lino;
	size_t have = 0;
	ssize_t n;
	int f, tfd;

	proc_path(path, sizeof(path), pid, "fdinfo", epfd);
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
	return epregs_is_epoll_pid(0, fd);
}

bool
epregs_is_epoll_pid(pid_t pid, int fd)
{
	char path[48], link[32];
	ssize_t n;

	proc_path(path, sizeof(path), pid, "fd", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	return strcmp(link, "anon_inode:[eventpoll]") == 0;
}
