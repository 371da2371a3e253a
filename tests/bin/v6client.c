/*
 * v6client.c - an AF_INET6 TCP client for t_fidelity_dns.sh: what a
 * program sees of its own socket when the shim must replace it to reach
 * an IPv4 proxy.
 *
 *   v6client MODE SOCK HOST PORT PATH [BIND [BINDPORT]]
 *     MODE   block | nonblock (poll for POLLOUT, then SO_ERROR) | epoll
 *            (non-blocking, in an epoll set before connect: EPOLLOUT,
 *            edge-triggered, then SO_ERROR)
 *     SOCK   v6only (IPV6_V6ONLY set) | dual
 *     HOST   an address literal, or a name resolved with AF_INET6 hints
 *            (AI_V4MAPPED: a dual socket may get ::ffff:a.b.c.d)
 *     BIND   bind to this IPv6 address (and BINDPORT) before connect
 *
 * Before connect it sets TCP_NODELAY, SO_KEEPALIVE and FD_CLOEXEC; after
 * it checks that they, O_NONBLOCK and the bound port are as it left
 * them, and that getpeername() is the address it connected to.  Prints
 * "peer ok", "opts ok", "port ok", then the HTTP status line.
 * Exit: 0 on HTTP 200, 3 with "ERRNO NAME" on a failed call, 1 otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static int
fail(const char *what, int e)
{
	printf("ERRNO %s\n", strerrorname_np(e) ? strerrorname_np(e) : "?");
	fprintf(stderr, "v6client: %s: %s\n", what, strerror(e));
	return 3;
}

static int
intopt(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, level, name, &v, &l) == -1)
		return -1;
	return v;
}

static unsigned
local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &l) == -1)
		return 0;
	/* sin_port and sin6_port sit at the same offset */
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static int
get(int fd, const char *path)
{
	char req[512], buf[4096], *eol;
	size_t have = 0;
	ssize_t r;
	int n;

	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: t\r\n\r\n",
		     path);
	if (write(fd, req, (size_t)n) != n)
		return fail("write", errno);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 10000) != 1)
			return fail("poll (read)", ETIMEDOUT);
		r = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (r < 0 && errno == EAGAIN)
			continue;
		if (r <= 0)
			break;
		have += (size_t)r;
		if (have == sizeof(buf) - 1)
			break;
	}
	buf[have] = '\0';
	eol = strstr(buf, "\r\n");
	if (eol == NULL)
		return fail("read", EPROTO);
	*eol = '\0';
	printf("%s\n", buf);
	return strncmp(buf, "HTTP/1.1 200", 12) == 0 ||
	       strncmp(buf, "HTTP/1.0 200", 12) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_family = AF_INET6,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_V4MAPPED }, *ai;
	struct sockaddr_in6 dst, peer, own = { .sin6_family = AF_INET6 };
	socklen_t plen = sizeof(peer), l = sizeof(int);
	int nonblock, useep, v6only, fd, one = 1, err = 0, rc, fl, ep = -1;
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLET };
	unsigned bport = 0;
	char a[INET6_ADDRSTRLEN];

	if (argc < 6) {
		fprintf(stderr, "usage: v6client block|nonblock v6only|dual "
			"HOST PORT PATH [BIND [BINDPORT]]\n");
		return 2;
	}
	useep = strcmp(argv[1], "epoll") == 0;
	nonblock = useep || strcmp(argv[1], "nonblock") == 0;
	v6only = strcmp(argv[2], "v6only") == 0;
	rc = getaddrinfo(argv[3], argv[4], &hints, &ai);
	if (rc != 0) {
		printf("GAIERROR %d\n", rc);
		return 1;
	}
	memcpy(&dst, ai->ai_addr, sizeof(dst));
	freeaddrinfo(ai);
	inet_ntop(AF_INET6, &dst.sin6_addr, a, sizeof(a));
	printf("dst [%s]:%u\n", a, ntohs(dst.sin6_port));

	fd = socket(AF_INET6, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0) |
		    SOCK_CLOEXEC, 0);
	if (fd == -1)
		return fail("socket", errno);
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		       sizeof(v6only)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ==
		    -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) == -1)
		return fail("setsockopt", errno);
	if (argc > 6) {
		if (inet_pton(AF_INET6, argv[6], &own.sin6_addr) != 1)
			return fail("bind address", EINVAL);
		own.sin6_port = htons((uint16_t)(argc > 7 ? atoi(argv[7]) : 0));
		if (bind(fd, (struct sockaddr *)&own, sizeof(own)) == -1)
			return fail("bind", errno);
		bport = local_port(fd);
		printf("bound port %u\n", bport);
	}

	if (useep) {
		ep = epoll_create1(EPOLL_CLOEXEC);
		if (ep == -1 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
			return fail("epoll", errno);
	}
	rc = connect(fd, (struct sockaddr *)&dst, sizeof(dst));
	if (rc == -1 && !(nonblock && errno == EINPROGRESS))
		return fail("connect", errno);
	if (rc == -1 && useep) {
		if (epoll_wait(ep, &ev, 1, 10000) != 1)
			return fail("epoll_wait (connect)", ETIMEDOUT);
	} else if (rc == -1) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };

		if (poll(&p, 1, 10000) != 1)
			return fail("poll (connect)", ETIMEDOUT);
	}
	if (rc == -1) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) == -1)
			return fail("SO_ERROR", errno);
		if (err != 0)
			return fail("connect (SO_ERROR)", err);
	}

	if (getpeername(fd, (struct sockaddr *)&peer, &plen) == -1)
		return fail("getpeername", errno);
	if (peer.sin6_family == AF_INET6 && plen == sizeof(peer) &&
	    memcmp(&peer.sin6_addr, &dst.sin6_addr, 16) == 0 &&
	    peer.sin6_port == dst.sin6_port)
		printf("peer ok\n");
	else
		printf("peer WRONG (family %d)\n", peer.sin6_family);
	fl = fcntl(fd, F_GETFL);
	if (!!(fl & O_NONBLOCK) == nonblock &&
	    (fcntl(fd, F_GETFD) & FD_CLOEXEC) &&
	    intopt(fd, IPPROTO_TCP, TCP_NODELAY) == 1 &&
	    intopt(fd, SOL_SOCKET, SO_KEEPALIVE) == 1)
		printf("opts ok\n");
	else
		printf("opts WRONG\n");
	if (bport != 0)
		printf(local_port(fd) == bport ? "port ok\n" : "port WRONG\n");
	return get(fd, argv[5]);
}
