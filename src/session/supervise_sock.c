/*
 * supervise_sock.c - sockets as the caller has them: socket() of a raw
 * IP or packet socket (and every socket() of socketcall, made here), and
 * an AF_UNIX path name, which the kernel would look up from the caller's
 * cwd and root but the supervisor's connect or send looks up from its
 * own.
 */
#include "supervise_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/*
 * A socket made here for the caller and put at its lowest free fd:
 * socketcall's words, which the kernel would read again after a
 * CONTINUE (another thread could have made them a raw socket's by
 * then).  The socket is made with the caller's effective user and
 * groups (sup_as_caller: a raw socket needs its privileges, not
 * proxywrap's) but is proxywrap's otherwise (its cgroup), in the caller's
 * network namespace only if that is ours: otherwise refused under
 * strict.
 */
static int64_t
made_socket(struct sup_call *c, const char *what)
{
	int type = (int)c->args[1], fd;
	struct sup_as as;
	int64_t r;

	if (!sup_same_netns(c)) {
		if (!c->p->strict)
			return SUP_CONTINUE;
		sup_report_call(c, what, EPERM, "strict mode: a 32-bit "
				"socketcall in another network namespace "
				"cannot be made by the supervisor");
		return -EPERM;
	}
	sup_as_caller(c, &as);
	fd = socket((int)c->args[0], type, (int)c->args[2]);
	fd = fd == -1 ? -errno : fd;
	sup_as_self(&as);
	if (fd < 0)
		return fd;
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
