/*
 * fromenv.c - rule-file text from ALL_PROXY / HTTPS_PROXY / HTTP_PROXY /
 * NO_PROXY, with curl's precedence and NO_PROXY semantics (fromenv.h).
 * Pure: the values come from the caller.
 */
#include "fromenv.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FE_TOKEN_MAX 256	/* longer tokens cannot be names or CIDRs */

/* curl_getenv: an empty value is no value. */
static const char *
fe_get(const char *(*get)(const char *, void *), void *ctx, const char *name)
{
	const char *v = get(name, ctx);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* The first of two variables that is set; *from names it. */
static const char *
fe_pick2(const char *(*get)(const char *, void *), void *ctx, const char *a,
	 const char *b, const char **from)
{
	const char *v = fe_get(get, ctx, a);

	*from = a;
	if (v == NULL && b != NULL) {
		v = fe_get(get, ctx, b);
		*from = b;
	}
	if (v == NULL)
		*from = NULL;
	return v;
}

void
fromenv_pick(const char *(*get)(const char *name, void *ctx), void *ctx,
	     struct fromenv_vars *v)
{
	memset(v, 0, sizeof(*v));
	/* curl never reads HTTP_PROXY: a CGI program gets it from the
	 * client's "Proxy:" header (httpoxy) */
	v->http = fe_pick2(get, ctx, "http_proxy", NULL, &v->http_var);
	v->https = fe_pick2(get, ctx, "https_proxy", "HTTPS_PROXY",
			    &v->https_var);
	v->all = fe_pick2(get, ctx, "all_proxy", "ALL_PROXY", &v->all_var);
	v->no_proxy = fe_pick2(get, ctx, "no_proxy", "NO_PROXY",
			       &v->no_proxy_var);
}

/* A writer that remembers running out of room. */
struct fe_out {
	char *buf;
	size_t n, len;
	bool full;
};

static void
fe_put(struct fe_out *o, const char *s, size_t l)
{
	if (o->full || o->len + l + 1 > o->n) {
		o->full = true;
		return;
	}
	memcpy(o->buf + o->len, s, l);
	o->len += l;
	o->buf[o->len] = '\0';
}

static void
fe_puts(struct fe_out *o, const char *s)
{
	fe_put(o, s, strlen(s));
}

static bool
fe_sep(char c)
{
	return c == ',' || c == ' ';
}

/* curl's atoi of s[0..l) as it applies it to a prefix length: leading
 * digits ("8abc" is 8, "" is 0); false for a sign or a huge number. */
static bool
fe_bits(const char *s, size_t l, unsigned int *bits)
{
	size_t i;

	*bits = 0;
	if (l > 0 && s[0] == '-')
		return false;
	i = l > 0 && s[0] == '+' ? 1 : 0;
	for (; i < l && isdigit((unsigned char)s[i]); i++) {
		*bits = *bits * 10 + (unsigned int)(s[i] - '0');
		if (*bits > 1000)
			return false;
	}
	return true;
}

/*
 * An address token ("10.0.0.0/8", "::1") as a config destination: the
 * network with its host bits cleared, as curl compares it.  1 written,
 * 0 not an address, -1 an address curl can never match.
 */
static int
fe_addr_token(const char *t, size_t l, struct fe_out *o)
{
	char ip[FE_TOKEN_MAX], txt[INET6_ADDRSTRLEN + 8];
	const char *slash = memchr(t, '/', l);
	uint8_t a[16];
	unsigned int bits = 0, max, i;
	size_t il = slash != NULL ? (size_t)(slash - t) : l;
	int fam;

	if (il >= sizeof(ip))
		return 0;
	memcpy(ip, t, il);
	ip[il] = '\0';
	if (inet_pton(AF_INET, ip, a) == 1)
		fam = AF_INET, max = 32;
	else if (inet_pton(AF_INET6, ip, a) == 1)
		fam = AF_INET6, max = 128;
	else
		return 0;
	/* curl: the atoi of what follows the slash; 0 means the whole
	 * address, more than the address has never matches */
	if (slash != NULL && !fe_bits(slash + 1, l - il - 1, &bits))
		return -1;
	if (bits > max)
		return -1;
	if (bits == 0)
		bits = max;
	for (i = bits; i < max; i++)
		a[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
	inet_ntop(fam, a, txt, sizeof(txt));
	fe_puts(o, " ");
	fe_puts(o, txt);
	snprintf(txt, sizeof(txt), "/%u", bits);
	fe_puts(o, txt);
	return 1;
}

/* A host name token: letters, digits, '-', '_' and dots, not all digits,
 * labels of 1..63 bytes (names DNS can have). */
static bool
fe_name_ok(const char *t, size_t l)
{
	size_t i, label = 0;
	bool alpha = false;

	if (l == 0 || l > 253 || t[l - 1] == '.' || t[0] == '.')
		return false;
	for (i = 0; i < l; i++) {
		if (isalpha((unsigned char)t[i]) || t[i] == '-' || t[i] == '_')
			alpha = true;
		else if (!isdigit((unsigned char)t[i]) && t[i] != '.')
			return false;
		label = t[i] == '.' ? 0 : label + 1;
		if (label > 63 || (t[i] == '.' && i > 0 && t[i - 1] == '.'))
			return false;
	}
	return alpha;
}

int
fromenv_noproxy(const char *np, size_t len, bool *all, char *out, size_t n)
{
	struct fe_out o = { out, n, 0, false };
	size_t s, e, i;
	char low[FE_TOKEN_MAX];

	*all = false;
	if (n == 0)
		return -ENOSPC;
	out[0] = '\0';
	if (len == 1 && np[0] == '*') {
		*all = true;
		return 0;
	}
	for (s = 0; s < len; s = e + 1) {
		while (s < len && fe_sep(np[s]))
			s++;
		if (s == len)
			break;
		for (e = s; e < len && !fe_sep(np[e]); e++)
			;
		if (e - s >= sizeof(low) || fe_addr_token(np + s, e - s,
							  &o) != 0)
			continue;
		i = s;
		if (np[i] == '.')
			i++;	/* ".example.com" is "example.com" */
		if (!fe_name_ok(np + i, e - i))
			continue;
		for (s = 0; i < e; i++)
			low[s++] = (char)tolower((unsigned char)np[i]);
		fe_puts(&o, " .");
		fe_put(&o, low, s);
	}
	if (o.full)
		return -ENOSPC;
	if (o.len > 0) {
		memmove(out, out + 1, o.len);	/* the first blank */
		o.len--;
	}
	return (int)o.len;
}

/* "proxy NAME URL  # from VAR": curl's defaults applied. */
static int
fe_proxy(struct fe_out *o, const char *name, const char *url,
	 const char *var)
{
	size_t l = strlen(url), i;

	for (i = 0; i < l; i++)
		if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f)
			return -EINVAL;
	if (l > 0 && url[l - 1] == '/')
		l--;	/* "http://proxy:3128/" */
	fe_puts(o, "proxy ");
	fe_puts(o, name);
	fe_puts(o, strstr(url, "://") == NULL ? " http://" : " ");
	for (i = 0; i < l; i++) {
		if (url[i] == '#')
			fe_puts(o, "%23");	/* not a comment */
		else
			fe_put(o, url + i, 1);
	}
	fe_puts(o, "\t# from ");
	fe_puts(o, var);
	fe_puts(o, "\n");
	return 0;
}

int
fromenv_build(const struct fromenv_vars *v, char *out, size_t n)
{
	struct fe_out o = { out, n, 0, false };
	char *dests;
	bool all = false;
	int rc = 0;
	size_t dn;

	if (n == 0)
		return -ENOSPC;
	out[0] = '\0';
	fe_puts(&o, "# proxywrap --from-env\n");
	if (v->no_proxy != NULL) {
		dn = strlen(v->no_proxy) * 2 + 64;
		dests = malloc(dn);
		if (dests == NULL)
			return -ENOMEM;
		rc = fromenv_noproxy(v->no_proxy, strlen(v->no_proxy), &all,
				     dests, dn);
		if (rc > 0) {
			fe_puts(&o, "direct ");
			fe_puts(&o, dests);
			fe_puts(&o, "\t# from ");
			fe_puts(&o, v->no_proxy_var);
			fe_puts(&o, "\n");
		}
		free(dests);
		if (rc < 0)
			return rc;
	}
	if (all) {
		fe_puts(&o, "# NO_PROXY is '*': every destination direct\n");
		return o.full ? -ENOSPC : (int)o.len;
	}
	if ((v->https != NULL &&
	     fe_proxy(&o, "https", v->https, v->https_var) < 0) ||
	    (v->http != NULL &&
	     fe_proxy(&o, "http", v->http, v->http_var) < 0) ||
	    (v->all != NULL && fe_proxy(&o, "all", v->all, v->all_var) < 0))
		return -EINVAL;
	if (v->https != NULL)
		fe_puts(&o, "via https *:443\n");
	if (v->http != NULL)
		fe_puts(&o, "via http *:80\n");
	if (v->all != NULL)
		fe_puts(&o, "via all *\n");
	return o.full ? -ENOSPC : (int)o.len;
}

/* curl's Curl_cidr4_match / Curl_cidr6_match. */
static bool
fe_cidr_match(int fam, const char *host, const char *net, unsigned int bits)
{
	uint8_t a[16], b[16];
	unsigned int max = fam == AF_INET ? 32 : 128, i;

	if (bits > max)
		return false;
	if (bits == 0)
		bits = max;
	if (inet_pton(fam, host, a) != 1 || inet_pton(fam, net, b) != 1)
		return false;
	for (i = 0; i < bits; i++)
		if ((a[i / 8] ^ b[i / 8]) & (0x80u >> (i % 8)))
			return false;
	return true;
}

bool
fromenv_curl_noproxy(const char *host, const char *np)
{
	size_t len, hl, s, e, tl;
	char tok[FE_TOKEN_MAX], *slash;
	uint8_t tmp[16];
	unsigned int bits;
	int fam = 0;

	if (np == NULL || np[0] == '\0')
		return false;
	if (strcmp(np, "*") == 0)
		return true;
	hl = strlen(host);
	if (inet_pton(AF_INET, host, tmp) == 1)
		fam = AF_INET;
	else if (inet_pton(AF_INET6, host, tmp) == 1)
		fam = AF_INET6;
	else if (hl > 0 && host[hl - 1] == '.')
		hl--;
	len = strlen(np);
	for (s = 0; s < len; s = e + 1) {
		while (s < len && fe_sep(np[s]))
			s++;
		if (s == len)
			break;
		for (e = s; e < len && !fe_sep(np[e]); e++)
			;
		if (fam == 0) {
			if (np[s] == '.')
				s++;
			tl = e - s;
			if (tl == hl && strncasecmp(np + s, host, hl) == 0)
				return true;
			if (tl < hl && host[hl - tl - 1] == '.' &&
			    strncasecmp(np + s, host + hl - tl, tl) == 0)
				return true;
			continue;
		}
		if (e - s >= sizeof(tok))
			continue;
		memcpy(tok, np + s, e - s);
		tok[e - s] = '\0';
		slash = strchr(tok, '/');
		if (slash != NULL)
			*slash = '\0';
		bits = 0;
		if (slash != NULL && !fe_bits(slash + 1, strlen(slash + 1),
					      &bits))
			continue;	/* a negative prefix never matches */
		if (fe_cidr_match(fam, host, tok, bits))
			return true;
	}
	return false;
}
