/*
 * async.h - overlapped handshakes for non-blocking sockets.
 *
 * connect() on a non-blocking socket routed via a proxy starts the TCP
 * connection to the proxy and returns EINPROGRESS at once; a helper thread,
 * started on first use, drives the handshakes of all such sockets together
 * (epoll).  The few calls an application makes on a connecting socket
 * (getsockopt(SO_ERROR), the read and write family, getpeername) wait for
 * "tunnel ready" only when they come early.
 */
#ifndef PROXYWRAP_ASYNC_H
#define PROXYWRAP_ASYNC_H

#include <errno.h>
#include <stdbool.h>
#include <sys/uio.h>

#include "tunnel.h"

/* Set once any socket went through async_start in this process: until
 * then the read/write hooks skip even the fd table lookup. */
extern int async_used;

/*
 * Hand t (malloc'ed, tun_connect done) to the helper.  Takes ownership.
 * Returns 0 (handshake under way) or -errno (t is freed).
 */
int async_start(struct tun *t);

/*
 * If fd has a handshake under way, or an optimistic tunnel whose replies
 * are still to come, wait for it to end (bounded by its deadline).  Returns 0 when fd is not pending or its tunnel is up, or
 * -errno when the handshake failed.
 */
int async_wait(int fd);

/*
 * The program asks about fd (SO_ERROR, connect, a non-blocking read):
 * if its handshake has something to read or write now, step it here
 * rather than wait for the helper, so the answer is as fresh as the
 * kernel's would be.  Never waits.
 */
void async_poke(int fd);

/* The application is closing fd (or dup2-ing over it): drop its
 * handshake and its fd-table entry. */
void async_forget(int fd);

/*
 * Optimistic tunnels whose handshake waits for the program's first bytes
 * (tunnel_early.c; fd_entry.held): how many there are now.
 */
extern int async_nheld;

/*
 * The program sends iov[0..n) on fd (or a copy of it) whose handshake is
 * held: both go in one write.  1 with *taken the program's bytes the
 * kernel took (maybe 0: the handshake's were all it took); 0 when nothing
 * is held (send as usual); -EAGAIN when the kernel took none of the
 * program's bytes and some of the handshake is still to go; -errno when
 * the tunnel failed (the fd's entry has the error, as for any failed
 * tunnel).
 */
int async_early_send(int fd, const struct iovec *iov, size_t n,
		     size_t *taken);

/* The handshake held on fd goes now, alone (what comes next is not the
 * program's bytes through a send: a read, a FIN, another process).
 * Keeps errno; a failure is the fd's entry's, as for any tunnel. */
static inline void
async_early_flush(int fd)
{
	size_t taken;
	int saved = errno;

	async_early_send(fd, NULL, 0, &taken);
	errno = saved;
}

/* Every held handshake of the process goes now (fork, exec, fds passed
 * to another process).  try: give up rather than wait for the lock. */
void async_early_flush_all(bool try);

/* True if fd is one of the helper's own fds (protect from close/dup2). */
bool async_internal_fd(int fd);

/*
 * The application is about to dup2/dup3 onto fd: if it is one of ours,
 * move ours to another number first (F_DUPFD_CLOEXEC).  0 or -errno.
 */
int async_move_internal(int fd);

#endif
