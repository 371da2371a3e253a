/*
 * readiness.c - the exported readiness calls: poll, ppoll, select,
 * pselect and the epoll family.
 *
 * Each hook jumps through a pointer: to libc's own function until the
 * process first has a pending tunnel (so a program that never has one
 * pays one indirect jump), then to the watching version below, which
 * still goes straight to libc while no tunnel is pending or failed (one
 * relaxed load) and otherwise lets ready.c answer for those fds as the
 * kernel would for a TCP connect in progress or refused.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>

#include "async.h"
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

/*
 * A wait for input on an fd whose handshake is held for the program's
 * first bytes (tunnel_early.c) would wait for nothing: it goes now.  A
 * wait that also asks to write returns at once (the socket is writable)
 * and the program's write takes the handshake with it.
 */
static bool
held_fd(int fd)
{
	struct fd_entry *e = fdtab_get(fd);

	return e != NULL && __atomic_load_n(&e->held, __ATOMIC_ACQUIRE);
}

static void
poll_unhold(const struct pollfd *fds, nfds_t n)
{
	nfds_t i;

	if (!__atomic_load_n(&async_nheld, __ATOMIC_RELAXED))
		return;
	for (i = 0; i < n; i++)
		if ((fds[i].events & READY_EARLY_HIDE) &&
		    !(fds[i].events & (POLLOUT | POLLWRNORM)) &&
		    held_fd(fds[i].fd))
			async_early_flush(fds[i].fd);
}

#define FDS_BITS (8 * (int)sizeof(fd_mask))
#define FD_ISIN(s, fd) ((s) != NULL && \
	((s)->fds_bits[(fd) / FDS_BITS] & ((fd_mask)1 << ((fd) % FDS_BITS))))

static void
select_unhold(int n, fd_set *r, fd_set *w, fd_set *x)
{
	int fd;

	if (!__atomic_load_n(&async_nheld, __ATOMIC_RELAXED))
		return;
	for (fd = 0; fd < n && fd < (1 << 20); fd++)
		if ((FD_ISIN(r, fd) || FD_ISIN(x, fd)) && !FD_ISIN(w, fd) &&
		    held_fd(fd))
			async_early_flush(fd);
}

static __attribute__((noinline)) int
slow_poll(struct pollfd *fds, nfds_t n, int ms)
{
	struct timespec ts;

	poll_unhold(fds, n);
	return ready_poll(fds, n, ms_ts(ms, &ts), NULL);
}

static int
watch_poll(struct pollfd *fds, nfds_t n, int ms)
{
	if (quiet() || !ready_poll_special(fds, n))
		return real_poll(fds, n, ms);
	return slow_poll(fds, n, ms);
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

static int
watch_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *t,
      const sigset_t *m)
{
	if (quiet() || !ready_poll_special(fds, n))
		return real_ppoll(fds, n, t, m);
	poll_unhold(fds, n);
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

static int
watch_select(int n, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv)
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
	select_unhold(n, r, w, x);
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

static int
watch_pselect(int n, fd_set *r, fd_set *w, fd_set *x, const struct timespec *t,
	const sigset_t *m)
{
	int rc;

	if (quiet() || (t != NULL && (t->tv_sec < 0 || t->tv_nsec < 0 ||
				      t->tv_nsec >= 1000000000)) ||
	    !ready_select_special(n, r, w, x))
		return real_pselect(n, r, w, x, t, m);
	select_unhold(n, r, w, x);
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

static int
watch_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	if (quiet())
		return real_epoll_ctl(epfd, op, fd, ev);
	/* a registration that waits to read and not to write */
	if (op != EPOLL_CTL_DEL && ev != NULL &&
	    (ev->events & (EPOLLIN | EPOLLPRI | EPOLLRDHUP | EPOLLRDNORM |
			   EPOLLRDBAND)) &&
	    !(ev->events & EPOLLOUT) &&
	    __atomic_load_n(&async_nheld, __ATOMIC_RELAXED) && held_fd(fd))
		async_early_flush(fd);
	return ready_epoll_ctl(epfd, op, fd, ev);
}

/* epoll_wait's answer, patched for failed tunnels (out of line: the
 * usual call pays one load and a jump). */
static __attribute__((noinline)) int
fixed(int epfd, struct epoll_event *ev, int rc)
{
	int saved = errno;

	if (rc > 0)
		ready_epoll_fix(epfd, ev, rc);
	errno = saved;
	return rc;
}

static inline bool
no_errs(void)
{
	return __builtin_expect(!__atomic_load_n(&ready_errs, __ATOMIC_RELAXED),
				1);
}

/* The calls with the patch, out of line: the usual call above them is a
 * load, a test and a jump. */
static __attribute__((noinline)) int
patched_epoll_wait(int epfd, struct epoll_event *ev, int n, int ms)
{
	return fixed(epfd, ev, real_epoll_wait(epfd, ev, n, ms));
}

static __attribute__((noinline)) int
patched_epoll_pwait(int epfd, struct epoll_event *ev, int n, int ms,
		    const sigset_t *m)
{
	return fixed(epfd, ev, real_epoll_pwait(epfd, ev, n, ms, m));
}

static __attribute__((noinline)) int
patched_epoll_pwait2(int epfd, struct epoll_event *ev, int n,
		     const struct timespec *t, const sigset_t *m)
{
	return fixed(epfd, ev, real_epoll_pwait2(epfd, ev, n, t, m));
}

static int
watch_epoll_wait(int epfd, struct epoll_event *ev, int n, int ms)
{
	if (no_errs())
		return real_epoll_wait(epfd, ev, n, ms);
	return patched_epoll_wait(epfd, ev, n, ms);
}

static int
watch_epoll_pwait(int epfd, struct epoll_event *ev, int n, int ms,
		  const sigset_t *m)
{
	if (no_errs())
		return real_epoll_pwait(epfd, ev, n, ms, m);
	return patched_epoll_pwait(epfd, ev, n, ms, m);
}

static int
watch_epoll_pwait2(int epfd, struct epoll_event *ev, int n,
		   const struct timespec *t, const sigset_t *m)
{
	if (no_errs())
		return real_epoll_pwait2(epfd, ev, n, t, m);
	return patched_epoll_pwait2(epfd, ev, n, t, m);
}

/*
 * The jump pointers.  first_NAME runs once: it looks libc's function up
 * and, unless a tunnel is pending by then, puts it in the pointer.
 */
#define JUMP(name, params, args)					\
	static int first_##name params;					\
	static int(*go_##name) params = first_##name;			\
	static int first_##name params					\
	{								\
		int(*fn_) params = real_fn_##name();			\
		int(*was_) params = first_##name;			\
									\
		arm_once();						\
		if (fn_ != NULL)					\
			__atomic_compare_exchange_n(&go_##name, &was_, fn_, \
						    false, __ATOMIC_ACQ_REL,\
						    __ATOMIC_ACQUIRE);	\
		if (__atomic_load_n(&go_##name, __ATOMIC_ACQUIRE) ==	\
		    first_##name)					\
			return real_##name args;	/* ENOSYS */	\
		return go_##name args;					\
	}								\
	HOOK int name params						\
	{								\
		return __atomic_load_n(&go_##name, __ATOMIC_RELAXED) args; \
	}

static void arm_once(void);

JUMP(poll, (struct pollfd *fds, nfds_t n, int ms), (fds, n, ms))
JUMP(ppoll, (struct pollfd *fds, nfds_t n, const struct timespec *t,
	     const sigset_t *m), (fds, n, t, m))
JUMP(select, (int n, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv),
     (n, r, w, x, tv))
JUMP(pselect, (int n, fd_set *r, fd_set *w, fd_set *x,
	       const struct timespec *t, const sigset_t *m),
     (n, r, w, x, t, m))
JUMP(epoll_ctl, (int epfd, int op, int fd, struct epoll_event *ev),
     (epfd, op, fd, ev))
JUMP(epoll_wait, (int epfd, struct epoll_event *ev, int n, int ms),
     (epfd, ev, n, ms))
JUMP(epoll_pwait, (int epfd, struct epoll_event *ev, int n, int ms,
		   const sigset_t *m), (epfd, ev, n, ms, m))
JUMP(epoll_pwait2, (int epfd, struct epoll_event *ev, int n,
		    const struct timespec *t, const sigset_t *m),
     (epfd, ev, n, t, m))

/* A tunnel is pending: from now on every hook looks. */
static void
arm(void)
{
	__atomic_store_n(&go_poll, watch_poll, __ATOMIC_RELEASE);
	__atomic_store_n(&go_ppoll, watch_ppoll, __ATOMIC_RELEASE);
	__atomic_store_n(&go_select, watch_select, __ATOMIC_RELEASE);
	__atomic_store_n(&go_pselect, watch_pselect, __ATOMIC_RELEASE);
	__atomic_store_n(&go_epoll_ctl, watch_epoll_ctl, __ATOMIC_RELEASE);
	__atomic_store_n(&go_epoll_wait, watch_epoll_wait, __ATOMIC_RELEASE);
	__atomic_store_n(&go_epoll_pwait, watch_epoll_pwait, __ATOMIC_RELEASE);
	__atomic_store_n(&go_epoll_pwait2, watch_epoll_pwait2,
			 __ATOMIC_RELEASE);
}

static void
arm_once(void)
{
	static int done;

	if (!__atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL))
		ready_on_first_pending(arm);
}
