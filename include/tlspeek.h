/*
 * tlspeek.h - a passive look at the first bytes of a TLS connection: the
 * ClientHello the program sends (its SNI and ALPN offer), and what the
 * destination answers first (a ServerHello, an alert, or not TLS at all).
 * Nothing is decrypted, nothing is changed.  Pure: the caller hands in the
 * bytes it has seen, in as many pieces as they came.
 */
#ifndef PROXYWRAP_TLSPEEK_H
#define PROXYWRAP_TLSPEEK_H

#include <stddef.h>
#include <stdint.h>

#include "parse.h"

/* Bytes looked at, at most: one full TLS record (RFC 8446 §5.1, 2^14)
 * and its header.  A ClientHello that needs more is not looked into. */
#define TLSPEEK_MAX (16384 + 5)
#define TLSPEEK_SNI_MAX 255		/* RFC 6066 §3: a host name */
#define TLSPEEK_ALPN_MAX 128		/* the offer as text, cut to fit */

/* One piece of the bytes seen so far (a write's buffer, an iovec). */
struct tlspeek_seg {
	const uint8_t *p;
	size_t len;
};

struct tlspeek_hello {
	char sni[TLSPEEK_SNI_MAX + 1];	/* server_name (host_name), bytes
					 * outside 0x21..0x7e as '?'; "" */
	char alpn[TLSPEEK_ALPN_MAX];	/* the protocols offered, in order,
					 * comma-separated ("h2,http/1.1");
					 * "" when no ALPN extension */
	uint16_t version;		/* the ClientHello's legacy_version */
};

/*
 * The program's first bytes on a connection, seg[0..nseg) in order, as a
 * ClientHello (RFC 8446 §4.1.2; its handshake message may span records,
 * §5.1).  PARSE_OK: *h filled, *used = the bytes up to the hello's end;
 * PARSE_MORE: *need more bytes could decide; PARSE_ERR: not a ClientHello
 * (not TLS, a malformed one, or one longer than TLSPEEK_MAX).
 */
int tlspeek_client(const struct tlspeek_seg *seg, size_t nseg,
		   struct tlspeek_hello *h, size_t *used, size_t *need);

enum tlspeek_reply {
	TLSPEEK_SERVER_HELLO = 1,	/* the handshake goes on */
	TLSPEEK_ALERT = 2,		/* a plaintext alert record */
};

struct tlspeek_answer {
	enum tlspeek_reply kind;
	uint8_t level;			/* ALERT: 1 warning, 2 fatal */
	uint8_t desc;			/* ALERT: AlertDescription */
};

/*
 * The destination's first bytes p[0..len) after a ClientHello.  PARSE_OK:
 * *a says which (a ServerHello, or a HelloRetryRequest, which has its
 * form; an alert record); PARSE_MORE: *need more bytes (at most 7 are
 * ever needed); PARSE_ERR: not a TLS reply.
 */
int tlspeek_server(const uint8_t *p, size_t len, struct tlspeek_answer *a,
		   size_t *need);

/* An AlertDescription's name (RFC 8446 §6, RFC 5246 §7.2), "handshake_
 * failure"; NULL for a value no RFC names. */
const char *tlspeek_alert_str(uint8_t desc);

/* "warning", "fatal", or NULL. */
const char *tlspeek_level_str(uint8_t level);

#endif
