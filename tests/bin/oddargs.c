/*
 * oddargs.c - every hooked call with odd arguments, for the differential
 * test (t_oddargs.sh): run plainly and under the shim with "direct *",
 * the outputs must be the same.  One line per call: the call as written,
 * its return value and, when it failed, the errno name; for output
 * buffers, what the call wrote (lengths, families, counts).
 *
 *   oddargs [ADDR4 [ADDR6]]   listeners on ADDR4 / ADDR6 (default
 *                             127.0.0.1 and ::1)
 *
 * Bad pointers are the ones the shim promises to hand to the kernel
 * untouched: the first page (LOW) and beyond 2^56 (HIGH, TOP).  An
 * unmapped page in the middle (HOLE) is only given as a data buffer,
 * which the shim never reads on a direct socket.  fd numbers the kernel
 * chooses print as "fd" (the shim may hold fds of its own).
 */
#pragma GCC diagnostic ignored "-Wnonnull"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define LOW ((void *)16)
#define HIGH ((void *)((uintptr_t)1 << 57))
#define TOP ((void *)(uintptr_t)-4096)
static void *HOLE;

extern int fcntl64(int, int, ...);
extern int __poll(struct pollfd *, nfds_t, int);
extern int __select(int, fd_set *, fd_set *, fd_set *, struct timeval *);
extern int __poll_chk(struct pollfd *, nfds_t, int, size_t);
extern int __ppoll_chk(struct pollfd *, nfds_t, const struct timespec *,
		       const sigset_t *, size_t);
extern ssize_t __read_chk(int, void *, size_t, size_t);
extern ssize_t __recv_chk(int, void *, size_t, size_t, int);
extern ssize_t __recvfrom_chk(int, void *, size_t, size_t, int,
			      struct sockaddr *, socklen_t *);

/*
 * With ODDARGS_SAFE set (the sanitizer run: its runtime's own wrappers
 * read what the program passes and fault on a bad pointer before the
 * shim is reached), the calls given a bad or NULL pointer are skipped, in
 * every run that is compared.
 */
static int safe;

static int
skip(const char *what)
{
	static const char *const bad[] = { "LOW", "HIGH", "TOP", "HOLE", "NULL",
		"(void *)16", "<< 57", "-4096", "(void *)0", "bad", "many",
		"1u << 30", "INT_MAX" };
	size_t i;

	for (i = 0; safe && i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strstr(what, bad[i]) != NULL)
			return 1;
	return 0;
}

static void
show(const char *what, long r)
{
	if (r < 0)
		printf("%s = %ld %s\n", what, r, strerrorname_np(errno));
	else
		printf("%s = %ld\n", what, r);
	fflush(stdout);
}

/* T: a call returning a count or 0; F: one returning a new fd */
#define T(e) do { if (skip(#e)) break; \
	errno = 0; long r_ = (long)(e); show(#e, r_); } while (0)
#define F(e) do { if (skip(#e)) break; errno = 0; long r_ = (long)(e); \
	if (r_ >= 0) { printf("%s = fd\n", #e); close((int)r_); } \
	else { show(#e, r_); } } while (0)

static struct sockaddr_in sin_lst, sin_full, sin_udp, sin_refused, sin_sink;
static struct sockaddr_in6 sin6_lst, sin6_udp;
static int tcp, lst, conn, acc, full, filler, inprog, udp, udp_rx, udp6,
	   udp6_rx, lst6, sink, pr, pw, file, ep, closed, huge = 1 << 30;

/* Loopback delivers within the send, unless the softirqs fell behind
 * (ksoftirqd on a loaded host): a margin before the reads that follow. */
static void
settle(void)
{
	usleep(100000);
}

static void
die(const char *what)
{
	perror(what);
	exit(2);
}

static int
sock(int fam, int type)
{
	int fd = socket(fam, type, 0);

	if (fd < 0)
		die("socket");
	return fd;
}

static int
listener(int fam, const char *addr, void *sa, socklen_t sl, int type,
	 int backlog)
{
	int fd = sock(fam, type), one = 1;
	socklen_t l = sl;

	memset(sa, 0, sl);
	((struct sockaddr *)sa)->sa_family = (sa_family_t)fam;
	if (inet_pton(fam, addr, fam == AF_INET ?
		      (void *)&((struct sockaddr_in *)sa)->sin_addr :
		      (void *)&((struct sockaddr_in6 *)sa)->sin6_addr) != 1)
		die(addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, sa, sl) < 0 || getsockname(fd, sa, &l) < 0)
		die("bind");
	if (type == SOCK_STREAM && listen(fd, backlog) < 0)
		die("listen");
	return fd;
}

static void
setup(const char *a4, const char *a6)
{
	int fds[2];

	signal(SIGPIPE, SIG_IGN);
	/* getaddrinfo_a's threads end with pthread_exit, which loads
	 * libgcc_s: loaded now, that cannot race with close_range at the end */
	dlopen("libgcc_s.so.1", RTLD_NOW);
	HOLE = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	lst = listener(AF_INET, a4, &sin_lst, sizeof(sin_lst), SOCK_STREAM, 8);
	/* backlog 0 holds one connection: the next SYN is dropped, so a
	 * non-blocking connect to it stays in progress for seconds */
	full = listener(AF_INET, a4, &sin_full, sizeof(sin_full), SOCK_STREAM, 0);
	udp_rx = listener(AF_INET, a4, &sin_udp, sizeof(sin_udp), SOCK_DGRAM, 0);
	lst6 = listener(AF_INET6, a6, &sin6_lst, sizeof(sin6_lst), SOCK_STREAM, 8);
	sink = listener(AF_INET, a4, &sin_sink, sizeof(sin_sink), SOCK_DGRAM, 0);
	udp6_rx = listener(AF_INET6, a6, &sin6_udp, sizeof(sin6_udp), SOCK_DGRAM, 0);
	/* a port nobody listens on: the udp one's number, over TCP */
	sin_refused = sin_udp;
	tcp = sock(AF_INET, SOCK_STREAM);
	conn = sock(AF_INET, SOCK_STREAM);
	filler = sock(AF_INET, SOCK_STREAM);
	inprog = sock(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
	udp = sock(AF_INET, SOCK_DGRAM);
	udp6 = sock(AF_INET6, SOCK_DGRAM);
	if (pipe2(fds, O_NONBLOCK) < 0)
		die("pipe");
	pr = fds[0];
	pw = fds[1];
	file = open("oddargs.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (file < 0 || write(file, "0123456789", 10) != 10)
		die("oddargs.tmp");
	lseek(file, 0, SEEK_SET);
	/* above any this opens, below the shim's own (1000 on), and inside
	 * the fd table a small process starts with (64): select ignores a
	 * set fd beyond the table's size */
	closed = 60;
	close(closed);
	ep = epoll_create1(0);
	fcntl(udp_rx, F_SETFL, O_NONBLOCK);
	fcntl(udp6_rx, F_SETFL, O_NONBLOCK);
}

static void
t_connect(void)
{
	struct sockaddr_in s = sin_lst;
	struct sockaddr_in6 s6 = sin6_lst;
	struct sockaddr_storage big;
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct sockaddr un0 = { .sa_family = AF_UNSPEC };
	char huge_name[4096];
	int t6;

	memset(&big, 0, sizeof(big));
	memcpy(&big, &s, sizeof(s));
	memset(huge_name, 0, sizeof(huge_name));
	memcpy(huge_name, &s, sizeof(s));
	T(connect(-1, (void *)&s, sizeof(s)));
	T(connect(closed, (void *)&s, sizeof(s)));
	T(connect(huge, (void *)&s, sizeof(s)));
	T(connect(pr, (void *)&s, sizeof(s)));
	T(connect(file, (void *)&s, sizeof(s)));
	T(connect(tcp, NULL, sizeof(s)));
	T(connect(tcp, NULL, 0));
	T(connect(tcp, LOW, sizeof(s)));
	T(connect(tcp, HIGH, sizeof(s)));
	T(connect(tcp, TOP, sizeof(s)));
	T(connect(tcp, (void *)&s, 0));
	T(connect(tcp, (void *)&s, 1));
	T(connect(tcp, (void *)&s, 8));
	T(connect(tcp, (void *)&s, 15));
	T(connect(tcp, (void *)huge_name, 129));
	T(connect(tcp, (void *)huge_name, sizeof(huge_name)));
	T(connect(tcp, (void *)&s, (socklen_t)-1));
	T(connect(tcp, (void *)&s6, sizeof(s6)));
	T(connect(tcp, (void *)&un, sizeof(un)));
	T(connect(tcp, &un0, sizeof(un0)));
	s.sin_family = 0x7777;
	T(connect(tcp, (void *)&s, sizeof(s)));
	T(connect(tcp, (void *)&sin_refused, sizeof(sin_refused)));
	/* a name longer than a sockaddr_in is fine up to sockaddr_storage */
	T(connect(conn, (void *)&big, sizeof(big)));
	T(connect(conn, (void *)&sin_lst, sizeof(sin_lst)));
	T(connect(filler, (void *)&sin_full, sizeof(sin_full)));
	T(connect(inprog, (void *)&sin_full, sizeof(sin_full)));
	T(connect(inprog, (void *)&sin_full, sizeof(sin_full)));
	T(connect(inprog, (void *)&sin_lst, sizeof(sin_lst)));
	T(connect(inprog, LOW, sizeof(sin_lst)));
	t6 = sock(AF_INET6, SOCK_STREAM);
	T(connect(t6, (void *)&s6, 20));
	T(connect(t6, (void *)&s6, 24));
	T(connect(t6, (void *)&s6, sizeof(s6)));
	close(t6);
	t6 = sock(AF_INET6, SOCK_STREAM);
	T(connect(t6, (void *)&sin_lst, sizeof(sin_lst)));
	close(t6);
	T(connect(udp, (void *)&sin_udp, 8));
	T(connect(udp, (void *)&sin_udp, sizeof(sin_udp)));
	T(connect(udp, &un0, 2));
	T(connect(udp, &un0, 1));
	T(syscall(SYS_connect, -1, &sin_lst, sizeof(sin_lst)));
	T(syscall(SYS_connect, tcp, LOW, sizeof(sin_lst)));
	T(syscall(SYS_connect, tcp, &sin_lst, 4096));
	acc = accept(lst, NULL, NULL);
	if (acc < 0)
		die("accept");
	fcntl(acc, F_SETFL, O_NONBLOCK);	/* never waits for data */
}

static void
t_names(void)
{
	struct sockaddr_storage ss;
	socklen_t l;
	int v, i;
	static const socklen_t lens[] = { 0, 4, 16, 200, (socklen_t)-1 };

#define NAMED(e) do { memset(&ss, 0xaa, sizeof(ss)); T(e); \
	printf("  len=%d family=%d\n", (int)l, ss.ss_family); } while (0)
	for (i = 0; i < 5; i++) {
		l = lens[i];
		NAMED(getpeername(conn, (void *)&ss, &l));
	}
	l = sizeof(ss);
	NAMED(getpeername(-1, (void *)&ss, &l));
	NAMED(getpeername(closed, (void *)&ss, &l));
	NAMED(getpeername(pr, (void *)&ss, &l));
	NAMED(getpeername(tcp, (void *)&ss, &l));
	NAMED(getpeername(inprog, (void *)&ss, &l));
	NAMED(getpeername(lst, (void *)&ss, &l));
	NAMED(getpeername(conn, NULL, &l));
	NAMED(getpeername(conn, (void *)&ss, NULL));
	NAMED(getpeername(conn, LOW, &l));
	NAMED(getpeername(conn, HIGH, &l));
	NAMED(getpeername(conn, (void *)&ss, LOW));
	NAMED(getpeername(udp, (void *)&ss, &l));

#define OPT(e) do { v = 0x5a5a; T(e); \
	printf("  len=%d val=%d\n", (int)l, v); } while (0)
	for (i = 0; i < 5; i++) {
		l = lens[i] > sizeof(v) && lens[i] < 100 ? sizeof(v) : lens[i];
		OPT(getsockopt(inprog, SOL_SOCKET, SO_ERROR, &v, &l));
	}
	l = 2;
	OPT(getsockopt(inprog, SOL_SOCKET, SO_ERROR, &v, &l));
	l = sizeof(v);
	OPT(getsockopt(-1, SOL_SOCKET, SO_ERROR, &v, &l));
	OPT(getsockopt(pr, SOL_SOCKET, SO_ERROR, &v, &l));
	OPT(getsockopt(conn, SOL_SOCKET, SO_ERROR, &v, &l));
	OPT(getsockopt(conn, SOL_SOCKET, SO_ERROR, NULL, &l));
	OPT(getsockopt(conn, SOL_SOCKET, SO_ERROR, &v, NULL));
	OPT(getsockopt(conn, SOL_SOCKET, SO_ERROR, LOW, &l));
	OPT(getsockopt(inprog, SOL_SOCKET, SO_ERROR, HIGH, &l));
	OPT(getsockopt(inprog, SOL_SOCKET, SO_ERROR, &v, LOW));
	OPT(getsockopt(conn, SOL_SOCKET, SO_TYPE, &v, &l));
	OPT(getsockopt(conn, 0x7777, SO_ERROR, &v, &l));
	OPT(getsockopt(conn, SOL_SOCKET, 0x7777, &v, &l));
	OPT(getsockopt(udp, SOL_SOCKET, SO_ERROR, &v, &l));
}

static void
t_rw(void)
{
	char buf[64];
	struct iovec io[2] = { { buf, 3 }, { buf + 3, 3 } };
	struct iovec bad[2] = { { LOW, 3 }, { HIGH, 3 } };
	static struct iovec many[UIO_MAXIOV + 1];
	int i;

	for (i = 0; i <= UIO_MAXIOV; i++)
		many[i] = (struct iovec){ buf, 1 };
#define RD(e) do { memset(buf, 0, sizeof(buf)); T(e); \
	printf("  buf=%.16s\n", buf); } while (0)
	RD(read(-1, buf, 4));
	RD(read(closed, buf, 4));
	RD(read(huge, buf, 4));
	RD(read(pr, buf, 4));
	RD(read(file, buf, 4));
	RD(read(file, NULL, 0));
	RD(read(file, LOW, 4));
	RD(read(file, HOLE, 4));
	RD(read(inprog, buf, 4));
	RD(read(lst, buf, 4));
	RD(read(tcp, buf, 4));
	T(write(-1, "abc", 3));
	T(write(closed, "abc", 3));
	T(write(pw, "abc", 3));
	T(write(pw, NULL, 0));
	T(write(pw, LOW, 3));
	T(write(file, HIGH, 3));
	T(write(inprog, "abc", 3));
	T(write(lst, "abc", 3));
	T(write(tcp, "abc", 3));
	T(write(conn, "abcdef", 6));
	T(write(conn, HOLE, 3));
	T(write(conn, NULL, 0));
	T(writev(conn, io, 2));
	T(writev(conn, io, 0));
	T(writev(conn, io, -1));
	T(writev(conn, NULL, 1));
	T(writev(conn, LOW, 1));
	T(writev(conn, bad, 2));
	T(writev(conn, many, UIO_MAXIOV));
	T(writev(conn, many, UIO_MAXIOV + 1));
	T(writev(inprog, io, 2));
	T(writev(pw, io, 2));
	T(writev(-1, io, 2));
	settle();
	RD(read(pr, buf, sizeof(buf)));
	RD(read(acc, buf, 6));
	RD(readv(acc, io, 2));
	RD(readv(acc, io, -1));
	RD(readv(acc, io, UIO_MAXIOV + 1));
	RD(readv(acc, NULL, 1));
	RD(readv(acc, bad, 2));
	RD(readv(acc, io, 0));
	RD(readv(inprog, io, 2));
	RD(readv(-1, io, 2));
	RD(readv(file, io, 2));
	RD(__read_chk(acc, buf, 4, sizeof(buf)));
	RD(__read_chk(-1, buf, 4, sizeof(buf)));
	RD(__read_chk(file, LOW, 4, 4));
}

static void
t_sendrecv(void)
{
	char buf[64];
	struct sockaddr_in s = sin_udp;
	struct sockaddr_in6 s6 = sin6_udp;
	struct sockaddr_storage ss, big;
	socklen_t l;
	int tfo;

	memset(&big, 0, sizeof(big));
	memcpy(&big, &s, sizeof(s));
	T(send(-1, "x", 1, 0));
	T(send(pr, "x", 1, 0));
	T(send(file, "x", 1, 0));
	T(send(inprog, "x", 1, 0));
	T(send(inprog, "x", 1, MSG_DONTWAIT));
	T(send(tcp, "x", 1, 0));
	T(send(conn, "ab", 2, 0));
	T(send(conn, LOW, 2, 0));
	T(send(conn, "ab", 2, MSG_OOB));
	T(send(conn, "ab", 2, 0x7f000000 & ~MSG_FASTOPEN));
	T(send(conn, NULL, 0, 0));
	T(send(udp, "ab", 2, 0));
	T(sendto(udp, "ab", 2, 0, NULL, sizeof(s)));
	T(sendto(udp, "ab", 2, 0, (void *)&s, 0));
	T(sendto(udp, "ab", 2, 0, (void *)&s, 1));
	T(sendto(udp, "ab", 2, 0, (void *)&s, 8));
	T(sendto(udp, "ab", 2, 0, (void *)&s, sizeof(s)));
	T(sendto(udp, "ab", 2, 0, (void *)&big, sizeof(big)));
	T(sendto(udp, "ab", 2, 0, (void *)&big, sizeof(big) + 1));
	T(sendto(udp, "ab", 2, 0, (void *)&s, (socklen_t)-1));
	T(sendto(udp, "ab", 2, 0, LOW, sizeof(s)));
	T(sendto(udp, "ab", 2, 0, TOP, sizeof(s)));
	T(sendto(udp, LOW, 2, 0, (void *)&s, sizeof(s)));
	T(sendto(udp, HOLE, 2, 0, (void *)&s, sizeof(s)));
	T(sendto(udp, "ab", 2, MSG_OOB, (void *)&s, sizeof(s)));
	T(sendto(udp, "ab", 2, 0x7f000000 & ~MSG_FASTOPEN, (void *)&s,
		 sizeof(s)));
	T(sendto(udp, "ab", 2, 0, (void *)&s6, sizeof(s6)));
	s.sin_family = AF_UNSPEC;
	T(sendto(udp, "cd", 2, 0, (void *)&s, sizeof(s)));
	s.sin_family = 0x7777;
	T(sendto(udp, "cd", 2, 0, (void *)&s, sizeof(s)));
	T(sendto(udp6, "ef", 2, 0, (void *)&s6, 20));
	T(sendto(udp6, "ef", 2, 0, (void *)&s6, 24));
	T(sendto(udp6, "ef", 2, 0, (void *)&s6, sizeof(s6)));
	T(sendto(udp6, "ef", 2, 0, (void *)&sin_udp, sizeof(sin_udp)));
	T(sendto(conn, "gh", 2, 0, (void *)&sin_udp, sizeof(sin_udp)));
	T(sendto(-1, "gh", 2, 0, (void *)&sin_udp, sizeof(sin_udp)));
	T(sendto(pr, "gh", 2, 0, (void *)&sin_udp, sizeof(sin_udp)));
	T(sendto(-1, "gh", 2, 0, LOW, sizeof(sin_udp)));
	tfo = sock(AF_INET, SOCK_STREAM);
	T(sendto(tfo, "tfo", 3, MSG_FASTOPEN, LOW, sizeof(sin_lst)));
	T(sendto(tfo, "tfo", 3, MSG_FASTOPEN, (void *)&sin_lst, 8));
	T(sendto(tfo, "tfo", 3, MSG_FASTOPEN, (void *)&sin_lst, sizeof(sin_lst)));
	T(sendto(tfo, "tfo", 3, MSG_FASTOPEN, (void *)&sin_lst, sizeof(sin_lst)));
	close(tfo);
	tfo = sock(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
	T(sendto(tfo, "tfo", 3, MSG_FASTOPEN, (void *)&sin_full, sizeof(sin_full)));
	T(send(tfo, "tfo", 3, 0));
	close(tfo);
	T(sendto(udp, "ab", 2, MSG_FASTOPEN, (void *)&sin_udp, sizeof(sin_udp)));
	for (tfo = 0; tfo < 12; tfo++)
		sendto(udp, "qq", 2, 0, (void *)&sin_udp, sizeof(sin_udp));
	settle();

#define RF(e) do { memset(buf, 0, sizeof(buf)); memset(&ss, 0xaa, sizeof(ss)); \
	T(e); printf("  buf=%.16s len=%d family=%d\n", buf, (int)l, \
		     ss.ss_family); } while (0)
	l = sizeof(ss);
	RF(recv(-1, buf, 4, 0));
	RF(recv(pr, buf, 4, 0));
	RF(recv(inprog, buf, 4, 0));
	RF(recv(acc, buf, 1, MSG_PEEK));
	RF(recv(acc, buf, 1, 0x7f000000));
	RF(recv(acc, LOW, 1, 0));
	RF(recv(acc, HOLE, 1, 0));
	RF(recv(acc, NULL, 0, 0));
	RF(recvfrom(acc, buf, 2, 0, (void *)&ss, &l));
	l = sizeof(ss);
	RF(recvfrom(acc, buf, 2, 0, (void *)&ss, NULL));
	RF(recvfrom(acc, buf, 2, 0, NULL, &l));
	RF(recvfrom(acc, buf, 2, MSG_DONTWAIT, (void *)&ss, &l));
	RF(recvfrom(udp_rx, buf, 4, 0, (void *)&ss, &l));
	l = 0;
	RF(recvfrom(udp_rx, buf, 4, 0, (void *)&ss, &l));
	l = 4;
	RF(recvfrom(udp_rx, buf, 4, 0, (void *)&ss, &l));
	l = sizeof(ss);
	RF(recvfrom(udp_rx, buf, 4, MSG_PEEK, (void *)&ss, &l));
	RF(recvfrom(udp_rx, buf, 4, 0, LOW, &l));
	RF(recvfrom(udp_rx, buf, 4, 0, HIGH, &l));
	RF(recvfrom(udp_rx, buf, 4, 0, (void *)&ss, LOW));
	l = (socklen_t)-1;
	RF(recvfrom(udp_rx, buf, 4, 0, (void *)&ss, &l));
	l = sizeof(ss);
	RF(recvfrom(udp_rx, buf, 4, 0, (void *)&ss, &l));
	RF(recvfrom(udp_rx, buf, 4, 0, (void *)&ss, &l));
	RF(recvfrom(udp6_rx, buf, 4, 0, (void *)&ss, &l));
	l = 24;
	RF(recvfrom(udp6_rx, buf, 4, 0, (void *)&ss, &l));
	l = sizeof(ss);
	RF(recvfrom(udp6_rx, buf, 4, 0, (void *)&ss, &l));
	RF(recvfrom(udp6_rx, buf, 4, 0, (void *)&ss, &l));
	RF(__recv_chk(acc, buf, 2, sizeof(buf), MSG_DONTWAIT));
	RF(__recv_chk(-1, buf, 2, sizeof(buf), 0));
	RF(__recvfrom_chk(udp_rx, buf, 2, sizeof(buf), 0, (void *)&ss, &l));
	RF(__recvfrom_chk(udp_rx, buf, 2, sizeof(buf), 0, LOW, &l));
}

#include "oddargs_msg.h"
#include "oddargs_ready.h"
#include "oddargs_dns.h"
#include "oddargs_exec.h"

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	safe = getenv("ODDARGS_SAFE") != NULL;
	setup(argc > 1 ? argv[1] : "127.0.0.1", argc > 2 ? argv[2] : "::1");
	t_connect();
	t_names();
	t_rw();
	t_sendrecv();
	t_msg();
	t_ready();
	t_fds();
	t_dns();
	t_alias();
	t_exec();
	t_gai_a();
	unlink("oddargs.tmp");
	T(close_range(3, ~0U, 0));
	closefrom(3);
	T(fcntl(3, F_GETFD));
	T(close(tcp));
	return 0;
}
