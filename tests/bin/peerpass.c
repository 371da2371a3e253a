/*
 * peerpass - a connected TCP socket handed to another process, and what
 * getpeername says in each: the one that connected, and the one that got
 * the socket by exec, fork or SCM_RIGHTS (for an https proxy's tunnel,
 * the kernel's peer there is proxywrap's relay).  Each process prints
 *
 *   WHO peer=ADDR:PORT len=N short=HEX shortlen=N opt=HEX optbig=ERR
 *
 * (short: the first 8 bytes and the length with an 8-byte buffer; opt:
 * getsockopt(SO_PEERNAME) of 8 bytes, optbig its answer for 128); the
 * last one sends "GET PATH", prints the status line, reads to the end and
 * prints getpeername again ("WHO eof peer=...": a socket whose peer has
 * closed still has one), then shuts its own side and once more ("WHO
 * closed peer=...": closed both ways, it has none).
 *
 *   peerpass exec ADDR PORT PATH [CHILD]  connect, exec CHILD (default:
 *                                         this program) with the fd
 *   peerpass fork ADDR PORT PATH          connect, fork
 *   peerpass scm ADDR PORT PATH           fork first, then connect and
 *                                         pass the fd over an AF_UNIX pair
 *   peerpass child FD PATH                (what exec runs)
 *
 * ADDR with a ':' is connected from an AF_INET6 socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* getsockopt(SO_PEERNAME) with n bytes: " opt=HEX" or " optbig=..." */
static void
opt(int fd, socklen_t n)
{
	unsigned char b[128];
	socklen_t len = n;
	char hex[17] = "";
	int i;

	memset(b, 0xee, sizeof(b));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERNAME, b, &len) == -1) {
		printf(" opt%s=%s", n > 8 ? "big" : "", strerrorname_np(errno));
		return;
	}
	for (i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	printf(" opt%s=%s/%u", n > 8 ? "big" : "", hex, (unsigned)len);
}

static void
show(const char *who, int fd)
{
	struct sockaddr_storage ss;
	unsigned char sh[8];
	socklen_t len = sizeof(ss), slen = sizeof(sh);
	char host[INET6_ADDRSTRLEN] = "?", hex[17];
	unsigned port = 0;
	int i;

	memset(&ss, 0, sizeof(ss));
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1) {
		printf("%s peer=error:%s", who, strerrorname_np(errno));
		opt(fd, 8);
		printf("\n");
		return;
	}
	if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
			  host, sizeof(host));
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
			  host, sizeof(host));
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	memset(sh, 0xee, sizeof(sh));
	if (getpeername(fd, (struct sockaddr *)sh, &slen) == -1)
		slen = 0;
	for (i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", sh[i]);
	printf(ss.ss_family == AF_INET6 ? "%s peer=[%s]:%u len=%u short=%s "
	       "shortlen=%u" : "%s peer=%s:%u len=%u short=%s shortlen=%u",
	       who, host, port, (unsigned)len, hex, (unsigned)slen);
	opt(fd, 8);
	opt(fd, 128);
	printf("\n");
	fflush(stdout);
}

/* GET path on fd: the status line, then the peer once the server has
 * closed its side. */
static int
get(const char *who, int fd, const char *path)
{
	char req[512], buf[4096], *eol;
	size_t have = 0;
	ssize_t r;
	int n;

	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: x\r\n\r\n",
		     path);
	if (write(fd, req, (size_t)n) != n) {
		printf("%s write: %s\n", who, strerror(errno));
		return 1;
	}
	while ((r = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0)
		if (have + (size_t)r < sizeof(buf) - 1)
			have += (size_t)r;
	buf[have] = '\0';
	eol = strstr(buf, "\r\n");
	if (eol != NULL)
		*eol = '\0';
	printf("%s status=%s\n", who, buf);
	snprintf(req, sizeof(req), "%s eof", who);
	show(req, fd);
	/* our FIN, its ACK: closed both ways (on loopback or a veth, well
	 * within the wait) */
	shutdown(fd, SHUT_WR);
	usleep(300 * 1000);
	snprintf(req, sizeof(req), "%s closed", who);
	show(req, fd);
	return have > 0 ? 0 : 1;
}

static int
dial(const char *addr, const char *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	int v6 = strchr(addr, ':') != NULL, fd, rc;

	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
	if (fd == -1)
		return -1;
	if (v6) {
		s6.sin6_port = htons((uint16_t)atoi(port));
		inet_pton(AF_INET6, addr, &s6.sin6_addr);
		rc = connect(fd, (struct sockaddr *)&s6, sizeof(s6));
	} else {
		sin.sin_port = htons((uint16_t)atoi(port));
		inet_pton(AF_INET, addr, &sin.sin_addr);
		rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	}
	if (rc == -1) {
		printf("connect: %s\n", strerror(errno));
		return -1;
	}
	return fd;
}

static int
send_fd(int via, int fd)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} c;
	char one = 'x';
	struct iovec iov = { .iov_base = &one, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = c.b, .msg_controllen = sizeof(c.b) };

	memset(&c, 0, sizeof(c));
	c.h.cmsg_level = SOL_SOCKET;
	c.h.cmsg_type = SCM_RIGHTS;
	c.h.cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(&c.h), &fd, sizeof(int));
	return sendmsg(via, &mh, 0) == 1 ? 0 : -1;
}

static int
recv_fd(int via)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} c;
	char one;
	struct iovec iov = { .iov_base = &one, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = c.b, .msg_controllen = sizeof(c.b) };
	struct cmsghdr *h;
	int fd = -1;

	if (recvmsg(via, &mh, 0) != 1)
		return -1;
	h = CMSG_FIRSTHDR(&mh);
	if (h != NULL && h->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(h), sizeof(int));
	return fd;
}

static int
reap(pid_t pid)
{
	int st = 0;

	if (waitpid(pid, &st, 0) != pid)
		return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

int
main(int argc, char **argv)
{
	char num[16];
	int fd, sv[2], rc;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && strcmp(argv[1], "child") == 0) {
		fd = atoi(argv[2]);
		show("child", fd);
		return get("child", fd, argv[3]);
	}
	if (argc < 5)
		goto usage;
	if (strcmp(argv[1], "scm") == 0) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
			return 2;
		pid = fork();
		if (pid == 0) {
			/* forked before the connect: nothing of it here */
			close(sv[0]);
			fd = recv_fd(sv[1]);
			if (fd < 0)
				_exit(3);
			show("received", fd);
			_exit(get("received", fd, argv[4]));
		}
		close(sv[1]);
		fd = dial(argv[2], argv[3]);
		if (fd < 0)
			return 1;
		show("parent", fd);
		if (send_fd(sv[0], fd) < 0)
			return 2;
		close(fd);
		return reap(pid);
	}
	fd = dial(argv[2], argv[3]);
	if (fd < 0)
		return 1;
	show("parent", fd);
	if (strcmp(argv[1], "fork") == 0) {
		pid = fork();
		if (pid == 0) {
			show("forked", fd);
			_exit(get("forked", fd, argv[4]));
		}
		close(fd);
		return reap(pid);
	}
	if (strcmp(argv[1], "exec") == 0) {
		snprintf(num, sizeof(num), "%d", fd);
		execl(argc > 5 ? argv[5] : "/proc/self/exe", "peerpass",
		      "child", num, argv[4], (char *)NULL);
		rc = errno;
		printf("exec: %s\n", strerror(rc));
		return 126;
	}
usage:
	fprintf(stderr, "usage: peerpass exec|fork|scm ADDR PORT PATH [CHILD]\n"
		"       peerpass child FD PATH\n");
	return 2;
}
