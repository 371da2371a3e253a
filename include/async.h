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

#include <stdbool.h>

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

/* True if fd is one of the helper's own fds (protect from close/dup2). */
bool async_internal_fd(int fd);

/*
 * The application is about to dup2/dup3 onto fd: if it is one of ours,
 * move ours to another number first (F_DUPFD_CLOEXEC).  0 or -errno.
 */
int async_move_internal(int fd);

#endif
