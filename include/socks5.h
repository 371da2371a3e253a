/*
 * socks5.h - SOCKS5 (RFC 1928) and username/password auth (RFC 1929) as
 * pure builders and parsers over byte buffers.  No sockets in here.
 *
 * Builders write into a caller buffer and return the length written or
 * -ENOSPC / -EINVAL.  Parsers follow parse.h.
 */
#ifndef PROXYWRAP_SOCKS5_H
#define PROXYWRAP_SOCKS5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse.h"

#define SOCKS5_VER 0x05
#define SOCKS5_AUTH_VER 0x01		/* RFC 1929 §2 */
#define SOCKS5_NAME_MAX 255		/* RFC 1928 §5 */
#define SOCKS5_CRED_MAX 255		/* RFC 1929 §2 */
#define SOCKS5_REPLY_MAX (4 + 1 + 255 + 2)	/* longest reply: domain */

enum socks5_method {
	SOCKS5_M_NONE = 0x00,		/* no authentication required */
	SOCKS5_M_USERPASS = 0x02,	/* RFC 1929 */
	SOCKS5_M_REFUSED = 0xff,	/* no acceptable methods */
};

enum socks5_cmd {
	SOCKS5_CMD_CONNECT = 0x01,
	SOCKS5_CMD_BIND = 0x02,
	SOCKS5_CMD_UDP = 0x03,		/* UDP ASSOCIATE */
};

enum socks5_atyp {
	SOCKS5_ATYP_V4 = 0x01,
	SOCKS5_ATYP_NAME = 0x03,
	SOCKS5_ATYP_V6 = 0x04,
};

enum socks5_rep {
	SOCKS5_REP_OK = 0x00,		/* succeeded */
	SOCKS5_REP_FAIL = 0x01,		/* general SOCKS server failure */
	SOCKS5_REP_RULESET = 0x02,	/* connection not allowed by ruleset */
	SOCKS5_REP_NETUNREACH = 0x03,	/* network unreachable */
	SOCKS5_REP_HOSTUNREACH = 0x04,	/* host unreachable */
	SOCKS5_REP_REFUSED = 0x05,	/* connection refused */
	SOCKS5_REP_TTL = 0x06,		/* TTL expired */
	SOCKS5_REP_CMD = 0x07,		/* command not supported */
	SOCKS5_REP_ATYP = 0x08,		/* address type not supported */
};

/* A destination or bound address as carried in requests and replies. */
struct socks5_addr {
	enum socks5_atyp atyp;
	uint8_t addr[16];		/* V4: 4 bytes, V6: 16, network order */
	char name[SOCKS5_NAME_MAX + 1];	/* NAME: NUL-terminated */
	uint16_t port;			/* host order */
};

struct socks5_reply {
	uint8_t rep;			/* enum socks5_rep, or any byte read */
	struct socks5_addr bnd;
};

/* Greeting offering no-auth, plus user/pass when `auth`. */
int socks5_build_greeting(uint8_t *buf, size_t n, bool auth);

/* Greeting offering exactly one method (for a pipelined handshake). */
int socks5_build_greeting_one(uint8_t *buf, size_t n, enum socks5_method m);

/* RFC 1929 request; -EINVAL when user or pass is longer than 255. */
int socks5_build_auth(uint8_t *buf, size_t n, const char *user,
		      const char *pass);

/* Request (CONNECT, UDP ASSOCIATE...) for dst; -EINVAL for a bad name. */
int socks5_build_request(uint8_t *buf, size_t n, enum socks5_cmd cmd,
			 const struct socks5_addr *dst);

/* Method selection reply: VER METHOD.  *method gets the chosen method. */
int socks5_parse_method(const uint8_t *p, size_t len, size_t *used,
			size_t *need, uint8_t *method);

/* RFC 1929 reply: VER STATUS.  *ok is true for status 0. */
int socks5_parse_auth(const uint8_t *p, size_t len, size_t *used,
		      size_t *need, bool *ok);

/*
 * Request reply: VER REP RSV ATYP BND.ADDR BND.PORT.  Asks first for the
 * 5 bytes that fix the length (never more than the 7-byte minimum reply
 * could hold), then exactly the rest.
 */
int socks5_parse_reply(const uint8_t *p, size_t len, size_t *used,
		       size_t *need, struct socks5_reply *r);

/* Human text for a REP code, e.g. "connection refused". */
const char *socks5_rep_str(uint8_t rep);

/*
 * UDP datagram header (RFC 1928 §7): RSV(2) FRAG ATYP DST.ADDR DST.PORT,
 * written with FRAG 0 (we never fragment).  Returns the header length, or
 * -ENOSPC / -EINVAL (bad ATYP, empty or overlong name).  The payload goes
 * right after it and is the caller's business.
 */
int socks5_build_udp_header(uint8_t *buf, size_t n,
			    const struct socks5_addr *dst);

/*
 * Parse the header of one received datagram p[0..len).  A datagram is
 * complete by definition, so a short one is PARSE_ERR, never PARSE_MORE.
 * On PARSE_OK *hdrlen is the header length (the payload starts there),
 * *frag the FRAG byte (non-zero means a fragment; callers drop those) and
 * *src the address the datagram came from (an empty name is malformed).
 * RSV is not checked.
 */
int socks5_parse_udp_header(const uint8_t *p, size_t len, size_t *hdrlen,
			    uint8_t *frag, struct socks5_addr *src);

#endif
