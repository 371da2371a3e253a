/*
 * supervise_via.c - a supervised connect that a rule sends through
 * proxies: the shim's tunnel engine (tunnel.h) runs the whole handshake
 * here, inside the notification, on the duplicate of the caller's socket.
 *
 * The caller stays blocked in connect() until the tunnel is up, also on
 * a non-blocking socket: it then gets 0 (a non-blocking connect may
 * complete at once, as the kernel's to loopback does), so it never sees
 * the socket writable while the proxy is still answering, and its first
 * byte goes to the destination.  The duplicate shares the caller's open
 * file description: O_NONBLOCK, which the engine needs, is set for the
 * handshake and the caller's flags put back exactly.
 *
 * When the socket's family cannot reach the proxy (an IPv6-only socket,
 * an IPv4 proxy), the engine puts a socket of the proxy's family in its
 * place (sockfit.h) - here, in our fd table: that socket is installed in
 * the caller at the same fd number (SECCOMP_ADDFD_FLAG_SETFD, as the
 * shim's dup3) once the tunnel is up, and in the caller's epoll sets
 * that held the socket it replaces (supervise_epoll.c).
 */
#include "supervise_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "fakedns.h"
#include "tunnel.h"

/* The engine's destination for d: a fake address's name, for remote
 * DNS through socks5h and HTTP CONNECT. */
static void
tun_dest_of(const struct sup_dest *d, struct tun_dest *td)
{
	memset(td, 0, sizeof(*td));
	td->family = d->family;
	memcpy(td->addr, d->addr, sizeof(td->addr));
	td->port = d->port;
	if (fdns_is_fake(d->family, d->addr) &&
	    fdns_lookup(d->family, d->addr, td->name, sizeof(td->name)) < 0)
		td->name[0] = '\0';
}

/* The socket the engine put in place of ours (the old one inode ino),
 * into the caller at tfd, in the epoll sets that held the old one. */
static int
install(struct sup_call *c, struct tun *t, int fd, int tfd, ino_t ino)
{
	int cloexec = sup_fd_cloexec(c, tfd), rc;

	if (cloexec < 0)
		cloexec = 1;	/* the file is gone or changed: safe side */
	sup_epoll_carry(c, fd, tfd, (unsigned long)ino);
	rc = sup_setfd(c, fd, tfd, cloexec != 0);
	if (rc < 0) {
		t->err = rc;
		snprintf(t->msg, sizeof(t->msg), "cannot put the refitted "
			 "socket in place: %s", strerror(-rc));
	}
	return rc;
}

int
sup_via(struct sup_call *c, int fd, int tfd, const uint8_t *sa,
	socklen_t len, const struct sup_dest *d, const struct decision *dec)
{
	const struct config *cfg = c->p->cfg;
	struct stat before, after;
	struct tun_dest td;
	struct tun *t;
	int flags, rc;
	struct sockaddr_storage was;
	socklen_t wl = sizeof(was);

	/* connected already (a tunnel up, or the program's own): the
	 * kernel's EISCONN, nothing to route */
	if (getpeername(fd, (struct sockaddr *)&was, &wl) == 0)
		return -EISCONN;
	flags = fcntl(fd, F_GETFL);
	if (flags == -1 || fstat(fd, &before) == -1)
		return -errno;
	t = tun_new();
	if (t == NULL)
		return -ENOMEM;
	tun_dest_of(d, &td);
	tun_init(t, fd, cfg, dec->rule, &td, cfg->connect_timeout_ms);
	memcpy(&t->peer, sa, len < sizeof(t->peer) ? len : sizeof(t->peer));
	t->peerlen = len;
	sup_may_block();	/* a slow proxy holds only this thread */
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	t->may_learn = true;	/* the caller waits in connect() */
	rc = tun_run(t);
	/* the caller's flags, on whichever socket fd is now */
	fcntl(fd, F_SETFL, flags);
	if (rc == 0 && fstat(fd, &after) == 0 &&
	    (after.st_ino != before.st_ino || after.st_dev != before.st_dev))
		rc = install(c, t, fd, tfd, before.st_ino);
	if (rc == 0)
		sup_peer_note(fd, &t->peer, t->peerlen);
	if (rc < 0 && t->state != TUN_CONNECTING)
		shutdown(fd, SHUT_RDWR);	/* no half-made tunnel */
	sup_report_via(c, t, rc);
	tun_free(t);
	return rc;
}
