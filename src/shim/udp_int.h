/*
 * udp_int.h - what the three files of the UDP module share: a socket's
 * state and its associations (udp.c), sending and connected sockets
 * (udp_send.c), receiving (udp_recv.c).  Not for use outside them; the
 * module's interface is udp.h.
 *
 * Locks: u->mu guards a socket's relays, queue, peer and destinations.
 * The helper thread calls an association's completion with async.c's
 * lock held and then takes u->mu, so no code holding u->mu calls into
 * async.c.
 */
#ifndef PROXYWRAP_UDP_INT_H
#define PROXYWRAP_UDP_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "fdtab.h"
#include "rules.h"
#include "shim.h"
#include "socks5.h"
#include "tunnel.h"
#include "udp.h"

#define UDP_RELAYS 4		/* proxies one socket uses at a time */
#define UDP_QUEUE_MAX 64	/* datagrams held while an association starts */
#define UDP_QUEUE_BYTES (256 * 1024)
#define UDP_DESTS 16		/* destinations a socket remembers */
#define UDP_HDR_MAX (4 + 1 + SOCKS5_NAME_MAX + 2)
#define UDP_DGRAM_MAX 65536	/* more than any datagram's payload */
#define UDP_CHECK_MS 1000	/* how often a send looks at the control */
#define UDP_IOV_MAX 64		/* longer iovecs are gathered first */

enum relay_state {
	R_NONE,
	R_STARTING,	/* handshake under way; datagrams are queued */
	R_UP,		/* addr is the relay */
	R_FAILED,	/* err goes to the next send, then R_NONE */
};

struct qdgram {
	struct qdgram *next;
	size_t len;
	uint8_t data[];		/* header + payload */
};

struct relay {
	enum relay_state state;
	int proxy;			/* index into cfg->proxies */
	int ctrl;			/* the control connection, or -1 */
	int err;			/* R_FAILED: -errno */
	unsigned int gen;		/* fork generation it was started in */
	struct sockaddr_storage addr;	/* R_UP: in the socket's family */
	socklen_t addrlen;
	int64_t checked_ms;
	struct qdgram *q, **qtail;
	unsigned int qn;
	size_t qbytes;
	struct udp_sock *u;
};

/* A destination the socket sent to: logged once, and the address the
 * application used (a fake one for a name) for replies from it. */
struct udp_dest {
	struct tun_dest d;
	struct sockaddr_storage app;
	socklen_t applen;
};

struct udp_sock {
	struct fd_ref ref;		/* first: the fds naming the socket
					 * (fdtab.h) */
	pthread_mutex_t mu;
	pthread_cond_t changed;		/* a relay left R_STARTING */
	int family;			/* the socket's */
	bool v6only;			/* IPV6_V6ONLY: no IPv4 peers */
	int sock;			/* our dup of it, for the helper; -1 */
	struct relay relay[UDP_RELAYS];
	bool conn;			/* connected to a proxied peer */
	bool conn_pending;		/* ... whose relay is not known yet */
	int conn_relay;
	struct tun_dest conn_dest;
	struct decision conn_dec;
	struct sockaddr_storage peer;	/* what the application connected to */
	socklen_t peerlen;
	struct udp_dest dest[UDP_DESTS];
	unsigned int ndest;		/* ring: next slot is ndest % UDP_DESTS */
	int wake_err;			/* -errno for the next receive */
	struct sockaddr_storage self;	/* where the wake-up datagram went */
	unsigned long strays, frags, bad, queued_drop;	/* atomic */
};


/* fd's socket state, created on its first proxied datagram; NULL with
 * errno when it cannot be. */
struct udp_sock *udp_sock_for(int fd);

/*
 * The relay index on u for dec's proxy, starting an association when
 * there is none (a blocking socket waits for it, a non-blocking one hands
 * it to the helper; flags are the send's).  A failed association reports
 * its error once and the next datagram tries again.  Returns the index
 * or -errno (-ENOBUFS: u already uses UDP_RELAYS proxies).
 */
int udp_relay_for(struct udp_sock *u, int fd, const struct shim *s,
		  const struct decision *dec, const struct tun_dest *d,
		  int flags);

/* With u->mu held: r back to R_NONE (its err kept for senders that
 * waited on it); returns the control fd, for udp_own_close after the
 * lock is dropped. */
int udp_relay_clear(struct relay *r);

/* Close one of the library's own fds (a control connection). */
void udp_own_close(int fd);

/* fd is O_NONBLOCK. */
bool udp_nonblocking(int fd);

/* udp_addr.c */

/* family/addr/port as a sockaddr for a socket of family sfam (IPv4 as
 * v4-mapped on an IPv6 socket).  0, or -EAFNOSUPPORT for an IPv6
 * address and an IPv4 socket. */
int udp_sockaddr_for(int sfam, int family, const uint8_t *addr,
		     uint16_t port, struct sockaddr_storage *ss,
		     socklen_t *len);

/* Same family, address and port. */
bool udp_same_addr(const struct sockaddr_storage *a,
		   const struct sockaddr_storage *b);

/* Same destination: the same name and port, or the same address and
 * port when neither has a name. */
bool udp_same_dest(const struct tun_dest *a, const struct tun_dest *b);

/* The bytes m's iovec holds. */
size_t udp_iov_total(const struct msghdr *m);

/* The first max bytes (at most) of m's iovec into to; returns how many. */
size_t udp_iov_gather(const struct msghdr *m, uint8_t *to, size_t max);

#endif
