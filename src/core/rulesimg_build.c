/*
 * rulesimg_build.c - the rule set's image (rulesimg.h) built from a
 * config: every destination of every rule becomes one entry keyed by
 * what it matches (see rules.c for how a query uses the keys), grouped
 * by key in the order of their rules, with one hash slot per key; the
 * "*" entries, the rules' records and the direct-only tables
 * (rulesfast.h) after them.
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
	uint64_t hash;			/* rimg_hash of the key */
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
		uint64_t h = rimg_hash(e->key, e->klen);

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
