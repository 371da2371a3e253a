/*
 * udp.c - UDP through SOCKS5 UDP ASSOCIATE (RFC 1928 §7): a socket's
 * state and its associations.
 *
 * Per application socket (struct udp_sock): up to UDP_RELAYS
 * associations, one per proxy the socket's datagrams go through.  An
 * association is a control connection (the library's own fd, high and
 * close-on-exec) whose handshake is the tunnel's (tunnel.c, with UDP
 * ASSOCIATE as the last request), and the relay address it answered.
 *
 * A blocking socket's first proxied datagram waits for the association;
 * a non-blocking one hands the handshake to the helper thread (async.c)
 * and its datagrams wait in a short queue that the helper flushes when
 * the relay is known, so an event loop never stalls.
 *
 * Sending is in udp_send.c, receiving in udp_recv.c.
 */
#include "udp_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "async.h"
#include "log.h"
#include "real.h"
#include "route.h"

static pthread_mutex_t create_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned int fork_gen;		/* bumped in a forked child */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
atfork_child(void)
{
	pthread_mutex_init(&create_mu, NULL);
	fork_gen++;	/* the child has no helper: pending handshakes are lost */
}

static void
init_once(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
}

/* Close one of our fds (a control connection, our dup of a socket). */
void
udp_own_close(int fd)
{
	if (fd < 0)
		return;
	if (__atomic_load_n(&async_used, __ATOMIC_ACQUIRE))
		async_forget(fd);	/* drops a handshake still under way */
	else
		fdtab_clear(fd);
	real_close(fd);
}

/* Mark fd as ours; *owner holds its number (so dup2 can move it). */
static void
own_mark(int fd, int *owner)
{
	struct fd_entry *e = fdtab_set(fd);

	if (e != NULL) {
		e->internal = true;
		e->owner = owner;
	}
}

static void
queue_free(struct relay *r)
{
	struct qdgram *q, *next;

	for (q = r->q; q != NULL; q = next) {
		next = q->next;
		free(q);
	}
	r->q = NULL;
	r->qtail = &r->q;
	r->qn = 0;
	r->qbytes = 0;
}

/* With u->mu held: r leaves R_STARTING; senders waiting for it wake. */
static void
relay_set(struct relay *r, enum relay_state state, int err)
{
	r->state = state;
	r->err = err;
	pthread_cond_broadcast(&r->u->changed);
}

/* With u->mu held: back to R_NONE (err stays, for senders that waited
 * for a failed association); returns the control fd to close. */
int
udp_relay_clear(struct relay *r)
{
	int ctrl = r->ctrl;

	queue_free(r);
	relay_set(r, R_NONE, r->err);
	r->ctrl = -1;
	return ctrl;
}

static void sock_release(struct fd_ref *r);
_Static_assert(offsetof(struct udp_sock, ref) == 0,
	       "fdtab takes a udp_sock for the fd_ref it begins with");

static struct udp_sock *
sock_new(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss), onlen = sizeof(int);
	struct udp_sock *u;
	pthread_condattr_t ca;
	int i, on = 0;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return NULL;
	u = calloc(1, sizeof(*u));
	if (u == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	u->ref.refs = 1;
	u->ref.release = sock_release;
	pthread_mutex_init(&u->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&u->changed, &ca);
	pthread_condattr_destroy(&ca);
	u->family = ss.ss_family;
	u->v6only = ss.ss_family == AF_INET6 &&
		    real_getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, &onlen) == 0 &&
		    on != 0;
	u->sock = -1;
	for (i = 0; i < UDP_RELAYS; i++) {
		u->relay[i].ctrl = -1;
		u->relay[i].qtail = &u->relay[i].q;
		u->relay[i].u = u;
	}
	return u;
}

/* fd's socket state, created on its first proxied datagram. */
struct udp_sock *
udp_sock_for(int fd)
{
	struct fd_entry *e = fdtab_get(fd);
	struct udp_sock *u;

	if (e != NULL && e->udp != NULL)
		return e->udp;
	pthread_once(&once, init_once);
	pthread_mutex_lock(&create_mu);
	e = fdtab_get(fd);
	if (e != NULL && e->udp != NULL) {
		u = e->udp;
	} else {
		u = sock_new(fd);
		e = u != NULL ? fdtab_set(fd) : NULL;
		if (e != NULL) {
			e->state = FD_UDP;
			e->udp = u;
			__atomic_store_n(&fdtab_live, 1, __ATOMIC_RELEASE);
		} else if (u != NULL) {
			pthread_mutex_destroy(&u->mu);
			pthread_cond_destroy(&u->changed);
			free(u);
			u = NULL;
			errno = ENOMEM;
		}
	}
	pthread_mutex_unlock(&create_mu);
	return u;
}

/* The last fd naming u is gone (fd_ref_put). */
static void
sock_release(struct fd_ref *r)
{
	struct udp_sock *u = (struct udp_sock *)(void *)r;
	unsigned long strays, frags, bad, qd;
	int i;

	/* the last fd is gone: nobody else holds u, but the helper may
	 * still finish a handshake, so u->mu is not held from here on */
	for (i = 0; i < UDP_RELAYS; i++) {
		udp_own_close(u->relay[i].ctrl);	/* waits out the helper */
		queue_free(&u->relay[i]);
	}
	udp_own_close(u->sock);
	strays = __atomic_load_n(&u->strays, __ATOMIC_RELAXED);
	frags = __atomic_load_n(&u->frags, __ATOMIC_RELAXED);
	bad = __atomic_load_n(&u->bad, __ATOMIC_RELAXED);
	qd = __atomic_load_n(&u->queued_drop, __ATOMIC_RELAXED);
	if (strays + frags + bad + qd > 0)
		log_msg(LOG_INFO, "udp socket closed: dropped %lu datagrams "
			"from senders other than its relays, %lu fragments, "
			"%lu malformed, %lu sent before the relay was known",
			strays, frags, bad, qd);
	pthread_mutex_destroy(&u->mu);
	pthread_cond_destroy(&u->changed);
	free(u);
}

/*
 * Where we tell the proxy our datagrams come from (the DST of the UDP
 * ASSOCIATE request, RFC 1928 §7): this socket's port (binding it first,
 * as sendto would), with its address when it is bound to one, else a
 * zero address.  The request's family picks the relay's (dante answers
 * an IPv4 request with an IPv4 relay): IPv4 for an IPv4 socket, IPv6 for
 * an IPV6_V6ONLY one, else the family the proxy (pfam) is reached by.
 */
static int
local_from(int fd, const struct udp_sock *u, int pfam, struct socks5_addr *a)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = sizeof(ss);
	int family = u->family;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -errno;
	if ((family == AF_INET ? s4->sin_port : s6->sin6_port) == 0) {
		memset(&ss, 0, sizeof(ss));
		ss.ss_family = (sa_family_t)family;
		if (bind(fd, (struct sockaddr *)&ss, family == AF_INET ?
			 sizeof(*s4) : sizeof(*s6)) == -1)
			return -errno;
		len = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
			return -errno;
	}
	memset(a, 0, sizeof(*a));
	a->atyp = SOCKS5_ATYP_V4;
	if (family == AF_INET) {
		memcpy(a->addr, &s4->sin_addr, 4);
		a->port = ntohs(s4->sin_port);
		return 0;
	}
	a->port = ntohs(s6->sin6_port);
	if (memcmp(&s6->sin6_addr, mapped, sizeof(mapped)) == 0) {
		memcpy(a->addr, s6->sin6_addr.s6_addr + 12, 4);
	} else if (!IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr) || u->v6only ||
		   pfam == AF_INET6) {
		a->atyp = SOCKS5_ATYP_V6;
		memcpy(a->addr, &s6->sin6_addr, 16);
	}
	return 0;
}

/* The relay from the reply's BND, in the socket's family; a zero
 * address means the proxy's own (RFC 1928 §6 leaves it open). */
static int
relay_addr(struct udp_sock *u, struct relay *r, const struct tun *t)
{
	static const uint8_t zero[16];
	const struct socks5_addr *b = &t->bnd;
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	const uint8_t *addr = b->addr;
	int family = b->atyp == SOCKS5_ATYP_V6 ? AF_INET6 : AF_INET;
	char pstr[TUN_MSG_MAX / 2];
	int rc;

	if (b->atyp == SOCKS5_ATYP_NAME) {
		rc = -EPROTO;
		goto fail;
	}
	if (memcmp(b->addr, zero, family == AF_INET ? 4 : 16) == 0) {
		if (real_getpeername(r->ctrl, (struct sockaddr *)&peer, &plen) == -1)
			return -errno;
		family = peer.ss_family;
		addr = family == AF_INET ?
		       (const uint8_t *)&((struct sockaddr_in *)&peer)->sin_addr :
		       ((struct sockaddr_in6 *)&peer)->sin6_addr.s6_addr;
	}
	rc = udp_sockaddr_for(u->family, family, addr, b->port, &r->addr,
			  &r->addrlen);
	if (rc == 0 && u->v6only && r->addr.ss_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&r->addr)->sin6_addr))
		rc = -ENETUNREACH;
	if (rc == 0)
		return 0;
fail:
	tun_proxy_str(t, t->rule->nchain - 1, pstr, sizeof(pstr));
	log_msg(LOG_WARN, "proxy %s: its UDP relay is %s, which this %s "
		"socket cannot reach", pstr,
		b->atyp == SOCKS5_ATYP_NAME ? "given as a name" :
		rc == -ENETUNREACH ? "an IPv4 address" : "an IPv6 address",
		u->family == AF_INET ? "IPv4" :
		u->v6only ? "IPv6-only" : "IPv6");
	return rc;
}

/* With u->mu held: the queued datagrams go to the relay. */
static void
queue_flush(struct relay *r, int fd)
{
	struct qdgram *q;

	for (q = r->q; q != NULL; q = q->next)
		real_sendto(fd, q->data, q->len, MSG_DONTWAIT,
			    (struct sockaddr *)&r->addr, r->addrlen);
	queue_free(r);
}

/*
 * The handshake of r ended with rc (t is its tunnel): the relay is known,
 * so queued datagrams go out and a connect() waiting for it is made on
 * fd (the application's socket or our dup of it).  Returns 0 or -errno.
 */
static int
relay_finish(struct relay *r, const struct tun *t, int rc, int fd)
{
	struct udp_sock *u = r->u;
	char astr[INET6_ADDRSTRLEN];
	const void *a;

	pthread_mutex_lock(&u->mu);
	if (rc == 0)
		rc = relay_addr(u, r, t);
	if (rc < 0) {
		queue_free(r);
		relay_set(r, R_FAILED, rc);
		pthread_mutex_unlock(&u->mu);
		return rc;
	}
	relay_set(r, R_UP, 0);
	r->checked_ms = tun_now_ms();
	queue_flush(r, fd);
	if (u->conn_pending && &u->relay[u->conn_relay] == r) {
		u->conn_pending = false;
		real_connect(fd, (struct sockaddr *)&r->addr, r->addrlen);
	}
	if (log_enabled(LOG_DEBUG)) {
		a = r->addr.ss_family == AF_INET ?
		    (const void *)&((struct sockaddr_in *)&r->addr)->sin_addr :
		    (const void *)&((struct sockaddr_in6 *)&r->addr)->sin6_addr;
		inet_ntop(r->addr.ss_family, a, astr, sizeof(astr));
		log_msg(LOG_DEBUG, "udp relay %s port %u", astr,
			ntohs(((struct sockaddr_in *)&r->addr)->sin_port));
	}
	pthread_mutex_unlock(&u->mu);
	return 0;
}

/*
 * A non-blocking socket's association failed while the application
 * waits for replies that will never come: an empty datagram to itself
 * wakes its poll or event loop, and the receive that follows returns the
 * error, as the kernel reports an ICMP error on a UDP socket.
 */
static void
wake_with_error(struct udp_sock *u, int fd, int err)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&u->self;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&u->self;
	socklen_t len = sizeof(u->self);

	pthread_mutex_lock(&u->mu);
	if (getsockname(fd, (struct sockaddr *)&u->self, &len) == 0) {
		if (u->self.ss_family == AF_INET &&
		    s4->sin_addr.s_addr == htonl(INADDR_ANY))
			s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		else if (u->self.ss_family == AF_INET6 &&
			 IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr))
			s6->sin6_addr = in6addr_loopback;
		u->wake_err = err;
		real_sendto(fd, "", 0, MSG_DONTWAIT,
			    (struct sockaddr *)&u->self, len);
	}
	pthread_mutex_unlock(&u->mu);
}

/* The helper finished a non-blocking socket's association. */
static void
relay_done(struct tun *t, int rc)
{
	struct relay *r = t->ctx;

	route_report(t, rc);
	if (relay_finish(r, t, rc, r->u->sock) < 0)
		wake_with_error(r->u, r->u->sock, r->err);
}

/*
 * Start r's association (r is R_STARTING, set by the caller) through
 * dec's proxy.  Blocking: to the end; non-blocking: handed to the helper.
 * Returns 0 or -errno (r is then reset).
 */
static int
relay_start(struct relay *r, int fd, const struct shim *s,
	    const struct decision *dec, const struct tun_dest *d,
	    bool nonblock)
{
	struct udp_sock *u = r->u;
	struct tun *t;
	int ctrl, dup, rc;

	t = tun_new();
	if (t == NULL)
		return -ENOMEM;
	ctrl = real_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			   0);
	if (ctrl == -1) {
		rc = -errno;
		goto fail;
	}
	r->ctrl = fdtab_high(ctrl);
	own_mark(r->ctrl, &r->ctrl);
	tun_init(t, r->ctrl, s->cfg, dec->rule, d, s->timeout_ms);
	t->udp = true;
	t->may_learn = true;	/* nobody but us polls the control fd */
	rc = local_from(fd, u, tun_proxy_family(s->cfg, dec->rule->chain[0]),
			&t->udp_from);
	if (rc < 0)
		goto fail;
	if (!nonblock) {
		rc = tun_run(t);
		route_report(t, rc);
		rc = relay_finish(r, t, rc, fd);
		tun_free(t);
		return rc;
	}
	pthread_mutex_lock(&u->mu);
	if (u->sock == -1) {
		dup = real_fcntl(fd, F_DUPFD_CLOEXEC, NULL);
		if (dup != -1) {
			u->sock = fdtab_high(dup);
			own_mark(u->sock, &u->sock);
		}
	}
	pthread_mutex_unlock(&u->mu);
	if (u->sock == -1) {
		rc = -errno;
		goto fail;
	}
	t->done = relay_done;
	t->ctx = r;
	rc = tun_connect(t);
	if (rc < 0) {
		route_report(t, rc);
		goto fail;
	}
	return async_start(t);	/* owns t */
fail:
	tun_free(t);
	pthread_mutex_lock(&u->mu);
	relay_set(r, R_FAILED, rc);
	pthread_mutex_unlock(&u->mu);
	return rc;
}

bool
udp_nonblocking(int fd)
{
	int fl = real_fcntl(fd, F_GETFL, NULL);

	return fl != -1 && (fl & O_NONBLOCK);
}

/* The proxy closed an up association's control connection (or said
 * something on it, which it never should): the relay is gone. */
static bool
relay_ended(struct relay *r)
{
	struct pollfd p = { .fd = r->ctrl, .events = POLLIN };
	int64_t now = tun_now_ms();

	if (now - r->checked_ms < UDP_CHECK_MS)
		return false;
	r->checked_ms = now;
	return real_poll(&p, 1, 0) == 1;
}

/*
 * The relay index for dec's proxy on u, starting an association when
 * there is none.  A failed one reports its error once; the next datagram
 * tries again.  Returns the index or -errno.
 */
int
udp_relay_for(struct udp_sock *u, int fd, const struct shim *s,
	  const struct decision *dec, const struct tun_dest *d, int flags)
{
	int px = dec->rule->chain[0], i, slot = -1, old = -1, rc;
	struct relay *r;

	pthread_mutex_lock(&u->mu);
	for (i = 0; i < UDP_RELAYS; i++) {
		r = &u->relay[i];
		if (r->state == R_STARTING && r->gen != fork_gen)
			/* its helper was the parent's */
			relay_set(r, R_FAILED, -ECONNABORTED);
		if (r->state == R_NONE) {
			if (slot < 0)
				slot = i;
			continue;
		}
		if (r->proxy != px)
			continue;
		if (r->state == R_FAILED) {
			rc = r->err;
			old = udp_relay_clear(r);
			pthread_mutex_unlock(&u->mu);
			udp_own_close(old);
			return rc;
		}
		if (r->state == R_UP && relay_ended(r)) {
			log_msg(LOG_WARN, "proxy %s ended a UDP association; "
				"starting a new one", s->cfg->proxies[px].name);
			old = udp_relay_clear(r);
			slot = i;
			break;
		}
		pthread_mutex_unlock(&u->mu);
		return i;
	}
	if (slot < 0) {
		pthread_mutex_unlock(&u->mu);
		return -ENOBUFS;
	}
	r = &u->relay[slot];
	relay_set(r, R_STARTING, 0);
	r->proxy = px;
	r->gen = fork_gen;
	pthread_mutex_unlock(&u->mu);
	udp_own_close(old);
	rc = relay_start(r, fd, s, dec, d,
			 (flags & MSG_DONTWAIT) || udp_nonblocking(fd));
	if (rc < 0) {
		/* the caller reports this error: the next datagram retries */
		pthread_mutex_lock(&u->mu);
		old = udp_relay_clear(r);
		pthread_mutex_unlock(&u->mu);
		udp_own_close(old);
	}
	return rc < 0 ? rc : slot;
}
