/*
 * udp_recv.c - datagrams in on a socket with associations.
 *
 * What comes from one of the socket's relays is unwrapped (RFC 1928 §7)
 * and handed over with its real source; what comes from anyone else is
 * kept only where the rules would reach that source direct, so a stray
 * sender cannot inject datagrams; fragments and malformed headers are
 * dropped and counted.  Each datagram is read whole into a per-thread
 * buffer first, then copied out.
 */
#include "udp_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "log.h"
#include "real.h"
#include "route.h"

static pthread_key_t rbuf_key;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static __thread uint8_t *rbuf;		/* one datagram, per thread */

static void
init_once(void)
{
	pthread_key_create(&rbuf_key, free);
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

/* What becomes of a datagram received on a socket with associations. */
enum verdict {
	KEEP,		/* handed to the application */
	DROP_STRAY,	/* not from a relay, and its source is not direct */
	DROP_FRAG,	/* a SOCKS5 fragment (FRAG != 0) */
	DROP_BAD,	/* a relay's datagram without a valid header */
	WAKE,		/* our own wake-up: the association failed */
};

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
		if (udp_same_dest(&u->dest[i].d, &d))
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
	    udp_sockaddr_for(u->family, d.family, d.addr, d.port, src, len) < 0) {
		memset(src, 0, sizeof(*src));
		src->ss_family = (sa_family_t)u->family;
		*len = u->family == AF_INET ? sizeof(struct sockaddr_in)
					    : sizeof(struct sockaddr_in6);
	}
}

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
	if (u->wake_err != 0 && n == 0 && udp_same_addr(from, &u->self)) {
		pthread_mutex_unlock(&u->mu);
		return WAKE;
	}
	for (i = 0; i < UDP_RELAYS; i++)
		if (u->relay[i].state == R_UP &&
		    udp_same_addr(from, &u->relay[i].addr))
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
	size_t have, off = 0, done;
	uint8_t *buf;
	enum verdict v;

	buf = recv_buffer();
	if (buf == NULL) {
		errno = ENOMEM;
		return -1;
	}
	have = udp_iov_gather(m, buf, got);
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
	size_t cap = m->msg_controllen;
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
	m->msg_controllen = cap;
	return udp_recvmsg(fd, u, m, flags);
}

int
udp_recvmmsg_late(int fd, struct udp_sock *u, struct mmsghdr *v,
		  unsigned int vlen, int got, int flags, const socklen_t *caps)
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
			/* the kernel wrote at most caps[i] bytes, and
			 * msg_namelen says how long the source is */
			fromlen = m->msg_namelen < caps[i] ? m->msg_namelen
							   : caps[i];
			if (fromlen > sizeof(from))
				fromlen = sizeof(from);
			/* a name cut short compares as nobody's, not
			 * with stale bytes after it */
			memset(&from, 0, sizeof(from));
			memcpy(&from, m->msg_name, fromlen);
			m->msg_namelen = caps[i];
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
