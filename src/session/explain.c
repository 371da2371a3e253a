/*
 * explain.c - say which rule decides a destination, what it does, and
 * where its name would be resolved.
 */
#include "explain.h"
#include "health.h"
#include "proxy_proto.h"

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

/*
 * The PROXY protocol header d's rule would send, exactly: text for v1, hex
 * for v2.  What only the connect call knows is shown as a placeholder and said
 * so: the source (unless pp_source fixes it) is the socket's local address,
 * and a name's destination is the address the application connects to.
 */
static void
explain_pp(const struct cfg_rule *rule, const char *host, unsigned int port,
	   bool remote_dns, char *out, size_t n)
{
	struct pp_addrs a;
	uint8_t hdr[PP_OUT_MAX];
	size_t off = strlen(out), i;
	bool is_addr;
	int len;

	memset(&a, 0, sizeof(a));
	a.dst_family = AF_INET;
	a.dst_port = (uint16_t)port;
	is_addr = inet_pton(AF_INET, host, a.dst) == 1;
	if (!is_addr && inet_pton(AF_INET6, host, a.dst) == 1) {
		a.dst_family = AF_INET6;
		is_addr = true;
	}
	a.src_family = rule->pp_src_family ? rule->pp_src_family :
		       a.dst_family;
	if (rule->pp_src_family != 0) {
		memcpy(a.src, rule->pp_src, sizeof(a.src));
		a.src_port = rule->pp_src_port;
	}
	if (rule->pp_version == 1)
		len = pp_build_v1(&a, hdr, sizeof(hdr));
	else
		len = pp_build_v2(&a, is_addr ? NULL : host, hdr, sizeof(hdr));
	if (len < 0 || off >= n)
		return;
	off += (size_t)snprintf(out + off, n - off,
				"  proxy_protocol: %s, %d bytes, first on the "
				"stream%s\n    source: %s\n    destination: %s\n",
				rule->pp_version == 1 ? "v1" : "v2", len,
				rule->action == CFG_VIA ?
				", after the last proxy's handshake" : "",
				rule->pp_src_family ? "pp_source, fixed" :
				"the socket's local address (zeros here)",
				is_addr ? "as connected" : remote_dns ?
				"the name's fake address (zeros here), and the "
				"name in an AUTHORITY TLV" :
				rule->pp_version == 1 ?
				"the address the name resolves to (zeros here)" :
				"the address the name resolves to (zeros here), "
				"and the name in an AUTHORITY TLV");
	if (off >= n)
		return;
	if (rule->pp_version == 1) {
		/* the line without its CRLF, which is shown escaped */
		snprintf(out + off, n - off, "    header: %.*s\\r\\n\n",
			 len - 2, (const char *)hdr);
		return;
	}
	off += (size_t)snprintf(out + off, n - off, "    header:");
	for (i = 0; i < (size_t)len && off < n; i++)
		off += (size_t)snprintf(out + off, n - off, "%s%02x",
					i % 16 ? " " : "\n     ", hdr[i]);
	if (off < n)
		snprintf(out + off, n - off, "\n");
}

/* "group corp (failover: a URL, b URL)"; the bytes it took of out. */
static size_t
explain_group(const struct config *cfg, const struct cfg_group *g,
	      bool after, char *out, size_t n)
{
	char u[URL_HOST_MAX + 64];
	size_t off;
	int k;

	off = (size_t)snprintf(out, n, "%sgroup %s (%s:", after ? " > " : "",
			       g->name, cfg_group_mode_str(g->mode));
	for (k = 0; k < g->nmembers && off < n; k++) {
		const struct cfg_proxy *m = &cfg->proxies[g->members[k]];

		url_redact(&m->url, u, sizeof(u));
		off += (size_t)snprintf(out + off, n - off, "%s %s %s",
					k ? "," : "", m->name, u);
	}
	if (off < n)
		off += (size_t)snprintf(out + off, n - off, ")");
	return off < n ? off : n;
}

/* The running session's health entries (explain_set_health), or NULL. */
static const struct hl_proxy *live_tab;
static uint32_t live_n;
static int64_t live_now;

void
explain_set_health(const struct hl_proxy *tab, uint32_t n, int64_t now)
{
	live_tab = tab;
	live_n = n;
	live_now = now;
}

/* "  a: ejected after failing for 12.3 s more (2 in a row)" */
static size_t
explain_member(const struct cfg_proxy *p, char *out, size_t n)
{
	const struct hl_proxy *e = hl_lookup(live_tab, live_n, hl_key(p));
	enum hl_state st;
	int64_t left;
	size_t off;

	if (e == NULL)
		return (size_t)snprintf(out, n, "    %s: not tried yet in this "
					"session\n", p->name);
	st = hl_state(e, live_now);
	left = __atomic_load_n(&e->until_ms, __ATOMIC_RELAXED) - live_now;
	if (st == HL_DOWN)
		off = (size_t)snprintf(out, n, "    %s: %s for %lld.%lld s more "
				       "(%u in a row)", p->name,
				       hl_why_str((enum hl_why)e->why),
				       (long long)(left / 1000),
				       (long long)(left % 1000 / 100), e->fails);
	else if (st == HL_UP && !e->proven)
		off = (size_t)snprintf(out, n, "    %s: not heard from yet",
				       p->name);
	else
		off = (size_t)snprintf(out, n, "    %s: %s", p->name,
				       hl_state_str(st));
	if (off < n && p->max_conns > 0)
		off += (size_t)snprintf(out + off, n - off, ", %u of %d tunnels "
					"open", e->conns, p->max_conns);
	if (off < n)
		off += (size_t)snprintf(out + off, n - off, "\n");
	return off;
}

/*
 * What decides a group's member, the caps, and the members' health when
 * this runs inside a session (its shared table, read-only); outside one
 * the health lives only in a running session's memory, and it says so.
 */
static size_t
explain_health(const struct config *cfg, const struct cfg_rule *rule,
	       char *out, size_t n)
{
	size_t off = 0;
	int k, m;

	for (k = 0; k < rule->nchain && off < n; k++) {
		const struct cfg_group *g = cfg_hop_group(cfg, rule, k);

		if (g == NULL)
			continue;
		off += (size_t)snprintf(out + off, n - off, "  group %s: %s; %s\n",
					g->name, g->mode == CFG_FAILOVER ?
					"failover, the first usable member in "
					"order" : g->mode == CFG_ROUND_ROBIN ?
					"round-robin over the usable members" :
					"a usable member at random",
					live_tab != NULL ? "health in this "
					"session:" : "each member's health "
					"(ejections, Retry-After, 407s, open "
					"tunnels) is kept by a running session, "
					"not visible outside it; a new session "
					"starts with every member untried");
		for (m = 0; live_tab != NULL && m < g->nmembers && off < n; m++)
			off += explain_member(&cfg->proxies[g->members[m]],
					      out + off, n - off);
	}
	for (k = 0; k < rule->nchain && off < n; k++) {
		const struct cfg_group *g = cfg_hop_group(cfg, rule, k);
		int cnt = g != NULL ? g->nmembers : 1;

		for (m = 0; m < cnt && off < n; m++) {
			const struct cfg_proxy *p = &cfg->proxies[g != NULL ?
				g->members[m] : rule->chain[k]];

			if (p->max_conns > 0)
				off += (size_t)snprintf(out + off, n - off,
							"  max_conns: %s at most %d "
							"open tunnels, "
							"session-wide\n", p->name,
							p->max_conns);
			if (p->auth == CFG_AUTH_NEGOTIATE && off < n)
				off += (size_t)snprintf(out + off, n - off,
							"  auth: %s Negotiate "
							"(Kerberos) as %s%s\n",
							p->name, p->spn[0] ?
							p->spn : "HTTP/",
							p->spn[0] ? "" :
							p->url.host);
		}
	}
	return off < n ? off : n;
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
		for (i = 0; i < d.rule->nchain && off < sizeof(chain); i++) {
			const struct cfg_proxy *p = &cfg->proxies[d.rule->chain[i]];
			const struct cfg_group *g = cfg_hop_group(cfg, d.rule, i);

			last = &p->url;
			if (g != NULL) {
				off += explain_group(cfg, g, i > 0, chain + off,
						     sizeof(chain) - off);
				continue;
			}
			url_redact(&p->url, u, sizeof(u));
			off += (size_t)snprintf(chain + off, sizeof(chain) - off,
						"%s%s %s", i ? " > " : "",
						p->name, u);
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
		off += (size_t)snprintf(out + off, n - off, "  dns: %s\n",
					dns);
	}
	if (off < n && d.action == CFG_VIA)
		off += explain_health(cfg, d.rule, out + off, n - off);
	if (off < n && d.action == CFG_VIA) {
		const char *unfit = cfg_udp_unfit(cfg, d.rule);

		snprintf(out + off, n - off, "  udp: %s\n", unfit != NULL ?
			 unfit : "through the proxy's UDP relay (SOCKS5 UDP "
			 "ASSOCIATE)");
	}
	if (d.rule != NULL && d.rule->pp_version != 0)
		explain_pp(d.rule, host, port,
			   !is_addr && last != NULL && url_remote_dns(last),
			   out, n);
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
	    (byaddr.rule == NULL || byname.index < byaddr.index))
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
