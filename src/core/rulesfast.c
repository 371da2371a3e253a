/*
 * rulesfast.c - the direct-only tables (rulesfast.h), built by sweeping
 * each family's address space once (rulesfast_find.c looks them up).
 *
 * CIDR prefixes either nest or do not meet, so while the sweep walks the
 * sorted starts and ends of the destinations, the ones that hold the
 * current address are a stack: a span starts wherever a destination (or
 * the loopback range) starts or ends, and its candidates are the stack
 * plus, outside loopback, the "*" destinations.  Per span the decision is
 * then the same as rules.c takes it: the earliest rule whose ports hold
 * the port; for loopback, the loopback default when no CIDR rule
 * matches and "*" never; elsewhere, no rule at all falls to the default.
 *
 * Pure: no I/O.
 */
#include "rulesfast.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

#define NONE UINT32_MAX
#define WORK_MAX (1u << 26)	/* candidate x port-range steps, in all */

/* A destination as the sweep sees it. */
struct fent {
	u128 lo, hi;			/* addresses, host order */
	uint32_t rule;
	uint16_t plo, phi;
	uint8_t prefix;			/* lo..hi's length: the wider, the shorter */
	bool good;			/* its rule: direct without a header */
};

struct sweep {
	struct rfast *f;
	size_t cap4, cap6, capseg;
	const struct fent *any;		/* the "*" destinations */
	size_t nany;
	const struct fent **cand;	/* candidates of the current span */
	uint32_t *ports;		/* their port breakpoints */
	size_t work;
	struct {			/* the ranges of a span no CIDR holds, */
		bool known;		/* outside loopback and inside */
		uint32_t seg, nseg;
	} bare[2];
};

static bool
good_rule(const struct cfg_rule *r)
{
	return r->action == CFG_DIRECT && r->pp_version == 0;
}

/* An address (network order) as a number. */
static u128
addr_num(const uint8_t *a, int family)
{
	uint32_t v4;
	uint64_t hi, lo;

	if (family == AF_INET) {
		memcpy(&v4, a, 4);
		return ntohl(v4);
	}
	memcpy(&hi, a, 8);
	memcpy(&lo, a + 8, 8);
	return (u128)be64toh(hi) << 64 | be64toh(lo);
}

/* Digit d of a destination's sort key, from the lowest: its prefix
 * length, then the bytes of its start. */
static inline unsigned
key_digit(const struct fent *e, unsigned d)
{
	return d == 0 ? e->prefix : (unsigned)(e->lo >> (8 * (d - 1))) & 0xff;
}

/*
 * Sort e[0..n) by start, the wider first where starts are equal, then by
 * rule, into a fresh array (*ep replaced): a radix sort of the key's
 * ndig bytes (the prefix length's, then the start's) from the lowest,
 * each pass stable, over the order collect made, which is the rules'.
 * A digit all destinations share takes no pass.  0, or -ENOMEM.
 */
static int
sort_dests(struct fent **ep, size_t n, unsigned ndig)
{
	uint32_t (*cnt)[256] = calloc(ndig, sizeof(*cnt));
	uint32_t *a = malloc(n * sizeof(*a)), *b = malloc(n * sizeof(*b)), *t;
	struct fent *e = *ep, *out = malloc(n * sizeof(*out));
	uint32_t sum, c;
	unsigned d, k;
	size_t i;
	int rc = -ENOMEM;

	if (cnt == NULL || a == NULL || b == NULL || out == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		u128 v = e[i].lo;

		a[i] = (uint32_t)i;
		cnt[0][e[i].prefix]++;
		for (d = 1; d < ndig; d++, v >>= 8)
			cnt[d][(unsigned)v & 0xff]++;
	}
	for (d = 0; d < ndig; d++) {
		if (cnt[d][key_digit(&e[0], d)] == n)
			continue;
		for (sum = 0, k = 0; k < 256; k++) {
			c = cnt[d][k];
			cnt[d][k] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			b[cnt[d][key_digit(&e[a[i]], d)]++] = a[i];
		t = a;
		a = b;
		b = t;
	}
	for (i = 0; i < n; i++)
		out[i] = e[a[i]];
	free(e);
	*ep = out;
	out = NULL;
	rc = 0;
done:
	free(cnt);
	free(a);
	free(b);
	free(out);
	return rc;
}

static int
u32_cmp(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

static void *
grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap != 0 ? *cap : 16;
	void *q;

	if (need <= *cap)
		return p;
	while (n < need)
		n *= 2;
	q = realloc(p, n * size);
	if (q != NULL)
		*cap = n;
	return q;
}

/* Append one port range of class cls, merging with the last one when it
 * continues it. */
static int
put_seg(struct sweep *w, size_t first, uint32_t lo, uint32_t hi, uint8_t cls)
{
	struct rfast *f = w->f;
	struct rfast_seg *g;

	if (f->nseg > first && f->seg[f->nseg - 1].cls == cls &&
	    f->seg[f->nseg - 1].hi + 1u == lo) {
		f->seg[f->nseg - 1].hi = (uint16_t)hi;
		return 0;
	}
	g = grow(f->seg, &w->capseg, f->nseg + 1, sizeof(*g));
	if (g == NULL)
		return -ENOMEM;
	f->seg = g;
	g[f->nseg].lo = (uint16_t)lo;
	g[f->nseg].hi = (uint16_t)hi;
	g[f->nseg].cls = cls;
	g[f->nseg].pad = 0;
	f->nseg++;
	return 0;
}

/* The class of a port whose earliest candidate rule is best. */
static uint8_t
class_of(const struct fent *best, bool loop)
{
	if (best == NULL)
		return loop ? RFAST_DIRECT : RFAST_DEFAULT;
	return best->good ? RFAST_DIRECT : 0;
}

/* Sort a few port breakpoints in place (qsort for many). */
static void
sort_ports(uint32_t *p, size_t n)
{
	size_t i, j;
	uint32_t v;

	if (n > 32) {
		qsort(p, n, sizeof(*p), u32_cmp);
		return;
	}
	for (i = 1; i < n; i++) {
		v = p[i];
		for (j = i; j > 0 && p[j - 1] > v; j--)
			p[j] = p[j - 1];
		p[j] = v;
	}
}

/*
 * The port ranges of the current span (candidates w->cand[0..n)),
 * appended to f->seg.  Most rule sets name no ports: then the earliest
 * candidate decides every port, as it does whenever it holds them all.
 * Otherwise the ports are cut where a candidate's range starts or ends,
 * and each piece is decided alone.
 */
static int
profile(struct sweep *w, size_t n, bool loop)
{
	const struct fent *best = NULL;
	size_t first = w->f->nseg, np = 0, i, k, c;
	bool ports = false;
	uint32_t p, q;
	uint8_t cls;
	int rc;

	for (i = 0; i < n; i++) {
		if (w->cand[i]->plo != 0 || w->cand[i]->phi != 65535)
			ports = true;
		if (best == NULL || w->cand[i]->rule < best->rule)
			best = w->cand[i];
	}
	/* the earliest candidate holds every port: no other one decides any */
	if (!ports || (best->plo == 0 && best->phi == 65535)) {
		cls = class_of(best, loop);
		return cls != 0 ? put_seg(w, first, 0, 65535, cls) : 0;
	}
	w->ports[np++] = 0;
	for (i = 0; i < n; i++) {
		w->ports[np++] = w->cand[i]->plo;
		w->ports[np++] = (uint32_t)w->cand[i]->phi + 1;
	}
	sort_ports(w->ports, np);
	for (k = 0; k < np; k = i) {
		p = w->ports[k];
		for (i = k + 1; i < np && w->ports[i] == p; i++)
			;
		if (p > 65535)
			break;
		q = i < np ? w->ports[i] : 65536;	/* p..q-1 */
		best = NULL;
		for (c = 0; c < n; c++)
			if (w->cand[c]->plo <= p && w->cand[c]->phi >= p &&
			    (best == NULL || w->cand[c]->rule < best->rule))
				best = w->cand[c];
		w->work += n;
		cls = class_of(best, loop);
		if (cls != 0) {
			rc = put_seg(w, first, p, q - 1, cls);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* Whether two spans' port ranges are the same. */
static bool
same_ports(const struct rfast *f, uint32_t a, uint32_t na, uint32_t b,
	   uint32_t nb)
{
	/* no ranges at all: f->seg may be NULL, which memcmp must not see */
	return na == nb && (na == 0 || memcmp(&f->seg[a], &f->seg[b],
					      na * sizeof(f->seg[0])) == 0);
}

/*
 * A span from `start` with the port ranges seg..seg+nseg, or the
 * previous span made longer when its ranges are the same (then ranges
 * appended for this one, from `fresh` on, are dropped; fresh is
 * SIZE_MAX when none were).  *kept: where the span's ranges are now.
 */
static int
put_span(struct sweep *w, int family, u128 start, uint32_t seg,
	 uint32_t nseg, size_t fresh, uint32_t *kept)
{
	struct rfast *f = w->f;
	uint32_t pseg, pn;
	size_t n = family == AF_INET ? f->n4 : f->n6;

	if (n > 0) {
		pseg = family == AF_INET ? f->s4[n - 1].seg : f->s6[n - 1].seg;
		pn = family == AF_INET ? f->s4[n - 1].nseg : f->s6[n - 1].nseg;
		if (same_ports(f, pseg, pn, seg, nseg)) {
			if (fresh != SIZE_MAX)
				f->nseg = fresh;
			*kept = pseg;
			return 0;
		}
	}
	*kept = seg;
	if (family == AF_INET) {
		struct rfast_span4 *s = grow(f->s4, &w->cap4, n + 1, sizeof(*s));

		if (s == NULL)
			return -ENOMEM;
		f->s4 = s;
		s[n].start = (uint32_t)start;
		s[n].seg = seg;
		s[n].nseg = nseg;
		f->n4++;
	} else {
		struct rfast_span6 *s = grow(f->s6, &w->cap6, n + 1, sizeof(*s));

		if (s == NULL)
			return -ENOMEM;
		f->s6 = s;
		s[n].hi = (uint64_t)(start >> 64);
		s[n].lo = (uint64_t)start;
		s[n].seg = seg;
		s[n].nseg = nseg;
		f->n6++;
	}
	return 0;
}

/* The start of the span after the one at cur: where the next
 * destination starts, the innermost open one ends, or loopback starts
 * or ends; false after the last span. */
static bool
next_start(const struct fent *e, size_t n, size_t j,
	   const struct fent *const *stack, size_t sp, u128 cur, u128 max,
	   u128 loop_lo, u128 loop_hi, u128 *next)
{
	bool any = false;
	u128 v = max;

#define TAKE(x) do { if (!any || (x) < v) v = (x); any = true; } while (0)
	if (j < n)
		TAKE(e[j].lo);
	if (sp > 0 && stack[sp - 1]->hi < max)
		TAKE(stack[sp - 1]->hi + 1);
	if (loop_lo > cur)
		TAKE(loop_lo);
	if (loop_hi < max && loop_hi + 1 > cur)
		TAKE(loop_hi + 1);
#undef TAKE
	*next = v;
	return any;
}

/*
 * One family: e[0..n) its CIDR destinations, sorted by sort_dests;
 * loopback loop_lo..loop_hi.  The spans start at 0 and wherever a
 * destination or loopback starts or ends.  A span no CIDR destination
 * holds has the same ranges as every other such span (in both
 * families): worked out once (w->bare), pointed to after.  0, 1 when
 * the table would be too big, or -ENOMEM.
 */
static int
sweep_family(struct sweep *w, int family, const struct fent *e, size_t n,
	     u128 max, u128 loop_lo, u128 loop_hi)
{
	const struct fent **stack = w->cand;
	size_t sp = 0, j = 0, i, c, fresh;
	uint32_t seg, nseg, kept;
	u128 cur = 0;
	bool loop;
	int rc;

	for (;;) {
		while (sp > 0 && stack[sp - 1]->hi < cur)
			sp--;
		while (j < n && e[j].lo == cur)
			stack[sp++] = &e[j++];
		loop = cur >= loop_lo && cur <= loop_hi;
		if (w->work > WORK_MAX ||
		    w->f->n4 + w->f->n6 >= RFAST_SPANS_MAX)
			return 1;
		if (sp == 0 && w->bare[loop].known) {
			seg = w->bare[loop].seg;
			nseg = w->bare[loop].nseg;
			fresh = SIZE_MAX;
			w->work++;
		} else {
			/* the candidates: the stack, and outside loopback
			 * "*" on top of it for this span only */
			c = sp;
			if (!loop)
				for (i = 0; i < w->nany; i++)
					w->cand[c++] = &w->any[i];
			w->work += c + 1;
			fresh = w->f->nseg;
			rc = profile(w, c, loop);
			if (rc < 0)
				return rc;
			seg = (uint32_t)fresh;
			nseg = (uint32_t)(w->f->nseg - fresh);
		}
		rc = put_span(w, family, cur, seg, nseg, fresh, &kept);
		if (rc < 0)
			return rc;
		if (sp == 0 && !w->bare[loop].known) {
			w->bare[loop].known = true;
			w->bare[loop].seg = kept;
			w->bare[loop].nseg = nseg;
		}
		if (!next_start(e, n, j, stack, sp, cur, max, loop_lo, loop_hi,
				&cur))
			return 0;
	}
}

/* The destinations the tables are made of, by kind: "*", IPv4, IPv6. */
struct dests {
	struct fent *e[3];
	size_t n[3];
};

static void
dests_free(struct dests *d)
{
	int k;

	for (k = 0; k < 3; k++)
		free(d->e[k]);
}

static int
dest_kind(const struct cfg_dest *d)
{
	if (d->kind == DEST_ANY)
		return 0;
	if (d->kind == DEST_CIDR)
		return d->family == AF_INET ? 1 : 2;
	return -1;
}

/* Two passes over the rules, counting then filling: 0, or -ENOMEM. */
static int
collect(const struct config *cfg, struct dests *ds)
{
	size_t i, j, cap[3] = { 0, 0, 0 };
	struct fent *x;
	int k, bits;

	memset(ds, 0, sizeof(*ds));
	for (i = 0; i < cfg->nrules; i++)
		for (j = 0; j < cfg->rules[i].ndests; j++)
			if ((k = dest_kind(&cfg->rules[i].dests[j])) >= 0)
				cap[k]++;
	for (k = 0; k < 3; k++)
		if ((ds->e[k] = calloc(cap[k] + 1, sizeof(*x))) == NULL)
			return -ENOMEM;
	for (i = 0; i < cfg->nrules; i++)
		for (j = 0; j < cfg->rules[i].ndests; j++) {
			const struct cfg_dest *d = &cfg->rules[i].dests[j];
			u128 span;

			if ((k = dest_kind(d)) < 0)
				continue;
			x = &ds->e[k][ds->n[k]++];
			if (k != 0) {
				bits = k == 1 ? 32 : 128;
				span = d->prefix >= bits ? 0 :
				       ((u128)-1 >> (128 - bits)) >> d->prefix;
				x->lo = addr_num(d->addr, d->family) & ~span;
				x->hi = x->lo | span;
				x->prefix = (uint8_t)d->prefix;
			}
			x->rule = (uint32_t)i;
			x->plo = d->port_lo;
			x->phi = d->port_hi;
			x->good = good_rule(&cfg->rules[i]);
		}
	return 0;
}

/* One family's spans from its destinations *e (n of them, sorted here:
 * the array may be replaced).  As sweep_family. */
static int
build_family(struct sweep *w, struct fent **e, size_t n, int family)
{
	u128 max = family == AF_INET ? 0xffffffffu : (u128)-1;
	u128 loop_lo = family == AF_INET ? (u128)127 << 24 : 1;
	u128 loop_hi = family == AF_INET ? ((u128)128 << 24) - 1 : 1;
	int rc = -ENOMEM;

	if (n >= UINT32_MAX)
		return 1;	/* too big for the sort's indexes */
	if (n > 0 && sort_dests(e, n, family == AF_INET ? 5 : 17) != 0)
		return -ENOMEM;
	w->cand = malloc((n + w->nany + 1) * sizeof(*w->cand));
	w->ports = malloc((2 * (n + w->nany) + 1) * sizeof(*w->ports));
	if (w->cand != NULL && w->ports != NULL)
		rc = sweep_family(w, family, *e, n, max, loop_lo, loop_hi);
	free(w->cand);
	free(w->ports);
	w->cand = NULL;
	w->ports = NULL;
	return rc;
}

int
rfast_build(const struct config *cfg, struct rfast *f)
{
	struct sweep w;
	struct dests d;
	int rc;

	memset(f, 0, sizeof(*f));
	memset(&w, 0, sizeof(w));
	w.f = f;
	rc = collect(cfg, &d);
	if (rc == 0) {
		w.any = d.e[0];
		w.nany = d.n[0];
		rc = build_family(&w, &d.e[1], d.n[1], AF_INET);
	}
	if (rc == 0)
		rc = build_family(&w, &d.e[2], d.n[2], AF_INET6);
	dests_free(&d);
	if (rc != 0)
		rfast_free(f);
	if (rc < 0)
		return rc;
	f->ok = rc == 0;
	return 0;
}

void
rfast_free(struct rfast *f)
{
	free(f->s4);
	free(f->s6);
	free(f->seg);
	memset(f, 0, sizeof(*f));
}
