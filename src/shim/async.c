/*
 * async.c - the helper thread that drives overlapped handshakes.
 *
 * One epoll set holds every application socket whose handshake is under
 * way (EPOLLONESHOT, re-armed with what tun_step asks for).  One mutex
 * guards the pending table and the tun state; the helper holds it only
 * while stepping, which is non-blocking I/O.  Waiters sleep on one
 * condition variable, broadcast whenever a handshake ends.
 */
#include "async.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "fdtab.h"
#include "log.h"
#include "peername.h"
#include "ready.h"
#include "real.h"

int async_used;
int async_nheld;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int epfd = -1;
static bool running;		/* helper alive in this process */
static unsigned long npending;
static struct tun *pending;	/* list of handshakes under way */

/* With mu held. */
static void
link_tun(struct tun *t)
{
	t->prev = NULL;
	t->next = pending;
	if (pending != NULL)
		pending->prev = t;
	pending = t;
	npending++;
}

static void
unlink_tun(struct tun *t)
{
	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		pending = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
	npending--;
}

/*
 * A failed tunnel's socket, as a refused connect leaves one: no peer (a
 * reset tells the proxy, and nothing it sends later changes the socket,
 * which would be a second edge for an edge-triggered epoll), shut down
 * both ways (poll: POLLIN|POLLOUT|POLLHUP|POLLRDHUP; ready.c adds POLLERR
 * until the error is taken).  A socket still connecting to the proxy (a
 * deadline) looks failed too, not in progress.
 */
static void
dead(int fd)
{
	struct sockaddr sa = { .sa_family = AF_UNSPEC };
	int saved = errno;

	real_connect(fd, &sa, sizeof(sa));
	real_shutdown(fd, SHUT_RDWR);
	errno = saved;
}

/*
 * With mu held: e->held says whether t's handshake is still to go into
 * the kernel while the program may send (tunnel_early.c), so that the
 * send hooks, which look at e->held without mu, hand the program's
 * bytes to async_early_send.  Set before the program is told it is
 * connected; cleared for good once the handshake is written.
 */
static void
held_sync(struct fd_entry *e, const struct tun *t)
{
	bool h = t != NULL && t->early && t->state == TUN_SEND;

	if (h == e->held)
		return;
	__atomic_store_n(&e->held, h, __ATOMIC_RELEASE);
	__atomic_add_fetch(&async_nheld, h ? 1 : -1, __ATOMIC_SEQ_CST);
}

/* Runs with mu held.  Ends t: ready or failed, wakes waiters. */
static void
finish(struct tun *t, struct fd_entry *e, int rc)
{
	size_t n;

	real_epoll_ctl(epfd, EPOLL_CTL_DEL, t->fd, NULL);
	held_sync(e, NULL);
	tun_early_end(t);
	if (rc < 0 && t->early) {
		/* the program was told it was connected (tunnel_early.c):
		 * it learns otherwise on its next call, as after a refused
		 * Fast Open SYN; the log line says so */
		rc = tun_early_errno(rc);
		t->err = rc;
		n = strlen(t->msg);
		snprintf(t->msg + n, sizeof(t->msg) - n, "; after its connect "
			 "had completed (optimistic=on): %s on its next call",
			 strerror(-rc));
	}
	if (rc < 0)
		dead(t->fd);
	else {
		e->lease = t->lease;	/* until the fd's last close */
		t->lease = NULL;
	}
	ready_end(e, rc);	/* the program sees the end (ready.h) */
	e->tun = NULL;
	unlink_tun(t);
	if (t->done != NULL)
		t->done(t, rc);
	tun_free(t);
	pthread_cond_broadcast(&cv);
}

static void
arm(struct tun *t, int op)
{
	struct epoll_event ev = {
		.events = EPOLLONESHOT |
			  (t->want & POLLIN ? EPOLLIN : 0) |
			  (t->want & POLLOUT ? EPOLLOUT : 0),
		.data.fd = t->fd,
	};

	real_epoll_ctl(epfd, op, t->fd, &ev);
}

/*
 * Probes of optimistic proxies not known yet (tunnel_early.c): asked for
 * by a handshake the helper steps (mu held), started by the helper once
 * it has let go of mu, once per proxy and process.
 */
#define PROBED_MAX 256
static unsigned long probed[PROBED_MAX / 64];
static const struct config *probe_cfg;	/* the one to start, or NULL */
static const struct cfg_rule *probe_rule;
static int probe_owner;			/* marks the probes' fds internal */

/* With mu held. */
static void
probe_note(struct tun *t)
{
	int idx = t->px[0];

	t->want_probe = false;
	if (idx < 0 || idx >= PROBED_MAX || probe_cfg != NULL ||
	    (probed[idx / 64] >> (idx % 64)) & 1)
		return;
	probed[idx / 64] |= 1UL << (idx % 64);
	probe_cfg = t->cfg;
	probe_rule = t->rule;
}

/* A probe ended (mu held): its socket goes. */
static void
probe_done(struct tun *t, int rc)
{
	char pstr[TUN_MSG_MAX / 2];

	tun_proxy_str(t, 0, pstr, sizeof(pstr));
	log_msg(LOG_DEBUG, "probe of proxy %s ended: %s", pstr,
		rc == 0 ? "connected 0.0.0.0:0" : t->msg);
	fdtab_clear(t->fd);
	real_close(t->fd);
}

/* Without mu: start the probe probe_note asked for, if any. */
static void
probe_run(const struct config *cfg, const struct cfg_rule *rule)
{
	struct tun_dest nowhere = { .family = AF_INET };	/* 0.0.0.0:0 */
	struct fd_entry *e;
	struct tun *p;
	int fam, fd;

	fam = tun_proxy_family(cfg, rule->chain[0]);
	if (fam == AF_UNSPEC)
		return;
	fd = real_socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return;
	fd = fdtab_high(fd);
	p = tun_new();
	e = p != NULL ? fdtab_set(fd) : NULL;
	if (e == NULL) {
		tun_free(p);
		real_close(fd);
		return;
	}
	e->internal = true;	/* the program's close() cannot take it */
	e->owner = &probe_owner;
	/* a pipelined greeting and a request for 0.0.0.0:0 (tunnel_early.c) */
	tun_init(p, fd, cfg, rule, &nowhere, cfg->connect_timeout_ms);
	p->may_learn = true;	/* nobody else polls this socket */
	p->probing = true;
	p->done = probe_done;
	if (tun_connect(p) < 0) {
		tun_free(p);
	} else if (async_start(p) == 0) {
		return;		/* probe_done closes it */
	}
	fdtab_clear(fd);
	real_close(fd);
}

/* With mu held: t's held handshake goes now, alone: -EAGAIN (it waits
 * for the replies, or for room), or -errno (t failed). */
static int
unhold(struct fd_entry *e, struct tun *t)
{
	size_t taken;
	int rc = tun_early_send(t, NULL, 0, &taken);

	held_sync(e, t);
	return rc == 0 ? -EAGAIN : rc;
}

/* With mu held: t just went optimistic; a registration of the program's
 * that waits to read and not to write must not wait on a held handshake
 * (a server that speaks first). */
static int
early_readers(struct fd_entry *e, struct tun *t)
{
	if (e->held && ready_waits_to_read(e))
		return unhold(e, t);
	return -EAGAIN;
}

/* Runs with mu held: step fd's handshake (err: epoll or poll reported
 * an error or a hang-up). */
static void
step(int fd, bool err)
{
	struct fd_entry *e = fdtab_get(fd);
	struct tun *t;
	int rc;

	if (e == NULL || e->tun == NULL)
		return;
	t = e->tun;
	/* held: the handshake's send meets the error */
	if (err)
		t->hold = false;
	rc = tun_step(t);
	if (t->want_probe)
		probe_note(t);
	if (rc == -EAGAIN) {
		held_sync(e, t);
		if (t->early && __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) ==
				FD_TUNNEL_PENDING) {
			ready_early(e);	/* connected, to the program */
			rc = early_readers(e, t);
		}
	}
	if (rc == -EAGAIN)
		arm(t, EPOLL_CTL_MOD);
	else
		finish(t, e, rc);
}

/* Runs with mu held: fail every handshake past its deadline. */
static int
expire(void)
{
	int64_t now = tun_now_ms(), next = now + 1000;
	struct tun *t, *tnext;
	struct fd_entry *e;

	for (t = pending; t != NULL; t = tnext) {
		tnext = t->next;
		e = fdtab_get(t->fd);
		if (e == NULL)
			continue;
		if (t->deadline_ms <= now) {
			finish(t, e, tun_expired(t));
			continue;
		}
		if (tun_wake_ms(t) <= now) {
			step(t->fd, false);	/* a probation or a
						 * hold ran out */
			if (e->tun != t)
				continue;	/* finished and freed */
		}
		if (tun_wake_ms(t) < next)
			next = tun_wake_ms(t);
	}
	return next > now ? (int)(next - now) : 1;
}

static void *
helper(void *arg)
{
	struct epoll_event ev[64];
	const struct config *cfg;
	const struct cfg_rule *rule;
	int n, i, wait_ms = 1000;

	(void)arg;
	for (;;) {
		n = real_epoll_wait(__atomic_load_n(&epfd, __ATOMIC_ACQUIRE), ev,
				    64, wait_ms);
		if (n == -1 && errno != EINTR)
			real_poll(NULL, 0, 100);  /* epfd being moved: retry */
		pthread_mutex_lock(&mu);
		for (i = 0; i < n; i++)
			step(ev[i].data.fd,
			     ev[i].events & (EPOLLERR | EPOLLHUP));
		wait_ms = npending > 0 ? expire() : 1000;
		cfg = probe_cfg;
		rule = probe_rule;
		probe_cfg = NULL;
		pthread_mutex_unlock(&mu);
		if (cfg != NULL)
			probe_run(cfg, rule);
	}
	return NULL;
}

/* With mu held: the epoll set and the thread, created on first use. */
static int
start_helper(void)
{
	sigset_t all, old;
	pthread_attr_t at;
	pthread_t th;
	int rc;

	if (running)
		return 0;
	if (epfd == -1) {
		rc = real_epoll_create1(EPOLL_CLOEXEC);
		if (rc == -1)
			return -errno;
		__atomic_store_n(&epfd, fdtab_high(rc), __ATOMIC_RELEASE);
	}
	/* The helper takes no signal: they are the application's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 256 * 1024);
	rc = pthread_create(&th, &at, helper, NULL);
	pthread_attr_destroy(&at);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return -rc;
	running = true;
	return 0;
}

/* A forked child has no helper: its pending entries were the parent's. */
static void
atfork_child(void)
{
	pthread_mutex_init(&mu, NULL);
	pthread_cond_init(&cv, NULL);
	running = false;
	npending = 0;
	pending = NULL;
	if (epfd != -1)
		real_close(epfd);
	epfd = -1;
}

/* A child shares the parent's sockets but not its helper: no handshake
 * may still be held in the parent when the child can write (trylock: a
 * fork from a signal handler that interrupted a hook holding mu). */
static void
atfork_prepare(void)
{
	async_early_flush_all(true);
}

static void
atfork_init(void)
{
	pthread_atfork(atfork_prepare, NULL, atfork_child);
}

int
async_start(struct tun *t)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct fd_entry *e;
	int rc, *owner;

	pthread_once(&once, atfork_init);
	/* a UDP entry left by a close we did not see: its last reference
	 * ends associations, which takes mu */
	e = fdtab_get(t->fd);
	if (e != NULL && e->udp != NULL)
		fdtab_clear(t->fd);
	pthread_mutex_lock(&mu);
	rc = start_helper();
	e = fdtab_get(t->fd);
	owner = e != NULL && e->internal ? e->owner : NULL;
	e = rc == 0 ? fdtab_set(t->fd) : NULL;
	if (e == NULL) {
		pthread_mutex_unlock(&mu);
		ready_unhide(t->fd, t->ep);
		tun_free(t);
		return rc < 0 ? rc : -ENOMEM;
	}
	e->tun = t;
	e->internal = owner != NULL;	/* a UDP association's control fd */
	e->owner = owner;
	e->peerlen = peer_kernel_form(&t->peer, t->peerlen, &e->peer);
	e->tunfd = t->fd;
	ready_pending(e, t->ep);	/* state: pending */
	t->ep = NULL;
	held_sync(e, t);
	if (t->early)
		ready_early(e);	/* a blocking connect's, returning 0 */
	__atomic_store_n(&async_used, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&fdtab_live, 1, __ATOMIC_RELEASE);
	link_tun(t);
	rc = t->early ? early_readers(e, t) : -EAGAIN;
	/* a held handshake asks for no event, and the helper may sleep
	 * past its bound: asking once for POLLOUT (which the socket has)
	 * wakes it to take the bound into its reckoning */
	if (e->held && t->want == 0)
		t->want = POLLOUT;
	if (rc == -EAGAIN)
		arm(t, EPOLL_CTL_ADD);
	else
		finish(t, e, rc);	/* the program's next call learns */
	pthread_mutex_unlock(&mu);
	return 0;
}

int
async_early_send(int fd, const struct iovec *iov, size_t n, size_t *taken)
{
	struct fd_entry *e, *c;
	struct tun *t;
	int rc;

	*taken = 0;
	pthread_mutex_lock(&mu);
	e = c = fdtab_get(fd);
	if (e != NULL && e->tun == NULL && e->tunfd != fd)
		e = fdtab_get(e->tunfd);	/* a dup'ed copy: the socket's */
	if (e == NULL || (t = e->tun) == NULL || !e->held) {
		if (c != NULL && c != e)
			__atomic_store_n(&c->held, false, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&mu);
		return 0;
	}
	rc = tun_early_send(t, iov, n, taken);
	held_sync(e, t);
	if (rc < 0 && rc != -EAGAIN) {
		finish(t, e, rc);
	} else {
		arm(t, EPOLL_CTL_MOD);
		/* none of the program's and the handshake still not in */
		rc = rc == -EAGAIN || (*taken == 0 && e->held) ? -EAGAIN : 1;
	}
	pthread_mutex_unlock(&mu);
	return rc;
}

void
async_early_flush_all(bool try)
{
	struct tun *t, *next;
	struct fd_entry *e;
	int rc, saved = errno;

	if (!__atomic_load_n(&async_nheld, __ATOMIC_ACQUIRE))
		return;
	if (try ? pthread_mutex_trylock(&mu) != 0 :
		  pthread_mutex_lock(&mu) != 0)
		return;
	for (t = pending; t != NULL; t = next) {
		next = t->next;
		e = fdtab_get(t->fd);
		if (e == NULL || e->tun != t || !e->held)
			continue;
		rc = unhold(e, t);
		if (rc == -EAGAIN)
			arm(t, EPOLL_CTL_MOD);
		else
			finish(t, e, rc);
	}
	pthread_mutex_unlock(&mu);
	errno = saved;
}

int
async_wait(int fd)
{
	struct fd_entry *e = fdtab_get(fd);
	struct timespec until;
	int rc = 0;

	if (e == NULL)
		return 0;
	if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) == FD_TUNNEL_READY)
		return 0;
	pthread_mutex_lock(&mu);
	while ((e->state == FD_TUNNEL_PENDING ||
		e->state == FD_TUNNEL_EARLY) && running) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;	/* the helper expires the deadline */
		pthread_cond_timedwait(&cv, &mu, &until);
	}
	if (e->state == FD_TUNNEL_FAILED)
		rc = -e->err;
	pthread_mutex_unlock(&mu);
	return rc;
}

void
async_poke(int fd)
{
	struct fd_entry *e;
	struct pollfd p;
	int saved = errno;

	pthread_mutex_lock(&mu);
	e = fdtab_get(fd);
	if (e != NULL && e->tun != NULL) {
		p.fd = fd;
		p.events = e->tun->want;
		p.revents = 0;
		if (real_poll(&p, 1, 0) == 1)
			step(fd, p.revents & (POLLERR | POLLHUP));
	}
	pthread_mutex_unlock(&mu);
	errno = saved;
}

void
async_forget(int fd)
{
	struct fd_entry *e;

	/* most closed fds were never ours: no lock for those (an entry can
	 * only appear for fd through a connect on it, not during its close) */
	if (!__atomic_load_n(&async_used, __ATOMIC_ACQUIRE) ||
	    (e = fdtab_get(fd)) == NULL)
		return;
	if (e->udp != NULL) {
		/* a UDP socket never has a handshake here; dropping its last
		 * reference ends associations, which takes mu itself */
		fdtab_clear(fd);
		return;
	}
	pthread_mutex_lock(&mu);
	e = fdtab_get(fd);
	if (e != NULL && e->tun != NULL) {
		real_epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
		held_sync(e, NULL);
		unlink_tun(e->tun);
		tun_free(e->tun);
		e->tun = NULL;
	}
	if (e != NULL)
		ready_forget(fd, e);
	/* under mu, so the helper never looks at a freed entry */
	fdtab_clear(fd);
	pthread_mutex_unlock(&mu);
}

int
async_move_internal(int fd)
{
	int n, rc = 0, saved = errno;

	if (!async_internal_fd(fd))
		return 0;
	pthread_mutex_lock(&mu);
	if (fd == epfd) {
		n = real_fcntl(epfd, F_DUPFD_CLOEXEC, (void *)(long)(epfd + 1));
		if (n == -1) {
			rc = -errno;
		} else {
			/* the helper may sit in epoll_wait on the old number:
			 * it holds the file, and reloads epfd next round */
			__atomic_store_n(&epfd, n, __ATOMIC_RELEASE);
			real_close(fd);
		}
	}
	pthread_mutex_unlock(&mu);
	errno = saved;
	return rc;
}

bool
async_internal_fd(int fd)
{
	return fd >= 0 && fd == __atomic_load_n(&epfd, __ATOMIC_RELAXED);
}
