/*
 * halfclose.c - the C client of tests/integ/halfclose.py's server:
 *
 *   halfclose HOST PORT N   send N bytes of the pattern, shutdown(SHUT_WR),
 *                           read the answer and the N bytes back to EOF
 *
 * Prints "HALFCLOSE ok N" and exits 0 when every byte came back; 3 with
 * "ERRNO NAME" when connect fails; 1 otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PERIOD 65521

static unsigned char
pat(size_t k)
{
	return (unsigned char)(((k % PERIOD) * 131 + 7) & 0xff);
}

static const char *
errname(int e)
{
	switch (e) {
	case ECONNREFUSED: return "ECONNREFUSED";
	case EACCES: return "EACCES";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case ENETUNREACH: return "ENETUNREACH";
	default: return strerror(e);
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	static unsigned char buf[65536];
	size_t n, off = 0, got = 0, k, i;
	char head[64];
	size_t hlen = 0;
	ssize_t r;
	int fd;

	if (argc != 4)
		return 2;
	n = strtoul(argv[3], NULL, 10);
	sin.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1)
		return 2;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		printf("ERRNO %s\n", errname(errno));
		return 3;
	}
	while (off < n) {
		k = n - off < sizeof(buf) ? n - off : sizeof(buf);
		for (i = 0; i < k; i++)
			buf[i] = pat(off + i);
		r = write(fd, buf, k);
		if (r <= 0) {
			perror("write");
			return 1;
		}
		off += (size_t)r;
	}
	shutdown(fd, SHUT_WR);
	/* the answer line, a byte at a time, then the bytes back */
	while (hlen + 1 < sizeof(head) && read(fd, head + hlen, 1) == 1 &&
	       head[hlen] != '\n')
		hlen++;
	head[hlen] = '\0';
	snprintf((char *)buf, sizeof(buf), "GOT %zu ok", n);
	if (strcmp(head, (char *)buf) != 0) {
		printf("BAD answer '%s'\n", head);
		return 1;
	}
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < (size_t)r; i++)
			if (buf[i] != pat(got + i)) {
				printf("BAD byte at %zu\n", got + i);
				return 1;
			}
		got += (size_t)r;
	}
	if (r < 0 || got != n) {
		printf("BAD echo: %zu bytes back, wanted %zu\n", got, n);
		return 1;
	}
	printf("HALFCLOSE ok %zu\n", n);
	return 0;
}
