/*
 * supervise_target.c - the calling process as the supervisor sees it:
 * its memory (read once, the notification checked live after each
 * read), its fds (pidfd_getfd), its pid and executable.  At the bottom
 * of the supervisor's files: the pool's "this may block" is a callback
 * the loop registers.
 */
#include "supervise_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "execcheck.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL		/* Linux 6.9 */
#endif

static void (*g_on_block)(void);

void
sup_on_block(void (*fn)(void))
{
	g_on_block = fn;
}

void
sup_may_block(void)
{
	if (g_on_block != NULL)
		g_on_block();
}

static int
id_valid(const struct sup_call *c)
{
	uint64_t id = c->id;

	if (ioctl(c->lfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == -1)
		return -ENOENT;
	return 0;
}

int
sup_read(struct sup_call *c, uint64_t addr, void *buf, size_t n)
{
	struct iovec l = { buf, n }, r = { (void *)(uintptr_t)addr, n };
	ssize_t got;

	if (n == 0)
		return id_valid(c);
	got = process_vm_readv(c->tid, &l, 1, &r, 1, 0);
	/* a short read stops at the first page that is not there; ESRCH
	 * is a target already gone: the notification check says so */
	if (id_valid(c) < 0)
		return -ENOENT;
	if (got != (ssize_t)n)
		return -EFAULT;
	return 0;
}

int
sup_write(struct sup_call *c, uint64_t addr, const void *buf, size_t n)
{
	struct iovec l = { (void *)buf, n }, r = { (void *)(uintptr_t)addr, n };

	if (process_vm_writev(c->tid, &l, 1, &r, 1, 0) != (ssize_t)n)
		return id_valid(c) < 0 ? -ENOENT : -EFAULT;
	return 0;
}

/* The caller's pidfd: its thread's (6.9), else its thread group's. */
static int
caller_pidfd(struct sup_call *c)
{
	if (c->pidfd >= 0)
		return c->pidfd;
	c->pidfd = (int)syscall(SYS_pidfd_open, c->tid, PIDFD_THREAD);
	if (c->pidfd == -1)
		c->pidfd = (int)syscall(SYS_pidfd_open, sup_tgid(c), 0);
	if (c->pidfd == -1)
		return -ENOENT;
	/* opened by number: still the caller only if the call is live */
	if (id_valid(c) < 0)
		return -ENOENT;
	return c->pidfd;
}

int
sup_dupfd(struct sup_call *c, int fd)
{
	int pfd = caller_pidfd(c), d;

	if (pfd < 0)
		return pfd;
	if (fd < 0)
		return -EBADF;
	d = (int)syscall(SYS_pidfd_getfd, pfd, fd, 0);
	if (d == -1)
		return errno == EBADF ? -EBADF : -errno;
	return d;
}

pid_t
sup_tgid(struct sup_call *c)
{
	char path[64], buf[512], *t;
	ssize_t n;
	int fd;

	if (c->tgid != 0)
		return c->tgid;
	c->tgid = c->tid;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)c->tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return c->tgid;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	t = strstr(buf, "\nTgid:");
	if (t != NULL)
		c->tgid = (pid_t)strtol(t + 6, NULL, 10);
	return c->tgid;
}

const char *
sup_exe(struct sup_call *c)
{
	char path[64];
	ssize_t n;

	if (c->exe[0] != '\0')
		return c->exe;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)c->tid);
	n = readlink(path, c->exe, sizeof(c->exe) - 1);
	if (n <= 0)
		snprintf(c->exe, sizeof(c->exe), "?");
	else
		c->exe[n] = '\0';
	return c->exe;
}

bool
sup_has_shim(struct sup_call *c)
{
	static const char lib[] = "/libshim.so\n";
	char path[64], buf[8192 + sizeof(lib)];
	size_t keep = 0;
	ssize_t n;
	bool found = false;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)c->tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return false;
	/* a window of the file, with the last bytes of the one before, so
	 * a name cut between two reads is still seen */
	while (!found && (n = read(fd, buf + keep, 8192)) > 0) {
		size_t have = keep + (size_t)n;

		buf[have] = '\0';
		found = strstr(buf, lib) != NULL;
		keep = have < sizeof(lib) - 1 ? have : sizeof(lib) - 1;
		memmove(buf, buf + have - keep, keep);
	}
	close(fd);
	if (!found)
		return false;
	/* a Go program loads it and calls the kernel itself */
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)c->tid);
	return exec_check_path(path, NULL, 0) != EXEC_WHY_GO;
}

int
sup_fd_cloexec(struct sup_call *c, int fd)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)c->tid, fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f == -1)
		return -errno;
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	p = strstr(buf, "flags:");
	if (p == NULL)
		return -EIO;
	return (strtoul(p + 6, NULL, 8) & O_CLOEXEC) != 0;
}

int
sup_setfd(struct sup_call *c, int src, int fd, bool cloexec)
{
	struct seccomp_notif_addfd a = {
		.id = c->id,
		.flags = SECCOMP_ADDFD_FLAG_SETFD,
		.srcfd = (uint32_t)src,
		.newfd = (uint32_t)fd,
		.newfd_flags = cloexec ? O_CLOEXEC : 0,
	};

	if (ioctl(c->lfd, SECCOMP_IOCTL_NOTIF_ADDFD, &a) == -1)
		return -errno;
	return 0;
}

int
sup_addfd(struct sup_call *c, int src, bool cloexec)
{
	struct seccomp_notif_addfd a = {
		.id = c->id,
		.srcfd = (uint32_t)src,
		.newfd_flags = cloexec ? O_CLOEXEC : 0,
	};
	int fd = ioctl(c->lfd, SECCOMP_IOCTL_NOTIF_ADDFD, &a);

	return fd == -1 ? -errno : fd;
}

bool
sup_same_netns(struct sup_call *c)
{
	char path[64];
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)c->tid);
	if (stat(path, &a) == -1 || stat("/proc/self/ns/net", &b) == -1)
		return false;
	/* looked up by number: the caller's only while the call is live */
	return id_valid(c) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}
