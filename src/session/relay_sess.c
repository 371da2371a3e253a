/*
 * relay_sess.c - TLS session resumption to an https proxy (relay.h), for
 * the HTTP/1.1 path, where every tunnel is a TLS connection of its own.
 *
 * The proxy's sessions (TLS 1.3 tickets, TLS 1.2 sessions) are kept per
 * proxy of the session's config, a few each, and the next connection to
 * that proxy offers one: a resumed TLS 1.2 handshake saves a round trip,
 * a resumed TLS 1.3 one the certificate's transfer and checks and the
 * key exchange's signature (still one round trip: no early data is ever
 * sent, so nothing of the tunnel can be replayed).  One proxy's sessions
 * go only to it: its ca=, sni= and pin= are the ones the session was
 * checked against, and a resumed session still carries the proxy's
 * certificate, against which relay_tls.c checks pin= again.
 *
 * TLS 1.3 tickets are used once (RFC 8446 C.4: a ticket reused is a
 * connection linked to the first), a TLS 1.2 session until the proxy
 * drops it.  The store is bounded (RELAY_SESS_MAX per proxy, oldest out)
 * and thread-safe: tickets arrive in the tunnels' threads, after the
 * handshake, with the first bytes read.
 */
#include "relay.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tlslib.h"

#define RELAY_SESS_MAX 8	/* sessions kept per proxy */

struct store {
	SSL_SESSION *s[RELAY_SESS_MAX];	/* oldest first */
	int n;
};

static struct store stores[RELAY_CTX_MAX];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

/* SSL ex_data 0 ("app data"): the store a connection's sessions go to;
 * none for an HTTP/2 connection (it lives long, and what it would keep
 * is ALPN h2's). */
#define APP_DATA 0

/* OpenSSL's new-session callback: 1 keeps s (ours now), 0 lets it go. */
static int
on_new(SSL *ssl, SSL_SESSION *s)
{
	struct store *st = SSL_get_ex_data(ssl, APP_DATA);

	if (st == NULL || !SSL_SESSION_is_resumable(s))
		return 0;
	pthread_mutex_lock(&mu);
	if (st->n == RELAY_SESS_MAX) {
		SSL_SESSION_free(st->s[0]);
		memmove(st->s, st->s + 1, (RELAY_SESS_MAX - 1) * sizeof(*st->s));
		st->n--;
	}
	st->s[st->n++] = s;
	pthread_mutex_unlock(&mu);
	return 1;
}

/* PROXYWRAP_TLS_RESUME=off: no resumption (benches compare); read
 * before the relay's threads start. */
static bool resume_off;

void
relay_sess_init(void)
{
	const char *v = getenv("PROXYWRAP_TLS_RESUME");

	resume_off = v != NULL && strcmp(v, "off") == 0;
}

void
relay_sess_ctx(SSL_CTX *c)
{
	/* the client side only, and no internal store: on_new keeps them */
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT |
				       SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(c, on_new);
}

void
relay_sess_offer(SSL *ssl, int idx)
{
	struct store *st;
	SSL_SESSION *s = NULL;
	bool once;

	if (idx < 0 || idx >= RELAY_CTX_MAX || resume_off)
		return;
	st = &stores[idx];
	SSL_set_ex_data(ssl, APP_DATA, st);
	pthread_mutex_lock(&mu);
	/* OpenSSL marks a session not resumable when its connection ended
	 * without close_notify (a reset, a failed check): out with those */
	while (st->n > 0 && !SSL_SESSION_is_resumable(st->s[st->n - 1]))
		SSL_SESSION_free(st->s[--st->n]);
	if (st->n > 0) {
		s = st->s[st->n - 1];		/* the newest */
		once = SSL_SESSION_get_protocol_version(s) >= TLS1_3_VERSION;
		if (once)
			st->n--;		/* the reference is ours now */
		else
			SSL_SESSION_up_ref(s);
	}
	pthread_mutex_unlock(&mu);
	if (s == NULL)
		return;
	(void)SSL_set_session(ssl, s);	/* takes its own reference */
	SSL_SESSION_free(s);
}

void
relay_sess_forget(SSL *ssl)
{
	struct store *st = SSL_get_ex_data(ssl, APP_DATA);
	SSL_SESSION *s = SSL_get_session(ssl);
	int i;

	if (st == NULL || s == NULL)
		return;
	pthread_mutex_lock(&mu);
	for (i = 0; i < st->n; i++) {
		if (st->s[i] != s)
			continue;
		SSL_SESSION_free(s);
		memmove(st->s + i, st->s + i + 1,
			(size_t)(st->n - i - 1) * sizeof(*st->s));
		st->n--;
		break;
	}
	pthread_mutex_unlock(&mu);
}
