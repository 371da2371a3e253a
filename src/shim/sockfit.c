/*
 * sockfit.c - make the application's socket fit the first proxy's family
 * (see sockfit.h).
 *
 * A replacement socket is put on the application's fd number with dup3,
 * so every later call, its close-on-exec flag and the shim's fd table
 * entry stay as they were; the file status flags, the SIGIO owner and
 * signal, and the epoll sets that held the old socket come along.  Options are carried only where the old
 * socket's value differs from a fresh socket's: copying a default
 * SO_RCVBUF would lock the buffer size and switch autotuning off.
 */
#include "sockfit.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "epregs.h"
#include "real.h"

static const char *
fam_str(int family)
{
	return family == AF_INET6 ? "IPv6" : "IPv4";
}

void
sockfit_decide(const struct sockaddr *own, socklen_t ownlen, bool v6only,
	       int proxyfam, struct sockfit_plan *p)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)own;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)own;
	char a[INET6_ADDRSTRLEN];

	memset(p, 0, sizeof(*p));
	p->how = SOCKFIT_SAME;
	if (own->sa_family == proxyfam ||
	    (proxyfam != AF_INET && proxyfam != AF_INET6))
		return;
	if (own->sa_family == AF_INET6 && ownlen >= sizeof(*s6)) {
		if (!v6only) {
			p->how = SOCKFIT_MAP;
			return;
		}
		/* binding a specific IPv6 address makes a socket IPv6-only
		 * too: that address has no IPv4 counterpart */
		if (!IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr)) {
			inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
			p->how = SOCKFIT_CANNOT;
			p->err = ENETUNREACH;	/* the kernel's, for ::ffff: */
			snprintf(p->why, sizeof(p->why),
				 "IPv6-only socket bound to [%s]:%u", a,
				 ntohs(s6->sin6_port));
			return;
		}
		p->how = SOCKFIT_REPLACE;
		p->family = AF_INET;
		if (s6->sin6_port != 0) {
			struct sockaddr_in *b = (struct sockaddr_in *)&p->bind;

			b->sin_family = AF_INET;
			b->sin_port = s6->sin6_port;
			p->bindlen = sizeof(*b);
		}
		return;
	}
	if (own->sa_family == AF_INET && ownlen >= sizeof(*s4)) {
		if (s4->sin_addr.s_addr != htonl(INADDR_ANY)) {
			inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
			p->how = SOCKFIT_CANNOT;
			p->err = EAFNOSUPPORT;
			snprintf(p->why, sizeof(p->why),
				 "IPv4 socket bound to %s:%u", a,
				 ntohs(s4->sin_port));
			return;
		}
		p->how = SOCKFIT_REPLACE;
		p->family = AF_INET6;
		if (s4->sin_port != 0) {
			struct sockaddr_in6 *b = (struct sockaddr_in6 *)&p->bind;

			/* IPv6-only, or the old socket's IPv4 port (still
			 * bound until dup3) would make the bind fail */
			b->sin6_family = AF_INET6;
			b->sin6_port = s4->sin_port;
			p->bindlen = sizeof(*b);
			p->v6only = true;
		}
	}
}

/* Options carried under the same name. */
static const struct { int level, opt; bool bufsize; } same[] = {
	{ SOL_SOCKET, SO_REUSEADDR, false }, { SOL_SOCKET, SO_REUSEPORT, false },
	{ SOL_SOCKET, SO_KEEPALIVE, false }, { SOL_SOCKET, SO_OOBINLINE, false },
	{ SOL_SOCKET, SO_LINGER, false }, { SOL_SOCKET, SO_PRIORITY, false },
	{ SOL_SOCKET, SO_MARK, false }, { SOL_SOCKET, SO_RCVLOWAT, false },
	{ SOL_SOCKET, SO_RCVTIMEO, false }, { SOL_SOCKET, SO_SNDTIMEO, false },
	{ SOL_SOCKET, SO_BINDTODEVICE, false },
	/* the kernel doubles what is set and reports the doubled value */
	{ SOL_SOCKET, SO_RCVBUF, true }, { SOL_SOCKET, SO_SNDBUF, true },
	{ IPPROTO_IP, IP_TOS, false },
	{ IPPROTO_TCP, TCP_NODELAY, false }, { IPPROTO_TCP, TCP_CORK, false },
	{ IPPROTO_TCP, TCP_KEEPIDLE, false },
	{ IPPROTO_TCP, TCP_KEEPINTVL, false },
	{ IPPROTO_TCP, TCP_KEEPCNT, false },
	{ IPPROTO_TCP, TCP_USER_TIMEOUT, false },
	{ IPPROTO_TCP, TCP_MAXSEG, false }, { IPPROTO_TCP, TCP_SYNCNT, false },
	{ IPPROTO_TCP, TCP_LINGER2, false },
	{ IPPROTO_TCP, TCP_WINDOW_CLAMP, false },
	{ IPPROTO_TCP, TCP_NOTSENT_LOWAT, false },
	{ IPPROTO_TCP, TCP_FASTOPEN_CONNECT, false },
	{ IPPROTO_TCP, TCP_CONGESTION, false },
};

/* Options whose name depends on the family: { IPv4 name, IPv6 name }. */
static const struct { int opt4, opt6; } pair[] = {
	{ IP_TOS, IPV6_TCLASS },
	{ IP_TTL, IPV6_UNICAST_HOPS },
};

static void
carry(int from, int flevel, int fopt, int to, int tlevel, int topt,
      bool bufsize)
{
	char was[64], fresh[64];
	socklen_t wl = sizeof(was), fl = sizeof(fresh);
	int v;

	if (real_getsockopt(from, flevel, fopt, was, &wl) == -1)
		return;
	if (real_getsockopt(to, tlevel, topt, fresh, &fl) == 0 && fl == wl &&
	    memcmp(was, fresh, wl) == 0)
		return;
	if (bufsize && wl == sizeof(int)) {
		memcpy(&v, was, sizeof(v));
		v /= 2;
		memcpy(was, &v, sizeof(v));
	}
	/* best effort: a value the new socket refuses stays its default */
	(void)setsockopt(to, tlevel, topt, was, wl);
}

static void
carry_options(int from, int ffam, int to, int tfam)
{
	size_t i;

	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		carry(from, same[i].level, same[i].opt, to, same[i].level,
		      same[i].opt, same[i].bufsize);
	for (i = 0; i < sizeof(pair) / sizeof(pair[0]); i++) {
		if (ffam == AF_INET6 && tfam == AF_INET)
			carry(from, IPPROTO_IPV6, pair[i].opt6, to, IPPROTO_IP,
			      pair[i].opt4, false);
		else if (ffam == AF_INET && tfam == AF_INET6)
			carry(from, IPPROTO_IP, pair[i].opt4, to, IPPROTO_IPV6,
			      pair[i].opt6, false);
	}
}

/*
 * The epoll sets holding fd's socket: an epoll registration belongs to
 * the open file, so dup3 drops it with the old socket.  Found in
 * /proc/self/fdinfo of every epoll fd of the process ("tfd: FD events:
 * HEX data: HEX pos:N ino:HEX"); the inode tells this socket from an
 * earlier file with the same number.  Only on a replacement, which is
 * rare: the cost of reading /proc does not matter there.
 */
#define EPREGS_MAX 16

static size_t
epoll_regs(int fd, struct epreg *out)
{
	struct dirent *de;
	struct stat st;
	size_t k = 0;
	char *end;
	long v;
	DIR *d;
	int epfd;

	if (fstat(fd, &st) == -1)
		return 0;
	d = opendir("/proc/self/fd");
	if (d == NULL)
		return 0;
	while (k < EPREGS_MAX && (de = readdir(d)) != NULL) {
		v = strtol(de->d_name, &end, 10);
		if (end == de->d_name || *end != '\0' || v < 0 ||
		    v > INT_MAX || v == fd || v == dirfd(d))
			continue;
		epfd = (int)v;
		if (epregs_is_epoll(epfd))
			k = epregs_read(epfd, fd, (unsigned long)st.st_ino,
					      out, k, EPREGS_MAX);
	}
	closedir(d);
	return k;
}

static int
replace(int fd, int ffam, const struct sockfit_plan *p, bool v6only,
	char *why, size_t n)
{
	const char *was = ffam == AF_INET6 && v6only ? "IPv6-only" :
			  fam_str(ffam);
	int nfd, fl, fdfl, proto = 0, one = 1, rc;
	socklen_t len = sizeof(proto);
	struct epreg regs[EPREGS_MAX];
	struct f_owner_ex owner;
	size_t i, nreg;
	int sig;

	real_getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len);
	fl = real_fcntl(fd, F_GETFL, NULL);
	fdfl = real_fcntl(fd, F_GETFD, NULL);
	nfd = real_socket(p->family, SOCK_STREAM | SOCK_CLOEXEC, proto);
	if (nfd == -1) {
		rc = -errno;
		snprintf(why, n, "%s socket: no %s socket to put in its place "
			 "(%s) to reach %s proxy", was, fam_str(p->family),
			 strerror(-rc), fam_str(p->family));
		return rc;
	}
	carry_options(fd, ffam, nfd, p->family);
	if (p->v6only)
		(void)setsockopt(nfd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
				 sizeof(one));
	if (p->bindlen != 0 &&
	    bind(nfd, (const struct sockaddr *)&p->bind, p->bindlen) == -1) {
		rc = -errno;
		real_close(nfd);
		snprintf(why, n, "%s socket bound to port %u: the port is "
			 "taken for %s (%s), cannot reach %s proxy", was,
			 ntohs(((const struct sockaddr_in *)&p->bind)->sin_port),
			 fam_str(p->family), strerror(-rc), fam_str(p->family));
		return rc;
	}
	/* who gets SIGIO/SIGURG, and which signal: before O_ASYNC */
	if (real_fcntl(fd, F_GETOWN_EX, &owner) == 0 && owner.pid != 0)
		real_fcntl(nfd, F_SETOWN_EX, &owner);
	sig = real_fcntl(fd, F_GETSIG, NULL);
	if (sig > 0)
		real_fcntl(nfd, F_SETSIG, (void *)(long)sig);
	if (fl != -1)
		real_fcntl(nfd, F_SETFL, (void *)(long)fl);
	nreg = epoll_regs(fd, regs);
	rc = real_dup3(nfd, fd, fdfl != -1 && (fdfl & FD_CLOEXEC) ? O_CLOEXEC
								  : 0);
	rc = rc == -1 ? -errno : 1;
	real_close(nfd);
	/* the same sets, the same events (a pending tunnel's are hidden
	 * already: ready.c puts the program's back when it ends) */
	for (i = 0; rc > 0 && i < nreg; i++)
		(void)real_epoll_ctl(regs[i].epfd, EPOLL_CTL_ADD, fd,
				     &regs[i].ev);
	if (rc < 0)
		snprintf(why, n, "%s socket: dup3 (%s), cannot reach %s proxy",
			 was, strerror(-rc), fam_str(p->family));
	else
		snprintf(why, n, "%s socket replaced by an %s one to reach %s "
			 "proxy", was, fam_str(p->family), fam_str(p->family));
	return rc;
}

int
sockfit_apply(int fd, struct sockaddr_storage *ss, socklen_t *len,
	      char *why, size_t n)
{
	struct sockaddr_storage own;
	struct sockaddr_in s4;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockfit_plan p;
	socklen_t ownlen = sizeof(own), l = sizeof(int);
	int v6only = 0;

	if (getsockname(fd, (struct sockaddr *)&own, &ownlen) == -1) {
		snprintf(why, n, "getsockname: %s", strerror(errno));
		return -errno;
	}
	if (own.ss_family == AF_INET6 &&
	    real_getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &l) == -1)
		v6only = 0;
	sockfit_decide((struct sockaddr *)&own, ownlen, v6only != 0,
		       ss->ss_family, &p);
	switch (p.how) {
	case SOCKFIT_SAME:
		return 0;
	case SOCKFIT_MAP:
		memcpy(&s4, ss, sizeof(s4));
		memset(ss, 0, sizeof(*ss));
		s6->sin6_family = AF_INET6;
		s6->sin6_port = s4.sin_port;
		s6->sin6_addr.s6_addr[10] = 0xff;
		s6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&s6->sin6_addr.s6_addr[12], &s4.sin_addr, 4);
		*len = sizeof(*s6);
		return 0;
	case SOCKFIT_CANNOT:
		snprintf(why, n, "%s cannot reach %s proxy", p.why,
			 fam_str(ss->ss_family));
		return -p.err;
	case SOCKFIT_REPLACE:
		break;
	}
	return replace(fd, own.ss_family, &p, v6only != 0, why, n);
}
