/*
 * options.h - proxywrap's command line.
 */
#ifndef PROXYWRAP_OPTIONS_H
#define PROXYWRAP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "summary.h"
#include "supervise.h"

#define MAX_CLI_PROXIES CFG_CHAIN_MAX

struct opts {
	const char *config;
	const char *proxies[MAX_CLI_PROXIES];
	size_t nproxies;
	bool strict;
	int verbose;			/* 0 -q, 1 default, 2 -v, 3 -vv */
	const char *log;
	bool check;
	const char *explain;
	bool summary;			/* table from the audit log at exit */
	const char *summary_file;	/* --summary=FILE: appended; NULL:
					 * stderr */
	enum sum_format summary_format;	/* --summary-format */
	const char *learn;		/* --learn FILE */
	bool from_env;			/* rules from *_PROXY / NO_PROXY */
	enum sup_mode supervise;	/* --supervise */
	bool supervise_set;
};

/* The usage text, to f. */
void usage(FILE *f);

/* argv's options into *o; the command starts at argv[optind].  Exits 2
 * after a usage message on a bad one, 0 after --help or --version. */
void parse_opts(int argc, char **argv, struct opts *o);

#endif
