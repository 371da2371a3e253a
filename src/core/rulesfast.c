/*
 * rulesfast.c - the direct-only tables (rulesfast.h): built by sweeping
 * each family's address space once, and looked up with one binary search.
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
#include <stdlib.h>
#include <string.h>

#include "rulesimg.h"

typedef unsigned __int128 u128;

#define NONE UINT32_MAX
#define WORK_MAX (1u << 26)	/* candidate x port-range steps, in all */

/* A destination as the sweep sees it. */
struct fent {
	u128 lo, hi;			/* addresses, host order */
	uint32_t rule;
	uint16_t plo, phi;
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
};

static bool
good_rule(const struct cfg_rule *r)
{
	return r->action == CFG_DIRECT && r->pp_version == 0;
}

static u128
addr_num(const uint8_t *a, size_t len)
{
	u128 v = 0;
	size_t i;

	for (i = 0; i < len; i++)
		v = v << 8 | a[i];
	return v;
}

static int
fent_cmp(const void *a, const void *b)
{
	const struct fent *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi > y->hi ? -1 : 1;	/* the wider first */
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static int
u128_cmp(const void *a, const void *b)
{
	const u128 *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
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

/*
 * The port ranges of the current span (candidates w->cand[0..n)),
 * appended to f->seg.  Most rule sets name no ports: then the earliest
 * candidate decides every port.  Otherwise the ports are cut where a
 * candidate's range starts or ends, and each piece is decided alone.
 */
static int
profile(struct sweep *w, size_t n, bool loop)
{
	const struct fent *best = NULL;
	size_t first = w->f->nseg, np = 0, i, k;
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
	if (!ports) {
		cls = class_of(best, loop);
		return cls != 0 ? put_seg(w, first, 0, 65535, cls) : 0;
	}
	w->ports[np++] = 0;
	for (i = 0; i < n; i++) {
		w->ports[np++] = w->cand[i]->plo;
		w->ports[np++] = (uint32_t)w->cand[i]->phi + 1;
	}
	qsort(w->ports, np, sizeof(*w->ports), u32_cmp);
	for (k = 0; k < np; k = i) {
		p = w->ports[k];
		for (i = k + 1; i < np && w->ports[i] == p; i++)
			;
		if (p > 65535)
			break;
		q = i < np ? w->ports[i] : 65536;	/* p..q-1 */
		best = NULL;
		for (size_t c = 0; c < n; c++)
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

/* Whether the span just profiled (its ranges from `first` on) has the
 * same ports as the one before it (prev_seg, prev_n). */
static bool
same_ports(const struct rfast *f, size_t first, uint32_t prev_seg,
	   uint32_t prev_n)
{
	size_t n = f->nseg - first;

	return n == prev_n && memcmp(&f->seg[prev_seg], &f->seg[first],
				     n * sizeof(f->seg[0])) == 0;
}

/* A span from `start` with the ranges from `first` on, or the previous
 * span made longer when its ranges are the same. */
static int
put_span(struct sweep *w, int family, u128 start, size_t first)
{
	struct rfast *f = w->f;
	uint32_t nseg = (uint32_t)(f->nseg - first);

	if (family == AF_INET) {
		struct rfast_span4 *s;

		if (f->n4 > 0 && same_ports(f, first, f->s4[f->n4 - 1].seg,
					    f->s4[f->n4 - 1].nseg)) {
			f->nseg = first;
			return 0;
		}
		s = grow(f->s4, &w->cap4, f->n4 + 1, sizeof(*s));
		if (s == NULL)
			return -ENOMEM;
		f->s4 = s;
		s[f->n4].start = (uint32_t)start;
		s[f->n4].seg = (uint32_t)first;
		s[f->n4++].nseg = nseg;
		return 0;
	}
	{
		struct rfast_span6 *s;

		if (f->n6 > 0 && same_ports(f, first, f->s6[f->n6 - 1].seg,
					    f->s6[f->n6 - 1].nseg)) {
			f->nseg = first;
			return 0;
		}
		s = grow(f->s6, &w->cap6, f->n6 + 1, sizeof(*s));
		if (s == NULL)
			return -ENOMEM;
		f->s6 = s;
		s[f->n6].hi = (uint64_t)(start >> 64);
		s[f->n6].lo = (uint64_t)start;
		s[f->n6].seg = (uint32_t)first;
		s[f->n6++].nseg = nseg;
	}
	return 0;
}

/*
 * One family: e[0..n) its CIDR destinations, sorted by fent_cmp; b[0..nb)
 * the span starts (sorted, unique, b[0] 0); loopback loop_lo..loop_hi.
 * 0, 1 when the table would be too big, or -ENOMEM.
 */
static int
sweep_family(struct sweep *w, int family, const struct fent *e, size_t n,
	     const u128 *b, size_t nb, u128 loop_lo, u128 loop_hi)
{
	const struct fent **stack = w->cand;
	size_t sp = 0, j = 0, k, i, c, first;
	bool loop;
	int rc;

	for (k = 0; k < nb; k++) {
		while (sp > 0 && stack[sp - 1]->hi < b[k])
			sp--;
		while (j < n && e[j].lo == b[k])
			stack[sp++] = &e[j++];
		loop = b[k] >= loop_lo && b[k] <= loop_hi;
		/* the candidates: the stack, and outside loopback "*" on
		 * top of it for this span only */
		c = sp;
		if (!loop)
			for (i = 0; i < w->nany; i++)
				w->cand[c++] = &w->any[i];
		w->work += c + 1;
		if (w->work > WORK_MAX ||
		    w->f->n4 + w->f->n6 >= RFAST_SPANS_MAX)
			return 1;
		first = w->f->nseg;
		rc = profile(w, c, loop);
		if (rc == 0)
			rc = put_span(w, family, b[k], first);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Where spans start: 0, each destination's first address and the one
 * after its last, and the loopback range's. */
static u128 *
starts(const struct fent *e, size_t n, u128 max, u128 loop_lo, u128 loop_hi,
       size_t *nb)
{
	u128 *b = malloc((2 * n + 3) * sizeof(*b));
	size_t i, m = 0, k;

	if (b == NULL)
		return NULL;
	b[m++] = 0;
	b[m++] = loop_lo;
	if (loop_hi < max)
		b[m++] = loop_hi + 1;
	for (i = 0; i < n; i++) {
		b[m++] = e[i].lo;
		if (e[i].hi < max)
			b[m++] = e[i].hi + 1;
	}
	qsort(b, m, sizeof(*b), u128_cmp);
	for (i = 1, k = 1; i < m; i++)
		if (b[i] != b[k - 1])
			b[k++] = b[i];
	*nb = k;
	return b;
}

/* The destinations of one kind (CIDRs of `family`, or "*": family 0). */
static struct fent *
collect(const struct config *cfg, int family, size_t *n)
{
	size_t i, j, m = 0, cap = 0;
	struct fent *e = NULL, *g;
	int bits = family == AF_INET ? 32 : 128;

	for (i = 0; i < cfg->nrules; i++)
		for (j = 0; j < cfg->rules[i].ndests; j++) {
			const struct cfg_dest *d = &cfg->rules[i].dests[j];
			u128 a, span;

			if (family == 0 ? d->kind != DEST_ANY :
			    d->kind != DEST_CIDR || d->family != family)
				continue;
			g = grow(e, &cap, m + 1, sizeof(*e));
			if (g == NULL) {
				free(e);
				return NULL;
			}
			e = g;
			memset(&e[m], 0, sizeof(e[m]));
			if (family != 0) {
				a = addr_num(d->addr, (size_t)bits / 8);
				span = d->prefix >= bits ? 0 :
				       ((u128)-1 >> (128 - bits)) >> d->prefix;
				e[m].lo = a & ~span;
				e[m].hi = e[m].lo | span;
			}
			e[m].rule = (uint32_t)i;
			e[m].plo = d->port_lo;
			e[m].phi = d->port_hi;
			e[m].good = good_rule(&cfg->rules[i]);
			m++;
		}
	*n = m;
	/* an empty list is not a failure */
	return e != NULL ? e : calloc(1, sizeof(*e));
}

static int
build_family(struct sweep *w, const struct config *cfg, int family)
{
	u128 max = family == AF_INET ? 0xffffffffu : (u128)-1;
	u128 loop_lo = family == AF_INET ? (u128)127 << 24 : 1;
	u128 loop_hi = family == AF_INET ? ((u128)128 << 24) - 1 : 1;
	struct fent *e;
	u128 *b = NULL;
	size_t n = 0, nb = 0;
	int rc = -ENOMEM;

	e = collect(cfg, family, &n);
	if (e == NULL)
		return -ENOMEM;
	qsort(e, n, sizeof(*e), fent_cmp);
	b = starts(e, n, max, loop_lo, loop_hi, &nb);
	w->cand = malloc((n + w->nany + 1) * sizeof(*w->cand));
	w->ports = malloc((2 * (n + w->nany) + 1) * sizeof(*w->ports));
	if (b != NULL && w->cand != NULL && w->ports != NULL)
		rc = sweep_family(w, family, e, n, b, nb, loop_lo, loop_hi);
	free(w->cand);
	free(w->ports);
	w->cand = NULL;
	w->ports = NULL;
	free(b);
	free(e);
	return rc;
}

int
rfast_build(const struct config *cfg, struct rfast *f)
{
	struct sweep w;
	struct fent *any;
	int rc;

	memset(f, 0, sizeof(*f));
	memset(&w, 0, sizeof(w));
	w.f = f;
	any = collect(cfg, 0, &w.nany);
	if (any == NULL)
		return -ENOMEM;
	w.any = any;
	rc = build_family(&w, cfg, AF_INET);
	if (rc == 0)
		rc = build_family(&w, cfg, AF_INET6);
	free(any);
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

bool
rfast_check(const uint8_t *img, const struct rimg_hdr *h)
{
	const struct rfast_span4 *s4 = (const void *)(img + h->fast4.off);
	const struct rfast_span6 *s6 = (const void *)(img + h->fast6.off);

	if (h->fast4.n == 0 && h->fast6.n == 0)
		return true;
	return h->fast4.n > 0 && h->fast6.n > 0 && s4[0].start == 0 &&
	       s6[0].hi == 0 && s6[0].lo == 0;
}

/* The last span that starts at or before a: spans[0] starts at 0. */
static const struct rfast_span4 *
find4(const struct rfast_span4 *s, size_t n, uint32_t a)
{
	while (n > 1) {
		size_t half = n / 2;

		if (s[half].start <= a)
			s += half;
		n -= half;
	}
	return s;
}

static const struct rfast_span6 *
find6(const struct rfast_span6 *s, size_t n, uint64_t hi, uint64_t lo)
{
	while (n > 1) {
		size_t half = n / 2;

		if (s[half].hi < hi || (s[half].hi == hi && s[half].lo <= lo))
			s += half;
		n -= half;
	}
	return s;
}

bool
rfast_direct(const struct rimg *m, int family, const uint8_t *addr,
	     uint16_t port, bool strict)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	const struct rfast_seg *g;
	uint32_t seg, nseg, i, a4;
	uint64_t hi, lo;

	if (family == AF_INET6 && memcmp(addr, mapped, sizeof(mapped)) == 0) {
		family = AF_INET;
		addr += 12;
	}
	if (family == AF_INET && m->nfast4 > 0) {
		const struct rfast_span4 *s;

		memcpy(&a4, addr, 4);
		s = find4(m->fast4, m->nfast4, ntohl(a4));
		seg = s->seg;
		nseg = s->nseg;
	} else if (family == AF_INET6 && m->nfast6 > 0) {
		const struct rfast_span6 *s;

		memcpy(&hi, addr, 8);
		memcpy(&lo, addr + 8, 8);
		s = find6(m->fast6, m->nfast6, be64toh(hi), be64toh(lo));
		seg = s->seg;
		nseg = s->nseg;
	} else {
		return false;
	}
	/* a damaged image's span points nowhere: no answer */
	if (seg > m->nfseg || nseg > m->nfseg - seg)
		return false;
	for (g = m->fseg + seg, i = 0; i < nseg; i++, g++)
		if (port >= g->lo && port <= g->hi)
			return g->cls == RFAST_DIRECT ||
			       (g->cls == RFAST_DEFAULT && !strict);
	return false;
}
