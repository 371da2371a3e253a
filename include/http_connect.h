/*
 * http_connect.h - HTTP CONNECT (RFC 9110 §9.3.6) as a pure request
 * builder and response parser.  No sockets in here.
 */
#ifndef PROXYWRAP_HTTP_CONNECT_H
#define PROXYWRAP_HTTP_CONNECT_H

#include <stddef.h>
#include <stdint.h>

#include "parse.h"

#define HTTPC_HDR_MAX 16384		/* whole response head (curl) */
#define HTTPC_HDR_LINES_MAX 64		/* header lines (OpenBSD nc) */
#define HTTPC_REASON_MAX 128		/* reason phrase kept for logs */
#define HTTPC_SCHEMES_MAX 96		/* Proxy-Authenticate schemes kept */
#define HTTPC_RETRY_MAX_S 86400		/* Retry-After beyond a day: a day */

struct httpc_response {
	int code;			/* 100..599 */
	int minor;			/* HTTP/1.x */
	char reason[HTTPC_REASON_MAX];	/* NUL-terminated, may be cut */
	/* Of the final head only (RFC 9110 §10.2.3, §11.7.1): */
	int64_t retry_after_s;		/* Retry-After as delay-seconds,
					 * capped at HTTPC_RETRY_MAX_S; -1 */
	int64_t retry_date;		/* Retry-After as an HTTP-date, seconds
					 * since the epoch; 0 when none */
	char schemes[HTTPC_SCHEMES_MAX];	/* Proxy-Authenticate's
					 * schemes, "Negotiate, NTLM, Basic"
					 * in order, cut at a whole name */
};

/*
 * "CONNECT host:port HTTP/1.1\r\nHost: host:port\r\n
 *  [Proxy-Authorization: Basic b64(user:pass)\r\n]\r\n"
 * host is a name or an address literal; an IPv6 literal (contains ':') is
 * written in brackets (unless it already starts with '[').  user NULL means
 * no credentials; pass NULL with a user is an empty password.  buf is
 * NUL-terminated (the NUL needs room but is not counted).  Returns the
 * length or -ENOSPC / -EINVAL (empty host, CR, LF, space or another control
 * byte in host; "user:pass" longer than 1024 bytes).  On error buf is wiped;
 * on success it holds the credentials and the caller wipes it once sent.
 */
int httpc_build_request(char *buf, size_t n, const char *host,
			uint16_t port, const char *user, const char *pass);

/*
 * As httpc_build_request, with "Proxy-Authorization: Negotiate
 * b64(tok)\r\n" (RFC 4559 §4) for the GSSAPI token tok[0..toklen)
 * instead of Basic credentials.  -EINVAL also for an empty token; buf is
 * wiped on error and holds the token on success (the caller wipes it).
 */
int httpc_build_negotiate(char *buf, size_t n, const char *host,
			  uint16_t port, const uint8_t *tok, size_t toklen);

/*
 * Parse the response head in p[0..len).  PARSE_OK when "\r\n\r\n" (or a
 * bare "\n\n") ends a final (not 1xx) head: *used is the length of every
 * head up to and including it, and the bytes after it are the tunnel's.
 * Interim 1xx heads before it are skipped (RFC 9110 §15.2).  Each line
 * may end in CRLF or LF.
 * PARSE_MORE with *need = 1 while no end is seen.  PARSE_ERR for a bad
 * status line ("HTTP/1." DIGIT SP 3DIGIT, then SP reason or end of line,
 * code 100..599), a NUL or bare CR in the head, more than HTTPC_HDR_MAX
 * bytes or more than HTTPC_HDR_LINES_MAX field lines (status line and
 * the empty line not counted).  r is filled from the status line and,
 * of the final head, Retry-After and Proxy-Authenticate (every field line
 * of that name; an unparsable Retry-After is ignored).
 */
int httpc_parse_response(const uint8_t *p, size_t len, size_t *used,
			 size_t *need, struct httpc_response *r);

/*
 * A Retry-After value v[0..n) (RFC 9110 §10.2.3): delay-seconds (1*DIGIT)
 * into *delay_s (capped at HTTPC_RETRY_MAX_S), or an HTTP-date
 * (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", and the obsolete RFC 850
 * and asctime forms, §5.6.7) into *date as seconds since the epoch.
 * Blanks around the value are ignored.  Returns 1 (a delay), 2 (a date)
 * or 0 (neither: the header is then ignored).
 */
int httpc_retry_after(const char *v, size_t n, int64_t *delay_s,
		      int64_t *date);

/*
 * For the parser (http_fields.c): one field line of the final head,
 * line[0..n) without its line end; Retry-After and Proxy-Authenticate go
 * into r, every other field is ignored.
 */
void httpc_take_field(struct httpc_response *r, const uint8_t *line,
		      size_t n);

/*
 * Base64 (RFC 4648 §4, padded) of in[0..n) into out, NUL-terminated (the
 * NUL needs room but is not counted); returns length or -ENOSPC.
 */
int httpc_base64(const uint8_t *in, size_t n, char *out, size_t outn);

#endif
