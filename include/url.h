/*
 * url.h - proxy URLs as curl spells them.
 *
 *   scheme://[user[:password]@]host[:port]
 *   scheme  http | https | socks5 | socks5h
 *   host    a name, an IPv4 literal or an IPv6 literal in brackets
 *   port    1..65535, default 1080 (as curl), 443 for https
 *
 * user and password are percent-decoded.  Pure: no I/O.
 */
#ifndef PROXYWRAP_URL_H
#define PROXYWRAP_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define URL_HOST_MAX 256	/* a DNS name is at most 255 octets (RFC 1035) */
#define URL_CRED_MAX 256	/* RFC 1929 caps user and password at 255 */

enum url_scheme {
	URL_HTTP,	/* HTTP CONNECT; the proxy resolves names */
	URL_SOCKS5,	/* SOCKS5; names resolved locally first */
	URL_SOCKS5H,	/* SOCKS5; the proxy resolves names */
	URL_HTTPS,	/* HTTP CONNECT inside TLS to the proxy (proxywrap's
			 * relay speaks the TLS) */
};

struct proxy_url {
	enum url_scheme scheme;
	char host[URL_HOST_MAX];	/* no brackets, NUL-terminated */
	uint16_t port;
	bool has_auth;			/* user given (password may be "") */
	char user[URL_CRED_MAX];	/* decoded, NUL-terminated */
	char pass[URL_CRED_MAX];	/* decoded, NUL-terminated */
};

/*
 * Parse s[0..len) into *out.  Returns 0, or -1 with *err pointing to a
 * static lowercase message ("unknown scheme 'ftp'" style messages are built
 * by the caller from the returned text).
 */
int url_parse(const char *s, size_t len, struct proxy_url *out,
	      const char **err);

/*
 * Write the URL with the password replaced by "***" into buf (always
 * NUL-terminated when n > 0).  Returns the length it would have written.
 */
size_t url_redact(const struct proxy_url *u, char *buf, size_t n);

/* "http", "https", "socks5" or "socks5h" */
const char *url_scheme_str(enum url_scheme s);

/* True when the proxy receives names rather than addresses (socks5h, http). */
bool url_remote_dns(const struct proxy_url *u);

/* True when the proxy speaks HTTP CONNECT (http or https). */
bool url_is_http(const struct proxy_url *u);

#endif
