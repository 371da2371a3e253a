/*
 * relay_peer.c - which destination each of the relay's tunnels goes to,
 * for getpeername in a process that has the program's socket without
 * the shim's record of it: after exec, or received over SCM_RIGHTS (the
 * shim asks on the control socket, CTL_RELAY_PEER), or in a static
 * program (the supervisor asks here directly).
 *
 * The shim's request line carries the destination (relaymsg.h); it is
 * kept by the program socket's address, the peer of the accepted one.
 * That is 127.0.0.1:PORT (the relay listens there), so the table is a
 * slot per port.  A slot outlives its tunnel: the program's socket says
 * the relay is its peer after the relay closed its side (the kernel's
 * getpeername succeeds on a connection the peer has closed), and while
 * that socket exists no other connection to the relay can come from its
 * address; the next one from there takes the slot over.
 */
#include "relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ctl.h"
#include "peername.h"

#define SLOTS 65536			/* one per port */

struct slot {
	uint32_t addr;			/* the program socket's, network order */
	uint8_t len;			/* 0: free */
	uint8_t dest[sizeof(struct sockaddr_in6)];
};

static struct sockaddr_in listen_at;	/* the relay's own address */
static struct slot *slots;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void
relay_peer_listen(const struct sockaddr_in *at)
{
	listen_at = *at;
}

static void
put(const struct sockaddr_in *at, const struct sockaddr_storage *dest,
    socklen_t len)
{
	struct slot *s;

	pthread_mutex_lock(&lock);
	if (slots == NULL && len > 0)
		slots = calloc(SLOTS, sizeof(*slots));
	if (slots != NULL) {
		s = &slots[ntohs(at->sin_port)];
		if (len > 0) {
			s->addr = at->sin_addr.s_addr;
			memcpy(s->dest, dest, len);
			s->len = (uint8_t)len;
		} else if (s->addr == at->sin_addr.s_addr) {
			s->len = 0;
		}
	}
	pthread_mutex_unlock(&lock);
}

static socklen_t
get(const struct sockaddr_in *at, struct sockaddr_storage *out)
{
	socklen_t len = 0;
	struct slot *s;

	pthread_mutex_lock(&lock);
	if (slots != NULL) {
		s = &slots[ntohs(at->sin_port)];
		if (s->len > 0 && s->addr == at->sin_addr.s_addr) {
			memset(out, 0, sizeof(*out));
			memcpy(out, s->dest, s->len);
			len = s->len;
		}
	}
	pthread_mutex_unlock(&lock);
	return len;
}

void
relay_peer_note(int cfd, const struct sockaddr_storage *dest,
		socklen_t len)
{
	struct sockaddr_storage ss;
	struct sockaddr_in at;
	socklen_t sl = sizeof(ss);

	if (getpeername(cfd, (struct sockaddr *)&ss, &sl) == -1 ||
	    !peer_as_v4(&ss, sl, &at))
		return;
	if (dest == NULL || !peer_is_kernel_form(dest, len))
		len = 0;	/* a tunnel that said none: forget the last */
	put(&at, dest, len);
}

bool
relay_peer_of(int fd, const struct sockaddr_storage *peer, socklen_t plen,
	      struct sockaddr_storage *out, socklen_t *len)
{
	struct sockaddr_storage ss;
	struct sockaddr_in at;
	socklen_t sl = sizeof(ss), tl = sizeof(int);
	int type = 0;

	if (listen_at.sin_port == 0 || !peer_as_v4(peer, plen, &at) ||
	    at.sin_port != listen_at.sin_port ||
	    at.sin_addr.s_addr != listen_at.sin_addr.s_addr)
		return false;
	/* the tunnels are TCP: a UDP socket's port is another's */
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == -1 ||
	    type != SOCK_STREAM)
		return false;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1 ||
	    !peer_as_v4(&ss, sl, &at))
		return false;
	*len = get(&at, out);
	return *len > 0;
}

/* CTL_RELAY_PEER: the program socket's address in, its tunnel's
 * destination out. */
static enum ctl_status
serve(const uint8_t *p, size_t len, uint8_t *out, size_t n, size_t *outlen)
{
	static const char none[] = "no tunnel of the relay from there";
	struct sockaddr_storage dest;
	struct sockaddr_in at;
	socklen_t dl;

	/* the kernel's form of an AF_INET address: sin_zero is zero */
	if (len != sizeof(struct sockaddr_in) || !peer_is_kernel_form(p, len))
		return CTL_BAD;
	memcpy(&at, p, len);
	dl = get(&at, &dest);
	if (dl == 0 || dl > n) {
		memcpy(out, none, sizeof(none) - 1);
		*outlen = sizeof(none) - 1;
		return CTL_FAILED;
	}
	memcpy(out, &dest, dl);
	*outlen = dl;
	return CTL_OK;
}

int
relay_peer_serve(char ctl[SESS_CTL_MAX])
{
	int rc;

	if (ctl[0] == '\0') {
		rc = ctl_open(ctl);
		if (rc < 0) {
			errno = -rc;	/* for the caller's err() */
			return rc;
		}
	}
	ctl_add(CTL_RELAY_PEER, serve);
	return 0;
}
