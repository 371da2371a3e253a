/*
 * held.c - the program's bytes on an optimistic tunnel whose handshake
 * is held for them (tunnel_early.c): the send family's merged write
 * (hook_held_send, called by io.c and msg.c), and shutdown, sendfile and
 * splice, the calls besides the send family that put bytes or a FIN on a
 * socket, which send the handshake first (hook_unhold).  On any other
 * socket these cost a relaxed load.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/sendfile.h>

#include "async.h"
#include "hooks.h"
#include "ready.h"

int
hook_unhold(int fd, struct fd_entry *e, int flags)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int i;

	/* only a handshake the kernel could not take at once stays held:
	 * it goes when the socket is writable (bounded: the helper fails
	 * the tunnel at its deadline, which ends the hold) */
	for (i = 0; held(e); i++) {
		async_early_flush(fd);
		if (!held(e))
			break;
		if (nonblocking(fd, flags) || i == 600) {
			errno = EAGAIN;
			return -1;
		}
		real_poll(&p, 1, 100);
	}
	return 0;
}

/* More buffers than this in one send: the handshake goes alone first. */
#define HELD_IOV_MAX 64

/* The program's buffers: their total, or -1 when the kernel would refuse
 * them (EFAULT, EINVAL: it answers that itself) or there are too many to
 * look at. */
static ssize_t
iov_total(const struct iovec *iov, size_t n)
{
	size_t i, total = 0;

	if (n > UIO_MAXIOV || (n > 0 && bad_ptr(iov, n * sizeof(*iov))))
		return -1;
	for (i = 0; i < n; i++) {
		if (iov[i].iov_len > SSIZE_MAX - total ||
		    bad_ptr(iov[i].iov_base, iov[i].iov_len))
			return -1;
		total += iov[i].iov_len;
	}
	return (ssize_t)total;
}

/* What a blocking send goes on with after the merged write took done
 * bytes of total: the rest, as the kernel's own send would (it waits for
 * the connection); a short count if that fails. */
static ssize_t
send_rest(int fd, const struct iovec *iov, size_t n, size_t done,
	  size_t total, int flags)
{
	struct iovec v[HELD_IOV_MAX];
	struct msghdr m = { .msg_iov = v };
	size_t i, k = 0, skip = done;
	ssize_t r;

	for (i = 0; i < n; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		v[k].iov_base = (char *)iov[i].iov_base + skip;
		v[k++].iov_len = iov[i].iov_len - skip;
		skip = 0;
	}
	m.msg_iovlen = k;
	while (done < total) {
		r = real_sendmsg(fd, &m, flags);
		if (r <= 0)
			return done > 0 ? (ssize_t)done : r;
		done += (size_t)r;
		while (r > 0 && m.msg_iovlen > 0) {
			if ((size_t)r < m.msg_iov->iov_len) {
				m.msg_iov->iov_base = (char *)m.msg_iov->iov_base + r;
				m.msg_iov->iov_len -= (size_t)r;
				break;
			}
			r -= (ssize_t)m.msg_iov->iov_len;
			m.msg_iov++;
			m.msg_iovlen--;
		}
	}
	return (ssize_t)done;
}

ssize_t
hook_held_send(int fd, struct fd_entry *e, const struct iovec *iov, size_t n,
	       int flags)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	ssize_t total = iov_total(iov, n), r;
	size_t taken = 0;
	int rc, i;

	/* flags that mean something for these bytes alone, or buffers the
	 * kernel refuses: the handshake goes first, by itself */
	if (total < 0 || n > HELD_IOV_MAX ||
	    (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL))) {
		if (hook_unhold(fd, e, flags) < 0)
			return -1;
		return -2;
	}
	if (total == 0)
		return 0;	/* nothing for the kernel to send either */
	if (peeking(e, EVID_PEEK_OUT) && hook_peek_pre(fd, e, iov, n) < 0)
		return -1;
	for (i = 0;; i++) {
		rc = async_early_send(fd, iov, n, &taken);
		/* the kernel took none of ours and the handshake is not all
		 * in: a non-blocking send says so, a blocking one waits for
		 * room, as the kernel's would */
		if (rc != -EAGAIN)
			break;
		if (nonblocking(fd, flags) || i == 600) {
			errno = EAGAIN;
			r = -1;
			goto out;
		}
		real_poll(&p, 1, 100);
	}
	if (rc < 0 && rc != -EAGAIN) {
		/* the tunnel failed: its error, as the usual checks give it */
		errno = ready_take_err(fd, e);
		if (errno == 0)
			errno = -rc;
		r = -1;
		goto out;
	}
	if (taken == 0 || ((size_t)total > taken && !nonblocking(fd, flags)))
		r = send_rest(fd, iov, n, taken, (size_t)total, flags);
	else
		r = (ssize_t)taken;
out:
	if (peeking(e, EVID_PEEK_OUT))
		hook_peek_out(fd, iov, n, r);
	return r;
}

/* The handshake goes first; -1 with errno (EAGAIN) when it cannot yet. */
static int
unheld(int fd, int flags)
{
	struct fd_entry *e = watched(fd);

	return held(e) ? hook_unhold(fd, e, flags) : 0;
}

/*
 * An optimistic tunnel's socket may still be in SYN_SENT when the program
 * shuts it down (tfo=on: its first write went in the SYN, and connect()
 * returned before the proxy's SYN-ACK), and the kernel drops a
 * connection shut down in SYN_SENT instead of sending a FIN.  So the
 * shutdown waits for the SYN-ACK: at most a round trip to the proxy, or
 * until the helper ends the tunnel at its deadline.
 */
static void
settle(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	struct tcp_info ti;
	socklen_t len;
	int i, saved = errno;

	for (i = 0; i < 600; i++) {
		len = sizeof(ti);
		if (real_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1 ||
		    ti.tcpi_state != TCP_SYN_SENT)
			break;
		real_poll(&p, 1, 100);
	}
	errno = saved;
}

HOOK int
shutdown(int fd, int how)
{
	struct fd_entry *e = watched(fd);

	if (__builtin_expect(e != NULL, 0) &&
	    __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) == FD_TUNNEL_EARLY) {
		if (held(e) && hook_unhold(fd, e, 0) < 0)
			return -1;
		settle(fd);
	}
	return real_shutdown(fd, how);
}

HOOK ssize_t
sendfile(int out, int in, off_t *off, size_t n)
{
	if (unheld(out, 0) < 0)
		return -1;
	return real_sendfile(out, in, off, n);
}

ssize_t sendfile64(int out, int in, off_t *off, size_t n);

HOOK ssize_t
sendfile64(int out, int in, off_t *off, size_t n)
{
	return sendfile(out, in, off, n);
}

HOOK ssize_t
splice(int in, loff_t *oin, int out, loff_t *oout, size_t n,
       unsigned int flags)
{
	if (unheld(out, flags & SPLICE_F_NONBLOCK ? MSG_DONTWAIT : 0) < 0)
		return -1;
	return real_splice(in, oin, out, oout, n, flags);
}
