/*
 * dns_sock.c - the socket functions c-ares is given (dns_int.h): each
 * calls the real libc function, so c-ares never reaches our hooks, and
 * adds SOCK_NONBLOCK|SOCK_CLOEXEC itself (1.18 skips its own socket setup
 * once they are installed).  The fds they open are remembered, so a
 * forked child can close those of lookups another thread was running.
 */
#include "dns_int.h"


#include "real.h"

#define DNS_FDS_MAX 128		/* c-ares sockets open at once */

static int open_fds[DNS_FDS_MAX];	/* atomic: fd + 1, or 0 */

static void
fds_add(int fd)
{
	int i, zero;

	for (i = 0; i < DNS_FDS_MAX; i++) {
		zero = 0;
		if (__atomic_compare_exchange_n(&open_fds[i], &zero, fd + 1,
						false, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED))
			return;
	}
}

static void
fds_del(int fd)
{
	int i, v;

	for (i = 0; i < DNS_FDS_MAX; i++) {
		v = fd + 1;
		if (__atomic_compare_exchange_n(&open_fds[i], &v, 0, false,
						__ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED))
			return;
	}
}

static ares_socket_t
sf_socket(int dom, int type, int proto, void *u)
{
	int fd;

	(void)u;
	fd = real_socket(dom, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	if (fd != -1)
		fds_add(fd);
	return fd;
}

static int
sf_close(ares_socket_t fd, void *u)
{
	(void)u;
	fds_del(fd);
	return real_close(fd);
}

static int
sf_connect(ares_socket_t fd, const struct sockaddr *sa, ares_socklen_t n,
	   void *u)
{
	(void)u;
	return real_connect(fd, sa, n);
}

static ares_ssize_t
sf_recvfrom(ares_socket_t fd, void *b, size_t n, int fl,
	    struct sockaddr *from, ares_socklen_t *flen, void *u)
{
	(void)u;
	return real_recvfrom(fd, b, n, fl, from, flen);
}

static ares_ssize_t
sf_sendv(ares_socket_t fd, const struct iovec *iov, int cnt, void *u)
{
	/* 1.18's own path is writev(): SIGPIPE on a reset TCP connection */
	struct msghdr m = { .msg_iov = (struct iovec *)(uintptr_t)iov,
			    .msg_iovlen = (size_t)cnt };

	(void)u;
	return real_sendmsg(fd, &m, MSG_NOSIGNAL);
}

/* Referenced, not copied, by c-ares (and by ares_dup): static. */
const struct ares_socket_functions dns_sock_funcs = {
	sf_socket, sf_close, sf_connect, sf_recvfrom, sf_sendv,
};

void
dns_sock_close_all(void)
{
	int i, v;

	for (i = 0; i < DNS_FDS_MAX; i++) {
		v = __atomic_exchange_n(&open_fds[i], 0, __ATOMIC_ACQ_REL);
		if (v != 0)
			real_close(v - 1);
	}
}
