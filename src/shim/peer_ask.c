/*
 * peer_ask.c - getpeername on a socket connected to proxywrap's TLS
 * relay (an https proxy's tunnel) that this process has no record of:
 * it came through exec, or over SCM_RIGHTS, from the process whose
 * connect made the tunnel.  The kernel says the relay; the destination
 * is asked of proxywrap on the control socket (CTL_RELAY_PEER, by the
 * socket's own address, which is the relay's peer) and kept in the fd
 * table, so each such socket asks once.  Only a socket whose kernel
 * peer is the relay pays more than a compare.
 */
#include "peer_ask.h"

#include <errno.h>
#include <string.h>

#include "ctl_client.h"
#include "fdtab.h"
#include "guard.h"
#include "peername.h"
#include "real.h"
#include "tunnel.h"

#define ASK_MS 2000		/* proxywrap answers from a table */

/* The destination of fd's tunnel, or 0. */
static socklen_t
ask(int fd, struct sockaddr_storage *dest)
{
	struct sockaddr_storage ss;
	struct sockaddr_in self;
	uint8_t out[sizeof(struct sockaddr_storage) + 1];
	socklen_t len = sizeof(ss), tl = sizeof(int);
	size_t n = 0;
	int rc, type = 0;

	/* the relay's tunnels are TCP: a UDP socket's port is another's */
	if (real_getpeername(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    !tun_relay_is(&ss, len) ||
	    real_getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == -1 ||
	    type != SOCK_STREAM)
		return 0;
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return 0;
	/* the relay listens on IPv4: an IPv6 socket's name is v4-mapped */
	if (!peer_as_v4(&ss, len, &self))
		return 0;
	rc = ctl_call(CTL_RELAY_PEER, &self, sizeof(self), out, sizeof(out),
		      &n, tun_now_ms() + ASK_MS);
	if (rc != CTL_OK || !peer_is_kernel_form(out, n))
		return 0;
	memset(dest, 0, sizeof(*dest));
	memcpy(dest, out, n);
	return (socklen_t)n;
}

socklen_t
peer_ask(int fd, struct sockaddr_storage *dest)
{
	struct fd_entry init, *e;
	socklen_t dl;
	int saved = errno;

	if (shim_internal())
		return 0;
	dl = ask(fd, dest);
	errno = saved;
	if (dl == 0)
		return 0;
	memset(&init, 0, sizeof(init));
	init.state = FD_TUNNEL_READY;
	init.acked = true;	/* connected: connecting again is EISCONN */
	init.tunfd = fd;
	init.peer = *dest;
	init.peerlen = dl;
	if (!fdtab_adopt(fd, &init) && (e = fdtab_get(fd)) != NULL &&
	    e->peerlen > 0 &&
	    __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) == FD_TUNNEL_READY) {
		*dest = e->peer;	/* another thread's, just as good */
		dl = e->peerlen;
	}
	return dl;
}
