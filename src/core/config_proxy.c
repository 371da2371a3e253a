/*
 * config_proxy.c - the options after a proxy line's URL:
 *
 *   proxy NAME URL [max_conns=N] [optimistic=on|off] [tfo=on|off]
 *                  [ca=FILE] [sni=NAME] [pin=sha256/B64] [http2=on|off]
 *                  [auth=negotiate [spn=SERVICE/HOST[@REALM]]]
 *
 * max_conns caps the tunnels open through the proxy, session-wide.
 * optimistic=on lets a SOCKS5 proxy carry the program's first bytes in
 * the handshake's flight (tunnel_early.c says when it does); an HTTP
 * proxy refuses it at parse time: CONNECT waits for its 2xx, since
 * RFC 9931 allows early data after a CONNECT only on a connection that
 * closes, which no tunnel does.  tfo=on opens the connection to the proxy
 * with TCP Fast Open, its first request in the SYN.  auth=negotiate makes
 * each CONNECT carry "Proxy-Authorization: Negotiate <token>" (RFC 4559
 * §4), a Kerberos token proxywrap makes with the user's tickets; spn
 * names the proxy's service principal when it is not HTTP/ and the URL's
 * host (a proxy given by address, or by a name its keytab does not hold).
 * The TLS options of an https:// proxy are config_tls.c's.
 *
 * Pure: config.c calls in for each option word.
 */
#include <string.h>

#include "config_int.h"

/* KEY=on|off: 1 on, 0 off, -1 (an error recorded) otherwise. */
static int
px_onoff(struct cfg_parser *p, const struct cfg_proxy *px, const char *key,
	 const char *val)
{
	if (strcmp(val, "on") == 0)
		return 1;
	if (strcmp(val, "off") == 0)
		return 0;
	cfg_err(p, "proxy '%s': bad %s '%.16s' (use on or off)", px->name, key,
		val);
	return -1;
}

/* max_conns=N, N in 1..CFG_MAX_CONNS_MAX. */
static int
px_max_conns(struct cfg_parser *p, struct cfg_proxy *px, const char *val)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; val[i] >= '0' && val[i] <= '9' && i < 6; i++)
		v = v * 10 + (unsigned long)(val[i] - '0');
	if (i == 0 || val[i] != '\0' || v < 1 || v > CFG_MAX_CONNS_MAX) {
		cfg_err(p, "proxy '%s': bad max_conns '%.16s' (use 1..%d)",
			px->name, val, CFG_MAX_CONNS_MAX);
		return -1;
	}
	px->max_conns = (int)v;
	return 0;
}

static int
px_auth(struct cfg_parser *p, struct cfg_proxy *px, const char *val)
{
	if (strcmp(val, "negotiate") == 0) {
		px->auth = CFG_AUTH_NEGOTIATE;
		return 0;
	}
	cfg_err(p, "proxy '%s': bad auth '%.32s' (known: negotiate; a Basic "
		"user:password goes in the URL)", px->name, val);
	return -1;
}

/*
 * SERVICE/HOST[@REALM]: one '/', a service of letters, digits and '-',
 * a host without blanks, control bytes or another '/' or '@', a realm of
 * printable bytes.  Kept as written; proxywrap turns it into a GSS name
 * (src/session/negotiate.c).
 */
static bool
spn_ok(const char *v)
{
	const char *slash = strchr(v, '/'), *at, *s;

	if (slash == NULL || slash == v || slash[1] == '\0' ||
	    strlen(v) >= CFG_SPN_MAX)
		return false;
	for (s = v; s < slash; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	at = strchr(slash + 1, '@');
	if (at == slash + 1 || (at != NULL && at[1] == '\0'))
		return false;
	for (s = slash + 1; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f || *s == '/' ||
		    (*s == '@' && s != at))
			return false;
	return true;
}

static int
px_spn(struct cfg_parser *p, struct cfg_proxy *px, const char *val)
{
	if (!spn_ok(val)) {
		cfg_err(p, "proxy '%s': bad spn '%.64s' (want SERVICE/HOST or "
			"SERVICE/HOST@REALM, e.g. HTTP/proxy.example.com)",
			px->name, val);
		return -1;
	}
	memcpy(px->spn, val, strlen(val) + 1);
	return 0;
}

int
cfg_proxy_option(struct cfg_parser *p, const char *tok, struct cfg_proxy *px)
{
	const char *eq = strchr(tok, '=');
	size_t klen = eq != NULL ? (size_t)(eq - tok) : strlen(tok);
	int v;

#define IS_KEY(k) (eq != NULL && klen == sizeof(k) - 1 && \
		   strncmp(tok, k, klen) == 0)
	if (IS_KEY("max_conns"))
		return px_max_conns(p, px, eq + 1);
	if (IS_KEY("optimistic")) {
		v = px_onoff(p, px, "optimistic", eq + 1);
		if (v == 1 && url_is_http(&px->url)) {
			cfg_err(p, "proxy '%s': optimistic=on needs a SOCKS5 "
				"proxy (HTTP CONNECT waits for its 2xx before "
				"any byte of the program: RFC 9931)", px->name);
			return -1;
		}
		if (v >= 0)
			px->optimistic = v == 1;
		return v < 0 ? -1 : 0;
	}
	if (IS_KEY("tfo")) {
		v = px_onoff(p, px, "tfo", eq + 1);
		if (v >= 0)
			px->tfo = v == 1;
		return v < 0 ? -1 : 0;
	}
	if (IS_KEY("auth"))
		return px_auth(p, px, eq + 1);
	if (IS_KEY("spn"))
		return px_spn(p, px, eq + 1);
#undef IS_KEY
	if (eq != NULL) {
		v = cfg_tls_option(p, px, tok, klen, eq + 1);
		if (v <= 0)
			return v;
	}
	cfg_err(p, "proxy '%s': unknown option '%.*s' (known: max_conns, "
		"optimistic, tfo, auth, spn, ca, sni, pin, http2)", px->name,
		(int)(klen > 64 ? 64 : klen), tok);
	return -1;
}

int
cfg_proxy_check(struct cfg_parser *p, struct cfg_proxy *px)
{
	if (px->auth == CFG_AUTH_NEGOTIATE && px->url.scheme != URL_HTTP &&
	    px->url.scheme != URL_HTTPS) {
		cfg_err(p, "proxy '%s': auth=negotiate is for http:// and "
			"https:// proxies (HTTP Negotiate, RFC 4559)", px->name);
		return -1;
	}
	if (px->auth == CFG_AUTH_NEGOTIATE && px->url.has_auth) {
		cfg_err(p, "proxy '%s': auth=negotiate and a user:password in "
			"the URL: use one", px->name);
		return -1;
	}
	if (px->spn[0] != '\0' && px->auth != CFG_AUTH_NEGOTIATE) {
		cfg_err(p, "proxy '%s': spn= needs auth=negotiate", px->name);
		return -1;
	}
	return 0;
}
