/*
 * supervise_sock.c - sockets as the caller has them: socket() of a raw
 * IP or packet socket (and every socket() of socketcall, made here), and
 * an AF_UNIX path name, which the kernel would look up from the caller's
 * cwd and root but the supervisor's connect or send looks up from its
 * own, and an AF_UNIX send's credentials, which the kernel would check
 * against (and attach from) the caller, not proxywrap.
 */
#include "supervise_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/*
 * A socket made here for the caller and put at its lowest free fd:
 * socketcall's words, which the kernel would read again after a
 * CONTINUE (another thread could have made them a raw socket's by
 * then).  The socket is proxywrap's (its owner, its cgroup), in the
 * caller's network namespace only if that is ours: otherwise refused
 * under strict.
 */
static int64_t
made_socket(struct sup_call *c, const char *what)
{
	int type = (int)c->args[1], fd;
	int64_t r;

	if (!sup_same_netns(c)) {
		if (!c->p->strict)
			return SUP_CONTINUE;
		sup_report_call(c, what, EPERM, "strict mode: a 32-bit "
				"socketcall in another network namespace "
				"cannot be made by the supervisor");
		return -EPERM;
	}
	fd = socket((int)c->args[0], type, (int)c->args[2]);
	if (fd == -1)
		return -errno;
	r = sup_addfd(c, fd, (type & SOCK_CLOEXEC) != 0);
	close(fd);
	return r;
}

/* Raw IP and packet sockets (the filter passes every other socket but
 * socketcall's). */
int64_t
sup_socket(struct sup_call *c)
{
	int dom = (int)c->args[0], type = (int)c->args[1] & 0xf;
	bool ip = dom == AF_INET || dom == AF_INET6;
	const char *what = dom == AF_PACKET ? "packet socket" : "raw socket";

	if (dom != AF_PACKET && !(ip && (type == SOCK_RAW ||
					 type == SOCK_PACKET)))
		return c->words ? made_socket(c, "socket") : SUP_CONTINUE;
	if (c->p->strict) {
		sup_report_call(c, what, EPERM, "strict mode: what it writes "
				"cannot be routed");
		return -EPERM;
	}
	sup_report_call(c, what, 0, "what it writes is not routed");
	/* its arguments are registers: no race */
	return c->words ? made_socket(c, what) : SUP_CONTINUE;
}

/*
 * The address becomes /proc/self/fd/N of the socket file opened (O_PATH)
 * as the caller would open it: the kernel's lookup follows that link to
 * the same inode, and judges it (ECONNREFUSED for a file that is not a
 * socket, its permissions) as for the caller's own path.
 */
int
sup_unix_name(struct sup_call *c, int domain, uint8_t *sa, socklen_t *len)
{
	const size_t at = offsetof(struct sockaddr_un, sun_path);
	struct sockaddr_un *u = (struct sockaddr_un *)(void *)sa;
	char path[sizeof(u->sun_path) + 1];
	sa_family_t fam;
	int fd;

	if (domain != AF_UNIX || *len <= at ||
	    *len > sizeof(struct sockaddr_un))
		return -1;	/* unnamed, or the kernel's EINVAL */
	memcpy(&fam, sa, sizeof(fam));
	if (fam != AF_UNIX || sa[at] == '\0')
		return -1;	/* abstract: no file system */
	memcpy(path, u->sun_path, *len - at);
	path[*len - at] = '\0';	/* unix_mkname_bsd: up to its NUL */
	fd = sup_open_at(c, AT_FDCWD, path, 0);
	if (fd == -ESRCH)
		return -1;	/* its cwd not ours to see: the path as it is */
	if (fd < 0)
		return fd;
	snprintf(u->sun_path, sizeof(u->sun_path), "/proc/self/fd/%d", fd);
	*len = (socklen_t)(at + strlen(u->sun_path) + 1);
	return fd;
}

/* The caller's credentials as the kernel holds them (/proc/TID/status):
 * its pid in its own namespace and in ours, its uids and gids (real,
 * effective, saved), its effective capabilities. */
struct creds {
	pid_t own, ours;
	unsigned long uid[3], gid[3];
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
 * not name another process.
 */
int
sup_cred_check(struct sup_call *c, struct ucred *u)
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
		u->pid = geteuid() == 0 ? k.ours : getpid();
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
