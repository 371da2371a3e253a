/*
 * negotiate.h - HTTP Negotiate (RFC 4559) tokens, made in proxywrap with
 * MIT krb5's GSSAPI and the user's credential cache (KRB5CCNAME of
 * proxywrap's environment, else the default).  GSSAPI is linked into
 * proxywrap only, never into libshim.so: the tree asks for tokens over
 * the control socket (ctl.h).
 */
#ifndef PROXYWRAP_NEGOTIATE_H
#define PROXYWRAP_NEGOTIATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ctlmsg.h"
#include "sessfmt.h"

/*
 * An initial SPNEGO token (the Kerberos mechanism) for the principal spn,
 * SERVICE/HOST (a host-based name, HTTP@HOST; the realm from krb5.conf)
 * or SERVICE/HOST@REALM, into tok[0..n).  CTL_OK with *len; CTL_NO_CRED
 * (no ticket, or it expired) or CTL_FAILED with msg[0..msgn) saying why
 * in one line (naming kinit where that is the cure).  Thread-safe.
 */
enum ctl_status neg_token(const char *spn, uint8_t *tok, size_t n,
			  size_t *len, char *msg, size_t msgn);

/* neg_token as a control socket service (ctl_service_fn): the payload
 * is the principal's name; an error's text is the response's payload. */
enum ctl_status neg_serve(const uint8_t *p, size_t len, uint8_t *out,
			  size_t n, size_t *outlen);

/* neg_token for the supervisor's own tunnels (tun_token_fn): proxywrap
 * needs no socket to ask itself. */
int neg_token_here(const char *spn, uint8_t *out, size_t n, size_t *len,
		   char *msg, size_t msgn, int64_t deadline_ms);

/*
 * When a proxy of cfg has auth=negotiate: open the session's control
 * socket, its name into ctl (sess_view.ctl), serving CTL_NEGOTIATE, and
 * make the supervisor's own tunnels use neg_token_here.  Nothing when no
 * proxy wants Negotiate.  0, or -errno (errno set too).  ctl_serve starts serving once
 * the policy exists.
 */
int neg_setup(const struct config *cfg, char ctl[SESS_CTL_MAX]);

#endif
