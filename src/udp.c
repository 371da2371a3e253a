/*
 * udp.c - UDP through SOCKS5 UDP ASSOCIATE (RFC 1928 §7).
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
 * Locks: u->mu guards a socket's relays, queue and peer.  The helper
 * calls relay_done with async.c's lock held and then takes u->mu, so no
 * code here calls into async.c while holding u->mu.
 */
#include "udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "async.h"
#include "fdtab.h"
#include "log.h"
#include "real.h"
#include "route.h"
#include "shim.h"
#include "socks5.h"

#define UDP_RELAYS 4		/* proxies one socket uses at a time */
#define UDP_QUEUE_MAX 64	/* datagrams held while an association starts */
#define UDP_QUEUE_BYTES (256 * 1024)
#define UDP_DESTS 16		/* destinations a socket remembers */
#define UDP_HDR_MAX (4 + 1 + SOCKS5_NAME_MAX + 2)
#define UDP_DGRAM_MAX 65536	/* more than any datagram's payload */
#define UDP_CHECK_MS 1000	/* how often a send looks at the control */
#define UDP_IOV_MAX 64		/* longer iovecs are gathered first */

enum relay_state {
	R_NONE,
	R_STARTING,	/* handshake under way; datagrams are queued */
	R_UP,		/* addr is the relay */
	R_FAILED,	/* err goes to the next send, then R_NONE */
};

struct qdgram {
	struct qdgram *next;
	size_t len;
	uint8_t data[];		/* header + payload */
};

struct relay {
	enum relay_state state;
	int proxy;			/* index into cfg->proxies */
	int ctrl;			/* the control connection, or -1 */
	int err;			/* R_FAILED: -errno */
	unsigned int gen;		/* fork generation it was started in */
	struct sockaddr_storage addr;	/* R_UP: in the socket's family */
	socklen_t addrlen;
	int64_t checked_ms;
	struct qdgram *q, **qtail;
	unsigned int qn;
	size_t qbytes;
	struct udp_sock *u;
};

/* A destination the socket sent to: logged once, and the address the
 * application used (a fake one for a name) for replies from it. */
struct udp_dest {
	struct tun_dest d;
	struct sockaddr_storage app;
	socklen_t applen;
};

struct udp_sock {
	int refs;			/* fds naming the socket, atomic */
	pthread_mutex_t mu;
	pthread_cond_t changed;		/* a relay left R_STARTING */
	int family;			/* the socket's */
	bool v6only;			/* IPV6_V6ONLY: no IPv4 peers */
	int sock;			/* our dup of it, for the helper; -1 */
	struct relay relay[UDP_RELAYS];
	bool conn;			/* connected to a proxied peer */
	bool conn_pending;		/* ... whose relay is not known yet */
	int conn_relay;
	struct tun_dest conn_dest;
	struct decision conn_dec;
	struct sockaddr_storage peer;	/* what the application connected to */
	socklen_t peerlen;
	struct udp_dest dest[UDP_DESTS];
	unsigned int ndest;		/* ring: next slot is ndest % UDP_DESTS */
	int wake_err;			/* -errno for the next receive */
	struct sockaddr_storage self;	/* where the wake-up datagram went */
	unsigned long strays, frags, bad, queued_drop;	/* atomic */
};

static pthread_mutex_t create_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned int fork_gen;		/* bumped in a forked child */
static pthread_key_t rbuf_key;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static __thread uint8_t *rbuf;		/* one datagram, per thread */

static void
atfork_child(void)
{
	pthread_mutex_init(&create_mu, NULL);
	fork_gen++;	/* the child has no helper: pending handshakes are lost */
}

static void
init_once(void)
{
	pthread_key_create(&rbuf_key, free);
	pthread_atfork(NULL, NULL, atfork_child);
}

static uint8_t *
recv_buffer(void)
{
	if (rbuf == NULL) {
		rbuf = malloc(UDP_DGRAM_MAX);
		if (rbuf != NULL)
			pthread_setspecific(rbuf_key, rbuf);
	}
	return rbuf;
}

/* Close one of our fds (a control connection, our dup of a socket). */
static void
own_close(int fd)
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
static int
relay_clear(struct relay *r)
{
	int ctrl = r->ctrl;

	queue_free(r);
	relay_set(r, R_NONE, r->err);
	r->ctrl = -1;
	return ctrl;
}

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
	u->refs = 1;
	pthread_mutex_init(&u->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&u->changed, &ca);
	pthread_condattr_destroy(&ca);
	u->family = ss.ss_family;
	u->v6only = ss.ss_family == AF_INET6 &&
		    getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, &onlen) == 0 &&
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
static struct udp_sock *
sock_for(int fd)
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

void
udp_get(struct udp_sock *u)
{
	__atomic_add_fetch(&u->refs, 1, __ATOMIC_ACQ_REL);
}

void
udp_put(struct udp_sock *u)
{
	unsigned long strays, frags, bad, qd;
	int i;

	if (__atomic_sub_fetch(&u->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	/* the last fd is gone: nobody else holds u, but the helper may
	 * still finish a handshake, so u->mu is not held from here on */
	for (i = 0; i < UDP_RELAYS; i++) {
		own_close(u->relay[i].ctrl);	/* waits out the helper */
		queue_free(&u->relay[i]);
	}
	own_close(u->sock);
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

/* family/addr/port as a sockaddr for a socket of family sfam (IPv4 as
 * v4-mapped on an IPv6 socket).  0 or -EAFNOSUPPORT. */
static int
sockaddr_for(int sfam, int family, const uint8_t *addr, uint16_t port,
	     struct sockaddr_storage *ss, socklen_t *len)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6 && memcmp(addr, mapped, 12) == 0) {
		family = AF_INET;
		addr += 12;
	}
	if (sfam == AF_INET && family == AF_INET) {
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, addr, 4);
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return 0;
	}
	if (sfam != AF_INET6)
		return -EAFNOSUPPORT;
	s6->sin6_family = AF_INET6;
	if (family == AF_INET) {
		memcpy(s6->sin6_addr.s6_addr, mapped, 12);
		memcpy(s6->sin6_addr.s6_addr + 12, addr, 4);
	} else {
		memcpy(&s6->sin6_addr, addr, 16);
	}
	s6->sin6_port = htons(port);
	*len = sizeof(*s6);
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
	rc = sockaddr_for(u->family, family, addr, b->port, &r->addr,
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
		u->family == AF_INET ? "IPv4" : "IPv6-only");
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

	t = malloc(sizeof(*t));
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
		free(t);
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
	free(t);
	pthread_mutex_lock(&u->mu);
	relay_set(r, R_FAILED, rc);
	pthread_mutex_unlock(&u->mu);
	return rc;
}

static bool
nonblocking(int fd)
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
static int
relay_for(struct udp_sock *u, int fd, const struct shim *s,
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
			old = relay_clear(r);
			pthread_mutex_unlock(&u->mu);
			own_close(old);
			return rc;
		}
		if (r->state == R_UP && relay_ended(r)) {
			log_msg(LOG_WARN, "proxy %s ended a UDP association; "
				"starting a new one", s->cfg->proxies[px].name);
			old = relay_clear(r);
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
	own_close(old);
	rc = relay_start(r, fd, s, dec, d,
			 (flags & MSG_DONTWAIT) || nonblocking(fd));
	if (rc < 0) {
		/* the caller reports this error: the next datagram retries */
		pthread_mutex_lock(&u->mu);
		old = relay_clear(r);
		pthread_mutex_unlock(&u->mu);
		own_close(old);
	}
	return rc < 0 ? rc : slot;
}

/* Same address and port (sockaddrs of one family). */
static bool
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		       a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a->ss_family == AF_INET6 && a6->sin6_port == b6->sin6_port &&
	       IN6_ARE_ADDR_EQUAL(&a6->sin6_addr, &b6->sin6_addr);
}

static bool
same_dest(const struct tun_dest *a, const struct tun_dest *b)
{
	if (a->port != b->port || strcmp(a->name, b->name) != 0)
		return false;
	return a->name[0] != '\0' ||
	       (a->family == b->family &&
		memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0);
}

/* Remember d (sent to as app); the first datagram to each destination
 * gets a log line and an audit event. */
static void
note_dest(struct udp_sock *u, const struct tun_dest *d,
	  const struct decision *dec, const void *app, socklen_t applen)
{
	char dstr[URL_HOST_MAX + 16], rstr[512];
	struct udp_dest *n;
	unsigned int i, k;

	pthread_mutex_lock(&u->mu);
	k = u->ndest < UDP_DESTS ? u->ndest : UDP_DESTS;
	for (i = 0; i < k; i++)
		if (same_dest(&u->dest[i].d, d)) {
			pthread_mutex_unlock(&u->mu);
			return;
		}
	n = &u->dest[u->ndest++ % UDP_DESTS];
	n->d = *d;
	n->applen = 0;
	if (app != NULL && applen <= sizeof(n->app)) {
		memcpy(&n->app, app, applen);
		n->applen = applen;
	}
	pthread_mutex_unlock(&u->mu);
	route_audit("connect", "udp", d, dec, NULL, 0, NULL, -1);
	if (log_enabled(LOG_INFO)) {
		route_dest_str(d, dstr, sizeof(dstr));
		route_rule_str(shim_get(), dec, rstr, sizeof(rstr));
		log_msg(LOG_INFO, "udp via %s: %s (%s)",
			shim_get()->cfg->proxies[dec->rule->chain[0]].name,
			dstr, rstr);
	}
}

/* Gather m's payload after the header into one queued datagram. */
static int
enqueue(struct udp_sock *u, struct relay *r, const uint8_t *hdr, size_t hl,
	const struct msghdr *m, size_t plen)
{
	struct qdgram *q;
	size_t i, off = hl;

	if (r->qn >= UDP_QUEUE_MAX || r->qbytes + hl + plen > UDP_QUEUE_BYTES) {
		__atomic_add_fetch(&u->queued_drop, 1, __ATOMIC_RELAXED);
		return 0;	/* as a full network would: gone */
	}
	q = malloc(sizeof(*q) + hl + plen);
	if (q == NULL)
		return -ENOMEM;
	memcpy(q->data, hdr, hl);
	for (i = 0; i < m->msg_iovlen; i++) {
		memcpy(q->data + off, m->msg_iov[i].iov_base,
		       m->msg_iov[i].iov_len);
		off += m->msg_iov[i].iov_len;
	}
	q->len = off;
	q->next = NULL;
	*r->qtail = q;
	r->qtail = &q->next;
	r->qn++;
	r->qbytes += off;
	return 0;
}

static size_t
iov_total(const struct msghdr *m)
{
	size_t i, n = 0;

	for (i = 0; i < m->msg_iovlen; i++)
		n += m->msg_iov[i].iov_len;
	return n;
}

/*
 * With u->mu held: a blocking sender waits for an association another
 * thread is starting, as it would wait for a full send buffer, rather
 * than have its datagram queued (where a burst from several threads
 * could overflow the queue).  Bounded by the handshake's own deadline.
 */
static void
relay_wait(struct udp_sock *u, struct relay *r)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += shim_get()->timeout_ms / 1000 + 1;
	while (r->state == R_STARTING &&
	       pthread_cond_timedwait(&u->changed, &u->mu, &until) == 0)
		;
}

/* One datagram for d through relay i: header + payload in one sendmsg. */
static ssize_t
send_via(struct udp_sock *u, int fd, int i, const struct tun_dest *d,
	 const struct msghdr *m, int flags)
{
	uint8_t hdr[UDP_HDR_MAX], *flat = NULL;
	struct iovec iov[UDP_IOV_MAX + 1];
	struct sockaddr_storage to;
	struct socks5_addr a;
	struct msghdr out;
	struct relay *r = &u->relay[i];
	size_t plen = iov_total(m), k;
	socklen_t tolen;
	ssize_t n;
	int hl, rc;

	tun_socks5_addr(&a, d);
	hl = socks5_build_udp_header(hdr, sizeof(hdr), &a);
	if (hl < 0) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&u->mu);
	if (r->state == R_STARTING && !(flags & MSG_DONTWAIT) &&
	    !nonblocking(fd))
		relay_wait(u, r);
	switch (r->state) {
	case R_STARTING:
		rc = enqueue(u, r, hdr, (size_t)hl, m, plen);
		pthread_mutex_unlock(&u->mu);
		if (rc < 0) {
			errno = -rc;
			return -1;
		}
		return (ssize_t)plen;
	case R_UP:
		to = r->addr;
		tolen = r->addrlen;
		pthread_mutex_unlock(&u->mu);
		break;
	default:
		rc = r->err != 0 ? r->err : -ECONNREFUSED;
		pthread_mutex_unlock(&u->mu);
		errno = -rc;
		return -1;
	}
	memset(&out, 0, sizeof(out));
	out.msg_name = &to;
	out.msg_namelen = tolen;
	out.msg_control = m->msg_control;
	out.msg_controllen = m->msg_controllen;
	out.msg_iov = iov;
	iov[0].iov_base = hdr;
	iov[0].iov_len = (size_t)hl;
	if (m->msg_iovlen <= UDP_IOV_MAX) {
		for (k = 0; k < m->msg_iovlen; k++)
			iov[k + 1] = m->msg_iov[k];
		out.msg_iovlen = m->msg_iovlen + 1;
	} else {
		flat = malloc(plen > 0 ? plen : 1);
		if (flat == NULL) {
			errno = ENOMEM;
			return -1;
		}
		for (k = 0, n = 0; k < m->msg_iovlen; k++) {
			memcpy(flat + n, m->msg_iov[k].iov_base,
			       m->msg_iov[k].iov_len);
			n += (ssize_t)m->msg_iov[k].iov_len;
		}
		iov[1].iov_base = flat;
		iov[1].iov_len = plen;
		out.msg_iovlen = 2;
	}
	n = real_sendmsg(fd, &out, flags);
	free(flat);
	if (n < 0)
		return -1;
	return n >= hl ? n - hl : 0;
}

ssize_t
udp_send(int fd, const struct tun_dest *d, const struct decision *dec,
	 const struct msghdr *m, int flags)
{
	const struct shim *s = shim_get();
	struct udp_sock *u = sock_for(fd);
	const void *app = m->msg_name;
	socklen_t applen = m->msg_namelen;
	int i;

	if (u == NULL)
		return -1;
	i = relay_for(u, fd, s, dec, d, flags);
	if (i == -ENOBUFS)
		log_msg(LOG_WARN, "udp: a socket may use at most %d proxies "
			"at a time; datagram refused", UDP_RELAYS);
	if (i < 0) {
		errno = -i;
		return -1;
	}
	if (app == NULL) {
		app = &u->peer;
		applen = u->peerlen;
	}
	note_dest(u, d, dec, app, applen);
	return send_via(u, fd, i, d, m, flags);
}

ssize_t
udp_send_connected(int fd, struct udp_sock *u, const struct msghdr *m,
		   int flags)
{
	struct tun_dest d;
	struct decision dec;
	bool conn;

	pthread_mutex_lock(&u->mu);
	conn = u->conn;
	if (conn) {
		d = u->conn_dest;
		dec = u->conn_dec;
	}
	pthread_mutex_unlock(&u->mu);
	if (!conn)
		return real_sendmsg(fd, m, flags);
	return udp_send(fd, &d, &dec, m, flags);
}

int
udp_connect(int fd, const struct sockaddr *sa, socklen_t len,
	    const struct tun_dest *d, const struct decision *dec)
{
	struct udp_sock *u = sock_for(fd);
	struct sockaddr_storage to;
	socklen_t tolen = 0;
	struct relay *r;
	int i;

	if (u == NULL)
		return -errno;
	i = relay_for(u, fd, shim_get(), dec, d, 0);
	if (i < 0)
		return i;
	r = &u->relay[i];
	pthread_mutex_lock(&u->mu);
	u->conn = true;
	u->conn_relay = i;
	u->conn_dest = *d;
	u->conn_dec = *dec;
	u->peerlen = len < sizeof(u->peer) ? len : sizeof(u->peer);
	memcpy(&u->peer, sa, u->peerlen);
	u->conn_pending = r->state != R_UP;
	if (r->state == R_UP) {
		to = r->addr;
		tolen = r->addrlen;
	}
	pthread_mutex_unlock(&u->mu);
	note_dest(u, d, dec, sa, len);
	/* the kernel now drops what does not come from the relay */
	if (tolen > 0 && real_connect(fd, (struct sockaddr *)&to, tolen) == -1)
		return -errno;
	return 0;
}

void
udp_disconnect(struct udp_sock *u)
{
	pthread_mutex_lock(&u->mu);
	u->conn = false;
	u->conn_pending = false;
	pthread_mutex_unlock(&u->mu);
}

static uint16_t
sockaddr_port(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ?
	       ((const struct sockaddr_in *)ss)->sin_port :
	       ((const struct sockaddr_in6 *)ss)->sin6_port;
}

/*
 * connect(AF_UNSPEC) also unbinds a port the kernel chose (Linux
 * __udp_disconnect), and the next datagram would leave from another one,
 * which the relays drop: they only take datagrams from the port the
 * association named.  So the socket gets its port back; where another
 * socket took it meanwhile, the associations start again.
 */
int
udp_unconnect(int fd, struct udp_sock *u, const struct sockaddr *sa,
	      socklen_t len)
{
	struct sockaddr_storage was, now;
	socklen_t wl = sizeof(was), nl = sizeof(now);
	int rc, saved, i, ctrl[UDP_RELAYS];

	udp_disconnect(u);
	if (getsockname(fd, (struct sockaddr *)&was, &wl) == -1)
		wl = 0;
	rc = real_connect(fd, sa, len);
	if (rc == -1 || wl == 0 || sockaddr_port(&was) == 0)
		return rc;
	saved = errno;
	if (getsockname(fd, (struct sockaddr *)&now, &nl) == 0 &&
	    sockaddr_port(&now) == 0) {
		if (now.ss_family == AF_INET)
			((struct sockaddr_in *)&now)->sin_port =
				sockaddr_port(&was);
		else
			((struct sockaddr_in6 *)&now)->sin6_port =
				sockaddr_port(&was);
		if (bind(fd, (struct sockaddr *)&now, nl) == -1) {
			pthread_mutex_lock(&u->mu);
			for (i = 0; i < UDP_RELAYS; i++)
				ctrl[i] = relay_clear(&u->relay[i]);
			pthread_mutex_unlock(&u->mu);
			for (i = 0; i < UDP_RELAYS; i++)
				own_close(ctrl[i]);
		}
	}
	errno = saved;
	return rc;
}

bool
udp_peer(struct udp_sock *u, struct sockaddr *sa, socklen_t *len)
{
	bool conn;

	pthread_mutex_lock(&u->mu);
	conn = u->conn;
	if (conn) {
		memcpy(sa, &u->peer, *len < u->peerlen ? *len : u->peerlen);
		*len = u->peerlen;
	}
	pthread_mutex_unlock(&u->mu);
	return conn;
}

/*
 * The source the application sees for a datagram the relay unwrapped:
 * what the header says, as the socket's family; for a reply from a name
 * the socket sent to (the proxy resolved it), the address the
 * application used for that name.
 */
static void
relay_source(struct udp_sock *u, const struct socks5_addr *a,
	     struct sockaddr_storage *src, socklen_t *len)
{
	struct tun_dest d = { .port = a->port };
	const struct udp_dest *match = NULL, *byport = NULL;
	unsigned int i, k = u->ndest < UDP_DESTS ? u->ndest : UDP_DESTS;

	if (a->atyp == SOCKS5_ATYP_NAME) {
		snprintf(d.name, sizeof(d.name), "%s", a->name);
	} else {
		d.family = a->atyp == SOCKS5_ATYP_V4 ? AF_INET : AF_INET6;
		memcpy(d.addr, a->addr, d.family == AF_INET ? 4 : 16);
	}
	for (i = 0; i < k; i++) {
		if (same_dest(&u->dest[i].d, &d))
			match = &u->dest[i];
		else if (u->dest[i].d.name[0] != '\0' &&
			 u->dest[i].d.port == d.port && u->dest[i].applen > 0)
			byport = &u->dest[i];
	}
	if (match == NULL && byport != NULL)
		match = byport;
	if (match != NULL && match->applen > 0 &&
	    (d.name[0] != '\0' || match->d.name[0] != '\0')) {
		memcpy(src, &match->app, match->applen);
		*len = match->applen;
		return;
	}
	if (d.name[0] != '\0' ||
	    sockaddr_for(u->family, d.family, d.addr, d.port, src, len) < 0) {
		memset(src, 0, sizeof(*src));
		src->ss_family = (sa_family_t)u->family;
		*len = u->family == AF_INET ? sizeof(struct sockaddr_in)
					    : sizeof(struct sockaddr_in6);
	}
}

enum verdict { KEEP, DROP_STRAY, DROP_FRAG, DROP_BAD, WAKE };

/*
 * What to do with a datagram of n bytes in buf from `from`: from one of
 * u's relays, unwrap it (*off past the header, *src its real source);
 * from anyone else, keep it only where the rules would send to that
 * source direct.
 */
static enum verdict
classify(struct udp_sock *u, const struct sockaddr_storage *from,
	 socklen_t fromlen, const uint8_t *buf, size_t n, size_t *off,
	 struct sockaddr_storage *src, socklen_t *srclen)
{
	struct socks5_addr a;
	struct decision dec;
	struct tun_dest d;
	uint8_t frag = 0;
	int i, relay = -1;
	bool conn;

	pthread_mutex_lock(&u->mu);
	if (u->wake_err != 0 && n == 0 && same_addr(from, &u->self)) {
		pthread_mutex_unlock(&u->mu);
		return WAKE;
	}
	for (i = 0; i < UDP_RELAYS; i++)
		if (u->relay[i].state == R_UP &&
		    same_addr(from, &u->relay[i].addr))
			relay = i;
	conn = u->conn;
	if (relay < 0) {
		pthread_mutex_unlock(&u->mu);
		if (conn || !route_dest((const struct sockaddr *)from, fromlen,
					&d))
			return DROP_STRAY;
		route_decide(shim_get(), &d, &dec);
		if (dec.action != CFG_DIRECT)
			return DROP_STRAY;
		*off = 0;
		memcpy(src, from, fromlen);
		*srclen = fromlen;
		return KEEP;
	}
	if (socks5_parse_udp_header(buf, n, off, &frag, &a) != PARSE_OK) {
		pthread_mutex_unlock(&u->mu);
		return DROP_BAD;
	}
	if (frag != 0) {
		pthread_mutex_unlock(&u->mu);
		return DROP_FRAG;
	}
	if (conn && relay == u->conn_relay) {
		memcpy(src, &u->peer, u->peerlen);
		*srclen = u->peerlen;
	} else {
		relay_source(u, &a, src, srclen);
	}
	pthread_mutex_unlock(&u->mu);
	return KEEP;
}

/* A dropped datagram: counted, and the first of each kind logged.
 * from is NULL when the receive could not say (late_one). */
static void
dropped(struct udp_sock *u, enum verdict v,
	const struct sockaddr_storage *from)
{
	unsigned long *count = v == DROP_STRAY ? &u->strays :
			       v == DROP_FRAG ? &u->frags : &u->bad;
	char a[INET6_ADDRSTRLEN] = "?";
	const void *p;

	if (__atomic_fetch_add(count, 1, __ATOMIC_RELAXED) != 0)
		return;
	if (from == NULL) {
		log_msg(LOG_WARN, "udp: dropped a datagram from an unknown "
			"sender: a read that cannot tell the source began "
			"before the socket's association");
		return;
	}
	p = from->ss_family == AF_INET ?
	    (const void *)&((const struct sockaddr_in *)from)->sin_addr :
	    (const void *)&((const struct sockaddr_in6 *)from)->sin6_addr;
	inet_ntop(from->ss_family, p, a, sizeof(a));
	log_msg(LOG_WARN, "udp: dropped a datagram from %s port %u: %s", a,
		ntohs(((const struct sockaddr_in *)from)->sin_port),
		v == DROP_STRAY ? "not a relay, and its rule is not direct" :
		v == DROP_FRAG ? "a SOCKS5 fragment (not supported)" :
		"a malformed SOCKS5 UDP header");
}

/* The wake-up datagram arrived: the association's error, once. */
static ssize_t
wake_error(struct udp_sock *u)
{
	int err;

	pthread_mutex_lock(&u->mu);
	err = u->wake_err;
	u->wake_err = 0;
	pthread_mutex_unlock(&u->mu);
	errno = err != 0 ? -err : EAGAIN;
	return -1;
}

/*
 * A datagram's payload p[0..plen) into m's buffers, with its source and
 * the kernel's flags kflags (MSG_TRUNC added when the buffers are too
 * short); returns the bytes copied.
 */
static size_t
deliver(struct msghdr *m, const uint8_t *p, size_t plen, int kflags,
	const struct sockaddr_storage *src, socklen_t srclen)
{
	size_t k, c, done;

	for (k = 0, done = 0; k < m->msg_iovlen && done < plen; k++) {
		c = m->msg_iov[k].iov_len < plen - done ?
		    m->msg_iov[k].iov_len : plen - done;
		memcpy(m->msg_iov[k].iov_base, p + done, c);
		done += c;
	}
	m->msg_flags = kflags;
	if (done < plen)
		m->msg_flags |= MSG_TRUNC;
	if (m->msg_name != NULL) {
		memcpy(m->msg_name, src,
		       m->msg_namelen < srclen ? m->msg_namelen : srclen);
		m->msg_namelen = srclen;
	}
	return done;
}

ssize_t
udp_recvmsg(int fd, struct udp_sock *u, struct msghdr *m, int flags)
{
	struct sockaddr_storage from, src;
	socklen_t srclen = 0;
	struct msghdr in;
	struct iovec iov;
	uint8_t *buf;
	size_t off = 0, plen, done;
	enum verdict v;
	ssize_t n;
	int tries;

	if (flags & MSG_ERRQUEUE)
		return real_recvmsg(fd, m, flags);
	pthread_once(&once, init_once);
	buf = recv_buffer();
	if (buf == NULL) {
		errno = ENOMEM;
		return -1;
	}
	/* bounded: a flood of strays on a blocking socket still returns */
	for (tries = 0;; tries++) {
		memset(&in, 0, sizeof(in));
		iov.iov_base = buf;
		iov.iov_len = UDP_DGRAM_MAX;
		in.msg_name = &from;
		in.msg_namelen = sizeof(from);
		in.msg_iov = &iov;
		in.msg_iovlen = 1;
		in.msg_control = m->msg_control;
		in.msg_controllen = m->msg_controllen;
		n = real_recvmsg(fd, &in, flags & ~MSG_TRUNC);
		if (n < 0)
			return -1;
		v = classify(u, &from, in.msg_namelen, buf, (size_t)n, &off,
			     &src, &srclen);
		if (v == KEEP)
			break;
		if (flags & MSG_PEEK)	/* take it off the queue */
			real_recvfrom(fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		if (v == WAKE)
			return wake_error(u);
		dropped(u, v, &from);
		if (tries >= 1000) {
			errno = EAGAIN;
			return -1;
		}
	}
	plen = (size_t)n - off;
	done = deliver(m, buf + off, plen, in.msg_flags & ~MSG_TRUNC, &src,
		       srclen);
	m->msg_controllen = in.msg_controllen;
	return (ssize_t)((flags & MSG_TRUNC) ? plen : done);
}

int
udp_recvmmsg(int fd, struct udp_sock *u, struct mmsghdr *v, unsigned int n,
	     int flags)
{
	int f = flags & ~MSG_WAITFORONE;
	unsigned int i;
	ssize_t r;

	for (i = 0; i < n; i++) {
		r = udp_recvmsg(fd, u, &v[i].msg_hdr, f);
		if (r < 0)
			return i > 0 ? (int)i : -1;
		v[i].msg_len = (unsigned int)r;
		if (flags & MSG_WAITFORONE)
			f |= MSG_DONTWAIT;
	}
	return (int)n;
}

/* The relay a socket connected through one is connected to (the kernel
 * then takes datagrams from nobody else). */
static bool
connected_relay(struct udp_sock *u, struct sockaddr_storage *ss,
		socklen_t *len)
{
	struct relay *r;
	bool ok;

	pthread_mutex_lock(&u->mu);
	r = &u->relay[u->conn_relay];
	ok = u->conn && !u->conn_pending && r->state == R_UP;
	if (ok) {
		*ss = r->addr;
		*len = r->addrlen;
	}
	pthread_mutex_unlock(&u->mu);
	return ok;
}

/*
 * One datagram a late receive got (see udp_recv_late): got bytes, the
 * first `have` of them in m's buffers.  Unwrapped in place: returns its
 * length as the receive would, or -1 with errno for the wake-up, or -2
 * when it is dropped.
 */
static ssize_t
late_one(struct udp_sock *u, struct msghdr *m, size_t got, int kflags,
	 int flags, const struct sockaddr_storage *from, socklen_t fromlen)
{
	struct sockaddr_storage relay, src;
	socklen_t srclen = 0;
	size_t have = got < iov_total(m) ? got : iov_total(m), off = 0, k, c;
	size_t done;
	uint8_t *buf;
	enum verdict v;

	buf = recv_buffer();
	if (buf == NULL) {
		errno = ENOMEM;
		return -1;
	}
	for (k = 0, done = 0; k < m->msg_iovlen && done < have; k++) {
		c = m->msg_iov[k].iov_len < have - done ?
		    m->msg_iov[k].iov_len : have - done;
		memcpy(buf + done, m->msg_iov[k].iov_base, c);
		done += c;
	}
	if (from == NULL && connected_relay(u, &relay, &fromlen))
		from = &relay;
	v = from == NULL ? DROP_STRAY :
	    classify(u, from, fromlen, buf, have, &off, &src, &srclen);
	if (v == WAKE)
		return wake_error(u);
	if (v != KEEP) {
		dropped(u, v, from);
		return -2;
	}
	done = deliver(m, buf + off, have - off, kflags, &src, srclen);
	return (ssize_t)((flags & MSG_TRUNC) ? got - off : done);
}

ssize_t
udp_recv_late(int fd, struct udp_sock *u, struct msghdr *m, ssize_t got,
	      int flags, const struct sockaddr_storage *from,
	      socklen_t fromlen, size_t ctrllen)
{
	int kflags = m->msg_flags;
	ssize_t n;

	pthread_once(&once, init_once);
	m->msg_controllen = ctrllen;
	n = late_one(u, m, (size_t)got, kflags, flags, from, fromlen);
	if (n != -2)
		return n;
	if (flags & MSG_PEEK)	/* take it off the queue */
		real_recvfrom(fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	m->msg_flags = 0;
	return udp_recvmsg(fd, u, m, flags);
}

int
udp_recvmmsg_late(int fd, struct udp_sock *u, struct mmsghdr *v,
		  unsigned int vlen, int got, int flags)
{
	struct sockaddr_storage from;
	struct msghdr *m;
	socklen_t fromlen;
	ssize_t n = -2;
	int i;

	pthread_once(&once, init_once);
	for (i = 0; i < got; i++) {
		m = &v[i].msg_hdr;
		fromlen = 0;
		if (m->msg_name != NULL) {
			fromlen = m->msg_namelen < sizeof(from) ?
				  m->msg_namelen : sizeof(from);
			memcpy(&from, m->msg_name, fromlen);
		}
		n = late_one(u, m, v[i].msg_len, m->msg_flags,
			     flags & ~MSG_TRUNC, fromlen > 0 ? &from : NULL,
			     fromlen);
		if (n < 0)
			break;
		v[i].msg_len = (unsigned int)n;
	}
	if (i > 0)
		return i;
	if (n == -1)
		return -1;
	return udp_recvmmsg(fd, u, v, vlen, flags);
}
