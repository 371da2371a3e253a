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
 */
#ifndef PROXYWRAP_RELAY_H
#define PROXYWRAP_RELAY_H

#include <openssl/ssl.h>
#include <stddef.h>

#include "config.h"
#include "sessfmt.h"

#define RELAY_BUF (64 * 1024)	/* each direction's buffer, per tunnel */

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
 * tells a TLS failure from a TCP one.
 */
SSL *relay_tls_open(const struct cfg_proxy *px, int idx, long long deadline_ms,
		    char *why, size_t whylen, bool *tls_failed);
/* Free what relay_tls_open made: the SSL and its socket. */
void relay_tls_close(SSL *ssl, bool orderly);

/*
 * relay_pump.c: move bytes between the program's socket cfd and ssl
 * until both directions are closed (or one side fails: then the other
 * is reset).  first[0..n): the program's bytes already read, for the
 * proxy.  Closes cfd.
 */
void relay_pump(int cfd, SSL *ssl, const void *first, size_t n);

#endif
