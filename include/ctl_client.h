/*
 * ctl_client.h - a wrapped process asking its proxywrap session for a
 * service over the session's control socket (ctlmsg.h has the bytes,
 * src/session/ctl.c the server).
 */
#ifndef PROXYWRAP_CTL_CLIENT_H
#define PROXYWRAP_CTL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "ctlmsg.h"

/*
 * One request of `type` with req[0..reqlen), its response's payload into
 * out[0..n) (*len bytes), by deadline_ms (CLOCK_MONOTONIC, tun_now_ms's
 * clock).  The request carries the session's policy fd, which proves
 * the caller is of the session.  Returns the response's enum ctl_status
 * (>= 0), or -ENOTSUP (no session, or it has no control socket),
 * -ECONNREFUSED (proxywrap is gone, or in another network namespace),
 * -ETIMEDOUT, -EPROTO (a malformed response), -EMSGSIZE (req too long).
 * errno is kept.
 */
int ctl_call(enum ctl_type type, const void *req, size_t reqlen,
	     uint8_t *out, size_t n, size_t *len, int64_t deadline_ms);

/*
 * A Negotiate token for principal spn (SERVICE/HOST[@REALM]) through
 * ctl_call: CTL_OK with the token in out[0..*len); another status or
 * -errno with msg[0..msgn) saying why in words for a log line (the
 * server's text, or ours).  The token is a secret: the caller wipes it.
 */
int ctl_negotiate(const char *spn, uint8_t *out, size_t n, size_t *len,
		  char *msg, size_t msgn, int64_t deadline_ms);

#endif
