/*
 * supervise_epoll.c - the epoll registrations of a socket the engine
 * refitted (supervise_via.c), carried to the socket put in its place.
 *
 * A registration belongs to the open file and the fd number it was made
 * with (the kernel's key is both): when SECCOMP_ADDFD_FLAG_SETFD puts a
 * new socket at the number, the old file's registrations go with it.
 * libuv, Java's NIO and many C event loops register a socket before they
 * connect it (Go registers after connect has returned: it is not hit).
 * So the caller's epoll sets that hold the old socket at its number are
 * read from /proc/TID/fdinfo (epregs.h, as the shim reads its own), and
 * the new socket is added to each with the same events and data, under
 * the caller's number: in a thread of ours that has its own copy of the
 * fd table (unshare(CLONE_FILES)) and puts the socket at that number
 * there, so that the caller's later EPOLL_CTL_MOD and DEL find it.
 * Epoll sets of other processes (shared by fork) are not searched.
 */
#include "supervise_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "epregs.h"

#define SUP_EPREGS_MAX 16

struct carry {
	int sock, tfd;
	size_t n;
	int epfd[SUP_EPREGS_MAX];	/* our duplicates of the caller's sets */
	struct epoll_event ev[SUP_EPREGS_MAX];
	int added;
};

/* The caller's registrations of its fd tfd whose file is inode ino. */
static size_t
find(struct sup_call *c, int tfd, unsigned long ino, struct epreg *out)
{
	char path[48];
	struct dirent *de;
	size_t k = 0;
	char *end;
	long v;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)c->tid);
	d = opendir(path);
	if (d == NULL)
		return 0;
	while (k < SUP_EPREGS_MAX && (de = readdir(d)) != NULL) {
		v = strtol(de->d_name, &end, 10);
		if (end == de->d_name || *end != '\0' || v < 0 ||
		    v > INT_MAX || v == tfd)
			continue;
		if (epregs_is_epoll_pid(c->tid, (int)v))
			k = epregs_read_pid(c->tid, (int)v, tfd, ino, out, k,
					    SUP_EPREGS_MAX);
	}
	closedir(d);
	return k;
}

/* In a thread with a private fd table: the socket at the caller's
 * number, added to each set under it (the copies close as it ends). */
static void *
carrier(void *arg)
{
	struct carry *k = arg;
	int s, e[SUP_EPREGS_MAX];
	size_t i;

	if (unshare(CLONE_FILES) == -1)
		return NULL;
	/* the number may be one of ours: the copies move above it first */
	s = fcntl(k->sock, F_DUPFD_CLOEXEC, k->tfd + 1);
	for (i = 0; i < k->n; i++)
		e[i] = fcntl(k->epfd[i], F_DUPFD_CLOEXEC, k->tfd + 1);
	if (s == -1 || dup2(s, k->tfd) == -1)
		return NULL;
	for (i = 0; i < k->n; i++)
		if (e[i] != -1 && epoll_ctl(e[i], EPOLL_CTL_ADD, k->tfd,
					    &k->ev[i]) == 0)
			k->added++;
	return NULL;
}

int
sup_epoll_carry(struct sup_call *c, int sock, int tfd, unsigned long ino)
{
	struct epreg regs[SUP_EPREGS_MAX];
	struct carry k = { .sock = sock, .tfd = tfd };
	sigset_t all, old;
	pthread_t t;
	size_t i, n;
	int rc;

	n = find(c, tfd, ino, regs);
	for (i = 0; i < n; i++) {
		k.epfd[k.n] = sup_dupfd(c, regs[i].epfd);
		k.ev[k.n] = regs[i].ev;
		if (k.epfd[k.n] >= 0)
			k.n++;
	}
	if (k.n == 0)
		return 0;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&t, NULL, carrier, &k);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0)
		pthread_join(t, NULL);
	for (i = 0; i < k.n; i++)
		close(k.epfd[i]);
	return k.added;
}
