/*
 * msg.c - the calls that carry a destination or many buffers: sendto,
 * sendmsg, sendmmsg, recvmsg and recvmmsg, with TCP Fast Open and the
 * datagram routing they share.
 */
#include <errno.h>
#include <string.h>

#include "async.h"
#include "guard.h"
#include "route.h"
#include "hooks.h"

/*
 * The destination as the kernel reads it, for the rules: an AF_INET6
 * name of 24 bytes (RFC 2133's, without sin6_scope_id) is a whole
 * address to the kernel, and so is an AF_UNSPEC name on an AF_INET UDP
 * socket (udp_sendmsg sends to its sin_addr).  NULL when the kernel
 * would not send to it (no inet address, or too short).
 */
static const struct sockaddr *
kernel_dest(int fd, const struct sockaddr *sa, socklen_t *len,
	    struct sockaddr_storage *tmp)
{
	int dom = 0, saved;
	socklen_t dl = sizeof(dom);

	if (sa->sa_family == AF_INET)
		return sa;
	if (sa->sa_family == AF_INET6) {
		if (*len >= sizeof(struct sockaddr_in6))
			return sa;
		if (*len < SIN6_LEN_RFC2133)
			return NULL;
		memset(tmp, 0, sizeof(struct sockaddr_in6));
		memcpy(tmp, sa, *len);
		*len = sizeof(struct sockaddr_in6);
		return (const struct sockaddr *)tmp;
	}
	if (sa->sa_family != AF_UNSPEC || *len < sizeof(struct sockaddr_in))
		return NULL;
	saved = errno;
	if (real_getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &dl) == -1 ||
	    dom != AF_INET) {
		/* an AF_INET6 socket takes AF_UNSPEC as "no address" */
		errno = saved;
		return NULL;
	}
	memcpy(tmp, sa, sizeof(struct sockaddr_in));
	((struct sockaddr_in *)tmp)->sin_family = AF_INET;
	*len = sizeof(struct sockaddr_in);
	return (const struct sockaddr *)tmp;
}

/*
 * A datagram with an inet destination is decided by the rules: 0 when it
 * goes as the application asked (direct, or not a datagram), 1 when via a
 * SOCKS5 relay (*d, *dec), -1 with errno when refused.  An AF_INET or
 * full AF_INET6 address costs two compares before the decision.  A name
 * longer than a sockaddr_storage is cut to one, as the kernel does for
 * sendmsg (sendto refuses it before this: see there).
 */
static inline int
dgram_route(int fd, const void *dst, socklen_t len, struct tun_dest *d,
	    struct decision *dec)
{
	const struct sockaddr *sa = dst;
	struct sockaddr_storage tmp;
	int rc;

	if (dst == NULL || len < sizeof(sa_family_t))
		return 0;
	if (len > sizeof(struct sockaddr_storage))
		len = sizeof(struct sockaddr_storage);
	if (__builtin_expect(sa->sa_family != AF_INET, 0) &&
	    (sa->sa_family != AF_INET6 || len < sizeof(struct sockaddr_in6))) {
		sa = kernel_dest(fd, sa, &len, &tmp);
		if (sa == NULL)
			return 0;
	}
	if (__builtin_expect(shim_internal(), 0)) {
		/* the library sends nothing through its hooks: a signal
		 * handler's datagram (see reentered_connect) */
		errno = -route_reentered(sa, len, "udp");
		return -1;
	}
	rc = route_datagram(fd, sa, len, d, dec);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return rc;
}

/*
 * TCP Fast Open: sendto/sendmsg with MSG_FASTOPEN is connect + send in
 * one call.  A destination the rules route (via or block) becomes
 * connect() through the shim, then a plain send of the data, so the data
 * reaches the destination through the tunnel and never the proxy's
 * handshake.  True when the rules route the destination (via or block,
 * or direct with a PROXY protocol header); a plain direct one keeps the
 * kernel's Fast Open.
 */
static int
fastopen(int fd, int flags, const struct sockaddr *sa, socklen_t len)
{
	struct tun_dest d;
	struct decision dec;
	int type = 0, saved = errno;
	socklen_t tl = sizeof(type);

	if (!(flags & MSG_FASTOPEN) || sa == NULL || fdtab_get(fd) != NULL ||
	    !route_dest(sa, len, &d))
		return 0;
	if (real_getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == -1 ||
	    type != SOCK_STREAM) {
		errno = saved;
		return 0;
	}
	if (shim_internal())
		return 1;	/* a signal handler's: route_connect refuses */
	route_decide(shim_get(), &d, &dec);
	errno = saved;
	/* a PROXY protocol header must precede the SYN's data too */
	return dec.action != CFG_DIRECT ||
	       (dec.rule != NULL && dec.rule->pp_version != 0);
}

/*
 * A send on a socket the library keeps nothing for (until the library
 * first gives an fd an entry, that is one load), without a destination
 * or to one that no rule sends anywhere but direct (route.h): the
 * kernel's, after a few compares.  Everything else, and every check the
 * kernel makes of the name, is the long way's.  quick: without a call,
 * for the hooks' first look (the memo of the last destination found
 * direct, a name the thread passed before); false then means "ask
 * again without quick, then go the long way".
 */
static inline __attribute__((always_inline)) bool
plain_send(int fd, const void *dst, socklen_t len, int flags, bool quick)
{
	if (__builtin_expect(watched(fd) != NULL || (flags & MSG_FASTOPEN), 0))
		return false;
	if (dst == NULL)
		return true;
	if (len < sizeof(struct sockaddr_in) ||
	    len > sizeof(struct sockaddr_storage) ||
	    (quick ? !ptr_surely_good(dst, len) : bad_ptr(dst, len)) ||
	    shim_internal())
		return false;
	return route_fast_name(dst, len, quick);
}

static __attribute__((noinline)) ssize_t
sendto_slow(int fd, const void *buf, size_t n, int flags,
	    const struct sockaddr *sa, socklen_t len)
{
	struct iovec v = { .iov_base = (void *)buf, .iov_len = n };
	struct msghdr m = { .msg_name = (void *)sa, .msg_namelen = len,
			    .msg_iov = &v, .msg_iovlen = 1 };
	struct tun_dest d;
	struct decision dec;
	struct fd_entry *e;
	int rc;

	if (plain_send(fd, sa, len, flags, false))
		return real_sendto(fd, buf, n, flags, sa, len);
	/* the kernel refuses a longer name (EINVAL) or a bad one (EFAULT)
	 * before sending */
	if (sa != NULL && (__builtin_expect(len > sizeof(struct
						   sockaddr_storage), 0) ||
			   bad_ptr(sa, len)))
		return real_sendto(fd, buf, n, flags, sa, len);
	if (__builtin_expect(flags & MSG_FASTOPEN, 0) &&
	    fastopen(fd, flags, sa, len)) {
		if (route_connect(fd, sa, len, &hook_udp) == -1)
			return -1;	/* EINPROGRESS too, as TFO would */
		e = watched(fd);
		if (peeking(e, EVID_PEEK_OUT)) {	/* the tunnel's first bytes */
			ssize_t r;

			if (hook_peek_pre(fd, e, &v, 1) < 0)
				return -1;
			r = real_send(fd, buf, n, flags & ~MSG_FASTOPEN);
			hook_peek_out(fd, &v, 1, r);
			return r;
		}
		return real_send(fd, buf, n, flags & ~MSG_FASTOPEN);
	}
	rc = dgram_route(fd, sa, len, &d, &dec);
	if (rc != 0)
		return rc < 0 ? -1 : udp_send(fd, &d, &dec, &m, flags);
	e = watched(fd);
	if (__builtin_expect(e != NULL, 0)) {
		if (e->udp != NULL && sa == NULL)
			return hook_udp_out(fd, e, buf, n, flags);
		if (e->udp == NULL && held(e)) {
			ssize_t r = hook_held_send(fd, e, &v, 1, flags);

			if (r != -2)
				return r;
		}
		if (e->udp == NULL && hook_wait_tunnel_out(fd, e, flags) < 0)
			return -1;
		if (__builtin_expect(peeking(e, EVID_PEEK_OUT), 0)) {
			ssize_t r;

			if (hook_peek_pre(fd, e, &v, 1) < 0)
				return -1;
			r = real_sendto(fd, buf, n, flags, sa, len);
			hook_peek_out(fd, &v, 1, r);
			return r;
		}
	}
	return real_sendto(fd, buf, n, flags, sa, len);
}

HOOK ssize_t
sendto(int fd, const void *buf, size_t n, int flags,
       const struct sockaddr *sa, socklen_t len)
{
	if (plain_send(fd, sa, len, flags, true))
		return real_sendto(fd, buf, n, flags, sa, len);
	return sendto_slow(fd, buf, n, flags, sa, len);
}

/*
 * The kernel fills a copy of m that always asks for the source (see
 * recv_from); the application's m gets what the kernel would have
 * written into it.
 */
HOOK ssize_t
recvmsg(int fd, struct msghdr *m, int flags)
{
	struct fd_entry *e = watched(fd);
	struct sockaddr_storage from;
	struct udp_sock *u;
	struct msghdr k;
	ssize_t r;

	/* the kernel reads the header before it receives: EFAULT, or
	 * EINVAL for a negative name length */
	if (m == NULL || bad_ptr(m, sizeof(*m)) || (int)m->msg_namelen < 0 ||
	    (m->msg_name != NULL && bad_ptr(m->msg_name, m->msg_namelen)))
		return real_recvmsg(fd, m, flags);
	if (__builtin_expect(e != NULL, 0)) {
		if (e->udp != NULL)
			return udp_recvmsg(fd, e->udp, m, flags);
		if (e->udp == NULL && hook_wait_tunnel(fd, e, flags) < 0)
			return -1;
	}
	k = *m;
	k.msg_name = &from;
	k.msg_namelen = sizeof(from);
	r = real_recvmsg(fd, &k, flags);
	if (__builtin_expect(peeking(e, EVID_PEEK_IN), 0))
		hook_peek_in(fd, m->msg_iov, m->msg_iovlen, r, flags);
	if (r < 0)
		return r;
	if (__builtin_expect((u = became_udp(fd)) != NULL, 0) &&
	    !(flags & MSG_ERRQUEUE)) {
		m->msg_flags = k.msg_flags;
		return udp_recv_late(fd, u, m, r, flags, &from, k.msg_namelen,
				     k.msg_controllen);
	}
	if (m->msg_name != NULL) {
		memcpy(m->msg_name, &from, m->msg_namelen < k.msg_namelen ?
		       m->msg_namelen : k.msg_namelen);
		m->msg_namelen = k.msg_namelen;
	}
	m->msg_flags = k.msg_flags;
	m->msg_controllen = k.msg_controllen;
	return r;
}

HOOK int
recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags,
	 struct timespec *timeout)
{
	struct fd_entry *e = watched(fd);
	socklen_t caps[UIO_MAXIOV];
	struct udp_sock *u;
	unsigned int i;
	int r;

	if (__builtin_expect(e != NULL, 0)) {
		if (e->udp != NULL && v != NULL)
			return udp_recvmmsg(fd, e->udp, v, n, flags);
		if (e->udp == NULL && hook_wait_tunnel(fd, e, flags) < 0)
			return -1;
	}
	/* the kernel takes at most UIO_MAXIOV; a late receive (became_udp)
	 * needs the name buffers' sizes the kernel overwrites */
	if (n > UIO_MAXIOV)
		n = UIO_MAXIOV;
	if (v == NULL || bad_ptr(v, n * sizeof(*v)))
		return real_recvmmsg(fd, v, n, flags, timeout);
	for (i = 0; i < n; i++)
		caps[i] = v[i].msg_hdr.msg_namelen;
	r = real_recvmmsg(fd, v, n, flags, timeout);
	if (__builtin_expect(r > 0, 1) && !(flags & MSG_ERRQUEUE) &&
	    __builtin_expect((u = became_udp(fd)) != NULL, 0))
		return udp_recvmmsg_late(fd, u, v, n, r, flags, caps);
	return r;
}

/* One message through the rules (sendmsg's body, also sendmmsg's). */
static ssize_t
send_msg(int fd, const struct msghdr *m, int flags)
{
	struct tun_dest d;
	struct decision dec;
	struct fd_entry *e;
	int rc;

	rc = dgram_route(fd, m->msg_name, m->msg_namelen, &d, &dec);
	if (rc != 0)
		return rc < 0 ? -1 : udp_send(fd, &d, &dec, m, flags);
	e = watched(fd);
	if (__builtin_expect(e != NULL, 0)) {
		if (e->udp != NULL && m->msg_name == NULL)
			return udp_send_connected(fd, e->udp, m, flags);
		if (e->udp == NULL && held(e)) {
			ssize_t r = -2;

			/* ancillary data belongs to these bytes alone */
			if (m->msg_controllen > 0) {
				if (hook_unhold(fd, e, flags) < 0)
					return -1;
			} else {
				r = hook_held_send(fd, e, m->msg_iov,
						   m->msg_iovlen, flags);
			}
			if (r != -2)
				return r;
		}
		if (e->udp == NULL && hook_wait_tunnel_out(fd, e, flags) < 0)
			return -1;
		if (__builtin_expect(peeking(e, EVID_PEEK_OUT), 0) &&
		    m->msg_iov != NULL) {
			ssize_t r;

			if (hook_peek_pre(fd, e, m->msg_iov, m->msg_iovlen) < 0)
				return -1;
			r = real_sendmsg(fd, m, flags);
			hook_peek_out(fd, m->msg_iov, m->msg_iovlen, r);
			return r;
		}
	}
	return real_sendmsg(fd, m, flags);
}

static __attribute__((noinline)) ssize_t
sendmsg_slow(int fd, const struct msghdr *m, int flags)
{
	struct msghdr copy;

	if (m != NULL && !bad_ptr(m, sizeof(*m)) &&
	    plain_send(fd, m->msg_name, m->msg_namelen, flags,
		       false))
		return real_sendmsg(fd, m, flags);

	if (m == NULL || bad_ptr(m, sizeof(*m)) ||
	    (m->msg_name != NULL && bad_ptr(m->msg_name, m->msg_namelen)))
		return real_sendmsg(fd, m, flags);
	if (__builtin_expect(flags & MSG_FASTOPEN, 0) &&
	    fastopen(fd, flags, m->msg_name, m->msg_namelen)) {
		if (route_connect(fd, m->msg_name, m->msg_namelen,
				  &hook_udp) == -1)
			return -1;
		copy = *m;
		copy.msg_name = NULL;
		copy.msg_namelen = 0;
		/* on, as any send: the tunnel's first bytes are looked at */
		return send_msg(fd, &copy, flags & ~MSG_FASTOPEN);
	}
	return send_msg(fd, m, flags);
}

/*
 * fds passed to another process (SCM_RIGHTS, or any ancillary data: it
 * is not worth telling apart) reach it without the helper that holds
 * their handshakes (tunnel_early.c): those go first.
 */
static void
passing(const struct msghdr *m)
{
	if (m != NULL && !bad_ptr(m, sizeof(*m)) && m->msg_controllen > 0)
		async_early_flush_all(false);
}

/* sendmsg's own path: straight to the kernel when nothing is to decide */
static inline __attribute__((always_inline)) ssize_t
sendmsg_go(int fd, const struct msghdr *m, int flags)
{
	if (m != NULL && ptr_surely_good(m, sizeof(*m)) &&
	    plain_send(fd, m->msg_name, m->msg_namelen, flags, true))
		return real_sendmsg(fd, m, flags);
	return sendmsg_slow(fd, m, flags);
}

/* sendmsg while some handshake is held: out of line, so that the
 * common one stays tail calls. */
static __attribute__((noinline)) ssize_t
sendmsg_passing(int fd, const struct msghdr *m, int flags)
{
	passing(m);
	return sendmsg_go(fd, m, flags);
}

HOOK ssize_t
sendmsg(int fd, const struct msghdr *m, int flags)
{
	if (__builtin_expect(__atomic_load_n(&async_nheld, __ATOMIC_RELAXED),
			     0))
		return sendmsg_passing(fd, m, flags);
	return sendmsg_go(fd, m, flags);
}

/*
 * The leading messages that go as the application asked leave in one
 * sendmmsg; from the first that the rules route (or refuse) on, one by
 * one.  A refused message ends the batch, as the kernel stops at a
 * failing one; its decision (logged and counted once) is not made again.
 * As the kernel, at most UIO_MAXIOV messages are looked at.  TCP Fast
 * Open goes message by message through sendmsg's path: the first
 * connects through the shim, and the kernel answers the next as it would
 * (EISCONN ends the batch).
 */
HOOK int
sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	struct fd_entry *e = watched(fd);
	struct tun_dest d;
	struct decision dec;
	unsigned int i;
	int sent = 0, rc = 0;
	ssize_t r;

	if (n > UIO_MAXIOV)
		n = UIO_MAXIOV;
	if (v == NULL || bad_ptr(v, n * sizeof(*v)))
		return real_sendmmsg(fd, v, n, flags);
	if (__builtin_expect(flags & MSG_FASTOPEN, 0) && n > 0 &&
	    fastopen(fd, flags, v[0].msg_hdr.msg_name,
		     v[0].msg_hdr.msg_namelen)) {
		for (i = 0; i < n; i++) {
			r = sendmsg(fd, &v[i].msg_hdr, flags);
			if (r < 0)
				return sent > 0 ? sent : -1;
			v[i].msg_len = (unsigned int)r;
			sent++;
		}
		return sent;
	}
	for (i = 0; i < n; i++) {
		if (e != NULL && e->udp != NULL &&
		    v[i].msg_hdr.msg_name == NULL)
			break;
		/* the kernel sends the ones before and stops here */
		if (v[i].msg_hdr.msg_name != NULL &&
		    bad_ptr(v[i].msg_hdr.msg_name, v[i].msg_hdr.msg_namelen))
			return real_sendmmsg(fd, v, i + 1, flags);
		rc = dgram_route(fd, v[i].msg_hdr.msg_name,
				 v[i].msg_hdr.msg_namelen, &d, &dec);
		if (rc != 0)
			break;
	}
	if (i == n && (e == NULL || e->udp == NULL)) {
		/* a held handshake goes before the batch */
		if (held(e) && hook_unhold(fd, e, flags) < 0)
			return -1;
		return real_sendmmsg(fd, v, n, flags);
	}
	if (i > 0) {
		sent = real_sendmmsg(fd, v, i, flags);
		if (sent < (int)i)
			return sent;
	}
	if (i < n && rc != 0) {
		/* decided above: refused (errno set), or via a relay */
		r = rc < 0 ? -1 : udp_send(fd, &d, &dec, &v[i].msg_hdr, flags);
		if (r < 0)
			return sent > 0 ? sent : -1;
		v[i++].msg_len = (unsigned int)r;
		sent++;
	}
	for (; i < n; i++) {
		r = send_msg(fd, &v[i].msg_hdr, flags);
		if (r < 0)
			return sent > 0 ? sent : -1;
		v[i].msg_len = (unsigned int)r;
		sent++;
	}
	return sent;
}
