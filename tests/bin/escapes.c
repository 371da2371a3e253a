/*
 * escapes.c - the ways out of a process that the escape matrix tries
 * (tests/integ/t_escape.sh).  Each sends to ADDR:PORT one way and prints
 * "rc=N" or "rc=-1 errno=NAME" per call (a TCP connection that got the
 * forbidden host's banner adds " read=LINE").  Exit 0 unless the call
 * could not be set up at all (2).
 *
 *   escapes tcp4|tcp6 ADDR PORT          connect()
 *   escapes tcp6-mapped ADDR4 PORT       connect() to ::ffff:ADDR4
 *   escapes tcp6-24 ADDR6 PORT           connect(), addrlen 24
 *   escapes tcp6-mapped24 ADDR4 PORT     both
 *   escapes udp4|udp6 ADDR PORT          sendto()
 *   escapes udp-connect ADDR PORT        connect() then send()
 *   escapes sendmsg4|sendmsg6 ADDR PORT  UDP sendmsg() with a name
 *   escapes mmsg4 ADDR PORT              UDP sendmmsg() of 2
 *   escapes tfo ADDR PORT                TCP sendto(MSG_FASTOPEN)
 *   escapes alias SYMBOL ADDR PORT       dlsym(RTLD_DEFAULT, SYMBOL):
 *                                        __connect (TCP), __sendmmsg and
 *                                        __send (UDP, __send connected)
 *   escapes dlvsym ADDR PORT             dlvsym(connect, GLIBC_2.2.5)
 *   escapes dlopen ADDR PORT             dlsym(dlopen("libc.so.6"), connect)
 *   escapes dlmopen ADDR PORT            connect of a dlmopen'd libc
 *   escapes syscall ADDR PORT            syscall(SYS_connect)
 *   escapes asm ADDR PORT                an inline syscall instruction
 *   escapes uring ADDR PORT              io_uring IORING_OP_CONNECT
 *   escapes uring-sendmsg ADDR PORT      io_uring IORING_OP_SENDMSG (UDP)
 *   escapes rawip ADDR PORT              SOCK_RAW, IPPROTO_UDP
 *   escapes packet IFACE ADDR PORT       AF_PACKET frame (broadcast MAC)
 *   escapes sigconnect ADDR PORT NAME    connects from SIGALRM handlers
 *                                        while getaddrinfo(NAME) runs
 *   escapes execraw PATH ARG...          syscall(SYS_execve, PATH)
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MSG "escape-matrix"

typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);

static struct sockaddr_storage dst;
static socklen_t dstlen;

static void
report(long rc, int fd)
{
	char buf[64];
	ssize_t n;

	if (rc < 0) {
		printf("rc=-1 errno=%s\n", strerrorname_np(errno));
		return;
	}
	printf("rc=%ld", rc);
	if (fd >= 0) {
		struct timeval tv = { .tv_sec = 2 };

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		n = read(fd, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = 0;
			buf[strcspn(buf, "\r\n")] = 0;
			printf(" read=%s", buf);
		}
	}
	printf("\n");
}

/* ADDR as the socket family wants it; mapped: ::ffff:ADDR4. */
static int
parse(const char *a, const char *port, int fam)
{
	uint16_t p = htons((uint16_t)atoi(port));

	memset(&dst, 0, sizeof(dst));
	if (fam == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&dst;

		s->sin_family = AF_INET;
		s->sin_port = p;
		dstlen = sizeof(*s);
		return inet_pton(AF_INET, a, &s->sin_addr) == 1 ? 0 : -1;
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&dst;
	char m[64];

	s6->sin6_family = AF_INET6;
	s6->sin6_port = p;
	dstlen = sizeof(*s6);
	if (!strchr(a, ':')) {
		snprintf(m, sizeof(m), "::ffff:%s", a);
		a = m;
	}
	return inet_pton(AF_INET6, a, &s6->sin6_addr) == 1 ? 0 : -1;
}

static int
fam_of(const char *a)
{
	return strchr(a, ':') ? AF_INET6 : AF_INET;
}

static int
tcp_with(connect_fn fn, int fam)
{
	int fd = socket(fam, SOCK_STREAM, 0);

	if (fd < 0)
		return 2;
	report(fn(fd, (struct sockaddr *)&dst, dstlen), fd);
	return 0;
}

static int
udp_sendto(int fam)
{
	int fd = socket(fam, SOCK_DGRAM, 0);

	if (fd < 0)
		return 2;
	report(sendto(fd, MSG, strlen(MSG), 0, (struct sockaddr *)&dst,
		      dstlen), -1);
	return 0;
}

static int
udp_sendmsg(int fam)
{
	struct iovec io = { .iov_base = MSG, .iov_len = strlen(MSG) };
	struct msghdr m = { .msg_name = &dst, .msg_namelen = dstlen,
			    .msg_iov = &io, .msg_iovlen = 1 };
	int fd = socket(fam, SOCK_DGRAM, 0);

	if (fd < 0)
		return 2;
	report(sendmsg(fd, &m, 0), -1);
	return 0;
}

static int
udp_mmsg(int (*fn)(int, struct mmsghdr *, unsigned int, int))
{
	struct iovec io = { .iov_base = MSG, .iov_len = strlen(MSG) };
	struct mmsghdr v[2];
	int fd = socket(dst.ss_family, SOCK_DGRAM, 0), i;

	if (fd < 0)
		return 2;
	memset(v, 0, sizeof(v));
	for (i = 0; i < 2; i++) {
		v[i].msg_hdr.msg_name = &dst;
		v[i].msg_hdr.msg_namelen = dstlen;
		v[i].msg_hdr.msg_iov = &io;
		v[i].msg_hdr.msg_iovlen = 1;
	}
	report(fn(fd, v, 2, 0), -1);
	return 0;
}

static int
tfo(void)
{
	int fd = socket(dst.ss_family, SOCK_STREAM, 0);

	if (fd < 0)
		return 2;
	report(sendto(fd, MSG, strlen(MSG), MSG_FASTOPEN,
		      (struct sockaddr *)&dst, dstlen), fd);
	return 0;
}

static int
alias(const char *sym)
{
	void *f = dlsym(RTLD_DEFAULT, sym);

	if (!f) {
		printf("no %s\n", sym);
		return 2;
	}
	if (strcmp(sym, "__connect") == 0)
		return tcp_with((connect_fn)f, dst.ss_family);
	if (strcmp(sym, "__sendmmsg") == 0)
		return udp_mmsg((int (*)(int, struct mmsghdr *, unsigned int,
					 int))f);
	if (strcmp(sym, "__send") == 0) {
		ssize_t (*snd)(int, const void *, size_t, int) =
			(ssize_t (*)(int, const void *, size_t, int))f;
		int fd = socket(dst.ss_family, SOCK_DGRAM, 0);

		/* connect() is refused under strict: then __send has no
		 * peer and the kernel says so (EDESTADDRREQ) */
		report(connect(fd, (struct sockaddr *)&dst, dstlen), -1);
		report(snd(fd, MSG, strlen(MSG), 0), -1);
		return 0;
	}
	return 2;
}

static long
raw_syscall3(long n, long a, long b, long c)
{
	long ret;

#ifndef __x86_64__
	/* the 32-bit build (t_escape.sh's esc_m32) never runs this */
	(void)n, (void)a, (void)b, (void)c;
	ret = -ENOSYS;
#else
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
#endif
	return ret;
}

static int
inline_asm(void)
{
	long fd = raw_syscall3(SYS_socket, dst.ss_family, SOCK_STREAM, 0);
	long rc;

	if (fd < 0)
		return 2;
	rc = raw_syscall3(SYS_connect, fd, (long)&dst, dstlen);
	if (rc < 0) {
		errno = (int)-rc;
		rc = -1;
	}
	report(rc, (int)fd);
	return 0;
}

/* One IORING_OP_CONNECT (TCP) or IORING_OP_SENDMSG (UDP, with a name)
 * through the raw ring (no liburing). */
static int
uring(int op)
{
	struct iovec io = { .iov_base = MSG, .iov_len = strlen(MSG) };
	struct msghdr m = { .msg_name = &dst, .msg_namelen = dstlen,
			    .msg_iov = &io, .msg_iovlen = 1 };
	struct io_uring_params p;
	int ring, fd;
	unsigned char *sq, *cq;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqe;
	unsigned *tail, *array, mask;

	memset(&p, 0, sizeof(p));
	ring = (int)syscall(SYS_io_uring_setup, 4, &p);
	if (ring < 0) {
		printf("setup ");
		report(-1, -1);
		return 0;
	}
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring,
		  IORING_OFF_SQ_RING);
	cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(*cqe),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring,
		  IORING_OFF_CQ_RING);
	sqes = mmap(NULL, p.sq_entries * sizeof(*sqes), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		return 2;
	fd = socket(dst.ss_family,
		    op == IORING_OP_CONNECT ? SOCK_STREAM : SOCK_DGRAM, 0);
	memset(&sqes[0], 0, sizeof(sqes[0]));
	sqes[0].opcode = (unsigned char)op;
	sqes[0].fd = fd;
	if (op == IORING_OP_CONNECT) {
		sqes[0].addr = (unsigned long)&dst;
		sqes[0].off = dstlen;
	} else {
		sqes[0].addr = (unsigned long)&m;
	}
	tail = (unsigned *)(sq + p.sq_off.tail);
	mask = *(unsigned *)(sq + p.sq_off.ring_mask);
	array = (unsigned *)(sq + p.sq_off.array);
	array[*tail & mask] = 0;
	__atomic_store_n(tail, *tail + 1, __ATOMIC_RELEASE);
	if (syscall(SYS_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS,
		    NULL, 0) < 0) {
		printf("enter ");
		report(-1, -1);
		return 0;
	}
	cqe = (struct io_uring_cqe *)(cq + p.cq_off.cqes) +
	      (*(unsigned *)(cq + p.cq_off.head) &
	       *(unsigned *)(cq + p.cq_off.ring_mask));
	if (cqe->res < 0) {
		errno = -cqe->res;
		report(-1, -1);
	} else {
		report(cqe->res, op == IORING_OP_CONNECT ? fd : -1);
	}
	return 0;
}

static uint16_t
csum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)(b[n - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

/* An IPv4 header (when ip) and a UDP header, then MSG. */
static size_t
build(uint8_t *pkt, int ip)
{
	struct sockaddr_in *d = (struct sockaddr_in *)&dst;
	size_t ulen = 8 + strlen(MSG), off = ip ? 20 : 0;

	memset(pkt, 0, off + ulen);
	if (ip) {
		pkt[0] = 0x45;
		pkt[2] = (uint8_t)((20 + ulen) >> 8);
		pkt[3] = (uint8_t)(20 + ulen);
		pkt[8] = 64;
		pkt[9] = IPPROTO_UDP;
		inet_pton(AF_INET, "198.18.2.2", pkt + 12);
		memcpy(pkt + 16, &d->sin_addr, 4);
		uint16_t c = csum(pkt, 20);
		memcpy(pkt + 10, &c, 2);
	}
	pkt[off + 0] = 0x30;	/* source port 12345 */
	pkt[off + 1] = 0x39;
	memcpy(pkt + off + 2, &d->sin_port, 2);
	pkt[off + 4] = (uint8_t)(ulen >> 8);
	pkt[off + 5] = (uint8_t)ulen;
	memcpy(pkt + off + 8, MSG, strlen(MSG));
	return off + ulen;
}

static int
rawip(void)
{
	uint8_t pkt[128];
	size_t n = build(pkt, 0);
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);

	if (fd < 0) {
		report(-1, -1);
		return 0;
	}
	report(sendto(fd, pkt, n, 0, (struct sockaddr *)&dst, dstlen), -1);
	return 0;
}

static int
packet(const char *ifname)
{
	uint8_t pkt[128];
	size_t n = build(pkt, 1);
	struct sockaddr_ll ll = { .sll_family = AF_PACKET,
				  .sll_protocol = htons(0x0800),
				  .sll_halen = 6 };
	int fd = socket(AF_PACKET, SOCK_DGRAM, htons(0x0800));

	if (fd < 0) {
		report(-1, -1);
		return 0;
	}
	ll.sll_ifindex = (int)if_nametoindex(ifname);
	memset(ll.sll_addr, 0xff, 6);
	report(sendto(fd, pkt, n, 0, (struct sockaddr *)&ll, sizeof(ll)), -1);
	return 0;
}

static volatile sig_atomic_t n_conn, n_ok, n_acces, n_other;

/* Only async-signal-safe calls here. */
static void
on_alarm(int sig)
{
	int fd = socket(dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0), e;

	(void)sig;
	e = errno;
	if (fd < 0)
		return;
	n_conn++;
	if (connect(fd, (struct sockaddr *)&dst, dstlen) == 0 ||
	    errno == EINPROGRESS)
		n_ok++;
	else if (errno == EACCES)
		n_acces++;
	else
		n_other++;
	close(fd);
	errno = e;
}

static int
sigconnect(const char *name)
{
	struct itimerval it = { .it_interval = { 0, 2000 },
				.it_value = { 0, 2000 } };
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	struct sigaction sa = { .sa_handler = on_alarm };
	struct timespec t0, t;
	int lookups = 0;

	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (getaddrinfo(name, "80", &hints, &res) == 0)
			freeaddrinfo(res);
		lookups++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (n_conn < 100 && t.tv_sec - t0.tv_sec < 4);
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	printf("lookups=%d connects=%d ok=%d eacces=%d other=%d\n", lookups,
	       (int)n_conn, (int)n_ok, (int)n_acces, (int)n_other);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "";
	int a = 2;

	if (strcmp(how, "execraw") == 0 && argc > 2) {
		extern char **environ;

		syscall(SYS_execve, argv[2], argv + 2, environ);
		report(-1, -1);
		return 2;
	}
	if (strcmp(how, "alias") == 0 || strcmp(how, "packet") == 0)
		a = 3;
	if (argc < a + 2) {
		fprintf(stderr, "usage: escapes HOW [SYM|IFACE] ADDR PORT\n");
		return 2;
	}
	const char *addr = argv[a], *port = argv[a + 1];
	int fam = fam_of(addr);

	if (strncmp(how, "tcp6", 4) == 0 || strcmp(how, "udp6") == 0 ||
	    strcmp(how, "sendmsg6") == 0)
		fam = AF_INET6;
	if (parse(addr, port, fam) < 0)
		return 2;
	if (strcmp(how, "tcp6-24") == 0 || strcmp(how, "tcp6-mapped24") == 0)
		dstlen = 24;
	if (strncmp(how, "tcp", 3) == 0)
		return tcp_with(connect, fam);
	if (strncmp(how, "udp", 3) == 0 && strcmp(how, "udp-connect") != 0)
		return udp_sendto(fam);
	if (strcmp(how, "udp-connect") == 0) {
		int fd = socket(fam, SOCK_DGRAM, 0);

		report(connect(fd, (struct sockaddr *)&dst, dstlen), -1);
		report(send(fd, MSG, strlen(MSG), 0), -1);
		return 0;
	}
	if (strncmp(how, "sendmsg", 7) == 0)
		return udp_sendmsg(fam);
	if (strcmp(how, "mmsg4") == 0)
		return udp_mmsg(sendmmsg);
	if (strcmp(how, "tfo") == 0)
		return tfo();
	if (strcmp(how, "alias") == 0)
		return alias(argv[2]);
	if (strcmp(how, "dlvsym") == 0) {
		void *f = dlvsym(RTLD_DEFAULT, "connect", "GLIBC_2.2.5");

		return f ? tcp_with((connect_fn)f, fam) : 2;
	}
	if (strcmp(how, "dlopen") == 0) {
		void *h = dlopen("libc.so.6", RTLD_NOW);
		void *f = h ? dlsym(h, "connect") : NULL;

		return f ? tcp_with((connect_fn)f, fam) : 2;
	}
	if (strcmp(how, "dlmopen") == 0) {
		void *h = dlmopen(LM_ID_NEWLM, "libc.so.6", RTLD_NOW);
		void *f = h ? dlsym(h, "connect") : NULL;

		if (!f)
			printf("dlmopen: %s\n", dlerror());
		return f ? tcp_with((connect_fn)f, fam) : 2;
	}
	if (strcmp(how, "syscall") == 0) {
		int fd = socket(fam, SOCK_STREAM, 0);

		report(syscall(SYS_connect, fd, &dst, dstlen), fd);
		return 0;
	}
	if (strcmp(how, "asm") == 0)
		return inline_asm();
	if (strcmp(how, "uring") == 0)
		return uring(IORING_OP_CONNECT);
	if (strcmp(how, "uring-sendmsg") == 0)
		return uring(IORING_OP_SENDMSG);
	if (strcmp(how, "rawip") == 0)
		return rawip();
	if (strcmp(how, "packet") == 0)
		return packet(argv[2]);
	if (strcmp(how, "sigconnect") == 0 && argc > 4)
		return sigconnect(argv[4]);
	fprintf(stderr, "escapes: unknown %s\n", how);
	return 2;
}
