/*
 * relay.h - proxywrap's TLS relay for https:// proxies.
 *
 * TLS libraries never load into the program's process (DESIGN.md, "Two
 * interception layers"): a tunnel whose first hop is an https proxy
 * connects the program's own socket to this relay on loopback instead,
 * so socket options, readiness and half-close keep their TCP meaning.
 * The shim says which proxy, with the session's secret (relaymsg.h); the
 * relay opens TCP and TLS to the proxy, checks its certificate (ca=,
 * sni=, pin=), answers with the TLS version, and then moves bytes both
 * ways: the tunnel's CONNECT and everything after it.
 *
 *   relay.c       the listener, the secret, one thread per tunnel
 *   relay_tls.c   TCP + TLS to the proxy and the certificate's checks
 *   relay_pump.c  the bytes both ways: bounded buffers, half-close
 *   relay_peer.c  each tunnel's destination, for getpeername elsewhere
 */
#ifndef PROXYWRAP_RELAY_H
#define PROXYWRAP_RELAY_H

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "config.h"
#include "sessfmt.h"

#define RELAY_BUF (64 * 1024)	/* each direction's buffer, per tunnel */
#define RELAY_CTX_MAX 256	/* proxies with a TLS context (and sessions)
				 * kept; past it, one per connection */

/*
 * Start the relay when cfg names an https proxy: a loopback listener and
 * its thread.  The proxies' settings are copied (cfg may be freed after).
 * Fills where ("127.0.0.1:PORT TOKEN", sessfmt.h) and tells this
 * process's own tunnel engine (the supervisor's via connects); where is
 * "" when no proxy needs it.  0, or -errno with why[] set.
 */
int relay_start(const struct config *cfg, char where[SESS_RELAY_MAX],
		char *why, size_t whylen);

/*
 * relay_tls.c: TCP and TLS to px (the session's proxy idx), verified, by
 * deadline_ms
 * (CLOCK_MONOTONIC).  The SSL (its fd set, non-blocking) or NULL with
 * why[] saying what failed (for the shim's one log line); *tls_failed
 * tells a TLS failure from a TCP one.  h2: offer h2 before http/1.1 by
 * ALPN (SSL_get0_alpn_selected tells).
 */
SSL *relay_tls_open(const struct cfg_proxy *px, int idx, long long deadline_ms,
		    char *why, size_t whylen, bool *tls_failed, bool h2);
/*
 * relay_h2.c (http2=on): head[0..n) is the shim's CONNECT request, whole.
 * 0: the tunnel is a stream of the proxy's shared connection now (cfd is
 * its); 1: the proxy speaks HTTP/1.1 (known already): open a connection
 * of its own; 2: it chose http/1.1 just now on *h1, which is this
 * tunnel's; -1: failed, why[] and *tls_failed as relay_tls_open's.
 */
int relay_h2_tunnel(const struct cfg_proxy *px, int idx, int cfd,
		    const char *head, size_t n, long long deadline_ms,
		    char *why, size_t whylen, bool *tls_failed, SSL **h1);

/*
 * relay_sess.c: relay_sess_init reads PROXYWRAP_TLS_RESUME (before the
 * relay's threads start); relay_sess_ctx sets up a proxy's context to keep the
 * proxy's sessions; relay_sess_offer makes ssl (before its handshake, an
 * HTTP/1.1 connection to the session's proxy idx) offer one and keep the
 * ones it gets; relay_sess_forget drops the one ssl got (its proxy failed
 * a check after the handshake).  SSL_session_reused tells.
 */
void relay_sess_init(void);
void relay_sess_ctx(SSL_CTX *c);
void relay_sess_offer(SSL *ssl, int idx);
void relay_sess_forget(SSL *ssl);

/* Free what relay_tls_open made: the SSL and its socket. */
void relay_tls_close(SSL *ssl, bool orderly);

/*
 * relay_pump.c: move bytes between the program's socket cfd and ssl
 * until both directions are closed (or one side fails: then the other
 * is reset).  first[0..n): the program's bytes already read, for the
 * proxy.  Closes cfd.
 */
void relay_pump(int cfd, SSL *ssl, const void *first, size_t n);

/*
 * relay_peer.c: the relay listens at *at (its tunnels are known by it).
 * relay_peer_note: the tunnel accepted as cfd goes to dest (getpeername's
 * form, peername.h), or says none (NULL).  relay_peer_of: when the
 * socket fd (any process's, duplicated here), whose kernel peer is
 * peer[0..plen), is connected to the relay, its tunnel's destination
 * into *out.  relay_peer_serve: the same for the
 * tree, on the control socket (CTL_RELAY_PEER; it is opened when ctl is
 * ""): 0 or -errno (errno set too).
 */
void relay_peer_listen(const struct sockaddr_in *at);
void relay_peer_note(int cfd, const struct sockaddr_storage *dest,
		     socklen_t len);
bool relay_peer_of(int fd, const struct sockaddr_storage *peer,
		   socklen_t plen, struct sockaddr_storage *out,
		   socklen_t *len);
int relay_peer_serve(char ctl[SESS_CTL_MAX]);

#endif
