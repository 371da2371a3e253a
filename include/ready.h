/*
 * ready.h - the readiness contract: while a tunnel's handshake is under
 * way, its socket looks to the program like a TCP connect in progress.
 *
 * The kernel sees a socket connected to the proxy, so left alone it would
 * call the socket writable (and readable, once the proxy answers) long
 * before the tunnel is up.  This layer keeps the kernel's answer for every
 * fd but those:
 *
 *  - epoll: a pending fd's registrations are changed (EPOLL_CTL_MOD) to
 *    ask for nothing, and put back as the program made them when the
 *    tunnel ends; putting them back is what wakes epoll_wait, once, as the
 *    kernel's own connect completion would (one edge for EPOLLET).
 *    Registrations made before the connect are found in
 *    /proc/self/fdinfo of the process's epoll fds.
 *  - poll, ppoll, select, pselect: a pending fd is left out of the
 *    kernel's wait, and the thread also waits on its own eventfd, which
 *    the helper writes when any tunnel ends; then the wait is redone.
 *  - a failed tunnel: its socket is shut down, so the kernel reports
 *    POLLIN|POLLOUT|POLLHUP as for a refused connect; POLLERR is added
 *    until the error is taken (SO_ERROR, connect, a read or write).
 *
 *  - an optimistic tunnel (FD_TUNNEL_EARLY, tunnel_early.c) is connected
 *    to the program but the proxy's replies are still to be read: the
 *    kernel answers for it, without POLLIN (and the other read events),
 *    until they are; then its registrations go back whole.
 *
 * A process that never had a pending tunnel pays one relaxed load per
 * readiness call; one that has, pays a table lookup per fd in the call.
 */
#ifndef PROXYWRAP_READY_H
#define PROXYWRAP_READY_H

#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>

#include "fdtab.h"

/* fds whose readiness the kernel misreports: pending tunnels, and failed
 * ones whose error the program has not taken yet.  0: every readiness
 * call goes straight to libc. */
extern int ready_live;
/* Of those, failed tunnels with epoll registrations to patch. */
extern int ready_errs;

/* e's readiness is not the kernel's: a pending tunnel, or a failed one
 * whose error is not taken (and not one of the library's own fds). */
static inline bool
ready_entry_special(const struct fd_entry *e)
{
	int state = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE);

	return !e->internal && (state == FD_TUNNEL_PENDING ||
				state == FD_TUNNEL_EARLY ||
				(state == FD_TUNNEL_FAILED && e->err_unread));
}

/* A program's epoll registration of a pending or failed tunnel's fd. */
struct ep_reg {
	int epfd;
	struct epoll_event ev;		/* as the program asked */
	struct ep_reg *next;
};

/*
 * fd is about to connect to its first proxy: hide it in every epoll set
 * that holds it already.  Returns the registrations found (to hand to
 * ready_pending), NULL when none.
 */
struct ep_reg *ready_hide(int fd);

/* The hidden registrations go back as they were (a connect that failed
 * at once, before any tunnel).  Frees the list. */
void ready_unhide(int fd, struct ep_reg *ep);

/* cb is called when the process has a pending tunnel (at once if it has
 * one now, else at the next), each time: the hooks then start looking. */
void ready_on_first_pending(void (*cb)(void));

/* e (for fd) is now a pending tunnel with the registrations ep. */
void ready_pending(struct fd_entry *e, struct ep_reg *ep);

/*
 * e's tunnel went optimistic (tunnel_early.c): the program sees its
 * connect complete (its epoll registrations come back without the read
 * events: the edge) while the proxy's replies are still to come.
 */
void ready_early(struct fd_entry *e);

/* One of the program's epoll registrations of e's fd waits to read and
 * not to write (a handshake held for its first bytes must not wait on
 * it: tunnel_early.c). */
bool ready_waits_to_read(struct fd_entry *e);

/* The read events an optimistic tunnel's socket does not report. */
#define READY_EARLY_HIDE (POLLIN | POLLRDNORM | POLLRDBAND | POLLPRI | \
			  POLLRDHUP)

/*
 * e's handshake ended: rc 0 (up) or -errno.  Sets e's state, puts its
 * epoll registrations back and wakes every thread waiting in poll or
 * select.  The socket of a failed tunnel must already be shut down.
 */
void ready_end(struct fd_entry *e, int rc);

/*
 * The error of failed tunnel e, if the program has not taken it yet:
 * returns it (a positive errno) and marks it taken; else 0.
 */
int ready_take_err(int fd, struct fd_entry *e);

/* fd (entry e) is closed or replaced: drop what this layer holds. */
void ready_forget(int fd, struct fd_entry *e);

/* A tunnel ended: every thread waiting in poll or select looks again. */
void ready_wake_all(void);

/* The readiness calls, for the hooks.  Each behaves as libc's. */
int ready_poll(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
	       const sigset_t *mask);
int ready_select(int n, fd_set *r, fd_set *w, fd_set *x,
		 const struct timespec *tmo, const sigset_t *mask,
		 struct timespec *left);
int ready_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);
void ready_epoll_fix(int epfd, struct epoll_event *ev, int n);
/* One bit per fd below READY_BITS: set while ready_entry_special would
 * say true of its entry, so a wait's look at an fd is one load. */
#define READY_BITS 65536
extern unsigned long ready_bits[READY_BITS / 64];

static inline bool
ready_fd_special(int fd)
{
	struct fd_entry *e;

	if ((unsigned int)fd < READY_BITS)
		return (__atomic_load_n(&ready_bits[fd / 64],
					__ATOMIC_RELAXED) >> (fd % 64)) & 1;
	e = fdtab_get(fd);
	return e != NULL && ready_entry_special(e);
}

/* True when one of fds is pending or failed (poll's own answer would be
 * wrong for it). */
static inline bool
ready_poll_special(const struct pollfd *fds, nfds_t n)
{
	nfds_t i;

	if (fds == NULL)
		return false;
	for (i = 0; i < n; i++)
		if (__builtin_expect(ready_fd_special(fds[i].fd), 0))
			return true;
	return false;
}

/* True when an fd in select's sets is pending or failed (select's own
 * answer would be wrong for it). */
bool ready_select_special(int n, fd_set *r, fd_set *w, fd_set *x);

/* An epoll fd was created: registrations on it may need hiding later. */
void ready_epoll_new(int epfd);

#endif
