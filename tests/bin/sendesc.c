/*
 * sendesc.c - datagrams and Fast Open sent the odd ways the kernel
 * accepts, for the integration tests (t_harden.sh).  Each prints the
 * call's result as "rc=N" or "rc=-1 errno=NAME".
 *
 *   sendesc udp6-24 ADDR6 PORT MSG     AF_INET6 name of 24 bytes
 *   sendesc udp6-mapped ADDR4 PORT MSG ::ffff:ADDR4 from an AF_INET6 socket
 *   sendesc udp6-mapped24 ADDR4 PORT MSG  the same in 24 bytes
 *   sendesc udp-unspec ADDR4 PORT MSG  AF_INET socket, sin_family AF_UNSPEC
 *   sendesc mmsg ADDR4 PORT MSG        sendmmsg of 3: MSG to ADDR4:PORT x3
 *   sendesc mmsg-tfo ADDR4 PORT MSG    TCP sendmmsg with MSG_FASTOPEN
 *   sendesc mmsg-big ADDR4 PORT MSG    sendmmsg of 2000, entries from 1024
 *                                      on unreadable (the kernel sends
 *                                      UIO_MAXIOV, 1024, and reads no more)
 *   sendesc longname ADDR4 PORT MSG    sendto with addrlen 200 (EINVAL)
 *   sendesc badptr ADDR4 PORT MSG      bad pointers to sendto, sendmsg,
 *                                      sendmmsg and recvmsg (EFAULT), one
 *                                      line each
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

static int
report(long rc)
{
	if (rc < 0)
		printf("rc=-1 errno=%s\n", strerrorname_np(errno));
	else
		printf("rc=%ld\n", rc);
	return 0;
}

static struct sockaddr_in
sin4(const char *a, const char *port)
{
	struct sockaddr_in s = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)atoi(port)) };

	if (inet_pton(AF_INET, a, &s.sin_addr) != 1)
		exit(2);
	return s;
}

/* n entries; with `fence`, those from UIO_MAXIOV (1024) on lie in a page
 * that cannot be read: the kernel never looks there. */
static int
mmsg(int fd, const struct sockaddr_in *to, const char *msg, unsigned int n,
     int flags, bool fence)
{
	size_t head = 1024 * sizeof(struct mmsghdr);
	struct mmsghdr *v;
	struct iovec io = { .iov_base = (void *)msg, .iov_len = strlen(msg) };
	unsigned int i;

	if (fence) {
		v = mmap(NULL, n * sizeof(*v) + 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (v == MAP_FAILED || head % 4096 != 0 ||
		    mprotect((char *)v + head, n * sizeof(*v) - head,
			     PROT_NONE) != 0)
			return 2;
	} else {
		v = calloc(n, sizeof(*v));
	}
	if (v == NULL)
		return 2;
	for (i = 0; i < n && (!fence || i < 1024); i++) {
		v[i].msg_hdr.msg_name = (void *)to;
		v[i].msg_hdr.msg_namelen = sizeof(*to);
		v[i].msg_hdr.msg_iov = &io;
		v[i].msg_hdr.msg_iovlen = 1;
	}
	return report(sendmmsg(fd, v, n, flags));
}

/* Each call with a pointer the kernel cannot read: one line each. */
static int
badptr(const struct sockaddr_in *to, const char *msg)
{
	void *bad[] = { (void *)1, (void *)-1L, (void *)0xfff };
	struct iovec io = { .iov_base = (void *)msg, .iov_len = strlen(msg) };
	struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1 };
	struct mmsghdr v[2];
	size_t i;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		printf("sendto name %zu: ", i);
		report(sendto(fd, msg, strlen(msg), 0, bad[i], sizeof(*to)));
		printf("sendmsg header %zu: ", i);
		report(sendmsg(fd, bad[i], 0));
		m.msg_name = bad[i];
		m.msg_namelen = sizeof(*to);
		printf("sendmsg name %zu: ", i);
		report(sendmsg(fd, &m, 0));
		printf("sendmmsg vector %zu: ", i);
		report(sendmmsg(fd, bad[i], 2, 0));
		memset(v, 0, sizeof(v));
		v[0].msg_hdr.msg_name = (void *)to;
		v[0].msg_hdr.msg_namelen = sizeof(*to);
		v[0].msg_hdr.msg_iov = &io;
		v[0].msg_hdr.msg_iovlen = 1;
		v[1] = v[0];
		v[1].msg_hdr.msg_name = bad[i];
		printf("sendmmsg second name %zu: ", i);
		report(sendmmsg(fd, v, 2, 0));
		printf("recvmsg header %zu: ", i);
		report(recvmsg(fd, bad[i], MSG_DONTWAIT));
		m.msg_name = bad[i];
		printf("recvmsg name %zu: ", i);
		report(recvmsg(fd, &m, MSG_DONTWAIT));
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *how, *msg;
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	struct sockaddr_storage big;
	struct sockaddr_in s4;
	int fd;

	if (argc < 5)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	how = argv[1];
	msg = argv[4];
	if (strncmp(how, "udp6-", 5) == 0) {
		fd = socket(AF_INET6, SOCK_DGRAM, 0);
		s6.sin6_port = htons((uint16_t)atoi(argv[3]));
		if (how[5] == 'm') {
			if (inet_pton(AF_INET, argv[2], &s6.sin6_addr.s6_addr[12]) != 1)
				return 2;
			s6.sin6_addr.s6_addr[10] = 0xff;
			s6.sin6_addr.s6_addr[11] = 0xff;
		} else if (inet_pton(AF_INET6, argv[2], &s6.sin6_addr) != 1) {
			return 2;
		}
		return report(sendto(fd, msg, strlen(msg), 0,
				     (struct sockaddr *)&s6,
				     strcmp(how, "udp6-mapped") == 0 ?
				     sizeof(s6) : 24));
	}
	s4 = sin4(argv[2], argv[3]);
	if (strcmp(how, "udp-unspec") == 0) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		s4.sin_family = AF_UNSPEC;
		return report(sendto(fd, msg, strlen(msg), 0,
				     (struct sockaddr *)&s4, sizeof(s4)));
	}
	if (strcmp(how, "badptr") == 0)
		return badptr(&s4, msg);
	if (strcmp(how, "longname") == 0) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		memset(&big, 0, sizeof(big));
		memcpy(&big, &s4, sizeof(s4));
		return report(sendto(fd, msg, strlen(msg), 0,
				     (struct sockaddr *)&big, 200));
	}
	if (strcmp(how, "mmsg") == 0 || strcmp(how, "mmsg-big") == 0) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		return mmsg(fd, &s4, msg, how[5] == 'b' ? 2000 : 3, 0,
			    how[5] == 'b');
	}
	if (strcmp(how, "mmsg-tfo") == 0) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		return mmsg(fd, &s4, msg, 1, MSG_FASTOPEN, false);
	}
	return 2;
}
