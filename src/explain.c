/*
 * explain.c - say which rule decides a destination, what it does, and
 * where its name would be resolved.
 */
#include "explain.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
explain_parse_dest(const char *dest, char *host, size_t hostn,
		   unsigned int *port)
{
	const char *h = dest, *end, *colon;
	unsigned char tmp[16];
	char *stop;
	unsigned long p = 0;
	size_t len;

	if (dest[0] == '[') {
		end = strchr(dest, ']');
		if (end == NULL)
			return -1;
		h = dest + 1;
		len = (size_t)(end - h);
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			return -1;
	} else {
		colon = strrchr(dest, ':');
		/* a bare IPv6 address has colons but no port */
		if (colon != NULL && strchr(dest, ':') != colon)
			colon = NULL;
		len = colon != NULL ? (size_t)(colon - dest) : strlen(dest);
	}
	if (len == 0 || len >= hostn)
		return -1;
	memcpy(host, h, len);
	host[len] = '\0';
	if (dest[0] == '[' && inet_pton(AF_INET6, host, tmp) != 1)
		return -1;
	if (colon != NULL) {
		errno = 0;
		p = strtoul(colon + 1, &stop, 10);
		if (colon[1] == '\0' || *stop != '\0' || errno != 0 ||
		    p > 65535)
			return -1;
	}
	*port = (unsigned int)p;
	return 0;
}

static void
rule_where(const struct config *cfg, const struct decision *d, char *buf,
	   size_t n)
{
	if (d->rule != NULL && d->rule->line == 0)
		snprintf(buf, n, "-p: %s", d->rule->text);
	else if (d->rule != NULL)
		snprintf(buf, n, "%s:%d: %s", cfg->file, d->rule->line,
			 d->rule->text);
	else if (d->loopback)
		snprintf(buf, n, "no rule names it: loopback goes direct");
	else if (cfg->strict)
		snprintf(buf, n, "no rule matched: strict mode blocks it");
	else
		snprintf(buf, n, "no rule matched: direct by default");
}

enum cfg_action
explain(const struct config *cfg, const struct rules *r, const char *host,
	unsigned int port, char *out, size_t n)
{
	struct decision d;
	unsigned char a[16];
	char where[512], chain[1024], u[URL_HOST_MAX + 64];
	const struct proxy_url *last = NULL;
	bool is_addr;
	size_t off = 0;
	int i;

	is_addr = inet_pton(AF_INET, host, a) == 1 ||
		  inet_pton(AF_INET6, host, a) == 1;
	rules_decide_name(r, host, (uint16_t)port, &d);
	rule_where(cfg, &d, where, sizeof(where));
	chain[0] = '\0';
	if (d.action == CFG_VIA) {
		for (i = 0; i < d.rule->nchain; i++) {
			const struct cfg_proxy *p = &cfg->proxies[d.rule->chain[i]];

			url_redact(&p->url, u, sizeof(u));
			off += (size_t)snprintf(chain + off, sizeof(chain) - off,
						"%s%s %s", i ? " > " : "",
						p->name, u);
			if (off >= sizeof(chain))
				break;
			last = &p->url;
		}
	}
	off = (size_t)snprintf(out, n, "%s%s%.0u: %s%s%s\n  rule: %s\n",
			       host, port ? ":" : "", port,
			       cfg_action_str(d.action),
			       d.action == CFG_VIA ? " " : "", chain, where);
	if (off < n && !is_addr) {
		const char *dns;

		if (d.action == CFG_BLOCK)
			dns = "none (blocked names are never looked up)";
		else if (last != NULL && url_remote_dns(last))
			dns = "remote: the proxy resolves the name, no local "
			      "query";
		else
			dns = "local: resolved on this machine";
		snprintf(out + off, n - off, "  dns: %s\n", dns);
	}
	return d.action;
}

bool
explain_dns_local(const struct config *cfg, const struct rules *r,
		  const char *host, unsigned int port)
{
	struct decision d;
	unsigned char a[16];

	if (inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1)
		return false;
	rules_decide_name(r, host, (uint16_t)port, &d);
	if (d.action == CFG_BLOCK)
		return false;
	if (d.action == CFG_VIA &&
	    url_remote_dns(&cfg->proxies[d.rule->chain[d.rule->nchain - 1]].url))
		return false;
	return true;
}

void
explain_answer(const struct config *cfg, const struct rules *r,
	       const char *host, unsigned int port, int family,
	       const uint8_t *addr, char *out, size_t n)
{
	struct decision byname, byaddr, *d;
	char a[INET6_ADDRSTRLEN], where[512];
	size_t len = strlen(out);

	rules_decide_name(r, host, (uint16_t)port, &byname);
	rules_decide_addr(r, family, addr, (uint16_t)port, &byaddr);
	d = &byaddr;
	if (byname.rule != NULL &&
	    (byaddr.rule == NULL || byname.rule < byaddr.rule))
		d = &byname;
	rule_where(cfg, d, where, sizeof(where));
	inet_ntop(family, addr, a, sizeof(a));
	if (len < n)
		snprintf(out + len, n - len, "  answer %s: %s%s%s (%s)\n", a,
			 cfg_action_str(d->action),
			 d->action == CFG_VIA ? " " : "",
			 d->action == CFG_VIA ?
				 cfg->proxies[d->rule->chain[0]].name : "",
			 where);
}
