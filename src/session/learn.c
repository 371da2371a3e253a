/*
 * learn.c - --learn: the destinations a session used (its audit log) as a
 * rule file that allows exactly those, under strict on.
 *
 * Each destination keeps the action its rule gave it: the rule is found
 * again by its line (the event's rule.at) and its action, proxy chain and
 * options are kept, its destination patterns are not; a destination no
 * rule matched went direct.  Names are never widened into suffixes (a
 * suffix admits names the job never used); instead destinations with the
 * same action used by the same programs share one line, names under one
 * suffix next to each other, under a comment naming those programs and
 * how often.  A lookup without a port (gethostbyname) needs the name on
 * any port, so such a name is written without one.
 */
#include "learn.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn_int.h"
#include "summary.h"

struct learn *
learn_new(void)
{
	return calloc(1, sizeof(struct learn));
}

void
learn_free(struct learn *l)
{
	if (l == NULL)
		return;
	free(l->e);
	free(l);
}

/* A DNS name a rule can hold: letters, digits, '-', '_', dots between
 * labels.  Anything else came from the program and stays out. */
static bool
name_ok(const char *s)
{
	size_t len = strlen(s), i;

	if (len == 0 || len > 253 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] == '.' && s[i + 1] == '.')
			return false;
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
							  s[i] <= '9') ||
		      s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	}
	return true;
}

static struct learn_ent *
learn_ent(struct learn *l, const struct sum_ev *ev, const char *host,
	  int port, bool refused)
{
	struct learn_ent *e, *n;
	size_t i;

	for (i = 0; i < l->n; i++) {
		e = &l->e[i];
		if (e->port == port && e->refused == refused &&
		    strcmp(e->host, host) == 0 &&
		    strcmp(e->rule_at, ev->rule_at) == 0 &&
		    (ev->rule_at[0] != '\0' ||
		     strcmp(e->rule_text, ev->rule_text) == 0))
			return e;
	}
	if (l->n == l->cap) {
		n = reallocarray(l->e, l->cap ? l->cap * 2 : 64, sizeof(*n));
		if (n == NULL) {
			l->oom = true;
			return NULL;
		}
		l->e = n;
		l->cap = l->cap ? l->cap * 2 : 64;
	}
	e = &l->e[l->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->rule_at, sizeof(e->rule_at), "%s", ev->rule_at);
	snprintf(e->rule_text, sizeof(e->rule_text), "%s", ev->rule_text);
	snprintf(e->host, sizeof(e->host), "%s", host);
	e->port = port;
	e->refused = refused;
	return e;
}

static void
learn_use(struct learn_ent *e, const char *exe, bool conn)
{
	size_t i;

	for (i = 0; i < LEARN_EXES && e->exes[i].exe[0] != '\0'; i++)
		if (strcmp(e->exes[i].exe, exe) == 0)
			break;
	if (i == LEARN_EXES) {
		e->more += conn;
		return;
	}
	snprintf(e->exes[i].exe, sizeof(e->exes[i].exe), "%s", exe);
	e->exes[i].conns += conn;
}

void
learn_add(struct learn *l, const char *line, size_t len)
{
	struct sum_ev *ev = malloc(sizeof(*ev));
	char host[SUM_VAL_MAX], a[16];
	struct learn_ent *e;
	bool refused, conn;
	size_t i;
	int port;

	if (ev == NULL || !summary_parse(line, len, ev))
		goto out;
	conn = strcmp(ev->event, "connect") == 0 ||
	       strcmp(ev->event, "proxy-error") == 0;
	refused = strcmp(ev->event, "block") == 0 ||
		  (strcmp(ev->event, "resolve") == 0 &&
		   strcmp(ev->action, "block") == 0);
	if (!conn && !refused && strcmp(ev->event, "resolve") != 0)
		goto out;
	port = ev->port[0] >= '1' && ev->port[0] <= '9' ? atoi(ev->port) : -1;
	if (ev->name[0] != '\0') {
		for (i = 0; ev->name[i] != '\0' && i + 1 < sizeof(host); i++)
			host[i] = ev->name[i] >= 'A' && ev->name[i] <= 'Z' ?
				  (char)(ev->name[i] - 'A' + 'a') : ev->name[i];
		host[i] = '\0';
		if (i > 0 && host[i - 1] == '.')
			host[i - 1] = '\0';	/* "name." is the name */
		if (!name_ok(host)) {
			l->bad_names++;
			goto out;
		}
	} else if (inet_pton(AF_INET, ev->addr, a) == 1 ||
		   inet_pton(AF_INET6, ev->addr, a) == 1) {
		snprintf(host, sizeof(host), "%s", ev->addr);
	} else {
		goto out;
	}
	e = learn_ent(l, ev, host, port, refused);
	if (e != NULL)
		learn_use(e, ev->exe[0] != '\0' ? ev->exe : "?", conn);
out:
	free(ev);
}


void
learn_unstrict(char *text, size_t len)
{
	size_t off = 0, i, end;

	while (off < len) {
		for (end = off; end < len && text[end] != '\n'; end++)
			;
		for (i = off; i < end && (text[i] == ' ' || text[i] == '\t');
		     i++)
			;
		if (end - i >= 6 && memcmp(text + i, "strict", 6) == 0 &&
		    (i + 6 == end || text[i + 6] == ' ' || text[i + 6] == '\t' ||
		     text[i + 6] == '#'))
			memset(text + i, ' ', end - i);
		off = end + 1;
	}
}
