/*
 * rules.c - the compiled rule set (see rules.h).
 *
 * Every destination of every rule becomes one matcher entry keyed by what
 * it matches:
 *
 *   names    the name itself for "example.com", ".example.com" and
 *            "*.example.com"; a query looks up each label suffix of the
 *            name (a.b.example.com, b.example.com, example.com, com) and
 *            keeps the entries whose kind fits (the full name: NAME or
 *            SUFFIX; a proper suffix: SUFFIX or GLOB);
 *   cidrs    family, prefix length and masked address; a query masks its
 *            address once per prefix length present in the rule set;
 *   any      "*" entries, a plain list.
 *
 * Entries with the same key sit next to each other sorted by rule index,
 * so the first one whose port range fits is that key's earliest rule, and
 * the decision is the lowest rule index over all keys looked up.
 *
 * Pure: no I/O.  inet_pton only parses.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

#define RULES_NONE UINT32_MAX
#define RULES_KEY_MAX 256	/* a name is at most 253 octets */
#define RULES_CIDR_KEY 18	/* family, prefix, 16 address bytes */

struct rules_ent {
	const uint8_t *key;
	uint32_t klen;
	uint32_t rule;		/* index into cfg->rules */
	uint16_t port_lo;
	uint16_t port_hi;
	uint8_t kind;		/* enum cfg_dest_kind */
};

struct rules_slot {
	uint64_t hash;
	uint32_t start;		/* first entry of the key's run */
	uint32_t count;		/* 0: empty slot */
};

struct rules_tab {
	struct rules_ent *ents;
	size_t nents;
	struct rules_slot *slots;
	size_t mask;
};

struct rules {
	const struct config *cfg;
	struct rules_tab names;
	struct rules_tab cidrs;
	uint8_t *cidr_keys;		/* storage for the cidr entries' keys */
	struct rules_ent *any;		/* "*" entries by rule index */
	size_t nany;
	uint8_t v4len[33];		/* prefix lengths present, longest first */
	size_t nv4len;
	uint8_t v6len[129];
	size_t nv6len;
};

/* FNV-1a, 64 bits: short keys, good enough spread for open addressing. */
static uint64_t
rules_hash(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h ^ (h >> 29);
}

static int
rules_ent_cmp(const void *a, const void *b)
{
	const struct rules_ent *x = a, *y = b;
	int c;

	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	c = memcmp(x->key, y->key, x->klen);
	if (c != 0)
		return c;
	if (x->rule != y->rule)
		return x->rule < y->rule ? -1 : 1;
	return 0;
}

/* Sort tab->ents and index each run of equal keys.  0 or -1 (no memory). */
static int
rules_tab_build(struct rules_tab *t)
{
	size_t nslots = 16, i, run;

	if (t->nents > 0)
		qsort(t->ents, t->nents, sizeof(*t->ents), rules_ent_cmp);
	while (nslots < t->nents * 2)
		nslots *= 2;
	t->slots = calloc(nslots, sizeof(*t->slots));
	if (t->slots == NULL)
		return -1;
	t->mask = nslots - 1;
	for (i = 0; i < t->nents; i += run) {
		const struct rules_ent *e = &t->ents[i];
		uint64_t h = rules_hash(e->key, e->klen);
		size_t s = (size_t)h & t->mask;

		for (run = 1; i + run < t->nents; run++)
			if (t->ents[i + run].klen != e->klen ||
			    memcmp(t->ents[i + run].key, e->key, e->klen) != 0)
				break;
		while (t->slots[s].count != 0)
			s = (s + 1) & t->mask;
		t->slots[s].hash = h;
		t->slots[s].start = (uint32_t)i;
		t->slots[s].count = (uint32_t)run;
	}
	return 0;
}

/*
 * The earliest rule among the entries keyed `key` whose kind is in
 * `kinds` (a bit mask of 1 << kind) and whose port range holds `port`.
 */
static uint32_t
rules_tab_find(const struct rules_tab *t, const uint8_t *key, size_t klen,
	       unsigned kinds, uint16_t port)
{
	uint64_t h = rules_hash(key, klen);
	size_t s = (size_t)h & t->mask, i;

	for (; t->slots[s].count != 0; s = (s + 1) & t->mask) {
		const struct rules_slot *sl = &t->slots[s];
		const struct rules_ent *e = &t->ents[sl->start];

		if (sl->hash != h || e->klen != klen ||
		    memcmp(e->key, key, klen) != 0)
			continue;
		for (i = 0; i < sl->count; i++, e++)
			if ((kinds & (1u << e->kind)) != 0 &&
			    port >= e->port_lo && port <= e->port_hi)
				return e->rule;
		return RULES_NONE;
	}
	return RULES_NONE;
}

static void
rules_mask(uint8_t *out, const uint8_t *addr, size_t len, int prefix)
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

static void
rules_cidr_key(uint8_t *k, int family, int prefix, const uint8_t *addr)
{
	memset(k, 0, RULES_CIDR_KEY);
	k[0] = family == AF_INET ? 4 : 6;
	k[1] = (uint8_t)prefix;
	rules_mask(k + 2, addr, family == AF_INET ? 4 : 16, prefix);
}

/* Prefix lengths present, longest first (the order does not change the
 * answer, but longer prefixes are the likelier hits). */
static void
rules_lengths(struct rules *r)
{
	bool v4[33] = { false }, v6[129] = { false };
	size_t i;
	int n;

	for (i = 0; i < r->cidrs.nents; i++) {
		const uint8_t *k = r->cidrs.ents[i].key;

		if (k[0] == 4)
			v4[k[1]] = true;
		else
			v6[k[1]] = true;
	}
	for (n = 32; n >= 0; n--)
		if (v4[n])
			r->v4len[r->nv4len++] = (uint8_t)n;
	for (n = 128; n >= 0; n--)
		if (v6[n])
			r->v6len[r->nv6len++] = (uint8_t)n;
}

/* Sort each destination into the table that matches it. */
static int
rules_fill(struct rules *r, size_t ncidr)
{
	const struct config *cfg = r->cfg;
	size_t i, j, nc = 0;

	for (i = 0; i < cfg->nrules; i++) {
		for (j = 0; j < cfg->rules[i].ndests; j++) {
			const struct cfg_dest *d = &cfg->rules[i].dests[j];
			struct rules_ent e;

			memset(&e, 0, sizeof(e));
			e.rule = (uint32_t)i;
			e.port_lo = d->port_lo;
			e.port_hi = d->port_hi;
			e.kind = (uint8_t)d->kind;
			if (d->kind == DEST_ANY) {
				r->any[r->nany++] = e;
			} else if (d->kind == DEST_CIDR) {
				uint8_t *k = r->cidr_keys + nc * RULES_CIDR_KEY;

				if (nc >= ncidr)
					return -1;
				rules_cidr_key(k, d->family, d->prefix,
					       d->addr);
				e.key = k;
				e.klen = RULES_CIDR_KEY;
				r->cidrs.ents[r->cidrs.nents++] = e;
				nc++;
			} else {
				e.key = (const uint8_t *)d->name;
				e.klen = (uint32_t)strlen(d->name);
				r->names.ents[r->names.nents++] = e;
			}
		}
	}
	return 0;
}

struct rules *
rules_compile(const struct config *cfg)
{
	struct rules *r;
	size_t i, j, nname = 0, ncidr = 0, nany = 0;

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
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->cfg = cfg;
	/* +1: calloc(0) may return NULL, which must not read as failure. */
	r->names.ents = calloc(nname + 1, sizeof(*r->names.ents));
	r->cidrs.ents = calloc(ncidr + 1, sizeof(*r->cidrs.ents));
	r->cidr_keys = calloc(ncidr + 1, RULES_CIDR_KEY);
	r->any = calloc(nany + 1, sizeof(*r->any));
	if (r->names.ents == NULL || r->cidrs.ents == NULL ||
	    r->cidr_keys == NULL || r->any == NULL ||
	    rules_fill(r, ncidr) != 0 ||
	    rules_tab_build(&r->names) != 0 ||
	    rules_tab_build(&r->cidrs) != 0) {
		rules_free(r);
		return NULL;
	}
	rules_lengths(r);
	return r;
}

void
rules_free(struct rules *r)
{
	if (r == NULL)
		return;
	free(r->names.ents);
	free(r->names.slots);
	free(r->cidrs.ents);
	free(r->cidrs.slots);
	free(r->cidr_keys);
	free(r->any);
	free(r);
}

/* The earliest "*" rule for this port. */
static uint32_t
rules_any(const struct rules *r, uint16_t port)
{
	size_t i;

	for (i = 0; i < r->nany; i++)
		if (port >= r->any[i].port_lo && port <= r->any[i].port_hi)
			return r->any[i].rule;
	return RULES_NONE;
}

/*
 * Turn the best specific match and the "*" match into a decision: a
 * specific rule wins over the loopback default, "*" does not.
 */
static void
rules_finish(const struct rules *r, uint32_t best, bool loopback,
	     uint16_t port, struct decision *d)
{
	memset(d, 0, sizeof(*d));
	if (best == RULES_NONE && loopback) {
		d->action = CFG_DIRECT;
		d->loopback = true;
		return;
	}
	if (!loopback) {
		uint32_t any = rules_any(r, port);

		if (any < best)
			best = any;
	}
	if (best == RULES_NONE) {
		d->action = r->cfg->strict ? CFG_BLOCK : CFG_DIRECT;
		return;
	}
	d->rule = &r->cfg->rules[best];
	d->action = d->rule->action;
}

#define KIND(k) (1u << (k))

void
rules_decide_addr(const struct rules *r, int family, const uint8_t *addr,
		  uint16_t port, struct decision *d)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					    0xff, 0xff };
	static const uint8_t v6lo[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					  0, 0, 0, 1 };
	uint8_t key[RULES_CIDR_KEY];
	const uint8_t *lens;
	uint32_t best = RULES_NONE, m;
	size_t i, nlens;
	bool loopback;

	if (family == AF_INET6 && memcmp(addr, mapped, sizeof(mapped)) == 0) {
		family = AF_INET;
		addr += 12;
	}
	if (family == AF_INET) {
		loopback = addr[0] == 127;
		lens = r->v4len;
		nlens = r->nv4len;
	} else if (family == AF_INET6) {
		loopback = memcmp(addr, v6lo, sizeof(v6lo)) == 0;
		lens = r->v6len;
		nlens = r->nv6len;
	} else {
		/* Not an IP family: only the default can decide. */
		rules_finish(r, RULES_NONE, false, port, d);
		return;
	}
	for (i = 0; i < nlens; i++) {
		rules_cidr_key(key, family, lens[i], addr);
		m = rules_tab_find(&r->cidrs, key, sizeof(key),
				   KIND(DEST_CIDR), port);
		if (m < best)
			best = m;
	}
	rules_finish(r, best, loopback, port, d);
}

/* An address literal (IPv6 perhaps in brackets) is decided as an address. */
static bool
rules_literal(const struct rules *r, const char *name, size_t len,
	      uint16_t port, struct decision *d)
{
	char buf[64];
	uint8_t a[16];

	if (len >= sizeof(buf))
		return false;
	if (len >= 2 && name[0] == '[' && name[len - 1] == ']') {
		name++;
		len -= 2;
	}
	memcpy(buf, name, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, a) == 1) {
		rules_decide_addr(r, AF_INET, a, port, d);
		return true;
	}
	if (inet_pton(AF_INET6, buf, a) == 1) {
		rules_decide_addr(r, AF_INET6, a, port, d);
		return true;
	}
	return false;
}

void
rules_decide_name(const struct rules *r, const char *name, uint16_t port,
		  struct decision *d)
{
	static const char lh[] = "localhost";
	char q[RULES_KEY_MAX];
	size_t len = strlen(name), i;
	uint32_t best = RULES_NONE, m;
	bool loopback;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (rules_literal(r, name, len, port, d))
		return;
	if (len >= sizeof(q)) {
		/* Longer than any DNS name: no name rule can match. */
		rules_finish(r, RULES_NONE, false, port, d);
		return;
	}
	for (i = 0; i < len; i++)
		q[i] = (name[i] >= 'A' && name[i] <= 'Z') ?
			(char)(name[i] - 'A' + 'a') : name[i];
	q[len] = '\0';
	loopback = strcmp(q, lh) == 0 ||
		   (len > sizeof(lh) && q[len - sizeof(lh)] == '.' &&
		    strcmp(q + len - (sizeof(lh) - 1), lh) == 0);
	if (r->names.nents > 0) {
		best = rules_tab_find(&r->names, (const uint8_t *)q, len,
				      KIND(DEST_NAME) | KIND(DEST_SUFFIX),
				      port);
		for (i = 0; i < len; i++) {
			if (q[i] != '.' || i + 1 >= len)
				continue;
			m = rules_tab_find(&r->names,
					   (const uint8_t *)q + i + 1,
					   len - i - 1,
					   KIND(DEST_SUFFIX) | KIND(DEST_GLOB),
					   port);
			if (m < best)
				best = m;
		}
	}
	rules_finish(r, best, loopback, port, d);
}
