/*
 * hooks_net.c - the exported socket interposers.  Each asks "is this
 * mine?" and either calls libc untouched or hands over to the core.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "fdtab.h"
#include "real.h"
#include "route.h"
#include "shim.h"

#define HOOK __attribute__((visibility("default")))

HOOK int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (sa == NULL || len < sizeof(sa_family_t) ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    shim_internal())
		return real_connect(fd, sa, len);
	return route_connect(fd, sa, len);
}

/* A tunnelled socket's peer is the destination, not the proxy. */
HOOK int
getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct fd_entry *e = fdtab_get(fd);

	if (e == NULL || sa == NULL || len == NULL ||
	    __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != FD_TUNNEL_READY)
		return real_getpeername(fd, sa, len);
	memcpy(sa, &e->peer, *len < e->peerlen ? *len : e->peerlen);
	*len = e->peerlen;
	return 0;
}

HOOK int
close(int fd)
{
	fdtab_clear(fd);
	return real_close(fd);
}

HOOK int
dup2(int oldfd, int newfd)
{
	int rc = real_dup2(oldfd, newfd);

	if (rc >= 0 && oldfd != newfd) {
		int saved = errno;
		fdtab_dup(oldfd, newfd);
		errno = saved;
	}
	return rc;
}

HOOK int
dup3(int oldfd, int newfd, int flags)
{
	int rc = real_dup3(oldfd, newfd, flags);

	if (rc >= 0) {
		int saved = errno;
		fdtab_dup(oldfd, newfd);
		errno = saved;
	}
	return rc;
}
