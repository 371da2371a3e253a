/*
 * supervise_creds.c - the caller's credentials for what the supervisor
 * does for it.  proxywrap may be root where the program is not (it
 * dropped to another user: CI jobs run as root): a connect, a send or a
 * socket() the supervisor makes must not carry root's privileges or
 * name root.  For a call made for the caller, the serving thread takes
 * its effective user and groups (sup_as_caller; the kernel's raw
 * setresuid and setgroups change one thread only) and gives them back
 * after (sup_as_self): an AF_UNIX socket's permissions, the peer
 * credentials its server reads (SO_PEERCRED), a raw socket's privilege
 * are then the caller's.  The credentials of an AF_UNIX message are the
 * caller's as well (sup_cred_check, sup_cred_implicit), and so is the
 * lookup of a path it names (sup_open_at: its root, cwd and permissions).
 */
#include "supervise_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SUP_GROUPS_MAX 64

static __thread bool g_tainted;	/* this thread could not go back */

/* The caller's credentials as the kernel holds them (/proc/TID/status):
 * its pid in its own namespace and in ours, its uids and gids (real,
 * effective, saved), its supplementary groups, its effective
 * capabilities. */
struct creds {
	pid_t own, ours;
	unsigned long uid[3], gid[3];
	gid_t groups[SUP_GROUPS_MAX];
	int ngroups;			/* -1: more than we keep */
	unsigned long long cap;
};

#define CAP_BIT(n) (1ULL << (n))
#define C_SETGID CAP_BIT(6)
#define C_SETUID CAP_BIT(7)
#define C_SYS_ADMIN CAP_BIT(21)

static int
read_creds(struct sup_call *c, struct creds *k)
{
	char path[64], buf[4096], *p;
	ssize_t n;
	int fd, got = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)c->tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -ENOENT;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || sup_read(c, 0, NULL, 0) < 0)
		return -ENOENT;
	buf[n] = '\0';
	k->ours = sup_tgid(c);
	k->own = k->ours;
	if ((p = strstr(buf, "\nNSpid:")) != NULL) {
		/* the last is the pid in the caller's own namespace */
		for (p += 7; *p == ' ' || *p == '\t' || (*p >= '0' && *p <= '9');
		     p++)
			if ((*p >= '0' && *p <= '9') &&
			    (p[-1] == ' ' || p[-1] == '\t'))
				k->own = (pid_t)strtol(p, NULL, 10);
	}
	if ((p = strstr(buf, "\nUid:")) != NULL &&
	    sscanf(p + 5, "%lu %lu %lu", &k->uid[0], &k->uid[1],
		   &k->uid[2]) == 3)
		got++;
	if ((p = strstr(buf, "\nGid:")) != NULL &&
	    sscanf(p + 5, "%lu %lu %lu", &k->gid[0], &k->gid[1],
		   &k->gid[2]) == 3)
		got++;
	if ((p = strstr(buf, "\nCapEff:")) != NULL &&
	    sscanf(p + 8, "%llx", &k->cap) == 1)
		got++;
	k->ngroups = 0;
	if ((p = strstr(buf, "\nGroups:")) != NULL) {
		char *e;

		for (p += 8; *p != '\n' && *p != '\0'; p = e) {
			unsigned long g = strtoul(p, &e, 10);

			if (e == p)
				break;
			if (k->ngroups == SUP_GROUPS_MAX) {
				k->ngroups = -1;
				break;
			}
			k->groups[k->ngroups++] = (gid_t)g;
		}
	}
	return got == 3 ? 0 : -EIO;
}

static bool
one_of(unsigned long v, const unsigned long ids[3])
{
	return v == ids[0] || v == ids[1] || v == ids[2];
}

/*
 * scm_check_creds for the caller, not for proxywrap (which may be root
 * where the caller dropped to another user): its own pid, one of its
 * uids and gids, unless it has CAP_SYS_ADMIN, CAP_SETUID, CAP_SETGID.
 * Its own pid is given in ours, or as proxywrap's where proxywrap may
 * not name another process (not root, or sending as the caller).
 */
int
sup_cred_check(struct sup_call *c, struct ucred *u, bool as_caller)
{
	struct creds k;
	bool own;

	if (read_creds(c, &k) < 0)
		return -EPERM;	/* unknown: not on the caller's word */
	own = u->pid == k.own;
	if ((!own && !(k.cap & C_SYS_ADMIN)) ||
	    (!one_of(u->uid, k.uid) && !(k.cap & C_SETUID)) ||
	    (!one_of(u->gid, k.gid) && !(k.cap & C_SETGID)))
		return -EPERM;
	if (own)
		u->pid = geteuid() == 0 && !as_caller ? k.ours : getpid();
	return 0;
}

/*
 * A send without SCM_CREDENTIALS gets the sender's from the kernel, here
 * proxywrap's: where proxywrap is root it names the caller instead (its
 * pid and real uid and gid, as the kernel would have), so that a
 * receiver that asks (SO_PASSCRED) sees the caller, not root.  Else
 * proxywrap has the caller's uid and gid, and only the pid differs.
 */
bool
sup_cred_implicit(struct sup_call *c, struct ucred *u)
{
	struct creds k;

	if (geteuid() != 0 || read_creds(c, &k) < 0)
		return false;
	u->pid = k.ours;
	u->uid = (uid_t)k.uid[0];
	u->gid = (gid_t)k.gid[0];
	return true;
}

/* Only threads change credentials here, with the raw calls: glibc's
 * wrappers would change every thread of proxywrap. */
static int
set_ids(const unsigned long uid[2], const unsigned long gid[2], int n,
	const gid_t *groups)
{
	/* root again first (the saved uid stays 0: the way back) */
	if (syscall(SYS_setresuid, 0, 0, -1) == -1 ||
	    syscall(SYS_setgroups, n, groups) == -1 ||
	    syscall(SYS_setresgid, (gid_t)gid[0], (gid_t)gid[1], -1) == -1 ||
	    syscall(SYS_setresuid, (uid_t)uid[0], (uid_t)uid[1], -1) == -1)
		return -errno;
	return 0;
}

void
sup_as_caller(struct sup_call *c, struct sup_as *a)
{
	static const unsigned long nobody[2] = { 65534, 65534 };
	struct creds k;

	a->on = false;
	if (geteuid() != 0 || read_creds(c, &k) < 0)
		return;		/* not root: the caller's user is ours */
	if (k.uid[0] == 0 && k.uid[1] == 0 && k.gid[0] == getgid() &&
	    k.gid[1] == getegid())
		return;		/* root too */
	a->gid[0] = getgid();
	a->gid[1] = getegid();
	a->ngroups = getgroups(SUP_GROUPS_MAX, a->groups);
	a->on = true;
	/* real ids too: the kernel names the real ones in a message's
	 * credentials */
	if (a->ngroups < 0 || k.ngroups < 0 ||
	    set_ids(k.uid, k.gid, k.ngroups, k.groups) < 0) {
		/* no groups we cannot give back; at worst as nobody */
		if (set_ids(nobody, nobody, 0, NULL) < 0)
			g_tainted = true;
	}
}

void
sup_as_self(struct sup_as *a)
{
	static const unsigned long root[2] = { 0, 0 };

	if (!a->on)
		return;
	if (set_ids(root, a->gid, a->ngroups < 0 ? 0 : a->ngroups,
		    a->groups) < 0)
		g_tainted = true;	/* the loop ends this thread */
}

bool
sup_tainted(void)
{
	return g_tainted;
}

int
sup_open_at(struct sup_call *c, int dirfd, const char *path, int atflags)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC };
	struct sup_as as;
	char proc[64];
	int base, fd;

	if (atflags & AT_SYMLINK_NOFOLLOW)
		how.flags |= O_NOFOLLOW;
	if (path[0] == '\0')
		return atflags & AT_EMPTY_PATH ? sup_dupfd(c, dirfd) : -ENOENT;
	if (path[0] == '/') {
		snprintf(proc, sizeof(proc), "/proc/%d/root", (int)c->tid);
		base = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
		how.resolve = RESOLVE_IN_ROOT;
	} else if (dirfd == AT_FDCWD) {
		snprintf(proc, sizeof(proc), "/proc/%d/cwd", (int)c->tid);
		base = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
	} else {
		base = sup_dupfd(c, dirfd);
	}
	if (base < 0)	/* its /proc entries are not ours to open */
		return base == -1 ? -ESRCH : base;
	/* the lookup with the caller's permissions (the base was opened
	 * with ours: its /proc entries may be root's) */
	sup_as_caller(c, &as);
	fd = (int)syscall(SYS_openat2, base, path, &how, sizeof(how));
	fd = fd == -1 ? -errno : fd;
	sup_as_self(&as);
	close(base);
	/* /proc/TID by number: still the caller's only if the call is */
	if (fd >= 0 && sup_read(c, 0, NULL, 0) < 0) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}
