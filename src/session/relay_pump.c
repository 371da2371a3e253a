/*
 * relay_pump.c - one tunnel's bytes between the program's socket and TLS
 * to the proxy (relay.h).
 *
 * Both sockets are non-blocking.  Each round tries every move that has
 * room (program -> buffer -> TLS, TLS -> buffer -> program) and polls
 * only when none made progress, for exactly what the blocked moves wait
 * on: bytes that OpenSSL holds decrypted are taken before any poll, and
 * a full buffer stops reading its side (back-pressure reaches the sender
 * through TCP's window).  Half-close is kept: the program's FIN, once
 * its bytes are out, becomes close_notify (TLS 1.3 lets us go on
 * reading); the proxy's close_notify (or its FIN) becomes
 * shutdown(SHUT_WR) toward the program.  A failure on either side resets
 * the other, as a kernel's TCP would report it.
 */
#include "relay.h"
#include "tlslib.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct dir {
	unsigned char *buf;
	size_t len, off;	/* bytes held: buf[off..len) */
	bool eof;		/* the sender is done */
	bool shut;		/* passed on to the receiver */
};

struct pump {
	int cfd, sfd;
	SSL *ssl;
	struct dir up, dn;	/* program -> proxy, proxy -> program */
	short cwant, swant;	/* poll events the blocked moves wait for */
	bool failed;
};

static void
nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl != -1)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* An OpenSSL call's outcome: 1 progress, 0 blocked (swant set), -1 eof
 * (reads only), -2 failure. */
static int
ssl_result(struct pump *p, int rc)
{
	int err = SSL_get_error(p->ssl, rc);

	if (rc > 0)
		return 1;
	switch (err) {
	case SSL_ERROR_WANT_READ:
		p->swant |= POLLIN;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		p->swant |= POLLOUT;
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		return -1;
	case SSL_ERROR_SYSCALL:
		/* a FIN without close_notify: an end, as TCP's */
		if (ERR_peek_last_error() == 0 && errno == 0)
			return -1;
		return -2;
	default:
		return -2;
	}
}

static bool
from_program(struct pump *p)
{
	struct dir *d = &p->up;
	ssize_t r;

	if (d->eof || d->len == RELAY_BUF)
		return false;
	r = recv(p->cfd, d->buf + d->len, RELAY_BUF - d->len, 0);
	if (r > 0) {
		d->len += (size_t)r;
		return true;
	}
	if (r == 0) {
		d->eof = true;
		return true;
	}
	if (errno == EAGAIN || errno == EINTR)
		p->cwant |= POLLIN;
	else
		p->failed = true;
	return false;
}

/* Drop what was passed on from the front of d when it holds the back
 * half of the buffer (moving is fine: SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
 * lets a retried write start elsewhere with the same bytes). */
static void
consumed(struct dir *d, size_t n)
{
	d->off += n;
	if (d->off == d->len) {
		d->off = d->len = 0;
	} else if (d->off > RELAY_BUF / 2) {
		memmove(d->buf, d->buf + d->off, d->len - d->off);
		d->len -= d->off;
		d->off = 0;
	}
}

/* SSL_write sends one record per call (partial writes): go on while
 * the socket takes them, so that a round moves the whole buffer. */
static bool
to_proxy(struct pump *p)
{
	struct dir *d = &p->up;
	bool moved = false;
	int rc;

	while (d->off < d->len) {
		ERR_clear_error();
		errno = 0;
		rc = SSL_write(p->ssl, d->buf + d->off, (int)(d->len - d->off));
		if (rc <= 0) {
			if (ssl_result(p, rc) != 0)
				p->failed = true;
			return moved;
		}
		consumed(d, (size_t)rc);
		moved = true;
	}
	if (d->eof && !d->shut) {
		ERR_clear_error();
		rc = SSL_shutdown(p->ssl);
		if (rc < 0 && ssl_result(p, rc) == 0)
			return moved;
		/* close_notify, then TCP's FIN: the proxy's read side ends */
		shutdown(p->sfd, SHUT_WR);
		d->shut = true;
		return true;
	}
	return moved;
}

/*
 * SSL_read returns one record (16 KiB at most) per call: take records
 * until the buffer is full or none is left, so that the program gets
 * them in one send (a quarter of the sends and of its wakeups).  Only
 * the last call reaches the socket when read-ahead holds the rest.
 */
static bool
from_proxy(struct pump *p)
{
	struct dir *d = &p->dn;
	bool moved = false;
	int rc;

	while (!d->eof && d->len < RELAY_BUF) {
		ERR_clear_error();
		errno = 0;
		rc = SSL_read(p->ssl, d->buf + d->len,
			      (int)(RELAY_BUF - d->len));
		if (rc > 0) {
			d->len += (size_t)rc;
			moved = true;
			continue;
		}
		rc = ssl_result(p, rc);
		if (rc == -1)
			d->eof = true;
		else if (rc == -2)
			p->failed = true;
		return moved || rc == -1;
	}
	return moved;
}

static bool
to_program(struct pump *p)
{
	struct dir *d = &p->dn;
	ssize_t r;

	if (d->off < d->len) {
		r = send(p->cfd, d->buf + d->off, d->len - d->off,
			 MSG_NOSIGNAL);
		if (r == -1) {
			if (errno == EAGAIN || errno == EINTR)
				p->cwant |= POLLOUT;
			else
				p->failed = true;
			return false;
		}
		consumed(d, (size_t)r);
		return true;
	}
	if (d->eof && !d->shut) {
		shutdown(p->cfd, SHUT_WR);
		d->shut = true;
		return true;
	}
	return false;
}

/* Reset the program's connection: what it sees when the proxy's fails. */
static void
reset(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

/*
 * After a poll: an error nobody asked about is a reset (the next call
 * would fail); a hang-up nobody asked about (the proxy's FIN while its
 * buffer is full) is left out of the polls until something moves, else
 * poll would return at once for it, round after round.
 */
static void
polled(struct pump *p, const struct pollfd *f, bool *mute)
{
	short extra = f->revents & ~f->events;

	if (extra & (POLLERR | POLLNVAL))
		p->failed = true;
	else if (extra & POLLHUP)
		*mute = true;
}

void
relay_pump(int cfd, SSL *ssl, const void *first, size_t n)
{
	struct pump p = { .cfd = cfd, .sfd = SSL_get_fd(ssl), .ssl = ssl };
	struct pollfd fds[2];
	bool moved, mute[2] = { false, false };

	p.up.buf = malloc(RELAY_BUF);
	p.dn.buf = malloc(RELAY_BUF);
	if (p.up.buf == NULL || p.dn.buf == NULL || n > RELAY_BUF) {
		p.failed = true;
		goto out;
	}
	memcpy(p.up.buf, first, n);
	p.up.len = n;
	nonblock(cfd);
	while (!p.failed && !(p.up.shut && p.dn.shut)) {
		p.cwant = p.swant = 0;
		moved = from_program(&p);
		moved |= to_proxy(&p);
		moved |= from_proxy(&p);
		moved |= to_program(&p);
		if (moved) {
			mute[0] = mute[1] = false;
			continue;
		}
		if (p.failed)
			break;
		fds[0] = (struct pollfd){ .fd = mute[0] ? -1 : cfd,
					  .events = p.cwant };
		fds[1] = (struct pollfd){ .fd = mute[1] ? -1 : p.sfd,
					  .events = p.swant };
		/* with a side left out, look again now and then */
		if (poll(fds, 2, mute[0] || mute[1] ? 200 : -1) == -1 &&
		    errno != EINTR)
			p.failed = true;
		polled(&p, &fds[0], &mute[0]);
		polled(&p, &fds[1], &mute[1]);
	}
out:
	if (p.failed)
		reset(cfd);
	close(cfd);
	free(p.up.buf);
	free(p.dn.buf);
}
