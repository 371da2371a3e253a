/*
 * http_connect.c - HTTP CONNECT (RFC 9110 §9.3.6) request builder and
 * response head parser.  Pure functions over byte buffers: tunnel.c peeks
 * at what the proxy sent, asks httpc_parse_response() where the head ends
 * and then consumes exactly that much, so whatever the server behind the
 * proxy sends first (an SSH banner, an SMTP greeting) stays for the
 * application.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "buf.h"
#include "http_connect.h"

/* "user:pass" scratch; longer credentials are refused, not cut. */
#define HTTPC_CRED_SCRATCH 1024
#define B64_LEN(n) (((n) + 2) / 3 * 4)

static const char status_prefix[] = "HTTP/1.";

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
httpc_base64(const uint8_t *in, size_t n, char *out, size_t outn)
{
	size_t i, o = 0;
	uint32_t v;

	/*
	 * RFC 4648 §4 with '=' padding, plus a terminating NUL.  The bound on
	 * n keeps the encoded length within an int.
	 */
	if (n > (size_t)0x5fffffff || outn < B64_LEN(n) + 1)
		return -ENOSPC;
	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64_alphabet[v >> 18 & 0x3f];
		out[o++] = b64_alphabet[v >> 12 & 0x3f];
		out[o++] = b64_alphabet[v >> 6 & 0x3f];
		out[o++] = b64_alphabet[v & 0x3f];
	}
	if (i < n) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		out[o++] = b64_alphabet[v >> 18 & 0x3f];
		out[o++] = b64_alphabet[v >> 12 & 0x3f];
		out[o++] = i + 1 < n ? b64_alphabet[v >> 6 & 0x3f] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return (int)o;
}

static void
put_str(struct bufw *w, const char *s)
{
	bufw_bytes(w, s, strlen(s));
}

/* host:port as an authority (RFC 9110 §7.2), IPv6 literals bracketed. */
static void
put_authority(struct bufw *w, const char *host, uint16_t port)
{
	char digits[5];
	size_t i = sizeof(digits);
	bool v6 = strchr(host, ':') != NULL && host[0] != '[';

	if (v6)
		bufw_u8(w, '[');
	put_str(w, host);
	if (v6)
		bufw_u8(w, ']');
	bufw_u8(w, ':');
	do {
		digits[--i] = (char)('0' + port % 10);
		port /= 10;
	} while (port > 0);
	bufw_bytes(w, digits + i, sizeof(digits) - i);
}

/*
 * The host goes verbatim into the request line and a header, so anything
 * that could end or split them is refused: CR and LF (header injection),
 * and also space and other control bytes, which no valid name or address
 * literal contains.
 */
static bool
host_ok(const char *host)
{
	const unsigned char *s = (const unsigned char *)host;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s <= 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* "Proxy-Authorization: Basic b64(user:pass)\r\n" (RFC 7617 §2). */
static int
put_credentials(struct bufw *w, const char *user, const char *pass)
{
	char plain[HTTPC_CRED_SCRATCH];
	char b64[B64_LEN(HTTPC_CRED_SCRATCH) + 1];
	size_t ulen = strlen(user), plen = strlen(pass);
	int rc = -EINVAL;

	if (ulen + 1 + plen <= sizeof(plain)) {
		memcpy(plain, user, ulen);
		plain[ulen] = ':';
		memcpy(plain + ulen + 1, pass, plen);
		rc = httpc_base64((const uint8_t *)plain, ulen + 1 + plen,
				  b64, sizeof(b64));
	}
	if (rc >= 0) {
		put_str(w, "Proxy-Authorization: Basic ");
		bufw_bytes(w, b64, (size_t)rc);
		put_str(w, "\r\n");
	}
	/* The secret must not linger on the stack after we return. */
	explicit_bzero(plain, sizeof(plain));
	explicit_bzero(b64, sizeof(b64));
	return rc < 0 ? rc : 0;
}

/*
 * "Proxy-Authorization: Negotiate b64(token)\r\n" (RFC 4559 §4), the
 * base64 written straight into the request (a token is up to 12 KB: no
 * copy of it on the stack).
 */
static void
put_negotiate(struct bufw *w, const uint8_t *tok, size_t toklen)
{
	int rc;

	put_str(w, "Proxy-Authorization: Negotiate ");
	if (w->overflow)
		return;
	rc = httpc_base64(tok, toklen, (char *)w->p + w->off, w->cap - w->off);
	if (rc < 0) {
		w->overflow = true;
		return;
	}
	w->off += (size_t)rc;
	put_str(w, "\r\n");
}

/* The request, with Basic credentials (user) or a Negotiate token (tok)
 * or neither. */
static int
build(char *buf, size_t n, const char *host, uint16_t port, const char *user,
      const char *pass, const uint8_t *tok, size_t toklen)
{
	struct bufw w;
	int rc;

	if (host == NULL || !host_ok(host))
		return -EINVAL;
	bufw_init(&w, buf, n);
	put_str(&w, "CONNECT ");
	put_authority(&w, host, port);
	put_str(&w, " HTTP/1.1\r\nHost: ");
	put_authority(&w, host, port);
	put_str(&w, "\r\n");
	if (user != NULL) {
		rc = put_credentials(&w, user, pass != NULL ? pass : "");
		if (rc < 0) {
			explicit_bzero(buf, n);
			return rc;
		}
	}
	if (tok != NULL)
		put_negotiate(&w, tok, toklen);
	put_str(&w, "\r\n");
	bufw_u8(&w, '\0');
	rc = bufw_result(&w);
	if (rc < 0) {
		/* A partial request may hold part of the credentials. */
		explicit_bzero(buf, n);
		return rc;
	}
	return rc - 1;
}

int
httpc_build_request(char *buf, size_t n, const char *host, uint16_t port,
		    const char *user, const char *pass)
{
	return build(buf, n, host, port, user, pass, NULL, 0);
}

int
httpc_build_negotiate(char *buf, size_t n, const char *host, uint16_t port,
		      const uint8_t *tok, size_t toklen)
{
	if (tok == NULL || toklen == 0)
		return -EINVAL;
	return build(buf, n, host, port, NULL, NULL, tok, toklen);
}

/*
 * Status line (RFC 9112 §4), as strictly as this:
 *
 *   HTTP/1.x SP 3DIGIT [SP reason-phrase] (CR)LF
 *   "HTTP/1." DIGIT SP DIGIT DIGIT DIGIT ( SP *octet | end of line )
 *
 * p[0..n) is the line without its line ending.  Anything else, including
 * "HTTP/1.0 200poo" (which nc accepted until 2025), is PARSE_ERR.  The
 * reason is kept for logs only: cut to fit, non-printable bytes as '?'.
 */
static int
parse_status(const uint8_t *p, size_t n, struct httpc_response *r)
{
	struct bufr b;
	uint8_t ver[sizeof(status_prefix) - 1], c, d[3];
	size_t i, rlen;

	bufr_init(&b, p, n);
	if (!bufr_bytes(&b, ver, sizeof(ver)) ||
	    memcmp(ver, status_prefix, sizeof(ver)) != 0)
		return PARSE_ERR;
	if (!bufr_u8(&b, &c) || c < '0' || c > '9')
		return PARSE_ERR;
	r->minor = c - '0';
	if (!bufr_u8(&b, &c) || c != ' ' || !bufr_bytes(&b, d, sizeof(d)))
		return PARSE_ERR;
	r->code = 0;
	for (i = 0; i < sizeof(d); i++) {
		if (d[i] < '0' || d[i] > '9')
			return PARSE_ERR;
		r->code = r->code * 10 + (d[i] - '0');
	}
	if (r->code < 100 || r->code > 599)
		return PARSE_ERR;
	r->reason[0] = '\0';
	r->retry_after_s = -1;
	r->retry_date = 0;
	r->schemes[0] = '\0';
	if (bufr_left(&b) == 0)
		return PARSE_OK;
	if (!bufr_u8(&b, &c) || c != ' ')
		return PARSE_ERR;
	rlen = bufr_left(&b);
	if (rlen > sizeof(r->reason) - 1)
		rlen = sizeof(r->reason) - 1;
	for (i = 0; i < rlen; i++) {
		c = p[b.off + i];
		r->reason[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	r->reason[rlen] = '\0';
	return PARSE_OK;
}

/*
 * Find the LF ending the line that starts at `from`, looking only below
 * lim.  1: found at *lf; 0: not yet; PARSE_ERR: a NUL, or a bare CR,
 * which RFC 9112 §2.2 lets a recipient treat as invalid.
 */
static int
find_eol(const uint8_t *p, size_t from, size_t lim, size_t *lf)
{
	size_t i;

	for (i = from; i < lim; i++) {
		if (p[i] == '\0')
			return PARSE_ERR;
		if (p[i] == '\r' && i + 1 < lim && p[i + 1] != '\n')
			return PARSE_ERR;
		if (p[i] == '\n') {
			*lf = i;
			return 1;
		}
	}
	return 0;
}

/*
 * One response head (RFC 9112 §2.1) starting at p[start]:
 *
 *   HTTP/1.1 200 Connection established CRLF     status line
 *   *( field-line CRLF )                         at most 64 lines
 *   CRLF                                         end of head
 *
 * Every line may end in CRLF or a bare LF (RFC 9112 §2.2), so "\n\n" ends
 * a head as well as "\r\n\r\n".  Field lines are interpreted only for
 * Retry-After and Proxy-Authenticate (http_fields.c).
 * PARSE_OK with *end just past the empty line; PARSE_MORE; PARSE_ERR.
 */
static int
parse_head(const uint8_t *p, size_t start, size_t lim, size_t *end_out,
	   struct httpc_response *r)
{
	size_t off = start, lf, end, lines = 0;
	size_t pre = lim - start < sizeof(status_prefix) - 1 ?
		     lim - start : sizeof(status_prefix) - 1;
	int rc;

	/* Not HTTP at all (a SOCKS server, say): say so without waiting. */
	if (memcmp(p + start, status_prefix, pre) != 0)
		return PARSE_ERR;
	for (;;) {
		rc = find_eol(p, off, lim, &lf);
		if (rc == PARSE_ERR)
			return PARSE_ERR;
		if (rc == 0)
			return PARSE_MORE;
		end = lf > off && p[lf - 1] == '\r' ? lf - 1 : lf;
		if (off == start) {
			if (parse_status(p + start, end - start, r) !=
			    PARSE_OK)
				return PARSE_ERR;
		} else if (end == off) {
			*end_out = lf + 1;
			return PARSE_OK;
		} else if (++lines > HTTPC_HDR_LINES_MAX) {
			return PARSE_ERR;
		} else if (r->code / 100 != 1) {
			/* the fields a client acts on; an interim head's
			 * are not the answer's */
			httpc_take_field(r, p + off, end - off);
		}
		off = lf + 1;
	}
}

/*
 * The response: zero or more interim (1xx) heads, then the final head;
 * the tunnel's bytes (the application's) follow it.  A 1xx response is
 * not final (RFC 9110 §15.2: a client must parse one or more of them
 * before the final response, even when it did not expect one), so a
 * proxy's "100 Continue" is skipped, not taken for a refusal.  All the
 * heads together may be at most HTTPC_HDR_MAX bytes.
 */
int
httpc_parse_response(const uint8_t *p, size_t len, size_t *used,
		     size_t *need, struct httpc_response *r)
{
	size_t lim = len < HTTPC_HDR_MAX ? len : HTTPC_HDR_MAX;
	size_t start = 0, end = 0;
	int rc;

	for (;;) {
		rc = parse_head(p, start, lim, &end, r);
		if (rc == PARSE_ERR)
			return PARSE_ERR;
		if (rc == PARSE_MORE) {
			if (len >= HTTPC_HDR_MAX)
				return PARSE_ERR;
			*need = 1;
			return PARSE_MORE;
		}
		if (r->code / 100 != 1) {
			*used = end;
			return PARSE_OK;
		}
		start = end;
	}
}
