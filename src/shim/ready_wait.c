/*
 * ready_wait.c - poll, ppoll, select and pselect for a process with
 * pending tunnels (see ready.h).
 *
 * A pending fd is left out of the kernel's wait, and the thread waits on
 * its own eventfd besides, which ready_wake_all writes whenever a tunnel
 * ends; the wait is then redone with that fd's new state.  One mutex
 * (wmu) guards the list of threads; ready.c calls in with its own lock
 * held, never the other way round.  The bitmap of special fds a wait
 * looks at lives here too: ready.c sets it, the waits read it.
 */
#include "ready.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fdtab.h"
#include "real.h"

unsigned long ready_bits[READY_BITS / 64];

static pthread_mutex_t wmu = PTHREAD_MUTEX_INITIALIZER;

/* ---- threads waiting in poll or select ---- */

struct waiter {
	int efd;			/* eventfd: written when a tunnel ends */
	int armed;			/* >0 while in a wait (nested: signal
					 * handlers) */
	struct waiter *next, *prev;
};

static struct waiter *waiters;
static unsigned long ready_gen;	/* +1 each time a tunnel ends */
static pthread_key_t waiter_key;
static pthread_once_t waiter_once = PTHREAD_ONCE_INIT;
static __thread struct waiter *self;

static void
waiter_exit(void *p)
{
	struct waiter *w = p;

	pthread_mutex_lock(&wmu);
	if (w->prev != NULL)
		w->prev->next = w->next;
	else if (waiters == w)
		waiters = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	pthread_mutex_unlock(&wmu);
	/* the number is the program's again: not ours to protect */
	fdtab_clear(w->efd);
	real_close(w->efd);
	free(w);
}

/* A forked child has this thread only. */
static void
waiter_atfork_child(void)
{
	pthread_mutex_init(&wmu, NULL);
	waiters = self;
	if (self != NULL) {
		self->next = self->prev = NULL;
		self->armed = 0;
	}
}

static void
waiter_init(void)
{
	pthread_key_create(&waiter_key, waiter_exit);
	pthread_atfork(NULL, NULL, waiter_atfork_child);
}

/* This thread's waiter, made on first use; NULL when no eventfd can be
 * had (then waits are cut in slices instead). */
static struct waiter *
waiter_self(void)
{
	struct waiter *w;
	struct fd_entry *e;
	int fd;

	if (self != NULL)
		return self;
	pthread_once(&waiter_once, waiter_init);
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd == -1)
		return NULL;
	fd = fdtab_high(fd);
	w = calloc(1, sizeof(*w));
	e = w != NULL ? fdtab_set(fd) : NULL;
	if (e == NULL) {
		free(w);
		real_close(fd);
		return NULL;
	}
	e->internal = true;	/* the program's close() cannot take it */
	w->efd = fd;
	pthread_mutex_lock(&wmu);
	w->next = waiters;
	if (waiters != NULL)
		waiters->prev = w;
	waiters = w;
	pthread_mutex_unlock(&wmu);
	self = w;
	pthread_setspecific(waiter_key, w);
	return w;
}

void
ready_wake_all(void)
{
	static const uint64_t one = 1;
	struct waiter *w;

	__atomic_add_fetch(&ready_gen, 1, __ATOMIC_SEQ_CST);
	/* a thread that ends frees its waiter under wmu */
	pthread_mutex_lock(&wmu);
	for (w = waiters; w != NULL; w = w->next)
		if (__atomic_load_n(&w->armed, __ATOMIC_SEQ_CST) > 0)
			real_write(w->efd, &one, sizeof(one));
	pthread_mutex_unlock(&wmu);
}

/* ---- poll and select ---- */

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* When a wait of t from now ends (CLOCK_MONOTONIC, ns). */
static int64_t
deadline(const struct timespec *t)
{
	return now_ns() + (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

/* What is left until end, never below 0, as a timespec in *ts; the ns. */
static int64_t
time_left(int64_t end, struct timespec *ts)
{
	int64_t rest = end - now_ns();

	if (rest < 0)
		rest = 0;
	ts->tv_sec = rest / 1000000000;
	ts->tv_nsec = rest % 1000000000;
	return rest;
}

/* How a pending, optimistic or failed fd stands in a wait. */
enum view { V_KERNEL, V_HIDDEN, V_NOREAD, V_ERR };

static enum view
view_of(int fd)
{
	struct fd_entry *e;

	if (!ready_fd_special(fd) || (e = fdtab_get(fd)) == NULL)
		return V_KERNEL;
	switch (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE)) {
	case FD_TUNNEL_PENDING:
		return V_HIDDEN;
	case FD_TUNNEL_EARLY:
		return V_NOREAD;
	case FD_TUNNEL_FAILED:
		return e->err_unread ? V_ERR : V_KERNEL;
	}
	return V_KERNEL;	/* up: its bit is going */
}

#define POLL_STACK 64

int
ready_poll(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
	   const sigset_t *mask)
{
	struct pollfd stack[POLL_STACK + 1], *p = stack;
	struct timespec left, *lp = NULL;
	struct waiter *w;
	int64_t end = 0, rest = 0;
	unsigned long gen;
	uint64_t drain;
	nfds_t i;
	int rc, k, saved;
	bool special;

	if (fds == NULL ||
	    (tmo != NULL && (tmo->tv_sec < 0 || tmo->tv_nsec < 0 ||
			     tmo->tv_nsec >= 1000000000)))
		return real_ppoll(fds, n, tmo, mask);
	if (tmo != NULL)
		end = deadline(tmo);
	w = waiter_self();
	if (n + 1 > POLL_STACK + 1) {
		p = malloc((n + 1) * sizeof(*p));
		if (p == NULL)
			return real_ppoll(fds, n, tmo, mask);
	}
	if (w != NULL)
		__atomic_add_fetch(&w->armed, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		gen = __atomic_load_n(&ready_gen, __ATOMIC_SEQ_CST);
		special = false;
		for (i = 0; i < n; i++) {
			p[i] = fds[i];
			p[i].revents = 0;
			switch (view_of(fds[i].fd)) {
			case V_HIDDEN:
				p[i].fd = -1;	/* the kernel skips it */
				special = true;
				break;
			case V_NOREAD:
				/* the proxy's replies are not for the
				 * program: only the other events */
				p[i].events &= (short)~READY_EARLY_HIDE;
				special = true;
				break;
			case V_ERR:
				special = true;
				break;
			case V_KERNEL:
				break;
			}
		}
		if (!special) {
			/* nothing of ours (any more): the kernel's answer */
			if (tmo != NULL) {
				time_left(end, &left);
				lp = &left;
			}
			rc = real_ppoll(fds, n, lp, mask);
			break;
		}
		k = (int)n;
		if (w != NULL) {
			p[n].fd = w->efd;
			p[n].events = POLLIN;
			p[n].revents = 0;
			k++;
		}
		if (tmo != NULL) {
			rest = time_left(end, &left);
			lp = &left;
		}
		/* a tunnel ended since the look above: look again */
		if (__atomic_load_n(&ready_gen, __ATOMIC_SEQ_CST) != gen)
			continue;
		if (w == NULL && (lp == NULL || rest > 10000000)) {
			/* no eventfd: look again every 10 ms */
			left.tv_sec = 0;
			left.tv_nsec = 10000000;
			lp = &left;
		}
		rc = real_ppoll(p, (nfds_t)k, lp, mask);
		if (rc < 0)
			break;
		if (w != NULL && p[n].revents != 0) {
			rc--;
			saved = errno;
			real_read(w->efd, &drain, sizeof(drain));
			errno = saved;
		}
		for (i = 0; i < n; i++) {
			fds[i].revents = p[i].revents;
			if (p[i].fd >= 0 && view_of(fds[i].fd) == V_ERR) {
				if (fds[i].revents == 0)
					rc++;
				fds[i].revents |= POLLERR;
			}
		}
		if (rc > 0)
			break;
		if (tmo != NULL && end - now_ns() <= 0) {
			rc = 0;
			break;
		}
	}
	if (w != NULL)
		__atomic_sub_fetch(&w->armed, 1, __ATOMIC_SEQ_CST);
	if (p != stack) {
		saved = errno;
		free(p);
		errno = saved;
	}
	return rc;
}

/*
 * select as poll (fd_set bits above FD_SETSIZE included, as the kernel
 * takes them): readable is POLLIN|POLLHUP|POLLERR, writable
 * POLLOUT|POLLERR, exceptional POLLPRI.  left: where the time left goes
 * (select's timeval, as Linux updates it), or NULL.
 */
#define FDS_BITS (8 * (int)sizeof(fd_mask))
#define FD_ISIN(s, fd) ((s) != NULL && \
	((s)->fds_bits[(fd) / FDS_BITS] & ((fd_mask)1 << ((fd) % FDS_BITS))))

int
ready_select(int n, fd_set *r, fd_set *w, fd_set *x,
	     const struct timespec *tmo, const sigset_t *mask,
	     struct timespec *left)
{
	struct pollfd *p;
	int fd, k = 0, i, rc, bits = 0;
	int64_t end = 0;
	size_t words;

	if (n < 0 || n > 1 << 20)
		return -2;	/* the caller asks libc */
	p = malloc(((size_t)n + 1) * sizeof(*p));
	if (p == NULL)
		return -2;
	for (fd = 0; fd < n; fd++) {
		short ev = 0;

		if (FD_ISIN(r, fd))
			ev |= POLLIN;
		if (FD_ISIN(w, fd))
			ev |= POLLOUT;
		if (FD_ISIN(x, fd))
			ev |= POLLPRI;
		if (ev == 0)
			continue;
		p[k].fd = fd;
		p[k].events = ev;
		p[k].revents = 0;
		k++;
	}
	if (tmo != NULL)
		end = deadline(tmo);
	rc = ready_poll(p, (nfds_t)k, tmo, mask);
	if (rc < 0) {
		free(p);
		return -1;
	}
	for (i = 0; i < k; i++)
		if (p[i].revents & POLLNVAL) {
			free(p);
			errno = EBADF;
			return -1;
		}
	words = ((size_t)n + FDS_BITS - 1) / FDS_BITS;
	if (r != NULL)
		memset(r->fds_bits, 0, words * sizeof(fd_mask));
	if (w != NULL)
		memset(w->fds_bits, 0, words * sizeof(fd_mask));
	if (x != NULL)
		memset(x->fds_bits, 0, words * sizeof(fd_mask));
	for (i = 0; i < k; i++) {
		short re = p[i].revents, ev = p[i].events;

		fd = p[i].fd;
		if ((ev & POLLIN) && (re & (POLLIN | POLLHUP | POLLERR))) {
			FD_SET(fd, r);
			bits++;
		}
		if ((ev & POLLOUT) && (re & (POLLOUT | POLLERR))) {
			FD_SET(fd, w);
			bits++;
		}
		if ((ev & POLLPRI) && (re & POLLPRI)) {
			FD_SET(fd, x);
			bits++;
		}
	}
	free(p);
	if (left != NULL && tmo != NULL)
		time_left(end, left);
	return bits;
}

bool
ready_select_special(int n, fd_set *r, fd_set *w, fd_set *x)
{
	fd_mask m;
	int i, b, fd;

	if (n <= 0 || n > 1 << 20)
		return false;
	for (i = 0; i < (n + FDS_BITS - 1) / FDS_BITS; i++) {
		m = (r != NULL ? r->fds_bits[i] : 0) |
		    (w != NULL ? w->fds_bits[i] : 0) |
		    (x != NULL ? x->fds_bits[i] : 0);
		while (m != 0) {
			b = __builtin_ctzl((unsigned long)m);
			m &= m - 1;
			fd = i * FDS_BITS + b;
			if (fd < n && ready_fd_special(fd))
				return true;
		}
	}
	return false;
}
