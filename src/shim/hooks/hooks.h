/*
 * hooks.h - what the hook files share: the export marker, the
 * cheap "does this fd matter?" test, and the helpers more than one
 * family of calls uses.
 */
#ifndef PROXYWRAP_HOOKS_H
#define PROXYWRAP_HOOKS_H

#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "evid.h"
#include "fdtab.h"
#include "udp.h"
#include "real.h"
#include "route.h"

#define HOOK __attribute__((visibility("default")))

/*
 * fd's table entry when it may matter to an I/O call: until the library
 * first gives an fd an entry the I/O hooks must see (a handshake under
 * way, a UDP association), one relaxed load and no lookup.
 */
static inline struct fd_entry *
watched(int fd)
{
	if (__builtin_expect(!__atomic_load_n(&fdtab_live, __ATOMIC_RELAXED),
			     1))
		return NULL;
	return fdtab_get(fd);
}

static inline bool
nonblocking(int fd, int flags)
{
	return (flags & MSG_DONTWAIT) ||
	       (real_fcntl(fd, F_GETFL, NULL) & O_NONBLOCK);
}

/*
 * A pointer the kernel refuses (EFAULT) that the shim must not touch:
 * such calls go to the kernel as they are, for its EFAULT (or the EBADF it
 * checks first).  The first page and anything beyond the lowest 2^56
 * bytes are refused at once.  Otherwise the range is read once with
 * process_vm_readv, which fails with EFAULT where the kernel would, and
 * the pages that passed are remembered per thread (the last two ranges:
 * a message on the stack and its name elsewhere): a program that passes
 * the same buffers call after call pays a few compares.  Where
 * process_vm_readv is not allowed (a seccomp filter), the range is taken
 * as readable, as before.
 */
#define PG ((uintptr_t)4096)

/* the attribute on each: after a list it names only the last one */
#define USERPTR_TLS __thread __attribute__((tls_model("initial-exec")))
extern USERPTR_TLS uintptr_t userptr_lo[2];
extern USERPTR_TLS uintptr_t userptr_hi[2];
bool userptr_unreadable(const void *p, size_t n);

/* Inside the lowest 2^56 bytes, above the first page, not wrapping
 * round (a < PG wraps round to above top - PG). */
static inline bool
ptr_in_bounds(uintptr_t a, size_t n)
{
	const uintptr_t top = (uintptr_t)1 << 56;

	return !(a - PG > top - PG || n > top - a);
}

/* Known readable: inside one of the thread's last two ranges. */
static inline bool
ptr_cached(uintptr_t a, size_t n)
{
	return n == 0 || (a >= userptr_lo[0] && a + n <= userptr_hi[0]) ||
	       (a >= userptr_lo[1] && a + n <= userptr_hi[1]);
}

static inline bool
bad_ptr(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p;

	if (__builtin_expect(!ptr_in_bounds(a, n), 0))
		return true;
	if (__builtin_expect(ptr_cached(a, n), 1))
		return false;
	return userptr_unreadable(p, n);
}

/* [a, a + n) inside [lo, hi), nothing wrapping round (an empty range,
 * lo = hi, holds nothing) */
static inline bool
ptr_in_range(uintptr_t a, size_t n, uintptr_t lo, uintptr_t hi)
{
	return a >= lo && a < hi && n <= hi - a;
}

/* bad_ptr's answer when it takes no call: true for surely readable,
 * false for "ask bad_ptr" (a hook's fast half then goes the long way).
 * The ranges remembered lie inside the bounds (bad_ptr looks at those
 * first), so being inside one is enough; a zero-length buffer at an
 * address outside them asks bad_ptr, which says what it always did. */
static inline bool
ptr_surely_good(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p;

	return ptr_in_range(a, n, userptr_lo[0], userptr_hi[0]) ||
	       ptr_in_range(a, n, userptr_lo[1], userptr_hi[1]);
}

/*
 * fd's UDP state when it has associations now although it had none when
 * the receive that just returned began: another thread's first proxied
 * datagram started one while this thread waited in the kernel, so what
 * it got may be a relay's wrapped datagram.  Until the process has an
 * entry the I/O hooks must see, one relaxed load.
 */
static inline struct udp_sock *
became_udp(int fd)
{
	struct fd_entry *e = watched(fd);

	return e != NULL ? e->udp : NULL;
}

/* What routing hands a datagram socket to (route.h; connect.c). */
extern const struct route_udp hook_udp;

/*
 * A tunnel's first bytes (evid.h): while e->peek has the direction's bit,
 * a send calls hook_peek_pre before the real call (0, or -1 with errno
 * when sni_must_match closed the tunnel) and hook_peek_out after it; a
 * receive calls hook_peek_in after it (r: what the real call returned).
 * Afterwards, one load of the flag.
 */
static inline bool
peeking(const struct fd_entry *e, unsigned char bit)
{
	return e != NULL && (__atomic_load_n(&e->peek, __ATOMIC_RELAXED) & bit);
}

int hook_peek_pre(int fd, struct fd_entry *e, const struct iovec *iov,
		  size_t n);
void hook_peek_out(int fd, const struct iovec *iov, size_t n, ssize_t r);
void hook_peek_in(int fd, const struct iovec *iov, size_t n, ssize_t r,
		  int flags);

/* While fd's handshake runs (io.c): wait for it as a blocking call
 * would, or EAGAIN; 0 to go on, or -1 with errno set.  A tunnel that is
 * up (every call after the first, on every tunnel) pays one load here:
 * since tunnels have records (evid.h) the I/O hooks see blocking ones
 * too. */
int hook_wait_tunnel_slow(int fd, struct fd_entry *e, int flags, bool out);

static inline int
hook_wait_tunnel(int fd, struct fd_entry *e, int flags)
{
	if (__builtin_expect(__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) ==
			     FD_TUNNEL_READY, 1))
		return 0;
	return hook_wait_tunnel_slow(fd, e, flags, false);
}

/* The same for a send: an optimistic tunnel (tunnel_early.c) takes the
 * program's bytes at once, behind its request. */
static inline int
hook_wait_tunnel_out(int fd, struct fd_entry *e, int flags)
{
	if (__builtin_expect(__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) ==
			     FD_TUNNEL_READY, 1))
		return 0;
	return hook_wait_tunnel_slow(fd, e, flags, true);
}

/*
 * An optimistic tunnel whose handshake is not in the kernel yet
 * (tunnel_early.c): a send goes through hook_held_send, which writes the
 * handshake and the program's bytes together; anything else that puts
 * bytes or a FIN on the socket calls hook_unhold first.
 */
static inline bool
held(const struct fd_entry *e)
{
	return e != NULL &&
	       __builtin_expect(__atomic_load_n(&e->held, __ATOMIC_ACQUIRE), 0);
}

/* send(fd, iov[0..n), flags) on a held tunnel (entry e), done: its
 * result; or -2 when it must go the usual way (then nothing is held any
 * more, or the tunnel failed and the usual checks say so). */
ssize_t hook_held_send(int fd, struct fd_entry *e, const struct iovec *iov,
		       size_t n, int flags);

/* Send fd's held handshake alone and wait until it is in the kernel, as
 * a send with these flags would wait: 0, or -1 with errno (EAGAIN). */
int hook_unhold(int fd, struct fd_entry *e, int flags);

/* A send without a destination on a socket with UDP associations. */
ssize_t hook_udp_out(int fd, struct fd_entry *e, const void *buf, size_t n,
		     int flags);

#endif
