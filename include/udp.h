/*
 * udp.h - UDP through SOCKS5 UDP ASSOCIATE (RFC 1928 §7).
 *
 * A UDP socket that sends to a destination the rules route via a SOCKS5
 * proxy gets an association with that proxy: a TCP control connection
 * (one of the library's own fds), and the relay address from the reply.
 * Its datagrams then go to the relay, each behind the SOCKS5 UDP header,
 * and what comes back from the relay is unwrapped before the application
 * sees it, with the real source address.  Every datagram follows its own
 * rule, so one socket may talk direct and through proxies in turns.
 *
 * The per-socket state (struct udp_sock) hangs off the fd table entry
 * (FD_UDP) and is shared by dup'ed fds; the last close ends the
 * associations.  Sockets that never sent a proxied datagram have no
 * entry and pay one table lookup.
 */
#ifndef PROXYWRAP_UDP_H
#define PROXYWRAP_UDP_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "rules.h"
#include "tunnel.h"

struct udp_sock;

/*
 * Send m (its msg_name is the application's destination, or NULL on a
 * connected socket) to d, which dec routes via a SOCKS5 proxy: through
 * the relay, starting the association first if needed (a blocking
 * socket waits for it; a non-blocking one queues the datagram until it
 * is up).  Returns what sendmsg would, with errno set.
 */
ssize_t udp_send(int fd, const struct tun_dest *d,
		 const struct decision *dec, const struct msghdr *m,
		 int flags);

/* sendmsg on a socket with an entry and no destination: through the
 * relay when connect() chose a proxied peer, else plain. */
ssize_t udp_send_connected(int fd, struct udp_sock *u,
			   const struct msghdr *m, int flags);

/*
 * recvmsg on a socket with associations: datagrams from a relay come
 * unwrapped with their real source; others only when their source's rule
 * is direct (a stray sender cannot inject); fragments are dropped.
 * MSG_PEEK, MSG_TRUNC and MSG_DONTWAIT keep their meaning.
 */
ssize_t udp_recvmsg(int fd, struct udp_sock *u, struct msghdr *m,
		    int flags);

/*
 * A receive that was already in the kernel when another thread's first
 * proxied datagram gave fd its associations got got bytes of a datagram
 * into m's buffers, from `from` (NULL when the call could not say, as
 * read() cannot), ctrllen bytes of control data, m->msg_flags the
 * kernel's.  m's msg_namelen and msg_controllen are still what the
 * application passed.  The datagram is unwrapped in place as
 * udp_recvmsg would have done; one it would have dropped is dropped, and
 * the receive starts again.  Returns what recvmsg would, errno set.
 */
ssize_t udp_recv_late(int fd, struct udp_sock *u, struct msghdr *m,
		      ssize_t got, int flags,
		      const struct sockaddr_storage *from, socklen_t fromlen,
		      size_t ctrllen);

/*
 * The same for recvmmsg's got messages in v (vlen long; caps[i] is the
 * msg_namelen the application passed in v[i]): the batch ends before the
 * first that would have been dropped (the ones after it are lost); when
 * that is the first, the receive starts again.
 */
int udp_recvmmsg_late(int fd, struct udp_sock *u, struct mmsghdr *v,
		      unsigned int vlen, int got, int flags,
		      const socklen_t *caps);

/* recvmmsg in terms of udp_recvmsg (the timeout is not honoured). */
int udp_recvmmsg(int fd, struct udp_sock *u, struct mmsghdr *v,
		 unsigned int n, int flags);

/*
 * connect() of a UDP socket to d, which dec routes via a SOCKS5 proxy:
 * the socket is connected to the relay, and its peer is sa.  Returns 0 or
 * -errno.
 */
int udp_connect(int fd, const struct sockaddr *sa, socklen_t len,
		const struct tun_dest *d, const struct decision *dec);

/* The socket was connected elsewhere (direct). */
void udp_disconnect(struct udp_sock *u);

/*
 * connect(fd, sa AF_UNSPEC, len) for a socket with associations: the
 * peer is forgotten and the socket keeps the port its relays know.
 * Returns what connect returns, with errno set.
 */
int udp_unconnect(int fd, struct udp_sock *u, const struct sockaddr *sa,
		  socklen_t len);

/* The peer the application connected to; false when not connected
 * through a relay. */
bool udp_peer(struct udp_sock *u, struct sockaddr *sa, socklen_t *len);

#endif
