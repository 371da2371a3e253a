/*
 * ready.c - the readiness contract for pending tunnels (see ready.h).
 *
 * One mutex (rmu) guards the epoll bookkeeping: the registrations kept in
 * fd entries, the list of epoll fds (ready_wait.c has the waits).  The
 * tunnel helper (async.c) calls ready_end with its own lock held; this
 * file never takes that lock, so the order is always async, then ready.
 */
#include "ready.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "epregs.h"
#include "fdtab.h"
#include "real.h"
#include "tunnel.h"

int ready_live;
int ready_errs;

/* With rmu held: fd's bit in ready_bits. */
static void
mark(int fd, bool on)
{
	unsigned long bit;

	if (fd < 0 || fd >= READY_BITS)
		return;
	bit = 1UL << (fd % 64);
	if (on)
		__atomic_or_fetch(&ready_bits[fd / 64], bit, __ATOMIC_SEQ_CST);
	else
		__atomic_and_fetch(&ready_bits[fd / 64], ~bit,
				   __ATOMIC_SEQ_CST);
}

static pthread_mutex_t rmu = PTHREAD_MUTEX_INITIALIZER;

/* What a registration of a pending fd asks for: nothing but its flags
 * (the kernel adds EPOLLERR and EPOLLHUP regardless). */
#define EP_FLAGS (EPOLLET | EPOLLONESHOT | EPOLLWAKEUP)

/* ---- epoll fds of the process ---- */

#define EPFDS_MAX 64
static int epfds[EPFDS_MAX];
static int nepfds;

void
ready_epoll_new(int epfd)
{
	int i, j, saved = errno;

	if (epfd < 0)
		return;
	pthread_mutex_lock(&rmu);
	for (i = 0; i < nepfds; i++)
		if (epfds[i] == epfd)
			goto out;
	if (nepfds == EPFDS_MAX) {
		/* numbers of closed epoll fds go */
		for (i = j = 0; i < nepfds; i++)
			if (epregs_is_epoll(epfds[i]))
				epfds[j++] = epfds[i];
		nepfds = j;
	}
	if (nepfds < EPFDS_MAX)
		epfds[nepfds++] = epfd;
out:
	pthread_mutex_unlock(&rmu);
	errno = saved;
}

/* fd's registrations in epoll set epfd, prepended to *out. */
static void
scan_fdinfo(int epfd, int fd, unsigned long ino, struct ep_reg **out)
{
	struct epreg found[16];
	struct ep_reg *r;
	size_t i, n = epregs_read(epfd, fd, ino, found, 0, 16);

	for (i = 0; i < n; i++) {
		r = calloc(1, sizeof(*r));
		if (r == NULL)
			return;
		r->epfd = epfd;
		r->ev = found[i].ev;
		r->next = *out;
		*out = r;
	}
}

/* What a registration may ask of the kernel for an fd in e's state:
 * nothing but its flags while pending, no read events while optimistic
 * (the proxy's replies are not the program's), all of it otherwise. */
#define EP_ALL (~(uint32_t)0)

static uint32_t
ep_mask(const struct fd_entry *e)
{
	switch (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE)) {
	case FD_TUNNEL_PENDING:
		return EP_FLAGS;
	case FD_TUNNEL_EARLY:
		return ~(uint32_t)READY_EARLY_HIDE;
	}
	return EP_ALL;
}

/* Ask the kernel on r's registration of fd for what the program asked,
 * less what mask leaves out. */
static void
ep_apply(int fd, const struct ep_reg *r, uint32_t mask)
{
	struct epoll_event ev = r->ev;

	ev.events &= mask;
	real_epoll_ctl(r->epfd, EPOLL_CTL_MOD, fd, &ev);
}

static void
ep_free(struct ep_reg *r)
{
	struct ep_reg *next;

	for (; r != NULL; r = next) {
		next = r->next;
		free(r);
	}
}

struct ep_reg *
ready_hide(int fd)
{
	struct ep_reg *ep = NULL, *r;
	int i, saved = errno;
	struct stat st;

	if (__atomic_load_n(&nepfds, __ATOMIC_RELAXED) == 0)
		return NULL;
	if (fstat(fd, &st) == -1)
		st.st_ino = 0;
	pthread_mutex_lock(&rmu);
	for (i = 0; i < nepfds; i++)
		scan_fdinfo(epfds[i], fd, (unsigned long)st.st_ino, &ep);
	for (r = ep; r != NULL; r = r->next)
		ep_apply(fd, r, EP_FLAGS);
	pthread_mutex_unlock(&rmu);
	errno = saved;
	return ep;
}

void
ready_unhide(int fd, struct ep_reg *ep)
{
	struct ep_reg *r;
	int saved = errno;

	for (r = ep; r != NULL; r = r->next)
		ep_apply(fd, r, EP_ALL);
	ep_free(ep);
	errno = saved;
}

/* ---- tunnel life ---- */

/*
 * With rmu held: fd, a failed tunnel whose error is not taken, has epoll
 * registrations (on) or no longer has (off).  epoll_wait's answers are
 * patched for the fds listed here; beyond ERRFDS_MAX of them, for those
 * whose registration's data is their fd.
 */
#define ERRFDS_MAX 64
static int errfds[ERRFDS_MAX];
static int nerrfds;

static void
errs_note(int fd, bool on)
{
	int i;

	if (on) {
		__atomic_add_fetch(&ready_errs, 1, __ATOMIC_SEQ_CST);
		if (nerrfds < ERRFDS_MAX)
			errfds[nerrfds++] = fd;
		return;
	}
	__atomic_sub_fetch(&ready_errs, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < nerrfds; i++)
		if (errfds[i] == fd) {
			errfds[i] = errfds[--nerrfds];
			break;
		}
}


static void (*first_pending)(void);

/*
 * A forked child has no helper: the handshakes under way are the
 * parent's to finish (async.c), so in the child their sockets answer as
 * the kernel's again, as they did before this layer.
 */
static void
atfork_child(void)
{
	pthread_mutex_init(&rmu, NULL);
	/* the counts stay (closes still take them down): they only make
	 * the hooks look, and the bits say what they find */
	memset(ready_bits, 0, sizeof(ready_bits));
}

static void
atfork_init(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
}

void
ready_on_first_pending(void (*cb)(void))
{
	__atomic_store_n(&first_pending, cb, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&ready_live, __ATOMIC_SEQ_CST) != 0)
		cb();
}

void
ready_pending(struct fd_entry *e, struct ep_reg *ep)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	void (*cb)(void);

	pthread_once(&once, atfork_init);
	pthread_mutex_lock(&rmu);
	e->ep = ep;
	e->acked = false;
	e->err_unread = false;
	__atomic_store_n(&e->state, FD_TUNNEL_PENDING, __ATOMIC_RELEASE);
	if (!e->internal && e->tun != NULL)
		mark(e->tun->fd, true);
	__atomic_add_fetch(&ready_live, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&rmu);
	cb = __atomic_load_n(&first_pending, __ATOMIC_SEQ_CST);
	if (cb != NULL)
		cb();
}

void
ready_early(struct fd_entry *e)
{
	struct ep_reg *r;
	int fd = -1;

	pthread_mutex_lock(&rmu);
	if (e->tun != NULL)
		fd = e->tun->fd;
	__atomic_store_n(&e->state, FD_TUNNEL_EARLY, __ATOMIC_RELEASE);
	/* asking for the write events again is the connect's edge */
	for (r = e->ep; fd != -1 && r != NULL; r = r->next)
		ep_apply(fd, r, ~(uint32_t)READY_EARLY_HIDE);
	ready_wake_all();
	pthread_mutex_unlock(&rmu);
}

bool
ready_waits_to_read(struct fd_entry *e)
{
	const uint32_t in = EPOLLIN | EPOLLPRI | EPOLLRDHUP | EPOLLRDNORM |
			    EPOLLRDBAND;
	struct ep_reg *r;
	bool w = false;

	pthread_mutex_lock(&rmu);
	for (r = e->ep; r != NULL; r = r->next)
		if ((r->ev.events & in) && !(r->ev.events & EPOLLOUT))
			w = true;
	pthread_mutex_unlock(&rmu);
	return w;
}

void
ready_end(struct fd_entry *e, int rc)
{
	struct ep_reg *r;
	int fd = -1;

	pthread_mutex_lock(&rmu);
	if (e->tun != NULL)
		fd = e->tun->fd;
	e->err = -rc;
	e->err_unread = rc < 0 && !e->internal;	/* the library's own
						 * fds: nobody asks */
	__atomic_store_n(&e->state, rc == 0 ? FD_TUNNEL_READY
					   : FD_TUNNEL_FAILED,
			 __ATOMIC_RELEASE);
	/* putting the registrations back wakes epoll_wait: the edge */
	for (r = e->ep; fd != -1 && r != NULL; r = r->next)
		ep_apply(fd, r, EP_ALL);
	if (!e->err_unread) {
		ep_free(e->ep);
		e->ep = NULL;
		mark(fd, false);
		__atomic_sub_fetch(&ready_live, 1, __ATOMIC_SEQ_CST);
	} else if (e->ep != NULL) {
		/* kept until the error is taken: epoll_wait adds EPOLLERR */
		errs_note(fd, true);
	}
	ready_wake_all();
	pthread_mutex_unlock(&rmu);
}

/* With rmu held: e (for fd) no longer counts. */
static void
drop(int fd, struct fd_entry *e)
{
	int state = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE);

	if (state == FD_TUNNEL_PENDING || state == FD_TUNNEL_EARLY ||
	    (state == FD_TUNNEL_FAILED && e->err_unread)) {
		if (state == FD_TUNNEL_FAILED && e->ep != NULL)
			errs_note(fd, false);
		mark(fd, false);
		__atomic_sub_fetch(&ready_live, 1, __ATOMIC_SEQ_CST);
	}
	e->err_unread = false;
	ep_free(e->ep);
	e->ep = NULL;
}

int
ready_take_err(int fd, struct fd_entry *e)
{
	int err = 0, kerr, saved = errno;
	socklen_t len = sizeof(kerr);

	pthread_mutex_lock(&rmu);
	if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) == FD_TUNNEL_FAILED &&
	    e->err_unread) {
		err = e->err;
		drop(fd, e);
		/* a failed connect to the proxy left its own error in the
		 * socket: it is the same event, taken once */
		real_getsockopt(fd, SOL_SOCKET, SO_ERROR, &kerr, &len);
	}
	pthread_mutex_unlock(&rmu);
	errno = saved;
	return err;
}

void
ready_forget(int fd, struct fd_entry *e)
{
	pthread_mutex_lock(&rmu);
	drop(fd, e);
	pthread_mutex_unlock(&rmu);
}

/* ---- epoll ---- */

int
ready_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct fd_entry *e = fdtab_get(fd);
	struct ep_reg **pp, *r;
	struct epoll_event hid;
	bool failed, had;
	int rc;

	if (e == NULL || (op != EPOLL_CTL_DEL && ev == NULL))
		return real_epoll_ctl(epfd, op, fd, ev);
	pthread_mutex_lock(&rmu);
	if (!ready_entry_special(e)) {
		pthread_mutex_unlock(&rmu);
		return real_epoll_ctl(epfd, op, fd, ev);
	}
	failed = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) ==
		 FD_TUNNEL_FAILED;
	if (op != EPOLL_CTL_DEL && !failed) {
		hid = *ev;
		hid.events &= ep_mask(e);
		rc = real_epoll_ctl(epfd, op, fd, &hid);
	} else {
		rc = real_epoll_ctl(epfd, op, fd, ev);
	}
	if (rc == 0) {
		had = e->ep != NULL;
		for (pp = &e->ep; *pp != NULL; pp = &(*pp)->next)
			if ((*pp)->epfd == epfd)
				break;
		if (op == EPOLL_CTL_DEL && *pp != NULL) {
			r = *pp;
			*pp = r->next;
			free(r);
		} else if (op != EPOLL_CTL_DEL) {
			if (*pp == NULL)
				*pp = calloc(1, sizeof(**pp));
			if (*pp != NULL) {
				(*pp)->epfd = epfd;
				(*pp)->ev = *ev;
			}
		}
		if (failed && had != (e->ep != NULL))
			errs_note(fd, e->ep != NULL);
	}
	pthread_mutex_unlock(&rmu);
	return rc;
}

/*
 * What epoll_wait on epfd returned: a failed tunnel whose error the
 * program has not taken is reported with EPOLLERR, as the kernel reports
 * a refused connect.  Registrations are told apart by their data.
 */
void
ready_epoll_fix(int epfd, struct epoll_event *ev, int n)
{
	struct fd_entry *e;
	struct ep_reg *r;
	int i, j;

	pthread_mutex_lock(&rmu);
	for (i = 0; i < n; i++) {
		for (j = 0; j <= nerrfds; j++) {
			/* last, for an fd not listed: data that is an fd */
			e = fdtab_get(j < nerrfds ? errfds[j] : ev[i].data.fd);
			if (e == NULL || !e->err_unread)
				continue;
			for (r = e->ep; r != NULL; r = r->next)
				if (r->epfd == epfd &&
				    r->ev.data.u64 == ev[i].data.u64)
					ev[i].events |= EPOLLERR;
		}
	}
	pthread_mutex_unlock(&rmu);
}
