/*
 * sigconnect - connect() from a signal handler while the main thread is
 * inside getaddrinfo (under the shim: inside the library's own lookup).
 *
 *   sigconnect NAME ADDR PORT SECONDS
 *
 * A 1 ms interval timer's handler makes a non-blocking TCP connect to
 * ADDR:PORT each time; the main thread resolves NAME in a loop for
 * SECONDS.  Prints how the handler's connects ended:
 *   "lookups N connects N eacces N other N"
 * A rule file that blocks ADDR must make every one EACCES.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in dst;
static volatile sig_atomic_t n_conn, n_eacces, n_other;

static void
on_alarm(int sig)
{
	int saved = errno, fd, rc;

	(void)sig;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return;
	rc = connect(fd, (struct sockaddr *)&dst, sizeof(dst));
	n_conn++;
	if (rc < 0 && errno == EACCES)
		n_eacces++;
	else
		n_other++;
	close(fd);
	errno = saved;
}

int
main(int argc, char **argv)
{
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	struct sigaction sa;
	struct timespec t0, t;
	long lookups = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: sigconnect NAME ADDR PORT SECONDS\n");
		return 2;
	}
	dst.sin_family = AF_INET;
	dst.sin_port = htons((unsigned short)atoi(argv[3]));
	if (inet_pton(AF_INET, argv[2], &dst.sin_addr) != 1)
		return 2;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (getaddrinfo(argv[1], "80", &hints, &res) == 0)
			freeaddrinfo(res);
		lookups++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < atoi(argv[4]));
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	printf("lookups %ld connects %d eacces %d other %d\n", lookups,
	       (int)n_conn, (int)n_eacces, (int)n_other);
	return 0;
}
