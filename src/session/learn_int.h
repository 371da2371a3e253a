/*
 * learn_int.h - what learn.c collects and learn_text.c writes out.
 */
#ifndef PROXYWRAP_LEARN_INT_H
#define PROXYWRAP_LEARN_INT_H

#include <stdbool.h>

#include "learn.h"
#include "summary.h"

#define LEARN_EXES 8		/* programs named per destination */
#define LEARN_EXE_MAX 200
#define LEARN_HEAD_MAX 300
#define LEARN_PER_LINE 8	/* destinations per rule line */

struct learn_exe {
	char exe[LEARN_EXE_MAX];
	unsigned long conns;	/* connect and proxy-error events */
};

struct learn_ent {
	char rule_at[300], rule_text[300];
	char host[SUM_VAL_MAX];		/* lowercase name, or an address */
	int port;			/* -1: any port (a lookup without) */
	bool refused;			/* a block event */
	struct learn_exe exes[LEARN_EXES];
	unsigned long more;		/* uses by programs not kept */
};

struct learn {
	struct learn_ent *e;
	size_t n, cap;
	unsigned long bad_names;	/* not DNS names: never rules */
	bool oom;
};

#endif
