/*
 * connbench - the client and server side of `make bench`.
 *
 *   connbench serve ADDR PORT BYTES   threaded server: BYTES == 0 answers
 *                                     an HTTP request with a short page,
 *                                     else sends BYTES zeros and closes
 *   connbench seq N ADDR PORT         N x (blocking connect, GET, read to
 *                                     EOF, close); prints "p50_us p95_us"
 *   connbench conc N INFLIGHT ADDR PORT
 *                                     one thread, epoll, non-blocking
 *                                     connects; prints "total_ms ok"
 *   connbench tput ADDR PORT          one connection read to EOF; prints
 *                                     "MBps bytes"
 *   connbench tput5 PROXYPORT ADDR PORT
 *                                     the same through a SOCKS5 proxy on
 *                                     127.0.0.1, handshake done by hand
 *   connbench hooks N                 ns per call: AF_UNIX connect,
 *                                     loopback connect (refused),
 *                                     getaddrinfo("localhost")
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char REQ[] = "GET / HTTP/1.0\r\n\r\n";
static const char PAGE[] = "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello";

static double
now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static struct sockaddr_in
addr_of(const char *a, int port)
{
	struct sockaddr_in s = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port) };

	inet_pton(AF_INET, a, &s.sin_addr);
	return s;
}

static long long serve_bytes;

static void *
serve_one(void *arg)
{
	int fd = (int)(long)arg;
	char buf[65536];
	long long left = serve_bytes;
	ssize_t n;

	if (serve_bytes == 0) {
		n = read(fd, buf, sizeof(buf));
		if (n > 0 && write(fd, PAGE, sizeof(PAGE) - 1) < 0)
			perror("write");
	} else {
		memset(buf, 0, sizeof(buf));
		if (read(fd, buf, sizeof(buf)) < 0)
			perror("read");
		memset(buf, 0, sizeof(buf));
		while (left > 0) {
			n = write(fd, buf, left < (long long)sizeof(buf) ?
				  (size_t)left : sizeof(buf));
			if (n <= 0)
				break;
			left -= n;
		}
	}
	close(fd);
	return NULL;
}

static int
serve(const char *a, int port, long long bytes)
{
	struct sockaddr_in s = addr_of(a, port);
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1, fd;
	pthread_attr_t at;
	pthread_t th;

	serve_bytes = bytes;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&s, sizeof(s)) || listen(ls, 1024)) {
		perror("bind/listen");
		return 1;
	}
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	for (;;) {
		fd = accept(ls, NULL, NULL);
		if (fd >= 0)
			pthread_create(&th, &at, serve_one, (void *)(long)fd);
	}
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
seq(int n, const char *a, int port)
{
	struct sockaddr_in s = addr_of(a, port);
	double *t = calloc((size_t)n, sizeof(double)), t0;
	char buf[512];
	int i, fd;

	for (i = 0; i < n; i++) {
		t0 = now_us();
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&s, sizeof(s)) ||
		    write(fd, REQ, sizeof(REQ) - 1) < 0) {
			perror("connect");
			return 1;
		}
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
		t[i] = now_us() - t0;
	}
	qsort(t, (size_t)n, sizeof(double), cmp);
	printf("%.0f %.0f\n", t[n / 2], t[(n * 95) / 100]);
	return 0;
}

static int
conc(int n, int inflight, const char *a, int port)
{
	struct sockaddr_in s = addr_of(a, port);
	struct epoll_event ev, evs[256];
	int ep = epoll_create1(0), started = 0, done = 0, ok = 0, active = 0;
	int i, k, fd, err;
	socklen_t el;
	char buf[512];
	double t0 = now_us();

	while (done < n) {
		while (active < inflight && started < n) {
			fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
			if (connect(fd, (struct sockaddr *)&s, sizeof(s)) &&
			    errno != EINPROGRESS) {
				close(fd);
				done++;
				started++;
				continue;
			}
			ev.events = EPOLLOUT;
			ev.data.fd = fd;
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
			started++;
			active++;
		}
		k = epoll_wait(ep, evs, 256, 30000);
		if (k <= 0)
			break;
		for (i = 0; i < k; i++) {
			fd = evs[i].data.fd;
			if (evs[i].events & EPOLLOUT) {
				el = sizeof(err);
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
				if (err == 0 &&
				    write(fd, REQ, sizeof(REQ) - 1) > 0) {
					ev.events = EPOLLIN;
					ev.data.fd = fd;
					epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
					continue;
				}
			} else {
				ssize_t r = read(fd, buf, sizeof(buf));

				if (r > 0 || (r < 0 && errno == EAGAIN))
					continue;
				if (r == 0)
					ok++;
			}
			epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
			close(fd);
			active--;
			done++;
		}
	}
	printf("%.0f %d\n", (now_us() - t0) / 1000, ok);
	return ok == n ? 0 : 1;
}

static int
tput(const char *a, int port)
{
	struct sockaddr_in s = addr_of(a, port);
	static char buf[1 << 20];
	long long total = 0;
	double t0 = now_us();
	ssize_t r;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (connect(fd, (struct sockaddr *)&s, sizeof(s)) ||
	    write(fd, REQ, sizeof(REQ) - 1) < 0) {
		perror("connect");
		return 1;
	}
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		total += r;
	printf("%.0f %lld\n", total / (now_us() - t0), total);
	return 0;
}

/* The same transfer through a SOCKS5 proxy with no shim: the handshake
 * done here by hand (no auth, IPv4), then read to EOF. */
static int
tput5(int pport, const char *a, int port)
{
	struct sockaddr_in p = addr_of("127.0.0.1", pport), d = addr_of(a, port);
	static char buf[1 << 20];
	unsigned char req[10] = { 5, 1, 0, 1 };
	long long total = 0;
	double t0 = now_us();
	ssize_t r;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memcpy(req + 4, &d.sin_addr, 4);
	memcpy(req + 8, &d.sin_port, 2);
	if (connect(fd, (struct sockaddr *)&p, sizeof(p)) ||
	    write(fd, "\5\1\0", 3) != 3 || read(fd, buf, 2) != 2 ||
	    write(fd, req, sizeof(req)) != sizeof(req) ||
	    read(fd, buf, 10) != 10 || buf[1] != 0 ||
	    write(fd, REQ, sizeof(REQ) - 1) < 0) {
		perror("socks5");
		return 1;
	}
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		total += r;
	printf("%.0f %lld\n", total / (now_us() - t0), total);
	return 0;
}

static int
hooks(int n)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct sockaddr_in lo = addr_of("127.0.0.1", 1);
	struct addrinfo *r;
	double t0;
	int i, fd = socket(AF_UNIX, SOCK_STREAM, 0), f;

	snprintf(un.sun_path, sizeof(un.sun_path), "/nonexistent/bench");
	t0 = now_us();
	for (i = 0; i < n; i++)
		connect(fd, (struct sockaddr *)&un, sizeof(un));
	printf("%.1f ", (now_us() - t0) * 1000 / n);
	f = socket(AF_INET, SOCK_STREAM, 0);
	t0 = now_us();
	for (i = 0; i < n / 10; i++)
		connect(f, (struct sockaddr *)&lo, sizeof(lo));
	printf("%.1f ", (now_us() - t0) * 1000 / (n / 10));
	t0 = now_us();
	for (i = 0; i < n / 100; i++)
		if (getaddrinfo("localhost", "80", NULL, &r) == 0)
			freeaddrinfo(r);
	printf("%.1f\n", (now_us() - t0) * 1000 / (n / 100));
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "serve"))
		return serve(argv[2], atoi(argv[3]), atoll(argv[4]));
	if (argc >= 5 && !strcmp(argv[1], "seq"))
		return seq(atoi(argv[2]), argv[3], atoi(argv[4]));
	if (argc >= 6 && !strcmp(argv[1], "conc"))
		return conc(atoi(argv[2]), atoi(argv[3]), argv[4],
			    atoi(argv[5]));
	if (argc >= 4 && !strcmp(argv[1], "tput"))
		return tput(argv[2], atoi(argv[3]));
	if (argc >= 5 && !strcmp(argv[1], "tput5"))
		return tput5(atoi(argv[2]), argv[3], atoi(argv[4]));
	if (argc >= 3 && !strcmp(argv[1], "hooks"))
		return hooks(atoi(argv[2]));
	fprintf(stderr, "usage: see the comment at the top of connbench.c\n");
	return 2;
}
