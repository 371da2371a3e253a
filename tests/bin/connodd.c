/*
 * connodd - connect() with the odd arguments a hostile or sloppy program
 * passes, one line each: "CASE: rc errno".
 *
 *   connodd V4ADDR V6ADDR PORT
 *
 * Cases: AF_INET6 names of 24 bytes (RFC 2133, no scope id) to V6ADDR and
 * to ::ffff:V4ADDR, 28 and 128 bytes, one longer than a sockaddr_storage,
 * 23 bytes, a NULL and a wild pointer, a pointer into the first page.
 * Sockets are blocking: a connect that is let through completes (0) or
 * fails as the destination answers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int
main(int argc, char **argv)
{
	unsigned char big[sizeof(struct sockaddr_storage) + 8];
	struct sockaddr_in6 s6, m6;
	char mapped[64];

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
	return 0;
}
