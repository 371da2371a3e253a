/*
 * config_rule.c - the rule statements (direct, block, via): a via rule's
 * chain of proxies, the rule options (the PROXY protocol header's), and
 * what is asked of rules afterwards (cfg_action_str, cfg_udp_unfit,
 * cfg_strip_rules).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

const char *
cfg_udp_unfit(const struct config *cfg, const struct cfg_rule *rule)
{
	if (rule->nchain > 1)
		return "UDP cannot go through a chain of proxies";
	if (rule->nchain == 1 && rule->group[0] != 0)
		return "UDP cannot go through a group of proxies";
	if (rule->nchain == 1 &&
	    url_is_http(&cfg->proxies[rule->chain[0]].url))
		return "an HTTP CONNECT proxy cannot carry UDP";
	return NULL;
}

const char *
cfg_action_str(enum cfg_action a)
{
	switch (a) {
	case CFG_DIRECT:
		return "direct";
	case CFG_BLOCK:
		return "block";
	case CFG_VIA:
		return "via";
	}
	return "?";
}

/* "unknown proxy 'x' (defined: a, b)": the list is cut to fit. */
static void
cfg_err_unknown_proxy(struct cfg_parser *p, const char *name, size_t len)
{
	char names[256];
	size_t i, off = 0;

	names[0] = '\0';
	for (i = 0; i < p->cfg->nproxies; i++) {
		int n = snprintf(names + off, sizeof(names) - off, "%s%s",
				 i > 0 ? ", " : "", p->cfg->proxies[i].name);

		if (n < 0 || (size_t)n >= sizeof(names) - off) {
			names[off] = '\0';
			break;
		}
		off += (size_t)n;
	}
	if (len > 64)
		len = 64;
	if (p->cfg->nproxies == 0)
		cfg_err(p, "unknown proxy '%.*s' (no proxies defined)",
			(int)len, name);
	else
		cfg_err(p, "unknown proxy '%.*s' (defined: %s%s)", (int)len,
			name, names, i < p->cfg->nproxies ? ", ..." : "");
}

/* NAME[>NAME...] into rule->chain; -1 (error recorded) when wrong. */
static int
cfg_chain(struct cfg_parser *p, const char *s, struct cfg_rule *rule)
{
	int rc = 0;

	rule->nchain = 0;
	for (;;) {
		const char *gt = strchr(s, '>');
		size_t len = gt != NULL ? (size_t)(gt - s) : strlen(s);
		int idx, grp;

		if (len == 0) {
			cfg_err(p, "via: empty proxy name in '%s'", p->tok[1]);
			return -1;
		}
		if (rule->nchain == CFG_CHAIN_MAX) {
			cfg_err(p, "via: more than %d proxies in a chain",
				CFG_CHAIN_MAX);
			return -1;
		}
		idx = cfg_find_proxy(p->cfg, s, len);
		grp = idx < 0 ? cfg_find_group(p->cfg, s, len) : -1;
		if (grp >= 0) {
			/* the hop stands for the group; chain[] keeps a real
			 * proxy (its first member) for what asks of the hop
			 * before one is chosen */
			rule->group[rule->nchain] = grp + 1;
			idx = p->cfg->groups[grp].members[0];
		} else if (idx < 0) {
			cfg_err_unknown_proxy(p, s, len);
			rc = -1;
		} else if (rule->nchain > 0 &&
			   p->cfg->proxies[idx].url.scheme == URL_HTTPS) {
			/* the relay speaks TLS to a proxy it reaches itself */
			cfg_err(p, "via: https proxy '%.*s' can only be a "
				"chain's first hop", (int)len, s);
			rc = -1;
		}
		rule->chain[rule->nchain++] = idx;
		if (gt == NULL)
			break;
		s = gt + 1;
	}
	return rc;
}

/* The words joined by single blanks: the rule as shown in log lines (in
 * the arena). */
static char *
cfg_join(struct config *cfg, char *const *tok, size_t ntok)
{
	size_t i, len = 0;
	char *s, *o;

	for (i = 0; i < ntok; i++)
		len += strlen(tok[i]) + 1;
	s = cfg_alloc(cfg, len);
	if (s == NULL)
		return NULL;
	o = s;
	for (i = 0; i < ntok; i++) {
		size_t n = strlen(tok[i]);

		memcpy(o, tok[i], n);
		o += n;
		*o++ = i + 1 < ntok ? ' ' : '\0';
	}
	return s;
}

/* pp_source=ADDR:PORT or [V6]:PORT, port 0..65535. */
static int
cfg_pp_source(const char *v, struct cfg_rule *rule)
{
	char host[64];
	const char *colon, *h = v;
	size_t len;
	char *end;
	unsigned long port;

	if (v[0] == '[') {
		colon = strstr(v, "]:");
		h = v + 1;
		len = colon != NULL ? (size_t)(colon - h) : 0;
		colon = colon != NULL ? colon + 1 : NULL;
	} else {
		colon = strrchr(v, ':');
		len = colon != NULL ? (size_t)(colon - v) : 0;
	}
	if (colon == NULL || len == 0 || len >= sizeof(host) ||
	    colon[1] < '0' || colon[1] > '9')
		return -1;
	memcpy(host, h, len);
	host[len] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || errno != 0 || port > 65535)
		return -1;
	rule->pp_src_family = v[0] == '[' ? AF_INET6 : AF_INET;
	if (inet_pton(rule->pp_src_family, host, rule->pp_src) != 1)
		return -1;
	rule->pp_src_port = (uint16_t)port;
	return 0;
}

/* One rule option (a word with '='); -1 with an error recorded. */
static int
cfg_rule_option(struct cfg_parser *p, const char *tok, struct cfg_rule *rule)
{
	const char *eq = strchr(tok, '=');
	size_t klen = (size_t)(eq - tok);

	if (rule->action == CFG_BLOCK) {
		cfg_err(p, "block: options do not apply to a block rule: '%s'",
			tok);
		return -1;
	}
	if (klen == sizeof("proxy_protocol") - 1 &&
	    strncmp(tok, "proxy_protocol", klen) == 0) {
		if (strcmp(eq + 1, "v1") == 0) {
			rule->pp_version = 1;
		} else if (strcmp(eq + 1, "v2") == 0) {
			rule->pp_version = 2;
		} else {
			cfg_err(p, "proxy_protocol: '%s': expected v1 or v2",
				eq + 1);
			return -1;
		}
		return 0;
	}
	if (klen == sizeof("pp_source") - 1 &&
	    strncmp(tok, "pp_source", klen) == 0) {
		if (cfg_pp_source(eq + 1, rule) != 0) {
			cfg_err(p, "pp_source: '%s': expected ADDR:PORT or "
				"[V6]:PORT", eq + 1);
			return -1;
		}
		return 0;
	}
	cfg_err(p, "unknown option '%.*s' (known: proxy_protocol, pp_source)",
		(int)(klen > 64 ? 64 : klen), tok);
	return -1;
}

/*
 * v1 carries addresses only.  Names routed via a proxy that resolves them
 * (socks5h://, http://) reach the connect call as fake addresses, so a v1 rule
 * that can match such a name is refused here, at load, not at connect.
 */
static int
cfg_rule_pp_check(struct cfg_parser *p, const struct cfg_rule *rule)
{
	const struct cfg_proxy *last;
	size_t i;

	if (rule->pp_src_family != 0 && rule->pp_version == 0) {
		cfg_err(p, "pp_source needs proxy_protocol=v1 or v2");
		return -1;
	}
	if (rule->pp_version != 1 || rule->action != CFG_VIA ||
	    rule->nchain == 0 || rule->chain[rule->nchain - 1] < 0)
		return 0;
	last = &p->cfg->proxies[rule->chain[rule->nchain - 1]];
	if (!url_remote_dns(&last->url))
		return 0;
	for (i = 0; i < rule->ndests; i++) {
		if (rule->dests[i].kind != DEST_CIDR) {
			cfg_err(p, "proxy_protocol=v1 needs addresses, but "
				"names routed via '%s' are resolved by the "
				"proxy (use v2, which carries the name)",
				last->name);
			return -1;
		}
	}
	return 0;
}

/* direct/block/via: a rule with its destinations. */
void
cfg_rule(struct cfg_parser *p, enum cfg_action action, size_t *cap)
{
	struct config *cfg = p->cfg;
	struct cfg_rule rule;
	size_t first = action == CFG_VIA ? 2 : 1, i;
	bool bad = false;

	memset(&rule, 0, sizeof(rule));
	rule.action = action;
	rule.line = p->line;
	if (p->ntok <= first) {
		if (action == CFG_VIA && p->ntok < 2)
			cfg_err(p, "via: missing proxy name");
		else
			cfg_err(p, "%s: no destinations", p->tok[0]);
		return;
	}
	if (action == CFG_VIA && cfg_chain(p, p->tok[1], &rule) != 0)
		bad = true;
	/* each one cleared by cfg_parse_dest before it is filled */
	rule.dests = cfg_alloc(cfg, (p->ntok - first) * sizeof(*rule.dests));
	if (rule.dests == NULL) {
		p->oom = true;
		return;
	}
	for (i = first; i < p->ntok; i++) {
		if (strchr(p->tok[i], '=') != NULL) {
			if (cfg_rule_option(p, p->tok[i], &rule) != 0)
				bad = true;
		} else if (cfg_parse_dest(p, p->tok[i],
					  &rule.dests[rule.ndests]) == 0) {
			rule.ndests++;
		} else {
			bad = true;
		}
	}
	if (rule.ndests == 0 && !bad) {
		cfg_err(p, "%s: no destinations", p->tok[0]);
		bad = true;
	}
	if (!bad && cfg_rule_pp_check(p, &rule) != 0)
		bad = true;
	rule.text = cfg_join(cfg, p->tok, p->ntok);
	if (rule.text == NULL)
		p->oom = true;
	if (bad || p->oom || !cfg_grow((void **)&cfg->rules, cap,
				       cfg->nrules + 1, sizeof(*cfg->rules))) {
		/* A broken rule is dropped whole: its errors make the config
		 * unusable anyway, and half a rule must not match.  Its
		 * memory stays in the arena until cfg_free. */
		if (!bad)
			p->oom = true;
		return;
	}
	cfg->rules[cfg->nrules++] = rule;
}

/* The line's first word is a rule keyword. */
static bool
cfg_rule_line(const char *s, size_t len)
{
	static const char *const kw[] = { "direct", "block", "via" };
	size_t i = 0, w, k;

	while (i < len && cfg_blank(s[i]))
		i++;
	for (w = i; w < len && !cfg_blank(s[w]) && s[w] != '#'; w++)
		;
	for (k = 0; k < sizeof(kw) / sizeof(kw[0]); k++)
		if (w - i == strlen(kw[k]) && memcmp(s + i, kw[k], w - i) == 0)
			return true;
	return false;
}

char *
cfg_strip_rules(const char *text, size_t len, size_t *out_len)
{
	char *out = malloc(len + 1);
	size_t off = 0, o = 0, llen;
	const char *nl;

	if (out == NULL)
		return NULL;
	while (off < len) {
		nl = memchr(text + off, '\n', len - off);
		llen = nl != NULL ? (size_t)(nl - (text + off)) : len - off;
		if (!cfg_rule_line(text + off, llen)) {
			memcpy(out + o, text + off, llen);
			o += llen;
		}
		if (nl != NULL)
			out[o++] = '\n';
		off += llen + 1;
	}
	out[o] = '\0';
	*out_len = o;
	return out;
}
