/*
 * udp_send.c - datagrams out through a SOCKS5 relay, and UDP sockets
 * connected to a proxied peer.
 *
 * Each datagram goes to its association's relay behind the SOCKS5 UDP
 * header (RFC 1928 §7) in one sendmsg; while a non-blocking socket's
 * association starts, datagrams wait in its queue (udp.c flushes it).
 * A connected socket is connected to the relay, so the kernel drops
 * what comes from anyone else, and its peer is what the application
 * named.
 */
#include "udp_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "log.h"
#include "real.h"
#include "route.h"

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
		if (udp_same_dest(&u->dest[i].d, d)) {
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

	if (r->qn >= UDP_QUEUE_MAX || r->qbytes + hl + plen > UDP_QUEUE_BYTES) {
		__atomic_add_fetch(&u->queued_drop, 1, __ATOMIC_RELAXED);
		return 0;	/* as a full network would: gone */
	}
	q = malloc(sizeof(*q) + hl + plen);
	if (q == NULL)
		return -ENOMEM;
	memcpy(q->data, hdr, hl);
	q->len = hl + udp_iov_gather(m, q->data + hl, plen);
	q->next = NULL;
	*r->qtail = q;
	r->qtail = &q->next;
	r->qn++;
	r->qbytes += q->len;
	return 0;
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
	size_t plen = udp_iov_total(m), k;
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
	    !udp_nonblocking(fd))
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
		udp_iov_gather(m, flat, plen);
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
	struct udp_sock *u = udp_sock_for(fd);
	const void *app = m->msg_name;
	socklen_t applen = m->msg_namelen;
	int i;

	if (u == NULL)
		return -1;
	i = udp_relay_for(u, fd, s, dec, d, flags);
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
	struct udp_sock *u = udp_sock_for(fd);
	struct sockaddr_storage to;
	socklen_t tolen = 0;
	struct relay *r;
	int i;

	if (u == NULL)
		return -errno;
	i = udp_relay_for(u, fd, shim_get(), dec, d, 0);
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
				ctrl[i] = udp_relay_clear(&u->relay[i]);
			pthread_mutex_unlock(&u->mu);
			for (i = 0; i < UDP_RELAYS; i++)
				udp_own_close(ctrl[i]);
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
