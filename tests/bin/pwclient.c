/*
 * pwclient.c - a small HTTP client for the integration tests, in C so it
 * runs fast under valgrind and can be linked statically.
 *
 *   pwclient get HOST PORT PATH        connect(), GET, print the status line
 *   pwclient raw HOST PORT PATH        the same through syscall(SYS_connect)
 *   pwclient tfo HOST PORT PATH        sendto(MSG_FASTOPEN) instead of connect
 *   pwclient threads N HOST PORT PATH  N threads at once; "ok K/N"
 *   pwclient sig restart|norestart HOST PORT
 *                                      SIGALRM after 300 ms during connect(),
 *                                      then GET / if connected
 *   pwclient fds HOST PORT PATH        non-blocking connect (starts the
 *                                      shim's helper), then close_range and
 *                                      dup2 over every fd 3..1023, then GET
 *   pwclient udp HOST PORT WORD        UDP to an echo: sendto/recvfrom, a
 *                                      connected socket, 4 datagrams from a
 *                                      non-blocking socket with epoll, a
 *                                      dup'ed socket, a receiver waiting in
 *                                      recvmsg before the first datagram;
 *                                      "udp ok"
 * Exit: 0 on HTTP 200 (udp: every echo back), 3 with "ERRNO NAME" on a failed call, 1 otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

static struct sockaddr_in dst;
static const char *path;

static int
fail(const char *what, int e)
{
	printf("ERRNO %s\n", strerrorname_np(e) ? strerrorname_np(e) : "?");
	fprintf(stderr, "pwclient: %s: %s\n", what, strerror(e));
	return 3;
}

/* Send GET, read the answer; 0 when the status is 200. */
static int
http(int fd, int sent)
{
	char req[512], buf[4096];
	size_t have = 0;
	ssize_t r;
	int n;

	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: t\r\n\r\n",
		     path);
	if (!sent && write(fd, req, (size_t)n) != n)
		return fail("write", errno);
	while (have < sizeof(buf) - 1) {
		r = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		have += (size_t)r;
	}
	buf[have] = '\0';
	if (strchr(buf, '\r') != NULL)
		*strchr(buf, '\r') = '\0';
	printf("%s\n", buf);
	return strncmp(buf, "HTTP/1.1 200", 12) == 0 ||
	       strncmp(buf, "HTTP/1.0 200", 12) == 0 ? 0 : 1;
}

static int
get(int raw)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	if (raw)
		rc = (int)syscall(SYS_connect, fd, &dst, sizeof(dst));
	else
		rc = connect(fd, (struct sockaddr *)&dst, sizeof(dst));
	if (rc == -1)
		return fail("connect", errno);
	rc = http(fd, 0);
	close(fd);
	return rc;
}

static int
tfo(void)
{
	char req[512];
	int fd = socket(AF_INET, SOCK_STREAM, 0), n, rc;

	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: t\r\n\r\n",
		     path);
	if (sendto(fd, req, (size_t)n, MSG_FASTOPEN, (struct sockaddr *)&dst,
		   sizeof(dst)) != n)
		return fail("sendto", errno);
	rc = http(fd, 1);
	close(fd);
	return rc;
}

static void *
worker(void *arg)
{
	(void)arg;
	return (void *)(long)get(0);
}

static int
threads(int n)
{
	pthread_t th[256];
	int i, ok = 0;
	void *rv;

	if (n > 256)
		n = 256;
	for (i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, worker, NULL) != 0)
			return fail("pthread_create", EAGAIN);
	for (i = 0; i < n; i++) {
		pthread_join(th[i], &rv);
		ok += rv == NULL;
	}
	printf("ok %d/%d\n", ok, n);
	return ok == n ? 0 : 1;
}

static volatile sig_atomic_t fired;

static void
on_alarm(int sig)
{
	(void)sig;
	fired = 1;
}

/*
 * A signal arrives during the handshake.  With SA_RESTART connect() goes
 * on and succeeds; without, it fails with EINTR and the socket must not
 * look connected (getpeername fails, a write fails).
 */
static int
sig(int restart)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { 0, 300000 } };
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc, e;

	sa.sa_flags = restart ? SA_RESTART : 0;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	rc = connect(fd, (struct sockaddr *)&dst, sizeof(dst));
	e = errno;
	printf("fired %d\n", (int)fired);
	if (rc == 0) {
		printf("connected\n");
		return http(fd, 0);
	}
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0)
		printf("HALF-MADE: getpeername succeeds\n");
	signal(SIGPIPE, SIG_IGN);
	if (write(fd, "x", 1) == 1)
		printf("HALF-MADE: write succeeds\n");
	return fail("connect", e);
}

static int
fds(void)
{
	int fd, devnull, i, rc;
	struct pollfd p;

	/* a non-blocking connect starts the shim's helper (and its fd) */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	rc = connect(fd, (struct sockaddr *)&dst, sizeof(dst));
	if (rc == -1 && errno != EINPROGRESS)
		return fail("connect (non-blocking)", errno);
	p.fd = fd;
	p.events = POLLOUT;
	poll(&p, 1, 5000);
	close(fd);
	/* what daemons do: close everything, then fill fds */
	if (close_range(3, ~0U, 0) == -1)
		return fail("close_range", errno);
	devnull = open("/dev/null", O_RDONLY);
	for (i = 3; i < 1024; i++)
		if (i != devnull)
			dup2(devnull, i);
	for (i = 3; i < 1024; i++)
		if (i != devnull)
			close(i);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	rc = connect(fd, (struct sockaddr *)&dst, sizeof(dst));
	if (rc == -1 && errno != EINPROGRESS)
		return fail("connect after close_range", errno);
	p.fd = fd;
	p.events = POLLOUT;
	if (poll(&p, 1, 10000) != 1)
		return fail("poll", ETIMEDOUT);
	fcntl(fd, F_SETFL, 0);
	return http(fd, 0);
}

/* One echo of want on fd within 5 s, from dst when from is set. */
static int
udp_echo(int fd, const char *want, int from)
{
	struct sockaddr_in src;
	socklen_t sl = sizeof(src);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[256];
	ssize_t r;

	if (poll(&p, 1, 5000) != 1)
		return fail("udp: no echo", ETIMEDOUT);
	r = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&src, &sl);
	if (r < 0)
		return fail("recvfrom", errno);
	buf[r] = '\0';
	if (strncmp(buf, "echo ", 5) != 0 || strcmp(buf + 5, want) != 0 ||
	    (from && (src.sin_addr.s_addr != dst.sin_addr.s_addr ||
		      src.sin_port != dst.sin_port))) {
		printf("udp: unexpected %s\n", buf);
		return 1;
	}
	return 0;
}

/* A receiver already in recvmsg (two buffers, no address asked for)
 * before the socket's first datagram opens the association. */
static char late_got[128];

static void *
late_receiver(void *arg)
{
	int fd = *(int *)arg;
	char a[8], b[sizeof(late_got) - 8];
	struct iovec v[2] = { { a, sizeof(a) }, { b, sizeof(b) - 1 } };
	struct msghdr m = { .msg_iov = v, .msg_iovlen = 2 };
	ssize_t r = recvmsg(fd, &m, 0);

	if (r > 0) {
		memcpy(late_got, a, (size_t)r < sizeof(a) ? (size_t)r : sizeof(a));
		if ((size_t)r > sizeof(a))
			memcpy(late_got + sizeof(a), b, (size_t)r - sizeof(a));
	}
	return NULL;
}

static int
udp_late(void)
{
	struct sockaddr_in any = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 5 };
	char want[128];
	pthread_t t;
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	bind(fd, (struct sockaddr *)&any, sizeof(any));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	pthread_create(&t, NULL, late_receiver, &fd);
	usleep(300000);
	if (sendto(fd, path, strlen(path), 0, (struct sockaddr *)&dst,
		   sizeof(dst)) < 0)
		return fail("sendto before recvmsg returns", errno);
	pthread_join(t, NULL);
	close(fd);
	snprintf(want, sizeof(want), "echo %s", path);
	if (strcmp(late_got, want) != 0) {
		printf("udp: the waiting receiver got '%s'\n", late_got);
		return 1;
	}
	return 0;
}

static int
udp(void)
{
	struct epoll_event ev = { .events = EPOLLIN }, out;
	struct sockaddr_in peer;
	socklen_t pl = sizeof(peer);
	char word[4][64];
	int fd, ep, i, rc, got, d;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (sendto(fd, path, strlen(path), 0, (struct sockaddr *)&dst,
		   sizeof(dst)) < 0)
		return fail("sendto", errno);
	if ((rc = udp_echo(fd, path, 1)) != 0)
		return rc;
	/* the copy keeps the association; the original goes */
	d = dup(fd);
	close(fd);
	if (sendto(d, path, strlen(path), 0, (struct sockaddr *)&dst,
		   sizeof(dst)) < 0)
		return fail("sendto on a dup", errno);
	if ((rc = udp_echo(d, path, 1)) != 0)
		return rc;
	close(d);

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0)
		return fail("udp connect", errno);
	if (getpeername(fd, (struct sockaddr *)&peer, &pl) < 0 ||
	    peer.sin_addr.s_addr != dst.sin_addr.s_addr)
		return fail("getpeername", errno ? errno : EINVAL);
	if (send(fd, path, strlen(path), 0) < 0)
		return fail("send", errno);
	if ((rc = udp_echo(fd, path, 1)) != 0)
		return rc;
	close(fd);

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ep = epoll_create1(0);
	ev.data.fd = fd;
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	for (i = 0; i < 4; i++) {
		snprintf(word[i], sizeof(word[i]), "%s-nb%d", path, i);
		if (sendto(fd, word[i], strlen(word[i]), 0,
			   (struct sockaddr *)&dst, sizeof(dst)) < 0)
			return fail("non-blocking sendto", errno);
	}
	for (got = 0; got < 4 && epoll_wait(ep, &out, 1, 5000) == 1;) {
		char buf[128];

		while (recv(fd, buf, sizeof(buf), 0) > 0)
			got++;
	}
	close(ep);
	close(fd);
	if (got != 4) {
		printf("udp: %d of 4 echoes\n", got);
		return 1;
	}
	if ((rc = udp_late()) != 0)
		return rc;
	printf("udp ok\n");
	return 0;
}

int
main(int argc, char **argv)
{
	int i = 2;

	if (argc < 4)
		return 2;
	if (strcmp(argv[1], "threads") == 0 || strcmp(argv[1], "sig") == 0)
		i = 3;
	if (argc < i + 2)
		return 2;
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)atoi(argv[i + 1]));
	if (inet_pton(AF_INET, argv[i], &dst.sin_addr) != 1)
		return 2;
	path = argc > i + 2 ? argv[i + 2] : "/";
	setvbuf(stdout, NULL, _IONBF, 0);
	if (strcmp(argv[1], "get") == 0)
		return get(0);
	if (strcmp(argv[1], "raw") == 0)
		return get(1);
	if (strcmp(argv[1], "tfo") == 0)
		return tfo();
	if (strcmp(argv[1], "threads") == 0)
		return threads(atoi(argv[2]));
	if (strcmp(argv[1], "sig") == 0)
		return sig(strcmp(argv[2], "restart") == 0);
	if (strcmp(argv[1], "fds") == 0)
		return fds();
	if (strcmp(argv[1], "udp") == 0)
		return udp();
	return 2;
}
