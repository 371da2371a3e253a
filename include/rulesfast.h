/*
 * rulesfast.h - the addresses and ports the rules can only send direct,
 * worked out once when the rules are compiled, so that connect() and
 * sendto() to such a destination skip the rule decision.
 *
 * For each family the address space is cut into spans (sorted, the first
 * starting at address 0) over which the set of CIDR destinations that
 * match does not change, and each span lists the port ranges where the
 * decision is
 *   RFAST_DIRECT   a direct rule without a PROXY protocol header, or the
 *                  loopback default; or
 *   RFAST_DEFAULT  no rule at all: direct unless strict.
 * Ports not listed are decided some other way (via, block, a direct rule
 * that sends a PROXY header).  Adjacent spans with the same ports are one.
 * The table is exact: rfast_direct says yes for an address and port if
 * and only if rules_decide_addr would decide direct without a header
 * there (tests/unit/test_rulesfast.c checks both ways).  A name the
 * address was resolved from is not its business: the caller asks about
 * names (addrnames.h) and fake addresses (fakedns.h) first.
 *
 * Pure: no I/O.
 */
#ifndef PROXYWRAP_RULESFAST_H
#define PROXYWRAP_RULESFAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct rimg;

enum rfast_class {
	RFAST_DIRECT = 1,	/* direct, whatever strict says */
	RFAST_DEFAULT = 2,	/* no rule matched: direct unless strict */
};

/* An IPv4 span: from `start` (host order) to the next span's start. */
struct rfast_span4 {
	uint32_t start;
	uint32_t seg;			/* its first port range */
	uint32_t nseg;			/* how many */
};

/* An IPv6 span: the start as two host-order halves. */
struct rfast_span6 {
	uint64_t hi, lo;
	uint32_t seg;
	uint32_t nseg;
};

/* Ports lo..hi of a span are decided as cls (enum rfast_class). */
struct rfast_seg {
	uint16_t lo, hi;
	uint8_t cls;
	uint8_t pad;
};

/* The tables while the image is built. */
struct rfast {
	bool ok;			/* false: too big to build; no table */
	struct rfast_span4 *s4;
	struct rfast_span6 *s6;
	struct rfast_seg *seg;
	size_t n4, n6, nseg;
};

/*
 * Work out cfg's tables into f (free them with rfast_free).  0, or
 * -ENOMEM.  A rule set whose table would pass RFAST_SPANS_MAX spans, or
 * take more than a bounded amount of work, gets none (f->ok false): its
 * connects take the rule decision, as without this.
 */
#define RFAST_SPANS_MAX (1u << 22)
int rfast_build(const struct config *cfg, struct rfast *f);
void rfast_free(struct rfast *f);

/*
 * Whether the tables of a header rimg_check found sound otherwise (its
 * sections inside img) can be looked up: none at all, or both families'
 * spans with the first of each starting at address 0, which the binary
 * search takes as its floor.
 */
struct rimg_hdr;
bool rfast_check(const uint8_t *img, const struct rimg_hdr *h);

/*
 * True when the image's tables say family/addr (4 or 16 bytes, network
 * order; v4-mapped IPv6 looked up as IPv4)/port can only be direct, with
 * strict as the rules' strict setting.  False when they say otherwise,
 * or the image has no tables.
 */
bool rfast_direct(const struct rimg *m, int family, const uint8_t *addr,
		  uint16_t port, bool strict);

#endif
