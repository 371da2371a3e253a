/*
 * fds.c - close, dup, dup2, dup3 and fcntl: the fd table follows the
 * program's own bookkeeping of its fds.
 */
#include <errno.h>
#include <stdarg.h>

#include "async.h"
#include "evid.h"
#include "hooks.h"

/*
 * The application is about to dup2 onto one of our fds (a UDP control
 * connection): ours moves to another number first, so neither side
 * loses its file.
 */
static void
move_ours(int fd)
{
	struct fd_entry *e = fdtab_get(fd), *ne;
	int n, *owner;

	if (e == NULL || !e->internal)
		return;
	if (e->tun != NULL)
		async_wait(fd);		/* its handshake is in epoll by number */
	e = fdtab_get(fd);
	if (e == NULL || !e->internal || e->owner == NULL)
		return;
	owner = e->owner;
	n = real_fcntl(fd, F_DUPFD_CLOEXEC, (void *)(long)(fd + 1));
	if (n == -1)
		return;
	ne = fdtab_set(n);
	if (ne == NULL) {
		real_close(n);
		return;
	}
	ne->internal = true;
	ne->owner = owner;
	__atomic_store_n(owner, n, __ATOMIC_RELEASE);
	if (__atomic_load_n(&async_used, __ATOMIC_RELAXED))
		async_forget(fd);
	else
		fdtab_clear(fd);
	real_close(fd);
}

/*
 * fd's entry goes (close, or dup2 onto it): a tunnel's record is taken
 * first, so the handshake helper, which async_forget waits for, never
 * writes into a record being finished; its close event goes out while fd
 * still names the socket.
 */
static void
forget(int fd, struct fd_entry *e)
{
	struct evid *v = e->evid != NULL ? evid_take(e) : NULL;
	bool ready = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) ==
		     FD_TUNNEL_READY;

	if (__atomic_load_n(&async_used, __ATOMIC_RELAXED))
		async_forget(fd);
	else
		fdtab_clear(fd);
	if (v != NULL)
		evid_end(fd, v, ready, EVID_END_CLOSE);
}

/* close() of an fd the table knows: out of line, so that the common
 * close (an fd the shim never saw) stays a tail call to the kernel's. */
static __attribute__((noinline)) int
close_known(int fd, struct fd_entry *e)
{
	if (e->internal) {
		errno = EBADF;
		return -1;
	}
	/* as a kernel's connection, one closed at once still reaches its
	 * destination */
	if (held(e))
		async_early_flush(fd);
	forget(fd, e);
	return real_close(fd);
}

HOOK int
close(int fd)
{
	struct fd_entry *e;

	if (async_internal_fd(fd)) {
		errno = EBADF;	/* ours: the application never opened it */
		return -1;
	}
	e = fdtab_get(fd);
	if (__builtin_expect(e != NULL, 0))
		return close_known(fd, e);
	return real_close(fd);
}

/* dup2/dup3 onto newfd closes what it named: a tunnel's close event
 * first (a dup2 from a bad oldfd, which closes nothing, is answered by
 * the kernel before any of this). */
static void
replaced(int oldfd, int newfd)
{
	struct fd_entry *e = fdtab_get(newfd);

	if (e == NULL || e->evid == NULL || e->internal ||
	    real_fcntl(oldfd, F_GETFD, NULL) == -1)
		return;
	forget(newfd, e);
}

/* A copy names the same socket: it shares the fd's entry (a UDP
 * socket's associations, a tunnel's peer). */
/* A copy of a socket whose handshake is held for the program's first
 * bytes would be a second way for them to go before it (the copy's
 * entry has no handshake): it goes first. */
static void
unhold_copied(int fd)
{
	struct fd_entry *e = watched(fd);

	if (held(e))
		async_early_flush(fd);
}

HOOK int
dup(int fd)
{
	int rc, saved;

	unhold_copied(fd);
	rc = real_dup(fd);
	saved = errno;

	if (rc >= 0 && fdtab_get(fd) != NULL) {
		fdtab_dup(fd, rc);
		errno = saved;
	}
	return rc;
}

/* fcntl's third argument is read as glibc reads it: one word. */
static int
fcntl_after(int fd, int cmd, int rc)
{
	int saved = errno;

	if (rc >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) &&
	    fdtab_get(fd) != NULL) {
		fdtab_dup(fd, rc);
		errno = saved;
	}
	return rc;
}

/*
 * fcntl and fcntl64 (only programs linked against a libc that has it call
 * it), and libc's other names for them (hooks/alias.c has the rest).
 */
#define FCNTL_HOOK(name, real)						\
	int name(int fd, int cmd, ...);					\
	HOOK int name(int fd, int cmd, ...)				\
	{								\
		va_list ap;						\
		void *arg;						\
									\
		va_start(ap, cmd);					\
		arg = va_arg(ap, void *);				\
		va_end(ap);						\
		if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)		\
			unhold_copied(fd);				\
		return fcntl_after(fd, cmd, real(fd, cmd, arg));	\
	}
FCNTL_HOOK(fcntl, real_fcntl)
FCNTL_HOOK(__fcntl, real_fcntl)
FCNTL_HOOK(fcntl64, real_fcntl64)
FCNTL_HOOK(__libc_fcntl64, real_fcntl64)

HOOK int
dup2(int oldfd, int newfd)
{
	int rc, saved;

	if (oldfd != newfd) {
		unhold_copied(oldfd);
		unhold_copied(newfd);	/* closed by it: as close() */
		move_ours(newfd);
		replaced(oldfd, newfd);
	}
	if (oldfd != newfd && __atomic_load_n(&async_used, __ATOMIC_RELAXED)) {
		async_move_internal(newfd);	/* ours goes elsewhere */
		async_forget(newfd);
	}
	rc = real_dup2(oldfd, newfd);
	if (rc >= 0 && oldfd != newfd) {
		saved = errno;
		fdtab_dup(oldfd, newfd);
		errno = saved;
	}
	return rc;
}

HOOK int
dup3(int oldfd, int newfd, int flags)
{
	int rc, saved;

	if (oldfd != newfd) {
		unhold_copied(oldfd);
		unhold_copied(newfd);	/* closed by it: as close() */
		move_ours(newfd);
		replaced(oldfd, newfd);
	}
	if (oldfd != newfd && __atomic_load_n(&async_used, __ATOMIC_RELAXED)) {
		async_move_internal(newfd);
		async_forget(newfd);
	}
	rc = real_dup3(oldfd, newfd, flags);
	if (rc >= 0) {
		saved = errno;
		fdtab_dup(oldfd, newfd);
		errno = saved;
	}
	return rc;
}
