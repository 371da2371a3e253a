/*
 * rules.h - the compiled rule set: answers "which rule decides this
 * destination" for a name or an address, first match wins.
 *
 * Matchers are indexed (exact names in a hash, suffixes by label, CIDRs by
 * prefix length) so a decision costs well under a microsecond even with
 * 100,000 rules.  Immutable after rules_compile; safe to share between
 * threads.  Pure: no I/O.
 *
 * The matchers are one block of bytes without pointers (rulesimg.h), so
 * proxywrap compiles the rules once per session, hands the image to the
 * tree in its sealed policy, and each process matches on the shared
 * read-only pages (rules_attach) instead of parsing and compiling the
 * rule file again.
 */
#ifndef PROXYWRAP_RULES_H
#define PROXYWRAP_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct rules;

#define RULES_NO_INDEX UINT32_MAX

struct decision {
	enum cfg_action action;
	const struct cfg_rule *rule;	/* NULL: no rule matched (default) */
	uint32_t index;			/* the rule's position, first match
					 * wins; RULES_NO_INDEX without one */
	bool loopback;			/* decided by the loopback default */
	bool stale_fake;		/* a fake address with no name: blocked */
};

/* Compile cfg (which must outlive the result).  NULL when out of memory. */
struct rules *rules_compile(const struct config *cfg);
void rules_free(struct rules *r);

/* rules_compile, and an image that carries the rules' records too (the
 * session's: processes that see no rule file name the rule from it). */
struct rules *rules_compile_image(const struct config *cfg);

/* The image matched on: r's bytes, valid as long as r. */
const void *rules_image(const struct rules *r, size_t *len);

/*
 * Match on an image with records built by rules_compile_image for a
 * config with the same proxies as cfg (whose own rules are not used; cfg
 * and img must outlive the result).  NULL with errno EINVAL when the
 * image does not check out, ENOMEM.  Decided rules are made from the
 * image's records on first use and kept.
 */
struct rules *rules_attach(const struct config *cfg, const void *img,
			   size_t len);

/*
 * Decide for a host name (any case, a trailing dot ignored) and a port.
 * Name destinations and "*" are considered; address destinations are not
 * (unless the name is itself an address literal, which is then decided
 * as an address).
 */
void rules_decide_name(const struct rules *r, const char *name,
		       uint16_t port, struct decision *d);

/*
 * Decide for an address: family AF_INET (addr 4 bytes) or AF_INET6
 * (16 bytes; v4-mapped addresses are decided as their IPv4 address).
 * Address destinations and "*" are considered.
 */
void rules_decide_addr(const struct rules *r, int family,
		       const uint8_t *addr, uint16_t port, struct decision *d);

/*
 * True when rules_decide_addr would decide direct, without a PROXY
 * protocol header, for this address and port: a look-up in the tables
 * worked out when the rules were compiled (rulesfast.h), for the
 * connects and datagrams no rule sends anywhere else.  False also when
 * there are no tables (a rule set too big for them).  Names and fake
 * addresses are the caller's to rule out.
 */
bool rules_direct(const struct rules *r, int family, const uint8_t *addr,
		  uint16_t port);

/* True when no rule names "localhost": the loopback default decides it,
 * for every port. */
bool rules_localhost_default(const struct rules *r);

/*
 * Defaults when no rule matches: loopback (127.0.0.0/8, ::1, "localhost",
 * names under ".localhost") is direct unless a rule other than "*" names
 * it; everything else is direct, or blocked when cfg->strict.
 */

/*
 * Which rule decided, as the log lines say it: "FILE:LINE TEXT", "-p:
 * TEXT", or the default that did ("loopback default", "no rule matched,
 * strict", ...); broken: the configuration was unusable.
 */
void rules_why(const char *file, const struct decision *dec, bool broken,
	       char *buf, size_t n);

#endif
