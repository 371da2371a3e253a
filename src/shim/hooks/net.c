/*
 * net.c - the exported socket interposers.  Each asks "is this
 * mine?" and either calls libc untouched or hands over to the core.
 *
 * The read and write family matter while a non-blocking socket's
 * handshake is under way and on UDP sockets with associations (udp.c):
 * until the first such socket exists in the process they cost one
 * relaxed load, then one fd-table lookup.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "async.h"
#include "fdtab.h"
#include "ready.h"
#include "real.h"
#include "route.h"
#include "shim.h"
#include "udp.h"

#define HOOK __attribute__((visibility("default")))

/*
 * A pointer the kernel refuses (EFAULT) that the shim must not touch:
 * such calls go to the kernel as they are, for its EFAULT (or the EBADF it
 * checks first).  The first page and anything beyond the lowest 2^56
 * bytes are refused at once.  Otherwise the range is read once with
 * process_vm_readv, which fails with EFAULT where the kernel would, and
 * the pages that passed are remembered per thread (the last two ranges:
 * a message on the stack and its name elsewhere): a program that passes
 * the same buffers call after call pays a few compares.  Where
 * process_vm_readv is not allowed (a seccomp filter), the range is taken
 * as readable, as before.
 */
#define PG ((uintptr_t)4096)
#define CHECK_PAGES 64		/* pages looked at in one call at most */

static __thread uintptr_t ok_lo[2], ok_hi[2]
	__attribute__((tls_model("initial-exec")));	/* [lo, hi) each */

static __attribute__((noinline)) bool
unreadable(const void *p, size_t n)
{
	struct iovec local[CHECK_PAGES + 1], remote[CHECK_PAGES + 1];
	uintptr_t a = (uintptr_t)p, lo = a & ~(PG - 1), pg;
	uintptr_t hi = (a + n - 1) & ~(PG - 1);
	char byte[CHECK_PAGES + 1];
	size_t k = 0;
	int saved = errno;
	ssize_t got;

	if (hi - lo >= CHECK_PAGES * PG)
		return false;	/* a huge vector: left to the kernel */
	/* one byte of each page, the first byte asked for in the first */
	for (pg = lo; pg <= hi; pg += PG, k++) {
		remote[k].iov_base = (void *)(pg == lo ? a : pg);
		remote[k].iov_len = 1;
		local[k].iov_base = &byte[k];
		local[k].iov_len = 1;
	}
	got = process_vm_readv(getpid(), local, k, remote, k, 0);
	/* a short read stopped at the first page that is not there */
	if ((got == -1 && errno == EFAULT) || (got >= 0 && got < (ssize_t)k)) {
		errno = saved;
		return true;
	}
	errno = saved;
	if (got == (ssize_t)k) {
		ok_lo[1] = ok_lo[0];
		ok_hi[1] = ok_hi[0];
		ok_lo[0] = lo;
		ok_hi[0] = hi + PG;
	}
	return false;
}

static inline bool
bad_ptr(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p;

	if (__builtin_expect(a < PG || a + n < a ||
			     a + n > ((uintptr_t)1 << 56), 0))
		return true;
	if (__builtin_expect(n == 0 || (a >= ok_lo[0] && a + n <= ok_hi[0]) ||
			     (a >= ok_lo[1] && a + n <= ok_hi[1]), 1))
		return false;
	return unreadable(p, n);
}

/*
 * fd's table entry when it may matter to an I/O call: until the library
 * first gives an fd an entry the I/O hooks must see (a handshake under
 * way, a UDP association), one relaxed load and no lookup.
 */
static inline struct fd_entry *
watched(int fd)
{
	if (__builtin_expect(!__atomic_load_n(&fdtab_live, __ATOMIC_RELAXED),
			     1))
		return NULL;
	return fdtab_get(fd);
}

static bool
nonblocking(int fd, int flags)
{
	return (flags & MSG_DONTWAIT) ||
	       (real_fcntl(fd, F_GETFL, NULL) & O_NONBLOCK);
}

/*
 * A dup'ed copy (entry e) of a socket whose handshake runs on another fd:
 * it waits for that one and takes its outcome.  If that fd was closed
 * first, its handshake went with it (ECONNABORTED).
 */
static int
wait_copy(int fd, struct fd_entry *e, int flags)
{
	struct fd_entry *o;
	int state;

	for (;;) {
		o = fdtab_get(e->tunfd);
		if (o == NULL || o->tunfd != e->tunfd || o == e) {
			e->err = ECONNABORTED;
			break;
		}
		state = __atomic_load_n(&o->state, __ATOMIC_ACQUIRE);
		if (state != FD_TUNNEL_PENDING) {
			e->err = state == FD_TUNNEL_FAILED ? o->err : 0;
			break;
		}
		if (nonblocking(fd, flags)) {
			errno = EAGAIN;
			return -1;
		}
		async_wait(e->tunfd);
	}
	__atomic_store_n(&e->state, e->err != 0 ? FD_TUNNEL_FAILED
						: FD_TUNNEL_READY,
			 __ATOMIC_RELEASE);
	if (e->err != 0) {
		errno = e->err;
		return -1;
	}
	return 0;
}

/*
 * An I/O call on a tunnelled socket (entry e), before it goes to the
 * kernel, answers as the kernel does on a TCP socket whose connect is in
 * progress or failed: a pending tunnel gives EAGAIN to a non-blocking call
 * and makes a blocking one wait; a failed one gives its error once, and
 * afterwards the kernel's answer on the shut-down socket (EOF, EPIPE).
 * 0 to go on, or -1 with errno set.
 */
static int
wait_tunnel(int fd, struct fd_entry *e, int flags)
{
	int err;

	if (__builtin_expect(e->tun == NULL && e->tunfd != fd, 0) &&
	    __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) == FD_TUNNEL_PENDING)
		return wait_copy(fd, e, flags);
	if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) == FD_TUNNEL_PENDING) {
		if (nonblocking(fd, flags)) {
			async_poke(fd);
			if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) ==
			    FD_TUNNEL_PENDING) {
				errno = EAGAIN;
				return -1;
			}
		} else {
			async_wait(fd);	/* its outcome is read below */
		}
	}
	if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) == FD_TUNNEL_FAILED &&
	    (err = ready_take_err(fd, e)) != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

/*
 * fd's UDP state when it has associations now although it had none when
 * the receive that just returned began: another thread's first proxied
 * datagram started one while this thread waited in the kernel, so what
 * it got may be a relay's wrapped datagram.  Until the process has an
 * entry the I/O hooks must see, one relaxed load.
 */
static inline struct udp_sock *
became_udp(int fd)
{
	struct fd_entry *e = watched(fd);

	return e != NULL ? e->udp : NULL;
}

/* What a receive that began before fd had associations got (see
 * became_udp): its length and source, when known. */
struct late {
	ssize_t got;
	const struct sockaddr_storage *from;
	socklen_t fromlen;
};

/* A receive into one buffer on a socket with UDP associations, as one
 * recvmsg; late: the datagram is already in buf. */
static ssize_t
udp_in(int fd, struct udp_sock *u, void *buf, size_t n, int flags,
       struct sockaddr *sa, socklen_t *len, const struct late *late)
{
	struct iovec v = { .iov_base = buf, .iov_len = n };
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 };
	ssize_t r;

	if (sa != NULL && len != NULL) {
		m.msg_name = sa;
		m.msg_namelen = *len;
	}
	if (late == NULL)
		r = udp_recvmsg(fd, u, &m, flags);
	else
		r = udp_recv_late(fd, u, &m, late->got, flags, late->from,
				  late->fromlen, 0);
	if (r >= 0 && sa != NULL && len != NULL)
		*len = m.msg_namelen;
	return r;
}

/*
 * recv and recvfrom: the source is always asked of the kernel, so that a
 * receive that turns out late (became_udp) can tell a relay's datagram
 * from a stray's, and handed on as the kernel would.
 */
static ssize_t
recv_from(int fd, void *buf, size_t n, int flags, struct sockaddr *sa,
	  socklen_t *len)
{
	struct fd_entry *e = watched(fd);
	struct sockaddr_storage from;
	struct late late = { .from = &from, .fromlen = sizeof(from) };
	struct udp_sock *u;

	if (__builtin_expect(e != NULL, 0)) {
		if (e->udp != NULL)
			return udp_in(fd, e->udp, buf, n, flags, sa, len, NULL);
		if (wait_tunnel(fd, e, flags) < 0)
			return -1;
	}
	/* a name buffer the kernel refuses (EFAULT, or EINVAL for a
	 * negative length) after it took the datagram: its answer */
	if (sa != NULL && (len == NULL || bad_ptr(len, sizeof(*len)) ||
			   (int)*len < 0 || bad_ptr(sa, *len)))
		return real_recvfrom(fd, buf, n, flags, sa, len);
	late.got = real_recvfrom(fd, buf, n, flags, (struct sockaddr *)&from,
				 &late.fromlen);
	if (__builtin_expect(late.got >= 0, 1) &&
	    __builtin_expect((u = became_udp(fd)) != NULL, 0))
		return udp_in(fd, u, buf, n, flags, sa, len, &late);
	if (late.got >= 0 && sa != NULL) {
		memcpy(sa, &from, *len < late.fromlen ? *len : late.fromlen);
		*len = late.fromlen;
	}
	return late.got;
}

/* A send without a destination on a socket with UDP associations. */
static ssize_t
udp_out(int fd, struct fd_entry *e, const void *buf, size_t n, int flags)
{
	struct iovec v = { .iov_base = (void *)buf, .iov_len = n };
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 };

	return udp_send_connected(fd, e->udp, &m, flags);
}

/* readv/writev's vector as a message without address.  0, or -1 with
 * errno EINVAL for a negative count. */
static int
iov_msg(struct msghdr *m, const struct iovec *iov, int n)
{
	memset(m, 0, sizeof(*m));
	if (n < 0) {
		errno = EINVAL;
		return -1;
	}
	m->msg_iov = (struct iovec *)iov;
	m->msg_iovlen = (size_t)n;
	return 0;
}

/*
 * connect() while this thread is inside the library: never the
 * library's own (it calls real_connect), so a signal handler's, and
 * refused (route_reentered) - but for a UDP connect, which sends nothing:
 * c-ares connects UDP sockets to the answers to sort them (RFC 6724 source
 * probes) and closes them at once.  A datagram sent meanwhile is refused
 * by the send hooks.
 */
static int
reentered_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	int type = 0, saved = errno, rc;
	socklen_t tl = sizeof(type);

	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return real_connect(fd, sa, len);
	if (real_getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 &&
	    type == SOCK_DGRAM) {
		errno = saved;
		return real_connect(fd, sa, len);
	}
	rc = route_reentered(sa, len, "tcp");
	errno = -rc;
	return -1;
}

static int
connect6_short(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct sockaddr_in6 s6;

	if (len < SIN6_LEN_RFC2133)
		return real_connect(fd, sa, len);	/* EINVAL */
	memset(&s6, 0, sizeof(s6));
	memcpy(&s6, sa, len);
	return connect(fd, (const struct sockaddr *)&s6, sizeof(s6));
}

/* A failed tunnel's socket becomes what a failed TCP connect leaves: an
 * unconnected socket the program may connect again. */
static void
unconnect(int fd)
{
	struct sockaddr sa = { .sa_family = AF_UNSPEC };
	socklen_t len = sizeof(int);
	int err;

	real_connect(fd, &sa, sizeof(sa));
	/* the reset the disconnect sent is ours, not the program's news */
	real_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (__atomic_load_n(&async_used, __ATOMIC_RELAXED))
		async_forget(fd);
	else
		fdtab_clear(fd);
}

HOOK int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct fd_entry *e;
	int err;

	/* what the kernel refuses (EFAULT, EINVAL) it answers itself */
	if (sa == NULL || len < sizeof(sa_family_t) ||
	    len > sizeof(struct sockaddr_storage) || bad_ptr(sa, len))
		return real_connect(fd, sa, len);
	if (__builtin_expect(shim_internal(), 0))
		return reentered_connect(fd, sa, len);
	/* RFC 2133's 24-byte AF_INET6 name is a whole address to the
	 * kernel (sin6_scope_id 0): the rules see it as one */
	if (__builtin_expect(sa->sa_family == AF_INET6 &&
			     len < sizeof(struct sockaddr_in6), 0))
		return connect6_short(fd, sa, len);
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) {
		/* AF_UNSPEC dissolves a UDP socket's association with its
		 * peer, relay or not */
		if (sa->sa_family == AF_UNSPEC && (e = watched(fd)) != NULL &&
		    e->udp != NULL)
			return udp_unconnect(fd, e->udp, sa, len);
		return real_connect(fd, sa, len);
	}
	e = fdtab_get(fd);
	if (e != NULL) {
		/* connect() again on a socket we tunnel: as the kernel
		 * answers a second connect on a TCP socket */
		if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) ==
		    FD_TUNNEL_PENDING)
			async_poke(fd);
		switch (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE)) {
		case FD_TUNNEL_PENDING:
			errno = EALREADY;
			return -1;
		case FD_TUNNEL_READY:
			/* 0 once, as the kernel completes a non-blocking
			 * connect for the caller that asks again */
			if (!__atomic_exchange_n(&e->acked, true,
						 __ATOMIC_ACQ_REL))
				return 0;
			errno = EISCONN;
			return -1;
		case FD_TUNNEL_FAILED:
			/* the kernel reports a failed connect once more and
			 * leaves the socket unconnected: a later connect()
			 * starts afresh */
			err = ready_take_err(fd, e);
			unconnect(fd);
			errno = err != 0 ? err : ECONNABORTED;
			return -1;
		}
	}
	return route_connect(fd, sa, len);
}

/* A tunnelled socket's peer is the destination, not the proxy; so is a
 * UDP socket's that is connected through a relay. */
HOOK int
getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct fd_entry *e = fdtab_get(fd);
	int state;

	if (e == NULL || sa == NULL || len == NULL)
		return real_getpeername(fd, sa, len);
	if (e->udp != NULL) {
		if (udp_peer(e->udp, sa, len))
			return 0;
		return real_getpeername(fd, sa, len);
	}
	state = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE);
	if (state != FD_TUNNEL_READY) {
		errno = ENOTCONN;	/* still connecting, or failed */
		return -1;
	}
	memcpy(sa, &e->peer, *len < e->peerlen ? *len : e->peerlen);
	*len = e->peerlen;
	return 0;
}

/*
 * SO_ERROR is how an event loop learns a non-blocking connect's result:
 * for a tunnelled socket the result is the tunnel's.  It never waits: 0
 * while the handshake runs, the error once after it failed.
 */
HOOK int
getsockopt(int fd, int level, int opt, void *val, socklen_t *len)
{
	struct fd_entry *e;
	int err;

	if (level != SOL_SOCKET || opt != SO_ERROR ||
	    (e = watched(fd)) == NULL || e->udp != NULL || val == NULL ||
	    len == NULL || bad_ptr(len, sizeof(*len)) || *len < sizeof(int) ||
	    bad_ptr(val, sizeof(int)))
		return real_getsockopt(fd, level, opt, val, len);
	if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) == FD_TUNNEL_PENDING)
		async_poke(fd);
	switch (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE)) {
	case FD_TUNNEL_PENDING:
		*(int *)val = 0;
		*len = sizeof(int);
		return 0;
	case FD_TUNNEL_FAILED:
		err = ready_take_err(fd, e);
		if (err == 0)
			break;
		*(int *)val = err;
		*len = sizeof(int);
		return 0;
	}
	return real_getsockopt(fd, level, opt, val, len);
}

HOOK ssize_t
read(int fd, void *buf, size_t n)
{
	struct fd_entry *e = watched(fd);
	struct late late = { 0 };
	struct udp_sock *u;

	if (__builtin_expect(e != NULL, 0)) {
		if (e->udp != NULL)
			return udp_in(fd, e->udp, buf, n, 0, NULL, NULL, NULL);
		if (wait_tunnel(fd, e, 0) < 0)
			return -1;
	}
	late.got = real_read(fd, buf, n);
	if (__builtin_expect(late.got >= 0, 1) &&
	    __builtin_expect((u = became_udp(fd)) != NULL, 0))
		return udp_in(fd, u, buf, n, 0, NULL, NULL, &late);
	return late.got;
}

HOOK ssize_t
write(int fd, const void *buf, size_t n)
{
	struct fd_entry *e = watched(fd);

	if (__builtin_expect(e != NULL, 0)) {
		if (e->udp != NULL)
			return udp_out(fd, e, buf, n, 0);
		if (wait_tunnel(fd, e, 0) < 0)
			return -1;
	}
	return real_write(fd, buf, n);
}

HOOK ssize_t
readv(int fd, const struct iovec *iov, int n)
{
	struct fd_entry *e = watched(fd);
	struct udp_sock *u;
	struct msghdr m;
	ssize_t r;

	if (__builtin_expect(e != NULL, 0)) {
		if (e->udp != NULL)
			return iov_msg(&m, iov, n) < 0 ? -1 :
			       udp_recvmsg(fd, e->udp, &m, 0);
		if (wait_tunnel(fd, e, 0) < 0)
			return -1;
	}
	r = real_readv(fd, iov, n);
	if (__builtin_expect(r >= 0, 1) &&
	    __builtin_expect((u = became_udp(fd)) != NULL, 0) &&
	    iov_msg(&m, iov, n) == 0)
		return udp_recv_late(fd, u, &m, r, 0, NULL, 0, 0);
	return r;
}

HOOK ssize_t
writev(int fd, const struct iovec *iov, int n)
{
	struct fd_entry *e = watched(fd);
	struct msghdr m;

	if (__builtin_expect(e != NULL, 0)) {
		if (e->udp != NULL)
			return iov_msg(&m, iov, n) < 0 ? -1 :
			       udp_send_connected(fd, e->udp, &m, 0);
		if (wait_tunnel(fd, e, 0) < 0)
			return -1;
	}
	return real_writev(fd, iov, n);
}

HOOK ssize_t
recv(int fd, void *buf, size_t n, int flags)
{
	return recv_from(fd, buf, n, flags, NULL, NULL);
}

HOOK ssize_t
send(int fd, const void *buf, size_t n, int flags)
{
	struct fd_entry *e = watched(fd);

	if (__builtin_expect(e != NULL, 0)) {
		if (e->udp != NULL)
			return udp_out(fd, e, buf, n, flags);
		if (wait_tunnel(fd, e, flags) < 0)
			return -1;
	}
	return real_send(fd, buf, n, flags);
}

HOOK ssize_t
recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *sa,
	 socklen_t *len)
{
	return recv_from(fd, buf, n, flags, sa, len);
}

/* Fortified programs (_FORTIFY_SOURCE) call these instead; glibc's own
 * go to the system call without passing through the hooks above. */
extern void __chk_fail(void) __attribute__((noreturn));
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen,
		       int flags, struct sockaddr *sa, socklen_t *len);

HOOK ssize_t
__read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	if (n > buflen)
		__chk_fail();
	return read(fd, buf, n);
}

HOOK ssize_t
__recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
	if (n > buflen)
		__chk_fail();
	return recv(fd, buf, n, flags);
}

HOOK ssize_t
__recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
	       struct sockaddr *sa, socklen_t *len)
{
	if (n > buflen)
		__chk_fail();
	return recvfrom(fd, buf, n, flags, sa, len);
}

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

HOOK ssize_t
sendto(int fd, const void *buf, size_t n, int flags,
       const struct sockaddr *sa, socklen_t len)
{
	struct iovec v = { .iov_base = (void *)buf, .iov_len = n };
	struct msghdr m = { .msg_name = (void *)sa, .msg_namelen = len,
			    .msg_iov = &v, .msg_iovlen = 1 };
	struct tun_dest d;
	struct decision dec;
	struct fd_entry *e;
	int rc;

	/* the kernel refuses a longer name (EINVAL) or a bad one (EFAULT)
	 * before sending */
	if (sa != NULL && (__builtin_expect(len > sizeof(struct
						   sockaddr_storage), 0) ||
			   bad_ptr(sa, len)))
		return real_sendto(fd, buf, n, flags, sa, len);
	if (__builtin_expect(flags & MSG_FASTOPEN, 0) &&
	    fastopen(fd, flags, sa, len)) {
		if (route_connect(fd, sa, len) == -1)
			return -1;	/* EINPROGRESS too, as TFO would */
		return real_send(fd, buf, n, flags & ~MSG_FASTOPEN);
	}
	rc = dgram_route(fd, sa, len, &d, &dec);
	if (rc != 0)
		return rc < 0 ? -1 : udp_send(fd, &d, &dec, &m, flags);
	e = watched(fd);
	if (__builtin_expect(e != NULL, 0)) {
		if (e->udp != NULL && sa == NULL)
			return udp_out(fd, e, buf, n, flags);
		if (e->udp == NULL && wait_tunnel(fd, e, flags) < 0)
			return -1;
	}
	return real_sendto(fd, buf, n, flags, sa, len);
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
		if (e->udp == NULL && wait_tunnel(fd, e, flags) < 0)
			return -1;
	}
	k = *m;
	k.msg_name = &from;
	k.msg_namelen = sizeof(from);
	r = real_recvmsg(fd, &k, flags);
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
		if (e->udp == NULL && wait_tunnel(fd, e, flags) < 0)
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
		if (e->udp == NULL && wait_tunnel(fd, e, flags) < 0)
			return -1;
	}
	return real_sendmsg(fd, m, flags);
}

HOOK ssize_t
sendmsg(int fd, const struct msghdr *m, int flags)
{
	struct msghdr copy;

	if (m == NULL || bad_ptr(m, sizeof(*m)) ||
	    (m->msg_name != NULL && bad_ptr(m->msg_name, m->msg_namelen)))
		return real_sendmsg(fd, m, flags);
	if (__builtin_expect(flags & MSG_FASTOPEN, 0) &&
	    fastopen(fd, flags, m->msg_name, m->msg_namelen)) {
		if (route_connect(fd, m->msg_name, m->msg_namelen) == -1)
			return -1;
		copy = *m;
		copy.msg_name = NULL;
		copy.msg_namelen = 0;
		return real_sendmsg(fd, &copy, flags & ~MSG_FASTOPEN);
	}
	return send_msg(fd, m, flags);
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
	if (i == n && (e == NULL || e->udp == NULL))
		return real_sendmmsg(fd, v, n, flags);
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

/*
 * The application is about to dup2 onto one of our fds (a UDP control
 * connection): ours moves to another number first, so neither side
 * loses its file.
 */
static void
move_ours(int fd)
{
	struct fd_entry *e = fdtab_get(fd), *ne;
	int n, *owner;

	if (e == NULL || !e->internal)
		return;
	if (e->tun != NULL)
		async_wait(fd);		/* its handshake is in epoll by number */
	e = fdtab_get(fd);
	if (e == NULL || !e->internal || e->owner == NULL)
		return;
	owner = e->owner;
	n = real_fcntl(fd, F_DUPFD_CLOEXEC, (void *)(long)(fd + 1));
	if (n == -1)
		return;
	ne = fdtab_set(n);
	if (ne == NULL) {
		real_close(n);
		return;
	}
	ne->internal = true;
	ne->owner = owner;
	__atomic_store_n(owner, n, __ATOMIC_RELEASE);
	if (__atomic_load_n(&async_used, __ATOMIC_RELAXED))
		async_forget(fd);
	else
		fdtab_clear(fd);
	real_close(fd);
}

HOOK int
close(int fd)
{
	struct fd_entry *e;

	if (async_internal_fd(fd)) {
		errno = EBADF;	/* ours: the application never opened it */
		return -1;
	}
	e = fdtab_get(fd);
	if (e != NULL) {
		if (e->internal) {
			errno = EBADF;
			return -1;
		}
		if (__atomic_load_n(&async_used, __ATOMIC_RELAXED))
			async_forget(fd);
		else
			fdtab_clear(fd);
	}
	return real_close(fd);
}

/* A copy names the same socket: it shares the fd's entry (a UDP
 * socket's associations, a tunnel's peer). */
HOOK int
dup(int fd)
{
	int rc = real_dup(fd), saved = errno;

	if (rc >= 0 && fdtab_get(fd) != NULL) {
		fdtab_dup(fd, rc);
		errno = saved;
	}
	return rc;
}

/* fcntl's third argument is read as glibc reads it: one word. */
static int
fcntl_after(int fd, int cmd, int rc)
{
	int saved = errno;

	if (rc >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) &&
	    fdtab_get(fd) != NULL) {
		fdtab_dup(fd, rc);
		errno = saved;
	}
	return rc;
}

/*
 * fcntl and fcntl64 (only programs linked against a libc that has it call
 * it), and libc's other names for them (hooks/alias.c has the rest).
 */
#define FCNTL_HOOK(name, real)						\
	int name(int fd, int cmd, ...);					\
	HOOK int name(int fd, int cmd, ...)				\
	{								\
		va_list ap;						\
		void *arg;						\
									\
		va_start(ap, cmd);					\
		arg = va_arg(ap, void *);				\
		va_end(ap);						\
		return fcntl_after(fd, cmd, real(fd, cmd, arg));	\
	}
FCNTL_HOOK(fcntl, real_fcntl)
FCNTL_HOOK(__fcntl, real_fcntl)
FCNTL_HOOK(fcntl64, real_fcntl64)
FCNTL_HOOK(__libc_fcntl64, real_fcntl64)

HOOK int
dup2(int oldfd, int newfd)
{
	int rc, saved;

	if (oldfd != newfd)
		move_ours(newfd);
	if (oldfd != newfd && __atomic_load_n(&async_used, __ATOMIC_RELAXED)) {
		async_move_internal(newfd);	/* ours goes elsewhere */
		async_forget(newfd);
	}
	rc = real_dup2(oldfd, newfd);
	if (rc >= 0 && oldfd != newfd) {
		saved = errno;
		fdtab_dup(oldfd, newfd);
		errno = saved;
	}
	return rc;
}

HOOK int
dup3(int oldfd, int newfd, int flags)
{
	int rc, saved;

	if (oldfd != newfd)
		move_ours(newfd);
	if (oldfd != newfd && __atomic_load_n(&async_used, __ATOMIC_RELAXED)) {
		async_move_internal(newfd);
		async_forget(newfd);
	}
	rc = real_dup3(oldfd, newfd, flags);
	if (rc >= 0) {
		saved = errno;
		fdtab_dup(oldfd, newfd);
		errno = saved;
	}
	return rc;
}
