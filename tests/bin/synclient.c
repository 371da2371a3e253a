/*
 * synclient.c - the program side of t_optimistic_syn.sh: one connection
 * to the banner echo (env_banner: a banner line, then every byte back),
 * its first bytes TAG and N patterned bytes, sent one way or another;
 * the banner and the echo must come back whole and in order.
 *
 *   synclient MODE HOST PORT TAG N
 *
 * MODE, the program writing first (blocking connect unless said):
 *   write writev sendmsg   one call of that name
 *   dup                    write() on a dup() of the socket
 *   fork                   a child writes, the parent reads
 *   sendfile splice        from a file, from a pipe
 *   shutwr                 write, shutdown(SHUT_WR), read to the end
 *   nbwrite                non-blocking connect, poll for POLLOUT, write
 *   race                   one thread writes while another, let go at the
 *                          same moment, polls for input and reads it all
 * or reading first (a server that speaks first), then writing:
 *   readfirst              read()
 *   pollfirst              non-blocking: POLLOUT for the connect, then
 *                          poll for POLLIN alone
 *   selectfirst            the same with select
 *   epollfirst             the same with an epoll registered EPOLLIN
 *   sysfirst               syscall(SYS_poll) for POLLIN (libc's syscall(),
 *                          which the library sees)
 *   rawfirst               the poll system call itself for POLLIN, which
 *                          the library cannot see (x86-64: the syscall
 *                          instruction; elsewhere syscall(), seen)
 * Prints "MODE ok N banner_ms=MS" (how long the banner took after
 * connect() returned or said writable), or "MODE bad ..." (exit 1), or
 * "ERRNO NAME" (exit 3) for a call that failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BANNER "PWBANNER-0123456789 hello\r\n"

static const char *mode;

static void
die_errno(const char *what)
{
	int e = errno;

	fprintf(stderr, "synclient %s: %s: %s\n", mode, what, strerror(e));
	printf("ERRNO %s\n", e == ECONNREFUSED ? "ECONNREFUSED" :
	       e == ECONNRESET ? "ECONNRESET" : e == EPIPE ? "EPIPE" :
	       e == ETIMEDOUT ? "ETIMEDOUT" : e == EAGAIN ? "EAGAIN" :
	       strerror(e));
	exit(3);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
connect_to(const char *host, int port, int nonblock)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0),
			0);

	if (fd < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1)
		die_errno("socket");
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 &&
	    !(nonblock && errno == EINPROGRESS))
		die_errno("connect");
	return fd;
}

/* A non-blocking connect, done: POLLOUT, then SO_ERROR. */
static void
wait_connected(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err = 0;
	socklen_t len = sizeof(err);

	if (poll(&p, 1, 10000) != 1)
		die_errno("poll POLLOUT");
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		die_errno("SO_ERROR");
	if (err != 0) {
		errno = err;
		die_errno("connect (SO_ERROR)");
	}
}

static void
write_all(int fd, const char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = write(fd, p, n);
		if (r < 0 && errno == EAGAIN) {
			struct pollfd q = { .fd = fd, .events = POLLOUT };

			poll(&q, 1, 1000);
			continue;
		}
		if (r <= 0)
			die_errno("write");
		p += r;
		n -= (size_t)r;
	}
}

/* Read into buf until want bytes (or EOF with eof set), 20 s at most. */
static size_t
read_upto(int fd, char *buf, size_t want, int eof)
{
	double end = now_ms() + 20000;
	size_t got = 0;
	ssize_t r;

	while ((got < want || eof) && now_ms() < end) {
		struct pollfd q = { .fd = fd, .events = POLLIN };

		if (poll(&q, 1, 1000) == 0)
			continue;
		r = read(fd, buf + got, want + 1 - got);
		if (r < 0 && errno == EAGAIN)
			continue;
		if (r < 0)
			die_errno("read");
		if (r == 0)
			break;
		got += (size_t)r;
		if (got > want)
			break;
	}
	return got;
}

/* poll(2) without libc. */
static long
raw_poll(struct pollfd *p, long n, long ms)
{
#ifdef __x86_64__
	long r;

	__asm__ volatile("syscall" : "=a"(r)
			 : "0"((long)SYS_poll), "D"(p), "S"(n), "d"(ms)
			 : "rcx", "r11", "memory");
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
#else
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	return syscall(SYS_ppoll, p, n, &ts, NULL, 0);
#endif
}

/* Wait for the banner without writing, by the mode's way; its arrival. */
static double
banner_first(int fd, double t0)
{
	char b[sizeof(BANNER)];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t r;
	fd_set rs;
	struct timeval tv = { 10, 0 };
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd }, out;
	int ep;

	if (strcmp(mode, "pollfirst") == 0) {
		if (poll(&p, 1, 10000) != 1)
			die_errno("poll POLLIN");
	} else if (strcmp(mode, "selectfirst") == 0) {
		FD_ZERO(&rs);
		FD_SET(fd, &rs);
		if (select(fd + 1, &rs, NULL, NULL, &tv) != 1)
			die_errno("select");
	} else if (strcmp(mode, "epollfirst") == 0) {
		ep = epoll_create1(0);
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			die_errno("epoll_ctl");
		if (epoll_wait(ep, &out, 1, 10000) != 1)
			die_errno("epoll_wait");
		close(ep);
	} else if (strcmp(mode, "sysfirst") == 0) {
#ifdef SYS_poll
		if (syscall(SYS_poll, &p, 1, 10000) != 1)
#else
		if (syscall(SYS_ppoll, &p, 1, NULL, NULL, 0) != 1)
#endif
			die_errno("syscall(SYS_poll)");
	} else if (strcmp(mode, "rawfirst") == 0) {
		if (raw_poll(&p, 1, 10000) != 1)
			die_errno("poll system call");
	}
	while (got < sizeof(BANNER) - 1) {
		r = read(fd, b + got, sizeof(BANNER) - 1 - got);
		if (r < 0 && errno == EAGAIN) {
			poll(&p, 1, 1000);
			continue;
		}
		if (r <= 0)
			die_errno("read banner");
		got += (size_t)r;
	}
	if (memcmp(b, BANNER, sizeof(BANNER) - 1) != 0) {
		printf("%s bad: banner %.*s\n", mode, (int)got, b);
		exit(1);
	}
	return now_ms() - t0;
}

/* Send data[0..n) as the mode says. */
static void
send_first(int fd, const char *data, size_t n)
{
	struct iovec v[3];
	struct msghdr m = { .msg_iov = v, .msg_iovlen = 3 };
	size_t a = n / 3, b = n / 3;
	char tmpl[] = "/tmp/synclient.XXXXXX";
	int c, f, pp[2], st;
	ssize_t r;
	pid_t pid;

	v[0] = (struct iovec){ (void *)data, a };
	v[1] = (struct iovec){ (void *)(data + a), b };
	v[2] = (struct iovec){ (void *)(data + a + b), n - a - b };
	if (strcmp(mode, "writev") == 0 || strcmp(mode, "sendmsg") == 0) {
		r = mode[4] == 'v' ? writev(fd, v, 3) : sendmsg(fd, &m, 0);
		if (r < 0)
			die_errno(mode);
		if ((size_t)r < n)
			write_all(fd, data + r, n - (size_t)r);
	} else if (strcmp(mode, "dup") == 0) {
		c = dup(fd);
		if (c < 0)
			die_errno("dup");
		write_all(c, data, n);
		close(c);
	} else if (strcmp(mode, "fork") == 0) {
		pid = fork();
		if (pid < 0)
			die_errno("fork");
		if (pid == 0) {
			write_all(fd, data, n);
			_exit(0);
		}
		if (waitpid(pid, &st, 0) < 0 || st != 0) {
			printf("%s bad: child %d\n", mode, st);
			exit(1);
		}
	} else if (strcmp(mode, "sendfile") == 0) {
		f = mkstemp(tmpl);
		if (f < 0)
			die_errno("mkstemp");
		unlink(tmpl);
		write_all(f, data, n);
		off_t off = 0;
		while ((size_t)off < n)
			if (sendfile(fd, f, &off, n - (size_t)off) <= 0)
				die_errno("sendfile");
		close(f);
	} else if (strcmp(mode, "splice") == 0) {
		size_t done = 0, k;

		if (pipe(pp) < 0)
			die_errno("pipe");
		while (done < n) {
			k = n - done < 16384 ? n - done : 16384;
			write_all(pp[1], data + done, k);
			while (k > 0) {
				r = splice(pp[0], NULL, fd, NULL, k, 0);
				if (r <= 0)
					die_errno("splice");
				k -= (size_t)r;
				done += (size_t)r;
			}
		}
		close(pp[0]);
		close(pp[1]);
	} else {
		write_all(fd, data, n);
	}
}

/* race: the reader's side. */
struct reader {
	pthread_barrier_t go;
	int fd;
	char *buf;
	size_t want, got;
};

static void *
reader(void *arg)
{
	struct reader *r = arg;
	struct pollfd p = { .fd = r->fd, .events = POLLIN };

	pthread_barrier_wait(&r->go);
	poll(&p, 1, 10000);
	r->got = read_upto(r->fd, r->buf, r->want, 0);
	return NULL;
}

int
main(int argc, char **argv)
{
	const char *tag;
	size_t n, tl, i, want, got;
	char *data, *buf;
	double t0, bms = -1;
	int fd, nb, first;

	if (argc != 6) {
		fprintf(stderr, "usage: synclient MODE HOST PORT TAG N\n");
		return 2;
	}
	mode = argv[1];
	tag = argv[4];
	tl = strlen(tag);
	n = tl + strtoul(argv[5], NULL, 10);
	data = malloc(n);
	buf = malloc(sizeof(BANNER) + n + 1);
	if (data == NULL || buf == NULL)
		return 2;
	memcpy(data, tag, tl);
	for (i = tl; i < n; i++)
		data[i] = (char)(i - tl);
	nb = strcmp(mode, "nbwrite") == 0 || strcmp(mode, "pollfirst") == 0 ||
	     strcmp(mode, "selectfirst") == 0 ||
	     strcmp(mode, "epollfirst") == 0;
	first = strstr(mode, "first") != NULL;
	fd = connect_to(argv[2], atoi(argv[3]), nb);
	if (nb)
		wait_connected(fd);
	t0 = now_ms();
	want = sizeof(BANNER) - 1 + n;
	if (first) {
		bms = banner_first(fd, t0);
		memcpy(buf, BANNER, sizeof(BANNER) - 1);
		want = n;
	}
	if (strcmp(mode, "race") == 0) {
		struct reader r = { .fd = fd, .buf = buf, .want = want };
		pthread_t th;

		pthread_barrier_init(&r.go, NULL, 2);
		if (pthread_create(&th, NULL, reader, &r) != 0)
			return 2;
		pthread_barrier_wait(&r.go);
		write_all(fd, data, n);
		pthread_join(th, NULL);
		got = r.got;
		goto check;
	}
	send_first(fd, data, n);
	if (strcmp(mode, "shutwr") == 0 && shutdown(fd, SHUT_WR) < 0)
		die_errno("shutdown");
	got = read_upto(fd, buf + (first ? sizeof(BANNER) - 1 : 0), want,
			strcmp(mode, "shutwr") == 0);
	if (first)
		got += sizeof(BANNER) - 1;
check:
	if (got != sizeof(BANNER) - 1 + n ||
	    memcmp(buf, BANNER, sizeof(BANNER) - 1) != 0 ||
	    memcmp(buf + sizeof(BANNER) - 1, data, n) != 0) {
		for (i = 0; i < got && i < sizeof(BANNER) - 1 + n; i++)
			if (buf[i] != (i < sizeof(BANNER) - 1 ?
				       BANNER[i] : data[i - sizeof(BANNER) + 1]))
				break;
		printf("%s bad: got %zu bytes of %zu, first difference at %zu\n",
		       mode, got, sizeof(BANNER) - 1 + n, i);
		return 1;
	}
	printf("%s ok %zu banner_ms=%.0f\n", mode, n - tl, bms);
	close(fd);
	return 0;
}
