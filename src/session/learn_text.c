/*
 * learn_text.c - the rule file --learn writes (learn.h): the destinations
 * learn.c collected, each under the head of the rule that decided it (its
 * action, chain and options), grouped into lines of destinations the same
 * programs used, the proxies and groups those lines name copied from the
 * session's configuration, the refusals as comments.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn_int.h"

/* A growing text buffer; oom set when it cannot grow. */
struct ltext {
	char *s;
	size_t len, cap;
	bool oom;
};

static void
lt_put(struct ltext *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
lt_put(struct ltext *t, const char *fmt, ...)
{
	va_list ap;
	size_t need;
	char *n;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (r < 0 || t->oom)
		return;
	need = t->len + (size_t)r + 1;
	if (need > t->cap) {
		n = realloc(t->s, need * 2);
		if (n == NULL) {
			t->oom = true;
			return;
		}
		t->s = n;
		t->cap = need * 2;
	}
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->len += (size_t)r;
}

/* A program's path in a comment: one line, nothing that ends it. */
static void
lt_comment_str(struct ltext *t, const char *s)
{
	for (; *s != '\0'; s++)
		lt_put(t, "%c", (unsigned char)*s < 0x20 || *s == 0x7f ? '?'
								      : *s);
}

/* The rule of an event: by its line in cfg ("file:12", "-p": line 0). */
static const struct cfg_rule *
learn_rule(const struct config *cfg, const char *at)
{
	const char *colon = strrchr(at, ':');
	long line;
	size_t i;

	if (at[0] == '\0')
		return NULL;
	line = strcmp(at, "-p") == 0 ? 0 : colon != NULL ? atol(colon + 1) : -1;
	for (i = 0; i < cfg->nrules; i++)
		if (cfg->rules[i].line == line)
			return &cfg->rules[i];
	return NULL;
}

/*
 * What a kept line starts with: the rule's action, its chain (via) and
 * its options (words with '='), not its destinations; "direct" where no
 * rule matched (strict off).  False for what needs no rule (loopback) or
 * nothing should allow (a broken configuration's refusals).
 */
static bool
learn_head(const struct config *cfg, const struct learn_ent *e, char *buf,
	   size_t n)
{
	const struct cfg_rule *r = learn_rule(cfg, e->rule_at);
	char text[LEARN_HEAD_MAX * 2], *w, *save = NULL;
	bool via = false;
	size_t len = 0;
	int i = 0;

	if (e->rule_at[0] == '\0') {
		if (strcmp(e->rule_text, "no rule matched") != 0)
			return false;
		snprintf(buf, n, "direct");
		return true;
	}
	snprintf(text, sizeof(text), "%s", r != NULL ? r->text : e->rule_text);
	buf[0] = '\0';
	for (w = strtok_r(text, " \t", &save); w != NULL;
	     w = strtok_r(NULL, " \t", &save), i++) {
		if (i == 0 && strcmp(w, "direct") != 0 && strcmp(w, "via") != 0)
			return false;
		if (i == 0)
			via = strcmp(w, "via") == 0;
		if (i == 0 || (i == 1 && via) ||
		    strchr(w, '=') != NULL)
			len += (size_t)snprintf(buf + len, len < n ? n - len : 0,
						"%s%s", len > 0 ? " " : "", w);
	}
	return len > 0 && len < n;
}

static void
url_enc(struct ltext *t, const char *s)
{
	for (; *s != '\0'; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("-._~", *s) != NULL)
			lt_put(t, "%c", *s);
		else
			lt_put(t, "%%%02X", (unsigned char)*s);
	}
}

static void
put_proxy(struct ltext *t, const struct cfg_proxy *px)
{
	const struct proxy_url *u = &px->url;

	lt_put(t, "proxy %s %s://", px->name, url_scheme_str(u->scheme));
	if (u->has_auth) {
		url_enc(t, u->user);
		if (u->pass[0] != '\0') {
			lt_put(t, ":");
			url_enc(t, u->pass);
		}
		lt_put(t, "@");
	}
	lt_put(t, strchr(u->host, ':') != NULL ? "[%s]:%u" : "%s:%u", u->host,
	       u->port);
	if (px->max_conns > 0)
		lt_put(t, " max_conns=%d", px->max_conns);
	if (px->optimistic)
		lt_put(t, " optimistic=on");
	if (px->tfo)
		lt_put(t, " tfo=on");
	if (px->auth == CFG_AUTH_NEGOTIATE)
		lt_put(t, " auth=negotiate");
	if (px->spn[0] != '\0')
		lt_put(t, " spn=%s", px->spn);
	lt_put(t, "\n");
}

static const char *const group_mode[] = { "failover", "round-robin",
					  "random" };

/* The proxies and groups a head's chain names ("via a>grp ..."), each
 * once (done[]: proxies, then groups). */
static void
put_chain(struct ltext *t, const struct config *cfg, const char *head,
	  bool *done)
{
	char chain[LEARN_HEAD_MAX], *w, *sp, *save = NULL;
	const struct cfg_group *g;
	size_t i;
	int m;

	if (strncmp(head, "via ", 4) != 0)
		return;
	snprintf(chain, sizeof(chain), "%s", head + 4);
	sp = strchr(chain, ' ');
	if (sp != NULL)
		*sp = '\0';
	for (w = strtok_r(chain, ">", &save); w != NULL;
	     w = strtok_r(NULL, ">", &save)) {
		for (i = 0; i < cfg->ngroups; i++) {
			g = &cfg->groups[i];
			if (strcmp(g->name, w) != 0 || done[cfg->nproxies + i])
				continue;
			done[cfg->nproxies + i] = true;
			for (m = 0; m < g->nmembers; m++)
				if (!done[g->members[m]]) {
					done[g->members[m]] = true;
					put_proxy(t, &cfg->proxies[g->members[m]]);
				}
			lt_put(t, "group %s", g->name);
			for (m = 0; m < g->nmembers; m++)
				lt_put(t, " %s", cfg->proxies[g->members[m]].name);
			lt_put(t, " mode=%s\n", group_mode[g->mode]);
		}
		for (i = 0; i < cfg->nproxies; i++)
			if (strcmp(cfg->proxies[i].name, w) == 0 && !done[i]) {
				done[i] = true;
				put_proxy(t, &cfg->proxies[i]);
			}
	}
}

/* One destination of the file, with the programs that used it. */
struct litem {
	char head[LEARN_HEAD_MAX];
	char dest[SUM_VAL_MAX + 16];
	char key[SUM_VAL_MAX + 16];	/* labels reversed: suffixes sort */
	char sig[LEARN_EXES * LEARN_EXE_MAX];	/* its programs, sorted */
	struct learn_exe exes[LEARN_EXES];
	unsigned long more;
};

static void
rev_labels(const char *host, char *out, size_t n)
{
	size_t len = strlen(host), o = 0, end = len, i;

	if (strchr(host, ':') != NULL || inet_pton(AF_INET, host, out) == 1) {
		snprintf(out, n, "~%s", host);	/* addresses after names */
		return;
	}
	for (i = len; i-- > 0 && o + 1 < n;) {
		if (i == 0 || host[i - 1] == '.') {
			o += (size_t)snprintf(out + o, n - o, "%s%.*s",
					      o > 0 ? "." : "", (int)(end - i),
					      host + i);
			end = i > 0 ? i - 1 : 0;
		}
	}
	if (o == 0 && n > 0)
		out[0] = '\0';
}

static int
exe_cmp(const void *a, const void *b)
{
	return strcmp(((const struct learn_exe *)a)->exe,
		      ((const struct learn_exe *)b)->exe);
}

static int
item_cmp(const void *a, const void *b)
{
	const struct litem *x = a, *y = b;
	int c = strcmp(x->head, y->head);

	if (c == 0)
		c = strcmp(x->sig, y->sig);
	return c != 0 ? c : strcmp(x->key, y->key);
}

static void
item_merge(struct litem *it, const struct learn_ent *e)
{
	size_t i, j;

	it->more += e->more;
	for (i = 0; i < LEARN_EXES && e->exes[i].exe[0] != '\0'; i++) {
		for (j = 0; j < LEARN_EXES && it->exes[j].exe[0] != '\0'; j++)
			if (strcmp(it->exes[j].exe, e->exes[i].exe) == 0)
				break;
		if (j == LEARN_EXES) {
			it->more += e->exes[i].conns;
			continue;
		}
		it->exes[j] = (struct learn_exe){ .conns = it->exes[j].conns };
		snprintf(it->exes[j].exe, sizeof(it->exes[j].exe), "%s",
			 e->exes[i].exe);
		it->exes[j].conns += e->exes[i].conns;
	}
}

/* Whether a lookup without a port used host under head: then the name
 * is allowed on any port, and its ports need no rules of their own. */
static bool
any_port(const struct learn *l, const struct config *cfg, const char *head,
	 const char *host)
{
	char h[LEARN_HEAD_MAX];
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!l->e[i].refused && l->e[i].port == -1 &&
		    strcmp(l->e[i].host, host) == 0 &&
		    learn_head(cfg, &l->e[i], h, sizeof(h)) &&
		    strcmp(h, head) == 0)
			return true;
	return false;
}

/* The destinations to allow, merged per (head, destination), sorted. */
static struct litem *
learn_items(const struct learn *l, const struct config *cfg, size_t *np)
{
	struct litem *v = calloc(l->n + 1, sizeof(*v)), *it;
	char head[LEARN_HEAD_MAX], dest[sizeof(v->dest)];
	size_t n = 0, i, j, len;
	bool v6;

	if (v == NULL)
		return NULL;
	for (i = 0; i < l->n; i++) {
		const struct learn_ent *e = &l->e[i];

		if (e->refused || !learn_head(cfg, e, head, sizeof(head)))
			continue;
		v6 = strchr(e->host, ':') != NULL;
		if (e->port < 0 || any_port(l, cfg, head, e->host))
			snprintf(dest, sizeof(dest), "%s", e->host);
		else
			snprintf(dest, sizeof(dest), v6 ? "[%s]:%d" : "%s:%d",
				 e->host, e->port);
		for (j = 0; j < n; j++)
			if (strcmp(v[j].head, head) == 0 &&
			    strcmp(v[j].dest, dest) == 0)
				break;
		it = &v[j];
		if (j == n) {
			n++;
			snprintf(it->head, sizeof(it->head), "%s", head);
			snprintf(it->dest, sizeof(it->dest), "%s", dest);
			rev_labels(e->host, it->key, sizeof(it->key));
		}
		item_merge(it, e);
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < LEARN_EXES && v[i].exes[j].exe[0] != '\0'; j++)
			;
		qsort(v[i].exes, j, sizeof(v[i].exes[0]), exe_cmp);
		for (len = 0, j = 0; j < LEARN_EXES &&
				     v[i].exes[j].exe[0] != '\0'; j++)
			len += (size_t)snprintf(v[i].sig + len,
						sizeof(v[i].sig) - len, "%s\n",
						v[i].exes[j].exe);
	}
	qsort(v, n, sizeof(*v), item_cmp);
	*np = n;
	return v;
}

/* "# /usr/bin/curl 3x, /usr/bin/git 1x" over items[0..n). */
static void
put_users(struct ltext *t, const struct litem *items, size_t n)
{
	struct litem sum;
	size_t i, k;

	memset(&sum, 0, sizeof(sum));
	for (i = 0; i < n; i++) {
		sum.more += items[i].more;
		for (k = 0; k < LEARN_EXES && items[i].exes[k].exe[0]; k++) {
			if (sum.exes[k].exe[0] == '\0')
				snprintf(sum.exes[k].exe, sizeof(sum.exes[k].exe),
					 "%s", items[i].exes[k].exe);
			sum.exes[k].conns += items[i].exes[k].conns;
		}
	}
	lt_put(t, "#");
	for (k = 0; k < LEARN_EXES && sum.exes[k].exe[0] != '\0'; k++) {
		lt_put(t, "%s ", k > 0 ? "," : "");
		lt_comment_str(t, sum.exes[k].exe);
		if (sum.exes[k].conns > 0)
			lt_put(t, " %lux", sum.exes[k].conns);
		else
			lt_put(t, " (lookup only)");
	}
	if (sum.more > 0)
		lt_put(t, ", others %lux", sum.more);
	lt_put(t, "\n");
}

static void
put_refused(struct ltext *t, const struct learn *l)
{
	bool first = true;
	size_t i, k;

	for (i = 0; i < l->n; i++) {
		const struct learn_ent *e = &l->e[i];

		if (!e->refused)
			continue;
		if (first)
			lt_put(t, "\n# Refused during the run, and so under this "
				  "file:\n");
		first = false;
		lt_put(t, strchr(e->host, ':') != NULL && e->port >= 0 ?
			  "#   [%s]" : "#   %s", e->host);
		if (e->port >= 0)
			lt_put(t, ":%d", e->port);
		for (k = 0; k < LEARN_EXES && e->exes[k].exe[0] != '\0'; k++) {
			lt_put(t, k > 0 ? ", " : " by ");
			lt_comment_str(t, e->exes[k].exe);
		}
		lt_put(t, " (");
		lt_comment_str(t, e->rule_at);
		lt_put(t, "%s", e->rule_at[0] != '\0' ? " " : "");
		lt_comment_str(t, e->rule_text);
		lt_put(t, ")\n");
	}
}

char *
learn_text(const struct learn *l, const struct config *cfg, const char *cmd,
	   size_t *len)
{
	struct ltext t = { 0 };
	struct litem *v;
	bool *done;
	size_t n = 0, i, j;

	v = learn_items(l, cfg, &n);
	done = calloc(cfg->nproxies + cfg->ngroups + 1, sizeof(*done));
	if (v == NULL || done == NULL || l->oom)
		goto fail;
	lt_put(&t, "# Learned by proxywrap --learn from: ");
	lt_comment_str(&t, cmd);
	lt_put(&t, "\n# Exactly the destinations it used, each with the "
		   "action its rules gave it.\n# Run it again under this "
		   "file with: proxywrap --strict -c FILE ...\nstrict on\n");
	if (cfg->connect_timeout_ms != CFG_TIMEOUT_DEFAULT_MS)
		lt_put(&t, "connect_timeout %dms\n", cfg->connect_timeout_ms);
	if (cfg->fake_pool[0] != '\0')
		lt_put(&t, "fake_pool %s\n", cfg->fake_pool);
	for (i = 0; i < n; i++)
		if (i == 0 || strcmp(v[i].head, v[i - 1].head) != 0)
			put_chain(&t, cfg, v[i].head, done);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && j - i < LEARN_PER_LINE &&
				strcmp(v[j].head, v[i].head) == 0 &&
				strcmp(v[j].sig, v[i].sig) == 0; j++)
			;
		lt_put(&t, "\n");
		put_users(&t, v + i, j - i);
		lt_put(&t, "%s", v[i].head);
		for (size_t k = i; k < j; k++)
			lt_put(&t, " %s", v[k].dest);
		lt_put(&t, "\n");
	}
	put_refused(&t, l);
	if (l->bad_names > 0)
		lt_put(&t, "\n# %lu use%s of names that are not DNS names left "
			   "out (see the audit log)\n", l->bad_names,
		       l->bad_names == 1 ? "" : "s");
	if (t.oom)
		goto fail;
	free(v);
	free(done);
	*len = t.len;
	return t.s;
fail:
	free(v);
	free(done);
	free(t.s);
	return NULL;
}
