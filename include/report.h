/*
 * report.h - what proxywrap writes from the session's audit log when the
 * command has exited: the --summary table and the --learn rule file.
 */
#ifndef PROXYWRAP_REPORT_H
#define PROXYWRAP_REPORT_H

#include <stdbool.h>
#include <sys/types.h>

#include "config.h"
#include "summary.h"

struct report {
	bool summary;			/* --summary */
	const char *summary_file;	/* --summary=FILE, or NULL: stderr */
	enum sum_format format;		/* --summary-format */
	const char *learn;		/* --learn FILE, or NULL */
	const struct config *cfg;	/* the session's, for --learn */
	char *const *argv;		/* the command, for --learn's header */
	int fd;				/* the audit log, readable; -1 */
	off_t from;			/* where this session's lines start */
};

/* Read the log once and write what r asks for; problems are warnings. */
void report_at_exit(const struct report *r);

#endif
