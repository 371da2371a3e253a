/*
 * ctl.h - the session's control socket: proxywrap serving the processes
 * of its tree (ctlmsg.h has the bytes, ctl_client.h the library's side).
 *
 * An abstract AF_UNIX SOCK_SEQPACKET socket with a random name, which
 * the tree learns from the sealed policy.  The name is no secret (the
 * kernel lists abstract names in /proc/net/unix): a connection is served
 * only when its peer (SO_PEERCRED) runs as our user (or we are root) and
 * its request carries the session's own policy memfd, which a process
 * outside the session does not have.  Each connection gets one
 * request and one response, on a thread of its own (a Kerberos token may
 * wait for the KDC), at most CTL_WORKERS at once.
 */
#ifndef PROXYWRAP_CTL_H
#define PROXYWRAP_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "ctlmsg.h"
#include "sessfmt.h"

#define CTL_WORKERS 16		/* requests served at once; more: CTL_BUSY */
#define CTL_IO_MS 5000		/* a peer's request must arrive by then */

/*
 * A service: the request's payload p[0..len) in, the response's payload
 * into out[0..n) (*outlen bytes) and its status back.  Runs on a worker
 * thread; must be thread-safe.
 */
typedef enum ctl_status (*ctl_service_fn)(const uint8_t *p, size_t len,
					  uint8_t *out, size_t n,
					  size_t *outlen);

/* Serve `type` with fn (before ctl_serve). */
void ctl_add(enum ctl_type type, ctl_service_fn fn);

/*
 * Bind and listen on a fresh abstract name, written into name (for the
 * policy, sess_view.ctl).  0, or -errno.
 */
int ctl_open(char name[SESS_CTL_MAX]);

/*
 * Serve the socket from a thread of its own (signals blocked), for peers
 * that hold the policy memfd policy_fd.  0, or -errno.
 */
int ctl_serve(int policy_fd);

#endif
