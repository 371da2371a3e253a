/*
 * config_proxy.c - the options after a proxy line's URL:
 *
 *   proxy NAME URL [max_conns=N] [optimistic=on|off] [tfo=on|off]
 *                  [ca=FILE] [sni=NAME] [pin=sha256/B64] [http2=on|off]
 *
 * max_conns caps the tunnels open through the proxy, session-wide.
 * optimistic=on lets a SOCKS5 proxy carry the program's first bytes in
 * the handshake's flight (tunnel_early.c says when it does); an HTTP
 * proxy refuses it at parse time: CONNECT waits for its 2xx, since
 * RFC 9931 allows early data after a CONNECT only on a connection that
 * closes, which no tunnel does.  tfo=on opens the connection to the proxy
 * with TCP Fast Open, its first request in the SYN.  The TLS options of
 * an https:// proxy are config_tls.c's.
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
#undef IS_KEY
	if (eq != NULL) {
		v = cfg_tls_option(p, px, tok, klen, eq + 1);
		if (v <= 0)
			return v;
	}
	cfg_err(p, "proxy '%s': unknown option '%.*s' (known: max_conns, "
		"optimistic, tfo, ca, sni, pin, http2)", px->name,
		(int)(klen > 64 ? 64 : klen), tok);
	return -1;
}
