/*
 * config.c - the rule file parsed into an immutable struct config.
 *
 * One statement per line; '#' starts a comment anywhere.  Every error is
 * recorded as "file:line: message" and parsing goes on (OpenBSD parse.y),
 * so a user sees all mistakes at once; the caller decides what to do.
 *
 * Proxies and groups may be used before the line that defines them:
 * `proxy` lines are read in a first pass, `group` lines (which name
 * proxies) in a second, everything else in a third, and the passes' error
 * lists are merged by line so messages still come out in file order.
 * The destinations are parsed in config_dest.c, the rule statements and
 * their options in config_rule.c (shared parts: config_int.h).
 *
 * Pure: the file is read by cfg_load (src/base/cfgload.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

#define CFG_TIMEOUT_MAX_MS 600000

/* Define proxy `name`; records an error and returns -1 when it cannot. */
static int
cfg_add_proxy(struct cfg_parser *p, const char *name, const char *url,
	      size_t *cap)
{
	struct config *cfg = p->cfg;
	struct cfg_proxy *px;
	const char *err;
	bool bad = false;
	size_t i;
	int dup;

	if (!cfg_name_ok(name)) {
		cfg_err(p, "bad proxy name '%.*s' (letters, digits, '-', '_',"
			" '.')", CFG_NAME_MAX, name);
		return -1;
	}
	dup = cfg_find_proxy(cfg, name, strlen(name));
	if (dup >= 0) {
		if (cfg->proxies[dup].line > 0)
			cfg_err(p, "proxy '%s' already defined at line %d",
				name, cfg->proxies[dup].line);
		else
			cfg_err(p, "proxy '%s' already defined", name);
		return -1;
	}
	if (!cfg_grow((void **)&cfg->proxies, cap, cfg->nproxies + 1,
		      sizeof(*cfg->proxies))) {
		p->oom = true;
		return -1;
	}
	px = &cfg->proxies[cfg->nproxies];
	memset(px, 0, sizeof(*px));
	/* The URL text may hold a password: messages name the proxy, never
	 * the URL. */
	if (url_parse(url, strlen(url), &px->url, &err) != 0) {
		explicit_bzero(&px->url, sizeof(px->url));
		cfg_err(p, "bad URL for proxy '%s': %s", name, err);
		return -1;
	}
	memcpy(px->name, name, strlen(name) + 1);
	px->line = p->line;
	/* options after the URL (the file's proxy lines only) */
	for (i = 3; p->line > 0 && i < p->ntok; i++)
		if (cfg_proxy_option(p, p->tok[i], px) != 0)
			bad = true;
	if (!bad && cfg_proxy_check(p, px) != 0)
		bad = true;
	if (bad) {
		explicit_bzero(px, sizeof(*px));
		return -1;
	}
	cfg->nproxies++;
	return 0;
}

/*
 * "ms" or "s" (or nothing: seconds) after a decimal number; 1 ms..600 s.
 */
static void
cfg_timeout(struct cfg_parser *p)
{
	const char *s = p->tok[1];
	unsigned long long v = 0;
	size_t i;

	for (i = 0; s[i] >= '0' && s[i] <= '9' && i < 12; i++)
		v = v * 10 + (unsigned long long)(s[i] - '0');
	if (i == 0 || (s[i] >= '0' && s[i] <= '9'))
		goto bad;
	if (strcmp(s + i, "s") == 0 || s[i] == '\0')
		v *= 1000;
	else if (strcmp(s + i, "ms") != 0)
		goto bad;
	if (v < 1 || v > CFG_TIMEOUT_MAX_MS)
		goto bad;
	p->cfg->connect_timeout_ms = (int)v;
	return;
bad:
	cfg_err(p, "bad connect_timeout '%s' (use 1ms..600s)", s);
}

/*
 * fake_pool CIDR [CIDR]: where fake addresses for remotely resolved names
 * come from (fakedns.c): at most one IPv4 prefix (/1../30) and one IPv6
 * prefix (/8../126).  Multicast would confuse programs that check it.
 */
static void
cfg_fake_pool(struct cfg_parser *p)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	uint8_t a[16];
	int fam, seen = 0;
	size_t i;
	size_t off = 0;
	long n;

	if (p->ntok < 2 || p->ntok > 3) {
		cfg_err(p, "fake_pool: expected an IPv4 and/or an IPv6 prefix");
		return;
	}
	for (i = 1; i < p->ntok; i++) {
		if (strlen(p->tok[i]) >= sizeof(buf))
			goto bad;
		memcpy(buf, p->tok[i], strlen(p->tok[i]) + 1);
		slash = strchr(buf, '/');
		if (slash == NULL)
			goto bad;
		*slash = '\0';
		n = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end != '\0')
			goto bad;
		if (inet_pton(AF_INET, buf, a) == 1)
			fam = 1;
		else if (inet_pton(AF_INET6, buf, a) == 1)
			fam = 2;
		else
			goto bad;
		if ((fam == 1 && (n < 1 || n > 30 || (a[0] & 0xf0) == 0xe0)) ||
		    (fam == 2 && (n < 8 || n > 126 || a[0] == 0xff)) ||
		    (seen & fam))
			goto bad;
		seen |= fam;
		off += (size_t)snprintf(p->cfg->fake_pool + off,
					sizeof(p->cfg->fake_pool) - off, "%s%s",
					off ? " " : "", p->tok[i]);
	}
	return;
bad:
	p->cfg->fake_pool[0] = '\0';
	cfg_err(p, "bad fake_pool '%.64s' (want one IPv4 /1../30 and/or one "
		"IPv6 /8../126 prefix, not multicast)", p->tok[i]);
}

/* Whether the line holds a NUL byte: reported once, in the first pass. */
static bool
cfg_has_nul(struct cfg_parser *p, const char *line, size_t len)
{
	if (memchr(line, '\0', len) == NULL)
		return false;
	if (p->pass == CFG_PASS_PROXIES)
		cfg_err(p, "NUL byte in line");
	return true;
}

/* Split line[0..len) into p->tok, cutting comments.  The words point into
 * `buf`, a writable copy of the line. */
static int
cfg_split(struct cfg_parser *p, char *buf, const char *line, size_t len)
{
	char *s, *hash;

	if (cfg_has_nul(p, line, len))
		return -1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	hash = strchr(buf, '#');
	if (hash != NULL) {
		/* A '#' glued to a word on a proxy line is almost always part
		 * of a password: it would silently cut the URL short. */
		if (p->pass == CFG_PASS_PROXIES && hash > buf &&
		    strncmp(buf, "proxy", 5) == 0 &&
		    !cfg_blank(hash[-1]))
			cfg_err(p, "'#' starts a comment: write it as %%23 "
				"inside a URL");
		*hash = '\0';
	}
	p->ntok = 0;
	s = buf;
	for (;;) {
		while (cfg_blank(*s))
			s++;
		if (*s == '\0')
			break;
		if (!cfg_grow((void **)&p->tok, &p->tokcap, p->ntok + 1,
			      sizeof(*p->tok))) {
			p->oom = true;
			return -1;
		}
		p->tok[p->ntok++] = s;
		while (*s != '\0' && !cfg_blank(*s))
			s++;
		if (*s != '\0')
			*s++ = '\0';
	}
	return 0;
}

/* Counts of the arrays being filled, kept outside struct config. */
struct cfg_caps {
	size_t proxies;
	size_t groups;
	size_t rules;
	size_t group_lines;	/* seen by the first pass */
};

/* allow_exec PATH...: each an absolute path. */
static void
cfg_allow_exec(struct cfg_parser *p)
{
	struct config *cfg = p->cfg;
	struct cfg_allow *n;
	size_t i;

	if (p->ntok < 2)
		cfg_err(p, "allow_exec: expected one or more absolute paths");
	for (i = 1; i < p->ntok; i++) {
		if (p->tok[i][0] != '/') {
			cfg_err(p, "allow_exec: '%.64s' is not an absolute path",
				p->tok[i]);
			continue;
		}
		n = reallocarray(cfg->allow_exec, cfg->nallow_exec + 1,
				 sizeof(*n));
		if (n == NULL) {
			p->oom = true;
			return;
		}
		cfg->allow_exec = n;
		n[cfg->nallow_exec].path = strdup(p->tok[i]);
		if (n[cfg->nallow_exec].path == NULL) {
			p->oom = true;
			return;
		}
		n[cfg->nallow_exec++].line = p->line;
	}
}

/* log PATH: the audit log, an absolute path; the last one wins.  log
 * syslog [SOCKET]: the events to syslog too (the socket's path absolute,
 * /dev/log by default). */
static void
cfg_log(struct cfg_parser *p)
{
	if (p->ntok >= 2 && strcmp(p->tok[1], "syslog") == 0) {
		/* 108: sun_path's size (unix(7)), with its NUL */
		if (p->ntok > 3 || (p->ntok == 3 && (p->tok[2][0] != '/' ||
						     strlen(p->tok[2]) >= 108))) {
			cfg_err(p, "log syslog: expected nothing or the "
				"socket's absolute path (under 108 bytes)");
			return;
		}
		free(p->cfg->syslog);
		p->cfg->syslog = strdup(p->ntok == 3 ? p->tok[2] : "/dev/log");
		if (p->cfg->syslog == NULL)
			p->oom = true;
		return;
	}
	if (p->ntok != 2 || p->tok[1][0] != '/') {
		cfg_err(p, "log: expected one absolute path");
		return;
	}
	free(p->cfg->log);
	p->cfg->log = strdup(p->tok[1]);
	if (p->cfg->log == NULL)
		p->oom = true;
}

/* KEYWORD on|off */
static void
cfg_onoff(struct cfg_parser *p, bool *v)
{
	if (p->ntok == 2 && strcmp(p->tok[1], "on") == 0)
		*v = true;
	else if (p->ntok == 2 && strcmp(p->tok[1], "off") == 0)
		*v = false;
	else if (p->ntok == 2)
		cfg_err(p, "bad %s value '%.64s' (use on or off)", p->tok[0],
			p->tok[1]);
	else
		cfg_err(p, "%s: expected on or off", p->tok[0]);
}

/* One statement (p->tok) of its pass (CFG_PASS_*). */
static void
cfg_statement(struct cfg_parser *p, int pass, struct cfg_caps *caps)
{
	const char *kw = p->tok[0];

	if (strcmp(kw, "proxy") == 0) {
		if (pass != CFG_PASS_PROXIES)
			return;
		if (p->ntok < 3)
			cfg_err(p, "proxy: expected NAME URL [max_conns=N] "
				"[optimistic=on] [tfo=on] [auth=negotiate "
				"[spn=SERVICE/HOST]]");
		else
			cfg_add_proxy(p, p->tok[1], p->tok[2], &caps->proxies);
		return;
	}
	if (strcmp(kw, "group") == 0) {
		if (pass == CFG_PASS_GROUPS)
			cfg_group(p, &caps->groups);
		return;
	}
	if (pass != CFG_PASS_REST)
		return;
	if (strcmp(kw, "direct") == 0) {
		cfg_rule(p, CFG_DIRECT, &caps->rules);
	} else if (strcmp(kw, "block") == 0) {
		cfg_rule(p, CFG_BLOCK, &caps->rules);
	} else if (strcmp(kw, "via") == 0) {
		cfg_rule(p, CFG_VIA, &caps->rules);
	} else if (strcmp(kw, "connect_timeout") == 0) {
		if (p->ntok != 2)
			cfg_err(p, "connect_timeout: expected one value "
				"like 5s or 500ms");
		else
			cfg_timeout(p);
	} else if (strcmp(kw, "fake_pool") == 0) {
		cfg_fake_pool(p);
	} else if (strcmp(kw, "allow_exec") == 0) {
		cfg_allow_exec(p);
	} else if (strcmp(kw, "log") == 0) {
		cfg_log(p);
	} else if (strcmp(kw, "strict") == 0) {
		cfg_onoff(p, &p->cfg->strict);
	} else if (strcmp(kw, "sni_must_match") == 0) {
		cfg_onoff(p, &p->cfg->sni_must_match);
	} else {
		cfg_err(p, "unknown keyword '%.64s'", kw);
	}
}

/* What a line is, by its first word (as cfg_split cuts it, ended by a
 * blank or '#'): cfg_statement takes proxy lines in the first pass,
 * group lines in the second and the others in the last. */
enum cfg_line { LINE_EMPTY, LINE_PROXY, LINE_GROUP, LINE_OTHER };

static enum cfg_line
cfg_line_kind(const char *s, size_t len)
{
	size_t i = 0;
	bool five;

	while (i < len && cfg_blank(s[i]))
		i++;
	if (i == len || s[i] == '#')
		return LINE_EMPTY;
	s += i;
	len -= i;
	five = len == 5 || (len > 5 && (cfg_blank(s[5]) || s[5] == '#'));
	if (five && memcmp(s, "proxy", 5) == 0)
		return LINE_PROXY;
	if (five && memcmp(s, "group", 5) == 0)
		return LINE_GROUP;
	return LINE_OTHER;
}

/*
 * Run one pass over every line of text[0..len).  Only the pass's own
 * statements are copied and split: a rule file is mostly rules, which
 * the first two passes would otherwise cut into words to throw away.
 */
static void
cfg_pass(struct cfg_parser *p, int pass, const char *text, size_t len,
	 struct cfg_caps *caps)
{
	static const enum cfg_line mine[] = { [CFG_PASS_PROXIES] = LINE_PROXY,
		[CFG_PASS_GROUPS] = LINE_GROUP, [CFG_PASS_REST] = LINE_OTHER };
	char *buf = NULL;
	size_t off = 0, bufcap = 0;
	enum cfg_line k;

	p->line = 0;
	p->pass = pass;
	while (off < len && !p->oom) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t llen = nl != NULL ? (size_t)(nl - (text + off))
					 : len - off;

		p->line++;
		if (llen == 0) {
			/* nothing to split: a blank line, or a rule
			 * statement cut by cfg_strip_rules (a session's
			 * process reads a million of them) */
			off++;
			continue;
		}
		k = cfg_line_kind(text + off, llen);
		caps->group_lines += pass == CFG_PASS_PROXIES && k == LINE_GROUP;
		/* cfg_split's check of a '#' in a URL looks at "proxy..." */
		if (k != mine[pass] && !(pass == CFG_PASS_PROXIES && llen >= 5 &&
					 memcmp(text + off, "proxy", 5) == 0)) {
			/* the first pass checks every line */
			if (pass == CFG_PASS_PROXIES)
				(void)cfg_has_nul(p, text + off, llen);
			off += llen + 1;
			continue;
		}
		if (!cfg_grow((void **)&buf, &bufcap, llen + 1, 1)) {
			p->oom = true;
			break;
		}
		if (cfg_split(p, buf, text + off, llen) == 0 && p->ntok > 0)
			cfg_statement(p, pass, caps);
		off += llen + 1;
	}
	/* The copy may hold a proxy password. */
	if (buf != NULL)
		explicit_bzero(buf, bufcap);
	free(buf);
}

/* Merge the passes' error lists, each sorted by line, into cfg->errs. */
static void
cfg_merge_errs(struct config *cfg, struct cfg_parser **ps, size_t np)
{
	size_t at[CFG_PASS_REST] = { 0 }, i, n = 0;

	for (;;) {
		struct cfg_parser *best = NULL;
		size_t bi = 0;

		for (i = 0; i < np; i++)
			if (at[i] < ps[i]->nerrs &&
			    (best == NULL || ps[i]->errs[at[i]].line <
					     best->errs[at[bi]].line)) {
				best = ps[i];
				bi = i;
			}
		if (best == NULL)
			break;
		if (n < CFG_ERR_MAX)
			cfg->errs[n++] = best->errs[at[bi]].msg;
		else
			free(best->errs[at[bi]].msg);
		at[bi]++;
	}
	for (i = 0; i < np; i++)
		ps[i]->nerrs = 0;
}

struct config *
cfg_parse(const char *file, const char *text, size_t len)
{
	struct cfg_parser *ps[CFG_PASS_REST] = { NULL };
	struct cfg_caps caps = { 0, 0, 0, 0 };
	struct config *cfg;
	bool oom = false;
	size_t i;

	cfg = calloc(1, sizeof(*cfg));
	for (i = 0; i < CFG_PASS_REST; i++) {
		ps[i] = calloc(1, sizeof(*ps[i]));
		if (ps[i] == NULL)
			oom = true;
	}
	if (cfg == NULL || oom)
		goto nomem;
	cfg->connect_timeout_ms = CFG_TIMEOUT_DEFAULT_MS;
	cfg->file = strdup(file);
	cfg->errs = calloc(CFG_ERR_MAX, sizeof(*cfg->errs));
	if (cfg->file == NULL || cfg->errs == NULL)
		goto nomem;
	/* one parser a pass: each one's errors come in line order */
	for (i = 0; i < CFG_PASS_REST && !oom; i++) {
		ps[i]->cfg = cfg;
		ps[i]->origin = cfg->file;
		/* most files have no groups: no second pass to look for them */
		if (i + 1 == CFG_PASS_GROUPS && caps.group_lines == 0)
			continue;
		cfg_pass(ps[i], (int)i + 1, text, len, &caps);
		oom = ps[i]->oom;
	}
	cfg_merge_errs(cfg, ps, CFG_PASS_REST);
	for (i = 0; i < CFG_PASS_REST; i++) {
		free(ps[i]->tok);
		free(ps[i]);
	}
	if (oom) {
		cfg_free(cfg);
		return NULL;
	}
	return cfg;
nomem:
	for (i = 0; i < CFG_PASS_REST; i++)
		free(ps[i]);
	cfg_free(cfg);
	return NULL;
}

void
cfg_add_error(struct config *cfg, const char *origin, const char *msg)
{
	struct cfg_parser p;

	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	p.origin = origin;
	cfg_err(&p, "%s", msg);
	cfg_flush_errs(cfg, &p);
}

int
cfg_add_cli_proxies(struct config *cfg, const char *origin,
		    const char *const *urls, size_t n)
{
	struct cfg_parser p;
	struct cfg_rule rule;
	size_t pcap = cfg->nproxies, rcap = cfg->nrules, i;
	char name[CFG_NAME_MAX], text[16 + CFG_CHAIN_MAX * 8];
	size_t off;
	bool bad = false;

	memset(&p, 0, sizeof(p));
	memset(&rule, 0, sizeof(rule));
	p.cfg = cfg;
	p.origin = origin;
	if (n > CFG_CHAIN_MAX) {
		cfg_err(&p, "more than %d proxies in a chain", CFG_CHAIN_MAX);
		cfg_flush_errs(cfg, &p);
		return p.oom ? -ENOMEM : 0;
	}
	off = (size_t)snprintf(text, sizeof(text), "via ");
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "p%zu", i + 1);
		if (cfg_add_proxy(&p, name, urls[i], &pcap) != 0) {
			bad = true;
			continue;
		}
		rule.chain[rule.nchain++] = (int)cfg->nproxies - 1;
		off += (size_t)snprintf(text + off, sizeof(text) - off, "%s%s",
					i > 0 ? ">" : "", name);
	}
	cfg_flush_errs(cfg, &p);
	if (p.oom)
		return -ENOMEM;
	if (bad || n == 0)
		return 0;
	snprintf(text + off, sizeof(text) - off, " *");
	rule.action = CFG_VIA;
	rule.dests = cfg_alloc(cfg, sizeof(*rule.dests));
	rule.text = cfg_strndup(cfg, text, strlen(text));
	if (rule.dests == NULL || rule.text == NULL ||
	    !cfg_grow((void **)&cfg->rules, &rcap, cfg->nrules + 1,
		      sizeof(*cfg->rules)))
		return -ENOMEM;
	memset(rule.dests, 0, sizeof(*rule.dests));
	rule.dests[0].kind = DEST_ANY;
	rule.dests[0].port_hi = 65535;
	rule.ndests = 1;
	cfg->rules[cfg->nrules++] = rule;
	return 0;
}

void
cfg_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	if (cfg->proxies != NULL)
		explicit_bzero(cfg->proxies,
			       cfg->nproxies * sizeof(*cfg->proxies));
	free(cfg->proxies);
	free(cfg->groups);
	cfg_arena_free(cfg);	/* the rules' texts and destinations */
	free(cfg->rules);
	for (i = 0; i < cfg->nallow_exec; i++)
		free(cfg->allow_exec[i].path);
	free(cfg->allow_exec);
	free(cfg->log);
	free(cfg->syslog);
	for (i = 0; cfg->errs != NULL && i < CFG_ERR_MAX; i++)
		free(cfg->errs[i]);
	free(cfg->errs);
	free(cfg->file);
	free(cfg);
}
