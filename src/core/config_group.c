/*
 * config_group.c - the group statement: a name for several proxies, of
 * which a connection uses one, chosen by the group's mode and the
 * members' health (the shim's health.c).
 *
 *   group NAME PROXY... [mode=failover|round-robin|random]
 *
 * Groups are read in their own pass, after the proxies and before the
 * rules (config.c), so a group may name a proxy defined below it and a
 * rule may name a group defined below it.  A group holds proxies only,
 * never another group: a member is one proxy whose health and max_conns
 * count, and a nested group would make "the member that failed"
 * ambiguous.  Its members must agree on who resolves names (socks5://
 * resolves locally, socks5h:// and http:// leave it to the proxy), since
 * that is decided before a member is chosen, when the application calls
 * getaddrinfo.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

const char *
cfg_group_mode_str(enum cfg_group_mode m)
{
	switch (m) {
	case CFG_FAILOVER:
		return "failover";
	case CFG_ROUND_ROBIN:
		return "round-robin";
	case CFG_RANDOM:
		return "random";
	}
	return "?";
}

const struct cfg_group *
cfg_hop_group(const struct config *cfg, const struct cfg_rule *rule, int k)
{
	int g;

	if (k < 0 || k >= rule->nchain || k >= CFG_CHAIN_MAX)
		return NULL;
	g = rule->group[k] - 1;
	if (g < 0 || (size_t)g >= cfg->ngroups)
		return NULL;
	return &cfg->groups[g];
}

/* mode=...; -1 with an error recorded. */
static int
cfg_group_mode(struct cfg_parser *p, const char *tok, struct cfg_group *g)
{
	const char *eq = strchr(tok, '=');
	size_t klen = (size_t)(eq - tok);

	if (klen != sizeof("mode") - 1 || strncmp(tok, "mode", klen) != 0) {
		cfg_err(p, "group '%s': unknown option '%.*s' (known: mode)",
			g->name, (int)(klen > 64 ? 64 : klen), tok);
		return -1;
	}
	if (strcmp(eq + 1, "failover") == 0)
		g->mode = CFG_FAILOVER;
	else if (strcmp(eq + 1, "round-robin") == 0)
		g->mode = CFG_ROUND_ROBIN;
	else if (strcmp(eq + 1, "random") == 0)
		g->mode = CFG_RANDOM;
	else {
		cfg_err(p, "group '%s': bad mode '%.64s' (use failover, "
			"round-robin or random)", g->name, eq + 1);
		return -1;
	}
	return 0;
}

/* One member word; -1 with an error recorded. */
static int
cfg_group_member(struct cfg_parser *p, const char *tok, struct cfg_group *g)
{
	int idx = cfg_find_proxy(p->cfg, tok, strlen(tok)), i;

	if (idx < 0) {
		if (cfg_find_group(p->cfg, tok, strlen(tok)) >= 0 ||
		    strcmp(tok, g->name) == 0)
			cfg_err(p, "group '%s': '%.64s' is a group (a group "
				"holds proxies, not groups)", g->name, tok);
		else
			cfg_err(p, "group '%s': unknown proxy '%.64s'",
				g->name, tok);
		return -1;
	}
	for (i = 0; i < g->nmembers; i++)
		if (g->members[i] == idx) {
			cfg_err(p, "group '%s': proxy '%s' named twice",
				g->name, tok);
			return -1;
		}
	if (g->nmembers == CFG_GROUP_MAX) {
		cfg_err(p, "group '%s': more than %d proxies", g->name,
			CFG_GROUP_MAX);
		return -1;
	}
	g->members[g->nmembers++] = idx;
	return 0;
}

/* The name is free: no proxy, no other group has it. */
static int
cfg_group_name(struct cfg_parser *p, const char *name)
{
	int i;

	if (!cfg_name_ok(name)) {
		cfg_err(p, "bad group name '%.*s' (letters, digits, '-', '_',"
			" '.')", CFG_NAME_MAX, name);
		return -1;
	}
	i = cfg_find_proxy(p->cfg, name, strlen(name));
	if (i >= 0) {
		cfg_err(p, "group '%s': a proxy of that name is defined at "
			"line %d", name, p->cfg->proxies[i].line);
		return -1;
	}
	i = cfg_find_group(p->cfg, name, strlen(name));
	if (i >= 0) {
		cfg_err(p, "group '%s' already defined at line %d", name,
			p->cfg->groups[i].line);
		return -1;
	}
	return 0;
}

/* Members that resolve names and members that do not cannot mix. */
static int
cfg_group_dns_check(struct cfg_parser *p, const struct cfg_group *g)
{
	const struct cfg_proxy *first = &p->cfg->proxies[g->members[0]];
	int i;

	for (i = 1; i < g->nmembers; i++) {
		const struct cfg_proxy *m = &p->cfg->proxies[g->members[i]];

		if (url_remote_dns(&m->url) != url_remote_dns(&first->url)) {
			bool r = url_remote_dns(&first->url);

			cfg_err(p, "group '%s': '%s' %s, '%s' %s (members must "
				"agree: http:// or socks5h://, or socks5:// "
				"for all)", g->name, first->name,
				r ? "leaves names to the proxy"
				  : "resolves names locally first",
				m->name, r ? "resolves them locally first"
					   : "leaves them to the proxy");
			return -1;
		}
	}
	return 0;
}

void
cfg_group(struct cfg_parser *p, size_t *cap)
{
	struct config *cfg = p->cfg;
	struct cfg_group g;
	bool bad = false;
	size_t i;

	if (p->ntok < 3) {
		cfg_err(p, "group: expected NAME and one or more proxies");
		return;
	}
	memset(&g, 0, sizeof(g));
	g.line = p->line;
	if (cfg_group_name(p, p->tok[1]) != 0)
		return;
	memcpy(g.name, p->tok[1], strlen(p->tok[1]) + 1);
	for (i = 2; i < p->ntok; i++) {
		if (strchr(p->tok[i], '=') != NULL) {
			if (cfg_group_mode(p, p->tok[i], &g) != 0)
				bad = true;
		} else if (cfg_group_member(p, p->tok[i], &g) != 0) {
			bad = true;
		}
	}
	if (!bad && g.nmembers == 0) {
		cfg_err(p, "group '%s': no proxies", g.name);
		bad = true;
	}
	if (!bad && cfg_group_dns_check(p, &g) != 0)
		bad = true;
	if (!bad && cfg->ngroups == CFG_GROUPS_MAX) {
		cfg_err(p, "more than %d groups", CFG_GROUPS_MAX);
		bad = true;
	}
	if (bad)
		return;
	if (!cfg_grow((void **)&cfg->groups, cap, cfg->ngroups + 1,
		      sizeof(*cfg->groups))) {
		p->oom = true;
		return;
	}
	cfg->groups[cfg->ngroups++] = g;
}
