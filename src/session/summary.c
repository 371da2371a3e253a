/*
 * summary.c - fold audit-log lines into the --summary table.  The lines
 * are the shim's own JSON (log.c): a small reader walks one object,
 * unescapes strings and keeps the few fields the table needs.
 */
#include "summary.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define SUM_VAL_MAX 520

/* The fields of one line that the table uses. */
struct sum_ev {
	char event[32], proto[8], exe[SUM_VAL_MAX], name[SUM_VAL_MAX];
	char addr[64], port[8], action[16], proxy[80], outcome[40];
	char error[SUM_VAL_MAX], path[SUM_VAL_MAX];
};

struct sum_rd {
	const char *p, *end;
};

static void
sum_ws(struct sum_rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t'))
		r->p++;
}

/* A JSON string at r->p into out (cut to n - 1; \u escapes beyond ASCII
 * become '?').  False when malformed. */
static bool
sum_str(struct sum_rd *r, char *out, size_t n)
{
	size_t len = 0;
	char c;

	if (r->p >= r->end || *r->p != '"')
		return false;
	for (r->p++; r->p < r->end && *r->p != '"'; r->p++) {
		c = *r->p;
		if (c == '\\') {
			if (++r->p >= r->end)
				return false;
			switch (*r->p) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'u':
				if (r->end - r->p < 5)
					return false;
				c = '?';
				r->p += 4;
				break;
			default: c = *r->p; break;
			}
		}
		if (out != NULL && len + 1 < n)
			out[len++] = c;
	}
	if (out != NULL && n > 0)
		out[len] = '\0';
	if (r->p >= r->end)
		return false;
	r->p++;
	return true;
}

/* A number, true, false or null: copied as text. */
static bool
sum_word(struct sum_rd *r, char *out, size_t n)
{
	const char *s = r->p;
	size_t l;

	while (r->p < r->end && *r->p != ',' && *r->p != '}' && *r->p != ' ')
		r->p++;
	l = (size_t)(r->p - s);
	if (l == 0)
		return false;
	if (out != NULL && n > 0) {
		if (l >= n)
			l = n - 1;
		memcpy(out, s, l);
		out[l] = '\0';
		if (strcmp(out, "null") == 0)
			out[0] = '\0';
	}
	return true;
}

/* Where the value of key (under parent, "" at the top) goes. */
static char *
sum_slot(struct sum_ev *ev, const char *parent, const char *key, size_t *n)
{
#define SLOT(p, k, f)							\
	if (strcmp(parent, p) == 0 && strcmp(key, k) == 0) {		\
		*n = sizeof(ev->f);					\
		return ev->f;						\
	}
	SLOT("", "event", event)
	SLOT("", "proto", proto)
	SLOT("", "exe", exe)
	SLOT("", "path", path)
	SLOT("", "action", action)
	SLOT("", "outcome", outcome)
	SLOT("", "error", error)
	SLOT("dest", "name", name)
	SLOT("dest", "addr", addr)
	SLOT("dest", "port", port)
	SLOT("proxy", "name", proxy)
#undef SLOT
	*n = 0;
	return NULL;
}

/* One object's members (depth 1 or 2). */
static bool
sum_obj(struct sum_rd *r, struct sum_ev *ev, const char *parent, int depth)
{
	char key[32], *slot;
	size_t n;

	if (r->p >= r->end || *r->p != '{' || depth > 2)
		return false;
	r->p++;
	for (;;) {
		sum_ws(r);
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			return true;
		}
		if (!sum_str(r, key, sizeof(key)))
			return false;
		sum_ws(r);
		if (r->p >= r->end || *r->p != ':')
			return false;
		r->p++;
		sum_ws(r);
		slot = sum_slot(ev, parent, key, &n);
		if (r->p < r->end && *r->p == '{') {
			if (!sum_obj(r, ev, key, depth + 1))
				return false;
		} else if (r->p < r->end && *r->p == '"') {
			if (!sum_str(r, slot, n))
				return false;
		} else if (!sum_word(r, slot, n)) {
			return false;
		}
		sum_ws(r);
		if (r->p < r->end && *r->p == ',')
			r->p++;
		else if (r->p >= r->end || *r->p != '}')
			return false;
	}
}

void
summary_init(struct summary *s)
{
	memset(s, 0, sizeof(*s));
}

/* Count key in list (under group), adding a row if there is room. */
static void
sum_count(struct summary *s, struct sum_item *list, size_t *n,
	  const char *group, const char *key)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp(list[i].key, key) == 0 &&
		    strcmp(list[i].group, group) == 0) {
			list[i].count++;
			return;
		}
	if (*n == SUM_ITEMS_MAX) {
		s->dropped++;
		return;
	}
	snprintf(list[*n].key, sizeof(list[*n].key), "%s", key);
	snprintf(list[*n].group, sizeof(list[*n].group), "%s", group);
	list[(*n)++].count = 1;
}

void
summary_add(struct summary *s, const char *line, size_t len)
{
	struct sum_rd r = { line, line + len };
	struct sum_ev ev;
	char dest[SUM_KEY_MAX], key[SUM_KEY_MAX], group[80];
	const char *who;

	memset(&ev, 0, sizeof(ev));
	if (!sum_obj(&r, &ev, "", 1) || ev.event[0] == '\0') {
		s->bad_lines++;
		return;
	}
	snprintf(dest, sizeof(dest), "%s%s%s%s%s",
		 ev.name[0] != '\0' ? ev.name : ev.addr[0] != '\0' &&
		 strchr(ev.addr, ':') != NULL ? "[" : "",
		 ev.name[0] != '\0' ? "" : ev.addr,
		 ev.name[0] == '\0' && strchr(ev.addr, ':') != NULL ? "]" : "",
		 ev.port[0] != '\0' ? ":" : "", ev.port);
	who = ev.exe[0] != '\0' ? ev.exe : "?";
	if (strcmp(ev.event, "connect") == 0) {
		s->connects++;
		snprintf(group, sizeof(group), "%.15s%s%.60s", ev.action,
			 ev.proxy[0] != '\0' ? " " : "", ev.proxy);
		snprintf(key, sizeof(key), "%.590s/%s", dest, ev.proto);
		sum_count(s, s->dests, &s->ndests, group, key);
	} else if (strcmp(ev.event, "block") == 0 ||
		   strcmp(ev.event, "exec-refused") == 0 ||
		   (strcmp(ev.event, "resolve") == 0 &&
		    strcmp(ev.action, "block") == 0)) {
		s->blocks++;
		if (strcmp(ev.event, "exec-refused") == 0)
			snprintf(key, sizeof(key), "exec %.500s  by %.80s",
				 ev.path[0] != '\0' ? ev.path : "?", who);
		else
			snprintf(key, sizeof(key), "%.256s %s  by %.300s",
				 dest, strcmp(ev.event, "resolve") == 0 ?
				 "(name)" : ev.proto, who);
		sum_count(s, s->blocked, &s->nblocked, "", key);
	} else if (strcmp(ev.event, "proxy-error") == 0 ||
		   (ev.outcome[0] != '\0' && strcmp(ev.outcome, "ok") != 0)) {
		s->fails++;
		snprintf(key, sizeof(key), "%.256s via %.60s: %s %.200s", dest,
			 ev.proxy[0] != '\0' ? ev.proxy : ev.action,
			 ev.outcome, ev.error);
		sum_count(s, s->errors, &s->nerrors, "", key);
	}
}

/* The appending writer for summary_format. */
static void
sum_put(char *out, size_t n, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
sum_put(char *out, size_t n, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*len + 1 >= n)
		return;
	va_start(ap, fmt);
	w = vsnprintf(out + *len, n - *len, fmt, ap);
	va_end(ap);
	if (w > 0)
		*len += (size_t)w < n - *len ? (size_t)w : n - *len - 1;
}

#define SUM_SHOW 20	/* rows listed per section */

void
summary_format(const struct summary *s, char *out, size_t n)
{
	size_t len = 0, i, j, ndest;
	unsigned long conns;
	bool seen;

	if (n == 0)
		return;
	out[0] = '\0';
	sum_put(out, n, &len, "proxywrap: summary: %lu connection%s, %lu "
		"blocked, %lu error%s\n", s->connects,
		s->connects == 1 ? "" : "s", s->blocks, s->fails,
		s->fails == 1 ? "" : "s");
	/* one row per action: distinct destinations and connections */
	for (i = 0; i < s->ndests; i++) {
		seen = false;
		for (j = 0; j < i && !seen; j++)
			seen = strcmp(s->dests[j].group, s->dests[i].group) == 0;
		if (seen)
			continue;
		ndest = 0;
		conns = 0;
		for (j = i; j < s->ndests; j++) {
			if (strcmp(s->dests[j].group, s->dests[i].group) != 0)
				continue;
			ndest++;
			conns += s->dests[j].count;
		}
		sum_put(out, n, &len, "  %-16s %5zu destination%s %6lu "
			"connection%s\n", s->dests[i].group, ndest,
			ndest == 1 ? " " : "s", conns, conns == 1 ? "" : "s");
	}
	if (s->blocks > 0)
		sum_put(out, n, &len, "  %-16s %5lu attempt%s\n", "block",
			s->blocks, s->blocks == 1 ? "" : "s");
	if (s->nblocked > 0)
		sum_put(out, n, &len, "blocked:\n");
	for (i = 0; i < s->nblocked && i < SUM_SHOW; i++)
		sum_put(out, n, &len, "  %s  (%lux)\n", s->blocked[i].key,
			s->blocked[i].count);
	if (s->nerrors > 0)
		sum_put(out, n, &len, "errors:\n");
	for (i = 0; i < s->nerrors && i < SUM_SHOW; i++)
		sum_put(out, n, &len, "  %s  (%lux)\n", s->errors[i].key,
			s->errors[i].count);
	if (s->nblocked > SUM_SHOW || s->nerrors > SUM_SHOW || s->dropped)
		sum_put(out, n, &len, "  (more rows in the audit log)\n");
	if (s->bad_lines > 0)
		sum_put(out, n, &len, "  %lu line%s of the log not understood\n",
			s->bad_lines, s->bad_lines == 1 ? "" : "s");
}
