/*
 * supclient - calls the supervisor must decide, made with raw system
 * calls so that a static build shows what the kernel sees (the shim is
 * not in it).  Prints "rc=N errno=NAME" lines, plus what it got back.
 *
 *   supclient get ADDR PORT PATH      blocking connect, getpeername, HTTP
 *                                     GET, status
 *   supclient nbget ADDR PORT PATH    non-blocking connect (EINPROGRESS)
 *   supclient v6get ADDR PORT PATH    get on an IPV6_V6ONLY socket
 *   supclient epv6get ADDR PORT PATH  the same, non-blocking, registered
 *                                     with epoll before the connect
 *   supclient twice ADDR PORT PATH    get, connecting twice (EISCONN)
 *   supclient famx ADDR6 PORT PATH    get on an AF_INET socket (the
 *                                     kernel's EAFNOSUPPORT)
 *   supclient pbench ADDR PORT N [libc]
 *                                     N connects to ADDR:PORT, each closed
 *                                     at once: us per connect
 *   supclient udp ADDR PORT MSG       sendto
 *   supclient sendmsg ADDR PORT MSG   sendmsg with a name
 *   supclient sendmmsg ADDR PORT MSG  sendmmsg of it twice, with a name
 *   supclient uring                   io_uring_setup
 *   supclient raw                     socket(AF_INET, SOCK_RAW)
 *   supclient packet                  socket(AF_PACKET, SOCK_RAW)
 *   supclient efault                  connect with an unmapped address
 *   supclient badlen                  connect with addrlen 129
 *   supclient unix                    connect to an AF_UNIX listener
 *   supclient scmfd                   two fds passed over an AF_UNIX pair
 *   supclient unixcred [own|none|forge [drop]]
 *                                     its own SCM_CREDENTIALS over one,
 *                                     none, or root's (drop: as nobody)
 *   supclient unixrel DIR             AF_UNIX names relative to DIR
 *   supclient unixpeer DIR [drop]     a local server's SO_PEERCRED of us,
 *                                     a connect to a socket only root may
 *                                     use (drop: as nobody)
 *   supclient fdswap ADDR PORT MSG N  N sendmsg calls on an fd that another
 *                                     thread keeps switching between a
 *                                     connected TCP socket (no name in the
 *                                     header) and a UDP one (ADDR:PORT)
 *   supclient exec PATH ARG...        the raw execve of PATH
 *   supclient fexec PATH ARG...       execveat of an O_PATH fd of PATH
 *                                     (AT_EMPTY_PATH, as fexecve)
 *   supclient bench N [libc]          N loopback connects: us per connect
 *                                     (libc: through connect(), which the
 *                                     shim hooks, not the raw call)
 *   supclient threads N               N threads connect at once (loopback)
 *   supclient race ADDR PORT PATH N   N connects to a loopback listener
 *                                     while another thread keeps writing
 *                                     ADDR:PORT into the same sockaddr;
 *                                     one that reaches ADDR sends GET PATH
 *   supclient msgrace ADDR PORT MSG N SRC
 *                                     N sendmsg calls without a name on a
 *                                     UDP socket connected to a socket of
 *                                     our own at SRC (an address of ours
 *                                     that routes to ADDR) while another
 *                                     thread keeps writing ADDR:PORT into
 *                                     the header
 *   supclient slow ADDR PORT N        a blocking connect to ADDR:PORT in
 *                                     a thread, N loopback connects
 *                                     meanwhile: they must not wait
 *
 * SUPCLIENT_DROP=1 runs every mode as nobody (setuid, as a daemon drops
 * root).  SUPCLIENT_LIBC=1 (or "-libc" in the program's name) makes every mode call libc's socket(), connect(),
 * getpeername() and sends instead of the raw calls (in a 32-bit build,
 * glibc's socketcall(2)).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *
ename(int e)
{
	switch (e) {
	case 0: return "0";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case ENOSYS: return "ENOSYS";
	case EFAULT: return "EFAULT";
	case EINVAL: return "EINVAL";
	case EINPROGRESS: return "EINPROGRESS";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EISCONN: return "EISCONN";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case ENETUNREACH: return "ENETUNREACH";
	case ENOENT: return "ENOENT";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	default: return "other";
	}
}

/* Through libc's functions rather than the raw calls: bench's "libc",
 * or SUPCLIENT_LIBC=1 for every mode (on i386, glibc's socketcall). */
static int use_libc;

static long
x_socket(int d, int t, int p)
{
	return use_libc ? socket(d, t, p) : syscall(SYS_socket, d, t, p);
}

static long
x_connect(int fd, const void *sa, socklen_t l)
{
	return use_libc ? connect(fd, sa, l) : syscall(SYS_connect, fd, sa, l);
}

static long
x_getpeername(int fd, void *sa, socklen_t *l)
{
	return use_libc ? getpeername(fd, sa, l) :
			  syscall(SYS_getpeername, fd, sa, l);
}

static long
x_sendto(int fd, const void *b, size_t n, int fl, const void *sa,
	 socklen_t l)
{
	return use_libc ? sendto(fd, b, n, fl, sa, l) :
			  syscall(SYS_sendto, fd, b, n, fl, sa, l);
}

static long
x_sendmsg(int fd, const struct msghdr *m, int fl)
{
	return use_libc ? sendmsg(fd, m, fl) :
			  syscall(SYS_sendmsg, fd, m, fl);
}

static long
x_sendmmsg(int fd, struct mmsghdr *m, unsigned int n, int fl)
{
	return use_libc ? sendmmsg(fd, m, n, fl) :
			  syscall(SYS_sendmmsg, fd, m, n, fl);
}

static void
report(long rc)
{
	printf("rc=%ld errno=%s\n", rc, rc < 0 ? ename(errno) : "0");
}

static socklen_t
addr_of(const char *a, const char *p, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)atoi(p));
		return sizeof(*s4);
	}
	if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)atoi(p));
		return sizeof(*s6);
	}
	fprintf(stderr, "supclient: bad address %s\n", a);
	exit(2);
}

static void
http_get(int fd, const char *path)
{
	char req[512], resp[256];
	ssize_t n;

	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", path);
	if (write(fd, req, strlen(req)) < 0) {
		report(-1);
		return;
	}
	n = read(fd, resp, sizeof(resp) - 1);
	resp[n > 0 ? n : 0] = '\0';
	printf("status=%.12s\n", resp);
}

/* Where the connected socket says it goes (getpeername). */
static void
peer(int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (x_getpeername(fd, &ss, &l) != 0) {
		report(-1);
		return;
	}
	if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, a,
			  sizeof(a));
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
			  a, sizeof(a));
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	printf("peer=%s:%u len=%u\n", a, port, (unsigned)l);
	/* a short buffer: the kernel writes that much, and the whole
	 * length back */
	memset(&ss, 0xab, sizeof(ss));
	l = 3;
	if (x_getpeername(fd, &ss, &l) == 0)
		printf("peer_short len=%u byte2=0x%02x byte3=0x%02x\n",
		       (unsigned)l, ((unsigned char *)&ss)[2],
		       ((unsigned char *)&ss)[3]);
}

static int
get(const char *a, const char *p, const char *path, int nb)
{
	struct sockaddr_storage ss;
	socklen_t len = addr_of(a, p, &ss);
	struct pollfd pf;
	int fd = (int)x_socket(nb == 4 ? AF_INET : ss.ss_family,
			      SOCK_STREAM | (nb == 1 ? SOCK_NONBLOCK : 0), 0);
	int e = 0, one = 1;
	socklen_t el = sizeof(e);
	long rc;

	if (nb == 2)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	rc = x_connect(fd, &ss, len);
	report(rc);
	if (rc == 0 && nb == 3)		/* again: EISCONN */
		report(x_connect(fd, &ss, len));
	if (rc < 0 && nb == 1 && errno == EINPROGRESS) {
		pf.fd = fd;
		pf.events = POLLOUT;
		poll(&pf, 1, 5000);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
		printf("so_error=%s\n", ename(e));
		if (e != 0)
			return 0;
		fcntl(fd, F_SETFL, 0);
		rc = 0;
	}
	if (rc == 0) {
		peer(fd);
		if (nb == 1)	/* connected at once: read the reply blocking */
			fcntl(fd, F_SETFL, 0);
		http_get(fd, path);
	}
	return 0;
}

static int
udp(const char *a, const char *p, const char *msg, int use_msg)
{
	struct sockaddr_storage ss;
	socklen_t len = addr_of(a, p, &ss);
	struct iovec io = { (void *)msg, strlen(msg) };
	struct msghdr m = { .msg_name = &ss, .msg_namelen = len,
			    .msg_iov = &io, .msg_iovlen = 1 };
	struct mmsghdr mm[2] = { { .msg_hdr = m }, { .msg_hdr = m } };
	int fd = (int)x_socket(ss.ss_family, SOCK_DGRAM, 0);

	if (use_msg == 2) {
		report(x_sendmmsg(fd, mm, 2, 0));
		printf("msg_len=%u,%u\n", mm[0].msg_len, mm[1].msg_len);
	} else if (use_msg)
		report(x_sendmsg(fd, &m, 0));
	else
		report(x_sendto(fd, msg, strlen(msg), 0, &ss, len));
	return 0;
}

/* A loopback listener on an ephemeral port; its address in *ss. */
static int
listener(struct sockaddr_in *sa)
{
	socklen_t l = sizeof(*sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)sa, sizeof(*sa)) == -1 ||
	    listen(fd, 4096) == -1 ||
	    getsockname(fd, (struct sockaddr *)sa, &l) == -1) {
		perror("listener");
		exit(2);
	}
	return fd;
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* n connects to a loopback listener (each accepted and closed); the
 * time per connect, and how many failed. */
static double
loop_connects(int n, int *failed)
{
	struct sockaddr_in sa;
	int lfd = listener(&sa), i, fd, c;
	double t0 = now_us();
	long rc;

	*failed = 0;
	for (i = 0; i < n; i++) {
		fd = (int)x_socket(AF_INET, SOCK_STREAM, 0);
		rc = use_libc ? connect(fd, (struct sockaddr *)&sa, sizeof(sa)) :
				x_connect(fd, &sa, sizeof(sa));
		if (rc != 0)
			(*failed)++;
		c = accept(lfd, NULL, NULL);
		if (c >= 0)
			close(c);
		close(fd);
	}
	close(lfd);
	return (now_us() - t0) / n;
}

/* pbench: n connects to ADDR:PORT (through a proxy, by the rules), each
 * closed at once; the mean time per connect. */
static int
pbench(const char *a, const char *p, int n, int libc)
{
	struct sockaddr_storage ss;
	socklen_t len = addr_of(a, p, &ss);
	double t0 = now_us();
	int i, fd, failed = 0;
	long rc;

	for (i = 0; i < n; i++) {
		fd = (int)x_socket(ss.ss_family, SOCK_STREAM, 0);
		rc = libc ? connect(fd, (struct sockaddr *)&ss, len) :
			    x_connect(fd, &ss, len);
		if (rc != 0)
			failed++;
		close(fd);
	}
	printf("connects=%d failed=%d us_per_connect=%.2f\n", n, failed,
	       (now_us() - t0) / n);
	return 0;
}

static void *
slow_connect(void *arg)
{
	struct sockaddr_storage *ss = arg;
	int fd = (int)x_socket(ss->ss_family, SOCK_STREAM, 0);
	double t0 = now_us();
	long rc = x_connect(fd, ss, sizeof(*ss) == 0 ? 0 :
			  ss->ss_family == AF_INET ?
			  sizeof(struct sockaddr_in) :
			  sizeof(struct sockaddr_in6));

	printf("slow rc=%ld errno=%s after %.0f ms\n", rc,
	       rc < 0 ? ename(errno) : "0", (now_us() - t0) / 1000);
	return NULL;
}

static int
slow(const char *a, const char *p, int n)
{
	static struct sockaddr_storage ss;
	pthread_t t;
	int failed;
	double us;

	addr_of(a, p, &ss);
	pthread_create(&t, NULL, slow_connect, &ss);
	usleep(200000);		/* the slow one is waiting by now */
	us = loop_connects(n, &failed);
	printf("meanwhile connects=%d failed=%d us_per_connect=%.1f\n", n,
	       failed, us);
	fflush(stdout);
	pthread_join(t, NULL);
	return 0;
}

/* threads: each connects once to the listener, at the same moment. */
static struct sockaddr_in t_sa;
static pthread_barrier_t t_go;
static int t_ok;

static void *
one_connect(void *arg)
{
	int fd = (int)x_socket(AF_INET, SOCK_STREAM, 0);

	(void)arg;
	pthread_barrier_wait(&t_go);
	if (x_connect(fd, &t_sa, sizeof(t_sa)) == 0)
		__atomic_add_fetch(&t_ok, 1, __ATOMIC_SEQ_CST);
	close(fd);
	return NULL;
}

static int
threads(int n)
{
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	int lfd = listener(&t_sa), i, made = 0;
	double t0;

	pthread_barrier_init(&t_go, NULL, (unsigned)n + 1);
	for (i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, one_connect, NULL) == 0)
			made++;
	if (made != n) {
		printf("threads: only %d of %d\n", made, n);
		return 2;
	}
	t0 = now_us();
	pthread_barrier_wait(&t_go);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	printf("threads=%d connected=%d in %.0f ms\n", n, t_ok,
	       (now_us() - t0) / 1000);
	close(lfd);
	return 0;
}

/* race: the address changes under the call; what was checked must be
 * what is connected. */
static struct sockaddr_in r_sa, r_good, r_bad;
static volatile int r_stop, r_started;

/* The flipper is running (so a short run still races), or 2 s passed. */
static void
wait_flipper(void)
{
	int i;

	for (i = 0; i < 2000 && !r_started; i++)
		usleep(1000);
}

static void *
flipper(void *arg)
{
	(void)arg;
	volatile int spin;

	/* each address stays a moment: the kernel's copy and the
	 * supervisor's both see either */
	volatile uint64_t *dst = (volatile uint64_t *)(void *)&r_sa;
	uint64_t bad[2], good[2];

	memcpy(bad, &r_bad, sizeof(bad));
	memcpy(good, &r_good, sizeof(good));
	while (!r_stop) {
		r_started = 1;
		dst[0] = bad[0];
		dst[1] = bad[1];
		for (spin = 0; spin < 3000; spin++)
			;
		dst[0] = good[0];
		dst[1] = good[1];
		for (spin = 0; spin < 3000; spin++)
			;
	}
	return NULL;
}

static int
race(const char *a, const char *p, const char *path, int n)
{
	struct sockaddr_storage ss;
	struct sockaddr_in peer;
	socklen_t pl;
	pthread_t t;
	int lfd = listener(&r_good), i, fd, c, good = 0, bad = 0, refused = 0;

	addr_of(a, p, &ss);
	memcpy(&r_bad, &ss, sizeof(r_bad));
	memcpy(&r_sa, &r_good, sizeof(r_sa));
	fcntl(lfd, F_SETFL, O_NONBLOCK);
	pthread_create(&t, NULL, flipper, NULL);
	wait_flipper();
	for (i = 0; i < n; i++) {
		fd = (int)x_socket(AF_INET, SOCK_STREAM, 0);
		if (x_connect(fd, &r_sa, sizeof(r_sa)) != 0) {
			refused += errno == EACCES;
			close(fd);
			continue;
		}
		pl = sizeof(peer);
		getpeername(fd, (struct sockaddr *)&peer, &pl);
		if (peer.sin_addr.s_addr == r_bad.sin_addr.s_addr) {
			bad++;
			http_get(fd, path);	/* the server will tell */
		} else {
			good++;
		}
		close(fd);
		c = accept(lfd, NULL, NULL);
		if (c >= 0)
			close(c);
	}
	r_stop = 1;
	pthread_join(t, NULL);
	printf("race connects=%d loopback=%d other=%d eacces=%d\n", n, good,
	       bad, refused);
	return 0;
}

/* msgrace: the header's name appears and goes under the call (and, for
 * fdswap, the fd f_fd is f_udp's socket while it is there, f_tcp's when
 * it is not). */
static int f_fd, f_tcp, f_udp;
static struct msghdr m_hdr;
static struct sockaddr_storage m_bad;
static socklen_t m_badlen;

static void *
name_flipper(void *arg)
{
	volatile struct msghdr *h = &m_hdr;
	volatile int spin;
	int swap = arg != NULL;		/* fdswap: the fd changes too */

	/* the UDP socket only while the name is there */
	while (!r_stop) {
		r_started = 1;
		h->msg_namelen = m_badlen;
		h->msg_name = &m_bad;
		if (swap)
			dup2(f_udp, f_fd);
		for (spin = 0; spin < 3000; spin++)
			;
		if (swap)
			dup2(f_tcp, f_fd);
		h->msg_name = NULL;
		h->msg_namelen = 0;
		for (spin = 0; spin < 3000; spin++)
			;
	}
	return NULL;
}

static int
msgrace(const char *a, const char *p, const char *msg, int n,
	const char *src)
{
	struct sockaddr_in lo = { .sin_family = AF_INET };
	struct iovec io = { (void *)msg, strlen(msg) };
	socklen_t l = sizeof(lo);
	pthread_t t;
	int rx = socket(AF_INET, SOCK_DGRAM, 0), fd, i, ok = 0, acces = 0;

	m_badlen = addr_of(a, p, &m_bad);
	/* not loopback: a loopback source could not send to ADDR */
	inet_pton(AF_INET, src, &lo.sin_addr);
	bind(rx, (struct sockaddr *)&lo, sizeof(lo));
	getsockname(rx, (struct sockaddr *)&lo, &l);
	fd = socket(m_bad.ss_family == AF_INET6 ? AF_INET6 : AF_INET,
		    SOCK_DGRAM, 0);
	if (m_bad.ss_family == AF_INET6) {
		fprintf(stderr, "msgrace: IPv4 only\n");
		return 2;
	}
	connect(fd, (struct sockaddr *)&lo, sizeof(lo));
	m_hdr.msg_iov = &io;
	m_hdr.msg_iovlen = 1;
	pthread_create(&t, NULL, name_flipper, NULL);
	wait_flipper();
	for (i = 0; i < n; i++) {
		if (x_sendmsg(fd, &m_hdr, 0) >= 0)
			ok++;
		else
			acces += errno == EACCES;
	}
	r_stop = 1;
	pthread_join(t, NULL);
	printf("msgrace sends=%d ok=%d eacces=%d\n", n, ok, acces);
	return 0;
}

/* epv6get: get on a non-blocking IPV6_V6ONLY socket registered with
 * epoll before its connect (as libuv and NIO do): its readiness comes
 * through that registration, which MOD and DEL then find. */
static int
epv6get(const char *a, const char *p, const char *path)
{
	struct sockaddr_storage ss;
	socklen_t len = addr_of(a, p, &ss);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT,
				  .data.u64 = 0xabc }, got;
	char req[512], resp[256];
	int fd = (int)x_socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int ep = epoll_create1(0), one = 1, n;
	long rc;

	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	rc = x_connect(fd, &ss, len);
	report(rc);
	n = epoll_wait(ep, &got, 1, 5000);
	printf("epoll n=%d out=%d data=0x%llx\n", n,
	       n == 1 && (got.events & EPOLLOUT) != 0,
	       n == 1 ? (unsigned long long)got.data.u64 : 0ULL);
	ev.events = EPOLLIN;
	printf("mod rc=%d\n", epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev));
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: x\r\n\r\n",
		 path);
	if (write(fd, req, strlen(req)) < 0)
		report(-1);
	n = epoll_wait(ep, &got, 1, 5000);
	printf("epoll in n=%d\n", n);
	n = (int)read(fd, resp, sizeof(resp) - 1);
	resp[n > 0 ? n : 0] = '\0';
	printf("status=%.12s\n", resp);
	printf("del rc=%d\n", epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL));
	return 0;
}

/* One SOL_SOCKET control message of type with n bytes at p, at h. */
static void
cmsg_put(struct cmsghdr *h, int type, const void *p, size_t n)
{
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = type;
	h->cmsg_len = CMSG_LEN(n);
	memcpy(CMSG_DATA(h), p, n);
}

/* scmfd: an fd passed over an AF_UNIX pair (SCM_RIGHTS, with a second
 * control message after it), received whole and working. */
static int
scmfd(void)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(int))];
	} ctl, rctl;
	char data[8] = "scm", got[8] = "", via[8] = "";
	struct iovec io = { data, 4 }, rio = { got, sizeof(got) };
	struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1,
			    .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
	struct msghdr r = { .msg_iov = &rio, .msg_iovlen = 1,
			    .msg_control = rctl.b,
			    .msg_controllen = sizeof(rctl.b) };
	struct cmsghdr *h;
	int sv[2], pp[2], passed = -1, n = 0;
	long rc;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == -1 || pipe(pp) == -1)
		return 2;
	memset(&ctl, 0, sizeof(ctl));
	h = CMSG_FIRSTHDR(&m);
	cmsg_put(h, SCM_RIGHTS, &pp[1], sizeof(int));
	cmsg_put(CMSG_NXTHDR(&m, h), SCM_RIGHTS, &pp[1], sizeof(int));
	rc = x_sendmsg(sv[0], &m, 0);
	report(rc);
	if (rc < 0 || recvmsg(sv[1], &r, 0) < 0)
		return 0;
	for (h = CMSG_FIRSTHDR(&r); h != NULL; h = CMSG_NXTHDR(&r, h))
		if (h->cmsg_type == SCM_RIGHTS) {
			memcpy(&passed, CMSG_DATA(h), sizeof(int));
			n += (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		}
	if (passed >= 0 && write(passed, "ok", 3) == 3)
		n += read(pp[0], via, sizeof(via)) == 3 ? 10 : 0;
	printf("scm data=%s fds=%d via=%s\n", got, n % 10, via);
	return 0;
}

/* fdswap: by turns, the fd of a connected TCP socket with no name in the
 * header, and of an unconnected UDP one with ADDR:PORT in it (msgrace's
 * flipper, which also dup2()s them onto the fd). */
static int
fdswap(const char *a, const char *p, const char *msg, int n)
{
	struct sockaddr_in lo;
	struct iovec io = { (void *)msg, strlen(msg) };
	int lfd = listener(&lo), i, ok = 0, acces = 0, other = 0, c;
	pthread_t t;

	m_badlen = addr_of(a, p, &m_bad);
	m_hdr.msg_iov = &io;
	m_hdr.msg_iovlen = 1;
	f_tcp = socket(AF_INET, SOCK_STREAM, 0);
	if (x_connect(f_tcp, &lo, sizeof(lo)) != 0) {
		perror("fdswap: connect");
		return 2;
	}
	c = accept(lfd, NULL, NULL);
	f_udp = socket(m_bad.ss_family, SOCK_DGRAM, 0);
	f_fd = dup(f_tcp);
	pthread_create(&t, NULL, name_flipper, &f_fd);
	wait_flipper();
	for (i = 0; i < n; i++) {
		if (x_sendmsg(f_fd, &m_hdr, MSG_DONTWAIT) >= 0)
			ok++;
		else if (errno == EACCES)
			acces++;
		else
			other++;	/* EDESTADDRREQ: UDP, no name yet */
		if (i % 64 == 0) {	/* keep the TCP receive side empty */
			char sink[65536];

			while (recv(c, sink, sizeof(sink), MSG_DONTWAIT) > 0)
				;
		}
	}
	r_stop = 1;
	pthread_join(t, NULL);
	printf("fdswap sends=%d ok=%d eacces=%d other=%d\n", n, ok, acces,
	       other);
	return 0;
}

/* unixcred [own|none|forge [drop]]: a datagram with the sender's own
 * SCM_CREDENTIALS (as a GDBus client sends them), with none (the kernel
 * attaches the sender's), or with pid 1 and uid 0 (refused but to
 * root), to a receiver that asks for credentials; drop: as nobody. */
static int
unixcred(const char *how, int drop)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct ucred))];
	} ctl, rctl;
	struct ucred u, got = { 0, 0, 0 };
	char data[4] = "cr", buf[4];
	struct iovec io = { data, 3 }, rio = { buf, sizeof(buf) };
	struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1,
			    .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
	struct msghdr r = { .msg_iov = &rio, .msg_iovlen = 1,
			    .msg_control = rctl.b,
			    .msg_controllen = sizeof(rctl.b) };
	struct cmsghdr *h;
	int sv[2], one = 1;
	long rc;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == -1)
		return 2;
	setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	if (drop && (setgid(65534) == -1 || setuid(65534) == -1))
		return 2;
	u.pid = getpid();
	u.uid = getuid();
	u.gid = getgid();
	if (strcmp(how, "forge") == 0)
		u = (struct ucred){ 1, 0, 0 };
	memset(&ctl, 0, sizeof(ctl));
	cmsg_put(CMSG_FIRSTHDR(&m), SCM_CREDENTIALS, &u, sizeof(u));
	if (strcmp(how, "none") == 0) {
		m.msg_control = NULL;
		m.msg_controllen = 0;
	}
	rc = x_sendmsg(sv[0], &m, 0);
	report(rc);
	if (rc < 0 || recvmsg(sv[1], &r, 0) < 0)
		return 0;
	h = CMSG_FIRSTHDR(&r);
	if (h != NULL && h->cmsg_type == SCM_CREDENTIALS)
		memcpy(&got, CMSG_DATA(h), sizeof(got));
	printf("cred uid=%u gid=%u own_pid=%d\n", (unsigned)got.uid,
	       (unsigned)got.gid, got.pid == getpid());
	return 0;
}

/* unixpeer DIR [drop]: the credentials a local server reads of our
 * connect (SO_PEERCRED), and a connect to a socket only root may use
 * (DIR/root.sock, mode 0600); drop: as nobody. */
static int
unixpeer(const char *dir, int drop)
{
	struct sockaddr_un ab = { .sun_family = AF_UNIX };
	struct sockaddr_un rs = { .sun_family = AF_UNIX };
	struct ucred u = { 0, 0, 0 };
	socklen_t ul = sizeof(u);
	int l, l2, fd, a;

	snprintf(ab.sun_path + 1, sizeof(ab.sun_path) - 1, "supclient-peer-%d",
		 (int)getpid());
	snprintf(rs.sun_path, sizeof(rs.sun_path), "%s/root.sock", dir);
	unlink(rs.sun_path);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	l2 = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(l, (struct sockaddr *)&ab, sizeof(ab)) == -1 ||
	    listen(l, 1) == -1 ||
	    bind(l2, (struct sockaddr *)&rs, sizeof(rs)) == -1 ||
	    listen(l2, 1) == -1 || chmod(rs.sun_path, 0600) == -1) {
		perror("unixpeer");
		return 2;
	}
	if (drop && (setgid(65534) == -1 || setuid(65534) == -1))
		return 2;
	fd = (int)x_socket(AF_UNIX, SOCK_STREAM, 0);
	report(x_connect(fd, &ab, sizeof(ab)));
	a = accept(l, NULL, NULL);
	getsockopt(a, SOL_SOCKET, SO_PEERCRED, &u, &ul);
	printf("peer uid=%u gid=%u\n", (unsigned)u.uid, (unsigned)u.gid);
	fd = (int)x_socket(AF_UNIX, SOCK_STREAM, 0);
	report(x_connect(fd, &rs, sizeof(rs)));
	return 0;
}

/* unixrel DIR: in DIR, AF_UNIX sockets named by relative paths: a
 * stream connect, a datagram sendto and sendmsg to them by those names,
 * and a connect to a name that is not there. */
static int
unixrel(const char *dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sockaddr_un sb = { .sun_family = AF_UNIX };
	struct iovec io = { (void *)"m", 1 };
	struct msghdr m = { .msg_name = &sb, .msg_namelen = sizeof(sb),
			    .msg_iov = &io, .msg_iovlen = 1 };
	int l, fd, d, r;

	if (chdir(dir) == -1)
		return 2;
	strcpy(sa.sun_path, "sock");
	strcpy(sb.sun_path, "dsock");
	unlink(sa.sun_path);
	unlink(sb.sun_path);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	r = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(l, 1) == -1 ||
	    bind(r, (struct sockaddr *)&sb, sizeof(sb)) == -1) {
		perror("unixrel");
		return 2;
	}
	fd = (int)x_socket(AF_UNIX, SOCK_STREAM, 0);
	report(x_connect(fd, &sa, sizeof(sa)));
	d = (int)x_socket(AF_UNIX, SOCK_DGRAM, 0);
	report(x_sendto(d, "s", 1, 0, &sb, sizeof(sb)));
	report(x_sendmsg(d, &m, 0));
	strcpy(sa.sun_path, "nosuch");
	fd = (int)x_socket(AF_UNIX, SOCK_STREAM, 0);
	report(x_connect(fd, &sa, sizeof(sa)));
	return 0;
}

static int
unix_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int l = socket(AF_UNIX, SOCK_STREAM, 0), fd;

	/* abstract: nothing left in the file system */
	snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "supclient-%d",
		 (int)getpid());
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(l, 1) == -1) {
		perror("unix");
		return 2;
	}
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	report(x_connect(fd, &sa, sizeof(sa)));
	return 0;
}

int
main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "";
	struct sockaddr_in sa = { .sin_family = AF_INET };
	void *page;
	int fd, failed;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* SUPCLIENT_DROP=1: every mode as nobody */
	if (getenv("SUPCLIENT_DROP") != NULL &&
	    (setgid(65534) == -1 || setuid(65534) == -1))
		return 2;
	use_libc = getenv("SUPCLIENT_LIBC") != NULL ||
		   strstr(argv[0], "-libc") != NULL;
	if (strcmp(how, "get") == 0 && argc == 5)
		return get(argv[2], argv[3], argv[4], 0);
	if (strcmp(how, "nbget") == 0 && argc == 5)
		return get(argv[2], argv[3], argv[4], 1);
	if (strcmp(how, "v6get") == 0 && argc == 5)
		return get(argv[2], argv[3], argv[4], 2);
	if (strcmp(how, "twice") == 0 && argc == 5)
		return get(argv[2], argv[3], argv[4], 3);
	if (strcmp(how, "famx") == 0 && argc == 5)
		return get(argv[2], argv[3], argv[4], 4);
	if (strcmp(how, "pbench") == 0 && argc >= 5)
		return pbench(argv[2], argv[3], atoi(argv[4]),
			      argc == 6 && strcmp(argv[5], "libc") == 0);
	if (strcmp(how, "udp") == 0 && argc == 5)
		return udp(argv[2], argv[3], argv[4], 0);
	if (strcmp(how, "sendmsg") == 0 && argc == 5)
		return udp(argv[2], argv[3], argv[4], 1);
	if (strcmp(how, "sendmmsg") == 0 && argc == 5)
		return udp(argv[2], argv[3], argv[4], 2);
	if (strcmp(how, "uring") == 0) {
		char params[120] = { 0 };

		report(syscall(SYS_io_uring_setup, 4, params));
		return 0;
	}
	if (strcmp(how, "raw") == 0) {
		report(x_socket(AF_INET, SOCK_RAW, IPPROTO_UDP));
		return 0;
	}
	if (strcmp(how, "packet") == 0) {
		report(x_socket(AF_PACKET, SOCK_RAW,
			       htons(ETH_P_ALL)));
		return 0;
	}
	if (strcmp(how, "efault") == 0) {
		/* a page made inaccessible: the address runs into it */
		page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
		fd = (int)x_socket(AF_INET, SOCK_STREAM, 0);
		report(x_connect(fd, page, sizeof(sa)));
		return 0;
	}
	if (strcmp(how, "badlen") == 0) {
		char big[256] = { 0 };

		memcpy(big, &sa, sizeof(sa));
		fd = (int)x_socket(AF_INET, SOCK_STREAM, 0);
		report(x_connect(fd, big, 129));
		return 0;
	}
	if (strcmp(how, "unix") == 0)
		return unix_connect();
	if (strcmp(how, "scmfd") == 0)
		return scmfd();
	if (strcmp(how, "epv6get") == 0 && argc == 5)
		return epv6get(argv[2], argv[3], argv[4]);
	if (strcmp(how, "unixcred") == 0)
		return unixcred(argc > 2 ? argv[2] : "own",
				argc > 3 && strcmp(argv[3], "drop") == 0);
	if (strcmp(how, "unixrel") == 0 && argc == 3)
		return unixrel(argv[2]);
	if (strcmp(how, "unixpeer") == 0 && argc >= 3)
		return unixpeer(argv[2], argc > 3 && strcmp(argv[3], "drop") == 0);
	if (strcmp(how, "fdswap") == 0 && argc == 6)
		return fdswap(argv[2], argv[3], argv[4], atoi(argv[5]));
	if (strcmp(how, "exec") == 0 && argc >= 3) {
		report(syscall(SYS_execve, argv[2], argv + 2, environ));
		return 0;
	}
	if (strcmp(how, "fexec") == 0 && argc >= 3) {
		fd = open(argv[2], O_PATH | O_CLOEXEC);
		report(syscall(SYS_execveat, fd, "", argv + 2, environ,
			       AT_EMPTY_PATH));
		return 0;
	}
	if (strcmp(how, "bench") == 0 && argc == 4 &&
	    strcmp(argv[3], "libc") == 0)
		use_libc = 1;
	if (strcmp(how, "bench") == 0 && (argc == 3 || use_libc)) {
		double us = loop_connects(atoi(argv[2]), &failed);

		printf("connects=%s failed=%d us_per_connect=%.2f\n", argv[2],
		       failed, us);
		return 0;
	}
	if (strcmp(how, "slow") == 0 && argc == 5)
		return slow(argv[2], argv[3], atoi(argv[4]));
	if (strcmp(how, "threads") == 0 && argc == 3)
		return threads(atoi(argv[2]));
	if (strcmp(how, "msgrace") == 0 && argc == 7)
		return msgrace(argv[2], argv[3], argv[4], atoi(argv[5]),
			       argv[6]);
	if (strcmp(how, "race") == 0 && argc == 6)
		return race(argv[2], argv[3], argv[4], atoi(argv[5]));
	fprintf(stderr, "usage: supclient get|nbget|udp|sendmsg|uring|raw|"
		"packet|efault|badlen|unix|bench|slow|threads|race|msgrace ...\n");
	return 2;
}
