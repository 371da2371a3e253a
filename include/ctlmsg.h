/*
 * ctlmsg.h - the messages of a proxywrap session's control socket, as
 * bytes.  proxywrap serves the processes of its tree on that socket
 * (ctl.h): a wrapped process asks for something the library must not do
 * itself (a Kerberos token needs GSSAPI, which is not loaded into wrapped
 * programs), proxywrap answers.  One request, one response, each one
 * SOCK_SEQPACKET message (the kernel keeps the boundaries):
 *
 *   request   +------+---------------------------+
 *             | type | payload, 0..CTL_REQ_MAX-1  |
 *             +------+---------------------------+
 *   response  +--------+-------------------------+
 *             | status | payload, 0..CTL_RESP_MAX-1 |
 *             +--------+-------------------------+
 *
 * A new service is a new type; a server that does not know a type
 * answers CTL_UNKNOWN.  Pure: no I/O.
 */
#ifndef PROXYWRAP_CTLMSG_H
#define PROXYWRAP_CTLMSG_H

#include <stddef.h>
#include <stdint.h>

#define CTL_REQ_MAX 1024		/* a request, type byte included */
#define CTL_TOKEN_MAX 12288		/* a Negotiate token's bytes (an
					 * AD ticket with a large PAC fits;
					 * squid reads up to 64 KB of head) */
#define CTL_RESP_MAX (1 + CTL_TOKEN_MAX)
#define CTL_MSG_MAX 200			/* an error's text, one line */

enum ctl_type {
	CTL_NEGOTIATE = 1,	/* payload: SERVICE/HOST[@REALM]; answer:
				 * a GSSAPI (Kerberos) initial token */
	CTL_RELAY_PEER = 2,	/* payload: a socket's own address (a
				 * sockaddr_in, peername.h's form) whose
				 * peer is the TLS relay; answer: the
				 * destination its tunnel goes to, in
				 * that form (CTL_FAILED: none known) */
};

enum ctl_status {
	CTL_OK = 0,		/* payload: the answer */
	CTL_FAILED = 1,		/* payload: why, one line of text */
	CTL_NO_CRED = 2,	/* no usable ticket: payload says why and
				 * names kinit */
	CTL_UNKNOWN = 3,	/* the server does not serve this type */
	CTL_BAD = 4,		/* a malformed request */
	CTL_BUSY = 5,		/* too many requests at once */
	CTL_STATUS_MAX = 5,
};

/*
 * A request of `type` with payload p[0..len) into buf[0..n): returns its
 * length, or -EMSGSIZE when it exceeds CTL_REQ_MAX or n.
 */
int ctl_req_build(uint8_t *buf, size_t n, enum ctl_type type,
		  const void *p, size_t len);

/*
 * A received request m[0..n): *type and its payload (pointing into m).
 * 0, or -EMSGSIZE (empty or over CTL_REQ_MAX).  The type is not judged
 * here: an unknown one is the server's CTL_UNKNOWN.
 */
int ctl_req_parse(const uint8_t *m, size_t n, uint8_t *type,
		  const uint8_t **p, size_t *len);

/*
 * A received response m[0..n): *status and its payload.  0, or -EPROTO
 * (empty, over CTL_RESP_MAX, a status past CTL_STATUS_MAX, or an error's
 * text that is empty, longer than CTL_MSG_MAX or not printable ASCII).
 */
int ctl_resp_parse(const uint8_t *m, size_t n, enum ctl_status *status,
		   const uint8_t **p, size_t *len);

/*
 * CTL_NEGOTIATE's payload p[0..n) as a NUL-terminated principal name in
 * out[0..outn): SERVICE/HOST[@REALM], a service of letters, digits and
 * '-', a host and realm of printable bytes without '/' or a second '@'.
 * 0, or -EINVAL.
 */
int ctl_neg_name(const uint8_t *p, size_t n, char *out, size_t outn);

#endif
