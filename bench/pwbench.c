/*
 * pwbench.c - client, server and timing loops of bench/bench.sh.
 *
 *   pwbench serve ADDR PORT            threaded server: "GET /N" answers N
 *                                      zero bytes (N = 0: a short page);
 *                                      counts connections per source
 *   pwbench lat ADDR PORT N [-x URL]   N sequential connect + GET + read to
 *                                      EOF + close; percentiles in µs (and
 *                                      the median until the first byte)
 *   pwbench latsf ADDR PORT N          the same, the GET sent by sendfile()
 *                                      from a file (optimistic.sh: what an
 *                                      optimistic tfo=on tunnel does when
 *                                      the first bytes are not a write's)
 *   pwbench conc ADDR PORT N INFLIGHT  one thread, non-blocking connects,
 *                                      epoll; total ms
 *   pwbench count ADDR PORT K          how many connections the server took
 *                                      from 127.0.0.K
 *   pwbench get ADDR PORT BYTES [-x URL]
 *                                      one transfer of BYTES; MB/s
 *   pwbench hook unix|tcp|gai N        ns per call (see hook())
 *   pwbench hook poll|select|epoll N   ns per call (see hook_ready())
 *   pwbench spawn N [VAR=VAL...] -- PROG [ARG...]
 *                                      µs per posix_spawn + wait
 *   pwbench udpecho ADDR PORT          UDP echo; counts datagrams per source
 *   pwbench udpcount ADDR PORT K       how many came from 127.0.0.K
 *   pwbench udplat ADDR PORT N [-x socks5://...]
 *                                      N ping-pong round trips of 64 bytes
 *                                      (with -x: our own UDP ASSOCIATE);
 *                                      percentiles in µs, round trips/s
 *                                      (PWBENCH_COUNT=1: no percentiles, for
 *                                      callgrind: sorting the times costs
 *                                      instructions that depend on them)
 *   pwbench udpburst ADDR PORT N W [-x socks5://...]
 *                                      N datagrams of 64 bytes, W in flight
 *                                      (a new one per echo); echoes/s, lost
 *
 * -x socks5://[user:pass@]127.0.0.1:P or http://127.0.0.1:P: the client
 * speaks the proxy protocol itself (the "no shim" baseline), one message
 * at a time as a plain client would.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXN 100000

struct xproxy {
	int socks;			/* 1 SOCKS5, 0 HTTP CONNECT */
	char user[64], pass[64];
	struct sockaddr_in sa;
};

static double
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int
addr_of(const char *a, const char *port, struct sockaddr_in *s)
{
	memset(s, 0, sizeof(*s));
	s->sin_family = AF_INET;
	s->sin_port = htons((uint16_t)strtoul(port, NULL, 10));
	return inet_pton(AF_INET, a, &s->sin_addr) == 1 ? 0 : -1;
}

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
read_exact(int fd, void *p, size_t n)
{
	char *c = p;
	ssize_t r;

	while (n > 0) {
		r = read(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/* ---- server ---- */

/* Connections accepted per source address 127.0.0.K ("GET /count/K"). */
static unsigned long counts[256];

static void *
serve_one(void *arg)
{
	static const char page[] = "HTTP/1.0 200 OK\r\nContent-Length: 6\r\n"
				   "\r\nhello\n";
	static char zeros[256 * 1024];
	int fd = (int)(intptr_t)arg;
	char req[4096], hdr[128];
	unsigned long long want, left;
	size_t got = 0;
	ssize_t r;
	int n;

	while (got < sizeof(req) - 1) {
		r = read(fd, req + got, sizeof(req) - 1 - got);
		if (r <= 0)
			goto out;
		got += (size_t)r;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	if (strncmp(req, "GET /count/", 11) == 0) {
		want = strtoull(req + 11, NULL, 10) & 255;
		n = snprintf(hdr, sizeof(hdr), "%lu\n",
			     __atomic_load_n(&counts[want], __ATOMIC_RELAXED));
		(void)write_all(fd, hdr, (size_t)n);
		goto out;
	}
	want = strncmp(req, "GET /", 5) == 0 ? strtoull(req + 5, NULL, 10) : 0;
	if (want == 0) {
		(void)write_all(fd, page, sizeof(page) - 1);
		goto out;
	}
	n = snprintf(hdr, sizeof(hdr), "HTTP/1.0 200 OK\r\nContent-Length: "
		     "%llu\r\n\r\n", want);
	if (write_all(fd, hdr, (size_t)n) < 0)
		goto out;
	for (left = want; left > 0;) {
		size_t k = left < sizeof(zeros) ? (size_t)left : sizeof(zeros);

		if (write_all(fd, zeros, k) < 0)
			break;
		left -= k;
	}
out:
	close(fd);
	return NULL;
}

static int
serve(const struct sockaddr_in *sa)
{
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, fd;
	pthread_attr_t at;
	pthread_t th;

	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ||
	    listen(ls, 4096) < 0) {
		perror("pwbench serve");
		return 1;
	}
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 512 * 1024);
	for (;;) {
		struct sockaddr_in peer;
		socklen_t pl = sizeof(peer);

		fd = accept4(ls, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		__atomic_fetch_add(&counts[ntohl(peer.sin_addr.s_addr) & 255], 1,
				   __ATOMIC_RELAXED);
		if (pthread_create(&th, &at, serve_one, (void *)(intptr_t)fd))
			close(fd);
	}
}

/* ---- the client's own proxy handshake (baseline without a shim) ---- */

static int
xproxy_parse(const char *url, struct xproxy *x)
{
	char host[64], port[8];
	const char *p, *at, *col;

	memset(x, 0, sizeof(*x));
	if (strncmp(url, "socks5://", 9) == 0) {
		x->socks = 1;
		p = url + 9;
	} else if (strncmp(url, "http://", 7) == 0) {
		p = url + 7;
	} else {
		return -1;
	}
	at = strchr(p, '@');
	if (at != NULL) {
		col = memchr(p, ':', (size_t)(at - p));
		if (col == NULL || col - p >= 64 || at - col - 1 >= 64)
			return -1;
		memcpy(x->user, p, (size_t)(col - p));
		memcpy(x->pass, col + 1, (size_t)(at - col - 1));
		p = at + 1;
	}
	col = strchr(p, ':');
	if (col == NULL || col - p >= 64 || strlen(col + 1) >= sizeof(port))
		return -1;
	memcpy(host, p, (size_t)(col - p));
	host[col - p] = '\0';
	strcpy(port, col + 1);
	return addr_of(host, port, &x->sa);
}

/* Greeting, auth, then request CMD for D (1 CONNECT, 3 UDP ASSOCIATE);
 * *bnd gets the reply's address when given. */
static int
socks5_request(int fd, const struct xproxy *x, int cmd,
	       const struct sockaddr_in *d, struct sockaddr_in *bnd)
{
	uint8_t b[520];
	size_t ul = strlen(x->user), pl = strlen(x->pass);

	b[0] = 5;
	b[1] = 1;
	b[2] = ul ? 2 : 0;
	if (write_all(fd, b, 3) < 0 || read_exact(fd, b, 2) < 0 ||
	    b[1] != (ul ? 2 : 0))
		return -1;
	if (ul) {
		b[0] = 1;
		b[1] = (uint8_t)ul;
		memcpy(b + 2, x->user, ul);
		b[2 + ul] = (uint8_t)pl;
		memcpy(b + 3 + ul, x->pass, pl);
		if (write_all(fd, b, 3 + ul + pl) < 0 ||
		    read_exact(fd, b, 2) < 0 || b[1] != 0)
			return -1;
	}
	b[0] = 5;
	b[1] = (uint8_t)cmd;
	b[2] = 0;
	b[3] = 1;
	memcpy(b + 4, &d->sin_addr, 4);
	memcpy(b + 8, &d->sin_port, 2);
	if (write_all(fd, b, 10) < 0 || read_exact(fd, b, 10) < 0 ||
	    b[1] != 0 || b[3] != 1)
		return -1;
	if (bnd != NULL) {
		memset(bnd, 0, sizeof(*bnd));
		bnd->sin_family = AF_INET;
		memcpy(&bnd->sin_addr, b + 4, 4);
		memcpy(&bnd->sin_port, b + 8, 2);
	}
	return 0;
}

static int
http_handshake(int fd, const struct sockaddr_in *d)
{
	char a[INET_ADDRSTRLEN], req[128], c;
	unsigned int state = 0, n;
	int len;

	inet_ntop(AF_INET, &d->sin_addr, a, sizeof(a));
	len = snprintf(req, sizeof(req), "CONNECT %s:%u HTTP/1.1\r\nHost: "
		       "%s:%u\r\n\r\n", a, ntohs(d->sin_port), a,
		       ntohs(d->sin_port));
	if (write_all(fd, req, (size_t)len) < 0 || read_exact(fd, req, 12) < 0 ||
	    strncmp(req + 8, " 200", 4) != 0)
		return -1;
	/* Byte by byte up to the blank line: not one byte of the tunnel. */
	for (n = 0; state < 4 && n < 8192; n++) {
		if (read_exact(fd, &c, 1) < 0)
			return -1;
		state = (c == (state % 2 ? '\n' : '\r')) ? state + 1 :
			(c == '\r' ? 1 : 0);
	}
	return state == 4 ? 0 : -1;
}

/* Connect to D, through X when given; returns the fd or -1. */
static int
open_conn(const struct sockaddr_in *d, const struct xproxy *x)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (x == NULL) {
		if (connect(fd, (const struct sockaddr *)d, sizeof(*d)) == 0)
			return fd;
	} else if (connect(fd, (const struct sockaddr *)&x->sa,
			   sizeof(x->sa)) == 0 &&
		   (x->socks ? socks5_request(fd, x, 1, d, NULL) :
		    http_handshake(fd, d)) == 0) {
		return fd;
	}
	close(fd);
	return -1;
}

/* ---- measurements ---- */

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(double *v, int n, int p)
{
	int i = (n * p + 99) / 100 - 1;

	return v[i < 0 ? 0 : i];
}

/* latsf: the request from this file, by sendfile(); -1 for a write. */
static int lat_file = -1;

static int
send_req(int fd, const char *req, size_t n)
{
	off_t off = 0;

	if (lat_file < 0)
		return write_all(fd, req, n);
	while ((size_t)off < n)
		if (sendfile(fd, lat_file, &off, n - (size_t)off) <= 0)
			return -1;
	return 0;
}

static int
lat(const struct sockaddr_in *d, int n, const struct xproxy *x)
{
	static const char req[] = "GET /0 HTTP/1.0\r\n\r\n";
	double *tot = calloc((size_t)n, sizeof(double));
	double *con = calloc((size_t)n, sizeof(double));
	double *fst = calloc((size_t)n, sizeof(double));
	double t0, t1, tf;
	char buf[512];
	int i, fd, fail = 0;
	ssize_t r;

	if (tot == NULL || con == NULL || fst == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		t0 = now_ns();
		fd = open_conn(d, x);
		t1 = now_ns();
		if (fd < 0 || send_req(fd, req, sizeof(req) - 1) < 0) {
			fail++;
			if (fd >= 0)
				close(fd);
			continue;
		}
		tf = 0;
		while ((r = read(fd, buf, sizeof(buf))) > 0)
			if (tf == 0)
				tf = now_ns();
		close(fd);
		fst[i - fail] = (tf - t0) / 1e3;
		con[i - fail] = (t1 - t0) / 1e3;
		tot[i - fail] = (now_ns() - t0) / 1e3;
	}
	n -= fail;
	if (n <= 0) {
		printf("fail=%d\n", fail);
		return 1;
	}
	qsort(tot, (size_t)n, sizeof(double), cmp_d);
	qsort(con, (size_t)n, sizeof(double), cmp_d);
	qsort(fst, (size_t)n, sizeof(double), cmp_d);
	printf("p50=%.0f p95=%.0f conn_p50=%.0f conn_p95=%.0f first_p50=%.0f "
	       "fail=%d\n", pct(tot, n, 50), pct(tot, n, 95), pct(con, n, 50),
	       pct(con, n, 95), pct(fst, n, 50), fail);
	return fail != 0;
}

struct cstate {
	int fd;
	int reading;
};

static int
conc(const struct sockaddr_in *d, int n, int inflight)
{
	static const char req[] = "GET /0 HTTP/1.0\r\n\r\n";
	struct epoll_event ev, evs[256];
	int ep = epoll_create1(EPOLL_CLOEXEC), started = 0, done = 0, ok = 0;
	int active = 0, i, k, fd, err;
	double t0 = now_ns(), deadline = t0 + 600e9;
	socklen_t el;
	char buf[512];
	ssize_t r;

	while (done < n && now_ns() < deadline) {
		while (active < inflight && started < n) {
			started++;
			fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
				    SOCK_CLOEXEC, 0);
			if (fd < 0 || (connect(fd, (const struct sockaddr *)d,
					       sizeof(*d)) < 0 &&
				       errno != EINPROGRESS)) {
				if (fd >= 0)
					close(fd);
				done++;
				continue;
			}
			ev.events = EPOLLOUT;
			ev.data.fd = fd;
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
			active++;
		}
		k = epoll_wait(ep, evs, 256, 30000);
		if (k <= 0)
			break;
		for (i = 0; i < k; i++) {
			fd = evs[i].data.fd;
			if (!(evs[i].events & EPOLLIN) &&
			    (evs[i].events & EPOLLOUT)) {
				el = sizeof(err);
				err = 1;
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
				if (err == 0 && write(fd, req, sizeof(req) - 1) ==
				    (ssize_t)sizeof(req) - 1) {
					ev.events = EPOLLIN;
					ev.data.fd = fd;
					epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
					continue;
				}
			} else {
				while ((r = read(fd, buf, sizeof(buf))) > 0)
					;
				if (r < 0 && errno == EAGAIN)
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
	printf("total_ms=%.0f ok=%d fail=%d\n", (now_ns() - t0) / 1e6, ok,
	       n - ok);
	return ok != n;
}

static int
get(const struct sockaddr_in *d, unsigned long long bytes,
    const struct xproxy *x)
{
	static char buf[256 * 1024];
	unsigned long long total = 0;
	char req[64];
	double t0 = now_ns(), s;
	ssize_t r;
	int fd = open_conn(d, x), n;

	n = snprintf(req, sizeof(req), "GET /%llu HTTP/1.0\r\n\r\n", bytes);
	if (fd < 0 || write_all(fd, req, (size_t)n) < 0) {
		fprintf(stderr, "pwbench get: connect failed\n");
		return 1;
	}
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		total += (unsigned long long)r;
	close(fd);
	s = (now_ns() - t0) / 1e9;
	/* The body only: the server's header is known. */
	n = snprintf(req, sizeof(req), "HTTP/1.0 200 OK\r\nContent-Length: "
		     "%llu\r\n\r\n", bytes);
	total = total > (unsigned long long)n ? total - (unsigned long long)n : 0;
	printf("bytes=%llu secs=%.3f mbps=%.0f\n", total, s,
	       (double)total / s / 1e6);
	return total != bytes;
}

/* How many connections (TCP: the web server) or datagrams (UDP: the
 * echo) the server took from 127.0.0.K. */
static int
count(const struct sockaddr_in *d, const char *k, int udp)
{
	struct timeval tv = { .tv_sec = 2 };
	char buf[64];
	int fd, n;
	ssize_t r;

	if (udp) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		n = snprintf(buf, sizeof(buf), "count %s", k);
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
					 sizeof(tv)) < 0 ||
		    sendto(fd, buf, (size_t)n, 0, (const struct sockaddr *)d,
			   sizeof(*d)) < 0)
			return 1;
	} else {
		fd = open_conn(d, NULL);
		n = snprintf(buf, sizeof(buf), "GET /count/%s HTTP/1.0\r\n\r\n",
			     k);
		if (fd < 0 || write_all(fd, buf, (size_t)n) < 0)
			return 1;
	}
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return 1;
	buf[r] = '\0';
	fputs(buf, stdout);
	return 0;
}

/*
 * unix: connect() of an AF_UNIX datagram socket to a bound one, again and
 *       again (each call a full connect in the kernel);
 * tcp:  connect() of a fresh TCP socket to a loopback listener (the
 *       connect call alone is timed; accept and an abortive close follow);
 * gai:  getaddrinfo("localhost", "80") + freeaddrinfo.
 * Prints the median of 5 rounds, ns per call.
 */
static int
hook(const char *what, int n)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct sockaddr_in lo;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	struct linger lg = { 1, 0 };
	double rounds[5], t0, sum;
	int round, i, a = -1, b = -1, fd;
	socklen_t sl = sizeof(lo);

	if (strcmp(what, "unix") == 0) {
		snprintf(un.sun_path, sizeof(un.sun_path), "/tmp/pwbench.%d",
			 (int)getpid());
		unlink(un.sun_path);
		a = socket(AF_UNIX, SOCK_DGRAM, 0);
		b = socket(AF_UNIX, SOCK_DGRAM, 0);
		if (bind(a, (struct sockaddr *)&un, sizeof(un)) < 0)
			return 1;
	} else if (strcmp(what, "tcp") == 0) {
		addr_of("127.0.0.1", "0", &lo);
		a = socket(AF_INET, SOCK_STREAM, 0);
		if (bind(a, (struct sockaddr *)&lo, sizeof(lo)) < 0 ||
		    listen(a, 128) < 0 ||
		    getsockname(a, (struct sockaddr *)&lo, &sl) < 0)
			return 1;
	}
	for (round = 0; round < 5; round++) {
		sum = 0;
		t0 = now_ns();
		for (i = 0; i < n; i++) {
			if (what[0] == 'u') {
				connect(b, (struct sockaddr *)&un, sizeof(un));
			} else if (what[0] == 't') {
				fd = socket(AF_INET, SOCK_STREAM, 0);
				t0 = now_ns();
				if (connect(fd, (struct sockaddr *)&lo,
					    sizeof(lo)) < 0)
					return 1;
				sum += now_ns() - t0;
				setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg,
					   sizeof(lg));
				close(accept(a, NULL, NULL));
				close(fd);
			} else if (getaddrinfo("localhost", "80", &hints,
					       &res) == 0) {
				freeaddrinfo(res);
			}
		}
		rounds[round] = (what[0] == 't' ? sum : now_ns() - t0) / n;
	}
	if (what[0] == 'u')
		unlink(un.sun_path);
	qsort(rounds, 5, sizeof(double), cmp_d);
	printf("ns=%.1f\n", rounds[2]);
	return 0;
}

/*
 * The readiness calls on an fd that is not a pending tunnel (a pipe with
 * a byte in it, so every call returns at once):
 * poll:   poll(fd, 0 ms);  select: select(fd, 0 ms);
 * epoll:  epoll_wait(0 ms) on a set holding fd.
 * With PWBENCH_PENDING=ADDR:PORT, a non-blocking connect to it is left
 * pending first (the rule file routes it to a proxy that never answers),
 * so the calls pay what a process with a pending tunnel pays.  That
 * process has the shim's helper thread, and glibc's wrappers cost more in
 * a process with threads: PWBENCH_THREAD=1 starts an idle thread, the
 * baseline to compare with.
 * Prints the median of 5 rounds, ns per call.
 */
static void *
idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static int
hook_ready(const char *what, int n)
{
	const char *pend = getenv("PWBENCH_PENDING");
	struct epoll_event ev = { .events = EPOLLIN };
	struct pollfd p;
	double rounds[5], t0;
	int round, i, pfd[2], ep, s;
	struct timeval tv;
	fd_set r;

	if (pend != NULL) {
		struct sockaddr_in a;
		char host[64], *c;

		snprintf(host, sizeof(host), "%s", pend);
		c = strrchr(host, ':');
		if (c == NULL)
			return 1;
		*c = '\0';
		addr_of(host, c + 1, &a);
		s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0 ||
		    errno != EINPROGRESS)
			return 1;
	}
	if (getenv("PWBENCH_THREAD") != NULL) {
		pthread_t th;

		if (pthread_create(&th, NULL, idle, NULL) != 0)
			return 1;
	}
	if (pipe(pfd) < 0 || write(pfd[1], "x", 1) != 1)
		return 1;
	ep = epoll_create1(0);
	ev.data.fd = pfd[0];
	if (epoll_ctl(ep, EPOLL_CTL_ADD, pfd[0], &ev) < 0)
		return 1;
	for (round = 0; round < 5; round++) {
		t0 = now_ns();
		for (i = 0; i < n; i++) {
			if (what[0] == 'p') {
				p.fd = pfd[0];
				p.events = POLLIN;
				if (poll(&p, 1, 0) != 1)
					return 1;
			} else if (what[0] == 's') {
				FD_ZERO(&r);
				FD_SET(pfd[0], &r);
				tv.tv_sec = tv.tv_usec = 0;
				if (select(pfd[0] + 1, &r, NULL, NULL, &tv) != 1)
					return 1;
			} else if (epoll_wait(ep, &ev, 1, 0) != 1) {
				return 1;
			}
		}
		rounds[round] = (now_ns() - t0) / n;
	}
	qsort(rounds, 5, sizeof(double), cmp_d);
	printf("ns=%.1f\n", rounds[2]);
	return 0;
}

extern char **environ;

static int
spawn(int n, int argc, char **argv)
{
	char *envp[64];
	int i, k = 0, st;
	double t0;
	pid_t pid;

	for (i = 0; environ[i] != NULL && k < 32; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
			envp[k++] = environ[i];
	for (i = 0; i < argc && strcmp(argv[i], "--") != 0 && k < 63; i++)
		envp[k++] = argv[i];
	envp[k] = NULL;
	if (i >= argc - 1)
		return 2;
	argv += i + 1;
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		if (posix_spawn(&pid, argv[0], NULL, NULL, argv, envp) != 0 ||
		    waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0) {
			fprintf(stderr, "pwbench spawn: %s failed\n", argv[0]);
			return 1;
		}
	}
	printf("us=%.1f\n", (now_ns() - t0) / n / 1e3);
	return 0;
}

/* ---- UDP ---- */

#define UDP_PAYLOAD 64

static unsigned long udp_seen[256];	/* datagrams from 127.0.0.K */

/* Echo every datagram; "count K" answers how many came from 127.0.0.K. */
static int
udpecho(const struct sockaddr_in *sa)
{
	static uint8_t b[65536];
	struct sockaddr_in from;
	socklen_t fl;
	char out[32];
	ssize_t r;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), n;

	if (fd < 0 || bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		perror("pwbench udpecho");
		return 1;
	}
	for (;;) {
		fl = sizeof(from);
		r = recvfrom(fd, b, sizeof(b) - 1, 0, (struct sockaddr *)&from,
			     &fl);
		if (r < 0)
			continue;
		if (r > 6 && memcmp(b, "count ", 6) == 0) {
			b[r] = '\0';
			n = snprintf(out, sizeof(out), "%lu\n",
				     udp_seen[atoi((char *)b + 6) & 255]);
			sendto(fd, out, (size_t)n, 0, (struct sockaddr *)&from,
			       fl);
			continue;
		}
		udp_seen[ntohl(from.sin_addr.s_addr) & 255]++;
		sendto(fd, b, (size_t)r, 0, (struct sockaddr *)&from, fl);
	}
}

/*
 * A UDP socket bound on 127.0.0.1 aimed at D: directly, or (X given)
 * through X's UDP relay after our own UDP ASSOCIATE, with the 10-byte
 * header in *hdr.  Returns the fd; *to is where datagrams go.
 */
static int
udp_open(const struct sockaddr_in *d, const struct xproxy *x,
	 struct sockaddr_in *to, uint8_t hdr[10], size_t *hl, int *ctrl)
{
	struct sockaddr_in me = { .sin_family = AF_INET };
	socklen_t ml = sizeof(me);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	*ctrl = -1;
	*hl = 0;
	*to = *d;
	inet_pton(AF_INET, "127.0.0.1", &me.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&me, &ml) < 0)
		return -1;
	if (x == NULL)
		return fd;
	*ctrl = socket(AF_INET, SOCK_STREAM, 0);
	me.sin_addr.s_addr = 0;
	if (*ctrl < 0 || connect(*ctrl, (const struct sockaddr *)&x->sa,
				 sizeof(x->sa)) < 0 ||
	    socks5_request(*ctrl, x, 3, &me, to) < 0)
		return -1;
	if (to->sin_addr.s_addr == 0)
		to->sin_addr = x->sa.sin_addr;
	memcpy(hdr, "\0\0\0\1", 4);
	memcpy(hdr + 4, &d->sin_addr, 4);
	memcpy(hdr + 8, &d->sin_port, 2);
	*hl = 10;
	return fd;
}

/* One datagram (header + payload) to `to`. */
static ssize_t
udp_out(int fd, const struct sockaddr_in *to, const uint8_t *hdr, size_t hl,
	uint8_t *payload)
{
	struct iovec v[2] = { { (void *)hdr, hl }, { payload, UDP_PAYLOAD } };
	struct msghdr m = { .msg_name = (void *)to, .msg_namelen = sizeof(*to),
			    .msg_iov = v, .msg_iovlen = 2 };

	return sendmsg(fd, &m, 0);
}

/* N ping-pong round trips of 64-byte datagrams; µs percentiles, rate. */
static int
udplat(const struct sockaddr_in *d, int n, const struct xproxy *x)
{
	struct timeval tv = { .tv_sec = 1 };
	struct sockaddr_in to;
	uint8_t hdr[10], payload[UDP_PAYLOAD], in[512];
	double *v = calloc((size_t)n, sizeof(double)), t0, start;
	size_t hl;
	int i, fd, ctrl, fail = 0;
	ssize_t r;

	fd = udp_open(d, x, &to, hdr, &hl, &ctrl);
	if (fd < 0 || v == NULL) {
		printf("fail=%d\n", n);
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(payload, 'u', sizeof(payload));
	start = now_ns();
	for (i = 0; i < n; i++) {
		memcpy(payload, &i, sizeof(i));
		t0 = now_ns();
		if (udp_out(fd, &to, hdr, hl, payload) < 0) {
			fail++;
			continue;
		}
		do {
			r = recv(fd, in, sizeof(in), 0);
		} while (r == (ssize_t)(hl + UDP_PAYLOAD) &&
			 memcmp(in + hl, &i, sizeof(i)) != 0);
		if (r != (ssize_t)(hl + UDP_PAYLOAD))
			fail++;
		v[i] = (now_ns() - t0) / 1e3;
	}
	if (getenv("PWBENCH_COUNT") != NULL) {
		printf("fail=%d\n", fail);
		return 0;
	}
	qsort(v, (size_t)n, sizeof(double), cmp_d);
	printf("p50=%.1f p95=%.1f rate=%.0f fail=%d\n", pct(v, n, 50),
	       pct(v, n, 95), n / ((now_ns() - start) / 1e9), fail);
	return 0;
}

/*
 * Throughput: N datagrams, W in flight at any time (each echo lets the
 * next one go), so the relay is never asked to buffer more than W.  After
 * 200 ms without an echo every datagram in flight counts as lost and
 * the window is refilled; a late echo of a lost one is ignored.
 */
static int
udpburst(const struct sockaddr_in *d, int n, int w, const struct xproxy *x)
{
	struct timeval tv = { .tv_usec = 200000 };
	struct sockaddr_in to;
	uint8_t hdr[10], payload[UDP_PAYLOAD], in[512];
	uint8_t *done = calloc((size_t)n, 1);	/* 1 echoed, 2 lost */
	int fd, ctrl, sent = 0, got = 0, lost = 0, seq, fail = 0;
	double start;
	size_t hl;
	ssize_t r;

	fd = udp_open(d, x, &to, hdr, &hl, &ctrl);
	if (fd < 0 || done == NULL) {
		printf("fail=%d\n", n);
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(payload, 'b', sizeof(payload));
	start = now_ns();
	while (got + lost < n) {
		while (sent < n && sent - got - lost < w) {
			memcpy(payload, &sent, sizeof(sent));
			if (udp_out(fd, &to, hdr, hl, payload) < 0)
				fail++;
			sent++;
		}
		r = recv(fd, in, sizeof(in), 0);
		if (r == -1) {
			for (seq = 0; seq < sent; seq++) {
				if (done[seq] == 0) {
					done[seq] = 2;
					lost++;
				}
			}
			continue;
		}
		if (r != (ssize_t)(hl + UDP_PAYLOAD))
			continue;
		memcpy(&seq, in + hl, sizeof(seq));
		if (seq < 0 || seq >= sent || done[seq] != 0)
			continue;
		done[seq] = 1;
		got++;
	}
	printf("rate=%.0f got=%d lost=%d fail=%d\n",
	       got / ((now_ns() - start) / 1e9), got, lost, fail);
	free(done);
	return 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: see the comment at the top of pwbench.c\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in d;
	struct xproxy x, *xp = NULL;
	int n;

	if (argc >= 4 && strcmp(argv[1], "spawn") == 0)
		return spawn(atoi(argv[2]), argc - 3, argv + 3);
	if (argc == 4 && strcmp(argv[1], "hook") == 0 &&
	    (strcmp(argv[2], "poll") == 0 || strcmp(argv[2], "select") == 0 ||
	     strcmp(argv[2], "epoll") == 0))
		return hook_ready(argv[2], atoi(argv[3]));
	if (argc == 4 && strcmp(argv[1], "hook") == 0)
		return hook(argv[2], atoi(argv[3]));
	if (argc < 4 || addr_of(argv[2], argv[3], &d) < 0)
		return usage();
	if (argc >= 7 && strcmp(argv[argc - 2], "-x") == 0) {
		if (xproxy_parse(argv[argc - 1], &x) < 0)
			return usage();
		xp = &x;
		argc -= 2;
	}
	if (strcmp(argv[1], "serve") == 0)
		return serve(&d);
	if (strcmp(argv[1], "udpecho") == 0)
		return udpecho(&d);
	n = argc >= 5 ? atoi(argv[4]) : 0;
	if (argc == 5 && strcmp(argv[1], "lat") == 0 && n > 0 && n <= MAXN)
		return lat(&d, n, xp);
	if (argc == 5 && strcmp(argv[1], "latsf") == 0 && n > 0 && n <= MAXN) {
		char tmpl[] = "/tmp/pwbench.XXXXXX";

		lat_file = mkstemp(tmpl);
		if (lat_file < 0)
			return 1;
		unlink(tmpl);
		if (write_all(lat_file, "GET /0 HTTP/1.0\r\n\r\n", 19) < 0)
			return 1;
		return lat(&d, n, xp);
	}
	if (argc == 6 && strcmp(argv[1], "conc") == 0 && n > 0 && n <= MAXN &&
	    atoi(argv[5]) > 0)
		return conc(&d, n, atoi(argv[5]));
	if (argc == 5 && strcmp(argv[1], "count") == 0)
		return count(&d, argv[4], 0);
	if (argc == 5 && strcmp(argv[1], "udpcount") == 0)
		return count(&d, argv[4], 1);
	if (argc == 5 && strcmp(argv[1], "udplat") == 0 && n > 0 && n <= MAXN)
		return udplat(&d, n, xp);
	if (argc == 6 && strcmp(argv[1], "udpburst") == 0 && n > 0 &&
	    n <= 10 * MAXN && atoi(argv[5]) > 0)
		return udpburst(&d, n, atoi(argv[5]), xp);
	if (argc == 5 && strcmp(argv[1], "get") == 0)
		return get(&d, strtoull(argv[4], NULL, 10), xp);
	return usage();
}
