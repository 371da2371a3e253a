/*
 * summary.c - fold audit-log lines (read by summary_read.c) into the
 * --summary tables: the totals line, destinations per action, then one
 * row per destination, then blocked attempts by program and errors; as
 * text or as GitHub-flavoured markdown.
 */
#include "summary.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The row of key ("dest/proto"), made with group if new; NULL when full. */
static struct sum_dest *
sum_row(struct summary *s, const char *key, const char *group)
{
	struct sum_dest *d;
	size_t i;

	for (i = 0; i < s->nrows; i++)
		if (strcmp(s->rows[i].key, key) == 0)
			return &s->rows[i];
	if (s->nrows == SUM_ITEMS_MAX) {
		s->dropped++;
		return NULL;
	}
	d = &s->rows[s->nrows++];
	memset(d, 0, sizeof(*d));
	snprintf(d->key, sizeof(d->key), "%s", key);
	snprintf(d->group, sizeof(d->group), "%s", group);
	return d;
}

/* A close event's TLS outcome: "established" counts as good, "none" and
 * "unseen" (no TLS, or nothing to look at) not at all, the rest as a
 * failure with its reason. */
static void
sum_tls(struct sum_dest *d, const struct sum_ev *ev)
{
	char why[80];
	size_t i;

	if (strcmp(ev->tls, "established") == 0) {
		d->tls_ok++;
		return;
	}
	if (ev->tls[0] == '\0' || strcmp(ev->tls, "none") == 0 ||
	    strcmp(ev->tls, "unseen") == 0)
		return;
	d->tls_fail++;
	snprintf(why, sizeof(why), "%.20s%s%.56s", ev->tls,
		 ev->alert[0] != '\0' ? " " : "", ev->alert);
	for (i = 0; i < SUM_WHY_MAX && d->why[i].n > 0; i++)
		if (strcmp(d->why[i].why, why) == 0)
			break;
	if (i == SUM_WHY_MAX)
		return;		/* counted, reason not kept */
	snprintf(d->why[i].why, sizeof(d->why[i].why), "%s", why);
	d->why[i].n++;
}

static unsigned long long
sum_ull(const char *s)
{
	return s[0] >= '0' && s[0] <= '9' ? strtoull(s, NULL, 10) : 0;
}

static bool
is_block(const struct sum_ev *ev)
{
	return strcmp(ev->event, "block") == 0 ||
	       strcmp(ev->event, "exec-refused") == 0 ||
	       (strcmp(ev->event, "resolve") == 0 &&
		strcmp(ev->action, "block") == 0);
}

void
summary_add(struct summary *s, const char *line, size_t len)
{
	struct sum_ev *ev = malloc(sizeof(*ev));
	char dest[SUM_KEY_MAX], key[SUM_KEY_MAX], group[100];
	struct sum_dest *row = NULL;
	const char *who;

	if (ev == NULL || !summary_parse(line, len, ev)) {
		s->bad_lines++;
		free(ev);
		return;
	}
	/* one proxy of a group tried or passed over: the connect's own
	 * event (connect or proxy-error) counts it */
	if (strcmp(ev->event, "attempt") == 0 ||
	    strcmp(ev->event, "skip") == 0) {
		free(ev);
		return;
	}
	summary_dest(ev, dest, sizeof(dest));
	who = ev->exe[0] != '\0' ? ev->exe : "?";
	/* an https proxy's row says its TLS: "via corp (TLSv1.3)", and
	 * "(TLSv1.3, h2)" for streams of a shared HTTP/2 connection */
	snprintf(group, sizeof(group), "%.15s%s%.60s%s%.16s%s%s", ev->action,
		 ev->proxy[0] != '\0' ? " " : "", ev->proxy,
		 ev->proxy_tls[0] != '\0' ? " (" : "", ev->proxy_tls,
		 ev->h2_stream[0] != '\0' ? ", h2" : "",
		 ev->proxy_tls[0] != '\0' ? ")" : "");
	snprintf(key, sizeof(key), "%.590s/%s", dest, ev->proto);
	if (strcmp(ev->event, "exec-refused") != 0 &&
	    strcmp(ev->event, "exec-allowed") != 0 &&
	    (strcmp(ev->event, "resolve") != 0 || is_block(ev)))
		row = sum_row(s, key, group);
	if (strcmp(ev->event, "connect") == 0) {
		s->connects++;
		sum_count(s, s->dests, &s->ndests, group, key);
		if (row != NULL)
			row->conns++;
		if (row != NULL && ev->outcome[0] != '\0' &&
		    strcmp(ev->outcome, "ok") != 0)
			row->errors++;
		goto out;
	} else if (strcmp(ev->event, "close") == 0) {
		if (row != NULL) {
			row->closes++;
			row->up += sum_ull(ev->bytes_up);
			row->down += sum_ull(ev->bytes_down);
			sum_tls(row, ev);
		}
		goto out;	/* its outcome is the connect's, counted */
	} else if (is_block(ev)) {
		s->blocks++;
		if (row != NULL)
			row->blocked++;
		if (strcmp(ev->event, "exec-refused") == 0)
			snprintf(key, sizeof(key), "exec %.500s",
				 ev->path[0] != '\0' ? ev->path : "?");
		else
			snprintf(key, sizeof(key), "%.500s %s", dest,
				 strcmp(ev->event, "resolve") == 0 ?
				 "(name)" : ev->proto);
		sum_count(s, s->blocked, &s->nblocked, who, key);
		goto out;
	}
	if (strcmp(ev->event, "proxy-error") == 0 ||
	    (ev->outcome[0] != '\0' && strcmp(ev->outcome, "ok") != 0)) {
		s->fails++;
		if (row != NULL)
			row->errors++;
		snprintf(key, sizeof(key), "%.256s via %.60s: %s %.200s", dest,
			 ev->proxy[0] != '\0' ? ev->proxy : ev->action,
			 ev->outcome, ev->error);
		sum_count(s, s->errors, &s->nerrors, "", key);
	}
out:
	free(ev);
}
