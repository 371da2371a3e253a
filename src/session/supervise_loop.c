/*
 * supervise_loop.c - receiving notifications and answering them; the
 * target's memory, its sockets and its name.
 *
 * Threads receive on the listener side by side (the kernel gives each
 * notification to one of them).  A thread about to perform a call that
 * may block (a connect on a blocking socket to a slow host) first makes
 * sure another thread is receiving, so one slow call never holds up the
 * rest of the tree.  The pool grows on demand up to SUP_THREADS_MAX.
 */
#include "supervise_int.h"

#include "execcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL		/* Linux 6.9 */
#endif
#define SUP_THREADS_MAX 256

static int g_lfd = -1;
static const struct sup_policy *g_pol;
static struct seccomp_notif_sizes g_sz;
static int g_idle;		/* threads waiting in NOTIF_RECV (atomic) */
static int g_threads;		/* all of them (atomic) */

static int
id_valid(const struct sup_call *c)
{
	uint64_t id = c->id;

	if (ioctl(c->lfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == -1)
		return -ENOENT;
	return 0;
}

int
sup_read(struct sup_call *c, uint64_t addr, void *buf, size_t n)
{
	struct iovec l = { buf, n }, r = { (void *)(uintptr_t)addr, n };
	ssize_t got;

	if (n == 0)
		return id_valid(c);
	got = process_vm_readv(c->tid, &l, 1, &r, 1, 0);
	/* a short read stops at the first page that is not there; ESRCH
	 * is a target already gone: the notification check says so */
	if (id_valid(c) < 0)
		return -ENOENT;
	if (got != (ssize_t)n)
		return -EFAULT;
	return 0;
}

int
sup_write(struct sup_call *c, uint64_t addr, const void *buf, size_t n)
{
	struct iovec l = { (void *)buf, n }, r = { (void *)(uintptr_t)addr, n };

	if (process_vm_writev(c->tid, &l, 1, &r, 1, 0) != (ssize_t)n)
		return id_valid(c) < 0 ? -ENOENT : -EFAULT;
	return 0;
}

/* The caller's pidfd: its thread's (6.9), else its thread group's. */
static int
caller_pidfd(struct sup_call *c)
{
	if (c->pidfd >= 0)
		return c->pidfd;
	c->pidfd = (int)syscall(SYS_pidfd_open, c->tid, PIDFD_THREAD);
	if (c->pidfd == -1)
		c->pidfd = (int)syscall(SYS_pidfd_open, sup_tgid(c), 0);
	if (c->pidfd == -1)
		return -ENOENT;
	/* opened by number: still the caller only if the call is live */
	if (id_valid(c) < 0)
		return -ENOENT;
	return c->pidfd;
}

int
sup_dupfd(struct sup_call *c, int fd)
{
	int pfd = caller_pidfd(c), d;

	if (pfd < 0)
		return pfd;
	if (fd < 0)
		return -EBADF;
	d = (int)syscall(SYS_pidfd_getfd, pfd, fd, 0);
	if (d == -1)
		return errno == EBADF ? -EBADF : -errno;
	return d;
}

pid_t
sup_tgid(struct sup_call *c)
{
	char path[64], buf[512], *t;
	ssize_t n;
	int fd;

	if (c->tgid != 0)
		return c->tgid;
	c->tgid = c->tid;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)c->tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return c->tgid;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	t = strstr(buf, "\nTgid:");
	if (t != NULL)
		c->tgid = (pid_t)strtol(t + 6, NULL, 10);
	return c->tgid;
}

const char *
sup_exe(struct sup_call *c)
{
	char path[64];
	ssize_t n;

	if (c->exe[0] != '\0')
		return c->exe;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)c->tid);
	n = readlink(path, c->exe, sizeof(c->exe) - 1);
	if (n <= 0)
		snprintf(c->exe, sizeof(c->exe), "?");
	else
		c->exe[n] = '\0';
	return c->exe;
}

bool
sup_has_shim(struct sup_call *c)
{
	static const char lib[] = "/libshim.so\n";
	char path[64], buf[8192 + sizeof(lib)];
	size_t keep = 0;
	ssize_t n;
	bool found = false;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)c->tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return false;
	/* a window of the file, with the last bytes of the one before, so
	 * a name cut between two reads is still seen */
	while (!found && (n = read(fd, buf + keep, 8192)) > 0) {
		size_t have = keep + (size_t)n;

		buf[have] = '\0';
		found = strstr(buf, lib) != NULL;
		keep = have < sizeof(lib) - 1 ? have : sizeof(lib) - 1;
		memmove(buf, buf + have - keep, keep);
	}
	close(fd);
	if (!found)
		return false;
	/* a Go program loads it and calls the kernel itself */
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)c->tid);
	return exec_check_path(path, NULL, 0) != EXEC_WHY_GO;
}

static void *receiver(void *arg);

static void
spawn(void)
{
	pthread_attr_t a;
	pthread_t t;
	sigset_t all, old;

	if (__atomic_add_fetch(&g_threads, 1, __ATOMIC_SEQ_CST) >
	    SUP_THREADS_MAX) {
		__atomic_sub_fetch(&g_threads, 1, __ATOMIC_SEQ_CST);
		return;
	}
	/* the main thread takes the signals it forwards to the command */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 256 * 1024);
	if (pthread_create(&t, &a, receiver, NULL) != 0)
		__atomic_sub_fetch(&g_threads, 1, __ATOMIC_SEQ_CST);
	pthread_attr_destroy(&a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void
sup_may_block(void)
{
	if (__atomic_load_n(&g_idle, __ATOMIC_SEQ_CST) == 0)
		spawn();
}

static void
answer(struct sup_call *c, struct seccomp_notif_resp *resp)
{
	int64_t val = 0;
	int err = 0;
	bool cont = false;

	sup_handle(c, &val, &err, &cont);
	memset(resp, 0, g_sz.seccomp_notif_resp);
	resp->id = c->id;
	if (cont) {
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	} else if (err != 0) {
		resp->error = -err;
		resp->val = 0;
	} else {
		resp->val = val;
	}
	/* ENOENT: the target died or was interrupted; nothing to answer */
	if (ioctl(c->lfd, SECCOMP_IOCTL_NOTIF_SEND, resp) == -1 &&
	    errno != ENOENT && errno != EINTR) {
		/* the listener is broken; the call fails with ENOSYS when
		 * it closes, nothing more to do here */
	}
}

static void *
receiver(void *arg)
{
	struct seccomp_notif *n = calloc(1, g_sz.seccomp_notif);
	struct seccomp_notif_resp *resp = calloc(1, g_sz.seccomp_notif_resp);
	struct sup_call c;
	int r;

	(void)arg;
	if (n == NULL || resp == NULL)
		goto out;
	for (;;) {
		memset(n, 0, g_sz.seccomp_notif);
		__atomic_add_fetch(&g_idle, 1, __ATOMIC_SEQ_CST);
		r = ioctl(g_lfd, SECCOMP_IOCTL_NOTIF_RECV, n);
		__atomic_sub_fetch(&g_idle, 1, __ATOMIC_SEQ_CST);
		if (r == -1 && (errno == EINTR || errno == ENOENT))
			continue;	/* ENOENT: the caller is gone */
		if (r == -1)
			break;
		memset(&c, 0, sizeof(c));
		c.p = g_pol;
		c.lfd = g_lfd;
		c.id = n->id;
		c.tid = (pid_t)n->pid;
		c.arch = n->data.arch;
		c.nr = n->data.nr;
		memcpy(c.args, n->data.args, sizeof(c.args));
		c.pidfd = -1;
		answer(&c, resp);
		if (c.pidfd >= 0)
			close(c.pidfd);
	}
out:
	free(n);
	free(resp);
	__atomic_sub_fetch(&g_threads, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

int
sup_serve(int lfd, const struct sup_policy *p)
{
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &g_sz) == -1)
		return -errno;
	/* the kernel's structs may have grown: never less than ours */
	if (g_sz.seccomp_notif < sizeof(struct seccomp_notif))
		g_sz.seccomp_notif = sizeof(struct seccomp_notif);
	if (g_sz.seccomp_notif_resp < sizeof(struct seccomp_notif_resp))
		g_sz.seccomp_notif_resp = sizeof(struct seccomp_notif_resp);
	/* a send to a peer that is gone must not kill proxywrap: EPIPE,
	 * and the caller gets its SIGPIPE from us (supervise_call.c) */
	signal(SIGPIPE, SIG_IGN);
	g_lfd = lfd;
	g_pol = p;
	sup_decide_init(p);
	spawn();
	spawn();
	return __atomic_load_n(&g_threads, __ATOMIC_SEQ_CST) > 0 ? 0 : -EAGAIN;
}
