/*
 * readiness - what a program sees of a non-blocking TCP connect, step by
 * step: connect, poll, select, epoll (level- and edge-triggered,
 * registered before the connect), SO_ERROR, connect again, read, write.
 *
 *   readiness ok|refused|timeout|slow HOST PORT
 *
 * Prints one line per step, with no timing in it but "on time" checks,
 * so that a run against the kernel (a direct connect) and one through the
 * shim (a tunnel) can be compared with diff.  The scenarios:
 *   ok       the destination accepts; a request gets an HTTP answer
 *   refused  the destination refuses
 *   timeout  nothing answers within the program's own 1 s timeout
 *   slow     the connect takes a while (still in progress after 300 ms),
 *            then succeeds
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in dst;

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *
en(int e)
{
	const char *s = strerrorname_np(e);

	return s != NULL ? s : "?";
}

static void
rc_line(const char *what, long rc, int err)
{
	if (rc < 0)
		printf("%s: -1 %s\n", what, en(err));
	else
		printf("%s: %ld\n", what, rc);
}

static void
ev_str(char *b, size_t n, unsigned int ev)
{
	static const struct { unsigned int bit; const char *name; } t[] = {
		{ POLLIN, "IN" }, { POLLPRI, "PRI" }, { POLLOUT, "OUT" },
		{ POLLERR, "ERR" }, { POLLHUP, "HUP" }, { POLLRDHUP, "RDHUP" },
		{ POLLRDNORM, "RDNORM" }, { POLLWRNORM, "WRNORM" },
	};
	size_t i;

	b[0] = '\0';
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (ev & t[i].bit)
			snprintf(b + strlen(b), n - strlen(b), "%s%s",
				 b[0] ? "|" : "", t[i].name);
	if (b[0] == '\0')
		snprintf(b, n, "-");
}

static int
mk(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd == -1 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)) {
		perror("socket");
		exit(2);
	}
	return fd;
}

static void
do_connect(const char *what, int fd)
{
	int rc = connect(fd, (struct sockaddr *)&dst, sizeof(dst));

	rc_line(what, rc, errno);
}

static void
do_poll_ev(const char *what, int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	char b[80];
	int rc = poll(&p, 1, ms);

	ev_str(b, sizeof(b), p.revents);
	if (rc < 0)
		rc_line(what, rc, errno);
	else
		printf("%s: %d %s\n", what, rc, b);
}

static void
do_poll(const char *what, int fd, int ms)
{
	do_poll_ev(what, fd, POLLIN | POLLOUT | POLLRDHUP, ms);
}

static void
do_select(const char *what, int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000 };
	fd_set r, w;
	int rc;

	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(fd, &r);
	FD_SET(fd, &w);
	rc = select(fd + 1, &r, &w, NULL, &tv);
	if (rc < 0)
		rc_line(what, rc, errno);
	else
		printf("%s: %d%s%s\n", what, rc, FD_ISSET(fd, &r) ? " r" : "",
		       FD_ISSET(fd, &w) ? " w" : "");
}

static void
do_epoll(const char *what, int ep, int ms)
{
	struct epoll_event ev[4];
	char b[80];
	int rc = epoll_wait(ep, ev, 4, ms);

	if (rc < 0) {
		rc_line(what, rc, errno);
		return;
	}
	ev_str(b, sizeof(b), rc > 0 ? ev[0].events : 0);
	printf("%s: %d %s%s\n", what, rc, b,
	       rc > 0 && ev[0].data.u64 != 0x5eed ? " (wrong data)" : "");
}

static void
do_soerror(const char *what, int fd)
{
	int v = -1, rc;
	socklen_t l = sizeof(v);

	rc = getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &l);
	if (rc < 0)
		rc_line(what, rc, errno);
	else
		printf("%s: %s\n", what, v == 0 ? "0" : en(v));
}

static void
do_io(const char *what, int fd, bool out)
{
	char buf[16];
	ssize_t n = out ? write(fd, "x", 0 + 1) : read(fd, buf, sizeof(buf));

	rc_line(what, n, errno);
}

static void
do_peer(const char *what, int fd)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	int rc = getpeername(fd, (struct sockaddr *)&a, &l);

	rc_line(what, rc, errno);
}

/* A new epoll set holding fd; data 0x5eed. */
static int
new_epoll(int fd, unsigned int flags)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP |
					    flags,
				  .data.u64 = 0x5eed };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep == -1 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
		perror("epoll");
		exit(2);
	}
	return ep;
}

/* Still in progress: every question gets "not yet", on time. */
static void
in_progress(int fd, int lt, int et, int ms)
{
	long t0 = now_ms(), dt;
	int post;

	do_poll("pending poll", fd, ms);
	dt = now_ms() - t0;
	printf("pending poll on time: %s\n",
	       dt >= ms - 5 && dt <= ms + 50 ? "yes" : "no");
	if (dt < ms - 5 || dt > ms + 50)
		fprintf(stderr, "poll(%d) took %ld ms\n", ms, dt);
	do_select("pending select", fd, 50);
	do_epoll("pending epoll lt", lt, 50);
	do_epoll("pending epoll et", et, 0);
	post = new_epoll(fd, EPOLLET);	/* as libuv and asyncio do */
	do_epoll("pending epoll et added after connect", post, 50);
	do_soerror("pending SO_ERROR", fd);
	do_connect("pending connect again", fd);
	do_io("pending read", fd, false);
	do_io("pending write", fd, true);
	do_peer("pending getpeername", fd);
	if (ms < 1000) {
		do_epoll("ready epoll et added after connect", post, 5000);
		do_epoll("ready epoll et added after connect again", post, 0);
	}
	close(post);
}

/* The connect has ended, one way or the other. */
static void
ended(int fd, int lt, int et, bool ok)
{
	char buf[64];
	ssize_t n;

	do_poll("end poll", fd, 5000);
	do_epoll("end epoll et", et, 2000);
	do_epoll("end epoll et again", et, 0);
	do_epoll("end epoll lt", lt, 0);
	do_select("end select", fd, 0);
	do_soerror("end SO_ERROR", fd);
	do_soerror("end SO_ERROR again", fd);
	do_poll("end poll after SO_ERROR", fd, 0);
	do_connect("end connect again", fd);
	if (!ok) {
		/* the failed connect left the socket unconnected */
		do_io("end read", fd, false);
		do_io("end write", fd, true);
		do_poll("end poll unconnected", fd, 0);
		return;
	}
	do_connect("end connect third", fd);
	do_peer("end getpeername", fd);
	n = write(fd, "GET / HTTP/1.0\r\n\r\n", 18);
	rc_line("end request", n, errno);
	do_poll_ev("end poll for answer", fd, POLLIN, 5000);
	n = read(fd, buf, 8);
	if (n == 8)
		printf("end answer: %.8s\n", buf);
	else
		rc_line("end answer", n, errno);
}

int
main(int argc, char **argv)
{
	const char *sc;
	int fd, lt, et;

	if (argc != 4) {
		fprintf(stderr, "usage: readiness ok|refused|timeout|slow "
			"HOST PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	sc = argv[1];
	dst.sin_family = AF_INET;
	dst.sin_port = htons((unsigned short)atoi(argv[3]));
	if (inet_pton(AF_INET, argv[2], &dst.sin_addr) != 1) {
		fprintf(stderr, "readiness: bad address %s\n", argv[2]);
		return 2;
	}

	fd = mk();
	lt = new_epoll(fd, 0);
	et = new_epoll(fd, EPOLLET);
	do_connect("connect", fd);
	if (strcmp(sc, "timeout") == 0) {
		in_progress(fd, lt, et, 1000);
		return 0;
	}
	if (strcmp(sc, "slow") == 0)
		in_progress(fd, lt, et, 300);
	ended(fd, lt, et, strcmp(sc, "refused") != 0);
	close(fd);
	close(lt);
	close(et);

	/* connect again first, then SO_ERROR; epoll registered after */
	fd = mk();
	do_connect("2: connect", fd);
	do_poll("2: poll", fd, 5000);
	do_connect("2: connect again", fd);
	do_soerror("2: SO_ERROR", fd);
	close(fd);
	return 0;
}
