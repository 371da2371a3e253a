/*
 * suphostile - targets that try to hurt the supervisor, built static so
 * that only the supervisor sees their calls (the shim is not in them).
 *
 *   suphostile die ADDR PORT N      N times: a child starts a blocking
 *                                   connect to ADDR:PORT (a proxy that
 *                                   never answers) and is killed with
 *                                   SIGKILL while the supervisor holds
 *                                   the call; prints how long each child
 *                                   took to die, then one loopback
 *                                   connect of its own
 *   suphostile bomb DEPTH           a fork tree 2^DEPTH processes wide:
 *                                   every process forks two children
 *                                   until DEPTH, then each leaf makes one
 *                                   loopback connect; prints how many
 *                                   leaves connected
 *   suphostile flip N               N threads each keep connecting to a
 *                                   loopback listener while the main
 *                                   thread keeps remapping the page that
 *                                   holds their address (PROT_NONE, then
 *                                   back): every call ends with 0 or the
 *                                   kernel's EFAULT, nothing else
 *
 * Raw system calls throughout: what the kernel would give is what is
 * printed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A loopback listener on an ephemeral port; its address in *sa. */
static int
listener(struct sockaddr_in *sa)
{
	socklen_t len = sizeof(*sa);
	int fd = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)sa, sizeof(*sa)) != 0 ||
	    listen(fd, 4096) != 0 ||
	    getsockname(fd, (struct sockaddr *)sa, &len) != 0) {
		perror("listener");
		exit(2);
	}
	return fd;
}

static long
raw_connect(const struct sockaddr_in *sa)
{
	int fd = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	long rc = syscall(SYS_connect, fd, sa, sizeof(*sa));
	int e = errno;

	close(fd);
	errno = e;
	return rc;
}

/* die: the call the supervisor is working on loses its process. */
static int
die(const char *a, const char *p, int n)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	double t0, worst = 0;
	int i, status, lfd;
	pid_t c;
	long rc;

	sa.sin_port = htons((unsigned short)atoi(p));
	if (inet_pton(AF_INET, a, &sa.sin_addr) != 1)
		return 2;
	for (i = 0; i < n; i++) {
		c = fork();
		if (c == 0) {
			raw_connect(&sa);
			_exit(0);
		}
		usleep(50000);	/* the connect is in the supervisor's hands */
		t0 = now_ms();
		kill(c, SIGKILL);
		if (waitpid(c, &status, 0) != c || !WIFSIGNALED(status)) {
			printf("die: child %d was not killed\n", i);
			return 1;
		}
		if (now_ms() - t0 > worst)
			worst = now_ms() - t0;
	}
	lfd = listener(&sa);
	rc = raw_connect(&sa);
	printf("die children=%d killed=%d worst_ms=%.0f after rc=%ld\n", n, n,
	       worst, rc);
	close(lfd);
	return 0;
}

/* bomb: a wide tree, every leaf connects once; the exit status of each
 * process is the number of its leaves that connected (<= 2^DEPTH, kept
 * under 256 by the caller's DEPTH). */
static int
bomb_level(const struct sockaddr_in *sa, int depth)
{
	pid_t c[2];
	int i, st, ok = 0;

	if (depth == 0)
		return raw_connect(sa) == 0;
	for (i = 0; i < 2; i++) {
		c[i] = fork();
		if (c[i] == 0)
			_exit(bomb_level(sa, depth - 1));
	}
	for (i = 0; i < 2; i++) {
		if (c[i] < 0)
			continue;	/* out of processes: that leaf fails */
		while (waitpid(c[i], &st, 0) < 0 && errno == EINTR)
			;
		if (WIFEXITED(st))
			ok += WEXITSTATUS(st);
	}
	return ok;
}

static int
bomb(int depth)
{
	struct sockaddr_in sa;
	int lfd = listener(&sa), ok;
	double t0 = now_ms();

	if (depth < 1 || depth > 7)
		return 2;
	ok = bomb_level(&sa, depth);
	printf("bomb leaves=%d connected=%d in %.0f ms\n", 1 << depth, ok,
	       now_ms() - t0);
	close(lfd);
	return 0;
}

/* flip: the page with the address comes and goes under the calls. */
static struct sockaddr_in *f_sa;
static volatile int f_stop;
static int f_ok, f_efault, f_other, f_lfd;

/* the listener's backlog must not fill: accept and close */
static void *
flipper_acc(void *arg)
{
	int c;

	(void)arg;
	while ((c = accept(f_lfd, NULL, NULL)) >= 0)
		close(c);
	return NULL;
}

static void *
flipper_conn(void *arg)
{
	(void)arg;
	while (!f_stop) {
		long rc = raw_connect(f_sa);

		if (rc == 0)
			__atomic_add_fetch(&f_ok, 1, __ATOMIC_SEQ_CST);
		else if (errno == EFAULT)
			__atomic_add_fetch(&f_efault, 1, __ATOMIC_SEQ_CST);
		else {
			if (__atomic_add_fetch(&f_other, 1,
					       __ATOMIC_SEQ_CST) == 1)
				printf("flip: connect errno %d\n", errno);
		}
	}
	return NULL;
}

static int
flip(int n)
{
	pthread_t t[64], acc;
	struct sockaddr_in sa;
	int i, made = 0;
	double end;

	if (n < 1 || n > 64)
		return 2;
	f_lfd = listener(&sa);
	pthread_create(&acc, NULL, flipper_acc, NULL);
	f_sa = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f_sa == MAP_FAILED)
		return 2;
	*f_sa = sa;
	for (i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, flipper_conn, NULL) == 0)
			made++;
	end = now_ms() + 2000;
	while (now_ms() < end) {
		mprotect(f_sa, 4096, PROT_NONE);
		usleep(200);
		mprotect(f_sa, 4096, PROT_READ | PROT_WRITE);
		usleep(800);
	}
	f_stop = 1;
	for (i = 0; i < made; i++)
		pthread_join(t[i], NULL);
	printf("flip threads=%d ok=%d efault=%d other=%d\n", made, f_ok,
	       f_efault, f_other);
	shutdown(f_lfd, SHUT_RDWR);	/* ends the accept loop */
	pthread_join(acc, NULL);
	close(f_lfd);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(how, "die") == 0 && argc == 5)
		return die(argv[2], argv[3], atoi(argv[4]));
	if (strcmp(how, "bomb") == 0 && argc == 3)
		return bomb(atoi(argv[2]));
	if (strcmp(how, "flip") == 0 && argc == 3)
		return flip(atoi(argv[2]));
	fprintf(stderr, "usage: suphostile die|bomb|flip ...\n");
	return 2;
}
