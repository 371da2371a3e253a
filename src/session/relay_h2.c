/*
 * relay_h2.c - http2=on: every tunnel of the session to an https proxy
 * that takes h2 (ALPN) is one stream of a shared connection, a CONNECT
 * stream (RFC 9113 §8.5).  nghttp2 does the framing.
 *
 * One connection per proxy, one thread per connection: it polls the TLS
 * socket, a wake-up pipe (new tunnels) and every tunnel's program socket.
 * Per-stream flow control is ours (no automatic WINDOW_UPDATE): a
 * stream's bytes for the program are acknowledged only once the program
 * has taken them, so a slow reader holds back its own stream (at most
 * H2_WIN bytes) and never the connection, whose window is large enough
 * for every stream's.  The program's FIN is END_STREAM (half-close); the
 * proxy's END_STREAM a shutdown(SHUT_WR); a reset either way resets the
 * other; a tunnel closing closes its stream, not the connection.
 * Tunnels reach a connection through relay_h2_tunnel (relay.c).  A
 * connection's life, from its proxy's slot to its end, is told in
 * relay_h2_int.h.
 */
#include "relay_h2_int.h"

#include <errno.h>
#include <fcntl.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "relaymsg.h"
#include "tunnel.h"
#include "tlslib.h"
#include "h2lib.h"

static struct h2c *conns[H2_CONNS_MAX];
static bool no_h2[H2_CONNS_MAX];	/* the proxy chose http/1.1 */
/* One lock per proxy, held while its connection is opened: the first
 * tunnels to it wait for that one rather than open their own, and other
 * proxies' tunnels do not wait at all. */
static pthread_mutex_t px_mu[H2_CONNS_MAX];
static pthread_once_t px_once = PTHREAD_ONCE_INIT;
static int total_max = H2_IDS;		/* streams in a connection's life */
static int at_once_max = H2_STREAMS_MAX;
static int idle_ms = H2_IDLE_MS;

/* A knob for tests (proxywrap(1)): N in [lo, hi], else dflt. */
static int
knob(const char *name, int lo, int hi, int dflt)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return dflt;
	n = strtol(v, &end, 10);
	return *end == '\0' && n >= lo && n <= hi ? (int)n : dflt;
}

static void
px_init(void)
{
	int i;

	for (i = 0; i < H2_CONNS_MAX; i++)
		pthread_mutex_init(&px_mu[i], NULL);
	total_max = knob("PROXYWRAP_H2_STREAMS", 1, H2_IDS, H2_IDS);
	at_once_max = knob("PROXYWRAP_H2_AT_ONCE", 1, H2_STREAMS_MAX,
			   H2_STREAMS_MAX);
	idle_ms = knob("PROXYWRAP_H2_IDLE", 0, 86400, H2_IDLE_MS / 1000) *
		  1000;
}

static int
on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
	  size_t nlen, const uint8_t *val, size_t vlen, uint8_t flags,
	  void *ud)
{
	struct h2s *st = nghttp2_session_get_stream_user_data(s,
							      f->hd.stream_id);
	int code = 0;
	size_t i;

	(void)flags; (void)ud;
	if (st == NULL || f->hd.type != NGHTTP2_HEADERS || nlen != 7 ||
	    memcmp(name, ":status", 7) != 0 || vlen != 3)
		return 0;
	for (i = 0; i < 3; i++)
		code = code * 10 + (val[i] - '0');
	st->status = code;
	return 0;
}

static int
on_frame(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
	struct h2s *st = nghttp2_session_get_stream_user_data(s,
							      f->hd.stream_id);
	char head[96];
	int n;

	if (f->hd.type == NGHTTP2_GOAWAY)
		h2io_goaway(ud);
	if (st == NULL)
		return 0;
	if (f->hd.type == NGHTTP2_HEADERS && !st->answered &&
	    st->status >= 200) {
		/* the shim reads an HTTP/1.1 answer, as from the proxy */
		n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n\r\n",
			     st->status, st->status / 100 == 2 ?
			     "Connection established" : "refused (h2)");
		h2io_dn_put(st, head, (size_t)n);
		st->answered = true;
	}
	if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
	    (f->hd.flags & NGHTTP2_FLAG_END_STREAM))
		st->s_eof = true;
	return 0;
}

static int
on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
	size_t len, void *ud)
{
	struct h2s *st = nghttp2_session_get_stream_user_data(s, id);

	(void)flags; (void)ud;
	if (st == NULL)
		return 0;
	if (H2_DN - st->dnlen < len) {
		/* more than the window we gave: the proxy broke the rules */
		nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, id,
					  NGHTTP2_FLOW_CONTROL_ERROR);
		return 0;
	}
	memcpy(st->dn + st->dnlen, data, len);
	st->dnlen += len;
	return 0;
}

static int
on_close(nghttp2_session *s, int32_t id, uint32_t err, void *ud)
{
	struct h2s *st = nghttp2_session_get_stream_user_data(s, id);

	(void)ud;
	if (st == NULL || st->closed)	/* on_not_sent refused it */
		return 0;
	st->closed = true;
	/* above the last stream id of the proxy's GOAWAY, or refused on
	 * its own: the proxy did nothing with it, so the program's
	 * connect is refused (RFC 9113 §8.7: it may try again) */
	if (err == NGHTTP2_REFUSED_STREAM && !st->answered)
		h2io_refused(st, "stream refused (HTTP/2 GOAWAY or "
			     "REFUSED_STREAM)");
	else if (err != NGHTTP2_NO_ERROR || !st->answered)
		st->reset = true;
	return 0;
}

/* A request nghttp2 did not send (the proxy's GOAWAY came first). */
static int
on_not_sent(nghttp2_session *s, const nghttp2_frame *f, int lib_err,
	    void *ud)
{
	struct h2c *c = ud;
	struct h2s *st;

	(void)s;
	if (f->hd.type != NGHTTP2_HEADERS)
		return 0;
	for (st = c->streams; st != NULL; st = st->next)
		if (st->id == f->hd.stream_id && !st->answered) {
			h2io_refused(st, lib_err ==
				     NGHTTP2_ERR_START_STREAM_NOT_ALLOWED ?
				     "stream refused (HTTP/2 GOAWAY)" :
				     "stream not sent (HTTP/2)");
			st->closed = true;
		}
	return 0;
}

static nghttp2_session *
h2_session(struct h2c *c)
{
	nghttp2_session_callbacks *cb;
	nghttp2_option *opt;
	nghttp2_session *s = NULL;
	nghttp2_settings_entry set[] = {
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_WIN },
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
	};

	if (nghttp2_session_callbacks_new(&cb) != 0)
		return NULL;
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
	nghttp2_session_callbacks_set_on_frame_not_send_callback(cb,
								 on_not_sent);
	if (nghttp2_option_new(&opt) == 0) {
		nghttp2_option_set_no_auto_window_update(opt, 1);
		nghttp2_session_client_new2(&s, cb, c, opt);
		nghttp2_option_del(opt);
	}
	nghttp2_session_callbacks_del(cb);
	if (s == NULL)
		return NULL;
	if (nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, set, 2) != 0 ||
	    nghttp2_session_set_local_window_size(s, NGHTTP2_FLAG_NONE, 0,
						  H2_CONN_WIN) != 0) {
		nghttp2_session_del(s);
		return NULL;
	}
	return s;
}

/* The shim's CONNECT request, whole in head[0..n) (relay.c read it):
 * its authority and Proxy-Authorization into st. */
static int
parse_connect(const char *head, size_t n, struct h2s *st)
{
	const char *end = memmem(head, n, "\r\n\r\n", 4), *sp, *line, *e;
	const char *v;

	if (end == NULL || n < 8 || strncmp(head, "CONNECT ", 8) != 0 ||
	    (sp = memchr(head + 8, ' ', (size_t)(end - head) - 8)) == NULL ||
	    (size_t)(sp - head - 8) >= sizeof(st->authority))
		return -1;
	memcpy(st->authority, head + 8, (size_t)(sp - head - 8));
	for (line = memmem(head, (size_t)(end - head), "\r\n", 2);
	     line != NULL && line < end;
	     line = memmem(line + 2, (size_t)(end + 2 - line - 2), "\r\n", 2)) {
		v = line + 2;
		e = memmem(v, (size_t)(end + 2 - v), "\r\n", 2);
		if (e == NULL || e - v < 20 ||
		    strncasecmp(v, "Proxy-Authorization:", 20) != 0)
			continue;
		v += 20;
		while (v < e && *v == ' ')
			v++;
		if ((size_t)(e - v) < sizeof(st->auth))
			memcpy(st->auth, v, (size_t)(e - v));
	}
	return 0;
}

/* What h2_new made and h2io_main left: the wake-up pipe, the struct. */
static void
h2_free(struct h2c *c)
{
	close(c->wake[0]);
	close(c->wake[1]);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* The connection's thread: its life, then out of the slot (unless a
 * newer one took it) and freed, both under the slot's lock, so that a
 * tunnel that found it there is done with it (it only writes the wake-up
 * pipe, which is still open). */
static void *
h2_thread(void *arg)
{
	struct h2c *c = arg;

	h2io_main(c);
	pthread_mutex_lock(&px_mu[c->idx]);
	if (conns[c->idx] == c)
		conns[c->idx] = NULL;
	pthread_mutex_unlock(&px_mu[c->idx]);
	h2_free(c);
	return NULL;
}

/* A new connection to proxy idx that took h2 (ssl); no thread yet. */
static struct h2c *
h2_new(SSL *ssl, int idx)
{
	struct h2c *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->ssl = ssl;
	c->fd = SSL_get_fd(ssl);
	c->idx = idx;
	c->total_max = total_max;
	c->at_once_max = at_once_max;
	c->idle_ms = idle_ms;
	c->idle_since = tun_now_ms();
	snprintf(c->tls, sizeof(c->tls), "%s", SSL_get_version(ssl));
	if (pipe2(c->wake, O_NONBLOCK | O_CLOEXEC) == -1) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->mu, NULL);
	c->s = h2_session(c);
	if (c->s == NULL) {
		h2_free(c);
		return NULL;
	}
	return c;
}

static bool
h2_start(struct h2c *c)
{
	pthread_t th;

	if (pthread_create(&th, NULL, h2_thread, c) != 0)
		return false;
	pthread_detach(th);
	return true;
}

/* Hand st to c's thread; false when c takes no more streams (the tunnel
 * then opens another).  Under its proxy's px_mu. */
static bool
h2_add(struct h2c *c, struct h2s *st)
{
	bool ok;

	pthread_mutex_lock(&c->mu);
	ok = !c->shut && c->nstreams < c->at_once_max &&
	     c->total < c->total_max;
	if (ok) {
		st->c = c;
		st->next = c->pending;
		c->pending = st;
		c->nstreams++;
		c->total++;
	}
	pthread_mutex_unlock(&c->mu);
	if (ok && write(c->wake[1], "", 1) < 0) {
		/* the pipe is full: the thread wakes for the bytes there */
	}
	return ok;
}

/* c left its slot to a new connection: it closes after its last stream
 * (its thread hears it now, in case that was already).  Under px_mu. */
static void
h2_retire(struct h2c *c)
{
	pthread_mutex_lock(&c->mu);
	c->retired = true;
	pthread_mutex_unlock(&c->mu);
	if (write(c->wake[1], "", 1) < 0) {
		/* full: it wakes anyway */
	}
}

/* Under px_mu[idx]: a new connection for st, which takes the slot. */
static int
h2_replace(const struct cfg_proxy *px, int idx, struct h2s *st,
	   long long deadline, char *why, size_t whylen, bool *tls_failed,
	   SSL **h1)
{
	const unsigned char *alpn = NULL;
	unsigned alen = 0;
	struct h2c *c;
	SSL *ssl;

	ssl = relay_tls_open(px, idx, deadline, why, whylen, tls_failed,
			     true);
	if (ssl == NULL)
		return -1;
	SSL_get0_alpn_selected(ssl, &alpn, &alen);
	if (alen != 2 || memcmp(alpn, "h2", 2) != 0) {
		/* as curl: the proxy said http/1.1, so be it (this tunnel
		 * on this connection, the later ones each on their own) */
		no_h2[idx] = true;
		*h1 = ssl;
		return 2;
	}
	c = h2_new(ssl, idx);
	if (c == NULL || !h2_add(c, st) || !h2_start(c)) {
		if (c != NULL) {
			nghttp2_session_del(c->s);
			h2_free(c);	/* st stays the caller's */
		}
		relay_tls_close(ssl, false);
		snprintf(why, whylen, "relay: cannot start HTTP/2");
		return -1;
	}
	if (conns[idx] != NULL)
		h2_retire(conns[idx]);
	conns[idx] = c;
	return 0;
}

int
relay_h2_tunnel(const struct cfg_proxy *px, int idx, int cfd,
		const char *first, size_t n, long long deadline, char *why,
		size_t whylen, bool *tls_failed, SSL **h1)
{
	struct h2s *st = calloc(1, sizeof(*st));
	int rc = -1;

	*h1 = NULL;
	*tls_failed = false;
	if (idx < 0 || idx >= H2_CONNS_MAX || st == NULL ||
	    (st->dn = malloc(H2_DN)) == NULL) {
		snprintf(why, whylen, "relay: out of memory");
		goto fail;
	}
	st->cfd = cfd;
	/* before its connection's thread may see it */
	fcntl(cfd, F_SETFL, fcntl(cfd, F_GETFL) | O_NONBLOCK);
	pthread_once(&px_once, px_init);
	pthread_mutex_lock(&px_mu[idx]);
	if (no_h2[idx]) {
		rc = 1;		/* HTTP/1.1, on a connection of its own */
	} else if (parse_connect(first, n, st) < 0) {
		snprintf(why, whylen, "relay: no CONNECT request");
	} else if (conns[idx] != NULL && h2_add(conns[idx], st)) {
		rc = 0;
	} else {
		rc = h2_replace(px, idx, st, deadline, why, whylen,
				tls_failed, h1);
	}
	pthread_mutex_unlock(&px_mu[idx]);
	if (rc == 0)
		return 0;
fail:
	if (st != NULL)
		free(st->dn);
	free(st);
	return rc;
}
