/*
 * relay_h2io.c - the thread of one shared HTTP/2 connection to an https
 * proxy (relay_h2.c says why and how tunnels reach it): it polls the TLS
 * socket, the wake-up pipe and the program sockets of its streams, feeds
 * nghttp2 what TLS brings, writes what nghttp2 has to send, moves each
 * stream's bytes within its buffers and acknowledges a stream's DATA to
 * the proxy only once the program took it (per-stream flow control).
 * Once the connection takes no more streams and its last one is over,
 * it says GOAWAY and close_notify and closes (relay_h2_int.h).
 */
#include "relay_h2_int.h"

#include <errno.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "relaymsg.h"
#include "tunnel.h"
#include "tlslib.h"
#include "h2lib.h"

void
h2io_reset_fd(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/* Append to the bytes for the program (the relay line, the head). */
void
h2io_dn_put(struct h2s *st, const char *p, size_t n)
{
	if (H2_DN - st->dnlen >= n) {
		memcpy(st->dn + st->dnlen, p, n);
		st->dnlen += n;
		st->notdata += n;
	}
}

void
h2io_refused(struct h2s *st, const char *why)
{
	char head[128];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 502 %s\r\n\r\n", why);

	if (n > 0 && (size_t)n < sizeof(head))
		h2io_dn_put(st, head, (size_t)n);
	st->answered = st->s_eof = true;
}

void
h2io_goaway(struct h2c *c)
{
	c->goaway = true;
	pthread_mutex_lock(&c->mu);
	c->shut = true;
	pthread_mutex_unlock(&c->mu);
}

static ssize_t
up_read(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
	uint32_t *flags, nghttp2_data_source *src, void *ud)
{
	struct h2s *st = src->ptr;
	size_t n = st->uplen - st->upoff;

	(void)s; (void)id; (void)ud;
	if (n == 0) {
		if (st->c_eof) {
			*flags |= NGHTTP2_DATA_FLAG_EOF;	/* half-close */
			return 0;
		}
		st->deferred = true;
		return NGHTTP2_ERR_DEFERRED;
	}
	if (n > len)
		n = len;
	memcpy(buf, st->up + st->upoff, n);
	st->upoff += n;
	if (st->upoff == st->uplen)
		st->upoff = st->uplen = 0;
	return (ssize_t)n;
}

/* A handed-over tunnel becomes a stream: CONNECT authority. */
static void
submit(struct h2c *c, struct h2s *st)
{
	char line[RELAY_LINE_MAX], text[48];
	nghttp2_data_provider dp = { .source.ptr = st, .read_callback = up_read };
	nghttp2_nv nv[3] = {
		{ (uint8_t *)":method", (uint8_t *)"CONNECT", 7, 7,
		  NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)":authority", (uint8_t *)st->authority, 10,
		  strlen(st->authority), NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)"proxy-authorization", (uint8_t *)st->auth, 19,
		  strlen(st->auth), NGHTTP2_NV_FLAG_NO_INDEX },
	};
	int len;

	st->id = nghttp2_submit_request(c->s, NULL, nv, st->auth[0] ? 3 : 2,
					&dp, st);
	explicit_bzero(st->auth, sizeof(st->auth));
	if (st->id < 0) {
		st->closed = st->reset = true;
		return;
	}
	/* the shim's line: TLS up, this stream on a shared connection */
	snprintf(text, sizeof(text), "%s h2 %d", c->tls, st->id);
	len = relay_build_reply(line, sizeof(line), RELAY_OK, text);
	if (len > 0)
		h2io_dn_put(st, line, (size_t)len);
	st->next = c->streams;
	c->streams = st;
}

/* A tunnel handed over just before the connection stopped taking them
 * (the proxy's GOAWAY, or TLS failed): refused, with the relay's line. */
static void
refuse(struct h2c *c, struct h2s *st)
{
	char line[RELAY_LINE_MAX];
	int len;

	len = relay_build_reply(line, sizeof(line), RELAY_NO_PROXY, c->broken ?
				"HTTP/2: the connection to the proxy failed" :
				"HTTP/2: the proxy is going away (GOAWAY)");
	if (len > 0)
		h2io_dn_put(st, line, (size_t)len);
	st->closed = st->s_eof = true;
	st->next = c->streams;
	c->streams = st;
}

static void
take_pending(struct h2c *c)
{
	struct h2s *st, *next;
	char b[64];

	while (read(c->wake[0], b, sizeof(b)) > 0)
		;
	pthread_mutex_lock(&c->mu);
	st = c->pending;
	c->pending = NULL;
	pthread_mutex_unlock(&c->mu);
	for (; st != NULL; st = next) {
		next = st->next;
		if (c->broken || c->goaway)
			refuse(c, st);
		else
			submit(c, st);
	}
}

/* The program's side of one stream: read what fits, write what is due
 * (and acknowledge the DATA bytes it took). */
static void
stream_io(struct h2c *c, struct h2s *st, short rev)
{
	ssize_t r;
	size_t data;

	if (rev & POLLERR) {
		st->reset = true;	/* the program's reset */
		return;
	}
	if ((rev & (POLLIN | POLLHUP)) && !st->c_eof &&
	    st->uplen < H2_UP) {
		r = recv(st->cfd, st->up + st->uplen, H2_UP - st->uplen, 0);
		if (r > 0)
			st->uplen += (size_t)r;
		else if (r == 0)
			st->c_eof = true;
		else if (errno != EAGAIN && errno != EINTR)
			st->reset = true;
		if (st->deferred && (r > 0 || r == 0)) {
			st->deferred = false;
			nghttp2_session_resume_data(c->s, st->id);
		}
	}
	if (st->dnoff < st->dnlen) {
		r = send(st->cfd, st->dn + st->dnoff, st->dnlen - st->dnoff,
			 MSG_NOSIGNAL);
		if (r > 0) {
			data = (size_t)r > st->notdata ? (size_t)r - st->notdata
						       : 0;
			st->notdata -= (size_t)r - data;
			st->dnoff += (size_t)r;
			if (data > 0)
				nghttp2_session_consume(c->s, st->id, data);
			if (st->dnoff == st->dnlen)
				st->dnoff = st->dnlen = 0;
			else if (st->dnoff > H2_DN / 2) {
				memmove(st->dn, st->dn + st->dnoff,
					st->dnlen - st->dnoff);
				st->dnlen -= st->dnoff;
				st->dnoff = 0;
			}
		} else if (r == -1 && errno != EAGAIN && errno != EINTR) {
			st->reset = true;
		}
	}
}

/* Drop finished streams: a reset one resets its program socket (and the
 * stream, if it is still open), a done one closes it. */
static void
reap(struct h2c *c)
{
	struct h2s **pp = &c->streams, *st;

	while ((st = *pp) != NULL) {
		bool done;

		/* the proxy's END_STREAM, once its bytes are out (also when
		 * they went out before it came) */
		if (st->s_eof && st->dnlen == 0 && !st->dn_shut) {
			shutdown(st->cfd, SHUT_WR);
			st->dn_shut = true;
		}
		done = st->closed && st->dnlen == 0 &&
		       (st->dn_shut || st->reset);
		if (st->reset && !st->closed && !st->rst_sent) {
			nghttp2_submit_rst_stream(c->s, NGHTTP2_FLAG_NONE,
						  st->id, NGHTTP2_CANCEL);
			st->rst_sent = true;
		}
		if (st->reset && st->closed)
			done = true;
		if (!done) {
			pp = &st->next;
			continue;
		}
		*pp = st->next;
		if (st->id > 0)
			nghttp2_session_set_stream_user_data(c->s, st->id,
							     NULL);
		if (st->reset)
			h2io_reset_fd(st->cfd);
		else
			close(st->cfd);
		free(st->dn);
		free(st);
		pthread_mutex_lock(&c->mu);
		if (--c->nstreams == 0)
			c->idle_since = tun_now_ms();
		pthread_mutex_unlock(&c->mu);
	}
}

/* TLS in: everything OpenSSL has, into nghttp2.  -1 when the
 * connection is over. */
static int
tls_in(struct h2c *c)
{
	unsigned char buf[16384];
	int r, e;

	for (;;) {
		ERR_clear_error();
		r = SSL_read(c->ssl, buf, sizeof(buf));
		if (r > 0) {
			if (nghttp2_session_mem_recv(c->s, buf, (size_t)r) < 0)
				return -1;
			continue;
		}
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			return 0;
		return -1;
	}
}

/* nghttp2's bytes out through TLS; 1 when some wait for POLLOUT. */
static int
tls_out(struct h2c *c)
{
	const uint8_t *p;
	ssize_t n;
	int r;

	for (;;) {
		if (c->outoff == c->outlen) {
			c->outoff = c->outlen = 0;
			/* gather frames into few records and writes (a
			 * frame is at most 16 KiB and 9 bytes unless the
			 * proxy allows more; mem_send's bytes live only
			 * until its next call, so each is copied) */
			while (c->outlen < H2_GATHER) {
				n = nghttp2_session_mem_send(c->s, &p);
				if (n < 0)
					return -1;
				if (n == 0)
					break;
				if ((size_t)n > sizeof(c->out) - c->outlen)
					return -1;
				memcpy(c->out + c->outlen, p, (size_t)n);
				c->outlen += (size_t)n;
			}
			if (c->outlen == 0)
				return 0;
		}
		ERR_clear_error();
		r = SSL_write(c->ssl, c->out + c->outoff,
			      (int)(c->outlen - c->outoff));
		if (r > 0) {
			c->outoff += (size_t)r;
			continue;
		}
		r = SSL_get_error(c->ssl, r);
		if (r == SSL_ERROR_WANT_WRITE || r == SSL_ERROR_WANT_READ)
			return 1;
		return -1;
	}
}

/* TLS or the framing failed: no more bytes either way.  The streams
 * still open are reset; those the proxy had finished, and refusals, go
 * on until the program has their last bytes. */
static void
h2_broke(struct h2c *c)
{
	struct h2s *st;

	c->broken = true;
	pthread_mutex_lock(&c->mu);
	c->shut = true;
	pthread_mutex_unlock(&c->mu);
	for (st = c->streams; st != NULL; st = st->next)
		if (!st->closed)
			st->closed = st->reset = true;
}

/*
 * Whether the connection is over: no stream left, and none to come
 * (retired, full, shut by GOAWAY or a failure, idle for idle_ms, or
 * nghttp2 is done with it).  Decided under mu, where tunnels are handed
 * over: from then on it takes none.  *wait: the poll's timeout.
 */
static bool
h2_done(struct h2c *c, int *wait)
{
	long long idle = tun_now_ms() - c->idle_since;
	bool done = false;

	*wait = -1;
	pthread_mutex_lock(&c->mu);
	if (c->nstreams == 0) {
		done = c->shut || c->retired || c->total >= c->total_max ||
		       idle >= c->idle_ms ||
		       (!nghttp2_session_want_read(c->s) &&
			!nghttp2_session_want_write(c->s));
		if (done)
			c->shut = true;
		else
			*wait = (int)(c->idle_ms - idle);
	}
	pthread_mutex_unlock(&c->mu);
	return done;
}

/* An orderly end: GOAWAY, close_notify, FIN, and the proxy's bytes read
 * until its own FIN (a close with unread bytes would be a reset), all
 * within a second: a proxy that reads nothing does not hold the thread. */
static void
h2_goodbye(struct h2c *c)
{
	struct pollfd p = { .fd = c->fd };
	long long end = tun_now_ms() + 1000, left;
	char junk[4096];
	int r;

	if (c->broken ||
	    nghttp2_session_terminate_session(c->s, NGHTTP2_NO_ERROR) != 0)
		return;
	p.events = POLLOUT;
	while ((r = tls_out(c)) > 0 && (left = end - tun_now_ms()) > 0)
		poll(&p, 1, (int)left);
	if (r != 0)
		return;
	ERR_clear_error();
	SSL_shutdown(c->ssl);
	shutdown(c->fd, SHUT_WR);
	p.events = POLLIN;
	while ((left = end - tun_now_ms()) > 0 && poll(&p, 1, (int)left) == 1 &&
	       recv(c->fd, junk, sizeof(junk), 0) > 0)
		;
}

/* What the connection holds, freed; a tunnel still on it (only when
 * poll failed) is reset. */
static void
h2_end(struct h2c *c)
{
	struct h2s *st, *next;

	pthread_mutex_lock(&c->mu);
	c->shut = true;
	st = c->pending;
	c->pending = NULL;
	pthread_mutex_unlock(&c->mu);
	for (; st != NULL; st = next) {
		next = st->next;
		st->next = c->streams;
		c->streams = st;
	}
	for (st = c->streams; st != NULL; st = next) {
		next = st->next;
		h2io_reset_fd(st->cfd);
		free(st->dn);
		free(st);
	}
	c->streams = NULL;
	nghttp2_session_del(c->s);
	relay_tls_close(c->ssl, false);
}

void
h2io_main(struct h2c *c)
{
	static __thread struct pollfd fds[H2_STREAMS_MAX + 2];
	struct h2s *st, *at[H2_STREAMS_MAX + 2];
	int n, i, wout = 0, wait;

	for (;;) {
		take_pending(c);
		if (!c->broken && (wout = tls_out(c)) < 0)
			h2_broke(c);
		if (h2_done(c, &wait))
			break;
		fds[0] = (struct pollfd){ .fd = c->broken ? -1 : c->fd,
					  .events = POLLIN |
					  (wout > 0 ? POLLOUT : 0) };
		fds[1] = (struct pollfd){ .fd = c->wake[0], .events = POLLIN };
		n = 2;
		for (st = c->streams; st != NULL && n < H2_STREAMS_MAX + 2;
		     st = st->next) {
			short ev = 0;

			if (!st->c_eof && st->uplen < H2_UP && st->answered)
				ev |= POLLIN;
			if (st->dnoff < st->dnlen)
				ev |= POLLOUT;
			at[n] = st;
			/* both ways shut: nothing more to hear from it */
			fds[n++] = (struct pollfd){ .fd = st->c_eof && st->dn_shut
						    ? -1 : st->cfd,
						    .events = ev };
		}
		/* bytes OpenSSL holds need no poll */
		if ((c->broken || SSL_pending(c->ssl) == 0) &&
		    poll(fds, (nfds_t)n, wait) == -1 && errno != EINTR)
			break;
		if (!c->broken &&
		    (fds[0].revents || SSL_pending(c->ssl) > 0) &&
		    tls_in(c) < 0)
			h2_broke(c);
		for (i = 2; i < n; i++)
			if (fds[i].revents)
				stream_io(c, at[i], fds[i].revents);
		reap(c);
	}
	h2_goodbye(c);
	h2_end(c);
}
