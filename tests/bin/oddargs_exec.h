/* oddargs_exec.h - libc's other names of the hooked calls, and the exec
 * family where it fails (part of oddargs.c).  The aliases are looked up
 * at run time, as a program that wants to go past the hooks would: the
 * shim's when it is loaded, libc's without it. */

static void *
sym(const char *name)
{
	void *p = dlsym(RTLD_DEFAULT, name);

	if (p == NULL) {
		printf("%s: no such symbol\n", name);
		exit(2);
	}
	return p;
}

static void
t_alias(void)
{
	int (*a_connect)(int, const void *, socklen_t) = sym("__connect");
	ssize_t (*a_read)(int, void *, size_t) = sym("__read");
	ssize_t (*a_write)(int, const void *, size_t) = sym("__write");
	ssize_t (*a_recv)(int, void *, size_t, int) = sym("__recv");
	ssize_t (*a_send)(int, const void *, size_t, int) = sym("__send");
	int (*a_sendmmsg)(int, struct mmsghdr *, unsigned, int) =
		sym("__sendmmsg");
	int (*a_close)(int) = sym("__close");
	int (*a_dup2)(int, int) = sym("__dup2");
	int (*a_fcntl)(int, int, ...) = sym("__fcntl");
	int (*a_fcntl64)(int, int, ...) = sym("__libc_fcntl64");
	struct sockaddr_in s = sin_lst;
	char buf[8];
	int t = sock(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);

	T(a_connect(-1, &s, sizeof(s)));
	T(a_connect(t, LOW, sizeof(s)));
	T(a_connect(t, &s, 8));
	T(a_connect(t, &s, 4096));
	T(a_connect(inprog, &sin_full, sizeof(sin_full)));
	T(a_connect(conn, &s, sizeof(s)));
	T(a_read(-1, buf, 4));
	T(a_read(inprog, buf, 4));
	T(a_read(pr, LOW, 4));
	T(a_write(-1, "x", 1));
	T(a_write(inprog, "x", 1));
	T(a_write(pw, HIGH, 1));
	T(a_recv(pr, buf, 4, 0));
	T(a_recv(inprog, buf, 4, 0));
	T(a_recv(acc, buf, 4, 0x7f000000));
	T(a_send(-1, "x", 1, 0));
	T(a_send(inprog, "x", 1, 0));
	T(a_send(conn, LOW, 1, 0));
	T(a_sendmmsg(udp, NULL, 1, 0));
	T(a_sendmmsg(udp, LOW, 1, 0));
	T(a_sendmmsg(pr, NULL, 0, 0));
	T(a_close(-1));
	T(a_close(closed));
	T(a_dup2(-1, 500));
	T(a_dup2(pr, huge));
	T(a_dup2(pr, 500));
	T(a_close(500));
	T(a_fcntl(-1, F_GETFL));
	T(a_fcntl(pr, 0x7777));
	T(a_fcntl(file, F_GETLK, LOW));
	T(a_fcntl(pr, F_DUPFD, INT_MAX));
	T(a_fcntl64(-1, F_GETFL));
	T(a_fcntl64(file, F_GETLK, NULL));
	close(t);
}

static void
t_exec(void)
{
	char *argv[] = { "oddargs-child", NULL }, *envp[] = { "A=1", NULL };
	char *none[] = { NULL };
	pid_t pid = 0;

	T(execve("/nonexistent/x", argv, envp));
	T(execve("/nonexistent/x", NULL, NULL));
	T(execve("/nonexistent/x", none, none));
	T(execve("oddargs.tmp", argv, envp));
	T(execve("/", argv, envp));
	T(execve("", argv, envp));
	T(execve(NULL, argv, envp));
	T(execve(LOW, argv, envp));
	T(execve("/nonexistent/x", LOW, envp));
	T(execv("/nonexistent/x", argv));
	T(execv("oddargs.tmp", NULL));
	T(execvp("no-such-command-oddargs", argv));
	T(execvp("", argv));
	T(execvp("/nonexistent/x", argv));
	T(execvpe("no-such-command-oddargs", argv, envp));
	T(execvpe("no-such-command-oddargs", argv, NULL));
	T(execl("/nonexistent/x", "x", (char *)NULL));
	T(execle("/nonexistent/x", "x", (char *)NULL, envp));
	T(execle("oddargs.tmp", "x", (char *)NULL, NULL));
	T(execlp("no-such-command-oddargs", "x", (char *)NULL));
	T(fexecve(-1, argv, envp));
	T(fexecve(closed, argv, envp));
	T(fexecve(file, argv, envp));
	T(fexecve(pr, argv, envp));
	T(syscall(SYS_execveat, -1, "x", argv, envp, 0));
	T(syscall(SYS_execveat, AT_FDCWD, "oddargs.tmp", argv, envp, 0x7777));
	T(syscall(SYS_execve, "/nonexistent/x", argv, envp));
	T(execveat(-1, "x", argv, envp, 0));
	T(execveat(file, "", argv, envp, AT_EMPTY_PATH));
	T(execveat(AT_FDCWD, "oddargs.tmp", argv, envp, 0x7777));
	T(execveat(AT_FDCWD, "/nonexistent/x", argv, envp, 0));
	/* posix_spawn returns the error number, errno is not its answer */
	printf("posix_spawn(/nonexistent) = %s\n", strerrorname_np(
	       posix_spawn(&pid, "/nonexistent/x", NULL, NULL, argv, envp)));
	printf("posix_spawn(oddargs.tmp) = %s\n", strerrorname_np(
	       posix_spawn(&pid, "oddargs.tmp", NULL, NULL, argv, envp)));
	printf("posix_spawnp(no-such-command) = %s\n", strerrorname_np(
	       posix_spawnp(&pid, "no-such-command-oddargs", NULL, NULL, argv,
			    envp)));
	printf("posix_spawnp(\"\") = %s\n", strerrorname_np(
	       posix_spawnp(&pid, "", NULL, NULL, argv, envp)));
}

/* getaddrinfo_a: requests the numeric parser answers, and bad lists */
static void
t_gai_a(void)
{
	struct addrinfo num = { .ai_flags = AI_NUMERICHOST,
				.ai_socktype = SOCK_STREAM };
	struct addrinfo bad = { .ai_family = 12345 };
	struct gaicb g[4] = {
		{ .ar_name = "127.0.0.1", .ar_service = "80", .ar_request = &num },
		{ .ar_name = "localhost", .ar_request = &num },
		{ .ar_name = "::1", .ar_service = "x-no-such", .ar_request = NULL },
		{ .ar_name = "127.0.0.1", .ar_request = &bad },
	};
	struct gaicb *l[5] = { &g[0], &g[1], &g[2], &g[3], NULL };
	const struct gaicb *wait[4] = { &g[0], &g[1], &g[2], &g[3] };
	struct timespec ts = { 5, 0 };
	int i, n, rc;

#define GA(e) do { if (skip(#e)) break; errno = 0; rc = (e); \
	printf("%s = %d%s%s\n", #e, rc, rc == EAI_SYSTEM ? " " : "", \
	       rc == EAI_SYSTEM ? strerrorname_np(errno) : ""); } while (0)
	GA(getaddrinfo_a(7, l, 4, NULL));
	GA(getaddrinfo_a(GAI_WAIT, l, 0, NULL));
	GA(getaddrinfo_a(GAI_WAIT, l, -1, NULL));
	GA(getaddrinfo_a(GAI_WAIT, l + 4, 1, NULL));
	GA(getaddrinfo_a(GAI_WAIT, l, 5, NULL));
	for (i = 0; i < 4; i++) {
		printf("  gai_error(%d) = %d\n", i, gai_error(&g[i]));
		if (gai_error(&g[i]) == 0) {
			show_gai("  result", 0, g[i].ar_result);
			g[i].ar_result = NULL;
		}
	}
	GA(getaddrinfo_a(GAI_NOWAIT, l, 4, NULL));
	/* polled, bounded: no gai_suspend while glibc's threads work */
	for (n = 0; n < 500; n++) {
		for (i = 0; i < 4 && gai_error(&g[i]) != EAI_INPROGRESS; i++)
			;
		if (i == 4)
			break;
		usleep(10000);
	}
	for (i = 0; i < 4; i++) {
		printf("  gai_error(%d) = %d\n", i, gai_error(&g[i]));
		if (gai_error(&g[i]) == 0) {
			show_gai("  result", 0, g[i].ar_result);
			g[i].ar_result = NULL;
		}
	}
	/* all done: EAI_ALLDONE */
	GA(gai_suspend(wait, 4, &ts));
	/* done too, but glibc's worker thread may still hold the request for
	 * a moment after gai_error says so (EAI_NOTCANCELED then, in a plain
	 * run as well): either answer means "not cancelled, finished" */
	if (!skip("gai_cancel(&g[0])")) {
		rc = gai_cancel(&g[0]);
		printf("gai_cancel(&g[0]) = %s\n",
		       rc == EAI_ALLDONE || rc == EAI_NOTCANCELED ?
		       "EAI_ALLDONE or EAI_NOTCANCELED" : "other");
	}
}
