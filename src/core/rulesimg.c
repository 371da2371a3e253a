/*
 * rulesimg.c - the rule set's image (rulesimg.h): checking it, and
 * looking keys up in it (rulesimg_build.c builds it from a config).
 *
 * Every destination of every rule becomes one entry keyed by what it
 * matches (see rules.c for how a query uses the keys).  Entries with the
 * same key sit next to each other in the order of their rules and share
 * one copy of the key, and one hash slot points at the run, so the first
 * entry whose port range fits is that key's earliest rule.
 *
 * Pure: no I/O.
 */
#include "rulesimg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

/* FNV-1a, 64 bits: the sum of the proxies' names (rimg_proxy_sum). */
static uint64_t
fnv(const uint8_t *p, size_t len, uint64_t h)
{
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Mix one 8-byte word into h (a multiply and a shift, as splitmix64). */
static inline uint64_t
mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 31);
}

/*
 * Eight bytes a step (a name is looked up once per label suffix, so the
 * hash is most of a name's decision), the length in the seed, then
 * murmur3's finalizer so that the low bits, which pick the slot, depend
 * on every byte.  The words are read in the host's order: an image is
 * built and used on one machine.
 */
uint64_t
rimg_hash(const uint8_t *p, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (len * 0xff51afd7ed558ccdull), w;
	size_t i;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h = mix(h, w);
	}
	if (len > 0) {
		for (w = 0, i = 0; i < len; i++)
			w |= (uint64_t)p[i] << (8 * i);
		h = mix(h, w);
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

uint64_t
rimg_proxy_sum(const struct config *cfg)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < cfg->nproxies; i++)
		h = fnv((const uint8_t *)cfg->proxies[i].name,
			strlen(cfg->proxies[i].name) + 1, h);
	/* a process whose groups differ must not take the image's hops */
	for (i = 0; i < cfg->ngroups; i++) {
		const struct cfg_group *g = &cfg->groups[i];

		h = fnv((const uint8_t *)g->name, strlen(g->name) + 1, h);
		h = fnv((const uint8_t *)g->members,
			(size_t)g->nmembers * sizeof(g->members[0]), h);
		h = fnv((const uint8_t *)&g->mode, sizeof(g->mode), h);
	}
	return h;
}

static void
mask(uint8_t *out, const uint8_t *addr, size_t len, int prefix)
{
	size_t i;

	for (i = 0; i < len; i++) {
		int keep = prefix - (int)i * 8;

		if (keep >= 8)
			out[i] = addr[i];
		else if (keep <= 0)
			out[i] = 0;
		else
			out[i] = addr[i] & (uint8_t)(0xff00u >> keep);
	}
}

void
rimg_cidr_key(uint8_t *k, int family, int prefix, const uint8_t *addr)
{
	memset(k, 0, RIMG_CIDR_KEY);
	k[0] = family == AF_INET ? 4 : 6;
	k[1] = (uint8_t)prefix;
	mask(k + 2, addr, family == AF_INET ? 4 : 16, prefix);
}

/* Section s holds n elements of size bytes inside the image. */
static bool
sec_ok(const struct rimg_hdr *h, const struct rimg_sec *s, size_t size)
{
	return s->off >= sizeof(*h) && s->off % 8 == 0 &&
	       s->off <= h->total && s->n <= UINT32_MAX &&
	       s->n * size <= h->total - s->off;
}

static bool
lens_ok(const uint8_t *l, size_t n, size_t cap, unsigned max)
{
	size_t i;

	if (n > cap)
		return false;
	for (i = 0; i < n; i++)
		if (l[i] > max)
			return false;
	return true;
}

int
rimg_check(const void *buf, size_t len, struct rimg *m)
{
	const struct rimg_hdr *h = buf;
	const uint8_t *b = buf;

	if (len < sizeof(*h) || ((uintptr_t)buf & 7) != 0)
		return -EINVAL;
	if (memcmp(h->magic, RIMG_MAGIC, sizeof(h->magic)) != 0 ||
	    h->version != RIMG_VERSION || h->hdr_size != sizeof(*h) ||
	    h->total != len || h->nrules >= RIMG_BAD ||
	    !sec_ok(h, &h->name_ents, sizeof(struct rimg_ent)) ||
	    !sec_ok(h, &h->name_slots, sizeof(struct rimg_slot)) ||
	    !sec_ok(h, &h->cidr_ents, sizeof(struct rimg_ent)) ||
	    !sec_ok(h, &h->cidr_slots, sizeof(struct rimg_slot)) ||
	    !sec_ok(h, &h->any, sizeof(struct rimg_ent)) ||
	    !sec_ok(h, &h->rules, sizeof(struct rimg_rule)) ||
	    !sec_ok(h, &h->strs, 1) ||
	    !sec_ok(h, &h->fast4, sizeof(struct rfast_span4)) ||
	    !sec_ok(h, &h->fast6, sizeof(struct rfast_span6)) ||
	    !sec_ok(h, &h->fseg, sizeof(struct rfast_seg)) ||
	    !rfast_check(b, h) ||
	    (h->rules.n != 0 && h->rules.n != h->nrules) ||
	    (h->name_slots.n & (h->name_slots.n - 1)) != 0 ||
	    (h->cidr_slots.n & (h->cidr_slots.n - 1)) != 0 ||
	    !lens_ok(h->v4len, h->nv4len, 33, 32) ||
	    !lens_ok(h->v6len, h->nv6len, 129, 128))
		return -EINVAL;
	m->base = b;
	m->len = len;
	m->h = h;
	m->name_ents = (const struct rimg_ent *)(b + h->name_ents.off);
	m->name_slots = (const struct rimg_slot *)(b + h->name_slots.off);
	m->cidr_ents = (const struct rimg_ent *)(b + h->cidr_ents.off);
	m->cidr_slots = (const struct rimg_slot *)(b + h->cidr_slots.off);
	m->any = (const struct rimg_ent *)(b + h->any.off);
	m->rules = (const struct rimg_rule *)(b + h->rules.off);
	m->strs = b + h->strs.off;
	m->fast4 = (const struct rfast_span4 *)(b + h->fast4.off);
	m->fast6 = (const struct rfast_span6 *)(b + h->fast6.off);
	m->fseg = (const struct rfast_seg *)(b + h->fseg.off);
	m->nfast4 = (uint32_t)h->fast4.n;
	m->nfast6 = (uint32_t)h->fast6.n;
	m->nfseg = (uint32_t)h->fseg.n;
	return 0;
}

/* An entry's rule as an answer: RIMG_BAD when it names no rule. */
static uint32_t
ent_rule(const struct rimg *m, const struct rimg_ent *e)
{
	return e->rule < m->h->nrules ? e->rule : RIMG_BAD;
}

uint32_t
rimg_find(const struct rimg *m, bool cidr, const uint8_t *key, size_t klen,
	  unsigned kinds, uint16_t port)
{
	const struct rimg_slot *slots = cidr ? m->cidr_slots : m->name_slots;
	const struct rimg_ent *ents = cidr ? m->cidr_ents : m->name_ents;
	uint64_t nslots = cidr ? m->h->cidr_slots.n : m->h->name_slots.n;
	uint64_t nents = cidr ? m->h->cidr_ents.n : m->h->name_ents.n;
	uint64_t h = rimg_hash(key, klen), probe, i;
	size_t s;

	if (nslots == 0)
		return RIMG_NONE;
	s = (size_t)(h & (nslots - 1));
	/* at most one lap: a full table (damaged) must not spin */
	for (probe = 0; probe < nslots; probe++, s = (s + 1) & (nslots - 1)) {
		const struct rimg_slot *sl = &slots[s];
		const struct rimg_ent *e;

		if (sl->count == 0)
			return RIMG_NONE;
		if (sl->hash != (uint32_t)h)
			continue;
		if (sl->start >= nents || sl->count > nents - sl->start)
			return RIMG_BAD;
		e = &ents[sl->start];
		if (e->klen != klen || e->key > m->h->strs.n ||
		    klen > m->h->strs.n - e->key)
			continue;
		if (memcmp(m->strs + e->key, key, klen) != 0)
			continue;
		for (i = 0; i < sl->count; i++, e++)
			if (e->kind < 32 && (kinds & (1u << e->kind)) != 0 &&
			    port >= e->port_lo && port <= e->port_hi)
				return ent_rule(m, e);
		return RIMG_NONE;
	}
	return RIMG_NONE;
}

uint32_t
rimg_any(const struct rimg *m, uint16_t port)
{
	uint64_t i;

	for (i = 0; i < m->h->any.n; i++)
		if (port >= m->any[i].port_lo && port <= m->any[i].port_hi)
			return ent_rule(m, &m->any[i]);
	return RIMG_NONE;
}

int
rimg_rule(const struct rimg *m, uint32_t i, const struct config *cfg,
	  struct cfg_rule *out)
{
	const struct rimg_rule *r;
	int k;

	if (i >= m->h->rules.n)
		return -EINVAL;
	r = &m->rules[i];
	if (r->action > CFG_VIA || r->nchain > CFG_CHAIN_MAX ||
	    (r->action == CFG_VIA) != (r->nchain > 0) || r->pp_version > 2 ||
	    (r->pp_src_family != 0 && r->pp_src_family != AF_INET &&
	     r->pp_src_family != AF_INET6) || r->line < 0 ||
	    r->text_len >= RIMG_TEXT_MAX || r->text >= m->h->strs.n ||
	    r->text_len >= m->h->strs.n - r->text ||
	    m->strs[r->text + r->text_len] != '\0' ||
	    memchr(m->strs + r->text, '\0', r->text_len) != NULL)
		return -EINVAL;
	for (k = 0; k < r->nchain; k++)
		if (r->chain[k] >= cfg->nproxies ||
		    r->group[k] > cfg->ngroups)
			return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->action = (enum cfg_action)r->action;
	out->nchain = r->nchain;
	for (k = 0; k < r->nchain; k++) {
		out->chain[k] = (int)r->chain[k];
		out->group[k] = r->group[k];
	}
	out->line = r->line;
	/* read-only: nobody writes or frees a rule's text */
	out->text = (char *)(uintptr_t)(m->strs + r->text);
	out->pp_version = r->pp_version;
	out->pp_src_family = r->pp_src_family;
	memcpy(out->pp_src, r->pp_src, sizeof(out->pp_src));
	out->pp_src_port = r->pp_src_port;
	return 0;
}
