/*
 * relay.c - the TLS relay's listener and its tunnels (relay.h).
 *
 * One loopback listener per session, bound by proxywrap before the
 * command starts; one thread accepts, and every tunnel gets a thread of
 * its own for its whole life (the TLS handshake blocks on its deadline,
 * then relay_pump moves its bytes).  A tunnel is believed only with the
 * session's secret: the listener is on loopback, where every local user
 * could reach it.  What goes wrong on the way to the proxy is answered to
 * the shim in-band (relaymsg.h), which logs it as the connect's one line.
 */
#include "relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "relaymsg.h"
#include "tunnel.h"
#include "h2lib.h"
#include "tlslib.h"

#define RELAY_TUNNELS_MAX 4096		/* threads at once */
#define RELAY_STACK (256 * 1024)
#define RELAY_FIRST_MAX 4096		/* line + CONNECT, read up front */

static struct {
	int lfd;
	char token[RELAY_TOKEN_LEN + 1];
	struct cfg_proxy *px;		/* a copy of the session's proxies */
	size_t npx;
	int timeout_ms;
	atomic_int active;
} R = { .lfd = -1 };

/* One line to the shim, on a blocking socket. */
static void
reply(int cfd, int code, const char *text)
{
	char line[RELAY_LINE_MAX];
	int len = relay_build_reply(line, sizeof(line), code, text);

	if (len > 0)
		(void)send(cfd, line, (size_t)len, MSG_NOSIGNAL);
}

/* The shim's request line (and what follows it) by the deadline; the
 * bytes read in buf[0..*have), the line's length in *used. */
static int
read_req(int cfd, char *buf, size_t n, size_t *have, size_t *used,
	 struct relay_req *req, long long deadline)
{
	struct pollfd p = { .fd = cfd, .events = POLLIN };
	size_t need = 0;
	ssize_t r;
	long long left;
	int prc;

	*have = 0;
	for (;;) {
		left = deadline - tun_now_ms();
		if (left <= 0 || poll(&p, 1, (int)left) == 0)
			return -ETIMEDOUT;
		r = recv(cfd, buf + *have, n - *have, MSG_DONTWAIT);
		if (r == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return -ECONNRESET;
		*have += (size_t)r;
		prc = relay_parse_req(buf, *have, used, &need, req);
		if (prc == PARSE_OK)
			return 0;
		if (prc == PARSE_ERR || *have == n)
			return -EPROTO;
	}
}

/* The CONNECT request after the line, whole in buf[used..*have). */
static int
read_head(int cfd, char *buf, size_t n, size_t *have, size_t used,
	  long long deadline)
{
	struct pollfd p = { .fd = cfd, .events = POLLIN };
	long long left;
	ssize_t r;

	while (memmem(buf + used, *have - used, "\r\n\r\n", 4) == NULL) {
		left = deadline - tun_now_ms();
		if (*have == n || left <= 0 || poll(&p, 1, (int)left) != 1)
			return -1;
		r = recv(cfd, buf + *have, n - *have, 0);
		if (r <= 0)
			return -1;
		*have += (size_t)r;
	}
	return 0;
}

/* The proxy the request names, if it is the session's https proxy and
 * the secret is right. */
static const struct cfg_proxy *
check_req(const struct relay_req *req)
{
	const struct cfg_proxy *px;

	if (CRYPTO_memcmp(req->token, R.token, RELAY_TOKEN_LEN) != 0 ||
	    req->index < 0 || (size_t)req->index >= R.npx)
		return NULL;
	px = &R.px[req->index];
	if (px->url.scheme != URL_HTTPS || strcmp(px->name, req->name) != 0)
		return NULL;
	return px;
}

static void *
tunnel_main(void *arg)
{
	int cfd = (int)(intptr_t)arg;
	/* a little before the shim gives up, so that it hears why */
	long long deadline = tun_now_ms() + R.timeout_ms * 9LL / 10;
	char buf[RELAY_FIRST_MAX], why[RELAY_LINE_MAX];
	const struct cfg_proxy *px;
	struct relay_req req;
	size_t have = 0, used = 0;
	bool tls_failed = false;
	SSL *ssl = NULL;
	int rc;

	if (read_req(cfd, buf, sizeof(buf), &have, &used, &req,
		     deadline) < 0 || (px = check_req(&req)) == NULL) {
		relay_peer_note(cfd, NULL, 0);
		reply(cfd, RELAY_REFUSED, "relay: refused (not this "
		      "session's request)");
		goto out;
	}
	/* before any answer: once the program's connect returns, a
	 * process it passes the socket to may ask */
	relay_peer_note(cfd, &req.peer, req.peerlen);
	if (px->tls.http2) {
		/* a stream of the proxy's shared connection, if it takes h2 */
		if (read_head(cfd, buf, sizeof(buf), &have, used,
			      deadline) < 0) {
			reply(cfd, RELAY_REFUSED, "relay: no CONNECT request");
			goto out;
		}
		rc = relay_h2_tunnel(px, req.index, cfd, buf + used,
				     have - used, deadline, why, sizeof(why),
				     &tls_failed, &ssl);
		if (rc == 0) {
			cfd = -1;	/* the connection's thread has it */
			goto out;
		}
		if (rc < 0) {
			reply(cfd, tls_failed ? RELAY_TLS_FAILED :
			      RELAY_NO_PROXY, why);
			goto out;
		}
	}
	if (ssl == NULL)
		ssl = relay_tls_open(px, req.index, deadline, why,
				     sizeof(why), &tls_failed, false);
	if (ssl == NULL) {
		reply(cfd, tls_failed ? RELAY_TLS_FAILED : RELAY_NO_PROXY,
		      why);
		goto out;
	}
	/* "TLSv1.3", "TLSv1.3 resumed" (relay_sess.c) */
	snprintf(why, sizeof(why), "%s%s", SSL_get_version(ssl),
		 SSL_session_reused(ssl) ? " resumed" : "");
	reply(cfd, RELAY_OK, why);
	relay_pump(cfd, ssl, buf + used, have - used);
	cfd = -1;		/* relay_pump closed it */
	relay_tls_close(ssl, true);
out:
	explicit_bzero(buf, sizeof(buf));	/* a CONNECT's credentials */
	if (cfd >= 0)
		close(cfd);
	atomic_fetch_sub(&R.active, 1);
	return NULL;
}

static void
spawn(int cfd)
{
	pthread_attr_t a;
	pthread_t th;
	int rc;

	if (atomic_fetch_add(&R.active, 1) >= RELAY_TUNNELS_MAX) {
		reply(cfd, RELAY_NO_PROXY, "relay: too many tunnels at once");
		goto fail;
	}
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, RELAY_STACK);
	rc = pthread_create(&th, &a, tunnel_main, (void *)(intptr_t)cfd);
	pthread_attr_destroy(&a);
	if (rc == 0)
		return;
	reply(cfd, RELAY_NO_PROXY, "relay: cannot start a thread");
fail:
	close(cfd);
	atomic_fetch_sub(&R.active, 1);
}

static void *
accept_main(void *arg)
{
	int cfd;

	(void)arg;
	for (;;) {
		cfd = accept4(R.lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd >= 0) {
			spawn(cfd);
			continue;
		}
		/* out of fds: wait a moment rather than spin on the
		 * pending connection */
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM)
			poll(NULL, 0, 50);
	}
	return NULL;
}

static bool
needed(const struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nproxies; i++)
		if (cfg->proxies[i].url.scheme == URL_HTTPS)
			return true;
	return false;
}

/* The listener on 127.0.0.1, any port; its port in *port. */
static int
listen_loopback(unsigned *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 1024) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		int e = errno;

		close(fd);
		return -e;
	}
	*port = ntohs(sin.sin_port);
	relay_peer_listen(&sin);
	return fd;
}

int
relay_start(const struct config *cfg, char where[SESS_RELAY_MAX],
	    char *why, size_t whylen)
{
	uint8_t rnd[RELAY_TOKEN_LEN / 2];
	pthread_t th;
	unsigned port = 0;
	size_t i;
	int rc;

	where[0] = '\0';
	if (!needed(cfg))
		return 0;
	if (tlslib_load(why, whylen) < 0)
		return -ENOENT;
	relay_sess_init();
	for (i = 0; i < cfg->nproxies; i++)
		if (cfg->proxies[i].tls.http2 && h2lib_load(why, whylen) < 0)
			return -ENOENT;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		snprintf(why, whylen, "no random bytes for its secret");
		return -EIO;
	}
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(R.token + 2 * i, 3, "%02x", rnd[i]);
	explicit_bzero(rnd, sizeof(rnd));
	R.px = calloc(cfg->nproxies, sizeof(*R.px));
	if (R.px == NULL) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	memcpy(R.px, cfg->proxies, cfg->nproxies * sizeof(*R.px));
	R.npx = cfg->nproxies;
	R.timeout_ms = cfg->connect_timeout_ms;
	rc = listen_loopback(&port);
	if (rc < 0) {
		snprintf(why, whylen, "cannot listen on loopback: %s",
			 strerror(-rc));
		return rc;
	}
	R.lfd = rc;
	rc = pthread_create(&th, NULL, accept_main, NULL);
	if (rc != 0) {
		snprintf(why, whylen, "cannot start its thread: %s",
			 strerror(rc));
		return -rc;
	}
	pthread_detach(th);
	snprintf(where, SESS_RELAY_MAX, "127.0.0.1:%u %s", port, R.token);
	tun_relay_use(where);
	return 0;
}
