/*
 * url.c - proxy URLs as curl spells them (see url.h).
 *
 *   socks5h://alice:s%40cret@proxy.example:1080/
 *   \_____/   \___________/ \___________/ \__/|
 *   scheme    userinfo      host          port optional "/"
 *
 * The input is s[0..len) and is never assumed NUL-terminated: every read
 * is an index checked against len.  Pure: no I/O (inet_pton only parses).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "url.h"

#define URL_PORT_DEFAULT 1080	/* curl's default for a proxy */
#define URL_PORT_HTTPS 443	/* and for an https:// one (curl 7.52+) */

static const struct {
	const char *name;
	enum url_scheme scheme;
} url_schemes[] = {
	{ "http", URL_HTTP },
	{ "https", URL_HTTPS },
	{ "socks5", URL_SOCKS5 },
	{ "socks5h", URL_SOCKS5H },
};

/*
 * Percent-decode s[0..len) into out[URL_CRED_MAX].  %00 is refused: the
 * result is a C string, and a NUL would silently truncate a credential.
 */
static int
url_decode(const char *s, size_t len, char *out, const char **err)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (len - i < 3) {
				*err = "bad percent-encoding";
				return -1;
			}
			hi = buf_hexval((unsigned char)s[i + 1]);
			lo = buf_hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				*err = "bad percent-encoding";
				return -1;
			}
			c = hi * 16 + lo;
			i += 2;
		} else if (c == 0 || c == ' ' || c == '\t' || c == '\r' ||
			   c == '\n') {
			*err = "bad character in user or password";
			return -1;
		}
		if (o + 1 >= URL_CRED_MAX) {
			*err = "user name or password too long";
			return -1;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* Letters, digits, '-', '_' and dots; labels 1..63 octets (RFC 1035). */
static bool
url_name_ok(const char *s, size_t len)
{
	size_t i, label = 0;

	if (len == 0 || len > 253)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return true;
}

static bool
url_all_digits_dots(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != '.' && (s[i] < '0' || s[i] > '9'))
			return false;
	return true;
}

/* The port: 1..65535, decimal digits only. */
static int
url_port(const char *s, size_t len, uint16_t *port, const char **err)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 5) {
		*err = "bad port (use 1..65535)";
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			*err = "bad port (use 1..65535)";
			return -1;
		}
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535) {
		*err = "bad port (use 1..65535)";
		return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

/* host[:port] or [v6][:port]; fills out->host and out->port. */
/* Colons in s[0..len) when it could be an IPv6 literal (hex digits,
 * ':', '.' only), else 0. */
static size_t
url_count_colons(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == ':')
			n++;
		else if (!isxdigit((unsigned char)s[i]) && s[i] != '.')
			return 0;
	}
	return n;
}

/*
 * "2001:db8::1:1080": an IPv6 literal needs brackets in a URL (RFC 3986
 * §3.2.2), and without them the port cannot be told from the address.
 * Say so and show the bracketed form, the last group taken as the port
 * when that leaves a valid address.  The text lives in a per-thread
 * buffer (valid until the next call on the thread).
 */
static const char *
url_v6_hint(const char *s, size_t len)
{
	static __thread char msg[2 * URL_HOST_MAX + 96];
	char a[URL_HOST_MAX], w[URL_HOST_MAX];
	unsigned char tmp[16];
	const char *last = s + len;
	size_t alen, plen;
	bool split = false, whole = false;

	while (last > s && last[-1] != ':')
		last--;
	alen = (size_t)(last - s) - 1;
	plen = (size_t)(s + len - last);
	if (alen < sizeof(a) && plen > 0 && plen <= 5 &&
	    url_all_digits_dots(last, plen) && memchr(last, '.', plen) == NULL) {
		memcpy(a, s, alen);
		a[alen] = '\0';
		split = inet_pton(AF_INET6, a, tmp) == 1;
	}
	if (len < sizeof(w)) {
		memcpy(w, s, len);
		w[len] = '\0';
		whole = inet_pton(AF_INET6, w, tmp) == 1;
	}
	if (split && whole)
		snprintf(msg, sizeof(msg), "an IPv6 address needs brackets: "
			 "[%s]:%.*s (or [%s]:PORT)", a, (int)plen, last, w);
	else if (split)
		snprintf(msg, sizeof(msg), "an IPv6 address needs brackets: "
			 "[%s]:%.*s", a, (int)plen, last);
	else if (whole)
		snprintf(msg, sizeof(msg), "an IPv6 address needs brackets: "
			 "[%s]:PORT", w);
	else
		return "an IPv6 address needs brackets: [ADDRESS]:PORT";
	return msg;
}

static int
url_hostport(const char *s, size_t len, struct proxy_url *out,
	     const char **err)
{
	unsigned char tmp[16];
	const char *host = s;
	size_t hlen, rest;
	const char *colon;

	if (len > 0 && s[0] == '[') {
		const char *end = memchr(s, ']', len);

		if (end == NULL) {
			*err = "missing ']' after IPv6 address";
			return -1;
		}
		host = s + 1;
		hlen = (size_t)(end - host);
		if (hlen == 0 || hlen >= URL_HOST_MAX) {
			*err = "bad IPv6 address";
			return -1;
		}
		memcpy(out->host, host, hlen);
		out->host[hlen] = '\0';
		if (inet_pton(AF_INET6, out->host, tmp) != 1) {
			*err = "bad IPv6 address";
			return -1;
		}
		rest = len - (size_t)(end + 1 - s);
		colon = end + 1;
		if (rest > 0 && *colon != ':') {
			*err = "junk after IPv6 address";
			return -1;
		}
	} else if (url_count_colons(s, len) > 1) {
		*err = url_v6_hint(s, len);
		return -1;
	} else {
		colon = memchr(s, ':', len);
		hlen = colon != NULL ? (size_t)(colon - s) : len;
		rest = len - hlen;
		if (hlen == 0) {
			*err = "empty host";
			return -1;
		}
		if (!url_name_ok(s, hlen)) {
			*err = "bad host name";
			return -1;
		}
		memcpy(out->host, s, hlen);
		out->host[hlen] = '\0';
		if (url_all_digits_dots(s, hlen) &&
		    inet_pton(AF_INET, out->host, tmp) != 1) {
			*err = "bad IPv4 address";
			return -1;
		}
	}
	out->port = out->scheme == URL_HTTPS ? URL_PORT_HTTPS : URL_PORT_DEFAULT;
	if (rest == 0)
		return 0;
	return url_port(colon + 1, rest - 1, &out->port, err);
}

static int
url_parse_in(const char *s, size_t len, struct proxy_url *out,
	     const char **err)
{
	const char *sep, *auth, *at;
	size_t i, slen, alen;
	bool found = false;

	memset(out, 0, sizeof(*out));
	sep = len >= 3 ? memmem(s, len, "://", 3) : NULL;
	if (sep == NULL) {
		*err = "missing scheme (use http://, https://, socks5:// or "
		       "socks5h://)";
		return -1;
	}
	slen = (size_t)(sep - s);
	for (i = 0; i < sizeof(url_schemes) / sizeof(url_schemes[0]); i++) {
		if (strlen(url_schemes[i].name) == slen &&
		    strncasecmp(s, url_schemes[i].name, slen) == 0) {
			out->scheme = url_schemes[i].scheme;
			found = true;
		}
	}
	if (!found) {
		*err = "unknown scheme (use http, https, socks5 or socks5h)";
		return -1;
	}
	auth = sep + 3;
	alen = len - slen - 3;
	/* Only a bare trailing "/" may follow the authority: a proxy URL has
	 * no path, query or fragment. */
	for (i = 0; i < alen; i++) {
		if (auth[i] == '/' || auth[i] == '?' || auth[i] == '#')
			break;
	}
	if (i < alen && !(auth[i] == '/' && i + 1 == alen)) {
		*err = "a proxy URL has no path, query or fragment";
		return -1;
	}
	alen = i;
	/* The last '@' ends the userinfo, as in curl: an unencoded '@' in a
	 * password still works. */
	at = NULL;
	for (i = alen; i > 0; i--) {
		if (auth[i - 1] == '@') {
			at = auth + i - 1;
			break;
		}
	}
	if (at != NULL) {
		size_t ulen = (size_t)(at - auth);
		const char *colon = memchr(auth, ':', ulen);
		size_t nlen = colon != NULL ? (size_t)(colon - auth) : ulen;

		if (nlen == 0) {
			*err = "empty user name";
			return -1;
		}
		if (url_decode(auth, nlen, out->user, err) != 0)
			return -1;
		if (colon != NULL &&
		    url_decode(colon + 1, ulen - nlen - 1, out->pass, err) != 0)
			return -1;
		out->has_auth = true;
		alen -= ulen + 1;
		auth = at + 1;
	}
	return url_hostport(auth, alen, out, err);
}

/* On failure nothing of a half-decoded password is left in *out. */
int
url_parse(const char *s, size_t len, struct proxy_url *out, const char **err)
{
	if (url_parse_in(s, len, out, err) == 0)
		return 0;
	explicit_bzero(out, sizeof(*out));
	return -1;
}

const char *
url_scheme_str(enum url_scheme s)
{
	switch (s) {
	case URL_HTTP:
		return "http";
	case URL_SOCKS5:
		return "socks5";
	case URL_SOCKS5H:
		return "socks5h";
	case URL_HTTPS:
		return "https";
	}
	return "?";
}

bool
url_remote_dns(const struct proxy_url *u)
{
	return url_is_http(u) || u->scheme == URL_SOCKS5H;
}

bool
url_is_http(const struct proxy_url *u)
{
	return u->scheme == URL_HTTP || u->scheme == URL_HTTPS;
}

/* Appends to a bounded buffer, counting what it would have written. */
struct url_out {
	char *buf;
	size_t n;
	size_t len;
};

static void
url_put(struct url_out *o, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++, o->len++)
		if (o->len + 1 < o->n)
			o->buf[o->len] = s[i];
}

static void
url_puts(struct url_out *o, const char *s)
{
	url_put(o, s, strlen(s));
}

/* The user name, percent-encoded where it would be ambiguous or unsafe
 * in a log line. */
static void
url_put_user(struct url_out *o, const char *user)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; user[i] != '\0'; i++) {
		unsigned char c = (unsigned char)user[i];

		if (c <= ' ' || c >= 0x7f || c == ':' || c == '@' ||
		    c == '%' || c == '/' || c == '#') {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			url_put(o, e, sizeof(e));
		} else {
			url_put(o, (const char *)&c, 1);
		}
	}
}

size_t
url_redact(const struct proxy_url *u, char *buf, size_t n)
{
	struct url_out o = { buf, n, 0 };
	char port[8];

	url_puts(&o, url_scheme_str(u->scheme));
	url_puts(&o, "://");
	if (u->has_auth) {
		url_put_user(&o, u->user);
		url_puts(&o, ":***@");
	}
	if (strchr(u->host, ':') != NULL) {
		url_puts(&o, "[");
		url_puts(&o, u->host);
		url_puts(&o, "]");
	} else {
		url_puts(&o, u->host);
	}
	snprintf(port, sizeof(port), ":%u", (unsigned)u->port);
	url_puts(&o, port);
	if (n > 0)
		o.buf[o.len < n ? o.len : n - 1] = '\0';
	return o.len;
}
