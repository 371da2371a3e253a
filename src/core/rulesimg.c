/*
 * rulesimg.c - the rule set's image (rulesimg.h): building it from a
 * config, checking it, and looking keys up in it.
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
#include <stdlib.h>
#include <string.h>

#define ALIGN8(n) (((n) + 7u) & ~(uint64_t)7u)

/* A destination while building: the key still points into cfg. */
struct bent {
	const uint8_t *key;
	uint32_t klen;
	uint32_t rule;
	uint16_t port_lo, port_hi;
	uint8_t kind;
};

/* The entries of one key, in the order of their rules. */
struct brun {
	uint64_t hash;			/* key_hash of the key */
	uint32_t first;			/* its first entry in btab.e */
	uint32_t count;
	uint32_t start;			/* btab_put: where the next one goes */
	uint32_t key;			/* btab_put: the key's offset in strs */
};

struct btab {
	struct bent *e;			/* in the rules' order */
	size_t n, runs, nslots;
	struct brun *run;		/* btab_group: the keys */
	uint32_t *of;			/* entry i's run */
	uint64_t keybytes;		/* one copy of each key */
};

/* FNV-1a, 64 bits: short keys, good enough spread for open addressing. */
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

static uint64_t
key_hash(const uint8_t *p, size_t len)
{
	uint64_t h = fnv(p, len, 0xcbf29ce484222325ull);

	return h ^ (h >> 29);
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

static bool
same_key(const struct bent *a, const struct bent *b)
{
	return a->klen == b->klen && memcmp(a->key, b->key, a->klen) == 0;
}

/*
 * Group the entries by key with a hash table, no sort: the runs come in
 * the order of their keys' first entries, and a run's entries keep the
 * order fill gave them, which is the rules' (a rule's first-match needs
 * only that).  The table's hashes are the slots' own.  Then size the
 * slots (load <= 1/2).  0, or -ENOMEM.
 */
static int
btab_group(struct btab *t)
{
	struct { uint32_t hash, run; } *tab;	/* run + 1; 0: empty */
	size_t cap = 16, mask_, i, s;
	uint32_t r;

	while (cap < t->n * 2)
		cap *= 2;
	tab = calloc(cap, sizeof(*tab));
	t->run = malloc((t->n + 1) * sizeof(*t->run));
	t->of = malloc((t->n + 1) * sizeof(*t->of));
	if (tab == NULL || t->run == NULL || t->of == NULL) {
		free(tab);
		return -ENOMEM;
	}
	mask_ = cap - 1;
	for (i = 0; i < t->n; i++) {
		const struct bent *e = &t->e[i];
		uint64_t h = key_hash(e->key, e->klen);

		for (s = (size_t)h & mask_; (r = tab[s].run) != 0;
		     s = (s + 1) & mask_)
			if (tab[s].hash == (uint32_t)h &&
			    same_key(&t->e[t->run[r - 1].first], e))
				break;
		if (r == 0) {
			r = (uint32_t)++t->runs;
			tab[s].hash = (uint32_t)h;
			tab[s].run = r;
			t->run[r - 1].hash = h;
			t->run[r - 1].first = (uint32_t)i;
			t->run[r - 1].count = 0;
			t->keybytes += e->klen;
		}
		t->run[r - 1].count++;
		t->of[i] = r - 1;
	}
	free(tab);
	t->nslots = 16;
	while (t->nslots < t->runs * 2)
		t->nslots *= 2;
	return 0;
}

static void
btab_free(struct btab *t)
{
	free(t->e);
	free(t->run);
	free(t->of);
}

/* Fill entries, slots and keys of one table; *so is the strs offset.
 * Each run's key is stored once, and its slot points at the run. */
static void
btab_put(const struct btab *t, struct rimg_ent *ents,
	 struct rimg_slot *slots, uint8_t *strs, uint64_t *so)
{
	size_t i, r, s, mask_ = t->nslots - 1;
	uint32_t at = 0;

	for (r = 0; r < t->runs; r++) {
		struct brun *u = &t->run[r];
		const struct bent *e = &t->e[u->first];

		u->key = (uint32_t)*so;
		memcpy(strs + *so, e->key, e->klen);
		*so += e->klen;
		for (s = (size_t)u->hash & mask_; slots[s].count != 0;
		     s = (s + 1) & mask_)
			;
		slots[s].hash = (uint32_t)u->hash;
		slots[s].start = at;
		slots[s].count = u->count;
		u->start = at;
		at += u->count;
	}
	for (i = 0; i < t->n; i++) {
		const struct bent *e = &t->e[i];
		struct brun *u = &t->run[t->of[i]];
		struct rimg_ent *o = &ents[u->start++];

		o->key = u->key;
		o->klen = (uint16_t)e->klen;
		o->rule = e->rule;
		o->port_lo = e->port_lo;
		o->port_hi = e->port_hi;
		o->kind = e->kind;
	}
}

/* Sort each destination into the table that matches it. */
static void
fill(const struct config *cfg, struct btab *names, struct btab *cidrs,
     struct bent *any, size_t *nany, uint8_t *ckeys)
{
	size_t i, j;

	for (i = 0; i < cfg->nrules; i++) {
		for (j = 0; j < cfg->rules[i].ndests; j++) {
			const struct cfg_dest *d = &cfg->rules[i].dests[j];
			struct bent e;

			memset(&e, 0, sizeof(e));
			e.rule = (uint32_t)i;
			e.port_lo = d->port_lo;
			e.port_hi = d->port_hi;
			e.kind = (uint8_t)d->kind;
			if (d->kind == DEST_ANY) {
				any[(*nany)++] = e;
			} else if (d->kind == DEST_CIDR) {
				uint8_t *k = ckeys + cidrs->n * RIMG_CIDR_KEY;

				rimg_cidr_key(k, d->family, d->prefix, d->addr);
				e.key = k;
				e.klen = RIMG_CIDR_KEY;
				cidrs->e[cidrs->n++] = e;
			} else {
				e.key = (const uint8_t *)d->name;
				e.klen = (uint32_t)strlen(d->name);
				names->e[names->n++] = e;
			}
		}
	}
}

/* Prefix lengths present, longest first (the likelier hits). */
static void
lengths(const struct btab *cidrs, struct rimg_hdr *h)
{
	bool v4[33] = { false }, v6[129] = { false };
	size_t i;
	int n;

	for (i = 0; i < cidrs->n; i++) {
		if (cidrs->e[i].key[0] == 4)
			v4[cidrs->e[i].key[1]] = true;
		else
			v6[cidrs->e[i].key[1]] = true;
	}
	for (n = 32; n >= 0; n--)
		if (v4[n])
			h->v4len[h->nv4len++] = (uint8_t)n;
	for (n = 128; n >= 0; n--)
		if (v6[n])
			h->v6len[h->nv6len++] = (uint8_t)n;
}

/* Whether a rule names "localhost" (without dots: only a name or a
 * suffix keyed so can match it). */
static uint8_t
lh_named(const struct btab *names)
{
	static const char lh[] = "localhost";
	size_t i;

	for (i = 0; i < names->n; i++)
		if ((names->e[i].kind == DEST_NAME ||
		     names->e[i].kind == DEST_SUFFIX) &&
		    names->e[i].klen == sizeof(lh) - 1 &&
		    memcmp(names->e[i].key, lh, sizeof(lh) - 1) == 0)
			return 1;
	return 0;
}

static uint64_t
sec(struct rimg_sec *s, uint64_t *off, uint64_t n, size_t size)
{
	s->off = *off;
	s->n = n;
	*off = ALIGN8(*off + n * size);
	return s->off;
}

/* The rule records and their texts. */
static void
put_rules(const struct config *cfg, struct rimg_rule *rr, uint8_t *strs,
	  uint64_t *so)
{
	size_t i, len;
	int k;

	for (i = 0; i < cfg->nrules; i++) {
		const struct cfg_rule *r = &cfg->rules[i];

		len = r->text != NULL ? strlen(r->text) : 0;
		if (len >= RIMG_TEXT_MAX)
			len = RIMG_TEXT_MAX - 1;
		memset(&rr[i], 0, sizeof(rr[i]));
		rr[i].text = (uint32_t)*so;
		rr[i].text_len = (uint32_t)len;
		if (len > 0)
			memcpy(strs + *so, r->text, len);
		strs[*so + len] = '\0';
		*so += len + 1;
		rr[i].line = r->line;
		rr[i].action = (uint8_t)r->action;
		rr[i].nchain = (uint8_t)r->nchain;
		rr[i].pp_version = (uint8_t)r->pp_version;
		rr[i].pp_src_family = r->pp_src_family;
		for (k = 0; k < r->nchain && k < CFG_CHAIN_MAX; k++) {
			rr[i].chain[k] = (uint32_t)r->chain[k];
			rr[i].group[k] = (uint8_t)r->group[k];
		}
		memcpy(rr[i].pp_src, r->pp_src, sizeof(rr[i].pp_src));
		rr[i].pp_src_port = r->pp_src_port;
	}
}

static uint64_t
text_bytes(const struct config *cfg)
{
	uint64_t n = 0;
	size_t i, len;

	for (i = 0; i < cfg->nrules; i++) {
		len = cfg->rules[i].text != NULL ? strlen(cfg->rules[i].text) : 0;
		n += (len >= RIMG_TEXT_MAX ? RIMG_TEXT_MAX - 1 : len) + 1;
	}
	return n;
}

/* Lay the grouped tables out; NULL when out of memory or too big. */
static void *
layout(const struct config *cfg, bool records, struct btab *names,
       struct btab *cidrs, const struct bent *any, size_t nany,
       const struct rfast *fast, size_t *len)
{
	struct rimg_hdr h;
	uint64_t off = ALIGN8(sizeof(h)), so = 0, nstrs;
	uint8_t *img;
	struct rimg_ent *ae;
	size_t i;

	memset(&h, 0, sizeof(h));
	nstrs = names->keybytes + cidrs->keybytes +
		(records ? text_bytes(cfg) : 0);
	if (nstrs > UINT32_MAX || cfg->nrules >= RIMG_BAD)
		return NULL;
	memcpy(h.magic, RIMG_MAGIC, sizeof(h.magic));
	h.version = RIMG_VERSION;
	h.hdr_size = sizeof(h);
	h.nrules = (uint32_t)cfg->nrules;
	h.nproxies = (uint32_t)cfg->nproxies;
	h.proxy_sum = rimg_proxy_sum(cfg);
	sec(&h.name_ents, &off, names->n, sizeof(struct rimg_ent));
	sec(&h.name_slots, &off, names->nslots, sizeof(struct rimg_slot));
	sec(&h.cidr_ents, &off, cidrs->n, sizeof(struct rimg_ent));
	sec(&h.cidr_slots, &off, cidrs->nslots, sizeof(struct rimg_slot));
	sec(&h.any, &off, nany, sizeof(struct rimg_ent));
	sec(&h.rules, &off, records ? cfg->nrules : 0, sizeof(struct rimg_rule));
	sec(&h.strs, &off, nstrs, 1);
	sec(&h.fast4, &off, fast->ok ? fast->n4 : 0, sizeof(*fast->s4));
	sec(&h.fast6, &off, fast->ok ? fast->n6 : 0, sizeof(*fast->s6));
	sec(&h.fseg, &off, fast->ok ? fast->nseg : 0, sizeof(*fast->seg));
	lengths(cidrs, &h);
	h.lh_named = lh_named(names);
	h.total = off;
	if (off > SIZE_MAX / 2 || (img = calloc(1, (size_t)off)) == NULL)
		return NULL;
	btab_put(names, (struct rimg_ent *)(img + h.name_ents.off),
		 (struct rimg_slot *)(img + h.name_slots.off),
		 img + h.strs.off, &so);
	btab_put(cidrs, (struct rimg_ent *)(img + h.cidr_ents.off),
		 (struct rimg_slot *)(img + h.cidr_slots.off),
		 img + h.strs.off, &so);
	ae = (struct rimg_ent *)(img + h.any.off);
	for (i = 0; i < nany; i++) {
		ae[i].rule = any[i].rule;
		ae[i].port_lo = any[i].port_lo;
		ae[i].port_hi = any[i].port_hi;
		ae[i].kind = DEST_ANY;
	}
	if (records)
		put_rules(cfg, (struct rimg_rule *)(img + h.rules.off),
			  img + h.strs.off, &so);
	if (fast->ok) {
		memcpy(img + h.fast4.off, fast->s4, fast->n4 * sizeof(*fast->s4));
		memcpy(img + h.fast6.off, fast->s6, fast->n6 * sizeof(*fast->s6));
		/* no span with a direct port (fuzz_config: a "block *"
		 * and loopback taken by other rules): seg is NULL, which
		 * memcpy must not see */
		if (fast->nseg > 0)
			memcpy(img + h.fseg.off, fast->seg,
			       fast->nseg * sizeof(*fast->seg));
	}
	memcpy(img, &h, sizeof(h));
	*len = (size_t)off;
	return img;
}

void *
rimg_build(const struct config *cfg, bool records, size_t *len)
{
	struct btab names = { 0 }, cidrs = { 0 };
	struct rfast fast;
	struct bent *any;
	uint8_t *ckeys;
	size_t i, j, nname = 0, ncidr = 0, nany = 0;
	void *img = NULL;

	for (i = 0; i < cfg->nrules; i++) {
		for (j = 0; j < cfg->rules[i].ndests; j++) {
			enum cfg_dest_kind k = cfg->rules[i].dests[j].kind;

			if (k == DEST_ANY)
				nany++;
			else if (k == DEST_CIDR)
				ncidr++;
			else
				nname++;
		}
	}
	if (nname >= UINT32_MAX || ncidr >= UINT32_MAX)
		return NULL;
	/* +1: calloc(0) may return NULL, which must not read as failure. */
	names.e = calloc(nname + 1, sizeof(*names.e));
	cidrs.e = calloc(ncidr + 1, sizeof(*cidrs.e));
	ckeys = calloc(ncidr + 1, RIMG_CIDR_KEY);
	any = calloc(nany + 1, sizeof(*any));
	if (names.e != NULL && cidrs.e != NULL && ckeys != NULL &&
	    any != NULL && rfast_build(cfg, &fast) == 0) {
		nany = 0;
		fill(cfg, &names, &cidrs, any, &nany, ckeys);
		if (btab_group(&names) == 0 && btab_group(&cidrs) == 0)
			img = layout(cfg, records, &names, &cidrs, any, nany,
				     &fast, len);
		rfast_free(&fast);
	}
	btab_free(&names);
	btab_free(&cidrs);
	free(ckeys);
	free(any);
	return img;
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
	uint64_t h = key_hash(key, klen), probe, i;
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
