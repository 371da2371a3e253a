/*
 * explain.h - `proxywrap --explain DEST`: which rule decides a destination
 * and what it does, in one human paragraph.  Pure.
 */
#ifndef PROXYWRAP_EXPLAIN_H
#define PROXYWRAP_EXPLAIN_H

#include <stddef.h>

#include "config.h"
#include "rules.h"

/*
 * Parse DEST ("host", "host:port", "1.2.3.4:80", "[2001:db8::1]:443",
 * "2001:db8::1") into host (no brackets) and port (0 when absent).
 * Returns 0 or -1 for a malformed destination.
 */
int explain_parse_dest(const char *dest, char *host, size_t hostn,
		       unsigned int *port);

/*
 * Write the explanation of host:port into out (NUL-terminated, cut at
 * n - 1).  Returns the action.
 */
enum cfg_action explain(const struct config *cfg, const struct rules *r,
			const char *host, unsigned int port, char *out,
			size_t n);

#endif
