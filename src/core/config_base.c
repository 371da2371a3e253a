/*
 * config_base.c - what every part of the rule-file parser uses
 * (config_int.h): recording an error, growing an array, the arena the
 * rules live in, finding a proxy or a group by name.  config.c, config_rule.c, config_group.c and
 * config_dest.c call down into it; it calls nothing of theirs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config_int.h"

void
cfg_err(struct cfg_parser *p, const char *fmt, ...)
{
	char msg[CFG_MSG_MAX], full[CFG_MSG_MAX + 128];
	char esc[CFG_MSG_MAX + 128];
	va_list ap;

	p->cfg->nerrs++;
	if (p->nerrs >= CFG_ERR_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->line > 0)
		snprintf(full, sizeof(full), "%s:%d: %s", p->cfg->file,
			 p->line, msg);
	else
		snprintf(full, sizeof(full), "%s: %s", p->origin, msg);
	/* tokens of the file are quoted in the text: no raw control byte
	 * (a CR/LF forging a line, an ANSI escape) reaches a terminal */
	buf_escape(full, esc, sizeof(esc));
	p->errs[p->nerrs].line = p->line;
	p->errs[p->nerrs].msg = strdup(esc);
	if (p->errs[p->nerrs].msg == NULL)
		p->oom = true;
	else
		p->nerrs++;
}

/* Append a parser's errors to cfg->errs, keeping at most CFG_ERR_MAX. */
void
cfg_flush_errs(struct config *cfg, struct cfg_parser *p)
{
	size_t i;

	for (i = 0; i < p->nerrs; i++) {
		size_t n = 0;

		while (n < CFG_ERR_MAX && cfg->errs[n] != NULL)
			n++;
		if (n < CFG_ERR_MAX)
			cfg->errs[n] = p->errs[i].msg;
		else
			free(p->errs[i].msg);
	}
	p->nerrs = 0;
}

/*
 * The arena: a rule file of 100,000 rules would otherwise take 300,000
 * mallocs (each rule's destinations, their names and its text) and as
 * many frees.  Chunks of CFG_CHUNK bytes, bumped; a request of more
 * than a quarter of that gets a chunk of its own, put behind the
 * current one, which keeps its room.
 */
#define CFG_CHUNK (64 * 1024)

struct cfg_chunk {
	struct cfg_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

static void *
cfg_bump(struct config *cfg, size_t n, size_t align)
{
	struct cfg_chunk *c = cfg->arena, *fresh;
	size_t at = c != NULL ? (c->used + align - 1) & ~(align - 1) : 0, cap;

	if (c != NULL && at <= c->cap && n <= c->cap - at) {
		c->used = at + n;
		return (char *)c->data + at;
	}
	cap = n > CFG_CHUNK / 4 ? n : CFG_CHUNK - sizeof(*c);
	if (cap > SIZE_MAX - sizeof(*c) ||
	    (fresh = malloc(sizeof(*c) + cap)) == NULL)
		return NULL;
	fresh->next = NULL;
	fresh->cap = cap;
	fresh->used = n;
	if (cap == n && c != NULL) {
		fresh->next = c->next;
		c->next = fresh;
	} else {
		fresh->next = c;
		cfg->arena = fresh;
	}
	return fresh->data;
}

void *
cfg_alloc(struct config *cfg, size_t n)
{
	return cfg_bump(cfg, n, _Alignof(max_align_t));
}

char *
cfg_strndup(struct config *cfg, const char *s, size_t len)
{
	char *d = len < SIZE_MAX ? cfg_bump(cfg, len + 1, 1) : NULL;

	if (d != NULL) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

void
cfg_arena_free(struct config *cfg)
{
	struct cfg_chunk *c;

	while ((c = cfg->arena) != NULL) {
		cfg->arena = c->next;
		free(c);
	}
}

bool
cfg_grow(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t ncap;
	void *n;

	if (need <= *cap)
		return true;
	ncap = *cap != 0 ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	n = reallocarray(*arr, ncap, size);
	if (n == NULL)
		return false;
	*arr = n;
	*cap = ncap;
	return true;
}

int
cfg_find_proxy(const struct config *cfg, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < cfg->nproxies; i++)
		if (strlen(cfg->proxies[i].name) == len &&
		    memcmp(cfg->proxies[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

int
cfg_find_group(const struct config *cfg, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < cfg->ngroups; i++)
		if (strlen(cfg->groups[i].name) == len &&
		    memcmp(cfg->groups[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

bool
cfg_name_ok(const char *s)
{
	size_t i, len = strlen(s);

	if (len == 0 || len >= CFG_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}
