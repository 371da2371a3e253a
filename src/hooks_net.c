/*
 * hooks_net.c - the exported socket interposers.  Each asks "is this
 * mine?" and either calls libc untouched or hands over to the core.
 *
 * The read and write family matter only while a non-blocking socket's
 * handshake is under way: until the first such socket exists in the
 * process they cost one relaxed load, then one fd-table lookup.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "async.h"
#include "fdtab.h"
#include "real.h"
#include "route.h"
#include "shim.h"

#define HOOK __attribute__((visibility("default")))

/* Wait for fd's tunnel if its handshake is still running.  0 or -errno. */
static inline int
ready(int fd)
{
	if (__builtin_expect(!__atomic_load_n(&async_used, __ATOMIC_RELAXED),
			     1))
		return 0;
	return async_wait(fd);
}

#define WAIT_READY(fd)							\
	do {								\
		int rc_ = ready(fd);					\
		if (rc_ < 0) {						\
			errno = -rc_;					\
			return -1;					\
		}							\
	} while (0)

HOOK int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct fd_entry *e;

	if (sa == NULL || len < sizeof(sa_family_t) ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    shim_internal())
		return real_connect(fd, sa, len);
	e = fdtab_get(fd);
	if (e != NULL) {
		/* connect() again on a socket we tunnel: as the kernel
		 * answers a second connect on a TCP socket */
		switch (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE)) {
		case FD_TUNNEL_PENDING:
			errno = EALREADY;
			return -1;
		case FD_TUNNEL_READY:
			errno = EISCONN;
			return -1;
		case FD_TUNNEL_FAILED:
			errno = e->err;
			return -1;
		}
	}
	return route_connect(fd, sa, len);
}

/* A tunnelled socket's peer is the destination, not the proxy. */
HOOK int
getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct fd_entry *e = fdtab_get(fd);
	int state;

	if (e == NULL || sa == NULL || len == NULL)
		return real_getpeername(fd, sa, len);
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
 * for a tunnelled socket the result is the tunnel's.
 */
HOOK int
getsockopt(int fd, int level, int opt, void *val, socklen_t *len)
{
	int rc;

	if (level != SOL_SOCKET || opt != SO_ERROR || val == NULL ||
	    len == NULL || *len < sizeof(int))
		return real_getsockopt(fd, level, opt, val, len);
	rc = ready(fd);
	if (rc < 0) {
		*(int *)val = -rc;
		*len = sizeof(int);
		return 0;
	}
	return real_getsockopt(fd, level, opt, val, len);
}

HOOK ssize_t
read(int fd, void *buf, size_t n)
{
	WAIT_READY(fd);
	return real_read(fd, buf, n);
}

HOOK ssize_t
write(int fd, const void *buf, size_t n)
{
	WAIT_READY(fd);
	return real_write(fd, buf, n);
}

HOOK ssize_t
readv(int fd, const struct iovec *iov, int n)
{
	WAIT_READY(fd);
	return real_readv(fd, iov, n);
}

HOOK ssize_t
writev(int fd, const struct iovec *iov, int n)
{
	WAIT_READY(fd);
	return real_writev(fd, iov, n);
}

HOOK ssize_t
recv(int fd, void *buf, size_t n, int flags)
{
	WAIT_READY(fd);
	return real_recv(fd, buf, n, flags);
}

HOOK ssize_t
send(int fd, const void *buf, size_t n, int flags)
{
	WAIT_READY(fd);
	return real_send(fd, buf, n, flags);
}

HOOK ssize_t
recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *sa,
	 socklen_t *len)
{
	WAIT_READY(fd);
	return real_recvfrom(fd, buf, n, flags, sa, len);
}

/*
 * A datagram with an inet destination is decided by the rules (UDP that
 * is not direct is refused); anything else costs two compares.
 */
static int
dgram_refused(int fd, const struct sockaddr *sa, socklen_t len)
{
	int rc = route_datagram(fd, sa, len);

	if (rc < 0)
		errno = -rc;
	return rc < 0;
}

static inline int
datagram_refused(int fd, const void *dst, socklen_t len)
{
	const struct sockaddr *sa = dst;

	return len >= sizeof(sa_family_t) &&
	       (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) &&
	       !shim_internal() && dgram_refused(fd, sa, len);
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

	if (!(flags & MSG_FASTOPEN) || sa == NULL || shim_internal() ||
	    fdtab_get(fd) != NULL || !route_dest(sa, len, &d))
		return 0;
	if (real_getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == -1 ||
	    type != SOCK_STREAM) {
		errno = saved;
		return 0;
	}
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
	if (__builtin_expect(flags & MSG_FASTOPEN, 0) &&
	    fastopen(fd, flags, sa, len)) {
		if (route_connect(fd, sa, len) == -1)
			return -1;	/* EINPROGRESS too, as TFO would */
		return real_send(fd, buf, n, flags & ~MSG_FASTOPEN);
	}
	if (sa != NULL && datagram_refused(fd, sa, len))
		return -1;
	WAIT_READY(fd);
	return real_sendto(fd, buf, n, flags, sa, len);
}

HOOK ssize_t
recvmsg(int fd, struct msghdr *m, int flags)
{
	WAIT_READY(fd);
	return real_recvmsg(fd, m, flags);
}

HOOK ssize_t
sendmsg(int fd, const struct msghdr *m, int flags)
{
	struct msghdr copy;

	if (__builtin_expect(flags & MSG_FASTOPEN, 0) && m != NULL &&
	    fastopen(fd, flags, m->msg_name, m->msg_namelen)) {
		if (route_connect(fd, m->msg_name, m->msg_namelen) == -1)
			return -1;
		copy = *m;
		copy.msg_name = NULL;
		copy.msg_namelen = 0;
		return real_sendmsg(fd, &copy, flags & ~MSG_FASTOPEN);
	}
	if (m != NULL && m->msg_name != NULL &&
	    datagram_refused(fd, m->msg_name, m->msg_namelen))
		return -1;
	WAIT_READY(fd);
	return real_sendmsg(fd, m, flags);
}

/* Each message with a destination is decided; the first refused one
 * ends the batch (as the kernel stops at a failing message). */
HOOK int
sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	unsigned int i;

	if (v == NULL)
		return real_sendmmsg(fd, v, n, flags);
	for (i = 0; i < n; i++)
		if (v[i].msg_hdr.msg_name != NULL &&
		    datagram_refused(fd, v[i].msg_hdr.msg_name,
				     v[i].msg_hdr.msg_namelen))
			break;
	if (i == 0 && n > 0)
		return -1;
	return real_sendmmsg(fd, v, i, flags);
}

HOOK int
close(int fd)
{
	if (async_internal_fd(fd)) {
		errno = EBADF;	/* ours: the application never opened it */
		return -1;
	}
	if (__atomic_load_n(&async_used, __ATOMIC_RELAXED))
		async_forget(fd);
	else
		fdtab_clear(fd);
	return real_close(fd);
}

HOOK int
dup2(int oldfd, int newfd)
{
	int rc, saved;

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
