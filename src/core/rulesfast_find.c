/*
 * rulesfast_find.c - looking the direct-only tables (rulesfast.h) up in
 * an image: one binary search for the span, then its port ranges.
 * rulesfast.c builds them.
 *
 * Pure: no I/O.
 */
#include "rulesfast.h"

#include <arpa/inet.h>
#include <endian.h>
#include <string.h>

#include "rulesimg.h"

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
