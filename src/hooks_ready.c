/*
 * hooks_ready.c - the exported readiness calls: poll, ppoll, select,
 * pselect and the epoll family.  Each goes straight to libc until the
 * process has a pending tunnel or an untaken tunnel error (one relaxed
 * load); then ready.c answers for those fds as the kernel would for a TCP
 * connect in progress or refused.
 */
#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>

#include "ready.h"
#include "real.h"

#define HOOK __attribute__((visibility("default")))

static inline bool
quiet(void)
{
	return __builtin_expect(!__atomic_load_n(&ready_live, __ATOMIC_RELAXED),
				1);
}

/* poll's timeout in ms as ppoll's; NULL for a negative (infinite) one. */
static const struct timespec *
ms_ts(int ms, struct timespec *ts)
{
	if (ms < 0)
		return NULL;
	ts->tv_sec = ms / 1000;
	ts->tv_nsec = (long)(ms % 1000) * 1000000;
	return ts;
}

HOOK int
poll(struct pollfd *fds, nfds_t n, int ms)
{
	struct timespec ts;

	if (quiet())
		return real_poll(fds, n, ms);
	return ready_poll(fds, n, ms_ts(ms, &ts), NULL);
}

int __poll(struct pollfd *fds, nfds_t n, int ms);
int __select(int n, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv);

HOOK int
__poll(struct pollfd *fds, nfds_t n, int ms)
{
	return poll(fds, n, ms);
}

extern void __chk_fail(void) __attribute__((noreturn));
int __poll_chk(struct pollfd *fds, nfds_t n, int ms, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *t,
		const sigset_t *m, size_t fdslen);

/* Fortified programs call these: the same check glibc makes. */
HOOK int
__poll_chk(struct pollfd *fds, nfds_t n, int ms, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		__chk_fail();
	return poll(fds, n, ms);
}

HOOK int
ppoll(struct pollfd *fds, nfds_t n, const struct timespec *t,
      const sigset_t *m)
{
	if (quiet())
		return real_ppoll(fds, n, t, m);
	return ready_poll(fds, n, t, m);
}

HOOK int
__ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *t,
	    const sigset_t *m, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		__chk_fail();
	return ppoll(fds, n, t, m);
}

HOOK int
select(int n, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv)
{
	struct timespec ts, left;
	int rc;

	if (quiet() || (tv != NULL && (tv->tv_sec < 0 || tv->tv_usec < 0 ||
				       tv->tv_usec >= 1000000)) ||
	    !ready_select_special(n, r, w, x))
		return real_select(n, r, w, x, tv);
	if (tv != NULL) {
		ts.tv_sec = tv->tv_sec;
		ts.tv_nsec = tv->tv_usec * 1000;
	}
	rc = ready_select(n, r, w, x, tv != NULL ? &ts : NULL, NULL, &left);
	if (rc == -2)
		return real_select(n, r, w, x, tv);
	if (tv != NULL) {	/* Linux tells the time left */
		tv->tv_sec = left.tv_sec;
		tv->tv_usec = left.tv_nsec / 1000;
	}
	return rc;
}

HOOK int
__select(int n, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv)
{
	return select(n, r, w, x, tv);
}

HOOK int
pselect(int n, fd_set *r, fd_set *w, fd_set *x, const struct timespec *t,
	const sigset_t *m)
{
	int rc;

	if (quiet() || (t != NULL && (t->tv_sec < 0 || t->tv_nsec < 0 ||
				      t->tv_nsec >= 1000000000)) ||
	    !ready_select_special(n, r, w, x))
		return real_pselect(n, r, w, x, t, m);
	rc = ready_select(n, r, w, x, t, m, NULL);
	if (rc == -2)
		return real_pselect(n, r, w, x, t, m);
	return rc;
}

HOOK int
epoll_create(int size)
{
	int fd = real_epoll_create(size);

	ready_epoll_new(fd);
	return fd;
}

HOOK int
epoll_create1(int flags)
{
	int fd = real_epoll_create1(flags);

	ready_epoll_new(fd);
	return fd;
}

HOOK int
epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	if (quiet())
		return real_epoll_ctl(epfd, op, fd, ev);
	return ready_epoll_ctl(epfd, op, fd, ev);
}

static inline int
fixed(int epfd, struct epoll_event *ev, int rc)
{
	if (__builtin_expect(__atomic_load_n(&ready_errs, __ATOMIC_RELAXED) !=
			     0, 0) && rc > 0) {
		int saved = errno;

		ready_epoll_fix(epfd, ev, rc);
		errno = saved;
	}
	return rc;
}

HOOK int
epoll_wait(int epfd, struct epoll_event *ev, int n, int ms)
{
	return fixed(epfd, ev, real_epoll_wait(epfd, ev, n, ms));
}

HOOK int
epoll_pwait(int epfd, struct epoll_event *ev, int n, int ms,
	    const sigset_t *m)
{
	return fixed(epfd, ev, real_epoll_pwait(epfd, ev, n, ms, m));
}

HOOK int
epoll_pwait2(int epfd, struct epoll_event *ev, int n,
	     const struct timespec *t, const sigset_t *m)
{
	return fixed(epfd, ev, real_epoll_pwait2(epfd, ev, n, t, m));
}
