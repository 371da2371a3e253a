/*
 * supervise.c - the supervisor's filter: built here, installed by the
 * command between fork and exec, its listener taken by proxywrap.
 *
 * The listener travels by number, not by SCM_RIGHTS: once the filter is
 * in place the child's own sendmsg would be one of the calls it hands to
 * a supervisor that does not have the listener yet.  So the child writes
 * the number on a pipe (write is not filtered), proxywrap takes the fd
 * with pidfd_getfd, and the child waits on a second pipe until it has.
 */
#include "supervise.h"
#include "supervise_int.h"

#include "execcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef AUDIT_ARCH_I386
#define AUDIT_ARCH_I386 0x40000003u
#endif
#define X32_SYSCALL_BIT 0x40000000u

bool
sup_mode_parse(const char *s, enum sup_mode *m)
{
	if (strcmp(s, "auto") == 0)
		*m = SUP_AUTO;
	else if (strcmp(s, "all") == 0)
		*m = SUP_ALL;
	else if (strcmp(s, "off") == 0)
		*m = SUP_OFF;
	else
		return false;
	return true;
}

/*
 * A tiny assembler: jumps name labels, resolved once the program is laid
 * out, so that no offset is counted by hand.
 */
enum lbl {
	L_NEXT = 0,		/* fall through */
	L_X64, L_I386, L_SENDTO, L_RECVFROM, L_GETSOCKOPT, L_SOCKET,
	L_SOCKTYPE, L_SOCKETCALL,
	L_ALLOW, L_NOTIFY, L_KILL, L_ENOSYS,
	L_N,
};

#define PROG_MAX 96

struct prog {
	struct sock_filter f[PROG_MAX];
	unsigned char jt[PROG_MAX], jf[PROG_MAX];
	int at[L_N];		/* each label's instruction, -1 unset */
	int n;
	bool bad;
};

static void
op(struct prog *p, unsigned short code, unsigned int k, enum lbl jt,
   enum lbl jf)
{
	if (p->n == PROG_MAX) {
		p->bad = true;
		return;
	}
	p->f[p->n] = (struct sock_filter){ code, 0, 0, k };
	p->jt[p->n] = (unsigned char)jt;
	p->jf[p->n] = (unsigned char)jf;
	p->n++;
}

static void
label(struct prog *p, enum lbl l)
{
	p->at[l] = p->n;
}

static void
ld(struct prog *p, unsigned int off)
{
	op(p, BPF_LD | BPF_W | BPF_ABS, off, L_NEXT, L_NEXT);
}

/* if A == k goto t else goto f */
static void
jeq(struct prog *p, unsigned int k, enum lbl t, enum lbl f)
{
	op(p, BPF_JMP | BPF_JEQ | BPF_K, k, t, f);
}

static void
ret(struct prog *p, unsigned int k)
{
	op(p, BPF_RET | BPF_K, k, L_NEXT, L_NEXT);
}

/* Forward jumps only, each within 255 instructions (BPF's jt/jf). */
static int
resolve(struct prog *p)
{
	int i, t;

	if (p->bad)
		return -EINVAL;
	for (i = 0; i < p->n; i++) {
		if (BPF_CLASS(p->f[i].code) != BPF_JMP)
			continue;
		t = p->jt[i] == L_NEXT ? i + 1 : p->at[p->jt[i]];
		if (t <= i || t - i - 1 > 255)
			return -EINVAL;
		p->f[i].jt = (unsigned char)(t - i - 1);
		t = p->jf[i] == L_NEXT ? i + 1 : p->at[p->jf[i]];
		if (t <= i || t - i - 1 > 255)
			return -EINVAL;
		p->f[i].jf = (unsigned char)(t - i - 1);
	}
	return 0;
}

#define D_NR offsetof(struct seccomp_data, nr)
#define D_ARCH offsetof(struct seccomp_data, arch)
#define D_ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define D_ARG_HI(i) (D_ARG_LO(i) + 4)

/*
 * x86-64: connect, sendmsg, sendmmsg, io_uring_setup, getpeername (a
 * routed socket's is the destination), execve and execveat (the exec
 * check, supervise_exec.c) are notified;
 * sendto only with a destination (a NULL one is the connected peer's);
 * recvmsg, recvmmsg and recvfrom with an address (a reply of the DNS
 * responder is given the resolver's source);
 * getsockopt only for SOL_SOCKET's SO_PEERNAME (the kernel reads both as
 * ints: the low words), which says the peer as getpeername does;
 * socket only for raw IP and packet sockets (netlink's SOCK_RAW is how
 * getaddrinfo reads the interfaces: allowed).  x32 calls get ENOSYS.
 * i386: the same calls by their 32-bit numbers (sendto always: the
 * supervisor reads a NULL address as the kernel does), and socketcall's
 * socket, connect, getpeername and send family, whose arguments are in
 * memory (every socket() of a 32-bit glibc program); any other
 * architecture is killed.
 */
static void
build(struct prog *p)
{
	memset(p, 0, sizeof(*p));
	memset(p->at, -1, sizeof(p->at));
	ld(p, D_ARCH);
	jeq(p, AUDIT_ARCH_X86_64, L_X64, L_NEXT);
	jeq(p, AUDIT_ARCH_I386, L_I386, L_KILL);

	label(p, L_X64);
	ld(p, D_NR);
	op(p, BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, L_ENOSYS, L_NEXT);
	jeq(p, __NR_connect, L_NOTIFY, L_NEXT);
	jeq(p, __NR_sendmsg, L_NOTIFY, L_NEXT);
	jeq(p, __NR_sendmmsg, L_NOTIFY, L_NEXT);
	jeq(p, __NR_io_uring_setup, L_NOTIFY, L_NEXT);
	jeq(p, __NR_getpeername, L_NOTIFY, L_NEXT);
	jeq(p, __NR_execve, L_NOTIFY, L_NEXT);
	jeq(p, __NR_execveat, L_NOTIFY, L_NEXT);
	jeq(p, __NR_recvmsg, L_NOTIFY, L_NEXT);
	jeq(p, __NR_recvmmsg, L_NOTIFY, L_NEXT);
	jeq(p, __NR_recvfrom, L_RECVFROM, L_NEXT);
	jeq(p, __NR_sendto, L_SENDTO, L_NEXT);
	jeq(p, __NR_getsockopt, L_GETSOCKOPT, L_NEXT);
	jeq(p, __NR_socket, L_SOCKET, L_ALLOW);

	label(p, L_SENDTO);
	ld(p, D_ARG_LO(4));
	jeq(p, 0, L_NEXT, L_NOTIFY);
	ld(p, D_ARG_HI(4));
	jeq(p, 0, L_ALLOW, L_NOTIFY);

	/* the same test: the source is asked for (supervise_dnsredir.c) */
	label(p, L_RECVFROM);
	ld(p, D_ARG_LO(4));
	jeq(p, 0, L_NEXT, L_NOTIFY);
	ld(p, D_ARG_HI(4));
	jeq(p, 0, L_ALLOW, L_NOTIFY);

	label(p, L_GETSOCKOPT);
	ld(p, D_ARG_LO(2));
	jeq(p, SO_PEERNAME, L_NEXT, L_ALLOW);
	ld(p, D_ARG_LO(1));
	jeq(p, SOL_SOCKET, L_NOTIFY, L_ALLOW);

	label(p, L_I386);
	ld(p, D_NR);
	jeq(p, I386_SOCKETCALL, L_SOCKETCALL, L_NEXT);
	jeq(p, I386_CONNECT, L_NOTIFY, L_NEXT);
	jeq(p, I386_SENDTO, L_NOTIFY, L_NEXT);
	jeq(p, I386_SENDMSG, L_NOTIFY, L_NEXT);
	jeq(p, I386_SENDMMSG, L_NOTIFY, L_NEXT);
	jeq(p, I386_IO_URING_SETUP, L_NOTIFY, L_NEXT);
	jeq(p, I386_GETPEERNAME, L_NOTIFY, L_NEXT);
	jeq(p, I386_EXECVE, L_NOTIFY, L_NEXT);
	jeq(p, I386_EXECVEAT, L_NOTIFY, L_NEXT);
	jeq(p, I386_SOCKET, L_SOCKET, L_ALLOW);
	label(p, L_SOCKETCALL);
	ld(p, D_ARG_LO(0));
	jeq(p, SC_SOCKET, L_NOTIFY, L_NEXT);
	jeq(p, SC_CONNECT, L_NOTIFY, L_NEXT);
	jeq(p, SC_GETPEERNAME, L_NOTIFY, L_NEXT);
	jeq(p, SC_SENDTO, L_NOTIFY, L_NEXT);
	jeq(p, SC_SENDMSG, L_NOTIFY, L_NEXT);
	jeq(p, SC_SENDMMSG, L_NOTIFY, L_ALLOW);

	label(p, L_SOCKET);
	ld(p, D_ARG_LO(0));
	jeq(p, AF_PACKET, L_NOTIFY, L_NEXT);
	jeq(p, AF_INET, L_SOCKTYPE, L_NEXT);
	jeq(p, AF_INET6, L_SOCKTYPE, L_ALLOW);
	label(p, L_SOCKTYPE);
	ld(p, D_ARG_LO(1));
	op(p, BPF_ALU | BPF_AND | BPF_K, 0xf, L_NEXT, L_NEXT);
	jeq(p, SOCK_RAW, L_NOTIFY, L_NEXT);
	jeq(p, SOCK_PACKET, L_NOTIFY, L_ALLOW);


	label(p, L_ALLOW);
	ret(p, SECCOMP_RET_ALLOW);
	label(p, L_NOTIFY);
	ret(p, SECCOMP_RET_USER_NOTIF);
	label(p, L_KILL);
	ret(p, SECCOMP_RET_KILL_PROCESS);
	label(p, L_ENOSYS);
	ret(p, SECCOMP_RET_ERRNO | ENOSYS);
}

/* Is the running kernel at least major.minor (uname's release)? */
static bool
kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) == -1 || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return true;	/* unknown: the calls' probes decide */
	return ma > major || (ma == major && mi >= minor);
}

/*
 * Can this kernel supervise (seccomp user notification, pidfd_getfd and
 * SECCOMP_IOCTL_NOTIF_ADDFD: Linux 5.9)?  The calls are probed; ADDFD,
 * which needs a listener, by the release.  PROXYWRAP_KERNEL_PROBE=fail
 * (proxywrap(1), for tests and debugging) makes the probe fail: it can
 * only turn the supervisor off, as --supervise=off does.  When not,
 * says so once on stderr (unless quiet), with what strict mode does.
 */
static bool
sup_kernel_ok(bool quiet, bool strict)
{
	const char *force = getenv("PROXYWRAP_KERNEL_PROBE");
	struct seccomp_notif_sizes sz;
	long r;

	if (force == NULL || strcmp(force, "fail") != 0) {
		r = syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz);
		/* ENOSYS: no such call; EBADF: it exists (Linux 5.6) */
		if (r == 0)
			r = syscall(SYS_pidfd_getfd, -1, 0, 0);
		if (r == -1 && errno != ENOSYS && kernel_at_least(5, 9))
			return true;
	}
	if (!quiet)
		fprintf(stderr, "proxywrap: this kernel has no seccomp user "
			"notification or pidfd_getfd (Linux 5.9): the "
			"supervisor is off, only the shim routes (%s)\n",
			strict ? "strict mode refuses the programs it cannot "
			"follow" : "the programs it cannot follow run "
			"unrouted");
	return false;
}

/* Write all of buf (a pipe write of a few bytes is atomic). */
static int
put(int fd, const void *buf, size_t n)
{
	ssize_t w;

	do
		w = write(fd, buf, n);
	while (w == -1 && errno == EINTR);
	return w == (ssize_t)n ? 0 : -EPIPE;
}

static int
get(int fd, void *buf, size_t n)
{
	ssize_t r;

	do
		r = read(fd, buf, n);
	while (r == -1 && errno == EINTR);
	return r == (ssize_t)n ? 0 : -EPIPE;
}

/*
 * Child side, between fork and exec: no_new_privs, the filter with a
 * listener, and the listener's number written to wfd (the parent takes
 * it with pidfd_getfd and answers on rfd when it has it).  Returns 0, or
 * -errno when the filter could not be installed (the parent is told).
 */
static int
sup_child_install(int wfd, int rfd)
{
	struct prog p;
	struct sock_fprog fp;
	int lfd, msg;
	char ack;

	build(&p);
	msg = resolve(&p);
	if (msg == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		msg = -errno;
	if (msg == 0) {
		fp.len = (unsigned short)p.n;
		fp.filter = p.f;
		/* Go's preemption signals would otherwise interrupt every
		 * notified call (Linux 5.19); older kernels say EINVAL */
		lfd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				   SECCOMP_FILTER_FLAG_NEW_LISTENER |
				   SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &fp);
		if (lfd == -1 && errno == EINVAL)
			lfd = (int)syscall(SYS_seccomp,
					   SECCOMP_SET_MODE_FILTER,
					   SECCOMP_FILTER_FLAG_NEW_LISTENER,
					   &fp);
		msg = lfd == -1 ? -errno : lfd;
	}
	if (put(wfd, &msg, sizeof(msg)) < 0)
		return -EPIPE;
	if (msg < 0)
		return msg;
	/* the parent has it when it answers (or is gone: EOF) */
	get(rfd, &ack, 1);
	close(msg);
	return 0;
}

/*
 * Parent side, after fork: read the child's listener number from rfd
 * (answering on wfd), take the listener and start serving it.  Returns
 * 0, 1 when the child could not install the filter, or -errno.
 */
static int
sup_start(pid_t child, int rfd, int wfd, const struct sup_policy *p)
{
	int msg, pidfd, lfd, rc;

	if (get(rfd, &msg, sizeof(msg)) < 0)
		return -EPIPE;
	if (msg < 0) {
		fprintf(stderr, "proxywrap: cannot install the supervisor's "
			"filter: %s\n", strerror(-msg));
		return 1;
	}
	pidfd = (int)syscall(SYS_pidfd_open, child, 0);
	lfd = pidfd == -1 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, msg, 0);
	rc = lfd == -1 ? -errno : 0;
	if (pidfd != -1)
		close(pidfd);
	if (rc == 0)
		rc = sup_serve(lfd, p);
	put(wfd, "k", 1);
	return rc;
}

/* What the supervisor covers of the programs the shim cannot follow. */
static bool
covered(int why)
{
	return why == EXEC_WHY_STATIC || why == EXEC_WHY_GO ||
	       why == EXEC_WHY_LOADER || why == EXEC_WHY_FOREIGN;
}

/* The exec check of the command proxywrap starts (an exec_why, or
 * EXEC_FOLLOWS when it is not found: exec reports that). */
static int
sup_judge_cmd(const char *file, char *path, size_t n, char *interp,
	      size_t in)
{
	/* sup_choose and the preflight ask about the same command within
	 * microseconds: the second gets the first's answer, not another
	 * read of the file (exec itself decides in the end); the three
	 * names in one allocation, not in pages of their own */
	static struct {
		char *file, *path, *interp;
		int why;
	} last;
	size_t fl, pl, il;
	char *m;
	int why;

	if (last.file != NULL && strcmp(file, last.file) == 0 &&
	    strlen(last.path) < n && strlen(last.interp) < in) {
		memcpy(path, last.path, strlen(last.path) + 1);
		memcpy(interp, last.interp, strlen(last.interp) + 1);
		return last.why;
	}
	if (!exec_search(file, getenv("PATH"), path, n))
		return EXEC_FOLLOWS;	/* exec will report it */
	why = exec_check_path(path, interp, in);
	fl = strlen(file) + 1;
	pl = strlen(path) + 1;
	il = strlen(interp) + 1;
	m = malloc(fl + pl + il);
	if (m != NULL) {
		free(last.file);
		last.file = memcpy(m, file, fl);
		last.path = memcpy(m + fl, path, pl);
		last.interp = memcpy(m + fl + pl, interp, il);
		last.why = why;
	}
	return why;
}

static bool
sup_wanted(enum sup_mode m, int why)
{
	if (m == SUP_ALL)
		return true;
	return m == SUP_AUTO && why > 0 && covered(why);
}

/* The preflight's verdict on file; supervised: what the supervisor
 * covers runs (msg says so). */
static int
check_cmd(const struct config *cfg, bool strict, const char *file,
	  char *msg, size_t n, bool supervised)
{
	char path[PATH_MAX], interp[EXEC_INTERP_MAX];
	int why;

	msg[0] = '\0';
	why = sup_judge_cmd(file, path, sizeof(path), interp, sizeof(interp));
	if (why <= 0)
		return 0;
	if (supervised && exec_supervised(cfg, path, why, interp, msg, n))
		return 0;
	return exec_verdict(cfg, strict, path, why, interp, msg, n);
}

int
sup_preflight(const struct config *cfg, bool strict, const char *file,
	      char *msg, size_t n)
{
	return check_cmd(cfg, strict, file, msg, n, true);
}

int
sup_check_cmd(const struct config *cfg, bool strict, const char *file,
	      char *msg, size_t n)
{
	return check_cmd(cfg, strict, file, msg, n, false);
}

struct sup_launch *
sup_choose(enum sup_mode m, const struct config *cfg, const struct rules *r,
	   const char *name, const char *cmd, int verbose, int audit_fd)
{
	static struct sup_launch l;
	char path[PATH_MAX], interp[EXEC_INTERP_MAX];
	int why;

	if (m == SUP_OFF)
		return NULL;
	why = sup_judge_cmd(cmd, path, sizeof(path), interp, sizeof(interp));
	if (!sup_wanted(m, why) || !sup_kernel_ok(verbose == 0, cfg->strict))
		return NULL;
	l.pol.cfg = cfg;
	l.pol.rules = r;
	l.pol.name = name;
	l.pol.strict = cfg->strict;
	l.pol.verbose = verbose;
	l.pol.audit_fd = audit_fd;
	l.pol.table_fd = -1;
	l.pol.pool = "";
	/* the session says it is supervised: under strict the shim then
	 * lets static programs run, so nothing runs without the filter */
	l.required = cfg->strict;
	return &l;
}

void
sup_launch_prepare(struct sup_launch *l)
{
	if (pipe2(l->up, O_CLOEXEC) == -1 || pipe2(l->down, O_CLOEXEC) == -1) {
		fprintf(stderr, "proxywrap: pipe: %s\n", strerror(errno));
		exit(2);
	}
}

void
sup_launch_child(struct sup_launch *l)
{
	int rc;

	close(l->up[0]);
	close(l->down[1]);
	rc = sup_child_install(l->up[1], l->down[0]);
	if (rc < 0 && l->required) {
		fprintf(stderr, "proxywrap: not run without the supervisor "
			"(strict mode): %s\n", strerror(-rc));
		_exit(126);
	}
	close(l->up[1]);
	close(l->down[0]);
}

void
sup_launch_parent(struct sup_launch *l, pid_t child)
{
	int rc;

	close(l->up[1]);
	close(l->down[0]);
	rc = sup_start(child, l->up[0], l->down[1], &l->pol);
	if (rc < 0)
		fprintf(stderr, "proxywrap: the supervisor could not start "
			"(%s): the command's network calls fail\n",
			strerror(-rc));
	close(l->up[0]);
	close(l->down[1]);
}
