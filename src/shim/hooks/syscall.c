/*
 * syscall.c - calls that reach the kernel without the usual libc
 * wrappers: syscall(SYS_connect, ...) and friends, and close_range() and
 * closefrom(), which would close the library's own fds along with the
 * program's.
 */
#include <errno.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "async.h"
#include "evid.h"
#include "fdtab.h"
#include "real.h"

#define HOOK __attribute__((visibility("default")))
#define FD_SCAN_MAX (1L << 20)	/* fdtab's range */

/*
 * A raw call that may put bytes or a FIN on a socket, or wait on one,
 * while a handshake is held for a program's first bytes (tunnel_early.c):
 * that handshake goes first (all of them for a wait on many fds, or for
 * io_uring's submissions), then the call goes to the kernel as it is.
 */
static __attribute__((noinline)) void
unhold_raw(long n, const long *a)
{
	switch (n) {
	case SYS_write:
	case SYS_writev:
	case SYS_sendfile:
	case SYS_shutdown:
	case SYS_read:
	case SYS_readv:
		async_early_flush((int)a[0]);
		break;
	case SYS_splice:
		async_early_flush((int)a[2]);
		break;
	case SYS_poll:
	case SYS_ppoll:
	case SYS_select:
	case SYS_pselect6:
	case SYS_epoll_wait:
	case SYS_epoll_pwait:
	case SYS_epoll_pwait2:
	case SYS_io_uring_enter:
		async_early_flush_all(false);
		break;
	}
}

/*
 * libc's syscall() takes six register arguments whatever the call; read
 * them the same way and hand the socket calls the shim routes to their
 * hooks (which keep libc's return and errno convention, as syscall()
 * does).  Everything else goes to the real syscall() unchanged.
 */
HOOK long
syscall(long n, ...)
{
	va_list ap;
	long a[6];
	int i;

	va_start(ap, n);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	switch (n) {
	case SYS_connect:
		return connect((int)a[0], (const struct sockaddr *)a[1],
			       (socklen_t)a[2]);
	case SYS_sendto:
		return sendto((int)a[0], (const void *)a[1], (size_t)a[2],
			      (int)a[3], (const struct sockaddr *)a[4],
			      (socklen_t)a[5]);
	case SYS_sendmsg:
		return sendmsg((int)a[0], (const struct msghdr *)a[1],
			       (int)a[2]);
	/* libuv (node, BIND's dig) batches datagrams with raw syscalls */
	case SYS_sendmmsg:
		return sendmmsg((int)a[0], (struct mmsghdr *)a[1],
				(unsigned int)a[2], (int)a[3]);
	case SYS_recvmmsg:
		return recvmmsg((int)a[0], (struct mmsghdr *)a[1],
				(unsigned int)a[2], (int)a[3],
				(struct timespec *)a[4]);
	case SYS_recvmsg:
		return recvmsg((int)a[0], (struct msghdr *)a[1], (int)a[2]);
	case SYS_recvfrom:
		return recvfrom((int)a[0], (void *)a[1], (size_t)a[2],
				(int)a[3], (struct sockaddr *)a[4],
				(socklen_t *)a[5]);
	case SYS_close:
		return close((int)a[0]);
	case SYS_close_range:
		return close_range((unsigned int)a[0], (unsigned int)a[1],
				   (int)a[2]);
	case SYS_dup3:
		return dup3((int)a[0], (int)a[1], (int)a[2]);
	case SYS_dup2:
		return dup2((int)a[0], (int)a[1]);
	}
	if (__builtin_expect(__atomic_load_n(&async_nheld, __ATOMIC_RELAXED), 0))
		unhold_raw(n, a);
	return real_syscall(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* Forget the fd-table state of every fd in lo..hi that was closed. */
static void
forget_range(unsigned int lo, unsigned int hi)
{
	struct rlimit rl;
	struct fd_entry *e;
	long end = FD_SCAN_MAX, fd;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (long)rl.rlim_cur < end)
		end = (long)rl.rlim_cur;
	if ((long)hi < end)
		end = (long)hi + 1;
	for (fd = lo; fd < end; fd++) {
		e = fdtab_get((int)fd);
		if (e == NULL || e->internal)
			continue;	/* never ours, or ours and still open */
		if (__atomic_load_n(&async_used, __ATOMIC_RELAXED))
			async_forget((int)fd);
		else
			fdtab_clear((int)fd);
	}
}

/* A tunnel about to be closed with a range: its close event, while the
 * fd still names the socket. */
static void
ended(int fd)
{
	struct fd_entry *e = fdtab_get(fd);
	struct evid *v;

	if (e != NULL && !e->internal &&
	    __atomic_load_n(&e->held, __ATOMIC_ACQUIRE))
		async_early_flush(fd);	/* as close() does */
	if (e == NULL || e->evid == NULL || e->internal)
		return;
	v = evid_take(e);
	if (v != NULL)
		evid_end(fd, v, __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) ==
			 FD_TUNNEL_READY, EVID_END_CLOSE);
}

/*
 * close_range(3, ~0U, 0) is how daemons and spawners close "everything
 * else": it must not take the library's own fds with it (the helper's
 * epoll fd, UDP control connections).  The range is split around ours.
 * CLOSE_RANGE_CLOEXEC only marks fds, ours already are.
 */
HOOK int
close_range(unsigned int lo, unsigned int hi, int flags)
{
	struct rlimit rl;
	unsigned int fd, start = lo, end = (unsigned int)FD_SCAN_MAX;
	int rc = 0, saved;

	if (lo > hi || (flags & CLOSE_RANGE_CLOEXEC))
		return real_close_range(lo, hi, flags);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < end)
		end = (unsigned int)rl.rlim_cur;
	for (fd = lo; fd <= hi && fd < end; fd++) {
		ended((int)fd);
		if (!async_internal_fd((int)fd) && !fdtab_internal((int)fd))
			continue;
		if (fd > start)
			rc = real_close_range(start, fd - 1, flags);
		if (rc == -1)
			return -1;
		start = fd + 1;
	}
	if (start <= hi)
		rc = real_close_range(start, hi, flags);
	if (rc == 0) {
		saved = errno;
		forget_range(lo, hi);
		errno = saved;
	}
	return rc;
}

/*
 * glibc's closefrom() (sshd and many daemons call it) reaches the kernel
 * without the close_range above: it would take the session's fds, which
 * the programs this one execs need.  The same close_range, then; on a
 * kernel without it each fd in turn (close() leaves ours).
 */
HOOK void
closefrom(int lo)
{
	struct rlimit rl;
	long fd, end = FD_SCAN_MAX;
	int saved = errno;

	if (lo < 0)
		lo = 0;
	if (close_range((unsigned int)lo, ~0U, 0) == 0) {
		errno = saved;
		return;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (long)rl.rlim_cur < end)
		end = (long)rl.rlim_cur;
	for (fd = lo; fd < end; fd++)
		close((int)fd);
	errno = saved;
}
