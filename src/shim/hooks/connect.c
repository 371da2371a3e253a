/*
 * connect.c - connect, getpeername and getsockopt: the calls that start a
 * routed connection and ask about it.
 */
#include <errno.h>
#include <string.h>

#include "async.h"
#include "guard.h"
#include "peer_ask.h"
#include "ready.h"
#include "route.h"
#include "hooks.h"

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

const struct route_udp hook_udp = { udp_connect, udp_disconnect };

/*
 * The commonest connect of all, told in a few loads and one look-up: an
 * inet address that no rule sends anywhere but direct (route.h), from a
 * thread outside the library, on a socket the library keeps nothing for.
 * sa is readable for len bytes.  Everything else is connect_slow's.
 */
static inline bool
plain_direct(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (len < sizeof(struct sockaddr_in) || shim_internal() ||
	    fdtab_get(fd) != NULL)
		return false;
	return route_fast_name(sa, len, false);
}

static __attribute__((noinline)) int
connect_slow(int fd, const struct sockaddr *sa, socklen_t len)
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
		case FD_TUNNEL_EARLY:	/* connected, to the program */
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
	return route_connect(fd, sa, len, &hook_udp);
}

static __attribute__((noinline)) int
connect_inet(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (plain_direct(fd, sa, len))
		return real_connect(fd, sa, len);
	return connect_slow(fd, sa, len);
}

HOOK int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	sa_family_t family;

	/* what the kernel refuses (EFAULT, EINVAL) it answers itself:
	 * connect_slow, which also reads a name it has not seen before;
	 * every call here is a tail call, so the checks keep no register */
	if (sa == NULL || len < sizeof(sa_family_t) ||
	    len > sizeof(struct sockaddr_storage) || !ptr_surely_good(sa, len))
		return connect_slow(fd, sa, len);
	family = sa->sa_family;
	if (family != AF_INET && family != AF_INET6 && family != AF_UNSPEC)
		return real_connect(fd, sa, len);	/* AF_UNIX and all */
	return connect_inet(fd, sa, len);
}

/* move_addr_to_user: at most the caller's length of the address, the
 * whole length back (a length the kernel reads as negative: EINVAL). */
static int
give_peer(struct sockaddr *sa, socklen_t *len,
	  const struct sockaddr_storage *p, socklen_t plen)
{
	if ((int)*len < 0) {
		errno = EINVAL;
		return -1;
	}
	memcpy(sa, p, *len < plen ? *len : plen);
	*len = plen;
	return 0;
}

/* A socket without an entry in a session with a TLS relay: the kernel's
 * answer, unless it names the relay (peer_ask.h).  A buffer too short to
 * show the port is looked at too. */
static __attribute__((noinline)) int
getpeername_relay(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct sockaddr_storage dest;
	socklen_t in = *len, dl;
	int rc = real_getpeername(fd, sa, len);

	if (rc == -1 || (in >= 4 && *len >= 4 &&
			 ((const struct sockaddr_in *)sa)->sin_port !=
			 tun_relay_port))
		return rc;
	dl = peer_ask(fd, &dest);
	if (dl == 0)
		return rc;
	*len = in;
	return give_peer(sa, len, &dest, dl);
}

/* A tunnelled socket's peer is the destination, not the proxy; so is a
 * UDP socket's that is connected through a relay, and an https proxy's
 * tunnel that another process of the session made (peer_ask.h). */
HOOK int
getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct sockaddr_storage now;
	socklen_t nl = sizeof(now);
	struct fd_entry *e = fdtab_get(fd);
	int state;

	/* the session's relay is known once the policy is loaded (one load
	 * after the first call) */
	if (e == NULL && shim_get() != NULL &&
	    __builtin_expect(tun_relay_port != 0, 0) && sa != NULL &&
	    len != NULL && !bad_ptr(len, sizeof(*len)))
		return getpeername_relay(fd, sa, len);
	if (e == NULL || sa == NULL || len == NULL)
		return real_getpeername(fd, sa, len);
	if (e->udp != NULL) {
		if (udp_peer(e->udp, sa, len))
			return 0;
		return real_getpeername(fd, sa, len);
	}
	state = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE);
	if (state != FD_TUNNEL_READY && state != FD_TUNNEL_EARLY) {
		errno = ENOTCONN;	/* still connecting, or failed */
		return -1;
	}
	/* a connection both ends have closed, or reset, has no peer any
	 * more: the kernel says so of the socket (to the proxy or relay) */
	if (real_getpeername(fd, (struct sockaddr *)&now, &nl) == -1)
		return -1;
	return give_peer(sa, len, &e->peer, e->peerlen);
}

/*
 * getsockopt(SO_PEERNAME) (sk_getsockopt): the caller's length must not
 * exceed the address's (EINVAL), that many bytes are copied, the length
 * stays; ENOTCONN is the kernel's to say (a connecting socket has a
 * peer here).  A tunnel's is its destination, as for getpeername.
 */
static __attribute__((noinline)) int
peername_opt(int fd, void *val, socklen_t *len)
{
	struct fd_entry *e = fdtab_get(fd);
	struct sockaddr_storage dest;
	socklen_t dl = 0, zero = 0;
	int state, in;

	if (val == NULL || len == NULL || bad_ptr(len, sizeof(*len)))
		return real_getsockopt(fd, SOL_SOCKET, SO_PEERNAME, val, len);
	if (e != NULL && e->udp == NULL) {
		state = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE);
		if (state == FD_TUNNEL_READY || state == FD_TUNNEL_EARLY ||
		    state == FD_TUNNEL_PENDING) {
			dest = e->peer;
			dl = e->peerlen;
		}
	} else if (e == NULL && shim_get() != NULL && tun_relay_port != 0) {
		dl = peer_ask(fd, &dest);
	}
	if (dl == 0 || real_getsockopt(fd, SOL_SOCKET, SO_PEERNAME, &zero,
				       &zero) == -1)
		return real_getsockopt(fd, SOL_SOCKET, SO_PEERNAME, val, len);
	in = (int)*len;
	if (in < 0 || (socklen_t)in > dl) {
		errno = EINVAL;
		return -1;
	}
	if (bad_ptr(val, (size_t)in)) {
		errno = EFAULT;
		return -1;
	}
	memcpy(val, &dest, (size_t)in);
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

	if (__builtin_expect(level == SOL_SOCKET && opt == SO_PEERNAME, 0))
		return peername_opt(fd, val, len);
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
