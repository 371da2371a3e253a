/*
 * config_int.h - what the rule-file parser's files share (config.c: the
 * statements and the passes; config_dest.c: destinations; config_rule.c:
 * rules, their chains and options; config_group.c: groups of proxies;
 * config_base.c: errors, arrays, proxy and group names, which the others
 * call down into).  Private to src/core/config*.c; the
 * interface is include/config.h.
 */
#ifndef PROXYWRAP_CONFIG_INT_H
#define PROXYWRAP_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define CFG_MSG_MAX 512

struct cfg_perr {
	int line;
	char *msg;
};

/* Proxies first, then groups (of proxies), then everything else: each
 * may name what the one before defines, wherever it stands in the file. */
#define CFG_PASS_PROXIES 1
#define CFG_PASS_GROUPS 2
#define CFG_PASS_REST 3

struct cfg_parser {
	struct config *cfg;
	const char *origin;	/* prefix of messages without a line */
	int line;		/* current line, 0 outside the file */
	struct cfg_perr errs[CFG_ERR_MAX];
	size_t nerrs;
	bool oom;
	int pass;		/* CFG_PASS_* */
	char **tok;		/* the current statement's words */
	size_t ntok, tokcap;
};

/* config_base.c */

/* Record "file:line: message" (or "origin: message" outside the file). */
void cfg_err(struct cfg_parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append a parser's errors to cfg->errs, keeping at most CFG_ERR_MAX. */
void cfg_flush_errs(struct config *cfg, struct cfg_parser *p);

static inline bool
cfg_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* n bytes, not cleared (aligned for any type), or a copy of s[0..len)
 * with a NUL, from cfg's arena: freed by cfg_free, never alone.  NULL
 * when out of memory. */
void *cfg_alloc(struct config *cfg, size_t n);
char *cfg_strndup(struct config *cfg, const char *s, size_t len);
/* Free the arena's chunks. */
void cfg_arena_free(struct config *cfg);

/* Grow *arr (of *cap elements of size bytes) to hold need; false on OOM. */
bool cfg_grow(void **arr, size_t *cap, size_t need, size_t size);

/* A proxy's or group's name: 1..CFG_NAME_MAX-1 letters, digits, '-',
 * '_', '.'. */
bool cfg_name_ok(const char *s);

/* The index of proxy name[0..len), or -1. */
int cfg_find_proxy(const struct config *cfg, const char *name, size_t len);

/* The index of group name[0..len), or -1. */
int cfg_find_group(const struct config *cfg, const char *name, size_t len);

/* config_proxy.c: one option word after a proxy line's URL (max_conns,
 * optimistic, tfo, auth, spn); 0, or -1 with the error recorded. */
int cfg_proxy_option(struct cfg_parser *p, const char *tok,
		     struct cfg_proxy *px);
/* The proxy's options agree with each other and its URL: 0, or -1. */
int cfg_proxy_check(struct cfg_parser *p, struct cfg_proxy *px);

/* config_group.c: the group statement in p->tok, appended to
 * p->cfg->groups (capacity *cap) unless it has errors. */
void cfg_group(struct cfg_parser *p, size_t *cap);

/* config_dest.c: one destination word into *d; 0, or -1 (error recorded). */
int cfg_parse_dest(struct cfg_parser *p, const char *tok, struct cfg_dest *d);

/* config_tls.c: an https proxy's option key=val (klen bytes of key);
 * 1 when key is not one of its options, 0 when set, -1 when wrong
 * (error recorded). */
int cfg_tls_option(struct cfg_parser *p, struct cfg_proxy *px,
		   const char *key, size_t klen, const char *val);

/* config_rule.c: the statement in p->tok as a rule of `action`, appended to
 * p->cfg->rules (capacity *cap) unless it has errors. */
void cfg_rule(struct cfg_parser *p, enum cfg_action action, size_t *cap);

#endif
