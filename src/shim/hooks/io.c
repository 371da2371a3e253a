/*
 * io.c - the read and write family of interposers.  Each asks "is this
 * mine?" and either calls libc untouched or hands over to the core.
 *
 * They matter while a non-blocking socket's
 * handshake is under way and on UDP sockets with associations (udp.c):
 * until the first such socket exists in the process they cost one
 * relaxed load, then one fd-table lookup.
 */
#include <errno.h>
#include <string.h>

#include "async.h"
#include "ready.h"
#include "hooks.h"

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
		if (state != FD_TUNNEL_PENDING && state != FD_TUNNEL_EARLY) {
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
static bool
waiting(const struct fd_entry *e)
{
	int state = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE);

	return state == FD_TUNNEL_PENDING || state == FD_TUNNEL_EARLY;
}

int
hook_wait_tunnel_slow(int fd, struct fd_entry *e, int flags, bool out)
{
	int err;

	/* a read must not wait on a handshake held for the program's first
	 * bytes (a server that speaks first): it goes now */
	if (!out && held(e))
		async_early_flush(fd);

	/* optimistic: the program's bytes follow the request in the
	 * kernel's queue; only its reads wait for the proxy's replies */
	if (out && __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) ==
	    FD_TUNNEL_EARLY)
		return 0;
	if (__builtin_expect(e->tun == NULL && e->tunfd != fd, 0) &&
	    waiting(e))
		return wait_copy(fd, e, flags);
	if (waiting(e)) {
		if (nonblocking(fd, flags)) {
			async_poke(fd);
			if (waiting(e)) {
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
		if (hook_wait_tunnel(fd, e, flags) < 0)
			return -1;
	}
	/* a name buffer the kernel refuses (EFAULT, or EINVAL for a
	 * negative length) after it took the datagram: its answer */
	if (sa != NULL && (len == NULL || bad_ptr(len, sizeof(*len)) ||
			   (int)*len < 0 || bad_ptr(sa, *len)))
		return real_recvfrom(fd, buf, n, flags, sa, len);
	late.got = real_recvfrom(fd, buf, n, flags, (struct sockaddr *)&from,
				 &late.fromlen);
	if (__builtin_expect(peeking(e, EVID_PEEK_IN), 0)) {
		struct iovec v = { .iov_base = buf, .iov_len = n };

		hook_peek_in(fd, &v, 1, late.got, flags);
	}
	if (__builtin_expect(late.got >= 0, 1) &&
	    __builtin_expect((u = became_udp(fd)) != NULL, 0))
		return udp_in(fd, u, buf, n, flags, sa, len, &late);
	if (late.got >= 0 && sa != NULL) {
		memcpy(sa, &from, *len < late.fromlen ? *len : late.fromlen);
		*len = late.fromlen;
	}
	return late.got;
}

ssize_t
hook_udp_out(int fd, struct fd_entry *e, const void *buf, size_t n, int flags)
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

HOOK ssize_t
read(int fd, void *buf, size_t n)
{
	struct fd_entry *e = watched(fd);
	struct late late = { 0 };
	struct udp_sock *u;

	if (__builtin_expect(e != NULL, 0)) {
		if (e->udp != NULL)
			return udp_in(fd, e->udp, buf, n, 0, NULL, NULL, NULL);
		if (hook_wait_tunnel(fd, e, 0) < 0)
			return -1;
	}
	late.got = real_read(fd, buf, n);
	if (__builtin_expect(peeking(e, EVID_PEEK_IN), 0)) {
		struct iovec v = { .iov_base = buf, .iov_len = n };

		hook_peek_in(fd, &v, 1, late.got, 0);
	}
	if (__builtin_expect(late.got >= 0, 1) &&
	    __builtin_expect((u = became_udp(fd)) != NULL, 0))
		return udp_in(fd, u, buf, n, 0, NULL, NULL, &late);
	return late.got;
}

HOOK ssize_t
write(int fd, const void *buf, size_t n)
{
	struct fd_entry *e = watched(fd);
	struct iovec v = { .iov_base = (void *)buf, .iov_len = n };
	ssize_t r;

	if (__builtin_expect(e != NULL, 0)) {
		if (e->udp != NULL)
			return hook_udp_out(fd, e, buf, n, 0);
		if (held(e) && (r = hook_held_send(fd, e, &v, 1, 0)) != -2)
			return r;
		if (hook_wait_tunnel_out(fd, e, 0) < 0)
			return -1;
		if (__builtin_expect(peeking(e, EVID_PEEK_OUT), 0)) {
			if (hook_peek_pre(fd, e, &v, 1) < 0)
				return -1;
			r = real_write(fd, buf, n);
			hook_peek_out(fd, &v, 1, r);
			return r;
		}
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
		if (hook_wait_tunnel(fd, e, 0) < 0)
			return -1;
	}
	r = real_readv(fd, iov, n);
	if (__builtin_expect(peeking(e, EVID_PEEK_IN), 0) && n > 0)
		hook_peek_in(fd, iov, (size_t)n, r, 0);
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
	ssize_t r;

	if (__builtin_expect(e != NULL, 0)) {
		if (e->udp != NULL)
			return iov_msg(&m, iov, n) < 0 ? -1 :
			       udp_send_connected(fd, e->udp, &m, 0);
		if (held(e) && n >= 0 &&
		    (r = hook_held_send(fd, e, iov, (size_t)n, 0)) != -2)
			return r;
		if (hook_wait_tunnel_out(fd, e, 0) < 0)
			return -1;
		if (__builtin_expect(peeking(e, EVID_PEEK_OUT), 0) && n > 0) {
			if (hook_peek_pre(fd, e, iov, (size_t)n) < 0)
				return -1;
			r = real_writev(fd, iov, n);
			hook_peek_out(fd, iov, (size_t)n, r);
			return r;
		}
	}
	return real_writev(fd, iov, n);
}

/* A recv as recv below made it, the datagram in buf: kept in memory, so
 * that nothing of it needs a register across the real call. */
struct recv_call {
	int fd, flags;
	void *buf;
	size_t n;
	struct late late;
};

/* recv_from's answer for a receive that began before fd had UDP
 * associations and ended after another thread gave it some. */
static __attribute__((noinline)) ssize_t
recv_late(struct recv_call *c)
{
	struct udp_sock *u = became_udp(c->fd);

	if (u != NULL)
		return udp_in(c->fd, u, c->buf, c->n, c->flags, NULL, NULL,
			      &c->late);
	return c->late.got;
}

HOOK ssize_t
recv(int fd, void *buf, size_t n, int flags)
{
	struct sockaddr_storage from;	/* the kernel's to fill */
	struct recv_call c = { fd, flags, buf, n,
			       { .from = &from, .fromlen = sizeof(from) } };

	/* until the library first gives an fd an entry the I/O hooks must
	 * see, recv_from without its checks: the kernel's call, asking for
	 * the source as recv_from does */
	if (__builtin_expect(__atomic_load_n(&fdtab_live, __ATOMIC_RELAXED),
			     0))
		return recv_from(fd, buf, n, flags, NULL, NULL);
	c.late.got = real_recvfrom(fd, buf, n, flags,
				   (struct sockaddr *)&from, &c.late.fromlen);
	if (__builtin_expect(c.late.got < 0 ||
			     !__atomic_load_n(&fdtab_live, __ATOMIC_RELAXED),
			     1))
		return c.late.got;
	return recv_late(&c);
}

HOOK ssize_t
send(int fd, const void *buf, size_t n, int flags)
{
	struct fd_entry *e = watched(fd);
	struct iovec v = { .iov_base = (void *)buf, .iov_len = n };
	ssize_t r;

	if (__builtin_expect(e != NULL, 0)) {
		if (e->udp != NULL)
			return hook_udp_out(fd, e, buf, n, flags);
		if (held(e) && (r = hook_held_send(fd, e, &v, 1, flags)) != -2)
			return r;
		if (hook_wait_tunnel_out(fd, e, flags) < 0)
			return -1;
		if (__builtin_expect(peeking(e, EVID_PEEK_OUT), 0)) {
			if (hook_peek_pre(fd, e, &v, 1) < 0)
				return -1;
			r = real_send(fd, buf, n, flags);
			hook_peek_out(fd, &v, 1, r);
			return r;
		}
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
