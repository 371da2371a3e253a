/*
 * summary.h - `proxywrap --summary`: the session's audit log (log.h's
 * JSON lines) folded into a short table for a person reading a CI log:
 * destinations per action, blocked attempts with the executable that
 * tried, and errors.  Pure: the caller reads the file and feeds lines.
 */
#ifndef PROXYWRAP_SUMMARY_H
#define PROXYWRAP_SUMMARY_H

#include <stddef.h>

#define SUM_ITEMS_MAX 512	/* distinct rows kept; later ones counted */
#define SUM_KEY_MAX 600

struct sum_item {
	char key[SUM_KEY_MAX];	/* what the row says */
	char group[80];		/* "direct", "via corp"; "" for lists */
	unsigned long count;
};

struct summary {
	struct sum_item dests[SUM_ITEMS_MAX];	/* connect: per destination */
	size_t ndests;
	struct sum_item blocked[SUM_ITEMS_MAX];
	size_t nblocked;
	struct sum_item errors[SUM_ITEMS_MAX];
	size_t nerrors;
	unsigned long connects, blocks, fails, bad_lines, dropped;
};

void summary_init(struct summary *s);

/* Fold one audit-log line (without its '\n') in.  Lines that are not
 * our JSON are counted in bad_lines. */
void summary_add(struct summary *s, const char *line, size_t len);

/* The table, into out[0..n) (NUL-terminated, cut to fit). */
void summary_format(const struct summary *s, char *out, size_t n);

#endif
