/*
 * connodd - connect() with the odd arguments a hostile or sloppy program
 * passes, one line each: "CASE: rc errno".
 *
 *   connodd V4ADDR V6ADDR PORT
 *
 * Cases: AF_INET6 names of 24 bytes (RFC 2133, no scope id) to V6ADDR and
 * to ::ffff:V4ADDR, 28 and 128 bytes, one longer than a sockaddr_storage,
 * 23 bytes, a NULL and a wild pointer, a pointer into the first page, one
 * into an inaccessible page in the middle of the address space (also for
 * sendto, sendmsg, sendmmsg and recvmsg on a UDP socket), and a name that
 * runs from a good page into that one.
 * Sockets are blocking: a connect that is let through completes (0) or
 * fails as the destination answers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

static void
one(const char *name, int family, const void *sa, socklen_t len)
{
	int fd = socket(family, SOCK_STREAM, 0), rc;

	if (fd < 0) {
		perror("socket");
		exit(2);
	}
	rc = connect(fd, sa, len);
	printf("%s: %d %s\n", name, rc, rc == 0 ? "-" : strerrorname_np(errno));
	close(fd);
}

static void
rc_line(const char *name, long rc)
{
	printf("%s: %ld %s\n", name, rc, rc >= 0 ? "-" : strerrorname_np(errno));
}

/* The datagram calls with bad, an inaccessible address, where the kernel
 * reads a name, a message or a vector. */
static void
udp_odd(void *bad, const struct sockaddr_in6 *to)
{
	struct iovec v = { .iov_base = "x", .iov_len = 1 };
	struct msghdr m = { .msg_name = bad, .msg_namelen = sizeof(*to),
			    .msg_iov = &v, .msg_iovlen = 1 };
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);

	if (fd < 0)
		return;
	rc_line("udp sendto inaccessible name",
		sendto(fd, "x", 1, 0, bad, sizeof(*to)));
	rc_line("udp sendmsg inaccessible name", sendmsg(fd, &m, 0));
	rc_line("udp sendmsg inaccessible msghdr", sendmsg(fd, bad, 0));
	rc_line("udp sendmmsg inaccessible vector", sendmmsg(fd, bad, 2, 0));
	rc_line("udp recvmsg inaccessible msghdr",
		recvmsg(fd, bad, MSG_DONTWAIT));
	close(fd);
}

int
main(int argc, char **argv)
{
	unsigned char big[sizeof(struct sockaddr_storage) + 8];
	struct sockaddr_in6 s6, m6;
	char mapped[64], *page;

	if (argc != 4)
		return 2;
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons((unsigned short)atoi(argv[3]));
	m6 = s6;
	snprintf(mapped, sizeof(mapped), "::ffff:%s", argv[1]);
	if (inet_pton(AF_INET6, argv[2], &s6.sin6_addr) != 1 ||
	    inet_pton(AF_INET6, mapped, &m6.sin6_addr) != 1)
		return 2;
	one("v6 len 24", AF_INET6, &s6, 24);
	one("v4-mapped len 24", AF_INET6, &m6, 24);
	one("v6 len 28", AF_INET6, &s6, 28);
	memset(big, 0, sizeof(big));
	memcpy(big, &s6, sizeof(s6));
	one("v6 len 128", AF_INET6, big, sizeof(struct sockaddr_storage));
	one("v6 len 136", AF_INET6, big, sizeof(big));
	one("v6 len 23", AF_INET6, &s6, 23);
	one("NULL", AF_INET6, NULL, 28);
	one("first page", AF_INET6, (void *)16, 28);
	one("beyond 2^56", AF_INET6, (void *)(1UL << 60), 28);
	/* an inaccessible page after a good one */
	page = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED || mprotect(page + 4096, 4096, PROT_NONE) != 0)
		return 2;
	one("inaccessible page", AF_INET6, page + 4096, 28);
	memcpy(page + 4096 - 8, &s6, 8);
	one("name into an inaccessible page", AF_INET6, page + 4096 - 8, 28);
	udp_odd(page + 4096, &s6);
	return 0;
}
