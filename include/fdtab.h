/*
 * fdtab.h - what the library knows about an application's fd.
 *
 * A two-level table indexed by fd, allocated lazily: a lookup on an fd the
 * library never touched costs two atomic loads and no lock, which is what
 * the close() and getpeername() hooks pay on every call.
 */
#ifndef PROXYWRAP_FDTAB_H
#define PROXYWRAP_FDTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

enum fd_state {
	FD_TUNNEL_READY = 1,	/* a tunnel is up: bytes go to the dest */
	FD_TUNNEL_PENDING = 2,	/* handshake running (non-blocking) */
	FD_TUNNEL_FAILED = 3,	/* handshake failed: err says why */
	FD_UDP = 4,		/* a UDP socket with associations (udp) */
	FD_TUNNEL_EARLY = 5,	/* optimistic (tunnel_early.c): connected
				 * to the program, which may write; the
				 * proxy's replies are still to be read */
};

struct ep_reg;
struct evid;
struct tun;
struct udp_sock;

/*
 * A reference an entry holds (a UDP socket's state, udp.h, begins with
 * one): copying an entry takes one, clearing it drops one, and the last
 * drop calls release.  The owner's teardown reaches fdtab as this
 * callback, not as a call from here up into it.
 */
struct fd_ref {
	int refs;			/* atomic */
	void (*release)(struct fd_ref *r);
};

void fd_ref_get(struct fd_ref *r);
void fd_ref_put(struct fd_ref *r);

/*
 * Set once an fd gets an entry the I/O hooks must look at (a handshake
 * under way, a UDP association): until then read/write/recv/send skip
 * even the table lookup.
 */
extern int fdtab_live;

struct fd_entry {
	int state;			/* enum fd_state, atomic */
	int err;			/* errno for FD_TUNNEL_FAILED */
	bool internal;			/* the library's own fd (a UDP control
					 * connection): not the app's to close */
	int *owner;			/* internal: where its number is kept */
	struct tun *tun;		/* FD_TUNNEL_PENDING: the handshake */
	struct udp_sock *udp;		/* FD_UDP: one reference (its fd_ref) */
	struct fd_ref *lease;		/* READY: the tunnel's max_conns
					 * leases (proxyhealth.h), or NULL */
	struct sockaddr_storage peer;	/* what the app connected to */
	socklen_t peerlen;
	/* The readiness contract (ready.h), for a tunnel started by a
	 * non-blocking connect: */
	bool acked;			/* READY: a second connect() gave 0
					 * (the next gets EISCONN) */
	bool err_unread;		/* FAILED: err not yet taken by
					 * SO_ERROR, connect or I/O */
	int tunfd;			/* the fd the handshake runs on (for a
					 * dup'ed copy, another fd's) */
	struct ep_reg *ep;		/* the program's epoll registrations
					 * of fd while they are hidden or
					 * patched (ready.c) */
	/* A tunnel's evidence (evid.h): what its close event says. */
	struct evid *evid;		/* one reference (its fd_ref) */
	unsigned char peek;		/* EVID_PEEK_*: the I/O hooks still
					 * look at its first bytes */
	bool held;			/* EARLY: its handshake is not in the
					 * kernel yet (tunnel_early.c): the
					 * program's bytes must not go
					 * before it (async_early_send) */
};

/* The table's pages (fdtab.c): FDTAB_PAGES pointers to FDTAB_PAGE
 * entries each, created on first use and never freed. */
#define FDTAB_PAGE_BITS 10
#define FDTAB_PAGE (1u << FDTAB_PAGE_BITS)
#define FDTAB_PAGES 1024		/* fds up to 1M */
extern struct fd_entry **fdtab_pages[FDTAB_PAGES];

/*
 * The entry for fd, or NULL when there is none.  The pointer stays valid
 * until fdtab_clear(fd) (callers on other threads racing a close are the
 * application's own bug, as with the fd itself).
 */
static inline struct fd_entry *
fdtab_get(int fd)
{
	unsigned int u = (unsigned int)fd;
	struct fd_entry **page;

	if (fd < 0 || (u >> FDTAB_PAGE_BITS) >= FDTAB_PAGES)
		return NULL;
	page = __atomic_load_n(&fdtab_pages[u >> FDTAB_PAGE_BITS],
			       __ATOMIC_ACQUIRE);
	if (page == NULL)
		return NULL;
	return __atomic_load_n(&page[u & (FDTAB_PAGE - 1)], __ATOMIC_ACQUIRE);
}

/* Attach a new zeroed entry to fd (replacing any); NULL: no memory or fd
 * out of range. */
struct fd_entry *fdtab_set(int fd);

/* Attach a copy of init, whole, to fd unless fd has an entry already
 * (another thread's): readers never see it half made.  It holds no
 * references (udp, evid, lease NULL).  false when it did not. */
bool fdtab_adopt(int fd, const struct fd_entry *init);

/* Forget fd (on close), dropping its UDP reference.  Cheap when fd has
 * no entry. */
void fdtab_clear(int fd);

/* Copy fd's entry to newfd (dup2/dup3/F_DUPFD): both name the socket. */
void fdtab_dup(int fd, int newfd);

/*
 * Move one of the library's own fds high, out of the range where programs
 * expect their own numbers (shells' "exec 5>file", daemons' dup2 onto
 * 0..2 and 3..N), close-on-exec.  Returns the new fd (fd itself closed),
 * or fd when it cannot move.
 */
int fdtab_high(int fd);

/* True for one of the library's own fds (see fd_entry.internal). */
bool fdtab_internal(int fd);

#endif
