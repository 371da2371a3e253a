/*
 * test_sockfit.c - fitting the application's socket to the proxy's
 * family: the decision (pure), and the replacement on real local sockets
 * (no packet is sent: nothing connects).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "addrinfo.h"
#include "sockfit.h"

static struct sockaddr_storage
sa(const char *addr, unsigned port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
	} else {
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
	}
	return ss;
}

static void
decide(const char *own, unsigned port, bool v6only, int proxyfam,
       struct sockfit_plan *p)
{
	struct sockaddr_storage ss = sa(own, port);

	sockfit_decide((struct sockaddr *)&ss, sizeof(ss), v6only, proxyfam,
		       p);
}

static void
test_decide(void **state)
{
	struct sockfit_plan p;
	const struct sockaddr_in *b4 = (const struct sockaddr_in *)&p.bind;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)&p.bind;

	(void)state;
	decide("0.0.0.0", 0, false, AF_INET, &p);
	assert_int_equal(p.how, SOCKFIT_SAME);
	decide("::", 0, true, AF_INET6, &p);
	assert_int_equal(p.how, SOCKFIT_SAME);
	/* dual-stack: v4-mapped, also bound to a mapped address */
	decide("::", 0, false, AF_INET, &p);
	assert_int_equal(p.how, SOCKFIT_MAP);
	decide("::ffff:198.18.0.2", 4000, false, AF_INET, &p);
	assert_int_equal(p.how, SOCKFIT_MAP);
	/* IPv6-only, unbound: an IPv4 socket, nothing to bind */
	decide("::", 0, true, AF_INET, &p);
	assert_int_equal(p.how, SOCKFIT_REPLACE);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.bindlen, 0);
	/* IPv6-only with a port: the IPv4 socket keeps the port */
	decide("::", 4000, true, AF_INET, &p);
	assert_int_equal(p.how, SOCKFIT_REPLACE);
	assert_int_equal(p.bindlen, sizeof(struct sockaddr_in));
	assert_int_equal(b4->sin_family, AF_INET);
	assert_int_equal(ntohs(b4->sin_port), 4000);
	assert_int_equal(b4->sin_addr.s_addr, htonl(INADDR_ANY));
	/* bound to an IPv6 address: no IPv4 counterpart, the kernel's
	 * ENETUNREACH and the socket's limit as the reason */
	decide("::1", 4001, true, AF_INET, &p);
	assert_int_equal(p.how, SOCKFIT_CANNOT);
	assert_int_equal(p.err, ENETUNREACH);
	assert_string_equal(p.why, "IPv6-only socket bound to [::1]:4001");
	/* IPv4 facing an IPv6 proxy */
	decide("0.0.0.0", 0, false, AF_INET6, &p);
	assert_int_equal(p.how, SOCKFIT_REPLACE);
	assert_int_equal(p.family, AF_INET6);
	assert_int_equal(p.bindlen, 0);
	assert_false(p.v6only);
	decide("0.0.0.0", 4002, false, AF_INET6, &p);
	assert_int_equal(p.how, SOCKFIT_REPLACE);
	assert_true(p.v6only);
	assert_int_equal(ntohs(b6->sin6_port), 4002);
	assert_true(IN6_IS_ADDR_UNSPECIFIED(&b6->sin6_addr));
	decide("198.18.0.2", 4003, false, AF_INET6, &p);
	assert_int_equal(p.how, SOCKFIT_CANNOT);
	assert_int_equal(p.err, EAFNOSUPPORT);
	assert_string_equal(p.why, "IPv4 socket bound to 198.18.0.2:4003");
	/* an unknown proxy family changes nothing */
	decide("::", 0, true, AF_UNSPEC, &p);
	assert_int_equal(p.how, SOCKFIT_SAME);
}

static int
family_of(int fd)
{
	int v = -1;
	socklen_t l = sizeof(v);

	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &l), 0);
	return v;
}

static int
opt(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);

	assert_int_equal(getsockopt(fd, level, name, &v, &l), 0);
	return v;
}

static unsigned
local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &l), 0);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* An IPv6-only socket with options, flags and a port becomes an IPv4 one
 * on the same fd with all of them; untouched options stay defaults. */
static void
test_replace_v6only(void **state)
{
	struct sockaddr_storage px = sa("198.18.0.1", 1080), own = sa("::", 0);
	socklen_t len = sizeof(struct sockaddr_in);
	int fd, fresh, one = 1, idle = 77, buf = 65536, tclass = 0x28, ep;
	struct epoll_event ev;
	struct f_owner_ex owner;
	unsigned port;
	char why[128] = "";

	(void)state;
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	fresh = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fresh >= 0);
	assert_int_equal(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
				    sizeof(one)), 0);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tclass, sizeof(tclass));
	assert_int_equal(bind(fd, (struct sockaddr *)&own,
			      sizeof(struct sockaddr_in6)), 0);
	port = local_port(fd);
	buf = opt(fd, SOL_SOCKET, SO_SNDBUF);
	owner.type = F_OWNER_PID;
	owner.pid = getpid();
	assert_int_equal(fcntl(fd, F_SETOWN_EX, &owner), 0);
	assert_int_equal(fcntl(fd, F_SETSIG, SIGUSR1), 0);
	/* an epoll set holding the socket before connect */
	ep = epoll_create1(EPOLL_CLOEXEC);
	assert_true(ep >= 0);
	ev.events = EPOLLOUT | EPOLLET;
	ev.data.u64 = 0x1234;
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);

	assert_int_equal(sockfit_apply(fd, &px, &len, why, sizeof(why)), 1);
	assert_string_equal(why, "IPv6-only socket replaced by an IPv4 one to "
			    "reach IPv4 proxy");
	assert_int_equal(family_of(fd), AF_INET);
	assert_int_equal(px.ss_family, AF_INET);	/* not mapped */
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(local_port(fd), port);
	memset(&owner, 0, sizeof(owner));
	assert_int_equal(fcntl(fd, F_GETOWN_EX, &owner), 0);
	assert_int_equal(owner.pid, getpid());
	assert_int_equal(fcntl(fd, F_GETSIG), SIGUSR1);
	assert_int_equal(opt(fd, IPPROTO_TCP, TCP_NODELAY), 1);
	assert_int_equal(opt(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
	assert_int_equal(opt(fd, SOL_SOCKET, SO_REUSEADDR), 1);
	assert_int_equal(opt(fd, IPPROTO_TCP, TCP_KEEPIDLE), 77);
	assert_int_equal(opt(fd, SOL_SOCKET, SO_SNDBUF), buf);
	assert_int_equal(opt(fd, IPPROTO_IP, IP_TOS), 0x28);
	/* never set by the program: still the kernel's default (a copied
	 * SO_RCVBUF would be locked and doubled) */
	assert_int_equal(opt(fd, SOL_SOCKET, SO_RCVBUF),
			 opt(fresh, SOL_SOCKET, SO_RCVBUF));
	assert_int_equal(opt(fd, IPPROTO_TCP, TCP_MAXSEG),
			 opt(fresh, IPPROTO_TCP, TCP_MAXSEG));
	/* the new socket is in the set, with the program's events and data
	 * (an unconnected TCP socket reports EPOLLOUT|EPOLLHUP) */
	memset(&ev, 0, sizeof(ev));
	assert_int_equal(epoll_wait(ep, &ev, 1, 0), 1);
	assert_true(ev.data.u64 == 0x1234);
	assert_true(ev.events & EPOLLOUT);
	close(ep);
	close(fd);
	close(fresh);
}

/* A dual-stack socket keeps itself and gets a v4-mapped proxy address;
 * a blocking socket stays blocking when replaced. */
static void
test_map_and_blocking(void **state)
{
	struct sockaddr_storage px = sa("198.18.0.1", 1080), px6;
	struct sockaddr_in6 *m = (struct sockaddr_in6 *)&px;
	socklen_t len = sizeof(struct sockaddr_in);
	char why[128];
	int fd, one = 1;

	(void)state;
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(sockfit_apply(fd, &px, &len, why, sizeof(why)), 0);
	assert_int_equal(family_of(fd), AF_INET6);
	assert_int_equal(m->sin6_family, AF_INET6);
	assert_true(IN6_IS_ADDR_V4MAPPED(&m->sin6_addr));
	assert_int_equal(ntohs(m->sin6_port), 1080);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	close(fd);

	fd = socket(AF_INET6, SOCK_STREAM, 0);
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	px = sa("198.18.0.1", 1080);
	len = sizeof(struct sockaddr_in);
	assert_int_equal(sockfit_apply(fd, &px, &len, why, sizeof(why)), 1);
	assert_int_equal(family_of(fd), AF_INET);
	assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_false(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);

	/* and the other way: IPv4 to an IPv6 proxy */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	px6 = sa("2001:db8::1", 1080);
	len = sizeof(struct sockaddr_in6);
	assert_int_equal(sockfit_apply(fd, &px6, &len, why, sizeof(why)), 1);
	assert_int_equal(family_of(fd), AF_INET6);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	close(fd);
}

/* What cannot be carried is refused with the socket's real limit. */
static void
test_cannot(void **state)
{
	struct sockaddr_storage px = sa("198.18.0.1", 1080), own = sa("::1", 0);
	socklen_t len = sizeof(struct sockaddr_in);
	char why[128] = "", want[128];
	int fd, one = 1;

	(void)state;
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&own,
			      sizeof(struct sockaddr_in6)), 0);
	assert_int_equal(sockfit_apply(fd, &px, &len, why, sizeof(why)),
			 -ENETUNREACH);
	snprintf(want, sizeof(want), "IPv6-only socket bound to [::1]:%u "
		 "cannot reach IPv4 proxy", local_port(fd));
	assert_string_equal(why, want);
	assert_int_equal(family_of(fd), AF_INET6);	/* left alone */
	close(fd);

	/* a dual-stack socket bound to ::1 is IPv6-only too (Linux) */
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&own,
			      sizeof(struct sockaddr_in6)), 0);
	px = sa("198.18.0.1", 1080);
	assert_int_equal(sockfit_apply(fd, &px, &len, why, sizeof(why)),
			 -ENETUNREACH);
	close(fd);

	fd = socket(AF_INET, SOCK_STREAM, 0);
	own = sa("127.0.0.1", 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&own,
			      sizeof(struct sockaddr_in)), 0);
	px = sa("2001:db8::1", 1080);
	len = sizeof(struct sockaddr_in6);
	assert_int_equal(sockfit_apply(fd, &px, &len, why, sizeof(why)),
			 -EAFNOSUPPORT);
	snprintf(want, sizeof(want), "IPv4 socket bound to 127.0.0.1:%u "
		 "cannot reach IPv6 proxy", local_port(fd));
	assert_string_equal(why, want);
	close(fd);
}

/* One fake family per request (hooks/names.c's fake_addrs). */
static void
test_fake_family(void **state)
{
	(void)state;
	assert_int_equal(addrinfo_fake_family(AF_UNSPEC, true, true), AF_INET);
	assert_int_equal(addrinfo_fake_family(AF_UNSPEC, true, false), AF_INET);
	assert_int_equal(addrinfo_fake_family(AF_UNSPEC, false, true),
			 AF_INET6);
	/* nothing but loopback: IPv4, as for a host with both */
	assert_int_equal(addrinfo_fake_family(AF_UNSPEC, false, false),
			 AF_INET);
	assert_int_equal(addrinfo_fake_family(AF_INET6, true, false),
			 AF_INET6);
	assert_int_equal(addrinfo_fake_family(AF_INET, false, true), AF_INET);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_replace_v6only),
		cmocka_unit_test(test_map_and_blocking),
		cmocka_unit_test(test_cannot),
		cmocka_unit_test(test_fake_family),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
