/*
 * summary_fmt.c - the --summary tables as text (a CI log, a terminal) or
 * as GitHub-flavoured markdown (a job summary: `>> $GITHUB_STEP_SUMMARY`).
 * The first line of the text form is what scripts grep:
 *   proxywrap: summary: 3 connections, 1 blocked, 0 errors
 */
#include "summary.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUM_SHOW 20		/* rows listed per list section */
#define SUM_SHOW_DESTS 50	/* destination rows listed */

struct sw {
	char *out;
	size_t n, len;
};

static void
sw_put(struct sw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
sw_put(struct sw *w, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (w->len + 1 >= w->n)
		return;
	va_start(ap, fmt);
	r = vsnprintf(w->out + w->len, w->n - w->len, fmt, ap);
	va_end(ap);
	if (r > 0)
		w->len += (size_t)r < w->n - w->len ? (size_t)r
						    : w->n - w->len - 1;
}

static const char *
plural(unsigned long n)
{
	return n == 1 ? "" : "s";
}

/* 1023 B, 1.0 KiB, 64.0 MiB: what a person compares at a glance. */
static void
human_bytes(unsigned long long v, char *buf, size_t n)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	double x = (double)v;
	size_t u = 0;

	if (v < 1024) {
		snprintf(buf, n, "%llu B", v);
		return;
	}
	x /= 1024;
	while (x >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		x /= 1024;
		u++;
	}
	snprintf(buf, n, "%.1f %s", x, unit[u]);
}

/* "2 ok, 1 failed: alert protocol_version", or "-" without TLS seen. */
static void
tls_cell(const struct sum_dest *d, char *buf, size_t n)
{
	size_t len, i;

	if (d->tls_ok + d->tls_fail == 0) {
		snprintf(buf, n, "-");
		return;
	}
	snprintf(buf, n, "%lu ok", d->tls_ok);
	if (d->tls_fail == 0)
		return;
	len = strlen(buf);
	snprintf(buf + len, n - len, ", %lu failed:", d->tls_fail);
	for (i = 0; i < SUM_WHY_MAX && d->why[i].n > 0; i++) {
		len = strlen(buf);
		snprintf(buf + len, n - len, "%s %s %lux", i > 0 ? "," : "",
			 d->why[i].why, d->why[i].n);
	}
}

/* Most used first, then by name, so the table reads the same each run. */
static int
row_cmp(const void *a, const void *b)
{
	const struct sum_dest *x = *(const struct sum_dest *const *)a;
	const struct sum_dest *y = *(const struct sum_dest *const *)b;
	unsigned long nx = x->conns + x->blocked, ny = y->conns + y->blocked;

	if (nx != ny)
		return nx > ny ? -1 : 1;
	return strcmp(x->key, y->key);
}

static const struct sum_dest **
sorted_rows(const struct summary *s)
{
	const struct sum_dest **v = malloc((s->nrows + 1) * sizeof(*v));
	size_t i;

	if (v == NULL)
		return NULL;
	for (i = 0; i < s->nrows; i++)
		v[i] = &s->rows[i];
	qsort(v, s->nrows, sizeof(*v), row_cmp);
	return v;
}

/* One table cell's text: markdown's specials escaped, control bytes
 * (a name is the program's) shown as '?', never a '|' that splits it. */
static void
md_cell(const char *s, char *buf, size_t n)
{
	size_t len = 0;

	for (; *s != '\0' && len + 3 < n; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f) {
			buf[len++] = '?';
			continue;
		}
		if (strchr("\\|`*_<>[]~&#", *s) != NULL)
			buf[len++] = '\\';
		buf[len++] = *s;
	}
	buf[len] = '\0';
}

/* Destinations per action: "direct  2 destinations  5 connections". */
static void
text_actions(const struct summary *s, struct sw *w)
{
	unsigned long conns;
	size_t i, j, ndest;
	bool seen;

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
		sw_put(w, "  %-16s %5zu destination%s %6lu connection%s\n",
		       s->dests[i].group, ndest, ndest == 1 ? " " : "s", conns,
		       plural(conns));
	}
	if (s->blocks > 0)
		sw_put(w, "  %-16s %5lu attempt%s\n", "block", s->blocks,
		       plural(s->blocks));
}

static void
text_rows(const struct summary *s, struct sw *w)
{
	const struct sum_dest **v = sorted_rows(s), *d;
	char up[24], down[24], tls[512];
	size_t i;

	if (v == NULL || s->nrows == 0)
		goto done;
	sw_put(w, "destinations:\n  %-34s %-14s %5s %5s %5s %10s %10s  %s\n",
	       "DESTINATION", "ACTION", "CONN", "BLOCK", "ERR", "SENT",
	       "RECEIVED", "TLS");
	for (i = 0; i < s->nrows && i < SUM_SHOW_DESTS; i++) {
		d = v[i];
		human_bytes(d->up, up, sizeof(up));
		human_bytes(d->down, down, sizeof(down));
		tls_cell(d, tls, sizeof(tls));
		sw_put(w, "  %-34s %-14s %5lu %5lu %5lu %10s %10s  %s\n",
		       d->key, d->group, d->conns, d->blocked, d->errors,
		       d->closes > 0 ? up : "-", d->closes > 0 ? down : "-",
		       tls);
	}
	if (s->nrows > SUM_SHOW_DESTS)
		sw_put(w, "  (%zu more destinations in the audit log)\n",
		       s->nrows - SUM_SHOW_DESTS);
done:
	free(v);
}

static void
text_format(const struct summary *s, struct sw *w)
{
	size_t i;

	sw_put(w, "proxywrap: summary: %lu connection%s, %lu blocked, %lu "
	       "error%s\n", s->connects, plural(s->connects), s->blocks,
	       s->fails, plural(s->fails));
	text_actions(s, w);
	text_rows(s, w);
	if (s->nblocked > 0)
		sw_put(w, "blocked:\n");
	for (i = 0; i < s->nblocked && i < SUM_SHOW; i++)
		sw_put(w, "  %s  by %s  (%lux)\n", s->blocked[i].key,
		       s->blocked[i].group, s->blocked[i].count);
	if (s->nerrors > 0)
		sw_put(w, "errors:\n");
	for (i = 0; i < s->nerrors && i < SUM_SHOW; i++)
		sw_put(w, "  %s  (%lux)\n", s->errors[i].key,
		       s->errors[i].count);
	if (s->nblocked > SUM_SHOW || s->nerrors > SUM_SHOW || s->dropped)
		sw_put(w, "  (more rows in the audit log)\n");
	if (s->bad_lines > 0)
		sw_put(w, "  %lu line%s of the log not understood\n",
		       s->bad_lines, plural(s->bad_lines));
}

static void
md_rows(const struct summary *s, struct sw *w)
{
	const struct sum_dest **v = sorted_rows(s), *d;
	char up[24], down[24], tls[512], k[2 * SUM_KEY_MAX], g[200], t[1100];
	size_t i;

	if (v == NULL || s->nrows == 0)
		goto done;
	sw_put(w, "| Destination | Action | Connections | Sent | Received "
	       "| TLS | Blocked | Errors |\n"
	       "| :--- | :--- | ---: | ---: | ---: | :--- | ---: | ---: |\n");
	for (i = 0; i < s->nrows && i < SUM_SHOW_DESTS; i++) {
		d = v[i];
		human_bytes(d->up, up, sizeof(up));
		human_bytes(d->down, down, sizeof(down));
		tls_cell(d, tls, sizeof(tls));
		md_cell(d->key, k, sizeof(k));
		md_cell(d->group, g, sizeof(g));
		md_cell(tls, t, sizeof(t));
		sw_put(w, "| %s | %s | %lu | %s | %s | %s | %lu | %lu |\n", k,
		       g, d->conns, d->closes > 0 ? up : "-",
		       d->closes > 0 ? down : "-", t, d->blocked, d->errors);
	}
	if (s->nrows > SUM_SHOW_DESTS)
		sw_put(w, "\n%zu more destinations in the audit log.\n",
		       s->nrows - SUM_SHOW_DESTS);
	sw_put(w, "\n");
done:
	free(v);
}

static void
md_format(const struct summary *s, struct sw *w)
{
	char k[2 * SUM_KEY_MAX], g[2 * SUM_VAL_MAX];
	size_t i;

	sw_put(w, "### proxywrap: %lu connection%s, %lu blocked, %lu "
	       "error%s\n\n", s->connects, plural(s->connects), s->blocks,
	       s->fails, plural(s->fails));
	md_rows(s, w);
	if (s->nblocked > 0)
		sw_put(w, "**Blocked attempts by program**\n\n"
		       "| Destination | Program | Attempts |\n"
		       "| :--- | :--- | ---: |\n");
	for (i = 0; i < s->nblocked && i < SUM_SHOW; i++) {
		md_cell(s->blocked[i].key, k, sizeof(k));
		md_cell(s->blocked[i].group, g, sizeof(g));
		sw_put(w, "| %s | %s | %lu |\n", k, g, s->blocked[i].count);
	}
	if (s->nblocked > 0)
		sw_put(w, "\n");
	if (s->nerrors > 0)
		sw_put(w, "**Errors**\n\n| Error | Count |\n| :--- | ---: |\n");
	for (i = 0; i < s->nerrors && i < SUM_SHOW; i++) {
		md_cell(s->errors[i].key, k, sizeof(k));
		sw_put(w, "| %s | %lu |\n", k, s->errors[i].count);
	}
	if (s->nerrors > 0)
		sw_put(w, "\n");
	if (s->nblocked > SUM_SHOW || s->nerrors > SUM_SHOW || s->dropped)
		sw_put(w, "More rows are in the audit log.\n\n");
	if (s->bad_lines > 0)
		sw_put(w, "%lu line%s of the audit log not understood.\n\n",
		       s->bad_lines, plural(s->bad_lines));
}

void
summary_format(const struct summary *s, enum sum_format f, char *out,
	       size_t n)
{
	struct sw w = { out, n, 0 };

	if (n == 0)
		return;
	out[0] = '\0';
	if (f == SUM_MARKDOWN)
		md_format(s, &w);
	else
		text_format(s, &w);
}
