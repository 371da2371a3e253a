/*
 * config_dest.c - the destinations of a rule (config.h, "DEST"): names,
 * suffixes, globs, addresses and prefixes, each with an optional port or
 * port range.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "config_int.h"

/* "N" or "LOW-HIGH", each 1..65535, LOW <= HIGH. */
static int
cfg_ports(const char *s, uint16_t *lo, uint16_t *hi)
{
	unsigned long v[2] = { 0, 0 };
	int n = 0;
	size_t digits = 0;

	for (;; s++) {
		if (*s >= '0' && *s <= '9') {
			if (++digits > 5)
				return -1;
			v[n] = v[n] * 10 + (unsigned long)(*s - '0');
			continue;
		}
		if (digits == 0 || v[n] < 1 || v[n] > 65535)
			return -1;
		if (*s == '\0')
			break;
		if (*s != '-' || n == 1)
			return -1;
		n = 1;
		digits = 0;
	}
	if (n == 0)
		v[1] = v[0];
	if (v[0] > v[1])
		return -1;
	*lo = (uint16_t)v[0];
	*hi = (uint16_t)v[1];
	return 0;
}

/*
 * An address with an optional "/n" in s (a writable copy).  v4-mapped
 * IPv6 prefixes of /96 or longer become IPv4, as rules decide v4-mapped
 * addresses as IPv4.
 */
static int
cfg_cidr(struct cfg_parser *p, const char *tok, char *s, struct cfg_dest *d)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					    0xff, 0xff };
	char *slash = strchr(s, '/');
	uint8_t net[16];
	char buf[INET6_ADDRSTRLEN];
	int max, i, len;

	if (slash != NULL)
		*slash = '\0';
	d->kind = DEST_CIDR;
	d->family = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;
	max = d->family == AF_INET ? 32 : 128;
	len = max / 8;
	if (inet_pton(d->family, s, d->addr) != 1) {
		cfg_err(p, "bad address in '%s'", tok);
		return -1;
	}
	d->prefix = max;
	if (slash != NULL) {
		const char *q = slash + 1;

		d->prefix = 0;
		if (*q == '\0' || strlen(q) > 3)
			goto badlen;
		for (; *q != '\0'; q++) {
			if (*q < '0' || *q > '9')
				goto badlen;
			d->prefix = d->prefix * 10 + (*q - '0');
		}
		if (d->prefix > max)
			goto badlen;
	}
	memcpy(net, d->addr, sizeof(net));
	for (i = 0; i < len; i++) {
		int keep = d->prefix - i * 8;

		if (keep <= 0)
			net[i] = 0;
		else if (keep < 8)
			net[i] &= (uint8_t)(0xff00u >> keep);
	}
	if (memcmp(net, d->addr, (size_t)len) != 0) {
		inet_ntop(d->family, net, buf, sizeof(buf));
		cfg_err(p, "host bits set in %s/%d; did you mean %s/%d?", s,
			d->prefix, buf, d->prefix);
		return -1;
	}
	if (d->family == AF_INET6 && d->prefix >= 96 &&
	    memcmp(d->addr, mapped, sizeof(mapped)) == 0) {
		memmove(d->addr, d->addr + 12, 4);
		memset(d->addr + 4, 0, 12);
		d->family = AF_INET;
		d->prefix -= 96;
	}
	return 0;
badlen:
	cfg_err(p, "bad prefix length in '%s' (use 0..%d)", tok, max);
	return -1;
}

/* A name, ".suffix" or "*.glob" in s (writable): lowercased, trailing dot
 * dropped, checked like a host name (RFC 1035 lengths). */
static int
cfg_name(struct cfg_parser *p, const char *tok, char *s, struct cfg_dest *d)
{
	size_t len, i, label = 0;

	d->kind = DEST_NAME;
	if (s[0] == '*' && s[1] == '.') {
		d->kind = DEST_GLOB;
		s += 2;
	} else if (s[0] == '.') {
		d->kind = DEST_SUFFIX;
		s++;
	}
	len = strlen(s);
	if (len > 0 && s[len - 1] == '.')
		s[--len] = '\0';
	if (len == 0 || len > 253)
		goto bad;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			s[i] = (char)(c - 'A' + 'a');
		if (c == '.') {
			if (label == 0)
				goto bad;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			goto bad;
		if (++label > 63)
			goto bad;
	}
	/* "a.." loses one dot above and must not pass as "a." (fuzz) */
	if (label == 0)
		goto bad;
	d->name = cfg_strndup(p->cfg, s, len);
	if (d->name == NULL) {
		p->oom = true;
		return -1;
	}
	return 0;
bad:
	cfg_err(p, "bad destination '%s'", tok);
	return -1;
}

static bool
cfg_looks_v4(const char *s)
{
	if (*s < '0' || *s > '9')
		return false;
	for (; *s != '\0'; s++)
		if (*s != '.' && (*s < '0' || *s > '9'))
			return false;
	return true;
}

/*
 * One destination word:
 *   *  *:P  name  .suffix  *.glob  a.b.c.d[/n]  v6[/n]  [v6[/n]]:P  X:P
 * where P is PORT or LOW-HIGH.  Errors are recorded; returns 0 or -1.
 */
int
cfg_parse_dest(struct cfg_parser *p, const char *tok, struct cfg_dest *d)
{
	char s[CFG_MSG_MAX / 2];
	char *host = s, *ports = NULL, *colon;
	size_t len = strlen(tok);
	int rc;

	memset(d, 0, sizeof(*d));
	d->port_lo = 0;
	d->port_hi = 65535;
	if (len >= sizeof(s)) {
		cfg_err(p, "destination too long: '%.40s...'", tok);
		return -1;
	}
	memcpy(s, tok, len + 1);
	if (s[0] == '[') {
		char *end = strchr(s, ']');

		if (end == NULL || memchr(s, ':', (size_t)(end - s)) == NULL ||
		    (end[1] != '\0' && end[1] != ':')) {
			cfg_err(p, "bad destination '%s'", tok);
			return -1;
		}
		*end = '\0';
		host = s + 1;
		if (end[1] == ':')
			ports = end + 2;
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			*colon = '\0';
			ports = colon + 1;
		}
	}
	if (ports != NULL && cfg_ports(ports, &d->port_lo, &d->port_hi) != 0) {
		cfg_err(p, "bad port in '%s' (use 1..65535 or LOW-HIGH)", tok);
		return -1;
	}
	if (strcmp(host, "*") == 0) {
		d->kind = DEST_ANY;
		return 0;
	}
	if (host != s || strchr(host, ':') != NULL ||
	    strchr(host, '/') != NULL || cfg_looks_v4(host))
		rc = cfg_cidr(p, tok, host, d);
	else
		rc = cfg_name(p, tok, host, d);
	return rc;
}
