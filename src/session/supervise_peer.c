/*
 * supervise_peer.c - getpeername() on a socket the supervisor routed
 * says where the program connected, not the proxy, as the shim's hook
 * does.
 *
 * The filter cannot tell a routed socket from another, so every
 * getpeername of a supervised process comes here.  A routed socket is
 * known by its inode (the duplicate's st_dev and st_ino); the supervisor
 * sees no close, so the table is bounded (least recently used out), and
 * an entry is believed only while that inode is still a socket connected
 * to the proxy it was tunnelled through.  A socket connected to the TLS
 * relay that the supervisor did not route (the shim did, in a process
 * that passed it on) is the relay's to tell (relay_peer.c).  So is
 * getsockopt(SO_PEERNAME), the filter's only getsockopt.  Any other
 * socket gets the kernel's own answer (CONTINUE: getpeername decides
 * nothing).
 */
#include "supervise_int.h"
#include "peername.h"
#include "relay.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PEER_MAX 4096

struct peer {
	uint64_t dev, ino;	/* 0: free */
	uint64_t used;		/* the clock when last looked at */
	struct sockaddr_storage proxy;	/* what the socket is connected to */
	socklen_t proxylen;
	struct sockaddr_storage dest;	/* what getpeername says */
	socklen_t destlen;
};

static struct peer g_peer[PEER_MAX];
static size_t g_npeer;
static uint64_t g_clock;
static pthread_mutex_t g_peer_lock = PTHREAD_MUTEX_INITIALIZER;

static struct peer *
find(uint64_t dev, uint64_t ino)
{
	size_t i;

	for (i = 0; i < g_npeer; i++)
		if (g_peer[i].ino == ino && g_peer[i].dev == dev)
			return &g_peer[i];
	return NULL;
}

void
sup_peer_note(int fd, const struct sockaddr_storage *dest, socklen_t len)
{
	struct sockaddr_storage proxy;
	socklen_t plen = sizeof(proxy);

	if (getpeername(fd, (struct sockaddr *)&proxy, &plen) == 0)
		sup_peer_note_via(fd, &proxy, plen, dest, len);
}

void
sup_peer_note_via(int fd, const struct sockaddr_storage *proxy,
		  socklen_t plen, const struct sockaddr_storage *dest,
		  socklen_t len)
{
	struct stat st;
	struct peer *p;
	size_t i;

	if (fstat(fd, &st) == -1)
		return;
	pthread_mutex_lock(&g_peer_lock);
	p = find(st.st_dev, st.st_ino);
	if (p == NULL && g_npeer < PEER_MAX)
		p = &g_peer[g_npeer++];
	if (p == NULL) {	/* full: the least recently used goes */
		p = &g_peer[0];
		for (i = 1; i < g_npeer; i++)
			if (g_peer[i].used < p->used)
				p = &g_peer[i];
	}
	p->dev = st.st_dev;
	p->ino = st.st_ino;
	p->used = ++g_clock;
	p->proxy = *proxy;
	p->proxylen = plen;
	p->destlen = peer_kernel_form(dest, len, &p->dest);
	pthread_mutex_unlock(&g_peer_lock);
}

/* The kernel's peer of the duplicate fd: as getpeername says it, or
 * (opt) as SO_PEERNAME does, which still names it once the connection
 * is closed both ways.  0, or -errno. */
static int
kernel_peer(int fd, bool opt, struct sockaddr_storage *ss, socklen_t *len)
{
	socklen_t dl = sizeof(int);
	int dom = 0;

	memset(ss, 0, sizeof(*ss));
	*len = sizeof(*ss);
	if (!opt)
		return getpeername(fd, (struct sockaddr *)ss, len) == 0 ? 0 :
									  -errno;
	/* SO_PEERNAME refuses a buffer longer than the address */
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &dl) == -1)
		return -errno;
	*len = dom == AF_INET6 ? sizeof(struct sockaddr_in6) :
				 sizeof(struct sockaddr_in);
	return getsockopt(fd, SOL_SOCKET, SO_PEERNAME, ss, len) == 0 ? 0 :
									  -errno;
}

/* Is the duplicate fd, whose kernel peer is now[0..nl) (prc: 0, or the
 * -errno of asking), a socket we routed (still connected to its proxy)?
 * Then its destination in *out. */
static bool
routed(int fd, int prc, const struct sockaddr_storage *now, socklen_t nl,
       struct sockaddr_storage *out, socklen_t *outlen)
{
	struct stat st;
	struct peer *p;
	bool ok = false;

	if (fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode))
		return false;
	pthread_mutex_lock(&g_peer_lock);
	p = find(st.st_dev, st.st_ino);
	if (p != NULL) {
		/* the inode may be a new socket's: believe it only while it
		 * is connected where the tunnel went (one still connecting,
		 * to the DNS responder, keeps its entry) */
		ok = prc == 0 && nl == p->proxylen &&
		     memcmp(now, &p->proxy, nl) == 0;
		if (ok) {
			p->used = ++g_clock;
			*out = p->dest;
			*outlen = p->destlen;
		} else if (prc != -ENOTCONN) {
			*p = g_peer[--g_npeer];
		}
	}
	pthread_mutex_unlock(&g_peer_lock);
	return ok;
}

/* The target's fd's destination, when it is a tunnel: one we routed, or
 * an https proxy's tunnel that a process with the shim made and passed
 * on (exec, SCM_RIGHTS), which the relay knows. */
static bool
dest_of(struct sup_call *c, bool opt, struct sockaddr_storage *dest,
	socklen_t *dlen)
{
	struct sockaddr_storage now;
	socklen_t nl;
	int fd, prc;
	bool ours;

	fd = sup_dupfd(c, (int)c->args[0]);
	if (fd < 0)
		return false;	/* EBADF and the rest: the kernel's */
	prc = kernel_peer(fd, opt, &now, &nl);
	ours = routed(fd, prc, &now, nl, dest, dlen) ||
	       (prc == 0 && relay_peer_of(fd, &now, nl, dest, dlen));
	close(fd);
	return ours;
}

int64_t
sup_getpeername(struct sup_call *c)
{
	struct sockaddr_storage dest;
	socklen_t dlen;
	int len, rc;

	if (!dest_of(c, false, &dest, &dlen))
		return SUP_CONTINUE;
	/* move_addr_to_user: the length, then at most that much of the
	 * address, then the whole length back */
	rc = sup_read(c, c->args[2], &len, sizeof(len));
	if (rc < 0)
		return rc;
	if (len < 0)
		return -EINVAL;
	if ((socklen_t)len > dlen)
		len = (int)dlen;
	if (len > 0) {
		rc = sup_write(c, c->args[1], &dest, (size_t)len);
		if (rc < 0)
			return rc;
	}
	len = (int)dlen;
	return sup_write(c, c->args[2], &len, sizeof(len));
}

int64_t
sup_peername_opt(struct sup_call *c)
{
	struct sockaddr_storage dest;
	socklen_t dlen;
	int len, rc;

	if (c->compat || !dest_of(c, true, &dest, &dlen))
		return SUP_CONTINUE;
	/* sk_getsockopt: the length, which must not exceed the address's,
	 * that many bytes, the length back as it was */
	rc = sup_read(c, c->args[4], &len, sizeof(len));
	if (rc < 0)
		return rc;
	if (len < 0 || (socklen_t)len > dlen)
		return -EINVAL;
	if (len > 0) {
		rc = sup_write(c, c->args[3], &dest, (size_t)len);
		if (rc < 0)
			return rc;
	}
	return sup_write(c, c->args[4], &len, sizeof(len));
}
