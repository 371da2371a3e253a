/*
 * fromenv.h - `proxywrap --from-env`: rule-file text built from the proxy
 * variables CI already has, with curl's semantics.  Pure: the caller
 * passes the variables' values; nothing here reads the environment.
 *
 * Which variable (curl's precedence; an empty value counts as unset):
 *   http_proxy  (lowercase only: curl ignores HTTP_PROXY, see httpoxy)
 *   https_proxy, then HTTPS_PROXY
 *   all_proxy, then ALL_PROXY
 *   no_proxy, then NO_PROXY
 * The shim sees TCP connects, not URLs, so a port stands for the scheme:
 *   port 443 -> HTTPS proxy, port 80 -> HTTP proxy, others -> ALL proxy;
 *   a missing HTTPS or HTTP proxy falls back to the ALL proxy; with none
 *   of them, the destination is direct.
 * NO_PROXY (curl >= 7.86): tokens separated by commas or spaces; "*" as
 * the whole value disables every proxy; a name matches itself and the
 * names under it (a leading dot is optional); an IPv4/IPv6 address or
 * CIDR matches addresses.  A token curl could never match (one with a
 * port, a '*', or characters no host name has) is left out.
 */
#ifndef PROXYWRAP_FROMENV_H
#define PROXYWRAP_FROMENV_H

#include <stdbool.h>
#include <stddef.h>

struct fromenv_vars {
	const char *http;	/* the chosen values, NULL when unset */
	const char *https;
	const char *all;
	const char *no_proxy;
	const char *http_var;	/* the variable each came from, for text */
	const char *https_var;
	const char *all_var;
	const char *no_proxy_var;
};

/* Pick the variables by curl's precedence; get is getenv or a stand-in. */
void fromenv_pick(const char *(*get)(const char *name, void *ctx),
		  void *ctx, struct fromenv_vars *v);

/*
 * The rule file for v into out[0..n) (NUL-terminated).  Returns its
 * length, or -ENOSPC.  Proxy URLs are written as given (a bare host:port
 * gets curl's "http://", a trailing "/" is dropped); one cfg_parse then
 * checks them.
 */
int fromenv_build(const struct fromenv_vars *v, char *out, size_t n);

/*
 * The direct destinations for a NO_PROXY value, space separated, into
 * out[0..n): ".example.com 10.0.0.0/8 ...".  *all is set when the value
 * disables every proxy ("*").  Returns the length or -ENOSPC.
 */
int fromenv_noproxy(const char *no_proxy, size_t len, bool *all, char *out,
		    size_t n);

/* curl's own decision (lib/noproxy.c, 7.88): true when host is not to
 * be proxied.  host: a name or an address literal without brackets. */
bool fromenv_curl_noproxy(const char *host, const char *no_proxy);

#endif
