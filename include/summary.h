/*
 * summary.h - `proxywrap --summary`: the session's audit log (log.h's
 * JSON lines) folded into a short table for a person reading a CI log:
 * per destination the connections, bytes each way (from the close
 * events), TLS outcomes, blocked attempts and errors; blocked attempts
 * with the executable that tried.  As text, or as a GitHub-flavoured
 * markdown table for a job summary.  Pure: the caller reads the file and
 * feeds lines.
 */
#ifndef PROXYWRAP_SUMMARY_H
#define PROXYWRAP_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>

#define SUM_ITEMS_MAX 512	/* distinct rows kept; later ones counted */
#define SUM_KEY_MAX 600
#define SUM_VAL_MAX 520
#define SUM_WHY_MAX 4		/* TLS failure reasons kept per row */

/* The fields of one audit line that the summary and --learn use; absent
 * or null fields are "". */
struct sum_ev {
	char event[32], proto[8], exe[SUM_VAL_MAX], name[SUM_VAL_MAX];
	char addr[64], port[8], action[16], proxy[80], outcome[40];
	char error[SUM_VAL_MAX], path[SUM_VAL_MAX];
	char rule_at[300], rule_text[700];
	char proxy_tls[24];		/* TLS to an https proxy: "TLSv1.3" */
	char h2_stream[16];		/* proxy_h2.stream: its HTTP/2 stream */
	/* the close event (absent in others) */
	char bytes_up[24], bytes_down[24], end[24];
	char tls[24], alert[64];	/* tls.outcome, tls.alert.description */
};

/* Read one audit line (without its '\n') into *ev.  False when it is not
 * one JSON object with an "event". */
bool summary_parse(const char *line, size_t len, struct sum_ev *ev);

/* ev's destination as "name:port", "addr:port" or "[v6]:port" (no port
 * part when it has none), into out[0..n). */
void summary_dest(const struct sum_ev *ev, char *out, size_t n);

struct sum_item {
	char key[SUM_KEY_MAX];	/* what the row says */
	char group[SUM_VAL_MAX];	/* "direct", "via corp"; the blocked
					 * list: the executable */
	unsigned long count;
};

/* One destination's row. */
struct sum_dest {
	char key[SUM_KEY_MAX];		/* "name:port/proto" */
	char group[100];		/* "direct", "via corp", "block" */
	unsigned long conns, blocked, errors, closes;
	unsigned long long up, down;	/* summed over the close events */
	unsigned long tls_ok, tls_fail;
	struct {
		char why[80];		/* "alert protocol_version", "no-reply" */
		unsigned long n;
	} why[SUM_WHY_MAX];
};

struct summary {
	struct sum_item dests[SUM_ITEMS_MAX];	/* connect: per action */
	size_t ndests;
	struct sum_dest rows[SUM_ITEMS_MAX];	/* per destination */
	size_t nrows;
	struct sum_item blocked[SUM_ITEMS_MAX];	/* per destination and exe */
	size_t nblocked;
	struct sum_item errors[SUM_ITEMS_MAX];
	size_t nerrors;
	unsigned long connects, blocks, fails, bad_lines, dropped;
};

enum sum_format {
	SUM_TEXT,	/* for a terminal or a CI log (the default) */
	SUM_MARKDOWN,	/* GitHub-flavoured markdown tables */
};

void summary_init(struct summary *s);

/* Fold one audit-log line (without its '\n') in.  Lines that are not
 * our JSON are counted in bad_lines. */
void summary_add(struct summary *s, const char *line, size_t len);

/* The table, into out[0..n) (NUL-terminated, cut to fit). */
void summary_format(const struct summary *s, enum sum_format f, char *out,
		    size_t n);

#endif
