/*
 * explain.h - `proxywrap --explain DEST`: which rule decides a destination
 * and what it does, in one human paragraph.  Pure.
 */
#ifndef PROXYWRAP_EXPLAIN_H
#define PROXYWRAP_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "health.h"
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

/*
 * The running session's health entries tab[0..n) (read-only), read
 * against now (CLOCK_MONOTONIC ms), for explain() to show each group
 * member's; without this call it says that health is not visible.
 */
void explain_set_health(const struct hl_proxy *tab, uint32_t n, int64_t now);

/* True when host's name would be resolved on this machine (not a
 * literal, not blocked, not routed via a proxy that resolves names). */
bool explain_dns_local(const struct config *cfg, const struct rules *r,
		       const char *host, unsigned int port);

/*
 * Append, for one local answer of host, the line
 *   "  answer 198.18.0.1: direct (shim.conf:3: direct .lan.example)"
 * deciding as connect() does: the first in the file of the name's rule and
 * the address's rule.  family AF_INET (4 bytes) or AF_INET6 (16).
 */
void explain_answer(const struct config *cfg, const struct rules *r,
		    const char *host, unsigned int port, int family,
		    const uint8_t *addr, char *out, size_t n);

#endif
