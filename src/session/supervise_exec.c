/*
 * supervise_exec.c - execve and execveat in a supervised tree, judged
 * here with the shim's exec check (execcheck.h) on the file the call
 * names, opened as the caller would open it (its root, its cwd or its
 * dirfd); the shim of a supervised session leaves every exec to this.
 *
 * The supervisor cannot run an exec itself: an allowed one is answered
 * with SECCOMP_USER_NOTIF_FLAG_CONTINUE, and the kernel then resolves the
 * path again.  The seccomp_unotify(2) man page warns that a check made
 * before a CONTINUE can be raced (another thread, or another process,
 * swaps a symlink or renames a file in between), so nothing here may
 * depend on that check for safety, and nothing does (the man page's
 * condition for a CONTINUE: "another security mechanism or the kernel
 * itself" blocks what a rewrite makes of the call): every process of
 * the tree inherits the filter and no_new_privs, so whatever the kernel
 * executes in the end is supervised (its connects are decided by the
 * rules) and gains no privilege from a setuid bit or file capabilities.
 * The check decides only what is said (the line and the audit event of
 * a program the shim cannot follow), and refuses under strict what it
 * refused before (setuid, setgid, file capabilities, a script of those)
 * where the message is the point.  The residual window is exactly that:
 * a file swapped after the check runs - supervised and unprivileged -
 * under a line that names the file checked.
 */
#include "supervise_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "execcheck.h"
#include "log.h"

#define PAGE 4096u

/* The caller's NUL-terminated string at addr (page by page: the kernel's
 * strncpy_from_user stops at the first page that is not there). */
static int
read_str(struct sup_call *c, uint64_t addr, char *buf, size_t n)
{
	size_t off = 0, take;
	int rc;

	while (off < n) {
		take = PAGE - (size_t)((addr + off) % PAGE);
		if (take > n - off)
			take = n - off;
		rc = sup_read(c, addr + off, buf + off, take);
		if (rc < 0)
			return rc;
		if (memchr(buf + off, '\0', take) != NULL)
			return 0;
		off += take;
	}
	return -ENAMETOOLONG;
}

/* Is the caller still proxywrap's own image: the command's first exec,
 * which proxywrap's preflight judged before it forked? */
static bool
is_launch(struct sup_call *c)
{
	static char self[256];
	ssize_t n;

	if (self[0] == '\0') {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		self[n > 0 ? n : 0] = '\0';
	}
	return self[0] != '\0' && strcmp(sup_exe(c), self) == 0;
}

int64_t
sup_exec(struct sup_call *c)
{
	char path[PATH_MAX], shown[PATH_MAX], interp[EXEC_INTERP_MAX];
	char msg[LOG_LINE_MAX], proc[64];
	bool at = c->nr == __NR_execveat;
	struct stat st;
	int fd, why, rc;
	ssize_t n;

	if (is_launch(c))
		return SUP_CONTINUE;
	rc = read_str(c, c->args[at ? 1 : 0], path, sizeof(path));
	if (rc < 0)
		return rc == -ENOENT ? rc : SUP_CONTINUE;  /* the kernel's */
	sup_may_block();	/* a file system may be slow to answer */
	fd = sup_open_at(c, at ? (int)c->args[0] : AT_FDCWD, path,
		     at ? (int)c->args[4] : 0);
	if (fd < 0)
		return fd == -ENOENT && sup_read(c, 0, NULL, 0) < 0 ? fd :
		       SUP_CONTINUE;	/* exec will say why it cannot */
	/* only a regular file is read (a FIFO's open would block) */
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return SUP_CONTINUE;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, shown, sizeof(shown) - 1);
	shown[n > 0 ? n : 0] = '\0';
	why = exec_check_fd(fd, interp, sizeof(interp));
	close(fd);
	if (why <= 0)
		return SUP_CONTINUE;	/* the shim follows, or unreadable */
	if (exec_supervised(c->p->cfg, shown, why, interp, msg, sizeof(msg))) {
		sup_report_exec(c, shown, 0, LOG_INFO, msg);
		return SUP_CONTINUE;
	}
	rc = exec_verdict(c->p->cfg, c->p->strict, shown, why, interp, msg,
			  sizeof(msg));
	sup_report_exec(c, shown, -rc, LOG_WARN, msg);
	return rc < 0 ? rc : SUP_CONTINUE;
}
