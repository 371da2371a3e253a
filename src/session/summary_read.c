/*
 * summary_read.c - one audit-log line (the shim's own JSON, log.c) read
 * into the fields --summary and --learn use: a small reader walks one
 * object, unescapes strings and keeps what sum_slot names.
 */
#include "summary.h"

#include <stdio.h>
#include <string.h>

#define SUM_DEPTH_MAX 4	/* the close event's tls.alert is at 3 */

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

	while (r->p < r->end && *r->p != ',' && *r->p != '}' &&
	       *r->p != ']' && *r->p != ' ')
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

/* Where the value of key (under parent, the key of the object it is in,
 * "" at the top) goes; NULL: not kept. */
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
	SLOT("", "proxy_tls", proxy_tls)
	SLOT("proxy_h2", "stream", h2_stream)
	SLOT("rule", "at", rule_at)
	SLOT("rule", "text", rule_text)
	SLOT("", "bytes_up", bytes_up)
	SLOT("", "bytes_down", bytes_down)
	SLOT("", "end", end)
	SLOT("tls", "outcome", tls)
	SLOT("alert", "description", alert)
#undef SLOT
	*n = 0;
	return NULL;
}

static bool sum_obj(struct sum_rd *r, struct sum_ev *ev,
		    const char *parent, int depth);

/* One value: an object, an array (skipped), a string or a word; into
 * slot when it is kept. */
static bool
sum_val(struct sum_rd *r, struct sum_ev *ev, const char *key, char *slot,
	size_t n, int depth)
{
	if (r->p < r->end && *r->p == '{')
		return sum_obj(r, ev, key, depth + 1);
	if (r->p < r->end && *r->p == '[') {
		if (depth >= SUM_DEPTH_MAX)
			return false;
		r->p++;
		for (;;) {
			sum_ws(r);
			if (r->p < r->end && *r->p == ']') {
				r->p++;
				return true;
			}
			if (!sum_val(r, ev, "[", NULL, 0, depth + 1))
				return false;
			sum_ws(r);
			if (r->p < r->end && *r->p == ',')
				r->p++;
			else if (r->p >= r->end || *r->p != ']')
				return false;
		}
	}
	if (r->p < r->end && *r->p == '"')
		return sum_str(r, slot, n);
	return sum_word(r, slot, n);
}

/* One object's members, at most SUM_DEPTH_MAX deep. */
static bool
sum_obj(struct sum_rd *r, struct sum_ev *ev, const char *parent, int depth)
{
	char key[32], *slot;
	size_t n;

	if (r->p >= r->end || *r->p != '{' || depth > SUM_DEPTH_MAX)
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
		if (!sum_val(r, ev, key, slot, n, depth))
			return false;
		sum_ws(r);
		if (r->p < r->end && *r->p == ',')
			r->p++;
		else if (r->p >= r->end || *r->p != '}')
			return false;
	}
}

bool
summary_parse(const char *line, size_t len, struct sum_ev *ev)
{
	struct sum_rd r = { line, line + len };

	memset(ev, 0, sizeof(*ev));
	sum_ws(&r);
	if (!sum_obj(&r, ev, "", 1) || ev->event[0] == '\0')
		return false;
	sum_ws(&r);
	return r.p == r.end;
}

void
summary_dest(const struct sum_ev *ev, char *out, size_t n)
{
	bool v6 = ev->name[0] == '\0' && strchr(ev->addr, ':') != NULL;

	snprintf(out, n, "%s%s%s%s%s", v6 && ev->port[0] != '\0' ? "[" : "",
		 ev->name[0] != '\0' ? ev->name : ev->addr,
		 v6 && ev->port[0] != '\0' ? "]" : "",
		 ev->port[0] != '\0' ? ":" : "", ev->port);
}
