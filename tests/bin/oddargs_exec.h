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
